/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who sees a phone's identifiers.  ME ID, SoC ID, eMMC CID and image hashes
 * are what a forged binding would need and what an IMEI clone is made of, so
 * (as fwupd does with serial numbers) only root sees them in full in
 * properties; everyone else sees a fingerprint that tells two phones apart
 * and matches a phone to its backups, but cannot be turned back into the
 * value.  Others ask with GetIdentifiers(), which polkit decides.
 *
 * Property getters cannot wait for polkit, so they decide by the caller's
 * uid alone, and only for a method reply to that caller: a signal goes to
 * everyone and always carries the fingerprint.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* "fp:" and 8 hex digits: the first 4 bytes of SHA-256 over "mtknvd-fp:" and the value */
#define IDENTIFIER_FINGERPRINT_PREFIX "fp:"
#define IDENTIFIER_FINGERPRINT_LEN (3 + 8 + 1)
/* GetIdentifiers() asks polkit for this action: whoever may export a backup
 * gets its manifest, and with it every one of these values, anyway. */
#define IDENTIFIER_POLKIT_ACTION "org.mtknvd.MtkNv1.export-backup"

/* The last caller asked about: a unique bus name keeps its uid for life, and
 * one GetManagedObjects asks for dozens of properties. */
typedef struct IdentifierRevealCache {
        char sender[256];
        bool full;
} IdentifierRevealCache;

/* The fingerprint of value; "" stays "" (not reported is not a secret). */
void identifier_fingerprint(const char *value, char ret[IDENTIFIER_FINGERPRINT_LEN]);
/* value itself when full, else its fingerprint in buf. */
const char *identifier_reveal(bool full, const char *value, char buf[IDENTIFIER_FINGERPRINT_LEN]);
/* Whether the property reply being built goes to root (or the daemon's own
 * user: the callers bus_verify_polkit_async() lets through without asking). */
bool bus_reply_reveals_identifiers(sd_bus *bus, sd_bus_message *reply, IdentifierRevealCache *cache);

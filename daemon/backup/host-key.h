/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host key: STATE/host.key, 32 random bytes that only this daemon (root)
 * can read.  It signs the binding of every manifest this host writes, so a
 * backup counts as bound to a phone only if this host (or a host an
 * administrator gave the same key) took that binding itself.
 */
#pragma once

#include <stdint.h>

#define HOST_KEY_SIZE 32
#define HOST_KEY_FILE "host.key"
/* 16 hex digits and a NUL */
#define HOST_KEY_ID_LEN 17

/* Reads STATE/host.key, or creates it on first use: getrandom(), mode 0600,
 * written to a temporary file, fsynced and renamed into place without
 * replacing one that appeared meanwhile.  A file that is not exactly a key is
 * an error that names the file (it is never silently replaced: every bound
 * backup would become unbound). */
int host_key_load(const char *state_dir, uint8_t ret[HOST_KEY_SIZE]);

/* A public name for a key (the first 8 bytes of SHA-256 over
 * "mtknvd-host-key-id:" and the key, in hex): manifests say which key signed
 * them without revealing it. */
int host_key_id(const uint8_t key[HOST_KEY_SIZE], char ret[HOST_KEY_ID_LEN]);

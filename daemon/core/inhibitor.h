/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inhibitors: "hands off the phones", so that mtkclient or SP Flash Tool can
 * have a phone that mtknvd would otherwise open first.  The model is
 * logind's inhibitor locks: an inhibitor lives exactly as long as its holder
 * keeps its end of a pipe open.  The daemon keeps the read end and watches it
 * for EPOLLHUP, which the kernel raises once every copy of the write end is
 * closed, so a holder that exits or is killed ends its inhibitor without
 * telling anyone.
 *
 * An inhibitor only stops phones from being opened; a session or job that
 * is already running is not affected.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/* Bytes of who and why: enough for a program name and a sentence, small
 * enough that a property listing 128 of them stays small. */
#define INHIBITOR_TEXT_MAX 256
/* One local user must not be able to exhaust the daemon's descriptors. */
#define INHIBITORS_PER_UID_MAX 16u
#define INHIBITORS_MAX 128u

typedef struct InhibitorRegistry InhibitorRegistry;

typedef struct InhibitorInfo {
        char *who;   /* the program that takes the phones, e.g. "mtkclient" */
        char *why;   /* for people: what it is doing */
        char *port;  /* a USB path such as "1-1", or "" for every port */
        uid_t uid;
} InhibitorInfo;

/* Called after an inhibitor was added or has ended. */
typedef void (*InhibitorChangedFn)(InhibitorRegistry *reg, void *userdata);

int inhibitor_registry_new(sd_event *event, InhibitorRegistry **ret);
InhibitorRegistry *inhibitor_registry_free(InhibitorRegistry *reg);
void inhibitor_registry_set_changed_callback(InhibitorRegistry *reg, InhibitorChangedFn fn, void *userdata);

/* A new inhibitor; *ret_fd is the write end of its pipe, for the holder
 * (the caller closes its copy once it was handed over).  -EINVAL for text
 * or a port that the checks below refuse, -EUSERS when uid already holds
 * INHIBITORS_PER_UID_MAX, -ETOOMANYREFS at INHIBITORS_MAX in all. */
int inhibitor_registry_add(InhibitorRegistry *reg, const char *who, const char *why, const char *port, uid_t uid,
                           int *ret_fd);

size_t inhibitor_registry_count(const InhibitorRegistry *reg);
size_t inhibitor_registry_count_uid(const InhibitorRegistry *reg, uid_t uid);
const InhibitorInfo *inhibitor_registry_get(const InhibitorRegistry *reg, size_t i);

/* Whether an inhibitor keeps the daemon away from the phone at usb_path: one
 * for every port, for that port, or for the port of a hub the phone is
 * behind ("1-1" covers "1-1.3").  *ret_by (optional) names the first one.
 * A NULL registry covers nothing. */
bool inhibitor_registry_covers(const InhibitorRegistry *reg, const char *usb_path, const InhibitorInfo **ret_by);

/* who and why: 1 to INHIBITOR_TEXT_MAX bytes of valid UTF-8 without control
 * characters (they end up in logs and on terminals). */
bool inhibitor_text_valid(const char *s);
/* A USB path as the kernel names a device: "BUS-PORT[.PORT]...". */
bool inhibitor_port_valid(const char *s);

static inline void inhibitor_registry_freep(InhibitorRegistry **reg) {
        if (*reg)
                inhibitor_registry_free(*reg);
}

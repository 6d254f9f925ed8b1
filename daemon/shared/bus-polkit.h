/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Asking polkit whether a D-Bus caller may do something, without blocking
 * the event loop (the pattern of systemd's bus-polkit.c, written afresh).
 *
 * A method handler calls bus_verify_polkit_async() after parsing its
 * arguments.  The first time it starts CheckAuthorization and returns 0: the
 * handler returns 1 without replying.  When polkit answers, the very same
 * request message is queued for dispatch again; the handler runs from the
 * top, and this time bus_verify_polkit_async() returns the answer.
 *
 * A pending query holds the call message, and with it every descriptor the
 * caller sent.  The registry therefore lets none stay for long: a query ends
 * when its caller disconnects, when polkit does not answer in time, and when
 * the re-dispatched call is not claimed (its object went away, or its handler
 * failed before asking again); and the number of queries and the descriptors
 * they hold are capped per caller, per user and overall.
 */
#pragma once

#include <systemd/sd-bus.h>

#define POLKIT_ACTION_PREFIX "org.mtknvd.MtkNv1."

/* How long polkit may take to answer.  Without user interaction polkit
 * decides from its rules in milliseconds: 25 s (sd-bus's default method
 * timeout) passes only when it is hung.  With interaction a person reads a
 * dialog and types a password, which may take minutes: 5 min, the longest
 * mtknvctl waits for a call anyway.  What a waiting query may pin is bounded
 * by the caps, not by these times, so they can be generous. */
#define POLKIT_TIMEOUT_USEC             (25ull * 1000000ull)
#define POLKIT_TIMEOUT_INTERACTIVE_USEC (300ull * 1000000ull)

/* Queries waiting at once: per connection, per user, for everyone; and the
 * descriptors their messages hold between them, against which the unit's
 * LimitNOFILE= is sized.  Per user is half of overall, so that one user
 * cannot take every place.
 *
 * Apart from these, the CheckAuthorization calls not answered yet, including
 * those of queries that ended without polkit's answer (caller gone, deadline
 * passed): dbus-daemon counts each against our max_replies_per_connection
 * (128 on the system bus) until polkit answers, and past that refuses every
 * further call of ours to anyone.  Staying below it keeps room for the
 * daemon's other calls and turns a hung polkit into a clear error. */
#define POLKIT_PENDING_PER_SENDER 16u
#define POLKIT_PENDING_PER_UID    32u
#define POLKIT_PENDING_MAX        64u
#define POLKIT_PENDING_FDS_MAX    256u
#define POLKIT_CALLS_MAX          96u

typedef struct PolkitRegistry PolkitRegistry;

int polkit_registry_new(PolkitRegistry **ret);
PolkitRegistry *polkit_registry_free(PolkitRegistry *reg);
/* 0 restores the defaults above; any other value applies to every query. */
void polkit_registry_set_timeout(PolkitRegistry *reg, uint64_t usec);

/* 1: allowed (the caller is root, or polkit said yes);
 * 0: a check is under way, the call will be dispatched again;
 * <0: refused or failed, with error set to say why and what to do. */
int bus_verify_polkit_async(sd_bus_message *call, const char *action, const char *what, PolkitRegistry *reg,
                            sd_bus_error *error);

static inline void polkit_registry_freep(PolkitRegistry **reg) {
        if (*reg)
                polkit_registry_free(*reg);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Method calls answered later.  A handler whose work takes more than a
 * moment (reading a caller's file, hashing a backup) keeps the request
 * message and replies when the work is done, as systemd's importd and
 * machined do; meanwhile the loop serves everyone else.  Such a call:
 *
 *   - counts against its connection and its user: a few at a time each, so
 *     that a flood (no-reply-expected calls sidestep the bus's limit on
 *     pending replies) is answered with LimitsExceeded, not queued work;
 *     calls still waiting for polkit are capped by bus-polkit.h, so a call
 *     is made here after its polkit check;
 *   - ends by itself at its deadline or when the caller leaves the bus: the
 *     owner's abort callback is told why and frees it.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define BUS_CALLS_PER_SENDER_MAX 4u
#define BUS_CALLS_PER_UID_MAX    16u

typedef struct BusCallSet BusCallSet;
typedef struct BusCall BusCall;

/* reason: -ETIMEDOUT (deadline), -ECONNRESET (the caller left the bus),
 * -ECANCELED (the daemon stops).  The owner replies if it can and frees
 * the call (and whatever of its own belongs to it). */
typedef void (*BusCallAbort)(BusCall *c, int reason, void *userdata);

int bus_call_set_new(sd_event *e, uint64_t timeout_usec, BusCallSet **ret);
/* Aborts every started call with -ECANCELED, frees the others. */
BusCallSet *bus_call_set_free(BusCallSet *s);
uint64_t bus_call_set_timeout(const BusCallSet *s);

/* A call answered later, for msg: refused with LimitsExceeded when its
 * caller has too many in progress. */
int bus_call_new(BusCallSet *s, sd_bus_message *msg, BusCall **ret, sd_bus_error *error);
/* The work begins: from now on abort may be called.  timeout_usec: 0 for
 * the set's (FileTimeoutSec=), UINT64_MAX for none. */
int bus_call_start(BusCall *c, uint64_t timeout_usec, BusCallAbort abort, void *userdata);
/* The caller's part is done (its files are read): no deadline from now on. */
void bus_call_stop_timer(BusCall *c);
sd_bus_message *bus_call_message(BusCall *c);
/* Replies with the error and frees the call. */
void bus_call_reply_error(BusCall *c, const sd_bus_error *e);
BusCall *bus_call_free(BusCall *c);

static inline void bus_call_set_freep(BusCallSet **s) {
        if (*s)
                bus_call_set_free(*s);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Asking polkit whether a D-Bus caller may do something, without blocking
 * the event loop (the pattern of systemd's bus-polkit.c, written afresh).
 *
 * A method handler calls bus_verify_polkit_async() after parsing its
 * arguments.  The first time it starts CheckAuthorization and returns 0: the
 * handler returns 1 without replying.  When polkit answers, the very same
 * request message is queued for dispatch again; the handler runs from the
 * top, and this time bus_verify_polkit_async() returns the cached answer.
 */
#pragma once

#include <systemd/sd-bus.h>

#define POLKIT_ACTION_PREFIX "org.mtknvd.MtkNv1."

typedef struct PolkitRegistry PolkitRegistry;

int polkit_registry_new(PolkitRegistry **ret);
PolkitRegistry *polkit_registry_free(PolkitRegistry *reg);

/* 1: allowed (the caller is root, or polkit said yes);
 * 0: a check is under way, the call will be dispatched again;
 * <0: refused or failed, with error set to say why and what to do. */
int bus_verify_polkit_async(sd_bus_message *call, const char *action, const char *what, PolkitRegistry *reg,
                            sd_bus_error *error);

static inline void polkit_registry_freep(PolkitRegistry **reg) {
        if (*reg)
                polkit_registry_free(*reg);
}

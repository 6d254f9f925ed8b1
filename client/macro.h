/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ownership helpers for the client (it shares no code with the daemon). */
#pragma once

#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MAX_SIZE(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void bus_unrefp(sd_bus **b) {
        if (*b)
                sd_bus_flush_close_unref(*b);
}
static inline void message_unrefp(sd_bus_message **m) {
        if (*m)
                sd_bus_message_unref(*m);
}
static inline void event_unrefp(sd_event **e) {
        if (*e)
                sd_event_unref(*e);
}
static inline void bus_error_freep(sd_bus_error *e) {
        sd_bus_error_free(e);
}
#define _cleanup_bus_error_ _cleanup_(bus_error_freep)

#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _p_ = (p);        \
                (p) = NULL;                     \
                _p_;                            \
        })

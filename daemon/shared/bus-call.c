/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "bus-call.h"
#include "log.h"
#include "macro.h"

struct BusCall {
        BusCallSet *set;
        sd_bus_message *msg;
        char *sender;
        uid_t uid;
        sd_bus_track *track;
        sd_event_source *timer;
        BusCallAbort abort;     /* set once started */
        void *userdata;
};

struct BusCallSet {
        sd_event *event;
        uint64_t timeout_usec;
        BusCall **calls;
        size_t n;
};

int bus_call_set_new(sd_event *e, uint64_t timeout_usec, BusCallSet **ret) {
        BusCallSet *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->timeout_usec = timeout_usec;
        *ret = s;
        return 0;
}

BusCallSet *bus_call_set_free(BusCallSet *s) {
        if (!s)
                return NULL;
        while (s->n > 0) {
                BusCall *c = s->calls[0];

                if (c->abort)
                        c->abort(c, -ECANCELED, c->userdata);
                /* an owner that kept it (it must not) still loses it */
                if (s->n > 0 && s->calls[0] == c)
                        bus_call_free(c);
        }
        free(s->calls);
        sd_event_unref(s->event);
        return mfree(s);
}

uint64_t bus_call_set_timeout(const BusCallSet *s) {
        return s->timeout_usec;
}

BusCall *bus_call_free(BusCall *c) {
        BusCallSet *s;

        if (!c)
                return NULL;
        s = c->set;
        for (size_t i = 0; i < s->n; i++)
                if (s->calls[i] == c) {
                        s->calls[i] = s->calls[--s->n];
                        break;
                }
        sd_event_source_disable_unref(c->timer);
        sd_bus_track_unref(c->track);
        sd_bus_message_unref(c->msg);
        free(c->sender);
        return mfree(c);
}

void bus_call_stop_timer(BusCall *c) {
        c->timer = sd_event_source_disable_unref(c->timer);
}

sd_bus_message *bus_call_message(BusCall *c) {
        return c->msg;
}

void bus_call_reply_error(BusCall *c, const sd_bus_error *e) {
        (void) sd_bus_reply_method_error(c->msg, e);
        bus_call_free(c);
}

static int bus_call_on_gone(sd_bus_track *t, void *userdata) {
        BusCall *c = userdata;

        log_debug("%s() caller %s left the bus.", sd_bus_message_get_member(c->msg), c->sender);
        /* not started yet: its handler has not returned, and frees it */
        if (c->abort)
                c->abort(c, -ECONNRESET, c->userdata);
        return 0;
}

static int bus_call_on_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        BusCall *c = userdata;

        c->abort(c, -ETIMEDOUT, c->userdata);
        return 0;
}

int bus_call_new(BusCallSet *s, sd_bus_message *msg, BusCall **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(msg) ?: "";
        unsigned same_sender = 0, same_uid = 0;
        uid_t uid = (uid_t) -1;
        BusCall *c, **a;
        int r;

        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds) >= 0)
                (void) sd_bus_creds_get_euid(creds, &uid);
        for (size_t i = 0; i < s->n; i++) {
                same_sender += streq(s->calls[i]->sender, sender);
                same_uid += s->calls[i]->uid == uid;
        }
        if (same_sender >= BUS_CALLS_PER_SENDER_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "This connection has %u calls in progress already (at most %u at a "
                                         "time): wait for their replies, then call again.",
                                         same_sender, BUS_CALLS_PER_SENDER_MAX);
        if (same_uid >= BUS_CALLS_PER_UID_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "User %u has %u calls in progress already (at most %u at a time): "
                                         "wait for their replies, then call again.",
                                         (unsigned) uid, same_uid, BUS_CALLS_PER_UID_MAX);

        a = reallocarray(s->calls, s->n + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        s->calls = a;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->set = s;
        c->msg = sd_bus_message_ref(msg);
        c->uid = uid;
        c->sender = strdup(sender);
        s->calls[s->n++] = c;
        if (!c->sender) {
                bus_call_free(c);
                return -ENOMEM;
        }
        /* a direct connection has no sender to follow; its end ends the bus */
        if (*sender) {
                r = sd_bus_track_new(sd_bus_message_get_bus(msg), &c->track, bus_call_on_gone, c);
                if (r >= 0)
                        r = sd_bus_track_add_sender(c->track, msg);
                if (r < 0) {
                        bus_call_free(c);
                        return sd_bus_error_set_errnof(error, r, "Cannot follow the caller: %s", strerror(-r));
                }
        }
        *ret = c;
        return 0;
}

int bus_call_start(BusCall *c, uint64_t timeout_usec, BusCallAbort abort, void *userdata) {
        int r;

        if (timeout_usec == 0)
                timeout_usec = c->set->timeout_usec;
        if (timeout_usec != UINT64_MAX && timeout_usec > 0) {
                r = sd_event_add_time_relative(c->set->event, &c->timer, CLOCK_MONOTONIC, timeout_usec, 0,
                                               bus_call_on_timeout, c);
                if (r < 0)
                        return r;
        }
        c->abort = abort;
        c->userdata = userdata;
        return 0;
}

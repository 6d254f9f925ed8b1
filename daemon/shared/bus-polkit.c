/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-event.h>

#include "bus-polkit.h"
#include "bus-util.h"
#include "log.h"
#include "macro.h"

#define POLKIT_NAME  "org.freedesktop.PolicyKit1"
#define POLKIT_PATH  "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorizationFlags.AllowUserInteraction */
#define POLKIT_CHECK_ALLOW_USER_INTERACTION 1u

typedef enum PolkitAnswer {
        POLKIT_PENDING,
        POLKIT_ALLOWED,
        POLKIT_DENIED,
        POLKIT_CHALLENGE,  /* would be allowed after authentication, which was not allowed */
        POLKIT_ABSENT,     /* nobody owns org.freedesktop.PolicyKit1 */
        POLKIT_TIMED_OUT,  /* polkit did not answer within the query's deadline */
        POLKIT_FAILED,
        POLKIT_VANISHED,   /* polkit answered, but the caller disconnected before its call came back */
} PolkitAnswer;

/* One CheckAuthorization call.  It may outlive its query (the caller went,
 * the deadline passed): dbus-daemon counts it against the daemon's pending
 * replies (max_replies_per_connection) until polkit answers, so it is kept,
 * without the caller's message, until then. */
typedef struct PolkitCall {
        PolkitRegistry *registry;
        struct PolkitQuery *query; /* NULL once orphaned */
        sd_bus_slot *slot;
} PolkitCall;

typedef struct PolkitQuery {
        PolkitRegistry *registry;
        sd_bus_message *request;  /* holds the caller's descriptors until the query ends */
        PolkitCall *call;         /* while polkit decides */
        sd_bus_track *track;      /* the caller's connection */
        sd_event_source *deadline;
        char *action;
        char *sender;
        char cancel_id[32];
        uid_t uid;
        unsigned n_fds;
        uint64_t timeout_usec;
        PolkitAnswer answer;
        bool redispatched;        /* the answered call went through dispatch once */
        sd_bus_error error;
} PolkitQuery;

struct PolkitRegistry {
        PolkitQuery **queries;
        size_t n;
        PolkitCall **calls;        /* every CheckAuthorization not answered yet, orphans included */
        size_t n_calls;
        unsigned n_fds;
        uint64_t timeout_usec;     /* 0: the defaults of bus-polkit.h */
        uint64_t n_started;        /* makes cancellation ids unique */
        sd_bus_slot *filter;       /* sees every call the bus dispatches */
        sd_event_source *reaper;   /* ends queries whose call came back and was not claimed */
};

static PolkitCall *polkit_call_free(PolkitCall *c) {
        PolkitRegistry *reg;

        if (!c)
                return NULL;
        reg = c->registry;
        for (size_t i = 0; i < reg->n_calls; i++)
                if (reg->calls[i] == c) {
                        reg->calls[i] = reg->calls[--reg->n_calls];
                        break;
                }
        /* forgets the reply callback (safe inside it: sd-bus holds a reference while dispatching) */
        sd_bus_slot_unref(c->slot);
        return mfree(c);
}

/* Tell polkit to drop a check nobody waits for any more (and close its
 * authentication dialog); polkit then answers the check, which frees the
 * orphaned call.  No answer to the cancellation itself is wanted. */
static void polkit_query_cancel(PolkitQuery *q) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = sd_bus_message_get_bus(q->request);
        int r;

        r = sd_bus_message_new_method_call(bus, &m, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE,
                                           "CancelCheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", q->cancel_id);
        if (r >= 0)
                r = sd_bus_message_set_expect_reply(m, false);
        if (r >= 0)
                r = sd_bus_send(bus, m, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot cancel polkit check %s: %m", q->cancel_id);
}

/* The query stops waiting for polkit; its call stays until polkit answers. */
static void polkit_query_orphan_call(PolkitQuery *q) {
        if (!q->call)
                return;
        polkit_query_cancel(q);
        q->call->query = NULL;
        q->call = NULL;
}

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        polkit_query_orphan_call(q);
        sd_event_source_disable_unref(q->deadline);
        sd_bus_track_unref(q->track);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        free(q->action);
        free(q->sender);
        return mfree(q);
}

int polkit_registry_new(PolkitRegistry **ret) {
        PolkitRegistry *reg = calloc(1, sizeof(*reg));

        if (!reg)
                return -ENOMEM;
        *ret = reg;
        return 0;
}

PolkitRegistry *polkit_registry_free(PolkitRegistry *reg) {
        if (!reg)
                return NULL;
        for (size_t i = 0; i < reg->n; i++)
                polkit_query_free(reg->queries[i]);
        free(reg->queries);
        while (reg->n_calls > 0)
                polkit_call_free(reg->calls[0]);
        free(reg->calls);
        sd_bus_slot_unref(reg->filter);
        sd_event_source_disable_unref(reg->reaper);
        return mfree(reg);
}

void polkit_registry_set_timeout(PolkitRegistry *reg, uint64_t usec) {
        reg->timeout_usec = usec;
}

static void polkit_registry_remove(PolkitRegistry *reg, PolkitQuery *q) {
        for (size_t i = 0; i < reg->n; i++)
                if (reg->queries[i] == q) {
                        reg->queries[i] = reg->queries[--reg->n];
                        reg->n_fds -= q->n_fds;
                        break;
                }
        polkit_query_free(q);
}

static PolkitQuery *polkit_registry_find(PolkitRegistry *reg, sd_bus_message *call) {
        for (size_t i = 0; i < reg->n; i++)
                if (reg->queries[i]->request == call)
                        return reg->queries[i];
        return NULL;
}

/* A call whose answer is in comes back through dispatch.  If its handler
 * claims the answer, the query is gone by the time the reaper runs; if the
 * object went away meanwhile (a job ended, a phone was unplugged) or the
 * handler failed before asking again, nobody will: the reaper ends it. */
static int polkit_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PolkitRegistry *reg = userdata;
        PolkitQuery *q = polkit_registry_find(reg, m);

        if (q && q->answer != POLKIT_PENDING) {
                q->redispatched = true;
                /* a defer source runs after this dispatch, handler included, has returned */
                (void) sd_event_source_set_enabled(reg->reaper, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int polkit_reap(sd_event_source *s, void *userdata) {
        PolkitRegistry *reg = userdata;

        for (size_t i = 0; i < reg->n;) {
                PolkitQuery *q = reg->queries[i];

                if (!q->redispatched) {
                        i++;
                        continue;
                }
                log_debug("%s() from %s was not claimed after the polkit check (its object is gone, or it "
                          "failed first); its message and %u descriptor(s) are released.",
                          sd_bus_message_get_member(q->request), q->sender, q->n_fds);
                polkit_registry_remove(reg, q); /* moves the last query to i */
        }
        return 0;
}

static int polkit_registry_attach(PolkitRegistry *reg, sd_bus *bus) {
        sd_event *event;
        int r;

        if (reg->filter)
                return 0;
        event = sd_bus_get_event(bus);
        if (!event)
                return -ENXIO;
        r = sd_event_add_defer(event, &reg->reaper, polkit_reap, reg);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(reg->reaper, SD_EVENT_OFF);
        if (r < 0)
                return r;
        return sd_bus_add_filter(bus, &reg->filter, polkit_filter, reg);
}

/* The caller's connection closed. */
static int polkit_on_caller_gone(sd_bus_track *track, void *userdata) {
        PolkitQuery *q = userdata;

        /* sd-bus calls an empty track's handler again and again while it lives */
        q->track = sd_bus_track_unref(q->track);
        if (q->answer != POLKIT_PENDING) {
                /* its call is queued again: the handler refuses it, or the reaper ends it */
                q->answer = POLKIT_VANISHED;
                return 0;
        }
        log_debug("%s disconnected while polkit decided on %s; dropping its %s() and %u descriptor(s).", q->sender,
                  q->action, sd_bus_message_get_member(q->request), q->n_fds);
        polkit_registry_remove(q->registry, q);
        return 0;
}

/* Queue the original call for dispatch once more; its handler finds the answer. */
static void polkit_query_redispatch(PolkitQuery *q) {
        int r;

        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_error_errno(r, "Cannot re-dispatch %s() after the polkit check: %m",
                                sd_bus_message_get_member(q->request));
                (void) sd_bus_reply_method_errnof(q->request, r, "Cannot finish the authorization check: %m");
                polkit_registry_remove(q->registry, q);
        }
}

static int polkit_on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        PolkitQuery *q = userdata;

        q->deadline = sd_event_source_disable_unref(q->deadline);
        if (q->answer != POLKIT_PENDING)
                return 0;
        q->answer = POLKIT_TIMED_OUT;
        polkit_query_orphan_call(q);
        polkit_query_redispatch(q);
        return 0;
}

static int polkit_on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitCall *c = userdata;
        PolkitQuery *q = c->query;
        int r;

        polkit_call_free(c);
        if (!q)
                return 1; /* an orphan: nobody waits for this answer any more */
        q->call = NULL;
        q->deadline = sd_event_source_disable_unref(q->deadline);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        q->answer = POLKIT_ABSENT;
                else {
                        q->answer = POLKIT_FAILED;
                        sd_bus_error_copy(&q->error, e);
                }
        } else {
                int authorized = 0, challenge = 0;

                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        q->answer = POLKIT_FAILED;
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_INVALID_ARGS,
                                          "polkit sent an answer that cannot be parsed: %s", strerror(-r));
                } else
                        q->answer = authorized ? POLKIT_ALLOWED : challenge ? POLKIT_CHALLENGE : POLKIT_DENIED;
        }
        polkit_query_redispatch(q);
        return 1;
}

/* The answer for a call that came back: an error or 1; the query ends. */
static int polkit_query_conclude(PolkitQuery *q, const char *action, const char *what, sd_bus_error *error) {
        PolkitRegistry *reg = q->registry;
        PolkitAnswer answer = q->answer;
        unsigned uid = (unsigned) q->uid;
        int r;

        if (!streq(q->action, action)) {
                /* one check per call: a handler asks for exactly one action */
                log_error("%s() asked polkit for %s, then for %s.", sd_bus_message_get_member(q->request), q->action,
                          action);
                polkit_registry_remove(reg, q);
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Internal error: two authorization checks for one call.");
        }
        switch (answer) {
        case POLKIT_PENDING:
                return 0;
        case POLKIT_ALLOWED:
                polkit_registry_remove(reg, q);
                log_debug("polkit allows uid %u to %s (%s).", uid, what, action);
                return 1;
        case POLKIT_CHALLENGE:
                polkit_registry_remove(reg, q);
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Authentication is required to %s (polkit action %s); call again "
                                         "allowing interactive authorization, or as root.",
                                         what, action);
        case POLKIT_DENIED:
                polkit_registry_remove(reg, q);
                log_info("polkit refuses uid %u to %s (%s).", uid, what, action);
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not authorized to %s (polkit action %s). Ask an administrator "
                                         "to run it, or to allow the action for you.",
                                         what, action);
        case POLKIT_ABSENT:
                polkit_registry_remove(reg, q);
                log_info("uid %u may not %s: polkit is not running, so only root may.", uid, what);
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not allowed to %s: polkit is not running, so only root may. "
                                         "Run the command as root, or start polkit.", what);
        case POLKIT_TIMED_OUT: {
                unsigned sec = (unsigned) ((q->timeout_usec + 999999ull) / 1000000ull);

                polkit_registry_remove(reg, q);
                log_warning("polkit did not answer within %u s whether uid %u may %s (%s); refused.", sec, uid,
                            what, action);
                return sd_bus_error_setf(error, SD_BUS_ERROR_TIMEOUT,
                                         "polkit did not answer within %u s whether you may %s; nothing was done. "
                                         "Check that polkit is running ('systemctl status polkit'), then try "
                                         "again.", sec, what);
        }
        case POLKIT_FAILED:
                log_warning("polkit check of %s for uid %u failed: %s", action, uid, q->error.message ?: q->error.name);
                r = sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                      "Cannot tell whether you may %s: polkit failed (%s). Try again, or run "
                                      "the command as root.", what, q->error.message ?: q->error.name);
                polkit_registry_remove(reg, q);
                return r;
        case POLKIT_VANISHED:
                polkit_registry_remove(reg, q);
                log_debug("uid %u disconnected before its call to %s came back; not doing it.", uid, what);
                return sd_bus_error_setf(error, SD_BUS_ERROR_DISCONNECTED,
                                         "The caller disconnected while polkit decided whether it may %s.", what);
        }
        return -EINVAL;
}

/* Whether one more query fits the caps; an error naming the cap if not. */
static int polkit_registry_admit(PolkitRegistry *reg, const char *sender, uid_t uid, unsigned n_fds,
                                 const char *what, sd_bus_error *error) {
        unsigned per_sender = 0, per_uid = 0;
        const char *limit;

        for (size_t i = 0; i < reg->n; i++) {
                per_sender += streq(reg->queries[i]->sender, sender);
                per_uid += reg->queries[i]->uid == uid;
        }
        if (per_sender >= POLKIT_PENDING_PER_SENDER) {
                log_notice("%s (uid %u) has %u calls waiting for polkit, the most one connection may; refusing "
                           "to %s.", sender, (unsigned) uid, per_sender, what);
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "Cannot %s: this connection already has %u calls waiting for polkit, "
                                         "the most one connection may have. Wait for their answers, then try "
                                         "again.", what, per_sender);
        }
        if (per_uid >= POLKIT_PENDING_PER_UID) {
                log_notice("uid %u has %u calls waiting for polkit, the most one user may; refusing to %s.",
                           (unsigned) uid, per_uid, what);
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "Cannot %s: your user already has %u calls waiting for polkit, the "
                                         "most one user may have. Wait for their answers, then try again.",
                                         what, per_uid);
        }
        if (reg->n_calls >= POLKIT_CALLS_MAX) {
                log_warning("polkit has not answered %zu checks yet, the most mtknvd waits for; refusing uid %u "
                            "to %s. Is polkit hung?", reg->n_calls, (unsigned) uid, what);
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "Cannot %s now: polkit has not answered %zu earlier authorization checks "
                                         "(the most mtknvd waits for at once); it may be hung. Try again later, "
                                         "or as root, and see 'systemctl status polkit'.", what, reg->n_calls);
        }
        if (reg->n >= POLKIT_PENDING_MAX)
                limit = "calls";
        else if (reg->n_fds + n_fds > POLKIT_PENDING_FDS_MAX)
                limit = "file descriptors";
        else
                return 0;
        log_warning("%zu calls holding %u file descriptors wait for polkit, the most the daemon allows; refusing "
                    "uid %u to %s. Is polkit slow or hung?", reg->n, reg->n_fds, (unsigned) uid, what);
        return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                 "Cannot %s now: the calls of all users waiting for polkit already hold as many "
                                 "%s as mtknvd allows (%u calls, %u file descriptors); polkit may be slow or "
                                 "hung. Try again later, or as root.",
                                 what, limit, POLKIT_PENDING_MAX, POLKIT_PENDING_FDS_MAX);
}

static int polkit_start_check(sd_bus_message *call, const char *action, uid_t uid, unsigned n_fds,
                              PolkitRegistry *reg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = sd_bus_message_get_bus(call);
        const char *sender = sd_bus_message_get_sender(call);
        bool interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;
        PolkitQuery *q, **a;
        PolkitCall *c, **ca;
        int r;

        r = polkit_registry_attach(reg, bus);
        if (r < 0)
                return r;
        a = realloc(reg->queries, (reg->n + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        reg->queries = a;
        ca = realloc(reg->calls, (reg->n_calls + 1) * sizeof(*ca));
        if (!ca)
                return -ENOMEM;
        reg->calls = ca;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->registry = reg;
        q->request = sd_bus_message_ref(call);
        q->uid = uid;
        q->n_fds = n_fds;
        q->timeout_usec = reg->timeout_usec ?: interactive ? POLKIT_TIMEOUT_INTERACTIVE_USEC : POLKIT_TIMEOUT_USEC;
        snprintf(q->cancel_id, sizeof(q->cancel_id), "mtknvd-%" PRIu64, ++reg->n_started);
        q->action = strdup(action);
        q->sender = strdup(sender);
        if (!q->action || !q->sender) {
                polkit_query_free(q);
                return -ENOMEM;
        }

        /* Follow the caller first: the name must still exist once the bus
         * watches it (sd_bus_track asks), or a disconnect in between would
         * go unnoticed. */
        r = sd_bus_track_new(bus, &q->track, polkit_on_caller_gone, q);
        if (r >= 0)
                r = sd_bus_track_add_name(q->track, sender);
        if (r >= 0)
                /* our own deadline, not sd-bus's call timeout: the call must stay
                 * until polkit answers, for the bus counts it until then */
                r = sd_event_add_time_relative(sd_bus_get_event(bus), &q->deadline, CLOCK_MONOTONIC,
                                               q->timeout_usec, 0, polkit_on_deadline, q);
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }

        r = sd_bus_message_new_method_call(bus, &m, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
                                          interactive ? POLKIT_CHECK_ALLOW_USER_INTERACTION : 0u, q->cancel_id);
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                polkit_query_free(q);
                return -ENOMEM;
        }
        c->registry = reg;
        r = sd_bus_call_async(bus, &c->slot, m, polkit_on_reply, c, UINT64_MAX);
        if (r < 0) {
                free(c);
                polkit_query_free(q);
                return r;
        }
        c->query = q;
        q->call = c;
        reg->calls[reg->n_calls++] = c;
        reg->queries[reg->n++] = q;
        reg->n_fds += n_fds;
        return 0;
}

int bus_verify_polkit_async(sd_bus_message *call, const char *action, const char *what, PolkitRegistry *reg,
                            sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender;
        PolkitQuery *q;
        unsigned n_fds;
        uid_t uid;
        int r;

        /* A call that comes back after polkit answered: the answer, before
         * anything else that could fail (the caller may be gone by now). */
        q = polkit_registry_find(reg, call);
        if (q)
                return polkit_query_conclude(q, action, what, error);

        /* Root may do anything, with or without polkit. */
        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Cannot tell who is asking to %s: %s.", what, strerror(-r));
        if (uid == 0 || uid == geteuid())
                return 1;

        sender = sd_bus_message_get_sender(call);
        if (!sender)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not allowed to %s over a direct connection.", what);
        /* the handler reads no further once a check starts: counting may move the read position */
        r = bus_message_count_fds(call, &n_fds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read the call to %s: %s", what, strerror(-r));
        r = polkit_registry_admit(reg, sender, uid, n_fds, what, error);
        if (r < 0)
                return r;
        r = polkit_start_check(call, action, uid, n_fds, reg);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot ask polkit whether you may %s: %s", what,
                                               strerror(-r));
        return 0;
}

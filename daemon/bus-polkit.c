/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "bus-polkit.h"
#include "log.h"
#include "macro.h"

#define POLKIT_NAME  "org.freedesktop.PolicyKit1"
#define POLKIT_PATH  "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorizationFlags.AllowUserInteraction */
#define POLKIT_CHECK_ALLOW_USER_INTERACTION 1u
/* An authentication dialog may stay open for a while. */
#define POLKIT_TIMEOUT_USEC (5ull * 60 * 1000000)

typedef enum PolkitAnswer {
        POLKIT_PENDING,
        POLKIT_ALLOWED,
        POLKIT_DENIED,
        POLKIT_CHALLENGE,  /* would be allowed after authentication, which was not allowed */
        POLKIT_ABSENT,     /* nobody owns org.freedesktop.PolicyKit1 */
        POLKIT_FAILED,
} PolkitAnswer;

typedef struct PolkitQuery {
        PolkitRegistry *registry;
        sd_bus_message *request;
        sd_bus_slot *slot;
        char *action;
        PolkitAnswer answer;
        sd_bus_error error;
} PolkitQuery;

struct PolkitRegistry {
        PolkitQuery **queries;
        size_t n;
};

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        free(q->action);
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
        return mfree(reg);
}

static void polkit_registry_remove(PolkitRegistry *reg, PolkitQuery *q) {
        for (size_t i = 0; i < reg->n; i++)
                if (reg->queries[i] == q) {
                        reg->queries[i] = reg->queries[--reg->n];
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

static int polkit_on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
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

        /* Dispatch the original call once more; the handler finds the answer. */
        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_error_errno(r, "Cannot re-dispatch %s() after the polkit check: %m",
                                sd_bus_message_get_member(q->request));
                (void) sd_bus_reply_method_errnof(q->request, r, "Cannot finish the authorization check: %m");
                polkit_registry_remove(q->registry, q);
        }
        return 1;
}

static int polkit_start_check(sd_bus_message *call, const char *action, PolkitRegistry *reg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = sd_bus_message_get_bus(call);
        const char *sender = sd_bus_message_get_sender(call);
        PolkitQuery *q, **a;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
                                  sd_bus_message_get_allow_interactive_authorization(call) > 0 ?
                                          POLKIT_CHECK_ALLOW_USER_INTERACTION : 0u,
                                  "");
        if (r < 0)
                return r;

        a = realloc(reg->queries, (reg->n + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        reg->queries = a;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->registry = reg;
        q->request = sd_bus_message_ref(call);
        q->action = strdup(action);
        if (!q->action) {
                polkit_query_free(q);
                return -ENOMEM;
        }
        r = sd_bus_call_async(bus, &q->slot, m, polkit_on_reply, q, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }
        reg->queries[reg->n++] = q;
        return 0;
}

int bus_verify_polkit_async(sd_bus_message *call, const char *action, const char *what, PolkitRegistry *reg,
                            sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        PolkitQuery *q;
        uid_t uid;
        int r;

        /* Root may do anything, with or without polkit. */
        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Cannot tell who is asking to %s: %s.", what, strerror(-r));
        if (uid == 0 || uid == geteuid())
                return 1;

        q = polkit_registry_find(reg, call);
        if (q) {
                PolkitAnswer answer = q->answer;

                if (answer == POLKIT_PENDING)
                        return 0;
                if (!streq(q->action, action))
                        /* one check per call: a handler asks for exactly one action */
                        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                 "Internal error: two authorization checks for one call.");
                if (answer == POLKIT_FAILED) {
                        r = sd_bus_error_copy(error, &q->error);
                        log_warning("polkit check of %s for uid %u failed: %s", action, (unsigned) uid,
                                    q->error.message ?: q->error.name);
                        polkit_registry_remove(reg, q);
                        return r < 0 ? r : -EACCES;
                }
                polkit_registry_remove(reg, q);
                switch (answer) {
                case POLKIT_ALLOWED:
                        log_debug("polkit allows uid %u to %s (%s).", (unsigned) uid, what, action);
                        return 1;
                case POLKIT_CHALLENGE:
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                                 "Authentication is required to %s (polkit action %s); call again "
                                                 "allowing interactive authorization, or as root.",
                                                 what, action);
                case POLKIT_ABSENT:
                        log_info("uid %u may not %s: polkit is not running, so only root may.", (unsigned) uid,
                                 what);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                 "Not allowed to %s: polkit is not running, so only root may. "
                                                 "Run the command as root, or start polkit.", what);
                default:
                        log_info("polkit refuses uid %u to %s (%s).", (unsigned) uid, what, action);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                 "Not authorized to %s (polkit action %s). Ask an administrator "
                                                 "to run it, or to allow the action for you.",
                                                 what, action);
                }
        }

        if (!sd_bus_message_get_sender(call))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not allowed to %s over a direct connection.", what);
        r = polkit_start_check(call, action, reg);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot ask polkit whether you may %s: %s", what,
                                               strerror(-r));
        return 0;
}

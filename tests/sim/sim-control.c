/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control channel (documented in tests/sim/README.md): a UNIX stream
 * socket, one text command per line, exactly one reply line each,
 * starting "ok" or "error".
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim-world.h"

typedef struct Waiter Waiter;

typedef struct Client {
        SimWorld *world;
        int fd;
        GString *buf;
        Waiter *waiting;             /* a `wait` holds back this client's later commands */
} Client;

/* `wait ID [phase=PHASE] [FIELD=VALUE...] [timeout-ms=N]` not answered yet */
struct Waiter {
        Client *client;
        SimSlot *slot;
        char *phase;                 /* NULL: any */
        int phase_entries;           /* how often it had entered that phase when the wait began */
        GPtrArray *conds;            /* "field=value", more stats fields */
        char *what;                  /* the command, for the timeout message */
        unsigned timeout_ms;
        guint timeout;
};

#define WAIT_TIMEOUT_MS_DEFAULT 30000

static char *slot_stats(SimSlot *s) {
        SimPhone *p = sim_device_lock(s->device);
        g_autofree char *st = sim_phone_stats(p);
        g_autofree char *dst = sim_device_stats(s->device);
        char *r;

        r = g_strdup_printf("id=%s port=%s plugged=%d %s %s", s->id, sim_device_port(s->device),
                            sim_device_is_plugged(s->device), st, dst);
        sim_device_unlock(s->device);
        return r;
}

/* stats as field -> value */
static GHashTable *slot_fields(SimSlot *s) {
        g_autofree char *st = slot_stats(s);
        g_auto(GStrv) items = g_strsplit(st, " ", -1);
        GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        for (guint i = 0; items[i]; i++) {
                char *eq = strchr(items[i], '=');

                if (eq)
                        g_hash_table_replace(h, g_strndup(items[i], (gsize) (eq - items[i])), g_strdup(eq + 1));
        }
        return h;
}

static bool is_number(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!g_ascii_isdigit(*s))
                        return false;
        return true;
}

/* A number (a counter only grows) holds when reached, anything else when equal. */
static bool cond_holds(GHashTable *fields, const char *cond) {
        g_auto(GStrv) kv = g_strsplit(cond, "=", 2);
        const char *have = g_hash_table_lookup(fields, kv[0]);

        if (!have)
                return false;
        if (is_number(kv[1]) && is_number(have))
                return g_ascii_strtoull(have, NULL, 10) >= g_ascii_strtoull(kv[1], NULL, 10);
        return g_str_equal(have, kv[1]);
}

static bool waiter_holds(Waiter *wt) {
        g_autoptr(GHashTable) fields = slot_fields(wt->slot);

        if (wt->phase) {
                const char *now = g_hash_table_lookup(fields, "phase");
                int entries = sim_phone_phase_entries(sim_device_lock(wt->slot->device), wt->phase);

                sim_device_unlock(wt->slot->device);
                /* reached since the wait began, even if it has moved on */
                if (!(now && g_str_equal(now, wt->phase)) && entries <= wt->phase_entries)
                        return false;
        }
        for (guint i = 0; i < wt->conds->len; i++)
                if (!cond_holds(fields, g_ptr_array_index(wt->conds, i)))
                        return false;
        return true;
}

static void client_run(Client *c);

static void client_reply(Client *c, const char *reply) {
        g_autofree char *out = g_strconcat(reply, "\n", NULL);

        if (c->world->verbose)
                g_printerr("mtksim: control reply: %s\n", reply);
        if (write(c->fd, out, strlen(out)) < 0)
                g_printerr("mtksim: control reply lost: %s\n", g_strerror(errno));
}

static void waiter_free(Waiter *wt) {
        SimWorld *w = wt->client->world;

        w->waiters = g_list_remove(w->waiters, wt);
        if (wt->timeout)
                g_source_remove(wt->timeout);
        wt->client->waiting = NULL;
        g_free(wt->phase);
        g_ptr_array_unref(wt->conds);
        g_free(wt->what);
        g_free(wt);
}

/* Answer the wait, then go on with what the client sent after it. */
static void waiter_finish(Waiter *wt, const char *reply) {
        Client *c = wt->client;

        waiter_free(wt);
        client_reply(c, reply);
        client_run(c);
}

static gboolean on_wait_timeout(gpointer userdata) {
        Waiter *wt = userdata;
        g_autoptr(GHashTable) fields = slot_fields(wt->slot);
        g_autofree char *reply = NULL;
        const char *phase = g_hash_table_lookup(fields, "phase");

        wt->timeout = 0;
        reply = g_strdup_printf("error timeout after %u ms: %s (phase=%s)", wt->timeout_ms, wt->what,
                                phase ? phase : "?");
        waiter_finish(wt, reply);
        return G_SOURCE_REMOVE;
}

void sim_control_notify(SimWorld *w) {
        bool again = true;

        /* a finished wait runs its client's next commands, which may notify again */
        if (w->notifying)
                return;
        w->notifying = true;
        while (again) {
                again = false;
                for (GList *l = w->waiters; l; l = l->next)
                        if (waiter_holds(l->data)) {
                                waiter_finish(l->data, "ok");
                                again = true;
                                break;
                        }
        }
        w->notifying = false;
}

/* `wait`: NULL when the reply is deferred (the waiter holds the client) */
static char *control_wait(Client *c, SimSlot *s, char **argv, guint argc) {
        g_autoptr(GHashTable) fields = slot_fields(s);
        Waiter *wt = g_new0(Waiter, 1);

        wt->client = c;
        wt->slot = s;
        wt->conds = g_ptr_array_new_with_free_func(g_free);
        wt->timeout_ms = WAIT_TIMEOUT_MS_DEFAULT;
        wt->what = g_strjoinv(" ", argv);
        for (guint i = 2; i < argc; i++) {
                g_auto(GStrv) kv = g_strsplit(argv[i], "=", 2);
                char *end;

                if (!kv[0] || !kv[1]) {
                        waiter_free(wt);
                        return g_strdup_printf("error expected FIELD=VALUE, got \"%s\"", argv[i]);
                }
                if (g_str_equal(kv[0], "timeout-ms")) {
                        wt->timeout_ms = (unsigned) g_ascii_strtoull(kv[1], &end, 10);
                        if (*end || end == kv[1]) {
                                waiter_free(wt);
                                return g_strdup_printf("error bad timeout-ms \"%s\"", kv[1]);
                        }
                } else if (g_str_equal(kv[0], "phase")) {
                        g_free(wt->phase);
                        wt->phase = g_strdup(kv[1]);
                        wt->phase_entries = sim_phone_phase_entries(sim_device_lock(s->device), kv[1]);
                        sim_device_unlock(s->device);
                        if (wt->phase_entries < 0) {
                                waiter_free(wt);
                                return g_strdup_printf("error no phase \"%s\" (tests/sim/README.md)", kv[1]);
                        }
                } else if (!g_hash_table_contains(fields, kv[0])) {
                        waiter_free(wt);
                        return g_strdup_printf("error stats has no field \"%s\"", kv[0]);
                } else
                        g_ptr_array_add(wt->conds, g_strdup(argv[i]));
        }
        if (waiter_holds(wt)) {
                waiter_free(wt);
                return g_strdup("ok");
        }
        c->waiting = wt;
        c->world->waiters = g_list_append(c->world->waiters, wt);
        if (wt->timeout_ms)
                wt->timeout = g_timeout_add(wt->timeout_ms, on_wait_timeout, wt);
        return NULL;
}

static char *control_execute(Client *c, const char *line) {
        SimWorld *w = c->world;
        g_auto(GStrv) argv = g_strsplit_set(line, " \t", -1);
        g_autoptr(GError) error = NULL;
        guint argc;
        SimSlot *s = NULL;

        /* drop the empty pieces runs of blanks leave */
        argc = 0;
        for (guint i = 0; argv[i]; i++)
                if (*argv[i])
                        argv[argc++] = argv[i];
                else
                        g_free(argv[i]);
        argv[argc] = NULL;

        if (argc == 0)
                return g_strdup("error empty command");

        if (g_str_equal(argv[0], "list")) {
                GString *r = g_string_new("ok");

                for (guint i = 0; i < w->slots->len; i++) {
                        SimSlot *x = g_ptr_array_index(w->slots, i);

                        g_string_append_printf(r, " %s:%s:%s", x->id, sim_device_port(x->device),
                                               sim_device_is_plugged(x->device) ? "plugged" : "unplugged");
                }
                return g_string_free(r, FALSE);
        }
        if (g_str_equal(argv[0], "add")) {
                s = sim_world_add_phone(w, argc > 1 ? argv[1] : "", &error);
                if (!s)
                        return g_strdup_printf("error %s", error->message);
                if (!sim_world_plug(w, s, &error))
                        return g_strdup_printf("error %s", error->message);
                return g_strdup_printf("ok %s", s->id);
        }

        if (argc < 2)
                return g_strdup_printf("error %s needs a phone id", argv[0]);
        s = sim_world_find(w, argv[1]);
        if (!s)
                return g_strdup_printf("error no phone \"%s\"", argv[1]);

        if (g_str_equal(argv[0], "plug")) {
                if (sim_device_is_plugged(s->device))
                        return g_strdup("error already plugged");
                if (!sim_world_plug(w, s, &error))
                        return g_strdup_printf("error %s", error->message);
                return g_strdup("ok");
        }
        if (g_str_equal(argv[0], "unplug")) {
                sim_world_unplug(w, s);
                return g_strdup("ok");
        }
        if (g_str_equal(argv[0], "replug") || g_str_equal(argv[0], "set")) {
                bool replug = g_str_equal(argv[0], "replug");

                if (replug)
                        sim_world_unplug(w, s);
                for (guint i = 2; i < argc; i++) {
                        g_auto(GStrv) kv = g_strsplit(argv[i], "=", 2);
                        SimPhone *p;
                        int r;

                        if (!kv[0] || !kv[1])
                                return g_strdup_printf("error expected KEY=VALUE, got \"%s\"", argv[i]);
                        p = sim_device_lock(s->device);
                        if ((sim_phone_config(p)->hub[0] && (g_str_equal(kv[0], "rate") ||
                                                             g_str_equal(kv[0], "latency-us"))) ||
                            g_str_equal(kv[0], "hub")) {
                                /* the line is the hub's: fixed when the phone was added */
                                sim_device_unlock(s->device);
                                return g_strdup_printf("error %s is fixed at add (hub=)", kv[0]);
                        }
                        r = sim_phone_config_set(sim_phone_config(p), kv[0], kv[1], &error);
                        if (r >= 0 && g_str_equal(kv[0], "fault"))
                                sim_phone_set_fault(p, sim_phone_config(p)->fault, sim_phone_config(p)->fault_arg,
                                                    sim_phone_config(p)->fault_at_op);
                        sim_device_unlock(s->device);
                        if (r < 0)
                                return g_strdup_printf("error %s", error->message);
                }
                if (replug && !sim_world_plug(w, s, &error))
                        return g_strdup_printf("error %s", error->message);
                return g_strdup("ok");
        }
        if (g_str_equal(argv[0], "fault")) {
                SimFault f;
                uint64_t arg;
                int at_op;
                SimPhone *p;

                if (argc < 3 || sim_fault_parse(argv[2], &f, &arg, &at_op) < 0)
                        return g_strdup("error usage: fault ID KIND[:ARG] (see tests/sim/README.md)");
                p = sim_device_lock(s->device);
                sim_phone_set_fault(p, f, arg, at_op);
                sim_phone_config(p)->fault = f;
                sim_phone_config(p)->fault_arg = arg;
                sim_phone_config(p)->fault_at_op = at_op;
                sim_device_unlock(s->device);
                return g_strdup("ok");
        }
        if (g_str_equal(argv[0], "stats")) {
                g_autofree char *st = slot_stats(s);

                return g_strdup_printf("ok %s", st);
        }
        if (g_str_equal(argv[0], "wait"))
                return control_wait(c, s, argv, argc);
        return g_strdup_printf("error unknown command \"%s\"", argv[0]);
}

/* Execute the client's complete lines, in order, until a `wait` holds it. */
static void client_run(Client *c) {
        char *nl;

        while (!c->waiting && (nl = memchr(c->buf->str, '\n', c->buf->len))) {
                g_autofree char *line = g_strndup(c->buf->str, (gsize) (nl - c->buf->str));
                g_autofree char *reply = NULL;

                g_string_erase(c->buf, 0, (gssize) (nl - c->buf->str + 1));
                g_strstrip(line);
                if (c->world->verbose)
                        g_printerr("mtksim: control: %s\n", line);
                reply = control_execute(c, line);
                sim_control_notify(c->world);
                if (reply)
                        client_reply(c, reply);
        }
}

static gboolean on_client(int fd, GIOCondition cond, gpointer userdata) {
        Client *c = userdata;
        char tmp[1024];
        ssize_t n;

        n = read(fd, tmp, sizeof(tmp));
        if (n <= 0) {
                if (c->waiting)
                        waiter_free(c->waiting);
                close(c->fd);
                g_string_free(c->buf, TRUE);
                g_free(c);
                return G_SOURCE_REMOVE;
        }
        g_string_append_len(c->buf, tmp, n);
        client_run(c);
        return G_SOURCE_CONTINUE;
}

static gboolean on_accept(int fd, GIOCondition cond, gpointer userdata) {
        SimWorld *w = userdata;
        Client *c;
        int cfd;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
                return G_SOURCE_CONTINUE;
        c = g_new0(Client, 1);
        c->world = w;
        c->fd = cfd;
        c->buf = g_string_new(NULL);
        g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client, c);
        return G_SOURCE_CONTINUE;
}

gboolean sim_control_start(SimWorld *w, const char *path, GError **error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(sa.sun_path)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "control path too long: %s", path);
                return FALSE;
        }
        strcpy(sa.sun_path, path);
        unlink(path);
        w->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (w->control_fd < 0 || bind(w->control_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            listen(w->control_fd, 16) < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot listen on %s: %s", path,
                            g_strerror(errno));
                return FALSE;
        }
        w->control_path = g_strdup(path);
        g_unix_fd_add(w->control_fd, G_IO_IN, on_accept, w);
        return TRUE;
}

void sim_control_stop(SimWorld *w) {
        if (w->control_fd >= 0)
                close(w->control_fd);
        w->control_fd = -1;
        if (w->control_path)
                unlink(w->control_path);
        g_clear_pointer(&w->control_path, g_free);
}

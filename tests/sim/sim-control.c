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

typedef struct Client {
        SimWorld *world;
        int fd;
        GString *buf;
} Client;

static char *control_execute(SimWorld *w, const char *line) {
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
                SimPhone *p = sim_device_lock(s->device);
                g_autofree char *st = sim_phone_stats(p);
                g_autofree char *dst = sim_device_stats(s->device);
                char *r;

                r = g_strdup_printf("ok id=%s port=%s plugged=%d %s %s", s->id, sim_device_port(s->device),
                                    sim_device_is_plugged(s->device), st, dst);
                sim_device_unlock(s->device);
                return r;
        }
        return g_strdup_printf("error unknown command \"%s\"", argv[0]);
}

static gboolean on_client(int fd, GIOCondition cond, gpointer userdata) {
        Client *c = userdata;
        char tmp[1024];
        ssize_t n;
        char *nl;

        n = read(fd, tmp, sizeof(tmp));
        if (n <= 0) {
                close(c->fd);
                g_string_free(c->buf, TRUE);
                g_free(c);
                return G_SOURCE_REMOVE;
        }
        g_string_append_len(c->buf, tmp, n);
        while ((nl = memchr(c->buf->str, '\n', c->buf->len))) {
                g_autofree char *line = g_strndup(c->buf->str, (gsize) (nl - c->buf->str));
                g_autofree char *reply = NULL;
                g_autofree char *out = NULL;

                g_string_erase(c->buf, 0, (gssize) (nl - c->buf->str + 1));
                g_strstrip(line);
                reply = control_execute(c->world, line);
                if (c->world->verbose)
                        g_printerr("mtksim: control: %s -> %s\n", line, reply);
                out = g_strconcat(reply, "\n", NULL);
                if (write(c->fd, out, strlen(out)) < 0)
                        g_printerr("mtksim: control reply lost: %s\n", g_strerror(errno));
        }
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

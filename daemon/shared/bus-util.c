/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "macro.h"
#include "name-list.h"

int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int b = *(const bool *) userdata;

        return sd_bus_message_append_basic(reply, 'b', &b);
}

int bus_node_list(void *const *objects, size_t n, const char *(*path_of)(const void *object), char ***ret) {
        char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                l[i] = strdup(path_of(objects[i]));
                if (!l[i]) {
                        name_list_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 1;
}

static const char *bus_option_wants(const char *signature) {
        if (streq(signature, "b"))
                return "a boolean (b)";
        if (streq(signature, "s"))
                return "a string (s)";
        if (streq(signature, "h"))
                return "a file descriptor (h)";
        if (streq(signature, "as"))
                return "a string array (as)";
        return signature;
}

/* "known: a, b, c" for the error about an unknown key */
static int bus_option_error_unknown(sd_bus_message *m, const BusOption options[], const char *key,
                                    sd_bus_error *error) {
        const char *what = sd_bus_message_get_member(m) ?: "this method";
        char known[256] = "";
        size_t len = 0;

        for (const BusOption *o = options; o->key && len < sizeof(known); o++)
                len += (size_t) snprintf(known + len, sizeof(known) - len, "%s%s", len ? ", " : "", o->key);
        if (!options[0].key)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Unknown option \"%s\": %s() takes no options.", key, what);
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option \"%s\" for %s() (known: %s).", key,
                                 what, known);
}

int bus_message_read_options(sd_bus_message *m, const BusOption options[], sd_bus_error *error) {
        /* at most 64 keys a method: a bit each for "given already" */
        uint64_t seen = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *contents;
                const BusOption *o;
                unsigned i;
                char type;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (i = 0, o = options; o->key && !streq(o->key, key); o++, i++)
                        ;
                if (!o->key)
                        return bus_option_error_unknown(m, options, key, error);
                if (i < 64 && (seen & (UINT64_C(1) << i)))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option \"%s\" is given twice.",
                                                 key);
                if (i < 64)
                        seen |= UINT64_C(1) << i;
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (!streq_ptr(contents, o->signature))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option \"%s\" wants %s, not a value of type \"%s\".", key,
                                                 bus_option_wants(o->signature), contents ?: "?");
                r = sd_bus_message_enter_container(m, 'v', o->signature);
                if (r < 0)
                        return r;
                if (streq(o->signature, "as")) {
                        char ***l = o->ret;

                        *l = name_list_free(*l);
                        r = sd_bus_message_read_strv(m, l);
                        /* sd-bus reads an empty array as NULL: given, though, is not absent */
                        if (r >= 0 && !*l) {
                                *l = calloc(1, sizeof(char *));
                                if (!*l)
                                        return -ENOMEM;
                        }
                } else
                        r = sd_bus_message_read_basic(m, o->signature[0], o->ret);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int bus_count_fds_in(sd_bus_message *m, unsigned *n) {
        for (;;) {
                const char *contents;
                char type, skip[260];
                int r;

                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r <= 0)
                        return r;
                if (type == SD_BUS_TYPE_UNIX_FD) {
                        int fd;

                        r = sd_bus_message_read_basic(m, type, &fd);
                        if (r < 0)
                                return r;
                        (*n)++;
                        continue;
                }
                if (!contents) {
                        r = sd_bus_message_skip(m, (char[]) { type, 0 });
                        if (r < 0)
                                return r;
                        continue;
                }
                if (type == SD_BUS_TYPE_VARIANT || strchr(contents, SD_BUS_TYPE_UNIX_FD) ||
                    strchr(contents, SD_BUS_TYPE_VARIANT)) {
                        r = sd_bus_message_enter_container(m, type, contents);
                        if (r < 0)
                                return r;
                        r = bus_count_fds_in(m, n);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* a container that cannot hold a descriptor: skipped whole, not element by element */
                if (type == SD_BUS_TYPE_ARRAY)
                        snprintf(skip, sizeof(skip), "a%s", contents);
                else if (type == SD_BUS_TYPE_STRUCT)
                        snprintf(skip, sizeof(skip), "(%s)", contents);
                else
                        snprintf(skip, sizeof(skip), "{%s}", contents);
                r = sd_bus_message_skip(m, skip);
                if (r < 0)
                        return r;
        }
}

int bus_message_count_fds(sd_bus_message *m, unsigned *ret) {
        const char *signature;
        unsigned n = 0;
        int r;

        signature = sd_bus_message_get_signature(m, true);
        if (!signature || (!strchr(signature, SD_BUS_TYPE_UNIX_FD) && !strchr(signature, SD_BUS_TYPE_VARIANT))) {
                *ret = 0;
                return 0;
        }
        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        r = bus_count_fds_in(m, &n);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

void bus_error_setv(sd_bus_error *error, const char *name, int r, const char *fallback, const char *fmt, va_list ap) {
        _cleanup_free_ char *text = NULL;

        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        if (name)
                (void) sd_bus_error_set(error, name, text ?: fallback);
        else
                (void) sd_bus_error_set_errnof(error, r, "%s", text ?: strerror(-r));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small pieces every D-Bus object family of the daemon needs. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

/* A property getter for a C bool field, given by offsetof in the vtable: sd-bus's own getter for "b" reads an
 * int, four bytes of which a bool is only the first. */
int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error);

/* The NULL-terminated path list an sd-bus node enumerator returns, from n
 * objects whose path path_of() reads. */
int bus_node_list(void *const *objects, size_t n, const char *(*path_of)(const void *object), char ***ret);

/* One key a method's options dictionary (a{sv}) may hold. */
typedef struct BusOption {
        const char *key;
        const char *signature; /* of the value: "b", "s", "h" or "as" */
        /* "b": int *, "h": int * (the message owns the descriptor), "s": const char ** (valid as long as the
         * message), "as": char *** (a NULL-terminated list the caller frees with name_list_free) */
        void *ret;
} BusOption;

/* Reads an a{sv} of options whose every key must be one of options[]
 * (ended by an entry with key NULL), at most once, with a value of its type;
 * InvalidArgs naming the key and what it wants otherwise.  Values not given
 * are left alone. */
int bus_message_read_options(sd_bus_message *m, const BusOption options[], sd_bus_error *error);

/* How many file descriptors a message carries, wherever in its arguments.
 * Rewinds it and leaves the read position at its end. */
int bus_message_count_fds(sd_bus_message *m, unsigned *ret);

/* error = name (or, with name NULL, the errno r) with the formatted text;
 * fallback when the text cannot be formatted. */
void bus_error_setv(sd_bus_error *error, const char *name, int r, const char *fallback, const char *fmt, va_list ap)
        __attribute__((format(printf, 5, 0)));

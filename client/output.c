/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macro.h"
#include "output.h"

bool is_fingerprint(const char *v) {
        return v && strncmp(v, FINGERPRINT_PREFIX, strlen(FINGERPRINT_PREFIX)) == 0;
}

const char *identifier_display(const char *v, char *buf, size_t size) {
        if (!is_fingerprint(v))
                return v;
        snprintf(buf, size, "%s (fingerprint)", v + strlen(FINGERPRINT_PREFIX));
        return buf;
}

/* ------------------------------------------------------------ dictionaries */

static void dict_value_done(DictValue *v) {
        free(v->s);
        for (char **s = v->strv; s && *s; s++)
                free(*s);
        free(v->strv);
        for (size_t i = 0; i < v->n; i++)
                dict_done(&v->list[i]);
        free(v->list);
}

void dict_done(Dict *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->keys[i]);
                dict_value_done(&d->values[i]);
        }
        free(d->keys);
        free(d->values);
        *d = (Dict) {};
}

static int dict_read_value(sd_bus_message *m, const char *contents, DictValue *v) {
        int r;

        switch (contents[0]) {
        case 's': case 'o': case 'g': {
                const char *s;

                r = sd_bus_message_read_basic(m, contents[0], &s);
                v->type = 's';
                if (r >= 0 && !(v->s = strdup(s)))
                        r = -ENOMEM;
                return r;
        }
        case 'b': {
                int b;

                r = sd_bus_message_read_basic(m, 'b', &b);
                *v = (DictValue) { .type = 'b', .b = b };
                return r;
        }
        case 'y': case 'q': case 'u': case 't': {
                union { uint8_t y; uint16_t q; uint32_t u; uint64_t t; } x = {};

                r = sd_bus_message_read_basic(m, contents[0], &x);
                v->type = 'u';
                v->u = contents[0] == 'y' ? x.y : contents[0] == 'q' ? x.q : contents[0] == 'u' ? x.u : x.t;
                return r;
        }
        case 'n': case 'i': case 'x': {
                union { int16_t n; int32_t i; int64_t x; } x = {};

                r = sd_bus_message_read_basic(m, contents[0], &x);
                v->type = 'i';
                v->i = contents[0] == 'n' ? x.n : contents[0] == 'i' ? x.i : x.x;
                return r;
        }
        case 'a':
                if (strcmp(contents, "as") == 0) {
                        v->type = 'S';
                        return sd_bus_message_read_strv(m, &v->strv);
                }
                if (strcmp(contents, "aa{sv}") == 0) {
                        v->type = 'L';
                        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
                        if (r < 0)
                                return r;
                        for (;;) {
                                Dict *l;

                                r = sd_bus_message_at_end(m, false);
                                if (r != 0)
                                        break;
                                l = reallocarray(v->list, v->n + 1, sizeof(Dict));
                                if (!l)
                                        return -ENOMEM;
                                v->list = l;
                                r = dict_read(m, &v->list[v->n]);
                                if (r < 0)
                                        return r;
                                v->n++;
                        }
                        if (r < 0)
                                return r;
                        return sd_bus_message_exit_container(m);
                }
                break;
        }
        return sd_bus_message_skip(m, contents);
}

int dict_read(sd_bus_message *m, Dict *ret) {
        Dict d = {};
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *contents;
                DictValue v = {};

                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = dict_read_value(m, contents, &v);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0 && v.type) {
                        char **k = reallocarray(d.keys, d.n + 1, sizeof(char *));
                        DictValue *vv = k ? reallocarray(d.values, d.n + 1, sizeof(DictValue)) : NULL;

                        if (k)
                                d.keys = k;
                        if (vv)
                                d.values = vv;
                        if (!k || !vv || !(d.keys[d.n] = strdup(key)))
                                r = -ENOMEM;
                        else
                                d.values[d.n++] = v;
                }
                if (r < 0)
                        dict_value_done(&v);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                dict_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

const DictValue *dict_get(const Dict *d, const char *key) {
        for (size_t i = 0; d && i < d->n; i++)
                if (strcmp(d->keys[i], key) == 0)
                        return &d->values[i];
        return NULL;
}

const char *dict_str(const Dict *d, const char *key) {
        const DictValue *v = dict_get(d, key);

        return v && v->type == 's' ? v->s : "";
}

uint64_t dict_uint(const Dict *d, const char *key) {
        const DictValue *v = dict_get(d, key);

        return v && v->type == 'u' ? v->u : 0;
}

bool dict_bool(const Dict *d, const char *key) {
        const DictValue *v = dict_get(d, key);

        return v && v->type == 'b' && v->b;
}

bool dict_has(const Dict *d, const char *key) {
        return dict_get(d, key) != NULL;
}

const Dict *dict_list(const Dict *d, const char *key, size_t *ret_n) {
        const DictValue *v = dict_get(d, key);

        *ret_n = v && v->type == 'L' ? v->n : 0;
        return v && v->type == 'L' ? v->list : NULL;
}

void dict_to_json(JsonWriter *j, const char *key, const Dict *d) {
        json_begin_object(j, key);
        for (size_t i = 0; i < d->n; i++) {
                const DictValue *v = &d->values[i];
                const char *k = d->keys[i];

                switch (v->type) {
                case 's':
                        json_string(j, k, v->s);
                        break;
                case 'b':
                        json_bool(j, k, v->b);
                        break;
                case 'u':
                        json_uint(j, k, v->u);
                        break;
                case 'i':
                        /* the writer has unsigned numbers only; negative values are rare enough for a string */
                        if (v->i >= 0)
                                json_uint(j, k, (uint64_t) v->i);
                        else {
                                char buf[24];

                                snprintf(buf, sizeof(buf), "%" PRId64, v->i);
                                json_string(j, k, buf);
                        }
                        break;
                case 'S':
                        json_begin_array(j, k);
                        for (char **s = v->strv; s && *s; s++)
                                json_string(j, NULL, *s);
                        json_end_array(j);
                        break;
                case 'L':
                        json_begin_array(j, k);
                        for (size_t n = 0; n < v->n; n++)
                                dict_to_json(j, NULL, &v->list[n]);
                        json_end_array(j);
                        break;
                }
        }
        json_end_object(j);
}

/* ------------------------------------------------------------ text */

unsigned output_columns(void) {
        struct winsize ws;

        if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
                return ws.ws_col;
        return 80;
}

void output_wrapped(const char *label, unsigned indent, unsigned columns, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        unsigned col, width = columns > indent + 20 ? columns - indent : 20;
        const char *p;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        col = (unsigned) printf("%-*s", (int) indent, label ?: "");
        if (col > indent) {
                /* a label longer than the indent: the text starts on the next line */
                printf("\n%*s", (int) indent, "");
        }
        col = 0;
        p = text;
        while (*p) {
                size_t w = strcspn(p, " ");

                if (col > 0 && col + 1 + w > width) {
                        printf("\n%*s", (int) indent, "");
                        col = 0;
                } else if (col > 0) {
                        putchar(' ');
                        col++;
                }
                /* a word longer than the line (a hash): cut it */
                while (w > width) {
                        printf("%.*s\n%*s", (int) width, p, (int) indent, "");
                        p += width;
                        w -= width;
                }
                printf("%.*s", (int) w, p);
                col += (unsigned) w;
                p += w;
                while (*p == ' ')
                        p++;
        }
        putchar('\n');
}

void output_format_size(uint64_t v, char *buf, size_t size) {
        if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
                snprintf(buf, size, "%" PRIu64 " MiB", v >> 20);
        else if (v >= 1024 * 1024)
                snprintf(buf, size, "%.1f MiB", (double) v / (1024 * 1024));
        else if (v >= 1024 && v % 1024 == 0)
                snprintf(buf, size, "%" PRIu64 " KiB", v >> 10);
        else if (v >= 1024)
                snprintf(buf, size, "%.1f KiB", (double) v / 1024);
        else
                snprintf(buf, size, "%" PRIu64 " bytes", v);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "json-writer.h"

static void json_escape(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) (s ?: ""); *p; p++)
                switch (*p) {
                case '"':  fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                default:
                        /* UTF-8 passes through; the other control bytes have no short escape */
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        fputc('"', f);
}

static void json_member(JsonWriter *j, const char *key) {
        if (j->need_comma[j->depth])
                fputc(',', j->f);
        j->need_comma[j->depth] = true;
        if (key) {
                json_escape(j->f, key);
                fputc(':', j->f);
        }
}

static void json_open(JsonWriter *j, const char *key, char c) {
        json_member(j, key);
        fputc(c, j->f);
        /* deeper than JSON_DEPTH_MAX only the commas can go wrong; nothing we write nests so deep */
        if (j->depth + 1 < JSON_DEPTH_MAX)
                j->need_comma[++j->depth] = false;
}

static void json_close(JsonWriter *j, char c) {
        fputc(c, j->f);
        if (j->depth > 0)
                j->depth--;
}

void json_begin_object(JsonWriter *j, const char *key) {
        json_open(j, key, '{');
}

void json_end_object(JsonWriter *j) {
        json_close(j, '}');
}

void json_begin_array(JsonWriter *j, const char *key) {
        json_open(j, key, '[');
}

void json_end_array(JsonWriter *j) {
        json_close(j, ']');
}

void json_string(JsonWriter *j, const char *key, const char *value) {
        json_member(j, key);
        json_escape(j->f, value);
}

void json_uint(JsonWriter *j, const char *key, uint64_t value) {
        json_member(j, key);
        fprintf(j->f, "%" PRIu64, value);
}

void json_bool(JsonWriter *j, const char *key, bool value) {
        json_member(j, key);
        fputs(value ? "true" : "false", j->f);
}

void json_null(JsonWriter *j, const char *key) {
        json_member(j, key);
        fputs("null", j->f);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "json-writer.h"

static void json_escape(FILE *f, const char *s) {
        static const char hex[] = "0123456789abcdef";

        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) (s ?: ""); *p; p++) {
                if (*p == '"' || *p == '\\') {
                        fputc('\\', f);
                        fputc(*p, f);
                } else if (*p < 0x20) {
                        fputs("\\u00", f);
                        fputc(hex[*p >> 4], f);
                        fputc(hex[*p & 15], f);
                } else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static void json_member(JsonWriter *j, const char *key) {
        if (j->depth > 0 && !j->first[j->depth])
                fputc(',', j->f);
        if (j->depth > 0)
                j->first[j->depth] = false;
        if (key) {
                json_escape(j->f, key);
                fputc(':', j->f);
        }
}

static void json_open(JsonWriter *j, const char *key, char c) {
        json_member(j, key);
        fputc(c, j->f);
        if (j->depth + 1 < JSON_DEPTH_MAX)
                j->depth++;
        j->first[j->depth] = true;
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <string.h>

#include "output.h"

void json_write_escaped(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p; p++) {
                switch (*p) {
                case '"':  fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                default:
                        /* UTF-8 passes through; other control bytes are escaped */
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static void json_key(Json *j, const char *key) {
        if (j->need_comma[j->depth])
                fputc(',', j->f);
        j->need_comma[j->depth] = true;
        if (key) {
                json_write_escaped(j->f, key);
                fputc(':', j->f);
        }
}

void json_begin_object(Json *j, const char *key) {
        json_key(j, key);
        fputc('{', j->f);
        if (j->depth + 1 < 32u)
                j->need_comma[++j->depth] = false;
}

void json_end_object(Json *j) {
        fputc('}', j->f);
        if (j->depth > 0)
                j->depth--;
}

void json_begin_array(Json *j, const char *key) {
        json_key(j, key);
        fputc('[', j->f);
        if (j->depth + 1 < 32u)
                j->need_comma[++j->depth] = false;
}

void json_end_array(Json *j) {
        fputc(']', j->f);
        if (j->depth > 0)
                j->depth--;
}

void json_string(Json *j, const char *key, const char *value) {
        json_key(j, key);
        json_write_escaped(j->f, value);
}

void json_uint(Json *j, const char *key, uint64_t value) {
        json_key(j, key);
        fprintf(j->f, "%" PRIu64, value);
}

void json_bool(Json *j, const char *key, bool value) {
        json_key(j, key);
        fputs(value ? "true" : "false", j->f);
}

void json_null(Json *j, const char *key) {
        json_key(j, key);
        fputs("null", j->f);
}

bool is_fingerprint(const char *v) {
        return v && strncmp(v, FINGERPRINT_PREFIX, strlen(FINGERPRINT_PREFIX)) == 0;
}

const char *identifier_display(const char *v, char *buf, size_t size) {
        if (!is_fingerprint(v))
                return v;
        snprintf(buf, size, "%s (fingerprint)", v + strlen(FINGERPRINT_PREFIX));
        return buf;
}

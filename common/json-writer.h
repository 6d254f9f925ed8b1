/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one streaming JSON writer of mtknvd: what mtknvctl prints with
 * --json (the daemon answers in typed D-Bus values).  Strings are
 * escaped per RFC 8259 (the short escapes where there is one, \u00XX for the
 * other control bytes, UTF-8 passed through); numbers are integers.
 *
 *     JsonWriter j = { .f = stdout };
 *     json_begin_object(&j, NULL);
 *     json_string(&j, "id", id);
 *     json_end_object(&j);
 *
 * key is NULL for an array element or the top-level value.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 32

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        /* per depth: a value was written there, so the next one needs a comma */
        bool need_comma[JSON_DEPTH_MAX];
} JsonWriter;

void json_begin_object(JsonWriter *j, const char *key);
void json_end_object(JsonWriter *j);
void json_begin_array(JsonWriter *j, const char *key);
void json_end_array(JsonWriter *j);
/* value NULL is written as "" */
void json_string(JsonWriter *j, const char *key, const char *value);
void json_uint(JsonWriter *j, const char *key, uint64_t value);
void json_bool(JsonWriter *j, const char *key, bool value);
void json_null(JsonWriter *j, const char *key);

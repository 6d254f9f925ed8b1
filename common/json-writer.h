/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A streaming JSON writer for what the daemon describes to clients
 * (Inspect).  Strings are escaped per RFC 8259; numbers are integers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool first[JSON_DEPTH_MAX];
} JsonWriter;

void json_begin_object(JsonWriter *j, const char *key);
void json_end_object(JsonWriter *j);
void json_begin_array(JsonWriter *j, const char *key);
void json_end_array(JsonWriter *j);
void json_string(JsonWriter *j, const char *key, const char *value);
void json_uint(JsonWriter *j, const char *key, uint64_t value);
void json_bool(JsonWriter *j, const char *key, bool value);

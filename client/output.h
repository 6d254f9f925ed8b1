/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing what mtknvctl prints: JSON (with correct escaping) and tables. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

typedef struct Json {
        FILE *f;
        bool need_comma[32];
        unsigned depth;
} Json;

void json_begin_object(Json *j, const char *key);
void json_end_object(Json *j);
void json_begin_array(Json *j, const char *key);
void json_end_array(Json *j);
void json_string(Json *j, const char *key, const char *value);
void json_uint(Json *j, const char *key, uint64_t value);
void json_bool(Json *j, const char *key, bool value);
void json_null(Json *j, const char *key);
void json_write_escaped(FILE *f, const char *s);

/* The daemon shows identifiers (ME ID, SoC ID, eMMC CID, image hashes) in
 * full to root only; others get "fp:" and a fingerprint.  For printing:
 * "0011…" as it is, "fp:1a2b3c4d" as "1a2b3c4d (fingerprint)". */
#define FINGERPRINT_PREFIX "fp:"
bool is_fingerprint(const char *v);
const char *identifier_display(const char *v, char *buf, size_t size);

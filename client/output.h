/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing what mtknvctl prints: identifiers, the daemon's dictionaries as
 * JSON (common/json-writer.h), text wrapped to the terminal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "json-writer.h"

/* The daemon shows identifiers (ME ID, SoC ID, eMMC CID, image hashes) in
 * full to root only; others get "fp:" and a fingerprint.  For printing:
 * "0011…" as it is, "fp:1a2b3c4d" as "1a2b3c4d (fingerprint)". */
#define FINGERPRINT_PREFIX "fp:"
bool is_fingerprint(const char *v);
const char *identifier_display(const char *v, char *buf, size_t size);

/* A dictionary (a{sv}) the daemon answered, read whole: strings, booleans,
 * integers (signed or not), string lists and lists of dictionaries (aa{sv}),
 * which is every value the Manager's descriptions hold.  Printed for people
 * by each verb, and as JSON by dict_to_json(): one conversion for all. */
typedef struct Dict Dict;
typedef struct DictValue {
        char type;                /* 's' (s o g), 'b', 'u' (y q u t), 'i' (n i x), 'S' (as), 'L' (aa{sv}) */
        char *s;
        uint64_t u;
        int64_t i;
        bool b;
        char **strv;              /* 'S', NULL-terminated */
        Dict *list;               /* 'L' */
        size_t n;
} DictValue;
struct Dict {
        char **keys;
        DictValue *values;
        size_t n;
};

/* Reads an a{sv} at m's position; values of other types are skipped. */
int dict_read(sd_bus_message *m, Dict *ret);
void dict_done(Dict *d);
const DictValue *dict_get(const Dict *d, const char *key);
/* "" / 0 / false when absent or of another type */
const char *dict_str(const Dict *d, const char *key);
uint64_t dict_uint(const Dict *d, const char *key);
bool dict_bool(const Dict *d, const char *key);
bool dict_has(const Dict *d, const char *key);
/* The aa{sv} under key: *ret_n dictionaries (NULL, 0 when absent). */
const Dict *dict_list(const Dict *d, const char *key, size_t *ret_n);
void dict_to_json(JsonWriter *j, const char *key, const Dict *d);

/* The columns to fit: the terminal's on a terminal, else 80. */
unsigned output_columns(void);
/* "label  text" with text wrapped to columns, its continuation lines indented
 * by indent (label is padded to indent - 2). */
void output_wrapped(const char *label, unsigned indent, unsigned columns, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "1.5 MiB", "256 KiB", "512 bytes" */
void output_format_size(uint64_t v, char *buf, size_t size);

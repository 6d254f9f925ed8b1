/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manifest.yaml: what a backup holds and whose it is.  Written and read
 * with libyaml; the reader treats its input as hostile (imported archives).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MANIFEST_FORMAT_VERSION 1
#define MANIFEST_PARTS_MAX 64
/* An imported image whose position is unknown (a raw image): a restore
 * takes it from the phone's own table, by name and exact size. */
#define MANIFEST_REGION_ANY 0xffu

typedef struct ManifestPartition {
        char name[64];
        char file[80];
        uint8_t region;
        uint64_t offset, size;
        uint8_t sha256[32];
} ManifestPartition;

typedef struct Manifest {
        unsigned format_version;
        char tool_version[32];
        uint64_t created_usec;        /* CLOCK_REALTIME */
        char source[16];              /* auto | manual | pre-restore | import */
        char chip[16];
        uint16_t hw_code;
        char me_id[129], soc_id[129], emmc_cid[65], device_key[96];
        char table_source[16];        /* gpt | pmt | scatter */
        bool verified;
        char verify_method[32];
        ManifestPartition *parts;
        size_t n_parts;
} Manifest;

Manifest *manifest_new(void);
Manifest *manifest_free(Manifest *m);
int manifest_add_partition(Manifest *m, const ManifestPartition *p);
int manifest_write(const Manifest *m, FILE *f);
/* -EBADMSG with *ret_error saying which field is wrong. */
int manifest_parse(const uint8_t *data, size_t size, Manifest **ret, char **ret_error);
/* A name usable as a file or directory name: no '/', no leading '.', short. */
bool manifest_safe_name(const char *s);

static inline void manifest_freep(Manifest **m) {
        if (*m)
                manifest_free(*m);
}

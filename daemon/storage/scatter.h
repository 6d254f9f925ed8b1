/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SP Flash Tool scatter files (da.md §6): the V1.1.x YAML-like format (read
 * with libyaml) and the old V1.0 "NAME 0xADDR { }" text.  Input is untrusted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "partition-table.h"

typedef struct ScatterEntry {
        char name[64];
        StorageRegion region;
        uint64_t offset, size;    /* offset: bytes in the region, once resolved */
        bool reserved;            /* counted from the end of the device */
        bool resolved;
} ScatterEntry;

typedef struct ScatterFile {
        char platform[32], storage[16], config_version[16];
        bool v1_0;
        uint64_t block_size;
        ScatterEntry *entries;
        size_t n_entries;
} ScatterFile;

int scatter_parse(const uint8_t *data, size_t size, ScatterFile **ret, char **ret_error);
ScatterFile *scatter_file_free(ScatterFile *s);
/* Places the reserved entries from the end of a user area of user_size
 * bytes and checks every entry fits; -ERANGE if one does not. */
int scatter_file_resolve(ScatterFile *s, uint64_t user_size);
/* The resolved entries as a partition table (the scatter keeps its entries). */
PartitionTable *scatter_file_take_table(ScatterFile *s);
/* Whether e is one of the identity partitions (canonical names, identity-set.h). */
bool scatter_entry_is_identity(const ScatterEntry *e, char **identity_set);

static inline void scatter_file_freep(ScatterFile **s) {
        if (*s)
                scatter_file_free(*s);
}

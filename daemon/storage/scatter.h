/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SP Flash Tool scatter files (da.md §6): the V1.1.x YAML-like format (read
 * with libyaml), the V2.x files with one table per storage type, the XML
 * files of newer firmware packages (§6.3, read with libxml2: scatter-xml.h)
 * and the old V1.0 "NAME 0xADDR { }" text.  Input is untrusted.
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

/* One "- storage_type:" block of a V2.x file (da.md §6.1, last paragraph), or
 * <storage_type> element of an XML one (§6.3). */
typedef struct ScatterTable {
        char storage[16];         /* as the file spells it: "EMMC", "UFS" */
        ScatterEntry *entries;
        size_t n_entries;
} ScatterTable;

typedef struct ScatterFile {
        char platform[32], storage[16], config_version[16];
        bool v1_0;
        bool xml;                 /* MTxxxx_Android_scatter.xml */
        uint64_t block_size;
        /* the table in use: a V1.x file's only one; of a V2.x file, the EMMC
         * table (or its first) until scatter_file_use_storage() chose */
        ScatterEntry *entries;
        size_t n_entries;
        /* V2.x only: every storage's table, in file order (0 for V1.x) */
        ScatterTable *tables;
        size_t n_tables;
} ScatterFile;

int scatter_parse(const uint8_t *data, size_t size, ScatterFile **ret, char **ret_error);
ScatterFile *scatter_file_free(ScatterFile *s);
/* Makes the table for storage ("emmc", "ufs"; any case) the one in use,
 * before scatter_file_resolve().  A file of one table (V1.x) is used as it
 * is.  -ENOENT with *ret_error naming the tables the file has when it has
 * none for that storage. */
int scatter_file_use_storage(ScatterFile *s, const char *storage, char **ret_error);
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

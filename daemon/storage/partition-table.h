/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the partitions are: parsed from the phone's GPT, its MediaTek PMT,
 * or a scatter file.  Offsets are bytes within a storage region (storage.h),
 * as the DAs take them (da.md §5.2).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

typedef enum PartitionSource {
        PT_SOURCE_GPT,
        PT_SOURCE_PMT,
        PT_SOURCE_SCATTER,
} PartitionSource;

/* The largest identity partition seen in the scatter corpus is 64 MiB; a
 * table that claims more for one is damaged or hostile, and its size would
 * drive two full reads and, on restore, an allocation. */
#define PARTITION_IDENTITY_SIZE_MAX (256ull * 1024 * 1024)

typedef struct Partition {
        char name[64];
        StorageRegion region;
        uint64_t offset, size;
} Partition;

typedef struct PartitionTable {
        PartitionSource source;
        Partition *parts;
        size_t n_parts;
} PartitionTable;

/* data: the first bytes of the user area (at least LBA 0..33). */
int gpt_parse(const uint8_t *data, size_t size, uint64_t user_size, PartitionTable **ret, char **ret_error);
int pmt_parse(const uint8_t *data, size_t size, uint64_t user_size, PartitionTable **ret, char **ret_error);
int partition_table_new(PartitionSource source, PartitionTable **ret);
int partition_table_add(PartitionTable *t, const char *name, StorageRegion region, uint64_t offset, uint64_t size);
PartitionTable *partition_table_free(PartitionTable *t);
/* Case-insensitive, with the scatter aliases (NVRAM, __NODL_NVRAM, PROTECT_F, PRO_INFO …). */
const Partition *partition_table_find(const PartitionTable *t, const char *name);
/* The partitions an operation is about to read or write, checked against
 * their table: -ENOTUNIQ when another entry has the same canonical name (two
 * "nvram"s: which one is the phone's identity?), -EFBIG when one is larger
 * than PARTITION_IDENTITY_SIZE_MAX; *ret_error says which, in words. */
int partition_table_check_selection(const PartitionTable *t, const Partition *const *sel, size_t n,
                                    char **ret_error);
const char *partition_source_to_string(PartitionSource s);
/* The canonical lower-case name for a table name ("__NODL_NVRAM" -> "nvram"). */
void partition_name_canonical(const char *name, char *buf, size_t size);

static inline void partition_table_freep(PartitionTable **t) {
        if (*t)
                partition_table_free(*t);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the partitions are: parsed from the phone's GPT, its MediaTek PMT,
 * or a scatter file.  Offsets are bytes within an eMMC region, as the
 * legacy DA takes them (da.md §5.2).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PartitionSource {
        PT_SOURCE_GPT,
        PT_SOURCE_PMT,
        PT_SOURCE_SCATTER,
} PartitionSource;

typedef struct Partition {
        char name[64];
        uint8_t region;           /* legacy DA numbering: 8 user, 1 boot1, 2 boot2 */
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
int partition_table_add(PartitionTable *t, const char *name, uint8_t region, uint64_t offset, uint64_t size);
PartitionTable *partition_table_free(PartitionTable *t);
/* Case-insensitive, with the scatter aliases (NVRAM, __NODL_NVRAM, PROTECT_F, PRO_INFO …). */
const Partition *partition_table_find(const PartitionTable *t, const char *name);
const char *partition_source_to_string(PartitionSource s);
/* The canonical lower-case name for a table name ("__NODL_NVRAM" -> "nvram"). */
void partition_name_canonical(const char *name, char *buf, size_t size);

static inline void partition_table_freep(PartitionTable **t) {
        if (*t)
                partition_table_free(*t);
}

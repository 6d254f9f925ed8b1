/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GPT comes from the phone's storage, which anything may have written.
 *
 * A mutated input almost never has both CRCs right, so the parser would stop
 * at the CRC checks and the entry loop would stay unexplored.  Inputs whose
 * first byte is odd (LBA 0 is the protective MBR's boot code, which the
 * parser never reads) therefore get both CRCs fixed up first; the others go
 * in as they are, so the CRC checks stay fuzzed too.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "partition-table.h"

#define SECTOR 512u
#define USER_SIZE 0x3a3e00000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static uint64_t get64(const uint8_t *p) {
        return (uint64_t) get32(p) | ((uint64_t) get32(p + 4) << 32);
}

static void put32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

/* What a consistent writer would have stored: the entry array's CRC, then the header's. */
static void fix_crcs(uint8_t *d, size_t size) {
        uint8_t *h = d + SECTOR;
        uint32_t hsize = get32(h + 12), n = get32(h + 80), esize = get32(h + 84);
        uint64_t lba = get64(h + 72);

        if (lba > 0 && lba <= size / SECTOR && esize > 0 && n <= 4096 && esize <= 4096 &&
            (uint64_t) n * esize <= size - lba * SECTOR)
                put32(h + 88, (uint32_t) crc32(0, d + lba * SECTOR, (uInt) ((uint64_t) n * esize)));
        if (hsize >= 20 && hsize <= SECTOR) {
                put32(h + 16, 0);
                put32(h + 16, (uint32_t) crc32(0, h, hsize));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PartitionTable *t = NULL;
        uint8_t *copy = NULL;
        char *err = NULL;

        if (size >= 2 * SECTOR && (data[0] & 1)) {
                copy = malloc(size);
                if (!copy)
                        return 0;
                memcpy(copy, data, size);
                fix_crcs(copy, size);
                data = copy;
        }
        if (gpt_parse(data, size, USER_SIZE, &t, &err) >= 0) {
                for (size_t i = 0; i < t->n_parts; i++)
                        if (t->parts[i].offset + t->parts[i].size > USER_SIZE || t->parts[i].size == 0)
                                abort();
                partition_table_find(t, "nvram");
                /* what a backup does with the table next */
                {
                        const Partition *sel[4];
                        size_t n = 0;
                        char *why = NULL;

                        for (size_t i = 0; i < t->n_parts && n < 4; i++)
                                sel[n++] = &t->parts[i];
                        if (partition_table_check_selection(t, sel, n, &why) < 0 && !why)
                                abort();
                        free(why);
                }
                partition_table_free(t);
        } else if (!err)
                abort();
        free(err);
        free(copy);
        return 0;
}

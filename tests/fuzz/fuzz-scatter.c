/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scatter files come from users (backup --scatter, inspect): any bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "partition-table.h"
#include "scatter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char nvram[] = "nvram", proinfo[] = "proinfo";
        char *set[] = { nvram, proinfo, NULL };
        ScatterFile *s = NULL;
        char *err = NULL;

        if (scatter_parse(data, size, &s, &err) >= 0) {
                /* a V2.x file: the UFS table if it has one, else the default stays in use */
                if (scatter_file_use_storage(s, "ufs", &err) < 0) {
                        free(err);
                        err = NULL;
                }
                if (scatter_file_resolve(s, 0x3a3e00000ULL) >= 0) {
                        PartitionTable *t = scatter_file_take_table(s);

                        partition_table_find(t, "nvram");
                        partition_table_free(t);
                }
                /* what Inspect asks of every entry */
                for (size_t i = 0; i < s->n_entries; i++)
                        (void) scatter_entry_is_identity(&s->entries[i], set);
                scatter_file_free(s);
        }
        free(err);
        return 0;
}

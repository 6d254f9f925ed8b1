/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scatter files come from users (backup --scatter, inspect): any bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "partition-table.h"
#include "scatter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ScatterFile *s = NULL;
        char *err = NULL;
        FILE *null = fopen("/dev/null", "w");

        if (scatter_parse(data, size, &s, &err) >= 0) {
                if (scatter_file_resolve(s, 0x3a3e00000ULL) >= 0) {
                        PartitionTable *t = scatter_file_take_table(s);

                        partition_table_find(t, "nvram");
                        partition_table_free(t);
                }
                scatter_file_to_json(s, NULL, null);
                scatter_file_free(s);
        }
        free(err);
        fclose(null);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GPT comes from the phone's storage, which anything may have written. */
#include <stdlib.h>

#include "partition-table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PartitionTable *t = NULL;
        char *err = NULL;

        if (gpt_parse(data, size, 0x3a3e00000ULL, &t, &err) >= 0) {
                for (size_t i = 0; i < t->n_parts; i++)
                        if (t->parts[i].offset + t->parts[i].size > 0x3a3e00000ULL)
                                abort();
                partition_table_find(t, "nvram");
                partition_table_free(t);
        }
        free(err);
        return 0;
}

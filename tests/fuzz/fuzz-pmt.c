/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PMT the DA hands out is as trustworthy as the phone's storage. */
#include <stdlib.h>

#include "partition-table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PartitionTable *t = NULL;
        char *err = NULL;

        if (pmt_parse(data, size, 0x3a3e00000ULL, &t, &err) >= 0) {
                partition_table_find(t, "NVRAM");
                partition_table_free(t);
        }
        free(err);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Download Agent containers come from users (add-da, inspect): any bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "da-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DaFile *f = NULL;
        char *err = NULL;

        if (da_file_parse(data, size, &f, &err) >= 0) {
                const DaEntry *e = da_file_select(f, 0x6735, 0xca00, 0);
                const DaRegion *r;
                const uint8_t *p;

                if (e && da_entry_get_stage(f, e, 1, &p, &r) >= 0 && (p < data || p + r->length > data + size))
                        abort();
                da_file_free(f);
        }
        free(err);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Preloader images come from users (a firmware package, a dump): any bytes.
 * Besides not crashing, a parsed block must lie inside the input and agree
 * with itself. */
#include <stdlib.h>
#include <string.h>

#include "preloader-emi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static EmiBlock b;
        char err[512];
        int r = preloader_parse_emi(data, size, &b, err, sizeof(err));

        if (r < 0) {
                if (err[0] == 0 || b.block || b.records || b.n_records != 0)
                        abort();
                return 0;
        }
        if (b.n_records == 0 || b.n_records > EMI_RECORDS_MAX || b.record_size == 0 ||
            b.block != data + b.offset || b.records != b.block + EMI_HEADER_SIZE ||
            b.block_len != EMI_HEADER_SIZE + b.n_records * b.record_size ||
            b.offset > size || b.block_len > size - b.offset ||
            b.trailing_len > size - b.offset - b.block_len ||
            memchr(b.file_name, 0, sizeof(b.file_name)) == NULL)
                abort();
        for (unsigned i = 0; i < b.n_records; i++) {
                if (b.record[i].id_len > EMI_ID_MAX)
                        abort();
                emi_dram_type_to_string(b.record[i].type);
                /* each record's own ID finds a record with the same ID bytes */
                r = emi_block_find_record(&b, b.record[i].id, EMI_ID_MAX);
                if (r >= 0 && (unsigned) r >= b.n_records)
                        abort();
        }
        emi_block_find_record(&b, data, size < EMI_ID_MAX ? size : EMI_ID_MAX);
        emi_version_chips(b.version);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DA2 storage report (da.md §2.8) is what the phone says about its
 * storage: its length is judged from its own head (64-bit or 32-bit NAND
 * layout, a NAND id count), so a lying DA must not make the parser read
 * beyond what it was given, nor accept a report of the wrong length.
 */
#include <stdlib.h>
#include <string.h>

#include "da-legacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char what[96];

        for (int extra = 0; extra < 2; extra++) {
                DaLegacyReport r = {};
                size_t want = da_legacy_report_len(data, size, extra);

                if (want > 0 && want <= DA_REPORT_HEAD_LEN)
                        abort();
                if (da_legacy_parse_report(data, size, extra, &r) == 0) {
                        if (want != size || r.n_nand_ids > DA_NAND_IDS_MAX)
                                abort();
                        if (r.soc_status != data[size - 1])
                                abort();
                }
        }
        da_legacy_describe_bytes(data, size, what, sizeof(what));
        if (strnlen(what, sizeof(what)) >= sizeof(what))
                abort();
        return 0;
}

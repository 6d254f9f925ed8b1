/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The user's scatter file, edited for an SP Flash Tool export: never a crash,
 * and an accepted edit of a text file changes only is_download and file_name
 * values (its lines stay); of an XML file it gives an XML scatter file that
 * the same edit leaves as it is. */
#include <stdlib.h>
#include <string.h>

#include "scatter-edit.h"
#include "scatter-xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = { "nvram", "nvdata", "proinfo" };
        static const char *const files[] = { "nvram.img", "nvdata.img", "proinfo.img" };
        char *out = NULL, *err = NULL;
        size_t len = 0, lines_in = 0, lines_out = 0;

        for (size_t n = 0; n <= 3; n++) {
                if (scatter_edit_for_download(data, size, n % 2 ? "emmc" : "ufs", names, files, n, &out, &len, &err) < 0) {
                        free(err);
                        err = NULL;
                        continue;
                }
                if (scatter_xml_detect(data, size)) {
                        char *again = NULL;
                        size_t again_len = 0;

                        if (scatter_edit_for_download((const uint8_t *) out, len, n % 2 ? "emmc" : "ufs", names, files,
                                                      n, &again, &again_len, &err) < 0 ||
                            again_len != len || memcmp(again, out, len) != 0)
                                abort();
                        free(again);
                        free(out);
                        out = NULL;
                        continue;
                }
                lines_in = lines_out = 0;
                for (size_t i = 0; i < size; i++)
                        lines_in += data[i] == '\n';
                for (size_t i = 0; i < len; i++)
                        lines_out += out[i] == '\n';
                if (lines_in != lines_out)
                        abort();
                free(out);
                out = NULL;
        }
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manifests arrive in imported archives: what parses must write and parse again. */
#include <stdio.h>
#include <stdlib.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Manifest *m = NULL, *again = NULL;
        char *err = NULL, *text = NULL;
        size_t len = 0;
        FILE *f;

        if (manifest_parse(data, size, &m, &err) < 0) {
                free(err);
                return 0;
        }
        f = open_memstream(&text, &len);
        if (manifest_write(m, f) < 0)
                abort();
        fclose(f);
        if (manifest_parse((const uint8_t *) text, len, &again, &err) < 0)
                abort();
        if (again->n_parts != m->n_parts)
                abort();
        manifest_free(again);
        manifest_free(m);
        free(text);
        return 0;
}

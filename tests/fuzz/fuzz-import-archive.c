/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Imported archives are anybody's: whatever parses must be consistent. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "backup-import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ImportSet *s = NULL;
        char *err = NULL;

        if (import_parse_archive(data, size, &s, &err) < 0) {
                free(err);
                return 0;
        }
        /* accepted: every image is there, of its size, with its hash */
        for (size_t i = 0; i < s->header->n_parts; i++) {
                uint8_t sha[32];

                if (!s->images[i] || !EVP_Digest(s->images[i], s->header->parts[i].size, sha, NULL, EVP_sha256(), NULL) ||
                    memcmp(sha, s->header->parts[i].sha256, 32) != 0)
                        abort();
        }
        if (!manifest_safe_name(s->header->device_key))
                abort();
        import_set_free(s);
        return 0;
}

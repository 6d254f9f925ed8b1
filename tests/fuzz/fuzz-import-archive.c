/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Imported archives are anybody's: whatever is accepted must be consistent,
 * and no input may make the import write more than its manifest states. */
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup-import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the store the imports go to: one for the process (libFuzzer has no other place for it) */
static BackupStore *store;
static char store_dir[] = "/tmp/mtknvd-fuzz-import-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void remove_store(void) {
        nftw(store_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ImportArchive *ia = NULL;
        char *err = NULL, *id = NULL, path[512];
        uint8_t *copy;
        int r;

        if (!store) {
                if (!mkdtemp(store_dir) || backup_store_open(store_dir, &store) < 0)
                        abort();
                atexit(remove_store);
        }
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (import_archive_new(store, copy, size, &ia) < 0) {
                free(copy);
                return 0;
        }
        while ((r = import_archive_step(ia, &id, &err)) > 0)
                ;
        if (r == 0) {
                /* accepted: stored, every image there, of its size, with its hash */
                const Manifest *mf = import_archive_manifest(ia);
                BackupInfo info = {};

                if (!mf || !manifest_safe_name(mf->device_key) ||
                    backup_store_load(store, mf->device_key, id, &info) < 0 || info.manifest->n_parts != mf->n_parts)
                        abort();
                for (size_t i = 0; i < mf->n_parts; i++) {
                        uint8_t *img = NULL, sha[32];
                        size_t len = 0;

                        if (backup_store_read_image(store, &info, mf->parts[i].name, &img, &len) < 0 ||
                            len != mf->parts[i].size || !EVP_Digest(img, len, sha, NULL, EVP_sha256(), NULL) ||
                            memcmp(sha, mf->parts[i].sha256, 32) != 0)
                                abort();
                        free(img);
                }
                backup_info_done(&info);
                snprintf(path, sizeof(path), "%s/backups/%s", store_dir, mf->device_key);
                nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        import_archive_free(ia);
        free(err);
        free(id);
        return 0;
}

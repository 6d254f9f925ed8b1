/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "da-store.h"
#include "file-shelf.h"
#include "log.h"

void da_store_match_done(DaStoreMatch *match) {
        if (match->name)
                file_shelf_release(match->holds, match->name);
        da_file_free(match->file);
        free(match->data);
        free(match->name);
        *match = (DaStoreMatch) {};
}

static int da_store_try(FileShelfHolds *holds, const char *path, uint16_t da_code, uint16_t hw_version, uint16_t sw_version,
                        DaStoreMatch *ret) {
        DaStoreMatch m = {};
        _cleanup_free_ char *err = NULL;
        int r;

        r = file_shelf_read(path, DA_FILE_MAX, &m.data, &m.size);
        if (r < 0) {
                log_warning_errno(r, "Cannot read Download Agent %s: %m", path);
                return r;
        }
        r = da_file_parse(m.data, m.size, &m.file, &err);
        if (r < 0) {
                log_warning("Ignoring Download Agent %s: %s", path, err ?: "invalid");
                da_store_match_done(&m);
                return r;
        }
        m.entry = da_file_select(m.file, da_code, hw_version, sw_version);
        if (!m.entry) {
                da_store_match_done(&m);
                return -ENOENT;
        }
        m.name = strdup(path);
        if (!m.name) {
                da_store_match_done(&m);
                return -ENOMEM;
        }
        r = file_shelf_hold(holds, path);
        if (r < 0) {
                da_store_match_done(&m);
                return r;
        }
        m.holds = holds;
        *ret = m;
        return 0;
}

int da_store_find(const DaStoreSources *src, uint16_t da_code, uint16_t hw_version, uint16_t sw_version, DaStoreMatch *ret) {
        char **paths = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < src->n_configured; i++)
                if (da_store_try(src->holds, src->configured[i], da_code, hw_version, sw_version, ret) >= 0)
                        return 0;

        r = file_shelf_list(src->state_dir, DA_STORE_SHELF, &paths, &n);
        if (r < 0)
                return r;
        r = -ENOENT;
        for (size_t i = 0; i < n && r < 0; i++)
                if (da_store_try(src->holds, paths[i], da_code, hw_version, sw_version, ret) >= 0)
                        r = 0;
        file_shelf_list_free(paths, n);
        return r;
}

int da_store_add(const char *state_dir, const uint8_t *data, size_t size, DaFile **ret_file, char **ret_name,
                 char **ret_error) {
        _cleanup_(da_file_freep) DaFile *f = NULL;
        int r;

        r = da_file_parse(data, size, &f, ret_error);
        if (r < 0)
                return r;
        r = file_shelf_store(state_dir, DA_STORE_SHELF, data, size, ret_name);
        if (r < 0)
                return r;
        if (ret_file)
                *ret_file = TAKE_PTR(f);
        return 0;
}

int da_store_remove(const DaStoreSources *src, const char *name) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s/%s", src->state_dir, DA_STORE_SHELF, name) < 0)
                return -ENOMEM;
        if (file_shelf_is_held(src->holds, path))
                return -EBUSY;
        return file_shelf_remove(src->state_dir, DA_STORE_SHELF, name);
}

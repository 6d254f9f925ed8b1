/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "storage.h"

static const char *const storage_type_table[_STORAGE_TYPE_MAX] = {
        [STORAGE_EMMC] = "emmc",
        [STORAGE_UFS] = "ufs",
};

static const char *const storage_region_table[_STORAGE_REGION_MAX] = {
        [STORAGE_REGION_USER] = "user",
        [STORAGE_REGION_BOOT1] = "boot1",
        [STORAGE_REGION_BOOT2] = "boot2",
        [STORAGE_REGION_RPMB] = "rpmb",
};

const char *storage_type_to_string(StorageType t) {
        if (t < 0 || t >= _STORAGE_TYPE_MAX)
                return NULL;
        return storage_type_table[t];
}

StorageType storage_type_from_string(const char *s) {
        if (!s)
                return _STORAGE_TYPE_INVALID;
        for (StorageType t = 0; t < _STORAGE_TYPE_MAX; t++)
                if (streq(s, storage_type_table[t]))
                        return t;
        return _STORAGE_TYPE_INVALID;
}

const char *storage_region_to_string(StorageRegion r) {
        if (r == STORAGE_REGION_ANY)
                return "any";
        if (r < 0 || r >= _STORAGE_REGION_MAX)
                return NULL;
        return storage_region_table[r];
}

StorageRegion storage_region_from_string(const char *s) {
        if (!s)
                return _STORAGE_REGION_INVALID;
        if (streq(s, "any"))
                return STORAGE_REGION_ANY;
        for (StorageRegion r = 0; r < _STORAGE_REGION_MAX; r++)
                if (streq(s, storage_region_table[r]))
                        return r;
        return _STORAGE_REGION_INVALID;
}

const char *storage_region_names(void) {
        return "user, boot1, boot2, rpmb, any";
}

void storage_info_id_hex(const StorageInfo *s, char *buf, size_t size) {
        size_t n = MIN(s->id_len, (size_t) STORAGE_ID_MAX);

        if (size == 0)
                return;
        buf[0] = 0;
        for (size_t i = 0; i < n && 2 * i + 2 < size; i++)
                snprintf(buf + 2 * i, 3, "%02x", s->id[i]);
}

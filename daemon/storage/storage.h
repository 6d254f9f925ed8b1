/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PLACEHOLDER until the storage branch lands: the daemon's own storage model. */
#pragma once

#include <stdint.h>

typedef enum StorageType {
        STORAGE_EMMC,
        STORAGE_UFS,
        _STORAGE_TYPE_MAX,
} StorageType;

typedef enum StorageRegion {
        STORAGE_REGION_USER,
        STORAGE_REGION_BOOT1,
        STORAGE_REGION_BOOT2,
        STORAGE_REGION_RPMB,
        _STORAGE_REGION_MAX,
} StorageRegion;

typedef struct StorageInfo {
        StorageType type;
        uint64_t region_size[_STORAGE_REGION_MAX];
        uint8_t id[16];
        size_t id_len;
} StorageInfo;

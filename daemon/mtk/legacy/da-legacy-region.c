/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "da-legacy-region.h"
#include "protocol/da-legacy-proto.h"

int da_legacy_region_number(StorageRegion r) {
        switch (r) {
        case STORAGE_REGION_USER:
                return DA_EMMC_REGION_USER;
        case STORAGE_REGION_BOOT1:
                return DA_EMMC_REGION_BOOT1;
        case STORAGE_REGION_BOOT2:
                return DA_EMMC_REGION_BOOT2;
        case STORAGE_REGION_RPMB:
                return DA_EMMC_REGION_RPMB;
        case STORAGE_REGION_ANY:
        case _STORAGE_REGION_MAX:
        case _STORAGE_REGION_INVALID:
                break;
        }
        return -EOPNOTSUPP;
}

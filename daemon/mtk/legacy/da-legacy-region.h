/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtknvd's storage regions as the legacy DA numbers them (da.md §5.1).  The
 * only place those numbers meet the daemon's own model.
 */
#pragma once

#include <stdint.h>

#include "storage.h"

/* The legacy DA's region number (DA_EMMC_REGION_*), or -EOPNOTSUPP for a
 * region it has no number for (STORAGE_REGION_ANY is not a place to read). */
int da_legacy_region_number(StorageRegion r);

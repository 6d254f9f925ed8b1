/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own model of a phone's storage: what kind it is, its regions
 * (numbered by mtknvd, not by any Download Agent: each DA backend maps them
 * to its own numbers), and what the phone said about it.  A leaf: it knows
 * no DA, no disk format and no bus.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

typedef enum StorageType {
        STORAGE_EMMC,
        STORAGE_UFS,
        _STORAGE_TYPE_MAX,
        _STORAGE_TYPE_INVALID = -EINVAL,
} StorageType;

/* The parts of a storage an offset is counted in.  UFS logical units are to
 * come; they are added here, never renumbered (the numbers stay in memory:
 * what is written to disk or the bus is the name). */
typedef enum StorageRegion {
        STORAGE_REGION_USER,
        STORAGE_REGION_BOOT1,
        STORAGE_REGION_BOOT2,
        STORAGE_REGION_RPMB,
        _STORAGE_REGION_MAX,
        /* Not a place on the storage: "where the phone's own table puts it"
         * (an imported raw image, whose position nobody recorded). */
        STORAGE_REGION_ANY,
        _STORAGE_REGION_INVALID = -EINVAL,
} StorageRegion;

/* The longest id a storage reports: an eMMC CID is 16 bytes; a UFS serial
 * number is a string descriptor of at most 126 bytes. */
#define STORAGE_ID_MAX 126
/* Its lower-case hex, with the NUL. */
#define STORAGE_ID_HEX_MAX (2 * STORAGE_ID_MAX + 1)

/* What a DA backend learnt of the phone's storage once its DA runs. */
typedef struct StorageInfo {
        StorageType type;
        uint64_t region_size[_STORAGE_REGION_MAX]; /* bytes; 0: the region is absent */
        uint8_t id[STORAGE_ID_MAX];                 /* eMMC: the CID register; UFS: the serial number */
        size_t id_len;
} StorageInfo;

/* "emmc", "ufs"; NULL for anything else. */
const char *storage_type_to_string(StorageType t);
/* _STORAGE_TYPE_INVALID for a name that is not one. */
StorageType storage_type_from_string(const char *s);
/* "user", "boot1", "boot2", "rpmb", "any"; NULL for anything else. */
const char *storage_region_to_string(StorageRegion r);
/* _STORAGE_REGION_INVALID for a name that is not one. */
StorageRegion storage_region_from_string(const char *s);
/* The names from_string accepts, for an error message ("user, boot1, …"). */
const char *storage_region_names(void);

/* The id as lower-case hex into buf (at least STORAGE_ID_HEX_MAX bytes, or
 * 2 * id_len + 1); "" when the storage reported none. */
void storage_info_id_hex(const StorageInfo *s, char *buf, size_t size);

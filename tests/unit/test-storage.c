/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mtknvd's storage model: the names it writes to disk and the bus, and the
 * legacy DA's numbers for its regions. */
#include <stdlib.h>

#include "da-legacy-region.h"
#include "macro.h"
#include "protocol/da-legacy-proto.h"
#include "scatter.h"
#include "storage.h"
#include "tap.h"

TEST(type_names) {
        CHECK_EQ_STR(storage_type_to_string(STORAGE_EMMC), "emmc");
        CHECK_EQ_STR(storage_type_to_string(STORAGE_UFS), "ufs");
        CHECK(storage_type_to_string(_STORAGE_TYPE_INVALID) == NULL);
        CHECK(storage_type_to_string(_STORAGE_TYPE_MAX) == NULL);
        for (StorageType t = 0; t < _STORAGE_TYPE_MAX; t++)
                CHECK_EQ_INT(storage_type_from_string(storage_type_to_string(t)), t);
        CHECK_EQ_INT(storage_type_from_string("EMMC"), _STORAGE_TYPE_INVALID);
        CHECK_EQ_INT(storage_type_from_string(""), _STORAGE_TYPE_INVALID);
        CHECK_EQ_INT(storage_type_from_string("nand"), _STORAGE_TYPE_INVALID);
        CHECK_EQ_INT(storage_type_from_string(NULL), _STORAGE_TYPE_INVALID);
}

TEST(region_names) {
        static const char *const want[_STORAGE_REGION_MAX] = { "user", "boot1", "boot2", "rpmb" };

        for (StorageRegion r = 0; r < _STORAGE_REGION_MAX; r++) {
                CHECK_EQ_STR(storage_region_to_string(r), want[r]);
                CHECK_EQ_INT(storage_region_from_string(want[r]), r);
                /* every name is offered in the error messages that list them */
                CHECK(strstr(storage_region_names(), want[r]) != NULL);
        }
        CHECK_EQ_STR(storage_region_to_string(STORAGE_REGION_ANY), "any");
        CHECK_EQ_INT(storage_region_from_string("any"), STORAGE_REGION_ANY);
        CHECK(strstr(storage_region_names(), "any") != NULL);
        CHECK(storage_region_to_string(_STORAGE_REGION_MAX) == NULL);
        CHECK(storage_region_to_string(_STORAGE_REGION_INVALID) == NULL);
        CHECK_EQ_INT(storage_region_from_string("USER"), _STORAGE_REGION_INVALID);
        CHECK_EQ_INT(storage_region_from_string("8"), _STORAGE_REGION_INVALID);
        CHECK_EQ_INT(storage_region_from_string("EMMC_USER"), _STORAGE_REGION_INVALID);
        CHECK_EQ_INT(storage_region_from_string(""), _STORAGE_REGION_INVALID);
        CHECK_EQ_INT(storage_region_from_string(NULL), _STORAGE_REGION_INVALID);
}

TEST(legacy_da_numbers) {
        /* da.md §5.1 */
        CHECK_EQ_INT(da_legacy_region_number(STORAGE_REGION_USER), 8);
        CHECK_EQ_INT(da_legacy_region_number(STORAGE_REGION_BOOT1), 1);
        CHECK_EQ_INT(da_legacy_region_number(STORAGE_REGION_BOOT2), 2);
        CHECK_EQ_INT(da_legacy_region_number(STORAGE_REGION_RPMB), 3);
        CHECK_EQ_INT(da_legacy_region_number(STORAGE_REGION_USER), DA_EMMC_REGION_USER);
        /* "wherever the table says" is no place the DA can read */
        CHECK_EQ_INT(da_legacy_region_number(STORAGE_REGION_ANY), -EOPNOTSUPP);
        CHECK_EQ_INT(da_legacy_region_number(_STORAGE_REGION_INVALID), -EOPNOTSUPP);
}

TEST(id_hex) {
        StorageInfo s = { .type = STORAGE_EMMC, .id = { 0x15, 0x01, 0x00, 0xab }, .id_len = 4 };
        char buf[STORAGE_ID_HEX_MAX], small[6];

        storage_info_id_hex(&s, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "150100ab");
        /* too small a buffer: whole bytes only, NUL-terminated */
        storage_info_id_hex(&s, small, sizeof(small));
        CHECK_EQ_STR(small, "1501");
        s.id_len = 0;
        storage_info_id_hex(&s, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "");
        /* the longest id fits its hex */
        memset(s.id, 0xff, sizeof(s.id));
        s.id_len = STORAGE_ID_MAX;
        storage_info_id_hex(&s, buf, sizeof(buf));
        CHECK_EQ_INT(strlen(buf), 2 * STORAGE_ID_MAX);
}

TEST(scatter_regions) {
        static const char text[] =
                "- general: MTK_PLATFORM_CFG\n"
                "  info:\n"
                "    - config_version: V1.1.2\n"
                "      platform: MT6735\n"
                "      storage: EMMC\n"
                "- partition_index: SYS0\n"
                "  partition_name: PRELOADER\n"
                "  linear_start_addr: 0x0\n"
                "  physical_start_addr: 0x0\n"
                "  partition_size: 0x40000\n"
                "  region: EMMC_BOOT_1\n"
                "- partition_index: SYS1\n"
                "  partition_name: RPMBDATA\n"
                "  linear_start_addr: 0x0\n"
                "  physical_start_addr: 0x0\n"
                "  partition_size: 0x40000\n"
                "  region: EMMC_RPMB\n"
                "- partition_index: SYS2\n"
                "  partition_name: NVRAM\n"
                "  linear_start_addr: 0x380000\n"
                "  physical_start_addr: 0x380000\n"
                "  partition_size: 0x500000\n"
                "  region: EMMC_USER\n";
        ScatterFile *s = NULL;
        char *err = NULL;

        CHECK_EQ_INT(scatter_parse((const uint8_t *) text, strlen(text), &s, &err), 0);
        if (!s) {
                free(err);
                return;
        }
        CHECK_EQ_INT(s->n_entries, 3);
        if (s->n_entries == 3) {
                CHECK_EQ_INT(s->entries[0].region, STORAGE_REGION_BOOT1);
                CHECK_EQ_INT(s->entries[1].region, STORAGE_REGION_RPMB);
                CHECK_EQ_INT(s->entries[2].region, STORAGE_REGION_USER);
        }
        scatter_file_free(s);
}

TAP_MAIN(TEST_ENTRY(type_names), TEST_ENTRY(region_names), TEST_ENTRY(legacy_da_numbers), TEST_ENTRY(id_hex),
         TEST_ENTRY(scatter_regions))

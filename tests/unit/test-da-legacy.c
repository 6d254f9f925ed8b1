/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "chip-table.h"
#include "da-legacy.h"
#include "macro.h"
#include "tap.h"

#define USER_SIZE 0x3a3e00000ull

/* A DA2 report as da.md §2.8 lays it out: n NAND ids, the 64-bit or the
 * 32-bit NAND size, the MT8127/MT8163 word before the tail if asked. */
static size_t make_report(uint8_t *b, unsigned n, bool nand32, bool extra, uint8_t soc) {
        size_t o = 0;

        memset(b, 0, 512);
        unaligned_write_be32(b, DA_STATUS_NOR_NOT_FOUND);
        o = DA_REPORT_NOR_LEN;
        unaligned_write_be32(b + o, DA_NAND_RET_NOT_FOUND);
        if (nand32) {
                /* {u32 ret, u8 cs, u16 id, u32 size, u16 count}: count at 0x27 */
                unaligned_write_be16(b + o + 11, (uint16_t) n);
                o += 13;
        } else {
                unaligned_write_be16(b + o + 15, (uint16_t) n);
                o += 17;
        }
        for (unsigned i = 0; i < n; i++)
                unaligned_write_be16(b + o + 2 * i, nand32 && i == 1 ? 0 : (uint16_t) (0x100 + i));
        o += 2 * n + DA_REPORT_NAND_GEOMETRY_LEN;
        /* eMMC block */
        unaligned_write_be32(b + o, 0);
        unaligned_write_be64(b + o + 0x04, 0x400000);
        unaligned_write_be64(b + o + 0x0c, 0x400000);
        unaligned_write_be64(b + o + 0x14, 0x400000);
        unaligned_write_be64(b + o + 0x3c, USER_SIZE);
        for (unsigned i = 0; i < DA_EMMC_CID_LEN; i++)
                b[o + 0x44 + i] = (uint8_t) (0xa0 + i);
        o += DA_REPORT_EMMC_LEN + DA_REPORT_SD_LEN;
        unaligned_write_be64(b + o + 0x0e, 0xc0000000ull);
        o += DA_REPORT_RAM_LEN;
        if (extra)
                o += DA_REPORT_MT8163_EXTRA;
        b[o] = DA_ACK;
        b[o + DA_REPORT_TAIL_LEN - 1] = soc;
        return o + DA_REPORT_TAIL_LEN;
}

TEST(report_64bit) {
        uint8_t b[512];
        DaLegacyReport r = {};
        size_t len = make_report(b, 7, false, false, DA_SOC_OK);

        CHECK_EQ_INT(len, DA_REPORT_LEN_N7);
        CHECK_EQ_INT(da_legacy_report_len(b, DA_REPORT_HEAD_LEN, false), len);
        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), 0);
        CHECK_EQ_INT(r.user_size, USER_SIZE);
        CHECK_EQ_INT(r.boot1_size, 0x400000);
        CHECK_EQ_INT(r.ram_size, 0xc0000000ull);
        CHECK_EQ_INT(r.cid[0], 0xa0);
        CHECK_EQ_INT(r.cid[15], 0xaf);
        CHECK_EQ_INT(r.nand_32bit, false);
        CHECK_EQ_INT(r.n_nand_ids, 7);
        CHECK_EQ_INT(r.soc_status, DA_SOC_OK);
        /* one byte short or long is malformed, and so is a short head */
        CHECK_EQ_INT(da_legacy_parse_report(b, len - 1, false, &r), -EBADMSG);
        CHECK_EQ_INT(da_legacy_parse_report(b, len + 1, false, &r), -EBADMSG);
        CHECK_EQ_INT(da_legacy_report_len(b, DA_REPORT_HEAD_LEN - 1, false), 0);
}

TEST(report_32bit_nand) {
        /* §2.8: count 0 at 0x2B means {u32, u8, u16, u32 size, u16 count} */
        uint8_t b[512];
        DaLegacyReport r = {};

        for (unsigned n = 0; n <= 8; n++) {
                size_t len = make_report(b, n, true, false, DA_SOC_OK);

                if (n >= 2)
                        CHECK_EQ_INT(unaligned_read_be16(b + DA_REPORT_NAND_COUNT_OFF), 0);
                if (unaligned_read_be16(b + DA_REPORT_NAND_COUNT_OFF) != 0)
                        continue; /* the second id is where the 64-bit count would be */
                CHECK_EQ_INT(len, DA_REPORT_LEN_N7 - 4 - 2 * 7 + 2 * n);
                CHECK_EQ_INT(da_legacy_report_len(b, DA_REPORT_HEAD_LEN, false), len);
                CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), 0);
                CHECK_EQ_INT(r.nand_32bit, true);
                CHECK_EQ_INT(r.n_nand_ids, n);
                CHECK_EQ_INT(r.user_size, USER_SIZE);
                CHECK_EQ_INT(r.cid[3], 0xa3);
        }
}

TEST(report_extra_word) {
        uint8_t b[512];
        DaLegacyReport r = {};
        size_t len = make_report(b, 7, false, true, DA_SOC_OK);

        CHECK(da_legacy_report_extra_word(0x8163));
        CHECK(da_legacy_report_extra_word(0x8127));
        CHECK(!da_legacy_report_extra_word(0x6735));
        CHECK_EQ_INT(len, DA_REPORT_LEN_N7 + 4);
        CHECK_EQ_INT(da_legacy_report_len(b, DA_REPORT_HEAD_LEN, true), len);
        CHECK_EQ_INT(da_legacy_parse_report(b, len, true, &r), 0);
        CHECK_EQ_INT(r.user_size, USER_SIZE);
        /* read without the word, the tail's 5A is not where it belongs */
        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), -EBADMSG);
}

TEST(report_soc_byte_not_required) {
        uint8_t b[512];
        DaLegacyReport r = {};
        size_t len = make_report(b, 7, false, false, 0x00);

        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), 0);
        CHECK_EQ_INT(r.soc_status, 0x00);
        /* but the tail's ACK is */
        b[len - DA_REPORT_TAIL_LEN] = 0x00;
        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), -EBADMSG);
}

TEST(report_implausible_count) {
        uint8_t b[512];
        DaLegacyReport r = {};
        size_t len = make_report(b, 7, false, false, DA_SOC_OK);

        unaligned_write_be16(b + DA_REPORT_NAND_COUNT_OFF, DA_NAND_IDS_MAX + 1);
        CHECK_EQ_INT(da_legacy_report_len(b, DA_REPORT_HEAD_LEN, false), 0);
        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), -EBADMSG);
}

TEST(describe_bytes) {
        uint8_t b[40];
        char s[96];

        for (unsigned i = 0; i < sizeof(b); i++)
                b[i] = (uint8_t) i;
        da_legacy_describe_bytes(b, 3, s, sizeof(s));
        CHECK_EQ_STR(s, "3 bytes: 00 01 02");
        da_legacy_describe_bytes(b, sizeof(b), s, sizeof(s));
        CHECK_EQ_STR(s, "40 bytes: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f …");
        da_legacy_describe_bytes(b, sizeof(b), s, 12);
        CHECK_EQ_INT(strlen(s), 11);
}

static size_t sum_fields(const DaLegacyConfig *c) {
        size_t n = 0;

        for (unsigned i = 0; i < c->n_fields; i++)
                n += c->field_len[i];
        return n;
}

TEST(config_mt6735) {
        /* da.md §2.5: ss bb 00 08 00 70 07 FF FF 01 00 00 00 00 01 01 02 00,
         * in OUT transfers of 1, 1, 2, 1, 4, 1, 4, 1, 1, 1, 1 */
        static const uint8_t want[] = { 0xff, 0x01, 0x00, 0x08, 0x00, 0x70, 0x07, 0xff, 0xff,
                                        0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00 };
        static const uint8_t sizes[] = { 1, 1, 2, 1, 4, 1, 4, 1, 1, 1, 1 };
        BromIdentity id = { .chip = chip_table_lookup(0x0321), .brom_version = 0xff, .bl_version = 0x01 };
        DaLegacyConfig c;

        da_legacy_build_config(&id, true, &c);
        CHECK_EQ_INT(c.len, sizeof(want));
        CHECK(memcmp(c.data, want, sizeof(want)) == 0);
        CHECK_EQ_INT(c.n_fields, sizeof(sizes));
        CHECK(memcmp(c.field_len, sizes, sizeof(sizes)) == 0);
        CHECK_EQ_INT(sum_fields(&c), c.len);
}

TEST(config_tails) {
        BromIdentity id = { .brom_version = 0x05, .bl_version = 0xfe };
        DaLegacyConfig c;

        /* MT6592 on eMMC: BMT size 0x1500000, u32 is_gpt_solution */
        id.chip = chip_table_lookup(0x6592);
        da_legacy_build_config(&id, true, &c);
        CHECK_EQ_INT(c.len, DA_CONFIG_LEN + 4);
        CHECK_EQ_INT(unaligned_read_be32(c.data + 10), 0x1500000);
        CHECK_EQ_INT(c.n_fields, 12);
        CHECK_EQ_INT(c.field_len[11], 4);
        CHECK_EQ_INT(sum_fields(&c), c.len);
        /* ... and on NAND no BMT size */
        da_legacy_build_config(&id, false, &c);
        CHECK_EQ_INT(unaligned_read_be32(c.data + 10), 0);

        /* MT8127: u32 0, u32 1, 20 bytes; BMT size on eMMC */
        id.chip = chip_table_lookup(0x8127);
        CHECK(id.chip != NULL);
        da_legacy_build_config(&id, true, &c);
        CHECK_EQ_INT(c.len, DA_CONFIG_LEN + DA_CONFIG_TAIL_LEN_MT8127);
        CHECK_EQ_INT(unaligned_read_be32(c.data + 10), 0x1500000);
        CHECK_EQ_INT(unaligned_read_be32(c.data + 18), 0);
        CHECK_EQ_INT(unaligned_read_be32(c.data + 22), 1);
        CHECK_EQ_INT(c.data[26], 0x46);
        CHECK_EQ_INT(c.data[26 + 16], 0xff);
        CHECK_EQ_INT(c.n_fields, 14);
        CHECK_EQ_INT(c.field_len[13], 20);
        CHECK_EQ_INT(sum_fields(&c), c.len);

        /* MT8163: u32 slc_percent 1, 20 bytes; no BMT size */
        id.chip = chip_table_lookup(0x8163);
        da_legacy_build_config(&id, true, &c);
        CHECK_EQ_INT(c.len, DA_CONFIG_LEN + DA_CONFIG_TAIL_LEN_SLC);
        CHECK_EQ_INT(unaligned_read_be32(c.data + 10), 0);
        CHECK_EQ_INT(unaligned_read_be32(c.data + 18), 1);
        CHECK_EQ_INT(c.n_fields, 13);
        CHECK_EQ_INT(sum_fields(&c), c.len);
        /* the answers to FF and FE lead */
        CHECK_EQ_INT(c.data[0], 0x05);
        CHECK_EQ_INT(c.data[1], 0xfe);
}

TEST(sync_storage) {
        static const uint8_t no_nand[8] = { 0 }, nand[8] = { 0x00, 0xec };
        uint8_t cid[DA_EMMC_CID_LEN] = { 0x15, 0x01 }, no_cid[DA_EMMC_CID_LEN] = { 0 };

        CHECK(da_legacy_sync_says_emmc(no_nand, 4, cid));
        CHECK(da_legacy_sync_says_emmc(no_nand, 0, cid));
        CHECK(!da_legacy_sync_says_emmc(nand, 4, cid));
        CHECK(!da_legacy_sync_says_emmc(no_nand, 4, no_cid));
}

TEST(checksum16) {
        static const uint8_t d[] = { 0xff, 0xff, 0x02 };

        CHECK_EQ_INT(da_legacy_checksum16(d, sizeof(d)), 0x0200);
        CHECK_EQ_INT(da_legacy_checksum16(d, 0), 0);
}

/* What no eMMC can be (2 TiB and more): every bound checked against it would be void. */
TEST(report_user_size_bounded) {
        uint8_t b[512];
        DaLegacyReport r = {};
        size_t len = make_report(b, 7, false, false, DA_SOC_OK);
        size_t emmc = DA_REPORT_NOR_LEN + 17 + 2 * 7 + DA_REPORT_NAND_GEOMETRY_LEN;

        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), 0);
        CHECK_EQ_INT(r.user_size, USER_SIZE);
        unaligned_write_be64(b + emmc + 0x3c, 4ull << 40);
        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), -ERANGE);
        unaligned_write_be64(b + emmc + 0x3c, UINT64_MAX);
        CHECK_EQ_INT(da_legacy_parse_report(b, len, false, &r), -ERANGE);
}

TAP_MAIN(TEST_ENTRY(report_64bit), TEST_ENTRY(report_32bit_nand), TEST_ENTRY(report_extra_word),
         TEST_ENTRY(report_soc_byte_not_required), TEST_ENTRY(report_implausible_count), TEST_ENTRY(describe_bytes),
         TEST_ENTRY(config_mt6735), TEST_ENTRY(config_tails), TEST_ENTRY(sync_storage), TEST_ENTRY(checksum16), TEST_ENTRY(report_user_size_bounded))

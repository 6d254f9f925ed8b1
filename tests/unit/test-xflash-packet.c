/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zlib.h>

#include "macro.h"
#include "partition-table.h"
#include "tap.h"
#include "xflash-packet.h"

/* Feeds a byte stream to the receiver the way the daemon does: exactly the
 * bytes it asks for, in order.  Returns its last verdict; *used the bytes taken. */
static int feed(XFlashRx *rx, const uint8_t *s, size_t n, size_t *used) {
        size_t off = 0;
        int r = 0;

        for (;;) {
                size_t want;
                uint8_t *p = xflash_rx_want(rx, &want);

                if (want == 0 || !p)
                        break;
                if (off + want > n) {
                        r = -ENODATA;
                        break;
                }
                memcpy(p, s + off, want);
                off += want;
                r = xflash_rx_got(rx);
                if (r != 0)
                        break;
        }
        *used = off;
        return r;
}

static size_t put_packet(uint8_t *b, uint32_t type, const void *payload, size_t len) {
        xflash_header_build(b, type, (uint32_t) len);
        memcpy(b + XFLASH_HEADER_SIZE, payload, len);
        return XFLASH_HEADER_SIZE + len;
}

/* §3: the example GET_PACKET_LENGTH bytes, byte for byte */
TEST(header_wire_bytes) {
        static const uint8_t want[] = { 0xef, 0xee, 0xee, 0xfe, 0x01, 0, 0, 0, 0x04, 0, 0, 0 };
        uint8_t h[XFLASH_HEADER_SIZE];
        uint32_t type, len;

        xflash_header_build(h, XFLASH_DT_PROTOCOL_FLOW, 4);
        CHECK(memcmp(h, want, sizeof(want)) == 0);
        CHECK_EQ_INT(xflash_header_parse(h, &type, &len), 0);
        CHECK_EQ_INT(type, 1);
        CHECK_EQ_INT(len, 4);
        h[0] = 0xee;
        CHECK_EQ_INT(xflash_header_parse(h, &type, &len), -EBADMSG);
        h[0] = 0xef;
        h[4] = 3;
        CHECK_EQ_INT(xflash_header_parse(h, &type, &len), -EPROTO);
}

/* §2.1: a DA log message (type 2) before the flow packet is skipped */
TEST(rx_skips_messages) {
        uint8_t s[256], dest[16];
        static const uint8_t status[4] = { 0x53, 0x59, 0x4e, 0x43 };
        static const uint8_t msg[] = { 2, 0, 0, 0, 'h', 'e', 'l', 'l', 'o' };
        size_t n = 0, used;
        XFlashRx rx;
        uint32_t code;

        n += put_packet(s + n, XFLASH_DT_MESSAGE, msg, sizeof(msg));
        n += put_packet(s + n, XFLASH_DT_MESSAGE, msg, 0);
        n += put_packet(s + n, XFLASH_DT_PROTOCOL_FLOW, status, sizeof(status));
        xflash_rx_begin(&rx, dest, sizeof(dest));
        CHECK_EQ_INT(feed(&rx, s, n, &used), 1);
        CHECK_EQ_INT(used, n);
        CHECK_EQ_INT(rx.n_messages, 2);
        CHECK_EQ_INT(rx.len, 4);
        CHECK_EQ_INT(xflash_status_parse(dest, rx.len, &code), 0);
        CHECK_EQ_INT(code, XFLASH_STATUS_SYNC);
}

/* Two packets merged in one stream: the first ends exactly at its length,
 * the second starts right after. */
TEST(rx_merged_packets) {
        uint8_t s[64], dest[8];
        static const uint8_t a[4] = { 0, 0, 0, 0 }, b[8] = { 0, 0, 0x10, 0, 0, 0, 0x10, 0 };
        size_t n = 0, used, used2;
        uint32_t w, rd;
        XFlashRx rx;

        n += put_packet(s + n, XFLASH_DT_PROTOCOL_FLOW, a, sizeof(a));
        n += put_packet(s + n, XFLASH_DT_PROTOCOL_FLOW, b, sizeof(b));
        xflash_rx_begin(&rx, dest, sizeof(dest));
        CHECK_EQ_INT(feed(&rx, s, n, &used), 1);
        CHECK_EQ_INT(used, 16);
        xflash_rx_begin(&rx, dest, sizeof(dest));
        CHECK_EQ_INT(feed(&rx, s + used, n - used, &used2), 1);
        CHECK_EQ_INT(used2, 20);
        CHECK_EQ_INT(xflash_parse_packet_length(dest, rx.len, &w, &rd), 0);
        CHECK_EQ_INT(w, 0x100000);
        CHECK_EQ_INT(rd, 0x100000);
}

TEST(rx_rejects) {
        uint8_t s[64], dest[4];
        static const uint8_t big[8] = {};
        size_t used;
        XFlashRx rx;

        /* longer than the caller takes */
        put_packet(s, XFLASH_DT_PROTOCOL_FLOW, big, sizeof(big));
        xflash_rx_begin(&rx, dest, sizeof(dest));
        CHECK_EQ_INT(feed(&rx, s, sizeof(s), &used), -EMSGSIZE);
        CHECK_EQ_INT(rx.len, 8);
        /* garbage instead of a header */
        memset(s, 0x5a, sizeof(s));
        xflash_rx_begin(&rx, dest, sizeof(dest));
        CHECK_EQ_INT(feed(&rx, s, sizeof(s), &used), -EBADMSG);
        /* a "message" too long to be one */
        xflash_header_build(s, XFLASH_DT_MESSAGE, XFLASH_MESSAGE_MAX + 1);
        xflash_rx_begin(&rx, dest, sizeof(dest));
        CHECK_EQ_INT(feed(&rx, s, sizeof(s), &used), -EPROTO);
        /* a zero-length flow packet is complete at once */
        xflash_header_build(s, XFLASH_DT_PROTOCOL_FLOW, 0);
        xflash_rx_begin(&rx, dest, sizeof(dest));
        CHECK_EQ_INT(feed(&rx, s, XFLASH_HEADER_SIZE, &used), 1);
        CHECK_EQ_INT(rx.len, 0);
}

TEST(statuses) {
        static const uint8_t u16ok[2] = { 0, 0 }, hash[4] = { 0x04, 0x00, 0x07, 0xc0 };
        char buf[XFLASH_STATUS_DESCRIBE_MAX];
        uint32_t code = 1;

        CHECK_EQ_INT(xflash_status_parse(u16ok, 2, &code), 0);
        CHECK_EQ_INT(code, 0);
        CHECK_EQ_INT(xflash_status_parse(hash, 4, &code), 0);
        CHECK_EQ_INT(code, XFLASH_STATUS_DA_HASH_MISMATCH);
        CHECK_EQ_INT(xflash_status_parse(hash, 3, &code), -EBADMSG);
        CHECK_EQ_STR(xflash_status_describe(code, buf, sizeof(buf)), "0xc0070004 (DA hash mismatch)");
        CHECK(strstr(xflash_status_remedy(code), "add-da") != NULL);
        CHECK(xflash_status_is_error(code));
        CHECK(!xflash_status_is_error(XFLASH_STATUS_SYNC));
        CHECK(strstr(xflash_status_remedy(XFLASH_STATUS_EMI_SETTING_VERSION_ERR), "preloader") != NULL);
        CHECK(strstr(xflash_status_remedy(XFLASH_STATUS_REMOTE_SEC_POLICY_OFF), "SLA") != NULL);
        /* §14: every error code of the table has a name and a remedy */
        static const uint32_t errors[] = {
                XFLASH_STATUS_ERROR, XFLASH_STATUS_ABORT, XFLASH_STATUS_UNSUPPORTED_CMD,
                XFLASH_STATUS_UNSUPPORTED_CTRL_CODE, XFLASH_STATUS_PROTOCOL_ERR,
                XFLASH_STATUS_PROTOCOL_BUFFER_OVERFLOW, XFLASH_STATUS_INSUFFICIENT_BUFFER, XFLASH_STATUS_INVALID_STAGE,
                XFLASH_STATUS_DL_FORBIDDEN, XFLASH_STATUS_WRITE_NOT_ALLOWED, XFLASH_STATUS_FORMAT_NOT_ALLOWED,
                XFLASH_STATUS_REMOTE_SEC_POLICY_OFF, XFLASH_STATUS_DA_ANTI_ROLLBACK, XFLASH_STATUS_DA_ANTI_ROLLBACK_OLD,
                XFLASH_STATUS_INVALID_GPT, XFLASH_STATUS_INVALID_PMT, XFLASH_STATUS_CHECKSUM_ERR,
                XFLASH_STATUS_PARTITION_NOT_FOUND, XFLASH_STATUS_EXCEED_AVAILABLE_RANGE, XFLASH_STATUS_MMC_ERR,
                XFLASH_STATUS_EMI_SETTING_VERSION_ERR, XFLASH_STATUS_UFS_ERR, XFLASH_STATUS_EXT_RAM_EXCEPTION,
                XFLASH_STATUS_READ_DATA_EXCEPTION, XFLASH_STATUS_WRITE_DATA_EXCEPTION, XFLASH_STATUS_DA_HASH_MISMATCH,
                XFLASH_STATUS_DA_EXCEED_MAX_NUM,
        };
        for (size_t i = 0; i < ELEMENTSOF(errors); i++) {
                CHECK(xflash_status_to_string(errors[i]) != NULL);
                CHECK(strlen(xflash_status_remedy(errors[i])) > 10);
                CHECK(xflash_status_is_error(errors[i]));
        }
        /* unknown: the hex alone, and still a remedy */
        CHECK_EQ_STR(xflash_status_describe(0xc0991234u, buf, sizeof(buf)), "0xc0991234");
        CHECK(strlen(xflash_status_remedy(0xc0991234u)) > 10);
}

/* §10.1: the nvram example of the MT6765 trace, byte for byte */
TEST(rw_param) {
        static const uint8_t want[24] = { 0x01, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 0x20, 0x18, 0, 0, 0, 0,
                                          0, 0, 0, 0x04, 0, 0, 0, 0 };
        uint8_t p[XFLASH_RW_PARAM_SIZE];
        static const uint8_t zero[32];

        xflash_build_rw_param(p, XFLASH_STORAGE_EMMC, XFLASH_EMMC_PART_USER, 0x18200000, 0x4000000);
        CHECK(memcmp(p, want, sizeof(want)) == 0);
        CHECK(memcmp(p + 24, zero, 32) == 0);
}

/* §6.2 mtkclient's bytes; §9.1 the MT6765 BOOT_TO; §13 the reboot form */
TEST(blocks) {
        static const uint8_t env[20] = { 2, 0, 0, 0, 1, 0, 0, 0, 1 };
        static const uint8_t boot[16] = { 0, 0, 0, 0x40, 0, 0, 0, 0, 0x1c, 0x72, 0x04 };
        uint8_t e[XFLASH_ENV_SIZE], b[XFLASH_BOOT_TO_PARAM_SIZE], s[XFLASH_SHUTDOWN_PARAM_SIZE];
        static const uint8_t zero[28];

        xflash_build_env(e);
        CHECK(memcmp(e, env, sizeof(env)) == 0);
        xflash_build_boot_to(b, 0x40000000, 0x4731c - 0x100);
        CHECK(memcmp(b, boot, sizeof(boot)) == 0);
        xflash_build_shutdown(s, true);
        CHECK_EQ_INT(s[0], 1);
        CHECK(memcmp(s + 4, zero, 24) == 0);
        xflash_build_shutdown(s, false);
        CHECK(memcmp(s, zero, 28) == 0);
}

/* §11: a 0x123457-byte file padded to 0x123600, chunks of 0x100000: the
 * checksum is the byte sum's low 16 bits */
TEST(checksum) {
        uint8_t b[1024];

        memset(b, 0xff, sizeof(b));
        CHECK_EQ_INT(xflash_checksum(b, sizeof(b)), (1024 * 255) & 0xffff);
        CHECK_EQ_INT(xflash_checksum(b, 0), 0);
        b[0] = 1;
        CHECK_EQ_INT(xflash_checksum(b, 1), 1);
}

TEST(emmc_info) {
        uint8_t b[XFLASH_EMMC_INFO_SIZE_NEW] = {};
        XFlashEmmcInfo e;

        unaligned_write_le32(b, XFLASH_EMMC_TYPE_EMMC);
        unaligned_write_le32(b + 4, 0x200);
        unaligned_write_le64(b + 0x08, 0x400000);
        unaligned_write_le64(b + 0x10, 0x400000);
        unaligned_write_le64(b + 0x18, 0x1000000);
        unaligned_write_le64(b + 0x40, 0x747c00000ull);
        for (unsigned i = 0; i < 16; i++)
                b[0x48 + i] = (uint8_t) (0x90 + i);
        CHECK_EQ_INT(xflash_parse_emmc_info(b, sizeof(b), &e), 0);
        CHECK_EQ_INT(e.type, 1);
        CHECK_EQ_INT(e.user_size, 0x747c00000ull);
        CHECK_EQ_INT(e.rpmb_size, 0x1000000);
        CHECK_EQ_INT(e.cid[0], 0x90);
        CHECK_EQ_INT(e.cid[15], 0x9f);
        CHECK_EQ_INT(xflash_parse_emmc_info(b, XFLASH_EMMC_INFO_SIZE_OLD, &e), 0);
        CHECK_EQ_INT(xflash_parse_emmc_info(b, XFLASH_EMMC_INFO_SIZE_OLD - 1, &e), -EBADMSG);
}

TEST(ufs_info) {
        uint8_t b[XFLASH_UFS_INFO_SIZE] = {};
        XFlashUfsInfo u;

        unaligned_write_le32(b, XFLASH_UFS_TYPE_UFS);
        unaligned_write_le32(b + 4, 0x1000);
        unaligned_write_le64(b + 0x08, 0x400000);
        unaligned_write_le64(b + 0x10, 0x400000);
        unaligned_write_le64(b + 0x18, 0x1d1c000000ull);
        memcpy(b + 0x22, "KLUDG4UHDB-B2D1", 15);
        memcpy(b + 0x3e, "SERIAL0123", 10);
        CHECK_EQ_INT(xflash_parse_ufs_info(b, sizeof(b), &u), 0);
        CHECK_EQ_INT(u.type, 0x30);
        CHECK_EQ_INT(u.block_size, 0x1000);
        CHECK_EQ_INT(u.lu2_size, 0x1d1c000000ull);
        CHECK_EQ_INT(u.serial_len, 10);
        CHECK(memcmp(u.serial, "SERIAL0123", 10) == 0);
        CHECK(memcmp(u.cid, "KLUDG4UHDB-B2D1", 15) == 0);
        /* the old 0x34-byte layout: cid at 0x20, no serial */
        CHECK_EQ_INT(xflash_parse_ufs_info(b, XFLASH_UFS_INFO_SIZE_V1, &u), 0);
        CHECK_EQ_INT(u.serial_len, 0);
        CHECK_EQ_INT(u.cid_len, 16);
        CHECK_EQ_INT(xflash_parse_ufs_info(b, XFLASH_UFS_INFO_SIZE_V1 - 1, &u), -EBADMSG);
}

TEST(small_getters) {
        static const uint8_t chip[10] = { 0x66, 0x07, 0x00, 0x8a, 0x00, 0xca, 0, 0, 0, 0 };
        XFlashChipId c;
        char s[16];

        CHECK_EQ_INT(xflash_parse_chip_id(chip, sizeof(chip), &c), 0);
        CHECK_EQ_INT(c.hw_code, 0x0766);
        CHECK_EQ_INT(c.hw_sub_code, 0x8a00);
        CHECK_EQ_INT(c.hw_version, 0xca00);
        CHECK_EQ_INT(xflash_parse_chip_id(chip, 9, &c), -EBADMSG);
        CHECK(xflash_payload_is((const uint8_t *) "preloader", 9, XFLASH_AGENT_PRELOADER));
        /* §19.7: byte-exact, a trailing NUL is another answer */
        CHECK(!xflash_payload_is((const uint8_t *) "preloader", 10, XFLASH_AGENT_PRELOADER));
        CHECK(!xflash_payload_is((const uint8_t *) "brom", 4, XFLASH_AGENT_PRELOADER));
        xflash_payload_to_string((const uint8_t *) "hi\x01gh", 5, s, sizeof(s));
        CHECK_EQ_STR(s, "hi.gh");
}

/* xflash.md §15.1: a UFS GPT counts 4096-byte sectors (header at byte
 * 4096, entries at LBA 2), which gpt_parse() tells from where the header is. */
TEST(gpt_4k_sectors) {
        enum { S = 4096 };
        static uint8_t d[0x8000];
        uint8_t *h = d + S, *e = d + 2 * S;
        PartitionTable *t = NULL;
        const Partition *p;
        char *err = NULL;

        memset(d, 0, sizeof(d));
        memcpy(h, "EFI PART", 8);
        unaligned_write_le32(h + 8, 0x10000);
        unaligned_write_le32(h + 12, 92);
        unaligned_write_le64(h + 24, 1);
        unaligned_write_le64(h + 40, 6);
        unaligned_write_le64(h + 48, 0x100000 - 6);
        unaligned_write_le64(h + 72, 2);
        unaligned_write_le32(h + 80, 128);
        unaligned_write_le32(h + 84, 128);
        /* nvram at LBA 0x1000 (byte 0x1000000), 0x1000 blocks = 16 MiB */
        e[0] = 1;
        unaligned_write_le64(e + 32, 0x1000);
        unaligned_write_le64(e + 40, 0x1fff);
        for (unsigned i = 0; i < 5; i++)
                e[56 + 2 * i] = (uint8_t) "nvram"[i];
        unaligned_write_le32(h + 88, (uint32_t) crc32(0, e, 128 * 128));
        unaligned_write_le32(h + 16, (uint32_t) crc32(0, h, 92));
        CHECK_EQ_INT(gpt_parse(d, sizeof(d), 0x100000ull * S, &t, &err), 0);
        if (!t)
                return;
        p = partition_table_find(t, "nvram");
        CHECK(p != NULL);
        if (p) {
                CHECK_EQ_INT(p->offset, 0x1000000);
                CHECK_EQ_INT(p->size, 0x1000000);
        }
        partition_table_free(t);
        free(err);
}

TAP_MAIN(TEST_ENTRY(header_wire_bytes), TEST_ENTRY(rx_skips_messages), TEST_ENTRY(rx_merged_packets),
         TEST_ENTRY(rx_rejects), TEST_ENTRY(statuses), TEST_ENTRY(rw_param), TEST_ENTRY(blocks), TEST_ENTRY(checksum),
         TEST_ENTRY(emmc_info), TEST_ENTRY(ufs_info), TEST_ENTRY(small_getters), TEST_ENTRY(gpt_4k_sectors))

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "brom.h"
#include "tap.h"

TEST(handshake_complements) {
        /* brom.md §2.1: A0 0A 50 05 are answered 5F F5 AF FA */
        static const uint8_t answers[] = { 0x5f, 0xf5, 0xaf, 0xfa };

        for (unsigned i = 0; i < 4; i++) {
                CHECK_EQ_INT(brom_handshake_classify(i, answers[i]), BROM_HANDSHAKE_MATCH);
                /* a preloader answers a wrong byte with byte + 1 (§2.2) */
                CHECK_EQ_INT(brom_handshake_classify(i, (uint8_t) (brom_handshake_byte((i + 1) % 4) + 1)),
                             BROM_HANDSHAKE_MISMATCH);
        }
        CHECK_EQ_INT(brom_handshake_byte(0), 0xa0);
        CHECK_EQ_INT(brom_handshake_byte(3), 0x05);
}

TEST(handshake_ready_is_noise) {
        for (const char *p = "READY"; *p; p++)
                CHECK_EQ_INT(brom_handshake_classify(0, (uint8_t) *p), BROM_HANDSHAKE_NOISE);
        CHECK_EQ_INT(brom_handshake_classify(0, 0x00), BROM_HANDSHAKE_MISMATCH);
        CHECK_EQ_INT(brom_handshake_classify(1, 0x5f), BROM_HANDSHAKE_MISMATCH);
}

TEST(parse_hw_code) {
        /* §3.3 example for MT6735: 03 21 00 00 */
        static const uint8_t ok[4] = { 0x03, 0x21, 0x00, 0x00 };
        static const uint8_t bad[4] = { 0x03, 0x21, 0x1d, 0x02 };
        uint16_t code, status;

        CHECK_EQ_INT(brom_parse_hw_code(ok, &code, &status), 0);
        CHECK_EQ_INT(code, 0x0321);
        CHECK_EQ_INT(status, 0);
        CHECK_EQ_INT(brom_parse_hw_code(bad, &code, &status), -EBADMSG);
        CHECK_EQ_INT(status, 0x1d02);
}

TEST(parse_hw_sw_ver) {
        static const uint8_t b[8] = { 0x8a, 0x00, 0xca, 0x00, 0x00, 0x00, 0x00, 0x00 };
        BromIdentity id = {};

        CHECK_EQ_INT(brom_parse_hw_sw_ver(b, &id), 0);
        CHECK_EQ_INT(id.hw_sub_code, 0x8a00);
        CHECK_EQ_INT(id.hw_version, 0xca00);
        CHECK_EQ_INT(id.sw_version, 0);
}

TEST(parse_target_config) {
        static const uint8_t b[6] = { 0x00, 0x00, 0x00, 0xe5, 0x00, 0x00 };
        static const uint8_t err[6] = { 0x00, 0x00, 0x00, 0x00, 0x1d, 0x0d };
        uint32_t cfg;
        uint16_t status;
        char flags[64];

        CHECK_EQ_INT(brom_parse_target_config(b, &cfg, &status), 0);
        CHECK_EQ_INT(cfg, 0xe5);
        CHECK_EQ_INT(brom_target_config_flags(cfg, flags, sizeof(flags)), 0);
        CHECK_EQ_STR(flags, "SBC+DAA+MEMREAD+MEMWRITE+CMD_C8");
        CHECK_EQ_INT(brom_parse_target_config(err, &cfg, &status), -EBADMSG);
        CHECK_EQ_INT(brom_target_config_flags(0, flags, sizeof(flags)), 0);
        CHECK_EQ_STR(flags, "none");
        CHECK_EQ_INT(brom_target_config_flags(0xe7, flags, 8), -ENOBUFS);
}

TEST(status_words) {
        CHECK(brom_status_ok(0));
        CHECK(brom_status_ok(0xff));
        CHECK(!brom_status_ok(0x100));
        CHECK(strstr(brom_status_to_string(0x179d), "6045") != NULL);
        CHECK(strstr(brom_status_to_string(0x1d0d), "serial-link") != NULL);
        CHECK(strstr(brom_status_to_string(0x2001), "signature") != NULL);
        CHECK(strstr(brom_status_to_string(0x7777), "unknown") != NULL);
}

TEST(security_advice) {
        CHECK(brom_target_config_advice(0) == NULL);
        CHECK(strstr(brom_target_config_advice(BROM_TGT_CFG_SBC), "backups work") != NULL);
        CHECK(strstr(brom_target_config_advice(BROM_TGT_CFG_DAA), "signed Download Agent") != NULL);
        CHECK(strstr(brom_target_config_advice(BROM_TGT_CFG_SLA | BROM_TGT_CFG_DAA), "cannot work around") != NULL);
}

TEST(hex) {
        static const uint8_t b[3] = { 0x00, 0xab, 0x7f };
        char s[7];

        brom_hex(b, 3, s);
        CHECK_EQ_STR(s, "00ab7f");
        brom_hex(b, 0, s);
        CHECK_EQ_STR(s, "");
}

TAP_MAIN(TEST_ENTRY(handshake_complements), TEST_ENTRY(handshake_ready_is_noise), TEST_ENTRY(parse_hw_code),
         TEST_ENTRY(parse_hw_sw_ver), TEST_ENTRY(parse_target_config), TEST_ENTRY(status_words),
         TEST_ENTRY(security_advice), TEST_ENTRY(hex))

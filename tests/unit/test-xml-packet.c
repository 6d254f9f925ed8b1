/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "macro.h"
#include "tap.h"
#include "xml-packet.h"

#define P "<?xml version=\"1.0\" encoding=\"utf-8\"?>"

/* A built document is the text, one NUL, and its length counts the NUL. */
static void check_doc(int *tap_failed_, int r, char *doc, size_t len, const char *want, size_t want_len) {
        CHECK_EQ_INT(r, 0);
        if (r < 0)
                return;
        CHECK_EQ_INT(len, want_len);
        CHECK_EQ_INT(len, strlen(want) + 1);
        CHECK_EQ_STR(doc, want);
        CHECK_EQ_INT(doc[len - 1], 0);
        free(doc);
}
#define CHECK_DOC(r, doc, len, want, want_len) check_doc(tap_failed_, r, doc, len, want, want_len)

/* §4.4 rows 2-4 and §9 rows 3-5: mtkclient's documents, byte for byte, and the payload lengths §9 counts */
TEST(da1_documents) {
        char *d = NULL;
        size_t n = 0;
        int r;

        r = xml_build_set_runtime_parameter(&d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.1</version><command>CMD:SET-RUNTIME-PARAMETER</command><arg><checksum_level>NONE"
                    "</checksum_level><battery_exist>AUTO-DETECT</battery_exist><da_log_level>INFO</da_log_level>"
                    "<log_channel>UART</log_channel><system_os>LINUX</system_os></arg><adv><initialize_dram>YES"
                    "</initialize_dram></adv></da>",
                  345);
        r = xml_build_host_supported_commands(&d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:HOST-SUPPORTED-COMMANDS</command><arg><host_capability>"
                    "CMD:DOWNLOAD-FILE^1@CMD:FILE-SYS-OPERATION^1@CMD:PROGRESS-REPORT^1@CMD:UPLOAD-FILE^1@"
                    "</host_capability></arg></da>",
                  247);
        r = xml_build_notify_init_hw(&d, &n);
        CHECK_DOC(r, d, n, P "<da><version>1.0</version><command>CMD:NOTIFY-INIT-HW</command></da>", 107);
        r = xml_build_set_host_info("20261201T194846", &d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:SET-HOST-INFO</command><arg><info>20261201T194846</info>"
                    "</arg></da>",
                  145);
        /* mtkclient's 238 bytes name its own buffer address 0x7fe83c09a04c; ours is 0x0 (§3.4): 11 fewer */
        r = xml_build_boot_to(0x40000000, 0x51004, &d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:BOOT-TO</command><arg><at_address>0x40000000</at_address>"
                    "<jmp_address>0x40000000</jmp_address><source_file>MEM://0x0:0x51004</source_file></arg></da>",
                  238 - 11);
}

/* §6: the READ-FLASH of the exact sequence, 231 bytes; §5.4, §5.5 */
TEST(da2_documents) {
        char *d = NULL;
        size_t n = 0;
        int r;

        r = xml_build_read_flash(XML_REGION_EMMC_USER, 0x18200000, 0x4000000, &d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:READ-FLASH</command><arg><partition>EMMC-USER</partition>"
                    "<offset>0x18200000</offset><length>0x4000000</length><target_file>ROM_0</target_file></arg></da>",
                  231);
        r = xml_build_write_flash(XML_REGION_UFS_LUA2, 0x18200000, 0x123600, &d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:WRITE-FLASH</command><arg><partition>UFS-LUA2</partition>"
                    "<offset>0x18200000</offset><source_file>MEM://0x0:0x123600</source_file></arg></da>",
                  strlen(P) + 180);
        r = xml_build_get_hw_info(0x200000, &d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:GET-HW-INFO</command><arg><target_file>MEM://0x0:0x200000"
                    "</target_file></arg></da>",
                  strlen(P) + 122);
        r = xml_build_get_sys_property(XML_SYS_PROP_DA_SLA, 0x200000, &d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:GET-SYS-PROPERTY</command><arg><key>DA.SLA</key>"
                    "<target_file>MEM://0x0:0x200000</target_file></arg></da>",
                  strlen(P) + 144);
        r = xml_build_reboot(XML_REBOOT_IMMEDIATE, &d, &n);
        CHECK_DOC(r, d, n,
                  P "<da><version>1.0</version><command>CMD:REBOOT</command><arg><action>IMMEDIATE</action></arg></da>",
                  strlen(P) + 98);
}

/* text is escaped by libxml2, never pasted; a bad element name is refused */
TEST(build_escapes_and_refuses) {
        XmlField f[] = { { "info", "a<b&c>" } };
        XmlField bad[] = { { "no space", "x" } };
        char *d = NULL;
        size_t n = 0;

        CHECK_EQ_INT(xml_build_command("1.0", "CMD:X", f, 1, NULL, 0, &d, &n), 0);
        CHECK_EQ_STR(d, P "<da><version>1.0</version><command>CMD:X</command><arg><info>a&lt;b&amp;c&gt;</info></arg>"
                          "</da>");
        free(d);
        CHECK_EQ_INT(xml_build_command("1.0", "CMD:X", bad, 1, NULL, 0, &d, &n), -EINVAL);
        CHECK_EQ_INT(xml_build_command("1.0", NULL, NULL, 0, NULL, 0, &d, &n), -EINVAL);
}

static int reply(const char *s, size_t extra_nuls, XmlReply *r) {
        uint8_t b[600] = {};

        memcpy(b, s, strlen(s));
        return xml_parse_reply(b, strlen(s) + extra_nuls, r);
}

/* §2.1, §3.2: the short replies; the text counts up to the first NUL */
TEST(replies) {
        XmlReply r;
        uint8_t out[XML_REPLY_MAX];

        CHECK_EQ_INT(reply("OK", 1, &r), 0);
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_OK);
        CHECK_EQ_INT(reply("OK", 2, &r), 0); /* mtkclient's 4-byte OK */
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_OK);
        CHECK_EQ_INT(reply("OK", 0, &r), 0);
        CHECK_EQ_INT(reply("OK@0x4000000", 1, &r), 0);
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_VALUE);
        CHECK(r.has_value);
        CHECK_EQ_INT(r.value, 0x4000000);
        CHECK_EQ_INT(reply("OK@0x51004", 2, &r), 0);
        CHECK_EQ_INT(r.value, 0x51004);
        CHECK_EQ_INT(reply("OK@4096", 1, &r), 0); /* penumbra's decimal */
        CHECK_EQ_INT(r.value, 4096);
        CHECK_EQ_INT(reply("OK@NOT-EXISTS", 1, &r), 0);
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_VALUE);
        CHECK(!r.has_value);
        CHECK_EQ_STR(r.text, "NOT-EXISTS");
        CHECK_EQ_INT(reply("OK!PROGRESS@42@init-hw", 1, &r), 0);
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_PROGRESS);
        CHECK_EQ_INT(r.percent, 42);
        CHECK_EQ_STR(r.text, "init-hw");
        CHECK_EQ_INT(reply("OK!PROGRESS@100", 1, &r), 0);
        CHECK_EQ_INT(r.percent, 100);
        CHECK_EQ_INT(reply("OK!EOT", 1, &r), 0);
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_EOT);
        CHECK_EQ_INT(reply("ERR!UNSUPPORTED", 1, &r), 0);
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_UNSUPPORTED);
        CHECK_EQ_INT(reply("ERR!CANCEL", 1, &r), 0);
        CHECK_EQ_INT(r.kind, XML_REPLY_KIND_ERROR);
        CHECK_EQ_STR(r.text, "ERR!CANCEL");

        /* not replies */
        CHECK_EQ_INT(reply("", 1, &r), -EBADMSG);
        CHECK_EQ_INT(reply("OKAY", 1, &r), -EBADMSG);
        CHECK_EQ_INT(reply("OK!PROGRESS@", 1, &r), -EBADMSG);
        CHECK_EQ_INT(reply("OK!PROGRESS@4x", 1, &r), -EBADMSG);
        CHECK_EQ_INT(reply("OK!FOO", 1, &r), -EBADMSG);
        CHECK_EQ_INT(reply("OK\x01", 1, &r), -EBADMSG);
        CHECK_EQ_INT(reply(P "<host/>", 1, &r), -EBADMSG);

        /* the host's own */
        CHECK_EQ_INT(xml_build_ok(out), 3);
        CHECK(memcmp(out, "OK\0", 3) == 0);
        CHECK_EQ_INT(xml_build_ok_value(out, 0x51004), 11);
        CHECK(memcmp(out, "OK@0x51004\0", 11) == 0);
        CHECK_EQ_INT(xml_build_ok_value(out, 0), 7);
        CHECK(memcmp(out, "OK@0x0\0", 7) == 0);
        CHECK_EQ_INT(xml_build_ok_value(out, UINT64_MAX), 22);
        CHECK(xml_payload_is_document((const uint8_t *) P, strlen(P)));
        CHECK(xml_payload_is_document((const uint8_t *) " \n<host>", 8));
        CHECK(!xml_payload_is_document((const uint8_t *) "OK", 3));
        CHECK(!xml_payload_is_document((const uint8_t *) "", 0));
}

TEST(numbers) {
        uint64_t v;

        CHECK_EQ_INT(xml_parse_number("0x1A", &v), 0);
        CHECK_EQ_INT(v, 26);
        CHECK_EQ_INT(xml_parse_number("0", &v), 0);
        CHECK_EQ_INT(v, 0);
        CHECK_EQ_INT(xml_parse_number("0xffffffffffffffff", &v), 0);
        CHECK(v == UINT64_MAX);
        CHECK_EQ_INT(xml_parse_number("0x10000000000000000", &v), -EINVAL);
        CHECK_EQ_INT(xml_parse_number("18446744073709551616", &v), -EINVAL);
        CHECK_EQ_INT(xml_parse_number("0x", &v), -EINVAL);
        CHECK_EQ_INT(xml_parse_number("", &v), -EINVAL);
        CHECK_EQ_INT(xml_parse_number("-1", &v), -EINVAL);
        CHECK_EQ_INT(xml_parse_number("12a", &v), -EINVAL);
        CHECK_EQ_INT(xml_parse_number(" 1", &v), -EINVAL);
}

static int doc(const char *s, XmlDoc *d) {
        return xml_parse_doc((const uint8_t *) s, strlen(s) + 1, d);
}

/* §3.1, §3.2 the DA's documents, as its format strings make them */
TEST(da_documents) {
        XmlDoc d;

        /* 102 bytes from a real DA; our stand-in's extra <arg></arg> too */
        CHECK_EQ_INT(strlen(P "<host><version>1.0</version><command>CMD:START</command></host>") + 1, 102);
        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:START</command></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_START);
        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:START</command><arg></arg></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_START);

        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:END</command><arg><result>OK</result><message>"
                           "Operation OK</message></arg></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_END);
        CHECK(d.result_ok);
        CHECK_EQ_STR(d.message, "Operation OK");
        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:END</command><arg><result>ERR</result><message>"
                           "Read length[4000] is larger than partition max size[2000]</message></arg></host>", &d), 0);
        CHECK(!d.result_ok);
        CHECK_EQ_STR(d.message, "Read length[4000] is larger than partition max size[2000]");
        /* an empty message is no message */
        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:END</command><arg><result>ERR</result><message>"
                           "</message></arg></host>", &d), 0);
        CHECK_EQ_STR(d.message, "");

        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:UPLOAD-FILE</command><arg><checksum>CHK_NO"
                           "</checksum><info></info><target_file>ROM_0</target_file><packet_length>0x100000"
                           "</packet_length></arg></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_UPLOAD_FILE);
        CHECK_EQ_INT(d.packet_length, 0x100000);
        CHECK_EQ_STR(d.file, "ROM_0");
        CHECK_EQ_STR(d.checksum, "CHK_NO");

        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:DOWNLOAD-FILE</command><arg><checksum>CHK_NO"
                           "</checksum><info>2nd-DA</info><source_file>MEM://0x0:0x51004</source_file><packet_length>"
                           "0x1000</packet_length></arg></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_DOWNLOAD_FILE);
        CHECK_EQ_INT(d.packet_length, 0x1000);
        CHECK_EQ_STR(d.info, "2nd-DA");
        CHECK_EQ_STR(d.file, "MEM://0x0:0x51004");

        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:FILE-SYS-OPERATION</command><arg><key>FILE-SIZE"
                           "</key><file_path>MEM://0x0:0x123600</file_path></arg></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_FILE_SYS_OPERATION);
        CHECK_EQ_STR(d.key, "FILE-SIZE");
        CHECK_EQ_STR(d.file, "MEM://0x0:0x123600");

        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:PROGRESS-REPORT</command><arg><message>init-hw"
                           "</message></arg></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_PROGRESS_REPORT);
        CHECK_EQ_STR(d.message, "init-hw");

        CHECK_EQ_INT(doc(P "<host><version>1.0</version><command>CMD:SOMETHING</command></host>", &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_OTHER);
        CHECK_EQ_STR(d.command, "CMD:SOMETHING");

        /* the prolog is optional to a parser, and trailing NULs do not count */
        CHECK_EQ_INT(xml_parse_doc((const uint8_t *) "<host><command>CMD:START</command></host>\0\0\0", 44, &d), 0);
        CHECK_EQ_INT(d.kind, XML_DOC_START);
}

/* what a DA document must not be */
TEST(malformed_documents) {
        static const char *bad[] = {
                "",
                "OK",
                P "<host><version>1.0</version><command>CMD:START</command>",          /* not closed */
                P "<da><version>1.0</version><command>CMD:START</command></da>",       /* the host's root */
                P "<host><version>1.0</version></host>",                               /* no command */
                P "<host><command></command></host>",
                P "<host><command>CMD:END</command></host>",                           /* no result */
                P "<host><command>CMD:END</command><arg><result>MAYBE</result></arg></host>",
                P "<host><command>CMD:UPLOAD-FILE</command><arg><packet_length>0</packet_length></arg></host>",
                P "<host><command>CMD:UPLOAD-FILE</command><arg><packet_length>big</packet_length></arg></host>",
                P "<host><command>CMD:UPLOAD-FILE</command><arg><packet_length>0x100000000</packet_length></arg>"
                  "</host>",
                P "<host><command>CMD:DOWNLOAD-FILE</command><arg></arg></host>",
                P "<host><command>CMD:FILE-SYS-OPERATION</command><arg><file_path>x</file_path></arg></host>",
                /* a DTD with entities: refused, never expanded */
                "<?xml version=\"1.0\"?><!DOCTYPE host [<!ENTITY a \"aaaa\">]><host><command>&a;</command></host>",
                "<host><command>CMD:START</command></host><host/>",
                "<host><command>CMD:\xff\xfe</command></host>",                         /* not UTF-8 */
        };
        XmlDoc d;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = doc(bad[i], &d);

                if (r != -EBADMSG)
                        printf("#   case %zu: %d\n", i, r);
                CHECK_EQ_INT(r, -EBADMSG);
        }
        /* binary data is no document */
        CHECK_EQ_INT(xml_parse_doc((const uint8_t *) "\x00<host>", 7, &d), -EBADMSG);
}

#define HW_EMMC                                                                                                      \
        P "<da_hw_info><version>1.2</version><ram_size>0x100000000</ram_size><battery_voltage>3900</battery_voltage>" \
          "<random_id>0123</random_id><storage>EMMC</storage><emmc><block_size>0x200</block_size><boot1_size>"        \
          "0x400000</boot1_size><boot2_size>0x400000</boot2_size><rpmb_size>0x1000000</rpmb_size><user_size>"         \
          "0x3a3e00000</user_size><gp1_size>0</gp1_size><gp2_size>0</gp2_size><gp3_size>0</gp3_size><gp4_size>0"      \
          "</gp4_size><id>150100444836444142028D2A2AC0B3AB</id></emmc><product_id>DH6DAB</product_id></da_hw_info>"

/* §5.1 the da_hw_info documents, eMMC and UFS, and the emmc_cid/ufs_cid variants */
TEST(hw_info) {
        static const uint8_t cid[] = { 0x15, 0x01, 0x00, 0x44, 0x48, 0x36, 0x44, 0x41,
                                       0x42, 0x02, 0x8d, 0x2a, 0x2a, 0xc0, 0xb3, 0xab };
        XmlHwInfo h;
        const char *s;

        CHECK_EQ_INT(xml_parse_hw_info((const uint8_t *) HW_EMMC, sizeof(HW_EMMC), &h), 0);
        CHECK(h.emmc && !h.ufs);
        CHECK_EQ_STR(h.storage, "EMMC");
        CHECK_EQ_INT(h.block_size, 0x200);
        CHECK_EQ_INT(h.boot1_size, 0x400000);
        CHECK_EQ_INT(h.boot2_size, 0x400000);
        CHECK_EQ_INT(h.rpmb_size, 0x1000000);
        CHECK_EQ_INT(h.user_size, 0x3a3e00000);
        CHECK_EQ_INT(h.ram_size, 0x100000000);
        CHECK_EQ_INT(h.id_len, 16);
        CHECK(memcmp(h.id_bytes, cid, 16) == 0);
        CHECK_EQ_STR(h.product_id, "DH6DAB");

        s = P "<da_hw_info><version>1.2</version><ram_size>0x200000000</ram_size><battery_voltage>0</battery_voltage>"
              "<random_id>00</random_id><storage>UFS</storage><ufs><block_size>0x1000</block_size><lua0_size>0x400000"
              "</lua0_size><lua1_size>0x400000</lua1_size><lua2_size>0x1dcb000000</lua2_size><lua3_size>0</lua3_size>"
              "<id>KM5V8001DM-B622</id></ufs><product_id>KM5V8001DM-B622</product_id></da_hw_info>";
        CHECK_EQ_INT(xml_parse_hw_info((const uint8_t *) s, strlen(s) + 1, &h), 0);
        CHECK(h.ufs && !h.emmc);
        CHECK_EQ_INT(h.block_size, 0x1000);
        CHECK_EQ_INT(h.lu_size[0], 0x400000);
        CHECK_EQ_INT(h.lu_size[1], 0x400000);
        CHECK_EQ_INT(h.lu_size[2], 0x1dcb000000);
        CHECK_EQ_INT(h.lu_size[3], 0);
        /* not hex: the text itself is the id */
        CHECK_EQ_INT(h.id_len, strlen("KM5V8001DM-B622"));
        CHECK(memcmp(h.id_bytes, "KM5V8001DM-B622", h.id_len) == 0);

        s = P "<da_hw_info><storage>EMMC</storage><emmc><user_size>0x1000</user_size><emmc_cid>AB01</emmc_cid></emmc>"
              "</da_hw_info>";
        CHECK_EQ_INT(xml_parse_hw_info((const uint8_t *) s, strlen(s) + 1, &h), 0);
        CHECK_EQ_INT(h.id_len, 2);
        CHECK_EQ_INT(h.id_bytes[0], 0xab);
        CHECK_EQ_INT(h.id_bytes[1], 0x01);
        CHECK_EQ_STR(h.id, "AB01");
        s = P "<da_hw_info><storage>UFS</storage><ufs><lua2_size>0x1000</lua2_size><ufs_cid>0A0B</ufs_cid></ufs>"
              "</da_hw_info>";
        CHECK_EQ_INT(xml_parse_hw_info((const uint8_t *) s, strlen(s) + 1, &h), 0);
        CHECK_EQ_INT(h.id_len, 2);
        CHECK_EQ_INT(h.id_bytes[1], 0x0b);

        /* no storage element: neither, and no error (the caller says "NAND is not supported") */
        s = P "<da_hw_info><version>1.0</version><ram_size>0x1</ram_size><storage>NAND</storage></da_hw_info>";
        CHECK_EQ_INT(xml_parse_hw_info((const uint8_t *) s, strlen(s) + 1, &h), 0);
        CHECK(!h.emmc && !h.ufs);
        CHECK_EQ_STR(h.storage, "NAND");
}

TEST(hw_info_malformed) {
        static const char *bad[] = {
                P "<da_hw_info><version>1.2</version></da_hw_info>",                                 /* no storage */
                P "<da_hw_info><storage>EMMC</storage></da_hw_info>",                                /* no <emmc> */
                P "<da_hw_info><storage>EMMC</storage><emmc><boot1_size>0x1</boot1_size></emmc></da_hw_info>",
                P "<da_hw_info><storage>EMMC</storage><emmc><user_size>lots</user_size></emmc></da_hw_info>",
                P "<da_hw_info><storage>UFS</storage><ufs><lua0_size>0x1</lua0_size></ufs></da_hw_info>",
                P "<da_hw_info><storage>UFS</storage><ufs><lua2_size>0x1</lua2_size><block_size>0x100000000"
                  "</block_size></ufs></da_hw_info>",
                P "<host><storage>EMMC</storage></host>",
                P "<da_hw_info><storage>EMMC</storage><emmc><user_size>0x1</user_size>",
        };
        XmlHwInfo h;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK_EQ_INT(xml_parse_hw_info((const uint8_t *) bad[i], strlen(bad[i]) + 1, &h), -EBADMSG);
}

/* §5.5 */
TEST(sys_prop) {
        const char *s = P "<sys_prop version=\"1.0\"><item key=\"OTHER\">x</item><item key=\"DA.SLA\">DISABLED</item>"
                          "</sys_prop>";
        char v[32];

        CHECK_EQ_INT(xml_parse_sys_prop((const uint8_t *) s, strlen(s) + 1, XML_SYS_PROP_DA_SLA, v, sizeof(v)), 0);
        CHECK_EQ_STR(v, "DISABLED");
        CHECK_EQ_INT(xml_parse_sys_prop((const uint8_t *) s, strlen(s) + 1, "OTHER", v, sizeof(v)), 0);
        CHECK_EQ_STR(v, "x");
        CHECK_EQ_INT(xml_parse_sys_prop((const uint8_t *) s, strlen(s) + 1, "NONE", v, sizeof(v)), -ENOENT);
        CHECK_EQ_INT(xml_parse_sys_prop((const uint8_t *) s, strlen(s) + 1, XML_SYS_PROP_DA_SLA, v, 4), -ENAMETOOLONG);
        s = P "<host><item key=\"DA.SLA\">DISABLED</item></host>";
        CHECK_EQ_INT(xml_parse_sys_prop((const uint8_t *) s, strlen(s) + 1, XML_SYS_PROP_DA_SLA, v, sizeof(v)),
                     -EBADMSG);
}

TAP_MAIN(TEST_ENTRY(da1_documents), TEST_ENTRY(da2_documents), TEST_ENTRY(build_escapes_and_refuses),
         TEST_ENTRY(replies), TEST_ENTRY(numbers), TEST_ENTRY(da_documents), TEST_ENTRY(malformed_documents),
         TEST_ENTRY(hw_info), TEST_ENTRY(hw_info_malformed), TEST_ENTRY(sys_prop))

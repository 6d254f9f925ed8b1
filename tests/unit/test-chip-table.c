/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "chip-table.h"
#include "da-backend.h"
#include "preloader-emi.h"
#include "protocol/brom-proto.h"
#include "tap.h"

TEST(seed_chips) {
        /* brom.md §5: the raw hw code, not the DA family, is the key */
        CHECK_EQ_STR(chip_table_lookup(0x0321)->name, "MT6735");
        CHECK_EQ_INT(chip_table_lookup(0x0321)->da_code, 0x6735);
        CHECK_EQ_STR(chip_table_lookup(0x0337)->name, "MT6753");
        CHECK_EQ_INT(chip_table_lookup(0x0337)->da_code, 0x6735);
        CHECK_EQ_STR(chip_table_lookup(0x8172)->name, "MT8173");
        CHECK_EQ_INT(chip_table_lookup(0x8172)->da_code, 0x8173);
        CHECK_EQ_STR(chip_table_lookup(0x6580)->name, "MT6580");
        CHECK(chip_table_lookup(0x8173) == NULL);
        CHECK(chip_table_lookup(0x0000) == NULL);
        CHECK(chip_table_lookup(0xffff) == NULL);
}

TEST(watchdog) {
        CHECK_EQ_INT(chip_table_lookup(0x0321)->wdt_base, 0x10212000u);
        CHECK_EQ_INT(chip_table_lookup(0x0321)->wdt_value, 0x22000000u);
        CHECK_EQ_INT(chip_table_lookup(0x6795)->wdt_base, 0x10007000u);
        CHECK_EQ_INT(chip_table_lookup(0x6795)->wdt_value, 0x22000064u);
}

TEST(da_modes) {
        static const uint16_t legacy[] = { 0x6580, 0x6592, 0x6595, 0x0321, 0x0335, 0x0337, 0x6752, 0x6795, 0x8163, 0x8172 };

        for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
                CHECK_EQ_INT(chip_table_lookup(legacy[i])->da_mode, DA_MODE_LEGACY);
        /* da.md §2.1: MT6570 is XFlash in mtkclient despite older notes */
        CHECK_EQ_INT(chip_table_lookup(0x0633)->da_mode, DA_MODE_XFLASH);
        CHECK_EQ_INT(chip_table_lookup(0x0766)->da_mode, DA_MODE_XFLASH);
}

TEST(table_is_consistent) {
        for (unsigned i = 0; i < chip_table_size(); i++) {
                const ChipInfo *c = chip_table_get(i);

                CHECK(c->name && c->name[0] == 'M' && c->name[1] == 'T');
                CHECK(chip_table_lookup(c->hw_code) == c);          /* no duplicate keys */
                CHECK(chip_table_lookup_name(c->name) == c);
                CHECK(c->da_code != 0);
                if (i > 0)
                        CHECK(chip_table_get(i - 1)->hw_code < c->hw_code);
        }
        CHECK(chip_table_get(chip_table_size()) == NULL);
        CHECK(chip_table_lookup_name("mt6735") == chip_table_lookup(0x0321));
        CHECK(chip_table_lookup_name("MT9999") == NULL);
}

TEST(second_watchdog) {
        /* brom.md §5: MT6592 also gets WRITE32 0x10000500 <- 0x22000000 */
        CHECK_EQ_INT(chip_table_lookup(0x6592)->wdt2_base, 0x10000500u);
        CHECK_EQ_INT(chip_table_lookup(0x6592)->wdt2_value, 0x22000000u);
        CHECK_EQ_INT(chip_table_lookup(0x0321)->wdt2_base, 0);
        CHECK_EQ_INT(chip_table_lookup(0x8127)->wdt_base, 0x10007000u);
        CHECK_EQ_INT(chip_table_lookup(0x8127)->da_code, 0x8127);
}

/* da_backend_for_chip() is the one gate: a backend, or a reason with a remedy. */
static const char *why_not(const ChipInfo *c) {
        const char *why = NULL;
        const DaBackend *b = da_backend_for_chip(c, &why);

        /* a backend, or a reason: never both, never neither */
        return (b == NULL) == (why != NULL) ? why : "inconsistent";
}

TEST(unsupported_reasons) {
        static const uint16_t supported[] = { 0x0321, 0x0335, 0x0337, 0x6580, 0x6592, 0x8127, 0x8163, 0x8172 };
        const char *why = NULL;

        for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
                CHECK(why_not(chip_table_lookup(supported[i])) == NULL);
                CHECK(da_backend_for_chip(chip_table_lookup(supported[i]), &why) == &da_backend_legacy);
        }
        /* every chip is either supported or says why not and what to do */
        for (unsigned i = 0; i < chip_table_size(); i++) {
                const ChipInfo *c = chip_table_get(i);
                const char *w = why_not(c);

                CHECK((w == NULL) == !c->iot);
                CHECK(!w || strcmp(w, "inconsistent") != 0);
                if (w)
                        CHECK(strstr(w, "mtknvd does not speak yet") && strstr(w, "SP Flash Tool"));
        }
        /* xflash.md §1: the XFlash chips have their own backend */
        static const uint16_t xflash[] = { 0x0633, 0x0699, 0x0707, 0x0717, 0x0725, 0x0766, 0x0788, 0x0813,
                                           0x0816, 0x0886, 0x0950, 0x0959, 0x0989, 0x0996 };
        for (size_t i = 0; i < sizeof(xflash) / sizeof(xflash[0]); i++) {
                CHECK(chip_table_lookup(xflash[i]) && chip_table_lookup(xflash[i])->da_mode == DA_MODE_XFLASH);
                CHECK(da_backend_for_chip(chip_table_lookup(xflash[i]), &why) == &da_backend_xflash);
        }
        /* xml-da.md §1: the XML chips have theirs */
        static const uint16_t xml[] = { 0x0907, 0x1129, 0x1172, 0x1208, 0x1209, 0x1229 };
        for (size_t i = 0; i < sizeof(xml) / sizeof(xml[0]); i++) {
                CHECK(chip_table_lookup(xml[i]) && chip_table_lookup(xml[i])->da_mode == DA_MODE_XML);
                CHECK(da_backend_for_chip(chip_table_lookup(xml[i]), &why) == &da_backend_xml);
                /* the DA file entry is keyed by the hw code itself */
                CHECK_EQ_INT(chip_table_lookup(xml[i])->da_code, xml[i]);
        }
        /* MT2601 is a legacy-mode chip in mtkclient, but with the IoT DA flow */
        CHECK(chip_table_lookup(0x2601)->iot);
        CHECK(strstr(why_not(chip_table_lookup(0x2601)), "IoT") != NULL);
        CHECK(strstr(why_not(NULL), "chip table") != NULL);
}

/* xml-da.md §1: a DA file whose identifier marks it V6 speaks XML whatever
 * the chip's family; any other file leaves the chip's own */
TEST(backend_for_da) {
        DaFile v6 = { .v6 = true }, v5 = { .v6 = false };
        const char *why = NULL;

        CHECK(da_backend_for_da(chip_table_lookup(0x0766), &v6, &why) == &da_backend_xml);
        CHECK(why == NULL);
        CHECK(da_backend_for_da(chip_table_lookup(0x0766), &v5, &why) == &da_backend_xflash);
        CHECK(da_backend_for_da(chip_table_lookup(0x0321), NULL, &why) == &da_backend_legacy);
        CHECK(da_backend_for_da(chip_table_lookup(0x0321), &v6, &why) == &da_backend_xml);
        CHECK(da_backend_for_da(chip_table_lookup(0x1208), &v5, &why) == &da_backend_xml);
        /* the chip's own refusal stands */
        CHECK(da_backend_for_da(chip_table_lookup(0x2601), &v6, &why) == NULL);
        CHECK(why && strstr(why, "IoT"));
        CHECK(da_backend_for_da(NULL, &v6, &why) == NULL);
        /* V6 starts in preloader mode only: no EMI versions (brom-emi.md §8) */
        CHECK(!da_backend_supports_emi_version(&da_backend_xml, 0));
        CHECK(!da_backend_supports_emi_version(&da_backend_xml, 35));
}

/* xml-da.md §4.2: the watchdog write is skipped for has64bit profiles */
TEST(has64bit) {
        CHECK(chip_table_lookup(0x0907)->has64bit);
        CHECK(chip_table_lookup(0x1229)->has64bit);
        CHECK(!chip_table_lookup(0x1208)->has64bit);
        CHECK_EQ_INT(chip_table_lookup(0x1208)->wdt_base, 0x10007000u);
        CHECK_EQ_INT(chip_table_lookup(0x1208)->wdt_value, 0x22000064u);
        CHECK(!chip_table_lookup(0x0766)->has64bit);
}

/* brom-emi.md §4.6; every row is listed, so a new chip must state its version
 * (0 is a real one and cannot serve as "not set") */
TEST(emi_versions) {
        static const struct {
                uint16_t hw_code;
                int emi_version;
        } expected[] = {
                { 0x0321, 20 }, { 0x0326, 22 }, { 0x0335, 20 }, { 0x0337, 20 }, { 0x0551, 25 }, { 0x0601, 22 },
                { 0x0633, 27 }, { 0x0699, 32 }, { 0x0707, 40 }, { 0x0717, 38 }, { 0x0725, 39 }, { 0x0766, 35 },
                { 0x0788, 36 }, { 0x0813, 45 }, { 0x0816, 46 }, { 0x0886, 47 }, { 0x0950, 51 }, { 0x0959, 54 },
                { 0x0989, 52 }, { 0x0996, 49 },
                { 0x0907, -1 }, { 0x1129, -1 }, { 0x1172, -1 }, { 0x1208, -1 }, { 0x1209, -1 }, { 0x1229, -1 },
                { 0x2601, -1 }, { 0x6580, 21 }, { 0x6592, 13 }, { 0x6595, 15 }, { 0x6752, 17 }, { 0x6795, 15 },
                { 0x8127, 13 }, { 0x8163, 16 }, { 0x8172, 0 },  { 0x8176, 0 },  { 0x8590, -1 },
        };

        CHECK_EQ_INT(chip_table_size(), sizeof(expected) / sizeof(expected[0]));
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
                const ChipInfo *c = chip_table_lookup(expected[i].hw_code);

                CHECK(c != NULL);
                if (!c)
                        continue;
                CHECK_EQ_INT(c->emi_version, expected[i].emi_version);
                /* a version the chip has is one the parser can read and name; v51
                 * and v54 (MT6893, MT6877) have no known record layout, and the
                 * parser says so, naming the chips (brom-emi.md §4.3) */
                if (c->emi_version >= 0) {
                        CHECK((emi_record_size(c->emi_version) > 0) ==
                              (c->emi_version != 51 && c->emi_version != 54));
                        CHECK(emi_version_chips(c->emi_version) != NULL);
                }
        }
        CHECK_EQ_STR(emi_version_chips(chip_table_lookup(0x0321)->emi_version), "MT6735/6737/6753, MT8735");
        CHECK(strstr(emi_version_chips(chip_table_lookup(0x0766)->emi_version), "MT6765") != NULL);
        CHECK(strstr(emi_version_chips(chip_table_lookup(0x8172)->emi_version), "MT8173") != NULL);
        CHECK(strstr(emi_version_chips(chip_table_lookup(0x6795)->emi_version), "6795") != NULL);
}

TAP_MAIN(TEST_ENTRY(seed_chips), TEST_ENTRY(watchdog), TEST_ENTRY(da_modes), TEST_ENTRY(table_is_consistent),
         TEST_ENTRY(second_watchdog), TEST_ENTRY(unsupported_reasons), TEST_ENTRY(backend_for_da),
         TEST_ENTRY(has64bit), TEST_ENTRY(emi_versions))

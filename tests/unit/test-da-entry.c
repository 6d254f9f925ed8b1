/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a Download Agent entry needs and shows (add-da, inspect): its DA
 * family, whether this mtknvd can use it, what its signatures look like. */
#include <string.h>

#include "chip-table.h"
#include "da-backend.h"
#include "da-file.h"
#include "macro.h"
#include "tap.h"

/* An entry as da_file_parse() leaves it: regions 0..2, DA1 and DA2 with the signature lengths given. */
static DaEntry entry(uint16_t da_code, uint32_t da1_sig, uint32_t da2_sig) {
        DaEntry e = { .magic = DA_ENTRY_MAGIC, .hw_code = da_code, .region_count = 3 };

        e.regions[0] = (DaRegion) { .offset = 0x100, .length = 0x1000, .sig_len = da1_sig };
        e.regions[1] = (DaRegion) { .offset = 0x100, .length = 0x1000, .sig_len = da1_sig };
        e.regions[2] = (DaRegion) { .offset = 0x1100, .length = 0x2000, .sig_len = da2_sig };
        return e;
}

TEST(signature) {
        DaEntry e = entry(0x6735, DA_SIG_LEN_RSA2048, DA_SIG_LEN_RSA2048);

        /* both stages end in RSA-2048 signatures: what a DAA phone's maker's DA must have */
        CHECK_EQ_INT(da_entry_signature(&e), DA_SIGNATURE_OEM_LIKE);
        e = entry(0x6735, 0, 0);
        CHECK_EQ_INT(da_entry_signature(&e), DA_SIGNATURE_NONE);
        /* DA1 unsigned: a DAA phone stops at SEND_DA, whatever DA2 has */
        e = entry(0x6735, 0, DA_SIG_LEN_RSA2048);
        CHECK_EQ_INT(da_entry_signature(&e), DA_SIGNATURE_NONE);
        /* signed, but not in the shape of every signed DA known: not claimed */
        e = entry(0x6735, DA_SIG_LEN_RSA2048, 0);
        CHECK_EQ_INT(da_entry_signature(&e), DA_SIGNATURE_UNUSUAL);
        e = entry(0x6735, 0x80, 0x80);
        CHECK_EQ_INT(da_entry_signature(&e), DA_SIGNATURE_UNUSUAL);
        e = entry(0x6735, 0x200, 0x200);
        CHECK_EQ_INT(da_entry_signature(&e), DA_SIGNATURE_UNUSUAL);
        /* no DA1 at all: nothing signed that a phone is sent */
        e.region_count = 1;
        CHECK_EQ_INT(da_entry_signature(&e), DA_SIGNATURE_NONE);
}

TEST(stages) {
        DaEntry e = entry(0x6735, 0, 0);

        CHECK(da_entry_has_stages(&e));
        e.regions[2].length = 0;
        CHECK(!da_entry_has_stages(&e));
        e = entry(0x6735, 0, 0);
        e.region_count = 2;
        CHECK(!da_entry_has_stages(&e));
}

TEST(family) {
        const ChipInfo *mt6735 = chip_table_lookup(0x0321), *mt6765 = chip_table_lookup(0x0766);
        DaFile v5 = { .v6 = false }, v6 = { .v6 = true };
        ChipInfo xml_chip;
        DaMode m = DA_MODE_LEGACY;

        CHECK(mt6735 && mt6765);
        if (!mt6735 || !mt6765)
                return;
        CHECK(da_entry_family(&v5, mt6735, &m) && m == DA_MODE_LEGACY);
        CHECK(da_entry_family(&v5, mt6765, &m) && m == DA_MODE_XFLASH);
        /* brom.md §6.1: a V6 file's entries are XML DAs, whatever the chip */
        CHECK(da_entry_family(&v6, mt6735, &m) && m == DA_MODE_XML);
        CHECK(da_entry_family(&v6, mt6765, &m) && m == DA_MODE_XML);
        CHECK(da_entry_family(&v6, NULL, &m) && m == DA_MODE_XML);
        /* a chip whose table says XML needs it from any file */
        xml_chip = *mt6765;
        xml_chip.da_mode = DA_MODE_XML;
        CHECK(da_entry_family(&v5, &xml_chip, &m) && m == DA_MODE_XML);
        /* an unknown chip in a V5 file: not said */
        CHECK(!da_entry_family(&v5, NULL, &m));
}

/* da_backend_for_entry() answers what da_backend_for_chip() answers for the chip as the entry needs it. */
TEST(backend_for_entry) {
        const ChipInfo *mt6735 = chip_table_lookup(0x0321), *mt6765 = chip_table_lookup(0x0766);
        DaFile v5 = { .v6 = false }, v6 = { .v6 = true };
        DaEntry legacy = entry(0x6735, DA_SIG_LEN_RSA2048, DA_SIG_LEN_RSA2048),
                xflash = entry(0x6765, DA_SIG_LEN_RSA2048, DA_SIG_LEN_RSA2048), stub = legacy;
        const char *why = NULL, *gate_why = NULL;
        ChipInfo as_xml;

        if (!mt6735 || !mt6765)
                return;
        CHECK(da_backend_for_entry(&v5, &legacy, mt6735, &why) == &da_backend_legacy);
        CHECK(da_backend_for_entry(&v5, &xflash, mt6765, &why) == &da_backend_xflash);
        /* the V6 entry of an XFlash-era chip: the gate's answer for an XML chip, whatever that is today */
        as_xml = *mt6765;
        as_xml.da_mode = DA_MODE_XML;
        CHECK(da_backend_for_entry(&v6, &xflash, mt6765, &why) == da_backend_for_chip(&as_xml, &gate_why));
        CHECK(da_backend_for_entry(&v6, &xflash, mt6765, &why) != &da_backend_xflash);
        if (!da_backend_for_chip(&as_xml, &gate_why))
                CHECK(why && gate_why && streq(why, gate_why));
        /* an entry without DA2 is of no use to any phone */
        stub.regions[2].length = 0;
        CHECK(da_backend_for_entry(&v5, &stub, mt6735, &why) == NULL);
        CHECK(why && strstr(why, "DA1 and DA2"));
        /* a chip not in the table: the gate's reason */
        CHECK(da_backend_for_entry(&v5, &legacy, NULL, &why) == NULL);
        (void) da_backend_for_chip(NULL, &gate_why);
        CHECK(why && streq(why, gate_why));
}

TAP_MAIN(TEST_ENTRY(signature), TEST_ENTRY(stages), TEST_ENTRY(family), TEST_ENTRY(backend_for_entry))

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <strings.h>

#include "chip-table.h"
#include "macro.h"
#include "protocol/brom-proto.h"

#define WDT_DEFAULT BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT
#define WDT_MT6735  BROM_WDT_BASE_MT6735, BROM_WDT_VALUE_MT6735
#define WDT_MT6983  BROM_WDT_BASE_MT6983, BROM_WDT_VALUE_DEFAULT

/* brom.md §5.  Sorted by hw code so the table reads like the reference.
 * emi_version from brom-emi.md §4.6, set in every row because 0 is a real
 * version; 0x0717 takes MT6761's v38 (the reference lists MT6762 with v35).
 * The ME ID and SoC ID addresses of the XFlash chips the references do
 * not give (0x0699, 0x0725, 0x0816 and up) are those of mtkclient's
 * public chip table; the simulator does not model these chips. */
static const ChipInfo chip_table[] = {
        { 0x0321, "MT6735",  "MT6735/T, MT8735A",               0x6735, DA_MODE_LEGACY, WDT_MT6735,  0x1030B0, 0, .emi_version = 20 },
        { 0x0326, "MT6755",  "MT6755/MT6750/M/T/S",             0x6755, DA_MODE_XFLASH, WDT_DEFAULT, 0x1030AC, 0, .emi_version = 22 },
        { 0x0335, "MT6737M", "MT6737M/MT6735G",                 0x6735, DA_MODE_LEGACY, WDT_MT6735,  0x1030B0, 0, .emi_version = 20 },
        { 0x0337, "MT6753",  "MT6753",                          0x6735, DA_MODE_LEGACY, WDT_MT6735,  0x1030B0, 0, .emi_version = 20 },
        { 0x0551, "MT6757",  "MT6757/MT6757D",                  0x6757, DA_MODE_XFLASH, WDT_DEFAULT, 0x1030B4, 0, .emi_version = 25 },
        { 0x0601, "MT6750",  "MT6750",                          0x6755, DA_MODE_XFLASH, WDT_DEFAULT, 0x1030AC, 0, .emi_version = 22 },
        { 0x0633, "MT6570",  "MT6570/MT8321",                   0x6570, DA_MODE_XFLASH, WDT_DEFAULT, 0,        0, .emi_version = 27 },
        { 0x0699, "MT6739",  "MT6739/MT6731/MT8765",            0x6739, DA_MODE_XFLASH, WDT_DEFAULT, 0x102AF8, 0x102B08, .emi_version = 32 },
        { 0x0707, "MT6768",  "MT6768/MT6769",                   0x6768, DA_MODE_XFLASH, WDT_DEFAULT, 0x102AF8, 0x102B08, .emi_version = 40 },
        { 0x0717, "MT6761",  "MT6761/MT6762/MT3369/MT8766B",    0x6761, DA_MODE_XFLASH, WDT_DEFAULT, 0x102AF8, 0x102B08, .emi_version = 38 },
        { 0x0725, "MT6779",  "MT6779 (Helio P90)",              0x6779, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B38, 0x102B48, .emi_version = 39 },
        { 0x0766, "MT6765",  "MT6765/MT8768t",                  0x6765, DA_MODE_XFLASH, WDT_DEFAULT, 0x102AF8, 0x102B08, .emi_version = 35 },
        { 0x0788, "MT6771",  "MT6771/MT8385/MT8183/MT8666",     0x6771, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B38, 0x102B48, .emi_version = 36 },
        { 0x0813, "MT6785",  "MT6785",                          0x6785, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B38, 0x102B48, .emi_version = 45 },
        { 0x0816, "MT6885",  "MT6885/MT6883/MT6889 (Dimensity 1000)", 0x6885, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B78, 0x102B88, .emi_version = 46 },
        { 0x0886, "MT6873",  "MT6873/MT6875 (Dimensity 800/820)", 0x6873, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B78, 0x102B88, .emi_version = 47 },
        /* xml-da.md §1, §4.2: the XML (V6) chips (DA_MODE_XML, here and below); the DA file's entry has the
         * hw code itself as dacode; no EMI version (no EMI upload, brom-emi.md §8).
         * Watchdog, ME ID and SoC ID addresses from mtkclient's public chip
         * table; has64bit: no watchdog write (§4.2) */
        { 0x0907, "MT6983",  "MT6983 (Dimensity 9000)",         0x0907, DA_MODE_XML,    WDT_MT6983,  0x1008EC, 0x100934, .has64bit = true, .emi_version = -1 },
        { 0x0950, "MT6893",  "MT6891/MT6893 (Dimensity 1200)",  0x6893, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B98, 0x102BA8, .emi_version = 51 },
        { 0x0959, "MT6877",  "MT6877/MT8791N (Dimensity 900/1080)", 0x6877, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B98, 0x102BA8, .emi_version = 54 },
        { 0x0989, "MT6833",  "MT6833 (Dimensity 700)",          0x6833, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B98, 0x102BA8, .emi_version = 52 },
        { 0x0996, "MT6853",  "MT6853 (Dimensity 720)",          0x6853, DA_MODE_XFLASH, WDT_DEFAULT, 0x102B78, 0x102B88, .emi_version = 49 },
        { 0x1129, "MT6855",  "MT6855 (Dimensity 930/7020)",     0x1129, DA_MODE_XML,    WDT_MT6983,  0x1008EC, 0x100934, .emi_version = -1 },
        { 0x1172, "MT6895",  "MT6895 (Dimensity 8100/8200)",    0x1172, DA_MODE_XML,    WDT_MT6983,  0x1008EC, 0x100934, .emi_version = -1 },
        { 0x1208, "MT6789",  "MT6789/MT8781V (Helio G99)",      0x1208, DA_MODE_XML,    WDT_DEFAULT, 0x1008EC, 0x100934, .emi_version = -1 },
        { 0x1209, "MT6835",  "MT6835 (Dimensity 6100+)",        0x1209, DA_MODE_XML,    WDT_MT6983,  0x1008EC, 0x100934, .emi_version = -1 },
        { 0x1229, "MT6886",  "MT6886 (Dimensity 7200)",         0x1229, DA_MODE_XML,    WDT_MT6983,  0x1008EC, 0x100934, .has64bit = true, .emi_version = -1 },
        { 0x2601, "MT2601",  "MT2601",                          0x2601, DA_MODE_LEGACY, WDT_DEFAULT, 0,        0, .iot = true, .emi_version = -1 },
        { 0x6580, "MT6580",  "MT6580",                          0x6580, DA_MODE_LEGACY, WDT_DEFAULT, 0x1030B4, 0, .emi_version = 21 },
        { 0x6592, "MT6592",  "MT6592/MT8392",                   0x6592, DA_MODE_LEGACY, WDT_DEFAULT, 0x1030A8, 0,
          .wdt2_base = BROM_WDT_MT6592_EXTRA_ADDR, .wdt2_value = BROM_WDT_MT6592_EXTRA_VALUE, .emi_version = 13 },
        { 0x6595, "MT6595",  "MT6595",                          0x6595, DA_MODE_LEGACY, WDT_DEFAULT, 0x1030A4, 0, .emi_version = 15 },
        { 0x6752, "MT6752",  "MT6752",                          0x6752, DA_MODE_LEGACY, WDT_DEFAULT, 0x1030B4, 0, .emi_version = 17 },
        { 0x6795, "MT6795",  "MT6795 (Helio X10)",              0x6795, DA_MODE_LEGACY, WDT_DEFAULT, 0x1030A0, 0, .emi_version = 15 },
        { 0x8127, "MT8127",  "MT8127/MT3367",                   0x8127, DA_MODE_LEGACY, WDT_DEFAULT, 0x1031CC, 0, .emi_version = 13 },
        { 0x8163, "MT8163",  "MT8163",                          0x8163, DA_MODE_LEGACY, WDT_DEFAULT, 0x1031C0, 0, .emi_version = 16 },
        { 0x8172, "MT8173",  "MT8173",                          0x8173, DA_MODE_LEGACY, WDT_DEFAULT, 0x1230B0, 0, .emi_version = 0 },
        { 0x8176, "MT8176",  "MT8176",                          0x8173, DA_MODE_LEGACY, WDT_DEFAULT, 0x1230B0, 0, .emi_version = 0 },
        { 0x8590, "MT8590",  "MT8590/MT7683/MT8521/MT7623",     0x8590, DA_MODE_LEGACY, WDT_DEFAULT, 0x1031D8, 0, .emi_version = -1 },
};

const ChipInfo *chip_table_lookup(uint16_t hw_code) {
        for (size_t i = 0; i < ELEMENTSOF(chip_table); i++)
                if (chip_table[i].hw_code == hw_code)
                        return &chip_table[i];
        return NULL;
}

const ChipInfo *chip_table_lookup_name(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(chip_table); i++)
                if (strcasecmp(chip_table[i].name, name) == 0)
                        return &chip_table[i];
        return NULL;
}

const ChipInfo *chip_table_get(unsigned idx) {
        return idx < ELEMENTSOF(chip_table) ? &chip_table[idx] : NULL;
}

unsigned chip_table_size(void) {
        return ELEMENTSOF(chip_table);
}

const char *chip_unsupported_reason(const ChipInfo *c) {
        if (!c)
                return "This chip is not in mtknvd's chip table, so mtknvd does not know how to talk to its "
                       "Download Agent. Please report its hw code together with the phone's model.";
        /* brom.md §5: the IoT parts boot a multi-stage DA through
         * SEND_ENV_PREPARE and answer a different DA protocol. */
        if (c->iot)
                return "This chip uses MediaTek's IoT Download Agent flow (SEND_ENV_PREPARE and an IoT DA), which "
                       "mtknvd does not speak yet. Back it up with SP Flash Tool or mtkclient until a later "
                       "version of mtknvd supports it.";
        /* which DA families mtknvd speaks is da_backend_for_chip()'s to say */
        return NULL;
}

const char *da_mode_to_string(DaMode m) {
        switch (m) {
        case DA_MODE_LEGACY: return "legacy";
        case DA_MODE_XFLASH: return "xflash";
        case DA_MODE_XML:    return "xml";
        }
        return "unknown";
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <string.h>

#include "brom-proto.h"
#include "sim-chips.h"

/* brom.md §5 "Chip table": hw_code as GET_HW_CODE reports it, the DA family
 * (dacode), the watchdog base and its disable value, the DA protocol
 * (damode XFLASH, also xflash.md §1); sub codes from
 * da_info (§5 last paragraph), the EMI version of brom-emi.md §4.6
 * (MT6595: v15 as MT6795, the legacy row of the table; MT2601 is not in
 * it).  MT8127 is not in §5: hw code = dacode = 0x8127 and the default
 * watchdog are assumed (tests/sim/README.md).  The XML ("V6") chips of
 * xml-da.md §1: MT6789 (0x1208) and MT6855 (0x1129) by mtkclient's chip
 * table (MT6855's watchdog at 0x1c007000, as there), MT6893 (0x0950, dacode 0x6893 in mtkclient's brom_config.py) by
 * its V6 DA file; no EMI upload in V6 (§4.3), so MT6789 and MT6855 have
 * no EMI version; MT6893's v51 (brom-emi.md §4.6) serves da-protocol=xflash. */
static const SimChip chips[] = {
        { "mt2601", 0x2601, 0x2601, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, true, -1, false },
        { "mt6570", 0x0633, 0x6570, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 27, true },
        { "mt6580", 0x6580, 0x6580, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 21, false },
        { "mt6592", 0x6592, 0x6592, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 13, false },
        { "mt6595", 0x6595, 0x6595, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 15, false },
        { "mt6735", 0x0321, 0x6735, 0x0000, BROM_WDT_BASE_MT6735, BROM_WDT_VALUE_MT6735, false, false, 20, false },
        { "mt6737", 0x0321, 0x6735, 0x0000, BROM_WDT_BASE_MT6735, BROM_WDT_VALUE_MT6735, false, false, 20, false },
        { "mt6737m", 0x0335, 0x6735, 0x0000, BROM_WDT_BASE_MT6735, BROM_WDT_VALUE_MT6735, false, false, 20, false },
        { "mt6752", 0x6752, 0x6752, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 17, false },
        { "mt6753", 0x0337, 0x6735, 0x0000, BROM_WDT_BASE_MT6735, BROM_WDT_VALUE_MT6735, false, false, 20, false },
        { "mt6755", 0x0326, 0x6755, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 22, true },
        { "mt6761", 0x0717, 0x6761, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, true, false, 38, true },
        { "mt6765", 0x0766, 0x6765, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, true, false, 35, true },
        { "mt6768", 0x0707, 0x6768, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, true, false, 40, true },
        { "mt6771", 0x0788, 0x6771, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, true, false, 36, true },
        { "mt6785", 0x0813, 0x6785, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, true, false, 45, true },
        { "mt6789", 0x1208, 0x1208, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, true, false, -1, false, true },
        { "mt6855", 0x1129, 0x1129, 0x8a00, BROM_WDT_BASE_MT6983, BROM_WDT_VALUE_DEFAULT, true, false, -1, false, true },
        { "mt6893", 0x0950, 0x6893, 0x8a00, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, true, false, 51, false, true },
        { "mt6795", 0x6795, 0x6795, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 15, false },
        { "mt8127", 0x8127, 0x8127, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 13, false },
        { "mt8163", 0x8163, 0x8163, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 16, false },
        { "mt8173", 0x8172, 0x8173, 0x0000, BROM_WDT_BASE_DEFAULT, BROM_WDT_VALUE_DEFAULT, false, false, 0, false },
};

const SimChip *sim_chip_find(const char *name) {
        for (size_t i = 0; i < G_N_ELEMENTS(chips); i++)
                if (g_ascii_strcasecmp(chips[i].name, name) == 0)
                        return &chips[i];
        return NULL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulator's own chip table (brom.md §5), kept apart from the daemon's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct SimChip {
        const char *name;        /* "mt6735" */
        uint16_t hw_code;        /* GET_HW_CODE */
        uint16_t da_code;        /* DA file family */
        uint16_t hw_sub_code;
        uint32_t wdt_base;
        uint32_t wdt_value;      /* the WRITE32 that disables the watchdog */
        bool soc_id;
        bool iot;                /* brom.md §5 "iot": no GET_HW_SW_VER, no ME_ID */
        int emi_version;         /* brom-emi.md §4.6: its preloaders' EMI block version; -1 unknown */
        bool xflash;             /* brom.md §5 damode XFLASH: its DA speaks xflash.md */
        bool xml;                /* xml-da.md §1: its DA speaks XML ("V6") */
} SimChip;

const SimChip *sim_chip_find(const char *name);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the daemon knows about each MediaTek chip, keyed by the hw code the
 * boot ROM reports in GET_HW_CODE (brom.md §5).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum DaMode {
        DA_MODE_LEGACY,
        DA_MODE_XFLASH,
        DA_MODE_XML,
} DaMode;

typedef struct ChipInfo {
        uint16_t hw_code;
        const char *name;          /* "MT6735" */
        const char *description;   /* every part sharing this hw code */
        uint16_t da_code;          /* key into the DA file (brom.md §5 "dacode") */
        DaMode da_mode;
        uint32_t wdt_base;
        uint32_t wdt_value;
        uint32_t me_id_addr;       /* 0: unknown */
        uint32_t soc_id_addr;      /* 0: the chip has no SoC ID */
        bool iot;                  /* MediaTek's IoT DA flow (brom.md §5), not the phone one */
        uint32_t wdt2_base;        /* a second register written with wdt2_value during identification; 0: none */
        uint32_t wdt2_value;
        bool has64bit;             /* mtkclient's flag: the boot ROM stage writes no watchdog (brom.md §5) */
        int emi_version;           /* the EMI block version of its preloaders (brom-emi.md §4.6); -1: none known.
                                    * v00 is a real version (MT8173/MT8176) */
} ChipInfo;

const ChipInfo *chip_table_lookup(uint16_t hw_code);
const ChipInfo *chip_table_lookup_name(const char *name);
const ChipInfo *chip_table_get(unsigned idx);
unsigned chip_table_size(void);
const char *da_mode_to_string(DaMode m);
/* A sentence with the cause and the remedy when the chip itself rules a
 * backup out (c == NULL: a chip not in the table; an IoT part); NULL
 * otherwise.  Whether its DA family is spoken is da_backend_for_chip()'s. */
const char *chip_unsupported_reason(const ChipInfo *c);

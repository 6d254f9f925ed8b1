/* TEMPORARY until the sim branch's protocol constants are merged */
#pragma once
#ifndef BROM_WDT_MT6592_EXTRA_ADDR
#define BROM_WDT_MT6592_EXTRA_ADDR   0x10000500u
#define BROM_WDT_MT6592_EXTRA_VALUE  0x22000000u
#define BROM_WDT_SWRST_OFFSET        0x14u
#define BROM_WDT_SWRST_KEY           0x1209u
#endif
#ifndef DA_CONFIG_TAIL_LEN_MT8127
#define DA_CONFIG_TAIL_LEN_MT8127     28
#define DA_CONFIG_BMT_SIZE_EMMC       0x01500000u
#define DA_DRAM_EXTRA_WORDS_MT6592    5
#endif
#ifndef DA_REPORT_HEAD_LEN
#define DA_REPORT_HEAD_LEN            0x2d          /* NOR block + 64-bit NAND head: read before the rest */
#define DA_REPORT_NAND32_HEAD_LEN     0x0d          /* {u32, u8, u16, u32 size, u16 count} */
#define DA_REPORT_NAND32_COUNT_OFF    0x27
#endif

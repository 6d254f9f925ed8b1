/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MediaTek legacy ("V3") Download Agent protocol: wire constants only.
 *
 * Source: ../shared/protocol/da.md §2 and §5 (section numbers below refer
 * to it).  Shared by the daemon and the simulated phone; no code here.
 * Every multi-byte integer of this protocol is big-endian on the wire.
 */
#pragma once

/* §2.2 single-byte responses */
#define DA_SYNC_CHAR     0xc0
#define DA_SOC_OK        0xc1
#define DA_SOC_FAIL      0xcf
#define DA_ACK           0x5a
#define DA_NACK          0xa5
#define DA_CONT_CHAR     0x69
#define DA_STOP_CHAR     0x96
#define DA_UNKNOWN_CMD   0xbb

/* §2.3 opcodes */
#define DA_CMD_SDMMC_SWITCH_PART      0x60
#define DA_CMD_SDMMC_WRITE_IMAGE      0x61
#define DA_CMD_SDMMC_WRITE_DATA       0x62
#define DA_CMD_USB_SETUP_PORT         0x70
#define DA_CMD_USB_CHECK_STATUS       0x72
#define DA_CMD_READ_REG32             0x7a
#define DA_CMD_WRITE_REG32            0x7b
#define DA_CMD_WRITE_PARTITION_TBL    0xa1
#define DA_CMD_READ_PARTITION_TBL     0xa2
#define DA_CMD_SDMMC_WRITE_PMT        0xa4
#define DA_CMD_SDMMC_READ_PMT         0xa5
#define DA_CMD_SDMMC_WRITE_GPT        0xa9
#define DA_CMD_SECURE_USB_RECHECK     0xb4
#define DA_CMD_FORMAT                 0xd4
#define DA_CMD_READ                   0xd6
#define DA_CMD_FINISH                 0xd9
#define DA_CMD_ENABLE_WATCHDOG        0xdb
#define DA_CMD_NAND_READPAGE          0xdf
#define DA_CMD_CHK_PC_SEC_INFO        0xe0
#define DA_CMD_ENABLE_DRAM            0xe8

/* §2.4 DA1 start-up */
#define DA_NAND_RET_NOT_FOUND         0x00000bc4u   /* also DEVICE_NOT_FOUND */
#define DA_DRAM_STATUS_OK             0x00000000u
#define DA_DRAM_STATUS_NEED_EMI       0x00000bc3u   /* RAM_ERROR: BROM mode, EMI settings needed */
#define DA_VERSION_LEN                3
#define DA_NAND_IDS_MAX               16            /* our cap on the u16 count field */
#define DA_EMMC_CID_LEN               16

/* §2.5 configuration block */
#define DA_CONFIG_LEN                 18
#define DA_CONFIG_NOR_CS0             0x00
#define DA_CONFIG_NOR_CS_DECODER      0x08
#define DA_CONFIG_NAND_ACCCON         0x7007ffffu
#define DA_CONFIG_BMT_PRESENT         0x01
#define DA_CONFIG_FORCE_CHARGE_NO_BAT 0x01
#define DA_CONFIG_RESET_KEY           0x01
#define DA_CONFIG_EXT_CLOCK_26MHZ     0x02
#define DA_CONFIG_MSDC_BOOT_CH        0x00
/* MT6580/MT8163 tail: u32 slc_percent then 20 bytes */
#define DA_CONFIG_TAIL_SLC_PERCENT    1
#define DA_CONFIG_TAIL_LEN_SLC        24
#define DA_CONFIG_TAIL_LEN_GPT_FLAG   4             /* MT6592: u32 is_gpt_solution = 0 */
#define DA_CONFIG_TAIL_LEN_MT8127     28            /* MT8127: u32 0, u32 1, the same 20 bytes */
#define DA_CONFIG_BMT_SIZE_EMMC       0x01500000u   /* BMT partition size on 6592/6571/8127 eMMC */
/* §2.4: MT6592 only, after DRAM status 0 the DA sends five more u32 */
#define DA_DRAM_EXTRA_WORDS_MT6592    5

/* §2.6, brom-emi.md §6: BROM mode, the DRAM (EMI) settings */
#define DA_EMI_MEMORY_ID_LEN          16            /* what DA1 reports after 0xBC3 */
#define DA_EMI_ID_END                 0x00000bc4u   /* the word after the memory id */
#define DA_EMI_VERSION_ZERO           0xffffffffu   /* ENABLE_DRAM's word for EMI version 0 */
#define DA_EMI_SEND_CONFIG            0x80000001u   /* "send DRAM config", after the records */
#define DA_EMI_RAM_TYPE_DRAM          0x02
#define DA_EMI_RECORDS_MAX_LEN        (64u * 188u)  /* 64 records of the largest legacy size */

/* §2.7 DA2 upload */
#define DA_DA2_PACKET_SIZE            0x1000u

/* §2.8 DA2 report: read as NOR (0x1C) + NAND head (0x11), then the rest */
#define DA_REPORT_NOR_LEN             0x1c
#define DA_REPORT_NAND_HEAD_LEN       0x11
#define DA_REPORT_NAND_COUNT_OFF      0x2b          /* u16 NAND id count N */
#define DA_REPORT_HEAD_LEN            0x2d          /* NOR block + NAND head: what shows the layout */
/* the 32-bit NAND size variant {u32, u8, u16, u32 size, u16 count}, taken
 * when the count at DA_REPORT_NAND_COUNT_OFF reads 0 */
#define DA_REPORT_NAND32_HEAD_LEN     0x0d
#define DA_REPORT_NAND32_COUNT_OFF    0x27
#define DA_REPORT_NAND_GEOMETRY_LEN   9
#define DA_REPORT_EMMC_LEN            0x5c
#define DA_REPORT_SD_LEN              0x1c
#define DA_REPORT_RAM_LEN             0x26
#define DA_REPORT_TAIL_LEN            0x0a          /* 5A, u32 download status, u32 boot style, C1 */
#define DA_REPORT_MT8163_EXTRA        4             /* status word before the tail on MT8127/MT8163 */
#define DA_REPORT_LEN_N7              236

/* §2.9 USB speed */
#define DA_USB_SPEED_FULL             0x00
#define DA_USB_SPEED_HIGH             0x01

/* §2.11/§5.1: READ_CMD takes the HW storage type, WRITE_DATA the DA storage type */
#define DA_HOST_OS_LINUX              0x0c
#define DA_HW_STORAGE_NOR             0x00
#define DA_HW_STORAGE_NAND            0x01
#define DA_HW_STORAGE_EMMC            0x02
#define DA_HW_STORAGE_SDMMC           0x03
#define DA_HW_STORAGE_UFS             0x04
#define DA_DA_STORAGE_EMMC            0x01
#define DA_DA_STORAGE_SDMMC           0x02
#define DA_PACKET_SIZE                0x00100000u

/* §5.1 eMMC regions as the legacy DA numbers them */
#define DA_EMMC_REGION_BOOT1          0x01
#define DA_EMMC_REGION_BOOT2          0x02
#define DA_EMMC_REGION_RPMB           0x03
#define DA_EMMC_REGION_GP1            0x04
#define DA_EMMC_REGION_USER           0x08
#define DA_SECTOR_SIZE                512

/* §2.15 ENABLE_WATCHDOG: u32 timeout_ms, u8 async, u8 bootup, u8 dlbit, u8 not_reset_rtc */
#define DA_WDT_BOOTUP_NORMAL          0x00

/* §2.16 legacy status codes */
#define DA_STATUS_INT_RAM_ERROR       0x00000bb8u
#define DA_STATUS_RAM_ERROR           0x00000bc3u
#define DA_STATUS_DEVICE_NOT_FOUND    0x00000bc4u
#define DA_STATUS_NOR_NOT_FOUND       0x00000bc7u
#define DA_STATUS_NAND_NOT_FOUND      0x00000bc8u

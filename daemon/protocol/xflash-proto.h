/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MediaTek XFlash ("V5") Download Agent protocol: wire constants only.
 *
 * Source: ../shared/protocol/xflash.md (section numbers below refer to
 * it).  Shared by the daemon and the simulated phone; no code here.
 * Every integer of this protocol is little-endian on the wire, unlike the
 * BROM and legacy DA protocols.
 */
#pragma once

/* §2.1 packet header: magic, data type, payload length (u32 each) */
#define XFLASH_MAGIC                 0xfeeeeeefu
#define XFLASH_HEADER_SIZE           12
#define XFLASH_DT_PROTOCOL_FLOW      1
#define XFLASH_DT_MESSAGE            2

/* §6.1 DA1's first byte after JUMP_DA (raw, no header) */
#define XFLASH_DA1_SYNC_CHAR         0xc0

/* §4.1 major commands */
#define XFLASH_CMD_SYNC_SIGNAL             0x434e5953u   /* "SYNC" */
#define XFLASH_CMD_SETUP_ENVIRONMENT       0x010100u
#define XFLASH_CMD_SETUP_HW_INIT_PARAMS    0x010101u
#define XFLASH_CMD_UNKNOWN                 0x010000u
#define XFLASH_CMD_DOWNLOAD                0x010001u
#define XFLASH_CMD_UPLOAD                  0x010002u
#define XFLASH_CMD_FORMAT                  0x010003u
#define XFLASH_CMD_WRITE_DATA              0x010004u
#define XFLASH_CMD_READ_DATA               0x010005u
#define XFLASH_CMD_FORMAT_PARTITION        0x010006u
#define XFLASH_CMD_SHUTDOWN                0x010007u
#define XFLASH_CMD_BOOT_TO                 0x010008u
#define XFLASH_CMD_DEVICE_CTRL             0x010009u
#define XFLASH_CMD_INIT_EXT_RAM            0x01000au
#define XFLASH_CMD_SWITCH_USB_SPEED        0x01000bu
#define XFLASH_CMD_READ_OTP_ZONE           0x01000cu
#define XFLASH_CMD_WRITE_OTP_ZONE          0x01000du
#define XFLASH_CMD_WRITE_EFUSE             0x01000eu
#define XFLASH_CMD_READ_EFUSE              0x01000fu
#define XFLASH_CMD_NAND_BMT_REMARK         0x010010u

/* §4.2 device-control codes: setters (pattern D) */
#define XFLASH_CTRL_SET_BMT_PERCENTAGE       0x020001u
#define XFLASH_CTRL_SET_BATTERY_OPT          0x020002u
#define XFLASH_CTRL_SET_CHECKSUM_LEVEL       0x020003u
#define XFLASH_CTRL_SET_RESET_KEY            0x020004u
#define XFLASH_CTRL_SET_HOST_INFO            0x020005u
#define XFLASH_CTRL_SET_META_BOOT_MODE       0x020006u
#define XFLASH_CTRL_SET_EMMC_HWRESET_PIN     0x020007u
#define XFLASH_CTRL_SET_GENERATE_GPX         0x020008u
#define XFLASH_CTRL_SET_REGISTER_VALUE       0x020009u
#define XFLASH_CTRL_SET_EXTERNAL_SIG         0x02000au
#define XFLASH_CTRL_SET_REMOTE_SEC_POLICY    0x02000bu
#define XFLASH_CTRL_SET_ALL_IN_ONE_SIG       0x02000cu
#define XFLASH_CTRL_SET_RSC_INFO             0x02000du
#define XFLASH_CTRL_SET_UPDATE_FW            0x020010u
#define XFLASH_CTRL_SET_UFS_CONFIG           0x020011u

/* §4.2 getters (pattern C) */
#define XFLASH_CTRL_GET_EMMC_INFO            0x040001u
#define XFLASH_CTRL_GET_NAND_INFO            0x040002u
#define XFLASH_CTRL_GET_NOR_INFO             0x040003u
#define XFLASH_CTRL_GET_UFS_INFO             0x040004u
#define XFLASH_CTRL_GET_DA_VERSION           0x040005u
#define XFLASH_CTRL_GET_EXPIRE_DATA          0x040006u
#define XFLASH_CTRL_GET_PACKET_LENGTH        0x040007u
#define XFLASH_CTRL_GET_RANDOM_ID            0x040008u
#define XFLASH_CTRL_GET_PARTITION_TBL_CATA   0x040009u
#define XFLASH_CTRL_GET_CONNECTION_AGENT     0x04000au
#define XFLASH_CTRL_GET_USB_SPEED            0x04000bu
#define XFLASH_CTRL_GET_RAM_INFO             0x04000cu
#define XFLASH_CTRL_GET_CHIP_ID              0x04000du
#define XFLASH_CTRL_GET_OTP_LOCK_STATUS      0x04000eu
#define XFLASH_CTRL_GET_BATTERY_VOLTAGE      0x04000fu
#define XFLASH_CTRL_GET_RPMB_STATUS          0x040010u
#define XFLASH_CTRL_GET_EXPIRE_DATE          0x040011u
#define XFLASH_CTRL_GET_DRAM_TYPE            0x040012u
#define XFLASH_CTRL_GET_DEV_FW_INFO          0x040013u
#define XFLASH_CTRL_GET_HRID                 0x040014u
#define XFLASH_CTRL_GET_ERROR_DETAIL         0x040015u
#define XFLASH_CTRL_SLA_ENABLED_STATUS       0x040016u

/* §4.2 actions and control */
#define XFLASH_CTRL_START_DL_INFO             0x080001u
#define XFLASH_CTRL_END_DL_INFO               0x080002u
#define XFLASH_CTRL_ACT_LOCK_OTP_ZONE         0x080003u
#define XFLASH_CTRL_DISABLE_EMMC_HWRESET_PIN  0x080004u
#define XFLASH_CTRL_CC_OPTIONAL_DOWNLOAD_ACT  0x080005u
#define XFLASH_CTRL_DA_STOR_LIFE_CYCLE_CHECK  0x080007u
#define XFLASH_CTRL_STORAGE_TEST              0x0e0001u
#define XFLASH_CTRL_RAM_TEST                  0x0e0002u
#define XFLASH_CTRL_READ_REGISTER             0x0e0003u

/* §6.2 environment block (5 × u32): values a host sends */
#define XFLASH_ENV_SIZE              20
#define XFLASH_LOG_LEVEL_INFO        2
#define XFLASH_LOG_CHANNEL_UART      1
#define XFLASH_SYSTEM_OS_LINUX       1

/* §6.3, §8.3 GET_CONNECTION_AGENT answers (ASCII, no NUL) */
#define XFLASH_AGENT_PRELOADER       "preloader"
#define XFLASH_AGENT_BROM            "brom"

/* §8.3 GET_USB_SPEED answers (ASCII, no NUL) */
#define XFLASH_USB_FULL_SPEED        "full-speed"
#define XFLASH_USB_HIGH_SPEED        "high-speed"
/* §9.4 SWITCH_USB_SPEED parameter as mtkclient sends it: the VID:PID the DA
 * re-enumerates as (I); penumbra sends 0 and expects the same 0e8d:2001 */
#define XFLASH_USB_SWITCH_ID         0x0e8d2001u

/* §4.2 SET_CHECKSUM_LEVEL and SET_RESET_KEY parameters */
#define XFLASH_CHECKSUM_NONE         0
#define XFLASH_RESET_KEY_TWO_KEYS    0x68

/* §8.1 GET_EMMC_INFO, §8.2 GET_UFS_INFO payload sizes and types */
#define XFLASH_EMMC_INFO_SIZE_OLD    0x60
#define XFLASH_EMMC_INFO_SIZE_NEW    0x68
#define XFLASH_EMMC_TYPE_EMMC        1
#define XFLASH_UFS_INFO_SIZE_V1      0x34
#define XFLASH_UFS_INFO_SIZE         0xc8
#define XFLASH_UFS_TYPE_UFS          0x30

/* §9.1 BOOT_TO parameter: u64 address, u64 length */
#define XFLASH_BOOT_TO_PARAM_SIZE    16

/* §10.1 the parameter block of READ_DATA, WRITE_DATA, FORMAT */
#define XFLASH_RW_PARAM_SIZE         56
#define XFLASH_STORAGE_EMMC          1
#define XFLASH_STORAGE_SDMMC         2
#define XFLASH_STORAGE_UFS           0x30

/* §15.1 region ids (u32 at parameter offset 4) */
#define XFLASH_EMMC_PART_BOOT1       1
#define XFLASH_EMMC_PART_BOOT2       2
#define XFLASH_EMMC_PART_RPMB        3
#define XFLASH_EMMC_PART_GP1         4
#define XFLASH_EMMC_PART_USER        8
#define XFLASH_UFS_LU0               1
#define XFLASH_UFS_LU1               2
#define XFLASH_UFS_LU2               3   /* user */
#define XFLASH_UFS_LU3               4   /* RPMB */

/* §13 SHUTDOWN parameter (penumbra's 7-word form) */
#define XFLASH_SHUTDOWN_PARAM_SIZE   28

/* §14 status codes */
#define XFLASH_STATUS_OK                       0x00000000u
#define XFLASH_STATUS_SYNC                     0x434e5953u
#define XFLASH_STATUS_PROGRESS                 0x40040004u
#define XFLASH_STATUS_COMPLETE                 0x40040005u
#define XFLASH_STATUS_ERROR                    0xc0010001u
#define XFLASH_STATUS_ABORT                    0xc0010002u
#define XFLASH_STATUS_UNSUPPORTED_CMD          0xc0010003u
#define XFLASH_STATUS_UNSUPPORTED_CTRL_CODE    0xc0010004u
#define XFLASH_STATUS_PROTOCOL_ERR             0xc0010005u
#define XFLASH_STATUS_PROTOCOL_BUFFER_OVERFLOW 0xc0010006u
#define XFLASH_STATUS_INSUFFICIENT_BUFFER      0xc0010007u
#define XFLASH_STATUS_INVALID_STAGE            0xc001000bu
#define XFLASH_STATUS_DL_FORBIDDEN             0xc0020004u
#define XFLASH_STATUS_WRITE_NOT_ALLOWED        0xc002000cu
#define XFLASH_STATUS_FORMAT_NOT_ALLOWED       0xc002000du
#define XFLASH_STATUS_REMOTE_SEC_POLICY_OFF    0xc0020049u
#define XFLASH_STATUS_DA_ANTI_ROLLBACK         0xc0020053u
#define XFLASH_STATUS_DA_ANTI_ROLLBACK_OLD     0xc002004cu
#define XFLASH_STATUS_INVALID_GPT              0xc0030008u
#define XFLASH_STATUS_INVALID_PMT              0xc0030009u
#define XFLASH_STATUS_CHECKSUM_ERR             0xc0040003u
#define XFLASH_STATUS_PARTITION_NOT_FOUND      0xc0040006u
#define XFLASH_STATUS_EXCEED_AVAILABLE_RANGE   0xc004000bu
#define XFLASH_STATUS_MMC_ERR                  0xc0040030u
#define XFLASH_STATUS_EMI_SETTING_VERSION_ERR  0xc0040050u
#define XFLASH_STATUS_UFS_ERR                  0xc0040060u
#define XFLASH_STATUS_EXT_RAM_EXCEPTION        0xc0050005u
#define XFLASH_STATUS_READ_DATA_EXCEPTION      0xc0050007u
#define XFLASH_STATUS_WRITE_DATA_EXCEPTION     0xc0050008u
#define XFLASH_STATUS_DA_HASH_MISMATCH         0xc0070004u
#define XFLASH_STATUS_DA_EXCEED_MAX_NUM        0xc0070005u

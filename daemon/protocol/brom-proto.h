/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MediaTek BROM / preloader USB download protocol: wire constants only.
 *
 * Source: ../shared/protocol/brom.md (section numbers below refer to it).
 * This header is the one thing the daemon, the client and the simulated
 * phone share; it holds no code, so the simulator cannot inherit the
 * daemon's logic.  All multi-byte integers of this protocol are big-endian
 * on the wire (§0 conventions).
 */
#pragma once

#include <stdint.h>

/* §1.1 USB IDs */
#define BROM_USB_VID_MEDIATEK        0x0e8d
#define BROM_USB_VID_LG              0x1004
#define BROM_USB_VID_OPPO            0x22d9
#define BROM_USB_VID_SONY            0x0fce

#define BROM_USB_PID_BROM            0x0003
#define BROM_USB_PID_PRELOADER       0x2000
#define BROM_USB_PID_PRELOADER_DA    0x2001
#define BROM_USB_PID_PRELOADER_20FF  0x20ff
#define BROM_USB_PID_PRELOADER_3000  0x3000
#define BROM_USB_PID_PRELOADER_6000  0x6000
#define BROM_USB_PID_LG_PRELOADER    0x6000
#define BROM_USB_PID_OPPO_PRELOADER  0x0006
#define BROM_USB_PID_SONY_BROM_F200  0xf200
#define BROM_USB_PID_SONY_BROM_D1E9  0xd1e9
#define BROM_USB_PID_SONY_BROM_D1E2  0xd1e2
#define BROM_USB_PID_SONY_BROM_D1EC  0xd1ec
#define BROM_USB_PID_SONY_BROM_D1DD  0xd1dd

/* §1.3 descriptors */
#define BROM_USB_CLASS_CDC           0x02
#define BROM_USB_CLASS_CDC_DATA      0x0a
#define BROM_USB_SUBCLASS_ACM        0x02
#define BROM_USB_PROTOCOL_AT         0x01
#define BROM_USB_EP_BULK_OUT         0x01
#define BROM_USB_EP_BULK_IN          0x81
#define BROM_USB_EP_INT_IN           0x83
#define BROM_USB_BULK_MPS_HS         512
#define BROM_USB_BULK_MPS_FS         64

/* §1.4 CDC class requests */
#define CDC_REQTYPE_OUT              0x21
#define CDC_REQTYPE_IN               0xa1
#define CDC_SET_LINE_CODING          0x20
#define CDC_GET_LINE_CODING          0x21
#define CDC_SET_CONTROL_LINE_STATE   0x22
#define CDC_LINE_STATE_DTR           0x0001
#define CDC_LINE_STATE_RTS           0x0002
#define CDC_LINE_CODING_LEN          7

/* §2.1 handshake: the host sends these, the device answers each complement */
#define BROM_HANDSHAKE_0             0xa0
#define BROM_HANDSHAKE_1             0x0a
#define BROM_HANDSHAKE_2             0x50
#define BROM_HANDSHAKE_3             0x05
#define BROM_HANDSHAKE_LEN           4
/* §2.2 text a preloader sends every 20 ms while DTR is set */
#define BROM_PRELOADER_READY         "READY"
#define BROM_PRELOADER_READY_LEN     5
#define BROM_PRELOADER_TOKEN_LEN     8
/* §2.2/2.3 timing budgets, milliseconds */
#define BROM_PRELOADER_ENUM_TIMEOUT_MS       8000
#define BROM_PRELOADER_HANDSHAKE_TIMEOUT_MS  2500
#define BROM_PRELOADER_START_BUDGET_MS       300
#define BROM_PRELOADER_READY_INTERVAL_MS     20

/* §3.2 opcodes (names as in mtkclient's Cmd table) */
enum {
        BROM_CMD_SEND_PARTITION_DATA = 0x70,
        BROM_CMD_JUMP_TO_PARTITION   = 0x71,
        BROM_CMD_CHECK_USB_CMD       = 0x72,
        BROM_CMD_LEGACY_WRITE        = 0xa1,
        BROM_CMD_LEGACY_READ         = 0xa2,
        BROM_CMD_PWR_INIT            = 0xc4,
        BROM_CMD_PWR_DEINIT          = 0xc5,
        BROM_CMD_PWR_READ16          = 0xc6,
        BROM_CMD_PWR_WRITE16         = 0xc7,
        BROM_CMD_C8                  = 0xc8,
        BROM_CMD_READ16              = 0xd0,
        BROM_CMD_READ32              = 0xd1,
        BROM_CMD_WRITE16             = 0xd2,
        BROM_CMD_WRITE16_NO_ECHO     = 0xd3,
        BROM_CMD_WRITE32             = 0xd4,
        BROM_CMD_JUMP_DA             = 0xd5,
        BROM_CMD_JUMP_BL             = 0xd6,
        BROM_CMD_SEND_DA             = 0xd7,
        BROM_CMD_GET_TARGET_CONFIG   = 0xd8,
        BROM_CMD_SEND_ENV_PREPARE    = 0xd9,
        BROM_CMD_BROM_REGISTER_ACCESS = 0xda,
        BROM_CMD_UART1_LOG_EN        = 0xdb,
        BROM_CMD_UART1_SET_BAUDRATE  = 0xdc,
        BROM_CMD_BROM_DEBUGLOG       = 0xdd,
        BROM_CMD_JUMP_DA64           = 0xde,
        BROM_CMD_GET_BROM_LOG_NEW    = 0xdf,
        BROM_CMD_SEND_CERT           = 0xe0,
        BROM_CMD_GET_ME_ID           = 0xe1,
        BROM_CMD_SEND_AUTH           = 0xe2,
        BROM_CMD_SLA                 = 0xe3,
        BROM_CMD_GET_SOC_ID          = 0xe7,
        BROM_CMD_ZEROIZATION         = 0xf0,
        BROM_CMD_GET_PL_CAP          = 0xfb,
        BROM_CMD_GET_HW_SW_VER       = 0xfc,
        BROM_CMD_GET_HW_CODE         = 0xfd,
        BROM_CMD_GET_BL_VER          = 0xfe,
        BROM_CMD_GET_VERSION         = 0xff,
};

/* §3.3 GET_BL_VER: a BROM echoes FE, a preloader answers its version */
#define BROM_BL_VER_IS_BROM          0xfe
/* mtkclient (§3.3) only asks a preloader for ME_ID/SOC_ID when bl_ver > 2 */
#define BROM_BL_VER_MIN_ME_ID        3

#define BROM_ME_ID_LEN               16
#define BROM_SOC_ID_LEN              32
/* upper bound on the u32 length field of GET_ME_ID/GET_SOC_ID we accept */
#define BROM_ID_MAX_LEN              64

/* §3.5 data upload: ZLP each time the running offset is a multiple of this */
#define BROM_UPLOAD_ZLP_INTERVAL     0x2000

/* §3.3 JUMP_DA DownloadArg */
#define BROM_DA_ARG_MAGIC            0x58885168u

/* §4.1 GET_TARGET_CONFIG bits */
#define BROM_TGT_CFG_SBC             0x00000001u
#define BROM_TGT_CFG_SLA             0x00000002u
#define BROM_TGT_CFG_DAA             0x00000004u
#define BROM_TGT_CFG_EPP             0x00000008u
#define BROM_TGT_CFG_CERT            0x00000010u
#define BROM_TGT_CFG_MEMREAD         0x00000020u
#define BROM_TGT_CFG_MEMWRITE        0x00000040u
#define BROM_TGT_CFG_CMD_C8          0x00000080u

/* §4.2 u16 status words */
#define BROM_STATUS_OK                          0x0000
#define BROM_STATUS_OK_MAX                      0x00ff  /* <= this counts as success */
#define BROM_STATUS_WRITE_STATUS1_MAX           0x0003
#define BROM_STATUS_BAD_ALIGNMENT               0xffff
#define BROM_STATUS_ZERO_LENGTH                 0xfffe
#define BROM_STATUS_LENGTH_OVERFLOW             0xfffd
#define BROM_STATUS_ADDRESS_TOO_HIGH_80000000   0x1d00
#define BROM_STATUS_ADDRESS_TOO_HIGH_40000000   0x1d01
#define BROM_STATUS_INVALID_ADDRESS             0x1d02
#define BROM_STATUS_NO_AUTH_NEEDED              0x1d0c
#define BROM_STATUS_SLA_REQUIRED                0x1d0d
#define BROM_STATUS_DA_OVERLAP                  0x1d0e
#define BROM_STATUS_DA_INVALID_JUMP_ADDR        0x1d0f
#define BROM_STATUS_DA_EXCEED_MAX_DA_BLOCKS     0x1d10
#define BROM_STATUS_DA_ADDR_NOT_16BITS_ALIGNED  0x1d11
#define BROM_STATUS_DA_INVALID_ADDR_AND_LEN     0x1d12
#define BROM_STATUS_DA_LEN_IS_ZERO              0x1d13
#define BROM_STATUS_DA_SIG_LEN_EXCEED_DA_LEN    0x1d14
#define BROM_STATUS_DA_SIG_LEN_ZERO_DAA_ACTIVE  0x1d15
#define BROM_STATUS_DA_NOT_EXIST                0x1d16
#define BROM_STATUS_DA_BLOCKS_INCONSISTENT      0x1d17
#define BROM_STATUS_DA_VERSION_NOT_SUPPORTED    0x1d21
#define BROM_STATUS_AUTH_IMAGE_VERIFY_FAIL      0x2000
#define BROM_STATUS_DA_IMAGE_SIG_VERIFY_FAIL    0x2001
#define BROM_STATUS_DA_IMAGE_NO_MEM_FAIL        0x2002
#define BROM_STATUS_DA_INIT_KEY_FAIL            0x2003
#define BROM_STATUS_IMG_INIT_KEY_FAIL           0x2004
#define BROM_STATUS_HASH_IMAGE_FAIL             0x2005
#define BROM_STATUS_DA_RELOCATE_SIZE_NOT_ENOUGH 0x2006
#define BROM_STATUS_DA_IN_BLACKLIST             0x5a5b
#define BROM_STATUS_DAA_SECURITY_ERROR_SIG      0x7015
#define BROM_STATUS_DAA_SECURITY_ERROR          0x7017
#define BROM_STATUS_DAA_SIG_VERIFY_FAILED       0x7024
#define BROM_STATUS_SECURE_USB_DL_DISABLED      0x1799
#define BROM_STATUS_SECURE_USB_DL_ENABLED       0x179a
#define BROM_STATUS_SECURE_USB_DL_NO_SIG_HEADER 0x179d  /* SP Flash Tool 6045 */
#define BROM_STATUS_SECURE_USB_DL_IMAGE_HASH    0x179f  /* SP Flash Tool 6047 */

/* §4.3 composite 32-bit codes of SP Flash Tool / XFlash */
#define BROM_STATUS32_START_CMD_FAIL            0xc0060001u
#define BROM_STATUS32_GET_HW_VER_FAIL           0xc0060002u
#define BROM_STATUS32_SEND_DA_FAIL              0xc0060003u
#define BROM_STATUS32_JUMP_DA_FAIL              0xc0060004u
#define BROM_STATUS32_BROM_CMD_FAIL             0xc0060005u

/* §5 watchdog registers and disable values */
#define BROM_WDT_BASE_DEFAULT        0x10007000u
#define BROM_WDT_BASE_MT6735         0x10212000u
/* not in brom.md: the watchdog of MT6983, MT6855, MT6895, MT6835 and MT6886
 * in mtkclient's public chip table (MT6789 keeps the default) */
#define BROM_WDT_BASE_MT6983         0x1c007000u
#define BROM_WDT_VALUE_DEFAULT       0x22000064u
#define BROM_WDT_VALUE_MT6735        0x22000000u
/* §5: MT6592 additionally gets WRITE32 0x10000500 <- 0x22000000 */
#define BROM_WDT_MT6592_EXTRA_ADDR   0x10000500u
#define BROM_WDT_MT6592_EXTRA_VALUE  0x22000000u
/* MediaTek watchdog registers at the bases above (register names as in
 * MediaTek's sources; brom.md gives only the disable write): WDT_MODE at
 * the base, guarded by a key in its top byte, bit 0 = enable; WDT_SWRST at
 * +0x14, which resets the chip when its key is written. */
#define BROM_WDT_MODE_KEY            0x22u
#define BROM_WDT_MODE_ENABLE         0x00000001u
#define BROM_WDT_SWRST_OFFSET        0x14u
#define BROM_WDT_SWRST_KEY           0x1209u

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "xflash-packet.h"

void xflash_header_build(uint8_t out[XFLASH_HEADER_SIZE], uint32_t data_type, uint32_t len) {
        unaligned_write_le32(out, XFLASH_MAGIC);
        unaligned_write_le32(out + 4, data_type);
        unaligned_write_le32(out + 8, len);
}

int xflash_header_parse(const uint8_t *b, uint32_t *ret_type, uint32_t *ret_len) {
        uint32_t type;

        if (unaligned_read_le32(b) != XFLASH_MAGIC)
                return -EBADMSG;
        type = unaligned_read_le32(b + 4);
        if (type != XFLASH_DT_PROTOCOL_FLOW && type != XFLASH_DT_MESSAGE)
                return -EPROTO;
        *ret_type = type;
        *ret_len = unaligned_read_le32(b + 8);
        return 0;
}

/* ------------------------------------------------------------ the IN stream */

void xflash_rx_begin(XFlashRx *rx, uint8_t *dest, size_t max) {
        rx->state = XFLASH_RX_HEADER;
        rx->dest = dest;
        rx->max = max;
        rx->len = 0;
        rx->n_messages = 0;
}

uint8_t *xflash_rx_want(XFlashRx *rx, size_t *ret_len) {
        switch (rx->state) {
        case XFLASH_RX_HEADER:
                *ret_len = XFLASH_HEADER_SIZE;
                return rx->header;
        case XFLASH_RX_PAYLOAD:
                *ret_len = rx->len;
                return rx->dest;
        case XFLASH_RX_MESSAGE:
                *ret_len = rx->len;
                return rx->message;
        case XFLASH_RX_DONE:
                break;
        }
        *ret_len = 0;
        return NULL;
}

int xflash_rx_got(XFlashRx *rx) {
        uint32_t type, len;
        int r;

        switch (rx->state) {
        case XFLASH_RX_HEADER:
                r = xflash_header_parse(rx->header, &type, &len);
                if (r < 0)
                        return r;
                if (type == XFLASH_DT_MESSAGE) {
                        /* §2.1: DA log text; skipped wherever a flow packet is expected */
                        if (len > XFLASH_MESSAGE_MAX)
                                return -EPROTO;
                        rx->n_messages++;
                        rx->len = len;
                        rx->state = len > 0 ? XFLASH_RX_MESSAGE : XFLASH_RX_HEADER;
                        return 0;
                }
                if (len > rx->max) {
                        rx->len = len;
                        return -EMSGSIZE;
                }
                rx->len = len;
                if (len == 0) {
                        rx->state = XFLASH_RX_DONE;
                        return 1;
                }
                rx->state = XFLASH_RX_PAYLOAD;
                return 0;
        case XFLASH_RX_MESSAGE:
                rx->state = XFLASH_RX_HEADER;
                return 0;
        case XFLASH_RX_PAYLOAD:
                rx->state = XFLASH_RX_DONE;
                return 1;
        case XFLASH_RX_DONE:
                return 1;
        }
        return -EINVAL;
}

/* ------------------------------------------------------------ statuses */

int xflash_status_parse(const uint8_t *payload, size_t len, uint32_t *ret_code) {
        /* §2.2: the normal form is a u32; a u16 form is accepted by one
         * reference host, so it is here (its value widened) */
        if (len == 4)
                *ret_code = unaligned_read_le32(payload);
        else if (len == 2)
                *ret_code = unaligned_read_le16(payload);
        else
                return -EBADMSG;
        return 0;
}

typedef struct XFlashStatusInfo {
        uint32_t code;
        const char *name;
        const char *remedy;
} XFlashStatusInfo;

#define REMEDY_REPLUG "Unplug the phone and plug it in again to retry."
#define REMEDY_DA "Use the Download Agent from this phone's own firmware package (mtknvctl add-da FILE)."

/* §14, with what a user can do about each */
static const XFlashStatusInfo status_table[] = {
        { XFLASH_STATUS_OK, "OK", "" },
        { XFLASH_STATUS_SYNC, "SYNC", "" },
        { XFLASH_STATUS_PROGRESS, "in progress", "" },
        { XFLASH_STATUS_COMPLETE, "complete", "" },
        { XFLASH_STATUS_ERROR, "error", REMEDY_REPLUG },
        { XFLASH_STATUS_ABORT, "aborted", REMEDY_REPLUG },
        { XFLASH_STATUS_UNSUPPORTED_CMD, "unsupported command",
          "This Download Agent lacks a command mtknvd needs; " REMEDY_DA },
        { XFLASH_STATUS_UNSUPPORTED_CTRL_CODE, "unsupported control code",
          "This Download Agent lacks a query mtknvd needs; " REMEDY_DA },
        { XFLASH_STATUS_PROTOCOL_ERR, "protocol error", REMEDY_REPLUG " If it persists, please report it." },
        { XFLASH_STATUS_PROTOCOL_BUFFER_OVERFLOW, "protocol buffer overflow",
          REMEDY_REPLUG " If it persists, please report it." },
        { XFLASH_STATUS_INSUFFICIENT_BUFFER, "insufficient buffer", REMEDY_REPLUG " If it persists, please report it." },
        { XFLASH_STATUS_INVALID_STAGE, "invalid stage (a DA2 command sent to DA1)",
          REMEDY_REPLUG " If it persists, please report it." },
        { XFLASH_STATUS_DL_FORBIDDEN, "download forbidden by the security policy",
          "The phone's security policy forbids access to this area; it may need the manufacturer's "
          "authorisation (SLA), which mtknvd does not support." },
        { XFLASH_STATUS_WRITE_NOT_ALLOWED, "write not allowed",
          "The phone's security policy forbids writing here; nothing was changed." },
        { XFLASH_STATUS_FORMAT_NOT_ALLOWED, "format not allowed",
          "The phone's security policy forbids erasing here; nothing was changed." },
        { XFLASH_STATUS_REMOTE_SEC_POLICY_OFF, "remote security policy disabled (SLA)",
          "The phone requires the manufacturer's authorisation (SLA), which mtknvd does not support." },
        { XFLASH_STATUS_DA_ANTI_ROLLBACK, "DA anti-rollback",
          "The Download Agent is older than the phone's fuses allow; " REMEDY_DA },
        { XFLASH_STATUS_DA_ANTI_ROLLBACK_OLD, "DA anti-rollback",
          "The Download Agent is older than the phone's fuses allow; " REMEDY_DA },
        { XFLASH_STATUS_INVALID_GPT, "invalid GPT",
          "The phone's partition table is damaged; pass its scatter file with --scatter FILE." },
        { XFLASH_STATUS_INVALID_PMT, "invalid PMT",
          "The phone's partition table is damaged; pass its scatter file with --scatter FILE." },
        { XFLASH_STATUS_CHECKSUM_ERR, "checksum error",
          "Data was corrupted on the USB line; try another cable or port and retry." },
        { XFLASH_STATUS_PARTITION_NOT_FOUND, "partition not found",
          "The partition is not on this phone; pass its scatter file with --scatter FILE." },
        { XFLASH_STATUS_EXCEED_AVAILABLE_RANGE, "beyond the end of the storage",
          "The partition table does not fit this phone's storage; pass the phone's own scatter file." },
        { XFLASH_STATUS_MMC_ERR, "eMMC error",
          "The phone's eMMC reported an error; it may be failing. Retry once; if it persists, the storage "
          "needs repair." },
        { XFLASH_STATUS_EMI_SETTING_VERSION_ERR, "EMI setting version error",
          "The DRAM settings sent are not for this phone; add the preloader of its own firmware "
          "(mtknvctl add-preloader FILE), or plug it in without holding a key (preloader mode)." },
        { XFLASH_STATUS_UFS_ERR, "UFS error",
          "The phone's UFS storage reported an error; it may be failing. Retry once; if it persists, the "
          "storage needs repair." },
        { XFLASH_STATUS_EXT_RAM_EXCEPTION, "external RAM exception",
          "The phone's RAM did not come up with the DRAM settings sent; add the preloader of its own firmware, "
          "or plug it in without holding a key (preloader mode)." },
        { XFLASH_STATUS_READ_DATA_EXCEPTION, "read data exception", REMEDY_REPLUG },
        { XFLASH_STATUS_WRITE_DATA_EXCEPTION, "write data exception", REMEDY_REPLUG },
        { XFLASH_STATUS_DA_HASH_MISMATCH, "DA hash mismatch",
          "The second stage does not belong to the first (the DA file is damaged or mixed); " REMEDY_DA },
        { XFLASH_STATUS_DA_EXCEED_MAX_NUM, "DA exceed max num (a malformed block)",
          "The DRAM settings block was not accepted; add the preloader of the phone's own firmware." },
};

static const XFlashStatusInfo *status_lookup(uint32_t code) {
        for (size_t i = 0; i < ELEMENTSOF(status_table); i++)
                if (status_table[i].code == code)
                        return &status_table[i];
        return NULL;
}

const char *xflash_status_to_string(uint32_t code) {
        const XFlashStatusInfo *s = status_lookup(code);

        return s ? s->name : NULL;
}

const char *xflash_status_remedy(uint32_t code) {
        const XFlashStatusInfo *s = status_lookup(code);

        if (s)
                return s->remedy;
        /* §14 layout: domain 6 is the BROM stage, 2 security */
        if (((code >> 16) & 0x3fff) == 2)
                return "The phone's security policy refused this; it may need the manufacturer's authorisation "
                       "(SLA), which mtknvd does not support.";
        return REMEDY_REPLUG " If it persists, please report the status code.";
}

const char *xflash_status_describe(uint32_t code, char *buf, size_t size) {
        const char *name = xflash_status_to_string(code);

        if (name)
                snprintf(buf, size, "0x%08x (%s)", code, name);
        else
                snprintf(buf, size, "0x%08x", code);
        return buf;
}

bool xflash_status_is_error(uint32_t code) {
        return (code >> 30) == 3;
}

/* ------------------------------------------------------------ parameter blocks */

void xflash_build_env(uint8_t out[XFLASH_ENV_SIZE]) {
        memset(out, 0, XFLASH_ENV_SIZE);
        unaligned_write_le32(out, XFLASH_LOG_LEVEL_INFO);
        unaligned_write_le32(out + 4, XFLASH_LOG_CHANNEL_UART);
        unaligned_write_le32(out + 8, XFLASH_SYSTEM_OS_LINUX);
        /* ufs_provision 0, reserved 0 */
}

void xflash_build_rw_param(uint8_t out[XFLASH_RW_PARAM_SIZE], uint32_t storage, uint32_t region, uint64_t addr,
                           uint64_t len) {
        memset(out, 0, XFLASH_RW_PARAM_SIZE);
        unaligned_write_le32(out, storage);
        unaligned_write_le32(out + 4, region);
        unaligned_write_le64(out + 8, addr);
        unaligned_write_le64(out + 16, len);
        /* 8 × u32 NAND extension: 0 for eMMC and UFS */
}

void xflash_build_boot_to(uint8_t out[XFLASH_BOOT_TO_PARAM_SIZE], uint64_t addr, uint64_t len) {
        unaligned_write_le64(out, addr);
        unaligned_write_le64(out + 8, len);
}

void xflash_build_shutdown(uint8_t out[XFLASH_SHUTDOWN_PARAM_SIZE], bool reboot) {
        memset(out, 0, XFLASH_SHUTDOWN_PARAM_SIZE);
        /* is_dev_reboot; timeout, async, bootup (normal), dlbit, keep RTC,
         * keep USB all 0 */
        unaligned_write_le32(out, reboot ? 1 : 0);
}

uint32_t xflash_checksum(const uint8_t *data, size_t len) {
        uint32_t sum = 0;

        for (size_t i = 0; i < len; i++)
                sum += data[i];
        return sum & 0xffff;
}

/* ------------------------------------------------------------ getters */

int xflash_parse_emmc_info(const uint8_t *b, size_t len, XFlashEmmcInfo *ret) {
        if (len < XFLASH_EMMC_INFO_SIZE_OLD)
                return -EBADMSG;
        *ret = (XFlashEmmcInfo) {
                .type = unaligned_read_le32(b),
                .block_size = unaligned_read_le32(b + 0x04),
                .boot1_size = unaligned_read_le64(b + 0x08),
                .boot2_size = unaligned_read_le64(b + 0x10),
                .rpmb_size = unaligned_read_le64(b + 0x18),
                .user_size = unaligned_read_le64(b + 0x40),
                .fw_version = unaligned_read_le64(b + 0x58),
        };
        for (unsigned i = 0; i < 4; i++)
                ret->gp_size[i] = unaligned_read_le64(b + 0x20 + 8 * i);
        memcpy(ret->cid, b + 0x48, sizeof(ret->cid));
        return 0;
}

int xflash_parse_ufs_info(const uint8_t *b, size_t len, XFlashUfsInfo *ret) {
        if (len < XFLASH_UFS_INFO_SIZE_V1)
                return -EBADMSG;
        *ret = (XFlashUfsInfo) {
                .type = unaligned_read_le32(b),
                .block_size = unaligned_read_le32(b + 0x04),
                .lu0_size = unaligned_read_le64(b + 0x08),
                .lu1_size = unaligned_read_le64(b + 0x10),
                .lu2_size = unaligned_read_le64(b + 0x18),
        };
        if (len < XFLASH_UFS_INFO_SIZE) {
                /* the old layout: cid[16] at 0x20, no serial */
                memcpy(ret->cid, b + 0x20, 16);
                ret->cid_len = 16;
                return 0;
        }
        /* the new layout: u16 vendor, product id [20] at 0x22, serial [132] at 0x3e */
        memcpy(ret->cid, b + 0x22, sizeof(ret->cid));
        ret->cid_len = sizeof(ret->cid);
        memcpy(ret->serial, b + 0x3e, MIN(sizeof(ret->serial), len - 0x3e));
        ret->serial_len = MIN(sizeof(ret->serial), len - 0x3e);
        while (ret->serial_len > 0 && ret->serial[ret->serial_len - 1] == 0)
                ret->serial_len--;
        return 0;
}

int xflash_parse_packet_length(const uint8_t *b, size_t len, uint32_t *ret_write, uint32_t *ret_read) {
        if (len < 8)
                return -EBADMSG;
        *ret_write = unaligned_read_le32(b);
        *ret_read = unaligned_read_le32(b + 4);
        return 0;
}

int xflash_parse_chip_id(const uint8_t *b, size_t len, XFlashChipId *ret) {
        if (len < 10)
                return -EBADMSG;
        *ret = (XFlashChipId) {
                .hw_code = unaligned_read_le16(b),
                .hw_sub_code = unaligned_read_le16(b + 2),
                .hw_version = unaligned_read_le16(b + 4),
                .sw_version = unaligned_read_le16(b + 6),
                .chip_evolution = unaligned_read_le16(b + 8),
        };
        return 0;
}

bool xflash_payload_is(const uint8_t *b, size_t len, const char *s) {
        return len == strlen(s) && memcmp(b, s, len) == 0;
}

void xflash_payload_to_string(const uint8_t *b, size_t len, char *out, size_t size) {
        size_t n = 0;

        if (size == 0)
                return;
        for (size_t i = 0; i < len && n + 1 < size; i++)
                out[n++] = b[i] >= 0x20 && b[i] < 0x7f ? (char) b[i] : '.';
        out[n] = 0;
}

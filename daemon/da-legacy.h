/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host side of MediaTek's legacy Download Agent protocol (da.md §2): bring
 * up DA1 and DA2 after JUMP_DA, learn the storage, read and write eMMC
 * byte ranges with per-packet checksums, and end the session so the phone
 * boots normally.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "brom.h"
#include "protocol/da-legacy-proto.h"
#include "usb-transport.h"

/* An eMMC's user area is at most 2 TiB (JEDEC: SEC_COUNT counts 512-byte
 * sectors in 32 bits); a larger size in the report is garbage, and it would
 * void every bound checked against it (GPT entries, PMT, scatter). */
#define DA_EMMC_USER_SIZE_MAX (2ull << 40)

typedef struct DaLegacyReport {
        uint32_t nand_ret, emmc_ret;        /* from the DA1 sync */
        uint8_t da_version[DA_VERSION_LEN];
        uint32_t emmc_status;               /* from the DA2 report (§2.8) */
        uint64_t boot1_size, boot2_size, rpmb_size, user_size;
        uint8_t cid[DA_EMMC_CID_LEN];
        uint64_t ram_size;
        uint8_t usb_speed;
} DaLegacyReport;

typedef struct DaLegacy DaLegacy;
typedef void (*DaLegacyDone)(DaLegacy *da, int r, void *userdata);
/* Each packet of a READ, checksum already verified; < 0 aborts the read. */
typedef int (*DaLegacyDataFunc)(DaLegacy *da, const uint8_t *data, size_t len, void *userdata);

int da_legacy_new(UsbLink *link, const BromIdentity *id, DaLegacy **ret);
DaLegacy *da_legacy_free(DaLegacy *da);

/* After JUMP_DA: DA1 sync and configuration, DA2 upload, the storage report,
 * the USB speed check.  da2 must stay valid until done runs. */
int da_legacy_start(DaLegacy *da, const uint8_t *da2, size_t da2_len, uint32_t da2_addr, DaLegacyDone done,
                    void *userdata);
const DaLegacyReport *da_legacy_get_report(DaLegacy *da);

/* READ_CMD of [addr, addr+len) in an eMMC region (§2.10, §2.11).  A packet
 * with a bad checksum does not reach data(); the read continues to keep
 * the stream in step and then fails with -EBADMSG, so it can be retried. */
int da_legacy_read(DaLegacy *da, uint8_t region, uint64_t addr, uint64_t len, DaLegacyDataFunc data,
                   DaLegacyDone done, void *userdata);
/* SDMMC_WRITE_DATA (§2.12); len must be a multiple of 512.  buf must stay
 * valid until done runs. */
int da_legacy_write(DaLegacy *da, uint8_t region, uint64_t addr, const uint8_t *buf, uint64_t len,
                    DaLegacyDone done, void *userdata);
/* SDMMC_READ_PMT (§2.14): the raw table; *ret owned by the caller. */
int da_legacy_read_pmt(DaLegacy *da, DaLegacyDone done, void *userdata);
int da_legacy_take_pmt(DaLegacy *da, uint8_t **ret, size_t *ret_len);
/* ENABLE_WATCHDOG with timeout 0 (§2.15): the phone reboots normally. */
int da_legacy_reboot(DaLegacy *da, DaLegacyDone done, void *userdata);
void da_legacy_cancel(DaLegacy *da);

/* Technical detail of the last failure ("NACK to READ at 0x380000"). */
const char *da_legacy_get_detail(DaLegacy *da);
/* True when the last failure was the DA saying it needs DRAM (EMI) settings. */
bool da_legacy_needs_emi(DaLegacy *da);

/* ---- pure helpers: no I/O, unit-tested and fuzzed ---- */
/* The DA2 report after the NOR block and NAND head (total = whole report);
 * -ERANGE when the user area size is beyond DA_EMMC_USER_SIZE_MAX. */
int da_legacy_parse_report(const uint8_t *buf, size_t len, bool mt8163_extra, DaLegacyReport *ret);
/* Expected total report length for a NAND id count n. */
size_t da_legacy_report_len(unsigned n_nand_ids, bool mt8163_extra);
uint16_t da_legacy_checksum16(const uint8_t *data, size_t len);
/* The 18-byte configuration block plus the chip's tail; returns its length. */
size_t da_legacy_build_config(const BromIdentity *id, uint8_t *buf, size_t size);

static inline void da_legacy_freep(DaLegacy **d) {
        if (*d)
                da_legacy_free(*d);
}

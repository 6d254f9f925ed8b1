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
#include "preloader-emi.h"
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
        bool nand_32bit;                    /* the report's NAND block had a 32-bit size */
        uint16_t n_nand_ids;
        uint8_t soc_status;                 /* the report's last byte: SOC_OK (C1), not required */
        uint8_t usb_speed;
} DaLegacyReport;

/* The DA1 configuration block (§2.5) and how it is cut into OUT transfers. */
#define DA_CONFIG_MAX_FIELDS 16
typedef struct DaLegacyConfig {
        uint8_t data[DA_CONFIG_LEN + DA_CONFIG_TAIL_LEN_MT8127];
        size_t len;
        uint8_t field_len[DA_CONFIG_MAX_FIELDS];
        unsigned n_fields;
} DaLegacyConfig;

typedef struct DaLegacy DaLegacy;
typedef void (*DaLegacyDone)(DaLegacy *da, int r, void *userdata);
/* Each packet of a READ, checksum already verified; < 0 aborts the read,
 * DA_LEGACY_DATA_HELD keeps the packet until da_legacy_release(). */
typedef int (*DaLegacyDataFunc)(DaLegacy *da, const uint8_t *data, size_t len, void *userdata);
#define DA_LEGACY_DATA_HELD 1

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
/* A packet the data callback held is given back; the read's done callback
 * waits for every one, and the next packets are read into those given back. */
void da_legacy_release(DaLegacy *da, const uint8_t *data);
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
/* True when the last failure was the DA saying it needs DRAM (EMI) settings
 * that nobody gave it. */
bool da_legacy_needs_emi(DaLegacy *da);
/* BROM mode (§2.6): DA1 asks for the DRAM settings of the phone's memory
 * (the 16-byte id it reports); the source returns the EMI block to send, or
 * NULL when none fits.  Without a source the start fails at once there. */
typedef const EmiBlock *(*DaLegacyEmiFunc)(DaLegacy *da, const uint8_t memory_id[DA_EMI_MEMORY_ID_LEN],
                                           void *userdata);
void da_legacy_set_emi_source(DaLegacy *da, DaLegacyEmiFunc f, void *userdata);
/* True when the last start failed because the DA refused the EMI settings
 * or the RAM did not come up with them. */
bool da_legacy_dram_failed(DaLegacy *da);
/* The block sent in the last start, NULL if none. */
const EmiBlock *da_legacy_get_emi(DaLegacy *da);
/* Whether this version's ENABLE_DRAM exchange is one mtknvd speaks. */
bool da_legacy_emi_version_supported(unsigned version);

/* ---- pure helpers: no I/O, unit-tested and fuzzed ---- */
/* Whether the chip's DA2 report has the extra status word (MT8127, MT8163). */
bool da_legacy_report_extra_word(uint16_t da_code);
/* The whole report's length, judged from its first DA_REPORT_HEAD_LEN bytes
 * (64-bit or 32-bit NAND layout); 0 when head_len is short or the NAND id
 * count is implausible. */
size_t da_legacy_report_len(const uint8_t *head, size_t head_len, bool extra_word);
/* The whole DA2 report; -EBADMSG when it is malformed, -ERANGE when the user
 * area size is beyond DA_EMMC_USER_SIZE_MAX. */
int da_legacy_parse_report(const uint8_t *buf, size_t len, bool extra_word, DaLegacyReport *ret);
/* "236 bytes: 00 00 0b c7 …" (the first 16) for error messages. */
void da_legacy_describe_bytes(const uint8_t *buf, size_t len, char *out, size_t size);
uint16_t da_legacy_checksum16(const uint8_t *data, size_t len);
/* What DA1's sync says about the storage: eMMC (true) or NAND/NOR. */
bool da_legacy_sync_says_emmc(const uint8_t *nand_ids, unsigned n_nand, const uint8_t cid[DA_EMMC_CID_LEN]);
/* The configuration block for this phone: the 18 bytes, the chip's tail. */
void da_legacy_build_config(const BromIdentity *id, bool emmc, DaLegacyConfig *ret);

static inline void da_legacy_freep(DaLegacy **d) {
        if (*d)
                da_legacy_free(*d);
}

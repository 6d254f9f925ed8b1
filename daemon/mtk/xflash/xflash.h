/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host side of MediaTek's XFlash ("V5") Download Agent (xflash.md §3-§13,
 * the flow of §17): bring up DA1 after JUMP_DA, give it the DRAM settings
 * in BROM mode, boot DA2 through BOOT_TO, learn the storage, read and write
 * byte ranges of a storage region, and end the session so that the phone
 * boots normally.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "preloader-emi.h"
#include "usb-transport.h"
#include "xflash-packet.h"

typedef struct XFlashReport {
        bool brom;                        /* DA1 was loaded by the boot ROM (GET_CONNECTION_AGENT "brom") */
        bool have_emmc, have_ufs, have_chip_id;
        XFlashEmmcInfo emmc;              /* DA2's GET_EMMC_INFO */
        XFlashUfsInfo ufs;
        XFlashChipId chip;
        uint32_t write_packet_len, read_packet_len;
        char usb_speed[16];
        /* §9.4: start switched a full-speed link to high speed; the DA
         * re-enumerates as this VID:PID (vid << 16 | pid), 0 if it stays */
        uint32_t returns_as;
        char da_agent[16];
} XFlashReport;

typedef struct XFlash XFlash;
typedef void (*XFlashDone)(XFlash *xf, int r, void *userdata);
/* Each data chunk of a READ_DATA; < 0 aborts the read, XFLASH_DATA_HELD
 * keeps the chunk until xflash_release(). */
typedef int (*XFlashDataFunc)(XFlash *xf, const uint8_t *data, size_t len, void *userdata);
#define XFLASH_DATA_HELD 1
/* BROM mode (§7): DA1 reported the eMMC CID; the EMI block to send, or NULL. */
typedef const EmiBlock *(*XFlashEmiFunc)(XFlash *xf, const uint8_t *memory_id, size_t len, void *userdata);

int xflash_new(UsbLink *link, XFlash **ret);
XFlash *xflash_free(XFlash *xf);

/* After JUMP_DA to DA1: sync, environment, connection agent (and the EMI
 * block in BROM mode), checksum level, BOOT_TO DA2 (da2 without its
 * signature, valid until done runs), SLA status, storage, chip id, USB speed;
 * a full-speed link is switched to high speed (§9.4): the call ends with
 * report.returns_as set, and the next call needs xflash_relink(). */
int xflash_start(XFlash *xf, const uint8_t *da2, size_t da2_len, uint64_t da2_addr, XFlashDone done,
                 void *userdata);
const XFlashReport *xflash_get_report(XFlash *xf);
void xflash_set_emi_source(XFlash *xf, XFlashEmiFunc f, void *userdata);

/* READ_DATA of [addr, addr+len) of a region (§10) of storage (XFLASH_STORAGE_*). */
int xflash_read(XFlash *xf, uint32_t storage, uint32_t region, uint64_t addr, uint64_t len, XFlashDataFunc data,
                XFlashDone done, void *userdata);
void xflash_release(XFlash *xf, const uint8_t *data);
/* WRITE_DATA (§11); addr and len whole 512-byte sectors; buf valid until done. */
int xflash_write(XFlash *xf, uint32_t storage, uint32_t region, uint64_t addr, const uint8_t *buf, uint64_t len,
                 XFlashDone done, void *userdata);
/* SHUTDOWN (§13), the reboot form. */
int xflash_reboot(XFlash *xf, XFlashDone done, void *userdata);
void xflash_cancel(XFlash *xf);
/* Between calls: the link the DA is on now, after it re-enumerated
 * (report.returns_as); NULL while it is away (the old link is freed). */
int xflash_relink(XFlash *xf, UsbLink *link);

const char *xflash_get_detail(XFlash *xf);
/* The DA status code of the last failure, 0 when it was no DA status. */
uint32_t xflash_get_status(XFlash *xf);
/* The last start failed because the DA asked for DRAM settings nobody has. */
bool xflash_needs_emi(XFlash *xf);
/* The DA refused the DRAM settings given. */
bool xflash_dram_failed(XFlash *xf);
/* The eMMC CID DA1 reported in BROM mode (len 0: none). */
const uint8_t *xflash_get_memory_id(XFlash *xf, size_t *ret_len);

static inline void xflash_freep(XFlash **x) {
        if (*x)
                xflash_free(*x);
}

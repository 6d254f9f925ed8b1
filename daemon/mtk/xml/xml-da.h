/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host side of MediaTek's XML ("V6") Download Agent (xml-da.md §3-§6): take
 * DA1's CMD:START after JUMP_DA, run its dialogue (§4.4), boot DA2 through
 * BOOT-TO, learn the storage (§4.5, §5.1), read and write byte ranges of a
 * storage region (§5.2, §5.4, §6), and reboot the phone (§5.5).
 *
 * Each command is one lifetime (§3.1): the command document, the DA's
 * acceptance, the DA's requests (upload, download, file-size question,
 * progress), CMD:END, and the next CMD:START, acknowledged at the end of the
 * command, as mtkclient does.  One call at a time; done runs exactly once
 * for a call that returned 0.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usb-transport.h"
#include "xml-packet.h"

typedef struct XmlDaReport {
        XmlHwInfo hw;             /* DA2's GET-HW-INFO */
        char sla[32];             /* DA2's DA.SLA property; "" when it did not answer */
} XmlDaReport;

typedef struct XmlDa XmlDa;
typedef void (*XmlDaDone)(XmlDa *xd, int r, void *userdata);
/* Each data chunk of a READ-FLASH; < 0 aborts the read, XML_DA_DATA_HELD
 * keeps the chunk until xml_da_release(). */
typedef int (*XmlDaDataFunc)(XmlDa *xd, const uint8_t *data, size_t len, void *userdata);
#define XML_DA_DATA_HELD 1

int xml_da_new(UsbLink *link, XmlDa **ret);
XmlDa *xml_da_free(XmlDa *xd);

/* After JUMP_DA to DA1: its START, SET-RUNTIME-PARAMETER, HOST-SUPPORTED-
 * COMMANDS, NOTIFY-INIT-HW, SET-HOST-INFO, BOOT-TO with da2 (without its
 * signature, valid until done runs) at da2_addr; then DA2's HOST-SUPPORTED-
 * COMMANDS, NOTIFY-INIT-HW, GET-SYS-PROPERTY DA.SLA (-EACCES when set) and
 * GET-HW-INFO (xml_da_get_report()). */
int xml_da_start(XmlDa *xd, const uint8_t *da2, size_t da2_len, uint64_t da2_addr, XmlDaDone done, void *userdata);
const XmlDaReport *xml_da_get_report(XmlDa *xd);

/* READ-FLASH of [addr, addr+len) of region (XML_REGION_*). */
int xml_da_read(XmlDa *xd, const char *region, uint64_t addr, uint64_t len, XmlDaDataFunc data, XmlDaDone done,
                void *userdata);
void xml_da_release(XmlDa *xd, const uint8_t *data);
/* WRITE-FLASH; addr and len whole 512-byte sectors; buf valid until done. */
int xml_da_write(XmlDa *xd, const char *region, uint64_t addr, const uint8_t *buf, uint64_t len, XmlDaDone done,
                 void *userdata);
/* REBOOT IMMEDIATE: the phone boots normally. */
int xml_da_reboot(XmlDa *xd, XmlDaDone done, void *userdata);
void xml_da_cancel(XmlDa *xd);

/* What failed and what to do about it, "" if nothing did. */
const char *xml_da_get_detail(XmlDa *xd);

static inline void xml_da_freep(XmlDa **x) {
        if (*x)
                xml_da_free(*x);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which USB vendor/product IDs are MediaTek download-mode phones, and in
 * which mode they talk (brom.md §1.1).  The administrator may replace the
 * list in the configuration.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct UsbIdMatch {
        uint16_t vid, pid;
        bool brom;      /* false: preloader (swallows the first A0) */
} UsbIdMatch;

typedef struct UsbIdList {
        UsbIdMatch *ids;
        size_t n;
} UsbIdList;

int usb_id_list_default(UsbIdList *list);
/* "0e8d:0003:brom 0e8d:2000:preloader ..." (space or comma separated) */
int usb_id_list_parse(UsbIdList *list, const char *s);
const UsbIdMatch *usb_id_list_find(const UsbIdList *list, uint16_t vid, uint16_t pid);
void usb_id_list_done(UsbIdList *list);
/* "e8d/2000/100" as in the udev PRODUCT property */
int usb_id_parse_product(const char *product, uint16_t *ret_vid, uint16_t *ret_pid);

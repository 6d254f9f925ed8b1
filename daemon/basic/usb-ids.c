/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "protocol/brom-proto.h"
#include "usb-ids.h"

static const UsbIdMatch default_ids[] = {
        { BROM_USB_VID_MEDIATEK, BROM_USB_PID_BROM, true },
        { BROM_USB_VID_MEDIATEK, BROM_USB_PID_PRELOADER, false },
        { BROM_USB_VID_MEDIATEK, BROM_USB_PID_PRELOADER_DA, false },
        { BROM_USB_VID_MEDIATEK, BROM_USB_PID_PRELOADER_20FF, false },
        { BROM_USB_VID_MEDIATEK, BROM_USB_PID_PRELOADER_3000, false },
        { BROM_USB_VID_MEDIATEK, BROM_USB_PID_PRELOADER_6000, false },
        { BROM_USB_VID_LG, BROM_USB_PID_LG_PRELOADER, false },
        { BROM_USB_VID_OPPO, BROM_USB_PID_OPPO_PRELOADER, false },
        { BROM_USB_VID_SONY, BROM_USB_PID_SONY_BROM_F200, true },
        { BROM_USB_VID_SONY, BROM_USB_PID_SONY_BROM_D1E9, true },
        { BROM_USB_VID_SONY, BROM_USB_PID_SONY_BROM_D1E2, true },
        { BROM_USB_VID_SONY, BROM_USB_PID_SONY_BROM_D1EC, true },
        { BROM_USB_VID_SONY, BROM_USB_PID_SONY_BROM_D1DD, true },
};

int usb_id_list_default(UsbIdList *list) {
        UsbIdMatch *ids = malloc(sizeof(default_ids));

        if (!ids)
                return -ENOMEM;
        memcpy(ids, default_ids, sizeof(default_ids));
        usb_id_list_done(list);
        list->ids = ids;
        list->n = ELEMENTSOF(default_ids);
        return 0;
}

static int parse_hex16(const char *s, size_t len, uint16_t *ret) {
        char buf[8], *end;
        unsigned long v;

        if (len == 0 || len > 4)
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        errno = 0;
        v = strtoul(buf, &end, 16);
        if (errno != 0 || *end != 0 || v > 0xffff)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int usb_id_list_parse(UsbIdList *list, const char *s) {
        UsbIdList n = {};
        const char *p = s;

        while (*p) {
                size_t len = strcspn(p, " \t,");
                const char *c1, *c2;
                UsbIdMatch m = {};
                UsbIdMatch *grown;

                if (len == 0) {
                        p++;
                        continue;
                }
                c1 = memchr(p, ':', len);
                c2 = c1 ? memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - p)) : NULL;
                if (!c1 || !c2 || parse_hex16(p, (size_t) (c1 - p), &m.vid) < 0 ||
                    parse_hex16(c1 + 1, (size_t) (c2 - c1 - 1), &m.pid) < 0)
                        goto fail;
                if ((size_t) (p + len - c2 - 1) == 4 && strncmp(c2 + 1, "brom", 4) == 0)
                        m.brom = true;
                else if ((size_t) (p + len - c2 - 1) == 9 && strncmp(c2 + 1, "preloader", 9) == 0)
                        m.brom = false;
                else
                        goto fail;

                grown = reallocarray(n.ids, n.n + 1, sizeof(UsbIdMatch));
                if (!grown) {
                        usb_id_list_done(&n);
                        return -ENOMEM;
                }
                n.ids = grown;
                n.ids[n.n++] = m;
                p += len;
        }
        if (n.n == 0)
                return -EINVAL;
        usb_id_list_done(list);
        *list = n;
        return 0;
fail:
        usb_id_list_done(&n);
        return -EINVAL;
}

const UsbIdMatch *usb_id_list_find(const UsbIdList *list, uint16_t vid, uint16_t pid) {
        for (size_t i = 0; i < list->n; i++)
                if (list->ids[i].vid == vid && list->ids[i].pid == pid)
                        return &list->ids[i];
        return NULL;
}

void usb_id_list_done(UsbIdList *list) {
        free(list->ids);
        *list = (UsbIdList) {};
}

int usb_id_parse_product(const char *product, uint16_t *ret_vid, uint16_t *ret_pid) {
        const char *s1, *s2;

        if (!product)
                return -EINVAL;
        s1 = strchr(product, '/');
        if (!s1)
                return -EINVAL;
        s2 = strchr(s1 + 1, '/');
        if (!s2)
                return -EINVAL;
        if (parse_hex16(product, (size_t) (s1 - product), ret_vid) < 0 ||
            parse_hex16(s1 + 1, (size_t) (s2 - s1 - 1), ret_pid) < 0)
                return -EINVAL;
        return 0;
}

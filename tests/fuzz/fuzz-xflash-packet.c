/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything the daemon derives from bytes an XFlash Download Agent sends:
 * the IN stream cut into packets (headers, skipped log messages, lengths
 * bounded by the caller), the statuses, and the getter answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xflash-packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t dest[0x200];
        size_t off = 0;

        /* the first byte picks the largest payload the "caller" takes */
        if (size == 0)
                return 0;
        size_t max = data[0] % 2 ? sizeof(dest) : 4;
        data++;
        size--;

        while (off < size) {
                XFlashRx rx;
                int r = 0;

                xflash_rx_begin(&rx, dest, max);
                for (;;) {
                        size_t want;
                        uint8_t *p = xflash_rx_want(&rx, &want);

                        if (want == 0)
                                break;
                        if (off + want > size)
                                return 0;
                        if (!p || (p == dest && want > max))
                                abort();
                        memcpy(p, data + off, want);
                        off += want;
                        r = xflash_rx_got(&rx);
                        if (r != 0)
                                break;
                }
                if (r < 0)
                        return 0;
                if (rx.len > max)
                        abort();
                {
                        XFlashEmmcInfo e;
                        XFlashUfsInfo u;
                        XFlashChipId c;
                        uint32_t code, w, rd;
                        char s[XFLASH_STATUS_DESCRIBE_MAX];

                        if (xflash_status_parse(dest, rx.len, &code) == 0) {
                                (void) xflash_status_describe(code, s, sizeof(s));
                                if (!xflash_status_remedy(code))
                                        abort();
                        }
                        if (xflash_parse_ufs_info(dest, rx.len, &u) == 0 && u.serial_len > sizeof(u.serial))
                                abort();
                        (void) xflash_parse_emmc_info(dest, rx.len, &e);
                        (void) xflash_parse_chip_id(dest, rx.len, &c);
                        (void) xflash_parse_packet_length(dest, rx.len, &w, &rd);
                        xflash_payload_to_string(dest, rx.len, s, sizeof(s));
                }
        }
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything the daemon derives from bytes a BROM or preloader sends while
 * being identified: the handshake byte classifier and the parsers of the
 * fixed-size answers, fed with arbitrary streams.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "brom.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        BromIdentity id = {};
        char flags[96], hex[2 * BROM_ID_MAX_LEN + 1];
        unsigned idx = 0;
        uint16_t code, status;
        uint32_t cfg;
        size_t i;

        /* A phone answering the handshake: noise is skipped, a mismatch restarts. */
        for (i = 0; i < size && idx < BROM_HANDSHAKE_LEN; i++)
                switch (brom_handshake_classify(idx, data[i])) {
                case BROM_HANDSHAKE_MATCH:
                        idx++;
                        break;
                case BROM_HANDSHAKE_MISMATCH:
                        idx = 0;
                        break;
                case BROM_HANDSHAKE_NOISE:
                        break;
                }

        /* What follows is read in the fixed field sizes of §3.3. */
        for (; i + 8 <= size; i += 8) {
                (void) brom_parse_hw_code(data + i, &code, &status);
                (void) brom_status_to_string(status);
                (void) brom_parse_hw_sw_ver(data + i, &id);
                if (brom_parse_target_config(data + i, &cfg, &status) == 0) {
                        if (brom_target_config_flags(cfg, flags, sizeof(flags)) < 0)
                                abort();
                        (void) brom_target_config_advice(cfg);
                }
        }
        if (i + 4 <= size) {
                uint32_t len = unaligned_read_be32(data + i);

                /* GET_ME_ID: the daemon refuses lengths above BROM_ID_MAX_LEN */
                if (len <= BROM_ID_MAX_LEN && len <= size - i - 4)
                        brom_hex(data + i + 4, len, hex);
        }
        return 0;
}

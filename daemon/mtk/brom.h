/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host side of the BROM / preloader download protocol: the start-byte
 * handshake and the commands that identify a phone (brom.md §2, §3).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chip-table.h"
#include "protocol/brom-proto.h"
#include "usb-transport.h"

typedef struct BromIdentity {
        bool is_brom;              /* GET_BL_VER echoed FE */
        uint16_t hw_code, hw_sub_code, hw_version, sw_version;
        uint8_t bl_version, brom_version;
        uint32_t target_config;
        bool target_config_unknown; /* GET_TARGET_CONFIG unanswered: target_config is 0 */
        uint8_t me_id[BROM_ID_MAX_LEN];
        size_t me_id_len;
        uint8_t soc_id[BROM_ID_MAX_LEN];
        size_t soc_id_len;
        const ChipInfo *chip;      /* NULL: hw code not in our table */
        bool watchdog_disabled;
} BromIdentity;

/* Why an identification failed, so the Device can name cause and remedy. */
typedef enum BromFailure {
        BROM_FAILURE_NONE,
        BROM_FAILURE_HANDSHAKE,
        BROM_FAILURE_GONE,
        BROM_FAILURE_PROTOCOL,
        BROM_FAILURE_REFUSED,      /* the phone answered with an error status */
        BROM_FAILURE_CANCELLED,
} BromFailure;

typedef struct BromSession BromSession;
typedef void (*BromDone)(BromSession *s, int r, void *userdata);

int brom_session_new(UsbLink *link, bool preloader, BromSession **ret);
BromSession *brom_session_free(BromSession *s);
int brom_session_identify(BromSession *s, BromDone done, void *userdata);
void brom_session_cancel(BromSession *s);
const BromIdentity *brom_session_get_identity(BromSession *s);
BromFailure brom_session_get_failure(BromSession *s);
/* Technical detail of the failure ("no answer at GET_HW_CODE echo"). */
const char *brom_session_get_detail(BromSession *s);

static inline void brom_session_freep(BromSession **s) {
        if (*s)
                brom_session_free(*s);
}

/* Upload a Download Agent stage with SEND_DA (brom.md §3.3, §3.5): data
 * includes the signature (sig_len bytes at its end).  A status the phone
 * answers with is kept for brom_session_get_status(). */
int brom_session_send_da(BromSession *s, uint32_t addr, const uint8_t *data, size_t len, uint32_t sig_len,
                         BromDone done, void *userdata);
int brom_session_jump_da(BromSession *s, uint32_t addr, BromDone done, void *userdata);
/* Let a phone that is still in its BROM/preloader command loop (identified,
 * no DA sent) go: WRITE32 of the WDT_SWRST key to the chip's watchdog, after
 * which it resets and boots normally.  done gets 0 once the phone took the
 * key (or vanished while answering it); -EOPNOTSUPP for an unknown chip. */
int brom_session_reset(BromSession *s, BromDone done, void *userdata);
/* Last status word the phone answered (0 if none). */
uint16_t brom_session_get_status(BromSession *s);

/* ---- pure helpers: no I/O, unit-tested and fuzzed ---- */

/* Handshake: classify one byte the phone sent while we wait for the
 * complement of start byte idx.  READY chatter is noise, not an error. */
typedef enum BromHandshakeByte {
        BROM_HANDSHAKE_MATCH,
        BROM_HANDSHAKE_NOISE,
        BROM_HANDSHAKE_MISMATCH,
} BromHandshakeByte;
BromHandshakeByte brom_handshake_classify(unsigned idx, uint8_t byte);
uint8_t brom_handshake_byte(unsigned idx);

/* Parse the fixed-size answers; -EBADMSG when the status word is an error. */
int brom_parse_hw_code(const uint8_t buf[4], uint16_t *ret_hw_code, uint16_t *ret_status);
int brom_parse_hw_sw_ver(const uint8_t buf[8], BromIdentity *id);
int brom_parse_target_config(const uint8_t buf[6], uint32_t *ret_config, uint16_t *ret_status);
bool brom_status_ok(uint16_t status);
/* XOR of the little-endian 16-bit words; an odd last byte counts alone (§3.5). */
uint16_t brom_checksum_xor16(const uint8_t *data, size_t len);

/* A sentence for the user: what the status means and what to do. */
const char *brom_status_to_string(uint16_t status);
/* "SBC+SLA+DAA", "none" */
int brom_target_config_flags(uint32_t config, char *buf, size_t size);
/* A paragraph on what the security settings mean for backing up; NULL when none are set. */
const char *brom_target_config_advice(uint32_t config);
/* Lower-case hex of the id, "" if len == 0. buf must hold 2*len+1. */
void brom_hex(const uint8_t *p, size_t len, char *buf);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XFlash ("V5") Download Agent framing and payloads (xflash.md §2, §8, §10,
 * §13, §14): pure functions, no I/O, unit-tested and fuzzed.  Every XFlash
 * integer is little-endian.
 *
 * The IN side is a stream: a packet is a 12-byte header and then exactly
 * the length it names.  XFlashRx says which bytes to read next and judges
 * them once they are in, so the same code serves the daemon (over a
 * UsbLink, which keeps whatever a merged USB packet brought beyond the bytes
 * asked for) and the fuzzer (over any byte string).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/xflash-proto.h"

/* A DA log message (type 2) longer than this is not a log message. */
#define XFLASH_MESSAGE_MAX 4096

void xflash_header_build(uint8_t out[XFLASH_HEADER_SIZE], uint32_t data_type, uint32_t len);
/* -EBADMSG: not the magic; -EPROTO: a data type that is neither 1 nor 2. */
int xflash_header_parse(const uint8_t *b, uint32_t *ret_type, uint32_t *ret_len);

typedef enum XFlashRxState {
        XFLASH_RX_HEADER,       /* reading a header */
        XFLASH_RX_PAYLOAD,      /* reading the flow packet's payload into the caller's buffer */
        XFLASH_RX_MESSAGE,      /* reading (and dropping) a type-2 message's payload */
        XFLASH_RX_DONE,
} XFlashRxState;

typedef struct XFlashRx {
        XFlashRxState state;
        uint8_t header[XFLASH_HEADER_SIZE];
        uint8_t message[XFLASH_MESSAGE_MAX];
        uint8_t *dest;
        size_t max;             /* the largest payload the caller takes */
        size_t len;             /* the payload's length, once the header is in */
        unsigned n_messages;    /* log messages skipped */
} XFlashRx;

/* A packet of at most max payload bytes into dest. */
void xflash_rx_begin(XFlashRx *rx, uint8_t *dest, size_t max);
/* Where the next bytes go and how many; *ret_len 0 when the packet is complete. */
uint8_t *xflash_rx_want(XFlashRx *rx, size_t *ret_len);
/* The bytes asked for are in.  1: the packet is complete (rx->len bytes
 * in dest); 0: read on (xflash_rx_want()); -EBADMSG: a bad magic; -EPROTO:
 * unknown type or a message too long; -EMSGSIZE: longer than max. */
int xflash_rx_got(XFlashRx *rx);

/* §2.2: a status packet's code.  -EBADMSG for a payload that is no status. */
int xflash_status_parse(const uint8_t *payload, size_t len, uint32_t *ret_code);
/* §14: "DA hash mismatch"; NULL for a code not in the table. */
const char *xflash_status_to_string(uint32_t code);
/* What the user can do about it, a sentence; never NULL. */
const char *xflash_status_remedy(uint32_t code);
/* "0xc0070004 (DA hash mismatch)" into buf. */
const char *xflash_status_describe(uint32_t code, char *buf, size_t size);
#define XFLASH_STATUS_DESCRIBE_MAX 96
/* §14 layout: bits 31-30 severity; 3 = error. */
bool xflash_status_is_error(uint32_t code);

/* §6.2 the environment block: log level INFO, UART logging (so that no
 * type-2 packet ever comes), Linux. */
void xflash_build_env(uint8_t out[XFLASH_ENV_SIZE]);
/* §10.1 the 56-byte block of READ_DATA and WRITE_DATA. */
void xflash_build_rw_param(uint8_t out[XFLASH_RW_PARAM_SIZE], uint32_t storage, uint32_t region, uint64_t addr,
                           uint64_t len);
/* §9.1 u64 address, u64 length */
void xflash_build_boot_to(uint8_t out[XFLASH_BOOT_TO_PARAM_SIZE], uint64_t addr, uint64_t len);
/* §13 penumbra's 7-word form: word 0 = 1 reboots, 0 powers off. */
void xflash_build_shutdown(uint8_t out[XFLASH_SHUTDOWN_PARAM_SIZE], bool reboot);
/* §11 row 6: the byte sum of a chunk, low 16 bits. */
uint32_t xflash_checksum(const uint8_t *data, size_t len);

/* §8.1 */
typedef struct XFlashEmmcInfo {
        uint32_t type, block_size;
        uint64_t boot1_size, boot2_size, rpmb_size, gp_size[4], user_size;
        uint8_t cid[16];
        uint64_t fw_version;
} XFlashEmmcInfo;
/* -EBADMSG: shorter than 0x60. */
int xflash_parse_emmc_info(const uint8_t *b, size_t len, XFlashEmmcInfo *ret);

/* §8.2 (the 0xc8-byte layout, or the old 0x34-byte one) */
typedef struct XFlashUfsInfo {
        uint32_t type, block_size;
        uint64_t lu0_size, lu1_size, lu2_size;
        uint8_t cid[20];
        size_t cid_len;
        uint8_t serial[132];
        size_t serial_len;      /* without trailing NULs; 0 in the old layout */
} XFlashUfsInfo;
int xflash_parse_ufs_info(const uint8_t *b, size_t len, XFlashUfsInfo *ret);

/* §8.3 GET_PACKET_LENGTH: u32 write, u32 read */
int xflash_parse_packet_length(const uint8_t *b, size_t len, uint32_t *ret_write, uint32_t *ret_read);
/* §8.3 GET_CHIP_ID: 5 × u16 */
typedef struct XFlashChipId {
        uint16_t hw_code, hw_sub_code, hw_version, sw_version, chip_evolution;
} XFlashChipId;
int xflash_parse_chip_id(const uint8_t *b, size_t len, XFlashChipId *ret);
/* An ASCII answer (connection agent, USB speed) compared byte-exact (§19.7). */
bool xflash_payload_is(const uint8_t *b, size_t len, const char *s);
/* Printable copy for logs: non-printable bytes become '.'. */
void xflash_payload_to_string(const uint8_t *b, size_t len, char *out, size_t size);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the simulated phone: its state and the few helpers its protocol
 * personalities share.  Only sim-phone.c (BROM, preloader, legacy DA),
 * sim-xflash.c (the XFlash DA) and sim-xml.c (the XML DA) include this;
 * everything else sees
 * sim-phone.h.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "brom-proto.h"
#include "sim-emi.h"
#include "sim-phone.h"
#include "sim-storage.h"
#include "sim-xflash.h"
#include "sim-xml.h"

typedef enum Phase {
        PHASE_OFF,          /* unplugged by a human */
        PHASE_LISTEN,       /* preloader waiting for A0 or a mode token (§2.2) */
        PHASE_HANDSHAKE,    /* start bytes */
        PHASE_COMMAND,      /* BROM / preloader command loop */
        PHASE_DA_ACK,       /* DA1: waiting for the host's 5A after the sync block */
        PHASE_DA_CONFIG,
        PHASE_DA_NEED_EMI,  /* BROM-mode DA1 that wants EMI settings: waits for ENABLE_DRAM */
        PHASE_DA_EMI,       /* ENABLE_DRAM accepted: lengths, records, checksum, DRAM result */
        PHASE_DA_STOPPED,   /* DA1 gave up (da1_stop says why): answers nothing */
        PHASE_DA2_HEAD,
        PHASE_DA2_DATA,
        PHASE_DA2_FINAL,
        PHASE_DA_LOOP,
        PHASE_FINISH,       /* FINISH answered; an optional u32 mode may follow */
        PHASE_DEAD,         /* about to leave the bus: answers nothing */
        PHASE_GONE,         /* left for good (unplug faults) */
        PHASE_RESETTING,    /* off the bus between a reset and the next enumeration */
        PHASE_BOOTED,       /* off the bus: in its OS */
        PHASE_RECONNECTING, /* off the bus: the DA switches to high speed */
        PHASE_XF_DA1,       /* XFlash DA1: start-up and its command loop */
        PHASE_XF_DA2,       /* XFlash DA2 command loop */
        PHASE_POWERED_OFF,  /* off the bus: XFlash SHUTDOWN powered it off */
        PHASE_XML_DA1,      /* XML DA1: its command loop */
        PHASE_XML_DA2,      /* XML DA2 command loop */
} Phase;
#define PHASE_COUNT (PHASE_XML_DA2 + 1)

typedef enum Boot {
        BOOT_COLD,          /* plugged in by a human: its configured personality */
        BOOT_RESET,         /* after a reset or a restart: a preloader */
        BOOT_RECONNECT,     /* after the DA's speed switch: still the DA */
} Boot;

typedef enum Offbus {
        OFFBUS_NONE,
        OFFBUS_ENUMERATE,   /* the wait before the next enumeration */
        OFFBUS_RESTART,     /* in its OS, about to restart (boot loop) */
} Offbus;

/* stats' last_reset */
typedef enum ResetReason {
        RESET_NONE,
        RESET_WDT_SWRST,
        RESET_WDT_MODE,
        RESET_ENABLE_WATCHDOG,
        RESET_FINISH,
        RESET_WATCHDOG_EXPIRED,
        RESET_SIG_VERIFY_FAIL,
        RESET_XF_SHUTDOWN,  /* XFlash SHUTDOWN asked for a reboot */
        RESET_XML_REBOOT,   /* XML REBOOT IMMEDIATE */
} ResetReason;

typedef enum Dram {
        DRAM_NONE,          /* no ENABLE_DRAM exchange finished this enumeration */
        DRAM_UP,
        DRAM_FAILED,
} Dram;

typedef struct Field {
        uint8_t *data;
        size_t len, pos;
        uint64_t not_before;         /* a late answer: not on the wire before (µs) */
        bool zlp;                    /* a zero-length packet: ends the transfer with what came before */
} Field;

struct SimPhone {
        SimPhoneConfig cfg;
        SimStorage *storage;
        Phase phase;
        bool brom;                   /* this enumeration's personality (a reset makes it a preloader) */
        bool usb_brom;               /* this enumeration's USB identity */
        bool speed_switched;         /* the DA switched this link to high speed (70 01) */
        Boot next_boot;
        Offbus offbus;
        unsigned events;
        unsigned phase_entries[PHASE_COUNT];

        /* life */
        SimLeave leave;              /* wants to leave the bus (when its answers are out) */
        bool leave_now;              /* ... without waiting for them */
        ResetReason leave_reason;
        ResetReason last_reset;
        unsigned boots, resets, enumerations;
        unsigned boots_attached;     /* boots since a human plugged it in */
        bool wdt_on;
        bool wdt_by_mode;            /* re-armed through WDT_MODE */
        bool wdt_main_off, wdt_extra_off;
        uint64_t wdt_deadline;       /* 0: not counting (still waiting for a host) */
        uint64_t finish_deadline;
        uint64_t emit_delay_us;      /* the next answer comes this late */
        uint64_t last_not_before;
        uint64_t da2_done_us;
        const char *da1_stop;
        unsigned config_field;       /* da-config=split: fields received */
        GByteArray *rx;              /* host bytes not consumed yet */
        GQueue fields;               /* Field*: answers not sent yet */
        uint16_t line_state;
        uint64_t listen_deadline, hs_deadline, next_ready;
        unsigned hs_idx;
        uint8_t token[BROM_PRELOADER_TOKEN_LEN];
        size_t token_len;

        /* command in progress */
        int op;
        unsigned stage;
        uint32_t a[4];
        uint32_t count, done_count;
        uint16_t status1;
        bool swrst_pending;

        /* SEND_DA */
        uint32_t da_addr, da_len, da_sig_len, da_got;
        uint16_t da_xor;
        uint8_t da_odd;
        bool da_loaded;
        uint32_t da_loaded_addr;
        GByteArray *da_head;         /* first bytes of DA1, kept for the stats */
        GByteArray *da1_image;       /* XFlash: all of DA1 (its DA2 hash, for SBC) */
        SimXflash xf;
        SimXml xml;

        /* legacy DA */
        uint32_t da2_len, da2_pkt, da2_got, da2_chunk_got;
        unsigned config_len;
        uint8_t region;
        uint64_t rw_addr, rw_len, rw_off;
        uint32_t rw_pkt;
        uint8_t *chunk;
        size_t chunk_len, chunk_got;

        /* ENABLE_DRAM (brom-emi.md §6) */
        int64_t emi_version_sent;    /* the last E8's version (FFFFFFFF read as 0); -1: none */
        uint32_t emi_len;            /* record bytes expected */
        GByteArray *emi_rx;          /* record bytes received */
        uint64_t emi_bytes;
        Dram dram;

        /* faults */
        SimFault fault;
        uint64_t fault_arg;
        SimFault armed;              /* waits for armed_op */
        uint64_t armed_arg;
        int armed_op;
        uint32_t rng;

        /* stats */
        uint64_t bytes_in, bytes_out, da_bytes;
        uint64_t now;                /* time of the bytes being handled (CLOCK_MONOTONIC µs) */
        uint64_t plug_us, first_rx_us, handshake_us;
        uint64_t cmd_start_us, rw_first_us, rw_last_us;
        uint64_t read_bytes, read_us, write_bytes, write_us;
        unsigned reads, writes;
        unsigned handshakes;
        GString *commands;
        int last_cmd;
};

/* The helpers both personalities use (sim-phone.c) */
void sim_phone_emit(SimPhone *p, const void *data, size_t len);   /* faults may replace it */
void sim_phone_emit_zlp(SimPhone *p);
void sim_phone_enter(SimPhone *p, Phase ph);
void sim_phone_leave(SimPhone *p, SimLeave why, ResetReason reason, bool now);
void sim_phone_reset_chip(SimPhone *p, ResetReason reason);
/* a command (or XFlash control code) arrived: arms KIND@OP faults, stats */
void sim_phone_note_command(SimPhone *p, int op);
/* ... an XML command: armed by its number, listed by its name */
void sim_phone_note_named(SimPhone *p, int op, const char *name);
/* bytes of DA data read or written (unplug-after-da-bytes) */
void sim_phone_count_da(SimPhone *p, size_t n);
/* brom-emi.md: the memory id its DA matches EMI records against */
const uint8_t *sim_phone_memory_id(SimPhone *p);

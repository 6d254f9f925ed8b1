/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The phone itself, without USB: a BROM or preloader that answers the
 * download protocol byte for byte (brom.md), then the legacy Download Agent
 * (da.md §2) on a file-backed eMMC.  OUT bytes go in as a stream; answers
 * come out as a queue of fields, each of which the USB layer sends as its
 * own short packet(s), as the real preloader does (brom.md §1.5).
 *
 * Not thread-safe: the USB layer serialises access with its own lock.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum SimFault {
        SIM_FAULT_NONE,
        SIM_FAULT_UNPLUG_AFTER_BYTES,   /* arg: bytes received from the host */
        SIM_FAULT_UNPLUG_AFTER_CMD,     /* arg: opcode */
        SIM_FAULT_STALL,                /* stop answering, stay plugged */
        SIM_FAULT_GARBAGE,              /* arg: bytes of noise instead of the next answer */
        SIM_FAULT_WRONG_ECHO,           /* the next echo is wrong */
        SIM_FAULT_STATUS,               /* arg: the next status word */
        SIM_FAULT_BAD_CHECKSUM,         /* the next DA data checksum is wrong */
        SIM_FAULT_NACK,                 /* the next DA acknowledgement is a NACK */
        SIM_FAULT_DA_REJECT,            /* SEND_DA: signature check fails (status2 0x2001) */
        SIM_FAULT_CORRUPT_WRITE,        /* the next written chunk is stored with a flipped bit */
        SIM_FAULT_UNPLUG_AFTER_DA_BYTES,/* arg: bytes of DA traffic (reads+writes) */
} SimFault;

typedef struct SimPhoneConfig {
        char id[32];
        char chip[16];
        uint16_t hw_code, hw_sub_code, hw_version, sw_version;
        uint16_t da_code;
        uint32_t wdt_base;
        bool has_soc_id;
        bool brom;                      /* personality: BROM (0003) or preloader (2000) */
        uint32_t target_config;
        uint8_t bl_ver, brom_ver;
        uint8_t me_id[16];
        uint8_t soc_id[32];
        unsigned handshake_window_ms;   /* preloader listen window; 0 = forever */
        char *storage;                  /* eMMC image path (created if missing) */
        bool pmt_layout;                /* PMT instead of GPT */
        bool daa_accept;                /* with DAA on: the DA we get counts as OEM-signed */
        SimFault fault;
        uint64_t fault_arg;
        int fault_at_op;                /* arm the fault when this opcode arrives; -1: at once */
        double rate_mbps;               /* 0: uncapped */
        unsigned latency_us;            /* per-transfer completion latency of the USB model */
        bool start_in_da;               /* start=da: enumerate already in the DA command loop */
        bool start_unplugged;           /* unplugged=1: not plugged at start; `plug ID` does it */
} SimPhoneConfig;

typedef struct SimPhone SimPhone;

SimPhone *sim_phone_new(const SimPhoneConfig *cfg, GError **error);
void sim_phone_free(SimPhone *p);
SimPhoneConfig *sim_phone_config(SimPhone *p);

/* A (re)plug: the phone starts over in its configured personality. */
void sim_phone_power_on(SimPhone *p, uint64_t now_us);
/* The moment the plug's "add" uevent goes out (for the stats' plug_us). */
void sim_phone_mark_plugged(SimPhone *p, uint64_t now_us);
void sim_phone_set_fault(SimPhone *p, SimFault f, uint64_t arg, int at_op);
void sim_phone_set_line_state(SimPhone *p, uint16_t state, uint64_t now_us);

/* Bytes the host sent (a zero-length packet is just not passed in). */
void sim_phone_receive(SimPhone *p, const uint8_t *data, size_t len, uint64_t now_us);
/* Time passes: READY chatter and the preloader's listen window. Returns
 * the next time (µs) it wants to be called, or 0 for never. */
uint64_t sim_phone_tick(SimPhone *p, uint64_t now_us);

/* Fill an IN transfer of cap bytes following USB rules: whole packets of
 * mps, a short packet ends it.  Returns -1 when it would not complete yet,
 * else the length; *overflow when a packet did not fit. */
gssize sim_phone_take_in(SimPhone *p, uint8_t *buf, size_t cap, uint16_t mps, bool *overflow);
bool sim_phone_in_ready(SimPhone *p, size_t cap, uint16_t mps);

/* The phone wants to leave the bus (rebooted, listen window over, fault). */
bool sim_phone_wants_unplug(SimPhone *p);
const char *sim_phone_storage_path(SimPhone *p);
/* "key=value ..." for the control channel's stats command. */
char *sim_phone_stats(SimPhone *p);

/* "KIND[:ARG][@OP]": @OP arms the fault only when opcode OP arrives. */
int sim_fault_parse(const char *s, SimFault *ret, uint64_t *ret_arg, int *ret_at_op);

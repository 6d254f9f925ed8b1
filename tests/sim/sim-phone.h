/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The phone itself, without USB: a BROM or preloader that answers the
 * download protocol byte for byte (brom.md), then the legacy Download Agent
 * (da.md §2) or the XFlash one (xflash.md, sim-xflash.h) on a file-backed
 * eMMC or UFS.  OUT bytes go in as a stream; answers
 * come out as a queue of fields, each of which the USB layer sends as its
 * own short packet(s), as the real preloader does (brom.md §1.5).
 *
 * Not thread-safe: the USB layer serialises access with its own lock.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim-emi.h"

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
        SIM_FAULT_OUT_STALL,            /* arg: the next N bulk OUT transfers stall (EPIPE) */
        SIM_FAULT_CHUNK_STATUS,         /* XFlash, arg: a status in place of the next data chunk */
} SimFault;

/* What XOR16 SEND_DA reports back (brom.md §3.5) */
typedef enum SimChecksumMode {
        SIM_CHECKSUM_RIGHT,
        SIM_CHECKSUM_ZERO,
        SIM_CHECKSUM_WRONG,
} SimChecksumMode;

/* layout=: what a new image holds (sim-storage.c) */
typedef enum SimLayout {
        SIM_LAYOUT_GPT,                 /* MT6735 layout of da.md §5.6 */
        SIM_LAYOUT_PMT,                 /* a PMT-era phone */
        SIM_LAYOUT_MT6765,              /* the XFlash-era MT6765 scatter layout */
} SimLayout;

/* xml-da2-check=: when an XML DA1 checks DA2's SHA-256 (sim-xml.c) */
typedef enum SimXmlDa2Check {
        SIM_XML_DA2_CHECK_SLOT,         /* always, against DA1's hash slot (a stock DA) */
        SIM_XML_DA2_CHECK_SBC,          /* only with secure boot (target-config SBC) */
        SIM_XML_DA2_CHECK_NONE,         /* never */
} SimXmlDa2Check;

typedef struct SimPhoneConfig {
        char id[32];
        char chip[16];
        uint16_t hw_code, hw_sub_code, hw_version, sw_version;
        uint16_t da_code;
        uint32_t wdt_base, wdt_value;   /* watchdog base and its disable value (brom.md §5) */
        bool has_soc_id;
        bool iot;                       /* GET_HW_SW_VER / GET_ME_ID unknown to the ROM */
        bool xflash;                    /* DA1 speaks XFlash (chip table, da-protocol=) */
        bool xml;                       /* DA1 speaks XML ("V6"; chip table, da-protocol=xml) */
        bool xflash_set;                /* da-protocol= given: chip= leaves it */
        bool brom;                      /* personality: BROM (0003) or preloader (2000) */
        uint32_t target_config;
        uint8_t bl_ver, brom_ver;
        uint8_t me_id[16];
        uint8_t soc_id[32];
        unsigned handshake_window_ms;   /* preloader listen window; 0 = forever */
        char *storage;                  /* eMMC image path (created if missing) */
        SimLayout layout;
        bool layout_set;                /* layout= given: chip= leaves it */
        bool ufs;                       /* storage-type=ufs (fixed when the phone is added) */
        bool daa_accept;                /* with DAA on: the DA we get counts as OEM-signed */
        SimFault fault;
        uint64_t fault_arg;
        int fault_at_op;                /* arm the fault when this opcode arrives; -1: at once */
        double rate_mbps;               /* 0: uncapped */
        unsigned latency_us;            /* per-transfer completion latency of the USB model */
        char hub[32];                   /* behind this simulated hub ("": a port of its own) */
        bool start_in_da;               /* start=da: enumerate already in the DA command loop */
        bool start_unplugged;           /* unplugged=1: not plugged at start; `plug ID` does it */

        /* its life (tests/sim/README.md "A phone's life") */
        unsigned watchdog_ms;           /* unless disabled, the watchdog resets it; 0 = never */
        unsigned boot_delay_ms;         /* reset -> enumerating again */
        unsigned boots;                 /* boots while attached before it stays in its OS */
        unsigned uptime_ms;             /* in its OS before a boot-looping phone restarts */

        /* where the reference leaves a choice open ("Phone keys") */
        bool da_config_split;           /* DA1 takes the config block only field by field */
        unsigned dram_delay_ms;         /* before the DRAM status word */
        bool read_ack_after_size;       /* READ: 5A only after the u32 packet size */
        unsigned read_split;            /* READ: a short packet every this many data bytes; 0: off */
        bool read_zlp;                  /* READ: a ZLP between data and checksum */
        unsigned da2_settle_ms;         /* DA2 uploaded: a final 5A earlier than this is lost */
        SimChecksumMode send_da_checksum;
        unsigned slow_ms;               /* signature checks at ROM clock */
        unsigned nand_ids;              /* NAND id count of the DA2 report; 0: 32-bit layout */
        uint8_t soc_ok;                 /* last byte of the DA2 report */
        int usb_speed;                  /* answer to USB_CHECK_STATUS; -1: by mode */
        uint8_t absent[32];             /* bitmap: opcodes the ROM does not know */

        /* the XFlash DA (xflash.md; tests/sim/README.md "XFlash") */
        bool sla;                       /* sla=1: DA-SLA on, reads and writes refused */
        bool xf_status_before_ack;      /* xf-read-status=before-ack */
        unsigned xf_emmc_info_len;      /* xf-emmc-info= 0x68 | 0x60 */
        unsigned xf_ram_info_len;       /* xf-ram-info= 48 | 24 */
        unsigned xf_ufs_info_len;       /* xf-ufs-info= 0xc8 | 0x34 */
        bool xf_da2_zero;               /* xf-da2-sync=zero: BOOT_TO's second status is 0, not SYNC */
        bool xf_shutdown_flags;         /* xf-shutdown=flags: word 0 is mtkclient's "has flags" */
        uint32_t xf_read_packet, xf_write_packet; /* GET_PACKET_LENGTH */
        bool xf_read_zlp;               /* xf-read-zlp=1: a ZLP after each READ_DATA chunk */
        bool xf_read_one_status;        /* xf-read-statuses=1: no second status after the block */
        bool xf_emi_silent;             /* xf-emi-refuse=silent: a refused block, and DA1 answers no more */

        /* the XML DA (xml-da.md; tests/sim/README.md "The XML DA") */
        bool xml_start_arg;             /* xml-start=arg: CMD:START with an empty <arg></arg> (113 bytes) */
        uint32_t xml_read_packet;       /* UPLOAD-FILE packet_length of READ-FLASH / READ-PARTITION */
        uint32_t xml_write_packet;      /* DOWNLOAD-FILE packet_length of WRITE-FLASH */
        bool xml_hex_only;              /* xml-value=hex: OK@<decimal> and decimal arguments refused */
        SimXmlDa2Check xml_da2_check;   /* xml-da2-check= */

        /* BROM mode: the DRAM (EMI) exchange of brom-emi.md §6 */
        int emi_version;                /* its preloaders' EMI version (chip table, emi-version=); -1 none */
        bool emi_version_set;           /* emi-version= given: chip= leaves it */
        bool have_memory_id;            /* memory-id= given; else the eMMC CID */
        uint8_t memory_id[SIM_EMI_ID_LEN];
        SimEmiBlock preloader;          /* preloader=: the EMI records of this phone's firmware */
} SimPhoneConfig;

/* Why a phone left the bus by itself */
typedef enum SimLeave {
        SIM_LEAVE_NONE,
        SIM_LEAVE_GONE,                 /* unplug faults: a cable pulled, for good */
        SIM_LEAVE_RESET,                /* a reset: it enumerates again as a preloader */
        SIM_LEAVE_BOOT,                 /* it booted its OS */
        SIM_LEAVE_RECONNECT,            /* the DA switched the link to high speed */
        SIM_LEAVE_POWER_OFF,            /* XFlash SHUTDOWN: powered off, stays off */
} SimLeave;

/* What a phone off the bus does next (sim_phone_offbus_step) */
typedef enum SimOffbus {
        SIM_OFFBUS_STAY,                /* stays off the bus */
        SIM_OFFBUS_WAIT,                /* call again after *ret_ms */
        SIM_OFFBUS_ENUMERATE,           /* plug it in now (a new device number) */
} SimOffbus;

typedef struct SimPhone SimPhone;

SimPhone *sim_phone_new(const SimPhoneConfig *cfg, GError **error);
void sim_phone_free(SimPhone *p);
SimPhoneConfig *sim_phone_config(SimPhone *p);

/* A human plugs it in, powered off: the next enumeration starts over in
 * its configured personality, and its boot count starts again. */
void sim_phone_attach(SimPhone *p);
/* A human pulls the cable: it is off the bus for good (phase "off"). */
void sim_phone_detach(SimPhone *p);
/* It enumerates: as attached (configured personality), after a reset (a
 * preloader), or after a speed switch (still in its DA). */
void sim_phone_power_on(SimPhone *p, uint64_t now_us);
/* It left the bus by itself; then each time the *ret_ms of a WAIT passed. */
SimOffbus sim_phone_offbus_step(SimPhone *p, unsigned *ret_ms);
/* USB identity of this enumeration: BROM 0e8d:0003 full speed, or 0e8d:2000 high speed */
bool sim_phone_usb_brom(SimPhone *p);
/* Its product id: 0003, 2000, or 2001 after an XFlash DA's speed switch */
uint16_t sim_phone_usb_pid(SimPhone *p);
/* The bulk OUT transfer just submitted stalls (fault out-stall). */
bool sim_phone_take_out_stall(SimPhone *p);
/* Bumped on every change a `wait` can be waiting for (phase, counters, watchdog). */
unsigned sim_phone_events(SimPhone *p);
/* How often the phase of this name was entered since the phone was added; -1: no such phase. */
int sim_phone_phase_entries(SimPhone *p, const char *name);
/* The moment the plug's "add" uevent goes out (for the stats' plug_us). */
void sim_phone_mark_plugged(SimPhone *p, uint64_t now_us);
void sim_phone_set_fault(SimPhone *p, SimFault f, uint64_t arg, int at_op);
void sim_phone_set_line_state(SimPhone *p, uint16_t state, uint64_t now_us);

/* Bytes the host sent (a zero-length packet is just not passed in). */
void sim_phone_receive(SimPhone *p, const uint8_t *data, size_t len, uint64_t now_us);
/* Time passes: READY chatter, the listen window, the watchdog, answers
 * that come late.  Returns the next time (µs) it wants to be called, or 0
 * for never. */
uint64_t sim_phone_tick(SimPhone *p, uint64_t now_us);

/* Fill an IN transfer of cap bytes following USB rules: whole packets of
 * mps, a short packet ends it.  Returns -1 when it would not complete yet,
 * else the length; *overflow when a packet did not fit. */
gssize sim_phone_take_in(SimPhone *p, uint8_t *buf, size_t cap, uint16_t mps, bool *overflow, uint64_t now_us);
bool sim_phone_in_ready(SimPhone *p, size_t cap, uint16_t mps, uint64_t now_us);

/* The phone wants to leave the bus (reset, booted, speed switch, fault). */
SimLeave sim_phone_wants_unplug(SimPhone *p);
const char *sim_phone_storage_path(SimPhone *p);
/* "key=value ..." for the control channel's stats command. */
char *sim_phone_stats(SimPhone *p);

/* "0xd8,0xe1" -> the absent-opcode bitmap */
int sim_opcodes_parse(const char *s, uint8_t bitmap[32]);
/* "KIND[:ARG][@OP]": @OP arms the fault only when opcode OP arrives. */
int sim_fault_parse(const char *s, SimFault *ret, uint64_t *ret_arg, int *ret_at_op);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated phone's XFlash ("V5") Download Agent, written from
 * ../shared/protocol/xflash.md (section numbers below refer to it), not
 * from the daemon: DA1 after JUMP_DA (§6), its device-control getters and
 * setters (§8), INIT_EXT_RAM in BROM mode (§7), BOOT_TO of DA2 (§9),
 * READ_DATA / WRITE_DATA (§10, §11) and SHUTDOWN (§13) on the phone's eMMC
 * or UFS image.  OUT is a byte stream of 12-byte headers and payloads; every
 * header and every payload the DA sends is a field of its own (§2.3).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim-phone.h"

/* The DA's state (part of SimPhone; sim-phone-impl.h) */
typedef struct SimXflash {
        bool da2;                    /* DA2 runs (else DA1) */
        bool synced;                 /* DA1 got SYNC */
        bool hw_init;                /* DA1 got SETUP_HW_INIT_PARAMS: its command loop runs */
        bool dram_up;                /* DRAM usable for DA2: preloader mode, or INIT_EXT_RAM accepted */
        bool resync;                 /* a bad header: drop OUT transfers until one starts with the magic */
        uint64_t skip;               /* payload bytes of a refused packet still to drop */
        int cmd;                     /* command in progress; -1 none */
        unsigned step;               /* where in it */
        uint32_t ctrl;               /* DEVICE_CTRL code in progress */
        uint32_t param;              /* INIT_EXT_RAM length / BOOT_TO length announced */
        uint64_t boot_addr;
        uint32_t storage, region;    /* READ_DATA / WRITE_DATA block */
        uint64_t addr, len, off;
        uint32_t checksum;           /* WRITE_DATA: the host's checksum of the next chunk */
        uint32_t checksum_level, reset_key;
        uint32_t last_cmd, last_ctrl, last_status;
        unsigned emi_tries, boot_refused, protocol_errors;
        const char *shutdown;        /* "reboot" / "power-off" once SHUTDOWN came */
} SimXflash;

/* After JUMP_DA: DA1 sends its C0 and waits for SYNC. */
void sim_xflash_start(SimPhone *p);
/* start=da / after a speed switch: the DA2 command loop as it was left */
void sim_xflash_resume_da2(SimPhone *p);
/* Power-on: forget the DA. */
void sim_xflash_reset(SimXflash *x);
/* An OUT transfer arrives; false when the DA drops it (resynchronising). */
bool sim_xflash_accept(SimPhone *p, const uint8_t *data, size_t len);
/* One step on the bytes received; false when it needs more. */
bool sim_xflash_step(SimPhone *p);
/* " key=value ..." for stats */
void sim_xflash_stats(SimPhone *p, GString *s);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Written from ../shared/protocol/brom.md and da.md, not from the daemon.
 * Where the reference is silent the choice is marked "assumed" and listed
 * in tests/sim/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "brom-proto.h"
#include "da-legacy-proto.h"
#include "sim-emi.h"
#include "sim-phone-impl.h"
#include "sim-phone.h"
#include "sim-storage.h"
#include "sim-xflash.h"
#include "sim-xml.h"


/* Names of the phases for stats and `wait`; several phases share one */
static const char *const phase_names[] = {
        [PHASE_OFF] = "off",
        [PHASE_LISTEN] = "listen",
        [PHASE_HANDSHAKE] = "handshake",
        [PHASE_COMMAND] = "command",
        [PHASE_DA_ACK] = "da1",
        [PHASE_DA_CONFIG] = "da1",
        [PHASE_DA_NEED_EMI] = "da1-need-emi",
        [PHASE_DA_EMI] = "da1-emi",
        [PHASE_DA_STOPPED] = "da1-stopped",
        [PHASE_DA2_HEAD] = "da2-upload",
        [PHASE_DA2_DATA] = "da2-upload",
        [PHASE_DA2_FINAL] = "da2-upload",
        [PHASE_DA_LOOP] = "da",
        [PHASE_FINISH] = "finish",
        [PHASE_DEAD] = "leaving",
        [PHASE_GONE] = "gone",
        [PHASE_RESETTING] = "resetting",
        [PHASE_BOOTED] = "booted",
        [PHASE_RECONNECTING] = "reconnecting",
        [PHASE_XF_DA1] = "xflash-da1",
        [PHASE_XF_DA2] = "xflash-da2",
        [PHASE_POWERED_OFF] = "powered-off",
        [PHASE_XML_DA1] = "xml-da1",
        [PHASE_XML_DA2] = "xml-da2",
};


static const char *const reset_names[] = {
        "none", "wdt-swrst", "wdt-mode", "enable-watchdog", "finish", "watchdog-expired", "sig-verify-fail", "shutdown",
        "reboot",
};

/* brom-emi.md §6: what a BROM-mode DA1 says about its DRAM */
#define EMI_SECOND_WORD       0x00000000u   /* §6.1 row 2, meaning unknown [SIM 0] */
#define EMI_CONFIRM           0x80000001u   /* §6.2 row 12 "send DRAM config" */
#define EMI_RET_OK            0u
#define EMI_RET_FAILED        3012u         /* §6.2 row 13: seen on MT6580 (assumed for every failure) */
#define EMI_RAM_TYPE_DRAM     0x02
#define EMI_RAM_CS            0x00
#define EMI_V13_EXTRA_WORDS   5             /* §6.2 row 15 */
#define EXT_RAM_SIZE          0xc0000000ULL /* 3 GiB, also in the DA2 report */

/* stats' dram */

static const char *const dram_names[] = { "none", "up", "failed" };

/* Steps of PHASE_DA_EMI (p->stage) */
enum {
        EMI_STAGE_ACK,      /* the host's 5A after the DA's length word */
        EMI_STAGE_LENGTH,   /* v15–v21: u32 length of the records */
        EMI_STAGE_ECHO,     /* v00: the DA's length back */
        EMI_STAGE_RECORDS,
        EMI_STAGE_CONFIRM,  /* 5A, then u32 80 00 00 01 */
};

/* FINISH: how long the DA waits for the optional u32 mode (assumed) */
#define FINISH_MODE_WAIT_MS 100


/* ------------------------------------------------------------ helpers */

static void field_free(gpointer f);

static uint16_t be16(const uint8_t *b) {
        return (uint16_t) ((b[0] << 8) | b[1]);
}
static uint32_t be32(const uint8_t *b) {
        return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
}
static uint64_t be64(const uint8_t *b) {
        return ((uint64_t) be32(b) << 32) | be32(b + 4);
}
static void put16(uint8_t *b, uint16_t v) {
        b[0] = (uint8_t) (v >> 8);
        b[1] = (uint8_t) v;
}
static void put32(uint8_t *b, uint32_t v) {
        b[0] = (uint8_t) (v >> 24);
        b[1] = (uint8_t) (v >> 16);
        b[2] = (uint8_t) (v >> 8);
        b[3] = (uint8_t) v;
}
static void put64(uint8_t *b, uint64_t v) {
        put32(b, (uint32_t) (v >> 32));
        put32(b + 4, (uint32_t) v);
}

static uint32_t sim_rand(SimPhone *p) {
        /* xorshift32: noise must be reproducible run to run */
        p->rng ^= p->rng << 13;
        p->rng ^= p->rng >> 17;
        p->rng ^= p->rng << 5;
        return p->rng;
}

static void emit_raw(SimPhone *p, const void *data, size_t len) {
        Field *f = g_new0(Field, 1);

        f->data = g_memdup2(data, len);
        f->len = len;
        /* answers leave in order: a late one holds back those behind it */
        if (p->emit_delay_us) {
                p->last_not_before = MAX(p->last_not_before, p->now) + p->emit_delay_us;
                p->emit_delay_us = 0;
        }
        f->not_before = p->last_not_before;
        g_queue_push_tail(&p->fields, f);
}

/* A zero-length packet (read-split=, read-zlp=): the host sees a field
 * boundary even where the data before it ended on a full packet. */
static void emit_zlp(SimPhone *p) {
        emit_raw(p, NULL, 0);
        ((Field *) g_queue_peek_tail(&p->fields))->zlp = true;
}

/* The next answer is ms late (slow-ms, dram-delay). */
static void emit_later(SimPhone *p, unsigned ms) {
        p->emit_delay_us = (uint64_t) ms * 1000u;
}

static void note_event(SimPhone *p) {
        p->events++;
}

static void set_phase(SimPhone *p, Phase ph) {
        const char *old = phase_names[p->phase];

        p->phase = ph;
        if (!g_str_equal(old, phase_names[ph]) || ph == PHASE_OFF) {
                p->phase_entries[ph]++;
                /* the entry count belongs to the name: phases sharing one add up */
                for (size_t i = 0; i < G_N_ELEMENTS(phase_names); i++)
                        if (i != (size_t) ph && g_str_equal(phase_names[i], phase_names[ph]))
                                p->phase_entries[i] = p->phase_entries[ph];
                note_event(p);
        }
}

/* The phone leaves the bus: once its answers are out, or at once. */
static void leave_bus(SimPhone *p, SimLeave why, ResetReason reason, bool now) {
        if (p->leave != SIM_LEAVE_NONE)
                return;
        p->leave = why;
        p->leave_reason = reason;
        p->leave_now = now;
        if (why != SIM_LEAVE_RECONNECT) {
                /* off download mode: the next power-on arms it again */
                p->wdt_on = false;
                p->wdt_deadline = 0;
        }
        if (now)
                g_queue_clear_full(&p->fields, field_free);
        set_phase(p, why == SIM_LEAVE_GONE ? PHASE_GONE : PHASE_DEAD);
}

static void reset_chip(SimPhone *p, ResetReason reason) {
        /* a watchdog bites at once; a reset the host asked for answers first */
        leave_bus(p, SIM_LEAVE_RESET, reason, reason == RESET_WATCHDOG_EXPIRED || reason == RESET_WDT_MODE);
}

/* Every answer goes through here, so a fault can replace it. */
static void emit(SimPhone *p, const void *data, size_t len) {
        if (p->fault == SIM_FAULT_GARBAGE) {
                size_t n = p->fault_arg ? p->fault_arg : 16;
                uint8_t *g = g_malloc(n);

                for (size_t i = 0; i < n; i++) {
                        /* never a handshake complement or READY letter by accident */
                        do
                                g[i] = (uint8_t) sim_rand(p);
                        while (g[i] == 0x5f || g[i] == 0xf5 || g[i] == 0xaf || g[i] == 0xfa ||
                               memchr(BROM_PRELOADER_READY, g[i], BROM_PRELOADER_READY_LEN));
                }
                emit_raw(p, g, n);
                g_free(g);
                p->fault = SIM_FAULT_NONE;
                return;
        }
        emit_raw(p, data, len);
}

static void emit_u8(SimPhone *p, uint8_t v) {
        emit(p, &v, 1);
}
static void emit_u16(SimPhone *p, uint16_t v) {
        uint8_t b[2];
        put16(b, v);
        emit(p, b, 2);
}
static void emit_u32(SimPhone *p, uint32_t v) {
        uint8_t b[4];
        put32(b, v);
        emit(p, b, 4);
}

static void emit_echo(SimPhone *p, const uint8_t *b, size_t len) {
        if (p->fault == SIM_FAULT_WRONG_ECHO) {
                uint8_t w[8];

                memcpy(w, b, MIN(len, sizeof(w)));
                w[0] ^= 0x55;
                p->fault = SIM_FAULT_NONE;
                emit(p, w, MIN(len, sizeof(w)));
                return;
        }
        emit(p, b, len);
}

static void emit_status(SimPhone *p, uint16_t v) {
        if (p->fault == SIM_FAULT_STATUS) {
                v = (uint16_t) p->fault_arg;
                p->fault = SIM_FAULT_NONE;
        }
        emit_u16(p, v);
}

static size_t avail(SimPhone *p) {
        return p->rx->len;
}
static void consume(SimPhone *p, size_t n) {
        g_byte_array_remove_range(p->rx, 0, (guint) n);
}

static void note_command(SimPhone *p, int op) {
        if (p->armed_op == op) {
                p->fault = p->armed;
                p->fault_arg = p->armed_arg;
                p->armed_op = -1;
        }
        p->last_cmd = op;
        /* XFlash commands and control codes are u32s (0x010005) */
        if (p->commands->len < 4000)
                g_string_append_printf(p->commands, op > 0xff ? "%s0x%06x" : "%s0x%02x", p->commands->len ? "," : "",
                                       op);
}

void sim_phone_emit(SimPhone *p, const void *data, size_t len) {
        emit(p, data, len);
}

void sim_phone_emit_zlp(SimPhone *p) {
        emit_zlp(p);
}

void sim_phone_enter(SimPhone *p, Phase ph) {
        set_phase(p, ph);
}

void sim_phone_leave(SimPhone *p, SimLeave why, ResetReason reason, bool now) {
        leave_bus(p, why, reason, now);
}

void sim_phone_reset_chip(SimPhone *p, ResetReason reason) {
        reset_chip(p, reason);
}

void sim_phone_note_command(SimPhone *p, int op) {
        note_command(p, op);
}

void sim_phone_note_named(SimPhone *p, int op, const char *name) {
        if (p->armed_op == op) {
                p->fault = p->armed;
                p->fault_arg = p->armed_arg;
                p->armed_op = -1;
        }
        p->last_cmd = op;
        if (p->commands->len < 4000)
                g_string_append_printf(p->commands, "%s%s", p->commands->len ? "," : "", name);
}

/* ------------------------------------------------------------ lifecycle */

SimPhone *sim_phone_new(const SimPhoneConfig *cfg, GError **error) {
        SimPhone *p = g_new0(SimPhone, 1);

        p->cfg = *cfg;
        p->cfg.storage = g_strdup(cfg->storage);
        p->rx = g_byte_array_new();
        p->emi_rx = g_byte_array_new();
        p->emi_version_sent = -1;
        p->da_head = g_byte_array_new();
        p->da1_image = g_byte_array_new();
        sim_xflash_reset(&p->xf);
        sim_xml_reset(&p->xml);
        p->commands = g_string_new(NULL);
        g_queue_init(&p->fields);
        sim_phone_set_fault(p, cfg->fault, cfg->fault_arg, cfg->fault_at_op);
        p->rng = 0x2545f491u ^ (uint32_t) g_str_hash(cfg->id);
        p->op = -1;

        if (p->cfg.storage) {
                p->storage = sim_storage_open(p->cfg.storage, cfg, error);
                if (!p->storage) {
                        sim_phone_free(p);
                        return NULL;
                }
        }
        return p;
}

static void field_free(gpointer f) {
        g_free(((Field *) f)->data);
        g_free(f);
}


void sim_phone_free(SimPhone *p) {
        if (!p)
                return;
        g_queue_clear_full(&p->fields, field_free);
        g_byte_array_unref(p->rx);
        g_byte_array_unref(p->emi_rx);
        g_byte_array_unref(p->da_head);
        g_byte_array_unref(p->da1_image);
        sim_xml_free(&p->xml);
        g_string_free(p->commands, TRUE);
        sim_storage_close(p->storage);
        g_free(p->chunk);
        g_free(p->cfg.storage);
        g_free(p);
}

SimPhoneConfig *sim_phone_config(SimPhone *p) {
        return &p->cfg;
}

const char *sim_phone_storage_path(SimPhone *p) {
        return p->cfg.storage;
}

void sim_phone_attach(SimPhone *p) {
        p->next_boot = BOOT_COLD;
        p->boots_attached = 0;
        p->offbus = OFFBUS_NONE;
        p->leave = SIM_LEAVE_NONE;
}

void sim_phone_detach(SimPhone *p) {
        p->offbus = OFFBUS_NONE;
        p->leave = SIM_LEAVE_NONE;
        g_queue_clear_full(&p->fields, field_free);
        set_phase(p, PHASE_OFF);
}

void sim_phone_power_on(SimPhone *p, uint64_t now_us) {
        Boot boot = p->next_boot;

        g_queue_clear_full(&p->fields, field_free);
        g_byte_array_set_size(p->rx, 0);
        p->next_boot = BOOT_COLD;
        p->offbus = OFFBUS_NONE;
        p->leave = SIM_LEAVE_NONE;
        p->leave_now = false;
        p->emit_delay_us = p->last_not_before = 0;
        p->finish_deadline = p->hs_deadline = 0;
        p->enumerations++;
        note_event(p);
        /* byte counts (and the faults keyed to them) are per enumeration */
        p->bytes_in = p->bytes_out = p->da_bytes = 0;
        p->hs_idx = 0;
        p->token_len = 0;
        p->op = -1;
        p->line_state = 0;
        /* so are the timestamps and rates the benchmarks read */
        p->plug_us = p->first_rx_us = p->handshake_us = 0;
        p->cmd_start_us = p->rw_first_us = p->rw_last_us = 0;
        p->read_bytes = p->read_us = p->write_bytes = p->write_us = 0;
        p->reads = p->writes = 0;
        /* and what the host sent for DRAM */
        p->emi_version_sent = -1;
        p->emi_bytes = 0;
        g_byte_array_set_size(p->emi_rx, 0);
        p->dram = DRAM_NONE;

        if (boot == BOOT_RECONNECT) {
                /* da.md §2.9: the DA comes back at high speed and carries on in
                 * its command loop; no handshake, the watchdog as it was */
                p->usb_brom = false;
                p->speed_switched = true;
                if (p->cfg.xflash)
                        /* xflash.md §9.4: the DA carries on where it was */
                        set_phase(p, p->xf.da2 ? PHASE_XF_DA2 : PHASE_XF_DA1);
                else
                        set_phase(p, PHASE_DA_LOOP);
                return;
        }
        p->da_loaded = false;
        sim_xflash_reset(&p->xf);
        sim_xml_reset(&p->xml);
        /* after a reset nobody holds the key that selects BROM mode */
        p->brom = boot == BOOT_COLD && p->cfg.brom;
        p->usb_brom = p->brom;
        p->speed_switched = false;
        /* the watchdog runs from every power-on and reset; the ROM kicks it
         * while it waits for a host, so it counts from the handshake on */
        p->wdt_on = true;
        p->wdt_by_mode = p->wdt_main_off = p->wdt_extra_off = false;
        p->wdt_deadline = 0;
        if (boot == BOOT_COLD && p->cfg.start_in_da) {
                /* a phone an earlier session left in its DA command loop
                 * (da.md §2.15: mtkclient closes without a reset); that
                 * session turned the watchdog off (assumed) */
                p->wdt_on = false;
                p->da_loaded = true;
                p->region = DA_EMMC_REGION_USER;
                if (p->cfg.xflash)
                        /* xflash.md §16.4: mtkclient left it in the DA2 loop */
                        sim_xflash_resume_da2(p);
                else if (p->cfg.xml)
                        /* xml-da.md §9 "reinit": idle in DA2, its START acked */
                        sim_xml_resume_da2(p);
                else
                        set_phase(p, PHASE_DA_LOOP);
        } else if (p->brom) {
                /* the BROM waits for the host as long as the boot flags say;
                 * by key press that is long: model it as forever (assumed) */
                set_phase(p, PHASE_HANDSHAKE);
        } else {
                p->listen_deadline = p->cfg.handshake_window_ms ? now_us + p->cfg.handshake_window_ms * 1000ULL : 0;
                set_phase(p, PHASE_LISTEN);
        }
}

SimOffbus sim_phone_offbus_step(SimPhone *p, unsigned *ret_ms) {
        switch (p->offbus) {
        case OFFBUS_NONE:
                /* it has just left the bus */
                switch (p->leave) {
                case SIM_LEAVE_RESET:
                        p->resets++;
                        p->last_reset = p->leave_reason;
                        set_phase(p, PHASE_RESETTING);
                        note_event(p);
                        p->offbus = OFFBUS_ENUMERATE;
                        p->next_boot = BOOT_RESET;
                        *ret_ms = p->cfg.boot_delay_ms;
                        return SIM_OFFBUS_WAIT;
                case SIM_LEAVE_BOOT:
                        p->boots++;
                        p->boots_attached++;
                        set_phase(p, PHASE_BOOTED);
                        note_event(p);
                        /* boots=0: it never stays in its OS */
                        if (p->cfg.boots > 0 && p->boots_attached >= p->cfg.boots)
                                return SIM_OFFBUS_STAY;
                        p->offbus = OFFBUS_RESTART;
                        *ret_ms = p->cfg.uptime_ms;
                        return SIM_OFFBUS_WAIT;
                case SIM_LEAVE_RECONNECT:
                        set_phase(p, PHASE_RECONNECTING);
                        p->offbus = OFFBUS_ENUMERATE;
                        p->next_boot = BOOT_RECONNECT;
                        *ret_ms = p->cfg.boot_delay_ms;
                        return SIM_OFFBUS_WAIT;
                case SIM_LEAVE_POWER_OFF:
                        set_phase(p, PHASE_POWERED_OFF);
                        note_event(p);
                        return SIM_OFFBUS_STAY;
                case SIM_LEAVE_GONE:
                case SIM_LEAVE_NONE:
                        return SIM_OFFBUS_STAY;
                }
                return SIM_OFFBUS_STAY;
        case OFFBUS_RESTART:
                /* a restart from its OS (boot loop, charging): not a reset the
                 * host or the watchdog caused, so resets= does not count it */
                set_phase(p, PHASE_RESETTING);
                p->offbus = OFFBUS_ENUMERATE;
                p->next_boot = BOOT_RESET;
                *ret_ms = p->cfg.boot_delay_ms;
                return SIM_OFFBUS_WAIT;
        case OFFBUS_ENUMERATE:
                p->offbus = OFFBUS_NONE;
                return SIM_OFFBUS_ENUMERATE;
        }
        return SIM_OFFBUS_STAY;
}

bool sim_phone_usb_brom(SimPhone *p) {
        return p->usb_brom;
}

uint16_t sim_phone_usb_pid(SimPhone *p) {
        if (p->usb_brom)
                return BROM_USB_PID_BROM;
        /* xflash.md §9.4: after its speed switch the XFlash DA is 0e8d:2001 */
        return p->speed_switched && p->cfg.xflash ? BROM_USB_PID_PRELOADER_DA : BROM_USB_PID_PRELOADER;
}

bool sim_phone_take_out_stall(SimPhone *p) {
        if (p->fault != SIM_FAULT_OUT_STALL)
                return false;
        /* out-stall:N stalls N transfers (default 1), then clears by itself */
        if (p->fault_arg <= 1)
                p->fault = SIM_FAULT_NONE;
        else
                p->fault_arg--;
        return true;
}

unsigned sim_phone_events(SimPhone *p) {
        return p->events;
}

int sim_phone_phase_entries(SimPhone *p, const char *name) {
        for (size_t i = 0; i < G_N_ELEMENTS(phase_names); i++)
                if (g_str_equal(phase_names[i], name))
                        return (int) p->phase_entries[i];
        return -1;
}

void sim_phone_mark_plugged(SimPhone *p, uint64_t now_us) {
        p->plug_us = now_us;
}

void sim_phone_set_fault(SimPhone *p, SimFault f, uint64_t arg, int at_op) {
        if (at_op >= 0) {
                p->armed = f;
                p->armed_arg = arg;
                p->armed_op = at_op;
                p->fault = SIM_FAULT_NONE;
                return;
        }
        p->armed_op = -1;
        p->fault = f;
        p->fault_arg = arg;
}

void sim_phone_set_line_state(SimPhone *p, uint16_t state, uint64_t now_us) {
        p->line_state = state;
        if ((state & CDC_LINE_STATE_DTR) && p->next_ready == 0)
                p->next_ready = now_us;
}

SimLeave sim_phone_wants_unplug(SimPhone *p) {
        /* a reset the host asked for leaves once its last answer is out */
        if (p->leave != SIM_LEAVE_NONE && !p->leave_now && !g_queue_is_empty(&p->fields))
                return SIM_LEAVE_NONE;
        return p->leave;
}

static bool phase_past_handshake(Phase ph) {
        switch (ph) {
        case PHASE_COMMAND:
        case PHASE_DA_ACK:
        case PHASE_DA_CONFIG:
        case PHASE_DA_NEED_EMI:
        case PHASE_DA_EMI:
        case PHASE_DA_STOPPED:
        case PHASE_DA2_HEAD:
        case PHASE_DA2_DATA:
        case PHASE_DA2_FINAL:
        case PHASE_DA_LOOP:
        case PHASE_FINISH:
        case PHASE_XF_DA1:
        case PHASE_XF_DA2:
        case PHASE_XML_DA1:
        case PHASE_XML_DA2:
                return true;
        case PHASE_POWERED_OFF:
        case PHASE_OFF:
        case PHASE_LISTEN:
        case PHASE_HANDSHAKE:
        case PHASE_DEAD:
        case PHASE_GONE:
        case PHASE_RESETTING:
        case PHASE_BOOTED:
        case PHASE_RECONNECTING:
                return false;
        }
        return false;
}

uint64_t sim_phone_tick(SimPhone *p, uint64_t now_us) {
        uint64_t next = 0;

#define WAKE(t)                                                         \
        do {                                                            \
                uint64_t t_ = (t);                                      \
                if (t_ && (next == 0 || t_ < next))                     \
                        next = t_;                                      \
        } while (0)

        /* a late answer: wake when it may go out */
        for (GList *l = p->fields.head; l; l = l->next) {
                Field *f = l->data;

                if (f->not_before > now_us) {
                        WAKE(f->not_before);
                        break;
                }
        }
        if (p->leave != SIM_LEAVE_NONE)
                return next;

        if (p->phase == PHASE_HANDSHAKE && !p->brom && p->hs_deadline) {
                if (now_us >= p->hs_deadline) {
                        /* §2.2: the 300 ms for the start bytes ran out: back to listening */
                        p->hs_idx = 0;
                        p->hs_deadline = 0;
                        set_phase(p, PHASE_LISTEN);
                } else
                        WAKE(p->hs_deadline);
        }
        if (p->phase == PHASE_LISTEN) {
                if (p->listen_deadline && now_us >= p->listen_deadline) {
                        /* nobody talked to us in time: boot on, i.e. leave download mode */
                        leave_bus(p, SIM_LEAVE_BOOT, RESET_NONE, true);
                        return 0;
                }
                if (p->line_state & CDC_LINE_STATE_DTR) {
                        if (now_us >= p->next_ready) {
                                emit_raw(p, BROM_PRELOADER_READY, BROM_PRELOADER_READY_LEN);
                                p->next_ready = now_us + BROM_PRELOADER_READY_INTERVAL_MS * 1000ULL;
                        }
                        WAKE(p->next_ready);
                }
                WAKE(p->listen_deadline);
        }
        if (p->phase == PHASE_FINISH) {
                if (now_us >= p->finish_deadline) {
                        reset_chip(p, RESET_FINISH);
                        return next;
                }
                WAKE(p->finish_deadline);
        }
        if (p->wdt_on && p->wdt_deadline && phase_past_handshake(p->phase)) {
                if (now_us >= p->wdt_deadline) {
                        /* nobody disabled it: the watchdog resets the chip, whatever it was doing */
                        reset_chip(p, p->wdt_by_mode ? RESET_WDT_MODE : RESET_WATCHDOG_EXPIRED);
                        return 0;
                }
                WAKE(p->wdt_deadline);
        }
#undef WAKE
        return next;
}

/* ------------------------------------------------------------ IN side */

bool sim_phone_in_ready(SimPhone *p, size_t cap, uint16_t mps, uint64_t now_us) {
        size_t space = cap;

        /* A transfer completes on a short packet or when its buffer is full. */
        for (GList *l = p->fields.head; l; l = l->next) {
                Field *f = l->data;
                size_t left = f->len - f->pos;

                if (f->not_before > now_us)
                        return false; /* a late answer: not yet */
                if (f->zlp)
                        return true;
                while (left > 0) {
                        size_t pkt = MIN(left, (size_t) mps);

                        if (pkt > space || pkt < mps || pkt == space)
                                return true;
                        space -= pkt;
                        left -= pkt;
                }
        }
        return false;
}

gssize sim_phone_take_in(SimPhone *p, uint8_t *buf, size_t cap, uint16_t mps, bool *overflow, uint64_t now_us) {
        size_t got = 0;

        *overflow = false;
        if (!sim_phone_in_ready(p, cap, mps, now_us))
                return -1;
        while (!g_queue_is_empty(&p->fields)) {
                Field *f = g_queue_peek_head(&p->fields);
                size_t pkt = MIN(f->len - f->pos, (size_t) mps);

                if (f->not_before > now_us)
                        break;
                if (pkt > cap - got) {
                        /* babble: the packet is longer than what the host asked for */
                        memcpy(buf + got, f->data + f->pos, cap - got);
                        f->pos += cap - got;
                        got = cap;
                        *overflow = true;
                } else {
                        if (pkt > 0) /* a zero-length packet's field has no data */
                                memcpy(buf + got, f->data + f->pos, pkt);
                        f->pos += pkt;
                        got += pkt;
                }
                if (f->pos >= f->len)
                        field_free(g_queue_pop_head(&p->fields));
                if (*overflow || pkt < mps || got == cap)
                        break;
        }
        p->bytes_out += got;
        return (gssize) got;
}

/* ------------------------------------------------------------ BROM / preloader */

static bool phone_handshake(SimPhone *p, uint64_t now_us) {
        static const uint8_t start[BROM_HANDSHAKE_LEN] = {
                BROM_HANDSHAKE_0, BROM_HANDSHAKE_1, BROM_HANDSHAKE_2, BROM_HANDSHAKE_3,
        };
        uint8_t b;

        if (avail(p) == 0)
                return false;
        if (!p->brom && p->hs_deadline && now_us > p->hs_deadline) {
                /* §2.2: the 300 ms for the start bytes ran out: back to listening */
                p->hs_idx = 0;
                p->hs_deadline = 0;
                set_phase(p, PHASE_LISTEN);
                return true;
        }
        b = p->rx->data[0];
        consume(p, 1);
        if (b == start[p->hs_idx]) {
                emit_u8(p, (uint8_t) (0xff ^ b));
                if (++p->hs_idx == BROM_HANDSHAKE_LEN) {
                        if (!p->handshake_us)
                                p->handshake_us = now_us;
                        p->handshakes++;
                        p->op = -1;
                        p->hs_deadline = 0;
                        /* the ROM stops kicking the watchdog while it waits: from
                         * here on it counts (assumed, tests/sim/README.md) */
                        if (p->wdt_on && p->cfg.watchdog_ms)
                                p->wdt_deadline = now_us + p->cfg.watchdog_ms * 1000ULL;
                        set_phase(p, PHASE_COMMAND);
                }
        } else {
                /* §2.2: a wrong byte is answered with byte + 1 and the sequence restarts */
                emit_u8(p, (uint8_t) (b + 1));
                p->hs_idx = 0;
        }
        return true;
}

static bool phone_listen(SimPhone *p, uint64_t now_us) {
        size_t n = avail(p);

        if (n == 0)
                return false;
        if (p->token_len == 0 && p->rx->data[0] == BROM_HANDSHAKE_0) {
                /* §2.2: the whole chunk that starts with A0 is discarded; the
                 * USB layer hands us one OUT transfer at a time */
                consume(p, n);
                p->hs_idx = 0;
                p->hs_deadline = now_us + BROM_PRELOADER_START_BUDGET_MS * 1000ULL;
                set_phase(p, PHASE_HANDSHAKE);
                return true;
        }
        /* anything else is a mode token (METAMETA, FASTBOOT...): collect and
         * drop it; this simulator only implements download mode (assumed) */
        while (n-- > 0 && p->token_len < BROM_PRELOADER_TOKEN_LEN) {
                p->token[p->token_len++] = p->rx->data[0];
                consume(p, 1);
        }
        if (p->token_len == BROM_PRELOADER_TOKEN_LEN)
                p->token_len = 0;
        return true;
}

static bool ids_answered(const SimPhone *p) {
        return p->brom || p->cfg.bl_ver >= BROM_BL_VER_MIN_ME_ID;
}

/* absent=: opcodes this ROM does not know; an IoT ROM (brom.md §5) has no
 * GET_HW_SW_VER and no ME/SOC id (hosts skip them, so it never needed them) */
static bool opcode_absent(const SimPhone *p, int op) {
        if (p->cfg.absent[op / 8] & (1u << (op % 8)))
                return true;
        return p->cfg.iot && (op == BROM_CMD_GET_HW_SW_VER || op == BROM_CMD_GET_ME_ID || op == BROM_CMD_GET_SOC_ID);
}

static bool register_access_allowed(const SimPhone *p, uint32_t addr, bool write) {
        if (!p->brom)
                return true; /* sec_region_check: the registers we model are allowed */
        return !(p->cfg.target_config & (write ? BROM_TGT_CFG_MEMWRITE : BROM_TGT_CFG_MEMREAD));
}

static void da_start(SimPhone *p);

static void wdt_update(SimPhone *p) {
        /* MT6592: off only when both registers were written (brom.md §5) */
        bool off = p->wdt_main_off && (p->cfg.da_code != 0x6592 || p->wdt_extra_off);

        if (off && p->wdt_on) {
                p->wdt_on = false;
                p->wdt_deadline = 0;
                note_event(p);
        }
}

/* A WRITE32 value reaching a register; true when it asks for a software reset. */
static bool wdt_register_write(SimPhone *p, uint32_t addr, uint32_t value) {
        if (addr == p->cfg.wdt_base + BROM_WDT_SWRST_OFFSET && value == BROM_WDT_SWRST_KEY)
                return true;
        if (p->cfg.da_code == 0x6592 && addr == BROM_WDT_MT6592_EXTRA_ADDR && value == BROM_WDT_MT6592_EXTRA_VALUE) {
                p->wdt_extra_off = true;
                wdt_update(p);
                return false;
        }
        if (addr != p->cfg.wdt_base || (value >> 24) != BROM_WDT_MODE_KEY)
                return false;
        if (value & BROM_WDT_MODE_ENABLE) {
                /* re-armed: it bites watchdog-ms from now */
                p->wdt_on = true;
                p->wdt_by_mode = true;
                p->wdt_main_off = p->wdt_extra_off = false;
                p->wdt_deadline = p->cfg.watchdog_ms ? p->now + p->cfg.watchdog_ms * 1000ULL : 0;
                note_event(p);
        } else if (value == p->cfg.wdt_value) {
                /* only the disable value of brom.md §5 counts (assumed) */
                p->wdt_main_off = true;
                wdt_update(p);
        }
        return false;
}

/* The next opcode of a command loop; false when none is there or the phone
 * just left (unplug-after-cmd). */
static bool phone_take_opcode(SimPhone *p) {
        if (avail(p) < 1)
                return false;
        p->op = p->rx->data[0];
        consume(p, 1);
        p->stage = 0;
        note_command(p, p->op);
        if (p->phase == PHASE_DA_LOOP && (p->op == DA_CMD_READ || p->op == DA_CMD_SDMMC_WRITE_DATA)) {
                p->cmd_start_us = p->now;
                if (!p->rw_first_us)
                        p->rw_first_us = p->now;
        }
        if (p->fault == SIM_FAULT_UNPLUG_AFTER_CMD && (uint64_t) p->op == p->fault_arg) {
                leave_bus(p, SIM_LEAVE_GONE, RESET_NONE, true);
                return false;
        }
        return true;
}

/* One step of the command loop; false when it needs more bytes. */
static bool phone_command(SimPhone *p) {
        uint8_t b[8];

        if (p->op < 0 && !phone_take_opcode(p))
                return false;
        if (p->stage == 0 && opcode_absent(p, p->op)) {
                /* unknown to this ROM: silence, like any unknown opcode */
                p->op = -1;
                return true;
        }

        switch (p->op) {
        case BROM_CMD_GET_HW_CODE:
                b[0] = (uint8_t) p->op;
                emit_echo(p, b, 1);
                emit_u16(p, p->cfg.hw_code);
                emit_status(p, BROM_STATUS_OK);
                break;

        case BROM_CMD_GET_HW_SW_VER:
                b[0] = (uint8_t) p->op;
                emit_echo(p, b, 1);
                emit_u16(p, p->cfg.hw_sub_code);
                emit_u16(p, p->cfg.hw_version);
                emit_u16(p, p->cfg.sw_version);
                emit_status(p, BROM_STATUS_OK);
                break;

        case BROM_CMD_GET_BL_VER:
                /* §3.3: a BROM echoes FE; a preloader answers its version, no echo */
                emit_u8(p, p->brom ? BROM_BL_VER_IS_BROM : p->cfg.bl_ver);
                break;

        case BROM_CMD_GET_VERSION:
                emit_u8(p, p->brom ? p->cfg.brom_ver : BROM_CMD_GET_VERSION);
                break;

        case BROM_CMD_GET_TARGET_CONFIG:
                b[0] = (uint8_t) p->op;
                emit_echo(p, b, 1);
                emit_u32(p, p->cfg.target_config);
                emit_status(p, BROM_STATUS_OK);
                break;

        case BROM_CMD_GET_ME_ID:
        case BROM_CMD_GET_SOC_ID:
                if (!ids_answered(p))
                        break; /* an old preloader does not know the command (assumed: silence) */
                b[0] = (uint8_t) p->op;
                emit_echo(p, b, 1);
                if (p->op == BROM_CMD_GET_ME_ID) {
                        emit_u32(p, BROM_ME_ID_LEN);
                        emit(p, p->cfg.me_id, BROM_ME_ID_LEN);
                } else if (p->cfg.has_soc_id) {
                        emit_u32(p, BROM_SOC_ID_LEN);
                        emit(p, p->cfg.soc_id, BROM_SOC_ID_LEN);
                } else
                        emit_u32(p, 0);
                emit_status(p, BROM_STATUS_OK);
                break;

        case BROM_CMD_UART1_LOG_EN:
                b[0] = (uint8_t) p->op;
                emit_echo(p, b, 1);
                emit_status(p, BROM_STATUS_OK);
                break;

        case BROM_CMD_GET_PL_CAP:
                if (p->brom)
                        break;
                b[0] = (uint8_t) p->op;
                emit_echo(p, b, 1);
                emit_u32(p, 0x00000006); /* ME_ID and SOC_ID support, no XFlash */
                emit_u32(p, 0);
                break;

        case BROM_CMD_READ16:
        case BROM_CMD_READ32:
        case BROM_CMD_WRITE16:
        case BROM_CMD_WRITE32: {
                bool write = p->op == BROM_CMD_WRITE16 || p->op == BROM_CMD_WRITE32;
                unsigned width = p->op == BROM_CMD_READ16 || p->op == BROM_CMD_WRITE16 ? 2 : 4;

                switch (p->stage) {
                case 0:
                        b[0] = (uint8_t) p->op;
                        emit_echo(p, b, 1);
                        p->stage = 1;
                        return true;
                case 1:
                case 2:
                        if (avail(p) < 4)
                                return false;
                        p->a[p->stage - 1] = be32(p->rx->data);
                        emit_echo(p, p->rx->data, 4);
                        consume(p, 4);
                        if (p->stage == 1) {
                                p->stage = 2;
                                return true;
                        }
                        p->count = p->a[1];
                        p->done_count = 0;
                        if (p->a[0] % width)
                                p->status1 = BROM_STATUS_BAD_ALIGNMENT;
                        else if (p->count == 0)
                                p->status1 = BROM_STATUS_ZERO_LENGTH;
                        else if (p->count > 0x10000)
                                p->status1 = BROM_STATUS_LENGTH_OVERFLOW;
                        else if (!register_access_allowed(p, p->a[0], write))
                                p->status1 = BROM_STATUS_INVALID_ADDRESS;
                        else
                                p->status1 = BROM_STATUS_OK;
                        emit_status(p, p->status1);
                        if (p->status1 != BROM_STATUS_OK) {
                                if (!write)
                                        break;
                                break;
                        }
                        if (!write) {
                                for (uint32_t i = 0; i < p->count; i++) {
                                        if (width == 2)
                                                emit_u16(p, 0);
                                        else
                                                emit_u32(p, 0);
                                }
                                emit_status(p, BROM_STATUS_OK);
                                break;
                        }
                        p->stage = 3;
                        return true;
                default: {
                        bool swrst = false;

                        if (avail(p) < width)
                                return false;
                        if (p->op == BROM_CMD_WRITE32)
                                swrst = wdt_register_write(p, p->a[0] + 4 * p->done_count, be32(p->rx->data));
                        emit_echo(p, p->rx->data, width);
                        consume(p, width);
                        p->swrst_pending |= swrst;
                        if (++p->done_count < p->count)
                                return true;
                        emit_status(p, BROM_STATUS_OK);
                        if (p->swrst_pending) {
                                /* the whole exchange is answered, then the chip resets */
                                p->swrst_pending = false;
                                reset_chip(p, RESET_WDT_SWRST);
                        }
                        break;
                }
                }
                break;
        }

        case BROM_CMD_SEND_DA:
                switch (p->stage) {
                case 0:
                        b[0] = (uint8_t) p->op;
                        emit_echo(p, b, 1);
                        p->stage = 1;
                        return true;
                case 1:
                case 2:
                case 3:
                        if (avail(p) < 4)
                                return false;
                        p->a[p->stage - 1] = be32(p->rx->data);
                        emit_echo(p, p->rx->data, 4);
                        consume(p, 4);
                        if (p->stage < 3) {
                                p->stage++;
                                return true;
                        }
                        p->da_addr = p->a[0];
                        p->da_len = p->a[1];
                        p->da_sig_len = p->a[2];
                        if (p->brom && (p->cfg.target_config & BROM_TGT_CFG_SLA))
                                p->status1 = BROM_STATUS_SLA_REQUIRED;
                        else if (p->da_sig_len > p->da_len)
                                p->status1 = BROM_STATUS_DA_SIG_LEN_EXCEED_DA_LEN;
                        else if (p->da_len == 0)
                                p->status1 = BROM_STATUS_DA_LEN_IS_ZERO;
                        else if ((p->cfg.target_config & BROM_TGT_CFG_DAA) && p->da_sig_len == 0)
                                p->status1 = BROM_STATUS_DA_SIG_LEN_ZERO_DAA_ACTIVE;
                        else
                                p->status1 = BROM_STATUS_OK;
                        emit_status(p, p->status1);
                        if (p->status1 != BROM_STATUS_OK)
                                break;
                        p->da_got = 0;
                        p->da_xor = 0;
                        g_byte_array_set_size(p->da_head, 0);
                        g_byte_array_set_size(p->da1_image, 0);
                        p->stage = 4;
                        return true;
                default: {
                        size_t n = MIN(avail(p), (size_t) (p->da_len - p->da_got));

                        /* §3.5: XOR of LE 16-bit words over the whole payload */
                        for (size_t i = 0; i < n; i++) {
                                uint32_t pos = p->da_got + (uint32_t) i;
                                uint8_t v = p->rx->data[i];

                                if (pos % 2 == 0)
                                        p->da_odd = v;
                                else
                                        p->da_xor ^= (uint16_t) (p->da_odd | (v << 8));
                                if (p->da_head->len < 64)
                                        g_byte_array_append(p->da_head, &v, 1);
                        }
                        /* an XFlash or XML DA1 carries the SHA-256 of its DA2
                         * (xflash.md §5.2, xml-da.md §4.1) */
                        if ((p->cfg.xflash || p->cfg.xml) && p->da_len <= 16 * 1024 * 1024)
                                g_byte_array_append(p->da1_image, p->rx->data, (guint) n);
                        consume(p, n);
                        p->da_got += (uint32_t) n;
                        if (p->da_got < p->da_len)
                                return false;
                        if (p->da_len % 2)
                                p->da_xor ^= p->da_odd;
                        switch (p->cfg.send_da_checksum) {
                        case SIM_CHECKSUM_RIGHT:
                                emit_u16(p, p->da_xor);
                                break;
                        case SIM_CHECKSUM_ZERO:
                                emit_u16(p, 0);
                                break;
                        case SIM_CHECKSUM_WRONG:
                                emit_u16(p, p->da_xor ^ 0xffff);
                                break;
                        }
                        /* the signature check runs at ROM clock (slow-ms) */
                        emit_later(p, p->cfg.slow_ms);
                        /* With DAA on, only the manufacturer's signed DA passes; a
                         * simulated phone is told with daa-accept=1 that it got one. */
                        if (p->fault == SIM_FAULT_DA_REJECT ||
                            ((p->cfg.target_config & BROM_TGT_CFG_DAA) && !p->cfg.daa_accept)) {
                                /* secure download refused the signature; a preloader resets */
                                p->fault = SIM_FAULT_NONE;
                                emit_status(p, BROM_STATUS_DA_IMAGE_SIG_VERIFY_FAIL);
                                if (!p->brom)
                                        reset_chip(p, RESET_SIG_VERIFY_FAIL);
                                break;
                        }
                        emit_status(p, BROM_STATUS_OK);
                        p->da_loaded = true;
                        p->da_loaded_addr = p->da_addr;
                        break;
                }
                }
                break;

        case BROM_CMD_JUMP_DA:
                switch (p->stage) {
                case 0:
                        b[0] = (uint8_t) p->op;
                        emit_echo(p, b, 1);
                        p->stage = 1;
                        return true;
                default:
                        if (avail(p) < 4)
                                return false;
                        p->a[0] = be32(p->rx->data);
                        emit_echo(p, p->rx->data, 4);
                        consume(p, 4);
                        emit_later(p, p->cfg.slow_ms);
                        if (!p->da_loaded || p->a[0] != p->da_loaded_addr) {
                                emit_status(p, p->brom ? BROM_STATUS_DA_INVALID_JUMP_ADDR
                                                       : BROM_STATUS_DA_IMAGE_SIG_VERIFY_FAIL);
                                if (!p->brom)
                                        reset_chip(p, RESET_SIG_VERIFY_FAIL);
                                break;
                        }
                        emit_status(p, BROM_STATUS_OK);
                        p->op = -1;
                        da_start(p);
                        return true;
                }
                break;

        default:
                /* unknown to this ROM: a BROM and a preloader stay silent (assumed) */
                break;
        }
        p->op = -1;
        return true;
}

/* ------------------------------------------------------------ legacy DA */

/* DA1's NAND ids, in its sync and again after 0xBC3: none (an eMMC phone) */
static const uint16_t nand_ids[4] = { 0, 0, 0, 0 };

static void da_start(SimPhone *p) {
        const uint8_t *cid = sim_storage_cid(p->storage);

        if (p->cfg.xflash) {
                sim_xflash_start(p);
                return;
        }
        if (p->cfg.xml) {
                sim_xml_start(p);
                return;
        }

        /* da.md §9 item 1, each item its own packet; DA1 comes up at ROM
         * clock too (slow-ms) */
        emit_later(p, p->cfg.slow_ms);
        emit_u8(p, DA_SYNC_CHAR);
        emit_u32(p, DA_NAND_RET_NOT_FOUND);
        emit_u16(p, G_N_ELEMENTS(nand_ids));
        for (size_t i = 0; i < G_N_ELEMENTS(nand_ids); i++)
                emit_u16(p, nand_ids[i]);
        emit_u32(p, 0);
        for (int i = 0; i < 4; i++)
                emit(p, cid + 4 * i, 4);
        set_phase(p, PHASE_DA_ACK);
}

/* §2.5: the block as mtkclient sends it, one OUT transfer per field, then
 * the chip's tail (one transfer per u32 and one for the 20-byte blob) */
static const uint8_t config_fields[] = { 1, 1, 2, 1, 4, 1, 4, 1, 1, 1, 1 };
static const uint8_t tail_mt6592[] = { 4 };
static const uint8_t tail_slc[] = { 4, 20 };
static const uint8_t tail_mt8127[] = { 4, 4, 20 };

static const uint8_t *config_tail(const SimPhone *p, size_t *ret_n) {
        switch (p->cfg.da_code) {
        case 0x6580:
        case 0x8163:
                *ret_n = G_N_ELEMENTS(tail_slc);
                return tail_slc;
        case 0x6592:
                *ret_n = G_N_ELEMENTS(tail_mt6592);
                return tail_mt6592;
        case 0x8127:
                *ret_n = G_N_ELEMENTS(tail_mt8127);
                return tail_mt8127;
        default:
                *ret_n = 0;
                return NULL;
        }
}

static unsigned da_config_len(const SimPhone *p) {
        size_t n;
        const uint8_t *tail = config_tail(p, &n);
        unsigned len = DA_CONFIG_LEN;

        for (size_t i = 0; i < n; i++)
                len += tail[i];
        return len;
}

/* da-config=split: the size the next OUT transfer must have; 0 when the block is complete */
static unsigned config_field_size(const SimPhone *p, unsigned idx) {
        size_t n;
        const uint8_t *tail = config_tail(p, &n);

        if (idx < G_N_ELEMENTS(config_fields))
                return config_fields[idx];
        idx -= G_N_ELEMENTS(config_fields);
        return idx < n ? tail[idx] : 0;
}

static void da_send_report(SimPhone *p) {
        uint8_t nor[DA_REPORT_NOR_LEN] = {}, nand[DA_REPORT_NAND_HEAD_LEN + 2 * DA_NAND_IDS_MAX] = {};
        uint8_t geo[DA_REPORT_NAND_GEOMETRY_LEN] = {}, emmc[DA_REPORT_EMMC_LEN] = {}, sd[DA_REPORT_SD_LEN] = {};
        uint8_t ram[DA_REPORT_RAM_LEN] = {}, tail[DA_REPORT_TAIL_LEN] = {}, extra[DA_REPORT_MT8163_EXTRA] = {};
        const SimStorage *s = p->storage;
        unsigned n = MIN(p->cfg.nand_ids, (unsigned) DA_NAND_IDS_MAX);

        /* §2.8, sent as its eight blocks (§9 item 2); the NAND ids are all
         * zero (an eMMC phone) */
        put32(nor, DA_STATUS_NOR_NOT_FOUND);
        put32(nand, DA_NAND_RET_NOT_FOUND);
        if (n > 0)
                put16(nand + (DA_REPORT_NAND_COUNT_OFF - DA_REPORT_NOR_LEN), (uint16_t) n);
        else
                /* the 32-bit layout {u32 ret, u8 cs, u16 id, u32 size, u16
                 * count} with 7 ids: a host reading the 64-bit layout finds
                 * 0 (the second id) where it expects the count */
                put16(nand + 0x0b, 7);
        put32(emmc, 0);
        put64(emmc + 0x04, sim_storage_region_size(s, DA_EMMC_REGION_BOOT1));
        put64(emmc + 0x0c, sim_storage_region_size(s, DA_EMMC_REGION_BOOT2));
        put64(emmc + 0x14, sim_storage_region_size(s, DA_EMMC_REGION_RPMB));
        put64(emmc + 0x3c, sim_storage_region_size(s, DA_EMMC_REGION_USER));
        memcpy(emmc + 0x44, sim_storage_cid(s), 16);
        put32(sd, DA_STATUS_DEVICE_NOT_FOUND);
        put32(ram + 0x08, 0);
        ram[0x0c] = 0x02; /* DRAM */
        put64(ram + 0x0e, EXT_RAM_SIZE);
        tail[0] = DA_ACK;
        tail[DA_REPORT_TAIL_LEN - 1] = p->cfg.soc_ok;

        /* DA2 starts at ROM clock too (slow-ms) */
        emit_later(p, p->cfg.slow_ms);
        emit(p, nor, sizeof(nor));
        if (n > 0) {
                emit(p, nand, DA_REPORT_NAND_HEAD_LEN);
                emit(p, nand + DA_REPORT_NAND_HEAD_LEN, 2 * n);
        } else {
                /* as mtkclient reads it: the 17 bytes it asks for first, then
                 * 2 * count - 4 (§2.8) */
                emit(p, nand, DA_REPORT_NAND_HEAD_LEN);
                emit(p, nand + DA_REPORT_NAND_HEAD_LEN, 2 * 7 - 4);
        }
        emit(p, geo, sizeof(geo));
        emit(p, emmc, sizeof(emmc));
        emit(p, sd, sizeof(sd));
        emit(p, ram, sizeof(ram));
        /* §2.8: MT8127/MT8163 insert a status word before the 5A */
        if (p->cfg.da_code == 0x8163 || p->cfg.da_code == 0x8127)
                emit(p, extra, sizeof(extra));
        emit(p, tail, sizeof(tail));
}

static void da_count(SimPhone *p, size_t n) {
        p->da_bytes += n;
        if (p->fault == SIM_FAULT_UNPLUG_AFTER_DA_BYTES && p->da_bytes >= p->fault_arg)
                leave_bus(p, SIM_LEAVE_GONE, RESET_NONE, true);
}

void sim_phone_count_da(SimPhone *p, size_t n) {
        da_count(p, n);
}

static uint16_t sum16(const uint8_t *d, size_t n) {
        uint32_t s = 0;

        for (size_t i = 0; i < n; i++)
                s += d[i];
        return (uint16_t) s;
}

static void da_ack(SimPhone *p) {
        if (p->fault == SIM_FAULT_NACK) {
                p->fault = SIM_FAULT_NONE;
                emit_u8(p, DA_NACK);
                return;
        }
        emit_u8(p, DA_ACK);
}

static void da_read_chunk(SimPhone *p) {
        size_t n = (size_t) MIN(p->rw_len - p->rw_off, (uint64_t) p->rw_pkt);
        uint16_t sum;

        p->chunk = g_realloc(p->chunk, n);
        sim_storage_read(p->storage, p->region, p->rw_addr + p->rw_off, p->chunk, n);
        sum = sum16(p->chunk, n);
        if (p->fault == SIM_FAULT_BAD_CHECKSUM) {
                /* bad-checksum:N spoils N packets (default 1) */
                if (p->fault_arg <= 1)
                        p->fault = SIM_FAULT_NONE;
                else
                        p->fault_arg--;
                sum ^= 0x1234;
        }
        /* data and checksum as separate fields (§9 item 5) */
        if (p->cfg.read_split && p->fault != SIM_FAULT_GARBAGE) {
                /* da.md §1: a device may end short packets inside a field;
                 * a piece ending on a full packet needs a ZLP to show its end */
                uint16_t mps = p->usb_brom ? BROM_USB_BULK_MPS_FS : BROM_USB_BULK_MPS_HS;

                for (size_t off = 0; off < n; off += p->cfg.read_split) {
                        size_t piece = MIN(n - off, (size_t) p->cfg.read_split);

                        emit_raw(p, p->chunk + off, piece);
                        if (piece % mps == 0)
                                emit_zlp(p);
                }
        } else
                emit(p, p->chunk, n);
        if (p->cfg.read_zlp)
                emit_zlp(p);
        emit_u16(p, sum);
        p->rw_off += n;
        da_count(p, n);
}

static bool read_range_ok(SimPhone *p) {
        return p->rw_len != 0 && p->rw_addr + p->rw_len >= p->rw_addr &&
               p->rw_addr + p->rw_len <= sim_storage_region_size(p->storage, p->region);
}

static bool phone_da_loop(SimPhone *p) {
        if (p->op < 0 && !phone_take_opcode(p))
                return false;

        switch (p->op) {
        case DA_CMD_USB_CHECK_STATUS:
                /* §2.9: a full-speed link (BROM mode) reports 00, unless
                 * usb-speed= says otherwise or the DA switched it */
                emit_u8(p, DA_ACK);
                if (p->speed_switched)
                        emit_u8(p, DA_USB_SPEED_HIGH);
                else if (p->cfg.usb_speed >= 0)
                        emit_u8(p, p->cfg.usb_speed ? DA_USB_SPEED_HIGH : DA_USB_SPEED_FULL);
                else
                        emit_u8(p, p->usb_brom ? DA_USB_SPEED_FULL : DA_USB_SPEED_HIGH);
                break;

        case DA_CMD_USB_SETUP_PORT: {
                uint8_t speed;

                if (avail(p) < 1)
                        return false;
                speed = p->rx->data[0];
                consume(p, 1);
                emit_u8(p, DA_ACK);
                /* §2.9: the DA re-enumerates at high speed once its 5A is
                 * out and carries on in its command loop */
                if (speed == DA_USB_SPEED_HIGH)
                        leave_bus(p, SIM_LEAVE_RECONNECT, RESET_NONE, false);
                break;
        }

        case DA_CMD_SDMMC_SWITCH_PART:
                if (p->stage == 0) {
                        emit_u8(p, DA_ACK);
                        p->stage = 1;
                        return true;
                }
                if (avail(p) < 1)
                        return false;
                p->region = p->rx->data[0];
                consume(p, 1);
                emit_u8(p, sim_storage_region_size(p->storage, p->region) ? DA_ACK : DA_NACK);
                break;

        case DA_CMD_READ:
                switch (p->stage) {
                case 0: /* host OS, storage type, u64 address, u64 length */
                        if (avail(p) < 18)
                                return false;
                        p->rw_addr = be64(p->rx->data + 2);
                        p->rw_len = be64(p->rx->data + 10);
                        consume(p, 18);
                        if (p->cfg.read_ack_after_size) {
                                /* read-ack=after-size: the 5A waits for the packet size */
                                p->stage = 3;
                                return true;
                        }
                        if (!read_range_ok(p)) {
                                emit_u8(p, DA_NACK);
                                p->stage = 10;
                                return true;
                        }
                        da_ack(p);
                        p->stage = 1;
                        return true;
                case 1: /* packet size */
                case 3:
                        if (avail(p) < 4)
                                return false;
                        p->rw_pkt = be32(p->rx->data);
                        consume(p, 4);
                        if (p->rw_pkt == 0 || p->rw_pkt > 16 * 1024 * 1024)
                                p->rw_pkt = DA_PACKET_SIZE;
                        if (p->stage == 3) {
                                if (!read_range_ok(p)) {
                                        emit_u8(p, DA_NACK);
                                        p->stage = 10;
                                        return true;
                                }
                                da_ack(p);
                        }
                        p->rw_off = 0;
                        da_read_chunk(p);
                        p->stage = 2;
                        return true;
                case 2: /* host acknowledges each chunk */
                        if (avail(p) < 1)
                                return false;
                        consume(p, 1);
                        if (p->rw_off < p->rw_len) {
                                da_read_chunk(p);
                                return true;
                        }
                        /* the READ ends with the host's last acknowledgement */
                        p->reads++;
                        p->read_bytes += p->rw_len;
                        p->read_us += p->now - p->cmd_start_us;
                        p->rw_last_us = p->now;
                        break;
                case 10: /* after a refusal the host says NACK and gets a status */
                        if (avail(p) < 1)
                                return false;
                        consume(p, 1);
                        emit_u32(p, 0xc004000bu); /* exceed available range (assumed) */
                        break;
                }
                break;

        case DA_CMD_SDMMC_WRITE_DATA:
                switch (p->stage) {
                case 0: /* storage type, region, u64 address, u64 length, u32 packet size */
                        if (avail(p) < 22)
                                return false;
                        p->region = p->rx->data[1];
                        p->rw_addr = be64(p->rx->data + 2);
                        p->rw_len = be64(p->rx->data + 10);
                        p->rw_pkt = be32(p->rx->data + 18);
                        consume(p, 22);
                        if (p->rw_len == 0 || p->rw_pkt == 0 || p->rw_pkt > 16 * 1024 * 1024 ||
                            p->rw_addr + p->rw_len < p->rw_addr ||
                            p->rw_addr + p->rw_len > sim_storage_region_size(p->storage, p->region)) {
                                emit_u8(p, DA_NACK);
                                break;
                        }
                        /* a refused WRITE ends there, as a range error does: back to the command loop */
                        if (p->fault == SIM_FAULT_NACK) {
                                da_ack(p);
                                break;
                        }
                        da_ack(p);
                        p->rw_off = 0;
                        p->stage = 1;
                        return true;
                case 1: /* 5A: a packet follows */
                        if (avail(p) < 1)
                                return false;
                        consume(p, 1);
                        p->chunk_len = (size_t) MIN(p->rw_len - p->rw_off, (uint64_t) p->rw_pkt);
                        p->chunk = g_realloc(p->chunk, p->chunk_len);
                        p->chunk_got = 0;
                        p->stage = 2;
                        return true;
                case 2: {
                        size_t n = MIN(avail(p), p->chunk_len - p->chunk_got);

                        memcpy(p->chunk + p->chunk_got, p->rx->data, n);
                        consume(p, n);
                        p->chunk_got += n;
                        da_count(p, n);
                        if (p->phase == PHASE_DEAD)
                                return false;
                        if (p->chunk_got < p->chunk_len)
                                return false;
                        p->stage = 3;
                        return true;
                }
                case 3:
                        if (avail(p) < 2)
                                return false;
                        if (be16(p->rx->data) != sum16(p->chunk, p->chunk_len)) {
                                consume(p, 2);
                                emit_u8(p, DA_NACK); /* assumed: da.md §2.12 [SIM] */
                                break;
                        }
                        consume(p, 2);
                        if (p->fault == SIM_FAULT_CORRUPT_WRITE) {
                                p->fault = SIM_FAULT_NONE;
                                p->chunk[p->chunk_len / 2] ^= 0x01;
                        }
                        sim_storage_write(p->storage, p->region, p->rw_addr + p->rw_off, p->chunk, p->chunk_len);
                        p->rw_off += p->chunk_len;
                        emit_u8(p, DA_CONT_CHAR);
                        if (p->rw_off < p->rw_len) {
                                p->stage = 1;
                                return true;
                        }
                        /* the WRITE ends with the last checksum (its 69 is on its way) */
                        p->writes++;
                        p->write_bytes += p->rw_len;
                        p->write_us += p->now - p->cmd_start_us;
                        p->rw_last_us = p->now;
                        break;
                }
                break;

        case DA_CMD_SDMMC_READ_PMT: {
                size_t len = 0;
                const uint8_t *pmt = sim_storage_pmt(p->storage, &len);

                switch (p->stage) {
                case 0:
                        if (!pmt) {
                                emit_u8(p, DA_NACK); /* a GPT phone has no PMT (assumed) */
                                break;
                        }
                        emit_u8(p, DA_ACK);
                        emit_u32(p, (uint32_t) len);
                        p->stage = 1;
                        return true;
                case 1:
                        if (avail(p) < 1)
                                return false;
                        consume(p, 1);
                        emit(p, pmt, len);
                        p->stage = 2;
                        return true;
                default:
                        if (avail(p) < 1)
                                return false;
                        consume(p, 1);
                        break;
                }
                break;
        }

        case DA_CMD_ENABLE_WATCHDOG:
                /* u32 timeout, async, bootup, dlbit, not_reset_rtc; the phone
                 * resets at once whatever they say (assumed) and comes back as
                 * a preloader */
                if (avail(p) < 8)
                        return false;
                consume(p, 8);
                emit_u8(p, DA_ACK);
                reset_chip(p, RESET_ENABLE_WATCHDOG);
                break;

        case DA_CMD_FINISH:
                /* da.md §2.15 [SIM]: 5A, then an optional u32 mode (answered
                 * 5A); the reset follows either */
                emit_u8(p, DA_ACK);
                p->finish_deadline = p->now + FINISH_MODE_WAIT_MS * 1000ULL;
                set_phase(p, PHASE_FINISH);
                break;

        default:
                emit_u8(p, DA_UNKNOWN_CMD);
                break;
        }
        p->op = -1;
        return true;
}

/* DA1 gives up and answers nothing more (da-config=split, BMT size) */
static void da1_stop(SimPhone *p, const char *why) {
        p->da1_stop = why;
        g_byte_array_set_size(p->rx, 0);
        set_phase(p, PHASE_DA_STOPPED);
}

/* ------------------------------------------------------------ BROM mode: DRAM (brom-emi.md §6) */

/* What DA1 found in the memory chip: memory-id=, else the eMMC CID as its
 * sync reported it (raw bytes, assumed: §12 item 1) */
static const uint8_t *emi_memory_id(SimPhone *p) {
        return p->cfg.have_memory_id ? p->cfg.memory_id : sim_storage_memory_id(p->storage);
}

const uint8_t *sim_phone_memory_id(SimPhone *p) {
        return emi_memory_id(p);
}

/* §6.1: DRAM status 0xBC3 and what follows it, each field its own packet
 * (mtkclient reads them one by one) */
static void da_ask_for_emi(SimPhone *p) {
        emit_u32(p, DA_DRAM_STATUS_NEED_EMI);
        emit_u32(p, EMI_SECOND_WORD);
        emit(p, emi_memory_id(p), SIM_EMI_ID_LEN);
        emit_u32(p, DA_NAND_RET_NOT_FOUND);
        emit_u16(p, G_N_ELEMENTS(nand_ids));
        for (size_t i = 0; i < G_N_ELEMENTS(nand_ids); i++)
                emit_u16(p, nand_ids[i]);
        p->op = -1;
        set_phase(p, PHASE_DA_NEED_EMI);
}

/* §6.2 rows 13–15: the DRAM result; DA2 upload next, or DA1 gives up */
static bool emi_finish(SimPhone *p) {
        unsigned version = (unsigned) p->emi_version_sent;
        const SimEmiBlock *pl = p->cfg.preloader.present ? &p->cfg.preloader : NULL;
        bool up = sim_emi_dram_comes_up(pl, version, p->emi_rx->data, p->emi_rx->len, emi_memory_id(p));
        uint8_t size[8];

        /* a failed DRAM still reports type, chip select and size (0): the
         * reference lists them unconditionally (assumed, README) */
        emit_u32(p, up ? EMI_RET_OK : EMI_RET_FAILED);
        emit_u8(p, EMI_RAM_TYPE_DRAM);
        emit_u8(p, EMI_RAM_CS);
        put64(size, up ? EXT_RAM_SIZE : 0);
        emit(p, size, sizeof(size));
        if (version == 0x0d)
                for (int i = 0; i < EMI_V13_EXTRA_WORDS; i++)
                        emit_u32(p, 0);
        p->dram = up ? DRAM_UP : DRAM_FAILED;
        note_event(p);
        if (!up) {
                /* no DRAM for DA2: DA1 answers nothing more */
                da1_stop(p, "dram-failed");
                return false;
        }
        set_phase(p, PHASE_DA2_HEAD);
        return true;
}

/* ENABLE_DRAM: E8 + u32 version, then the version's exchange (§6.2) */
static bool phone_da_emi(SimPhone *p) {
        if (p->phase == PHASE_DA_NEED_EMI) {
                uint32_t word, version;
                SimEmiBranch branch;

                if (p->op < 0) {
                        if (avail(p) < 1)
                                return false;
                        if (p->rx->data[0] != DA_CMD_ENABLE_DRAM) {
                                /* a host going on without EMI settings: there is no
                                 * DRAM for DA2, DA1 gives up (assumed) */
                                da1_stop(p, "emi-expected");
                                return false;
                        }
                        /* a DA command here: unplug-after-cmd, KIND@0xe8 */
                        if (!phone_take_opcode(p))
                                return false;
                }
                if (p->fault == SIM_FAULT_STALL || avail(p) < 4)
                        return false;
                word = be32(p->rx->data);
                consume(p, 4);
                p->op = -1;
                /* §6.2 row 7: version 0 travels as FFFFFFFF */
                version = word == 0xffffffffu ? 0 : word;
                p->emi_version_sent = version;
                note_event(p);
                branch = p->cfg.emi_version >= 0 && version == (uint32_t) p->cfg.emi_version &&
                                         (version != 0 || word == 0xffffffffu)
                                 ? sim_emi_branch(version)
                                 : SIM_EMI_BRANCH_NONE;
                if (branch == SIM_EMI_BRANCH_NONE || p->fault == SIM_FAULT_NACK) {
                        /* refused; the DA waits for another E8 (assumed) */
                        if (p->fault == SIM_FAULT_NACK)
                                p->fault = SIM_FAULT_NONE;
                        emit_u8(p, DA_NACK);
                        return true;
                }
                emit_u8(p, DA_ACK);
                /* row 9: the v15–v21 "RAM length" is one record (mtkclient's
                 * comment: 0xBC for v20); v12/v13/v00's L is one record too
                 * (assumed), so the host sends the first record only */
                p->emi_len = sim_emi_record_size(version);
                emit_u32(p, p->emi_len);
                g_byte_array_set_size(p->emi_rx, 0);
                p->stage = EMI_STAGE_ACK;
                set_phase(p, PHASE_DA_EMI);
                return true;
        }

        switch (p->stage) {
        case EMI_STAGE_ACK: {
                uint8_t b;

                if (avail(p) < 1)
                        return false;
                b = p->rx->data[0];
                consume(p, 1);
                if (b != DA_ACK) {
                        da1_stop(p, "emi-protocol");
                        return false;
                }
                switch (sim_emi_branch((unsigned) p->emi_version_sent)) {
                case SIM_EMI_BRANCH_LENGTH:
                        p->stage = EMI_STAGE_LENGTH;
                        break;
                case SIM_EMI_BRANCH_ECHO:
                        p->stage = EMI_STAGE_ECHO;
                        break;
                case SIM_EMI_BRANCH_CUT_0100:
                case SIM_EMI_BRANCH_NONE:
                        p->stage = EMI_STAGE_RECORDS;
                        break;
                }
                return true;
        }
        case EMI_STAGE_LENGTH: {
                unsigned r = sim_emi_record_size((unsigned) p->emi_version_sent);
                uint32_t len;

                if (avail(p) < 4)
                        return false;
                len = be32(p->rx->data);
                consume(p, 4);
                /* whole records, 1 to 64 of them; anything else: DA1 refuses
                 * the settings by giving up (assumed: no answer is defined) */
                if (len == 0 || len % r != 0 || len / r > SIM_EMI_MAX_RECORDS) {
                        da1_stop(p, "emi-length");
                        return false;
                }
                p->emi_len = len;
                p->stage = EMI_STAGE_RECORDS;
                return true;
        }
        case EMI_STAGE_ECHO:
                if (avail(p) < 4)
                        return false;
                if (be32(p->rx->data) != p->emi_len) {
                        consume(p, 4);
                        da1_stop(p, "emi-length");
                        return false;
                }
                consume(p, 4);
                p->stage = EMI_STAGE_RECORDS;
                return true;
        case EMI_STAGE_RECORDS: {
                /* the records as a byte stream: any number of OUT transfers */
                size_t n = MIN(avail(p), (size_t) p->emi_len - p->emi_rx->len);

                if (n == 0)
                        return false;
                g_byte_array_append(p->emi_rx, p->rx->data, (guint) n);
                consume(p, n);
                p->emi_bytes += n;
                if (p->emi_rx->len == p->emi_len) {
                        /* row 11: algorithm unknown; byte sum [SIM] */
                        emit_u16(p, sum16(p->emi_rx->data, p->emi_rx->len));
                        p->stage = EMI_STAGE_CONFIRM;
                }
                return true;
        }
        case EMI_STAGE_CONFIRM:
                if (avail(p) < 5)
                        return false;
                if (p->rx->data[0] != DA_ACK || be32(p->rx->data + 1) != EMI_CONFIRM) {
                        consume(p, 5);
                        da1_stop(p, "emi-protocol");
                        return false;
                }
                consume(p, 5);
                return emi_finish(p);
        default:
                return false;
        }
}

static bool phone_da_setup(SimPhone *p) {
        switch (p->phase) {
        case PHASE_DA_ACK:
                if (avail(p) < 1)
                        return false;
                consume(p, 1);
                /* three version bytes, three packets (§2.4 step 8) */
                emit_u8(p, 0x04);
                emit_u8(p, 0x00);
                emit_u8(p, 0x00);
                p->config_len = da_config_len(p);
                p->config_field = 0;
                if (p->cfg.da_config_split && avail(p) > 0) {
                        /* the block began inside the 5A's transfer */
                        da1_stop(p, "config-split");
                        return false;
                }
                set_phase(p, PHASE_DA_CONFIG);
                return true;
        case PHASE_DA_CONFIG: {
                bool bmt_ok;

                if (avail(p) < p->config_len)
                        return false;
                /* §2.5 offset 10: BMT partition size; an MT6592 eMMC phone needs 0x1500000 */
                bmt_ok = p->cfg.da_code != 0x6592 || be32(p->rx->data + 10) == DA_CONFIG_BMT_SIZE_EMMC;
                consume(p, p->config_len);
                /* the DA applies the config before it answers (dram-delay) */
                emit_later(p, p->cfg.dram_delay_ms);
                if (!bmt_ok) {
                        emit_u32(p, DA_STATUS_INT_RAM_ERROR); /* assumed: no code names it */
                        da1_stop(p, "bmt-size");
                        return false;
                }
                if (p->brom) {
                        /* nobody initialised DRAM: the DA asks for EMI settings */
                        da_ask_for_emi(p);
                        return true;
                }
                emit_u32(p, DA_DRAM_STATUS_OK);
                if (p->cfg.da_code == 0x6592)
                        for (int i = 0; i < DA_DRAM_EXTRA_WORDS_MT6592; i++)
                                emit_u32(p, 0);
                set_phase(p, PHASE_DA2_HEAD);
                return true;
        }
        case PHASE_DA2_HEAD:
                if (avail(p) < 12)
                        return false;
                p->da2_len = be32(p->rx->data + 4);
                p->da2_pkt = be32(p->rx->data + 8);
                consume(p, 12);
                if (p->da2_pkt == 0)
                        p->da2_pkt = DA_DA2_PACKET_SIZE;
                p->da2_got = p->da2_chunk_got = 0;
                emit_u8(p, DA_ACK);
                p->da2_done_us = p->now;
                set_phase(p, p->da2_len ? PHASE_DA2_DATA : PHASE_DA2_FINAL);
                return true;
        case PHASE_DA2_DATA: {
                size_t want = MIN(p->da2_pkt - p->da2_chunk_got, p->da2_len - p->da2_got);
                size_t n = MIN(avail(p), want);

                if (n == 0)
                        return false;
                consume(p, n);
                p->da2_got += (uint32_t) n;
                p->da2_chunk_got += (uint32_t) n;
                if (p->da2_chunk_got == p->da2_pkt || p->da2_got == p->da2_len) {
                        emit_u8(p, DA_ACK);
                        p->da2_chunk_got = 0;
                }
                if (p->da2_got == p->da2_len) {
                        p->da2_done_us = p->now;
                        set_phase(p, PHASE_DA2_FINAL);
                }
                return true;
        }
        case PHASE_DA2_FINAL:
                if (avail(p) < 1)
                        return false;
                consume(p, 1);
                if (p->now < p->da2_done_us + p->cfg.da2_settle_ms * 1000ULL)
                        /* da2-settle: DA2 is not listening yet; this 5A is lost */
                        return true;
                emit_u8(p, DA_ACK);
                da_send_report(p);
                p->op = -1;
                set_phase(p, PHASE_DA_LOOP);
                return true;
        default:
                return false;
        }
}

/* FINISH answered: the optional u32 mode, then the reset */
static bool phone_finish(SimPhone *p) {
        if (avail(p) < 4)
                return false;
        consume(p, 4);
        emit_u8(p, DA_ACK);
        reset_chip(p, RESET_FINISH);
        return true;
}

/* ------------------------------------------------------------ input */

void sim_phone_receive(SimPhone *p, const uint8_t *data, size_t len, uint64_t now_us) {
        if (len == 0 || p->leave != SIM_LEAVE_NONE)
                return;
        switch (p->phase) {
        case PHASE_OFF:
        case PHASE_DEAD:
        case PHASE_GONE:
        case PHASE_RESETTING:
        case PHASE_BOOTED:
        case PHASE_RECONNECTING:
                return;
        case PHASE_LISTEN:
        case PHASE_HANDSHAKE:
        case PHASE_COMMAND:
        case PHASE_DA_ACK:
        case PHASE_DA_CONFIG:
        case PHASE_DA_NEED_EMI:
        case PHASE_DA_EMI:
        case PHASE_DA_STOPPED:
        case PHASE_DA2_HEAD:
        case PHASE_DA2_DATA:
        case PHASE_DA2_FINAL:
        case PHASE_DA_LOOP:
        case PHASE_FINISH:
        case PHASE_XF_DA1:
        case PHASE_XF_DA2:
        case PHASE_XML_DA1:
        case PHASE_XML_DA2:
                break;
        case PHASE_POWERED_OFF:
                return;
        }
        p->now = now_us;
        if (!p->first_rx_us)
                p->first_rx_us = now_us;
        p->bytes_in += len;
        if (p->fault == SIM_FAULT_STALL || p->phase == PHASE_DA_STOPPED)
                return;
        if (p->fault == SIM_FAULT_UNPLUG_AFTER_BYTES && p->bytes_in >= p->fault_arg) {
                leave_bus(p, SIM_LEAVE_GONE, RESET_NONE, true);
                return;
        }
        if (p->phase == PHASE_DA_CONFIG && p->cfg.da_config_split) {
                /* da-config=split: each OUT transfer must be exactly the next field */
                unsigned before = 0;

                for (unsigned i = 0; i < p->config_field; i++)
                        before += config_field_size(p, i);
                if (avail(p) != before || len != config_field_size(p, p->config_field)) {
                        da1_stop(p, "config-split");
                        return;
                }
                p->config_field++;
        }
        if ((p->phase == PHASE_XF_DA1 || p->phase == PHASE_XF_DA2) && !sim_xflash_accept(p, data, len))
                return;
        if ((p->phase == PHASE_XML_DA1 || p->phase == PHASE_XML_DA2) && !sim_xml_accept(p, data, len))
                return;
        g_byte_array_append(p->rx, data, (guint) len);

        /* A listening preloader judges each OUT transfer as a chunk. */
        if (p->phase == PHASE_LISTEN) {
                phone_listen(p, now_us);
                if (p->phase == PHASE_LISTEN)
                        return;
        }

        for (;;) {
                bool progress;

                switch (p->phase) {
                case PHASE_HANDSHAKE:
                        progress = phone_handshake(p, now_us);
                        break;
                case PHASE_COMMAND:
                        progress = phone_command(p);
                        break;
                case PHASE_DA_ACK:
                case PHASE_DA_CONFIG:
                case PHASE_DA2_HEAD:
                case PHASE_DA2_DATA:
                case PHASE_DA2_FINAL:
                        progress = phone_da_setup(p);
                        break;
                case PHASE_DA_NEED_EMI:
                case PHASE_DA_EMI:
                        progress = phone_da_emi(p);
                        break;
                case PHASE_DA_LOOP:
                        progress = phone_da_loop(p);
                        break;
                case PHASE_FINISH:
                        progress = phone_finish(p);
                        break;
                case PHASE_XF_DA1:
                case PHASE_XF_DA2:
                        progress = sim_xflash_step(p);
                        break;
                case PHASE_XML_DA1:
                case PHASE_XML_DA2:
                        progress = sim_xml_step(p);
                        break;
                case PHASE_LISTEN:
                        progress = phone_listen(p, now_us);
                        break;
                case PHASE_OFF:
                case PHASE_DA_STOPPED:
                case PHASE_DEAD:
                case PHASE_GONE:
                case PHASE_RESETTING:
                case PHASE_BOOTED:
                case PHASE_RECONNECTING:
                case PHASE_POWERED_OFF:
                        progress = false;
                        break;
                }
                if (!progress || p->leave != SIM_LEAVE_NONE)
                        break;
        }
}

/* ------------------------------------------------------------ control */

char *sim_phone_stats(SimPhone *p) {
        GString *s = g_string_new(NULL);

        g_string_append_printf(s, "mode=%s phase=%s handshakes=%u bytes_in=%" G_GUINT64_FORMAT
                               " bytes_out=%" G_GUINT64_FORMAT " da_bytes=%" G_GUINT64_FORMAT,
                               (p->enumerations ? p->brom : p->cfg.brom) ? "brom" : "preloader",
                               phase_names[p->phase], p->handshakes, p->bytes_in, p->bytes_out, p->da_bytes);
        /* its life since it was added (tests/sim/README.md "A phone's life") */
        g_string_append_printf(s, " boots=%u resets=%u enumerations=%u last_reset=%s watchdog=%s usb=%s", p->boots,
                               p->resets, p->enumerations, reset_names[p->last_reset], p->wdt_on ? "on" : "off",
                               (p->enumerations ? p->usb_brom : p->cfg.brom) ? "full" : "high");
        if (p->da1_stop)
                g_string_append_printf(s, " da1_stop=%s", p->da1_stop);
        /* what the host sent for DRAM (brom-emi.md §6) */
        if (p->emi_version_sent >= 0)
                g_string_append_printf(s, " emi_version_sent=%" G_GINT64_FORMAT, p->emi_version_sent);
        else
                g_string_append(s, " emi_version_sent=none");
        g_string_append_printf(s, " emi_bytes=%" G_GUINT64_FORMAT " dram=%s", p->emi_bytes, dram_names[p->dram]);
        /* CLOCK_MONOTONIC µs; 0 = not yet (tests/bench/README.md) */
        g_string_append_printf(s, " plug_us=%" G_GUINT64_FORMAT " first_rx_us=%" G_GUINT64_FORMAT
                               " handshake_us=%" G_GUINT64_FORMAT " reads=%u read_bytes=%" G_GUINT64_FORMAT
                               " read_us=%" G_GUINT64_FORMAT " writes=%u write_bytes=%" G_GUINT64_FORMAT
                               " write_us=%" G_GUINT64_FORMAT " rw_first_us=%" G_GUINT64_FORMAT
                               " rw_last_us=%" G_GUINT64_FORMAT,
                               p->plug_us, p->first_rx_us, p->handshake_us, p->reads, p->read_bytes, p->read_us,
                               p->writes, p->write_bytes, p->write_us, p->rw_first_us, p->rw_last_us);
        if (p->last_cmd >= 0)
                g_string_append_printf(s, p->last_cmd > 0xff ? " last_cmd=0x%06x" : " last_cmd=0x%02x", p->last_cmd);
        g_string_append_printf(s, " commands=%s", p->commands->len ? p->commands->str : "-");
        if (p->cfg.storage)
                g_string_append_printf(s, " storage=%s", p->cfg.storage);
        if (p->cfg.xflash)
                sim_xflash_stats(p, s);
        if (p->cfg.xml)
                sim_xml_stats(p, s);
        if (p->da_head->len > 0) {
                g_string_append(s, " da1_head=");
                for (guint i = 0; i < MIN(p->da_head->len, 16u); i++)
                        g_string_append_printf(s, "%02x", p->da_head->data[i]);
        }
        return g_string_free(s, FALSE);
}

int sim_fault_parse(const char *spec, SimFault *ret, uint64_t *ret_arg, int *ret_at_op) {
        static const struct {
                const char *name;
                SimFault fault;
                bool arg;
        } table[] = {
                { "none", SIM_FAULT_NONE, false },
                { "clear", SIM_FAULT_NONE, false },
                { "unplug-after-bytes", SIM_FAULT_UNPLUG_AFTER_BYTES, true },
                { "unplug-after-cmd", SIM_FAULT_UNPLUG_AFTER_CMD, true },
                { "unplug-after-da-bytes", SIM_FAULT_UNPLUG_AFTER_DA_BYTES, true },
                { "stall", SIM_FAULT_STALL, false },
                { "garbage", SIM_FAULT_GARBAGE, true },
                { "wrong-echo", SIM_FAULT_WRONG_ECHO, false },
                { "status", SIM_FAULT_STATUS, true },
                { "bad-checksum", SIM_FAULT_BAD_CHECKSUM, true },
                { "nack", SIM_FAULT_NACK, false },
                { "da-reject", SIM_FAULT_DA_REJECT, false },
                { "corrupt-write", SIM_FAULT_CORRUPT_WRITE, false },
                { "out-stall", SIM_FAULT_OUT_STALL, true },
                { "chunk-status", SIM_FAULT_CHUNK_STATUS, true },
        };
        g_autofree char *s = g_strdup(spec);
        char *at = strchr(s, '@');
        const char *colon;
        size_t len;

        *ret_at_op = -1;
        if (at) {
                char *end;

                *at = 0;
                /* XML commands by name (@CMD:READ-FLASH) */
                *ret_at_op = sim_xml_command_id(at + 1);
                if (*ret_at_op >= 0)
                        goto kind;
                errno = 0;
                *ret_at_op = (int) g_ascii_strtoll(at + 1, &end, 0);
                /* XFlash commands and control codes are u32s (0x010005) */
                if (errno || *end || end == at + 1 || *ret_at_op < 0)
                        return -EINVAL;
        }
kind:
        colon = strchr(s, ':');
        len = colon ? (size_t) (colon - s) : strlen(s);

        for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
                char *end;

                if (strlen(table[i].name) != len || strncmp(table[i].name, s, len) != 0)
                        continue;
                *ret = table[i].fault;
                *ret_arg = 0;
                if (!colon)
                        return table[i].arg && table[i].fault != SIM_FAULT_GARBAGE &&
                                               table[i].fault != SIM_FAULT_BAD_CHECKSUM &&
                                               table[i].fault != SIM_FAULT_OUT_STALL ? -EINVAL : 0;
                if (!table[i].arg)
                        return -EINVAL;
                if (table[i].fault == SIM_FAULT_UNPLUG_AFTER_CMD && sim_xml_command_id(colon + 1) >= 0) {
                        /* unplug-after-cmd:CMD:READ-FLASH */
                        *ret_arg = (uint64_t) sim_xml_command_id(colon + 1);
                        return 0;
                }
                errno = 0;
                *ret_arg = g_ascii_strtoull(colon + 1, &end, 0);
                if (errno || *end || end == colon + 1)
                        return -EINVAL;
                return 0;
        }
        return -EINVAL;
}

int sim_opcodes_parse(const char *spec, uint8_t bitmap[32]) {
        g_auto(GStrv) ops = g_strsplit(spec, ",", -1);

        memset(bitmap, 0, 32);
        for (guint i = 0; ops[i]; i++) {
                char *end;
                uint64_t op;

                if (!*ops[i])
                        continue;
                errno = 0;
                op = g_ascii_strtoull(ops[i], &end, 0);
                if (errno || *end || end == ops[i] || op > 0xff)
                        return -EINVAL;
                bitmap[op / 8] |= (uint8_t) (1u << (op % 8));
        }
        return 0;
}

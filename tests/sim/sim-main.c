/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * build/mtksim: run a command in a world with simulated MediaTek phones.
 *
 *   mtksim [--phone KEY=VALUE,...]... [--control PATH] [--coldplug] [--verbose] -- COMMAND [ARG...]
 *
 * See tests/sim/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "brom-proto.h"
#include "da-legacy-proto.h"
#include "sim-chips.h"
#include "sim-world.h"
#include "xflash-proto.h"

#define PRELOAD_LIB "libumockdev-preload.so.0"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: mtksim [OPTIONS] -- COMMAND [ARG...]\n"
                "\n"
                "Run COMMAND in a umockdev world where simulated MediaTek phones, speaking the\n"
                "BROM / preloader and legacy Download Agent protocols, sit on emulated USB.\n"
                "The phones are plugged in once COMMAND listens for uevents. mtksim exits with\n"
                "COMMAND's status.\n"
                "\n"
                "Options:\n"
                "  --phone KEY=VALUE,...  Add a phone (repeatable; default: one MT6735 in\n"
                "                         preloader mode). Keys: id, chip, mode (brom|preloader),\n"
                "                         target-config, me-id, soc-id, bl-ver, brom-version,\n"
                "                         hw-sub-code, hw-version, sw-version, port, storage,\n"
                "                         handshake-window (ms, 0 = forever), fault, daa-accept,\n"
                "                         rate (MB/s of bulk data; 53.2 = USB 2.0 high speed),\n"
                "                         latency-us (per transfer; 125 = one microframe),\n"
                "                         hub (phones naming one hub share one line of rate MB/s),\n"
                "                         start (rom|da: already in the DA command loop),\n"
                "                         unplugged (1: wait for the control command plug ID),\n"
                "                         watchdog-ms, boot-delay, boots, uptime (its life),\n"
                "                         da-config (any|split), dram-delay, read-ack\n"
                "                         (early|after-size), da2-settle, send-da-checksum\n"
                "                         (right|zero|wrong), slow-ms, nand-ids, soc-ok,\n"
                "                         usb-speed (auto|0|1), absent (OP,OP...),\n"
                "                         read-split (bytes, 0 = off), read-zlp (0|1),\n"
                "                         emi-version (decimal), memory-id (32 hex digits),\n"
                "                         preloader (PATH: its EMI block brings DRAM up),\n"
                "                         da-protocol (legacy|xflash|xml), storage-type (emmc|ufs),\n"
                "                         layout (gpt|pmt|mt6765), sla (0|1), xf-read-status\n"
                "                         (after-ack|before-ack), xf-emmc-info (0x68|0x60),\n"
                "                         xf-ram-info (48|24), xf-ufs-info (0xc8|0x34),\n"
                "                         xf-da2-sync (sync|zero), xf-shutdown (reboot|flags),\n"
                "                         xf-read-packet, xf-write-packet (bytes), xf-read-zlp (0|1),\n"
                "                         xf-read-statuses (2|1), xf-emi-refuse (status|silent),\n"
                "                         xml-start (plain|arg), xml-value (any|hex), xml-da2-check\n"
                "                         (slot|sbc|none), xml-read-packet, xml-write-packet (bytes)\n"
                "  --control PATH         Control socket (default: in the testbed directory);\n"
                "                         exported to COMMAND as MTKSIM_CONTROL\n"
                "  --coldplug             Plug the phones in before COMMAND starts\n"
                "  --verbose              Log control commands and device events\n"
                "  -h, --help             Show this help\n"
                "\n"
                "Control commands: list | add SPEC | plug ID | unplug ID | replug ID [KEY=VALUE...]\n"
                "                  | set ID KEY=VALUE... | fault ID KIND[:ARG] | stats ID\n"
                "                  | wait ID [phase=PHASE] [FIELD=VALUE...] [timeout-ms=N]\n"
                "Fault kinds: unplug-after-bytes:N unplug-after-cmd:OP unplug-after-da-bytes:N stall\n"
                "             garbage:N wrong-echo status:V bad-checksum nack da-reject corrupt-write\n"
                "             out-stall:N chunk-status:V clear;\n"
                "             KIND@OP arms a fault when the phone receives opcode OP\n");
}

/* ------------------------------------------------------------ phones */

static int parse_hex_bytes(const char *s, uint8_t *out, size_t len) {
        if (strlen(s) != 2 * len)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                int hi = g_ascii_xdigit_value(s[2 * i]), lo = g_ascii_xdigit_value(s[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret) {
        char *end;

        errno = 0;
        *ret = g_ascii_strtoull(s, &end, 0);
        if (errno || *end || end == s || *ret > max)
                return -EINVAL;
        return 0;
}

int sim_phone_config_set(SimPhoneConfig *cfg, const char *key, const char *value, GError **error) {
        uint64_t v = 0;
        int r = 0;

        if (g_str_equal(key, "id"))
                g_strlcpy(cfg->id, value, sizeof(cfg->id));
        else if (g_str_equal(key, "chip")) {
                const SimChip *c = sim_chip_find(value);

                if (!c) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown chip \"%s\"", value);
                        return -EINVAL;
                }
                g_strlcpy(cfg->chip, c->name, sizeof(cfg->chip));
                cfg->hw_code = c->hw_code;
                cfg->da_code = c->da_code;
                cfg->hw_sub_code = c->hw_sub_code;
                cfg->wdt_base = c->wdt_base;
                cfg->wdt_value = c->wdt_value;
                cfg->has_soc_id = c->soc_id;
                cfg->iot = c->iot;
                if (!cfg->emi_version_set)
                        cfg->emi_version = c->emi_version;
                if (!cfg->xflash_set) {
                        cfg->xflash = c->xflash;
                        cfg->xml = c->xml;
                }
                if (!cfg->layout_set)
                        cfg->layout = c->xflash || c->xml ? SIM_LAYOUT_MT6765 : SIM_LAYOUT_GPT;
        } else if (g_str_equal(key, "mode")) {
                if (g_str_equal(value, "brom"))
                        cfg->brom = true;
                else if (g_str_equal(value, "preloader"))
                        cfg->brom = false;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "target-config"))
                r = parse_uint(value, UINT32_MAX, &v), cfg->target_config = (uint32_t) v;
        else if (g_str_equal(key, "me-id"))
                r = parse_hex_bytes(value, cfg->me_id, sizeof(cfg->me_id));
        else if (g_str_equal(key, "soc-id")) {
                r = parse_hex_bytes(value, cfg->soc_id, sizeof(cfg->soc_id));
                cfg->has_soc_id = r >= 0;
        } else if (g_str_equal(key, "bl-ver"))
                r = parse_uint(value, 0xff, &v), cfg->bl_ver = (uint8_t) v;
        else if (g_str_equal(key, "brom-version"))
                r = parse_uint(value, 0xff, &v), cfg->brom_ver = (uint8_t) v;
        else if (g_str_equal(key, "hw-sub-code"))
                r = parse_uint(value, 0xffff, &v), cfg->hw_sub_code = (uint16_t) v;
        else if (g_str_equal(key, "hw-version"))
                r = parse_uint(value, 0xffff, &v), cfg->hw_version = (uint16_t) v;
        else if (g_str_equal(key, "sw-version"))
                r = parse_uint(value, 0xffff, &v), cfg->sw_version = (uint16_t) v;
        else if (g_str_equal(key, "hw-code"))
                r = parse_uint(value, 0xffff, &v), cfg->hw_code = (uint16_t) v;
        else if (g_str_equal(key, "handshake-window"))
                r = parse_uint(value, 3600000, &v), cfg->handshake_window_ms = (unsigned) v;
        else if (g_str_equal(key, "watchdog-ms"))
                r = parse_uint(value, 3600000, &v), cfg->watchdog_ms = (unsigned) v;
        else if (g_str_equal(key, "boot-delay"))
                r = parse_uint(value, 3600000, &v), cfg->boot_delay_ms = (unsigned) v;
        else if (g_str_equal(key, "boots"))
                r = parse_uint(value, 1000000, &v), cfg->boots = (unsigned) v;
        else if (g_str_equal(key, "uptime"))
                r = parse_uint(value, 3600000, &v), cfg->uptime_ms = (unsigned) v;
        else if (g_str_equal(key, "da-config")) {
                if (g_str_equal(value, "split"))
                        cfg->da_config_split = true;
                else if (g_str_equal(value, "any"))
                        cfg->da_config_split = false;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "dram-delay"))
                r = parse_uint(value, 3600000, &v), cfg->dram_delay_ms = (unsigned) v;
        else if (g_str_equal(key, "read-ack")) {
                if (g_str_equal(value, "after-size"))
                        cfg->read_ack_after_size = true;
                else if (g_str_equal(value, "early"))
                        cfg->read_ack_after_size = false;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "read-split"))
                r = parse_uint(value, 16 * 1024 * 1024, &v), cfg->read_split = (unsigned) v;
        else if (g_str_equal(key, "read-zlp"))
                r = parse_uint(value, 1, &v), cfg->read_zlp = v != 0;
        else if (g_str_equal(key, "da2-settle"))
                r = parse_uint(value, 3600000, &v), cfg->da2_settle_ms = (unsigned) v;
        else if (g_str_equal(key, "send-da-checksum")) {
                if (g_str_equal(value, "right"))
                        cfg->send_da_checksum = SIM_CHECKSUM_RIGHT;
                else if (g_str_equal(value, "zero"))
                        cfg->send_da_checksum = SIM_CHECKSUM_ZERO;
                else if (g_str_equal(value, "wrong"))
                        cfg->send_da_checksum = SIM_CHECKSUM_WRONG;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "slow-ms"))
                r = parse_uint(value, 3600000, &v), cfg->slow_ms = (unsigned) v;
        else if (g_str_equal(key, "nand-ids"))
                r = parse_uint(value, DA_NAND_IDS_MAX, &v), cfg->nand_ids = (unsigned) v;
        else if (g_str_equal(key, "soc-ok")) {
                char *end;

                errno = 0;
                v = g_ascii_strtoull(value, &end, 16);
                if (errno || *end || end == value || v > 0xff)
                        r = -EINVAL;
                else
                        cfg->soc_ok = (uint8_t) v;
        } else if (g_str_equal(key, "usb-speed")) {
                if (g_str_equal(value, "auto"))
                        cfg->usb_speed = -1;
                else
                        r = parse_uint(value, 1, &v), cfg->usb_speed = (int) v;
        } else if (g_str_equal(key, "absent"))
                r = sim_opcodes_parse(value, cfg->absent);
        else if (g_str_equal(key, "emi-version")) {
                r = parse_uint(value, 99, &v);
                if (r >= 0) {
                        cfg->emi_version = (int) v;
                        cfg->emi_version_set = true;
                }
        } else if (g_str_equal(key, "memory-id")) {
                r = parse_hex_bytes(value, cfg->memory_id, sizeof(cfg->memory_id));
                cfg->have_memory_id = r >= 0;
        } else if (g_str_equal(key, "preloader")) {
                /* the phone's firmware preloader: its EMI block decides what
                 * brings DRAM up (tests/sim/README.md); parsed now, so a file
                 * the simulator cannot use is refused at once */
                g_autofree SimEmiBlock *block = g_new0(SimEmiBlock, 1);
                g_autofree char *data = NULL;
                gsize len;

                if (!*value) {
                        cfg->preloader.present = false;
                        return 0;
                }
                if (!g_file_get_contents(value, &data, &len, error))
                        return -ENOENT;
                if (!sim_emi_block_parse((const uint8_t *) data, len, block, error)) {
                        g_prefix_error(error, "preloader=%s: ", value);
                        return -EINVAL;
                }
                cfg->preloader = *block;
        } else if (g_str_equal(key, "storage")) {
                g_free(cfg->storage);
                cfg->storage = g_strdup(value);
        } else if (g_str_equal(key, "layout")) {
                cfg->layout_set = true;
                if (g_str_equal(value, "gpt"))
                        cfg->layout = SIM_LAYOUT_GPT;
                else if (g_str_equal(value, "pmt"))
                        cfg->layout = SIM_LAYOUT_PMT;
                else if (g_str_equal(value, "mt6765"))
                        cfg->layout = SIM_LAYOUT_MT6765;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "storage-type")) {
                if (g_str_equal(value, "ufs"))
                        cfg->ufs = true;
                else if (g_str_equal(value, "emmc"))
                        cfg->ufs = false;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "da-protocol")) {
                cfg->xflash_set = true;
                if (g_str_equal(value, "xflash"))
                        cfg->xflash = true, cfg->xml = false;
                else if (g_str_equal(value, "xml"))
                        cfg->xflash = false, cfg->xml = true;
                else if (g_str_equal(value, "legacy"))
                        cfg->xflash = cfg->xml = false;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xml-start")) {
                if (g_str_equal(value, "plain"))
                        cfg->xml_start_arg = false;
                else if (g_str_equal(value, "arg"))
                        cfg->xml_start_arg = true;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xml-value")) {
                if (g_str_equal(value, "any"))
                        cfg->xml_hex_only = false;
                else if (g_str_equal(value, "hex"))
                        cfg->xml_hex_only = true;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xml-da2-check")) {
                if (g_str_equal(value, "slot"))
                        cfg->xml_da2_check = SIM_XML_DA2_CHECK_SLOT;
                else if (g_str_equal(value, "sbc"))
                        cfg->xml_da2_check = SIM_XML_DA2_CHECK_SBC;
                else if (g_str_equal(value, "none"))
                        cfg->xml_da2_check = SIM_XML_DA2_CHECK_NONE;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xml-read-packet") || g_str_equal(key, "xml-write-packet")) {
                /* a packet_length the host can read in one piece: 1 byte to 16 MiB */
                r = parse_uint(value, 16 * 1024 * 1024, &v);
                if (r >= 0 && v == 0)
                        r = -EINVAL;
                if (r >= 0 && key[4] == 'r')
                        cfg->xml_read_packet = (uint32_t) v;
                else if (r >= 0)
                        cfg->xml_write_packet = (uint32_t) v;
        } else if (g_str_equal(key, "sla"))
                r = parse_uint(value, 1, &v), cfg->sla = v != 0;
        else if (g_str_equal(key, "xf-read-status")) {
                if (g_str_equal(value, "after-ack"))
                        cfg->xf_status_before_ack = false;
                else if (g_str_equal(value, "before-ack"))
                        cfg->xf_status_before_ack = true;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xf-emmc-info")) {
                r = parse_uint(value, 0xff, &v);
                if (r >= 0 && v != XFLASH_EMMC_INFO_SIZE_OLD && v != XFLASH_EMMC_INFO_SIZE_NEW)
                        r = -EINVAL;
                cfg->xf_emmc_info_len = (unsigned) v;
        } else if (g_str_equal(key, "xf-ram-info")) {
                r = parse_uint(value, 0xff, &v);
                if (r >= 0 && v != 24 && v != 48)
                        r = -EINVAL;
                cfg->xf_ram_info_len = (unsigned) v;
        } else if (g_str_equal(key, "xf-ufs-info")) {
                r = parse_uint(value, 0xff, &v);
                if (r >= 0 && v != XFLASH_UFS_INFO_SIZE_V1 && v != XFLASH_UFS_INFO_SIZE)
                        r = -EINVAL;
                cfg->xf_ufs_info_len = (unsigned) v;
        } else if (g_str_equal(key, "xf-da2-sync")) {
                if (g_str_equal(value, "sync"))
                        cfg->xf_da2_zero = false;
                else if (g_str_equal(value, "zero"))
                        cfg->xf_da2_zero = true;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xf-shutdown")) {
                if (g_str_equal(value, "reboot"))
                        cfg->xf_shutdown_flags = false;
                else if (g_str_equal(value, "flags"))
                        cfg->xf_shutdown_flags = true;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xf-read-statuses")) {
                r = parse_uint(value, 2, &v);
                if (r >= 0 && v < 1)
                        r = -EINVAL;
                cfg->xf_read_one_status = v == 1;
        } else if (g_str_equal(key, "xf-emi-refuse")) {
                if (g_str_equal(value, "silent"))
                        cfg->xf_emi_silent = true;
                else if (g_str_equal(value, "status"))
                        cfg->xf_emi_silent = false;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "xf-read-zlp"))
                r = parse_uint(value, 1, &v), cfg->xf_read_zlp = v != 0;
        else if (g_str_equal(key, "xf-read-packet") || g_str_equal(key, "xf-write-packet")) {
                /* a data chunk of exactly 4 bytes would read as a status (§10.2) */
                r = parse_uint(value, 16 * 1024 * 1024, &v);
                if (r >= 0 && (v < 0x200 || v % 0x200))
                        r = -EINVAL;
                if (key[3] == 'r')
                        cfg->xf_read_packet = (uint32_t) v;
                else
                        cfg->xf_write_packet = (uint32_t) v;
        } else if (g_str_equal(key, "rate")) {
                /* MB/s of bulk IN data; 53.2 models USB 2.0 high speed, 0 = uncapped */
                char *end;

                cfg->rate_mbps = g_ascii_strtod(value, &end);
                if (*end || cfg->rate_mbps < 0)
                        r = -EINVAL;
        } else if (g_str_equal(key, "latency-us"))
                /* per-transfer completion latency of the USB model; 0 = none */
                r = parse_uint(value, 1000000, &v), cfg->latency_us = (unsigned) v;
        else if (g_str_equal(key, "hub")) {
                /* phones naming one hub share its line (sim-usb.c); fixed at add */
                if (strlen(value) >= sizeof(cfg->hub) || strpbrk(value, " \t"))
                        r = -EINVAL;
                else
                        g_strlcpy(cfg->hub, value, sizeof(cfg->hub));
        } else if (g_str_equal(key, "unplugged"))
                cfg->start_unplugged = g_str_equal(value, "1") || g_str_equal(value, "yes");
        else if (g_str_equal(key, "start")) {
                if (g_str_equal(value, "da"))
                        cfg->start_in_da = true;
                else if (g_str_equal(value, "rom"))
                        cfg->start_in_da = false;
                else
                        r = -EINVAL;
        } else if (g_str_equal(key, "daa-accept"))
                cfg->daa_accept = g_str_equal(value, "1") || g_str_equal(value, "yes");
        else if (g_str_equal(key, "fault"))
                r = sim_fault_parse(value, &cfg->fault, &cfg->fault_arg, &cfg->fault_at_op);
        else if (g_str_equal(key, "port")) {
                /* handled by the world */
        } else {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown phone key \"%s\"", key);
                return -EINVAL;
        }
        if (r < 0)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad value \"%s\" for %s", value, key);
        return r;
}

static void phone_defaults(SimPhoneConfig *cfg, unsigned n) {
        *cfg = (SimPhoneConfig) { .fault_at_op = -1 };
        snprintf(cfg->id, sizeof(cfg->id), "phone%u", n);
        sim_phone_config_set(cfg, "chip", "mt6735", NULL);
        /* Assumed (brom.md §8: unknown for a real MT6735): a preloader recent
         * enough to answer GET_ME_ID, i.e. bl_ver 3. */
        cfg->bl_ver = 3;
        cfg->brom_ver = 0x05;
        cfg->hw_version = 0xca00;
        cfg->sw_version = 0;
        cfg->handshake_window_ms = BROM_PRELOADER_HANDSHAKE_TIMEOUT_MS;
        /* a phone's life (README "A phone's life"): the watchdog bites 8 s
         * after the handshake, a reset takes 300 ms, it boots once */
        cfg->watchdog_ms = 8000;
        cfg->boot_delay_ms = 300;
        cfg->boots = 1;
        cfg->uptime_ms = 200;
        cfg->nand_ids = 7;
        cfg->soc_ok = DA_SOC_OK;
        cfg->usb_speed = -1;
        /* xflash.md [SIM] values (§8, §19) */
        cfg->xf_emmc_info_len = XFLASH_EMMC_INFO_SIZE_NEW;
        cfg->xf_ram_info_len = 48;
        cfg->xf_ufs_info_len = XFLASH_UFS_INFO_SIZE;
        cfg->xf_read_packet = cfg->xf_write_packet = 0x100000;
        /* xml-da.md §5.2 [SIM]: 1 MiB upload chunks; the write side the same (assumed) */
        cfg->xml_read_packet = cfg->xml_write_packet = 0x100000;
}

static void derive_ids(SimPhoneConfig *cfg, bool have_me, bool have_soc) {
        g_autofree char *seed = g_strdup_printf("%s:%s", cfg->id, cfg->chip);
        g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
        uint8_t digest[32];
        gsize len = sizeof(digest);

        g_checksum_update(c, (const guchar *) seed, -1);
        g_checksum_get_digest(c, digest, &len);
        if (!have_me)
                memcpy(cfg->me_id, digest, sizeof(cfg->me_id));
        if (!have_soc) {
                for (size_t i = 0; i < sizeof(cfg->soc_id); i++)
                        cfg->soc_id[i] = digest[(i + 7) % 32] ^ 0xa5;
        }
}

SimSlot *sim_world_find(SimWorld *w, const char *id) {
        for (guint i = 0; i < w->slots->len; i++) {
                SimSlot *s = g_ptr_array_index(w->slots, i);

                if (g_str_equal(s->id, id))
                        return s;
        }
        return NULL;
}

SimSlot *sim_world_add_phone(SimWorld *w, const char *spec, GError **error) {
        g_auto(GStrv) items = g_strsplit(spec, ",", -1);
        g_autofree char *port = NULL;
        SimPhoneConfig cfg;
        bool have_me = false, have_soc = false;
        SimPhone *phone;
        SimSlot *s;

        phone_defaults(&cfg, w->slots->len);
        for (guint i = 0; items[i]; i++) {
                g_auto(GStrv) kv = NULL;
                g_autofree char *value = NULL;

                if (!*items[i])
                        continue;
                kv = g_strsplit(items[i], "=", 2);
                if (!kv[1]) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "expected KEY=VALUE, got \"%s\"",
                                    items[i]);
                        g_free(cfg.storage);
                        return NULL;
                }
                value = g_strdup(kv[1]);
                /* a list value (absent=0xd8,0xe1) goes on after the commas */
                while (g_str_equal(kv[0], "absent") && items[i + 1] && *items[i + 1] && !strchr(items[i + 1], '=')) {
                        char *longer = g_strconcat(value, ",", items[++i], NULL);

                        g_free(value);
                        value = longer;
                }
                if (g_str_equal(kv[0], "port")) {
                        g_free(port);
                        port = g_strdup(value);
                        continue;
                }
                if (sim_phone_config_set(&cfg, kv[0], value, error) < 0) {
                        g_free(cfg.storage);
                        return NULL;
                }
                have_me |= g_str_equal(kv[0], "me-id");
                have_soc |= g_str_equal(kv[0], "soc-id");
        }
        if (sim_world_find(w, cfg.id)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "a phone \"%s\" exists already", cfg.id);
                g_free(cfg.storage);
                return NULL;
        }
        derive_ids(&cfg, have_me, have_soc);
        if (!cfg.storage)
                cfg.storage = g_strdup_printf("%s/storage-%s.img", w->root, cfg.id);
        if (!port)
                port = g_strdup_printf("1-%u", ++w->next_port);

        if (cfg.hub[0]) {
                /* one line: one rate and one latency for all the phones on it */
                SimUsbHub *hub = g_hash_table_lookup(w->hubs, cfg.hub);

                if (cfg.rate_mbps <= 0) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "hub=%s needs the line's rate (rate= > 0, e.g. 53.2)", cfg.hub);
                        g_free(cfg.storage);
                        return NULL;
                }
                if (hub && (sim_usb_hub_rate(hub) != cfg.rate_mbps || sim_usb_hub_latency(hub) != cfg.latency_us)) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "hub=%s has rate=%g,latency-us=%u; phone %s wants rate=%g,latency-us=%u: the "
                                    "phones behind one hub share one line and need the same keys",
                                    cfg.hub, sim_usb_hub_rate(hub), sim_usb_hub_latency(hub), cfg.id,
                                    cfg.rate_mbps, cfg.latency_us);
                        g_free(cfg.storage);
                        return NULL;
                }
        }

        phone = sim_phone_new(&cfg, error);
        g_free(cfg.storage);
        if (!phone)
                return NULL;
        s = g_new0(SimSlot, 1);
        s->id = g_strdup(sim_phone_config(phone)->id);
        s->world = w;
        s->device = sim_device_new(w->tb, phone, port);
        if (cfg.hub[0]) {
                SimUsbHub *hub = g_hash_table_lookup(w->hubs, cfg.hub);

                if (!hub) {
                        hub = sim_usb_hub_new(cfg.hub, cfg.rate_mbps, cfg.latency_us);
                        g_hash_table_insert(w->hubs, g_strdup(cfg.hub), hub);
                }
                sim_device_set_hub(s->device, hub);
        }
        sim_life_watch(w, s);
        g_ptr_array_add(w->slots, s);
        return s;
}

static void plug_all(SimWorld *w) {
        g_autoptr(GError) error = NULL;

        if (w->plugged_initial)
                return;
        w->plugged_initial = true;
        for (guint i = 0; i < w->slots->len; i++) {
                SimSlot *s = g_ptr_array_index(w->slots, i);
                SimPhone *p = sim_device_lock(s->device);
                bool later = sim_phone_config(p)->start_unplugged;

                sim_device_unlock(s->device);
                if (later)
                        continue;
                if (!sim_world_plug(w, s, &error)) {
                        g_printerr("mtksim: cannot plug a phone: %s\n", error->message);
                        g_clear_error(&error);
                }
        }
}

/* ------------------------------------------------------------ the command */

/* umockdev-usb.md step 7: a uevent reaches only sockets that exist, so plug
 * once the command has one (the preload creates $UMOCKDEV_DIR/eventN). */
static gboolean on_inotify(int fd, GIOCondition cond, gpointer userdata) {
        SimWorld *w = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n = read(fd, buf, sizeof(buf));

        for (char *p = buf; n > 0 && p < buf + n;) {
                struct inotify_event *ev = (struct inotify_event *) p;

                if (ev->len > 0 && g_str_has_prefix(ev->name, "event"))
                        w->listening = true;
                p += sizeof(struct inotify_event) + ev->len;
        }
        if (!w->listening)
                return G_SOURCE_CONTINUE;
        plug_all(w);
        close(fd);
        return G_SOURCE_REMOVE;
}

static void on_child_exit(GPid pid, gint status, gpointer userdata) {
        SimWorld *w = userdata;

        if (WIFEXITED(status))
                w->exit_status = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                w->exit_status = 128 + WTERMSIG(status);
        else
                w->exit_status = 1;
        g_spawn_close_pid(pid);
        w->child = 0;
        g_main_loop_quit(w->loop);
}

static gboolean on_signal(gpointer userdata) {
        SimWorld *w = userdata;

        if (w->child > 0)
                kill(w->child, SIGTERM);
        else
                g_main_loop_quit(w->loop);
        return G_SOURCE_CONTINUE;
}

static void reexec_under_preload(char **argv) {
        const char *old = g_getenv("LD_PRELOAD");
        g_autofree char *value = NULL;

        if (old && strstr(old, "libumockdev-preload"))
                return;
        /* umockdev-usb.md step 1: the testbed itself must see the fake world */
        value = old && *old ? g_strdup_printf("%s:%s", PRELOAD_LIB, old) : g_strdup(PRELOAD_LIB);
        g_setenv("LD_PRELOAD", value, TRUE);
        execv("/proc/self/exe", argv);
        g_printerr("mtksim: cannot re-execute under %s: %s\n", PRELOAD_LIB, g_strerror(errno));
        exit(EXIT_FAILURE);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "phone", required_argument, NULL, 'p' },
                { "control", required_argument, NULL, 'c' },
                { "coldplug", no_argument, NULL, 'C' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        g_autoptr(GPtrArray) specs = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *control = NULL;
        SimWorld w = { .control_fd = -1, .exit_status = 1 };
        bool coldplug = false;
        int c, ifd;

        reexec_under_preload(argv);

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        g_ptr_array_add(specs, optarg);
                        break;
                case 'c':
                        g_free(control);
                        control = g_strdup(optarg);
                        break;
                case 'C':
                        coldplug = true;
                        break;
                case 'v':
                        w.verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return 2;
                }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }

        /* umockdev-usb.md step 2: latch "not in a mock environment" before
         * the testbed exists, so add_device does not announce devices early */
        (void) umockdev_in_mock_environment();
        w.tb = umockdev_testbed_new();
        w.root = umockdev_testbed_get_root_dir(w.tb);
        w.slots = g_ptr_array_new();
        w.hubs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        w.loop = g_main_loop_new(NULL, FALSE);

        if (!umockdev_testbed_add_device(w.tb, "usb", "usb1", NULL, "busnum", "1", "devnum", "1", "speed", "480",
                                         NULL, "DEVTYPE", "usb_device", "BUSNUM", "001", "DEVNUM", "001", NULL)) {
                g_printerr("mtksim: cannot create the root hub\n");
                return EXIT_FAILURE;
        }
        w.next_devnum = 1;

        if (specs->len == 0)
                g_ptr_array_add(specs, (gpointer) "");
        for (guint i = 0; i < specs->len; i++)
                if (!sim_world_add_phone(&w, g_ptr_array_index(specs, i), &error)) {
                        g_printerr("mtksim: --phone %s: %s\n", (char *) g_ptr_array_index(specs, i), error->message);
                        return 2;
                }

        if (!control)
                control = g_strdup_printf("%s/control", w.root);
        if (!sim_control_start(&w, control, &error)) {
                g_printerr("mtksim: %s\n", error->message);
                return EXIT_FAILURE;
        }
        g_setenv("MTKSIM_CONTROL", control, TRUE);

        if (coldplug)
                plug_all(&w);
        else {
                ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (ifd < 0 || inotify_add_watch(ifd, w.root, IN_CREATE) < 0) {
                        g_printerr("mtksim: inotify: %s\n", g_strerror(errno));
                        return EXIT_FAILURE;
                }
                g_unix_fd_add(ifd, G_IO_IN, on_inotify, &w);
        }

        if (!g_spawn_async(NULL, argv + optind, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                           &w.child, &error)) {
                g_printerr("mtksim: cannot run %s: %s\n", argv[optind], error->message);
                return 127;
        }
        g_child_watch_add(w.child, on_child_exit, &w);
        g_unix_signal_add(SIGTERM, on_signal, &w);
        g_unix_signal_add(SIGINT, on_signal, &w);

        g_main_loop_run(w.loop);

        sim_control_stop(&w);
        for (guint i = 0; i < w.slots->len; i++) {
                SimSlot *s = g_ptr_array_index(w.slots, i);

                sim_life_cancel(s);
                sim_device_free(s->device);
                g_free(s->id);
                g_free(s);
        }
        g_ptr_array_unref(w.slots);
        {
                GHashTableIter it;
                gpointer hub;

                g_hash_table_iter_init(&it, w.hubs);
                while (g_hash_table_iter_next(&it, NULL, &hub))
                        sim_usb_hub_free(hub);
                g_hash_table_unref(w.hubs);
        }
        g_main_loop_unref(w.loop);
        g_free(w.root);
        g_object_unref(w.tb); /* removes the testbed directory */
        return w.exit_status;
}

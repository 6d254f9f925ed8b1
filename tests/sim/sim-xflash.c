/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Written from ../shared/protocol/xflash.md (and brom-emi.md for the EMI
 * block), not from the daemon.  Where the reference is silent the choice
 * is marked "assumed" and listed in tests/sim/README.md ("XFlash").
 */
#include <string.h>

#include "brom-proto.h"
#include "sim-emi.h"
#include "sim-phone-impl.h"
#include "sim-storage.h"
#include "sim-xflash.h"
#include "xflash-proto.h"

/* A payload longer than this is refused (protocol buffer overflow, assumed):
 * the largest a host sends is a WRITE_DATA chunk or DA2 (well under 16 MiB) */
#define XF_MAX_PAYLOAD (16u * 1024u * 1024u)

/* §8.3 [SIM] values */
#define XF_DA_VERSION    "1.0"
#define XF_SRAM_BASE     0x100000u
#define XF_SRAM_SIZE     0x40000u
#define XF_DRAM_BASE     0x40000000u
#define XF_DRAM_SIZE     0xc0000000u
#define XF_NAND_INFO_LEN 45
#define XF_NOR_INFO_LEN  16
#define XF_CHIP_ID_LEN   10
#define XF_RANDOM_ID_LEN 16
#define XF_DEV_FW_INFO_LEN 68
#define XF_PART_TBL_GPT  0x64
#define XF_PART_TBL_PMT  0x65
#define XF_RPMB_SIZE     0x1000000u   /* §8.1 [SIM] */
#define XF_UFS_VENDOR    0x01ce       /* Samsung (assumed) */
#define XF_SHUTDOWN_LEN_MTKCLIENT 32

/* Steps of a command (p->xf.step) */
enum {
        XS_PARAM,           /* the command's first parameter packet */
        XS_PARAM2,          /* a second one (INIT_EXT_RAM block, BOOT_TO image, setter value) */
        XS_CHUNK_ACK,       /* READ_DATA: the host's P(0) after a chunk */
        XS_W_ZERO,          /* WRITE_DATA: P(0), P(checksum), P(chunk) */
        XS_W_SUM,
        XS_W_DATA,
};

typedef enum CtrlKind {
        CTRL_GETTER,
        CTRL_SETTER,
} CtrlKind;

typedef struct Ctrl {
        uint32_t code;
        CtrlKind kind;
        bool da1;           /* DA1 answers it too (§6.3, §18.4); DA2 answers every entry */
} Ctrl;

/* §4.2 codes this DA knows; any other is "unsupported ctrl code" (pattern E) */
static const Ctrl ctrls[] = {
        { XFLASH_CTRL_GET_CONNECTION_AGENT, CTRL_GETTER, true },
        { XFLASH_CTRL_GET_PACKET_LENGTH, CTRL_GETTER, true },
        { XFLASH_CTRL_GET_EMMC_INFO, CTRL_GETTER, true },
        { XFLASH_CTRL_GET_UFS_INFO, CTRL_GETTER, true },
        { XFLASH_CTRL_GET_USB_SPEED, CTRL_GETTER, true },
        { XFLASH_CTRL_SET_RESET_KEY, CTRL_SETTER, true },
        { XFLASH_CTRL_SET_CHECKSUM_LEVEL, CTRL_SETTER, true },
        { XFLASH_CTRL_SET_BATTERY_OPT, CTRL_SETTER, true },
        { XFLASH_CTRL_GET_NAND_INFO, CTRL_GETTER, false },
        { XFLASH_CTRL_GET_NOR_INFO, CTRL_GETTER, false },
        { XFLASH_CTRL_GET_RAM_INFO, CTRL_GETTER, false },
        { XFLASH_CTRL_GET_CHIP_ID, CTRL_GETTER, false },
        { XFLASH_CTRL_GET_DA_VERSION, CTRL_GETTER, false },
        { XFLASH_CTRL_GET_RANDOM_ID, CTRL_GETTER, false },
        { XFLASH_CTRL_SLA_ENABLED_STATUS, CTRL_GETTER, false },
        { XFLASH_CTRL_GET_PARTITION_TBL_CATA, CTRL_GETTER, false },
        { XFLASH_CTRL_GET_DEV_FW_INFO, CTRL_GETTER, false },
        { XFLASH_CTRL_SET_META_BOOT_MODE, CTRL_SETTER, false },
        { XFLASH_CTRL_SET_HOST_INFO, CTRL_SETTER, false },
};

/* ------------------------------------------------------------ helpers */

static uint32_t rd32(const uint8_t *b) {
        return (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 24;
}
static uint64_t rd64(const uint8_t *b) {
        return (uint64_t) rd32(b) | (uint64_t) rd32(b + 4) << 32;
}
static void wr16(uint8_t *b, uint16_t v) {
        b[0] = (uint8_t) v;
        b[1] = (uint8_t) (v >> 8);
}
static void wr32(uint8_t *b, uint32_t v) {
        wr16(b, (uint16_t) v);
        wr16(b + 2, (uint16_t) (v >> 16));
}
static void wr64(uint8_t *b, uint64_t v) {
        wr32(b, (uint32_t) v);
        wr32(b + 4, (uint32_t) (v >> 32));
}

/* §2.1, §2.3: the header and the payload, each its own field (so its own
 * short packet(s)); fault wrong-echo spoils the magic of the next header */
static void xf_send(SimPhone *p, const void *data, size_t len) {
        uint8_t h[XFLASH_HEADER_SIZE];

        wr32(h, XFLASH_MAGIC);
        if (p->fault == SIM_FAULT_WRONG_ECHO) {
                p->fault = SIM_FAULT_NONE;
                h[3] ^= 0x01;
        }
        wr32(h + 4, XFLASH_DT_PROTOCOL_FLOW);
        wr32(h + 8, (uint32_t) len);
        sim_phone_emit(p, h, sizeof(h));
        sim_phone_emit(p, data, len);
}

static void xf_status(SimPhone *p, uint32_t v) {
        uint8_t b[4];

        if (p->fault == SIM_FAULT_STATUS) {
                v = (uint32_t) p->fault_arg;
                p->fault = SIM_FAULT_NONE;
        }
        p->xf.last_status = v;
        wr32(b, v);
        xf_send(p, b, sizeof(b));
}

/* Pattern A's acknowledgement; fault nack makes it an error and the command is not run */
static bool xf_ack(SimPhone *p) {
        if (p->fault == SIM_FAULT_NACK) {
                p->fault = SIM_FAULT_NONE;
                xf_status(p, XFLASH_STATUS_ERROR);
                return false;
        }
        xf_status(p, XFLASH_STATUS_OK);
        return true;
}

static void xf_protocol_error(SimPhone *p) {
        p->xf.protocol_errors++;
        p->xf.cmd = -1;
        xf_status(p, XFLASH_STATUS_PROTOCOL_ERR);
}

/* The next whole packet in the byte stream: its payload and length, or
 * false when it has not all arrived yet (or was refused). */
static bool xf_packet(SimPhone *p, const uint8_t **ret, uint32_t *ret_len) {
        GByteArray *rx = p->rx;
        uint32_t len;

        if (p->xf.skip > 0) {
                size_t n = (size_t) MIN((uint64_t) rx->len, p->xf.skip);

                g_byte_array_remove_range(rx, 0, (guint) n);
                p->xf.skip -= n;
                if (p->xf.skip > 0)
                        return false;
        }
        if (rx->len < XFLASH_HEADER_SIZE)
                return false;
        if (rd32(rx->data) != XFLASH_MAGIC || rd32(rx->data + 4) != XFLASH_DT_PROTOCOL_FLOW) {
                /* not a header: answer a protocol error once, drop what came and
                 * wait for a transfer that starts with the magic (assumed) */
                g_byte_array_set_size(rx, 0);
                p->xf.resync = true;
                xf_protocol_error(p);
                return false;
        }
        len = rd32(rx->data + 8);
        if (len > XF_MAX_PAYLOAD) {
                g_byte_array_remove_range(rx, 0, XFLASH_HEADER_SIZE);
                p->xf.skip = len;
                p->xf.protocol_errors++;
                p->xf.cmd = -1;
                xf_status(p, XFLASH_STATUS_PROTOCOL_BUFFER_OVERFLOW);
                return false;
        }
        if (rx->len < XFLASH_HEADER_SIZE + (size_t) len)
                return false;
        *ret = rx->data + XFLASH_HEADER_SIZE;
        *ret_len = len;
        return true;
}

static void xf_drop(SimPhone *p, uint32_t len) {
        g_byte_array_remove_range(p->rx, 0, XFLASH_HEADER_SIZE + len);
}

static void xf_note(SimPhone *p, uint32_t op) {
        sim_phone_note_command(p, (int) op);
        if (p->fault == SIM_FAULT_UNPLUG_AFTER_CMD && (uint64_t) op == p->fault_arg)
                sim_phone_leave(p, SIM_LEAVE_GONE, RESET_NONE, true);
}

static bool link_full_speed(const SimPhone *p) {
        if (p->speed_switched)
                return false;
        if (p->cfg.usb_speed >= 0)
                return p->cfg.usb_speed == 0;
        return p->usb_brom;
}

/* ------------------------------------------------------------ lifecycle */

void sim_xflash_reset(SimXflash *x) {
        /* what the last SHUTDOWN asked for outlives the DA (stats) */
        *x = (SimXflash) { .cmd = -1, .shutdown = x->shutdown };
}

void sim_xflash_start(SimPhone *p) {
        uint8_t c0 = XFLASH_DA1_SYNC_CHAR;

        sim_xflash_reset(&p->xf);
        /* a preloader brought DRAM up (its DownloadArg); a BROM did not (§6.3) */
        p->xf.dram_up = !p->brom;
        /* §6.1 row 1: one raw byte, no header; DA1 comes up at ROM clock (slow-ms) */
        p->emit_delay_us = (uint64_t) p->cfg.slow_ms * 1000u;
        sim_phone_emit(p, &c0, 1);
        sim_phone_enter(p, PHASE_XF_DA1);
}

void sim_xflash_resume_da2(SimPhone *p) {
        sim_xflash_reset(&p->xf);
        p->xf.synced = p->xf.hw_init = p->xf.dram_up = p->xf.da2 = true;
        sim_phone_enter(p, PHASE_XF_DA2);
}

bool sim_xflash_accept(SimPhone *p, const uint8_t *data, size_t len) {
        if (!p->xf.resync)
                return true;
        if (len >= 4 && rd32(data) == XFLASH_MAGIC) {
                p->xf.resync = false;
                return true;
        }
        return false;
}

/* ------------------------------------------------------------ device control (§8) */

static const Ctrl *ctrl_find(SimPhone *p, uint32_t code) {
        for (size_t i = 0; i < G_N_ELEMENTS(ctrls); i++)
                if (ctrls[i].code == code)
                        return p->xf.da2 || ctrls[i].da1 ? &ctrls[i] : NULL;
        return NULL;
}

static void emmc_info(SimPhone *p, uint8_t *b) {
        const SimStorage *s = p->storage;

        if (sim_storage_is_ufs(s))
                return; /* type 0, all zero: no eMMC */
        wr32(b + 0x00, XFLASH_EMMC_TYPE_EMMC);
        wr32(b + 0x04, 0x200);
        wr64(b + 0x08, sim_storage_region_size(s, XFLASH_EMMC_PART_BOOT1));
        wr64(b + 0x10, sim_storage_region_size(s, XFLASH_EMMC_PART_BOOT2));
        wr64(b + 0x18, XF_RPMB_SIZE);
        wr64(b + 0x40, sim_storage_region_size(s, XFLASH_EMMC_PART_USER));
        memcpy(b + 0x48, sim_storage_cid(s), 16);
        memcpy(b + 0x58, "\x01\x00\x00\x00\x00\x00\x00\x00", 8); /* firmware version (assumed) */
        if (p->cfg.xf_emmc_info_len >= XFLASH_EMMC_INFO_SIZE_NEW) {
                /* pre-EOL normal, life time estimates A/B 1 (0–10 % used) */
                b[0x60] = 0x01;
                b[0x61] = 0x01;
                b[0x62] = 0x01;
        }
}

static void ufs_info(SimPhone *p, uint8_t *b, size_t len) {
        const SimStorage *s = p->storage;

        if (!sim_storage_is_ufs(s))
                return; /* type 0, all zero: no UFS */
        wr32(b + 0x00, XFLASH_UFS_TYPE_UFS);
        wr32(b + 0x04, 0x1000);
        wr64(b + 0x08, sim_storage_region_size(s, XFLASH_EMMC_PART_BOOT1));
        wr64(b + 0x10, sim_storage_region_size(s, XFLASH_EMMC_PART_BOOT2));
        wr64(b + 0x18, sim_storage_region_size(s, XFLASH_EMMC_PART_USER));
        if (len < XFLASH_UFS_INFO_SIZE) {
                /* the older 0x34-byte layout: cid[16] at 0x20, fwver[4] at 0x30 (penumbra UfsInfoV1) */
                memcpy(b + 0x20, sim_storage_ufs_product(s), 16);
                memcpy(b + 0x30, "0100", 4);
                return;
        }
        wr16(b + 0x20, XF_UFS_VENDOR);
        memcpy(b + 0x22, sim_storage_ufs_product(s), SIM_UFS_PRODUCT_LEN);
        memcpy(b + 0x36, "0100\0\0\0\0", 8);
        memcpy(b + 0x3e, sim_storage_ufs_serial(s), SIM_UFS_SERIAL_LEN);
}

static void ctrl_get(SimPhone *p, uint32_t code) {
        uint8_t b[256] = {};
        size_t len = 0;
        const char *str = NULL;

        switch (code) {
        case XFLASH_CTRL_GET_CONNECTION_AGENT:
                /* who loaded DA1: byte-exact, no NUL (§19 item 7) */
                str = p->brom ? XFLASH_AGENT_BROM : XFLASH_AGENT_PRELOADER;
                break;
        case XFLASH_CTRL_GET_PACKET_LENGTH:
                wr32(b, p->cfg.xf_write_packet);
                wr32(b + 4, p->cfg.xf_read_packet);
                len = 8;
                break;
        case XFLASH_CTRL_GET_EMMC_INFO:
                len = p->cfg.xf_emmc_info_len;
                emmc_info(p, b);
                break;
        case XFLASH_CTRL_GET_UFS_INFO:
                len = p->cfg.xf_ufs_info_len;
                ufs_info(p, b, len);
                break;
        case XFLASH_CTRL_GET_USB_SPEED:
                str = link_full_speed(p) ? XFLASH_USB_FULL_SPEED : XFLASH_USB_HIGH_SPEED;
                break;
        case XFLASH_CTRL_GET_NAND_INFO:
                len = XF_NAND_INFO_LEN; /* type 0: no NAND */
                break;
        case XFLASH_CTRL_GET_NOR_INFO:
                len = XF_NOR_INFO_LEN;
                break;
        case XFLASH_CTRL_GET_RAM_INFO: {
                const uint64_t v[6] = { 0, XF_SRAM_BASE, XF_SRAM_SIZE, 1, XF_DRAM_BASE, XF_DRAM_SIZE };
                bool wide = p->cfg.xf_ram_info_len >= 48;

                for (size_t i = 0; i < 6; i++) {
                        if (wide)
                                wr64(b + 8 * i, v[i]);
                        else
                                wr32(b + 4 * i, (uint32_t) v[i]);
                }
                len = wide ? 48 : 24;
                break;
        }
        case XFLASH_CTRL_GET_CHIP_ID:
                /* the raw hw code, not the dacode (§8.3) */
                wr16(b, p->cfg.hw_code);
                wr16(b + 2, p->cfg.hw_sub_code);
                wr16(b + 4, p->cfg.hw_version);
                wr16(b + 6, p->cfg.sw_version);
                len = XF_CHIP_ID_LEN;
                break;
        case XFLASH_CTRL_GET_DA_VERSION:
                str = XF_DA_VERSION;
                break;
        case XFLASH_CTRL_GET_RANDOM_ID:
                for (size_t i = 0; i < XF_RANDOM_ID_LEN; i++)
                        b[i] = p->cfg.soc_id[i] ^ 0x5a; /* per phone (assumed) */
                len = XF_RANDOM_ID_LEN;
                break;
        case XFLASH_CTRL_SLA_ENABLED_STATUS:
                wr32(b, p->cfg.sla ? 1 : 0);
                len = 4;
                break;
        case XFLASH_CTRL_GET_PARTITION_TBL_CATA:
                wr32(b, p->cfg.layout == SIM_LAYOUT_PMT ? XF_PART_TBL_PMT : XF_PART_TBL_GPT);
                len = 4;
                break;
        case XFLASH_CTRL_GET_DEV_FW_INFO:
                /* u32, rnd[16], hrid[16], soc_id[32] (§8.3) */
                for (size_t i = 0; i < XF_RANDOM_ID_LEN; i++)
                        b[4 + i] = p->cfg.soc_id[i] ^ 0x5a;
                memcpy(b + 20, p->cfg.me_id, 16);
                memcpy(b + 36, p->cfg.soc_id, 32);
                len = XF_DEV_FW_INFO_LEN;
                break;
        default:
                break;
        }
        if (str) {
                len = strlen(str);
                memcpy(b, str, len);
        }
        xf_send(p, b, len);
        xf_status(p, XFLASH_STATUS_OK);
}

static void ctrl_set(SimPhone *p, uint32_t code, const uint8_t *param, uint32_t len) {
        uint32_t v = len >= 4 ? rd32(param) : 0;

        switch (code) {
        case XFLASH_CTRL_SET_CHECKSUM_LEVEL:
                p->xf.checksum_level = v;
                break;
        case XFLASH_CTRL_SET_RESET_KEY:
                p->xf.reset_key = v;
                break;
        default:
                break;
        }
        xf_status(p, XFLASH_STATUS_OK);
}

/* ------------------------------------------------------------ INIT_EXT_RAM (§7) */

/* The whole MTK_BLOADER_INFO block of the chip's EMI version with a
 * record for this phone's memory (with preloader=: exactly that block's
 * records) brings DRAM up; anything else is 0xC0040050 (assumed for every
 * mismatch, §19 item 5). */
static bool emi_accepts(SimPhone *p, const uint8_t *block, uint32_t len) {
        g_autofree SimEmiBlock *b = g_new0(SimEmiBlock, 1);
        const SimEmiBlock *pl = &p->cfg.preloader;
        size_t all;

        p->emi_bytes += len;
        if (len < SIM_EMI_HEADER_LEN || memcmp(block, "MTK_BLOADER_INFO_v", 18) != 0)
                return false; /* the records alone (the legacy slice) are not a block */
        if (!sim_emi_block_parse(block, len, b, NULL))
                return false;
        p->emi_version_sent = b->version;
        all = (size_t) b->count * b->record_size;
        if (p->cfg.emi_version < 0 || b->version != (unsigned) p->cfg.emi_version)
                return false;
        if (pl->present)
                return pl->version == b->version && pl->count == b->count &&
                       memcmp(pl->records, b->records, all) == 0;
        return sim_emi_dram_comes_up(NULL, b->version, b->records, all, sim_phone_memory_id(p));
}

/* ------------------------------------------------------------ BOOT_TO (§9) */

static bool da2_hash_known(SimPhone *p, const uint8_t *image, uint32_t len) {
        g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
        uint8_t digest[32];
        gsize dlen = sizeof(digest);

        g_checksum_update(c, image, len);
        g_checksum_get_digest(c, digest, &dlen);
        return memmem(p->da1_image->data, p->da1_image->len, digest, sizeof(digest)) != NULL;
}

static void boot_to(SimPhone *p, const uint8_t *image, uint32_t len) {
        uint32_t refuse = 0;

        if (p->xf.da2)
                /* a stock DA2 runs only code it signed (§9.5 "Reject") */
                refuse = XFLASH_STATUS_DA_HASH_MISMATCH;
        else if (p->fault == SIM_FAULT_DA_REJECT) {
                p->fault = SIM_FAULT_NONE;
                refuse = XFLASH_STATUS_DA_HASH_MISMATCH;
        } else if ((p->cfg.target_config & BROM_TGT_CFG_SBC) && !da2_hash_known(p, image, len))
                /* secure boot: DA1 runs only the DA2 whose SHA-256 it carries (§5.2) */
                refuse = XFLASH_STATUS_DA_HASH_MISMATCH;
        else if (!p->xf.dram_up)
                /* BROM mode without INIT_EXT_RAM: nowhere to put DA2 (assumed status) */
                refuse = XFLASH_STATUS_EXT_RAM_EXCEPTION;
        if (refuse) {
                p->xf.boot_refused++;
                xf_status(p, refuse);
                return;
        }
        xf_status(p, XFLASH_STATUS_OK);
        xf_status(p, p->cfg.xf_da2_zero ? XFLASH_STATUS_OK : XFLASH_STATUS_SYNC);
        p->xf.da2 = true;
        sim_phone_enter(p, PHASE_XF_DA2);
}

/* ------------------------------------------------------------ READ_DATA / WRITE_DATA (§10, §11) */

/* §15.1: the storage's region for a (storage type, region id); 0 = none */
static uint8_t rw_region(SimPhone *p, uint32_t storage, uint32_t region) {
        if (sim_storage_is_ufs(p->storage)) {
                if (storage != XFLASH_STORAGE_UFS)
                        return 0;
                switch (region) {
                case XFLASH_UFS_LU0:
                        return XFLASH_EMMC_PART_BOOT1;
                case XFLASH_UFS_LU1:
                        return XFLASH_EMMC_PART_BOOT2;
                case XFLASH_UFS_LU2:
                        return XFLASH_EMMC_PART_USER;
                default:
                        return 0;
                }
        }
        if (storage != XFLASH_STORAGE_EMMC)
                return 0;
        switch (region) {
        case XFLASH_EMMC_PART_BOOT1:
        case XFLASH_EMMC_PART_BOOT2:
        case XFLASH_EMMC_PART_USER:
                return (uint8_t) region;
        default:
                return 0;
        }
}

/* 0 when the block's range lies inside an existing region, else the refusal */
static uint32_t rw_check(SimPhone *p, const uint8_t *b) {
        uint64_t size;

        p->xf.storage = rd32(b);
        p->xf.region = rd32(b + 4);
        p->xf.addr = rd64(b + 8);
        p->xf.len = rd64(b + 16);
        p->xf.off = 0;
        if (p->cfg.sla)
                return XFLASH_STATUS_REMOTE_SEC_POLICY_OFF;
        p->region = rw_region(p, p->xf.storage, p->xf.region);
        size = p->region ? sim_storage_region_size(p->storage, p->region) : 0;
        if (p->xf.len == 0 || p->xf.addr + p->xf.len < p->xf.addr || p->xf.addr + p->xf.len > size)
                return XFLASH_STATUS_EXCEED_AVAILABLE_RANGE;
        return 0;
}

static void read_chunk(SimPhone *p) {
        size_t n = (size_t) MIN(p->xf.len - p->xf.off, (uint64_t) p->cfg.xf_read_packet);

        if (p->fault == SIM_FAULT_CHUNK_STATUS) {
                /* a status where the chunk should be: the read ends (§10.2) */
                uint32_t v = (uint32_t) p->fault_arg;

                p->fault = SIM_FAULT_NONE;
                xf_status(p, v);
                p->xf.cmd = -1;
                return;
        }
        p->chunk = g_realloc(p->chunk, n);
        sim_storage_read(p->storage, p->region, p->xf.addr + p->xf.off, p->chunk, n);
        xf_send(p, p->chunk, n);
        /* xf-read-zlp: a host reading with a buffer longer than the chunk
         * sees its end even when it ends on a full packet */
        if (p->cfg.xf_read_zlp)
                sim_phone_emit_zlp(p);
        p->xf.off += n;
        sim_phone_count_da(p, n);
        if (p->cfg.xf_status_before_ack)
                xf_status(p, XFLASH_STATUS_OK);
        p->xf.step = XS_CHUNK_ACK;
}

static void rw_done(SimPhone *p, bool write) {
        if (write) {
                p->writes++;
                p->write_bytes += p->xf.len;
                p->write_us += p->now - p->cmd_start_us;
        } else {
                p->reads++;
                p->read_bytes += p->xf.len;
                p->read_us += p->now - p->cmd_start_us;
        }
        p->rw_last_us = p->now;
        p->xf.cmd = -1;
}

static uint32_t sum16_u32(const uint8_t *d, size_t n) {
        uint32_t s = 0;

        for (size_t i = 0; i < n; i++)
                s += d[i];
        return s & 0xffff;
}

/* ------------------------------------------------------------ the command loop */

/* DA1 before SETUP_HW_INIT_PARAMS, DA2-only commands in DA1, DA1-only in DA2 */
static bool cmd_allowed(SimPhone *p, uint32_t cmd) {
        switch (cmd) {
        case XFLASH_CMD_SETUP_ENVIRONMENT:
        case XFLASH_CMD_SETUP_HW_INIT_PARAMS:
                return true;
        case XFLASH_CMD_READ_DATA:
        case XFLASH_CMD_WRITE_DATA:
                return p->xf.da2;
        case XFLASH_CMD_INIT_EXT_RAM:
                return p->xf.hw_init && !p->xf.da2;
        default:
                return p->xf.hw_init;
        }
}

static void cmd_start(SimPhone *p, uint32_t cmd) {
        p->xf.last_cmd = cmd;
        xf_note(p, cmd);
        /* stall@OP: from this command on it answers nothing */
        if (p->leave != SIM_LEAVE_NONE || p->fault == SIM_FAULT_STALL)
                return;
        p->xf.cmd = -1;
        p->xf.step = XS_PARAM;
        if (cmd == XFLASH_CMD_SYNC_SIGNAL)
                return; /* no status (§3) */
        if (cmd == XFLASH_CMD_READ_DATA || cmd == XFLASH_CMD_WRITE_DATA) {
                p->cmd_start_us = p->now;
                if (!p->rw_first_us)
                        p->rw_first_us = p->now;
        }
        switch (cmd) {
        case XFLASH_CMD_SETUP_ENVIRONMENT:
        case XFLASH_CMD_SETUP_HW_INIT_PARAMS:
                /* not acknowledged: the status follows the parameter (§3) */
                p->xf.cmd = (int) cmd;
                return;
        case XFLASH_CMD_DEVICE_CTRL:
        case XFLASH_CMD_INIT_EXT_RAM:
        case XFLASH_CMD_BOOT_TO:
        case XFLASH_CMD_READ_DATA:
        case XFLASH_CMD_WRITE_DATA:
        case XFLASH_CMD_SHUTDOWN:
        case XFLASH_CMD_SWITCH_USB_SPEED:
                if (!cmd_allowed(p, cmd)) {
                        xf_status(p, XFLASH_STATUS_INVALID_STAGE);
                        return;
                }
                if (xf_ack(p))
                        p->xf.cmd = (int) cmd;
                return;
        default:
                if (!p->xf.hw_init)
                        xf_status(p, XFLASH_STATUS_INVALID_STAGE);
                else
                        /* FORMAT, UPLOAD/DOWNLOAD by name, OTP, eFuse … are not simulated */
                        xf_status(p, XFLASH_STATUS_UNSUPPORTED_CMD);
                return;
        }
}

/* One packet for the command in progress */
static void cmd_packet(SimPhone *p, const uint8_t *d, uint32_t len) {
        uint32_t cmd = (uint32_t) p->xf.cmd;

        switch (cmd) {
        case XFLASH_CMD_SETUP_ENVIRONMENT:
                /* §6.2: log level, channel, OS, ufs_provision, reserved; no type-2 packets ever */
                p->xf.cmd = -1;
                xf_status(p, len == XFLASH_ENV_SIZE ? XFLASH_STATUS_OK : XFLASH_STATUS_PROTOCOL_ERR);
                return;
        case XFLASH_CMD_SETUP_HW_INIT_PARAMS:
                p->xf.cmd = -1;
                xf_status(p, XFLASH_STATUS_OK);
                if (!p->xf.hw_init) {
                        /* §6.1 row 9: DA1 ready */
                        uint8_t sync[4];

                        p->xf.hw_init = true;
                        wr32(sync, XFLASH_STATUS_SYNC);
                        xf_send(p, sync, sizeof(sync));
                }
                return;
        case XFLASH_CMD_DEVICE_CTRL:
                if (p->xf.step == XS_PARAM) {
                        const Ctrl *c;

                        if (len != 4) {
                                xf_protocol_error(p);
                                return;
                        }
                        p->xf.ctrl = p->xf.last_ctrl = rd32(d);
                        xf_note(p, p->xf.ctrl);
                        if (p->leave != SIM_LEAVE_NONE || p->fault == SIM_FAULT_STALL)
                                return;
                        c = ctrl_find(p, p->xf.ctrl);
                        if (!c) {
                                /* pattern E: nothing more */
                                p->xf.cmd = -1;
                                xf_status(p, XFLASH_STATUS_UNSUPPORTED_CTRL_CODE);
                                return;
                        }
                        xf_status(p, XFLASH_STATUS_OK);
                        if (c->kind == CTRL_GETTER) {
                                p->xf.cmd = -1;
                                ctrl_get(p, p->xf.ctrl);
                                return;
                        }
                        p->xf.step = XS_PARAM2;
                        return;
                }
                p->xf.cmd = -1;
                ctrl_set(p, p->xf.ctrl, d, len);
                return;
        case XFLASH_CMD_INIT_EXT_RAM:
                if (p->xf.step == XS_PARAM) {
                        /* u32 L, no status after it (§7 row 3) */
                        if (len != 4) {
                                xf_protocol_error(p);
                                return;
                        }
                        p->xf.param = rd32(d);
                        p->xf.step = XS_PARAM2;
                        return;
                }
                p->xf.cmd = -1;
                if (len != p->xf.param) {
                        xf_protocol_error(p);
                        return;
                }
                p->xf.emi_tries++;
                if (emi_accepts(p, d, len)) {
                        p->xf.dram_up = true;
                        p->dram = DRAM_UP;
                        xf_status(p, XFLASH_STATUS_OK);
                } else if (p->cfg.xf_emi_silent) {
                        /* §7, [logs:#229]: some DAs never answer a block that does not fit */
                        p->dram = DRAM_FAILED;
                        p->da1_stop = "emi-refused";
                        g_byte_array_set_size(p->rx, 0);
                        sim_phone_enter(p, PHASE_DA_STOPPED);
                } else {
                        /* another attempt may follow (§19 item 5: assumed accepted) */
                        if (p->dram != DRAM_UP)
                                p->dram = DRAM_FAILED;
                        xf_status(p, XFLASH_STATUS_EMI_SETTING_VERSION_ERR);
                }
                p->events++;
                return;
        case XFLASH_CMD_BOOT_TO:
                if (p->xf.step == XS_PARAM) {
                        /* u64 address, u64 length, no status (§9.1 row 3) */
                        if (len != XFLASH_BOOT_TO_PARAM_SIZE || rd64(d + 8) > XF_MAX_PAYLOAD) {
                                xf_protocol_error(p);
                                return;
                        }
                        p->xf.boot_addr = rd64(d);
                        p->xf.param = (uint32_t) rd64(d + 8);
                        p->xf.step = XS_PARAM2;
                        return;
                }
                p->xf.cmd = -1;
                if (len != p->xf.param) {
                        xf_protocol_error(p);
                        return;
                }
                boot_to(p, d, len);
                return;
        case XFLASH_CMD_SWITCH_USB_SPEED:
                p->xf.cmd = -1;
                xf_status(p, XFLASH_STATUS_OK);
                /* §9.4: a full-speed link re-enumerates as 0e8d:2001 at high speed */
                if (p->usb_brom && !p->speed_switched)
                        sim_phone_leave(p, SIM_LEAVE_RECONNECT, RESET_NONE, false);
                return;
        case XFLASH_CMD_SHUTDOWN: {
                bool reboot;

                p->xf.cmd = -1;
                if (len != XFLASH_SHUTDOWN_PARAM_SIZE && len != XF_SHUTDOWN_LEN_MTKCLIENT) {
                        xf_protocol_error(p);
                        return;
                }
                xf_status(p, XFLASH_STATUS_OK);
                /* §13: word 0 is penumbra's is_dev_reboot (default) or mtkclient's
                 * "has flags" (xf-shutdown=flags: it always reboots) */
                reboot = p->cfg.xf_shutdown_flags || rd32(d) != 0;
                p->xf.shutdown = reboot ? "reboot" : "power-off";
                if (reboot)
                        sim_phone_reset_chip(p, RESET_XF_SHUTDOWN);
                else
                        sim_phone_leave(p, SIM_LEAVE_POWER_OFF, RESET_NONE, false);
                return;
        }
        case XFLASH_CMD_READ_DATA:
                if (p->xf.step == XS_PARAM) {
                        uint32_t refuse;

                        if (len != XFLASH_RW_PARAM_SIZE) {
                                xf_protocol_error(p);
                                return;
                        }
                        refuse = rw_check(p, d);
                        if (refuse) {
                                p->xf.cmd = -1;
                                xf_status(p, refuse);
                                return;
                        }
                        /* §10.2 rows 4 and 5 (row 5: §19 item 4), then the first chunk */
                        xf_status(p, XFLASH_STATUS_OK);
                        if (!p->cfg.xf_read_one_status)
                                xf_status(p, XFLASH_STATUS_OK);
                        read_chunk(p);
                        return;
                }
                /* XS_CHUNK_ACK: the host's P(0) */
                if (len != 4) {
                        xf_protocol_error(p);
                        return;
                }
                if (!p->cfg.xf_status_before_ack)
                        xf_status(p, XFLASH_STATUS_OK);
                if (p->xf.off < p->xf.len)
                        read_chunk(p);
                else
                        rw_done(p, false);
                return;
        case XFLASH_CMD_WRITE_DATA:
                switch (p->xf.step) {
                case XS_PARAM: {
                        uint32_t refuse;

                        if (len != XFLASH_RW_PARAM_SIZE) {
                                xf_protocol_error(p);
                                return;
                        }
                        refuse = rw_check(p, d);
                        if (refuse) {
                                p->xf.cmd = -1;
                                xf_status(p, refuse);
                                return;
                        }
                        xf_status(p, XFLASH_STATUS_OK);
                        p->xf.step = XS_W_ZERO;
                        return;
                }
                case XS_W_ZERO:
                        if (len != 4) {
                                xf_protocol_error(p);
                                return;
                        }
                        p->xf.step = XS_W_SUM;
                        return;
                case XS_W_SUM:
                        if (len != 4) {
                                xf_protocol_error(p);
                                return;
                        }
                        p->xf.checksum = rd32(d);
                        p->xf.step = XS_W_DATA;
                        return;
                default: {
                        uint32_t sum = sum16_u32(d, len);

                        if (len == 0 || len > p->cfg.xf_write_packet || len > p->xf.len - p->xf.off) {
                                xf_protocol_error(p);
                                return;
                        }
                        sim_phone_count_da(p, len);
                        if (p->leave != SIM_LEAVE_NONE)
                                return;
                        if (p->fault == SIM_FAULT_BAD_CHECKSUM) {
                                /* bad-checksum:N: the data of N chunks arrives damaged */
                                if (p->fault_arg <= 1)
                                        p->fault = SIM_FAULT_NONE;
                                else
                                        p->fault_arg--;
                                sum ^= 0x1234;
                        }
                        if (sum != p->xf.checksum) {
                                /* [SIM] 0xC0040003; the write ends */
                                p->xf.cmd = -1;
                                xf_status(p, XFLASH_STATUS_CHECKSUM_ERR);
                                return;
                        }
                        if (p->fault == SIM_FAULT_CHUNK_STATUS) {
                                uint32_t v = (uint32_t) p->fault_arg;

                                p->fault = SIM_FAULT_NONE;
                                p->xf.cmd = -1;
                                xf_status(p, v);
                                return;
                        }
                        p->chunk = g_realloc(p->chunk, len);
                        memcpy(p->chunk, d, len);
                        if (p->fault == SIM_FAULT_CORRUPT_WRITE) {
                                p->fault = SIM_FAULT_NONE;
                                p->chunk[len / 2] ^= 0x01;
                        }
                        sim_storage_write(p->storage, p->region, p->xf.addr + p->xf.off, p->chunk, len);
                        p->xf.off += len;
                        xf_status(p, XFLASH_STATUS_OK);
                        if (p->xf.off < p->xf.len) {
                                p->xf.step = XS_W_ZERO;
                                return;
                        }
                        /* §11 row 9: the final status */
                        xf_status(p, XFLASH_STATUS_OK);
                        rw_done(p, true);
                        return;
                }
                }
                return;
        default:
                p->xf.cmd = -1;
                return;
        }
}

bool sim_xflash_step(SimPhone *p) {
        const uint8_t *d;
        uint32_t len;

        if (p->fault == SIM_FAULT_STALL || !xf_packet(p, &d, &len))
                return false;
        if (!p->xf.synced) {
                /* DA1 waits for the SYNC packet; anything else is dropped (assumed) */
                if (len == 4 && rd32(d) == XFLASH_CMD_SYNC_SIGNAL) {
                        p->xf.synced = true;
                        p->xf.last_cmd = XFLASH_CMD_SYNC_SIGNAL;
                        xf_note(p, XFLASH_CMD_SYNC_SIGNAL);
                }
                xf_drop(p, len);
                return true;
        }
        if (p->xf.cmd >= 0)
                cmd_packet(p, d, len);
        else if (len != 4)
                xf_protocol_error(p);
        else
                cmd_start(p, rd32(d));
        /* the packet may be gone already (an unplug fault cleared everything) */
        if (p->rx->len >= XFLASH_HEADER_SIZE + (size_t) len)
                xf_drop(p, len);
        return true;
}

void sim_xflash_stats(SimPhone *p, GString *s) {
        const SimXflash *x = &p->xf;

        g_string_append_printf(s,
                               " da_protocol=xflash storage_type=%s xf_stage=%s xf_last_cmd=0x%06x"
                               " xf_last_ctrl=0x%06x xf_last_status=0x%08x xf_checksum_level=%u xf_reset_key=0x%x"
                               " xf_emi_tries=%u xf_boot_refused=%u xf_protocol_errors=%u xf_shutdown=%s",
                               sim_storage_is_ufs(p->storage) ? "ufs" : "emmc",
                               x->da2 ? "da2" : x->hw_init ? "da1" : x->synced ? "da1-setup" : "none", x->last_cmd,
                               x->last_ctrl, x->last_status, x->checksum_level, x->reset_key, x->emi_tries,
                               x->boot_refused, x->protocol_errors, x->shutdown ? x->shutdown : "none");
}

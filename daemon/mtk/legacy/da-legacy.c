/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "da-legacy.h"
#include "exchange.h"
#include "log.h"

#define DA_TIMEOUT_MS 5000
/* A DA answers data packets promptly; eMMC reads of 1 MiB take well under this. */
#define DA_DATA_TIMEOUT_MS 10000
/* DA1's first byte comes after it has brought the chip up, and DA2's
 * report after it has probed the storage: seconds on a slow phone. */
#define DA_START_TIMEOUT_MS 10000
/* da.md §1: both reference hosts give DA2 500 ms before the final ACK of
 * its upload; a DA written for them may rely on it (a byte sent earlier may
 * be lost: the simulator's da2-settle).  Their 350 ms before DA1's DRAM
 * status is not copied: that is a read, which simply waits for the word. */
#define DA_DA2_SETTLE_MS 500
/* READ packet buffers: one filling, one being checked, one on the worker */
#define DA_READ_SLOTS 3
/* WRITE: packets queued, and unanswered (see da_write_chunk()) */
#define DA_WRITES_QUEUED 1
#define DA_WRITES_UNANSWERED 1
/* WRITE data transfers: the packet's data as one, as mtkclient sends it (four
 * 256 KiB transfers measured no faster in the simulator) */
#define DA_WRITE_PIECE DA_PACKET_SIZE
#define DA_WRITE_PIECES (DA_PACKET_SIZE / DA_WRITE_PIECE)

typedef enum DaStep {
        DA_IDLE,
        DA_SYNC,           /* C0, NAND ret, id count */
        DA_SYNC_REST,      /* ids, eMMC ret, CID, ACK, version */
        DA_CONFIG,         /* configuration, pause, DRAM status */
        DA_EMI_INFO,       /* BROM mode: u32, memory id, 0xBC4, NAND id count */
        DA_EMI_NAND,       /* the NAND ids */
        DA_EMI_VERSION,    /* ENABLE_DRAM and the EMI version: accepted? */
        DA_EMI_LENGTH,     /* the DA's record length */
        DA_EMI_SUM,        /* the records sent: their checksum */
        DA_EMI_RESULT,     /* DRAM status, RAM type, chip select, size */
        DA_DA2_HEAD,
        DA_DA2_DATA,
        DA_DA2_FINAL,
        DA_REPORT_HEAD,
        DA_REPORT_REST,
        DA_USB_SPEED,
        DA_READ_HEAD,      /* switch region, READ_CMD, packet size, ACK */
        DA_READ_NACK,      /* the DA refused: collect its status */
        DA_READ_DATA,      /* packets (data and checksum) in flight, each ACKed as it arrives */
        DA_WRITE_HEAD,
        DA_WRITE_DATA,     /* packets out back to back, their 69s read as they come */
        DA_PMT_HEAD,       /* READ_PMT's acknowledgement alone: "no PMT" is one byte */
        DA_PMT_LENGTH,
        DA_PMT_DATA,
        DA_REBOOT,
        DA_DONE,
} DaStep;

struct DaLegacy {
        UsbLink *link;
        BromIdentity id;
        DaStep step;
        Exchange x;
        DaLegacyReport report;
        char detail[320];
        bool need_emi;
        bool dram_failed;         /* the DA refused the EMI settings, or the RAM did not come up */

        /* BROM mode (§2.6, brom-emi.md §6) */
        DaLegacyEmiFunc emi_func;
        void *emi_userdata;
        const EmiBlock *emi;
        uint8_t emi_info[4 + DA_EMI_MEMORY_ID_LEN + 4 + 2];
        uint8_t emi_nand[2 * DA_NAND_IDS_MAX];
        uint8_t emi_ram[4 + 1 + 1 + 8];
        uint32_t emi_records_len;

        uint8_t b[16];            /* small answers */

        /* DA1 start-up (§2.4) */
        uint8_t sync[7];          /* C0, u32 NAND status, u16 NAND id count */
        uint8_t nand_ids[2 * DA_NAND_IDS_MAX];
        uint8_t emmc_ret[4], dram_status[4];
        uint8_t dram_extra[4 * DA_DRAM_EXTRA_WORDS_MT6592];
        DaLegacyConfig config;
        uint16_t n_nand;
        uint8_t *report_buf;
        size_t report_len;

        /* DA2 upload */
        const uint8_t *da2;
        size_t da2_len, da2_off;
        uint32_t da2_addr;

        /* READ / WRITE, pipelined (da_read_chunk(), da_write_chunk()) */
        uint8_t region;
        uint64_t addr, len;
        uint64_t off;             /* READ: bytes asked for; WRITE: bytes sent */
        uint64_t done_off;        /* READ: bytes received; WRITE: bytes the phone accepted */
        uint8_t *chunk[DA_READ_SLOTS];      /* READ: one filling while the others are checked or held */
        uint8_t *own_chunk[DA_READ_SLOTS];  /* ours, when the link cannot lend a buffer */
        size_t chunk_len[DA_READ_SLOTS];
        uint8_t sum[DA_READ_SLOTS][2];
        bool held[DA_READ_SLOTS];           /* the consumer has it (DA_LEGACY_DATA_HELD) */
        unsigned slot;                      /* READ: the one being filled, or waited for */
        bool read_waiting;                  /* the next packet waits for its slot to be given back */
        bool reading;             /* the data loop's read is out */
        unsigned writing;         /* the data loop's writes out (a READ's ACK, a WRITE's packets) */
        bool ack_owed;            /* READ: a chunk's ACK waits for the previous one's transfer */
        bool bad_sum;
        uint64_t bad_sum_at;
        DaLegacyDataFunc data_cb;
        const uint8_t *wbuf;

        uint8_t *pmt;
        size_t pmt_len;

        DaLegacyDone done;
        void *userdata;
};

int da_legacy_new(UsbLink *link, const BromIdentity *id, DaLegacy **ret) {
        DaLegacy *da = calloc(1, sizeof(*da));

        if (!da)
                return -ENOMEM;
        da->link = link;
        da->id = *id;
        *ret = da;
        return 0;
}

DaLegacy *da_legacy_free(DaLegacy *da) {
        if (!da)
                return NULL;
        da->done = NULL;
        /* what it had in flight must not call back into it once it is freed */
        if (da->link && ((da->step != DA_IDLE && da->step != DA_DONE) || da->reading || da->writing))
                usb_link_forget(da->link);
        free(da->report_buf);
        for (unsigned k = 0; k < DA_READ_SLOTS; k++)
                free(da->own_chunk[k]);
        free(da->pmt);
        free(da);
        return NULL;
}

const DaLegacyReport *da_legacy_get_report(DaLegacy *da) {
        return &da->report;
}

const char *da_legacy_get_detail(DaLegacy *da) {
        return da->detail;
}

bool da_legacy_needs_emi(DaLegacy *da) {
        return da->need_emi;
}

void da_legacy_set_emi_source(DaLegacy *da, DaLegacyEmiFunc f, void *userdata) {
        da->emi_func = f;
        da->emi_userdata = userdata;
}

bool da_legacy_dram_failed(DaLegacy *da) {
        return da->dram_failed;
}

const EmiBlock *da_legacy_get_emi(DaLegacy *da) {
        return da->emi;
}

bool da_legacy_emi_version_supported(unsigned version) {
        /* brom-emi.md §6.2 row 9: the branch of MT6595/6795 (v15), MT8163
         * (v16), MT6752 (v17), MT6735/6737/6753 (v20) and MT6580 (v21).
         * v00, v10-v13 cut or rewrite the records in ways only mtkclient
         * documents (marked as quirks there): not sent until verified. */
        return version == 15 || version == 16 || version == 17 || version == 20 || version == 21;
}

void da_legacy_cancel(DaLegacy *da) {
        if (da->step != DA_IDLE && da->step != DA_DONE)
                usb_link_cancel(da->link);
}

/* ------------------------------------------------------------ pure helpers */

uint16_t da_legacy_checksum16(const uint8_t *data, size_t len) {
        uint32_t sum = 0;

        for (size_t i = 0; i < len; i++)
                sum += data[i];
        return (uint16_t) sum;
}

bool da_legacy_report_extra_word(uint16_t da_code) {
        /* §2.8: a status word before the tail on MT8127/MT8163 */
        return da_code == 0x8127 || da_code == 0x8163;
}

/* §2.8: the NAND block is {u32, u8, u16, u64 size, u16 count} + ids, or
 * with a 32-bit size {u32, u8, u16, u32 size, u16 count} + ids; mtkclient
 * takes the second when the 64-bit layout's count reads 0. */
static bool da_report_nand32(const uint8_t *buf) {
        return unaligned_read_be16(buf + DA_REPORT_NAND_COUNT_OFF) == 0;
}

static size_t da_report_len_for(bool nand32, unsigned n, bool extra_word) {
        return DA_REPORT_NOR_LEN + (nand32 ? DA_REPORT_NAND32_HEAD_LEN : DA_REPORT_NAND_HEAD_LEN) + 2u * n +
               DA_REPORT_NAND_GEOMETRY_LEN + DA_REPORT_EMMC_LEN + DA_REPORT_SD_LEN + DA_REPORT_RAM_LEN +
               (extra_word ? DA_REPORT_MT8163_EXTRA : 0) + DA_REPORT_TAIL_LEN;
}

size_t da_legacy_report_len(const uint8_t *head, size_t head_len, bool extra_word) {
        bool nand32;
        unsigned n;

        if (head_len < DA_REPORT_HEAD_LEN)
                return 0;
        nand32 = da_report_nand32(head);
        n = unaligned_read_be16(head + (nand32 ? DA_REPORT_NAND32_COUNT_OFF : DA_REPORT_NAND_COUNT_OFF));
        if (n > DA_NAND_IDS_MAX)
                return 0;
        return da_report_len_for(nand32, n, extra_word);
}

int da_legacy_parse_report(const uint8_t *buf, size_t len, bool extra_word, DaLegacyReport *ret) {
        const uint8_t *emmc, *ram, *tail;
        size_t want = da_legacy_report_len(buf, len, extra_word);
        bool nand32;
        unsigned n;

        if (want == 0 || len != want)
                return -EBADMSG;
        nand32 = da_report_nand32(buf);
        n = unaligned_read_be16(buf + (nand32 ? DA_REPORT_NAND32_COUNT_OFF : DA_REPORT_NAND_COUNT_OFF));

        emmc = buf + DA_REPORT_NOR_LEN + (nand32 ? DA_REPORT_NAND32_HEAD_LEN : DA_REPORT_NAND_HEAD_LEN) + 2u * n +
               DA_REPORT_NAND_GEOMETRY_LEN;
        ram = emmc + DA_REPORT_EMMC_LEN + DA_REPORT_SD_LEN;
        tail = buf + len - DA_REPORT_TAIL_LEN;
        /* mtkclient fails a report whose last block does not start with 5A;
         * the final SOC_OK byte it does not check, nor do we (the caller logs it) */
        if (tail[0] != DA_ACK)
                return -EBADMSG;

        ret->nand_32bit = nand32;
        ret->n_nand_ids = (uint16_t) n;
        ret->emmc_status = unaligned_read_be32(emmc);
        ret->boot1_size = unaligned_read_be64(emmc + 0x04);
        ret->boot2_size = unaligned_read_be64(emmc + 0x0c);
        ret->rpmb_size = unaligned_read_be64(emmc + 0x14);
        ret->user_size = unaligned_read_be64(emmc + 0x3c);
        memcpy(ret->cid, emmc + 0x44, DA_EMMC_CID_LEN);
        ret->ram_size = unaligned_read_be64(ram + 0x0e);
        ret->soc_status = tail[DA_REPORT_TAIL_LEN - 1];
        if (ret->user_size > DA_EMMC_USER_SIZE_MAX)
                return -ERANGE;
        return 0;
}

void da_legacy_describe_bytes(const uint8_t *buf, size_t len, char *out, size_t size) {
        size_t n = 0, shown = MIN(len, (size_t) 16);

        if (size == 0)
                return;
        n = (size_t) snprintf(out, size, "%zu bytes:", len);
        for (size_t i = 0; i < shown && n < size; i++)
                n += (size_t) snprintf(out + n, size - n, " %02x", buf[i]);
        if (shown < len && n < size)
                snprintf(out + n, size - n, " …");
}

bool da_legacy_sync_says_emmc(const uint8_t *nand_ids, unsigned n_nand, const uint8_t cid[DA_EMMC_CID_LEN]) {
        /* §2.4 step 6, mtkclient's rule: NAND if the first NAND id is set,
         * else eMMC if the first CID word is; a DA without ids has no NAND */
        if (n_nand > 0 && unaligned_read_be16(nand_ids) != 0)
                return false;
        return unaligned_read_be32(cid) != 0;
}

static void da_config_add(DaLegacyConfig *c, const void *p, size_t len) {
        /* the largest block (MT8127's, 14 fields, 46 bytes) fits; refuse rather than overrun */
        if (c->n_fields >= DA_CONFIG_MAX_FIELDS || c->len + len > sizeof(c->data))
                return;
        memcpy(c->data + c->len, p, len);
        c->len += len;
        c->field_len[c->n_fields++] = (uint8_t) len;
}

static void da_config_add_u8(DaLegacyConfig *c, uint8_t v) {
        da_config_add(c, &v, 1);
}

static void da_config_add_be32(DaLegacyConfig *c, uint32_t v) {
        uint8_t b[4];

        unaligned_write_be32(b, v);
        da_config_add(c, b, sizeof(b));
}

void da_legacy_build_config(const BromIdentity *id, bool emmc, DaLegacyConfig *c) {
        static const uint8_t slc_tail[20] = { 0x46, 0x46, [16] = 0xff };
        static const uint8_t nor_cs[2] = { DA_CONFIG_NOR_CS0, DA_CONFIG_NOR_CS_DECODER };
        uint16_t da_code = id->chip ? id->chip->da_code : 0;
        bool bmt_on_emmc = emmc && (da_code == 0x6592 || da_code == 0x6571 || da_code == 0x8127);

        *c = (DaLegacyConfig) {};
        /* §2.5, one field per OUT transfer as mtkclient and the C host send
         * it (1, 1, 2, 1, 4, 1, 4, 1, 1, 1, 1): a DA may read it that way.
         * First the answers to GET_VERSION and GET_BL_VER. */
        da_config_add_u8(c, id->brom_version);
        da_config_add_u8(c, id->bl_version);
        da_config_add(c, nor_cs, sizeof(nor_cs));
        da_config_add_u8(c, 0x00);                               /* NAND chip select */
        da_config_add_be32(c, DA_CONFIG_NAND_ACCCON);
        da_config_add_u8(c, DA_CONFIG_BMT_PRESENT);
        da_config_add_be32(c, bmt_on_emmc ? DA_CONFIG_BMT_SIZE_EMMC : 0);
        da_config_add_u8(c, DA_CONFIG_FORCE_CHARGE_NO_BAT);
        da_config_add_u8(c, DA_CONFIG_RESET_KEY);
        da_config_add_u8(c, DA_CONFIG_EXT_CLOCK_26MHZ);
        da_config_add_u8(c, DA_CONFIG_MSDC_BOOT_CH);

        /* the chip's tail, again field by field */
        if (da_code == 0x6592)
                da_config_add_be32(c, 0);                        /* is_gpt_solution */
        else if (da_code == 0x8127) {
                da_config_add_be32(c, 0);                        /* is_gpt_solution */
                da_config_add_be32(c, DA_CONFIG_TAIL_SLC_PERCENT);
                da_config_add(c, slc_tail, sizeof(slc_tail));
        } else if (da_code == 0x6580 || da_code == 0x8163) {
                da_config_add_be32(c, DA_CONFIG_TAIL_SLC_PERCENT);
                da_config_add(c, slc_tail, sizeof(slc_tail));
        }
}

/* ------------------------------------------------------------ machinery */

static void da_finish(DaLegacy *da, int r) {
        DaLegacyDone done = da->done;

        da->step = DA_DONE;
        da->done = NULL;
        if (done)
                done(da, r, da->userdata);
}

static void da_fail(DaLegacy *da, int r, const char *fmt, ...) _printf_(3, 4);
static void da_fail(DaLegacy *da, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(da->detail, sizeof(da->detail), fmt, ap);
        va_end(ap);
        da_finish(da, r);
}

static void da_on_exchange(Exchange *x, int r, void *userdata);

static int da_run(DaLegacy *da, unsigned timeout_ms) {
        return exchange_run(&da->x, da->link, timeout_ms, da_on_exchange, da);
}

static int da_begin(DaLegacy *da, DaStep step, DaLegacyDone done, void *userdata) {
        /* a failed data loop's cancelled transfers may still be coming back */
        if ((da->step != DA_IDLE && da->step != DA_DONE) || da->reading || da->writing)
                return -EBUSY;
        if (usb_link_is_gone(da->link))
                return -ENODEV;
        da->step = step;
        da->detail[0] = 0;
        da->done = done;
        da->userdata = userdata;
        exchange_reset(&da->x);
        return 0;
}

static int da_start_or_idle(DaLegacy *da, int r) {
        if (r < 0) {
                da->step = DA_IDLE;
                da->done = NULL;
        }
        return r;
}

static uint16_t da_code(const DaLegacy *da) {
        return da->id.chip ? da->id.chip->da_code : 0;
}

/* ------------------------------------------------------------ start-up */

int da_legacy_start(DaLegacy *da, const uint8_t *da2, size_t da2_len, uint32_t da2_addr, DaLegacyDone done,
                    void *userdata) {
        int r;

        if (da2_len == 0 || da2_len > UINT32_MAX)
                return -EINVAL;
        r = da_begin(da, DA_SYNC, done, userdata);
        if (r < 0)
                return r;
        da->da2 = da2;
        da->da2_len = da2_len;
        da->da2_off = 0;
        da->da2_addr = da2_addr;
        da->report = (DaLegacyReport) {};
        da->need_emi = false;
        da->dram_failed = false;
        da->emi = NULL;

        exchange_read(&da->x, da->sync, 1, "DA1 sync byte");
        exchange_read(&da->x, da->sync + 1, 4, "DA1 NAND status");
        exchange_read(&da->x, da->sync + 5, 2, "DA1 NAND id count");
        return da_start_or_idle(da, da_run(da, DA_START_TIMEOUT_MS));
}

static int da_sync_rest(DaLegacy *da) {
        static const uint8_t ack = DA_ACK;

        exchange_reset(&da->x);
        if (da->n_nand > 0)
                exchange_read(&da->x, da->nand_ids, 2u * da->n_nand, "DA1 NAND ids");
        exchange_read(&da->x, da->emmc_ret, 4, "DA1 eMMC status");
        exchange_read(&da->x, da->report.cid, DA_EMMC_CID_LEN, "DA1 eMMC id");
        exchange_write_ref(&da->x, &ack, 1, "DA1 acknowledgement");
        exchange_read(&da->x, da->report.da_version, DA_VERSION_LEN, "DA version");
        return da_run(da, DA_TIMEOUT_MS);
}

/* §2.5: the configuration (it depends on the storage DA1 just reported),
 * then the DRAM status, which DA1 sends once it has applied it. */
static int da_send_config(DaLegacy *da) {
        size_t off = 0;

        da_legacy_build_config(&da->id, da_legacy_sync_says_emmc(da->nand_ids, da->n_nand, da->report.cid),
                               &da->config);
        exchange_reset(&da->x);
        for (unsigned i = 0; i < da->config.n_fields; i++) {
                exchange_write_ref(&da->x, da->config.data + off, da->config.field_len[i], "DA configuration");
                off += da->config.field_len[i];
        }
        exchange_read(&da->x, da->dram_status, 4, "DA DRAM status");
        return da_run(da, DA_TIMEOUT_MS);
}

static int da_da2_head(DaLegacy *da) {
        exchange_reset(&da->x);
        /* da.md §2.4: MT6592's DA1 sends five more words after DRAM status 0 */
        if (da_code(da) == 0x6592)
                exchange_read(&da->x, da->dram_extra, sizeof(da->dram_extra), "DA DRAM information");
        exchange_write_be32(&da->x, da->da2_addr, "DA2 address");
        exchange_write_be32(&da->x, (uint32_t) da->da2_len, "DA2 length");
        exchange_write_be32(&da->x, DA_DA2_PACKET_SIZE, "DA2 packet size");
        exchange_read(&da->x, da->b, 1, "DA2 upload acknowledgement");
        return da_run(da, DA_TIMEOUT_MS);
}

static int da_da2_next(DaLegacy *da) {
        size_t n = MIN(da->da2_len - da->da2_off, (size_t) DA_DA2_PACKET_SIZE);

        exchange_reset(&da->x);
        exchange_write_ref(&da->x, da->da2 + da->da2_off, n, "DA2 data");
        exchange_read(&da->x, da->b, 1, "DA2 packet acknowledgement");
        da->da2_off += n;
        return da_run(da, DA_TIMEOUT_MS);
}

static int da_report_rest(DaLegacy *da) {
        size_t total = da_legacy_report_len(da->report_buf, DA_REPORT_HEAD_LEN,
                                            da_legacy_report_extra_word(da_code(da)));
        uint8_t *b;

        if (total == 0)
                return -EBADMSG;
        b = realloc(da->report_buf, total);
        if (!b)
                return -ENOMEM;
        da->report_buf = b;
        da->report_len = total;
        exchange_reset(&da->x);
        exchange_read(&da->x, b + DA_REPORT_HEAD_LEN, total - DA_REPORT_HEAD_LEN, "DA2 storage report");
        return da_run(da, DA_TIMEOUT_MS);
}

/* brom-emi.md §6.1: what DA1 says after 0xBC3, each field its own read. */
static int da_emi_info(DaLegacy *da) {
        exchange_reset(&da->x);
        exchange_read(&da->x, da->emi_info, 4, "DA1 EMI information");
        exchange_read(&da->x, da->emi_info + 4, DA_EMI_MEMORY_ID_LEN, "DA1 memory id");
        exchange_read(&da->x, da->emi_info + 4 + DA_EMI_MEMORY_ID_LEN, 4, "DA1 EMI information end");
        exchange_read(&da->x, da->emi_info + 8 + DA_EMI_MEMORY_ID_LEN, 2, "DA1 NAND id count");
        return da_run(da, DA_TIMEOUT_MS);
}

/* §6.2 rows 6-8: ENABLE_DRAM and the version; the DA says whether it is its own. */
static int da_emi_enable(DaLegacy *da) {
        exchange_reset(&da->x);
        exchange_write_u8(&da->x, DA_CMD_ENABLE_DRAM, "ENABLE_DRAM");
        exchange_write_be32(&da->x, da->emi->version == 0 ? DA_EMI_VERSION_ZERO : da->emi->version, "EMI version");
        exchange_read(&da->x, da->b, 1, "EMI version acknowledgement");
        return da_run(da, DA_TIMEOUT_MS);
}

/* rows 9-11: our length, the records in one transfer, their checksum */
static int da_emi_records(DaLegacy *da) {
        exchange_reset(&da->x);
        exchange_write_u8(&da->x, DA_ACK, "EMI length acknowledgement");
        exchange_write_be32(&da->x, da->emi_records_len, "EMI length");
        exchange_write_ref(&da->x, da->emi->records, da->emi_records_len, "EMI records");
        exchange_read(&da->x, da->b, 2, "EMI checksum");
        return da_run(da, DA_TIMEOUT_MS);
}

/* rows 12-14: "send DRAM config"; DA1 brings the RAM up and reports */
static int da_emi_apply(DaLegacy *da) {
        exchange_reset(&da->x);
        exchange_write_u8(&da->x, DA_ACK, "EMI checksum acknowledgement");
        exchange_write_be32(&da->x, DA_EMI_SEND_CONFIG, "EMI apply");
        exchange_read(&da->x, da->emi_ram, 4, "DRAM status");
        exchange_read(&da->x, da->emi_ram + 4, 1, "RAM type");
        exchange_read(&da->x, da->emi_ram + 5, 1, "RAM chip select");
        exchange_read(&da->x, da->emi_ram + 6, 8, "RAM size");
        return da_run(da, DA_START_TIMEOUT_MS);
}

static void da_emi_describe_id(const uint8_t *id, char *buf) {
        for (unsigned i = 0; i < DA_EMI_MEMORY_ID_LEN; i++)
                sprintf(buf + 2 * i, "%02x", id[i]);
}

/* The memory id is known: choose the settings, or fail saying which are needed. */
static int da_emi_choose(DaLegacy *da) {
        const uint8_t *id = da->emi_info + 4;
        char hex[2 * DA_EMI_MEMORY_ID_LEN + 1];

        da->emi = da->emi_func ? da->emi_func(da, id, da->emi_userdata) : NULL;
        if (!da->emi) {
                da_emi_describe_id(id, hex);
                da->need_emi = true;
                da_fail(da, -EOPNOTSUPP, "the Download Agent needs the DRAM settings for memory id %s, and no "
                        "stored preloader has them", hex);
                return 0;
        }
        /* n records of the version's size: the block's own bounds */
        da->emi_records_len = (uint32_t) (da->emi->n_records * da->emi->record_size);
        log_info("BROM mode: DRAM settings for this phone's memory from %s (EMI v%02u, %" PRIu32 " bytes).",
                 da->emi->file_name[0] ? da->emi->file_name : "a stored preloader", da->emi->version,
                 da->emi_records_len);
        da->step = DA_EMI_VERSION;
        return da_emi_enable(da);
}

/* ------------------------------------------------------------ state machine */

static int da_read_chunk(DaLegacy *da);
static int da_write_chunk(DaLegacy *da);
static int da_write_fill(DaLegacy *da);
static int da_write_read_ack(DaLegacy *da);

static void da_on_exchange(Exchange *x, int r, void *userdata) {
        DaLegacy *da = userdata;
        uint32_t v;

        if (r < 0)
                return da_fail(da, r, "%s", x->error);

        switch (da->step) {
        case DA_SYNC:
                if (da->sync[0] != DA_SYNC_CHAR)
                        return da_fail(da, -EPROTO, "the Download Agent did not start: it sent 0x%02x instead of "
                                       "its sync byte 0x%02x%s", da->sync[0], DA_SYNC_CHAR,
                                       da->sync[0] == DA_SOC_FAIL ? " (the DA does not support this chip)" : "");
                da->report.nand_ret = unaligned_read_be32(da->sync + 1);
                da->n_nand = unaligned_read_be16(da->sync + 5);
                if (da->n_nand > DA_NAND_IDS_MAX)
                        return da_fail(da, -EPROTO, "the Download Agent reported %u NAND ids", da->n_nand);
                da->step = DA_SYNC_REST;
                r = da_sync_rest(da);
                break;

        case DA_SYNC_REST:
                da->report.emmc_ret = unaligned_read_be32(da->emmc_ret);
                da->step = DA_CONFIG;
                r = da_send_config(da);
                break;

        case DA_CONFIG:
                v = unaligned_read_be32(da->dram_status);
                if (v == DA_DRAM_STATUS_NEED_EMI && !da->emi_func) {
                        da->need_emi = true;
                        return da_fail(da, -EOPNOTSUPP, "the Download Agent needs the phone's DRAM (EMI) settings, "
                                       "which only its preloader has");
                }
                if (v == DA_DRAM_STATUS_NEED_EMI) {
                        da->step = DA_EMI_INFO;
                        r = da_emi_info(da);
                        break;
                }
                if (v != DA_DRAM_STATUS_OK)
                        return da_fail(da, -EPROTO, "the Download Agent could not set up the phone's RAM "
                                       "(status 0x%08x)", v);
                da->step = DA_DA2_HEAD;
                r = da_da2_head(da);
                break;

        case DA_EMI_INFO: {
                unsigned n = unaligned_read_be16(da->emi_info + 8 + DA_EMI_MEMORY_ID_LEN);

                v = unaligned_read_be32(da->emi_info + 4 + DA_EMI_MEMORY_ID_LEN);
                if (v != DA_EMI_ID_END)
                        return da_fail(da, -EPROTO, "the Download Agent's DRAM request ends with 0x%08x instead of "
                                       "0x%08x", v, DA_EMI_ID_END);
                if (n > DA_NAND_IDS_MAX)
                        return da_fail(da, -EPROTO, "the Download Agent's DRAM request lists %u NAND ids", n);
                if (n > 0) {
                        da->step = DA_EMI_NAND;
                        exchange_reset(&da->x);
                        exchange_read(&da->x, da->emi_nand, 2u * n, "DA1 NAND ids");
                        r = da_run(da, DA_TIMEOUT_MS);
                        break;
                }
                r = da_emi_choose(da);
                break;
        }

        case DA_EMI_NAND:
                r = da_emi_choose(da);
                break;

        case DA_EMI_VERSION:
                da->dram_failed = da->b[0] != DA_ACK;
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EIO, "the Download Agent refused EMI version %u of %s (0x%02x): that "
                                       "preloader is not for this chip", da->emi->version,
                                       da->emi->file_name[0] ? da->emi->file_name : "the stored preloader", da->b[0]);
                if (!da_legacy_emi_version_supported(da->emi->version))
                        return da_fail(da, -EOPNOTSUPP, "EMI version %u is not supported in BROM mode yet",
                                       da->emi->version);
                da->step = DA_EMI_LENGTH;
                exchange_reset(&da->x);
                exchange_read(&da->x, da->b + 4, 4, "DA record length");
                r = da_run(da, DA_TIMEOUT_MS);
                break;

        case DA_EMI_LENGTH:
                v = unaligned_read_be32(da->b + 4);
                /* brom-emi.md §6.2: the DA's "RAM length" is one record of its version */
                if (v != da->emi->record_size)
                        log_info("The Download Agent expects EMI records of %u bytes; the preloader's are %zu.",
                                 v, da->emi->record_size);
                da->step = DA_EMI_SUM;
                r = da_emi_records(da);
                break;

        case DA_EMI_SUM:
                /* §6.2 row 11: the algorithm is not documented; logged, not judged */
                log_debug("EMI records acknowledged with checksum 0x%04x (byte sum 0x%04x).",
                          unaligned_read_be16(da->b), da_legacy_checksum16(da->emi->records, da->emi_records_len));
                da->step = DA_EMI_RESULT;
                r = da_emi_apply(da);
                break;

        case DA_EMI_RESULT:
                v = unaligned_read_be32(da->emi_ram);
                da->dram_failed = v != DA_DRAM_STATUS_OK;
                if (v != DA_DRAM_STATUS_OK)
                        return da_fail(da, -EIO, "the phone's RAM did not come up with the DRAM settings of %s "
                                       "(status 0x%08x): they are not this phone's; add the preloader of its own "
                                       "firmware", da->emi->file_name[0] ? da->emi->file_name : "the stored preloader",
                                       v);
                log_info("BROM mode: DRAM up (type 0x%02x, %" PRIu64 " MiB).", da->emi_ram[4],
                         unaligned_read_be64(da->emi_ram + 6) >> 20);
                da->step = DA_DA2_HEAD;
                r = da_da2_head(da);
                break;

        case DA_DA2_HEAD:
        case DA_DA2_DATA:
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EPROTO, "the Download Agent refused DA2 at byte %zu (0x%02x)",
                                       da->da2_off, da->b[0]);
                if (da->da2_off < da->da2_len) {
                        da->step = DA_DA2_DATA;
                        r = da_da2_next(da);
                        break;
                }
                da->step = DA_DA2_FINAL;
                exchange_reset(&da->x);
                exchange_pause(&da->x, DA_DA2_SETTLE_MS, "DA2 end");
                exchange_write_u8(&da->x, DA_ACK, "DA2 end");
                exchange_read(&da->x, da->b, 1, "DA2 start acknowledgement");
                r = da_run(da, DA_START_TIMEOUT_MS);
                break;

        case DA_DA2_FINAL:
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EPROTO, "DA2 did not start (0x%02x); the DA file may be damaged or "
                                       "not meant for this phone", da->b[0]);
                da->report_buf = mfree(da->report_buf);
                da->report_buf = malloc(DA_REPORT_HEAD_LEN);
                if (!da->report_buf)
                        return da_fail(da, -ENOMEM, "out of memory");
                da->step = DA_REPORT_HEAD;
                exchange_reset(&da->x);
                exchange_read(&da->x, da->report_buf, DA_REPORT_HEAD_LEN, "DA2 storage report");
                r = da_run(da, DA_START_TIMEOUT_MS);
                break;

        case DA_REPORT_HEAD:
                da->step = DA_REPORT_REST;
                r = da_report_rest(da);
                if (r == -EBADMSG) {
                        char what[96];

                        da_legacy_describe_bytes(da->report_buf, DA_REPORT_HEAD_LEN, what, sizeof(what));
                        return da_fail(da, -EPROTO, "the Download Agent's storage report is malformed (it lists "
                                       "more than %u NAND ids; first %s)", DA_NAND_IDS_MAX, what);
                }
                break;

        case DA_REPORT_REST:
                r = da_legacy_parse_report(da->report_buf, da->report_len, da_legacy_report_extra_word(da_code(da)),
                                           &da->report);
                if (r == -ERANGE)
                        return da_fail(da, -EPROTO, "the Download Agent reports an eMMC user area of %" PRIu64
                                       " bytes, more than an eMMC can have (2 TiB): its storage report is garbled",
                                       da->report.user_size);
                if (r < 0) {
                        char what[96];

                        da_legacy_describe_bytes(da->report_buf, da->report_len, what, sizeof(what));
                        return da_fail(da, -EPROTO, "the Download Agent's storage report is malformed (%s)", what);
                }
                if (da->report.nand_32bit)
                        log_debug("The storage report uses the 32-bit NAND size layout (%u NAND ids).",
                                  da->report.n_nand_ids);
                if (da->report.soc_status != DA_SOC_OK)
                        log_info("The storage report ends with 0x%02x instead of SOC_OK (0x%02x); continuing.",
                                 da->report.soc_status, DA_SOC_OK);
                if (da->report.emmc_status != 0 || da->report.user_size == 0)
                        return da_fail(da, -ENODEV, "the Download Agent found no eMMC (status 0x%08x); only "
                                       "eMMC phones are supported", da->report.emmc_status);
                da->step = DA_USB_SPEED;
                exchange_reset(&da->x);
                exchange_write_u8(&da->x, DA_CMD_USB_CHECK_STATUS, "USB_CHECK_STATUS");
                exchange_read(&da->x, da->b, 2, "USB speed");
                r = da_run(da, DA_TIMEOUT_MS);
                break;

        case DA_USB_SPEED:
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EPROTO, "unexpected answer 0x%02x to USB_CHECK_STATUS", da->b[0]);
                da->report.usb_speed = da->b[1];
                /* §2.9: a full-speed link could be switched with USB_SETUP_PORT,
                 * but the phone then re-enumerates; the identity partitions are
                 * small enough to read at full speed, so we stay. */
                if (da->report.usb_speed == DA_USB_SPEED_FULL)
                        log_info("The Download Agent reports a full-speed USB link; staying at full speed.");
                return da_finish(da, 0);

        case DA_READ_HEAD:
                if (da->b[0] != DA_ACK || da->b[1] != DA_ACK)
                        return da_fail(da, -EPROTO, "the Download Agent refused eMMC region %u", da->region);
                if (da->b[2] != DA_ACK) {
                        /* §2.11: after a refusal the host says NACK and gets a status */
                        da->step = DA_READ_NACK;
                        exchange_reset(&da->x);
                        exchange_write_u8(&da->x, DA_NACK, "READ refusal");
                        exchange_read(&da->x, da->b + 4, 4, "READ error status");
                        r = da_run(da, DA_TIMEOUT_MS);
                        break;
                }
                da->off = da->done_off = 0;
                da->bad_sum = false;
                da->ack_owed = false;
                da->step = DA_READ_DATA;
                r = da_read_chunk(da);
                break;

        case DA_READ_NACK:
                return da_fail(da, -EIO, "the Download Agent refused to read 0x%" PRIx64 "+0x%" PRIx64
                               " (status 0x%08x)", da->addr, da->len, unaligned_read_be32(da->b + 4));

        case DA_WRITE_HEAD:
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EIO, "the Download Agent refused to write 0x%" PRIx64 "+0x%" PRIx64
                                       " (0x%02x)", da->addr, da->len, da->b[0]);
                da->off = da->done_off = 0;
                da->step = DA_WRITE_DATA;
                r = da_write_fill(da);
                if (r >= 0)
                        r = da_write_read_ack(da);
                break;

        case DA_PMT_HEAD:
                /* da.md §2.14: the length follows an ACK only; a DA without a PMT
                 * answers with a single other byte (the simulator: A5) */
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -ENOENT, "the Download Agent says the phone has no PMT (it answered "
                                       "0x%02x to READ_PMT)", da->b[0]);
                da->step = DA_PMT_LENGTH;
                exchange_reset(&da->x);
                exchange_read(&da->x, da->b + 1, 4, "PMT length");
                r = da_run(da, DA_TIMEOUT_MS);
                break;

        case DA_PMT_LENGTH:
                v = unaligned_read_be32(da->b + 1);
                if (v == 0 || v > 1024 * 1024)
                        return da_fail(da, -EPROTO, "implausible PMT length %u", v);
                free(da->pmt);
                da->pmt = malloc(v);
                if (!da->pmt)
                        return da_fail(da, -ENOMEM, "out of memory");
                da->pmt_len = v;
                da->step = DA_PMT_DATA;
                exchange_reset(&da->x);
                exchange_write_u8(&da->x, DA_ACK, "PMT acknowledgement");
                exchange_read(&da->x, da->pmt, v, "PMT");
                exchange_write_u8(&da->x, DA_ACK, "PMT end");
                r = da_run(da, DA_TIMEOUT_MS);
                break;

        case DA_PMT_DATA:
                return da_finish(da, 0);

        case DA_REBOOT:
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EIO, "the phone refused to reboot (0x%02x)", da->b[0]);
                return da_finish(da, 0);

        default:
                return da_fail(da, -EINVAL, "internal error: step %d", da->step);
        }

        if (r < 0)
                da_fail(da, r, "cannot continue: %s", strerror(-r));
}

/* ------------------------------------------------------------ READ */

int da_legacy_read(DaLegacy *da, uint8_t region, uint64_t addr, uint64_t len, DaLegacyDataFunc data,
                   DaLegacyDone done, void *userdata) {
        int r;

        if (len == 0 || addr + len < addr)
                return -EINVAL;
        r = da_begin(da, DA_READ_HEAD, done, userdata);
        if (r < 0)
                return r;
        /* the link's own buffers are filled without a copy */
        /* a new read takes every buffer back */
        da->read_waiting = false;
        for (unsigned k = 0; k < DA_READ_SLOTS; k++) {
                da->held[k] = false;
                da->chunk[k] = usb_link_get_buffer(da->link, k, DA_PACKET_SIZE);
                if (!da->chunk[k]) {
                        if (!da->own_chunk[k])
                                da->own_chunk[k] = malloc(DA_PACKET_SIZE);
                        da->chunk[k] = da->own_chunk[k];
                }
                if (!da->chunk[k])
                        return da_start_or_idle(da, -ENOMEM);
        }
        da->region = region;
        da->addr = addr;
        da->len = len;
        da->data_cb = data;

        exchange_write_u8(&da->x, DA_CMD_SDMMC_SWITCH_PART, "SWITCH_PART");
        exchange_read(&da->x, da->b, 1, "SWITCH_PART acknowledgement");
        exchange_write_u8(&da->x, region, "eMMC region");
        exchange_read(&da->x, da->b + 1, 1, "eMMC region acknowledgement");
        exchange_write_u8(&da->x, DA_CMD_READ, "READ");
        exchange_write_u8(&da->x, DA_HOST_OS_LINUX, "READ host OS");
        exchange_write_u8(&da->x, DA_HW_STORAGE_EMMC, "READ storage type");
        exchange_write_be64(&da->x, addr, "READ address");
        exchange_write_be64(&da->x, len, "READ length");
        /* §2.11: mtkclient sends the packet size before it reads the ACK, the
         * C host after it.  A DA that answers only once it has the size works
         * with the first order only, one that answers at once with both. */
        exchange_write_be32(&da->x, DA_PACKET_SIZE, "READ packet size");
        exchange_read(&da->x, da->b + 2, 1, "READ acknowledgement");
        return da_start_or_idle(da, da_run(da, DA_TIMEOUT_MS));
}


/* A failure in the data loop: transfers of it still out are cancelled and
 * come back to the callbacks below, which then only count them. */
static void da_data_fail(DaLegacy *da, int r, const char *what) {
        if (da->reading || da->writing)
                usb_link_cancel(da->link);
        if (da->step == DA_DONE)
                return;
        da_fail(da, r, "%s at 0x%" PRIx64 ": %s", what, da->addr + da->done_off,
                r == -ENODEV ? "the phone disconnected" :
                r == -ETIMEDOUT ? "the phone stopped answering" : strerror(-r));
}

static void da_read_on_ack(UsbLink *link, int r, void *userdata);
static void da_read_on_chunk(UsbLink *link, int r, void *userdata);

static int da_read_send_ack(DaLegacy *da) {
        static const uint8_t ack = DA_ACK;
        int r;

        if (da->writing) {
                /* the previous chunk's ACK is still going out */
                da->ack_owed = true;
                return 0;
        }
        r = usb_link_write(da->link, &ack, 1, DA_TIMEOUT_MS, da_read_on_ack, da);
        if (r >= 0)
                da->writing++;
        return r;
}

/* §2.11: each packet is its data, then a u16 checksum; the host ACKs it.
 * Both fields are read with one vector, so the checksum's transfer is
 * queued behind the data's before any of it arrives. */
static int da_read_chunk(DaLegacy *da) {
        unsigned k = da->slot;
        UsbIovec v[2];
        int r;

        da->chunk_len[k] = (size_t) MIN(da->len - da->off, (uint64_t) DA_PACKET_SIZE);
        v[0] = (UsbIovec) { da->chunk[k], da->chunk_len[k] };
        v[1] = (UsbIovec) { da->sum[k], 2 };
        r = usb_link_readv(da->link, v, 2, DA_DATA_TIMEOUT_MS, da_read_on_chunk, da);
        if (r < 0)
                return r;
        da->reading = true;
        da->off += da->chunk_len[k];
        return 0;
}

static void da_read_check(DaLegacy *da) {
        if (da->step != DA_READ_DATA || da->reading || da->writing || da->read_waiting || da->done_off < da->len)
                return;
        for (unsigned k = 0; k < DA_READ_SLOTS; k++)
                if (da->held[k])
                        return;
        if (da->bad_sum)
                return da_fail(da, -EBADMSG, "a data packet at 0x%" PRIx64 " arrived with a wrong checksum",
                               da->bad_sum_at);
        da_finish(da, 0);
}

static void da_read_on_ack(UsbLink *link, int r, void *userdata) {
        DaLegacy *da = userdata;

        da->writing--;
        if (da->step != DA_READ_DATA)
                return;
        if (r < 0)
                return da_data_fail(da, r, "acknowledging data");
        if (da->ack_owed) {
                da->ack_owed = false;
                r = da_read_send_ack(da);
                if (r < 0)
                        return da_data_fail(da, r, "acknowledging data");
        }
        da_read_check(da);
}

static void da_read_on_chunk(UsbLink *link, int r, void *userdata) {
        DaLegacy *da = userdata;
        unsigned k = da->slot;

        da->reading = false;
        if (da->step != DA_READ_DATA)
                return;
        if (r < 0)
                return da_data_fail(da, r, "reading");

        /* ACK this packet before looking at it, then queue the next
         * packet's transfers into the other buffer: checking, hashing and
         * storing it overlap the next packet on the line.  The ACK goes
         * first because the DA starts the next packet only once it has the
         * ACK, while a transfer queued a moment after the data is ready
         * costs nothing (the data waits in the phone's FIFO).  The ACK does
         * not depend on the checksum: a bad packet is ACKed too (as
         * mtkclient does), the stream stays in step and the read fails at
         * its end. */
        r = da_read_send_ack(da);
        if (r < 0)
                return da_data_fail(da, r, "acknowledging data");
        if (da->off < da->len) {
                da->slot = (k + 1) % DA_READ_SLOTS;
                if (da->held[da->slot])
                        da->read_waiting = true; /* the disk is slower than the line: the DA waits */
                else {
                        r = da_read_chunk(da);
                        if (r < 0)
                                return da_data_fail(da, r, "reading");
                }
        }

        if (unaligned_read_be16(da->sum[k]) != da_legacy_checksum16(da->chunk[k], da->chunk_len[k])) {
                if (!da->bad_sum)
                        da->bad_sum_at = da->addr + da->done_off;
                da->bad_sum = true;
        } else if (!da->bad_sum && da->data_cb) {
                r = da->data_cb(da, da->chunk[k], da->chunk_len[k], da->userdata);
                if (r == DA_LEGACY_DATA_HELD)
                        da->held[k] = true;
                else if (r < 0) {
                        /* the consumer (cancel, disk full) ends the read; the
                         * DA is left mid-transfer, so the session is over */
                        if (da->reading || da->writing)
                                usb_link_cancel(da->link);
                        return da_fail(da, r, "the read was stopped: %s", strerror(-r));
                }
        }
        da->done_off += da->chunk_len[k];
        da_read_check(da);
}

void da_legacy_release(DaLegacy *da, const uint8_t *data) {
        int r;

        for (unsigned k = 0; k < DA_READ_SLOTS; k++) {
                if (!da->held[k] || da->chunk[k] != data)
                        continue;
                da->held[k] = false;
                if (da->step != DA_READ_DATA)
                        return;
                if (da->read_waiting && da->slot == k) {
                        da->read_waiting = false;
                        r = da_read_chunk(da);
                        if (r < 0)
                                return da_data_fail(da, r, "reading");
                }
                return da_read_check(da);
        }
}

/* ------------------------------------------------------------ WRITE */

int da_legacy_write(DaLegacy *da, uint8_t region, uint64_t addr, const uint8_t *buf, uint64_t len,
                    DaLegacyDone done, void *userdata) {
        int r;

        if (len == 0 || len % DA_SECTOR_SIZE || addr % DA_SECTOR_SIZE || addr + len < addr)
                return -EINVAL;
        r = da_begin(da, DA_WRITE_HEAD, done, userdata);
        if (r < 0)
                return r;
        da->region = region;
        da->addr = addr;
        da->len = len;
        da->wbuf = buf;

        exchange_write_u8(&da->x, DA_CMD_SDMMC_WRITE_DATA, "WRITE_DATA");
        exchange_write_u8(&da->x, DA_DA_STORAGE_EMMC, "WRITE_DATA storage type");
        exchange_write_u8(&da->x, region, "WRITE_DATA region");
        exchange_write_be64(&da->x, addr, "WRITE_DATA address");
        exchange_write_be64(&da->x, len, "WRITE_DATA length");
        exchange_write_be32(&da->x, DA_PACKET_SIZE, "WRITE_DATA packet size");
        exchange_read(&da->x, da->b, 1, "WRITE_DATA acknowledgement");
        return da_start_or_idle(da, da_run(da, DA_TIMEOUT_MS));
}


static void da_write_on_data(UsbLink *link, int r, void *userdata);
static void da_write_on_ack(UsbLink *link, int r, void *userdata);

/* §2.12: per packet 5A, the data, its u16 checksum, then the DA answers 69.
 * The three OUT transfers go back to back with the 69's IN transfer
 * already queued.  The next packet waits for this one's 69:
 * the protocol has nothing after a refusal (A5) but the command loop, which
 * would read the packets queued behind as commands, and a real DA takes an
 * OUT packet only once it has stored the one before.  Measured in the
 * simulator, which buffers without limit: four packets ahead would write at
 * 0.91 of the line instead of about 0.8 (tests/bench/README.md, P3).
 * Returns 1 when it queued a packet. */
static int da_write_chunk(DaLegacy *da) {
        static const uint8_t marker = DA_ACK;
        uint8_t sum[2];
        size_t n, nv = 0;
        UsbIovec v[2 + DA_WRITE_PIECES];
        int r;

        if (da->writing >= DA_WRITES_QUEUED || da->off >= da->len ||
            da->off - da->done_off >= DA_WRITES_UNANSWERED * (uint64_t) DA_PACKET_SIZE)
                return 0;
        n = (size_t) MIN(da->len - da->off, (uint64_t) DA_PACKET_SIZE);
        unaligned_write_be16(sum, da_legacy_checksum16(da->wbuf + da->off, n));
        v[nv++] = (UsbIovec) { (void *) &marker, 1 };
        for (size_t o = 0; o < n; o += DA_WRITE_PIECE) {
                size_t k = MIN(n - o, (size_t) DA_WRITE_PIECE);

                v[nv++] = (UsbIovec) { (void *) (da->wbuf + da->off + o), k };
        }
        v[nv++] = (UsbIovec) { sum, 2 }; /* copied at once, like every small piece */
        r = usb_link_writev(da->link, v, nv, DA_DATA_TIMEOUT_MS, da_write_on_data, da);
        if (r < 0)
                return r;
        da->writing++;
        da->off += n;
        return 1;
}

static int da_write_fill(DaLegacy *da) {
        int r;

        while ((r = da_write_chunk(da)) > 0)
                ;
        return r;
}

/* The 69 of the oldest packet sent and not yet answered. */
static int da_write_read_ack(DaLegacy *da) {
        int r;

        if (da->reading || da->done_off >= da->off)
                return 0;
        r = usb_link_read(da->link, da->b, 1, DA_DATA_TIMEOUT_MS, da_write_on_ack, da);
        if (r >= 0)
                da->reading = true;
        return r;
}

/* After a packet went out or was answered: the end once every packet is
 * answered and none is still reporting back, else the next packet and its
 * answer's read. */
static void da_write_continue(DaLegacy *da) {
        int r;

        if (da->done_off >= da->len) {
                if (da->writing == 0)
                        da_finish(da, 0);
                return;
        }
        r = da_write_fill(da);
        if (r >= 0)
                r = da_write_read_ack(da);
        if (r < 0)
                da_data_fail(da, r, "writing");
}

static void da_write_on_data(UsbLink *link, int r, void *userdata) {
        DaLegacy *da = userdata;

        da->writing--;
        if (da->step != DA_WRITE_DATA)
                return;
        if (r < 0)
                return da_data_fail(da, r, "writing");
        da_write_continue(da);
}

static void da_write_on_ack(UsbLink *link, int r, void *userdata) {
        DaLegacy *da = userdata;

        da->reading = false;
        if (da->step != DA_WRITE_DATA)
                return;
        if (r < 0)
                return da_data_fail(da, r, "waiting for the phone to accept data");
        if (da->b[0] != DA_CONT_CHAR) {
                uint64_t at = da->addr + da->done_off;

                if (da->writing)
                        usb_link_cancel(da->link);
                return da_fail(da, -EIO, "the phone did not accept the data written at 0x%" PRIx64
                               " (answer 0x%02x)", at, da->b[0]);
        }
        da->done_off += MIN(da->len - da->done_off, (uint64_t) DA_PACKET_SIZE);
        da_write_continue(da);
}

/* ------------------------------------------------------------ PMT, reboot */

int da_legacy_read_pmt(DaLegacy *da, DaLegacyDone done, void *userdata) {
        int r = da_begin(da, DA_PMT_HEAD, done, userdata);

        if (r < 0)
                return r;
        exchange_write_u8(&da->x, DA_CMD_SDMMC_READ_PMT, "READ_PMT");
        exchange_read(&da->x, da->b, 1, "READ_PMT acknowledgement");
        return da_start_or_idle(da, da_run(da, DA_TIMEOUT_MS));
}

int da_legacy_take_pmt(DaLegacy *da, uint8_t **ret, size_t *ret_len) {
        if (!da->pmt)
                return -ENOENT;
        *ret = TAKE_PTR(da->pmt);
        *ret_len = da->pmt_len;
        da->pmt_len = 0;
        return 0;
}

int da_legacy_reboot(DaLegacy *da, DaLegacyDone done, void *userdata) {
        int r = da_begin(da, DA_REBOOT, done, userdata);

        if (r < 0)
                return r;
        exchange_write_u8(&da->x, DA_CMD_ENABLE_WATCHDOG, "ENABLE_WATCHDOG");
        exchange_write_be32(&da->x, 0, "watchdog timeout");
        exchange_write_u8(&da->x, 0, "watchdog async");
        exchange_write_u8(&da->x, DA_WDT_BOOTUP_NORMAL, "watchdog boot mode");
        exchange_write_u8(&da->x, 0, "watchdog download bit");
        exchange_write_u8(&da->x, 1, "watchdog keep RTC");
        exchange_read(&da->x, da->b, 1, "ENABLE_WATCHDOG acknowledgement");
        return da_start_or_idle(da, da_run(da, DA_TIMEOUT_MS));
}

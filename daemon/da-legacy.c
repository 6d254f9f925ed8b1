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

typedef enum DaStep {
        DA_IDLE,
        DA_SYNC,           /* C0, NAND ret, id count */
        DA_SYNC_REST,      /* ids, eMMC ret, CID, ACK, version, config, DRAM status */
        DA_DA2_HEAD,
        DA_DA2_DATA,
        DA_DA2_FINAL,
        DA_REPORT_HEAD,
        DA_REPORT_REST,
        DA_USB_SPEED,
        DA_READ_HEAD,      /* switch region, READ_CMD, ACK */
        DA_READ_NACK,      /* the DA refused: collect its status */
        DA_READ_SIZE,
        DA_READ_DATA,
        DA_READ_SUM,
        DA_READ_ACK,
        DA_WRITE_HEAD,
        DA_WRITE_CONT,
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

        uint8_t b[64];            /* small answers */
        uint8_t config[DA_CONFIG_LEN + DA_CONFIG_TAIL_LEN_SLC];
        size_t config_len;
        uint16_t n_nand;
        uint8_t *report_buf;
        size_t report_len;

        /* DA2 upload */
        const uint8_t *da2;
        size_t da2_len, da2_off;

        /* READ / WRITE */
        uint8_t region;
        uint64_t addr, len, off;
        uint8_t *chunk;
        size_t chunk_len;
        bool bad_sum;
        uint64_t bad_sum_at;
        DaLegacyDataFunc data_cb;
        const uint8_t *wbuf;
        uint8_t sum[2];

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
        da_legacy_cancel(da);
        free(da->report_buf);
        free(da->chunk);
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

size_t da_legacy_report_len(unsigned n_nand_ids, bool mt8163_extra) {
        return DA_REPORT_NOR_LEN + DA_REPORT_NAND_HEAD_LEN + 2u * n_nand_ids + DA_REPORT_NAND_GEOMETRY_LEN +
               DA_REPORT_EMMC_LEN + DA_REPORT_SD_LEN + DA_REPORT_RAM_LEN +
               (mt8163_extra ? DA_REPORT_MT8163_EXTRA : 0) + DA_REPORT_TAIL_LEN;
}

int da_legacy_parse_report(const uint8_t *buf, size_t len, bool mt8163_extra, DaLegacyReport *ret) {
        const uint8_t *emmc, *ram, *tail;
        unsigned n;

        if (len < DA_REPORT_NOR_LEN + DA_REPORT_NAND_HEAD_LEN)
                return -EBADMSG;
        n = unaligned_read_be16(buf + DA_REPORT_NAND_COUNT_OFF);
        if (n > DA_NAND_IDS_MAX || len != da_legacy_report_len(n, mt8163_extra))
                return -EBADMSG;

        emmc = buf + DA_REPORT_NOR_LEN + DA_REPORT_NAND_HEAD_LEN + 2u * n + DA_REPORT_NAND_GEOMETRY_LEN;
        ret->emmc_status = unaligned_read_be32(emmc);
        ret->boot1_size = unaligned_read_be64(emmc + 0x04);
        ret->boot2_size = unaligned_read_be64(emmc + 0x0c);
        ret->rpmb_size = unaligned_read_be64(emmc + 0x14);
        ret->user_size = unaligned_read_be64(emmc + 0x3c);
        memcpy(ret->cid, emmc + 0x44, DA_EMMC_CID_LEN);

        ram = emmc + DA_REPORT_EMMC_LEN + DA_REPORT_SD_LEN;
        ret->ram_size = unaligned_read_be64(ram + 0x0e);

        tail = buf + len - DA_REPORT_TAIL_LEN;
        if (tail[0] != DA_ACK || tail[DA_REPORT_TAIL_LEN - 1] != DA_SOC_OK)
                return -EBADMSG;
        if (ret->user_size > DA_EMMC_USER_SIZE_MAX)
                return -ERANGE;
        return 0;
}

size_t da_legacy_build_config(const BromIdentity *id, uint8_t *buf, size_t size) {
        uint16_t da_code = id->chip ? id->chip->da_code : 0;
        size_t n = DA_CONFIG_LEN;

        if (size < DA_CONFIG_LEN + DA_CONFIG_TAIL_LEN_SLC)
                return 0;
        /* §2.5: the answers to GET_VERSION and GET_BL_VER come first */
        buf[0] = id->brom_version;
        buf[1] = id->bl_version;
        buf[2] = DA_CONFIG_NOR_CS0;
        buf[3] = DA_CONFIG_NOR_CS_DECODER;
        buf[4] = 0x00;                                   /* NAND chip select */
        unaligned_write_be32(buf + 5, DA_CONFIG_NAND_ACCCON);
        buf[9] = DA_CONFIG_BMT_PRESENT;
        unaligned_write_be32(buf + 10, 0);               /* BMT partition size */
        buf[14] = DA_CONFIG_FORCE_CHARGE_NO_BAT;
        buf[15] = DA_CONFIG_RESET_KEY;
        buf[16] = DA_CONFIG_EXT_CLOCK_26MHZ;
        buf[17] = DA_CONFIG_MSDC_BOOT_CH;

        if (da_code == 0x6580 || da_code == 0x8163) {
                static const uint8_t slc_tail[20] = { 0x46, 0x46, [16] = 0xff };

                unaligned_write_be32(buf + n, DA_CONFIG_TAIL_SLC_PERCENT);
                memcpy(buf + n + 4, slc_tail, sizeof(slc_tail));
                n += DA_CONFIG_TAIL_LEN_SLC;
        } else if (da_code == 0x6592) {
                unaligned_write_be32(buf + n, 0);
                n += DA_CONFIG_TAIL_LEN_GPT_FLAG;
        }
        return n;
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
static void da_on_io(UsbLink *link, int r, void *userdata);

static int da_run(DaLegacy *da, unsigned timeout_ms) {
        return exchange_run(&da->x, da->link, timeout_ms, da_on_exchange, da);
}

static int da_begin(DaLegacy *da, DaStep step, DaLegacyDone done, void *userdata) {
        if (da->step != DA_IDLE && da->step != DA_DONE)
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

static void da_next_io(DaLegacy *da, int r, const char *what) {
        if (r < 0)
                da_fail(da, r, "%s: %s", what, r == -ENODEV ? "the phone disconnected" : strerror(-r));
}

static bool da_is_mt8163(const DaLegacy *da) {
        return da->id.chip && da->id.chip->da_code == 0x8163;
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
        da->report = (DaLegacyReport) {};
        da->need_emi = false;
        /* remember the address until DA2's turn */
        unaligned_write_be32(da->b + 48, da2_addr);

        exchange_read(&da->x, da->b, 1, "DA1 sync byte");
        exchange_read(&da->x, da->b + 1, 4, "DA1 NAND status");
        exchange_read(&da->x, da->b + 5, 2, "DA1 NAND id count");
        return da_start_or_idle(da, da_run(da, DA_TIMEOUT_MS));
}

static int da_sync_rest(DaLegacy *da) {
        static const uint8_t ack = DA_ACK;

        exchange_reset(&da->x);
        if (da->n_nand > 0)
                exchange_read(&da->x, da->b + 8, 2u * da->n_nand, "DA1 NAND ids");
        exchange_read(&da->x, da->b + 40, 4, "DA1 eMMC status");
        exchange_read(&da->x, da->report.cid, DA_EMMC_CID_LEN, "DA1 eMMC id");
        exchange_write_ref(&da->x, &ack, 1, "DA1 acknowledgement");
        exchange_read(&da->x, da->report.da_version, DA_VERSION_LEN, "DA version");
        da->config_len = da_legacy_build_config(&da->id, da->config, sizeof(da->config));
        exchange_write_ref(&da->x, da->config, da->config_len, "DA configuration");
        exchange_read(&da->x, da->b + 44, 4, "DA DRAM status");
        return da_run(da, DA_TIMEOUT_MS);
}

static int da_da2_head(DaLegacy *da) {
        exchange_reset(&da->x);
        exchange_write_be32(&da->x, unaligned_read_be32(da->b + 48), "DA2 address");
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
        size_t total = da_legacy_report_len(da->n_nand, da_is_mt8163(da));
        uint8_t *b;

        b = realloc(da->report_buf, total);
        if (!b)
                return -ENOMEM;
        da->report_buf = b;
        da->report_len = total;
        exchange_reset(&da->x);
        exchange_read(&da->x, b + DA_REPORT_NOR_LEN + DA_REPORT_NAND_HEAD_LEN,
                      total - DA_REPORT_NOR_LEN - DA_REPORT_NAND_HEAD_LEN, "DA2 storage report");
        return da_run(da, DA_TIMEOUT_MS);
}

/* ------------------------------------------------------------ state machine */

static int da_read_next_chunk(DaLegacy *da);
static int da_write_next_chunk(DaLegacy *da);

static void da_on_exchange(Exchange *x, int r, void *userdata) {
        DaLegacy *da = userdata;
        uint32_t v;

        if (r < 0)
                return da_fail(da, r, "%s", x->error);

        switch (da->step) {
        case DA_SYNC:
                if (da->b[0] != DA_SYNC_CHAR)
                        return da_fail(da, -EPROTO, "the Download Agent did not start: it sent 0x%02x instead of "
                                       "its sync byte 0x%02x%s", da->b[0], DA_SYNC_CHAR,
                                       da->b[0] == DA_SOC_FAIL ? " (the DA does not support this chip)" : "");
                da->report.nand_ret = unaligned_read_be32(da->b + 1);
                da->n_nand = unaligned_read_be16(da->b + 5);
                if (da->n_nand > DA_NAND_IDS_MAX)
                        return da_fail(da, -EPROTO, "the Download Agent reported %u NAND ids", da->n_nand);
                da->step = DA_SYNC_REST;
                r = da_sync_rest(da);
                break;

        case DA_SYNC_REST:
                da->report.emmc_ret = unaligned_read_be32(da->b + 40);
                v = unaligned_read_be32(da->b + 44);
                if (v == DA_DRAM_STATUS_NEED_EMI) {
                        da->need_emi = true;
                        return da_fail(da, -EOPNOTSUPP, "the Download Agent needs the phone's DRAM (EMI) settings, "
                                       "which only its preloader has");
                }
                if (v != DA_DRAM_STATUS_OK)
                        return da_fail(da, -EPROTO, "the Download Agent could not set up the phone's RAM "
                                       "(status 0x%08x)", v);
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
                exchange_write_u8(&da->x, DA_ACK, "DA2 end");
                exchange_read(&da->x, da->b, 1, "DA2 start acknowledgement");
                r = da_run(da, DA_TIMEOUT_MS);
                break;

        case DA_DA2_FINAL:
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EPROTO, "DA2 did not start (0x%02x); the DA file may be damaged or "
                                       "not meant for this phone", da->b[0]);
                da->report_buf = mfree(da->report_buf);
                da->report_buf = malloc(DA_REPORT_NOR_LEN + DA_REPORT_NAND_HEAD_LEN);
                if (!da->report_buf)
                        return da_fail(da, -ENOMEM, "out of memory");
                da->step = DA_REPORT_HEAD;
                exchange_reset(&da->x);
                exchange_read(&da->x, da->report_buf, DA_REPORT_NOR_LEN + DA_REPORT_NAND_HEAD_LEN,
                              "DA2 storage report");
                r = da_run(da, DA_TIMEOUT_MS);
                break;

        case DA_REPORT_HEAD:
                da->n_nand = unaligned_read_be16(da->report_buf + DA_REPORT_NAND_COUNT_OFF);
                if (da->n_nand > DA_NAND_IDS_MAX)
                        return da_fail(da, -EPROTO, "the storage report lists %u NAND ids", da->n_nand);
                da->step = DA_REPORT_REST;
                r = da_report_rest(da);
                break;

        case DA_REPORT_REST:
                r = da_legacy_parse_report(da->report_buf, da->report_len, da_is_mt8163(da), &da->report);
                if (r == -ERANGE)
                        return da_fail(da, -EPROTO, "the Download Agent reports an eMMC user area of %" PRIu64
                                       " bytes, more than an eMMC can have (2 TiB): its storage report is garbled",
                                       da->report.user_size);
                if (r < 0)
                        return da_fail(da, -EPROTO, "the Download Agent's storage report is malformed");
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
                da->step = DA_READ_SIZE;
                exchange_reset(&da->x);
                exchange_write_be32(&da->x, DA_PACKET_SIZE, "READ packet size");
                r = da_run(da, DA_TIMEOUT_MS);
                break;

        case DA_READ_NACK:
                return da_fail(da, -EIO, "the Download Agent refused to read 0x%" PRIx64 "+0x%" PRIx64
                               " (status 0x%08x)", da->addr, da->len, unaligned_read_be32(da->b + 4));

        case DA_READ_SIZE:
                da->off = 0;
                da->bad_sum = false;
                r = da_read_next_chunk(da);
                break;

        case DA_WRITE_HEAD:
                if (da->b[0] != DA_ACK)
                        return da_fail(da, -EIO, "the Download Agent refused to write 0x%" PRIx64 "+0x%" PRIx64
                                       " (0x%02x)", da->addr, da->len, da->b[0]);
                da->off = 0;
                r = da_write_next_chunk(da);
                break;

        case DA_WRITE_CONT:
                if (da->b[0] != DA_CONT_CHAR)
                        return da_fail(da, -EIO, "the phone did not accept the data written at 0x%" PRIx64
                                       " (answer 0x%02x)", da->addr + da->off - da->chunk_len, da->b[0]);
                if (da->off >= da->len)
                        return da_finish(da, 0);
                r = da_write_next_chunk(da);
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
        if (!da->chunk) {
                da->chunk = malloc(DA_PACKET_SIZE);
                if (!da->chunk)
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
        exchange_read(&da->x, da->b + 2, 1, "READ acknowledgement");
        return da_start_or_idle(da, da_run(da, DA_TIMEOUT_MS));
}

static int da_read_next_chunk(DaLegacy *da) {
        da->chunk_len = (size_t) MIN(da->len - da->off, (uint64_t) DA_PACKET_SIZE);
        da->step = DA_READ_DATA;
        return usb_link_read(da->link, da->chunk, da->chunk_len, DA_DATA_TIMEOUT_MS, da_on_io, da);
}

static void da_on_io(UsbLink *link, int r, void *userdata) {
        DaLegacy *da = userdata;
        static const uint8_t ack = DA_ACK;

        if (r < 0)
                return da_fail(da, r, "%s at 0x%" PRIx64 ": %s",
                               da->step == DA_READ_DATA || da->step == DA_READ_SUM ? "reading" : "writing",
                               da->addr + da->off,
                               r == -ENODEV ? "the phone disconnected" :
                               r == -ETIMEDOUT ? "the phone stopped answering" : strerror(-r));

        switch (da->step) {
        case DA_READ_DATA:
                da->step = DA_READ_SUM;
                r = usb_link_read(da->link, da->sum, 2, DA_TIMEOUT_MS, da_on_io, da);
                return da_next_io(da, r, "reading a checksum");

        case DA_READ_SUM:
                if (unaligned_read_be16(da->sum) != da_legacy_checksum16(da->chunk, da->chunk_len)) {
                        if (!da->bad_sum)
                                da->bad_sum_at = da->addr + da->off;
                        da->bad_sum = true;
                } else if (!da->bad_sum && da->data_cb) {
                        r = da->data_cb(da, da->chunk, da->chunk_len, da->userdata);
                        if (r < 0) {
                                /* the consumer (cancel, disk full) ends the read; the
                                 * DA is left mid-transfer, so the session is over */
                                return da_fail(da, r, "the read was stopped: %s", strerror(-r));
                        }
                }
                da->off += da->chunk_len;
                da->step = DA_READ_ACK;
                r = usb_link_write(da->link, &ack, 1, DA_TIMEOUT_MS, da_on_io, da);
                return da_next_io(da, r, "acknowledging data");

        case DA_READ_ACK:
                if (da->off < da->len) {
                        r = da_read_next_chunk(da);
                        return da_next_io(da, r, "reading data");
                }
                if (da->bad_sum)
                        return da_fail(da, -EBADMSG, "a data packet at 0x%" PRIx64 " arrived with a wrong checksum",
                                       da->bad_sum_at);
                return da_finish(da, 0);

        default:
                return da_fail(da, -EINVAL, "internal error: I/O in step %d", da->step);
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

static int da_write_next_chunk(DaLegacy *da) {
        static const uint8_t ack = DA_ACK;

        da->chunk_len = (size_t) MIN(da->len - da->off, (uint64_t) DA_PACKET_SIZE);
        unaligned_write_be16(da->sum, da_legacy_checksum16(da->wbuf + da->off, da->chunk_len));
        exchange_reset(&da->x);
        exchange_write_ref(&da->x, &ack, 1, "write packet marker");
        exchange_write_ref(&da->x, da->wbuf + da->off, da->chunk_len, "write data");
        exchange_write_ref(&da->x, da->sum, 2, "write checksum");
        exchange_read(&da->x, da->b, 1, "write acknowledgement");
        da->off += da->chunk_len;
        da->step = DA_WRITE_CONT;
        return da_run(da, DA_DATA_TIMEOUT_MS);
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

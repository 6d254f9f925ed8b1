/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "macro.h"
#include "xflash.h"

#define XF_TIMEOUT_MS 5000
/* DA1's first byte comes after it brought the chip up; DA2's SYNC after it
 * started; INIT_EXT_RAM after the DRAM is up (seconds on a slow phone). */
#define XF_START_TIMEOUT_MS 10000
/* a 1 MiB chunk of a slow eMMC */
#define XF_DATA_TIMEOUT_MS 10000
/* READ chunk buffers: one filling, one being handed over, one on the worker */
#define XF_READ_SLOTS 3
/* §8.3: the packet lengths are the DA's; beyond this they are implausible
 * (and a read slot of that size is allocated). */
#define XF_PACKET_LEN_MAX (16u * 1024 * 1024)
#define XF_PACKET_LEN_DEFAULT 0x100000u
#define XF_SECTOR 512u
#define XF_SCRIPT_MAX 16
/* the largest getter answer read into the small buffer (UFS info, 0xc8 or a little more) */
#define XF_ANSWER_MAX 512

typedef enum XfStep {
        XF_IDLE,
        XF_SYNC_BYTE,       /* DA1's raw C0 */
        XF_SETUP,           /* SYNC, SETUP_ENVIRONMENT, SETUP_HW_INIT_PARAMS, DA1's SYNC packet */
        XF_AGENT,           /* GET_CONNECTION_AGENT */
        XF_BROM_EMMC,       /* BROM mode: DA1's GET_EMMC_INFO */
        XF_BROM_UFS,        /* BROM mode, no eMMC: DA1's GET_UFS_INFO */
        XF_EMI,             /* BROM mode: INIT_EXT_RAM */
        XF_CHECKSUM_LEVEL,  /* SET_CHECKSUM_LEVEL 0 */
        XF_PACKET_LENGTH,   /* DA1's GET_PACKET_LENGTH */
        XF_BOOT_TO,         /* DA2 */
        XF_SLA,             /* SLA_ENABLED_STATUS */
        XF_EMMC_INFO,
        XF_UFS_INFO,
        XF_CHIP_ID,
        XF_USB_SPEED,
        XF_SPEED_SWITCH,    /* SWITCH_USB_SPEED (§9.4) on a full-speed link */
        XF_READ_LENGTH,     /* GET_PACKET_LENGTH before READ_DATA */
        XF_READ_HEAD,       /* READ_DATA, its block, the two statuses */
        XF_READ_DATA,       /* chunk, host ack, status, repeated */
        XF_WRITE_LENGTH,    /* GET_PACKET_LENGTH before WRITE_DATA (§11 row 0) */
        XF_WRITE_HEAD,
        XF_WRITE_DATA,      /* 0, checksum, chunk, status, repeated; the final status */
        XF_REBOOT,
        XF_DONE,
} XfStep;

typedef enum XsKind {
        XS_SEND,            /* a packet: header and payload, each its own OUT transfer */
        XS_STATUS,          /* a status packet */
        XS_DATA,            /* a flow packet of at most max bytes */
        XS_RAW,             /* len raw bytes, no header (DA1's first byte) */
} XsKind;

typedef struct XsStep {
        XsKind kind;
        uint8_t header[XFLASH_HEADER_SIZE];
        uint8_t small[8];
        const uint8_t *data;
        size_t len;
        uint8_t *dest;
        size_t max;
        size_t *ret_len;
        /* XS_STATUS: NULL = it must be 0; else stored, and with stop the
         * script ends there (successfully) when it is not 0 */
        uint32_t *ret_status;
        bool stop;
        const char *what;
} XsStep;

struct XFlash {
        UsbLink *link;
        XfStep step;
        char detail[320];
        uint32_t status;          /* of the last failure */
        bool need_emi, dram_failed;
        XFlashReport report;

        /* the script of the current step */
        XsStep script[XF_SCRIPT_MAX];
        unsigned n_script, cur;
        bool stopped;             /* a status with stop was not 0 */
        bool overflow;
        unsigned send_count;      /* SEND steps in the vector out */
        unsigned timeout_ms;
        XFlashRx rx;
        void (*rx_done)(XFlash *xf, int r);
        const char *rx_why;       /* what was wrong with the stream, when it was */
        bool reading;             /* an IN read is out */
        unsigned writing;         /* OUT vectors out */

        /* answers */
        uint8_t raw[4];
        uint8_t answer[XF_ANSWER_MAX];
        size_t answer_len;
        uint32_t st[3];
        uint8_t env[XFLASH_ENV_SIZE];
        uint8_t param[XFLASH_RW_PARAM_SIZE];
        uint8_t shutdown[XFLASH_SHUTDOWN_PARAM_SIZE];
        uint32_t ctrl_code;

        /* BROM mode */
        XFlashEmiFunc emi_func;
        void *emi_userdata;
        const EmiBlock *emi;
        uint8_t memory_id[16];
        size_t memory_id_len;

        /* DA2 */
        const uint8_t *da2;
        size_t da2_len;
        uint64_t da2_addr;

        /* READ / WRITE */
        uint32_t storage, region;
        uint64_t addr, len;
        uint64_t off;             /* READ: bytes received; WRITE: bytes sent */
        uint32_t packet_len;
        uint8_t *chunk[XF_READ_SLOTS];
        uint8_t *own_chunk[XF_READ_SLOTS];
        size_t own_size[XF_READ_SLOTS];
        size_t chunk_len[XF_READ_SLOTS];
        bool held[XF_READ_SLOTS];
        unsigned slot;
        bool read_waiting;        /* the next chunk waits for its slot to be given back */
        bool status_pending;      /* READ: a chunk's status is still to come */
        bool started;             /* READ: the second status, or the first chunk, is in */
        bool final_status;        /* WRITE: the status after the last chunk is in */
        uint8_t ack_hdr[XFLASH_HEADER_SIZE], ack[4];
        uint8_t sum_hdr[XFLASH_HEADER_SIZE], sum[4];
        uint8_t data_hdr[XFLASH_HEADER_SIZE];
        uint8_t st_buf[4];
        size_t st_len;
        XFlashDataFunc data_cb;
        const uint8_t *wbuf;

        XFlashDone done;
        void *userdata;
};

int xflash_new(UsbLink *link, XFlash **ret) {
        XFlash *xf = calloc(1, sizeof(*xf));

        if (!xf)
                return -ENOMEM;
        xf->link = link;
        *ret = xf;
        return 0;
}

XFlash *xflash_free(XFlash *xf) {
        if (!xf)
                return NULL;
        xf->done = NULL;
        /* what it had in flight must not call back into it once it is freed */
        if (xf->link && ((xf->step != XF_IDLE && xf->step != XF_DONE) || xf->reading || xf->writing))
                usb_link_forget(xf->link);
        for (unsigned k = 0; k < XF_READ_SLOTS; k++)
                free(xf->own_chunk[k]);
        free(xf);
        return NULL;
}

const XFlashReport *xflash_get_report(XFlash *xf) {
        return &xf->report;
}

int xflash_relink(XFlash *xf, UsbLink *link) {
        if ((xf->step != XF_IDLE && xf->step != XF_DONE) || xf->reading || xf->writing)
                return -EBUSY;
        xf->link = link;
        if (link)
                xf->report.returns_as = 0;
        return 0;
}

const char *xflash_get_detail(XFlash *xf) {
        return xf->detail;
}

uint32_t xflash_get_status(XFlash *xf) {
        return xf->status;
}

bool xflash_needs_emi(XFlash *xf) {
        return xf->need_emi;
}

bool xflash_dram_failed(XFlash *xf) {
        return xf->dram_failed;
}

const uint8_t *xflash_get_memory_id(XFlash *xf, size_t *ret_len) {
        *ret_len = xf->memory_id_len;
        return xf->memory_id;
}

void xflash_set_emi_source(XFlash *xf, XFlashEmiFunc f, void *userdata) {
        xf->emi_func = f;
        xf->emi_userdata = userdata;
}

void xflash_cancel(XFlash *xf) {
        if (xf->link && ((xf->step != XF_IDLE && xf->step != XF_DONE) || xf->reading || xf->writing))
                usb_link_cancel(xf->link);
}

/* ------------------------------------------------------------ finishing */

static void xf_finish(XFlash *xf, int r) {
        XFlashDone done = xf->done;

        xf->step = XF_DONE;
        xf->done = NULL;
        if (done)
                done(xf, r, xf->userdata);
}

static void xf_fail(XFlash *xf, int r, const char *fmt, ...) _printf_(3, 4);
static void xf_fail(XFlash *xf, int r, const char *fmt, ...) {
        va_list ap;

        if (xf->step == XF_DONE)
                return;
        va_start(ap, fmt);
        vsnprintf(xf->detail, sizeof(xf->detail), fmt, ap);
        va_end(ap);
        xf_finish(xf, r);
}

/* A DA status that ends the call: the message names it and the remedy. */
static void xf_fail_status(XFlash *xf, uint32_t code, const char *what) {
        char desc[XFLASH_STATUS_DESCRIBE_MAX];

        xf->status = code;
        xf_fail(xf, code == XFLASH_STATUS_CHECKSUM_ERR ? -EBADMSG : -EIO, "the Download Agent refused %s with "
                "status %s. %s", what, xflash_status_describe(code, desc, sizeof(desc)), xflash_status_remedy(code));
}

static const char *xf_errno_text(XFlash *xf, int r) {
        if ((r == -EPROTO || r == -EMSGSIZE) && xf->rx_why)
                return xf->rx_why;
        return r == -ENODEV ? "the phone disconnected" : r == -ETIMEDOUT ? "no answer (the phone stopped answering)" :
               strerror(-r);
}

/* ------------------------------------------------------------ receiving one packet */

static void xf_rx_on_bytes(UsbLink *link, int r, void *userdata);

static int xf_rx_next(XFlash *xf) {
        size_t n;
        uint8_t *p = xflash_rx_want(&xf->rx, &n);
        int r;

        r = usb_link_read(xf->link, p, n, xf->timeout_ms, xf_rx_on_bytes, xf);
        if (r >= 0)
                xf->reading = true;
        return r;
}

/* One flow packet of at most max bytes into dest; the DA's log messages
 * (type 2) are skipped on the way.  done runs with the result. */
static int xf_recv(XFlash *xf, uint8_t *dest, size_t max, void (*done)(XFlash *xf, int r)) {
        xflash_rx_begin(&xf->rx, dest, max);
        xf->rx_done = done;
        xf->rx_why = NULL;
        return xf_rx_next(xf);
}

static void xf_rx_on_bytes(UsbLink *link, int r, void *userdata) {
        XFlash *xf = userdata;

        xf->reading = false;
        /* a cancelled call's read came back after all: the bytes are not ours to continue with */
        if (xf->step == XF_DONE || xf->step == XF_IDLE)
                return;
        if (r >= 0) {
                r = xflash_rx_got(&xf->rx);
                if (r == 0) {
                        r = xf_rx_next(xf);
                        if (r >= 0)
                                return;
                }
        }
        /* what the stream held is out of step: a protocol error, never a checksum one */
        if (r == -EBADMSG || r == -EPROTO || r == -EMSGSIZE) {
                xf->rx_why = r == -EBADMSG ? "not an XFlash packet (bad magic)" :
                             r == -EPROTO ? "a packet of unknown type, or a log message too long" :
                                            "a packet longer than the protocol allows here";
                if (r == -EBADMSG)
                        r = -EPROTO;
        }
        if (xf->rx.n_messages > 0 && r >= 0)
                log_debug("Skipped %u Download Agent log message%s.", xf->rx.n_messages,
                          xf->rx.n_messages == 1 ? "" : "s");
        xf->rx_done(xf, r < 0 ? r : 0);
}

/* ------------------------------------------------------------ scripts */

static void xs_reset(XFlash *xf) {
        xf->n_script = xf->cur = 0;
        xf->stopped = xf->overflow = false;
}

static XsStep *xs_add(XFlash *xf, XsKind kind, const char *what) {
        XsStep *s;

        if (xf->n_script >= XF_SCRIPT_MAX) {
                xf->overflow = true;
                return &xf->script[XF_SCRIPT_MAX - 1];
        }
        s = &xf->script[xf->n_script++];
        *s = (XsStep) { .kind = kind, .what = what };
        return s;
}

static void xs_send(XFlash *xf, const void *data, size_t len, const char *what) {
        XsStep *s = xs_add(xf, XS_SEND, what);

        xflash_header_build(s->header, XFLASH_DT_PROTOCOL_FLOW, (uint32_t) len);
        s->data = data;
        s->len = len;
}

static void xs_send_u32(XFlash *xf, uint32_t v, const char *what) {
        XsStep *s = xs_add(xf, XS_SEND, what);

        xflash_header_build(s->header, XFLASH_DT_PROTOCOL_FLOW, 4);
        unaligned_write_le32(s->small, v);
        s->data = s->small;
        s->len = 4;
}

static void xs_status(XFlash *xf, uint32_t *ret, bool stop, const char *what) {
        XsStep *s = xs_add(xf, XS_STATUS, what);

        s->ret_status = ret;
        s->stop = stop;
}

static void xs_data(XFlash *xf, uint8_t *dest, size_t max, size_t *ret_len, const char *what) {
        XsStep *s = xs_add(xf, XS_DATA, what);

        s->dest = dest;
        s->max = max;
        s->ret_len = ret_len;
}

static void xs_raw(XFlash *xf, uint8_t *dest, size_t len, const char *what) {
        XsStep *s = xs_add(xf, XS_RAW, what);

        s->dest = dest;
        s->len = len;
}

/* §3 pattern C: DEVICE_CTRL, the code, the answer.  st[0] is the code's
 * status: not 0 (pattern E, "unsupported") ends the script there. */
static void xs_getter(XFlash *xf, uint32_t code, const char *what) {
        xf->ctrl_code = code;
        xf->answer_len = 0;
        xs_send_u32(xf, XFLASH_CMD_DEVICE_CTRL, "DEVICE_CTRL");
        xs_status(xf, NULL, false, "DEVICE_CTRL");
        xs_send_u32(xf, code, what);
        xs_status(xf, &xf->st[0], true, what);
        xs_data(xf, xf->answer, sizeof(xf->answer), &xf->answer_len, what);
        xs_status(xf, NULL, false, what);
}

/* §3 pattern D: st[0] the code's status, st[1] the setter's result. */
static void xs_setter(XFlash *xf, uint32_t code, uint32_t value, const char *what) {
        xf->ctrl_code = code;
        xf->st[1] = 0;
        xs_send_u32(xf, XFLASH_CMD_DEVICE_CTRL, "DEVICE_CTRL");
        xs_status(xf, NULL, false, "DEVICE_CTRL");
        xs_send_u32(xf, code, what);
        xs_status(xf, &xf->st[0], true, what);
        xs_send_u32(xf, value, what);
        xs_status(xf, &xf->st[1], false, what);
}

static void xf_on_script(XFlash *xf, int r);
static int xs_submit(XFlash *xf);

/* The script goes on from a callback: a submit failure ends the call. */
static void xs_step(XFlash *xf) {
        int r;

        if (xf->cur >= xf->n_script)
                return xf_on_script(xf, 0);
        r = xs_submit(xf);
        if (r < 0)
                xf_fail(xf, r, "%s: %s", xf->script[xf->cur].what, xf_errno_text(xf, r));
}

static void xs_on_write(UsbLink *link, int r, void *userdata) {
        XFlash *xf = userdata;

        xf->writing--;
        if (xf->step == XF_DONE || xf->step == XF_IDLE)
                return;
        if (r < 0)
                return xf_fail(xf, r, "sending %s: %s", xf->script[xf->cur].what, xf_errno_text(xf, r));
        xf->cur += xf->send_count;
        xs_step(xf);
}

static void xs_on_recv(XFlash *xf, int r) {
        XsStep *s = &xf->script[xf->cur];
        uint32_t code;

        if (xf->step == XF_DONE || xf->step == XF_IDLE)
                return;
        if (r == -EMSGSIZE && s->kind == XS_STATUS)
                return xf_fail(xf, -EPROTO, "the Download Agent sent a %zu-byte packet where the status of %s "
                               "belongs", xf->rx.len, s->what);
        if (r == -ETIMEDOUT && xf->step == XF_EMI && xf->cur + 1 == xf->n_script) {
                /* §7, §19.5: a DA given a block that does not fit may never answer */
                xf->dram_failed = true;
                return xf_fail(xf, r, "the Download Agent did not answer the DRAM settings of %s: they are not "
                               "this phone's; add the preloader of its own firmware",
                               xf->emi->file_name[0] ? xf->emi->file_name : "the stored preloader");
        }
        if (r < 0)
                return xf_fail(xf, r, "waiting for %s: %s", s->what, xf_errno_text(xf, r));
        switch (s->kind) {
        case XS_STATUS:
                if (xflash_status_parse(xf->st_buf, xf->rx.len, &code) < 0)
                        return xf_fail(xf, -EPROTO, "the Download Agent sent a %zu-byte packet where the status "
                                       "of %s belongs", xf->rx.len, s->what);
                if (s->ret_status) {
                        *s->ret_status = code;
                        if (s->stop && code != XFLASH_STATUS_OK) {
                                xf->stopped = true;
                                xf->cur = xf->n_script;
                                return xs_step(xf);
                        }
                } else if (code != XFLASH_STATUS_OK)
                        return xf_fail_status(xf, code, s->what);
                break;
        case XS_DATA:
                *s->ret_len = xf->rx.len;
                break;
        case XS_SEND:
        case XS_RAW:
                break;
        }
        xf->cur++;
        xs_step(xf);
}

static void xs_on_raw(UsbLink *link, int r, void *userdata) {
        XFlash *xf = userdata;

        xf->reading = false;
        if (xf->step == XF_DONE || xf->step == XF_IDLE)
                return;
        if (r < 0)
                return xf_fail(xf, r, "waiting for %s: %s", xf->script[xf->cur].what, xf_errno_text(xf, r));
        xf->cur++;
        xs_step(xf);
}

static int xs_submit(XFlash *xf) {
        XsStep *s = &xf->script[xf->cur];
        UsbIovec v[USB_WRITEV_MAX];
        size_t nv = 0;
        int r;

        switch (s->kind) {
        case XS_SEND:
                /* §2.3: header and payload each their own transfer; up to
                 * four packets back to back in one vector */
                xf->send_count = 0;
                for (unsigned i = xf->cur; i < xf->n_script && xf->script[i].kind == XS_SEND &&
                     nv + 2 <= USB_WRITEV_MAX; i++) {
                        v[nv++] = (UsbIovec) { xf->script[i].header, XFLASH_HEADER_SIZE };
                        v[nv++] = (UsbIovec) { (void *) xf->script[i].data, xf->script[i].len };
                        xf->send_count++;
                }
                r = usb_link_writev(xf->link, v, nv, xf->timeout_ms, xs_on_write, xf);
                if (r >= 0)
                        xf->writing++;
                return r;
        case XS_STATUS:
                return xf_recv(xf, xf->st_buf, sizeof(xf->st_buf), xs_on_recv);
        case XS_DATA:
                return xf_recv(xf, s->dest, s->max, xs_on_recv);
        case XS_RAW:
                r = usb_link_read(xf->link, s->dest, s->len, xf->timeout_ms, xs_on_raw, xf);
                if (r >= 0)
                        xf->reading = true;
                return r;
        }
        return -EINVAL;
}

/* Runs the script built since xs_reset() from a callback. */
static int xs_run(XFlash *xf, unsigned timeout_ms) {
        if (xf->overflow || xf->n_script == 0)
                return -E2BIG;
        xf->timeout_ms = timeout_ms;
        return xs_submit(xf);
}

static int xf_begin(XFlash *xf, XfStep step, XFlashDone done, void *userdata) {
        /* a failed data loop's cancelled transfers may still be coming back */
        if ((xf->step != XF_IDLE && xf->step != XF_DONE) || xf->reading || xf->writing)
                return -EBUSY;
        /* away re-enumerating (§9.4): nothing to talk to until xflash_relink() */
        if (!xf->link || usb_link_is_gone(xf->link))
                return -ENODEV;
        xf->step = step;
        xf->detail[0] = 0;
        xf->status = 0;
        xf->done = done;
        xf->userdata = userdata;
        xs_reset(xf);
        return 0;
}

/* The first script of a call: a failure here is returned (done never runs). */
static int xf_run_first(XFlash *xf, unsigned timeout_ms) {
        int r = xs_run(xf, timeout_ms);

        if (r < 0) {
                xf->step = XF_IDLE;
                xf->done = NULL;
        }
        return r;
}

/* ------------------------------------------------------------ start-up */

int xflash_start(XFlash *xf, const uint8_t *da2, size_t da2_len, uint64_t da2_addr, XFlashDone done,
                 void *userdata) {
        int r;

        if (da2_len == 0 || da2_len > UINT32_MAX)
                return -EINVAL;
        r = xf_begin(xf, XF_SYNC_BYTE, done, userdata);
        if (r < 0)
                return r;
        xf->da2 = da2;
        xf->da2_len = da2_len;
        xf->da2_addr = da2_addr;
        xf->report = (XFlashReport) {};
        xf->need_emi = xf->dram_failed = false;
        xf->emi = NULL;
        xf->memory_id_len = 0;
        /* §6.1 row 1: a raw byte, no header */
        xs_raw(xf, xf->raw, 1, "DA1 sync byte");
        return xf_run_first(xf, XF_START_TIMEOUT_MS);
}

/* §6.1 rows 2-9; SYNC and the two setup commands have no status of their
 * own, their status comes after the parameter (§3) */
static int xf_setup(XFlash *xf) {
        xflash_build_env(xf->env);
        xs_reset(xf);
        xs_send_u32(xf, XFLASH_CMD_SYNC_SIGNAL, "SYNC");
        xs_send_u32(xf, XFLASH_CMD_SETUP_ENVIRONMENT, "SETUP_ENVIRONMENT");
        xs_send(xf, xf->env, sizeof(xf->env), "SETUP_ENVIRONMENT");
        xs_status(xf, NULL, false, "SETUP_ENVIRONMENT");
        xs_send_u32(xf, XFLASH_CMD_SETUP_HW_INIT_PARAMS, "SETUP_HW_INIT_PARAMS");
        xs_send_u32(xf, 0, "SETUP_HW_INIT_PARAMS");
        xs_status(xf, NULL, false, "SETUP_HW_INIT_PARAMS");
        xs_status(xf, &xf->st[2], false, "DA1 ready (SYNC)");
        return xs_run(xf, XF_START_TIMEOUT_MS);
}

static int xf_getter(XFlash *xf, XfStep step, uint32_t code, const char *what, unsigned timeout_ms) {
        xf->step = step;
        xs_reset(xf);
        xs_getter(xf, code, what);
        return xs_run(xf, timeout_ms);
}

static int xf_emi_send(XFlash *xf) {
        xf->step = XF_EMI;
        xs_reset(xf);
        /* §7: the length has no status of its own; the whole block, header included */
        xs_send_u32(xf, XFLASH_CMD_INIT_EXT_RAM, "INIT_EXT_RAM");
        xs_status(xf, NULL, false, "INIT_EXT_RAM");
        xs_send_u32(xf, (uint32_t) xf->emi->block_len, "INIT_EXT_RAM length");
        xs_send(xf, xf->emi->block, xf->emi->block_len, "INIT_EXT_RAM block");
        xs_status(xf, &xf->st[1], false, "INIT_EXT_RAM result");
        return xs_run(xf, XF_START_TIMEOUT_MS);
}

static int xf_checksum_level(XFlash *xf) {
        xf->step = XF_CHECKSUM_LEVEL;
        xs_reset(xf);
        xs_setter(xf, XFLASH_CTRL_SET_CHECKSUM_LEVEL, XFLASH_CHECKSUM_NONE, "SET_CHECKSUM_LEVEL");
        return xs_run(xf, XF_TIMEOUT_MS);
}

static int xf_boot_to(XFlash *xf) {
        xf->step = XF_BOOT_TO;
        xs_reset(xf);
        xflash_build_boot_to(xf->param, xf->da2_addr, xf->da2_len);
        /* §9.1: the address and length have no status of their own; then
         * the image is judged (hash), then the new stage says SYNC */
        xs_send_u32(xf, XFLASH_CMD_BOOT_TO, "BOOT_TO");
        xs_status(xf, NULL, false, "BOOT_TO");
        xs_send(xf, xf->param, XFLASH_BOOT_TO_PARAM_SIZE, "BOOT_TO address");
        xs_send(xf, xf->da2, xf->da2_len, "DA2");
        xs_status(xf, &xf->st[1], true, "DA2");
        xs_status(xf, &xf->st[2], false, "DA2 start (SYNC)");
        return xs_run(xf, XF_START_TIMEOUT_MS);
}

/* The getter's answer, or false when the DA said "unsupported" (pattern E). */
static bool xf_answered(XFlash *xf, const char *what) {
        char desc[XFLASH_STATUS_DESCRIBE_MAX];

        if (!xf->stopped)
                return true;
        log_debug("The Download Agent does not answer %s: %s.", what, xflash_status_describe(xf->st[0], desc,
                                                                                             sizeof(desc)));
        return false;
}

static void xf_describe_id(const uint8_t *id, size_t len, char *hex) {
        for (size_t i = 0; i < len; i++)
                sprintf(hex + 2 * i, "%02x", id[i]);
        hex[2 * len] = 0;
}

/* brom-emi.md §4.4, §5 step 2, xflash.md §7: the memory the preloader's
 * EMI records are for is named by the eMMC CID, or on a UFS phone by the
 * UFS product id (an ASCII part number: its records' id_length is 14–16) */
static int xf_brom_choose(XFlash *xf, const uint8_t *id, size_t len, const char *what) {
        char hex[2 * sizeof(xf->memory_id) + 1];

        xf->memory_id_len = MIN(len, sizeof(xf->memory_id));
        memcpy(xf->memory_id, id, xf->memory_id_len);
        xf->emi = xf->emi_func ? xf->emi_func(xf, xf->memory_id, xf->memory_id_len, xf->emi_userdata) : NULL;
        if (!xf->emi) {
                xf_describe_id(xf->memory_id, xf->memory_id_len, hex);
                xf->need_emi = true;
                xf_fail(xf, -EOPNOTSUPP, "the Download Agent needs the DRAM settings for memory id %s (%s), and "
                        "no stored preloader has them", hex, what);
                return 0;
        }
        log_info("BROM mode: DRAM settings for this phone's memory (%s) from %s (EMI v%02u, %zu bytes).", what,
                 xf->emi->file_name[0] ? xf->emi->file_name : "a stored preloader", xf->emi->version,
                 xf->emi->block_len);
        return xf_emi_send(xf);
}

/* DA1's eMMC information names the memory; a UFS phone's has type 0 or no
 * user area (§6.3 row 5), and its UFS information is asked next */
static int xf_brom_emmc(XFlash *xf) {
        XFlashEmmcInfo e;

        if (xf_answered(xf, "GET_EMMC_INFO") && xflash_parse_emmc_info(xf->answer, xf->answer_len, &e) >= 0 &&
            e.type != 0 && e.user_size > 0)
                return xf_brom_choose(xf, e.cid, sizeof(e.cid), "its eMMC CID");
        return xf_getter(xf, XF_BROM_UFS, XFLASH_CTRL_GET_UFS_INFO, "GET_UFS_INFO", XF_TIMEOUT_MS);
}

static int xf_brom_ufs(XFlash *xf) {
        XFlashUfsInfo u;

        if (!xf_answered(xf, "GET_UFS_INFO") || xflash_parse_ufs_info(xf->answer, xf->answer_len, &u) < 0 ||
            u.type == 0 || u.cid_len == 0) {
                xf->need_emi = true;
                xf_fail(xf, -EOPNOTSUPP, "the Download Agent was loaded by the boot ROM and needs DRAM settings, "
                        "but reported neither an eMMC CID nor a UFS product id to choose them by");
                return 0;
        }
        return xf_brom_choose(xf, u.cid, u.cid_len, "its UFS product id");
}

static void xf_log_storage(XFlash *xf) {
        const XFlashReport *rep = &xf->report;

        if (rep->have_chip_id)
                log_info("XFlash DA2 running on hw code 0x%04x, sub 0x%04x, hw 0x%04x, sw 0x%04x.",
                         rep->chip.hw_code, rep->chip.hw_sub_code, rep->chip.hw_version, rep->chip.sw_version);
        if (rep->have_emmc && rep->emmc.type != 0)
                log_info("XFlash storage: eMMC, user area %" PRIu64 " MiB.", rep->emmc.user_size >> 20);
        if (rep->have_ufs && rep->ufs.type != 0)
                log_info("XFlash storage: UFS, LU2 %" PRIu64 " MiB, block size %u.", rep->ufs.lu2_size >> 20,
                         rep->ufs.block_size);
}

static int xf_read_begin(XFlash *xf);
static int xf_write_chunk(XFlash *xf);

static void xf_on_script(XFlash *xf, int r) {
        char desc[XFLASH_STATUS_DESCRIBE_MAX], text[64];
        uint32_t v;

        if (r < 0)
                return xf_fail(xf, r, "%s", xf_errno_text(xf, r));

        switch (xf->step) {
        case XF_SYNC_BYTE:
                if (xf->raw[0] != XFLASH_DA1_SYNC_CHAR)
                        return xf_fail(xf, -EPROTO, "the Download Agent did not start: it sent 0x%02x instead of "
                                       "its sync byte 0x%02x", xf->raw[0], XFLASH_DA1_SYNC_CHAR);
                xf->step = XF_SETUP;
                r = xf_setup(xf);
                break;

        case XF_SETUP:
                /* §6.1 row 9: "SYNC"; 0 too, as after BOOT_TO (§17 step 4) */
                if (xf->st[2] != XFLASH_STATUS_SYNC && xf->st[2] != XFLASH_STATUS_OK)
                        return xf_fail_status(xf, xf->st[2], "to start (DA1)");
                r = xf_getter(xf, XF_AGENT, XFLASH_CTRL_GET_CONNECTION_AGENT, "GET_CONNECTION_AGENT", XF_TIMEOUT_MS);
                break;

        case XF_AGENT:
                if (!xf_answered(xf, "GET_CONNECTION_AGENT"))
                        return xf_fail_status(xf, xf->st[0], "GET_CONNECTION_AGENT");
                xflash_payload_to_string(xf->answer, xf->answer_len, xf->report.da_agent,
                                         sizeof(xf->report.da_agent));
                if (xflash_payload_is(xf->answer, xf->answer_len, XFLASH_AGENT_BROM)) {
                        /* §6.3, §7: nobody set up the DRAM; DA1 needs the preloader's EMI block */
                        xf->report.brom = true;
                        if (!xf->emi_func) {
                                xf->need_emi = true;
                                return xf_fail(xf, -EOPNOTSUPP, "the Download Agent was loaded by the boot ROM and "
                                               "needs the phone's DRAM (EMI) settings, which only its preloader has");
                        }
                        r = xf_getter(xf, XF_BROM_EMMC, XFLASH_CTRL_GET_EMMC_INFO, "GET_EMMC_INFO", XF_TIMEOUT_MS);
                        break;
                }
                if (!xflash_payload_is(xf->answer, xf->answer_len, XFLASH_AGENT_PRELOADER))
                        return xf_fail(xf, -EPROTO, "the Download Agent names an unknown connection agent \"%s\" "
                                       "(neither \"preloader\" nor \"brom\")", xf->report.da_agent);
                r = xf_checksum_level(xf);
                break;

        case XF_BROM_EMMC:
                r = xf_brom_emmc(xf);
                break;

        case XF_BROM_UFS:
                r = xf_brom_ufs(xf);
                break;

        case XF_EMI:
                if (xf->st[1] != XFLASH_STATUS_OK) {
                        xf->dram_failed = true;
                        xf->status = xf->st[1];
                        return xf_fail(xf, -EIO, "the Download Agent refused the DRAM settings of %s with status "
                                       "%s: they are not this phone's; add the preloader of its own firmware",
                                       xf->emi->file_name[0] ? xf->emi->file_name : "the stored preloader",
                                       xflash_status_describe(xf->st[1], desc, sizeof(desc)));
                }
                log_info("BROM mode: the Download Agent accepted the DRAM settings.");
                r = xf_checksum_level(xf);
                break;

        case XF_CHECKSUM_LEVEL:
                /* only what is sent on reads: no checksum words (§10.2) */
                if (xf->stopped || xf->st[1] != XFLASH_STATUS_OK)
                        log_info("The Download Agent did not take checksum level 0 (%s); continuing.",
                                 xflash_status_describe(xf->stopped ? xf->st[0] : xf->st[1], desc, sizeof(desc)));
                r = xf_getter(xf, XF_PACKET_LENGTH, XFLASH_CTRL_GET_PACKET_LENGTH, "GET_PACKET_LENGTH",
                              XF_TIMEOUT_MS);
                break;

        case XF_PACKET_LENGTH:
                if (xf_answered(xf, "GET_PACKET_LENGTH"))
                        (void) xflash_parse_packet_length(xf->answer, xf->answer_len, &xf->report.write_packet_len,
                                                          &xf->report.read_packet_len);
                r = xf_boot_to(xf);
                break;

        case XF_BOOT_TO:
                if (xf->stopped)
                        return xf_fail_status(xf, xf->st[1], "the second stage (DA2)");
                if (xf->st[2] != XFLASH_STATUS_SYNC && xf->st[2] != XFLASH_STATUS_OK)
                        return xf_fail_status(xf, xf->st[2], "to start the second stage (DA2)");
                r = xf_getter(xf, XF_SLA, XFLASH_CTRL_SLA_ENABLED_STATUS, "SLA_ENABLED_STATUS", XF_TIMEOUT_MS);
                break;

        case XF_SLA:
                v = 0;
                if (xf_answered(xf, "SLA_ENABLED_STATUS") && xf->answer_len >= 4)
                        v = unaligned_read_le32(xf->answer);
                if (v != 0)
                        return xf_fail(xf, -EACCES, "SLA_ENABLED_STATUS is %u: DA2 waits for the manufacturer's "
                                       "signed answer to its challenge", v);
                r = xf_getter(xf, XF_EMMC_INFO, XFLASH_CTRL_GET_EMMC_INFO, "GET_EMMC_INFO", XF_TIMEOUT_MS);
                break;

        case XF_EMMC_INFO:
                if (xf_answered(xf, "GET_EMMC_INFO")) {
                        if (xflash_parse_emmc_info(xf->answer, xf->answer_len, &xf->report.emmc) < 0)
                                return xf_fail(xf, -EPROTO, "the Download Agent's eMMC information is %zu bytes, "
                                               "shorter than the %u the protocol has", xf->answer_len,
                                               XFLASH_EMMC_INFO_SIZE_OLD);
                        xf->report.have_emmc = true;
                }
                r = xf_getter(xf, XF_UFS_INFO, XFLASH_CTRL_GET_UFS_INFO, "GET_UFS_INFO", XF_TIMEOUT_MS);
                break;

        case XF_UFS_INFO:
                if (xf_answered(xf, "GET_UFS_INFO")) {
                        if (xflash_parse_ufs_info(xf->answer, xf->answer_len, &xf->report.ufs) < 0)
                                return xf_fail(xf, -EPROTO, "the Download Agent's UFS information is %zu bytes, "
                                               "shorter than the %u the protocol has", xf->answer_len,
                                               XFLASH_UFS_INFO_SIZE_V1);
                        xf->report.have_ufs = true;
                }
                r = xf_getter(xf, XF_CHIP_ID, XFLASH_CTRL_GET_CHIP_ID, "GET_CHIP_ID", XF_TIMEOUT_MS);
                break;

        case XF_CHIP_ID:
                if (xf_answered(xf, "GET_CHIP_ID") &&
                    xflash_parse_chip_id(xf->answer, xf->answer_len, &xf->report.chip) >= 0)
                        xf->report.have_chip_id = true;
                r = xf_getter(xf, XF_USB_SPEED, XFLASH_CTRL_GET_USB_SPEED, "GET_USB_SPEED", XF_TIMEOUT_MS);
                break;

        case XF_USB_SPEED: {
                bool full = false;

                if (xf_answered(xf, "GET_USB_SPEED")) {
                        xflash_payload_to_string(xf->answer, xf->answer_len, xf->report.usb_speed,
                                                 sizeof(xf->report.usb_speed));
                        full = xflash_payload_is(xf->answer, xf->answer_len, XFLASH_USB_FULL_SPEED);
                }
                xf_log_storage(xf);
                if (!(xf->report.have_emmc && xf->report.emmc.type != 0 && xf->report.emmc.user_size > 0) &&
                    !(xf->report.have_ufs && xf->report.ufs.type != 0 && xf->report.ufs.lu2_size > 0))
                        return xf_fail(xf, -ENODEV, "the Download Agent found neither eMMC nor UFS storage (NAND "
                                       "and NOR phones are not supported)");
                if (!full)
                        return xf_finish(xf, 0);
                /* §9.2 step 3, §9.4: a BROM-loaded DA runs at full speed
                 * (64-byte packets, about 1 MB/s); switched, it re-enumerates
                 * at high speed.  The parameter is mtkclient's, the VID:PID
                 * it comes back as, so that the device layer can tell the DA
                 * coming back from a phone that restarted. */
                log_info("The Download Agent reports a full-speed USB link; switching it to high speed.");
                xf->step = XF_SPEED_SWITCH;
                xf->st[1] = 0;
                xs_reset(xf);
                xs_send_u32(xf, XFLASH_CMD_SWITCH_USB_SPEED, "SWITCH_USB_SPEED");
                xs_status(xf, &xf->st[0], true, "SWITCH_USB_SPEED");
                xs_send_u32(xf, XFLASH_USB_SWITCH_ID, "SWITCH_USB_SPEED parameter");
                xs_status(xf, &xf->st[1], false, "SWITCH_USB_SPEED parameter");
                r = xs_run(xf, XF_TIMEOUT_MS);
                break;
        }

        case XF_SPEED_SWITCH:
                /* a DA that does not switch stays on this link: slower, still correct */
                if (xf->stopped || xf->st[1] != XFLASH_STATUS_OK) {
                        log_info("The Download Agent refused SWITCH_USB_SPEED (%s); staying at full speed.",
                                 xflash_status_describe(xf->stopped ? xf->st[0] : xf->st[1], desc, sizeof(desc)));
                        return xf_finish(xf, 0);
                }
                xf->report.returns_as = XFLASH_USB_SWITCH_ID;
                log_info("The Download Agent switches to high speed: it leaves the bus and comes back as "
                         "%04x:%04x.", XFLASH_USB_SWITCH_ID >> 16, XFLASH_USB_SWITCH_ID & 0xffffu);
                return xf_finish(xf, 0);

        case XF_READ_LENGTH:
        case XF_WRITE_LENGTH: {
                uint32_t w = 0, rd = 0, n;
                bool ok = xf_answered(xf, "GET_PACKET_LENGTH") &&
                          xflash_parse_packet_length(xf->answer, xf->answer_len, &w, &rd) >= 0;

                n = xf->step == XF_READ_LENGTH ? rd : w;
                if (!ok || n == 0)
                        n = XF_PACKET_LEN_DEFAULT;
                if (n > XF_PACKET_LEN_MAX)
                        return xf_fail(xf, -EPROTO, "the Download Agent asks for %u-byte packets, more than the "
                                       "%u mtknvd allows", n, XF_PACKET_LEN_MAX);
                /* §11: written chunks are whole sectors */
                if (xf->step == XF_WRITE_LENGTH)
                        n = MAX(n - n % XF_SECTOR, XF_SECTOR);
                xf->packet_len = n;
                xflash_build_rw_param(xf->param, xf->storage, xf->region, xf->addr, xf->len);
                xs_reset(xf);
                if (xf->step == XF_READ_LENGTH) {
                        xf->step = XF_READ_HEAD;
                        xs_send_u32(xf, XFLASH_CMD_READ_DATA, "READ_DATA");
                        xs_status(xf, NULL, false, "READ_DATA");
                        xs_send(xf, xf->param, sizeof(xf->param), "READ_DATA parameters");
                        xs_status(xf, &xf->st[1], true, "READ_DATA parameters");
                        /* §10.2 row 5, the second status ("the read starts"), is
                         * taken by the data loop: a DA that sends only one (§19.4)
                         * goes on with the first chunk instead */
                } else {
                        xf->step = XF_WRITE_HEAD;
                        xs_send_u32(xf, XFLASH_CMD_WRITE_DATA, "WRITE_DATA");
                        xs_status(xf, NULL, false, "WRITE_DATA");
                        xs_send(xf, xf->param, sizeof(xf->param), "WRITE_DATA parameters");
                        xs_status(xf, &xf->st[1], true, "WRITE_DATA parameters");
                }
                r = xs_run(xf, XF_TIMEOUT_MS);
                break;
        }

        case XF_READ_HEAD:
                if (xf->stopped) {
                        snprintf(text, sizeof(text), "to read 0x%" PRIx64 "+0x%" PRIx64, xf->addr, xf->len);
                        return xf_fail_status(xf, xf->st[1], text);
                }
                xf->step = XF_READ_DATA;
                r = xf_read_begin(xf);
                break;

        case XF_WRITE_HEAD:
                if (xf->stopped) {
                        snprintf(text, sizeof(text), "to write 0x%" PRIx64 "+0x%" PRIx64, xf->addr, xf->len);
                        return xf_fail_status(xf, xf->st[1], text);
                }
                xf->step = XF_WRITE_DATA;
                xf->off = 0;
                xf->final_status = false;
                r = xf_write_chunk(xf);
                break;

        case XF_REBOOT:
                if (xf->stopped || xf->st[1] != XFLASH_STATUS_OK)
                        return xf_fail_status(xf, xf->stopped ? xf->st[0] : xf->st[1], "to reboot");
                return xf_finish(xf, 0);

        case XF_READ_DATA:
        case XF_WRITE_DATA:
        case XF_IDLE:
        case XF_DONE:
                return xf_fail(xf, -EINVAL, "internal error: script ended in step %d", xf->step);
        }

        if (r < 0)
                xf_fail(xf, r, "cannot continue: %s", xf_errno_text(xf, r));
}

/* ------------------------------------------------------------ READ_DATA */

int xflash_read(XFlash *xf, uint32_t storage, uint32_t region, uint64_t addr, uint64_t len, XFlashDataFunc data,
                XFlashDone done, void *userdata) {
        int r;

        if (len == 0 || addr + len < addr)
                return -EINVAL;
        r = xf_begin(xf, XF_READ_LENGTH, done, userdata);
        if (r < 0)
                return r;
        xf->storage = storage;
        xf->region = region;
        xf->addr = addr;
        xf->len = len;
        xf->data_cb = data;
        /* §10.2: the DA's read packet length sizes the chunks; asked before every READ_DATA */
        xs_getter(xf, XFLASH_CTRL_GET_PACKET_LENGTH, "GET_PACKET_LENGTH");
        return xf_run_first(xf, XF_TIMEOUT_MS);
}

/* A failure in a data loop: its transfers still out are cancelled and come
 * back to the callbacks below, which then only count them. */
static void xf_data_fail(XFlash *xf, int r, const char *what) {
        if (xf->reading || xf->writing)
                usb_link_cancel(xf->link);
        if (xf->step == XF_DONE)
                return;
        xf_fail(xf, r, "%s at 0x%" PRIx64 ": %s", what, xf->addr + xf->off, xf_errno_text(xf, r));
}

static void xf_data_fail_status(XFlash *xf, uint32_t code, const char *what) {
        char text[96];

        if (xf->reading || xf->writing)
                usb_link_cancel(xf->link);
        snprintf(text, sizeof(text), "%s at 0x%" PRIx64, what, xf->addr + xf->off);
        xf_fail_status(xf, code, text);
}

/* A data-phase status packet arrived (r: its read): true when it is OK and
 * the call goes on.  Otherwise the call has failed here (waiting: what the
 * read was for; what: the packet; doing: what a refusal stopped), or it is
 * no longer in this step; *ret_code is the DA's code when it parsed. */
static bool xf_data_status(XFlash *xf, int r, XfStep step, const char *waiting, const char *what,
                           uint32_t *ret_code) {
        uint32_t code;

        *ret_code = XFLASH_STATUS_OK;
        if (xf->step != step)
                return false;
        if (r < 0) {
                xf_data_fail(xf, r == -EMSGSIZE ? -EPROTO : r, waiting);
                return false;
        }
        if (xflash_status_parse(xf->st_buf, xf->rx.len, &code) < 0) {
                xf_data_fail(xf, -EPROTO, what);
                return false;
        }
        *ret_code = code;
        return code == XFLASH_STATUS_OK;
}

static void xf_read_on_chunk(XFlash *xf, int r);

static int xf_read_recv_chunk(XFlash *xf) {
        size_t want = (size_t) MIN(xf->len - xf->off, (uint64_t) xf->packet_len);

        return xf_recv(xf, xf->chunk[xf->slot], want, xf_read_on_chunk);
}

static int xf_read_begin(XFlash *xf) {
        xf->timeout_ms = XF_DATA_TIMEOUT_MS;
        xf->off = 0;
        xf->slot = 0;
        xf->read_waiting = xf->status_pending = xf->started = false;
        /* the link's own buffers are filled without a copy; a new read takes every one back */
        for (unsigned k = 0; k < XF_READ_SLOTS; k++) {
                xf->held[k] = false;
                xf->chunk[k] = usb_link_get_buffer(xf->link, k, xf->packet_len);
                if (xf->chunk[k])
                        continue;
                if (xf->own_size[k] < xf->packet_len) {
                        uint8_t *b = realloc(xf->own_chunk[k], xf->packet_len);

                        if (!b)
                                return -ENOMEM;
                        xf->own_chunk[k] = b;
                        xf->own_size[k] = xf->packet_len;
                }
                xf->chunk[k] = xf->own_chunk[k];
        }
        return xf_read_recv_chunk(xf);
}

static void xf_read_check(XFlash *xf) {
        if (xf->step != XF_READ_DATA || xf->reading || xf->writing || xf->status_pending || xf->read_waiting ||
            xf->off < xf->len)
                return;
        for (unsigned k = 0; k < XF_READ_SLOTS; k++)
                if (xf->held[k])
                        return;
        xf_finish(xf, 0);
}

static void xf_read_on_ack(UsbLink *link, int r, void *userdata) {
        XFlash *xf = userdata;

        xf->writing--;
        if (xf->step != XF_READ_DATA)
                return;
        if (r < 0)
                return xf_data_fail(xf, r, "acknowledging data");
        xf_read_check(xf);
}

static void xf_read_on_status(XFlash *xf, int r) {
        uint32_t code;

        if (!xf_data_status(xf, r, XF_READ_DATA, "waiting for a chunk's status", "a chunk's status", &code)) {
                if (code != XFLASH_STATUS_OK)
                        xf_data_fail_status(xf, code, "reading");
                return;
        }
        xf->status_pending = false;
        if (xf->off < xf->len) {
                xf->slot = (xf->slot + 1) % XF_READ_SLOTS;
                if (xf->held[xf->slot])
                        xf->read_waiting = true; /* the disk is slower than the line: the DA waits */
                else {
                        r = xf_read_recv_chunk(xf);
                        if (r < 0)
                                return xf_data_fail(xf, r, "reading");
                }
        }
        xf_read_check(xf);
}

/* §10.2 rows 6-8: a chunk, the host's P(0), the DA's status.  The ack goes
 * and the status read is queued before the chunk is handed on, so that
 * hashing and storing it overlap the DA's next chunk; the protocol allows
 * no more (the DA sends the next chunk only after the status). */
static void xf_read_on_chunk(XFlash *xf, int r) {
        unsigned k = xf->slot;
        size_t expected = (size_t) MIN(xf->len - xf->off, (uint64_t) xf->packet_len);
        uint32_t code;
        UsbIovec v[2];

        if (xf->step != XF_READ_DATA)
                return;
        if (r == -EMSGSIZE)
                return xf_data_fail(xf, -EPROTO, "a data chunk longer than asked for");
        if (r < 0)
                return xf_data_fail(xf, r, "reading");
        /* §10.2: a 4-byte packet where a chunk belongs is a status: before
         * the first chunk the second one of row 5 (if 0), else the DA's error */
        if (xf->rx.len == 4 && expected != 4 && xflash_status_parse(xf->chunk[k], 4, &code) >= 0) {
                if (code != XFLASH_STATUS_OK)
                        return xf_data_fail_status(xf, code, "reading");
                if (xf->started)
                        return xf_data_fail(xf, -EPROTO, "a status 0 where a data chunk belongs");
                xf->started = true;
                r = xf_read_recv_chunk(xf);
                if (r < 0)
                        xf_data_fail(xf, r, "reading");
                return;
        }
        xf->started = true;
        if (xf->rx.len == 0)
                return xf_data_fail(xf, -EPROTO, "an empty data chunk");
        xf->chunk_len[k] = xf->rx.len;

        xflash_header_build(xf->ack_hdr, XFLASH_DT_PROTOCOL_FLOW, sizeof(xf->ack));
        unaligned_write_le32(xf->ack, 0);
        v[0] = (UsbIovec) { xf->ack_hdr, sizeof(xf->ack_hdr) };
        v[1] = (UsbIovec) { xf->ack, sizeof(xf->ack) };
        r = usb_link_writev(xf->link, v, 2, XF_TIMEOUT_MS, xf_read_on_ack, xf);
        if (r < 0)
                return xf_data_fail(xf, r, "acknowledging data");
        xf->writing++;
        r = xf_recv(xf, xf->st_buf, sizeof(xf->st_buf), xf_read_on_status);
        if (r < 0)
                return xf_data_fail(xf, r, "reading");
        xf->status_pending = true;
        xf->off += xf->chunk_len[k];

        if (xf->data_cb) {
                r = xf->data_cb(xf, xf->chunk[k], xf->chunk_len[k], xf->userdata);
                if (r == XFLASH_DATA_HELD)
                        xf->held[k] = true;
                else if (r < 0) {
                        /* the consumer (cancel, disk full) ends the read; the
                         * DA is left mid-transfer, so the session is over */
                        if (xf->reading || xf->writing)
                                usb_link_cancel(xf->link);
                        return xf_fail(xf, r, "the read was stopped: %s", strerror(-r));
                }
        }
        xf_read_check(xf);
}

void xflash_release(XFlash *xf, const uint8_t *data) {
        int r;

        for (unsigned k = 0; k < XF_READ_SLOTS; k++) {
                if (!xf->held[k] || xf->chunk[k] != data)
                        continue;
                xf->held[k] = false;
                if (xf->step != XF_READ_DATA)
                        return;
                if (xf->read_waiting && xf->slot == k) {
                        xf->read_waiting = false;
                        r = xf_read_recv_chunk(xf);
                        if (r < 0)
                                return xf_data_fail(xf, r, "reading");
                }
                return xf_read_check(xf);
        }
}

/* ------------------------------------------------------------ WRITE_DATA */

int xflash_write(XFlash *xf, uint32_t storage, uint32_t region, uint64_t addr, const uint8_t *buf, uint64_t len,
                 XFlashDone done, void *userdata) {
        int r;

        if (len == 0 || len % XF_SECTOR || addr % XF_SECTOR || addr + len < addr)
                return -EINVAL;
        r = xf_begin(xf, XF_WRITE_LENGTH, done, userdata);
        if (r < 0)
                return r;
        xf->storage = storage;
        xf->region = region;
        xf->addr = addr;
        xf->len = len;
        xf->wbuf = buf;
        /* §11 row 0: before WRITE_DATA, never after it */
        xs_getter(xf, XFLASH_CTRL_GET_PACKET_LENGTH, "GET_PACKET_LENGTH");
        return xf_run_first(xf, XF_TIMEOUT_MS);
}

static void xf_write_check(XFlash *xf) {
        if (xf->step == XF_WRITE_DATA && xf->final_status && !xf->writing && !xf->reading)
                xf_finish(xf, 0);
}

static void xf_write_on_data(UsbLink *link, int r, void *userdata) {
        XFlash *xf = userdata;

        xf->writing--;
        if (xf->step != XF_WRITE_DATA)
                return;
        if (r < 0)
                return xf_data_fail(xf, r, "writing");
        xf_write_check(xf);
}

static void xf_write_on_final(XFlash *xf, int r) {
        uint32_t code;

        if (!xf_data_status(xf, r, XF_WRITE_DATA, "waiting for the end of the write", "the write's final status",
                            &code)) {
                if (code != XFLASH_STATUS_OK)
                        xf_data_fail_status(xf, code, "finishing the write");
                return;
        }
        xf->final_status = true;
        xf_write_check(xf);
}

static void xf_write_on_status(XFlash *xf, int r) {
        uint32_t code;

        if (!xf_data_status(xf, r, XF_WRITE_DATA, "waiting for the phone to accept data", "a chunk's status",
                            &code)) {
                if (code != XFLASH_STATUS_OK) {
                        /* the status is of the chunk just sent */
                        xf->off -= MIN(xf->off, (uint64_t) xf->packet_len);
                        xf_data_fail_status(xf, code, "writing");
                }
                return;
        }
        if (xf->off < xf->len)
                r = xf_write_chunk(xf);
        else
                r = xf_recv(xf, xf->st_buf, sizeof(xf->st_buf), xf_write_on_final);
        if (r < 0)
                xf_data_fail(xf, r, "writing");
}

/* §11 rows 5-8: P(0), P(checksum), P(chunk) as one vector of six
 * transfers, the status read queued with it.  The next chunk waits for
 * this one's status: after a refusal the DA is back in its command loop,
 * which would take chunks queued behind as commands. */
static int xf_write_chunk(XFlash *xf) {
        size_t n = (size_t) MIN(xf->len - xf->off, (uint64_t) xf->packet_len);
        UsbIovec v[6];
        int r;

        xflash_header_build(xf->ack_hdr, XFLASH_DT_PROTOCOL_FLOW, sizeof(xf->ack));
        unaligned_write_le32(xf->ack, 0);
        xflash_header_build(xf->sum_hdr, XFLASH_DT_PROTOCOL_FLOW, sizeof(xf->sum));
        unaligned_write_le32(xf->sum, xflash_checksum(xf->wbuf + xf->off, n));
        xflash_header_build(xf->data_hdr, XFLASH_DT_PROTOCOL_FLOW, (uint32_t) n);
        v[0] = (UsbIovec) { xf->ack_hdr, sizeof(xf->ack_hdr) };
        v[1] = (UsbIovec) { xf->ack, sizeof(xf->ack) };
        v[2] = (UsbIovec) { xf->sum_hdr, sizeof(xf->sum_hdr) };
        v[3] = (UsbIovec) { xf->sum, sizeof(xf->sum) };
        v[4] = (UsbIovec) { xf->data_hdr, sizeof(xf->data_hdr) };
        v[5] = (UsbIovec) { (void *) (xf->wbuf + xf->off), n };
        r = usb_link_writev(xf->link, v, 6, XF_DATA_TIMEOUT_MS, xf_write_on_data, xf);
        if (r < 0)
                return r;
        xf->writing++;
        xf->off += n;
        xf->timeout_ms = XF_DATA_TIMEOUT_MS;
        return xf_recv(xf, xf->st_buf, sizeof(xf->st_buf), xf_write_on_status);
}

/* ------------------------------------------------------------ SHUTDOWN */

int xflash_reboot(XFlash *xf, XFlashDone done, void *userdata) {
        int r = xf_begin(xf, XF_REBOOT, done, userdata);

        if (r < 0)
                return r;
        /* §13: penumbra's reboot form, 01 00 00 00 and six zero words */
        xflash_build_shutdown(xf->shutdown, true);
        xf->st[0] = xf->st[1] = 0;
        xs_send_u32(xf, XFLASH_CMD_SHUTDOWN, "SHUTDOWN");
        xs_status(xf, &xf->st[0], true, "SHUTDOWN");
        xs_send(xf, xf->shutdown, sizeof(xf->shutdown), "SHUTDOWN parameters");
        xs_status(xf, &xf->st[1], false, "SHUTDOWN parameters");
        return xf_run_first(xf, XF_TIMEOUT_MS);
}

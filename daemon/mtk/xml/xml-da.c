/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "xflash-packet.h"
#include "xml-da.h"

#define XD_TIMEOUT_MS 5000
/* DA1's first START comes after it brought the chip up, DA2's after BOOT-TO */
#define XD_START_TIMEOUT_MS 10000
/* NOTIFY-INIT-HW (DRAM) and WRITE-FLASH's pre-erase report progress; each
 * report may take this long */
#define XD_PROGRESS_TIMEOUT_MS 30000
/* a 1 MiB chunk of a slow eMMC */
#define XD_DATA_TIMEOUT_MS 10000
/* READ chunk buffers: one filling, one being handed over, one on the worker */
#define XD_READ_SLOTS 3
/* the DA's packet lengths; beyond this they are implausible (a read slot of that size is allocated) */
#define XD_PACKET_LEN_MAX (16u * 1024 * 1024)
/* the largest result (GET-HW-INFO, GET-SYS-PROPERTY) taken, and announced in its target_file (§5.1) */
#define XD_ANSWER_MAX 0x200000u
#define XD_SECTOR 512u

#define REMEDY_REPLUG "Unplug the phone and plug it in again to retry."
#define REMEDY_DA "Use the Download Agent from this phone's own firmware package (mtknvctl add-da FILE)."

typedef enum XdStep {
        XD_IDLE,
        XD_DA1_START,       /* DA1's first CMD:START after JUMP_DA */
        XD_RUNTIME,         /* SET-RUNTIME-PARAMETER */
        XD_HOST_CMDS1,      /* HOST-SUPPORTED-COMMANDS to DA1 */
        XD_INIT_HW1,        /* NOTIFY-INIT-HW to DA1 */
        XD_HOST_INFO,       /* SET-HOST-INFO */
        XD_BOOT_TO,         /* DA2 */
        XD_HOST_CMDS2,
        XD_INIT_HW2,
        XD_SLA,             /* GET-SYS-PROPERTY DA.SLA */
        XD_HW_INFO,
        XD_READ,
        XD_WRITE,
        XD_REBOOT,
        XD_DONE,
} XdStep;

/* What the next packet from the DA must be. */
typedef enum XdWait {
        XW_START,           /* CMD:START, after a command's END */
        XW_REPLY,           /* the command accepted: OK or ERR!UNSUPPORTED */
        XW_DOC,             /* the DA's next request, or its END */
        XW_UP_LENGTH,       /* UPLOAD-FILE: OK@<length> */
        XW_UP_OK,           /* UPLOAD-FILE: OK before a chunk */
        XW_UP_DATA,         /* UPLOAD-FILE: a chunk */
        XW_PROGRESS,        /* OK!PROGRESS@… or OK!EOT */
        XW_DN_LENGTH_ACK,   /* DOWNLOAD-FILE: OK after our OK@<length> */
        XW_DN_VALUE_ACK,    /* DOWNLOAD-FILE: OK after our OK@0x0 */
        XW_DN_DATA_ACK,     /* DOWNLOAD-FILE: OK after a chunk */
} XdWait;

typedef enum XdSink {
        XD_SINK_NONE,       /* the command uploads nothing */
        XD_SINK_ANSWER,     /* into the answer buffer */
        XD_SINK_DATA,       /* into the read slots, to the data callback */
} XdSink;

struct XmlDa {
        UsbLink *link;
        XdStep step;
        char detail[512];
        XmlDaReport report;
        XmlDaDone done;
        void *userdata;

        /* the command in progress */
        const char *cmd;
        char *doc_out;
        size_t doc_out_len;
        XdWait wait;
        bool unsupported;
        bool end_seen, end_ok;
        char end_message[XML_TEXT_MAX];
        bool no_start;            /* REBOOT: no CMD:START follows its END */
        bool complete;            /* the call's work is done; done runs once the line is quiet */
        int result;               /* what done gets then */
        unsigned n_progress;

        /* IN */
        XFlashRx rx;
        bool reading;
        unsigned writing;
        uint8_t in[XML_DOC_MAX + 1];

        /* UPLOAD-FILE (DA → host) */
        XdSink sink;
        uint64_t up_len, up_off;
        uint32_t up_packet;
        uint8_t *answer;
        size_t answer_size;

        /* DOWNLOAD-FILE (host → DA) */
        const uint8_t *dn_buf;
        uint64_t dn_len, dn_off;
        uint32_t dn_packet;
        size_t dn_chunk;
        bool dn_asked;            /* the DA asked for the data (DOWNLOAD-FILE came) */

        /* DA2 */
        const uint8_t *da2;
        size_t da2_len;
        uint64_t da2_addr;

        /* READ / WRITE */
        const char *region;
        uint64_t addr, len;
        XmlDaDataFunc data_cb;
        uint8_t *chunk[XD_READ_SLOTS];
        uint8_t *own_chunk[XD_READ_SLOTS];
        size_t own_size[XD_READ_SLOTS];
        size_t slot_size;
        bool held[XD_READ_SLOTS];
        unsigned slot;
        bool read_waiting;        /* the next chunk waits for its slot to be given back */
};

int xml_da_new(UsbLink *link, XmlDa **ret) {
        XmlDa *xd = calloc(1, sizeof(*xd));

        if (!xd)
                return -ENOMEM;
        xd->link = link;
        *ret = xd;
        return 0;
}

static bool xd_active(const XmlDa *xd) {
        return (xd->step != XD_IDLE && xd->step != XD_DONE) || xd->reading || xd->writing;
}

XmlDa *xml_da_free(XmlDa *xd) {
        if (!xd)
                return NULL;
        xd->done = NULL;
        /* what it had in flight must not call back into it once it is freed */
        if (xd->link && xd_active(xd))
                usb_link_forget(xd->link);
        for (unsigned k = 0; k < XD_READ_SLOTS; k++)
                free(xd->own_chunk[k]);
        free(xd->answer);
        free(xd->doc_out);
        free(xd);
        return NULL;
}

const XmlDaReport *xml_da_get_report(XmlDa *xd) {
        return &xd->report;
}

const char *xml_da_get_detail(XmlDa *xd) {
        return xd->detail;
}

void xml_da_cancel(XmlDa *xd) {
        if (xd_active(xd))
                usb_link_cancel(xd->link);
}

/* ------------------------------------------------------------ finishing */

static void xd_finish(XmlDa *xd, int r) {
        XmlDaDone done = xd->done;

        xd->step = XD_DONE;
        xd->done = NULL;
        if (done)
                done(xd, r, xd->userdata);
}

static bool xd_slots_held(const XmlDa *xd) {
        for (unsigned k = 0; k < XD_READ_SLOTS; k++)
                if (xd->held[k])
                        return true;
        return false;
}

/* A call that did its work ends once nothing of it is out on the line (so
 * that the caller may start the next one from done) and every chunk lent
 * to the consumer is back. */
static void xd_check_complete(XmlDa *xd) {
        if (xd->complete && xd->step != XD_DONE && !xd->reading && !xd->writing && !xd_slots_held(xd)) {
                xd->complete = false;
                xd_finish(xd, xd->result);
        }
}

static void xd_complete(XmlDa *xd) {
        xd->complete = true;
        xd->result = 0;
        xd_check_complete(xd);
}

static void xd_fail(XmlDa *xd, int r, const char *fmt, ...) _printf_(3, 4);
static void xd_fail(XmlDa *xd, int r, const char *fmt, ...) {
        va_list ap;

        if (xd->step == XD_DONE || xd->step == XD_IDLE)
                return;
        if (xd->reading || xd->writing)
                usb_link_cancel(xd->link);
        xd->complete = false;
        va_start(ap, fmt);
        vsnprintf(xd->detail, sizeof(xd->detail), fmt, ap);
        va_end(ap);
        xd_finish(xd, r);
}

/* A failure the DA itself reported, with the command's lifetime over and
 * the DA idle (its START acknowledged): nothing is cancelled, and done
 * runs once the last acknowledgement is out, so that the next call may
 * follow at once. */
static void xd_stop(XmlDa *xd, int r, const char *fmt, ...) _printf_(3, 4);
static void xd_stop(XmlDa *xd, int r, const char *fmt, ...) {
        va_list ap;

        if (xd->step == XD_DONE || xd->step == XD_IDLE)
                return;
        va_start(ap, fmt);
        vsnprintf(xd->detail, sizeof(xd->detail), fmt, ap);
        va_end(ap);
        xd->complete = true;
        xd->result = r;
        xd_check_complete(xd);
}

static const char *xd_errno_text(int r) {
        return r == -ENODEV ? "the phone disconnected" :
               r == -ETIMEDOUT ? "no answer (the phone stopped answering)" :
               r == -ECANCELED ? "cancelled" : strerror(-r);
}

/* What the DA said: its message, or that it gave none. */
static const char *xd_message(const XmlDa *xd) {
        return xd->end_message[0] ? xd->end_message : "no message";
}

/* ------------------------------------------------------------ the line */

static void xd_on_packet(XmlDa *xd, int r);

static void xd_on_bytes(UsbLink *link, int r, void *userdata) {
        XmlDa *xd = userdata;

        xd->reading = false;
        /* a cancelled call's read came back after all: not ours to continue with */
        if (xd->step == XD_DONE || xd->step == XD_IDLE)
                return;
        if (r >= 0) {
                r = xflash_rx_got(&xd->rx);
                if (r == 0) {
                        size_t n;
                        uint8_t *p = xflash_rx_want(&xd->rx, &n);

                        r = usb_link_read(xd->link, p, n, XD_DATA_TIMEOUT_MS, xd_on_bytes, xd);
                        if (r >= 0) {
                                xd->reading = true;
                                return;
                        }
                }
        }
        if (xd->rx.n_messages > 0 && r >= 0)
                log_debug("Skipped %u Download Agent log message%s.", xd->rx.n_messages,
                          xd->rx.n_messages == 1 ? "" : "s");
        xd_on_packet(xd, r < 0 ? r : 0);
}

/* One packet of at most max bytes into dest (§2.1: the XFlash header; the
 * DA's log messages are skipped on the way); xd_on_packet() takes it. */
static int xd_recv(XmlDa *xd, uint8_t *dest, size_t max, XdWait wait, unsigned timeout_ms) {
        size_t n;
        uint8_t *p;
        int r;

        xd->wait = wait;
        xflash_rx_begin(&xd->rx, dest, max);
        p = xflash_rx_want(&xd->rx, &n);
        r = usb_link_read(xd->link, p, n, timeout_ms, xd_on_bytes, xd);
        if (r >= 0)
                xd->reading = true;
        return r;
}

/* The next document or reply into the packet buffer. */
static int xd_recv_in(XmlDa *xd, XdWait wait, unsigned timeout_ms) {
        return xd_recv(xd, xd->in, XML_DOC_MAX, wait, timeout_ms);
}

static void xd_on_write(UsbLink *link, int r, void *userdata) {
        XmlDa *xd = userdata;

        xd->writing--;
        if (xd->step == XD_DONE || xd->step == XD_IDLE)
                return;
        /* REBOOT ended: a phone that left before our last OK reached it has rebooted */
        if (r == -ENODEV && xd->step == XD_REBOOT && xd->end_seen && xd->end_ok)
                r = 0;
        if (r < 0)
                return xd_fail(xd, r, "sending to the phone during %s: %s", xd->cmd, xd_errno_text(r));
        xd_check_complete(xd);
}

/* A packet: the header and the payload, each its own OUT transfer (§2.2).
 * Up to 64 bytes are copied by the link; longer payloads (documents, data)
 * stay valid until the DA answered them. */
static int xd_send(XmlDa *xd, const void *payload, size_t len, unsigned timeout_ms) {
        uint8_t hdr[XFLASH_HEADER_SIZE];
        UsbIovec v[2];
        int r;

        xflash_header_build(hdr, XFLASH_DT_PROTOCOL_FLOW, (uint32_t) len);
        v[0] = (UsbIovec) { hdr, sizeof(hdr) };
        v[1] = (UsbIovec) { (void *) payload, len };
        r = usb_link_writev(xd->link, v, 2, timeout_ms, xd_on_write, xd);
        if (r >= 0)
                xd->writing++;
        return r;
}

static int xd_send_ok(XmlDa *xd) {
        uint8_t b[XML_REPLY_MAX];

        return xd_send(xd, b, xml_build_ok(b), XD_TIMEOUT_MS);
}

static int xd_send_value(XmlDa *xd, uint64_t v) {
        uint8_t b[XML_REPLY_MAX];

        return xd_send(xd, b, xml_build_ok_value(b, v), XD_TIMEOUT_MS);
}

/* ------------------------------------------------------------ one command */

static void xd_reset_command(XmlDa *xd, const char *cmd) {
        xd->cmd = cmd;
        xd->unsupported = xd->end_seen = xd->end_ok = xd->no_start = false;
        xd->end_message[0] = 0;
        xd->n_progress = 0;
        xd->sink = XD_SINK_NONE;
        xd->up_len = xd->up_off = 0;
        xd->dn_buf = NULL;
        xd->dn_len = xd->dn_off = 0;
        xd->dn_asked = false;
}

/* §3.1: the command document (built by the caller: r its result, *doc
 * and *len read only here, after the builder ran); its acceptance is
 * read next. */
static int xd_command(XmlDa *xd, XdStep step, const char *cmd, int r, char **doc, const size_t *len) {
        if (r < 0)
                return r;
        free(xd->doc_out);
        xd->doc_out = TAKE_PTR(*doc);
        xd->doc_out_len = *len;
        xd->step = step;
        xd_reset_command(xd, cmd);
        r = xd_send(xd, xd->doc_out, xd->doc_out_len, XD_TIMEOUT_MS);
        if (r < 0)
                return r;
        return xd_recv_in(xd, XW_REPLY, XD_TIMEOUT_MS);
}

static void xd_on_command(XmlDa *xd);

/* The packet in xd->in: a document (1, *doc), a short reply (0, *reply),
 * or neither (< 0, the call has failed). */
static int xd_take(XmlDa *xd, XmlDoc *doc, XmlReply *reply) {
        char text[48];

        if (xml_payload_is_document(xd->in, xd->rx.len)) {
                if (xml_parse_doc(xd->in, xd->rx.len, doc) >= 0)
                        return 1;
                xd_fail(xd, -EPROTO, "the Download Agent sent a document mtknvd cannot read (not a well-formed <host> "
                        "document, or one without what its command needs) during %s. " REMEDY_REPLUG, xd->cmd);
                return -EPROTO;
        }
        if (xml_parse_reply(xd->in, xd->rx.len, reply) >= 0)
                return 0;
        xflash_payload_to_string(xd->in, MIN(xd->rx.len, (size_t) 32), text, sizeof(text));
        xd_fail(xd, -EPROTO, "the Download Agent sent %zu bytes that are neither a reply nor a document (\"%s\") "
                "during %s. " REMEDY_REPLUG, xd->rx.len, text, xd->cmd);
        return -EPROTO;
}

static const char *xd_wait_to_string(XdWait w) {
        switch (w) {
        case XW_START:         return "CMD:START";
        case XW_REPLY:         return "OK (the command accepted)";
        case XW_DOC:           return "its next request or CMD:END";
        case XW_UP_LENGTH:     return "the upload's length (OK@0x…)";
        case XW_UP_OK:         return "OK before a data chunk";
        case XW_UP_DATA:       return "a data chunk";
        case XW_PROGRESS:      return "a progress report (OK!PROGRESS@…, OK!EOT)";
        case XW_DN_LENGTH_ACK:
        case XW_DN_VALUE_ACK:
        case XW_DN_DATA_ACK:   return "OK (data taken)";
        }
        return "?";
}

static void xd_unexpected_reply(XmlDa *xd, const XmlReply *reply) {
        if (reply->kind == XML_REPLY_KIND_ERROR)
                return xd_fail(xd, -EIO, "the Download Agent answered \"%s\" during %s, where %s belongs. "
                               REMEDY_REPLUG, reply->text, xd->cmd, xd_wait_to_string(xd->wait));
        xd_fail(xd, -EPROTO, "the Download Agent sent an unexpected short reply during %s, where %s belongs. "
                REMEDY_REPLUG, xd->cmd, xd_wait_to_string(xd->wait));
}

/* ------------------------------------------------------------ the DA's requests (§3.2) */

static int xd_read_next(XmlDa *xd);

static void xd_on_doc(XmlDa *xd, const XmlDoc *doc) {
        uint8_t b[XML_REPLY_MAX];
        int r = 0;

        switch (doc->kind) {
        case XML_DOC_END:
                xd->end_seen = true;
                xd->end_ok = doc->result_ok;
                memcpy(xd->end_message, doc->message, sizeof(xd->end_message));
                r = xd_send_ok(xd);
                if (r >= 0 && xd->no_start) {
                        /* REBOOT: the phone goes; nothing follows */
                        return xd_on_command(xd);
                }
                /* §3.1: START is read and acknowledged at the end of each command */
                if (r >= 0)
                        r = xd_recv_in(xd, XW_START, xd->step == XD_BOOT_TO ? XD_START_TIMEOUT_MS : XD_TIMEOUT_MS);
                break;

        case XML_DOC_UPLOAD_FILE:
                if (xd->sink == XD_SINK_NONE)
                        return xd_fail(xd, -EPROTO, "the Download Agent offers data (CMD:UPLOAD-FILE) during %s, "
                                       "which uploads nothing. " REMEDY_REPLUG, xd->cmd);
                if (doc->packet_length > XD_PACKET_LEN_MAX)
                        return xd_fail(xd, -EPROTO, "the Download Agent asks for %u-byte packets, more than the %u "
                                       "mtknvd allows. " REMEDY_REPLUG, doc->packet_length, XD_PACKET_LEN_MAX);
                xd->up_packet = doc->packet_length;
                r = xd_send_ok(xd);
                if (r >= 0)
                        r = xd_recv_in(xd, XW_UP_LENGTH, XD_TIMEOUT_MS);
                break;

        case XML_DOC_DOWNLOAD_FILE:
                if (!xd->dn_buf)
                        return xd_fail(xd, -EPROTO, "the Download Agent asks for data (CMD:DOWNLOAD-FILE) during %s, "
                                       "which sends none. " REMEDY_REPLUG, xd->cmd);
                if (doc->packet_length > XD_PACKET_LEN_MAX)
                        return xd_fail(xd, -EPROTO, "the Download Agent asks for %u-byte packets, more than the %u "
                                       "mtknvd allows. " REMEDY_REPLUG, doc->packet_length, XD_PACKET_LEN_MAX);
                if (streq(doc->checksum, XML_CHECKSUM_ADD))
                        log_info("The Download Agent asks for checksums on %s although SET-RUNTIME-PARAMETER said "
                                 "NONE; sending none.", xd->cmd);
                xd->dn_packet = doc->packet_length;
                xd->dn_off = 0;
                xd->dn_asked = true;
                r = xd_send_ok(xd);
                if (r >= 0)
                        r = xd_send_value(xd, xd->dn_len);
                if (r >= 0)
                        r = xd_recv_in(xd, XW_DN_LENGTH_ACK, XD_TIMEOUT_MS);
                break;

        case XML_DOC_FILE_SYS_OPERATION:
                /* §5.4: the DA asks how much the host is about to send */
                if (!streq(doc->key, XML_FS_FILE_SIZE) || !xd->dn_buf)
                        return xd_fail(xd, -EPROTO, "the Download Agent asks the host's file system for %s of \"%s\" "
                                       "during %s, which mtknvd does not answer. " REMEDY_REPLUG, doc->key, doc->file,
                                       xd->cmd);
                r = xd_send_ok(xd);
                if (r >= 0)
                        r = xd_send(xd, b, xml_build_ok_value(b, xd->dn_len), XD_TIMEOUT_MS);
                /* no DA ack follows the answer (§3.2) */
                if (r >= 0)
                        r = xd_recv_in(xd, XW_DOC, XD_TIMEOUT_MS);
                break;

        case XML_DOC_PROGRESS_REPORT:
                log_debug("The Download Agent reports progress on %s (%s).", xd->cmd, doc->message);
                r = xd_send_ok(xd);
                if (r >= 0)
                        r = xd_recv_in(xd, XW_PROGRESS, XD_PROGRESS_TIMEOUT_MS);
                break;

        case XML_DOC_START:
                return xd_fail(xd, -EPROTO, "the Download Agent went back to idle (CMD:START) without ending %s "
                               "(CMD:END). " REMEDY_REPLUG, xd->cmd);
        case XML_DOC_OTHER:
                return xd_fail(xd, -EPROTO, "the Download Agent sent %s during %s, a request mtknvd does not know. "
                               REMEDY_REPLUG, doc->command, xd->cmd);
        }
        if (r < 0)
                xd_fail(xd, r, "during %s: %s", xd->cmd, xd_errno_text(r));
}

/* UPLOAD-FILE's chunk: the DA's OK was acknowledged; the chunk is read next. */
static int xd_up_chunk(XmlDa *xd) {
        size_t want = (size_t) MIN(xd->up_len - xd->up_off, (uint64_t) xd->up_packet);
        int r = xd_send_ok(xd);

        if (r < 0)
                return r;
        if (xd->sink == XD_SINK_ANSWER)
                return xd_recv(xd, xd->answer + xd->up_off, want, XW_UP_DATA, XD_DATA_TIMEOUT_MS);
        return xd_recv(xd, xd->chunk[xd->slot], want, XW_UP_DATA, XD_DATA_TIMEOUT_MS);
}

static int xd_up_length(XmlDa *xd, const XmlReply *reply) {
        int r;

        if (!reply->has_value) {
                xd_fail(xd, -EPROTO, "the Download Agent announced an upload of \"%s\" bytes during %s. "
                        REMEDY_REPLUG, reply->text, xd->cmd);
                return 0;
        }
        xd->up_len = reply->value;
        xd->up_off = 0;
        if (xd->sink == XD_SINK_ANSWER) {
                uint8_t *b;

                if (xd->up_len > XD_ANSWER_MAX) {
                        xd_fail(xd, -EPROTO, "the Download Agent answers %s with %" PRIu64 " bytes, more than the "
                                "%u mtknvd asked for. " REMEDY_REPLUG, xd->cmd, xd->up_len, XD_ANSWER_MAX);
                        return 0;
                }
                b = realloc(xd->answer, (size_t) xd->up_len + 1);
                if (!b)
                        return -ENOMEM;
                xd->answer = b;
                xd->answer_size = (size_t) xd->up_len;
        } else if (xd->up_len != xd->len) {
                xd_fail(xd, -EPROTO, "the Download Agent announced %" PRIu64 " bytes for a read of %" PRIu64 " "
                        "(%s at 0x%" PRIx64 "). " REMEDY_REPLUG, xd->up_len, xd->len, xd->region, xd->addr);
                return 0;
        } else if (xd->up_packet > xd->slot_size) {
                /* the slots are sized by the DA's packet length of this read */
                for (unsigned k = 0; k < XD_READ_SLOTS; k++) {
                        if (xd->held[k])
                                return -EBUSY;
                        xd->chunk[k] = usb_link_get_buffer(xd->link, k, xd->up_packet);
                        if (xd->chunk[k])
                                continue;
                        if (xd->own_size[k] < xd->up_packet) {
                                uint8_t *b = realloc(xd->own_chunk[k], xd->up_packet);

                                if (!b)
                                        return -ENOMEM;
                                xd->own_chunk[k] = b;
                                xd->own_size[k] = xd->up_packet;
                        }
                        xd->chunk[k] = xd->own_chunk[k];
                }
                xd->slot_size = xd->up_packet;
        }
        r = xd_send_ok(xd);
        if (r < 0)
                return r;
        return xd_recv_in(xd, xd->up_len == 0 ? XW_DOC : XW_UP_OK, XD_TIMEOUT_MS);
}

/* A chunk is in: acknowledged, the DA's next OK (or END) read, and only
 * then handed on, so that storing it overlaps the DA's next chunk; the
 * protocol allows no more (the DA sends the next chunk only after our OK). */
static void xd_on_chunk(XmlDa *xd) {
        unsigned k = xd->slot;
        size_t n = xd->rx.len;
        int r;

        if (n == 0)
                return xd_fail(xd, -EPROTO, "the Download Agent sent an empty data chunk during %s. " REMEDY_REPLUG,
                               xd->cmd);
        /* a DA that gives up mid-transfer sends its END where a chunk belongs */
        if (xd->up_off + n < xd->up_len && n < xd->up_packet && xml_payload_is_document(
                    xd->sink == XD_SINK_ANSWER ? xd->answer + xd->up_off : xd->chunk[k], n)) {
                XmlDoc doc;

                if (xml_parse_doc(xd->sink == XD_SINK_ANSWER ? xd->answer + xd->up_off : xd->chunk[k], n, &doc) >= 0 &&
                    doc.kind == XML_DOC_END)
                        return xd_on_doc(xd, &doc);
        }
        xd->up_off += n;
        r = xd_send_ok(xd);
        if (r >= 0)
                r = xd_recv_in(xd, xd->up_off < xd->up_len ? XW_UP_OK : XW_DOC, XD_TIMEOUT_MS);
        if (r < 0)
                return xd_fail(xd, r, "reading %s at 0x%" PRIx64 ": %s", xd->cmd, xd->addr + xd->up_off,
                               xd_errno_text(r));
        if (xd->sink != XD_SINK_DATA)
                return;
        xd->slot = (xd->slot + 1) % XD_READ_SLOTS;
        if (xd->data_cb) {
                r = xd->data_cb(xd, xd->chunk[k], n, xd->userdata);
                if (r == XML_DA_DATA_HELD)
                        xd->held[k] = true;
                else if (r < 0)
                        /* the consumer (cancel, disk full) ends the read; the DA
                         * is left mid-transfer, so the session is over */
                        return xd_fail(xd, r, "the read was stopped: %s", strerror(-r));
        }
}

static int xd_read_next(XmlDa *xd) {
        if (xd->sink == XD_SINK_DATA && xd->held[xd->slot]) {
                /* the disk is slower than the line: the DA waits for our OK */
                xd->read_waiting = true;
                return 0;
        }
        return xd_up_chunk(xd);
}

static int xd_dn_chunk(XmlDa *xd) {
        int r;

        xd->dn_chunk = (size_t) MIN(xd->dn_len - xd->dn_off, (uint64_t) xd->dn_packet);
        r = xd_send(xd, xd->dn_buf + xd->dn_off, xd->dn_chunk, XD_DATA_TIMEOUT_MS);
        if (r < 0)
                return r;
        return xd_recv_in(xd, XW_DN_DATA_ACK, XD_DATA_TIMEOUT_MS);
}

static void xd_on_packet(XmlDa *xd, int r) {
        XmlDoc doc;
        XmlReply reply;
        int k;

        if (xd->step == XD_DONE || xd->step == XD_IDLE)
                return;
        /* REBOOT accepted: a phone that leaves before its END has rebooted */
        if (r == -ENODEV && xd->step == XD_REBOOT && xd->wait == XW_DOC) {
                log_info("The phone left the bus after accepting REBOOT.");
                xd->step = XD_DONE;
                return xd_finish(xd, 0);
        }
        if (r == -EMSGSIZE)
                return xd_fail(xd, -EPROTO, "the Download Agent sent a %zu-byte packet where %s belongs (during %s). "
                               REMEDY_REPLUG, xd->rx.len, xd_wait_to_string(xd->wait), xd->cmd);
        if (r == -EBADMSG || r == -EPROTO)
                return xd_fail(xd, -EPROTO, "the Download Agent's answer to %s is not a packet (bad header). "
                               REMEDY_REPLUG, xd->cmd);
        if (r < 0)
                return xd_fail(xd, r, "waiting for %s during %s: %s", xd_wait_to_string(xd->wait), xd->cmd,
                               xd_errno_text(r));
        if (xd->wait == XW_UP_DATA)
                return xd_on_chunk(xd);

        k = xd_take(xd, &doc, &reply);
        if (k < 0)
                return;
        if (k == 1) {
                if (xd->wait == XW_START) {
                        if (doc.kind != XML_DOC_START)
                                return xd_fail(xd, -EPROTO, "the Download Agent sent %s where CMD:START belongs "
                                               "(after %s). " REMEDY_REPLUG, doc.command, xd->cmd);
                        r = xd_send_ok(xd);
                        if (r < 0)
                                return xd_fail(xd, r, "acknowledging CMD:START: %s", xd_errno_text(r));
                        return xd_on_command(xd);
                }
                /* a request, or an END where a reply belongs (§7: the DA's way to refuse mid-dialogue) */
                return xd_on_doc(xd, &doc);
        }

        switch (xd->wait) {
        case XW_REPLY:
                if (reply.kind == XML_REPLY_KIND_UNSUPPORTED)
                        xd->unsupported = true; /* §3.3: END (ERR) and START follow */
                else if (reply.kind != XML_REPLY_KIND_OK)
                        return xd_unexpected_reply(xd, &reply);
                r = xd_recv_in(xd, XW_DOC, xd->step == XD_INIT_HW1 || xd->step == XD_INIT_HW2 ?
                                                   XD_PROGRESS_TIMEOUT_MS : XD_TIMEOUT_MS);
                break;
        case XW_UP_LENGTH:
                if (reply.kind != XML_REPLY_KIND_VALUE)
                        return xd_unexpected_reply(xd, &reply);
                r = xd_up_length(xd, &reply);
                break;
        case XW_UP_OK:
                if (reply.kind != XML_REPLY_KIND_OK)
                        return xd_unexpected_reply(xd, &reply);
                r = xd_read_next(xd);
                break;
        case XW_PROGRESS:
                if (reply.kind == XML_REPLY_KIND_PROGRESS) {
                        if (xd->n_progress++ == 0 || reply.percent >= 100)
                                log_debug("%s: %u%% %s", xd->cmd, reply.percent, reply.text);
                        r = xd_send_ok(xd);
                        if (r >= 0)
                                r = xd_recv_in(xd, XW_PROGRESS, XD_PROGRESS_TIMEOUT_MS);
                } else if (reply.kind == XML_REPLY_KIND_EOT) {
                        r = xd_send_ok(xd);
                        if (r >= 0)
                                r = xd_recv_in(xd, XW_DOC, XD_PROGRESS_TIMEOUT_MS);
                } else
                        return xd_unexpected_reply(xd, &reply);
                break;
        case XW_DN_LENGTH_ACK:
                if (reply.kind != XML_REPLY_KIND_OK)
                        return xd_unexpected_reply(xd, &reply);
                if (xd->dn_len == 0) {
                        r = xd_recv_in(xd, XW_DOC, XD_TIMEOUT_MS);
                        break;
                }
                /* per chunk OK@0x0 (no checksum, §3.2), then the chunk */
                r = xd_send_value(xd, 0);
                if (r >= 0)
                        r = xd_recv_in(xd, XW_DN_VALUE_ACK, XD_TIMEOUT_MS);
                break;
        case XW_DN_VALUE_ACK:
                if (reply.kind != XML_REPLY_KIND_OK)
                        return xd_unexpected_reply(xd, &reply);
                r = xd_dn_chunk(xd);
                break;
        case XW_DN_DATA_ACK:
                if (reply.kind != XML_REPLY_KIND_OK)
                        return xd_unexpected_reply(xd, &reply);
                xd->dn_off += xd->dn_chunk;
                if (xd->dn_off < xd->dn_len) {
                        r = xd_send_value(xd, 0);
                        if (r >= 0)
                                r = xd_recv_in(xd, XW_DN_VALUE_ACK, XD_TIMEOUT_MS);
                } else
                        /* the write's END comes after the DA stored it all */
                        r = xd_recv_in(xd, XW_DOC, XD_PROGRESS_TIMEOUT_MS);
                break;
        case XW_START:
        case XW_DOC:
        case XW_UP_DATA:
                return xd_unexpected_reply(xd, &reply);
        }
        if (r < 0)
                xd_fail(xd, r, "during %s: %s", xd->cmd, xd_errno_text(r));
}

void xml_da_release(XmlDa *xd, const uint8_t *data) {
        int r;

        for (unsigned k = 0; k < XD_READ_SLOTS; k++) {
                if (!xd->held[k] || xd->chunk[k] != data)
                        continue;
                xd->held[k] = false;
                if (xd->step != XD_READ)
                        return;
                if (xd->read_waiting && xd->slot == k) {
                        xd->read_waiting = false;
                        r = xd_up_chunk(xd);
                        if (r < 0)
                                return xd_fail(xd, r, "reading %s at 0x%" PRIx64 ": %s", xd->region,
                                               xd->addr + xd->up_off, xd_errno_text(r));
                }
                return xd_check_complete(xd);
        }
}

/* ------------------------------------------------------------ the calls */

static int xd_begin(XmlDa *xd, XmlDaDone done, void *userdata) {
        /* a failed call's cancelled transfers may still be coming back */
        if (xd_active(xd))
                return -EBUSY;
        if (usb_link_is_gone(xd->link))
                return -ENODEV;
        xd->detail[0] = 0;
        xd->complete = false;
        xd->done = done;
        xd->userdata = userdata;
        return 0;
}

/* The first I/O of a call failed: it is returned, done never runs. */
static int xd_first(XmlDa *xd, int r) {
        if (r < 0) {
                if (xd->reading || xd->writing)
                        usb_link_cancel(xd->link);
                xd->step = XD_IDLE;
                xd->done = NULL;
        }
        return r;
}

int xml_da_start(XmlDa *xd, const uint8_t *da2, size_t da2_len, uint64_t da2_addr, XmlDaDone done, void *userdata) {
        int r;

        if (da2_len == 0 || da2_len > UINT32_MAX)
                return -EINVAL;
        r = xd_begin(xd, done, userdata);
        if (r < 0)
                return r;
        xd->da2 = da2;
        xd->da2_len = da2_len;
        xd->da2_addr = da2_addr;
        xd->report = (XmlDaReport) {};
        xd->step = XD_DA1_START;
        xd_reset_command(xd, "DA1's start");
        /* §4.2: no C0 byte for V6; DA1's first output is a header and CMD:START */
        return xd_first(xd, xd_recv_in(xd, XW_START, XD_START_TIMEOUT_MS));
}

static int xd_host_info(XmlDa *xd) {
        char *doc = NULL, info[32];
        size_t len = 0;
        struct tm tm;
        time_t t = time(NULL);

        /* §4.4 row 5: the host's local time */
        if (!localtime_r(&t, &tm) || strftime(info, sizeof(info), "%Y%m%dT%H%M%S", &tm) == 0)
                snprintf(info, sizeof(info), "19700101T000000");
        return xd_command(xd, XD_HOST_INFO, XML_CMD_SET_HOST_INFO, xml_build_set_host_info(info, &doc, &len),
                          &doc, &len);
}

static int xd_boot_to(XmlDa *xd) {
        char *doc = NULL;
        size_t len = 0;
        int r;

        r = xd_command(xd, XD_BOOT_TO, XML_CMD_BOOT_TO, xml_build_boot_to(xd->da2_addr, xd->da2_len, &doc, &len),
                       &doc, &len);
        /* §4.4 row 6: DA1 asks for DA2 with DOWNLOAD-FILE */
        xd->dn_buf = xd->da2;
        xd->dn_len = xd->da2_len;
        return r;
}

static int xd_answer_command(XmlDa *xd, XdStep step, const char *cmd, int r, char **doc, const size_t *len) {
        r = xd_command(xd, step, cmd, r, doc, len);
        xd->sink = XD_SINK_ANSWER;
        return r;
}

/* A command the start cannot do without: unsupported or refused ends it. */
static bool xd_required(XmlDa *xd, const char *what) {
        if (xd->unsupported) {
                xd_stop(xd, -EOPNOTSUPP, "the Download Agent does not support %s (%s), which mtknvd needs. " REMEDY_DA,
                        xd->cmd, what);
                return false;
        }
        if (!xd->end_ok) {
                xd_stop(xd, -EIO, "the Download Agent refused %s (%s): %s. " REMEDY_REPLUG " If it persists, "
                        REMEDY_DA, xd->cmd, what, xd_message(xd));
                return false;
        }
        return true;
}

/* A command whose refusal is only logged. */
static void xd_optional(XmlDa *xd) {
        if (xd->unsupported)
                log_debug("The Download Agent does not support %s; continuing.", xd->cmd);
        else if (!xd->end_ok)
                log_info("The Download Agent refused %s (%s); continuing.", xd->cmd, xd_message(xd));
}

/* The end of a command as the DA saw it: the result is in xd->end_*. */
static bool xd_data_ok(XmlDa *xd, const char *what) {
        int r = -EIO;

        if (xd->unsupported) {
                xd_stop(xd, -EOPNOTSUPP, "the Download Agent does not support %s, which mtknvd needs to %s. "
                        REMEDY_DA, xd->cmd, what);
                return false;
        }
        if (!xd->end_ok) {
                /* §3.5: no status words, only the DA's text; a checksum complaint is the line's fault */
                if (strcasestr(xd->end_message, "checksum"))
                        r = -EBADMSG;
                xd_stop(xd, r, "the Download Agent refused to %s %s 0x%" PRIx64 "+0x%" PRIx64 ": %s. %s", what,
                        xd->region, xd->addr, xd->len, xd_message(xd),
                        r == -EBADMSG ? "Data was corrupted on the USB line; try another cable or port and retry." :
                                        "The range may lie outside the region, or the storage failed; " REMEDY_REPLUG);
                return false;
        }
        return true;
}

static void xd_log_storage(XmlDa *xd) {
        const XmlHwInfo *h = &xd->report.hw;

        if (h->emmc)
                log_info("XML DA2 storage: eMMC, user area %" PRIu64 " MiB, boot areas %" PRIu64 "/%" PRIu64 " KiB.",
                         h->user_size >> 20, h->boot1_size >> 10, h->boot2_size >> 10);
        else if (h->ufs)
                log_info("XML DA2 storage: UFS, LU2 %" PRIu64 " MiB, block size %u.", h->lu_size[2] >> 20,
                         h->block_size);
}

static void xd_on_command(XmlDa *xd) {
        char *doc = NULL, value[sizeof(xd->report.sla)];
        size_t len = 0;
        int r = 0;

        switch (xd->step) {
        case XD_DA1_START:
                r = xd_command(xd, XD_RUNTIME, XML_CMD_SET_RUNTIME_PARAMETER,
                               xml_build_set_runtime_parameter(&doc, &len), &doc, &len);
                break;

        case XD_RUNTIME:
                if (!xd_required(xd, "the session's parameters"))
                        return;
                r = xd_command(xd, XD_HOST_CMDS1, XML_CMD_HOST_SUPPORTED_COMMANDS,
                               xml_build_host_supported_commands(&doc, &len), &doc, &len);
                break;

        case XD_HOST_CMDS1:
                /* §4.4 row 3: a DA without it is fine */
                xd_optional(xd);
                r = xd_command(xd, XD_INIT_HW1, XML_CMD_NOTIFY_INIT_HW, xml_build_notify_init_hw(&doc, &len),
                               &doc, &len);
                break;

        case XD_INIT_HW1:
                if (!xd_required(xd, "DA1's hardware and DRAM set-up"))
                        return;
                r = xd_host_info(xd);
                break;

        case XD_HOST_INFO:
                xd_optional(xd);
                r = xd_boot_to(xd);
                break;

        case XD_BOOT_TO:
                if (xd->unsupported)
                        return xd_stop(xd, -EOPNOTSUPP, "the Download Agent's first stage does not support "
                                       "CMD:BOOT-TO, so its second stage cannot be started. " REMEDY_DA);
                if (!xd->end_ok)
                        return xd_stop(xd, -EIO, "the Download Agent's first stage refused its second stage (DA2): "
                                       "%s. The DA file's second stage does not match its first (the file is damaged "
                                       "or mixed from two builds), or the phone accepts only its own vendor's DA. "
                                       REMEDY_DA, xd_message(xd));
                if (!xd->dn_asked || xd->dn_off < xd->dn_len)
                        return xd_stop(xd, -EPROTO, "the Download Agent ended CMD:BOOT-TO after taking %" PRIu64 " of "
                                       "the %zu bytes of its second stage. " REMEDY_REPLUG, xd->dn_off, xd->da2_len);
                log_info("XML DA2 started (%zu bytes at 0x%" PRIx64 ").", xd->da2_len, xd->da2_addr);
                r = xd_command(xd, XD_HOST_CMDS2, XML_CMD_HOST_SUPPORTED_COMMANDS,
                               xml_build_host_supported_commands(&doc, &len), &doc, &len);
                break;

        case XD_HOST_CMDS2:
                /* §4.1: the real DA2 has no HOST-SUPPORTED-COMMANDS (3.3 answers it) */
                xd_optional(xd);
                r = xd_command(xd, XD_INIT_HW2, XML_CMD_NOTIFY_INIT_HW, xml_build_notify_init_hw(&doc, &len),
                               &doc, &len);
                break;

        case XD_INIT_HW2:
                if (!xd->unsupported && !xd_required(xd, "DA2's hardware set-up"))
                        return;
                xd_optional(xd);
                r = xd_answer_command(xd, XD_SLA, XML_CMD_GET_SYS_PROPERTY,
                                      xml_build_get_sys_property(XML_SYS_PROP_DA_SLA, XD_ANSWER_MAX, &doc, &len),
                                      &doc, &len);
                break;

        case XD_SLA:
                if (xd->unsupported || !xd->end_ok || xd->up_len == 0) {
                        xd_optional(xd);
                        log_info("The Download Agent does not tell whether it requires SLA; assuming it does not.");
                } else {
                        xd->answer[xd->up_off] = 0;
                        r = xml_parse_sys_prop(xd->answer, (size_t) xd->up_off, XML_SYS_PROP_DA_SLA, value,
                                               sizeof(value));
                        if (r == -ENAMETOOLONG || r == -EBADMSG)
                                return xd_stop(xd, -EPROTO, "the Download Agent's answer to GET-SYS-PROPERTY DA.SLA "
                                               "is not a sys_prop document with a short value. " REMEDY_REPLUG);
                        if (r >= 0)
                                memcpy(xd->report.sla, value, sizeof(value));
                        /* §5.5: anything but DISABLED means DA2 waits for the signed answer to its challenge */
                        if (r >= 0 && !streq(value, XML_SLA_DISABLED))
                                return xd_stop(xd, -EACCES, "DA2's property DA.SLA is \"%s\": it accepts commands only "
                                               "after a challenge signed with the manufacturer's key, which only the "
                                               "OEM's authorised service tool has", value);
                }
                r = xd_answer_command(xd, XD_HW_INFO, XML_CMD_GET_HW_INFO,
                                      xml_build_get_hw_info(XD_ANSWER_MAX, &doc, &len), &doc, &len);
                break;

        case XD_HW_INFO:
                if (!xd_required(xd, "what storage the phone has"))
                        return;
                if (xd->up_len == 0)
                        return xd_stop(xd, -EPROTO, "the Download Agent answered CMD:GET-HW-INFO with no data. "
                                       REMEDY_REPLUG);
                xd->answer[xd->up_off] = 0;
                if (xml_parse_hw_info(xd->answer, (size_t) xd->up_off, &xd->report.hw) < 0)
                        return xd_stop(xd, -EPROTO, "the Download Agent's answer to CMD:GET-HW-INFO is not a "
                                       "da_hw_info document mtknvd can read (no storage, or sizes that are no "
                                       "numbers). " REMEDY_REPLUG " If it persists, please report it.");
                if (!xd->report.hw.emmc && !xd->report.hw.ufs)
                        return xd_stop(xd, -EOPNOTSUPP, "the Download Agent reports %s storage; mtknvd backs up "
                                       "eMMC and UFS phones only", xd->report.hw.storage);
                if (xd->report.hw.id_len == 0)
                        log_warning("The Download Agent names no storage id; the backup is bound to the phone's "
                                    "ME ID only.");
                xd_log_storage(xd);
                return xd_complete(xd);

        case XD_READ:
                if (!xd_data_ok(xd, "read"))
                        return;
                if (xd->up_off != xd->len)
                        return xd_stop(xd, -EPROTO, "the Download Agent ended the read of %s at 0x%" PRIx64 " after "
                                       "%" PRIu64 " of %" PRIu64 " bytes. " REMEDY_REPLUG, xd->region, xd->addr,
                                       xd->up_off, xd->len);
                return xd_complete(xd);

        case XD_WRITE:
                if (!xd_data_ok(xd, "write"))
                        return;
                if (!xd->dn_asked || xd->dn_off != xd->len)
                        return xd_stop(xd, -EPROTO, "the Download Agent ended the write of %s at 0x%" PRIx64 " after "
                                       "taking %" PRIu64 " of %" PRIu64 " bytes. " REMEDY_REPLUG, xd->region,
                                       xd->addr, xd->dn_off, xd->len);
                return xd_complete(xd);

        case XD_REBOOT:
                if (!xd_required(xd, "to reboot the phone"))
                        return;
                return xd_complete(xd);

        case XD_IDLE:
        case XD_DONE:
                return;
        }
        if (r < 0)
                xd_fail(xd, r, "cannot continue after %s: %s", xd->cmd, xd_errno_text(r));
}

int xml_da_read(XmlDa *xd, const char *region, uint64_t addr, uint64_t len, XmlDaDataFunc data, XmlDaDone done,
                void *userdata) {
        char *doc = NULL;
        size_t n = 0;
        int r;

        if (!region || len == 0 || addr + len < addr)
                return -EINVAL;
        r = xd_begin(xd, done, userdata);
        if (r < 0)
                return r;
        xd->region = region;
        xd->addr = addr;
        xd->len = len;
        xd->data_cb = data;
        xd->slot = 0;
        xd->read_waiting = false;
        /* a new read takes every slot back; they are sized when the DA names its packet length */
        for (unsigned k = 0; k < XD_READ_SLOTS; k++)
                xd->held[k] = false;
        xd->slot_size = 0;
        r = xd_command(xd, XD_READ, XML_CMD_READ_FLASH, xml_build_read_flash(region, addr, len, &doc, &n), &doc, &n);
        xd->sink = XD_SINK_DATA;
        return xd_first(xd, r);
}

int xml_da_write(XmlDa *xd, const char *region, uint64_t addr, const uint8_t *buf, uint64_t len, XmlDaDone done,
                 void *userdata) {
        char *doc = NULL;
        size_t n = 0;
        int r;

        if (!region || !buf || len == 0 || len % XD_SECTOR || addr % XD_SECTOR || addr + len < addr)
                return -EINVAL;
        r = xd_begin(xd, done, userdata);
        if (r < 0)
                return r;
        xd->region = region;
        xd->addr = addr;
        xd->len = len;
        r = xd_command(xd, XD_WRITE, XML_CMD_WRITE_FLASH, xml_build_write_flash(region, addr, len, &doc, &n), &doc, &n);
        /* §5.4: FILE-SIZE, progress, DOWNLOAD-FILE of buf */
        xd->dn_buf = buf;
        xd->dn_len = len;
        return xd_first(xd, r);
}

int xml_da_reboot(XmlDa *xd, XmlDaDone done, void *userdata) {
        char *doc = NULL;
        size_t n = 0;
        int r;

        r = xd_begin(xd, done, userdata);
        if (r < 0)
                return r;
        r = xd_command(xd, XD_REBOOT, XML_CMD_REBOOT, xml_build_reboot(XML_REBOOT_IMMEDIATE, &doc, &n), &doc, &n);
        /* §5.5: OK, END, then the phone reboots: no START follows */
        xd->no_start = true;
        return xd_first(xd, r);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XML (V6) state machine (xml-da.c) against a scripted Download Agent:
 * this file supplies the UsbLink functions xml-da.c uses, so the archive's
 * real transport is never linked in.  The script is the exchange of
 * xml-da.md §3-§6 step by step: what the DA sends, and what the host must
 * send next (checked packet by packet).  Callbacks run from pump(), never
 * from inside the call that queued them, as the event loop would.
 */
#include <stdlib.h>

#include "macro.h"
#include "tap.h"
#include "usb-transport.h"
#include "xflash-packet.h"
#include "xml-da.h"

#define P "<?xml version=\"1.0\" encoding=\"utf-8\"?>"

/* ------------------------------------------------------------ the fake link */

typedef enum StepKind {
        DA_SEND,          /* the DA sends a packet */
        HOST_DOC,         /* the host must send a document with this command */
        HOST_OK,          /* "OK" */
        HOST_VALUE,       /* OK@<value> */
        HOST_DATA,        /* len bytes of data, kept */
        DA_GONE,          /* the phone leaves */
} StepKind;

typedef struct Step {
        StepKind kind;
        char *text;       /* DA_SEND payload (with its NUL), HOST_DOC command */
        char *also;       /* HOST_DOC: text the document must also have */
        size_t len;
        uint64_t value;
} Step;

#define STEPS_MAX 4096
#define IN_MAX (8u * 1024 * 1024)

struct UsbLink {
        Step steps[STEPS_MAX];
        unsigned n_steps, cur;
        /* DA → host bytes not read yet */
        uint8_t *in;
        size_t in_len, in_off;
        /* host → DA bytes not judged yet */
        uint8_t *out;
        size_t out_len;
        /* the pending read */
        uint8_t *rbuf;
        size_t rlen;
        UsbLinkDone rcb;
        void *rud;
        /* pending write callbacks */
        UsbLinkDone wcb[16];
        void *wud[16];
        bool wcancel[16];
        unsigned n_w;
        bool gone, rcancel;
        char error[256];          /* the first host packet that was not the script's */
        uint8_t *host_data;       /* HOST_DATA kept here */
        size_t host_data_len;
        uint8_t *bufs[USB_LINK_BUFFERS];
};

int usb_link_read(UsbLink *link, void *buf, size_t n, unsigned timeout_ms, UsbLinkDone cb, void *userdata) {
        if (link->gone)
                return -ENODEV;
        if (link->rcb)
                return -EBUSY;
        link->rbuf = buf;
        link->rlen = n;
        link->rcb = cb;
        link->rud = userdata;
        link->rcancel = false;
        return 0;
}

int usb_link_writev(UsbLink *link, const UsbIovec *iov, size_t n_iov, unsigned timeout_ms, UsbLinkDone cb,
                    void *userdata) {
        if (link->gone)
                return -ENODEV;
        if (link->n_w >= ELEMENTSOF(link->wcb))
                return -EBUSY;
        for (size_t i = 0; i < n_iov; i++) {
                link->out = realloc(link->out, link->out_len + iov[i].len);
                memcpy(link->out + link->out_len, iov[i].base, iov[i].len);
                link->out_len += iov[i].len;
        }
        link->wcb[link->n_w] = cb;
        link->wcancel[link->n_w] = false;
        link->wud[link->n_w++] = userdata;
        return 0;
}

/* what is out now ends with -ECANCELED; what comes later does not */
void usb_link_cancel(UsbLink *link) {
        link->rcancel = link->rcb != NULL;
        for (unsigned i = 0; i < link->n_w; i++)
                link->wcancel[i] = true;
}

void usb_link_forget(UsbLink *link) {
        link->rcb = NULL;
        link->n_w = 0;
}

bool usb_link_is_gone(UsbLink *link) {
        return link->gone;
}

uint8_t *usb_link_get_buffer(UsbLink *link, unsigned index, size_t size) {
        if (index >= USB_LINK_BUFFERS)
                return NULL;
        link->bufs[index] = realloc(link->bufs[index], size);
        return link->bufs[index];
}

static void link_free(UsbLink *l) {
        for (unsigned i = 0; i < l->n_steps; i++) {
                free(l->steps[i].text);
                free(l->steps[i].also);
        }
        for (unsigned i = 0; i < USB_LINK_BUFFERS; i++)
                free(l->bufs[i]);
        free(l->in);
        free(l->out);
        free(l->host_data);
        free(l);
}

static Step *add(UsbLink *l, StepKind k) {
        Step *s = &l->steps[l->n_steps++];

        *s = (Step) { .kind = k };
        return s;
}

static void da_bytes(UsbLink *l, const void *p, size_t n) {
        Step *s = add(l, DA_SEND);

        s->text = malloc(n + 1);
        memcpy(s->text, p, n);
        s->len = n;
}
static void da_reply(UsbLink *l, const char *r) {
        da_bytes(l, r, strlen(r) + 1);
}
static void da_doc(UsbLink *l, const char *body) {
        char *d = NULL;

        if (asprintf(&d, P "%s", body) < 0)
                abort();
        da_bytes(l, d, strlen(d) + 1);
        free(d);
}
static void host_doc(UsbLink *l, const char *cmd) {
        add(l, HOST_DOC)->text = strdup(cmd);
}
static void host_doc_with(UsbLink *l, const char *cmd, const char *also) {
        Step *s = add(l, HOST_DOC);

        s->text = strdup(cmd);
        s->also = strdup(also);
}
static void host_ok(UsbLink *l) {
        add(l, HOST_OK);
}
static void host_value(UsbLink *l, uint64_t v) {
        add(l, HOST_VALUE)->value = v;
}
static void host_data(UsbLink *l, size_t n) {
        add(l, HOST_DATA)->len = n;
}

/* The host's next packet, if whole, against the script's step. */
static bool judge_host(UsbLink *l) {
        Step *s = &l->steps[l->cur];
        uint32_t type, len;
        const char *p;
        char want[64];

        if (l->out_len < XFLASH_HEADER_SIZE)
                return false;
        if (xflash_header_parse(l->out, &type, &len) < 0) {
                snprintf(l->error, sizeof(l->error), "step %u: a bad header", l->cur);
                return false;
        }
        if (l->out_len < XFLASH_HEADER_SIZE + len)
                return false;
        p = (const char *) l->out + XFLASH_HEADER_SIZE;
        switch (s->kind) {
        case HOST_DOC:
                snprintf(want, sizeof(want), "<command>%s</command>", s->text);
                if (len == 0 || p[len - 1] != 0 || !strstr(p, want) || (s->also && !strstr(p, s->also)))
                        snprintf(l->error, sizeof(l->error), "step %u: %s expected, got %u bytes: %.*s", l->cur,
                                 s->text, len, (int) MIN(len, 200u), p);
                break;
        case HOST_OK:
                if (len != 3 || memcmp(p, "OK", 3) != 0)
                        snprintf(l->error, sizeof(l->error), "step %u: OK expected, got %.*s", l->cur,
                                 (int) MIN(len, 200u), p);
                break;
        case HOST_VALUE:
                snprintf(want, sizeof(want), "OK@0x%" PRIx64, s->value);
                if (len != strlen(want) + 1 || memcmp(p, want, len) != 0)
                        snprintf(l->error, sizeof(l->error), "step %u: %s expected, got %.*s", l->cur, want,
                                 (int) MIN(len, 200u), p);
                break;
        case HOST_DATA:
                if (len != s->len)
                        snprintf(l->error, sizeof(l->error), "step %u: %zu data bytes expected, got %u", l->cur,
                                 s->len, len);
                l->host_data = realloc(l->host_data, l->host_data_len + len);
                memcpy(l->host_data + l->host_data_len, p, len);
                l->host_data_len += len;
                break;
        case DA_SEND:
        case DA_GONE:
                snprintf(l->error, sizeof(l->error), "step %u: the host sent before the DA", l->cur);
                break;
        }
        memmove(l->out, l->out + XFLASH_HEADER_SIZE + len, l->out_len - XFLASH_HEADER_SIZE - len);
        l->out_len -= XFLASH_HEADER_SIZE + len;
        l->cur++;
        return true;
}

/* Runs the world until nothing moves. */
static void pump(UsbLink *l) {
        for (;;) {
                bool moved = false;

                while (l->cur < l->n_steps && l->steps[l->cur].kind == DA_SEND) {
                        Step *s = &l->steps[l->cur++];
                        uint8_t h[XFLASH_HEADER_SIZE];

                        xflash_header_build(h, XFLASH_DT_PROTOCOL_FLOW, (uint32_t) s->len);
                        l->in = realloc(l->in, l->in_len + sizeof(h) + s->len);
                        memcpy(l->in + l->in_len, h, sizeof(h));
                        memcpy(l->in + l->in_len + sizeof(h), s->text, s->len);
                        l->in_len += sizeof(h) + s->len;
                        moved = true;
                }
                if (l->cur < l->n_steps && l->steps[l->cur].kind == DA_GONE && l->in_off == l->in_len) {
                        l->gone = true;
                        l->cur++;
                }
                if (l->n_w > 0) {
                        UsbLinkDone cb = l->wcb[0];
                        void *ud = l->wud[0];
                        bool cancelled = l->wcancel[0];

                        memmove(l->wcb, l->wcb + 1, (l->n_w - 1) * sizeof(l->wcb[0]));
                        memmove(l->wud, l->wud + 1, (l->n_w - 1) * sizeof(l->wud[0]));
                        memmove(l->wcancel, l->wcancel + 1, (l->n_w - 1) * sizeof(l->wcancel[0]));
                        l->n_w--;
                        cb(l, l->gone ? -ENODEV : cancelled ? -ECANCELED : 0, ud);
                        continue;
                }
                if (l->rcb && (l->in_len - l->in_off >= l->rlen || l->gone || l->rcancel)) {
                        UsbLinkDone cb = l->rcb;
                        int r = 0;

                        l->rcb = NULL;
                        if (l->gone)
                                r = -ENODEV;
                        else if (l->rcancel)
                                r = -ECANCELED;
                        else {
                                memcpy(l->rbuf, l->in + l->in_off, l->rlen);
                                l->in_off += l->rlen;
                        }
                        cb(l, r, l->rud);
                        continue;
                }
                if (!l->error[0] && l->cur < l->n_steps && judge_host(l))
                        continue;
                if (!moved)
                        break;
        }
        /* a read nobody will ever answer: the DA's silence */
        if (l->rcb && !l->error[0] && l->cur >= l->n_steps) {
                UsbLinkDone cb = l->rcb;

                l->rcb = NULL;
                cb(l, -ETIMEDOUT, l->rud);
                pump(l);
        }
}

/* ------------------------------------------------------------ scripts */

static const char *lifetime_end(UsbLink *l, const char *result, const char *message) {
        static char b[512];

        snprintf(b, sizeof(b), "<host><version>1.0</version><command>CMD:END</command><arg><result>%s</result>"
                 "<message>%s</message></arg></host>", result, message);
        da_doc(l, b);
        host_ok(l);
        return b;
}

static void lifetime_start(UsbLink *l) {
        da_doc(l, "<host><version>1.0</version><command>CMD:START</command></host>");
        host_ok(l);
}

/* A command with no sub-dialogue: OK, END, START. */
static void simple(UsbLink *l, const char *cmd) {
        host_doc(l, cmd);
        da_reply(l, "OK");
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
}

static void unsupported(UsbLink *l, const char *cmd) {
        host_doc(l, cmd);
        da_reply(l, "ERR!UNSUPPORTED");
        lifetime_end(l, "ERR", "Unsupported");
        lifetime_start(l);
}

static void progress(UsbLink *l) {
        da_doc(l, "<host><version>1.0</version><command>CMD:PROGRESS-REPORT</command><arg><message>init-hw</message>"
                  "</arg></host>");
        host_ok(l);
        da_reply(l, "OK!PROGRESS@50@init-hw");
        host_ok(l);
        da_reply(l, "OK!PROGRESS@100@init-hw");
        host_ok(l);
        da_reply(l, "OK!EOT");
        host_ok(l);
}

/* §3.2 UPLOAD-FILE of n bytes of data in packets of p */
static void upload(UsbLink *l, const uint8_t *data, size_t n, size_t p) {
        char b[300];

        snprintf(b, sizeof(b), "<host><version>1.0</version><command>CMD:UPLOAD-FILE</command><arg><checksum>CHK_NO"
                 "</checksum><info></info><target_file>ROM_0</target_file><packet_length>0x%zx</packet_length></arg>"
                 "</host>", p);
        da_doc(l, b);
        host_ok(l);
        snprintf(b, sizeof(b), "OK@0x%zx", n);
        da_reply(l, b);
        host_ok(l);
        for (size_t off = 0; off < n; off += p) {
                da_reply(l, "OK");
                host_ok(l);
                da_bytes(l, data + off, MIN(p, n - off));
                host_ok(l);
        }
}

/* §3.2 DOWNLOAD-FILE of n bytes in packets of p */
static void download(UsbLink *l, size_t n, size_t p) {
        char b[300];

        snprintf(b, sizeof(b), "<host><version>1.0</version><command>CMD:DOWNLOAD-FILE</command><arg><checksum>CHK_NO"
                 "</checksum><info>2nd-DA</info><source_file>MEM://0x0:0x%zx</source_file><packet_length>0x%zx"
                 "</packet_length></arg></host>", n, p);
        da_doc(l, b);
        host_ok(l);
        host_value(l, n);
        da_reply(l, "OK");
        for (size_t off = 0; off < n; off += p) {
                host_value(l, 0);
                da_reply(l, "OK");
                host_data(l, MIN(p, n - off));
                da_reply(l, "OK");
        }
}

#define HW_EMMC                                                                                                     \
        P "<da_hw_info><version>1.2</version><ram_size>0x100000000</ram_size><battery_voltage>3900</battery_voltage>" \
          "<random_id>01</random_id><storage>EMMC</storage><emmc><block_size>0x200</block_size><boot1_size>0x400000" \
          "</boot1_size><boot2_size>0x400000</boot2_size><rpmb_size>0x1000000</rpmb_size><user_size>0x3a3e00000"    \
          "</user_size><gp1_size>0</gp1_size><gp2_size>0</gp2_size><gp3_size>0</gp3_size><gp4_size>0</gp4_size>"   \
          "<id>150100444836444142028D2A2AC0B3AB</id></emmc><product_id>DH6DAB</product_id></da_hw_info>"

#define SLA(v) P "<sys_prop version=\"1.0\"><item key=\"DA.SLA\">" v "</item></sys_prop>"

#define DA2_LEN 0x2804 /* two full 0x1000 packets and a short one… and more */

/* §4.4 and §4.5: DA1 up to BOOT-TO's data, as far as boot_result */
static void script_da1(UsbLink *l, const char *boot_result) {
        lifetime_start(l);
        simple(l, "CMD:SET-RUNTIME-PARAMETER");
        unsupported(l, "CMD:HOST-SUPPORTED-COMMANDS");
        host_doc(l, "CMD:NOTIFY-INIT-HW");
        da_reply(l, "OK");
        progress(l);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
        simple(l, "CMD:SET-HOST-INFO");
        host_doc(l, "CMD:BOOT-TO");
        da_reply(l, "OK");
        download(l, DA2_LEN, 0x1000);
        lifetime_end(l, boot_result, streq(boot_result, "OK") ? "Operation OK" : "DA hash validation failed");
        lifetime_start(l);
}

static void script_da2(UsbLink *l, const char *sla) {
        unsupported(l, "CMD:HOST-SUPPORTED-COMMANDS");
        host_doc(l, "CMD:NOTIFY-INIT-HW");
        da_reply(l, "OK");
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
        host_doc(l, "CMD:GET-SYS-PROPERTY");
        da_reply(l, "OK");
        upload(l, (const uint8_t *) sla, strlen(sla) + 1, 0x100000);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
}

typedef struct Result {
        bool called;
        int r;
        uint8_t *data;
        size_t len;
        const uint8_t *held;
} Result;

static void on_done(XmlDa *xd, int r, void *userdata) {
        Result *res = userdata;

        res->called = true;
        res->r = r;
}

static int on_data(XmlDa *xd, const uint8_t *data, size_t len, void *userdata) {
        Result *res = userdata;

        res->data = realloc(res->data, res->len + len);
        memcpy(res->data + res->len, data, len);
        res->len += len;
        /* hold every other chunk, as the backup's worker does */
        if (!res->held && res->len % 2 == 0) {
                res->held = data;
                return XML_DA_DATA_HELD;
        }
        return 0;
}

static uint8_t da2[DA2_LEN];

static UsbLink *new_link(void) {
        UsbLink *l = calloc(1, sizeof(*l));

        for (size_t i = 0; i < sizeof(da2); i++)
                da2[i] = (uint8_t) (i * 7 + 3);
        return l;
}

/* the whole start, a read with a held chunk, a write, the reboot */
TEST(session) {
        UsbLink *l = new_link();
        XmlDa *xd = NULL;
        Result res = {};
        uint8_t image[0x2a00], wbuf[0x1400];
        const XmlDaReport *rep;

        for (size_t i = 0; i < sizeof(image); i++)
                image[i] = (uint8_t) (i ^ (i >> 8));
        for (size_t i = 0; i < sizeof(wbuf); i++)
                wbuf[i] = (uint8_t) (0x55 ^ i);
        script_da1(l, "OK");
        script_da2(l, SLA("DISABLED"));
        host_doc(l, "CMD:GET-HW-INFO");
        da_reply(l, "OK");
        upload(l, (const uint8_t *) HW_EMMC, sizeof(HW_EMMC), 0x100000);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);

        CHECK_EQ_INT(xml_da_new(l, &xd), 0);
        CHECK_EQ_INT(xml_da_start(xd, da2, sizeof(da2), 0x40000000, on_done, &res), 0);
        CHECK(!res.called);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        CHECK(res.called);
        CHECK_EQ_INT(res.r, 0);
        CHECK_EQ_STR(xml_da_get_detail(xd), "");
        CHECK_EQ_INT(l->host_data_len, sizeof(da2));
        CHECK(l->host_data && memcmp(l->host_data, da2, sizeof(da2)) == 0);
        rep = xml_da_get_report(xd);
        CHECK(rep->hw.emmc);
        CHECK_EQ_INT(rep->hw.user_size, 0x3a3e00000);
        CHECK_EQ_INT(rep->hw.id_len, 16);
        CHECK_EQ_STR(rep->sla, "DISABLED");
        CHECK_EQ_INT(l->cur, l->n_steps);

        /* §6: READ-FLASH in packets of 0x1000, the last one short */
        l->host_data_len = 0;
        host_doc(l, "CMD:READ-FLASH");
        da_reply(l, "OK");
        upload(l, image, sizeof(image), 0x1000);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_read(xd, XML_REGION_EMMC_USER, 0x18200000, sizeof(image), on_data, on_done, &res), 0);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        /* all read, but a chunk is still held: the call waits for it */
        CHECK_EQ_INT(res.len, sizeof(image));
        CHECK(!res.called);
        CHECK(res.held != NULL);
        xml_da_release(xd, res.held);
        pump(l);
        CHECK(res.called);
        CHECK_EQ_INT(res.r, 0);
        CHECK(res.data && memcmp(res.data, image, sizeof(image)) == 0);
        free(res.data);

        /* §5.4: WRITE-FLASH: FILE-SIZE, the pre-erase progress, the data */
        l->host_data_len = 0;
        host_doc(l, "CMD:WRITE-FLASH");
        da_reply(l, "OK");
        da_doc(l, "<host><version>1.0</version><command>CMD:FILE-SYS-OPERATION</command><arg><key>FILE-SIZE</key>"
                  "<file_path>MEM://0x0:0x1400</file_path></arg></host>");
        host_ok(l);
        host_value(l, sizeof(wbuf));
        progress(l);
        download(l, sizeof(wbuf), 0x1000);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_write(xd, XML_REGION_EMMC_USER, 0x200, wbuf, sizeof(wbuf), on_done, &res), 0);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        CHECK(res.called);
        CHECK_EQ_INT(res.r, 0);
        CHECK_EQ_INT(l->host_data_len, sizeof(wbuf));
        CHECK(l->host_data && memcmp(l->host_data, wbuf, sizeof(wbuf)) == 0);
        /* not whole sectors: refused before anything is sent */
        CHECK_EQ_INT(xml_da_write(xd, XML_REGION_EMMC_USER, 0x201, wbuf, 0x200, on_done, &res), -EINVAL);

        /* §5.5 REBOOT: OK, END, our OK, and no START */
        host_doc(l, "CMD:REBOOT");
        da_reply(l, "OK");
        lifetime_end(l, "OK", "Operation OK");
        res = (Result) {};
        CHECK_EQ_INT(xml_da_reboot(xd, on_done, &res), 0);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        CHECK(res.called);
        CHECK_EQ_INT(res.r, 0);
        CHECK_EQ_INT(l->cur, l->n_steps);

        xml_da_free(xd);
        link_free(l);
}

static int run_start(UsbLink *l, XmlDa **ret, Result *res) {
        if (xml_da_new(l, ret) < 0 || xml_da_start(*ret, da2, sizeof(da2), 0x40000000, on_done, res) < 0)
                return -999;
        pump(l);
        return res->called ? res->r : 1;
}

/* §4.4: DA1 refuses DA2 (its hash): the message says the file's stages do not match */
TEST(da2_refused) {
        UsbLink *l = new_link();
        XmlDa *xd = NULL;
        Result res = {};

        script_da1(l, "ERR");
        CHECK_EQ_INT(run_start(l, &xd, &res), -EIO);
        CHECK_EQ_STR(l->error, "");
        CHECK(strstr(xml_da_get_detail(xd), "second stage does not match its first"));
        CHECK(strstr(xml_da_get_detail(xd), "DA hash validation failed"));
        CHECK(strstr(xml_da_get_detail(xd), "add-da"));
        xml_da_free(xd);
        link_free(l);
}

/* §5.5: DA.SLA enabled ends the start with -EACCES, naming the OEM's tool */
TEST(sla_enabled) {
        UsbLink *l = new_link();
        XmlDa *xd = NULL;
        Result res = {};

        script_da1(l, "OK");
        script_da2(l, SLA("ENABLED"));
        CHECK_EQ_INT(run_start(l, &xd, &res), -EACCES);
        CHECK_EQ_STR(l->error, "");
        CHECK(strstr(xml_da_get_detail(xd), "ENABLED"));
        CHECK(strstr(xml_da_get_detail(xd), "authorised"));
        xml_da_free(xd);
        link_free(l);
}

/* §7: an END ERR where a reply belongs, and unexpected documents */
TEST(read_refused_and_out_of_step) {
        UsbLink *l = new_link();
        XmlDa *xd = NULL;
        Result res = {};

        script_da1(l, "OK");
        script_da2(l, SLA("DISABLED"));
        host_doc(l, "CMD:GET-HW-INFO");
        da_reply(l, "OK");
        upload(l, (const uint8_t *) HW_EMMC, sizeof(HW_EMMC), 0x100000);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
        CHECK_EQ_INT(run_start(l, &xd, &res), 0);

        /* the DA refuses the range: its message reaches the detail */
        host_doc(l, "CMD:READ-FLASH");
        lifetime_end(l, "ERR", "Read length[4000] is larger than partition max size[2000]");
        lifetime_start(l);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_read(xd, XML_REGION_EMMC_BOOT1, 0, 0x4000, on_data, on_done, &res), 0);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        CHECK(res.called);
        CHECK_EQ_INT(res.r, -EIO);
        CHECK(strstr(xml_da_get_detail(xd), "larger than partition max size"));
        CHECK(strstr(xml_da_get_detail(xd), "EMMC-BOOT1"));

        /* unsupported READ-FLASH: -EOPNOTSUPP */
        unsupported(l, "CMD:READ-FLASH");
        res = (Result) {};
        CHECK_EQ_INT(xml_da_read(xd, XML_REGION_EMMC_USER, 0, 0x200, on_data, on_done, &res), 0);
        pump(l);
        CHECK_EQ_INT(res.r, -EOPNOTSUPP);

        /* a START where the END belongs: out of step */
        host_doc(l, "CMD:READ-FLASH");
        da_reply(l, "OK");
        lifetime_start(l);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_read(xd, XML_REGION_EMMC_USER, 0, 0x200, on_data, on_done, &res), 0);
        pump(l);
        CHECK_EQ_INT(res.r, -EPROTO);
        CHECK(strstr(xml_da_get_detail(xd), "without ending"));
        free(res.data);
        xml_da_free(xd);
        link_free(l);
}

/* silence and a vanished phone */
TEST(timeout_and_gone) {
        UsbLink *l = new_link();
        XmlDa *xd = NULL;
        Result res = {};

        lifetime_start(l);
        host_doc(l, "CMD:SET-RUNTIME-PARAMETER");
        CHECK_EQ_INT(run_start(l, &xd, &res), -ETIMEDOUT);
        CHECK(strstr(xml_da_get_detail(xd), "stopped answering"));
        xml_da_free(xd);
        link_free(l);

        l = new_link();
        res = (Result) {};
        lifetime_start(l);
        host_doc(l, "CMD:SET-RUNTIME-PARAMETER");
        add(l, DA_GONE);
        CHECK_EQ_INT(run_start(l, &xd, &res), -ENODEV);
        CHECK(strstr(xml_da_get_detail(xd), "disconnected"));
        xml_da_free(xd);
        link_free(l);
}

#define HW_UFS                                                                                                       \
        P "<da_hw_info><version>1.2</version><ram_size>0x200000000</ram_size><battery_voltage>0</battery_voltage>"   \
          "<random_id>00</random_id><storage>UFS</storage><ufs><block_size>0x1000</block_size><lua0_size>0x400000"   \
          "</lua0_size><lua1_size>0x800000</lua1_size><lua2_size>0x1dcb000000</lua2_size><lua3_size>0x1000000"       \
          "</lua3_size><id>4B4D35563830303144</id></ufs><product_id>KM5V8001DM-B622</product_id></da_hw_info>"

/* a UFS phone (§5.1, §5.7): its sizes and id; reads of UFS-LUA2 and LUA0,
 * a DA that gives up mid-read, a write the DA finds corrupted, a reboot */
TEST(ufs) {
        UsbLink *l = new_link();
        XmlDa *xd = NULL;
        const XmlHwInfo *h;
        Result res = {};
        uint8_t image[0x800];

        for (size_t i = 0; i < sizeof(image); i++)
                image[i] = (uint8_t) (i * 13);
        script_da1(l, "OK");
        script_da2(l, SLA("DISABLED"));
        host_doc(l, "CMD:GET-HW-INFO");
        da_reply(l, "OK");
        upload(l, (const uint8_t *) HW_UFS, sizeof(HW_UFS), 0x100000);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);

        CHECK_EQ_INT(run_start(l, &xd, &res), 0);
        CHECK_EQ_STR(l->error, "");
        h = &xml_da_get_report(xd)->hw;
        CHECK(h->ufs && !h->emmc);
        CHECK_EQ_INT(h->lu_size[2], 0x1dcb000000);
        CHECK_EQ_INT(h->lu_size[0], 0x400000);
        CHECK_EQ_INT(h->lu_size[1], 0x800000);
        CHECK_EQ_INT(h->lu_size[3], 0x1000000);
        CHECK_EQ_INT(h->block_size, 0x1000);
        CHECK_EQ_INT(h->id_len, 9);
        CHECK(memcmp(h->id_bytes, "KM5V8001D", 9) == 0);

        host_doc_with(l, "CMD:READ-FLASH", "<partition>UFS-LUA2</partition><offset>0x1000</offset><length>0x800");
        da_reply(l, "OK");
        upload(l, image, sizeof(image), 0x1000);
        lifetime_end(l, "OK", "Operation OK");
        lifetime_start(l);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_read(xd, XML_REGION_UFS_LUA2, 0x1000, sizeof(image), on_data, on_done, &res), 0);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        CHECK_EQ_INT(res.r, 0);
        CHECK(res.held != NULL);
        xml_da_release(xd, res.held);
        pump(l);
        CHECK(res.called);
        CHECK(res.data && res.len == sizeof(image) && memcmp(res.data, image, sizeof(image)) == 0);
        free(res.data);

        /* boot1 is LU0; the DA gives up mid-read: its END where a chunk belongs */
        host_doc_with(l, "CMD:READ-FLASH", "<partition>UFS-LUA0</partition>");
        da_reply(l, "OK");
        da_doc(l, "<host><version>1.0</version><command>CMD:UPLOAD-FILE</command><arg><checksum>CHK_NO</checksum>"
                  "<info></info><target_file>ROM_0</target_file><packet_length>0x1000</packet_length></arg></host>");
        host_ok(l);
        da_reply(l, "OK@0x2000");
        host_ok(l);
        da_reply(l, "OK");
        host_ok(l);
        lifetime_end(l, "ERR", "UFS read failed[0xc0050005]");
        lifetime_start(l);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_read(xd, XML_REGION_UFS_LUA0, 0, 0x2000, on_data, on_done, &res), 0);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        CHECK(res.called);
        CHECK_EQ_INT(res.r, -EIO);
        CHECK(strstr(xml_da_get_detail(xd), "UFS read failed"));
        free(res.data);

        /* a write the DA finds corrupted: the checksum class, so the caller may retry */
        host_doc_with(l, "CMD:WRITE-FLASH", "<partition>UFS-LUA2</partition>");
        da_reply(l, "OK");
        da_doc(l, "<host><version>1.0</version><command>CMD:FILE-SYS-OPERATION</command><arg><key>FILE-SIZE</key>"
                  "<file_path>MEM://0x0:0x800</file_path></arg></host>");
        host_ok(l);
        host_value(l, sizeof(image));
        download(l, sizeof(image), 0x1000);
        lifetime_end(l, "ERR", "USB checksum error, chksum in PC is 0x0");
        lifetime_start(l);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_write(xd, XML_REGION_UFS_LUA2, 0, image, sizeof(image), on_done, &res), 0);
        pump(l);
        CHECK_EQ_STR(l->error, "");
        CHECK_EQ_INT(res.r, -EBADMSG);
        CHECK(strstr(xml_da_get_detail(xd), "another cable"));

        /* the phone leaves after accepting REBOOT: it rebooted */
        host_doc(l, "CMD:REBOOT");
        da_reply(l, "OK");
        add(l, DA_GONE);
        res = (Result) {};
        CHECK_EQ_INT(xml_da_reboot(xd, on_done, &res), 0);
        pump(l);
        CHECK(res.called);
        CHECK_EQ_INT(res.r, 0);
        xml_da_free(xd);
        link_free(l);
}

/* DA1 cannot bring the hardware up: NOTIFY-INIT-HW's END ERR after its progress */
TEST(init_hw_refused) {
        UsbLink *l = new_link();
        XmlDa *xd = NULL;
        Result res = {};

        lifetime_start(l);
        simple(l, "CMD:SET-RUNTIME-PARAMETER");
        simple(l, "CMD:HOST-SUPPORTED-COMMANDS");
        host_doc(l, "CMD:NOTIFY-INIT-HW");
        da_reply(l, "OK");
        da_doc(l, "<host><version>1.0</version><command>CMD:PROGRESS-REPORT</command><arg><message>init-hw</message>"
                  "</arg></host>");
        host_ok(l);
        da_reply(l, "OK!PROGRESS@10@init-hw");
        host_ok(l);
        lifetime_end(l, "ERR", "DRAM calibration failed");
        lifetime_start(l);
        CHECK_EQ_INT(run_start(l, &xd, &res), -EIO);
        CHECK_EQ_STR(l->error, "");
        CHECK(strstr(xml_da_get_detail(xd), "DRAM calibration failed"));
        CHECK(strstr(xml_da_get_detail(xd), "CMD:NOTIFY-INIT-HW"));
        xml_da_free(xd);
        link_free(l);
}

TAP_MAIN(TEST_ENTRY(session), TEST_ENTRY(da2_refused), TEST_ENTRY(sla_enabled),
         TEST_ENTRY(read_refused_and_out_of_step),
         TEST_ENTRY(timeout_and_gone), TEST_ENTRY(ufs), TEST_ENTRY(init_hw_refused))

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Written from ../shared/protocol/xml-da.md, not from the daemon.  Where
 * the reference is silent the choice is marked "assumed" or [SIM] and
 * listed in tests/sim/README.md ("The XML DA").
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>

#include "brom-proto.h"
#include "da-legacy-proto.h"
#include "sim-phone-impl.h"
#include "sim-storage.h"
#include "sim-xml.h"
#include "xflash-proto.h"
#include "xml-da-proto.h"

/* A payload longer than this is refused (assumed): the largest a host
 * sends is a WRITE-FLASH chunk or DA2 */
#define XML_MAX_PAYLOAD (16u * 1024u * 1024u)
/* §4.1: DA1 carries DA2's SHA-256 this far before its signature */
#define XML_HASH_SLOT_BEFORE_SIG 0x30
/* [SIM] values of the GET-HW-INFO and GET-DA-INFO documents */
#define XML_RAM_SIZE        0xc0000000ull
#define XML_BATTERY_MV      3900
#define XML_RPMB_SIZE       0x1000000ull
#define XML_DA_VERSION      "1.0"
#define XML_DA_BUILD        "mtksim:v6"
#define XML_MSG_OK          "Operation OK"   /* §3.1 (I) */
#define XML_PROGRESS_INIT   "init-hw"        /* §3.2 [mtk comment] */
#define XML_PROGRESS_ERASE  "pre-erase"      /* §5.4 [SIM] */
#define XML_SLA_ENABLED     "ENABLED"

typedef enum XmlWait {
        XW_NONE,
        XW_START_ACK,       /* OK after CMD:START (else the DA halts, §3.1) */
        XW_IDLE,            /* a command document; a bare OK is ignored (§5.4) */
        XW_END_ACK,         /* OK after CMD:END (else the DA halts) */
        XW_UP_DOC_ACK,      /* UPLOAD-FILE (§3.2): OK to the document */
        XW_UP_LEN_ACK,      /* ... OK to OK@0x<L> */
        XW_UP_OK_ACK,       /* ... OK to the OK before a chunk */
        XW_UP_DATA_ACK,     /* ... OK to the chunk */
        XW_DN_DOC_ACK,      /* DOWNLOAD-FILE: OK to the document */
        XW_DN_LEN,          /* ... OK@0x<L> */
        XW_DN_CHUNK,        /* ... OK@0x0 before a chunk */
        XW_DN_DATA,         /* ... the chunk */
        XW_FS_DOC_ACK,      /* FILE-SYS-OPERATION: OK to the document */
        XW_FS_ANSWER,       /* ... OK@<answer> */
        XW_PR_DOC_ACK,      /* PROGRESS-REPORT: OK to the document */
        XW_PR_ACK,          /* ... OK to a progress line */
        XW_PR_EOT_ACK,      /* ... OK to OK!EOT */
        XW_HALTED,          /* the host broke the lifetime: the DA answers nothing more */
} XmlWait;

static const char *const wait_names[] = {
        [XW_NONE] = "none",
        [XW_START_ACK] = "start-ack",
        [XW_IDLE] = "idle",
        [XW_END_ACK] = "end-ack",
        [XW_UP_DOC_ACK] = "upload",
        [XW_UP_LEN_ACK] = "upload",
        [XW_UP_OK_ACK] = "upload",
        [XW_UP_DATA_ACK] = "upload",
        [XW_DN_DOC_ACK] = "download",
        [XW_DN_LEN] = "download",
        [XW_DN_CHUNK] = "download",
        [XW_DN_DATA] = "download",
        [XW_FS_DOC_ACK] = "file-sys",
        [XW_FS_ANSWER] = "file-sys",
        [XW_PR_DOC_ACK] = "progress",
        [XW_PR_ACK] = "progress",
        [XW_PR_EOT_ACK] = "progress",
        [XW_HALTED] = "halted",
};

/* After the host acked CMD:END */
typedef enum XmlAfter {
        AFTER_START,        /* the next CMD:START */
        AFTER_REBOOT,       /* REBOOT IMMEDIATE: a reset */
        AFTER_DISCONNECT,   /* REBOOT DISCONNECT: off the bus (assumed: powered off) */
} XmlAfter;

typedef enum XmlCmd {
        C_SET_RUNTIME_PARAMETER,
        C_HOST_SUPPORTED_COMMANDS,
        C_NOTIFY_INIT_HW,
        C_SET_HOST_INFO,
        C_BOOT_TO,
        C_GET_HW_INFO,
        C_REBOOT,
        C_GET_SYS_PROPERTY,
        C_EMMC_CONTROL,
        C_READ_FLASH,
        C_WRITE_FLASH,
        C_READ_PARTITION,
        C_READ_PARTITION_TABLE,
        C_GET_DA_INFO,
        C_CAN_HIGHER_USB_SPEED,
} XmlCmd;

typedef struct Cmd {
        const char *name;
        bool da1, da2;      /* which DA has it (§4.1 lists) */
} Cmd;

/* Indexed by XmlCmd.  CAN-HIGHER-USB-SPEED is in neither DA (§4.1): it is
 * listed so that faults and stats can name it. */
static const Cmd cmds[] = {
        [C_SET_RUNTIME_PARAMETER] = { XML_CMD_SET_RUNTIME_PARAMETER, true, false },
        [C_HOST_SUPPORTED_COMMANDS] = { XML_CMD_HOST_SUPPORTED_COMMANDS, true, false },
        [C_NOTIFY_INIT_HW] = { XML_CMD_NOTIFY_INIT_HW, true, true },
        [C_SET_HOST_INFO] = { XML_CMD_SET_HOST_INFO, true, true },
        [C_BOOT_TO] = { XML_CMD_BOOT_TO, true, false },
        [C_GET_HW_INFO] = { XML_CMD_GET_HW_INFO, true, true },
        [C_REBOOT] = { XML_CMD_REBOOT, true, true },
        [C_GET_SYS_PROPERTY] = { XML_CMD_GET_SYS_PROPERTY, false, true },
        [C_EMMC_CONTROL] = { XML_CMD_EMMC_CONTROL, false, true },
        [C_READ_FLASH] = { XML_CMD_READ_FLASH, false, true },
        [C_WRITE_FLASH] = { XML_CMD_WRITE_FLASH, false, true },
        [C_READ_PARTITION] = { XML_CMD_READ_PARTITION, false, true },
        [C_READ_PARTITION_TABLE] = { XML_CMD_READ_PARTITION_TABLE, false, true },
        [C_GET_DA_INFO] = { XML_CMD_GET_DA_INFO, false, true },
        [C_CAN_HIGHER_USB_SPEED] = { XML_CMD_CAN_HIGHER_USB_SPEED, false, false },
};

int sim_xml_command_id(const char *name) {
        if (!g_str_has_prefix(name, "CMD:"))
                return -1;
        for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
                if (g_str_equal(cmds[i].name, name))
                        return SIM_XML_CMD_ID_BASE + 1 + (int) i;
        return SIM_XML_CMD_ID_BASE;
}

/* ------------------------------------------------------------ framing (§2) */

static uint32_t rd32(const uint8_t *b) {
        return (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 24;
}
static void wr32(uint8_t *b, uint32_t v) {
        b[0] = (uint8_t) v;
        b[1] = (uint8_t) (v >> 8);
        b[2] = (uint8_t) (v >> 16);
        b[3] = (uint8_t) (v >> 24);
}

/* §2.1, §2.2: the header and the payload, each its own field (so its own
 * short packet(s)); fault wrong-echo spoils the magic of the next header */
static void send_packet(SimPhone *p, const void *data, size_t len) {
        uint8_t h[XML_HEADER_SIZE];

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

/* A short reply: the text and one NUL (§2.1; the DA's OK is 3 bytes) */
static void send_text(SimPhone *p, const char *s) {
        send_packet(p, s, strlen(s) + 1);
}

/* A <host> document (§3.1): prolog, version, command, optional arg, NUL */
static void send_doc(SimPhone *p, const char *cmd, const char *arg) {
        g_autoptr(GString) s = g_string_new(XML_PROLOG);

        g_string_append_printf(s, "<%s><version>%s</version><command>%s</command>", XML_ROOT_DA_DOC,
                               XML_VERSION_HOST, cmd);
        if (arg)
                g_string_append_printf(s, "<arg>%s</arg>", arg);
        g_string_append_printf(s, "</%s>", XML_ROOT_DA_DOC);
        send_packet(p, s->str, s->len + 1);
}

/* The next whole packet in the byte stream, or false when it has not all
 * arrived yet (or was refused). */
static bool next_packet(SimPhone *p, const uint8_t **ret, uint32_t *ret_len) {
        GByteArray *rx = p->rx;
        uint32_t len;

        if (p->xml.skip > 0) {
                size_t n = (size_t) MIN((uint64_t) rx->len, p->xml.skip);

                g_byte_array_remove_range(rx, 0, (guint) n);
                p->xml.skip -= n;
                if (p->xml.skip > 0)
                        return false;
        }
        if (rx->len < XML_HEADER_SIZE)
                return false;
        if (rd32(rx->data) != XFLASH_MAGIC || rd32(rx->data + 4) != XFLASH_DT_PROTOCOL_FLOW) {
                /* not a header: V6 has no status word to say so; drop what came and
                 * wait for a transfer that starts with the magic (assumed) */
                g_byte_array_set_size(rx, 0);
                p->xml.resync = true;
                p->xml.protocol_errors++;
                return false;
        }
        len = rd32(rx->data + 8);
        if (len > XML_MAX_PAYLOAD) {
                g_byte_array_remove_range(rx, 0, XML_HEADER_SIZE);
                p->xml.skip = len;
                p->xml.protocol_errors++;
                return false;
        }
        if (rx->len < XML_HEADER_SIZE + (size_t) len)
                return false;
        *ret = rx->data + XML_HEADER_SIZE;
        *ret_len = len;
        return true;
}

bool sim_xml_accept(SimPhone *p, const uint8_t *data, size_t len) {
        if (!p->xml.resync)
                return true;
        if (len >= 4 && rd32(data) == XFLASH_MAGIC) {
                p->xml.resync = false;
                return true;
        }
        return false;
}

/* The text of a short reply: up to the first NUL (§2.1: 3 or 4 bytes) */
static bool reply_is(const uint8_t *d, uint32_t len, const char *want) {
        size_t n = strnlen((const char *) d, len);

        return n == strlen(want) && memcmp(d, want, n) == 0;
}

/* A number the way the host writes it: 0x<hex>, or decimal (§2.1: penumbra's
 * OK@<decimal>; refused with xml-value=hex) */
static bool parse_number(SimPhone *p, const char *s, size_t n, uint64_t *ret) {
        g_autofree char *t = g_strndup(s, n);
        bool hex = g_str_has_prefix(t, "0x") || g_str_has_prefix(t, "0X");
        char *end;

        if (!hex && p->cfg.xml_hex_only)
                return false;
        if (!*t || (hex && !t[2]))
                return false;
        errno = 0;
        *ret = g_ascii_strtoull(hex ? t + 2 : t, &end, hex ? 16 : 10);
        return errno == 0 && *end == 0 && end != (hex ? t + 2 : t);
}

/* OK@<value> */
static bool reply_value(SimPhone *p, const uint8_t *d, uint32_t len, uint64_t *ret) {
        size_t n = strnlen((const char *) d, len), k = strlen(XML_REPLY_OK_VALUE_PREFIX);

        if (n <= k || memcmp(d, XML_REPLY_OK_VALUE_PREFIX, k) != 0)
                return false;
        return parse_number(p, (const char *) d + k, n - k, ret);
}

/* ------------------------------------------------------------ host documents (§3.1) */

static xmlNodePtr child(xmlNodePtr n, const char *name) {
        for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
                        return c;
        return NULL;
}

/* The text at da/<a>[/<b>]; NULL when absent.  Freed by the caller. */
static char *doc_get(xmlDocPtr doc, const char *a, const char *b) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        xmlNodePtr n = child(root, a);
        xmlChar *v;
        char *s;

        if (b)
                n = child(n, b);
        if (!n)
                return NULL;
        v = xmlNodeGetContent(n);
        s = g_strdup(v ? (const char *) v : "");
        xmlFree(v);
        return s;
}

static void copy_arg(char *dst, const char *src) {
        g_strlcpy(dst, src ? src : "", SIM_XML_NAME_MAX);
}

/* ------------------------------------------------------------ lifetime */

static void send_start(SimPhone *p) {
        /* §3.1: a real DA sends no <arg>; xml-start=arg adds an empty one */
        send_doc(p, XML_CMD_START, p->cfg.xml_start_arg ? "" : NULL);
        p->xml.wait = XW_START_ACK;
}

static void cmd_end(SimPhone *p, bool ok, const char *msg) {
        g_autofree char *m = g_markup_escape_text(msg ? msg : "", -1);
        g_autofree char *arg = g_strdup_printf("<result>%s</result><message>%s</message>",
                                               ok ? XML_RESULT_OK : XML_RESULT_ERR, m);

        p->xml.last_result = ok ? XML_RESULT_OK : XML_RESULT_ERR;
        send_doc(p, XML_CMD_END, arg);
        p->xml.wait = XW_END_ACK;
}

static void cmd_fail(SimPhone *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void cmd_fail(SimPhone *p, const char *fmt, ...) {
        g_autofree char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        p->xml.after_end = AFTER_START;
        cmd_end(p, false, msg);
}

void sim_xml_reset(SimXml *x) {
        const char *reboot = x->reboot;
        GByteArray *buf = x->buf;

        /* what the last REBOOT asked for outlives the DA (stats) */
        *x = (SimXml) { .cmd = -1, .reboot = reboot, .buf = buf };
        g_strlcpy(x->checksum_level, XML_CHECKSUM_LEVEL_NONE, sizeof(x->checksum_level));
        if (x->buf)
                g_byte_array_set_size(x->buf, 0);
        else
                x->buf = g_byte_array_new();
}

void sim_xml_free(SimXml *x) {
        if (x->buf)
                g_byte_array_unref(x->buf);
        x->buf = NULL;
}

void sim_xml_start(SimPhone *p) {
        sim_xml_reset(&p->xml);
        /* §4.2: no C0; DA1 comes up at ROM clock (slow-ms) */
        p->emit_delay_us = (uint64_t) p->cfg.slow_ms * 1000u;
        send_start(p);
        sim_phone_enter(p, PHASE_XML_DA1);
}

void sim_xml_resume_da2(SimPhone *p) {
        sim_xml_reset(&p->xml);
        p->xml.da2 = p->xml.hw_init = true;
        p->xml.wait = XW_IDLE;
        sim_phone_enter(p, PHASE_XML_DA2);
}

/* ------------------------------------------------------------ sub-dialogues (§3.2) */

static void upload_begin(SimPhone *p, const char *info, bool from_storage, uint64_t len) {
        SimXml *x = &p->xml;
        g_autofree char *t = g_markup_escape_text(x->target, -1);
        g_autofree char *arg = NULL;

        x->from_storage = from_storage;
        x->len = len;
        x->off = 0;
        x->packet = p->cfg.xml_read_packet;
        arg = g_strdup_printf("<checksum>%s</checksum><info>%s</info><target_file>%s</target_file>"
                              "<packet_length>0x%x</packet_length>",
                              XML_CHECKSUM_NONE, info, t, x->packet);
        send_doc(p, XML_CMD_UPLOAD_FILE, arg);
        x->wait = XW_UP_DOC_ACK;
}

/* An upload of a document (or small result) in buf */
static void upload_doc(SimPhone *p, const char *text) {
        g_byte_array_set_size(p->xml.buf, 0);
        g_byte_array_append(p->xml.buf, (const guint8 *) text, (guint) strlen(text) + 1);
        upload_begin(p, "", false, p->xml.buf->len);
}

static void download_begin(SimPhone *p, const char *info, bool to_storage, uint32_t packet, uint64_t max) {
        SimXml *x = &p->xml;
        g_autofree char *t = g_markup_escape_text(x->target, -1);
        g_autofree char *arg = NULL;

        x->from_storage = to_storage;
        x->packet = packet;
        x->max = max;
        x->len = x->off = 0;
        g_byte_array_set_size(x->buf, 0);
        arg = g_strdup_printf("<checksum>%s</checksum><info>%s</info><source_file>%s</source_file>"
                              "<packet_length>0x%x</packet_length>",
                              XML_CHECKSUM_NONE, info, t, packet);
        send_doc(p, XML_CMD_DOWNLOAD_FILE, arg);
        x->wait = XW_DN_DOC_ACK;
}

static void fs_begin(SimPhone *p, const char *key) {
        g_autofree char *t = g_markup_escape_text(p->xml.target, -1);
        g_autofree char *arg = g_strdup_printf("<key>%s</key><file_path>%s</file_path>", key, t);

        send_doc(p, XML_CMD_FILE_SYS_OPERATION, arg);
        p->xml.wait = XW_FS_DOC_ACK;
}

static void progress_begin(SimPhone *p, const char *msg) {
        g_autofree char *arg = g_strdup_printf("<message>%s</message>", msg);

        g_strlcpy(p->xml.progress_msg, msg, sizeof(p->xml.progress_msg));
        p->xml.progress = 0;
        send_doc(p, XML_CMD_PROGRESS_REPORT, arg);
        p->xml.wait = XW_PR_DOC_ACK;
}

/* chunk-status:V: the transfer ends with an error where the next chunk step was */
static bool chunk_fault(SimPhone *p) {
        if (p->fault != SIM_FAULT_CHUNK_STATUS)
                return false;
        p->fault = SIM_FAULT_NONE;
        cmd_fail(p, "%s failed[0x%x]", p->xml.from_storage ? "storage transfer" : "data transfer",
                 (unsigned) p->fault_arg);
        return true;
}

/* ------------------------------------------------------------ storage */

/* §5.6: a region name of the simulated storage; 0 = none */
static uint8_t region_by_name(SimPhone *p, const char *name) {
        if (sim_storage_is_ufs(p->storage)) {
                if (g_str_equal(name, XML_REGION_UFS_LUA0))
                        return DA_EMMC_REGION_BOOT1;
                if (g_str_equal(name, XML_REGION_UFS_LUA1))
                        return DA_EMMC_REGION_BOOT2;
                if (g_str_equal(name, XML_REGION_UFS_LUA2))
                        return DA_EMMC_REGION_USER;
                return 0;
        }
        if (g_str_equal(name, XML_REGION_EMMC_BOOT1))
                return DA_EMMC_REGION_BOOT1;
        if (g_str_equal(name, XML_REGION_EMMC_BOOT2))
                return DA_EMMC_REGION_BOOT2;
        if (g_str_equal(name, XML_REGION_EMMC_USER))
                return DA_EMMC_REGION_USER;
        return 0;
}

static uint32_t sector_size(SimPhone *p) {
        return sim_storage_is_ufs(p->storage) ? XML_SECTOR_UFS : XML_SECTOR_EMMC;
}

static uint32_t le32(const uint8_t *b) {
        return rd32(b);
}
static uint64_t le64(const uint8_t *b) {
        return (uint64_t) rd32(b) | (uint64_t) rd32(b + 4) << 32;
}

typedef struct Part {
        char name[72];
        uint64_t start, size;  /* bytes in USER (LU2) */
} Part;

/* The DA's own partition table: the primary GPT of USER (LU2), entries
 * with a type GUID; PGPT and SGPT as pseudo-partitions (§5.3).  Returns
 * the number of entries put in parts (at most max). */
static size_t gpt_read(SimPhone *p, Part *parts, size_t max) {
        uint32_t sec = sector_size(p);
        uint64_t user = sim_storage_region_size(p->storage, DA_EMMC_REGION_USER);
        g_autofree uint8_t *hdr = g_malloc0(sec);
        g_autofree uint8_t *ents = NULL;
        uint64_t entries_lba, first_usable, alt_lba;
        uint32_t count, esize;
        size_t n = 0, bytes;

        if (max < 2 || user < 2 * (uint64_t) sec)
                return 0;
        sim_storage_read(p->storage, DA_EMMC_REGION_USER, sec, hdr, sec);
        if (memcmp(hdr, "EFI PART", 8) != 0)
                return 0;
        first_usable = le64(hdr + 40);
        alt_lba = le64(hdr + 32);
        entries_lba = le64(hdr + 72);
        count = le32(hdr + 80);
        esize = le32(hdr + 84);
        if (esize < 128 || esize > 4096 || count > 1024)
                return 0;
        bytes = (size_t) count * esize;
        if (entries_lba * sec + bytes > user)
                return 0;
        g_snprintf(parts[n].name, sizeof(parts[n].name), "PGPT");
        parts[n].start = 0;
        parts[n].size = first_usable * sec;
        n++;
        ents = g_malloc(bytes);
        sim_storage_read(p->storage, DA_EMMC_REGION_USER, entries_lba * sec, ents, bytes);
        for (uint32_t i = 0; i < count && n + 1 < max; i++) {
                const uint8_t *e = ents + (size_t) i * esize;
                uint64_t first = le64(e + 32), last = le64(e + 40);
                g_autofree char *name = NULL;
                gunichar2 u[36];
                static const uint8_t zero[16];

                if (memcmp(e, zero, 16) == 0 || last < first)
                        continue;
                memcpy(u, e + 56, sizeof(u));
                name = g_utf16_to_utf8(u, 36, NULL, NULL, NULL);
                g_strlcpy(parts[n].name, name ? name : "", sizeof(parts[n].name));
                parts[n].start = first * sec;
                parts[n].size = (last + 1 - first) * sec;
                n++;
        }
        /* the secondary GPT: its entries before the backup header in the last LBA */
        if (alt_lba * sec < user) {
                uint64_t ent_sectors = (bytes + sec - 1) / sec;

                g_snprintf(parts[n].name, sizeof(parts[n].name), "SGPT");
                parts[n].start = (alt_lba - ent_sectors) * sec;
                parts[n].size = user - parts[n].start;
                n++;
        }
        return n;
}

#define XML_MAX_PARTS 160

static bool part_find(SimPhone *p, const char *name, Part *ret) {
        g_autofree Part *parts = g_new0(Part, XML_MAX_PARTS);
        size_t n = gpt_read(p, parts, XML_MAX_PARTS);

        for (size_t i = 0; i < n; i++)
                if (g_str_equal(parts[i].name, name)) {
                        *ret = parts[i];
                        return true;
                }
        return false;
}

/* ------------------------------------------------------------ result documents (§5) */

static char *hex_upper(const uint8_t *b, size_t n) {
        GString *s = g_string_new(NULL);

        for (size_t i = 0; i < n; i++)
                g_string_append_printf(s, "%02X", b[i]);
        return g_string_free(s, FALSE);
}

/* §5.1 */
static char *hw_info_doc(SimPhone *p) {
        const SimStorage *st = p->storage;
        GString *s = g_string_new(XML_PROLOG);
        uint8_t rnd[16];
        g_autofree char *rnd_hex = NULL;

        for (size_t i = 0; i < sizeof(rnd); i++)
                rnd[i] = p->cfg.soc_id[i] ^ 0x5a; /* per phone (assumed, as the XFlash RANDOM_ID) */
        rnd_hex = hex_upper(rnd, sizeof(rnd));
        g_string_append_printf(s,
                               "<da_hw_info><version>1.2</version><ram_size>0x%llx</ram_size>"
                               "<battery_voltage>%d</battery_voltage><random_id>%s</random_id>",
                               (unsigned long long) XML_RAM_SIZE, XML_BATTERY_MV, rnd_hex);
        if (sim_storage_is_ufs(st)) {
                g_string_append_printf(s,
                                       "<storage>%s</storage><ufs><block_size>0x%x</block_size>"
                                       "<lua0_size>0x%llx</lua0_size><lua1_size>0x%llx</lua1_size>"
                                       "<lua2_size>0x%llx</lua2_size><lua3_size>0</lua3_size><id>%s</id></ufs>"
                                       "<product_id>%.15s</product_id></da_hw_info>",
                                       XML_STORAGE_UFS, XML_SECTOR_UFS,
                                       (unsigned long long) sim_storage_region_size(st, DA_EMMC_REGION_BOOT1),
                                       (unsigned long long) sim_storage_region_size(st, DA_EMMC_REGION_BOOT2),
                                       (unsigned long long) sim_storage_region_size(st, DA_EMMC_REGION_USER),
                                       sim_storage_ufs_serial(st), (const char *) sim_storage_ufs_product(st));
        } else {
                g_autofree char *cid = hex_upper(sim_storage_cid(st), 16);

                g_string_append_printf(s,
                                       "<storage>%s</storage><emmc><block_size>0x%x</block_size>"
                                       "<boot1_size>0x%llx</boot1_size><boot2_size>0x%llx</boot2_size>"
                                       "<rpmb_size>0x%llx</rpmb_size><user_size>0x%llx</user_size>"
                                       "<gp1_size>0</gp1_size><gp2_size>0</gp2_size><gp3_size>0</gp3_size>"
                                       "<gp4_size>0</gp4_size><id>%s</id></emmc><product_id>%.6s</product_id>"
                                       "</da_hw_info>",
                                       XML_STORAGE_EMMC, XML_SECTOR_EMMC,
                                       (unsigned long long) sim_storage_region_size(st, DA_EMMC_REGION_BOOT1),
                                       (unsigned long long) sim_storage_region_size(st, DA_EMMC_REGION_BOOT2),
                                       (unsigned long long) XML_RPMB_SIZE,
                                       (unsigned long long) sim_storage_region_size(st, DA_EMMC_REGION_USER), cid,
                                       (const char *) sim_storage_cid(st) + 3);
        }
        return g_string_free(s, FALSE);
}

static char *partition_table_doc(SimPhone *p) {
        g_autofree Part *parts = g_new0(Part, XML_MAX_PARTS);
        size_t n = gpt_read(p, parts, XML_MAX_PARTS);
        GString *s = g_string_new(XML_PROLOG "<partition_table version=\"1.0\">");

        for (size_t i = 0; i < n; i++) {
                g_autofree char *name = g_markup_escape_text(parts[i].name, -1);

                g_string_append_printf(s, "<pt><name>%s</name><start>0x%llx</start><size>0x%llx</size></pt>", name,
                                       (unsigned long long) parts[i].start, (unsigned long long) parts[i].size);
        }
        g_string_append(s, "</partition_table>");
        return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------ BOOT-TO (§4.1, §4.4) */

static bool da2_matches_slot(SimPhone *p) {
        g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
        uint8_t digest[32];
        gsize dlen = sizeof(digest);
        uint64_t slot;

        if (p->da_len < p->da_sig_len + XML_HASH_SLOT_BEFORE_SIG || p->da1_image->len != p->da_len)
                return false;
        slot = p->da_len - p->da_sig_len - XML_HASH_SLOT_BEFORE_SIG;
        g_checksum_update(c, p->xml.buf->data, p->xml.buf->len);
        g_checksum_get_digest(c, digest, &dlen);
        return memcmp(p->da1_image->data + slot, digest, sizeof(digest)) == 0;
}

static void boot_to_done(SimPhone *p) {
        bool check = true, reject;

        switch (p->cfg.xml_da2_check) {
        case SIM_XML_DA2_CHECK_SLOT:
                check = true;
                break;
        case SIM_XML_DA2_CHECK_SBC:
                check = (p->cfg.target_config & BROM_TGT_CFG_SBC) != 0;
                break;
        case SIM_XML_DA2_CHECK_NONE:
                check = false;
                break;
        }
        /* fault da-reject (da-reject@CMD:BOOT-TO): refused whatever the image */
        reject = p->fault == SIM_FAULT_DA_REJECT;
        if (reject)
                p->fault = SIM_FAULT_NONE;
        if (reject || (check && !da2_matches_slot(p))) {
                p->xml.boot_refused++;
                cmd_fail(p, "DA hash validation failed. 2nd DA is refused.");
                return;
        }
        /* DA2 runs: its CMD:END and everything after it come from DA2 */
        p->xml.da2 = true;
        p->xml.hw_init = false;
        sim_phone_enter(p, PHASE_XML_DA2);
        p->xml.after_end = AFTER_START;
        cmd_end(p, true, XML_MSG_OK);
}

/* ------------------------------------------------------------ commands */

static void rw_done(SimPhone *p, bool write) {
        SimXml *x = &p->xml;

        if (write) {
                p->writes++;
                p->write_bytes += x->len;
                p->write_us += p->now - p->cmd_start_us;
        } else {
                p->reads++;
                p->read_bytes += x->len;
                p->read_us += p->now - p->cmd_start_us;
        }
        p->rw_last_us = p->now;
}

static void rw_begin(SimPhone *p) {
        p->cmd_start_us = p->now;
        if (!p->rw_first_us)
                p->rw_first_us = p->now;
}

/* The command's next step, after its sub-dialogue number cstep ended
 * (cstep 0: the command was just accepted) */
static void cmd_run(SimPhone *p) {
        SimXml *x = &p->xml;
        unsigned step = x->cstep++;

        x->after_end = AFTER_START;
        switch ((XmlCmd) x->cmd) {
        case C_SET_RUNTIME_PARAMETER:
        case C_HOST_SUPPORTED_COMMANDS:
        case C_SET_HOST_INFO:
        case C_CAN_HIGHER_USB_SPEED:
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_NOTIFY_INIT_HW:
                if (step == 0) {
                        progress_begin(p, XML_PROGRESS_INIT);
                        return;
                }
                x->hw_init = true;
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_BOOT_TO:
                if (step == 0) {
                        download_begin(p, XML_INFO_2ND_DA, false, XML_BOOT_TO_PACKET_LENGTH, XML_MAX_PAYLOAD);
                        return;
                }
                boot_to_done(p);
                return;
        case C_GET_HW_INFO:
                if (step == 0) {
                        g_autofree char *doc = hw_info_doc(p);

                        upload_doc(p, doc);
                        return;
                }
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_GET_SYS_PROPERTY:
                if (step == 0) {
                        g_autofree char *doc = NULL;

                        if (!g_str_equal(x->arg, XML_SYS_PROP_DA_SLA)) {
                                cmd_fail(p, "Unsupported property: %s", x->arg); /* [SIM] text */
                                return;
                        }
                        doc = g_strdup_printf(XML_PROLOG "<sys_prop version=\"1.0\"><item key=\"%s\">%s</item>"
                                                         "</sys_prop>",
                                              XML_SYS_PROP_DA_SLA, p->cfg.sla ? XML_SLA_ENABLED : XML_SLA_DISABLED);
                        upload_doc(p, doc);
                        return;
                }
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_EMMC_CONTROL:
                if (step == 0) {
                        if (!g_str_equal(x->arg, XML_EMMC_LIFE_CYCLE_STATUS)) {
                                cmd_fail(p, "Unsupported function: %s", x->arg);
                                return;
                        }
                        /* §5.5: the small result mtkclient compares with OK\0 */
                        g_byte_array_set_size(x->buf, 0);
                        g_byte_array_append(x->buf, (const guint8 *) XML_REPLY_OK, sizeof(XML_REPLY_OK));
                        upload_begin(p, "", false, x->buf->len);
                        return;
                }
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_GET_DA_INFO:
                if (step == 0) {
                        g_autofree char *doc = g_strdup_printf(XML_PROLOG "<da_info><version>1.0</version>"
                                                                          "<da_version>%s</da_version><build>%s</build>"
                                                                          "</da_info>",
                                                               XML_DA_VERSION, XML_DA_BUILD);

                        upload_doc(p, doc);
                        return;
                }
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_READ_PARTITION_TABLE:
                if (step == 0) {
                        g_autofree char *doc = partition_table_doc(p);

                        upload_doc(p, doc);
                        return;
                }
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_READ_FLASH:
        case C_READ_PARTITION:
                if (step == 0) {
                        uint64_t size;

                        if (p->cfg.sla) {
                                cmd_fail(p, "DA SLA is not authorized: %s refused", cmds[x->cmd].name);
                                return;
                        }
                        if (x->cmd == C_READ_PARTITION) {
                                Part part;

                                if (!part_find(p, x->arg, &part)) {
                                        cmd_fail(p, "Cannot find [%s] in partition table.", x->arg);
                                        return;
                                }
                                x->region = DA_EMMC_REGION_USER;
                                x->addr = part.start;
                                x->len = part.size;
                        } else {
                                x->region = region_by_name(p, x->arg);
                                if (!x->region) {
                                        cmd_fail(p, "Unknown storage region: %s", x->arg); /* [SIM] text */
                                        return;
                                }
                        }
                        size = sim_storage_region_size(p->storage, x->region);
                        if (x->addr > size || x->len > size - x->addr || x->len == 0) {
                                cmd_fail(p, "Read length[%llx] is larger than partition max size[%llx]",
                                         (unsigned long long) x->len,
                                         (unsigned long long) (x->addr > size ? 0 : size - x->addr));
                                return;
                        }
                        rw_begin(p);
                        upload_begin(p, "", true, x->len);
                        return;
                }
                rw_done(p, false);
                cmd_end(p, true, XML_MSG_OK);
                return;
        case C_WRITE_FLASH:
                switch (step) {
                case 0:
                        if (p->cfg.sla) {
                                cmd_fail(p, "DA SLA is not authorized: %s refused", cmds[x->cmd].name);
                                return;
                        }
                        x->region = region_by_name(p, x->arg);
                        if (!x->region) {
                                cmd_fail(p, "Unknown storage region: %s", x->arg);
                                return;
                        }
                        rw_begin(p);
                        fs_begin(p, XML_FS_FILE_SIZE);
                        return;
                case 1: {
                        uint64_t size = sim_storage_region_size(p->storage, x->region);
                        uint64_t room = x->addr > size ? 0 : size - x->addr;

                        if (x->fs_value > room) {
                                cmd_fail(p, "Host file size[%llx] is larger than max partition available size[%llx]",
                                         (unsigned long long) x->fs_value, (unsigned long long) room);
                                return;
                        }
                        progress_begin(p, XML_PROGRESS_ERASE);
                        return;
                }
                case 2: {
                        /* the DOWNLOAD length may differ from FILE-SIZE; it must fit the region */
                        uint64_t size = sim_storage_region_size(p->storage, x->region);

                        download_begin(p, "", true, p->cfg.xml_write_packet, x->addr > size ? 0 : size - x->addr);
                        return;
                }
                default:
                        rw_done(p, true);
                        cmd_end(p, true, XML_MSG_OK);
                        return;
                }
        case C_REBOOT:
                if (g_str_equal(x->arg, XML_REBOOT_IMMEDIATE)) {
                        x->reboot = "immediate";
                        cmd_end(p, true, XML_MSG_OK);
                        x->after_end = AFTER_REBOOT;
                } else if (g_str_equal(x->arg, XML_REBOOT_DISCONNECT)) {
                        x->reboot = "disconnect";
                        cmd_end(p, true, XML_MSG_OK);
                        x->after_end = AFTER_DISCONNECT;
                } else
                        cmd_fail(p, "Unknown reboot action: %s", x->arg);
                return;
        }
}

static int cmd_lookup(const char *name) {
        for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
                if (g_str_equal(cmds[i].name, name))
                        return (int) i;
        return -1;
}

/* A number argument (hex 0x… or decimal) or a clear END ERR */
static bool arg_number(SimPhone *p, xmlDocPtr doc, const char *name, uint64_t *ret) {
        g_autofree char *v = doc_get(doc, "arg", name);

        if (!v) {
                cmd_fail(p, "Missing argument: %s", name); /* [SIM] text */
                return false;
        }
        if (!parse_number(p, v, strlen(v), ret)) {
                cmd_fail(p, "Invalid number [%s] for %s", v, name); /* [SIM] text */
                return false;
        }
        return true;
}

static bool arg_text(SimPhone *p, xmlDocPtr doc, const char *name, char *dst) {
        g_autofree char *v = doc_get(doc, "arg", name);

        if (!v) {
                cmd_fail(p, "Missing argument: %s", name);
                return false;
        }
        copy_arg(dst, v);
        return true;
}

/* The command's arguments by tag path (§3.1); false when it already failed */
static bool cmd_args(SimPhone *p, xmlDocPtr doc) {
        SimXml *x = &p->xml;
        g_autofree char *t = NULL;

        x->arg[0] = x->target[0] = 0;
        x->addr = x->len = 0;
        switch ((XmlCmd) x->cmd) {
        case C_SET_RUNTIME_PARAMETER: {
                g_autofree char *lvl = doc_get(doc, "arg", "checksum_level");

                if (lvl)
                        g_strlcpy(x->checksum_level, lvl, sizeof(x->checksum_level));
                return true;
        }
        case C_HOST_SUPPORTED_COMMANDS:
        case C_NOTIFY_INIT_HW:
        case C_SET_HOST_INFO:
        case C_CAN_HIGHER_USB_SPEED:
                return true;
        case C_BOOT_TO:
                t = doc_get(doc, "arg", "source_file");
                copy_arg(x->target, t);
                return true;
        case C_GET_HW_INFO:
        case C_GET_DA_INFO:
        case C_READ_PARTITION_TABLE:
                t = doc_get(doc, "arg", "target_file");
                copy_arg(x->target, t);
                return true;
        case C_GET_SYS_PROPERTY:
                t = doc_get(doc, "arg", "target_file");
                copy_arg(x->target, t);
                return arg_text(p, doc, "key", x->arg);
        case C_EMMC_CONTROL:
                t = doc_get(doc, "arg", "target_file");
                copy_arg(x->target, t);
                return arg_text(p, doc, "function", x->arg);
        case C_REBOOT:
                return arg_text(p, doc, "action", x->arg);
        case C_READ_FLASH:
                t = doc_get(doc, "arg", "target_file");
                copy_arg(x->target, t);
                return arg_text(p, doc, "partition", x->arg) && arg_number(p, doc, "offset", &x->addr) &&
                       arg_number(p, doc, "length", &x->len);
        case C_READ_PARTITION:
                t = doc_get(doc, "arg", "target_file");
                copy_arg(x->target, t);
                return arg_text(p, doc, "partition", x->arg);
        case C_WRITE_FLASH:
                t = doc_get(doc, "arg", "source_file");
                copy_arg(x->target, t);
                return arg_text(p, doc, "partition", x->arg) && arg_number(p, doc, "offset", &x->addr);
        }
        return true;
}

/* A document while idle: a command (§3.1) */
static void cmd_document(SimPhone *p, const uint8_t *d, uint32_t len) {
        SimXml *x = &p->xml;
        size_t n = strnlen((const char *) d, len);
        xmlDocPtr doc = NULL;
        xmlNodePtr root;
        g_autofree char *name = NULL;
        int id, c;

        doc = xmlReadMemory((const char *) d, (int) n, NULL, "UTF-8",
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (root && xmlStrEqual(root->name, BAD_CAST XML_ROOT_HOST_DOC))
                name = doc_get(doc, "command", NULL);
        if (!name) {
                /* §3.5: the DA's own marker for host XML it cannot read [SIM: sent as END's message] */
                p->xml.protocol_errors++;
                x->cmd = -1;
                cmd_fail(p, "#XML-FORMAT-ERR#");
                xmlFreeDoc(doc);
                return;
        }
        id = sim_xml_command_id(name);
        c = cmd_lookup(name);
        x->last_cmd = c >= 0 ? cmds[c].name : "unknown";
        sim_phone_note_named(p, id < 0 ? SIM_XML_CMD_ID_BASE : id, name);
        if (p->fault == SIM_FAULT_UNPLUG_AFTER_CMD && (uint64_t) id == p->fault_arg)
                sim_phone_leave(p, SIM_LEAVE_GONE, RESET_NONE, true);
        /* stall@OP: from this command on it answers nothing */
        if (p->leave != SIM_LEAVE_NONE || p->fault == SIM_FAULT_STALL) {
                xmlFreeDoc(doc);
                return;
        }
        if (c < 0 || !(x->da2 ? cmds[c].da2 : cmds[c].da1)) {
                /* §3.3 */
                x->unsupported++;
                x->cmd = -1;
                send_text(p, XML_REPLY_UNSUPPORTED);
                cmd_fail(p, "Unsupported command: %s", name); /* [SIM] text */
                xmlFreeDoc(doc);
                return;
        }
        x->cmd = c;
        x->cstep = 0;
        if (p->fault == SIM_FAULT_NACK) {
                /* §7: a CMD:END instead of the expected OK; the command does not run */
                p->fault = SIM_FAULT_NONE;
                cmd_fail(p, "%s refused", name); /* [SIM] text */
                xmlFreeDoc(doc);
                return;
        }
        send_text(p, XML_REPLY_OK);
        if (cmd_args(p, doc))
                cmd_run(p);
        xmlFreeDoc(doc);
}

/* The host's reply was not what the step wants: the command ends with an error (assumed) */
static void bad_reply(SimPhone *p, const char *want) {
        p->xml.bad_replies++;
        cmd_fail(p, "Host reply error: expected %s", want); /* [SIM] text */
}

static void after_end(SimPhone *p) {
        switch ((XmlAfter) p->xml.after_end) {
        case AFTER_REBOOT:
                p->xml.wait = XW_NONE;
                sim_phone_reset_chip(p, RESET_XML_REBOOT);
                return;
        case AFTER_DISCONNECT:
                p->xml.wait = XW_NONE;
                sim_phone_leave(p, SIM_LEAVE_POWER_OFF, RESET_NONE, false);
                return;
        case AFTER_START:
                p->xml.cmd = -1;
                send_start(p);
                return;
        }
}

static void upload_next(SimPhone *p) {
        SimXml *x = &p->xml;

        if (x->off >= x->len) {
                cmd_run(p);
                return;
        }
        if (chunk_fault(p))
                return;
        send_text(p, XML_REPLY_OK);
        x->wait = XW_UP_OK_ACK;
}

static void upload_chunk(SimPhone *p) {
        SimXml *x = &p->xml;
        size_t n = (size_t) MIN(x->len - x->off, (uint64_t) x->packet);

        if (x->from_storage) {
                p->chunk = g_realloc(p->chunk, n);
                sim_storage_read(p->storage, x->region, x->addr + x->off, p->chunk, n);
                send_packet(p, p->chunk, n);
                sim_phone_count_da(p, n);
        } else
                send_packet(p, x->buf->data + x->off, n);
        x->off += n;
        x->wait = XW_UP_DATA_ACK;
}

static void download_data(SimPhone *p, const uint8_t *d, uint32_t len) {
        SimXml *x = &p->xml;

        if (len == 0 || len > x->packet || len > x->len - x->off) {
                p->xml.protocol_errors++;
                cmd_fail(p, "Data length[%x] is larger than expected[%llx]", len,
                         (unsigned long long) MIN((uint64_t) x->packet, x->len - x->off)); /* [SIM] text */
                return;
        }
        if (x->from_storage) {
                sim_phone_count_da(p, len);
                if (p->leave != SIM_LEAVE_NONE)
                        return;
                if (chunk_fault(p))
                        return;
                p->chunk = g_realloc(p->chunk, len);
                memcpy(p->chunk, d, len);
                if (p->fault == SIM_FAULT_CORRUPT_WRITE) {
                        p->fault = SIM_FAULT_NONE;
                        p->chunk[len / 2] ^= 0x01;
                }
                sim_storage_write(p->storage, x->region, x->addr + x->off, p->chunk, len);
        } else {
                if (chunk_fault(p))
                        return;
                g_byte_array_append(x->buf, d, len);
        }
        x->off += len;
        send_text(p, XML_REPLY_OK);
        if (x->off < x->len)
                x->wait = XW_DN_CHUNK;
        else
                cmd_run(p);
}

/* One packet from the host in the state the DA is in */
static void on_packet(SimPhone *p, const uint8_t *d, uint32_t len) {
        SimXml *x = &p->xml;
        bool ok = reply_is(d, len, XML_REPLY_OK);
        uint64_t v;

        switch ((XmlWait) x->wait) {
        case XW_NONE:
        case XW_HALTED:
                return;
        case XW_START_ACK:
                if (!ok) {
                        /* §3.1 [DAFILE]: "REVEIVING Start CMD Result ERROR … halt" */
                        x->wait = XW_HALTED;
                        p->events++;
                        return;
                }
                x->wait = XW_IDLE;
                return;
        case XW_END_ACK:
                if (!ok) {
                        x->wait = XW_HALTED;
                        p->events++;
                        return;
                }
                after_end(p);
                return;
        case XW_IDLE:
                if (ok) {
                        /* §5.4: mtkclient's extra OK after WRITE-FLASH */
                        x->stray_oks++;
                        return;
                }
                cmd_document(p, d, len);
                return;
        case XW_UP_DOC_ACK: {
                char b[32];

                if (!ok) {
                        bad_reply(p, "OK");
                        return;
                }
                g_snprintf(b, sizeof(b), XML_REPLY_OK_VALUE_PREFIX "0x%llx", (unsigned long long) x->len);
                send_text(p, b);
                x->wait = XW_UP_LEN_ACK;
                return;
        }
        case XW_UP_LEN_ACK:
        case XW_UP_DATA_ACK:
                if (!ok) {
                        bad_reply(p, "OK");
                        return;
                }
                upload_next(p);
                return;
        case XW_UP_OK_ACK:
                if (!ok) {
                        bad_reply(p, "OK");
                        return;
                }
                upload_chunk(p);
                return;
        case XW_DN_DOC_ACK:
                if (!ok) {
                        bad_reply(p, "OK");
                        return;
                }
                x->wait = XW_DN_LEN;
                return;
        case XW_DN_LEN:
                if (!reply_value(p, d, len, &v)) {
                        bad_reply(p, "OK@<length>");
                        return;
                }
                if (v > x->max) {
                        if (x->cmd == C_WRITE_FLASH)
                                cmd_fail(p, "Host file size[%llx] is larger than max partition available size[%llx]",
                                         (unsigned long long) v, (unsigned long long) x->max);
                        else
                                cmd_fail(p, "Data length[%llx] is larger than buffer size[%llx]",
                                         (unsigned long long) v, (unsigned long long) x->max); /* [SIM] text */
                        return;
                }
                x->len = v;
                x->off = 0;
                send_text(p, XML_REPLY_OK);
                if (v == 0)
                        cmd_run(p);
                else
                        x->wait = XW_DN_CHUNK;
                return;
        case XW_DN_CHUNK:
                /* OK@0x0 before each chunk (§3.2); its value is not used */
                if (!reply_value(p, d, len, &v)) {
                        bad_reply(p, "OK@0x0");
                        return;
                }
                send_text(p, XML_REPLY_OK);
                x->wait = XW_DN_DATA;
                return;
        case XW_DN_DATA:
                download_data(p, d, len);
                return;
        case XW_FS_DOC_ACK:
                if (!ok) {
                        bad_reply(p, "OK");
                        return;
                }
                x->wait = XW_FS_ANSWER;
                return;
        case XW_FS_ANSWER:
                /* no DA ack follows the answer (§3.2) */
                if (!reply_value(p, d, len, &x->fs_value)) {
                        bad_reply(p, "OK@<file size>");
                        return;
                }
                cmd_run(p);
                return;
        case XW_PR_DOC_ACK:
        case XW_PR_ACK: {
                char b[64];

                if (!ok) {
                        bad_reply(p, "OK");
                        return;
                }
                /* two lines, 0 % and 100 % [SIM], then OK!EOT */
                if (x->progress < 2) {
                        g_snprintf(b, sizeof(b), XML_REPLY_PROGRESS_PREFIX "%u@%s", x->progress * 100,
                                   x->progress_msg);
                        x->progress++;
                        send_text(p, b);
                        x->wait = XW_PR_ACK;
                        return;
                }
                send_text(p, XML_REPLY_EOT);
                x->wait = XW_PR_EOT_ACK;
                return;
        }
        case XW_PR_EOT_ACK:
                if (!ok) {
                        bad_reply(p, "OK");
                        return;
                }
                cmd_run(p);
                return;
        }
}

bool sim_xml_step(SimPhone *p) {
        const uint8_t *d;
        uint32_t len;

        if (p->fault == SIM_FAULT_STALL || !next_packet(p, &d, &len))
                return false;
        on_packet(p, d, len);
        /* the packet may be gone already (an unplug fault cleared everything) */
        if (p->rx->len >= XML_HEADER_SIZE + (size_t) len)
                g_byte_array_remove_range(p->rx, 0, XML_HEADER_SIZE + len);
        return true;
}

void sim_xml_stats(SimPhone *p, GString *s) {
        const SimXml *x = &p->xml;

        g_string_append_printf(s,
                               " da_protocol=xml storage_type=%s xml_stage=%s xml_wait=%s xml_last_cmd=%s"
                               " xml_last_result=%s xml_checksum_level=%s xml_hw_init=%d xml_unsupported=%u"
                               " xml_boot_refused=%u xml_stray_oks=%u xml_protocol_errors=%u xml_bad_replies=%u"
                               " xml_reboot=%s",
                               sim_storage_is_ufs(p->storage) ? "ufs" : "emmc", x->da2 ? "da2" : "da1",
                               wait_names[x->wait], x->last_cmd ? x->last_cmd : "none",
                               x->last_result ? x->last_result : "none", x->checksum_level, x->hw_init ? 1 : 0,
                               x->unsupported, x->boot_refused, x->stray_oks, x->protocol_errors, x->bad_replies,
                               x->reboot ? x->reboot : "none");
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "xml-packet.h"

/* Longer than any short reply a DA sends (§2.1): a payload beyond this is data. */
#define XML_REPLY_TEXT_MAX 512

static inline void xml_docp(xmlDocPtr *d) {
        if (*d)
                xmlFreeDoc(*d);
}
static inline void xml_bufferp(xmlBufferPtr *b) {
        if (*b)
                xmlBufferFree(*b);
}
static inline void xml_charp(xmlChar **c) {
        if (*c)
                xmlFree(*c);
}

/* ------------------------------------------------------------ host documents */

static int add_fields(xmlNodePtr parent, const char *name, const XmlField *f, size_t n) {
        xmlNodePtr group;

        if (n == 0)
                return 0;
        group = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
        if (!group)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!f[i].name || !f[i].value || xmlValidateNameValue(BAD_CAST f[i].name) != 1)
                        return -EINVAL;
                /* a text child: libxml2 escapes what must be escaped */
                if (!xmlNewTextChild(group, NULL, BAD_CAST f[i].name, BAD_CAST f[i].value))
                        return -ENOMEM;
        }
        return 0;
}

int xml_build_command(const char *version, const char *command, const XmlField *arg, size_t n_arg,
                      const XmlField *adv, size_t n_adv, char **ret, size_t *ret_len) {
        _cleanup_(xml_docp) xmlDocPtr doc = NULL;
        _cleanup_(xml_bufferp) xmlBufferPtr buf = NULL;
        xmlNodePtr root;
        size_t prolog = strlen(XML_PROLOG), body;
        char *out;
        int r;

        if (!version || !command)
                return -EINVAL;
        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        root = xmlNewDocNode(doc, NULL, BAD_CAST XML_ROOT_HOST_DOC, NULL);
        if (!root)
                return -ENOMEM;
        xmlDocSetRootElement(doc, root);
        if (!xmlNewTextChild(root, NULL, BAD_CAST XML_TAG_VERSION, BAD_CAST version) ||
            !xmlNewTextChild(root, NULL, BAD_CAST XML_TAG_COMMAND, BAD_CAST command))
                return -ENOMEM;
        r = add_fields(root, XML_TAG_ARG, arg, n_arg);
        if (r < 0)
                return r;
        r = add_fields(root, XML_TAG_ADV, adv, n_adv);
        if (r < 0)
                return r;

        /* the element alone, unformatted: the prolog is §3.1's exact
         * text, which libxml2's own declaration (with its newline) is not */
        buf = xmlBufferCreate();
        if (!buf)
                return -ENOMEM;
        if (xmlNodeDump(buf, doc, root, 0, 0) < 0)
                return -ENOMEM;
        body = (size_t) xmlBufferLength(buf);
        out = malloc(prolog + body + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, XML_PROLOG, prolog);
        memcpy(out + prolog, xmlBufferContent(buf), body);
        out[prolog + body] = 0;
        *ret = out;
        *ret_len = prolog + body + 1;
        return 0;
}

static int build(const char *command, const XmlField *arg, size_t n_arg, char **ret, size_t *ret_len) {
        return xml_build_command(XML_VERSION_DEFAULT, command, arg, n_arg, NULL, 0, ret, ret_len);
}

static void mem_file(char *buf, size_t size, uint64_t len) {
        snprintf(buf, size, XML_MEM_FILE_PREFIX "0x0:0x%" PRIx64, len);
}

int xml_build_set_runtime_parameter(char **ret, size_t *ret_len) {
        /* §4.4 row 2: no checksums on data, UART logging (so that no log
         * message packets come over USB), Linux; DA1 sets up the DRAM */
        static const XmlField arg[] = {
                { XML_TAG_CHECKSUM_LEVEL, XML_CHECKSUM_LEVEL_NONE },
                { XML_TAG_BATTERY_EXIST, XML_BATTERY_AUTO_DETECT },
                { XML_TAG_DA_LOG_LEVEL, XML_DA_LOG_LEVEL_INFO },
                { XML_TAG_LOG_CHANNEL, XML_LOG_CHANNEL_UART },
                { XML_TAG_SYSTEM_OS, XML_SYSTEM_OS_LINUX },
        };
        static const XmlField adv[] = { { XML_TAG_INITIALIZE_DRAM, XML_INITIALIZE_DRAM_YES } };

        return xml_build_command(XML_VERSION_RUNTIME_PARAM, XML_CMD_SET_RUNTIME_PARAMETER, arg, ELEMENTSOF(arg), adv,
                                 ELEMENTSOF(adv), ret, ret_len);
}

int xml_build_host_supported_commands(char **ret, size_t *ret_len) {
        static const XmlField arg[] = { { XML_TAG_HOST_CAPABILITY, XML_HOST_CAPABILITY } };

        return build(XML_CMD_HOST_SUPPORTED_COMMANDS, arg, ELEMENTSOF(arg), ret, ret_len);
}

int xml_build_notify_init_hw(char **ret, size_t *ret_len) {
        return build(XML_CMD_NOTIFY_INIT_HW, NULL, 0, ret, ret_len);
}

int xml_build_set_host_info(const char *info, char **ret, size_t *ret_len) {
        XmlField arg[] = { { XML_TAG_INFO, info } };

        return build(XML_CMD_SET_HOST_INFO, arg, ELEMENTSOF(arg), ret, ret_len);
}

int xml_build_boot_to(uint64_t addr, uint64_t len, char **ret, size_t *ret_len) {
        char a[24], file[64];
        XmlField arg[] = {
                { XML_TAG_AT_ADDRESS, a },
                { XML_TAG_JMP_ADDRESS, a },
                { XML_TAG_SOURCE_FILE, file },
        };

        snprintf(a, sizeof(a), "0x%" PRIx64, addr);
        mem_file(file, sizeof(file), len);
        return build(XML_CMD_BOOT_TO, arg, ELEMENTSOF(arg), ret, ret_len);
}

int xml_build_get_hw_info(uint64_t max, char **ret, size_t *ret_len) {
        char file[64];
        XmlField arg[] = { { XML_TAG_TARGET_FILE, file } };

        mem_file(file, sizeof(file), max);
        return build(XML_CMD_GET_HW_INFO, arg, ELEMENTSOF(arg), ret, ret_len);
}

int xml_build_get_sys_property(const char *key, uint64_t max, char **ret, size_t *ret_len) {
        char file[64];
        XmlField arg[] = { { XML_TAG_KEY, key }, { XML_TAG_TARGET_FILE, file } };

        mem_file(file, sizeof(file), max);
        return build(XML_CMD_GET_SYS_PROPERTY, arg, ELEMENTSOF(arg), ret, ret_len);
}

int xml_build_read_flash(const char *region, uint64_t offset, uint64_t length, char **ret, size_t *ret_len) {
        char o[24], l[24];
        XmlField arg[] = {
                { XML_TAG_PARTITION, region },
                { XML_TAG_OFFSET, o },
                { XML_TAG_LENGTH, l },
                { XML_TAG_TARGET_FILE, XML_TARGET_FILE_ROM },
        };

        snprintf(o, sizeof(o), "0x%" PRIx64, offset);
        snprintf(l, sizeof(l), "0x%" PRIx64, length);
        return build(XML_CMD_READ_FLASH, arg, ELEMENTSOF(arg), ret, ret_len);
}

int xml_build_write_flash(const char *region, uint64_t offset, uint64_t length, char **ret, size_t *ret_len) {
        char o[24], file[64];
        XmlField arg[] = {
                { XML_TAG_PARTITION, region },
                { XML_TAG_OFFSET, o },
                { XML_TAG_SOURCE_FILE, file },
        };

        snprintf(o, sizeof(o), "0x%" PRIx64, offset);
        mem_file(file, sizeof(file), length);
        return build(XML_CMD_WRITE_FLASH, arg, ELEMENTSOF(arg), ret, ret_len);
}

int xml_build_reboot(const char *action, char **ret, size_t *ret_len) {
        XmlField arg[] = { { XML_TAG_ACTION, action } };

        return build(XML_CMD_REBOOT, arg, ELEMENTSOF(arg), ret, ret_len);
}

/* ------------------------------------------------------------ short replies */

size_t xml_build_ok(uint8_t out[XML_REPLY_MAX]) {
        /* penumbra's 3-byte form; mtkclient's extra NUL carries nothing */
        memcpy(out, XML_REPLY_OK, sizeof(XML_REPLY_OK));
        return sizeof(XML_REPLY_OK);
}

size_t xml_build_ok_value(uint8_t out[XML_REPLY_MAX], uint64_t value) {
        int n = snprintf((char *) out, XML_REPLY_MAX, XML_REPLY_OK_VALUE_PREFIX "0x%" PRIx64, value);

        return (size_t) n + 1;
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

int xml_parse_number(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        unsigned base = 10;

        if (!s || !*s)
                return -EINVAL;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
                if (!*s)
                        return -EINVAL;
        }
        for (; *s; s++) {
                unsigned d;

                if (*s >= '0' && *s <= '9')
                        d = (unsigned) (*s - '0');
                else if (base == 16 && *s >= 'a' && *s <= 'f')
                        d = (unsigned) (*s - 'a' + 10);
                else if (base == 16 && *s >= 'A' && *s <= 'F')
                        d = (unsigned) (*s - 'A' + 10);
                else
                        return -EINVAL;
                if (v > (UINT64_MAX - d) / base)
                        return -EINVAL;
                v = v * base + d;
        }
        *ret = v;
        return 0;
}

/* Cut to fit: a reply's text is only shown, never parsed further. */
static void copy_cut(char *dst, size_t size, const char *src) {
        size_t n = MIN(strlen(src), size - 1);

        memcpy(dst, src, n);
        dst[n] = 0;
}

int xml_parse_reply(const uint8_t *b, size_t len, XmlReply *ret) {
        size_t n = strnlen((const char *) b, len);
        char s[XML_REPLY_TEXT_MAX + 1];

        if (n == 0 || n > XML_REPLY_TEXT_MAX)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)
                if (b[i] < 0x20 || b[i] > 0x7e)
                        return -EBADMSG;
        memcpy(s, b, n);
        s[n] = 0;
        *ret = (XmlReply) {};

        if (streq(s, XML_REPLY_OK)) {
                ret->kind = XML_REPLY_KIND_OK;
                return 0;
        }
        if (streq(s, XML_REPLY_EOT)) {
                ret->kind = XML_REPLY_KIND_EOT;
                return 0;
        }
        if (streq(s, XML_REPLY_UNSUPPORTED)) {
                ret->kind = XML_REPLY_KIND_UNSUPPORTED;
                return 0;
        }
        if (startswith(s, XML_REPLY_PROGRESS_PREFIX)) {
                const char *p = s + strlen(XML_REPLY_PROGRESS_PREFIX);
                unsigned v = 0;
                size_t digits = 0;

                /* OK!PROGRESS@%d@%s (§3.2) */
                for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
                        v = v * 10 + (unsigned) (*p - '0');
                if (digits == 0 || (*p && *p != '@'))
                        return -EBADMSG;
                ret->kind = XML_REPLY_KIND_PROGRESS;
                ret->percent = v;
                copy_cut(ret->text, sizeof(ret->text), *p ? p + 1 : "");
                return 0;
        }
        if (startswith(s, XML_REPLY_OK_VALUE_PREFIX)) {
                const char *v = s + strlen(XML_REPLY_OK_VALUE_PREFIX);

                ret->kind = XML_REPLY_KIND_VALUE;
                ret->has_value = xml_parse_number(v, &ret->value) >= 0;
                copy_cut(ret->text, sizeof(ret->text), v);
                return 0;
        }
        if (startswith(s, "ERR")) {
                ret->kind = XML_REPLY_KIND_ERROR;
                copy_cut(ret->text, sizeof(ret->text), s);
                return 0;
        }
        return -EBADMSG;
}

bool xml_payload_is_document(const uint8_t *b, size_t len) {
        for (size_t i = 0; i < len; i++) {
                if (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')
                        continue;
                return b[i] == '<';
        }
        return false;
}

/* ------------------------------------------------------------ reading documents */

/* Text up to the first NUL, parsed without the network, entities or a DTD. */
static xmlDocPtr doc_read(const uint8_t *b, size_t len, const char *root_name) {
        size_t n = strnlen((const char *) b, len);
        xmlDocPtr doc;
        xmlNodePtr root;

        if (n == 0 || n > XML_DOC_MAX)
                return NULL;
        doc = xmlReadMemory((const char *) b, (int) n, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return NULL;
        root = xmlDocGetRootElement(doc);
        /* a DA never declares a DTD: one here is not a DA's document */
        if (doc->intSubset || doc->extSubset || !root || !xmlStrEqual(root->name, BAD_CAST root_name)) {
                xmlFreeDoc(doc);
                return NULL;
        }
        return doc;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
                        return c;
        return NULL;
}

/* "arg/result" below node */
static xmlNodePtr node_at(xmlNodePtr node, const char *path) {
        char part[64];

        while (node && *path) {
                size_t k = strcspn(path, "/");

                if (k >= sizeof(part))
                        return NULL;
                memcpy(part, path, k);
                part[k] = 0;
                node = child(node, part);
                path += k;
                if (*path == '/')
                        path++;
        }
        return node;
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The element's text, white space around it dropped.  -ENOENT: no such
 * element; -ENAMETOOLONG: it does not fit (unless cut is set). */
static int node_text(xmlNodePtr node, char *out, size_t size, bool cut) {
        _cleanup_(xml_charp) xmlChar *c = NULL;
        const char *s, *e;
        size_t n;

        if (!node)
                return -ENOENT;
        c = xmlNodeGetContent(node);
        if (!c)
                return -ENOMEM;
        s = (const char *) c;
        while (is_space(*s))
                s++;
        e = s + strlen(s);
        while (e > s && is_space(e[-1]))
                e--;
        n = (size_t) (e - s);
        if (n >= size) {
                if (!cut)
                        return -ENAMETOOLONG;
                n = size - 1;
        }
        memcpy(out, s, n);
        out[n] = 0;
        return 0;
}

static int text_at(xmlNodePtr root, const char *path, char *out, size_t size, bool cut) {
        return node_text(node_at(root, path), out, size, cut);
}

/* A number at path; -ENOENT when absent, -EBADMSG when it is no number. */
static int number_at(xmlNodePtr root, const char *path, uint64_t *ret) {
        char s[32];
        int r = text_at(root, path, s, sizeof(s), false);

        if (r == -ENOENT)
                return r;
        if (r < 0 || xml_parse_number(s, ret) < 0)
                return -EBADMSG;
        return 0;
}

const char *xml_doc_kind_to_string(XmlDocKind k) {
        switch (k) {
        case XML_DOC_START:              return XML_CMD_START;
        case XML_DOC_END:                return XML_CMD_END;
        case XML_DOC_UPLOAD_FILE:        return XML_CMD_UPLOAD_FILE;
        case XML_DOC_DOWNLOAD_FILE:      return XML_CMD_DOWNLOAD_FILE;
        case XML_DOC_FILE_SYS_OPERATION: return XML_CMD_FILE_SYS_OPERATION;
        case XML_DOC_PROGRESS_REPORT:    return XML_CMD_PROGRESS_REPORT;
        case XML_DOC_OTHER:              return "another command";
        }
        return "?";
}

static const struct {
        const char *command;
        XmlDocKind kind;
} doc_kinds[] = {
        { XML_CMD_START, XML_DOC_START },
        { XML_CMD_END, XML_DOC_END },
        { XML_CMD_UPLOAD_FILE, XML_DOC_UPLOAD_FILE },
        { XML_CMD_DOWNLOAD_FILE, XML_DOC_DOWNLOAD_FILE },
        { XML_CMD_FILE_SYS_OPERATION, XML_DOC_FILE_SYS_OPERATION },
        { XML_CMD_PROGRESS_REPORT, XML_DOC_PROGRESS_REPORT },
};

static int parse_transfer(xmlNodePtr root, XmlDoc *d, const char *file_tag) {
        uint64_t v;

        if (number_at(root, XML_TAG_ARG "/" XML_TAG_PACKET_LENGTH, &v) < 0 || v == 0 || v > UINT32_MAX)
                return -EBADMSG;
        d->packet_length = (uint32_t) v;
        (void) text_at(root, XML_TAG_ARG "/" XML_TAG_CHECKSUM, d->checksum, sizeof(d->checksum), true);
        (void) text_at(root, XML_TAG_ARG "/" XML_TAG_INFO, d->info, sizeof(d->info), true);
        (void) text_at(root, file_tag, d->file, sizeof(d->file), true);
        return 0;
}

int xml_parse_doc(const uint8_t *b, size_t len, XmlDoc *ret) {
        _cleanup_(xml_docp) xmlDocPtr doc = doc_read(b, len, XML_ROOT_DA_DOC);
        xmlNodePtr root;
        XmlDoc d = { .kind = XML_DOC_OTHER };
        char result[16];

        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        if (text_at(root, XML_TAG_COMMAND, d.command, sizeof(d.command), false) < 0 || !d.command[0])
                return -EBADMSG;
        for (size_t i = 0; i < ELEMENTSOF(doc_kinds); i++)
                if (streq(d.command, doc_kinds[i].command))
                        d.kind = doc_kinds[i].kind;

        switch (d.kind) {
        case XML_DOC_END:
                if (text_at(root, XML_TAG_ARG "/" XML_TAG_RESULT, result, sizeof(result), false) < 0)
                        return -EBADMSG;
                if (streq(result, XML_RESULT_OK))
                        d.result_ok = true;
                else if (!streq(result, XML_RESULT_ERR))
                        return -EBADMSG;
                (void) text_at(root, XML_TAG_ARG "/" XML_TAG_MESSAGE, d.message, sizeof(d.message), true);
                break;
        case XML_DOC_UPLOAD_FILE:
                if (parse_transfer(root, &d, XML_TAG_ARG "/" XML_TAG_TARGET_FILE) < 0)
                        return -EBADMSG;
                break;
        case XML_DOC_DOWNLOAD_FILE:
                if (parse_transfer(root, &d, XML_TAG_ARG "/" XML_TAG_SOURCE_FILE) < 0)
                        return -EBADMSG;
                break;
        case XML_DOC_FILE_SYS_OPERATION:
                if (text_at(root, XML_TAG_ARG "/" XML_TAG_KEY, d.key, sizeof(d.key), false) < 0 || !d.key[0])
                        return -EBADMSG;
                (void) text_at(root, XML_TAG_ARG "/" XML_TAG_FILE_PATH, d.file, sizeof(d.file), true);
                break;
        case XML_DOC_PROGRESS_REPORT:
                (void) text_at(root, XML_TAG_ARG "/" XML_TAG_MESSAGE, d.message, sizeof(d.message), true);
                break;
        case XML_DOC_START:
        case XML_DOC_OTHER:
                break;
        }
        *ret = d;
        return 0;
}

/* ------------------------------------------------------------ results */

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* The id as bytes: hex text (the eMMC CID, §5.1) decoded, anything else as it is. */
static void decode_id(XmlHwInfo *h) {
        size_t n = strlen(h->id);
        bool hex = n > 0 && n % 2 == 0 && n / 2 <= sizeof(h->id_bytes);

        for (size_t i = 0; hex && i < n; i++)
                hex = hex_digit(h->id[i]) >= 0;
        if (hex) {
                for (size_t i = 0; i < n / 2; i++)
                        h->id_bytes[i] = (uint8_t) (hex_digit(h->id[2 * i]) << 4 | hex_digit(h->id[2 * i + 1]));
                h->id_len = n / 2;
                return;
        }
        h->id_len = MIN(n, sizeof(h->id_bytes));
        memcpy(h->id_bytes, h->id, h->id_len);
}

/* Optional sizes are 0 when absent; present ones must be numbers. */
static int size_at(xmlNodePtr node, const char *name, bool required, uint64_t *ret) {
        int r = number_at(node, name, ret);

        if (r == -ENOENT && !required) {
                *ret = 0;
                return 0;
        }
        return r < 0 ? -EBADMSG : 0;
}

static int storage_id(xmlNodePtr node, const char *variant, XmlHwInfo *h) {
        int r = text_at(node, XML_TAG_ID, h->id, sizeof(h->id), false);

        /* some DAs name it emmc_cid / ufs_cid (§5.1) */
        if (r == -ENOENT)
                r = text_at(node, variant, h->id, sizeof(h->id), false);
        if (r == -ENOENT) {
                h->id[0] = 0;
                return 0;
        }
        if (r < 0)
                return -EBADMSG;
        decode_id(h);
        return 0;
}

int xml_parse_hw_info(const uint8_t *b, size_t len, XmlHwInfo *ret) {
        _cleanup_(xml_docp) xmlDocPtr doc = doc_read(b, len, XML_TAG_HW_INFO);
        xmlNodePtr root, st;
        XmlHwInfo h = {};
        uint64_t v;

        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        if (text_at(root, XML_TAG_STORAGE, h.storage, sizeof(h.storage), false) < 0 || !h.storage[0])
                return -EBADMSG;
        if (size_at(root, XML_TAG_RAM_SIZE, false, &h.ram_size) < 0)
                return -EBADMSG;
        (void) text_at(root, XML_TAG_PRODUCT_ID, h.product_id, sizeof(h.product_id), true);

        if (streq(h.storage, XML_STORAGE_EMMC) && (st = child(root, XML_TAG_EMMC))) {
                if (size_at(st, XML_TAG_USER_SIZE, true, &h.user_size) < 0 ||
                    size_at(st, XML_TAG_BOOT1_SIZE, false, &h.boot1_size) < 0 ||
                    size_at(st, XML_TAG_BOOT2_SIZE, false, &h.boot2_size) < 0 ||
                    size_at(st, XML_TAG_RPMB_SIZE, false, &h.rpmb_size) < 0 ||
                    size_at(st, XML_TAG_BLOCK_SIZE, false, &v) < 0 || v > UINT32_MAX ||
                    storage_id(st, XML_TAG_EMMC_CID, &h) < 0)
                        return -EBADMSG;
                h.block_size = (uint32_t) v;
                h.emmc = true;
        } else if (streq(h.storage, XML_STORAGE_UFS) && (st = child(root, XML_TAG_UFS))) {
                if (size_at(st, XML_TAG_LUA2_SIZE, true, &h.lu_size[2]) < 0 ||
                    size_at(st, XML_TAG_LUA0_SIZE, false, &h.lu_size[0]) < 0 ||
                    size_at(st, XML_TAG_LUA1_SIZE, false, &h.lu_size[1]) < 0 ||
                    size_at(st, XML_TAG_LUA3_SIZE, false, &h.lu_size[3]) < 0 ||
                    size_at(st, XML_TAG_BLOCK_SIZE, false, &v) < 0 || v > UINT32_MAX ||
                    storage_id(st, XML_TAG_UFS_CID, &h) < 0)
                        return -EBADMSG;
                h.block_size = (uint32_t) v;
                h.ufs = true;
        } else if (streq(h.storage, XML_STORAGE_EMMC) || streq(h.storage, XML_STORAGE_UFS))
                return -EBADMSG; /* it names a storage and leaves out its element */
        *ret = h;
        return 0;
}

int xml_parse_sys_prop(const uint8_t *b, size_t len, const char *key, char *value, size_t size) {
        _cleanup_(xml_docp) xmlDocPtr doc = doc_read(b, len, XML_TAG_SYS_PROP);

        if (!doc)
                return -EBADMSG;
        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
                _cleanup_(xml_charp) xmlChar *k = NULL;

                if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST XML_TAG_ITEM))
                        continue;
                k = xmlGetProp(c, BAD_CAST XML_ATTR_KEY);
                if (k && xmlStrEqual(k, BAD_CAST key))
                        return node_text(c, value, size, false);
        }
        return -ENOENT;
}

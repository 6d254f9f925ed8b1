/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XML ("V6") Download Agent payloads (xml-da.md §2-§5): the host's
 * command documents built with libxml2, the DA's documents parsed with it
 * and read by tag path, and the short text replies.  Pure functions, no
 * I/O, unit-tested and fuzzed.  The packets around them are XFlash's
 * (xflash-packet.h): V6 shares its 12-byte header.
 *
 * Every payload is text and one NUL; what counts is the text up to the
 * first NUL (§2.1), so a 3-byte "OK\0" and mtkclient's 4-byte "OK\0\0" are
 * the same reply.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/xml-da-proto.h"

/* The longest DA document taken (a da_hw_info is some 600 bytes). */
#define XML_DOC_MAX (64u * 1024u)
/* Texts kept from the DA's documents (messages, file names). */
#define XML_TEXT_MAX 256
/* The longest short reply a host sends (OK@0x and 16 hex digits, NUL). */
#define XML_REPLY_MAX 32

/* ------------------------------------------------------------ host documents */

typedef struct XmlField {
        const char *name;
        const char *value;
} XmlField;

/* §3.1: prolog, <da><version/><command/>[<arg>…</arg>][<adv>…</adv>]</da>,
 * no whitespace between tags, one NUL.  *ret_len counts the NUL (the
 * packet's length).  -EINVAL: a name that is no XML element name. */
int xml_build_command(const char *version, const char *command, const XmlField *arg, size_t n_arg,
                      const XmlField *adv, size_t n_adv, char **ret, size_t *ret_len);

/* The commands mtknvd sends, each exactly as §4.4, §4.5 and §5 show. */
int xml_build_set_runtime_parameter(char **ret, size_t *ret_len);
int xml_build_host_supported_commands(char **ret, size_t *ret_len);
int xml_build_notify_init_hw(char **ret, size_t *ret_len);
/* info: the host's local time, YYYYMMDDTHHMMSS */
int xml_build_set_host_info(const char *info, char **ret, size_t *ret_len);
/* at = jmp = addr; source_file MEM://0x0:<len> (only the length means anything, §4.4) */
int xml_build_boot_to(uint64_t addr, uint64_t len, char **ret, size_t *ret_len);
/* target_file MEM://0x0:<max>: the largest answer the host takes (§5.1) */
int xml_build_get_hw_info(uint64_t max, char **ret, size_t *ret_len);
int xml_build_get_sys_property(const char *key, uint64_t max, char **ret, size_t *ret_len);
/* §5.2, §6 */
int xml_build_read_flash(const char *region, uint64_t offset, uint64_t length, char **ret, size_t *ret_len);
/* §5.4: source_file MEM://0x0:<length> */
int xml_build_write_flash(const char *region, uint64_t offset, uint64_t length, char **ret, size_t *ret_len);
int xml_build_reboot(const char *action, char **ret, size_t *ret_len);

/* ------------------------------------------------------------ short replies */

/* "OK" and its NUL into out; returns the length (3). */
size_t xml_build_ok(uint8_t out[XML_REPLY_MAX]);
/* "OK@0x<lower-case hex>" and its NUL; returns the length. */
size_t xml_build_ok_value(uint8_t out[XML_REPLY_MAX], uint64_t value);

typedef enum XmlReplyKind {
        XML_REPLY_KIND_OK,            /* OK */
        XML_REPLY_KIND_VALUE,         /* OK@<value> */
        XML_REPLY_KIND_PROGRESS,      /* OK!PROGRESS@<percent>[@<text>] */
        XML_REPLY_KIND_EOT,           /* OK!EOT */
        XML_REPLY_KIND_UNSUPPORTED,   /* ERR!UNSUPPORTED */
        XML_REPLY_KIND_ERROR,         /* any other ERR… */
} XmlReplyKind;

typedef struct XmlReply {
        XmlReplyKind kind;
        bool has_value;               /* VALUE: the text is a number (0x… or decimal) */
        uint64_t value;
        unsigned percent;             /* PROGRESS */
        char text[XML_TEXT_MAX];      /* VALUE's text, PROGRESS's text, ERROR's whole reply */
} XmlReply;

/* -EBADMSG: not a short reply (a document, binary data, an unknown word). */
int xml_parse_reply(const uint8_t *b, size_t len, XmlReply *ret);
/* Whether a payload is an XML document rather than a short reply: its
 * first character that is not white space is '<'. */
bool xml_payload_is_document(const uint8_t *b, size_t len);

/* "0x1a" (hex) or "26" (decimal), nothing else: no sign, no trailing
 * text, no overflow.  -EINVAL otherwise. */
int xml_parse_number(const char *s, uint64_t *ret);

/* ------------------------------------------------------------ DA documents */

typedef enum XmlDocKind {
        XML_DOC_START,
        XML_DOC_END,
        XML_DOC_UPLOAD_FILE,          /* the DA sends data to the host */
        XML_DOC_DOWNLOAD_FILE,        /* the DA wants data from the host */
        XML_DOC_FILE_SYS_OPERATION,
        XML_DOC_PROGRESS_REPORT,
        XML_DOC_OTHER,                /* a <host> document with another command */
} XmlDocKind;

typedef struct XmlDoc {
        XmlDocKind kind;
        char command[64];             /* as sent, e.g. "CMD:END" */
        bool result_ok;               /* END: <result>OK</result> (else ERR) */
        char message[XML_TEXT_MAX];   /* END, PROGRESS-REPORT; cut to fit */
        char checksum[16];            /* UPLOAD-FILE, DOWNLOAD-FILE */
        char info[64];
        char file[XML_TEXT_MAX];      /* target_file, source_file or file_path */
        uint32_t packet_length;       /* UPLOAD-FILE, DOWNLOAD-FILE: > 0 */
        char key[32];                 /* FILE-SYS-OPERATION */
} XmlDoc;

/* A <host> document (§3.1, §3.2), text up to the first NUL.  -EBADMSG: not
 * well-formed, not <host>, no command, or a known command without what it
 * must carry (END's result OK/ERR, a packet length > 0, a key). */
int xml_parse_doc(const uint8_t *b, size_t len, XmlDoc *ret);
const char *xml_doc_kind_to_string(XmlDocKind k);

/* §5.1 GET-HW-INFO's <da_hw_info> */
typedef struct XmlHwInfo {
        char storage[16];             /* EMMC, UFS, NAND … */
        bool emmc, ufs;               /* the storage element was there and complete */
        uint64_t ram_size;
        uint32_t block_size;
        uint64_t boot1_size, boot2_size, rpmb_size, user_size; /* eMMC */
        uint64_t lu_size[4];          /* UFS LU0 … LU3 */
        char id[XML_TEXT_MAX];        /* <id> (or <emmc_cid>/<ufs_cid>) as sent; "" none */
        uint8_t id_bytes[126];        /* the id: decoded when it is hex, else its text */
        size_t id_len;
        char product_id[64];
} XmlHwInfo;

/* -EBADMSG: not a da_hw_info, no storage, an EMMC without user_size, a UFS
 * without lua2_size, or a size that is no number. */
int xml_parse_hw_info(const uint8_t *b, size_t len, XmlHwInfo *ret);

/* §5.5 a <sys_prop>'s item of this key into value.  -ENOENT: no such item;
 * -EBADMSG: not a sys_prop document; -ENAMETOOLONG: value does not fit. */
int xml_parse_sys_prop(const uint8_t *b, size_t len, const char *key, char *value, size_t size);

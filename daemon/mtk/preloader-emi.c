/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "macro.h"
#include "preloader-emi.h"

/* brom-emi.md §2.1: the GFH FILE_INFO header, magic + version 1 + size 0x38 + type 0 */
static const uint8_t gfh_file_info_magic[8] = { 0x4D, 0x4D, 0x4D, 0x01, 0x38, 0x00, 0x00, 0x00 };
#define GFH_FILE_INFO_SIZE 0x38
#define GFH_FILE_LEN_OFFSET 0x20
#define GFH_SIG_LEN_OFFSET 0x2C
/* §3 step 1.2: mtkclient's padded variant */
#define GFH_PADDING 0x800

#define EMI_IDENTIFIER_LEN (sizeof(EMI_IDENTIFIER) - 1)
#define EMI_VERSION_OFFSET EMI_IDENTIFIER_LEN       /* two decimal digits */
#define EMI_FILE_NAME_OFFSET 0x1B
#define EMI_FILE_NAME_SIZE 0x3D
#define EMI_BIN_OFFSET 0x64
#define EMI_COUNT_OFFSET 0x6C
static const char emi_bin_tag[8] = "MTK_BIN";       /* with its NUL: 8 bytes */

_printf_(4, 5) static int emi_error(char *err, size_t err_size, int r, const char *fmt, ...) {
        va_list ap;

        if (err && err_size > 0) {
                va_start(ap, fmt);
                vsnprintf(err, err_size, fmt, ap);
                va_end(ap);
        }
        return r;
}

size_t emi_record_size(unsigned version) {
        /* §4.3: empirical, every complete block of the 838 real files divides exactly */
        switch (version) {
        case 0: return 140;
        case 10: return 184;
        case 11: case 14: return 168;
        case 12: case 13: case 16: return 188;
        case 15: case 17: return 176;
        case 20: case 21: return 188;
        case 22: return 176;
        case 24: return 164;
        case 25: return 160;    /* or 144 in some builds: the parser decides per block */
        case 27: case 32: return 188;
        case 28: return 144;
        case 30: case 31: return 160;
        case 35: case 36: return 160;
        case 38: case 39: case 40: return 160;
        case 45: case 46: case 47: return 160;
        case 49: case 52: return 84;
        }
        /* v08's 66-byte records were not recognised; v51, v54 were not in the file set */
        return 0;
}

EmiRecordFamily emi_record_family(unsigned version) {
        switch (version) {
        case 11: case 14: return EMI_FAMILY_A;
        case 49: case 52: return EMI_FAMILY_C;
        }
        return EMI_FAMILY_B;
}

const char *emi_version_chips(unsigned version) {
        /* §4.6 */
        static const struct {
                unsigned version;
                const char *chips;
        } table[] = {
                {  0, "MT6797, MT8173/8176, MT6595" },
                {  8, "MT6575/6577" },
                { 10, "MT6589/8135" },
                { 11, "MT6572" },
                { 12, "MT6582" },
                { 13, "MT6592/8127" },
                { 15, "MT6595/6795" },
                { 16, "MT8163" },
                { 17, "MT6752" },
                { 20, "MT6735/6737/6753, MT8735" },
                { 21, "MT6580, MT8321" },
                { 22, "MT6750/6755" },
                { 24, "MT6799" },
                { 25, "MT6757" },
                { 27, "MT6570" },
                { 28, "MT8167" },
                { 30, "MT6763" },
                { 31, "MT6758" },
                { 32, "MT6739/6731/8765" },
                { 35, "MT6765/6762" },
                { 36, "MT6771, MT8183" },
                { 38, "MT6761" },
                { 39, "MT6779" },
                { 40, "MT6768/6769" },
                { 45, "MT6785" },
                { 46, "MT6883/6885/6889" },
                { 47, "MT6873/6875" },
                { 49, "MT6853" },
                { 51, "MT6893" },
                { 52, "MT6833" },
                { 54, "MT6877" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].version == version)
                        return table[i].chips;
        return NULL;
}

const char *emi_dram_type_to_string(uint32_t type) {
        /* §4.4; the NAND MCP names follow the low byte as for eMMC (I) */
        switch (type) {
        case 0x0000: return "unused";
        case 0x0001: return "DDR1";
        case 0x0002: return "LPDDR2";
        case 0x0003: return "LPDDR3";
        case 0x0004: return "PCDDR3";
        case 0x0005: return "LPDDR4";
        case 0x0006: return "LPDDR4X";
        case 0x0101: return "NAND+DDR1";
        case 0x0102: return "NAND+LPDDR2";
        case 0x0103: return "NAND+LPDDR3";
        case 0x0104: return "NAND+PCDDR3";
        case 0x0201: return "eMMC+DDR1";
        case 0x0202: return "eMMC+LPDDR2";
        case 0x0203: return "eMMC+LPDDR3";
        case 0x0204: return "eMMC+PCDDR3";
        case 0x0205: return "eMMC+LPDDR4";
        case 0x0206: return "eMMC+LPDDR4X";
        case 0x0306: return "eUFS+LPDDR4X";
        case 0x0308: return "eUFS+LPDDR5";
        }
        return "unknown";
}

const char *preloader_form_to_string(PreloaderForm f) {
        switch (f) {
        case PRELOADER_FORM_GFH: return "signed preloader";
        case PRELOADER_FORM_BOOT_DUMP: return "boot-area dump";
        case PRELOADER_FORM_BARE: return "bare EMI block";
        case PRELOADER_FORM_EMBEDDED: return "embedded EMI block";
        }
        return "unknown";
}

static bool is_digit(uint8_t c) {
        return c >= '0' && c <= '9';
}

/* §2 form B: "EMMC_BOOT\0\0\0" + u32 1, or "UFS_BOOT" (the reference gives
 * no more of the UFS header than its name). */
static bool has_boot_header(const uint8_t *data, size_t len) {
        if (len >= 16 && memcmp(data, "EMMC_BOOT\0\0\0", 12) == 0 && unaligned_read_le32(data + 12) == 1)
                return true;
        return len >= 8 && memcmp(data, "UFS_BOOT", 8) == 0;
}

/* §3 step 1: the signed content ends with u32 L, the EMI block is the L
 * bytes before it.  Every length is checked against what lies between the
 * FILE_INFO header and the end of the file before it is used. */
static int locate_by_gfh(const uint8_t *data, size_t len, size_t g, size_t *ret_start, size_t *ret_avail,
                         char *err, size_t err_size) {
        uint32_t file_len, sig_len, l;
        size_t content, end;

        if (len - g < GFH_FILE_INFO_SIZE)
                return emi_error(err, err_size, -ENODATA,
                                 "the preloader is truncated: its GFH FILE_INFO header at 0x%zx is cut off after %zu of "
                                 "its %u bytes; copy the whole preloader_<project>.bin from the firmware package again",
                                 g, len - g, GFH_FILE_INFO_SIZE);

        file_len = unaligned_read_le32(data + g + GFH_FILE_LEN_OFFSET);
        sig_len = unaligned_read_le32(data + g + GFH_SIG_LEN_OFFSET);
        if (sig_len > file_len)
                return emi_error(err, err_size, -EBADMSG,
                                 "the preloader's GFH FILE_INFO header at 0x%zx is corrupt: its signature length (%" PRIu32
                                 " bytes) exceeds the image length (%" PRIu32 " bytes); use an unmodified preloader "
                                 "from the firmware package", g, sig_len, file_len);
        content = (size_t) file_len - sig_len;
        if (content > len - g)
                return emi_error(err, err_size, -ENODATA,
                                 "the preloader is truncated: its GFH header at 0x%zx says the signed image is %zu bytes "
                                 "long, the file holds %zu bytes from there; copy the whole preloader again",
                                 g, content, len - g);
        end = g + content;

        for (bool padded = false;; padded = true) {
                /* the block, its length and the FILE_INFO header must all fit in the content */
                if (end - g < GFH_FILE_INFO_SIZE + sizeof(uint32_t))
                        return emi_error(err, err_size, -EBADMSG,
                                         "the preloader at 0x%zx has no EMI block: its signed image (%zu bytes) is too "
                                         "short to hold one; use the preloader_<project>.bin from the phone's firmware "
                                         "package", g, end - g);
                l = unaligned_read_le32(data + end - sizeof(uint32_t));
                if (l == 0 && !padded) {
                        /* mtkclient's padding case: 0x800 bytes after the length */
                        if (end - g < GFH_FILE_INFO_SIZE + sizeof(uint32_t) + GFH_PADDING)
                                return emi_error(err, err_size, -EBADMSG,
                                                 "the preloader at 0x%zx has no EMI block: the length before its "
                                                 "signature is 0; use the preloader_<project>.bin from the phone's "
                                                 "firmware package", g);
                        end -= GFH_PADDING;
                        continue;
                }
                if (l == 0)
                        return emi_error(err, err_size, -EBADMSG,
                                         "the preloader at 0x%zx has no EMI block: the length before its signature is 0, "
                                         "also 0x800 bytes earlier; use the preloader_<project>.bin from the phone's "
                                         "firmware package", g);
                if (l > end - sizeof(uint32_t) - (g + GFH_FILE_INFO_SIZE))
                        return emi_error(err, err_size, -ENODATA,
                                         "the preloader is corrupt or truncated: the EMI block length at 0x%zx (%" PRIu32
                                         " bytes) points before the start of its image at 0x%zx; copy the whole "
                                         "preloader again", end - sizeof(uint32_t), l, g);
                *ret_start = end - sizeof(uint32_t) - l;
                *ret_avail = l;
                return 0;
        }
}

/* Only for v25, whose builds use 160- or 144-byte records (§4.3): would
 * every record read as a family B record with this size? */
static bool records_plausible(const uint8_t *records, unsigned n, size_t size) {
        for (unsigned i = 0; i < n; i++) {
                const uint8_t *r = records + (size_t) i * size;
                uint32_t type = unaligned_read_le32(r + 4);

                if (unaligned_read_le32(r) > 1 ||                      /* sub_version */
                    (type != 0 && streq(emi_dram_type_to_string(type), "unknown")) ||
                    unaligned_read_le32(r + 8) > EMI_ID_MAX ||         /* id_length */
                    unaligned_read_le32(r + 12) > 8)                   /* fw_id_length, fw_id[8] */
                        return false;
        }
        return true;
}

static int choose_v25_size(const uint8_t *records, size_t avail, unsigned n, size_t *ret, char *err, size_t err_size) {
        bool fits160 = avail / 160 >= n, fits144 = avail / 144 >= n, p160, p144;

        if (avail == (size_t) n * 160 || avail == (size_t) n * 144) {
                *ret = avail / n;
                return 0;
        }
        /* bytes after the records: let the records say which size they have */
        p160 = fits160 && records_plausible(records, n, 160);
        p144 = fits144 && records_plausible(records, n, 144);
        if (p160 != p144) {
                *ret = p160 ? 160 : 144;
                return 0;
        }
        if (!fits160 && !p144)
                return emi_error(err, err_size, -ENODATA,
                                 "the EMI block is truncated: its header lists %u records of 160 bytes, the file holds "
                                 "%zu bytes of them; copy the whole preloader from the firmware package again",
                                 n, avail);
        return emi_error(err, err_size, -EPROTONOSUPPORT,
                         "the v25 EMI block's record size cannot be told: its %u records are followed by %zu bytes, "
                         "and they read as %s; use the preloader file exactly as the firmware package ships it",
                         n, avail, p160 ? "160- and 144-byte records alike" : "neither 160- nor 144-byte records");
}

static void record_read(const uint8_t *r, EmiRecordFamily family, EmiRecord *ret) {
        /* §4.2 */
        switch (family) {
        case EMI_FAMILY_A:
                ret->type = unaligned_read_le32(r);
                memcpy(ret->id, r + 4, EMI_ID_MAX);
                ret->id_len = unaligned_read_le32(r + 4 + EMI_ID_MAX);
                return;
        case EMI_FAMILY_B:
                ret->type = unaligned_read_le32(r + 4);
                ret->id_len = unaligned_read_le32(r + 8);
                memcpy(ret->id, r + 16, EMI_ID_MAX);
                return;
        case EMI_FAMILY_C:
                ret->type = unaligned_read_le32(r);
                ret->id_len = unaligned_read_le32(r + 4);
                memcpy(ret->id, r + 8, EMI_ID_MAX);
                return;
        }
}

/* §4.1: b holds avail bytes that may belong to the block, from its identifier on. */
static int parse_block(const uint8_t *b, size_t avail, EmiBlock *ret, char *err, size_t err_size) {
        size_t rsize, i;
        uint32_t count;
        const char *chips;

        if (avail < EMI_IDENTIFIER_LEN || memcmp(b, EMI_IDENTIFIER, EMI_IDENTIFIER_LEN) != 0)
                return emi_error(err, err_size, -EBADMSG,
                                 "the preloader's EMI block is missing: its GFH trailer places it at 0x%zx, where there "
                                 "is no \"" EMI_IDENTIFIER "\" identifier; use an unmodified preloader from the "
                                 "firmware package", ret->offset);
        if (avail < EMI_HEADER_SIZE)
                return emi_error(err, err_size, -ENODATA,
                                 "the EMI block at 0x%zx is truncated: its header needs %u bytes, the file holds %zu; "
                                 "copy the whole preloader from the firmware package again",
                                 ret->offset, EMI_HEADER_SIZE, avail);

        if (!is_digit(b[EMI_VERSION_OFFSET]) || !is_digit(b[EMI_VERSION_OFFSET + 1]) ||
            is_digit(b[EMI_VERSION_OFFSET + 2]))
                return emi_error(err, err_size, -EBADMSG,
                                 "the EMI block header at 0x%zx is corrupt: \"" EMI_IDENTIFIER "\" is not followed by a "
                                 "two-digit version; use an unmodified preloader from the firmware package", ret->offset);
        ret->version = (b[EMI_VERSION_OFFSET] - '0') * 10 + (b[EMI_VERSION_OFFSET + 1] - '0');

        for (i = 0; i < EMI_FILE_NAME_SIZE && b[EMI_FILE_NAME_OFFSET + i] != 0; i++) {
                uint8_t c = b[EMI_FILE_NAME_OFFSET + i];

                /* the name goes into messages and onto the bus */
                ret->file_name[i] = c >= 0x20 && c < 0x7F ? (char) c : '?';
        }
        ret->file_name[i] = 0;

        if (memcmp(b + EMI_BIN_OFFSET, emi_bin_tag, sizeof(emi_bin_tag)) != 0)
                return emi_error(err, err_size, -EBADMSG,
                                 "the EMI block header at 0x%zx is corrupt: \"MTK_BIN\" with its NUL byte is missing at "
                                 "+0x64 (copies whose NUL bytes were replaced by spaces look like this); use an "
                                 "unmodified preloader from the firmware package", ret->offset);
        count = unaligned_read_le32(b + EMI_COUNT_OFFSET);
        if (count == 0 || count > EMI_RECORDS_MAX)
                return emi_error(err, err_size, -EBADMSG,
                                 "the EMI block header at 0x%zx is corrupt: it lists %" PRIu32 " records, a preloader "
                                 "has 1 to %u; use an unmodified preloader from the firmware package",
                                 ret->offset, count, EMI_RECORDS_MAX);

        rsize = emi_record_size(ret->version);
        if (rsize == 0) {
                chips = emi_version_chips(ret->version);
                return emi_error(err, err_size, -EPROTONOSUPPORT,
                                 "the EMI block is version v%02u%s%s%s, whose record layout mtknvd does not know; start "
                                 "the phone in preloader mode instead of BROM mode, so that no EMI settings are needed",
                                 ret->version, chips ? " (" : "", chips ?: "", chips ? ")" : "");
        }
        avail -= EMI_HEADER_SIZE;
        if (ret->version == 25) {
                int r = choose_v25_size(b + EMI_HEADER_SIZE, avail, count, &rsize, err, err_size);
                if (r < 0)
                        return r;
        } else if (avail / rsize < count)
                return emi_error(err, err_size, -ENODATA,
                                 "the EMI block is truncated: its header lists %" PRIu32 " records of %zu bytes, the "
                                 "file holds %zu bytes of them; copy the whole preloader from the firmware package again",
                                 count, rsize, avail);

        ret->family = emi_record_family(ret->version);
        for (unsigned n = 0; n < count; n++) {
                record_read(b + EMI_HEADER_SIZE + n * rsize, ret->family, &ret->record[n]);
                if (ret->record[n].id_len > EMI_ID_MAX)
                        return emi_error(err, err_size, -EBADMSG,
                                         "record %u of %" PRIu32 " in the EMI block at 0x%zx is corrupt: its ID length "
                                         "is %" PRIu32 ", the ID field holds %u bytes; use an unmodified preloader from "
                                         "the firmware package", n + 1, count, ret->offset, ret->record[n].id_len,
                                         EMI_ID_MAX);
        }

        ret->block = b;
        ret->block_len = EMI_HEADER_SIZE + count * rsize;
        ret->records = b + EMI_HEADER_SIZE;
        ret->record_size = rsize;
        ret->n_records = count;
        ret->trailing_len = avail - count * rsize;
        return 0;
}

int preloader_parse_emi(const uint8_t *data, size_t len, EmiBlock *ret, char *err, size_t err_size) {
        const uint8_t *p;
        size_t start = 0, avail = 0;
        int r;

        memset(ret, 0, sizeof(*ret));
        if (err && err_size > 0)
                err[0] = 0;
        if (!data)
                len = 0;

        p = len > 0 ? memmem(data, len, gfh_file_info_magic, sizeof(gfh_file_info_magic)) : NULL;
        if (p) {
                size_t g = p - data;

                ret->form = g == 0 ? PRELOADER_FORM_GFH :
                            has_boot_header(data, len) ? PRELOADER_FORM_BOOT_DUMP : PRELOADER_FORM_EMBEDDED;
                r = locate_by_gfh(data, len, g, &start, &avail, err, err_size);
                if (r < 0)
                        return r;
        } else {
                p = len > 0 ? memmem(data, len, EMI_IDENTIFIER, EMI_IDENTIFIER_LEN) : NULL;
                if (!p)
                        return emi_error(err, err_size, -EBADMSG,
                                         "this is not a MediaTek preloader: it holds neither a GFH FILE_INFO header nor an "
                                         "\"" EMI_IDENTIFIER "\" EMI block; use the preloader_<project>.bin next to the "
                                         "scatter file in the phone's firmware package");
                start = p - data;
                avail = len - start;
                ret->form = start == 0 ? PRELOADER_FORM_BARE : PRELOADER_FORM_EMBEDDED;
        }
        ret->offset = start;

        r = parse_block(data + start, avail, ret, err, err_size);
        if (r < 0) {
                /* keep form, offset, version and name for the caller's message; nothing usable */
                memset(ret->record, 0, sizeof(ret->record));
                ret->block = ret->records = NULL;
                ret->block_len = ret->record_size = ret->trailing_len = 0;
                ret->n_records = 0;
        }
        return r;
}

int emi_block_find_record(const EmiBlock *b, const uint8_t *mem_id, size_t mem_id_len) {
        int fallback = -ENOENT;

        if (!b)
                return -ENOENT;
        for (unsigned i = 0; i < b->n_records && i < EMI_RECORDS_MAX; i++) {
                const EmiRecord *r = &b->record[i];

                if (r->type == 0 || r->id_len > EMI_ID_MAX)
                        continue;       /* an unused slot configures nothing */
                if (r->id_len == 0) {
                        if (fallback < 0)
                                fallback = (int) i;
                        continue;
                }
                if (mem_id && r->id_len <= mem_id_len && memcmp(r->id, mem_id, r->id_len) == 0)
                        return (int) i;
        }
        return fallback;
}

int emi_block_check_version(const EmiBlock *b, int expected_version, const char *chip_name, char *err,
                            size_t err_size) {
        const char *have, *want;

        if (!chip_name)
                chip_name = "this chip";
        if (expected_version < 0)
                return emi_error(err, err_size, -EOPNOTSUPP,
                                 "mtknvd does not know which EMI block version %s's preloaders carry, so it cannot "
                                 "set up its DRAM from BROM mode; start the phone in preloader mode instead",
                                 chip_name);
        if (b->version == (unsigned) expected_version)
                return 0;
        have = emi_version_chips(b->version);
        want = emi_version_chips(expected_version);
        return emi_error(err, err_size, -EMEDIUMTYPE,
                         "the preloader's EMI block is v%02u%s%s%s, but %s needs v%02d%s%s%s; use the preloader from "
                         "this phone's own firmware package",
                         b->version, have ? " (" : "", have ?: "", have ? ")" : "", chip_name, expected_version,
                         want ? " (" : "", want ?: "", want ? ")" : "");
}

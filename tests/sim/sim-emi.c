/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Written from ../shared/protocol/brom-emi.md (section numbers below refer
 * to it), not from the daemon.  Choices the reference leaves open are marked
 * "assumed" and listed in tests/sim/README.md.
 */
#include <gio/gio.h>
#include <string.h>

#include "sim-emi.h"

static const uint8_t gfh_magic[8] = { 0x4d, 0x4d, 0x4d, 0x01, 0x38, 0x00, 0x00, 0x00 };
static const char emi_ident[] = "MTK_BLOADER_INFO_v";
static const char emi_bin[8] = "MTK_BIN";   /* with its NUL */

#define GFH_FILE_LEN_OFF 0x20
#define GFH_SIG_LEN_OFF  0x2c
#define GFH_PAD_LEN      0x800      /* §3 step 1.2: L == 0 -> drop 0x800 bytes, read again */
#define EMI_BIN_OFF      0x64
#define EMI_COUNT_OFF    0x6c

static uint32_t le32(const uint8_t *b) {
        return (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 24;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m) {
        if (m == 0 || n < m)
                return NULL;
        for (size_t i = 0; i + m <= n; i++)
                if (memcmp(hay + i, needle, m) == 0)
                        return hay + i;
        return NULL;
}

unsigned sim_emi_record_size(unsigned version) {
        /* §4.3, every complete block of the real files divides exactly; v25
         * shows 160 and 144: 160, the more common (assumed) */
        switch (version) {
        case 0:
                return 140;
        case 10:
                return 184;
        case 11:
        case 14:
                return 168;
        case 12:
        case 13:
        case 16:
        case 20:
        case 21:
        case 27:
        case 32:
                return 188;
        case 15:
        case 17:
        case 22:
                return 176;
        case 24:
                return 164;
        case 25:
        case 30:
        case 31:
        case 35:
        case 36:
        case 38:
        case 39:
        case 40:
        case 45:
        case 46:
        case 47:
                return 160;
        case 28:
                return 144;
        case 49:
        case 52:
                return 84;
        default:
                return 0;
        }
}

SimEmiBranch sim_emi_branch(unsigned version) {
        switch (version) {
        case 0x0f:
        case 0x10:
        case 0x11:
        case 0x14:
        case 0x15:
                return SIM_EMI_BRANCH_LENGTH;
        case 0x0c:
        case 0x0d:
                return SIM_EMI_BRANCH_CUT_0100;
        case 0x00:
                return SIM_EMI_BRANCH_ECHO;
        default:
                /* v10/v11 (16 info bytes of unknown meaning) and the XFlash-era
                 * versions (no legacy branch at all): not simulated */
                return SIM_EMI_BRANCH_NONE;
        }
}

/* §3 step 1: the block sits right before the u32 L at the end of the signed content */
static bool block_from_gfh(const uint8_t *data, size_t len, const uint8_t *g, const uint8_t **ret, size_t *ret_len,
                           GError **error) {
        size_t off = (size_t) (g - data);
        uint32_t file_len, sig_len, l;
        size_t end;

        if (len - off < 0x38) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "GFH FILE_INFO header cut short");
                return false;
        }
        file_len = le32(g + GFH_FILE_LEN_OFF);
        sig_len = le32(g + GFH_SIG_LEN_OFF);
        if (file_len > len - off || sig_len > file_len || file_len - sig_len < 4) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "GFH file length 0x%x / signature length 0x%x do not fit the %zu-byte file", file_len,
                            sig_len, len - off);
                return false;
        }
        end = off + file_len - sig_len;
        l = le32(data + end - 4);
        if (l == 0 && end - off >= GFH_PAD_LEN + 4) {
                end -= GFH_PAD_LEN;
                l = le32(data + end - 4);
        }
        if (l == 0 || l > end - 4 - off) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "EMI block length 0x%x before the signature does not fit", l);
                return false;
        }
        *ret = data + end - 4 - l;
        *ret_len = l;
        return true;
}

bool sim_emi_block_parse(const uint8_t *data, size_t len, SimEmiBlock *ret, GError **error) {
        const uint8_t *g = find(data, len, gfh_magic, sizeof(gfh_magic)), *b;
        size_t blen;
        unsigned version, r, n;

        memset(ret, 0, sizeof(*ret));
        if (g) {
                if (!block_from_gfh(data, len, g, &b, &blen, error))
                        return false;
        } else {
                /* §3 step 2: a bare block (or one inside other data) runs to the end */
                b = find(data, len, emi_ident, strlen(emi_ident));
                if (!b) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "neither a GFH FILE_INFO header nor \"%s\" in the file", emi_ident);
                        return false;
                }
                blen = len - (size_t) (b - data);
        }
        /* §4.1 */
        if (blen < SIM_EMI_HEADER_LEN || memcmp(b, emi_ident, strlen(emi_ident)) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no EMI block header (\"%s\", 0x70 bytes)",
                            emi_ident);
                return false;
        }
        if (!g_ascii_isdigit(b[18]) || !g_ascii_isdigit(b[19])) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "EMI version is not two decimal digits");
                return false;
        }
        version = (unsigned) ((b[18] - '0') * 10 + (b[19] - '0'));
        if (memcmp(b + EMI_BIN_OFF, emi_bin, sizeof(emi_bin)) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no \"MTK_BIN\" at EMI block + 0x64");
                return false;
        }
        n = le32(b + EMI_COUNT_OFF);
        if (n < 1 || n > SIM_EMI_MAX_RECORDS) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "EMI record count %u (1-%u)", n,
                            SIM_EMI_MAX_RECORDS);
                return false;
        }
        r = sim_emi_record_size(version);
        if (r == 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no known record size for EMI v%02u",
                            version);
                return false;
        }
        if ((size_t) n * r > blen - SIM_EMI_HEADER_LEN) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "EMI block truncated: %u records of %u bytes, %zu bytes there", n, r,
                            blen - SIM_EMI_HEADER_LEN);
                return false;
        }
        ret->present = true;
        ret->version = version;
        ret->record_size = r;
        ret->count = n;
        memcpy(ret->records, b + SIM_EMI_HEADER_LEN, (size_t) n * r);
        return true;
}

/* §4.2: where type, id_length and ID sit in a record of this version */
static void record_fields(unsigned version, const uint8_t *rec, uint32_t *type, uint32_t *id_length,
                          const uint8_t **id) {
        switch (version) {
        case 11:
        case 14: /* family A */
                *type = le32(rec);
                *id = rec + 4;
                *id_length = le32(rec + 20);
                break;
        case 49:
        case 52: /* family C (QVL list) */
                *type = le32(rec);
                *id_length = le32(rec + 4);
                *id = rec + 8;
                break;
        default: /* family B (EMI_SETTINGS): sub_version, type, id_length, fw_id_length, ID */
                *type = le32(rec + 4);
                *id_length = le32(rec + 8);
                *id = rec + 16;
                break;
        }
}

bool sim_emi_dram_comes_up(const SimEmiBlock *pl, unsigned version, const uint8_t *rec, size_t len,
                           const uint8_t memory_id[SIM_EMI_ID_LEN]) {
        unsigned r = sim_emi_record_size(version);

        if (r == 0 || len == 0)
                return false;
        if (pl && pl->present) {
                size_t all = (size_t) pl->count * pl->record_size;
                uint8_t head[4];

                if (pl->version != version)
                        return false;
                switch (sim_emi_branch(version)) {
                case SIM_EMI_BRANCH_LENGTH:
                        /* every record of the block, nothing else */
                        return len == all && memcmp(rec, pl->records, all) == 0;
                case SIM_EMI_BRANCH_CUT_0100:
                        /* the first len bytes, their first u32 replaced by BE 0x100 (§6.2 row 9) */
                        if (len > all || len < 4)
                                return false;
                        memcpy(head, pl->records, 4);
                        head[0] = 0x00, head[1] = 0x00, head[2] = 0x01, head[3] = 0x00;
                        return memcmp(rec, head, 4) == 0 && memcmp(rec + 4, pl->records + 4, len - 4) == 0;
                case SIM_EMI_BRANCH_ECHO:
                        return len <= all && memcmp(rec, pl->records, len) == 0;
                case SIM_EMI_BRANCH_NONE:
                        return false;
                }
                return false;
        }
        /* no preloader known: the DA compares each record's ID with the memory
         * it found (§4.4, assumed: the first id_length bytes; 0 = any) */
        if (len % r != 0)
                return false;
        for (size_t off = 0; off < len; off += r) {
                uint32_t type, id_length;
                const uint8_t *id;

                record_fields(version, rec + off, &type, &id_length, &id);
                if (type == 0 || id_length > SIM_EMI_ID_LEN)
                        continue; /* an unused slot, or no ID we could compare */
                if (id_length == 0 || memcmp(id, memory_id, id_length) == 0)
                        return true;
        }
        return false;
}

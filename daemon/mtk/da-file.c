/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "da-file.h"
#include "macro.h"
#include "parse-error.h"

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | (p[1] << 8));
}
static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static void copy_text(char *dst, size_t dst_size, const uint8_t *src, size_t len) {
        size_t n = 0;

        /* NUL padded in the file; keep printable ASCII only */
        for (size_t i = 0; i < len && n + 1 < dst_size && src[i]; i++)
                dst[n++] = src[i] >= 0x20 && src[i] < 0x7f ? (char) src[i] : '?';
        dst[n] = 0;
}

int da_file_parse(const uint8_t *data, size_t size, DaFile **ret, char **ret_error) {
        _cleanup_(da_file_freep) DaFile *f = NULL;
        size_t stride;

        if (ret_error)
                *ret_error = NULL;
        if (size < DA_FILE_HEADER_LEN)
                return parse_error(ret_error, "Not a MediaTek Download Agent: the file has %zu bytes, less than the %u-byte "
                            "header. Use MTK_AllInOne_DA.bin from the phone's firmware package.",
                            size, DA_FILE_HEADER_LEN);
        if (le32(data + 0x64) != DA_FILE_MAGIC)
                return parse_error(ret_error, "Not a MediaTek Download Agent: magic 0x%08x at offset 0x64, expected 0x%08x. "
                            "Use MTK_AllInOne_DA.bin from the phone's firmware package.",
                            le32(data + 0x64), DA_FILE_MAGIC);

        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->data = data;
        f->size = size;
        copy_text(f->description, sizeof(f->description), data, 32);
        copy_text(f->identifier, sizeof(f->identifier), data + 0x20, 64);
        f->info_version = le32(data + 0x60);
        f->magic = DA_FILE_MAGIC;
        f->n_entries = le32(data + 0x68);
        /* §6.1: "MTK_DA_v6" in the first 0x68 bytes marks an XML (V6) DA */
        f->v6 = memmem(data, 0x68, "MTK_DA_v6", 9) != NULL;

        if (f->n_entries == 0 || f->n_entries > DA_ENTRIES_MAX)
                return parse_error(ret_error, "Damaged Download Agent: it claims %" PRIu32 " entries.", f->n_entries);

        /* §6.1: "DA DA" where the second entry of a 0xD8-stride table starts */
        f->old_format = size >= DA_FILE_HEADER_LEN + DA_ENTRY_LEN_OLD + 2 &&
                        le16(data + DA_FILE_HEADER_LEN + DA_ENTRY_LEN_OLD) == DA_ENTRY_MAGIC;
        stride = f->old_format ? DA_ENTRY_LEN_OLD : DA_ENTRY_LEN;

        f->entries = calloc(f->n_entries, sizeof(DaEntry));
        if (!f->entries)
                return -ENOMEM;

        for (uint32_t i = 0; i < f->n_entries; i++) {
                size_t off = DA_FILE_HEADER_LEN + (size_t) i * stride;
                size_t regions_off = f->old_format ? 0x10 : 0x14;
                DaEntry *e = &f->entries[i];
                const uint8_t *p;

                /* the last region table may run into payload bytes (§6.4);
                 * only the descriptors we use must be inside the file */
                if (off + regions_off > size)
                        return parse_error(ret_error, "Truncated Download Agent: entry %" PRIu32 " of %" PRIu32
                                    " lies beyond the end of the file (%zu bytes).", i + 1, f->n_entries, size);
                p = data + off;
                e->magic = le16(p);
                if (e->magic != DA_ENTRY_MAGIC)
                        return parse_error(ret_error, "Damaged Download Agent: entry %" PRIu32 " has magic 0x%04x instead of "
                                    "0x%04x.", i + 1, e->magic, DA_ENTRY_MAGIC);
                e->hw_code = le16(p + 0x02);
                e->hw_sub_code = le16(p + 0x04);
                e->hw_version = le16(p + 0x06);
                if (f->old_format) {
                        e->pagesize = le16(p + 0x08);
                        e->region_index = le16(p + 0x0c);
                        e->region_count = le16(p + 0x0e);
                } else {
                        e->sw_version = le16(p + 0x08);
                        e->pagesize = le16(p + 0x0c);
                        e->region_index = le16(p + 0x10);
                        e->region_count = le16(p + 0x12);
                }
                if (e->region_count > DA_REGIONS_MAX)
                        return parse_error(ret_error, "Damaged Download Agent: entry %" PRIu32 " (hw code 0x%04x) lists %u "
                                    "regions, at most %u exist.", i + 1, e->hw_code, e->region_count, DA_REGIONS_MAX);
                if (off + regions_off + (size_t) e->region_count * 20 > size)
                        return parse_error(ret_error, "Truncated Download Agent: the regions of entry %" PRIu32
                                    " lie beyond the end of the file.", i + 1);

                for (unsigned k = 0; k < e->region_count; k++) {
                        const uint8_t *r = p + regions_off + 20 * k;
                        DaRegion *rg = &e->regions[k];

                        rg->offset = le32(r);
                        rg->length = le32(r + 4);
                        rg->start_addr = le32(r + 8);
                        rg->start_offset = le32(r + 12);
                        rg->sig_len = le32(r + 16);
                        if (rg->length == 0)
                                continue;
                        if ((uint64_t) rg->offset + rg->length > size)
                                return parse_error(ret_error, "Truncated Download Agent: region %u of entry %" PRIu32
                                            " (hw code 0x%04x) needs bytes up to 0x%" PRIx64 " but the file ends "
                                            "at 0x%zx. The file was cut short; download it again.",
                                            k, i + 1, e->hw_code, (uint64_t) rg->offset + rg->length, size);
                        if (rg->sig_len > rg->length)
                                return parse_error(ret_error, "Damaged Download Agent: region %u of entry %" PRIu32
                                            " has a %" PRIu32 "-byte signature in %" PRIu32 " bytes.",
                                            k, i + 1, rg->sig_len, rg->length);
                }
        }
        *ret = TAKE_PTR(f);
        return 0;
}

DaFile *da_file_free(DaFile *f) {
        if (!f)
                return NULL;
        free(f->entries);
        free(f);
        return NULL;
}

const DaEntry *da_file_select(const DaFile *f, uint16_t dacode, uint16_t hw_version, uint16_t sw_version) {
        for (uint32_t i = 0; i < f->n_entries; i++) {
                const DaEntry *e = &f->entries[i];

                if (e->hw_code == 0 || e->hw_code != dacode)
                        continue;
                if (!da_entry_has_stages(e))
                        continue;
                if (hw_version != 0 && e->hw_version > hw_version)
                        continue;
                if (sw_version != 0 && e->sw_version > sw_version)
                        continue;
                return e;
        }
        return NULL;
}

bool da_entry_has_stages(const DaEntry *e) {
        /* phones need DA1 and DA2 (regions 1 and 2); IoT entries place theirs elsewhere (§6.2) */
        return e->region_count >= 3 && e->regions[1].length > 0 && e->regions[2].length > 0;
}

/* The heuristic "looks OEM-signed": both stages a phone is given end in a
 * signature of the one length every signed DA of the reference has
 * (brom.md §6.2, §6.4: 0x100, RSA-2048, on DA1 and DA2 alike).  A phone
 * with DAA checks DA1 at SEND_DA (§4, status 0x1D15 for an unsigned one)
 * and DA1 checks DA2, so a DA for such a phone must have both.  The file
 * cannot say whose key made them: MediaTek's own generic DAs are signed
 * the same way, so this is "could be", never "is". */
DaSignature da_entry_signature(const DaEntry *e) {
        uint32_t da1 = e->region_count > 1 ? e->regions[1].sig_len : 0,
                 da2 = e->region_count > 2 ? e->regions[2].sig_len : 0;

        if (da1 == 0)
                return DA_SIGNATURE_NONE;
        if (da1 == DA_SIG_LEN_RSA2048 && da2 == DA_SIG_LEN_RSA2048)
                return DA_SIGNATURE_OEM_LIKE;
        return DA_SIGNATURE_UNUSUAL;
}

int da_entry_get_stage(const DaFile *f, const DaEntry *e, unsigned stage, const uint8_t **ret_data,
                       const DaRegion **ret_region) {
        const DaRegion *r;

        if (stage < 1 || stage > 2 || e->region_count <= stage)
                return -EINVAL;
        r = &e->regions[stage];
        if (r->length == 0 || (uint64_t) r->offset + r->length > f->size)
                return -EBADMSG;
        *ret_data = f->data + r->offset;
        *ret_region = r;
        return 0;
}

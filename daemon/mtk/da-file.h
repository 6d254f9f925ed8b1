/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MediaTek's Download Agent container (MTK_AllInOne_DA.bin, MTK_DA_V5/V6):
 * header, per-chip entries, and their load regions (brom.md §6).  Input is
 * untrusted: every offset is checked before it is used.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DA_FILE_MAGIC         0x22668899u
#define DA_FILE_HEADER_LEN    0x6c
#define DA_ENTRY_LEN          0xdc
#define DA_ENTRY_LEN_OLD      0xd8
#define DA_ENTRY_MAGIC        0xdada
#define DA_REGIONS_MAX        10
#define DA_ENTRIES_MAX        512
/* brom.md §6.2: "0x100 = RSA-2048 on all signed samples" */
#define DA_SIG_LEN_RSA2048    0x100

typedef struct DaRegion {
        uint32_t offset, length, start_addr, start_offset, sig_len;
} DaRegion;

typedef struct DaEntry {
        uint16_t magic, hw_code, hw_sub_code, hw_version, sw_version, pagesize, region_index, region_count;
        DaRegion regions[DA_REGIONS_MAX];
} DaEntry;

typedef struct DaFile {
        char description[33], identifier[65];
        uint32_t info_version, magic, n_entries;
        bool old_format, v6;
        DaEntry *entries;
        const uint8_t *data;      /* borrowed: the caller keeps the bytes alive */
        size_t size;
} DaFile;

/* -EBADMSG with *ret_error naming the problem and the fix. */
int da_file_parse(const uint8_t *data, size_t size, DaFile **ret, char **ret_error);
DaFile *da_file_free(DaFile *f);
/* brom.md §6.3: the first entry for dacode whose hw/sw versions are not
 * above the phone's (a phone version 0 matches anything). */
const DaEntry *da_file_select(const DaFile *f, uint16_t dacode, uint16_t hw_version, uint16_t sw_version);
/* Whether e has the two stages a phone is given: DA1 (region 1) and DA2 (region 2). */
bool da_entry_has_stages(const DaEntry *e);

/* What the file shows of an entry's signatures (the key is not in it). */
typedef enum DaSignature {
        DA_SIGNATURE_NONE,        /* DA1 carries none: only a phone without DA authentication (DAA) runs it */
        DA_SIGNATURE_OEM_LIKE,    /* DA1 and DA2 end in RSA-2048 signatures, as a DAA phone's maker's DA must */
        DA_SIGNATURE_UNUSUAL,     /* signed, but not in that shape (one stage only, another length) */
} DaSignature;

DaSignature da_entry_signature(const DaEntry *e);

/* stage 1 = DA1 (region 1), 2 = DA2 (region 2), signature included. */
int da_entry_get_stage(const DaFile *f, const DaEntry *e, unsigned stage, const uint8_t **ret_data,
                       const DaRegion **ret_region);

static inline void da_file_freep(DaFile **f) {
        if (*f)
                da_file_free(*f);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The EMI block ("bootloader info") of a MediaTek preloader image: the DRAM
 * controller settings for every memory part the OEM qualified, which a phone
 * in BROM mode needs from the host before its Download Agent can use DRAM
 * (brom-emi.md §1).  Locating it (§3) and reading its header and records
 * (§4) is a pure function of the bytes: no I/O, no logging, no allocation;
 * the result points into the caller's data.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define EMI_RECORDS_MAX 64
#define EMI_ID_MAX 16
#define EMI_HEADER_SIZE 0x70
#define EMI_IDENTIFIER "MTK_BLOADER_INFO_v"

typedef enum PreloaderForm {
        PRELOADER_FORM_GFH,        /* raw signed preloader, GFH FILE_INFO at 0 (form A) */
        PRELOADER_FORM_BOOT_DUMP,  /* EMMC_BOOT / UFS_BOOT dump, GFH at 0x800 (form B) */
        PRELOADER_FORM_BARE,       /* the block alone (form C) */
        PRELOADER_FORM_EMBEDDED,   /* the block found inside something else (form D) */
} PreloaderForm;

/* How the start of a record is laid out (§4.2); the rest is opaque register
 * data for the DA. */
typedef enum EmiRecordFamily {
        EMI_FAMILY_A,              /* v11, v14: type, ID[16], id_length */
        EMI_FAMILY_B,              /* EMI_SETTINGS: sub_version, type, id_length, fw_id_length, ID[16] */
        EMI_FAMILY_C,              /* v49, v52 QVL list: type, id_length, ID[16] */
} EmiRecordFamily;

typedef struct EmiRecord {
        uint32_t type;             /* DRAM type code, §4.4; 0 marks an unused slot */
        uint32_t id_len;           /* 0: a default entry that matches any memory */
        uint8_t id[EMI_ID_MAX];    /* the whole ID field as stored; only id_len bytes are compared */
} EmiRecord;

typedef struct EmiBlock {
        PreloaderForm form;
        unsigned version;          /* the decimal digits after "_v": v20 -> 20 */
        char file_name[0x3E];      /* from the header, NUL-terminated; bytes outside printable ASCII become '?' */
        size_t offset;             /* of the block in the file */
        const uint8_t *block;      /* points into the caller's data: identifier .. end of the records */
        size_t block_len;          /* 0x70 + n_records * record_size */
        const uint8_t *records;    /* block + 0x70: what a legacy DA's ENABLE_DRAM gets (§4.5) */
        size_t record_size;
        unsigned n_records;
        EmiRecordFamily family;
        size_t trailing_len;       /* bytes after the last record up to the end of what was searched */
        EmiRecord record[EMI_RECORDS_MAX];
} EmiBlock;

/* Locates (§3) and parses (§4) the EMI block.  Errors, each with a sentence
 * in err naming cause and fix (err may be NULL):
 *   -EBADMSG   not a preloader image / no EMI block / corrupt header (MTK_BIN
 *              missing, count 0 or > EMI_RECORDS_MAX) / a record's id_length > 16
 *   -ENODATA   truncated block (fewer record bytes than count × size) or GFH
 *              lengths pointing outside the file
 *   -EPROTONOSUPPORT  an EMI version whose record size is unknown (§4.3: e.g.
 *              v08), or v25 whose size is ambiguous and neither fits
 * On failure, what was found before the error is kept in *ret (form, offset,
 * version, file_name) and block/records are NULL, n_records 0. */
int preloader_parse_emi(const uint8_t *data, size_t len, EmiBlock *ret, char *err, size_t err_size);

/* §5.3: the index of the first record whose first id_len ID bytes equal the
 * memory id's (an id_len 0 record matches anything; an exact id match is
 * preferred over a default entry; unused slots, type 0, match nothing), or
 * -ENOENT. */
int emi_block_find_record(const EmiBlock *b, const uint8_t *mem_id, size_t mem_id_len);

/* §3.3: a block is sent only to a chip of its version.  expected_version is
 * the chip's (ChipInfo.emi_version, -1: none known), chip_name for the
 * message.  0 when they agree; -EMEDIUMTYPE for a preloader of another chip
 * generation, -EOPNOTSUPP when the chip has no known version; err says which
 * preloader to use. */
int emi_block_check_version(const EmiBlock *b, int expected_version, const char *chip_name, char *err,
                            size_t err_size);

/* "eMMC+LPDDR3" etc. (§4.4), "unused" for 0, "unknown" for others */
const char *emi_dram_type_to_string(uint32_t type);

/* The record size of a version (§4.3), 0 when unknown; v25 returns 160 and
 * the parser also tries 144. */
size_t emi_record_size(unsigned version);

/* The record layout of a version with a known size (§4.2). */
EmiRecordFamily emi_record_family(unsigned version);

/* §4.6: the chips whose preloaders carry this EMI version, for messages
 * ("v20 is MT6735/6737/6753, MT8735"), or NULL. */
const char *emi_version_chips(unsigned version);

const char *preloader_form_to_string(PreloaderForm f);

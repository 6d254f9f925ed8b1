/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The EMI block parser (brom-emi.md §3, §4) on images built here in the four
 * forms of §2: every field read back, and every kind of damage met in the
 * 838 real files (§9) or a fuzzer would try answered with its error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "preloader-emi.h"
#include "tap.h"

#define BUF_SIZE (64 * 1024)

/* the SK hynix eMMC of §4.1's example: MID, CBX, OID, PNM "HBG4a2" */
static const uint8_t cid_hbg4a2[16] = { 0x90, 0x01, 0x4A, 0x48, 0x42, 0x47, 0x34, 0x61, 0x32, 0x05,
                                        0x12, 0x34, 0x56, 0x78, 0x9A, 0x00 };
static const uint8_t cid_other[16] = { 0x15, 0x01, 0x00, 0x51, 0x45, 0x36, 0x33, 0x4D, 0x42, 0x00 };

typedef struct TestRecord {
        uint32_t type;
        uint32_t id_len;
        const uint8_t *id;      /* 16 bytes, NULL: zeros */
} TestRecord;

/* one record in the layout of its family (§4.2); the register part is noise */
static void put_record(uint8_t *r, size_t rsize, EmiRecordFamily family, const TestRecord *t) {
        uint8_t id[16] = {};

        for (size_t i = 0; i < rsize; i++)
                r[i] = (uint8_t) (0xA0 + i * 7);
        if (t->id)
                memcpy(id, t->id, 16);
        switch (family) {
        case EMI_FAMILY_A:
                unaligned_write_le32(r, t->type);
                memcpy(r + 4, id, 16);
                unaligned_write_le32(r + 20, t->id_len);
                break;
        case EMI_FAMILY_B:
                unaligned_write_le32(r, 1);             /* sub_version */
                unaligned_write_le32(r + 4, t->type);
                unaligned_write_le32(r + 8, t->id_len);
                unaligned_write_le32(r + 12, 0);        /* fw_id_length */
                memcpy(r + 16, id, 16);
                break;
        case EMI_FAMILY_C:
                unaligned_write_le32(r, t->type);
                unaligned_write_le32(r + 4, t->id_len);
                memcpy(r + 8, id, 16);
                break;
        }
}

/* §4.1: the 0x70-byte header and n records of rsize bytes; returns its length */
static size_t put_block(uint8_t *b, const char *identifier, const char *name, uint32_t count, size_t rsize,
                        EmiRecordFamily family, const TestRecord *recs, unsigned n) {
        memset(b, 0, EMI_HEADER_SIZE);
        memcpy(b, identifier, strlen(identifier));
        memcpy(b + 0x1B, name, strlen(name));
        memcpy(b + 0x58, "V116", 4);
        unaligned_write_le32(b + 0x5C, 0x33448822);
        unaligned_write_le32(b + 0x60, 0x00700090);
        memcpy(b + 0x64, "MTK_BIN\0", 8);
        unaligned_write_le32(b + 0x6C, count);
        for (unsigned i = 0; i < n; i++)
                put_record(b + EMI_HEADER_SIZE + i * rsize, rsize, family, &recs[i]);
        return EMI_HEADER_SIZE + n * rsize;
}

static const TestRecord three_records[] = {
        { 0x0203, 9, cid_other },
        { 0x0203, 9, cid_hbg4a2 },
        { 0x0003, 0, NULL },            /* a discrete-DRAM default entry */
};

static size_t put_version(uint8_t *b, unsigned version, size_t rsize) {
        char identifier[32];

        snprintf(identifier, sizeof(identifier), "MTK_BLOADER_INFO_v%02u", version);
        return put_block(b, identifier, "preloader_test.bin", 3, rsize, emi_record_family(version), three_records, 3);
}

/* §2.1 form A: GFH FILE_INFO, content, block, u32 L, [padding], signature */
static size_t put_signed(uint8_t *img, unsigned version, size_t rsize, size_t padding, size_t *ret_block_off) {
        const size_t content_offset = 0x300, sig_len = 0x124;
        size_t p = content_offset, l;

        memset(img, 0, content_offset);
        memcpy(img, "\x4D\x4D\x4D\x01\x38\x00\x00\x00" "FILE_INFO", 17);
        unaligned_write_le32(img + 0x14, 1);
        unaligned_write_le16(img + 0x18, 1);
        img[0x1A] = 5;
        img[0x1B] = 3;
        unaligned_write_le32(img + 0x1C, 0x200D00);
        unaligned_write_le32(img + 0x24, 0x40000);
        unaligned_write_le32(img + 0x28, content_offset);
        unaligned_write_le32(img + 0x2C, sig_len);
        unaligned_write_le32(img + 0x30, content_offset);
        unaligned_write_le32(img + 0x34, 0xC2600001);
        memcpy(img + 0x38, "\x4D\x4D\x4D\x01\x0C\x00\x01\x00", 8);    /* the next GFH header */
        for (size_t i = 0; i < 0x400; i++)                              /* "code" */
                img[p++] = (uint8_t) (i * 13 + 1);
        *ret_block_off = p;
        l = put_version(img + p, version, rsize);
        p += l;
        unaligned_write_le32(img + p, l);
        p += 4;
        memset(img + p, 0, padding);
        p += padding;
        memset(img + p, 0xEE, sig_len);
        p += sig_len;
        unaligned_write_le32(img + 0x20, p);
        return p;
}

static void check_three_records(int *tap_failed_, const EmiBlock *b) {
        CHECK_EQ_INT(b->n_records, 3);
        CHECK_EQ_INT(b->record[0].type, 0x0203);
        CHECK_EQ_INT(b->record[0].id_len, 9);
        CHECK(memcmp(b->record[0].id, cid_other, 16) == 0);
        CHECK_EQ_INT(b->record[1].type, 0x0203);
        CHECK_EQ_INT(b->record[1].id_len, 9);
        CHECK(memcmp(b->record[1].id, cid_hbg4a2, 16) == 0);
        CHECK_EQ_INT(b->record[2].type, 0x0003);
        CHECK_EQ_INT(b->record[2].id_len, 0);
        CHECK_EQ_INT(b->record[3].type, 0);
        CHECK_EQ_STR(b->file_name, "preloader_test.bin");
        CHECK(b->records == b->block + EMI_HEADER_SIZE);
        CHECK_EQ_INT(b->block_len, EMI_HEADER_SIZE + 3 * b->record_size);
        CHECK(memcmp(b->block, "MTK_BLOADER_INFO_v", 18) == 0);
        CHECK_EQ_INT(emi_block_find_record(b, cid_hbg4a2, 16), 1);
}

static int parse(const uint8_t *data, size_t len, EmiBlock *b, char *err, size_t err_size) {
        int r = preloader_parse_emi(data, len, b, err, err_size);

        if (r < 0)
                printf("#   %s\n", err);
        return r;
}

TEST(form_a_signed_v35) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t off, len = put_signed(img, 35, 160, 0, &off);

        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_GFH);
        CHECK_EQ_INT(b.version, 35);
        CHECK_EQ_INT(b.offset, off);
        CHECK(b.block == img + off);
        CHECK_EQ_INT(b.record_size, 160);
        CHECK_EQ_INT(b.family, EMI_FAMILY_B);
        CHECK_EQ_INT(b.trailing_len, 0);
        CHECK_EQ_STR(err, "");
        check_three_records(tap_failed_, &b);
}

TEST(form_a_padded_length) {
        /* §3 1.2: L == 0 at the end of the content, the real one 0x800 earlier */
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t off, len = put_signed(img, 20, 188, 0x800, &off);

        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.offset, off);
        CHECK_EQ_INT(b.version, 20);
        CHECK_EQ_INT(b.record_size, 188);
        check_three_records(tap_failed_, &b);

        /* 0 in both places: no block, and no second retry */
        unaligned_write_le32(img + off + b.block_len, 0);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        CHECK(strstr(err, "no EMI block") != NULL);
        CHECK(b.block == NULL && b.n_records == 0);
}

TEST(form_b_boot_dump) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t off, len;

        memset(img, 0, 0x800);
        memcpy(img, "EMMC_BOOT\0\0\0", 12);
        unaligned_write_le32(img + 12, 1);
        unaligned_write_le32(img + 16, 512);
        len = 0x800 + put_signed(img + 0x800, 20, 188, 0, &off);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_BOOT_DUMP);
        CHECK_EQ_INT(b.offset, 0x800 + off);
        CHECK_EQ_INT(b.version, 20);
        CHECK_EQ_INT(b.record_size, 188);
        check_three_records(tap_failed_, &b);

        memset(img, 0, 16);
        memcpy(img, "UFS_BOOT", 8);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_BOOT_DUMP);
        CHECK_EQ_INT(b.offset, 0x800 + off);

        /* a GFH image at 0x800 behind anything else is still found, as embedded */
        memset(img, 0, 16);
        memcpy(img, "EMMC_BOOT\0\0\0", 12);
        unaligned_write_le32(img + 12, 2);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_EMBEDDED);
        CHECK_EQ_INT(b.offset, 0x800 + off);
        check_three_records(tap_failed_, &b);
}

TEST(form_c_bare_v21) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t len = put_version(img, 21, 188);

        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_BARE);
        CHECK_EQ_INT(b.offset, 0);
        CHECK(b.block == img);
        CHECK_EQ_INT(b.version, 21);
        CHECK_EQ_INT(b.block_len, len);
        check_three_records(tap_failed_, &b);

        /* §9: junk after the last record is allowed and not part of the block */
        memset(img + len, 0x33, 50);
        CHECK_EQ_INT(parse(img, len + 50, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.block_len, len);
        CHECK_EQ_INT(b.trailing_len, 50);
        check_three_records(tap_failed_, &b);
}

TEST(form_d_embedded_v11_v49) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t len;

        /* family A (MT6572 era) behind 0x123 bytes of something else */
        memset(img, 0x11, 0x123);
        len = 0x123 + put_version(img + 0x123, 11, 168);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_EMBEDDED);
        CHECK_EQ_INT(b.offset, 0x123);
        CHECK(b.block == img + 0x123);
        CHECK_EQ_INT(b.version, 11);
        CHECK_EQ_INT(b.record_size, 168);
        CHECK_EQ_INT(b.family, EMI_FAMILY_A);
        check_three_records(tap_failed_, &b);

        /* family C (QVL list) */
        len = 7 + put_version(img + 7, 49, 84);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_EMBEDDED);
        CHECK_EQ_INT(b.offset, 7);
        CHECK_EQ_INT(b.version, 49);
        CHECK_EQ_INT(b.record_size, 84);
        CHECK_EQ_INT(b.family, EMI_FAMILY_C);
        check_three_records(tap_failed_, &b);
}

TEST(v25_both_sizes) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t len;

        len = put_version(img, 25, 160);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.record_size, 160);
        check_three_records(tap_failed_, &b);

        len = put_version(img, 25, 144);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.record_size, 144);
        check_three_records(tap_failed_, &b);

        /* trailing bytes: only 144-byte steps land on records */
        memset(img + len, 0xFF, 40);
        CHECK_EQ_INT(parse(img, len + 40, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.record_size, 144);
        CHECK_EQ_INT(b.trailing_len, 40);
        check_three_records(tap_failed_, &b);

        len = put_version(img, 25, 160);
        memset(img + len, 0xFF, 40);
        CHECK_EQ_INT(parse(img, len + 40, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.record_size, 160);
        check_three_records(tap_failed_, &b);

        /* one record and 8 more bytes: both sizes read alike, nothing decides */
        len = put_block(img, "MTK_BLOADER_INFO_v25", "x.bin", 1, 160, EMI_FAMILY_B, three_records, 1);
        memset(img + len, 0, 8);
        CHECK_EQ_INT(preloader_parse_emi(img, len + 8, &b, err, sizeof(err)), -EPROTONOSUPPORT);
        CHECK(strstr(err, "v25") != NULL);
        CHECK(b.block == NULL);
        CHECK_EQ_INT(b.version, 25);

        /* fewer bytes than three 144-byte records */
        len = put_version(img, 25, 144);
        CHECK_EQ_INT(preloader_parse_emi(img, len - 1, &b, err, sizeof(err)), -ENODATA);
}

TEST(truncated) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        static const TestRecord ten[10] = {
                { 0x0203, 9, cid_hbg4a2 }, { 0x0203, 9, cid_hbg4a2 }, { 0x0203, 9, cid_hbg4a2 },
                { 0x0203, 9, cid_hbg4a2 }, { 0x0203, 9, cid_hbg4a2 }, { 0x0203, 9, cid_hbg4a2 },
                { 0x0203, 9, cid_hbg4a2 }, { 0x0203, 9, cid_hbg4a2 }, { 0x0203, 9, cid_hbg4a2 },
                { 0x0203, 9, cid_hbg4a2 },
        };
        char err[512];
        size_t len = put_block(img, "MTK_BLOADER_INFO_v35", "preloader_cereus.bin", 10, 160, EMI_FAMILY_B, ten, 10);

        CHECK_EQ_INT(len, 1712);        /* §4.1's example */
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.n_records, 10);
        CHECK_EQ_STR(b.file_name, "preloader_cereus.bin");

        CHECK_EQ_INT(preloader_parse_emi(img, EMI_HEADER_SIZE + 224, &b, err, sizeof(err)), -ENODATA);
        CHECK(strstr(err, "the EMI block is truncated: its header lists 10 records of 160 bytes, the file holds "
                          "224 bytes of them") == err);
        CHECK(b.block == NULL && b.records == NULL && b.n_records == 0 && b.block_len == 0);
        CHECK_EQ_INT(b.version, 35);    /* what was read stays for the caller's message */
        CHECK_EQ_INT(b.form, PRELOADER_FORM_BARE);

        /* the header itself cut */
        CHECK_EQ_INT(preloader_parse_emi(img, 0x50, &b, err, sizeof(err)), -ENODATA);
        CHECK(strstr(err, "header") != NULL);

        /* every prefix of a signed image fails cleanly (ASan watches the reads)
         * until the signature, which the parser does not need */
        size_t off, full = put_signed(img, 35, 160, 0, &off), signed_end = full - 0x124;
        unsigned failed = 0;
        for (size_t l = 0; l < full; l++) {
                int r = preloader_parse_emi(img, l, &b, err, sizeof(err));

                if (l < signed_end)
                        failed += !((r == -ENODATA || r == -EBADMSG) && err[0] != 0 && !b.block);
                else
                        failed += !(r == 0 && b.offset == off && b.n_records == 3);
        }
        CHECK_EQ_INT(failed, 0);
        /* and every prefix of a bare one */
        full = put_version(img, 20, 188);
        for (size_t l = 0; l < full; l++)
                failed += preloader_parse_emi(img, l, &b, err, sizeof(err)) >= 0;
        CHECK_EQ_INT(failed, 0);
}

TEST(gfh_lengths_outside) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t off, len = put_signed(img, 35, 160, 0, &off);

        /* file length beyond the end of the file */
        unaligned_write_le32(img + 0x20, len + 1 + 0x124);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -ENODATA);
        CHECK(strstr(err, "truncated") != NULL);
        unaligned_write_le32(img + 0x20, UINT32_MAX);
        unaligned_write_le32(img + 0x2C, 0);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -ENODATA);
        unaligned_write_le32(img + 0x2C, 0x124);

        /* a signature longer than the image */
        unaligned_write_le32(img + 0x20, 0x100);
        unaligned_write_le32(img + 0x2C, 0x200);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        CHECK(strstr(err, "signature") != NULL);
        unaligned_write_le32(img + 0x20, len);
        unaligned_write_le32(img + 0x2C, 0x124);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);

        /* L pointing before the image, and far outside */
        size_t l_at = off + b.block_len;
        unaligned_write_le32(img + l_at, l_at);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -ENODATA);
        CHECK(strstr(err, "points before") != NULL);
        unaligned_write_le32(img + l_at, UINT32_MAX);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -ENODATA);

        /* L inside the image but not at an EMI block */
        unaligned_write_le32(img + l_at, b.block_len + 4);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        CHECK(strstr(err, "no \"MTK_BLOADER_INFO_v\"") != NULL);

        /* a GFH header cut off at the end of the file */
        memcpy(img, "\x4D\x4D\x4D\x01\x38\x00\x00\x00", 8);
        CHECK_EQ_INT(preloader_parse_emi(img, 0x20, &b, err, sizeof(err)), -ENODATA);
        CHECK(strstr(err, "GFH") != NULL);

        /* an image too short to hold a length */
        unaligned_write_le32(img + 0x20, 0x38);
        unaligned_write_le32(img + 0x2C, 0);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
}

TEST(corrupt_headers) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t len;

        /* count 0 and 65 */
        len = put_version(img, 35, 160);
        unaligned_write_le32(img + 0x6C, 0);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        CHECK(strstr(err, "lists 0 records") != NULL);
        unaligned_write_le32(img + 0x6C, 65);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        CHECK(strstr(err, "lists 65 records") != NULL);
        unaligned_write_le32(img + 0x6C, UINT32_MAX);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);

        /* 64 records are fine, when the file holds them */
        static TestRecord many[EMI_RECORDS_MAX];
        for (unsigned i = 0; i < EMI_RECORDS_MAX; i++)
                many[i] = (TestRecord) { 0x0206, 9, cid_other };
        many[63].id = cid_hbg4a2;
        len = put_block(img, "MTK_BLOADER_INFO_v40", "p.bin", 64, 160, EMI_FAMILY_B, many, 64);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.n_records, 64);
        CHECK_EQ_INT(emi_block_find_record(&b, cid_hbg4a2, 9), 63);

        /* id_length 17 in the second record of each family */
        static const struct { unsigned version; size_t rsize; } versions[] = { { 35, 160 }, { 11, 168 }, { 52, 84 } };
        for (size_t v = 0; v < ELEMENTSOF(versions); v++) {
                static const TestRecord bad[] = { { 0x0203, 9, cid_other }, { 0x0203, 17, cid_hbg4a2 } };
                char identifier[32];

                snprintf(identifier, sizeof(identifier), "MTK_BLOADER_INFO_v%02u", versions[v].version);
                len = put_block(img, identifier, "p.bin", 2, versions[v].rsize, emi_record_family(versions[v].version),
                                bad, 2);
                CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
                CHECK(strstr(err, "record 2 of 2") != NULL);
                CHECK(strstr(err, "ID length is 17") != NULL);
                CHECK(b.n_records == 0 && b.record[0].type == 0);
        }

        /* §9 preloader_sloane_mt8173.bin: every NUL byte replaced by a space */
        len = put_version(img, 0, 140);
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(b.version, 0);
        for (size_t i = 0; i < len; i++)
                if (img[i] == 0)
                        img[i] = ' ';
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        CHECK(strstr(err, "MTK_BIN") != NULL);

        /* no two-digit version */
        len = put_block(img, "MTK_BLOADER_INFO_vX5", "p.bin", 3, 160, EMI_FAMILY_B, three_records, 3);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        len = put_block(img, "MTK_BLOADER_INFO_v350", "p.bin", 3, 160, EMI_FAMILY_B, three_records, 3);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);
        len = put_block(img, "MTK_BLOADER_INFO_v3", "p.bin", 3, 160, EMI_FAMILY_B, three_records, 3);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EBADMSG);

        /* a file name that fills its field, and one with control bytes */
        len = put_block(img, "MTK_BLOADER_INFO_v35", "p.bin", 3, 160, EMI_FAMILY_B, three_records, 3);
        memset(img + 0x1B, 'n', 0x3D);
        img[0x1B] = '\n';
        CHECK_EQ_INT(parse(img, len, &b, err, sizeof(err)), 0);
        CHECK_EQ_INT(strlen(b.file_name), 0x3D);
        CHECK_EQ_INT(b.file_name[0], '?');
        CHECK_EQ_INT(b.file_name[1], 'n');
}

TEST(unknown_versions) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        size_t len;

        /* §9 preloader_huaqin75_cu_jb_6575.bin: v08, 66-byte records of unknown layout */
        len = put_block(img, "MTK_BLOADER_INFO_v08", "preloader_huaqin75.bin", 3, 66, EMI_FAMILY_B, three_records, 3);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EPROTONOSUPPORT);
        CHECK(strstr(err, "v08 (MT6575/6577)") != NULL);
        CHECK_EQ_INT(b.version, 8);
        CHECK_EQ_STR(b.file_name, "preloader_huaqin75.bin");
        CHECK(b.block == NULL);

        /* v51: a chip is known, the record size is not */
        len = put_block(img, "MTK_BLOADER_INFO_v51", "p.bin", 3, 160, EMI_FAMILY_B, three_records, 3);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EPROTONOSUPPORT);
        CHECK(strstr(err, "MT6893") != NULL);
        len = put_block(img, "MTK_BLOADER_INFO_v99", "p.bin", 3, 160, EMI_FAMILY_B, three_records, 3);
        CHECK_EQ_INT(preloader_parse_emi(img, len, &b, err, sizeof(err)), -EPROTONOSUPPORT);
        CHECK(strstr(err, "v99,") != NULL);
}

TEST(garbage) {
        static uint8_t img[BUF_SIZE];
        static EmiBlock b;
        char err[512];
        uint32_t x = 12345;

        CHECK_EQ_INT(preloader_parse_emi(NULL, 0, &b, err, sizeof(err)), -EBADMSG);
        CHECK_EQ_INT(preloader_parse_emi(img, 0, &b, err, sizeof(err)), -EBADMSG);
        memset(img, 0, sizeof(img));
        CHECK_EQ_INT(preloader_parse_emi(img, sizeof(img), &b, err, sizeof(err)), -EBADMSG);
        CHECK(strstr(err, "not a MediaTek preloader") != NULL);
        for (size_t i = 0; i < sizeof(img); i++) {
                x = x * 1103515245 + 12345;
                img[i] = x >> 16;
        }
        CHECK_EQ_INT(preloader_parse_emi(img, sizeof(img), &b, err, sizeof(err)), -EBADMSG);
        /* the identifier at the very end, with nothing after it */
        memcpy(img + sizeof(img) - 18, "MTK_BLOADER_INFO_v", 18);
        CHECK_EQ_INT(preloader_parse_emi(img, sizeof(img), &b, err, sizeof(err)), -ENODATA);
        CHECK_EQ_INT(b.form, PRELOADER_FORM_EMBEDDED);
        CHECK_EQ_INT(b.offset, sizeof(img) - 18);

        /* no error buffer, and a tiny one */
        CHECK_EQ_INT(preloader_parse_emi(img, 100, &b, NULL, 0), -EBADMSG);
        CHECK_EQ_INT(preloader_parse_emi(img, 100, &b, err, 8), -EBADMSG);
        CHECK_EQ_INT(strlen(err), 7);
}

TEST(find_record) {
        static EmiBlock b;
        static const uint8_t short_id[9] = { 0x90, 0x01, 0x4A, 0x48, 0x42, 0x47, 0x34, 0x61, 0x32 };

        /* a default entry first, the exact one later: the exact one wins */
        b.n_records = 4;
        b.record[0] = (EmiRecord) { .type = 0x0003, .id_len = 0 };
        b.record[1] = (EmiRecord) { .type = 0x0203, .id_len = 9 };
        memcpy(b.record[1].id, cid_other, 16);
        b.record[2] = (EmiRecord) { .type = 0x0203, .id_len = 9 };
        memcpy(b.record[2].id, cid_hbg4a2, 16);
        b.record[3] = (EmiRecord) { .type = 0x0203, .id_len = 9 };
        memcpy(b.record[3].id, cid_hbg4a2, 16);
        CHECK_EQ_INT(emi_block_find_record(&b, cid_hbg4a2, 16), 2);
        CHECK_EQ_INT(emi_block_find_record(&b, short_id, 9), 2);
        /* only id_len bytes count: the rest of the CID may differ */
        uint8_t cid[16];
        memcpy(cid, cid_hbg4a2, 16);
        cid[9] ^= 0xFF;
        cid[15] ^= 0xFF;
        CHECK_EQ_INT(emi_block_find_record(&b, cid, 16), 2);
        /* a memory id shorter than the record's cannot match it */
        CHECK_EQ_INT(emi_block_find_record(&b, short_id, 8), 0);
        /* nothing exact: the default */
        cid[2] ^= 0xFF;
        CHECK_EQ_INT(emi_block_find_record(&b, cid, 16), 0);
        CHECK_EQ_INT(emi_block_find_record(&b, NULL, 0), 0);

        /* no default: none */
        b.record[0].type = 0;           /* an unused slot is no default */
        CHECK_EQ_INT(emi_block_find_record(&b, cid, 16), -ENOENT);
        CHECK_EQ_INT(emi_block_find_record(&b, NULL, 0), -ENOENT);
        b.record[0] = (EmiRecord) { .type = 0x0203, .id_len = 9 };
        CHECK_EQ_INT(emi_block_find_record(&b, cid, 16), -ENOENT);
        CHECK_EQ_INT(emi_block_find_record(&b, cid_other, 16), 1);
        /* a record beyond n_records does not count */
        b.n_records = 2;
        CHECK_EQ_INT(emi_block_find_record(&b, cid_hbg4a2, 16), -ENOENT);
        b.n_records = 0;
        CHECK_EQ_INT(emi_block_find_record(&b, cid_other, 16), -ENOENT);
        CHECK_EQ_INT(emi_block_find_record(NULL, cid_other, 16), -ENOENT);
}

TEST(check_version) {
        static EmiBlock b;
        char err[512];

        b.version = 35;
        CHECK_EQ_INT(emi_block_check_version(&b, 35, "MT6765", err, sizeof(err)), 0);
        b.version = 22;
        CHECK_EQ_INT(emi_block_check_version(&b, 35, "MT6765", err, sizeof(err)), -EMEDIUMTYPE);
        CHECK_EQ_STR(err, "the preloader's EMI block is v22 (MT6750/6755), but MT6765 needs v35 (MT6765/6762); use "
                          "the preloader from this phone's own firmware package");
        /* v00 is a version like any other */
        b.version = 0;
        CHECK_EQ_INT(emi_block_check_version(&b, 0, "MT8173", err, sizeof(err)), 0);
        CHECK_EQ_INT(emi_block_check_version(&b, 15, NULL, err, sizeof(err)), -EMEDIUMTYPE);
        CHECK(strstr(err, "this chip needs v15") != NULL);
        CHECK_EQ_INT(emi_block_check_version(&b, -1, "MT8590", err, sizeof(err)), -EOPNOTSUPP);
        CHECK(strstr(err, "MT8590") != NULL);
}

TEST(record_sizes) {
        /* §4.3 */
        static const struct { unsigned version; size_t size; } table[] = {
                { 0, 140 },  { 10, 184 }, { 11, 168 }, { 14, 168 }, { 12, 188 }, { 13, 188 }, { 16, 188 },
                { 15, 176 }, { 17, 176 }, { 20, 188 }, { 21, 188 }, { 22, 176 }, { 24, 164 }, { 25, 160 },
                { 27, 188 }, { 32, 188 }, { 28, 144 }, { 30, 160 }, { 31, 160 }, { 35, 160 }, { 36, 160 },
                { 38, 160 }, { 39, 160 }, { 40, 160 }, { 45, 160 }, { 46, 160 }, { 47, 160 }, { 49, 84 },
                { 52, 84 },
        };
        unsigned known = 0;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                CHECK_EQ_INT(emi_record_size(table[i].version), table[i].size);
                /* §4.6 names a chip for every version with a size but v14 */
                CHECK((emi_version_chips(table[i].version) != NULL) == (table[i].version != 14));
        }
        for (unsigned v = 0; v < 1000; v++)
                known += emi_record_size(v) > 0;
        CHECK_EQ_INT(known, ELEMENTSOF(table));
        CHECK_EQ_INT(emi_record_size(8), 0);
        CHECK_EQ_INT(emi_record_size(51), 0);
        CHECK_EQ_INT(emi_record_size(54), 0);
        CHECK_EQ_INT(emi_record_family(11), EMI_FAMILY_A);
        CHECK_EQ_INT(emi_record_family(14), EMI_FAMILY_A);
        CHECK_EQ_INT(emi_record_family(49), EMI_FAMILY_C);
        CHECK_EQ_INT(emi_record_family(52), EMI_FAMILY_C);
        CHECK_EQ_INT(emi_record_family(0), EMI_FAMILY_B);
        CHECK_EQ_INT(emi_record_family(35), EMI_FAMILY_B);
        CHECK_EQ_STR(emi_version_chips(20), "MT6735/6737/6753, MT8735");
        CHECK_EQ_STR(emi_version_chips(35), "MT6765/6762");
        CHECK(emi_version_chips(1) == NULL);
        CHECK(emi_version_chips(99) == NULL);
}

TEST(dram_types) {
        CHECK_EQ_STR(emi_dram_type_to_string(0x0203), "eMMC+LPDDR3");
        CHECK_EQ_STR(emi_dram_type_to_string(0x0206), "eMMC+LPDDR4X");
        CHECK_EQ_STR(emi_dram_type_to_string(0x0306), "eUFS+LPDDR4X");
        CHECK_EQ_STR(emi_dram_type_to_string(0x0308), "eUFS+LPDDR5");
        CHECK_EQ_STR(emi_dram_type_to_string(0x0003), "LPDDR3");
        CHECK_EQ_STR(emi_dram_type_to_string(0x0006), "LPDDR4X");
        CHECK_EQ_STR(emi_dram_type_to_string(0x0102), "NAND+LPDDR2");
        CHECK_EQ_STR(emi_dram_type_to_string(0), "unused");
        CHECK_EQ_STR(emi_dram_type_to_string(0x0F02), "unknown");
        CHECK_EQ_STR(emi_dram_type_to_string(UINT32_MAX), "unknown");
        CHECK_EQ_STR(preloader_form_to_string(PRELOADER_FORM_BOOT_DUMP), "boot-area dump");
}

TAP_MAIN(TEST_ENTRY(form_a_signed_v35), TEST_ENTRY(form_a_padded_length), TEST_ENTRY(form_b_boot_dump),
         TEST_ENTRY(form_c_bare_v21), TEST_ENTRY(form_d_embedded_v11_v49), TEST_ENTRY(v25_both_sizes),
         TEST_ENTRY(truncated), TEST_ENTRY(gfh_lengths_outside), TEST_ENTRY(corrupt_headers),
         TEST_ENTRY(unknown_versions), TEST_ENTRY(garbage), TEST_ENTRY(find_record), TEST_ENTRY(check_version), TEST_ENTRY(record_sizes),
         TEST_ENTRY(dram_types))

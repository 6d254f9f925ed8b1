/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The formats a backup touches: the DA container, the GPT, the manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "da-file.h"
#include "macro.h"
#include "manifest.h"
#include "partition-table.h"
#include "tap.h"

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
        put16(p, (uint16_t) v);
        put16(p + 2, (uint16_t) (v >> 16));
}
static void put64(uint8_t *p, uint64_t v) {
        put32(p, (uint32_t) v);
        put32(p + 4, (uint32_t) (v >> 32));
}

/* Two entries (0x6735 hw 0xca00, 0x6735 hw 0xcb00) with three regions each. */
static uint8_t *make_da(size_t *ret_len) {
        size_t len = 0x6c + 2 * 0xdc + 0x400;
        uint8_t *d = calloc(1, len);

        memcpy(d, "MTK_DOWNLOAD_AGENT", 18);
        memcpy(d + 0x20, "MTK_AllInOne_DA_test", 20);
        put32(d + 0x60, 4);
        put32(d + 0x64, DA_FILE_MAGIC);
        put32(d + 0x68, 2);
        for (int i = 0; i < 2; i++) {
                uint8_t *e = d + 0x6c + i * 0xdc;
                uint32_t base = (uint32_t) (0x6c + 2 * 0xdc + i * 0x200);

                put16(e, DA_ENTRY_MAGIC);
                put16(e + 2, 0x6735);
                put16(e + 6, i == 0 ? 0xcb00 : 0xca00);
                put16(e + 0x12, 3);
                for (int k = 0; k < 3; k++) {
                        uint8_t *r = e + 0x14 + 20 * k;

                        put32(r, base + (k == 2 ? 0x100 : 0));
                        put32(r + 4, 0x100);
                        put32(r + 8, k == 2 ? 0x40000000 : 0x200000);
                        put32(r + 16, 0x20);
                }
        }
        *ret_len = len;
        return d;
}

TEST(da_parse_and_select) {
        size_t len;
        uint8_t *d = make_da(&len);
        DaFile *f = NULL;
        char *err = NULL;
        const DaEntry *e;
        const DaRegion *r;
        const uint8_t *p;

        CHECK_EQ_INT(da_file_parse(d, len, &f, &err), 0);
        CHECK_EQ_INT(f->n_entries, 2);
        CHECK(!f->old_format && !f->v6);
        CHECK_EQ_STR(f->identifier, "MTK_AllInOne_DA_test");
        /* brom.md §6.3: the first entry not newer than the phone */
        e = da_file_select(f, 0x6735, 0xca00, 0);
        CHECK(e == &f->entries[1]);
        e = da_file_select(f, 0x6735, 0xcb00, 0);
        CHECK(e == &f->entries[0]);
        CHECK(da_file_select(f, 0x6735, 0, 0) == &f->entries[0]);   /* phone version 0 matches anything */
        CHECK(da_file_select(f, 0x6580, 0xca00, 0) == NULL);
        CHECK_EQ_INT(da_entry_get_stage(f, e, 2, &p, &r), 0);
        CHECK_EQ_INT(r->start_addr, 0x40000000);
        CHECK(p == d + r->offset);
        da_file_free(f);
        free(d);
}

TEST(da_malformed) {
        size_t len;
        uint8_t *d = make_da(&len);
        DaFile *f = NULL;
        char *err = NULL;

        CHECK_EQ_INT(da_file_parse(d, 0x20, &f, &err), -EBADMSG);
        CHECK(err && strstr(err, "header"));
        free(err), err = NULL;
        CHECK_EQ_INT(da_file_parse(d, len - 0x100, &f, &err), -EBADMSG);     /* region beyond the end */
        CHECK(err && strstr(err, "Truncated"));
        free(err), err = NULL;
        put32(d + 0x68, 100000);
        CHECK_EQ_INT(da_file_parse(d, len, &f, &err), -EBADMSG);
        free(err), err = NULL;
        put32(d + 0x68, 2);
        put32(d + 0x6c + 0x14 + 20 + 16, 0x200);                           /* sig_len > length */
        CHECK_EQ_INT(da_file_parse(d, len, &f, &err), -EBADMSG);
        free(err), err = NULL;
        put32(d + 0x64, 0x12345678);
        CHECK_EQ_INT(da_file_parse(d, len, &f, &err), -EBADMSG);
        CHECK(err && strstr(err, "magic"));
        free(err);
        free(d);
}

static uint8_t *make_gpt(size_t *ret_len) {
        size_t len = 34 * 512;
        uint8_t *g = calloc(1, len), *h = g + 512, *e = g + 1024;
        const char *name = "nvram";

        g[0x1be + 4] = 0xee;
        g[0x1fe] = 0x55;
        g[0x1ff] = 0xaa;
        e[0] = 0xa2; /* a non-zero type GUID */
        e[16] = 1;
        put64(e + 32, 0x380000 / 512);
        put64(e + 40, (0x380000 + 0x500000) / 512 - 1);
        for (int i = 0; name[i]; i++)
                put16(e + 56 + 2 * i, (uint16_t) name[i]);
        memcpy(h, "EFI PART", 8);
        put32(h + 8, 0x10000);
        put32(h + 12, 92);
        put64(h + 24, 1);
        put64(h + 40, 34);
        put64(h + 48, 1000000);
        put64(h + 72, 2);
        put32(h + 80, 128);
        put32(h + 84, 128);
        put32(h + 88, (uint32_t) crc32(0, e, 128 * 128));
        put32(h + 16, (uint32_t) crc32(0, h, 92));
        *ret_len = len;
        return g;
}

TEST(gpt) {
        size_t len;
        uint8_t *g = make_gpt(&len);
        PartitionTable *t = NULL;
        char *err = NULL;
        const Partition *p;

        CHECK_EQ_INT(gpt_parse(g, len, 0x3a3e00000ULL, &t, &err), 0);
        p = t ? partition_table_find(t, "__NODL_NVRAM") : NULL;
        CHECK(p && p->offset == 0x380000 && p->size == 0x500000 && p->region == STORAGE_REGION_USER);
        partition_table_free(t);
        /* the partition does not fit a tiny device */
        CHECK_EQ_INT(gpt_parse(g, len, 0x400000, &t, &err), -EBADMSG);
        free(err), err = NULL;
        g[1024 + 60] ^= 1; /* entry array CRC */
        CHECK_EQ_INT(gpt_parse(g, len, 0, &t, &err), -EBADMSG);
        CHECK(err && strstr(err, "CRC"));
        free(err), err = NULL;
        CHECK_EQ_INT(gpt_parse(g, 100, 0, &t, &err), -EBADMSG);
        free(err);
        free(g);
}

TEST(manifest_round_trip) {
        Manifest *m = manifest_new(), *back = NULL;
        ManifestPartition p = { .region = STORAGE_REGION_USER, .offset = 0x380000, .size = 0x500000 };
        char *text = NULL, *err = NULL;
        size_t len = 0;
        FILE *f;

        snprintf(m->source, sizeof(m->source), "auto");
        snprintf(m->chip, sizeof(m->chip), "MT6735");
        snprintf(m->device_key, sizeof(m->device_key), "mt6735_0011223344556677");
        snprintf(m->me_id, sizeof(m->me_id), "00112233445566778899aabbccddeeff");
        snprintf(m->table_source, sizeof(m->table_source), "gpt");
        m->hw_code = 0x321;
        m->created_usec = 1795554851000000ULL;
        m->verified = true;
        snprintf(p.name, sizeof(p.name), "nvram");
        snprintf(p.file, sizeof(p.file), "nvram.img");
        memset(p.sha256, 0xab, 32);
        CHECK_EQ_INT(manifest_add_partition(m, &p), 0);
        f = open_memstream(&text, &len);
        CHECK_EQ_INT(manifest_write(m, f), 0);
        fclose(f);
        CHECK_EQ_INT(manifest_parse((uint8_t *) text, len, &back, &err), 0);
        CHECK(back && back->n_parts == 1 && back->parts[0].offset == 0x380000 && back->hw_code == 0x321);
        CHECK(back && back->created_usec == m->created_usec && back->verified);
        CHECK(back && memcmp(back->parts[0].sha256, p.sha256, 32) == 0);
        manifest_free(back);
        free(text);
        manifest_free(m);
}

TEST(manifest_hostile) {
        static const char *bad[] = {
                "",
                "just a string",
                "format_version: 2\ntool: mtknvd\n",
                "format_version: 1\ntool: mtknvd\ncreated: yesterday\nsource: auto\ntable_source: gpt\nverified: true\n"
                "device: {key: k, hw_code: 1}\npartitions: [{name: n, file: ../../etc/passwd, region: 8, offset: 0, size: 1, "
                "sha256: aa}]\n",
                "format_version: 1\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n"
                "verified: true\ndevice: {key: k, hw_code: 1}\npartitions: [{name: nvram, file: ../x, region: 8, "
                "offset: 0, size: 1, sha256: 0000000000000000000000000000000000000000000000000000000000000000}]\n",
                "format_version: 1\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n"
                "verified: true\ndevice: {key: k, hw_code: 1}\npartitions: [{name: nvram, file: nvram.img, region: 8, "
                "offset: 0, size: -1, sha256: 0000000000000000000000000000000000000000000000000000000000000000}]\n",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                Manifest *m = NULL;
                char *err = NULL;

                CHECK_EQ_INT(manifest_parse((const uint8_t *) bad[i], strlen(bad[i]), &m, &err), -EBADMSG);
                CHECK(err != NULL && m == NULL);
                free(err);
        }
}

static Manifest *parse_text(const char *text, char **ret_error) {
        Manifest *m = NULL;

        return manifest_parse((const uint8_t *) text, strlen(text), &m, ret_error) < 0 ? NULL : m;
}

static char *write_text(const Manifest *m) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int r = manifest_write(m, f);

        fclose(f);
        if (r < 0) {
                free(text);
                return NULL;
        }
        return text;
}

TEST(manifest_v3_round_trip) {
        static const StorageRegion regions[] = { STORAGE_REGION_USER, STORAGE_REGION_BOOT1, STORAGE_REGION_BOOT2,
                                                 STORAGE_REGION_RPMB, STORAGE_REGION_ANY };
        static const char *const names[] = { "user", "boot1", "boot2", "rpmb", "any" };
        _cleanup_(manifest_freep) Manifest *m = manifest_new(), *back = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;

        snprintf(m->source, sizeof(m->source), "manual");
        snprintf(m->device_key, sizeof(m->device_key), "mt6765_0011223344556677");
        snprintf(m->table_source, sizeof(m->table_source), "scatter");
        m->created_usec = 1795554851000000ULL;
        m->storage_type = STORAGE_UFS;
        snprintf(m->storage_id, sizeof(m->storage_id), "%s", "53455249414c30303031");
        for (size_t i = 0; i < ELEMENTSOF(regions); i++) {
                ManifestPartition p = { .region = regions[i], .offset = 0x1000 * i, .size = 512 };

                snprintf(p.name, sizeof(p.name), "p%zu", i);
                snprintf(p.file, sizeof(p.file), "p%zu.img", i);
                CHECK_EQ_INT(manifest_add_partition(m, &p), 0);
        }
        text = write_text(m);
        CHECK(text != NULL);
        if (!text)
                return;
        CHECK(strstr(text, "format_version: 3") && strstr(text, "storage_type: \"ufs\"") &&
              strstr(text, "storage_id: \"53455249414c30303031\""));
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char want[32];

                snprintf(want, sizeof(want), "region: %s\n", names[i]);
                CHECK(strstr(text, want) != NULL);
        }
        back = parse_text(text, &err);
        CHECK(back != NULL);
        if (!back)
                return;
        CHECK_EQ_INT(back->format_version, 3);
        CHECK_EQ_INT(back->storage_type, STORAGE_UFS);
        CHECK_EQ_STR(back->storage_id, "53455249414c30303031");
        CHECK_EQ_INT(back->n_parts, ELEMENTSOF(regions));
        for (size_t i = 0; i < back->n_parts && i < ELEMENTSOF(regions); i++)
                CHECK_EQ_INT(back->parts[i].region, regions[i]);

        /* a storage not known (an unbound import) is written as "" and read back as such */
        m->storage_type = _STORAGE_TYPE_INVALID;
        m->storage_id[0] = 0;
        free(text);
        text = write_text(m);
        CHECK(text && strstr(text, "storage_type: \"\""));
        back = manifest_free(back);
        back = text ? parse_text(text, &err) : NULL;
        CHECK(back && back->storage_type == _STORAGE_TYPE_INVALID && !back->storage_id[0]);
}

#define V12_HEAD(v)                                                                                      \
        "format_version: " v "\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n" \
        "verified: true\ndevice: {key: k, hw_code: 1, emmc_cid: \"1501\"}\npartitions:\n"
#define PART(name, region)                                                                              \
        "- {name: " name ", file: " name ".img, region: " region ", offset: 0, size: 1, "                 \
        "sha256: 0000000000000000000000000000000000000000000000000000000000000000}\n"

TEST(manifest_v1_v2_region_numbers) {
        static const char *const heads[] = { V12_HEAD("1"), V12_HEAD("2") };

        for (size_t h = 0; h < ELEMENTSOF(heads); h++) {
                _cleanup_free_ char *text = NULL, *err = NULL, *again = NULL;
                _cleanup_(manifest_freep) Manifest *m = NULL;

                CHECK(asprintf(&text, "%s" PART("u", "8") PART("b1", "1") PART("b2", "2") PART("r", "3")
                               PART("a", "255"), heads[h]) > 0);
                m = parse_text(text, &err);
                CHECK(m != NULL);
                if (!m)
                        continue;
                CHECK_EQ_INT(m->format_version, h + 1);
                CHECK_EQ_INT(m->n_parts, 5);
                if (m->n_parts == 5) {
                        CHECK_EQ_INT(m->parts[0].region, STORAGE_REGION_USER);
                        CHECK_EQ_INT(m->parts[1].region, STORAGE_REGION_BOOT1);
                        CHECK_EQ_INT(m->parts[2].region, STORAGE_REGION_BOOT2);
                        CHECK_EQ_INT(m->parts[3].region, STORAGE_REGION_RPMB);
                        CHECK_EQ_INT(m->parts[4].region, MANIFEST_REGION_ANY);
                }
                /* the legacy DA read eMMC alone: its CID was the storage's id */
                CHECK_EQ_INT(m->storage_type, STORAGE_EMMC);
                CHECK_EQ_STR(m->storage_id, "1501");
                /* written back in its own version, with the same numbers */
                again = write_text(m);
                CHECK(again && strstr(again, h == 0 ? "format_version: 1" : "format_version: 2") &&
                      strstr(again, "region: 8") && strstr(again, "region: 255") && !strstr(again, "storage_"));
        }
}

TEST(manifest_regions_hostile) {
        static const char *const bad[] = {
                /* numbers no version 1 or 2 manifest held (4: the legacy DA's GP1, never backed up) */
                V12_HEAD("2") PART("n", "4"),
                V12_HEAD("1") PART("n", "0"),
                V12_HEAD("2") PART("n", "256"),
                V12_HEAD("2") PART("n", "4294967304"), /* 2^32 + 8: not 8 */
                V12_HEAD("2") PART("n", "user"),
                /* version 3: names only */
                "format_version: 3\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n"
                "verified: true\ndevice: {key: k, hw_code: 1, storage_type: emmc, storage_id: \"\"}\npartitions:\n"
                PART("n", "8"),
                "format_version: 3\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n"
                "verified: true\ndevice: {key: k, hw_code: 1, storage_type: emmc, storage_id: \"\"}\npartitions:\n"
                PART("n", "lu3"),
                /* version 3: the storage fields, present and sane */
                "format_version: 3\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n"
                "verified: true\ndevice: {key: k, hw_code: 1}\npartitions:\n" PART("n", "user"),
                "format_version: 3\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n"
                "verified: true\ndevice: {key: k, hw_code: 1, storage_type: nand, storage_id: \"\"}\npartitions:\n"
                PART("n", "user"),
                "format_version: 3\ntool: mtknvd\ncreated: 2026-01-01T00:00:00Z\nsource: auto\ntable_source: gpt\n"
                "verified: true\ndevice: {key: k, hw_code: 1, storage_type: emmc, storage_id: \"XYZ\"}\npartitions:\n"
                PART("n", "user"),
        };
        static const char *const why[] = { "region 4", "region 0", "region 256", "region 4294967304",
                                           "not a number", "unknown region \"8\"", "unknown region \"lu3\"",
                                           "storage_type", "unknown storage_type \"nand\"", "storage_id" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Manifest *m = NULL;
                char *err = NULL;

                CHECK_EQ_INT(manifest_parse((const uint8_t *) bad[i], strlen(bad[i]), &m, &err), -EBADMSG);
                CHECK(err && m == NULL);
                if (err && !strstr(err, why[i])) {
                        printf("#   manifest %zu: error \"%s\" does not say \"%s\"\n", i, err, why[i]);
                        *tap_failed_ = 1;
                }
                free(err);
        }
}

TAP_MAIN(TEST_ENTRY(da_parse_and_select), TEST_ENTRY(da_malformed), TEST_ENTRY(gpt), TEST_ENTRY(manifest_round_trip),
         TEST_ENTRY(manifest_hostile), TEST_ENTRY(manifest_v3_round_trip), TEST_ENTRY(manifest_v1_v2_region_numbers),
         TEST_ENTRY(manifest_regions_hostile))

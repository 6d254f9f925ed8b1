/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "identity-set.h"
#include "macro.h"
#include "name-list.h"
#include "storage.h"
#include "scatter.h"
#include "scatter-edit.h"
#include "tap.h"

#define USER STORAGE_REGION_USER
#define BOOT1 STORAGE_REGION_BOOT1
#define BOOT2 STORAGE_REGION_BOOT2
/* a value the parser is not held to (V1.0's end-relative last entry) */
#define ANY UINT64_MAX

/* tests/unit/data/scatter, from the top of the checkout (run-tests.py runs unit tests there) */
#define FIXTURES "tests/unit/data/scatter/"

static uint8_t *read_whole(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "rb");
        uint8_t *data;

        if (!f)
                return NULL;
        data = malloc(1 << 20);
        *ret_len = data ? fread(data, 1, 1 << 20, f) : 0;
        fclose(f);
        return data;
}

static ScatterFile *parse_path(const char *path, bool crlf, int *tap_failed_) {
        _cleanup_free_ uint8_t *data = NULL, *conv = NULL;
        _cleanup_free_ char *err = NULL;
        ScatterFile *s = NULL;
        size_t len = 0;

        data = read_whole(path, &len);
        if (!data) {
                printf("#   cannot read %s\n", path);
                *tap_failed_ = 1;
                return NULL;
        }
        if (crlf) {
                size_t n = 0;

                conv = malloc(2 * len);
                for (size_t i = 0; conv && i < len; i++) {
                        if (data[i] == '\n')
                                conv[n++] = '\r';
                        conv[n++] = data[i];
                }
                len = n;
        }
        if (scatter_parse(crlf ? conv : data, len, &s, &err) < 0) {
                printf("#   %s%s: %s\n", path, crlf ? " (CRLF)" : "", err ?: "?");
                *tap_failed_ = 1;
        }
        return s;
}

static const ScatterEntry *find(const ScatterFile *s, const char *name) {
        char want[64], have[64];

        partition_name_canonical(name, want, sizeof(want));
        for (size_t i = 0; s && i < s->n_entries; i++) {
                partition_name_canonical(s->entries[i].name, have, sizeof(have));
                if (streq(have, want))
                        return &s->entries[i];
        }
        return NULL;
}

/* ------------------------------------------------------------ in-repo fixtures */

typedef struct Want {
        const char *name;
        StorageRegion region;
        uint64_t offset, size; /* after scatter_file_resolve() */
        bool reserved;         /* end-relative: unresolved until then */
} Want;

typedef struct Fixture {
        const char *file, *config_version, *platform;
        bool v1_0;
        uint64_t block_size, user_size;
        const Want *want;
        size_t n_want;
} Fixture;

static void check_entries(const Fixture *fx, const ScatterFile *s, bool after_resolve, int *tap_failed_) {
        CHECK_EQ_INT(s->n_entries, fx->n_want);
        for (size_t i = 0; i < MIN(s->n_entries, fx->n_want); i++) {
                const ScatterEntry *e = &s->entries[i];
                const Want *w = &fx->want[i];

                bool placed = after_resolve || !w->reserved;

                if (!streq(e->name, w->name) || e->region != w->region || e->reserved != w->reserved ||
                    e->resolved != placed || (placed && w->offset != ANY && e->offset != w->offset) ||
                    (w->size != ANY && e->size != w->size)) {
                        printf("#   %s entry %zu%s: \"%s\" region %u offset 0x%" PRIx64 " size 0x%" PRIx64
                               " reserved %d resolved %d, expected \"%s\" region %u offset 0x%" PRIx64
                               " size 0x%" PRIx64 " reserved %d\n",
                               fx->file, i, after_resolve ? " (resolved)" : "", e->name, e->region, e->offset,
                               e->size, e->reserved, e->resolved, w->name, w->region, w->offset, w->size,
                               w->reserved);
                        *tap_failed_ = 1;
                }
        }
}

static void check_fixture(const Fixture *fx, bool crlf, int *tap_failed_) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(scatter_file_freep) ScatterFile *s = NULL;
        _cleanup_(partition_table_freep) PartitionTable *t = NULL;
        size_t n_table = 0;

        CHECK(asprintf(&path, FIXTURES "%s", fx->file) >= 0);
        s = parse_path(path, crlf, tap_failed_);
        if (!s)
                return;
        CHECK_EQ_STR(s->config_version, fx->config_version);
        CHECK_EQ_STR(s->platform, fx->platform);
        CHECK_EQ_STR(s->storage, fx->v1_0 ? "" : "EMMC");
        CHECK_EQ_INT(s->v1_0, fx->v1_0);
        CHECK_EQ_INT(s->xml, strstr(fx->file, ".xml") != NULL);
        CHECK_EQ_INT(s->block_size, fx->block_size);
        check_entries(fx, s, false, tap_failed_);
        CHECK_EQ_INT(scatter_file_resolve(s, fx->user_size), 0);
        check_entries(fx, s, true, tap_failed_);

        /* the table a backup reads from: every placed entry with a size, nothing else */
        t = scatter_file_take_table(s);
        CHECK(t != NULL);
        for (size_t i = 0; i < fx->n_want; i++)
                n_table += fx->want[i].size > 0;
        CHECK_EQ_INT(t ? t->n_parts : 0, n_table);
}

static const Want want_v1_0[] = {
        { "PRELOADER", BOOT1, 0x0, 0x400000 },
        { "MBR", USER, 0x0, 0x80000 },
        { "EBR1", USER, 0x80000, 0x80000 },
        { "__NODL_PMT", USER, 0x100000, 0x400000 },
        { "__NODL_PRO_INFO", USER, 0x500000, 0x300000 },
        { "__NODL_NVRAM", USER, 0x800000, 0x500000 },
        { "__NODL_PROTECT_F", USER, 0xd00000, 0xa00000 },
        { "__NODL_PROTECT_S", USER, 0x1700000, 0xa00000 },
        { "UBOOT", USER, 0x2100000, 0x60000 },
        { "ANDROID", USER, 0x2160000, 0x40000000 },
        { "USRDATA", USER, 0x42160000, ANY },
        { "__NODL_BMTPOOL", USER, ANY, ANY, true },
};

static const Want want_v1_1_1[] = {
        { "PRELOADER", BOOT1, 0x0, 0x600000 },
        { "MBR", USER, 0x0, 0x80000 },
        { "EBR1", USER, 0x80000, 0x80000 },
        { "PRO_INFO", USER, 0x100000, 0x300000 },
        { "NVRAM", USER, 0x400000, 0x500000 },
        { "PROTECT_F", USER, 0x900000, 0xa00000 },
        { "PROTECT_S", USER, 0x1300000, 0xa00000 },
        { "ANDROID", USER, 0x1d00000, 0x40000000 },
        { "USRDATA", USER, 0x41d00000, 0x20000000 },
        { "FAT", USER, 0x61d00000, 0x0 },
        { "BMTPOOL", USER, 0x80000000 - 0x1500000, 0x1500000, true },
};

static const Want want_gpt[] = {
        { "preloader", BOOT1, 0x0, 0x40000 },
        { "pgpt", USER, 0x0, 0x80000 },
        { "proinfo", USER, 0x80000, 0x300000 },
        { "nvram", USER, 0x380000, 0x500000 },
        { "protect1", USER, 0x880000, 0xa00000 },
        { "protect2", USER, 0x1280000, 0xa00000 },
        { "boot", USER, 0x1c80000, 0x1000000 },
        { "nvdata", USER, 0x2c80000, 0x2000000 },
        { "system", USER, 0x4c80000, 0xc0000000 },
        { "userdata", USER, 0xc4c80000, 0x20000000 },
        /* stacked from the end in file order: the last one innermost */
        { "flashinfo", USER, 0x200000000 - 0x80000 - 0x1000000, 0x1000000, true },
        { "sgpt", USER, 0x200000000 - 0x80000, 0x80000, true },
};

#define EMMC_32G 0x747c00000ULL
static const Want want_upper_hex[] = {
        { "preloader", BOOT1, 0x0, 0x40000 },
        { "pgpt", USER, 0x0, 0x8000 },
        { "reserved1", USER, 0x8000, 0x7f8000 },
        /* the entry without a name is not there */
        { "nvcfg", USER, 0x800000, 0x800000 },
        { "nvdata", USER, 0x1000000, 0x2000000 },
        { "protect1", USER, 0x3000000, 0x800000 },
        { "protect2", USER, 0x3800000, 0x800000 },
        { "proinfo", USER, 0x4000000, 0x800000 },
        { "nvram", USER, 0x4800000, 0x500000 },
        { "reserved2", USER, 0x4d00000, 0x300000 },
        { "system", USER, 0x5000000, 0xe0000000 },
        { "userdata", USER, 0xe5000000, 0x61d3fbe00 },
        { "flashinfo", USER, EMMC_32G - 0x4200 - 0x1000000, 0x1000000, true },
        { "sgpt", USER, EMMC_32G - 0x4200, 0x4200, true },
};

/* the device these addresses were written for ends right after flashinfo */
#define EMMC_BOOT1BOOT2_END (0xefe00000ULL + 0x1000000)
static const Want want_boot1boot2[] = {
        { "preloader", BOOT1, 0x0, 0x80000 },
        { "pgpt", USER, 0x0, 0x8000 },
        { "boot_para", USER, 0x8000, 0x100000 },
        { "nvcfg", USER, 0x108000, 0x2000000 },
        { "nvdata", USER, 0x2108000, 0x4000000 },
        { "md_udc", USER, 0x6108000, 0x169a000 },
        { "protect1", USER, 0x77a2000, 0x800000 },
        { "protect2", USER, 0x7fa2000, 0x105e000 },
        { "proinfo", USER, 0x9000000, 0x300000 },
        { "nvram", USER, 0x9300000, 0x4000000 },
        { "super", USER, 0xd300000, 0x80000000 },
        { "userdata", USER, 0x8d300000, 0x60000000 },
        /* is_reserved with real addresses: placed from the end, which agrees with them on that device */
        { "otp", USER, 0xed300000, 0x2b00000, true },
        { "flashinfo", USER, 0xefe00000, 0x1000000, true },
};

static const Want want_mbr[] = {
        { "PRELOADER", BOOT1, 0x0, 0x40000 },
        { "MBR", USER, 0x0, 0x80000 },
        { "EBR1", USER, 0x80000, 0x80000 },
        { "PRO_INFO", USER, 0x100000, 0x300000 },
        { "NVRAM", USER, 0x400000, 0x500000 },
        { "PROTECT_F", USER, 0x900000, 0xa00000 },
        { "PROTECT_S", USER, 0x1300000, 0xa00000 },
        { "ANDROID", USER, 0x1d00000, 0x40000000 },
        { "USRDATA", USER, 0x41d00000, 0x20000000 },
        { "BMTPOOL", USER, 0x80000000 - 0x1500000, 0x1500000, true },
};

static const Want want_v2[] = {
        { "preloader", BOOT1, 0x0, 0x80000 },
        { "pgpt", USER, 0x0, 0x8000 },
        { "nvram", USER, 0x8000, 0x4000000 },
        { "sgpt", USER, 0x10000000 - 0x8000, 0x8000, true },
};

/* v2.1.0-emmc-ufs.txt: until the phone's storage is known, the EMMC table */
#define V2_EMMC_USER 0x40000000ULL
static const Want want_v2_emmc[] = {
        { "preloader", BOOT1, 0x0, 0x80000 },
        { "pgpt", USER, 0x0, 0x8000 },
        { "proinfo", USER, 0x8000, 0x300000 },
        { "nvram", USER, 0x308000, 0x4000000 },
        { "protect1", USER, 0x4308000, 0x800000 },
        { "protect2", USER, 0x4b08000, 0x800000 },
        { "nvcfg", USER, 0x5308000, 0x2000000 },
        { "nvdata", USER, 0x7308000, 0x4000000 },
        { "userdata", USER, 0xb308000, 0x20000000 },
        { "sgpt", USER, V2_EMMC_USER - 0x8000, 0x8000, true },
};

#define FIXTURE(f, ver, plat, v10, bs, us, w) { f, ver, plat, v10, bs, us, w, ELEMENTSOF(w) }
static const Fixture fixtures[] = {
        FIXTURE("v1.0-nodl.txt", "V1.0", "", true, 0, 0x100000000ULL, want_v1_0),
        FIXTURE("v1.1.1-pmt.txt", "V1.1.1", "MT6582", false, 0x20000, 0x80000000ULL, want_v1_1_1),
        FIXTURE("v1.1.2-gpt.txt", "V1.1.2", "MT6735", false, 0x20000, 0x200000000ULL, want_gpt),
        FIXTURE("v1.1.2-upper-hex.txt", "V1.1.2", "MT6750", false, 0x20000, EMMC_32G, want_upper_hex),
        FIXTURE("v1.1.2-boot1boot2.txt", "V1.1.2", "MT6765", false, 0x200000, EMMC_BOOT1BOOT2_END, want_boot1boot2),
        FIXTURE("v1.1.2-mbr.txt", "V1.1.2", "MT6592", false, 0x20000, 0x80000000ULL, want_mbr),
        FIXTURE("v2-storage-type.txt", "V2.1.0", "MT6789", false, 0x20000, 0x10000000ULL, want_v2),
        FIXTURE("v2.1.0-emmc-ufs.txt", "V2.1.0", "MT6785", false, 0x20000, V2_EMMC_USER, want_v2_emmc),
        /* XML (da.md §6.3): the same layouts as their text siblings give the same tables */
        FIXTURE("v1.1.8-gpt.xml", "V1.1.8", "MT6768", false, 0x20000, 0x200000000ULL, want_gpt),
        FIXTURE("v2.1.0-emmc-ufs.xml", "V2.1.0", "MT6785", false, 0x20000, V2_EMMC_USER, want_v2_emmc),
};

TEST(fixtures) {
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++)
                check_fixture(&fixtures[i], false, tap_failed_);
}

TEST(fixtures_crlf) {
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++)
                check_fixture(&fixtures[i], true, tap_failed_);
}

TEST(device_too_small) {
        _cleanup_(scatter_file_freep) ScatterFile *s = parse_path(FIXTURES "v1.1.2-gpt.txt", false, tap_failed_);
        _cleanup_(scatter_file_freep) ScatterFile *v = parse_path(FIXTURES "v1.1.1-pmt.txt", false, tap_failed_);

        /* userdata ends at 0xe4c80000, past the end of this user area */
        if (s)
                CHECK_EQ_INT(scatter_file_resolve(s, 0xe0000000ULL), -ERANGE);
        /* BMTPOOL (0x1500000) is larger than the whole user area */
        if (v)
                CHECK_EQ_INT(scatter_file_resolve(v, 0x1000000ULL), -ERANGE);
}

/* Only 0xFFFFxxxx is end-relative: cache and userdata above 4 GiB (MT6737M, MT6750, MT6765 files)
 * are where the file says. */
#define EMMC_8G 0x1d5a00000ULL
static const Want want_64bit[] = {
        { "preloader", BOOT1, 0x0, 0x40000 },
        { "pgpt", USER, 0x0, 0x80000 },
        { "nvram", USER, 0x380000, 0x500000 },
        { "system", USER, 0x2b800000, 0xc0000000 },
        { "cache", USER, 0xeb800000, 0x20000000 },
        { "userdata", USER, 0x10b800000, 0x60000000 },
        { "flashinfo", USER, EMMC_8G - 0x80000 - 0x1000000, 0x1000000, true },
        { "sgpt", USER, EMMC_8G - 0x80000, 0x80000, true },
};

TEST(addresses_above_4gib) {
        static const Fixture fx = FIXTURE("v1.1.2-64bit.txt", "V1.1.2", "MT6737M", false, 0x20000, EMMC_8G,
                                          want_64bit);

        check_fixture(&fx, false, tap_failed_);
}

/* An entry's placement and whether it is in the identity set, as Inspect reports them. */
static void check_marked(const ScatterFile *s, char **set, const char *name, int64_t start, uint64_t size,
                         StorageRegion region, bool identity, int *tap_failed_) {
        const ScatterEntry *e = NULL;

        for (size_t i = 0; i < s->n_entries; i++)
                if (streq(s->entries[i].name, name))
                        e = &s->entries[i];
        CHECK(e);
        if (!e) {
                printf("#   no entry %s\n", name);
                return;
        }
        if (start < 0)
                /* not placed until the device's size is known */
                CHECK(!e->resolved);
        else {
                CHECK(e->resolved);
                CHECK_EQ_INT((long long) e->offset, start);
        }
        CHECK_EQ_INT((long long) e->size, (long long) size);
        CHECK_EQ_INT(e->region, region);
        CHECK_EQ_INT(scatter_entry_is_identity(e, set), identity);
}

TEST(identity_marked) {
        _cleanup_(scatter_file_freep) ScatterFile *gpt = parse_path(FIXTURES "v1.1.2-gpt.txt", false, tap_failed_);
        _cleanup_(scatter_file_freep) ScatterFile *mbr = parse_path(FIXTURES "v1.1.2-mbr.txt", false, tap_failed_);
        char **set = NULL;

        if (!gpt || !mbr)
                return;
        CHECK_EQ_INT(identity_set_parse("nvram,nvdata,protect1,protect2,proinfo", &set), 0);
        CHECK_EQ_STR(gpt->config_version, "V1.1.2");
        CHECK_EQ_STR(gpt->platform, "MT6735");
        CHECK_EQ_STR(gpt->storage, "EMMC");
        check_marked(gpt, set, "nvram", 3670016, 5242880, STORAGE_REGION_USER, true, tap_failed_);
        check_marked(gpt, set, "boot", 29884416, 16777216, STORAGE_REGION_USER, false, tap_failed_);
        check_marked(gpt, set, "preloader", 0, 262144, STORAGE_REGION_BOOT1, false, tap_failed_);
        check_marked(gpt, set, "sgpt", -1, 524288, STORAGE_REGION_USER, false, tap_failed_);

        /* the PMT era's spellings name the same identity partitions */
        check_marked(mbr, set, "PROTECT_F", 9437184, 10485760, STORAGE_REGION_USER, true, tap_failed_);
        check_marked(mbr, set, "PRO_INFO", 1048576, 3145728, STORAGE_REGION_USER, true, tap_failed_);
        check_marked(mbr, set, "NVRAM", 4194304, 5242880, STORAGE_REGION_USER, true, tap_failed_);
        check_marked(mbr, set, "EBR1", 524288, 524288, STORAGE_REGION_USER, false, tap_failed_);
        /* no set: nothing is marked */
        CHECK(!scatter_entry_is_identity(&gpt->entries[0], NULL));
        name_list_free(set);
}

/* ------------------------------------------------------------ the shared corpus, when it is there */

/* The real scatter files of ../shared/corpus/scatter (or $MTKNVD_SHARED_DIR/corpus/scatter). A
 * clone without ../shared skips these; a named MTKNVD_SHARED_DIR must hold them. */
static bool corpus_present(void) {
        struct stat st;

        return getenv("MTKNVD_SHARED_DIR") || stat("../shared/corpus/scatter", &st) == 0;
}

#define SKIP_WITHOUT_CORPUS()                                                                                  \
        do {                                                                                                   \
                if (!corpus_present())                                                                         \
                        TAP_SKIP("no ../shared/corpus/scatter beside the checkout (MTKNVD_SHARED_DIR unset)"); \
        } while (0)

static ScatterFile *parse_corpus(const char *name, int *tap_failed_) {
        const char *shared = getenv("MTKNVD_SHARED_DIR");
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/corpus/scatter/%s", shared ?: "../shared", name) < 0)
                return NULL;
        return parse_path(path, false, tap_failed_);
}

static void check_nvram(const char *file, uint64_t offset, uint64_t size, bool v1_0, int *tap_failed_) {
        _cleanup_(scatter_file_freep) ScatterFile *s = parse_corpus(file, tap_failed_);
        const ScatterEntry *e;

        if (!s)
                return;
        CHECK_EQ_INT(scatter_file_resolve(s, 0x1000000000ULL), 0);
        e = find(s, "nvram");
        CHECK(e != NULL);
        if (e) {
                CHECK(e->resolved);
                CHECK_EQ_INT(e->offset, offset);
                CHECK_EQ_INT(e->size, size);
                CHECK_EQ_INT(e->region, USER);
        }
        CHECK_EQ_INT(s->v1_0, v1_0);
}

TEST(corpus_v1_1_2) {
        SKIP_WITHOUT_CORPUS();
        check_nvram("ReallySnow_Unlock_Huawei_Mtk__MT6735_Android_scatter.txt", 0x380000, 0x500000, false, tap_failed_);
        check_nvram("barismizrakli_Casper-VIA-M1-UnBrick-Pack__MT6753_Android_scatter.txt", 0x380000, 0x500000, false,
                    tap_failed_);
        check_nvram("berkantkz_misc__MT6737M_Android_scatter.txt", 0x380000, 0x500000, false, tap_failed_);
        check_nvram("biplobsd_symphony_r20_RECOVERY_AND_ROOT_TOOLS__MT6580_Android_scatter.txt", 0x380000, 0x500000,
                    false, tap_failed_);
        check_nvram("btreut_Hannspree-Poseidon_SN12TP1B__MT8163_Android_scatter.txt", 0x380000, 0x500000, false,
                    tap_failed_);
        check_nvram("fahad15090_A16k-oppo__MT6765_Android_scatter.txt", 0x33600000, 0x4000000, false, tap_failed_);
        check_nvram("luisetex84_android_device_bq_Aquaris_E10__MT6592_Android_scatter.txt", 0x400000, 0x500000, false,
                    tap_failed_);
        check_nvram("ttefke_android_device_nb_vernee_M5__MT6750_Android_scatter.txt", 0x25400000, 0x500000, false,
                    tap_failed_);
}

TEST(corpus_pmt_era) {
        ScatterFile *s;
        const ScatterEntry *e, *first;

        SKIP_WITHOUT_CORPUS();
        /* V1.1.1: physical 0 everywhere, the user area starts at the first user-area entry */
        s = parse_corpus("NeverMine17_fly-iq-4407-scatter__MT6572_Android_scatter.txt", tap_failed_);
        if (!s)
                return;
        e = find(s, "NVRAM");
        CHECK(e && e->size == 0x500000 && e->resolved);
        first = NULL;
        for (size_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].region == USER && !s->entries[i].reserved) {
                        first = &s->entries[i];
                        break;
                }
        CHECK(first && first->offset == 0);
        CHECK(e && first && e->offset > first->offset && e->offset < 0x1000000);
        scatter_file_free(s);

        /* V1.0: MBR at 0x600000 starts the user area; sizes come from the next entry */
        check_nvram("GoldRenard_device_lenovo_s960_twrp_tree__MT6589_Android_scatter_emmc.txt", 0xe00000 - 0x600000,
                    0x500000, true, tap_failed_);
}

TEST(corpus_identity_marked) {
        _cleanup_(scatter_file_freep) ScatterFile *s = NULL;
        char **set = NULL;

        SKIP_WITHOUT_CORPUS();
        s = parse_corpus("ReallySnow_Unlock_Huawei_Mtk__MT6735_Android_scatter.txt", tap_failed_);
        if (!s)
                return;
        CHECK_EQ_INT(identity_set_parse("nvram,nvdata,protect1,protect2,proinfo", &set), 0);
        check_marked(s, set, "nvram", 3670016, 5242880, STORAGE_REGION_USER, true, tap_failed_);
        CHECK(find(s, "boot") && !scatter_entry_is_identity(find(s, "boot"), set));
        name_list_free(set);
}

/* ------------------------------------------------------------ broken input */

static int parse_str(const char *text, ScatterFile **ret, char **err) {
        return scatter_parse((const uint8_t *) text, strlen(text), ret, err);
}
TEST(malformed) {
        ScatterFile *s = NULL;
        char *err = NULL;

        CHECK_EQ_INT(parse_str("", &s, &err), -EBADMSG);
        free(err), err = NULL;
        CHECK_EQ_INT(parse_str("- partition_index: SYS0\n  partition_name: nvram\n  partition_size: lots\n", &s, &err),
                     -EBADMSG);
        CHECK(err && strstr(err, "nvram"));
        free(err), err = NULL;
        CHECK_EQ_INT(parse_str("- partition_index: [unclosed\n", &s, &err), -EBADMSG);
        CHECK(err && strstr(err, "line"));
        free(err), err = NULL;
        CHECK_EQ_INT(parse_str("<?xml version=\"1.0\"?><root/>", &s, &err), -EBADMSG);
        CHECK(err && strstr(err, "MTK_PLATFORM_CFG"));
        free(err), err = NULL;
        CHECK_EQ_INT(parse_str("NVRAM zzz\n{\n}\n", &s, &err), -EBADMSG);
        free(err), err = NULL;
        /* an empty name is skipped, the rest still counts */
        CHECK_EQ_INT(parse_str("- partition_index: SYS0\r\n  partition_name: \r\n  partition_size: 0x10\r\n"
                               "- partition_index: SYS1\r\n  partition_name: nvram\r\n  linear_start_addr: 0x380000\r\n"
                               "  physical_start_addr: 0x380000\r\n  partition_size: 0x500000\r\n", &s, &err), 0);
        CHECK(s && s->n_entries == 1);
        scatter_file_free(s);
        free(err);
}

/* ------------------------------------------------------------ V2.x: a table per storage type */

/* the UFS table of v2.1.0-emmc-ufs.txt: LU0 and LU1 the boot LUs, LU2 the user LU */
#define V2_UFS_USER 0x80000000ULL
static const Want want_v2_ufs[] = {
        { "preloader", BOOT1, 0x0, 0x100000 },
        { "preloader_backup", BOOT2, 0x0, 0x100000 },
        { "pgpt", USER, 0x0, 0x6000 },
        { "proinfo", USER, 0x6000, 0x300000 },
        { "nvram", USER, 0x306000, 0x4000000 },
        { "protect1", USER, 0x4306000, 0x800000 },
        { "protect2", USER, 0x4b06000, 0x800000 },
        { "nvcfg", USER, 0x5306000, 0x2000000 },
        { "nvdata", USER, 0x7306000, 0x4000000 },
        { "userdata", USER, 0xb306000, 0x40000000 },
        { "sgpt", USER, V2_UFS_USER - 0x5000, 0x5000, true },
};

static void check_v2_tables(const char *file, int *tap_failed_) {
        const Fixture ufs = FIXTURE(file, "V2.1.0", "MT6785", false, 0x20000, V2_UFS_USER, want_v2_ufs);
        const Fixture emmc = FIXTURE(file, "V2.1.0", "MT6785", false, 0x20000, V2_EMMC_USER, want_v2_emmc);
        _cleanup_free_ char *path = NULL, *err = NULL;
        _cleanup_(scatter_file_freep) ScatterFile *s = NULL;

        CHECK(asprintf(&path, FIXTURES "%s", file) >= 0);
        s = parse_path(path, false, tap_failed_);
        if (!s)
                return;
        CHECK_EQ_INT(s->n_tables, 2);
        CHECK_EQ_STR(s->tables[0].storage, "EMMC");
        CHECK_EQ_STR(s->tables[1].storage, "UFS");
        CHECK_EQ_INT(s->tables[0].n_entries, ELEMENTSOF(want_v2_emmc));
        CHECK_EQ_INT(s->tables[1].n_entries, ELEMENTSOF(want_v2_ufs));

        /* a UFS phone: its table, placed on its own (the storage type as StorageInfo names it) */
        CHECK_EQ_INT(scatter_file_use_storage(s, "ufs", &err), 0);
        CHECK(err == NULL);
        check_entries(&ufs, s, false, tap_failed_);
        CHECK_EQ_INT(scatter_file_resolve(s, V2_UFS_USER), 0);
        check_entries(&ufs, s, true, tap_failed_);

        /* and back: the tables are kept, what was resolved for the other phone is not */
        CHECK_EQ_INT(scatter_file_use_storage(s, "EMMC", &err), 0);
        check_entries(&emmc, s, false, tap_failed_);
        CHECK_EQ_INT(find(s, "nvram")->offset, 0x308000);
}

TEST(v2_storage_tables) {
        _cleanup_(scatter_file_freep) ScatterFile *old = parse_path(FIXTURES "v1.1.2-gpt.txt", false, tap_failed_);
        _cleanup_free_ char *err = NULL;

        check_v2_tables("v2.1.0-emmc-ufs.txt", tap_failed_);
        check_v2_tables("v2.1.0-emmc-ufs.xml", tap_failed_);
        if (!old)
                return;
        /* a V1.x file has one table, for whatever phone it is given to */
        CHECK_EQ_INT(old->n_tables, 0);
        CHECK_EQ_INT(scatter_file_use_storage(old, "ufs", &err), 0);
        CHECK(find(old, "nvram") != NULL);
}

static const char v2_ufs_only[] =
        "- general: MTK_PLATFORM_CFG\n"
        "  info:\n"
        "    - config_version: V2.1.0\n"
        "      platform: MT6785\n"
        "      storage: UFS\n"
        "- storage_type: UFS\n"
        "  description:\n"
        "    - partition_index: SYS0\n"
        "      partition_name: nvram\n"
        "      file_name: NONE\n"
        "      is_download: false\n"
        "      linear_start_addr: 0x306000\n"
        "      physical_start_addr: 0x306000\n"
        "      partition_size: 0x4000000\n"
        "      region: UFS_LU2\n";

TEST(v2_no_table_for_the_storage) {
        static const char *const names[] = { "nvram" }, *const files[] = { "nvram.img" };
        ScatterFile *s = NULL;
        char *err = NULL, *out = NULL;
        size_t len = 0;

        CHECK_EQ_INT(parse_str(v2_ufs_only, &s, &err), 0);
        if (!s)
                return;
        CHECK_EQ_INT(s->n_tables, 1);
        /* an eMMC phone: no table of its, said so, naming the tables there are */
        CHECK_EQ_INT(scatter_file_use_storage(s, "emmc", &err), -ENOENT);
        CHECK(err && strstr(err, "UFS") && strstr(err, "emmc"));
        free(err), err = NULL;
        CHECK_EQ_INT(scatter_edit_for_download((const uint8_t *) v2_ufs_only, strlen(v2_ufs_only), "emmc", names,
                                               files, 1, &out, &len, &err), -EBADMSG);
        CHECK(err && strstr(err, "emmc"));
        CHECK(out == NULL);
        free(err), err = NULL;
        CHECK_EQ_INT(scatter_edit_for_download((const uint8_t *) v2_ufs_only, strlen(v2_ufs_only), "ufs", names,
                                               files, 1, &out, &len, &err), 0);
        CHECK(out && strstr(out, "file_name: nvram.img") && strstr(out, "is_download: true"));
        free(out);
        scatter_file_free(s);
}

TEST(v2_malformed) {
        ScatterFile *s = NULL;
        char *err = NULL;
        static const char part[] = "    - partition_index: SYS0\n      partition_name: nvram\n"
                                   "      partition_size: 0x10\n";
        char text[1024];

        /* a table without its storage type */
        snprintf(text, sizeof(text), "- description:\n%s", part);
        CHECK_EQ_INT(parse_str(text, &s, &err), -EBADMSG);
        CHECK(err && strstr(err, "storage_type"));
        free(err), err = NULL;
        /* two tables for one storage: which one is the phone's? */
        snprintf(text, sizeof(text), "- storage_type: UFS\n  description:\n%s- storage_type: ufs\n  description:\n%s",
                 part, part);
        CHECK_EQ_INT(parse_str(text, &s, &err), -EBADMSG);
        CHECK(err && strstr(err, "two tables"));
        free(err), err = NULL;
        /* V1.1 blocks beside V2 tables */
        snprintf(text, sizeof(text), "- storage_type: UFS\n  description:\n%s- partition_index: SYS1\n"
                 "  partition_name: nvdata\n  partition_size: 0x10\n", part);
        CHECK_EQ_INT(parse_str(text, &s, &err), -EBADMSG);
        CHECK(err && strstr(err, "outside"));
        free(err);
}

/* The offset in text of the block for partition name after the "- storage_type: storage" line. */
static const char *v2_block(const char *text, const char *storage, const char *name) {
        char want[64];
        const char *t;

        snprintf(want, sizeof(want), "- storage_type: %s\n", storage);
        t = strstr(text, want);
        snprintf(want, sizeof(want), "partition_name: %s\n", name);
        return t ? strstr(t, want) : NULL;
}

/* Whether the block starting at p (up to the next partition_index) has line. */
static bool block_has(const char *p, const char *line) {
        const char *end = p ? strstr(p, "partition_index") : NULL, *l = p ? strstr(p, line) : NULL;

        return l && (!end || l < end);
}

TEST(v2_edit_for_download) {
        static const char *const names[] = { "nvram", "proinfo" }, *const files[] = { "nvram.img", "proinfo.img" };
        _cleanup_free_ uint8_t *data = NULL;
        size_t len = 0;

        data = read_whole(FIXTURES "v2.1.0-emmc-ufs.txt", &len);
        CHECK(data != NULL);
        if (!data)
                return;
        for (int ufs = 0; ufs <= 1; ufs++) {
                const char *mine = ufs ? "UFS" : "EMMC", *other = ufs ? "EMMC" : "UFS";
                _cleanup_free_ char *out = NULL, *err = NULL, *text = NULL;
                size_t out_len = 0, marked = 0;

                CHECK_EQ_INT(scatter_edit_for_download(data, len, ufs ? "ufs" : "emmc", names, files, 2, &out,
                                                       &out_len, &err), 0);
                if (!out)
                        continue;
                text = strndup(out, out_len);
                for (const char *p = text; (p = strstr(p, "is_download: true")); p++)
                        marked++;
                /* the two partitions of the phone's storage's table, and nothing in the other one */
                CHECK_EQ_INT(marked, 2);
                CHECK(block_has(v2_block(text, mine, "nvram"), "file_name: nvram.img\n"));
                CHECK(block_has(v2_block(text, mine, "nvram"), "is_download: true\n"));
                CHECK(block_has(v2_block(text, mine, "proinfo"), "file_name: proinfo.img\n"));
                CHECK(block_has(v2_block(text, other, "nvram"), "file_name: NONE\n"));
                CHECK(block_has(v2_block(text, other, "nvram"), "is_download: false\n"));
                /* nothing else changed: two NONEs became images, two falses true */
                CHECK_EQ_INT(out_len + 2 * strlen("false") + 2 * strlen("NONE"),
                             len + strlen("nvram.img") + strlen("proinfo.img") + 2 * strlen("true"));
        }
}

/* ------------------------------------------------------------ XML scatter files (da.md §6.3) */

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<root>\n" \
        "  <general name=\"MTK_PLATFORM_CFG\"><config_version name=\"V1.1.8\">" \
        "<platform>MT6768</platform><storage>EMMC</storage></config_version></general>\n"
#define XML_PART(name, start, size) \
        "  <partition_index name=\"SYSn\"><partition_name>" name "</partition_name>" \
        "<file_name>NONE</file_name><is_download>false</is_download>" \
        "<linear_start_addr>" start "</linear_start_addr><physical_start_addr>" start "</physical_start_addr>" \
        "<partition_size>" size "</partition_size><region>EMMC_USER</region></partition_index>\n"

/* text must be refused with an error containing each of the words (NULL-terminated) */
static void check_refused(const char *what, const char *text, const char *const *words, int *tap_failed_) {
        ScatterFile *s = NULL;
        char *err = NULL;

        if (parse_str(text, &s, &err) != -EBADMSG || s) {
                printf("#   %s: not refused\n", what);
                *tap_failed_ = 1;
        }
        for (const char *const *w = words; *w; w++)
                if (!err || !strstr(err, *w)) {
                        printf("#   %s: error \"%s\" does not name \"%s\"\n", what, err ?: "(none)", *w);
                        *tap_failed_ = 1;
                }
        scatter_file_free(s);
        free(err);
}

#define REFUSED(what, text, ...) check_refused(what, text, (const char *const[]) { __VA_ARGS__, NULL }, tap_failed_)

TEST(xml_malformed) {
        REFUSED("not XML", "<root>\n  <general>\n  </generalx>\n</root>\n", "not a valid XML", "generalx", "line 3");
        REFUSED("wrong root", "<?xml version=\"1.0\"?>\n<data><partition_index/></data>\n", "<data>", "<root>");
        REFUSED("DOCTYPE", "<?xml version=\"1.0\"?>\n<!DOCTYPE root [<!ENTITY a \"aaaa\">]>\n<root>&a;</root>\n",
                "DOCTYPE");
        REFUSED("no general", "<root>" XML_PART("nvram", "0x380000", "0x500000") "</root>", "MTK_PLATFORM_CFG",
                "config_version");
        REFUSED("no config_version name", "<root><general name=\"MTK_PLATFORM_CFG\"><config_version>"
                "<platform>MT6768</platform></config_version></general>" XML_PART("nvram", "0x0", "0x10") "</root>",
                "config_version");
        REFUSED("no partitions", XML_HEAD "</root>", "no partitions");
        REFUSED("no partition_name", XML_HEAD "  <partition_index name=\"SYS0\"><partition_size>0x10</partition_size>"
                "</partition_index>\n</root>", "partition_name", "line 4");
        REFUSED("no partition_size", XML_HEAD "  <partition_index name=\"SYS0\"><partition_name>nvram</partition_name>"
                "</partition_index>\n</root>", "nvram", "partition_size", "line 4");
        REFUSED("bad size", XML_HEAD XML_PART("nvram", "0x380000", "lots") "</root>", "nvram", "partition_size");
        REFUSED("bad address", XML_HEAD XML_PART("nvram", "0x38zz00", "0x500000") "</root>", "nvram",
                "linear_start_addr", "0x38zz00");
        REFUSED("negative size", XML_HEAD XML_PART("nvram", "0x380000", "-1") "</root>", "partition_size");
        REFUSED("bad block_size", "<root><general name=\"MTK_PLATFORM_CFG\"><config_version name=\"V1.1.8\">"
                "<block_size>big</block_size></config_version></general>" XML_PART("nvram", "0x0", "0x10") "</root>",
                "block_size", "big");
        REFUSED("duplicate name", XML_HEAD XML_PART("nvram", "0x380000", "0x500000")
                XML_PART("nvram", "0x880000", "0x500000") "</root>", "nvram", "twice");
        REFUSED("overlap", XML_HEAD XML_PART("proinfo", "0x80000", "0x300000")
                XML_PART("nvram", "0x300000", "0x500000") "</root>", "proinfo", "nvram", "overlap");
        REFUSED("storage_type without name", XML_HEAD "<storage_type>" XML_PART("nvram", "0x0", "0x10")
                "</storage_type></root>", "storage_type", "name");
        REFUSED("two EMMC tables", XML_HEAD "<storage_type name=\"EMMC\">" XML_PART("nvram", "0x0", "0x10")
                "</storage_type><storage_type name=\"emmc\">" XML_PART("nvram", "0x0", "0x10") "</storage_type></root>",
                "two tables");
        REFUSED("partitions in and outside tables", XML_HEAD "<storage_type name=\"UFS\">"
                XML_PART("nvram", "0x0", "0x10") "</storage_type>" XML_PART("nvdata", "0x10", "0x10") "</root>",
                "outside");
        REFUSED("overlap in a V2 table", XML_HEAD "<storage_type name=\"UFS\">" XML_PART("nvram", "0x0", "0x100")
                XML_PART("nvdata", "0x80", "0x100") "</storage_type></root>", "nvram", "nvdata", "overlap");
        REFUSED("binary", "<root>\0</root>", "scatter");

        /* more tables than any storage model has */
        {
                char many[4096] = XML_HEAD;

                for (int i = 0; i < 9; i++) {
                        size_t l = strlen(many);

                        snprintf(many + l, sizeof(many) - l, "<storage_type name=\"S%d\">" XML_PART("nvram", "0x0", "0x10")
                                 "</storage_type>", i);
                }
                strcat(many, "</root>");
                REFUSED("nine tables", many, "more than 8");
        }
}

TEST(xml_accepted_quirks) {
        ScatterFile *s = NULL;
        char *err = NULL;

        /* a repeated identical entry is one partition; a byte-order mark, an empty name and partitions
         * that only touch are fine; the same addresses in other regions do not overlap */
        CHECK_EQ_INT(parse_str("\xef\xbb\xbf" XML_HEAD XML_PART("nvram", "0x380000", "0x500000")
                               XML_PART("", "0x0", "0x10")
                               XML_PART("protect1", "0x880000", "0x500000")
                               XML_PART("nvram", "0x380000", "0x500000")
                               "  <partition_index name=\"SYS9\"><partition_name>preloader</partition_name>"
                               "<physical_start_addr>0x380000</physical_start_addr><partition_size>0x40000"
                               "</partition_size><region>EMMC_BOOT_1</region></partition_index>\n"
                               "</root>", &s, &err), 0);
        CHECK(err == NULL);
        if (!s)
                return;
        CHECK(s->xml);
        CHECK_EQ_STR(s->config_version, "V1.1.8");
        CHECK_EQ_STR(s->platform, "MT6768");
        CHECK_EQ_INT(s->n_entries, 3);
        CHECK(find(s, "nvram") && find(s, "nvram")->offset == 0x380000);
        CHECK(find(s, "preloader") && find(s, "preloader")->region == BOOT1);
        scatter_file_free(s);
}

TEST(text_duplicates_and_overlap) {
        static const char part[] = "- partition_index: SYS%d\n  partition_name: %s\n  linear_start_addr: %s\n"
                                   "  physical_start_addr: %s\n  partition_size: 0x500000\n";
        char text[1024], a[256], b[256];

        /* the text formats are held to the same rules */
        snprintf(a, sizeof(a), part, 0, "nvram", "0x380000", "0x380000");
        snprintf(b, sizeof(b), part, 1, "nvram", "0x880000", "0x880000");
        snprintf(text, sizeof(text), "%s%s", a, b);
        REFUSED("text duplicate", text, "nvram", "twice");
        snprintf(b, sizeof(b), part, 1, "protect1", "0x500000", "0x500000");
        snprintf(text, sizeof(text), "%s%s", a, b);
        REFUSED("text overlap", text, "nvram", "protect1", "overlap");
}

/* The <partition_index> element of name in the <storage_type name="storage"> of text (NULL: anywhere). */
static const char *xml_block(const char *text, const char *storage, const char *name) {
        char want[64];
        const char *t = text;

        if (storage) {
                snprintf(want, sizeof(want), "<storage_type name=\"%s\">", storage);
                t = strstr(text, want);
        }
        snprintf(want, sizeof(want), "<partition_name>%s</partition_name>", name);
        return t ? strstr(t, want) : NULL;
}

static bool xml_block_has(const char *p, const char *element) {
        const char *end = p ? strstr(p, "</partition_index>") : NULL, *l = p ? strstr(p, element) : NULL;

        return l && end && l < end;
}

static size_t count(const char *text, const char *what) {
        size_t n = 0;

        for (const char *p = text; (p = strstr(p, what)); p++)
                n++;
        return n;
}

TEST(xml_edit_for_download) {
        static const char *const names[] = { "nvram", "proinfo" }, *const files[] = { "nvram.img", "proinfo.img" };
        _cleanup_free_ uint8_t *data = NULL, *v1 = NULL;
        size_t len = 0, v1_len = 0;

        data = read_whole(FIXTURES "v2.1.0-emmc-ufs.xml", &len);
        v1 = read_whole(FIXTURES "v1.1.8-gpt.xml", &v1_len);
        CHECK(data != NULL && v1 != NULL);
        if (!data || !v1)
                return;
        for (int ufs = 0; ufs <= 1; ufs++) {
                const char *mine = ufs ? "UFS" : "EMMC", *other = ufs ? "EMMC" : "UFS";
                _cleanup_free_ char *out = NULL, *err = NULL, *in = strndup((const char *) data, len);
                _cleanup_(scatter_file_freep) ScatterFile *orig = NULL, *edited = NULL;
                size_t out_len = 0;

                CHECK_EQ_INT(scatter_edit_for_download(data, len, ufs ? "ufs" : "emmc", names, files, 2, &out,
                                                       &out_len, &err), 0);
                if (!out)
                        continue;
                CHECK_EQ_INT(strlen(out), out_len);
                /* the two partitions of the phone's storage's table, and nothing in the other one */
                CHECK_EQ_INT(count(out, "<is_download>true</is_download>"), 2);
                CHECK(xml_block_has(xml_block(out, mine, "nvram"), "<file_name>nvram.img</file_name>"));
                CHECK(xml_block_has(xml_block(out, mine, "nvram"), "<is_download>true</is_download>"));
                CHECK(xml_block_has(xml_block(out, mine, "proinfo"), "<file_name>proinfo.img</file_name>"));
                CHECK(xml_block_has(xml_block(out, other, "nvram"), "<file_name>NONE</file_name>"));
                CHECK(xml_block_has(xml_block(out, other, "nvram"), "<is_download>false</is_download>"));
                /* everything else kept: the comment, every element, the same tables when read again */
                CHECK(strstr(out, "<!-- written for mtknvd's unit tests"));
                CHECK_EQ_INT(count(out, "<partition_index"), count(in, "<partition_index"));
                CHECK_EQ_INT(count(out, "<operation_type>"), count(in, "<operation_type>"));
                CHECK_EQ_INT(count(out, "<file_name>NONE</file_name>"), count(in, "<file_name>NONE</file_name>") - 2);
                CHECK_EQ_INT(out_len + 2 * strlen("NONE") + 2 * strlen("false"),
                             len + strlen("nvram.img") + strlen("proinfo.img") + 2 * strlen("true"));
                CHECK_EQ_INT(scatter_parse(data, len, &orig, &err), 0);
                CHECK_EQ_INT(scatter_parse((const uint8_t *) out, out_len, &edited, &err), 0);
                if (orig && edited) {
                        CHECK(edited->xml);
                        CHECK_EQ_INT(edited->n_tables, orig->n_tables);
                        for (size_t t = 0; t < MIN(edited->n_tables, orig->n_tables); t++) {
                                CHECK_EQ_INT(edited->tables[t].n_entries, orig->tables[t].n_entries);
                                CHECK(edited->tables[t].n_entries == orig->tables[t].n_entries &&
                                      memcmp(edited->tables[t].entries, orig->tables[t].entries,
                                             orig->tables[t].n_entries * sizeof(ScatterEntry)) == 0);
                        }
                }
        }

        /* V1.1.8: one table; a partition that is not there, and a wanted entry without its elements */
        {
                static const char *const missing[] = { "nvcfg" }, *const missing_files[] = { "nvcfg.img" };
                static const char no_file[] = XML_HEAD "  <partition_index name=\"SYS0\"><partition_name>nvram"
                                              "</partition_name><is_download>false</is_download><partition_size>0x10"
                                              "</partition_size></partition_index>\n</root>\n";
                _cleanup_free_ char *out = NULL, *err = NULL;
                size_t out_len = 0;

                CHECK_EQ_INT(scatter_edit_for_download(v1, v1_len, "emmc", names, files, 2, &out, &out_len, &err), 0);
                CHECK(out && xml_block_has(xml_block(out, NULL, "nvram"), "<is_download>true</is_download>"));
                CHECK(out && xml_block_has(xml_block(out, NULL, "preloader"), "<is_download>false</is_download>"));
                /* a CDATA name and blanks around a value are read as the parser reads them */
                CHECK(out && strstr(out, "<![CDATA[boot]]>"));
                free(out), out = NULL;
                CHECK_EQ_INT(scatter_edit_for_download(v1, v1_len, "ufs", missing, missing_files, 1, &out, &out_len,
                                                       &err), -EBADMSG);
                CHECK(err && strstr(err, "nvcfg"));
                CHECK(out == NULL);
                free(err), err = NULL;
                CHECK_EQ_INT(scatter_edit_for_download((const uint8_t *) no_file, strlen(no_file), "emmc", names,
                                                       files, 1, &out, &out_len, &err), -EBADMSG);
                CHECK(err && strstr(err, "file_name"));
                free(err), err = NULL;
                CHECK_EQ_INT(scatter_edit_for_download((const uint8_t *) "<data/>", 7, "emmc", names, files, 1, &out,
                                                       &out_len, &err), -EBADMSG);
                CHECK(err && strstr(err, "<root>"));
                free(err), err = NULL;
                /* the phone's storage has no table */
                CHECK_EQ_INT(scatter_edit_for_download((const uint8_t *) XML_HEAD "<storage_type name=\"UFS\">"
                                                       XML_PART("nvram", "0x0", "0x10") "</storage_type></root>",
                                                       strlen(XML_HEAD "<storage_type name=\"UFS\">"
                                                              XML_PART("nvram", "0x0", "0x10")
                                                              "</storage_type></root>"),
                                                       "emmc", names, files, 1, &out, &out_len, &err), -EBADMSG);
                CHECK(err && strstr(err, "emmc"));
        }
}

TAP_MAIN(TEST_ENTRY(fixtures), TEST_ENTRY(fixtures_crlf), TEST_ENTRY(device_too_small),
         TEST_ENTRY(addresses_above_4gib),
         TEST_ENTRY(identity_marked),
         TEST_ENTRY(malformed), TEST_ENTRY(corpus_v1_1_2), TEST_ENTRY(corpus_pmt_era), TEST_ENTRY(corpus_identity_marked),
         TEST_ENTRY(v2_storage_tables), TEST_ENTRY(v2_no_table_for_the_storage), TEST_ENTRY(v2_malformed),
         TEST_ENTRY(v2_edit_for_download), TEST_ENTRY(xml_malformed), TEST_ENTRY(xml_accepted_quirks),
         TEST_ENTRY(text_duplicates_and_overlap), TEST_ENTRY(xml_edit_for_download))

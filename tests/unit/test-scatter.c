/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "identity-set.h"
#include "macro.h"
#include "name-list.h"
#include "scatter.h"
#include "tap.h"

/* The real scatter files of ../shared/corpus/scatter (or $MTKNVD_SHARED_DIR/corpus/scatter). */
static char *corpus_path(const char *name) {
        const char *shared = getenv("MTKNVD_SHARED_DIR");
        char *p;

        if (asprintf(&p, "%s/corpus/scatter/%s", shared ?: "../shared", name) < 0)
                return NULL;
        return p;
}

static ScatterFile *parse_file(const char *name, int *tap_failed_) {
        char *path = corpus_path(name), *err = NULL;
        uint8_t *data = NULL;
        ScatterFile *s = NULL;
        size_t len = 0;
        FILE *f = path ? fopen(path, "rb") : NULL;

        if (!f) {
                printf("#   cannot open %s (is ../shared beside the checkout?)\n", path ?: name);
                *tap_failed_ = 1;
                free(path);
                return NULL;
        }
        data = malloc(1 << 20);
        len = fread(data, 1, 1 << 20, f);
        fclose(f);
        if (scatter_parse(data, len, &s, &err) < 0) {
                printf("#   %s: %s\n", name, err ?: "?");
                *tap_failed_ = 1;
        }
        free(err);
        free(data);
        free(path);
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

static void check_nvram(const char *file, uint64_t offset, uint64_t size, bool v1_0, int *tap_failed_) {
        ScatterFile *s = parse_file(file, tap_failed_);
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
                CHECK_EQ_INT(e->region, STORAGE_REGION_USER);
        }
        CHECK_EQ_INT(s->v1_0, v1_0);
        scatter_file_free(s);
}

TEST(corpus_v1_1_2) {
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

        /* V1.1.1: physical 0 everywhere, the user area starts at the first user-area entry */
        s = parse_file("NeverMine17_fly-iq-4407-scatter__MT6572_Android_scatter.txt", tap_failed_);
        if (!s)
                return;
        e = find(s, "NVRAM");
        CHECK(e && e->size == 0x500000 && e->resolved);
        first = NULL;
        for (size_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].region == STORAGE_REGION_USER && !s->entries[i].reserved) {
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

TEST(identity_marked) {
        ScatterFile *s = parse_file("ReallySnow_Unlock_Huawei_Mtk__MT6735_Android_scatter.txt", tap_failed_);
        char **set = NULL, *json = NULL;
        size_t len = 0;
        FILE *f;

        if (!s)
                return;
        CHECK_EQ_INT(identity_set_parse("nvram,nvdata,protect1,protect2,proinfo", &set), 0);
        f = open_memstream(&json, &len);
        CHECK_EQ_INT(scatter_file_to_json(s, set, f), 0);
        fclose(f);
        CHECK(strstr(json, "\"name\":\"nvram\",\"start\":3670016,\"size\":5242880,\"region\":\"EMMC_USER\",\"identity\":true"));
        CHECK(strstr(json, "\"name\":\"boot\"") && !strstr(json, "\"name\":\"boot\",\"start\":31981568,\"size\":16777216,\"region\":\"EMMC_USER\",\"identity\":true"));
        free(json);
        name_list_free(set);
        scatter_file_free(s);
}

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
        CHECK(err && strstr(err, "XML"));
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

TAP_MAIN(TEST_ENTRY(corpus_v1_1_2), TEST_ENTRY(corpus_pmt_era), TEST_ENTRY(identity_marked), TEST_ENTRY(malformed))

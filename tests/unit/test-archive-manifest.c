/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* archive_read_manifest(): what Inspect says about a tar archive. */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include "archive-manifest.h"
#include "macro.h"
#include "tap.h"

typedef struct Member {
        const char *name;
        const void *data;
        size_t size;
        bool directory;
} Member;

/* A tar archive (gzip-compressed when gzip) of members, in memory. */
static uint8_t *make_tar(const Member *members, size_t n, bool gzip, size_t *ret_size) {
        struct archive *a = archive_write_new();
        size_t cap = 1 << 20, used = 0;
        uint8_t *buf = malloc(cap);

        archive_write_set_format_pax_restricted(a);
        if (gzip)
                archive_write_add_filter_gzip(a);
        archive_write_set_bytes_in_last_block(a, 1);
        archive_write_open_memory(a, buf, cap, &used);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();

                archive_entry_set_pathname(e, members[i].name);
                archive_entry_set_filetype(e, members[i].directory ? AE_IFDIR : AE_IFREG);
                archive_entry_set_perm(e, members[i].directory ? 0755 : 0644);
                archive_entry_set_size(e, (la_int64_t) members[i].size);
                archive_write_header(a, e);
                if (members[i].size > 0)
                        archive_write_data(a, members[i].data, members[i].size);
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        *ret_size = used;
        return buf;
}

static char *manifest_text(size_t *ret_len) {
        Manifest *m = manifest_new();
        ManifestPartition p = { .region = STORAGE_REGION_USER, .offset = 0x380000, .size = 0x500000 };
        char *text = NULL;
        FILE *f = open_memstream(&text, ret_len);

        m->created_usec = 1795554851000000ULL;
        snprintf(m->source, sizeof(m->source), "manual");
        snprintf(m->chip, sizeof(m->chip), "MT6735");
        snprintf(m->device_key, sizeof(m->device_key), "mt6735_0011223344556677");
        snprintf(m->table_source, sizeof(m->table_source), "gpt");
        snprintf(p.name, sizeof(p.name), "nvram");
        snprintf(p.file, sizeof(p.file), "nvram.img");
        manifest_add_partition(m, &p);
        manifest_write(m, f);
        fclose(f);
        manifest_free(m);
        return text;
}

/* r and the verdict (NULL when there is none) for an archive of members */
static int read_tar(const Member *members, size_t n, bool gzip, Manifest **ret, char **ret_error) {
        size_t size;
        uint8_t *tar = make_tar(members, n, gzip, &size);
        int r;

        *ret = NULL;
        *ret_error = NULL;
        r = archive_read_manifest(tar, size, ret, ret_error);
        free(tar);
        return r;
}

TEST(export_described) {
        size_t len;
        char *text = manifest_text(&len);
        static const char image[4096];
        Manifest *mf = NULL;
        char *why = NULL;

        /* an export: the manifest first (after a directory), then the images */
        CHECK_EQ_INT(read_tar((Member[]) { { "backup", NULL, 0, true }, { "backup/manifest.yaml", text, len, false },
                                           { "backup/nvram.img", image, sizeof(image), false } },
                              3, true, &mf, &why), 1);
        if (why)
                printf("#   %s\n", why);
        CHECK(!why);
        CHECK(mf && streq(mf->device_key, "mt6735_0011223344556677") && mf->n_parts == 1 &&
              streq(mf->parts[0].name, "nvram"));
        manifest_free(mf);
        free(text);
}

TEST(not_tar) {
        static const char text[] = "- partition_index: SYS0\n  partition_name: nvram\n";
        Manifest *mf = NULL;
        char *why = NULL;

        /* not an archive at all: the caller tries its other formats */
        CHECK_EQ_INT(archive_read_manifest(text, sizeof(text) - 1, &mf, &why), -ENOENT);
        CHECK(!mf && !why);
}

TEST(not_an_export) {
        static const char image[512] = { 1 };
        Manifest *mf = NULL;
        char *why = NULL;

        CHECK_EQ_INT(read_tar((Member[]) { { "part0.img", image, sizeof(image), false } }, 1, false, &mf, &why), 0);
        CHECK(!mf);
        CHECK_EQ_STR(why, "the archive does not begin with manifest.yaml: it is not an mtknvd backup export");
        free(why);
}

TEST(manifest_unusable) {
        static const char garbage[] = "format: [unclosed\n";
        Manifest *mf = NULL;
        char *why = NULL;

        CHECK_EQ_INT(read_tar((Member[]) { { "manifest.yaml", "", 0, false } }, 1, false, &mf, &why), 0);
        CHECK_EQ_STR(why, "its manifest.yaml is empty or too large");
        free(why);
        CHECK_EQ_INT(read_tar((Member[]) { { "manifest.yaml", garbage, sizeof(garbage) - 1, false } }, 1, true, &mf,
                              &why), 0);
        CHECK(!mf);
        CHECK(why && strncmp(why, "its manifest.yaml is invalid: ", 30) == 0 && strlen(why) > 30);
        free(why);
}

TEST(truncated) {
        size_t len, size;
        char *text = manifest_text(&len);
        uint8_t *tar = make_tar((Member[]) { { "manifest.yaml", text, len, false } }, 1, false, &size);
        Manifest *mf = NULL;
        char *why = NULL;

        /* the header and part of the manifest: a tar archive, but cut */
        CHECK_EQ_INT(archive_read_manifest(tar, 512 + len / 2, &mf, &why), 0);
        CHECK(!mf);
        CHECK(why && strstr(why, "truncated"));
        free(why);
        free(tar);
        free(text);
}

TAP_MAIN(TEST_ENTRY(export_described), TEST_ENTRY(not_tar), TEST_ENTRY(not_an_export), TEST_ENTRY(manifest_unusable),
         TEST_ENTRY(truncated))

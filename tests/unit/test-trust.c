/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a backup's trust rests on: the binding HMAC over the manifest's
 * canonical bytes, the host key, the store's judgement of each manifest, the
 * import decision; and the bounds on what a phone declares.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "backup-import.h"
#include "backup-store.h"
#include "device-monitor.h"
#include "fd-util.h"
#include "host-key.h"
#include "identifier-reveal.h"
#include "macro.h"
#include "manifest.h"
#include "partition-table.h"
#include "tap.h"

#define ME_ID "00112233445566778899aabbccddeeff"
#define CID "150100524f4d42414c4c00000000abcd"

static const uint8_t TEST_KEY[32] = { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                      16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

static Manifest *sample(void) {
        Manifest *m = manifest_new();
        ManifestPartition p = { .region = STORAGE_REGION_USER, .offset = 0x380000, .size = 0x500000 };

        snprintf(m->source, sizeof(m->source), "auto");
        snprintf(m->chip, sizeof(m->chip), "MT6735");
        snprintf(m->device_key, sizeof(m->device_key), "mt6735_0011223344556677");
        snprintf(m->me_id, sizeof(m->me_id), ME_ID);
        snprintf(m->emmc_cid, sizeof(m->emmc_cid), CID);
        m->storage_type = STORAGE_EMMC;
        snprintf(m->storage_id, sizeof(m->storage_id), CID);
        snprintf(m->table_source, sizeof(m->table_source), "gpt");
        snprintf(m->verify_method, sizeof(m->verify_method), "read-twice");
        m->hw_code = 0x321;
        m->created_usec = 1795554851000000ULL;
        m->verified = true;
        snprintf(p.name, sizeof(p.name), "nvram");
        snprintf(p.file, sizeof(p.file), "nvram.img");
        memset(p.sha256, 0xab, 32);
        manifest_add_partition(m, &p);
        return m;
}

/* The same, as format version 2 had it (what mtknvd signed before version 3). */
static Manifest *sample_v2(void) {
        Manifest *m = sample();

        m->format_version = 2;
        return m;
}

static size_t put_str(uint8_t *out, const char *s) {
        size_t n = strlen(s);

        out[0] = (uint8_t) (n >> 24);
        out[1] = (uint8_t) (n >> 16);
        out[2] = (uint8_t) (n >> 8);
        out[3] = (uint8_t) n;
        memcpy(out + 4, s, n);
        return 4 + n;
}

static size_t put_u64(uint8_t *out, uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                out[i] = (uint8_t) (v >> (56 - 8 * i));
        return 8;
}

static char *to_yaml(const Manifest *m) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (manifest_write(m, f) < 0) {
                fclose(f);
                free(text);
                return NULL;
        }
        fclose(f);
        return text;
}

static char *replace(const char *text, const char *from, const char *to) {
        const char *at = strstr(text, from);
        char *out = NULL;

        if (!at || asprintf(&out, "%.*s%s%s", (int) (at - text), text, to, at + strlen(from)) < 0)
                return NULL;
        return out;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void rm_rf(const char *dir) {
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (write(fd, data, len) != (ssize_t) len) {
                close(fd);
                return -EIO;
        }
        fchmod(fd, mode);
        close(fd);
        return 0;
}

static char *read_text(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t *data = NULL;
        size_t len = 0;

        if (fd < 0 || read_fd_capped(fd, 1 << 20, &data, &len) < 0)
                return NULL;
        data = realloc(data, len + 1);
        if (data)
                data[len] = 0;
        return (char *) data;
}

/* ------------------------------------------------------------ canonical bytes, HMAC */

TEST(binding_canonical_bytes) {
        /* a version 2 manifest: its bytes as they were before regions had names */
        _cleanup_(manifest_freep) Manifest *m = sample_v2();
        uint8_t want[512], *got = NULL;
        size_t n = 0, len = 0;

        /* written here from the format described in manifest.h, not from the implementation */
        memcpy(want, "mtknvd-binding-v1", 18);
        n = 18;
        n += put_str(want + n, "mt6735_0011223344556677");
        n += put_str(want + n, "MT6735");
        n += put_str(want + n, ME_ID);
        n += put_str(want + n, "");
        n += put_str(want + n, CID);
        n += put_str(want + n, "gpt");
        n += put_u64(want + n, 0x321);
        n += put_u64(want + n, 1);
        n += put_str(want + n, "nvram");
        n += put_str(want + n, "nvram.img");
        n += put_u64(want + n, 8);
        n += put_u64(want + n, 0x380000);
        n += put_u64(want + n, 0x500000);
        memset(want + n, 0xab, 32);
        n += 32;

        CHECK_EQ_INT(manifest_binding_canonical(m, &got, &len), 0);
        CHECK_EQ_INT(len, n);
        CHECK(got && len == n && memcmp(got, want, n) == 0);
        free(got);
}

TEST(binding_canonical_bytes_v3) {
        _cleanup_(manifest_freep) Manifest *m = sample();
        uint8_t want[512], *got = NULL;
        size_t n = 0, len = 0;

        /* written here from the format described in manifest.h, not from the implementation */
        memcpy(want, "mtknvd-binding-v2", 18);
        n = 18;
        n += put_str(want + n, "mt6735_0011223344556677");
        n += put_str(want + n, "MT6735");
        n += put_str(want + n, ME_ID);
        n += put_str(want + n, "");
        n += put_str(want + n, CID);
        n += put_str(want + n, "emmc");
        n += put_str(want + n, CID);
        n += put_str(want + n, "gpt");
        n += put_u64(want + n, 0x321);
        n += put_u64(want + n, 1);
        n += put_str(want + n, "nvram");
        n += put_str(want + n, "nvram.img");
        n += put_str(want + n, "user");
        n += put_u64(want + n, 0x380000);
        n += put_u64(want + n, 0x500000);
        memset(want + n, 0xab, 32);
        n += 32;

        CHECK_EQ_INT(manifest_binding_canonical(m, &got, &len), 0);
        CHECK_EQ_INT(len, n);
        CHECK(got && len == n && memcmp(got, want, n) == 0);
        free(got);
}

static void check_mac(int *tap_failed_, const Manifest *m, const char *want) {
        uint8_t mac[32];
        char hex[65];

        CHECK_EQ_INT(manifest_binding_compute(m, TEST_KEY, mac), 0);
        for (unsigned i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        CHECK_EQ_STR(hex, want);
}

TEST(binding_known_answer) {
        /* HMAC-SHA256 of the bytes above with the key 00 01 … 1f, computed independently (Python's hmac);
         * the version 2 one is what mtknvd computed before version 3, so its backups keep verifying */
        _cleanup_(manifest_freep) Manifest *v2 = sample_v2(), *v3 = sample();

        check_mac(tap_failed_, v2, "2c1c043394bfd8c3b1649b4d4396d6b1b5b2a87a152534151c25ee6ce07913f4");
        check_mac(tap_failed_, v3, "3d9492a46a98d1b0c3847e9e42c6c388d0cac68efa9b4921baffa76fdd428bf0");
}

TEST(binding_covers_what_a_restore_trusts) {
        _cleanup_(manifest_freep) Manifest *m = sample();

        CHECK_EQ_INT(manifest_binding_sign(m, TEST_KEY, "0123456789abcdef"), 0);
        CHECK(manifest_binding_verify(m, TEST_KEY));

        /* each covered field, changed, breaks it */
#define BREAKS(stmt)                                                      \
        do {                                                              \
                Manifest saved = *m;                                      \
                ManifestPartition part = m->parts[0];                     \
                stmt;                                                     \
                CHECK(!manifest_binding_verify(m, TEST_KEY));             \
                saved.parts = m->parts;                                   \
                *m = saved;                                               \
                m->parts[0] = part;                                       \
                CHECK(manifest_binding_verify(m, TEST_KEY));              \
        } while (0)
        BREAKS(snprintf(m->me_id, sizeof(m->me_id), "ffeeddccbbaa99887766554433221100"));
        BREAKS(m->emmc_cid[0] = 0);
        BREAKS(snprintf(m->soc_id, sizeof(m->soc_id), "00"));
        BREAKS(snprintf(m->device_key, sizeof(m->device_key), "mt6735_ffffffffffffffff"));
        BREAKS(snprintf(m->chip, sizeof(m->chip), "MT6737"));
        BREAKS(m->hw_code = 0x335);
        BREAKS(snprintf(m->table_source, sizeof(m->table_source), "scatter"));
        BREAKS(m->parts[0].size += 512);
        BREAKS(m->parts[0].offset += 512);
        BREAKS(m->parts[0].region = MANIFEST_REGION_ANY);
        BREAKS(m->parts[0].region = STORAGE_REGION_BOOT1);
        BREAKS(m->storage_id[0] = 0);
        BREAKS(snprintf(m->storage_id, sizeof(m->storage_id), "%s", "0123"));
        BREAKS(m->storage_type = STORAGE_UFS);
        BREAKS(m->storage_type = _STORAGE_TYPE_INVALID);
        BREAKS(m->parts[0].sha256[31] ^= 1);
        BREAKS(snprintf(m->parts[0].file, sizeof(m->parts[0].file), "nvdata.img"));
        BREAKS(m->n_parts = 0);
#undef BREAKS

        /* what an import rewrites is not covered */
        snprintf(m->source, sizeof(m->source), "import");
        m->created_usec += 1000000;
        snprintf(m->verify_method, sizeof(m->verify_method), "import-sha256");
        snprintf(m->tool_version, sizeof(m->tool_version), "9.9");
        CHECK(manifest_binding_verify(m, TEST_KEY));

        /* another key, or no binding at all, never verifies */
        {
                uint8_t other[32];

                memcpy(other, TEST_KEY, 32);
                other[0] ^= 1;
                CHECK(!manifest_binding_verify(m, other));
                m->has_binding = false;
                CHECK(!manifest_binding_verify(m, TEST_KEY));
        }
}

TEST(binding_fields_cannot_run_together) {
        _cleanup_(manifest_freep) Manifest *a = sample(), *b = sample();
        uint8_t mac_a[32], mac_b[32];

        /* "ab" + "cd" and "abc" + "d": the same characters, another identity */
        snprintf(a->me_id, sizeof(a->me_id), "ab");
        snprintf(a->soc_id, sizeof(a->soc_id), "cd");
        snprintf(b->me_id, sizeof(b->me_id), "abc");
        snprintf(b->soc_id, sizeof(b->soc_id), "d");
        CHECK_EQ_INT(manifest_binding_compute(a, TEST_KEY, mac_a), 0);
        CHECK_EQ_INT(manifest_binding_compute(b, TEST_KEY, mac_b), 0);
        CHECK(memcmp(mac_a, mac_b, 32) != 0);
}

TEST(binding_through_yaml) {
        _cleanup_(manifest_freep) Manifest *m = sample(), *back = NULL, *edited = NULL, *bare = NULL;
        _cleanup_free_ char *text = NULL, *forged = NULL, *stripped = NULL, *err = NULL;

        manifest_binding_sign(m, TEST_KEY, "0123456789abcdef");
        text = to_yaml(m);
        CHECK(text && strstr(text, "format_version: 3") && strstr(text, "binding:") &&
              strstr(text, "method: \"hmac-sha256\"") && strstr(text, "key_id: \"0123456789abcdef\""));
        CHECK_EQ_INT(manifest_parse((uint8_t *) text, strlen(text), &back, &err), 0);
        CHECK(back && back->has_binding && streq(back->binding_key_id, "0123456789abcdef"));
        CHECK(back && manifest_binding_verify(back, TEST_KEY));

        /* the attack: another phone's ME ID, no CID; the HMAC is kept as it was */
        forged = replace(text, "me_id: \"" ME_ID "\"", "me_id: \"ffeeddccbbaa99887766554433221100\"");
        if (forged) {
                char *t = replace(forged, "emmc_cid: \"" CID "\"", "emmc_cid: \"\"");

                free(forged);
                forged = t;
        }
        CHECK(forged != NULL);
        CHECK_EQ_INT(manifest_parse((uint8_t *) forged, strlen(forged), &edited, &err), 0);
        CHECK(edited && edited->has_binding && !manifest_binding_verify(edited, TEST_KEY));

        /* with the binding removed it is simply not bound */
        stripped = strdup(text);
        *strstr(stripped, "binding:") = 0;
        CHECK_EQ_INT(manifest_parse((uint8_t *) stripped, strlen(stripped), &bare, &err), 0);
        CHECK(bare && !bare->has_binding && !manifest_binding_verify(bare, TEST_KEY));

        /* the storage id, changed, is another phone's storage: no longer vouched for */
        {
                _cleanup_(manifest_freep) Manifest *other = NULL;
                _cleanup_free_ char *t = replace(text, "storage_id: \"" CID "\"",
                                                 "storage_id: \"150100524f4d42414c4c00000000ffff\"");

                CHECK(t != NULL);
                CHECK_EQ_INT(manifest_parse((uint8_t *) t, strlen(t), &other, &err), 0);
                CHECK(other && other->has_binding && streq(other->storage_id, "150100524f4d42414c4c00000000ffff"));
                CHECK(other && !manifest_binding_verify(other, TEST_KEY));
        }
}

/* A version 2 manifest, signed as mtknvd signed it then: still read, still
 * bound, written as it was until it is signed again. */
TEST(binding_of_version_2_still_verifies) {
        _cleanup_(manifest_freep) Manifest *m = sample_v2(), *back = NULL, *again = NULL, *v1m = NULL;
        _cleanup_free_ char *text = NULL, *text2 = NULL, *v1 = NULL, *err = NULL;

        CHECK_EQ_INT(manifest_binding_compute(m, TEST_KEY, m->binding_mac), 0);
        m->has_binding = true;
        snprintf(m->binding_key_id, sizeof(m->binding_key_id), "0123456789abcdef");
        text = to_yaml(m);
        CHECK(text && strstr(text, "format_version: 2") && strstr(text, "region: 8") &&
              !strstr(text, "storage_type") && !strstr(text, "storage_id"));
        if (!text)
                return;
        CHECK_EQ_INT(manifest_parse((uint8_t *) text, strlen(text), &back, &err), 0);
        if (!back)
                return;
        CHECK_EQ_INT(back->format_version, 2);
        CHECK_EQ_INT(back->parts[0].region, STORAGE_REGION_USER);
        /* its storage: the eMMC of its CID */
        CHECK_EQ_INT(back->storage_type, STORAGE_EMMC);
        CHECK_EQ_STR(back->storage_id, CID);
        CHECK(manifest_binding_verify(back, TEST_KEY));

        /* signed again, it is a version 3 manifest, and bound as one */
        CHECK_EQ_INT(manifest_binding_sign(back, TEST_KEY, "0123456789abcdef"), 0);
        CHECK_EQ_INT(back->format_version, MANIFEST_FORMAT_VERSION);
        text2 = to_yaml(back);
        CHECK(text2 && strstr(text2, "format_version: 3") && strstr(text2, "region: user") &&
              strstr(text2, "storage_type: \"emmc\"") && strstr(text2, "storage_id: \"" CID "\""));
        CHECK_EQ_INT(manifest_parse((uint8_t *) text2, strlen(text2), &again, &err), 0);
        CHECK(again && again->format_version == 3 && manifest_binding_verify(again, TEST_KEY));

        /* a version 1 manifest has no binding to offer */
        v1 = replace(text, "format_version: 2", "format_version: 1");
        CHECK_EQ_INT(manifest_parse((uint8_t *) v1, strlen(v1), &v1m, &err), -EBADMSG);
        CHECK(err && strstr(err, "binding"));
}

/* ------------------------------------------------------------ host key */

TEST(host_key_created_once) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        uint8_t key[HOST_KEY_SIZE], again[HOST_KEY_SIZE], zero[HOST_KEY_SIZE] = {};
        _cleanup_free_ char *path = NULL;
        struct stat st;
        DIR *d;

        CHECK(mkdtemp(dir) != NULL);
        asprintf(&path, "%s/host.key", dir);
        CHECK_EQ_INT(host_key_load(dir, key), 0);
        CHECK_EQ_INT(stat(path, &st), 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_EQ_INT(st.st_mode & 07777, 0600);
        CHECK_EQ_INT(st.st_size, HOST_KEY_SIZE);
        CHECK(memcmp(key, zero, sizeof(key)) != 0);
        /* the second start reads the same key */
        CHECK_EQ_INT(host_key_load(dir, again), 0);
        CHECK(memcmp(key, again, sizeof(key)) == 0);
        /* nothing but the key is left behind */
        d = opendir(dir);
        for (struct dirent *de; d && (de = readdir(d));)
                CHECK(streq(de->d_name, ".") || streq(de->d_name, "..") || streq(de->d_name, "host.key"));
        if (d)
                closedir(d);
        rm_rf(dir);
}

TEST(host_key_not_replaced) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        uint8_t key[HOST_KEY_SIZE], given[HOST_KEY_SIZE];
        _cleanup_free_ char *path = NULL;
        struct stat st;

        CHECK(mkdtemp(dir) != NULL);
        asprintf(&path, "%s/host.key", dir);
        /* a damaged key is an error, never silently a new key */
        CHECK_EQ_INT(write_file(dir, "host.key", "short", 5, 0600), 0);
        CHECK_EQ_INT(host_key_load(dir, key), -EBADMSG);
        CHECK_EQ_INT(stat(path, &st), 0);
        CHECK_EQ_INT(st.st_size, 5);
        /* an administrator's copy (shared key) is used as it is, made private */
        for (unsigned i = 0; i < sizeof(given); i++)
                given[i] = (uint8_t) (0xa0 + i);
        CHECK_EQ_INT(write_file(dir, "host.key", given, sizeof(given), 0644), 0);
        CHECK_EQ_INT(host_key_load(dir, key), 0);
        CHECK(memcmp(key, given, sizeof(key)) == 0);
        CHECK_EQ_INT(stat(path, &st), 0);
        CHECK_EQ_INT(st.st_mode & 07777, 0600);
        rm_rf(dir);
}

TEST(host_key_id) {
        char id[HOST_KEY_ID_LEN], other[HOST_KEY_ID_LEN];
        uint8_t k2[32];

        CHECK_EQ_INT(host_key_id(TEST_KEY, id), 0);
        /* SHA-256("mtknvd-host-key-id:" + key), first 8 bytes (Python's hashlib) */
        CHECK_EQ_STR(id, "bfcd1832b8f9f347");
        memcpy(k2, TEST_KEY, 32);
        k2[31] ^= 0x80;
        CHECK_EQ_INT(host_key_id(k2, other), 0);
        CHECK(!streq(id, other));
}

/* ------------------------------------------------------------ the store */

static int store_sample(BackupStore *s, const char *device_key, char **ret_id) {
        _cleanup_(manifest_freep) Manifest *h = sample();
        uint8_t data[4096], sha[32];
        BackupWriter *w = NULL;
        int r;

        snprintf(h->device_key, sizeof(h->device_key), "%s", device_key);
        free(h->parts);
        h->parts = NULL;
        h->n_parts = 0;
        memset(data, 0x5c, sizeof(data));
        r = backup_store_begin(s, h, &w);
        if (r >= 0)
                r = backup_writer_begin_partition(w, "nvram", STORAGE_REGION_USER, 0x380000, sizeof(data));
        if (r >= 0)
                r = backup_writer_write(w, data, sizeof(data));
        if (r >= 0)
                r = backup_writer_end_partition(w, sha);
        if (r >= 0)
                r = backup_writer_set_verified(w, "read-twice");
        if (r >= 0)
                return backup_writer_commit(w, ret_id);
        backup_writer_abort(w);
        return r;
}

static char *manifest_path(const char *dir, const char *key, const char *id) {
        char *p = NULL;

        return asprintf(&p, "%s/backups/%s/%s/manifest.yaml", dir, key, id) < 0 ? NULL : p;
}

static BackupBinding load_binding(BackupStore *s, const char *key, const char *id, bool *ret_bound) {
        BackupInfo b = {};
        BackupBinding r;

        if (backup_store_load(s, key, id, &b) < 0)
                return (BackupBinding) -1;
        r = b.binding;
        *ret_bound = backup_info_is_bound(&b);
        backup_info_done(&b);
        return r;
}

TEST(store_judges_bindings) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL;
        _cleanup_free_ char *id = NULL, *path = NULL, *text = NULL, *edited = NULL;
        bool bound = false;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(store_sample(s, "mt6735_0011223344556677", &id), 0);
        CHECK_EQ_INT(load_binding(s, "mt6735_0011223344556677", id, &bound), BACKUP_BINDING_VERIFIED);
        CHECK(bound);

        /* root edits the stored manifest behind the daemon's back: no longer vouched for */
        path = manifest_path(dir, "mt6735_0011223344556677", id);
        text = read_text(path);
        CHECK(text && strstr(text, "binding:"));
        edited = text ? replace(text, ME_ID, "ffeeddccbbaa99887766554433221100") : NULL;
        CHECK(edited && write_file(dir, strstr(path, "backups/"), edited, strlen(edited), 0600) == 0);
        CHECK_EQ_INT(load_binding(s, "mt6735_0011223344556677", id, &bound), BACKUP_BINDING_MISMATCH);
        CHECK(!bound);
        /* the store's key replaced: everything it signed is another host's */
        CHECK(write_file(dir, strstr(path, "backups/"), text, strlen(text), 0600) == 0);
        s = backup_store_free(s);
        {
                uint8_t other[32];

                memset(other, 0x42, sizeof(other));
                CHECK_EQ_INT(write_file(dir, "host.key", other, sizeof(other), 0600), 0);
        }
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (s)
                CHECK_EQ_INT(load_binding(s, "mt6735_0011223344556677", id, &bound), BACKUP_BINDING_OTHER_KEY);
        rm_rf(dir);
}

TEST(store_signs_old_manifests_it_took_itself) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL;
        _cleanup_free_ char *id = NULL, *id2 = NULL, *path = NULL, *path2 = NULL, *text = NULL, *v1 = NULL,
                            *v1_import = NULL, *after = NULL, *after_import = NULL;
        bool bound = false;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(store_sample(s, "mt6735_0011223344556677", &id), 0);
        CHECK_EQ_INT(store_sample(s, "mt6735_0011223344556677", &id2), 0);
        path = manifest_path(dir, "mt6735_0011223344556677", id);
        path2 = manifest_path(dir, "mt6735_0011223344556677", id2);
        text = read_text(path);
        CHECK(text != NULL);
        if (!text)
                return;
        /* what mtknvd wrote before bindings were signed */
        {
                _cleanup_(manifest_freep) Manifest *old = NULL;
                _cleanup_free_ char *err = NULL;

                CHECK_EQ_INT(manifest_parse((uint8_t *) text, strlen(text), &old, &err), 0);
                if (!old)
                        return;
                old->format_version = 1;
                old->has_binding = false;
                v1 = to_yaml(old);
        }
        CHECK(v1 && strstr(v1, "format_version: 1") && strstr(v1, "region: 8") && !strstr(v1, "binding:"));
        if (!v1)
                return;
        v1_import = v1 ? replace(v1, "source: \"auto\"", "source: \"import\"") : NULL;
        CHECK(v1_import != NULL);
        write_file(dir, strstr(path, "backups/"), v1, strlen(v1), 0600);
        write_file(dir, strstr(path2, "backups/"), v1_import, strlen(v1_import), 0600);

        /* taken by this host: trusted once and signed in place */
        CHECK_EQ_INT(load_binding(s, "mt6735_0011223344556677", id, &bound), BACKUP_BINDING_VERIFIED);
        CHECK(bound);
        after = read_text(path);
        CHECK(after && strstr(after, "format_version: 3") && strstr(after, "region: user") &&
              strstr(after, "binding:"));
        /* an old import is never: its archive may have been edited */
        CHECK_EQ_INT(load_binding(s, "mt6735_0011223344556677", id2, &bound), BACKUP_BINDING_LEGACY);
        CHECK(!bound);
        after_import = read_text(path2);
        CHECK(after_import && streq(after_import, v1_import));
        rm_rf(dir);
}

typedef struct Buffer {
        uint8_t *data;
        size_t len;
} Buffer;

static int buffer_sink(const void *data, size_t n, void *userdata) {
        Buffer *b = userdata;
        uint8_t *p = realloc(b->data, b->len + n);

        if (!p)
                return -ENOMEM;
        memcpy(p + b->len, data, n);
        b->data = p;
        b->len += n;
        return 0;
}

static int export_to_memory(BackupStore *s, const char *key, const char *id, uint8_t **ret, size_t *ret_len) {
        _cleanup_(backup_export_freep) BackupExport *x = NULL;
        Buffer buf = {};
        BackupInfo b = {};
        int r;

        r = backup_store_load(s, key, id, &b);
        if (r >= 0)
                r = backup_export_new(s, &b, NULL, NULL, 0, BACKUP_COMPRESSION_NONE, buffer_sink, &buf, &x);
        if (r >= 0)
                do
                        r = backup_export_step(x);
                while (r > 0);
        x = backup_export_free(x);
        backup_info_done(&b);
        if (r < 0) {
                free(buf.data);
                return r;
        }
        *ret = buf.data;
        *ret_len = buf.len;
        return 0;
}

/* Reads the archive into the store; the new backup's key and id. */
static int import_into(BackupStore *into, const uint8_t *archive, size_t len, char **ret_key, char **ret_id) {
        ImportArchive *ia = NULL;
        _cleanup_free_ char *err = NULL;
        uint8_t *copy = malloc(len);
        int r;

        if (!copy)
                return -ENOMEM;
        memcpy(copy, archive, len);
        r = import_archive_new(into, copy, len, &ia);
        while (r >= 0 && (r = import_archive_step(ia, ret_id, &err)) > 0)
                ;
        if (r >= 0) {
                *ret_key = strdup(import_archive_manifest(ia)->device_key);
                r = *ret_key ? 0 : -ENOMEM;
        }
        import_archive_free(ia);
        return r;
}

TEST(import_keeps_only_a_binding_it_can_verify) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX", other_dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL, *other = NULL;
        _cleanup_free_ char *id = NULL;
        _cleanup_free_ uint8_t *archive = NULL;
        size_t len = 0;

        CHECK(mkdtemp(dir) != NULL && mkdtemp(other_dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        CHECK_EQ_INT(backup_store_open(other_dir, &other), 0);
        if (!s || !other)
                return;
        CHECK_EQ_INT(store_sample(s, "mt6735_0011223344556677", &id), 0);
        CHECK_EQ_INT(export_to_memory(s, "mt6735_0011223344556677", id, &archive, &len), 0);

        for (int round = 0; round < 3; round++) {
                _cleanup_free_ char *iid = NULL, *key = NULL;
                _cleanup_free_ uint8_t *copy = malloc(len);
                BackupStore *into = round == 2 ? other : s;
                BackupInfo b = {};

                if (!copy)
                        return;
                memcpy(copy, archive, len);
                if (round == 1) {
                        /* the attack: the claim edited after the export (same length, so the tar stays whole) */
                        uint8_t *hit = memmem(copy, len, ME_ID, strlen(ME_ID));

                        CHECK(hit != NULL);
                        if (hit)
                                memcpy(hit, "ffeeddccbbaa99887766554433221100", strlen(ME_ID));
                }
                CHECK_EQ_INT(import_into(into, copy, len, &key, &iid), 0);
                if (!key)
                        continue;
                CHECK_EQ_STR(key, round == 0 ? "mt6735_0011223344556677" : IMPORT_DEVICE_KEY_UNBOUND);
                CHECK_EQ_INT(backup_store_load(into, key, iid, &b), 0);
                if (!b.manifest)
                        continue;
                /* the same host: still bound; edited or from another host: no identity left */
                CHECK_EQ_INT(backup_info_is_bound(&b), round == 0);
                CHECK_EQ_STR(b.manifest->me_id, round == 0 ? ME_ID : "");
                CHECK_EQ_STR(b.manifest->emmc_cid, round == 0 ? CID : "");
                CHECK_EQ_INT(b.manifest->n_parts, 1);
                backup_info_done(&b);
        }
        rm_rf(dir);
        rm_rf(other_dir);
}

/* What mtknvd stored and exported before (format version 2, signed with the
 * version 1 canonical bytes): bound still, and an import of its archive
 * stays bound and is signed anew as version 3. */
TEST(version_2_backups_stay_bound) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL;
        _cleanup_(manifest_freep) Manifest *old = NULL;
        _cleanup_free_ char *id = NULL, *path = NULL, *key_path = NULL, *text = NULL, *v2 = NULL, *after = NULL,
                            *err = NULL, *ikey = NULL, *iid = NULL;
        _cleanup_free_ uint8_t *host_key = NULL, *archive = NULL;
        size_t key_len = 0, len = 0;
        BackupInfo b = {};
        bool bound = false;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(store_sample(s, "mt6735_0011223344556677", &id), 0);
        path = manifest_path(dir, "mt6735_0011223344556677", id);
        text = path ? read_text(path) : NULL;
        CHECK(asprintf(&key_path, "%s/host.key", dir) > 0);
        {
                _cleanup_close_ int fd = open(key_path, O_RDONLY | O_CLOEXEC);

                CHECK(fd >= 0 && read_fd_capped(fd, 64, &host_key, &key_len) >= 0 && key_len == 32);
        }
        if (!text || key_len != 32)
                return;
        CHECK_EQ_INT(manifest_parse((uint8_t *) text, strlen(text), &old, &err), 0);
        if (!old)
                return;
        old->format_version = 2;
        CHECK_EQ_INT(manifest_binding_compute(old, host_key, old->binding_mac), 0);
        v2 = to_yaml(old);
        CHECK(v2 && strstr(v2, "format_version: 2") && strstr(v2, "region: 8") && strstr(v2, "binding:"));
        if (!v2)
                return;
        write_file(dir, strstr(path, "backups/"), v2, strlen(v2), 0600);

        CHECK_EQ_INT(load_binding(s, "mt6735_0011223344556677", id, &bound), BACKUP_BINDING_VERIFIED);
        CHECK(bound);
        /* left as it is: nothing to sign again */
        after = read_text(path);
        CHECK(after && streq(after, v2));

        CHECK_EQ_INT(export_to_memory(s, "mt6735_0011223344556677", id, &archive, &len), 0);
        CHECK(archive && memmem(archive, len, "format_version: 2", 17));
        /* gone from the store first: an archive of a backup still stored is that backup, not a new import */
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_0011223344556677", id), 0);
        CHECK_EQ_INT(import_into(s, archive, len, &ikey, &iid), 0);
        CHECK_EQ_STR(ikey, "mt6735_0011223344556677");
        if (ikey && iid && backup_store_load(s, ikey, iid, &b) >= 0) {
                CHECK(backup_info_is_bound(&b));
                CHECK_EQ_INT(b.manifest->format_version, MANIFEST_FORMAT_VERSION);
                CHECK_EQ_INT(b.manifest->storage_type, STORAGE_EMMC);
                CHECK_EQ_STR(b.manifest->storage_id, CID);
                CHECK_EQ_INT(b.manifest->parts[0].region, STORAGE_REGION_USER);
                backup_info_done(&b);
        } else
                CHECK(!"the import is stored");
        rm_rf(dir);
}

/* ------------------------------------------------------------ on the bus */

TEST(fingerprint) {
        char fp[IDENTIFIER_FINGERPRINT_LEN], buf[IDENTIFIER_FINGERPRINT_LEN];

        identifier_fingerprint(ME_ID, fp);
        /* SHA-256("mtknvd-fp:" + value), first 4 bytes (Python's hashlib) */
        CHECK_EQ_STR(fp, "fp:b846e6e2");
        identifier_fingerprint("", fp);
        CHECK_EQ_STR(fp, "");
        CHECK_EQ_STR(identifier_reveal(true, ME_ID, buf), ME_ID);
        CHECK_EQ_STR(identifier_reveal(false, ME_ID, buf), "fp:b846e6e2");
}

/* ------------------------------------------------------------ what a phone declares */

TEST(selection_ambiguous_or_oversized) {
        _cleanup_(partition_table_freep) PartitionTable *t = NULL;
        const Partition *sel[1];
        _cleanup_free_ char *err = NULL;

        partition_table_new(PT_SOURCE_GPT, &t);
        partition_table_add(t, "nvram", 8, 0x380000, 0x500000);
        partition_table_add(t, "cache", 8, 0x10000000, 0x1000000);
        partition_table_add(t, "CACHE", 8, 0x11000000, 0x1000000);
        partition_table_add(t, "nvdata", 8, 0x6b00000, PARTITION_IDENTITY_SIZE_MAX + 512);
        /* a collision elsewhere does not matter */
        sel[0] = &t->parts[0];
        CHECK_EQ_INT(partition_table_check_selection(t, sel, 1, &err), 0);
        CHECK(err == NULL);
        /* an identity partition twice: which one is the phone's? */
        partition_table_add(t, "NVRAM", 8, 0x20000000, 0x500000);
        sel[0] = &t->parts[0];
        CHECK_EQ_INT(partition_table_check_selection(t, sel, 1, &err), -ENOTUNIQ);
        CHECK(err && strstr(err, "\"nvram\" at 0x380000") && strstr(err, "\"NVRAM\" at 0x20000000"));
        free(err);
        err = NULL;
        sel[0] = &t->parts[3];
        CHECK_EQ_INT(partition_table_check_selection(t, sel, 1, &err), -EFBIG);
        CHECK(err && strstr(err, "nvdata") && strstr(err, "256 MiB"));
}

TEST(usb_numbers_are_not_truncated) {
        uint16_t v = 0;

        CHECK_EQ_INT(device_monitor_parse_number("001", &v), 0);
        CHECK_EQ_INT(v, 1);
        CHECK_EQ_INT(device_monitor_parse_number("300", &v), 0);
        CHECK_EQ_INT(v, 300);
        CHECK_EQ_INT(device_monitor_parse_number("65535", &v), 0);
        CHECK_EQ_INT(v, 65535);
        CHECK_EQ_INT(device_monitor_parse_number("65536", &v), -EINVAL);
        CHECK_EQ_INT(device_monitor_parse_number("", &v), -EINVAL);
        CHECK_EQ_INT(device_monitor_parse_number("-1", &v), -EINVAL);
        CHECK_EQ_INT(device_monitor_parse_number("12a", &v), -EINVAL);
        CHECK_EQ_INT(device_monitor_parse_number(NULL, &v), -EINVAL);
}

TAP_MAIN(TEST_ENTRY(binding_canonical_bytes), TEST_ENTRY(binding_canonical_bytes_v3), TEST_ENTRY(binding_known_answer),
         TEST_ENTRY(binding_covers_what_a_restore_trusts), TEST_ENTRY(binding_fields_cannot_run_together),
         TEST_ENTRY(binding_through_yaml), TEST_ENTRY(binding_of_version_2_still_verifies),
         TEST_ENTRY(host_key_created_once), TEST_ENTRY(host_key_not_replaced),
         TEST_ENTRY(host_key_id), TEST_ENTRY(store_judges_bindings), TEST_ENTRY(store_signs_old_manifests_it_took_itself),
         TEST_ENTRY(import_keeps_only_a_binding_it_can_verify), TEST_ENTRY(version_2_backups_stay_bound),
         TEST_ENTRY(fingerprint),
         TEST_ENTRY(selection_ambiguous_or_oversized), TEST_ENTRY(usb_numbers_are_not_truncated))

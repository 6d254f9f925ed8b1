/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Deleting stored backups: the checks every delete passes, the retention
 * policy's choice, and the store's crash-safe delete. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-retention.h"
#include "backup-store.h"
#include "macro.h"
#include "manifest.h"
#include "tap.h"

#define DAY (24ULL * 3600ULL * 1000000ULL)
#define NOW (1000ULL * DAY)

/* A listing entry as backup_store_list() gives it, without a disk. */
static void fake(BackupInfo *b, const char *key, const char *id, const char *source, bool verified,
                 uint64_t created) {
        *b = (BackupInfo) { .device_key = strdup(key), .backup_id = strdup(id), .manifest = manifest_new() };
        snprintf(b->manifest->source, sizeof(b->manifest->source), "%s", source);
        snprintf(b->manifest->device_key, sizeof(b->manifest->device_key), "%s", key);
        b->manifest->verified = verified;
        b->manifest->created_usec = created;
}

static bool victim(const BackupInfo *a, const RetentionVictim *v, size_t n_v, const char *id) {
        for (size_t i = 0; i < n_v; i++)
                if (streq(a[v[i].index].backup_id, id))
                        return true;
        return false;
}

TEST(default_policy_deletes_nothing) {
        BackupInfo a[3];
        _cleanup_free_ RetentionVictim *v = NULL;
        size_t n_v = 99;
        const RetentionPolicy p = {};

        fake(&a[0], "k", "1", "auto", true, NOW - 900 * DAY);
        fake(&a[1], "k", "2", "pre-restore", false, NOW - 800 * DAY);
        fake(&a[2], "k", "3", "auto", true, NOW - DAY);
        CHECK_EQ_INT(retention_select(a, 3, &p, NOW, NULL, 0, &v, &n_v), 0);
        CHECK_EQ_INT(n_v, 0);
        for (size_t i = 0; i < 3; i++)
                backup_info_done(&a[i]);
}

TEST(keep_last_per_phone_and_source) {
        BackupInfo a[8];
        _cleanup_free_ RetentionVictim *v = NULL;
        size_t n_v = 0;
        const RetentionPolicy p = { .keep_last = 2 };

        /* not sorted: a backup published since start-up comes last, whatever its time */
        fake(&a[0], "k", "a1", "auto", true, NOW - 7 * DAY);
        fake(&a[1], "k", "m1", "manual", true, NOW - 6 * DAY);
        fake(&a[2], "k", "a3", "auto", true, NOW - 4 * DAY);
        fake(&a[3], "other", "a1", "auto", true, NOW - 5 * DAY);
        fake(&a[4], "k", "a2", "auto", true, NOW - 5 * DAY);
        fake(&a[5], "k", "p1", "pre-restore", false, NOW - 4 * DAY);
        fake(&a[6], "k", "a4", "auto", true, NOW - 3 * DAY);
        fake(&a[7], "k", "m2", "manual", false, NOW - 2 * DAY);
        CHECK_EQ_INT(retention_select(a, 8, &p, NOW, NULL, 0, &v, &n_v), 0);
        /* four autos of k: the two oldest go; two manuals: both stay; the other phone and the snapshot stay */
        CHECK_EQ_INT(n_v, 2);
        CHECK(victim(a, v, n_v, "a1") && v[0].index == 0);
        CHECK(victim(a, v, n_v, "a2"));
        CHECK(v && strstr(v[0].reason, "KeepLast=2 auto"));
        for (size_t i = 0; i < 8; i++)
                backup_info_done(&a[i]);
}

TEST(pre_restore_snapshots_by_age) {
        BackupInfo a[3];
        _cleanup_free_ RetentionVictim *v = NULL;
        size_t n_v = 0;
        const RetentionPolicy p = { .keep_pre_restore_usec = 30 * DAY };

        fake(&a[0], "k", "old", "pre-restore", true, NOW - 31 * DAY);
        fake(&a[1], "k", "young", "pre-restore", true, NOW - 29 * DAY);
        fake(&a[2], "k", "auto", "auto", true, NOW - 300 * DAY);
        CHECK_EQ_INT(retention_select(a, 3, &p, NOW, NULL, 0, &v, &n_v), 0);
        CHECK_EQ_INT(n_v, 1);
        CHECK(victim(a, v, n_v, "old"));
        CHECK(v && strstr(v[0].reason, "KeepPreRestoreDays=30"));
        for (size_t i = 0; i < 3; i++)
                backup_info_done(&a[i]);
}

TEST(last_verified_backup_of_a_phone_stays) {
        BackupInfo a[4];
        _cleanup_free_ RetentionVictim *v = NULL;
        size_t n_v = 0;
        const RetentionPolicy p = { .keep_last = 1, .keep_pre_restore_usec = DAY };

        /* the only verified ones are an old auto backup and an old snapshot, both past the limits */
        fake(&a[0], "k", "a1", "auto", true, NOW - 9 * DAY);
        fake(&a[1], "k", "p1", "pre-restore", true, NOW - 8 * DAY);
        fake(&a[2], "k", "a2", "auto", false, NOW - 7 * DAY);
        fake(&a[3], "k", "p2", "pre-restore", false, NOW - 6 * DAY);
        CHECK_EQ_INT(retention_select(a, 4, &p, NOW, NULL, 0, &v, &n_v), 0);
        /* a1 and p1 would both go; the newest verified of them (p1) stays */
        CHECK_EQ_INT(n_v, 2);
        CHECK(victim(a, v, n_v, "a1"));
        CHECK(victim(a, v, n_v, "p2"));
        CHECK(!victim(a, v, n_v, "p1"));
        CHECK_EQ_INT(backup_protection_of(a, 4, 0, NULL, 0), BACKUP_PROTECTION_NONE);
        CHECK_EQ_INT(backup_protection_of(a, 4, 2, NULL, 0), BACKUP_PROTECTION_NONE);
        CHECK_EQ_INT(backup_protection_of(a, 3, 0, NULL, 0), BACKUP_PROTECTION_NONE);
        CHECK_EQ_INT(backup_protection_of(a, 1, 0, NULL, 0), BACKUP_PROTECTION_ONLY_VERIFIED);
        for (size_t i = 0; i < 4; i++)
                backup_info_done(&a[i]);
}

TEST(journal_named_backups_stay) {
        BackupInfo a[4];
        _cleanup_free_ RetentionVictim *v = NULL;
        size_t n_v = 0;
        const RetentionPolicy p = { .keep_last = 1, .keep_pre_restore_usec = DAY };
        RestoreJournal j = {};

        snprintf(j.device_key, sizeof(j.device_key), "k");
        snprintf(j.backup_key, sizeof(j.backup_key), "k");
        snprintf(j.backup_id, sizeof(j.backup_id), "a1");
        snprintf(j.snapshot_key, sizeof(j.snapshot_key), "k");
        snprintf(j.snapshot_id, sizeof(j.snapshot_id), "p1");
        fake(&a[0], "k", "a1", "auto", false, NOW - 9 * DAY);
        fake(&a[1], "k", "p1", "pre-restore", false, NOW - 8 * DAY);
        fake(&a[2], "k", "a2", "auto", false, NOW - 7 * DAY);
        fake(&a[3], "k", "a3", "auto", true, NOW - 6 * DAY);
        CHECK_EQ_INT(retention_select(a, 4, &p, NOW, &j, 1, &v, &n_v), 0);
        CHECK_EQ_INT(n_v, 1);
        CHECK(victim(a, v, n_v, "a2"));
        CHECK_EQ_INT(backup_protection_of(a, 4, 0, &j, 1), BACKUP_PROTECTION_JOURNAL);
        CHECK_EQ_INT(backup_protection_of(a, 4, 1, &j, 1), BACKUP_PROTECTION_JOURNAL);
        /* the journal wins over everything, also for a verified backup */
        CHECK_EQ_INT(backup_protection_of(a, 4, 3, NULL, 0), BACKUP_PROTECTION_ONLY_VERIFIED);
        for (size_t i = 0; i < 4; i++)
                backup_info_done(&a[i]);
}

/* ------------------------------------------------------------ the store */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void rm_rf(const char *dir) {
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int store_one(BackupStore *s, const char *key, char **ret_id) {
        _cleanup_(manifest_freep) Manifest *h = manifest_new();
        uint8_t data[512], sha[32];
        BackupWriter *w = NULL;
        int r;

        if (!h)
                return -ENOMEM;
        snprintf(h->device_key, sizeof(h->device_key), "%s", key);
        snprintf(h->source, sizeof(h->source), "manual");
        snprintf(h->table_source, sizeof(h->table_source), "gpt");
        memset(data, 0xa5, sizeof(data));
        r = backup_store_begin(s, h, &w);
        if (r >= 0)
                r = backup_writer_begin_partition(w, "nvram", STORAGE_REGION_USER, 0x380000, sizeof(data));
        if (r >= 0)
                r = backup_writer_write(w, data, sizeof(data));
        if (r >= 0)
                r = backup_writer_end_partition(w, sha);
        if (r >= 0)
                return backup_writer_commit(w, ret_id);
        backup_writer_abort(w);
        return r;
}

static size_t count_listed(BackupStore *s) {
        BackupInfo *a = NULL;
        size_t n = 0;

        if (backup_store_list(s, NULL, &a, &n) < 0)
                return SIZE_MAX;
        backup_info_array_free(a, n);
        return n;
}

static bool exists(const char *dir, const char *sub) {
        _cleanup_free_ char *p = NULL;

        return asprintf(&p, "%s/backups/%s", dir, sub) >= 0 && access(p, F_OK) == 0;
}

/* Files in STATE/backups/.objects, -1 when it cannot be read. */
static int count_objects(const char *dir) {
        _cleanup_free_ char *p = NULL;
        int n = 0;
        DIR *d;

        if (asprintf(&p, "%s/backups/.objects", dir) < 0 || !(d = opendir(p)))
                return -1;
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

static ino_t inode_of(const char *dir, const char *key, const char *id, const char *file) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (asprintf(&p, "%s/backups/%s/%s/%s", dir, key, id, file) < 0 || stat(p, &st) < 0)
                return 0;
        return st.st_ino;
}

TEST(store_keeps_identical_images_once) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL;
        _cleanup_free_ char *id1 = NULL, *id2 = NULL, *id3 = NULL;
        BackupStoreUsage u;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(store_one(s, "mt6735_00", &id1), 0);
        CHECK_EQ_INT(store_one(s, "mt6735_00", &id2), 0);
        /* another phone with the same bytes shares them too: content, not owner, names an object */
        CHECK_EQ_INT(store_one(s, "mt6735_01", &id3), 0);
        CHECK(id1 && id2 && id3);
        if (!id1 || !id2 || !id3)
                return;
        CHECK_EQ_INT(count_objects(dir), 1);
        CHECK(inode_of(dir, "mt6735_00", id1, "nvram.img") != 0);
        CHECK(inode_of(dir, "mt6735_00", id1, "nvram.img") == inode_of(dir, "mt6735_00", id2, "nvram.img"));
        CHECK(inode_of(dir, "mt6735_00", id1, "nvram.img") == inode_of(dir, "mt6735_01", id3, "nvram.img"));
        CHECK_EQ_INT(backup_store_usage(s, &u), 0);
        CHECK_EQ_INT(u.n_backups, 3);
        CHECK_EQ_INT(u.saved_bytes, 2 * 512);
        /* the image stays while a backup holds it, and goes with the last */
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_00", id1), 0);
        CHECK_EQ_INT(count_objects(dir), 1);
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_01", id3), 0);
        CHECK_EQ_INT(count_objects(dir), 1);
        CHECK(inode_of(dir, "mt6735_00", id2, "nvram.img") != 0);
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_00", id2), 0);
        CHECK_EQ_INT(count_objects(dir), 0);
        rm_rf(dir);
}

TEST(store_sweeps_what_a_crash_left) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL;
        _cleanup_free_ char *id = NULL, *obj = NULL;
        int fd;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(store_one(s, "mt6735_00", &id), 0);
        s = backup_store_free(s);
        /* an object no backup links to: a crash after a commit linked it, before the backup was in place */
        CHECK(asprintf(&obj, "%s/backups/.objects/%064x", dir, 0) > 0);
        fd = obj ? open(obj, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
        CHECK(fd >= 0);
        if (fd >= 0)
                close(fd);
        CHECK_EQ_INT(count_objects(dir), 2);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        CHECK_EQ_INT(count_objects(dir), 1);
        CHECK_EQ_INT(count_listed(s), 1);
        rm_rf(dir);
}

TEST(imports_count_by_import_time) {
        BackupInfo a[3];
        _cleanup_free_ RetentionVictim *v = NULL;
        size_t n_v = 0;
        const RetentionPolicy p = { .keep_last = 2 };

        fake(&a[0], "k", "i1", "import", true, NOW - 3 * DAY);
        fake(&a[1], "k", "i2", "import", true, NOW - 2 * DAY);
        /* an archive from a year ago, imported just now: the newest import, it stays */
        fake(&a[2], "k", "i3", "import", true, NOW - 365 * DAY);
        a[2].manifest->imported_usec = NOW;
        CHECK_EQ_INT(retention_select(a, 3, &p, NOW, NULL, 0, &v, &n_v), 0);
        CHECK_EQ_INT(n_v, 1);
        CHECK(victim(a, v, n_v, "i1"));
        for (size_t i = 0; i < 3; i++)
                backup_info_done(&a[i]);
}

TEST(store_delete_leaves_nothing) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL;
        _cleanup_free_ char *id1 = NULL, *id2 = NULL, *sub1 = NULL;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(store_one(s, "mt6735_00", &id1), 0);
        CHECK_EQ_INT(store_one(s, "mt6735_00", &id2), 0);
        CHECK_EQ_INT(count_listed(s), 2);
        CHECK(id1 && asprintf(&sub1, "mt6735_00/%s", id1) > 0);
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_00", id1), 0);
        CHECK_EQ_INT(count_listed(s), 1);
        CHECK(!exists(dir, sub1));
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_00", id1), -ENOENT);
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_00", "../host.key"), -EINVAL);
        CHECK_EQ_INT(backup_store_delete(s, "mt6735_00", id2), 0);
        CHECK_EQ_INT(count_listed(s), 0);
        /* with its last backup the phone's directory goes; no trash is left */
        CHECK(!exists(dir, "mt6735_00"));
        {
                _cleanup_free_ char *top = NULL;
                DIR *d;

                CHECK(asprintf(&top, "%s/backups", dir) > 0);
                d = top ? opendir(top) : NULL;
                CHECK(d != NULL);
                for (struct dirent *de; d && (de = readdir(d));)
                        CHECK(de->d_name[0] == '.' && (!de->d_name[1] || streq(de->d_name, "..") ||
                                                       streq(de->d_name, ".objects")));
                if (d)
                        closedir(d);
        }
        CHECK_EQ_INT(count_objects(dir), 0);
        rm_rf(dir);
}

TEST(store_finishes_an_interrupted_delete) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(backup_store_freep) BackupStore *s = NULL;
        _cleanup_free_ char *id = NULL, *from = NULL, *to = NULL;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(store_one(s, "mt6735_00", &id), 0);
        CHECK_EQ_INT(count_listed(s), 1);
        s = backup_store_free(s);
        /* what a crash between the rename and the removal leaves: the whole backup, renamed */
        CHECK(id && asprintf(&from, "%s/backups/mt6735_00/%s", dir, id) > 0);
        CHECK(asprintf(&to, "%s/backups/.trash-0badf00d", dir) > 0);
        CHECK(from && to && rename(from, to) == 0);
        CHECK_EQ_INT(backup_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK(!exists(dir, ".trash-0badf00d"));
        CHECK_EQ_INT(count_listed(s), 0);
        rm_rf(dir);
}

TAP_MAIN(TEST_ENTRY(default_policy_deletes_nothing), TEST_ENTRY(keep_last_per_phone_and_source),
         TEST_ENTRY(pre_restore_snapshots_by_age), TEST_ENTRY(last_verified_backup_of_a_phone_stays),
         TEST_ENTRY(journal_named_backups_stay), TEST_ENTRY(store_delete_leaves_nothing),
         TEST_ENTRY(store_finishes_an_interrupted_delete), TEST_ENTRY(store_keeps_identical_images_once),
         TEST_ENTRY(store_sweeps_what_a_crash_left), TEST_ENTRY(imports_count_by_import_time))

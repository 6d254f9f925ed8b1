/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"
#include "macro.h"
#include "restore-journal.h"

#define JOURNAL_DIR "journal"
#define JOURNAL_MAX 8192

static int set_field(char *dst, size_t size, const char *value, size_t len) {
        if (len >= size)
                return -EBADMSG;
        memcpy(dst, value, len);
        dst[len] = 0;
        return 0;
}

/* a key or id names a directory: no separators, no dot-dot */
static bool name_ok(const char *s) {
        return *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

int restore_journal_parse(const char *text, size_t len, RestoreJournal *ret) {
        RestoreJournal j = {};
        const char *p = text, *end = text + len;
        int r = 0;

        if (memchr(text, 0, len))
                return -EBADMSG;

        while (p < end && r >= 0) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *eol = nl ?: end, *eq;
                size_t vlen;

                eq = memchr(p, '=', (size_t) (eol - p));
                if (eol == p || *p == '#') {
                        p = eol + 1;
                        continue;
                }
                if (!eq)
                        return -EBADMSG;
                vlen = (size_t) (eol - eq - 1);
#define FIELD(name, dst)                                                        \
        if ((size_t) (eq - p) == strlen(name) && memcmp(p, name, strlen(name)) == 0) \
                r = set_field(dst, sizeof(dst), eq + 1, vlen);                  \
        else
                FIELD("DEVICE", j.device_key)
                FIELD("BACKUP_KEY", j.backup_key)
                FIELD("BACKUP_ID", j.backup_id)
                FIELD("SNAPSHOT_KEY", j.snapshot_key)
                FIELD("SNAPSHOT_ID", j.snapshot_id)
                FIELD("PARTITIONS", j.partitions) {
                        char buf[32];

                        r = set_field(buf, sizeof(buf), eq + 1, vlen);
                        if (r < 0)
                                break;
                        if ((size_t) (eq - p) == 7 && memcmp(p, "FOREIGN", 7) == 0)
                                j.foreign = streq(buf, "1");
                        else if ((size_t) (eq - p) == 5 && memcmp(p, "PHASE", 5) == 0)
                                j.rolling_back = streq(buf, "rollback");
                        else if ((size_t) (eq - p) == 7 && memcmp(p, "STARTED", 7) == 0)
                                j.started_usec = strtoull(buf, NULL, 10);
                        /* unknown keys: from a newer version, ignored */
                }
#undef FIELD
                p = eol + 1;
        }
        if (r < 0)
                return r;
        if (memchr(j.partitions, '\n', sizeof(j.partitions)) || !name_ok(j.device_key) || !name_ok(j.backup_key) ||
            !name_ok(j.backup_id) || !name_ok(j.snapshot_key) || !name_ok(j.snapshot_id) || !j.partitions[0])
                return -EBADMSG;
        *ret = j;
        return 0;
}

int restore_journal_format(const RestoreJournal *j, char **ret) {
        return asprintf(ret,
                        "# mtknvd restore journal: this phone may hold a mix of two image sets.\n"
                        "# 'mtknvctl restore --resume' finishes the restore or rolls it back.\n"
                        "DEVICE=%s\nBACKUP_KEY=%s\nBACKUP_ID=%s\nSNAPSHOT_KEY=%s\nSNAPSHOT_ID=%s\n"
                        "PARTITIONS=%s\nFOREIGN=%d\nPHASE=%s\nSTARTED=%" PRIu64 "\n",
                        j->device_key, j->backup_key, j->backup_id, j->snapshot_key, j->snapshot_id, j->partitions,
                        j->foreign, j->rolling_back ? "rollback" : "restore", j->started_usec) < 0 ? -ENOMEM : 0;
}

static int journal_dir_open(const char *state_dir, bool create) {
        _cleanup_close_ int sfd = -EBADF;
        int fd;

        sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
                return -errno;
        if (create && mkdirat(sfd, JOURNAL_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(sfd, JOURNAL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (create && fsync(sfd) < 0)
                return -errno;
        return fd;
}

int restore_journal_save(const char *state_dir, const RestoreJournal *j) {
        _cleanup_free_ char *text = NULL, *tmp = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        size_t len;
        int r;

        if (!name_ok(j->device_key))
                return -EINVAL;
        r = restore_journal_format(j, &text);
        if (r < 0)
                return r;
        dfd = journal_dir_open(state_dir, true);
        if (dfd < 0)
                return dfd;
        if (asprintf(&tmp, ".%s.tmp", j->device_key) < 0)
                return -ENOMEM;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        len = strlen(text);
        if (write(fd, text, len) != (ssize_t) len || fsync(fd) < 0) {
                r = errno ? -errno : -EIO;
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        if (renameat(dfd, tmp, dfd, j->device_key) < 0) {
                r = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return fsync(dfd) < 0 ? -errno : 0;
}

int restore_journal_remove(const char *state_dir, const char *device_key) {
        _cleanup_close_ int dfd = -EBADF;

        if (!name_ok(device_key))
                return -EINVAL;
        dfd = journal_dir_open(state_dir, false);
        if (dfd < 0)
                return dfd == -ENOENT ? 0 : dfd;
        if (unlinkat(dfd, device_key, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return fsync(dfd) < 0 ? -errno : 0;
}

int restore_journal_load(const char *state_dir, const char *device_key, RestoreJournal *ret) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        char buf[JOURNAL_MAX];
        ssize_t n;
        int r;

        if (!name_ok(device_key))
                return -ENOENT;
        dfd = journal_dir_open(state_dir, false);
        if (dfd < 0)
                return dfd;
        fd = openat(dfd, device_key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return -errno;
        if (n == sizeof(buf))
                return -EFBIG;
        r = restore_journal_parse(buf, (size_t) n, ret);
        if (r < 0)
                return log_warning_errno(r, "The restore journal %s/%s/%s cannot be read: %m", state_dir,
                                         JOURNAL_DIR, device_key);
        if (!streq(ret->device_key, device_key))
                return -EBADMSG;
        return 0;
}

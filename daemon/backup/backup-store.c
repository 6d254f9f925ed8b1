/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "backup-store.h"
#include "fd-util.h"
#include "host-key.h"
#include "labels.h"
#include "log.h"

#define TMP_PREFIX ".tmp-"
/* A backup being deleted: renamed out of its device directory first, so it
 * never is a half backup that a listing (or a restart) could take as whole. */
#define TRASH_PREFIX ".trash-"
/*
 * Identical images are stored once: STATE/backups/.objects/<sha256 hex> is
 * a hard link to every image with that content, and each backup directory
 * holds its own hard link to it.  The link count is the reference count: a
 * backup can never refer to missing data (its link is the data), and an
 * object whose only link is its .objects name belongs to no backup any more
 * and is removed (after a delete, and at start-up for what a crash left).
 */
#define OBJECTS_DIR ".objects"
/* what one export step reads of an image */
#define EXPORT_CHUNK (256u * 1024u)

struct BackupStore {
        char *dir;          /* STATE/backups */
        int dfd;
        int objects_dfd;    /* STATE/backups/.objects */
        LabelStore *labels; /* STATE/labels */
        uint8_t key[HOST_KEY_SIZE];
        char key_id[HOST_KEY_ID_LEN];
};

struct BackupWriter {
        BackupStore *store;
        char *tmp_name;     /* .tmp-XXXXXX inside the store */
        int tmp_dfd;
        Manifest *manifest;
        ManifestPartition cur;
        int fd;             /* current image */
        uint64_t written;
        EVP_MD_CTX *md;
};

/* Removes a directory of plain files (our own, never a caller's path). */
static void remove_flat_dir(int parent_dfd, const char *name) {
        int dfd = openat(parent_dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        DIR *d;

        if (dfd >= 0) {
                d = fdopendir(dfd);
                if (d) {
                        for (struct dirent *de; (de = readdir(d));)
                                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                        unlinkat(dirfd(d), de->d_name, 0);
                        closedir(d);
                } else
                        close(dfd);
        }
        unlinkat(parent_dfd, name, AT_REMOVEDIR);
}

static void hex_sha256(const uint8_t sha[32], char out[65]) {
        for (unsigned k = 0; k < 32; k++)
                sprintf(out + 2 * k, "%02x", sha[k]);
}

/* Removes the objects no backup links to any more (link count 1: only
 * their .objects name is left). */
static void backup_store_sweep_objects(BackupStore *s) {
        int dup_fd = fcntl(s->objects_dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        unsigned n = 0;

        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                log_warning_errno(errno, "Cannot list %s/" OBJECTS_DIR ": %m", s->dir);
                return;
        }
        rewinddir(d);
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;

                if (de->d_name[0] == '.' || fstatat(s->objects_dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode) && st.st_nlink == 1 && unlinkat(s->objects_dfd, de->d_name, 0) >= 0)
                        n++;
        }
        closedir(d);
        if (n > 0) {
                if (fsync(s->objects_dfd) < 0)
                        log_warning_errno(errno, "Cannot sync %s/" OBJECTS_DIR ": %m", s->dir);
                log_debug("Removed %u image(s) no backup holds any more.", n);
        }
}

int backup_store_open(const char *state_dir, BackupStore **ret) {
        BackupStore *s;
        DIR *d;
        int dup_fd;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->dfd = s->objects_dfd = -EBADF;
        if (asprintf(&s->dir, "%s/backups", state_dir) < 0) {
                free(s);
                return -ENOMEM;
        }
        if ((mkdir(state_dir, 0700) < 0 && errno != EEXIST) || (mkdir(s->dir, 0700) < 0 && errno != EEXIST)) {
                int r = log_error_errno(errno, "Cannot create the backup directory %s: %m", s->dir);

                backup_store_free(s);
                return r;
        }
        s->dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dfd < 0) {
                int r = log_error_errno(errno, "Cannot open %s: %m", s->dir);

                backup_store_free(s);
                return r;
        }
        {
                int r = host_key_load(state_dir, s->key);

                if (r >= 0)
                        r = host_key_id(s->key, s->key_id);
                if (r >= 0 && mkdirat(s->dfd, OBJECTS_DIR, 0700) < 0 && errno != EEXIST)
                        r = log_error_errno(errno, "Cannot create %s/" OBJECTS_DIR ": %m", s->dir);
                if (r >= 0) {
                        s->objects_dfd = openat(s->dfd, OBJECTS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (s->objects_dfd < 0)
                                r = log_error_errno(errno, "Cannot open %s/" OBJECTS_DIR ": %m", s->dir);
                }
                if (r >= 0)
                        r = label_store_open(state_dir, &s->labels);
                if (r < 0) {
                        backup_store_free(s);
                        return r;
                }
        }

        /* A crash mid-backup leaves a temporary directory: it never was a
         * backup.  A crash mid-delete leaves a trash directory: it no longer is one. */
        dup_fd = fcntl(s->dfd, F_DUPFD_CLOEXEC, 3);
        d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (d) {
                for (struct dirent *de; (de = readdir(d));)
                        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
                                log_info("Removing the remains of an interrupted backup: %s/%s", s->dir, de->d_name);
                                remove_flat_dir(s->dfd, de->d_name);
                        } else if (strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) == 0) {
                                log_info("Finishing an interrupted delete: %s/%s", s->dir, de->d_name);
                                remove_flat_dir(s->dfd, de->d_name);
                        }
                closedir(d);
        } else if (dup_fd >= 0)
                close(dup_fd);
        /* ...and the images only they held */
        backup_store_sweep_objects(s);

        *ret = s;
        return 0;
}

BackupStore *backup_store_free(BackupStore *s) {
        if (!s)
                return NULL;
        if (s->dfd >= 0)
                close(s->dfd);
        if (s->objects_dfd >= 0)
                close(s->objects_dfd);
        label_store_free(s->labels);
        explicit_bzero(s->key, sizeof(s->key));
        free(s->dir);
        free(s);
        return NULL;
}

const char *backup_store_path(BackupStore *s) {
        return s->dir;
}

const char *backup_store_key_id(BackupStore *s) {
        return s->key_id;
}

BackupBinding backup_store_check_binding(BackupStore *s, const Manifest *m) {
        if (!m->has_binding)
                return BACKUP_BINDING_NONE;
        if (manifest_binding_verify(m, s->key))
                return BACKUP_BINDING_VERIFIED;
        return streq(m->binding_key_id, s->key_id) ? BACKUP_BINDING_MISMATCH : BACKUP_BINDING_OTHER_KEY;
}

const char *backup_binding_to_string(BackupBinding b) {
        switch (b) {
        case BACKUP_BINDING_VERIFIED:  return "verified";
        case BACKUP_BINDING_NONE:      return "none";
        case BACKUP_BINDING_OTHER_KEY: return "other-host";
        case BACKUP_BINDING_MISMATCH:  return "edited";
        case BACKUP_BINDING_LEGACY:    return "legacy";
        }
        return "unknown";
}

const char *backup_binding_explain(BackupBinding b) {
        switch (b) {
        case BACKUP_BINDING_VERIFIED:
                return "";
        case BACKUP_BINDING_NONE:
                return "its manifest carries no binding signature";
        case BACKUP_BINDING_OTHER_KEY:
                return "its binding was signed by another host's key";
        case BACKUP_BINDING_MISMATCH:
                return "its manifest was changed after this host signed it";
        case BACKUP_BINDING_LEGACY:
                return "it was imported before mtknvd signed bindings, so nothing vouches for its identity";
        }
        return "its binding is unknown";
}

bool backup_info_is_bound(const BackupInfo *b) {
        return b->binding == BACKUP_BINDING_VERIFIED && manifest_has_identity(b->manifest);
}

/* ------------------------------------------------------------ writing */

int backup_store_begin(BackupStore *s, const Manifest *header, BackupWriter **ret) {
        BackupWriter *w;
        char tmpl[64];
        _cleanup_free_ char *full = NULL;

        if (!manifest_safe_name(header->device_key))
                return -EINVAL;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->store = s;
        w->fd = -EBADF;
        w->tmp_dfd = -EBADF;
        w->manifest = manifest_new();
        w->md = EVP_MD_CTX_new();
        if (!w->manifest || !w->md) {
                backup_writer_abort(w);
                return -ENOMEM;
        }
        *w->manifest = *header;
        w->manifest->parts = NULL;
        w->manifest->n_parts = 0;

        snprintf(tmpl, sizeof(tmpl), TMP_PREFIX "XXXXXX");
        if (asprintf(&full, "%s/%s", s->dir, tmpl) < 0 || !mkdtemp(full)) {
                int r = full ? -errno : -ENOMEM;

                backup_writer_abort(w);
                return log_error_errno(r, "Cannot create a temporary backup directory in %s: %m", s->dir);
        }
        w->tmp_name = strdup(strrchr(full, '/') + 1);
        w->tmp_dfd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!w->tmp_name || w->tmp_dfd < 0) {
                backup_writer_abort(w);
                return -ENOMEM;
        }
        *ret = w;
        return 0;
}

int backup_writer_begin_partition(BackupWriter *w, const char *name, StorageRegion region, uint64_t offset, uint64_t size) {
        ManifestPartition p = { .region = region, .offset = offset, .size = size };

        if (w->fd >= 0 || !manifest_safe_name(name) || size == 0)
                return -EINVAL;
        snprintf(p.name, sizeof(p.name), "%s", name);
        snprintf(p.file, sizeof(p.file), "%s.img", name);
        w->fd = openat(w->tmp_dfd, p.file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd < 0)
                return -errno;
        if (!EVP_DigestInit_ex(w->md, EVP_sha256(), NULL))
                return -EIO;
        w->cur = p;
        w->written = 0;
        return 0;
}

int backup_writer_write(BackupWriter *w, const void *data, size_t n) {
        const uint8_t *p = data;

        if (w->fd < 0)
                return -EBADF;
        if (w->written + n > w->cur.size)
                return -EFBIG;
        if (!EVP_DigestUpdate(w->md, data, n))
                return -EIO;
        while (n > 0) {
                ssize_t k = write(w->fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
                w->written += (uint64_t) k;
        }
        return 0;
}

int backup_writer_end_partition(BackupWriter *w, uint8_t ret_sha256[32]) {
        unsigned len = 0;
        int r;

        if (w->fd < 0)
                return -EBADF;
        if (w->written != w->cur.size)
                return -EIO;
        r = fsync(w->fd) < 0 ? -errno : 0;
        close(w->fd);
        w->fd = -EBADF;
        if (r < 0)
                return r;
        if (!EVP_DigestFinal_ex(w->md, w->cur.sha256, &len) || len != 32)
                return -EIO;
        memcpy(ret_sha256, w->cur.sha256, 32);
        return manifest_add_partition(w->manifest, &w->cur);
}

int backup_writer_set_verified(BackupWriter *w, const char *method) {
        w->manifest->verified = true;
        snprintf(w->manifest->verify_method, sizeof(w->manifest->verify_method), "%s", method);
        return 0;
}

static int fsync_dir(int dfd) {
        return fsync(dfd) < 0 ? -errno : 0;
}

/* The image p in the backup directory dfd becomes a link to the store's one
 * copy of its content: the object, if there is one (the fresh copy goes),
 * else the fresh copy becomes the object.  Sharing saves space and nothing
 * else: when it cannot be done (a file system without hard links, a link
 * count at its limit), the backup keeps its own copy. */
static void backup_store_share_image(BackupStore *s, int dfd, const ManifestPartition *p) {
        char obj[65], tmp[sizeof(p->file) + 16];
        struct stat st;

        hex_sha256(p->sha256, obj);
        if (linkat(dfd, p->file, s->objects_dfd, obj, 0) >= 0)
                return;
        if (errno != EEXIST) {
                log_debug_errno(errno, "Image %s is not shared (%m): the backup keeps its own copy.", p->file);
                return;
        }
        /* the object was hashed when it was written, and the store is root's alone */
        if (fstatat(s->objects_dfd, obj, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            (uint64_t) st.st_size != p->size) {
                log_warning("The stored image %s/" OBJECTS_DIR "/%s is not what its name says; %s keeps its own "
                            "copy.", s->dir, obj, p->file);
                return;
        }
        snprintf(tmp, sizeof(tmp), "%s.shared", p->file);
        if (linkat(s->objects_dfd, obj, dfd, tmp, 0) < 0) {
                log_debug_errno(errno, "Image %s is not shared (%m): the backup keeps its own copy.", p->file);
                return;
        }
        if (renameat(dfd, tmp, dfd, p->file) < 0) {
                log_debug_errno(errno, "Image %s is not shared (%m): the backup keeps its own copy.", p->file);
                (void) unlinkat(dfd, tmp, 0);
        }
}

int backup_writer_commit(BackupWriter *w, char **ret_backup_id) {
        BackupStore *s = w->store;
        Manifest *m = w->manifest;
        char id[64], stamp[32];
        struct timespec ts;
        struct tm tm;
        uint64_t now;
        int fd, key_dfd, r;
        FILE *f;

        if (w->fd >= 0 || m->n_parts == 0)
                return -EINVAL;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        /* Created is when the data left the phone: an archive says when; an
         * import records its own time beside it.  Images without an archive
         * (raw, SP Flash Tool) bring no time of their own. */
        if (streq(m->source, "import")) {
                m->imported_usec = now;
                if (m->created_usec == 0)
                        m->created_usec = now;
        } else
                m->created_usec = now;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        r = manifest_binding_sign(m, s->key, s->key_id);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_parts; i++)
                backup_store_share_image(s, w->tmp_dfd, &m->parts[i]);
        if (fsync(s->objects_dfd) < 0)
                log_warning_errno(errno, "Cannot sync %s/" OBJECTS_DIR ": %m", s->dir);

        fd = openat(w->tmp_dfd, "manifest.yaml", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                return -errno;
        }
        r = manifest_write(m, f);
        if (r >= 0 && fsync(fileno(f)) < 0)
                r = -errno;
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return r;
        r = fsync_dir(w->tmp_dfd);
        if (r < 0)
                return r;

        if (mkdirat(s->dfd, m->device_key, 0700) < 0 && errno != EEXIST)
                return -errno;
        key_dfd = openat(s->dfd, m->device_key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (key_dfd < 0)
                return -errno;
        /* a second backup within the same second gets a suffix */
        for (unsigned n = 1;; n++) {
                if (n == 1)
                        snprintf(id, sizeof(id), "%s-%s", stamp, m->source);
                else
                        snprintf(id, sizeof(id), "%s-%s-%u", stamp, m->source, n);
                if (renameat2(s->dfd, w->tmp_name, key_dfd, id, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || n > 99) {
                        r = -errno;
                        close(key_dfd);
                        return r;
                }
        }
        free(w->tmp_name);
        w->tmp_name = NULL; /* nothing left to clean up */
        r = fsync_dir(key_dfd);
        close(key_dfd);
        if (r >= 0)
                r = fsync_dir(s->dfd);
        if (r < 0)
                log_warning_errno(r, "Backup %s/%s is stored, but syncing its directory failed: %m", m->device_key, id);

        /* on failure the caller aborts the writer, which then removes nothing */
        *ret_backup_id = strdup(id);
        if (!*ret_backup_id)
                return -ENOMEM;
        backup_writer_abort(w); /* frees the writer; the backup stays */
        return 0;
}

BackupWriter *backup_writer_abort(BackupWriter *w) {
        if (!w)
                return NULL;
        if (w->fd >= 0)
                close(w->fd);
        if (w->tmp_dfd >= 0)
                close(w->tmp_dfd);
        if (w->tmp_name)
                remove_flat_dir(w->store->dfd, w->tmp_name);
        free(w->tmp_name);
        manifest_free(w->manifest);
        EVP_MD_CTX_free(w->md);
        free(w);
        return NULL;
}

/* ------------------------------------------------------------ reading */

void backup_info_done(BackupInfo *b) {
        free(b->device_key);
        free(b->backup_id);
        free(b->path);
        manifest_free(b->manifest);
        *b = (BackupInfo) {};
}

void backup_info_array_free(BackupInfo *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                backup_info_done(&a[i]);
        free(a);
}

static int read_small_file(int dfd, const char *name, uint8_t **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        ssize_t n;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > 1024 * 1024)
                return -EBADMSG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        n = read(fd, buf, (size_t) st.st_size);
        if (n < 0)
                return -errno;
        *ret_len = (size_t) n;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* manifest.yaml of the backup directory dfd, replaced atomically. */
static int backup_store_rewrite_manifest(int dfd, const Manifest *m) {
        static const char tmp[] = "manifest.yaml.tmp";
        int fd, r;
        FILE *f;

        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        r = manifest_write(m, f);
        if (r >= 0 && fsync(fileno(f)) < 0)
                r = -errno;
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0 && renameat(dfd, tmp, dfd, "manifest.yaml") < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return fsync_dir(dfd);
}

static BackupBinding backup_store_judge_binding(BackupStore *s, int dfd, const char *sub, Manifest *m) {
        int r;

        if (m->format_version >= 2)
                return backup_store_check_binding(s, m);
        /* Version 1, from before bindings were signed.  The store is root's
         * alone, so what this host took itself is trusted once and signed;
         * an import never is: the archive it came from may have been edited. */
        if (streq(m->source, "import"))
                return BACKUP_BINDING_LEGACY;
        r = manifest_binding_sign(m, s->key, s->key_id);
        if (r >= 0)
                r = backup_store_rewrite_manifest(dfd, m);
        if (r < 0)
                log_warning_errno(r, "Cannot sign the binding of backup %s/%s (written by an older mtknvd): %m; "
                                  "it is trusted for now and signed at the next start.", s->dir, sub);
        else
                log_info("Signed the binding of backup %s/%s, written by an older mtknvd.", s->dir, sub);
        return BACKUP_BINDING_VERIFIED;
}

int backup_store_load(BackupStore *s, const char *device_key, const char *backup_id, BackupInfo *ret) {
        _cleanup_free_ char *sub = NULL, *err = NULL;
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_close_ int dfd = -EBADF;
        BackupInfo b = {};
        size_t len = 0;
        int r;

        if (!manifest_safe_name(device_key) || !manifest_safe_name(backup_id))
                return -EINVAL;
        if (asprintf(&sub, "%s/%s", device_key, backup_id) < 0)
                return -ENOMEM;
        dfd = openat(s->dfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        r = read_small_file(dfd, "manifest.yaml", &data, &len);
        if (r < 0)
                return r;
        r = manifest_parse(data, len, &b.manifest, &err);
        if (r < 0) {
                log_warning("Ignoring backup %s/%s: %s", s->dir, sub, err ?: "unreadable manifest");
                return r;
        }
        b.binding = backup_store_judge_binding(s, dfd, sub, b.manifest);
        b.device_key = strdup(device_key);
        b.backup_id = strdup(backup_id);
        if (asprintf(&b.path, "%s/%s", s->dir, sub) < 0)
                b.path = NULL;
        if (!b.device_key || !b.backup_id || !b.path) {
                backup_info_done(&b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}

static int cmp_created(const void *a, const void *b) {
        const BackupInfo *x = a, *y = b;

        if (x->manifest->created_usec != y->manifest->created_usec)
                return x->manifest->created_usec < y->manifest->created_usec ? -1 : 1;
        return strcmp(x->backup_id, y->backup_id);
}

static int list_key(BackupStore *s, const char *key, BackupInfo **a, size_t *n) {
        int kfd = openat(s->dfd, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        DIR *d;

        if (kfd < 0)
                return -errno;
        d = fdopendir(kfd);
        if (!d) {
                close(kfd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                BackupInfo b, *na;

                if (de->d_name[0] == '.' || !manifest_safe_name(de->d_name))
                        continue;
                if (backup_store_load(s, key, de->d_name, &b) < 0)
                        continue;
                na = reallocarray(*a, *n + 1, sizeof(BackupInfo));
                if (!na) {
                        backup_info_done(&b);
                        closedir(d);
                        return -ENOMEM;
                }
                *a = na;
                (*a)[(*n)++] = b;
        }
        closedir(d);
        return 0;
}

int backup_store_list(BackupStore *s, const char *device_key, BackupInfo **ret, size_t *ret_n) {
        BackupInfo *a = NULL;
        size_t n = 0;
        int r = 0;

        if (device_key)
                r = list_key(s, device_key, &a, &n);
        else {
                int dup_fd = fcntl(s->dfd, F_DUPFD_CLOEXEC, 3);
                DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;

                if (!d) {
                        if (dup_fd >= 0)
                                close(dup_fd);
                        return -errno;
                }
                rewinddir(d);
                for (struct dirent *de; (de = readdir(d));)
                        if (de->d_name[0] != '.' && manifest_safe_name(de->d_name))
                                (void) list_key(s, de->d_name, &a, &n);
                closedir(d);
        }
        if (r < 0 && r != -ENOENT) {
                backup_info_array_free(a, n);
                return r;
        }
        if (n > 1)
                qsort(a, n, sizeof(BackupInfo), cmp_created);
        *ret = a;
        *ret_n = n;
        return 0;
}

int backup_store_delete(BackupStore *s, const char *device_key, const char *backup_id) {
        _cleanup_close_ int key_dfd = -EBADF;
        char trash[sizeof(TRASH_PREFIX) + 8];
        int r;

        if (!manifest_safe_name(device_key) || !manifest_safe_name(backup_id))
                return -EINVAL;
        key_dfd = openat(s->dfd, device_key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (key_dfd < 0)
                return -errno;
        /* One atomic step takes the backup out of the listing: renamed to the
         * store's top (where start-up finishes what a crash left), and both
         * directories synced before anything inside is removed. */
        for (unsigned n = 0;; n++) {
                uint32_t rnd;

                if (getentropy(&rnd, sizeof(rnd)) < 0)
                        return -errno;
                snprintf(trash, sizeof(trash), TRASH_PREFIX "%08" PRIx32, rnd);
                if (renameat2(key_dfd, backup_id, s->dfd, trash, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || n > 99)
                        return -errno;
        }
        r = fsync_dir(key_dfd);
        if (r >= 0)
                r = fsync_dir(s->dfd);
        if (r < 0)
                log_warning_errno(r, "Backup %s/%s is moved away, but syncing its directory failed: %m; it may "
                                  "come back after a power cut.", device_key, backup_id);
        remove_flat_dir(s->dfd, trash);
        /* the device directory goes with its last backup; EEXIST/ENOTEMPTY: others stay */
        (void) unlinkat(s->dfd, device_key, AT_REMOVEDIR);
        /* the images no other backup shares */
        backup_store_sweep_objects(s);
        {
                _cleanup_free_ char *sub = NULL;

                /* a stale label would only name a backup that may never come back */
                if (asprintf(&sub, "%s/%s", device_key, backup_id) >= 0)
                        (void) label_store_set(s->labels, LABEL_BACKUP, sub, "", NULL);
        }
        return 0;
}

bool backup_store_has_verified(BackupStore *s, const char *device_key) {
        BackupInfo *a = NULL;
        size_t n = 0;
        bool found = false;

        if (backup_store_list(s, device_key, &a, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                found |= a[i].manifest->verified && !streq(a[i].manifest->source, "import");
        backup_info_array_free(a, n);
        return found;
}

static bool same_parts(const Manifest *a, const Manifest *b) {
        if (a->n_parts != b->n_parts)
                return false;
        for (size_t i = 0; i < a->n_parts; i++) {
                const ManifestPartition *x = &a->parts[i], *y = &b->parts[i];

                if (!streq(x->name, y->name) || !streq(x->file, y->file) || x->region != y->region ||
                    x->offset != y->offset || x->size != y->size || memcmp(x->sha256, y->sha256, 32) != 0)
                        return false;
        }
        return true;
}

int backup_store_find_same(BackupStore *s, const Manifest *m, char **ret_backup_id) {
        BackupInfo *a = NULL;
        size_t n = 0;
        int r, found = 0;

        r = backup_store_list(s, m->device_key, &a, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && !found; i++)
                if (a[i].manifest->created_usec / 1000000 == m->created_usec / 1000000 &&
                    same_parts(a[i].manifest, m)) {
                        *ret_backup_id = strdup(a[i].backup_id);
                        found = *ret_backup_id ? 1 : -ENOMEM;
                }
        backup_info_array_free(a, n);
        return found;
}

typedef struct UsageFile {
        dev_t dev;
        ino_t ino;
        uint64_t size, blocks;
} UsageFile;

static int usage_file_cmp(const void *a, const void *b) {
        const UsageFile *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Every file of every backup directory of the store into *files. */
static int usage_collect(int dfd, unsigned depth, UsageFile **files, size_t *n) {
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        int r = 0;

        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return -errno;
        }
        rewinddir(d);
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                struct stat st;

                /* hidden: .objects (its links are the backups' own), temporary and trash directories */
                if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode) && depth < 2) {
                        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

                        if (sub < 0)
                                continue;
                        r = usage_collect(sub, depth + 1, files, n);
                        close(sub);
                } else if (S_ISREG(st.st_mode) && depth == 2) {
                        UsageFile *a = reallocarray(*files, *n + 1, sizeof(UsageFile));

                        if (!a) {
                                r = -ENOMEM;
                                break;
                        }
                        *files = a;
                        a[(*n)++] = (UsageFile) { .dev = st.st_dev, .ino = st.st_ino, .size = (uint64_t) st.st_size,
                                                  .blocks = (uint64_t) st.st_blocks * 512u };
                }
        }
        closedir(d);
        return r;
}

int backup_store_usage(BackupStore *s, BackupStoreUsage *ret) {
        _cleanup_free_ UsageFile *files = NULL;
        BackupStoreUsage u = {};
        BackupInfo *a = NULL;
        size_t n = 0;
        int r;

        r = usage_collect(s->dfd, 0, &files, &n);
        if (r < 0)
                return r;
        if (n > 1)
                qsort(files, n, sizeof(UsageFile), usage_file_cmp);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && usage_file_cmp(&files[i - 1], &files[i]) == 0) {
                        u.saved_bytes += files[i].size;
                        continue;
                }
                u.n_files++;
                u.disk_bytes += files[i].blocks;
                u.apparent_bytes += files[i].size;
        }
        if (backup_store_list(s, NULL, &a, &n) >= 0) {
                u.n_backups = n;
                backup_info_array_free(a, n);
        }
        *ret = u;
        return 0;
}

const char *backup_store_label(BackupStore *s, const char *device_key, const char *backup_id) {
        _cleanup_free_ char *sub = NULL;

        if (!backup_id)
                return label_store_get(s->labels, LABEL_PHONE, device_key);
        if (asprintf(&sub, "%s/%s", device_key, backup_id) < 0)
                return "";
        return label_store_get(s->labels, LABEL_BACKUP, sub);
}

int backup_store_set_label(BackupStore *s, const char *device_key, const char *backup_id, const char *text,
                           char **ret_error) {
        _cleanup_free_ char *sub = NULL;

        if (!manifest_safe_name(device_key) || (backup_id && !manifest_safe_name(backup_id)))
                return -EINVAL;
        if (!backup_id)
                return label_store_set(s->labels, LABEL_PHONE, device_key, text, ret_error);
        if (asprintf(&sub, "%s/%s", device_key, backup_id) < 0)
                return -ENOMEM;
        return label_store_set(s->labels, LABEL_BACKUP, sub, text, ret_error);
}

int backup_store_open_image(BackupStore *s, const BackupInfo *b, const ManifestPartition *p) {
        _cleanup_free_ char *sub = NULL;

        if (asprintf(&sub, "%s/%s/%s", b->device_key, b->backup_id, p->file) < 0)
                return -ENOMEM;
        return RET_NERRNO(openat(s->dfd, sub, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
}

int backup_store_read_image(BackupStore *s, const BackupInfo *b, const char *partition, uint8_t **ret,
                            size_t *ret_size) {
        const ManifestPartition *p = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t got = 0;
        int fd;

        for (size_t i = 0; i < b->manifest->n_parts; i++)
                if (streq(b->manifest->parts[i].name, partition))
                        p = &b->manifest->parts[i];
        if (!p || p->size > (1ULL << 31))
                return -ENOENT;
        buf = malloc(p->size);
        if (!buf)
                return -ENOMEM;
        fd = backup_store_open_image(s, b, p);
        if (fd < 0)
                return fd;
        while (got < p->size) {
                ssize_t k = read(fd, buf + got, p->size - got);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        close(fd);
        *ret = TAKE_PTR(buf);
        *ret_size = got;
        return 0;
}

/* ------------------------------------------------------------ export */

/* What a failed libarchive write met (EPIPE: the reader went away), else EIO. */
static int archive_write_error(struct archive *a) {
        int e = archive_errno(a);

        return e > 0 ? -e : -EIO;
}

/* The header of a regular member of size bytes. */
static int archive_add_header(struct archive *a, const char *name, uint64_t size, mode_t perm, time_t mtime) {
        struct archive_entry *e = archive_entry_new();
        int r;

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_size(e, (la_int64_t) size);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, perm);
        archive_entry_set_mtime(e, mtime, 0);
        r = archive_write_header(a, e) == ARCHIVE_OK ? 0 : archive_write_error(a);
        archive_entry_free(e);
        return r;
}

static int archive_add_memory(struct archive *a, const char *name, const void *data, size_t size, time_t mtime) {
        int r = archive_add_header(a, name, size, 0644, mtime);

        if (r >= 0 && archive_write_data(a, data, size) != (la_ssize_t) size)
                r = archive_write_error(a);
        return r;
}

struct BackupExport {
        BackupStore *store;
        const BackupInfo *info;
        struct archive *archive;
        char *dir;                 /* the archive's top directory */
        char *extra_name;          /* manifest.yaml or the scatter file's name */
        uint8_t *extra;
        size_t extra_size;
        time_t mtime;
        size_t next;               /* the image being written; n_parts: all are */
        bool extra_done, closed;
        int image_fd;
        uint64_t image_done;
        uint8_t *buf;
        BackupExportSink sink;
        void *userdata;
        int sink_error;
};

BackupExport *backup_export_free(BackupExport *x) {
        if (!x)
                return NULL;
        /* archive_write_free() closes the archive, writing its end: to nobody */
        x->sink = NULL;
        if (x->archive)
                archive_write_free(x->archive);
        if (x->image_fd >= 0)
                close(x->image_fd);
        free(x->dir);
        free(x->extra_name);
        free(x->extra);
        free(x->buf);
        return mfree(x);
}

static la_ssize_t backup_export_on_write(struct archive *a, void *userdata, const void *buf, size_t n) {
        BackupExport *x = userdata;
        int r = x->sink ? x->sink(buf, n, x->userdata) : 0;

        if (r < 0) {
                x->sink_error = r;
                archive_set_error(a, -r, "%s", strerror(-r));
                return -1;
        }
        return (la_ssize_t) n;
}

static const char *const compression_names[_BACKUP_COMPRESSION_MAX] = {
        [BACKUP_COMPRESSION_NONE] = "none",
        [BACKUP_COMPRESSION_GZIP] = "gzip",
        [BACKUP_COMPRESSION_XZ] = "xz",
        [BACKUP_COMPRESSION_ZSTD] = "zstd",
};

const char *backup_compression_to_string(BackupCompression c) {
        return c >= 0 && c < _BACKUP_COMPRESSION_MAX ? compression_names[c] : NULL;
}

BackupCompression backup_compression_from_string(const char *s) {
        for (BackupCompression c = 0; c < _BACKUP_COMPRESSION_MAX; c++)
                if (streq(s, compression_names[c]))
                        return c;
        return _BACKUP_COMPRESSION_INVALID;
}

static int archive_add_compression(struct archive *a, BackupCompression c) {
        int r = ARCHIVE_FATAL;

        switch (c) {
        case BACKUP_COMPRESSION_NONE:
                return 0;
        case BACKUP_COMPRESSION_GZIP:
                r = archive_write_add_filter_gzip(a);
                break;
        case BACKUP_COMPRESSION_XZ:
                r = archive_write_add_filter_xz(a);
                /* xz's default (6) takes minutes for a 60 MiB set on a small machine, for a few
                 * percent: the identity partitions are mostly empty */
                if (r == ARCHIVE_OK)
                        r = archive_write_set_filter_option(a, "xz", "compression-level", "1");
                break;
        case BACKUP_COMPRESSION_ZSTD:
                r = archive_write_add_filter_zstd(a);
                break;
        case _BACKUP_COMPRESSION_MAX:
        case _BACKUP_COMPRESSION_INVALID:
                return -EINVAL;
        }
        if (r != ARCHIVE_OK) {
                log_error("Cannot compress with %s: %s", backup_compression_to_string(c), archive_error_string(a));
                return -EOPNOTSUPP;
        }
        return 0;
}

int backup_export_new(BackupStore *s, const BackupInfo *b, const char *scatter_name, const void *scatter,
                      size_t scatter_size, BackupCompression compression, BackupExportSink sink, void *userdata,
                      BackupExport **ret) {
        _cleanup_(backup_export_freep) BackupExport *x = NULL;
        int r;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->store = s;
        x->info = b;
        x->image_fd = -EBADF;
        x->sink = sink;
        x->userdata = userdata;
        x->mtime = (time_t) (b->manifest->created_usec / 1000000);
        x->buf = malloc(EXPORT_CHUNK);
        if (!x->buf)
                return -ENOMEM;
        if (scatter_name) {
                /* BACKUP-spflash/: the images and the (edited) scatter file */
                if (asprintf(&x->dir, "%s-spflash", b->backup_id) < 0)
                        return -ENOMEM;
                x->extra_name = strdup(scatter_name);
                x->extra = malloc(MAX(scatter_size, (size_t) 1));
                if (!x->extra_name || !x->extra)
                        return -ENOMEM;
                memcpy(x->extra, scatter, scatter_size);
                x->extra_size = scatter_size;
        } else {
                _cleanup_free_ char *sub = NULL;
                _cleanup_close_ int mfd = -EBADF;

                /* BACKUP/: manifest.yaml first (an import relies on it), then the images */
                x->dir = strdup(b->backup_id);
                x->extra_name = strdup("manifest.yaml");
                if (!x->dir || !x->extra_name || asprintf(&sub, "%s/%s/manifest.yaml", b->device_key, b->backup_id) < 0)
                        return -ENOMEM;
                mfd = openat(s->dfd, sub, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (mfd < 0)
                        return -errno;
                r = read_fd_capped(mfd, 1024 * 1024, &x->extra, &x->extra_size);
                if (r < 0)
                        return r;
        }
        x->archive = archive_write_new();
        if (!x->archive)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(x->archive) != ARCHIVE_OK)
                return -EIO;
        r = archive_add_compression(x->archive, compression);
        if (r < 0)
                return r;
        /* no padding to whole blocks after a filter: the compressed stream ends where it ends */
        if (compression != BACKUP_COMPRESSION_NONE)
                (void) archive_write_set_bytes_in_last_block(x->archive, 1);
        if (archive_write_open(x->archive, x, NULL, backup_export_on_write, NULL) != ARCHIVE_OK)
                return -EIO;
        *ret = TAKE_PTR(x);
        return 0;
}

static int backup_export_failed(BackupExport *x) {
        return x->sink_error < 0 ? x->sink_error : -EIO;
}

int backup_export_step(BackupExport *x) {
        const Manifest *mf = x->info->manifest;
        const ManifestPartition *p;
        ssize_t k;
        int r;

        if (!x->extra_done) {
                _cleanup_free_ char *name = NULL;

                if (asprintf(&name, "%s/%s", x->dir, x->extra_name) < 0)
                        return -ENOMEM;
                r = archive_add_memory(x->archive, name, x->extra, x->extra_size, x->mtime);
                if (r < 0)
                        return r;
                x->extra_done = true;
                return 1;
        }
        if (x->next == mf->n_parts) {
                if (x->closed)
                        return 0;
                x->closed = true;
                if (archive_write_close(x->archive) != ARCHIVE_OK)
                        return backup_export_failed(x);
                return 0;
        }
        p = &mf->parts[x->next];
        if (x->image_fd < 0) {
                _cleanup_free_ char *member = NULL;

                x->image_fd = backup_store_open_image(x->store, x->info, p);
                if (x->image_fd < 0)
                        return x->image_fd;
                x->image_done = 0;
                if (asprintf(&member, "%s/%s", x->dir, p->file) < 0)
                        return -ENOMEM;
                r = archive_add_header(x->archive, member, p->size, 0600, x->mtime);
                if (r < 0)
                        return r;
        }
        if (x->image_done < p->size) {
                k = read(x->image_fd, x->buf, (size_t) MIN((uint64_t) EXPORT_CHUNK, p->size - x->image_done));
                if (k < 0 && errno == EINTR)
                        return 1;
                /* a short image must not become a member padded with zeros */
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                if (archive_write_data(x->archive, x->buf, (size_t) k) != k)
                        return backup_export_failed(x);
                x->image_done += (uint64_t) k;
                if (x->image_done < p->size)
                        return 1;
        }
        close(x->image_fd);
        x->image_fd = -EBADF;
        x->next++;
        return 1;
}

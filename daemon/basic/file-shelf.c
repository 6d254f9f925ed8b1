/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "file-shelf.h"
#include "log.h"

int file_shelf_store(const char *state_dir, const char *shelf, const uint8_t *data, size_t size, char **ret_name) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL, *final = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        char hex[33];
        size_t off = 0;
        int r;

        if (!EVP_Digest(data, size, md, &md_len, EVP_sha256(), NULL))
                return -EIO;
        for (unsigned i = 0; i < 16; i++)
                sprintf(hex + 2 * i, "%02x", md[i]);

        if (asprintf(&dir, "%s/%s", state_dir, shelf) < 0 || asprintf(&final, "%s.bin", hex) < 0 ||
            asprintf(&tmp, ".%s.tmp", hex) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s: %m", dir);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", dir);

        /* a crash leaves either the old state or the complete new file */
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create %s/%s: %m", dir, tmp);
        while (off < size) {
                ssize_t n = write(fd, data + off, size - off);

                if (n < 0) {
                        r = -errno;
                        unlinkat(dfd, tmp, 0);
                        return log_error_errno(r, "Cannot store the file in %s: %m", dir);
                }
                off += (size_t) n;
        }
        if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, final) < 0 || fsync(dfd) < 0) {
                r = -errno;
                unlinkat(dfd, tmp, 0);
                return log_error_errno(r, "Cannot store the file in %s: %m", dir);
        }
        *ret_name = TAKE_PTR(final);
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void file_shelf_list_free(char **paths, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(paths[i]);
        free(paths);
}

int file_shelf_list(const char *state_dir, const char *shelf, char ***ret_paths, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL;
        char **names = NULL;
        size_t n = 0;
        DIR *d;

        *ret_paths = NULL;
        *ret_n = 0;
        if (asprintf(&dir, "%s/%s", state_dir, shelf) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d));) {
                size_t l = strlen(de->d_name);
                char **nn;

                if (l < 5 || de->d_name[0] == '.' || strcmp(de->d_name + l - 4, ".bin") != 0)
                        continue;
                nn = reallocarray(names, n + 1, sizeof(char *));
                if (!nn)
                        goto oom;
                names = nn;
                if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
                        goto oom;
                n++;
        }
        closedir(d);
        if (n > 0)
                qsort(names, n, sizeof(char *), cmp_str);
        *ret_paths = names;
        *ret_n = n;
        return 0;
oom:
        closedir(d);
        file_shelf_list_free(names, n);
        return -ENOMEM;
}

int file_shelf_read(const char *path, size_t max, uint8_t **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_fd_capped(fd, max, ret, ret_size);
}

/* "<32 hex>.bin": what file_shelf_store() names a file, and nothing else
 * (no path, no temporary file). */
static bool file_shelf_name_valid(const char *name) {
        if (strlen(name) != 36 || strcmp(name + 32, ".bin") != 0)
                return false;
        for (unsigned i = 0; i < 32; i++)
                if (!strchr("0123456789abcdef", name[i]))
                        return false;
        return true;
}

int file_shelf_remove(const char *state_dir, const char *shelf, const char *name) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -EBADF;

        if (!file_shelf_name_valid(name))
                return -EINVAL;
        if (asprintf(&dir, "%s/%s", state_dir, shelf) < 0)
                return -ENOMEM;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        /* one unlink is atomic; the directory's fsync makes it last */
        if (unlinkat(dfd, name, 0) < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return log_error_errno(errno, "Cannot sync %s after removing %s: %m", dir, name);
        return 0;
}

typedef struct FileShelfHold {
        char *path;
        unsigned n;
} FileShelfHold;

struct FileShelfHolds {
        FileShelfHold *items;
        size_t n;
};

int file_shelf_holds_new(FileShelfHolds **ret) {
        *ret = calloc(1, sizeof(FileShelfHolds));
        return *ret ? 0 : -ENOMEM;
}

FileShelfHolds *file_shelf_holds_free(FileShelfHolds *h) {
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n; i++)
                free(h->items[i].path);
        free(h->items);
        free(h);
        return NULL;
}

static FileShelfHold *file_shelf_find_hold(const FileShelfHolds *h, const char *path) {
        for (size_t i = 0; h && i < h->n; i++)
                if (strcmp(h->items[i].path, path) == 0)
                        return &h->items[i];
        return NULL;
}

int file_shelf_hold(FileShelfHolds *h, const char *path) {
        FileShelfHold *x = file_shelf_find_hold(h, path), *a;

        if (!h)
                return 0;
        if (x) {
                x->n++;
                return 0;
        }
        a = reallocarray(h->items, h->n + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        h->items = a;
        a[h->n].path = strdup(path);
        if (!a[h->n].path)
                return -ENOMEM;
        a[h->n++].n = 1;
        return 0;
}

void file_shelf_release(FileShelfHolds *h, const char *path) {
        FileShelfHold *x = file_shelf_find_hold(h, path);

        if (!x || --x->n > 0)
                return;
        free(x->path);
        *x = h->items[--h->n];
}

bool file_shelf_is_held(const FileShelfHolds *h, const char *path) {
        return file_shelf_find_hold(h, path) != NULL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "da-store.h"
#include "fd-util.h"
#include "log.h"

/* Real DA containers are a few MiB (brom.md §6.4); refuse absurd input. */
#define DA_FILE_MAX (64u * 1024u * 1024u)

static int read_path(const char *path, uint8_t **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_fd_capped(fd, DA_FILE_MAX, ret, ret_size);
}

void da_store_match_done(DaStoreMatch *match) {
        da_file_free(match->file);
        free(match->data);
        free(match->name);
        *match = (DaStoreMatch) {};
}

static int da_store_try(const char *path, uint16_t da_code, uint16_t hw_version, uint16_t sw_version,
                        DaStoreMatch *ret) {
        DaStoreMatch m = {};
        _cleanup_free_ char *err = NULL;
        int r;

        r = read_path(path, &m.data, &m.size);
        if (r < 0) {
                log_warning_errno(r, "Cannot read Download Agent %s: %m", path);
                return r;
        }
        r = da_file_parse(m.data, m.size, &m.file, &err);
        if (r < 0) {
                log_warning("Ignoring Download Agent %s: %s", path, err ?: "invalid");
                da_store_match_done(&m);
                return r;
        }
        m.entry = da_file_select(m.file, da_code, hw_version, sw_version);
        if (!m.entry) {
                da_store_match_done(&m);
                return -ENOENT;
        }
        m.name = strdup(path);
        if (!m.name) {
                da_store_match_done(&m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int da_store_find(const DaStoreSources *src, uint16_t da_code, uint16_t hw_version, uint16_t sw_version, DaStoreMatch *ret) {
        _cleanup_free_ char *dir = NULL;
        char **names = NULL;
        size_t n = 0;
        DIR *d;
        int r = -ENOENT;

        for (size_t i = 0; i < src->n_configured; i++)
                if (da_store_try(src->configured[i], da_code, hw_version, sw_version, ret) >= 0)
                        return 0;

        if (asprintf(&dir, "%s/da", src->state_dir) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return -ENOENT;
        for (struct dirent *de; (de = readdir(d));) {
                size_t l = strlen(de->d_name);
                char **nn;

                if (l < 5 || de->d_name[0] == '.' || strcmp(de->d_name + l - 4, ".bin") != 0)
                        continue;
                nn = reallocarray(names, n + 1, sizeof(char *));
                if (!nn)
                        break;
                names = nn;
                if (asprintf(&names[n], "%s/%s", dir, de->d_name) >= 0)
                        n++;
        }
        closedir(d);
        if (n > 0)
                qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (r < 0 && da_store_try(names[i], da_code, hw_version, sw_version, ret) >= 0)
                        r = 0;
                free(names[i]);
        }
        free(names);
        return r;
}

int da_store_add(const char *state_dir, const uint8_t *data, size_t size, char **ret_name, char **ret_error) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL, *final = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        char hex[33];
        DaFile *f = NULL;
        size_t off = 0;
        int r;

        r = da_file_parse(data, size, &f, ret_error);
        if (r < 0)
                return r;
        da_file_free(f);

        if (!EVP_Digest(data, size, md, &md_len, EVP_sha256(), NULL))
                return -EIO;
        for (unsigned i = 0; i < 16; i++)
                sprintf(hex + 2 * i, "%02x", md[i]);

        if (asprintf(&dir, "%s/da", state_dir) < 0 || asprintf(&final, "%s.bin", hex) < 0 ||
            asprintf(&tmp, ".%s.tmp", hex) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s: %m", dir);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", dir);

        /* temporary name, fsync, rename, fsync the directory: a crash
         * leaves either the old state or the complete new file */
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create %s/%s: %m", dir, tmp);
        while (off < size) {
                ssize_t n = write(fd, data + off, size - off);

                if (n < 0) {
                        r = -errno;
                        unlinkat(dfd, tmp, 0);
                        return log_error_errno(r, "Cannot store the Download Agent in %s: %m", dir);
                }
                off += (size_t) n;
        }
        if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, final) < 0 || fsync(dfd) < 0) {
                r = -errno;
                unlinkat(dfd, tmp, 0);
                return log_error_errno(r, "Cannot store the Download Agent in %s: %m", dir);
        }
        *ret_name = TAKE_PTR(final);
        return 0;
}

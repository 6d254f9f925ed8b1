/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "host-key.h"
#include "log.h"
#include "macro.h"

static int read_exact(int fd, uint8_t *buf, size_t n) {
        size_t got = 0;

        while (got < n) {
                ssize_t k = read(fd, buf + got, n - got);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EBADMSG;
                got += (size_t) k;
        }
        return 0;
}

static int write_exact(int fd, const uint8_t *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

static int host_key_read(int dfd, const char *state_dir, uint8_t ret[HOST_KEY_SIZE]) {
        _cleanup_close_ int fd = openat(dfd, HOST_KEY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        struct stat st;
        int r;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot read %s/" HOST_KEY_FILE ": %m", state_dir);
        if (!S_ISREG(st.st_mode) || st.st_size != HOST_KEY_SIZE)
                return log_error_errno(EBADMSG, "%s/" HOST_KEY_FILE " is not a %d-byte key file. Put back the copy "
                                       "from your backup of %s, or remove it to start over with a new key (every "
                                       "backup bound by the old key then counts as not bound to any phone).",
                                       state_dir, HOST_KEY_SIZE, state_dir);
        if ((st.st_mode & 077) != 0) {
                /* someone copied it in by hand; whoever can read it can forge bindings */
                log_warning("%s/" HOST_KEY_FILE " was readable by others (mode %04o); making it 0600.", state_dir,
                            (unsigned) (st.st_mode & 07777));
                if (fchmod(fd, 0600) < 0)
                        return log_error_errno(errno, "Cannot make %s/" HOST_KEY_FILE " private: %m", state_dir);
        }
        r = read_exact(fd, ret, HOST_KEY_SIZE);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s/" HOST_KEY_FILE ": %m", state_dir);
        return 0;
}

static int host_key_create(int dfd, const char *state_dir) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint8_t key[HOST_KEY_SIZE];
        size_t got = 0;
        int r;

        while (got < sizeof(key)) {
                ssize_t k = getrandom(key + got, sizeof(key) - got, 0);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return log_error_errno(errno, "Cannot get random bytes for the host key: %m");
                got += (size_t) k;
        }
        if (asprintf(&tmp, "%s/." HOST_KEY_FILE ".XXXXXX", state_dir) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
        if (fd < 0)
                return log_error_errno(errno, "Cannot create the host key in %s: %m", state_dir);
        r = write_exact(fd, key, sizeof(key));
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        /* never over a key that appeared meanwhile: it may already sign backups */
        if (r >= 0 && renameat2(AT_FDCWD, tmp, dfd, HOST_KEY_FILE, RENAME_NOREPLACE) < 0)
                r = -errno;
        explicit_bzero(key, sizeof(key));
        if (r < 0) {
                (void) unlink(tmp);
                return r == -EEXIST ? 0 : log_error_errno(r, "Cannot create the host key in %s: %m", state_dir);
        }
        if (fsync(dfd) < 0)
                return log_error_errno(errno, "Cannot sync %s after creating the host key: %m", state_dir);
        log_info("Created the host key %s/" HOST_KEY_FILE ": it signs the binding of every backup taken here.",
                 state_dir);
        return 0;
}

int host_key_load(const char *state_dir, uint8_t ret[HOST_KEY_SIZE]) {
        _cleanup_close_ int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (dfd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", state_dir);
        r = host_key_read(dfd, state_dir, ret);
        if (r != -ENOENT)
                return r;
        r = host_key_create(dfd, state_dir);
        if (r < 0)
                return r;
        r = host_key_read(dfd, state_dir, ret);
        return r == -ENOENT ? log_error_errno(r, "The host key %s/" HOST_KEY_FILE " vanished: %m", state_dir) : r;
}

int host_key_id(const uint8_t key[HOST_KEY_SIZE], char ret[HOST_KEY_ID_LEN]) {
        static const char tag[] = "mtknvd-host-key-id:";
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        uint8_t digest[32];
        unsigned len = 0;
        bool ok;

        if (!md)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, tag, strlen(tag)) &&
             EVP_DigestUpdate(md, key, HOST_KEY_SIZE) && EVP_DigestFinal_ex(md, digest, &len) && len == 32;
        EVP_MD_CTX_free(md);
        if (!ok)
                return -EIO;
        for (unsigned i = 0; i < 8; i++)
                snprintf(ret + 2 * i, 3, "%02x", digest[i]);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "fd-util.h"
#include "macro.h"

/* linux/magic.h */
#define FUSE_SUPER_MAGIC_ 0x65735546

int read_fd_capped(int fd, size_t max, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        struct stat st;
        int flags;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
                return -EBADFD;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        if ((flags & O_ACCMODE) == O_WRONLY || (flags & O_PATH))
                return -EBADF;
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max)
                return -EFBIG;

        for (;;) {
                ssize_t n;

                if (len == cap) {
                        uint8_t *b;

                        if (cap >= max + 1)
                                return -EFBIG;
                        cap = MIN(MAX(cap * 2, (size_t) 65536), max + 1);
                        b = realloc(buf, cap);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = len;
        return 0;
}

int fd_caller_open(int fd, bool for_writing, FdKind *ret_kind, int *ret_fd) {
        struct statfs sfs;
        struct stat st;
        FdKind kind;
        int flags, acc, copy;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode))
                kind = FD_KIND_REGULAR;
        else if (S_ISFIFO(st.st_mode))
                kind = FD_KIND_PIPE;
        else if (S_ISSOCK(st.st_mode))
                kind = FD_KIND_SOCKET;
        else
                return -EBADFD;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        acc = flags & O_ACCMODE;
        if ((flags & O_PATH) || acc == (for_writing ? O_RDONLY : O_WRONLY))
                return -EBADF;
        if (kind == FD_KIND_REGULAR && fstatfs(fd, &sfs) >= 0 && (uint32_t) sfs.f_type == FUSE_SUPER_MAGIC_)
                return -EREMOTE;
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return -errno;
        *ret_kind = kind;
        *ret_fd = copy;
        return 0;
}

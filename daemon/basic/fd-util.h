/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Descriptors: the daemon's own files, read whole, and the checks every
 * caller's descriptor passes before fd-io.h reads or writes it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The whole content of fd into memory: -EBADFD for something else than a
 * regular file, pipe or socket, -EBADF when not readable, -EFBIG past max
 * bytes.  It blocks: only for the daemon's own files (its state directory,
 * the administrator's configuration), never for a caller's descriptor. */
int read_fd_capped(int fd, size_t max, uint8_t **ret, size_t *ret_size);

typedef enum FdKind {
        FD_KIND_REGULAR,
        FD_KIND_PIPE,       /* a pipe or a FIFO */
        FD_KIND_SOCKET,
} FdKind;

/* A caller's descriptor, checked and duplicated (close-on-exec, >= 3) so
 * that its lifetime is ours: a regular file, pipe or socket (-EBADFD
 * otherwise), open for reading or for writing as asked (-EBADF), and not on
 * a FUSE file system (-EREMOTE): its reads and writes are answered by a
 * process, possibly the caller's, and can stall for ever without O_NONBLOCK
 * having any effect. */
int fd_caller_open(int fd, bool for_writing, FdKind *ret_kind, int *ret_fd);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files reach the daemon as descriptors from callers; this is how they are read. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The whole content of fd (a regular file, pipe or socket open for reading)
 * into memory: -EBADFD for another kind of file, -EBADF when not readable,
 * -EFBIG past max bytes. */
int read_fd_capped(int fd, size_t max, uint8_t **ret, size_t *ret_size);

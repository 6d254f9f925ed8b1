/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and writing a caller's descriptor from the event loop without ever
 * blocking it, and without touching the caller's open file description.
 *
 * O_NONBLOCK is a flag of the open file description, which the caller
 * shares (a shell's terminal or pipe, a client's stdin): setting it would
 * make the caller's own reads fail with EAGAIN.  Re-opening
 * /proc/self/fd/N with O_NONBLOCK gives a description of our own, but the
 * permission check is made again, and the daemon runs with an empty
 * capability bounding set: a pipe owned by the caller (mode 0600) cannot be
 * re-opened by root without CAP_DAC_OVERRIDE.  A worker thread could block
 * instead of the loop, but a thread stuck in read() cannot be cancelled.
 * So each kind of file gets the per-call non-blocking operation it has:
 *
 *   socket   recv()/send() with MSG_DONTWAIT (and MSG_NOSIGNAL), woken by
 *            an io source;
 *   pipe     vmsplice(SPLICE_F_NONBLOCK) reads straight into our buffer;
 *            writes go into a pipe of our own and are splice()d on with
 *            SPLICE_F_NONBLOCK (both flags are per call; a vmsplice write
 *            would lend our pages to the caller's pipe);
 *   regular  never blocks (FUSE is refused, see fd_caller_open()): read or
 *            written in bounded chunks from a defer source, so that the loop
 *            turns between chunks.
 *
 * Sources run at idle priority: USB, udev and bus traffic go first.  The
 * caller of these (bus-call.h) bounds the whole operation in time and stops
 * it when the client leaves the bus.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "fd-util.h"

typedef struct FdReader FdReader;

/* Called once, with 0 at end of file, or -EFBIG past the size cap, or
 * another negative errno.  It may free the reader. */
typedef void (*FdReaderDone)(FdReader *rd, int r, void *userdata);

/* Reads the caller's fd to its end into memory, at most max bytes.  fd is
 * checked and duplicated (fd_caller_open()); errors from that, and -EFBIG
 * for a regular file larger than max, are returned at once. */
int fd_reader_new(sd_event *e, int fd, size_t max, FdReaderDone done, void *userdata, FdReader **ret);
FdReader *fd_reader_free(FdReader *rd);
/* After done(0): the data read; the caller owns it. */
uint8_t *fd_reader_steal(FdReader *rd, size_t *ret_size);

typedef struct FdWriter FdWriter;

/* Asked for more when less than a chunk is waiting: queue some with
 * fd_writer_queue() (a bounded amount of work) and return 1, or return 0
 * when there is nothing more to write, or a negative errno. */
typedef int (*FdWriterFill)(FdWriter *w, void *userdata);
/* Called once everything was written (0) or on failure: -EPIPE when
 * nobody reads any more, another negative errno.  It may free the writer. */
typedef void (*FdWriterDone)(FdWriter *w, int r, void *userdata);

/* Writes what fill() produces into the caller's fd (checked and
 * duplicated as for writing). */
int fd_writer_new(sd_event *e, int fd, FdWriterFill fill, FdWriterDone done, void *userdata, FdWriter **ret);
FdWriter *fd_writer_free(FdWriter *w);
int fd_writer_queue(FdWriter *w, const void *data, size_t n);
/* Bytes taken by the caller's file so far. */
uint64_t fd_writer_written(const FdWriter *w);

static inline void fd_reader_freep(FdReader **rd) {
        if (*rd)
                fd_reader_free(*rd);
}

static inline void fd_writer_freep(FdWriter **w) {
        if (*w)
                fd_writer_free(*w);
}

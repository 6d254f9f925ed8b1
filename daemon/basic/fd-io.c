/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "fd-io.h"
#include "log.h"
#include "macro.h"

/* What one dispatch moves at most: a fraction of a millisecond of copying. */
#define FD_IO_STEP (256u * 1024u)

struct FdReader {
        int fd;
        FdKind kind;
        uint8_t *buf;
        size_t len, cap, max;
        sd_event_source *source;    /* io for pipes and sockets, defer for regular files */
        FdReaderDone done;
        void *userdata;
};

FdReader *fd_reader_free(FdReader *rd) {
        if (!rd)
                return NULL;
        sd_event_source_disable_unref(rd->source);
        if (rd->fd >= 0)
                close(rd->fd);
        free(rd->buf);
        return mfree(rd);
}

uint8_t *fd_reader_steal(FdReader *rd, size_t *ret_size) {
        *ret_size = rd->len;
        rd->len = rd->cap = 0;
        return TAKE_PTR(rd->buf);
}

static void fd_reader_finish(FdReader *rd, int r) {
        (void) sd_event_source_set_enabled(rd->source, SD_EVENT_OFF);
        /* the callback may free rd: nothing after it */
        rd->done(rd, r, rd->userdata);
}

/* One bounded read; 1: call again, 0: would block, or finished. */
static int fd_reader_step(FdReader *rd) {
        size_t want;
        ssize_t n = 0;

        if (rd->len == rd->cap) {
                size_t cap = MIN(MAX(rd->cap * 2, (size_t) FD_IO_STEP), rd->max + 1);
                uint8_t *b;

                if (cap <= rd->cap) {
                        fd_reader_finish(rd, -EFBIG);
                        return 0;
                }
                b = realloc(rd->buf, cap);
                if (!b) {
                        fd_reader_finish(rd, -ENOMEM);
                        return 0;
                }
                rd->buf = b;
                rd->cap = cap;
        }
        want = MIN(rd->cap - rd->len, (size_t) FD_IO_STEP);
        switch (rd->kind) {
        case FD_KIND_REGULAR:
                n = read(rd->fd, rd->buf + rd->len, want);
                break;
        case FD_KIND_PIPE: {
                struct iovec iov = { .iov_base = rd->buf + rd->len, .iov_len = want };

                n = vmsplice(rd->fd, &iov, 1, SPLICE_F_NONBLOCK);
                break;
        }
        case FD_KIND_SOCKET:
                n = recv(rd->fd, rd->buf + rd->len, want, MSG_DONTWAIT);
                break;
        }
        if (n < 0) {
                if (errno == EINTR)
                        return 1;
                if (errno == EAGAIN)
                        return 0;
                fd_reader_finish(rd, -errno);
                return 0;
        }
        if (n == 0) {
                fd_reader_finish(rd, 0);
                return 0;
        }
        rd->len += (size_t) n;
        if (rd->len > rd->max) {
                fd_reader_finish(rd, -EFBIG);
                return 0;
        }
        return 1;
}

static int fd_reader_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        FdReader *rd = userdata;

        /* level-triggered: what is left wakes us again */
        (void) fd_reader_step(rd);
        return 0;
}

static int fd_reader_on_defer(sd_event_source *s, void *userdata) {
        (void) fd_reader_step(userdata);
        return 0;
}

int fd_reader_new(sd_event *e, int fd, size_t max, FdReaderDone done, void *userdata, FdReader **ret) {
        FdReader *rd;
        struct stat st;
        int r;

        rd = calloc(1, sizeof(*rd));
        if (!rd)
                return -ENOMEM;
        rd->max = max;
        rd->done = done;
        rd->userdata = userdata;
        r = fd_caller_open(fd, false, &rd->kind, &rd->fd);
        if (r < 0) {
                rd->fd = -EBADF;
                fd_reader_free(rd);
                return r;
        }
        if (rd->kind == FD_KIND_REGULAR) {
                r = fstat(rd->fd, &st) < 0 ? -errno : (uint64_t) st.st_size > max ? -EFBIG : 0;
                if (r < 0) {
                        fd_reader_free(rd);
                        return r;
                }
                /* the size is known: one allocation (and one more byte to see the end) */
                rd->cap = (size_t) st.st_size + 1;
                rd->buf = malloc(rd->cap);
                if (!rd->buf) {
                        fd_reader_free(rd);
                        return -ENOMEM;
                }
                r = sd_event_add_defer(e, &rd->source, fd_reader_on_defer, rd);
                if (r >= 0)
                        r = sd_event_source_set_enabled(rd->source, SD_EVENT_ON);
        } else
                r = sd_event_add_io(e, &rd->source, rd->fd, EPOLLIN, fd_reader_on_io, rd);
        if (r >= 0)
                r = sd_event_source_set_priority(rd->source, SD_EVENT_PRIORITY_IDLE);
        if (r < 0) {
                fd_reader_free(rd);
                return r;
        }
        *ret = rd;
        return 0;
}

/* ------------------------------------------------------------ writing */

struct FdWriter {
        int fd;
        FdKind kind;
        uint8_t *queue;
        size_t start, end, cap;     /* queue[start..end) waits */
        int pipe[2];                /* ours, for a caller's pipe: written into, spliced out of */
        size_t in_pipe;
        uint64_t written;
        bool eof;                   /* fill() has nothing more */
        sd_event_source *defer, *io;
        FdWriterFill fill;
        FdWriterDone done;
        void *userdata;
};

FdWriter *fd_writer_free(FdWriter *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->defer);
        sd_event_source_disable_unref(w->io);
        if (w->fd >= 0)
                close(w->fd);
        for (unsigned i = 0; i < 2; i++)
                if (w->pipe[i] >= 0)
                        close(w->pipe[i]);
        free(w->queue);
        return mfree(w);
}

uint64_t fd_writer_written(const FdWriter *w) {
        return w->written;
}

int fd_writer_queue(FdWriter *w, const void *data, size_t n) {
        if (n == 0)
                return 0;
        if (w->start > 0 && w->end + n > w->cap) {
                memmove(w->queue, w->queue + w->start, w->end - w->start);
                w->end -= w->start;
                w->start = 0;
        }
        if (w->end + n > w->cap) {
                size_t cap = MAX(w->end + n, w->cap * 2);
                uint8_t *q = realloc(w->queue, cap);

                if (!q)
                        return -ENOMEM;
                w->queue = q;
                w->cap = cap;
        }
        memcpy(w->queue + w->end, data, n);
        w->end += n;
        return 0;
}

static void fd_writer_finish(FdWriter *w, int r) {
        (void) sd_event_source_set_enabled(w->defer, SD_EVENT_OFF);
        if (w->io)
                (void) sd_event_source_set_enabled(w->io, SD_EVENT_OFF);
        w->done(w, r, w->userdata);
}

/* Moves bytes on towards the caller's file: >0 moved, 0 would block, <0 errno. */
static ssize_t fd_writer_push(FdWriter *w) {
        size_t queued = w->end - w->start, n = MIN(queued, (size_t) FD_IO_STEP);
        ssize_t k = 0;

        switch (w->kind) {
        case FD_KIND_REGULAR:
                if (n == 0)
                        return 0;
                k = write(w->fd, w->queue + w->start, n);
                break;
        case FD_KIND_SOCKET:
                if (n == 0)
                        return 0;
                k = send(w->fd, w->queue + w->start, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                break;
        case FD_KIND_PIPE:
                /* our own pipe first: its bytes are older than the queue's */
                if (w->in_pipe > 0) {
                        k = splice(w->pipe[0], NULL, w->fd, NULL, w->in_pipe, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                        if (k < 0)
                                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                        w->in_pipe -= (size_t) k;
                        w->written += (uint64_t) k;
                        return k;
                }
                if (n == 0)
                        return 0;
                /* our pipe is empty here: this takes what fits and never waits */
                k = write(w->pipe[1], w->queue + w->start, n);
                if (k < 0)
                        return errno == EINTR ? 1 : -errno;
                w->in_pipe += (size_t) k;
                w->start += (size_t) k;
                return k;
        }
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        w->start += (size_t) k;
        w->written += (uint64_t) k;
        return k;
}

static void fd_writer_step(FdWriter *w) {
        ssize_t k;
        int r;

        if (!w->eof && w->end - w->start < FD_IO_STEP) {
                r = w->fill(w, w->userdata);
                if (r < 0) {
                        fd_writer_finish(w, r);
                        return;
                }
                if (r == 0)
                        w->eof = true;
        }
        k = fd_writer_push(w);
        if (k < 0) {
                fd_writer_finish(w, (int) k);
                return;
        }
        if (w->eof && w->start == w->end && w->in_pipe == 0) {
                fd_writer_finish(w, 0);
                return;
        }
        if (k == 0 && (w->start < w->end || w->in_pipe > 0)) {
                /* the caller's pipe or socket is full: wait until it takes more */
                (void) sd_event_source_set_enabled(w->defer, SD_EVENT_OFF);
                (void) sd_event_source_set_enabled(w->io, SD_EVENT_ONESHOT);
        }
}

static int fd_writer_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        FdWriter *w = userdata;

        (void) sd_event_source_set_enabled(w->defer, SD_EVENT_ON);
        fd_writer_step(w);
        return 0;
}

static int fd_writer_on_defer(sd_event_source *s, void *userdata) {
        fd_writer_step(userdata);
        return 0;
}

int fd_writer_new(sd_event *e, int fd, FdWriterFill fill, FdWriterDone done, void *userdata, FdWriter **ret) {
        FdWriter *w;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->pipe[0] = w->pipe[1] = -EBADF;
        w->fill = fill;
        w->done = done;
        w->userdata = userdata;
        r = fd_caller_open(fd, true, &w->kind, &w->fd);
        if (r < 0) {
                w->fd = -EBADF;
                fd_writer_free(w);
                return r;
        }
        if (w->kind == FD_KIND_PIPE && pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                fd_writer_free(w);
                return r;
        }
        r = sd_event_add_defer(e, &w->defer, fd_writer_on_defer, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->defer, SD_EVENT_ON);
        if (r >= 0)
                r = sd_event_source_set_priority(w->defer, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0 && w->kind != FD_KIND_REGULAR) {
                r = sd_event_add_io(e, &w->io, w->fd, EPOLLOUT, fd_writer_on_io, w);
                if (r >= 0)
                        r = sd_event_source_set_enabled(w->io, SD_EVENT_OFF);
        }
        if (r < 0) {
                fd_writer_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ownership and error helpers in the style of systemd's macro.h.  Written
 * here rather than borrowed from systemd's internal headers, which are not
 * a public API.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define container_of(ptr, type, member) ((type *) ((char *) (ptr) - offsetof(type, member)))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hand a pointer over to a new owner: returns it and clears the old one. */
#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _p_ = (p);        \
                (p) = NULL;                     \
                _p_;                            \
        })

#define TAKE_FD(fd)                             \
        ({                                      \
                int _fd_ = (fd);                \
                (fd) = -EBADF;                  \
                _fd_;                           \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* Turn a libc-style "-1 + errno" return into a negative errno. */
#define RET_NERRNO(expr)                        \
        ({                                      \
                long _r_ = (expr);              \
                _r_ < 0 ? -errno : _r_;         \
        })

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)
#define isempty(s) (!(s) || !*(s))

static inline uint16_t unaligned_read_be16(const void *p) {
        const uint8_t *b = p;
        return (uint16_t) ((b[0] << 8) | b[1]);
}
static inline uint32_t unaligned_read_be32(const void *p) {
        const uint8_t *b = p;
        return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
}
static inline uint64_t unaligned_read_be64(const void *p) {
        return ((uint64_t) unaligned_read_be32(p) << 32) | unaligned_read_be32((const uint8_t *) p + 4);
}
static inline void unaligned_write_be16(void *p, uint16_t v) {
        uint8_t *b = p;
        b[0] = v >> 8;
        b[1] = v;
}
static inline void unaligned_write_be32(void *p, uint32_t v) {
        uint8_t *b = p;
        b[0] = v >> 24;
        b[1] = v >> 16;
        b[2] = v >> 8;
        b[3] = v;
}
static inline void unaligned_write_be64(void *p, uint64_t v) {
        unaligned_write_be32(p, v >> 32);
        unaligned_write_be32((uint8_t *) p + 4, (uint32_t) v);
}

/* Little-endian fields (GPT, MediaTek file formats): byte by byte, so any
 * alignment and any host order. */
static inline uint16_t unaligned_read_le16(const void *p) {
        const uint8_t *b = p;
        return (uint16_t) (b[0] | (b[1] << 8));
}
static inline uint32_t unaligned_read_le32(const void *p) {
        const uint8_t *b = p;
        return (uint32_t) b[0] | ((uint32_t) b[1] << 8) | ((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
}
static inline uint64_t unaligned_read_le64(const void *p) {
        return (uint64_t) unaligned_read_le32(p) | ((uint64_t) unaligned_read_le32((const uint8_t *) p + 4) << 32);
}
static inline void unaligned_write_le16(void *p, uint16_t v) {
        uint8_t *b = p;
        b[0] = v;
        b[1] = v >> 8;
}
static inline void unaligned_write_le32(void *p, uint32_t v) {
        uint8_t *b = p;
        b[0] = v;
        b[1] = v >> 8;
        b[2] = v >> 16;
        b[3] = v >> 24;
}
static inline void unaligned_write_le64(void *p, uint64_t v) {
        unaligned_write_le32(p, (uint32_t) v);
        unaligned_write_le32((uint8_t *) p + 4, v >> 32);
}

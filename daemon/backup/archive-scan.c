/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include "archive-scan.h"
#include "macro.h"
#include "parse-error.h"

/* what the inner reader hands over at a time */
#define SCAN_CHUNK (64u * 1024u)
/* Decompressed bytes one call may take: a member's data is read by the
 * caller in pieces, so only headers count here, and libarchive keeps a
 * special header (pax, GNU long name) below 1 MiB. */
#define SCAN_CALL_MAX (4u * 1024u * 1024u)
#define SCAN_READ_MAX (1024u * 1024u)

struct ArchiveScan {
        struct archive *inner, *outer;
        uint8_t *buf;
        uint64_t budget, consumed, call_start;
        int error;                  /* why the read callback failed */
        bool opened;                /* the outer reader has begun */
        bool started;               /* a header was read: the archive is a tar */
        char *member;               /* for messages */
};

ArchiveScan *archive_scan_free(ArchiveScan *s) {
        if (!s)
                return NULL;
        if (s->outer)
                archive_read_free(s->outer);
        if (s->inner)
                archive_read_free(s->inner);
        free(s->buf);
        free(s->member);
        return mfree(s);
}

void archive_scan_set_budget(ArchiveScan *s, uint64_t budget) {
        s->budget = budget;
}

uint64_t archive_scan_consumed(const ArchiveScan *s) {
        return s->consumed;
}

static la_ssize_t archive_scan_on_read(struct archive *a, void *userdata, const void **ret) {
        ArchiveScan *s = userdata;
        la_ssize_t n;

        if (s->consumed - s->call_start >= SCAN_CALL_MAX) {
                s->error = -EFBIG;
                return -1;
        }
        n = archive_read_data(s->inner, s->buf, SCAN_CHUNK);
        if (n < 0) {
                s->error = -EBADMSG;
                archive_set_error(a, EINVAL, "%s", archive_error_string(s->inner) ?: "damaged compressed data");
                return -1;
        }
        if (s->consumed + (uint64_t) n > s->budget) {
                s->error = -EFBIG;
                return -1;
        }
        s->consumed += (uint64_t) n;
        *ret = s->buf;
        return n;
}

/* Only filters built into libarchive: one it would run as an external
 * program (lrzip, lzop, or bzip2 without libbz2) is not given a caller's
 * data by a root daemon. */
static void archive_scan_support_filters(struct archive *a) {
        static int (*const filters[])(struct archive *) = {
                archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
                archive_read_support_filter_xz,   archive_read_support_filter_lzma,
                archive_read_support_filter_zstd, archive_read_support_filter_lz4,
        };

        for (size_t i = 0; i < ELEMENTSOF(filters); i++) {
                struct archive *probe = archive_read_new();
                bool builtin = probe && filters[i](probe) == ARCHIVE_OK;

                if (probe)
                        archive_read_free(probe);
                if (builtin)
                        (void) filters[i](a);
        }
}

static int archive_scan_failed(ArchiveScan *s, char **ret_error) {
        if (s->error == -EFBIG) {
                (void) parse_error(ret_error, "the archive expands beyond what a backup can hold");
                return -EFBIG;
        }
        if (!s->started)
                return parse_error(ret_error, "not a tar archive");
        if (s->member)
                return parse_error(ret_error, "member %s is truncated or damaged (%s)", s->member,
                                   archive_error_string(s->outer) ?: "?");
        return parse_error(ret_error, "the archive is damaged (%s)", archive_error_string(s->outer) ?: "?");
}

int archive_scan_new(const void *data, size_t size, uint64_t budget, ArchiveScan **ret) {
        _cleanup_(archive_scan_freep) ArchiveScan *s = NULL;
        struct archive_entry *e;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->budget = budget;
        s->buf = malloc(SCAN_CHUNK);
        s->inner = archive_read_new();
        s->outer = archive_read_new();
        if (!s->buf || !s->inner || !s->outer)
                return -ENOMEM;
        archive_scan_support_filters(s->inner);
        if (archive_read_support_format_raw(s->inner) != ARCHIVE_OK ||
            archive_read_support_format_tar(s->outer) != ARCHIVE_OK)
                return -EIO;
        /* an empty or unreadable input fails at the first archive_scan_next() */
        if (archive_read_open_memory(s->inner, data, size) != ARCHIVE_OK ||
            archive_read_next_header(s->inner, &e) != ARCHIVE_OK)
                s->error = -EBADMSG;
        *ret = TAKE_PTR(s);
        return 0;
}

int archive_scan_next(ArchiveScan *s, ArchiveMember *ret, char **ret_error) {
        struct archive_entry *e;
        const char *name, *slash;
        int r;

        if (s->error && !s->started)
                return archive_scan_failed(s, ret_error);
        s->call_start = s->consumed;
        s->member = mfree(s->member);
        if (!s->opened) {
                s->opened = true;
                if (archive_read_open(s->outer, s, NULL, archive_scan_on_read, NULL) != ARCHIVE_OK)
                        return archive_scan_failed(s, ret_error);
        }
        r = archive_read_next_header(s->outer, &e);
        if (r == ARCHIVE_EOF)
                return 0;
        if (r != ARCHIVE_OK)
                return archive_scan_failed(s, ret_error);
        s->started = true;
        name = archive_entry_pathname(e);
        if (!name)
                return parse_error(ret_error, "a member has no usable name");
        s->member = strdup(name);
        if (!s->member)
                return -ENOMEM;
        slash = strrchr(s->member, '/');
        *ret = (ArchiveMember) {
                .name = s->member,
                .base = slash ? slash + 1 : s->member,
                .size = archive_entry_size(e),
                .regular = archive_entry_filetype(e) == AE_IFREG,
        };
        return 1;
}

ssize_t archive_scan_read(ArchiveScan *s, void *buf, size_t n, char **ret_error) {
        la_ssize_t k;

        s->call_start = s->consumed;
        k = archive_read_data(s->outer, buf, MIN(n, (size_t) SCAN_READ_MAX));
        if (k < 0)
                return archive_scan_failed(s, ret_error);
        return k;
}

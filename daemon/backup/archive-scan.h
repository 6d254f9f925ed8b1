/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a caller's tar archive (bare, or compressed with anything
 * libarchive knows) from memory in small steps, never expanding it beyond a
 * budget.
 *
 * libarchive pulls: one archive_read_next_header() may decompress and skip
 * any amount (the rest of a member, a run of special headers), and a few
 * kilobytes of bzip2 or xz expand to gigabytes.  So the archive is read by
 * two readers: an inner one (the "raw" format, every filter) decompresses,
 * and hands at most 64 KiB at a time to the outer tar reader through a read
 * callback; that callback counts every decompressed byte against the budget
 * (what the data can legitimately be, raised once a manifest says so) and
 * against a per-call allowance, and fails the read when either is spent.
 * No call here thus does more than a few MiB of decompression, and no
 * archive costs more than its budget: a bomb fails fast, a real archive is
 * read in steps the caller spreads over event-loop iterations.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ArchiveScan ArchiveScan;

typedef struct ArchiveMember {
        const char *name;       /* valid until the next archive_scan_next() */
        const char *base;       /* its last path component */
        int64_t size;
        bool regular;
} ArchiveMember;

/* data must stay valid while the scan lives.  budget: decompressed bytes. */
int archive_scan_new(const void *data, size_t size, uint64_t budget, ArchiveScan **ret);
ArchiveScan *archive_scan_free(ArchiveScan *s);
void archive_scan_set_budget(ArchiveScan *s, uint64_t budget);
/* Decompressed bytes so far. */
uint64_t archive_scan_consumed(const ArchiveScan *s);

/* The next member: 1, or 0 at the end.  Errors: -EBADMSG (not a tar
 * archive when nothing was read yet, else damaged; *ret_error says
 * which), -EFBIG (it expands beyond the budget). */
int archive_scan_next(ArchiveScan *s, ArchiveMember *ret, char **ret_error);
/* Up to n (at most 1 MiB) bytes of the current member; 0 at its end.
 * Errors as for archive_scan_next(); a short member is -EBADMSG. */
ssize_t archive_scan_read(ArchiveScan *s, void *buf, size_t n, char **ret_error);

static inline void archive_scan_freep(ArchiveScan **s) {
        if (*s)
                archive_scan_free(*s);
}

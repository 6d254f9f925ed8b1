/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "archive-manifest.h"
#include "archive-scan.h"
#include "macro.h"

/* The largest manifest.yaml read, and the decompressed bytes it may take to
 * reach it (a few directories before it are tolerated). */
#define ARCHIVE_MANIFEST_MAX (1024u * 1024u)
#define ARCHIVE_MANIFEST_BUDGET (2u * 1024u * 1024u)

/* A verdict on the archive: 0 with why (a copy) in *ret_error. */
static int archive_invalid(char **ret_error, const char *why) {
        *ret_error = strdup(why);
        return *ret_error ? 0 : -ENOMEM;
}

int archive_read_manifest(const void *data, size_t size, Manifest **ret, char **ret_error) {
        _cleanup_(archive_scan_freep) ArchiveScan *scan = NULL;
        _cleanup_(manifest_freep) Manifest *mf = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *err = NULL;
        ArchiveMember mb;
        unsigned others = 0;
        size_t got = 0;
        bool tar = false;
        int r;

        r = archive_scan_new(data, size, ARCHIVE_MANIFEST_BUDGET, &scan);
        if (r < 0)
                return r;
        for (;;) {
                r = archive_scan_next(scan, &mb, &err);
                if (r <= 0)
                        break;
                tar = true;
                if (mb.regular || ++others > 16)
                        break;
        }
        /* expanding beyond the budget before any member: a compressed tar, or a bomb */
        if (r == -EFBIG)
                tar = true;
        if (!tar)
                return -ENOENT;
        if (r < 0)
                return archive_invalid(ret_error, err ?: "the archive is damaged");
        if (r == 0 || !mb.regular || !streq(mb.base, "manifest.yaml"))
                return archive_invalid(ret_error, "the archive does not begin with manifest.yaml: it is not an "
                                       "mtknvd backup export");
        if (mb.size <= 0 || mb.size > ARCHIVE_MANIFEST_MAX)
                return archive_invalid(ret_error, "its manifest.yaml is empty or too large");
        buf = malloc((size_t) mb.size);
        if (!buf)
                return -ENOMEM;
        while (got < (size_t) mb.size) {
                ssize_t k = archive_scan_read(scan, buf + got, (size_t) mb.size - got, &err);

                if (k <= 0)
                        return archive_invalid(ret_error, k < 0 && err ? err : "its manifest.yaml is truncated");
                got += (size_t) k;
        }
        err = mfree(err);
        if (manifest_parse(buf, got, &mf, &err) < 0) {
                if (asprintf(ret_error, "its manifest.yaml is invalid: %s", err ?: "?") < 0)
                        return archive_invalid(ret_error, "its manifest.yaml is invalid");
                return 0;
        }
        *ret = TAKE_PTR(mf);
        return 1;
}

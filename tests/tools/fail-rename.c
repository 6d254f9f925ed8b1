/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A failing disk, on demand, for the e2e tests: preloaded into the daemon,
 * renameat() fails with EIO when the file being renamed contains the text in
 * $MTKNVD_TEST_FAIL_RENAME_CONTAINING.  The restore journal is written to a
 * temporary file and renamed into place, so "PHASE=rollback" makes exactly
 * the journal update at the start of a rollback fail, and nothing else: the
 * failure the daemon must report, without racing the daemon to cause it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

static int contains_marker(int dirfd, const char *path, const char *marker) {
        char buf[8192];
        ssize_t n;
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        return strstr(buf, marker) != NULL;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
        int (*real)(int, const char *, int, const char *) =
                (int (*)(int, const char *, int, const char *)) dlsym(RTLD_NEXT, "renameat");
        const char *marker = getenv("MTKNVD_TEST_FAIL_RENAME_CONTAINING");

        if (marker && *marker && contains_marker(olddirfd, oldpath, marker)) {
                fprintf(stderr, "fail-rename: failing the rename of %s (it contains \"%s\")\n", oldpath, marker);
                errno = EIO;
                return -1;
        }
        if (!real) {
                errno = ENOSYS;
                return -1;
        }
        return real(olddirfd, oldpath, newdirfd, newpath);
}

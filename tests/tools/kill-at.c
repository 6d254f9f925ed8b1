/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A crash, on demand, for the e2e tests: preloaded into the daemon, it kills
 * the process with SIGKILL at the start of a chosen file-system call, so a
 * test can stop the daemon exactly between two steps of a commit or a delete
 * instead of racing it with a signal.  $MTKNVD_TEST_KILL_AT is FUNC:TEXT,
 * FUNC one of renameat2, renameat, linkat, unlinkat: the call is killed when
 * one of its path arguments contains TEXT; $MTKNVD_TEST_KILL_SKIP=N lets the
 * first N such calls through.  The call itself never runs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
int unlinkat(int dirfd, const char *path, int flags);

static void maybe_die(const char *func, const char *a, const char *b) {
        static unsigned seen;
        const char *spec = getenv("MTKNVD_TEST_KILL_AT"), *skip = getenv("MTKNVD_TEST_KILL_SKIP");
        const char *colon = spec ? strchr(spec, ':') : NULL;
        size_t flen;

        if (!colon || !colon[1])
                return;
        flen = (size_t) (colon - spec);
        if (strlen(func) != flen || strncmp(spec, func, flen) != 0)
                return;
        if (!(a && strstr(a, colon + 1)) && !(b && strstr(b, colon + 1)))
                return;
        if (skip && seen++ < strtoul(skip, NULL, 10))
                return;
        fprintf(stderr, "kill-at: SIGKILL at %s(%s%s%s)\n", func, a ?: "", b ? ", " : "", b ?: "");
        fflush(stderr);
        kill(getpid(), SIGKILL);
        pause();
}

#define REAL(name, type) ((type) dlsym(RTLD_NEXT, name))

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
        int (*real)(int, const char *, int, const char *, unsigned int) =
                REAL("renameat2", int (*)(int, const char *, int, const char *, unsigned int));

        maybe_die("renameat2", oldpath, newpath);
        if (!real) {
                errno = ENOSYS;
                return -1;
        }
        return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
        int (*real)(int, const char *, int, const char *) = REAL("renameat", int (*)(int, const char *, int, const char *));

        maybe_die("renameat", oldpath, newpath);
        if (!real) {
                errno = ENOSYS;
                return -1;
        }
        return real(olddirfd, oldpath, newdirfd, newpath);
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags) {
        int (*real)(int, const char *, int, const char *, int) =
                REAL("linkat", int (*)(int, const char *, int, const char *, int));

        maybe_die("linkat", oldpath, newpath);
        if (!real) {
                errno = ENOSYS;
                return -1;
        }
        return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int unlinkat(int dirfd, const char *path, int flags) {
        int (*real)(int, const char *, int) = REAL("unlinkat", int (*)(int, const char *, int));

        maybe_die("unlinkat", path, NULL);
        if (!real) {
                errno = ENOSYS;
                return -1;
        }
        return real(dirfd, path, flags);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"

/* The one piece of process-wide state: set once from main() before the
 * event loop starts, read-only afterwards. */
static int log_max_level = LOG_INFO;
static int log_use_prefix = -1;

void log_setup(int max_level) {
        const char *e;

        log_max_level = max_level;

        /* JOURNAL_STREAM is "dev:ino" of the stream the journal gave us;
         * only prefix priorities when stderr really is that stream. */
        log_use_prefix = 0;
        e = getenv("JOURNAL_STREAM");
        if (e) {
                struct stat st;
                unsigned long long dev, ino;

                if (sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
                    (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino)
                        log_use_prefix = 1;
        }
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_internal(int level, int error, const char *file, int line, const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved_errno = errno;

        if (error < 0)
                error = -error;

        if (level > log_max_level)
                return -error;

        /* Let "%m" print the error we were handed, not whatever errno is. */
        errno = error;
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (log_use_prefix > 0)
                fprintf(stderr, "<%i>%s\n", level, buf);
        else if (log_max_level >= LOG_DEBUG)
                fprintf(stderr, "%s:%i: %s\n", file, line, buf);
        else
                fprintf(stderr, "%s\n", buf);

        errno = saved_errno;
        return -error;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim-client.h"

int sim_run_self(char *self, const char *phone_spec) {
        char dir[] = "/tmp/mtknvd-unit-sim-XXXXXX", ctl[PATH_MAX], sim[PATH_MAX], exe[PATH_MAX], copy[PATH_MAX];
        int status = 0;
        pid_t pid;

        if (getenv("MTKSIM_CONTROL"))
                return -1;
        if (!realpath(self, exe) || !mkdtemp(dir))
                return 1;
        snprintf(copy, sizeof(copy), "%s", self);
        snprintf(ctl, sizeof(ctl), "%s/control", dir);
        snprintf(sim, sizeof(sim), "%s/../mtksim", dirname(copy));
        /* umockdev's preload library comes first; an ASan build must not mind */
        setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 0);
        pid = fork();
        if (pid == 0) {
                execl(sim, sim, "--coldplug", "--control", ctl, "--phone", phone_spec, "--", exe, (char *) NULL);
                printf("1..1\nnot ok 1 - cannot run %s: %s\n", sim, strerror(errno));
                _exit(1);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                status = 1 << 8;
        unlink(ctl);
        rmdir(dir);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

char *sim_control(const char *line) {
        static char reply[4096];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = getenv("MTKSIM_CONTROL");
        size_t n = 0;
        int fd;

        if (!path || strlen(path) >= sizeof(sa.sun_path))
                return NULL;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            write(fd, line, strlen(line)) != (ssize_t) strlen(line) || write(fd, "\n", 1) != 1) {
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        while (n < sizeof(reply) - 1) {
                ssize_t k = read(fd, reply + n, sizeof(reply) - 1 - n);

                if (k <= 0)
                        break;
                n += (size_t) k;
                if (reply[n - 1] == '\n')
                        break;
        }
        close(fd);
        reply[n] = 0;
        if (n > 0 && reply[n - 1] == '\n')
                reply[n - 1] = 0;
        if (strncmp(reply, "ok", 2) != 0) {
                printf("# mtksim: %s -> %s\n", line, reply);
                return NULL;
        }
        return reply + 2 + (reply[2] == ' ');
}

const char *sim_stat(const char *phone, const char *field) {
        static char value[512];
        char key[64], cmd[96], *s, *p;

        value[0] = 0;
        snprintf(cmd, sizeof(cmd), "stats %s", phone);
        s = sim_control(cmd);
        snprintf(key, sizeof(key), " %s=", field);
        if (!s || !(p = strstr(s - 1, key)))
                return value;
        p += strlen(key);
        snprintf(value, sizeof(value), "%.*s", (int) strcspn(p, " "), p);
        return value;
}

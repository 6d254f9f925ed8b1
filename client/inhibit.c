/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtknvctl inhibit [--port P] [--who W] [--why Y] [-- COMMAND [ARG...]]
 *
 * Takes a Manager.Inhibit descriptor and holds it for the life of COMMAND,
 * or until SIGINT/SIGTERM without one.  Like systemd-inhibit, only this
 * process holds the descriptor (close-on-exec): the inhibitor ends when
 * mtknvctl ends, whatever COMMAND started meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inhibit.h"
#include "macro.h"

/* the daemon's limit for who and why, in bytes */
#define INHIBIT_TEXT_MAX 256
#define WHY_SUFFIX " is using the phone"

typedef struct Holder {
        sd_event *event;
        pid_t child;  /* the running COMMAND; 0 without one or once it ended */
        int exit;
} Holder;

/* A default made from the command line must never be refused by the
 * daemon: plain printable ASCII only, within its limit. */
static bool default_text_ok(const char *s, size_t reserve) {
        size_t n = strlen(s);

        if (n == 0 || n + reserve > INHIBIT_TEXT_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        return false;
        return true;
}

static const char *command_name(char **command) {
        const char *slash = strrchr(command[0], '/');

        return slash ? slash + 1 : command[0];
}

/* "python3 mtk.py r nvram nvram.bin is using the phone", or shorter. */
static char *default_why(char **command) {
        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        char *why = NULL;

        if (!command[0])
                return strdup("held by 'mtknvctl inhibit' until it is stopped");
        for (char **a = command; *a; a++) {
                char *n = realloc(line, len + strlen(*a) + 2);

                if (!n)
                        return NULL;
                line = n;
                len += (size_t) sprintf(line + len, "%s%s", len ? " " : "", *a);
        }
        if (default_text_ok(line, strlen(WHY_SUFFIX)))
                return asprintf(&why, "%s" WHY_SUFFIX, line) < 0 ? NULL : why;
        if (default_text_ok(command_name(command), strlen(WHY_SUFFIX)))
                return asprintf(&why, "%s" WHY_SUFFIX, command_name(command)) < 0 ? NULL : why;
        return strdup("a program is using the phone");
}

static int inhibit_take(sd_bus *bus, const char *who, const char *why, const char *port, int *ret_fd) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        int fd, r;

        r = sd_bus_message_new_method_call(bus, &call, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                           "Inhibit");
        if (r >= 0)
                r = sd_bus_message_append(call, "ss", who, why);
        if (r >= 0)
                r = port ? sd_bus_message_append(call, "a{sv}", 1, "port", "s", port)
                         : sd_bus_message_append(call, "a{sv}", 0);
        if (r < 0)
                return -bus_report_error("Cannot inhibit mtknvd", r, NULL);
        /* polkit may be asking for a password meanwhile */
        r = sd_bus_call(bus, call, 300ull * 1000000ull, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return -bus_report_error("Cannot inhibit mtknvd", r, &error);
        /* the message owns fd; ours must not reach COMMAND */
        *ret_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (*ret_fd < 0)
                return -bus_report_error("Cannot keep the inhibitor", -errno, NULL);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Holder *h = userdata;

        if (h->child <= 0) {
                h->exit = EXIT_OK;
                return sd_event_exit(h->event, 0);
        }
        /* Ctrl-C on a terminal (SI_KERNEL) already reached COMMAND, which is in
         * the same foreground process group: a second one could cut its
         * clean-up short.  What kill(1) or a service manager sent only to us
         * is passed on; we end when COMMAND does. */
        if (si->ssi_code != SI_KERNEL)
                (void) kill(h->child, (int) si->ssi_signo);
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Holder *h = userdata;

        /* the shell's convention: 128 + the signal that ended it */
        h->exit = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
        h->child = 0;
        return sd_event_exit(h->event, 0);
}

/* The daemon closed its end of the pipe: it exited, and the inhibitor with it. */
static int on_daemon_gone(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Holder *h = userdata;

        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        fprintf(stderr, "mtknvd stopped, and the inhibitor ended with it: a restarted mtknvd opens phones "
                        "again.\n");
        if (h->child > 0)
                return 0;
        h->exit = EXIT_NO_DAEMON;
        return sd_event_exit(h->event, 0);
}

static pid_t command_start(char **command) {
        pid_t parent = getpid(), pid;
        sigset_t none;

        fflush(NULL);
        pid = fork();
        if (pid != 0)
                return pid;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* without mtknvctl there is no inhibitor: COMMAND must not go on using the phone */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(128 + SIGTERM);
        execvp(command[0], command);
        fprintf(stderr, "Cannot run %s: %s\n", command[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
}

int verb_inhibit(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_(event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *why_default = NULL;
        char **command = argv + 1;
        const char *who = a->who, *why = a->why;
        Holder h = { .exit = EXIT_FAIL };
        sigset_t mask;
        int fd = -1, r;

        if (!who)
                who = command[0] && default_text_ok(command_name(command), 0) ? command_name(command) : "mtknvctl";
        if (!why) {
                why = why_default = default_why(command);
                if (!why)
                        return bus_report_error("Cannot inhibit mtknvd", -ENOMEM, NULL);
        }

        /* first the signals, so that none between here and the loop is lost */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = inhibit_take(bus, who, why, a->port, &fd);
        if (r < 0)
                return -r;
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_signal, &h);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, &h);
        if (r >= 0)
                r = sd_event_add_io(event, NULL, fd, 0, on_daemon_gone, &h);
        if (r < 0) {
                close(fd);
                return bus_report_error("Cannot hold the inhibitor", r, NULL);
        }
        h.event = event;

        if (command[0]) {
                h.child = command_start(command);
                if (h.child < 0) {
                        close(fd);
                        return bus_report_error("Cannot start the command", -errno, NULL);
                }
                r = sd_event_add_child(event, NULL, h.child, WEXITED, on_child, &h);
                if (r < 0) {
                        (void) kill(h.child, SIGTERM);
                        close(fd);
                        return bus_report_error("Cannot follow the command", r, NULL);
                }
        } else if (a->port)
                fprintf(stderr, "mtknvd leaves phones on port %s alone until this ends (Ctrl-C).\n", a->port);
        else
                fprintf(stderr, "mtknvd leaves phones on all ports alone until this ends (Ctrl-C).\n");

        r = sd_event_loop(event);
        close(fd);
        return r < 0 ? bus_report_error("Cannot hold the inhibitor", r, NULL) : h.exit;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "job-progress.h"
#include "macro.h"
#include "output.h"

void job_progress_init(JobProgress *p, sd_bus *bus, const Args *a) {
        *p = (JobProgress) { .bus = bus, .args = a, .tty = isatty(STDERR_FILENO), .last_percent = -10 };
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* The terminal's width now: it may have been resized since the last line. */
static unsigned terminal_width(void) {
        struct winsize ws = {};
        const char *e;

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        e = getenv("COLUMNS");
        if (e && atoi(e) > 0)
                return (unsigned) atoi(e);
        return 80;
}

static void format_duration(uint64_t usec, char *buf, size_t size) {
        uint64_t s = (usec + 500000) / 1000000;

        if (s >= 3600)
                snprintf(buf, size, "%u:%02u:%02u", (unsigned) (s / 3600), (unsigned) (s / 60 % 60), (unsigned) (s % 60));
        else
                snprintf(buf, size, "%u:%02u", (unsigned) (s / 60), (unsigned) (s % 60));
}

static double mib(uint64_t bytes) {
        return (double) bytes / 1048576.0;
}

/* "27.0/60.0 MiB  4.1 MiB/s  ETA 0:08": sizes in terms of the backup, read
 * once, however many passes the job makes over it. */
static void format_stats(const JobProgress *p, bool with_rate, uint64_t now_usec, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        if (p->size > 0) {
                n += (size_t) snprintf(buf + n, size - n, "%.1f/%.1f MiB", mib((uint64_t) (p->progress * (double) p->size)),
                                       mib(p->size));
                if (with_rate && p->rate > 0 && p->total > 0 && n < size)
                        n += (size_t) snprintf(buf + n, size - n, "  %.1f MiB/s",
                                               mib(p->rate) * (double) p->size / (double) p->total);
        }
        if (p->expected_end > now_usec && n < size) {
                char eta[16];

                format_duration(p->expected_end - now_usec, eta, sizeof(eta));
                n += (size_t) snprintf(buf + n, size - n, "%sETA %s", n > 0 ? "  " : "", eta);
        }
}

/* Columns s takes (UTF-8: continuation bytes take none). */
static unsigned columns(const char *s) {
        unsigned cols = 0;

        for (; *s; s++)
                cols += ((unsigned char) *s & 0xc0) != 0x80;
        return cols;
}

/* Cut s to at most max columns. */
static void truncate_columns(char *s, unsigned max) {
        unsigned cols = 0;

        for (char *c = s; *c; c++) {
                if (((unsigned char) *c & 0xc0) == 0x80)
                        continue;
                if (cols++ == max) {
                        *c = 0;
                        return;
                }
        }
}

void job_progress_format(const JobProgress *p, unsigned width, uint64_t now_usec, char *buf, size_t size) {
        int percent = (int) (p->progress * 100.0 + 0.5);
        unsigned bar_width = width >= 100 ? 30 : width >= 72 ? 12 : width >= 56 ? 10 : 0;
        char bar[32], stats[96];
        int fill = percent * (int) bar_width / 100;

        for (unsigned i = 0; i < bar_width; i++)
                bar[i] = (int) i < fill ? '#' : '.';
        bar[bar_width] = 0;
        /* what goes first when it is too wide: the rate, then the end of the step */
        for (int with_rate = 1; with_rate >= 0; with_rate--) {
                format_stats(p, with_rate, now_usec, stats, sizeof(stats));
                snprintf(buf, size, "%s%s%s%3d%%%s%s%s%s", bar_width ? "[" : "", bar, bar_width ? "] " : "",
                         percent, *stats ? "  " : "", stats, p->step && *p->step ? "  " : "", p->step ?: "");
                if (columns(buf) < width)
                        break;
        }
        truncate_columns(buf, width > 1 ? width - 1 : 0);
}

static void progress_draw(JobProgress *p) {
        int percent = (int) (p->progress * 100.0 + 0.5);
        char line[512];

        if (p->args->json)
                return;
        if (p->tty) {
                job_progress_format(p, terminal_width(), now_realtime_usec(), line, sizeof(line));
                /* back to the line's start, the line, and clear what a longer one left */
                fprintf(stderr, "\r%s\033[K", line);
                p->drawn = true;
        } else if (percent / 10 != p->last_percent / 10) {
                char stats[96];

                format_stats(p, true, now_realtime_usec(), stats, sizeof(stats));
                fprintf(stderr, "%3d%%%s%s%s%s\n", percent, *stats ? "  " : "", stats, p->step && *p->step ? "  " : "",
                        p->step ?: "");
        }
        p->last_percent = percent;
}

static int on_job_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobProgress *p = userdata;
        const char *iface;
        int r;

        if (!p->job || strcmp(sd_bus_message_get_path(m), p->job) != 0)
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *s;

                if (sd_bus_message_read(m, "s", &name) < 0)
                        break;
                if (strcmp(name, "Progress") == 0)
                        r = sd_bus_message_read(m, "v", "d", &p->progress);
                else if (strcmp(name, "Bytes") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->bytes);
                else if (strcmp(name, "TotalBytes") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->total);
                else if (strcmp(name, "Size") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->size);
                else if (strcmp(name, "Rate") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->rate);
                else if (strcmp(name, "ExpectedEndTime") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->expected_end);
                else if (strcmp(name, "Step") == 0) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0) {
                                free(p->step);
                                p->step = strdup(s);
                                if (!p->tty && !p->args->json)
                                        fprintf(stderr, "     %s\n", s);
                        }
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        progress_draw(p);
        return 0;
}

static int on_job_completed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobProgress *p = userdata;
        const char *msg;
        int ok;

        if (!p->job || strcmp(sd_bus_message_get_path(m), p->job) != 0)
                return 0;
        if (sd_bus_message_read(m, "bs", &ok, &msg) < 0)
                return 0;
        p->done = true;
        p->ok = ok;
        p->message = strdup(msg);
        return sd_event_exit(p->event, 0);
}

/* The daemon exited (or was killed) under a running job: no Completed will come. */
static int on_daemon_gone(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobProgress *p = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || *new_owner || !p->job)
                return 0;
        p->done = true;
        p->ok = false;
        p->message = strdup("mtknvd went away before the job finished. If it was a restore, plug the phone in again "
                            "and see 'mtknvctl show': an interrupted restore is resumed with 'mtknvctl restore "
                            "--resume'.");
        return sd_event_exit(p->event, 0);
}

/* Ctrl-C (or SIGTERM) cancels the job and waits for the daemon to confirm;
 * a second one, or one the job refuses, leaves it running. */
static int on_interrupt(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        JobProgress *p = userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        p->interrupted = (int) si->ssi_signo;
        if (p->drawn) {
                fputc('\n', stderr);
                p->drawn = false;
        }
        if (!p->job || p->cancel_sent) {
                if (p->job && !p->message &&
                    asprintf(&p->message, "Stopped following job %s; it goes on in mtknvd ('mtknvctl monitor' "
                             "shows how it ends).", p->job) < 0)
                        p->message = NULL;
                return sd_event_exit(p->event, 0);
        }
        p->cancel_sent = true;
        if (!p->args->json)
                fprintf(stderr, "Cancelling…\n");
        r = sd_bus_call_method(p->bus, MTKNV_BUS_NAME, p->job, MTKNV_JOB_IFACE, "Cancel", &error, NULL, "a{sv}", 0);
        if (r < 0)
                fprintf(stderr, "Cannot cancel: %s\nThe job goes on; press Ctrl-C again to stop following it.\n",
                        error.message ?: strerror(-r));
        return 0;
}

/* Follow job to its end: progress on stderr, Ctrl-C cancels, result on stdout. */
int job_progress_follow(sd_bus *bus, sd_event *event, JobProgress *p) {
        const Args *a = p->args;
        sigset_t mask;
        int r, ret;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sd_event_add_signal(event, NULL, SIGINT, on_interrupt, p);
        sd_event_add_signal(event, NULL, SIGTERM, on_interrupt, p);

        r = sd_event_loop(event);
        if (p->drawn)
                fputc('\n', stderr);
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "job", p->job);
                json_bool(&j, "success", p->done && p->ok);
                json_string(&j, "message", p->message ?: "");
                if (p->interrupted)
                        json_bool(&j, "interrupted", true);
                json_end_object(&j);
                putchar('\n');
        } else
                printf("%s\n", p->message ?: "The daemon went away before the job finished.");
        ret = p->done && p->ok ? EXIT_OK : p->interrupted ? 128 + p->interrupted : EXIT_FAIL;
        free(p->job);
        free(p->step);
        free(p->message);
        return r < 0 ? EXIT_FAIL : ret;
}

int job_progress_subscribe(sd_bus *bus, sd_event *event, JobProgress *p) {
        sigset_t mask;
        int r;

        /* from before the job exists: a Ctrl-C while it is asked for cancels it
         * once it is known, rather than leaving it behind */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus."
                                     "Properties',member='PropertiesChanged',path_namespace='" MTKNV_JOB_PREFIX "'",
                                     on_job_props, p);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='" MTKNV_JOB_IFACE
                                     "',member='Completed'",
                                     on_job_completed, p);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                     "member='NameOwnerChanged',arg0='" MTKNV_BUS_NAME "'",
                                     on_daemon_gone, p);
        return r;
}

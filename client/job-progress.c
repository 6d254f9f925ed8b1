/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "job-progress.h"
#include "macro.h"
#include "output.h"

void job_progress_init(JobProgress *p, sd_bus *bus, const Args *a) {
        *p = (JobProgress) { .bus = bus, .args = a, .tty = isatty(STDERR_FILENO), .last_percent = -10 };
}

static void progress_draw(JobProgress *p) {
        int percent = (int) (p->progress * 100.0 + 0.5);

        if (p->args->json)
                return;
        if (p->tty) {
                char bar[31];
                int fill = percent * 30 / 100;

                for (int i = 0; i < 30; i++)
                        bar[i] = i < fill ? '#' : '.';
                bar[30] = 0;
                fprintf(stderr, "\r[%s] %3d%%  %5.1f/%.1f MiB  %5.1f MiB/s  %-40.40s", bar, percent,
                        (double) p->bytes / 1048576.0, (double) p->total / 1048576.0, (double) p->rate / 1048576.0,
                        p->step ?: "");
        } else if (percent / 10 != p->last_percent / 10)
                fprintf(stderr, "%3d%% %s\n", percent, p->step ?: "");
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
                else if (strcmp(name, "Rate") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->rate);
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

static int on_interrupt(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        JobProgress *p = userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!p->job || p->cancel_sent)
                return sd_event_exit(p->event, 0);
        p->cancel_sent = true;
        fprintf(stderr, "\nCancelling…\n");
        r = sd_bus_call_method(p->bus, MTKNV_BUS_NAME, p->job, MTKNV_JOB_IFACE, "Cancel", &error, NULL, "a{sv}", 0);
        if (r < 0)
                fprintf(stderr, "Cannot cancel: %s\n", error.message ?: strerror(-r));
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
        if (p->tty && !a->json)
                fputc('\n', stderr);
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "job", p->job);
                json_bool(&j, "success", p->ok);
                json_string(&j, "message", p->message ?: "");
                json_end_object(&j);
                putchar('\n');
        } else
                printf("%s\n", p->message ?: "The daemon went away before the job finished.");
        ret = p->done && p->ok ? EXIT_OK : EXIT_FAIL;
        free(p->job);
        free(p->step);
        free(p->message);
        return r < 0 ? EXIT_FAIL : ret;
}

int job_progress_subscribe(sd_bus *bus, sd_event *event, JobProgress *p) {
        int r;

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

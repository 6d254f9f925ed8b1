/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Following a daemon Job to its end: a progress line on stderr (a bar on a
 * terminal, a line per ten percent otherwise), Ctrl-C or SIGTERM cancels the
 * job, the result goes to stdout (JSON with --json).  Shared by the verbs that
 * start a job (backup, restore).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "args.h"

/* The state of one verb following one job; the verb sets event and job. */
typedef struct JobProgress {
        sd_bus *bus;
        sd_event *event;
        const Args *args;
        char *job;
        bool done, ok, tty, cancel_sent;
        char *message;
        double progress;
        uint64_t bytes, total, rate;
        char *step;
        int last_percent;
} JobProgress;

/* p for a verb called with a: not following any job yet. */
void job_progress_init(JobProgress *p, sd_bus *bus, const Args *a);
/* Attaches bus to event and listens to every job's progress and end, and to
 * the daemon leaving the bus: before the job is asked for, so that no signal
 * is missed.  p->job then names the job to follow. */
int job_progress_subscribe(sd_bus *bus, sd_event *event, JobProgress *p);
/* Runs event until p->job completes; frees what p holds.  EXIT_OK when the
 * job succeeded, EXIT_FAIL otherwise. */
int job_progress_follow(sd_bus *bus, sd_event *event, JobProgress *p);

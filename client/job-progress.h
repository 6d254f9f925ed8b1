/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Following a daemon Job to its end: a progress line on stderr (on a
 * terminal one line redrawn in place that fits its width, read again at every
 * update; otherwise a plain line per ten percent), Ctrl-C or SIGTERM cancels
 * the job, the result goes to stdout (JSON with --json).  Shared by the verbs
 * that start a job (backup, restore).
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
        bool done, ok, tty, cancel_sent, drawn;
        int interrupted;           /* the signal that stopped us, 0 if none */
        char *message;
        double progress;
        uint64_t bytes, total, rate;
        uint64_t size;             /* Job.Size: the backup's bytes, once; 0 unknown */
        uint64_t expected_end;     /* Job.ExpectedEndTime, µs since the epoch; 0 unknown */
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
 * job succeeded, EXIT_FAIL otherwise, 128 + N when signal N (Ctrl-C: 130)
 * stopped it: the job was cancelled, or, asked twice, left running. */
int job_progress_follow(sd_bus *bus, sd_event *event, JobProgress *p);

/* The progress line for a terminal of width columns, at most width - 1
 * characters long (the last column would wrap on some terminals); now_usec
 * is CLOCK_REALTIME, for the ETA.  For tests and the line itself. */
void job_progress_format(const JobProgress *p, unsigned width, uint64_t now_usec, char *buf, size_t size);

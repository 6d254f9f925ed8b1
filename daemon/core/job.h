/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A long-running operation (a backup, a restore, a verification) with
 * udisks-style progress: step, bytes, rate, cancel.  The operation drives
 * the job through this API; the job tells its owner (the manager) what
 * changed, and bus/job-dbus.c publishes it with Cancel() and Completed(b, s).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct Job Job;
/* Asked to stop; returns -EBUSY when it cannot right now. */
typedef int (*JobCancelFunc)(Job *j, void *userdata);

/* Whoever keeps the job (the manager) learns what happens to it; the job
 * knows nothing of the bus its face is published on. */
typedef struct JobEvents {
        /* properties changed: names, NULL-terminated */
        void (*changed)(Job *j, const char *const *names, void *userdata);
        /* the job is over; it is freed when this returns */
        void (*finished)(Job *j, bool success, const char *message, void *userdata);
} JobEvents;

struct Job {
        const JobEvents *events;
        void *owner;              /* the events' userdata */
        uint32_t id;
        char *object_path;
        char *operation;          /* "backup" */
        char *device_path;
        char *step;               /* what it is doing now, for people */
        uid_t started_by_uid;
        uint64_t start_usec;      /* CLOCK_REALTIME */
        uint64_t start_mono_usec;
        uint64_t bytes, total_bytes;
        uint64_t size;            /* the data itself, each byte once (total_bytes counts every pass) */
        uint64_t rate;            /* bytes per second */
        double progress;
        bool progress_valid;
        bool cancelable;
        bool finished;
        uint64_t last_emit_usec;
        unsigned last_emit_percent;
        char *result_path;        /* e.g. the Backup object it made */
        JobCancelFunc cancel;
        void *userdata;
};

/* id: unique among the owner's jobs; device_path NULL: "/" (not known yet). */
int job_new(uint32_t id, const char *operation, const char *device_path, uid_t uid, const JobEvents *events,
            void *owner, Job **ret);
Job *job_free(Job *j);
void job_set_step(Job *j, const char *step);
void job_set_total(Job *j, uint64_t total_bytes);
/* What people call the job's size: the backup's bytes, however many times
 * the job reads or writes them. */
void job_set_size(Job *j, uint64_t size);
/* Adds n bytes of progress; emits at most ~10 times a second or when the
 * whole percent changes (D-Bus signals are not free). */
void job_add_bytes(Job *j, uint64_t n);
void job_set_cancelable(Job *j, bool b);
/* A job that waited for a phone now has one. */
void job_set_device(Job *j, const char *device_path);
void job_set_result_path(Job *j, const char *path);
/* Tells the owner (finished), then frees the job. */
void job_complete(Job *j, bool success, const char *message);


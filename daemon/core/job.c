/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "job.h"
#include "log.h"
#include "macro.h"
#include "mtknv-bus.h"

#define JOB_EMIT_INTERVAL_USEC 100000ULL

static uint64_t now_usec(clockid_t c) {
        struct timespec ts;

        clock_gettime(c, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static void job_emit(Job *j, const char *first, ...) __attribute__((sentinel));
static void job_emit(Job *j, const char *first, ...) {
        const char *names[16];
        size_t n = 0;
        va_list ap;

        if (!j->events || !j->events->changed)
                return;
        va_start(ap, first);
        for (const char *p = first; p && n < ELEMENTSOF(names) - 1; p = va_arg(ap, const char *))
                names[n++] = p;
        va_end(ap);
        names[n] = NULL;
        j->events->changed(j, names, j->owner);
}

int job_new(uint32_t id, const char *operation, const char *device_path, uid_t uid, const JobEvents *events,
            void *owner, Job **ret) {
        Job *j;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->id = id;
        j->started_by_uid = uid;
        j->start_usec = now_usec(CLOCK_REALTIME);
        j->start_mono_usec = now_usec(CLOCK_MONOTONIC);
        j->cancelable = true;
        j->operation = strdup(operation);
        j->device_path = strdup(device_path ?: "/");
        j->step = strdup("starting");
        if (asprintf(&j->object_path, MTKNV_JOB_PREFIX "/_%u", j->id) < 0)
                j->object_path = NULL;
        if (!j->operation || !j->device_path || !j->step || !j->object_path) {
                job_free(j);
                return -ENOMEM;
        }
        j->events = events;
        j->owner = owner;
        *ret = j;
        return 0;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        free(j->object_path);
        free(j->operation);
        free(j->device_path);
        free(j->step);
        free(j->result_path);
        free(j);
        return NULL;
}

void job_set_step(Job *j, const char *step) {
        char *s = strdup(step);

        if (!s)
                return;
        free(j->step);
        j->step = s;
        log_info("Job %u (%s): %s", j->id, j->operation, step);
        job_emit(j, "Step", NULL);
}

void job_set_total(Job *j, uint64_t total_bytes) {
        j->total_bytes = total_bytes;
        j->progress_valid = total_bytes > 0;
        job_emit(j, "TotalBytes", "ProgressValid", NULL);
}

void job_set_size(Job *j, uint64_t size) {
        j->size = size;
        job_emit(j, "Size", NULL);
}

void job_add_bytes(Job *j, uint64_t n) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), elapsed;
        unsigned percent;

        j->bytes += n;
        if (j->total_bytes > 0)
                j->progress = MIN(1.0, (double) j->bytes / (double) j->total_bytes);
        elapsed = now - j->start_mono_usec;
        if (elapsed > 0)
                j->rate = (uint64_t) ((double) j->bytes * 1e6 / (double) elapsed);

        percent = (unsigned) (j->progress * 100.0);
        if (percent == j->last_emit_percent && now - j->last_emit_usec < JOB_EMIT_INTERVAL_USEC)
                return;
        j->last_emit_percent = percent;
        j->last_emit_usec = now;
        job_emit(j, "Progress", "Bytes", "Rate", "ExpectedEndTime", NULL);
}

void job_set_cancelable(Job *j, bool b) {
        if (j->cancelable == b)
                return;
        j->cancelable = b;
        job_emit(j, "Cancelable", NULL);
}

void job_set_device(Job *j, const char *device_path) {
        char *p = strdup(device_path);

        if (!p)
                return (void) log_oom();
        free(j->device_path);
        j->device_path = p;
        job_emit(j, "Device", NULL);
}

void job_set_result_path(Job *j, const char *path) {
        free(j->result_path);
        j->result_path = path ? strdup(path) : NULL;
}

void job_complete(Job *j, bool success, const char *message) {
        if (j->finished)
                return;
        j->finished = true;
        if (success) {
                j->progress = 1.0;
                job_emit(j, "Progress", "Bytes", NULL);
        }
        log_full_errno(success ? LOG_INFO : LOG_ERR, 0, "Job %u (%s) %s: %s", j->id, j->operation,
                       success ? "succeeded" : "failed", message);
        if (j->events && j->events->finished)
                j->events->finished(j, success, message, j->owner);
        job_free(j);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-util.h"
#include "job.h"
#include "log.h"
#include "verify-job.h"

/* one step: a millisecond or two of hashing */
#define VERIFY_CHUNK (512u * 1024u)

typedef struct VerifyJob {
        Manager *manager;
        Backup *backup;
        Job *job;
        BusCall **waiters;
        size_t n_waiters;
        size_t part;                /* the image being hashed */
        int fd;
        uint64_t part_done;
        EVP_MD_CTX *md;
        uint8_t *buf;
        sd_event_source *step;
} VerifyJob;

static void verify_job_free(VerifyJob *v) {
        if (v->backup)
                v->backup->users--;
        sd_event_source_disable_unref(v->step);
        if (v->fd >= 0)
                close(v->fd);
        for (size_t i = 0; i < v->n_waiters; i++)
                bus_call_free(v->waiters[i]);
        free(v->waiters);
        EVP_MD_CTX_free(v->md);
        free(v->buf);
        free(v);
}

/* Everyone waiting gets the same answer: (ok, message), or error when set. */
static void verify_job_finish(VerifyJob *v, bool ok, const char *message, const sd_bus_error *error) {
        for (size_t i = 0; i < v->n_waiters; i++) {
                sd_bus_message *msg = bus_call_message(v->waiters[i]);

                if (error)
                        (void) sd_bus_reply_method_error(msg, error);
                else
                        (void) sd_bus_reply_method_return(msg, "bs", ok, message);
        }
        if (v->job) {
                v->job->cancel = NULL;
                job_complete(v->job, ok && !error, error ? error->message : message);
        }
        verify_job_free(v);
}

static void verify_job_fail(VerifyJob *v, const char *name, int r, const char *fmt, ...) _printf_(4, 5);
static void verify_job_fail(VerifyJob *v, const char *name, int r, const char *fmt, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;

        va_start(ap, fmt);
        bus_error_setv(&error, name, r, "The verification failed.", fmt, ap);
        va_end(ap);
        verify_job_finish(v, false, NULL, &error);
}

static int verify_job_on_step(sd_event_source *s, void *userdata) {
        VerifyJob *v = userdata;
        const Manifest *mf = v->backup->info.manifest;
        const ManifestPartition *p;
        uint8_t sha[32];
        unsigned len = 0;
        ssize_t k;

        if (v->part == mf->n_parts) {
                verify_job_finish(v, true, "Every image matches its SHA-256 in the manifest.", NULL);
                return 0;
        }
        p = &mf->parts[v->part];
        if (v->fd < 0) {
                _cleanup_free_ char *text = NULL;

                v->fd = backup_store_open_image(v->manager->store, &v->backup->info, p);
                if (v->fd < 0) {
                        if (asprintf(&text, "%s is missing: %s", p->file, strerror(-v->fd)) < 0)
                                text = NULL;
                        verify_job_finish(v, false, text ?: "An image is missing.", NULL);
                        return 0;
                }
                v->part_done = 0;
                if (!EVP_DigestInit_ex(v->md, EVP_sha256(), NULL)) {
                        verify_job_fail(v, NULL, -EIO, "Cannot hash the images.");
                        return 0;
                }
                job_set_step(v->job, p->name);
        }
        k = read(v->fd, v->buf, VERIFY_CHUNK);
        if (k < 0) {
                if (errno != EINTR) {
                        int r = -errno;

                        verify_job_fail(v, NULL, r, "Cannot read %s of the backup: %s", p->file, strerror(-r));
                }
                return 0;
        }
        if (k > 0) {
                if (!EVP_DigestUpdate(v->md, v->buf, (size_t) k)) {
                        verify_job_fail(v, NULL, -EIO, "Cannot hash the images.");
                        return 0;
                }
                v->part_done += (uint64_t) k;
                job_add_bytes(v->job, (uint64_t) k);
                /* more than the manifest says: no need to read it all */
                if (v->part_done <= p->size)
                        return 0;
        }
        close(v->fd);
        v->fd = -EBADF;
        if (!EVP_DigestFinal_ex(v->md, sha, &len) || v->part_done != p->size || memcmp(sha, p->sha256, 32) != 0) {
                _cleanup_free_ char *text = NULL;

                if (asprintf(&text, "%s (%s) does not match the manifest: %s", p->name, p->file,
                             v->part_done != p->size ? "its size changed" : "its SHA-256 differs") < 0)
                        text = NULL;
                verify_job_finish(v, false, text ?: "An image does not match its hash.", NULL);
                return 0;
        }
        v->part++;
        return 0;
}

static int verify_job_on_cancel(Job *j, void *userdata) {
        verify_job_fail(userdata, MTKNV_ERROR_CANCELLED, 0, "The verification was cancelled.");
        return 0;
}

static void verify_job_on_abort(BusCall *c, int reason, void *userdata) {
        VerifyJob *v = userdata;

        if (reason == -ECANCELED) {
                verify_job_fail(v, MTKNV_ERROR_CANCELLED, 0, "mtknvd is stopping.");
                return;
        }
        /* this caller left; the others still want the answer */
        for (size_t i = 0; i < v->n_waiters; i++)
                if (v->waiters[i] == c) {
                        v->waiters[i] = v->waiters[--v->n_waiters];
                        break;
                }
        bus_call_free(c);
        if (v->n_waiters == 0) {
                log_info("Nobody waits for the verification of %s any more; stopping it.", v->backup->object_path);
                verify_job_finish(v, false, "Cancelled: every caller left.", NULL);
        }
}

static int verify_job_add_waiter(VerifyJob *v, BusCall *call) {
        BusCall **a;
        int r;

        a = reallocarray(v->waiters, v->n_waiters + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        v->waiters = a;
        r = bus_call_start(call, UINT64_MAX, verify_job_on_abort, v);
        if (r < 0)
                return r;
        v->waiters[v->n_waiters++] = call;
        return 0;
}

int verify_job_join(Manager *m, Backup *b, BusCall *call, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uint64_t total = 0;
        uid_t uid = 0;
        VerifyJob *v;
        int r;

        for (size_t i = 0; i < m->n_jobs; i++)
                if (m->jobs[i]->cancel == verify_job_on_cancel && streq(m->jobs[i]->device_path, b->object_path)) {
                        r = verify_job_add_waiter(m->jobs[i]->userdata, call);
                        if (r < 0)
                                return r;
                        log_debug("Verify of %s joins job %u.", b->object_path, m->jobs[i]->id);
                        return 0;
                }

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->manager = m;
        v->backup = b;
        b->users++; /* not deleted under the hashing */
        v->fd = -EBADF;
        v->md = EVP_MD_CTX_new();
        v->buf = malloc(VERIFY_CHUNK);
        if (!v->md || !v->buf) {
                verify_job_free(v);
                return -ENOMEM;
        }
        if (sd_bus_query_sender_creds(bus_call_message(call), SD_BUS_CREDS_EUID, &creds) >= 0)
                (void) sd_bus_creds_get_euid(creds, &uid);
        r = sd_event_add_defer(m->event, &v->step, verify_job_on_step, v);
        if (r >= 0)
                r = sd_event_source_set_enabled(v->step, SD_EVENT_ON);
        if (r >= 0)
                r = sd_event_source_set_priority(v->step, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = verify_job_add_waiter(v, call);
        if (r < 0) {
                verify_job_free(v);
                return r;
        }
        r = manager_new_job(m, "verify", b->object_path, uid, &v->job);
        if (r < 0) {
                v->n_waiters = 0; /* the call is the caller's again */
                verify_job_free(v);
                return r;
        }
        v->job->cancel = verify_job_on_cancel;
        v->job->userdata = v;
        for (size_t i = 0; i < b->info.manifest->n_parts; i++)
                total += b->info.manifest->parts[i].size;
        job_set_total(v->job, total);
        job_set_size(v->job, total);
        job_set_step(v->job, "verifying");
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "backup-op.h"
#include "device.h"
#include "job.h"
#include "log.h"
#include "mtknv-bus.h"
#include "request.h"
#include "restore-journal.h"
#include "restore-op.h"

struct Request {
        const RequestHost *host;
        RequestKind kind;
        Job *job;
        char *device_path;         /* NULL: the next phone plugged in */
        uid_t uid;
        ScatterFile *scatter;
        char *backup_path;         /* restore: the Backup object */
        unsigned flags;
        char *partitions;
        bool resume, rollback;
};

Request *request_free(Request *r) {
        if (!r)
                return NULL;
        if (r->host && r->host->gone)
                r->host->gone(r, r->host->userdata);
        if (r->job) {
                r->job->cancel = NULL;
                r->job->userdata = NULL;
        }
        scatter_file_free(r->scatter);
        free(r->device_path);
        free(r->backup_path);
        free(r->partitions);
        free(r);
        return NULL;
}

static int request_cancel(Job *j, void *userdata) {
        Request *r = userdata;

        r->job = NULL;
        request_free(r);
        job_complete(j, false, "Cancelled before the phone was there. Nothing was done.");
        return 0;
}

int request_new(const RequestHost *host, RequestKind kind, const char *device_path, uid_t uid, Request **ret) {
        _cleanup_(request_freep) Request *r = NULL;
        const OperationContext *ops = host->ops;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->kind = kind;
        r->uid = uid;
        if (device_path && !streq(device_path, "/")) {
                r->device_path = strdup(device_path);
                if (!r->device_path)
                        return -ENOMEM;
        }
        k = ops->new_job(kind == REQUEST_BACKUP ? "backup" : "restore", r->device_path, uid, ops->userdata,
                         &r->job);
        if (k < 0)
                return k;
        /* from here on its keeper knows it, and is told when it goes */
        r->host = host;
        r->job->cancel = request_cancel;
        r->job->userdata = r;
        job_set_step(r->job, r->device_path ? "waiting for the phone: power it off and plug it in" :
                                              "waiting for a phone: power it off and plug it in");
        *ret = TAKE_PTR(r);
        return 0;
}

Job *request_get_job(Request *r) {
        return r->job;
}

void request_set_scatter(Request *r, ScatterFile *scatter) {
        scatter_file_free(r->scatter);
        r->scatter = scatter;
}

int request_set_restore(Request *r, const char *backup_path, unsigned flags, const char *partitions, bool resume,
                        bool rollback) {
        r->backup_path = strdup(backup_path);
        if (!r->backup_path)
                return -ENOMEM;
        if (partitions) {
                r->partitions = strdup(partitions);
                if (!r->partitions)
                        return -ENOMEM;
        }
        r->flags = flags;
        r->resume = resume;
        r->rollback = rollback;
        return 0;
}

/* A restore for "the next phone" of a backup bound to one phone: is d that
 * phone?  Known once d is identified by its chip identity (a phone named by
 * its eMMC CID only is known after the DA runs: the restore checks it then). */
static bool request_restore_is_for(const Request *r, const Device *d) {
        _cleanup_free_ char *key = NULL;
        const BackupInfo *b;

        if (!d->identified || (d->identity.me_id_len == 0 && d->identity.soc_id_len == 0) || r->resume ||
            (r->flags & RESTORE_ALLOW_FOREIGN))
                return true;
        b = r->host->find_backup(r->backup_path, NULL, NULL, r->host->userdata);
        if (!b || device_make_id(&d->identity, d->usb_path, &key) < 0)
                return true; /* starting it tells why not */
        return streq(key, b->device_key);
}

bool request_wants(const Request *r, const Device *d) {
        if (r->device_path)
                return streq(r->device_path, d->object_path);
        /* any phone that appears, but not one booting after mtknvd let it go; a
         * restore waits for the phone its backup belongs to, letting others go */
        return !d->release_boot && (r->kind != REQUEST_RESTORE || request_restore_is_for(r, d));
}

void request_device_renamed(Request *r, const char *old_path, const char *new_path) {
        char *p;

        if (!r->device_path || !streq(r->device_path, old_path))
                return;
        p = strdup(new_path);
        if (!p)
                return (void) log_oom();
        free(r->device_path);
        r->device_path = p;
        if (r->job)
                job_set_device(r->job, new_path);
}

bool request_wants_any(const Request *r) {
        return !r->device_path;
}

/* Ends the request with its Job failed; the Job goes with it. */
void request_fail(Request *r, const char *message) {
        Job *j = r->job;

        r->job = NULL;
        request_free(r);
        if (j) {
                j->cancel = NULL;
                j->userdata = NULL;
                job_complete(j, false, message);
        }
}

static int request_start_restore(Request *r, Device *d, Job *job, sd_bus_error *error) {
        const RequestHost *h = r->host;
        _cleanup_free_ char *key = NULL;
        const char *bkey = NULL, *bid = NULL;
        RestoreJournal journal;
        unsigned flags = r->flags;
        const BackupInfo *b;

        if (r->resume) {
                if (device_make_id(&d->identity, d->usb_path, &key) < 0 ||
                    restore_journal_load(h->ops->state_dir, key, &journal) < 0)
                        return sd_bus_error_setf(error, MTKNV_ERROR_NO_JOURNAL,
                                                 "The phone %s has no interrupted restore to resume.",
                                                 d->object_path);
                if (streq(r->backup_path, "/")) {
                        bkey = r->rollback ? journal.snapshot_key : journal.backup_key;
                        bid = r->rollback ? journal.snapshot_id : journal.backup_id;
                }
                if (journal.foreign)
                        flags |= RESTORE_ALLOW_FOREIGN;
        }
        b = h->find_backup(bkey ? NULL : r->backup_path, bkey, bid, h->userdata);
        if (!b && bkey)
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP,
                                         "The backup %s/%s the restore journal names is gone.", bkey, bid);
        if (!b)
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP,
                                         "The backup %s is gone (deleted while waiting for the phone).",
                                         r->backup_path);
        if (r->resume && !(streq(b->device_key, journal.backup_key) && streq(b->backup_id, journal.backup_id)) &&
            !(streq(b->device_key, journal.snapshot_key) && streq(b->backup_id, journal.snapshot_id)))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The interrupted restore wrote %s/%s over snapshot %s/%s; resume it with "
                                         "one of these two.", journal.backup_key, journal.backup_id,
                                         journal.snapshot_key, journal.snapshot_id);
        return restore_op_start(h->ops, d, b, r->resume ? &journal : NULL, flags, r->partitions, r->uid, job, error);
}

bool request_start(Request *r, Device *d) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Job *job = r->job;
        int k;

        log_info("Starting the %s that waited for %s on %s.", r->kind == REQUEST_BACKUP ? "backup" : "restore",
                 r->device_path ?: "a phone", d->object_path);
        job_set_device(job, d->object_path);
        if (r->kind == REQUEST_BACKUP) {
                k = backup_op_start(r->host->ops, d, "manual", r->scatter, r->uid, job, &error);
                if (k >= 0)
                        r->scatter = NULL; /* the operation owns it now */
        } else
                k = request_start_restore(r, d, job, &error);
        if (k >= 0) {
                /* the Job lives on with the operation */
                r->job = NULL;
                request_free(r);
                return true;
        }
        request_fail(r, error.message ?: strerror(-k));
        return false;
}

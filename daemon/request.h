/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A Backup or Restore that waits for its phone.  SP Flash Tool users click
 * Readback and then plug the phone in; a preloader listens for a host for
 * only about two seconds, and mtknvd opens a phone only when something will
 * happen.  So a request made before the phone is there (or while it is left
 * alone) is kept, with a Job the caller can follow and cancel, and is started
 * once the phone it is for has been identified.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "backup-store.h"
#include "device.h"
#include "operation.h"
#include "scatter.h"

typedef enum RequestKind {
        REQUEST_BACKUP,
        REQUEST_RESTORE,
} RequestKind;

typedef struct Request Request;

/* Whoever keeps the requests (the manager). */
typedef struct RequestHost {
        const OperationContext *ops;        /* to start the operation, and make the Job */
        /* The stored backup at this object path, or (path NULL) with this
         * device key and id; NULL if there is none. */
        const BackupInfo *(*find_backup)(const char *path, const char *device_key, const char *backup_id,
                                         void *userdata);
        /* r is being freed: forget it */
        void (*gone)(Request *r, void *userdata);
        void *userdata;
} RequestHost;

/* A request for the phone at device_path ("/" or NULL: the next phone that
 * is plugged in).  Publishes its Job (step "waiting for the phone"); the
 * host keeps the request in its list until told it is gone. */
int request_new(const RequestHost *host, RequestKind kind, const char *device_path, uid_t uid, Request **ret);
Request *request_free(Request *r);
Job *request_get_job(Request *r);
/* Backup: the caller's scatter file (ownership passes). */
void request_set_scatter(Request *r, ScatterFile *scatter);
/* Restore: the Backup object ("/" with resume: what the phone's journal
 * names, its snapshot with rollback), RESTORE_* flags, the partition subset
 * (may be NULL). */
int request_set_restore(Request *r, const char *backup_path, unsigned flags, const char *partitions, bool resume,
                        bool rollback);

/* Is this request for d?  A request for "the next phone" takes any phone that
 * appears except one booting right after mtknvd let it go; a restore of a
 * backup bound to a phone (without allow-foreign) only that phone, once
 * identification names it. */
bool request_wants(const Request *r, const Device *d);
/* The phone it names has a new object path. */
void request_device_renamed(Request *r, const char *old_path, const char *new_path);
/* A request for the next phone plugged in, not for a named one. */
bool request_wants_any(const Request *r);
/* Start it on d (identified, State "ready").  The request is consumed: on
 * failure its Job completes with the reason.  Returns whether an operation
 * now runs on d. */
bool request_start(Request *r, Device *d);
/* The phone the request was for cannot be backed up: end the Job with why. */
void request_fail(Request *r, const char *message);

static inline void request_freep(Request **r) {
        if (*r)
                request_free(*r);
}

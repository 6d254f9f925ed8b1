/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every operation on a phone (a backup, a restore) shares: the one
 * "can mtknvd do this" gate, the BROM stage (SEND_DA, JUMP_DA), starting
 * the DA family's backend, finding the partition table, classifying a
 * failure into a message with cause and remedy, cancel, and the end (the
 * phone rebooted before the job reports).  backup-op.c and restore-op.c
 * build on it; neither sees which DA family runs.
 *
 * Each step continues in its own callback.  An operation ends exactly once,
 * through operation_fail() (now, with the session out of step),
 * operation_stop() (reboot first, then fail) or operation_finish() (reboot,
 * then succeed); the concrete operation's free hook then runs.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "backup-store.h"
#include "config.h"
#include "da-backend.h"
#include "da-store.h"
#include "device.h"
#include "job.h"
#include "macro.h"
#include "partition-table.h"
#include "preloader-store.h"
#include "scatter.h"

/* What an operation may use of the daemon around it, instead of the manager. */
typedef struct OperationContext {
        sd_event *event;                    /* for the operations' workers */
        BackupStore *store;
        const char *state_dir;
        char **identity_set;                /* the identity partitions' names */
        const char *identity_spec;          /* the same, as configured, for messages */
        AutoBackup auto_backup;
        DaStoreSources da_sources;
        /* a new Job for an operation that did not get one (it is published at once) */
        int (*new_job)(const char *operation, const char *device_path, uid_t uid, void *userdata, Job **ret);
        /* a backup was committed to the store: publish it (and make it the job's result) */
        void (*committed)(const char *device_key, const char *backup_id, Job *job, void *userdata);
        void *userdata;
} OperationContext;

/* The one gate for "can this version back up or restore this identified
 * phone": 0 yes (with *ret_da, the Download Agent to use, and in BROM mode
 * *ret_preloaders, the stored preloaders of the chip's EMI version, when
 * asked for);
 * 1 no, with *ret_name the error name (static) and *ret_message cause and
 * remedy (the caller frees it); < 0 out of memory. */
int operation_check_supported(const OperationContext *ctx, const BromIdentity *id, const char **ret_name,
                              char **ret_message, DaStoreMatch *ret_da, PreloaderSet *ret_preloaders);

typedef struct Operation Operation;

typedef struct OperationClass {
        const char *name;                   /* "backup", "restore": the Job's operation */
        /* The DA runs: op->storage and op->device_key are known. */
        void (*started)(Operation *op);
        /* op->table is known. */
        void (*table_known)(Operation *op);
        /* operation_fail(): add what the failure means for this operation
         * (may replace *message). */
        void (*explain_failure)(Operation *op, char **message);
        /* Every final message, success or not (may replace *message). */
        void (*amend_message)(Operation *op, char **message);
        /* The operation fails: drop work that must not be kept (an
         * uncommitted backup), before the Job reports. */
        void (*drop_work)(Operation *op);
        /* The phone vanished mid-operation: what that means for it, and what
         * to do ("Nothing was stored; plug it in again to retry."). */
        const char *(*gone_message)(Operation *op);
        /* Free the concrete operation that embeds op (after the Job ended). */
        void (*free)(Operation *op);
} OperationClass;

struct Operation {
        const OperationClass *class;
        const OperationContext *ctx;
        Device *device;
        Job *job;
        DaStoreMatch da;
        PreloaderSet preloaders;            /* BROM mode: where the DRAM settings may come from */
        const EmiBlock **emi;               /* their blocks, for the session */
        DaSession *session;
        const StorageInfo *storage;         /* the session's, once started */
        char *device_key;                   /* where this phone's backups live */
        PartitionTable *table;
        ScatterFile *scatter;               /* the caller's, when given */
        uint8_t *gpt;
        size_t gpt_len;
        char *gpt_error;                    /* why the GPT was not usable, when the vendor table is asked for */
        unsigned table_attempt;
        bool cancelled;
        bool rebooting;                     /* the reboot is on its way: too late to cancel */
        bool rebooted;                      /* the DA took the reboot: the phone boots */
        bool ended;
        const char *end_error;              /* after the reboot, fail with this error name */
        char *result;                       /* the final message, when it is not the default */
        bool tell_reboot;                   /* the result says whether the phone left download mode */
};

/* Starts op (embedded in a concrete operation whose own fields are set) on
 * d for job (NULL: a new one, from ctx): the state and support checks, the
 * DA file, SEND_DA.  On success op owns scatter (may be NULL) and the job,
 * and ends through the functions below.  On failure error says why and
 * nothing is taken: scatter and a job handed in stay the caller's, who
 * frees the concrete operation (operation_done() is not needed). */
int operation_start(Operation *op, const OperationClass *class, const OperationContext *ctx, Device *d,
                    ScatterFile *scatter, uid_t uid, Job *job, sd_bus_error *error);
/* Release op's own fields (the concrete free hook calls it). */
void operation_done(Operation *op);

/* Find the partition table: the caller's scatter file, the GPT, the
 * backend's vendor table; then class->table_known. */
void operation_find_table(Operation *op);

void operation_fail(Operation *op, const char *error_name, const char *fmt, ...) _printf_(3, 4);
void operation_stop(Operation *op, const char *error_name, const char *fmt, ...) _printf_(3, 4);
/* result: the job's message (NULL: "default", the class's own) */
void operation_finish(Operation *op, char *result);
/* A DA call failed (r < 0): the failure class says which error and remedy;
 * what: the step, for the message ("Reading the partition table"; NULL:
 * the operation as a whole). */
void operation_fail_da(Operation *op, int r, const char *what);
/* After each step: a cancelled operation ends here (true). */
bool operation_end_if_cancelled(Operation *op);
/* The error name for r: DeviceGone, Cancelled, or other. */
const char *operation_error_for(int r, const char *other);
void operation_set_step(Operation *op, const char *fmt, ...) _printf_(2, 3);

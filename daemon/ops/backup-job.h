/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "manager.h"
#include "restore-journal.h"
#include "scatter.h"

typedef struct Device Device;
typedef struct Job Job;

typedef struct BackupJob BackupJob;
typedef struct DaStoreMatch DaStoreMatch;

/* The one gate for "can this version back up or restore this identified
 * phone": 0 yes (with ret_da, the Download Agent to use); 1 no, with
 * *ret_name an error name (static) and *ret_message cause and remedy (the
 * caller frees it); < 0 out of memory. */
int operation_check_supported(Manager *m, Device *d, const char **ret_name, char **ret_message,
                              DaStoreMatch *ret_da);

/* Starts a backup of the identity partitions of d (State "ready").  job: the
 * Job of a request that waited for the phone, or NULL for a new one; on
 * failure it is left untouched for the caller to complete.  Takes
 * ownership of scatter (may be NULL: use the phone's own table).  On
 * failure to start, error says why and nothing is left behind. */
int backup_job_start(Manager *m, Device *d, const char *source, ScatterFile *scatter, uid_t uid, Job *job,
                     Job **ret_job, sd_bus_error *error);
#define RESTORE_DRY_RUN       (1u << 0)
#define RESTORE_ALLOW_FOREIGN (1u << 1)

/* Restore backup onto d (with journal: continue an interrupted restore, no
 * new snapshot; backup is then the journal's backup, or its snapshot to roll
 * back; partitions: a comma list restricting what is written, NULL: all): identity and layout checked, a pre-restore
 * snapshot taken, every partition written and read back, everything rolled
 * back on a mismatch; the phone reboots at the end. */
int restore_job_start(Manager *m, Device *d, const BackupInfo *backup, const RestoreJournal *journal, unsigned flags,
                      const char *partitions, uid_t uid, Job *job, Job **ret_job, sd_bus_error *error);
/* Without allow-foreign (flags), a backup must be bound to a phone by this
 * host's key: an error says why it is not.  Needs no phone. */
int restore_check_binding(const BackupInfo *backup, unsigned flags, sd_bus_error *error);
/* Are all of partitions (a comma list; NULL: all) in the backup?  Checked
 * when a restore is asked for, before it waits for its phone. */
int restore_check_partitions(const BackupInfo *backup, const char *partitions, sd_bus_error *error);
Job *backup_job_get_job(BackupJob *b);
/* The phone vanished: end the job now, before its session is freed. */
void backup_job_abort(BackupJob *b, const char *error_name, const char *message);

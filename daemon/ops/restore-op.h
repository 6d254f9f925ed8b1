/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restore: a backup written back onto its phone, never losing what was
 * there.  Identity and layout checked, a pre-restore snapshot taken (the
 * backup operation's own reading, backup-op.h), every partition written and
 * read back, everything rolled back on a mismatch; a journal on disk keeps
 * track so that an interrupted restore can be resumed or rolled back; the
 * phone reboots at the end.
 */
#pragma once

#include "backup-store.h"
#include "operation.h"
#include "restore-journal.h"

#define RESTORE_DRY_RUN       (1u << 0)
#define RESTORE_ALLOW_FOREIGN (1u << 1)

/* Restore backup onto d (with journal: continue an interrupted restore, no
 * new snapshot; backup is then the journal's backup, or its snapshot to roll
 * back; partitions: a comma list restricting what is written, NULL: all).
 * job: NULL for a new one.  On failure error says why and nothing is taken. */
int restore_op_start(const OperationContext *ctx, Device *d, const BackupInfo *backup, const RestoreJournal *journal,
                     unsigned flags, const char *partitions, uid_t uid, Job *job, sd_bus_error *error);
/* Without allow-foreign (flags), a backup must be bound to a phone by this
 * host's key: an error says why it is not.  Needs no phone. */
int restore_check_binding(const BackupInfo *backup, unsigned flags, sd_bus_error *error);
/* Are all of partitions (a comma list; NULL: all) in the backup?  Checked
 * when a restore is asked for, before it waits for its phone. */
int restore_check_partitions(const BackupInfo *backup, const char *partitions, sd_bus_error *error);

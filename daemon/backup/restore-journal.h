/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The restore journal: STATE/journal/<device-key>, written (atomically,
 * fsynced) before the first byte goes to the phone and removed only once
 * the phone verifiably holds one complete image set again.  A journal on
 * disk therefore means: this phone may hold a mix of the backup being
 * restored and its pre-restore snapshot; `mtknvctl restore --resume`
 * finishes the restore or rolls it back.
 *
 * Format: KEY=VALUE lines, like systemd's state files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RestoreJournal {
        char device_key[128];
        char backup_key[128], backup_id[64];       /* what is being written */
        char snapshot_key[128], snapshot_id[64];   /* the phone's contents before */
        char partitions[512];                      /* comma-separated, in write order */
        bool foreign;                              /* authorized as restore-foreign */
        bool rolling_back;                         /* writing the snapshot back */
        uint64_t started_usec;                     /* CLOCK_REALTIME */
} RestoreJournal;

int restore_journal_parse(const char *text, size_t len, RestoreJournal *ret);
int restore_journal_format(const RestoreJournal *j, char **ret);

int restore_journal_save(const char *state_dir, const RestoreJournal *j);
int restore_journal_remove(const char *state_dir, const char *device_key);
/* -ENOENT when there is none. */
int restore_journal_load(const char *state_dir, const char *device_key, RestoreJournal *ret);

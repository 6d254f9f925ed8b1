/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which stored backups may go: the checks a delete must pass (never the
 * only verified backup of a phone, never one a restore journal names) and
 * the retention policy of mtknvd.conf (KeepLast=, KeepPreRestoreDays=).
 * Pure functions over a listing, so the daemon and the unit tests decide
 * alike; deleting is backup_store_delete().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup-store.h"
#include "restore-journal.h"

typedef struct RetentionPolicy {
        uint64_t keep_last;              /* per phone and source (auto, manual, import); 0: all */
        uint64_t keep_pre_restore_usec;  /* pre-restore snapshots younger than this stay; 0: all */
} RetentionPolicy;

typedef enum BackupProtection {
        BACKUP_PROTECTION_NONE,
        BACKUP_PROTECTION_ONLY_VERIFIED,  /* the phone has no other verified backup */
        BACKUP_PROTECTION_JOURNAL,        /* an interrupted restore may need it */
} BackupProtection;

/* Whether a[i] may be deleted, all of a being the store's backups. */
BackupProtection backup_protection_of(const BackupInfo *a, size_t n, size_t i, const RestoreJournal *journals,
                                      size_t n_journals);

typedef struct RetentionVictim {
        size_t index;       /* into the listing */
        char reason[96];    /* "more than KeepLast=3 auto backups of this phone" */
} RetentionVictim;

/* What the policy deletes of a (in any order: "last" goes by when a backup
 * was stored: Created, or for an import its Imported time) at
 * now_usec (CLOCK_REALTIME): never a protected backup, and never the newest
 * verified one of a phone when all its verified ones would go.  The victims
 * come in the listing's order. */
int retention_select(const BackupInfo *a, size_t n, const RetentionPolicy *p, uint64_t now_usec,
                     const RestoreJournal *journals, size_t n_journals, RetentionVictim **ret, size_t *ret_n);

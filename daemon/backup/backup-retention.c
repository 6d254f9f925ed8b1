/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "backup-retention.h"
#include "macro.h"

static bool journal_names(const RestoreJournal *j, const BackupInfo *b) {
        return (streq(j->backup_key, b->device_key) && streq(j->backup_id, b->backup_id)) ||
               (streq(j->snapshot_key, b->device_key) && streq(j->snapshot_id, b->backup_id));
}

BackupProtection backup_protection_of(const BackupInfo *a, size_t n, size_t i, const RestoreJournal *journals,
                                      size_t n_journals) {
        for (size_t k = 0; k < n_journals; k++)
                if (journal_names(&journals[k], &a[i]))
                        return BACKUP_PROTECTION_JOURNAL;
        if (!a[i].manifest->verified)
                return BACKUP_PROTECTION_NONE;
        for (size_t k = 0; k < n; k++)
                if (k != i && a[k].manifest->verified && streq(a[k].device_key, a[i].device_key))
                        return BACKUP_PROTECTION_NONE;
        return BACKUP_PROTECTION_ONLY_VERIFIED;
}

/* The sources KeepLast= counts; pre-restore snapshots go by age instead. */
static bool source_counted(const char *source) {
        return streq(source, "auto") || streq(source, "manual") || streq(source, "import");
}

/* Newer: stored later (the id, a time stamp, breaks ties).  An import
 * keeps its archive's Created, which may be years back: it counts by when
 * it was imported, so the import just made is the newest of its kind and
 * never goes in the prune its own commit runs.  The listing's order is not
 * relied on: a backup published since start-up comes last. */
static bool newer(const BackupInfo *x, const BackupInfo *y) {
        uint64_t tx = manifest_stored_usec(x->manifest), ty = manifest_stored_usec(y->manifest);

        if (tx != ty)
                return tx > ty;
        return strcmp(x->backup_id, y->backup_id) > 0;
}

int retention_select(const BackupInfo *a, size_t n, const RetentionPolicy *p, uint64_t now_usec,
                     const RestoreJournal *journals, size_t n_journals, RetentionVictim **ret, size_t *ret_n) {
        _cleanup_free_ RetentionVictim *v = NULL;
        _cleanup_free_ bool *doomed = NULL;
        size_t n_v = 0;

        doomed = calloc(MAX(n, (size_t) 1), sizeof(bool));
        v = calloc(MAX(n, (size_t) 1), sizeof(RetentionVictim));
        if (!doomed || !v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const Manifest *mf = a[i].manifest;
                char reason[sizeof(v->reason)] = "";

                if (p->keep_last > 0 && source_counted(mf->source)) {
                        uint64_t n_newer = 0;

                        for (size_t k = 0; k < n; k++)
                                if (streq(a[k].device_key, a[i].device_key) && streq(a[k].manifest->source, mf->source) &&
                                    newer(&a[k], &a[i]))
                                        n_newer++;
                        if (n_newer >= p->keep_last)
                                snprintf(reason, sizeof(reason), "more than KeepLast=%" PRIu64 " %s backups of this phone",
                                         p->keep_last, mf->source);
                } else if (p->keep_pre_restore_usec > 0 && streq(mf->source, "pre-restore") &&
                           mf->created_usec + p->keep_pre_restore_usec <= now_usec)
                        snprintf(reason, sizeof(reason), "a pre-restore snapshot older than KeepPreRestoreDays=%" PRIu64,
                                 (uint64_t) (p->keep_pre_restore_usec / (24ULL * 3600ULL * 1000000ULL)));
                doomed[i] = reason[0] && backup_protection_of(a, n, i, journals, n_journals) == BACKUP_PROTECTION_NONE;
                if (doomed[i]) {
                        v[n_v].index = i;
                        memcpy(v[n_v].reason, reason, sizeof(reason));
                        n_v++;
                }
        }

        /* Each doomed backup may have other verified ones, yet all of them
         * may be doomed together: the newest verified one of a phone stays. */
        for (size_t i = 0; i < n; i++) {
                bool kept = false;
                size_t newest = i;

                if (!doomed[i] || !a[i].manifest->verified)
                        continue;
                for (size_t k = 0; k < n && !kept; k++) {
                        if (!a[k].manifest->verified || !streq(a[k].device_key, a[i].device_key))
                                continue;
                        kept = !doomed[k];
                        if (newer(&a[k], &a[newest]))
                                newest = k;
                }
                if (kept)
                        continue;
                doomed[newest] = false;
                for (size_t k = 0; k < n_v; k++)
                        if (v[k].index == newest) {
                                memmove(&v[k], &v[k + 1], (n_v - k - 1) * sizeof(RetentionVictim));
                                n_v--;
                                break;
                        }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n_v;
        return 0;
}

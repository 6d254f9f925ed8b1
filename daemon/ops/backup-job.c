/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main job: a verified, device-bound backup of the identity partitions.
 *
 *   SEND_DA/JUMP_DA (DA1) -> DA2 -> storage report -> partition table (GPT,
 *   else PMT, or the caller's scatter file) -> every identity partition read
 *   twice, both reads must hash the same -> atomic commit -> reboot.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backup-job.h"
#include "backup-store.h"
#include "da-legacy.h"
#include "da-store.h"
#include "device.h"
#include "identifier-reveal.h"
#include "identity-set.h"
#include "job.h"
#include "log.h"
#include "name-list.h"
#include "partition-table.h"
#include "restore-journal.h"
#include "scatter.h"

/* The GPT header and 128 entries fit in the first 0x4400 bytes; read a
 * little more so a 4 KiB-sector layout is covered too. */
#define GPT_READ_LEN 0x8000u
#define READ_ATTEMPTS 3

typedef enum BackupStep {
        BACKUP_SEND_DA,
        BACKUP_JUMP_DA,
        BACKUP_DA_START,
        BACKUP_READ_GPT,
        BACKUP_READ_PMT,
        BACKUP_READ_FIRST,
        BACKUP_READ_SECOND,
        BACKUP_WRITE,           /* restore: writing a partition */
        BACKUP_WRITE_VERIFY,    /* restore: reading it back */
        BACKUP_REBOOT,
        BACKUP_DONE,
} BackupStep;

struct BackupJob {
        Manager *manager;
        Device *device;
        Job *job;
        BackupStep step;
        char *source;                   /* auto | manual */
        DaStoreMatch da;
        DaLegacy *dal;
        PartitionTable *table;
        ScatterFile *scatter;           /* when the caller gave one */
        const Partition **parts;
        size_t n_parts, cur;
        unsigned attempt;
        uint8_t *gpt;
        size_t gpt_len;
        char *gpt_error;                /* why the GPT was not usable, when the PMT is asked for */
        BackupWriter *writer;
        EVP_MD_CTX *md;
        uint8_t sha_first[32];
        char *backup_id;
        char *device_key;
        char *error_name;
        char *error;
        bool cancelled;
        bool skipped;
        bool rebooted;                  /* the DA took the reboot: the phone boots */

        /* restore: the backup to write, its images, the pre-restore snapshot */
        Manifest *restore;
        uint8_t **images;
        uint8_t **snapshot;
        bool restoring, dry_run, allow_foreign, rolling_back, written_any;
        char *restore_key, *restore_id; /* the backup being written */
        bool resume;                    /* continuing a journaled restore: no new snapshot */
        bool rollback_requested;        /* resume by writing the snapshot back */
        RestoreJournal journal;
        bool journaled;                 /* a journal is on disk for this phone */
        char *result;                   /* final message when it is not the default */
        char *journal_problem;          /* a journal update that failed, and what it means: ends every message */
        const char *note;               /* appended to a successful restore's message */
        const char *end_error;          /* after the reboot, fail with this error name and result */
};

static void images_free(uint8_t **images, size_t n) {
        for (size_t i = 0; images && i < n; i++)
                free(images[i]);
        free(images);
}

static void backup_job_free(BackupJob *b) {
        if (!b)
                return;
        if (b->restore) {
                images_free(b->images, b->restore->n_parts);
                images_free(b->snapshot, b->restore->n_parts);
                manifest_free(b->restore);
        }
        free(b->result);
        free(b->journal_problem);
        free(b->restore_key);
        free(b->restore_id);
        da_legacy_free(b->dal);
        partition_table_free(b->table);
        scatter_file_free(b->scatter);
        free(b->parts);
        free(b->gpt);
        free(b->gpt_error);
        backup_writer_abort(b->writer);
        EVP_MD_CTX_free(b->md);
        da_store_match_done(&b->da);
        free(b->backup_id);
        free(b->device_key);
        free(b->error_name);
        free(b->error);
        free(b->source);
        free(b);
}

/* ------------------------------------------------------------ finishing */

static void backup_job_end(BackupJob *b, bool success, const char *message) {
        _cleanup_free_ char *full = NULL;
        Device *d = b->device;
        Job *j = b->job;

        if (b->journal_problem && asprintf(&full, "%s %s", message, b->journal_problem) >= 0)
                message = full;

        b->job = NULL;
        if (d->backup == b)
                d->backup = NULL;
        if (!success)
                device_fail_operation(d, b->error_name ?: "Failed", message, b->rebooted);
        else
                device_end_operation(d, b->rebooted);
        if (j)
                job_complete(j, success, message);
        backup_job_free(b);
}

static void backup_job_fail(BackupJob *b, const char *name, const char *fmt, ...) _printf_(3, 4);
static void backup_job_fail(BackupJob *b, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (b->restoring && b->journaled && msg) {
                /* the journal stays: say what it means and how to end it */
                char *full = NULL;

                if (asprintf(&full, "%s The restore was interrupted while writing, so the phone may hold a mix of "
                             "old and new data; the restore journal keeps track of it. Plug the phone in again "
                             "and run 'mtknvctl restore --resume' to finish the restore (or 'mtknvctl restore "
                             "--resume --rollback' to go back to the pre-restore snapshot %s/%s).",
                             msg, b->journal.snapshot_key, b->journal.snapshot_id) >= 0) {
                        free(msg);
                        msg = full;
                }
        }
        free(b->error_name);
        b->error_name = strdup(b->cancelled ? "Cancelled" : name);
        b->writer = backup_writer_abort(b->writer);
        backup_job_end(b, false, msg ?: name);
}

static const char *gone_or(int r, const char *other) {
        return r == -ENODEV ? "DeviceGone" : r == -ECANCELED ? "Cancelled" : other;
}

static void backup_reboot(BackupJob *b);

/* A check failed between two DA commands, with the DA idle and in step: the
 * job fails, but the phone is rebooted first so that it boots instead of
 * waiting in download mode.  name must be a string literal. */
static void backup_job_stop(BackupJob *b, const char *name, const char *fmt, ...) _printf_(3, 4);
static void backup_job_stop(BackupJob *b, const char *name, const char *fmt, ...) {
        char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        free(b->result);
        b->result = msg;
        b->end_error = name;
        b->writer = backup_writer_abort(b->writer);
        backup_reboot(b);
}

/* ------------------------------------------------------------ reading */

static void backup_on_da(DaLegacy *da, int r, void *userdata);
static void backup_cancelled(BackupJob *b);
static int restore_load_snapshot(BackupJob *b);
static int restore_write_partition(BackupJob *b);
static int restore_journal_write(BackupJob *b);

static int backup_on_data_first(DaLegacy *da, const uint8_t *data, size_t len, void *userdata) {
        BackupJob *b = userdata;

        if (b->cancelled)
                return -ECANCELED;
        if (!EVP_DigestUpdate(b->md, data, len))
                return -EIO;
        job_add_bytes(b->job, len);
        return 0;
}

static int backup_on_data_second(DaLegacy *da, const uint8_t *data, size_t len, void *userdata) {
        BackupJob *b = userdata;
        int r;

        if (b->cancelled)
                return -ECANCELED;
        r = backup_writer_write(b->writer, data, len);
        if (r < 0)
                return r;
        job_add_bytes(b->job, len);
        return 0;
}

static int backup_on_data_gpt(DaLegacy *da, const uint8_t *data, size_t len, void *userdata) {
        BackupJob *b = userdata;
        uint8_t *n;

        n = realloc(b->gpt, b->gpt_len + len);
        if (!n)
                return -ENOMEM;
        memcpy(n + b->gpt_len, data, len);
        b->gpt = n;
        b->gpt_len += len;
        return 0;
}

static int backup_read_partition(BackupJob *b) {
        const Partition *p = b->parts[b->cur];
        char step[128], canonical[64];
        int r;

        if (b->step == BACKUP_READ_FIRST) {
                snprintf(step, sizeof(step), "reading %s (%" PRIu64 " KiB)", p->name, p->size / 1024);
                job_set_step(b->job, step);
                if (!EVP_DigestInit_ex(b->md, EVP_sha256(), NULL))
                        return -EIO;
                return da_legacy_read(b->dal, p->region, p->offset, p->size, backup_on_data_first, backup_on_da, b);
        }
        snprintf(step, sizeof(step), "reading %s again to verify", p->name);
        job_set_step(b->job, step);
        /* stored under the canonical name (NVRAM, __NODL_NVRAM → nvram.img), as SP Flash Tool users know it */
        partition_name_canonical(p->name, canonical, sizeof(canonical));
        r = backup_writer_begin_partition(b->writer, canonical, p->region, p->offset, p->size);
        if (r < 0)
                return r;
        return da_legacy_read(b->dal, p->region, p->offset, p->size, backup_on_data_second, backup_on_da, b);
}

static int backup_begin_reading(BackupJob *b) {
        _cleanup_(manifest_freep) Manifest *h = NULL;
        const DaLegacyReport *rep = da_legacy_get_report(b->dal);
        const BromIdentity *id = &b->device->identity;
        uint64_t total = 0;
        int r;

        h = manifest_new();
        if (!h)
                return -ENOMEM;
        snprintf(h->source, sizeof(h->source), "%s", b->source);
        snprintf(h->chip, sizeof(h->chip), "%s", id->chip ? id->chip->name : "");
        h->hw_code = id->hw_code;
        brom_hex(id->me_id, id->me_id_len, h->me_id);
        brom_hex(id->soc_id, id->soc_id_len, h->soc_id);
        brom_hex(rep->cid, sizeof(rep->cid), h->emmc_cid);
        snprintf(h->device_key, sizeof(h->device_key), "%s", b->device_key);
        snprintf(h->table_source, sizeof(h->table_source), "%s", partition_source_to_string(b->table->source));

        for (size_t i = 0; i < b->n_parts; i++)
                total += (b->restoring ? 4 : 2) * b->parts[i]->size;
        job_set_total(b->job, total);

        r = backup_store_begin(b->manager->store, h, &b->writer);
        if (r < 0)
                return r;
        b->cur = 0;
        b->step = BACKUP_READ_FIRST;
        return backup_read_partition(b);
}

static int backup_select_partitions(BackupJob *b, char **ret_error) {
        _cleanup_free_ char *list = NULL;
        size_t n = 0;
        int r;

        free(b->parts);
        b->parts = NULL;
        if (b->restoring) {
                /* exactly the backup's partitions, where they were: no silent truncation or padding */
                b->parts = calloc(b->restore->n_parts + 1, sizeof(Partition *));
                if (!b->parts)
                        return -ENOMEM;
                for (size_t i = 0; i < b->restore->n_parts; i++) {
                        const ManifestPartition *mp = &b->restore->parts[i];
                        const Partition *p = partition_table_find(b->table, mp->name);

                        if (!p || p->size != mp->size ||
                            (mp->region != MANIFEST_REGION_ANY && (p->offset != mp->offset || p->region != mp->region)))
                                return -EXDEV;
                        b->parts[i] = p;
                }
                b->n_parts = b->restore->n_parts;
                return partition_table_check_selection(b->table, b->parts, b->n_parts, ret_error);
        }
        r = identity_set_select(b->table, b->manager->identity_set, &b->parts, &b->n_parts);
        if (r < 0)
                return r;
        if (b->n_parts == 0)
                return -ENOENT;
        r = partition_table_check_selection(b->table, b->parts, b->n_parts, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_parts; i++)
                n += strlen(b->parts[i]->name) + 2;
        list = calloc(1, n + 1);
        for (size_t i = 0; list && i < b->n_parts; i++) {
                if (i > 0)
                        strcat(list, ", ");
                strcat(list, b->parts[i]->name);
        }
        log_info("Identity partitions on %s (%s): %s", b->device->object_path,
                 partition_source_to_string(b->table->source), list ?: "?");
        return 0;
}

static void backup_after_table(BackupJob *b) {
        _cleanup_free_ char *err = NULL;
        int r;

        r = backup_select_partitions(b, &err);
        if (r == -ENOTUNIQ || r == -EFBIG)
                return backup_job_fail(b, "InvalidTable",
                                       "The phone's partition table cannot be used: %s. Nothing was read or "
                                       "written. Pass the phone's own scatter file with 'mtknvctl backup --scatter "
                                       "FILE'.", err ?: strerror(-r));
        if (r == -EXDEV)
                return backup_job_stop(b, "LayoutMismatch",
                                       "The phone's partitions are not where the backup's were (a partition is "
                                       "missing, moved or of another size). Nothing was written: images are never "
                                       "truncated or padded.");
        if (r >= 0 && b->restoring && b->dry_run) {
                free(b->result);
                if (asprintf(&b->result, "Dry run: the backup fits this phone; %zu partitions would be written "
                             "after a pre-restore snapshot. Nothing was written.", b->n_parts) < 0)
                        b->result = NULL;
                return backup_reboot(b);
        }
        if (r == -ENOENT)
                return backup_job_stop(b, "NoPartitions",
                                       "The phone's partition table (%s) has none of the identity partitions "
                                       "(%s). If this phone keeps them under other names, pass its scatter file "
                                       "with 'mtknvctl backup --scatter FILE'.",
                                       partition_source_to_string(b->table->source), b->manager->config.identity_spec);
        if (r < 0)
                return backup_job_fail(b, "Failed", "Cannot choose the partitions to back up: %s", strerror(-r));
        if (b->resume) {
                /* the phone holds a mix now: the snapshot that counts is the journal's */
                r = restore_load_snapshot(b);
                if (r < 0)
                        return backup_job_fail(b, "InvalidBackup", "The pre-restore snapshot %s/%s named by the "
                                               "restore journal cannot be read: %s.", b->journal.snapshot_key,
                                               b->journal.snapshot_id, strerror(-r));
                b->journaled = true;
                r = restore_journal_write(b);
                if (r < 0)
                        return backup_job_fail(b, "Failed", "Cannot update the restore journal: %s", strerror(-r));
                uint64_t total = 0;

                for (size_t i = 0; i < b->n_parts; i++)
                        total += 2 * b->parts[i]->size; /* written, read back */
                job_set_total(b->job, total);
                b->cur = 0;
                r = restore_write_partition(b);
                if (r < 0)
                        backup_on_da(b->dal, r, b);
                return;
        }
        r = backup_begin_reading(b);
        if (r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
                return backup_job_fail(b, "NoSpace", "No space left for the backup in %s: free some space and "
                                       "plug the phone in again.", b->manager->state_dir);
        if (r < 0)
                return backup_job_fail(b, "Failed", "Cannot start the backup: %s", strerror(-r));
}

static void backup_table_from_gpt(BackupJob *b) {
        const DaLegacyReport *rep = da_legacy_get_report(b->dal);
        _cleanup_free_ char *err = NULL;
        int r;

        r = gpt_parse(b->gpt, b->gpt_len, rep->user_size, &b->table, &err);
        if (r >= 0)
                return backup_after_table(b);

        log_info("No usable GPT on %s (%s); asking for a MediaTek PMT.", b->device->object_path, err ?: "?");
        free(b->gpt_error);
        b->gpt_error = TAKE_PTR(err);
        b->step = BACKUP_READ_PMT;
        job_set_step(b->job, "reading the partition table (PMT)");
        r = da_legacy_read_pmt(b->dal, backup_on_da, b);
        if (r < 0)
                backup_job_fail(b, gone_or(r, "ProtocolError"), "Cannot read the partition table: %s", strerror(-r));
}

/* ------------------------------------------------------------ restore */

static int restore_journal_write(BackupJob *b) {
        RestoreJournal *j = &b->journal;
        int r;

        if (!b->resume) {
                size_t off = 0;

                *j = (RestoreJournal) { .foreign = b->allow_foreign };
                snprintf(j->device_key, sizeof(j->device_key), "%s", b->device_key);
                snprintf(j->backup_key, sizeof(j->backup_key), "%s", b->restore_key);
                snprintf(j->backup_id, sizeof(j->backup_id), "%s", b->restore_id);
                snprintf(j->snapshot_key, sizeof(j->snapshot_key), "%s", b->device_key);
                snprintf(j->snapshot_id, sizeof(j->snapshot_id), "%s", b->backup_id);
                for (size_t i = 0; i < b->n_parts && off < sizeof(j->partitions); i++)
                        off += (size_t) snprintf(j->partitions + off, sizeof(j->partitions) - off, "%s%s",
                                                 i ? "," : "", b->restore->parts[i].name);
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                j->started_usec = (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
        }
        j->rolling_back = b->rolling_back;
        r = restore_journal_save(b->manager->state_dir, j);
        if (r < 0)
                return log_error_errno(r, "Cannot write the restore journal of %s: %m", b->device_key);
        b->journaled = true;
        device_emit_changed(b->device, "InterruptedRestore", NULL);
        return 0;
}

/* The phone holds one complete, verified image set again. */
static void restore_journal_done(BackupJob *b) {
        int r;

        if (!b->journaled)
                return;
        r = restore_journal_remove(b->manager->state_dir, b->journal.device_key);
        if (r < 0) {
                log_error_errno(r, "Cannot remove the restore journal of %s: %m", b->journal.device_key);
                free(b->journal_problem);
                if (asprintf(&b->journal_problem, "The restore journal %s/journal/%s could not be removed (%s), "
                             "so the phone will still be shown with an interrupted restore although it holds one "
                             "complete, verified image set: remove that file.", b->manager->state_dir,
                             b->journal.device_key, strerror(-r)) < 0)
                        b->journal_problem = NULL;
        }
        b->journaled = false;
        device_emit_changed(b->device, "InterruptedRestore", NULL);
}

/* Something went wrong with the phone still answering: put the snapshot back. */
static void restore_start_rollback(BackupJob *b) {
        int r;

        b->rolling_back = true;
        b->cur = 0;
        /* the rollback goes ahead regardless: putting the phone back matters most */
        r = restore_journal_write(b);
        if (r < 0) {
                free(b->journal_problem);
                if (asprintf(&b->journal_problem, "The restore journal could not be updated when the rollback "
                             "began (%s), so during the rollback it still said that backup %s/%s was being "
                             "written: had the rollback been interrupted, 'mtknvctl restore --resume' would have "
                             "written that backup again, and only 'mtknvctl restore --resume --rollback' the "
                             "snapshot.", strerror(-r), b->restore_key, b->restore_id) < 0)
                        b->journal_problem = NULL;
        }
        r = restore_write_partition(b);
        if (r < 0)
                backup_on_da(b->dal, r, b);
}

static int restore_load_snapshot(BackupJob *b) {
        BackupInfo info;
        int r;

        r = backup_store_load(b->manager->store, b->device_key, b->backup_id, &info);
        if (r < 0)
                return r;
        b->snapshot = calloc(b->restore->n_parts, sizeof(uint8_t *));
        if (!b->snapshot) {
                backup_info_done(&info);
                return -ENOMEM;
        }
        for (size_t i = 0; i < b->restore->n_parts && r >= 0; i++) {
                size_t len = 0;

                r = backup_store_read_image(b->manager->store, &info, b->restore->parts[i].name, &b->snapshot[i],
                                            &len);
                if (r >= 0 && len != b->restore->parts[i].size)
                        r = -EBADMSG;
        }
        backup_info_done(&info);
        return r;
}

static int restore_write_partition(BackupJob *b) {
        const Partition *p = b->parts[b->cur];
        const uint8_t *data = b->rolling_back ? b->snapshot[b->cur] : b->images[b->cur];
        char step[128];

        /* from the first write on, stopping halfway would leave a mix */
        job_set_cancelable(b->job, false);
        snprintf(step, sizeof(step), "%s %s", b->rolling_back ? "rolling back" : "writing", p->name);
        job_set_step(b->job, step);
        b->step = BACKUP_WRITE;
        b->written_any = true;
        return da_legacy_write(b->dal, p->region, p->offset, data, p->size, backup_on_da, b);
}

static void restore_partition_written(BackupJob *b) {
        const Partition *p = b->parts[b->cur];
        char step[128];
        int r;

        job_add_bytes(b->job, p->size);
        snprintf(step, sizeof(step), "reading %s back to verify", p->name);
        job_set_step(b->job, step);
        b->step = BACKUP_WRITE_VERIFY;
        if (!EVP_DigestInit_ex(b->md, EVP_sha256(), NULL))
                return backup_job_fail(b, "Failed", "SHA-256 failed");
        r = da_legacy_read(b->dal, p->region, p->offset, p->size, backup_on_data_first, backup_on_da, b);
        if (r < 0)
                backup_on_da(b->dal, r, b);
}

static void restore_partition_verified(BackupJob *b) {
        const Partition *p = b->parts[b->cur];
        uint8_t sha[32], want[32];
        unsigned len = 0;
        int r;

        if (!EVP_DigestFinal_ex(b->md, sha, &len))
                return backup_job_fail(b, "Failed", "SHA-256 failed");
        if (b->rolling_back)
                EVP_Digest(b->snapshot[b->cur], p->size, want, &len, EVP_sha256(), NULL);
        else
                memcpy(want, b->restore->parts[b->cur].sha256, 32);

        if (memcmp(sha, want, 32) != 0) {
                if (b->rolling_back && b->rollback_requested)
                        return backup_job_fail(b, "VerifyFailed",
                                               "%s did not verify after writing the pre-restore snapshot back: the "
                                               "phone's storage is failing.", p->name);
                if (b->rolling_back)
                        return backup_job_fail(b, "VerifyFailed",
                                               "%s did not verify after the restore, and the rollback of %s did not "
                                               "verify either: the phone's storage is failing. The pre-restore "
                                               "snapshot is backup %s/%s.",
                                               b->parts[0]->name, p->name, b->device_key, b->backup_id);
                log_warning("%s read back differently from what was written; rolling back.", p->name);
                free(b->result);
                if (asprintf(&b->result, "%s read back differently from what was written, so everything was rolled "
                             "back and verified: the phone is as it was before. The pre-restore snapshot is "
                             "backup %s/%s.", p->name, b->device_key, b->backup_id) < 0)
                        b->result = NULL;
                return restore_start_rollback(b);
        }

        if (++b->cur < b->n_parts) {
                r = restore_write_partition(b);
                if (r < 0)
                        backup_on_da(b->dal, r, b);
                return;
        }
        restore_journal_done(b);
        if (b->rolling_back && b->rollback_requested) {
                free(b->result);
                if (asprintf(&b->result, "Rolled back: the phone holds its pre-restore contents (snapshot %s/%s) "
                             "again, all %zu partitions verified.", b->journal.snapshot_key,
                             b->journal.snapshot_id, b->n_parts) < 0)
                        b->result = NULL;
                return backup_reboot(b);
        }
        if (b->rolling_back) {
                /* the phone is whole again: let it boot, then report the failed restore */
                b->end_error = "RolledBack";
                return backup_reboot(b);
        }

        free(b->result);
        if (asprintf(&b->result, "Restored %zu partitions from %s and read each back: all verified. The "
                     "pre-restore snapshot is backup %s/%s.%s%s", b->n_parts, b->restore->device_key,
                     b->journal.snapshot_key, b->journal.snapshot_id, b->note ? " " : "", b->note ?: "") < 0)
                b->result = NULL;
        backup_reboot(b);
}

static void backup_partition_done(BackupJob *b) {
        const Partition *p = b->parts[b->cur];
        uint8_t sha_first[32], sha_second[32];
        unsigned md_len = 0;
        int r;

        if (b->step == BACKUP_READ_FIRST) {
                if (!EVP_DigestFinal_ex(b->md, b->sha_first, &md_len))
                        return backup_job_fail(b, "Failed", "SHA-256 failed");
                b->step = BACKUP_READ_SECOND;
                r = backup_read_partition(b);
                if (r < 0)
                        return backup_job_fail(b, gone_or(r, "Failed"), "Cannot read %s: %s", p->name, strerror(-r));
                return;
        }

        memcpy(sha_first, b->sha_first, sizeof(sha_first));
        r = backup_writer_end_partition(b->writer, sha_second);
        if (r < 0)
                return backup_job_fail(b, r == -ENOSPC ? "NoSpace" : "Failed", "Cannot store %s: %s", p->name,
                                       strerror(-r));
        if (memcmp(sha_first, sha_second, sizeof(sha_first)) != 0) {
                if (++b->attempt < READ_ATTEMPTS) {
                        log_warning("%s read differently twice; starting the backup again (attempt %u).", p->name,
                                    b->attempt + 1);
                        b->writer = backup_writer_abort(b->writer);
                        r = backup_begin_reading(b);
                        if (r < 0)
                                backup_job_fail(b, "Failed", "Cannot restart the backup: %s", strerror(-r));
                        return;
                }
                return backup_job_stop(b, "VerifyFailed",
                                       "%s read back differently %u times; the phone's storage or the USB link is "
                                       "unreliable. Try another cable or port; no backup was stored.",
                                       p->name, READ_ATTEMPTS);
        }

        if (++b->cur < b->n_parts) {
                b->step = BACKUP_READ_FIRST;
                r = backup_read_partition(b);
                if (r < 0)
                        backup_job_fail(b, gone_or(r, "Failed"), "Cannot read %s: %s", b->parts[b->cur]->name,
                                        strerror(-r));
                return;
        }

        r = backup_writer_set_verified(b->writer, "read-twice");
        if (r >= 0)
                r = backup_writer_commit(b->writer, &b->backup_id);
        if (r < 0) {
                b->writer = backup_writer_abort(b->writer);
                return backup_job_fail(b, r == -ENOSPC || r == -EFBIG ? "NoSpace" : "Failed",
                                       "Cannot store the backup in %s: %s", b->manager->state_dir, strerror(-r));
        }
        b->writer = NULL; /* committed: nothing left to abort */
        manager_backup_added(b->manager, b->device_key, b->backup_id, b->job);

        if (b->restoring) {
                r = restore_load_snapshot(b);
                if (r < 0)
                        return backup_job_stop(b, "Failed", "Cannot read back the pre-restore snapshot %s: %s. "
                                               "Nothing was written.", b->backup_id, strerror(-r));
                r = restore_journal_write(b);
                if (r < 0)
                        return backup_job_stop(b, "Failed", "Cannot write the restore journal in %s: %s. Nothing "
                                               "was written.", b->manager->state_dir, strerror(-r));
                b->cur = 0;
                r = restore_write_partition(b);
                if (r < 0)
                        backup_on_da(b->dal, r, b);
                return;
        }

        backup_reboot(b);
}

/* The end of every successful session: the phone boots normally instead of
 * sitting in a dead-looking DA mode. */
static void backup_reboot(BackupJob *b) {
        int r;

        b->step = BACKUP_REBOOT;
        job_set_step(b->job, "rebooting the phone");
        r = da_legacy_reboot(b->dal, backup_on_da, b);
        if (r < 0)
                backup_on_da(b->dal, r, b);
}

static void backup_cancelled(BackupJob *b) {
        backup_job_fail(b, "Cancelled",
                        "Cancelled. Nothing was stored. The phone is still in download mode: unplug it.");
}

static void backup_on_da(DaLegacy *da, int r, void *userdata) {
        BackupJob *b = userdata;
        const char *detail = da_legacy_get_detail(da);
        char msg[512];

        if (b->cancelled && b->step != BACKUP_REBOOT)
                return backup_cancelled(b);
        if (r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
                return backup_job_fail(b, "NoSpace",
                                       "No space left for the backup in %s: free some space and plug the phone in "
                                       "again. Nothing was stored.", b->manager->state_dir);
        if (r == -EBADMSG && b->step == BACKUP_READ_GPT && ++b->attempt < READ_ATTEMPTS) {
                const DaLegacyReport *rep = da_legacy_get_report(da);

                log_warning("Checksum error reading the partition table (%s); reading it again.", detail);
                b->gpt = mfree(b->gpt);
                b->gpt_len = 0;
                r = da_legacy_read(da, DA_EMMC_REGION_USER, 0, MIN((uint64_t) GPT_READ_LEN, rep->user_size),
                                   backup_on_data_gpt, backup_on_da, b);
                if (r >= 0)
                        return;
        }

        if (r < 0 && (b->step == BACKUP_WRITE || b->step == BACKUP_WRITE_VERIFY) && !b->rolling_back &&
            r != -ENODEV && r != -ECANCELED) {
                log_warning("Writing %s failed (%s); rolling back.", b->parts[b->cur]->name, detail);
                free(b->result);
                if (asprintf(&b->result, "Writing %s failed (%s), so everything was rolled back and verified: the "
                             "phone is as it was before. The pre-restore snapshot is backup %s/%s.",
                             b->parts[b->cur]->name, detail[0] ? detail : strerror(-r), b->journal.snapshot_key,
                             b->journal.snapshot_id) < 0)
                        b->result = NULL;
                return restore_start_rollback(b);
        }
        if (r < 0 && b->step != BACKUP_REBOOT && !(b->step == BACKUP_READ_PMT && r == -ENOENT)) {
                if (r == -EBADMSG && (b->step == BACKUP_READ_FIRST || b->step == BACKUP_READ_SECOND) &&
                    ++b->attempt < READ_ATTEMPTS) {
                        log_warning("Checksum error (%s); starting the backup again.", detail);
                        b->writer = backup_writer_abort(b->writer);
                        r = backup_begin_reading(b);
                        if (r >= 0)
                                return;
                }
                if (b->step == BACKUP_DA_START && da_legacy_needs_emi(da))
                        return backup_job_fail(b, "NotSupported",
                                               "The phone is in BROM mode, where the Download Agent needs the DRAM "
                                               "settings of the phone's own preloader, which mtknvd cannot provide "
                                               "yet. Unplug it, power it off and plug it in again without holding "
                                               "any key, so that it starts in preloader mode.");
                if (r == -EBADMSG)
                        return backup_job_fail(b, "VerifyFailed",
                                               "Data from the phone kept arriving corrupted (%s). Try another cable "
                                               "or USB port; no backup was stored.", detail);
                snprintf(msg, sizeof(msg), "%s", detail[0] ? detail : strerror(-r));
                if (b->restoring && r == -ENODEV)
                        return backup_job_fail(b, "DeviceGone",
                                               b->journaled ? "The phone disconnected during the restore (%s)." :
                                                              "The phone disconnected before the restore wrote "
                                                              "anything (%s); it is as it was. Plug it in again to "
                                                              "retry.",
                                               msg);
                return backup_job_fail(b, gone_or(r, "ProtocolError"),
                                       r == -ENODEV ? "The phone disconnected during the backup (%s). Nothing was "
                                                      "stored; plug it in again to retry." :
                                       r == -ECANCELED ? "Cancelled (%s). Nothing was stored. The phone is still in "
                                                         "download mode: unplug it." :
                                                         "The backup failed: %s. Nothing was stored; unplug the "
                                                         "phone and plug it in again to retry.",
                                       msg);
        }

        switch (b->step) {
        case BACKUP_DA_START: {
                const DaLegacyReport *rep = da_legacy_get_report(da);

                log_info("DA running on %s: eMMC user area %" PRIu64 " MiB, USB %s.", b->device->object_path,
                         rep->user_size >> 20, rep->usb_speed ? "high speed" : "full speed");
                r = device_backup_key(b->device, rep->cid, &b->device_key);
                if (r < 0)
                        return backup_job_fail(b, "Failed", "Out of memory");
                if (b->resume && !streq(b->device_key, b->journal.device_key))
                        return backup_job_stop(b, "IdentityMismatch", "The restore journal belongs to phone %s, "
                                               "this is %s. Nothing was written.", b->journal.device_key,
                                               b->device_key);
                if (b->restoring && !b->allow_foreign && b->restore->emmc_cid[0]) {
                        char cid[2 * DA_EMMC_CID_LEN + 1], fp_backup[IDENTIFIER_FINGERPRINT_LEN],
                                fp_phone[IDENTIFIER_FINGERPRINT_LEN];

                        brom_hex(rep->cid, sizeof(rep->cid), cid);
                        /* fingerprints: the job's message is a signal everyone receives */
                        identifier_fingerprint(b->restore->emmc_cid, fp_backup);
                        identifier_fingerprint(cid, fp_phone);
                        if (!streq(cid, b->restore->emmc_cid))
                                return backup_job_stop(b, "IdentityMismatch",
                                                       "This backup was taken from another phone's storage (eMMC "
                                                       "CID fingerprint %s, this phone's is %s). Restoring it would "
                                                       "clone that phone's IMEI. A technician replacing the board "
                                                       "can override this with allow-foreign. Nothing was written.",
                                                       fp_backup, fp_phone);
                }
                if (streq(b->source, "auto") && b->manager->config.auto_backup == AUTO_BACKUP_FIRST_SEEN &&
                    backup_store_has_verified(b->manager->store, b->device_key)) {
                        /* known only now, from the eMMC CID: nothing to do but reboot */
                        b->skipped = true;
                        b->step = BACKUP_REBOOT;
                        job_set_step(b->job, "rebooting the phone (it already has a verified backup)");
                        r = da_legacy_reboot(da, backup_on_da, b);
                        if (r < 0)
                                backup_on_da(da, r, b);
                        return;
                }
                if (b->scatter) {
                        r = scatter_file_resolve(b->scatter, rep->user_size);
                        if (r < 0)
                                return backup_job_stop(b, "InvalidArgs", "The scatter file does not fit this phone's "
                                                       "storage (%" PRIu64 " bytes).", rep->user_size);
                        b->table = scatter_file_take_table(b->scatter);
                        return backup_after_table(b);
                }
                b->step = BACKUP_READ_GPT;
                job_set_step(b->job, "reading the partition table");
                r = da_legacy_read(da, DA_EMMC_REGION_USER, 0, MIN((uint64_t) GPT_READ_LEN, rep->user_size),
                                   backup_on_data_gpt, backup_on_da, b);
                if (r < 0)
                        backup_job_fail(b, gone_or(r, "ProtocolError"), "Cannot read the partition table: %s",
                                        strerror(-r));
                return;
        }
        case BACKUP_READ_GPT:
                return backup_table_from_gpt(b);

        case BACKUP_READ_PMT: {
                const DaLegacyReport *rep = da_legacy_get_report(da);
                _cleanup_free_ uint8_t *pmt = NULL;
                _cleanup_free_ char *err = NULL;
                size_t len = 0;

                if (r < 0 || da_legacy_take_pmt(da, &pmt, &len) < 0 ||
                    pmt_parse(pmt, len, rep->user_size, &b->table, &err) < 0)
                        return backup_job_stop(b, "NoPartitions",
                                               "The phone has neither a valid GPT (%s) nor a MediaTek PMT (%s). Pass "
                                               "its scatter file with 'mtknvctl backup --scatter FILE'.",
                                               b->gpt_error ?: "?", err ?: (r < 0 && detail[0] ? detail : "none"));
                return backup_after_table(b);
        }
        case BACKUP_READ_FIRST:
        case BACKUP_READ_SECOND:
                return backup_partition_done(b);

        case BACKUP_WRITE:
                return restore_partition_written(b);

        case BACKUP_WRITE_VERIFY:
                return restore_partition_verified(b);

        case BACKUP_REBOOT: {
                char done[256];

                if (r < 0)
                        log_warning("The phone did not take the reboot command (%s); unplug it.", detail);
                b->rebooted = r >= 0;
                if (b->end_error) {
                        free(b->error_name);
                        b->error_name = strdup(b->end_error);
                        return backup_job_end(b, false, b->result ?: "Rolled back.");
                }
                if (b->result && b->restoring && b->dry_run) {
                        /* "nothing was written" does not say the phone left download mode */
                        char *full = NULL;

                        if (asprintf(&full, "%s %s", b->result,
                                     r < 0 ? "The phone did not take the reboot command; unplug it to leave "
                                             "download mode."
                                           : "The phone was rebooted; it boots normally.") >= 0) {
                                free(b->result);
                                b->result = full;
                        }
                }
                if (b->result)
                        return backup_job_end(b, true, b->result);
                if (b->skipped)
                        snprintf(done, sizeof(done), "The phone %s already has a verified backup.", b->device_key);
                else
                        snprintf(done, sizeof(done), "Backup %s/%s stored and verified (%zu partitions).",
                                 b->device_key, b->backup_id, b->n_parts);
                return backup_job_end(b, true, done);
        }
        default:
                return backup_job_fail(b, "Failed", "internal error: step %d", b->step);
        }
}

/* ------------------------------------------------------------ BROM stage */

static void backup_on_brom(BromSession *s, int r, void *userdata) {
        BackupJob *b = userdata;
        const DaRegion *region;
        const uint8_t *data;

        if (b->cancelled)
                return backup_cancelled(b);
        if (r < 0) {
                const char *detail = brom_session_get_detail(s);

                if (brom_session_get_failure(s) == BROM_FAILURE_REFUSED)
                        return backup_job_fail(b, "DaRejected",
                                               "The phone refused the Download Agent from %s (%s). SP Flash Tool "
                                               "reports this as 0xC0060003 \"Brom cmd send da failed\". The phone "
                                               "probably enforces a signed DA (secure boot/DAA) or needs the "
                                               "manufacturer's authorisation (SLA): use the DA from this phone's "
                                               "own firmware package (mtknvctl add-da FILE).",
                                               b->da.name, detail);
                return backup_job_fail(b, gone_or(r, "ProtocolError"),
                                       r == -ENODEV ? "The phone disconnected while the Download Agent was being "
                                                      "sent (%s). Plug it in again to retry." :
                                                      "Sending the Download Agent failed: %s. Unplug the phone and "
                                                      "plug it in again.",
                                       detail);
        }

        switch (b->step) {
        case BACKUP_SEND_DA:
                b->step = BACKUP_JUMP_DA;
                da_entry_get_stage(b->da.file, b->da.entry, 1, &data, &region);
                r = brom_session_jump_da(s, region->start_addr, backup_on_brom, b);
                break;
        case BACKUP_JUMP_DA:
                b->step = BACKUP_DA_START;
                job_set_step(b->job, "starting the Download Agent");
                r = da_legacy_new(b->device->link, &b->device->identity, &b->dal);
                if (r >= 0) {
                        da_entry_get_stage(b->da.file, b->da.entry, 2, &data, &region);
                        r = da_legacy_start(b->dal, data, region->length, region->start_addr, backup_on_da, b);
                }
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                backup_job_fail(b, gone_or(r, "ProtocolError"), "Cannot continue the backup: %s", strerror(-r));
}

static int backup_job_cancel(Job *j, void *userdata) {
        BackupJob *b = userdata;

        if (b->step == BACKUP_REBOOT)
                return -EBUSY;
        b->cancelled = true;
        if (b->dal)
                da_legacy_cancel(b->dal);
        else if (b->device->brom)
                brom_session_cancel(b->device->brom);
        return 0;
}

int operation_check_supported(Manager *m, Device *d, const char **ret_name, char **ret_message,
                              DaStoreMatch *ret_da) {
        const BromIdentity *id = &d->identity;
        DaStoreMatch da = {};
        char *msg = NULL;
        int r;

        if (!id->chip) {
                *ret_name = "UnknownChip";
                r = asprintf(&msg, "Unknown chip: hw code 0x%04x (sub code 0x%04x, hw version 0x%04x, sw version "
                             "0x%04x) is not in mtknvd's chip table, so it cannot be backed up. Please report these "
                             "values together with the phone's model.",
                             id->hw_code, id->hw_sub_code, id->hw_version, id->sw_version);
        } else if (chip_unsupported_reason(id->chip)) {
                *ret_name = "NotSupported";
                r = asprintf(&msg, "%s: %s", id->chip->name, chip_unsupported_reason(id->chip));
        } else if (id->target_config & BROM_TGT_CFG_SLA) {
                *ret_name = "AuthRequired";
                r = asprintf(&msg, "The phone requires serial-link authentication (SLA): the boot ROM accepts a "
                             "Download Agent only after a challenge signed with the manufacturer's key, which "
                             "mtknvd does not have. The manufacturer's service tool (or SP Flash Tool with its "
                             "authentication file) can back it up.");
        } else if (brom_da_unsupported_reason(id)) {
                *ret_name = "NotSupported";
                r = asprintf(&msg, "%s", brom_da_unsupported_reason(id));
        } else if (da_store_find(m, id->chip->da_code, id->hw_version, id->sw_version, &da) < 0) {
                *ret_name = "NoDownloadAgent";
                r = asprintf(&msg, "No Download Agent for %s (DA code 0x%04x, hw version 0x%04x, sw version "
                             "0x%04x) is installed. Add the MTK_AllInOne_DA.bin from the phone's firmware package "
                             "with 'mtknvctl add-da FILE', then plug the phone in again.",
                             id->chip->name, id->chip->da_code, id->hw_version, id->sw_version);
        } else {
                if (ret_da)
                        *ret_da = da;
                else
                        da_store_match_done(&da);
                *ret_name = NULL;
                *ret_message = NULL;
                return 0;
        }
        if (r < 0)
                return -ENOMEM;
        *ret_message = msg;
        return 1;
}

/* Both operations start the same way: DA upload, then the table.  job: the
 * Job of a request that waited for this phone (NULL: a new one). */
static int operation_start(Manager *m, Device *d, const char *operation, const char *source, ScatterFile *scatter,
                           Manifest *restore, uint8_t **images, unsigned flags, uid_t uid, Job *job,
                           Job **ret_job, sd_bus_error *error) {
        _cleanup_free_ char *why = NULL;
        const char *why_name;
        BackupJob *b;
        const DaRegion *region;
        const uint8_t *data;
        int r;

        if (!d->present || d->state != DEVICE_READY || !d->brom || !d->link)
                return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                         "The phone is %s; a backup needs a phone that is connected and identified "
                                         "(State \"ready\").", device_state_to_string(d->state));

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        r = operation_check_supported(m, d, &why_name, &why, &b->da);
        if (r != 0) {
                free(b);
                if (r < 0)
                        return r;
                char name[128];

                snprintf(name, sizeof(name), MTKNV_ERROR_PREFIX "%s", why_name);
                return sd_bus_error_setf(error, name, "%s", why);
        }
        b->manager = m;
        b->device = d;
        b->restore = restore;
        b->images = images;
        b->restoring = restore != NULL;
        b->dry_run = flags & RESTORE_DRY_RUN;
        b->allow_foreign = flags & RESTORE_ALLOW_FOREIGN;
        b->source = strdup(source);
        b->md = EVP_MD_CTX_new();
        if (!b->source || !b->md) {
                b->restore = NULL;
                b->images = NULL;
                backup_job_free(b);
                return -ENOMEM;
        }
        b->scatter = scatter;

        if (job) {
                b->job = job;
                job_set_device(job, d->object_path);
        } else {
                r = job_new(m, operation, d->object_path, uid, &b->job);
                if (r < 0) {
                        b->scatter = NULL;
                        b->restore = NULL;
                        b->images = NULL;
                        backup_job_free(b);
                        return r;
                }
        }
        b->job->cancel = backup_job_cancel;
        b->job->userdata = b;
        d->backup = b;
        device_begin_operation(d);

        job_set_step(b->job, "sending the Download Agent");
        b->step = BACKUP_SEND_DA;
        da_entry_get_stage(b->da.file, b->da.entry, 1, &data, &region);
        r = brom_session_send_da(d->brom, region->start_addr, data, region->length, region->sig_len, backup_on_brom, b);
        if (r < 0) {
                /* Ownership passes on success only: the caller's inputs, and a
                 * job it handed in, stay the caller's. */
                char msg[128];

                snprintf(msg, sizeof(msg), "Cannot send the Download Agent: %s", strerror(-r));
                b->scatter = NULL;
                b->restore = NULL;
                b->images = NULL;
                d->backup = NULL;
                b->job->cancel = NULL;
                b->job->userdata = NULL;
                if (!job)
                        job_complete(b->job, false, msg);
                b->job = NULL;
                backup_job_free(b);
                device_fail_operation(d, gone_or(r, "ProtocolError"), msg, false);
                return sd_bus_error_setf(error, MTKNV_ERROR_PROTOCOL_ERROR, "%s", msg);
        }
        *ret_job = b->job;
        return 0;
}

int backup_job_start(Manager *m, Device *d, const char *source, ScatterFile *scatter, uid_t uid, Job *job,
                     Job **ret_job, sd_bus_error *error) {
        return operation_start(m, d, "backup", source, scatter, NULL, NULL, 0, uid, job, ret_job, error);
}

/* Keep only the named partitions of mf (a comma list; NULL: all). */
static int restore_select_subset(Manifest *mf, const char *only, const BackupInfo *backup, sd_bus_error *error) {
        size_t k = 0;

        if (!only)
                return 0;
        for (const char *p = only; *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t) (c - p) : strlen(p);
                bool found = false;

                for (size_t i = 0; i < mf->n_parts; i++)
                        found = found || (strlen(mf->parts[i].name) == len && memcmp(mf->parts[i].name, p, len) == 0);
                if (!found)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Backup %s/%s has no partition \"%.*s\".", backup->device_key,
                                                 backup->backup_id, (int) len, p);
                p = c ? c + 1 : p + len;
        }
        for (size_t i = 0; i < mf->n_parts; i++)
                if (name_list_joined_contains(only, mf->parts[i].name))
                        mf->parts[k++] = mf->parts[i];
        mf->n_parts = k;
        return k > 0 ? 0 : sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No partitions to restore.");
}

int restore_check_binding(const BackupInfo *backup, unsigned flags, sd_bus_error *error) {
        if (flags & RESTORE_ALLOW_FOREIGN)
                return 0;
        if (!manifest_has_identity(backup->manifest))
                return sd_bus_error_setf(error, MTKNV_ERROR_IDENTITY_MISMATCH,
                                         "Backup %s/%s is not bound to any phone (imported). Restoring it needs "
                                         "allow-foreign and the restore-foreign authorization.",
                                         backup->device_key, backup->backup_id);
        /* an identity counts only if this host's key vouches for it: a manifest is easy to edit */
        if (!backup_info_is_bound(backup))
                return sd_bus_error_setf(error, MTKNV_ERROR_IDENTITY_MISMATCH,
                                         "Backup %s/%s is not bound to any phone: %s. Its identity cannot be "
                                         "trusted, so restoring it needs allow-foreign and the restore-foreign "
                                         "authorization.",
                                         backup->device_key, backup->backup_id, backup_binding_explain(backup->binding));
        return 0;
}

int restore_check_partitions(const BackupInfo *backup, const char *partitions, sd_bus_error *error) {
        _cleanup_(manifest_freep) Manifest *mf = NULL;

        if (!partitions)
                return 0;
        mf = manifest_new();
        if (!mf)
                return -ENOMEM;
        /* a scratch copy of the part list only: restore_select_subset() narrows it */
        mf->parts = malloc(backup->manifest->n_parts * sizeof(ManifestPartition) + 1);
        if (!mf->parts)
                return -ENOMEM;
        memcpy(mf->parts, backup->manifest->parts, backup->manifest->n_parts * sizeof(ManifestPartition));
        mf->n_parts = backup->manifest->n_parts;
        return restore_select_subset(mf, partitions, backup, error);
}

int restore_job_start(Manager *m, Device *d, const BackupInfo *backup, const RestoreJournal *journal, unsigned flags,
                      const char *partitions, uid_t uid, Job *job, Job **ret_job, sd_bus_error *error) {
        _cleanup_(manifest_freep) Manifest *mf = NULL;
        const Manifest *src = backup->manifest;
        char me_id[2 * BROM_ID_MAX_LEN + 1], soc_id[2 * BROM_ID_MAX_LEN + 1];
        uint8_t **images;
        BackupJob *b;
        int r;

        /* a journaled restore was authorized (and identity-checked) when it began */
        if (journal && journal->foreign)
                flags |= RESTORE_ALLOW_FOREIGN;
        /* The identity check comes first: another phone's IMEI must not be cloned. */
        brom_hex(d->identity.me_id, d->identity.me_id_len, me_id);
        brom_hex(d->identity.soc_id, d->identity.soc_id_len, soc_id);
        if (!(flags & RESTORE_ALLOW_FOREIGN)) {
                r = restore_check_binding(backup, flags, error);
                if (r < 0)
                        return r;
                if ((src->me_id[0] && me_id[0] && !streq(src->me_id, me_id)) ||
                    (src->soc_id[0] && soc_id[0] && !streq(src->soc_id, soc_id)))
                        return sd_bus_error_setf(error, MTKNV_ERROR_IDENTITY_MISMATCH,
                                                 "Backup %s/%s belongs to another phone (ME ID %s; this phone is %s). "
                                                 "Restoring it would clone that phone's IMEI, which is illegal in "
                                                 "many countries. A technician moving a board's identity can "
                                                 "override this with allow-foreign and the restore-foreign "
                                                 "authorization.",
                                                 backup->device_key, backup->backup_id, src->me_id[0] ? src->me_id : "-",
                                                 me_id[0] ? me_id : "-");
        }

        mf = manifest_new();
        if (!mf)
                return -ENOMEM;
        *mf = *src;
        mf->parts = malloc(src->n_parts * sizeof(ManifestPartition));
        if (!mf->parts)
                return -ENOMEM;
        memcpy(mf->parts, src->parts, src->n_parts * sizeof(ManifestPartition));
        /* a resumed restore writes exactly what the interrupted one was writing */
        r = restore_select_subset(mf, journal ? journal->partitions : partitions, backup, error);
        if (r < 0)
                return r;

        /* into memory, each checked against its hash, before the phone is touched */
        images = calloc(mf->n_parts, sizeof(uint8_t *));
        if (!images)
                return -ENOMEM;
        for (size_t i = 0; i < mf->n_parts; i++) {
                uint8_t sha[32];
                unsigned len = 0;
                size_t size = 0;

                r = backup_store_read_image(m->store, backup, mf->parts[i].name, &images[i], &size);
                if (r >= 0 && (size != mf->parts[i].size ||
                               !EVP_Digest(images[i], size, sha, &len, EVP_sha256(), NULL) ||
                               memcmp(sha, mf->parts[i].sha256, 32) != 0))
                        r = -EBADMSG;
                if (r < 0) {
                        images_free(images, mf->n_parts);
                        return sd_bus_error_setf(error, MTKNV_ERROR_INVALID_BACKUP,
                                                 "Backup %s/%s is damaged: %s does not match its manifest. Nothing "
                                                 "was written.", backup->device_key, backup->backup_id,
                                                 mf->parts[i].file);
                }
        }

        r = operation_start(m, d, "restore", "pre-restore", NULL, mf, images, flags, uid, job, ret_job, error);
        if (r < 0) {
                images_free(images, mf->n_parts);
                return r;
        }
        TAKE_PTR(mf);
        b = (*ret_job)->userdata;
        b->restore_key = strdup(backup->device_key);
        b->restore_id = strdup(backup->backup_id);
        if (!b->restore_key || !b->restore_id)
                log_oom();
        if (!journal && partitions &&
            name_list_joined_contains(partitions, "nvram") != name_list_joined_contains(partitions, "nvdata"))
                b->note = "Warning: only one of nvram and nvdata was restored; they belong together (nvdata holds "
                          "the calibration nvram's files refer to), so the phone may not get its IMEI or network "
                          "back until both come from the same backup.";
        if (journal) {
                b->resume = true;
                b->journal = *journal;
                b->backup_id = strdup(journal->snapshot_id);
                if (!b->backup_id)
                        log_oom();
                if (streq(backup->device_key, journal->snapshot_key) && streq(backup->backup_id, journal->snapshot_id))
                        b->rolling_back = b->rollback_requested = true;
        }
        return 0;
}

Job *backup_job_get_job(BackupJob *b) {
        return b->job;
}

void backup_job_abort(BackupJob *b, const char *error_name, const char *message) {
        /* Free the DA session first: the device is about to free the link. */
        b->dal = da_legacy_free(b->dal);
        if (!message)
                /* the phone vanished: what that means depends on what was happening */
                message = !b->restoring ? "The phone was unplugged during the backup. Nothing was stored; plug it "
                                          "in again to retry." :
                          b->journaled ? "The phone was unplugged during the restore." :
                                         "The phone was unplugged before the restore wrote anything; it is as it "
                                         "was. Plug it in again to retry.";
        backup_job_fail(b, error_name, "%s", message);
}

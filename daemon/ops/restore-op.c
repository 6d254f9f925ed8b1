/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 *   (operation.h: DA up, table) -> identity and layout checks -> snapshot
 *   (backup-op.h) -> journal -> per partition: write, read back, compare ->
 *   journal removed -> reboot.  A mismatch or a failed write rolls every
 *   written partition back to the snapshot and verifies that too.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backup-op.h"
#include "identifier-reveal.h"
#include "log.h"
#include "mtknv-bus.h"
#include "name-list.h"
#include "restore-op.h"

typedef struct RestoreOp {
        BackupOp backup;                /* first: the snapshot is a backup; its Operation is ours */
        Manifest *restore;              /* the backup being written: its partitions */
        uint8_t **images;
        uint8_t **snapshot;
        size_t cur;
        bool verifying;                 /* reading parts[cur] back after writing it */
        bool dry_run, allow_foreign, rolling_back;
        char *restore_key, *restore_id; /* the backup being written */
        bool resume;                    /* continuing a journaled restore: no new snapshot */
        bool rollback_requested;        /* resume by writing the snapshot back */
        RestoreJournal journal;
        bool journaled;                 /* a journal is on disk for this phone */
        char *journal_problem;          /* a journal update that failed, and what it means: ends every message */
        const char *note;               /* appended to a successful restore's message */
} RestoreOp;

static RestoreOp *restore_of(Operation *op) {
        return container_of(op, RestoreOp, backup.op);
}

static void images_free(uint8_t **images, size_t n) {
        for (size_t i = 0; images && i < n; i++)
                free(images[i]);
        free(images);
}

_printf_(1, 2) static char *restore_format(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

/* ------------------------------------------------------------ the journal */

static int restore_journal_write(RestoreOp *ro) {
        Operation *op = &ro->backup.op;
        RestoreJournal *j = &ro->journal;
        int r;

        if (!ro->resume) {
                size_t off = 0;
                struct timespec ts;

                *j = (RestoreJournal) { .foreign = ro->allow_foreign };
                snprintf(j->device_key, sizeof(j->device_key), "%s", op->device_key);
                snprintf(j->backup_key, sizeof(j->backup_key), "%s", ro->restore_key);
                snprintf(j->backup_id, sizeof(j->backup_id), "%s", ro->restore_id);
                snprintf(j->snapshot_key, sizeof(j->snapshot_key), "%s", op->device_key);
                snprintf(j->snapshot_id, sizeof(j->snapshot_id), "%s", ro->backup.backup_id);
                for (size_t i = 0; i < ro->backup.n_parts && off < sizeof(j->partitions); i++)
                        off += (size_t) snprintf(j->partitions + off, sizeof(j->partitions) - off, "%s%s",
                                                 i ? "," : "", ro->restore->parts[i].name);
                clock_gettime(CLOCK_REALTIME, &ts);
                j->started_usec = (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
        }
        j->rolling_back = ro->rolling_back;
        r = restore_journal_save(op->ctx->state_dir, j);
        if (r < 0)
                return log_error_errno(r, "Cannot write the restore journal of %s: %m", op->device_key);
        ro->journaled = true;
        device_notify(op->device, "InterruptedRestore", NULL);
        return 0;
}

/* The phone holds one complete, verified image set again. */
static void restore_journal_done(RestoreOp *ro) {
        Operation *op = &ro->backup.op;
        int r;

        if (!ro->journaled)
                return;
        r = restore_journal_remove(op->ctx->state_dir, ro->journal.device_key);
        if (r < 0) {
                log_error_errno(r, "Cannot remove the restore journal of %s: %m", ro->journal.device_key);
                free(ro->journal_problem);
                ro->journal_problem = restore_format(
                        "The restore journal %s/journal/%s could not be removed (%s), so the phone will still be "
                        "shown with an interrupted restore although it holds one complete, verified image set: "
                        "remove that file.", op->ctx->state_dir, ro->journal.device_key, strerror(-r));
        }
        ro->journaled = false;
        device_notify(op->device, "InterruptedRestore", NULL);
}

static int restore_load_snapshot(RestoreOp *ro, const char *backup_id) {
        Operation *op = &ro->backup.op;
        BackupInfo info;
        int r;

        r = backup_store_load(op->ctx->store, op->device_key, backup_id, &info);
        if (r < 0)
                return r;
        ro->snapshot = calloc(ro->restore->n_parts, sizeof(uint8_t *));
        if (!ro->snapshot) {
                backup_info_done(&info);
                return -ENOMEM;
        }
        for (size_t i = 0; i < ro->restore->n_parts && r >= 0; i++) {
                size_t len = 0;

                r = backup_store_read_image(op->ctx->store, &info, ro->restore->parts[i].name, &ro->snapshot[i],
                                            &len);
                if (r >= 0 && len != ro->restore->parts[i].size)
                        r = -EBADMSG;
        }
        backup_info_done(&info);
        return r;
}

/* ------------------------------------------------------------ writing */

static int restore_on_data(DaSession *s, const uint8_t *data, size_t len, void *userdata) {
        RestoreOp *ro = userdata;

        if (!EVP_DigestUpdate(ro->backup.md, data, len))
                return -EIO;
        job_add_bytes(ro->backup.op.job, len);
        return 0;
}

/* Write partition ro->cur (the backup's image, or the snapshot's when
 * rolling back), or read it back to verify; done continues. */
static int restore_io(RestoreOp *ro, DaDoneFunc done) {
        Operation *op = &ro->backup.op;
        const Partition *p = ro->backup.parts[ro->cur];
        const uint8_t *data = ro->rolling_back ? ro->snapshot[ro->cur] : ro->images[ro->cur];

        if (ro->verifying) {
                operation_set_step(op, "reading %s back to verify", p->name);
                if (!EVP_DigestInit_ex(ro->backup.md, EVP_sha256(), NULL))
                        return -EIO;
                return da_session_read(op->session, p->region, p->offset, p->size, restore_on_data, done, ro);
        }
        /* from the first write on, stopping halfway would leave a mix */
        job_set_cancelable(op->job, false);
        operation_set_step(op, "%s %s", ro->rolling_back ? "rolling back" : "writing", p->name);
        return da_session_write(op->session, p->region, p->offset, data, p->size, done, ro);
}

/* Something went wrong with the phone still answering: from now on the
 * snapshot goes back.  result: the message the job ends with once that is
 * done. */
static void restore_begin_rollback(RestoreOp *ro, char *result) {
        Operation *op = &ro->backup.op;
        int r;

        free(op->result);
        op->result = result;
        ro->rolling_back = true;
        ro->cur = 0;
        ro->verifying = false;
        /* the rollback goes ahead regardless: putting the phone back matters most */
        r = restore_journal_write(ro);
        if (r < 0) {
                free(ro->journal_problem);
                ro->journal_problem = restore_format(
                        "The restore journal could not be updated when the rollback began (%s), so during the "
                        "rollback it still said that backup %s/%s was being written: had the rollback been "
                        "interrupted, 'mtknvctl restore --resume' would have written that backup again, and only "
                        "'mtknvctl restore --resume --rollback' the snapshot.", strerror(-r), ro->restore_key,
                        ro->restore_id);
        }
}

/* A write or its read-back failed: true when a rollback should begin
 * (the phone still answers and it was not the rollback itself). */
static bool restore_wants_rollback(RestoreOp *ro, int r) {
        Operation *op = &ro->backup.op;
        const Partition *p = ro->backup.parts[ro->cur];
        const char *detail = da_session_get_detail(op->session);

        if (ro->rolling_back || r == -ENODEV || r == -ECANCELED)
                return false;
        log_warning("Writing %s failed (%s); rolling back.", p->name, detail);
        restore_begin_rollback(ro, restore_format("Writing %s failed (%s), so everything was rolled back and "
                                                  "verified: the phone is as it was before. The pre-restore "
                                                  "snapshot is backup %s/%s.", p->name,
                                                  detail[0] ? detail : strerror(-r), ro->journal.snapshot_key,
                                                  ro->journal.snapshot_id));
        return true;
}

/* The read-back of ro->cur is in: 0 it matches, 1 a rollback begins, < 0
 * the operation ended. */
static int restore_check_readback(RestoreOp *ro) {
        Operation *op = &ro->backup.op;
        const Partition *p = ro->backup.parts[ro->cur];
        uint8_t sha[32], want[32];
        unsigned len = 0;

        if (!EVP_DigestFinal_ex(ro->backup.md, sha, &len)) {
                operation_fail(op, MTKNV_ERROR_FAILED, "SHA-256 failed");
                return -EIO;
        }
        if (ro->rolling_back)
                EVP_Digest(ro->snapshot[ro->cur], p->size, want, &len, EVP_sha256(), NULL);
        else
                memcpy(want, ro->restore->parts[ro->cur].sha256, 32);
        if (memcmp(sha, want, 32) == 0)
                return 0;
        if (ro->rolling_back && ro->rollback_requested) {
                operation_fail(op, MTKNV_ERROR_VERIFY_FAILED, "%s did not verify after writing the pre-restore "
                               "snapshot back: the phone's storage is failing.", p->name);
                return -EIO;
        }
        if (ro->rolling_back) {
                operation_fail(op, MTKNV_ERROR_VERIFY_FAILED, "%s did not verify after the restore, and the "
                               "rollback of %s did not verify either: the phone's storage is failing. The "
                               "pre-restore snapshot is backup %s/%s.", ro->backup.parts[0]->name, p->name,
                               op->device_key, ro->journal.snapshot_id);
                return -EIO;
        }
        log_warning("%s read back differently from what was written; rolling back.", p->name);
        restore_begin_rollback(ro, restore_format("%s read back differently from what was written, so everything "
                                                  "was rolled back and verified: the phone is as it was before. "
                                                  "The pre-restore snapshot is backup %s/%s.", p->name,
                                                  op->device_key, ro->journal.snapshot_id));
        return 1;
}

/* Every partition is written and verified (or rolled back). */
static void restore_written(RestoreOp *ro) {
        Operation *op = &ro->backup.op;

        restore_journal_done(ro);
        if (ro->rolling_back && ro->rollback_requested)
                return operation_finish(op, restore_format("Rolled back: the phone holds its pre-restore contents "
                                                           "(snapshot %s/%s) again, all %zu partitions verified.",
                                                           ro->journal.snapshot_key, ro->journal.snapshot_id,
                                                           ro->backup.n_parts));
        if (ro->rolling_back) {
                /* the phone is whole again: let it boot, then report the failed restore */
                _cleanup_free_ char *result = TAKE_PTR(op->result);

                return operation_stop(op, MTKNV_ERROR_ROLLED_BACK, "%s", result ?: "Rolled back.");
        }
        operation_finish(op, restore_format("Restored %zu partitions from %s and read each back: all verified. The "
                                            "pre-restore snapshot is backup %s/%s.%s%s", ro->backup.n_parts,
                                            ro->restore->device_key, ro->journal.snapshot_key,
                                            ro->journal.snapshot_id, ro->note ? " " : "", ro->note ?: ""));
}

/* A write or a read-back is done: on to the next. */
static void restore_on_io(DaSession *s, int r, void *userdata) {
        RestoreOp *ro = userdata;
        Operation *op = &ro->backup.op;

        if (r < 0 && !restore_wants_rollback(ro, r))
                return operation_fail_da(op, r, NULL);
        if (r >= 0 && !ro->verifying) {
                job_add_bytes(op->job, ro->backup.parts[ro->cur]->size);
                ro->verifying = true;
        } else if (r >= 0) {
                r = restore_check_readback(ro);
                if (r < 0)
                        return;
                if (r == 0 && ++ro->cur >= ro->backup.n_parts)
                        return restore_written(ro);
                ro->verifying = false;
        }
        r = restore_io(ro, restore_on_io);
        if (r < 0 && !restore_wants_rollback(ro, r))
                return operation_fail_da(op, r, NULL);
        if (r < 0) {
                r = restore_io(ro, restore_on_io);
                if (r < 0)
                        operation_fail_da(op, r, NULL);
        }
}

static void restore_begin_writing(RestoreOp *ro) {
        int r;

        ro->cur = 0;
        ro->verifying = false;
        r = restore_io(ro, restore_on_io);
        if (r < 0 && restore_wants_rollback(ro, r))
                r = restore_io(ro, restore_on_io);
        if (r < 0)
                operation_fail_da(&ro->backup.op, r, NULL);
}

/* ------------------------------------------------------------ before writing */

/* The snapshot is committed (backup-op.c): now the phone may be written. */
static void restore_after_snapshot(BackupOp *b) {
        RestoreOp *ro = container_of(b, RestoreOp, backup);
        int r;

        r = restore_load_snapshot(ro, b->backup_id);
        if (r < 0)
                return operation_stop(&b->op, MTKNV_ERROR_FAILED, "Cannot read back the pre-restore snapshot %s: "
                                      "%s. Nothing was written.", b->backup_id, strerror(-r));
        r = restore_journal_write(ro);
        if (r < 0)
                return operation_stop(&b->op, MTKNV_ERROR_FAILED, "Cannot write the restore journal in %s: %s. "
                                      "Nothing was written.", b->op.ctx->state_dir, strerror(-r));
        restore_begin_writing(ro);
}

/* Exactly the backup's partitions, where they were: no silent truncation or padding. */
static int restore_select_partitions(RestoreOp *ro, char **ret_error) {
        Operation *op = &ro->backup.op;

        free(ro->backup.parts);
        ro->backup.parts = calloc(ro->restore->n_parts + 1, sizeof(Partition *));
        if (!ro->backup.parts)
                return -ENOMEM;
        for (size_t i = 0; i < ro->restore->n_parts; i++) {
                const ManifestPartition *mp = &ro->restore->parts[i];
                const Partition *p = partition_table_find(op->table, mp->name);

                if (!p || p->size != mp->size ||
                    (mp->region != MANIFEST_REGION_ANY && (p->offset != mp->offset || p->region != mp->region)))
                        return -EXDEV;
                ro->backup.parts[i] = p;
        }
        ro->backup.n_parts = ro->restore->n_parts;
        return partition_table_check_selection(op->table, ro->backup.parts, ro->backup.n_parts, ret_error);
}

static void restore_table_known(Operation *op) {
        RestoreOp *ro = restore_of(op);
        _cleanup_free_ char *err = NULL;
        uint64_t total = 0;
        int r;

        r = restore_select_partitions(ro, &err);
        if (r == -ENOTUNIQ || r == -EFBIG)
                return operation_fail(op, MTKNV_ERROR_INVALID_TABLE,
                                      "The phone's partition table cannot be used: %s. Nothing was read or "
                                      "written. Pass the phone's own scatter file with 'mtknvctl backup --scatter "
                                      "FILE'.", err ?: strerror(-r));
        if (r == -EXDEV)
                return operation_stop(op, MTKNV_ERROR_LAYOUT_MISMATCH,
                                      "The phone's partitions are not where the backup's were (a partition is "
                                      "missing, moved or of another size). Nothing was written: images are never "
                                      "truncated or padded.");
        if (r < 0)
                return operation_fail(op, MTKNV_ERROR_FAILED, "Cannot choose the partitions to restore: %s",
                                      strerror(-r));
        if (ro->dry_run) {
                op->tell_reboot = true;
                return operation_finish(op, restore_format("Dry run: the backup fits this phone; %zu partitions "
                                                           "would be written after a pre-restore snapshot. Nothing "
                                                           "was written.", ro->backup.n_parts));
        }
        if (!ro->resume) {
                r = backup_op_begin_reading(&ro->backup);
                if (r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
                        return operation_fail(op, MTKNV_ERROR_NO_SPACE, "No space left for the pre-restore "
                                              "snapshot in %s: free some space and plug the phone in again.",
                                              op->ctx->state_dir);
                if (r < 0)
                        return operation_fail(op, MTKNV_ERROR_FAILED, "Cannot start the pre-restore snapshot: %s",
                                              strerror(-r));
                return;
        }
        /* the phone holds a mix now: the snapshot that counts is the journal's */
        r = restore_load_snapshot(ro, ro->journal.snapshot_id);
        if (r < 0)
                return operation_fail(op, MTKNV_ERROR_INVALID_BACKUP, "The pre-restore snapshot %s/%s named by "
                                      "the restore journal cannot be read: %s.", ro->journal.snapshot_key,
                                      ro->journal.snapshot_id, strerror(-r));
        ro->journaled = true;
        r = restore_journal_write(ro);
        if (r < 0)
                return operation_fail(op, MTKNV_ERROR_FAILED, "Cannot update the restore journal: %s", strerror(-r));
        for (size_t i = 0; i < ro->backup.n_parts; i++)
                total += 2 * ro->backup.parts[i]->size; /* written, read back */
        job_set_total(op->job, total);
        job_set_size(op->job, total / 2);
        restore_begin_writing(ro);
}

static void restore_started(Operation *op) {
        RestoreOp *ro = restore_of(op);
        const StorageInfo *st = op->storage;

        if (ro->resume && !streq(op->device_key, ro->journal.device_key))
                return operation_stop(op, MTKNV_ERROR_IDENTITY_MISMATCH, "The restore journal belongs to phone %s, "
                                      "this is %s. Nothing was written.", ro->journal.device_key, op->device_key);
        /* the storage's own id (eMMC CID; a version 1/2 manifest has it as emmc_cid only) */
        const char *want = ro->restore->storage_id[0] ? ro->restore->storage_id : ro->restore->emmc_cid;

        if (!ro->allow_foreign && want[0]) {
                char id[STORAGE_ID_HEX_MAX], fp_backup[IDENTIFIER_FINGERPRINT_LEN], fp_phone[IDENTIFIER_FINGERPRINT_LEN];

                storage_info_id_hex(st, id, sizeof(id));
                /* fingerprints: the job's message is a signal everyone receives */
                identifier_fingerprint(want, fp_backup);
                identifier_fingerprint(id, fp_phone);
                if (!streq(id, want) || (ro->restore->storage_id[0] && ro->restore->storage_type != st->type))
                        return operation_stop(op, MTKNV_ERROR_IDENTITY_MISMATCH,
                                              "This backup was taken from another phone's storage (%s id "
                                              "fingerprint %s, this phone's is %s). Restoring it would clone that "
                                              "phone's IMEI. A technician replacing the board can override this "
                                              "with allow-foreign. Nothing was written.",
                                              st->type == STORAGE_EMMC ? "eMMC CID" : "storage", fp_backup,
                                              fp_phone);
        }
        operation_find_table(op);
}

/* ------------------------------------------------------------ the class */

static void restore_explain_failure(Operation *op, char **message) {
        RestoreOp *ro = restore_of(op);
        char *full;

        if (!ro->journaled || !*message)
                return;
        /* the journal stays: say what it means and how to end it */
        full = restore_format("%s The restore was interrupted while writing, so the phone may hold a mix of old and "
                              "new data; the restore journal keeps track of it. Plug the phone in again and run "
                              "'mtknvctl restore --resume' to finish the restore (or 'mtknvctl restore --resume "
                              "--rollback' to go back to the pre-restore snapshot %s/%s).", *message,
                              ro->journal.snapshot_key, ro->journal.snapshot_id);
        if (full) {
                free(*message);
                *message = full;
        }
}

static void restore_amend_message(Operation *op, char **message) {
        RestoreOp *ro = restore_of(op);
        char *full;

        if (!ro->journal_problem || !*message)
                return;
        full = restore_format("%s %s", *message, ro->journal_problem);
        if (full) {
                free(*message);
                *message = full;
        }
}

static const char *restore_gone_message(Operation *op) {
        return restore_of(op)->journaled ? "" :
               "The restore wrote nothing; the phone is as it was. Plug it in again to retry.";
}

static void restore_drop_work(Operation *op) {
        backup_op_drop_work(&restore_of(op)->backup);
}

static void restore_free(Operation *op) {
        RestoreOp *ro = restore_of(op);

        if (ro->restore) {
                images_free(ro->images, ro->restore->n_parts);
                images_free(ro->snapshot, ro->restore->n_parts);
                manifest_free(ro->restore);
        }
        free(ro->journal_problem);
        free(ro->restore_key);
        free(ro->restore_id);
        backup_op_done(&ro->backup);
        operation_done(op);
        free(ro);
}

static const OperationClass restore_class = {
        .name = "restore",
        .started = restore_started,
        .table_known = restore_table_known,
        .explain_failure = restore_explain_failure,
        .amend_message = restore_amend_message,
        .gone_message = restore_gone_message,
        .drop_work = restore_drop_work,
        .free = restore_free,
};

/* ------------------------------------------------------------ starting */

/* Keep only the named partitions of mf (a comma list; NULL: all). */
static int restore_select_subset(Manifest *mf, const char *only, const BackupInfo *backup, sd_bus_error *error) {
        _cleanup_(name_list_freep) char **names = NULL;
        size_t k = 0;
        int r;

        if (!only)
                return 0;
        r = name_list_split(only, ",", 0, &names);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                bool found = false;

                for (size_t i = 0; i < mf->n_parts && !found; i++)
                        found = streq(mf->parts[i].name, *n);
                if (!found)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Backup %s/%s has no partition "
                                                 "\"%s\".", backup->device_key, backup->backup_id, *n);
        }
        for (size_t i = 0; i < mf->n_parts; i++)
                if (name_list_contains(names, mf->parts[i].name))
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

/* A scratch copy of the backup's manifest, its own part list. */
static int restore_copy_manifest(const Manifest *src, Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *mf = NULL;

        mf = manifest_new();
        if (!mf)
                return -ENOMEM;
        *mf = *src;
        mf->parts = malloc(src->n_parts * sizeof(ManifestPartition) + 1);
        if (!mf->parts)
                return -ENOMEM;
        memcpy(mf->parts, src->parts, src->n_parts * sizeof(ManifestPartition));
        *ret = TAKE_PTR(mf);
        return 0;
}

int restore_check_partitions(const BackupInfo *backup, const char *partitions, sd_bus_error *error) {
        _cleanup_(manifest_freep) Manifest *mf = NULL;
        int r;

        if (!partitions)
                return 0;
        r = restore_copy_manifest(backup->manifest, &mf);
        if (r < 0)
                return r;
        return restore_select_subset(mf, partitions, backup, error);
}

/* The identity check comes first: another phone's IMEI must not be cloned. */
static int restore_check_identity(const Device *d, const BackupInfo *backup, unsigned flags, sd_bus_error *error) {
        const Manifest *src = backup->manifest;
        char me_id[2 * BROM_ID_MAX_LEN + 1], soc_id[2 * BROM_ID_MAX_LEN + 1];
        int r;

        if (flags & RESTORE_ALLOW_FOREIGN)
                return 0;
        brom_hex(d->identity.me_id, d->identity.me_id_len, me_id);
        brom_hex(d->identity.soc_id, d->identity.soc_id_len, soc_id);
        r = restore_check_binding(backup, flags, error);
        if (r < 0)
                return r;
        if ((src->me_id[0] && me_id[0] && !streq(src->me_id, me_id)) ||
            (src->soc_id[0] && soc_id[0] && !streq(src->soc_id, soc_id)))
                return sd_bus_error_setf(error, MTKNV_ERROR_IDENTITY_MISMATCH,
                                         "Backup %s/%s belongs to another phone (ME ID %s; this phone is %s). "
                                         "Restoring it would clone that phone's IMEI, which is illegal in many "
                                         "countries. A technician moving a board's identity can override this with "
                                         "allow-foreign and the restore-foreign authorization.",
                                         backup->device_key, backup->backup_id, src->me_id[0] ? src->me_id : "-",
                                         me_id[0] ? me_id : "-");
        return 0;
}

/* Into memory, each checked against its hash, before the phone is touched. */
static int restore_load_images(const OperationContext *ctx, const BackupInfo *backup, const Manifest *mf,
                               uint8_t ***ret, sd_bus_error *error) {
        uint8_t **images;
        int r = 0;

        images = calloc(mf->n_parts + 1, sizeof(uint8_t *));
        if (!images)
                return -ENOMEM;
        for (size_t i = 0; i < mf->n_parts; i++) {
                uint8_t sha[32];
                unsigned len = 0;
                size_t size = 0;

                r = backup_store_read_image(ctx->store, backup, mf->parts[i].name, &images[i], &size);
                if (r >= 0 && (size != mf->parts[i].size || !EVP_Digest(images[i], size, sha, &len, EVP_sha256(), NULL) ||
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
        *ret = images;
        return 0;
}

int restore_op_start(const OperationContext *ctx, Device *d, const BackupInfo *backup, const RestoreJournal *journal,
                     unsigned flags, const char *partitions, uid_t uid, Job *job, sd_bus_error *error) {
        _cleanup_(manifest_freep) Manifest *mf = NULL;
        uint8_t **images = NULL;
        RestoreOp *ro;
        int r;

        /* a journaled restore was authorized (and identity-checked) when it began */
        if (journal && journal->foreign)
                flags |= RESTORE_ALLOW_FOREIGN;
        r = restore_check_identity(d, backup, flags, error);
        if (r < 0)
                return r;
        r = restore_copy_manifest(backup->manifest, &mf);
        if (r < 0)
                return r;
        /* a resumed restore writes exactly what the interrupted one was writing */
        r = restore_select_subset(mf, journal ? journal->partitions : partitions, backup, error);
        if (r < 0)
                return r;
        r = restore_load_images(ctx, backup, mf, &images, error);
        if (r < 0)
                return r;

        ro = calloc(1, sizeof(*ro));
        if (!ro) {
                images_free(images, mf->n_parts);
                return -ENOMEM;
        }
        ro->restore = TAKE_PTR(mf);
        ro->images = images;
        ro->dry_run = flags & RESTORE_DRY_RUN;
        ro->allow_foreign = flags & RESTORE_ALLOW_FOREIGN;
        ro->restore_key = strdup(backup->device_key);
        ro->restore_id = strdup(backup->backup_id);
        if (!journal && partitions &&
            name_list_joined_contains(partitions, "nvram") != name_list_joined_contains(partitions, "nvdata"))
                ro->note = "Warning: only one of nvram and nvdata was restored; they belong together (nvdata holds "
                           "the calibration nvram's files refer to), so the phone may not get its IMEI or network "
                           "back until both come from the same backup.";
        if (journal) {
                ro->resume = true;
                ro->journal = *journal;
                if (streq(backup->device_key, journal->snapshot_key) && streq(backup->backup_id, journal->snapshot_id))
                        ro->rolling_back = ro->rollback_requested = true;
        }
        /* the snapshot is read twice, then each image written and read back */
        r = !ro->restore_key || !ro->restore_id ? -ENOMEM : backup_op_init(&ro->backup, "pre-restore", 4);
        if (r >= 0) {
                ro->backup.committed = restore_after_snapshot;
                r = operation_start(&ro->backup.op, &restore_class, ctx, d, NULL, uid, job, error);
        }
        if (r < 0) {
                /* nothing was taken: free what was made here */
                restore_free(&ro->backup.op);
                return r;
        }
        return 0;
}

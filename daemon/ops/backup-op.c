/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "backup-op.h"
#include "identity-set.h"
#include "log.h"
#include "mtknv-bus.h"

#define READ_ATTEMPTS 3

static BackupOp *backup_of(Operation *op) {
        return container_of(op, BackupOp, op);
}

int backup_op_init(BackupOp *b, const char *source, unsigned weight) {
        b->source = strdup(source);
        b->md = EVP_MD_CTX_new();
        b->weight = weight;
        if (!b->source || !b->md) {
                backup_op_done(b);
                return -ENOMEM;
        }
        return 0;
}

void backup_op_drop_work(BackupOp *b) {
        /* nothing may run on the writer while it goes */
        if (b->worker)
                worker_cancel(b->worker);
        b->writer = backup_writer_abort(b->writer);
}

void backup_op_done(BackupOp *b) {
        b->worker = worker_free(b->worker);
        backup_op_drop_work(b);
        free(b->parts);
        b->parts = NULL;
        EVP_MD_CTX_free(b->md);
        b->md = NULL;
        free(b->backup_id);
        b->backup_id = NULL;
        free(b->source);
        b->source = NULL;
}

/* ------------------------------------------------------------ reading */

/* A packet on its way through the worker: the first read only hashes it,
 * the second hashes and stores it.  The DA session lends the packet's
 * buffer until backup_chunk_done() gives it back. */
typedef struct BackupChunk {
        BackupOp *b;
        DaSession *session;
        const uint8_t *data;
        size_t len;
        bool store;
} BackupChunk;

/* In the worker thread: b->md and b->writer are left to it while a read runs. */
static int backup_chunk_run(void *userdata) {
        BackupChunk *c = userdata;

        if (c->store)
                return backup_writer_write(c->b->writer, c->data, c->len);
        return EVP_DigestUpdate(c->b->md, c->data, c->len) ? 0 : -EIO;
}

static void backup_chunk_done(int r, void *userdata) {
        BackupChunk *c = userdata;
        DaSession *s = c->session;
        const uint8_t *data = c->data;

        if (r < 0 && c->b->io_error == 0)
                c->b->io_error = r;
        else if (r >= 0)
                job_add_bytes(c->b->op.job, c->len);
        free(c);
        /* last: giving the buffer back may end the read, and the read's end the operation */
        da_session_release_data(s, data);
}

static int backup_on_data(BackupOp *b, DaSession *s, const uint8_t *data, size_t len, bool store) {
        BackupChunk *c;
        int r;

        if (b->op.cancelled)
                return -ECANCELED;
        /* the next packet stops the read with the worker's failure (disk full) */
        if (b->io_error < 0)
                return b->io_error;
        if (!b->worker) {
                r = worker_new(b->op.ctx->event, "backup-worker", &b->worker);
                if (r < 0)
                        log_debug_errno(r, "No worker thread (%m); hashing on the event loop.");
        }
        c = malloc(sizeof(*c));
        if (c) {
                *c = (BackupChunk) { .b = b, .session = s, .data = data, .len = len, .store = store };
                if (b->worker && worker_submit(b->worker, backup_chunk_run, backup_chunk_done, free, c) >= 0)
                        return DA_DATA_HELD;
                /* without a worker the same work, here and now */
                r = backup_chunk_run(c);
                free(c);
        } else
                r = -ENOMEM;
        if (r < 0)
                return r;
        job_add_bytes(b->op.job, len);
        return 0;
}

static int backup_on_data_first(DaSession *s, const uint8_t *data, size_t len, void *userdata) {
        return backup_on_data(userdata, s, data, len, false);
}

static int backup_on_data_second(DaSession *s, const uint8_t *data, size_t len, void *userdata) {
        return backup_on_data(userdata, s, data, len, true);
}

/* Read partition b->cur the first time (hash only) or the second time
 * (hash and store); done continues. */
static int backup_read(BackupOp *b, DaDoneFunc done) {
        const Partition *p = b->parts[b->cur];
        char canonical[64];
        int r;

        if (!b->second) {
                operation_set_step(&b->op, "reading %s (%" PRIu64 " KiB)", p->name, p->size / 1024);
                if (!EVP_DigestInit_ex(b->md, EVP_sha256(), NULL))
                        return -EIO;
                return da_session_read(b->op.session, p->region, p->offset, p->size, backup_on_data_first, done, b);
        }
        operation_set_step(&b->op, "reading %s again to verify", p->name);
        /* stored under the canonical name (NVRAM, __NODL_NVRAM → nvram.img), as SP Flash Tool users know it */
        partition_name_canonical(p->name, canonical, sizeof(canonical));
        r = backup_writer_begin_partition(b->writer, canonical, p->region, p->offset, p->size);
        if (r < 0)
                return r;
        return da_session_read(b->op.session, p->region, p->offset, p->size, backup_on_data_second, done, b);
}

/* A read failed: a checksum error starts the whole set again (a few
 * times); anything else ends the operation. */
static void backup_on_read_failed(BackupOp *b, int r) {
        if (r == -EBADMSG && !b->op.cancelled && ++b->attempt < READ_ATTEMPTS) {
                log_warning("Checksum error (%s); starting the backup again.", da_session_get_detail(b->op.session));
                b->writer = backup_writer_abort(b->writer);
                r = backup_op_begin_reading(b);
                if (r >= 0)
                        return;
        }
        operation_fail_da(&b->op, r, NULL);
}

static void backup_commit(BackupOp *b) {
        char *done = NULL;
        int r;

        r = backup_writer_set_verified(b->writer, "read-twice");
        if (r >= 0)
                r = backup_writer_commit(b->writer, &b->backup_id);
        if (r < 0) {
                b->writer = backup_writer_abort(b->writer);
                return operation_fail(&b->op, r == -ENOSPC || r == -EFBIG ? MTKNV_ERROR_NO_SPACE : MTKNV_ERROR_FAILED,
                                      "Cannot store the backup in %s: %s", b->op.ctx->state_dir, strerror(-r));
        }
        b->writer = NULL; /* committed: nothing left to abort */
        b->op.ctx->committed(b->op.device_key, b->backup_id, b->op.job, b->op.ctx->userdata);
        if (b->committed)
                return b->committed(b);
        if (asprintf(&done, "Backup %s/%s stored and verified (%zu partitions).", b->op.device_key, b->backup_id,
                     b->n_parts) < 0)
                done = NULL;
        operation_finish(&b->op, done);
}

/* The second read is stored: both must hash the same. */
static int backup_check_second(BackupOp *b) {
        const Partition *p = b->parts[b->cur];
        uint8_t sha_second[32];
        int r;

        r = backup_writer_end_partition(b->writer, sha_second);
        if (r < 0) {
                operation_fail(&b->op, r == -ENOSPC ? MTKNV_ERROR_NO_SPACE : MTKNV_ERROR_FAILED,
                               "Cannot store %s: %s", p->name, strerror(-r));
                return r;
        }
        if (memcmp(b->sha_first, sha_second, sizeof(sha_second)) == 0)
                return 0;
        if (++b->attempt < READ_ATTEMPTS) {
                log_warning("%s read differently twice; starting the backup again (attempt %u).", p->name,
                            b->attempt + 1);
                b->writer = backup_writer_abort(b->writer);
                return 1;
        }
        operation_stop(&b->op, MTKNV_ERROR_VERIFY_FAILED,
                       "%s read back differently %u times; the phone's storage or the USB link is unreliable. Try "
                       "another cable or port; no backup was stored.", p->name, READ_ATTEMPTS);
        return -EIO;
}

/* One read of one partition is done: on to the next read. */
static void backup_on_read(DaSession *s, int r, void *userdata) {
        BackupOp *b = userdata;
        unsigned len = 0;

        /* the worker failed on the read's last packet */
        if (r >= 0 && b->io_error < 0)
                r = b->io_error;
        if (r < 0)
                return backup_on_read_failed(b, r);
        if (operation_end_if_cancelled(&b->op))
                return;
        if (!b->second) {
                if (!EVP_DigestFinal_ex(b->md, b->sha_first, &len))
                        return operation_fail(&b->op, MTKNV_ERROR_FAILED, "SHA-256 failed");
                b->second = true;
        } else {
                r = backup_check_second(b);
                if (r < 0)
                        return;
                if (r > 0) {
                        /* read differently: the whole set again */
                        r = backup_op_begin_reading(b);
                        if (r < 0)
                                operation_fail(&b->op, MTKNV_ERROR_FAILED, "Cannot restart the backup: %s",
                                               strerror(-r));
                        return;
                }
                if (++b->cur >= b->n_parts)
                        return backup_commit(b);
                b->second = false;
        }
        r = backup_read(b, backup_on_read);
        if (r < 0)
                operation_fail(&b->op, operation_error_for(r, MTKNV_ERROR_FAILED), "Cannot read %s: %s",
                               b->parts[b->cur]->name, strerror(-r));
}

int backup_op_begin_reading(BackupOp *b) {
        _cleanup_(manifest_freep) Manifest *h = NULL;
        const BromIdentity *id = &b->op.device->identity;
        const StorageInfo *st = b->op.storage;
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
        h->storage_type = st->type;
        storage_info_id_hex(st, h->storage_id, sizeof(h->storage_id));
        if (st->type == STORAGE_EMMC)
                brom_hex(st->id, st->id_len, h->emmc_cid);
        snprintf(h->device_key, sizeof(h->device_key), "%s", b->op.device_key);
        snprintf(h->table_source, sizeof(h->table_source), "%s", partition_source_to_string(b->op.table->source));

        for (size_t i = 0; i < b->n_parts; i++)
                total += b->weight * b->parts[i]->size;
        job_set_total(b->op.job, total);
        job_set_size(b->op.job, total / b->weight);

        r = backup_store_begin(b->op.ctx->store, h, &b->writer);
        if (r < 0)
                return r;
        b->cur = 0;
        b->second = false;
        b->io_error = 0;
        return backup_read(b, backup_on_read);
}

/* ------------------------------------------------------------ the backup's own steps */

static int backup_select_identity(BackupOp *b, char **ret_error) {
        _cleanup_free_ char *list = NULL;
        size_t n = 0;
        int r;

        r = identity_set_select(b->op.table, b->op.ctx->identity_set, &b->parts, &b->n_parts);
        if (r < 0)
                return r;
        if (b->n_parts == 0)
                return -ENOENT;
        r = partition_table_check_selection(b->op.table, b->parts, b->n_parts, ret_error);
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
        log_info("Identity partitions on %s (%s): %s", b->op.device->object_path,
                 partition_source_to_string(b->op.table->source), list ?: "?");
        return 0;
}

static void backup_table_known(Operation *op) {
        BackupOp *b = backup_of(op);
        _cleanup_free_ char *err = NULL;
        int r;

        r = backup_select_identity(b, &err);
        if (r == -ENOTUNIQ || r == -EFBIG)
                return operation_fail(op, MTKNV_ERROR_INVALID_TABLE,
                                      "The phone's partition table cannot be used: %s. Nothing was read or "
                                      "written. Pass the phone's own scatter file with 'mtknvctl backup --scatter "
                                      "FILE'.", err ?: strerror(-r));
        if (r == -ENOENT)
                return operation_stop(op, MTKNV_ERROR_NO_PARTITIONS,
                                      "The phone's partition table (%s) has none of the identity partitions (%s). If "
                                      "this phone keeps them under other names, pass its scatter file with "
                                      "'mtknvctl backup --scatter FILE'.",
                                      partition_source_to_string(op->table->source), op->ctx->identity_spec);
        if (r < 0)
                return operation_fail(op, MTKNV_ERROR_FAILED, "Cannot choose the partitions to back up: %s",
                                      strerror(-r));
        r = backup_op_begin_reading(b);
        if (r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
                return operation_fail(op, MTKNV_ERROR_NO_SPACE, "No space left for the backup in %s: free some "
                                      "space and plug the phone in again.", op->ctx->state_dir);
        if (r < 0)
                return operation_fail(op, MTKNV_ERROR_FAILED, "Cannot start the backup: %s", strerror(-r));
}

static void backup_started(Operation *op) {
        BackupOp *b = backup_of(op);
        char *done = NULL;

        if (streq(b->source, "auto") && op->ctx->auto_backup == AUTO_BACKUP_FIRST_SEEN &&
            backup_store_has_verified(op->ctx->store, op->device_key)) {
                /* known only now, from the storage's id: nothing to do but reboot */
                if (asprintf(&done, "The phone %s already has a verified backup.", op->device_key) < 0)
                        done = NULL;
                return operation_finish(op, done);
        }
        operation_find_table(op);
}

static const char *backup_gone_message(Operation *op) {
        return "Nothing was stored; plug it in again to retry.";
}

static void backup_drop_work(Operation *op) {
        backup_op_drop_work(backup_of(op));
}

static void backup_free(Operation *op) {
        BackupOp *b = backup_of(op);

        backup_op_done(b);
        operation_done(op);
        free(b);
}

static const OperationClass backup_class = {
        .name = "backup",
        .started = backup_started,
        .table_known = backup_table_known,
        .gone_message = backup_gone_message,
        .drop_work = backup_drop_work,
        .free = backup_free,
};

int backup_op_start(const OperationContext *ctx, Device *d, const char *source, ScatterFile *scatter, uid_t uid,
                    Job *job, sd_bus_error *error) {
        BackupOp *b;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        r = backup_op_init(b, source, 2);
        if (r >= 0)
                r = operation_start(&b->op, &backup_class, ctx, d, scatter, uid, job, error);
        if (r < 0) {
                backup_op_done(b);
                free(b);
                return r;
        }
        return 0;
}

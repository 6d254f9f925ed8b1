/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main job: a verified, device-bound backup of the identity partitions.
 *
 *   (operation.h: DA up, partition table) -> every chosen partition read
 *   twice, both reads must hash the same, the second one stored -> atomic
 *   commit -> reboot.
 *
 * A restore takes its pre-restore snapshot with the same reading: it embeds
 * a BackupOp (restore-op.c), so restore depends on backup, never the reverse.
 */
#pragma once

#include <openssl/evp.h>

#include "operation.h"
#include "worker.h"

typedef struct BackupOp BackupOp;

struct BackupOp {
        Operation op;
        char *source;                   /* auto | manual | pre-restore */
        const Partition **parts;
        size_t n_parts, cur;
        bool second;                    /* reading parts[cur] the second time */
        unsigned attempt;
        BackupWriter *writer;
        EVP_MD_CTX *md;
        /* hashes and stores the packets off the event loop (backup_on_data()) */
        Worker *worker;
        int io_error;                   /* the worker's first failure */
        uint8_t sha_first[32];
        char *backup_id;                /* once committed */
        unsigned weight;                /* progress: bytes the whole operation moves per partition byte */
        /* The backup is committed: what comes next (NULL: reboot, success). */
        void (*committed)(BackupOp *b);
};

/* A backup of d's identity partitions (scatter: the caller's, may be NULL:
 * the phone's own table), for job (NULL: a new one).  On failure error says
 * why and nothing is taken. */
int backup_op_start(const OperationContext *ctx, Device *d, const char *source, ScatterFile *scatter, uid_t uid,
                    Job *job, sd_bus_error *error);

/* For an operation that embeds a BackupOp. */
int backup_op_init(BackupOp *b, const char *source, unsigned weight);
void backup_op_done(BackupOp *b);
/* Read b->parts (already chosen) twice each and commit them as a backup. */
int backup_op_begin_reading(BackupOp *b);
void backup_op_drop_work(BackupOp *b);

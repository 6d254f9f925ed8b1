/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backups on disk: STATE/backups/<device-key>/<backup-id>/ holding the
 * images (nvram.img, …, named like an SP Flash Tool readback) and
 * manifest.yaml.  A backup appears only complete: it is written in a
 * temporary directory, fsynced, renamed into place, and the parents fsynced.
 * Identical images are stored once (hard links to STATE/backups/.objects/
 * <sha256>, reference-counted by their link count).
 */
#pragma once

#include <stdbool.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

typedef struct BackupStore BackupStore;
typedef struct BackupWriter BackupWriter;

/* Whether this host's key vouches for a manifest's binding fields. */
typedef enum BackupBinding {
        BACKUP_BINDING_NONE,       /* no binding HMAC: raw or SP Flash imports, manifests edited to drop it */
        BACKUP_BINDING_VERIFIED,   /* made with this host's key (or one an administrator shared) */
        BACKUP_BINDING_OTHER_KEY,  /* made with another host's key */
        BACKUP_BINDING_MISMATCH,   /* this host's key id, but the fields changed since: edited */
        BACKUP_BINDING_LEGACY,     /* an import stored by mtknvd before bindings were signed */
} BackupBinding;

typedef struct BackupInfo {
        char *device_key, *backup_id, *path;
        Manifest *manifest;
        BackupBinding binding;
} BackupInfo;

/* Also loads (or creates) the host key, STATE/host.key. */
int backup_store_open(const char *state_dir, BackupStore **ret);
BackupStore *backup_store_free(BackupStore *s);
const char *backup_store_path(BackupStore *s);
/* The public name of this host's key, as manifests record it. */
const char *backup_store_key_id(BackupStore *s);
/* What this host's key says of m's binding. */
BackupBinding backup_store_check_binding(BackupStore *s, const Manifest *m);
/* "verified", "none", "other-host", "edited", "legacy" (Backup.Binding). */
const char *backup_binding_to_string(BackupBinding b);
/* Why a binding does not count, in words for the user ("" when it does). */
const char *backup_binding_explain(BackupBinding b);
/* Bound to a phone: an identity, vouched for by this host's key. Only such a
 * backup may be restored without allow-foreign. */
bool backup_info_is_bound(const BackupInfo *b);

/* header: identity, source and table source filled in, no partitions. */
int backup_store_begin(BackupStore *s, const Manifest *header, BackupWriter **ret);
int backup_writer_begin_partition(BackupWriter *w, const char *name, StorageRegion region, uint64_t offset, uint64_t size);
/* -ENOSPC/-EDQUOT/-EFBIG when the disk is full; -EFBIG also past the partition size. */
int backup_writer_write(BackupWriter *w, const void *data, size_t n);
int backup_writer_end_partition(BackupWriter *w, uint8_t ret_sha256[32]);
int backup_writer_set_verified(BackupWriter *w, const char *method);
/* Signs the manifest's binding with the host key (every manifest this host
 * writes carries one: an import whose own binding did not verify has had its
 * identity removed before), writes it and moves the backup into place. */
int backup_writer_commit(BackupWriter *w, char **ret_backup_id);
/* Removes everything written; returns NULL. */
BackupWriter *backup_writer_abort(BackupWriter *w);

void backup_info_done(BackupInfo *b);
void backup_info_array_free(BackupInfo *a, size_t n);
/* Sorted oldest first; unreadable backups are logged and skipped. */
int backup_store_list(BackupStore *s, const char *device_key, BackupInfo **ret, size_t *ret_n);
/* Also judges the binding.  A version 1 manifest that this host took itself
 * (source auto, manual or pre-restore: the store is root's alone) is signed
 * once, in place; a version 1 import never is (BACKUP_BINDING_LEGACY). */
int backup_store_load(BackupStore *s, const char *device_key, const char *backup_id, BackupInfo *ret);
bool backup_store_has_verified(BackupStore *s, const char *device_key);
/* Crash-safe: the backup leaves the listing in one rename, then its files
 * go, then the images no other backup shares; what a crash in between
 * leaves is removed by backup_store_open().  Its label goes too. */
int backup_store_delete(BackupStore *s, const char *device_key, const char *backup_id);
/* An earlier backup of the same data: m's phone key, Created (to the second,
 * as manifests keep it) and partitions (names, places, sizes, SHA-256) all
 * equal.  1 with its id, 0 when there is none. */
int backup_store_find_same(BackupStore *s, const Manifest *m, char **ret_backup_id);

/* What the store takes on disk: each file counted once however many backups
 * link to it (images are shared, see backup-store.c). */
typedef struct BackupStoreUsage {
        uint64_t disk_bytes;      /* allocated blocks */
        uint64_t apparent_bytes;  /* the files' sizes, each counted once */
        uint64_t saved_bytes;     /* what the backups would take on top if none shared an image */
        uint64_t n_backups, n_files;
} BackupStoreUsage;
int backup_store_usage(BackupStore *s, BackupStoreUsage *ret);

/* Labels (labels.h): backup_id NULL for the phone's own.  "" when none. */
const char *backup_store_label(BackupStore *s, const char *device_key, const char *backup_id);
/* text "" clears; -EINVAL with *ret_error for text that cannot be a label. */
int backup_store_set_label(BackupStore *s, const char *device_key, const char *backup_id, const char *text,
                           char **ret_error);

/* One image of a backup, open for reading. */
int backup_store_open_image(BackupStore *s, const BackupInfo *b, const ManifestPartition *p);
/* One image of a backup, whole, into memory. */
int backup_store_read_image(BackupStore *s, const BackupInfo *b, const char *partition, uint8_t **ret, size_t *ret_size);

/* An export: a tar (pax) archive of a backup, produced a piece at a time
 * (the caller writes it on as its reader takes it).  b must outlive it. */
typedef struct BackupExport BackupExport;
/* Takes the archive's bytes; a negative errno stops the export. */
typedef int (*BackupExportSink)(const void *data, size_t n, void *userdata);
/* How an export is compressed (libarchive's filters; an import detects them). */
typedef enum BackupCompression {
        BACKUP_COMPRESSION_NONE,
        BACKUP_COMPRESSION_GZIP,
        BACKUP_COMPRESSION_XZ,
        BACKUP_COMPRESSION_ZSTD,
        _BACKUP_COMPRESSION_MAX,
        _BACKUP_COMPRESSION_INVALID = -EINVAL,
} BackupCompression;
/* "none", "gzip", "xz", "zstd" */
const char *backup_compression_to_string(BackupCompression c);
BackupCompression backup_compression_from_string(const char *s);

/* scatter_name NULL: BACKUP-ID/manifest.yaml, then the images.  Otherwise
 * BACKUP-ID-spflash/: scatter (already edited, copied) as scatter_name,
 * then the images.  The tar stream is compressed as asked. */
int backup_export_new(BackupStore *s, const BackupInfo *b, const char *scatter_name, const void *scatter,
                      size_t scatter_size, BackupCompression compression, BackupExportSink sink, void *userdata,
                      BackupExport **ret);
/* Hands the sink the next piece (at most one chunk of an image): 1 while
 * there is more, 0 once the archive is complete, or a negative errno. */
int backup_export_step(BackupExport *x);
BackupExport *backup_export_free(BackupExport *x);

static inline void backup_export_freep(BackupExport **x) {
        if (*x)
                backup_export_free(*x);
}

static inline void backup_store_freep(BackupStore **s) {
        if (*s)
                backup_store_free(*s);
}

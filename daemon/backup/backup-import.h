/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bringing backups in: an mtknvd export archive, an SP Flash Tool readback
 * (images plus the scatter file that locates them), or raw partition images
 * by name.  Every input is the caller's and untrusted; it is checked before
 * anything reaches the store, and bounded: an archive is never expanded
 * beyond what its manifest says it holds (and never beyond what a backup
 * can hold), and all work happens in small steps that the caller spreads
 * over event-loop iterations.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup-store.h"
#include "manifest.h"
#include "scatter.h"

#define IMPORT_DEVICE_KEY_UNBOUND "unbound"
/* the largest identity partition seen in the scatter corpus is 64 MiB */
#define IMPORT_IMAGE_MAX (256ull * 1024 * 1024)
/* all images of one backup: the identity set is a few small partitions */
#define IMPORT_TOTAL_MAX (1024ull * 1024 * 1024)
/* an archive as handed over (compressed or not) */
#define IMPORT_ARCHIVE_MAX (IMPORT_TOTAL_MAX + 64ull * 1024 * 1024)

/* ------------------------------------------------------------ mtknvd archives */

typedef struct ImportArchive ImportArchive;

/* An mtknvd export (manifest.yaml first, as mtknvd writes it, then its
 * images), to be read into the store.  Takes ownership of data. */
int import_archive_new(BackupStore *store, uint8_t *data, size_t size, ImportArchive **ret);
/* One bounded step: 1 when there is more to do, 0 when the backup is
 * stored (its id in *ret_id; see import_archive_already_stored()); it
 * keeps the archive's Created and records its own time as imported; -EBADMSG (damaged, not an export, a hash
 * differs) or -EFBIG (it expands beyond its manifest) with *ret_error, or
 * another errno (-ENOSPC). */
int import_archive_step(ImportArchive *ia, char **ret_id, char **ret_error);
/* Once a step returned 0: the archive is a backup already stored (the same
 * phone, Created and images: backup_store_find_same()), whose id the step
 * gave; nothing was added. */
bool import_archive_already_stored(const ImportArchive *ia);
/* The archive's manifest, once read (NULL before). */
const Manifest *import_archive_manifest(const ImportArchive *ia);
/* Removes whatever was written of an unfinished import. */
ImportArchive *import_archive_free(ImportArchive *ia);

/* ------------------------------------------------------------ images */

typedef struct ImportSet {
        Manifest *header;        /* identity (empty: unbound), source "import" */
        uint8_t **images;        /* one per header->parts[i], header->parts[i].size bytes */
        uint64_t total;          /* bytes of all images */
        BackupWriter *writer;    /* while being stored */
        size_t stored, offset;   /* parts stored, bytes of the next */
} ImportSet;

ImportSet *import_set_free(ImportSet *s);
/* Start an unbound set; add images to it. */
int import_set_new_unbound(const char *table_source, ImportSet **ret);
/* An image located by the scatter file (sc may be NULL: a raw image, located
 * at restore time).  Takes ownership of data on success. */
int import_set_add_image(ImportSet *s, const char *name, uint8_t *data, size_t size, const ScatterFile *sc,
                         char **ret_error);

/* Stores the set, a bounded piece at a time: 1 while there is more, 0 when
 * done (the new backup id in *ret_id), or a negative errno.  An archive's
 * claimed phone is kept only when this host's key vouches for it; else the
 * set is stored unbound, under IMPORT_DEVICE_KEY_UNBOUND. */
int import_set_store_step(ImportSet *s, BackupStore *store, char **ret_id);

static inline void import_set_freep(ImportSet **s) {
        if (*s)
                import_set_free(*s);
}

static inline void import_archive_freep(ImportArchive **ia) {
        if (*ia)
                import_archive_free(*ia);
}

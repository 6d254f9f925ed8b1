/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bringing backups in: an mtknvd export archive, an SP Flash Tool readback
 * (images plus the scatter file that locates them), or raw partition images
 * by name.  Every input is the caller's and untrusted; it is parsed from
 * memory (copied from a file descriptor with a size cap) and checked before
 * anything reaches the store.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "backup-store.h"
#include "manifest.h"
#include "scatter.h"

#define IMPORT_DEVICE_KEY_UNBOUND "unbound"

typedef struct ImportSet {
        Manifest *header;        /* identity (empty: unbound), source "import" */
        uint8_t **images;        /* one per header->parts[i], header->parts[i].size bytes */
} ImportSet;

ImportSet *import_set_free(ImportSet *s);

/* An mtknvd export: manifest.yaml and its images, every hash checked. */
int import_parse_archive(const uint8_t *data, size_t size, ImportSet **ret, char **ret_error);

/* Start an unbound set; add images to it. */
int import_set_new_unbound(const char *table_source, ImportSet **ret);
/* An image located by the scatter file (sc may be NULL: a raw image, located
 * at restore time).  Takes ownership of data on success. */
int import_set_add_image(ImportSet *s, const char *name, uint8_t *data, size_t size, const ScatterFile *sc,
                         char **ret_error);

/* Keeps an archive's claimed phone only when this host's key vouches for it
 * (else the set is stored unbound, under IMPORT_DEVICE_KEY_UNBOUND), hashes
 * and stores the set; a new backup id in *ret_id. */
int import_set_store(BackupStore *store, ImportSet *s, char **ret_id);

static inline void import_set_freep(ImportSet **s) {
        if (*s)
                import_set_free(*s);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Download Agents the daemon may use: copies added with AddDownloadAgent
 * (kept in STATE/da/) and files the administrator lists in the
 * configuration (DownloadAgent=).  No MediaTek binary ships with mtknvd.
 */
#pragma once

#include "fd-util.h"

#include <stdint.h>

#include "da-file.h"
#include "file-shelf.h"

typedef struct DaStoreMatch {
        char *name;            /* where it came from, for messages */
        uint8_t *data;
        size_t size;
        DaFile *file;
        const DaEntry *entry;
        FileShelfHolds *holds;  /* name is held there until da_store_match_done() */
} DaStoreMatch;

/* Where Download Agents come from. */
typedef struct DaStoreSources {
        const char *state_dir;            /* STATE/da/ holds the added ones */
        char *const *configured;          /* DownloadAgent= files, tried first */
        size_t n_configured;
        FileShelfHolds *holds;            /* the files matches hold: not to be removed meanwhile */
} DaStoreSources;

#define DA_STORE_SHELF "da"
/* Real DA containers are a few MiB (brom.md §6.4); refuse absurd input. */
#define DA_FILE_MAX (64u * 1024u * 1024u)

/* The first DA (configured files first, then added ones by name) with an
 * entry for this chip; -ENOENT when there is none.  The file is held
 * (src->holds) until da_store_match_done(). */
int da_store_find(const DaStoreSources *src, uint16_t da_code, uint16_t hw_version, uint16_t sw_version, DaStoreMatch *ret);
void da_store_match_done(DaStoreMatch *match);
/* Validates the DA in data and keeps a copy as STATE/da/<sha256>.bin;
 * *ret_file (if asked for) is the parsed DA, borrowing data.  *ret_error
 * explains a refusal. */
int da_store_add(const char *state_dir, const uint8_t *data, size_t size, DaFile **ret_file, char **ret_name,
                 char **ret_error);
/* Removes an added DA by its store name: -EBUSY while a running operation
 * holds it, -ENOENT / -EINVAL as file_shelf_remove(). */
int da_store_remove(const DaStoreSources *src, const char *name);

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

typedef struct DaStoreMatch {
        char *name;            /* where it came from, for messages */
        uint8_t *data;
        size_t size;
        DaFile *file;
        const DaEntry *entry;
} DaStoreMatch;

/* Where Download Agents come from. */
typedef struct DaStoreSources {
        const char *state_dir;            /* STATE/da/ holds the added ones */
        char *const *configured;          /* DownloadAgent= files, tried first */
        size_t n_configured;
} DaStoreSources;

/* The first DA (configured files first, then added ones by name) with an
 * entry for this chip; -ENOENT when there is none. */
int da_store_find(const DaStoreSources *src, uint16_t da_code, uint16_t hw_version, uint16_t sw_version, DaStoreMatch *ret);
void da_store_match_done(DaStoreMatch *match);
/* Validates the DA in data and keeps a copy as STATE/da/<sha256>.bin;
 * *ret_file (if asked for) is the parsed DA, borrowing data.  *ret_error
 * explains a refusal. */
int da_store_add(const char *state_dir, const uint8_t *data, size_t size, DaFile **ret_file, char **ret_name,
                 char **ret_error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The preloaders the daemon may take DRAM settings from (brom-emi.md §5):
 * copies added with AddPreloader (kept in STATE/preloader/, each checked
 * when added and again when loaded).  A phone in BROM mode needs the EMI
 * block of its own firmware's preloader; which one is chosen from what its
 * Download Agent reports, never guessed.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "preloader-emi.h"

/* preloader images are 100-500 KiB, boot-area dumps 4 MiB */
#define PRELOADER_FILE_MAX (8u * 1024u * 1024u)
#define PRELOADER_STORE_SHELF "preloader"

typedef struct Preloader {
        char *path;               /* STATE/preloader/<sha>.bin */
        char *name;               /* for messages: the file name its EMI block records, else the store name */
        uint8_t *data;
        size_t size;
        EmiBlock emi;             /* points into data */
} Preloader;

typedef struct PreloaderSet {
        Preloader *items;
        size_t n;
} PreloaderSet;

/* Checks the preloader in data (it must carry a usable EMI block) and keeps
 * a copy; *ret_name is the store's name, *ret_description what it holds
 * (preloader_describe()), *ret_error explains a refusal
 * (-EBADMSG, -ENODATA, -EPROTONOSUPPORT as preloader_parse_emi()). */
int preloader_store_add(const char *state_dir, const uint8_t *data, size_t size, char **ret_name,
                        char **ret_description, char **ret_error);
/* Every stored preloader whose EMI version is version (< 0: all); files
 * that no longer parse are skipped with a warning. */
int preloader_store_load(const char *state_dir, int version, PreloaderSet *ret);
void preloader_set_done(PreloaderSet *set);
/* A line for people: "preloader_k37mv1_bsp.bin: EMI v20, 3 records
 * (eMMC+LPDDR3 150100514436444142, ...)". */
int preloader_describe(const EmiBlock *emi, const char *name, char **ret);
/* Removes a stored preloader by its store name (-ENOENT, -EINVAL as
 * file_shelf_remove()).  An operation that loaded it keeps its copy. */
int preloader_store_remove(const char *state_dir, const char *name);

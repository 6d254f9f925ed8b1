/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names people give: a label per phone (keyed by its identity key, so it
 * outlives unplugging and restarts) and per backup (keyed by KEY/ID), kept
 * in STATE/labels, replaced atomically (temporary file, fsync, rename,
 * fsync of the directory).  One line per label: "phone" or "backup", a
 * tab, the key, a tab, the text; the checks below keep tabs and newlines
 * out of the text.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* characters (code points), not bytes */
#define LABEL_MAX_CHARS 64
#define LABEL_MAX_BYTES (4 * LABEL_MAX_CHARS)

typedef enum LabelKind {
        LABEL_PHONE,
        LABEL_BACKUP,
        _LABEL_KIND_MAX,
} LabelKind;

typedef struct LabelStore LabelStore;

/* Whether text may be a label: valid UTF-8, at most LABEL_MAX_CHARS
 * characters, no control characters (C0, DEL, C1).  "" is valid (it
 * clears).  -EINVAL with *ret_error saying what is wrong. */
int label_check(const char *text, char **ret_error);

/* STATE/labels, read (an absent file: no labels; a malformed line is logged
 * and skipped). */
int label_store_open(const char *state_dir, LabelStore **ret);
LabelStore *label_store_free(LabelStore *s);
/* The label, or "" when there is none. */
const char *label_store_get(const LabelStore *s, LabelKind kind, const char *key);
/* text "" removes it.  The file is rewritten before the change is kept in
 * memory: on failure, nothing changed.  Checks text (-EINVAL, *ret_error). */
int label_store_set(LabelStore *s, LabelKind kind, const char *key, const char *text, char **ret_error);

/* The file's text for a set of labels, and back (pure: the unit test's). */
int label_store_format(const LabelStore *s, char **ret);
int label_store_parse(LabelStore *s, const char *text);
/* An empty store that is not backed by a file (label_store_set() keeps
 * it in memory only). */
int label_store_new_memory(LabelStore **ret);

static inline void label_store_freep(LabelStore **s) {
        if (*s)
                label_store_free(*s);
}

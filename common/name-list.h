/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lists of names: "nvram,nvdata,proinfo" as a user, the configuration or
 * the restore journal writes them, and the NULL-terminated string arrays
 * (systemd's "strv") they become in memory and on the bus (as).  Written
 * once for the daemon and the client.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum NameListSplitFlags {
        /* skip empty items ("a,,b" is a b); without it an item between two
         * separators is kept as "" (for a caller that reports it), while an
         * empty string and a separator at the very end add nothing */
        NAME_LIST_DROP_EMPTY = 1 << 0,
} NameListSplitFlags;

/* s split at any of the characters in separators: *ret is a NULL-terminated
 * list (possibly with no item) the caller frees with name_list_free(). */
int name_list_split(const char *s, const char *separators, NameListSplitFlags flags, char ***ret);
/* The items of l between separator: *ret, "" for an empty list. */
int name_list_join(char *const *l, const char *separator, char **ret);

size_t name_list_length(char *const *l);
/* Whether l (NULL: empty) has an item equal to name. */
bool name_list_contains(char *const *l, const char *name);
/* Whether the comma list joined (NULL: empty) has an item equal to name;
 * for lists kept as one string (a restore's partitions). */
bool name_list_joined_contains(const char *joined, const char *name);

/* Frees l and its items; NULL. */
char **name_list_free(char **l);
static inline void name_list_freep(char ***l) {
        *l = name_list_free(*l);
}

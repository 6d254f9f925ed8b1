/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The partitions that hold a phone's identity (da.md §7): nvram, nvdata,
 * nvcfg, protect1, protect2, proinfo, persist — whichever the phone has.
 * They are backed up and restored together: nvram alone is what leaves
 * users with a wrong Wi-Fi MAC.
 */
#pragma once

#include <stddef.h>

#include "name-list.h"
#include "partition-table.h"

/* "nvram,nvdata,..." (commas or blanks) → NULL-terminated list of canonical
 * names, freed with name_list_free(); -EINVAL when it names none. */
int identity_set_parse(const char *spec, char ***ret);
/* The entries of t named in names, in table order. *ret is freed by the caller. */
int identity_set_select(const PartitionTable *t, char **names, const Partition ***ret, size_t *ret_n);

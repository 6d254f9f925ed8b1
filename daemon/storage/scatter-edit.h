/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The edit SP Flash Tool users make by hand before a Download: in a copy of
 * their V1.1.x scatter file, exactly the given partitions get their image as
 * file_name and is_download: true; every other partition is_download: false.
 * Everything else (comments, order, line endings, unknown keys) is kept
 * byte for byte, so the file stays the one the user's tool accepts.
 * A V2.x file has one table per "- storage_type:" block: the partitions are
 * marked in the block of the phone's storage only.  An XML file
 * (MTxxxx_Android_scatter.xml, da.md §6.3) gets the same edit in its
 * elements and is written back by libxml2: still XML, everything else in it
 * kept (its XML declaration may be respelled).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* names: canonical partition names (nvram, nvdata, …), files: their image
 * file names, n of each; storage: the phone's ("emmc", "ufs"), which picks
 * the table of a V2.x file.  -EBADMSG with *ret_error when the input is not a
 * V1.1.x, V2.x or XML scatter file, has no table for that storage, or lacks one of
 * the partitions or its keys. */
int scatter_edit_for_download(const uint8_t *data, size_t size, const char *storage, const char *const *names,
                              const char *const *files, size_t n, char **ret, size_t *ret_size, char **ret_error);

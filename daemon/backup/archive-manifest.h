/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manifest at the head of an mtknvd export archive, read without
 * importing anything: what Inspect describes.  An export writes
 * manifest.yaml first, so reading stops there, within a small budget of
 * decompressed bytes (archive-scan.h): a caller's archive of any size costs
 * at most that.
 */
#pragma once

#include <stddef.h>

#include "manifest.h"

/* 1 with *ret: data is an mtknvd export and its manifest is valid.  0 with
 * *ret_error, a sentence for the user: data is a tar archive but damaged, not
 * an export, or its manifest is unusable.  -ENOENT: data is no tar archive
 * (a caller may try other formats); -ENOMEM. */
int archive_read_manifest(const void *data, size_t size, Manifest **ret, char **ret_error);

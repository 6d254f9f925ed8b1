/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A shelf of small input files the daemon keeps in STATE/<shelf>/ (the
 * Download Agents and preloaders users add): each stored once, named by
 * its content's SHA-256, written crash-safe (temporary name, fsync,
 * rename, fsync of the directory), listed in name order.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keeps data as STATE/<shelf>/<sha256 prefix>.bin (the directory is
 * created); *ret_name is that file name.  A file already there is kept. */
int file_shelf_store(const char *state_dir, const char *shelf, const uint8_t *data, size_t size, char **ret_name);
/* The paths of the shelf's files, sorted; an absent shelf is empty. */
int file_shelf_list(const char *state_dir, const char *shelf, char ***ret_paths, size_t *ret_n);
void file_shelf_list_free(char **paths, size_t n);
/* A shelf file, at most max bytes (-EFBIG beyond). */
int file_shelf_read(const char *path, size_t max, uint8_t **ret, size_t *ret_size);
/* Removes STATE/<shelf>/<name> (a name file_shelf_store() gave) durably:
 * -EINVAL for a name it never gives, -ENOENT when there is none. */
int file_shelf_remove(const char *state_dir, const char *shelf, const char *name);

/* The shelf files running operations hold (by path), so that removing one
 * can be refused while it is in use. */
typedef struct FileShelfHolds FileShelfHolds;
int file_shelf_holds_new(FileShelfHolds **ret);
FileShelfHolds *file_shelf_holds_free(FileShelfHolds *h);
int file_shelf_hold(FileShelfHolds *h, const char *path);
void file_shelf_release(FileShelfHolds *h, const char *path);
bool file_shelf_is_held(const FileShelfHolds *h, const char *path);

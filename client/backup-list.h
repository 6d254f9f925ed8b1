/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backups the daemon keeps (its Backup objects) and the verbs that list,
 * show and verify them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "args.h"

typedef struct BackupPart {
        char *name, *sha256, *file, *region;
        uint64_t offset, size;
} BackupPart;

typedef struct BackupEntry {
        char *path, *id, *device_key, *source, *chip, *me_id, *emmc_cid, *table_source, *binding;
        char *label, *device_label;   /* the backup's, its phone's; "" when none */
        uint64_t created, imported, size;
        bool verified, bound;
        BackupPart *parts;
        size_t n_parts;
} BackupEntry;

void backup_entry_array_free(BackupEntry *a, size_t n);
/* Why b is not bound, as the daemon says it (a clause: "its binding was signed by another host's key"). */
const char *backup_entry_unbound_reason(const BackupEntry *b);
/* Every backup into *ret_all and the one arg names (the object path,
 * "KEY/ID", the backup id, or a unique prefix of either) into *ret.  Errors
 * are reported on stderr and returned as a negative exit status. */
int backup_list_find_one(sd_bus *bus, const char *arg, BackupEntry **ret_all, size_t *ret_n, BackupEntry **ret);

/* The newest verified backup of the phone with this device key: *ret_id
 * ("KEY/ID", NULL when there is none) and its creation time. */
int backups_latest_verified(sd_bus *bus, const char *device_key, char **ret_id, uint64_t *ret_created);
/* "2026-12-01 21:00:05" in local time */
void backups_format_time(uint64_t usec, char *buf, size_t size);

int verb_backups(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_show_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_verify_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_delete_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_prune(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_label(sd_bus *bus, const Args *a, int argc, char **argv);
/* The paths of every stored backup (to tell an import already stored from a new one). */
int backup_list_paths(sd_bus *bus, char ***ret, size_t *ret_n);

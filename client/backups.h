/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs of mtknvctl and the options they share. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "bus.h"

typedef struct Args {
        bool json;
        bool wait;
        double timeout;         /* seconds; < 0: the verb's default */
        const char *state;
        const char *scatter;
        const char *device;
        bool dry_run, allow_foreign, yes;
        bool no_ask_password;
        bool resume, rollback;
        const char *partitions;    /* restore: comma list */
        const char *format;        /* export-backup: mtknvd | spflash */
        const char *partition;     /* import: a raw image's partition */
        bool spflash;              /* import: SP Flash Tool readback */
        const char *port, *who, *why;  /* inhibit */
        unsigned count;
} Args;

/* The newest verified backup of the phone with this device key: *ret_id
 * ("KEY/ID", NULL when there is none) and its creation time. */
int backups_latest_verified(sd_bus *bus, const char *device_key, char **ret_id, uint64_t *ret_created);
/* "2026-12-01 21:00:05" in local time */
void backups_format_time(uint64_t usec, char *buf, size_t size);

int verb_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_restore(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_backups(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_show_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_verify_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_export_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_import(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_add_da(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_inspect(sd_bus *bus, const Args *a, int argc, char **argv);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SYSCONFDIR/mtknvd/mtknvd.conf (/etc/mtknvd/mtknvd.conf when installed with
 * PREFIX=/usr): "Key=Value" lines, '#' comments, documented in mtknvd.conf(5).  Unknown keys are warned about and ignored so an older
 * daemon can read a newer file.
 */
#pragma once

#include <stdint.h>

#include "usb-ids.h"

/* SYSCONFDIR comes from the Makefile (it follows PREFIX) and is given to main.c
 * only: a file that expands this without it fails to compile, never goes stale. */
#define CONFIG_FILE_DEFAULT SYSCONFDIR "/mtknvd/mtknvd.conf"
#define CONFIG_GRACE_USEC_DEFAULT (10ULL * 1000000ULL)
/* A phone that reboots leaves its port and is back within a few seconds; a
 * person unplugging, powering off and plugging in again takes longer. */
#define CONFIG_BOOT_WINDOW_USEC_DEFAULT (5ULL * 1000000ULL)
#define CONFIG_FILE_TIMEOUT_USEC_DEFAULT (30ULL * 1000000ULL)

typedef enum AutoBackup {
        AUTO_BACKUP_FIRST_SEEN,       /* only when no verified backup of this phone exists */
        AUTO_BACKUP_ALWAYS,
        AUTO_BACKUP_NEVER,
} AutoBackup;

#define CONFIG_IDENTITY_DEFAULT "nvram,nvdata,nvcfg,protect1,protect2,proinfo,persist"

typedef struct Config {
        UsbIdList usb_ids;
        uint64_t grace_usec;          /* keep a vanished phone's object this long */
        AutoBackup auto_backup;
        char *identity_spec;          /* comma-separated partition names */
        char **download_agents;       /* administrator's DA files */
        size_t n_download_agents;
        uint64_t idle_exit_usec;      /* 0: never exit on idle */
        uint64_t boot_window_usec;    /* back on its port within this: a boot, not a plug-in */
        uint64_t file_timeout_usec;   /* a call that reads or writes a caller's file ends by then */
        /* retention (backup-retention.h), applied after each commit; 0: keep all */
        uint64_t keep_last;           /* KeepLast=: per phone and source */
        uint64_t keep_pre_restore_usec; /* KeepPreRestoreDays= */
} Config;

const char *auto_backup_to_string(AutoBackup a);
int auto_backup_from_string(const char *s, AutoBackup *ret);

int config_init(Config *c);
/* A missing file is not an error; a malformed line is, naming file and line. */
int config_load(Config *c, const char *path);
void config_done(Config *c);
int config_parse_seconds(const char *s, uint64_t *ret_usec);

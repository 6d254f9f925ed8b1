/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The options of mtknvctl, as main() parsed them, for every verb. */
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
        bool force;                /* delete-backup: even the only verified one; export-backup: overwrite */
        bool no_ask_password;
        bool resume, rollback;
        const char *partitions;    /* restore: comma list */
        const char *format;        /* export-backup: mtknvd | spflash */
        const char *compress;      /* export-backup: none | gzip | xz | zstd */
        const char *partition;     /* import: a raw image's partition */
        bool spflash;              /* import: SP Flash Tool readback */
        const char *port, *who, *why;  /* inhibit */
        unsigned count;
} Args;

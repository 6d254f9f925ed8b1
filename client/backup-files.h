/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs that hand the daemon a file as a descriptor, opened with the
 * caller's own rights: export-backup, import. */
#pragma once

#include <systemd/sd-bus.h>

#include "args.h"

/* path opened for reading; -1, reported on stderr, when it cannot be */
int file_open_input(const char *path);

int verb_export_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_import(sd_bus *bus, const Args *a, int argc, char **argv);

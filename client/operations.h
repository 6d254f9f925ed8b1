/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs that run an operation on a phone and follow its job: backup and
 * restore (with --resume and --rollback). */
#pragma once

#include <systemd/sd-bus.h>

#include "args.h"

int verb_backup(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_restore(sd_bus *bus, const Args *a, int argc, char **argv);

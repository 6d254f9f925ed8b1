/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs that give the daemon what a phone in BROM mode needs: its
 * preloader (add-preloader) or its whole firmware folder (add-firmware). */
#pragma once

#include <systemd/sd-bus.h>

#include "args.h"

int verb_add_preloader(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_add_firmware(sd_bus *bus, const Args *a, int argc, char **argv);

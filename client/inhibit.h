/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mtknvctl inhibit: keep mtknvd away from phones while another tool uses them. */
#pragma once

#include <systemd/sd-bus.h>

#include "args.h"

/* argv[0] is "inhibit"; argv[1...], if any, the command to run while the
 * inhibitor is held.  Returns the command's exit status (128 + signal when
 * a signal ended it), or an mtknvctl exit code when there is no command. */
int verb_inhibit(sd_bus *bus, const Args *a, int argc, char **argv);

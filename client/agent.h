/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mtknvctl agent: desktop notifications for what mtknvd does. */
#pragma once

#include <systemd/sd-bus.h>

#include "args.h"

/* The agent's well-known name on the session bus: one agent per session,
 * however it was started (XDG autostart or the systemd user unit). */
#define MTKNV_AGENT_BUS_NAME "org.mtknvd.MtkNv1.Agent"

int verb_agent(sd_bus *bus, const Args *a, int argc, char **argv);

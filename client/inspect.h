/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inspect, add-da, and the stored Download Agents and preloaders:
 * list-da, remove-da, list-preloaders, remove-preloader. */
#pragma once

#include <systemd/sd-bus.h>

#include "args.h"
#include "output.h"

/* Manager.Inspect's description of a file, for people (80 columns). */
void inspect_print(const Dict *d);

int verb_inspect(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_add_da(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_list_da(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_remove_da(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_list_preloaders(sd_bus *bus, const Args *a, int argc, char **argv);
int verb_remove_preloader(sd_bus *bus, const Args *a, int argc, char **argv);

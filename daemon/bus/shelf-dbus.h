/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Manager's methods for the shelves of input files (file-shelf.h): the
 * Download Agents (ListDownloadAgents, RemoveDownloadAgent) and the
 * preloaders (ListPreloaders, RemovePreloader), one code for both.
 */
#pragma once

#include <systemd/sd-bus.h>

int shelf_dbus_list_download_agents(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int shelf_dbus_remove_download_agent(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int shelf_dbus_list_preloaders(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int shelf_dbus_remove_preloader(sd_bus_message *msg, void *userdata, sd_bus_error *error);

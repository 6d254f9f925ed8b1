/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.mtknvd.MtkNv1.Backup: a stored backup (backup/backup-store.h) on the bus. */
#pragma once

#include <systemd/sd-bus.h>

extern const sd_bus_vtable backup_vtable[];
int backup_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error);
int backup_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
/* Manager methods that act on the store (registered in manager-dbus.c). */
int backup_dbus_method_set_label(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int backup_dbus_method_get_store_usage(sd_bus_message *msg, void *userdata, sd_bus_error *error);

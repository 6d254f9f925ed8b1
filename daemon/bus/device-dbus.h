/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.mtknvd.MtkNv1.Device: the face of a Device (core/device.h). */
#pragma once

#include <systemd/sd-bus.h>

#include "device.h"

extern const sd_bus_vtable device_vtable[];
int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error);
int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
/* PropertiesChanged for names (NULL-terminated), if d is published. */
void device_dbus_emit_changed(sd_bus *bus, Device *d, const char *const *names);

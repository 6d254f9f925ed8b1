/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.mtknvd.MtkNv1.Manager, and the object tree under it. */
#pragma once

#include "manager.h"

/* Publishes m on bus: the Manager, and the Device, Job and Backup object
 * families; then m's events are emitted on it, and the bus name is taken. */
int manager_dbus_attach(Manager *m, sd_bus *bus);

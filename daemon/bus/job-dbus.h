/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.mtknvd.MtkNv1.Job: the face of a Job (core/job.h). */
#pragma once

#include <systemd/sd-bus.h>

#include "job.h"

extern const sd_bus_vtable job_vtable[];
int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
void job_dbus_emit_changed(sd_bus *bus, Job *j, const char *const *names);
/* InterfacesAdded and Manager.JobNew */
void job_dbus_emit_new(sd_bus *bus, Job *j);
/* Job.Completed and InterfacesRemoved, while the job can still be looked up */
void job_dbus_emit_completed(sd_bus *bus, Job *j, bool success, const char *message);
/* Manager.JobRemoved, once it is gone from the list */
void job_dbus_emit_removed(sd_bus *bus, Job *j, bool success, const char *message);

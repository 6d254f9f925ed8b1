/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "job-dbus.h"
#include "bus-util.h"
#include "log.h"
#include "manager.h"
#include "mtknv-bus.h"

static int property_get_expected_end(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        uint64_t end = 0;

        if (j->rate > 0 && j->total_bytes > j->bytes)
                end = j->start_usec + (uint64_t) ((double) j->total_bytes * 1e6 / (double) j->rate);
        return sd_bus_message_append(reply, "t", end);
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        int r;

        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid = (uid_t) -1;

        /* none is defined yet: an unknown one is an error, not ignored */
        r = bus_message_read_options(msg, (const BusOption[]) { {} }, error);
        if (r < 0)
                return r;
        /* whoever started a job may stop it; anyone else needs the manage action */
        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds) >= 0)
                (void) sd_bus_creds_get_euid(creds, &uid);
        if (uid != j->started_by_uid) {
                r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "manage", "cancel another user's job",
                                            ((Manager *) j->owner)->polkit, error);
                if (r <= 0)
                        return r < 0 ? r : 1;
        }
        if (!j->cancelable || !j->cancel)
                return sd_bus_error_set(error, MTKNV_ERROR_BUSY,
                                        "This job cannot be cancelled right now (a write is in progress); it "
                                        "will roll back or finish by itself.");
        r = j->cancel(j, j->userdata);
        if (r == -EBUSY)
                return sd_bus_error_set(error, MTKNV_ERROR_BUSY, "This job cannot be cancelled right now.");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Job, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Operation", "s", NULL, offsetof(Job, operation), SD_BUS_VTABLE_PROPERTY_CONST),
        /* never NULL: "/" while the job waits for a phone (job_new()) */
        SD_BUS_PROPERTY("Device", "o", NULL, offsetof(Job, device_path), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Step", "s", NULL, offsetof(Job, step), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "d", NULL, offsetof(Job, progress), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ProgressValid", "b", bus_property_get_bool, offsetof(Job, progress_valid),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Bytes", "t", NULL, offsetof(Job, bytes), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TotalBytes", "t", NULL, offsetof(Job, total_bytes), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Rate", "t", NULL, offsetof(Job, rate), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(Job, size), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartTime", "t", NULL, offsetof(Job, start_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ExpectedEndTime", "t", property_get_expected_end, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Cancelable", "b", bus_property_get_bool, offsetof(Job, cancelable),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartedByUID", "u", NULL, offsetof(Job, started_by_uid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_NAMES("Cancel", "a{sv}", SD_BUS_PARAM(options), "", "", method_cancel,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("Completed", "bs", SD_BUS_PARAM(success) SD_BUS_PARAM(message), 0),
        SD_BUS_VTABLE_END,
};

int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_jobs; i++)
                if (streq(m->jobs[i]->object_path, path)) {
                        *found = m->jobs[i];
                        return 1;
                }
        return 0;
}

static const char *job_path_of(const void *o) {
        return ((const Job *) o)->object_path;
}

int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;

        return bus_node_list((void *const *) m->jobs, m->n_jobs, job_path_of, nodes);
}

void job_dbus_emit_changed(sd_bus *bus, Job *j, const char *const *names) {
        if (bus)
                (void) sd_bus_emit_properties_changed_strv(bus, j->object_path, MTKNV_JOB_IFACE, (char **) names);
}

void job_dbus_emit_new(sd_bus *bus, Job *j) {
        if (!bus)
                return;
        (void) sd_bus_emit_object_added(bus, j->object_path);
        (void) sd_bus_emit_signal(bus, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "JobNew", "uo", j->id, j->object_path);
}

void job_dbus_emit_completed(sd_bus *bus, Job *j, bool success, const char *message) {
        if (!bus)
                return;
        (void) sd_bus_emit_signal(bus, j->object_path, MTKNV_JOB_IFACE, "Completed", "bs", success, message);
        (void) sd_bus_emit_object_removed(bus, j->object_path);
}

void job_dbus_emit_removed(sd_bus *bus, Job *j, bool success, const char *message) {
        if (bus)
                (void) sd_bus_emit_signal(bus, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "JobRemoved", "uos", j->id,
                                          j->object_path, success ? "done" : message);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device.h"
#include "job.h"
#include "log.h"
#include "manager.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", MTKNVD_VERSION);
}

static int property_get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_devices; i++) {
                r = sd_bus_message_append(reply, "o", m->devices[i]->object_path);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_usb_ids(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(qqs)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->config.usb_ids.n; i++) {
                const UsbIdMatch *id = &m->config.usb_ids.ids[i];

                r = sd_bus_message_append(reply, "(qqs)", id->vid, id->pid, id->brom ? "brom" : "preloader");
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "ao", property_get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SupportedUsbIds", "a(qqs)", property_get_usb_ids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_SIGNAL("JobNew", "uo", 0),
        SD_BUS_SIGNAL("JobRemoved", "uos", 0),
        SD_BUS_VTABLE_END,
};

int manager_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_object_manager(m->bus, &m->slots[0], "/");
        if (r < 0)
                return log_error_errno(r, "Failed to add object manager: %m");
        r = sd_bus_add_object_vtable(m->bus, &m->slots[1], MTKNVD_MANAGER_PATH, MTKNVD_MANAGER_IFACE,
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register manager object: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[2], MTKNVD_DEVICE_PREFIX, MTKNVD_DEVICE_IFACE,
                                       device_vtable, device_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register device objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[3], MTKNVD_DEVICE_PREFIX, device_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register device enumerator: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[4], MTKNVD_JOB_PREFIX, MTKNVD_JOB_IFACE, job_vtable,
                                       job_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register job objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[5], MTKNVD_JOB_PREFIX, job_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register job enumerator: %m");
        return 0;
}

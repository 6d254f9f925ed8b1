/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's top-level object: the event loop's users (udev, libusb,
 * D-Bus) and the table of phones.
 */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "device-monitor.h"
#include "usb-transport.h"

#define MTKNVD_BUS_NAME        "org.mtknvd.MtkNv1"
#define MTKNVD_MANAGER_PATH    "/org/mtknvd/MtkNv1"
#define MTKNVD_DEVICE_PREFIX   "/org/mtknvd/MtkNv1/device"
#define MTKNVD_MANAGER_IFACE   "org.mtknvd.MtkNv1.Manager"
#define MTKNVD_DEVICE_IFACE    "org.mtknvd.MtkNv1.Device"
#define MTKNVD_ERROR_PREFIX    "org.mtknvd.MtkNv1.Error."

typedef struct Device Device;
typedef struct Job Job;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        UsbContext *usb;
        DeviceMonitor *monitor;
        Config config;
        Device **devices;
        size_t n_devices;
        Job **jobs;
        size_t n_jobs;
        uint32_t next_job_id;
        sd_bus_slot *slots[8];
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
/* Loads configuration, connects the bus (address NULL: system bus) and
 * starts watching for phones. */
int manager_start(Manager *m, sd_bus *bus);

int manager_add_device(Manager *m, Device *d);
void manager_remove_device(Manager *m, Device *d);
Device *manager_find_device_by_path(Manager *m, const char *path);
Device *manager_find_device_by_usb_path(Manager *m, const char *usb_path);
Device *manager_find_device_by_syspath(Manager *m, const char *syspath);
void manager_emit_devices_changed(Manager *m);

int manager_dbus_register(Manager *m);

static inline void manager_freep(Manager **m) {
        if (*m)
                manager_free(*m);
}

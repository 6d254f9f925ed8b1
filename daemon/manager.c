/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "device.h"
#include "job.h"
#include "log.h"
#include "manager.h"

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        r = config_init(&m->config);
        if (r < 0)
                return r;
        r = sd_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Devices first: their sessions hold libusb handles. */
        while (m->n_jobs > 0)
                job_free(m->jobs[0]);
        free(m->jobs);
        while (m->n_devices > 0)
                device_free(m->devices[--m->n_devices]);
        free(m->devices);
        for (size_t i = 0; i < ELEMENTSOF(m->slots); i++)
                sd_bus_slot_unref(m->slots[i]);
        device_monitor_free(m->monitor);
        usb_context_free(m->usb);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m);
        return NULL;
}

Device *manager_find_device_by_path(Manager *m, const char *path) {
        for (size_t i = 0; i < m->n_devices; i++)
                if (streq(m->devices[i]->object_path, path))
                        return m->devices[i];
        return NULL;
}

Device *manager_find_device_by_usb_path(Manager *m, const char *usb_path) {
        for (size_t i = 0; i < m->n_devices; i++)
                if (streq(m->devices[i]->usb_path, usb_path))
                        return m->devices[i];
        return NULL;
}

Device *manager_find_device_by_syspath(Manager *m, const char *syspath) {
        for (size_t i = 0; i < m->n_devices; i++)
                if (streq_ptr(m->devices[i]->syspath, syspath))
                        return m->devices[i];
        return NULL;
}

void manager_emit_devices_changed(Manager *m) {
        if (m->bus)
                sd_bus_emit_properties_changed(m->bus, MTKNVD_MANAGER_PATH, MTKNVD_MANAGER_IFACE, "Devices",
                                               NULL);
}

int manager_add_device(Manager *m, Device *d) {
        Device **n;
        int r;

        n = reallocarray(m->devices, m->n_devices + 1, sizeof(Device *));
        if (!n)
                return -ENOMEM;
        m->devices = n;
        m->devices[m->n_devices++] = d;

        if (m->bus) {
                r = sd_bus_emit_object_added(m->bus, d->object_path);
                if (r < 0)
                        log_debug_errno(r, "Failed to announce %s: %m", d->object_path);
        }
        manager_emit_devices_changed(m);
        return 0;
}

void manager_remove_device(Manager *m, Device *d) {
        size_t i;
        int r;

        for (i = 0; i < m->n_devices; i++)
                if (m->devices[i] == d)
                        break;
        if (i >= m->n_devices)
                return;

        /* Announce while the object can still be looked up for its interfaces. */
        if (m->bus) {
                r = sd_bus_emit_object_removed(m->bus, d->object_path);
                if (r < 0)
                        log_debug_errno(r, "Failed to announce removal of %s: %m", d->object_path);
        }
        m->devices[i] = m->devices[--m->n_devices];
        manager_emit_devices_changed(m);
}

static void manager_on_usb_event(DeviceMonitor *mon, const UsbDeviceEvent *ev, void *userdata) {
        Manager *m = userdata;
        const UsbIdMatch *match;
        Device *d;
        int r;

        match = usb_id_list_find(&m->config.usb_ids, ev->vid, ev->pid);
        if (!match)
                return;

        if (!ev->add) {
                d = manager_find_device_by_syspath(m, ev->syspath);
                if (d)
                        device_detach(d);
                return;
        }

        d = manager_find_device_by_syspath(m, ev->syspath);
        if (d && d->present && d->busnum == ev->busnum && d->devnum == ev->devnum)
                return; /* seen twice: enumeration raced the monitor */
        if (!d)
                d = manager_find_device_by_usb_path(m, ev->sysname);

        if (!d) {
                r = device_new(m, ev, match->brom, &d);
                if (r < 0) {
                        log_error_errno(r, "Cannot track phone at USB %s: %m", ev->sysname);
                        return;
                }
                r = manager_add_device(m, d);
                if (r < 0) {
                        device_free(d);
                        log_oom();
                        return;
                }
        }
        r = device_attach(d, ev, match->brom);
        if (r < 0)
                log_error_errno(r, "Cannot start talking to the phone at USB %s: %m", ev->sysname);
}

static void manager_on_usb_arrival(UsbContext *usb, uint8_t busnum, uint8_t devnum, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_devices; i++)
                device_usb_arrived(m->devices[i], busnum, devnum);
}

int manager_start(Manager *m, sd_bus *bus) {
        int r;

        m->bus = sd_bus_ref(bus);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");
        r = manager_dbus_register(m);
        if (r < 0)
                return r;

        /* Monitor first, then libusb, then enumerate: a phone plugged in
         * meanwhile is either in the enumeration or in the monitor's queue. */
        r = device_monitor_new(m->event, manager_on_usb_event, m, &m->monitor);
        if (r < 0)
                return r;
        r = usb_context_new(m->event, &m->usb);
        if (r < 0)
                return r;
        usb_context_set_arrival_callback(m->usb, manager_on_usb_arrival, m);

        r = sd_bus_request_name(m->bus, MTKNVD_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "Another mtknvd already owns %s on this bus.", MTKNVD_BUS_NAME);
        if (r == -EACCES)
                return log_error_errno(r, "Not allowed to own %s: the D-Bus policy file "
                                       "(/usr/share/dbus-1/system.d/%s.conf) is missing, or mtknvd "
                                       "is not running as root.", MTKNVD_BUS_NAME, MTKNVD_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire bus name %s: %m", MTKNVD_BUS_NAME);

        return device_monitor_enumerate(m->monitor);
}

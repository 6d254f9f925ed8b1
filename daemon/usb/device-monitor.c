/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libudev.h>
#include <stdlib.h>

#include "device-monitor.h"
#include "log.h"
#include "usb-ids.h"

struct DeviceMonitor {
        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *source;
        DeviceMonitorFunc cb;
        void *userdata;
};

int device_monitor_parse_number(const char *s, uint16_t *ret) {
        unsigned long v;
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT16_MAX)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

static int device_monitor_report(DeviceMonitor *m, struct udev_device *d, bool add) {
        UsbDeviceEvent ev = { .add = add };
        const char *busnum, *devnum;

        ev.syspath = udev_device_get_syspath(d);
        ev.sysname = udev_device_get_sysname(d);
        if (!ev.syspath || !ev.sysname)
                return 0;

        /* Read everything from the event's properties: on "remove" the
         * sysfs directory is already gone. */
        if (usb_id_parse_product(udev_device_get_property_value(d, "PRODUCT"), &ev.vid, &ev.pid) < 0)
                return 0;
        busnum = udev_device_get_property_value(d, "BUSNUM");
        devnum = udev_device_get_property_value(d, "DEVNUM");
        if ((busnum && device_monitor_parse_number(busnum, &ev.busnum) < 0) ||
            (devnum && device_monitor_parse_number(devnum, &ev.devnum) < 0)) {
                log_debug("Ignoring USB device %s: BUSNUM \"%s\", DEVNUM \"%s\" are not device numbers.",
                          ev.sysname, busnum ?: "", devnum ?: "");
                return 0;
        }
        if (add && (!busnum || !devnum))
                return 0;

        m->cb(m, &ev, m->userdata);
        return 0;
}

static int on_udev_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DeviceMonitor *m = userdata;
        struct udev_device *d;
        const char *action;

        d = udev_monitor_receive_device(m->monitor);
        if (!d)
                return 0;
        action = udev_device_get_action(d);
        if (action && streq(action, "add"))
                device_monitor_report(m, d, true);
        else if (action && streq(action, "remove"))
                device_monitor_report(m, d, false);
        udev_device_unref(d);
        return 0;
}

int device_monitor_new(sd_event *event, DeviceMonitorFunc cb, void *userdata, DeviceMonitor **ret) {
        _cleanup_(device_monitor_freep) DeviceMonitor *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->cb = cb;
        m->userdata = userdata;

        m->udev = udev_new();
        if (!m->udev)
                return log_error_errno(ENOMEM, "Failed to create udev context.");
        m->monitor = udev_monitor_new_from_netlink(m->udev, "udev");
        if (!m->monitor)
                return log_error_errno(EIO, "Failed to create udev monitor; is /run/udev available?");
        r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "usb", "usb_device");
        if (r < 0)
                return log_error_errno(r, "Failed to filter udev monitor: %m");
        r = udev_monitor_enable_receiving(m->monitor);
        if (r < 0)
                return log_error_errno(r, "Failed to start udev monitor: %m");

        r = sd_event_add_io(event, &m->source, udev_monitor_get_fd(m->monitor), EPOLLIN, on_udev_event, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch udev monitor: %m");
        sd_event_source_set_description(m->source, "udev-monitor");
        /* a new phone's preloader listens for 2.5 s only: its arrival goes
         * before the bulk data of the phones being backed up */
        (void) sd_event_source_set_priority(m->source, SD_EVENT_PRIORITY_IMPORTANT);

        *ret = TAKE_PTR(m);
        return 0;
}

DeviceMonitor *device_monitor_free(DeviceMonitor *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->source);
        udev_monitor_unref(m->monitor);
        udev_unref(m->udev);
        free(m);
        return NULL;
}

int device_monitor_enumerate(DeviceMonitor *m) {
        struct udev_enumerate *e;
        struct udev_list_entry *item;
        int r;

        e = udev_enumerate_new(m->udev);
        if (!e)
                return -ENOMEM;
        r = udev_enumerate_add_match_subsystem(e, "usb");
        if (r >= 0)
                r = udev_enumerate_add_match_property(e, "DEVTYPE", "usb_device");
        if (r >= 0)
                r = udev_enumerate_scan_devices(e);
        if (r < 0) {
                udev_enumerate_unref(e);
                return log_error_errno(r, "Failed to enumerate USB devices: %m");
        }

        udev_list_entry_foreach(item, udev_enumerate_get_list_entry(e)) {
                struct udev_device *d = udev_device_new_from_syspath(m->udev, udev_list_entry_get_name(item));

                if (!d)
                        continue;
                device_monitor_report(m, d, true);
                udev_device_unref(d);
        }
        udev_enumerate_unref(e);
        return 0;
}

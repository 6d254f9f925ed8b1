/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Phones arriving and leaving, from libudev: a monitor on usb/usb_device
 * plus an enumeration at start-up for phones that were plugged in before
 * the daemon ran (the uevent that started us is long gone).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct DeviceMonitor DeviceMonitor;

typedef struct UsbDeviceEvent {
        bool add;               /* false: removed */
        const char *syspath;
        const char *sysname;    /* the kernel's USB path, "1-1" */
        uint16_t vid, pid;
        uint16_t busnum, devnum;  /* sysfs numbers are not bounded by 255: never truncate them */
} UsbDeviceEvent;

typedef void (*DeviceMonitorFunc)(DeviceMonitor *m, const UsbDeviceEvent *ev, void *userdata);

int device_monitor_new(sd_event *event, DeviceMonitorFunc cb, void *userdata, DeviceMonitor **ret);
DeviceMonitor *device_monitor_free(DeviceMonitor *m);
/* BUSNUM/DEVNUM of a uevent ("001", "300"): decimal, at most 65535;
 * -EINVAL for anything else (never a truncated number: it could name
 * another device). */
int device_monitor_parse_number(const char *s, uint16_t *ret);
/* Reports every USB device present now as an "add". */
int device_monitor_enumerate(DeviceMonitor *m);

static inline void device_monitor_freep(DeviceMonitor **m) {
        if (*m)
                device_monitor_free(*m);
}

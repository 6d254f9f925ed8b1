/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A simulated phone on umockdev's emulated USB: sysfs device and
 * interfaces with faithful CDC-ACM descriptors, a /dev/bus/usb node, and
 * the usbdevfs ioctls libusb issues, answered from the SimPhone.
 *
 * umockdev calls the ioctl handler from its own worker thread; everything
 * else runs in the main loop.  Each device has one lock for both.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <umockdev.h>

#include "sim-phone.h"

typedef struct SimDevice SimDevice;
/* Phones behind one simulated USB 2.0 hub (phone key hub=): they share one
 * half-duplex line of rate MB/s, served round-robin (tests/sim/README.md
 * "USB model"), and one lock. */
typedef struct SimUsbHub SimUsbHub;
typedef void (*SimDeviceGoneFunc)(SimDevice *d, void *userdata);

/* Takes ownership of phone.  port is the kernel USB path, e.g. "1-1". */
SimDevice *sim_device_new(UMockdevTestbed *tb, SimPhone *phone, const char *port);
void sim_device_free(SimDevice *d);
/* Put a new device behind hub (before its first plug; for its lifetime). */
void sim_device_set_hub(SimDevice *d, SimUsbHub *hub);

SimUsbHub *sim_usb_hub_new(const char *name, double rate_mbps, unsigned latency_us);
/* After its devices are freed. */
void sim_usb_hub_free(SimUsbHub *hub);
const char *sim_usb_hub_name(const SimUsbHub *hub);
double sim_usb_hub_rate(const SimUsbHub *hub);
unsigned sim_usb_hub_latency(const SimUsbHub *hub);

/* Enumerate on the bus with this device number; emits the uevents. */
gboolean sim_device_plug(SimDevice *d, unsigned devnum, GError **error);
/* Leave the bus: pending transfers fail with ENODEV, remove uevents. */
void sim_device_unplug(SimDevice *d);
bool sim_device_is_plugged(SimDevice *d);
const char *sim_device_port(SimDevice *d);
/* "rate=… latency_us=… xfers_in=N xfers_out=N devnum=N out_stalls=N clear_halts=N"
 * for the control channel (under the lock). */
char *sim_device_stats(SimDevice *d);
/* Called in the main loop when the phone leaves the bus by itself. */
void sim_device_set_gone_callback(SimDevice *d, SimDeviceGoneFunc cb, void *userdata);
/* Called in the main loop after the phone's sim_phone_events() changed. */
void sim_device_set_event_callback(SimDevice *d, SimDeviceGoneFunc cb, void *userdata);

/* The phone under the device lock. */
SimPhone *sim_device_lock(SimDevice *d);
void sim_device_unlock(SimDevice *d);

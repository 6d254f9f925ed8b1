/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One phone: its USB session, what it told us about itself, and its
 * D-Bus object.  A phone that vanishes keeps its object for a grace
 * period so that re-enumeration (BROM -> preloader, a cable wiggle) does
 * not look like a new phone.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "brom.h"
#include "device-monitor.h"
#include "manager.h"

/* A real preloader listens for a host for about two seconds and then boots;
 * the daemon opens it only when something will happen, and lets it go
 * (reboots it) when done, so that the phone always boots in the end. */
typedef enum DeviceState {
        DEVICE_IDLE,              /* present, not opened: left to boot (StateReason says why) */
        DEVICE_IDENTIFYING,
        DEVICE_READY,             /* identified, in the command loop, an operation may start */
        DEVICE_BUSY,
        DEVICE_RELEASED,          /* done with: rebooted, leaving the bus to boot */
        DEVICE_UNSUPPORTED,       /* identified, cannot be backed up: Error says why and what to do */
        DEVICE_ERROR,
        DEVICE_DISCONNECTED,
} DeviceState;

struct Device {
        Manager *manager;
        char *object_path;
        char *syspath;
        char usb_path[64];
        uint16_t busnum, devnum;
        uint16_t vid, pid;
        bool brom_mode;
        bool present;

        DeviceState state;
        char *error;              /* cause and remedy, for people */
        char *error_name;         /* org.mtknvd.MtkNv1.Error.*, for programs */
        char *warning;            /* e.g. what secure boot means for backups */
        char *state_reason;       /* why it is idle/released/unsupported, for people */

        BromIdentity identity;
        bool identified;

        UsbLink *link;
        BromSession *brom;
        sd_event_source *open_retry;
        sd_event_source *grace_timer;
        sd_event_source *close_later;
        struct BackupJob *backup;          /* running operation, if any */
        unsigned open_attempts;
        bool plug_in;                      /* this appearance is a plug-in, not a boot */
        bool release_boot;                 /* ...it is the boot after mtknvd released it */
        bool releasing;                    /* the reset/reboot command is on its way */
};

int device_new(Manager *m, const UsbDeviceEvent *ev, bool brom_mode, Device **ret);
Device *device_free(Device *d);

/* The phone (re)appeared at this USB address.  plug_in: a person plugged it
 * in (not a boot of a phone that stayed attached).  The manager decides
 * whether it is opened (manager_wants_phone()). */
int device_attach(Device *d, const UsbDeviceEvent *ev, bool brom_mode, bool plug_in);
/* Open and identify a present phone that was left alone (a request came). */
int device_open(Device *d);
/* Done with the phone: let it boot (reset from the command loop; a DA
 * session ends with its own reboot).  reason: for StateReason. */
void device_release(Device *d, const char *reason);
/* The phone cannot be backed up by this version: say why, then let it go. */
void device_set_unsupported(Device *d, const char *error_name, const char *message);
/* The phone vanished: drop the session and start the grace period. */
void device_detach(Device *d);
/* libusb has now seen bus/devnum; retry an open that lost the race. */
void device_usb_arrived(Device *d, uint16_t busnum, uint16_t devnum);

const char *device_state_to_string(DeviceState s);
/* An operation (backup) takes the phone: State "busy". */
void device_begin_operation(Device *d);
/* released: the operation's session ended with a reboot (the phone boots). */
void device_end_operation(Device *d, bool released);
/* The operation failed and left the phone's session unusable. */
void device_fail_operation(Device *d, const char *error_name, const char *message, bool released);
/* Where this phone's backups live: its object id when the phone told its
 * ME/SoC ID, else one derived from the eMMC CID the DA reported. */
int device_backup_key(Device *d, const uint8_t cid[16], char **ret);
/* "mt6735_0123456789abcdef" from the identity, or "port_1_1" without one */
int device_make_id(const BromIdentity *id, const char *usb_path, char **ret);

/* device-dbus.c */
extern const sd_bus_vtable device_vtable[];
int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error);
int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
void device_emit_changed(Device *d, ...) __attribute__((sentinel));

static inline void device_freep(Device **d) {
        if (*d)
                device_free(*d);
}

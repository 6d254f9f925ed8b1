/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One phone: its USB session, what it told us about itself, and its state;
 * bus/device-dbus.c is its D-Bus face.  A phone that vanishes keeps its object for a grace
 * period so that re-enumeration (BROM -> preloader, a cable wiggle) does
 * not look like a new phone.  An operation whose phone leaves on purpose
 * (a DA's switch to high speed) opens a window instead
 * (device_expect_return()): the object stays busy and present meanwhile.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "brom.h"
#include "device-monitor.h"
#include "inhibitor.h"
#include "job.h"
#include "usb-transport.h"

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

typedef struct Device Device;

/* What a phone tells whoever keeps it (the manager): the device model knows
 * neither the manager nor the bus its face is published on. */
typedef struct DeviceEvents {
        /* properties changed: names, NULL-terminated */
        void (*changed)(Device *d, const char *const *names, void *userdata);
        /* The phone (re)appeared: is there anything to do with it?  If not,
         * *ret_reason says why it is left alone (it boots). */
        bool (*wants)(Device *d, char **ret_reason, void *userdata);
        /* The phone told who it is: the keeper may move the session onto
         * the Device that identity names (device_adopt()); returns the
         * Device that goes on (d, or the one that adopted d's session; d is
         * then freed). */
        Device *(*settle)(Device *d, void *userdata);
        /* identified, State "ready": start an operation, or release it */
        void (*identified)(Device *d, void *userdata);
        /* mtknvd let the phone go: its next appearance on this port is its boot */
        void (*released)(Device *d, void *userdata);
        /* gone for longer than the grace period: remove and free d */
        void (*expired)(Device *d, void *userdata);
} DeviceEvents;

/* What every Device shares, owned by its keeper. */
typedef struct DeviceEnv {
        sd_event *event;
        UsbContext *usb;
        InhibitorRegistry *inhibitors;   /* phones not to open */
        uint64_t grace_usec;             /* how long a vanished phone keeps its object */
        const DeviceEvents *events;
        void *userdata;                  /* the events' */
} DeviceEnv;

/* The operation running on the phone: told to end when the phone vanishes,
 * before the session it uses is freed. */
typedef void (*DeviceAbortFunc)(const char *error_name, const char *message, void *userdata);
/* The phone the operation expected back (device_expect_return()) is open
 * again on d->link (r == 0), or it is not: -ETIMEDOUT it did not come back
 * in time, -EMEDIUMTYPE it came back as another USB id (d->vid, d->pid:
 * it restarted), other < 0 it could not be opened. */
typedef void (*DeviceReturnFunc)(Device *d, int r, void *userdata);

struct Device {
        const DeviceEnv *env;
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
        Job *job;                          /* of the running operation, if any */
        DeviceAbortFunc abort;
        void *abort_userdata;
        /* the operation expects the phone to leave and come back on this
         * port (a DA's switch to high speed): while the window is open its
         * leaving does not abort, and the object does not change */
        DeviceReturnFunc returned;
        void *returned_userdata;
        uint32_t return_id;                /* vid << 16 | pid it comes back as */
        sd_event_source *return_timer;
        bool away;                         /* left within the window, not back yet */
        unsigned open_attempts;
        bool plug_in;                      /* this appearance is a plug-in, not a boot */
        bool release_boot;                 /* ...it is the boot after mtknvd released it */
        bool releasing;                    /* the reset/reboot command is on its way */
};

int device_new(const DeviceEnv *env, const UsbDeviceEvent *ev, bool brom_mode, Device **ret);
Device *device_free(Device *d);

/* The phone (re)appeared at this USB address.  plug_in: a person plugged it
 * in (not a boot of a phone that stayed attached).  The keeper decides
 * whether it is opened (DeviceEvents.wants). */
int device_attach(Device *d, const UsbDeviceEvent *ev, bool brom_mode, bool plug_in);
/* Open and identify a present phone that was left alone (a request came). */
int device_open(Device *d);
/* Done with the phone: let it boot (reset from the command loop; a DA
 * session ends with its own reboot).  reason: for StateReason. */
void device_release(Device *d, const char *reason);
/* The phone cannot be backed up by this version (error_name: a full D-Bus
 * error name): say why, then let it go. */
void device_set_unsupported(Device *d, const char *error_name, const char *message);
/* The phone vanished: drop the session and start the grace period. */
void device_detach(Device *d);
/* libusb has now seen bus/devnum; retry an open that lost the race. */
void device_usb_arrived(Device *d, uint16_t busnum, uint16_t devnum);

const char *device_state_to_string(DeviceState s);
/* An operation takes the phone for job: State "busy"; abort is called if
 * the phone vanishes meanwhile. */
void device_begin_operation(Device *d, Job *job, DeviceAbortFunc abort, void *userdata);
/* The operation's phone leaves the bus now and comes back on this port as
 * USB id usb_id (vid << 16 | pid) within timeout_usec: meanwhile State
 * stays "busy" and Present true, and back it is opened without a handshake
 * and returned runs once (see DeviceReturnFunc).  The operation's end
 * closes the window (a phone still away is then disconnected). */
int device_expect_return(Device *d, uint32_t usb_id, uint64_t timeout_usec, DeviceReturnFunc returned,
                         void *userdata);
/* released: the operation's session ended with a reboot (the phone boots). */
void device_end_operation(Device *d, bool released);
/* The operation failed (error_name: a full D-Bus error name); released:
 * the phone was rebooted, else its session is unusable. */
void device_fail_operation(Device *d, const char *error_name, const char *message, bool released);
/* d takes over from's fresh session (the same phone, back on another port):
 * its link, BROM session, address and identity.  from keeps nothing. */
void device_adopt(Device *d, Device *from);
/* Its identity names another object path. */
int device_set_object_path(Device *d, const char *path);
/* The path the identity names ("/org/mtknvd/MtkNv1/device/mt6735_…"). */
int device_identity_path(Device *d, char **ret);
/* Tell the keeper which properties changed (names, NULL-terminated). */
void device_notify(Device *d, ...) __attribute__((sentinel));
/* Where this phone's backups live: its object id when the phone told its
 * ME/SoC ID, else one derived from the storage's own id (eMMC CID) the DA
 * reported. */
int device_backup_key(Device *d, const uint8_t *storage_id, size_t len, char **ret);
/* "mt6735_0123456789abcdef" from the identity, or "port_1_1" without one */
int device_make_id(const BromIdentity *id, const char *usb_path, char **ret);

static inline void device_freep(Device **d) {
        if (*d)
                device_free(*d);
}

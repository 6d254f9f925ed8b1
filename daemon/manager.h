/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's top-level object: the event loop's users (udev, libusb,
 * D-Bus) and the table of phones.
 */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backup-store.h"
#include "bus-call.h"
#include "bus-polkit.h"
#include "config.h"
#include "device-monitor.h"
#include "inhibitor.h"
#include "mtknv-bus.h"
#include "identifier-reveal.h"
#include "scatter.h"
#include "usb-transport.h"


typedef struct Device Device;
typedef struct Job Job;
typedef struct Backup Backup;
typedef struct Request Request;

/* What the daemon remembers of a USB port, to tell a plug-in from a boot. */
typedef struct PortMemory {
        char usb_path[64];
        uint64_t left_usec;       /* CLOCK_MONOTONIC: a USB device last left this port */
        uint64_t released_usec;   /* mtknvd last released a phone here (0: not pending) */
} PortMemory;

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
        char *state_dir;
        char **identity_set;
        BackupStore *store;
        Backup **backups;
        size_t n_backups;
        sd_bus_slot *slots[10];
        sd_event_source *idle_timer;
        PolkitRegistry *polkit;
        Request **requests;       /* Backup/Restore calls waiting for their phone */
        size_t n_requests;
        PortMemory *ports;
        size_t n_ports;
        InhibitorRegistry *inhibitors;  /* Manager.Inhibit: phones not to open */
        IdentifierRevealCache reveal_cache;  /* who may see identifiers in properties */
        BusCallSet *calls;            /* method calls answered later (bus-call.h) */
} Manager;

/* A stored backup published on the bus. */
struct Backup {
        Manager *manager;
        char *object_path;
        BackupInfo info;
};

#define STATE_DIR_DEFAULT    "/var/lib/mtknvd"

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
/* Called whenever phones, jobs or inhibitors come and go: with none left for
 * ExitOnIdleSec=, the daemon exits (udev or D-Bus activation brings it back). */
void manager_check_idle(Manager *m);

int manager_dbus_register(Manager *m);
/* A backup was committed: publish it, tell the job. */
void manager_backup_added(Manager *m, const char *device_key, const char *backup_id, Job *job);
Backup *manager_find_backup_by_path(Manager *m, const char *path);
/* A phone appeared: is there anything to do with it (a waiting request, an
 * AutoBackup= policy that may apply, BROM mode)?  If not, *ret_reason says
 * why it is left alone, and it boots. */
bool manager_wants_phone(Manager *m, Device *d, char **ret_reason);
/* d was identified: start the request waiting for it, or its automatic
 * backup, or let it go. */
void manager_phone_identified(Manager *m, Device *d);
/* mtknvd let the phone at usb_path go: its next appearance is its boot. */
void manager_note_release(Manager *m, const char *usb_path);
/* Can a Backup/Restore for d (NULL: the next phone) be taken now, or kept
 * until the phone is there?  An error says why not. */
int manager_check_request(Manager *m, Device *d, sd_bus_error *error);
/* Backup of d (NULL: the next phone plugged in): started at once on a phone
 * that is ready, else a request that waits for it.  Takes scatter (may be
 * NULL) on success. */
int manager_backup_or_wait(Manager *m, Device *d, ScatterFile *scatter, uid_t uid, Job **ret_job,
                           sd_bus_error *error);
/* Identification moved a phone's object (port_1_1 -> mt6735_…): requests
 * naming the old one follow it. */
void manager_device_renamed(Manager *m, const char *old_path, const char *new_path);
/* A request came for an idle phone, or for the next phone: open the phones
 * present and left alone that it may be for. */
void manager_open_for_request(Manager *m, Request *r);

/* backup-dbus.c */
extern const sd_bus_vtable backup_vtable[];
int backup_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error);
int backup_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
char *backup_object_path(const char *device_key, const char *backup_id);

static inline void manager_freep(Manager **m) {
        if (*m)
                manager_free(*m);
}

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
#include "device.h"
#include "device-monitor.h"
#include "identifier-reveal.h"
#include "inhibitor.h"
#include "job.h"
#include "mtknv-bus.h"
#include "operation.h"
#include "request.h"
#include "scatter.h"
#include "usb-transport.h"


typedef struct Backup Backup;
typedef struct Manager Manager;

/* What the manager tells its D-Bus face (bus/manager-dbus.c), which
 * listens: the manager itself never emits. */
typedef struct ManagerEvents {
        void (*object_added)(Manager *m, const char *path);
        void (*object_removed)(Manager *m, const char *path);
        /* Manager properties: names, NULL-terminated */
        void (*changed)(Manager *m, const char *const *names);
        void (*device_changed)(Manager *m, Device *d, const char *const *names);
        void (*job_new)(Manager *m, Job *j);
        void (*job_changed)(Manager *m, Job *j, const char *const *names);
        /* the job ended; it is still in the list */
        void (*job_completed)(Manager *m, Job *j, bool success, const char *message);
        /* ...and now it is not */
        void (*job_removed)(Manager *m, Job *j, bool success, const char *message);
} ManagerEvents;

/* What the daemon remembers of a USB port, to tell a plug-in from a boot. */
typedef struct PortMemory {
        char usb_path[64];
        uint64_t left_usec;       /* CLOCK_MONOTONIC: a USB device last left this port */
        uint64_t released_usec;   /* mtknvd last released a phone here (0: not pending) */
} PortMemory;

struct Manager {
        sd_event *event;
        sd_bus *bus;                  /* set by the D-Bus face */
        const ManagerEvents *events;  /* ditto; NULL: nobody listens */
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
        DeviceEnv device_env;         /* what every Device shares */
        OperationContext ops;         /* what every backup and restore may use */
        FileShelfHolds *da_holds;     /* the Download Agents running operations use */
        RequestHost request_host;     /* what every waiting request may use */
};

/* A stored backup published on the bus. */
struct Backup {
        Manager *manager;
        char *object_path;
        BackupInfo info;
        unsigned users;           /* a verification or an export reads it: it cannot be deleted */
};

/* What the retention policy deletes (or, in a dry run, would). */
typedef struct ManagerPruned {
        char *object_path;
        char device_key[128], backup_id[64];
        char reason[96];
        bool kept;                /* it should have gone but could not (in use, I/O error) */
} ManagerPruned;

#define STATE_DIR_DEFAULT    "/var/lib/mtknvd"

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
/* With the configuration loaded: the identity set, the stored backups,
 * the udev monitor and libusb.  The D-Bus face attaches next
 * (manager_dbus_attach()), then manager_enumerate() finds the phones
 * already plugged in. */
int manager_start(Manager *m);
int manager_enumerate(Manager *m);
/* A Backup/Restore that waits for its phone (device_path NULL: the next
 * one), with its Job; kept until it starts or ends. */
int manager_new_request(Manager *m, RequestKind kind, const char *device_path, uid_t uid, Request **ret);
/* A new Job (device_path NULL: not known yet), published at once. */
int manager_new_job(Manager *m, const char *operation, const char *device_path, uid_t uid, Job **ret);

Device *manager_find_device_by_path(Manager *m, const char *path);
Device *manager_find_device_by_usb_path(Manager *m, const char *usb_path);
Device *manager_find_device_by_syspath(Manager *m, const char *syspath);
/* Called whenever phones, jobs or inhibitors come and go: with none left for
 * ExitOnIdleSec=, the daemon exits (udev or D-Bus activation brings it back). */
void manager_check_idle(Manager *m);

/* A backup was committed: publish it, tell the job. */
void manager_backup_added(Manager *m, const char *device_key, const char *backup_id, Job *job);
Backup *manager_find_backup_by_path(Manager *m, const char *path);
/* Deletes b (freed on success) unless a restore journal names it, a
 * restore runs, it is in use, or (unless force) it is the only verified
 * backup of its phone: the error says which, and what to do. */
int manager_delete_backup(Manager *m, Backup *b, bool force, sd_bus_error *error);
/* The retention policy of mtknvd.conf: what goes, deleted unless dry_run
 * (-EBUSY while a restore runs or waits). */
int manager_prune_backups(Manager *m, bool dry_run, ManagerPruned **ret, size_t *ret_n);
void manager_pruned_free(ManagerPruned *a, size_t n);
/* After a commit: the policy, if one is configured, unless a restore runs. */
void manager_apply_retention(Manager *m);
/* /org/mtknvd/MtkNv1/backup/<device-key>/<id> ('-' in the id becomes '_'). */
char *backup_object_path(const char *device_key, const char *backup_id);
/* Can a Backup/Restore for d (NULL: the next phone) be taken now, or kept
 * until the phone is there?  An error says why not. */
int manager_check_request(Manager *m, Device *d, sd_bus_error *error);
/* Backup of d (NULL: the next phone plugged in): started at once on a phone
 * that is ready, else a request that waits for it.  Takes scatter (may be
 * NULL) on success. */
int manager_backup_or_wait(Manager *m, Device *d, ScatterFile *scatter, uid_t uid, Job **ret_job,
                           sd_bus_error *error);
/* A request came for an idle phone, or for the next phone: open the phones
 * present and left alone that it may be for. */
void manager_open_for_request(Manager *m, Request *r);

static inline void manager_freep(Manager **m) {
        if (*m)
                manager_free(*m);
}

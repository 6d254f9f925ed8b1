/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "backup-job.h"
#include "device.h"
#include "identity-set.h"
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
        r = polkit_registry_new(&m->polkit);
        if (r < 0)
                return r;
        m->state_dir = strdup(getenv("STATE_DIRECTORY") ?: STATE_DIR_DEFAULT);
        if (!m->state_dir)
                return -ENOMEM;
        r = sd_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* calls still being answered (file transfers, verifications) end first: they own jobs and fds */
        m->calls = bus_call_set_free(m->calls);
        /* Devices first: their sessions hold libusb handles. */
        /* running backups end first: they own jobs and device sessions */
        for (size_t i = 0; i < m->n_devices; i++)
                if (m->devices[i]->backup)
                        backup_job_abort(m->devices[i]->backup, "Cancelled", "mtknvd is stopping.");
        while (m->n_jobs > 0)
                job_free(m->jobs[0]);
        for (size_t i = 0; i < m->n_backups; i++) {
                backup_info_done(&m->backups[i]->info);
                free(m->backups[i]->object_path);
                free(m->backups[i]);
        }
        free(m->backups);
        backup_store_free(m->store);
        identity_set_free(m->identity_set);
        free(m->state_dir);
        sd_event_source_disable_unref(m->idle_timer);
        free(m->jobs);
        while (m->n_devices > 0)
                device_free(m->devices[--m->n_devices]);
        free(m->devices);
        for (size_t i = 0; i < ELEMENTSOF(m->slots); i++)
                sd_bus_slot_unref(m->slots[i]);
        polkit_registry_free(m->polkit);
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

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_info("No phone and no job for %.1f s; exiting (ExitOnIdleSec=).",
                 (double) m->config.idle_exit_usec / 1e6);
        return sd_event_exit(m->event, 0);
}

void manager_check_idle(Manager *m) {
        bool idle = m->n_devices == 0 && m->n_jobs == 0;

        if (m->config.idle_exit_usec == 0)
                return;
        if (!idle) {
                m->idle_timer = sd_event_source_disable_unref(m->idle_timer);
                return;
        }
        if (m->idle_timer)
                return;
        if (sd_event_add_time_relative(m->event, &m->idle_timer, CLOCK_MONOTONIC, m->config.idle_exit_usec, 0,
                                       on_idle_timer, m) < 0)
                log_warning("Cannot arm the idle timer; staying up.");
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
        manager_check_idle(m);

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
        manager_check_idle(m);
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

static int manager_publish_backup(Manager *m, BackupInfo *info) {
        Backup *b, **n;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->manager = m;
        b->object_path = backup_object_path(info->device_key, info->backup_id);
        if (!b->object_path) {
                free(b);
                return -ENOMEM;
        }
        n = reallocarray(m->backups, m->n_backups + 1, sizeof(Backup *));
        if (!n) {
                free(b->object_path);
                free(b);
                return -ENOMEM;
        }
        m->backups = n;
        b->info = *info;
        *info = (BackupInfo) {};
        m->backups[m->n_backups++] = b;
        if (m->bus)
                sd_bus_emit_object_added(m->bus, b->object_path);
        return 0;
}

void manager_backup_added(Manager *m, const char *device_key, const char *backup_id, Job *job) {
        BackupInfo info;
        int r;

        r = backup_store_load(m->store, device_key, backup_id, &info);
        if (r >= 0)
                r = manager_publish_backup(m, &info);
        if (r < 0) {
                log_warning_errno(r, "Backup %s/%s is stored but cannot be published: %m", device_key, backup_id);
                return;
        }
        if (job)
                job_set_result_path(job, m->backups[m->n_backups - 1]->object_path);
}

void manager_consider_auto_backup(Manager *m, Device *d) {
        _cleanup_free_ char *key = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Job *job;
        int r;

        if (d->auto_backup_considered || m->config.auto_backup == AUTO_BACKUP_NEVER)
                return;
        d->auto_backup_considered = true;
        if (!d->identity.chip || d->identity.chip->da_mode != DA_MODE_LEGACY)
                return;
        /* With an ME/SoC ID we know this phone before any DA runs; without
         * one the backup job decides once the DA reported the eMMC CID. */
        if (m->config.auto_backup == AUTO_BACKUP_FIRST_SEEN &&
            (d->identity.me_id_len > 0 || d->identity.soc_id_len > 0) &&
            device_make_id(&d->identity, d->usb_path, &key) >= 0 && backup_store_has_verified(m->store, key)) {
                log_info("Phone %s already has a verified backup; not backing it up again (AutoBackup=first-seen).",
                         d->object_path);
                return;
        }
        r = backup_job_start(m, d, "auto", NULL, 0, &job, &error);
        if (r < 0)
                log_warning("Automatic backup of %s not started: %s", d->object_path,
                            error.message ?: strerror(-r));
}

static void manager_on_usb_arrival(UsbContext *usb, uint8_t busnum, uint8_t devnum, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_devices; i++)
                device_usb_arrived(m->devices[i], busnum, devnum);
}

static int manager_load_backups(Manager *m) {
        BackupInfo *a = NULL;
        size_t n = 0;
        int r;

        r = backup_store_open(m->state_dir, &m->store);
        if (r < 0)
                return r;
        r = backup_store_list(m->store, NULL, &a, &n);
        if (r < 0)
                return log_error_errno(r, "Cannot list the backups in %s: %m", backup_store_path(m->store));
        for (size_t i = 0; i < n && r >= 0; i++)
                r = manager_publish_backup(m, &a[i]);
        backup_info_array_free(a, n);
        log_debug("%zu backup(s) in %s.", m->n_backups, backup_store_path(m->store));
        return r;
}

int manager_start(Manager *m, sd_bus *bus) {
        int r;

        r = identity_set_parse(m->config.identity_spec, &m->identity_set);
        if (r < 0)
                return log_error_errno(r, "IdentityPartitions=%s is not a list of partition names.",
                                       m->config.identity_spec);
        r = manager_load_backups(m);
        if (r < 0)
                return r;

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

        r = device_monitor_enumerate(m->monitor);
        if (r < 0)
                return r;
        manager_check_idle(m);
        return 0;
}

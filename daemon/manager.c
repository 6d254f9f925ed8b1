/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backup-op.h"
#include "backup-retention.h"
#include "identity-set.h"
#include "log.h"
#include "manager.h"
#include "request.h"
#include "restore-journal.h"

/* A released phone re-enumerates within seconds of its reset; a mark older
 * than this belongs to a phone that was unplugged meanwhile. */
#define RELEASE_MARK_USEC (60ULL * 1000000ULL)

static uint64_t now_mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static void manager_emit_changed(Manager *m, const char *name) {
        const char *names[] = { name, NULL };

        if (m->events && m->events->changed)
                m->events->changed(m, names);
}

static void manager_emit_object(Manager *m, const char *path, bool added) {
        if (!m->events)
                return;
        if (added && m->events->object_added)
                m->events->object_added(m, path);
        if (!added && m->events->object_removed)
                m->events->object_removed(m, path);
}

/* Manager.Inhibitors changed; a held inhibitor also keeps the daemon up: if
 * it exited, the next plug-in would start a daemon that knows nothing of it. */
static void manager_on_inhibitors_changed(InhibitorRegistry *r, void *userdata) {
        Manager *m = userdata;

        manager_emit_changed(m, "Inhibitors");
        manager_check_idle(m);
}

/* ------------------------------------------------------------ jobs */

static void manager_on_job_changed(Job *j, const char *const *names, void *userdata) {
        Manager *m = userdata;

        if (m->events && m->events->job_changed)
                m->events->job_changed(m, j, names);
}

static void manager_on_job_finished(Job *j, bool success, const char *message, void *userdata) {
        Manager *m = userdata;

        if (m->events && m->events->job_completed)
                m->events->job_completed(m, j, success, message);
        for (size_t i = 0; i < m->n_jobs; i++)
                if (m->jobs[i] == j) {
                        m->jobs[i] = m->jobs[--m->n_jobs];
                        break;
                }
        manager_check_idle(m);
        if (m->events && m->events->job_removed)
                m->events->job_removed(m, j, success, message);
}

static const JobEvents manager_job_events = {
        .changed = manager_on_job_changed,
        .finished = manager_on_job_finished,
};

int manager_new_job(Manager *m, const char *operation, const char *device_path, uid_t uid, Job **ret) {
        Job *j, **n;
        int r;

        n = reallocarray(m->jobs, m->n_jobs + 1, sizeof(Job *));
        if (!n)
                return -ENOMEM;
        m->jobs = n;
        r = job_new(++m->next_job_id, operation, device_path, uid, &manager_job_events, m, &j);
        if (r < 0)
                return r;
        m->jobs[m->n_jobs++] = j;
        manager_check_idle(m);
        if (m->events && m->events->job_new)
                m->events->job_new(m, j);
        *ret = j;
        return 0;
}

static int manager_ops_new_job(const char *operation, const char *device_path, uid_t uid, void *userdata,
                               Job **ret) {
        return manager_new_job(userdata, operation, device_path, uid, ret);
}

static void manager_ops_committed(const char *device_key, const char *backup_id, Job *job, void *userdata) {
        manager_backup_added(userdata, device_key, backup_id, job);
}

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
        r = file_shelf_holds_new(&m->da_holds);
        if (r < 0)
                return r;
        r = inhibitor_registry_new(m->event, &m->inhibitors);
        if (r < 0)
                return r;
        inhibitor_registry_set_changed_callback(m->inhibitors, manager_on_inhibitors_changed, m);
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
                if (m->devices[i]->abort)
                        m->devices[i]->abort(MTKNV_ERROR_CANCELLED, "mtknvd is stopping.",
                                             m->devices[i]->abort_userdata);
        while (m->n_requests > 0)
                request_free(m->requests[0]);
        free(m->requests);
        free(m->ports);
        /* nobody listens any more: jobs still waiting go quietly */
        m->events = NULL;
        while (m->n_jobs > 0)
                job_free(m->jobs[--m->n_jobs]);
        for (size_t i = 0; i < m->n_backups; i++) {
                backup_info_done(&m->backups[i]->info);
                free(m->backups[i]->object_path);
                free(m->backups[i]);
        }
        free(m->backups);
        backup_store_free(m->store);
        name_list_free(m->identity_set);
        free(m->state_dir);
        sd_event_source_disable_unref(m->idle_timer);
        free(m->jobs);
        while (m->n_devices > 0)
                device_free(m->devices[--m->n_devices]);
        free(m->devices);
        for (size_t i = 0; i < ELEMENTSOF(m->slots); i++)
                sd_bus_slot_unref(m->slots[i]);
        polkit_registry_free(m->polkit);
        inhibitor_registry_free(m->inhibitors);
        file_shelf_holds_free(m->da_holds);
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
        bool idle = m->n_devices == 0 && m->n_jobs == 0 && inhibitor_registry_count(m->inhibitors) == 0;

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

static int manager_add_device(Manager *m, Device *d) {
        Device **n;

        n = reallocarray(m->devices, m->n_devices + 1, sizeof(Device *));
        if (!n)
                return -ENOMEM;
        m->devices = n;
        m->devices[m->n_devices++] = d;
        manager_check_idle(m);
        manager_emit_object(m, d->object_path, true);
        manager_emit_changed(m, "Devices");
        return 0;
}

static void manager_remove_device(Manager *m, Device *d) {
        size_t i;

        for (i = 0; i < m->n_devices; i++)
                if (m->devices[i] == d)
                        break;
        if (i >= m->n_devices)
                return;

        /* Announce while the object can still be looked up for its interfaces. */
        manager_emit_object(m, d->object_path, false);
        m->devices[i] = m->devices[--m->n_devices];
        manager_emit_changed(m, "Devices");
        manager_check_idle(m);
}

static PortMemory *manager_port(Manager *m, const char *usb_path, bool create) {
        PortMemory *n;

        for (size_t i = 0; i < m->n_ports; i++)
                if (streq(m->ports[i].usb_path, usb_path))
                        return &m->ports[i];
        if (!create)
                return NULL;
        n = reallocarray(m->ports, m->n_ports + 1, sizeof(PortMemory));
        if (!n)
                return NULL;
        m->ports = n;
        n = &m->ports[m->n_ports++];
        *n = (PortMemory) {};
        snprintf(n->usb_path, sizeof(n->usb_path), "%s", usb_path);
        return n;
}

/* mtknvd let the phone at usb_path go: its next appearance is its boot. */
static void manager_note_release(Manager *m, const char *usb_path) {
        PortMemory *p = manager_port(m, usb_path, true);

        if (p)
                p->released_usec = now_mono_usec();
}

/* Consumes the port's release mark: true when mtknvd let the phone on this
 * port go a moment ago, so that this appearance is that phone booting. */
static bool manager_take_release_mark(Manager *m, const char *usb_path) {
        PortMemory *p = manager_port(m, usb_path, false);
        bool marked;

        if (!p || p->released_usec == 0)
                return false;
        marked = now_mono_usec() - p->released_usec < RELEASE_MARK_USEC;
        p->released_usec = 0;
        return marked;
}

/* A phone that stayed attached and rebooted (by itself, or from its OS) is
 * back on its port moments after something left it; a person plugging a
 * powered-off phone in comes to an empty port. */
static bool manager_is_plug_in(Manager *m, const char *usb_path) {
        PortMemory *p = manager_port(m, usb_path, false);

        return !p || p->left_usec == 0 || now_mono_usec() - p->left_usec >= m->config.boot_window_usec;
}

static void manager_on_usb_event(DeviceMonitor *mon, const UsbDeviceEvent *ev, void *userdata) {
        Manager *m = userdata;
        const UsbIdMatch *match;
        Device *d;
        int r;

        if (!ev->add) {
                /* any USB device leaving: a phone's OS leaving before its reboot too */
                PortMemory *p = manager_port(m, ev->sysname, true);

                if (p)
                        p->left_usec = now_mono_usec();
        }
        match = usb_id_list_find(&m->config.usb_ids, ev->vid, ev->pid);
        if (!match && ev->add)
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
                r = device_new(&m->device_env, ev, match->brom, &d);
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
        r = device_attach(d, ev, match->brom, manager_is_plug_in(m, ev->sysname));
        if (r < 0)
                log_error_errno(r, "Cannot start talking to the phone at USB %s: %m", ev->sysname);
}

char *backup_object_path(const char *device_key, const char *backup_id) {
        char *p;

        if (asprintf(&p, "%s/%s/%s", MTKNV_BACKUP_PREFIX, device_key, backup_id) < 0)
                return NULL;
        for (char *c = p + strlen(MTKNV_BACKUP_PREFIX) + 1; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '/'))
                        *c = '_';
        return p;
}

Backup *manager_find_backup_by_path(Manager *m, const char *path) {
        for (size_t i = 0; i < m->n_backups; i++)
                if (streq(m->backups[i]->object_path, path))
                        return m->backups[i];
        return NULL;
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
        manager_emit_object(m, b->object_path, true);
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
        manager_apply_retention(m);
}

/* Every restore journal in STATE/journal/: the backups an interrupted restore may need. */
static int manager_load_journals(Manager *m, RestoreJournal **ret, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL;
        RestoreJournal *a = NULL;
        size_t n = 0;
        DIR *dp;

        if (asprintf(&dir, "%s/journal", m->state_dir) < 0)
                return -ENOMEM;
        dp = opendir(dir);
        if (dp) {
                for (struct dirent *de; (de = readdir(dp));) {
                        RestoreJournal j, *na;

                        if (de->d_name[0] == '.' || restore_journal_load(m->state_dir, de->d_name, &j) < 0)
                                continue;
                        na = reallocarray(a, n + 1, sizeof(RestoreJournal));
                        if (!na) {
                                closedir(dp);
                                free(a);
                                return -ENOMEM;
                        }
                        a = na;
                        a[n++] = j;
                }
                closedir(dp);
        } else if (errno != ENOENT)
                return -errno;
        *ret = a;
        *ret_n = n;
        return 0;
}

/* The published backups as a listing for backup-retention.h (borrowed: free() the array only). */
static int manager_backup_listing(Manager *m, BackupInfo **ret) {
        BackupInfo *a = calloc(MAX(m->n_backups, (size_t) 1), sizeof(BackupInfo));

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_backups; i++)
                a[i] = m->backups[i]->info;
        *ret = a;
        return 0;
}

static int manager_index_of_backup(Manager *m, const char *device_key, const char *backup_id) {
        for (size_t i = 0; i < m->n_backups; i++)
                if (streq(m->backups[i]->info.device_key, device_key) && streq(m->backups[i]->info.backup_id, backup_id))
                        return (int) i;
        return -1;
}

static bool manager_restore_running(Manager *m) {
        for (size_t i = 0; i < m->n_jobs; i++)
                if (streq(m->jobs[i]->operation, "restore"))
                        return true;
        return false;
}

static void manager_unpublish_backup(Manager *m, size_t i) {
        Backup *b = m->backups[i];

        /* announced while still findable: InterfacesRemoved lists the object's interfaces */
        manager_emit_object(m, b->object_path, false);
        /* the list keeps its order: listings and D-Bus enumeration stay stable */
        memmove(&m->backups[i], &m->backups[i + 1], (m->n_backups - i - 1) * sizeof(Backup *));
        m->n_backups--;
        backup_info_done(&b->info);
        free(b->object_path);
        free(b);
}

int manager_delete_backup(Manager *m, Backup *b, bool force, sd_bus_error *error) {
        _cleanup_free_ RestoreJournal *journals = NULL;
        _cleanup_free_ BackupInfo *a = NULL;
        _cleanup_free_ char *key = NULL, *id = NULL;
        size_t n_journals = 0;
        int i, r;

        if (b->users > 0)
                return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                         "The backup %s/%s is being verified or exported right now. Delete it once "
                                         "that is done.", b->info.device_key, b->info.backup_id);
        if (manager_restore_running(m))
                return sd_bus_error_set(error, MTKNV_ERROR_BUSY,
                                        "A restore is running or waiting for its phone, and may need this backup. "
                                        "Delete it once the restore has ended.");
        r = manager_load_journals(m, &journals, &n_journals);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read the restore journals in %s/journal: %s",
                                               m->state_dir, strerror(-r));
        r = manager_backup_listing(m, &a);
        if (r < 0)
                return r;
        i = manager_index_of_backup(m, b->info.device_key, b->info.backup_id);
        if (i < 0)
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP, "No backup %s.", b->object_path);
        switch (backup_protection_of(a, m->n_backups, (size_t) i, journals, n_journals)) {
        case BACKUP_PROTECTION_JOURNAL:
                return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                         "The backup %s/%s is named by the restore journal of an interrupted restore: "
                                         "the phone may hold a mix of it and its snapshot. Finish the restore first "
                                         "('mtknvctl restore --resume' or '--rollback'), then delete it.",
                                         b->info.device_key, b->info.backup_id);
        case BACKUP_PROTECTION_ONLY_VERIFIED:
                if (!force)
                        return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                                 "The backup %s/%s is the only verified backup of its phone: without "
                                                 "it, nothing is left to restore the phone's identity from. Take a new "
                                                 "backup first, or delete it anyway with --force.",
                                                 b->info.device_key, b->info.backup_id);
                break;
        case BACKUP_PROTECTION_NONE:
                break;
        }
        key = strdup(b->info.device_key);
        id = strdup(b->info.backup_id);
        if (!key || !id)
                return -ENOMEM;
        r = backup_store_delete(m->store, key, id);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot delete the backup %s/%s: %s. Check the disk and "
                                               "%s.", key, id, strerror(-r), backup_store_path(m->store));
        log_info("Deleted backup %s/%s.", key, id);
        manager_unpublish_backup(m, (size_t) i);
        return 0;
}

int manager_prune_backups(Manager *m, bool dry_run, ManagerPruned **ret, size_t *ret_n) {
        _cleanup_free_ RestoreJournal *journals = NULL;
        _cleanup_free_ RetentionVictim *v = NULL;
        _cleanup_free_ BackupInfo *a = NULL;
        ManagerPruned *out;
        const RetentionPolicy p = { .keep_last = m->config.keep_last,
                                    .keep_pre_restore_usec = m->config.keep_pre_restore_usec };
        size_t n_journals = 0, n_v = 0, n_out = 0;
        struct timespec ts;
        int r;

        /* a restore's backup must not go before its journal names it */
        if (!dry_run && manager_restore_running(m))
                return -EBUSY;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = manager_load_journals(m, &journals, &n_journals);
        if (r < 0)
                return r;
        r = manager_backup_listing(m, &a);
        if (r < 0)
                return r;
        r = retention_select(a, m->n_backups, &p, (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL,
                             journals, n_journals, &v, &n_v);
        if (r < 0)
                return r;
        out = calloc(MAX(n_v, (size_t) 1), sizeof(ManagerPruned));
        if (!out)
                return -ENOMEM;
        for (size_t k = 0; k < n_v; k++) {
                const BackupInfo *b = &a[v[k].index];

                snprintf(out[k].device_key, sizeof(out[k].device_key), "%s", b->device_key);
                snprintf(out[k].backup_id, sizeof(out[k].backup_id), "%s", b->backup_id);
                snprintf(out[k].reason, sizeof(out[k].reason), "%s", v[k].reason);
                out[k].object_path = strdup(m->backups[v[k].index]->object_path);
                if (!out[k].object_path) {
                        manager_pruned_free(out, n_v);
                        return -ENOMEM;
                }
        }
        n_out = n_v;
        /* listed from the published array: indices go stale as backups go, so find each again */
        for (size_t k = 0; !dry_run && k < n_out; k++) {
                int i = manager_index_of_backup(m, out[k].device_key, out[k].backup_id);

                if (i < 0)
                        continue;
                if (m->backups[i]->users > 0) {
                        log_info("Retention: backup %s/%s is in use; it goes at the next commit.", out[k].device_key,
                                 out[k].backup_id);
                        out[k].kept = true;
                        continue;
                }
                r = backup_store_delete(m->store, out[k].device_key, out[k].backup_id);
                if (r < 0) {
                        log_warning_errno(r, "Retention: cannot delete backup %s/%s: %m", out[k].device_key,
                                          out[k].backup_id);
                        out[k].kept = true;
                        continue;
                }
                log_info("Retention: deleted backup %s/%s (%s).", out[k].device_key, out[k].backup_id, out[k].reason);
                manager_unpublish_backup(m, (size_t) i);
        }
        *ret = out;
        *ret_n = n_out;
        return 0;
}

void manager_pruned_free(ManagerPruned *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(a[i].object_path);
        free(a);
}

void manager_apply_retention(Manager *m) {
        ManagerPruned *a = NULL;
        size_t n = 0;
        int r;

        if (m->config.keep_last == 0 && m->config.keep_pre_restore_usec == 0)
                return;
        /* a restore's own snapshot is committed mid-restore: the backup it
         * writes must not go before its journal names it */
        if (manager_restore_running(m)) {
                log_debug("Retention waits: a restore is running.");
                return;
        }
        r = manager_prune_backups(m, false, &a, &n);
        if (r < 0)
                log_warning_errno(r, "Cannot apply the retention policy: %m");
        manager_pruned_free(a, n);
}

static bool manager_has_journal(Manager *m) {
        _cleanup_free_ char *dir = NULL;
        struct dirent *de;
        bool found = false;
        DIR *dp;

        if (asprintf(&dir, "%s/journal", m->state_dir) < 0)
                return false;
        dp = opendir(dir);
        if (!dp)
                return false;
        while (!found && (de = readdir(dp)))
                found = de->d_name[0] != '.';
        closedir(dp);
        return found;
}

static const BackupInfo *manager_find_backup_for_request(const char *path, const char *device_key,
                                                        const char *backup_id, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *p = NULL;
        Backup *b;

        if (!path) {
                p = backup_object_path(device_key, backup_id);
                if (!p)
                        return NULL;
                path = p;
        }
        b = manager_find_backup_by_path(m, path);
        return b ? &b->info : NULL;
}

static void manager_on_request_gone(Request *r, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_requests; i++)
                if (m->requests[i] == r) {
                        m->requests[i] = m->requests[--m->n_requests];
                        return;
                }
}

int manager_new_request(Manager *m, RequestKind kind, const char *device_path, uid_t uid, Request **ret) {
        Request **n, *r;
        int k;

        n = reallocarray(m->requests, m->n_requests + 1, sizeof(Request *));
        if (!n)
                return -ENOMEM;
        m->requests = n;
        k = request_new(&m->request_host, kind, device_path, uid, &r);
        if (k < 0)
                return k;
        m->requests[m->n_requests++] = r;
        *ret = r;
        return 0;
}

static Request *manager_request_for(Manager *m, Device *d) {
        for (size_t i = 0; i < m->n_requests; i++)
                if (request_wants(m->requests[i], d))
                        return m->requests[i];
        return NULL;
}

static bool manager_has_device_request(Manager *m) {
        for (size_t i = 0; i < m->n_requests; i++)
                if (!request_wants_any(m->requests[i]))
                        return true;
        return false;
}

/* A phone appeared: is there anything to do with it (a waiting request, an
 * AutoBackup= policy that may apply, BROM mode)?  If not, *ret_reason says
 * why it is left alone, and it boots. */
static bool manager_wants_phone(Manager *m, Device *d, char **ret_reason) {
        const InhibitorInfo *by;
        const char *reason;

        if (inhibitor_registry_covers(m->inhibitors, d->usb_path, &by)) {
                /* Manager.Inhibit: another tool (mtkclient, SP Flash Tool) has the phone */
                if (asprintf(ret_reason, "Inhibited: %s (uid %u) is using phones%s%s: %s. mtknvd leaves this "
                             "one alone.", by->who, (unsigned) by->uid, by->port[0] ? " on USB " : "",
                             by->port, by->why) < 0)
                        *ret_reason = NULL;
                return false;
        }

        d->release_boot = manager_take_release_mark(m, d->usb_path);
        if (d->release_boot) {
                /* only a request that names this very phone may catch its boot */
                if (d->identified && manager_request_for(m, d))
                        return true;
                reason = "Booting: mtknvd was done with this phone and rebooted it, so it is left alone.";
        } else if (d->brom_mode)
                return true; /* somebody held a key to get here */
        else if (manager_request_for(m, d) || manager_has_device_request(m))
                return true; /* a request waits; identification tells whether it is for this phone */
        else if (!d->plug_in)
                reason = "Booting: the phone restarted while attached (it was back on its port within "
                         "BootWindowSec=), which is not a plug-in.";
        else if (m->config.auto_backup != AUTO_BACKUP_NEVER || manager_has_journal(m))
                return true;
        else
                reason = "Nothing to do: AutoBackup=never and no request waits for a phone. To back it up, run "
                         "'mtknvctl backup' and then plug it in, powered off.";
        *ret_reason = strdup(reason);
        return false;
}

static void manager_release_for(Device *d, const char *reason) {
        log_info("Phone %s: %s", d->object_path, reason);
        device_release(d, reason);
}

/* d was identified: start the request waiting for it, or its automatic
 * backup, or let it go. */
static void manager_phone_identified(Manager *m, Device *d) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *why = NULL, *key = NULL;
        const char *why_name;
        RestoreJournal journal;
        Request *req;
        int r;

        req = manager_request_for(m, d);
        r = operation_check_supported(&m->ops, &d->identity, &why_name, &why, NULL, NULL);
        if (r < 0) {
                log_oom();
                return device_release(d, "Out of memory.");
        }
        if (r > 0) {
                /* an honest state, with the request it was plugged in for told why */
                log_warning("Phone %s cannot be backed up: %s", d->object_path, why);
                if (req)
                        job_set_device(request_get_job(req), d->object_path);
                /* the phone's Error first, then the job's end: one story for whoever follows both */
                device_set_unsupported(d, why_name, why);
                if (req)
                        request_fail(req, why);
                return;
        }
        if (req) {
                if (!request_start(req, d))
                        manager_release_for(d, "The request for this phone failed (see its "
                                            "job); the phone was released and boots normally.");
                return;
        }
        if (device_make_id(&d->identity, d->usb_path, &key) >= 0 &&
            restore_journal_load(m->state_dir, key, &journal) >= 0)
                return manager_release_for(d, "A restore of this phone was interrupted (see "
                                           "InterruptedRestore). Run 'mtknvctl restore --resume' (or --resume "
                                           "--rollback) and plug it in again; it was released meanwhile.");
        if (!d->plug_in || m->config.auto_backup == AUTO_BACKUP_NEVER)
                return manager_release_for(d, "Identified; nothing to do, so it was released and boots "
                                           "normally.");
        /* With an ME/SoC ID we know this phone before any DA runs; without
         * one the backup job decides once the DA reported the eMMC CID. */
        if (m->config.auto_backup == AUTO_BACKUP_FIRST_SEEN &&
            (d->identity.me_id_len > 0 || d->identity.soc_id_len > 0) && key &&
            backup_store_has_verified(m->store, key))
                return manager_release_for(d, "It already has a verified backup (AutoBackup=first-seen), "
                                           "so it was released and boots normally.");
        r = backup_op_start(&m->ops, d, "auto", NULL, 0, NULL, &error);
        if (r < 0) {
                log_warning("Automatic backup of %s not started: %s", d->object_path, error.message ?: strerror(-r));
                _cleanup_free_ char *reason = NULL;

                if (asprintf(&reason, "The automatic backup did not start (%s); the phone was released.",
                             error.message ?: strerror(-r)) < 0)
                        reason = NULL;
                manager_release_for(d, reason ?: "The automatic backup did not start; the phone was released.");
        }
}

/* Pending requests are few and cheap, but not free: a bound keeps a caller
 * from piling them up. */
#define REQUESTS_MAX 16

int manager_check_request(Manager *m, Device *d, sd_bus_error *error) {
        if (d && d->state == DEVICE_BUSY)
                return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                         "The phone %s is busy with another job; wait for it to finish.",
                                         d->object_path);
        if (d && d->state == DEVICE_UNSUPPORTED && d->present)
                return sd_bus_error_setf(error, d->error_name && d->error_name[0] ? d->error_name :
                                         MTKNV_ERROR_NOT_SUPPORTED, "%s", d->error ?: "Not supported.");
        if ((!d || d->state != DEVICE_READY) && m->n_requests >= REQUESTS_MAX)
                return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                         "%zu requests already wait for phones; cancel one of them first (Ctrl-C "
                                         "in the mtknvctl that waits, or Job.Cancel).", m->n_requests);
        return 0;
}

int manager_backup_or_wait(Manager *m, Device *d, ScatterFile *scatter, uid_t uid, Job **ret_job,
                           sd_bus_error *error) {
        Request *req;
        int r;

        r = manager_check_request(m, d, error);
        if (r < 0)
                return r;
        if (d && d->state == DEVICE_READY) {
                r = backup_op_start(&m->ops, d, "manual", scatter, uid, NULL, error);
                if (r < 0)
                        return r;
                *ret_job = d->job;
                return 0;
        }
        r = manager_new_request(m, REQUEST_BACKUP, d ? d->object_path : NULL, uid, &req);
        if (r < 0)
                return r;
        request_set_scatter(req, scatter);
        *ret_job = request_get_job(req);
        manager_open_for_request(m, req);
        return 0;
}

/* Identification moved a phone's object (port_1_1 -> mt6735_…): requests
 * naming the old one follow it. */
static void manager_device_renamed(Manager *m, const char *old_path, const char *new_path) {
        for (size_t i = 0; i < m->n_requests; i++)
                request_device_renamed(m->requests[i], old_path, new_path);
}

void manager_open_for_request(Manager *m, Request *r) {
        for (size_t i = 0; i < m->n_devices; i++) {
                Device *d = m->devices[i];

                if (d->present && d->state == DEVICE_IDLE && request_wants(r, d))
                        (void) device_open(d);
        }
}

/* ------------------------------------------------------------ what phones tell */

/* Move a freshly identified session onto the object its identity names:
 * the phone's own object if it was here before, else d renamed. */
static Device *manager_settle_device(Manager *m, Device *d) {
        _cleanup_free_ char *path = NULL;
        Device *other;

        if (device_identity_path(d, &path) < 0) {
                log_oom();
                return d;
        }
        if (streq(path, d->object_path))
                return d;

        other = manager_find_device_by_path(m, path);
        if (other && !other->present) {
                /* The same phone, back on another port or after the grace
                 * object lost track of it: keep its object, move the session. */
                manager_device_renamed(m, d->object_path, other->object_path);
                device_adopt(other, d);
                manager_remove_device(m, d);
                device_free(d);
                return other;
        }
        if (other) {
                /* Two live phones claim one identity (cloned ME ID?): keep
                 * the port-based object rather than hide one of them. */
                log_warning("Two connected phones report the same identity (%s); keeping %s.", path,
                            d->object_path);
                return d;
        }

        manager_remove_device(m, d);
        manager_device_renamed(m, d->object_path, path);
        if (device_set_object_path(d, path) < 0)
                log_oom();
        if (manager_add_device(m, d) < 0)
                log_warning("Failed to publish %s", d->object_path);
        return d;
}

static void manager_on_device_changed(Device *d, const char *const *names, void *userdata) {
        Manager *m = userdata;

        if (m->events && m->events->device_changed)
                m->events->device_changed(m, d, names);
}

static bool manager_on_device_wants(Device *d, char **ret_reason, void *userdata) {
        return manager_wants_phone(userdata, d, ret_reason);
}

static Device *manager_on_device_settle(Device *d, void *userdata) {
        return manager_settle_device(userdata, d);
}

static void manager_on_device_identified(Device *d, void *userdata) {
        manager_phone_identified(userdata, d);
}

static void manager_on_device_released(Device *d, void *userdata) {
        manager_note_release(userdata, d->usb_path);
}

static void manager_on_device_expired(Device *d, void *userdata) {
        manager_remove_device(userdata, d);
        device_free(d);
}

static const DeviceEvents manager_device_events = {
        .changed = manager_on_device_changed,
        .wants = manager_on_device_wants,
        .settle = manager_on_device_settle,
        .identified = manager_on_device_identified,
        .released = manager_on_device_released,
        .expired = manager_on_device_expired,
};

static void manager_on_usb_arrival(UsbContext *usb, uint16_t busnum, uint16_t devnum, void *userdata) {
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

int manager_start(Manager *m) {
        int r;

        r = identity_set_parse(m->config.identity_spec, &m->identity_set);
        if (r < 0)
                return log_error_errno(r, "IdentityPartitions=%s is not a list of partition names.",
                                       m->config.identity_spec);
        r = manager_load_backups(m);
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

        m->device_env = (DeviceEnv) {
                .event = m->event,
                .usb = m->usb,
                .inhibitors = m->inhibitors,
                .grace_usec = m->config.grace_usec,
                .events = &manager_device_events,
                .userdata = m,
        };
        m->ops = (OperationContext) {
                .event = m->event,
                .store = m->store,
                .state_dir = m->state_dir,
                .identity_set = m->identity_set,
                .identity_spec = m->config.identity_spec,
                .auto_backup = m->config.auto_backup,
                .da_sources = {
                        .state_dir = m->state_dir,
                        .configured = m->config.download_agents,
                        .n_configured = m->config.n_download_agents,
                        .holds = m->da_holds,
                },
                .new_job = manager_ops_new_job,
                .committed = manager_ops_committed,
                .userdata = m,
        };
        m->request_host = (RequestHost) {
                .ops = &m->ops,
                .find_backup = manager_find_backup_for_request,
                .gone = manager_on_request_gone,
                .userdata = m,
        };
        return 0;
}

int manager_enumerate(Manager *m) {
        int r;

        r = device_monitor_enumerate(m->monitor);
        if (r < 0)
                return r;
        manager_check_idle(m);
        return 0;
}

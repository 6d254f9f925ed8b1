/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "backup-dbus.h"
#include "backup-op.h"
#include "bus-call.h"
#include "bus-util.h"
#include "device-dbus.h"
#include "job-dbus.h"
#include "log.h"
#include "manager-dbus.h"
#include "manager-files.h"
#include "mtknv-bus.h"
#include "name-list.h"
#include "request.h"
#include "restore-journal.h"
#include "restore-op.h"
#include "shelf-dbus.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", MTKNVD_VERSION);
}

static int property_get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_devices; i++) {
                r = sd_bus_message_append(reply, "o", m->devices[i]->object_path);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_usb_ids(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(qqs)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->config.usb_ids.n; i++) {
                const UsbIdMatch *id = &m->config.usb_ids.ids[i];

                r = sd_bus_message_append(reply, "(qqs)", id->vid, id->pid, id->brom ? "brom" : "preloader");
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* The partitions option of Restore as a comma list of safe names. */
static int bus_join_name_list(char **names, char **ret, sd_bus_error *error) {
        for (char **name = names; name && *name; name++)
                if (!manifest_safe_name(*name) || strchr(*name, ','))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option \"partitions\": \"%s\" is not a partition name.", *name);
        if (name_list_length(names) == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Option \"partitions\" is empty.");
        return name_list_join(names, ",", ret);
}

/* Who asked, for Job.StartedByUID (0 when the bus does not tell). */
static uid_t bus_caller_uid(sd_bus_message *msg) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid = 0;

        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds) >= 0)
                (void) sd_bus_creds_get_euid(creds, &uid);
        return uid;
}

/* The file options of Backup, ExportBackup and ImportBackup: s format (left
 * alone when not given; Backup, format NULL, takes none) and h scatter (-1
 * when not given).  The descriptor is only read after the polkit check: a
 * call that waits for polkit is parsed again, and a pipe cannot be read twice. */
static int bus_read_file_options(sd_bus_message *msg, const char **format, int *scatter_fd, sd_bus_error *error) {
        const BusOption options[] = {
                { "scatter", "h", scatter_fd },
                { format ? "format" : NULL, "s", format },
                {}
        };

        *scatter_fd = -EBADF;
        return bus_message_read_options(msg, options, error);
}

/* A call that reads or writes a caller's file, allowed by polkit (action
 * NULL: by anyone) and within its caller's limits, to hand to
 * manager-files.c.  1: go ahead with *ret; 0: polkit will answer and the
 * call comes back; <0: refused. */
static int bus_file_call_authorize(Manager *m, sd_bus_message *msg, const char *action, const char *what,
                                   BusCall **ret, sd_bus_error *error) {
        int r;

        if (action) {
                r = bus_verify_polkit_async(msg, action, what, m->polkit, error);
                if (r <= 0)
                        return r;
        }
        r = bus_call_new(m->calls, msg, ret, error);
        return r < 0 ? r : 1;
}

/* The work of a file call has begun (r >= 0: the call is answered later), or it failed. */
static int bus_file_call_started(BusCall *call, int r) {
        if (r < 0) {
                bus_call_free(call);
                return r;
        }
        return 1;
}

static int method_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *path;
        BusCall *call;
        int scatter_fd;
        Device *d;
        Job *job;
        uid_t uid = 0;
        int r;

        r = sd_bus_message_read(msg, "o", &path);
        if (r < 0)
                return r;
        r = bus_read_file_options(msg, NULL, &scatter_fd, error);
        if (r < 0)
                return r;

        d = streq(path, "/") ? NULL : manager_find_device_by_path(m, path);
        if (!d && !streq(path, "/"))
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_DEVICE, "No phone %s.", path);
        if (scatter_fd >= 0) {
                /* the job starts once the scatter file is read */
                r = bus_file_call_authorize(m, msg, POLKIT_ACTION_PREFIX "backup", "back up a phone", &call, error);
                if (r <= 0)
                        return r < 0 ? r : 1;
                return bus_file_call_started(call, manager_files_backup(m, call, path, scatter_fd,
                                                                        bus_caller_uid(msg), error));
        }
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "backup", "back up a phone", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        uid = bus_caller_uid(msg);
        /* not there yet, or left alone: a request that waits for it */
        r = manager_backup_or_wait(m, d, NULL, uid, &job, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", job->object_path);
}

static int method_restore(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *device_path, *backup_path;
        _cleanup_free_ char *partitions = NULL, *device_key = NULL;
        _cleanup_(name_list_freep) char **partition_names = NULL;
        RestoreJournal journal;
        int dry_run = false, allow_foreign = false, resume = false, rollback = false;
        const BusOption options[] = {
                { "dry-run", "b", &dry_run },
                { "allow-foreign", "b", &allow_foreign },
                { "resume", "b", &resume },
                { "rollback", "b", &rollback },
                { "partitions", "as", &partition_names },
                {}
        };
        unsigned flags = 0;
        Request *req;
        Backup *b;
        Device *d;
        Job *job;
        uid_t uid = 0;
        int r;

        r = sd_bus_message_read(msg, "oo", &device_path, &backup_path);
        if (r < 0)
                return r;
        r = bus_message_read_options(msg, options, error);
        if (r < 0)
                return r;
        if (partition_names) {
                r = bus_join_name_list(partition_names, &partitions, error);
                if (r < 0)
                        return r;
        }
        if (dry_run)
                flags |= RESTORE_DRY_RUN;
        if (allow_foreign)
                flags |= RESTORE_ALLOW_FOREIGN;

        d = streq(device_path, "/") ? NULL : manager_find_device_by_path(m, device_path);
        if (!d && !streq(device_path, "/"))
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_DEVICE, "No phone %s.", device_path);
        if (rollback && (!resume || !streq(backup_path, "/")))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "rollback goes with resume and the backup \"/\" (the journal's snapshot).");
        if (streq(backup_path, "/") && !resume)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Name the backup to restore; only resume takes \"/\" (what the phone's "
                                        "restore journal names).");
        b = streq(backup_path, "/") ? NULL : manager_find_backup_by_path(m, backup_path);
        if (!b && !streq(backup_path, "/"))
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP, "No backup %s.", backup_path);
        if (resume && d && d->identified) {
                /* continue what the journal describes: its backup, or its snapshot to roll back */
                if (device_make_id(&d->identity, d->usb_path, &device_key) < 0 ||
                    restore_journal_load(m->state_dir, device_key, &journal) < 0)
                        return sd_bus_error_setf(error, MTKNV_ERROR_NO_JOURNAL,
                                                 "The phone %s has no interrupted restore to resume.", device_path);
                if (!b) {
                        /* "/": what the journal names */
                        _cleanup_free_ char *bp = backup_object_path(
                                rollback ? journal.snapshot_key : journal.backup_key,
                                rollback ? journal.snapshot_id : journal.backup_id);

                        b = bp ? manager_find_backup_by_path(m, bp) : NULL;
                        if (!b)
                                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP,
                                                         "The backup the restore journal names (%s) is gone.",
                                                         bp ?: "?");
                }
                if (!(streq(b->info.device_key, journal.backup_key) && streq(b->info.backup_id, journal.backup_id)) &&
                    !(streq(b->info.device_key, journal.snapshot_key) && streq(b->info.backup_id, journal.snapshot_id)))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "The interrupted restore wrote %s/%s over snapshot %s/%s; resume "
                                                 "it with one of these two.", journal.backup_key, journal.backup_id,
                                                 journal.snapshot_key, journal.snapshot_id);
                if (journal.foreign)
                        flags |= RESTORE_ALLOW_FOREIGN;
        }
        if (b && !resume) {
                r = restore_check_partitions(&b->info, partitions, error);
                if (r < 0)
                        return r;
                /* no phone is needed to see this: refuse before waiting for one */
                r = restore_check_binding(&b->info, flags, error);
                if (r < 0)
                        return r;
        }
        if (resume && (partitions || (flags & RESTORE_DRY_RUN)))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "resume writes what the interrupted restore was writing: it takes "
                                        "neither partitions nor dry-run.");
        /* a foreign restore writes another phone's identity: its own, stronger action */
        if (flags & RESTORE_ALLOW_FOREIGN)
                r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "restore-foreign",
                                            "restore a backup onto a phone it does not come from", m->polkit, error);
        else
                r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "restore", "restore a backup onto a phone",
                                            m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = manager_check_request(m, d, error);
        if (r < 0)
                return r;
        uid = bus_caller_uid(msg);
        if (d && d->state == DEVICE_READY && b) {
                r = restore_op_start(&m->ops, d, &b->info, resume ? &journal : NULL, flags, partitions, uid, NULL,
                                     error);
                if (r < 0)
                        return r;
                job = d->job;
                return sd_bus_reply_method_return(msg, "o", job->object_path);
        }
        r = manager_new_request(m, REQUEST_RESTORE, d ? d->object_path : NULL, uid, &req);
        if (r < 0)
                return r;
        r = request_set_restore(req, b ? b->object_path : "/", flags, partitions, resume, rollback);
        if (r < 0) {
                request_fail(req, "Out of memory.");
                return r;
        }
        job = request_get_job(req);
        manager_open_for_request(m, req);
        return sd_bus_reply_method_return(msg, "o", job->object_path);
}

/* AddDownloadAgent, AddPreloader: one descriptor, the "manage" action, a file call. */
static int method_add_input(sd_bus_message *msg, Manager *m, const char *what,
                            int (*start)(Manager *m, BusCall *call, int fd, sd_bus_error *error),
                            sd_bus_error *error) {
        BusCall *call;
        int fd, r;

        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return r;
        r = bus_file_call_authorize(m, msg, POLKIT_ACTION_PREFIX "manage", what, &call, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_file_call_started(call, start(m, call, fd, error));
}

static int method_add_preloader(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_add_input(msg, userdata, "add a preloader", manager_files_add_preloader, error);
}

static int method_add_download_agent(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_add_input(msg, userdata, "add a Download Agent", manager_files_add_download_agent, error);
}

static int method_export_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *path, *format = "mtknvd";
        BusCall *call;
        Backup *b;
        int fd, scatter_fd, flags, r;

        r = sd_bus_message_read(msg, "oh", &path, &fd);
        if (r < 0)
                return r;
        r = bus_read_file_options(msg, &format, &scatter_fd, error);
        if (r < 0)
                return r;
        if (!streq(format, "mtknvd") && !streq(format, "spflash"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Unknown format \"%s\" (known: mtknvd, spflash).", format);

        b = manager_find_backup_by_path(m, path);
        if (!b)
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP, "No backup %s.", path);
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "The export file descriptor is not open for writing.");
        if (streq(format, "spflash") != (scatter_fd >= 0))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        scatter_fd >= 0 ? "A scatter file goes with the spflash format only."
                                                : "The spflash format needs the phone's scatter file (option "
                                                  "scatter): its copy is edited to download exactly these images.");
        r = bus_file_call_authorize(m, msg, POLKIT_ACTION_PREFIX "export-backup", "export a backup", &call, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_file_call_started(call, manager_files_export(m, call, path, fd, scatter_fd, error));
}

static int method_import_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *format = NULL;
        BusCall *call;
        int scatter_fd, r;

        /* options first: the files need the format and the scatter file */
        r = sd_bus_message_skip(msg, "a{sh}");
        if (r < 0)
                return r;
        r = bus_read_file_options(msg, &format, &scatter_fd, error);
        if (r < 0)
                return r;
        if (!format || (!streq(format, "archive") && !streq(format, "spflash") && !streq(format, "raw")))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Option format must be archive, spflash or raw.");
        if (streq(format, "spflash") != (scatter_fd >= 0))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        scatter_fd >= 0 ? "A scatter file goes with the spflash format only."
                                           : "An SP Flash Tool readback needs the scatter file that locates it "
                                             "(option scatter).");
        r = bus_file_call_authorize(m, msg, POLKIT_ACTION_PREFIX "import-backup", "import a backup", &call, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_file_call_started(call, manager_files_import(m, call, format, scatter_fd, error));
}

static int method_inspect(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        BusCall *call;
        int fd, r;

        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return r;
        /* anyone may inspect: no polkit, but the same limits */
        r = bus_file_call_authorize(m, msg, NULL, NULL, &call, error);
        if (r < 0)
                return r;
        return bus_file_call_started(call, manager_files_inspect(m, call, fd, error));
}

static int property_get_inhibitors(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const InhibitorInfo *i;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssu)");
        if (r < 0)
                return r;
        for (size_t k = 0; (i = inhibitor_registry_get(m->inhibitors, k)); k++) {
                r = sd_bus_message_append(reply, "(sssu)", i->who, i->why, i->port, (uint32_t) i->uid);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* Manager.Inhibit(s who, s why, a{sv} options) -> h: logind-style, the
 * inhibitor lasts while the returned descriptor is open. */
/* The retention policy now; with dry-run only what it would delete.
 * Returns (object, id, why) of each backup that went (or would). */
static int method_prune_backups(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        ManagerPruned *a = NULL;
        int dry_run = false, r;
        size_t n = 0;
        const BusOption options[] = {
                { "dry-run", "b", &dry_run },
                {}
        };

        r = bus_message_read_options(msg, options, error);
        if (r < 0)
                return r;
        if (!dry_run) {
                r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "manage", "delete old backups", m->polkit,
                                            error);
                if (r <= 0)
                        return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        }
        r = manager_prune_backups(m, dry_run, &a, &n);
        if (r == -EBUSY)
                return sd_bus_error_set(error, MTKNV_ERROR_BUSY,
                                        "A restore is running or waiting for its phone, and may need one of the "
                                        "backups. Prune once the restore has ended (or look with --dry-run).");
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot apply the retention policy: %s", strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(oss)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *id = NULL;

                if (a[i].kept)
                        continue;
                if (asprintf(&id, "%s/%s", a[i].device_key, a[i].backup_id) < 0)
                        r = -ENOMEM;
                else
                        r = sd_bus_message_append(reply, "(oss)", a[i].object_path, id, a[i].reason);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        manager_pruned_free(a, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_inhibit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_close_ int fd = -EBADF;
        const char *who, *why, *port = NULL;
        uid_t uid;
        int r;

        r = sd_bus_message_read(msg, "ss", &who, &why);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (!streq(key, "port"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option \"%s\" (known: port).",
                                                 key);
                r = sd_bus_message_read(msg, "v", "s", &port);
                if (r < 0)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                "Option port wants a string, a USB path such as \"1-1\".");
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;

        if (!inhibitor_text_valid(who))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "who must be 1 to %u bytes of printable UTF-8: the name of the program "
                                         "that takes the phones, e.g. \"mtkclient\".", INHIBITOR_TEXT_MAX);
        if (!inhibitor_text_valid(why))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "why must be 1 to %u bytes of printable UTF-8: what the program does "
                                         "with the phones, for people to read.", INHIBITOR_TEXT_MAX);
        if (port && !*port)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Option port is empty; leave it out to keep mtknvd away from every port.");
        if (port && !inhibitor_port_valid(port))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "\"%s\" is not a USB path. Give the port as the kernel names it, e.g. "
                                         "\"1-1\" or \"3-1.4\" (the USB column of 'mtknvctl list').", port);
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "inhibit", "keep mtknvd away from phones", m->polkit,
                                    error);
        if (r <= 0)
                return r < 0 ? r : 1;

        uid = bus_caller_uid(msg);
        r = inhibitor_registry_add(m->inhibitors, who, why, port, uid, &fd);
        if (r == -EUSERS)
                return sd_bus_error_setf(error, MTKNV_ERROR_TOO_MANY_INHIBITORS,
                                         "uid %u already holds %u inhibitors, the most one user may hold. End one "
                                         "of them first (close its file descriptor, e.g. stop its 'mtknvctl "
                                         "inhibit').", (unsigned) uid, INHIBITORS_PER_UID_MAX);
        if (r == -ETOOMANYREFS)
                return sd_bus_error_setf(error, MTKNV_ERROR_TOO_MANY_INHIBITORS,
                                         "mtknvd already keeps %u inhibitors, the most it holds for all users "
                                         "together. One phone needs one inhibitor: end those no longer needed.",
                                         INHIBITORS_MAX);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot create the inhibitor: %s", strerror(-r));
        /* the reply carries a duplicate; ours closes on return */
        return sd_bus_reply_method_return(msg, "h", fd);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "ao", property_get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SupportedUsbIds", "a(qqs)", property_get_usb_ids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Inhibitors", "a(sssu)", property_get_inhibitors, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("Backup", "oa{sv}", SD_BUS_PARAM(device) SD_BUS_PARAM(options), "o", SD_BUS_PARAM(job),
                                 method_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Restore", "ooa{sv}",
                                 SD_BUS_PARAM(device) SD_BUS_PARAM(backup) SD_BUS_PARAM(options), "o",
                                 SD_BUS_PARAM(job), method_restore, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddDownloadAgent", "h", SD_BUS_PARAM(file), "sa{sv}", SD_BUS_PARAM(name)
                                 SD_BUS_PARAM(info), method_add_download_agent, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddPreloader", "h", SD_BUS_PARAM(file), "ss", SD_BUS_PARAM(name)
                                 SD_BUS_PARAM(description), method_add_preloader, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListDownloadAgents", "", "", "aa{sv}", SD_BUS_PARAM(agents),
                                 shelf_dbus_list_download_agents, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RemoveDownloadAgent", "s", SD_BUS_PARAM(name), "", "",
                                 shelf_dbus_remove_download_agent, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListPreloaders", "", "", "aa{sv}", SD_BUS_PARAM(preloaders),
                                 shelf_dbus_list_preloaders, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RemovePreloader", "s", SD_BUS_PARAM(name), "", "",
                                 shelf_dbus_remove_preloader, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ExportBackup", "oha{sv}",
                                 SD_BUS_PARAM(backup) SD_BUS_PARAM(file) SD_BUS_PARAM(options), "", "",
                                 method_export_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ImportBackup", "a{sh}a{sv}", SD_BUS_PARAM(files) SD_BUS_PARAM(options), "o",
                                 SD_BUS_PARAM(backup), method_import_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Inspect", "h", SD_BUS_PARAM(file), "a{sv}", SD_BUS_PARAM(info), method_inspect,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("PruneBackups", "a{sv}", SD_BUS_PARAM(options), "a(oss)", SD_BUS_PARAM(pruned),
                                 method_prune_backups, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Inhibit", "ssa{sv}", SD_BUS_PARAM(who) SD_BUS_PARAM(why) SD_BUS_PARAM(options), "h",
                                 SD_BUS_PARAM(fd), method_inhibit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("JobNew", "uo", SD_BUS_PARAM(id) SD_BUS_PARAM(job), 0),
        SD_BUS_SIGNAL_WITH_NAMES("JobRemoved", "uos", SD_BUS_PARAM(id) SD_BUS_PARAM(job) SD_BUS_PARAM(result), 0),
        SD_BUS_VTABLE_END,
};

static int manager_dbus_register(Manager *m) {
        int r;

        r = bus_call_set_new(m->event, m->config.file_timeout_usec, &m->calls);
        if (r < 0)
                return log_error_errno(r, "Failed to set up call tracking: %m");

        r = sd_bus_add_object_manager(m->bus, &m->slots[0], "/");
        if (r < 0)
                return log_error_errno(r, "Failed to add object manager: %m");
        r = sd_bus_add_object_vtable(m->bus, &m->slots[1], MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register manager object: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[2], MTKNV_DEVICE_PREFIX, MTKNV_DEVICE_IFACE,
                                       device_vtable, device_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register device objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[3], MTKNV_DEVICE_PREFIX, device_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register device enumerator: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[4], MTKNV_JOB_PREFIX, MTKNV_JOB_IFACE, job_vtable,
                                       job_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register job objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[5], MTKNV_JOB_PREFIX, job_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register job enumerator: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[6], MTKNV_BACKUP_PREFIX, MTKNV_BACKUP_IFACE, backup_vtable,
                                       backup_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register backup objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[7], MTKNV_BACKUP_PREFIX, backup_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register backup enumerator: %m");
        return 0;
}

/* ------------------------------------------------------------ what the manager tells */

static void on_object_added(Manager *m, const char *path) {
        int r = sd_bus_emit_object_added(m->bus, path);

        if (r < 0)
                log_debug_errno(r, "Failed to announce %s: %m", path);
}

static void on_object_removed(Manager *m, const char *path) {
        int r = sd_bus_emit_object_removed(m->bus, path);

        if (r < 0)
                log_debug_errno(r, "Failed to announce the removal of %s: %m", path);
}

static void on_changed(Manager *m, const char *const *names) {
        (void) sd_bus_emit_properties_changed_strv(m->bus, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, (char **) names);
}

static void on_device_changed(Manager *m, Device *d, const char *const *names) {
        device_dbus_emit_changed(m->bus, d, names);
}

static void on_job_new(Manager *m, Job *j) {
        job_dbus_emit_new(m->bus, j);
}

static void on_job_changed(Manager *m, Job *j, const char *const *names) {
        job_dbus_emit_changed(m->bus, j, names);
}

static void on_job_completed(Manager *m, Job *j, bool success, const char *message) {
        job_dbus_emit_completed(m->bus, j, success, message);
}

static void on_job_removed(Manager *m, Job *j, bool success, const char *message) {
        job_dbus_emit_removed(m->bus, j, success, message);
}

static const ManagerEvents manager_dbus_events = {
        .object_added = on_object_added,
        .object_removed = on_object_removed,
        .changed = on_changed,
        .device_changed = on_device_changed,
        .job_new = on_job_new,
        .job_changed = on_job_changed,
        .job_completed = on_job_completed,
        .job_removed = on_job_removed,
};

int manager_dbus_attach(Manager *m, sd_bus *bus) {
        int r;

        m->bus = sd_bus_ref(bus);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");
        r = manager_dbus_register(m);
        if (r < 0)
                return r;
        m->events = &manager_dbus_events;

        r = sd_bus_request_name(m->bus, MTKNV_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "Another mtknvd already owns %s on this bus.", MTKNV_BUS_NAME);
        if (r == -EACCES)
                return log_error_errno(r, "Not allowed to own %s: the D-Bus policy file "
                                       "(/usr/share/dbus-1/system.d/%s.conf) is missing, or mtknvd "
                                       "is not running as root.", MTKNV_BUS_NAME, MTKNV_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire bus name %s: %m", MTKNV_BUS_NAME);
        return 0;
}

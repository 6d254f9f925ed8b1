/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "backup-job.h"
#include "bus-util.h"
#include "da-store.h"
#include "device.h"
#include "job.h"
#include "json-writer.h"
#include "log.h"
#include "manager.h"
#include "request.h"
#include "backup-import.h"
#include "scatter-edit.h"
#include "restore-journal.h"

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

/* Files cross the bus as descriptors; this caps what a caller may hand us. */
#define INSPECT_MAX (64u * 1024u * 1024u)

static int bus_error_from_fd(sd_bus_error *error, int r, const char *what) {
        switch (r) {
        case -EBADFD:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "%s must be a regular file or a pipe.", what);
        case -EBADF:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s is not open for reading.", what);
        case -EFBIG:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s is larger than %u MiB.", what,
                                         INSPECT_MAX >> 20);
        default:
                return sd_bus_error_set_errnof(error, r, "Cannot read %s: %s", what, strerror(-r));
        }
}

/* The partitions option of Restore as a comma list of safe names. */
static int bus_join_name_list(char **names, char **ret, sd_bus_error *error) {
        _cleanup_free_ char *list = NULL;
        size_t len = 0;

        for (char **name = names; name && *name; name++) {
                char *n;

                if (!manifest_safe_name(*name) || strchr(*name, ','))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option \"partitions\": \"%s\" is not a partition name.", *name);
                n = realloc(list, len + strlen(*name) + 2);
                if (!n)
                        return -ENOMEM;
                list = n;
                len += (size_t) sprintf(list + len, "%s%s", len ? "," : "", *name);
        }
        if (!list)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Option \"partitions\" is empty.");
        *ret = TAKE_PTR(list);
        return 0;
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

/* The scatter file a caller handed over, parsed. */
static int bus_read_scatter(int fd, ScatterFile **ret, uint8_t **ret_data, size_t *ret_len, sd_bus_error *error) {
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *err = NULL;
        size_t len;
        int r;

        r = read_fd_capped(fd, INSPECT_MAX, &data, &len);
        if (r < 0)
                return bus_error_from_fd(error, r, "The scatter file");
        r = scatter_parse(data, len, ret, &err);
        if (r < 0)
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "InvalidFile", "The scatter file cannot be used: %s.",
                                         err ?: strerror(-r));
        if (ret_data) {
                *ret_data = TAKE_PTR(data);
                *ret_len = len;
        }
        return 0;
}

/* Pending requests are few and cheap, but not free: a bound keeps a caller
 * from piling them up. */
#define REQUESTS_MAX 16

/* Can a Backup/Restore for d (NULL: the next phone) be taken now or kept
 * until the phone is there? */
static int manager_check_device_for_request(Manager *m, Device *d, sd_bus_error *error) {
        if (d && d->state == DEVICE_BUSY)
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "Busy",
                                         "The phone %s is busy with another job; wait for it to finish.",
                                         d->object_path);
        if (d && d->state == DEVICE_UNSUPPORTED && d->present)
                return sd_bus_error_setf(error, d->error_name && d->error_name[0] ? d->error_name :
                                         MTKNVD_ERROR_PREFIX "NotSupported", "%s", d->error ?: "Not supported.");
        if ((!d || d->state != DEVICE_READY) && m->n_requests >= REQUESTS_MAX)
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "Busy",
                                         "%zu requests already wait for phones; cancel one first "
                                         "('mtknvctl jobs', 'mtknvctl cancel').", m->n_requests);
        return 0;
}

static int method_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(scatter_file_freep) ScatterFile *scatter = NULL;
        const char *path;
        Request *req;
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
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "NoSuchDevice", "No phone %s.", path);
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "backup", "back up a phone", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        r = manager_check_device_for_request(m, d, error);
        if (r < 0)
                return r;
        if (scatter_fd >= 0) {
                r = bus_read_scatter(scatter_fd, &scatter, NULL, NULL, error);
                if (r < 0)
                        return r;
        }
        uid = bus_caller_uid(msg);
        if (d && d->state == DEVICE_READY) {
                r = backup_job_start(m, d, "manual", scatter, uid, NULL, &job, error);
                if (r < 0)
                        return r;
                scatter = NULL; /* the job owns it now */
                return sd_bus_reply_method_return(msg, "o", job->object_path);
        }
        /* not there yet, or left alone: wait for it, opening it if it is there */
        r = request_new(m, REQUEST_BACKUP, d ? d->object_path : NULL, uid, &req);
        if (r < 0)
                return r;
        request_set_scatter(req, TAKE_PTR(scatter));
        job = request_get_job(req);
        manager_open_for_request(m, req);
        return sd_bus_reply_method_return(msg, "o", job->object_path);
}

static int method_restore(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *device_path, *backup_path;
        _cleanup_free_ char *partitions = NULL, *device_key = NULL;
        _cleanup_(bus_strv_freep) char **partition_names = NULL;
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
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "NoSuchDevice", "No phone %s.", device_path);
        if (rollback && (!resume || !streq(backup_path, "/")))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "rollback goes with resume and the backup \"/\" (the journal's snapshot).");
        if (streq(backup_path, "/") && !resume)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Name the backup to restore; only resume takes \"/\" (what the phone's "
                                        "restore journal names).");
        b = streq(backup_path, "/") ? NULL : manager_find_backup_by_path(m, backup_path);
        if (!b && !streq(backup_path, "/"))
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "NoSuchBackup", "No backup %s.", backup_path);
        if (resume && d && d->identified) {
                /* continue what the journal describes: its backup, or its snapshot to roll back */
                if (device_make_id(&d->identity, d->usb_path, &device_key) < 0 ||
                    restore_journal_load(m->state_dir, device_key, &journal) < 0)
                        return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "NoJournal",
                                                 "The phone %s has no interrupted restore to resume.", device_path);
                if (!b) {
                        /* "/": what the journal names */
                        _cleanup_free_ char *bp = backup_object_path(
                                rollback ? journal.snapshot_key : journal.backup_key,
                                rollback ? journal.snapshot_id : journal.backup_id);

                        b = bp ? manager_find_backup_by_path(m, bp) : NULL;
                        if (!b)
                                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "NoSuchBackup",
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
                const Manifest *mf = b->info.manifest;

                r = restore_check_partitions(&b->info, partitions, error);
                if (r < 0)
                        return r;
                /* no phone is needed to see this: refuse before waiting for one */
                if (!(flags & RESTORE_ALLOW_FOREIGN) && !mf->me_id[0] && !mf->soc_id[0] && !mf->emmc_cid[0])
                        return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "IdentityMismatch",
                                                 "Backup %s/%s is not bound to any phone (imported). Restoring it "
                                                 "needs allow-foreign and the restore-foreign authorization.",
                                                 b->info.device_key, b->info.backup_id);
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
        r = manager_check_device_for_request(m, d, error);
        if (r < 0)
                return r;
        uid = bus_caller_uid(msg);
        if (d && d->state == DEVICE_READY && b) {
                r = restore_job_start(m, d, &b->info, resume ? &journal : NULL, flags, partitions, uid, NULL, &job,
                                      error);
                if (r < 0)
                        return r;
                return sd_bus_reply_method_return(msg, "o", job->object_path);
        }
        r = request_new(m, REQUEST_RESTORE, d ? d->object_path : NULL, uid, &req);
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

static int method_add_download_agent(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *name = NULL, *err = NULL;
        size_t len;
        int fd, r;

        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return r;
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "manage", "add a Download Agent", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = read_fd_capped(fd, INSPECT_MAX, &data, &len);
        if (r < 0)
                return bus_error_from_fd(error, r, "The Download Agent file");
        r = da_store_add(m, data, len, &name, &err);
        if (r == -EBADMSG)
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "InvalidFile", "%s", err ?: "Not a Download Agent.");
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot store the Download Agent: %s", strerror(-r));
        log_info("Download Agent added as %s/da/%s.", m->state_dir, name);
        return sd_bus_reply_method_return(msg, "s", name);
}


/* A scatter file's SP Flash Tool name: MT6735_Android_scatter.txt */
static void spflash_scatter_name(const uint8_t *data, size_t len, char *buf, size_t size) {
        _cleanup_(scatter_file_freep) ScatterFile *sc = NULL;
        _cleanup_free_ char *err = NULL;

        if (scatter_parse(data, len, &sc, &err) >= 0 && sc->platform[0] && manifest_safe_name(sc->platform))
                snprintf(buf, size, "%s_Android_scatter.txt", sc->platform);
        else
                snprintf(buf, size, "Android_scatter.txt");
}

static int method_export_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(scatter_file_freep) ScatterFile *sc = NULL;
        _cleanup_free_ uint8_t *scatter = NULL;
        _cleanup_free_ char *edited = NULL, *err = NULL;
        const char *path, *format = "mtknvd";
        size_t scatter_len = 0, edited_len = 0;
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
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "NoSuchBackup", "No backup %s.", path);
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "The export file descriptor is not open for writing.");
        if (streq(format, "spflash") != (scatter_fd >= 0))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        scatter_fd >= 0 ? "A scatter file goes with the spflash format only."
                                                : "The spflash format needs the phone's scatter file (option "
                                                  "scatter): its copy is edited to download exactly these images.");
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "export-backup", "export a backup", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (scatter_fd >= 0) {
                r = bus_read_scatter(scatter_fd, &sc, &scatter, &scatter_len, error);
                if (r < 0)
                        return r;
        }

        if (scatter) {
                const ManifestPartition *parts = b->info.manifest->parts;
                size_t n = b->info.manifest->n_parts;
                _cleanup_free_ const char **names = calloc(n + 1, sizeof(char *));
                _cleanup_free_ const char **files = calloc(n + 1, sizeof(char *));
                char scatter_name[64];

                if (!names || !files)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        names[i] = parts[i].name;
                        files[i] = parts[i].file;
                }
                r = scatter_edit_for_download(scatter, scatter_len, names, files, n, &edited, &edited_len, &err);
                if (r == -EBADMSG)
                        return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "InvalidFile",
                                                 "The scatter file cannot be used: %s.", err ?: "?");
                if (r < 0)
                        return r;
                spflash_scatter_name(scatter, scatter_len, scatter_name, sizeof(scatter_name));
                r = backup_store_export_spflash(m->store, &b->info, scatter_name, edited, edited_len, fd);
        } else
                r = backup_store_export(m->store, &b->info, fd);
        if (r == -EPIPE)
                return sd_bus_error_set(error, MTKNVD_ERROR_PREFIX "ReaderGone",
                                        "The reader of the export went away before the archive was complete "
                                        "(broken pipe); what it received is cut short. Export again, into a file or "
                                        "a reader that takes all of it.");
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot write the archive: %s", strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

/* Per-file cap: the largest identity partition is well below this. */
#define IMPORT_FILE_MAX (256u * 1024u * 1024u)

static int method_import_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(import_set_freep) ImportSet *set = NULL;
        _cleanup_(scatter_file_freep) ScatterFile *sc = NULL;
        _cleanup_free_ char *err = NULL, *id = NULL, *path = NULL;
        const char *format = NULL, *name;
        int fd, scatter_fd, r;

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
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "import-backup", "import a backup", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        /* reserved entries (from the end) stay unlocated: the restore places them */
        if (scatter_fd >= 0) {
                r = bus_read_scatter(scatter_fd, &sc, NULL, NULL, error);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_rewind(msg, true);
        if (r < 0)
                return r;
        if (!streq(format, "archive")) {
                r = import_set_new_unbound(sc ? "scatter" : "none", &set);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_enter_container(msg, 'a', "{sh}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(msg, "{sh}", &name, &fd)) > 0) {
                _cleanup_free_ uint8_t *data = NULL;
                size_t len;

                r = read_fd_capped(fd, IMPORT_FILE_MAX, &data, &len);
                if (r < 0) {
                        _cleanup_free_ char *what = NULL;

                        return bus_error_from_fd(error, r, asprintf(&what, "The file for %s", name) < 0 ? "A file" : what);
                }
                if (streq(format, "archive")) {
                        if (set)
                                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                        "An archive import takes exactly one file.");
                        r = import_parse_archive(data, len, &set, &err);
                } else {
                        r = import_set_add_image(set, name, data, len, sc, &err);
                        if (r >= 0)
                                TAKE_PTR(data);
                }
                if (r == -EBADMSG)
                        return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "InvalidFile", "Cannot import %s: %s.",
                                                 name, err ?: "invalid");
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!set || set->header->n_parts == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No files to import.");

        r = import_set_store(m->store, set, &id);
        if (r == -ENOSPC || r == -EDQUOT)
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "NoSpace", "No space left in %s for the import.",
                                         m->state_dir);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot store the import: %s", strerror(-r));
        log_info("Imported backup %s/%s (%s, %zu partitions)%s.", set->header->device_key, id, format,
                 set->header->n_parts, set->header->me_id[0] ? "" : ", not bound to any phone");
        manager_backup_added(m, set->header->device_key, id, NULL);
        path = backup_object_path(set->header->device_key, id);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(msg, "o", path);
}

/* A backup archive: find its manifest.yaml member and describe it. */
static int inspect_archive(Manager *m, const uint8_t *data, size_t len, FILE *out, bool *ret_is_archive) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        int r = -ENOENT;

        *ret_is_archive = false;
        if (!a)
                return -ENOMEM;
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
        if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
                archive_read_free(a);
                return -ENOENT;
        }
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(e), *slash = name ? strrchr(name, '/') : NULL;
                _cleanup_free_ uint8_t *buf = NULL;
                _cleanup_(manifest_freep) Manifest *mf = NULL;
                _cleanup_free_ char *err = NULL;
                la_ssize_t n;
                int64_t size = archive_entry_size(e);

                *ret_is_archive = true;
                if (!name || !streq(slash ? slash + 1 : name, "manifest.yaml") || size <= 0 || size > 1024 * 1024)
                        continue;
                buf = malloc((size_t) size);
                if (!buf)
                        break;
                n = archive_read_data(a, buf, (size_t) size);
                if (n != size || manifest_parse(buf, (size_t) n, &mf, &err) < 0) {
                        fprintf(out, "{\"type\":\"backup-archive\",\"valid\":false}");
                        r = -EBADMSG;
                        break;
                }
                {
                        JsonWriter j = { .f = out };
                        char hex[65];

                        json_begin_object(&j, NULL);
                        json_string(&j, "type", "backup-archive");
                        json_bool(&j, "valid", true);
                        json_string(&j, "device_key", mf->device_key);
                        json_string(&j, "chip", mf->chip);
                        json_string(&j, "source", mf->source);
                        json_uint(&j, "created", mf->created_usec / 1000000);
                        json_bool(&j, "verified", mf->verified);
                        json_begin_array(&j, "partitions");
                        for (size_t i = 0; i < mf->n_parts; i++) {
                                for (unsigned k = 0; k < 32; k++)
                                        sprintf(hex + 2 * k, "%02x", mf->parts[i].sha256[k]);
                                json_begin_object(&j, NULL);
                                json_string(&j, "name", mf->parts[i].name);
                                json_uint(&j, "offset", mf->parts[i].offset);
                                json_uint(&j, "size", mf->parts[i].size);
                                json_string(&j, "sha256", hex);
                                json_end_object(&j);
                        }
                        json_end_array(&j);
                        json_end_object(&j);
                }
                r = 0;
                break;
        }
        archive_read_free(a);
        return r;
}

static int method_inspect(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *json = NULL, *err_da = NULL, *err_sc = NULL;
        size_t len, json_len = 0;
        bool is_archive = false;
        DaFile *da = NULL;
        ScatterFile *sc = NULL;
        FILE *out;
        int fd, r;

        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return r;
        r = read_fd_capped(fd, INSPECT_MAX, &data, &len);
        if (r < 0)
                return bus_error_from_fd(error, r, "The file");
        out = open_memstream(&json, &json_len);
        if (!out)
                return -ENOMEM;

        /* one parser per format, all in the daemon: the client only prints */
        if (da_file_parse(data, len, &da, &err_da) >= 0) {
                r = da_file_to_json(da, out);
                da_file_free(da);
        } else if (inspect_archive(m, data, len, out, &is_archive) >= 0 || is_archive)
                r = 0;
        else if (scatter_parse(data, len, &sc, &err_sc) >= 0) {
                r = scatter_file_to_json(sc, m->identity_set, out);
                scatter_file_free(sc);
        } else {
                fclose(out);
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "InvalidFile",
                                         "This is neither a MediaTek Download Agent (%s), nor an mtknvd backup "
                                         "archive, nor a scatter file (%s).",
                                         err_da ?: "?", err_sc ?: "?");
        }
        if (fclose(out) != 0 || r < 0)
                return -EIO;
        return sd_bus_reply_method_return(msg, "s", json);
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
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "TooManyInhibitors",
                                         "uid %u already holds %u inhibitors, the most one user may hold. End one "
                                         "of them first (close its file descriptor, e.g. stop its 'mtknvctl "
                                         "inhibit').", (unsigned) uid, INHIBITORS_PER_UID_MAX);
        if (r == -ETOOMANYREFS)
                return sd_bus_error_setf(error, MTKNVD_ERROR_PREFIX "TooManyInhibitors",
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
        SD_BUS_METHOD("Backup", "oa{sv}", "o", method_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Restore", "ooa{sv}", "o", method_restore, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("AddDownloadAgent", "h", "s", method_add_download_agent, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ExportBackup", "oha{sv}", "", method_export_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ImportBackup", "a{sh}a{sv}", "o", method_import_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Inspect", "h", "s", method_inspect, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Inhibit", "ssa{sv}", "h", method_inhibit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("JobNew", "uo", 0),
        SD_BUS_SIGNAL("JobRemoved", "uos", 0),
        SD_BUS_VTABLE_END,
};

int manager_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_object_manager(m->bus, &m->slots[0], "/");
        if (r < 0)
                return log_error_errno(r, "Failed to add object manager: %m");
        r = sd_bus_add_object_vtable(m->bus, &m->slots[1], MTKNVD_MANAGER_PATH, MTKNVD_MANAGER_IFACE,
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register manager object: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[2], MTKNVD_DEVICE_PREFIX, MTKNVD_DEVICE_IFACE,
                                       device_vtable, device_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register device objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[3], MTKNVD_DEVICE_PREFIX, device_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register device enumerator: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[4], MTKNVD_JOB_PREFIX, MTKNVD_JOB_IFACE, job_vtable,
                                       job_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register job objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[5], MTKNVD_JOB_PREFIX, job_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register job enumerator: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->slots[6], MTKNVD_BACKUP_PREFIX, MTKNVD_BACKUP_IFACE, backup_vtable,
                                       backup_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register backup objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->slots[7], MTKNVD_BACKUP_PREFIX, backup_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register backup enumerator: %m");
        return 0;
}

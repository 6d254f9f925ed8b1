/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive-manifest.h"
#include "archive-scan.h"
#include "backup-import.h"
#include "backup-dbus.h"
#include "bus-util.h"
#include "da-file.h"
#include "da-store.h"
#include "device.h"
#include "fd-io.h"
#include "inspect-dbus.h"
#include "job.h"
#include "log.h"
#include "manager-files.h"
#include "mtknv-bus.h"
#include "partition-table.h"
#include "preloader-store.h"
#include "scatter-edit.h"

/* An export may go to a slow reader: it fails when the reader takes
 * nothing for FileTimeoutSec=, and in any case after this many of them. */
#define EXPORT_TIMEOUT_FACTOR 10u

typedef struct FileCall FileCall;
/* What to do with a file once read; takes data. */
typedef void (*FileCallData)(FileCall *fc, uint8_t *data, size_t size);

typedef struct ImportFile {
        char *name;
        int fd;                     /* the message's: valid while the call is */
} ImportFile;

struct FileCall {
        Manager *manager;
        BusCall *call;
        /* the file being read */
        FdReader *reader;
        char *what;                 /* "The scatter file", for messages */
        size_t max;
        FileCallData on_data;
        /* Backup: the device; ExportBackup: the backup */
        char *path;
        uid_t uid;
        /* the scatter file of Backup, ExportBackup and ImportBackup */
        ScatterFile *scatter;
        uint8_t *scatter_data;
        size_t scatter_len;
        /* ExportBackup */
        int out_fd;
        BackupCompression compression;
        BackupExport *export;
        Backup *export_backup;      /* held (Backup.users) while the export reads it */
        FdWriter *writer;
        sd_event_source *stall;
        uint64_t stall_written;
        /* ImportBackup */
        char *format;
        ImportFile *files;
        size_t n_files, next_file;
        ImportArchive *archive;
        ImportSet *set;
        sd_event_source *step;
};

static FileCall *file_call_free(FileCall *fc) {
        if (!fc)
                return NULL;
        bus_call_free(fc->call);
        fd_reader_free(fc->reader);
        free(fc->what);
        free(fc->path);
        scatter_file_free(fc->scatter);
        free(fc->scatter_data);
        backup_export_free(fc->export); /* before its sink, the writer */
        if (fc->export_backup)
                fc->export_backup->users--;
        fd_writer_free(fc->writer);
        sd_event_source_disable_unref(fc->stall);
        free(fc->format);
        for (size_t i = 0; i < fc->n_files; i++)
                free(fc->files[i].name);
        free(fc->files);
        import_archive_free(fc->archive);
        import_set_free(fc->set);
        sd_event_source_disable_unref(fc->step);
        return mfree(fc);
}

static void file_call_fail(FileCall *fc, const sd_bus_error *error) {
        bus_call_reply_error(fc->call, error);
        fc->call = NULL;
        file_call_free(fc);
}

static void file_call_failf(FileCall *fc, const char *name, int r, const char *fmt, ...) _printf_(4, 5);
static void file_call_failf(FileCall *fc, const char *name, int r, const char *fmt, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;

        va_start(ap, fmt);
        bus_error_setv(&error, name, r, "Failed.", fmt, ap);
        va_end(ap);
        file_call_fail(fc, &error);
}

static void file_call_reply_two(FileCall *fc, const char *types, const char *a, const char *b) {
        int r = sd_bus_reply_method_return(bus_call_message(fc->call), types, a, b);

        if (r < 0)
                log_debug_errno(r, "Cannot send the reply to %s(): %m", sd_bus_message_get_member(bus_call_message(fc->call)));
        file_call_free(fc);
}

/* types has one or two strings (or none: value NULL) */
static void file_call_reply(FileCall *fc, const char *types, const char *value) {
        file_call_reply_two(fc, types, value, NULL);
}

static void format_size(uint64_t v, char *buf, size_t size) {
        if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
                snprintf(buf, size, "%" PRIu64 " MiB", v >> 20);
        else if (v >= 1024 && v % 1024 == 0)
                snprintf(buf, size, "%" PRIu64 " KiB", v >> 10);
        else
                snprintf(buf, size, "%" PRIu64 " bytes", v);
}

/* Why a caller's descriptor cannot be read (max: its cap) or written (max 0),
 * and what to do. */
static int bus_error_from_fd(sd_bus_error *error, int r, const char *what, uint64_t max) {
        char size[32];

        switch (r) {
        case -EBADFD:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "%s must be a regular file or a pipe (or a socket).", what);
        case -EBADF:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s is not open for %s.", what,
                                         max ? "reading" : "writing");
        case -EFBIG:
                format_size(max, size, sizeof(size));
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "%s is larger than %s, more than it can legitimately be.", what, size);
        case -EREMOTE:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "%s is on a FUSE file system, whose reads and writes can stall without "
                                         "end; copy it to a local file system (or pass a pipe) instead.", what);
        default:
                return sd_bus_error_set_errnof(error, r, "Cannot read %s: %s", what, strerror(-r));
        }
}

static void file_call_on_abort(BusCall *c, int reason, void *userdata) {
        FileCall *fc = userdata;
        double sec = (double) bus_call_set_timeout(fc->manager->calls) / 1e6;

        switch (reason) {
        case -ECONNRESET:
                log_info("The caller of %s() left the bus; dropping the call.",
                         sd_bus_message_get_member(bus_call_message(c)));
                file_call_free(fc);
                return;
        case -ETIMEDOUT:
                if (fc->reader)
                        file_call_failf(fc, SD_BUS_ERROR_TIMEOUT, 0,
                                        "%s was not read to its end within %.3g s: whoever holds the other end of "
                                        "the pipe or socket did not write all of it and close it. Nothing was done.",
                                        fc->what, sec);
                else if (fc->writer)
                        file_call_failf(fc, SD_BUS_ERROR_TIMEOUT, 0,
                                        "The export did not finish within %.3g s: its reader is too slow. The "
                                        "archive is incomplete.", sec * EXPORT_TIMEOUT_FACTOR);
                else
                        file_call_failf(fc, SD_BUS_ERROR_TIMEOUT, 0, "The call did not finish within %.3g s.", sec);
                return;
        default:
                file_call_failf(fc, MTKNV_ERROR_CANCELLED, 0, "mtknvd is stopping; nothing was done.");
                return;
        }
}

static int file_call_new(Manager *m, BusCall *call, uint64_t timeout_usec, FileCall **ret) {
        FileCall *fc = calloc(1, sizeof(*fc));
        int r;

        if (!fc)
                return -ENOMEM;
        fc->manager = m;
        fc->out_fd = -EBADF;
        r = bus_call_start(call, timeout_usec, file_call_on_abort, fc);
        if (r < 0) {
                free(fc);
                return r;
        }
        fc->call = call;
        *ret = fc;
        return 0;
}

/* The call is the caller's again: for a failure at the start. */
static void file_call_release(FileCall *fc) {
        fc->call = NULL;
        file_call_free(fc);
}

static void file_call_on_read(FdReader *rd, int r, void *userdata) {
        FileCall *fc = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uint8_t *data;
        size_t size;

        if (r < 0) {
                (void) bus_error_from_fd(&error, r, fc->what, fc->max);
                file_call_fail(fc, &error);
                return;
        }
        data = fd_reader_steal(rd, &size);
        fc->reader = fd_reader_free(fc->reader);
        fc->on_data(fc, data, size);
}

/* Starts reading fd; on an immediate failure error says why. */
static int file_call_read(FileCall *fc, int fd, size_t max, const char *what, FileCallData on_data,
                          sd_bus_error *error) {
        int r;

        free(fc->what);
        fc->what = strdup(what);
        if (!fc->what)
                return -ENOMEM;
        fc->max = max;
        fc->on_data = on_data;
        r = fd_reader_new(fc->manager->event, fd, max, file_call_on_read, fc, &fc->reader);
        if (r < 0)
                return bus_error_from_fd(error, r, what, max);
        return 0;
}

/* Like file_call_read() in the middle of a call: a failure answers it. */
static void file_call_read_next(FileCall *fc, int fd, size_t max, const char *what, FileCallData on_data) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = file_call_read(fc, fd, max, what, on_data, &error);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        (void) sd_bus_error_set_errno(&error, r);
                file_call_fail(fc, &error);
        }
}

/* The scatter file a caller handed over, parsed into fc->scatter. */
static int file_call_parse_scatter(FileCall *fc, uint8_t *data, size_t size) {
        _cleanup_free_ char *err = NULL;
        int r;

        free(fc->scatter_data);
        fc->scatter_data = data;
        fc->scatter_len = size;
        r = scatter_parse(data, size, &fc->scatter, &err);
        if (r < 0) {
                file_call_failf(fc, MTKNV_ERROR_INVALID_FILE, 0, "The scatter file cannot be used: %s.",
                                err ?: strerror(-r));
                return r;
        }
        return 0;
}

/* ------------------------------------------------------------ Inspect */

/* An SP Flash Tool export made by ExportBackup (format spflash):
 * <backup-id>-spflash/ with the scatter file first (backup-store.h).
 * 0 when described, -ENOENT when data is not one. */
static int inspect_spflash_export(const uint8_t *data, size_t len, char **identity_set, sd_bus_message *reply) {
        _cleanup_(archive_scan_freep) ArchiveScan *scan = NULL;
        _cleanup_(scatter_file_freep) ScatterFile *sc = NULL;
        _cleanup_free_ char *err = NULL, *dir = NULL, *name = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        ArchiveMember mb;
        const char *slash;
        size_t got = 0, l;
        int r;

        r = archive_scan_new(data, len, 2 * SCATTER_FILE_MAX, &scan);
        if (r < 0)
                return r;
        do
                r = archive_scan_next(scan, &mb, &err);
        while (r > 0 && !mb.regular);
        if (r <= 0)
                return -ENOENT;
        slash = strchr(mb.name, '/');
        l = strlen(mb.base);
        if (!slash || slash - mb.name < 9 || strncmp(slash - 8, "-spflash", 8) != 0 || l < 19 ||
            (strcasecmp(mb.base + l - 19, "Android_scatter.txt") != 0 &&
             strcasecmp(mb.base + l - 19, "Android_scatter.xml") != 0) || mb.size <= 0 ||
            mb.size > SCATTER_FILE_MAX)
                return -ENOENT;
        dir = strndup(mb.name, (size_t) (slash - mb.name));
        name = strdup(mb.base);
        buf = malloc((size_t) mb.size);
        if (!dir || !name || !buf)
                return -ENOMEM;
        while (got < (size_t) mb.size) {
                ssize_t k = archive_scan_read(scan, buf + got, (size_t) mb.size - got, &err);

                if (k <= 0)
                        return -ENOENT;
                got += (size_t) k;
        }
        err = mfree(err);
        if (scatter_parse(buf, got, &sc, &err) < 0 && !err)
                err = strdup("its scatter file does not parse");
        return inspect_append_spflash_export(reply, dir, name, sc, err, identity_set);
}

/* A tar archive: describe its manifest, which an mtknvd export has first.
 * 0 when described (valid or not), -ENOENT when it is no tar archive. */
static int inspect_archive(const uint8_t *data, size_t len, char **identity_set, sd_bus_message *reply) {
        _cleanup_(manifest_freep) Manifest *mf = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        r = archive_read_manifest(data, len, &mf, &why);
        if (r < 0)
                return r;
        if (r == 0) {
                r = inspect_spflash_export(data, len, identity_set, reply);
                if (r != -ENOENT)
                        return r;
        }
        return inspect_append_archive(reply, mf, why);
}

/* A preloader: 0 when described, -EBADMSG etc. when it is none. */
static int inspect_preloader(const uint8_t *data, size_t len, sd_bus_message *reply, char *err, size_t err_size) {
        _cleanup_free_ EmiBlock *emi = malloc(sizeof(EmiBlock));
        int r;

        if (!emi)
                return -ENOMEM;
        r = preloader_parse_emi(data, len, emi, err, err_size);
        if (r < 0)
                return r;
        return inspect_append_preloader(reply, emi);
}

static void inspect_on_data(FileCall *fc, uint8_t *data, size_t len) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ uint8_t *d = data;
        _cleanup_free_ char *err_da = NULL, *err_sc = NULL;
        _cleanup_(da_file_freep) DaFile *da = NULL;
        _cleanup_(scatter_file_freep) ScatterFile *sc = NULL;
        char pl_err[256] = "";
        int r;

        r = sd_bus_message_new_method_return(bus_call_message(fc->call), &reply);
        if (r < 0) {
                file_call_failf(fc, NULL, r, "Cannot describe the file: %s", strerror(-r));
                return;
        }
        /* one parser per format, all in the daemon: the client only prints; each is bounded */
        if (da_file_parse(d, len, &da, &err_da) >= 0)
                r = inspect_append_da(reply, da);
        else if ((r = inspect_archive(d, len, fc->manager->identity_set, reply)) != -ENOENT)
                ;
        else if (len <= PRELOADER_FILE_MAX && (r = inspect_preloader(d, len, reply, pl_err, sizeof(pl_err))) != -EBADMSG &&
                 r != -ENODATA && r != -EPROTONOSUPPORT)
                ;
        else if (len <= SCATTER_FILE_MAX && scatter_parse(d, len, &sc, &err_sc) >= 0)
                r = inspect_append_scatter(reply, sc, fc->manager->identity_set);
        else {
                file_call_failf(fc, MTKNV_ERROR_INVALID_FILE, 0,
                                "mtknvd does not recognise this file. It tried: a MediaTek Download Agent (%s); an "
                                "mtknvd backup archive or SP Flash Tool export (it is no tar archive); a preloader "
                                "image (%s); a scatter file (%s).", err_da ?: "?",
                                len > PRELOADER_FILE_MAX ? "too large for one" : pl_err[0] ? pl_err : "?",
                                err_sc ?: len > SCATTER_FILE_MAX ? "too large for one" : "?");
                return;
        }
        if (r < 0) {
                file_call_failf(fc, NULL, r, "Cannot describe the file: %s", strerror(-r));
                return;
        }
        r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot send the reply to Inspect(): %m");
        file_call_free(fc);
}

/* A call that reads one file and answers from on_data. */
static int file_call_read_one(Manager *m, BusCall *call, int fd, size_t max, const char *what, FileCallData on_data,
                              sd_bus_error *error) {
        FileCall *fc;
        int r;

        r = file_call_new(m, call, 0, &fc);
        if (r < 0)
                return r;
        r = file_call_read(fc, fd, max, what, on_data, error);
        if (r < 0)
                file_call_release(fc);
        return r;
}

int manager_files_inspect(Manager *m, BusCall *call, int fd, sd_bus_error *error) {
        return file_call_read_one(m, call, fd, INSPECT_MAX, "The file", inspect_on_data, error);
}

/* ------------------------------------------------------------ AddDownloadAgent */

static void add_da_on_data(FileCall *fc, uint8_t *data, size_t len) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ uint8_t *d = data;
        _cleanup_free_ char *name = NULL, *err = NULL, *chips = NULL;
        _cleanup_(da_file_freep) DaFile *da = NULL;
        int r;

        r = da_store_add(fc->manager->state_dir, d, len, &da, &name, &err);
        if (r == -EBADMSG) {
                file_call_failf(fc, MTKNV_ERROR_INVALID_FILE, 0, "%s", err ?: "Not a Download Agent.");
                return;
        }
        if (r < 0) {
                file_call_failf(fc, NULL, r, "Cannot store the Download Agent: %s", strerror(-r));
                return;
        }
        (void) inspect_da_chips(da, &chips);
        log_info("Download Agent added as %s/da/%s: %s, for %s.", fc->manager->state_dir, name,
                 da->description[0] ? da->description : da->identifier, chips ?: "?");
        /* what it covers, as Inspect says it: the caller need not read the file again */
        r = sd_bus_message_new_method_return(bus_call_message(fc->call), &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", name);
        if (r >= 0)
                r = inspect_append_da(reply, da);
        if (r < 0) {
                file_call_failf(fc, NULL, r, "Cannot describe the Download Agent: %s", strerror(-r));
                return;
        }
        r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot send the reply to AddDownloadAgent(): %m");
        file_call_free(fc);
}

int manager_files_add_download_agent(Manager *m, BusCall *call, int fd, sd_bus_error *error) {
        return file_call_read_one(m, call, fd, INSPECT_MAX, "The Download Agent file", add_da_on_data, error);
}

/* ------------------------------------------------------------ AddPreloader */

static void add_preloader_on_data(FileCall *fc, uint8_t *data, size_t len) {
        _cleanup_free_ uint8_t *d = data;
        _cleanup_free_ char *name = NULL, *err = NULL, *desc = NULL;
        int r;

        r = preloader_store_add(fc->manager->state_dir, d, len, &name, &desc, &err);
        if (r == -EBADMSG || r == -ENODATA || r == -EPROTONOSUPPORT) {
                file_call_failf(fc, MTKNV_ERROR_INVALID_FILE, 0, "Not a usable preloader image: %s Take the "
                                "preloader_<board>.bin of the phone's firmware package (next to its scatter file).",
                                err ?: "");
                return;
        }
        if (r < 0) {
                file_call_failf(fc, NULL, r, "Cannot store the preloader: %s", strerror(-r));
                return;
        }
        log_info("Preloader added as %s/preloader/%s: %s", fc->manager->state_dir, name, desc);
        file_call_reply_two(fc, "ss", name, desc);
}

int manager_files_add_preloader(Manager *m, BusCall *call, int fd, sd_bus_error *error) {
        return file_call_read_one(m, call, fd, PRELOADER_FILE_MAX, "The preloader file", add_preloader_on_data, error);
}

/* ------------------------------------------------------------ Backup with a scatter file */

static void backup_on_scatter(FileCall *fc, uint8_t *data, size_t len) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Device *d;
        Job *job;
        int r;

        if (file_call_parse_scatter(fc, data, len) < 0)
                return;
        /* the phone may have gone while the file was read ("/": the next one) */
        d = streq(fc->path, "/") ? NULL : manager_find_device_by_path(fc->manager, fc->path);
        if (!d && !streq(fc->path, "/")) {
                file_call_failf(fc, MTKNV_ERROR_NO_SUCH_DEVICE, 0, "No phone %s.", fc->path);
                return;
        }
        r = manager_backup_or_wait(fc->manager, d, fc->scatter, fc->uid, &job, &error);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        (void) sd_bus_error_set_errnof(&error, r, "Cannot start the backup: %s", strerror(-r));
                file_call_fail(fc, &error);
                return;
        }
        fc->scatter = NULL; /* the job owns it now */
        file_call_reply(fc, "o", job->object_path);
}

int manager_files_backup(Manager *m, BusCall *call, const char *device_path, int scatter_fd, uid_t uid,
                         sd_bus_error *error) {
        FileCall *fc;
        int r;

        r = file_call_new(m, call, 0, &fc);
        if (r < 0)
                return r;
        fc->uid = uid;
        fc->path = strdup(device_path);
        r = fc->path ? file_call_read(fc, scatter_fd, SCATTER_FILE_MAX, "The scatter file", backup_on_scatter, error)
                     : -ENOMEM;
        if (r < 0)
                file_call_release(fc);
        return r;
}

/* ------------------------------------------------------------ ExportBackup */

/* A scatter file's SP Flash Tool name: MT6735_Android_scatter.txt, MT6789_Android_scatter.xml */
static void spflash_scatter_name(const ScatterFile *sc, char *buf, size_t size) {
        const char *ext = sc->xml ? "xml" : "txt";

        if (sc->platform[0] && manifest_safe_name(sc->platform))
                snprintf(buf, size, "%s_Android_scatter.%s", sc->platform, ext);
        else
                snprintf(buf, size, "Android_scatter.%s", ext);
}

static int export_sink(const void *data, size_t n, void *userdata) {
        FileCall *fc = userdata;

        return fd_writer_queue(fc->writer, data, n);
}

static int export_fill(FdWriter *w, void *userdata) {
        FileCall *fc = userdata;

        return backup_export_step(fc->export);
}

static void export_done(FdWriter *w, int r, void *userdata) {
        FileCall *fc = userdata;

        if (r == -EPIPE || r == -ECONNRESET)
                file_call_failf(fc, MTKNV_ERROR_READER_GONE, r,
                                "The reader of the export went away before the archive was complete (broken "
                                "pipe); what it received is cut short. Export again, into a file or a reader that "
                                "takes all of it.");
        else if (r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
                file_call_failf(fc, NULL, r, "Cannot write the archive: %s. It is incomplete.", strerror(-r));
        else if (r < 0)
                file_call_failf(fc, NULL, r, "Cannot write the archive: %s", strerror(-r));
        else
                file_call_reply(fc, NULL, NULL);
}

/* Every FileTimeoutSec= the reader must have taken something. */
static int export_on_stall(sd_event_source *s, uint64_t usec, void *userdata) {
        FileCall *fc = userdata;
        uint64_t written = fd_writer_written(fc->writer);
        double sec = (double) bus_call_set_timeout(fc->manager->calls) / 1e6;

        if (written == fc->stall_written) {
                file_call_failf(fc, SD_BUS_ERROR_TIMEOUT, 0,
                                "Nothing read the export for %.3g s (after %" PRIu64 " bytes): mtknvd gave up. "
                                "Whoever holds the other end of the pipe or socket must read it. The archive "
                                "is incomplete.", sec, written);
                return 0;
        }
        fc->stall_written = written;
        (void) sd_event_source_set_time_relative(s, bus_call_set_timeout(fc->manager->calls));
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int export_start(FileCall *fc, sd_bus_error *error) {
        _cleanup_free_ char *err = NULL, *edited = NULL;
        size_t edited_len = 0;
        char scatter_name[64];
        Backup *b;
        int r;

        b = manager_find_backup_by_path(fc->manager, fc->path);
        if (!b)
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP, "No backup %s.", fc->path);
        if (fc->scatter) {
                const ManifestPartition *parts = b->info.manifest->parts;
                size_t n = b->info.manifest->n_parts;
                _cleanup_free_ const char **names = calloc(n + 1, sizeof(char *));
                _cleanup_free_ const char **files = calloc(n + 1, sizeof(char *));

                if (!names || !files)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        names[i] = parts[i].name;
                        files[i] = parts[i].file;
                }
                r = scatter_edit_for_download(fc->scatter_data, fc->scatter_len,
                                              storage_type_to_string(b->info.manifest->storage_type), names, files,
                                              n, &edited, &edited_len, &err);
                if (r == -EBADMSG)
                        return sd_bus_error_setf(error, MTKNV_ERROR_INVALID_FILE,
                                                 "The scatter file cannot be used: %s.", err ?: "?");
                if (r < 0)
                        return r;
                spflash_scatter_name(fc->scatter, scatter_name, sizeof(scatter_name));
        }
        fc->export_backup = b;
        b->users++;
        r = fd_writer_new(fc->manager->event, fc->out_fd, export_fill, export_done, fc, &fc->writer);
        if (r < 0)
                return bus_error_from_fd(error, r, "The export file descriptor", 0);
        r = backup_export_new(fc->manager->store, &b->info, fc->scatter ? scatter_name : NULL, edited, edited_len,
                              fc->compression, export_sink, fc, &fc->export);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read the backup: %s", strerror(-r));
        r = sd_event_add_time_relative(fc->manager->event, &fc->stall, CLOCK_MONOTONIC,
                                       bus_call_set_timeout(fc->manager->calls), 0, export_on_stall, fc);
        if (r < 0)
                return r;
        return 0;
}

static void export_on_scatter(FileCall *fc, uint8_t *data, size_t len) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (file_call_parse_scatter(fc, data, len) < 0)
                return;
        r = export_start(fc, &error);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        (void) sd_bus_error_set_errnof(&error, r, "Cannot export: %s", strerror(-r));
                file_call_fail(fc, &error);
        }
}

int manager_files_export(Manager *m, BusCall *call, const char *backup_path, int fd, int scatter_fd,
                         BackupCompression compression, sd_bus_error *error) {
        FileCall *fc;
        int r;

        r = file_call_new(m, call, EXPORT_TIMEOUT_FACTOR * bus_call_set_timeout(m->calls), &fc);
        if (r < 0)
                return r;
        fc->out_fd = fd;
        fc->compression = compression;
        fc->path = strdup(backup_path);
        if (!fc->path)
                r = -ENOMEM;
        else if (scatter_fd >= 0)
                r = file_call_read(fc, scatter_fd, SCATTER_FILE_MAX, "The scatter file", export_on_scatter, error);
        else
                r = export_start(fc, error);
        if (r < 0)
                file_call_release(fc);
        return r;
}

/* ------------------------------------------------------------ ImportBackup */

static void import_finish(FileCall *fc, const Manifest *header, const char *id) {
        _cleanup_free_ char *path = NULL;

        /* already stored: the call answers with that backup, and nothing is published */
        if (!fc->archive || !import_archive_already_stored(fc->archive)) {
                log_info("Imported backup %s/%s (%s, %zu partitions)%s.", header->device_key, id, fc->format,
                         header->n_parts, header->me_id[0] ? "" : ", not bound to any phone");
                manager_backup_added(fc->manager, header->device_key, id, NULL);
        }
        path = backup_object_path(header->device_key, id);
        if (!path) {
                file_call_failf(fc, NULL, -ENOMEM, "Out of memory.");
                return;
        }
        file_call_reply(fc, "o", path);
}

static int import_on_step(sd_event_source *s, void *userdata) {
        FileCall *fc = userdata;
        _cleanup_free_ char *id = NULL, *err = NULL;
        int r;

        if (fc->archive)
                r = import_archive_step(fc->archive, &id, &err);
        else
                r = import_set_store_step(fc->set, fc->manager->store, &id);
        if (r > 0)
                return 0;
        if (r == 0) {
                import_finish(fc, fc->archive ? import_archive_manifest(fc->archive) : fc->set->header, id);
                return 0;
        }
        if (r == -EBADMSG || r == -EFBIG)
                file_call_failf(fc, MTKNV_ERROR_INVALID_FILE, 0, "Cannot import %s: %s.",
                                fc->files[0].name, err ?: "invalid");
        else if (r == -ENOSPC || r == -EDQUOT)
                file_call_failf(fc, MTKNV_ERROR_NO_SPACE, 0, "No space left in %s for the import.",
                                fc->manager->state_dir);
        else
                file_call_failf(fc, NULL, r, "Cannot store the import: %s", strerror(-r));
        return 0;
}

static void import_store(FileCall *fc) {
        int r;

        /* every file is read: what is left is our own work, bounded by the caps */
        bus_call_stop_timer(fc->call);
        r = sd_event_add_defer(fc->manager->event, &fc->step, import_on_step, fc);
        if (r >= 0)
                r = sd_event_source_set_enabled(fc->step, SD_EVENT_ON);
        if (r >= 0)
                r = sd_event_source_set_priority(fc->step, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                file_call_failf(fc, NULL, r, "Cannot store the import: %s", strerror(-r));
}

static const ScatterEntry *scatter_find(const ScatterFile *sc, const char *name) {
        char want[64];

        partition_name_canonical(name, want, sizeof(want));
        for (size_t i = 0; i < sc->n_entries; i++) {
                char have[64];

                partition_name_canonical(sc->entries[i].name, have, sizeof(have));
                if (streq(have, want))
                        return &sc->entries[i];
        }
        return NULL;
}

static void import_next_file(FileCall *fc);

static void import_on_file(FileCall *fc, uint8_t *data, size_t len) {
        _cleanup_free_ uint8_t *d = data;
        _cleanup_free_ char *err = NULL;
        const char *name = fc->files[fc->next_file].name;
        int r;

        if (streq(fc->format, "archive")) {
                r = import_archive_new(fc->manager->store, TAKE_PTR(d), len, &fc->archive);
                if (r < 0) {
                        file_call_failf(fc, NULL, r, "Cannot import %s: %s", name, strerror(-r));
                        return;
                }
                import_store(fc);
                return;
        }
        r = import_set_add_image(fc->set, name, d, len, fc->scatter, &err);
        if (r == -EBADMSG) {
                file_call_failf(fc, MTKNV_ERROR_INVALID_FILE, 0, "Cannot import %s: %s.", name,
                                err ?: "invalid");
                return;
        }
        if (r < 0) {
                file_call_failf(fc, NULL, r, "Cannot import %s: %s", name, strerror(-r));
                return;
        }
        TAKE_PTR(d); /* the set has it */
        fc->next_file++;
        import_next_file(fc);
}

static void import_next_file(FileCall *fc) {
        _cleanup_free_ char *what = NULL;
        const ImportFile *f;
        uint64_t max;

        if (fc->next_file == fc->n_files) {
                import_store(fc);
                return;
        }
        f = &fc->files[fc->next_file];
        if (streq(fc->format, "archive"))
                max = IMPORT_ARCHIVE_MAX;
        else {
                const ScatterEntry *e = fc->scatter ? scatter_find(fc->scatter, f->name) : NULL;

                /* a readback covers its partition exactly */
                max = MIN(e ? MIN(e->size, IMPORT_IMAGE_MAX) : IMPORT_IMAGE_MAX, IMPORT_TOTAL_MAX - fc->set->total);
                if (max == 0) {
                        file_call_failf(fc, MTKNV_ERROR_INVALID_FILE, 0,
                                        "Cannot import %s: the images add up to more than a backup can hold "
                                        "(%llu MiB).", f->name, IMPORT_TOTAL_MAX >> 20);
                        return;
                }
        }
        if (asprintf(&what, "The file for %s", f->name) < 0) {
                file_call_failf(fc, NULL, -ENOMEM, "Out of memory.");
                return;
        }
        file_call_read_next(fc, f->fd, (size_t) max, what, import_on_file);
}

static void import_on_scatter(FileCall *fc, uint8_t *data, size_t len) {
        if (file_call_parse_scatter(fc, data, len) < 0)
                return;
        import_next_file(fc);
}

/* The a{sh} of the call, as names and descriptors. */
static int import_collect_files(FileCall *fc, sd_bus_error *error) {
        sd_bus_message *msg = bus_call_message(fc->call);
        const char *name;
        int fd, r;

        r = sd_bus_message_rewind(msg, true);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "{sh}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(msg, "{sh}", &name, &fd)) > 0) {
                ImportFile *a;

                if (fc->n_files >= MANIFEST_PARTS_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "At most %d files can be imported at once.", MANIFEST_PARTS_MAX);
                a = reallocarray(fc->files, fc->n_files + 1, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                fc->files = a;
                a[fc->n_files] = (ImportFile) { .name = strdup(name), .fd = fd };
                if (!a[fc->n_files].name)
                        return -ENOMEM;
                fc->n_files++;
        }
        if (r < 0)
                return r;
        if (fc->n_files == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No files to import.");
        if (streq(fc->format, "archive") && fc->n_files != 1)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "An archive import takes exactly one file.");
        return 0;
}

int manager_files_import(Manager *m, BusCall *call, const char *format, int scatter_fd, sd_bus_error *error) {
        FileCall *fc;
        int r;

        r = file_call_new(m, call, 0, &fc);
        if (r < 0)
                return r;
        fc->format = strdup(format);
        r = fc->format ? import_collect_files(fc, error) : -ENOMEM;
        /* reserved entries (from the end) stay unlocated: the restore places them */
        if (r >= 0 && !streq(format, "archive"))
                r = import_set_new_unbound(scatter_fd >= 0 ? "scatter" : "none", &fc->set);
        if (r >= 0 && scatter_fd >= 0)
                r = file_call_read(fc, scatter_fd, SCATTER_FILE_MAX, "The scatter file", import_on_scatter, error);
        if (r < 0) {
                file_call_release(fc);
                return r;
        }
        if (scatter_fd < 0)
                import_next_file(fc); /* answers the call itself if the first file cannot be read */
        return 0;
}

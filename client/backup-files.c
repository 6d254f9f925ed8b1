/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs that hand the daemon a backup as a file: export-backup, import
 * (add-da and inspect are inspect.c's). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backup-files.h"
#include "backup-list.h"
#include "macro.h"
#include "output.h"

int file_open_input(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                fprintf(stderr, "Cannot open %s: %s\n", path, strerror(errno));
        return fd;
}

/* A label or key as part of a file name: letters, digits, '-', '_' and '.' kept, the rest '_'. */
static void file_name_part(const char *s, char *buf, size_t size) {
        size_t k = 0;

        for (; *s && k + 1 < size; s++) {
                unsigned char c = (unsigned char) *s;

                bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || (c == '.' && k > 0);

                buf[k++] = keep ? (char) c : '_';
        }
        buf[k] = 0;
}

/* The default export name, "LABEL-or-KEY-TIME.mtknvd.tar[.gz|.xz|.zst]" in the
 * current directory: the suffix says what it is (a file manager and the MIME
 * database recognise it), the time is when the data was read from the phone. */
static char *export_default_name(const BackupEntry *b, bool spflash, const char *compress) {
        const char *name = b->label && *b->label ? b->label :
                           b->device_label && *b->device_label ? b->device_label : b->device_key ?: "backup";
        const char *ext = !compress || strcmp(compress, "none") == 0 ? "" :
                          strcmp(compress, "gzip") == 0 ? ".gz" : strcmp(compress, "xz") == 0 ? ".xz" : ".zst";
        char part[128], stamp[32];
        time_t t = (time_t) (b->created / 1000000);
        struct tm tm;
        char *out;

        file_name_part(name, part, sizeof(part));
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        if (asprintf(&out, "%s-%s%s.tar%s", part, stamp, spflash ? ".spflash" : ".mtknvd", ext) < 0)
                return NULL;
        return out;
}

int verb_export_backup(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *default_name = NULL;
        BackupEntry *all = NULL, *b;
        const char *out;
        size_t n = 0;
        int fd, r;

        _cleanup_(message_unrefp) sd_bus_message *call = NULL;
        bool spflash = a->format && strcmp(a->format, "spflash") == 0;
        const char *compress = a->compress ?: "none";
        int scatter_fd = -1;

        if (argc != 2 && argc != 3) {
                fprintf(stderr, "export-backup needs a backup ID, and the FILE to write (default: a name from "
                        "its label or phone and time, in the current directory).\n");
                return EXIT_USAGE;
        }
        if (a->format && !spflash && strcmp(a->format, "mtknvd") != 0) {
                fprintf(stderr, "--format is mtknvd (the default) or spflash.\n");
                return EXIT_USAGE;
        }
        if (strcmp(compress, "none") != 0 && strcmp(compress, "gzip") != 0 && strcmp(compress, "xz") != 0 &&
            strcmp(compress, "zstd") != 0) {
                fprintf(stderr, "--compress is gzip, xz, zstd or none (the default), not \"%s\".\n", compress);
                return EXIT_USAGE;
        }
        if (spflash != !!a->scatter) {
                fprintf(stderr, spflash ? "--format spflash needs the phone's scatter file: --scatter FILE.\n"
                                        : "--scatter goes with --format spflash.\n");
                return EXIT_USAGE;
        }
        r = backup_list_find_one(bus, argv[1], &all, &n, &b);
        if (r < 0)
                return -r;
        if (argc == 3)
                out = argv[2];
        else {
                default_name = export_default_name(b, spflash, compress);
                if (!default_name) {
                        backup_entry_array_free(all, n);
                        return EXIT_FAIL;
                }
                out = default_name;
        }
        if (spflash) {
                scatter_fd = file_open_input(a->scatter);
                if (scatter_fd < 0) {
                        backup_entry_array_free(all, n);
                        return EXIT_FAIL;
                }
        }
        /* we open the file with our own rights; the daemon only gets the descriptor.  An existing
         * file is never replaced silently: O_EXCL, unless --force says so. */
        fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | (a->force ? O_TRUNC : O_EXCL), 0600);
        if (fd < 0) {
                if (errno == EEXIST)
                        fprintf(stderr, "%s already exists: not replaced. Name another FILE, or replace it with "
                                "--force.\n", out);
                else
                        fprintf(stderr, "Cannot create %s: %s\n", out, strerror(errno));
                backup_entry_array_free(all, n);
                if (scatter_fd >= 0)
                        close(scatter_fd);
                return EXIT_FAIL;
        }
        r = sd_bus_message_new_method_call(bus, &call, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                           "ExportBackup");
        if (r >= 0)
                r = sd_bus_message_append(call, "oh", b->path, fd);
        if (r >= 0 && spflash)
                r = sd_bus_message_append(call, "a{sv}", 3, "format", "s", "spflash", "scatter", "h", scatter_fd,
                                          "compression", "s", compress);
        else if (r >= 0)
                r = sd_bus_message_append(call, "a{sv}", 1, "compression", "s", compress);
        if (r >= 0)
                r = sd_bus_call(bus, call, 300ull * 1000000ull, &error, NULL);
        /* the daemon does not fsync a caller's file (a slow disk would hold it up): we do */
        if (r >= 0 && fsync(fd) < 0 && errno != EINVAL) {
                fprintf(stderr, "Cannot write %s: %s\n", out, strerror(errno));
                r = -errno;
                close(fd);
                if (scatter_fd >= 0)
                        close(scatter_fd);
                unlink(out);
                backup_entry_array_free(all, n);
                return EXIT_FAIL;
        }
        close(fd);
        if (scatter_fd >= 0)
                close(scatter_fd);
        if (r < 0) {
                unlink(out);
                backup_entry_array_free(all, n);
                return bus_report_error("Cannot export the backup", r, &error);
        }
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "id", b->id);
                json_string(&j, "file", out);
                json_string(&j, "compression", compress);
                json_end_object(&j);
                putchar('\n');
        } else if (spflash)
                printf("Exported %s to %s: unpack it (tar xf) and load its scatter file in SP Flash Tool; "
                       "exactly the backed-up partitions are marked for Download.\n", b->id, out);
        else
                printf("Exported %s to %s.\n", b->id, out);
        backup_entry_array_free(all, n);
        return EXIT_OK;
}

/* SP Flash Tool keeps MT6735_Android_scatter.txt (or MT6789_Android_scatter.xml) next to the
 * images: the one scatter file in dir. */
static char *find_scatter_near(const char *image) {
        _cleanup_free_ char *dir = strdup(image);
        char *slash, *found = NULL;
        DIR *d;
        struct dirent *de;
        unsigned n = 0;

        if (!dir)
                return NULL;
        slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        d = opendir(slash ? (*dir ? dir : "/") : ".");
        if (!d)
                return NULL;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);

                if (len > 12 && (strcasecmp(de->d_name + len - 12, "_scatter.txt") == 0 ||
                                 strcasecmp(de->d_name + len - 12, "_scatter.xml") == 0)) {
                        n++;
                        free(found);
                        if (asprintf(&found, "%s/%s", slash ? (*dir ? dir : "") : ".", de->d_name) < 0)
                                found = NULL;
                }
        }
        closedir(d);
        if (n != 1) {
                free(found);
                found = NULL;
        }
        return found;
}

/* "nvram.img" -> "nvram" */
static char *partition_from_file(const char *path) {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        const char *dot = strrchr(base, '.');

        return strndup(base, dot && dot != base ? (size_t) (dot - base) : strlen(base));
}

int verb_import(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_free_ char *scatter = NULL;
        const char *format, *path;
        char **before = NULL;
        size_t n_before = 0;
        bool existing = false;
        int fds[32], scatter_fd = -1, nfd = 0, r, ret = EXIT_FAIL;

        if (argc < 2 || argc - 1 > (int) ELEMENTSOF(fds)) {
                fprintf(stderr, "import needs the FILE(s) to import; see 'mtknvctl --help'.\n");
                return EXIT_USAGE;
        }
        if (a->spflash || a->scatter) {
                format = "spflash";
                scatter = a->scatter ? strdup(a->scatter) : find_scatter_near(argv[1]);
                if (!scatter) {
                        fprintf(stderr, "An SP Flash Tool readback needs the scatter file that locates it (the "
                                "phone's *_Android_scatter.txt or .xml); none or several are next to %s: name it with "
                                "--scatter FILE.\n", argv[1]);
                        return EXIT_USAGE;
                }
        } else if (a->partition)
                format = "raw";
        else
                format = "archive";
        if ((a->partition || !strcmp(format, "archive")) && argc != 2) {
                fprintf(stderr, "%s takes exactly one FILE.\n", a->partition ? "--partition" : "An archive import");
                return EXIT_USAGE;
        }

        /* what is stored before: an archive already stored is answered with its backup, not a new one */
        if (backup_list_paths(bus, &before, &n_before) < 0)
                before = NULL;
        r = sd_bus_message_new_method_call(bus, &call, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                           "ImportBackup");
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{sh}");
        for (int i = 1; r >= 0 && i < argc; i++) {
                _cleanup_free_ char *name = a->partition ? strdup(a->partition) :
                                            !strcmp(format, "archive") ? strdup("archive") : partition_from_file(argv[i]);

                fds[nfd] = file_open_input(argv[i]);
                if (fds[nfd] < 0 || !name)
                        goto finish;
                r = sd_bus_message_append(call, "{sh}", name, fds[nfd++]);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0 && scatter) {
                scatter_fd = file_open_input(scatter);
                if (scatter_fd < 0)
                        goto finish;
                r = sd_bus_message_append(call, "a{sv}", 2, "format", "s", format, "scatter", "h", scatter_fd);
        } else if (r >= 0)
                r = sd_bus_message_append(call, "a{sv}", 1, "format", "s", format);
        if (r >= 0)
                r = sd_bus_call(bus, call, 300ull * 1000000ull, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                ret = bus_report_error("Cannot import", r, &error);
                goto finish;
        }
        {
                _cleanup_free_ char *id = NULL;

                /* the id the other verbs take (KEY/BACKUP) */
                if (sd_bus_get_property_string(bus, MTKNV_BUS_NAME, path, MTKNV_BACKUP_IFACE, "Id", NULL, &id) < 0)
                        id = NULL;
                for (size_t i = 0; i < n_before && !existing; i++)
                        existing = strcmp(before[i], path) == 0;
                if (a->json) {
                        JsonWriter j = { .f = stdout };

                        json_begin_object(&j, NULL);
                        json_string(&j, "backup", path);
                        json_string(&j, "id", id ?: "");
                        json_string(&j, "format", format);
                        json_bool(&j, "already_stored", existing);
                        json_end_object(&j);
                        putchar('\n');
                } else if (existing)
                        printf("Already stored as backup %s (the same phone, time and images): nothing was "
                               "added.\n", id ?: path);
                else
                        printf("Imported as backup %s%s\n", id ?: path,
                               strcmp(format, "archive") ? ". It is not bound to any phone: restoring it needs "
                                                           "--allow-foreign and an administrator." : ".");
        }
        ret = EXIT_OK;
finish:
        for (size_t i = 0; i < n_before; i++)
                free(before[i]);
        free(before);
        for (int i = 0; i < nfd; i++)
                close(fds[i]);
        if (scatter_fd >= 0)
                close(scatter_fd);
        return ret;
}

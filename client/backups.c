/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backup verbs of mtknvctl: backup (with a progress bar), backups,
 * show-backup, export-backup, verify-backup, add-da, inspect.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "backups.h"
#include "macro.h"
#include "name-list.h"
#include "output.h"

typedef struct BackupPart {
        char *name, *sha256, *file;
        uint8_t region;
        uint64_t offset, size;
} BackupPart;

typedef struct BackupEntry {
        char *path, *id, *device_key, *source, *chip, *me_id, *emmc_cid, *table_source, *binding;
        uint64_t created, size;
        bool verified, bound;
        BackupPart *parts;
        size_t n_parts;
} BackupEntry;

static void backup_entry_done(BackupEntry *b) {
        for (size_t i = 0; i < b->n_parts; i++) {
                free(b->parts[i].name);
                free(b->parts[i].sha256);
                free(b->parts[i].file);
        }
        free(b->parts);
        free(b->path);
        free(b->id);
        free(b->device_key);
        free(b->source);
        free(b->chip);
        free(b->me_id);
        free(b->emmc_cid);
        free(b->table_source);
        free(b->binding);
}

static void backup_array_free(BackupEntry *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                backup_entry_done(&a[i]);
        free(a);
}

static int read_backup_props(sd_bus_message *m, BackupEntry *b) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *s;
                char **target = NULL;
                int v;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (strcmp(name, "Id") == 0)
                        target = &b->id;
                else if (strcmp(name, "DeviceKey") == 0)
                        target = &b->device_key;
                else if (strcmp(name, "Source") == 0)
                        target = &b->source;
                else if (strcmp(name, "Chip") == 0)
                        target = &b->chip;
                else if (strcmp(name, "MeId") == 0)
                        target = &b->me_id;
                else if (strcmp(name, "EmmcCid") == 0)
                        target = &b->emmc_cid;
                else if (strcmp(name, "TableSource") == 0)
                        target = &b->table_source;
                else if (strcmp(name, "Binding") == 0)
                        target = &b->binding;

                if (target) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0) {
                                free(*target);
                                *target = strdup(s);
                        }
                } else if (strcmp(name, "Created") == 0)
                        r = sd_bus_message_read(m, "v", "t", &b->created);
                else if (strcmp(name, "Size") == 0)
                        r = sd_bus_message_read(m, "v", "t", &b->size);
                else if (strcmp(name, "Verified") == 0) {
                        r = sd_bus_message_read(m, "v", "b", &v);
                        b->verified = v;
                } else if (strcmp(name, "Bound") == 0) {
                        r = sd_bus_message_read(m, "v", "b", &v);
                        b->bound = v;
                } else if (strcmp(name, "Partitions") == 0) {
                        r = sd_bus_message_enter_container(m, 'v', "a(syttss)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'a', "(syttss)");
                        while (r >= 0) {
                                const char *pn, *sha, *file;
                                uint8_t region;
                                uint64_t off, size;
                                BackupPart *np;

                                r = sd_bus_message_read(m, "(syttss)", &pn, &region, &off, &size, &sha, &file);
                                if (r <= 0)
                                        break;
                                np = realloc(b->parts, (b->n_parts + 1) * sizeof(BackupPart));
                                if (!np)
                                        return -ENOMEM;
                                b->parts = np;
                                b->parts[b->n_parts++] = (BackupPart) { strdup(pn), strdup(sha), strdup(file), region,
                                                                        off, size };
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int list_backups(sd_bus *bus, BackupEntry **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        BackupEntry *a = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        const char *iface;

                        r = sd_bus_message_read(reply, "s", &iface);
                        if (r >= 0 && strcmp(iface, MTKNV_BACKUP_IFACE) == 0) {
                                BackupEntry *na = realloc(a, (n + 1) * sizeof(BackupEntry));

                                if (!na) {
                                        r = -ENOMEM;
                                        break;
                                }
                                a = na;
                                a[n] = (BackupEntry) { .path = strdup(path) };
                                r = read_backup_props(reply, &a[n++]);
                        } else if (r >= 0)
                                r = sd_bus_message_skip(reply, "a{sv}");
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                backup_array_free(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

/* ID as typed: the object path, "key/id", the backup id, or a unique prefix of either. */
static int find_backup(BackupEntry *a, size_t n, const char *arg, BackupEntry **ret) {
        BackupEntry *found = NULL;
        size_t len = strlen(arg);

        for (size_t i = 0; i < n; i++) {
                const char *slash = a[i].id ? strchr(a[i].id, '/') : NULL;

                if (strcmp(a[i].path, arg) == 0 || (a[i].id && strcmp(a[i].id, arg) == 0) ||
                    (slash && strcmp(slash + 1, arg) == 0)) {
                        *ret = &a[i];
                        return 0;
                }
        }
        for (size_t i = 0; i < n; i++) {
                const char *slash = a[i].id ? strchr(a[i].id, '/') : NULL;

                if (len > 0 && a[i].id && (strncmp(a[i].id, arg, len) == 0 || (slash && strncmp(slash + 1, arg, len) == 0))) {
                        if (found)
                                return -ENOTUNIQ;
                        found = &a[i];
                }
        }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        localtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

void backups_format_time(uint64_t usec, char *buf, size_t size) {
        format_time(usec, buf, size);
}

int backups_latest_verified(sd_bus *bus, const char *device_key, char **ret_id, uint64_t *ret_created) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        BackupEntry *all = NULL, *best = NULL;
        size_t n = 0;
        int r;

        r = list_backups(bus, &all, &n, &error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (all[i].verified && all[i].device_key && strcmp(all[i].device_key, device_key) == 0 &&
                    (!best || all[i].created > best->created))
                        best = &all[i];
        *ret_id = best ? strdup(best->id) : NULL;
        *ret_created = best ? best->created : 0;
        r = best && !*ret_id ? -ENOMEM : 0;
        backup_array_free(all, n);
        return r;
}

static void json_backup(JsonWriter *j, const BackupEntry *b) {
        json_begin_object(j, NULL);
        json_string(j, "path", b->path);
        json_string(j, "id", b->id);
        json_string(j, "device_key", b->device_key);
        json_string(j, "chip", b->chip);
        json_string(j, "source", b->source);
        json_uint(j, "created", b->created / 1000000);
        json_string(j, "table_source", b->table_source);
        json_string(j, "me_id", b->me_id);
        json_string(j, "emmc_cid", b->emmc_cid);
        json_bool(j, "verified", b->verified);
        json_bool(j, "bound", b->bound);
        json_string(j, "binding", b->binding);
        json_uint(j, "size", b->size);
        json_begin_array(j, "partitions");
        for (size_t i = 0; i < b->n_parts; i++) {
                json_begin_object(j, NULL);
                json_string(j, "name", b->parts[i].name);
                json_string(j, "file", b->parts[i].file);
                json_uint(j, "region", b->parts[i].region);
                json_uint(j, "offset", b->parts[i].offset);
                json_uint(j, "size", b->parts[i].size);
                json_string(j, "sha256", b->parts[i].sha256);
                json_end_object(j);
        }
        json_end_array(j);
        json_end_object(j);
}

static int load_one(sd_bus *bus, const char *arg, BackupEntry **ret_all, size_t *ret_n, BackupEntry **ret) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = list_backups(bus, ret_all, ret_n, &error);
        if (r < 0)
                return -bus_report_error("Cannot list backups", r, &error);
        r = find_backup(*ret_all, *ret_n, arg, ret);
        if (r < 0) {
                fprintf(stderr, r == -ENOTUNIQ ? "\"%s\" matches more than one backup; give more of its id.\n"
                                               : "No backup \"%s\"; 'mtknvctl backups' lists them.\n", arg);
                backup_array_free(*ret_all, *ret_n);
                return -EXIT_NO_DEVICE;
        }
        return 0;
}

int verb_backups(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        BackupEntry *all = NULL;
        size_t n = 0, shown = 0;
        JsonWriter j = { .f = stdout };
        int r;

        r = list_backups(bus, &all, &n, &error);
        if (r < 0)
                return bus_report_error("Cannot list backups", r, &error);
        if (a->json)
                json_begin_array(&j, NULL);
        else
                printf("%-48s  %-7s  %-19s  %-11s  %5s  %9s  %s\n", "BACKUP", "CHIP", "CREATED", "SOURCE", "PARTS",
                       "SIZE", "VERIFIED");
        for (size_t i = 0; i < n; i++) {
                char when[32];

                if (argc > 1 && (!all[i].device_key || strncmp(all[i].device_key, argv[1], strlen(argv[1])) != 0))
                        continue;
                shown++;
                if (a->json) {
                        json_backup(&j, &all[i]);
                        continue;
                }
                format_time(all[i].created, when, sizeof(when));
                printf("%-48s  %-7s  %-19s  %-11s  %5zu  %5" PRIu64 " MiB  %s\n", all[i].id ?: "-", all[i].chip ?: "-",
                       when, all[i].source ?: "-", all[i].n_parts, all[i].size >> 20, all[i].verified ? "yes" : "no");
        }
        if (a->json) {
                json_end_array(&j);
                putchar('\n');
        } else if (shown == 0)
                printf("(no backups yet; plug a powered-off phone in, or run 'mtknvctl backup')\n");
        backup_array_free(all, n);
        return EXIT_OK;
}

int verb_show_backup(sd_bus *bus, const Args *a, int argc, char **argv) {
        BackupEntry *all = NULL, *b;
        size_t n = 0;
        char when[32];
        int r;

        if (argc != 2) {
                fprintf(stderr, "show-backup needs exactly one backup ID; see 'mtknvctl backups'.\n");
                return EXIT_USAGE;
        }
        r = load_one(bus, argv[1], &all, &n, &b);
        if (r < 0)
                return -r;
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_backup(&j, b);
                putchar('\n');
        } else {
                char buf[64];
                bool fingerprints = is_fingerprint(b->me_id) || is_fingerprint(b->emmc_cid) ||
                                    (b->n_parts > 0 && is_fingerprint(b->parts[0].sha256));

                format_time(b->created, when, sizeof(when));
                printf("%s (%s)\n", b->id, b->path);
                printf("       Phone: %s, key %s\n", b->chip ?: "-", b->device_key ?: "-");
                printf("       ME ID: %s\n", b->me_id && *b->me_id ? identifier_display(b->me_id, buf, sizeof(buf))
                                                                  : "(not reported)");
                printf("    eMMC CID: %s\n", b->emmc_cid && *b->emmc_cid
                                                     ? identifier_display(b->emmc_cid, buf, sizeof(buf)) : "-");
                printf("       Bound: %s\n", b->bound ? "yes, signed by this host's key" :
                       b->binding && strcmp(b->binding, "other-host") == 0 ? "no: signed by another host's key" :
                       b->binding && strcmp(b->binding, "edited") == 0 ? "no: its manifest was changed after signing" :
                       b->binding && strcmp(b->binding, "legacy") == 0 ? "no: imported by an older mtknvd" :
                       "no (restoring it needs --allow-foreign)");
                printf("     Created: %s (%s)\n", when, b->source ?: "-");
                printf("  Partitions: from the phone's %s, %s\n", b->table_source ?: "-",
                       b->verified ? "each read twice and compared" : "NOT verified");
                for (size_t i = 0; i < b->n_parts; i++)
                        printf("              %-10s %-14s at 0x%09" PRIx64 ", %6" PRIu64 " KiB, sha256 %s\n",
                               b->parts[i].name, b->parts[i].file, b->parts[i].offset, b->parts[i].size >> 10,
                               identifier_display(b->parts[i].sha256, buf, sizeof(buf)));
                if (fingerprints)
                        printf("(Identifiers and hashes are shown as fingerprints: only root sees them in full.)\n");
        }
        backup_array_free(all, n);
        return EXIT_OK;
}

int verb_verify_backup(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        BackupEntry *all = NULL, *b;
        const char *msg;
        size_t n = 0;
        int ok, r;

        if (argc != 2) {
                fprintf(stderr, "verify-backup needs exactly one backup ID.\n");
                return EXIT_USAGE;
        }
        r = load_one(bus, argv[1], &all, &n, &b);
        if (r < 0)
                return -r;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, b->path, MTKNV_BACKUP_IFACE, "Verify", &error, &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_read(reply, "bs", &ok, &msg);
        if (r < 0) {
                backup_array_free(all, n);
                return bus_report_error("Cannot verify the backup", r, &error);
        }
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "id", b->id);
                json_bool(&j, "ok", ok);
                json_string(&j, "message", msg);
                json_end_object(&j);
                putchar('\n');
        } else
                printf("%s: %s\n", b->id, msg);
        backup_array_free(all, n);
        return ok ? EXIT_OK : EXIT_FAIL;
}

static int open_input(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                fprintf(stderr, "Cannot open %s: %s\n", path, strerror(errno));
        return fd;
}

int verb_export_backup(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        BackupEntry *all = NULL, *b;
        size_t n = 0;
        int fd, r;

        _cleanup_(message_unrefp) sd_bus_message *call = NULL;
        bool spflash = a->format && strcmp(a->format, "spflash") == 0;
        int scatter_fd = -1;

        if (argc != 3) {
                fprintf(stderr, "export-backup needs a backup ID and a FILE to write.\n");
                return EXIT_USAGE;
        }
        if (a->format && !spflash && strcmp(a->format, "mtknvd") != 0) {
                fprintf(stderr, "--format is mtknvd (the default) or spflash.\n");
                return EXIT_USAGE;
        }
        if (spflash != !!a->scatter) {
                fprintf(stderr, spflash ? "--format spflash needs the phone's scatter file: --scatter FILE.\n"
                                        : "--scatter goes with --format spflash.\n");
                return EXIT_USAGE;
        }
        r = load_one(bus, argv[1], &all, &n, &b);
        if (r < 0)
                return -r;
        if (spflash) {
                scatter_fd = open_input(a->scatter);
                if (scatter_fd < 0) {
                        backup_array_free(all, n);
                        return EXIT_FAIL;
                }
        }
        /* we open the file with our own rights; the daemon only gets the descriptor */
        fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                fprintf(stderr, "Cannot create %s: %s\n", argv[2], strerror(errno));
                backup_array_free(all, n);
                if (scatter_fd >= 0)
                        close(scatter_fd);
                return EXIT_FAIL;
        }
        r = sd_bus_message_new_method_call(bus, &call, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                           "ExportBackup");
        if (r >= 0)
                r = sd_bus_message_append(call, "oh", b->path, fd);
        if (r >= 0 && spflash)
                r = sd_bus_message_append(call, "a{sv}", 2, "format", "s", "spflash", "scatter", "h", scatter_fd);
        else if (r >= 0)
                r = sd_bus_message_append(call, "a{sv}", 0);
        if (r >= 0)
                r = sd_bus_call(bus, call, 300ull * 1000000ull, &error, NULL);
        /* the daemon does not fsync a caller's file (a slow disk would hold it up): we do */
        if (r >= 0 && fsync(fd) < 0 && errno != EINVAL) {
                fprintf(stderr, "Cannot write %s: %s\n", argv[2], strerror(errno));
                r = -errno;
                close(fd);
                if (scatter_fd >= 0)
                        close(scatter_fd);
                unlink(argv[2]);
                backup_array_free(all, n);
                return EXIT_FAIL;
        }
        close(fd);
        if (scatter_fd >= 0)
                close(scatter_fd);
        if (r < 0) {
                unlink(argv[2]);
                backup_array_free(all, n);
                return bus_report_error("Cannot export the backup", r, &error);
        }
        if (!a->json && spflash)
                printf("Exported %s to %s: unpack it (tar xf) and load its scatter file in SP Flash Tool; "
                       "exactly the backed-up partitions are marked for Download.\n", b->id, argv[2]);
        else if (!a->json)
                printf("Exported %s to %s.\n", b->id, argv[2]);
        backup_array_free(all, n);
        return EXIT_OK;
}


/* SP Flash Tool keeps MT6735_Android_scatter.txt next to the images: the one scatter file in dir. */
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

                if (len > 12 && strcasecmp(de->d_name + len - 12, "_scatter.txt") == 0) {
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
                                "phone's *_Android_scatter.txt); none or several are next to %s: name it with "
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

        r = sd_bus_message_new_method_call(bus, &call, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                           "ImportBackup");
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{sh}");
        for (int i = 1; r >= 0 && i < argc; i++) {
                _cleanup_free_ char *name = a->partition ? strdup(a->partition) :
                                            !strcmp(format, "archive") ? strdup("archive") : partition_from_file(argv[i]);

                fds[nfd] = open_input(argv[i]);
                if (fds[nfd] < 0 || !name)
                        goto finish;
                r = sd_bus_message_append(call, "{sh}", name, fds[nfd++]);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0 && scatter) {
                scatter_fd = open_input(scatter);
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
                if (a->json) {
                        JsonWriter j = { .f = stdout };

                        json_begin_object(&j, NULL);
                        json_string(&j, "backup", path);
                        json_string(&j, "id", id ?: "");
                        json_string(&j, "format", format);
                        json_end_object(&j);
                        putchar('\n');
                } else
                        printf("Imported as backup %s%s\n", id ?: path,
                               strcmp(format, "archive") ? ". It is not bound to any phone: restoring it needs "
                                                           "--allow-foreign and an administrator." : ".");
        }
        ret = EXIT_OK;
finish:
        for (int i = 0; i < nfd; i++)
                close(fds[i]);
        if (scatter_fd >= 0)
                close(scatter_fd);
        return ret;
}

int verb_add_da(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        int fd, r;

        if (argc != 2) {
                fprintf(stderr, "add-da needs the Download Agent FILE (e.g. MTK_AllInOne_DA.bin).\n");
                return EXIT_USAGE;
        }
        fd = open_input(argv[1]);
        if (fd < 0)
                return EXIT_FAIL;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "AddDownloadAgent",
                               &error, &reply, "h", fd);
        close(fd);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &name);
        if (r < 0)
                return bus_report_error("Cannot add the Download Agent", r, &error);
        printf("Added %s as %s.\n", argv[1], name);
        return EXIT_OK;
}

/* The daemon answers JSON; people get it indented. */
static void print_indented_json(const char *s) {
        int depth = 0;
        bool in_str = false;

        for (const char *p = s; *p; p++) {
                if (in_str) {
                        putchar(*p);
                        if (*p == '\\' && p[1])
                                putchar(*++p);
                        else if (*p == '"')
                                in_str = false;
                        continue;
                }
                switch (*p) {
                case '"':
                        in_str = true;
                        putchar(*p);
                        break;
                case '{':
                case '[':
                        printf("%c\n%*s", *p, 2 * ++depth, "");
                        break;
                case '}':
                case ']':
                        printf("\n%*s%c", 2 * (depth > 0 ? --depth : 0), "", *p);
                        break;
                case ',':
                        printf(",\n%*s", 2 * depth, "");
                        break;
                case ':':
                        printf(": ");
                        break;
                default:
                        putchar(*p);
                }
        }
        putchar('\n');
}

int verb_inspect(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        const char *json;
        int fd, r;

        if (argc != 2) {
                fprintf(stderr, "inspect needs a FILE: a Download Agent, a scatter file or a backup archive.\n");
                return EXIT_USAGE;
        }
        fd = open_input(argv[1]);
        if (fd < 0)
                return EXIT_FAIL;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "Inspect", &error, &reply,
                               "h", fd);
        close(fd);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &json);
        if (r < 0)
                return bus_report_error(argv[1], r, &error);
        if (a->json)
                printf("%s\n", json);
        else
                print_indented_json(json);
        return EXIT_OK;
}

/* ------------------------------------------------------------ backup with progress */

typedef struct Progress {
        sd_bus *bus;
        sd_event *event;
        const Args *args;
        char *job;
        bool done, ok, tty, cancel_sent;
        char *message;
        double progress;
        uint64_t bytes, total, rate;
        char *step;
        int last_percent;
} Progress;

static void progress_draw(Progress *p) {
        int percent = (int) (p->progress * 100.0 + 0.5);

        if (p->args->json)
                return;
        if (p->tty) {
                char bar[31];
                int fill = percent * 30 / 100;

                for (int i = 0; i < 30; i++)
                        bar[i] = i < fill ? '#' : '.';
                bar[30] = 0;
                fprintf(stderr, "\r[%s] %3d%%  %5.1f/%.1f MiB  %5.1f MiB/s  %-40.40s", bar, percent,
                        (double) p->bytes / 1048576.0, (double) p->total / 1048576.0, (double) p->rate / 1048576.0,
                        p->step ?: "");
        } else if (percent / 10 != p->last_percent / 10)
                fprintf(stderr, "%3d%% %s\n", percent, p->step ?: "");
        p->last_percent = percent;
}

static int on_job_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Progress *p = userdata;
        const char *iface;
        int r;

        if (!p->job || strcmp(sd_bus_message_get_path(m), p->job) != 0)
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *s;

                if (sd_bus_message_read(m, "s", &name) < 0)
                        break;
                if (strcmp(name, "Progress") == 0)
                        r = sd_bus_message_read(m, "v", "d", &p->progress);
                else if (strcmp(name, "Bytes") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->bytes);
                else if (strcmp(name, "TotalBytes") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->total);
                else if (strcmp(name, "Rate") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->rate);
                else if (strcmp(name, "Step") == 0) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0) {
                                free(p->step);
                                p->step = strdup(s);
                                if (!p->tty && !p->args->json)
                                        fprintf(stderr, "     %s\n", s);
                        }
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        progress_draw(p);
        return 0;
}

static int on_job_completed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Progress *p = userdata;
        const char *msg;
        int ok;

        if (!p->job || strcmp(sd_bus_message_get_path(m), p->job) != 0)
                return 0;
        if (sd_bus_message_read(m, "bs", &ok, &msg) < 0)
                return 0;
        p->done = true;
        p->ok = ok;
        p->message = strdup(msg);
        return sd_event_exit(p->event, 0);
}

/* The daemon exited (or was killed) under a running job: no Completed will come. */
static int on_daemon_gone(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Progress *p = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || *new_owner || !p->job)
                return 0;
        p->done = true;
        p->ok = false;
        p->message = strdup("mtknvd went away before the job finished. If it was a restore, plug the phone in again "
                            "and see 'mtknvctl show': an interrupted restore is resumed with 'mtknvctl restore "
                            "--resume'.");
        return sd_event_exit(p->event, 0);
}

static int on_interrupt(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Progress *p = userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!p->job || p->cancel_sent)
                return sd_event_exit(p->event, 0);
        p->cancel_sent = true;
        fprintf(stderr, "\nCancelling…\n");
        r = sd_bus_call_method(p->bus, MTKNV_BUS_NAME, p->job, MTKNV_JOB_IFACE, "Cancel", &error, NULL, "a{sv}", 0);
        if (r < 0)
                fprintf(stderr, "Cannot cancel: %s\n", error.message ?: strerror(-r));
        return 0;
}

/* The phone a backup or restore is for: the one named, else the one phone
 * plugged in, else "/": the daemon waits for the next phone plugged in (a
 * preloader listens for a host only briefly, so the request comes first). */
static int resolve_single_device(sd_bus *bus, int argc, char **argv, char **ret_path) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        DeviceInfo *devs = NULL, *d = NULL;
        size_t n = 0, present = 0;
        int r;

        r = bus_list_devices(bus, &devs, &n, &error);
        if (r < 0)
                return -bus_report_error("Cannot list phones", r, &error);
        if (argc >= 2)
                r = bus_find_device(devs, n, argv[1], &d);
        else
                for (size_t i = 0; i < n; i++)
                        if (devs[i].present) {
                                present++;
                                d = &devs[i];
                        }
        if (argc >= 2 && (r < 0 || !d)) {
                fprintf(stderr, r == -ENOTUNIQ ? "\"%s\" matches more than one phone.\n"
                                               : "No phone \"%s\"; see 'mtknvctl list'.\n", argv[1]);
                device_info_array_free(devs, n);
                return -EXIT_NO_DEVICE;
        }
        if (argc < 2 && present > 1) {
                fprintf(stderr, "Several phones are connected; name one (see 'mtknvctl list').\n");
                device_info_array_free(devs, n);
                return -EXIT_NO_DEVICE;
        }
        *ret_path = strdup(argc < 2 && present == 0 ? "/" : d->path);
        device_info_array_free(devs, n);
        return *ret_path ? 0 : -EXIT_FAIL;
}

static const char *device_words(const char *path) {
        return strcmp(path, "/") == 0 ? "the next phone plugged in" : strrchr(path, '/') + 1;
}

static void say_waiting(const Args *a, const char *device) {
        if (a->json)
                return;
        if (strcmp(device, "/") == 0)
                fprintf(stderr, "No phone is connected. Power the phone off and plug it in now; mtknvd catches "
                        "it while its preloader listens (Ctrl-C cancels).\n");
}

/* Follow job to its end: progress on stderr, Ctrl-C cancels, result on stdout. */
static int follow_job(sd_bus *bus, sd_event *event, Progress *p) {
        const Args *a = p->args;
        sigset_t mask;
        int r, ret;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sd_event_add_signal(event, NULL, SIGINT, on_interrupt, p);
        sd_event_add_signal(event, NULL, SIGTERM, on_interrupt, p);

        r = sd_event_loop(event);
        if (p->tty && !a->json)
                fputc('\n', stderr);
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "job", p->job);
                json_bool(&j, "success", p->ok);
                json_string(&j, "message", p->message ?: "");
                json_end_object(&j);
                putchar('\n');
        } else
                printf("%s\n", p->message ?: "The daemon went away before the job finished.");
        ret = p->done && p->ok ? EXIT_OK : EXIT_FAIL;
        free(p->job);
        free(p->step);
        free(p->message);
        return r < 0 ? EXIT_FAIL : ret;
}

static int subscribe_jobs(sd_bus *bus, sd_event *event, Progress *p) {
        int r;

        r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus."
                                     "Properties',member='PropertiesChanged',path_namespace='" MTKNV_JOB_PREFIX "'",
                                     on_job_props, p);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='" MTKNV_JOB_IFACE
                                     "',member='Completed'",
                                     on_job_completed, p);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                     "member='NameOwnerChanged',arg0='" MTKNV_BUS_NAME "'",
                                     on_daemon_gone, p);
        return r;
}

/* The phone's InterruptedRestore: the backup to finish (or the snapshot to roll back to). */
static int interrupted_restore(sd_bus *bus, const char *device, bool rollback, char **ret_id) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        const char *backup, *snapshot, *phase;
        int r;

        r = sd_bus_get_property(bus, MTKNV_BUS_NAME, device, MTKNV_DEVICE_IFACE, "InterruptedRestore", &error, &reply,
                                "(sss)");
        if (r >= 0)
                r = sd_bus_message_read(reply, "(sss)", &backup, &snapshot, &phase);
        if (r < 0)
                return bus_report_error("Cannot read the phone's restore journal", r, &error);
        if (!*backup) {
                fprintf(stderr, "The phone %s has no interrupted restore: there is nothing to resume.\n",
                        strrchr(device, '/') + 1);
                return EXIT_FAIL;
        }
        *ret_id = strdup(rollback ? snapshot : backup);
        return *ret_id ? 0 : EXIT_FAIL;
}

static int restore_call(sd_bus *bus, const char *device, const char *backup, const Args *a, sd_bus_error *error,
                        sd_bus_message **reply) {
        _cleanup_(message_unrefp) sd_bus_message *call = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &call, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                           "Restore");
        if (r >= 0)
                r = sd_bus_message_append(call, "oo", device, backup);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{sv}");
        if (r >= 0 && a->dry_run)
                r = sd_bus_message_append(call, "{sv}", "dry-run", "b", 1);
        if (r >= 0 && a->allow_foreign)
                r = sd_bus_message_append(call, "{sv}", "allow-foreign", "b", 1);
        if (r >= 0 && a->resume)
                r = sd_bus_message_append(call, "{sv}", "resume", "b", 1);
        if (r >= 0 && a->rollback && strcmp(backup, "/") == 0)
                r = sd_bus_message_append(call, "{sv}", "rollback", "b", 1);
        if (r >= 0 && a->partitions) {
                r = sd_bus_message_open_container(call, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(call, "s", "partitions");
                if (r >= 0)
                        r = sd_bus_message_open_container(call, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_open_container(call, 'a', "s");
                if (r >= 0) {
                        _cleanup_(name_list_freep) char **names = NULL;

                        /* an empty item is sent as it is: the daemon names it */
                        r = name_list_split(a->partitions, ",", 0, &names);
                        for (char **name = names; r >= 0 && *name; name++)
                                r = sd_bus_message_append(call, "s", *name);
                }
                for (int i = 0; r >= 0 && i < 3; i++)
                        r = sd_bus_message_close_container(call);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r < 0)
                return r;
        /* polkit may be asking for a password meanwhile */
        return sd_bus_call(bus, call, 300ull * 1000000ull, error, reply);
}

/* The one phone the daemon knows with an interrupted restore, or NULL. */
static char *device_with_journal(sd_bus *bus) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        DeviceInfo *devs = NULL;
        char *found = NULL;
        size_t n = 0, k = 0;

        if (bus_list_devices(bus, &devs, &n, &error) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (devs[i].interrupted_backup && *devs[i].interrupted_backup && k++ == 0)
                        found = strdup(devs[i].path);
        device_info_array_free(devs, n);
        if (k > 1) {
                free(found);
                return NULL;
        }
        return found;
}

/* restore --resume with the phone not there: the daemon finds the journal
 * once the phone is plugged in and identified. */
static int restore_resume_next_phone(sd_bus *bus, const Args *a) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(event_unrefp) sd_event *event = NULL;
        Progress p = { .bus = bus, .args = a, .tty = isatty(STDERR_FILENO), .last_percent = -10 };
        const char *job;
        int r;

        r = sd_event_default(&event);
        if (r >= 0)
                r = subscribe_jobs(bus, event, &p);
        if (r < 0)
                return bus_report_error("Cannot set up", r, NULL);
        p.event = event;
        if (!a->json)
                fprintf(stderr, "%s the interrupted restore of the next phone plugged in: power it off and plug "
                        "it in now (Ctrl-C cancels).\n", a->rollback ? "Rolling back" : "Finishing");
        r = restore_call(bus, "/", "/", a, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return bus_report_error("Cannot restore", r, &error);
        p.job = strdup(job);
        return follow_job(bus, event, &p);
}

int verb_restore(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *device = NULL, *resume_id = NULL;
        Progress p = { .bus = bus, .args = a, .tty = isatty(STDERR_FILENO), .last_percent = -10 };
        BackupEntry *all = NULL, *b;
        char *dev_argv[2];
        const char *job;
        size_t n = 0;
        int r;

        if (a->resume ? argc > 1 : argc != 2) {
                fprintf(stderr, a->resume ? "restore --resume takes no backup ID: the phone's restore journal names "
                                            "it.\n"
                                          : "restore needs exactly one backup ID; see 'mtknvctl backups'.\n");
                return EXIT_USAGE;
        }
        if (a->rollback && !a->resume) {
                fprintf(stderr, "--rollback goes with --resume.\n");
                return EXIT_USAGE;
        }
        dev_argv[0] = argv[0];
        dev_argv[1] = (char *) a->device;
        if (a->resume && !a->device)
                /* the phone whose journal the daemon knows, plugged in or not */
                device = device_with_journal(bus);
        if (!device) {
                r = resolve_single_device(bus, a->device ? 2 : 1, dev_argv, &device);
                if (r < 0)
                        return -r;
        }
        if (a->resume && strcmp(device, "/") != 0) {
                r = interrupted_restore(bus, device, a->rollback, &resume_id);
                if (r != 0)
                        return r;
        } else if (a->resume)
                /* the phone is not there: its journal, read when it is, names the images */
                return restore_resume_next_phone(bus, a);
        r = load_one(bus, resume_id ?: argv[1], &all, &n, &b);
        if (r < 0)
                return -r;

        if (a->partitions && !a->resume) {
                bool nvram = name_list_joined_contains(a->partitions, "nvram"),
                     nvdata = name_list_joined_contains(a->partitions, "nvdata");

                if (nvram != nvdata)
                        fprintf(stderr, "Warning: restoring %s without %s. They belong together: nvdata holds the "
                                "calibration that nvram's files refer to.\n", nvram ? "nvram" : "nvdata",
                                nvram ? "nvdata" : "nvram");
        }
        if (!b->bound && !a->resume)
                fprintf(stderr, "Warning: backup %s is not bound to any phone (%s). Nothing proves it is "
                        "this phone's: writing another phone's nvram clones its IMEI.%s\n", b->id,
                        (b->me_id && *b->me_id) || (b->emmc_cid && *b->emmc_cid)
                                ? "its binding was not signed by this host's key" : "an import",
                        a->allow_foreign ? "" : " Restoring it needs --allow-foreign.");
        if (!a->yes && !a->dry_run && !a->json && isatty(STDIN_FILENO)) {
                char answer[16] = "";

                fprintf(stderr, "This %s backup %s (%s, %s) to %s%s:\n",
                        a->rollback ? "rolls back an interrupted restore, writing the pre-restore" :
                        a->resume ? "finishes an interrupted restore of" : "writes", b->id, b->chip ?: "-",
                        b->source ?: "-", strcmp(device, "/") == 0 ? "" : "the phone ", device_words(device));
                for (size_t i = 0; i < b->n_parts; i++)
                        if (!a->partitions || a->resume || name_list_joined_contains(a->partitions, b->parts[i].name))
                                fprintf(stderr, "  %-10s %6" PRIu64 " KiB at 0x%09" PRIx64 "\n", b->parts[i].name,
                                        b->parts[i].size >> 10, b->parts[i].offset);
                fprintf(stderr, a->resume ? "Every partition is read back and compared.\n"
                                          : "The phone's current contents are saved first and restored if anything "
                                            "fails.\n");
                fprintf(stderr, "Continue? [y/N] ");
                if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
                        fprintf(stderr, "Nothing was done.\n");
                        backup_array_free(all, n);
                        return EXIT_FAIL;
                }
        }

        r = sd_event_default(&event);
        if (r >= 0)
                r = subscribe_jobs(bus, event, &p);
        if (r < 0) {
                backup_array_free(all, n);
                return bus_report_error("Cannot set up", r, NULL);
        }
        p.event = event;
        say_waiting(a, device);
        r = restore_call(bus, device, b->path, a, &error, &reply);
        backup_array_free(all, n);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return bus_report_error("Cannot restore", r, &error);
        p.job = strdup(job);
        return follow_job(bus, event, &p);
}

int verb_backup(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *device = NULL;
        Progress p = { .bus = bus, .args = a, .tty = isatty(STDERR_FILENO), .last_percent = -10 };
        const char *job;
        int scatter_fd = -1, r;

        r = resolve_single_device(bus, argc, argv, &device);
        if (r < 0)
                return -r;
        if (a->scatter) {
                scatter_fd = open_input(a->scatter);
                if (scatter_fd < 0)
                        return EXIT_FAIL;
        }

        r = sd_event_default(&event);
        p.event = event;
        /* subscribe before the job exists, so no signal can be missed */
        if (r >= 0 && a->wait)
                r = subscribe_jobs(bus, event, &p);
        if (r < 0) {
                if (scatter_fd >= 0)
                        close(scatter_fd);
                return bus_report_error("Cannot set up", r, NULL);
        }

        /* an automatic backup may be running already: follow it instead */
        {
                _cleanup_(message_unrefp) sd_bus_message *prop = NULL;
                const char *running = NULL;

                if (a->wait && !a->scatter && strcmp(device, "/") != 0 &&
                    sd_bus_get_property(bus, MTKNV_BUS_NAME, device, MTKNV_DEVICE_IFACE, "Job", NULL, &prop, "o") >= 0 &&
                    sd_bus_message_read(prop, "o", &running) >= 0 && strcmp(running, "/") != 0) {
                        if (!a->json)
                                fprintf(stderr, "A backup of this phone is already running; following it.\n");
                        p.job = strdup(running);
                        if (scatter_fd >= 0)
                                close(scatter_fd);
                        goto follow;
                }
        }

        if (a->wait)
                say_waiting(a, device);
        r = sd_bus_message_new_method_call(bus, &call, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE,
                                           "Backup");
        if (r >= 0)
                r = sd_bus_message_append(call, "o", device);
        if (r >= 0 && scatter_fd >= 0)
                r = sd_bus_message_append(call, "a{sv}", 1, "scatter", "h", scatter_fd);
        else if (r >= 0)
                r = sd_bus_message_append(call, "a{sv}", 0);
        if (r >= 0)
                r = sd_bus_call(bus, call, 0, &error, &reply);
        if (scatter_fd >= 0)
                close(scatter_fd);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return bus_report_error("Cannot start the backup", r, &error);
        p.job = strdup(job);

        if (!a->wait) {
                if (a->json)
                        printf("{\"job\":\"%s\"}\n", job);
                else
                        printf("Backup started as job %s; follow it with 'mtknvctl backup --wait' next time.\n", job);
                free(p.job);
                return EXIT_OK;
        }

follow:
        return follow_job(bus, event, &p);
}

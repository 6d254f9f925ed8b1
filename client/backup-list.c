/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backups the daemon keeps, as mtknvctl lists, shows and verifies them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup-list.h"
#include "macro.h"
#include "output.h"

static void backup_entry_done(BackupEntry *b) {
        for (size_t i = 0; i < b->n_parts; i++) {
                free(b->parts[i].name);
                free(b->parts[i].sha256);
                free(b->parts[i].file);
                free(b->parts[i].region);
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
        free(b->label);
        free(b->device_label);
}

/* Why a backup is not bound, in the daemon's words (backup_binding_explain()). */
const char *backup_entry_unbound_reason(const BackupEntry *b) {
        bool names_phone = (b->me_id && *b->me_id) || (b->emmc_cid && *b->emmc_cid);

        if (!names_phone)
                return "it names no phone: an import of readbacks or raw images";
        if (b->binding && strcmp(b->binding, "other-host") == 0)
                return "its binding was signed by another host's key";
        if (b->binding && strcmp(b->binding, "edited") == 0)
                return "its manifest was changed after this host signed it";
        if (b->binding && strcmp(b->binding, "legacy") == 0)
                return "it was imported before mtknvd signed bindings, so nothing vouches for its identity";
        return "its manifest carries no binding signature";
}

void backup_entry_array_free(BackupEntry *a, size_t n) {
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
                else if (strcmp(name, "Label") == 0)
                        target = &b->label;
                else if (strcmp(name, "DeviceLabel") == 0)
                        target = &b->device_label;

                if (target) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0) {
                                free(*target);
                                *target = strdup(s);
                        }
                } else if (strcmp(name, "Created") == 0)
                        r = sd_bus_message_read(m, "v", "t", &b->created);
                else if (strcmp(name, "Imported") == 0)
                        r = sd_bus_message_read(m, "v", "t", &b->imported);
                else if (strcmp(name, "Size") == 0)
                        r = sd_bus_message_read(m, "v", "t", &b->size);
                else if (strcmp(name, "Verified") == 0) {
                        r = sd_bus_message_read(m, "v", "b", &v);
                        b->verified = v;
                } else if (strcmp(name, "Bound") == 0) {
                        r = sd_bus_message_read(m, "v", "b", &v);
                        b->bound = v;
                } else if (strcmp(name, "Partitions") == 0) {
                        r = sd_bus_message_enter_container(m, 'v', "a(ssttss)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'a', "(ssttss)");
                        while (r >= 0) {
                                const char *pn, *region, *sha, *file;
                                uint64_t off, size;
                                BackupPart *np;

                                r = sd_bus_message_read(m, "(ssttss)", &pn, &region, &off, &size, &sha, &file);
                                if (r <= 0)
                                        break;
                                np = realloc(b->parts, (b->n_parts + 1) * sizeof(BackupPart));
                                if (!np)
                                        return -ENOMEM;
                                b->parts = np;
                                b->parts[b->n_parts++] = (BackupPart) { strdup(pn), strdup(sha), strdup(file),
                                                                        strdup(region), off, size };
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
                backup_entry_array_free(a, n);
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
        backup_entry_array_free(all, n);
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
        json_uint(j, "imported", b->imported / 1000000);
        json_string(j, "label", b->label ?: "");
        json_string(j, "device_label", b->device_label ?: "");
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
                json_string(j, "region", b->parts[i].region);
                json_uint(j, "offset", b->parts[i].offset);
                json_uint(j, "size", b->parts[i].size);
                json_string(j, "sha256", b->parts[i].sha256);
                json_end_object(j);
        }
        json_end_array(j);
        json_end_object(j);
}

int backup_list_find_one(sd_bus *bus, const char *arg, BackupEntry **ret_all, size_t *ret_n, BackupEntry **ret) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = list_backups(bus, ret_all, ret_n, &error);
        if (r < 0)
                return -bus_report_error("Cannot list backups", r, &error);
        r = find_backup(*ret_all, *ret_n, arg, ret);
        if (r < 0) {
                fprintf(stderr, r == -ENOTUNIQ ? "\"%s\" matches more than one backup; give more of its id.\n"
                                               : "No backup \"%s\"; 'mtknvctl backups' lists them.\n", arg);
                backup_entry_array_free(*ret_all, *ret_n);
                return -EXIT_NO_DEVICE;
        }
        return 0;
}

/* The backup's label, else its phone's ("phone: …"), else "-". */
static const char *backup_label_display(const BackupEntry *b) {
        static char buf[160];

        if (b->label && *b->label)
                return b->label;
        if (b->device_label && *b->device_label) {
                snprintf(buf, sizeof(buf), "phone: %s", b->device_label);
                return buf;
        }
        return "-";
}

static void format_bytes(uint64_t v, char *buf, size_t size) {
        if (v >= 1024 * 1024)
                snprintf(buf, size, "%.1f MiB", (double) v / (1024.0 * 1024.0));
        else if (v >= 1024)
                snprintf(buf, size, "%.1f KiB", (double) v / 1024.0);
        else
                snprintf(buf, size, "%" PRIu64 " bytes", v);
}

/* "Store: 60.0 MiB on disk in /var/lib/mtknvd/backups; identical images stored once saved 60.0 MiB." */
static void print_store_usage(sd_bus *bus) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        uint64_t disk = 0, saved = 0;
        const char *path = "";
        char d[32], sv[32];
        int r;

        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "GetStoreUsage", &error,
                               &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0 && strcmp(name, "DiskSize") == 0)
                        r = sd_bus_message_read(reply, "v", "t", &disk);
                else if (r >= 0 && strcmp(name, "SavedSize") == 0)
                        r = sd_bus_message_read(reply, "v", "t", &saved);
                else if (r >= 0 && strcmp(name, "Path") == 0)
                        r = sd_bus_message_read(reply, "v", "s", &path);
                else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                /* an older daemon: the listing stands without it */
                fprintf(stderr, "(The store's size is not known: %s)\n", error.message ?: strerror(-r));
                return;
        }
        format_bytes(disk, d, sizeof(d));
        format_bytes(saved, sv, sizeof(sv));
        printf("\nStore: %s on disk in %s; identical images stored once saved %s.\n", d, path, sv);
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
                printf("%-48s  %-7s  %-19s  %-11s  %5s  %9s  %-8s  %s\n", "BACKUP", "CHIP", "CREATED", "SOURCE",
                       "PARTS", "SIZE", "VERIFIED", "LABEL");
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
                printf("%-48s  %-7s  %-19s  %-11s  %5zu  %5" PRIu64 " MiB  %-8s  %s\n", all[i].id ?: "-",
                       all[i].chip ?: "-", when, all[i].source ?: "-", all[i].n_parts, all[i].size >> 20,
                       all[i].verified ? "yes" : "no", backup_label_display(&all[i]));
        }
        if (a->json) {
                json_end_array(&j);
                putchar('\n');
        } else if (shown == 0)
                printf("(no backups yet; plug a powered-off phone in, or run 'mtknvctl backup')\n");
        if (!a->json)
                print_store_usage(bus);
        backup_entry_array_free(all, n);
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
        r = backup_list_find_one(bus, argv[1], &all, &n, &b);
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
                if (b->label && *b->label)
                        printf("       Label: %s\n", b->label);
                printf("       Phone: %s, key %s%s%s%s\n", b->chip ?: "-", b->device_key ?: "-",
                       b->device_label && *b->device_label ? " (\"" : "", b->device_label ?: "",
                       b->device_label && *b->device_label ? "\")" : "");
                printf("       ME ID: %s\n", b->me_id && *b->me_id ? identifier_display(b->me_id, buf, sizeof(buf))
                                                                  : "(not reported)");
                printf("    eMMC CID: %s\n", b->emmc_cid && *b->emmc_cid
                                                     ? identifier_display(b->emmc_cid, buf, sizeof(buf)) : "-");
                if (b->bound)
                        printf("       Bound: yes, signed by this host's key\n");
                else
                        printf("       Bound: no: %s (restoring it needs --allow-foreign)\n",
                               backup_entry_unbound_reason(b));
                printf("     Created: %s (%s)\n", when, b->source ?: "-");
                if (b->imported) {
                        format_time(b->imported, when, sizeof(when));
                        printf("    Imported: %s\n", when);
                }
                printf("  Partitions: from the phone's %s, %s\n", b->table_source ?: "-",
                       b->verified ? "each read twice and compared" : "NOT verified");
                for (size_t i = 0; i < b->n_parts; i++)
                        printf("              %-10s %-14s at 0x%09" PRIx64 ", %6" PRIu64 " KiB, sha256 %s\n",
                               b->parts[i].name, b->parts[i].file, b->parts[i].offset, b->parts[i].size >> 10,
                               identifier_display(b->parts[i].sha256, buf, sizeof(buf)));
                if (fingerprints)
                        printf("(Identifiers and hashes are shown as fingerprints: only root sees them in full.)\n");
        }
        backup_entry_array_free(all, n);
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
        r = backup_list_find_one(bus, argv[1], &all, &n, &b);
        if (r < 0)
                return -r;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, b->path, MTKNV_BACKUP_IFACE, "Verify", &error, &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_read(reply, "bs", &ok, &msg);
        if (r < 0) {
                backup_entry_array_free(all, n);
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
        backup_entry_array_free(all, n);
        return ok ? EXIT_OK : EXIT_FAIL;
}

int verb_delete_backup(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        BackupEntry *all = NULL, *b;
        size_t n = 0;
        int r;

        if (argc != 2) {
                fprintf(stderr, "delete-backup needs exactly one backup ID (see 'mtknvctl backups').\n");
                return EXIT_USAGE;
        }
        r = backup_list_find_one(bus, argv[1], &all, &n, &b);
        if (r < 0)
                return -r;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, b->path, MTKNV_BACKUP_IFACE, "Delete", &error, NULL, "a{sv}",
                               a->force ? 1 : 0, "force", "b", 1);
        if (r < 0) {
                backup_entry_array_free(all, n);
                return bus_report_error("Cannot delete the backup", r, &error);
        }
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "id", b->id);
                json_bool(&j, "deleted", true);
                json_end_object(&j);
                putchar('\n');
        } else
                printf("Deleted %s.\n", b->id);
        backup_entry_array_free(all, n);
        return EXIT_OK;
}

int verb_prune(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        JsonWriter j = { .f = stdout };
        const char *path, *id, *why;
        unsigned count = 0;
        int r;

        if (argc != 1) {
                fprintf(stderr, "prune takes no arguments: it applies KeepLast= and KeepPreRestoreDays= of "
                        "mtknvd.conf.\n");
                return EXIT_USAGE;
        }
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "PruneBackups", &error,
                               &reply, "a{sv}", a->dry_run ? 1 : 0, "dry-run", "b", 1);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(oss)");
        if (r < 0)
                return bus_report_error(a->dry_run ? "Cannot list what the retention policy deletes"
                                                   : "Cannot apply the retention policy", r, &error);
        if (a->json) {
                json_begin_object(&j, NULL);
                json_bool(&j, "dry_run", a->dry_run);
                json_begin_array(&j, "backups");
        }
        while ((r = sd_bus_message_read(reply, "(oss)", &path, &id, &why)) > 0) {
                count++;
                if (a->json) {
                        json_begin_object(&j, NULL);
                        json_string(&j, "id", id);
                        json_string(&j, "reason", why);
                        json_end_object(&j);
                } else
                        printf("%s %s (%s)\n", a->dry_run ? "Would delete" : "Deleted", id, why);
        }
        if (r < 0)
                return bus_report_error("Cannot read the daemon's answer", r, NULL);
        if (a->json) {
                json_end_array(&j);
                json_end_object(&j);
                putchar('\n');
        } else if (count == 0)
                printf("Nothing to delete: every backup is within KeepLast= and KeepPreRestoreDays= (mtknvd.conf).\n");
        return EXIT_OK;
}

int backup_list_paths(sd_bus *bus, char ***ret, size_t *ret_n) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        BackupEntry *all = NULL;
        size_t n = 0;
        char **p;
        int r;

        r = list_backups(bus, &all, &n, &error);
        if (r < 0)
                return r;
        p = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; p && i < n; i++)
                p[i] = TAKE_PTR(all[i].path);
        backup_entry_array_free(all, n);
        if (!p)
                return -ENOMEM;
        *ret = p;
        *ret_n = n;
        return 0;
}

/* label PHONE|ID [TEXT]: a phone is a DEVICE as list shows it, or the key
 * its backups are kept under (it need not be plugged in); a backup is an ID
 * as for the other backup verbs.  An ID with a '/' is always a backup. */
int verb_label(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *target = NULL, *current = NULL;
        BackupEntry *all = NULL, *b = NULL;
        DeviceInfo *devs = NULL, *d = NULL;
        size_t n = 0, n_devs = 0;
        const char *what = "phone";
        int r;

        if (argc != 2 && argc != 3) {
                fprintf(stderr, "label needs a PHONE (DEVICE or its key) or a backup ID, and the TEXT (\"\" "
                        "clears the label).\n");
                return EXIT_USAGE;
        }
        r = list_backups(bus, &all, &n, &error);
        if (r >= 0)
                r = bus_list_devices(bus, &devs, &n_devs, &error);
        if (r < 0) {
                backup_entry_array_free(all, n);
                return bus_report_error("Cannot list phones and backups", r, &error);
        }
        if (!strchr(argv[1], '/') && bus_find_device(devs, n_devs, argv[1], &d) >= 0) {
                target = strdup(d->id);
                current = strdup(d->label ?: "");
        }
        for (size_t i = 0; !target && !strchr(argv[1], '/') && i < n; i++)
                if (all[i].device_key && strcmp(all[i].device_key, argv[1]) == 0) {
                        target = strdup(all[i].device_key);
                        current = strdup(all[i].device_label ?: "");
                }
        if (!target) {
                r = find_backup(all, n, argv[1], &b);
                if (r < 0) {
                        fprintf(stderr, r == -ENOTUNIQ ? "\"%s\" matches more than one backup; give more of its id.\n"
                                                       : "No phone or backup \"%s\"; 'mtknvctl list' and 'mtknvctl "
                                                         "backups' show them.\n", argv[1]);
                        backup_entry_array_free(all, n);
                        device_info_array_free(devs, n_devs);
                        return EXIT_NO_DEVICE;
                }
                what = "backup";
                target = strdup(b->id);
                current = strdup(b->label ?: "");
        }
        backup_entry_array_free(all, n);
        device_info_array_free(devs, n_devs);
        if (!target || !current)
                return EXIT_FAIL;
        if (argc == 2) {
                if (a->json) {
                        JsonWriter j = { .f = stdout };

                        json_begin_object(&j, NULL);
                        json_string(&j, what, target);
                        json_string(&j, "label", current);
                        json_end_object(&j);
                        putchar('\n');
                } else if (*current)
                        printf("%s\n", current);
                else
                        printf("(%s %s has no label)\n", what, target);
                return EXIT_OK;
        }
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "SetLabel", &error, NULL,
                               "ss", target, argv[2]);
        if (r < 0)
                return bus_report_error("Cannot set the label", r, &error);
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, what, target);
                json_string(&j, "label", argv[2]);
                json_end_object(&j);
                putchar('\n');
        } else if (*argv[2])
                printf("Labelled %s %s \"%s\".\n", what, target, argv[2]);
        else
                printf("Cleared the label of %s %s.\n", what, target);
        return EXIT_OK;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs that run an operation on a phone: backup and restore. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backup-files.h"
#include "backup-list.h"
#include "job-progress.h"
#include "macro.h"
#include "name-list.h"
#include "operations.h"
#include "output.h"

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

/* The phone a restore without --device writes to: with several connected,
 * the one the backup was taken from (its id is the backup's device key, as
 * the daemon names both after the phone's identity), else the one phone
 * connected, else "/": the next one plugged in. */
static int restore_pick_device(sd_bus *bus, const BackupEntry *b, char **ret_path) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        DeviceInfo *devs = NULL, *one = NULL, *owner = NULL;
        size_t n = 0, present = 0;
        int r;

        r = bus_list_devices(bus, &devs, &n, &error);
        if (r < 0)
                return -bus_report_error("Cannot list phones", r, &error);
        for (size_t i = 0; i < n; i++) {
                if (!devs[i].present)
                        continue;
                present++;
                one = &devs[i];
                if (b && b->device_key && *b->device_key && strcmp(devs[i].id, b->device_key) == 0)
                        owner = &devs[i];
        }
        if (!owner && present > 1) {
                fprintf(stderr, "Several phones are connected and none of them is the one backup %s was taken from "
                        "(%s); name the phone with --device DEVICE (see 'mtknvctl list').\n", b ? b->id : "-",
                        b && b->device_key ? b->device_key : "-");
                device_info_array_free(devs, n);
                return -EXIT_NO_DEVICE;
        }
        *ret_path = strdup(owner ? owner->path : one ? one->path : "/");
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
        JobProgress p;
        const char *job;
        int r;

        job_progress_init(&p, bus, a);
        r = sd_event_default(&event);
        if (r >= 0)
                r = job_progress_subscribe(bus, event, &p);
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
        return job_progress_follow(bus, event, &p);
}

int verb_restore(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *device = NULL, *resume_id = NULL;
        JobProgress p;
        BackupEntry *all = NULL, *b;
        char *dev_argv[2];
        const char *job;
        size_t n = 0;
        int r;

        job_progress_init(&p, bus, a);
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
        if (!a->resume) {
                r = backup_list_find_one(bus, argv[1], &all, &n, &b);
                if (r < 0)
                        return -r;
                /* the daemon would refuse it too, but only after the prompt and polkit's question */
                if (!b->bound && !a->allow_foreign) {
                        fprintf(stderr, "Backup %s is not bound to any phone (%s): nothing proves it is this phone's, "
                                "and writing another phone's nvram clones its IMEI. Nothing was done. Restoring it "
                                "needs --allow-foreign (and an administrator: polkit action "
                                "org.mtknvd.MtkNv1.restore-foreign).\n", b->id, backup_entry_unbound_reason(b));
                        backup_entry_array_free(all, n);
                        return EXIT_FAIL;
                }
        }
        dev_argv[0] = argv[0];
        dev_argv[1] = (char *) a->device;
        if (a->resume && !a->device)
                /* the phone whose journal the daemon knows, plugged in or not */
                device = device_with_journal(bus);
        if (!device) {
                r = a->device || a->resume ? resolve_single_device(bus, a->device ? 2 : 1, dev_argv, &device)
                                           : restore_pick_device(bus, b, &device);
                if (r < 0) {
                        backup_entry_array_free(all, n);
                        return -r;
                }
        }
        if (a->resume && strcmp(device, "/") != 0) {
                r = interrupted_restore(bus, device, a->rollback, &resume_id);
                if (r != 0)
                        return r;
        } else if (a->resume)
                /* the phone is not there: its journal, read when it is, names the images */
                return restore_resume_next_phone(bus, a);
        if (a->resume) {
                r = backup_list_find_one(bus, resume_id, &all, &n, &b);
                if (r < 0)
                        return -r;
        }

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
                        "this phone's: writing another phone's nvram clones its IMEI.\n", b->id,
                        backup_entry_unbound_reason(b));
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
                        backup_entry_array_free(all, n);
                        return EXIT_FAIL;
                }
        }

        r = sd_event_default(&event);
        if (r >= 0)
                r = job_progress_subscribe(bus, event, &p);
        if (r < 0) {
                backup_entry_array_free(all, n);
                return bus_report_error("Cannot set up", r, NULL);
        }
        p.event = event;
        say_waiting(a, device);
        r = restore_call(bus, device, b->path, a, &error, &reply);
        backup_entry_array_free(all, n);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return bus_report_error("Cannot restore", r, &error);
        p.job = strdup(job);
        return job_progress_follow(bus, event, &p);
}

int verb_backup(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *device = NULL;
        JobProgress p;
        const char *job;
        int scatter_fd = -1, r;

        job_progress_init(&p, bus, a);
        r = resolve_single_device(bus, argc, argv, &device);
        if (r < 0)
                return -r;
        if (a->scatter) {
                scatter_fd = file_open_input(a->scatter);
                if (scatter_fd < 0)
                        return EXIT_FAIL;
        }

        r = sd_event_default(&event);
        p.event = event;
        /* subscribe before the job exists, so no signal can be missed */
        if (r >= 0 && a->wait)
                r = job_progress_subscribe(bus, event, &p);
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
                if (a->json) {
                        JsonWriter j = { .f = stdout };

                        json_begin_object(&j, NULL);
                        json_string(&j, "job", job);
                        json_end_object(&j);
                        putchar('\n');
                } else
                        printf("Backup started as job %s; follow it with 'mtknvctl backup --wait' next time.\n", job);
                free(p.job);
                return EXIT_OK;
        }

follow:
        return job_progress_follow(bus, event, &p);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtknvctl: the command-line client of mtknvd.  Everything goes through the
 * daemon's D-Bus API; the client never touches USB.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "args.h"
#include "backup-files.h"
#include "firmware.h"
#include "backup-list.h"
#include "bus.h"
#include "verb-help.h"
#include "inhibit.h"
#include "inspect.h"
#include "macro.h"
#include "operations.h"
#include "output.h"

static void help(void) {
        printf("Usage: mtknvctl [OPTIONS] COMMAND [ARG...]\n"
               "\n"
               "Control mtknvd, the daemon that detects MediaTek phones in BROM or preloader\n"
               "download mode and keeps verified backups of their identity partitions.\n"
               "\n"
               "Commands:\n"
               "  list                  List the phones the daemon sees: id, chip, download mode,\n"
               "                        state, USB path, security settings, ME ID.\n"
               "  show DEVICE           Everything known about one phone, with its security\n"
               "                        configuration in plain words and any error with its remedy.\n"
               "  monitor               Print phones as they appear, change state and disappear,\n"
               "                        and each job's result (\"1-5 backed up\"), with the time,\n"
               "                        until Ctrl-C. Phones present at start are shown first.\n"
               "  wait                  Wait until --count phones (default 1) are in --state\n"
               "                        (default \"present\": plugged in); print their ids.\n"
               "  backup [DEVICE]       Back up the phone's identity partitions (nvram, nvdata,\n"
               "                        nvcfg, protect1, protect2, proinfo, persist: whichever it\n"
               "                        has), each read twice and compared. DEVICE may be left out\n"
               "                        when one phone is connected; with none connected the backup\n"
               "                        waits for the next phone plugged in (power it off, then plug\n"
               "                        it in). With --wait: a progress bar, and Ctrl-C cancels\n"
               "                        (nothing is stored).\n"
               "  backups [KEY]         List stored backups (of one phone, by its key prefix).\n"
               "  restore ID            Write a backup back to the phone it came from: identity and\n"
               "                        layout checked, the phone's current contents saved first\n"
               "                        (a \"pre-restore\" backup), every partition read back and\n"
               "                        compared, everything rolled back on a mismatch. Asks for\n"
               "                        confirmation on a terminal (--yes skips it).\n"
               "  restore --resume      A restore was interrupted (phone unplugged, daemon killed):\n"
               "                        the phone's restore journal names what was being written;\n"
               "                        finish it, or with --rollback write the pre-restore\n"
               "                        snapshot back. 'mtknvctl show' lists such a phone's journal.\n"
               "  show-backup ID        A backup's phone, time, source and partitions with hashes.\n"
               "  verify-backup ID      Re-hash every image against the manifest.\n"
               "  delete-backup ID      Delete a stored backup. Refused for the only verified backup\n"
               "                        of a phone (--force deletes it anyway) and for one an\n"
               "                        interrupted restore's journal names.\n"
               "  prune                 Apply the retention policy (KeepLast=, KeepPreRestoreDays=\n"
               "                        in mtknvd.conf) now; --dry-run only lists what would go.\n"
               "  label PHONE|ID [TEXT] Name a phone (DEVICE or its key) or a backup ID; list,\n"
               "                        show, backups and the agent show it. TEXT \"\" clears it;\n"
               "                        without TEXT the current label is printed.\n"
               "  export-backup ID [FILE]\n"
               "                        Write the backup as a tar archive to FILE (opened by\n"
               "                        mtknvctl; the daemon only receives the descriptor).\n"
               "                        Default FILE: LABEL-or-KEY-TIME.mtknvd.tar here; an\n"
               "                        existing FILE is replaced only with --force. With\n"
               "                        --format spflash --scatter SCATTER: the images plus a copy\n"
               "                        of SCATTER edited so SP Flash Tool downloads exactly them\n"
               "                        (file_name set, is_download: true; all else false).\n"
               "  import FILE...        Bring a backup in: an mtknvd export archive; with --spflash\n"
               "                        (and --scatter SCATTER, else the one *_scatter.txt or .xml\n"
               "                        next to the images) SP Flash Tool readbacks named after\n"
               "                        their partitions (nvram.img, nvdata.bin); with --partition\n"
               "                        NAME a raw image of that partition. Readbacks and raw\n"
               "                        images are not bound to a phone: restoring them needs\n"
               "                        --allow-foreign.\n"
               "  add-da FILE           Install a Download Agent (MTK_AllInOne_DA.bin from the\n"
               "                        phone's firmware package); the daemon keeps a checked copy.\n"
               "  add-preloader FILE    Install a preloader (preloader_<board>.bin from the phone's\n"
               "                        firmware package): a phone in BROM mode needs the DRAM\n"
               "                        settings it carries. The daemon keeps a checked copy.\n"
               "  add-firmware DIR      Install what a firmware folder has for mtknvd: its preloader\n"
               "                        and Download Agent (added) and scatter file (checked);\n"
               "                        other files are listed, not sent.\n"
               "  list-da               The Download Agents the daemon may use: chips, size.\n"
               "  remove-da NAME        Remove an added Download Agent (not while one is used).\n"
               "  list-preloaders       The stored preloaders: name, EMI version, memory parts.\n"
               "  remove-preloader NAME Remove a stored preloader.\n"
               "  inspect FILE          Say what FILE is and whether this mtknvd can use it: a\n"
               "                        Download Agent (chips, DA protocol), a preloader (EMI\n"
               "                        version), a scatter file (identity set), a backup\n"
               "                        archive or SP Flash Tool export. Needs no phone.\n"
               "  inhibit [-- COMMAND [ARG...]]\n"
               "                        Keep mtknvd away from phones while COMMAND (mtkclient,\n"
               "                        SP Flash Tool) runs: it opens no phone plugged in\n"
               "                        meanwhile (with --port P: on that port). Without\n"
               "                        COMMAND: until Ctrl-C. Only mtknvctl holds the inhibitor;\n"
               "                        it ends with mtknvctl. Put -- before COMMAND when COMMAND\n"
               "                        has options of its own.\n"
               "  help [VERB]           This help; with VERB, that command's usage and options.\n"
               "  agent                 Stay in the desktop session and show a notification when a\n"
               "                        phone is detected, backed up or restored, when that fails,\n"
               "                        and when the phone needs you. Started by XDG autostart or\n"
               "                        the mtknvd-agent.service user unit; one per session.\n"
               "\n"
               "ID is a backup's object path, \"KEY/BACKUP\", its backup id, or a unique prefix.\n"
               "\n"
               "DEVICE is a phone's object path, its id (the last path element, e.g.\n"
               "mt6735_4f1c0e2a9b7d3c11), a unique prefix of the id, or its USB path (e.g. 1-1).\n"
               "\n"
               "Options:\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --json             Machine-readable output: list prints an array, show an\n"
               "                        object, monitor one object per line (NDJSON)\n"
               "     --state STATE      wait: present, idle, identifying, ready, busy, released,\n"
               "                        unsupported, error or disconnected\n"
               "     --count N          wait: how many phones (default 1)\n"
               "     --timeout SEC      wait: give up after SEC seconds (default 60; 0 = never)\n"
               "     --wait             backup: follow the job to its end with a progress bar\n"
               "     --scatter FILE     backup: take the partitions from this scatter file\n"
               "                        instead of the phone's own table\n"
               "                        export-backup --format spflash, import --spflash: the\n"
               "                        phone's scatter file\n"
               "     --format FORMAT    export-backup: mtknvd (default) or spflash\n"
               "     --compress C       export-backup: gzip, xz, zstd or none (default); import\n"
               "                        reads any of them\n"
               "     --spflash          import: the FILEs are SP Flash Tool readbacks\n"
               "     --partition NAME   import: FILE is a raw image of partition NAME\n"               "     --device DEVICE    restore: the phone (may be left out with one phone)\n"
               "     --dry-run          restore: check identity and layout, write nothing (the\n"
               "                        phone is rebooted at the end, as after every session);\n"
               "                        prune: list what would be deleted, delete nothing\n"
               "     --force            delete-backup: even the only verified backup of a phone;\n"
               "                        export-backup: replace an existing FILE\n"
               "     --allow-foreign    restore: a backup of another phone (technicians only)\n"
               "     --yes              restore: do not ask for confirmation\n"
               "     --partitions LIST  restore: only these partitions (comma-separated); warns\n"
               "                        when nvram and nvdata are split\n"
               "     --resume           restore: continue the phone's interrupted restore\n"
               "     --rollback         restore --resume: go back to the pre-restore snapshot\n"
               "     --port P           inhibit: only the phone at USB path P (e.g. 1-1, the USB\n"
               "                        column of list), and phones behind a hub on it\n"
               "     --who W            inhibit: the program named in list (default: COMMAND's\n"
               "                        name, else \"mtknvctl\")\n"
               "     --why Y            inhibit: what it does (default: \"COMMAND is using the\n"
               "                        phone\")\n"
               "     --no-ask-password  Do not let polkit ask for a password (the default when\n"
               "                        standard input is not a terminal). Otherwise a user who\n"
               "                        is not root is asked on this terminal by polkit's text\n"
               "                        agent, pkttyagent, when no desktop agent answers\n"
               "\n"
               "Phone states: idle (plugged in and left alone, so that it boots: nothing to do,\n"
               "or it is booting after mtknvd released it; show says why), identifying\n"
               "(handshake and identification running), ready (identified, an operation is\n"
               "about to start), busy (an operation such as a backup runs), released (done:\n"
               "rebooted, it boots normally), unsupported (identified, but this version cannot\n"
               "back it up: show says why and what to do), error (see show: the Error line\n"
               "names cause and remedy), disconnected (unplugged; the object stays a few seconds\n"
               "so a phone that re-enumerates keeps its identity).\n"
               "mtknvd opens a phone only when something will happen: run 'mtknvctl backup' or\n"
               "'mtknvctl restore ID' first and then plug the phone in, powered off (or let\n"
               "AutoBackup= do it).\n"
               "\n"
               "Environment:\n"
               "  DBUS_SYSTEM_BUS_ADDRESS  Talk to the daemon on this bus instead of the system bus\n"
               "  DBUS_SESSION_BUS_ADDRESS agent: show notifications on this bus\n"
               "\n"
               "Exit status:\n"
               "  0  success\n"
               "  1  the operation failed (the message says why)\n"
               "  2  wrong usage\n"
               "  3  mtknvd is not running or the bus cannot be reached\n"
               "  4  no such phone, or DEVICE matches more than one\n"
               "  5  timed out\n"
               "  6  not authorized (polkit refused, or polkit is not running and you are not root)\n"
               "  130  interrupted by Ctrl-C (128 + N for signal N, e.g. 143 for SIGTERM); a job\n"
               "     being followed was cancelled, or, when it could not stop, left running\n"
               "  inhibit with COMMAND: COMMAND's exit status (128 + N when signal N ended it)\n"
               "\n"
               "Examples:\n"
               "  mtknvctl list\n"
               "  mtknvctl --json list\n"
               "  mtknvctl show 1-1\n"
               "  mtknvctl wait --timeout 30 && mtknvctl list\n"
               "  mtknvctl backup --wait\n"
               "  mtknvctl export-backup 20261124T201530Z-auto nvram-backup.tar\n"
               "  mtknvctl inhibit -- python3 mtk.py r nvram nvram.bin\n"
               "\n"
               "See mtknvctl(1), mtknvd(8).\n");
}

/* ------------------------------------------------------------ formatting */

static const char *or_dash(const char *s) {
        return s && *s ? s : "-";
}

static void security_flags(const DeviceInfo *d, char *buf, size_t size) {
        snprintf(buf, size, "%s%s%s%s%s", d->sbc ? "SBC" : "", d->sbc && (d->sla || d->daa) ? "+" : "",
                 d->sla ? "SLA" : "", d->sla && d->daa ? "+" : "", d->daa ? "DAA" : "");
        if (!*buf)
                snprintf(buf, size, "none");
}

static void json_device_fields(JsonWriter *j, const DeviceInfo *d) {
        json_string(j, "path", d->path);
        json_string(j, "id", d->id);
        json_string(j, "chip", d->chip);
        json_uint(j, "hw_code", d->hw_code);
        json_uint(j, "hw_sub_code", d->hw_sub_code);
        json_uint(j, "hw_version", d->hw_version);
        json_uint(j, "sw_version", d->sw_version);
        json_uint(j, "bootloader_version", d->bl_version);
        json_uint(j, "brom_version", d->brom_version);
        json_string(j, "mode", d->mode);
        json_string(j, "usb_path", d->usb_path);
        json_uint(j, "vendor_id", d->vid);
        json_uint(j, "product_id", d->pid);
        json_uint(j, "target_config", d->target_config);
        json_bool(j, "sbc", d->sbc);
        json_bool(j, "sla", d->sla);
        json_bool(j, "daa", d->daa);
        json_string(j, "me_id", d->me_id);
        json_string(j, "soc_id", d->soc_id);
        json_string(j, "state", d->state);
        json_string(j, "state_reason", d->state_reason);
        json_string(j, "error", d->error);
        json_string(j, "error_name", d->error_name);
        json_string(j, "warning", d->warning);
        json_string(j, "label", d->label);
        json_bool(j, "present", d->present);
        json_string(j, "interrupted_restore", d->interrupted_backup);
        json_string(j, "interrupted_restore_snapshot", d->interrupted_snapshot);
}

static void json_device(JsonWriter *j, const char *key, const DeviceInfo *d) {
        json_begin_object(j, key);
        json_device_fields(j, d);
        json_end_object(j);
}

static void print_table(DeviceInfo *a, size_t n) {
        int w_id = 6, w_chip = 4, w_state = 5, w_usb = 3, w_label = 0;
        char sec[32];

        /* a LABEL column only when a phone has a label: the table stays as narrow as it was */
        for (size_t i = 0; i < n; i++)
                if (a[i].label && *a[i].label)
                        w_label = (int) MAX_SIZE((size_t) (w_label > 5 ? w_label : 5), strlen(a[i].label));
        for (size_t i = 0; i < n; i++) {
                w_id = (int) MAX_SIZE((size_t) w_id, strlen(a[i].id));
                w_chip = (int) MAX_SIZE((size_t) w_chip, strlen(or_dash(a[i].chip)));
                w_state = (int) MAX_SIZE((size_t) w_state, strlen(or_dash(a[i].state)));
                w_usb = (int) MAX_SIZE((size_t) w_usb, strlen(or_dash(a[i].usb_path)));
        }
        if (w_label > 0)
                printf("%-*s  ", w_label, "LABEL");
        printf("%-*s  %-*s  %-9s  %-*s  %-*s  %-11s  %s\n", w_id, "DEVICE", w_chip, "CHIP", "MODE", w_state, "STATE",
               w_usb, "USB", "SECURITY", "ME ID");
        for (size_t i = 0; i < n; i++) {
                char buf[64];

                security_flags(&a[i], sec, sizeof(sec));
                if (w_label > 0)
                        printf("%-*s  ", w_label, or_dash(a[i].label));
                printf("%-*s  %-*s  %-9s  %-*s  %-*s  %-11s  %s\n", w_id, a[i].id, w_chip, or_dash(a[i].chip),
                       or_dash(a[i].mode), w_state, or_dash(a[i].state), w_usb, or_dash(a[i].usb_path), sec,
                       identifier_display(or_dash(a[i].me_id), buf, sizeof(buf)));
        }
        if (n == 0)
                printf("(no phones; power one off and plug it in)\n");
}

static void print_device(const DeviceInfo *d) {
        char sec[32], buf[160];

        security_flags(d, sec, sizeof(sec));
        printf("%s (%s)\n", d->id, d->path);
        if (d->label && *d->label)
                printf("          Label: %s\n", d->label);
        printf("          State: %s%s\n", or_dash(d->state), d->present ? "" : " (unplugged)");
        if (d->state_reason && *d->state_reason)
                printf("         Reason: %s\n", d->state_reason);
        if (d->chip && *d->chip)
                printf("           Chip: %s\n", d->chip);
        else
                printf("           Chip: %s\n", d->hw_code ? "unknown" : "-");
        printf("        HW code: 0x%04x (sub code 0x%04x, hw version 0x%04x, sw version 0x%04x)\n", d->hw_code,
               d->hw_sub_code, d->hw_version, d->sw_version);
        printf("           Mode: %s (bootloader version %u%s)\n", or_dash(d->mode), d->bl_version,
               d->bl_version == 0xfe ? ", i.e. boot ROM" : "");
        printf("            USB: %s, %04x:%04x\n", or_dash(d->usb_path), d->vid, d->pid);
        printf("       Security: %s (target config 0x%08x)\n", sec, d->target_config);
        printf("                 secure boot (SBC):                      %s\n", d->sbc ? "on" : "off");
        printf("                 serial-link authentication (SLA):       %s\n", d->sla ? "on" : "off");
        printf("                 download agent authentication (DAA):    %s\n", d->daa ? "on" : "off");
        printf("          ME ID: %s\n", d->me_id && *d->me_id ? identifier_display(d->me_id, buf, sizeof(buf))
                                                            : "(not reported by this phone)");
        printf("         SoC ID: %s\n", d->soc_id && *d->soc_id ? identifier_display(d->soc_id, buf, sizeof(buf))
                                                              : "(not reported by this phone)");
        if (is_fingerprint(d->me_id) || is_fingerprint(d->soc_id))
                printf("                 (fingerprints: only root sees the full values)\n");
        if (d->warning && *d->warning)
                printf("           Note: %s\n", d->warning);
        if (d->error && *d->error)
                printf("          Error: %s\n                 (%s)\n", d->error, or_dash(d->error_name));
        if (d->interrupted_backup && *d->interrupted_backup)
                printf("Interrupted restore: %s was being %s over the snapshot %s; the phone may hold a\n"
                       "                 mix of both. Run 'mtknvctl restore --resume' to finish it, or\n"
                       "                 'mtknvctl restore --resume --rollback' to go back.\n",
                       d->interrupted_backup, d->interrupted_phase && strcmp(d->interrupted_phase, "rollback") == 0 ?
                       "replaced by the snapshot (rollback)" : "written", d->interrupted_snapshot);
}

/* ------------------------------------------------------------ list / show */

/* Why a phone is ignored: one line per held inhibitor. */
static void print_inhibitors(const InhibitorEntry *in, size_t n) {
        for (size_t i = 0; i < n; i++) {
                printf("mtknvd is inhibited by %s (uid %u): %s \u2014 phones on ", in[i].who, in[i].uid, in[i].why);
                if (*in[i].port)
                        printf("port %s are left alone\n", in[i].port);
                else
                        printf("all ports are left alone\n");
        }
}

/* --json: each phone lists the inhibitors that keep mtknvd away from it. */
static void json_inhibitors(JsonWriter *j, const DeviceInfo *d, const InhibitorEntry *in, size_t n) {
        json_begin_array(j, "inhibitors");
        for (size_t i = 0; i < n; i++) {
                if (!inhibitor_entry_covers(&in[i], d->usb_path))
                        continue;
                json_begin_object(j, NULL);
                json_string(j, "who", in[i].who);
                json_string(j, "why", in[i].why);
                json_string(j, "port", in[i].port);
                json_uint(j, "uid", in[i].uid);
                json_end_object(j);
        }
        json_end_array(j);
}

static int verb_list(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        DeviceInfo *devs = NULL;
        InhibitorEntry *in = NULL;
        size_t n = 0, n_in = 0;
        int r;

        r = bus_list_devices(bus, &devs, &n, &error);
        if (r < 0)
                return bus_report_error("Cannot list phones", r, &error);
        r = bus_list_inhibitors(bus, &in, &n_in, &error);
        if (r < 0) {
                device_info_array_free(devs, n);
                return bus_report_error("Cannot list inhibitors", r, &error);
        }
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_array(&j, NULL);
                for (size_t i = 0; i < n; i++) {
                        json_begin_object(&j, NULL);
                        json_device_fields(&j, &devs[i]);
                        json_inhibitors(&j, &devs[i], in, n_in);
                        json_end_object(&j);
                }
                json_end_array(&j);
                putchar('\n');
        } else {
                print_table(devs, n);
                print_inhibitors(in, n_in);
        }
        inhibitor_entry_array_free(in, n_in);
        device_info_array_free(devs, n);
        return EXIT_OK;
}

static int verb_show(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        DeviceInfo *devs = NULL, *d;
        size_t n = 0;
        int r;

        if (argc != 2) {
                fprintf(stderr, "show needs exactly one DEVICE; see 'mtknvctl list'.\n");
                return EXIT_USAGE;
        }
        r = bus_list_devices(bus, &devs, &n, &error);
        if (r < 0)
                return bus_report_error("Cannot list phones", r, &error);
        r = bus_find_device(devs, n, argv[1], &d);
        if (r < 0) {
                fprintf(stderr, r == -ENOTUNIQ ? "\"%s\" matches more than one phone; give more of its id.\n"
                                               : "No phone \"%s\"; 'mtknvctl list' shows the phones there are.\n",
                        argv[1]);
                device_info_array_free(devs, n);
                return EXIT_NO_DEVICE;
        }
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_device(&j, NULL, d);
                putchar('\n');
        } else {
                _cleanup_free_ char *last = NULL;
                uint64_t created = 0;
                char when[32];

                print_device(d);
                if (((d->me_id && *d->me_id) || (d->soc_id && *d->soc_id)) &&
                    backups_latest_verified(bus, d->id, &last, &created) >= 0) {
                        backups_format_time(created, when, sizeof(when));
                        if (last)
                                printf("         Backup: %s, verified, taken %s\n", last, when);
                        else
                                printf("         Backup: none verified yet ('mtknvctl backup', then plug it in)\n");
                }
        }
        device_info_array_free(devs, n);
        return EXIT_OK;
}

/* ------------------------------------------------------------ monitor / wait */

/* A job monitor has seen start: what it does and to which phone, for its end. */
typedef struct WatchJob {
        char *path, *operation, *device;
        char *usb_path;         /* the phone's port while it was known: it may leave before the job ends */
} WatchJob;

typedef struct Watch {
        sd_bus *bus;
        sd_event *event;
        const Args *args;
        bool wait;
        int exit;
        DeviceInfo *known;
        size_t n_known;
        WatchJob *jobs;
        size_t n_jobs;
        bool listed;            /* the daemon answered once: a later "no owner" means it left */
} Watch;

/* When something happened, for people (local time) or for programs (ISO 8601). */
static void watch_time(bool iso, char *buf, size_t size) {
        time_t t = time(NULL);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%S%z" : "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
}

static void watch_print(Watch *w, const char *event, const DeviceInfo *d, const char *changes) {
        char when[40];

        watch_time(w->args->json, when, sizeof(when));
        if (w->args->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "event", event);
                json_string(&j, "time", when);
                json_string(&j, "path", d->path);
                if (strcmp(event, "removed") != 0)
                        json_device(&j, "device", d);
                json_end_object(&j);
                putchar('\n');
        } else if (strcmp(event, "removed") == 0)
                printf("%s - %s removed\n", when, d->id);
        else if (strcmp(event, "changed") == 0)
                printf("%s ~ %s %s\n", when, d->id, changes);
        else
                printf("%s %c %s %s %s %s (USB %s)%s%s\n", when, strcmp(event, "added") == 0 ? '+' : '=', d->id,
                       or_dash(d->chip), or_dash(d->mode), or_dash(d->state), or_dash(d->usb_path),
                       d->error && *d->error ? ": " : "", d->error ? d->error : "");
        fflush(stdout);
}

static void watch_job_done(WatchJob *job) {
        free(job->path);
        free(job->operation);
        free(job->device);
        free(job->usb_path);
}

static void watch_jobs_free(Watch *w) {
        for (size_t i = 0; i < w->n_jobs; i++)
                watch_job_done(&w->jobs[i]);
        free(w->jobs);
        w->jobs = NULL;
        w->n_jobs = 0;
}

static WatchJob *watch_job_find(Watch *w, const char *path) {
        for (size_t i = 0; i < w->n_jobs; i++)
                if (strcmp(w->jobs[i].path, path) == 0)
                        return &w->jobs[i];
        return NULL;
}

static void watch_job_set(char **field, const char *value) {
        char *v = strdup(value);

        if (!v)
                return;
        free(*field);
        *field = v;
}

/* Each job's phone's port, from the phones known now. */
static void watch_jobs_note_ports(Watch *w) {
        for (size_t i = 0; i < w->n_jobs; i++) {
                DeviceInfo *d = NULL;

                if (w->jobs[i].device && bus_find_device(w->known, w->n_known, w->jobs[i].device, &d) >= 0 &&
                    strcmp(d->path, w->jobs[i].device) == 0 && d->usb_path && *d->usb_path)
                        watch_job_set(&w->jobs[i].usb_path, d->usb_path);
        }
}

/* Reads a Job's a{sv} (from InterfacesAdded, GetManagedObjects or
 * PropertiesChanged) into the job at path, adding it when new. */
static int watch_job_read(Watch *w, const char *path, sd_bus_message *m) {
        WatchJob *job = watch_job_find(w, path);
        int r;

        if (!job) {
                WatchJob *n = realloc(w->jobs, (w->n_jobs + 1) * sizeof(WatchJob));

                if (!n)
                        return -ENOMEM;
                w->jobs = n;
                job = &w->jobs[w->n_jobs];
                *job = (WatchJob) { .path = strdup(path) };
                if (!job->path)
                        return -ENOMEM;
                w->n_jobs++;
        }
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *v;

                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0 && strcmp(name, "Operation") == 0 && (r = sd_bus_message_read(m, "v", "s", &v)) >= 0)
                        watch_job_set(&job->operation, v);
                else if (r >= 0 && strcmp(name, "Device") == 0 && (r = sd_bus_message_read(m, "v", "o", &v)) >= 0)
                        watch_job_set(&job->device, v);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        watch_jobs_note_ports(w);
        return sd_bus_message_exit_container(m);
}

/* The Job interface among an object's a{sa{sv}}; the others skipped. */
static int watch_job_read_interfaces(Watch *w, const char *path, sd_bus_message *m) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                const char *iface;

                r = sd_bus_message_read(m, "s", &iface);
                if (r >= 0)
                        r = strcmp(iface, MTKNV_JOB_IFACE) == 0 ? watch_job_read(w, path, m)
                                                                : sd_bus_message_skip(m, "a{sv}");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* The jobs already running when monitor starts: their end is reported too. */
static int watch_jobs_load(Watch *w, sd_bus_error *error) {
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(w->bus, MTKNV_BUS_NAME, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = strncmp(path, MTKNV_JOB_PREFIX "/", strlen(MTKNV_JOB_PREFIX "/")) == 0
                                ? watch_job_read_interfaces(w, path, reply)
                                : sd_bus_message_skip(reply, "a{sa{sv}}");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r;
}

static int on_job_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *path;

        if (sd_bus_message_read(m, "o", &path) >= 0 &&
            strncmp(path, MTKNV_JOB_PREFIX "/", strlen(MTKNV_JOB_PREFIX "/")) == 0)
                (void) watch_job_read_interfaces(userdata, path, m);
        return 0;
}

static int on_job_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *iface;

        /* only jobs seen starting: a stray signal adds nothing */
        if (watch_job_find(w, sd_bus_message_get_path(m)) && sd_bus_message_read(m, "s", &iface) >= 0 &&
            strcmp(iface, MTKNV_JOB_IFACE) == 0)
                (void) watch_job_read(w, sd_bus_message_get_path(m), m);
        return 0;
}

static const char *job_done_words(const char *operation) {
        if (operation && strcmp(operation, "restore") == 0)
                return "restored";
        if (operation && strcmp(operation, "verify") == 0)
                return "verified";
        return "backed up";
}

/* "1-5 backed up (mt6735_…)", "1-3 backup failed (…): why": the phone by
 * its USB port, as list shows it, so a shop sees which socket of the hub. */
static int on_job_completed_watch(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        WatchJob *job = watch_job_find(w, sd_bus_message_get_path(m));
        const char *message, *device, *id, *port;
        char when[40];
        int ok;

        if (sd_bus_message_read(m, "bs", &ok, &message) < 0)
                return 0;
        watch_jobs_note_ports(w);
        device = job && job->device ? job->device : "/";
        port = job ? job->usb_path : NULL;
        id = strcmp(device, "/") == 0 ? "no phone yet" : strrchr(device, '/') + 1;
        watch_time(w->args->json, when, sizeof(when));
        if (w->args->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "event", "job-completed");
                json_string(&j, "time", when);
                json_string(&j, "job", sd_bus_message_get_path(m));
                json_string(&j, "operation", job && job->operation ? job->operation : "");
                json_string(&j, "path", device);
                json_string(&j, "usb_path", port ?: "");
                json_bool(&j, "success", ok);
                json_string(&j, "message", message);
                json_end_object(&j);
                putchar('\n');
        } else if (ok && job && job->operation && strcmp(job->operation, "restore") == 0 &&
                   strncmp(message, "Dry run", 7) == 0)
                printf("%s * %s restore dry run passed (%s)\n", when, or_dash(port), id);
        else if (ok)
                printf("%s * %s %s (%s)\n", when, or_dash(port), job_done_words(job ? job->operation : NULL), id);
        else
                printf("%s ! %s %s failed (%s): %s\n", when, or_dash(port),
                       job && job->operation ? job->operation : "job", id, message);
        fflush(stdout);
        if (job) {
                watch_job_done(job);
                *job = w->jobs[--w->n_jobs];
        }
        return 0;
}

/* "present" is any state of a phone on the bus. */
static bool watch_state_matches(const DeviceInfo *d, const char *state) {
        if (strcmp(state, "present") == 0)
                return d->present;
        return d->state && strcmp(d->state, state) == 0;
}

static int watch_daemon_left(Watch *w) {
        fprintf(stderr, "mtknvd left the bus.\n");
        w->exit = EXIT_NO_DAEMON;
        return sd_event_exit(w->event, EXIT_NO_DAEMON);
}

/* The daemon signals, then leaves: the re-read a signal starts can meet a
 * bus where nobody owns the name yet before NameOwnerChanged is dispatched. */
static bool watch_error_is_daemon_gone(const sd_bus_error *error) {
        return sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_DISCONNECTED);
}

/* Re-read every phone; report what changed when monitoring, check the
 * condition when waiting. */
static int watch_refresh(Watch *w) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        DeviceInfo *devs = NULL;
        size_t n = 0;
        int r;

        r = bus_list_devices(w->bus, &devs, &n, &error);
        if (r < 0 && w->listed && watch_error_is_daemon_gone(&error))
                return watch_daemon_left(w);
        if (r < 0) {
                w->exit = bus_report_error("Cannot list phones", r, &error);
                return sd_event_exit(w->event, w->exit);
        }
        w->listed = true;

        if (w->wait) {
                unsigned matching = 0;

                for (size_t i = 0; i < n; i++)
                        matching += watch_state_matches(&devs[i], w->args->state);
                if (matching >= w->args->count) {
                        for (size_t i = 0; i < n; i++)
                                if (watch_state_matches(&devs[i], w->args->state))
                                        printf("%s\n", devs[i].id);
                        w->exit = EXIT_OK;
                        sd_event_exit(w->event, EXIT_OK);
                }
        } else {
                for (size_t i = 0; i < n; i++) {
                        DeviceInfo *old = NULL;
                        char changes[512] = "";

                        bus_find_device(w->known, w->n_known, devs[i].path, &old);
                        if (old && strcmp(old->path, devs[i].path) != 0)
                                old = NULL;
                        if (!old) {
                                watch_print(w, "added", &devs[i], NULL);
                                continue;
                        }
#define CMP_STR(f, label)                                                                                  \
        if (strcmp(or_dash(old->f), or_dash(devs[i].f)) != 0)                                           \
                snprintf(changes + strlen(changes), sizeof(changes) - strlen(changes), "%s=%s ", label, \
                         or_dash(devs[i].f));
                        CMP_STR(state, "State");
                        CMP_STR(mode, "Mode");
                        CMP_STR(chip, "Chip");
                        CMP_STR(usb_path, "UsbPath");
                        CMP_STR(me_id, "MeId");
                        CMP_STR(error_name, "ErrorName");
#undef CMP_STR
                        if (old->present != devs[i].present)
                                snprintf(changes + strlen(changes), sizeof(changes) - strlen(changes),
                                         "Present=%s ", devs[i].present ? "yes" : "no");
                        if (*changes)
                                watch_print(w, "changed", &devs[i], changes);
                }
                for (size_t i = 0; i < w->n_known; i++) {
                        DeviceInfo *now = NULL;

                        if (bus_find_device(devs, n, w->known[i].path, &now) < 0 ||
                            strcmp(now->path, w->known[i].path) != 0)
                                watch_print(w, "removed", &w->known[i], NULL);
                }
        }
        device_info_array_free(w->known, w->n_known);
        w->known = devs;
        w->n_known = n;
        watch_jobs_note_ports(w);
        return 0;
}

static int on_signal_msg(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        return watch_refresh(userdata);
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || *new || strcmp(name, MTKNV_BUS_NAME) != 0)
                return 0;
        return watch_daemon_left(w);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Watch *w = userdata;

        fprintf(stderr, "Timed out waiting for %u phone(s) in state \"%s\".\n", w->args->count, w->args->state);
        w->exit = EXIT_TIMEOUT;
        return sd_event_exit(w->event, EXIT_TIMEOUT);
}

/* Ctrl-C ends monitor and wait alike: 128 + the signal, as a shell reports it. */
static int on_quit(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Watch *w = userdata;

        w->exit = 128 + (int) si->ssi_signo;
        return sd_event_exit(w->event, w->exit);
}

static int run_watch(sd_bus *bus, const Args *a, bool wait) {
        _cleanup_(event_unrefp) sd_event *event = NULL;
        Watch w = { .bus = bus, .args = a, .wait = wait, .exit = EXIT_OK };
        sigset_t mask;
        int r;

        r = sd_event_default(&event);
        if (r < 0)
                return bus_report_error("Cannot create an event loop", r, NULL);
        w.event = event;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sd_event_add_signal(event, NULL, SIGINT, on_quit, &w);
        sd_event_add_signal(event, NULL, SIGTERM, on_quit, &w);

        r = sd_bus_attach_event(bus, event, 0);
        if (r < 0)
                return bus_report_error("Cannot attach to the bus", r, NULL);
        /* subscribe first, then read the state: nothing can slip between */
        r = sd_bus_add_match(bus, NULL,
                             "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus.ObjectManager',"
                             "path='/'",
                             on_signal_msg, &w);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus."
                                     "Properties',member='PropertiesChanged',path_namespace='"
                                     MTKNV_DEVICE_PREFIX "'",
                                     on_signal_msg, &w);
        if (r >= 0)
                r = bus_match_daemon_gone(bus, on_owner_changed, &w);
        if (r >= 0 && !wait)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus."
                                     "ObjectManager',member='InterfacesAdded',path='/'",
                                     on_job_added, &w);
        if (r >= 0 && !wait)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus."
                                     "Properties',member='PropertiesChanged',path_namespace='" MTKNV_JOB_PREFIX "'",
                                     on_job_changed, &w);
        if (r >= 0 && !wait)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" MTKNV_BUS_NAME "',interface='" MTKNV_JOB_IFACE
                                     "',member='Completed'",
                                     on_job_completed_watch, &w);
        if (r < 0)
                return bus_report_error("Cannot subscribe to the daemon's signals", r, NULL);

        if (!wait) {
                /* phones already there are reported as "present" */
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;

                r = bus_list_devices(bus, &w.known, &w.n_known, &error);
                if (r >= 0)
                        r = watch_jobs_load(&w, &error);
                if (r < 0) {
                        watch_jobs_free(&w);
                        return bus_report_error("Cannot list phones", r, &error);
                }
                w.listed = true;
                for (size_t i = 0; i < w.n_known; i++)
                        watch_print(&w, "present", &w.known[i], NULL);
        } else {
                double t = a->timeout < 0 ? 60 : a->timeout;

                if (t > 0)
                        sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, (uint64_t) (t * 1e6), 0, on_timeout,
                                                   &w);
                watch_refresh(&w);
        }

        r = sd_event_loop(event);
        device_info_array_free(w.known, w.n_known);
        watch_jobs_free(&w);
        return r < 0 ? EXIT_FAIL : w.exit;
}

static int verb_monitor(sd_bus *bus, const Args *a, int argc, char **argv) {
        return run_watch(bus, a, false);
}

static int verb_wait(sd_bus *bus, const Args *a, int argc, char **argv) {
        static const char *const states[] = { "present", "idle", "identifying", "ready", "busy", "released",
                                              "unsupported", "error", "disconnected" };
        bool ok = false;

        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                ok |= strcmp(a->state, states[i]) == 0;
        if (!ok) {
                fprintf(stderr, "--state must be one of present, idle, identifying, ready, busy, released, "
                        "unsupported, error, disconnected.\n");
                return EXIT_USAGE;
        }
        return run_watch(bus, a, true);
}

/* ------------------------------------------------------------ main */

/* Ctrl-C outside an event loop (at a prompt, in a blocking call): the status a
 * shell reports for it.  The loops block these signals and take them from a
 * signalfd instead, to cancel a job first. */
static void on_fatal_signal(int sig) {
        _exit(128 + sig);
}

/* A verb that blocked SIGINT/SIGTERM to cancel its job and ended before its
 * loop took them (its call failed: polkit's agent was interrupted too). */
static int exit_status_pending_signal(int r) {
        sigset_t pending;

        if (sigpending(&pending) < 0)
                return r;
        if (sigismember(&pending, SIGINT))
                return 128 + SIGINT;
        if (sigismember(&pending, SIGTERM))
                return 128 + SIGTERM;
        return r;
}

/* Verbs that never need polkit: no agent is started for them. */
static bool verb_reads_only(const char *verb) {
        static const char *const readers[] = { "list", "show", "monitor", "wait", "backups", "show-backup", "inspect",
                                               "agent", "list-da", "list-preloaders" };

        for (size_t i = 0; i < ELEMENTSOF(readers); i++)
                if (strcmp(readers[i], verb) == 0)
                        return true;
        return false;
}

typedef struct Verb {
        const char *name;
        int (*run)(sd_bus *bus, const Args *a, int argc, char **argv);
} Verb;

static const Verb verbs[] = {
        { "list", verb_list },
        { "show", verb_show },
        { "monitor", verb_monitor },
        { "wait", verb_wait },
        { "backup", verb_backup },
        { "backups", verb_backups },
        { "restore", verb_restore },
        { "show-backup", verb_show_backup },
        { "verify-backup", verb_verify_backup },
        { "delete-backup", verb_delete_backup },
        { "prune", verb_prune },
        { "label", verb_label },
        { "export-backup", verb_export_backup },
        { "add-da", verb_add_da },
        { "list-da", verb_list_da },
        { "remove-da", verb_remove_da },
        { "list-preloaders", verb_list_preloaders },
        { "remove-preloader", verb_remove_preloader },
        { "add-preloader", verb_add_preloader },
        { "add-firmware", verb_add_firmware },
        { "import", verb_import },
        { "inspect", verb_inspect },
        { "agent", verb_agent },
        { "inhibit", verb_inhibit },
};

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_JSON, ARG_TIMEOUT, ARG_STATE, ARG_COUNT, ARG_WAIT, ARG_SCATTER, ARG_DEVICE,
               ARG_DRY_RUN, ARG_ALLOW_FOREIGN, ARG_YES, ARG_NO_ASK_PASSWORD, ARG_RESUME, ARG_ROLLBACK, ARG_PARTITIONS, ARG_FORMAT, ARG_PARTITION, ARG_SPFLASH,
               ARG_PORT, ARG_WHO, ARG_WHY, ARG_FORCE, ARG_COMPRESS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, ARG_JSON },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "state", required_argument, NULL, ARG_STATE },
                { "count", required_argument, NULL, ARG_COUNT },
                { "wait", no_argument, NULL, ARG_WAIT },
                { "scatter", required_argument, NULL, ARG_SCATTER },
                { "device", required_argument, NULL, ARG_DEVICE },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "allow-foreign", no_argument, NULL, ARG_ALLOW_FOREIGN },
                { "yes", no_argument, NULL, ARG_YES },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "resume", no_argument, NULL, ARG_RESUME },
                { "rollback", no_argument, NULL, ARG_ROLLBACK },
                { "partitions", required_argument, NULL, ARG_PARTITIONS },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "partition", required_argument, NULL, ARG_PARTITION },
                { "spflash", no_argument, NULL, ARG_SPFLASH },
                { "port", required_argument, NULL, ARG_PORT },
                { "who", required_argument, NULL, ARG_WHO },
                { "why", required_argument, NULL, ARG_WHY },
                { "force", no_argument, NULL, ARG_FORCE },
                { "compress", required_argument, NULL, ARG_COMPRESS },
                {}
        };
        _cleanup_(bus_unrefp) sd_bus *bus = NULL;
        Args a = { .timeout = -1, .state = "present", .count = 1 };
        struct sigaction sa = { .sa_handler = on_fatal_signal };
        PolkitAgent agent = {};
        char *end;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("mtknvctl %s\n", MTKNVD_VERSION);
                        return EXIT_OK;
                case ARG_JSON:
                        a.json = true;
                        break;
                case ARG_TIMEOUT:
                        a.timeout = strtod(optarg, &end);
                        if (*end || end == optarg || a.timeout < 0) {
                                fprintf(stderr, "--timeout wants seconds, got \"%s\".\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_STATE:
                        a.state = optarg;
                        break;
                case ARG_WAIT:
                        a.wait = true;
                        break;
                case ARG_SCATTER:
                        a.scatter = optarg;
                        break;
                case ARG_DEVICE:
                        a.device = optarg;
                        break;
                case ARG_DRY_RUN:
                        a.dry_run = true;
                        break;
                case ARG_FORCE:
                        a.force = true;
                        break;
                case ARG_COMPRESS:
                        a.compress = optarg;
                        break;
                case ARG_ALLOW_FOREIGN:
                        a.allow_foreign = true;
                        break;
                case ARG_YES:
                        a.yes = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        a.no_ask_password = true;
                        break;
                case ARG_RESUME:
                        a.resume = true;
                        break;
                case ARG_ROLLBACK:
                        a.rollback = true;
                        break;
                case ARG_PARTITIONS:
                        a.partitions = optarg;
                        break;
                case ARG_FORMAT:
                        a.format = optarg;
                        break;
                case ARG_PARTITION:
                        a.partition = optarg;
                        break;
                case ARG_SPFLASH:
                        a.spflash = true;
                        break;
                case ARG_PORT:
                        a.port = optarg;
                        break;
                case ARG_WHO:
                        a.who = optarg;
                        break;
                case ARG_WHY:
                        a.why = optarg;
                        break;
                case ARG_COUNT:
                        a.count = (unsigned) strtoul(optarg, &end, 10);
                        if (*end || end == optarg || a.count == 0) {
                                fprintf(stderr, "--count wants a positive number, got \"%s\".\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        fprintf(stderr, "See 'mtknvctl --help'.\n");
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                fprintf(stderr, "Which command? See 'mtknvctl --help'.\n");
                return EXIT_USAGE;
        }
        if (strcmp(argv[optind], "help") == 0) {
                const char *verb = optind + 1 < argc ? argv[optind + 1] : NULL;
                bool known = verb && strcmp(verb, "help") == 0;

                if (!verb) {
                        help();
                        return EXIT_OK;
                }
                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        known |= strcmp(verb, verbs[i].name) == 0;
                if (!known) {
                        fprintf(stderr, "Unknown command \"%s\"; 'mtknvctl --help' lists the commands.\n", verb);
                        return EXIT_FAIL;
                }
                if (!verb_help_print(verb))
                        printf("mtknvctl %s: see 'mtknvctl --help' (no page of its own yet).\n", verb);
                return EXIT_OK;
        }
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (strcmp(argv[optind], verbs[i].name) != 0)
                        continue;
                r = bus_open(&bus);
                if (r < 0)
                        return -r;
                /* polkit may ask for a password only where someone can type it */
                (void) sd_bus_set_allow_interactive_authorization(bus, !a.no_ask_password && isatty(STDIN_FILENO));
                /* over SSH no desktop agent answers polkit: its text agent asks here */
                if (!a.no_ask_password && !verb_reads_only(verbs[i].name))
                        (void) bus_polkit_agent_open(&agent);
                r = verbs[i].run(bus, &a, argc - optind, argv + optind);
                bus_polkit_agent_close(&agent);
                r = exit_status_pending_signal(r);
                if (r == EXIT_DENIED && agent.missing)
                        fprintf(stderr, "polkit could not ask for a password on this terminal: its text agent, "
                                "pkttyagent, is not installed (it comes with polkit). Install it, authenticate in a "
                                "desktop session, or run as root.\n");
                return r;
        }
        fprintf(stderr, "Unknown command \"%s\"; see 'mtknvctl --help'.\n", argv[optind]);
        return EXIT_USAGE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inspect and the Download Agent and preloader shelves: what the daemon
 * says about a file (Manager.Inspect's a{sv}), for people or as JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backup-files.h"
#include "backup-list.h"
#include "bus.h"
#include "inspect.h"
#include "macro.h"
#include "output.h"

#define INDENT 18

static void print_json(const Dict *d) {
        JsonWriter j = { .f = stdout };

        dict_to_json(&j, NULL, d);
        putchar('\n');
}

/* "." unless the daemon's reason is a whole sentence already */
static const char *full_stop(const char *s) {
        size_t l = strlen(s);

        return l > 0 && s[l - 1] == '.' ? "" : ".";
}

static void print_usable(const Dict *d, unsigned cols) {
        output_wrapped("Usable by mtknvd", INDENT, cols, "%s: %s%s", dict_bool(d, "usable") ? "yes" : "no",
                       dict_str(d, "usable_reason"), full_stop(dict_str(d, "usable_reason")));
}

/* The identity set of a scatter file (the partitions mtknvd backs up), then
 * the number of the others. */
static void print_scatter_partitions(const Dict *d, unsigned cols) {
        size_t n, others = 0;
        const Dict *p = dict_list(d, "partitions", &n);
        bool any = false;

        for (size_t i = 0; i < n; i++) {
                char size[32], offset[32];

                if (!dict_bool(&p[i], "identity")) {
                        others++;
                        continue;
                }
                if (!any)
                        printf("Identity set      (what mtknvd backs up)\n  %-16s %-8s %18s %12s\n", "PARTITION",
                               "REGION", "OFFSET", "SIZE");
                any = true;
                output_format_size(dict_uint(&p[i], "size"), size, sizeof(size));
                if (dict_bool(&p[i], "end_relative"))
                        snprintf(offset, sizeof(offset), "from the end");
                else
                        snprintf(offset, sizeof(offset), "0x%08" PRIx64, dict_uint(&p[i], "offset"));
                printf("  %-16.16s %-8.8s %18s %12s\n", dict_str(&p[i], "name"), dict_str(&p[i], "region"), offset,
                       size);
        }
        if (!any)
                output_wrapped("Identity set", INDENT, cols, "none of the identity partitions is in it.");
        output_wrapped("Other partitions", INDENT, cols, "%zu (not backed up).", others);
}

/* A V2.x file's table per storage type, else its only one. */
static void print_scatter_storages(const Dict *d, unsigned cols) {
        size_t n;
        const Dict *st = dict_list(d, "storages", &n);

        if (!dict_has(d, "storages")) {
                print_scatter_partitions(d, cols);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                output_wrapped("Storage", INDENT, cols, "%s: the table used on a phone with %s storage.",
                               dict_str(&st[i], "storage"), dict_str(&st[i], "storage"));
                print_scatter_partitions(&st[i], cols);
        }
}

static void print_scatter(const Dict *d, unsigned cols) {
        char chip[48] = "", storage[64] = "";
        size_t n;
        const Dict *st = dict_list(d, "storages", &n);

        if (dict_has(d, "hw_code"))
                snprintf(chip, sizeof(chip), " (hw code 0x%04" PRIx64 ")", dict_uint(d, "hw_code"));
        /* a V2.x file: the storage types it has tables for, not the one its header names */
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(storage);

                snprintf(storage + l, sizeof(storage) - l, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " or ",
                         dict_str(&st[i], "storage"));
        }
        if (!*storage)
                snprintf(storage, sizeof(storage), "%s", *dict_str(d, "storage") ? dict_str(d, "storage") : "unnamed");
        output_wrapped("Scatter file", INDENT, cols, "for %s%s, %s storage, format %s%s.",
                       *dict_str(d, "platform") ? dict_str(d, "platform") : "an unnamed platform", chip, storage,
                       dict_str(d, "config_version"), strcmp(dict_str(d, "syntax"), "xml") == 0 ? " (XML)" : "");
        print_usable(d, cols);
        print_scatter_storages(d, cols);
}

static void print_spflash_export(const Dict *d, unsigned cols) {
        output_wrapped("File", INDENT, cols, "an SP Flash Tool export made by mtknvd ('mtknvctl export-backup "
                       "--format spflash') of backup %s.", dict_str(d, "backup_id"));
        output_wrapped("Scatter file", INDENT, cols, "%s, for %s, %s storage.", dict_str(d, "scatter_file"),
                       dict_str(d, "platform"), dict_str(d, "storage"));
        output_wrapped("Use", INDENT, cols, "unpack it (tar xf) and load its scatter file in SP Flash Tool: the "
                       "backed-up partitions are marked for Download. It is not an mtknvd archive: 'mtknvctl "
                       "import --spflash' takes the unpacked images back.");
        if (!dict_has(d, "partitions")) {
                print_usable(d, cols);
                return;
        }
        print_scatter_storages(d, cols);
}

static void print_da(const Dict *d, unsigned cols) {
        size_t n;
        const Dict *e = dict_list(d, "entries", &n);
        const char *sig = dict_str(d, "signature"), *oem = dict_str(d, "oem_signature");

        output_wrapped("Download Agent", INDENT, cols, "%s (%s), format %s, %zu entr%s.",
                       *dict_str(d, "description") ? dict_str(d, "description") : "no description",
                       dict_str(d, "identifier"), dict_str(d, "format"), n, n == 1 ? "y" : "ies");
        print_usable(d, cols);
        if (strcmp(sig, "none") == 0)
                output_wrapped("Signed", INDENT, cols, "no. A phone with DA authentication (DAA) refuses it.");
        else
                output_wrapped("Signed", INDENT, cols, "%s; %s (see each entry). Whether by MediaTek or by a phone "
                               "maker (OEM) cannot be told from the file: the key is not in it.",
                               strcmp(sig, "all") == 0 ? "yes, every entry" : "some entries",
                               strcmp(oem, "all") == 0 ? "each looks OEM-signed"
                               : strcmp(oem, "some") == 0 ? "some look OEM-signed" : "none looks OEM-signed");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *chips = NULL;
                size_t n_chips, len = 0;
                const Dict *c = dict_list(&e[i], "chips", &n_chips);
                FILE *f = open_memstream(&chips, &len);
                char label[32];

                if (!f)
                        return;
                for (size_t k = 0; k < n_chips; k++)
                        fprintf(f, "%s%s (hw code 0x%04" PRIx64 ")", k ? ", " : "", dict_str(&c[k], "name"),
                                dict_uint(&c[k], "hw_code"));
                if (n_chips == 0)
                        fprintf(f, "a chip unknown to mtknvd");
                fclose(f);
                snprintf(label, sizeof(label), "Entry %zu", i + 1);
                output_wrapped(label, INDENT, cols, "%s; DA code 0x%04" PRIx64 ", hw version 0x%04" PRIx64
                               ", sw version 0x%04" PRIx64 ".", chips ?: "?", dict_uint(&e[i], "da_code"),
                               dict_uint(&e[i], "hw_version"), dict_uint(&e[i], "sw_version"));
                /* what each entry needs, whether this mtknvd has it, and what its signatures show */
                output_wrapped("  Protocol", INDENT, cols, "%s DA protocol.",
                               *dict_str(&e[i], "protocol") ? dict_str(&e[i], "protocol") : dict_str(&e[i], "da_mode"));
                output_wrapped("  Usable", INDENT, cols, "%s: %s%s", dict_bool(&e[i], "usable") ? "yes" : "no",
                               dict_str(&e[i], "usable_reason"), full_stop(dict_str(&e[i], "usable_reason")));
                output_wrapped("  OEM-signed", INDENT, cols, "%s%s", dict_str(&e[i], "oem_signature_reason"),
                               full_stop(dict_str(&e[i], "oem_signature_reason")));
        }
}

static void print_preloader(const Dict *d, unsigned cols) {
        size_t n;
        const Dict *rec = dict_list(d, "records", &n);

        output_wrapped("Preloader", INDENT, cols, "%s (%s).",
                       *dict_str(d, "file_name") ? dict_str(d, "file_name") : "no file name recorded",
                       dict_str(d, "form"));
        output_wrapped("EMI version", INDENT, cols, "v%02" PRIu64 ", the DRAM settings of %s.",
                       dict_uint(d, "emi_version"),
                       *dict_str(d, "chips") ? dict_str(d, "chips") : "chips mtknvd does not know");
        print_usable(d, cols);
        output_wrapped("Records", INDENT, cols, "%zu: the memory parts it can bring up.", n);
        for (size_t i = 0; i < n; i++)
                printf("  %2zu  %-12s %s\n", i + 1, dict_str(&rec[i], "dram"),
                       dict_uint(&rec[i], "id_length") ? dict_str(&rec[i], "memory_id") : "any memory");
}

static void print_archive(const Dict *d, unsigned cols) {
        size_t n;
        const Dict *p = dict_list(d, "partitions", &n);
        char when[32];

        if (!dict_bool(d, "valid")) {
                output_wrapped("File", INDENT, cols, "a tar archive, but not a usable mtknvd backup archive: %s.",
                               dict_str(d, "error"));
                return;
        }
        backups_format_time(dict_uint(d, "created_usec"), when, sizeof(when));
        output_wrapped("File", INDENT, cols, "an mtknvd backup archive ('mtknvctl export-backup').");
        output_wrapped("Phone", INDENT, cols, "%s, %s (hw code 0x%04" PRIx64 ").", dict_str(d, "device_key"),
                       dict_str(d, "chip"), dict_uint(d, "hw_code"));
        output_wrapped("Backup", INDENT, cols, "read %s (%s), %s, %s.", when, dict_str(d, "source"),
                       dict_bool(d, "verified") ? "verified" : "not verified",
                       dict_bool(d, "bound") ? "bound to its phone" : "not bound to any phone");
        print_usable(d, cols);
        printf("Partitions\n  %-16s %18s %12s  %s\n", "PARTITION", "OFFSET", "SIZE", "SHA-256");
        for (size_t i = 0; i < n; i++) {
                char size[32], offset[32];

                output_format_size(dict_uint(&p[i], "size"), size, sizeof(size));
                snprintf(offset, sizeof(offset), "0x%08" PRIx64, dict_uint(&p[i], "offset"));
                printf("  %-16.16s %18s %12s  %.16s…\n", dict_str(&p[i], "name"), offset, size,
                       dict_str(&p[i], "sha256"));
        }
}

void inspect_print(const Dict *d) {
        const char *kind = dict_str(d, "kind");
        unsigned cols = output_columns();

        if (strcmp(kind, "download-agent") == 0)
                print_da(d, cols);
        else if (strcmp(kind, "scatter") == 0)
                print_scatter(d, cols);
        else if (strcmp(kind, "preloader") == 0)
                print_preloader(d, cols);
        else if (strcmp(kind, "backup-archive") == 0)
                print_archive(d, cols);
        else if (strcmp(kind, "spflash-export") == 0)
                print_spflash_export(d, cols);
        else {
                /* a newer daemon's kind: what it says in general */
                output_wrapped("File", INDENT, cols, "a %s.", *kind ? kind : "file of an unknown kind");
                print_usable(d, cols);
        }
}

int verb_inspect(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        Dict d = {};
        int fd, r;

        if (argc != 2) {
                fprintf(stderr, "inspect needs a FILE: a Download Agent, a preloader, a scatter file or a backup "
                        "archive.\n");
                return EXIT_USAGE;
        }
        fd = file_open_input(argv[1]);
        if (fd < 0)
                return EXIT_FAIL;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "Inspect", &error, &reply,
                               "h", fd);
        close(fd);
        if (r >= 0)
                r = dict_read(reply, &d);
        if (r < 0)
                return bus_report_error(argv[1], r, &error);
        if (a->json)
                print_json(&d);
        else
                inspect_print(&d);
        dict_done(&d);
        return EXIT_OK;
}

int verb_add_da(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        Dict d = {};
        int fd, r;

        if (argc != 2) {
                fprintf(stderr, "add-da needs the Download Agent FILE (e.g. MTK_AllInOne_DA.bin).\n");
                return EXIT_USAGE;
        }
        fd = file_open_input(argv[1]);
        if (fd < 0)
                return EXIT_FAIL;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "AddDownloadAgent",
                               &error, &reply, "h", fd);
        close(fd);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &name);
        if (r >= 0)
                r = dict_read(reply, &d);
        if (r < 0)
                return bus_report_error("Cannot add the Download Agent", r, &error);
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_object(&j, NULL);
                json_string(&j, "name", name);
                dict_to_json(&j, "info", &d);
                json_end_object(&j);
                putchar('\n');
        } else {
                output_wrapped(NULL, 0, output_columns(), "Added %s as %s.", argv[1], name);
                inspect_print(&d);
                if (!dict_bool(&d, "usable"))
                        fprintf(stderr, "Warning: this mtknvd cannot use this Download Agent for any phone (see\n"
                                "above); it is kept for a later version.\n");
        }
        dict_done(&d);
        return EXIT_OK;
}

/* ------------------------------------------------------------ list-da, list-preloaders */

static int shelf_list(sd_bus *bus, const Args *a, const char *method, bool da) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        unsigned cols = output_columns();
        Dict *items = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, method, &error, &reply,
                               "");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        while (r >= 0 && (r = sd_bus_message_at_end(reply, false)) == 0) {
                Dict *nn = reallocarray(items, n + 1, sizeof(Dict));

                if (!nn) {
                        r = -ENOMEM;
                        break;
                }
                items = nn;
                r = dict_read(reply, &items[n]);
                if (r >= 0)
                        n++;
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        dict_done(&items[i]);
                free(items);
                return bus_report_error(da ? "Cannot list the Download Agents" : "Cannot list the preloaders", r,
                                        &error);
        }
        if (a->json) {
                JsonWriter j = { .f = stdout };

                json_begin_array(&j, NULL);
                for (size_t i = 0; i < n; i++)
                        dict_to_json(&j, NULL, &items[i]);
                json_end_array(&j);
                putchar('\n');
        } else if (n == 0)
                printf(da ? "No Download Agent: add the phone's MTK_AllInOne_DA.bin with 'mtknvctl add-da FILE'.\n"
                          : "No preloader: add the phone's preloader_<board>.bin with 'mtknvctl add-preloader "
                            "FILE'.\n");
        for (size_t i = 0; !a->json && i < n; i++) {
                char size[32], when[32] = "";
                const Dict *d = &items[i];

                output_format_size(dict_uint(d, "size"), size, sizeof(size));
                if (dict_uint(d, "added_usec"))
                        backups_format_time(dict_uint(d, "added_usec"), when, sizeof(when));
                if (i > 0)
                        putchar('\n');
                printf("%s\n", dict_str(d, "name"));
                output_wrapped("  ", 4, cols, "%s", dict_str(d, "description"));
                if (da)
                        output_wrapped("  ", 4, cols, "Chips: %s.", dict_str(d, "chips"));
                output_wrapped("  ", 4, cols, "%s, %s %s; usable by this mtknvd: %s%s.", size,
                               strcmp(dict_str(d, "source"), "configured") == 0 ? "configured (DownloadAgent=),"
                                                                                : "added",
                               when, dict_bool(d, "usable") ? "yes" : "no",
                               dict_bool(d, "in_use") ? "; in use by a running backup or restore" : "");
        }
        for (size_t i = 0; i < n; i++)
                dict_done(&items[i]);
        free(items);
        return EXIT_OK;
}

static int shelf_remove(sd_bus *bus, const Args *a, int argc, char **argv, const char *method, const char *what) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "remove-%s needs the NAME 'mtknvctl list-%s' shows.\n",
                        strcmp(what, "Download Agent") == 0 ? "da" : "preloader",
                        strcmp(what, "Download Agent") == 0 ? "da" : "preloaders");
                return EXIT_USAGE;
        }
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, method, &error, &reply,
                               "s", argv[1]);
        if (r < 0) {
                char msg[64];

                snprintf(msg, sizeof(msg), "Cannot remove the %s", what);
                return bus_report_error(msg, r, &error);
        }
        if (!a->json)
                printf("Removed the %s %s.\n", what, argv[1]);
        return EXIT_OK;
}

int verb_list_da(sd_bus *bus, const Args *a, int argc, char **argv) {
        if (argc != 1) {
                fprintf(stderr, "list-da takes no arguments.\n");
                return EXIT_USAGE;
        }
        return shelf_list(bus, a, "ListDownloadAgents", true);
}

int verb_remove_da(sd_bus *bus, const Args *a, int argc, char **argv) {
        return shelf_remove(bus, a, argc, argv, "RemoveDownloadAgent", "Download Agent");
}

int verb_list_preloaders(sd_bus *bus, const Args *a, int argc, char **argv) {
        if (argc != 1) {
                fprintf(stderr, "list-preloaders takes no arguments.\n");
                return EXIT_USAGE;
        }
        return shelf_list(bus, a, "ListPreloaders", false);
}

int verb_remove_preloader(sd_bus *bus, const Args *a, int argc, char **argv) {
        return shelf_remove(bus, a, argc, argv, "RemovePreloader", "preloader");
}

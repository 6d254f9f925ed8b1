/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-files.h"
#include "bus.h"
#include "firmware.h"
#include "macro.h"
#include "output.h"

typedef enum FirmwareKind {
        FIRMWARE_SCATTER,
        FIRMWARE_PRELOADER,
        FIRMWARE_DA,
        FIRMWARE_OTHER,
} FirmwareKind;

static bool has_suffix_ci(const char *s, const char *suffix) {
        size_t l = strlen(s), n = strlen(suffix);

        return l >= n && strcasecmp(s + l - n, suffix) == 0;
}

/* What a file of a firmware package is, by the names MediaTek's packages
 * use (da.md §6.5, brom-emi.md §1): MT6735_Android_scatter.txt,
 * preloader_<board>.bin, MTK_AllInOne_DA.bin, DA_SWSEC.bin, ...  By name
 * only: the images beside them are gigabytes and need not be read. */
static FirmwareKind firmware_classify(const char *name) {
        if (strcasestr(name, "scatter") && (has_suffix_ci(name, ".txt") || has_suffix_ci(name, ".xml")))
                return FIRMWARE_SCATTER;
        if (strncasecmp(name, "preloader", 9) == 0 && (has_suffix_ci(name, ".bin") || has_suffix_ci(name, ".img")))
                return FIRMWARE_PRELOADER;
        if (has_suffix_ci(name, ".bin") && (strncasecmp(name, "DA_", 3) == 0 || strcasestr(name, "_DA_") ||
                                            strcasestr(name, "_DA.") || strcasestr(name, "AllInOne_DA")))
                return FIRMWARE_DA;
        return FIRMWARE_OTHER;
}

/* One file to the daemon; 0 added, < 0 refused (the reason printed after
 * what).  The reply is left at its first value. */
static int firmware_call(sd_bus *bus, const char *method, const char *path, sd_bus_message **ret_reply,
                         sd_bus_error *error) {
        int fd = file_open_input(path), r;

        if (fd < 0)
                return -errno;
        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, method, error, ret_reply,
                               "h", fd);
        close(fd);
        return r;
}

int verb_add_preloader(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        const char *name = NULL, *desc = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "add-preloader needs the preloader FILE (preloader_<board>.bin from the phone's "
                        "firmware package).\n");
                return EXIT_USAGE;
        }
        r = firmware_call(bus, "AddPreloader", argv[1], &reply, &error);
        if (r >= 0)
                r = sd_bus_message_read(reply, "ss", &name, &desc);
        if (r < 0)
                return bus_report_error("Cannot add the preloader", r, &error);
        printf("Added %s as %s.\n%s\n", argv[1], name, desc);
        return EXIT_OK;
}

static int cmp_str(const void *x, const void *y) {
        return strcmp(*(char *const *) x, *(char *const *) y);
}

static const char *bus_error_text(int r, const sd_bus_error *error) {
        return sd_bus_error_is_set(error) ? (error->message ?: error->name) : strerror(-r);
}

/* One file of the folder: checked or added by the daemon, or counted as
 * other.  1 when the daemon refused it (listed, not fatal); < 0 with *fatal
 * the exit status when nothing more can be done (no daemon, no right). */
static int firmware_add_one(sd_bus *bus, const char *dir, const char *name, bool *added, unsigned *n_other,
                            int *fatal) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *x = NULL, *y = NULL;
        Dict info = {};
        FirmwareKind kind = firmware_classify(name);
        int r;

        if (kind == FIRMWARE_OTHER) {
                (*n_other)++;
                return 0;
        }
        if (asprintf(&path, "%s/%s", dir, name) < 0) {
                *fatal = EXIT_FAIL;
                return -ENOMEM;
        }
        switch (kind) {
        case FIRMWARE_SCATTER:
                /* the daemon reads the layout from the phone itself; a
                 * scatter file is for 'backup --scatter' on a PMT phone */
                r = firmware_call(bus, "Inspect", path, &reply, &error);
                if (r >= 0)
                        r = dict_read(reply, &info);
                if (r >= 0 && strcmp(dict_str(&info, "kind"), "scatter") != 0) {
                        printf("  %-34s refused: not a scatter file (it is a %s)\n", name, dict_str(&info, "kind"));
                        dict_done(&info);
                        return 1;
                }
                if (r >= 0)
                        printf("  %-34s scatter file for %s, %s (not kept: it is for 'backup --scatter' on a "
                               "phone without a GPT)\n", name, dict_str(&info, "platform"),
                               dict_bool(&info, "usable") ? "valid" : "without identity partitions");
                dict_done(&info);
                break;
        case FIRMWARE_PRELOADER:
                r = firmware_call(bus, "AddPreloader", path, &reply, &error);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "ss", &x, &y);
                if (r >= 0)
                        printf("  %-34s preloader added: %s\n", name, y);
                break;
        case FIRMWARE_DA:
                r = firmware_call(bus, "AddDownloadAgent", path, &reply, &error);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "s", &x);
                if (r >= 0)
                        r = dict_read(reply, &info);
                if (r >= 0)
                        printf("  %-34s Download Agent added as %s%s\n", name, x,
                               dict_bool(&info, "usable") ? "" : " (no entry this mtknvd can use)");
                dict_done(&info);
                break;
        case FIRMWARE_OTHER:
                return 0;
        }
        if (r < 0) {
                if (sd_bus_error_has_names(&error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                           SD_BUS_ERROR_ACCESS_DENIED,
                                           SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                        *fatal = bus_report_error("Cannot add the firmware folder", r, &error);
                        return r;
                }
                printf("  %-34s refused: %s\n", name, bus_error_text(r, &error));
                return 1;
        }
        if (kind != FIRMWARE_SCATTER)
                *added = true;
        return 0;
}

int verb_add_firmware(sd_bus *bus, const Args *a, int argc, char **argv) {
        _cleanup_free_ char **names = NULL;
        size_t n = 0, cap = 0;
        unsigned n_other = 0, refused = 0;
        bool added = false;
        int ret = EXIT_OK, r;
        DIR *d;

        if (argc != 2) {
                fprintf(stderr, "add-firmware needs the phone's firmware folder (the one with its "
                        "*_Android_scatter.txt, preloader_<board>.bin and MTK_AllInOne_DA.bin).\n");
                return EXIT_USAGE;
        }
        d = opendir(argv[1]);
        if (!d) {
                fprintf(stderr, "Cannot open the folder %s: %s\n", argv[1], strerror(errno));
                return EXIT_FAIL;
        }
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;

                if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (n == cap) {
                        char **nn = reallocarray(names, cap = cap ? 2 * cap : 16, sizeof(char *));

                        if (!nn)
                                break;
                        names = nn;
                }
                names[n] = strdup(de->d_name);
                if (names[n])
                        n++;
        }
        if (n > 0)
                qsort(names, n, sizeof(char *), cmp_str);
        printf("Firmware folder %s:\n", argv[1]);
        for (size_t i = 0; i < n; i++) {
                if (ret == EXIT_OK) {
                        r = firmware_add_one(bus, argv[1], names[i], &added, &n_other, &ret);
                        refused += r > 0;
                }
                free(names[i]);
        }
        closedir(d);
        if (ret != EXIT_OK)
                return ret;
        if (n_other > 0)
                printf("  (%u other file%s: not used by mtknvd)\n", n_other, n_other == 1 ? "" : "s");
        if (!added) {
                fprintf(stderr, "Nothing was added: the folder has no usable preloader_*.bin or Download Agent "
                        "(*_DA*.bin).\n");
                return EXIT_FAIL;
        }
        return refused > 0 ? EXIT_FAIL : EXIT_OK;
}

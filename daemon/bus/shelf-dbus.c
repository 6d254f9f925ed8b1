/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus-polkit.h"
#include "da-store.h"
#include "file-shelf.h"
#include "inspect-dbus.h"
#include "log.h"
#include "manager.h"
#include "mtknv-bus.h"
#include "preloader-store.h"
#include "shelf-dbus.h"

typedef struct ShelfKind {
        const char *shelf;        /* STATE/<shelf>/ */
        const char *what;         /* "Download Agent", for messages */
        const char *list_verb;    /* "list-da" */
        size_t max;
        /* description s, chips s, usable b (and what else the kind has) of a file's bytes */
        int (*describe)(sd_bus_message *reply, const uint8_t *data, size_t size);
        /* -EBUSY, -ENOENT, -EINVAL */
        int (*remove)(Manager *m, const char *name);
} ShelfKind;

static int describe_da(sd_bus_message *reply, const uint8_t *data, size_t size) {
        _cleanup_(da_file_freep) DaFile *f = NULL;
        _cleanup_free_ char *err = NULL, *chips = NULL;
        int r;

        if (da_file_parse(data, size, &f, &err) < 0)
                return sd_bus_message_append(reply, "{sv}{sv}", "description", "s", err ?: "it does not parse",
                                             "usable", "b", 0);
        r = inspect_da_chips(f, &chips);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "{sv}{sv}{sv}", "description", "s",
                                     f->description[0] ? f->description : f->identifier, "chips", "s", chips,
                                     "usable", "b", (int) inspect_da_usable(f));
}

static int describe_preloader(sd_bus_message *reply, const uint8_t *data, size_t size) {
        _cleanup_free_ EmiBlock *emi = malloc(sizeof(EmiBlock));
        _cleanup_free_ char *desc = NULL;
        char err[256] = "";
        int r;

        if (!emi)
                return -ENOMEM;
        if (preloader_parse_emi(data, size, emi, err, sizeof(err)) < 0)
                return sd_bus_message_append(reply, "{sv}{sv}", "description", "s", err, "usable", "b", 0);
        r = preloader_describe(emi, emi->file_name[0] ? emi->file_name : "preloader", &desc);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}", "description", "s", desc, "chips", "s",
                                     emi_version_chips(emi->version) ?: "", "emi_version", "u", emi->version,
                                     "usable", "b", (int) inspect_preloader_usable(emi->version));
}

static int remove_da(Manager *m, const char *name) {
        return da_store_remove(&m->ops.da_sources, name);
}

static int remove_preloader(Manager *m, const char *name) {
        return preloader_store_remove(m->state_dir, name);
}

static const ShelfKind shelf_da = {
        .shelf = DA_STORE_SHELF,
        .what = "Download Agent",
        .list_verb = "list-da",
        .max = DA_FILE_MAX,
        .describe = describe_da,
        .remove = remove_da,
};

static const ShelfKind shelf_preloader = {
        .shelf = PRELOADER_STORE_SHELF,
        .what = "preloader",
        .list_verb = "list-preloaders",
        .max = PRELOADER_FILE_MAX,
        .describe = describe_preloader,
        .remove = remove_preloader,
};

/* One a{sv}: name s, source s, size t, added_usec t, in_use b and the kind's own keys. */
static int shelf_append_item(sd_bus_message *reply, const ShelfKind *k, const FileShelfHolds *holds,
                             const char *path, const char *name, const char *source) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t size = 0;
        struct stat st;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "name", "s", name, "source", "s", source, "in_use", "b",
                                  (int) file_shelf_is_held(holds, path));
        if (r >= 0 && stat(path, &st) >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}", "size", "t", (uint64_t) st.st_size, "added_usec", "t",
                                          (uint64_t) st.st_mtim.tv_sec * 1000000u +
                                                  (uint64_t) st.st_mtim.tv_nsec / 1000u);
        if (r >= 0) {
                int q = file_shelf_read(path, k->max, &data, &size);

                if (q < 0) {
                        _cleanup_free_ char *why = NULL;

                        if (asprintf(&why, "cannot be read: %s", strerror(-q)) < 0)
                                return -ENOMEM;
                        r = sd_bus_message_append(reply, "{sv}{sv}", "description", "s", why, "usable", "b", 0);
                } else
                        r = k->describe(reply, data, size);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int shelf_list(sd_bus_message *msg, Manager *m, const ShelfKind *k, char *const *configured,
                      size_t n_configured, const FileShelfHolds *holds, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char **paths = NULL;
        size_t n = 0;
        int r;

        r = file_shelf_list(m->state_dir, k->shelf, &paths, &n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot list %s/%s: %s", m->state_dir, k->shelf,
                                               strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        /* the administrator's own files (DownloadAgent=) come first, as they are tried first */
        for (size_t i = 0; r >= 0 && i < n_configured; i++)
                r = shelf_append_item(reply, k, holds, configured[i], configured[i], "configured");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *base = strrchr(paths[i], '/');

                r = shelf_append_item(reply, k, holds, paths[i], base ? base + 1 : paths[i], "added");
        }
        file_shelf_list_free(paths, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int shelf_remove(sd_bus_message *msg, Manager *m, const ShelfKind *k, const char *polkit_what,
                        sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "manage", polkit_what, m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        r = k->remove(m, name);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                         "The %s %s is in use by a running backup or restore. Remove it once that "
                                         "has ended.", k->what, name);
        if (r == -EINVAL || r == -ENOENT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FILE_NOT_FOUND,
                                         "No %s named \"%s\" was added; 'mtknvctl %s' shows the names (a file "
                                         "named by DownloadAgent= in mtknvd.conf is removed there).", k->what, name,
                                         k->list_verb);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot remove the %s %s: %s", k->what, name, strerror(-r));
        log_info("Removed the %s %s/%s/%s.", k->what, m->state_dir, k->shelf, name);
        return sd_bus_reply_method_return(msg, "");
}

int shelf_dbus_list_download_agents(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return shelf_list(msg, m, &shelf_da, m->ops.da_sources.configured, m->ops.da_sources.n_configured,
                          m->da_holds, error);
}

int shelf_dbus_remove_download_agent(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return shelf_remove(msg, userdata, &shelf_da, "remove a Download Agent", error);
}

int shelf_dbus_list_preloaders(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return shelf_list(msg, userdata, &shelf_preloader, NULL, 0, NULL, error);
}

int shelf_dbus_remove_preloader(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return shelf_remove(msg, userdata, &shelf_preloader, "remove a preloader", error);
}

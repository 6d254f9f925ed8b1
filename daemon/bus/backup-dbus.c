/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stored backups as D-Bus objects: /org/mtknvd/MtkNv1/backup/<device-key>/<id>
 * ('-' in the id becomes '_' in the path).
 */
#include <stdio.h>
#include <stdlib.h>

#include "backup-store.h"
#include "bus-polkit.h"
#include "bus-util.h"
#include "identifier-reveal.h"
#include "log.h"
#include "backup-dbus.h"
#include "manager.h"
#include "mtknv-bus.h"
#include "storage.h"
#include "verify-job.h"

#include "labels.h"

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Backup *bk = userdata;
        BackupInfo *b = &bk->info;
        const Manifest *mf = b->manifest;
        _cleanup_free_ char *id = NULL;
        char fp[IDENTIFIER_FINGERPRINT_LEN];
        const char *v = "";

        if (streq(property, "Id")) {
                if (asprintf(&id, "%s/%s", b->device_key, b->backup_id) < 0)
                        return -ENOMEM;
                v = id;
        } else if (streq(property, "Source"))
                v = mf->source;
        else if (streq(property, "Chip"))
                v = mf->chip;
        else if (streq(property, "MeId") || streq(property, "SocId") || streq(property, "EmmcCid") ||
                 streq(property, "StorageId"))
                v = identifier_reveal(bus_reply_reveals_identifiers(bus, reply, &bk->manager->reveal_cache),
                                      streq(property, "MeId") ? mf->me_id :
                                      streq(property, "SocId") ? mf->soc_id :
                                      streq(property, "EmmcCid") ? mf->emmc_cid : mf->storage_id, fp);
        else if (streq(property, "StorageType"))
                v = storage_type_to_string(mf->storage_type) ?: "";
        else if (streq(property, "TableSource"))
                v = mf->table_source;
        else if (streq(property, "VerifyMethod"))
                v = mf->verify_method;
        else if (streq(property, "Binding"))
                v = backup_binding_to_string(b->binding);
        else if (streq(property, "Label"))
                v = backup_store_label(bk->manager->store, b->device_key, b->backup_id);
        else if (streq(property, "DeviceLabel"))
                v = backup_store_label(bk->manager->store, b->device_key, NULL);
        return sd_bus_message_append(reply, "s", v);
}

static int property_get_created(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BackupInfo *b = &((Backup *) userdata)->info;

        return sd_bus_message_append(reply, "t", streq(property, "Imported") ? b->manifest->imported_usec
                                                                             : b->manifest->created_usec);
}

static int property_get_hw_code(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BackupInfo *b = &((Backup *) userdata)->info;

        return sd_bus_message_append(reply, "q", b->manifest->hw_code);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BackupInfo *b = &((Backup *) userdata)->info;

        return sd_bus_message_append(reply, "b", streq(property, "Bound") ? backup_info_is_bound(b)
                                                                          : b->manifest->verified);
}

static int property_get_size(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BackupInfo *b = &((Backup *) userdata)->info;
        uint64_t total = 0;

        for (size_t i = 0; i < b->manifest->n_parts; i++)
                total += b->manifest->parts[i].size;
        return sd_bus_message_append(reply, "t", total);
}

static int property_get_partitions(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Backup *bk = userdata;
        BackupInfo *b = &bk->info;
        /* the hashes too: with them, a manifest for this phone's images could be written by hand */
        bool full = bus_reply_reveals_identifiers(bus, reply, &bk->manager->reveal_cache);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssttss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->manifest->n_parts; i++) {
                const ManifestPartition *p = &b->manifest->parts[i];
                char hex[65], fp[IDENTIFIER_FINGERPRINT_LEN];

                for (unsigned k = 0; k < 32; k++)
                        sprintf(hex + 2 * k, "%02x", p->sha256[k]);
                r = sd_bus_message_append(reply, "(ssttss)", p->name, storage_region_to_string(p->region) ?: "",
                                          p->offset, p->size,
                                          identifier_reveal(full, hex, fp), p->file);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int method_verify(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Backup *bk = userdata;
        Manager *m = bk->manager;
        BusCall *call;
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "verify", "verify a backup", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        /* a flood of calls (no-reply-expected ones sidestep the bus's limit on
         * pending replies) is refused here, not queued */
        r = bus_call_new(m->calls, msg, &call, error);
        if (r < 0)
                return r;
        r = verify_job_join(m, bk, call, error);
        if (r < 0) {
                bus_call_free(call);
                return r;
        }
        return 1; /* answered when the job ends */
}

/* The full identifiers and hashes for a caller polkit allows (properties show root only). */
static int method_get_identifiers(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Backup *bk = userdata;
        const Manifest *mf = bk->info.manifest;
        int r;

        r = bus_verify_polkit_async(msg, IDENTIFIER_POLKIT_ACTION, "read a backup's identifiers",
                                    bk->manager->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}", "MeId", "s", mf->me_id, "SocId", "s",
                                          mf->soc_id, "EmmcCid", "s", mf->emmc_cid, "StorageId", "s", mf->storage_id);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Sha256");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "a{ss}");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && i < mf->n_parts; i++) {
                char hex[65];

                for (unsigned k = 0; k < 32; k++)
                        sprintf(hex + 2 * k, "%02x", mf->parts[i].sha256[k]);
                r = sd_bus_message_append(reply, "{ss}", mf->parts[i].name, hex);
        }
        for (unsigned k = 0; r >= 0 && k < 4; k++) /* a{ss}, v, e, a{sv} */
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Backup *bk = userdata;
        Manager *m = bk->manager;
        int force = false, r;
        const BusOption options[] = {
                { "force", "b", &force },
                {}
        };

        r = bus_message_read_options(msg, options, error);
        if (r < 0)
                return r;
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "manage", "delete a backup", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        r = manager_delete_backup(m, bk, force, error); /* frees bk on success */
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

const sd_bus_vtable backup_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceKey", "s", NULL, offsetof(Backup, info.device_key), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "t", property_get_created, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Imported", "t", property_get_created, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Label", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DeviceLabel", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Source", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Chip", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("HwCode", "q", property_get_hw_code, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MeId", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SocId", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("EmmcCid", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StorageType", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StorageId", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TableSource", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Verified", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Bound", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Binding", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VerifyMethod", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Size", "t", property_get_size, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Partitions", "a(ssttss)", property_get_partitions, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_NAMES("Verify", "", "", "bs", SD_BUS_PARAM(ok) SD_BUS_PARAM(message), method_verify,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetIdentifiers", "", "", "a{sv}", SD_BUS_PARAM(identifiers),
                                 method_get_identifiers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Delete", "a{sv}", SD_BUS_PARAM(options), "", , method_delete,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int backup_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        Backup *b = manager_find_backup_by_path(userdata, path);

        if (!b)
                return 0;
        *found = b;
        return 1;
}

static const char *backup_path_of(const void *o) {
        return ((const Backup *) o)->object_path;
}

int backup_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;

        return bus_node_list((void *const *) m->backups, m->n_backups, backup_path_of, nodes);
}

/* ------------------------------------------------------------ Manager methods on the store */

static bool manager_knows_phone(Manager *m, const char *key) {
        for (size_t i = 0; i < m->n_backups; i++)
                if (streq(m->backups[i]->info.device_key, key))
                        return true;
        for (size_t i = 0; i < m->n_devices; i++) {
                _cleanup_free_ char *id = NULL;

                if (m->devices[i]->identified &&
                    device_make_id(&m->devices[i]->identity, m->devices[i]->usb_path, &id) >= 0 && streq(id, key))
                        return true;
        }
        return false;
}

/* Label, DeviceLabel: what changed, on every object that shows it. */
static void manager_label_changed(Manager *m, const char *key, const char *backup_id) {
        for (size_t i = 0; i < m->n_backups; i++) {
                Backup *b = m->backups[i];

                if (!streq(b->info.device_key, key) || (backup_id && !streq(b->info.backup_id, backup_id)))
                        continue;
                (void) sd_bus_emit_properties_changed(m->bus, b->object_path, MTKNV_BACKUP_IFACE,
                                                      backup_id ? "Label" : "DeviceLabel", NULL);
        }
        for (size_t i = 0; !backup_id && i < m->n_devices; i++) {
                _cleanup_free_ char *id = NULL;
                Device *d = m->devices[i];

                if (d->identified && device_make_id(&d->identity, d->usb_path, &id) >= 0 && streq(id, key))
                        device_notify(d, "Label", NULL);
        }
}

/* Manager.SetLabel(s target, s label): target is a phone's key
 * ("mt6735_…", as Backup.DeviceKey and Device object names give it) or a
 * backup's id ("KEY/ID"); an empty label clears. */
int backup_dbus_method_set_label(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *key = NULL, *err = NULL;
        const char *target, *label, *id = NULL;
        char *slash;
        int r;

        r = sd_bus_message_read(msg, "ss", &target, &label);
        if (r < 0)
                return r;
        key = strdup(target);
        if (!key)
                return -ENOMEM;
        slash = strchr(key, '/');
        if (slash) {
                *slash = 0;
                id = slash + 1;
        }
        if (!manifest_safe_name(key) || (id && !manifest_safe_name(id)))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "\"%s\" names neither a phone (its key, as 'mtknvctl backups' shows it) "
                                         "nor a backup (KEY/ID).", target);
        r = label_check(label, &err);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Cannot use this label: %s.", err);
        if (id) {
                bool found = false;

                for (size_t i = 0; i < m->n_backups && !found; i++)
                        found = streq(m->backups[i]->info.device_key, key) && streq(m->backups[i]->info.backup_id, id);
                if (!found)
                        return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_BACKUP,
                                                 "No backup %s ('mtknvctl backups' lists them).", target);
        } else if (!manager_knows_phone(m, key))
                return sd_bus_error_setf(error, MTKNV_ERROR_NO_SUCH_DEVICE,
                                         "No phone %s: none with this key is plugged in or has a backup "
                                         "('mtknvctl list' and 'mtknvctl backups' show the keys).", key);
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_PREFIX "manage", "label a phone or a backup", m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        r = backup_store_set_label(m->store, key, id, label, &err);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Cannot use this label: %s.",
                                         err ?: "invalid");
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot store the label in %s/labels: %s. Check the disk.",
                                               m->state_dir, strerror(-r));
        log_info("%s %s %s%s%s.", label[0] ? "Labelled" : "Cleared the label of", id ? "backup" : "phone", target,
                 label[0] ? " as " : "", label);
        manager_label_changed(m, key, id);
        return sd_bus_reply_method_return(msg, NULL);
}

/* Manager.GetStoreUsage() -> a{sv}: what the store takes on disk and what
 * sharing identical images saves. */
int backup_dbus_method_get_store_usage(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        BackupStoreUsage u;
        int r;

        r = backup_store_usage(m->store, &u);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot measure %s: %s", backup_store_path(m->store),
                                               strerror(-r));
        return sd_bus_reply_method_return(msg, "a{sv}", 5, "DiskSize", "t", u.disk_bytes, "Size", "t",
                                          u.apparent_bytes, "SavedSize", "t", u.saved_bytes, "Backups", "t",
                                          u.n_backups, "Path", "s", backup_store_path(m->store));
}

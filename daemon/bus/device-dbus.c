/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "bus-polkit.h"
#include "device-dbus.h"
#include "manager.h"
#include "identifier-reveal.h"
#include "job.h"
#include "bus-util.h"
#include "log.h"
#include "mtknv-bus.h"
#include "restore-journal.h"

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;

        return sd_bus_message_append(reply, "s", device_state_to_string(d->state));
}

static int property_get_mode(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;

        return sd_bus_message_append(reply, "s", d->brom_mode ? "brom" : "preloader");
}

/* an array, not the char * sd-bus's own getter reads */
static int property_get_usb_path(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;

        return sd_bus_message_append(reply, "s", d->usb_path);
}

static int property_get_chip(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;

        return sd_bus_message_append(reply, "s", d->identified && d->identity.chip ? d->identity.chip->name : "");
}

/* MeId, SocId: in full or as a fingerprint, depending on who asks */
static int property_get_identifier(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        char hex[2 * BROM_ID_MAX_LEN + 1], fp[IDENTIFIER_FINGERPRINT_LEN];

        if (streq(property, "MeId"))
                brom_hex(d->identity.me_id, d->identified ? d->identity.me_id_len : 0, hex);
        else
                brom_hex(d->identity.soc_id, d->identified ? d->identity.soc_id_len : 0, hex);
        return sd_bus_message_append(reply, "s",
                                     identifier_reveal(bus_reply_reveals_identifiers(bus, reply,
                                                                                     &((Manager *) d->env->userdata)->reveal_cache),
                                                       hex, fp));
}

static int property_get_job(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        Job *j = d->job;

        return sd_bus_message_append(reply, "o", j ? j->object_path : "/");
}

/* SBC, SLA, DAA: bits of the target configuration */
static int property_get_security_flag(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        uint32_t cfg = d->identity.target_config, bit = 0;

        if (streq(property, "SBC"))
                bit = BROM_TGT_CFG_SBC;
        else if (streq(property, "SLA"))
                bit = BROM_TGT_CFG_SLA;
        else if (streq(property, "DAA"))
                bit = BROM_TGT_CFG_DAA;
        return sd_bus_message_append(reply, "b", !!(cfg & bit));
}

/* ("KEY/ID" being written, "KEY/ID" of the snapshot, "restore"|"rollback"),
 * all empty when the phone has no interrupted restore. */
static int property_get_interrupted_restore(sd_bus *bus, const char *path, const char *interface,
                                            const char *property, sd_bus_message *reply, void *userdata,
                                            sd_bus_error *error) {
        Device *d = userdata;
        _cleanup_free_ char *key = NULL, *backup = NULL, *snapshot = NULL;
        RestoreJournal j;

        if (!d->identified || device_make_id(&d->identity, d->usb_path, &key) < 0 ||
            restore_journal_load(((Manager *) d->env->userdata)->state_dir, key, &j) < 0)
                return sd_bus_message_append(reply, "(sss)", "", "", "");
        if (asprintf(&backup, "%s/%s", j.backup_key, j.backup_id) < 0 ||
            asprintf(&snapshot, "%s/%s", j.snapshot_key, j.snapshot_id) < 0)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(sss)", backup, snapshot, j.rolling_back ? "rollback" : "restore");
}

/* The phone's label (Manager.SetLabel), keyed by its identity: "" until it is identified. */
static int property_get_label(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        _cleanup_free_ char *key = NULL;

        if (!d->identified || device_make_id(&d->identity, d->usb_path, &key) < 0)
                return sd_bus_message_append(reply, "s", "");
        return sd_bus_message_append(reply, "s", backup_store_label(((Manager *) d->env->userdata)->store, key, NULL));
}

/* The full identifiers for a caller polkit allows (properties show root only). */
static int method_get_identifiers(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Device *d = userdata;
        char me_id[2 * BROM_ID_MAX_LEN + 1], soc_id[2 * BROM_ID_MAX_LEN + 1];
        int r;

        r = bus_verify_polkit_async(msg, IDENTIFIER_POLKIT_ACTION, "read a phone's identifiers", ((Manager *) d->env->userdata)->polkit,
                                    error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit will answer, the call comes back */
        brom_hex(d->identity.me_id, d->identified ? d->identity.me_id_len : 0, me_id);
        brom_hex(d->identity.soc_id, d->identified ? d->identity.soc_id_len : 0, soc_id);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "a{sv}", 2, "MeId", "s", me_id, "SocId", "s", soc_id);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StateReason", "s", NULL, offsetof(Device, state_reason), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Error", "s", NULL, offsetof(Device, error), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ErrorName", "s", NULL, offsetof(Device, error_name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Warning", "s", NULL, offsetof(Device, warning), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Mode", "s", property_get_mode, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UsbPath", "s", property_get_usb_path, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UsbVendorId", "q", NULL, offsetof(Device, vid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UsbProductId", "q", NULL, offsetof(Device, pid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Chip", "s", property_get_chip, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HwCode", "q", NULL, offsetof(Device, identity.hw_code), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HwSubCode", "q", NULL, offsetof(Device, identity.hw_sub_code),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HwVersion", "q", NULL, offsetof(Device, identity.hw_version),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SwVersion", "q", NULL, offsetof(Device, identity.sw_version),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BromVersion", "y", NULL, offsetof(Device, identity.brom_version),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BootloaderVersion", "y", NULL, offsetof(Device, identity.bl_version),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TargetConfig", "u", NULL, offsetof(Device, identity.target_config),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SBC", "b", property_get_security_flag, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SLA", "b", property_get_security_flag, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DAA", "b", property_get_security_flag, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* per caller (identifier-reveal.h): a change is announced, the value asked for */
        SD_BUS_PROPERTY("MeId", "s", property_get_identifier, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("SocId", "s", property_get_identifier, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("Label", "s", property_get_label, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Present", "b", bus_property_get_bool, offsetof(Device, present),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Job", "o", property_get_job, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InterruptedRestore", "(sss)", property_get_interrupted_restore, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("GetIdentifiers", "", "", "a{sv}", SD_BUS_PARAM(identifiers),
                                 method_get_identifiers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        Device *d = manager_find_device_by_path(userdata, path);

        if (!d)
                return 0;
        *found = d;
        return 1;
}

static const char *device_path_of(const void *o) {
        return ((const Device *) o)->object_path;
}

int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;

        return bus_node_list((void *const *) m->devices, m->n_devices, device_path_of, nodes);
}

void device_dbus_emit_changed(sd_bus *bus, Device *d, const char *const *names) {
        Manager *m = d->env->userdata;
        int r;

        if (!bus || !manager_find_device_by_path(m, d->object_path))
                return;
        r = sd_bus_emit_properties_changed_strv(bus, d->object_path, MTKNV_DEVICE_IFACE, (char **) names);
        if (r < 0)
                log_debug_errno(r, "Failed to emit PropertiesChanged for %s: %m", d->object_path);
}

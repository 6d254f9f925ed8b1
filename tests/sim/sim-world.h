/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated world: one umockdev testbed, its USB bus 1 with phones on
 * ports 1-1, 1-2, …, the command under test, and the control channel.
 */
#pragma once

#include <glib.h>
#include <umockdev.h>

#include "sim-phone.h"
#include "sim-usb.h"

typedef struct SimSlot {
        char *id;
        SimDevice *device;
} SimSlot;

typedef struct SimWorld {
        UMockdevTestbed *tb;
        char *root;
        GPtrArray *slots;            /* SimSlot* */
        unsigned next_devnum, next_port;
        bool verbose;
        bool listening;              /* the command has a uevent socket */
        bool plugged_initial;
        GMainLoop *loop;
        GPid child;
        int exit_status;
        int control_fd;
        char *control_path;
} SimWorld;

/* "chip=mt6753,mode=brom,..." → a phone, plugged or not. */
SimSlot *sim_world_add_phone(SimWorld *w, const char *spec, GError **error);
SimSlot *sim_world_find(SimWorld *w, const char *id);
gboolean sim_world_plug(SimWorld *w, SimSlot *s, GError **error);
void sim_world_unplug(SimWorld *w, SimSlot *s);
int sim_phone_config_set(SimPhoneConfig *cfg, const char *key, const char *value, GError **error);

/* sim-control.c */
gboolean sim_control_start(SimWorld *w, const char *path, GError **error);
void sim_control_stop(SimWorld *w);

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

typedef struct SimWorld SimWorld;

typedef struct SimSlot {
        char *id;
        SimDevice *device;
        SimWorld *world;
        guint life_timer;            /* off the bus: the next step of its life */
} SimSlot;

struct SimWorld {
        UMockdevTestbed *tb;
        char *root;
        GPtrArray *slots;            /* SimSlot* */
        GHashTable *hubs;            /* name -> SimUsbHub* (key hub=) */
        unsigned next_devnum, next_port;
        bool verbose;
        bool listening;              /* the command has a uevent socket */
        bool plugged_initial;
        GMainLoop *loop;
        GPid child;
        int exit_status;
        int control_fd;
        char *control_path;
        GList *waiters;              /* sim-control.c: `wait` commands not answered yet */
        bool notifying;
};

/* "chip=mt6753,mode=brom,..." → a phone, plugged or not. */
SimSlot *sim_world_add_phone(SimWorld *w, const char *spec, GError **error);
SimSlot *sim_world_find(SimWorld *w, const char *id);
int sim_phone_config_set(SimPhoneConfig *cfg, const char *key, const char *value, GError **error);

/* sim-life.c: a human plugs the phone in (powered off) / pulls the cable
 * (for good); in between the phone resets, boots and comes back by itself. */
gboolean sim_world_plug(SimWorld *w, SimSlot *s, GError **error);
void sim_world_unplug(SimWorld *w, SimSlot *s);
void sim_life_watch(SimWorld *w, SimSlot *s);
void sim_life_cancel(SimSlot *s);

/* sim-control.c */
gboolean sim_control_start(SimWorld *w, const char *path, GError **error);
void sim_control_stop(SimWorld *w);
/* Something changed in a phone's life: answer the `wait`s that hold now. */
void sim_control_notify(SimWorld *w);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A phone's life on and off the bus (tests/sim/README.md "A phone's
 * life"): a human plugs it in or pulls the cable; in between it resets,
 * boots its OS, restarts and enumerates again by itself, each time with a
 * new device number on the same port.  The phone (sim-phone.c) decides
 * what comes next; this file keeps the time and the bus.
 */
#include "sim-world.h"

static void life_step(SimSlot *s);

static gboolean on_life_timer(gpointer userdata) {
        SimSlot *s = userdata;

        s->life_timer = 0;
        life_step(s);
        return G_SOURCE_REMOVE;
}

/* The phone is off the bus: ask it what next, and do it. */
static void life_step(SimSlot *s) {
        SimWorld *w = s->world;
        g_autoptr(GError) error = NULL;
        unsigned ms = 0;
        SimOffbus next;

        next = sim_phone_offbus_step(sim_device_lock(s->device), &ms);
        sim_device_unlock(s->device);
        switch (next) {
        case SIM_OFFBUS_STAY:
                break;
        case SIM_OFFBUS_WAIT:
                s->life_timer = g_timeout_add(ms, on_life_timer, s);
                break;
        case SIM_OFFBUS_ENUMERATE:
                if (w->verbose)
                        g_printerr("mtksim: %s enumerates again on %s\n", s->id, sim_device_port(s->device));
                if (!sim_device_plug(s->device, ++w->next_devnum, &error))
                        g_printerr("mtksim: %s cannot enumerate again: %s\n", s->id, error->message);
                break;
        }
        sim_control_notify(w);
}

static void on_gone(SimDevice *d, void *userdata) {
        SimSlot *s = userdata;

        if (s->world->verbose)
                g_printerr("mtksim: %s left the bus\n", s->id);
        life_step(s);
}

static void on_event(SimDevice *d, void *userdata) {
        SimSlot *s = userdata;

        sim_control_notify(s->world);
}

void sim_life_watch(SimWorld *w, SimSlot *s) {
        sim_device_set_gone_callback(s->device, on_gone, s);
        sim_device_set_event_callback(s->device, on_event, s);
}

void sim_life_cancel(SimSlot *s) {
        if (s->life_timer)
                g_source_remove(s->life_timer);
        s->life_timer = 0;
}

gboolean sim_world_plug(SimWorld *w, SimSlot *s, GError **error) {
        gboolean ok;

        if (sim_device_is_plugged(s->device))
                return TRUE;
        /* plugged in by a human, powered off: whatever its life was doing
         * off the bus (resetting, booted) starts over */
        sim_life_cancel(s);
        sim_phone_attach(sim_device_lock(s->device));
        sim_device_unlock(s->device);
        if (w->verbose)
                g_printerr("mtksim: plugging %s into %s\n", s->id, sim_device_port(s->device));
        ok = sim_device_plug(s->device, ++w->next_devnum, error);
        sim_control_notify(w);
        return ok;
}

void sim_world_unplug(SimWorld *w, SimSlot *s) {
        sim_life_cancel(s);
        if (sim_device_is_plugged(s->device)) {
                if (w->verbose)
                        g_printerr("mtksim: unplugging %s\n", s->id);
                sim_device_unplug(s->device);
        }
        sim_phone_detach(sim_device_lock(s->device));
        sim_device_unlock(s->device);
        sim_control_notify(w);
}

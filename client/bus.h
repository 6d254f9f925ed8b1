/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What mtknvctl asks the daemon, and the answers as plain structs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "mtknv-bus.h"

typedef struct DeviceInfo {
        char *path, *id;
        char *state, *state_reason, *error, *error_name, *warning, *mode, *usb_path, *chip, *me_id, *soc_id;
        char *interrupted_backup, *interrupted_snapshot, *interrupted_phase;  /* InterruptedRestore */
        uint16_t vid, pid, hw_code, hw_sub_code, hw_version, sw_version;
        uint8_t bl_version, brom_version;
        uint32_t target_config;
        bool sbc, sla, daa, present;
} DeviceInfo;

/* One held Manager.Inhibitors entry. */
typedef struct InhibitorEntry {
        char *who, *why, *port;  /* port "" = every port */
        uint32_t uid;
} InhibitorEntry;

/* Exit codes, documented in --help */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,
        EXIT_USAGE = 2,
        EXIT_NO_DAEMON = 3,
        EXIT_NO_DEVICE = 4,
        EXIT_TIMEOUT = 5,
        EXIT_DENIED = 6,
};

int bus_open(sd_bus **ret);
/* Explains a failed call; returns the exit code that fits it. */
int bus_report_error(const char *what, int r, const sd_bus_error *error);

int device_info_read(sd_bus_message *m, DeviceInfo *d);  /* from an a{sv} */
void device_info_done(DeviceInfo *d);
void device_info_array_free(DeviceInfo *a, size_t n);
int bus_list_devices(sd_bus *bus, DeviceInfo **ret, size_t *ret_n, sd_bus_error *error);
/* DEVICE as the user typed it: object path, id, unique id prefix or USB path. */
int bus_find_device(DeviceInfo *a, size_t n, const char *arg, DeviceInfo **ret);

/* Calls handler when org.mtknvd.MtkNv1 loses its owner (the daemon exited or
 * was stopped) -- and for no other name leaving the bus. */
int bus_match_daemon_gone(sd_bus *bus, sd_bus_message_handler_t handler, void *userdata);

/* Manager.Inhibitors; an empty list from a daemon without the property. */
int bus_list_inhibitors(sd_bus *bus, InhibitorEntry **ret, size_t *ret_n, sd_bus_error *error);
void inhibitor_entry_array_free(InhibitorEntry *a, size_t n);
/* The inhibitor keeps mtknvd away from a phone at usb_path (same rule as the
 * daemon's: every port, that port, or the port of the hub it is behind). */
bool inhibitor_entry_covers(const InhibitorEntry *e, const char *usb_path);

/* polkit's text agent (pkttyagent) on this terminal, as systemctl starts it:
 * so that a user logged in over SSH, with no desktop agent, can type the
 * password polkit asks for.  Started only for a user who is not root, when
 * standard input is a terminal; the caller's calls then allow interactive
 * authorization (sd_bus_set_allow_interactive_authorization()). */
typedef struct PolkitAgent {
        pid_t pid;        /* 0: none running */
        bool missing;     /* wanted, but pkttyagent is not on PATH */
} PolkitAgent;

/* Starts the agent and waits until it is registered with polkit (it closes
 * the descriptor passed with --notify-fd). */
int bus_polkit_agent_open(PolkitAgent *a);
/* Stops the agent (SIGTERM) and reaps it. */
void bus_polkit_agent_close(PolkitAgent *a);

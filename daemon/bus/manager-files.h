/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Manager's methods that read or write a file the caller handed over
 * (Inspect, AddDownloadAgent, AddPreloader, Backup with a scatter file, ExportBackup,
 * ImportBackup), past their argument checks and the polkit check.  Each
 * reads the caller's descriptors with fd-io.h, parses and stores in bounded
 * steps, and answers the call when done (bus-call.h: within
 * FileTimeoutSec=, or never if the caller left).  On success they take the
 * call; on failure error says why and the call is still the caller's.
 */
#pragma once

#include <sys/types.h>

#include "bus-call.h"
#include "manager.h"

/* a scatter file: V1.1.x files of real phones are 20 KiB or less */
#define SCATTER_FILE_MAX (1024u * 1024u)
/* a Download Agent container; also what Inspect reads at most */
#define INSPECT_MAX (64u * 1024u * 1024u)

/* Replies the file's description, an a{sv} (inspect-dbus.h). */
int manager_files_inspect(Manager *m, BusCall *call, int fd, sd_bus_error *error);
/* Replies (name of the copy, what the DA covers: Inspect's a{sv} for it). */
int manager_files_add_download_agent(Manager *m, BusCall *call, int fd, sd_bus_error *error);
/* Replies (name of the copy, a line saying what it holds). */
int manager_files_add_preloader(Manager *m, BusCall *call, int fd, sd_bus_error *error);
/* Reads the scatter file, then starts the backup of the phone at device_path. */
int manager_files_backup(Manager *m, BusCall *call, const char *device_path, int scatter_fd, uid_t uid,
                         sd_bus_error *error);
/* scatter_fd >= 0: the spflash format. */
int manager_files_export(Manager *m, BusCall *call, const char *backup_path, int fd, int scatter_fd,
                         sd_bus_error *error);
/* The files are read from the call's a{sh}; format is archive, spflash or raw. */
int manager_files_import(Manager *m, BusCall *call, const char *format, int scatter_fd, sd_bus_error *error);

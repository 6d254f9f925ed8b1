/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names of mtknvd's D-Bus API, written once for the daemon, the client
 * and the tests (as systemd's bus-common-errors.h): the bus name, object
 * paths, interfaces, and every error name a method call or a failed job can
 * carry.  dbus/org.mtknvd.MtkNv1.xml documents them; mtknvd(8) lists the
 * errors with what each means for the user.
 */
#pragma once

#define MTKNV_BUS_NAME           "org.mtknvd.MtkNv1"
#define MTKNV_MANAGER_PATH       "/org/mtknvd/MtkNv1"
#define MTKNV_DEVICE_PREFIX      "/org/mtknvd/MtkNv1/device"
#define MTKNV_JOB_PREFIX         "/org/mtknvd/MtkNv1/job"
#define MTKNV_BACKUP_PREFIX      "/org/mtknvd/MtkNv1/backup"

#define MTKNV_MANAGER_IFACE      "org.mtknvd.MtkNv1.Manager"
#define MTKNV_DEVICE_IFACE       "org.mtknvd.MtkNv1.Device"
#define MTKNV_JOB_IFACE          "org.mtknvd.MtkNv1.Job"
#define MTKNV_BACKUP_IFACE       "org.mtknvd.MtkNv1.Backup"

#define MTKNV_ERROR_PREFIX       "org.mtknvd.MtkNv1.Error."

/* Method calls */
#define MTKNV_ERROR_NO_SUCH_DEVICE        MTKNV_ERROR_PREFIX "NoSuchDevice"
#define MTKNV_ERROR_NO_SUCH_BACKUP        MTKNV_ERROR_PREFIX "NoSuchBackup"
#define MTKNV_ERROR_BUSY                  MTKNV_ERROR_PREFIX "Busy"
#define MTKNV_ERROR_INVALID_FILE          MTKNV_ERROR_PREFIX "InvalidFile"
#define MTKNV_ERROR_INVALID_BACKUP        MTKNV_ERROR_PREFIX "InvalidBackup"
#define MTKNV_ERROR_NO_JOURNAL            MTKNV_ERROR_PREFIX "NoJournal"
#define MTKNV_ERROR_TOO_MANY_INHIBITORS   MTKNV_ERROR_PREFIX "TooManyInhibitors"
#define MTKNV_ERROR_READER_GONE           MTKNV_ERROR_PREFIX "ReaderGone"
#define MTKNV_ERROR_NOT_SUPPORTED         MTKNV_ERROR_PREFIX "NotSupported"
#define MTKNV_ERROR_NO_SPACE              MTKNV_ERROR_PREFIX "NoSpace"
#define MTKNV_ERROR_CANCELLED             MTKNV_ERROR_PREFIX "Cancelled"
#define MTKNV_ERROR_FAILED                MTKNV_ERROR_PREFIX "Failed"

/* The phone and its session (Device.ErrorName, a job's failure) */
#define MTKNV_ERROR_DEVICE_GONE           MTKNV_ERROR_PREFIX "DeviceGone"
#define MTKNV_ERROR_HANDSHAKE_FAILED      MTKNV_ERROR_PREFIX "HandshakeFailed"
#define MTKNV_ERROR_PROTOCOL_ERROR        MTKNV_ERROR_PREFIX "ProtocolError"
#define MTKNV_ERROR_UNKNOWN_CHIP          MTKNV_ERROR_PREFIX "UnknownChip"
#define MTKNV_ERROR_AUTH_REQUIRED         MTKNV_ERROR_PREFIX "AuthRequired"
#define MTKNV_ERROR_NO_DOWNLOAD_AGENT     MTKNV_ERROR_PREFIX "NoDownloadAgent"
#define MTKNV_ERROR_DA_REJECTED           MTKNV_ERROR_PREFIX "DaRejected"
#define MTKNV_ERROR_PRELOADER_NEEDED      MTKNV_ERROR_PREFIX "PreloaderNeeded"

/* Backup and restore */
#define MTKNV_ERROR_NO_PARTITIONS         MTKNV_ERROR_PREFIX "NoPartitions"
#define MTKNV_ERROR_INVALID_TABLE         MTKNV_ERROR_PREFIX "InvalidTable"
#define MTKNV_ERROR_LAYOUT_MISMATCH       MTKNV_ERROR_PREFIX "LayoutMismatch"
#define MTKNV_ERROR_IDENTITY_MISMATCH     MTKNV_ERROR_PREFIX "IdentityMismatch"
#define MTKNV_ERROR_VERIFY_FAILED         MTKNV_ERROR_PREFIX "VerifyFailed"
#define MTKNV_ERROR_INTERRUPTED_RESTORE   MTKNV_ERROR_PREFIX "InterruptedRestore"
#define MTKNV_ERROR_ROLLED_BACK           MTKNV_ERROR_PREFIX "RolledBack"
/* A caller's argument that only the phone can show wrong (a scatter file that does not fit it) */
#define MTKNV_ERROR_INVALID_ARGS          MTKNV_ERROR_PREFIX "InvalidArgs"

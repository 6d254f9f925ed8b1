/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated phone's XML ("V6") Download Agent, written from
 * ../shared/protocol/xml-da.md (section numbers below refer to it), not
 * from the daemon: DA1 after JUMP_DA (§4.4), the command lifetime (§3.1),
 * the DA -> host sub-dialogues (§3.2), unsupported commands (§3.3),
 * BOOT-TO of DA2 (§4.1, §4.4) and the DA2 commands of §5 on the phone's
 * eMMC or UFS image.  Packets use the XFlash header; every header and
 * every payload the DA sends is a field of its own (§2.2).  Host documents
 * are parsed with libxml2 and read by tag path.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim-phone.h"

#define SIM_XML_NAME_MAX 128

/* The DA's state (part of SimPhone; sim-phone-impl.h) */
typedef struct SimXml {
        bool da2;                    /* DA2 runs (else DA1) */
        bool resync;                 /* a bad header: drop OUT transfers until one starts with the magic */
        uint64_t skip;               /* payload bytes of a refused packet still to drop */
        int wait;                    /* what the DA waits for (sim-xml.c XmlWait) */
        int cmd;                     /* command in progress (sim-xml.c table index); -1 none */
        unsigned cstep;              /* where in it: sub-dialogues done */
        int after_end;               /* what happens once the host acked CMD:END */
        char target[SIM_XML_NAME_MAX]; /* target_file / source_file the DA echoes */
        char arg[SIM_XML_NAME_MAX];  /* partition / key / function / action of the command */
        uint8_t region;              /* READ-/WRITE-FLASH, READ-PARTITION: storage region */
        uint64_t addr, len, off;     /* the range and the transfer in progress */
        uint64_t max;                /* DOWNLOAD-FILE: the largest length it takes */
        uint64_t fs_value;           /* FILE-SYS-OPERATION: the host's answer */
        uint32_t packet;             /* packet length of the transfer in progress */
        bool from_storage;           /* UPLOAD/DOWNLOAD: the storage (else buf) */
        unsigned progress;           /* PROGRESS-REPORT lines sent */
        char progress_msg[32];
        GByteArray *buf;             /* a document to upload, DA2 downloaded */
        char checksum_level[16];     /* SET-RUNTIME-PARAMETER */
        bool hw_init;                /* NOTIFY-INIT-HW done (this DA) */
        const char *last_cmd;
        const char *last_result;     /* "OK" / "ERR" of the last CMD:END */
        unsigned unsupported, boot_refused, stray_oks, protocol_errors, bad_replies;
        const char *reboot;          /* "immediate" / "disconnect" once REBOOT came (outlives the DA) */
} SimXml;

/* After JUMP_DA: DA1 sends CMD:START (no C0, §4.2). */
void sim_xml_start(SimPhone *p);
/* start=da: the DA2 idle loop, its last START already acked (§9 "reinit") */
void sim_xml_resume_da2(SimPhone *p);
/* Power-on: forget the DA. */
void sim_xml_reset(SimXml *x);
void sim_xml_free(SimXml *x);
/* An OUT transfer arrives; false when the DA drops it (resynchronising). */
bool sim_xml_accept(SimPhone *p, const uint8_t *data, size_t len);
/* One step on the bytes received; false when it needs more. */
bool sim_xml_step(SimPhone *p);
/* " key=value ..." for stats */
void sim_xml_stats(SimPhone *p, GString *s);
/* The number faults use for a command name ("CMD:READ-FLASH", @OP and
 * unplug-after-cmd:OP): SIM_XML_CMD_ID_BASE + its table entry, the base
 * itself for a name the DA does not know; -1 for a name without "CMD:". */
#define SIM_XML_CMD_ID_BASE 0x600000
int sim_xml_command_id(const char *name);

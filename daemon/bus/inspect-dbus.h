/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What Inspect (and AddDownloadAgent, ListDownloadAgents, ListPreloaders)
 * say about a file, as typed D-Bus values: one a{sv} per file whose "kind"
 * names its format and whose other keys are that format's
 * (dbus/org.mtknvd.MtkNv1.Manager.txt, "Inspect", is the contract).  Every
 * kind says "usable" and "usable_reason": whether this mtknvd can use the
 * file, and why (not).  Lists are aa{sv}.  The parsing is the format
 * modules'; this is only their face on the bus.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "da-file.h"
#include "manifest.h"
#include "preloader-emi.h"
#include "scatter.h"

/* Each appends one complete a{sv}. */
int inspect_append_da(sd_bus_message *m, const DaFile *f);
/* identity_set: the canonical names mtknvd backs up, to mark them */
int inspect_append_scatter(sd_bus_message *m, const ScatterFile *s, char **identity_set);
int inspect_append_preloader(sd_bus_message *m, const EmiBlock *emi);
/* mf NULL: a tar archive that is no valid mtknvd export, why says what is wrong */
int inspect_append_archive(sd_bus_message *m, const Manifest *mf, const char *why);
/* An SP Flash Tool export made by ExportBackup (format spflash): its top
 * directory, its scatter file's name and that file, parsed (NULL: it does
 * not parse, why says so). */
int inspect_append_spflash_export(sd_bus_message *m, const char *dir, const char *scatter_name,
                                  const ScatterFile *s, const char *why, char **identity_set);

/* The DA entries' chips, for a one-line description: "MT6735 (0x0321),
 * MT6580 (0x6580)". */
int inspect_da_chips(const DaFile *f, char **ret);
/* Whether this mtknvd can use some entry of f. */
bool inspect_da_usable(const DaFile *f);
/* Whether this mtknvd can give a preloader of this EMI version to a DA. */
bool inspect_preloader_usable(unsigned emi_version);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "verb-help.h"

typedef struct VerbHelp {
        const char *name;
        const char *usage;      /* after "mtknvctl [OPTIONS] " */
        const char *text;       /* what it does, wrapped at 80 columns */
        const char *options;    /* "  --opt ARG  what\n" lines, NULL: none of its own */
} VerbHelp;

/* The options every verb takes. */
#define COMMON_OPTIONS                                                                                 \
        "     --no-ask-password  Do not let polkit ask for a password on this terminal\n"

static const VerbHelp helps[] = {
        { "list", "list",
          "List the phones the daemon sees: id, chip, download mode, state, USB path,\n"
          "security settings, ME ID, and who inhibits mtknvd. ME IDs and SoC IDs are\n"
          "shown in full to root only; other users see a fingerprint.\n",
          "     --json             An array of objects\n" },
        { "show", "show DEVICE",
          "Everything known about one phone, its security configuration in plain words,\n"
          "any error with its remedy, an interrupted restore, its last verified backup.\n",
          "     --json             One object\n" },
        { "monitor", "monitor",
          "Print phones as they appear, change state and disappear, and every job's\n"
          "result (\"1-5 backed up\", \"1-3 backup failed: ...\": the phone by its USB\n"
          "port), each line with the local time, until Ctrl-C (exit status 130).\n"
          "Phones present at start are shown first.\n",
          "     --json             One object per line (NDJSON), with \"time\"; job results\n"
          "                        are \"event\": \"job-completed\"\n" },
        { "wait", "wait [--state STATE] [--count N] [--timeout SEC]",
          "Wait until N phones are in STATE; print their ids. Exits 5 on timeout, 130\n"
          "on Ctrl-C.\n",
          "     --state STATE      present (default: plugged in), idle, identifying, ready,\n"
          "                        busy, released, unsupported, error or disconnected\n"
          "     --count N          How many phones (default 1)\n"
          "     --timeout SEC      Give up after SEC seconds (default 60; 0 = never)\n" },
        { "backup", "backup [--wait] [--scatter FILE] [DEVICE]",
          "Back up the phone's identity partitions, each read twice and compared. DEVICE\n"
          "may be left out when one phone is connected; with none connected the backup\n"
          "waits for the next phone plugged in (power it off, then plug it in). An\n"
          "automatic backup already running is followed instead.\n"
          "With --wait: a progress line that fits the terminal (the backup's size, not\n"
          "both reads, and the time left); Ctrl-C cancels the backup, nothing is stored,\n"
          "and exits 130; a second Ctrl-C stops following a job that cannot stop.\n",
          "     --wait             Follow the job to its end\n"
          "     --scatter FILE     Take the partitions from this scatter file instead of\n"
          "                        the phone's own table\n"
          "     --json             The job (and with --wait its result) as an object\n" },
        { "backups", "backups [KEY]",
          "List stored backups (of one phone, by its key prefix).\n",
          "     --json             An array of objects\n" },
        { "restore", "restore [--device DEVICE] [--dry-run] [--yes] ID\n"
          "       mtknvctl [OPTIONS] restore --resume [--rollback] [--device DEVICE]",
          "Write backup ID back to the phone it came from: identity and layout checked,\n"
          "the phone's current contents saved first (a \"pre-restore\" backup), every\n"
          "partition read back and compared, everything rolled back on a mismatch.\n"
          "Without --device: the phone the backup belongs to when several are connected,\n"
          "the one phone connected, or the next one plugged in that the backup belongs\n"
          "to (with --allow-foreign: the next one plugged in). A backup bound to no\n"
          "phone (an import) is refused without --allow-foreign before anything is asked.\n"
          "Asks for confirmation on a terminal. Progress as for backup; Ctrl-C cancels\n"
          "while nothing is written yet (exit status 130).\n"
          "With --resume: finish a restore that was interrupted, or with --rollback\n"
          "write its pre-restore snapshot back.\n",
          "     --device DEVICE    The phone to write to\n"
          "     --dry-run          Check identity and layout, write nothing\n"
          "     --partitions LIST  Only these partitions (comma-separated)\n"
          "     --yes              Do not ask for confirmation\n"
          "     --allow-foreign    A backup of another phone, or bound to none (technicians\n"
          "                        only: it clones that phone's IMEI)\n"
          "     --resume           Continue the phone's interrupted restore\n"
          "     --rollback         With --resume: go back to the pre-restore snapshot\n"
          "     --json             The result as an object; does not ask\n" },
        { "show-backup", "show-backup ID",
          "A backup's phone, time, source and partitions with their hashes.\n",
          "     --json             One object\n" },
        { "verify-backup", "verify-backup ID",
          "Re-hash every image of the backup against its manifest.\n",
          "     --json             The result as an object\n" },
        { "delete-backup", "delete-backup [--force] ID",
          "Delete a stored backup. Refused for the only verified backup of a phone\n"
          "(unless --force) and for one an interrupted restore's journal names.\n",
          "     --force            Even the only verified backup of a phone\n" },
        { "prune", "prune [--dry-run]",
          "Apply the retention policy (KeepLast=, KeepPreRestoreDays= in mtknvd.conf)\n"
          "now and print what was deleted and why.\n",
          "     --dry-run          Only list what would be deleted\n" },
        { "label", "label PHONE|ID [TEXT]",
          "Name a phone (as list shows it, or the key of its backups) or a backup ID.\n"
          "The name is shown by list, show, backups and the desktop agent; \"\" clears\n"
          "it, and without TEXT the current label is printed. At most 64 characters,\n"
          "no control characters.\n",
          NULL },
        { "export-backup", "export-backup [--format F] [--compress C] ID [FILE]",
          "Write the backup as a tar archive to FILE (opened by mtknvctl; the daemon only\n"
          "receives the descriptor); without FILE, LABEL-or-KEY-TIME.mtknvd.tar in the\n"
          "current directory. An existing FILE is replaced only with --force. With\n"
          "--format spflash --scatter SCATTER: the images plus a copy of SCATTER edited\n"
          "so SP Flash Tool downloads exactly them.\n",
          "     --format FORMAT    mtknvd (default) or spflash\n"
          "     --scatter FILE     With --format spflash: the phone's scatter file\n"
          "     --compress C       gzip, xz, zstd or none (default)\n"
          "     --force            Replace an existing FILE\n" },
        { "import", "import [--spflash [--scatter SCATTER]] FILE...\n"
          "       mtknvctl [OPTIONS] import --partition NAME FILE",
          "Bring a backup in: an mtknvd export archive; with --spflash SP Flash Tool\n"
          "readbacks named after their partitions; with --partition NAME a raw image of\n"
          "that partition. Readbacks and raw images are not bound to a phone: restoring\n"
          "them needs --allow-foreign.\n",
          "     --spflash          The FILEs are SP Flash Tool readbacks\n"
          "     --scatter FILE     With --spflash: their scatter file (default: the one\n"
          "                        *_scatter.txt or .xml next to them)\n"
          "     --partition NAME   FILE is a raw image of partition NAME\n" },
        { "add-da", "add-da FILE",
          "Install a Download Agent (MTK_AllInOne_DA.bin from the phone's firmware\n"
          "package); the daemon keeps a checked copy.\n", NULL },
        { "add-preloader", "add-preloader FILE",
          "Install a preloader (preloader_<board>.bin from the phone's firmware package):\n"
          "a phone in BROM mode needs the DRAM settings it carries.\n", NULL },
        { "add-firmware", "add-firmware DIR",
          "Install what a firmware folder has for mtknvd: its preloader and Download\n"
          "Agent (added) and scatter file (checked); other files are listed, not sent.\n", NULL },
        { "list-da", "list-da",
          "The Download Agents the daemon may use: name, chips, size.\n",
          "     --json             An array of objects\n" },
        { "remove-da", "remove-da NAME",
          "Remove an added Download Agent (NAME as list-da shows it); refused while an\n"
          "operation uses it.\n", NULL },
        { "list-preloaders", "list-preloaders",
          "The stored preloaders: name, EMI version, memory parts.\n",
          "     --json             An array of objects\n" },
        { "remove-preloader", "remove-preloader NAME",
          "Remove a stored preloader (NAME as list-preloaders shows it).\n", NULL },
        { "inspect", "inspect FILE",
          "Say what FILE is and whether this mtknvd can use it: a Download Agent (chips,\n"
          "DA protocol), a preloader (EMI version), a scatter file (identity set), a\n"
          "backup archive or SP Flash Tool export. Needs no phone.\n",
          "     --json             Machine-readable\n" },
        { "inhibit", "inhibit [--port P] [--who W] [--why Y] [-- COMMAND...]",
          "Keep mtknvd away from phones while COMMAND (mtkclient, SP Flash Tool) runs; it\n"
          "opens no phone plugged in meanwhile. Without COMMAND: until Ctrl-C. The exit\n"
          "status is COMMAND's.\n",
          "     --port P           Only the phone at USB path P, and phones behind a hub\n"
          "                        on it\n"
          "     --who W            The program named in list (default: COMMAND's name)\n"
          "     --why Y            What it does (default: \"COMMAND is using the phone\")\n" },
        { "agent", "agent",
          "Stay in the desktop session and show a notification when a phone is detected,\n"
          "backed up or restored, when that fails, and when the phone needs you.\n", NULL },
        { "help", "help [VERB]",
          "Without VERB: the same as --help. With VERB: that command's usage and\n"
          "options.\n", NULL },
};

bool verb_help_print(const char *verb) {
        for (size_t i = 0; i < ELEMENTSOF(helps); i++) {
                const VerbHelp *h = &helps[i];

                if (strcmp(h->name, verb) != 0)
                        continue;
                printf("Usage: mtknvctl [OPTIONS] %s\n\n%s\nOptions:\n%s%s\nSee mtknvctl(1), 'mtknvctl --help'.\n",
                       h->usage, h->text, h->options ?: "", COMMON_OPTIONS);
                return true;
        }
        return false;
}

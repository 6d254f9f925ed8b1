/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A restore journal on disk may be damaged: what parses must write and parse again the same. */
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "restore-journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        RestoreJournal j, again;
        char *text = NULL;

        if (restore_journal_parse((const char *) data, size, &j) < 0)
                return 0;
        if (restore_journal_format(&j, &text) < 0)
                abort();
        if (restore_journal_parse(text, strlen(text), &again) < 0 || !streq(j.device_key, again.device_key) ||
            !streq(j.backup_key, again.backup_key) || !streq(j.backup_id, again.backup_id) ||
            !streq(j.snapshot_key, again.snapshot_key) || !streq(j.snapshot_id, again.snapshot_id) ||
            !streq(j.partitions, again.partitions) || j.foreign != again.foreign ||
            j.rolling_back != again.rolling_back || j.started_usec != again.started_usec)
                abort();
        free(text);
        return 0;
}

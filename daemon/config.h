/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/mtknvd/mtknvd.conf: "Key=Value" lines, '#' comments, documented in
 * mtknvd.conf(5).  Unknown keys are warned about and ignored so an older
 * daemon can read a newer file.
 */
#pragma once

#include <stdint.h>

#include "usb-ids.h"

#define CONFIG_FILE_DEFAULT "/etc/mtknvd/mtknvd.conf"
#define CONFIG_GRACE_USEC_DEFAULT (10ULL * 1000000ULL)

typedef struct Config {
        UsbIdList usb_ids;
        uint64_t grace_usec;          /* keep a vanished phone's object this long */
} Config;

int config_init(Config *c);
/* A missing file is not an error; a malformed line is, naming file and line. */
int config_load(Config *c, const char *path);
void config_done(Config *c);
int config_parse_seconds(const char *s, uint64_t *ret_usec);

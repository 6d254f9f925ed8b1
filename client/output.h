/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing what mtknvctl prints: identifiers (JSON is common/json-writer.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json-writer.h"

/* The daemon shows identifiers (ME ID, SoC ID, eMMC CID, image hashes) in
 * full to root only; others get "fp:" and a fingerprint.  For printing:
 * "0011…" as it is, "fp:1a2b3c4d" as "1a2b3c4d (fingerprint)". */
#define FINGERPRINT_PREFIX "fp:"
bool is_fingerprint(const char *v);
const char *identifier_display(const char *v, char *buf, size_t size);

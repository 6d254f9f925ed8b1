/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "output.h"

bool is_fingerprint(const char *v) {
        return v && strncmp(v, FINGERPRINT_PREFIX, strlen(FINGERPRINT_PREFIX)) == 0;
}

const char *identifier_display(const char *v, char *buf, size_t size) {
        if (!is_fingerprint(v))
                return v;
        snprintf(buf, size, "%s (fingerprint)", v + strlen(FINGERPRINT_PREFIX));
        return buf;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How the parsers of untrusted files say what is wrong: -EBADMSG plus a
 * sentence for the user in *ret_error (the first one set wins).
 */
#pragma once

#include "macro.h"

int parse_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 'mtknvctl help VERB': one verb's usage, what it does and its options. */
#pragma once

#include <stdbool.h>

/* Prints VERB's help on stdout; false when there is none for it. */
bool verb_help_print(const char *verb);

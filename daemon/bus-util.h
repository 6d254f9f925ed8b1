/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small pieces every D-Bus object family of the daemon needs. */
#pragma once

#include <stddef.h>

/* The NULL-terminated path list an sd-bus node enumerator returns, from n
 * objects whose path path_of() reads. */
int bus_node_list(void *const *objects, size_t n, const char *(*path_of)(const void *object), char ***ret);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "macro.h"

int bus_node_list(void *const *objects, size_t n, const char *(*path_of)(const void *object), char ***ret) {
        char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                l[i] = strdup(path_of(objects[i]));
                if (!l[i]) {
                        for (size_t k = 0; k < i; k++)
                                free(l[k]);
                        free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "identity-set.h"
#include "macro.h"

int identity_set_parse(const char *spec, char ***ret) {
        _cleanup_(name_list_freep) char **names = NULL;
        int r;

        r = name_list_split(spec, ", \t", NAME_LIST_DROP_EMPTY, &names);
        if (r < 0)
                return r;
        if (!names[0])
                return -EINVAL;
        for (char **w = names; *w; w++) {
                char buf[64], *canonical;

                if (strlen(*w) >= sizeof(buf))
                        return -EINVAL;
                partition_name_canonical(*w, buf, sizeof(buf));
                canonical = strdup(buf);
                if (!canonical)
                        return -ENOMEM;
                free(*w);
                *w = canonical;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

int identity_set_select(const PartitionTable *t, char **names, const Partition ***ret, size_t *ret_n) {
        const Partition **sel;
        size_t n = 0;

        sel = calloc(t->n_parts + 1, sizeof(Partition *));
        if (!sel)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_parts; i++) {
                char have[64];

                partition_name_canonical(t->parts[i].name, have, sizeof(have));
                if (name_list_contains(names, have))
                        sel[n++] = &t->parts[i];
        }
        *ret = sel;
        *ret_n = n;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "identity-set.h"
#include "macro.h"

int identity_set_parse(const char *spec, char ***ret) {
        char **names = NULL;
        size_t n = 0;

        for (const char *p = spec; *p;) {
                size_t len = strcspn(p, ", \t");
                char buf[64], raw[64], **nn;

                if (len == 0) {
                        p++;
                        continue;
                }
                if (len >= sizeof(raw)) {
                        identity_set_free(names);
                        return -EINVAL;
                }
                memcpy(raw, p, len);
                raw[len] = 0;
                partition_name_canonical(raw, buf, sizeof(buf));
                nn = reallocarray(names, n + 2, sizeof(char *));
                if (!nn) {
                        identity_set_free(names);
                        return -ENOMEM;
                }
                names = nn;
                names[n] = strdup(buf);
                names[n + 1] = NULL;
                if (!names[n]) {
                        identity_set_free(names);
                        return -ENOMEM;
                }
                n++;
                p += len;
        }
        if (n == 0)
                return -EINVAL;
        *ret = names;
        return 0;
}

void identity_set_free(char **names) {
        for (char **p = names; p && *p; p++)
                free(*p);
        free(names);
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
                for (char **w = names; *w; w++)
                        if (streq(*w, have)) {
                                sel[n++] = &t->parts[i];
                                break;
                        }
        }
        *ret = sel;
        *ret_n = n;
        return 0;
}

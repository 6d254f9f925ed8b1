/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "name-list.h"

char **name_list_free(char **l) {
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
        return NULL;
}

size_t name_list_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int name_list_split(const char *s, const char *separators, NameListSplitFlags flags, char ***ret) {
        char **l = calloc(1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (const char *p = s; p && *p;) {
                size_t len = strcspn(p, separators);

                if (len > 0 || !(flags & NAME_LIST_DROP_EMPTY)) {
                        char **grown = reallocarray(l, n + 2, sizeof(char *));

                        if (!grown) {
                                name_list_free(l);
                                return -ENOMEM;
                        }
                        l = grown;
                        l[n] = strndup(p, len);
                        l[n + 1] = NULL;
                        if (!l[n]) {
                                name_list_free(l);
                                return -ENOMEM;
                        }
                        n++;
                }
                p += len;
                if (*p)
                        p++; /* the separator */
        }
        *ret = l;
        return 0;
}

int name_list_join(char *const *l, const char *separator, char **ret) {
        size_t n = name_list_length(l), sep = strlen(separator), len = 0;
        char *s, *q;

        for (size_t i = 0; i < n; i++)
                len += strlen(l[i]) + (i > 0 ? sep : 0);
        s = malloc(len + 1);
        if (!s)
                return -ENOMEM;
        q = s;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        q = stpcpy(q, separator);
                q = stpcpy(q, l[i]);
        }
        *q = 0;
        *ret = s;
        return 0;
}

bool name_list_contains(char *const *l, const char *name) {
        for (char *const *p = l; p && *p; p++)
                if (strcmp(*p, name) == 0)
                        return true;
        return false;
}

bool name_list_joined_contains(const char *joined, const char *name) {
        size_t n = strlen(name);

        for (const char *p = joined; p && *p;) {
                size_t len = strcspn(p, ",");

                if (len == n && memcmp(p, name, n) == 0)
                        return true;
                p += len;
                if (*p)
                        p++;
        }
        return false;
}

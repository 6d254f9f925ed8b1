/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file-shelf.h"
#include "log.h"
#include "macro.h"
#include "preloader-store.h"

#define SHELF PRELOADER_STORE_SHELF

int preloader_store_add(const char *state_dir, const uint8_t *data, size_t size, char **ret_name,
                        char **ret_description, char **ret_error) {
        _cleanup_free_ char *name = NULL, *desc = NULL;
        _cleanup_free_ EmiBlock *emi = malloc(sizeof(EmiBlock));
        char err[256] = "";
        int r;

        if (!emi)
                return -ENOMEM;
        if (size > PRELOADER_FILE_MAX) {
                if (asprintf(ret_error, "The file is %zu bytes, larger than any preloader image (at most %u).",
                             size, PRELOADER_FILE_MAX) < 0)
                        return -ENOMEM;
                return -EBADMSG;
        }
        r = preloader_parse_emi(data, size, emi, err, sizeof(err));
        if (r < 0) {
                *ret_error = strdup(err[0] ? err : "It is not a MediaTek preloader image.");
                return *ret_error ? r : -ENOMEM;
        }
        r = file_shelf_store(state_dir, SHELF, data, size, &name);
        if (r < 0)
                return r;
        r = preloader_describe(emi, emi->file_name[0] ? emi->file_name : name, &desc);
        if (r < 0)
                return r;
        *ret_name = TAKE_PTR(name);
        *ret_description = TAKE_PTR(desc);
        return 0;
}

static void preloader_done(Preloader *p) {
        free(p->path);
        free(p->name);
        free(p->data);
}

void preloader_set_done(PreloaderSet *set) {
        for (size_t i = 0; i < set->n; i++)
                preloader_done(&set->items[i]);
        free(set->items);
        *set = (PreloaderSet) {};
}

static int preloader_load_one(const char *path, int version, Preloader *ret) {
        Preloader p = {};
        char err[256] = "";
        const char *base;
        int r;

        r = file_shelf_read(path, PRELOADER_FILE_MAX, &p.data, &p.size);
        if (r < 0)
                return log_warning_errno(r, "Cannot read preloader %s: %m", path);
        r = preloader_parse_emi(p.data, p.size, &p.emi, err, sizeof(err));
        if (r < 0) {
                log_warning("Ignoring preloader %s: %s", path, err);
                preloader_done(&p);
                return r;
        }
        if (version >= 0 && p.emi.version != (unsigned) version) {
                preloader_done(&p);
                return -ENOENT;
        }
        base = strrchr(path, '/');
        p.path = strdup(path);
        p.name = strdup(p.emi.file_name[0] ? p.emi.file_name : base ? base + 1 : path);
        if (!p.path || !p.name) {
                preloader_done(&p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

int preloader_store_load(const char *state_dir, int version, PreloaderSet *ret) {
        PreloaderSet set = {};
        char **paths = NULL;
        size_t n = 0;
        int r;

        r = file_shelf_list(state_dir, SHELF, &paths, &n);
        if (r < 0)
                return r;
        if (n > 0) {
                set.items = calloc(n, sizeof(Preloader));
                if (!set.items) {
                        file_shelf_list_free(paths, n);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < n; i++) {
                r = preloader_load_one(paths[i], version, &set.items[set.n]);
                if (r == -ENOMEM) {
                        file_shelf_list_free(paths, n);
                        preloader_set_done(&set);
                        return r;
                }
                if (r >= 0)
                        set.n++;
        }
        file_shelf_list_free(paths, n);
        *ret = set;
        return 0;
}

int preloader_describe(const EmiBlock *emi, const char *name, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        if (!f)
                return -ENOMEM;
        fprintf(f, "%s: EMI v%02u, %u record%s (", name, emi->version, emi->n_records,
                emi->n_records == 1 ? "" : "s");
        for (unsigned i = 0; i < emi->n_records; i++) {
                const EmiRecord *rec = &emi->record[i];

                fprintf(f, "%s%s ", i ? ", " : "", emi_dram_type_to_string(rec->type));
                if (rec->id_len == 0)
                        fputs("any memory", f);
                for (unsigned k = 0; k < rec->id_len && k < EMI_ID_MAX; k++)
                        fprintf(f, "%02x", rec->id[k]);
        }
        fputc(')', f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

int preloader_store_remove(const char *state_dir, const char *name) {
        return file_shelf_remove(state_dir, SHELF, name);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "backup-import.h"
#include "log.h"
#include "macro.h"
#include "parse-error.h"
#include "partition-table.h"

/* the largest identity partition seen in the scatter corpus is 64 MiB */
#define IMPORT_IMAGE_MAX (256ull * 1024 * 1024)
#define IMPORT_MANIFEST_MAX (1024u * 1024u)

ImportSet *import_set_free(ImportSet *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; s->header && s->images && i < s->header->n_parts; i++)
                free(s->images[i]);
        free(s->images);
        manifest_free(s->header);
        return mfree(s);
}

static const char *basename_of(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

int import_parse_archive(const uint8_t *data, size_t size, ImportSet **ret, char **ret_error) {
        _cleanup_(import_set_freep) ImportSet *s = NULL;
        struct archive *a;
        struct archive_entry *e;
        uint8_t *found[MANIFEST_PARTS_MAX] = {};
        size_t sizes[MANIFEST_PARTS_MAX] = {};
        _cleanup_free_ uint8_t *manifest = NULL;
        size_t manifest_len = 0, n_other = 0;
        const char *other[MANIFEST_PARTS_MAX];
        char *other_names[MANIFEST_PARTS_MAX] = {};
        int r = 0;

        *ret_error = NULL;
        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
        if (archive_read_open_memory(a, data, size) != ARCHIVE_OK) {
                archive_read_free(a);
                return parse_error(ret_error, "not a tar archive");
        }
        /* collect: the manifest, and every other regular member by its base name */
        for (;;) {
                const char *name;
                int64_t len;
                uint8_t *buf;
                la_ssize_t k;

                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF) {
                        r = 0;
                        break;
                }
                if (r != ARCHIVE_OK) {
                        r = parse_error(ret_error, "the archive is damaged (%s)", archive_error_string(a) ?: "?");
                        break;
                }
                r = 0;
                name = archive_entry_pathname(e);
                len = archive_entry_size(e);
                if (!name || archive_entry_filetype(e) != AE_IFREG)
                        continue;
                if (len < 0 || (uint64_t) len > IMPORT_IMAGE_MAX) {
                        r = parse_error(ret_error, "member %s is too large", name);
                        break;
                }
                if (streq(basename_of(name), "manifest.yaml")) {
                        if (manifest || len > IMPORT_MANIFEST_MAX) {
                                r = parse_error(ret_error, manifest ? "the archive holds two manifests"
                                                             : "the manifest is too large");
                                break;
                        }
                } else if (n_other >= MANIFEST_PARTS_MAX) {
                        r = parse_error(ret_error, "the archive holds more than %d files", MANIFEST_PARTS_MAX);
                        break;
                }
                buf = malloc(len > 0 ? (size_t) len : 1);
                if (!buf) {
                        r = -ENOMEM;
                        break;
                }
                k = len > 0 ? archive_read_data(a, buf, (size_t) len) : 0;
                if (k != len) {
                        free(buf);
                        r = parse_error(ret_error, "member %s is truncated", name);
                        break;
                }
                if (streq(basename_of(name), "manifest.yaml")) {
                        manifest = buf;
                        manifest_len = (size_t) len;
                } else {
                        other_names[n_other] = strdup(basename_of(name));
                        other[n_other] = other_names[n_other];
                        found[n_other] = buf;
                        sizes[n_other] = (size_t) len;
                        if (!other_names[n_other]) {
                                free(buf);
                                r = -ENOMEM;
                                break;
                        }
                        n_other++;
                }
        }
        archive_read_free(a);

        if (r >= 0 && !manifest)
                r = parse_error(ret_error, "the archive has no manifest.yaml: it is not an mtknvd backup export");
        if (r >= 0) {
                _cleanup_free_ char *err = NULL;

                s = calloc(1, sizeof(*s));
                if (!s)
                        r = -ENOMEM;
                else if (manifest_parse(manifest, manifest_len, &s->header, &err) < 0)
                        r = parse_error(ret_error, "its manifest.yaml is invalid: %s", err ?: "?");
        }
        if (r >= 0 && !manifest_safe_name(s->header->device_key))
                r = parse_error(ret_error, "its manifest names no usable phone key");
        if (r >= 0) {
                s->images = calloc(s->header->n_parts ? s->header->n_parts : 1, sizeof(uint8_t *));
                if (!s->images)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < s->header->n_parts; i++) {
                const ManifestPartition *p = &s->header->parts[i];
                uint8_t sha[32];
                unsigned md_len = 0;
                size_t j;

                for (j = 0; j < n_other && (!found[j] || !streq(other[j], p->file)); j++)
                        ;
                if (j == n_other) {
                        r = parse_error(ret_error, "%s is listed in the manifest but missing from the archive", p->file);
                        break;
                }
                if (sizes[j] != p->size || !EVP_Digest(found[j], sizes[j], sha, &md_len, EVP_sha256(), NULL) ||
                    memcmp(sha, p->sha256, 32) != 0) {
                        r = parse_error(ret_error, "%s does not match the manifest (size or SHA-256): the archive is "
                                            "damaged or was edited", p->file);
                        break;
                }
                s->images[i] = TAKE_PTR(found[j]);
        }
        for (size_t j = 0; j < n_other; j++) {
                free(found[j]);
                free(other_names[j]);
        }
        if (r < 0)
                return r;
        snprintf(s->header->source, sizeof(s->header->source), "import");
        *ret = TAKE_PTR(s);
        return 0;
}

int import_set_new_unbound(const char *table_source, ImportSet **ret) {
        ImportSet *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->header = manifest_new();
        if (!s->header) {
                free(s);
                return -ENOMEM;
        }
        snprintf(s->header->source, sizeof(s->header->source), "import");
        snprintf(s->header->device_key, sizeof(s->header->device_key), IMPORT_DEVICE_KEY_UNBOUND);
        snprintf(s->header->table_source, sizeof(s->header->table_source), "%s", table_source);
        *ret = s;
        return 0;
}

int import_set_add_image(ImportSet *s, const char *name, uint8_t *data, size_t size, const ScatterFile *sc,
                         char **ret_error) {
        ManifestPartition p = { .region = MANIFEST_REGION_ANY, .size = size };
        char canonical[64];
        uint8_t **images;
        int r;

        *ret_error = NULL;
        partition_name_canonical(name, canonical, sizeof(canonical));
        if (!manifest_safe_name(canonical))
                return parse_error(ret_error, "\"%s\" is not a partition name", name);
        if (size == 0)
                return parse_error(ret_error, "the image of %s is empty", canonical);
        for (size_t i = 0; i < s->header->n_parts; i++)
                if (streq(s->header->parts[i].name, canonical))
                        return parse_error(ret_error, "%s is given twice", canonical);
        if (sc) {
                const ScatterEntry *found = NULL;

                for (size_t i = 0; i < sc->n_entries && !found; i++) {
                        char have[64];

                        partition_name_canonical(sc->entries[i].name, have, sizeof(have));
                        if (streq(have, canonical))
                                found = &sc->entries[i];
                }
                if (!found)
                        return parse_error(ret_error, "the scatter file has no %s partition: is it this phone's?", canonical);
                if (found->size != size)
                        return parse_error(ret_error,
                                    "the image of %s is %zu bytes, but the scatter file's %s partition is %" PRIu64
                                    " bytes. An SP Flash Tool readback must cover the whole partition: in the "
                                    "Readback tab, use its physical_start_addr and partition_size from the "
                                    "scatter file",
                                    canonical, size, canonical, found->size);
                if (!found->reserved || found->resolved) {
                        p.region = found->region;
                        p.offset = found->offset;
                }
        }
        snprintf(p.name, sizeof(p.name), "%s", canonical);
        snprintf(p.file, sizeof(p.file), "%s.img", canonical);
        if (!EVP_Digest(data, size, p.sha256, NULL, EVP_sha256(), NULL))
                return -EIO;
        images = realloc(s->images, (s->header->n_parts + 1) * sizeof(uint8_t *));
        if (!images)
                return -ENOMEM;
        s->images = images;
        r = manifest_add_partition(s->header, &p);
        if (r < 0)
                return r == -E2BIG ? parse_error(ret_error, "too many images") : r;
        s->images[s->header->n_parts - 1] = data;
        return 0;
}

/*
 * The trust decision.  An archive's manifest claims a phone; anyone can write
 * that claim (the identifiers are on the phone's label and, to root, on the
 * bus).  It is kept only when this host's key vouches for it: the archive was
 * exported by this host, or by one an administrator gave the same key.  Any
 * other import keeps its images and layout and loses its claim, like a raw
 * image: restoring it needs allow-foreign and restore-foreign.
 */
static void import_set_decide_binding(BackupStore *store, ImportSet *s) {
        Manifest *h = s->header;
        BackupBinding b;

        if (!manifest_has_identity(h) && streq(h->device_key, IMPORT_DEVICE_KEY_UNBOUND))
                return; /* raw and SP Flash Tool images never claimed a phone */
        b = backup_store_check_binding(store, h);
        if (b == BACKUP_BINDING_VERIFIED) {
                log_info("The imported archive's binding to phone %s was signed by this host's key %s: it stays "
                         "bound.", h->device_key, backup_store_key_id(store));
                return;
        }
        log_notice("The imported archive claims phone %s, but %s%s%s: stored as not bound to any phone.",
                   h->device_key, backup_binding_explain(b), b == BACKUP_BINDING_OTHER_KEY ? " " : "",
                   b == BACKUP_BINDING_OTHER_KEY ? h->binding_key_id : "");
        manifest_clear_identity(h, IMPORT_DEVICE_KEY_UNBOUND);
}

int import_set_store(BackupStore *store, ImportSet *s, char **ret_id) {
        BackupWriter *w = NULL;
        int r;

        if (s->header->n_parts == 0)
                return -EINVAL;
        import_set_decide_binding(store, s);
        r = backup_store_begin(store, s->header, &w);
        for (size_t i = 0; r >= 0 && i < s->header->n_parts; i++) {
                const ManifestPartition *p = &s->header->parts[i];
                uint8_t sha[32];

                r = backup_writer_begin_partition(w, p->name, p->region, p->offset, p->size);
                if (r >= 0)
                        r = backup_writer_write(w, s->images[i], p->size);
                if (r >= 0)
                        r = backup_writer_end_partition(w, sha);
                /* the hashes were taken on parsing; this catches a bad disk */
                if (r >= 0 && memcmp(sha, p->sha256, 32) != 0)
                        r = -EIO;
        }
        if (r >= 0)
                r = backup_writer_set_verified(w, "import-sha256");
        if (r >= 0)
                r = backup_writer_commit(w, ret_id);
        else
                backup_writer_abort(w);
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "archive-scan.h"
#include "backup-import.h"
#include "log.h"
#include "macro.h"
#include "parse-error.h"
#include "partition-table.h"

#define IMPORT_MANIFEST_MAX (1024u * 1024u)
/* what one step reads or writes */
#define IMPORT_CHUNK (256u * 1024u)
/* Tar's own bytes around a member (pax header, padding) and at the end
 * (two zero blocks, the last record), generously: one read of the
 * decompressor (64 KiB) may also pass the end. */
#define IMPORT_MEMBER_SLACK (128u * 1024u)
/* until the manifest says more: the manifest and a few directories */
#define IMPORT_HEAD_BUDGET (IMPORT_MANIFEST_MAX + 16u * IMPORT_MEMBER_SLACK)
/* directories and other members without data that an archive may hold */
#define IMPORT_OTHER_MAX 16u

typedef enum ImportArchiveState {
        IMPORT_MANIFEST_HEADER,
        IMPORT_MANIFEST_DATA,
        IMPORT_MEMBER_HEADER,
        IMPORT_MEMBER_DATA,
        IMPORT_DONE,
} ImportArchiveState;

struct ImportArchive {
        BackupStore *store;
        uint8_t *data;
        ArchiveScan *scan;
        ImportArchiveState state;
        uint8_t *manifest;
        size_t manifest_len, manifest_size;
        Manifest *header;
        BackupWriter *writer;
        bool *seen;              /* per header->parts[] */
        size_t cur;              /* the part being read */
        uint64_t cur_done;
        unsigned n_other;
        uint8_t *chunk;
        char *existing;          /* the archive is this backup, already stored */
};

ImportArchive *import_archive_free(ImportArchive *ia) {
        if (!ia)
                return NULL;
        if (ia->writer)
                backup_writer_abort(ia->writer);
        archive_scan_free(ia->scan);
        free(ia->data);
        free(ia->manifest);
        manifest_free(ia->header);
        free(ia->seen);
        free(ia->chunk);
        free(ia->existing);
        return mfree(ia);
}

int import_archive_new(BackupStore *store, uint8_t *data, size_t size, ImportArchive **ret) {
        _cleanup_(import_archive_freep) ImportArchive *ia = NULL;
        int r;

        ia = calloc(1, sizeof(*ia));
        if (!ia)
                return -ENOMEM;
        ia->store = store;
        ia->chunk = malloc(IMPORT_CHUNK);
        if (!ia->chunk)
                return -ENOMEM;
        r = archive_scan_new(data, size, IMPORT_HEAD_BUDGET, &ia->scan);
        if (r < 0)
                return r;
        ia->data = data; /* ours from here on */
        *ret = TAKE_PTR(ia);
        return 0;
}

const Manifest *import_archive_manifest(const ImportArchive *ia) {
        return ia->state > IMPORT_MANIFEST_DATA ? ia->header : NULL;
}

/* A member without data (a directory): tolerated, a few. */
static int import_archive_other(ImportArchive *ia, const ArchiveMember *mb, char **ret_error) {
        if (++ia->n_other > IMPORT_OTHER_MAX)
                return parse_error(ret_error, "the archive holds more than %u members that are not files",
                                   IMPORT_OTHER_MAX);
        if (mb->size > 0)
                return parse_error(ret_error, "member %s is not a regular file", mb->name);
        return 1;
}

static int import_archive_manifest_header(ImportArchive *ia, char **ret_error) {
        ArchiveMember mb;
        int r;

        r = archive_scan_next(ia->scan, &mb, ret_error);
        if (r < 0)
                return r;
        if (r == 0)
                return parse_error(ret_error, "the archive has no manifest.yaml: it is not an mtknvd backup export");
        if (!mb.regular)
                return import_archive_other(ia, &mb, ret_error);
        if (!streq(mb.base, "manifest.yaml"))
                return parse_error(ret_error, "the archive does not begin with manifest.yaml (it begins with %s): "
                                   "it is not an mtknvd backup export, or it was re-made without keeping "
                                   "manifest.yaml first", mb.name);
        if (mb.size < 0 || mb.size > IMPORT_MANIFEST_MAX)
                return parse_error(ret_error, "the manifest is too large");
        ia->manifest_size = (size_t) mb.size;
        ia->manifest = malloc(MAX(ia->manifest_size, (size_t) 1));
        if (!ia->manifest)
                return -ENOMEM;
        ia->state = IMPORT_MANIFEST_DATA;
        return 1;
}

/*
 * The trust decision.  An archive's manifest claims a phone; anyone can write
 * that claim (the identifiers are on the phone's label and, to root, on the
 * bus).  It is kept only when this host's key vouches for it: the archive was
 * exported by this host, or by one an administrator gave the same key.  Any
 * other import keeps its images and layout and loses its claim, like a raw
 * image: restoring it needs allow-foreign and restore-foreign.
 */
static void import_decide_binding(BackupStore *store, Manifest *h) {
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

/* The manifest is whole: check what it promises, and allow exactly that. */
static int import_archive_begin(ImportArchive *ia, char **ret_error) {
        _cleanup_free_ char *err = NULL;
        uint64_t total = 0;
        int r;

        if (manifest_parse(ia->manifest, ia->manifest_len, &ia->header, &err) < 0)
                return parse_error(ret_error, "its manifest.yaml is invalid: %s", err ?: "?");
        if (!manifest_safe_name(ia->header->device_key))
                return parse_error(ret_error, "its manifest names no usable phone key");
        if (ia->header->n_parts == 0)
                return parse_error(ret_error, "its manifest lists no image");
        for (size_t i = 0; i < ia->header->n_parts; i++) {
                const ManifestPartition *p = &ia->header->parts[i];

                if (p->size == 0 || p->size > IMPORT_IMAGE_MAX)
                        return parse_error(ret_error, "its manifest gives %s a size of %" PRIu64 " bytes, which "
                                           "no identity partition has", p->name, p->size);
                total += p->size;
        }
        if (total > IMPORT_TOTAL_MAX)
                return parse_error(ret_error, "its manifest's images add up to %" PRIu64 " bytes, more than a "
                                   "backup can hold (%llu MiB)", total, IMPORT_TOTAL_MAX >> 20);
        archive_scan_set_budget(ia->scan, archive_scan_consumed(ia->scan) + total +
                                (ia->header->n_parts + 1 + IMPORT_OTHER_MAX) * (uint64_t) IMPORT_MEMBER_SLACK);
        ia->seen = calloc(ia->header->n_parts, sizeof(bool));
        if (!ia->seen)
                return -ENOMEM;
        snprintf(ia->header->source, sizeof(ia->header->source), "import");
        import_decide_binding(ia->store, ia->header);
        r = backup_store_begin(ia->store, ia->header, &ia->writer);
        if (r < 0)
                return r;
        ia->manifest = mfree(ia->manifest);
        ia->state = IMPORT_MEMBER_HEADER;
        return 1;
}

static int import_archive_manifest_data(ImportArchive *ia, char **ret_error) {
        ssize_t k;

        k = archive_scan_read(ia->scan, ia->manifest + ia->manifest_len, ia->manifest_size - ia->manifest_len,
                              ret_error);
        if (k < 0)
                return (int) k;
        if (k == 0 && ia->manifest_len < ia->manifest_size)
                return parse_error(ret_error, "member manifest.yaml is truncated");
        ia->manifest_len += (size_t) k;
        if (ia->manifest_len < ia->manifest_size)
                return 1;
        return import_archive_begin(ia, ret_error);
}

static int import_archive_member_header(ImportArchive *ia, char **ret_id, char **ret_error) {
        const Manifest *h = ia->header;
        const ManifestPartition *p;
        ArchiveMember mb;
        size_t j;
        int r;

        r = archive_scan_next(ia->scan, &mb, ret_error);
        if (r < 0)
                return r;
        if (r == 0) {
                for (j = 0; j < h->n_parts; j++)
                        if (!ia->seen[j])
                                return parse_error(ret_error, "%s is listed in the manifest but missing from the "
                                                   "archive", h->parts[j].file);
                ia->state = IMPORT_DONE;
                /* The same backup (this one's export, or an archive imported
                 * before): nothing to add.  Checked once the whole archive was
                 * read and every image matched its manifest, so that a damaged
                 * archive says so whatever the store holds. */
                r = backup_store_find_same(ia->store, ia->header, &ia->existing);
                if (r < 0)
                        return r;
                if (r > 0) {
                        log_info("The archive holds backup %s/%s, which is already stored: nothing is added.",
                                 ia->header->device_key, ia->existing);
                        ia->writer = backup_writer_abort(ia->writer);
                        *ret_id = strdup(ia->existing);
                        return *ret_id ? 0 : -ENOMEM;
                }
                r = backup_writer_set_verified(ia->writer, "import-sha256");
                if (r >= 0)
                        r = backup_writer_commit(ia->writer, ret_id);
                if (r < 0)
                        return r; /* import_archive_free() removes it */
                ia->writer = NULL; /* committed */
                return 0;
        }
        if (!mb.regular)
                return import_archive_other(ia, &mb, ret_error);
        if (streq(mb.base, "manifest.yaml"))
                return parse_error(ret_error, "the archive holds two manifests");
        for (j = 0; j < h->n_parts && (ia->seen[j] || !streq(h->parts[j].file, mb.base)); j++)
                ;
        if (j == h->n_parts)
                return parse_error(ret_error, "member %s is not in the archive's manifest (or is there twice)",
                                   mb.name);
        p = &h->parts[j];
        if (mb.size < 0 || (uint64_t) mb.size != p->size)
                return parse_error(ret_error, "%s does not match the manifest (size or SHA-256): the archive is "
                                   "damaged or was edited", p->file);
        r = backup_writer_begin_partition(ia->writer, p->name, p->region, p->offset, p->size);
        if (r < 0)
                return r == -EINVAL ? parse_error(ret_error, "its manifest names a partition \"%s\" that cannot "
                                                  "be stored", p->name) : r;
        ia->seen[j] = true;
        ia->cur = j;
        ia->cur_done = 0;
        ia->state = IMPORT_MEMBER_DATA;
        return 1;
}

static int import_archive_member_data(ImportArchive *ia, char **ret_error) {
        const ManifestPartition *p = &ia->header->parts[ia->cur];
        uint8_t sha[32];
        ssize_t k;
        int r;

        k = archive_scan_read(ia->scan, ia->chunk, IMPORT_CHUNK, ret_error);
        if (k < 0)
                return (int) k;
        if (k > 0) {
                ia->cur_done += (uint64_t) k;
                r = backup_writer_write(ia->writer, ia->chunk, (size_t) k);
                return r < 0 ? r : 1;
        }
        if (ia->cur_done != p->size)
                return parse_error(ret_error, "member %s is truncated", p->file);
        r = backup_writer_end_partition(ia->writer, sha);
        if (r < 0)
                return r;
        if (memcmp(sha, p->sha256, 32) != 0)
                return parse_error(ret_error, "%s does not match the manifest (size or SHA-256): the archive is "
                                   "damaged or was edited", p->file);
        ia->state = IMPORT_MEMBER_HEADER;
        return 1;
}

int import_archive_step(ImportArchive *ia, char **ret_id, char **ret_error) {
        switch (ia->state) {
        case IMPORT_MANIFEST_HEADER:
                return import_archive_manifest_header(ia, ret_error);
        case IMPORT_MANIFEST_DATA:
                return import_archive_manifest_data(ia, ret_error);
        case IMPORT_MEMBER_HEADER:
                return import_archive_member_header(ia, ret_id, ret_error);
        case IMPORT_MEMBER_DATA:
                return import_archive_member_data(ia, ret_error);
        case IMPORT_DONE:
                break;
        }
        return -EALREADY;
}

bool import_archive_already_stored(const ImportArchive *ia) {
        return ia->existing;
}

/* ------------------------------------------------------------ images */

ImportSet *import_set_free(ImportSet *s) {
        if (!s)
                return NULL;
        if (s->writer)
                backup_writer_abort(s->writer);
        for (size_t i = 0; s->header && s->images && i < s->header->n_parts; i++)
                free(s->images[i]);
        free(s->images);
        manifest_free(s->header);
        return mfree(s);
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
        /* p.sha256 stays empty: the store hashes the image as it writes it (in steps) */
        images = realloc(s->images, (s->header->n_parts + 1) * sizeof(uint8_t *));
        if (!images)
                return -ENOMEM;
        s->images = images;
        r = manifest_add_partition(s->header, &p);
        if (r < 0)
                return r == -E2BIG ? parse_error(ret_error, "too many images") : r;
        s->images[s->header->n_parts - 1] = data;
        s->total += size;
        return 0;
}

int import_set_store_step(ImportSet *s, BackupStore *store, char **ret_id) {
        const ManifestPartition *p;
        uint8_t sha[32];
        size_t n;
        int r;

        if (s->header->n_parts == 0)
                return -EINVAL;
        if (!s->writer) {
                import_decide_binding(store, s->header);
                r = backup_store_begin(store, s->header, &s->writer);
                if (r < 0)
                        return r;
                s->stored = s->offset = 0;
        }
        if (s->stored == s->header->n_parts) {
                r = backup_writer_set_verified(s->writer, "import-sha256");
                if (r >= 0)
                        r = backup_writer_commit(s->writer, ret_id);
                if (r < 0)
                        return r; /* import_set_free() removes it */
                s->writer = NULL; /* committed */
                return 0;
        }
        p = &s->header->parts[s->stored];
        if (s->offset == 0) {
                r = backup_writer_begin_partition(s->writer, p->name, p->region, p->offset, p->size);
                if (r < 0)
                        return r;
        }
        n = (size_t) MIN((uint64_t) IMPORT_CHUNK, p->size - s->offset);
        r = backup_writer_write(s->writer, s->images[s->stored] + s->offset, n);
        if (r < 0)
                return r;
        s->offset += n;
        if (s->offset < p->size)
                return 1;
        r = backup_writer_end_partition(s->writer, sha);
        if (r < 0)
                return r;
        s->images[s->stored] = mfree(s->images[s->stored]);
        s->stored++;
        s->offset = 0;
        return 1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "macro.h"
#include "manifest.h"
#include "parse-error.h"

Manifest *manifest_new(void) {
        Manifest *m = calloc(1, sizeof(*m));

        if (m) {
                m->format_version = MANIFEST_FORMAT_VERSION;
                m->storage_type = _STORAGE_TYPE_INVALID;
                snprintf(m->tool_version, sizeof(m->tool_version), "%s", MTKNVD_VERSION);
        }
        return m;
}

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        free(m->parts);
        free(m);
        return NULL;
}

uint64_t manifest_stored_usec(const Manifest *m) {
        return m->imported_usec ?: m->created_usec;
}

bool manifest_safe_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 79 || s[0] == '.')
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '-' || *p == '.'))
                        return false;
        return true;
}

int manifest_add_partition(Manifest *m, const ManifestPartition *p) {
        ManifestPartition *n;

        if (m->n_parts >= MANIFEST_PARTS_MAX)
                return -E2BIG;
        n = reallocarray(m->parts, m->n_parts + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        m->parts = n;
        m->parts[m->n_parts++] = *p;
        return 0;
}

/* ------------------------------------------------------------ regions of versions 1 and 2 */

/* The first version that names regions and records the storage. */
#define MANIFEST_VERSION_STORAGE 3

/* What versions 1 and 2 wrote for a region: the legacy DA's numbers of the
 * time (da.md §5.1), frozen here as part of the file format, whatever any
 * DA numbers them as today. */
static int manifest_v2_region_number(StorageRegion r) {
        switch (r) {
        case STORAGE_REGION_USER:
                return 8;
        case STORAGE_REGION_BOOT1:
                return 1;
        case STORAGE_REGION_BOOT2:
                return 2;
        case STORAGE_REGION_RPMB:
                return 3;
        case STORAGE_REGION_ANY:
                return 0xff;
        case _STORAGE_REGION_MAX:
        case _STORAGE_REGION_INVALID:
                break;
        }
        return -EINVAL;
}

static StorageRegion manifest_v2_region_from_number(uint64_t n) {
        for (StorageRegion r = 0; r < _STORAGE_REGION_MAX; r++)
                if ((uint64_t) manifest_v2_region_number(r) == n)
                        return r;
        return n == (uint64_t) manifest_v2_region_number(STORAGE_REGION_ANY) ? STORAGE_REGION_ANY
                                                                              : _STORAGE_REGION_INVALID;
}

/* ------------------------------------------------------------ writing */

static int emit(yaml_emitter_t *e, yaml_event_t *ev) {
        return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, bool plain) {
        yaml_event_t ev;

        yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) s, (int) strlen(s), 1, 1,
                                     plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return emit(e, &ev);
}

static int emit_pair(yaml_emitter_t *e, const char *key, const char *value) {
        int r = emit_scalar(e, key, true);

        return r < 0 ? r : emit_scalar(e, value, false);
}

static int emit_pair_u64(yaml_emitter_t *e, const char *key, uint64_t v) {
        char buf[32];
        int r = emit_scalar(e, key, true);

        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return r < 0 ? r : emit_scalar(e, buf, true);
}

static int emit_mapping(yaml_emitter_t *e, bool start) {
        yaml_event_t ev;

        if (start)
                yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        else
                yaml_mapping_end_event_initialize(&ev);
        return emit(e, &ev);
}

static void hex(const uint8_t *p, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", p[i]);
        out[2 * n] = 0;
}

static int manifest_emit(yaml_emitter_t *e, const Manifest *m) {
        yaml_event_t ev;
        char created[32], imported[32], sha[65];
        time_t t = (time_t) (m->created_usec / 1000000), ti = (time_t) (m->imported_usec / 1000000);
        struct tm tm;
        int r = 0;

        if (m->format_version < MANIFEST_FORMAT_VERSION_MIN || m->format_version > MANIFEST_FORMAT_VERSION)
                return -EINVAL;
        gmtime_r(&t, &tm);
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
        gmtime_r(&ti, &tm);
        strftime(imported, sizeof(imported), "%Y-%m-%dT%H:%M:%SZ", &tm);

        yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
        r = emit(e, &ev);
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
        if (r >= 0)
                r = emit(e, &ev);
        if (r >= 0)
                r = emit_mapping(e, true);
        if (r >= 0)
                /* the version it was read as: rewritten in a newer one, its binding would break */
                r = emit_pair_u64(e, "format_version", m->format_version);
        if (r >= 0)
                r = emit_pair(e, "tool", "mtknvd");
        if (r >= 0)
                r = emit_pair(e, "tool_version", m->tool_version);
        if (r >= 0)
                r = emit_pair(e, "created", created);
        if (r >= 0 && m->imported_usec > 0)
                r = emit_pair(e, "imported", imported);
        if (r >= 0)
                r = emit_pair(e, "source", m->source);
        if (r >= 0)
                r = emit_scalar(e, "device", true);
        if (r >= 0)
                r = emit_mapping(e, true);
        if (r >= 0)
                r = emit_pair(e, "key", m->device_key);
        if (r >= 0)
                r = emit_pair(e, "chip", m->chip);
        if (r >= 0)
                r = emit_pair_u64(e, "hw_code", m->hw_code);
        if (r >= 0)
                r = emit_pair(e, "me_id", m->me_id);
        if (r >= 0)
                r = emit_pair(e, "soc_id", m->soc_id);
        if (r >= 0)
                r = emit_pair(e, "emmc_cid", m->emmc_cid);
        if (r >= 0 && m->format_version >= MANIFEST_VERSION_STORAGE) {
                r = emit_pair(e, "storage_type", storage_type_to_string(m->storage_type) ?: "");
                if (r >= 0)
                        r = emit_pair(e, "storage_id", m->storage_id);
        }
        if (r >= 0)
                r = emit_mapping(e, false);
        if (r >= 0)
                r = emit_pair(e, "table_source", m->table_source);
        if (r >= 0)
                r = emit_scalar(e, "verified", true);
        if (r >= 0)
                r = emit_scalar(e, m->verified ? "true" : "false", true);
        if (r >= 0)
                r = emit_pair(e, "verify_method", m->verify_method);
        if (r >= 0)
                r = emit_scalar(e, "partitions", true);
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (r >= 0)
                r = emit(e, &ev);
        for (size_t i = 0; r >= 0 && i < m->n_parts; i++) {
                const ManifestPartition *p = &m->parts[i];

                hex(p->sha256, sizeof(p->sha256), sha);
                r = emit_mapping(e, true);
                if (r >= 0)
                        r = emit_pair(e, "name", p->name);
                if (r >= 0)
                        r = emit_pair(e, "file", p->file);
                if (r >= 0 && m->format_version >= MANIFEST_VERSION_STORAGE) {
                        const char *region = storage_region_to_string(p->region);

                        r = region ? emit_scalar(e, "region", true) : -EINVAL;
                        if (r >= 0)
                                r = emit_scalar(e, region, true); /* a name of ours, plain as the numbers were */
                } else if (r >= 0) {
                        int n = manifest_v2_region_number(p->region);

                        r = n >= 0 ? emit_pair_u64(e, "region", (uint64_t) n) : -EINVAL;
                }
                if (r >= 0)
                        r = emit_pair_u64(e, "offset", p->offset);
                if (r >= 0)
                        r = emit_pair_u64(e, "size", p->size);
                if (r >= 0)
                        r = emit_pair(e, "sha256", sha);
                if (r >= 0)
                        r = emit_mapping(e, false);
        }
        yaml_sequence_end_event_initialize(&ev);
        if (r >= 0)
                r = emit(e, &ev);
        if (r >= 0 && m->has_binding) {
                char mac[2 * MANIFEST_BINDING_MAC_SIZE + 1];

                hex(m->binding_mac, sizeof(m->binding_mac), mac);
                r = emit_scalar(e, "binding", true);
                if (r >= 0)
                        r = emit_mapping(e, true);
                if (r >= 0)
                        r = emit_pair(e, "method", MANIFEST_BINDING_METHOD);
                if (r >= 0)
                        r = emit_pair(e, "key_id", m->binding_key_id);
                if (r >= 0)
                        r = emit_pair(e, "hmac", mac);
                if (r >= 0)
                        r = emit_mapping(e, false);
        }
        if (r >= 0)
                r = emit_mapping(e, false);
        yaml_document_end_event_initialize(&ev, 1);
        if (r >= 0)
                r = emit(e, &ev);
        yaml_stream_end_event_initialize(&ev);
        if (r >= 0)
                r = emit(e, &ev);
        return r;
}

int manifest_write(const Manifest *m, FILE *f) {
        yaml_emitter_t e;
        int r;

        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output_file(&e, f);
        yaml_emitter_set_unicode(&e, 1);
        r = manifest_emit(&e, m);
        if (r >= 0 && !yaml_emitter_flush(&e))
                r = -EIO;
        yaml_emitter_delete(&e);
        if (r >= 0 && (fflush(f) != 0 || ferror(f)))
                r = -errno ?: -EIO;
        return r;
}

/* ------------------------------------------------------------ reading */

typedef struct Reader {
        yaml_document_t *doc;
        char **error;
} Reader;

#define bad(rd, ...) parse_error((rd)->error, __VA_ARGS__)

static yaml_node_t *map_get(Reader *rd, yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(rd->doc, p->key);

                if (k && k->type == YAML_SCALAR_NODE && strlen(key) == k->data.scalar.length &&
                    memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
                        return yaml_document_get_node(rd->doc, p->value);
        }
        return NULL;
}

static int get_str(Reader *rd, yaml_node_t *map, const char *key, char *out, size_t size, bool required) {
        yaml_node_t *n = map_get(rd, map, key);

        if (!n) {
                if (required)
                        return bad(rd, "missing \"%s\"", key);
                out[0] = 0;
                return 0;
        }
        if (n->type != YAML_SCALAR_NODE || n->data.scalar.length >= size ||
            memchr(n->data.scalar.value, 0, n->data.scalar.length))
                return bad(rd, "\"%s\" is not a string of at most %zu characters", key, size - 1);
        memcpy(out, n->data.scalar.value, n->data.scalar.length);
        out[n->data.scalar.length] = 0;
        return 0;
}

static int get_u64(Reader *rd, yaml_node_t *map, const char *key, uint64_t max, uint64_t *ret) {
        char buf[32], *end;

        if (get_str(rd, map, key, buf, sizeof(buf), true) < 0)
                return -EBADMSG;
        if (buf[0] < '0' || buf[0] > '9')
                return bad(rd, "\"%s\" is not a number", key);
        errno = 0;
        *ret = strtoull(buf, &end, 0);
        if (errno || *end || *ret > max)
                return bad(rd, "\"%s\" is out of range", key);
        return 0;
}

static bool is_hex(const char *s, size_t max_len, bool even) {
        size_t n = strlen(s);

        if (n > max_len || (even && n % 2))
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

/* Optional: a manifest without it is simply not bound (version 1, or edited). */
static int manifest_read_binding(Reader *rd, yaml_node_t *root, Manifest *m) {
        yaml_node_t *b = map_get(rd, root, "binding");
        char method[32], mac[2 * MANIFEST_BINDING_MAC_SIZE + 1];

        if (!b)
                return 0;
        if (m->format_version < 2 || b->type != YAML_MAPPING_NODE)
                return bad(rd, "\"binding\" is not a mapping of a version 2 manifest");
        if (get_str(rd, b, "method", method, sizeof(method), true) < 0 ||
            get_str(rd, b, "key_id", m->binding_key_id, sizeof(m->binding_key_id), true) < 0 ||
            get_str(rd, b, "hmac", mac, sizeof(mac), true) < 0)
                return -EBADMSG;
        if (!streq(method, MANIFEST_BINDING_METHOD))
                return bad(rd, "unknown binding method \"%s\"", method);
        if (!is_hex(m->binding_key_id, 16, true) || strlen(m->binding_key_id) != 16 ||
            !is_hex(mac, 2 * MANIFEST_BINDING_MAC_SIZE, true) || strlen(mac) != 2 * MANIFEST_BINDING_MAC_SIZE)
                return bad(rd, "the binding's key_id or hmac is malformed");
        for (size_t k = 0; k < MANIFEST_BINDING_MAC_SIZE; k++)
                m->binding_mac[k] = (uint8_t) strtoul((char[]) { mac[2 * k], mac[2 * k + 1], 0 }, NULL, 16);
        m->has_binding = true;
        return 0;
}

/* A UTC time as manifest_emit() writes it. */
static int manifest_read_time(Reader *rd, const char *key, const char *s, uint64_t *ret_usec) {
        struct tm tm = {};
        char *end;
        time_t t;

        end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end)
                return bad(rd, "\"%s\" is not a UTC time like 2026-01-31T12:00:00Z", key);
        t = timegm(&tm);
        /* found by fuzzing: a year before 1970 would not survive a round trip */
        if (t < 946684800 || tm.tm_year + 1900 > 9999)
                return bad(rd, "\"%s\" (%s) is not a plausible time", key, s);
        *ret_usec = (uint64_t) t * 1000000ULL;
        return 0;
}

static int manifest_read(Reader *rd, yaml_node_t *root, Manifest *m) {
        char tool[16], created[32], imported[32] = "", verified[8], sha[65], region[16];
        yaml_node_t *dev, *parts;
        uint64_t v;

        if (!root || root->type != YAML_MAPPING_NODE)
                return bad(rd, "the manifest is not a YAML mapping");
        if (get_u64(rd, root, "format_version", UINT32_MAX, &v) < 0)
                return -EBADMSG;
        if (v < MANIFEST_FORMAT_VERSION_MIN || v > MANIFEST_FORMAT_VERSION)
                return bad(rd, "format version %" PRIu64 " is not supported (this mtknvd reads versions %u to %u); "
                           "update mtknvd", v, MANIFEST_FORMAT_VERSION_MIN, MANIFEST_FORMAT_VERSION);
        m->format_version = (unsigned) v;
        if (get_str(rd, root, "tool", tool, sizeof(tool), true) < 0 ||
            get_str(rd, root, "tool_version", m->tool_version, sizeof(m->tool_version), false) < 0 ||
            get_str(rd, root, "created", created, sizeof(created), true) < 0 ||
            get_str(rd, root, "imported", imported, sizeof(imported), false) < 0 ||
            get_str(rd, root, "source", m->source, sizeof(m->source), true) < 0 ||
            get_str(rd, root, "table_source", m->table_source, sizeof(m->table_source), true) < 0 ||
            get_str(rd, root, "verified", verified, sizeof(verified), true) < 0 ||
            get_str(rd, root, "verify_method", m->verify_method, sizeof(m->verify_method), false) < 0)
                return -EBADMSG;
        if (!streq(tool, "mtknvd"))
                return bad(rd, "not an mtknvd manifest (tool \"%s\")", tool);
        if (manifest_read_time(rd, "created", created, &m->created_usec) < 0 ||
            (imported[0] && manifest_read_time(rd, "imported", imported, &m->imported_usec) < 0))
                return -EBADMSG;
        if (!streq(m->source, "auto") && !streq(m->source, "manual") && !streq(m->source, "pre-restore") &&
            !streq(m->source, "import"))
                return bad(rd, "unknown source \"%s\"", m->source);
        if (!streq(m->table_source, "gpt") && !streq(m->table_source, "pmt") &&
            !streq(m->table_source, "scatter") && !streq(m->table_source, "none"))
                return bad(rd, "unknown table_source \"%s\"", m->table_source);
        if (!streq(verified, "true") && !streq(verified, "false"))
                return bad(rd, "\"verified\" must be true or false");
        m->verified = streq(verified, "true");

        dev = map_get(rd, root, "device");
        if (!dev || dev->type != YAML_MAPPING_NODE)
                return bad(rd, "missing \"device\"");
        if (get_str(rd, dev, "key", m->device_key, sizeof(m->device_key), true) < 0 ||
            get_str(rd, dev, "chip", m->chip, sizeof(m->chip), false) < 0 ||
            get_str(rd, dev, "me_id", m->me_id, sizeof(m->me_id), false) < 0 ||
            get_str(rd, dev, "soc_id", m->soc_id, sizeof(m->soc_id), false) < 0 ||
            get_str(rd, dev, "emmc_cid", m->emmc_cid, sizeof(m->emmc_cid), false) < 0 ||
            get_u64(rd, dev, "hw_code", 0xffff, &v) < 0)
                return -EBADMSG;
        m->hw_code = (uint16_t) v;
        if (!manifest_safe_name(m->device_key))
                return bad(rd, "device key \"%s\" is not a plain name", m->device_key);
        if (!is_hex(m->me_id, 128, true) || !is_hex(m->soc_id, 128, true) || !is_hex(m->emmc_cid, 64, true))
                return bad(rd, "device identifiers must be lower-case hex");
        if (m->format_version >= MANIFEST_VERSION_STORAGE) {
                char type[16];

                if (get_str(rd, dev, "storage_type", type, sizeof(type), true) < 0 ||
                    get_str(rd, dev, "storage_id", m->storage_id, sizeof(m->storage_id), true) < 0)
                        return -EBADMSG;
                m->storage_type = type[0] ? storage_type_from_string(type) : _STORAGE_TYPE_INVALID;
                if (type[0] && m->storage_type < 0)
                        return bad(rd, "unknown storage_type \"%s\" (known: emmc, ufs, or \"\" when not known); "
                                   "the backup was written by a newer mtknvd (update mtknvd) or edited", type);
                if (!is_hex(m->storage_id, sizeof(m->storage_id) - 1, true))
                        return bad(rd, "storage_id must be lower-case hex");
        } else {
                /* only the legacy DA wrote these, and it reads eMMC alone: its CID was the storage's id */
                m->storage_type = m->emmc_cid[0] ? STORAGE_EMMC : _STORAGE_TYPE_INVALID;
                snprintf(m->storage_id, sizeof(m->storage_id), "%s", m->emmc_cid);
        }

        parts = map_get(rd, root, "partitions");
        if (!parts || parts->type != YAML_SEQUENCE_NODE)
                return bad(rd, "missing \"partitions\"");
        for (yaml_node_item_t *it = parts->data.sequence.items.start; it < parts->data.sequence.items.top; it++) {
                yaml_node_t *pn = yaml_document_get_node(rd->doc, *it);
                ManifestPartition p = {};
                int r;

                if (!pn || pn->type != YAML_MAPPING_NODE)
                        return bad(rd, "partition %zu is not a mapping", m->n_parts + 1);
                if (get_str(rd, pn, "name", p.name, sizeof(p.name), true) < 0 ||
                    get_str(rd, pn, "file", p.file, sizeof(p.file), true) < 0 ||
                    get_str(rd, pn, "sha256", sha, sizeof(sha), true) < 0)
                        return -EBADMSG;
                if (m->format_version >= MANIFEST_VERSION_STORAGE) {
                        if (get_str(rd, pn, "region", region, sizeof(region), true) < 0)
                                return -EBADMSG;
                        p.region = storage_region_from_string(region);
                        if (p.region < 0)
                                return bad(rd, "partition \"%s\" is in an unknown region \"%s\" (known: %s); "
                                           "the backup was written by a newer mtknvd (update mtknvd) or edited",
                                           p.name, region, storage_region_names());
                } else {
                        if (get_u64(rd, pn, "region", UINT64_MAX, &v) < 0)
                                return -EBADMSG;
                        p.region = manifest_v2_region_from_number(v);
                        if (p.region < 0)
                                return bad(rd, "partition \"%s\" is in region %" PRIu64 ", a number no version "
                                           "%u manifest holds (8 user, 1 boot1, 2 boot2, 3 rpmb, 255 any): "
                                           "the manifest is damaged or was edited", p.name, v, m->format_version);
                }
                if (get_u64(rd, pn, "offset", UINT64_MAX / 2, &p.offset) < 0 ||
                    get_u64(rd, pn, "size", 1ULL << 40, &p.size) < 0)
                        return -EBADMSG;
                if (p.size == 0)
                        return bad(rd, "partition \"%s\" has size 0", p.name);
                if (!manifest_safe_name(p.name) || !manifest_safe_name(p.file))
                        return bad(rd, "partition \"%s\" has an unsafe name or file name", p.name);
                if (!is_hex(sha, 64, true) || strlen(sha) != 64)
                        return bad(rd, "partition \"%s\" has a malformed sha256", p.name);
                for (size_t k = 0; k < 32; k++)
                        p.sha256[k] = (uint8_t) strtoul((char[]) { sha[2 * k], sha[2 * k + 1], 0 }, NULL, 16);
                for (size_t k = 0; k < m->n_parts; k++)
                        if (streq(m->parts[k].name, p.name) || streq(m->parts[k].file, p.file))
                                return bad(rd, "partition \"%s\" is listed twice", p.name);
                r = manifest_add_partition(m, &p);
                if (r == -E2BIG)
                        return bad(rd, "more than %u partitions", MANIFEST_PARTS_MAX);
                if (r < 0)
                        return r;
        }
        if (m->n_parts == 0)
                return bad(rd, "the backup lists no partitions");
        return manifest_read_binding(rd, root, m);
}

int manifest_parse(const uint8_t *data, size_t size, Manifest **ret, char **ret_error) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        yaml_parser_t parser;
        yaml_document_t doc;
        Reader rd = { .doc = &doc, .error = ret_error };
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (size > 1024 * 1024)
                return bad(&rd, "the manifest is larger than 1 MiB");
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, data, size);
        if (!yaml_parser_load(&parser, &doc)) {
                r = bad(&rd, "not valid YAML: %s at line %zu", parser.problem ?: "syntax error",
                        parser.problem_mark.line + 1);
                yaml_parser_delete(&parser);
                return r;
        }
        r = manifest_read(&rd, yaml_document_get_root_node(&doc), m);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* ------------------------------------------------------------ binding */

typedef struct Canon {
        uint8_t *buf;
        size_t len, size;
} Canon;

static int canon_put(Canon *c, const void *p, size_t n) {
        if (c->len + n > c->size) {
                size_t size = MAX(c->size * 2, c->len + n + 256);
                uint8_t *b = realloc(c->buf, size);

                if (!b)
                        return -ENOMEM;
                c->buf = b;
                c->size = size;
        }
        memcpy(c->buf + c->len, p, n);
        c->len += n;
        return 0;
}

static int canon_u64(Canon *c, uint64_t v) {
        uint8_t be[8];

        for (unsigned i = 0; i < 8; i++)
                be[i] = (uint8_t) (v >> (56 - 8 * i));
        return canon_put(c, be, sizeof(be));
}

/* Length-prefixed: no value can run into the next one. */
static int canon_str(Canon *c, const char *s) {
        size_t n = strlen(s);
        uint8_t be[4] = { (uint8_t) (n >> 24), (uint8_t) (n >> 16), (uint8_t) (n >> 8), (uint8_t) n };
        int r = canon_put(c, be, sizeof(be));

        return r < 0 ? r : canon_put(c, s, n);
}

/* Format versions 1 and 2: the bytes exactly as mtknvd signed them before version 3 (manifest.h). */
static int manifest_binding_canonical_v1(const Manifest *m, Canon *c) {
        static const char tag[] = "mtknvd-binding-v1";
        int r;

        r = canon_put(c, tag, sizeof(tag)); /* with its NUL */
        if (r >= 0)
                r = canon_str(c, m->device_key);
        if (r >= 0)
                r = canon_str(c, m->chip);
        if (r >= 0)
                r = canon_str(c, m->me_id);
        if (r >= 0)
                r = canon_str(c, m->soc_id);
        if (r >= 0)
                r = canon_str(c, m->emmc_cid);
        if (r >= 0)
                r = canon_str(c, m->table_source);
        if (r >= 0)
                r = canon_u64(c, m->hw_code);
        if (r >= 0)
                r = canon_u64(c, m->n_parts);
        for (size_t i = 0; r >= 0 && i < m->n_parts; i++) {
                const ManifestPartition *p = &m->parts[i];
                int region = manifest_v2_region_number(p->region);

                r = region >= 0 ? canon_str(c, p->name) : -EINVAL;
                if (r >= 0)
                        r = canon_str(c, p->file);
                if (r >= 0)
                        r = canon_u64(c, (uint64_t) region);
                if (r >= 0)
                        r = canon_u64(c, p->offset);
                if (r >= 0)
                        r = canon_u64(c, p->size);
                if (r >= 0)
                        r = canon_put(c, p->sha256, sizeof(p->sha256));
        }
        return r;
}

/* Format version 3: regions by name, and the storage. */
static int manifest_binding_canonical_v2(const Manifest *m, Canon *c) {
        static const char tag[] = "mtknvd-binding-v2";
        int r;

        r = canon_put(c, tag, sizeof(tag)); /* with its NUL */
        if (r >= 0)
                r = canon_str(c, m->device_key);
        if (r >= 0)
                r = canon_str(c, m->chip);
        if (r >= 0)
                r = canon_str(c, m->me_id);
        if (r >= 0)
                r = canon_str(c, m->soc_id);
        if (r >= 0)
                r = canon_str(c, m->emmc_cid);
        if (r >= 0)
                r = canon_str(c, storage_type_to_string(m->storage_type) ?: "");
        if (r >= 0)
                r = canon_str(c, m->storage_id);
        if (r >= 0)
                r = canon_str(c, m->table_source);
        if (r >= 0)
                r = canon_u64(c, m->hw_code);
        if (r >= 0)
                r = canon_u64(c, m->n_parts);
        for (size_t i = 0; r >= 0 && i < m->n_parts; i++) {
                const ManifestPartition *p = &m->parts[i];
                const char *region = storage_region_to_string(p->region);

                r = region ? canon_str(c, p->name) : -EINVAL;
                if (r >= 0)
                        r = canon_str(c, p->file);
                if (r >= 0)
                        r = canon_str(c, region);
                if (r >= 0)
                        r = canon_u64(c, p->offset);
                if (r >= 0)
                        r = canon_u64(c, p->size);
                if (r >= 0)
                        r = canon_put(c, p->sha256, sizeof(p->sha256));
        }
        return r;
}

int manifest_binding_canonical(const Manifest *m, uint8_t **ret, size_t *ret_size) {
        Canon c = {};
        int r;

        if (m->format_version >= MANIFEST_VERSION_STORAGE)
                r = manifest_binding_canonical_v2(m, &c);
        else
                r = manifest_binding_canonical_v1(m, &c);
        if (r < 0) {
                free(c.buf);
                return r;
        }
        *ret = c.buf;
        *ret_size = c.len;
        return 0;
}

int manifest_binding_compute(const Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE],
                             uint8_t ret[MANIFEST_BINDING_MAC_SIZE]) {
        _cleanup_free_ uint8_t *data = NULL;
        unsigned len = 0;
        size_t n = 0;
        int r;

        r = manifest_binding_canonical(m, &data, &n);
        if (r < 0)
                return r;
        if (!HMAC(EVP_sha256(), key, MANIFEST_BINDING_KEY_SIZE, data, n, ret, &len) ||
            len != MANIFEST_BINDING_MAC_SIZE)
                return -EIO;
        return 0;
}

int manifest_binding_sign(Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE], const char *key_id) {
        unsigned version = m->format_version;
        int r;

        m->format_version = MANIFEST_FORMAT_VERSION;
        r = manifest_binding_compute(m, key, m->binding_mac);
        if (r < 0) {
                m->format_version = version;
                return r;
        }
        snprintf(m->binding_key_id, sizeof(m->binding_key_id), "%s", key_id);
        m->has_binding = true;
        return 0;
}

bool manifest_binding_verify(const Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE]) {
        uint8_t mac[MANIFEST_BINDING_MAC_SIZE];

        if (!m->has_binding || manifest_binding_compute(m, key, mac) < 0)
                return false;
        return CRYPTO_memcmp(mac, m->binding_mac, sizeof(mac)) == 0;
}

bool manifest_has_identity(const Manifest *m) {
        return m->me_id[0] || m->soc_id[0] || m->emmc_cid[0] || m->storage_id[0];
}

void manifest_clear_identity(Manifest *m, const char *device_key) {
        snprintf(m->device_key, sizeof(m->device_key), "%s", device_key);
        m->me_id[0] = m->soc_id[0] = m->emmc_cid[0] = m->storage_id[0] = 0;
        m->has_binding = false;
        m->binding_key_id[0] = 0;
        memset(m->binding_mac, 0, sizeof(m->binding_mac));
}

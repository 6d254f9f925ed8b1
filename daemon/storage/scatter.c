/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Assumptions where da.md is unsure:
 * - V1.1.x: the user-area offset is physical_start_addr; where a file (the
 *   PMT era, V1.1.1) gives physical 0 for every user-area partition, it is
 *   linear_start_addr minus the linear address of the first user-area
 *   partition (da.md §5.5 "User-area offset = linear − MBR linear").
 * - V1.0: addresses are linear; the user area starts at the MBR entry.
 * - Reserved entries (32-bit addresses >= 0xFFFF0000, or is_reserved) are stacked
 *   from the end of the user area in file order, as penumbra does (§6.1).
 * - V2.x ("- storage_type: EMMC|UFS" blocks, each a "description:" list of
 *   the V1.1 partition blocks; §6.1 is UNSURE of real files): each block is a
 *   table of its own, placed on its own; the phone's storage type picks one.
 *   UFS_LU0/LU1/LU2 are the boot, boot-backup and user LUs (xflash.md §8.2,
 *   §10.1), i.e. the boot1, boot2 and user regions of the storage model.
 * - XML files (§6.3; element names in scatter-xml.c): the same fields as the
 *   V1.1 keys, the same placement; <partition_index> directly under <root>
 *   is one table, <storage_type name="…"> elements are V2.x's tables.
 * - Every table: a name listed twice with the same placement is one
 *   partition (a public V2.2 test fixture says TCL packages repeat their
 *   whole table); listed twice with another placement, or two placed
 *   partitions of one region sharing bytes, and the file is refused: a
 *   backup must not guess which one the phone has.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "identity-set.h"
#include "macro.h"
#include "parse-error.h"
#include "scatter.h"
#include "scatter-xml.h"

#define SCATTER_ENTRIES_MAX 512
#define RESERVED_BASE 0xffff0000ULL

/* The 32-bit addresses 0xFFFF0000… count from the end of the user area; a
 * 64-bit address above 4 GiB is a real one (an 8 GiB eMMC's userdata). */
static bool address_is_end_relative(uint64_t a) {
        return a >= RESERVED_BASE && a <= UINT32_MAX;
}

ScatterFile *scatter_file_free(ScatterFile *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_tables; i++)
                free(s->tables[i].entries);
        free(s->tables);
        free(s->entries);
        free(s);
        return NULL;
}

static int entries_add(ScatterEntry **entries, size_t *n_entries, const ScatterEntry *e) {
        ScatterEntry *n;

        if (*n_entries >= SCATTER_ENTRIES_MAX)
                return -E2BIG;
        n = reallocarray(*entries, *n_entries + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        *entries = n;
        (*entries)[(*n_entries)++] = *e;
        return 0;
}

static int scatter_add(ScatterFile *s, const ScatterEntry *e) {
        return entries_add(&s->entries, &s->n_entries, e);
}

/* The table as s's table in use (a copy: the tables keep theirs). */
static int scatter_use_table(ScatterFile *s, const ScatterTable *t) {
        ScatterEntry *copy = NULL;

        if (t->n_entries > 0) {
                copy = reallocarray(NULL, t->n_entries, sizeof(*copy));
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, t->entries, t->n_entries * sizeof(*copy));
        }
        free(s->entries);
        s->entries = copy;
        s->n_entries = t->n_entries;
        return 0;
}

int scatter_file_use_storage(ScatterFile *s, const char *storage, char **ret_error) {
        _cleanup_free_ char *have = NULL;
        size_t len = 0;
        FILE *f;

        if (ret_error)
                *ret_error = NULL;
        if (s->n_tables == 0)
                return 0;
        for (size_t i = 0; i < s->n_tables; i++)
                if (storage && strcasecmp(s->tables[i].storage, storage) == 0)
                        return scatter_use_table(s, &s->tables[i]);
        f = open_memstream(&have, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_tables; i++)
                fprintf(f, "%s%s", i > 0 ? ", " : "", s->tables[i].storage);
        if (fclose(f) != 0)
                return -ENOMEM;
        (void) parse_error(ret_error, "it has partition tables for %s storage but none for the phone's %s; use "
                           "the scatter file of this phone's firmware package", have, storage ?: "unknown");
        return -ENOENT;
}

/* The scatter file's region names (da.md §5.1, §6.2) in mtknvd's model.
 * EMMC_RPMB is not in any file the reference read: it is spelled as its
 * neighbours are.  A name not known here (EMMC_GP*, UFS_LU*) is taken as the
 * user area, as it was before regions had a model of their own (UFS_LU2 is). */
static StorageRegion region_from_string(const char *r) {
        if (strcasecmp(r, "EMMC_BOOT_1") == 0 || strcasecmp(r, "EMMC_BOOT1") == 0 ||
            strcasecmp(r, "EMMC_BOOT1_BOOT2") == 0)
                return STORAGE_REGION_BOOT1;
        if (strcasecmp(r, "EMMC_BOOT_2") == 0 || strcasecmp(r, "EMMC_BOOT2") == 0)
                return STORAGE_REGION_BOOT2;
        if (strcasecmp(r, "EMMC_RPMB") == 0)
                return STORAGE_REGION_RPMB;
        /* UFS: LU0 the boot LU, LU1 its backup, LU2 the user LU (xflash.md §8.2) */
        if (strcasecmp(r, "UFS_LU0") == 0)
                return STORAGE_REGION_BOOT1;
        if (strcasecmp(r, "UFS_LU1") == 0)
                return STORAGE_REGION_BOOT2;
        return STORAGE_REGION_USER;
}

static int parse_number(const char *s, uint64_t *ret) {
        char *end;

        if (!s || !*s || *s == '-')
                return -EINVAL;
        errno = 0;
        *ret = strtoull(s, &end, 0);
        while (*end == ' ' || *end == '\t' || *end == '\r')
                end++;
        return errno || *end ? -EINVAL : 0;
}

/* ------------------------------------------------------------ V1.1.x (YAML) */

typedef struct Yaml {
        yaml_document_t doc;
        char **error;
} Yaml;

static const char *yaml_scalar(Yaml *y, yaml_node_t *map, const char *key, char *buf, size_t size) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(&y->doc, p->key), *v;

                if (!k || k->type != YAML_SCALAR_NODE || strlen(key) != k->data.scalar.length ||
                    strncmp((char *) k->data.scalar.value, key, k->data.scalar.length) != 0)
                        continue;
                v = yaml_document_get_node(&y->doc, p->value);
                if (!v || v->type != YAML_SCALAR_NODE || v->data.scalar.length >= size)
                        return NULL;
                memcpy(buf, v->data.scalar.value, v->data.scalar.length);
                buf[v->data.scalar.length] = 0;
                /* trailing blanks survive in some files */
                for (size_t n = strlen(buf); n > 0 && isspace((unsigned char) buf[n - 1]);)
                        buf[--n] = 0;
                return buf;
        }
        return NULL;
}

static yaml_node_t *yaml_child(Yaml *y, yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);

                if (k && k->type == YAML_SCALAR_NODE && strlen(key) == k->data.scalar.length &&
                    strncmp((char *) k->data.scalar.value, key, k->data.scalar.length) == 0)
                        return yaml_document_get_node(&y->doc, p->value);
        }
        return NULL;
}

/* A partition's fields as the file spells them (NULL: absent). */
typedef struct PartitionFields {
        const char *name, *size, *linear, *physical, *region, *reserved;
} PartitionFields;

/* where: "entry 3", "line 42": for messages */
static int scatter_partition_add(ScatterEntry **entries, size_t *n_entries, const PartitionFields *f,
                                 const char *where, char **error) {
        uint64_t linear = 0, physical = 0;
        ScatterEntry e = {};

        if (!f->name || !*f->name)
                return 0; /* an empty name is a placeholder: skip it */
        if (!f->size || parse_number(f->size, &e.size) < 0)
                return parse_error(error, "partition %s (%s) has no valid partition_size", f->name, where);
        if (f->linear && parse_number(f->linear, &linear) < 0)
                return parse_error(error, "partition %s has an invalid linear_start_addr \"%s\"", f->name, f->linear);
        if (f->physical && parse_number(f->physical, &physical) < 0)
                return parse_error(error, "partition %s has an invalid physical_start_addr \"%s\"", f->name,
                                   f->physical);
        snprintf(e.name, sizeof(e.name), "%s", f->name);
        e.region = f->region ? region_from_string(f->region) : STORAGE_REGION_USER;
        e.reserved = (f->reserved && streq(f->reserved, "true")) || address_is_end_relative(physical) ||
                     address_is_end_relative(linear);
        /* physical 0 with a non-zero linear address: resolved below */
        e.offset = physical != 0 || linear == 0 ? physical : linear;
        e.resolved = !e.reserved && (physical != 0 || linear == 0);
        return entries_add(entries, n_entries, &e);
}

static int scatter_yaml_partition(Yaml *y, ScatterEntry **entries, size_t *n_entries, yaml_node_t *m, size_t idx) {
        char name[64] = "", lin[40], phys[40], size_s[40], region[32], reserved[16], where[32];
        PartitionFields f = {
                .name = yaml_scalar(y, m, "partition_name", name, sizeof(name)),
                .size = yaml_scalar(y, m, "partition_size", size_s, sizeof(size_s)),
                .linear = yaml_scalar(y, m, "linear_start_addr", lin, sizeof(lin)),
                .physical = yaml_scalar(y, m, "physical_start_addr", phys, sizeof(phys)),
                .region = yaml_scalar(y, m, "region", region, sizeof(region)),
                .reserved = yaml_scalar(y, m, "is_reserved", reserved, sizeof(reserved)),
        };

        snprintf(where, sizeof(where), "entry %zu", idx);
        return scatter_partition_add(entries, n_entries, &f, where, y->error);
}

/* PMT-era files: physical 0 everywhere in the user area, linear includes
 * the boot-area header; the first user-area entry marks the start */
static int scatter_place_linear(ScatterEntry *entries, size_t n_entries, char **ret_error) {
        uint64_t user_base = UINT64_MAX;

        for (size_t i = 0; i < n_entries; i++)
                if (entries[i].region == STORAGE_REGION_USER && !entries[i].reserved) {
                        if (!entries[i].resolved)
                                user_base = MIN(user_base, entries[i].offset);
                        else if (entries[i].offset == 0)
                                user_base = 0;
                }
        for (size_t i = 0; i < n_entries; i++) {
                ScatterEntry *e = &entries[i];

                if (e->resolved || e->reserved)
                        continue;
                if (user_base == UINT64_MAX || e->offset < user_base)
                        return parse_error(ret_error, "cannot place partition %s: its linear address 0x%" PRIx64
                                           " lies before the user area", e->name, e->offset);
                e->offset -= user_base;
                e->resolved = true;
        }
        return 0;
}

/* Drops repeated identical entries; refuses a name placed twice or two
 * placed partitions of one region that share bytes. */
static int scatter_table_check(ScatterEntry *entries, size_t *n_entries, char **ret_error) {
        for (size_t i = 0; i < *n_entries; i++) {
                ScatterEntry *a = &entries[i];

                for (size_t j = i + 1; j < *n_entries;) {
                        ScatterEntry *b = &entries[j];

                        if (strcasecmp(a->name, b->name) != 0) {
                                j++;
                                continue;
                        }
                        if (a->region != b->region || a->size != b->size || a->reserved != b->reserved ||
                            a->resolved != b->resolved || a->offset != b->offset)
                                return parse_error(ret_error, "partition %s is listed twice with different "
                                                   "addresses or sizes: which one is the phone's? Use the "
                                                   "scatter file of the phone's firmware package unchanged",
                                                   a->name);
                        memmove(b, b + 1, (*n_entries - j - 1) * sizeof(*b));
                        (*n_entries)--;
                }
        }
        for (size_t i = 0; i < *n_entries; i++)
                for (size_t j = i + 1; j < *n_entries; j++) {
                        const ScatterEntry *a = &entries[i], *b = &entries[j];

                        if (!a->resolved || !b->resolved || a->size == 0 || b->size == 0 || a->region != b->region)
                                continue;
                        if (a->offset < b->offset + b->size && b->offset < a->offset + a->size &&
                            a->offset + a->size > a->offset && b->offset + b->size > b->offset)
                                return parse_error(ret_error, "partitions %s (0x%" PRIx64 "+0x%" PRIx64 ") and %s "
                                                   "(0x%" PRIx64 "+0x%" PRIx64 ") overlap in the %s area: the "
                                                   "scatter file is damaged or was edited by hand; use the one of "
                                                   "the phone's firmware package", a->name, a->offset, a->size,
                                                   b->name, b->offset, b->size, storage_region_to_string(a->region));
                }
        return 0;
}

/* Places t's entries and adds it to s's tables (t's entries then are s's). */
static int scatter_add_table(ScatterFile *s, ScatterTable *t, char **ret_error) {
        ScatterTable *n;
        int r;

        for (size_t i = 0; i < s->n_tables; i++)
                if (strcasecmp(s->tables[i].storage, t->storage) == 0)
                        return parse_error(ret_error, "storage_type %s has two tables", t->storage);
        if (s->n_tables >= 8)
                return parse_error(ret_error, "more than 8 storage_type tables");
        r = scatter_place_linear(t->entries, t->n_entries, ret_error);
        if (r >= 0)
                r = scatter_table_check(t->entries, &t->n_entries, ret_error);
        if (r < 0)
                return r;
        n = reallocarray(s->tables, s->n_tables + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->tables = n;
        s->tables[s->n_tables++] = *t;
        *t = (ScatterTable) {};
        return 0;
}

/* Until the phone's storage is known: the eMMC table, as before there were tables. */
static int scatter_use_default_table(ScatterFile *s) {
        size_t pick = 0;

        for (size_t i = 0; i < s->n_tables; i++)
                if (strcasecmp(s->tables[i].storage, "EMMC") == 0) {
                        pick = i;
                        break;
                }
        return scatter_use_table(s, &s->tables[pick]);
}

/* One "- storage_type: X" block with its "description:" list, as a table of s. */
static int scatter_yaml_storage(Yaml *y, ScatterFile *s, yaml_node_t *item, yaml_node_t *desc, size_t idx) {
        ScatterTable t = {};
        int r = 0;

        if (!yaml_scalar(y, item, "storage_type", t.storage, sizeof(t.storage)) || !*t.storage)
                return parse_error(y->error, "block %zu has a description list but no storage_type (EMMC or UFS)", idx);
        for (yaml_node_item_t *d = desc->data.sequence.items.start; r >= 0 && d < desc->data.sequence.items.top; d++)
                r = scatter_yaml_partition(y, &t.entries, &t.n_entries, yaml_document_get_node(&y->doc, *d),
                                           (size_t) (d - desc->data.sequence.items.start));
        if (r >= 0)
                r = scatter_add_table(s, &t, y->error);
        free(t.entries);
        return r;
}

static int scatter_parse_yaml(const uint8_t *data, size_t size, ScatterFile *s, char **ret_error) {
        yaml_parser_t parser;
        Yaml y = { .error = ret_error };
        yaml_node_t *root;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, data, size);
        if (!yaml_parser_load(&parser, &y.doc)) {
                r = parse_error(ret_error, "not a valid V1.1 scatter file: %s at line %zu", parser.problem ?: "syntax error",
                         parser.problem_mark.line + 1);
                yaml_parser_delete(&parser);
                return r;
        }
        root = yaml_document_get_root_node(&y.doc);
        if (!root || root->type != YAML_SEQUENCE_NODE) {
                r = parse_error(ret_error, "not a scatter file: expected a list of \"- general:\" and \"- partition_index:\" "
                         "blocks");
                goto out;
        }

        for (yaml_node_item_t *it = root->data.sequence.items.start; r >= 0 && it < root->data.sequence.items.top;
             it++) {
                yaml_node_t *item = yaml_document_get_node(&y.doc, *it), *info, *desc;
                char buf[64];

                if (yaml_scalar(&y, item, "general", buf, sizeof(buf))) {
                        info = yaml_child(&y, item, "info");
                        if (info && info->type == YAML_SEQUENCE_NODE && info->data.sequence.items.top > info->data.sequence.items.start) {
                                yaml_node_t *i0 = yaml_document_get_node(&y.doc, *info->data.sequence.items.start);

                                yaml_scalar(&y, i0, "platform", s->platform, sizeof(s->platform));
                                yaml_scalar(&y, i0, "storage", s->storage, sizeof(s->storage));
                                yaml_scalar(&y, i0, "config_version", s->config_version, sizeof(s->config_version));
                                if (yaml_scalar(&y, i0, "block_size", buf, sizeof(buf)))
                                        (void) parse_number(buf, &s->block_size);
                        }
                        continue;
                }
                /* V2.x: "- storage_type: EMMC" with the partitions under "description" */
                desc = yaml_child(&y, item, "description");
                if (desc && desc->type == YAML_SEQUENCE_NODE) {
                        r = scatter_yaml_storage(&y, s, item, desc, (size_t) (it - root->data.sequence.items.start));
                        continue;
                }
                if (yaml_scalar(&y, item, "partition_index", buf, sizeof(buf)))
                        r = scatter_yaml_partition(&y, &s->entries, &s->n_entries, item,
                                                   (size_t) (it - root->data.sequence.items.start));
        }
        if (r < 0)
                goto out;
        if (s->n_tables > 0 && s->n_entries > 0) {
                r = parse_error(ret_error, "partition blocks both inside and outside storage_type tables: which "
                                "table do the outer ones belong to?");
                goto out;
        }
        if (s->n_tables > 0)
                r = scatter_use_default_table(s);
        else {
                r = scatter_place_linear(s->entries, s->n_entries, ret_error);
                if (r >= 0)
                        r = scatter_table_check(s->entries, &s->n_entries, ret_error);
        }
out:
        yaml_document_delete(&y.doc);
        yaml_parser_delete(&parser);
        return r;
}

/* ------------------------------------------------------------ XML (§6.3) */

static int scatter_xml_partition(xmlNode *p, ScatterEntry **entries, size_t *n_entries, char **ret_error) {
        char name[64], lin[40], phys[40], size_s[40], region[32], reserved[16], where[32];
        xmlNode *name_el = scatter_xml_child(p, NULL, "partition_name");
        PartitionFields f = {
                .name = scatter_xml_text(name_el, name, sizeof(name)),
                .size = scatter_xml_text(scatter_xml_child(p, NULL, "partition_size"), size_s, sizeof(size_s)),
                .linear = scatter_xml_text(scatter_xml_child(p, NULL, "linear_start_addr"), lin, sizeof(lin)),
                .physical = scatter_xml_text(scatter_xml_child(p, NULL, "physical_start_addr"), phys, sizeof(phys)),
                .region = scatter_xml_text(scatter_xml_child(p, NULL, "region"), region, sizeof(region)),
                .reserved = scatter_xml_text(scatter_xml_child(p, NULL, "is_reserved"), reserved, sizeof(reserved)),
        };

        /* every element of a generated file is there; an empty one is a placeholder, as in V1.1 */
        if (!name_el)
                return parse_error(ret_error, "the <partition_index> at line %ld has no <partition_name>",
                                   xmlGetLineNo(p));
        if (!f.name)
                return parse_error(ret_error, "the <partition_name> at line %ld is longer than %zu characters",
                                   xmlGetLineNo(name_el), sizeof(name) - 1);
        snprintf(where, sizeof(where), "line %ld", xmlGetLineNo(p));
        return scatter_partition_add(entries, n_entries, &f, where, ret_error);
}

/* <storage_type>'s <general name="MTK_STORAGE_CFG"><storage name="…">, or NULL. */
static xmlNode *scatter_xml_storage_cfg(xmlNode *table) {
        char buf[32];

        for (xmlNode *g = scatter_xml_child(table, NULL, "general"); g; g = scatter_xml_child(table, g, "general"))
                if (scatter_xml_attr(g, "name", buf, sizeof(buf)) && streq(buf, "MTK_STORAGE_CFG"))
                        return scatter_xml_child(g, NULL, "storage");
        return NULL;
}

static int scatter_parse_xml(const uint8_t *data, size_t size, ScatterFile *s, char **ret_error) {
        _cleanup_(scatter_xml_doc_freep) xmlDoc *doc = NULL;
        ScatterXmlTable xt[SCATTER_XML_TABLES_MAX];
        size_t n_xt = 0;
        xmlNode *cv, *cfg;
        char buf[40];
        int r;

        r = scatter_xml_read(data, size, &doc, ret_error);
        if (r < 0)
                return r;
        s->xml = true;
        cv = scatter_xml_config_version(doc);
        if (!scatter_xml_attr(cv, "name", s->config_version, sizeof(s->config_version)) || !*s->config_version)
                return parse_error(ret_error, "the XML file has no <general name=\"MTK_PLATFORM_CFG\"> with a "
                                   "<config_version name=\"V…\">, so it is no SP Flash Tool scatter file; use the "
                                   "MTxxxx_Android_scatter.xml of the phone's firmware package");
        (void) scatter_xml_text(scatter_xml_child(cv, NULL, "platform"), s->platform, sizeof(s->platform));
        (void) scatter_xml_text(scatter_xml_child(cv, NULL, "storage"), s->storage, sizeof(s->storage));
        if (scatter_xml_text(scatter_xml_child(cv, NULL, "block_size"), buf, sizeof(buf)) &&
            parse_number(buf, &s->block_size) < 0)
                return parse_error(ret_error, "<block_size> \"%s\" is not a number", buf);

        r = scatter_xml_tables(doc, xt, &n_xt, ret_error);
        if (r < 0)
                return r;
        if (n_xt == 0)
                return parse_error(ret_error, "the XML scatter file lists no partitions: no <partition_index> "
                                   "under <root> or a <storage_type>");
        /* V1.x: one table, under <root> */
        if (!*xt[0].storage) {
                for (xmlNode *p = scatter_xml_child(xt[0].node, NULL, "partition_index"); r >= 0 && p;
                     p = scatter_xml_child(xt[0].node, p, "partition_index"))
                        r = scatter_xml_partition(p, &s->entries, &s->n_entries, ret_error);
                if (r >= 0)
                        r = scatter_place_linear(s->entries, s->n_entries, ret_error);
                if (r >= 0)
                        r = scatter_table_check(s->entries, &s->n_entries, ret_error);
                return r;
        }
        /* V2.x: the header names no storage; the first table's own settings stand in */
        cfg = scatter_xml_storage_cfg(xt[0].node);
        if (!*s->storage && !scatter_xml_attr(cfg, "name", s->storage, sizeof(s->storage)))
                snprintf(s->storage, sizeof(s->storage), "%s", xt[0].storage);
        if (s->block_size == 0 && scatter_xml_text(scatter_xml_child(cfg, NULL, "block_size"), buf, sizeof(buf)) &&
            parse_number(buf, &s->block_size) < 0)
                return parse_error(ret_error, "<block_size> \"%s\" of storage_type %s is not a number", buf,
                                   xt[0].storage);
        for (size_t i = 0; i < n_xt; i++) {
                ScatterTable t = {};

                snprintf(t.storage, sizeof(t.storage), "%s", xt[i].storage);
                for (xmlNode *p = scatter_xml_child(xt[i].node, NULL, "partition_index"); r >= 0 && p;
                     p = scatter_xml_child(xt[i].node, p, "partition_index"))
                        r = scatter_xml_partition(p, &t.entries, &t.n_entries, ret_error);
                if (r >= 0)
                        r = scatter_add_table(s, &t, ret_error);
                free(t.entries);
                if (r < 0)
                        return r;
        }
        return scatter_use_default_table(s);
}

/* ------------------------------------------------------------ V1.0 (text) */

static int scatter_parse_v1_0(const uint8_t *data, size_t size, ScatterFile *s, char **ret_error) {
        _cleanup_free_ char *text = strndup((const char *) data, size);
        uint64_t user_base = UINT64_MAX;
        unsigned line_no = 0;
        char *save = NULL;
        int r;

        if (!text)
                return -ENOMEM;
        s->v1_0 = true;
        snprintf(s->config_version, sizeof(s->config_version), "V1.0");
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[64], addr[40];
                ScatterEntry e = {};
                uint64_t a;

                line_no++;
                if (sscanf(line, " %63s %39s", name, addr) != 2) {
                        /* "{", "}", blank lines and comments */
                        continue;
                }
                if (name[0] == '{' || name[0] == '}' || name[0] == '#')
                        continue;
                if (parse_number(addr, &a) < 0)
                        return parse_error(ret_error, "line %u: \"%s\" is not an address", line_no, addr);
                snprintf(e.name, sizeof(e.name), "%s", name);
                e.offset = a;
                e.region = STORAGE_REGION_USER;
                r = scatter_add(s, &e);
                if (r < 0)
                        return r;
                if (strcasecmp(name, "MBR") == 0)
                        user_base = a;
        }
        if (s->n_entries == 0)
                return parse_error(ret_error, "not a scatter file: no \"NAME 0xADDRESS\" lines");
        if (user_base == UINT64_MAX)
                user_base = 0;
        for (size_t i = 0; i < s->n_entries; i++) {
                ScatterEntry *e = &s->entries[i];

                /* V1.0 has no sizes: each ends where the next begins */
                if (i + 1 < s->n_entries) {
                        if (s->entries[i + 1].offset < e->offset)
                                return parse_error(ret_error, "partition %s starts after %s", e->name,
                                            s->entries[i + 1].name);
                        e->size = s->entries[i + 1].offset - e->offset;
                }
                if (e->offset < user_base) {
                        e->region = STORAGE_REGION_BOOT1;
                        e->resolved = true;
                        continue;
                }
                e->offset -= user_base;
                e->resolved = e->size > 0;
                e->reserved = e->size == 0; /* the last one runs to the end */
        }
        return 0;
}

/* ------------------------------------------------------------ common */

int scatter_parse(const uint8_t *data, size_t size, ScatterFile **ret, char **ret_error) {
        _cleanup_(scatter_file_freep) ScatterFile *s = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (size == 0 || size > 4 * 1024 * 1024)
                return parse_error(ret_error, "a scatter file is a text file of at most 4 MiB");
        if (memchr(data, 0, size))
                return parse_error(ret_error, "not a scatter file: it contains binary data");
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        /* detect before trusting a parse: YAML happily reads V1.0 as one string */
        if (scatter_xml_detect(data, size))
                r = scatter_parse_xml(data, size, s, ret_error);
        else if (memmem(data, size, "partition_index", 15) || memmem(data, size, "MTK_PLATFORM_CFG", 16))
                r = scatter_parse_yaml(data, size, s, ret_error);
        else
                r = scatter_parse_v1_0(data, size, s, ret_error);
        if (r < 0)
                return r;
        if (s->n_entries == 0)
                return parse_error(ret_error, "the scatter file lists no partitions");
        *ret = TAKE_PTR(s);
        return 0;
}

int scatter_file_resolve(ScatterFile *s, uint64_t user_size) {
        uint64_t end = user_size;

        /* reserved entries stack from the end, the last one innermost */
        for (size_t i = s->n_entries; i-- > 0;) {
                ScatterEntry *e = &s->entries[i];

                if (!e->reserved || e->region != STORAGE_REGION_USER)
                        continue;
                if (e->size == 0) {
                        /* V1.0's last entry: up to the end */
                        continue;
                }
                if (e->size > end)
                        return -ERANGE;
                end -= e->size;
                e->offset = end;
                e->resolved = true;
        }
        for (size_t i = 0; i < s->n_entries; i++) {
                ScatterEntry *e = &s->entries[i];

                if (e->reserved && e->size == 0 && e->offset < user_size) {
                        e->size = user_size - e->offset;
                        e->resolved = true;
                }
                if (e->region == STORAGE_REGION_USER && e->resolved &&
                    (e->offset + e->size < e->offset || e->offset + e->size > user_size))
                        return -ERANGE;
        }
        return 0;
}

PartitionTable *scatter_file_take_table(ScatterFile *s) {
        PartitionTable *t = NULL;

        if (partition_table_new(PT_SOURCE_SCATTER, &t) < 0)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].resolved && s->entries[i].size > 0 &&
                    partition_table_add(t, s->entries[i].name, s->entries[i].region, s->entries[i].offset,
                                        s->entries[i].size) < 0)
                        return partition_table_free(t);
        return t;
}

bool scatter_entry_is_identity(const ScatterEntry *e, char **identity_set) {
        char canon[64];

        /* the PMT era's spellings (NVRAM, PRO_INFO, PROTECT_F) name the same partitions */
        partition_name_canonical(e->name, canon, sizeof(canon));
        for (char **n = identity_set; n && *n; n++)
                if (streq(*n, canon))
                        return true;
        return false;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "macro.h"
#include "parse-error.h"
#include "partition-table.h"
#include "scatter-edit.h"
#include "scatter-xml.h"

#define SCATTER_EDIT_MAX (16u * 1024u * 1024u)

typedef struct Line {
        const char *start;   /* the whole line, its end of line included */
        size_t len;
        const char *key;     /* after the indentation and an optional "- " */
        size_t key_len;
        const char *value;   /* trimmed */
        size_t value_len;
} Line;

static void line_split(Line *l) {
        const char *p = l->start, *end = l->start + l->len, *colon;

        l->key = l->value = NULL;
        l->key_len = l->value_len = 0;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        if (p + 1 < end && p[0] == '-' && p[1] == ' ')
                p += 2;
        while (p < end && *p == ' ')
                p++;
        colon = memchr(p, ':', (size_t) (end - p));
        if (!colon || *p == '#')
                return;
        l->key = p;
        l->key_len = (size_t) (colon - p);
        p = colon + 1;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
        l->value = p;
        l->value_len = (size_t) (end - p);
}

static bool key_is(const Line *l, const char *key) {
        return l->key && l->key_len == strlen(key) && memcmp(l->key, key, l->key_len) == 0;
}

/* The line with its value replaced, its indentation and end of line kept. */
static int emit_replaced(FILE *out, const Line *l, const char *value) {
        const char *tail = l->value + l->value_len;

        fwrite(l->start, 1, (size_t) (l->value - l->start), out);
        fputs(value, out);
        fwrite(tail, 1, (size_t) (l->start + l->len - tail), out);
        return 0;
}

/* Whether the "- storage_type:" line l names storage. */
static bool storage_is(const Line *l, const char *storage) {
        return storage && l->value_len == strlen(storage) && strncasecmp(l->value, storage, l->value_len) == 0;
}

/* ------------------------------------------------------------ XML (da.md §6.3) */

/* The element's text replaced by value (a text node: no markup in it is read). */
static int xml_set_text(xmlNode *el, const char *value) {
        xmlNode *t;

        while (el->children) {
                xmlNode *c = el->children;

                xmlUnlinkNode(c);
                xmlFreeNode(c);
        }
        t = xmlNewDocText(el->doc, BAD_CAST value);
        if (!t)
                return -ENOMEM;
        if (!xmlAddChild(el, t)) {
                xmlFreeNode(t);
                return -ENOMEM;
        }
        return 0;
}

/* The same edit in the element tree: <file_name> and <is_download> of each
 * <partition_index>; the document is written back by libxml2, comments,
 * unknown elements, attributes and blanks between elements kept. */
static int scatter_edit_xml(const uint8_t *data, size_t size, const char *storage, const char *const *names,
                            const char *const *files, size_t n, char **ret, size_t *ret_size, char **ret_error) {
        _cleanup_(scatter_xml_doc_freep) xmlDoc *doc = NULL;
        _cleanup_free_ bool *seen = NULL;
        ScatterXmlTable xt[SCATTER_XML_TABLES_MAX];
        bool table_found = false, any = false;
        xmlChar *mem = NULL;
        char version[16];
        size_t n_xt = 0;
        int r, len = 0;

        r = scatter_xml_read(data, size, &doc, ret_error);
        if (r < 0)
                return r;
        if (!scatter_xml_attr(scatter_xml_config_version(doc), "name", version, sizeof(version)) || !*version)
                return parse_error(ret_error, "the XML file has no <general name=\"MTK_PLATFORM_CFG\"> with a "
                                   "<config_version name=\"V…\">, so SP Flash Tool could not use it for a Download");
        r = scatter_xml_tables(doc, xt, &n_xt, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_xt; i++)
                table_found = table_found || !*xt[i].storage || (storage && strcasecmp(xt[i].storage, storage) == 0);
        if (n_xt > 0 && !table_found)
                return parse_error(ret_error, "it has no storage_type table for the phone's %s storage: is it this "
                                   "phone's?", storage ?: "unknown");
        seen = calloc(n ? n : 1, sizeof(bool));
        if (!seen)
                return -ENOMEM;
        for (size_t i = 0; i < n_xt; i++) {
                /* another storage's table: none of its partitions is downloaded */
                bool in_table = !*xt[i].storage || (storage && strcasecmp(xt[i].storage, storage) == 0);

                for (xmlNode *p = scatter_xml_child(xt[i].node, NULL, "partition_index"); p;
                     p = scatter_xml_child(xt[i].node, p, "partition_index")) {
                        xmlNode *file = scatter_xml_child(p, NULL, "file_name"),
                                *download = scatter_xml_child(p, NULL, "is_download");
                        char name[64], canonical[64];
                        ssize_t want = -1;

                        any = true;
                        if (in_table && scatter_xml_text(scatter_xml_child(p, NULL, "partition_name"), name,
                                                         sizeof(name))) {
                                partition_name_canonical(name, canonical, sizeof(canonical));
                                for (size_t j = 0; j < n; j++)
                                        if (streq(canonical, names[j]))
                                                want = (ssize_t) j;
                        }
                        if (want >= 0 && (!file || !download))
                                return parse_error(ret_error, "the scatter entry of %s (line %ld) has no <%s> "
                                                   "element", names[want], xmlGetLineNo(p),
                                                   file ? "is_download" : "file_name");
                        if (download) {
                                r = xml_set_text(download, want >= 0 ? "true" : "false");
                                if (r < 0)
                                        return r;
                        }
                        if (want >= 0) {
                                r = xml_set_text(file, files[want]);
                                if (r < 0)
                                        return r;
                                seen[want] = true;
                        }
                }
        }
        for (size_t j = 0; j < n; j++)
                if (!seen[j])
                        return parse_error(ret_error, "the scatter file has no %s partition%s: is it this phone's?",
                                           names[j], any ? "" : " (it has no partition entries at all)");
        /* in the encoding the file declared, UTF-8 if none */
        xmlDocDumpMemoryEnc(doc, &mem, &len, doc->encoding ? (const char *) doc->encoding : "UTF-8");
        if (!mem || len < 0) {
                xmlFree(mem);
                return parse_error(ret_error, "the edited XML cannot be written in the encoding the file declares "
                                   "(%s)", doc->encoding ? (const char *) doc->encoding : "UTF-8");
        }
        *ret = malloc((size_t) len + 1);
        if (!*ret) {
                xmlFree(mem);
                return -ENOMEM;
        }
        memcpy(*ret, mem, (size_t) len);
        (*ret)[len] = 0;
        *ret_size = (size_t) len;
        xmlFree(mem);
        return 0;
}

/* ------------------------------------------------------------ V1.1.x, V2.x text */

int scatter_edit_for_download(const uint8_t *data, size_t size, const char *storage, const char *const *names,
                              const char *const *files, size_t n, char **ret, size_t *ret_size, char **ret_error) {
        _cleanup_free_ Line *lines = NULL;
        _cleanup_free_ bool *seen = NULL;
        const char *text = (const char *) data;
        size_t n_lines = 0, cap = 0, entry = SIZE_MAX;
        bool v1_1 = false, tables = false, in_table = true, table_found = false;
        char *buf = NULL;
        size_t buf_len = 0;
        FILE *out;

        *ret_error = NULL;
        if (size > SCATTER_EDIT_MAX)
                return parse_error(ret_error, "the scatter file is larger than %u MiB", SCATTER_EDIT_MAX >> 20);
        if (memchr(data, 0, size))
                return parse_error(ret_error, "the scatter file contains NUL bytes: it is not a text file");
        if (scatter_xml_detect(data, size))
                return scatter_edit_xml(data, size, storage, names, files, n, ret, ret_size, ret_error);
        for (size_t off = 0; off < size;) {
                const char *nl = memchr(text + off, '\n', size - off);
                size_t len = nl ? (size_t) (nl - (text + off)) + 1 : size - off;

                if (n_lines == cap) {
                        Line *l = realloc(lines, (cap = cap ? 2 * cap : 256) * sizeof(Line));

                        if (!l)
                                return -ENOMEM;
                        lines = l;
                }
                lines[n_lines] = (Line) { .start = text + off, .len = len };
                line_split(&lines[n_lines]);
                if (key_is(&lines[n_lines], "config_version") && lines[n_lines].value_len >= 4 &&
                    (memcmp(lines[n_lines].value, "V1.1", 4) == 0 || memcmp(lines[n_lines].value, "V2.", 3) == 0))
                        v1_1 = true;
                if (key_is(&lines[n_lines], "storage_type")) {
                        tables = true;
                        table_found = table_found || storage_is(&lines[n_lines], storage);
                }
                n_lines++;
                off += len;
        }
        if (!v1_1)
                return parse_error(ret_error, "only V1.1.x scatter files (with a config_version: V1.1.x line) name an "
                                       "image per partition; this one does not, so SP Flash Tool could not use it "
                                       "for a Download");
        if (tables && !table_found)
                return parse_error(ret_error, "it has no storage_type table for the phone's %s storage: is it this "
                                   "phone's?", storage ?: "unknown");
        seen = calloc(n ? n : 1, sizeof(bool));
        if (!seen)
                return -ENOMEM;

        out = open_memstream(&buf, &buf_len);
        if (!out)
                return -ENOMEM;
        /* one pass per entry: find its name first, since file_name may precede nothing else */
        for (size_t i = 0; i < n_lines;) {
                size_t end = i + 1;
                ssize_t want = -1;
                bool has_file = false, has_download = false;

                if (key_is(&lines[i], "storage_type"))
                        in_table = storage_is(&lines[i], storage);
                if (!key_is(&lines[i], "partition_index")) {
                        fwrite(lines[i].start, 1, lines[i].len, out);
                        i++;
                        continue;
                }
                while (end < n_lines && !key_is(&lines[end], "partition_index") &&
                       !(lines[end].key && lines[end].start[0] == '-'))
                        end++;
                entry = i;
                /* another storage's table: none of its partitions is downloaded */
                for (size_t k = i; in_table && k < end; k++)
                        if (key_is(&lines[k], "partition_name")) {
                                char name[64], canonical[64];

                                snprintf(name, sizeof(name), "%.*s", (int) MIN(lines[k].value_len, 63u),
                                         lines[k].value);
                                partition_name_canonical(name, canonical, sizeof(canonical));
                                for (size_t j = 0; j < n; j++)
                                        if (streq(canonical, names[j]))
                                                want = (ssize_t) j;
                        }
                for (size_t k = i; k < end; k++) {
                        if (key_is(&lines[k], "file_name") && want >= 0) {
                                emit_replaced(out, &lines[k], files[want]);
                                has_file = true;
                        } else if (key_is(&lines[k], "is_download")) {
                                emit_replaced(out, &lines[k], want >= 0 ? "true" : "false");
                                has_download = true;
                        } else
                                fwrite(lines[k].start, 1, lines[k].len, out);
                }
                if (want >= 0) {
                        if (!has_file || !has_download) {
                                fclose(out);
                                free(buf);
                                return parse_error(ret_error, "the scatter entry of %s has no %s line", names[want],
                                            has_file ? "is_download" : "file_name");
                        }
                        seen[want] = true;
                }
                i = end;
        }
        if (fclose(out) != 0) {
                free(buf);
                return -ENOMEM;
        }
        for (size_t j = 0; j < n; j++)
                if (!seen[j]) {
                        free(buf);
                        return parse_error(ret_error, "the scatter file has no %s partition%s: is it this phone's?",
                                    names[j], entry == SIZE_MAX ? " (it has no partition entries at all)" : "");
                }
        *ret = buf;
        *ret_size = buf_len;
        return 0;
}

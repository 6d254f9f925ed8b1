/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The element names are those of the files da.md §6.3 quotes (an MT6768
 * V1.1.8 file) and of public V2.x test fixtures (MT6789, MT6835): <root>;
 * <general name="MTK_PLATFORM_CFG"> with <config_version name="V…">, whose
 * children are <platform>, <project> and, in V1.x files, <storage>,
 * <boot_channel>, <block_size>; then either <partition_index name="SYSn">
 * elements directly under <root> (V1.x) or <storage_type name="EMMC|UFS">
 * elements holding them (V2.x), each optionally with its own
 * <general name="MTK_STORAGE_CFG"><storage name="…"><block_size>.  A
 * partition's fields are child elements named as the V1.1 keys (§6.1).
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "macro.h"
#include "parse-error.h"
#include "scatter-xml.h"

static bool name_is(const xmlNode *n, const char *name) {
        return n && n->type == XML_ELEMENT_NODE && n->name && streq((const char *) n->name, name);
}

bool scatter_xml_detect(const uint8_t *data, size_t size) {
        size_t i = 0;

        if (size >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
                i = 3;
        while (i < size && isspace(data[i]))
                i++;
        return i < size && data[i] == '<';
}

int scatter_xml_read(const uint8_t *data, size_t size, xmlDoc **ret, char **ret_error) {
        _cleanup_(scatter_xml_doc_freep) xmlDoc *doc = NULL;
        xmlParserCtxt *ctxt;
        xmlNode *root;

        /* libxml2's int length; the callers bound files far below it */
        if (size > INT32_MAX)
                return parse_error(ret_error, "the XML scatter file is too large");
        ctxt = xmlNewParserCtxt();
        if (!ctxt)
                return -ENOMEM;
        /* no network, no entity substitution, no messages on stderr: the
         * error is returned to the caller instead */
        doc = xmlCtxtReadMemory(ctxt, (const char *) data, (int) size, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                char msg[160] = "syntax error";
                int r;

                if (e && e->message) {
                        snprintf(msg, sizeof(msg), "%s", e->message);
                        for (size_t n = strlen(msg); n > 0 && isspace((unsigned char) msg[n - 1]);)
                                msg[--n] = 0;
                }
                r = parse_error(ret_error, "not a valid XML scatter file: %s at line %d; use the "
                                "MTxxxx_Android_scatter.xml of the firmware package unchanged", msg, e ? e->line : 0);
                xmlFreeParserCtxt(ctxt);
                return r;
        }
        xmlFreeParserCtxt(ctxt);
        /* SP Flash Tool's files declare no DTD; one could define entities
         * that expand without bound whenever a text is read */
        if (doc->intSubset || doc->extSubset)
                return parse_error(ret_error, "the XML scatter file has a DOCTYPE declaration, which SP Flash Tool's "
                                   "files never have: refused");
        root = xmlDocGetRootElement(doc);
        if (!name_is(root, "root"))
                return parse_error(ret_error, "not an SP Flash Tool scatter file: its XML root element is <%s>, "
                                   "expected <root>", root && root->name ? (const char *) root->name : "?");
        *ret = TAKE_PTR(doc);
        return 0;
}

xmlNode *scatter_xml_child(xmlNode *node, xmlNode *after, const char *name) {
        if (!node)
                return NULL;
        for (xmlNode *c = after ? after->next : node->children; c; c = c->next)
                if (name_is(c, name))
                        return c;
        return NULL;
}

static const char *trim_into(const char *s, size_t len, char *buf, size_t size) {
        if (size == 0)
                return NULL;
        while (len > 0 && isspace((unsigned char) *s))
                s++, len--;
        while (len > 0 && isspace((unsigned char) s[len - 1]))
                len--;
        if (len >= size) {
                buf[0] = 0;
                return NULL;
        }
        memmove(buf, s, len);
        buf[len] = 0;
        return buf;
}

const char *scatter_xml_text(xmlNode *el, char *buf, size_t size) {
        size_t len = 0;

        if (size == 0)
                return NULL;
        buf[0] = 0;
        if (!el)
                return NULL;
        /* text and CDATA only: the document has no entities of its own
         * (no DTD), the predefined ones are already text */
        for (xmlNode *c = el->children; c; c = c->next) {
                size_t l;

                if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content)
                        continue;
                l = strlen((const char *) c->content);
                if (len + l >= size) {
                        buf[0] = 0;
                        return NULL;
                }
                memcpy(buf + len, c->content, l);
                len += l;
        }
        buf[len] = 0;
        return trim_into(buf, len, buf, size);
}

const char *scatter_xml_attr(xmlNode *el, const char *name, char *buf, size_t size) {
        xmlChar *v;
        const char *r;

        if (size > 0)
                buf[0] = 0;
        if (!el)
                return NULL;
        v = xmlGetNoNsProp(el, BAD_CAST name);
        if (!v)
                return NULL;
        r = trim_into((const char *) v, strlen((const char *) v), buf, size);
        xmlFree(v);
        return r;
}

xmlNode *scatter_xml_config_version(xmlDoc *doc) {
        xmlNode *root = xmlDocGetRootElement(doc);
        char buf[32];

        for (xmlNode *g = scatter_xml_child(root, NULL, "general"); g; g = scatter_xml_child(root, g, "general"))
                if (scatter_xml_attr(g, "name", buf, sizeof(buf)) && streq(buf, "MTK_PLATFORM_CFG"))
                        return scatter_xml_child(g, NULL, "config_version");
        return NULL;
}

int scatter_xml_tables(xmlDoc *doc, ScatterXmlTable tables[static SCATTER_XML_TABLES_MAX], size_t *ret_n,
                       char **ret_error) {
        xmlNode *root = xmlDocGetRootElement(doc);
        size_t n = 0;

        for (xmlNode *st = scatter_xml_child(root, NULL, "storage_type"); st;
             st = scatter_xml_child(root, st, "storage_type")) {
                ScatterXmlTable *t;

                if (n >= SCATTER_XML_TABLES_MAX)
                        return parse_error(ret_error, "more than %u <storage_type> tables", SCATTER_XML_TABLES_MAX);
                t = &tables[n];
                if (!scatter_xml_attr(st, "name", t->storage, sizeof(t->storage)) || !*t->storage)
                        return parse_error(ret_error, "the <storage_type> element at line %ld has no name "
                                           "attribute (EMMC or UFS)", xmlGetLineNo(st));
                for (size_t i = 0; i < n; i++)
                        if (strcasecmp(tables[i].storage, t->storage) == 0)
                                return parse_error(ret_error, "storage_type %s has two tables (lines %ld and %ld)",
                                                   t->storage, xmlGetLineNo(tables[i].node), xmlGetLineNo(st));
                t->node = st;
                n++;
        }
        if (scatter_xml_child(root, NULL, "partition_index")) {
                if (n > 0)
                        return parse_error(ret_error, "<partition_index> elements both inside and outside "
                                           "<storage_type> tables (line %ld): which table do the outer ones belong "
                                           "to?", xmlGetLineNo(scatter_xml_child(root, NULL, "partition_index")));
                tables[0] = (ScatterXmlTable) { .node = root };
                n = 1;
        }
        *ret_n = n;
        return 0;
}

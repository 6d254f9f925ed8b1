/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XML scatter files of SP Flash Tool V6 era firmware packages
 * (MTxxxx_Android_scatter.xml, da.md §6.3), read with libxml2: the document,
 * its partition tables and the text of their fields.  What the partitions
 * mean is scatter.c's; the download edit is scatter-edit.c's.  Input is
 * untrusted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#define SCATTER_XML_TABLES_MAX 8

/* One list of <partition_index> elements: a <storage_type name="EMMC|UFS">
 * element of a V2.x file (storage set), or <root> itself in a V1.x one
 * (storage ""). */
typedef struct ScatterXmlTable {
        xmlNode *node;
        char storage[16];
} ScatterXmlTable;

/* Whether data (after blanks and a UTF-8 byte-order mark) starts like XML. */
bool scatter_xml_detect(const uint8_t *data, size_t size);
/* Parses data without network access or a DTD; the root must be <root>.
 * -EBADMSG with *ret_error naming the problem (and its line) otherwise. */
int scatter_xml_read(const uint8_t *data, size_t size, xmlDoc **ret, char **ret_error);
/* The tables of the document, in file order; -EBADMSG when a storage_type
 * has no name or comes twice, when partitions stand both in and outside
 * storage_type tables, or when there are more than SCATTER_XML_TABLES_MAX. */
int scatter_xml_tables(xmlDoc *doc, ScatterXmlTable tables[static SCATTER_XML_TABLES_MAX], size_t *ret_n,
                       char **ret_error);
/* The first element child of node named name after "after" (NULL: from the
 * first child); NULL when there is none. */
xmlNode *scatter_xml_child(xmlNode *node, xmlNode *after, const char *name);
/* The element's text with blanks around it trimmed, into buf; NULL when el
 * is NULL or the text does not fit. */
const char *scatter_xml_text(xmlNode *el, char *buf, size_t size);
/* The attribute's value into buf, trimmed; NULL when absent or too long. */
const char *scatter_xml_attr(xmlNode *el, const char *name, char *buf, size_t size);
/* <general name="MTK_PLATFORM_CFG">'s <config_version name="…">, or NULL. */
xmlNode *scatter_xml_config_version(xmlDoc *doc);

static inline void scatter_xml_doc_freep(xmlDoc **d) {
        if (*d)
                xmlFreeDoc(*d);
}

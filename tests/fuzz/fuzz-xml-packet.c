/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything the daemon derives from the payload of a packet an XML (V6)
 * Download Agent sends: the short replies, the <host> documents, and the
 * GET-HW-INFO and GET-SYS-PROPERTY results, all parsed with libxml2.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xml-packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        XmlReply reply;
        XmlDoc doc;
        XmlHwInfo hw;
        char value[64];
        int r;

        if (size > XML_DOC_MAX + 16)
                return 0;
        r = xml_parse_reply(data, size, &reply);
        if (r == 0 && (strnlen(reply.text, sizeof(reply.text)) >= sizeof(reply.text)))
                abort();
        (void) xml_payload_is_document(data, size);
        r = xml_parse_doc(data, size, &doc);
        if (r == 0) {
                if ((doc.kind == XML_DOC_UPLOAD_FILE || doc.kind == XML_DOC_DOWNLOAD_FILE) && doc.packet_length == 0)
                        abort();
                if (strnlen(doc.message, sizeof(doc.message)) >= sizeof(doc.message) ||
                    strnlen(doc.file, sizeof(doc.file)) >= sizeof(doc.file) || !doc.command[0])
                        abort();
                (void) xml_doc_kind_to_string(doc.kind);
        }
        r = xml_parse_hw_info(data, size, &hw);
        if (r == 0 && (hw.id_len > sizeof(hw.id_bytes) || (hw.emmc && hw.ufs)))
                abort();
        r = xml_parse_sys_prop(data, size, XML_SYS_PROP_DA_SLA, value, sizeof(value));
        if (r == 0 && strnlen(value, sizeof(value)) >= sizeof(value))
                abort();
        return 0;
}

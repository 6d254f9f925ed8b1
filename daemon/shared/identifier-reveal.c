/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <stdio.h>

#include "identifier-reveal.h"
#include "macro.h"

void identifier_fingerprint(const char *value, char ret[IDENTIFIER_FINGERPRINT_LEN]) {
        static const char tag[] = "mtknvd-fp:";
        EVP_MD_CTX *md;
        uint8_t digest[32];
        unsigned len = 0;

        ret[0] = 0;
        if (!value || !*value)
                return;
        md = EVP_MD_CTX_new();
        if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, tag, strlen(tag)) &&
            EVP_DigestUpdate(md, value, strlen(value)) && EVP_DigestFinal_ex(md, digest, &len) && len == 32)
                snprintf(ret, IDENTIFIER_FINGERPRINT_LEN, IDENTIFIER_FINGERPRINT_PREFIX "%02x%02x%02x%02x",
                         digest[0], digest[1], digest[2], digest[3]);
        else
                /* never the value itself */
                snprintf(ret, IDENTIFIER_FINGERPRINT_LEN, IDENTIFIER_FINGERPRINT_PREFIX "????????");
        EVP_MD_CTX_free(md);
}

const char *identifier_reveal(bool full, const char *value, char buf[IDENTIFIER_FINGERPRINT_LEN]) {
        if (full)
                return value;
        identifier_fingerprint(value, buf);
        return buf;
}

bool bus_reply_reveals_identifiers(sd_bus *bus, sd_bus_message *reply, IdentifierRevealCache *cache) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        sd_bus_message *call = sd_bus_get_current_message(bus);
        const char *sender;
        uint8_t type = 0;
        uid_t uid;
        bool full;

        /* PropertiesChanged, InterfacesAdded: broadcast, whoever caused them */
        if (!call || sd_bus_message_get_type(reply, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_RETURN ||
            sd_bus_message_get_type(call, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return false;
        /* the reply must be the one to this call's sender */
        sender = sd_bus_message_get_sender(call);
        if (!sender || !sd_bus_message_get_destination(reply) ||
            !streq(sd_bus_message_get_destination(reply), sender))
                return false;
        if (cache && streq(cache->sender, sender))
                return cache->full;
        full = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds) >= 0 &&
               sd_bus_creds_get_euid(creds, &uid) >= 0 && (uid == 0 || uid == geteuid());
        if (cache && strlen(sender) < sizeof(cache->sender)) {
                snprintf(cache->sender, sizeof(cache->sender), "%s", sender);
                cache->full = full;
        }
        return full;
}

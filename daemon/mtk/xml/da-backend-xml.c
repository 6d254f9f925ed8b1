/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XML ("V6") Download Agent (xml-da.md) as a DaBackend: the generic
 * session embeds an XmlDa, which the rest of the daemon never sees.
 */
#include <stdlib.h>
#include <string.h>

#include "da-backend.h"
#include "macro.h"
#include "xml-da.h"

typedef struct XmlSession {
        DaSession s;              /* first: the generic part */
        XmlDa *xd;
        bool ufs;                 /* once started */
} XmlSession;

static XmlSession *xml_of(DaSession *s) {
        return container_of(s, XmlSession, s);
}

/* §5.6: the DA's region names for mtknvd's regions, per storage (UFS as
 * mtkclient maps them: user LU2, boot1 LU0, boot2 LU1, RPMB LU3). */
static const char *xml_region(const XmlSession *xs, StorageRegion region) {
        switch (region) {
        case STORAGE_REGION_USER:
                return xs->ufs ? XML_REGION_UFS_LUA2 : XML_REGION_EMMC_USER;
        case STORAGE_REGION_BOOT1:
                return xs->ufs ? XML_REGION_UFS_LUA0 : XML_REGION_EMMC_BOOT1;
        case STORAGE_REGION_BOOT2:
                return xs->ufs ? XML_REGION_UFS_LUA1 : XML_REGION_EMMC_BOOT2;
        case STORAGE_REGION_RPMB:
                return xs->ufs ? XML_REGION_UFS_LUA3 : XML_REGION_EMMC_RPMB;
        case _STORAGE_REGION_MAX:
        case STORAGE_REGION_ANY:
        case _STORAGE_REGION_INVALID:
                break;
        }
        return NULL;
}

static DaFailure xml_classify(int r) {
        switch (r) {
        case 0:
                return DA_FAILURE_NONE;
        case -ENODEV:
                return DA_FAILURE_GONE;
        case -ECANCELED:
                return DA_FAILURE_CANCELLED;
        case -EBADMSG:
                return DA_FAILURE_CHECKSUM;
        case -EIO:
        case -EACCES:
        case -EOPNOTSUPP:
                return DA_FAILURE_REFUSED;
        }
        return r > 0 ? DA_FAILURE_NONE : DA_FAILURE_PROTOCOL;
}

/* The storage DA2 reported (§5.1), in mtknvd's model. */
static void xml_fill_storage(XmlSession *xs) {
        const XmlHwInfo *h = &xml_da_get_report(xs->xd)->hw;
        StorageInfo *st = &xs->s.storage;

        *st = (StorageInfo) {};
        xs->ufs = !h->emmc;
        if (h->emmc) {
                st->type = STORAGE_EMMC;
                st->region_size[STORAGE_REGION_USER] = h->user_size;
                st->region_size[STORAGE_REGION_BOOT1] = h->boot1_size;
                st->region_size[STORAGE_REGION_BOOT2] = h->boot2_size;
                st->region_size[STORAGE_REGION_RPMB] = h->rpmb_size;
        } else {
                st->type = STORAGE_UFS;
                st->region_size[STORAGE_REGION_USER] = h->lu_size[2];
                st->region_size[STORAGE_REGION_BOOT1] = h->lu_size[0];
                st->region_size[STORAGE_REGION_BOOT2] = h->lu_size[1];
                st->region_size[STORAGE_REGION_RPMB] = h->lu_size[3];
        }
        /* the eMMC CID (hex text decoded) or the UFS id: what a backup is bound to */
        st->id_len = MIN(h->id_len, sizeof(st->id));
        memcpy(st->id, h->id_bytes, st->id_len);
}

static void xml_on_done(XmlDa *xd, int r, void *userdata) {
        XmlSession *xs = userdata;

        da_session_call_finish(&xs->s, r, xml_classify(r));
}

static void xml_on_started(XmlDa *xd, int r, void *userdata) {
        XmlSession *xs = userdata;

        if (r >= 0)
                xml_fill_storage(xs);
        xml_on_done(xd, r, userdata);
}

static int xml_on_data(XmlDa *xd, const uint8_t *data, size_t len, void *userdata) {
        XmlSession *xs = userdata;
        int r = da_session_call_deliver(&xs->s, data, len);

        return r == DA_DATA_HELD ? XML_DA_DATA_HELD : r;
}

/* A call that failed at once never calls back. */
static int xml_started(XmlSession *xs, int r) {
        return da_session_call_started(&xs->s, r, xml_classify(r));
}

static int xml_session_new(UsbLink *link, const BromIdentity *id, DaSession **ret) {
        XmlSession *xs;
        int r;

        xs = calloc(1, sizeof(*xs));
        if (!xs)
                return -ENOMEM;
        r = xml_da_new(link, &xs->xd);
        if (r < 0) {
                free(xs);
                return r;
        }
        xs->s.backend = &da_backend_xml;
        *ret = &xs->s;
        return 0;
}

static void xml_session_free(DaSession *s) {
        XmlSession *xs = xml_of(s);

        xml_da_free(xs->xd);
        free(xs);
}

static int xml_start_session(DaSession *s, const DaFile *file, const DaEntry *entry, DaDoneFunc done,
                             void *userdata) {
        XmlSession *xs = xml_of(s);
        const DaRegion *region;
        const uint8_t *data;
        int r;

        /* §4.1: DA1 (region 1, sent with its signature) runs; DA2 is region
         * 2, sent through BOOT-TO without its signature */
        r = da_entry_get_stage(file, entry, 2, &data, &region);
        if (r < 0)
                return r;
        if (region->sig_len >= region->length)
                return -EBADMSG;
        r = da_session_call_arm(&xs->s, done, NULL, userdata);
        if (r < 0)
                return r;
        return xml_started(xs, xml_da_start(xs->xd, data, region->length - region->sig_len, region->start_addr,
                                            xml_on_started, xs));
}

static int xml_read_session(DaSession *s, StorageRegion region, uint64_t offset, uint64_t length, DaDataFunc data,
                            DaDoneFunc done, void *userdata) {
        XmlSession *xs = xml_of(s);
        const char *name = xml_region(xs, region);
        int r;

        if (!name)
                return -EINVAL;
        r = da_session_call_arm(&xs->s, done, data, userdata);
        if (r < 0)
                return r;
        return xml_started(xs, xml_da_read(xs->xd, name, offset, length, xml_on_data, xml_on_done, xs));
}

static int xml_write_session(DaSession *s, StorageRegion region, uint64_t offset, const uint8_t *buf,
                             uint64_t length, DaDoneFunc done, void *userdata) {
        XmlSession *xs = xml_of(s);
        const char *name = xml_region(xs, region);
        int r;

        if (!name)
                return -EINVAL;
        r = da_session_call_arm(&xs->s, done, NULL, userdata);
        if (r < 0)
                return r;
        return xml_started(xs, xml_da_write(xs->xd, name, offset, buf, length, xml_on_done, xs));
}

static int xml_reboot_session(DaSession *s, DaDoneFunc done, void *userdata) {
        XmlSession *xs = xml_of(s);
        int r;

        r = da_session_call_arm(&xs->s, done, NULL, userdata);
        if (r < 0)
                return r;
        return xml_started(xs, xml_da_reboot(xs->xd, xml_on_done, xs));
}

static void xml_release_session(DaSession *s, const uint8_t *data) {
        xml_da_release(xml_of(s)->xd, data);
}

static void xml_cancel_session(DaSession *s) {
        xml_da_cancel(xml_of(s)->xd);
}

static const char *xml_get_detail_session(DaSession *s) {
        return xml_da_get_detail(xml_of(s)->xd);
}

/* No supports_emi_version: V6 has no EMI upload (brom-emi.md §8), so the
 * family starts in preloader mode only. */
const DaBackend da_backend_xml = {
        .name = "xml",
        .session_new = xml_session_new,
        .session_free = xml_session_free,
        .start = xml_start_session,
        .read = xml_read_session,
        .write = xml_write_session,
        .release_data = xml_release_session,
        .reboot = xml_reboot_session,
        .cancel = xml_cancel_session,
        .get_detail = xml_get_detail_session,
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XFlash ("V5") Download Agent (xflash.md) as a DaBackend: the generic
 * session embeds an XFlash, which the rest of the daemon never sees.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "da-backend.h"
#include "log.h"
#include "macro.h"
#include "xflash.h"

typedef struct XFlashSession {
        DaSession s;              /* first: the generic part */
        XFlash *xf;
        uint32_t storage;         /* XFLASH_STORAGE_EMMC or _UFS, once started */
} XFlashSession;

static XFlashSession *xflash_of(DaSession *s) {
        return container_of(s, XFlashSession, s);
}

/* §15.1: the DA's region numbers for mtknvd's regions, per storage. */
static int xflash_region(const XFlashSession *xs, StorageRegion region, uint32_t *ret) {
        bool ufs = xs->storage == XFLASH_STORAGE_UFS;

        switch (region) {
        case STORAGE_REGION_USER:
                *ret = ufs ? XFLASH_UFS_LU2 : XFLASH_EMMC_PART_USER;
                return 0;
        case STORAGE_REGION_BOOT1:
                *ret = ufs ? XFLASH_UFS_LU0 : XFLASH_EMMC_PART_BOOT1;
                return 0;
        case STORAGE_REGION_BOOT2:
                *ret = ufs ? XFLASH_UFS_LU1 : XFLASH_EMMC_PART_BOOT2;
                return 0;
        case STORAGE_REGION_RPMB:
                *ret = ufs ? XFLASH_UFS_LU3 : XFLASH_EMMC_PART_RPMB;
                return 0;
        case _STORAGE_REGION_MAX:
        case STORAGE_REGION_ANY:
        case _STORAGE_REGION_INVALID:
                break;
        }
        return -EINVAL;
}

static DaFailure xflash_classify(XFlashSession *xs, int r) {
        if (r >= 0)
                return DA_FAILURE_NONE;
        if (xflash_needs_emi(xs->xf))
                return DA_FAILURE_NEEDS_DRAM;
        if (xflash_dram_failed(xs->xf))
                return DA_FAILURE_DRAM;
        switch (r) {
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
        return DA_FAILURE_PROTOCOL;
}

/* The storage DA2 reported, in mtknvd's model: eMMC when it has a user
 * area, else UFS (§17 step 5: one of the two has a type). */
static void xflash_fill_storage(XFlashSession *xs) {
        const XFlashReport *rep = xflash_get_report(xs->xf);
        StorageInfo *st = &xs->s.storage;

        *st = (StorageInfo) {};
        if (rep->have_emmc && rep->emmc.type != 0 && rep->emmc.user_size > 0) {
                xs->storage = XFLASH_STORAGE_EMMC;
                st->type = STORAGE_EMMC;
                st->region_size[STORAGE_REGION_USER] = rep->emmc.user_size;
                st->region_size[STORAGE_REGION_BOOT1] = rep->emmc.boot1_size;
                st->region_size[STORAGE_REGION_BOOT2] = rep->emmc.boot2_size;
                st->region_size[STORAGE_REGION_RPMB] = rep->emmc.rpmb_size;
                /* the eMMC CID: what a backup is bound to, as with the legacy DA */
                memcpy(st->id, rep->emmc.cid, sizeof(rep->emmc.cid));
                st->id_len = sizeof(rep->emmc.cid);
                return;
        }
        xs->storage = XFLASH_STORAGE_UFS;
        st->type = STORAGE_UFS;
        st->region_size[STORAGE_REGION_USER] = rep->ufs.lu2_size;
        st->region_size[STORAGE_REGION_BOOT1] = rep->ufs.lu0_size;
        st->region_size[STORAGE_REGION_BOOT2] = rep->ufs.lu1_size;
        /* the UFS serial number; a DA of the old layout reports none, and
         * then its product id is the best the phone says of its storage */
        if (rep->ufs.serial_len > 0) {
                st->id_len = MIN(rep->ufs.serial_len, sizeof(st->id));
                memcpy(st->id, rep->ufs.serial, st->id_len);
        } else {
                st->id_len = MIN(rep->ufs.cid_len, sizeof(st->id));
                memcpy(st->id, rep->ufs.cid, st->id_len);
        }
}

static void xflash_on_done(XFlash *xf, int r, void *userdata) {
        XFlashSession *xs = userdata;

        da_session_call_finish(&xs->s, r, xflash_classify(xs, r));
}

static void xflash_on_started(XFlash *xf, int r, void *userdata) {
        XFlashSession *xs = userdata;

        if (r >= 0)
                xflash_fill_storage(xs);
        /* §9.4: switched to high speed, the DA comes back on a new link */
        xs->s.returns_as = r >= 0 ? xflash_get_report(xf)->returns_as : 0;
        xflash_on_done(xf, r, userdata);
}

static int xflash_on_data(XFlash *xf, const uint8_t *data, size_t len, void *userdata) {
        XFlashSession *xs = userdata;
        int r = da_session_call_deliver(&xs->s, data, len);

        return r == DA_DATA_HELD ? XFLASH_DATA_HELD : r;
}

static int xflash_arm(XFlashSession *xs, DaDoneFunc done, DaDataFunc data, void *userdata) {
        return da_session_call_arm(&xs->s, done, data, userdata);
}

/* A call that failed at once never calls back. */
static int xflash_started(XFlashSession *xs, int r) {
        return da_session_call_started(&xs->s, r, xflash_classify(xs, r));
}

static int xflash_session_new(UsbLink *link, const BromIdentity *id, DaSession **ret) {
        XFlashSession *xs;
        int r;

        xs = calloc(1, sizeof(*xs));
        if (!xs)
                return -ENOMEM;
        r = xflash_new(link, &xs->xf);
        if (r < 0) {
                free(xs);
                return r;
        }
        xs->s.backend = &da_backend_xflash;
        *ret = &xs->s;
        return 0;
}

static void xflash_session_free(DaSession *s) {
        XFlashSession *xs = xflash_of(s);

        xflash_free(xs->xf);
        free(xs);
}

/* BROM mode: DA1 reported the eMMC CID; the generic choice among the
 * preloaders the operation gave the session. */
static const EmiBlock *xflash_choose_emi(XFlash *xf, const uint8_t *memory_id, size_t len, void *userdata) {
        XFlashSession *xs = userdata;

        return da_session_choose_emi(&xs->s, memory_id, len);
}

static int xflash_start_session(DaSession *s, const DaFile *file, const DaEntry *entry, DaDoneFunc done,
                                void *userdata) {
        XFlashSession *xs = xflash_of(s);
        const DaRegion *region;
        const uint8_t *data;
        int r;

        /* DA1 (region 1, sent with its signature) runs; DA2 is region 2, and
         * goes through BOOT_TO without its signature (§5.1, §9.1) */
        r = da_entry_get_stage(file, entry, 2, &data, &region);
        if (r < 0)
                return r;
        if (region->sig_len >= region->length)
                return -EBADMSG;
        r = xflash_arm(xs, done, NULL, userdata);
        if (r < 0)
                return r;
        xflash_set_emi_source(xs->xf, s->n_emi > 0 ? xflash_choose_emi : NULL, xs);
        return xflash_started(xs, xflash_start(xs->xf, data, region->length - region->sig_len, region->start_addr,
                                               xflash_on_started, xs));
}

static int xflash_read_session(DaSession *s, StorageRegion region, uint64_t offset, uint64_t length,
                               DaDataFunc data, DaDoneFunc done, void *userdata) {
        XFlashSession *xs = xflash_of(s);
        uint32_t n;
        int r;

        r = xflash_region(xs, region, &n);
        if (r < 0)
                return r;
        r = xflash_arm(xs, done, data, userdata);
        if (r < 0)
                return r;
        return xflash_started(xs, xflash_read(xs->xf, xs->storage, n, offset, length, xflash_on_data,
                                              xflash_on_done, xs));
}

static int xflash_write_session(DaSession *s, StorageRegion region, uint64_t offset, const uint8_t *buf,
                                uint64_t length, DaDoneFunc done, void *userdata) {
        XFlashSession *xs = xflash_of(s);
        uint32_t n;
        int r;

        r = xflash_region(xs, region, &n);
        if (r < 0)
                return r;
        r = xflash_arm(xs, done, NULL, userdata);
        if (r < 0)
                return r;
        return xflash_started(xs, xflash_write(xs->xf, xs->storage, n, offset, buf, length, xflash_on_done, xs));
}

static int xflash_reboot_session(DaSession *s, DaDoneFunc done, void *userdata) {
        XFlashSession *xs = xflash_of(s);
        int r;

        r = xflash_arm(xs, done, NULL, userdata);
        if (r < 0)
                return r;
        return xflash_started(xs, xflash_reboot(xs->xf, xflash_on_done, xs));
}

static void xflash_release_session(DaSession *s, const uint8_t *data) {
        xflash_release(xflash_of(s)->xf, data);
}

static void xflash_cancel_session(DaSession *s) {
        xflash_cancel(xflash_of(s)->xf);
}

static int xflash_relink_session(DaSession *s, UsbLink *link) {
        return xflash_relink(xflash_of(s)->xf, link);
}

static const char *xflash_get_detail_session(DaSession *s) {
        return xflash_get_detail(xflash_of(s)->xf);
}

/* §7: the whole MTK_BLOADER_INFO block goes to the DA as it is, so every
 * version is one the host can send; the DA judges it (0xC0040050). */
static bool xflash_supports_emi_version(unsigned version) {
        return true;
}

const DaBackend da_backend_xflash = {
        .name = "xflash",
        .session_new = xflash_session_new,
        .session_free = xflash_session_free,
        .start = xflash_start_session,
        .read = xflash_read_session,
        .write = xflash_write_session,
        .release_data = xflash_release_session,
        .reboot = xflash_reboot_session,
        .cancel = xflash_cancel_session,
        .get_detail = xflash_get_detail_session,
        .supports_emi_version = xflash_supports_emi_version,
        .relink = xflash_relink_session,
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy Download Agent (da.md §2) as a DaBackend: the generic session
 * embeds a DaLegacy, which the rest of the daemon never sees.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "da-backend.h"
#include "da-legacy.h"
#include "da-legacy-region.h"
#include "log.h"
#include "macro.h"

typedef struct LegacySession {
        DaSession s;              /* first: the generic part */
        DaLegacy *da;
} LegacySession;

static LegacySession *legacy_of(DaSession *s) {
        return container_of(s, LegacySession, s);
}

/* §5.1: how the legacy DA numbers the eMMC regions. */
static int legacy_region(StorageRegion region, uint8_t *ret) {
        int n = da_legacy_region_number(region);

        if (n < 0)
                return n;
        *ret = (uint8_t) n;
        return 0;
}

static DaFailure legacy_classify(LegacySession *ls, int r) {
        if (r >= 0)
                return DA_FAILURE_NONE;
        if (da_legacy_needs_emi(ls->da))
                return DA_FAILURE_NEEDS_DRAM;
        if (da_legacy_dram_failed(ls->da))
                return DA_FAILURE_DRAM;
        switch (r) {
        case -ENODEV:
                return DA_FAILURE_GONE;
        case -ECANCELED:
                return DA_FAILURE_CANCELLED;
        case -EBADMSG:
                return DA_FAILURE_CHECKSUM;
        case -EIO:
        case -ENOENT:
                return DA_FAILURE_REFUSED;
        }
        return DA_FAILURE_PROTOCOL;
}

static void legacy_fill_storage(LegacySession *ls) {
        const DaLegacyReport *rep = da_legacy_get_report(ls->da);
        StorageInfo *st = &ls->s.storage;

        *st = (StorageInfo) { .type = STORAGE_EMMC };
        st->region_size[STORAGE_REGION_USER] = rep->user_size;
        st->region_size[STORAGE_REGION_BOOT1] = rep->boot1_size;
        st->region_size[STORAGE_REGION_BOOT2] = rep->boot2_size;
        st->region_size[STORAGE_REGION_RPMB] = rep->rpmb_size;
        memcpy(st->id, rep->cid, sizeof(rep->cid));
        st->id_len = sizeof(rep->cid);
        log_info("Legacy DA running: eMMC user area %" PRIu64 " MiB, USB %s.", rep->user_size >> 20,
                 rep->usb_speed ? "high speed" : "full speed");
}

static void legacy_on_done(DaLegacy *da, int r, void *userdata) {
        LegacySession *ls = userdata;

        da_session_call_finish(&ls->s, r, legacy_classify(ls, r));
}

static void legacy_on_started(DaLegacy *da, int r, void *userdata) {
        LegacySession *ls = userdata;

        if (r >= 0)
                legacy_fill_storage(ls);
        legacy_on_done(da, r, userdata);
}

static int legacy_on_data(DaLegacy *da, const uint8_t *data, size_t len, void *userdata) {
        LegacySession *ls = userdata;

        return da_session_call_deliver(&ls->s, data, len);
}

static int legacy_arm(LegacySession *ls, DaDoneFunc done, DaDataFunc data, void *userdata) {
        return da_session_call_arm(&ls->s, done, data, userdata);
}

/* A call that failed at once never calls back. */
static int legacy_started(LegacySession *ls, int r) {
        return da_session_call_started(&ls->s, r, legacy_classify(ls, r));
}

static int legacy_session_new(UsbLink *link, const BromIdentity *id, DaSession **ret) {
        LegacySession *ls;
        int r;

        ls = calloc(1, sizeof(*ls));
        if (!ls)
                return -ENOMEM;
        r = da_legacy_new(link, id, &ls->da);
        if (r < 0) {
                free(ls);
                return r;
        }
        ls->s.backend = &da_backend_legacy;
        *ret = &ls->s;
        return 0;
}

static void legacy_session_free(DaSession *s) {
        LegacySession *ls = legacy_of(s);

        da_legacy_free(ls->da);
        free(ls);
}

/* BROM mode: DA1 reported its memory id; the generic choice among the
 * preloaders the operation gave the session. */
static const EmiBlock *legacy_choose_emi(DaLegacy *da, const uint8_t memory_id[DA_EMI_MEMORY_ID_LEN],
                                         void *userdata) {
        LegacySession *ls = userdata;

        return da_session_choose_emi(&ls->s, memory_id, DA_EMI_MEMORY_ID_LEN);
}

static int legacy_start(DaSession *s, const DaFile *file, const DaEntry *entry, DaDoneFunc done, void *userdata) {
        LegacySession *ls = legacy_of(s);
        const DaRegion *region;
        const uint8_t *data;
        int r;

        /* DA1 is running (JUMP_DA): DA2 is the entry's second load region */
        r = da_entry_get_stage(file, entry, 2, &data, &region);
        if (r < 0)
                return r;
        r = legacy_arm(ls, done, NULL, userdata);
        if (r < 0)
                return r;
        /* without candidates a DA asking for DRAM settings fails at once */
        da_legacy_set_emi_source(ls->da, s->n_emi > 0 ? legacy_choose_emi : NULL, ls);
        return legacy_started(ls, da_legacy_start(ls->da, data, region->length, region->start_addr,
                                                  legacy_on_started, ls));
}

static int legacy_read(DaSession *s, StorageRegion region, uint64_t offset, uint64_t length, DaDataFunc data,
                       DaDoneFunc done, void *userdata) {
        LegacySession *ls = legacy_of(s);
        uint8_t n;
        int r;

        r = legacy_region(region, &n);
        if (r < 0)
                return r;
        r = legacy_arm(ls, done, data, userdata);
        if (r < 0)
                return r;
        return legacy_started(ls, da_legacy_read(ls->da, n, offset, length, legacy_on_data, legacy_on_done, ls));
}

static int legacy_write(DaSession *s, StorageRegion region, uint64_t offset, const uint8_t *buf, uint64_t length,
                        DaDoneFunc done, void *userdata) {
        LegacySession *ls = legacy_of(s);
        uint8_t n;
        int r;

        r = legacy_region(region, &n);
        if (r < 0)
                return r;
        r = legacy_arm(ls, done, NULL, userdata);
        if (r < 0)
                return r;
        return legacy_started(ls, da_legacy_write(ls->da, n, offset, buf, length, legacy_on_done, ls));
}

static int legacy_read_pmt(DaSession *s, DaDoneFunc done, void *userdata) {
        LegacySession *ls = legacy_of(s);
        int r;

        r = legacy_arm(ls, done, NULL, userdata);
        if (r < 0)
                return r;
        return legacy_started(ls, da_legacy_read_pmt(ls->da, legacy_on_done, ls));
}

static int legacy_take_pmt(DaSession *s, uint8_t **ret, size_t *ret_len) {
        return da_legacy_take_pmt(legacy_of(s)->da, ret, ret_len);
}

static int legacy_reboot(DaSession *s, DaDoneFunc done, void *userdata) {
        LegacySession *ls = legacy_of(s);
        int r;

        r = legacy_arm(ls, done, NULL, userdata);
        if (r < 0)
                return r;
        return legacy_started(ls, da_legacy_reboot(ls->da, legacy_on_done, ls));
}

static void legacy_release_data(DaSession *s, const uint8_t *data) {
        da_legacy_release(legacy_of(s)->da, data);
}

static void legacy_cancel(DaSession *s) {
        da_legacy_cancel(legacy_of(s)->da);
}

static const char *legacy_get_detail(DaSession *s) {
        return da_legacy_get_detail(legacy_of(s)->da);
}

const DaBackend da_backend_legacy = {
        .name = "legacy",
        .session_new = legacy_session_new,
        .session_free = legacy_session_free,
        .start = legacy_start,
        .read = legacy_read,
        .write = legacy_write,
        .release_data = legacy_release_data,
        .read_vendor_table = legacy_read_pmt,
        .take_vendor_table = legacy_take_pmt,
        .reboot = legacy_reboot,
        .cancel = legacy_cancel,
        .get_detail = legacy_get_detail,
        .supports_emi_version = da_legacy_emi_version_supported,
};

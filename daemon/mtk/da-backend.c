/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "da-backend.h"
#include "macro.h"

const DaBackend *da_backend_for_chip(const ChipInfo *c, const char **ret_reason) {
        const char *why = chip_unsupported_reason(c);

        if (why) {
                *ret_reason = why;
                return NULL;
        }
        switch (c->da_mode) {
        case DA_MODE_LEGACY:
                *ret_reason = NULL;
                return &da_backend_legacy;
        case DA_MODE_XFLASH:
                *ret_reason = NULL;
                return &da_backend_xflash;
        case DA_MODE_XML:
                *ret_reason = NULL;
                return &da_backend_xml;
        }
        *ret_reason = "This chip's Download Agent protocol is unknown to mtknvd.";
        return NULL;
}

bool da_entry_family(const DaFile *f, const ChipInfo *chip, DaMode *ret) {
        if (f->v6 || (chip && chip->da_mode == DA_MODE_XML)) {
                *ret = DA_MODE_XML;
                return true;
        }
        if (!chip)
                return false;
        *ret = chip->da_mode;
        return true;
}

const DaBackend *da_backend_for_da(const ChipInfo *c, const DaFile *file, const char **ret_reason) {
        ChipInfo as_needed;
        DaMode mode;

        if (!c || !file || !da_entry_family(file, c, &mode))
                return da_backend_for_chip(c, ret_reason);
        /* mtkclient's rule (xml-da.md §1): a chip of another family runs XML
         * when its DA file is a V6 one (MT6833/6853/6877/6893 phones).  The
         * one gate, asked for this chip as the file's family has it. */
        as_needed = *c;
        as_needed.da_mode = mode;
        return da_backend_for_chip(&as_needed, ret_reason);
}

const DaBackend *da_backend_for_entry(const DaFile *f, const DaEntry *e, const ChipInfo *chip,
                                      const char **ret_reason) {
        if (!da_entry_has_stages(e)) {
                *ret_reason = "This entry lacks the two stages a phone is sent (DA1 and DA2, regions 1 and 2), as "
                              "IoT entries do; mtknvd cannot use it.";
                return NULL;
        }
        return da_backend_for_da(chip, f, ret_reason);
}

int da_session_new(const DaBackend *b, UsbLink *link, const BromIdentity *id, DaSession **ret) {
        int r = b->session_new(link, id, ret);

        if (r >= 0) {
                (*ret)->emi_chosen = -1;
                (*ret)->emi_version = -1;
        }
        return r;
}

bool da_backend_supports_emi_version(const DaBackend *b, int version) {
        return b && b->supports_emi_version && version >= 0 && b->supports_emi_version((unsigned) version);
}

void da_session_set_emi(DaSession *s, int version, const EmiBlock *const *emi, size_t n) {
        s->emi_version = version;
        s->emi = emi;
        s->n_emi = n;
}

const EmiBlock *da_session_choose_emi(DaSession *s, const uint8_t *memory_id, size_t len) {
        int fallback = -1;

        s->memory_id_len = MIN(len, sizeof(s->memory_id));
        memcpy(s->memory_id, memory_id, s->memory_id_len);
        s->emi_chosen = -1;
        /* brom-emi.md §5.3: the chip's version and a record for this very
         * memory; a default entry (id_len 0) only when no block names it */
        for (size_t i = 0; i < s->n_emi; i++) {
                const EmiBlock *b = s->emi[i];
                int k;

                if (s->emi_version < 0 || b->version != (unsigned) s->emi_version)
                        continue;
                k = emi_block_find_record(b, memory_id, len);
                if (k < 0)
                        continue;
                if (b->record[k].id_len > 0) {
                        s->emi_chosen = (int) i;
                        return b;
                }
                if (fallback < 0)
                        fallback = (int) i;
        }
        s->emi_chosen = fallback;
        return fallback >= 0 ? s->emi[fallback] : NULL;
}

int da_session_get_emi_chosen(const DaSession *s) {
        return s->emi_chosen;
}

const uint8_t *da_session_get_memory_id(const DaSession *s, size_t *ret_len) {
        *ret_len = s->memory_id_len;
        return s->memory_id;
}

DaSession *da_session_free(DaSession *s) {
        if (s)
                s->backend->session_free(s);
        return NULL;
}

int da_session_start(DaSession *s, const DaFile *file, const DaEntry *entry, DaDoneFunc done, void *userdata) {
        return s->backend->start(s, file, entry, done, userdata);
}

int da_session_read(DaSession *s, StorageRegion region, uint64_t offset, uint64_t length, DaDataFunc data,
                    DaDoneFunc done, void *userdata) {
        return s->backend->read(s, region, offset, length, data, done, userdata);
}

void da_session_release_data(DaSession *s, const uint8_t *data) {
        /* a backend that never reads ahead may do without: then nothing is held */
        if (s->backend->release_data)
                s->backend->release_data(s, data);
}

int da_session_write(DaSession *s, StorageRegion region, uint64_t offset, const uint8_t *buf, uint64_t length,
                     DaDoneFunc done, void *userdata) {
        if (!s->backend->write)
                return -EOPNOTSUPP;
        return s->backend->write(s, region, offset, buf, length, done, userdata);
}

bool da_session_has_vendor_table(const DaSession *s) {
        return s->backend->read_vendor_table && s->backend->take_vendor_table;
}

int da_session_read_vendor_table(DaSession *s, DaDoneFunc done, void *userdata) {
        if (!da_session_has_vendor_table(s))
                return -EOPNOTSUPP;
        return s->backend->read_vendor_table(s, done, userdata);
}

int da_session_take_vendor_table(DaSession *s, uint8_t **ret, size_t *ret_len) {
        if (!da_session_has_vendor_table(s))
                return -EOPNOTSUPP;
        return s->backend->take_vendor_table(s, ret, ret_len);
}

int da_session_reboot(DaSession *s, DaDoneFunc done, void *userdata) {
        return s->backend->reboot(s, done, userdata);
}

uint32_t da_session_get_returns_as(const DaSession *s) {
        return s->returns_as;
}

int da_session_relink(DaSession *s, UsbLink *link) {
        int r;

        if (!s->backend->relink)
                return -EOPNOTSUPP;
        r = s->backend->relink(s, link);
        if (r >= 0 && link)
                s->returns_as = 0;
        return r;
}

void da_session_cancel(DaSession *s) {
        if (s->backend->cancel)
                s->backend->cancel(s);
}

const char *da_session_get_detail(DaSession *s) {
        return s->backend->get_detail ? s->backend->get_detail(s) : "";
}

const StorageInfo *da_session_get_storage(const DaSession *s) {
        return &s->storage;
}

DaFailure da_session_get_failure(const DaSession *s) {
        return s->failure;
}

int da_session_call_arm(DaSession *s, DaDoneFunc done, DaDataFunc data, void *userdata) {
        if (s->call_done)
                return -EBUSY;
        s->call_done = done;
        s->call_data = data;
        s->call_userdata = userdata;
        return 0;
}

int da_session_call_started(DaSession *s, int r, DaFailure failure) {
        if (r < 0) {
                s->call_done = NULL;
                s->call_data = NULL;
                s->failure = failure;
        }
        return r;
}

void da_session_call_finish(DaSession *s, int r, DaFailure failure) {
        DaDoneFunc done = s->call_done;

        s->failure = failure;
        s->call_done = NULL;
        s->call_data = NULL;
        done(s, r, s->call_userdata);
}

int da_session_call_deliver(DaSession *s, const uint8_t *data, size_t len) {
        return s->call_data(s, data, len, s->call_userdata);
}

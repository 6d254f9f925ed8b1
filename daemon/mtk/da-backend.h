/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One interface for every Download Agent family.  Each family (legacy DA,
 * later XFlash "V5" and XML "V6") is a const table of functions, as
 * systemd's udev builtins and iwd's auth protocols are; its session state
 * embeds the generic DaSession first, so the operations above see only
 * this header.  The backend is chosen once, from the chip, by
 * da_backend_for_chip(): it is the only "can mtknvd talk to this chip's DA"
 * gate.  A NULL entry means the family cannot do that; the da_session_*()
 * wrappers check it, once, and answer -EOPNOTSUPP.
 *
 * Every call that takes a done callback either returns < 0 at once (done
 * is then never called) or returns 0 and calls done exactly once, from the
 * event loop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "brom.h"
#include "da-file.h"
#include "preloader-emi.h"
#include "storage.h"
#include "usb-transport.h"

/* Why the last call failed, in terms an operation can act on. */
typedef enum DaFailure {
        DA_FAILURE_NONE,
        DA_FAILURE_GONE,          /* the phone left the bus */
        DA_FAILURE_CANCELLED,
        DA_FAILURE_NEEDS_DRAM,    /* BROM mode: the DA needs the DRAM settings of the phone's preloader */
        DA_FAILURE_DRAM,          /* BROM mode: the DA refused the settings given, or the RAM did not come up */
        DA_FAILURE_CHECKSUM,      /* data arrived corrupted; the stream is in step, a retry may help */
        DA_FAILURE_REFUSED,       /* the DA answered a command with an error (NACK, status) */
        DA_FAILURE_PROTOCOL,      /* an answer the protocol does not allow: the session is out of step */
} DaFailure;

typedef struct DaBackend DaBackend;
typedef struct DaSession DaSession;

typedef void (*DaDoneFunc)(DaSession *s, int r, void *userdata);
/* Each piece of a read, already checked; < 0 aborts the read with that
 * error, 0 means done with it, DA_DATA_HELD that the consumer keeps it
 * (hashing and storing it on a worker) and gives it back with
 * da_session_release_data(); the read's done callback waits for that, and
 * a backend reads ahead only into buffers it has back. */
typedef int (*DaDataFunc)(DaSession *s, const uint8_t *data, size_t len, void *userdata);
#define DA_DATA_HELD 1

/* The generic part of every family's session: what the DA reported. */
struct DaSession {
        const DaBackend *backend;
        StorageInfo storage;      /* valid once start succeeded */
        DaFailure failure;        /* of the last call that failed */
        /* BROM mode (brom-emi.md §5): the stored preloaders' EMI blocks to
         * choose from (the caller's, alive as long as the session), the
         * chip's EMI version, the memory id the DA reported, the choice */
        const EmiBlock *const *emi;
        size_t n_emi;
        int emi_version;
        uint8_t memory_id[EMI_ID_MAX];
        size_t memory_id_len;
        int emi_chosen;           /* index into emi; -1: none */
        /* the caller's call in progress (da_session_call_*()): one at a time */
        DaDoneFunc call_done;
        DaDataFunc call_data;
        void *call_userdata;
        /* not 0: the last call ended with the phone leaving the bus to come
         * back as this USB id (vid << 16 | pid; a DA's switch to high speed),
         * and the session waits for its new link (da_session_relink()) */
        uint32_t returns_as;
};

struct DaBackend {
        const char *name;         /* "legacy": for logs and messages */
        int (*session_new)(UsbLink *link, const BromIdentity *id, DaSession **ret);
        void (*session_free)(DaSession *s);
        /* After JUMP_DA to the first stage: bring the DA up (further stages
         * from the DA file entry) and learn the storage. */
        int (*start)(DaSession *s, const DaFile *file, const DaEntry *entry, DaDoneFunc done, void *userdata);
        int (*read)(DaSession *s, StorageRegion region, uint64_t offset, uint64_t length, DaDataFunc data,
                    DaDoneFunc done, void *userdata);
        /* A piece the data callback held is given back. */
        void (*release_data)(DaSession *s, const uint8_t *data);
        /* buf stays valid until done runs */
        int (*write)(DaSession *s, StorageRegion region, uint64_t offset, const uint8_t *buf, uint64_t length,
                     DaDoneFunc done, void *userdata);
        /* A vendor partition table the DA itself knows (the legacy DA's PMT):
         * read it, then take the raw bytes.  NULL: the family has none. */
        int (*read_vendor_table)(DaSession *s, DaDoneFunc done, void *userdata);
        int (*take_vendor_table)(DaSession *s, uint8_t **ret, size_t *ret_len);
        /* End the session so that the phone boots normally. */
        int (*reboot)(DaSession *s, DaDoneFunc done, void *userdata);
        void (*cancel)(DaSession *s);
        /* Technical detail of the last failure ("NACK to READ at 0x380000"), "" if none. */
        const char *(*get_detail)(DaSession *s);
        /* BROM mode: whether the family can give its DA this EMI version's
         * DRAM settings.  NULL: it cannot start in BROM mode at all. */
        bool (*supports_emi_version)(unsigned version);
        /* The phone re-enumerated as returns_as said: its new link (NULL:
         * the old one goes away).  NULL: the family never re-enumerates. */
        int (*relink)(DaSession *s, UsbLink *link);
};

/* The families, each in its own folder under mtk/. */
extern const DaBackend da_backend_legacy;
extern const DaBackend da_backend_xflash;
extern const DaBackend da_backend_xml;

/* The backend for this chip, or NULL with *ret_reason a sentence naming the
 * cause and the remedy (chip == NULL: not in the chip table). */
const DaBackend *da_backend_for_chip(const ChipInfo *chip, const char **ret_reason);
/* The backend for this chip with the DA file chosen for it: a file whose
 * identifier marks it V6 (xml-da.md §1, DaFile.v6) speaks XML whatever the
 * chip's own family; else da_backend_for_chip().  file may be NULL. */
const DaBackend *da_backend_for_da(const ChipInfo *chip, const DaFile *file, const char **ret_reason);

/* The DA family entry e of f needs on chip: XML for every entry of a V6
 * file (brom.md §6.1: selecting a V6 entry forces XML) and on a chip whose
 * table says XML, the chip's family otherwise; false when chip is NULL and
 * the file does not say. */
bool da_entry_family(const DaFile *f, const ChipInfo *chip, DaMode *ret);
/* Whether this mtknvd can use entry e of f for chip: the backend of the
 * family the entry needs, as da_backend_for_chip() answers for a chip of
 * that family, or NULL with *ret_reason (an entry without DA1 and DA2
 * cannot be used at all). */
const DaBackend *da_backend_for_entry(const DaFile *f, const DaEntry *e, const ChipInfo *chip,
                                      const char **ret_reason);

int da_session_new(const DaBackend *b, UsbLink *link, const BromIdentity *id, DaSession **ret);
/* BROM mode: start may choose DRAM settings among these (version: the chip's). */
void da_session_set_emi(DaSession *s, int version, const EmiBlock *const *emi, size_t n);
/* The family's entry point when the DA reported its memory id: the block
 * of the chip's version with a record for that memory (an exact id before
 * a default entry), or NULL; remembers the id and the choice. */
const EmiBlock *da_session_choose_emi(DaSession *s, const uint8_t *memory_id, size_t len);
/* After start: the index of the block sent, -1 if none; the memory id (len 0: none reported). */
int da_session_get_emi_chosen(const DaSession *s);
const uint8_t *da_session_get_memory_id(const DaSession *s, size_t *ret_len);
bool da_backend_supports_emi_version(const DaBackend *b, int version);
DaSession *da_session_free(DaSession *s);
int da_session_start(DaSession *s, const DaFile *file, const DaEntry *entry, DaDoneFunc done, void *userdata);
int da_session_read(DaSession *s, StorageRegion region, uint64_t offset, uint64_t length, DaDataFunc data,
                    DaDoneFunc done, void *userdata);
int da_session_write(DaSession *s, StorageRegion region, uint64_t offset, const uint8_t *buf, uint64_t length,
                     DaDoneFunc done, void *userdata);
void da_session_release_data(DaSession *s, const uint8_t *data);
bool da_session_has_vendor_table(const DaSession *s);
int da_session_read_vendor_table(DaSession *s, DaDoneFunc done, void *userdata);
int da_session_take_vendor_table(DaSession *s, uint8_t **ret, size_t *ret_len);
int da_session_reboot(DaSession *s, DaDoneFunc done, void *userdata);
void da_session_cancel(DaSession *s);
const char *da_session_get_detail(DaSession *s);
const StorageInfo *da_session_get_storage(const DaSession *s);
DaFailure da_session_get_failure(const DaSession *s);
/* After a call: where the phone comes back (vid << 16 | pid), 0 if it stays. */
uint32_t da_session_get_returns_as(const DaSession *s);
int da_session_relink(DaSession *s, UsbLink *link);

/* For the families' adapters: the bookkeeping of the caller's one call at a
 * time, the same for every family.  arm: -EBUSY while a call is pending;
 * started: a call that failed at once (r < 0) is dropped with its failure
 * class and never calls back; finish: the call's done runs exactly once;
 * deliver: a piece of a read goes to the caller's data callback. */
int da_session_call_arm(DaSession *s, DaDoneFunc done, DaDataFunc data, void *userdata);
int da_session_call_started(DaSession *s, int r, DaFailure failure);
void da_session_call_finish(DaSession *s, int r, DaFailure failure);
int da_session_call_deliver(DaSession *s, const uint8_t *data, size_t len);

static inline void da_session_freep(DaSession **s) {
        if (*s)
                da_session_free(*s);
}

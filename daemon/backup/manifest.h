/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manifest.yaml: what a backup holds and whose it is.  Written and read
 * with libyaml; the reader treats its input as hostile (imported archives).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "storage.h"

/*
 * Format versions: 1, the first; 2 added the binding HMAC (below); 3 names a
 * partition's region ("region: user") instead of giving the legacy DA's
 * number for it ("region: 8"), and adds the device's storage_type and
 * storage_id.  Versions 1 and 2 are still read: their region numbers 8, 1,
 * 2, 3 and 255 are user, boot1, boot2, rpmb and any, any other number is an
 * error; their storage is taken as the eMMC of their emmc_cid (only the
 * legacy DA, which reads eMMC alone, wrote them).  A manifest is written in
 * the version it has (format_version): one read keeps its version, and with
 * it its binding, until it is signed again.
 */
#define MANIFEST_FORMAT_VERSION 3
#define MANIFEST_FORMAT_VERSION_MIN 1
#define MANIFEST_PARTS_MAX 64
#define MANIFEST_BINDING_KEY_SIZE 32
#define MANIFEST_BINDING_MAC_SIZE 32
/* "binding: method:" of version 2 and later */
#define MANIFEST_BINDING_METHOD "hmac-sha256"
/* An imported image whose position is unknown (a raw image): a restore
 * takes it from the phone's own table, by name and exact size. */
#define MANIFEST_REGION_ANY STORAGE_REGION_ANY

typedef struct ManifestPartition {
        char name[64];
        char file[80];
        StorageRegion region;
        uint64_t offset, size;
        uint8_t sha256[32];
} ManifestPartition;

typedef struct Manifest {
        unsigned format_version;
        char tool_version[32];
        uint64_t created_usec;        /* CLOCK_REALTIME: the data was read from the phone */
        /* CLOCK_REALTIME: an import was stored here (0: not an import, or one
         * stored before imports kept their archive's created time).  Optional
         * key "imported", not covered by the binding; no version change:
         * older readers ignore it. */
        uint64_t imported_usec;
        char source[16];              /* auto | manual | pre-restore | import */
        char chip[16];
        uint16_t hw_code;
        char me_id[129], soc_id[129], emmc_cid[65], device_key[96];
        /* _STORAGE_TYPE_INVALID: not known (an image imported without its phone) */
        StorageType storage_type;
        /* lower-case hex of the storage's own id (StorageInfo.id): the eMMC
         * CID, so far the same as emmc_cid, which stays for older readers */
        char storage_id[STORAGE_ID_HEX_MAX];
        char table_source[16];        /* gpt | pmt | scatter */
        bool verified;
        char verify_method[32];
        ManifestPartition *parts;
        size_t n_parts;
        /* binding: which host key vouched for the binding fields, and its HMAC */
        bool has_binding;
        char binding_key_id[17];
        uint8_t binding_mac[MANIFEST_BINDING_MAC_SIZE];
} Manifest;

Manifest *manifest_new(void);
Manifest *manifest_free(Manifest *m);
int manifest_add_partition(Manifest *m, const ManifestPartition *p);
int manifest_write(const Manifest *m, FILE *f);
/* -EBADMSG with *ret_error saying which field is wrong. */
int manifest_parse(const uint8_t *data, size_t size, Manifest **ret, char **ret_error);
/*
 * The binding HMAC.  A backup counts as bound to a phone only when a host key
 * vouches for it: HMAC-SHA256 with the key over the manifest's canonical
 * bytes, which cover what a restore trusts and nothing a copy may change.
 * Strings are a u32 BE length and their bytes, numbers u64 BE.
 *
 * Format version 3 (tag "mtknvd-binding-v2"):
 *
 *   "mtknvd-binding-v2" NUL, then the strings device key, chip, me_id,
 *   soc_id, emmc_cid, storage type ("emmc", "ufs", "" when not known),
 *   storage_id, table_source, the numbers hw_code and partition count, and
 *   per partition, in manifest order: the strings name, file and region
 *   ("user", "boot1", "boot2", "rpmb", "any"), the numbers offset and size,
 *   and the 32 SHA-256 bytes.
 *
 * Format version 2 (tag "mtknvd-binding-v1"), unchanged so that what was
 * signed then verifies now:
 *
 *   "mtknvd-binding-v1" NUL, then the strings device key, chip, me_id,
 *   soc_id, emmc_cid, table_source, the numbers hw_code and partition count,
 *   and per partition: the strings name and file, the numbers region (as
 *   version 2 wrote it: 8 user, 1 boot1, 2 boot2, 3 rpmb, 255 any), offset
 *   and size, and the 32 SHA-256 bytes.
 *
 * Source, creation time, tool version and the verification method are not
 * covered: an import rewrites them.
 */
int manifest_binding_canonical(const Manifest *m, uint8_t **ret, size_t *ret_size);
int manifest_binding_compute(const Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE],
                             uint8_t ret[MANIFEST_BINDING_MAC_SIZE]);
/* Sets has_binding, binding_key_id and binding_mac, and format_version to
 * MANIFEST_FORMAT_VERSION: a signature is always made in the current form. */
int manifest_binding_sign(Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE], const char *key_id);
/* True only when m carries a binding made with exactly this key (constant-time comparison). */
bool manifest_binding_verify(const Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE]);
/* Any of ME ID, SoC ID, eMMC CID, storage id present. */
bool manifest_has_identity(const Manifest *m);
/* Blanks the identity (an unbound import keeps its images, not its claim). */
void manifest_clear_identity(Manifest *m, const char *device_key);

/* When the backup came into this store: imported_usec for an import, else created_usec. */
uint64_t manifest_stored_usec(const Manifest *m);

/* A name usable as a file or directory name: no '/', no leading '.', short. */
bool manifest_safe_name(const char *s);

static inline void manifest_freep(Manifest **m) {
        if (*m)
                manifest_free(*m);
}

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

/* 2: the binding HMAC (below).  Version 1 manifests are still read. */
#define MANIFEST_FORMAT_VERSION 2
#define MANIFEST_FORMAT_VERSION_MIN 1
#define MANIFEST_PARTS_MAX 64
#define MANIFEST_BINDING_KEY_SIZE 32
#define MANIFEST_BINDING_MAC_SIZE 32
/* "binding: method:" of version 2 */
#define MANIFEST_BINDING_METHOD "hmac-sha256"
/* An imported image whose position is unknown (a raw image): a restore
 * takes it from the phone's own table, by name and exact size. */
#define MANIFEST_REGION_ANY 0xffu

typedef struct ManifestPartition {
        char name[64];
        char file[80];
        uint8_t region;
        uint64_t offset, size;
        uint8_t sha256[32];
} ManifestPartition;

typedef struct Manifest {
        unsigned format_version;
        char tool_version[32];
        uint64_t created_usec;        /* CLOCK_REALTIME */
        char source[16];              /* auto | manual | pre-restore | import */
        char chip[16];
        uint16_t hw_code;
        char me_id[129], soc_id[129], emmc_cid[65], device_key[96];
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
 * bytes, which cover what a restore trusts and nothing a copy may change:
 *
 *   "mtknvd-binding-v1" NUL, then the strings device key, chip, me_id,
 *   soc_id, emmc_cid, table_source (each a u32 BE length and its bytes), the
 *   u64 BE hw_code and partition count, and per partition, in manifest order:
 *   the strings name and file, the u64 BE region, offset and size, and the
 *   32 SHA-256 bytes.
 *
 * Source, creation time, tool version and the verification method are not
 * covered: an import rewrites them.
 */
int manifest_binding_canonical(const Manifest *m, uint8_t **ret, size_t *ret_size);
int manifest_binding_compute(const Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE],
                             uint8_t ret[MANIFEST_BINDING_MAC_SIZE]);
/* Sets has_binding, binding_key_id and binding_mac. */
int manifest_binding_sign(Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE], const char *key_id);
/* True only when m carries a binding made with exactly this key (constant-time comparison). */
bool manifest_binding_verify(const Manifest *m, const uint8_t key[MANIFEST_BINDING_KEY_SIZE]);
/* Any of ME ID, SoC ID, eMMC CID present. */
bool manifest_has_identity(const Manifest *m);
/* Blanks the identity (an unbound import keeps its images, not its claim). */
void manifest_clear_identity(Manifest *m, const char *device_key);

/* A name usable as a file or directory name: no '/', no leading '.', short. */
bool manifest_safe_name(const char *s);

static inline void manifest_freep(Manifest **m) {
        if (*m)
                manifest_free(*m);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated phone's eMMC (or UFS): the user area (LU2) in a (sparse)
 * image file, the boot areas (LU0/LU1) in memory.  A new image gets a realistic MT6735 layout
 * (da.md §5.6) with a CRC-correct GPT and deterministic content in the
 * identity partitions, different for every phone.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "sim-phone.h"

typedef struct SimStorage SimStorage;

SimStorage *sim_storage_open(const char *path, const SimPhoneConfig *cfg, GError **error);
void sim_storage_close(SimStorage *s);
/* 0 for a region the phone does not have */
uint64_t sim_storage_region_size(const SimStorage *s, uint8_t region);
const uint8_t *sim_storage_cid(const SimStorage *s);
/* storage-type=ufs: the image is LU2 with 4096-byte sectors, BOOT1/BOOT2 are LU0/LU1 */
bool sim_storage_is_ufs(const SimStorage *s);
#define SIM_UFS_SERIAL_LEN 24
const char *sim_storage_ufs_serial(const SimStorage *s);
/* the UFS product id (ASCII part number, NUL-padded) */
#define SIM_UFS_PRODUCT_LEN 20
const uint8_t *sim_storage_ufs_product(const SimStorage *s);
/* what a DA matches EMI records against: the CID (eMMC) or the part number (UFS), 16 bytes */
const uint8_t *sim_storage_memory_id(const SimStorage *s);
void sim_storage_read(SimStorage *s, uint8_t region, uint64_t off, uint8_t *buf, size_t n);
void sim_storage_write(SimStorage *s, uint8_t region, uint64_t off, const uint8_t *buf, size_t n);
/* The PMT block of a PMT-layout phone; NULL on a GPT phone. */
const uint8_t *sim_storage_pmt(const SimStorage *s, size_t *ret_len);

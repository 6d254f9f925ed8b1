/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated phone's view of EMI (DRAM) settings, written from
 * ../shared/protocol/brom-emi.md: its own small parser of preloader images
 * (§2–§4, forms A, B and C), the record layouts, and the rule by which a
 * BROM-mode legacy DA1 decides whether the records a host sent after
 * ENABLE_DRAM bring its DRAM up (tests/sim/README.md).  No USB, no state.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_EMI_MAX_RECORDS     64      /* brom-emi.md §9: a plausible count is 1–64 */
#define SIM_EMI_MAX_RECORD_SIZE 188     /* the largest R of §4.3 */
#define SIM_EMI_HEADER_LEN      0x70
#define SIM_EMI_ID_LEN          16

/* The row-9 length exchange of brom-emi.md §6.2 a version takes */
typedef enum SimEmiBranch {
        SIM_EMI_BRANCH_NONE,            /* no branch simulated: ENABLE_DRAM is refused */
        SIM_EMI_BRANCH_LENGTH,          /* v15–v17, v20, v21: DA sends R, host 5A + u32 length */
        SIM_EMI_BRANCH_CUT_0100,        /* v12, v13: DA sends L, host 5A, L bytes, first u32 = 0x100 */
        SIM_EMI_BRANCH_ECHO,            /* v00: DA sends L, host 5A + L back, L bytes */
} SimEmiBranch;

/* The records of one preloader's EMI block (block + 0x70, N × R bytes) */
typedef struct SimEmiBlock {
        bool present;
        unsigned version, record_size, count;
        uint8_t records[SIM_EMI_MAX_RECORDS * SIM_EMI_MAX_RECORD_SIZE];
} SimEmiBlock;

/* §4.3: R for a version; 0 when no size is known. */
unsigned sim_emi_record_size(unsigned version);
SimEmiBranch sim_emi_branch(unsigned version);

/* §3/§4: find and check the EMI block of a preloader image (forms A, B, C);
 * false with *error set when it cannot be used. */
bool sim_emi_block_parse(const uint8_t *data, size_t len, SimEmiBlock *ret, GError **error);

/* Whether DRAM comes up with the len record bytes the host sent (as they
 * came, after its cut of §6.2) for this version: with a preloader block
 * they must be exactly what a host cuts from it; without one, one record
 * (type ≠ 0) must have id_length 0 or its first id_length ID bytes equal to
 * memory_id's. */
bool sim_emi_dram_comes_up(const SimEmiBlock *pl, unsigned version, const uint8_t *rec, size_t len,
                           const uint8_t memory_id[SIM_EMI_ID_LEN]);

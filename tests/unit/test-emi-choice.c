/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* brom-emi.md §5: which stored preloader's DRAM settings a phone in BROM
 * mode gets, from the memory id its DA reported. */
#include <string.h>

#include "da-backend.h"
#include "tap.h"

static const uint8_t CID_A[16] = { 0x90, 0x01, 0x4a, 0x48, 0x42, 0x47, 0x34, 0x61, 0x32, 0xa4, 1, 2, 3, 4, 5, 6 };
static const uint8_t CID_B[16] = { 0x15, 0x01, 0x00, 0x51, 0x44, 0x36, 0x44, 0x42, 0x41, 0x00, 9, 9, 9, 9, 9, 9 };

static void block_init(EmiBlock *b, unsigned version) {
        memset(b, 0, sizeof(*b));
        b->version = version;
}

static void block_add(EmiBlock *b, const uint8_t *id, unsigned id_len) {
        EmiRecord *r = &b->record[b->n_records++];

        r->type = 0x0203;
        r->id_len = id_len;
        if (id_len)
                memcpy(r->id, id, id_len);
}

static DaSession session_with(const EmiBlock *const *blocks, size_t n, int version) {
        DaSession s = { .emi_chosen = -1, .emi_version = -1 };

        da_session_set_emi(&s, version, blocks, n);
        return s;
}

TEST(exact_id_of_the_chips_version) {
        EmiBlock other_version, wrong_id, right;
        const EmiBlock *blocks[] = { &other_version, &wrong_id, &right };
        DaSession s;
        size_t len;

        block_init(&other_version, 35);
        block_add(&other_version, CID_A, 9);     /* the id, but for another chip */
        block_init(&wrong_id, 20);
        block_add(&wrong_id, CID_B, 9);
        block_init(&right, 20);
        block_add(&right, CID_B, 9);
        block_add(&right, CID_A, 9);
        s = session_with(blocks, 3, 20);
        CHECK(da_session_choose_emi(&s, CID_A, 16) == &right);
        CHECK_EQ_INT(da_session_get_emi_chosen(&s), 2);
        CHECK(memcmp(da_session_get_memory_id(&s, &len), CID_A, 16) == 0);
        CHECK_EQ_INT(len, 16);
}

TEST(exact_before_default_entry) {
        EmiBlock deflt, exact;
        const EmiBlock *blocks[] = { &deflt, &exact };
        DaSession s;

        block_init(&deflt, 21);
        block_add(&deflt, NULL, 0);              /* discrete DRAM default: matches anything */
        block_init(&exact, 21);
        block_add(&exact, CID_B, 9);
        s = session_with(blocks, 2, 21);
        CHECK(da_session_choose_emi(&s, CID_B, 16) == &exact);
        /* another memory: only the default fits */
        CHECK(da_session_choose_emi(&s, CID_A, 16) == &deflt);
        CHECK_EQ_INT(da_session_get_emi_chosen(&s), 0);
}

TEST(none_fits) {
        EmiBlock b;
        const EmiBlock *blocks[] = { &b };
        DaSession s;

        block_init(&b, 20);
        block_add(&b, CID_B, 9);
        s = session_with(blocks, 1, 20);
        CHECK(da_session_choose_emi(&s, CID_A, 16) == NULL);
        CHECK_EQ_INT(da_session_get_emi_chosen(&s), -1);
        /* a chip whose version is unknown gets nothing, whatever the ids */
        s = session_with(blocks, 1, -1);
        CHECK(da_session_choose_emi(&s, CID_B, 16) == NULL);
        /* a prefix shorter than the record's id does not match */
        s = session_with(blocks, 1, 20);
        CHECK(da_session_choose_emi(&s, CID_B, 5) == NULL);
}

TEST(backend_versions) {
        CHECK(da_backend_supports_emi_version(&da_backend_legacy, 20));
        CHECK(da_backend_supports_emi_version(&da_backend_legacy, 21));
        CHECK(da_backend_supports_emi_version(&da_backend_legacy, 15));
        CHECK(!da_backend_supports_emi_version(&da_backend_legacy, 13));
        CHECK(!da_backend_supports_emi_version(&da_backend_legacy, 0));
        CHECK(!da_backend_supports_emi_version(&da_backend_legacy, -1));
        CHECK(!da_backend_supports_emi_version(NULL, 20));
}

TAP_MAIN(TEST_ENTRY(exact_id_of_the_chips_version), TEST_ENTRY(exact_before_default_entry), TEST_ENTRY(none_fits),
         TEST_ENTRY(backend_versions))

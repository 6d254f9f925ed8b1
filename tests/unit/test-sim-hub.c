/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulator's shared line (tests/sim/sim-hub.c, phone key hub=): phones
 * behind one hub share one budget of rate bytes per µs, served round-robin
 * so that no phone's long transfer holds the others back.  Model time only:
 * no clock, nothing timed.
 */
#include "../sim/sim-hub.h"
#include "tap.h"

#define RATE 53.2                       /* USB 2.0 high speed, 13 x 512 B per 125 µs */
#define MIB 1048576u

static const char A[] = "a", B[] = "b";

typedef struct Done {
        SimHubJob *order[16];
        unsigned n;
} Done;

static void on_done(SimHubJob *j, void *userdata) {
        Done *d = userdata;

        if (d->n < 16)
                d->order[d->n++] = j;
}

static uint64_t line_us(uint64_t bytes) {
        return (uint64_t) ((double) bytes / RATE + 0.5);
}

static bool close_to(double a, double b) {
        return a - b < 1 && b - a < 1;
}

static bool near(uint64_t a, uint64_t b) {
        return a + 1 >= b && b + 1 >= a;
}

TEST(alone_at_line_rate) {
        SimHub *h = sim_hub_new(RATE);
        SimHubJob j, k;
        Done d = {};

        /* one phone alone: its transfers take n / rate, one after another,
         * exactly as on a port of its own */
        sim_hub_submit(h, &j, A, MIB, 1000);
        sim_hub_submit(h, &k, A, 512, 0);
        CHECK(near(sim_hub_next_event(h), 1000));
        sim_hub_run(h, 1000 + line_us(MIB) - 2, on_done, &d);
        CHECK_EQ_INT(d.n, 0);
        sim_hub_run(h, UINT64_MAX - 1, on_done, &d);
        CHECK_EQ_INT(d.n, 2);
        CHECK(d.order[0] == &j && d.order[1] == &k);
        CHECK(near(j.finish_us, 1000 + line_us(MIB)));
        CHECK(near(k.finish_us, 1000 + line_us(MIB + 512)));
        CHECK_EQ_INT(sim_hub_stats(h).shared_us, 0);
        CHECK(close_to(sim_hub_stats(h).busy_us, (MIB + 512) / RATE));
        CHECK_EQ_INT(sim_hub_next_event(h), SIM_HUB_IDLE);
        sim_hub_free(h);
}

TEST(two_share_one_budget) {
        SimHub *h = sim_hub_new(RATE);
        SimHubJob j, k;
        Done d = {};
        SimHubStats st;

        /* two phones at once: each at half the rate; together no more than the line */
        sim_hub_submit(h, &j, A, MIB, 0);
        sim_hub_submit(h, &k, B, MIB, 0);
        sim_hub_run(h, line_us(MIB) + 10, on_done, &d);
        CHECK_EQ_INT(d.n, 0);
        sim_hub_run(h, UINT64_MAX - 1, on_done, &d);
        CHECK_EQ_INT(d.n, 2);
        CHECK(near(j.finish_us, line_us(2 * MIB)));
        CHECK(near(k.finish_us, line_us(2 * MIB)));
        st = sim_hub_stats(h);
        CHECK_EQ_INT(st.bytes, 2 * MIB);
        CHECK(close_to(st.busy_us, 2 * MIB / RATE));
        CHECK(close_to(st.shared_us, 2 * MIB / RATE));
        CHECK_EQ_INT(st.max_owners, 2);
        sim_hub_free(h);
}

TEST(no_hogging) {
        SimHub *h = sim_hub_new(RATE);
        SimHubJob big, small;
        Done d = {};

        /* a 1 MiB transfer on the line does not hold back another phone's
         * short one: the host controller takes a packet from each in turn */
        sim_hub_submit(h, &big, A, MIB, 0);
        sim_hub_run(h, 1000, on_done, &d);
        sim_hub_submit(h, &small, B, 512, 1000);
        sim_hub_run(h, UINT64_MAX - 1, on_done, &d);
        CHECK_EQ_INT(d.n, 2);
        CHECK(d.order[0] == &small);
        CHECK(near(small.finish_us, 1000 + line_us(2 * 512)));
        CHECK(near(big.finish_us, line_us(MIB + 512)));
        sim_hub_free(h);
}

TEST(eight_fair) {
        SimHub *h = sim_hub_new(RATE);
        SimHubJob j[8];
        static const char owners[8] = { 0 };
        Done d = {};

        for (unsigned i = 0; i < 8; i++)
                sim_hub_submit(h, &j[i], &owners[i], 65536, 0);
        sim_hub_run(h, UINT64_MAX - 1, on_done, &d);
        CHECK_EQ_INT(d.n, 8);
        for (unsigned i = 0; i < 8; i++)
                CHECK(near(j[i].finish_us, line_us(8 * 65536)));
        CHECK_EQ_INT(sim_hub_stats(h).max_owners, 8);
        sim_hub_free(h);
}

TEST(fifo_within_a_phone) {
        SimHub *h = sim_hub_new(RATE);
        SimHubJob j1, j2, k;
        Done d = {};

        /* a phone's second transfer waits for its first; the other phone
         * shares the line with whichever is on it */
        sim_hub_submit(h, &j1, A, 5320, 0);
        sim_hub_submit(h, &j2, A, 5320, 0);
        sim_hub_submit(h, &k, B, 10640, 0);
        sim_hub_run(h, UINT64_MAX - 1, on_done, &d);
        CHECK_EQ_INT(d.n, 3);
        CHECK(near(j1.finish_us, 200));
        CHECK(near(j2.finish_us, 400));
        CHECK(near(k.finish_us, 400));
        sim_hub_free(h);
}

static SimHub *chain_hub;
static SimHubJob chain_next;

static void on_done_chain(SimHubJob *j, void *userdata) {
        /* the phone answers at once: its answer may use the line from the event on */
        if (j->owner == A && j != &chain_next)
                sim_hub_submit(chain_hub, &chain_next, A, 532, j->finish_us);
        on_done(j, userdata);
}

TEST(answer_at_the_event) {
        SimHubJob j, k;
        Done d = {};

        chain_hub = sim_hub_new(RATE);
        sim_hub_submit(chain_hub, &j, A, 532, 0);
        sim_hub_submit(chain_hub, &k, B, 1064, 0);
        /* run late, long after both were done: the answer still counts from
         * the first transfer's end, when it shares the line with B */
        sim_hub_run(chain_hub, 100000, on_done_chain, &d);
        CHECK_EQ_INT(d.n, 3);
        CHECK(near(j.finish_us, 20));
        CHECK(near(k.finish_us, 40));
        CHECK(near(chain_next.finish_us, 40));
        /* a transfer submitted for a time already decided starts at the clock */
        sim_hub_submit(chain_hub, &j, B, 532, 0);
        CHECK(j.start_us >= 40);
        sim_hub_cancel(chain_hub, &j, 100000);
        CHECK(!j.queued);
        CHECK_EQ_INT(sim_hub_next_event(chain_hub), SIM_HUB_IDLE);
        sim_hub_free(chain_hub);
}

TEST(cancel_frees_the_line) {
        SimHub *h = sim_hub_new(RATE);
        SimHubJob j, k;
        Done d = {};

        sim_hub_submit(h, &j, A, MIB, 0);
        sim_hub_submit(h, &k, B, MIB, 0);
        sim_hub_run(h, 10000, on_done, &d);
        sim_hub_cancel(h, &j, 10000);
        sim_hub_run(h, UINT64_MAX - 1, on_done, &d);
        CHECK_EQ_INT(d.n, 1);
        /* 10 ms at half the rate, the rest at the full rate */
        CHECK(near(k.finish_us, 10000 + line_us((uint64_t) (MIB - 10000 * RATE / 2))));
        sim_hub_free(h);
}

TAP_MAIN(TEST_ENTRY(alone_at_line_rate), TEST_ENTRY(two_share_one_budget), TEST_ENTRY(no_hogging),
         TEST_ENTRY(eight_fair), TEST_ENTRY(fifo_within_a_phone), TEST_ENTRY(answer_at_the_event),
         TEST_ENTRY(cancel_frees_the_line))

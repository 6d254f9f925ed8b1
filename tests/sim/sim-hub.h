/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One shared high-speed line (a USB 2.0 hub's upstream port, or a host
 * controller's bus) and how its host controller divides it between the
 * phones behind it: the head transfer of every phone that has one is
 * served round-robin, packet by packet, so k busy phones get rate/k each
 * (tests/sim/README.md "USB model").  Pure bookkeeping in model time (µs);
 * no clock, no locks, no GLib: tests/unit/test-sim-hub.c drives it alone.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_HUB_IDLE UINT64_MAX

typedef struct SimHubJob {
        const void *owner;              /* the phone whose queue it is in: FIFO within one owner */
        uint64_t bytes;
        double left;                    /* bytes not yet carried */
        double start_us;                /* it may use the line from then */
        double active_us;               /* it became its owner's head on the line (-1: not yet) */
        uint64_t finish_us;             /* its last byte crossed the line (valid once !queued) */
        bool queued;
        struct SimHubJob *next;         /* the hub's list, in submission order */
} SimHubJob;

typedef struct SimHubStats {
        uint64_t bytes;                 /* carried (finished transfers) */
        double busy_us;                 /* time with at least one transfer on the line */
        double shared_us;               /* time with at least two owners on the line at once */
        unsigned max_owners;            /* most owners on the line at once */
} SimHubStats;

typedef struct SimHub SimHub;
typedef void (*SimHubDoneFunc)(SimHubJob *j, void *userdata);

SimHub *sim_hub_new(double rate_mbps);
void sim_hub_free(SimHub *h);
double sim_hub_rate(const SimHub *h);

/* n bytes of owner may use the line from start_us on (a start before the
 * hub's clock, i.e. before an event already decided, counts from the
 * clock).  j stays the caller's; it must not move until done or cancelled. */
void sim_hub_submit(SimHub *h, SimHubJob *j, const void *owner, size_t n, uint64_t start_us);
/* A transfer leaves the line unfinished at at_us (discarded, unplugged);
 * run the line up to at_us first. */
void sim_hub_cancel(SimHub *h, SimHubJob *j, uint64_t at_us);
/* The next moment something happens: a transfer done, a queued one allowed
 * on the line; SIM_HUB_IDLE: nothing queued. */
uint64_t sim_hub_next_event(const SimHub *h);
/* Runs the line event by event up to `until`; done(j) is called for each
 * finished transfer at its event, in order, and may submit new transfers
 * (they count from that event: a phone answers in no time). */
void sim_hub_run(SimHub *h, uint64_t until, SimHubDoneFunc done, void *userdata);
SimHubStats sim_hub_stats(const SimHub *h);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>   /* INFINITY only: no libm */
#include <stdlib.h>

#include "sim-hub.h"

struct SimHub {
        double rate;                    /* bytes per µs (MB/s) */
        double clock_us;                /* everything before is decided */
        SimHubJob *jobs;                /* submission order */
        SimHubStats stats;
};

SimHub *sim_hub_new(double rate_mbps) {
        SimHub *h = calloc(1, sizeof(SimHub));

        if (h)
                h->rate = rate_mbps;
        return h;
}

void sim_hub_free(SimHub *h) {
        free(h);
}

double sim_hub_rate(const SimHub *h) {
        return h->rate;
}

SimHubStats sim_hub_stats(const SimHub *h) {
        return h->stats;
}

void sim_hub_submit(SimHub *h, SimHubJob *j, const void *owner, size_t n, uint64_t start_us) {
        SimHubJob **tail = &h->jobs;

        *j = (SimHubJob) { .owner = owner, .bytes = n, .left = (double) n, .active_us = -1, .queued = true };
        /* an event already decided is not reopened: the transfer starts no
         * earlier than the line's clock */
        j->start_us = (double) start_us > h->clock_us ? (double) start_us : h->clock_us;
        while (*tail)
                tail = &(*tail)->next;
        *tail = j;
}

static void unlink_job(SimHub *h, SimHubJob *j) {
        for (SimHubJob **p = &h->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        j->next = NULL;
        j->queued = false;
}

static double next_event(const SimHub *h, unsigned *ret_k, double *ret_least);
static void progress(SimHub *h, double t, unsigned k, double bytes);

void sim_hub_cancel(SimHub *h, SimHubJob *j, uint64_t at_us) {
        unsigned k;

        if (!j->queued)
                return;
        /* what the line carried until now is spent (the caller ran it up
         * to at_us: no event lies in between) */
        if ((double) at_us > h->clock_us && next_event(h, &k, NULL) >= (double) at_us)
                progress(h, (double) at_us, k, ((double) at_us - h->clock_us) * h->rate / (k ? k : 1));
        unlink_job(h, j);
}

/* Is j the first queued transfer of its owner?  (Transfers of one phone
 * cross its one line in order, as they did on a port of its own.) */
static bool is_head(const SimHub *h, const SimHubJob *j) {
        for (const SimHubJob *o = h->jobs; o != j; o = o->next)
                if (o->owner == j->owner)
                        return false;
        return true;
}

static bool is_active(const SimHub *h, const SimHubJob *j) {
        return j->start_us <= h->clock_us && is_head(h, j);
}

/* The next event: the soonest finish of a head on the line (all k heads
 * move at rate/k), or a waiting head's start. */
static double next_event(const SimHub *h, unsigned *ret_k, double *ret_least) {
        double least = INFINITY, next = INFINITY;
        unsigned k = 0;

        for (const SimHubJob *j = h->jobs; j; j = j->next) {
                if (!is_head(h, j))
                        continue;
                if (j->start_us <= h->clock_us) {
                        k++;
                        least = j->left < least ? j->left : least;
                } else
                        next = j->start_us < next ? j->start_us : next;
        }
        if (k > 0 && h->clock_us + least * k / h->rate < next)
                next = h->clock_us + least * k / h->rate;
        if (ret_k)
                *ret_k = k;
        if (ret_least)
                *ret_least = least;
        return next;
}

uint64_t sim_hub_next_event(const SimHub *h) {
        double t = next_event(h, NULL, NULL);

        uint64_t u;

        if (t == INFINITY)
                return SIM_HUB_IDLE;
        u = (uint64_t) t;
        return (double) u < t ? u + 1 : u;
}

/* The clock moves to t, with no event in between: the k heads on the line
 * each carry bytes, (t - clock) * rate / k (given, not recomputed from the
 * times: µs since boot in a double would leave a finished transfer a few
 * bytes short). */
static void progress(SimHub *h, double t, unsigned k, double step) {
        for (SimHubJob *j = h->jobs; j; j = j->next)
                if (is_active(h, j)) {
                        if (j->active_us < 0)
                                j->active_us = h->clock_us;
                        j->left -= step;
                }
        if (k > 0)
                h->stats.busy_us += t - h->clock_us;
        if (k > 1)
                h->stats.shared_us += t - h->clock_us;
        if (k > h->stats.max_owners)
                h->stats.max_owners = k;
        h->clock_us = t;
}

void sim_hub_run(SimHub *h, uint64_t until, SimHubDoneFunc done, void *userdata) {
        for (;;) {
                SimHubJob *finished = NULL, **tail = &finished;
                unsigned k;
                double least, t = next_event(h, &k, &least);

                if (t == INFINITY || t > (double) until)
                        return;
                if (k > 0 && t >= h->clock_us + least * k / h->rate)
                        progress(h, t, k, least); /* a transfer is through */
                else
                        progress(h, t, k, (t - h->clock_us) * h->rate / (k ? k : 1));
                /* collect the finished ones first: done() may submit */
                for (SimHubJob *j = h->jobs, *nx; j; j = nx) {
                        nx = j->next;
                        if (j->active_us < 0 || j->left > 1e-3)
                                continue;
                        unlink_job(h, j);
                        j->left = 0;
                        j->finish_us = (uint64_t) (t + 0.5);
                        h->stats.bytes += j->bytes;
                        *tail = j;
                        tail = &j->next;
                }
                /* the owners' next transfers are on the line from now */
                for (SimHubJob *j = h->jobs; j; j = j->next)
                        if (j->active_us < 0 && is_active(h, j))
                                j->active_us = h->clock_us;
                for (SimHubJob *j = finished, *nx; j; j = nx) {
                        nx = j->next;
                        j->next = NULL;
                        if (done)
                                done(j, userdata);
                }
        }
}

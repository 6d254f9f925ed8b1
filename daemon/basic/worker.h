/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A thread that takes CPU and disk work off the event loop, as udisks'
 * threaded jobs and fwupd's device threads do: hashing and storing a
 * backup's data while the loop keeps every phone's USB traffic (and a new
 * phone's handshake) moving.
 *
 * Items run one at a time, in the order they were submitted; each one's
 * done callback then runs on the event loop, in the same order.  run() must
 * only touch what the submitter leaves alone until done() (or until
 * worker_cancel()/worker_free() returned).
 */
#pragma once

#include <systemd/sd-event.h>

typedef struct Worker Worker;

/* In the worker thread; its result goes to done. */
typedef int (*WorkerRunFunc)(void *userdata);
/* On the event loop. */
typedef void (*WorkerDoneFunc)(int r, void *userdata);
/* An item dropped before its done callback ran (worker_cancel(), worker_free());
 * called with the worker's lock held: it must only free. */
typedef void (*WorkerDropFunc)(void *userdata);

int worker_new(sd_event *event, const char *name, Worker **ret);
/* Waits for the item running (if any); items not run yet are dropped, and
 * no done callback runs any more. */
Worker *worker_free(Worker *w);
int worker_submit(Worker *w, WorkerRunFunc run, WorkerDoneFunc done, WorkerDropFunc drop, void *userdata);
/* Like worker_free() but the worker stays usable: afterwards no item runs
 * and no done callback of an earlier item is called. */
void worker_cancel(Worker *w);
/* Items submitted whose done callback has not run yet. */
unsigned worker_pending(const Worker *w);

static inline void worker_freep(Worker **w) {
        if (*w)
                worker_free(*w);
}

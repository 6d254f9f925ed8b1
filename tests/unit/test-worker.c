/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tap.h"
#include "worker.h"

#define N 64

typedef struct Book {
        sd_event *event;
        atomic_int ran[N];       /* in run order: the item's index + 1 */
        atomic_int n_ran;
        int done[N], results[N];
        int n_done, drops, want_done;
} Book;

typedef struct Item {
        Book *book;
        int index;
} Item;

static Item items[N];

static int item_run(void *userdata) {
        Item *i = userdata;
        int k = atomic_fetch_add(&i->book->n_ran, 1);

        atomic_store(&i->book->ran[k], i->index + 1);
        return i->index == 3 ? -EIO : i->index;
}

static void item_done(int r, void *userdata) {
        Item *i = userdata;
        Book *b = i->book;

        b->results[b->n_done] = r;
        b->done[b->n_done++] = i->index;
        if (b->n_done == b->want_done)
                sd_event_exit(b->event, 0);
}

static void item_drop(void *userdata) {
        ((Item *) userdata)->book->drops++;
}

static Book *book_new(void) {
        Book *b = calloc(1, sizeof(*b));

        if (b && sd_event_new(&b->event) < 0) {
                free(b);
                return NULL;
        }
        for (int k = 0; k < N; k++)
                items[k] = (Item) { .book = b, .index = k };
        return b;
}

static void book_free(Book *b) {
        sd_event_unref(b->event);
        free(b);
}

TEST(in_order_with_results) {
        Book *b = book_new();
        Worker *w = NULL;

        CHECK(b);
        if (!b)
                return;
        CHECK_EQ_INT(worker_new(b->event, "test-worker", &w), 0);
        b->want_done = N;
        for (int k = 0; k < N; k++)
                CHECK_EQ_INT(worker_submit(w, item_run, item_done, item_drop, &items[k]), 0);
        CHECK_EQ_INT((int) worker_pending(w), N);
        CHECK_EQ_INT(sd_event_loop(b->event), 0);
        CHECK_EQ_INT(b->n_done, N);
        CHECK_EQ_INT((int) worker_pending(w), 0);
        for (int k = 0; k < N; k++) {
                /* run and done in submission order; a failure reaches its own done only */
                CHECK_EQ_INT(atomic_load(&b->ran[k]), k + 1);
                CHECK_EQ_INT(b->done[k], k);
                CHECK_EQ_INT(b->results[k], k == 3 ? -EIO : k);
        }
        CHECK_EQ_INT(b->drops, 0);
        worker_free(w);
        CHECK_EQ_INT(b->drops, 0);
        book_free(b);
}

TEST(cancel_drops_everything_not_delivered) {
        Book *b = book_new();
        Worker *w = NULL;

        CHECK(b);
        if (!b)
                return;
        CHECK_EQ_INT(worker_new(b->event, "test-worker", &w), 0);
        for (int k = 0; k < 20; k++)
                CHECK_EQ_INT(worker_submit(w, item_run, item_done, item_drop, &items[k]), 0);
        /* whether each ran or not, none was delivered: each is dropped, none done */
        worker_cancel(w);
        CHECK_EQ_INT(b->drops, 20);
        CHECK_EQ_INT((int) worker_pending(w), 0);
        for (int k = 0; k < 5; k++)
                CHECK_EQ_INT(sd_event_run(b->event, 0) >= 0, 1);
        CHECK_EQ_INT(b->n_done, 0);

        /* still usable afterwards */
        b->want_done = 3;
        for (int k = 20; k < 23; k++)
                CHECK_EQ_INT(worker_submit(w, item_run, item_done, item_drop, &items[k]), 0);
        CHECK_EQ_INT(sd_event_loop(b->event), 0);
        CHECK_EQ_INT(b->n_done, 3);
        CHECK_EQ_INT(b->done[0], 20);
        CHECK_EQ_INT(b->done[2], 22);
        worker_free(w);
        CHECK_EQ_INT(b->drops, 20);
        book_free(b);
}

TEST(free_drops_the_pending) {
        Book *b = book_new();
        Worker *w = NULL;

        CHECK(b);
        if (!b)
                return;
        CHECK_EQ_INT(worker_new(b->event, "test-worker", &w), 0);
        for (int k = 0; k < 10; k++)
                CHECK_EQ_INT(worker_submit(w, item_run, item_done, item_drop, &items[k]), 0);
        worker_free(w);
        CHECK_EQ_INT(b->drops, 10);
        CHECK_EQ_INT(b->n_done, 0);
        book_free(b);
}

TAP_MAIN(TEST_ENTRY(in_order_with_results), TEST_ENTRY(cancel_drops_everything_not_delivered),
         TEST_ENTRY(free_drops_the_pending))

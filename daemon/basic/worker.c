/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "worker.h"

typedef struct WorkerItem WorkerItem;

struct WorkerItem {
        WorkerItem *next;
        WorkerRunFunc run;
        WorkerDoneFunc done;
        WorkerDropFunc drop;
        void *userdata;
        int result;
};

/* A FIFO of items. */
typedef struct WorkerQueue {
        WorkerItem *head, *tail;
} WorkerQueue;

struct Worker {
        sd_event_source *source;          /* the eventfd: items finished */
        int efd;
        pthread_t thread;
        bool have_thread;

        pthread_mutex_t lock;
        pthread_cond_t wake;              /* an item to run, or stop */
        pthread_cond_t idle;              /* the running item is finished */
        WorkerQueue todo, finished;       /* under lock */
        bool running, stop;
        unsigned pending;                 /* loop side only */
};

static void queue_push(WorkerQueue *q, WorkerItem *i) {
        i->next = NULL;
        if (q->tail)
                q->tail->next = i;
        else
                q->head = i;
        q->tail = i;
}

static WorkerItem *queue_pop(WorkerQueue *q) {
        WorkerItem *i = q->head;

        if (i) {
                q->head = i->next;
                if (!q->head)
                        q->tail = NULL;
        }
        return i;
}

static void queue_free(WorkerQueue *q) {
        WorkerItem *i;

        while ((i = queue_pop(q))) {
                if (i->drop)
                        i->drop(i->userdata);
                free(i);
        }
}

static void *worker_thread(void *userdata) {
        Worker *w = userdata;

        pthread_mutex_lock(&w->lock);
        for (;;) {
                WorkerItem *i;
                uint64_t one = 1;

                while (!w->stop && !w->todo.head)
                        pthread_cond_wait(&w->wake, &w->lock);
                if (w->stop)
                        break;
                i = queue_pop(&w->todo);
                w->running = true;
                pthread_mutex_unlock(&w->lock);

                i->result = i->run(i->userdata);

                pthread_mutex_lock(&w->lock);
                w->running = false;
                queue_push(&w->finished, i);
                pthread_cond_broadcast(&w->idle);
                /* a full counter only means the loop has not read it yet */
                (void) !write(w->efd, &one, sizeof(one));
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* One finished item per dispatch: its done callback may free the worker.
 * The eventfd stays readable (level-triggered) while more are finished;
 * the thread writes it under the lock, so it is reset only when empty. */
static int on_finished(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Worker *w = userdata;
        WorkerItem *i;
        WorkerDoneFunc done;
        void *ud;
        int result;

        pthread_mutex_lock(&w->lock);
        i = queue_pop(&w->finished);
        if (!w->finished.head) {
                uint64_t n;

                (void) !read(w->efd, &n, sizeof(n));
        }
        pthread_mutex_unlock(&w->lock);
        if (!i)
                return 0;
        done = i->done;
        ud = i->userdata;
        result = i->result;
        free(i);
        w->pending--;
        if (done)
                done(result, ud);
        return 0;
}

int worker_new(sd_event *event, const char *name, Worker **ret) {
        Worker *w;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->efd = -EBADF;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        pthread_cond_init(&w->idle, NULL);
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0) {
                r = -errno;
                worker_free(w);
                return log_error_errno(r, "Cannot create an eventfd for the %s worker: %m", name);
        }
        r = sd_event_add_io(event, &w->source, w->efd, EPOLLIN, on_finished, w);
        if (r < 0) {
                worker_free(w);
                return log_error_errno(r, "Cannot watch the %s worker: %m", name);
        }
        sd_event_source_set_description(w->source, name);
        r = -pthread_create(&w->thread, NULL, worker_thread, w);
        if (r < 0) {
                worker_free(w);
                return log_error_errno(r, "Cannot start the %s worker thread: %m", name);
        }
        w->have_thread = true;
        *ret = w;
        return 0;
}

void worker_cancel(Worker *w) {
        pthread_mutex_lock(&w->lock);
        queue_free(&w->todo);
        while (w->running)
                pthread_cond_wait(&w->idle, &w->lock);
        queue_free(&w->finished);
        pthread_mutex_unlock(&w->lock);
        w->pending = 0;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        if (w->have_thread) {
                pthread_mutex_lock(&w->lock);
                w->stop = true;
                pthread_cond_broadcast(&w->wake);
                pthread_mutex_unlock(&w->lock);
                pthread_join(w->thread, NULL);
                w->have_thread = false;
        }
        queue_free(&w->todo);
        queue_free(&w->finished);
        sd_event_source_disable_unref(w->source);
        if (w->efd >= 0)
                close(w->efd);
        pthread_cond_destroy(&w->idle);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
}

int worker_submit(Worker *w, WorkerRunFunc run, WorkerDoneFunc done, WorkerDropFunc drop, void *userdata) {
        WorkerItem *i = calloc(1, sizeof(*i));

        if (!i)
                return -ENOMEM;
        *i = (WorkerItem) { .run = run, .done = done, .drop = drop, .userdata = userdata };
        pthread_mutex_lock(&w->lock);
        queue_push(&w->todo, i);
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        w->pending++;
        return 0;
}

unsigned worker_pending(const Worker *w) {
        return w->pending;
}

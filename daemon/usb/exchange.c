/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "exchange.h"
#include "log.h"

void exchange_reset(Exchange *x) {
        UsbLink *link = x->link;

        *x = (Exchange) { .link = link };
}

static ExchangeStep *exchange_add(Exchange *x, ExchangeKind kind, const char *what) {
        ExchangeStep *s;

        /* A script longer than the table is a programming error; remember
         * it and fail the run instead of writing past the array. */
        if (x->n_steps >= EXCHANGE_MAX_STEPS) {
                x->overflow = true;
                return &x->steps[EXCHANGE_MAX_STEPS - 1];
        }
        s = &x->steps[x->n_steps++];
        *s = (ExchangeStep) { .kind = kind, .what = what };
        return s;
}

void exchange_write(Exchange *x, const void *data, size_t len, const char *what) {
        ExchangeStep *s = exchange_add(x, EXCHANGE_WRITE, what);

        if (len > EXCHANGE_INLINE_MAX) {
                x->overflow = true;
                return;
        }
        memcpy(s->inline_data, data, len);
        s->data = s->inline_data;
        s->len = len;
}

void exchange_write_ref(Exchange *x, const void *data, size_t len, const char *what) {
        ExchangeStep *s = exchange_add(x, EXCHANGE_WRITE, what);

        s->data = data;
        s->len = len;
}

void exchange_write_u8(Exchange *x, uint8_t v, const char *what) {
        exchange_write(x, &v, 1, what);
}

void exchange_write_be16(Exchange *x, uint16_t v, const char *what) {
        uint8_t b[2];

        unaligned_write_be16(b, v);
        exchange_write(x, b, sizeof(b), what);
}

void exchange_write_be32(Exchange *x, uint32_t v, const char *what) {
        uint8_t b[4];

        unaligned_write_be32(b, v);
        exchange_write(x, b, sizeof(b), what);
}

void exchange_write_be64(Exchange *x, uint64_t v, const char *what) {
        uint8_t b[8];

        unaligned_write_be64(b, v);
        exchange_write(x, b, sizeof(b), what);
}

void exchange_echo(Exchange *x) {
        const ExchangeStep *prev = x->n_steps > 0 ? &x->steps[x->n_steps - 1] : NULL;
        ExchangeStep *s;

        if (!prev || prev->kind != EXCHANGE_WRITE || prev->len > EXCHANGE_INLINE_MAX) {
                x->overflow = true;
                return;
        }
        s = exchange_add(x, EXCHANGE_ECHO, prev->what);
        s->len = prev->len;
        s->data = prev->data;
}

void exchange_read(Exchange *x, void *dest, size_t len, const char *what) {
        ExchangeStep *s = exchange_add(x, EXCHANGE_READ, what);

        s->dest = dest;
        s->len = len;
}

void exchange_read_var(Exchange *x, void *dest, size_t max, size_t *ret_len, const char *what) {
        ExchangeStep *s = exchange_add(x, EXCHANGE_READ_VAR, what);

        s->dest = dest;
        s->len = max;
        s->ret_len = ret_len;
}

void exchange_pause(Exchange *x, unsigned ms, const char *what) {
        ExchangeStep *s = exchange_add(x, EXCHANGE_PAUSE, what);

        s->len = ms;
}

static int exchange_next(Exchange *x);

static void exchange_finish(Exchange *x, int r) {
        ExchangeDone done = x->done;

        x->done = NULL;
        if (r < 0 && !x->error[0]) {
                const char *what = x->cur < x->n_steps ? x->steps[x->cur].what : NULL;

                snprintf(x->error, sizeof(x->error), "%s%s%s",
                         r == -ETIMEDOUT ? "no answer" :
                         r == -ENODEV ? "the phone disconnected" :
                         r == -ECANCELED ? "cancelled" : strerror(-r),
                         what ? " at " : "", what ?: "");
        }
        if (done)
                done(x, r, x->userdata);
}

static void exchange_on_io(UsbLink *link, int r, void *userdata) {
        Exchange *x = userdata;
        ExchangeStep *s = &x->steps[x->cur];

        if (r < 0)
                return exchange_finish(x, r);

        switch (s->kind) {
        case EXCHANGE_ECHO:
                if (memcmp(x->scratch, s->data, s->len) != 0) {
                        char got[3 * EXCHANGE_INLINE_MAX + 1] = "", want[3 * EXCHANGE_INLINE_MAX + 1] = "";

                        for (size_t i = 0; i < s->len; i++) {
                                sprintf(got + 3 * i, "%02x ", x->scratch[i]);
                                sprintf(want + 3 * i, "%02x ", s->data[i]);
                        }
                        got[3 * s->len - 1] = want[3 * s->len - 1] = 0;
                        snprintf(x->error, sizeof(x->error), "wrong echo for %s: sent %s, got %s",
                                 s->what ?: "command", want, got);
                        return exchange_finish(x, -EPROTO);
                }
                break;
        case EXCHANGE_READ_VAR:
                if (!x->var_have_len) {
                        uint32_t n = unaligned_read_be32(x->var_len);

                        if (n > s->len) {
                                snprintf(x->error, sizeof(x->error),
                                         "implausible length %u for %s (at most %zu expected)", n,
                                         s->what ?: "field", s->len);
                                return exchange_finish(x, -EPROTO);
                        }
                        x->var_have_len = true;
                        *s->ret_len = n;
                        if (n > 0) {
                                r = usb_link_read(x->link, s->dest, n, x->timeout_ms, exchange_on_io, x);
                                if (r < 0)
                                        return exchange_finish(x, r);
                                return;
                        }
                }
                break;
        case EXCHANGE_WRITE:
                /* a batch of writes went out as one vector */
                x->cur += x->batch - 1;
                break;
        case EXCHANGE_READ:
        case EXCHANGE_PAUSE:
                break;
        }

        x->cur++;
        r = exchange_next(x);
        if (r < 0)
                exchange_finish(x, r);
}

/* Starts the current step; a negative return means it could not start
 * and the caller decides how to report that. */
static int exchange_next(Exchange *x) {
        ExchangeStep *s;
        int r = -EINVAL;

        if (x->cur >= x->n_steps) {
                exchange_finish(x, 0);
                return 0;
        }

        s = &x->steps[x->cur];
        switch (s->kind) {
        case EXCHANGE_WRITE: {
                UsbIovec v[USB_WRITEV_MAX];
                unsigned n = 0;

                /* Consecutive writes go out back to back, each still its own
                 * transfer (field boundaries matter to some DAs): the host
                 * would send them all before reading anyway. */
                while (n < USB_WRITEV_MAX && x->cur + n < x->n_steps && x->steps[x->cur + n].kind == EXCHANGE_WRITE) {
                        v[n] = (UsbIovec) { (void *) x->steps[x->cur + n].data, x->steps[x->cur + n].len };
                        n++;
                }
                x->batch = n;
                r = usb_link_writev(x->link, v, n, x->timeout_ms, exchange_on_io, x);
                break;
        }
        case EXCHANGE_ECHO:
                r = usb_link_read(x->link, x->scratch, s->len, x->timeout_ms, exchange_on_io, x);
                break;
        case EXCHANGE_READ:
                r = usb_link_read(x->link, s->dest, s->len, x->timeout_ms, exchange_on_io, x);
                break;
        case EXCHANGE_READ_VAR:
                x->var_have_len = false;
                r = usb_link_read(x->link, x->var_len, sizeof(x->var_len), x->timeout_ms, exchange_on_io, x);
                break;
        case EXCHANGE_PAUSE:
                r = usb_link_pause(x->link, (unsigned) s->len, exchange_on_io, x);
                break;
        }
        return r;
}

int exchange_run(Exchange *x, UsbLink *link, unsigned timeout_ms, ExchangeDone done, void *userdata) {
        int r;

        if (x->overflow)
                return log_error_errno(E2BIG, "Internal error: protocol script too long.");
        x->link = link;
        x->cur = 0;
        x->timeout_ms = timeout_ms;
        x->done = done;
        x->userdata = userdata;
        x->error[0] = 0;
        if (x->n_steps == 0)
                return -EINVAL;
        /* Errors starting the first step are returned, not called back, so
         * the callback never runs before exchange_run() has returned. */
        r = exchange_next(x);
        if (r < 0)
                x->done = NULL;
        return r;
}

void exchange_cancel(Exchange *x) {
        if (x->link && x->done)
                usb_link_cancel(x->link);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scripted exchange with a phone: a list of writes, echo checks and
 * reads run one after the other on a UsbLink, finishing with one callback.
 *
 * BROM and legacy DA commands are all "write a field, maybe read it back,
 * read some fields"; describing a command as a script keeps the protocol
 * code a readable list of steps instead of a chain of callbacks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usb-transport.h"

#define EXCHANGE_MAX_STEPS 48
#define EXCHANGE_INLINE_MAX 8

typedef struct Exchange Exchange;
typedef void (*ExchangeDone)(Exchange *x, int r, void *userdata);

typedef enum ExchangeKind {
        EXCHANGE_WRITE,        /* send bytes */
        EXCHANGE_ECHO,         /* read back what the previous write sent */
        EXCHANGE_READ,         /* read a fixed number of bytes */
        EXCHANGE_READ_VAR,     /* read a BE u32 length, then that many bytes */
        EXCHANGE_PAUSE,        /* wait len milliseconds (a timer, not a sleep) */
} ExchangeKind;

typedef struct ExchangeStep {
        ExchangeKind kind;
        uint8_t inline_data[EXCHANGE_INLINE_MAX];
        const uint8_t *data;   /* large writes: caller keeps it alive */
        size_t len;
        uint8_t *dest;
        size_t *ret_len;       /* READ_VAR */
        const char *what;      /* names the field in error messages */
} ExchangeStep;

struct Exchange {
        UsbLink *link;
        ExchangeStep steps[EXCHANGE_MAX_STEPS];
        unsigned n_steps, cur;
        unsigned batch;        /* writes of the current vector */
        unsigned timeout_ms;
        bool overflow;
        bool var_have_len;
        uint8_t scratch[EXCHANGE_INLINE_MAX];
        uint8_t var_len[4];
        ExchangeDone done;
        void *userdata;
        char error[256];       /* what went wrong, for the user */
};

void exchange_reset(Exchange *x);
void exchange_write(Exchange *x, const void *data, size_t len, const char *what);
void exchange_write_ref(Exchange *x, const void *data, size_t len, const char *what);
void exchange_write_u8(Exchange *x, uint8_t v, const char *what);
void exchange_write_be16(Exchange *x, uint16_t v, const char *what);
void exchange_write_be32(Exchange *x, uint32_t v, const char *what);
void exchange_write_be64(Exchange *x, uint64_t v, const char *what);
void exchange_echo(Exchange *x);
void exchange_read(Exchange *x, void *dest, size_t len, const char *what);
void exchange_read_var(Exchange *x, void *dest, size_t max, size_t *ret_len, const char *what);
void exchange_pause(Exchange *x, unsigned ms, const char *what);

/* Runs the script.  Errors: -ENODEV (unplugged), -ETIMEDOUT, -EPROTO (wrong
 * echo, bad length), -ECANCELED; x->error then says which field. */
int exchange_run(Exchange *x, UsbLink *link, unsigned timeout_ms, ExchangeDone done, void *userdata);
void exchange_cancel(Exchange *x);

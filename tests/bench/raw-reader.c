/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * raw-reader: the baseline host for `make bench` (tests/bench/README.md).
 *
 * A minimal libusb-1.0 program with no event loop of its own, no D-Bus, no
 * files, no hashing: the least a host can do to move the same bytes through
 * the same simulated phone.  It runs inside build/mtksim like the daemon.
 *
 *   raw-reader read [--passes N] [--packet BYTES] [--depth N] [--urb BYTES]
 *                   [--write] [--hold] [--loop]
 *        The phone must be in its DA command loop already (mtksim phone key
 *        start=da).  Reads the GPT (READ 0+0x8000, as the daemon does), then
 *        every identity partition (nvram nvdata nvcfg protect1 protect2
 *        proinfo persist, whichever exists) N times (default 2, as the
 *        daemon's read-twice verification) with the same command stream the
 *        daemon sends: SWITCH_PART 08, READ, packet size, per chunk data,
 *        checksum, ACK.  --depth 0 (default): synchronous transfers, one at
 *        a time.  --depth N: N asynchronous IN transfers of --urb bytes in
 *        flight (pipelined; the ACK still waits for the checksum).
 *        --write: then write every partition back with the bytes read
 *        (SDMMC_WRITE_DATA; with --depth N up to N chunks in flight).
 *        --loop: read the partitions again and again until SIGTERM (a
 *        steady USB load for the benchmark's P1-under-load baseline).
 *   raw-reader hotplug COUNT
 *        On each of COUNT arrivals of a 0e8d:2000 phone: open it, claim its
 *        data interface, send the first handshake byte A0, close.  Prints
 *        "arrived N" per phone.  The least possible reaction to a plug.
 *   raw-reader idle
 *        Open the phone, claim its data interface and wait (for --hold).
 *
 * --port N: only the phone on root-hub port N (mtksim's 1-N).
 * --hold: after the work print "done" and wait for SIGTERM (mtksim forwards
 * it), so the caller can read mtksim's stats before the world ends.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libusb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "brom-proto.h"
#include "da-legacy-proto.h"

#define EP_IN BROM_USB_EP_BULK_IN
#define EP_OUT BROM_USB_EP_BULK_OUT
#define IFACE_DATA 1
#define MPS 512
#define GPT_READ_LEN 0x8000u
#define MAX_PARTS 16

static const char *const identity[] = { "nvram", "nvdata", "nvcfg", "protect1", "protect2", "proinfo", "persist" };

typedef struct Part {
        char name[40];
        uint64_t offset, size;
} Part;

static libusb_context *ctx;
static libusb_device_handle *h;
static unsigned opt_passes = 2, opt_depth = 0;
static uint32_t opt_packet = 0x100000, opt_urb = 0x10000;
static bool opt_write = false, opt_hold = false, opt_loop = false;
static int opt_port = 0;

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void die(const char *what, int r) {
        fprintf(stderr, "raw-reader: %s: %s\n", what, r < 0 ? libusb_error_name(r) : "unexpected answer");
        exit(1);
}

static void put_be(uint8_t *b, uint64_t v, int n) {
        for (int i = n - 1; i >= 0; i--, v >>= 8)
                b[i] = (uint8_t) v;
}

static uint64_t get_le(const uint8_t *b, int n) {
        uint64_t v = 0;

        for (int i = n - 1; i >= 0; i--)
                v = v << 8 | b[i];
        return v;
}

/* ------------------------------------------------------------ synchronous */

static void out(const void *buf, size_t len) {
        int got = 0, r = libusb_bulk_transfer(h, EP_OUT, (unsigned char *) buf, (int) len, &got, 10000);

        if (r < 0 || (size_t) got != len)
                die("bulk OUT", r);
}

/* One IN transfer of cap bytes (a multiple of 512); returns the length. */
static size_t in(void *buf, size_t cap) {
        int got = 0, r = libusb_bulk_transfer(h, EP_IN, buf, (int) cap, &got, 10000);

        if (r < 0)
                die("bulk IN", r);
        return (size_t) got;
}

static uint8_t in_byte(void) {
        static uint8_t b[MPS];

        if (in(b, MPS) != 1)
                die("a one-byte answer", 0);
        return b[0];
}

/* SWITCH_PART 08 and READ addr+len with the packet size, written as one
 * stream (the DA parses OUT byte-wise), then its three ACKs. */
static void read_head(uint64_t addr, uint64_t len) {
        uint8_t cmd[2 + 19 + 4];

        cmd[0] = DA_CMD_SDMMC_SWITCH_PART;
        cmd[1] = DA_EMMC_REGION_USER;
        cmd[2] = DA_CMD_READ;
        cmd[3] = 0x0c; /* host OS: Linux */
        cmd[4] = 0x02; /* HW storage: eMMC */
        put_be(cmd + 5, addr, 8);
        put_be(cmd + 13, len, 8);
        put_be(cmd + 21, opt_packet, 4);
        out(cmd, sizeof(cmd));
        for (int i = 0; i < 3; i++)
                if (in_byte() != DA_ACK)
                        die("READ refused", 0);
}

static void read_sync(uint64_t addr, uint64_t len, uint8_t *dest) {
        static uint8_t sum[MPS];
        static const uint8_t ack = DA_ACK;

        read_head(addr, len);
        for (uint64_t off = 0; off < len;) {
                size_t n = (size_t) (len - off < opt_packet ? len - off : opt_packet);

                if (in(dest + off, n) != n)
                        die("a data packet", 0);
                if (in(sum, MPS) != 2)
                        die("a checksum", 0);
                out(&ack, 1);
                off += n;
        }
}

/* ------------------------------------------------------------ pipelined */

typedef struct Piece {
        struct libusb_transfer *t;
        uint8_t *buf;
        size_t len;              /* expected length */
        bool is_sum, is_out;
} Piece;

static unsigned inflight;
static bool failed;

static void on_done(struct libusb_transfer *t) {
        Piece *p = t->user_data;

        inflight--;
        if (t->status != LIBUSB_TRANSFER_COMPLETED || (size_t) t->actual_length != p->len) {
                fprintf(stderr, "raw-reader: async transfer: status %d, %d of %zu bytes\n", t->status,
                        t->actual_length, p->len);
                failed = true;
        }
        if (p->is_sum && !failed) {
                /* the checksum is in: acknowledge, so the DA sends the next chunk */
                static uint8_t ack = DA_ACK;
                struct libusb_transfer *a = libusb_alloc_transfer(0);
                static Piece ack_piece = { .len = 1, .is_out = true };

                libusb_fill_bulk_transfer(a, h, EP_OUT, &ack, 1, on_done, &ack_piece, 10000);
                a->flags = LIBUSB_TRANSFER_FREE_TRANSFER;
                if (libusb_submit_transfer(a) < 0)
                        failed = true;
                else
                        inflight++;
        }
}

static void run_pieces(Piece *pieces, size_t n, unsigned depth) {
        size_t next = 0;

        while (!failed && (next < n || inflight > 0)) {
                while (!failed && next < n && inflight < depth) {
                        Piece *p = &pieces[next++];
                        size_t cap = p->is_out ? p->len : (p->len + MPS - 1) / MPS * MPS;

                        libusb_fill_bulk_transfer(p->t, h, p->is_out ? EP_OUT : EP_IN, p->buf, (int) cap, on_done, p,
                                                  10000);
                        if (libusb_submit_transfer(p->t) < 0)
                                die("submit", 0);
                        inflight++;
                }
                libusb_handle_events(ctx);
        }
        if (failed)
                exit(1);
}

static void read_async(uint64_t addr, uint64_t len, uint8_t *dest) {
        size_t chunks = (size_t) ((len + opt_packet - 1) / opt_packet);
        size_t per = (opt_packet + opt_urb - 1) / opt_urb + 1, n = 0;
        Piece *pieces = calloc(chunks * per, sizeof(Piece));
        static uint8_t sum[MPS];

        read_head(addr, len);
        for (uint64_t off = 0; off < len;) {
                size_t c = (size_t) (len - off < opt_packet ? len - off : opt_packet);

                for (size_t o = 0; o < c; o += opt_urb)
                        pieces[n++] = (Piece) { .buf = dest + off + o, .len = c - o < opt_urb ? c - o : opt_urb };
                pieces[n++] = (Piece) { .buf = sum, .len = 2, .is_sum = true };
                off += c;
        }
        for (size_t i = 0; i < n; i++)
                pieces[i].t = libusb_alloc_transfer(0);
        /* one more slot for the ACK the checksum callback sends */
        run_pieces(pieces, n, opt_depth + 1);
        for (size_t i = 0; i < n; i++)
                libusb_free_transfer(pieces[i].t);
        free(pieces);
}

static uint16_t sum16(const uint8_t *d, size_t n) {
        uint32_t s = 0;

        for (size_t i = 0; i < n; i++)
                s += d[i];
        return (uint16_t) s;
}

/* SDMMC_WRITE_DATA: per chunk one OUT of 5A + data + checksum (the DA reads
 * a byte stream), one IN for its 69.  With --depth N, N chunks in flight. */
static void write_part(uint64_t addr, uint64_t len, const uint8_t *src) {
        uint8_t cmd[1 + 1 + 1 + 8 + 8 + 4];
        size_t chunks = (size_t) ((len + opt_packet - 1) / opt_packet), n = 0;
        Piece *pieces = calloc(chunks * 2, sizeof(Piece));
        uint8_t *conts = malloc(chunks * MPS);

        /* the packets are ready before the command starts */
        for (uint64_t off = 0; off < len; n++) {
                size_t c = (size_t) (len - off < opt_packet ? len - off : opt_packet);
                uint8_t *b = malloc(c + 3);

                b[0] = DA_ACK;
                memcpy(b + 1, src + off, c);
                put_be(b + 1 + c, sum16(src + off, c), 2);
                pieces[2 * n] = (Piece) { .buf = b, .len = c + 3, .is_out = true };
                pieces[2 * n + 1] = (Piece) { .buf = conts + n * MPS, .len = 1 };
                off += c;
        }
        for (size_t i = 0; i < 2 * n; i++)
                pieces[i].t = libusb_alloc_transfer(0);
        cmd[0] = DA_CMD_SDMMC_WRITE_DATA;
        cmd[1] = 0x01; /* DA storage: eMMC */
        cmd[2] = DA_EMMC_REGION_USER;
        put_be(cmd + 3, addr, 8);
        put_be(cmd + 11, len, 8);
        put_be(cmd + 19, opt_packet, 4);
        out(cmd, sizeof(cmd));
        if (in_byte() != DA_ACK)
                die("WRITE refused", 0);
        run_pieces(pieces, 2 * n, opt_depth ? 2 * opt_depth : 1);
        for (size_t i = 0; i < n; i++)
                if (conts[i * MPS] != DA_CONT_CHAR)
                        die("the DA did not accept a chunk", 0);
        for (size_t i = 0; i < 2 * n; i++) {
                libusb_free_transfer(pieces[i].t);
                if (pieces[i].is_out)
                        free(pieces[i].buf);
        }
        free(pieces);
        free(conts);
}

/* ------------------------------------------------------------ phone */

static libusb_device *arrived;

static bool wanted(libusb_device *dev) {
        return opt_port == 0 || libusb_get_port_number(dev) == opt_port;
}

static int on_hotplug(libusb_context *c, libusb_device *dev, libusb_hotplug_event ev, void *ud) {
        if (!arrived && wanted(dev))
                arrived = libusb_ref_device(dev);
        return 0;
}

/* The phone at its arrival; with scan, also look at the device list every
 * 100 ms (libusb's hotplug can miss a device plugged while it starts up,
 * umockdev-usb.md "Races"). */
static void wait_arrival(bool scan) {
        for (unsigned i = 0; !arrived; i++) {
                struct timeval tv = { .tv_usec = 100000 };
                libusb_device **list;
                ssize_t n;
                int r = libusb_handle_events_timeout_completed(ctx, &tv, NULL);

                if (r < 0)
                        die("waiting for the phone", r);
                if (arrived || !scan)
                        continue;
                if (i == 300)
                        die("no phone after 30 s", 0);
                n = libusb_get_device_list(ctx, &list);
                for (ssize_t k = 0; k < n && !arrived; k++) {
                        struct libusb_device_descriptor dd;

                        if (libusb_get_device_descriptor(list[k], &dd) == 0 && dd.idVendor == BROM_USB_VID_MEDIATEK &&
                            dd.idProduct == BROM_USB_PID_PRELOADER && wanted(list[k]))
                                arrived = libusb_ref_device(list[k]);
                }
                if (n >= 0)
                        libusb_free_device_list(list, 1);
        }
}

static void open_arrived(void) {
        int r = libusb_open(arrived, &h);

        if (r < 0)
                die("open", r);
        r = libusb_claim_interface(h, IFACE_DATA);
        if (r < 0)
                die("claim", r);
}

static void close_phone(void) {
        libusb_release_interface(h, IFACE_DATA);
        libusb_close(h);
        h = NULL;
        libusb_unref_device(arrived);
        arrived = NULL;
}

static size_t gpt_identity(const uint8_t *g, size_t len, Part *parts) {
        uint64_t lba;
        uint32_t count, esize;
        size_t n = 0;

        if (len < 0x400 || memcmp(g + 0x200, "EFI PART", 8) != 0)
                die("no GPT", 0);
        lba = get_le(g + 0x200 + 0x48, 8);
        count = (uint32_t) get_le(g + 0x200 + 0x50, 4);
        esize = (uint32_t) get_le(g + 0x200 + 0x54, 4);
        for (uint32_t i = 0; i < count && lba * 512 + (uint64_t) (i + 1) * esize <= len && n < MAX_PARTS; i++) {
                const uint8_t *e = g + lba * 512 + (uint64_t) i * esize;
                char name[40] = "";

                for (int k = 0; k < 36 && e[0x38 + 2 * k]; k++)
                        name[k] = (char) e[0x38 + 2 * k];
                for (size_t k = 0; k < sizeof(identity) / sizeof(identity[0]); k++)
                        if (strcasecmp(name, identity[k]) == 0) {
                                strcpy(parts[n].name, name);
                                parts[n].offset = get_le(e + 0x20, 8) * 512;
                                parts[n].size = (get_le(e + 0x28, 8) - get_le(e + 0x20, 8) + 1) * 512;
                                n++;
                        }
        }
        return n;
}

static volatile sig_atomic_t terminated;

static void on_term(int sig) {
        terminated = 1;
}

static void hold(void) {
        sigset_t block, old;

        if (!opt_hold)
                return;
        /* no wakeups while holding: sleep in sigsuspend until SIGTERM */
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, &old);
        signal(SIGTERM, on_term);
        printf("done\n");
        fflush(stdout);
        while (!terminated)
                sigsuspend(&old);
        sigprocmask(SIG_SETMASK, &old, NULL);
}

static int mode_read(void) {
        uint8_t *gpt = malloc(GPT_READ_LEN), *buf[MAX_PARTS];
        Part parts[MAX_PARTS];
        uint64_t bytes = 0;
        double t0, t1;
        size_t n;

        if (opt_loop)
                signal(SIGTERM, on_term);
        wait_arrival(true);
        open_arrived();
        t0 = now_s();
        read_sync(0, GPT_READ_LEN, gpt);
        bytes += GPT_READ_LEN;
        n = gpt_identity(gpt, GPT_READ_LEN, parts);
        if (n == 0)
                die("no identity partition in the GPT", 0);
        for (size_t i = 0; i < n; i++)
                buf[i] = malloc(parts[i].size);
        do
                for (size_t i = 0; i < n && !terminated; i++)
                        for (unsigned pass = 0; pass < opt_passes; pass++) {
                                if (opt_depth)
                                        read_async(parts[i].offset, parts[i].size, buf[i]);
                                else
                                        read_sync(parts[i].offset, parts[i].size, buf[i]);
                                bytes += parts[i].size;
                        }
        while (opt_loop && !terminated);
        t1 = now_s();
        printf("read %" PRIu64 " bytes in %.3f s: %.1f MB/s t0=%.6f t1=%.6f\n", bytes, t1 - t0,
               (double) bytes / (t1 - t0) / 1e6, t0, t1);
        if (opt_write) {
                bytes = 0;
                t0 = now_s();
                for (size_t i = 0; i < n; i++) {
                        write_part(parts[i].offset, parts[i].size, buf[i]);
                        bytes += parts[i].size;
                }
                t1 = now_s();
                printf("wrote %" PRIu64 " bytes in %.3f s: %.1f MB/s\n", bytes, t1 - t0,
                       (double) bytes / (t1 - t0) / 1e6);
        }
        fflush(stdout);
        hold();
        for (size_t i = 0; i < n; i++)
                free(buf[i]);
        free(gpt);
        close_phone();
        return 0;
}

static int mode_hotplug(unsigned count) {
        static const uint8_t a0 = BROM_HANDSHAKE_0;

        printf("ready\n");
        fflush(stdout);
        for (unsigned i = 1; i <= count; i++) {
                wait_arrival(false);
                open_arrived();
                out(&a0, 1);
                close_phone();
                printf("arrived %u\n", i);
                fflush(stdout);
        }
        hold();
        return 0;
}

static int mode_idle(void) {
        wait_arrival(true);
        open_arrived();
        opt_hold = true;
        hold();
        close_phone();
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "passes", required_argument, NULL, 'p' }, { "packet", required_argument, NULL, 'P' },
                { "depth", required_argument, NULL, 'd' },  { "urb", required_argument, NULL, 'u' },
                { "write", no_argument, NULL, 'w' },        { "hold", no_argument, NULL, 'H' },
                { "port", required_argument, NULL, 'o' },  { "loop", no_argument, NULL, 'l' },
                {}
        };
        libusb_hotplug_callback_handle cb;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'p': opt_passes = (unsigned) strtoul(optarg, NULL, 0); break;
                case 'P': opt_packet = (uint32_t) strtoul(optarg, NULL, 0); break;
                case 'd': opt_depth = (unsigned) strtoul(optarg, NULL, 0); break;
                case 'u': opt_urb = (uint32_t) strtoul(optarg, NULL, 0); break;
                case 'w': opt_write = true; break;
                case 'H': opt_hold = true; break;
                case 'o': opt_port = atoi(optarg); break;
                case 'l': opt_loop = true; break;
                default: return 2;
                }
        if (optind >= argc || opt_packet == 0 || opt_packet % MPS || opt_urb == 0 || opt_urb % MPS) {
                fprintf(stderr, "usage: raw-reader read|hotplug COUNT|idle [options] (see the source)\n");
                return 2;
        }
        r = libusb_init(&ctx);
        if (r < 0)
                die("libusb_init", r);
        r = libusb_hotplug_register_callback(ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED, LIBUSB_HOTPLUG_ENUMERATE,
                                             BROM_USB_VID_MEDIATEK, BROM_USB_PID_PRELOADER, LIBUSB_HOTPLUG_MATCH_ANY,
                                             on_hotplug, NULL, &cb);
        if (r < 0)
                die("hotplug", r);
        if (strcmp(argv[optind], "read") == 0)
                r = mode_read();
        else if (strcmp(argv[optind], "hotplug") == 0 && optind + 1 < argc)
                r = mode_hotplug((unsigned) strtoul(argv[optind + 1], NULL, 0));
        else if (strcmp(argv[optind], "idle") == 0)
                r = mode_idle();
        else {
                fprintf(stderr, "raw-reader: unknown mode %s\n", argv[optind]);
                r = 2;
        }
        libusb_hotplug_deregister_callback(ctx, cb);
        libusb_exit(ctx);
        return r;
}

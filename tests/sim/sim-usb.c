/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>

#include "brom-proto.h"
#include "sim-hub.h"
#include "sim-usb.h"

#define USB_MAJOR 189
#define FIFO_PAGE 4096

typedef struct Urb {
        UMockdevIoctlData *data;      /* the client's struct usbdevfs_urb */
        UMockdevIoctlClient *client;
        unsigned char type, endpoint;
        int buffer_length;
        bool done;
        int status;
        int actual;
        uint8_t *in_data;             /* IN / control answer, copied at reap */
        /* USB model (rate= / latency-us=): */
        uint64_t submit_us;
        uint64_t ready_us;            /* not reapable before (0: at once) */
        uint64_t deliver_us;          /* OUT: its bytes reach the phone then */
        uint8_t *out_data;            /* OUT bytes still on the wire */
        bool out_pending;
        SimHubJob job;                /* behind a hub: its place on the shared line */
} Urb;

/* Phones behind one hub (key hub=): one line, one lock, one timer. */
struct SimUsbHub {
        GMutex lock;                  /* every member device's lock */
        char *name;
        SimHub *line;
        double rate_mbps;
        unsigned latency_us;
        GPtrArray *devices;           /* SimDevice*, not owned */
        int timer_fd;
        guint timer_watch;
};

struct SimDevice {
        GMutex own_lock;
        GMutex *lock;                 /* own_lock, or the hub's */
        SimUsbHub *hub;               /* NULL: a port of its own */
        UMockdevTestbed *tb;
        SimPhone *phone;
        char port[32];
        unsigned devnum;
        bool plugged;
        bool gone_scheduled;
        bool detach_pending;          /* unplugged; URBs still to be reaped */
        bool detach_scheduled;
        char *syspath, *if_comm, *if_data;
        char *devnode;                /* /dev/bus/usb/001/NNN */
        char *fifo_path;              /* the node inside the testbed */
        int fifo_fd;
        bool fifo_drained;
        UMockdevIoctlBase *handler;
        GList *urbs;                  /* Urb*, submission order */
        bool driver_bound[2];
        uint8_t line_coding[CDC_LINE_CODING_LEN];
        GSource *tick;
        uint64_t tick_at;             /* when it fires (0: not armed) */
        SimDeviceGoneFunc gone_cb;
        void *gone_userdata;
        SimDeviceGoneFunc event_cb;
        void *event_userdata;
        unsigned events_seen;
        bool event_scheduled;
        uint8_t descriptors[128];
        size_t descriptors_len;
        /* The USB model: one half-duplex line per phone (bulk IN and OUT
         * share it), busy until line_free_us; a timerfd wakes the main loop
         * at the next delivery or completion (µs precision). */
        uint64_t line_free_us;
        uint64_t phone_input_us;      /* when the phone last got bytes (model time) */
        int timer_fd;
        guint timer_watch;
        uint64_t xfers_in, xfers_out;  /* bulk transfers completed / submitted */
        unsigned out_stalls, clear_halts;
        uint64_t first_ioctl_us;      /* this enumeration: the host's first usbfs ioctl, */
        uint64_t first_urb_us;        /* … its first URB submitted (0: not yet) */
        uint64_t line_bytes;          /* behind a hub: bytes it moved on the shared line */
        double line_us;               /* … and the time its transfers were on it */
};

static uint64_t now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static uint16_t mps(SimDevice *d) {
        /* brom.md §1.3: a BROM enumerates full speed with 64-byte bulk packets */
        return sim_phone_usb_brom(d->phone) ? BROM_USB_BULK_MPS_FS : BROM_USB_BULK_MPS_HS;
}

/* ------------------------------------------------------------ descriptors */

static void build_descriptors(SimDevice *d) {
        bool brom = sim_phone_usb_brom(d->phone);
        uint16_t pid = sim_phone_usb_pid(d->phone);
        uint16_t bulk = mps(d);
        uint8_t *b = d->descriptors;
        size_t n = 0;

#define PUT(...)                                                         \
        do {                                                             \
                const uint8_t x_[] = { __VA_ARGS__ };                    \
                memcpy(b + n, x_, sizeof(x_));                           \
                n += sizeof(x_);                                         \
        } while (0)

        /* device: bcdUSB 2.00, class 02 (CDC), EP0 64, 0e8d:2000/0003, bcdDevice 1.00 */
        PUT(18, USB_DT_DEVICE, 0x00, 0x02, BROM_USB_CLASS_CDC, 0x00, 0x00, 64,
            BROM_USB_VID_MEDIATEK & 0xff, BROM_USB_VID_MEDIATEK >> 8, pid & 0xff, pid >> 8, 0x00, 0x01,
            brom ? 0 : 1, brom ? 0 : 2, 0, 1);
        /* configuration: 67 bytes, 2 interfaces, value 1, self powered, 500 mA */
        PUT(9, USB_DT_CONFIG, 67, 0, 2, 1, brom ? 0 : 3, 0xc0, 0xfa);
        /* comm interface 0: CDC ACM, AT commands, one interrupt endpoint */
        PUT(9, USB_DT_INTERFACE, 0, 0, 1, BROM_USB_CLASS_CDC, BROM_USB_SUBCLASS_ACM, BROM_USB_PROTOCOL_AT,
            brom ? 0 : 5);
        PUT(5, 0x24, 0x00, 0x10, 0x01);          /* header, CDC 1.10 */
        PUT(5, 0x24, 0x01, 0x03, 1);             /* call management, data interface 1 */
        PUT(4, 0x24, 0x02, 0x0f);                /* ACM capabilities */
        PUT(5, 0x24, 0x06, 0, 1);                /* union: comm 0, data 1 */
        PUT(7, USB_DT_ENDPOINT, BROM_USB_EP_INT_IN, USB_ENDPOINT_XFER_INT, 64, 0, 0x10);
        /* data interface 1: CDC data, bulk OUT 0x01 and IN 0x81 */
        PUT(9, USB_DT_INTERFACE, 1, 0, 2, BROM_USB_CLASS_CDC_DATA, 0, 0, brom ? 0 : 4);
        PUT(7, USB_DT_ENDPOINT, BROM_USB_EP_BULK_OUT, USB_ENDPOINT_XFER_BULK, bulk & 0xff, bulk >> 8, 0);
        PUT(7, USB_DT_ENDPOINT, BROM_USB_EP_BULK_IN, USB_ENDPOINT_XFER_BULK, bulk & 0xff, bulk >> 8, 0);
#undef PUT
        d->descriptors_len = n;
}

static size_t string_descriptor(SimDevice *d, unsigned idx, uint8_t *out, size_t cap) {
        static const char *const strings[] = { NULL, "MediaTek", "MT65xx Preloader", "USB CDC ACM for preloader",
                                               "CDC ACM Data Interface", "CDC ACM Communication Interface" };
        size_t n = 2;

        if (cap < 4)
                return 0;
        if (idx == 0) {
                out[0] = 4;
                out[1] = USB_DT_STRING;
                out[2] = 0x09; /* en-US */
                out[3] = 0x04;
                return 4;
        }
        if (sim_phone_usb_brom(d->phone) || idx >= G_N_ELEMENTS(strings))
                return 0;
        for (const char *s = strings[idx]; *s && n + 2 <= cap && n + 2 <= 254; s++) {
                out[n++] = (uint8_t) *s;
                out[n++] = 0;
        }
        out[0] = (uint8_t) n;
        out[1] = USB_DT_STRING;
        return n;
}

/* ------------------------------------------------------------ FIFO trick */

/* umockdev-usb.md "Poll and CPU": the node is a FIFO kept full, so libusb
 * sleeps in poll(); draining one page makes it writable, which is how a
 * completed URB is announced. */
static bool timed(SimDevice *d) {
        const SimPhoneConfig *cfg = sim_phone_config(d->phone);

        return cfg->rate_mbps > 0 || cfg->latency_us > 0;
}

static bool urb_reapable(SimDevice *d, Urb *u, uint64_t now) {
        return u->done && (u->ready_us <= now || !d->plugged);
}

static bool has_reapable(SimDevice *d) {
        uint64_t now = now_us();
        bool is_timed = timed(d);

        for (GList *l = d->urbs; l; l = l->next) {
                Urb *u = l->data;

                if (urb_reapable(d, u, now))
                        return true;
                /* untimed: IN URBs are filled lazily, at reap */
                if (!is_timed && !u->done && u->type == USBDEVFS_URB_TYPE_BULK && (u->endpoint & 0x80) &&
                    sim_phone_in_ready(d->phone, (size_t) u->buffer_length, mps(d), now))
                        return true;
        }
        return false;
}

static void check_gone(SimDevice *d);

/* ------------------------------------------------------------ USB model */

/* Line time of n bytes at rate= MB/s (1 MB/s = 1 byte/µs); 0 when uncapped. */
static uint64_t line_time_us(SimDevice *d, size_t n) {
        double rate = sim_phone_config(d->phone)->rate_mbps;

        return rate > 0 ? (uint64_t) ((double) n / rate + 0.5) : 0;
}

/* n bytes cross the line as soon as it is free; returns when they are through. */
static uint64_t line_take(SimDevice *d, uint64_t now, size_t n) {
        uint64_t start = MAX(now, d->line_free_us);

        d->line_free_us = start + line_time_us(d, n);
        return d->line_free_us;
}

static void timer_arm(SimDevice *d, uint64_t when) {
        struct itimerspec its = {};

        if (d->timer_fd < 0)
                return;
        if (when > 0) {
                its.it_value.tv_sec = (time_t) (when / 1000000u);
                its.it_value.tv_nsec = (long) (when % 1000000u) * 1000;
        }
        (void) timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void fill_in_urbs(SimDevice *d, UMockdevIoctlClient *client);

/* Under the lock: OUT bytes whose line time is over reach the phone; with
 * the model on, IN URBs take the phone's answers as soon as they exist and
 * complete once the line has carried them plus latency-us; the timer is
 * set to the next such moment. */
/* OUT bytes whose line time is over reach the phone, oldest first. */
static void deliver_due_out(SimDevice *d, uint64_t now) {
        for (GList *l = d->urbs; l && d->plugged; l = l->next) {
                Urb *u = l->data;

                if (!u->out_pending || u->deliver_us > now)
                        continue;
                sim_phone_receive(d->phone, u->out_data, (size_t) u->buffer_length, u->deliver_us);
                d->phone_input_us = u->deliver_us;
                g_clear_pointer(&u->out_data, g_free);
                u->out_pending = false;
                u->done = true;
                u->actual = u->buffer_length;
                check_gone(d);
        }
}

static void model_service(SimDevice *d) {
        uint64_t now = now_us(), next = UINT64_MAX;

        if (!d->plugged)
                return;
        deliver_due_out(d, now);
        if (timed(d))
                fill_in_urbs(d, NULL);
        for (GList *l = d->urbs; l; l = l->next) {
                Urb *u = l->data;

                if (u->out_pending)
                        next = MIN(next, u->deliver_us);
                else if (u->done && u->ready_us > now)
                        next = MIN(next, u->ready_us);
        }
        timer_arm(d, next == UINT64_MAX ? 0 : next);
}

static void fifo_update(SimDevice *d);

static gboolean on_model_timer(int fd, GIOCondition cond, gpointer userdata) {
        SimDevice *d = userdata;
        uint64_t expirations;

        (void) !read(fd, &expirations, sizeof(expirations));
        g_mutex_lock(d->lock);
        fifo_update(d);
        g_mutex_unlock(d->lock);
        return G_SOURCE_CONTINUE;
}

/* The FIFO tells the host whether a transfer can be reaped. */
static void fifo_set(SimDevice *d) {
        uint8_t page[FIFO_PAGE];
        bool want;

        want = has_reapable(d) || !d->plugged;
        if (d->fifo_fd < 0)
                return;
        if (want && !d->fifo_drained) {
                (void) !read(d->fifo_fd, page, sizeof(page));
                d->fifo_drained = true;
        } else if (!want && d->fifo_drained) {
                memset(page, 0, sizeof(page));
                while (write(d->fifo_fd, page, sizeof(page)) > 0)
                        ;
                d->fifo_drained = false;
        }
}

static void hub_service(SimUsbHub *hub);

static void fifo_update(SimDevice *d) {
        if (d->hub) {
                /* one line: what this phone does may finish another's transfers */
                hub_service(d->hub);
                for (guint i = 0; i < d->hub->devices->len; i++)
                        fifo_set(g_ptr_array_index(d->hub->devices, i));
                return;
        }
        model_service(d);
        fifo_set(d);
}

/* ------------------------------------------------------------ leaving */

static gboolean on_gone_idle(gpointer userdata) {
        SimDevice *d = userdata;

        bool go;

        /* still wanted: a replug in between started a new enumeration */
        g_mutex_lock(d->lock);
        go = d->gone_scheduled && d->plugged && sim_phone_wants_unplug(d->phone);
        d->gone_scheduled = false;
        g_mutex_unlock(d->lock);
        if (go) {
                sim_device_unplug(d);
                if (d->gone_cb)
                        d->gone_cb(d, d->gone_userdata);
        }
        return G_SOURCE_REMOVE;
}

static void tick_arm(SimDevice *d, uint64_t when);

static gboolean on_event_idle(gpointer userdata) {
        SimDevice *d = userdata;

        g_mutex_lock(d->lock);
        d->event_scheduled = false;
        d->events_seen = sim_phone_events(d->phone);
        g_mutex_unlock(d->lock);
        if (d->event_cb)
                d->event_cb(d, d->event_userdata);
        return G_SOURCE_REMOVE;
}

/* Under the lock, after anything reached the phone: its timer (watchdog,
 * late answers, the listen window) may have moved, a `wait` may be
 * satisfied, or the phone asked to leave; the last two are handled in the
 * main loop. */
static void check_gone(SimDevice *d) {
        if (d->plugged) {
                uint64_t next = sim_phone_tick(d->phone, now_us());

                if (next != d->tick_at)
                        tick_arm(d, next);
        }
        if (sim_phone_events(d->phone) != d->events_seen && !d->event_scheduled) {
                d->event_scheduled = true;
                g_idle_add(on_event_idle, d);
        }
        if (!d->plugged || d->gone_scheduled || !sim_phone_wants_unplug(d->phone))
                return;
        d->gone_scheduled = true;
        g_idle_add(on_gone_idle, d);
}

/* ------------------------------------------------------------ timers */

static gboolean on_tick(gpointer userdata) {
        SimDevice *d = userdata;

        g_mutex_lock(d->lock);
        g_source_unref(d->tick);
        d->tick = NULL;
        d->tick_at = 0;
        d->phone_input_us = now_us();
        fifo_update(d);
        check_gone(d); /* runs the phone's timers and re-arms */
        fifo_update(d);
        g_mutex_unlock(d->lock);
        return G_SOURCE_REMOVE;
}

static void tick_arm(SimDevice *d, uint64_t when) {
        uint64_t now = now_us();

        if (d->tick) {
                g_source_destroy(d->tick);
                g_source_unref(d->tick);
                d->tick = NULL;
        }
        d->tick_at = when;
        if (when == 0)
                return;
        d->tick = g_timeout_source_new((guint) (when > now ? (when - now + 999) / 1000 : 0));
        g_source_set_callback(d->tick, on_tick, d, NULL);
        g_source_attach(d->tick, NULL);
}

static gboolean on_rearm(gpointer userdata) {
        SimDevice *d = userdata;

        g_mutex_lock(d->lock);
        if (d->plugged)
                tick_arm(d, sim_phone_tick(d->phone, now_us()));
        g_mutex_unlock(d->lock);
        return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------ URBs */

static void urb_free(Urb *u) {
        if (u->data)
                g_object_unref(u->data);
        if (u->client)
                g_object_unref(u->client);
        g_free(u->in_data);
        g_free(u->out_data);
        g_free(u);
}

static void control_urb(SimDevice *d, Urb *u, const uint8_t *buf) {
        const struct usb_ctrlrequest *setup = (const void *) buf;
        uint16_t value = GUINT16_FROM_LE(setup->wValue), length = GUINT16_FROM_LE(setup->wLength);
        uint8_t out[256];
        size_t n = 0;

        u->done = true;
        u->status = 0;
        if (setup->bRequestType == CDC_REQTYPE_OUT && setup->bRequest == CDC_SET_LINE_CODING) {
                memcpy(d->line_coding, buf + 8, MIN((size_t) length, sizeof(d->line_coding)));
                u->actual = length;
                return;
        }
        if (setup->bRequestType == CDC_REQTYPE_OUT && setup->bRequest == CDC_SET_CONTROL_LINE_STATE) {
                sim_phone_set_line_state(d->phone, value, now_us());
                g_idle_add(on_rearm, d);
                return;
        }
        if (setup->bRequestType == CDC_REQTYPE_IN && setup->bRequest == CDC_GET_LINE_CODING) {
                memcpy(out, d->line_coding, sizeof(d->line_coding));
                n = sizeof(d->line_coding);
        } else if (setup->bRequestType == USB_DIR_IN && setup->bRequest == USB_REQ_GET_DESCRIPTOR) {
                switch (value >> 8) {
                case USB_DT_DEVICE:
                        memcpy(out, d->descriptors, 18);
                        n = 18;
                        break;
                case USB_DT_CONFIG:
                        n = d->descriptors_len - 18;
                        memcpy(out, d->descriptors + 18, n);
                        break;
                case USB_DT_STRING:
                        n = string_descriptor(d, value & 0xff, out, sizeof(out));
                        if (n == 0) {
                                u->status = -EPIPE;
                                return;
                        }
                        break;
                default:
                        u->status = -EPIPE;
                        return;
                }
        } else if (setup->bRequestType & USB_DIR_IN) {
                u->status = -EPIPE; /* unsupported IN request: stall */
                return;
        } else {
                u->actual = length; /* SET_CONFIGURATION and the like: accepted */
                return;
        }
        n = MIN(n, (size_t) length);
        u->in_data = g_memdup2(out, n);
        u->actual = (int) n;
}

static void submit_urb(SimDevice *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg) {
        g_autoptr(GError) error = NULL;
        UMockdevIoctlData *urb_data, *buf = NULL;
        struct usbdevfs_urb *urb;
        Urb *u;

        urb_data = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &error);
        if (!urb_data) {
                umockdev_ioctl_client_complete(client, -1, EFAULT);
                return;
        }
        urb = (struct usbdevfs_urb *) urb_data->data;
        if (!d->plugged) {
                g_object_unref(urb_data);
                umockdev_ioctl_client_complete(client, -1, ENODEV);
                return;
        }

        u = g_new0(Urb, 1);
        u->data = urb_data;
        u->client = g_object_ref(client);
        u->submit_us = now_us();
        if (!d->first_urb_us)
                d->first_urb_us = u->submit_us;
        u->type = urb->type;
        u->endpoint = urb->endpoint;
        u->buffer_length = urb->buffer_length;

        bool needs_out_data = u->type == USBDEVFS_URB_TYPE_CONTROL ||
                              (u->type == USBDEVFS_URB_TYPE_BULK && !(u->endpoint & 0x80));
        if (needs_out_data && u->buffer_length > 0) {
                buf = umockdev_ioctl_data_resolve(urb_data, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer),
                                                  (gsize) u->buffer_length, &error);
                if (!buf) {
                        urb_free(u);
                        umockdev_ioctl_client_complete(client, -1, EFAULT);
                        return;
                }
        }

        if (u->type == USBDEVFS_URB_TYPE_CONTROL) {
                if (u->buffer_length < 8) {
                        u->done = true;
                        u->status = -EINVAL;
                } else
                        control_urb(d, u, buf->data);
        } else if (u->type == USBDEVFS_URB_TYPE_BULK && !(u->endpoint & 0x80)) {
                /* OUT is a byte stream to the phone; ZLPs carry nothing (§1.5).
                 * With the USB model the bytes arrive once the line has
                 * carried them, and the host hears of it latency-us later. */
                uint64_t now = now_us();

                d->xfers_out++;
                if (sim_phone_take_out_stall(d->phone)) {
                        /* fault out-stall: the endpoint answers STALL; usbfs
                         * completes the URB with EPIPE (libusb: LIBUSB_ERROR_PIPE)
                         * and none of its bytes reach the phone */
                        d->out_stalls++;
                        u->done = true;
                        u->status = -EPIPE;
                        u->actual = 0;
                } else if (d->hub && u->buffer_length > 0) {
                        /* behind a hub: when its bytes are through depends on
                         * the other phones; the hub tells (hub_on_done) */
                        u->deliver_us = u->ready_us = UINT64_MAX;
                        sim_hub_submit(d->hub->line, &u->job, d, (size_t) u->buffer_length, u->submit_us);
                } else if (timed(d)) {
                        /* from the submission: a host controller moves the
                         * bytes from then on; umockdev copying them to us
                         * is the simulator's own time, not the line's */
                        u->deliver_us = line_take(d, u->submit_us, (size_t) u->buffer_length);
                        u->ready_us = u->deliver_us + sim_phone_config(d->phone)->latency_us;
                }
                if (u->done) {
                        /* stalled */
                } else if (u->deliver_us > now && u->buffer_length > 0) {
                        u->out_data = g_memdup2(buf->data, (gsize) u->buffer_length);
                        u->out_pending = true;
                } else {
                        /* a URB whose line time ended before ours may still
                         * wait for the model's timer: its bytes go first (a
                         * 2-byte checksum at 53.2 MB/s takes no time at all
                         * and must not overtake the data it sums) */
                        deliver_due_out(d, now);
                        if (u->buffer_length > 0 && d->plugged)
                                sim_phone_receive(d->phone, buf->data, (size_t) u->buffer_length, now);
                        d->phone_input_us = now;
                        u->done = true;
                        u->actual = u->buffer_length;
                        check_gone(d);
                }
        }
        /* bulk and interrupt IN wait for the phone */
        if (buf)
                g_object_unref(buf);

        d->urbs = g_list_append(d->urbs, u);
        umockdev_ioctl_client_complete(client, 0, 0);
        fifo_update(d);
}

/* IN URBs take the phone's answers in submission order (one IN endpoint
 * carries one stream).  Untimed this happens lazily at reap, for the
 * reaping client; with the USB model eagerly (client NULL: all), and the
 * URB completes once the line has carried the data, plus latency-us. */
static void fill_in_urbs(SimDevice *d, UMockdevIoctlClient *client) {
        bool is_timed = timed(d);
        unsigned latency = sim_phone_config(d->phone)->latency_us;

        for (GList *l = d->urbs; l; l = l->next) {
                Urb *u = l->data;
                bool overflow;
                gssize n;

                if (u->done || (client && u->client != client) || u->type != USBDEVFS_URB_TYPE_BULK ||
                    !(u->endpoint & 0x80))
                        continue;
                u->in_data = g_malloc((gsize) MAX(u->buffer_length, 1));
                n = sim_phone_take_in(d->phone, u->in_data, (size_t) u->buffer_length, mps(d), &overflow, now_us());
                if (n < 0) {
                        g_clear_pointer(&u->in_data, g_free);
                        break; /* transfers on one endpoint complete in order */
                }
                u->done = true;
                u->actual = (int) n;
                u->status = overflow ? -EOVERFLOW : 0;
                d->xfers_in++;
                /* The simulated phone answers in no time: the data may
                 * move from when the phone had its input and the URB was
                 * there, however long the simulator took to compute it. */
                if (d->hub) {
                        u->ready_us = UINT64_MAX;
                        sim_hub_submit(d->hub->line, &u->job, d, (size_t) n, MAX(u->submit_us, d->phone_input_us));
                } else if (is_timed)
                        u->ready_us = line_take(d, MAX(u->submit_us, d->phone_input_us), (size_t) n) + latency;
                check_gone(d);
        }
}

/* ------------------------------------------------------------ the hub's line */

/* A transfer's last byte crossed the shared line at j->finish_us (model
 * time, maybe before now): an OUT's bytes reach the phone then, and the
 * phone's answer may use the line from then on, as on a port of its own. */
static void hub_on_done(SimHubJob *j, void *userdata) {
        SimDevice *d = (SimDevice *) j->owner;
        Urb *u = (Urb *) (void *) ((char *) j - G_STRUCT_OFFSET(Urb, job));

        (void) userdata;
        d->line_bytes += j->bytes;
        d->line_us += (double) j->finish_us - j->active_us;
        u->ready_us = j->finish_us + d->hub->latency_us;
        if (!u->out_pending)
                return;
        u->deliver_us = j->finish_us;
        sim_phone_receive(d->phone, u->out_data, (size_t) u->buffer_length, u->deliver_us);
        d->phone_input_us = u->deliver_us;
        g_clear_pointer(&u->out_data, g_free);
        u->out_pending = false;
        u->done = true;
        u->actual = u->buffer_length;
        check_gone(d);
        if (d->plugged)
                fill_in_urbs(d, NULL);
}

static void hub_timer_arm(SimUsbHub *hub, uint64_t when) {
        struct itimerspec its = {};

        if (hub->timer_fd < 0)
                return;
        if (when > 0) {
                its.it_value.tv_sec = (time_t) (when / 1000000u);
                its.it_value.tv_nsec = (long) (when % 1000000u) * 1000;
        }
        (void) timerfd_settime(hub->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Under the hub's lock: run the line up to now, event by event (each
 * phone's answers joining it as they come), then wake up at the next event
 * or the next completion a host may reap. */
static void hub_service(SimUsbHub *hub) {
        uint64_t now = now_us(), next;

        do {
                sim_hub_run(hub->line, now, hub_on_done, NULL);
                /* answers that came otherwise (a phone's timer) */
                for (guint i = 0; i < hub->devices->len; i++) {
                        SimDevice *d = g_ptr_array_index(hub->devices, i);

                        if (d->plugged)
                                fill_in_urbs(d, NULL);
                }
        } while (sim_hub_next_event(hub->line) <= now);
        next = sim_hub_next_event(hub->line);
        for (guint i = 0; i < hub->devices->len; i++) {
                SimDevice *d = g_ptr_array_index(hub->devices, i);

                if (!d->plugged)
                        continue;
                for (GList *l = d->urbs; l; l = l->next) {
                        Urb *u = l->data;

                        if (u->done && u->ready_us > now && u->ready_us < next)
                                next = u->ready_us;
                }
        }
        hub_timer_arm(hub, next == SIM_HUB_IDLE ? 0 : next);
}

static gboolean on_hub_timer(int fd, GIOCondition cond, gpointer userdata) {
        SimUsbHub *hub = userdata;
        uint64_t expirations;

        (void) cond;
        (void) !read(fd, &expirations, sizeof(expirations));
        g_mutex_lock(&hub->lock);
        if (hub->devices->len > 0)
                fifo_update(g_ptr_array_index(hub->devices, 0));
        g_mutex_unlock(&hub->lock);
        return G_SOURCE_CONTINUE;
}

SimUsbHub *sim_usb_hub_new(const char *name, double rate_mbps, unsigned latency_us) {
        SimUsbHub *hub = g_new0(SimUsbHub, 1);

        g_mutex_init(&hub->lock);
        hub->name = g_strdup(name);
        hub->line = sim_hub_new(rate_mbps);
        hub->rate_mbps = rate_mbps;
        hub->latency_us = latency_us;
        hub->devices = g_ptr_array_new();
        hub->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (hub->timer_fd >= 0)
                hub->timer_watch = g_unix_fd_add(hub->timer_fd, G_IO_IN, on_hub_timer, hub);
        else
                g_printerr("mtksim: timerfd: %s; hub %s has no line model\n", g_strerror(errno), name);
        return hub;
}

void sim_usb_hub_free(SimUsbHub *hub) {
        if (!hub)
                return;
        if (hub->timer_watch)
                g_source_remove(hub->timer_watch);
        if (hub->timer_fd >= 0)
                close(hub->timer_fd);
        g_ptr_array_unref(hub->devices);
        sim_hub_free(hub->line);
        g_free(hub->name);
        g_mutex_clear(&hub->lock);
        g_free(hub);
}

const char *sim_usb_hub_name(const SimUsbHub *hub) {
        return hub->name;
}

double sim_usb_hub_rate(const SimUsbHub *hub) {
        return hub->rate_mbps;
}

unsigned sim_usb_hub_latency(const SimUsbHub *hub) {
        return hub->latency_us;
}

void sim_device_set_hub(SimDevice *d, SimUsbHub *hub) {
        g_mutex_lock(&hub->lock); /* the hub's line may be running (a phone added later) */
        d->hub = hub;
        d->lock = &hub->lock;
        g_ptr_array_add(hub->devices, d);
        g_mutex_unlock(&hub->lock);
}

static gboolean on_detach_idle(gpointer userdata);
static void device_detach(SimDevice *d);

/* After an unplug the host still reaps its transfers (with ENODEV), as on
 * a real bus; only then does the node go away. */
static void maybe_schedule_detach(SimDevice *d) {
        if (!d->detach_pending || d->detach_scheduled || d->urbs)
                return;
        d->detach_scheduled = true;
        g_idle_add(on_detach_idle, d);
}

static void reap_urb(SimDevice *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg) {
        g_autoptr(GError) error = NULL;
        UMockdevIoctlData *ptr;
        struct usbdevfs_urb *urb;
        Urb *u = NULL;

        uint64_t now;

        if (!timed(d))
                fill_in_urbs(d, client);
        now = now_us();
        for (GList *l = d->urbs; l; l = l->next)
                if (urb_reapable(d, l->data, now) && ((Urb *) l->data)->client == client) {
                        u = l->data;
                        d->urbs = g_list_delete_link(d->urbs, l);
                        break;
                }
        if (!u) {
                umockdev_ioctl_client_complete(client, -1, d->plugged ? EAGAIN : ENODEV);
                fifo_update(d);
                return;
        }

        urb = (struct usbdevfs_urb *) u->data->data;
        if (u->in_data && u->actual > 0) {
                gsize off = u->type == USBDEVFS_URB_TYPE_CONTROL ? 8 : 0;
                UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(
                        u->data, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer), (gsize) u->buffer_length, &error);

                if (buf) {
                        memcpy(buf->data + off, u->in_data, (size_t) u->actual);
                        g_object_unref(buf);
                }
        }
        urb->status = u->status;
        urb->actual_length = u->actual;

        ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), &error);
        if (ptr) {
                umockdev_ioctl_data_set_ptr(ptr, 0, u->data);
                g_object_unref(ptr);
        }
        umockdev_ioctl_client_complete(client, 0, 0);
        urb_free(u);
        fifo_update(d);
        maybe_schedule_detach(d);
}

static void discard_urb(SimDevice *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg) {
        gulong addr = arg->data_len >= (gint) sizeof(gulong) ? *(gulong *) arg->data : 0;

        for (GList *l = d->urbs; l; l = l->next) {
                Urb *u = l->data;

                if (u->client != client || u->data->client_addr != addr || u->done)
                        continue;
                if (d->hub)
                        sim_hub_cancel(d->hub->line, &u->job, now_us());
                u->done = true;
                u->status = -ENOENT;
                u->actual = 0;
                u->ready_us = 0;
                u->out_pending = false;      /* still on the wire: never arrives */
                g_clear_pointer(&u->out_data, g_free);
                g_clear_pointer(&u->in_data, g_free);
                umockdev_ioctl_client_complete(client, 0, 0);
                fifo_update(d);
                return;
        }
        umockdev_ioctl_client_complete(client, -1, EINVAL);
}

static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer userdata) {
        SimDevice *d = userdata;
        UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
        gulong request = umockdev_ioctl_client_get_request(client);
        g_autoptr(GError) error = NULL;
        UMockdevIoctlData *x;

        g_mutex_lock(d->lock);
        if (d->plugged && !d->first_ioctl_us)
                d->first_ioctl_us = now_us();

        if (!d->plugged && request != USBDEVFS_REAPURB && request != USBDEVFS_REAPURBNDELAY &&
            request != USBDEVFS_DISCARDURB) {
                umockdev_ioctl_client_complete(client, -1, ENODEV);
                goto out;
        }

        switch (request) {
        case USBDEVFS_GET_CAPABILITIES:
                x = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), &error);
                if (x) {
                        *(guint32 *) x->data = USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_BULK_CONTINUATION |
                                               USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                                               USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
                        g_object_unref(x);
                }
                umockdev_ioctl_client_complete(client, 0, 0);
                break;

        case USBDEVFS_GETDRIVER: {
                struct usbdevfs_getdriver *gd;

                x = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_getdriver), &error);
                if (!x) {
                        umockdev_ioctl_client_complete(client, -1, EFAULT);
                        break;
                }
                gd = (struct usbdevfs_getdriver *) x->data;
                if (gd->interface < 2 && d->driver_bound[gd->interface]) {
                        g_strlcpy(gd->driver, "cdc_acm", sizeof(gd->driver));
                        umockdev_ioctl_client_complete(client, 0, 0);
                } else
                        umockdev_ioctl_client_complete(client, -1, ENODATA);
                g_object_unref(x);
                break;
        }

        case USBDEVFS_IOCTL: {
                struct usbdevfs_ioctl *io;

                x = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ioctl), &error);
                if (!x) {
                        umockdev_ioctl_client_complete(client, -1, EFAULT);
                        break;
                }
                io = (struct usbdevfs_ioctl *) x->data;
                if (io->ifno >= 0 && io->ifno < 2) {
                        if (io->ioctl_code == (int) USBDEVFS_DISCONNECT)
                                d->driver_bound[io->ifno] = false;
                        else if (io->ioctl_code == (int) USBDEVFS_CONNECT)
                                d->driver_bound[io->ifno] = io->ifno == 0; /* cdc_acm binds to the comm iface */
                }
                g_object_unref(x);
                umockdev_ioctl_client_complete(client, 0, 0);
                break;
        }

        case USBDEVFS_DISCONNECT_CLAIM: {
                struct usbdevfs_disconnect_claim *dc;

                x = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_disconnect_claim), &error);
                if (x) {
                        dc = (struct usbdevfs_disconnect_claim *) x->data;
                        if (dc->interface < 2)
                                d->driver_bound[dc->interface] = false;
                        g_object_unref(x);
                }
                umockdev_ioctl_client_complete(client, 0, 0);
                break;
        }

        case USBDEVFS_CONNECTINFO: {
                struct usbdevfs_connectinfo *ci;

                x = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_connectinfo), &error);
                if (x) {
                        ci = (struct usbdevfs_connectinfo *) x->data;
                        ci->devnum = d->devnum;
                        ci->slow = 0;
                        g_object_unref(x);
                }
                umockdev_ioctl_client_complete(client, 0, 0);
                break;
        }

        case USBDEVFS_GET_SPEED:
                umockdev_ioctl_client_complete(client, sim_phone_usb_brom(d->phone) ? USB_SPEED_FULL : USB_SPEED_HIGH,
                                               0);
                break;

        case USBDEVFS_CLEAR_HALT:
                /* counted, so a test can see that a host cleared a stall */
                d->clear_halts++;
                umockdev_ioctl_client_complete(client, 0, 0);
                break;

        case USBDEVFS_CLAIMINTERFACE:
        case USBDEVFS_RELEASEINTERFACE:
        case USBDEVFS_SETCONFIGURATION:
        case USBDEVFS_SETINTERFACE:
        case USBDEVFS_RESETEP:
        case USBDEVFS_RESET:
                umockdev_ioctl_client_complete(client, 0, 0);
                break;

        case USBDEVFS_SUBMITURB:
                submit_urb(d, client, arg);
                break;

        case USBDEVFS_REAPURB:
        case USBDEVFS_REAPURBNDELAY:
                reap_urb(d, client, arg);
                break;

        case USBDEVFS_DISCARDURB:
                discard_urb(d, client, arg);
                break;

        default:
                umockdev_ioctl_client_complete(client, -1, ENOTTY);
                break;
        }
out:
        g_mutex_unlock(d->lock);
        return TRUE;
}

/* ------------------------------------------------------------ plug / unplug */

SimDevice *sim_device_new(UMockdevTestbed *tb, SimPhone *phone, const char *port) {
        SimDevice *d = g_new0(SimDevice, 1);

        g_mutex_init(&d->own_lock);
        d->lock = &d->own_lock;
        d->tb = g_object_ref(tb);
        d->phone = phone;
        d->fifo_fd = -1;
        g_strlcpy(d->port, port, sizeof(d->port));
        d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (d->timer_fd >= 0)
                d->timer_watch = g_unix_fd_add(d->timer_fd, G_IO_IN, on_model_timer, d);
        else
                g_printerr("mtksim: timerfd: %s; the USB model (rate=, latency-us=) is off\n", g_strerror(errno));
        return d;
}

void sim_device_free(SimDevice *d) {
        if (!d)
                return;
        if (d->plugged)
                sim_device_unplug(d);
        device_detach(d);
        if (d->hub) {
                /* the hub's line must not serve a freed phone */
                g_mutex_lock(d->lock);
                g_ptr_array_remove(d->hub->devices, d);
                g_mutex_unlock(d->lock);
        }
        if (d->timer_watch)
                g_source_remove(d->timer_watch);
        if (d->timer_fd >= 0)
                close(d->timer_fd);
        g_list_free_full(d->urbs, (GDestroyNotify) urb_free);
        sim_phone_free(d->phone);
        g_object_unref(d->tb);
        g_mutex_clear(&d->own_lock);
        g_free(d);
}

const char *sim_device_port(SimDevice *d) {
        return d->port;
}

char *sim_device_stats(SimDevice *d) {
        const SimPhoneConfig *cfg = sim_phone_config(d->phone);

        g_autofree char *hub = NULL;

        if (d->hub) {
                /* the shared line: this phone's share, and the whole hub's */
                SimHubStats st = sim_hub_stats(d->hub->line);

                hub = g_strdup_printf(" hub=%s hub_phones=%u line_bytes=%" G_GUINT64_FORMAT " line_us=%.0f"
                                      " hub_bytes=%" G_GUINT64_FORMAT " hub_busy_us=%.0f hub_shared_us=%.0f"
                                      " hub_max_phones=%u",
                                      d->hub->name, d->hub->devices->len, d->line_bytes, d->line_us, st.bytes,
                                      st.busy_us, st.shared_us, st.max_owners);
        }
        return g_strdup_printf("rate=%g latency_us=%u xfers_in=%" G_GUINT64_FORMAT " xfers_out=%" G_GUINT64_FORMAT
                               " devnum=%u out_stalls=%u clear_halts=%u first_ioctl_us=%" G_GUINT64_FORMAT
                               " first_urb_us=%" G_GUINT64_FORMAT "%s",
                               cfg->rate_mbps, cfg->latency_us, d->xfers_in, d->xfers_out, d->devnum, d->out_stalls,
                               d->clear_halts, d->first_ioctl_us, d->first_urb_us, hub ?: "");
}

bool sim_device_is_plugged(SimDevice *d) {
        return d->plugged;
}

void sim_device_set_gone_callback(SimDevice *d, SimDeviceGoneFunc cb, void *userdata) {
        d->gone_cb = cb;
        d->gone_userdata = userdata;
}

void sim_device_set_event_callback(SimDevice *d, SimDeviceGoneFunc cb, void *userdata) {
        d->event_cb = cb;
        d->event_userdata = userdata;
}

SimPhone *sim_device_lock(SimDevice *d) {
        g_mutex_lock(d->lock);
        return d->phone;
}

void sim_device_unlock(SimDevice *d) {
        fifo_update(d);
        check_gone(d);
        g_mutex_unlock(d->lock);
}

gboolean sim_device_plug(SimDevice *d, unsigned devnum, GError **error) {
        g_autofree char *root = umockdev_testbed_get_root_dir(d->tb);
        g_autofree char *dir = NULL, *busnum = g_strdup("1"), *devnum_s = g_strdup_printf("%u", devnum);
        g_autofree char *product = NULL, *vid_s = g_strdup_printf("%04x", BROM_USB_VID_MEDIATEK), *pid_s = NULL;
        g_autofree char *busnum_p = g_strdup("001"), *devnum_p = g_strdup_printf("%03u", devnum);
        g_autofree char *minor = g_strdup_printf("%u", devnum - 1);
        g_autofree char *if0 = g_strdup_printf("%s:1.0", d->port), *if1 = g_strdup_printf("%s:1.1", d->port);
        uint8_t page[FIFO_PAGE] = {};
        uint16_t pid;
        bool brom;

        device_detach(d); /* a previous plug's leftovers */
        g_mutex_lock(d->lock);
        d->devnum = devnum;
        d->devnode = g_strdup_printf("/dev/bus/usb/001/%03u", devnum);
        d->fifo_path = g_strdup_printf("%s%s", root, d->devnode);
        dir = g_path_get_dirname(d->fifo_path);
        /* the phone decides what it enumerates as (a reset makes a preloader) */
        sim_phone_power_on(d->phone, now_us());
        brom = sim_phone_usb_brom(d->phone);
        pid = sim_phone_usb_pid(d->phone);
        build_descriptors(d);
        d->driver_bound[0] = true;   /* cdc_acm takes the comm interface first */
        d->driver_bound[1] = false;
        d->gone_scheduled = false;
        g_mutex_unlock(d->lock);
        product = g_strdup_printf("%x/%x/100", BROM_USB_VID_MEDIATEK, pid);
        pid_s = g_strdup_printf("%04x", pid);

        /* 1. the node, a FIFO kept full; 2. the handler, before anyone opens it */
        if (g_mkdir_with_parents(dir, 0755) < 0 || (mkfifo(d->fifo_path, 0666) < 0 && errno != EEXIST)) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s: %s",
                            d->fifo_path, g_strerror(errno));
                return FALSE;
        }
        d->fifo_fd = open(d->fifo_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (d->fifo_fd < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot open %s: %s",
                            d->fifo_path, g_strerror(errno));
                return FALSE;
        }
        while (write(d->fifo_fd, page, sizeof(page)) > 0)
                ;
        d->fifo_drained = false;

        d->handler = umockdev_ioctl_base_new();
        g_signal_connect(d->handler, "handle-ioctl", G_CALLBACK(on_ioctl), d);
        if (!umockdev_testbed_attach_ioctl(d->tb, d->devnode, d->handler, error))
                return FALSE;

        /* working before it shows in sysfs: a host that scans sysfs while
         * the phone is being added (libusb_init) may open it at once */
        g_mutex_lock(d->lock);
        d->plugged = true;
        d->line_free_us = d->phone_input_us = 0;
        d->xfers_in = d->xfers_out = 0;
        d->out_stalls = d->clear_halts = 0;
        d->first_ioctl_us = d->first_urb_us = 0;
        tick_arm(d, sim_phone_tick(d->phone, now_us()));
        g_mutex_unlock(d->lock);

        /* 3. sysfs: the device and its two interfaces (umockdev-usb.md) */
        {
                g_autoptr(GPtrArray) attrs = g_ptr_array_new(), props = g_ptr_array_new();
                const char *a[] = { "busnum", busnum, "devnum", devnum_s, "speed", brom ? "12" : "480",
                                    "bConfigurationValue", "1", "bNumInterfaces", " 2", "bDeviceClass", "02",
                                    "idVendor", vid_s, "idProduct", pid_s, "bcdDevice", "0100",
                                    "bMaxPacketSize0", "64" };
                const char *pr[] = { "DEVNAME", d->devnode, "DEVTYPE", "usb_device", "DRIVER", "usb",
                                     "PRODUCT", product, "TYPE", "2/0/0", "BUSNUM", busnum_p, "DEVNUM", devnum_p,
                                     "MAJOR", G_STRINGIFY(USB_MAJOR), "MINOR", minor };

                for (size_t i = 0; i < G_N_ELEMENTS(a); i++)
                        g_ptr_array_add(attrs, (gpointer) a[i]);
                if (!brom) {
                        /* a BROM has no strings (brom.md §1.3) */
                        g_ptr_array_add(attrs, (gpointer) "manufacturer");
                        g_ptr_array_add(attrs, (gpointer) "MediaTek");
                        g_ptr_array_add(attrs, (gpointer) "product");
                        g_ptr_array_add(attrs, (gpointer) "MT65xx Preloader");
                }
                g_ptr_array_add(attrs, NULL);
                for (size_t i = 0; i < G_N_ELEMENTS(pr); i++)
                        g_ptr_array_add(props, (gpointer) pr[i]);
                g_ptr_array_add(props, NULL);
                d->syspath = umockdev_testbed_add_devicev(d->tb, "usb", d->port, "/sys/devices/usb1",
                                                          (gchar **) attrs->pdata, (gchar **) props->pdata);
        }
        if (!d->syspath) {
                g_mutex_lock(d->lock);
                d->plugged = false;
                tick_arm(d, 0);
                g_mutex_unlock(d->lock);
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "umockdev refused device %s", d->port);
                return FALSE;
        }
        umockdev_testbed_set_attribute_binary(d->tb, d->syspath, "descriptors", d->descriptors,
                                              (gint) d->descriptors_len);
        d->if_comm = umockdev_testbed_add_device(d->tb, "usb", if0, d->syspath, "bInterfaceNumber", "00",
                                                 "bInterfaceClass", "02", "bInterfaceSubClass", "02",
                                                 "bInterfaceProtocol", "01", "bNumEndpoints", "01", NULL,
                                                 "DEVTYPE", "usb_interface", "PRODUCT", product, "TYPE", "2/0/0",
                                                 "INTERFACE", "2/2/1", NULL);
        d->if_data = umockdev_testbed_add_device(d->tb, "usb", if1, d->syspath, "bInterfaceNumber", "01",
                                                 "bInterfaceClass", "0a", "bInterfaceSubClass", "00",
                                                 "bInterfaceProtocol", "00", "bNumEndpoints", "02", NULL,
                                                 "DEVTYPE", "usb_interface", "PRODUCT", product, "TYPE", "2/0/0",
                                                 "INTERFACE", "10/0/0", NULL);

        g_mutex_lock(d->lock);
        sim_phone_mark_plugged(d->phone, now_us());
        g_mutex_unlock(d->lock);

        /* 4. uevents: the device first, then its interfaces */
        umockdev_testbed_uevent(d->tb, d->syspath, "add");
        umockdev_testbed_uevent(d->tb, d->if_comm, "add");
        umockdev_testbed_uevent(d->tb, d->if_data, "add");
        return TRUE;
}

void sim_device_unplug(SimDevice *d) {
        g_mutex_lock(d->lock);
        if (!d->plugged) {
                g_mutex_unlock(d->lock);
                return;
        }
        d->plugged = false;
        tick_arm(d, 0);
        timer_arm(d, 0);
        /* every transfer in flight ends with ENODEV, as on a real unplug */
        if (d->hub)
                hub_service(d->hub); /* what was decided until now stays */
        for (GList *l = d->urbs; l; l = l->next) {
                Urb *u = l->data;

                if (d->hub)
                        sim_hub_cancel(d->hub->line, &u->job, now_us());
                if (!u->done) {
                        u->done = true;
                        u->status = -ENODEV;
                        u->actual = 0;
                        u->out_pending = false;
                        g_clear_pointer(&u->out_data, g_free);
                }
                u->ready_us = 0;
        }
        fifo_update(d);
        g_mutex_unlock(d->lock);

        /* remove uevents (children first) while sysfs still describes them,
         * then the devices children first (umockdev-usb.md step 6) */
        umockdev_testbed_uevent(d->tb, d->if_data, "remove");
        umockdev_testbed_uevent(d->tb, d->if_comm, "remove");
        umockdev_testbed_uevent(d->tb, d->syspath, "remove");
        umockdev_testbed_remove_device(d->tb, d->if_data);
        umockdev_testbed_remove_device(d->tb, d->if_comm);
        umockdev_testbed_remove_device(d->tb, d->syspath);

        g_mutex_lock(d->lock);
        g_clear_pointer(&d->syspath, g_free);
        g_clear_pointer(&d->if_comm, g_free);
        g_clear_pointer(&d->if_data, g_free);
        d->detach_pending = true;
        maybe_schedule_detach(d);
        g_mutex_unlock(d->lock);
}

/* The node and its handler go once the host has reaped everything (or at
 * the next plug / at exit, whichever comes first). */
static void device_detach(SimDevice *d) {
        g_mutex_lock(d->lock);
        if (!d->detach_pending) {
                g_mutex_unlock(d->lock);
                return;
        }
        d->detach_pending = false;
        d->detach_scheduled = false;
        g_mutex_unlock(d->lock);

        umockdev_testbed_detach_ioctl(d->tb, d->devnode, NULL);

        g_mutex_lock(d->lock);
        if (d->fifo_fd >= 0)
                close(d->fifo_fd);
        d->fifo_fd = -1;
        if (d->fifo_path)
                unlink(d->fifo_path);
        g_clear_pointer(&d->fifo_path, g_free);
        g_clear_pointer(&d->devnode, g_free);
        g_clear_object(&d->handler);
        g_list_free_full(d->urbs, (GDestroyNotify) urb_free);
        d->urbs = NULL;
        g_mutex_unlock(d->lock);
}

static gboolean on_detach_idle(gpointer userdata) {
        SimDevice *d = userdata;

        g_mutex_lock(d->lock);
        bool still = d->detach_scheduled && !d->urbs && !d->plugged;
        d->detach_scheduled = false;
        g_mutex_unlock(d->lock);
        if (still)
                device_detach(d);
        return G_SOURCE_REMOVE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <libusb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "protocol/brom-proto.h"
#include "usb-transport.h"

/* A direct IN transfer: four of them cover a DA's 1 MiB data packet, so
 * the line keeps busy while the host reaps the ones before. */
#define USB_URB_MAX (256u * 1024u)
#define USB_URB_TAIL (16u * 1024u)
/* Largest transfer into our own buffer (small fields, the surplus). */
#define USB_BOUNCE_MAX (64u * 1024u)
#define USB_IN_SLOTS 8
#define USB_OUT_SLOTS (2 * USB_WRITEV_MAX)
/* Vectors queued at once: the next ones' transfers wait behind this one's,
 * so the line does not idle while we learn that this one is out. */
#define USB_WRITES_MAX 4
/* OUT data up to this size is copied, so callers may pass stack bytes;
 * longer data is sent from the caller's buffer. */
#define USB_OUT_INLINE 64
/* Upper bound for draining a phone that never goes quiet (READY chatter). */
#define USB_DRAIN_MAX_MS 1000u

typedef struct PollSource {
        int fd;
        sd_event_source *source;
} PollSource;

struct UsbContext {
        libusb_context *ctx;
        sd_event *event;
        PollSource *polls;
        size_t n_polls;
        sd_event_source *timer;          /* only when libusb can't put timeouts on an fd */
        libusb_hotplug_callback_handle hotplug;
        bool have_hotplug;
        UsbArrivalFunc arrival_cb;
        void *arrival_userdata;
};

/* One IN transfer in flight.  Transfers complete in the order they were
 * submitted (usbfs keeps one queue per endpoint), and their bytes are one
 * stream: each is delivered to the pending read in that order. */
typedef struct UsbIn {
        UsbLink *link;
        struct libusb_transfer *xfer;
        uint8_t *bounce;              /* our own buffer, for transfers not direct */
        size_t bounce_cap;
        size_t cover;                 /* bytes of the read this transfer is planned to fill */
        bool direct;                  /* into the reader's buffer (one of usb_link_get_buffer()'s) */
        bool quiet;                   /* a drain's: a timeout with nothing means quiet */
        bool done;
} UsbIn;

typedef struct UsbOut {
        UsbLink *link;
        struct libusb_transfer *xfer;
        bool busy;
        unsigned write;               /* index of its UsbWrite */
        uint8_t small[USB_OUT_INLINE];
} UsbOut;

/* One usb_link_writev(): its callback runs when all its transfers are back,
 * after those of the vectors before it. */
typedef struct UsbWrite {
        unsigned left;
        int error;
        UsbLinkDone cb;
        void *userdata;
} UsbWrite;

typedef struct UsbBuffer {
        uint8_t *data;
        size_t size;
} UsbBuffer;

struct UsbLink {
        UsbContext *usb;
        libusb_device_handle *handle;
        int iface_comm, iface_data;
        /* we took a kernel driver (cdc_acm) away from these interfaces */
        bool comm_detached, data_detached;
        uint8_t ep_in, ep_out;
        uint16_t mps;
        bool gone;

        /* IN bytes received beyond what the last read wanted */
        uint8_t *rx;
        size_t rx_start, rx_end, rx_cap;

        /* IN transfers in flight, a ring in submission order */
        UsbIn in[USB_IN_SLOTS];
        unsigned in_head, in_count;
        size_t in_cover;              /* sum of their cover */
        unsigned in_bounce;           /* how many of them are not direct */
        bool in_stalled;

        /* the pending read: its destinations, filled in order */
        bool read_pending, read_drain, read_cancelled;
        UsbIovec read_iov[USB_IOV_MAX];
        size_t read_n_iov, read_idx, read_off;
        size_t read_want, read_have;
        int read_error;               /* the read fails with this once its transfers are back */
        uint64_t read_deadline_us;    /* 0: none */
        unsigned drain_quiet_ms;
        UsbLinkDone read_cb;
        void *read_userdata;

        /* pending writes, a ring in submission order, and their OUT transfers */
        UsbOut out[USB_OUT_SLOTS];
        unsigned out_count;
        unsigned ctrl_count;          /* CDC requests in flight (usb_link_setup_cdc()) */
        bool out_stalled;
        UsbWrite writes[USB_WRITES_MAX];
        unsigned w_head, w_count;

        /* buffers lent to readers: IN transfers fill them directly */
        UsbBuffer buffers[USB_LINK_BUFFERS];

        /* usb_link_pause(): a timer on the event loop, never a sleep */
        sd_event_source *pause;
        UsbLinkDone pause_cb;
        void *pause_userdata;

        sd_event_source *defer;
        uint64_t bytes_in, bytes_out;
};

static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int errno_from_libusb(int r) {
        switch (r) {
        case LIBUSB_SUCCESS:             return 0;
        case LIBUSB_ERROR_IO:            return -EIO;
        case LIBUSB_ERROR_INVALID_PARAM: return -EINVAL;
        case LIBUSB_ERROR_ACCESS:        return -EACCES;
        case LIBUSB_ERROR_NO_DEVICE:     return -ENODEV;
        case LIBUSB_ERROR_NOT_FOUND:     return -ENOENT;
        case LIBUSB_ERROR_BUSY:          return -EBUSY;
        case LIBUSB_ERROR_TIMEOUT:       return -ETIMEDOUT;
        case LIBUSB_ERROR_OVERFLOW:      return -EOVERFLOW;
        case LIBUSB_ERROR_PIPE:          return -EPIPE;
        case LIBUSB_ERROR_INTERRUPTED:   return -EINTR;
        case LIBUSB_ERROR_NO_MEM:        return -ENOMEM;
        case LIBUSB_ERROR_NOT_SUPPORTED: return -EOPNOTSUPP;
        default:                         return -EIO;
        }
}

/* ------------------------------------------------------------------ context */

static void usb_context_arm_timer(UsbContext *usb);

static int usb_context_dispatch(UsbContext *usb) {
        struct timeval zero = {};
        int r;

        r = libusb_handle_events_timeout_completed(usb->ctx, &zero, NULL);
        if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED)
                log_warning("libusb event handling failed: %s", libusb_error_name(r));
        if (usb->timer)
                usb_context_arm_timer(usb);
        return 0;
}

static int on_usb_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return usb_context_dispatch(userdata);
}

static int on_usb_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return usb_context_dispatch(userdata);
}

static void usb_context_arm_timer(UsbContext *usb) {
        struct timeval tv;
        uint64_t when;

        if (libusb_get_next_timeout(usb->ctx, &tv) <= 0) {
                sd_event_source_set_enabled(usb->timer, SD_EVENT_OFF);
                return;
        }
        sd_event_now(usb->event, CLOCK_MONOTONIC, &when);
        when += (uint64_t) tv.tv_sec * 1000000u + (uint64_t) tv.tv_usec;
        sd_event_source_set_time(usb->timer, when);
        sd_event_source_set_enabled(usb->timer, SD_EVENT_ONESHOT);
}

static void on_pollfd_added(int fd, short events, void *userdata) {
        UsbContext *usb = userdata;
        PollSource *n;
        int r;

        n = reallocarray(usb->polls, usb->n_polls + 1, sizeof(PollSource));
        if (!n) {
                log_oom();
                return;
        }
        usb->polls = n;
        n = &usb->polls[usb->n_polls];
        *n = (PollSource) { .fd = fd };
        r = sd_event_add_io(usb->event, &n->source, fd, (uint32_t) events, on_usb_io, usb);
        if (r < 0) {
                log_error_errno(r, "Failed to watch libusb file descriptor %i: %m", fd);
                return;
        }
        sd_event_source_set_description(n->source, "libusb");
        usb->n_polls++;
}

static void on_pollfd_removed(int fd, void *userdata) {
        UsbContext *usb = userdata;

        for (size_t i = 0; i < usb->n_polls; i++) {
                if (usb->polls[i].fd != fd)
                        continue;
                sd_event_source_disable_unref(usb->polls[i].source);
                usb->polls[i] = usb->polls[--usb->n_polls];
                return;
        }
}

static int on_hotplug(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event, void *userdata) {
        UsbContext *usb = userdata;

        if (usb->arrival_cb)
                usb->arrival_cb(usb, libusb_get_bus_number(dev), libusb_get_device_address(dev),
                                usb->arrival_userdata);
        return 0; /* stay registered */
}

int usb_context_new(sd_event *event, UsbContext **ret) {
        _cleanup_(usb_context_freep) UsbContext *usb = NULL;
        const struct libusb_pollfd **fds;
        int r;

        usb = calloc(1, sizeof(*usb));
        if (!usb)
                return -ENOMEM;
        usb->event = sd_event_ref(event);

        r = libusb_init(&usb->ctx);
        if (r < 0)
                return log_error_errno(errno_from_libusb(r), "Failed to initialise libusb: %s",
                                       libusb_error_name(r));

        fds = libusb_get_pollfds(usb->ctx);
        if (!fds)
                return log_error_errno(EOPNOTSUPP, "libusb cannot report its file descriptors; "
                                       "this platform is not supported.");
        for (size_t i = 0; fds[i]; i++)
                on_pollfd_added(fds[i]->fd, fds[i]->events, usb);
        libusb_free_pollfds(fds);
        libusb_set_pollfd_notifiers(usb->ctx, on_pollfd_added, on_pollfd_removed, usb);

        /* On Linux libusb keeps its timeouts on a timerfd it hands us as a
         * pollfd; only elsewhere do we need a timer of our own. */
        if (!libusb_pollfds_handle_timeouts(usb->ctx)) {
                r = sd_event_add_time(event, &usb->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000,
                                      on_usb_timer, usb);
                if (r < 0)
                        return log_error_errno(r, "Failed to add libusb timer: %m");
        }

        if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
                r = libusb_hotplug_register_callback(usb->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED, 0,
                                                     LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
                                                     LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, usb,
                                                     &usb->hotplug);
                if (r == LIBUSB_SUCCESS)
                        usb->have_hotplug = true;
                else
                        log_debug("libusb hotplug unavailable: %s", libusb_error_name(r));
        }

        *ret = TAKE_PTR(usb);
        return 0;
}

UsbContext *usb_context_free(UsbContext *usb) {
        if (!usb)
                return NULL;
        if (usb->ctx) {
                if (usb->have_hotplug)
                        libusb_hotplug_deregister_callback(usb->ctx, usb->hotplug);
                libusb_set_pollfd_notifiers(usb->ctx, NULL, NULL, NULL);
        }
        for (size_t i = 0; i < usb->n_polls; i++)
                sd_event_source_disable_unref(usb->polls[i].source);
        free(usb->polls);
        sd_event_source_disable_unref(usb->timer);
        if (usb->ctx)
                libusb_exit(usb->ctx);
        sd_event_unref(usb->event);
        free(usb);
        return NULL;
}

void usb_context_set_arrival_callback(UsbContext *usb, UsbArrivalFunc cb, void *userdata) {
        usb->arrival_cb = cb;
        usb->arrival_userdata = userdata;
}

/* ------------------------------------------------------------------ link */


static int usb_link_find_endpoints(UsbLink *link, libusb_device *dev) {
        struct libusb_config_descriptor *cfg = NULL;
        int r;

        r = libusb_get_active_config_descriptor(dev, &cfg);
        if (r < 0)
                return log_error_errno(errno_from_libusb(r), "Cannot read the phone's USB configuration: %s",
                                       libusb_error_name(r));

        link->iface_comm = link->iface_data = -1;
        for (int i = 0; i < cfg->bNumInterfaces; i++) {
                const struct libusb_interface_descriptor *alt;

                if (cfg->interface[i].num_altsetting < 1)
                        continue;
                alt = &cfg->interface[i].altsetting[0];
                if (alt->bInterfaceClass == BROM_USB_CLASS_CDC && link->iface_comm < 0)
                        link->iface_comm = alt->bInterfaceNumber;
                if (alt->bInterfaceClass != BROM_USB_CLASS_CDC_DATA || link->iface_data >= 0)
                        continue;
                /* brom.md §1.2: the first bulk IN and OUT of the CDC data interface */
                for (int e = 0; e < alt->bNumEndpoints; e++) {
                        const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];

                        if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
                                continue;
                        if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
                                if (!link->ep_in) {
                                        link->ep_in = ep->bEndpointAddress;
                                        link->mps = ep->wMaxPacketSize;
                                }
                        } else if (!link->ep_out)
                                link->ep_out = ep->bEndpointAddress;
                }
                link->iface_data = alt->bInterfaceNumber;
        }
        libusb_free_config_descriptor(cfg);

        if (link->iface_data < 0 || !link->ep_in || !link->ep_out)
                return log_error_errno(ENODEV, "The device has no CDC data interface with bulk endpoints; "
                                       "it is not a MediaTek phone in download mode.");
        if (link->mps == 0 || link->mps > 1024)
                link->mps = BROM_USB_BULK_MPS_HS;
        return 0;
}

static void usb_link_on_cdc(struct libusb_transfer *t) {
        UsbLink *link = t->user_data;

        if (t->status != LIBUSB_TRANSFER_COMPLETED)
                log_debug("CDC control request failed (status %d, ignored)", t->status);
        link->ctrl_count--;
        libusb_free_transfer(t);
}

/* Asynchronous: libusb's synchronous control transfer would run every other
 * phone's completions inside it, and a new phone's first handshake byte
 * would wait for them. */
static void usb_link_submit_cdc(UsbLink *link, uint8_t request, uint16_t value, const uint8_t *data, uint16_t len) {
        uint16_t index = link->iface_comm >= 0 ? (uint16_t) link->iface_comm : 0;
        struct libusb_transfer *t = libusb_alloc_transfer(0);
        uint8_t *buf = t ? calloc(1, LIBUSB_CONTROL_SETUP_SIZE + len) : NULL;

        if (!buf) {
                if (t)
                        libusb_free_transfer(t);
                log_oom();
                return;
        }
        libusb_fill_control_setup(buf, CDC_REQTYPE_OUT, request, value, index, len);
        if (len > 0)
                memcpy(buf + LIBUSB_CONTROL_SETUP_SIZE, data, len);
        libusb_fill_control_transfer(t, link->handle, buf, usb_link_on_cdc, link, 1000);
        t->flags = LIBUSB_TRANSFER_FREE_BUFFER;
        if (libusb_submit_transfer(t) < 0) {
                log_debug("CDC control request 0x%02x not sent (ignored)", request);
                libusb_free_transfer(t);
                return;
        }
        link->ctrl_count++;
}

static void usb_link_setup_cdc(UsbLink *link) {
        /* brom.md §1.4: 921600 8N1 and RTS only.  Neither request is required
         * by the phone, so a failure is only worth a debug line; leaving DTR
         * clear keeps a preloader from chattering "READY". */
        static const uint8_t coding[CDC_LINE_CODING_LEN] = { 0x00, 0x10, 0x0e, 0x00, 0x00, 0x00, 0x08 };

        usb_link_submit_cdc(link, CDC_SET_LINE_CODING, 0, coding, sizeof(coding));
        usb_link_submit_cdc(link, CDC_SET_CONTROL_LINE_STATE, CDC_LINE_STATE_RTS, NULL, 0);
}

static bool usb_link_has_comm(const UsbLink *link) {
        return link->iface_comm >= 0 && link->iface_comm != link->iface_data;
}

/* True when a kernel driver was bound to iface and is now detached. */
static bool usb_link_detach_driver(UsbLink *link, int iface) {
        int r;

        /* 0: no driver; LIBUSB_ERROR_NOT_SUPPORTED: a platform without kernel drivers */
        if (libusb_kernel_driver_active(link->handle, iface) != 1)
                return false;
        r = libusb_detach_kernel_driver(link->handle, iface);
        if (r < 0) {
                /* claiming the interface then says what is wrong */
                log_debug("Detaching the kernel driver from interface %d failed: %s", iface, libusb_error_name(r));
                return false;
        }
        log_debug("Detached the kernel driver from interface %d.", iface);
        return true;
}

/* brom.md §1.2: mtkclient gives the kernel driver back on the comm
 * interface only, so cdc_acm binds again between two sessions and the
 * data interface is left alone.  A phone without a separate comm
 * interface gets its data interface back instead. */
static void usb_link_reattach_driver(UsbLink *link) {
        int iface = -1, r;

        if (link->gone)
                return;
        if (usb_link_has_comm(link)) {
                if (link->comm_detached)
                        iface = link->iface_comm;
        } else if (link->data_detached)
                iface = link->iface_data;
        if (iface < 0)
                return;
        r = libusb_attach_kernel_driver(link->handle, iface);
        if (r < 0)
                log_debug("Handing interface %d back to the kernel driver failed: %s (ignored)", iface,
                          libusb_error_name(r));
        else
                log_debug("Handed interface %d back to the kernel driver.", iface);
}

int usb_context_open(UsbContext *usb, uint16_t busnum, uint16_t devnum, UsbLink **ret) {
        _cleanup_(usb_link_freep) UsbLink *link = NULL;
        libusb_device **list = NULL, *dev = NULL;
        ssize_t n;
        int r;

        n = libusb_get_device_list(usb->ctx, &list);
        if (n < 0)
                return log_error_errno(errno_from_libusb((int) n), "Cannot list USB devices: %s",
                                       libusb_error_name((int) n));
        for (ssize_t i = 0; i < n; i++)
                if (libusb_get_bus_number(list[i]) == busnum && libusb_get_device_address(list[i]) == devnum) {
                        dev = libusb_ref_device(list[i]);
                        break;
                }
        libusb_free_device_list(list, 1);
        if (!dev)
                return -ENODEV;

        link = calloc(1, sizeof(*link));
        if (!link) {
                libusb_unref_device(dev);
                return -ENOMEM;
        }
        link->usb = usb;

        r = libusb_open(dev, &link->handle);
        if (r < 0) {
                libusb_unref_device(dev);
                if (r == LIBUSB_ERROR_ACCESS)
                        return log_error_errno(EACCES, "Permission denied opening USB device %03u/%03u; "
                                               "mtknvd must run as root (or own the device node).",
                                               busnum, devnum);
                return log_error_errno(errno_from_libusb(r), "Cannot open USB device %03u/%03u: %s",
                                       busnum, devnum, libusb_error_name(r));
        }

        r = usb_link_find_endpoints(link, dev);
        libusb_unref_device(dev);
        if (r < 0)
                return r;

        /* cdc_acm binds to the phone first; take it away so nobody else
         * (ModemManager through the tty) writes into our session.  Not
         * libusb's auto-detach: that would hand both interfaces back on
         * release, and only the comm interface should be (see usb_link_free()). */
        if (usb_link_has_comm(link)) {
                link->comm_detached = usb_link_detach_driver(link, link->iface_comm);
                r = libusb_claim_interface(link->handle, link->iface_comm);
                if (r < 0)
                        log_debug("Claiming the CDC comm interface failed: %s (ignored)", libusb_error_name(r));
        }
        link->data_detached = usb_link_detach_driver(link, link->iface_data);
        r = libusb_claim_interface(link->handle, link->iface_data);
        if (r == LIBUSB_ERROR_BUSY)
                return log_error_errno(EBUSY, "USB device %03u/%03u is in use by another program "
                                       "(mtkclient, SP Flash Tool, or ModemManager on the tty). "
                                       "Close it, or stop ModemManager, and plug the phone in again.",
                                       busnum, devnum);
        if (r < 0)
                return log_error_errno(errno_from_libusb(r), "Cannot claim the phone's data interface: %s",
                                       libusb_error_name(r));

        usb_link_setup_cdc(link);

        for (unsigned i = 0; i < USB_IN_SLOTS; i++) {
                link->in[i] = (UsbIn) { .link = link, .xfer = libusb_alloc_transfer(0) };
                if (!link->in[i].xfer)
                        return -ENOMEM;
        }
        for (unsigned i = 0; i < USB_OUT_SLOTS; i++) {
                link->out[i] = (UsbOut) { .link = link, .xfer = libusb_alloc_transfer(0) };
                if (!link->out[i].xfer)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(link);
        return 0;
}

static bool usb_link_busy(const UsbLink *link) {
        return link->in_count > 0 || link->out_count > 0 || link->ctrl_count > 0;
}

static void usb_link_wait_idle(UsbLink *link) {
        /* Give cancelled transfers the chance to complete normally;
         * cancelling on usbfs completes at once.  On a vanished device they
         * may never come back: libusb_close() below then takes them off
         * libusb's books, after which they may be freed. */
        uint64_t start = now_us();
        int i;

        for (i = 0; usb_link_busy(link) && i < 10; i++) {
                struct timeval tv = { .tv_usec = 20000 };
                libusb_handle_events_timeout_completed(link->usb->ctx, &tv, NULL);
        }
        if (i > 0)
                log_debug("Waited %" PRIu64 " us for %u transfer(s) to come back%s.", now_us() - start,
                          link->in_count + link->out_count + link->ctrl_count, link->gone ? " (gone)" : "");
}

UsbLink *usb_link_free(UsbLink *link) {
        if (!link)
                return NULL;

        usb_link_forget(link);
        usb_link_wait_idle(link);

        if (link->handle) {
                if (!link->gone) {
                        /* a phone that left while the link was idle is noticed only here */
                        if (libusb_release_interface(link->handle, link->iface_data) == LIBUSB_ERROR_NO_DEVICE)
                                link->gone = true;
                        if (usb_link_has_comm(link))
                                libusb_release_interface(link->handle, link->iface_comm);
                        usb_link_reattach_driver(link);
                }
                libusb_close(link->handle);
        }
        /* after libusb_close() no transfer of ours can still write into a buffer */
        for (unsigned i = 0; i < USB_IN_SLOTS; i++) {
                if (link->in[i].xfer)
                        libusb_free_transfer(link->in[i].xfer);
                free(link->in[i].bounce);
        }
        for (unsigned i = 0; i < USB_OUT_SLOTS; i++)
                if (link->out[i].xfer)
                        libusb_free_transfer(link->out[i].xfer);
        for (unsigned i = 0; i < USB_LINK_BUFFERS; i++)
                free(link->buffers[i].data);
        sd_event_source_disable_unref(link->defer);
        sd_event_source_disable_unref(link->pause);
        free(link->rx);
        free(link);
        return NULL;
}

bool usb_link_is_gone(UsbLink *link) {
        return link->gone;
}

uint16_t usb_link_max_packet(UsbLink *link) {
        return link->mps;
}

uint64_t usb_link_bytes_in(UsbLink *link) {
        return link->bytes_in;
}

uint64_t usb_link_bytes_out(UsbLink *link) {
        return link->bytes_out;
}

/* Zeroed: usbfs (and umockdev's emulation of it) fills transfer buffers
 * behind valgrind's back, which would take them for uninitialised. */
static uint8_t *usb_grow_zeroed(uint8_t *p, size_t old, size_t size) {
        uint8_t *n = realloc(p, size);

        if (n)
                memset(n + old, 0, size - old);
        return n;
}

uint8_t *usb_link_get_buffer(UsbLink *link, unsigned index, size_t size) {
        UsbBuffer *b;

        if (index >= USB_LINK_BUFFERS)
                return NULL;
        b = &link->buffers[index];
        if (b->size < size) {
                uint8_t *n;

                /* A transfer still in flight may point into the old buffer;
                 * one that does is never direct into a buffer being replaced:
                 * readers ask for their buffers before they read. */
                if (link->in_count > 0)
                        return NULL;
                n = usb_grow_zeroed(b->data, b->size, size);
                if (!n)
                        return NULL;
                b->data = n;
                b->size = size;
        }
        return b->data;
}

static bool usb_link_owns(const UsbLink *link, const uint8_t *p, size_t n) {
        for (unsigned i = 0; i < USB_LINK_BUFFERS; i++) {
                const UsbBuffer *b = &link->buffers[i];

                if (b->data && p >= b->data && p + n <= b->data + b->size)
                        return true;
        }
        return false;
}

static void usb_link_cancel_out(UsbLink *link) {
        for (unsigned i = 0; i < USB_OUT_SLOTS; i++)
                if (link->out[i].busy)
                        libusb_cancel_transfer(link->out[i].xfer);
}

static void usb_link_cancel_in(UsbLink *link) {
        for (unsigned i = 0; i < link->in_count; i++)
                libusb_cancel_transfer(link->in[(link->in_head + i) % USB_IN_SLOTS].xfer);
}

/* A halted endpoint refuses every later transfer until the host clears
 * it (libusb does not do that by itself), so a caller's retry could never
 * succeed.  CLEAR_HALT is one short ioctl, also resetting the host's data
 * toggle, which an asynchronous CLEAR_FEATURE request would not. */
static void usb_link_clear_halt(UsbLink *link, uint8_t ep) {
        int r = libusb_clear_halt(link->handle, ep);

        if (r < 0)
                log_debug("Clearing the halt of endpoint 0x%02x failed: %s", ep, libusb_error_name(r));
        else
                log_debug("Endpoint 0x%02x stalled; halt cleared.", ep);
}

static int usb_link_rx_append(UsbLink *link, const uint8_t *p, size_t n) {
        if (n == 0)
                return 0;
        if (link->rx_start == link->rx_end)
                link->rx_start = link->rx_end = 0;
        if (link->rx_end + n > link->rx_cap) {
                size_t used = link->rx_end - link->rx_start;
                uint8_t *b;

                if (link->rx_start > 0) {
                        memmove(link->rx, link->rx + link->rx_start, used);
                        link->rx_start = 0;
                        link->rx_end = used;
                }
                if (used + n > link->rx_cap) {
                        b = realloc(link->rx, used + n);
                        if (!b)
                                return -ENOMEM;
                        link->rx = b;
                        link->rx_cap = used + n;
                }
        }
        /* p may lie in rx itself (usb_link_read_take()) */
        memmove(link->rx + link->rx_end, p, n);
        link->rx_end += n;
        return 0;
}

/* The next n bytes of the stream, at src: into the pending read where they
 * belong (a direct transfer's bytes usually are there already), the rest
 * kept for the next read. */
static int usb_link_deliver(UsbLink *link, const uint8_t *src, size_t n) {
        if (link->read_pending && link->read_drain)
                return 0;
        while (n > 0 && link->read_pending && link->read_have < link->read_want) {
                UsbIovec *v = &link->read_iov[link->read_idx];
                size_t k = MIN(n, v->len - link->read_off);
                uint8_t *dst = (uint8_t *) v->base + link->read_off;

                /* a cancelled read's buffer may be freed already: its bytes are dropped */
                if (!link->read_cancelled && dst != src)
                        memmove(dst, src, k);
                link->read_off += k;
                link->read_have += k;
                if (link->read_off == v->len && link->read_idx + 1 < link->read_n_iov) {
                        link->read_idx++;
                        link->read_off = 0;
                }
                src += k;
                n -= k;
        }
        return usb_link_rx_append(link, src, n);
}

static void usb_link_on_in(struct libusb_transfer *t);

static int usb_link_submit_in(UsbLink *link, UsbIn *u, uint8_t *buf, size_t len, unsigned timeout) {
        int r;

        libusb_fill_bulk_transfer(u->xfer, link->handle, link->ep_in, buf, (int) len, usb_link_on_in, u, timeout);
        r = libusb_submit_transfer(u->xfer);
        if (r < 0) {
                if (r == LIBUSB_ERROR_NO_DEVICE)
                        link->gone = true;
                return errno_from_libusb(r);
        }
        u->done = false;
        link->in_count++;
        link->in_cover += u->cover;
        if (!u->direct)
                link->in_bounce++;
        return 0;
}

static int usb_link_bounce(UsbIn *u, size_t len) {
        if (u->bounce_cap < len) {
                uint8_t *b = usb_grow_zeroed(u->bounce, u->bounce_cap, len);

                if (!b)
                        return -ENOMEM;
                u->bounce = b;
                u->bounce_cap = len;
        }
        return 0;
}

/* Queue IN transfers for what the read still wants, up to USB_IN_SLOTS in
 * flight.  Where the read's destination is a buffer of ours and every
 * transfer before is direct too (so the stream position is certain), a
 * transfer goes straight into it; anything else goes through a bounce
 * buffer.  Whole packets only: a short packet ends a transfer early, a
 * longer one than we asked for would be an overflow. */
static int usb_link_refill(UsbLink *link) {
        unsigned timeout = 0;
        int r;

        if (link->read_deadline_us > 0) {
                uint64_t now = now_us();

                if (now >= link->read_deadline_us)
                        return -ETIMEDOUT;
                timeout = (unsigned) ((link->read_deadline_us - now + 999) / 1000);
        }

        if (link->read_drain) {
                UsbIn *u;

                /* one quiet-timed transfer at a time, after anything left over */
                if (link->in_count > 0)
                        return 0;
                u = &link->in[(link->in_head + link->in_count) % USB_IN_SLOTS];
                r = usb_link_bounce(u, link->mps);
                if (r < 0)
                        return r;
                u->cover = 0;
                u->direct = false;
                u->quiet = true;
                return usb_link_submit_in(link, u, u->bounce, link->mps, link->drain_quiet_ms);
        }

        while (link->in_count < USB_IN_SLOTS && link->read_have + link->in_cover < link->read_want) {
                UsbIn *u = &link->in[(link->in_head + link->in_count) % USB_IN_SLOTS];
                size_t pos = link->read_have + link->in_cover, idx = link->read_idx, off = link->read_off;
                size_t skip = link->in_cover, len;
                uint8_t *dst;

                /* where pos falls in the vector */
                while (skip > 0) {
                        size_t k = MIN(skip, link->read_iov[idx].len - off);

                        skip -= k;
                        off += k;
                        if (off == link->read_iov[idx].len && idx + 1 < link->read_n_iov) {
                                idx++;
                                off = 0;
                        }
                }
                dst = (uint8_t *) link->read_iov[idx].base + off;
                len = (link->read_iov[idx].len - off) / link->mps * link->mps;
                u->quiet = false;
                if (link->in_bounce == 0 && len > 0 && !link->read_cancelled &&
                    usb_link_owns(link, dst, len)) {
                        len = MIN(len, (size_t) USB_URB_MAX);
                        /* End a piece with a short transfer: what the
                         * host does after its last byte (the ACK) then
                         * waits for a small reap, not a 256 KiB one. */
                        if (off + len == link->read_iov[idx].len && len > USB_URB_TAIL &&
                            link->in_count + 2 < USB_IN_SLOTS)
                                len -= USB_URB_TAIL;
                        u->direct = true;
                        u->cover = len;
                        r = usb_link_submit_in(link, u, dst, len, timeout);
                } else {
                        size_t want = link->read_want - pos;

                        len = MIN(want, (size_t) USB_BOUNCE_MAX);
                        u->cover = len;
                        len = (len + link->mps - 1) / link->mps * link->mps;
                        r = usb_link_bounce(u, len);
                        if (r < 0)
                                return r;
                        u->direct = false;
                        r = usb_link_submit_in(link, u, u->bounce, len, timeout);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static void usb_link_read_finish(UsbLink *link, int r) {
        UsbLinkDone cb = link->read_cb;
        void *ud = link->read_userdata;

        link->read_pending = false;
        link->read_drain = false;
        link->read_cancelled = false;
        link->read_error = 0;
        link->read_cb = NULL;
        if (cb)
                cb(link, r, ud);
}

/* After transfers came back: finish the read, or queue more for it. */
static void usb_link_read_progress(UsbLink *link) {
        int r;

        if (link->in_count == 0 && link->in_stalled) {
                link->in_stalled = false;
                usb_link_clear_halt(link, link->ep_in);
        }
        if (!link->read_pending)
                return;
        if (link->read_error != 0) {
                /* the read ends once none of its transfers is out */
                if (link->in_count == 0)
                        usb_link_read_finish(link, link->read_error);
                return;
        }
        if (!link->read_drain && link->read_have == link->read_want)
                return usb_link_read_finish(link, 0);

        r = usb_link_refill(link);
        if (r >= 0)
                return;
        link->read_error = r;
        if (link->in_count == 0)
                return usb_link_read_finish(link, r);
        usb_link_cancel_in(link);
}

static int usb_link_in_status(UsbLink *link, UsbIn *u) {
        struct libusb_transfer *t = u->xfer;

        switch (t->status) {
        case LIBUSB_TRANSFER_COMPLETED:
                return 0;
        case LIBUSB_TRANSFER_TIMED_OUT:
                if (u->quiet && t->actual_length == 0)
                        return 1; /* quiet: the drain is done */
                /* a transfer left over from an earlier read has that
                 * read's timeout; only the pending read's own counts */
                if (link->read_pending && !link->read_drain && link->read_deadline_us > 0 &&
                    now_us() >= link->read_deadline_us)
                        return -ETIMEDOUT;
                return 0;
        case LIBUSB_TRANSFER_NO_DEVICE:
                link->gone = true;
                return -ENODEV;
        case LIBUSB_TRANSFER_CANCELLED:
                return link->gone ? -ENODEV : -ECANCELED;
        case LIBUSB_TRANSFER_STALL:
                link->in_stalled = true;
                return -EPIPE;
        case LIBUSB_TRANSFER_OVERFLOW:
                return -EOVERFLOW;
        case LIBUSB_TRANSFER_ERROR:
                return -EIO;
        }
        return -EIO;
}

static void usb_link_on_in(struct libusb_transfer *t) {
        UsbIn *done = t->user_data;
        UsbLink *link = done->link;
        bool quiet = false;

        done->done = true;
        /* deliver in submission order, whatever order libusb reports in */
        while (link->in_count > 0 && link->in[link->in_head].done) {
                UsbIn *u = &link->in[link->in_head];
                int r = usb_link_in_status(link, u);

                link->in_head = (link->in_head + 1) % USB_IN_SLOTS;
                link->in_count--;
                link->in_cover -= u->cover;
                if (!u->direct)
                        link->in_bounce--;
                u->done = false;

                /* a timed-out or cancelled transfer may carry bytes too */
                if (u->xfer->actual_length > 0) {
                        link->bytes_in += (uint64_t) u->xfer->actual_length;
                        if (usb_link_deliver(link, u->xfer->buffer, (size_t) u->xfer->actual_length) < 0 &&
                            r >= 0)
                                r = -ENOMEM;
                }
                if (r > 0)
                        quiet = true;
                else if (r < 0 && link->read_pending && link->read_error == 0) {
                        link->read_error = r;
                        /* the stream is broken: what else is out comes back cancelled */
                        usb_link_cancel_in(link);
                }
        }

        if (link->read_pending && link->read_drain && link->read_error == 0) {
                if (quiet || (link->read_deadline_us > 0 && now_us() >= link->read_deadline_us)) {
                        if (link->in_count == 0)
                                return usb_link_read_finish(link, 0);
                        return;
                }
        }
        usb_link_read_progress(link);
}

/* Moves buffered bytes into a read that is starting; true when it is satisfied. */
static bool usb_link_read_take(UsbLink *link) {
        size_t avail = link->rx_end - link->rx_start, start = link->rx_start;

        if (avail == 0)
                return link->read_have == link->read_want;
        link->rx_start = link->rx_end = 0;
        /* the surplus precedes anything in flight; it goes in first (what
         * the read does not want moves to the front of rx again) */
        return usb_link_deliver(link, link->rx + start, avail) >= 0 && link->read_have == link->read_want;
}

static int on_defer(sd_event_source *s, void *userdata) {
        UsbLink *link = userdata;

        sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (link->read_pending && link->read_have == link->read_want)
                usb_link_read_finish(link, 0);
        return 0;
}

static int usb_link_start_read(UsbLink *link, const UsbIovec *iov, size_t n_iov, unsigned timeout_ms, bool drain,
                               UsbLinkDone cb, void *userdata) {
        size_t want = 0;
        int r;

        if (link->read_pending)
                return -EBUSY;
        if (link->gone)
                return -ENODEV;
        if (n_iov > USB_IOV_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n_iov; i++) {
                if (iov[i].len == 0)
                        return -EINVAL;
                want += iov[i].len;
        }

        link->read_pending = true;
        link->read_drain = drain;
        link->read_cancelled = false;
        link->read_error = 0;
        if (n_iov > 0) /* a drain has none */
                memcpy(link->read_iov, iov, n_iov * sizeof(*iov));
        link->read_n_iov = n_iov;
        link->read_idx = link->read_off = 0;
        link->read_want = want;
        link->read_have = 0;
        link->read_deadline_us = timeout_ms > 0 ? now_us() + (uint64_t) timeout_ms * 1000u : 0;
        link->read_cb = cb;
        link->read_userdata = userdata;

        if (!drain && usb_link_read_take(link)) {
                /* Complete from the loop, never from inside the caller. */
                if (!link->defer) {
                        r = sd_event_add_defer(link->usb->event, &link->defer, on_defer, link);
                        if (r < 0) {
                                link->read_pending = false;
                                return r;
                        }
                        sd_event_source_set_description(link->defer, "usb-link-defer");
                }
                return sd_event_source_set_enabled(link->defer, SD_EVENT_ONESHOT);
        }

        r = usb_link_refill(link);
        if (r < 0) {
                if (link->in_count == 0) {
                        link->read_pending = false;
                        return r;
                }
                /* some of it is out already: the read ends when they are back */
                link->read_error = r;
                usb_link_cancel_in(link);
        }
        return 0;
}

int usb_link_readv(UsbLink *link, const UsbIovec *iov, size_t n_iov, unsigned timeout_ms, UsbLinkDone cb,
                   void *userdata) {
        if (n_iov == 0)
                return -EINVAL;
        return usb_link_start_read(link, iov, n_iov, timeout_ms, false, cb, userdata);
}

int usb_link_read(UsbLink *link, void *buf, size_t n, unsigned timeout_ms, UsbLinkDone cb, void *userdata) {
        UsbIovec v = { .base = buf, .len = n };

        if (n == 0)
                return -EINVAL;
        return usb_link_start_read(link, &v, 1, timeout_ms, false, cb, userdata);
}

int usb_link_drain(UsbLink *link, unsigned quiet_ms, UsbLinkDone cb, void *userdata) {
        link->rx_start = link->rx_end = 0;
        link->drain_quiet_ms = MAX(quiet_ms, 1u);
        return usb_link_start_read(link, NULL, 0, USB_DRAIN_MAX_MS, true, cb, userdata);
}

static int usb_link_out_status(UsbLink *link, struct libusb_transfer *t) {
        switch (t->status) {
        case LIBUSB_TRANSFER_COMPLETED:
                return t->actual_length == t->length ? 0 : -EIO;
        case LIBUSB_TRANSFER_TIMED_OUT:
                return -ETIMEDOUT;
        case LIBUSB_TRANSFER_NO_DEVICE:
                link->gone = true;
                return -ENODEV;
        case LIBUSB_TRANSFER_CANCELLED:
                return link->gone ? -ENODEV : -ECANCELED;
        case LIBUSB_TRANSFER_STALL:
                link->out_stalled = true;
                return -EPIPE;
        case LIBUSB_TRANSFER_OVERFLOW:
        case LIBUSB_TRANSFER_ERROR:
                return -EIO;
        }
        return -EIO;
}

static void usb_link_on_out(struct libusb_transfer *t) {
        UsbOut *o = t->user_data;
        UsbLink *link = o->link;
        UsbWrite *w = &link->writes[o->write];
        int r;

        link->bytes_out += (uint64_t) t->actual_length;
        r = usb_link_out_status(link, t);
        o->busy = false;
        link->out_count--;
        w->left--;
        if (r < 0 && w->error == 0) {
                w->error = r;
                /* the rest must not reach the phone out of step */
                usb_link_cancel_out(link);
        }
        if (link->out_count == 0 && link->out_stalled) {
                link->out_stalled = false;
                usb_link_clear_halt(link, link->ep_out);
        }

        /* callbacks in submission order; one may queue the next vector */
        while (link->w_count > 0 && link->writes[link->w_head].left == 0) {
                UsbWrite done = link->writes[link->w_head];

                link->w_head = (link->w_head + 1) % USB_WRITES_MAX;
                link->w_count--;
                if (done.cb)
                        done.cb(link, done.error, done.userdata);
        }
}

int usb_link_writev(UsbLink *link, const UsbIovec *iov, size_t n_iov, unsigned timeout_ms, UsbLinkDone cb,
                    void *userdata) {
        unsigned wi, slot = 0;
        UsbWrite *w;

        if (link->gone)
                return -ENODEV;
        if (n_iov == 0)
                return -EINVAL;
        if (n_iov > USB_OUT_SLOTS)
                return -E2BIG;
        if (link->w_count >= USB_WRITES_MAX || link->out_count + n_iov > USB_OUT_SLOTS)
                return -EBUSY;
        if (link->w_count > 0 && link->writes[(link->w_head + link->w_count - 1) % USB_WRITES_MAX].error != 0)
                return -EBUSY; /* the one before is failing: wait for its callback */
        for (size_t i = 0; i < n_iov; i++)
                if (iov[i].len > INT32_MAX)
                        return -E2BIG;

        wi = (link->w_head + link->w_count) % USB_WRITES_MAX;
        w = &link->writes[wi];
        *w = (UsbWrite) { .cb = cb, .userdata = userdata };

        /* back to back: the phone gets each as its own transfer, and the
         * line never waits for us between them */
        for (size_t i = 0; i < n_iov; i++) {
                uint8_t *data = (uint8_t *) iov[i].base;
                UsbOut *o;
                int r;

                while (link->out[slot].busy)
                        slot++;
                o = &link->out[slot];
                if (iov[i].len <= USB_OUT_INLINE) {
                        if (iov[i].len > 0)
                                memcpy(o->small, iov[i].base, iov[i].len);
                        data = o->small;
                }
                libusb_fill_bulk_transfer(o->xfer, link->handle, link->ep_out, data, (int) iov[i].len,
                                          usb_link_on_out, o, timeout_ms);
                r = libusb_submit_transfer(o->xfer);
                if (r < 0) {
                        if (r == LIBUSB_ERROR_NO_DEVICE)
                                link->gone = true;
                        if (w->left == 0)
                                return errno_from_libusb(r);
                        /* the ones already out end the write when they are back */
                        w->error = errno_from_libusb(r);
                        usb_link_cancel_out(link);
                        break;
                }
                o->busy = true;
                o->write = wi;
                w->left++;
                link->out_count++;
        }
        link->w_count++;
        return 0;
}

int usb_link_write(UsbLink *link, const void *buf, size_t n, unsigned timeout_ms, UsbLinkDone cb, void *userdata) {
        UsbIovec v = { .base = (void *) buf, .len = n };

        return usb_link_writev(link, &v, 1, timeout_ms, cb, userdata);
}

static int on_pause(sd_event_source *s, uint64_t usec, void *userdata) {
        UsbLink *link = userdata;
        UsbLinkDone cb = link->pause_cb;
        void *ud = link->pause_userdata;

        link->pause_cb = NULL;
        if (cb)
                cb(link, link->gone ? -ENODEV : 0, ud);
        return 0;
}

int usb_link_pause(UsbLink *link, unsigned ms, UsbLinkDone cb, void *userdata) {
        /* From the clock, not sd_event_now(): that is when the loop woke up,
         * and one wake-up may have run a whole chain of quick transfers
         * (DA2's upload) since.  1 ms accuracy: sd-event's default slack
         * would add up to 250 ms. */
        uint64_t when = now_us() + (uint64_t) ms * 1000u, accuracy = 1000u;
        int r;

        if (link->pause_cb)
                return -EBUSY;
        if (link->gone)
                return -ENODEV;
        if (!link->pause) {
                r = sd_event_add_time(link->usb->event, &link->pause, CLOCK_MONOTONIC, when, accuracy, on_pause,
                                      link);
                if (r < 0)
                        return r;
                sd_event_source_set_description(link->pause, "usb-link-pause");
        } else {
                r = sd_event_source_set_time(link->pause, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(link->pause, SD_EVENT_ONESHOT);
                if (r < 0)
                        return r;
        }
        link->pause_cb = cb;
        link->pause_userdata = userdata;
        return 0;
}

void usb_link_forget(UsbLink *link) {
        /* the owner is being freed: nothing of it may be called or written
         * when its cancelled transfers come back, possibly while another
         * link's usb_link_free() runs libusb's events */
        link->read_cb = NULL;
        for (unsigned i = 0; i < USB_WRITES_MAX; i++)
                link->writes[i].cb = NULL;
        link->pause_cb = NULL;
        usb_link_cancel(link);
}

void usb_link_cancel(UsbLink *link) {
        /* the reader may free its buffer once this returns, before the
         * cancelled transfers come back; only buffers of the link's own
         * are filled directly, and they live as long as the link */
        if (link->read_pending) {
                link->read_cancelled = true;
                if (link->read_error == 0)
                        link->read_error = link->gone ? -ENODEV : -ECANCELED;
        }
        usb_link_cancel_in(link);
        usb_link_cancel_out(link);
        if (link->defer)
                sd_event_source_set_enabled(link->defer, SD_EVENT_OFF);
        if (link->read_pending && link->in_count == 0)
                usb_link_read_finish(link, -ECANCELED);
        if (link->pause_cb) {
                UsbLinkDone cb = link->pause_cb;

                /* Like a read served from the buffer, a pause has nothing to
                 * wait for: it ends now, so its owner may be freed after this. */
                link->pause_cb = NULL;
                sd_event_source_set_enabled(link->pause, SD_EVENT_OFF);
                cb(link, -ECANCELED, link->pause_userdata);
        }
}

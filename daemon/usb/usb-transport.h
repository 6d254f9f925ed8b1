/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libusb driven by sd-event, and a CDC-ACM "link" to one phone.
 *
 * Every byte between the daemon and a phone goes through usb_link_read*()
 * and usb_link_write*(), so this is also the one place to trace a session.
 * Reads return exactly the number of bytes asked for: the phone sends each
 * protocol field as its own short packet, and we always submit IN
 * transfers of whole max-packet multiples and keep the surplus, so a
 * packet can never overflow our buffer.
 *
 * Bulk data is pipelined: a read keeps several IN transfers in flight (a
 * vector read, e.g. a data packet and its checksum, queues them all at
 * once), and a vector write submits its OUT transfers back to back.  A read
 * into a buffer from usb_link_get_buffer() is filled by the transfers
 * directly, without a copy; such buffers belong to the link, so a transfer
 * still in flight after a cancel can never write into freed memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct UsbContext UsbContext;
typedef struct UsbLink UsbLink;

/* Called when libusb itself has seen a device arrive (see usb_context_open()). */
typedef void (*UsbArrivalFunc)(UsbContext *usb, uint16_t busnum, uint16_t devnum, void *userdata);

int usb_context_new(sd_event *event, UsbContext **ret);
UsbContext *usb_context_free(UsbContext *usb);
void usb_context_set_arrival_callback(UsbContext *usb, UsbArrivalFunc cb, void *userdata);

/* Opens and claims the phone at bus/devnum.  Returns -ENODEV while libusb
 * has not caught up with udev yet: wait for the arrival callback and try
 * again.  Must not be called from within a libusb callback. */
int usb_context_open(UsbContext *usb, uint16_t busnum, uint16_t devnum, UsbLink **ret);

typedef void (*UsbLinkDone)(UsbLink *link, int r, void *userdata);

typedef struct UsbIovec {
        void *base;
        size_t len;
} UsbIovec;

/* Most pieces in one usb_link_readv(), and buffers a link lends. */
#define USB_IOV_MAX 4
#define USB_WRITEV_MAX 8
#define USB_LINK_BUFFERS 4

/* Releases the phone; a kernel driver we detached from its comm interface
 * gets it back (brom.md §1.2). */
UsbLink *usb_link_free(UsbLink *link);
/* Exactly n bytes into buf, or -ETIMEDOUT/-ENODEV/-EIO/-ECANCELED. */
int usb_link_read(UsbLink *link, void *buf, size_t n, unsigned timeout_ms, UsbLinkDone cb, void *userdata);
/* Exactly iov[0].len bytes into iov[0].base, then iov[1]…, one callback. */
int usb_link_readv(UsbLink *link, const UsbIovec *iov, size_t n_iov, unsigned timeout_ms, UsbLinkDone cb,
                   void *userdata);
/* One bulk OUT transfer of n bytes (n == 0 sends a zero-length packet).
 * Up to 64 bytes are copied at once; longer data must stay valid until cb. */
int usb_link_write(UsbLink *link, const void *buf, size_t n, unsigned timeout_ms, UsbLinkDone cb, void *userdata);
/* n_iov (at most USB_WRITEV_MAX) OUT transfers, submitted back to back, one
 * callback when all are back (the first error; the rest are cancelled).
 * Up to four vectors (16 transfers) may be queued (-EBUSY beyond that);
 * callbacks run in submission order. */
int usb_link_writev(UsbLink *link, const UsbIovec *iov, size_t n_iov, unsigned timeout_ms, UsbLinkDone cb,
                    void *userdata);
/* Buffer number index (< USB_LINK_BUFFERS) of at least size bytes, owned by
 * the link and kept until it is freed; reads into it need no copy.  NULL:
 * out of memory, or it would have to grow while transfers are in flight. */
uint8_t *usb_link_get_buffer(UsbLink *link, unsigned index, size_t size);
/* Wait ms milliseconds on the event loop, then call cb with 0 (a phone
 * that vanished meanwhile: -ENODEV); usb_link_cancel() ends it with
 * -ECANCELED.  For the pauses a slow Download Agent needs (da.md §1). */
int usb_link_pause(UsbLink *link, unsigned ms, UsbLinkDone cb, void *userdata);
/* Discard whatever the phone sends until it is quiet for quiet_ms. */
int usb_link_drain(UsbLink *link, unsigned quiet_ms, UsbLinkDone cb, void *userdata);
/* Abort the pending read/write/pause; their callbacks run with -ECANCELED. */
void usb_link_cancel(UsbLink *link);
/* Abort them for an owner that is being freed: no callback runs afterwards. */
void usb_link_forget(UsbLink *link);

bool usb_link_is_gone(UsbLink *link);
uint16_t usb_link_max_packet(UsbLink *link);
uint64_t usb_link_bytes_in(UsbLink *link);
uint64_t usb_link_bytes_out(UsbLink *link);

static inline void usb_link_freep(UsbLink **l) {
        if (*l)
                usb_link_free(*l);
}
static inline void usb_context_freep(UsbContext **u) {
        if (*u)
                usb_context_free(*u);
}

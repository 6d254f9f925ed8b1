/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BROM session and the USB link against the simulated phone: identify
 * a preloader, let it go with brom_session_reset() (the watchdog's software
 * reset), see it come back, and see the kernel driver handed back to the
 * comm interface when the link is released.  Nothing in the daemon calls
 * brom_session_reset() yet, so this drives it directly.
 *
 * Run on its own, the program starts build/mtksim with itself as the
 * command; inside, it talks to the phone through the real libusb.
 */
#include <libgen.h>
#include <libusb.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "brom.h"
#include "macro.h"
#include "sim-client.h"
#include "tap.h"
#include "usb-transport.h"

#define PHONE "r"
#define SIM_BUS 1

static sd_event *event;
static UsbContext *usb;
static BromIdentity identity;


typedef struct Wait {
        bool done;
        int r;
} Wait;

static void on_brom(BromSession *s, int r, void *userdata) {
        Wait *w = userdata;

        w->done = true;
        w->r = r;
}

static int run_until(Wait *w) {
        while (!w->done) {
                int r = sd_event_run(event, 30 * 1000000ULL);

                if (r < 0)
                        return r;
                if (r == 0)
                        return -ETIMEDOUT;
        }
        return w->r;
}

/* A fresh libusb context scans the bus afresh: the phone's current device number. */
static int open_phone(UsbLink **ret) {
        uint8_t devnum = (uint8_t) atoi(sim_stat(PHONE, "devnum"));

        usb = usb_context_free(usb);
        if (usb_context_new(event, &usb) < 0)
                return -EIO;
        return usb_context_open(usb, SIM_BUS, devnum, ret);
}

static int identify(UsbLink *link, BromSession **ret) {
        Wait w = {};
        int r;

        r = brom_session_new(link, true, ret);
        if (r >= 0)
                r = brom_session_identify(*ret, on_brom, &w);
        if (r >= 0)
                r = run_until(&w);
        if (r < 0)
                printf("# identification: %s (%s)\n", strerror(-r), brom_session_get_detail(*ret));
        return r;
}

/* Whether a kernel driver is bound to iface, asked through a libusb context of our own. */
static int driver_active(int iface) {
        libusb_context *ctx = NULL;
        libusb_device_handle *h = NULL;
        libusb_device **list = NULL;
        uint8_t devnum = (uint8_t) atoi(sim_stat(PHONE, "devnum"));
        ssize_t n;
        int r = -ENODEV;

        if (libusb_init(&ctx) < 0)
                return -EIO;
        n = libusb_get_device_list(ctx, &list);
        for (ssize_t i = 0; i < n; i++)
                if (libusb_get_bus_number(list[i]) == SIM_BUS && libusb_get_device_address(list[i]) == devnum &&
                    libusb_open(list[i], &h) == 0)
                        break;
        if (h) {
                r = libusb_kernel_driver_active(h, iface);
                libusb_close(h);
        }
        libusb_free_device_list(list, 1);
        libusb_exit(ctx);
        return r;
}

TEST(identify_then_reset) {
        UsbLink *link = NULL;
        BromSession *s = NULL, *blank = NULL;
        Wait w = {};

        CHECK_EQ_INT(open_phone(&link), 0);
        if (!link)
                return;
        CHECK_EQ_INT(identify(link, &s), 0);
        identity = *brom_session_get_identity(s);
        CHECK(identity.chip && streq(identity.chip->name, "MT6735"));
        CHECK(identity.watchdog_disabled);
        CHECK_EQ_STR(sim_stat(PHONE, "watchdog"), "off");

        /* without an identified chip there is no watchdog to write to */
        CHECK_EQ_INT(brom_session_new(link, true, &blank), 0);
        CHECK_EQ_INT(brom_session_reset(blank, on_brom, &w), -EOPNOTSUPP);
        brom_session_free(blank);

        CHECK_EQ_INT(brom_session_reset(s, on_brom, &w), 0);
        CHECK_EQ_INT(run_until(&w), 0);
        brom_session_free(s);
        usb_link_free(link);

        /* WRITE32 of WDT_SWRST's key to the watchdog base + 0x14 */
        CHECK(sim_control("wait " PHONE " resets=1 timeout-ms=10000") != NULL);
        CHECK_EQ_STR(sim_stat(PHONE, "last_reset"), "wdt-swrst");
        CHECK_EQ_STR(sim_stat(PHONE, "resets"), "1");
}

TEST(back_as_preloader_and_driver_reattached) {
        UsbLink *link = NULL;
        BromSession *s = NULL;

        /* after boot-delay the phone enumerates again, as a preloader in its listen window */
        CHECK(sim_control("wait " PHONE " phase=listen enumerations=2 timeout-ms=10000") != NULL);
        CHECK_EQ_INT(open_phone(&link), 0);
        if (!link)
                return;
        CHECK_EQ_INT(identify(link, &s), 0);
        CHECK_EQ_STR(sim_stat(PHONE, "phase"), "command");
        /* while we hold the phone, cdc_acm is detached from its comm interface */
        CHECK_EQ_INT(driver_active(0), 0);
        brom_session_free(s);
        usb_link_free(link);
        /* released: cdc_acm is back on the comm interface (0), the data interface (1) left alone */
        CHECK_EQ_INT(driver_active(0), 1);
        CHECK_EQ_INT(driver_active(1), 0);
        /* the phone is still in its command loop: releasing it is not a reset */
        CHECK_EQ_STR(sim_stat(PHONE, "resets"), "1");
        CHECK_EQ_STR(sim_stat(PHONE, "phase"), "command");
        usb = usb_context_free(usb);
}


int main(int argc, char *argv[]) {
        static const TapTest tests[] = { TEST_ENTRY(identify_then_reset),
                                         TEST_ENTRY(back_as_preloader_and_driver_reattached) };
        int r;

        /* outside mtksim: run this program inside it, with one preloader-mode MT6735 */
        r = sim_run_self(argv[0], "id=" PHONE ",chip=mt6735");
        if (r >= 0)
                return r;
        if (sd_event_default(&event) < 0)
                return 1;
        r = tap_run(tests, ELEMENTSOF(tests));
        usb_context_free(usb);
        sd_event_unref(event);
        return r;
}

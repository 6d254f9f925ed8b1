/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "mtknv-bus.h"

/* How long we keep asking libusb for a device udev already announced
 * (umockdev-usb.md "Races"): 100 x 20 ms. */
#define OPEN_RETRY_USEC (20ULL * 1000ULL)
#define OPEN_ATTEMPTS_MAX 100

const char *device_state_to_string(DeviceState s) {
        switch (s) {
        case DEVICE_IDLE:         return "idle";
        case DEVICE_IDENTIFYING:  return "identifying";
        case DEVICE_READY:        return "ready";
        case DEVICE_BUSY:         return "busy";
        case DEVICE_RELEASED:     return "released";
        case DEVICE_UNSUPPORTED:  return "unsupported";
        case DEVICE_ERROR:        return "error";
        case DEVICE_DISCONNECTED: return "disconnected";
        }
        return "unknown";
}

static int path_from_id(const char *id, char **ret) {
        return asprintf(ret, "%s/%s", MTKNV_DEVICE_PREFIX, id) < 0 ? -ENOMEM : 0;
}

int device_make_id(const BromIdentity *id, const char *usb_path, char **ret) {
        const uint8_t *key = NULL;
        size_t key_len = 0;
        char *s;

        if (id && id->me_id_len > 0) {
                key = id->me_id;
                key_len = id->me_id_len;
        } else if (id && id->soc_id_len > 0) {
                key = id->soc_id;
                key_len = id->soc_id_len;
        }

        if (key) {
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned md_len = 0;
                char hex[17], chip[16];
                size_t i;

                /* A hash, not the raw ME ID: object paths show up in logs. */
                if (!EVP_Digest(key, key_len, md, &md_len, EVP_sha256(), NULL))
                        return -EIO;
                brom_hex(md, 8, hex);
                snprintf(chip, sizeof(chip), "%s", id->chip ? id->chip->name : "mtk");
                for (i = 0; chip[i]; i++)
                        chip[i] = (char) ((chip[i] >= 'A' && chip[i] <= 'Z') ? chip[i] + 32 : chip[i]);
                if (asprintf(&s, "%s_%s", chip, hex) < 0)
                        return -ENOMEM;
        } else {
                if (asprintf(&s, "port_%s", usb_path) < 0)
                        return -ENOMEM;
                for (char *p = s + 5; *p; p++)
                        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                                *p = '_';
        }
        *ret = s;
        return 0;
}

static void device_set_address(Device *d, const UsbDeviceEvent *ev, bool brom_mode) {
        snprintf(d->usb_path, sizeof(d->usb_path), "%s", ev->sysname);
        d->busnum = ev->busnum;
        d->devnum = ev->devnum;
        d->vid = ev->vid;
        d->pid = ev->pid;
        d->brom_mode = brom_mode;
}

int device_new(const DeviceEnv *env, const UsbDeviceEvent *ev, bool brom_mode, Device **ret) {
        _cleanup_(device_freep) Device *d = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->env = env;
        d->syspath = strdup(ev->syspath);
        if (!d->syspath)
                return -ENOMEM;
        device_set_address(d, ev, brom_mode);
        /* announced as it is: plugged in and about to be identified */
        d->present = true;
        d->state = DEVICE_IDENTIFYING;

        r = device_make_id(NULL, d->usb_path, &id);
        if (r < 0)
                return r;
        r = path_from_id(id, &d->object_path);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(d);
        return 0;
}

static void device_close_session(Device *d) {
        d->close_later = sd_event_source_disable_unref(d->close_later);
        d->brom = brom_session_free(d->brom);
        d->link = usb_link_free(d->link);
        d->open_retry = sd_event_source_disable_unref(d->open_retry);
}

static int on_close_later(sd_event_source *s, void *userdata) {
        Device *d = userdata;

        d->close_later = sd_event_source_disable_unref(d->close_later);
        device_close_session(d);
        return 0;
}

/* Failures are reported from inside libusb callbacks of the very session
 * being torn down; close it from the loop instead. */
static void device_close_session_later(Device *d) {
        if (d->close_later)
                return;
        if (sd_event_add_defer(d->env->event, &d->close_later, on_close_later, d) < 0)
                log_oom();
}

Device *device_free(Device *d) {
        if (!d)
                return NULL;
        device_close_session(d);
        sd_event_source_disable_unref(d->close_later);
        sd_event_source_disable_unref(d->grace_timer);
        sd_event_source_disable_unref(d->return_timer);
        free(d->object_path);
        free(d->syspath);
        free(d->error);
        free(d->error_name);
        free(d->warning);
        free(d->state_reason);
        free(d);
        return NULL;
}

void device_notify(Device *d, ...) {
        const char *names[24];
        size_t n = 0;
        va_list ap;

        va_start(ap, d);
        for (const char *p = va_arg(ap, const char *); p && n < ELEMENTSOF(names) - 1; p = va_arg(ap, const char *))
                names[n++] = p;
        va_end(ap);
        names[n] = NULL;
        if (d->env->events->changed)
                d->env->events->changed(d, names, d->env->userdata);
}

static int free_and_strdup(char **p, const char *s) {
        char *n = NULL;

        if (streq_ptr(*p, s))
                return 0;
        if (s) {
                n = strdup(s);
                if (!n)
                        return -ENOMEM;
        }
        free(*p);
        *p = n;
        return 1;
}

static void device_set_state(Device *d, DeviceState state) {
        if (d->state == state)
                return;
        log_debug("%s: %s -> %s", d->object_path, device_state_to_string(d->state), device_state_to_string(state));
        d->state = state;
        device_notify(d, "State", NULL);
}

static void device_set_reason(Device *d, const char *reason) {
        if (free_and_strdup(&d->state_reason, reason) > 0)
                device_notify(d, "StateReason", NULL);
}

static void device_put_error(Device *d, const char *name, const char *msg) {
        log_error("Phone at USB %s: %s", d->usb_path, msg ?: name);
        free_and_strdup(&d->error, msg ?: "");
        free_and_strdup(&d->error_name, name ?: "");
        device_notify(d, "Error", "ErrorName", NULL);
}

static void device_set_error(Device *d, const char *name, const char *fmt, ...) _printf_(3, 4);
static void device_set_error(Device *d, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        device_put_error(d, name, msg);
        device_set_reason(d, NULL);
        device_set_state(d, DEVICE_ERROR);
}

static void device_clear_error(Device *d) {
        int a = free_and_strdup(&d->error, NULL), b = free_and_strdup(&d->error_name, NULL);

        if (a > 0 || b > 0)
                device_notify(d, "Error", "ErrorName", NULL);
}

static void device_report_failure(Device *d, int r, BromFailure failure, const char *detail) {
        switch (failure) {
        case BROM_FAILURE_HANDSHAKE:
                device_set_error(d, MTKNV_ERROR_HANDSHAKE_FAILED,
                                 "The phone did not complete the download-mode handshake (%s). Another program "
                                 "may be holding the port (ModemManager: install mtknvd's udev rule or stop "
                                 "ModemManager; mtkclient or SP Flash Tool: close them), the cable or hub may "
                                 "be faulty, or the preloader's short window passed. Unplug the phone, keep it "
                                 "powered off, and plug it in again.",
                                 detail);
                break;
        case BROM_FAILURE_GONE:
                device_set_error(d, MTKNV_ERROR_DEVICE_GONE,
                                 "The phone disconnected while it was being identified (%s). Check the cable, "
                                 "keep the phone powered off, and plug it in again.",
                                 detail);
                break;
        case BROM_FAILURE_NONE:
        case BROM_FAILURE_CANCELLED:
        case BROM_FAILURE_REFUSED:
        case BROM_FAILURE_PROTOCOL:
                device_set_error(d, MTKNV_ERROR_PROTOCOL_ERROR,
                                 "The phone sent an answer mtknvd did not expect (%s). A faulty cable or another "
                                 "program writing to the port can cause this. Unplug the phone and plug it in "
                                 "again; if it keeps happening, report it with the output of "
                                 "'mtknvctl show --json %s'.",
                                 detail, d->usb_path);
                break;
        }
        device_close_session_later(d);
}

int device_identity_path(Device *d, char **ret) {
        _cleanup_free_ char *id = NULL;
        int r;

        r = device_make_id(&d->identity, d->usb_path, &id);
        if (r < 0)
                return r;
        return path_from_id(id, ret);
}

int device_set_object_path(Device *d, const char *path) {
        char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        free(d->object_path);
        d->object_path = p;
        return 0;
}

void device_adopt(Device *d, Device *from) {
        d->grace_timer = sd_event_source_disable_unref(d->grace_timer);
        device_close_session(d);
        d->link = TAKE_PTR(from->link);
        d->brom = TAKE_PTR(from->brom);
        free(d->syspath);
        d->syspath = TAKE_PTR(from->syspath);
        memcpy(d->usb_path, from->usb_path, sizeof(d->usb_path));
        d->busnum = from->busnum;
        d->devnum = from->devnum;
        d->vid = from->vid;
        d->pid = from->pid;
        d->brom_mode = from->brom_mode;
        d->plug_in = from->plug_in;
        d->release_boot = from->release_boot;
        d->releasing = false;
        d->present = true;
        d->identity = from->identity;
        d->identified = true;
        device_notify(d, "UsbPath", "UsbVendorId", "UsbProductId", "Mode", "Present", NULL);
}

static void device_on_identified(BromSession *s, int r, void *userdata) {
        Device *d = userdata;
        const BromIdentity *id = brom_session_get_identity(s);
        const char *advice;

        if (r < 0) {
                if (brom_session_get_failure(s) == BROM_FAILURE_CANCELLED)
                        return;
                return device_report_failure(d, r, brom_session_get_failure(s), brom_session_get_detail(s));
        }

        d->identity = *id;
        d->identified = true;
        d = d->env->events->settle(d, d->env->userdata);

        log_info("Phone at USB %s identified: %s (hw code 0x%04x) in %s mode, target config 0x%08x.", d->usb_path,
                 id->chip ? id->chip->name : "unknown chip", id->hw_code, id->is_brom ? "BROM" : "preloader",
                 id->target_config);
        device_notify(d, "Chip", "HwCode", "HwSubCode", "HwVersion", "SwVersion", "BromVersion",
                            "BootloaderVersion", "TargetConfig", "SBC", "SLA", "DAA", "MeId", "SocId", "InterruptedRestore", "Label", NULL);

        advice = brom_target_config_advice(id->target_config);
        if (free_and_strdup(&d->warning, advice) > 0)
                device_notify(d, "Warning", NULL);

        device_set_state(d, DEVICE_READY);
        /* the keeper hands it a waiting request, backs it up, or lets it go */
        d->env->events->identified(d, d->env->userdata);
}

static void device_on_reset(BromSession *s, int r, void *userdata) {
        Device *d = userdata;

        if (r < 0)
                log_warning("Phone at USB %s did not take the reset (%s); it boots when it is unplugged.",
                            d->usb_path, brom_session_get_detail(s));
        else
                log_info("Phone at USB %s released: it reboots and boots normally.", d->usb_path);
        /* inside the session's own callback: close it from the loop */
        device_close_session_later(d);
}

void device_release(Device *d, const char *reason) {
        int r;

        if (!d->present || d->releasing)
                return;
        d->releasing = true;
        d->env->events->released(d, d->env->userdata);
        device_set_reason(d, reason);
        if (d->state != DEVICE_UNSUPPORTED)
                device_set_state(d, DEVICE_RELEASED);
        if (!d->brom) {
                device_close_session_later(d);
                return;
        }
        /* still in the BROM/preloader command loop, watchdog off: only a reset lets it boot */
        r = brom_session_reset(d->brom, device_on_reset, d);
        if (r < 0) {
                log_warning_errno(r, "Cannot reset the phone at USB %s (%m); it boots when it is unplugged.",
                                  d->usb_path);
                device_close_session_later(d);
        }
}

void device_set_unsupported(Device *d, const char *error_name, const char *message) {
        /* reason first: whoever sees the state change can read why */
        device_put_error(d, error_name, message);
        device_set_reason(d, "mtknvd cannot back this phone up (see Error); it was released and boots normally.");
        device_set_state(d, DEVICE_UNSUPPORTED);
        device_release(d, "mtknvd cannot back this phone up (see Error); it was released and boots normally.");
}

void device_begin_operation(Device *d, Job *job, DeviceAbortFunc abort, void *userdata) {
        d->job = job;
        d->abort = abort;
        d->abort_userdata = userdata;
        device_clear_error(d);
        device_set_reason(d, NULL);
        device_notify(d, "Job", NULL);
        device_set_state(d, DEVICE_BUSY);
}

static void device_forget_operation(Device *d) {
        d->job = NULL;
        d->abort = NULL;
        d->abort_userdata = NULL;
        device_notify(d, "Job", NULL);
}

static void device_finish_detach(Device *d);
static int device_schedule_open(Device *d, uint64_t delay_usec);

/* The operation ends with the return window open (cancelled, or failed
 * otherwise): nobody waits for the phone any more.  true: it is away, and
 * is disconnected once the operation's end is told. */
static bool device_close_return(Device *d) {
        bool away = d->away;

        if (!d->returned)
                return false;
        d->returned = NULL;
        d->returned_userdata = NULL;
        d->return_timer = sd_event_source_disable_unref(d->return_timer);
        d->away = false;
        if (away)
                d->present = false;
        return away;
}

static void device_end_operation_now(Device *d, bool released) {
        device_forget_operation(d);
        if (!d->present)
                return;
        if (!released) {
                /* the DA did not take its reboot: nothing more to say to it */
                device_close_session_later(d);
                device_set_reason(d, "The phone did not confirm the reboot; if it does not restart by itself, "
                                     "unplug it.");
                device_set_state(d, DEVICE_RELEASED);
                return;
        }
        d->releasing = true;
        d->env->events->released(d, d->env->userdata);
        device_set_reason(d, "Done; the phone was rebooted and boots normally.");
        device_set_state(d, DEVICE_RELEASED);
}

static void device_fail_operation_now(Device *d, const char *error_name, const char *message, bool released) {
        device_forget_operation(d);
        if (!released) {
                device_set_error(d, error_name, "%s", message);
                if (!d->present)
                        return;
                /* mid-transfer the phone's byte stream is out of step: a new
                 * session needs a replug */
                device_close_session_later(d);
                return;
        }
        device_put_error(d, error_name, message);
        if (!d->present)
                return;
        d->releasing = true;
        d->env->events->released(d, d->env->userdata);
        device_set_reason(d, "The operation failed (see Error); the phone was rebooted and boots normally.");
        device_set_state(d, DEVICE_RELEASED);
}

void device_end_operation(Device *d, bool released) {
        bool away = device_close_return(d);

        device_end_operation_now(d, released);
        if (away)
                device_finish_detach(d);
}

void device_fail_operation(Device *d, const char *error_name, const char *message, bool released) {
        bool away = device_close_return(d);

        device_fail_operation_now(d, error_name, message, released);
        if (away)
                device_finish_detach(d);
}

/* The window ends: the phone is back and open (r == 0), or it is not. */
static void device_end_return(Device *d, int r) {
        DeviceReturnFunc returned = d->returned;
        void *userdata = d->returned_userdata;
        bool away = d->away;

        d->returned = NULL;
        d->returned_userdata = NULL;
        d->return_timer = sd_event_source_disable_unref(d->return_timer);
        d->away = false;
        if (r < 0)
                /* a retry still due would greet the DA with a BROM handshake */
                d->open_retry = sd_event_source_disable_unref(d->open_retry);
        returned(d, r, userdata);
        /* still off the bus: what its leaving would have done without the window */
        if (away)
                device_finish_detach(d);
}

static int on_return_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Device *d = userdata;

        log_warning("Phone at USB %s was not back in time (%s).", d->usb_path,
                    d->away ? "it left the bus and did not come back" : "it never left the bus");
        device_end_return(d, -ETIMEDOUT);
        return 0;
}

int device_expect_return(Device *d, uint32_t usb_id, uint64_t timeout_usec, DeviceReturnFunc returned,
                         void *userdata) {
        int r;

        if (!d->present || !d->job || d->returned)
                return -EBUSY;
        r = sd_event_add_time_relative(d->env->event, &d->return_timer, CLOCK_MONOTONIC, timeout_usec, 0,
                                       on_return_timeout, d);
        if (r < 0)
                return r;
        d->returned = returned;
        d->returned_userdata = userdata;
        d->return_id = usb_id;
        d->away = false;
        log_info("Phone at USB %s re-enumerates: expecting it back as %04x:%04x within %" PRIu64 " s.",
                 d->usb_path, usb_id >> 16, usb_id & 0xffffu, timeout_usec / 1000000u);
        return 0;
}

/* Within the window the phone is the operation's: opened, not identified. */
static int device_reopen(Device *d) {
        int r;

        r = usb_context_open(d->env->usb, d->busnum, d->devnum, &d->link);
        if (r == -ENODEV && ++d->open_attempts < OPEN_ATTEMPTS_MAX)
                return device_schedule_open(d, OPEN_RETRY_USEC);
        if (r < 0)
                log_error_errno(r, "Cannot open the phone at USB %s after it came back: %m", d->usb_path);
        else
                log_info("Phone at USB %s is back (%04x:%04x); the operation goes on.", d->usb_path, d->vid, d->pid);
        device_end_return(d, r);
        return r;
}

/* It appeared on its port within the window: 1 when it is the one
 * expected (it is opened next), 0 when it came back as something else
 * (the window ended; it is handled as any appearance). */
static int device_attach_returned(Device *d, const UsbDeviceEvent *ev) {
        uint32_t id = (uint32_t) ev->vid << 16 | ev->pid;
        int r;

        /* a leaving we did not see: what it left behind is stale */
        device_close_session(d);
        /* Mode stays: it is the phone that came in that mode */
        device_set_address(d, ev, d->brom_mode);
        d->away = false;
        device_notify(d, "UsbVendorId", "UsbProductId", NULL);
        if (id != d->return_id) {
                log_warning("Phone at USB %s came back as %04x:%04x, not as %04x:%04x: it restarted.", d->usb_path,
                            ev->vid, ev->pid, d->return_id >> 16, d->return_id & 0xffffu);
                device_end_return(d, -EMEDIUMTYPE);
                return 0;
        }
        d->open_attempts = 0;
        r = device_schedule_open(d, 0);
        if (r < 0) {
                device_end_return(d, r);
                return r;
        }
        return 1;
}

int device_backup_key(Device *d, const uint8_t *storage_id, size_t len, char **ret) {
        const BromIdentity *id = &d->identity;

        if (id->me_id_len > 0 || id->soc_id_len > 0)
                return device_make_id(id, d->usb_path, ret);
        /* no chip identity: the storage's CID names the phone */
        BromIdentity by_cid = { .chip = id->chip, .me_id_len = MIN(len, sizeof(by_cid.me_id)) };
        memcpy(by_cid.me_id, storage_id, by_cid.me_id_len);
        return device_make_id(&by_cid, d->usb_path, ret);
}

static int device_try_open(Device *d);

static int on_open_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Device *d = userdata;

        d->open_retry = sd_event_source_disable_unref(d->open_retry);
        device_try_open(d);
        return 0;
}

static int device_schedule_open(Device *d, uint64_t delay_usec) {
        int r;

        d->open_retry = sd_event_source_disable_unref(d->open_retry);
        /* accuracy 1 µs: sd-event's default slack (250 ms) would eat a tenth of a
         * preloader's handshake window before the first byte */
        r = sd_event_add_time_relative(d->env->event, &d->open_retry, CLOCK_MONOTONIC, delay_usec, 1,
                                       on_open_retry, d);
        if (r < 0)
                return r;
        /* and before the other phones' bulk data, like the udev event */
        (void) sd_event_source_set_priority(d->open_retry, SD_EVENT_PRIORITY_IMPORTANT);
        return r;
}

static int device_try_open(Device *d) {
        const InhibitorInfo *by;
        int r;

        if (!d->present || d->link)
                return 0;
        if (d->returned)
                return device_reopen(d);
        /* Manager.Inhibit, taken between the decision and the open: another tool has the phone */
        if (inhibitor_registry_covers(d->env->inhibitors, d->usb_path, &by)) {
                log_info("Phone at USB %s left alone: %s (uid %u) inhibits mtknvd: %s", d->usb_path, by->who,
                         (unsigned) by->uid, by->why);
                device_set_reason(d, "Inhibited: another program is using the phone (see 'mtknvctl list').");
                device_set_state(d, DEVICE_IDLE);
                return 0;
        }

        r = usb_context_open(d->env->usb, d->busnum, d->devnum, &d->link);
        if (r == -ENODEV && ++d->open_attempts < OPEN_ATTEMPTS_MAX)
                return device_schedule_open(d, OPEN_RETRY_USEC);
        if (r == -ENODEV) {
                device_set_error(d, MTKNV_ERROR_DEVICE_GONE,
                                 "udev reported the phone at USB %s, but libusb cannot find it. Unplug it and "
                                 "plug it in again.", d->usb_path);
                return r;
        }
        if (r == -EBUSY) {
                device_set_error(d, MTKNV_ERROR_BUSY,
                                 "The phone's USB interface is held by another program (mtkclient, SP Flash "
                                 "Tool, or ModemManager through /dev/ttyACM*). Close it or stop ModemManager, "
                                 "then plug the phone in again.");
                return r;
        }
        if (r < 0) {
                device_set_error(d, MTKNV_ERROR_HANDSHAKE_FAILED, "Cannot open the phone at USB %s: %s.", d->usb_path,
                                 strerror(-r));
                return r;
        }

        r = brom_session_new(d->link, !d->brom_mode, &d->brom);
        if (r >= 0)
                r = brom_session_identify(d->brom, device_on_identified, d);
        if (r < 0) {
                device_report_failure(d, r, r == -ENODEV ? BROM_FAILURE_GONE : BROM_FAILURE_PROTOCOL,
                                      "cannot start the handshake");
                return r;
        }
        return 0;
}

int device_open(Device *d) {
        if (!d->present || d->link || d->state != DEVICE_IDLE)
                return -EBUSY;
        device_set_reason(d, NULL);
        device_set_state(d, DEVICE_IDENTIFYING);
        d->open_attempts = 0;
        return device_schedule_open(d, 0);
}

int device_attach(Device *d, const UsbDeviceEvent *ev, bool brom_mode, bool plug_in) {
        bool mode_changed = d->brom_mode != brom_mode, addr_changed = !streq(d->usb_path, ev->sysname);
        _cleanup_free_ char *reason = NULL;
        char *syspath;

        syspath = strdup(ev->syspath);
        if (!syspath)
                return -ENOMEM;
        free(d->syspath);
        d->syspath = syspath;

        if (d->returned) {
                int r = device_attach_returned(d, ev);

                if (r != 0)
                        return r < 0 ? r : 0;
        }

        d->grace_timer = sd_event_source_disable_unref(d->grace_timer);
        device_close_session(d);
        device_set_address(d, ev, brom_mode);
        d->open_attempts = 0;
        d->present = true;
        d->plug_in = plug_in;
        d->releasing = false;
        device_notify(d, "Present", "UsbVendorId", "UsbProductId", NULL);
        if (mode_changed)
                device_notify(d, "Mode", NULL);
        if (addr_changed)
                device_notify(d, "UsbPath", NULL);

        if (!d->env->events->wants(d, &reason, d->env->userdata)) {
                /* a preloader left alone boots after its window: nothing to undo.
                 * Its boot after mtknvd let it go keeps the session's Error:
                 * the reason it was let go is still the news. */
                if (!d->release_boot)
                        device_clear_error(d);
                log_info("Phone at USB %s (%04x:%04x, %s mode) %s; leaving it alone: %s", d->usb_path, d->vid,
                         d->pid, brom_mode ? "BROM" : "preloader", plug_in ? "plugged in" : "booting",
                         reason ?: "nothing to do.");
                device_set_reason(d, reason);
                device_set_state(d, DEVICE_IDLE);
                return 0;
        }
        device_clear_error(d);
        device_set_reason(d, NULL);
        device_set_state(d, DEVICE_IDENTIFYING);
        log_info("Phone at USB %s (%04x:%04x, %s mode) %s.", d->usb_path, d->vid, d->pid,
                 brom_mode ? "BROM" : "preloader", plug_in ? "plugged in" : "appeared");
        /* Not from here: udev may be ahead of libusb, and we may be
         * inside a libusb callback.  The loop runs the open next. */
        return device_schedule_open(d, 0);
}

void device_usb_arrived(Device *d, uint16_t busnum, uint16_t devnum) {
        if (d->present && !d->link && d->busnum == busnum && d->devnum == devnum && d->open_retry)
                device_schedule_open(d, 0);
}

static int on_grace_expired(sd_event_source *s, uint64_t usec, void *userdata) {
        Device *d = userdata;

        log_info("Phone %s did not come back; forgetting it.", d->object_path);
        d->grace_timer = sd_event_source_disable_unref(d->grace_timer);
        d->env->events->expired(d, d->env->userdata);
        return 0;
}

void device_detach(Device *d) {
        if (!d->present)
                return;
        if (d->returned) {
                /* expected (device_expect_return()): the operation waits for it */
                if (d->away)
                        return;
                device_close_session(d);
                d->away = true;
                log_info("Phone at USB %s left the bus as expected; waiting for it to come back.", d->usb_path);
                return;
        }
        if (d->abort)
                d->abort(MTKNV_ERROR_DEVICE_GONE, NULL, d->abort_userdata);
        device_close_session(d);
        device_finish_detach(d);
}

static void device_finish_detach(Device *d) {
        int r;

        d->present = false;
        d->releasing = false;
        device_notify(d, "Present", NULL);
        if (d->state == DEVICE_RELEASED || d->state == DEVICE_UNSUPPORTED || d->state == DEVICE_IDLE)
                log_info("Phone at USB %s left the bus (booting).", d->usb_path);
        else
                log_info("Phone at USB %s unplugged.", d->usb_path);
        device_set_state(d, DEVICE_DISCONNECTED);

        r = sd_event_add_time_relative(d->env->event, &d->grace_timer, CLOCK_MONOTONIC, d->env->grace_usec, 0,
                                       on_grace_expired, d);
        if (r < 0)
                log_warning_errno(r, "Cannot start grace timer: %m");
}

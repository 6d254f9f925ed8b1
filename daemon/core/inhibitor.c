/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "inhibitor.h"
#include "log.h"
#include "macro.h"

/* A USB path fits Device.UsbPath (64 bytes with its NUL). */
#define INHIBITOR_PORT_MAX 63

typedef struct Inhibitor {
        InhibitorInfo info;  /* first: what the registry hands out */
        InhibitorRegistry *registry;
        int fd;              /* the read end of the holder's pipe */
        sd_event_source *source;
} Inhibitor;

struct InhibitorRegistry {
        sd_event *event;
        Inhibitor **inhibitors;
        size_t n;
        InhibitorChangedFn changed;
        void *userdata;
};

static Inhibitor *inhibitor_free(Inhibitor *i) {
        if (!i)
                return NULL;
        sd_event_source_disable_unref(i->source);
        if (i->fd >= 0)
                close(i->fd);
        free(i->info.who);
        free(i->info.why);
        free(i->info.port);
        return mfree(i);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Inhibitor *, inhibitor_free);

int inhibitor_registry_new(sd_event *event, InhibitorRegistry **ret) {
        InhibitorRegistry *reg = calloc(1, sizeof(*reg));

        if (!reg)
                return -ENOMEM;
        reg->event = sd_event_ref(event);
        *ret = reg;
        return 0;
}

InhibitorRegistry *inhibitor_registry_free(InhibitorRegistry *reg) {
        if (!reg)
                return NULL;
        /* no callbacks from here on: the daemon is going away */
        for (size_t i = 0; i < reg->n; i++)
                inhibitor_free(reg->inhibitors[i]);
        free(reg->inhibitors);
        sd_event_unref(reg->event);
        return mfree(reg);
}

void inhibitor_registry_set_changed_callback(InhibitorRegistry *reg, InhibitorChangedFn fn, void *userdata) {
        reg->changed = fn;
        reg->userdata = userdata;
}

static void inhibitor_registry_notify(InhibitorRegistry *reg) {
        if (reg->changed)
                reg->changed(reg, reg->userdata);
}

static int on_holder_gone(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Inhibitor *i = userdata;
        InhibitorRegistry *reg = i->registry;

        /* Only EPOLLHUP/EPOLLERR arrive here (no events were asked for):
         * the last copy of the write end is closed. */
        log_info("Inhibitor of %s (uid %u) on %s%s ended.", i->info.who, (unsigned) i->info.uid,
                 *i->info.port ? "port " : "all ports", i->info.port);
        for (size_t k = 0; k < reg->n; k++)
                if (reg->inhibitors[k] == i) {
                        /* keep the order: the property lists them oldest first */
                        memmove(reg->inhibitors + k, reg->inhibitors + k + 1, (reg->n - k - 1) * sizeof(Inhibitor *));
                        reg->n--;
                        break;
                }
        inhibitor_free(i);
        inhibitor_registry_notify(reg);
        return 0;
}

/* One UTF-8 sequence at s: its code point and length, or -1 when it is not
 * a valid (shortest-form, non-surrogate) encoding. */
static int utf8_decode(const unsigned char *s, uint32_t *ret_cp) {
        uint32_t cp;
        int len;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                cp = s[0] & 0x1f;
                len = 2;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                cp = s[0] & 0x0f;
                len = 3;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                cp = s[0] & 0x07;
                len = 4;
        } else
                return -1;
        for (int k = 1; k < len; k++) {
                if ((s[k] & 0xc0) != 0x80)
                        return -1;
                cp = (cp << 6) | (s[k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
        *ret_cp = cp;
        return len;
}

bool inhibitor_text_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > INHIBITOR_TEXT_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                uint32_t cp;
                int len = utf8_decode(p, &cp);

                /* C0, DEL and C1 controls could rewrite a terminal showing the log */
                if (len < 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
                        return false;
                p += len;
        }
        return true;
}

bool inhibitor_port_valid(const char *s) {
        const char *p;
        size_t digits = 0;
        bool dash = false;

        if (!s || strlen(s) > INHIBITOR_PORT_MAX)
                return false;
        /* bus number, '-', port numbers joined by '.': "1-1", "3-1.4.2" */
        for (p = s; *p; p++) {
                if (*p >= '0' && *p <= '9') {
                        digits++;
                        continue;
                }
                if (digits == 0 || (*p == '-' && dash) || (*p != '-' && (*p != '.' || !dash)))
                        return false;
                dash = true;
                digits = 0;
        }
        return dash && digits > 0;
}

size_t inhibitor_registry_count(const InhibitorRegistry *reg) {
        return reg ? reg->n : 0;
}

size_t inhibitor_registry_count_uid(const InhibitorRegistry *reg, uid_t uid) {
        size_t n = 0;

        for (size_t i = 0; reg && i < reg->n; i++)
                n += reg->inhibitors[i]->info.uid == uid;
        return n;
}

const InhibitorInfo *inhibitor_registry_get(const InhibitorRegistry *reg, size_t i) {
        return reg && i < reg->n ? &reg->inhibitors[i]->info : NULL;
}

static bool port_covers(const char *port, const char *usb_path) {
        size_t n = strlen(port);

        if (n == 0)
                return true;
        /* the port itself, or a device behind a hub plugged into it */
        return strncmp(port, usb_path, n) == 0 && (usb_path[n] == '\0' || usb_path[n] == '.');
}

bool inhibitor_registry_covers(const InhibitorRegistry *reg, const char *usb_path, const InhibitorInfo **ret_by) {
        for (size_t i = 0; reg && usb_path && i < reg->n; i++)
                if (port_covers(reg->inhibitors[i]->info.port, usb_path)) {
                        if (ret_by)
                                *ret_by = &reg->inhibitors[i]->info;
                        return true;
                }
        return false;
}

int inhibitor_registry_add(InhibitorRegistry *reg, const char *who, const char *why, const char *port, uid_t uid,
                           int *ret_fd) {
        _cleanup_(inhibitor_freep) Inhibitor *i = NULL;
        Inhibitor **a;
        int fds[2], r;

        port = port ?: "";
        if (!inhibitor_text_valid(who) || !inhibitor_text_valid(why) || (*port && !inhibitor_port_valid(port)))
                return -EINVAL;
        if (inhibitor_registry_count_uid(reg, uid) >= INHIBITORS_PER_UID_MAX)
                return -EUSERS;
        if (reg->n >= INHIBITORS_MAX)
                return -ETOOMANYREFS;

        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->fd = -EBADF;
        i->registry = reg;
        i->info.uid = uid;
        i->info.who = strdup(who);
        i->info.why = strdup(why);
        i->info.port = strdup(port);
        if (!i->info.who || !i->info.why || !i->info.port)
                return -ENOMEM;
        a = reallocarray(reg->inhibitors, reg->n + 1, sizeof(Inhibitor *));
        if (!a)
                return -ENOMEM;
        reg->inhibitors = a;

        /* CLOEXEC on both: the holder decides itself what its children inherit */
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return log_warning_errno(errno, "Cannot create an inhibitor pipe: %m");
        i->fd = fds[0];
        r = sd_event_add_io(reg->event, &i->source, i->fd, 0, on_holder_gone, i);
        if (r < 0) {
                close(fds[1]);
                return log_warning_errno(r, "Cannot watch an inhibitor pipe: %m");
        }
        (void) sd_event_source_set_description(i->source, "inhibitor");

        log_info("%s (uid %u) inhibits mtknvd on %s%s: %s", who, (unsigned) uid, *port ? "port " : "all ports", port,
                 why);
        reg->inhibitors[reg->n++] = TAKE_PTR(i);
        *ret_fd = fds[1];
        inhibitor_registry_notify(reg);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "macro.h"

int bus_open(sd_bus **ret) {
        int r = sd_bus_open_system(ret);

        if (r < 0) {
                fprintf(stderr, "Cannot connect to the system bus: %s.\n"
                        "Is D-Bus running? (DBUS_SYSTEM_BUS_ADDRESS selects another bus.)\n", strerror(-r));
                return -EXIT_NO_DAEMON;
        }
        return 0;
}

int bus_report_error(const char *what, int r, const sd_bus_error *error) {
        if (error && sd_bus_error_is_set(error) &&
            (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
             sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))) {
                fprintf(stderr, "%s: mtknvd is not running (nobody owns %s on the system bus).\n"
                        "Start it with 'systemctl start mtknvd' or check 'systemctl status mtknvd'.\n",
                        what, MTKNV_BUS_NAME);
                return EXIT_NO_DAEMON;
        }
        if (error && sd_bus_error_is_set(error)) {
                fprintf(stderr, "%s: %s\n", what, error->message ? error->message : error->name);
                if (sd_bus_error_has_name(error, MTKNV_ERROR_NO_SUCH_DEVICE))
                        return EXIT_NO_DEVICE;
                if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED,
                                           SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                        return EXIT_DENIED;
                return EXIT_FAIL;
        }
        fprintf(stderr, "%s: %s\n", what, strerror(r < 0 ? -r : r));
        return EXIT_FAIL;
}

static int read_string(sd_bus_message *m, char **field) {
        const char *s;
        int r = sd_bus_message_read(m, "v", "s", &s);

        if (r < 0)
                return r;
        free(*field);
        *field = strdup(s);
        return *field ? 0 : -ENOMEM;
}

typedef struct PropertyField {
        const char *name;
        char type;          /* D-Bus type of the property */
        size_t offset;      /* into DeviceInfo */
} PropertyField;

static const PropertyField device_fields[] = {
        { "State", 's', offsetof(DeviceInfo, state) },
        { "StateReason", 's', offsetof(DeviceInfo, state_reason) },
        { "Error", 's', offsetof(DeviceInfo, error) },
        { "ErrorName", 's', offsetof(DeviceInfo, error_name) },
        { "Warning", 's', offsetof(DeviceInfo, warning) },
        { "Mode", 's', offsetof(DeviceInfo, mode) },
        { "UsbPath", 's', offsetof(DeviceInfo, usb_path) },
        { "Chip", 's', offsetof(DeviceInfo, chip) },
        { "MeId", 's', offsetof(DeviceInfo, me_id) },
        { "SocId", 's', offsetof(DeviceInfo, soc_id) },
        { "UsbVendorId", 'q', offsetof(DeviceInfo, vid) },
        { "UsbProductId", 'q', offsetof(DeviceInfo, pid) },
        { "HwCode", 'q', offsetof(DeviceInfo, hw_code) },
        { "HwSubCode", 'q', offsetof(DeviceInfo, hw_sub_code) },
        { "HwVersion", 'q', offsetof(DeviceInfo, hw_version) },
        { "SwVersion", 'q', offsetof(DeviceInfo, sw_version) },
        { "BootloaderVersion", 'y', offsetof(DeviceInfo, bl_version) },
        { "BromVersion", 'y', offsetof(DeviceInfo, brom_version) },
        { "TargetConfig", 'u', offsetof(DeviceInfo, target_config) },
        { "SBC", 'b', offsetof(DeviceInfo, sbc) },
        { "SLA", 'b', offsetof(DeviceInfo, sla) },
        { "DAA", 'b', offsetof(DeviceInfo, daa) },
        { "Present", 'b', offsetof(DeviceInfo, present) },
        { "InterruptedRestore", 'r', offsetof(DeviceInfo, interrupted_backup) },
};

static int read_field(sd_bus_message *m, const PropertyField *f, DeviceInfo *d) {
        char sig[2] = { f->type, 0 };
        uint8_t *p = (uint8_t *) d + f->offset;
        int b, r;

        switch (f->type) {
        case 's':
                return read_string(m, (char **) p);
        case 'r': {
                const char *x, *y, *z;

                r = sd_bus_message_read(m, "v", "(sss)", &x, &y, &z);
                if (r < 0)
                        return r;
                free(d->interrupted_backup);
                free(d->interrupted_snapshot);
                free(d->interrupted_phase);
                d->interrupted_backup = strdup(x);
                d->interrupted_snapshot = strdup(y);
                d->interrupted_phase = strdup(z);
                return d->interrupted_backup && d->interrupted_snapshot && d->interrupted_phase ? 0 : -ENOMEM;
        }
        case 'b':
                r = sd_bus_message_read(m, "v", "b", &b);
                *(bool *) p = b;
                return r;
        default:
                /* q, y and u land in fields of exactly that width */
                return sd_bus_message_read(m, "v", sig, p);
        }
}

int device_info_read(sd_bus_message *m, DeviceInfo *d) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const PropertyField *f = NULL;
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(device_fields); i++)
                        if (strcmp(device_fields[i].name, name) == 0)
                                f = &device_fields[i];
                r = f ? read_field(m, f, d) : sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

void device_info_done(DeviceInfo *d) {
        char **fields[] = { &d->path, &d->id, &d->state, &d->state_reason, &d->error, &d->error_name, &d->warning,
                            &d->mode, &d->usb_path, &d->chip, &d->me_id, &d->soc_id, &d->interrupted_backup,
                            &d->interrupted_snapshot, &d->interrupted_phase };

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                free(*fields[i]);
                *fields[i] = NULL;
        }
}

void device_info_array_free(DeviceInfo *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                device_info_done(&a[i]);
        free(a);
}

static int set_path(DeviceInfo *d, const char *path) {
        const char *slash = strrchr(path, '/');

        d->path = strdup(path);
        d->id = strdup(slash ? slash + 1 : path);
        return d->path && d->id ? 0 : -ENOMEM;
}

int bus_list_devices(sd_bus *bus, DeviceInfo **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        DeviceInfo *a = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, MTKNV_BUS_NAME, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(reply, "o", &path);
                if (r < 0)
                        goto fail;
                r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                if (r < 0)
                        goto fail;
                while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        const char *iface;

                        r = sd_bus_message_read(reply, "s", &iface);
                        if (r < 0)
                                goto fail;
                        if (strcmp(iface, MTKNV_DEVICE_IFACE) == 0) {
                                DeviceInfo *na = realloc(a, (n + 1) * sizeof(DeviceInfo));

                                if (!na) {
                                        r = -ENOMEM;
                                        goto fail;
                                }
                                a = na;
                                a[n] = (DeviceInfo) {};
                                n++;
                                r = set_path(&a[n - 1], path);
                                if (r >= 0)
                                        r = device_info_read(reply, &a[n - 1]);
                        } else
                                r = sd_bus_message_skip(reply, "a{sv}");
                        if (r < 0)
                                goto fail;
                        r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                goto fail;
                }
                if (r < 0)
                        goto fail;
                r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        goto fail;
        }
        if (r < 0)
                goto fail;
        *ret = a;
        *ret_n = n;
        return 0;
fail:
        device_info_array_free(a, n);
        return r;
}

int bus_find_device(DeviceInfo *a, size_t n, const char *arg, DeviceInfo **ret) {
        DeviceInfo *found = NULL;
        size_t len = strlen(arg);

        /* exact matches first: object path, id, USB path */
        for (size_t i = 0; i < n; i++)
                if (strcmp(a[i].path, arg) == 0 || strcmp(a[i].id, arg) == 0 ||
                    (a[i].usb_path && strcmp(a[i].usb_path, arg) == 0)) {
                        *ret = &a[i];
                        return 0;
                }
        for (size_t i = 0; i < n; i++)
                if (len > 0 && strncmp(a[i].id, arg, len) == 0) {
                        if (found)
                                return -ENOTUNIQ;
                        found = &a[i];
                }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

int bus_match_daemon_gone(sd_bus *bus, sd_bus_message_handler_t handler, void *userdata) {
        /* arg0: without it every client that leaves the bus looks like the daemon leaving */
        return sd_bus_add_match(bus, NULL,
                                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" MTKNV_BUS_NAME "'",
                                handler, userdata);
}

void inhibitor_entry_array_free(InhibitorEntry *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].who);
                free(a[i].why);
                free(a[i].port);
        }
        free(a);
}

int bus_list_inhibitors(sd_bus *bus, InhibitorEntry **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        InhibitorEntry *a = NULL;
        const char *who, *why, *port;
        uint32_t uid;
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = sd_bus_get_property(bus, MTKNV_BUS_NAME, MTKNV_MANAGER_PATH, MTKNV_MANAGER_IFACE, "Inhibitors", error,
                                &reply, "a(sssu)");
        if (r < 0 && sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_PROPERTY)) {
                /* an older daemon: it has no inhibitors to show */
                sd_bus_error_free(error);
                return 0;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sssu)", &who, &why, &port, &uid)) > 0) {
                InhibitorEntry *na = realloc(a, (n + 1) * sizeof(InhibitorEntry));

                if (!na) {
                        r = -ENOMEM;
                        break;
                }
                a = na;
                a[n] = (InhibitorEntry) { .who = strdup(who), .why = strdup(why), .port = strdup(port), .uid = uid };
                n++;
                if (!a[n - 1].who || !a[n - 1].why || !a[n - 1].port)
                        r = -ENOMEM;
        }
        if (r < 0) {
                inhibitor_entry_array_free(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

bool inhibitor_entry_covers(const InhibitorEntry *e, const char *usb_path) {
        size_t n = strlen(e->port);

        if (n == 0)
                return true;
        return usb_path && strncmp(e->port, usb_path, n) == 0 && (usb_path[n] == '\0' || usb_path[n] == '.');
}

/* The agent registers with polkit before it closes the descriptor; a broken
 * one must not hang mtknvctl for ever. */
#define POLKIT_AGENT_REGISTER_TIMEOUT_MS (60 * 1000)

/* pkttyagent's path on PATH, into buf; false if there is none. */
static bool find_pkttyagent(char *buf, size_t size) {
        const char *path = getenv("PATH");

        if (!path || !*path)
                path = "/usr/local/bin:/usr/bin:/bin";
        while (*path) {
                size_t n = strcspn(path, ":");

                if (n > 0 && (size_t) snprintf(buf, size, "%.*s/pkttyagent", (int) n, path) < size &&
                    access(buf, X_OK) == 0)
                        return true;
                path += n;
                if (*path == ':')
                        path++;
        }
        return false;
}

int bus_polkit_agent_open(PolkitAgent *a) {
        char agent[PATH_MAX], notify[16];
        struct pollfd pfd;
        int pipe_fd[2], r;
        pid_t parent = getpid(), pid;

        *a = (PolkitAgent) {};
        /* root is never asked; and only someone at a terminal can answer */
        if (geteuid() == 0 || !isatty(STDIN_FILENO))
                return 0;
        if (!find_pkttyagent(agent, sizeof(agent))) {
                a->missing = true;
                return 0;
        }
        if (pipe2(pipe_fd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(pipe_fd[0]);
                close(pipe_fd[1]);
                return r;
        }
        if (pid == 0) {
                sigset_t none;

                /* the agent goes when mtknvctl goes, however it ends */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                        _exit(EXIT_FAIL);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* the one descriptor it is meant to have */
                if (fcntl(pipe_fd[1], F_SETFD, 0) < 0)
                        _exit(EXIT_FAIL);
                /* its prompt goes to the terminal even when our output does not */
                if (!isatty(STDOUT_FILENO)) {
                        int tty = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);

                        if (tty >= 0)
                                dup2(tty, STDOUT_FILENO);
                }
                snprintf(notify, sizeof(notify), "%d", pipe_fd[1]);
                execl(agent, agent, "--notify-fd", notify, "--fallback", (char *) NULL);
                _exit(127);
        }
        close(pipe_fd[1]);
        a->pid = pid;
        /* registered (or gone) when the write end closes */
        pfd = (struct pollfd) { .fd = pipe_fd[0], .events = POLLIN };
        do
                r = poll(&pfd, 1, POLKIT_AGENT_REGISTER_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
        close(pipe_fd[0]);
        if (r == 0)
                fprintf(stderr, "polkit's text agent (%s) did not get ready; going on without it.\n", agent);
        return 0;
}

void bus_polkit_agent_close(PolkitAgent *a) {
        if (a->pid <= 0)
                return;
        (void) kill(a->pid, SIGTERM);
        (void) kill(a->pid, SIGCONT);
        while (waitpid(a->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        a->pid = 0;
}

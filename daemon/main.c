/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <libxml/parser.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "log.h"
#include "manager.h"
#include "manager-dbus.h"

static void help(void) {
        printf("Usage: mtknvd [OPTIONS]\n"
               "\n"
               "Watch for MediaTek phones in BROM or preloader download mode, identify them,\n"
               "and offer them on the D-Bus system bus as org.mtknvd.MtkNv1.\n"
               "Normally started by systemd (udev plug event or D-Bus activation).\n"
               "\n"
               "Options:\n"
               "  -h --help                 Show this help and exit\n"
               "     --version              Show the version and exit\n"
               "  -c --config=PATH          Configuration file (default: " CONFIG_FILE_DEFAULT ")\n"
               "     --user                 Use the session bus instead of the system bus\n"
               "     --state-dir=PATH       Backups and Download Agents live here\n"
               "                            (default: $STATE_DIRECTORY, else " STATE_DIR_DEFAULT ")\n"
               "     --exit-on-idle=SEC     Exit when no phone, job or inhibitor is left this long\n"
               "                            (overrides ExitOnIdleSec=; 0 = never)\n"
               "     --grace-period=SEC     Keep an unplugged phone's object this long\n"
               "                            (overrides ReenumerationGraceSec=)\n"
               "     --polkit-timeout=SEC   Refuse a call polkit has not decided on after SEC\n"
               "                            (default: 25, or 300 when it may ask for a password)\n"
               "  -v --verbose              Log debug messages\n"
               "\n"
               "Environment:\n"
               "  DBUS_SYSTEM_BUS_ADDRESS   Connect to this bus instead of the system bus\n"
               "\n"
               "See mtknvd(8) and mtknvd.conf(5).\n");
}

typedef struct Args {
        const char *config;
        bool user_bus;
        bool verbose;
        const char *grace;
        const char *state_dir;
        const char *idle;
        const char *polkit_timeout;
} Args;

static int parse_argv(int argc, char *argv[], Args *a) {
        enum { ARG_VERSION = 0x100, ARG_USER, ARG_GRACE, ARG_STATE_DIR, ARG_IDLE, ARG_POLKIT_TIMEOUT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, 'c' },
                { "user", no_argument, NULL, ARG_USER },
                { "grace-period", required_argument, NULL, ARG_GRACE },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "exit-on-idle", required_argument, NULL, ARG_IDLE },
                { "polkit-timeout", required_argument, NULL, ARG_POLKIT_TIMEOUT },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hc:v", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("mtknvd %s\n", MTKNVD_VERSION);
                        return 0;
                case 'c':
                        a->config = optarg;
                        break;
                case ARG_USER:
                        a->user_bus = true;
                        break;
                case ARG_GRACE:
                        a->grace = optarg;
                        break;
                case ARG_STATE_DIR:
                        a->state_dir = optarg;
                        break;
                case ARG_IDLE:
                        a->idle = optarg;
                        break;
                case ARG_POLKIT_TIMEOUT:
                        a->polkit_timeout = optarg;
                        break;
                case 'v':
                        a->verbose = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "mtknvd takes no arguments; see --help.\n");
                return -EINVAL;
        }
        return 1;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sd_bus *bus = NULL;
        Args a = { .config = CONFIG_FILE_DEFAULT };
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv, &a);
        if (r <= 0)
                return r;
        log_setup(a.verbose ? LOG_DEBUG : LOG_INFO);

        r = manager_new(&m);
        if (r < 0)
                return log_error_errno(r, "Failed to start: %m");
        r = config_load(&m->config, a.config);
        if (r < 0)
                return r;
        if (a.state_dir) {
                free(m->state_dir);
                m->state_dir = strdup(a.state_dir);
                if (!m->state_dir)
                        return log_oom();
        }
        if (a.idle && config_parse_seconds(a.idle, &m->config.idle_exit_usec) < 0)
                return log_error_errno(EINVAL, "--exit-on-idle= wants seconds, got \"%s\".", a.idle);
        if (a.grace && config_parse_seconds(a.grace, &m->config.grace_usec) < 0)
                return log_error_errno(EINVAL, "--grace-period= wants seconds, got \"%s\".", a.grace);
        if (a.polkit_timeout) {
                uint64_t usec;

                if (config_parse_seconds(a.polkit_timeout, &usec) < 0 || usec == 0)
                        return log_error_errno(EINVAL, "--polkit-timeout= wants a positive number of seconds, got "
                                               "\"%s\".", a.polkit_timeout);
                polkit_registry_set_timeout(m->polkit, usec);
        }

        /* A full disk (or a file size limit) must be an error we report, not a
         * kill; so must a reader that goes away: a caller exporting into a pipe
         * (mtknvctl export-backup ID /dev/stdout | head) fails its own export
         * with EPIPE instead of ending every other phone's job with the daemon. */
        signal(SIGXFSZ, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to handle signals: %m");

        r = a.user_bus ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the %s bus: %m", a.user_bus ? "session" : "system");
        r = manager_start(m);
        if (r >= 0)
                r = manager_dbus_attach(m, bus);
        sd_bus_unref(bus);
        if (r >= 0)
                r = manager_enumerate(m);
        if (r < 0)
                return r;

        /* WATCHDOG_USEC from the unit's WatchdogSec=: sd-event pings for us */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Cannot enable the service watchdog: %m");
        sd_notify(false, "READY=1\nSTATUS=Watching for MediaTek phones.");
        log_info("mtknvd %s ready.", MTKNVD_VERSION);

        r = sd_event_loop(m->event);
        sd_notify(false, "STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

int main(int argc, char *argv[]) {
        /* libxml2 (scatter files, the XML DA) initialises itself on first
         * use, but not thread-safely: once, here, before any worker runs */
        xmlInitParser();
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

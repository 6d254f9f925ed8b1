/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtknvctl agent: the user-session half of mtknvd.  It follows the daemon on
 * the system bus and tells the user, through desktop notifications
 * (org.freedesktop.Notifications on the session bus), when a phone was
 * detected, backed up or restored, when that failed, and when the phone
 * needs them (unplug it, it wants its manufacturer's Download Agent, ...).
 *
 * Only signals drive it: ObjectManager InterfacesAdded/Removed, Device
 * PropertiesChanged, Manager JobNew/JobRemoved, Job Completed and
 * NameOwnerChanged.  The daemon exits when idle and comes back when a phone
 * is plugged in; the matches stay installed at the bus meanwhile, and the
 * agent re-reads the object tree whenever the name gets a new owner.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "bus.h"
#include "macro.h"

#define NOTIFY_NAME       "org.freedesktop.Notifications"
#define NOTIFY_PATH       "/org/freedesktop/Notifications"
#define NOTIFY_APP_NAME   "mtknvd"
#define NOTIFY_ICON       "org.mtknvd.mtknvd"   /* installed to hicolor by make install */
/* the desktop file whose name and icon a notification server may show */
#define NOTIFY_DESKTOP_ID "org.mtknvd.mtknvctl"

enum { URGENCY_LOW = 0, URGENCY_NORMAL = 1, URGENCY_CRITICAL = 2 };

typedef struct Agent Agent;

typedef struct AgentDevice {
        Agent *agent;
        DeviceInfo info;            /* path, id and the Device properties as last seen */
        bool announced;             /* identified once: "detected" decided for this object */
        bool told_interrupted;      /* its interrupted restore was said */
        uint32_t notification;      /* the server's id of our last bubble for this phone */
        sd_bus_slot *notify_slot;   /* a Notify call in flight */
        struct AgentDevice *next;
} AgentDevice;

typedef struct AgentJob {
        char *path, *device, *operation;
        bool waiting;               /* a request still waiting for its phone: not told yet */
        struct AgentJob *next;
} AgentJob;

struct Agent {
        sd_event *event;
        sd_bus *system, *session;
        sd_bus_slot *sync_slot;     /* GetManagedObjects in flight */
        bool synced;                /* the first object tree was read */
        bool notify_failed;         /* said once that notifications cannot be shown */
        AgentDevice *devices;
        AgentJob *jobs;
};

/* ------------------------------------------------------------ bookkeeping */

static AgentDevice *agent_find_device(Agent *a, const char *path) {
        for (AgentDevice *d = a->devices; d; d = d->next)
                if (path && strcmp(d->info.path, path) == 0)
                        return d;
        return NULL;
}

static int agent_add_device(Agent *a, const char *path, AgentDevice **ret) {
        AgentDevice *d = agent_find_device(a, path);
        const char *slash;

        if (d) {
                *ret = d;
                return 0;
        }
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        slash = strrchr(path, '/');
        d->agent = a;
        d->info.path = strdup(path);
        d->info.id = strdup(slash ? slash + 1 : path);
        if (!d->info.path || !d->info.id) {
                device_info_done(&d->info);
                free(d);
                return -ENOMEM;
        }
        d->next = a->devices;
        a->devices = d;
        *ret = d;
        return 1;
}

static void agent_device_free(AgentDevice *d) {
        /* a reply still on its way must not land in freed memory */
        sd_bus_slot_unref(d->notify_slot);
        device_info_done(&d->info);
        free(d);
}

static void agent_remove_device(Agent *a, const char *path) {
        for (AgentDevice **p = &a->devices; *p; p = &(*p)->next)
                if (strcmp((*p)->info.path, path) == 0) {
                        AgentDevice *d = *p;

                        *p = d->next;
                        agent_device_free(d);
                        return;
                }
}

static AgentJob *agent_find_job(Agent *a, const char *path) {
        for (AgentJob *j = a->jobs; j; j = j->next)
                if (strcmp(j->path, path) == 0)
                        return j;
        return NULL;
}

static int agent_add_job(Agent *a, const char *path, AgentJob **ret) {
        AgentJob *j = agent_find_job(a, path);

        if (j) {
                *ret = j;
                return 0;
        }
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->path = strdup(path);
        if (!j->path) {
                free(j);
                return -ENOMEM;
        }
        j->next = a->jobs;
        a->jobs = j;
        *ret = j;
        return 1;
}

static void agent_remove_job(Agent *a, AgentJob *job) {
        for (AgentJob **p = &a->jobs; *p; p = &(*p)->next)
                if (*p == job) {
                        *p = job->next;
                        free(job->path);
                        free(job->device);
                        free(job->operation);
                        free(job);
                        return;
                }
}

static bool agent_device_has_job(Agent *a, const AgentDevice *d) {
        for (AgentJob *j = a->jobs; j; j = j->next)
                if (j->device && strcmp(j->device, d->info.path) == 0)
                        return true;
        return false;
}

static void agent_forget_all(Agent *a) {
        while (a->devices) {
                AgentDevice *d = a->devices;

                a->devices = d->next;
                agent_device_free(d);
        }
        while (a->jobs)
                agent_remove_job(a, a->jobs);
}

/* ------------------------------------------------------------ wording */

static bool is_empty(const char *s) {
        return !s || !*s;
}

static bool streq_ptr(const char *a, const char *b) {
        return strcmp(a ?: "", b ?: "") == 0;
}

/* "MT6735 phone", or just "Phone" before the chip is known; with a label
 * (mtknvctl label): "“Anna's phone” (MT6735)". */
static void device_name(const AgentDevice *d, char *buf, size_t size) {
        if (d && !is_empty(d->info.label))
                snprintf(buf, size, "\u201c%s\u201d (%s)", d->info.label, is_empty(d->info.chip) ? "MediaTek" : d->info.chip);
        else if (d && !is_empty(d->info.chip))
                snprintf(buf, size, "%s phone", d->info.chip);
        else
                snprintf(buf, size, "Phone");
}

/* A few words for the summary line; the daemon's message (the body) has the
 * cause and the remedy. */
static const char *error_title(const char *error_name) {
        static const struct {
                const char *name, *title;
        } titles[] = {
                { MTKNV_ERROR_HANDSHAKE_FAILED, "no answer to the download-mode handshake" },
                { MTKNV_ERROR_DEVICE_GONE, "disconnected too early" },
                { MTKNV_ERROR_PROTOCOL_ERROR, "unexpected answer from the phone" },
                { MTKNV_ERROR_UNKNOWN_CHIP, "unknown chip" },
                { MTKNV_ERROR_BUSY, "busy" },
                { MTKNV_ERROR_NOT_SUPPORTED, "not supported by this version of mtknvd" },
                { MTKNV_ERROR_AUTH_REQUIRED, "it needs its manufacturer's authorisation (SLA)" },
                { MTKNV_ERROR_NO_DOWNLOAD_AGENT, "no Download Agent for this chip" },
                { MTKNV_ERROR_PRELOADER_NEEDED, "BROM mode: the phone's preloader is needed" },
                { MTKNV_ERROR_DA_REJECTED, "Download Agent refused (the phone needs its manufacturer's DA)" },
                { MTKNV_ERROR_VERIFY_FAILED, "the data could not be verified" },
                { MTKNV_ERROR_NO_SPACE, "no space left for backups" },
                { MTKNV_ERROR_CANCELLED, "cancelled" },
                { MTKNV_ERROR_IDENTITY_MISMATCH, "the backup belongs to another phone" },
                { MTKNV_ERROR_LAYOUT_MISMATCH, "the partitions differ from the backup" },
                { MTKNV_ERROR_INVALID_BACKUP, "the backup is damaged" },
        };
        const char *dot = error_name ? strrchr(error_name, '.') : NULL;
        const char *name = dot ? dot + 1 : error_name;

        /* by the last component: the short name a job reports matches as the full one does */
        for (size_t i = 0; name && i < ELEMENTSOF(titles); i++)
                if (strcmp(titles[i].name + strlen(MTKNV_ERROR_PREFIX), name) == 0)
                        return titles[i].title;
        return NULL;
}

/* Notification bodies may be markup (the specification's "body-markup"
 * capability, which the common servers have): the daemon's plain text must
 * not be taken for tags. */
static char *markup_escape(const char *s) {
        size_t n = 1;
        char *out, *p;

        for (const char *c = s; *c; c++)
                n += *c == '&' ? 5 : *c == '<' || *c == '>' ? 4 : 1;
        out = p = malloc(n);
        if (!out)
                return NULL;
        for (const char *c = s; *c; c++)
                p = *c == '&' ? stpcpy(p, "&amp;") :
                    *c == '<' ? stpcpy(p, "&lt;") :
                    *c == '>' ? stpcpy(p, "&gt;") : (*p = *c, p + 1);
        *p = 0;
        return out;
}

/* ------------------------------------------------------------ notifications */

static int on_notify_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        AgentDevice *d = userdata;
        Agent *a = d ? d->agent : NULL;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        uint32_t id;

        if (d)
                d->notify_slot = sd_bus_slot_unref(d->notify_slot);
        if (e) {
                /* a session without a notification server: say so once, keep watching */
                if (!a || !a->notify_failed)
                        fprintf(stderr, "Cannot show a notification: %s\n", e->message ?: e->name);
                if (a)
                        a->notify_failed = true;
                return 0;
        }
        if (d && sd_bus_message_read(m, "u", &id) >= 0)
                d->notification = id;
        return 0;
}

/* One bubble.  A phone's bubbles replace each other ("detected" becomes
 * "backing up" becomes "backed up"), so a plug-in leaves one, not three. */
static void agent_notify(Agent *a, AgentDevice *d, uint8_t urgency, const char *category, const char *summary,
                         const char *body) {
        _cleanup_(message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *escaped = markup_escape(body ?: "");
        sd_bus_slot **slot = NULL;
        int r;

        fprintf(stderr, "%s%s%s\n", summary, is_empty(body) ? "" : ": ", body ?: "");
        if (!escaped)
                return;
        r = sd_bus_message_new_method_call(a->session, &m, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "Notify");
        if (r >= 0)
                r = sd_bus_message_append(m, "susss", NOTIFY_APP_NAME, d ? d->notification : 0, NOTIFY_ICON,
                                          summary, escaped);
        if (r >= 0)
                r = sd_bus_message_append(m, "as", 0);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 3, "urgency", "y", urgency, "category", "s", category,
                                          "desktop-entry", "s", NOTIFY_DESKTOP_ID);
        if (r >= 0)
                r = sd_bus_message_append(m, "i", (int32_t) -1);
        if (r < 0) {
                fprintf(stderr, "Cannot build a notification: %s\n", strerror(-r));
                return;
        }
        if (d) {
                /* the reply of an older bubble would overwrite the newer id */
                d->notify_slot = sd_bus_slot_unref(d->notify_slot);
                slot = &d->notify_slot;
        }
        r = sd_bus_call_async(a->session, slot, m, on_notify_reply, d, 0);
        if (r < 0)
                fprintf(stderr, "Cannot send a notification: %s\n", strerror(-r));
}

static void agent_notify_detected(Agent *a, AgentDevice *d) {
        char summary[400], body[1024];
        bool needs_oem_da = d->info.sla || d->info.daa;

        snprintf(summary, sizeof(summary), "MediaTek phone %s%s%sdetected%s%s", is_empty(d->info.label) ? "" : "\u201c",
                 d->info.label ?: "", is_empty(d->info.label) ? "" : "\u201d ",
                 needs_oem_da ? ": " : "", needs_oem_da ? "it needs its manufacturer's Download Agent" : "");
        snprintf(body, sizeof(body), "%s in %s mode on USB %s.%s%s", is_empty(d->info.chip) ? "Unknown chip" :
                 d->info.chip, is_empty(d->info.mode) ? "download" : d->info.mode, d->info.usb_path ?: "?",
                 is_empty(d->info.warning) ? "" : " ", d->info.warning ?: "");
        agent_notify(a, d, needs_oem_da ? URGENCY_CRITICAL : URGENCY_NORMAL, "device.added", summary, body);
}

static void agent_notify_interrupted(Agent *a, AgentDevice *d) {
        char name[320], summary[512], body[512];

        device_name(d, name, sizeof(name));
        snprintf(summary, sizeof(summary), "Restore of the %s was interrupted", name);
        snprintf(body, sizeof(body), "It may hold a mix of %s and its earlier contents. Run 'mtknvctl restore "
                 "--resume' (or 'mtknvctl restore --resume --rollback') and plug the phone in again, powered off.",
                 d->info.interrupted_backup);
        agent_notify(a, d, URGENCY_CRITICAL, "device.error", summary, body);
}

static void agent_notify_device_error(Agent *a, AgentDevice *d) {
        const char *title = error_title(d->info.error_name);
        char name[320], summary[512];

        device_name(d, name, sizeof(name));
        snprintf(summary, sizeof(summary), "%s: %s", name, title ?: "something went wrong");
        agent_notify(a, d, URGENCY_CRITICAL, "device.error", summary, d->info.error);
}

static const char *operation_noun(const char *operation) {
        return streq_ptr(operation, "backup") ? "Backup" : streq_ptr(operation, "restore") ? "Restore" : "Operation";
}

static void agent_notify_job_started(Agent *a, AgentJob *job) {
        AgentDevice *d = agent_find_device(a, job->device);
        char name[320], summary[512];
        bool restore = streq_ptr(job->operation, "restore");

        device_name(d, name, sizeof(name));
        snprintf(summary, sizeof(summary), "%s %s…", restore ? "Restoring" : "Backing up", name);
        agent_notify(a, d, URGENCY_LOW, "transfer", summary,
                     "Keep the phone plugged in until it reboots; you will be told when it is done.");
}

static void agent_notify_job_done(Agent *a, AgentJob *job, bool success, const char *message) {
        AgentDevice *d = agent_find_device(a, job->device);
        const char *title = d && !success ? error_title(d->info.error_name) : NULL;
        bool restore = streq_ptr(job->operation, "restore");
        char name[320], summary[512];

        device_name(d, name, sizeof(name));
        if (success)
                snprintf(summary, sizeof(summary), "%s %s", name,
                         restore ? "restored" : streq_ptr(job->operation, "backup") ? "backed up" : "done");
        else if (title && strcmp(title, "cancelled") == 0)
                snprintf(summary, sizeof(summary), "%s of the %s cancelled", operation_noun(job->operation), name);
        else
                snprintf(summary, sizeof(summary), "%s of the %s failed%s%s", operation_noun(job->operation), name,
                         title ? ": " : "", title ?: "");
        agent_notify(a, d, success ? URGENCY_NORMAL : URGENCY_CRITICAL,
                     success ? "transfer.complete" : "transfer.error", summary, message);
}

/* ------------------------------------------------------------ what changed */

/* Decide what a change of a phone's properties means to the user.  silent:
 * the state was there before the agent started; nothing happened now. */
static void agent_device_changed(Agent *a, AgentDevice *d, const char *old_error, bool silent) {
        /* A preloader shows up on every boot while USB is attached, and the
         * daemon identifies a plugged-in phone only to decide what to do with
         * it: "detected" alone would be noise.  The user hears of a phone when
         * something happens to it (a job), when it cannot be backed up (its
         * Error), or when it needs them: a phone that takes only its
         * manufacturer's Download Agent.  Once per object, not per attach. */
        if (streq_ptr(d->info.state, "ready") && !d->announced) {
                d->announced = true;
                if (!silent && d->info.daa && !d->info.sla)
                        agent_notify_detected(a, d);
        }
        if (!is_empty(d->info.interrupted_backup) && !d->told_interrupted &&
            (streq_ptr(d->info.state, "released") || streq_ptr(d->info.state, "idle"))) {
                d->told_interrupted = true;
                if (!silent)
                        agent_notify_interrupted(a, d);
        }

        /* a failing job sets the error first; its Completed tells the story */
        if (!is_empty(d->info.error) && !streq_ptr(d->info.error, old_error) && !silent &&
            !agent_device_has_job(a, d))
                agent_notify_device_error(a, d);
}

static int job_read(sd_bus_message *m, AgentJob *job) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *s;
                char **field = NULL;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (strcmp(name, "Operation") == 0) {
                        field = &job->operation;
                        r = sd_bus_message_read(m, "v", "s", &s);
                } else if (strcmp(name, "Device") == 0) {
                        field = &job->device;
                        r = sd_bus_message_read(m, "v", "o", &s);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                if (field) {
                        free(*field);
                        *field = strdup(s);
                        if (!*field)
                                return -ENOMEM;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* One object of InterfacesAdded or GetManagedObjects: (o, a{sa{sv}}) with
 * the object path already read. */
static int agent_read_object(Agent *a, sd_bus_message *m, const char *path, bool silent) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                const char *iface;

                r = sd_bus_message_read(m, "s", &iface);
                if (r < 0)
                        return r;
                if (strcmp(iface, MTKNV_DEVICE_IFACE) == 0) {
                        _cleanup_free_ char *old_error = NULL;
                        AgentDevice *d;

                        r = agent_add_device(a, path, &d);
                        if (r < 0)
                                return r;
                        if (d->info.error) {
                                old_error = strdup(d->info.error);
                                if (!old_error)
                                        return -ENOMEM;
                        }
                        r = device_info_read(m, &d->info);
                        if (r < 0)
                                return r;
                        agent_device_changed(a, d, old_error, silent);
                } else if (strcmp(iface, MTKNV_JOB_IFACE) == 0) {
                        AgentJob *job;
                        int added;

                        added = agent_add_job(a, path, &job);
                        if (added < 0)
                                return added;
                        r = job_read(m, job);
                        if (r < 0)
                                return r;
                        /* a request waiting for "the next phone" is told once it has one */
                        job->waiting = added && streq_ptr(job->device, "/");
                        if (added && !silent && !job->waiting)
                                agent_notify_job_started(a, job);
                } else {
                        r = sd_bus_message_skip(m, "a{sv}");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* ------------------------------------------------------------ signals */

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *path;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r >= 0)
                r = agent_read_object(a, m, path, false);
        if (r < 0)
                fprintf(stderr, "Cannot read InterfacesAdded: %s\n", strerror(-r));
        return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *path, *iface;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(m, "s", &iface)) > 0)
                /* jobs are forgotten on Completed/JobRemoved, which say how they ended */
                if (strcmp(iface, MTKNV_DEVICE_IFACE) == 0)
                        agent_remove_device(a, path);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        AgentDevice *d = agent_find_device(a, sd_bus_message_get_path(m));
        _cleanup_free_ char *old_error = NULL;
        const char *iface;
        int r;

        if (!d)
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || strcmp(iface, MTKNV_DEVICE_IFACE) != 0)
                return 0;
        if (d->info.error && !(old_error = strdup(d->info.error)))
                return -ENOMEM;
        r = device_info_read(m, &d->info);
        if (r < 0) {
                fprintf(stderr, "Cannot read the changes of %s: %s\n", d->info.path, strerror(-r));
                return 0;
        }
        agent_device_changed(a, d, old_error, false);
        return 0;
}

/* A waiting request got its phone (its Device changed). */
static int on_job_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        AgentJob *job = NULL;
        const char *iface;

        for (AgentJob *j = a->jobs; j; j = j->next)
                if (streq_ptr(j->path, sd_bus_message_get_path(m)))
                        job = j;
        if (!job || sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, MTKNV_JOB_IFACE) != 0)
                return 0;
        if (job_read(m, job) < 0)
                return 0;
        if (job->waiting && !streq_ptr(job->device, "/")) {
                job->waiting = false;
                agent_notify_job_started(a, job);
        }
        return 0;
}

static int on_job_new(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *path;
        AgentJob *job;
        uint32_t id;

        /* InterfacesAdded brings the job's properties; this only makes sure
         * the job is known even if that came first or not at all */
        if (sd_bus_message_read(m, "uo", &id, &path) >= 0)
                (void) agent_add_job(a, path, &job);
        return 0;
}

static int on_job_completed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *message;
        AgentJob *job;
        int success;

        if (sd_bus_message_read(m, "bs", &success, &message) < 0)
                return 0;
        if (agent_add_job(a, sd_bus_message_get_path(m), &job) < 0)
                return -ENOMEM;
        agent_notify_job_done(a, job, success, message);
        agent_remove_job(a, job);
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *path, *result;
        AgentJob *job;
        uint32_t id;

        if (sd_bus_message_read(m, "uos", &id, &path, &result) < 0)
                return 0;
        job = agent_find_job(a, path);
        if (!job)
                return 0;       /* Completed said it already */
        agent_notify_job_done(a, job, strcmp(result, "done") == 0, strcmp(result, "done") == 0 ? "" : result);
        agent_remove_job(a, job);
        return 0;
}

static int on_managed_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        bool silent = !a->synced;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        a->sync_slot = sd_bus_slot_unref(a->sync_slot);
        a->synced = true;
        if (e) {
                /* not running: it announces itself with NameOwnerChanged when it starts */
                if (!sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) &&
                    !sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        fprintf(stderr, "Cannot read mtknvd's objects: %s\n", e->message ?: e->name);
                return 0;
        }
        r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(m, "o", &path);
                if (r >= 0)
                        r = agent_read_object(a, m, path, silent);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                fprintf(stderr, "Cannot read mtknvd's objects: %s\n", strerror(-r));
        return 0;
}

/* Read the daemon's object tree, without starting it: an agent in every
 * session must not keep a daemon that wants to exit on idle alive. */
static int agent_sync(Agent *a) {
        _cleanup_(message_unrefp) sd_bus_message *m = NULL;
        int r;

        a->sync_slot = sd_bus_slot_unref(a->sync_slot);
        r = sd_bus_message_new_method_call(a->system, &m, MTKNV_BUS_NAME, "/", "org.freedesktop.DBus.ObjectManager",
                                           "GetManagedObjects");
        if (r >= 0)
                r = sd_bus_message_set_auto_start(m, false);
        if (r >= 0)
                r = sd_bus_call_async(a->system, &a->sync_slot, m, on_managed_objects, a, 0);
        return r;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *name, *old_owner, *new_owner;
        int r;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (!is_empty(old_owner)) {
                /* exit on idle happens without jobs; one still running means it died */
                for (AgentJob *j = a->jobs; j; j = j->next)
                        agent_notify_job_done(a, j, false, "mtknvd stopped before the operation finished.");
                agent_forget_all(a);
        }
        if (!is_empty(new_owner)) {
                r = agent_sync(a);
                if (r < 0)
                        fprintf(stderr, "Cannot read mtknvd's objects: %s\n", strerror(-r));
        }
        return 0;
}

static int on_quit(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Agent *a = userdata;

        return sd_event_exit(a->event, EXIT_OK);
}

/* ------------------------------------------------------------ main */

static int agent_subscribe(Agent *a) {
        static const struct {
                const char *match;
                sd_bus_message_handler_t handler;
        } matches[] = {
                { "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus.ObjectManager',"
                  "member='InterfacesAdded',path='/'", on_interfaces_added },
                { "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus.ObjectManager',"
                  "member='InterfacesRemoved',path='/'", on_interfaces_removed },
                { "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
                  "member='PropertiesChanged',path_namespace='" MTKNV_DEVICE_PREFIX "'", on_properties_changed },
                { "type='signal',sender='" MTKNV_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
                  "member='PropertiesChanged',path_namespace='" MTKNV_JOB_PREFIX "'", on_job_properties_changed },
                { "type='signal',sender='" MTKNV_BUS_NAME "',interface='" MTKNV_MANAGER_IFACE "',member='JobNew',"
                  "path='" MTKNV_MANAGER_PATH "'", on_job_new },
                { "type='signal',sender='" MTKNV_BUS_NAME "',interface='" MTKNV_MANAGER_IFACE "',member='JobRemoved',"
                  "path='" MTKNV_MANAGER_PATH "'", on_job_removed },
                { "type='signal',sender='" MTKNV_BUS_NAME "',interface='" MTKNV_JOB_IFACE "',member='Completed',"
                  "path_namespace='" MTKNV_JOB_PREFIX "'", on_job_completed },
                { "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                  "member='NameOwnerChanged',path='/org/freedesktop/DBus',arg0='" MTKNV_BUS_NAME "'",
                  on_owner_changed },
        };
        int r;

        /* sd_bus_add_match() waits for the bus to confirm: once this returns
         * nothing the daemon says can pass unseen */
        for (size_t i = 0; i < ELEMENTSOF(matches); i++) {
                r = sd_bus_add_match(a->system, NULL, matches[i].match, matches[i].handler, a);
                if (r < 0)
                        return r;
        }
        return 0;
}

int verb_agent(sd_bus *bus, const Args *args, int argc, char **argv) {
        _cleanup_(event_unrefp) sd_event *event = NULL;
        _cleanup_(bus_unrefp) sd_bus *session = NULL;
        Agent a = { .system = bus };
        sigset_t mask;
        int r;

        if (argc != 1) {
                fprintf(stderr, "agent takes no arguments.\n");
                return EXIT_USAGE;
        }
        r = sd_bus_open_user(&session);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to the session bus: %s.\n"
                        "The agent belongs in a desktop session (DBUS_SESSION_BUS_ADDRESS selects the bus).\n",
                        strerror(-r));
                return EXIT_FAIL;
        }
        a.session = session;

        r = sd_event_default(&event);
        if (r < 0)
                return bus_report_error("Cannot create an event loop", r, NULL);
        a.event = event;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(event, NULL, SIGINT, on_quit, &a);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, on_quit, &a);
        if (r < 0)
                return bus_report_error("Cannot watch for signals", r, NULL);

        r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_attach_event(session, event, 0);
        /* a system bus that goes away (dbus restarted) ends the agent with a
         * failure, so that systemd's Restart= brings it back; the session bus
         * going away means the session is over */
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(bus, true);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(session, true);
        if (r < 0)
                return bus_report_error("Cannot attach to the buses", r, NULL);

        r = agent_subscribe(&a);
        if (r < 0)
                return bus_report_error("Cannot subscribe to mtknvd's signals", r, NULL);
        r = agent_sync(&a);
        if (r < 0)
                return bus_report_error("Cannot read mtknvd's objects", r, NULL);

        /* Taking the name last makes it the readiness signal (the user unit is
         * Type=dbus): whoever sees it owned knows the agent is listening. */
        r = sd_bus_request_name(session, MTKNV_AGENT_BUS_NAME, 0);
        if (r == -EEXIST) {
                fprintf(stderr, "Another mtknvctl agent runs in this session; leaving the notifications to it.\n");
                agent_forget_all(&a);
                sd_bus_slot_unref(a.sync_slot);
                return EXIT_OK;
        }
        if (r < 0) {
                agent_forget_all(&a);
                sd_bus_slot_unref(a.sync_slot);
                return bus_report_error("Cannot take the agent's name on the session bus", r, NULL);
        }

        r = sd_event_loop(event);
        agent_forget_all(&a);
        sd_bus_slot_unref(a.sync_slot);
        if (r < 0)
                return bus_report_error("The event loop failed", r, NULL);
        return r == EXIT_OK ? EXIT_OK : EXIT_FAIL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int config_init(Config *c) {
        *c = (Config) { .grace_usec = CONFIG_GRACE_USEC_DEFAULT, .auto_backup = AUTO_BACKUP_FIRST_SEEN,
                        .boot_window_usec = CONFIG_BOOT_WINDOW_USEC_DEFAULT,
                        .file_timeout_usec = CONFIG_FILE_TIMEOUT_USEC_DEFAULT };
        c->identity_spec = strdup(CONFIG_IDENTITY_DEFAULT);
        if (!c->identity_spec)
                return -ENOMEM;
        return usb_id_list_default(&c->usb_ids);
}

void config_done(Config *c) {
        usb_id_list_done(&c->usb_ids);
        free(c->identity_spec);
        for (size_t i = 0; i < c->n_download_agents; i++)
                free(c->download_agents[i]);
        free(c->download_agents);
        *c = (Config) {};
}

/* A positive number, or "infinity" (0: no limit). */
static int config_parse_count(const char *s, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;

        if (streq(s, "infinity")) {
                *ret = 0;
                return 0;
        }
        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

const char *auto_backup_to_string(AutoBackup a) {
        switch (a) {
        case AUTO_BACKUP_FIRST_SEEN: return "first-seen";
        case AUTO_BACKUP_ALWAYS:     return "always";
        case AUTO_BACKUP_NEVER:      return "never";
        }
        return "unknown";
}

int auto_backup_from_string(const char *s, AutoBackup *ret) {
        for (AutoBackup a = AUTO_BACKUP_FIRST_SEEN; a <= AUTO_BACKUP_NEVER; a++)
                if (streq(s, auto_backup_to_string(a))) {
                        *ret = a;
                        return 0;
                }
        return -EINVAL;
}

static int config_add_download_agents(Config *c, const char *value) {
        const char *p = value;

        /* "DownloadAgent=" with nothing resets the list, as systemd does */
        if (*value == 0) {
                for (size_t i = 0; i < c->n_download_agents; i++)
                        free(c->download_agents[i]);
                c->n_download_agents = 0;
                return 0;
        }
        while (*p) {
                size_t len = strcspn(p, " \t");
                char **n;

                if (len == 0) {
                        p++;
                        continue;
                }
                if (p[0] != '/')
                        return -EINVAL;
                n = reallocarray(c->download_agents, c->n_download_agents + 1, sizeof(char *));
                if (!n)
                        return -ENOMEM;
                c->download_agents = n;
                n[c->n_download_agents] = strndup(p, len);
                if (!n[c->n_download_agents])
                        return -ENOMEM;
                c->n_download_agents++;
                p += len;
        }
        return 0;
}

int config_parse_seconds(const char *s, uint64_t *ret_usec) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || *end != 0 || !isfinite(v) || v < 0 || v > 86400.0 * 365)
                return -EINVAL;
        *ret_usec = (uint64_t) (v * 1e6);
        return 0;
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

int config_load(Config *c, const char *path) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        unsigned n = 0;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                return log_error_errno(errno, "Cannot read configuration %s: %m", path);
        }

        while (getline(&line, &cap, f) >= 0) {
                char *l = strip(line), *eq, *key, *value;

                n++;
                if (*l == 0 || *l == '#' || *l == ';' || *l == '[')
                        continue;
                eq = strchr(l, '=');
                if (!eq) {
                        r = log_error_errno(EINVAL, "%s:%u: expected Key=Value, got \"%s\".", path, n, l);
                        break;
                }
                *eq = 0;
                key = strip(l);
                value = strip(eq + 1);

                if (streq(key, "UsbIds")) {
                        if (usb_id_list_parse(&c->usb_ids, value) < 0) {
                                r = log_error_errno(EINVAL, "%s:%u: UsbIds= wants entries like "
                                                    "\"0e8d:2000:preloader 0e8d:0003:brom\".", path, n);
                                break;
                        }
                } else if (streq(key, "ReenumerationGraceSec")) {
                        if (config_parse_seconds(value, &c->grace_usec) < 0) {
                                r = log_error_errno(EINVAL, "%s:%u: ReenumerationGraceSec= wants seconds, "
                                                    "got \"%s\".", path, n, value);
                                break;
                        }
                } else if (streq(key, "AutoBackup")) {
                        if (auto_backup_from_string(value, &c->auto_backup) < 0) {
                                r = log_error_errno(EINVAL, "%s:%u: AutoBackup= wants first-seen, always or never, "
                                                    "got \"%s\".", path, n, value);
                                break;
                        }
                } else if (streq(key, "IdentityPartitions")) {
                        char *v = strdup(value);

                        if (!v || !*value) {
                                free(v);
                                r = log_error_errno(EINVAL, "%s:%u: IdentityPartitions= wants a comma-separated "
                                                    "list of partition names.", path, n);
                                break;
                        }
                        free(c->identity_spec);
                        c->identity_spec = v;
                } else if (streq(key, "DownloadAgent")) {
                        if (config_add_download_agents(c, value) < 0) {
                                r = log_error_errno(EINVAL, "%s:%u: DownloadAgent= wants absolute paths of DA "
                                                    "files, got \"%s\".", path, n, value);
                                break;
                        }
                } else if (streq(key, "BootWindowSec")) {
                        if (config_parse_seconds(value, &c->boot_window_usec) < 0) {
                                r = log_error_errno(EINVAL, "%s:%u: BootWindowSec= wants seconds, got \"%s\".",
                                                    path, n, value);
                                break;
                        }
                } else if (streq(key, "ExitOnIdleSec")) {
                        if (config_parse_seconds(value, &c->idle_exit_usec) < 0) {
                                r = log_error_errno(EINVAL, "%s:%u: ExitOnIdleSec= wants seconds, got \"%s\".",
                                                    path, n, value);
                                break;
                        }
                } else if (streq(key, "FileTimeoutSec")) {
                        if (config_parse_seconds(value, &c->file_timeout_usec) < 0 || c->file_timeout_usec == 0) {
                                r = log_error_errno(EINVAL, "%s:%u: FileTimeoutSec= wants seconds (more than 0), "
                                                    "got \"%s\".", path, n, value);
                                break;
                        }
                } else if (streq(key, "KeepLast")) {
                        if (config_parse_count(value, &c->keep_last) < 0) {
                                r = log_error_errno(EINVAL, "%s:%u: KeepLast= wants a number of backups (1 or more) "
                                                    "or \"infinity\", got \"%s\".", path, n, value);
                                break;
                        }
                } else if (streq(key, "KeepPreRestoreDays")) {
                        uint64_t days;

                        if (config_parse_count(value, &days) < 0 || days > UINT64_MAX / (24ULL * 3600ULL * 1000000ULL)) {
                                r = log_error_errno(EINVAL, "%s:%u: KeepPreRestoreDays= wants a number of days (1 or "
                                                    "more) or \"infinity\", got \"%s\".", path, n, value);
                                break;
                        }
                        c->keep_pre_restore_usec = days * 24ULL * 3600ULL * 1000000ULL;
                } else
                        log_warning("%s:%u: unknown key \"%s\", ignoring.", path, n, key);
        }
        fclose(f);
        return r;
}

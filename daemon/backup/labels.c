/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "labels.h"
#include "log.h"
#include "macro.h"

#define LABELS_FILE "labels"
#define LABELS_FILE_MAX (4u * 1024u * 1024u)

static const char *const kind_names[_LABEL_KIND_MAX] = {
        [LABEL_PHONE] = "phone",
        [LABEL_BACKUP] = "backup",
};

typedef struct Label {
        LabelKind kind;
        char *key, *text;
} Label;

struct LabelStore {
        char *state_dir;      /* NULL: in memory only */
        Label *labels;
        size_t n;
};

/* One UTF-8 sequence at s: its code point and length, or -1 when invalid
 * (overlong forms and surrogates included). */
static int utf8_next(const unsigned char *s, uint32_t *ret_cp) {
        uint32_t cp, min;
        int len;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if ((s[0] & 0xe0) == 0xc0)
                len = 2, cp = s[0] & 0x1f, min = 0x80;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, cp = s[0] & 0x0f, min = 0x800;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, cp = s[0] & 0x07, min = 0x10000;
        else
                return -1;
        for (int i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return -1;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
        *ret_cp = cp;
        return len;
}

/* parse_error()'s sentence, and -EINVAL: a label is a caller's argument, not a file. */
static int label_refuse(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int label_refuse(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

int label_check(const char *text, char **ret_error) {
        const unsigned char *p = (const unsigned char *) text;
        size_t chars = 0;

        if (strlen(text) > LABEL_MAX_BYTES)
                return label_refuse(ret_error, "a label is at most %d characters long", LABEL_MAX_CHARS);
        while (*p) {
                uint32_t cp;
                int k = utf8_next(p, &cp);

                if (k < 0)
                        return label_refuse(ret_error, "the label is not valid UTF-8 (byte %zu)",
                                            (size_t) (p - (const unsigned char *) text));
                if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
                        return label_refuse(ret_error, "the label holds a control character (U+%04X at character "
                                            "%zu): use printable text only", (unsigned) cp, chars + 1);
                p += k;
                chars++;
        }
        if (chars > LABEL_MAX_CHARS)
                return label_refuse(ret_error, "the label is %zu characters long; at most %d are allowed", chars,
                                    LABEL_MAX_CHARS);
        return 0;
}

int label_store_new_memory(LabelStore **ret) {
        LabelStore *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

LabelStore *label_store_free(LabelStore *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                free(s->labels[i].key);
                free(s->labels[i].text);
        }
        free(s->labels);
        free(s->state_dir);
        return mfree(s);
}

static Label *label_find(const LabelStore *s, LabelKind kind, const char *key) {
        for (size_t i = 0; i < s->n; i++)
                if (s->labels[i].kind == kind && streq(s->labels[i].key, key))
                        return &s->labels[i];
        return NULL;
}

const char *label_store_get(const LabelStore *s, LabelKind kind, const char *key) {
        const Label *l = s ? label_find(s, kind, key) : NULL;

        return l ? l->text : "";
}

/* In memory only; takes nothing. */
static int label_store_put(LabelStore *s, LabelKind kind, const char *key, const char *text) {
        Label *l = label_find(s, kind, key), *n;
        char *t, *k;

        if (!text[0]) {
                if (l) {
                        free(l->key);
                        free(l->text);
                        *l = s->labels[--s->n];
                }
                return 0;
        }
        t = strdup(text);
        if (!t)
                return -ENOMEM;
        if (l) {
                free(l->text);
                l->text = t;
                return 0;
        }
        k = strdup(key);
        n = k ? reallocarray(s->labels, s->n + 1, sizeof(Label)) : NULL;
        if (!n) {
                free(k);
                free(t);
                return -ENOMEM;
        }
        s->labels = n;
        s->labels[s->n++] = (Label) { .kind = kind, .key = k, .text = t };
        return 0;
}

static bool key_ok(LabelKind kind, const char *key) {
        return key[0] && !strpbrk(key, "\t\n\r") && strlen(key) < 256;
}

int label_store_parse(LabelStore *s, const char *text) {
        const char *line = text;

        while (*line) {
                const char *end = strchrnul(line, '\n');
                _cleanup_free_ char *l = strndup(line, (size_t) (end - line));
                char *tab1, *tab2;
                LabelKind kind = _LABEL_KIND_MAX;
                int r;

                if (!l)
                        return -ENOMEM;
                line = *end ? end + 1 : end;
                if (!l[0])
                        continue;
                tab1 = strchr(l, '\t');
                tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
                if (tab2) {
                        *tab1 = *tab2 = 0;
                        for (LabelKind k = 0; k < _LABEL_KIND_MAX; k++)
                                if (streq(l, kind_names[k]))
                                        kind = k;
                }
                if (kind == _LABEL_KIND_MAX || !key_ok(kind, tab1 + 1) || label_check(tab2 + 1, NULL) < 0 ||
                    !tab2[1]) {
                        log_warning("Ignoring a malformed line in the labels file.");
                        continue;
                }
                r = label_store_put(s, kind, tab1 + 1, tab2 + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int label_store_format(const LabelStore *s, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++)
                fprintf(f, "%s\t%s\t%s\n", kind_names[s->labels[i].kind], s->labels[i].key, s->labels[i].text);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int label_store_open(const char *state_dir, LabelStore **ret) {
        _cleanup_(label_store_freep) LabelStore *s = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size = 0;
        int r;

        r = label_store_new_memory(&s);
        if (r < 0)
                return r;
        s->state_dir = strdup(state_dir);
        if (!s->state_dir || asprintf(&path, "%s/" LABELS_FILE, state_dir) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno != ENOENT)
                return log_error_errno(errno, "Cannot open %s: %m", path);
        if (fd >= 0) {
                r = read_fd_capped(fd, LABELS_FILE_MAX, &data, &size);
                if (r < 0)
                        return log_error_errno(r, "Cannot read %s: %m", path);
                if (memchr(data, 0, size))
                        log_warning("%s holds a NUL byte: the labels after it are ignored.", path);
                else {
                        char *text = strndup((const char *) data, size);

                        if (!text)
                                return -ENOMEM;
                        r = label_store_parse(s, text);
                        free(text);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* STATE/labels replaced by the store's text, crash-safe. */
static int label_store_write(const LabelStore *s) {
        _cleanup_free_ char *text = NULL, *tmp = NULL, *path = NULL;
        _cleanup_close_ int dfd = -EBADF;
        size_t len;
        int fd, r;

        r = label_store_format(s, &text);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/" LABELS_FILE, s->state_dir) < 0 ||
            asprintf(&tmp, "%s/." LABELS_FILE ".tmp", s->state_dir) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        len = strlen(text);
        for (size_t done = 0; done < len;) {
                ssize_t k = write(fd, text + done, len - done);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        close(fd);
                        (void) unlink(tmp);
                        return r;
                }
                done += (size_t) k;
        }
        r = fsync(fd) < 0 ? -errno : 0;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        dfd = open(s->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                log_warning_errno(errno, "Labels are written, but syncing %s failed: %m", s->state_dir);
        return 0;
}

int label_store_set(LabelStore *s, LabelKind kind, const char *key, const char *text, char **ret_error) {
        _cleanup_(label_store_freep) LabelStore *copy = NULL;
        int r;

        r = label_check(text, ret_error);
        if (r < 0)
                return r;
        if (!key_ok(kind, key))
                return -EINVAL;
        if (streq(label_store_get(s, kind, key), text))
                return 0;
        if (!s->state_dir)
                return label_store_put(s, kind, key, text);
        /* written from a copy: memory changes only once the file did */
        r = label_store_new_memory(&copy);
        for (size_t i = 0; r >= 0 && i < s->n; i++)
                r = label_store_put(copy, s->labels[i].kind, s->labels[i].key, s->labels[i].text);
        if (r >= 0)
                r = label_store_put(copy, kind, key, text);
        if (r < 0)
                return r;
        copy->state_dir = s->state_dir;
        r = label_store_write(copy);
        copy->state_dir = NULL;
        if (r < 0)
                return log_error_errno(r, "Cannot write the labels file in %s: %m", s->state_dir);
        return label_store_put(s, kind, key, text);
}

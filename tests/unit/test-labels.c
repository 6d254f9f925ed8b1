/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Labels: what text may be one, and the file that keeps them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "labels.h"
#include "macro.h"
#include "tap.h"

TEST(check_refuses_what_a_terminal_would_misshow) {
        char *err = NULL;
        char long_text[LABEL_MAX_CHARS + 2];

        CHECK_EQ_INT(label_check("", NULL), 0);
        CHECK_EQ_INT(label_check("Anna's phone", NULL), 0);
        /* 64 characters of two bytes each are fine: the limit counts characters */
        {
                char buf[2 * LABEL_MAX_CHARS + 1] = "";

                for (int i = 0; i < LABEL_MAX_CHARS; i++)
                        strcat(buf, "\xc3\xa9");
                CHECK_EQ_INT(label_check(buf, NULL), 0);
        }
        memset(long_text, 'x', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = 0;
        CHECK_EQ_INT(label_check(long_text, &err), -EINVAL);
        CHECK(err && strstr(err, "65 characters"));
        err = mfree(err);
        CHECK_EQ_INT(label_check("tab\there", &err), -EINVAL);
        CHECK(err && strstr(err, "control character (U+0009"));
        err = mfree(err);
        CHECK_EQ_INT(label_check("esc\x1b[2J", NULL), -EINVAL);
        CHECK_EQ_INT(label_check("del\x7f", NULL), -EINVAL);
        CHECK_EQ_INT(label_check("c1\xc2\x9b", NULL), -EINVAL);
        CHECK_EQ_INT(label_check("bad\xff", &err), -EINVAL);
        CHECK(err && strstr(err, "UTF-8"));
        err = mfree(err);
        /* an overlong '/' and a surrogate are not UTF-8 */
        CHECK_EQ_INT(label_check("\xc0\xaf", NULL), -EINVAL);
        CHECK_EQ_INT(label_check("\xed\xa0\x80", NULL), -EINVAL);
}

TEST(file_round_trip_and_clear) {
        char dir[] = "/tmp/mtknvd-unit-XXXXXX";
        _cleanup_(label_store_freep) LabelStore *s = NULL;
        _cleanup_free_ char *path = NULL, *err = NULL;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ_INT(label_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK(streq(label_store_get(s, LABEL_PHONE, "mt6735_00"), ""));
        CHECK_EQ_INT(label_store_set(s, LABEL_PHONE, "mt6735_00", "Shop phone #3", NULL), 0);
        CHECK_EQ_INT(label_store_set(s, LABEL_BACKUP, "mt6735_00/20260101T000000Z-auto", "before update", NULL), 0);
        CHECK_EQ_INT(label_store_set(s, LABEL_PHONE, "mt6735_00", "bad\n", &err), -EINVAL);
        CHECK(err != NULL);
        /* refused: nothing changed */
        CHECK(streq(label_store_get(s, LABEL_PHONE, "mt6735_00"), "Shop phone #3"));
        s = label_store_free(s);
        CHECK_EQ_INT(label_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK(streq(label_store_get(s, LABEL_PHONE, "mt6735_00"), "Shop phone #3"));
        CHECK(streq(label_store_get(s, LABEL_BACKUP, "mt6735_00/20260101T000000Z-auto"), "before update"));
        /* the same key names a phone and a backup apart */
        CHECK(streq(label_store_get(s, LABEL_BACKUP, "mt6735_00"), ""));
        CHECK_EQ_INT(label_store_set(s, LABEL_PHONE, "mt6735_00", "", NULL), 0);
        s = label_store_free(s);
        CHECK_EQ_INT(label_store_open(dir, &s), 0);
        if (!s)
                return;
        CHECK(streq(label_store_get(s, LABEL_PHONE, "mt6735_00"), ""));
        CHECK(streq(label_store_get(s, LABEL_BACKUP, "mt6735_00/20260101T000000Z-auto"), "before update"));
        /* no temporary file is left */
        CHECK(asprintf(&path, "%s/.labels.tmp", dir) > 0 && access(path, F_OK) < 0);
        free(path);
        path = NULL;
        CHECK(asprintf(&path, "%s/labels", dir) > 0);
        unlink(path);
        rmdir(dir);
}

TEST(parse_skips_malformed_lines) {
        _cleanup_(label_store_freep) LabelStore *s = NULL;
        _cleanup_free_ char *text = NULL;

        CHECK_EQ_INT(label_store_new_memory(&s), 0);
        if (!s)
                return;
        CHECK_EQ_INT(label_store_parse(s, "phone\tk1\tone\nnonsense\nwhat\tk2\ttwo\nphone\tk3\t\x1b\n"
                                          "backup\tk1/b\tthree"), 0);
        CHECK(streq(label_store_get(s, LABEL_PHONE, "k1"), "one"));
        CHECK(streq(label_store_get(s, LABEL_PHONE, "k2"), ""));
        CHECK(streq(label_store_get(s, LABEL_PHONE, "k3"), ""));
        CHECK(streq(label_store_get(s, LABEL_BACKUP, "k1/b"), "three"));
        CHECK_EQ_INT(label_store_format(s, &text), 0);
        CHECK(text && streq(text, "phone\tk1\tone\nbackup\tk1/b\tthree\n"));
}

TAP_MAIN(TEST_ENTRY(check_refuses_what_a_terminal_would_misshow), TEST_ENTRY(file_round_trip_and_clear),
         TEST_ENTRY(parse_skips_malformed_lines))

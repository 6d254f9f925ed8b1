/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "inhibitor.h"
#include "log.h"
#include "tap.h"

static unsigned changes;

static void on_changed(InhibitorRegistry *r, void *userdata) {
        changes++;
}

/* Let the loop see what the kernel reports for the pipes (HUP), without waiting. */
static void drain(sd_event *e) {
        while (sd_event_run(e, 0) > 0)
                ;
}

TEST(text) {
        char max[INHIBITOR_TEXT_MAX + 2];

        log_setup(LOG_WARNING);  /* one info line per inhibitor is the daemon's business */
        CHECK(inhibitor_text_valid("mtkclient"));
        CHECK(inhibitor_text_valid("SP Flash Tool läuft — 📱"));
        CHECK(!inhibitor_text_valid(""));
        CHECK(!inhibitor_text_valid(NULL));
        CHECK(!inhibitor_text_valid("two\nlines"));
        CHECK(!inhibitor_text_valid("tab\there"));
        CHECK(!inhibitor_text_valid("esc \x1b[2J"));
        CHECK(!inhibitor_text_valid("del \x7f"));
        CHECK(!inhibitor_text_valid("c1 \xc2\x85"));         /* NEL */
        CHECK(!inhibitor_text_valid("cut \xc3"));            /* truncated sequence */
        CHECK(!inhibitor_text_valid("overlong \xc0\xaf"));
        CHECK(!inhibitor_text_valid("overlong \xe0\x80\xaf"));
        CHECK(!inhibitor_text_valid("surrogate \xed\xa0\x80"));
        CHECK(!inhibitor_text_valid("beyond \xf4\x90\x80\x80"));
        memset(max, 'x', INHIBITOR_TEXT_MAX);
        max[INHIBITOR_TEXT_MAX] = 0;
        CHECK(inhibitor_text_valid(max));
        max[INHIBITOR_TEXT_MAX] = 'x';
        max[INHIBITOR_TEXT_MAX + 1] = 0;
        CHECK(!inhibitor_text_valid(max));
}

TEST(port) {
        CHECK(inhibitor_port_valid("1-1"));
        CHECK(inhibitor_port_valid("3-1.4.2"));
        CHECK(inhibitor_port_valid("12-10"));
        CHECK(!inhibitor_port_valid(""));
        CHECK(!inhibitor_port_valid("1"));
        CHECK(!inhibitor_port_valid("1-"));
        CHECK(!inhibitor_port_valid("-1"));
        CHECK(!inhibitor_port_valid("1-1."));
        CHECK(!inhibitor_port_valid("1.1"));
        CHECK(!inhibitor_port_valid("1-1-1"));
        CHECK(!inhibitor_port_valid("1-1:1.0"));    /* an interface, not a device */
        CHECK(!inhibitor_port_valid("usb1"));
        CHECK(!inhibitor_port_valid("../1-1"));
}

TEST(lifetime_is_the_descriptor) {
        InhibitorRegistry *r = NULL;
        sd_event *e = NULL;
        const InhibitorInfo *by = NULL;
        int fd = -1, fd2 = -1, copy;

        CHECK_EQ_INT(sd_event_new(&e), 0);
        CHECK_EQ_INT(inhibitor_registry_new(e, &r), 0);
        inhibitor_registry_set_changed_callback(r, on_changed, NULL);
        changes = 0;
        CHECK(!inhibitor_registry_covers(r, "1-1", NULL));
        CHECK(!inhibitor_registry_covers(NULL, "1-1", NULL));

        CHECK_EQ_INT(inhibitor_registry_add(r, "mtkclient", "reading nvram", "1-2", 1000, &fd), 0);
        CHECK_EQ_INT(changes, 1);
        CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
        CHECK(inhibitor_registry_covers(r, "1-2", &by) && by && by->uid == 1000);
        CHECK_EQ_STR(by->who, "mtkclient");
        CHECK(inhibitor_registry_covers(r, "1-2.3", NULL));     /* behind a hub on 1-2 */
        CHECK(!inhibitor_registry_covers(r, "1-20", NULL));
        CHECK(!inhibitor_registry_covers(r, "1-1", NULL));

        CHECK_EQ_INT(inhibitor_registry_add(r, "flash_tool", "downloading", NULL, 0, &fd2), 0);
        CHECK(inhibitor_registry_covers(r, "1-1", &by));
        CHECK_EQ_STR(by->port, "");
        CHECK_EQ_INT(inhibitor_registry_count(r), 2);
        CHECK_EQ_STR(inhibitor_registry_get(r, 1)->who, "flash_tool");

        /* every copy counts: a child that inherited one keeps it alive */
        copy = dup(fd);
        close(fd);
        drain(e);
        CHECK_EQ_INT(inhibitor_registry_count(r), 2);
        close(copy);
        drain(e);
        CHECK_EQ_INT(inhibitor_registry_count(r), 1);
        CHECK_EQ_INT(changes, 3);
        CHECK(inhibitor_registry_covers(r, "1-2", &by) && by);
        CHECK_EQ_STR(by->port, "");     /* only the one for every port is left */
        CHECK_EQ_STR(inhibitor_registry_get(r, 0)->who, "flash_tool");

        close(fd2);
        drain(e);
        CHECK_EQ_INT(inhibitor_registry_count(r), 0);
        CHECK(!inhibitor_registry_covers(r, "1-1", NULL));

        CHECK_EQ_INT(inhibitor_registry_add(r, "", "x", NULL, 0, &fd), -EINVAL);
        CHECK_EQ_INT(inhibitor_registry_add(r, "x", "bell\a", NULL, 0, &fd), -EINVAL);
        CHECK_EQ_INT(inhibitor_registry_add(r, "x", "y", "1-1/../x", 0, &fd), -EINVAL);
        CHECK_EQ_INT(changes, 4);
        inhibitor_registry_free(r);
        sd_event_unref(e);
}

TEST(caps) {
        InhibitorRegistry *r = NULL;
        sd_event *e = NULL;
        int fds[INHIBITORS_MAX + 1], n = 0, fd;

        CHECK_EQ_INT(sd_event_new(&e), 0);
        CHECK_EQ_INT(inhibitor_registry_new(e, &r), 0);
        for (unsigned i = 0; i < INHIBITORS_PER_UID_MAX; i++)
                CHECK_EQ_INT(inhibitor_registry_add(r, "a", "b", NULL, 1000, &fds[n++]), 0);
        CHECK_EQ_INT(inhibitor_registry_add(r, "a", "b", NULL, 1000, &fd), -EUSERS);
        CHECK_EQ_INT(inhibitor_registry_count_uid(r, 1000), INHIBITORS_PER_UID_MAX);
        /* other users still may, up to the overall cap */
        for (uid_t uid = 1001; (unsigned) n < INHIBITORS_MAX; uid++)
                for (unsigned i = 0; i < INHIBITORS_PER_UID_MAX && (unsigned) n < INHIBITORS_MAX; i++)
                        CHECK_EQ_INT(inhibitor_registry_add(r, "a", "b", "1-1", uid, &fds[n++]), 0);
        CHECK_EQ_INT(inhibitor_registry_count(r), INHIBITORS_MAX);
        CHECK_EQ_INT(inhibitor_registry_add(r, "a", "b", NULL, 4242, &fd), -ETOOMANYREFS);
        /* one ends: the first user may take one again */
        close(fds[0]);
        drain(e);
        CHECK_EQ_INT(inhibitor_registry_add(r, "a", "b", NULL, 1000, &fds[0]), 0);
        for (int i = 0; i < n; i++)
                close(fds[i]);
        drain(e);
        CHECK_EQ_INT(inhibitor_registry_count(r), 0);
        inhibitor_registry_free(r);
        sd_event_unref(e);
}

TEST(free_with_holders) {
        InhibitorRegistry *r = NULL;
        sd_event *e = NULL;
        int fd;
        char c = 0;

        CHECK_EQ_INT(sd_event_new(&e), 0);
        CHECK_EQ_INT(inhibitor_registry_new(e, &r), 0);
        CHECK_EQ_INT(inhibitor_registry_add(r, "a", "b", NULL, 0, &fd), 0);
        inhibitor_registry_free(r);
        signal(SIGPIPE, SIG_IGN);
        /* the daemon's end is closed: the holder sees it */
        CHECK(write(fd, &c, 1) < 0 && errno == EPIPE);
        close(fd);
        sd_event_unref(e);
}

TAP_MAIN(TEST_ENTRY(text), TEST_ENTRY(port), TEST_ENTRY(lifetime_is_the_descriptor), TEST_ENTRY(caps),
         TEST_ENTRY(free_with_holders))

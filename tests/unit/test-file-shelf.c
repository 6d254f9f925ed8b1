/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shelves of added files (file-shelf.h): store, list, remove by the
 * name store gave and nothing else, and the holds that keep a file in use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file-shelf.h"
#include "tap.h"

static char *tmp_state(void) {
        char tmpl[] = "/tmp/mtknvd-shelf-XXXXXX";
        char *d = mkdtemp(tmpl);

        return d ? strdup(d) : NULL;
}

static void rm_state(const char *state) {
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        if (system(cmd) != 0)
                fprintf(stderr, "# cannot remove %s\n", state);
}

TEST(store_list_remove) {
        char *state = tmp_state(), *name = NULL, *again = NULL, **paths = NULL, path[512];
        static const uint8_t a[] = "first file", b[] = "second file";
        size_t n = 0;
        uint8_t *back = NULL;
        size_t back_len = 0;

        CHECK(state);
        if (!state)
                return;
        CHECK_EQ_INT(file_shelf_store(state, "da", a, sizeof(a), &name), 0);
        CHECK(name && strlen(name) == 36 && strcmp(name + 32, ".bin") == 0);
        /* the same content is the same file */
        CHECK_EQ_INT(file_shelf_store(state, "da", a, sizeof(a), &again), 0);
        CHECK_EQ_STR(again, name);
        free(again);
        again = NULL;
        CHECK_EQ_INT(file_shelf_store(state, "da", b, sizeof(b), &again), 0);
        CHECK_EQ_INT(file_shelf_list(state, "da", &paths, &n), 0);
        CHECK_EQ_INT((int) n, 2);
        file_shelf_list_free(paths, n);
        snprintf(path, sizeof(path), "%s/da/%s", state, name);
        CHECK_EQ_INT(file_shelf_read(path, 1024, &back, &back_len), 0);
        CHECK(back_len == sizeof(a) && memcmp(back, a, sizeof(a)) == 0);
        free(back);

        /* only names store gives: no path, no temporary file, no other file */
        CHECK_EQ_INT(file_shelf_remove(state, "da", "../da/x.bin"), -EINVAL);
        CHECK_EQ_INT(file_shelf_remove(state, "da", "test-da.bin"), -EINVAL);
        CHECK_EQ_INT(file_shelf_remove(state, "da", "0123456789abcdef0123456789ABCDEF.bin"), -EINVAL);
        CHECK_EQ_INT(file_shelf_remove(state, "da", "00000000000000000000000000000000.bin"), -ENOENT);
        CHECK_EQ_INT(file_shelf_remove(state, "none", name), -ENOENT);
        CHECK_EQ_INT(file_shelf_remove(state, "da", name), 0);
        CHECK_EQ_INT(access(path, F_OK), -1);
        CHECK_EQ_INT(file_shelf_remove(state, "da", name), -ENOENT);
        CHECK_EQ_INT(file_shelf_list(state, "da", &paths, &n), 0);
        CHECK_EQ_INT((int) n, 1);
        if (n == 1)
                CHECK(strstr(paths[0], again) != NULL);
        file_shelf_list_free(paths, n);
        free(name);
        free(again);
        rm_state(state);
        free(state);
}

TEST(holds) {
        FileShelfHolds *h = NULL;

        CHECK_EQ_INT(file_shelf_holds_new(&h), 0);
        if (!h)
                return;
        CHECK(!file_shelf_is_held(h, "/s/da/a.bin"));
        CHECK_EQ_INT(file_shelf_hold(h, "/s/da/a.bin"), 0);
        CHECK_EQ_INT(file_shelf_hold(h, "/s/da/a.bin"), 0);
        CHECK_EQ_INT(file_shelf_hold(h, "/s/da/b.bin"), 0);
        CHECK(file_shelf_is_held(h, "/s/da/a.bin"));
        /* two holders: held until both let go */
        file_shelf_release(h, "/s/da/a.bin");
        CHECK(file_shelf_is_held(h, "/s/da/a.bin"));
        file_shelf_release(h, "/s/da/a.bin");
        CHECK(!file_shelf_is_held(h, "/s/da/a.bin"));
        CHECK(file_shelf_is_held(h, "/s/da/b.bin"));
        /* releasing what is not held changes nothing */
        file_shelf_release(h, "/s/da/a.bin");
        CHECK(file_shelf_is_held(h, "/s/da/b.bin"));
        /* no holds object: nothing is ever held */
        CHECK_EQ_INT(file_shelf_hold(NULL, "/s/da/a.bin"), 0);
        CHECK(!file_shelf_is_held(NULL, "/s/da/a.bin"));
        file_shelf_release(NULL, "/s/da/a.bin");
        file_shelf_holds_free(h);
}

TAP_MAIN(TEST_ENTRY(store_list_remove), TEST_ENTRY(holds))

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "name-list.h"
#include "tap.h"

TEST(split_drop_empty) {
        char **l = NULL;

        /* the identity set of mtknvd.conf: commas, blanks, doubled separators */
        CHECK_EQ_INT(name_list_split(" nvram, nvdata,,\tproinfo ,", ", \t", NAME_LIST_DROP_EMPTY, &l), 0);
        CHECK_EQ_INT(name_list_length(l), 3);
        if (name_list_length(l) == 3) {
                CHECK_EQ_STR(l[0], "nvram");
                CHECK_EQ_STR(l[1], "nvdata");
                CHECK_EQ_STR(l[2], "proinfo");
        }
        CHECK(l && !l[name_list_length(l)]);
        l = name_list_free(l);

        CHECK_EQ_INT(name_list_split(",, ,", ", ", NAME_LIST_DROP_EMPTY, &l), 0);
        CHECK(l && !l[0]);
        l = name_list_free(l);
}

TEST(split_keep_empty) {
        char **l = NULL;

        /* restore --partitions: an empty item between commas reaches the daemon, which names it */
        CHECK_EQ_INT(name_list_split(",nvram,,nvdata,", ",", 0, &l), 0);
        CHECK_EQ_INT(name_list_length(l), 4);
        if (name_list_length(l) == 4) {
                CHECK_EQ_STR(l[0], "");
                CHECK_EQ_STR(l[1], "nvram");
                CHECK_EQ_STR(l[2], "");
                CHECK_EQ_STR(l[3], "nvdata");
        }
        l = name_list_free(l);

        CHECK_EQ_INT(name_list_split("", ",", 0, &l), 0);
        CHECK_EQ_INT(name_list_length(l), 0);
        l = name_list_free(l);
        CHECK_EQ_INT(name_list_split(NULL, ",", 0, &l), 0);
        CHECK_EQ_INT(name_list_length(l), 0);
        l = name_list_free(l);
        CHECK_EQ_INT(name_list_split("nvram", ",", 0, &l), 0);
        CHECK_EQ_INT(name_list_length(l), 1);
        CHECK(l && l[0] && strcmp(l[0], "nvram") == 0);
        l = name_list_free(l);
}

TEST(join) {
        char nvram[] = "nvram", nvdata[] = "nvdata", proinfo[] = "proinfo";
        char *three[] = { nvram, nvdata, proinfo, NULL }, *one[] = { nvram, NULL }, *none[] = { NULL };
        char *s = NULL;
        char **back = NULL;

        CHECK_EQ_INT(name_list_join(three, ",", &s), 0);
        CHECK_EQ_STR(s, "nvram,nvdata,proinfo");
        /* split undoes join */
        CHECK_EQ_INT(name_list_split(s, ",", 0, &back), 0);
        CHECK_EQ_INT(name_list_length(back), 3);
        CHECK(back && back[2] && strcmp(back[2], "proinfo") == 0);
        back = name_list_free(back);
        free(s), s = NULL;
        CHECK_EQ_INT(name_list_join(three, ", ", &s), 0);
        CHECK_EQ_STR(s, "nvram, nvdata, proinfo");
        free(s), s = NULL;
        CHECK_EQ_INT(name_list_join(one, ",", &s), 0);
        CHECK_EQ_STR(s, "nvram");
        free(s), s = NULL;
        CHECK_EQ_INT(name_list_join(none, ",", &s), 0);
        CHECK_EQ_STR(s, "");
        free(s), s = NULL;
        CHECK_EQ_INT(name_list_join(NULL, ",", &s), 0);
        CHECK_EQ_STR(s, "");
        free(s);
}

TEST(contains) {
        char nvram[] = "nvram", nvdata[] = "nvdata";
        char *l[] = { nvram, nvdata, NULL };

        CHECK(name_list_contains(l, "nvram"));
        CHECK(name_list_contains(l, "nvdata"));
        CHECK(!name_list_contains(l, "nv"));
        CHECK(!name_list_contains(l, "nvramx"));
        CHECK(!name_list_contains(l, ""));
        CHECK(!name_list_contains(NULL, "nvram"));
        CHECK_EQ_INT(name_list_length(l), 2);
        CHECK_EQ_INT(name_list_length(NULL), 0);
}

TEST(joined_contains) {
        /* whole items only: a prefix or an extension of one is not in the list */
        CHECK(name_list_joined_contains("nvram,nvdata", "nvram"));
        CHECK(name_list_joined_contains("nvram,nvdata", "nvdata"));
        CHECK(name_list_joined_contains("nvram,,nvdata", "nvdata"));
        CHECK(!name_list_joined_contains("nvram,nvdata", "nvd"));
        CHECK(!name_list_joined_contains("nvram,nvdata", "nvdata2"));
        CHECK(!name_list_joined_contains("nvram,nvdata", "ram"));
        CHECK(!name_list_joined_contains("nvram,nvdata", "nvram,nvdata"));
        CHECK(!name_list_joined_contains("", "nvram"));
        CHECK(!name_list_joined_contains(NULL, "nvram"));
}

TEST(free_null) {
        char **l = NULL;

        CHECK(!name_list_free(NULL));
        CHECK_EQ_INT(name_list_split("a,b", ",", 0, &l), 0);
        name_list_freep(&l);
        CHECK(!l);
}

TAP_MAIN(TEST_ENTRY(split_drop_empty), TEST_ENTRY(split_keep_empty), TEST_ENTRY(join), TEST_ENTRY(contains),
         TEST_ENTRY(joined_contains), TEST_ENTRY(free_null))

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "config.h"
#include "device.h"
#include "tap.h"
#include "usb-ids.h"

TEST(default_ids) {
        UsbIdList l = {};

        CHECK_EQ_INT(usb_id_list_default(&l), 0);
        CHECK(usb_id_list_find(&l, 0x0e8d, 0x0003) && usb_id_list_find(&l, 0x0e8d, 0x0003)->brom);
        CHECK(usb_id_list_find(&l, 0x0e8d, 0x2000) && !usb_id_list_find(&l, 0x0e8d, 0x2000)->brom);
        CHECK(usb_id_list_find(&l, 0x22d9, 0x0006) != NULL);
        CHECK(usb_id_list_find(&l, 0x0fce, 0xf200) && usb_id_list_find(&l, 0x0fce, 0xf200)->brom);
        CHECK(usb_id_list_find(&l, 0x0e8d, 0x1234) == NULL);
        usb_id_list_done(&l);
}

TEST(parse_ids) {
        UsbIdList l = {};

        CHECK_EQ_INT(usb_id_list_parse(&l, "0e8d:0003:brom, 1234:abcd:preloader"), 0);
        CHECK_EQ_INT(l.n, 2);
        CHECK(usb_id_list_find(&l, 0x1234, 0xabcd) && !usb_id_list_find(&l, 0x1234, 0xabcd)->brom);
        CHECK_EQ_INT(usb_id_list_parse(&l, "0e8d:0003"), -EINVAL);
        CHECK_EQ_INT(usb_id_list_parse(&l, "0e8d:0003:fastboot"), -EINVAL);
        CHECK_EQ_INT(usb_id_list_parse(&l, "10000:0003:brom"), -EINVAL);
        CHECK_EQ_INT(usb_id_list_parse(&l, ""), -EINVAL);
        CHECK_EQ_INT(l.n, 2); /* a failed parse leaves the list alone */
        usb_id_list_done(&l);
}

TEST(parse_product) {
        uint16_t v, p;

        CHECK_EQ_INT(usb_id_parse_product("e8d/2000/100", &v, &p), 0);
        CHECK_EQ_INT(v, 0x0e8d);
        CHECK_EQ_INT(p, 0x2000);
        CHECK_EQ_INT(usb_id_parse_product("e8d/3/100", &v, &p), 0);
        CHECK_EQ_INT(p, 3);
        CHECK_EQ_INT(usb_id_parse_product("e8d", &v, &p), -EINVAL);
        CHECK_EQ_INT(usb_id_parse_product("zz/1/1", &v, &p), -EINVAL);
        CHECK_EQ_INT(usb_id_parse_product(NULL, &v, &p), -EINVAL);
}

TEST(config_file) {
        char path[] = "/tmp/mtknvd-test-config-XXXXXX";
        Config c;
        FILE *f;
        int fd = mkstemp(path);

        CHECK(fd >= 0);
        f = fdopen(fd, "w");
        fputs("# comment\n\nUsbIds = 0e8d:2000:preloader\nReenumerationGraceSec=2.5\nFutureKey=1\n"
              "FileTimeoutSec=0.5\n", f);
        fclose(f);
        CHECK_EQ_INT(config_init(&c), 0);
        CHECK_EQ_INT(c.file_timeout_usec, CONFIG_FILE_TIMEOUT_USEC_DEFAULT);
        CHECK_EQ_INT(config_load(&c, path), 0);
        CHECK_EQ_INT(c.usb_ids.n, 1);
        CHECK_EQ_INT(c.grace_usec, 2500000);
        CHECK_EQ_INT(c.file_timeout_usec, 500000);
        config_done(&c);

        /* a deadline of nothing is no deadline: refused */
        f = fopen(path, "w");
        fputs("FileTimeoutSec=0\n", f);
        fclose(f);
        CHECK_EQ_INT(config_init(&c), 0);
        CHECK_EQ_INT(config_load(&c, path), -EINVAL);
        config_done(&c);

        /* retention: nothing deleted unless configured; 0 would mean "delete everything", so it is refused */
        CHECK_EQ_INT(config_init(&c), 0);
        CHECK_EQ_INT(c.keep_last, 0);
        CHECK_EQ_INT(c.keep_pre_restore_usec, 0);
        config_done(&c);
        f = fopen(path, "w");
        fputs("KeepLast=3\nKeepPreRestoreDays=2\n", f);
        fclose(f);
        CHECK_EQ_INT(config_init(&c), 0);
        CHECK_EQ_INT(config_load(&c, path), 0);
        CHECK_EQ_INT(c.keep_last, 3);
        CHECK_EQ_INT(c.keep_pre_restore_usec, 2ULL * 24 * 3600 * 1000000);
        config_done(&c);
        for (const char *const *bad = (const char *const[]) { "KeepLast=0\n", "KeepLast=-1\n", "KeepLast=3x\n",
                                                              "KeepPreRestoreDays=0\n", NULL }; *bad; bad++) {
                f = fopen(path, "w");
                fputs(*bad, f);
                fclose(f);
                CHECK_EQ_INT(config_init(&c), 0);
                CHECK_EQ_INT(config_load(&c, path), -EINVAL);
                config_done(&c);
        }
        f = fopen(path, "w");
        fputs("KeepLast=infinity\n", f);
        fclose(f);
        CHECK_EQ_INT(config_init(&c), 0);
        CHECK_EQ_INT(config_load(&c, path), 0);
        CHECK_EQ_INT(c.keep_last, 0);
        config_done(&c);

        f = fopen(path, "w");
        fputs("ReenumerationGraceSec=soon\n", f);
        fclose(f);
        CHECK_EQ_INT(config_init(&c), 0);
        CHECK_EQ_INT(config_load(&c, path), -EINVAL);
        config_done(&c);
        unlink(path);

        CHECK_EQ_INT(config_init(&c), 0);
        CHECK_EQ_INT(config_load(&c, "/nonexistent/mtknvd.conf"), 0);
        CHECK_EQ_INT(c.grace_usec, CONFIG_GRACE_USEC_DEFAULT);
        config_done(&c);
}

TEST(device_ids) {
        BromIdentity id = { .chip = chip_table_lookup(0x0321), .me_id_len = 16 };
        char *s = NULL, *t = NULL;

        memset(id.me_id, 0x11, 16);
        CHECK_EQ_INT(device_make_id(&id, "1-1", &s), 0);
        CHECK(strncmp(s, "mt6735_", 7) == 0 && strlen(s) == 7 + 16);
        CHECK_EQ_INT(device_make_id(&id, "2-4", &t), 0);
        CHECK_EQ_STR(s, t); /* the identity, not the port, names the phone */
        free(t);
        id.me_id[0] = 0x12;
        CHECK_EQ_INT(device_make_id(&id, "1-1", &t), 0);
        CHECK(strcmp(s, t) != 0);
        free(s);
        free(t);
        CHECK_EQ_INT(device_make_id(NULL, "3-1.4", &s), 0);
        CHECK_EQ_STR(s, "port_3_1_4");
        free(s);
}

TAP_MAIN(TEST_ENTRY(default_ids), TEST_ENTRY(parse_ids), TEST_ENTRY(parse_product), TEST_ENTRY(config_file),
         TEST_ENTRY(device_ids))

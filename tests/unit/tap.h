/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The smallest TAP producer that does the job: each TEST() is one test
 * point, run in order by main(); a failed CHECK() fails the point and
 * names file, line and the expression.  tests/run-tests.py counts points.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct TapTest {
        const char *name;
        void (*fn)(int *failed);
} TapTest;

#define TEST(name) static void test_##name(int *tap_failed_)
#define TEST_ENTRY(name) { #name, test_##name }

#define CHECK(expr)                                                                         \
        do {                                                                                \
                if (!(expr)) {                                                              \
                        printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr); \
                        *tap_failed_ = 1;                                                   \
                }                                                                           \
        } while (0)

#define CHECK_EQ_INT(a, b)                                                                          \
        do {                                                                                        \
                long long a_ = (long long) (a), b_ = (long long) (b);                               \
                if (a_ != b_) {                                                                     \
                        printf("#   %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
                               a_, #b, b_);                                                         \
                        *tap_failed_ = 1;                                                           \
                }                                                                                   \
        } while (0)

#define CHECK_EQ_STR(a, b)                                                                          \
        do {                                                                                        \
                const char *a_ = (a), *b_ = (b);                                                    \
                if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                            \
                        printf("#   %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,  \
                               a_ ? a_ : "(null)", b_ ? b_ : "(null)");                             \
                        *tap_failed_ = 1;                                                           \
                }                                                                                   \
        } while (0)

static inline int tap_run(const TapTest *tests, size_t n) {
        int failures = 0;

        printf("1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                int failed = 0;

                tests[i].fn(&failed);
                printf("%s %zu - %s\n", failed ? "not ok" : "ok", i + 1, tests[i].name);
                failures += failed;
        }
        fflush(stdout);
        return failures > 0 ? 1 : 0;
}

#define TAP_MAIN(...)                                                         \
        int main(void) {                                                      \
                static const TapTest tests_[] = { __VA_ARGS__ };              \
                return tap_run(tests_, sizeof(tests_) / sizeof(tests_[0]));   \
        }

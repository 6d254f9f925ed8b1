/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The smallest TAP producer that does the job: each TEST() is one test
 * point, run in order by main(); a failed CHECK() fails the point and
 * names file, line and the expression; TAP_SKIP() ends a point that cannot
 * run here as "ok N - name # SKIP".  A point entered with TEST_ENTRY_TODO()
 * is a known defect: "not ok N - name # TODO why" until it is fixed, and
 * "ok N - name # TODO why" after, which run-tests.py fails so that the mark
 * goes.  tests/run-tests.py counts points.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct TapTest {
        const char *name;
        void (*fn)(int *failed);
        const char *todo;
} TapTest;

#define TEST(name) static void test_##name(int *tap_failed_)
#define TEST_ENTRY(name) { #name, test_##name, NULL }
#define TEST_ENTRY_TODO(name, why) { #name, test_##name, why }

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

/* the reason goes out as a comment before the point, where run-tests.py shows it */
#define TAP_SKIP(reason)                            \
        do {                                        \
                printf("#   skipped: %s\n", reason); \
                *tap_failed_ = -1;                  \
                return;                             \
        } while (0)

static inline int tap_run(const TapTest *tests, size_t n) {
        int failures = 0;

        printf("1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                int failed = 0;

                tests[i].fn(&failed);
                if (failed < 0)
                        printf("ok %zu - %s # SKIP\n", i + 1, tests[i].name);
                else if (tests[i].todo)
                        printf("%s %zu - %s # TODO %s\n", failed ? "not ok" : "ok", i + 1, tests[i].name,
                               tests[i].todo);
                else {
                        printf("%s %zu - %s\n", failed ? "not ok" : "ok", i + 1, tests[i].name);
                        failures += failed > 0;
                }
        }
        fflush(stdout);
        return failures > 0 ? 1 : 0;
}

#define TAP_MAIN(...)                                                         \
        int main(void) {                                                      \
                static const TapTest tests_[] = { __VA_ARGS__ };              \
                return tap_run(tests_, sizeof(tests_) / sizeof(tests_[0]));   \
        }

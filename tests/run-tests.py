#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs every test of mtknvd and ends with "N passed, N failed".

  unit     build/tests/test-*      (TAP: one point per test, run from the top of the checkout)
  e2e      tests/e2e/test_*.py     (unittest, each test one point, each in a process of its own)
  valgrind a few e2e tests again with the daemon under valgrind
  fuzz     build/fuzz/fuzz-*       a few seconds each, from tests/fuzz/corpus/<name>

Tests run in MTKNVD_TEST_JOBS worker threads (default 3), each test a process of its own: every e2e
test builds its own world (a temporary directory holding its private dbus-daemon's socket, the
simulator's control socket and the daemon's state; mtksim's own umockdev testbed directory), so two
never share anything. The valgrind tests run one at a time, from the start, beside the others. The
report is printed in the fixed order above, each test's result and detail together, whatever order
they finish in.

Usage: run-tests.py [FILTER...]   only tests whose name contains a FILTER.
Environment: MTKNVD_BUILD (build dir), MTKNVD_SANITIZE=1 (no valgrind), MTKNVD_FUZZ_SECONDS
(default 5), MTKNVD_TEST_JOBS (default 3; 1 runs one test at a time), MTKNVD_TEST_TIMEOUT (the
harness's bound on one wait, default 30 s, 90 s under valgrind), MTKNVD_WAIT_AUDIT=FILE (each
harness wait appends its wake-ups, seconds and test to FILE: a condition that calls the bus shows as
thousands of wake-ups a second), MTKNVD_KEEP_TMP=1 (keep each world's directory).
"""

import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, os.environ.get("MTKNVD_BUILD", "build"))
SANITIZE = os.environ.get("MTKNVD_SANITIZE") == "1"
FUZZ_SECONDS = int(os.environ.get("MTKNVD_FUZZ_SECONDS", "5"))
# 3 on the 2-core CI: the tests wait on the simulated phones' time more than they compute (2 workers
# kept 1.0 of its 2 CPUs busy, 3 keep 1.4: 13 instead of 18 minutes)
JOBS = max(1, int(os.environ.get("MTKNVD_TEST_JOBS", "3")))
# e2e tests that are repeated with the daemon under valgrind
VALGRIND_TESTS = [
    "test_identify.TestIdentify.test_preloader_mt6735",
    "test_identify.TestIdentify.test_two_phones",
    "test_identify.TestFaults.test_vanish_mid_identification",
    "test_backup.TestBackup.test_auto_backup",
    "test_lifecycle.TestLifecycle.test_request_before_plugging_in",
    "test_backup.TestBackupFaults.test_unplug_during_read",
    "test_polkit.TestPolkit.test_check_does_not_block_the_daemon",
    "test_resume.TestUnplugDuringRestore.test_unplug_in_first_chunk",
    "test_import.TestArchiveImport.test_damaged_archives",
    "test_many.TestEightPhones.test_eight_at_once",
    "test_brom.TestBromBackup.test_mt6735",
    "test_brom.TestBromRefusals.test_no_matching_memory",
]


class Job:
    """One test program to run; run() sets its events: (kind, name, detail), kind one of PASS,
    FAIL, SKIP, TODO (a known defect, neither passed nor failed), NOTE (a line to print)."""

    def __init__(self, label, fn, heavy=False):
        self.label, self.fn, self.heavy = label, fn, heavy
        self.seconds = 0.0
        self.events = None
        self.done = threading.Event()

    def run(self):
        t0 = time.monotonic()
        try:
            self.events = self.fn()
        except Exception as e:  # a runner bug or a timeout must not lose the other results
            self.events = [("FAIL", self.label, "%s: %s" % (type(e).__name__, e))]
        self.seconds = time.monotonic() - t0
        self.done.set()


def run_jobs(jobs, workers):
    """Runs the jobs in `workers` threads. The heavy ones (the daemon under valgrind, a whole core each)
    go to the first worker, one at a time and from the start, so that none is left for the end; the
    others take the rest in order, and every worker helps with either queue once its own is empty."""
    queues = (collections.deque(j for j in jobs if j.heavy), collections.deque(j for j in jobs if not j.heavy))
    lock = threading.Lock()

    def worker(prefer):
        while True:
            with lock:
                q = queues[prefer] if queues[prefer] else queues[1 - prefer]
                if not q:
                    return
                job = q.popleft()
            job.run()

    threads = [threading.Thread(target=worker, args=(0 if i == 0 else 1,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    return threads


def wanted(name, filters):
    return not filters or any(f in name for f in filters)


# ---------------------------------------------------------------- unit

def tap_events(exe, p):
    """One event per TAP point; a point's detail is the comment lines printed since the point before."""
    events, comments = [], []
    for line in p.stdout.splitlines():
        if line.startswith("#"):
            comments.append(line)
            continue
        m = re.match(r"(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$", line)
        if not m:
            continue
        ok, name, directive, why = m.group(1) == "ok", "unit/%s/%s" % (exe, m.group(2)), m.group(3), m.group(4)
        detail = "\n".join(comments)
        comments = []
        if directive == "SKIP":
            events.append(("SKIP", name, detail.replace("#   skipped: ", "").strip()))
        elif directive == "TODO" and not ok:
            events.append(("TODO", name, why or ""))
        elif directive == "TODO":
            events.append(("FAIL", name, "passes now: the defect \"%s\" is fixed, drop its TEST_ENTRY_TODO" % why))
        else:
            events.append(("PASS" if ok else "FAIL", name, "" if ok else detail + p.stderr))
    if not events or p.returncode not in (0, 1):
        events.append(("FAIL", "unit/%s" % exe, "exit status %d\n%s%s" % (p.returncode, p.stdout, p.stderr)))
    return events


def unit_jobs(filters):
    d = os.path.join(BUILD, "tests")
    jobs = []
    for exe in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        path = os.path.join(d, exe)
        if not exe.startswith("test-") or not os.access(path, os.X_OK) or not wanted("unit/" + exe, filters):
            continue

        def fn(exe=exe, path=path):
            # from the top of the checkout: fixtures are tests/unit/data/..., the shared corpus ../shared
            p = subprocess.run([path], cwd=TOP, capture_output=True, text=True, timeout=300)
            return tap_events(exe, p)
        jobs.append(Job("unit/" + exe, fn))
    return jobs


def layout_jobs(filters):
    """The daemon's layers and include graph (tests/tools/check-layers.py)."""
    name = "layout/check-layers"
    if not wanted(name, filters):
        return []

    def fn():
        p = subprocess.run([sys.executable, os.path.join(TOP, "tests", "tools", "check-layers.py"), TOP],
                           capture_output=True, text=True, timeout=60)
        return [("PASS" if p.returncode == 0 and not p.stdout else "FAIL", name, p.stdout + p.stderr)]
    return [Job(name, fn)]


# ---------------------------------------------------------------- e2e, valgrind

def e2e_tests():
    sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
    suite = unittest.TestLoader().discover(os.path.join(TOP, "tests", "e2e"), pattern="test_*.py",
                                           top_level_dir=os.path.join(TOP, "tests", "e2e"))

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t
    return list(flatten(suite))


def e2e_jobs(tests, filters, valgrind=False):
    prefix = "valgrind" if valgrind else "e2e"
    jobs = []
    for test in tests:
        tid = test.id()
        if isinstance(test, unittest.loader._FailedTest):
            if not valgrind:
                jobs.append(Job("%s/%s" % (prefix, tid),
                                lambda tid=tid, e=test._exception: [("FAIL", "e2e/" + tid, str(e))]))
            continue
        if valgrind and tid not in VALGRIND_TESTS:
            continue
        name = "%s/%s" % (prefix, tid)
        if not wanted(name, filters):
            continue

        def fn(tid=tid, name=name):
            # each test in a process of its own: a world's D-Bus connection and
            # main-loop state must not leak into the next test
            env = dict(os.environ, MTKNVD_VALGRIND="1" if valgrind else "0")
            if valgrind and "MTKNVD_TEST_TIMEOUT" not in env:
                # the daemon runs many times slower under valgrind; the waits stay event-driven,
                # only the bound on a failure grows
                env["MTKNVD_TEST_TIMEOUT"] = "90"
            t0 = time.monotonic()
            p = subprocess.run([sys.executable, "-m", "unittest", tid], cwd=os.path.join(TOP, "tests", "e2e"),
                               env=env, capture_output=True, text=True, timeout=600)
            dt = time.monotonic() - t0
            if "OK (skipped=" in p.stderr:
                return [("SKIP", name, "")]
            return [("PASS" if p.returncode == 0 else "FAIL", name + " (%.1fs)" % dt, p.stderr[-6000:])]
        jobs.append(Job(name, fn, heavy=valgrind))
    return jobs


# ---------------------------------------------------------------- fuzz

def fuzz_jobs(filters):
    d = os.path.join(BUILD, "fuzz")
    jobs = []
    for exe in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        name = "fuzz/" + exe
        if not exe.startswith("fuzz-") or not os.access(os.path.join(d, exe), os.X_OK) or not wanted(name, filters):
            continue

        def fn(exe=exe, name=name):
            corpus = tempfile.mkdtemp(prefix="mtknvd-fuzz-")
            try:
                seeds = os.path.join(TOP, "tests", "fuzz", "corpus", exe)
                if os.path.isdir(seeds):
                    for f in os.listdir(seeds):
                        shutil.copy(os.path.join(seeds, f), corpus)
                p = subprocess.run([os.path.join(d, exe), "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=10",
                                    "-rss_limit_mb=2048", "-print_final_stats=1", corpus],
                                   capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
            finally:
                shutil.rmtree(corpus, ignore_errors=True)
            runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", p.stderr)
            detail = "%s runs" % (runs.group(1) if runs else "?")
            return [("PASS" if p.returncode == 0 else "FAIL", name + " (%s)" % detail,
                     "" if p.returncode == 0 else p.stderr[-3000:])]
        jobs.append(Job(name, fn))
    return jobs


# ---------------------------------------------------------------- main

def main():
    filters = sys.argv[1:]
    t0 = time.monotonic()
    results, skipped, todo = [], 0, []

    tests = e2e_tests()
    jobs = layout_jobs(filters) + unit_jobs(filters) + e2e_jobs(tests, filters)
    if SANITIZE:
        jobs.append(Job("valgrind", lambda: [("NOTE", "SKIP valgrind: not combined with AddressSanitizer", "")]))
    elif shutil.which("valgrind"):
        jobs += e2e_jobs(tests, filters, valgrind=True)
    else:
        jobs.append(Job("valgrind", lambda: [("FAIL", "valgrind", "valgrind is not installed (make deps)")]))
    jobs += fuzz_jobs(filters)

    # the report keeps the order above, whatever order the tests finish in
    threads = run_jobs(jobs, JOBS)
    for job in jobs:
        job.done.wait()
        for kind, name, detail in job.events:
            if kind == "NOTE":
                print(name, flush=True)
                continue
            if kind in ("PASS", "FAIL"):
                results.append((name, kind == "PASS"))
            elif kind == "SKIP":
                skipped += 1
            else:
                todo.append(name)
            print("%s %s%s" % (kind, name, " (%s)" % detail if kind in ("SKIP", "TODO") and detail else ""),
                  flush=True)
            if kind == "FAIL" and detail:
                print("    " + detail.rstrip().replace("\n", "\n    "), flush=True)
    for t in threads:
        t.join()

    failed = [name for name, ok in results if not ok]
    wall = time.monotonic() - t0
    busy = sum(j.seconds for j in jobs)
    print("")
    print("slowest: " + ", ".join("%s %.1fs" % (j.label, j.seconds)
                                  for j in sorted(jobs, key=lambda j: -j.seconds)[:8]))
    print("ran in %.0fs with %d workers (%.0fs of tests: %.1f at a time)" % (wall, JOBS, busy, busy / max(wall, 1)))
    if todo:
        print("%d known defects (TODO): %s" % (len(todo), ", ".join(todo)))
    if skipped:
        print("%d skipped" % skipped)
    if failed:
        print("Failed:")
        for name in failed:
            print("  " + name)
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())

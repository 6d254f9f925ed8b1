#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs every test of mtknvd and ends with "N passed, N failed".

  unit     build/tests/test-*      (TAP: one point per test)
  e2e      tests/e2e/test_*.py     (unittest, each test one point)
  valgrind a few e2e tests again with the daemon under valgrind
  fuzz     build/fuzz/fuzz-*       a few seconds each, from tests/fuzz/corpus/<name>

Usage: run-tests.py [FILTER...]   only tests whose name contains a FILTER.
Environment: MTKNVD_BUILD (build dir), MTKNVD_SANITIZE=1 (no valgrind),
MTKNVD_FUZZ_SECONDS (default 5).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, os.environ.get("MTKNVD_BUILD", "build"))
SANITIZE = os.environ.get("MTKNVD_SANITIZE") == "1"
FUZZ_SECONDS = int(os.environ.get("MTKNVD_FUZZ_SECONDS", "5"))
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
]

results = []  # (name, ok, detail)


def report(name, ok, detail=""):
    results.append((name, ok, detail))
    print("%s %s" % ("PASS" if ok else "FAIL", name), flush=True)
    if not ok and detail:
        print("    " + detail.rstrip().replace("\n", "\n    "), flush=True)


def wanted(name, filters):
    return not filters or any(f in name for f in filters)


def run_unit(filters):
    d = os.path.join(BUILD, "tests")
    for exe in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        path = os.path.join(d, exe)
        if not exe.startswith("test-") or not os.access(path, os.X_OK):
            continue
        if not wanted("unit/" + exe, filters):
            continue
        p = subprocess.run([path], capture_output=True, text=True, timeout=300)
        seen = 0
        for line in p.stdout.splitlines():
            m = re.match(r"(not ok|ok) \d+ - (.*)", line)
            if m:
                seen += 1
                ok = m.group(1) == "ok"
                detail = "\n".join(l for l in p.stdout.splitlines() if l.startswith("#"))
                report("unit/%s/%s" % (exe, m.group(2)), ok, "" if ok else detail + p.stderr)
        if seen == 0 or p.returncode not in (0, 1):
            report("unit/%s" % exe, False, "exit status %d\n%s%s" % (p.returncode, p.stdout, p.stderr))


class Collect(unittest.TextTestResult):
    pass


def run_e2e(filters, valgrind=False):
    sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
    loader = unittest.TestLoader()
    suite = loader.discover(os.path.join(TOP, "tests", "e2e"), pattern="test_*.py",
                            top_level_dir=os.path.join(TOP, "tests", "e2e"))

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t

    prefix = "valgrind" if valgrind else "e2e"
    for test in flatten(suite):
        tid = test.id()
        if isinstance(test, unittest.loader._FailedTest):
            report("%s/%s" % (prefix, tid), False, str(test._exception))
            continue
        if valgrind and tid not in VALGRIND_TESTS:
            continue
        name = "%s/%s" % (prefix, tid)
        if not wanted(name, filters):
            continue
        # each test in a process of its own: a world's D-Bus connection and
        # main-loop state must not leak into the next test
        env = dict(os.environ, MTKNVD_VALGRIND="1" if valgrind else "0")
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "unittest", tid], cwd=os.path.join(TOP, "tests", "e2e"), env=env,
                           capture_output=True, text=True, timeout=600)
        dt = time.monotonic() - t0
        if "OK (skipped=" in p.stderr:
            print("SKIP %s" % name, flush=True)
            continue
        report(name + " (%.1fs)" % dt, p.returncode == 0, p.stderr[-6000:])


def run_fuzz(filters):
    d = os.path.join(BUILD, "fuzz")
    for exe in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        name = "fuzz/" + exe
        if not wanted(name, filters):
            continue
        corpus = tempfile.mkdtemp(prefix="mtknvd-fuzz-")
        seeds = os.path.join(TOP, "tests", "fuzz", "corpus", exe)
        if os.path.isdir(seeds):
            for f in os.listdir(seeds):
                shutil.copy(os.path.join(seeds, f), corpus)
        p = subprocess.run([os.path.join(d, exe), "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=10",
                            "-rss_limit_mb=2048", "-print_final_stats=1", corpus],
                           capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
        shutil.rmtree(corpus, ignore_errors=True)
        runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", p.stderr)
        detail = "%s runs" % (runs.group(1) if runs else "?")
        report(name + " (%s)" % detail, p.returncode == 0, "" if p.returncode == 0 else p.stderr[-3000:])


def main():
    filters = sys.argv[1:]
    t0 = time.monotonic()
    run_unit(filters)
    run_e2e(filters)
    if SANITIZE:
        print("SKIP valgrind: not combined with AddressSanitizer", flush=True)
    elif shutil.which("valgrind"):
        run_e2e(filters, valgrind=True)
    else:
        report("valgrind", False, "valgrind is not installed (make deps)")
    run_fuzz(filters)

    failed = [r for r in results if not r[1]]
    print("")
    if failed:
        print("Failed:")
        for name, _, _ in failed:
            print("  " + name)
    print("ran in %.0fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())

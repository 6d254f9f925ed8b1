#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""make demo: a simulated MT6735 in preloader mode is plugged into a private
world; the unmodified daemon detects and identifies it; mtknvctl shows it."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e"))
from harness import BUILD, World  # noqa: E402


def step(msg):
    print("\n\033[1m==> %s\033[0m" % msg, flush=True)


def main():
    t0 = time.monotonic()
    step("Starting a private D-Bus, the simulated phone world (build/mtksim) and the daemon (build/mtknvd)")
    w = World(phones=["id=demo,chip=mt6735,mode=preloader"])
    try:
        mon = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "monitor"], env=w.env())
        step("Phone plugged in; waiting for the daemon to identify it (mtknvctl monitor shows the events)")
        path, props = w.wait_device(lambda p: p["State"] in ("ready", "error"), "phone identified")
        mon.terminate()
        mon.wait()
        step("mtknvctl list")
        sys.stdout.write(w.ctl("list").stdout)
        step("mtknvctl show " + path.rsplit("/", 1)[1])
        sys.stdout.write(w.ctl("show", path.rsplit("/", 1)[1]).stdout)
        step("mtknvctl --json list")
        sys.stdout.write(w.ctl("--json", "list").stdout)
        ok = props["State"] == "ready"
    finally:
        w.close()
    step("%s in %.1f s" % ("Done" if ok else "FAILED", time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

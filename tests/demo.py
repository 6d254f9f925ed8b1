#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""make demo: the main job on a machine without a phone.

A private D-Bus, the simulated phone world (build/mtksim) with one MT6735 in
preloader mode (its USB capped at 25 MB/s, a real phone's pace), and the unmodified daemon (build/mtknvd) configured with
AutoBackup=first-seen and a Download Agent in MediaTek's real container
format (synthetic payload; no MediaTek binary is shipped).  The phone is
plugged in, identified and backed up by itself; mtknvctl follows the
backup with a progress bar, then lists and verifies it."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e"))
from harness import BUILD, World  # noqa: E402


def step(msg):
    print("\n\033[1m==> %s\033[0m" % msg, flush=True)


def ctl(w, *args):
    r = subprocess.run([os.path.join(BUILD, "mtknvctl")] + list(args), env=w.env())
    return r.returncode


def main():
    t0 = time.monotonic()
    step("Starting a private D-Bus, the simulated MT6735 (build/mtksim) and the daemon (build/mtknvd)")
    w = World(phones=["id=demo,chip=mt6735,mode=preloader,rate=25"], config="AutoBackup=first-seen\n",
              daemon_args=["--grace-period=60"])
    ok = False
    try:
        step("Phone plugged in: the daemon identifies it and starts the automatic backup")
        path, props = w.wait_device(lambda p: p["State"] in ("busy", "error"), "automatic backup started")
        step("mtknvctl backup --wait   (follows the running automatic backup)")
        rc = ctl(w, "backup", "--wait", path.rsplit("/", 1)[1])
        w.wait_until(lambda: len(w.backups) > 0, "backup published")
        step("mtknvctl backups")
        ctl(w, "backups")
        bid = next(iter(w.backups.values()))["Id"]
        step("mtknvctl show-backup " + bid)
        ctl(w, "show-backup", bid)
        step("mtknvctl verify-backup " + bid)
        ok = rc == 0 and ctl(w, "verify-backup", bid) == 0
        print("\nThe backup is stored in %s/backups/%s" % (w.state_dir, bid))
        print("(a temporary directory of this demo; a real installation keeps it in /var/lib/mtknvd)")
    finally:
        w.close()
    step("%s in %.1f s" % ("Done" if ok else "FAILED", time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

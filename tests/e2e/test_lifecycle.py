# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real phone's life: mtknvd touches a preloader only with work to do and lets it boot afterwards.

The simulated phone boots the way a real one does (tests/sim/README.md, "A real boot"): a reset takes it off
the bus, its preloader enumerates again after boot-delay and listens for its window, and if nobody handshakes
it boots (phase=booted). So every case below ends with a booted phone, and the counters say how it got there:
`resets` (host resets: the daemon's reboot or reset), `boots` (times it reached its OS), `enumerations`.
"""

import json
import unittest

from harness import WorldTestCase


def backups_of(w):
    return len(w.backups)


class TestLifecycle(WorldTestCase):
    # how the DA reboots the phone, as the simulator names the reset: the legacy DA's ENABLE_WATCHDOG
    # (test_xflash.py runs these tests on an XFlash phone, which SHUTDOWN reboots)
    REBOOT_RESET = "enable-watchdog"

    def world(self, *phones, auto="never", **kw):
        # BootWindowSec=5, the default: the harness's 0 would make every reboot look like a plug-in
        kw.setdefault("daemon_args", ["--grace-period=30"])
        return super().world(*phones, config="AutoBackup=%s\nBootWindowSec=5\n" % auto, **kw)

    def booted(self, w, phone="phone0", boots=1):
        w.sim_wait(phone, phase="booted", boots=boots)
        return w.stats(phone)

    def same_phone_again(self, w, new_id, port, extra=""):
        """The phone that was phone0, plugged in again by a person, into another port (mtksim's replug is
        instantaneous, so the same port would look like a boot)."""
        st = w.stats("phone0")
        me_id = [d["MeId"] for d in w.objects.values() if d.get("MeId")][0]
        w.control("unplug phone0")
        w.control("add id=%s,port=%s,me-id=%s,storage=%s%s" % (new_id, port, me_id, st["storage"], extra))

    def test_never_leaves_the_window_alone(self):
        # AutoBackup=never and nothing asked for: not one byte, and the phone boots by itself
        w = self.world()
        path, props = w.wait_device(lambda p: p["State"] == "idle", "phone left alone")
        self.assertIn("AutoBackup=never", props["StateReason"])
        shown = w.ctl("show", path.rsplit("/", 1)[1]).stdout
        self.assertIn("Reason:", shown)
        st = self.booted(w)
        self.assertEqual((st["resets"], st["boots"], st["first_rx_us"]), ("0", "1", "0"))

    def test_first_seen_after_backup_boots(self):
        # a new phone: backed up, rebooted (ENABLE_WATCHDOG), and the reboot's preloader is left alone
        w = self.world(auto="first-seen")
        w.wait_until(lambda: backups_of(w) == 1, "automatic backup")
        st = self.booted(w)
        self.assertEqual((st["resets"], st["boots"], st["last_reset"]), ("1", "1", self.REBOOT_RESET))
        self.assertEqual(st["enumerations"], "2")
        path = next(iter(w.objects))
        states = [c["State"] for p, c in w.changes if p == path and "State" in c]
        # busy, then released, then (its boot) idle, then gone: never "ready" waiting in the command loop
        self.assertIn("released", states, states)
        self.assertLess(states.index("busy"), states.index("released"))
        after = states[states.index("released"):]
        self.assertIn("idle", after, states)
        self.assertEqual(after[-1], "disconnected", states)
        self.assertEqual(len(w.jobs_new), 1)

    def test_charge_only_plug_in_of_a_known_phone(self):
        # a known phone plugged in just to charge, again and again: identified once per plug-in, let go with a
        # reset from the command loop, never a DA, never a loop
        w = self.world(auto="first-seen")
        w.wait_until(lambda: backups_of(w) == 1, "first backup")
        self.booted(w)
        for n, port in enumerate(("1-2", "1-3")):
            self.same_phone_again(w, "again%d" % n, port)
            st = self.booted(w, "again%d" % n)
            self.assertEqual((st["resets"], st["boots"], st["last_reset"]), ("1", "1", "wdt-swrst"), port)
            self.assertNotIn("0xd7", st["commands"], "a DA was sent to a phone with a verified backup")
            w.control("unplug again%d" % n)
        self.assertEqual(backups_of(w), 1)
        self.assertEqual(len(w.jobs_new), 1)
        self.assertIn("already has a verified backup", w.describe())

    def test_always_one_backup_per_plug_in_not_per_boot(self):
        # the phone restarts by itself twice more (boots=3) while attached: still one backup
        w = self.world("boots=3", auto="always")
        st = self.booted(w, boots=3)
        self.assertEqual(backups_of(w), 1)
        self.assertEqual(st["resets"], "1")
        self.assertEqual(len(w.jobs_new), 1)
        # a person plugging it in again is a plug-in: one more backup
        self.same_phone_again(w, "again", "1-2")
        w.wait_until(lambda: backups_of(w) == 2, "backup of the second plug-in")
        self.assertEqual(self.booted(w, "again")["resets"], "1")

    def test_first_seen_boot_loop_of_a_known_phone(self):
        # a known phone that boot-loops while attached (boots=4): identified on the plug-in only
        w = self.world(auto="first-seen")
        w.wait_until(lambda: backups_of(w) == 1, "first backup")
        self.booted(w)
        self.same_phone_again(w, "loop", "1-2", ",boots=4")
        st = self.booted(w, "loop", boots=4)
        self.assertEqual(st["resets"], "1", "the daemon reset the phone on a boot that was not a plug-in")
        self.assertEqual(backups_of(w), 1)

    def test_request_before_plugging_in(self):
        # AutoBackup=never: `mtknvctl backup --wait` first, then the phone; it boots afterwards
        w = self.world("unplugged=1")
        r = w.ctl_then_plug("phone0", "--json", "backup", "--wait")
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        st = self.booted(w)
        self.assertEqual((st["resets"], st["boots"]), ("1", "1"))
        self.assertEqual(backups_of(w), 1)

    def test_request_for_a_phone_left_alone(self):
        # the phone is plugged in first and left alone; a backup asked for while it still listens opens it
        w = self.world("handshake-window=0")
        w.wait_device(lambda p: p["State"] == "idle", "phone left alone")
        r = w.ctl("--json", "backup", "--wait")
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        w.wait_until(lambda: backups_of(w) == 1, "the backup published")

    def test_waiting_request_is_cancelled(self):
        w = self.world("unplugged=1")
        job = json.loads(w.ctl("--json", "backup").stdout)["job"]
        w.bus.call_blocking("org.mtknvd.MtkNv1", job, "org.mtknvd.MtkNv1.Job", "Cancel", "a{sv}", ({},))
        ok, msg = w.wait_job(job)
        self.assertFalse(ok)
        self.assertIn("Cancelled before the phone was there", msg)
        # and the phone plugged in afterwards is left alone again (AutoBackup=never)
        w.control("plug phone0")
        st = self.booted(w)
        self.assertEqual(st["first_rx_us"], "0")

    def test_after_a_refusal(self):
        # the phone refuses the DA (a signed-DA phone) and resets itself: the job fails, and the phone's boot
        # after that is not taken for a new plug-in
        w = self.world("fault=da-reject", auto="first-seen")
        w.wait_until(lambda: any(p.get("ErrorName", "").endswith("DaRejected") for p in w.objects.values()),
                     "DA refused")
        st = self.booted(w)
        self.assertEqual(st["boots"], "1")
        self.assertEqual(backups_of(w), 0)
        self.assertEqual(len(w.jobs_new), 1)

    def test_after_a_restore(self):
        w = self.world(auto="first-seen")
        w.wait_until(lambda: backups_of(w) == 1, "automatic backup")
        self.booted(w)
        bid = next(iter(w.backups.values()))["Id"]
        r = w.ctl_then_plug("phone0", "--json", "restore", "--yes", bid)
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        st = self.booted(w, boots=2)
        self.assertEqual(st["last_reset"], self.REBOOT_RESET)
        self.assertEqual(st["resets"], "2")

    def test_dry_run_says_it_reboots(self):
        w = self.world(auto="first-seen")
        w.wait_until(lambda: backups_of(w) == 1, "automatic backup")
        self.booted(w)
        bid = next(iter(w.backups.values()))["Id"]
        r = w.ctl_then_plug("phone0", "--json", "restore", "--yes", "--dry-run", bid)
        res = json.loads(r.stdout)
        self.assertTrue(res["success"], res)
        self.assertIn("rebooted", res["message"])
        self.booted(w, boots=2)

    def test_unsupported_chip_boots(self):
        # a chip whose DA flow mtknvd does not speak (MT2601's IoT DA): an honest state with the reason,
        # and it boots
        w = self.world("chip=mt2601", auto="first-seen")
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "honest state")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.NotSupported")
        self.assertIn("IoT", props["Error"])
        st = self.booted(w)
        self.assertEqual((st["resets"], st["last_reset"]), ("1", "wdt-swrst"))
        self.assertNotIn("0xd7", st["commands"])
        self.assertEqual(w.jobs_new, [])
        listed = [d for d in w.ctl_json("list") if d["path"] == path]
        self.assertTrue(listed and listed[0]["error_name"].endswith("NotSupported"))


if __name__ == "__main__":
    unittest.main()

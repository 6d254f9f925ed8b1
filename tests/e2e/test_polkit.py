# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 4: every mutating method asks polkit (python3-dbusmock's polkitd
template on the private bus); without polkit only root may act.

The tests run as root, and root is always allowed, so the caller here is
'nobody' (setpriv): a real unprivileged client on the real bus."""

import os
import subprocess
import sys
import unittest

import dbus

from harness import BUILD, mkda
from test_backup import scatter_text
from test_restore import RestoreTestCase

POLKIT_NAME = "org.freedesktop.PolicyKit1"
POLKIT_PATH = "/org/freedesktop/PolicyKit1/Authority"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
ACTION = "org.mtknvd.MtkNv1."
NOBODY = 65534


class PolkitTestCase(RestoreTestCase):

    def setUp(self):
        self.polkitd = None
        self.checks = []

    def tearDown(self):
        if self.polkitd is not None:
            self.polkitd.terminate()
            self.polkitd.wait()

    def open_world(self, w):
        # let 'nobody' reach the bus socket and a directory to write exports into
        os.chmod(w.tmp, 0o711)
        self.out = os.path.join(w.tmp, "out")
        os.mkdir(self.out)
        os.chmod(self.out, 0o777)

    def start_polkit(self, w):
        owners = []
        w.bus.add_signal_receiver(lambda name, old, new: owners.append(new), "NameOwnerChanged",
                                  "org.freedesktop.DBus", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                  arg0=POLKIT_NAME)
        w.bus.add_signal_receiver(lambda name, args: self.checks.append(str(args[1])), "MethodCalled", MOCK_IFACE,
                                  None, POLKIT_PATH, arg0="CheckAuthorization")
        self.polkitd = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "--template", "polkitd"],
                                        env=w.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w.wait_until(lambda: any(owners), "the mock polkitd owns " + POLKIT_NAME)
        self.polkit = dbus.Interface(w.bus.get_object(POLKIT_NAME, POLKIT_PATH), MOCK_IFACE)

    def allow(self, *actions):
        self.polkit.SetAllowed([ACTION + a for a in actions])

    def nobody(self, w, *args):
        return subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                               os.path.join(BUILD, "mtknvctl")] + list(args),
                              env=w.env(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    def assert_denied(self, r, text):
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        self.assertIn(text, r.stderr)

    def world_with_backup(self):
        w = self.backed_up_world()
        self.open_world(w)
        bid = next(iter(w.backups.values()))["Id"]
        self.replug_listening(w)
        da = os.path.join(self.out, "da.bin")
        with open(da, "wb") as f:
            f.write(mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES]))
        self.archive = os.path.join(self.out, "backup.tar")
        w.ctl("export-backup", bid, self.archive)
        os.chmod(self.archive, 0o644)
        return w, bid, da

    def writes(self, w):
        return "0x62" in w.stats("phone0").get("commands", "").split(",")


class TestPolkit(PolkitTestCase):

    def test_without_polkit_only_root(self):
        w, bid, da = self.world_with_backup()
        # reading needs no privileges
        self.assertEqual(self.nobody(w, "list").returncode, 0)
        self.assertEqual(self.nobody(w, "list-da").returncode, 0)
        jobs = len(w.jobs_new)
        for args in (("backup",), ("restore", "--yes", bid), ("export-backup", bid, self.out + "/x.tar"),
                     ("add-da", da), ("import", self.archive), ("inhibit", "--", "true"), ("verify-backup", bid),
                     ("remove-da", "test-da.bin"), ("remove-preloader", "0" * 32 + ".bin")):
            self.assert_denied(self.nobody(w, *args), "polkit is not running, so only root may")
        self.assertEqual(len(w.jobs_new), jobs)
        self.assertFalse(self.writes(w))
        # root is not asked
        w.ctl("export-backup", bid, os.path.join(self.out, "root.tar"))

    def test_allow_deny_matrix(self):
        w, bid, da = self.world_with_backup()
        self.start_polkit(w)
        verbs = {
            "backup": ("backup", "--wait"),
            "restore": ("restore", "--yes", "--dry-run", bid),
            "restore-foreign": ("restore", "--yes", "--dry-run", "--allow-foreign", bid),
            "export-backup": ("export-backup", bid, self.out + "/export.tar"),
            "manage": ("add-da", da),
            "import-backup": ("import", self.archive),
            "inhibit": ("inhibit", "--", "true"),
            "verify": ("verify-backup", bid),
        }
        # the fds of a call that waited for polkit are read once, afterwards
        sc = os.path.join(self.out, "MT6735_Android_scatter.txt")
        with open(sc, "w", newline="") as f:
            f.write(scatter_text())
        os.chmod(sc, 0o644)
        verbs["export-backup"] = ("export-backup", "--format", "spflash", "--scatter", sc, bid,
                                  self.out + "/export.tar")
        for action, args in verbs.items():
            with self.subTest(action=action, allowed=False):
                self.allow(*[a for a in verbs if a != action])
                n = len(self.checks)
                self.assert_denied(self.nobody(w, *args), ACTION + action)
                w.wait_until(lambda: len(self.checks) == n + 1, "CheckAuthorization")
                self.assertEqual(self.checks[-1], ACTION + action)
            with self.subTest(action=action, allowed=True):
                self.allow(action)
                jobs = len(w.jobs_new)
                n = len(self.checks)
                changes = len(w.changes)
                r = self.nobody(w, *args)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                w.wait_until(lambda: len(self.checks) == n + 1, "CheckAuthorization")
                self.assertEqual(self.checks[-1], ACTION + action)
                if action in ("backup", "restore", "restore-foreign"):
                    w.wait_until(lambda: len(w.jobs_new) == jobs + 1, "the job")
                    w.wait_job(w.jobs_new[-1])
                    # the phone reboots at the end of every session; its boot is left alone (and listens)
                    w.wait_until(lambda: any(c.get("State") == "idle" for _, c in w.changes[changes:]),
                                 "the phone back from its reboot")
        self.assertTrue(os.path.getsize(self.out + "/export.tar") > 0)
        # dry runs only: nothing was ever written to the phone
        self.assertFalse(self.writes(w))

    def test_unprivileged_can_never_restore(self):
        w, bid, da = self.world_with_backup()
        self.start_polkit(w)
        self.allow("backup", "export-backup", "import-backup", "manage")
        jobs = len(w.jobs_new)
        self.assert_denied(self.nobody(w, "restore", "--yes", bid), ACTION + "restore")
        # allowing the ordinary restore does not allow a foreign one
        self.allow("restore")
        self.assert_denied(self.nobody(w, "restore", "--yes", "--allow-foreign", bid), ACTION + "restore-foreign")
        self.assertEqual(len(w.jobs_new), jobs)
        self.assertFalse(self.writes(w))

    def test_check_does_not_block_the_daemon(self):
        w, bid, da = self.world_with_backup()
        self.start_polkit(w)
        self.allow("restore")
        self.polkit.SimulateHangActions([ACTION + "restore"])
        n = len(self.checks)
        jobs = len(w.jobs_new)
        client = subprocess.Popen(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                                   os.path.join(BUILD, "mtknvctl"), "--json", "restore", "--yes", "--dry-run", bid],
                                  env=w.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL)
        try:
            w.wait_until(lambda: len(self.checks) > n, "the restore's CheckAuthorization")
            # polkit has not answered; the daemon still serves everyone else
            self.assertEqual(w.ctl("--json", "list").returncode, 0)
            self.assertEqual(len(w.jobs_new), jobs)
            self.polkit.ReleaseHangingCalls()
            out, err = client.communicate(timeout=60)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
        self.assertEqual(client.returncode, 0, out + err)
        w.wait_until(lambda: len(w.jobs_new) == jobs + 1, "the restore job")


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 12: eight phones at once share one daemon (one event loop, one worker thread per backup): each
gets its verified backup, byte for byte its own; one that vanishes mid-read leaves the others alone."""

import os
import unittest

from test_backup import BackupTestCase

N = 8
AUTO = "AutoBackup=first-seen\n"
# under valgrind (and ASan) eight phones move 8 x 120 MiB at a fraction of the speed
TIMEOUT = 480 if os.environ.get("MTKNVD_VALGRIND") == "1" else 300


class TestEightPhones(BackupTestCase):

    def eight(self, faults=None):
        faults = faults or {}
        phones = ["id=p%d%s" % (i, ",fault=" + faults[i] if i in faults else "") for i in range(N)]
        return self.world(*phones, config=AUTO)

    def backup_of(self, w, phone):
        """The Backup object of the phone with that simulator id: by the ME ID of the device on its port."""
        port = w.stats(phone)["port"]
        me = [p["MeId"] for p in w.objects.values() if p.get("UsbPath") == port]
        self.assertEqual(len(me), 1, me)
        found = [path for path, props in w.backups.items() if props["MeId"] == me[0]]
        self.assertEqual(len(found), 1, "%s: %s" % (phone, found))
        return found[0]

    def test_eight_at_once(self):
        w = self.eight()
        w.wait_until(lambda: len(w.backups) == N, "eight verified backups", TIMEOUT)
        for i in range(N):
            phone = "p%d" % i
            self.assert_backup_matches_phone(w, self.backup_of(w, phone), w.stats(phone)["storage"])
        # each read its own phone twice, every packet ACKed, and each was rebooted
        for i in range(N):
            st = w.stats("p%d" % i)
            self.assertIn("0xdb", st["commands"])
        self.no_leftovers(w)
        self.assertTrue(w.daemon_alive())

    def test_one_vanishes_the_others_go_on(self):
        # p3 leaves the bus 20 MiB into its reads, while the others read too
        w = self.eight({3: "unplug-after-da-bytes:%d" % (20 * 1024 * 1024)})
        w.wait_until(lambda: len(w.backups) == N - 1, "seven verified backups", TIMEOUT)
        # from the history of changes: a slow run may have dropped p3's object since (grace period)
        w.wait_until(lambda: any(c.get("ErrorName", "").endswith("DeviceGone") for _, c in w.changes),
                     "p3's backup failed", TIMEOUT)
        for i in range(N):
            if i != 3:
                phone = "p%d" % i
                self.assert_backup_matches_phone(w, self.backup_of(w, phone), w.stats(phone)["storage"])
        self.assertEqual(w.stats("p3")["phase"], "gone")
        self.no_leftovers(w)
        self.assertTrue(w.daemon_alive())


if __name__ == "__main__":
    unittest.main()

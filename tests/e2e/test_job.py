# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Job object's properties say what is known, and nothing more."""

import unittest

import dbus

from harness import BUS_NAME, MANAGER_IFACE, MANAGER_PATH, PROPS_IFACE, WorldTestCase, unwrap
from test_backup import IDENTITY, LAYOUT

JOB_IFACE = "org.mtknvd.MtkNv1.Job"


class TestJobProperties(WorldTestCase):

    def test_progress_valid_only_with_a_total(self):
        # A Backup of "the next phone" with no phone plugged in: the job exists and waits, deterministically, with
        # no size known.  Its two booleans sit next to each other in the daemon (Cancelable true, ProgressValid
        # false): read as the wrong width, ProgressValid would report the neighbour's true.
        w = self.world("id=phone0,unplugged=1")
        changes = []

        def on_props(iface, changed, invalidated, path=None):
            if str(iface) == JOB_IFACE:
                changes.append((str(path), unwrap(changed)))
        w.bus.add_signal_receiver(on_props, "PropertiesChanged", PROPS_IFACE, None, path_keyword="path")

        job = str(w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Backup", "oa{sv}",
                                      (dbus.ObjectPath("/"), {})))
        props = w.get_props(job, JOB_IFACE)
        self.assertEqual(props["Device"], "/")
        self.assertEqual(props["TotalBytes"], 0)
        self.assertIs(props["ProgressValid"], False)
        self.assertIs(props["Cancelable"], True)
        self.assertEqual(props["Operation"], "backup")
        # Get, one property at a time, answers the same
        p = dbus.Interface(w.bus.get_object(BUS_NAME, job, introspect=False), PROPS_IFACE)
        self.assertIs(unwrap(p.Get(JOB_IFACE, "ProgressValid")), False)
        self.assertIs(unwrap(p.Get(JOB_IFACE, "Cancelable")), True)

        # the phone comes: the total becomes known, and only with it is the progress valid
        w.control("plug phone0")
        ok, message = w.wait_job(job)
        self.assertTrue(ok, message)
        valid = [c for path, c in changes if path == job and "ProgressValid" in c]
        self.assertTrue(valid, "ProgressValid never announced: %s" % changes)
        for c in valid:
            self.assertEqual(c["ProgressValid"], c["TotalBytes"] > 0, c)
        self.assertTrue(valid[-1]["ProgressValid"], valid)
        # Size is the backup's own size; TotalBytes counts both reads of it
        sizes = [c["Size"] for path, c in changes if path == job and "Size" in c]
        totals = [c["TotalBytes"] for path, c in changes if path == job and "TotalBytes" in c]
        self.assertTrue(sizes and totals, changes)
        self.assertEqual(sizes[-1], sum(LAYOUT[n][1] for n in IDENTITY))
        self.assertEqual(totals[-1], 2 * sizes[-1])


if __name__ == "__main__":
    unittest.main()

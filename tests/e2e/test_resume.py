# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 4: an interrupted restore leaves a journal; the phone says so on its
Device object when it comes back, and 'mtknvctl restore --resume' finishes
it (or --rollback puts the snapshot back)."""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest

import dbus

from harness import BUILD, BUS_NAME, World
from test_backup import IDENTITY, LAYOUT
from test_restore import RestoreTestCase

MiB = 1024 * 1024
GPT_READ = 0x8000
SNAPSHOT = 2 * sum(size for _, size in LAYOUT.values())   # the pre-restore backup reads everything twice
# each partition is written, then read back, in IDENTITY order
SIZES = [LAYOUT[n][1] for n in IDENTITY]


class ResumeTestCase(RestoreTestCase):

    def interrupted(self, w, path):
        # asked, not cached: the journal may have changed since the last signal
        return tuple(w.get_props(path)["InterruptedRestore"])

    def phone(self, storage):
        return {n: self.read_part(storage, n) for n in IDENTITY}

    def assert_journal_covers(self, w, storage, before, backup):
        """Whatever the phone holds now, a journal must say so unless it is one whole image set."""
        now = self.phone(storage)
        if now != before and now != backup:
            mixed = [n for n in IDENTITY if now[n] not in (before[n], backup[n])]
            path = [p for p, d in w.objects.items() if d.get("MeId")][0]
            self.assertNotEqual(self.interrupted(w, path)[0], "",
                                "a mixed phone (partly written: %s) without a journal entry" % mixed)


class TestUnplugDuringRestore(ResumeTestCase):

    def unplug_at(self, offset_into_writes, rollback=False):
        w = self.backed_up_world()
        storage = self.storage(w)
        bid = next(iter(w.backups.values()))["Id"]
        backup = self.phone(storage)
        self.scribble(storage)
        before = self.phone(storage)
        w.control("fault phone0 unplug-after-da-bytes:%d" % (GPT_READ + SNAPSHOT + offset_into_writes))
        r, res = self.restore(w, bid, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("restore --resume", res["message"])
        self.assertIn("journal", res["message"])
        self.assertIn("during the restore", res["message"])
        self.assertNotIn("Nothing was stored", res["message"])
        w.wait_state("disconnected")

        # plugged in again with nothing asked for: the journal makes the daemon identify it, say so, and let
        # it go
        path = self.replug_identified(w)
        self.assertIn("interrupted", w.objects[path]["StateReason"])
        self.assertIn("restore --resume", w.objects[path]["StateReason"])
        self.assertEqual(len(w.jobs_new), 2, "something was started on a phone with an interrupted restore")
        self.assert_journal_covers(w, storage, before, backup)
        key = path.rsplit("/", 1)[1]
        want, snapshot, phase = self.interrupted(w, path)
        self.assertEqual(want, bid, res["message"])
        self.assertEqual(phase, "restore")
        shown = w.ctl("show", key).stdout
        self.assertIn("Interrupted restore: %s was being written" % bid, shown)
        self.assertIn("restore --resume", shown)
        self.assertIn(key, snapshot)
        # the snapshot holds what the phone had before the restore began
        self.assertEqual(self.backup_images(w, snapshot)["nvram"], before["nvram"])

        r, res = self.restore(w, None, "--resume", *(["--rollback"] if rollback else []))
        self.assertTrue(res["success"], res)
        self.assertEqual(self.phone(storage), before if rollback else backup)
        self.assertEqual(self.interrupted(w, path), ("", "", ""))
        # nothing left to resume
        r = w.ctl("restore", "--resume", "--yes", "--device", key, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no interrupted restore", r.stderr)

    def test_unplug_in_first_chunk(self):
        self.unplug_at(64 * 1024)

    def test_unplug_in_middle_chunk_then_roll_back(self):
        # halfway through writing protect2
        self.unplug_at(2 * sum(SIZES[:3]) + SIZES[3] // 2, rollback=True)

    def test_unplug_in_last_chunk(self):
        self.unplug_at(2 * sum(SIZES[:4]) + SIZES[4] - 64 * 1024)

    def test_nack_during_write_rolls_back_at_once(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        before = self.phone(storage)
        w.control("fault phone0 nack@" + self.WRITE_OP)
        r, res = self.restore(w, bid, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("rolled back", res["message"])
        self.assertEqual(self.phone(storage), before)
        # rolled back in the same session and rebooted: it boots, and no journal is left
        w.sim_wait("phone0", phase="booted", boots=2)
        path = [p for p, d in w.objects.items() if d.get("MeId")][0]
        self.assertEqual(self.interrupted(w, path), ("", "", ""))


class TestDaemonKilledDuringRestore(ResumeTestCase):

    def test_killed_then_resumed(self):
        keep = tempfile.mkdtemp(prefix="mtknvd-keep-")
        self.addCleanup(shutil.rmtree, keep, True)
        storage = os.path.join(keep, "phone0.img")
        state = os.path.join(keep, "state")
        phone = "id=phone0,storage=" + storage
        w = self.backed_up_world(phone, state_dir=state)
        bid = next(iter(w.backups.values()))["Id"]
        backup = self.phone(storage)
        self.scribble(storage)
        before = self.phone(storage)

        steps = []
        w.bus.add_signal_receiver(
            lambda iface, changed, inv, path=None: steps.append(str(changed["Step"]))
            if iface == "org.mtknvd.MtkNv1.Job" and "Step" in changed else None,
            "PropertiesChanged", "org.freedesktop.DBus.Properties", None, path_keyword="path")
        n = len(w.jobs_new)
        client = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "restore", "--yes", bid], env=w.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        w.wait_until(lambda: len(w.jobs_new) > n, "the restore waits for the phone")
        w.control("replug phone0")
        # the first partition is written and being verified: the phone is mixed now
        # proinfo is the same in both image sets; nvram differs
        w.wait_until(lambda: "reading nvram back to verify" in steps, "nvram written")
        pid = int(w.bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                      "GetConnectionUnixProcessID", "s", (BUS_NAME,)))
        w.expected_exit = True
        os.kill(pid, signal.SIGKILL)
        out, err = client.communicate(timeout=60)
        self.assertNotEqual(client.returncode, 0)
        self.assertIn("restore --resume", out + err)
        w.close()

        # the phone is unplugged and plugged again; a new daemon starts
        w = self.world(phone, state_dir=state, daemon_args=["--grace-period=60"])
        path, _ = w.wait_device(lambda p: p["State"] == "released" and p["Present"], "phone identified")
        self.assert_journal_covers(w, storage, before, backup)
        want, snapshot, phase = self.interrupted(w, path)
        self.assertEqual(want, bid)
        self.assertNotEqual(self.phone(storage), before, "the kill came too early to test a mix")
        r, res = self.restore(w, None, "--resume")
        self.assertTrue(res["success"], res)
        self.assertEqual(self.phone(storage), backup)
        self.assertFalse(os.listdir(os.path.join(state, "journal")))


if __name__ == "__main__":
    unittest.main()

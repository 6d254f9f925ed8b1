# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 4 (first part): restore that cannot lose data."""

import json
import os
import unittest

from harness import WorldTestCase
from test_backup import IDENTITY, LAYOUT, scatter_text


class RestoreTestCase(WorldTestCase):
    # the phone's write command in the simulator's command list: the legacy DA's WRITE_DATA
    # (test_xflash.py runs these tests on an XFlash phone, whose WRITE_DATA is 0x010004)
    WRITE_OP = "0x62"

    def backed_up_world(self, *phones, **kw):
        """A world whose phones were each backed up once and have rebooted."""
        phones = phones or ("id=phone0",)
        w = self.world(*phones, config="AutoBackup=first-seen\n", daemon_args=["--grace-period=60"], **kw)
        w.wait_until(lambda: len(w.backups) == len(phones), "first backups")
        # released after the backup: each phone reboots, is left alone, and boots
        for p in phones:
            w.sim_wait(p.split(",")[0].split("=")[1], phase="booted")
        return w

    def storage(self, w, phone="phone0"):
        return w.stats(phone)["storage"]

    def read_part(self, storage, name):
        start, size = LAYOUT[name]
        with open(storage, "rb") as f:
            f.seek(start)
            return f.read(size)

    def scribble(self, storage):
        # what a bad flash does: nvram and nvdata wiped
        for name in ("nvram", "nvdata"):
            start, size = LAYOUT[name]
            with open(storage, "r+b") as f:
                f.seek(start)
                f.write(bytes(size))

    def backup_images(self, w, backup_id):
        d = os.path.join(w.state_dir, "backups", backup_id)
        out = {}
        for name in IDENTITY:
            with open(os.path.join(d, name + ".img"), "rb") as f:
                out[name] = f.read()
        return out

    def replug_identified(self, w, phone="phone0"):
        """The phone plugged in again with nothing asked for: with a backup (or a journal) it is identified
        and let go; returns its object path once the daemon released it."""
        n = len(w.changes)
        w.plug_again(phone)
        w.wait_until(lambda: any(c.get("State") == "released" for _, c in w.changes[n:]), "phone identified again")
        w.sync()
        return [p for p, c in w.changes[n:] if c.get("State") == "released"][0]

    def replug_listening(self, w, phone="phone0"):
        """Plugged in again, and this time its preloader listens for ever: the phone stays there, left alone
        (a real one boots after its window), for the commands the test sends next."""
        port = w.stats(phone)["port"]
        n = len(w.changes)
        w.control("replug %s handshake-window=0" % phone)
        w.wait_until(lambda: any(c.get("State") == "idle" and w.objects.get(p, {}).get("UsbPath") == port
                                 for p, c in w.changes[n:]), "phone there, left alone")
        w.sync()

    def replug_ready(self, w, phone="phone0"):
        """A phone there for the Backup/Restore calls a test makes next: plugged in again, listening for ever,
        left alone (the calls open it)."""
        self.replug_listening(w, phone)

    def ready_device(self, w):
        """The one phone that is there, left alone or ready, for a call to open."""
        there = [p for p in w.objects if w.get_props(p)["State"] in ("idle", "ready") and w.get_props(p)["Present"]]
        self.assertEqual(len(there), 1, there)
        return there[0]

    def restore(self, w, backup_id, *extra, check=True, phone="phone0"):
        """mtknvctl restore first, then the phone plugged in (powered off), as a user does."""
        args = ["--json", "restore", "--yes"] + ([backup_id] if backup_id else []) + list(extra)
        r = w.ctl_then_plug(phone, *args, check=False)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r, (json.loads(r.stdout) if r.stdout.strip() else None)


class TestRestore(RestoreTestCase):

    def test_restore_brings_partitions_back(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        wiped = self.read_part(storage, "nvram")
        r, res = self.restore(w, bid)
        self.assertTrue(res["success"], res)
        self.assertIn("verified", res["message"])
        for n in IDENTITY:
            self.assertEqual(self.read_part(storage, n), original[n], n + " not restored")
        # the phone's state before the restore was saved first
        w.wait_until(lambda: any(b["Source"] == "pre-restore" for b in w.backups.values()), "pre-restore snapshot")
        pre = [b for b in w.backups.values() if b["Source"] == "pre-restore"][0]
        self.assertEqual(self.backup_images(w, pre["Id"])["nvram"], wiped)

    def test_dry_run_writes_nothing(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        before = self.read_part(storage, "nvram")
        r, res = self.restore(w, bid, "--dry-run")
        self.assertTrue(res["success"])
        self.assertIn("Dry run", res["message"])
        self.assertEqual(self.read_part(storage, "nvram"), before)
        self.assertEqual(len(w.backups), 1)

    def test_corrupted_write_rolls_back(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        before = {n: self.read_part(storage, n) for n in IDENTITY}
        w.control("fault phone0 corrupt-write@" + self.WRITE_OP)
        r, res = self.restore(w, bid, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertFalse(res["success"])
        self.assertIn("rolled back", res["message"])
        for n in IDENTITY:
            self.assertEqual(self.read_part(storage, n), before[n], n + " is not as before the restore")

    def test_unplug_mid_write_keeps_snapshot(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        # the snapshot reads 2 x 60 MiB; the phone vanishes a little into the writes
        w.control("fault phone0 unplug-after-da-bytes:%d" % (2 * 60 * 1024 * 1024 + 6 * 1024 * 1024))
        r, res = self.restore(w, bid, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("pre-restore snapshot", res["message"])
        w.wait_until(lambda: any(b["Source"] == "pre-restore" for b in w.backups.values()), "snapshot kept")
        self.assertTrue(w.daemon_alive())

    def test_foreign_backup_refused_then_overridden(self):
        w = self.backed_up_world("id=a", "id=b")
        by_key = {b["MeId"]: b["Id"] for b in w.backups.values()}
        a_me = [p for p in w.objects.values()]  # both phones are known by now
        self.assertEqual(len(by_key), 2)
        port = w.stats("b")["port"]
        b_path, b_dev = [(p, d) for p, d in w.objects.items() if d["UsbPath"] == port][0]
        a_backup = [bid for me, bid in by_key.items() if me != b_dev["MeId"]][0]
        device = ("--device", b_path.rsplit("/", 1)[1])
        r, res = self.restore(w, a_backup, *device, check=False, phone="b")
        self.assertEqual(r.returncode, 1)
        self.assertIn("another phone", res["message"])
        self.assertIn("allow-foreign", res["message"])
        self.assertNotIn(self.WRITE_OP, w.stats("b")["commands"].split(","))
        w.sim_wait("b", phase="booted")
        r, res = self.restore(w, a_backup, "--allow-foreign", *device, phone="b")
        self.assertTrue(res["success"], res)
        del a_me

    def test_size_mismatch_refused(self):
        # a backup taken with a scatter file whose nvram is smaller than the phone's
        w = self.world("unplugged=1", daemon_args=["--grace-period=60"])
        storage = self.storage(w)
        sc = os.path.join(w.tmp, "small-nvram_scatter.txt")
        start, size = LAYOUT["nvram"]
        with open(sc, "w", newline="") as f:
            f.write(scatter_text().replace("partition_size: 0x%x\r\n  region: EMMC_USER" % size,
                                           "partition_size: 0x%x\r\n  region: EMMC_USER" % (size - 0x100000), 1))
        r = w.ctl_then_plug("phone0", "--json", "backup", "--wait", "--scatter", sc)
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        bid = next(iter(w.backups.values()))["Id"]
        before = {n: self.read_part(storage, n) for n in IDENTITY}
        w.sim_wait("phone0", phase="booted")
        r, res = self.restore(w, bid, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not where the backup's were", res["message"])
        self.assertIn("never truncated or padded", res["message"])
        self.assertNotIn(self.WRITE_OP, w.stats("phone0")["commands"].split(","))
        self.assertEqual({n: self.read_part(storage, n) for n in IDENTITY}, before)
        self.assertEqual(len(w.backups), 1, "no snapshot for a refused restore")

    def test_partition_subset_warns(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        wiped = {n: self.read_part(storage, n) for n in IDENTITY}
        r, res = self.restore(w, bid, "--partitions", "nvram")
        self.assertTrue(res["success"], res)
        self.assertIn("restoring nvram without nvdata", r.stderr)
        self.assertIn("belong together", res["message"])
        self.assertEqual(self.read_part(storage, "nvram"), original["nvram"])
        self.assertEqual(self.read_part(storage, "nvdata"), wiped["nvdata"])
        # an unknown partition is refused before anything happens
        w.sim_wait("phone0", phase="booted", boots=2)
        r = w.ctl("--json", "restore", "--yes", bid, "--partitions", "nvram,modem", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('no partition "modem"', r.stderr)


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 13: BROM mode, with the DRAM settings of the phone's own preloader (brom-emi.md).

The simulated phone plugs in in BROM mode (0e8d:0003, full speed); its legacy DA1 answers the
configuration with 0xBC3, reports its memory id, and brings DRAM up only with the EMI records of the
preloader it was given (`preloader=`) or, without one, with a block of its chip's version that has a
record for its memory id.  The preloader images are written by tests/tools/mkpreloader.py in the real
formats; no MediaTek binary is needed.
"""

import json
import os
import shutil
import tempfile

from harness import WorldTestCase  # first: it puts tests/tools on the path
from test_backup import IDENTITY, LAYOUT, scatter_text

import mkda  # noqa: E402
import mkpreloader  # noqa: E402

# the first 9 bytes of the simulated eMMC's CID (MID 0x15, CBX, OID, PNM "8GND3R"): what a preloader's
# eMMC record names, and what DA1 reports first in its memory id, which is the CID (brom-emi.md 4.4)
MEM_ID = "15010038474e443352"
OTHER_ID = "150100514436444142"
EMMC_LPDDR3 = 0x0203


def preloader(version=20, ids=(MEM_ID,), name="preloader_k37mv1_bsp.bin", form="gfh", seed=None):
    """A preloader image whose EMI block has one eMMC+LPDDR3 record per memory id (its first 9 bytes,
    as real eMMC records are)."""
    records = [(EMMC_LPDDR3, bytes.fromhex(i)[:9]) for i in ids]
    return mkpreloader.build(form=form, version=version, name=name, records=records, seed=seed)


class BromTestCase(WorldTestCase):

    def brom_world(self, *keys, config="AutoBackup=first-seen\n", **kw):
        """One BROM-mode phone, not plugged yet, and the daemon running: the test adds what it needs
        and plugs it in."""
        phone = "id=phone0,mode=brom,unplugged=1" + "".join("," + k for k in keys)
        return self.world(phone, config=config, daemon_args=["--grace-period=60"], **kw)

    def firmware_dir(self, w, *preloaders, da=True, scatter=True, others=("system.img", "boot.img")):
        """A firmware package folder as vendors ship it."""
        d = os.path.join(w.tmp, "firmware")
        os.makedirs(d, exist_ok=True)
        for name, data in preloaders:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        if da:
            with open(os.path.join(d, "MTK_AllInOne_DA.bin"), "wb") as f:
                f.write(mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES]))
        if scatter:
            with open(os.path.join(d, "MT6735_Android_scatter.txt"), "w") as f:
                f.write(scatter_text())
        for o in others:
            with open(os.path.join(d, o), "wb") as f:
                f.write(b"\0" * 4096)
        return d

    def write(self, w, name, data):
        path = os.path.join(w.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def write_tmp(self, name, data):
        """A file for the simulator's own keys, written before the world exists."""
        d = tempfile.mkdtemp(prefix="mtknvd-brom-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def add_preloader(self, w, data, name="preloader_k37mv1_bsp.bin"):
        return w.ctl("add-preloader", self.write(w, name, data))

    def phone_bytes(self, w, name):
        start, size = LAYOUT[name]
        with open(w.stats("phone0")["storage"], "rb") as f:
            f.seek(start)
            return f.read(size)

    def assert_backup_is_phone(self, w, path):
        props = w.get_props(path, "org.mtknvd.MtkNv1.Backup")
        d = os.path.join(w.state_dir, "backups", *props["Id"].split("/"))
        self.assertEqual(sorted(p[0] for p in props["Partitions"]), sorted(IDENTITY))
        for name, region, offset, size, sha, file in props["Partitions"]:
            with open(os.path.join(d, file), "rb") as f:
                self.assertEqual(f.read(), self.phone_bytes(w, name), name + " differs from the phone")
        self.assertTrue(props["Verified"])
        return props

    def plug_and_see_dram(self, w, version):
        """Plug the phone in and wait, phone side, until its DA has DRAM up with our settings: the
        simulator's stats are per enumeration, and after the session the phone reboots as a preloader."""
        w.plug_again("phone0")
        w.sim_wait("phone0", mode="brom", usb="full", dram="up", emi_version_sent=version)

    def failed(self, w, error_name):
        path, props = w.wait_device(lambda p: p.get("ErrorName", "").endswith("." + error_name),
                                    "phone failed with " + error_name)
        self.assertEqual(w.backups, {})
        return path, props


class TestBromBackup(BromTestCase):

    def backup_and_restore(self, chip, version):
        w = self.brom_world("chip=" + chip)
        d = self.firmware_dir(w, ("preloader_board.bin", preloader(version)))
        w.ctl("add-firmware", d)
        self.plug_and_see_dram(w, version)
        w.wait_until(lambda: len(w.backups) == 1, "BROM-mode backup stored")
        path, props = next(iter(w.backups.items()))
        props = self.assert_backup_is_phone(w, path)
        self.assertEqual(props["Chip"], chip.upper())
        # the DA rebooted it; it comes back as a preloader and boots
        w.sim_wait("phone0", phase="booted")
        st = w.stats("phone0")

        # a bad flash wipes nvram; restored in BROM mode again, with the same checks
        original = self.phone_bytes(w, "nvram")
        start, size = LAYOUT["nvram"]
        with open(st["storage"], "r+b") as f:
            f.seek(start)
            f.write(bytes(size))
        n = len(w.jobs_new)
        proc = w.ctl_bg("--json", "restore", "--yes", props["Id"])
        w.wait_until(lambda: len(w.jobs_new) > n or proc.poll() is not None, "the restore waits for the phone")
        self.plug_and_see_dram(w, version)
        out, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("verified", out)
        self.assertEqual(self.phone_bytes(w, "nvram"), original)
        w.wait_until(lambda: any(b["Source"] == "pre-restore" for b in w.backups.values()), "pre-restore snapshot")

    def test_mt6735(self):
        self.backup_and_restore("mt6735", 20)

    def test_mt6580(self):
        self.backup_and_restore("mt6580", 21)

    def backup_only(self, chip, version):
        # the other EMI versions of the same ENABLE_DRAM branch (brom-emi.md 6.2 row 9)
        w = self.brom_world("chip=" + chip)
        self.add_preloader(w, preloader(version))
        da = mkda.build([mkda.parse_entry("dacode=0x" + chip[2:])])
        w.ctl("add-da", self.write(w, "MTK_AllInOne_DA.bin", da))
        self.plug_and_see_dram(w, version)
        w.wait_until(lambda: len(w.backups) == 1, chip + " backed up in BROM mode")
        self.assert_backup_is_phone(w, next(iter(w.backups)))

    def test_mt6795(self):
        self.backup_only("mt6795", 15)

    def test_mt8163(self):
        self.backup_only("mt8163", 16)

    def test_mt6752(self):
        self.backup_only("mt6752", 17)

    def test_right_preloader_among_several(self):
        right = preloader(20, ids=(OTHER_ID, MEM_ID), name="preloader_right.bin")
        sim_copy = self.write_tmp("right.bin", right)
        w = self.brom_world("preloader=" + sim_copy)
        # another chip's block that names this memory, and a block of this chip for other memory
        self.add_preloader(w, preloader(35, ids=(MEM_ID,), name="preloader_mt6765.bin"), "a.bin")
        self.add_preloader(w, preloader(20, ids=(OTHER_ID,), name="preloader_other.bin"), "b.bin")
        self.add_preloader(w, right, "c.bin")
        self.add_preloader(w, preloader(21, ids=(MEM_ID,), name="preloader_mt6580.bin"), "d.bin")
        self.plug_and_see_dram(w, 20)
        w.wait_until(lambda: len(w.backups) == 1, "backup with the right preloader")
        with open(w.daemon_log) as f:
            self.assertIn("from preloader_right.bin", f.read())



class TestBromRefusals(BromTestCase):

    def test_no_preloader_stored(self):
        # refused before anything is sent: the boot ROM is reset and the phone boots
        w = self.brom_world()
        w.plug_again("phone0")
        path, props = w.wait_device(lambda p: p.get("State") == "unsupported", "phone refused at identification")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.PreloaderNeeded")
        self.assertIn("add-firmware", props["Error"])
        self.assertIn("EMI version 20", props["Error"])
        # reset from the boot ROM's command loop (a DA would have needed its own reboot command)
        w.sim_wait("phone0", phase="booted")
        self.assertEqual(w.stats("phone0")["last_reset"], "wdt-swrst")

    def test_no_matching_memory(self):
        w = self.brom_world()
        self.add_preloader(w, preloader(20, ids=(OTHER_ID,)))
        w.plug_again("phone0")
        path, props = self.failed(w, "PreloaderNeeded")
        self.assertIn(MEM_ID, props["Error"])
        self.assertIn("add-firmware", props["Error"])
        self.assertIn("power key", props["Error"])
        # nothing was offered to the DA
        self.assertEqual(w.stats("phone0")["emi_version_sent"], "none")

    def test_known_memory_checked_before_sending(self):
        # backed up once in preloader mode, the daemon knows its eMMC CID (the memory id DA1 reports): in BROM
        # mode, a preloader without settings for it is refused before anything is sent, and the phone released
        w = self.world("id=phone0", config="AutoBackup=always\n", daemon_args=["--grace-period=60"])
        w.wait_until(lambda: len(w.backups) == 1, "backup in preloader mode")
        cid = next(iter(w.backups.values()))["EmmcCid"]
        w.sim_wait("phone0", phase="booted")
        self.add_preloader(w, preloader(20, ids=(OTHER_ID,)), "other.bin")
        n = len(w.changes)
        w.control("set phone0 mode=brom")
        w.plug_again("phone0")
        w.wait_until(lambda: any(c.get("State") == "unsupported" for _, c in w.changes[n:]), "refused in BROM mode")
        props = w.get_props(next(iter(w.objects)))
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.PreloaderNeeded")
        self.assertIn("eMMC CID " + cid, props["Error"])
        w.sim_wait("phone0", phase="booted")
        self.assertEqual(w.stats("phone0")["last_reset"], "wdt-swrst")
        # with its own preloader it is backed up in BROM mode
        self.add_preloader(w, preloader(20, ids=(cid,)), "own.bin")
        self.plug_and_see_dram(w, 20)
        w.wait_until(lambda: len(w.backups) == 2, "backup in BROM mode")

    def test_wrong_version_refused_by_the_da(self):
        # the phone's DA wants v21 (another board's chip revision), the stored preloader is v20
        w = self.brom_world("emi-version=21")
        self.add_preloader(w, preloader(20))
        w.plug_again("phone0")
        path, props = self.failed(w, "PreloaderNeeded")
        self.assertIn("refused EMI version 20", props["Error"])
        self.assertEqual(w.stats("phone0")["emi_version_sent"], "20")
        self.assertEqual(w.stats("phone0")["dram"], "none")

    def test_foreign_block_dram_fails(self):
        # a preloader of another firmware with a record for this memory: the phone's RAM does not come up
        own = self.write_tmp("own.bin", preloader(20, name="preloader_own.bin", seed="own"))
        w = self.brom_world("preloader=" + own)
        self.add_preloader(w, preloader(20, name="preloader_foreign.bin", seed="foreign"))
        w.plug_again("phone0")
        path, props = self.failed(w, "PreloaderNeeded")
        self.assertIn("did not come up", props["Error"])
        self.assertIn("preloader_foreign.bin", props["Error"])
        self.assertEqual(w.stats("phone0")["dram"], "failed")

    def test_vanishes_during_emi(self):
        w = self.brom_world("fault=unplug-after-cmd:0xe8")
        self.add_preloader(w, preloader(20))
        w.plug_again("phone0")
        path, props = self.failed(w, "DeviceGone")
        self.assertEqual(w.backups, {})


class TestPreloaderFiles(BromTestCase):

    def test_add_refuses_bad_files(self):
        w = self.brom_world()
        good = preloader(20)
        for name, data, words in (
                ("truncated.bin", good[:len(good) - 0x124 - 4 - 100], "truncated"),
                ("bare-truncated.bin", preloader(20, form="bare")[:0x70 + 50], "truncated"),
                ("random.bin", os.urandom(8192), "not"),
                ("empty.bin", b"", "not")):
            r = w.ctl("add-preloader", self.write(w, name, data), check=False)
            self.assertEqual(r.returncode, 1, name + ": " + r.stdout + r.stderr)
            self.assertIn(words, r.stderr.lower(), name)
            self.assertIn("preloader", r.stderr, name)
        self.assertEqual(os.listdir(os.path.join(w.state_dir, "preloader"))
                         if os.path.isdir(os.path.join(w.state_dir, "preloader")) else [], [])

    def test_add_accepts_every_form(self):
        w = self.brom_world()
        for form in ("gfh", "boot", "bare"):
            r = self.add_preloader(w, preloader(20, form=form, seed=form), form + ".bin")
            self.assertIn("EMI v20", r.stdout)
            self.assertIn("eMMC+LPDDR3 " + MEM_ID, r.stdout)
        self.assertEqual(len(os.listdir(os.path.join(w.state_dir, "preloader"))), 3)

    def test_inspect(self):
        w = self.brom_world()
        j = w.ctl_json("inspect", self.write(w, "p.bin", preloader(20, ids=(MEM_ID, OTHER_ID), form="boot")))
        self.assertEqual((j["kind"], j["form"], j["emi_version"]), ("preloader", "boot-area dump", 20))
        self.assertIn("MT6735", j["chips"])
        self.assertTrue(j["usable"])
        self.assertEqual(j["file_name"], "preloader_k37mv1_bsp.bin")
        self.assertEqual([(r["dram"], r["id_length"], r["memory_id"]) for r in j["records"]],
                         [("eMMC+LPDDR3", 9, MEM_ID), ("eMMC+LPDDR3", 9, OTHER_ID)])
        # an XFlash-era preloader: its whole block goes to the XFlash DA (INIT_EXT_RAM)
        j = w.ctl_json("inspect", self.write(w, "q.bin", preloader(35)))
        self.assertEqual(j["emi_version"], 35)
        self.assertTrue(j["usable"])
        self.assertIn("MT6765", j["chips"])
        # one of a version whose DRAM exchange mtknvd does not speak: described, and said to be of no use yet
        j = w.ctl_json("inspect", self.write(w, "r.bin", preloader(13)))
        self.assertFalse(j["usable"])

    def test_add_firmware_folder(self):
        w = self.brom_world()
        d = self.firmware_dir(w, ("preloader_k37mv1_bsp.bin", preloader(20)))
        r = w.ctl("add-firmware", d)
        out = r.stdout
        self.assertIn("preloader added", out)
        self.assertIn("Download Agent added", out)
        self.assertIn("MT6735_Android_scatter.txt", out)
        self.assertIn("scatter file for MT6735, valid", out)   # checked with Inspect's a{sv}
        self.assertIn("2 other files", out)
        self.assertEqual(len(os.listdir(os.path.join(w.state_dir, "preloader"))), 1)
        self.assertEqual(len([n for n in os.listdir(os.path.join(w.state_dir, "da")) if n != "test-da.bin"]), 1)
        # a folder whose preloader is damaged: listed as refused, the rest added, exit 1
        bad = os.path.join(w.tmp, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "preloader_x.bin"), "wb") as f:
            f.write(b"MMM\x01\x38\x00\x00\x00" + bytes(100))
        shutil.copy(os.path.join(d, "MTK_AllInOne_DA.bin"), bad)
        # named like a scatter file, but a preloader: Inspect says what it is
        with open(os.path.join(bad, "MT6735_Android_scatter.txt"), "wb") as f:
            f.write(preloader(20))
        r = w.ctl("add-firmware", bad, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a scatter file (it is a preloader)", r.stdout)
        self.assertIn("preloader_x.bin", r.stdout)
        self.assertIn("refused", r.stdout)
        self.assertIn("Download Agent added", r.stdout)
        # a folder with nothing for mtknvd
        empty = os.path.join(w.tmp, "empty")
        os.makedirs(empty)
        r = w.ctl("add-firmware", empty, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Nothing was added", r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()

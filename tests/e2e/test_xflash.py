# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 14: phones with MediaTek's XFlash ("V5") Download Agent, backed up and restored.

The simulated phones speak the XFlash DA (tests/sim, written from xflash.md); the DA file
is an XFlash-layout container from tests/tools/mkda.py.  Where the partitions are is read
here from the phone's own GPT, independently of the daemon.
"""

import hashlib
import json
import os
import shutil
import struct
import tarfile
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

from harness import WorldTestCase, mkda
from test_brom import BromTestCase, preloader
import mkpreloader  # tests/tools, on the path test_brom set  # noqa: E402
import test_backup
import test_lifecycle
import test_brom
import test_restore
import test_resume

AUTO = "AutoBackup=first-seen\n"
# what the MT6765 layout of the simulator has of the default identity set
UFS_LPDDR4X = 0x0306          # brom-emi.md §4.4: eUFS + LPDDR4X (uMCP), its id an ASCII part number
XFLASH_IDENTITY = {"nvram", "nvdata", "nvcfg", "protect1", "protect2", "proinfo", "persist"}
CANONICAL = {"pro_info": "proinfo", "protect_f": "protect1", "protect_s": "protect2"}


def gpt_partitions(path):
    """{canonical name: (offset, size)} from the image's primary GPT, 512- or 4096-byte sectors."""
    with open(path, "rb") as f:
        head = f.read(0x10000)
    for sector in (512, 4096):
        if head[sector:sector + 8] == b"EFI PART":
            break
    else:
        raise AssertionError("no GPT in " + path)
    h = head[sector:sector + 92]
    hsize, = struct.unpack_from("<I", h, 12)
    crc = zlib.crc32(h[:16] + b"\0\0\0\0" + h[20:hsize]) & 0xffffffff
    assert crc == struct.unpack_from("<I", h, 16)[0], "GPT header CRC"
    lba, n, esize = struct.unpack_from("<QII", h, 72)
    out = {}
    for i in range(n):
        e = head[lba * sector + i * esize:lba * sector + (i + 1) * esize]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        name = e[56:128].decode("utf-16-le").split("\0")[0].lower()
        out[CANONICAL.get(name, name)] = (first * sector, (last - first + 1) * sector)
    return out


def read_at(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


class XFlashTestCase(WorldTestCase):

    def da_state(self, name, key, dacodes, state=None):
        """A state directory (state, or a new one) whose DA store has the DA file `name`, one entry of
        layout key (xflash=1, xml=1) for each of these chips."""
        if not state:
            state = tempfile.mkdtemp(prefix="mtknvd-state-", dir=os.environ.get("TMPDIR"))
            self.addCleanup(shutil.rmtree, state, True)
        os.makedirs(os.path.join(state, "da"), exist_ok=True)
        with open(os.path.join(state, "da", name), "wb") as f:
            f.write(mkda.build([mkda.parse_entry("dacode=0x%04x,%s" % (c, key)) for c in dacodes]))
        return state

    def xflash_state(self, *dacodes, state=None):
        """A state directory whose DA store has an XFlash-layout DA for these chips (xflash.md §5.2)."""
        return XFlashTestCase.da_state(self, "xflash-da.bin", "xflash=1", dacodes, state)

    def backed_up(self, phone, dacode, **kw):
        w = self.world(phone, config=AUTO, state_dir=self.xflash_state(dacode),
                       daemon_args=["--grace-period=60"], **kw)
        w.wait_until(lambda: len(w.completed) >= 1, "backup job done", 90)
        failed = [m for ok, m in w.completed.values() if not ok]
        self.assertEqual(failed, [], "the backup failed\n" + (w.describe() if failed else ""))
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        st = w.stats("phone0")
        # it went the XFlash way, in step: DA2 ran, reads had no checksum words (§10.2), and the
        # phone was rebooted with the reboot form of SHUTDOWN (§13)
        self.assertEqual(st["da_protocol"], "xflash")
        self.assertEqual(st["xf_protocol_errors"], "0")
        self.assertEqual(st["xf_checksum_level"], "0")
        self.assertEqual(st["xf_boot_refused"], "0")
        w.sim_wait("phone0", xf_shutdown="reboot")
        return w

    def assert_xflash_backup(self, w, storage, want_names):
        props = next(iter(w.backups.values()))
        parts = gpt_partitions(storage)
        d = os.path.join(w.state_dir, "backups", *props["Id"].split("/"))
        names = {p[0] for p in props["Partitions"]}
        self.assertEqual(names, want_names)
        for name, region, offset, size, sha, file in props["Partitions"]:
            self.assertEqual((region, offset, size), ("user",) + parts[name], name)
            with open(os.path.join(d, file), "rb") as f:
                data = f.read()
            self.assertEqual(hashlib.sha256(data).hexdigest(), sha)
            self.assertEqual(data, read_at(storage, offset, size), name + " differs from the phone")
        self.assertTrue(props["Verified"])
        return props

    def restore_after_wipe(self, w, storage, plug=None):
        """Wipe nvram and nvdata, restore the backup, and check every identity partition came back.
        plug(w): how the phone is plugged in once the restore waits for it (default: as a preloader)."""
        parts = gpt_partitions(storage)
        props = next(iter(w.backups.values()))
        names = [p[0] for p in props["Partitions"]]
        original = {n: read_at(storage, *parts[n]) for n in names}
        w.sim_wait("phone0", phase="booted")
        for n in ("nvram", "nvdata"):
            with open(storage, "r+b") as f:
                f.seek(parts[n][0])
                f.write(bytes(parts[n][1]))
        if plug is None:
            r = w.ctl_then_plug("phone0", "--json", "restore", "--yes", props["Id"], check=False)
            out, err, rc = r.stdout, r.stderr, r.returncode
        else:
            n = len(w.jobs_new)
            proc = w.ctl_bg("--json", "restore", "--yes", props["Id"])
            w.wait_until(lambda: len(w.jobs_new) > n or proc.poll() is not None, "the restore waits for the phone")
            plug(w)
            out, err = proc.communicate(timeout=300)
            rc = proc.returncode
        self.assertEqual(rc, 0, out + err + w.describe())
        for n in names:
            self.assertEqual(read_at(storage, *parts[n]), original[n], n + " not restored")


class TestXFlashEmmc(XFlashTestCase):

    def test_mt6765_backup_and_restore(self):
        w = self.backed_up("chip=mt6765", 0x6765)
        st = w.stats("phone0")
        storage = st["storage"]
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY)
        self.assertEqual(props["Chip"], "MT6765")
        self.assertEqual(props["TableSource"], "gpt")
        # xflash.md §8.1: the eMMC CID is what the backup is bound to
        self.assertEqual((props["StorageType"], props["StorageId"]), ("emmc", props["EmmcCid"]))
        self.assertEqual(len(props["EmmcCid"]), 32)
        # §13: the phone was told to reboot and left the bus
        w.wait_until(lambda: any(p["State"] == "disconnected" for p in w.objects.values()) or not w.objects,
                     "phone rebooted after the backup")
        self.restore_after_wipe(w, storage)


class TestXFlashUfs(XFlashTestCase):

    def test_mt6785_ufs_backup_and_restore(self):
        w = self.backed_up("chip=mt6785,storage-type=ufs", 0x6785)
        storage = w.stats("phone0")["storage"]
        self.assertEqual(w.stats("phone0")["storage_type"], "ufs")
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        self.assertEqual(props["Chip"], "MT6785")
        # the UFS serial (xflash.md §8.2), not an eMMC CID
        self.assertEqual(props["StorageType"], "ufs")
        self.assertEqual(props["EmmcCid"], "")
        self.assertNotEqual(props["StorageId"], "")
        self.restore_after_wipe(w, storage)


class TestXFlashMt6570(XFlashTestCase):

    def test_mt6570_backup_and_restore(self):
        # the MT6765 layout of the simulator's default is covered by the MT6765 tests: the small one here
        w = self.backed_up("chip=mt6570,layout=gpt", 0x6570)
        storage = w.stats("phone0")["storage"]
        have = set(gpt_partitions(storage))
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & have)
        self.assertEqual(props["Chip"], "MT6570")
        self.restore_after_wipe(w, storage)


class TestXFlashOtherChips(XFlashTestCase):
    # the other XFlash chips of the simulator, each backed up once (their own hw code, DA entry and EMI version)

    def backup_chip(self, chip, dacode):
        w = self.backed_up("chip=" + chip, dacode)
        storage = w.stats("phone0")["storage"]
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        self.assertEqual(props["Chip"], chip.upper())

    def test_mt6761(self):
        self.backup_chip("mt6761", 0x6761)

    def test_mt6768(self):
        self.backup_chip("mt6768", 0x6768)

    def test_mt6771(self):
        self.backup_chip("mt6771", 0x6771)


class TestXFlashTolerance(XFlashTestCase):
    # what xflash.md leaves open (§19), each answer the simulator can give: the backup works with all

    def backup_with(self, keys, dacode=0x6765, chip="mt6765"):
        w = self.backed_up("chip=%s,layout=gpt,%s" % (chip, keys), dacode)
        storage = w.stats("phone0")["storage"]
        self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        return w

    def test_read_status_before_ack(self):
        # §19.2: the per-chunk status sent before the host's acknowledgement arrived
        self.backup_with("xf-read-status=before-ack")

    def test_one_read_status(self):
        # §19.4: a DA that sends one status after the READ_DATA parameters, not two
        self.backup_with("xf-read-statuses=1")

    def test_zlp_after_each_chunk(self):
        # §2.3: a zero-length packet between units is harmless
        self.backup_with("xf-read-zlp=1")

    def test_old_emmc_info_and_zero_sync(self):
        # §8.1: the older 0x60-byte eMMC info; §9.1 row 6: DA2 says 0 instead of SYNC
        w = self.backup_with("xf-emmc-info=0x60,xf-da2-sync=zero")
        self.assertEqual(len(next(iter(w.backups.values()))["EmmcCid"]), 32)

    def test_small_packets_and_restore(self):
        # §8.3: packet lengths are the DA's: many small chunks each way, the read buffers lent and given back
        w = self.backup_with("xf-read-packet=0x20000,xf-write-packet=0x10000")
        self.restore_after_wipe(w, w.stats("phone0")["storage"])

    def test_old_ufs_info(self):
        # §8.2: the old 0x34-byte UFS info has no serial; the product id is the storage id then
        w = self.backup_with("storage-type=ufs,xf-ufs-info=0x34", 0x6785, "mt6785")
        props = next(iter(w.backups.values()))
        self.assertEqual(props["StorageType"], "ufs")
        self.assertEqual(len(props["StorageId"]), 32)


class TestXFlashRefusals(XFlashTestCase):

    def test_sla_required(self):
        # xflash.md §9.2: DA2 says DA-SLA is on; mtknvd cannot answer the challenge and says so
        w = self.world("chip=mt6765,sla=1", config=AUTO, state_dir=self.xflash_state(0x6765))
        w.wait_until(lambda: len(w.completed) >= 1, "backup job done", 90)
        ok, message = next(iter(w.completed.values()))
        self.assertFalse(ok)
        self.assertIn("requires SLA authentication, which mtknvd does not support", message)
        self.assertIn("SLA_ENABLED_STATUS is 1", message)
        self.assertEqual(w.backups, {})
        path, props = w.wait_device(lambda p: p.get("ErrorName", "").endswith(".NotSupported"), "NotSupported")
        self.assertIn("SLA", props["Error"])

    def test_da2_refused(self):
        # §9.1 row 5: DA1 does not run the DA2 it got; the status is named with its remedy
        w = self.world("chip=mt6765,fault=da-reject@0x010008", config=AUTO, state_dir=self.xflash_state(0x6765))
        w.wait_until(lambda: len(w.completed) >= 1, "backup job done", 90)
        ok, message = next(iter(w.completed.values()))
        self.assertFalse(ok)
        self.assertIn("0xc0070004 (DA hash mismatch)", message)
        self.assertIn("add-da", message)
        self.assertEqual(w.stats("phone0")["xf_boot_refused"], "1")
        self.assertEqual(w.backups, {})

    def test_garbled_header(self):
        # §2.1: a header without the magic is a protocol error (the session is out of step), named
        w = self.world("chip=mt6765,fault=wrong-echo@0x010005", config=AUTO, state_dir=self.xflash_state(0x6765))
        w.wait_until(lambda: len(w.completed) >= 1, "backup job done", 90)
        ok, message = next(iter(w.completed.values()))
        self.assertFalse(ok)
        self.assertIn("bad magic", message)
        path, props = w.wait_device(lambda p: p.get("ErrorName", "").endswith(".ProtocolError"), "ProtocolError")
        self.assertEqual(w.backups, {})


class TestXFlashSecureBoot(XFlashTestCase):

    def test_sbc_phone_runs_the_unsigned_da2(self):
        # §5.2, §9.1: with secure boot DA1 runs only the DA2 whose SHA-256 it carries, which is
        # the hash of DA2 without its signature: what BOOT_TO sends
        w = self.backed_up("chip=mt6765,target-config=0x1", 0x6765)
        self.assert_xflash_backup(w, w.stats("phone0")["storage"], XFLASH_IDENTITY)


class TestXFlashDaa(XFlashTestCase):
    # brom.md §3.5: DAA is the boot ROM's check of the DA1 upload, whatever the DA family: a phone
    # that enforces it takes only its manufacturer's DA, and says so before any XFlash packet

    def test_daa_refuses_a_foreign_da(self):
        w = self.world("chip=mt6765,target-config=0x4", config=AUTO, state_dir=self.xflash_state(0x6765))
        w.wait_until(lambda: len(w.completed) >= 1, "backup job done", 90)
        ok, message = next(iter(w.completed.values()))
        self.assertFalse(ok)
        self.assertIn("manufacturer", message)
        self.assertEqual(w.backups, {})
        self.assertNotEqual(w.stats("phone0").get("xf_stage", ""), "da2")

    def test_daa_with_the_oem_da(self):
        w = self.backed_up("chip=mt6765,layout=gpt,target-config=0x4,daa-accept=1", 0x6765)
        storage = w.stats("phone0")["storage"]
        self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))


class TestXFlashBrom(BromTestCase, XFlashTestCase):
    # xflash.md §7, §16.5: DA1 says "brom", reports the eMMC CID, and gets the whole EMI block
    # of the stored preloader (MT6765: version 35) through INIT_EXT_RAM before BOOT_TO

    def brom_backup(self, keys, dacode, version, records, restore=True):
        """A BROM-mode phone backed up with the EMI block of its chip's version (brom-emi.md §4.6),
        then, with restore, nvram and nvdata wiped and restored in BROM mode again."""
        w = self.brom_world(keys, state_dir=self.xflash_state(dacode))
        self.add_preloader(w, mkpreloader.build(form="gfh", version=version, name="preloader_board.bin",
                                                records=records))
        self.plug_and_see_dram(w, version)
        w.wait_until(lambda: len(w.completed) >= 1, "BROM-mode backup job done", 300)
        failed = [m for ok, m in w.completed.values() if not ok]
        self.assertEqual(failed, [], "the backup failed\n" + (w.describe() if failed else ""))
        w.wait_until(lambda: len(w.backups) == 1, "BROM-mode backup stored")
        self.assertEqual(w.stats("phone0")["xf_emi_tries"], "1")
        self.assertEqual(w.stats("phone0")["da_protocol"], "xflash")
        storage = w.stats("phone0")["storage"]
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        self.assertEqual(props["Chip"], keys.split(",")[0].split("=")[1].upper())
        if restore:
            self.restore_after_wipe(w, storage, plug=lambda w: self.plug_and_see_dram(w, version))
        return props

    def test_mt6765_brom_backup(self):
        # the MT6765 layout; its BROM-mode restore is TestBromBackupXFlash's (layout=gpt)
        self.brom_backup("chip=mt6765", 0x6765, 35, [(test_brom.EMMC_LPDDR3, bytes.fromhex(test_brom.MEM_ID))],
                         restore=False)

    def test_mt6570_brom_backup_and_restore(self):
        # eMMC records name the CID's first 9 bytes (brom-emi.md §4.4); MT6570 takes version 27
        self.brom_backup("chip=mt6570,layout=gpt", 0x6570, 27,
                         [(test_brom.EMMC_LPDDR3, bytes.fromhex(test_brom.MEM_ID))])

    def test_mt6785_ufs_brom_backup_and_restore(self):
        # brom-emi.md §4.4, §5: a UFS phone's DA1 has no eMMC (GET_EMMC_INFO type 0), so the UFS
        # product id from GET_UFS_INFO names its memory: the record with that part number is chosen.
        # On the UFS image of the MT6785 layout, restored byte-identical on LU2.
        props = self.brom_backup("chip=mt6785,storage-type=ufs", 0x6785, 45, [(UFS_LPDDR4X, b"KM2V8001CM-B707")])
        self.assertEqual(props["StorageType"], "ufs")

    def test_mt6785_ufs_brom_other_part(self):
        # a record for another UFS part: nothing is sent blindly; the message names the product id (hex)
        w = self.brom_world("chip=mt6785,storage-type=ufs", state_dir=self.xflash_state(0x6785))
        self.add_preloader(w, mkpreloader.build(form="gfh", version=45, name="preloader_other.bin",
                                                records=[(UFS_LPDDR4X, b"H9HQ16AFAMMDAR")]))
        w.plug_again("phone0")
        path, props = self.failed(w, "PreloaderNeeded")
        self.assertIn(b"KM2V8001CM-B707".hex(), props["Error"])
        self.assertEqual(w.stats("phone0")["xf_emi_tries"], "0")

    def test_mt6765_brom_other_memory(self):
        # a preloader of the right version, for another memory: nothing fits, nothing is sent
        # blindly; the phone's DA1 waits, and the message says which preloader is needed
        w = self.brom_world("chip=mt6765", state_dir=self.xflash_state(0x6765))
        self.add_preloader(w, preloader(35, ids=("150100514436444142",)))
        w.plug_again("phone0")
        path, props = self.failed(w, "PreloaderNeeded")
        self.assertIn("memory id", props["Error"])
        self.assertEqual(w.stats("phone0")["xf_emi_tries"], "0")


class XFlashPhone:
    """Runs a family of tests written for the legacy DA on an XFlash MT6765 with the simulator's
    MT6735 partition layout (layout=gpt), so that their offsets and checks hold unchanged."""
    PHONE_KEYS = "chip=mt6765,layout=gpt"
    WRITE_OP = "0x010004"

    def world(self, *phones, **kw):
        phones = tuple(p + "," + self.PHONE_KEYS for p in (phones or ("id=phone0",)))
        kw["state_dir"] = XFlashTestCase.xflash_state(self, 0x6765, state=kw.get("state_dir"))
        return super().world(*phones, **kw)


class TestRestoreXFlash(XFlashPhone, test_restore.TestRestore):
    pass


class TestUnplugDuringRestoreXFlash(XFlashPhone, test_resume.TestUnplugDuringRestore):
    pass


class TestDaemonKilledDuringRestoreXFlash(XFlashPhone, test_resume.TestDaemonKilledDuringRestore):
    pass


class TestLifecycleXFlash(XFlashPhone, test_lifecycle.TestLifecycle):
    REBOOT_RESET = "shutdown"
    # MT2601 is not an XFlash chip: the legacy run covers it
    test_unsupported_chip_boots = None

    def same_phone_again(self, w, new_id, port, extra=""):
        # the phone added again is the same XFlash phone
        return super().same_phone_again(w, new_id, port, "," + self.PHONE_KEYS + extra)


class TestBackupXFlash(XFlashPhone, test_backup.BackupTestCase):
    # the backup tests that do not look at legacy-DA bytes, on an XFlash phone
    READ_OP = "0x010005"
    test_first_seen_only_once = test_backup.TestBackup.test_first_seen_only_once
    test_manual_backup_with_scatter = test_backup.TestBackup.test_manual_backup_with_scatter
    test_export = test_backup.TestBackup.test_export
    test_cancel_leaves_nothing = test_backup.TestBackup.test_cancel_leaves_nothing


class TestBackupFaultsXFlash(XFlashPhone, test_backup.TestBackupFaults):
    READ_OP = "0x010005"

    # xflash.md §10.2: with checksum level 0 reads carry no checksum, so the legacy DA's read
    # checksum tests have no XFlash counterpart; what a DA reports instead is a status
    test_bad_checksum_once_is_retried = None
    test_bad_checksum_persistent = None

    def test_chunk_status_error(self):
        # a status where a chunk belongs ends the read with the status and its remedy
        w = self.world("fault=chunk-status:0xc0040030@" + self.READ_OP, config="AutoBackup=first-seen\n")
        msg = self.fails(w, "ProtocolError", "0xc0040030")
        self.assertIn("eMMC error", msg)
        self.assertIn("may be failing", msg)

    def test_read_refused(self):
        # §14: READ_DATA refused at once
        w = self.world("fault=status:0xc004000b@" + self.READ_OP, config="AutoBackup=first-seen\n")
        self.fails(w, "ProtocolError", "beyond the end of the storage")


class TestBromBackupXFlash(XFlashPhone, test_brom.BromTestCase):
    # the BROM-mode backup and restore of test_brom, on an XFlash MT6765 (EMI v35, INIT_EXT_RAM)
    PHONE_KEYS = "layout=gpt"

    def test_mt6765(self):
        test_brom.TestBromBackup.backup_and_restore(self, "mt6765", 35)
        self.assertEqual(self.w.stats("phone0")["da_protocol"], "xflash")


class TestXFlashBromSpeed(BromTestCase, XFlashTestCase):
    # xflash.md §9.4, §16.5: a BROM-loaded DA runs at full speed; asked with SWITCH_USB_SPEED it leaves
    # the bus and comes back as 0e8d:2001 at high speed, still in DA2.  The daemon opens it again (no
    # handshake) and the same job goes on, on the same D-Bus object.

    def speed_world(self, *keys):
        w = self.brom_world("chip=mt6765", *keys, state_dir=self.xflash_state(0x6765))
        self.add_preloader(w, mkpreloader.build(form="gfh", version=35, name="preloader_board.bin",
                                                records=[(test_brom.EMMC_LPDDR3, bytes.fromhex(test_brom.MEM_ID))]))
        return w

    def states_of_the_job(self, w, path, start=0):
        """The State and Present values the phone's object showed from "busy" to the job's end."""
        seen, busy = [], False
        for p, c in w.changes[start:]:
            if p != path:
                continue
            if c.get("State") == "busy":
                busy = True
            if busy:
                seen += [("State", c["State"])] if "State" in c else []
                seen += [("Present", c["Present"])] if "Present" in c else []
            if busy and c.get("State") in ("released", "error"):
                break
        return seen

    def switched_backup(self, w):
        """Plug the phone in, see it leave for high speed and come back, and return the busy object's path."""
        self.plug_and_see_dram(w, 35)
        path, _ = w.wait_device(lambda p: p.get("State") == "busy", "the phone busy")
        added, removed = len(w.added), len(w.removed)
        # the simulator: the DA back in DA2, at high speed, the same life (mode stays brom until a reset)
        w.sim_wait("phone0", mode="brom", usb="high", phase="xflash-da2")
        w.wait_until(lambda: len(w.completed) >= 1, "BROM-mode backup job done", 300)
        failed = [m for ok, m in w.completed.values() if not ok]
        self.assertEqual(failed, [], "the backup failed\n" + (w.describe() if failed else ""))
        # the object never flapped: no Device removed or added, never disconnected while busy
        self.assertEqual((len(w.added), len(w.removed)), (added, removed), w.describe())
        states = self.states_of_the_job(w, path)
        self.assertNotIn(("State", "disconnected"), states)
        self.assertNotIn(("Present", False), states)
        self.assertEqual(states[-1], ("State", "released"), states)
        return path

    def test_brom_backup_switched_to_high_speed(self):
        w = self.speed_world("usb-speed=auto")
        self.switched_backup(w)
        w.wait_until(lambda: len(w.backups) == 1, "BROM-mode backup stored")
        storage = w.stats("phone0")["storage"]
        self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        # one life: plugged in, re-enumerated for the switch (not a reset), rebooted by SHUTDOWN
        w.sim_wait("phone0", xf_shutdown="reboot", phase="booted")
        st = w.stats("phone0")
        self.assertEqual((st["resets"], st["enumerations"]), ("1", "3"), st)
        self.assertIn("comes back as 0e8d:2001", open(w.daemon_log).read())

    def test_no_switch_when_the_da_reports_high_speed(self):
        # usb-speed=1: GET_USB_SPEED says high-speed, so nothing is switched and the phone never leaves
        w = self.speed_world("usb-speed=1")
        self.plug_and_see_dram(w, 35)
        w.wait_until(lambda: len(w.completed) >= 1, "BROM-mode backup job done", 300)
        failed = [m for ok, m in w.completed.values() if not ok]
        self.assertEqual(failed, [], "the backup failed\n" + (w.describe() if failed else ""))
        w.sim_wait("phone0", xf_shutdown="reboot", phase="booted")
        st = w.stats("phone0")
        self.assertEqual((st["resets"], st["enumerations"]), ("1", "2"), st)
        self.assertNotIn("switching it to high speed", open(w.daemon_log).read())

    def test_phone_not_back_in_time(self):
        # boot-delay: the DA comes back 15 s after the switch, beyond the 10 s the daemon waits
        w = self.speed_world("usb-speed=auto", "boot-delay=15000")
        self.plug_and_see_dram(w, 35)
        w.sim_wait("phone0", phase="reconnecting")
        w.wait_until(lambda: len(w.completed) >= 1, "the job failed", 60)
        (ok, msg), = w.completed.values()
        self.assertFalse(ok)
        self.assertIn("did not come back after switching to high-speed USB", msg)
        self.assertIn("preloader mode", msg)
        path, props = w.wait_device(lambda p: p.get("ErrorName", "").endswith(".DeviceGone"), "DeviceGone")
        self.assertIn("high-speed USB", props["Error"])
        # nothing stored, nothing left half-written
        self.assertEqual(w.backups, {})
        left = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(w.state_dir, "backups")) for f in fs]
        self.assertEqual(left, [])

    def test_phone_back_as_a_preloader(self):
        # while the DA is away for the switch the phone comes back on its port as a preloader
        # (0e8d:2000: it restarted, or was replugged): not the DA the session waits for, so the job
        # fails naming both ids; the preloader is then handled as any phone that appears: replugged
        # with AutoBackup=first-seen it is backed up, in preloader mode (high speed, no switch)
        w = self.speed_world("usb-speed=auto", "boot-delay=15000")
        self.plug_and_see_dram(w, 35)
        w.sim_wait("phone0", phase="reconnecting")
        w.control("replug phone0 mode=preloader")
        w.wait_until(lambda: len(w.completed) >= 1, "the job failed", 60)
        (ok, msg), = w.completed.values()
        self.assertFalse(ok)
        self.assertIn("restarted while switching to high-speed USB", msg)
        self.assertIn("0e8d:2000", msg)
        self.assertIn("0e8d:2001", msg)
        self.assertEqual(w.backups, {})
        w.wait_until(lambda: len(w.completed) >= 2, "the preloader's backup done", 120)
        self.assertEqual([ok for ok, m in w.completed.values()], [False, True], w.completed)
        self.assertEqual(len(w.backups), 1)
        # the phone's object stayed (only the port's placeholder of the first plug-in went)
        self.assertEqual([p for p in w.removed if "/port_" not in p], [])

    def test_brom_restore_across_the_switch(self):
        # backed up and restored in BROM mode, each session switched to high speed on the way
        w = self.speed_world("usb-speed=auto")
        path = self.switched_backup(w)
        w.wait_until(lambda: len(w.backups) == 1, "BROM-mode backup stored")
        storage = w.stats("phone0")["storage"]

        def plug(w):
            plug.start = len(w.changes)
            self.plug_and_see_dram(w, 35)
            w.sim_wait("phone0", mode="brom", usb="high", phase="xflash-da2")
        self.restore_after_wipe(w, storage, plug=plug)
        w.wait_until(lambda: len(w.completed) >= 2, "the restore job done")
        self.assertTrue(all(ok for ok, m in w.completed.values()), w.completed)
        states = self.states_of_the_job(w, path, plug.start)
        self.assertNotIn(("State", "disconnected"), states)
        self.assertEqual(states[-1], ("State", "released"), states)


class TestXFlashBromSilentEmi(BromTestCase, XFlashTestCase):

    def test_silent_emi_refusal(self):
        # §7, §19.5: a DA that never answers settings that do not fit: a DRAM failure, named, with the
        # remedy.  The phone's DRAM comes up only with its own preloader's block; the stored one has a
        # record for its memory but other settings.
        own = self.write_tmp("own.bin", preloader(35, name="preloader_own.bin", seed="own"))
        w = self.brom_world("chip=mt6765,xf-emi-refuse=silent,preloader=" + own, state_dir=self.xflash_state(0x6765))
        self.add_preloader(w, preloader(35, name="preloader_foreign.bin", seed="foreign"))
        w.plug_again("phone0")
        path, props = w.wait_device(lambda p: p.get("ErrorName", "").endswith(".PreloaderNeeded"),
                                    "phone failed with PreloaderNeeded", 60)
        self.assertIn("did not answer the DRAM settings", props["Error"])
        self.assertEqual(w.backups, {})



def v2_scatter(tables):
    """A V2.1.0 scatter file (da.md §6.1, last paragraph): one "- storage_type:" block per storage, each a
    description list of V1.1 partition blocks.  tables: [(storage, region, {name: (offset, size)})]."""
    out = ("- general: MTK_PLATFORM_CFG\n  info:\n    - config_version: V2.1.0\n      platform: MT6785\n"
           "      storage: EMMC\n      block_size: 0x20000\n")
    for storage, region, parts in tables:
        out += "- storage_type: %s\n  description:\n" % storage
        for i, (name, (start, size)) in enumerate(sorted(parts.items(), key=lambda kv: kv[1][0])):
            out += ("    - partition_index: SYS%d\n      partition_name: %s\n      file_name: NONE\n"
                    "      is_download: false\n      type: NORMAL_ROM\n      linear_start_addr: 0x%x\n"
                    "      physical_start_addr: 0x%x\n      partition_size: 0x%x\n      region: %s\n"
                    "      storage: HW_STORAGE_%s\n      is_reserved: false\n      operation_type: PROTECTED\n"
                    "      reserve: 0x00\n\n" % (i, name, start, start, size, region, storage))
    return out


def v2_scatter_xml(tables):
    """The same as an MT6785_Android_scatter.xml (da.md §6.3): a <storage_type name="..."> element per storage,
    with its <general name="MTK_STORAGE_CFG">, holding <partition_index> elements."""
    out = ('<?xml version="1.0" encoding="utf-8"?>\n<root>\n  <general name="MTK_PLATFORM_CFG">\n'
           '    <config_version name="V2.1.0"><platform>MT6785</platform><project>sim</project></config_version>\n'
           '  </general>\n')
    for storage, region, parts in tables:
        out += ('  <storage_type name="%s">\n    <general name="MTK_STORAGE_CFG"><storage name="%s">'
                '<block_size>0x20000</block_size></storage></general>\n' % (storage, storage))
        for i, (name, (start, size)) in enumerate(sorted(parts.items(), key=lambda kv: kv[1][0])):
            out += ('    <partition_index name="SYS%d"><partition_name>%s</partition_name><file_name>NONE</file_name>'
                    '<is_download>false</is_download><type>NORMAL_ROM</type>'
                    '<linear_start_addr>0x%x</linear_start_addr><physical_start_addr>0x%x</physical_start_addr>'
                    '<partition_size>0x%x</partition_size><region>%s</region><storage>HW_STORAGE_%s</storage>'
                    '<is_reserved>false</is_reserved><operation_type>PROTECTED</operation_type>'
                    '</partition_index>\n' % (i, name, start, start, size, region, storage))
        out += "  </storage_type>\n"
    return out + "</root>\n"


class TestXFlashV2Scatter(XFlashTestCase):
    # issue 14: a V2.1.0 scatter file has a table per storage type; the phone's storage picks one

    def scatter_world(self, keys, dacode):
        w = self.world("unplugged=1,layout=gpt," + keys, state_dir=self.xflash_state(dacode))
        storage = w.stats("phone0")["storage"]
        parts = {n: p for n, p in gpt_partitions(storage).items() if n in XFLASH_IDENTITY}
        return w, storage, parts

    def test_ufs_phone_takes_the_ufs_table(self):
        w, storage, parts = self.scatter_world("chip=mt6785,storage-type=ufs", 0x6785)
        # the eMMC table puts everything 1 MiB further: read with it, no byte would match
        emmc = {n: (o + 0x100000, z) for n, (o, z) in parts.items()}
        sc = os.path.join(w.tmp, "MT6785_Android_scatter.txt")
        with open(sc, "w") as f:
            f.write(v2_scatter([("EMMC", "EMMC_USER", emmc), ("UFS", "UFS_LU2", parts)]))
        info = w.ctl_json("inspect", sc)
        self.assertEqual(info["kind"], "scatter")
        self.assertEqual([t["storage"] for t in info["storages"]], ["EMMC", "UFS"])
        ufs = {p["name"]: (p["region"], p["offset"], p["size"]) for p in info["storages"][1]["partitions"]}
        self.assertEqual(ufs, {n: ("user",) + p for n, p in parts.items()})
        self.assertIn("UFS: the table used on a phone with UFS storage", w.ctl("inspect", sc).stdout)

        r = w.ctl_then_plug("phone0", "--json", "backup", "--wait", "--scatter", sc)
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        props = self.assert_xflash_backup(w, storage, set(parts))
        self.assertEqual((props["TableSource"], props["StorageType"]), ("scatter", "ufs"))

        # the SP Flash Tool export marks the partitions in the UFS table, not in the eMMC one
        out = os.path.join(w.tmp, "spflash.tar")
        w.ctl("export-backup", "--format", "spflash", "--scatter", sc, props["Id"], out)
        with tarfile.open(out) as t:
            text = next(t.extractfile(m).read().decode() for m in t.getmembers() if m.name.endswith("_scatter.txt"))
        emmc_part, ufs_part = text.split("- storage_type: UFS\n")
        self.assertNotIn("is_download: true", emmc_part)
        self.assertEqual(ufs_part.count("is_download: true"), len(parts))
        for n in parts:
            self.assertIn("partition_name: %s\n      file_name: %s.img\n" % (n, n), ufs_part)

    def test_ufs_phone_takes_the_ufs_table_of_an_xml_file(self):
        # the XML form of the same file: the phone's storage picks the same table, the export edits it as XML
        w, storage, parts = self.scatter_world("chip=mt6785,storage-type=ufs", 0x6785)
        emmc = {n: (o + 0x100000, z) for n, (o, z) in parts.items()}
        sc = os.path.join(w.tmp, "MT6785_Android_scatter.xml")
        with open(sc, "w") as f:
            f.write(v2_scatter_xml([("EMMC", "EMMC_USER", emmc), ("UFS", "UFS_LU2", parts)]))
        info = w.ctl_json("inspect", sc)
        self.assertEqual((info["kind"], info["syntax"]), ("scatter", "xml"))
        self.assertEqual([t["storage"] for t in info["storages"]], ["EMMC", "UFS"])

        r = w.ctl_then_plug("phone0", "--json", "backup", "--wait", "--scatter", sc)
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        props = self.assert_xflash_backup(w, storage, set(parts))
        self.assertEqual((props["TableSource"], props["StorageType"]), ("scatter", "ufs"))

        out = os.path.join(w.tmp, "spflash.tar")
        w.ctl("export-backup", "--format", "spflash", "--scatter", sc, props["Id"], out)
        with tarfile.open(out) as t:
            names = [m.name for m in t.getmembers() if m.name.endswith("_scatter.xml")]
            self.assertEqual([os.path.basename(n) for n in names], ["MT6785_Android_scatter.xml"])
            root = ET.fromstring(t.extractfile(names[0]).read())
        tables = {st.get("name"): st for st in root.findall("storage_type")}
        self.assertEqual([p.findtext("is_download") for p in tables["EMMC"].findall("partition_index")],
                         ["false"] * len(parts))
        for p in tables["UFS"].findall("partition_index"):
            n = p.findtext("partition_name")
            self.assertEqual((p.findtext("file_name"), p.findtext("is_download")), (n + ".img", "true"))

    def test_emmc_phone_without_an_emmc_table(self):
        w, storage, parts = self.scatter_world("chip=mt6765", 0x6765)
        sc = os.path.join(w.tmp, "MT6785_Android_scatter.txt")
        with open(sc, "w") as f:
            f.write(v2_scatter([("UFS", "UFS_LU2", parts)]))
        r = w.ctl_then_plug("phone0", "--json", "backup", "--wait", "--scatter", sc, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("partition tables for UFS storage but none for the phone's emmc", r.stdout + r.stderr)
        self.assertEqual(w.backups, {})


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 15: phones with MediaTek's XML ("V6") Download Agent, backed up and restored.

The simulated phones speak the XML DA (tests/sim, written from xml-da.md); the DA file is a
V6-layout container from tests/tools/mkda.py (xml=1: DA1 signed, DA2 sent by BOOT-TO, DA2's
SHA-256 in DA1's hash slot).  V6 phones are usually DAA phones in preloader mode that take only
their manufacturer's DA (xml-da.md §4.3): the simulator's daa-accept=1 says the DA added is that
one.  Where the partitions are is read here from the phone's own GPT, independently of the daemon.
"""

from test_xflash import AUTO, XFLASH_IDENTITY, gpt_partitions, XFlashTestCase
import test_backup
import test_lifecycle
import test_restore
import test_resume

MT6789 = 0x1208          # xml-da.md §4.1: a V6 entry carries the hw code itself
MT6855 = 0x1129
MT6893 = 0x6893          # an XFlash-era chip whose phones ship a V6 DA (§1)
DAA = "target-config=0x4,daa-accept=1"


class XmlTestCase(XFlashTestCase):

    def xml_state(self, *dacodes, state=None):
        """A state directory whose DA store has a V6 DA file for these chips (xml-da.md §4.1)."""
        return XFlashTestCase.da_state(self, "oem-da-v6.bin", "xml=1", dacodes, state)

    def backed_up(self, phone, dacode, **kw):
        w = self.world(phone, config=AUTO, state_dir=self.xml_state(dacode),
                       daemon_args=["--grace-period=60"], **kw)
        w.wait_until(lambda: len(w.completed) >= 1, "backup job done", 90)
        failed = [m for ok, m in w.completed.values() if not ok]
        self.assertEqual(failed, [], "the backup failed\n" + (w.describe() if failed else ""))
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        st = w.stats("phone0")
        # it went the XML way and stayed in step: DA2 ran, the DA never had to drop a packet
        # or refuse a reply of ours, and the phone was told to reboot (REBOOT IMMEDIATE, §5.5)
        self.assertEqual(st["da_protocol"], "xml")
        self.assertEqual(st["xml_protocol_errors"], "0")
        self.assertEqual(st["xml_bad_replies"], "0")
        self.assertEqual(st["xml_boot_refused"], "0")
        w.sim_wait("phone0", last_reset="reboot")
        return w

    def failed_job(self, w):
        w.wait_until(lambda: len(w.completed) >= 1, "backup job done", 90)
        ok, message = next(iter(w.completed.values()))
        self.assertFalse(ok, message)
        self.assertEqual(w.backups, {})
        return message


class TestXmlUfs(XmlTestCase):

    def test_mt6789_ufs_daa_backup_and_restore(self):
        # the "done when": a DAA MT6789 on UFS with the OEM DA added, backed up automatically
        # and restored byte-identical
        w = self.backed_up("chip=mt6789,storage-type=ufs," + DAA, MT6789)
        storage = w.stats("phone0")["storage"]
        self.assertEqual(w.stats("phone0")["storage_type"], "ufs")
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        self.assertEqual(props["Chip"], "MT6789")
        self.assertEqual(props["StorageType"], "ufs")
        self.assertNotEqual(props["StorageId"], "")
        self.restore_after_wipe(w, storage)


class TestXmlEmmc(XmlTestCase):

    def test_mt6855_emmc_backup_and_restore(self):
        w = self.backed_up("chip=mt6855,layout=gpt", MT6855)
        storage = w.stats("phone0")["storage"]
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        self.assertEqual(props["Chip"], "MT6855")
        # the eMMC CID of GET-HW-INFO (§5.1) is what the backup is bound to
        self.assertEqual((props["StorageType"], props["StorageId"]), ("emmc", props["EmmcCid"]))
        self.assertEqual(len(props["EmmcCid"]), 32)
        self.restore_after_wipe(w, storage)

    def test_mt6893_runs_xml_with_a_v6_da(self):
        # §1: an XFlash-era chip whose DA file is a V6 one speaks XML
        w = self.backed_up("chip=mt6893,layout=gpt", MT6893)
        storage = w.stats("phone0")["storage"]
        props = self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        self.assertEqual(props["Chip"], "MT6893")


class TestXmlTolerance(XmlTestCase):
    # what xml-da.md leaves open, each answer the simulator can give: the backup works with all

    def backup_with(self, keys):
        w = self.backed_up("chip=mt6789,layout=gpt," + keys, MT6789)
        storage = w.stats("phone0")["storage"]
        self.assert_xflash_backup(w, storage, XFLASH_IDENTITY & set(gpt_partitions(storage)))
        return w

    def test_start_with_an_empty_arg(self):
        # §3.1: a START document with an empty <arg></arg> (113 bytes instead of 102)
        self.backup_with("xml-start=arg")

    def test_small_packets_and_restore(self):
        # §11 item 1: the DA's packet lengths are its own
        w = self.backup_with("xml-read-packet=0x10000,xml-write-packet=0x8000")
        self.restore_after_wipe(w, w.stats("phone0")["storage"])

    def test_hex_values_only(self):
        # §11 item 2: a DA that takes OK@0x… in hex only
        self.backup_with("xml-value=hex")


class TestXmlRefusals(XmlTestCase):

    def test_daa_refuses_a_foreign_da(self):
        # §4.3: a DAA phone takes only its manufacturer's DA; the preloader refuses any other, and
        # the user is told to add the DA of the phone's own firmware package
        w = self.world("chip=mt6789,target-config=0x4", config=AUTO, state_dir=self.xml_state(MT6789))
        message = self.failed_job(w)
        self.assertIn("manufacturer", message)
        self.assertNotIn(w.stats("phone0").get("phase", ""), ("xml-da1", "xml-da2"))

    def test_sla_required(self):
        # §5.5: DA2 reports DA.SLA enabled; mtknvd cannot answer the challenge and says so
        w = self.world("chip=mt6789,sla=1", config=AUTO, state_dir=self.xml_state(MT6789))
        message = self.failed_job(w)
        self.assertIn("SLA", message)
        path, props = w.wait_device(lambda p: p.get("ErrorName", "").endswith(".NotSupported"), "NotSupported")

    def test_da2_refused(self):
        # §4.4: DA1 checks DA2's hash and refuses it: named with its remedy
        w = self.world("chip=mt6789,fault=da-reject@CMD:BOOT-TO", config=AUTO, state_dir=self.xml_state(MT6789))
        message = self.failed_job(w)
        self.assertIn("second stage", message)
        self.assertEqual(w.stats("phone0")["xml_boot_refused"], "1")

    def test_read_refused(self):
        # §3.5: a READ-FLASH the DA ends with END ERR: its message is passed on
        w = self.world("chip=mt6789,layout=gpt,fault=nack@CMD:READ-FLASH", config=AUTO,
                       state_dir=self.xml_state(MT6789))
        message = self.failed_job(w)
        self.assertIn("READ-FLASH", message)

    def test_brom_mode_refused_before_anything_is_sent(self):
        # brom-emi.md §8: a V6 DA has no EMI step; mtknvd uses V6 in preloader mode only
        w = self.world("chip=mt6789,mode=brom", config=AUTO, state_dir=self.xml_state(MT6789))
        path, props = w.wait_device(lambda p: p.get("State") in ("unsupported", "error"), "refused")
        self.assertIn("preloader mode", props["Error"])
        self.assertEqual(w.backups, {})


class XmlPhone:
    """Runs a family of tests written for the legacy DA on an XML (V6) MT6789 with the simulator's
    MT6735 partition layout (layout=gpt), so that their offsets and checks hold unchanged."""
    PHONE_KEYS = "chip=mt6789,layout=gpt"
    WRITE_OP = "CMD:WRITE-FLASH"
    READ_OP = "CMD:READ-FLASH"

    def world(self, *phones, **kw):
        phones = tuple(p + "," + self.PHONE_KEYS for p in (phones or ("id=phone0",)))
        kw["state_dir"] = XmlTestCase.xml_state(self, MT6789, state=kw.get("state_dir"))
        return super().world(*phones, **kw)


class TestRestoreXml(XmlPhone, test_restore.TestRestore):
    pass


class TestUnplugDuringRestoreXml(XmlPhone, test_resume.TestUnplugDuringRestore):
    pass


class TestDaemonKilledDuringRestoreXml(XmlPhone, test_resume.TestDaemonKilledDuringRestore):
    pass


class TestLifecycleXml(XmlPhone, test_lifecycle.TestLifecycle):
    REBOOT_RESET = "reboot"
    # MT2601 is not an XML chip: the legacy run covers it
    test_unsupported_chip_boots = None

    def same_phone_again(self, w, new_id, port, extra=""):
        return super().same_phone_again(w, new_id, port, "," + self.PHONE_KEYS + extra)


class TestBackupXml(XmlPhone, test_backup.BackupTestCase):
    # the backup tests that do not look at legacy-DA bytes, on an XML phone
    test_first_seen_only_once = test_backup.TestBackup.test_first_seen_only_once
    test_manual_backup_with_scatter = test_backup.TestBackup.test_manual_backup_with_scatter
    test_export = test_backup.TestBackup.test_export
    test_cancel_leaves_nothing = test_backup.TestBackup.test_cancel_leaves_nothing


class TestBackupFaultsXml(XmlPhone, test_backup.TestBackupFaults):
    # V6 reads with CHK_NO carry no checksum (§3.2): the legacy DA's checksum tests have no
    # counterpart here
    test_bad_checksum_once_is_retried = None
    test_bad_checksum_persistent = None
    # V6 has no BROM mode in mtknvd (brom-emi.md §8): TestXmlRefusals has that refusal
    test_brom_needs_emi = None


if __name__ == "__main__":
    import unittest
    unittest.main()

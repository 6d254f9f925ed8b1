# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 3: verified, device-bound backups of the identity partitions."""

import hashlib
import json
import os
import shutil
import tarfile
import unittest

from harness import WorldTestCase

IDENTITY = ("proinfo", "nvram", "protect1", "protect2", "nvdata")
# the simulated MT6735 layout (da.md §5.6), user-area offsets
LAYOUT = {"proinfo": (0x80000, 0x300000), "nvram": (0x380000, 0x500000), "protect1": (0x880000, 0xa00000),
          "protect2": (0x1280000, 0xa00000), "nvdata": (0x6b00000, 0x2000000)}

SCATTER = """############################################################################################################
#  General Setting
############################################################################################################
- general: MTK_PLATFORM_CFG\r
  info:\r
    - config_version: V1.1.2\r
      platform: MT6735\r
      project: mtknvd-test\r
      storage: EMMC\r
      boot_channel: MSDC_0\r
      block_size: 0x20000\r
- partition_index: SYS0\r
  partition_name: preloader\r
  file_name: preloader.bin\r
  is_download: true\r
  type: SV5_BL_BIN\r
  linear_start_addr: 0x0\r
  physical_start_addr: 0x0\r
  partition_size: 0x40000\r
  region: EMMC_BOOT_1\r
  storage: HW_STORAGE_EMMC\r
  is_reserved: false\r
  operation_type: BOOTLOADERS\r
  reserve: 0x00\r
"""


def scatter_text():
    out = SCATTER
    for i, name in enumerate(("pgpt",) + IDENTITY + ("sgpt",)):
        if name == "pgpt":
            start, size, reserved = 0, 0x80000, "false"
        elif name == "sgpt":
            start, size, reserved = 0xFFFF0004, 0x80000, "true"
        else:
            (start, size), reserved = LAYOUT[name], "false"
        out += ("- partition_index: SYS%d\r\n  partition_name: %s\r\n  file_name: NONE\r\n  is_download: false\r\n"
                "  type: NORMAL_ROM\r\n  linear_start_addr: 0x%x\r\n  physical_start_addr: 0x%X\r\n"
                "  partition_size: 0x%x\r\n  region: EMMC_USER\r\n  storage: HW_STORAGE_EMMC\r\n"
                "  is_reserved: %s\r\n  operation_type: INVISIBLE\r\n  some_future_key: 1   \r\n  reserve: 0x00\r\n"
                % (i + 1, name, start, start, size, reserved))
    return out


def scatter_xml():
    """The layout of scatter_text() as an MTxxxx_Android_scatter.xml (da.md §6.3, the V1.x form: the
    partitions directly under <root>), with a comment and an element mtknvd does not know."""
    out = ('<?xml version="1.0" encoding="utf-8"?>\n<root>\n  <!-- the simulated MT6735 -->\n'
           '  <general name="MTK_PLATFORM_CFG">\n    <config_version name="V1.1.8">\n'
           '      <platform>MT6735</platform>\n      <project>mtknvd-test</project>\n'
           '      <storage>EMMC</storage>\n      <boot_channel>MSDC_0</boot_channel>\n'
           '      <block_size>0x20000</block_size>\n    </config_version>\n  </general>\n'
           '  <partition_index name="SYS0">\n    <partition_name>preloader</partition_name>\n'
           '    <file_name>preloader.bin</file_name>\n    <is_download>true</is_download>\n'
           '    <type>SV5_BL_BIN</type>\n    <linear_start_addr>0x0</linear_start_addr>\n'
           '    <physical_start_addr>0x0</physical_start_addr>\n    <partition_size>0x40000</partition_size>\n'
           '    <region>EMMC_BOOT_1</region>\n    <storage>HW_STORAGE_EMMC</storage>\n'
           '    <is_reserved>false</is_reserved>\n    <operation_type>BOOTLOADERS</operation_type>\n'
           '  </partition_index>\n')
    for i, name in enumerate(("pgpt",) + IDENTITY + ("sgpt",)):
        if name == "pgpt":
            start, size, reserved = 0, 0x80000, "false"
        elif name == "sgpt":
            start, size, reserved = 0xFFFF0004, 0x80000, "true"
        else:
            (start, size), reserved = LAYOUT[name], "false"
        out += ('  <partition_index name="SYS%d">\n    <partition_name>%s</partition_name>\n'
                '    <file_name>NONE</file_name>\n    <is_download>false</is_download>\n'
                '    <type>NORMAL_ROM</type>\n    <linear_start_addr>0x%x</linear_start_addr>\n'
                '    <physical_start_addr>0x%X</physical_start_addr>\n    <partition_size>0x%x</partition_size>\n'
                '    <region>EMMC_USER</region>\n    <storage>HW_STORAGE_EMMC</storage>\n'
                '    <is_reserved>%s</is_reserved>\n    <operation_type>INVISIBLE</operation_type>\n'
                '    <some_future_element kind="x">1</some_future_element>\n  </partition_index>\n'
                % (i + 1, name, start, start, size, reserved))
    return out + "</root>\n"


class BackupTestCase(WorldTestCase):
    # the phone's read command in the simulator's command list: the legacy DA's READ
    # (test_xflash.py runs the fault tests on an XFlash phone, whose READ_DATA is 0x010005)
    READ_OP = "0xd6"

    def storage(self, w, name="phone.img"):
        return os.path.join(w.tmp, name)

    def phone_bytes(self, storage, name):
        start, size = LAYOUT[name]
        with open(storage, "rb") as f:
            f.seek(start)
            return f.read(size)

    def assert_backup_matches_phone(self, w, backup_path, storage):
        props = w.get_props(backup_path, "org.mtknvd.MtkNv1.Backup")
        key, bid = props["Id"].split("/")
        d = os.path.join(w.state_dir, "backups", key, bid)
        names = sorted(p[0] for p in props["Partitions"])
        self.assertEqual(names, sorted(IDENTITY))
        for name, region, offset, size, sha, file in props["Partitions"]:
            self.assertEqual((region, offset, size), ("user",) + LAYOUT[name])
            with open(os.path.join(d, file), "rb") as f:
                data = f.read()
            self.assertEqual(data, self.phone_bytes(storage, name), name + " differs from the phone")
            self.assertEqual(hashlib.sha256(data).hexdigest(), sha)
        self.assertTrue(props["Verified"])
        return props

    def no_leftovers(self, w):
        root = os.path.join(w.state_dir, "backups")
        left = [n for n in os.listdir(root) if n.startswith(".tmp")] if os.path.isdir(root) else []
        self.assertEqual(left, [], "temporary backup directories left behind")


class TestBackup(BackupTestCase):

    def test_auto_backup(self):
        w = self.world(config="AutoBackup=first-seen\n")
        storage = w.stats("phone0")["storage"]
        w.wait_until(lambda: len(w.backups) == 1, "automatic backup stored")
        path = next(iter(w.backups))
        props = self.assert_backup_matches_phone(w, path, storage)
        self.assertEqual(props["Source"], "auto")
        self.assertEqual(props["TableSource"], "gpt")
        self.assertEqual(props["Chip"], "MT6735")
        self.assertEqual(len(props["EmmcCid"]), 32)
        self.assertEqual((props["StorageType"], props["StorageId"]), ("emmc", props["EmmcCid"]))
        with open(os.path.join(w.state_dir, "backups", *props["Id"].split("/"), "manifest.yaml")) as f:
            manifest = f.read()
        self.assertIn("format_version: 3\n", manifest)
        self.assertIn("region: user\n", manifest)
        self.assertIn('storage_id: "%s"' % props["EmmcCid"], manifest)
        # bound to this phone: its ME ID is in the manifest
        dev_me_id = [p for p in w.objects.values()][0]["MeId"]
        self.assertEqual(props["MeId"], dev_me_id)
        # then the phone is told to reboot (ENABLE_WATCHDOG) and leaves the bus
        w.wait_until(lambda: any(p["State"] == "disconnected" for p in w.objects.values()) or not w.objects,
                     "phone rebooted after the backup")
        self.assertIn("0xdb", w.stats("phone0")["commands"])
        self.no_leftovers(w)

        # the client sees the same
        listed = w.ctl_json("backups")
        self.assertEqual(len(listed), 1)
        self.assertTrue(listed[0]["verified"])
        r = w.ctl("verify-backup", listed[0]["id"])
        self.assertIn("matches", r.stdout)
        shown = w.ctl_json("show-backup", listed[0]["id"].split("/")[1])
        self.assertEqual(sorted(p["name"] for p in shown["partitions"]), sorted(IDENTITY))

        # a flipped byte is caught
        img = os.path.join(w.state_dir, "backups", listed[0]["id"], "nvram.img")
        with open(img, "r+b") as f:
            f.seek(1000)
            b = f.read(1)
            f.seek(1000)
            f.write(bytes([b[0] ^ 1]))
        r = w.ctl("verify-backup", listed[0]["id"], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nvram", r.stdout)

    def test_first_seen_only_once(self):
        # BootWindowSec=0: the replug below is a person plugging the phone in again, not a boot
        w = self.world(config="AutoBackup=first-seen\nBootWindowSec=0\n", daemon_args=["--grace-period=30"])
        w.wait_until(lambda: len(w.backups) == 1, "first automatic backup")
        w.sim_wait("phone0", phase="booted")
        w.control("replug phone0")
        path, _ = w.wait_device(lambda p: p["State"] == "released" and p["Present"], "phone back and released")
        self.assertIn("already has a verified backup", w.objects[path]["StateReason"])
        self.assertEqual(len(w.jobs_new), 1, "a second automatic backup was started")
        self.assertEqual(len(w.backups), 1)
        # identified, then let go with a reset from the command loop: no DA was sent this time
        st = w.sim_wait("phone0", phase="booted", boots=2)
        st = w.stats("phone0")
        self.assertEqual(st["last_reset"], "wdt-swrst")

    def test_manual_backup_with_scatter(self, name="MT6735_Android_scatter.txt", text=None):
        # AutoBackup=never: the phone is opened because the backup waits for it (started before plugging in)
        w = self.world("unplugged=1")
        storage = w.stats("phone0")["storage"]
        sc = os.path.join(w.tmp, name)
        with open(sc, "w", newline="") as f:
            f.write(text or scatter_text())
        inspected = w.ctl_json("inspect", sc)
        self.assertEqual(inspected["kind"], "scatter")
        marked = sorted(p["name"] for p in inspected["partitions"] if p["identity"])
        self.assertEqual(marked, sorted(IDENTITY))
        r = w.ctl_then_plug("phone0", "--json", "backup", "--wait", "--scatter", sc)
        result = json.loads(r.stdout)
        self.assertTrue(result["success"], result)
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        path = next(iter(w.backups))
        props = self.assert_backup_matches_phone(w, path, storage)
        self.assertEqual(props["TableSource"], "scatter")
        self.assertEqual(props["Source"], "manual")

    def test_manual_backup_with_xml_scatter(self):
        # the MTxxxx_Android_scatter.xml of a newer firmware package locates the same partitions
        self.test_manual_backup_with_scatter("MT6735_Android_scatter.xml", scatter_xml())

    def test_pmt_phone(self):
        # a phone without GPT: the table comes from the DA's READ_PMT
        w = self.world("layout=pmt", config="AutoBackup=first-seen\n")
        storage = w.stats("phone0")["storage"]
        w.wait_until(lambda: len(w.backups) == 1, "backup of the PMT phone")
        props = self.assert_backup_matches_phone(w, next(iter(w.backups)), storage)
        self.assertEqual(props["TableSource"], "pmt")
        self.assertIn("0xa5", w.stats("phone0")["commands"])

    def test_export(self):
        w = self.world(config="AutoBackup=first-seen\n")
        w.wait_until(lambda: len(w.backups) == 1, "backup stored")
        bid = w.ctl_json("backups")[0]["id"]
        out = os.path.join(w.tmp, "export.tar")
        w.ctl("export-backup", bid, out)
        with tarfile.open(out) as t:
            names = sorted(os.path.basename(n) for n in t.getnames())
        self.assertEqual(names, sorted(["manifest.yaml"] + [n + ".img" for n in IDENTITY]))
        info = w.ctl_json("inspect", out)
        self.assertEqual(info["kind"], "backup-archive")
        self.assertTrue(info["valid"])

    def test_inspect_da(self):
        w = self.world()
        da = os.path.join(w.state_dir, "da", "test-da.bin")
        info = w.ctl_json("inspect", da)
        self.assertEqual(info["kind"], "download-agent")
        self.assertEqual([e["da_code"] for e in info["entries"]], [0x6735, 0x6580])
        e = info["entries"][0]
        self.assertEqual(e["hw_version"], 0xca00)
        self.assertEqual(e["regions"][1]["start_addr"], 0x200000)
        self.assertEqual(e["regions"][2]["start_addr"], 0x40000000)
        self.assertEqual(e["regions"][1]["sig_len"], 0x100)
        junk = os.path.join(w.tmp, "junk.bin")
        with open(junk, "wb") as f:
            f.write(b"\x89PNG\r\n" + bytes(200))
        r = w.ctl("inspect", junk, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mtknvd does not recognise this file", r.stderr)
        for tried in ("Download Agent", "backup archive", "preloader image", "scatter file"):
            self.assertIn(tried, r.stderr)

    def test_add_da_and_missing_da(self):
        w = self.world("unplugged=1", da=False)
        r = w.ctl_then_plug("phone0", "backup", "--wait", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("add-da", r.stdout)
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "phone found unsupported")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.NoDownloadAgent")
        # it was let go and boots; the user adds the DA and plugs it in again
        w.sim_wait("phone0", phase="booted")
        w.control("unplug phone0")
        da = os.path.join(w.tmp, "MTK_AllInOne_DA.bin")
        import mkda
        with open(da, "wb") as f:
            f.write(mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES]))
        w.ctl("add-da", da)
        os.unlink(da)  # the daemon keeps its own copy
        r = w.ctl_then_plug("phone0", "--json", "backup", "--wait")
        self.assertTrue(json.loads(r.stdout)["success"])
        bad = os.path.join(w.tmp, "bad.bin")
        with open(bad, "wb") as f:
            f.write(b"not a DA")
        r = w.ctl("add-da", bad, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Not a MediaTek Download Agent", r.stderr)

    def test_cancel_leaves_nothing(self):
        # the phone stops answering at its first READ, so the job is surely still running
        w = self.world("id=c,fault=stall@" + self.READ_OP + ",unplugged=1")
        r = w.ctl("--json", "backup")
        job = json.loads(r.stdout)["job"]
        w.control("plug c")
        w.wait_device(lambda p: p["State"] == "busy", "backup running")
        w.bus.call_blocking("org.mtknvd.MtkNv1", job, "org.mtknvd.MtkNv1.Job", "Cancel", "a{sv}", ({},))
        ok, msg = w.wait_job(job)
        self.assertFalse(ok)
        self.assertIn("Cancelled", msg)
        self.assertEqual(w.backups, {})
        self.no_leftovers(w)


class TestBackupFaults(BackupTestCase):

    def fails(self, w, name, text=None):
        # the job's end shows on the phone: State "error" with the job's message,
        # or the phone is gone (it vanished or reset itself)
        def ended():
            return any(p["State"] in ("error", "released", "unsupported") or not p["Present"]
                       for p in w.objects.values())
        w.wait_until(ended, "backup failed")
        self.assertEqual(w.backups, {})
        self.no_leftovers(w)
        self.assertTrue(w.daemon_alive())
        dev = list(w.objects.values())[0]
        msg = dev["Error"]
        self.assertEqual(dev["ErrorName"], "org.mtknvd.MtkNv1.Error." + name, msg)
        if text:
            self.assertRegex(msg, text)
        return msg

    def next_plug_works(self, w, phone="phone0"):
        w.control("fault %s clear" % phone)
        w.control("replug %s" % phone)  # BootWindowSec=0 in these worlds: a person plugs it in again
        w.wait_until(lambda: len(w.backups) == 1, "backup after replug")

    def test_unplug_during_da_upload(self):
        w = self.world("fault=unplug-after-bytes:20000", config="AutoBackup=first-seen\nBootWindowSec=0\n",
                       daemon_args=["--grace-period=30"])
        # whichever the daemon hears of first: the udev removal or the failed transfer
        self.fails(w, "DeviceGone", "disconnected|unplugged")
        self.next_plug_works(w)

    def test_unplug_during_read(self):
        w = self.world("fault=unplug-after-da-bytes:0x500000", config="AutoBackup=first-seen\nBootWindowSec=0\n",
                       daemon_args=["--grace-period=30"])
        self.fails(w, "DeviceGone", "disconnected|unplugged")
        self.next_plug_works(w)

    def test_bad_checksum_once_is_retried(self):
        w = self.world("fault=bad-checksum:1@" + self.READ_OP, config="AutoBackup=first-seen\n")
        w.wait_until(lambda: len(w.backups) == 1, "backup despite one bad packet")
        self.assertIn("reading it again", w.describe())

    def test_bad_checksum_persistent(self):
        w = self.world("fault=bad-checksum:100000@" + self.READ_OP, config="AutoBackup=first-seen\n")
        self.fails(w, "VerifyFailed", "corrupted")

    def test_stall(self):
        w = self.world("fault=stall@" + self.READ_OP, config="AutoBackup=first-seen\n")
        self.fails(w, "ProtocolError", "no answer")

    def test_da_rejected(self):
        w = self.world("fault=da-reject", config="AutoBackup=first-seen\n", daemon_args=["--grace-period=30"])
        msg = self.fails(w, "DaRejected", "0xC0060003")
        self.assertIn("0x2001", msg)

    def refused_at_identification(self, w, name):
        # an honest state: identified, not "ready", the reason and remedy in Error; no job, no DA sent, and the
        # phone is let go (reset from its boot ROM's command loop) so that it boots
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "phone found unsupported")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error." + name)
        self.assertEqual(w.jobs_new, [])
        self.assertIn("cannot be backed up", w.describe())
        self.assertNotIn("0xd7", w.stats("phone0")["commands"], "SEND_DA reached the phone")
        w.sim_wait("phone0", phase="booted")
        self.assertEqual(w.stats("phone0")["last_reset"], "wdt-swrst")
        self.assertEqual(w.backups, {})
        return path, props

    def test_sla_required(self):
        # the SLA requirement is reported at identification; the DA is not even offered
        w = self.world("mode=brom,target-config=0x2", config="AutoBackup=first-seen\n")
        path, props = self.refused_at_identification(w, "AuthRequired")
        self.assertIn("serial-link authentication", props["Error"])
        self.assertIn("serial-link authentication", props["Warning"])

    def test_brom_needs_emi(self):
        # BROM mode without any stored preloader: refused before SEND_DA (test_brom has the rest)
        w = self.world("mode=brom", config="AutoBackup=first-seen\n")
        path, props = self.refused_at_identification(w, "PreloaderNeeded")
        self.assertIn("add-firmware", props["Error"])
        self.assertIn("without holding any key", props["Error"])

    def test_disk_full(self):
        if not shutil.which("prlimit"):
            self.skipTest("prlimit (util-linux) is not installed")
        w = self.world(config="AutoBackup=first-seen\n", daemon_wrapper=["prlimit", "--fsize=4194304", "--"])
        self.fails(w, "NoSpace", "No space left")


if __name__ == "__main__":
    unittest.main()

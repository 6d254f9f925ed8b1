# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where the protocol references leave a choice open, the daemon works both
ways: each test runs the daemon against the simulator's stricter (or other)
variant of a phone (tests/sim/README.md, "Keys for what the reference leaves
open") and against its default behaviour."""

import os
import shutil
import tempfile
import unittest

from harness import WorldTestCase
import mkda  # noqa: E402 (tests/tools is on the path once harness is imported)
from test_backup import IDENTITY, LAYOUT
from test_restore import RestoreTestCase

AUTO = "AutoBackup=first-seen\n"
# identification only: AutoBackup may apply, so the phone is opened, and with no Download Agent it ends
# "unsupported" (NoDownloadAgent) and is let go
IDENTIFY = dict(config=AUTO, da=False)
# every key below stretches the DA stage: slow-ms=5500 alone adds 22 s
SLOW_TIMEOUT = 90
# read-split=N makes a transfer of every piece: 120 MiB / N of them for the identity partitions read twice
# (N=1000: about 70 s here, N=333: about 210 s; the sizes below keep each test in seconds)
SPLIT_TIMEOUT = 300  # a bound only: under ASan the 100001 split takes about 100 s


class ToleranceTestCase(WorldTestCase):

    def log(self, w):
        with open(w.daemon_log) as f:
            return f.read()

    def extra_da_state(self, *dacodes):
        """A state directory whose DA store also has entries for these DA families."""
        state = tempfile.mkdtemp(prefix="mtknvd-state-", dir=os.environ.get("TMPDIR"))
        self.addCleanup(shutil.rmtree, state, True)
        os.makedirs(os.path.join(state, "da"))
        with open(os.path.join(state, "da", "more-chips.bin"), "wb") as f:
            f.write(mkda.build([mkda.parse_entry("dacode=0x%04x" % c) for c in dacodes]))
        return state

    def backed_up(self, *phones, timeout=30, **kw):
        """Each phone gets its automatic backup, and each job succeeds."""
        w = self.world(*phones, config=AUTO, **kw)
        w.wait_until(lambda: len(w.completed) >= len(phones), "%d backup job(s) done" % len(phones), timeout)
        failed = [m for ok, m in w.completed.values() if not ok]
        self.assertEqual(failed, [], "a backup failed\n" + (w.describe() if failed else ""))
        w.wait_until(lambda: len(w.backups) == len(phones), "backups published")
        return w

    def phone_commands(self, w, phone="phone0"):
        return w.stats(phone)["commands"].split(",")


class TestDa1Configuration(ToleranceTestCase):
    # da.md §2.5: one OUT transfer per field, and each chip's tail likewise

    def test_split_fields(self):
        w = self.backed_up("da-config=split")
        self.assertNotIn("da1_stop", w.stats("phone0"))

    def test_split_fields_with_chip_tails(self):
        # MT6592: u32 tail, BMT size 0x1500000 on eMMC (checked by the sim), five
        # DRAM words; MT8127: 4, 4, 20 and the report's extra word; MT8163: 4, 20
        state = self.extra_da_state(0x6592, 0x8127, 0x8163)
        w = self.backed_up("id=a,chip=mt6592,da-config=split", "id=b,chip=mt8127,da-config=split",
                           "id=c,chip=mt8163,da-config=split", state_dir=state, timeout=60)
        chips = sorted(w.get_props(p, "org.mtknvd.MtkNv1.Backup")["Chip"] for p in w.backups)
        self.assertEqual(chips, ["MT6592", "MT8127", "MT8163"])

    def test_byte_stream(self):
        # the default DA takes the block as a stream: the same bytes work there
        state = self.extra_da_state(0x6592)
        self.backed_up("da-config=any", "id=b,chip=mt6592", state_dir=state)

    def test_slow_dram_status(self):
        # the DRAM status comes 1.2 s after the block: the daemon's read waits for it
        self.backed_up("dram-delay=1200")


class TestMt6592(ToleranceTestCase):

    def test_both_watchdog_registers(self):
        # brom.md §5: the sim's MT6592 watchdog is off only after both WRITE32s
        # both stay in the DA (their first READ stalls), so the watchdog state is theirs to report
        w = self.world("id=a,chip=mt6592,fault=stall@0xd6", "id=b,chip=mt6735,fault=stall@0xd6", config=AUTO,
                       state_dir=self.extra_da_state(0x6592, 0x6735))
        w.wait_until(lambda: len(w.seen("busy")) == 2, "both backups running")
        w.sim_wait("a", phase="da")
        w.sim_wait("b", phase="da")
        self.assertEqual(w.stats("a")["watchdog"], "off")
        self.assertEqual(self.phone_commands(w, "a").count("0xd4"), 2)
        # an MT6735 has one register
        self.assertEqual(w.stats("b")["watchdog"], "off")
        self.assertEqual(self.phone_commands(w, "b").count("0xd4"), 1)


class TestRead(ToleranceTestCase):
    # da.md §2.11: the packet size goes out before the ACK is read

    def test_ack_after_size(self):
        w = self.backed_up("read-ack=after-size")
        self.assertGreater(int(w.stats("phone0")["reads"]), 10)

    def test_ack_early(self):
        self.backed_up("read-ack=early")


class TestReadPacketizing(ToleranceTestCase):
    # da.md §1, §2.11: a READ data packet may arrive in short pieces, and a ZLP
    # may come between fields; the backup has the phone's bytes all the same

    def backed_up_exactly(self, key, timeout=SPLIT_TIMEOUT):
        w = self.backed_up(key, timeout=timeout)
        storage = w.stats("phone0")["storage"]
        self.assertGreater(int(w.stats("phone0")["reads"]), 10)
        bid = next(iter(w.backups.values()))["Id"]
        d = os.path.join(w.state_dir, "backups", bid)
        for name in IDENTITY:
            start, size = LAYOUT[name]
            with open(storage, "rb") as f:
                f.seek(start)
                want = f.read(size)
            with open(os.path.join(d, name + ".img"), "rb") as f:
                self.assertTrue(f.read() == want, name + " differs from the phone's")
        return w

    def test_split_short_pieces(self):
        # pieces larger than one 256 KiB transfer's worth would be are cut short inside
        # each of the transfers queued for a packet: their bytes move up in the buffer
        self.backed_up_exactly("read-split=100001")

    def test_split_full_packets_and_zlps(self):
        # 4096 is a multiple of 512: each piece ends on a full packet and a ZLP
        self.backed_up_exactly("read-split=4096")

    def test_split_odd(self):
        self.backed_up_exactly("read-split=7777")

    def test_zlp_before_checksum(self):
        self.backed_up_exactly("read-zlp=1")

    def test_split_and_zlp(self):
        # the last piece's ZLP, then read-zlp's: two in a row before the checksum
        self.backed_up_exactly("read-split=4096,read-zlp=1")


class TestRestoreReadSplit(RestoreTestCase):

    def test_round_trip(self):
        # the restore reads too: its pre-restore snapshot and its verification (the
        # first backup with the default, as read-split= costs a transfer per piece)
        w = self.backed_up_world()
        w.control("set phone0 read-split=100001")
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        r, res = self.restore(w, bid)
        self.assertTrue(res["success"], res)
        self.assertIn("verified", res["message"])
        for n in IDENTITY:
            self.assertTrue(self.read_part(storage, n) == original[n], n + " not restored")


class TestDa2Upload(ToleranceTestCase):
    # da.md §2.7: a pause before DA2's final 5A

    def test_da_needs_settling(self):
        # a 5A earlier than 400 ms after the last packet is lost: without the pause the DA hangs
        self.backed_up("da2-settle=400")

    def test_da_without_settling(self):
        self.backed_up("da2-settle=0")


class TestSendDaChecksum(ToleranceTestCase):
    # brom.md §3.3: status2 decides; the checksum is only compared

    def test_right(self):
        w = self.backed_up("send-da-checksum=right")
        self.assertNotIn("SEND_DA: the phone computed checksum", self.log(w))

    def test_zero(self):
        w = self.backed_up("send-da-checksum=zero")
        self.assertNotIn("SEND_DA: the phone computed checksum", self.log(w))

    def test_wrong_is_a_warning(self):
        w = self.backed_up("send-da-checksum=wrong")
        self.assertIn("SEND_DA: the phone computed checksum", self.log(w))


class TestSlowPhone(ToleranceTestCase):

    def test_slow_signature_check(self):
        # SEND_DA's status2, JUMP_DA's status, DA1's C0 and the DA2 report each 5.5 s late:
        # beyond the 1 s of a simple BROM command and the 5 s of a DA command
        w = self.backed_up("slow-ms=5500", timeout=SLOW_TIMEOUT)
        self.assertIn("0xd5", self.phone_commands(w))

    def test_prompt(self):
        self.backed_up("slow-ms=0")


class TestStorageReport(ToleranceTestCase):
    # da.md §2.8

    def test_32bit_nand_layout(self):
        self.backed_up("nand-ids=0")

    def test_nand_id_counts(self):
        self.backed_up("id=a,nand-ids=1", "id=b,nand-ids=16")

    def test_no_soc_ok_byte(self):
        w = self.backed_up("soc-ok=00")
        self.assertIn("ends with 0x00 instead of SOC_OK", self.log(w))

    def test_soc_ok_byte(self):
        w = self.backed_up("soc-ok=c1")
        self.assertNotIn("instead of SOC_OK", self.log(w))


class TestUsbSpeed(ToleranceTestCase):
    # da.md §2.9: a full-speed answer is carried on at full speed

    def test_full_speed_preloader(self):
        w = self.backed_up("usb-speed=0")
        self.assertIn("staying at full speed", self.log(w))
        self.assertIn("USB full speed", self.log(w))
        self.assertNotIn("0x70", self.phone_commands(w))

    def test_high_speed(self):
        w = self.backed_up("usb-speed=1")
        self.assertIn("USB high speed", self.log(w))


class TestAbsentCommands(ToleranceTestCase):
    # brom.md §3.3: an unanswered GET_TARGET_CONFIG / GET_ME_ID is a missing feature

    def test_no_target_config(self):
        w = self.world("absent=0xd8", config=AUTO)
        path, props = w.wait_device(lambda p: p["State"] in ("ready", "busy", "error"), "identified")
        self.assertNotEqual(props["State"], "error", props["Error"])
        self.assertEqual(props["TargetConfig"], 0)
        self.assertEqual(len(props["MeId"]), 32)
        self.assertIn("does not answer GET_TARGET_CONFIG", self.log(w))
        # the command after it was answered in step: the backup works
        w.wait_until(lambda: len(w.backups) == 1, "backup")

    def test_no_me_id(self):
        w = self.world("absent=0xe1", config=AUTO)
        w.wait_until(lambda: len(w.backups) == 1, "backup of a phone without ME ID")
        self.assertEqual(list(w.objects.values())[0]["MeId"], "")
        self.assertIn("does not answer GET_ME_ID", self.log(w))
        # bound to the phone by its eMMC CID instead
        props = w.get_props(next(iter(w.backups)), "org.mtknvd.MtkNv1.Backup")
        self.assertEqual(props["MeId"], "")
        self.assertEqual(len(props["EmmcCid"]), 32)

    def test_neither(self):
        w = self.world("absent=0xd8,0xe1", **IDENTIFY)
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "identified without D8 and E1")
        self.assertEqual(props["MeId"], "")
        self.assertEqual(props["Chip"], "MT6735")
        self.assertEqual(props["HwVersion"], 0xca00)

    def test_all_present(self):
        w = self.world(**IDENTIFY)
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "identified")
        self.assertEqual(len(props["MeId"]), 32)
        log = self.log(w)
        self.assertNotIn("does not answer", log)


class TestHandshakeWrites(ToleranceTestCase):
    # a stalled OUT endpoint: clear the halt, retry within the attempt loop

    def test_stalled_start_bytes(self):
        w = self.world("fault=out-stall:3", **IDENTIFY)
        # counted per enumeration: read them before the phone is let go and comes back
        w.sim_wait("phone0", out_stalls=3, clear_halts=3, handshakes=1)
        w.wait_until(lambda: w.seen("unsupported"), "identified despite stalled writes")

    def test_endpoint_that_keeps_stalling(self):
        # five refused writes in a row are the end of it: a clear error, not a hang
        w = self.world("fault=out-stall:100,handshake-window=0", **IDENTIFY)
        path, props = w.wait_device(lambda p: p["State"] == "error", "handshake given up")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.HandshakeFailed")
        self.assertIn("refused 5 writes of the start bytes", props["Error"])
        self.assertEqual(w.stats("phone0")["clear_halts"], "5")

    def test_no_stall(self):
        w = self.world(**IDENTIFY)
        w.wait_until(lambda: w.seen("unsupported"), "identified")
        self.assertEqual(w.stats("phone0")["clear_halts"], "0")


class TestRelease(ToleranceTestCase):
    # brom.md §1.2: on release the kernel driver gets the comm interface back, not the data one
    # (under umockdev the daemon talks to the simulator's usbfs; tests/unit/test-brom-session.c
    # checks the driver state itself)

    def test_release_after_a_failure(self):
        w = self.world("id=e,fault=wrong-echo", daemon_args=["--grace-period=30"], **IDENTIFY)
        path, props = w.wait_device(lambda p: p["State"] == "error", "wrong echo reported")
        w.control("fault e clear")
        w.control("replug e")
        w.wait_until(lambda: w.seen("unsupported"), "identified after replug")
        # released: the link is closed by the time the phone has booted
        w.sim_wait("e", phase="booted")
        log = self.log(w)
        # the simulator's usbfs answers USBDEVFS_CONNECT with 0 where Linux says 1 ("bound"), so
        # libusb reports LIBUSB_ERROR_NOT_FOUND although the driver is back: only the attempt shows
        self.assertIn("interface 0 back to the kernel driver", log)
        self.assertNotIn("interface 1 back", log)


class TestChips(ToleranceTestCase):

    def test_mt2601_not_supported_yet(self):
        # MediaTek's IoT DA flow: identified, but no DA is offered
        w = self.world("chip=mt2601", config=AUTO)
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "MT2601 identified")
        self.assertEqual(props["Chip"], "MT2601")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.NotSupported")
        self.assertIn("IoT", props["Error"])
        self.assertEqual(w.jobs_new, [])
        cmds = self.phone_commands(w)
        # brom.md §5: an IoT chip is not asked for its versions or ME ID
        for op in ("0xfc", "0xe1", "0xd7"):
            self.assertNotIn(op, cmds)


if __name__ == "__main__":
    unittest.main()

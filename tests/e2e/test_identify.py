# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 2: phones are detected, identified and published on D-Bus."""

import unittest

from harness import WorldTestCase, identified

ME_ID = "00112233445566778899aabbccddeeff"
# Something to do, so that the daemon opens the phone (AutoBackup may apply), and no Download Agent, so that
# identification is all that happens: the phone ends "unsupported" (NoDownloadAgent) and is released.
# BootWindowSec=0: a replug in a test is a person plugging the phone in again, not a boot.
IDENTIFY = dict(config="AutoBackup=first-seen\nBootWindowSec=0\n", da=False)


class TestIdentify(WorldTestCase):

    def test_preloader_mt6735(self):
        w = self.world("id=a,chip=mt6735,mode=preloader,me-id=" + ME_ID, **IDENTIFY)
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "phone identified")
        self.assertEqual(props["Chip"], "MT6735")
        self.assertEqual(props["HwCode"], 0x0321)
        self.assertEqual(props["Mode"], "preloader")
        self.assertEqual(props["MeId"], ME_ID)
        self.assertEqual((props["SBC"], props["SLA"], props["DAA"]), (False, False, False))
        # honest: identified, but with no Download Agent it cannot be backed up, and says how to fix that
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.NoDownloadAgent")
        self.assertIn("mtknvctl add-da", props["Error"])
        self.assertTrue(props["Present"])
        self.assertEqual((props["UsbVendorId"], props["UsbProductId"]), (0x0e8d, 0x2000))
        self.assertTrue(path.startswith("/org/mtknvd/MtkNv1/device/mt6735_"), path)
        self.assertIn("released", props["StateReason"])
        # what we followed through signals is what the daemon reports now (its identity outlives the session)
        now = w.get_props(path)
        for k in ("Chip", "HwCode", "HwSubCode", "HwVersion", "MeId", "TargetConfig", "BootloaderVersion", "Mode"):
            self.assertEqual(now[k], props[k], k)
        self.assertEqual(props["HwVersion"], 0xca00)

        listed = w.ctl_json("list")
        self.assertEqual(len(listed), 1)
        e = listed[0]
        self.assertEqual(e["path"], path)
        self.assertEqual(e["chip"], "MT6735")
        self.assertEqual(e["hw_code"], 0x321)
        self.assertEqual(e["mode"], "preloader")
        self.assertIs(e["sbc"], False)
        self.assertIs(e["sla"], False)
        self.assertIs(e["daa"], False)
        self.assertEqual(e["me_id"], ME_ID)
        self.assertEqual(e["error_name"], "org.mtknvd.MtkNv1.Error.NoDownloadAgent")

        # the preloader saw the identification commands, each exactly once
        cmds = w.stats("a").get("commands", "")
        for op in ("0xfd", "0xd8", "0xfe", "0xfc", "0xe1"):
            self.assertIn(op, cmds.lower())

    def test_brom_mode(self):
        # BROM mode is intent by itself (a key was held): opened even with AutoBackup=never
        w = self.world("id=b,chip=mt6753,mode=brom")
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "BROM phone identified")
        self.assertIn("preloader mode", props["Error"])
        self.assertEqual(props["Mode"], "brom")
        self.assertEqual(props["Chip"], "MT6753")
        self.assertEqual(props["HwCode"], 0x0337)
        self.assertEqual(props["BootloaderVersion"], 0xfe)
        self.assertEqual((props["UsbVendorId"], props["UsbProductId"]), (0x0e8d, 0x0003))
        self.assertEqual(len(props["MeId"]), 32)
        self.assertEqual(w.ctl_json("list")[0]["mode"], "brom")

    def test_secure_boot_flags(self):
        w = self.world("id=s,mode=brom,target-config=0x7")
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "secure phone identified")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.AuthRequired")
        self.assertEqual((props["SBC"], props["SLA"], props["DAA"]), (True, True, True))
        self.assertEqual(props["TargetConfig"], 7)
        self.assertIn("serial-link authentication", props["Warning"])
        e = w.ctl_json("list")[0]
        self.assertEqual((e["sbc"], e["sla"], e["daa"]), (True, True, True))
        shown = w.ctl("show", path.rsplit("/", 1)[1]).stdout
        self.assertIn("secure boot", shown.lower())

    def test_two_phones(self):
        w = self.world("id=p1,chip=mt6735", "id=p2,chip=mt8173,mode=brom", daemon_args=["--grace-period=60"],
                       **IDENTIFY)
        w.wait_until(lambda: len(w.seen("unsupported")) == 2, "both phones identified")
        ready = {p: w.objects[p] for p in w.seen("unsupported")}
        chips = sorted(p["Chip"] for p in ready.values())
        self.assertEqual(chips, ["MT6735", "MT8173"])
        self.assertEqual(len(set(p["UsbPath"] for p in ready.values())), 2)
        self.assertEqual(len(w.ctl_json("list")), 2)

    def test_unplug_removes(self):
        w = self.world("id=u", daemon_args=["--grace-period=0.2"])
        path, _ = w.wait_device(lambda p: p["State"] == "idle", "phone present")
        w.control("unplug u")
        w.wait_until(lambda: path in w.removed, "object removed after the grace period")
        self.assertEqual(w.ctl_json("list"), [])
        # it went through "disconnected" on its way out
        self.assertIn((path, {"State": "disconnected"}), w.changes)

    def test_reenumeration_keeps_object(self):
        # identified in BROM mode, found unsupported there and reset: the phone reboots and its preloader
        # enumerates (0e8d:2000), on the same port, as the same phone
        w = self.world("id=r,mode=brom,me-id=" + ME_ID, daemon_args=["--grace-period=30"], **IDENTIFY)
        path, props = w.wait_device(lambda p: p["State"] == "unsupported", "BROM phone identified")
        self.assertEqual(props["Mode"], "brom")
        w.wait_until(lambda: w.objects.get(path, {}).get("Mode") == "preloader"
                     and w.objects[path].get("Present"), "same object back in preloader mode")
        # its boot after the reset is left alone
        w.wait_until(lambda: any(p == path and "Booting" in c.get("StateReason", "") for p, c in w.changes),
                     "its boot left alone")
        w.wait_until(lambda: path in w.seen("idle"), "left alone")
        self.assertNotIn(path, w.removed)
        self.assertEqual(w.objects[path]["MeId"], ME_ID)
        self.assertEqual(w.objects[path]["UsbProductId"], 0x2000)

    def test_coldplug(self):
        w = self.world("id=c,chip=mt6580", coldplug=True, **IDENTIFY)
        path, props = w.wait_device(identified, "coldplugged phone identified")
        self.assertEqual(props["Chip"], "MT6580")

    def test_old_preloader_without_me_id(self):
        # bl_ver 1 (as on pl6582-era preloaders): GET_ME_ID must not be sent
        w = self.world("id=o,mode=preloader,bl-ver=1", **IDENTIFY)
        path, props = w.wait_device(identified, "old preloader identified")
        self.assertEqual(props["MeId"], "")
        self.assertEqual(props["BootloaderVersion"], 1)
        self.assertTrue(path.endswith("/port_1_1"), path)
        self.assertNotIn("0xe1", w.stats("o").get("commands", "").lower())


class TestClient(WorldTestCase):

    def test_monitor_and_wait(self):
        import json as j
        import os
        import subprocess
        from harness import BUILD
        # a phone left alone (AutoBackup=never) that listens for ever, so that it stays
        w = self.world("handshake-window=0", daemon_args=["--grace-period=0.2"])
        # wait: blocks until the phone is there, event-driven
        r = w.ctl("wait", "--state", "idle", "--timeout", "30")
        dev_id = r.stdout.strip()
        self.assertEqual(dev_id, "port_1_1", r.stdout)
        self.assertEqual(w.stats("phone0")["first_rx_us"], "0", "the daemon talked to a phone it had no use for")
        mon = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "--json", "monitor"], env=w.env(),
                               stdout=subprocess.PIPE, text=True)
        try:
            first = j.loads(mon.stdout.readline())
            self.assertEqual(first["event"], "present")
            self.assertEqual(first["device"]["state"], "idle")
            self.assertIn("AutoBackup=never", first["device"]["state_reason"])
            w.control("unplug phone0")
            events = []
            while not events or events[-1]["event"] != "removed":
                events.append(j.loads(mon.stdout.readline()))
            self.assertIn("changed", [e["event"] for e in events])
            self.assertEqual(events[-1]["path"].rsplit("/", 1)[1], dev_id)
        finally:
            mon.terminate()
            # ended by a signal: 128 + SIGTERM, as a shell reports it
            self.assertEqual(mon.wait(), 143)
        r = w.ctl("show", "nosuchphone", check=False)
        self.assertEqual(r.returncode, 4)
        r = w.ctl("frobnicate", check=False)
        self.assertEqual(r.returncode, 2)

    def test_other_clients_leaving_is_not_the_daemon_leaving(self):
        import os
        import subprocess
        import dbus
        from harness import BUILD
        w = self.world("handshake-window=0", daemon_args=["--grace-period=30"])
        path, _ = w.wait_device(lambda p: p["State"] == "idle", "phone there, left alone")
        # who asks the daemon for its objects: each client does, once it has subscribed
        listed = []
        w.bus.add_match_string("type='method_call',interface='org.freedesktop.DBus.ObjectManager',"
                               "member='GetManagedObjects',eavesdrop='true'")
        w.bus.add_message_filter(lambda bus, m: listed.append(m.get_sender()) if
                                 m.get_member() == "GetManagedObjects" and m.get_sender() != bus.get_unique_name()
                                 else None)
        ctl = os.path.join(BUILD, "mtknvctl")
        procs = []

        def start(*args):
            # a new sender, not a new call: monitor lists twice (phones, then jobs), and its second call
            # must not pass for the next client's first
            n = len(set(listed))
            p = subprocess.Popen([ctl] + list(args), env=w.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            procs.append(p)
            w.wait_until(lambda: len(set(listed)) > n, "mtknvctl %s subscribed" % " ".join(args))
            return p
        try:
            mon = start("monitor")
            self.assertIn("= " + path.rsplit("/", 1)[1], mon.stdout.readline())
            waits_for_unplug = start("wait", "--state", "disconnected", "--timeout", "0")
            waits_forever = start("wait", "--state", "error", "--timeout", "0")
            # another client comes and goes
            gone = []
            w.bus.add_signal_receiver(lambda name, old, new: gone.append(str(name)) if not new else None,
                                      "NameOwnerChanged", "org.freedesktop.DBus", "org.freedesktop.DBus",
                                      "/org/freedesktop/DBus")
            other = dbus.bus.BusConnection(w.address)
            name = other.get_unique_name()
            other.close()
            # everyone got that NameOwnerChanged before any later signal of the daemon's
            w.wait_until(lambda: name in gone, "the other client left")
            for p in procs:
                self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
            # and they still follow the phone
            w.control("unplug phone0")
            self.assertEqual(waits_for_unplug.wait(timeout=60), 0)
            self.assertEqual(waits_for_unplug.stdout.read().strip(), path.rsplit("/", 1)[1])
            seen = ""
            while "Present=no" not in seen:
                line = mon.stdout.readline()
                if not line:
                    self.fail("monitor ended: " + mon.stderr.read())
                seen += line
            # the daemon leaving is reported
            w.expected_exit = True
            self.assertEqual(w.stop(), 0)
            for p in (mon, waits_forever):
                self.assertEqual(p.wait(timeout=60), 3)
                self.assertIn("mtknvd left the bus", p.stderr.read())
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()
                p.stderr.close()


class TestLifetime(WorldTestCase):

    def test_exit_on_idle(self):
        # no phone and no job: the daemon leaves (udev / D-Bus activation would restart it)
        w = self.world(daemon_args=["--grace-period=0.1", "--exit-on-idle=0.3"])
        w.wait_device(lambda p: p["State"] == "idle", "phone present")
        self.assertTrue(w.daemon_alive(), "exited with a phone connected")
        w.control("unplug phone0")
        w.expected_exit = True
        w.wait_until(lambda: w.owner_gone, "daemon left the bus")
        self.assertEqual(w.sim.wait(timeout=60), 0)
        self.assertIn("exiting (ExitOnIdleSec=)", w.describe())


class TestFaults(WorldTestCase):

    def world(self, *phones, **kw):
        for k, v in IDENTIFY.items():
            kw.setdefault(k, v)
        return super().world(*phones, **kw)

    def _replug_works(self, w, phone):
        w.control("fault %s clear" % phone)
        w.control("replug " + phone)
        w.wait_device(lambda p: p["State"] == "unsupported" and p["Present"], "phone identified after replug")
        self.assertTrue(w.daemon_alive())

    def test_vanish_mid_handshake(self):
        w = self.world("id=v,fault=unplug-after-bytes:2", daemon_args=["--grace-period=30"])
        w.wait_until(lambda: any(p.get("State") == "disconnected" for p in w.objects.values()),
                     "phone gone mid-handshake")
        self.assertTrue(w.daemon_alive())
        self._replug_works(w, "v")

    def test_vanish_mid_identification(self):
        w = self.world("id=v,fault=unplug-after-cmd:0xd8", daemon_args=["--grace-period=30"])
        w.wait_until(lambda: any(p.get("State") == "disconnected" for p in w.objects.values()),
                     "phone gone during GET_TARGET_CONFIG")
        self._replug_works(w, "v")

    def test_garbage_in_handshake_is_survived(self):
        # noise instead of the first start-byte answer: the daemon drains and retries
        w = self.world("id=g,fault=garbage:64")
        path, props = w.wait_device(identified, "phone identified despite the noise")
        self.assertEqual(props["Chip"], "MT6735")
        self.assertEqual(w.stats("g")["handshakes"], "1")

    def test_garbage(self):
        # 64 bytes of noise instead of the GET_TARGET_CONFIG echo
        w = self.world("id=g,fault=garbage:64@0xd8")
        path, props = w.wait_device(lambda p: p["State"] == "error", "garbage reported as an error")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.ProtocolError")
        self.assertIn("GET_TARGET_CONFIG", props["Error"])
        self.assertIn("plug it in again", props["Error"])
        shown = w.ctl("show", path.rsplit("/", 1)[1]).stdout
        self.assertIn(props["Error"][:40], shown)
        self._replug_works(w, "g")

    def test_wrong_echo(self):
        w = self.world("id=e,fault=wrong-echo")
        path, props = w.wait_device(lambda p: p["State"] == "error", "wrong echo reported")
        self.assertEqual(props["ErrorName"], "org.mtknvd.MtkNv1.Error.ProtocolError")
        self.assertIn("wrong echo", props["Error"])
        self._replug_works(w, "e")

    def test_error_status(self):
        w = self.world("id=t,fault=status:0x1d02")
        path, props = w.wait_device(lambda p: p["State"] == "error", "error status reported")
        self.assertIn("0x1d02", props["Error"])
        self._replug_works(w, "t")

    def test_stall(self):
        # listening for ever (a real preloader would boot after its window, which is another test)
        w = self.world("id=st,fault=stall,handshake-window=0")
        path, props = w.wait_device(lambda p: p["State"] == "error", "stalled phone reported")
        self.assertIn("no answer", props["Error"])
        self._replug_works(w, "st")


if __name__ == "__main__":
    unittest.main()

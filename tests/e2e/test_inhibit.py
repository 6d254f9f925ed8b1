# SPDX-License-Identifier: LGPL-2.1-or-later
"""Coexistence: Manager.Inhibit and 'mtknvctl inhibit' keep mtknvd away from
phones that mtkclient or SP Flash Tool are using; and the dry-run restore
says that it reboots the phone.

The holder's COMMAND is a small python program that reports on a pipe that
it runs (with the descriptors it has), then waits for the test to write to
a second pipe: no sleeps."""

import os
import select
import signal
import subprocess
import sys
import unittest

import dbus

from harness import BUILD, BUS_NAME, MANAGER_IFACE, MANAGER_PATH, PROPS_IFACE, WAIT_TIMEOUT, WorldTestCase, unwrap
from test_restore import RestoreTestCase

ERROR = "org.mtknvd.MtkNv1.Error."
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"

# argv: READY_FD GO_FD EXIT_CODE.  Reports every descriptor it has beyond
# stdin/out/err and the two pipes (what the inhibitor holder let leak),
# then exits with EXIT_CODE once the test writes to GO_FD.
HOLDER = """
import os, sys
ready, go, code = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
extra = []
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    if fd in (0, 1, 2, ready, go):
        continue
    try:
        extra.append(os.readlink("/proc/self/fd/" + name))
    except OSError:
        pass  # the directory listdir() was reading
os.write(ready, (" ".join(t for t in extra if not t.startswith("/proc/")) + "\\n").encode())
os.read(go, 1)
sys.exit(code)
"""


class Holder:
    """mtknvctl inhibit [OPTIONS] -- python3 -c HOLDER, in the background."""

    def __init__(self, w, *options, code=0):
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "mtknvctl"), "inhibit"] + list(options) +
            ["--", sys.executable, "-c", HOLDER, str(ready_w), str(go_r), str(code)],
            env=w.env(), pass_fds=(ready_w, go_r), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        os.close(ready_w)
        os.close(go_r)
        self.ready, self.go = ready_r, go_w

    def read_ready(self):
        """What the command wrote on its pipe ("" at EOF: it ended)."""
        buf = b""
        while not buf.endswith(b"\n"):
            # the timeout only bounds a failure
            if not select.select([self.ready], [], [], WAIT_TIMEOUT)[0]:
                raise AssertionError("the command under mtknvctl inhibit did not start")
            chunk = os.read(self.ready, 4096)
            if not chunk:
                break
            buf += chunk
        return buf.decode().strip() if buf else None

    def release(self):
        os.write(self.go, b"x")
        return self.wait()

    def wait(self):
        try:
            rc = self.proc.wait(timeout=WAIT_TIMEOUT)
        finally:
            self.close()
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.proc.stderr.closed:
            self.stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        for fd in (self.ready, self.go):
            try:
                os.close(fd)
            except OSError:
                pass
        self.ready = self.go = -1


class InhibitTestCase(WorldTestCase):

    def world(self, *phones, **kw):
        w = super().world(*phones, **kw)
        self.inhibitors = None
        w.bus.add_signal_receiver(self._on_manager_props, "PropertiesChanged", PROPS_IFACE, None, MANAGER_PATH)
        self.inhibitors = w.get_props(MANAGER_PATH, MANAGER_IFACE)["Inhibitors"]
        return w

    def _on_manager_props(self, iface, changed, invalidated):
        if str(iface) == MANAGER_IFACE and "Inhibitors" in changed:
            self.inhibitors = unwrap(changed["Inhibitors"])

    def wait_inhibitors(self, w, n):
        w.wait_until(lambda: self.inhibitors is not None and len(self.inhibitors) == n,
                     "%d inhibitor(s) in Manager.Inhibitors" % n)
        # what the signals said is what the daemon says
        self.assertEqual(w.get_props(MANAGER_PATH, MANAGER_IFACE)["Inhibitors"], self.inhibitors)
        return self.inhibitors

    def holder(self, w, *options, code=0):
        h = Holder(w, *options, code=code)
        self.addCleanup(h.close)
        return h

    def settle(self, w):
        """Make sure the daemon has acted on a plug-in it announced.  It opens
        a new phone from a zero-delay timer armed while it handled the udev
        event; sd-event runs pending sources oldest first, so by the time a
        second call (sent after the first one's reply) is answered, that
        timer has run."""
        for _ in range(2):
            w.get_props(MANAGER_PATH, MANAGER_IFACE)

    def plug(self, w, phone, port):
        w.control("plug " + phone)
        return w.wait_device(lambda p: p.get("UsbPath") == port and p.get("Present"), "phone on %s announced" % port)

    def assert_untouched(self, w, phone):
        st = w.stats(phone)
        self.assertEqual((st["first_rx_us"], st["handshakes"], st["bytes_in"], st["bytes_out"]),
                         ("0", "0", "0", "0"), "mtknvd talked to %s: %s" % (phone, st))

    def wait_opened(self, w, phone):
        """AutoBackup=always: the daemon opens the phone, and backs it up."""
        w.wait_until(lambda: len(w.jobs_new) > 0, "a backup job for " + phone)
        ok, msg = w.wait_job(w.jobs_new[-1])
        self.assertTrue(ok, msg)
        self.assertGreaterEqual(int(w.stats(phone)["handshakes"]), 1)


# phone0 in BROM mode: it waits for a handshake forever, as a phone another tool is busy with
PHONES = ("id=phone0,port=1-1,unplugged=1,mode=brom", "id=phone1,port=1-2,unplugged=1")


class TestInhibit(InhibitTestCase):

    def test_command_keeps_every_phone_away(self):
        w = self.world(*PHONES, config="AutoBackup=always\n")
        h = self.holder(w, code=7)
        # the inhibitor is mtknvctl's alone: not a descriptor leaked into the command
        self.assertEqual(h.read_ready(), "")
        who = os.path.basename(sys.executable)
        self.assertEqual(self.wait_inhibitors(w, 1), [(who, who + " is using the phone", "", 0)])

        path, _ = self.plug(w, "phone0", "1-1")
        self.settle(w)
        self.assert_untouched(w, "phone0")
        out = w.ctl("list").stdout
        self.assertIn("mtknvd is inhibited by %s (uid 0): %s is using the phone \u2014 phones on all ports are "
                      "left alone" % (who, who), out)
        listed = w.ctl_json("list")
        self.assertEqual([d["path"] for d in listed], [path])
        self.assertEqual(listed[0]["inhibitors"],
                         [{"who": who, "why": who + " is using the phone", "port": "", "uid": 0}])

        # the command's exit status is mtknvctl's
        self.assertEqual(h.release(), 7, h.stderr)
        self.assertEqual(self.wait_inhibitors(w, 0), [])
        self.assertNotIn("inhibited", w.ctl("list").stdout)
        self.assertEqual(w.ctl_json("list")[0]["inhibitors"], [])
        # a phone plugged in now is opened again
        self.plug(w, "phone1", "1-2")
        self.wait_opened(w, "phone1")
        # one plugged in meanwhile is left alone until it is plugged in again:
        # the other tool may have left it in its Download Agent
        self.assert_untouched(w, "phone0")

    def test_port_scoped(self):
        w = self.world(*PHONES, config="AutoBackup=always\n")
        h = self.holder(w, "--port", "1-1", "--who", "mtkclient", "--why", "reading nvram")
        h.read_ready()
        self.assertEqual(self.wait_inhibitors(w, 1), [("mtkclient", "reading nvram", "1-1", 0)])
        self.plug(w, "phone0", "1-1")
        self.settle(w)
        self.assertIn("mtknvd is inhibited by mtkclient (uid 0): reading nvram \u2014 phones on port 1-1 are left "
                      "alone", w.ctl("list").stdout)
        self.plug(w, "phone1", "1-2")
        listed = {d["usb_path"]: d["inhibitors"] for d in w.ctl_json("list")}
        self.assertEqual(listed, {"1-1": [{"who": "mtkclient", "why": "reading nvram", "port": "1-1", "uid": 0}],
                                  "1-2": []})
        # the other port is served as ever
        self.wait_opened(w, "phone1")
        self.settle(w)
        self.assert_untouched(w, "phone0")
        self.assertEqual(h.release(), 0, h.stderr)
        self.wait_inhibitors(w, 0)

    def test_killed_holder_ends_the_inhibitor(self):
        w = self.world(*PHONES)
        h = self.holder(w)
        h.read_ready()
        self.wait_inhibitors(w, 1)
        h.proc.kill()
        self.wait_inhibitors(w, 0)
        # and the command does not go on using the phone without it
        self.assertIsNone(h.read_ready())

    def test_signals_are_forwarded(self):
        w = self.world(*PHONES)
        h = self.holder(w)
        h.read_ready()
        self.wait_inhibitors(w, 1)
        h.proc.send_signal(signal.SIGTERM)
        # the command got it and died of it; the shell's convention for the status
        self.assertEqual(h.wait(), 128 + signal.SIGTERM, h.stderr)
        self.wait_inhibitors(w, 0)

    def test_without_command_until_signal(self):
        w = self.world(*PHONES)
        p = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "inhibit", "--why", "flashing by hand"], env=w.env(),
                             stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(self.wait_inhibitors(w, 1), [("mtknvctl", "flashing by hand", "", 0)])
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=WAIT_TIMEOUT), 0)
            self.assertIn("leaves phones on all ports alone", p.stderr.read())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()
        self.wait_inhibitors(w, 0)

    def test_daemon_stopping_is_reported(self):
        w = self.world(*PHONES)
        p = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "inhibit"], env=w.env(), stdin=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            self.wait_inhibitors(w, 1)
            w.expected_exit = True
            self.assertEqual(w.stop(), 0)
            # the inhibitor died with the daemon: the holder must not pretend otherwise
            self.assertEqual(p.wait(timeout=WAIT_TIMEOUT), 3)
            self.assertIn("the inhibitor ended with it", p.stderr.read())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()

    def test_limits_and_arguments(self):
        w = self.world(*PHONES)
        mgr = dbus.Interface(w.bus.get_object(BUS_NAME, MANAGER_PATH, introspect=False), MANAGER_IFACE)

        def inhibit(who, why, options={}):
            return mgr.Inhibit(who, why, dbus.Dictionary(options, signature="sv"), signature="ssa{sv}")
        held = []
        self.addCleanup(lambda: [os.close(fd) for fd in held])
        for i in range(16):
            held.append(inhibit("test", "number %d" % i).take())
        self.wait_inhibitors(w, 16)
        with self.assertRaises(dbus.DBusException) as e:
            inhibit("test", "number 17")
        self.assertEqual(e.exception.get_dbus_name(), ERROR + "TooManyInhibitors")
        self.assertIn("uid 0 already holds 16 inhibitors", e.exception.get_dbus_message())
        # mtknvctl says so, and does not run the command without the inhibitor
        r = w.ctl("inhibit", "--", "sh", "-c", "echo ran", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already holds 16 inhibitors", r.stderr)
        self.assertNotIn("ran", r.stdout)
        # closing one (every copy of it) makes room
        os.close(held.pop())
        self.wait_inhibitors(w, 15)
        held.append(inhibit("test", "number 16 again").take())

        bad = [("", "why", {}), ("who", "", {}), ("x" * 257, "why", {}), ("who", "two\nlines", {}),
               ("who", "esc \x1b[2J", {}), ("who", "why", {"port": ""}), ("who", "why", {"port": "1-1/.."}),
               ("who", "why", {"port": dbus.UInt32(1)}), ("who", "why", {"ports": "1-1"})]
        for who, why, options in bad:
            with self.subTest(who=who, why=why, options=options):
                with self.assertRaises(dbus.DBusException) as e:
                    inhibit(who, why, options)
                self.assertEqual(e.exception.get_dbus_name(), INVALID_ARGS)
        self.assertEqual(len(w.get_props(MANAGER_PATH, MANAGER_IFACE)["Inhibitors"]), 16)
        os.close(held.pop())
        self.wait_inhibitors(w, 15)
        # 256 bytes are fine, as is text beyond ASCII
        held.append(inhibit("SP Flash Tool", "\u00e9" * 128, {"port": "1-1.4"}).take())

    def test_inhibitor_keeps_the_daemon_up(self):
        # without the inhibitor the daemon would exit when idle, and the next
        # plug-in would start one that knows nothing of it
        w = self.world(daemon_args=["--grace-period=0.1", "--exit-on-idle=0.3"])
        w.wait_device(lambda p: p["State"] == "idle", "phone there")
        p = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "inhibit"], env=w.env(), stdin=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            self.wait_inhibitors(w, 1)
            w.control("unplug phone0")
            w.wait_until(lambda: len(w.removed) == 1, "the phone's object removed")
            # a non-event needs a window: five times ExitOnIdleSec=
            with self.assertRaises(AssertionError):
                w.wait_until(lambda: w.owner_gone, "the daemon leaving", timeout=1.5)
            self.assertTrue(w.daemon_alive())
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=WAIT_TIMEOUT), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # the last inhibitor gone, it is idle
        w.expected_exit = True
        w.wait_until(lambda: w.owner_gone, "the daemon leaving once idle")
        self.assertEqual(w.sim.wait(timeout=60), 0)


class TestDryRunSaysItReboots(RestoreTestCase):

    def test_dry_run_result_names_the_reboot(self):
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        # the client prints the job's result as it is
        r = w.ctl_then_plug("phone0", "restore", "--yes", "--dry-run", bid)
        self.assertIn("Dry run", r.stdout)
        self.assertIn("Nothing was written. The phone was rebooted; it boots normally.", r.stdout)
        # and it did reboot, and boots
        w.sim_wait("phone0", phase="booted", boots=2)
        self.assertEqual(w.stats("phone0")["last_reset"], "enable-watchdog")


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 5: `mtknvctl agent` against python-dbusmock's notification daemon.

The World gives the private system bus, the daemon and the simulated phones;
a second private dbus-daemon plays the session bus, with dbusmock's
notification_daemon template owning org.freedesktop.Notifications.  Every
Notify call shows up as dbusmock's MethodCalled signal, which the test
follows in the same GLib main loop as the daemon's signals: no sleeps.
"""

import os
import subprocess
import sys

import dbus
import dbus.mainloop.glib

from harness import BUILD, WorldTestCase, unwrap

AGENT_NAME = "org.mtknvd.MtkNv1.Agent"
NOTIFY_NAME = "org.freedesktop.Notifications"
NOTIFY_PATH = "/org/freedesktop/Notifications"
MOCK_IFACE = "org.freedesktop.DBus.Mock"

SESSION_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Session:
    """A private session bus, dbusmock's notification daemon and the agent."""

    def __init__(self, world):
        self.w = world
        self.notes = []            # (replaces_id, summary, body, hints) in call order
        self.owners = {}           # well-known name -> owner, from NameOwnerChanged
        self.agent = None
        self.mock = None
        conf = os.path.join(world.tmp, "session.conf")
        with open(conf, "w") as f:
            f.write(SESSION_CONFIG.format(path=os.path.join(world.tmp, "session-bus")))
        self.daemon = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.daemon.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("private session dbus-daemon did not start")
        self.bus = dbus.bus.BusConnection(self.address, mainloop=dbus.mainloop.glib.DBusGMainLoop())
        self.bus.add_signal_receiver(self._on_called, "MethodCalled", MOCK_IFACE, None, NOTIFY_PATH)
        self.bus.add_signal_receiver(self._on_owner, "NameOwnerChanged", "org.freedesktop.DBus",
                                     "org.freedesktop.DBus", "/org/freedesktop/DBus")
        self.mock_log = open(os.path.join(world.tmp, "notification-mock.log"), "w")
        self.mock = subprocess.Popen([sys.executable, "-m", "dbusmock", "--template", "notification_daemon"],
                                     env=self.env(), stdout=self.mock_log, stderr=subprocess.STDOUT)
        world.wait_until(lambda: self.owners.get(NOTIFY_NAME), "the mock notification daemon owns its name")

    def env(self):
        e = self.w.env()
        e["DBUS_SESSION_BUS_ADDRESS"] = self.address
        return e

    def _on_owner(self, name, old, new):
        self.owners[str(name)] = str(new)

    def _on_called(self, method, args):
        if str(method) == "Notify":
            args = unwrap(args)
            self.notes.append((args[1], args[3], args[4], args[6]))

    def start_agent(self):
        self.agent_log = os.path.join(self.w.tmp, "agent.log")
        with open(self.agent_log, "w") as log:
            self.agent = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "agent"], env=self.env(), stdout=log,
                                          stderr=subprocess.STDOUT)
        # the agent takes its name once it listens on the system bus
        self.wait(lambda: self.owners.get(AGENT_NAME), "the agent owns " + AGENT_NAME)

    def wait(self, cond, what):
        def check():
            if self.agent is not None and self.agent.poll() is not None:
                raise AssertionError("the agent exited (status %s) while waiting for: %s\n%s" %
                                     (self.agent.returncode, what, self.describe()))
            return cond()
        self.w.wait_until(check, what + "\n" + self.describe())

    def wait_note(self, pred, what):
        """Wait for a notification whose (summary, body) satisfies pred; return it."""
        found = []

        def check():
            found[:] = [n for n in self.notes if pred(n[1], n[2])]
            return bool(found)
        self.wait(check, what)
        return found[0]

    def describe(self):
        log = ""
        if getattr(self, "agent_log", None) and os.path.exists(self.agent_log):
            with open(self.agent_log) as f:
                log = f.read()[-3000:]
        return "notifications: %r\n--- agent log ---\n%s" % ([n[1] for n in self.notes], log)

    def mock_calls(self):
        """The mock's own call log, as a cross-check of the signals."""
        mock = dbus.Interface(self.bus.get_object(NOTIFY_NAME, NOTIFY_PATH), MOCK_IFACE)
        return [(str(c[1]), unwrap(c[2])) for c in mock.GetCalls() if str(c[1]) == "Notify"]

    def stop_agent(self):
        if self.agent is None or self.agent.poll() is not None:
            return self.agent.returncode if self.agent else None
        self.agent.terminate()
        return self.agent.wait(timeout=30)

    def close(self):
        if self.agent is not None and self.agent.poll() is None:
            self.agent.kill()
            self.agent.wait()
        if self.mock is not None:
            self.mock.terminate()
            self.mock.wait()
        self.mock_log.close()
        self.bus.close()
        self.daemon.terminate()
        self.daemon.wait()


class TestAgent(WorldTestCase):

    def setup_world(self, *phones, **kw):
        """mtksim always starts with one phone: it is there before the agent,
        so the agent must stay quiet about it; the tests plug in others."""
        w = self.world(*phones, **kw)
        w.wait_device(lambda p: p["State"] == "idle", "the first phone, left alone")
        s = Session(w)
        self.addCleanup(s.close)
        s.start_agent()
        return w, s

    def test_backed_up_without_noise(self):
        w, s = self.setup_world()
        w.control("add id=phone1,unplugged=1")
        w.ctl_then_plug("phone1", "backup", "--wait", "1-2")
        rid, summary, body, hints = s.wait_note(lambda su, b: "backed up" in su, "phone backed up")
        self.assertEqual(summary, "MT6735 phone backed up")
        self.assertIn("stored and verified", body)
        self.assertEqual(hints["category"], "transfer.complete")
        self.assertEqual(hints["desktop-entry"], "org.mtknvd.mtknvctl")
        self.assertTrue(any(n[1].startswith("Backing up") for n in s.notes), s.describe())
        # The phone reboots, its preloader shows up again for its boot and is
        # left alone; it boots.  None of that is news to the user.  A phone
        # that needs the user, plugged in afterwards, is the barrier: the agent
        # handles events in order, so whatever the reboot caused came before.
        w.sim_wait("phone1", phase="booted")
        w.control("add id=phone2,target-config=0x4,unplugged=1")
        w.ctl_then_plug("phone2", "backup", "1-3", check=False)
        s.wait_note(lambda su, b: "manufacturer's Download Agent" in su, "the DAA phone detected")
        # its backup then fails (the phone refuses a DA it did not sign): the last thing told
        s.wait_note(lambda su, b: su.startswith("Backup of the MT6735 phone failed"), "the refused backup told")
        self.assertEqual([n for n in s.notes if "detected" in n[1].lower() and "USB 1-2" in n[2]], [],
                         s.describe())
        self.assertEqual(len([n for n in s.notes if "backed up" in n[1]]), 1, s.describe())
        # the mock's call log says the same as its signals
        self.assertEqual([c[1][3] for c in s.mock_calls()], [n[1] for n in s.notes])
        self.assertEqual(s.stop_agent(), 0)

    def test_da_rejected(self):
        w, s = self.setup_world()
        w.control("add id=phone1,fault=da-reject,unplugged=1")
        r = w.ctl_then_plug("phone1", "backup", "--wait", "1-2", check=False)
        self.assertEqual(r.returncode, 1)
        _, summary, body, hints = s.wait_note(lambda su, b: "failed" in su, "backup failure notified")
        self.assertIn("Download Agent refused", summary)
        self.assertIn("manufacturer", summary)
        self.assertIn("0xC0060003", body)
        self.assertEqual(hints["urgency"], 2)
        # the device's Error and the job's Completed are one event to the user; the
        # Error change comes first, so a second bubble would be in the log already
        refused = [n for n in s.notes if "Download Agent refused" in n[1]]
        self.assertEqual(len(refused), 1, s.describe())

    def test_unsupported_and_device_error(self):
        # AutoBackup=first-seen: phones plugged in are identified, so that the daemon can tell about them
        w = self.world("unplugged=1", config="AutoBackup=first-seen\n", da=False)
        s = Session(w)
        self.addCleanup(s.close)
        s.start_agent()
        # SLA: the phone takes only a DA its manufacturer authorised; an honest state, told once
        w.control("add id=locked,target-config=0x7")
        _, summary, body, hints = s.wait_note(lambda su, b: "authorisation" in su, "locked phone told")
        self.assertIn("serial-link authentication", body)
        self.assertEqual(hints["category"], "device.error")
        # a chip whose DA flow mtknvd does not speak (MT2601's IoT DA): not supported yet, with what to use
        w.control("add id=new,chip=mt2601")
        _, summary, body, hints = s.wait_note(lambda su, b: "not supported" in su, "unsupported chip told")
        self.assertIn("IoT", body)
        # noise instead of the GET_TARGET_CONFIG echo: an error of the phone, no job
        w.control("add id=noisy,fault=garbage:64@0xd8")
        _, summary, body, hints = s.wait_note(lambda su, b: "unexpected answer" in su, "device error notified")
        self.assertIn("Unplug the phone", body)
        self.assertEqual(hints["category"], "device.error")
        self.assertEqual([n for n in s.notes if "detected" in n[1].lower()], [], s.describe())

    def test_daemon_exits_on_idle_and_returns(self):
        # the first phone listens until it is unplugged: were it to boot (after its 2.5 s window) the daemon
        # would be idle and exit before the session's mock notification daemon is up on a busy machine
        w, s = self.setup_world("id=phone0,handshake-window=0",
                                daemon_args=["--grace-period=0.1", "--exit-on-idle=0.3"])
        w.expected_exit = True
        w.control("unplug phone0")
        w.wait_until(lambda: w.owner_gone, "daemon exited on idle")
        self.assertEqual(w.sim.wait(timeout=60), 0)
        for round_ in (1, 2):
            # udev or D-Bus activation would start it again; here a new mtksim on the same bus does
            w.owner_seen = w.owner_gone = False
            w.control_path = os.path.join(w.tmp, "control%d" % round_)
            w._start_sim(["id=p%d,chip=mt2601" % round_], False, ["--grace-period=0.1", "--exit-on-idle=0.3"],
                         (), "AutoBackup=first-seen\n")
            s.wait(lambda: len([n for n in s.notes if "not supported" in n[1]]) == round_,
                   "phone told after daemon start %d" % round_)
            # the released phone boots and leaves the bus: the daemon is idle and exits by itself, 0.3 s
            # later, and mtksim with it.  Nothing here asks mtksim (its control socket may be gone by
            # the time a slow machine gets here): the daemon's exit is what shows the phone left.
            w.wait_until(lambda: w.owner_gone, "daemon exited on idle again")
            self.assertEqual(w.sim.wait(timeout=60), 0)
        self.assertIsNone(s.agent.poll(), "the agent did not survive the daemon's exits")
        self.assertEqual(s.stop_agent(), 0)

    def test_interrupted_restore_told(self):
        w = self.world(config="AutoBackup=first-seen\n", daemon_args=["--grace-period=60"])
        w.wait_until(lambda: len(w.backups) == 1, "automatic backup")
        w.sim_wait("phone0", phase="booted")
        bid = next(iter(w.backups.values()))["Id"]
        # unplugged a little into the writes (the snapshot reads 2 x 60 MiB first)
        w.control("fault phone0 unplug-after-da-bytes:%d" % (0x8000 + 2 * 60 * 1024 * 1024 + 65536))
        r = w.ctl_then_plug("phone0", "restore", "--yes", bid, check=False)
        self.assertNotEqual(r.returncode, 0)
        s = Session(w)
        self.addCleanup(s.close)
        s.start_agent()
        w.control("fault phone0 clear")
        w.plug_again("phone0")
        _, summary, body, hints = s.wait_note(lambda su, b: "interrupted" in su, "interrupted restore told")
        self.assertIn("restore --resume", body)
        self.assertIn(bid, body)
        self.assertEqual(s.stop_agent(), 0)

    def test_restore(self):
        w = self.world(config="AutoBackup=first-seen\n", daemon_args=["--grace-period=60"])
        w.wait_until(lambda: len(w.backups) == 1, "automatic backup")
        w.sim_wait("phone0", phase="booted")
        s = Session(w)
        self.addCleanup(s.close)
        s.start_agent()
        bid = next(iter(w.backups.values()))["Id"]
        w.ctl_then_plug("phone0", "restore", "--yes", bid)
        rid, summary, body, hints = s.wait_note(lambda su, b: "restored" in su, "phone restored")
        self.assertEqual(summary, "MT6735 phone restored")
        self.assertTrue(any(n[1].startswith("Restoring MT6735") for n in s.notes), s.describe())
        self.assertEqual(s.stop_agent(), 0)

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue "No local caller can freeze, starve, crash or fool the daemon": the
polkit side.  The bus enforces the real system policy (World(bus_policy=
"system")); the attacker runs as 'nobody' (uid 65534) and others, with
python-dbusmock's polkitd made to hang, to answer late or to say no.  Every
attack asserts that the daemon answers GetManagedObjects within a second
throughout, that its descriptor count comes back to where it was, and that it
lives on (WorldTestCase checks it exits cleanly on SIGTERM at the end)."""

import json
import os
import pwd
import signal
import subprocess
import sys
import unittest

import dbus
from gi.repository import GLib

from harness import BUILD, BUS_NAME, MANAGER_IFACE, MANAGER_PATH, mkda
from test_restore import RestoreTestCase

POLKIT_NAME = "org.freedesktop.PolicyKit1"
POLKIT_PATH = "/org/freedesktop/PolicyKit1/Authority"
POLKIT_IFACE = "org.freedesktop.PolicyKit1.Authority"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
JOB_IFACE = "org.mtknvd.MtkNv1.Job"
ACTION = "org.mtknvd.MtkNv1."
NOBODY = 65534
# more unprivileged users: dbus-daemon refuses a uid without a passwd entry
# (it looks up its groups), so these are base-passwd's system accounts
GAMES, MAN = (pwd.getpwnam(n).pw_uid for n in ("games", "man"))
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
LIMITS = "org.freedesktop.DBus.Error.LimitsExceeded"
# the daemon's caps (daemon/bus-polkit.h)
PER_SENDER, PER_UID, OVERALL, FDS = 16, 32, 64, 256
ATTACKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attacker.py")


def pipe():
    return {"t": "h"}


def opts(**kv):
    return {"t": "a{sv}", "v": {k.replace("_", "-"): v for k, v in kv.items()}}


def add_da():
    return dict(path=MANAGER_PATH, iface=MANAGER_IFACE, method="AddDownloadAgent", sig="h", args=[pipe()])


def import_backup(n_files=1, fmt="archive"):
    files = {"t": "a{sh}", "v": {"f%d" % i: pipe() for i in range(n_files)}}
    return dict(path=MANAGER_PATH, iface=MANAGER_IFACE, method="ImportBackup", sig="a{sh}a{sv}",
                args=[files, opts(format={"t": "s", "v": fmt})])


class Attacker:
    """tests/e2e/attacker.py as an unprivileged uid; its events arrive through
    the test's main loop."""

    def __init__(self, w, uid):
        self.w = w
        self.events = []
        self.proc = subprocess.Popen(w.as_uid(uid) + [sys.executable, ATTACKER, w.address], env=w.env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.buf = ""
        self.watch = GLib.io_add_watch(self.proc.stdout.fileno(), GLib.PRIORITY_DEFAULT,
                                       GLib.IO_IN | GLib.IO_HUP, self._on_out)

    def _on_out(self, fd, cond):
        data = os.read(fd, 65536).decode()
        if not data:
            return False
        self.buf += data
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            self.events.append(json.loads(line))
        return True

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def _wait_event(self, what, pred):
        self.w.wait_until(lambda: any(pred(e) for e in self.events), "attacker: " + what)
        return next(e for e in self.events if pred(e))

    def connect(self, conn):
        self.send(cmd="connect", conn=conn)
        return self._wait_event("connected " + conn, lambda e: e["event"] == "connected" and e["conn"] == conn)

    def call(self, conn, tag, count=1, **call):
        self.send(cmd="call", conn=conn, tag=tag, count=count, **call)
        self._wait_event("sent " + tag, lambda e: e["event"] == "sent" and e["tag"] == tag)

    def close(self, conn):
        self.send(cmd="close", conn=conn)
        self._wait_event("closed " + conn, lambda e: e["event"] == "closed" and e["conn"] == conn)

    def replies(self, tag):
        return [e for e in self.events if e["event"] == "reply" and e["tag"] == tag]

    def wait_replies(self, tag, count, timeout=30):
        self.w.wait_until(lambda: len(self.replies(tag)) >= count, "%d replies to %s" % (count, tag), timeout)
        return self.replies(tag)

    def stop(self):
        GLib.source_remove(self.watch)
        if self.proc.poll() is None:
            try:
                self.send(cmd="quit")
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


class AttackTestCase(RestoreTestCase):

    def setUp(self):
        self.polkitd = None
        self.checks = []    # the CheckAuthorization calls polkit got: {id, action, sender}
        self.cancels = []   # ids of the CancelCheckAuthorization calls
        self.attackers = []

    def tearDown(self):
        for a in self.attackers:
            a.stop()
        if self.polkitd is not None:
            self.polkitd.terminate()
            self.polkitd.wait()

    def attack_world(self, *phones, **kw):
        return self.world(*phones, bus_policy="system", **kw)

    def start_polkit(self, w, hang=True):
        owners = []
        w.bus.add_signal_receiver(lambda name, old, new: owners.append(new), "NameOwnerChanged",
                                  "org.freedesktop.DBus", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                  arg0=POLKIT_NAME)

        def called(name, args):
            if name == "CheckAuthorization":
                self.checks.append({"id": str(args[4]), "action": str(args[1]),
                                    "sender": str(args[0][1]["name"])})
            elif name == "CancelCheckAuthorization":
                self.cancels.append(str(args[0]))
        w.bus.add_signal_receiver(called, "MethodCalled", MOCK_IFACE, None, POLKIT_PATH)
        self.polkitd = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "--template", "polkitd"],
                                        env=w.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w.wait_until(lambda: any(owners), "the mock polkitd owns " + POLKIT_NAME)
        self.polkit = dbus.Interface(w.bus.get_object(POLKIT_NAME, POLKIT_PATH), MOCK_IFACE)
        # the template lacks it; a real polkitd closes the dialog of a check nobody waits for
        self.polkit.AddMethod(POLKIT_IFACE, "CancelCheckAuthorization", "s", "", "")
        self.polkit.SimulateHang(hang)

    def attacker(self, w, uid=NOBODY):
        a = Attacker(w, uid)
        self.attackers.append(a)
        return a

    def baseline(self, w, a):
        """The daemon's descriptor count once one polkit check came and went
        (its first deadline timer adds a timerfd that stays)."""
        self.polkit.SimulateHang(False)
        a.connect("warm-up")
        a.call("warm-up", "warm-up", **add_da())
        self.assertEqual(a.wait_replies("warm-up", 1)[0]["error"], "org.freedesktop.DBus.Error.AccessDenied")
        a.close("warm-up")
        self.polkit.SimulateHang(True)
        self.checks.clear()
        w.assert_responsive(within=1.0)
        return w.daemon_fd_count()

    def n_checks(self, sender=None):
        return len([c for c in self.checks if sender in (None, c["sender"])])

    def wait_checks(self, w, n, sender=None):
        w.wait_until(lambda: self.n_checks(sender) >= n,
                     "%d CheckAuthorization calls at polkit%s" % (n, " from " + sender if sender else ""))
        self.assertEqual(self.n_checks(sender), n)

    def wait_cancelled(self, w, sender=None):
        """Every check (of sender) was cancelled at polkit."""
        w.wait_until(lambda: {c["id"] for c in self.checks if sender in (None, c["sender"])} <= set(self.cancels),
                     "every polkit check%s cancelled" % (" of " + sender if sender else ""))

    def wait_fds(self, w, n, what):
        w.wait_for(lambda: w.daemon_fd_count() == n,
                   "the daemon's descriptors back to %d (%s); now %d" % (n, what, w.daemon_fd_count()))


class TestCallerVanishes(AttackTestCase):

    def test_disconnect_before_polkit_answers(self):
        """(a) 320 calls carrying 1,600 pipe descriptors, from 20 connections
        that close while polkit hangs (or before the daemon even read them):
        every query and descriptor goes when its caller does."""
        w = self.attack_world()
        self.start_polkit(w)
        a = self.attacker(w)
        base = self.baseline(w, a)
        # 16 calls a connection: 6 imports of one file, 5 Download Agents, 5 imports of 15 files
        mix = [(6, import_backup(1)), (5, add_da()), (5, import_backup(15, "raw"))]
        per_round = sum(n * (1 if c["method"] == "AddDownloadAgent" else len(c["args"][0]["v"])) for n, c in mix)
        calls = 0
        for rnd in range(20):
            conn = "c%d" % rnd
            name = a.connect(conn)["name"]
            for i, (count, call) in enumerate(mix):
                a.call(conn, "%s-%d" % (conn, i), count, **call)
            calls += 16
            if rnd % 4 == 3:
                # gone before the daemon may even have looked: no check may outlive it
                a.close(conn)
                self.wait_fds(w, base, "closed at once, round %d" % rnd)
                self.polkit.ReleaseHangingCalls()
                continue
            self.wait_checks(w, 16, name)
            w.assert_responsive(within=1.0)
            self.assertEqual(w.daemon_fd_count(), base + per_round)
            self.assertEqual([e for e in a.events if e["event"] == "reply" and e["tag"].startswith(conn + "-")], [])
            a.close(conn)
            self.wait_fds(w, base, "round %d" % rnd)
            self.wait_cancelled(w, name)
            w.assert_responsive(within=1.0)
            # what a real polkit does with a cancelled check: answer it (the
            # bus counts it against the daemon until then; see test (d))
            self.polkit.ReleaseHangingCalls()
        self.assertGreaterEqual(calls, 300)
        self.wait_cancelled(w)
        # polkit's late answers, to calls nobody waits for any more, change nothing
        self.polkit.ReleaseHangingCalls()
        w.assert_responsive(within=1.0)
        self.assertEqual(w.daemon_fd_count(), base)
        # and the daemon still asks polkit, and says what it said
        self.polkit.SimulateHang(False)
        a.connect("after")
        a.call("after", "after", **add_da())
        r = a.wait_replies("after", 1)[0]
        self.assertEqual(r["error"], "org.freedesktop.DBus.Error.AccessDenied")
        self.assertIn("Not authorized to add a Download Agent", r["message"])
        a.close("after")
        self.wait_fds(w, base, "after the last call")


    def test_mtknvctl_interrupted_at_the_check(self):
        """(a) a user presses ^C while mtknvctl waits for polkit: the daemon
        lets go of the call and its file, and tells polkit to drop the check."""
        w = self.attack_world()
        self.start_polkit(w)
        a = self.attacker(w)
        base = self.baseline(w, a)
        da = os.path.join(w.tmp, "da.bin")
        with open(da, "wb") as f:
            f.write(mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES]))
        os.chmod(da, 0o644)
        ctl = subprocess.Popen(w.as_uid(NOBODY) + [os.path.join(BUILD, "mtknvctl"), "add-da", da], env=w.env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.wait_checks(w, 1)
            self.assertEqual(w.daemon_fd_count(), base + 1)
        finally:
            ctl.send_signal(signal.SIGINT)
            ctl.wait(timeout=30)
        self.wait_fds(w, base, "mtknvctl interrupted")
        self.wait_cancelled(w)
        w.assert_responsive(within=1.0)


class TestPolicy(AttackTestCase):

    def test_the_bus_enforces_the_system_policy(self):
        """The harness's bus_policy="system" is the real thing: 'nobody' may
        read, may not take the daemon's name, nor call what the policy omits."""
        w = self.attack_world()
        code = ("import dbus, sys\n"
                "b = dbus.bus.BusConnection(sys.argv[1])\n"
                "for f in (lambda: b.request_name('org.mtknvd.MtkNv1'),\n"
                "          lambda: b.call_blocking('org.mtknvd.MtkNv1', '/org/mtknvd/MtkNv1', 'org.example.Nope',\n"
                "                                  'Call', '', ()),\n"
                "          lambda: b.call_blocking('org.mtknvd.MtkNv1', '/', 'org.freedesktop.DBus.ObjectManager',\n"
                "                                  'GetManagedObjects', '', ())):\n"
                "    try:\n"
                "        f()\n"
                "        print('ok')\n"
                "    except dbus.exceptions.DBusException as e:\n"
                "        print(e.get_dbus_name())\n")
        r = subprocess.run(w.as_uid(NOBODY) + [sys.executable, "-c", code, w.address], env=w.env(),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout.split(), ["org.freedesktop.DBus.Error.AccessDenied"] * 2 + ["ok"], r.stderr)
        self.assertEqual(w.ctl_as(NOBODY, "list").returncode, 0)


class TestObjectGoes(AttackTestCase):

    def test_phone_unplugged_while_polkit_decides(self):
        """(b) 16 backups with a scatter pipe wait for polkit; the phone goes;
        polkit answers: the calls fail as the phone is gone, and their queries
        and descriptors go although no handler asked polkit again."""
        w = self.attack_world("id=phone0,unplugged=1,handshake-window=0", daemon_args=["--grace-period=0"])
        self.start_polkit(w)
        a = self.attacker(w)
        base = self.baseline(w, a)
        w.control("plug phone0")
        path, _ = w.wait_device(lambda p: p.get("State") == "idle", "phone0 there")
        ready = w.daemon_fd_count()
        a.connect("c")
        a.call("c", "backup", 16, path=MANAGER_PATH, iface=MANAGER_IFACE, method="Backup", sig="oa{sv}",
               args=[{"t": "o", "v": path}, opts(scatter=pipe())])
        self.wait_checks(w, 16)
        self.assertEqual(w.daemon_fd_count(), ready + 16)
        w.control("unplug phone0")
        w.wait_until(lambda: path in w.removed, "the phone's object removed")
        w.assert_responsive(within=1.0)
        self.polkit.ReleaseHangingCalls()
        replies = a.wait_replies("backup", 16)
        self.assertEqual({r["error"] for r in replies}, {"org.mtknvd.MtkNv1.Error.NoSuchDevice"})
        # the caller is still connected: only the reaping of unclaimed calls frees them
        self.wait_fds(w, base, "the phone and the 16 calls gone")
        self.assert_sender_room(w, a, "c")

    def assert_sender_room(self, w, a, conn):
        # none of the earlier queries is left: a full quota of new ones reaches polkit
        self.polkit.SimulateHang(True)
        n = len(self.checks)
        a.call(conn, "room", PER_SENDER, **add_da())
        self.wait_checks(w, n + PER_SENDER)
        self.assertEqual(a.replies("room"), [])
        w.assert_responsive(within=1.0)

    def test_job_ends_while_polkit_decides(self):
        """(b) 16 Cancel calls on root's job wait for polkit; the job ends; the
        re-dispatched calls find no object, and their queries go."""
        w = self.attack_world("id=phone0,rate=20,handshake-window=0")
        self.start_polkit(w)
        path, _ = w.wait_device(lambda p: p.get("State") == "idle", "phone0 there")
        job = str(w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Backup", "oa{sv}", (path, {})))
        a = self.attacker(w)
        a.connect("c")
        a.call("c", "cancel", 16, path=job, iface=JOB_IFACE, method="Cancel", sig="a{sv}", args=[opts()])
        self.wait_checks(w, 16)
        self.assertEqual({c["action"] for c in self.checks}, {ACTION + "manage"})
        # the connection's quota is full now...
        a.call("c", "cancel-over", path=job, iface=JOB_IFACE, method="Cancel", sig="a{sv}", args=[opts()])
        self.assertEqual(a.wait_replies("cancel-over", 1)[0]["error"], LIMITS)
        w.assert_responsive(within=1.0)
        self.assertEqual(w.wait_job(job, timeout=60)[0], True)
        self.polkit.ReleaseHangingCalls()
        replies = a.wait_replies("cancel", 16)
        self.assertEqual({r["error"] for r in replies}, {"org.freedesktop.DBus.Error.UnknownObject"})
        # ...and free again: no handler claimed the answers, the reaper ended the queries
        self.assert_sender_room(w, a, "c")
        a.close("c")


class TestCaps(AttackTestCase):

    def test_per_sender_per_user_and_overall_caps(self):
        """(c) the caps answer with LimitsExceeded naming the cap, never "polkit
        said no"; other users, and root, are still served."""
        w = self.attack_world()
        self.start_polkit(w)
        a = self.attacker(w)
        base = self.baseline(w, a)
        a.connect("a1")
        a.call("a1", "a1", PER_SENDER, **add_da())
        self.wait_checks(w, PER_SENDER)
        a.call("a1", "a1-over", **add_da())
        r = a.wait_replies("a1-over", 1)[0]
        self.assertEqual(r["error"], LIMITS)
        self.assertIn("this connection already has 16 calls waiting for polkit", r["message"])
        self.assertNotIn("Not authorized", r["message"])
        self.assertEqual(len(self.checks), PER_SENDER)

        # the same user on a second connection, up to the user's cap
        a.connect("a2")
        a.call("a2", "a2", PER_UID - PER_SENDER, **add_da())
        self.wait_checks(w, PER_UID)
        a.connect("a3")
        a.call("a3", "a3-over", **add_da())
        r = a.wait_replies("a3-over", 1)[0]
        self.assertEqual(r["error"], LIMITS)
        self.assertIn("your user already has 32 calls waiting for polkit", r["message"])

        # another user is still served, up to the overall cap
        other = self.attacker(w, GAMES)
        other.connect("o1")
        other.connect("o2")
        other.call("o1", "o1", PER_SENDER, **add_da())
        other.call("o2", "o2", PER_SENDER, **add_da())
        self.wait_checks(w, OVERALL)
        w.assert_responsive(within=1.0)
        late = self.attacker(w, MAN)
        late.connect("l")
        late.call("l", "late", **add_da())
        r = late.wait_replies("late", 1)[0]
        self.assertEqual(r["error"], LIMITS)
        self.assertIn("as many calls as mtknvd allows (64 calls, 256 file descriptors)", r["message"])
        self.assertIn("polkit may be slow or hung", r["message"])
        self.assertEqual(len(self.checks), OVERALL)

        # root is not asked, so not capped
        da = os.path.join(w.tmp, "da.bin")
        with open(da, "wb") as f:
            f.write(mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES]))
        w.ctl("add-da", da)

        # room again once a connection goes: the late user gets through
        a.close("a1")
        w.wait_until(lambda: len(self.cancels) >= PER_SENDER, "a1's checks cancelled")
        late.call("l", "late2", **add_da())
        self.wait_checks(w, OVERALL + 1)
        self.assertEqual(late.replies("late2"), [])
        other.close("o1")
        other.close("o2")
        for c in ("a2", "a3"):
            a.close(c)
        late.close("l")
        self.wait_fds(w, base, "every caller gone")
        w.assert_responsive(within=1.0)

    def test_descriptor_cap(self):
        """(c) queries may hold at most 256 descriptors between them."""
        w = self.attack_world()
        self.start_polkit(w)
        a = self.attacker(w)
        base = self.baseline(w, a)
        a.connect("a")
        a.call("a", "big", PER_SENDER, **import_backup(15, "raw"))
        self.wait_checks(w, PER_SENDER)
        self.assertEqual(w.daemon_fd_count(), base + 240)
        b = self.attacker(w, GAMES)
        b.connect("b")
        b.call("b", "fits", **import_backup(15, "raw"))      # 255 held
        self.wait_checks(w, PER_SENDER + 1)
        b.call("b", "over", **import_backup(2, "raw"))       # 257 would be
        r = b.wait_replies("over", 1)[0]
        self.assertEqual(r["error"], LIMITS)
        self.assertIn("as many file descriptors as mtknvd allows", r["message"])
        b.call("b", "small", **import_backup(1, "raw"))      # 256 fit
        self.wait_checks(w, PER_SENDER + 2)
        self.assertEqual(w.daemon_fd_count(), base + FDS)
        w.assert_responsive(within=1.0)
        a.close("a")
        b.close("b")
        self.wait_fds(w, base, "both callers gone")


class TestHungPolkit(AttackTestCase):

    def test_deadline_frees_everything(self):
        """(d) polkit never answers: after the deadline each call fails with an
        error that says so, and its descriptors go although the caller stays;
        the checks polkit still owes an answer (which the bus counts against
        the daemon) are capped with an error that says polkit seems hung."""
        w = self.attack_world(daemon_args=["--polkit-timeout=2"])
        self.start_polkit(w)
        a = self.attacker(w)
        base = self.baseline(w, a)
        b = self.attacker(w, GAMES)
        a.connect("c")
        a.connect("c2")
        b.connect("b")

        def expire(batches, what):
            n = len(self.checks)
            for att, conn, tag, count, call in batches:
                att.call(conn, tag, count, **call)
            self.wait_checks(w, n + sum(x[3] for x in batches))
            w.assert_responsive(within=1.0)
            for att, conn, tag, count, call in batches:
                for r in att.wait_replies(tag, count):
                    self.assertEqual(r["error"], "org.freedesktop.DBus.Error.Timeout")
                    self.assertIn("polkit did not answer within 2 s whether you may", r["message"])
            self.wait_fds(w, base, what)
            w.assert_responsive(within=1.0)

        a.call("c", "held", 8, **import_backup(15, "raw"))
        self.wait_checks(w, 8)
        self.assertEqual(w.daemon_fd_count(), base + 8 * 15)
        expire([(a, "c", "hung", 8, import_backup(1))], "the first deadline")
        a.wait_replies("held", 8)
        # 16 checks unanswered by polkit now; 32 more, then 48 more waiting
        expire([(a, "c", "hung2", 16, add_da()), (a, "c2", "hung3", 16, add_da())], "the second deadline")
        for conn in ("c", "c2"):
            a.call(conn, "wait-" + conn, 16, **add_da())
        b.call("b", "wait-b", 16, **add_da())
        self.wait_checks(w, 96)
        b.connect("b2")
        b.call("b2", "over", **add_da())
        r = b.wait_replies("over", 1)[0]
        self.assertEqual(r["error"], LIMITS)
        self.assertIn("polkit has not answered 96 earlier authorization checks", r["message"])
        self.assertIn("it may be hung", r["message"])
        self.assertEqual(len(self.checks), 96)
        w.assert_responsive(within=1.0)
        # polkit comes back and answers everything it owes: the daemon asks it again
        self.polkit.SimulateHang(False)
        self.polkit.ReleaseHangingCalls()
        for tag, att in (("wait-c", a), ("wait-c2", a), ("wait-b", b)):
            for r in att.wait_replies(tag, 16):
                self.assertIn(r["error"], ("org.freedesktop.DBus.Error.AccessDenied",
                                           "org.freedesktop.DBus.Error.Timeout"))
        b.call("b", "back", **add_da())
        r = b.wait_replies("back", 1)[0]
        self.assertEqual(r["error"], "org.freedesktop.DBus.Error.AccessDenied")
        self.assertIn("Not authorized to add a Download Agent", r["message"])
        for att, conn in ((a, "c"), (a, "c2"), (b, "b"), (b, "b2")):
            att.close(conn)
        self.wait_fds(w, base, "every caller gone")


class TestSigpipe(AttackTestCase):

    def test_export_into_closed_pipe(self):
        """(e) an export whose reader went away fails alone: the daemon lives,
        and a backup running on another phone finishes."""
        w = self.backed_up_world("id=phone0", "id=phone1", bus_policy="system")
        self.start_polkit(w, hang=False)
        self.polkit.SetAllowed([ACTION + "export-backup"])
        bpath = next(iter(w.backups))
        w.control("set phone1 rate=20")
        self.replug_ready(w, "phone1")
        dev = self.ready_device(w)
        job = str(w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Backup", "oa{sv}", (dev, {})))
        base = w.daemon_fd_count()
        a = self.attacker(w)
        a.connect("c")
        a.call("c", "export", 4, path=MANAGER_PATH, iface=MANAGER_IFACE, method="ExportBackup", sig="oha{sv}",
               args=[{"t": "o", "v": bpath}, {"t": "hw"}, opts()])
        for r in a.wait_replies("export", 4):
            self.assertEqual(r["error"], "org.mtknvd.MtkNv1.Error.ReaderGone")
            self.assertIn("The reader of the export went away", r["message"])
        self.assertTrue(w.daemon_alive())
        w.assert_responsive(within=1.0)
        self.assertNotIn(job, w.completed)
        self.assertEqual(w.wait_job(job, timeout=60), (True, w.completed[job][1]))
        self.assertTrue(w.completed[job][0])
        a.close("c")
        w.assert_responsive(within=1.0)
        self.assertLessEqual(w.daemon_fd_count(), base)



class TestOptions(AttackTestCase):

    def test_unknown_and_mistyped_options(self):
        """(f) every method's options dictionary: an unknown key or a value of
        the wrong type is InvalidArgs naming the key, before polkit is asked."""
        w = self.backed_up_world(bus_policy="system")
        self.start_polkit(w)   # hanging: a call that reached it would not come back
        bpath = next(iter(w.backups))
        w.control("set phone0 rate=5")
        self.replug_ready(w)
        dev = self.ready_device(w)
        job = str(w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Backup", "oa{sv}", (dev, {})))
        s = {"t": "s", "v": "x"}
        b = {"t": "b", "v": True}
        dev_a, bk_a = {"t": "o", "v": dev}, {"t": "o", "v": bpath}
        backup = dict(path=MANAGER_PATH, iface=MANAGER_IFACE, method="Backup", sig="oa{sv}")
        restore = dict(path=MANAGER_PATH, iface=MANAGER_IFACE, method="Restore", sig="ooa{sv}")
        export = dict(path=MANAGER_PATH, iface=MANAGER_IFACE, method="ExportBackup", sig="oha{sv}")
        imp = dict(path=MANAGER_PATH, iface=MANAGER_IFACE, method="ImportBackup", sig="a{sh}a{sv}")
        cancel = dict(path=job, iface=JOB_IFACE, method="Cancel", sig="a{sv}")
        no_files = {"t": "a{sh}", "v": {}}
        cases = [
            (backup, [dev_a, opts(bogus=s)], 'Unknown option "bogus" for Backup() (known: scatter)'),
            (backup, [dev_a, opts(format=s)], 'Unknown option "format" for Backup()'),
            (backup, [dev_a, opts(scatter=s)], 'Option "scatter" wants a file descriptor (h), not a value of type "s"'),
            (restore, [dev_a, bk_a, opts(force=b)], 'Unknown option "force" for Restore() (known: dry-run, '
                                                    'allow-foreign, resume, rollback, partitions)'),
            (restore, [dev_a, bk_a, opts(dry_run=s)], 'Option "dry-run" wants a boolean (b)'),
            (restore, [dev_a, bk_a, opts(allow_foreign={"t": "u", "v": 1})],
             'Option "allow-foreign" wants a boolean (b), not a value of type "u"'),
            (restore, [dev_a, bk_a, opts(resume=s)], 'Option "resume" wants a boolean (b)'),
            (restore, [dev_a, bk_a, opts(partitions=s)], 'Option "partitions" wants a string array (as)'),
            (restore, [dev_a, bk_a, opts(partitions={"t": "as", "v": ["nvram", "../x"]})],
             'Option "partitions": "../x" is not a partition name'),
            (restore, [dev_a, bk_a, opts(partitions={"t": "as", "v": []})], 'Option "partitions" is empty'),
            (export, [bk_a, {"t": "hw"}, opts(format={"t": "i", "v": 5})],
             'Option "format" wants a string (s), not a value of type "i"'),
            (export, [bk_a, {"t": "hw"}, opts(compress=b)], 'Unknown option "compress" for ExportBackup() '
                                                            '(known: scatter, format, compression)'),
            (export, [bk_a, {"t": "hw"}, opts(scatter=b)], 'Option "scatter" wants a file descriptor (h)'),
            (imp, [no_files, opts(format=b)], 'Option "format" wants a string (s)'),
            (imp, [no_files, opts(scatter=s)], 'Option "scatter" wants a file descriptor (h)'),
            (imp, [no_files, opts(extra=s)], 'Unknown option "extra" for ImportBackup()'),
            (cancel, [opts(force=b)], 'Unknown option "force": Cancel() takes no options'),
            (cancel, [opts(mode=s)], 'Unknown option "mode": Cancel() takes no options'),
        ]
        a = self.attacker(w)
        a.connect("c")
        for i, (call, args, text) in enumerate(cases):
            with self.subTest(method=call["method"], expected=text):
                a.call("c", "case%d" % i, args=args, **call)
                r = a.wait_replies("case%d" % i, 1)[0]
                self.assertEqual(r["error"], INVALID_ARGS, r)
                self.assertIn(text, r["message"])
        self.assertEqual(self.checks, [], "a call with bad options reached polkit")
        w.assert_responsive(within=1.0)
        # root's job ran on, untouched by the bad Cancel calls
        self.assertNotIn(job, w.completed)
        w.bus.call_blocking(BUS_NAME, job, JOB_IFACE, "Cancel", "a{sv}", ({},))
        w.wait_job(job, timeout=60)
        a.close("c")


if __name__ == "__main__":
    unittest.main()

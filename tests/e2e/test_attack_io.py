# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue "No local caller can freeze, starve, crash or fool the daemon": the
descriptor side.  Unprivileged callers (uid 65534, on the real system-bus
policy) hand the daemon descriptors that never deliver their end (a pipe, a
FIFO, a socket), compression bombs, an export nobody reads, and 2,000
no-reply-expected Verify calls, while a backup runs on a simulated phone.
Throughout, the daemon answers GetManagedObjects within a second and the
backup completes; each stalled call ends with a clear error at its deadline
(FileTimeoutSec=, short here) or when its caller leaves; descriptors and
memory come back to where they were.

Run as a script with --caller, this file is the unprivileged caller itself
(started through setpriv by IoCaller): it makes the calls its JSON argument
describes and prints one JSON line per reply."""

import bz2
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import unittest

BACKUP_IFACE = "org.mtknvd.MtkNv1.Backup"
JOB_IFACE = "org.mtknvd.MtkNv1.Job"
TIMEOUT_ERROR = "org.freedesktop.DBus.Error.Timeout"
INVALID_FILE = "org.mtknvd.MtkNv1.Error.InvalidFile"
# FileTimeoutSec= of these worlds: the deadline every stalled call meets
DEADLINE = 2.0
# AddressSanitizer keeps freed memory in quarantine: memory is not measured
# then; and it makes the daemon several times slower: a flood of 2,000 calls
# takes it longer than a second to refuse
SANITIZE = os.environ.get("MTKNVD_SANITIZE") == "1"
RESPONSIVE_WITHIN = 3.0 if SANITIZE else 1.0


# ---------------------------------------------------------------- the caller (a separate, unprivileged process)

def caller_main(spec):
    """Make the calls of spec on one connection; print their replies."""
    import dbus
    import dbus.lowlevel
    import dbus.mainloop.glib
    from gi.repository import GLib

    loop = GLib.MainLoop()
    conn = dbus.bus.BusConnection(spec["address"], mainloop=dbus.mainloop.glib.DBusGMainLoop())
    held = []   # the other ends: kept open, never used, until we exit

    def emit(**event):
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def value(a):
        t = a["t"]
        if t == "o":
            return dbus.ObjectPath(a["v"])
        if t == "s":
            return dbus.String(a["v"])
        if t == "a{sv}":
            return dbus.Dictionary({k: value(x) for k, x in a["v"].items()}, signature="sv")
        if t == "a{sh}":
            return dbus.Dictionary({k: value(x) for k, x in a["v"].items()}, signature="sh")
        if t == "pipe":             # its writer stays here and writes nothing
            r, w = os.pipe()
            held.append(w)
            fd = r
        elif t == "pipe-w":         # its reader stays here and reads nothing
            r, w = os.pipe()
            held.append(r)
            fd = w
        elif t == "fifo":           # a FIFO we hold open for writing, writing nothing
            fd = os.open(a["path"], os.O_RDONLY | os.O_NONBLOCK)
            held.append(os.open(a["path"], os.O_WRONLY))
            os.set_blocking(fd, True)
        elif t == "socket":         # a stream socket whose peer says nothing
            s1, s2 = socket.socketpair()
            held.append(s2)
            fd = s1.detach()
        elif t == "file":
            fd = os.open(a["path"], os.O_RDONLY)
        else:
            raise ValueError(t)
        u = dbus.types.UnixFd(fd)
        os.close(fd)
        return u

    pending = [0]
    for call in spec["calls"]:
        for i in range(call.get("count", 1)):
            args = [value(a) for a in call["args"]]
            if call.get("no_reply"):
                msg = dbus.lowlevel.MethodCallMessage(BUS_NAME_, call["path"], call["iface"], call["method"])
                msg.append(*args, signature=call["sig"])
                msg.set_no_reply(True)
                conn.send_message(msg)
                continue
            pending[0] += 1
            start = time.monotonic()

            def plain(x):
                """A reply's D-Bus values as JSON can hold them (an a{sv} as an object)."""
                if isinstance(x, dict):
                    return {str(k): plain(v) for k, v in x.items()}
                if isinstance(x, (list, tuple)):
                    return [plain(v) for v in x]
                if isinstance(x, dbus.Boolean):
                    return bool(x)
                if isinstance(x, int):
                    return int(x)
                return str(x)

            def done(error=None, message="", tag=call["tag"], start=start):
                emit(tag=tag, error=error, message=message, elapsed=time.monotonic() - start)
                pending[0] -= 1

            conn.call_async(BUS_NAME_, call["path"], call["iface"], call["method"], call["sig"], args,
                            lambda *reply, done=done: done(message=json.dumps([plain(x) for x in reply])),
                            lambda e, done=done: done(e.get_dbus_name(), e.get_dbus_message()),
                            timeout=120)
    conn.flush()
    emit(tag="sent")

    # replies come in; then stay (holding the descriptors) until told to go;
    # "close" leaves the bus but keeps the descriptors
    def on_stdin(*a):
        line = sys.stdin.readline()
        if line.strip() == "close":
            conn.close()
            emit(tag="closed")
            return True
        loop.quit()
        return False
    GLib.io_add_watch(sys.stdin, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, on_stdin)
    loop.run()


BUS_NAME_ = "org.mtknvd.MtkNv1"

if __name__ == "__main__" and sys.argv[1:2] == ["--caller"]:
    caller_main(json.loads(sys.argv[2]))
    sys.exit(0)


# ---------------------------------------------------------------- the test side

import dbus  # noqa: E402
from gi.repository import GLib  # noqa: E402

from harness import BUS_NAME, MANAGER_IFACE, MANAGER_PATH, OM_IFACE  # noqa: E402
from test_attack_polkit import ACTION, LIMITS, NOBODY, AttackTestCase  # noqa: E402

class IoCaller:
    """This file run as --caller under uid; its replies arrive through the test's main loop."""

    def __init__(self, w, calls, uid=None):
        self.w = w
        self.events = []
        spec = json.dumps({"address": w.address, "calls": calls})
        self.proc = subprocess.Popen(w.as_uid(NOBODY if uid is None else uid) +
                                     [sys.executable, os.path.abspath(__file__), "--caller", spec],
                                     env=w.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.buf = ""
        self.watch = GLib.io_add_watch(self.proc.stdout.fileno(), GLib.PRIORITY_DEFAULT,
                                       GLib.IO_IN | GLib.IO_HUP, self._on_out)
        w.wait_until(lambda: self.replies("sent"), "the caller sent its calls")

    def _on_out(self, fd, cond):
        data = os.read(fd, 65536).decode()
        if not data:
            self.watch = None
            return False
        self.buf += data
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            self.events.append(json.loads(line))
        return True

    def replies(self, tag=None):
        return [e for e in self.events if tag is None and e["tag"] not in ("sent", "closed") or e["tag"] == tag]

    def leave_bus(self):
        """Close the connection, keeping the descriptors (their writers never end them)."""
        self.proc.stdin.write("close\n")
        self.proc.stdin.flush()
        self.w.wait_until(lambda: self.replies("closed"), "the caller left the bus")

    def stop(self):
        if self.watch is not None:
            GLib.source_remove(self.watch)
            self.watch = None
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.proc.stdout.close()


def manager_call(tag, method, sig, *args):
    return dict(tag=tag, path=MANAGER_PATH, iface=MANAGER_IFACE, method=method, sig=sig, args=list(args))


def inspect(tag, fd):
    return manager_call(tag, "Inspect", "h", fd)


def header(name, size, type=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.type = type
    return ti.tobuf(format=tarfile.USTAR_FORMAT)


def padded(data):
    return data + bytes(-len(data) % 512)


def bz2_bomb(gib=4):
    """A tar member of gib GiB of zeros, bzip2-compressed: ~6 KB (concatenated streams)."""
    return bz2.compress(header("junk.img", gib << 30), 9) + bz2.compress(bytes(64 << 20), 9) * (16 * gib)


def gz_bomb(members=8, mib=256):
    """8 members of 256 MiB of zeros (2 GiB), gzipped: ~2 MB (concatenated members)."""
    zeros = gzip.compress(bytes(64 << 20), 9)
    out = []
    for i in range(members):
        out.append(gzip.compress(header("part%d.img" % i, mib << 20)))
        out += [zeros] * (mib // 64)
    out.append(gzip.compress(bytes(1024)))
    return b"".join(out)


def pax_bomb(prefix=b""):
    """prefix, then eight pax extended headers of 900 KiB each (libarchive takes
    each, being below its 1 MiB limit, and reads all of them in one call), then
    a member: bzip2-compressed, a few KB."""
    record = "comment=" + "x" * (900 * 1024)
    n = len(record) + 2
    n += len(str(n + len(str(n))))
    body = ("%d %s\n" % (n, record)).encode()
    assert int(body.split(b" ")[0]) == len(body)
    one = header("x/PaxHeaders/nvram.img", len(body), tarfile.XHDTYPE) + padded(body)
    return bz2.compress(prefix + one * 8 + header("x/nvram.img", 512) + bytes(512) + bytes(1024), 9)


class IoTestCase(AttackTestCase):

    def setUp(self):
        super().setUp()
        self.callers = []

    def tearDown(self):
        for c in self.callers:
            c.stop()
        super().tearDown()

    def io_world(self, phones=("id=phone0",), timeout=DEADLINE):
        """Backed up once (then rebooted), on the system bus policy, with a short FileTimeoutSec=."""
        w = self.world(*phones, config="AutoBackup=first-seen\nFileTimeoutSec=%g\n" % timeout,
                       daemon_args=["--grace-period=60"], bus_policy="system")
        os.chmod(w.tmp, 0o711)
        w.wait_until(lambda: len(w.backups) == len(phones), "first backups")
        # released after the backup: each phone reboots, is left alone, and boots
        for p in phones:
            w.sim_wait(p.split(",")[0].split("=")[1], phase="booted")
        return w

    def caller(self, w, *calls, uid=None):
        c = IoCaller(w, list(calls), uid)
        self.callers.append(c)
        return c

    def slow_backup(self, w, phone="phone0"):
        """A backup that takes several seconds (10 MB/s), running."""
        w.control("set %s rate=10" % phone)
        self.replug_ready(w, phone)
        dev = self.ready_device(w)
        return str(w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Backup", "oa{sv}", (dev, {})))

    def responsive_until(self, w, cond, what, timeout=60):
        """Wait for cond, with the daemon answering within a second at every step."""
        worst = [0.0]

        def check():
            worst[0] = max(worst[0], w.assert_responsive(within=RESPONSIVE_WITHIN))
            return cond()
        w.wait_for(check, what, timeout=timeout, interval=0.05)
        return worst[0]

    def file(self, w, name, data):
        path = os.path.join(w.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
        return path

    def wait_fds_at_most(self, w, n, what):
        """Descriptors back to n or fewer (a phone whose backup ended since holds none)."""
        w.wait_for(lambda: w.daemon_fd_count() <= n,
                   "the daemon's descriptors back to %d (%s); now %d" % (n, what, w.daemon_fd_count()))

    def hwm_kib(self, w):
        with open("/proc/%d/status" % w.daemon_pid()) as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


class TestStalledInput(IoTestCase):

    def test_pipe_fifo_socket_never_finished(self):
        """Inspect with a pipe, a FIFO and a socket whose writers never finish:
        each ends with Timeout at the deadline, the backup running meanwhile
        completes, and the daemon answered within a second all along."""
        w = self.io_world()
        job = self.slow_backup(w)
        base = w.daemon_fd_count()
        rss = w.daemon_rss_kib()
        fifo = os.path.join(w.tmp, "fifo")
        os.mkfifo(fifo, 0o666)
        os.chmod(fifo, 0o666)
        c = self.caller(w, inspect("pipe", {"t": "pipe"}), inspect("fifo", {"t": "fifo", "path": fifo}),
                        inspect("socket", {"t": "socket"}))
        self.responsive_until(w, lambda: len(c.replies()) == 3, "the three stalled Inspect calls end")
        self.assertNotIn(job, w.completed, "the backup outlasts the stalls, so it really ran alongside")
        for r in c.replies():
            with self.subTest(r["tag"]):
                self.assertEqual(r["error"], TIMEOUT_ERROR, r)
                self.assertIn("was not read to its end within 2 s", r["message"])
                self.assertIn("did not write all of it and close it", r["message"])
                self.assertGreaterEqual(r["elapsed"], DEADLINE - 0.1)
                self.assertLess(r["elapsed"], DEADLINE + 3)
        self.responsive_until(w, lambda: job in w.completed, "the backup completes")
        self.assertTrue(w.completed[job][0], w.completed[job])
        c.stop()
        self.wait_fds_at_most(w, base, "the stalled descriptors closed")
        if not SANITIZE:
            self.assertLess(w.daemon_rss_kib(), rss + 16 * 1024)

    def test_caller_leaves(self):
        """A caller that leaves the bus ends its stalled calls at once, long
        before the deadline."""
        w = self.io_world(timeout=120)
        base = w.daemon_fd_count()
        c = self.caller(w, inspect("pipe", {"t": "pipe"}), inspect("socket", {"t": "socket"}))
        # each call: the message's descriptor and the daemon's duplicate of it
        w.wait_for(lambda: w.daemon_fd_count() >= base + 4, "the daemon reading both descriptors")
        start = time.monotonic()
        c.leave_bus()
        self.responsive_until(w, lambda: w.daemon_fd_count() == base, "both calls dropped", timeout=20)
        self.assertLess(time.monotonic() - start, 10)
        with open(w.daemon_log) as f:
            self.assertEqual(f.read().count("The caller of Inspect() left the bus; dropping the call."), 2)

    def test_backup_with_stalled_scatter_file(self):
        """An active user's Backup whose scatter file never ends: Timeout at the
        deadline, no job, and the daemon served everyone meanwhile."""
        w = self.io_world()
        self.start_polkit(w, hang=False)
        self.polkit.SetAllowed([ACTION + "backup"])
        self.replug_ready(w)
        dev = self.ready_device(w)
        base = w.daemon_fd_count()
        jobs = len(w.jobs_new)
        c = self.caller(w, manager_call("backup", "Backup", "oa{sv}", {"t": "o", "v": dev},
                                        {"t": "a{sv}", "v": {"scatter": {"t": "pipe"}}}))
        self.responsive_until(w, lambda: c.replies(), "the Backup call ends")
        r = c.replies()[0]
        self.assertEqual(r["error"], TIMEOUT_ERROR, r)
        self.assertIn("The scatter file was not read to its end within 2 s", r["message"])
        self.assertGreaterEqual(r["elapsed"], DEADLINE - 0.1)
        self.assertEqual(len(w.jobs_new), jobs, "no backup was started")
        self.assertEqual(w.get_props(dev)["State"], "idle")
        c.stop()
        self.wait_fds(w, base, "the scatter file closed")


class TestBombs(IoTestCase):

    def test_compression_bombs(self):
        """Inspect of a bzip2 bomb and of a pax-header bomb, import of a 2 MB
        .tar.gz that expands to 2 GiB and of a manifest-first bomb: each fails
        at once with a clear error, the daemon's memory does not grow, and a
        backup running meanwhile completes."""
        w = self.io_world()
        self.start_polkit(w, hang=False)
        self.polkit.SetAllowed([ACTION + "import-backup"])
        bid = next(iter(w.backups.values()))["Id"]
        export = os.path.join(w.tmp, "export.tar")
        w.ctl("export-backup", bid, export)
        with tarfile.open(export) as t:
            first = t.getmembers()[0]
            manifest = t.extractfile(first).read()
        self.assertTrue(first.name.endswith("/manifest.yaml"), "an export writes its manifest first")
        files = {
            "bz2": self.file(w, "bomb.tar.bz2", bz2_bomb()),
            "pax": self.file(w, "pax.tar.bz2", pax_bomb()),
            "gz": self.file(w, "bomb.tar.gz", gz_bomb()),
            "mf": self.file(w, "manifest-first.tar.bz2", pax_bomb(header(first.name, len(manifest)) +
                                                                   padded(manifest))),
        }
        self.assertLess(os.path.getsize(files["gz"]), 3 << 20)
        self.assertLess(os.path.getsize(files["bz2"]), 16 << 10)
        job = self.slow_backup(w)
        base = w.daemon_fd_count()
        hwm = self.hwm_kib(w)

        def import_call(tag, path):
            return manager_call(tag, "ImportBackup", "a{sh}a{sv}",
                                {"t": "a{sh}", "v": {"backup.tar": {"t": "file", "path": path}}},
                                {"t": "a{sv}", "v": {"format": {"t": "s", "v": "archive"}}})
        c = self.caller(w, inspect("bz2", {"t": "file", "path": files["bz2"]}),
                        inspect("pax", {"t": "file", "path": files["pax"]}),
                        import_call("gz", files["gz"]), import_call("mf", files["mf"]))
        self.responsive_until(w, lambda: len(c.replies()) == 4, "the four calls end")
        self.assertNotIn(job, w.completed)
        got = {r["tag"]: r for r in c.replies()}
        for r in got.values():
            self.assertLess(r["elapsed"], 2.0, r)
        # Inspect describes what it found: the bzip2 bomb's member is never decompressed
        for tag, why in (("bz2", "the archive does not begin with manifest.yaml"),
                         ("pax", "the archive expands beyond what a backup can hold")):
            with self.subTest(tag):
                self.assertIsNone(got[tag]["error"], got[tag])
                info = json.loads(got[tag]["message"])[0]
                self.assertEqual(info["kind"], "backup-archive")
                self.assertFalse(info["valid"])
                self.assertIn(why, info["error"])
        self.assertEqual(got["gz"]["error"], INVALID_FILE)
        self.assertIn("does not begin with manifest.yaml (it begins with part0.img)", got["gz"]["message"])
        self.assertEqual(got["mf"]["error"], INVALID_FILE)
        self.assertIn("the archive expands beyond what a backup can hold", got["mf"]["message"])
        if not SANITIZE:
            self.assertLess(self.hwm_kib(w) - hwm, 64 * 1024, "the daemon's peak memory grew")
        self.responsive_until(w, lambda: job in w.completed, "the backup completes")
        self.assertTrue(w.completed[job][0], w.completed[job])
        c.stop()
        self.wait_fds_at_most(w, base, "the bombs closed")
        self.assertEqual(len(w.backups), 2, "nothing was imported (the original and the new backup only)")
        root = os.path.join(w.state_dir, "backups")
        self.assertEqual([n for n in os.listdir(root) if n.startswith(".tmp")], [],
                         "the refused import left a temporary directory")


class TestStalledExport(IoTestCase):

    def test_export_nobody_reads(self):
        """An export into a pipe nobody reads fails when nothing was taken for
        the deadline; meanwhile another export completes."""
        deadline = 5.0   # room for the other export to finish first
        w = self.io_world(timeout=deadline)
        self.start_polkit(w, hang=False)
        self.polkit.SetAllowed([ACTION + "export-backup"])
        bpath = next(iter(w.backups))
        bid = w.backups[bpath]["Id"]
        base = w.daemon_fd_count()
        c = self.caller(w, manager_call("export", "ExportBackup", "oha{sv}", {"t": "o", "v": bpath},
                                        {"t": "pipe-w"}, {"t": "a{sv}", "v": {}}))
        out = os.path.join(w.tmp, "meanwhile.tar")
        w.ctl("export-backup", bid, out)
        self.assertEqual(c.replies(), [], "the stalled export still waits while the other one is done")
        with tarfile.open(out) as t:
            self.assertIn("manifest.yaml", t.getnames()[0])
        self.responsive_until(w, lambda: c.replies(), "the stalled export ends")
        r = c.replies()[0]
        self.assertEqual(r["error"], TIMEOUT_ERROR, r)
        self.assertIn("Nothing read the export for 5 s", r["message"])
        self.assertIn("The archive is incomplete", r["message"])
        # the pipe takes what fits at once; then nothing for one deadline
        self.assertGreaterEqual(r["elapsed"], deadline - 0.1)
        self.assertLess(r["elapsed"], 2 * deadline + 3)
        c.stop()
        self.wait_fds(w, base, "the export's descriptors closed")


class TestVerify(IoTestCase):

    def jobs_of(self, w):
        """(event, job path, operation, device) of every Job object, in order."""
        events = []

        def added(path, ifaces):
            if JOB_IFACE in ifaces:
                events.append(("new", str(path), str(ifaces[JOB_IFACE]["Operation"]),
                               str(ifaces[JOB_IFACE]["Device"])))

        def removed(path, ifaces):
            if JOB_IFACE in [str(i) for i in ifaces]:
                events.append(("gone", str(path), None, None))
        w.bus.add_signal_receiver(added, "InterfacesAdded", OM_IFACE, None, "/")
        w.bus.add_signal_receiver(removed, "InterfacesRemoved", OM_IFACE, None, "/")
        return events

    def verify_jobs(self, events, bpath):
        """How many verify jobs of bpath ran, and how many at most at once."""
        running, total, most = set(), 0, 0
        for ev, path, op, dev in events:
            if ev == "new" and op == "verify" and dev == bpath:
                running.add(path)
                total += 1
                most = max(most, len(running))
            elif ev == "gone":
                running.discard(path)
        return total, most, running

    def test_flood_of_no_reply_calls(self):
        """2,000 no-reply-expected Verify calls from one connection: refused,
        not queued; at most one verification of the backup at a time; the
        daemon answers within a second throughout."""
        w = self.io_world()
        self.start_polkit(w, hang=False)
        self.polkit.SetAllowed([ACTION + "verify"])
        bpath = next(iter(w.backups))
        events = self.jobs_of(w)
        base = w.daemon_fd_count()
        verify = dict(path=bpath, iface=BACKUP_IFACE, method="Verify", sig="", args=[])
        c = self.caller(w, dict(verify, tag="flood", count=2000, no_reply=True),
                        dict(verify, tag="after", count=8))
        # the flood's first calls reach polkit, which allows them: one verification runs
        self.responsive_until(w, lambda: self.verify_jobs(events, bpath)[0] >= 1, "a verification")
        self.responsive_until(w, lambda: len(c.replies("after")) == 8 and not self.verify_jobs(events, bpath)[2],
                              "the flood handled, no verification left")
        total, most, _ = self.verify_jobs(events, bpath)
        self.assertEqual(most, 1, events)
        self.assertLessEqual(total, 4, "the flood was queued: %d verifications" % total)
        # calls beyond the caps are answered with an error, at once
        for r in c.replies("after"):
            if r["error"] is None:
                self.assertEqual(json.loads(r["message"]),
                                 ["1", "Every image matches its SHA-256 in the manifest."])
            else:
                self.assertEqual(r["error"], LIMITS, r)
                self.assertLess(r["elapsed"], 5.0)
        self.assertIn("calls waiting for polkit", "".join(r["message"] for r in c.replies("after")))
        # a verification of its own for someone else, afterwards
        ok, message = w.bus.call_blocking(BUS_NAME, bpath, BACKUP_IFACE, "Verify", "", (), timeout=30)
        self.assertTrue(ok, message)
        c.stop()
        self.wait_fds(w, base, "the flooding connection gone")

    def test_joined_and_cancelled(self):
        """Two calls while one verification runs get the same answer from one
        job; Job.Cancel() answers every waiting caller with Cancelled; a
        damaged image is named."""
        w = self.io_world(timeout=60)   # the big image below takes a while to import on a busy machine
        small = next(iter(w.backups))
        # a backup whose verification takes a while: one image of 256 MiB
        big_img = self.file(w, "big.img", bytes(256 << 20))
        bid = json.loads(w.ctl("--json", "import", "--partition", "nvdata", big_img).stdout)["id"]
        w.wait_until(lambda: any(b["Id"] == bid for b in w.backups.values()), "the big backup published")
        big = next(p for p, b in w.backups.items() if b["Id"] == bid)
        events = self.jobs_of(w)
        replies = []
        for _ in range(2):
            w.bus.call_async(BUS_NAME, big, BACKUP_IFACE, "Verify", "", (),
                             lambda ok, msg: replies.append((bool(ok), str(msg))),
                             lambda e: replies.append(e.get_dbus_name()), timeout=60)
        w.wait_until(lambda: len(replies) == 2, "both verifications answered")
        self.assertEqual(replies, [(True, "Every image matches its SHA-256 in the manifest.")] * 2)
        self.assertEqual(self.verify_jobs(events, big)[:2], (1, 1), "the second call joined the first")
        # six at once on one connection (root: no polkit): one job and three joins, two refused
        w.wait_until(lambda: not self.verify_jobs(events, big)[2], "the job gone")
        replies = []
        for _ in range(6):
            w.bus.call_async(BUS_NAME, big, BACKUP_IFACE, "Verify", "", (),
                             lambda ok, msg: replies.append(bool(ok)),
                             lambda e: replies.append(e.get_dbus_message()), timeout=60)
        w.wait_until(lambda: len(replies) == 6, "six verifications answered")
        refused = "This connection has 4 calls in progress already (at most 4 at a time)"
        self.assertEqual(sorted(str(r)[:len(refused)] for r in replies), sorted(["True"] * 4 + [refused] * 2))
        self.assertEqual(self.verify_jobs(events, big)[:2], (2, 1))
        # Verify and, right behind it on the same connection, Cancel of the job it makes
        # (job paths count up: the next one is known)
        w.wait_until(lambda: not self.verify_jobs(events, big)[2], "the job gone")
        job = "/org/mtknvd/MtkNv1/job/_%d" % (max(int(p.rsplit("_", 1)[1]) for p in w.jobs_new) + 1)
        cancelled, cancel = [], []
        w.bus.call_async(BUS_NAME, big, BACKUP_IFACE, "Verify", "", (), lambda *a: cancelled.append(a),
                         lambda e: cancelled.append(e.get_dbus_name()), timeout=60)
        w.bus.call_async(BUS_NAME, job, JOB_IFACE, "Cancel", "a{sv}", ({},), lambda: cancel.append("ok"),
                         lambda e: cancel.append(e.get_dbus_name()), timeout=60)
        w.wait_until(lambda: cancelled and cancel, "the cancelled call and the Cancel answered")
        self.assertEqual(cancel, ["ok"])
        self.assertEqual(cancelled, ["org.mtknvd.MtkNv1.Error.Cancelled"])
        self.assertEqual(w.completed[job], (False, "The verification was cancelled."))
        # a damaged image: the answer names it
        key, sid = w.backups[small]["Id"].split("/")
        with open(os.path.join(w.state_dir, "backups", key, sid, "nvram.img"), "r+b") as f:
            f.write(b"\xff")
        ok, message = w.bus.call_blocking(BUS_NAME, small, BACKUP_IFACE, "Verify", "", (), timeout=30)
        self.assertFalse(ok)
        self.assertIn("nvram (nvram.img) does not match the manifest: its SHA-256 differs", message)


if __name__ == "__main__":
    unittest.main()

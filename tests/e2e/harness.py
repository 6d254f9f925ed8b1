# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end test world: a private dbus-daemon, the simulated phone
(build/mtksim) and the unmodified daemon (build/mtknvd) running inside it.

Every wait is event-driven: the test follows the daemon's D-Bus signals
(ObjectManager and PropertiesChanged) in a GLib main loop and stops waiting
when a condition holds; the timeout only bounds a failure.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import mkda  # noqa: E402
import proctree  # noqa: E402

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("MTKNVD_BUILD", "build"))
BUS_NAME = "org.mtknvd.MtkNv1"
MANAGER_PATH = "/org/mtknvd/MtkNv1"
DEVICE_IFACE = "org.mtknvd.MtkNv1.Device"
MANAGER_IFACE = "org.mtknvd.MtkNv1.Manager"
OM_IFACE = "org.freedesktop.DBus.ObjectManager"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
BACKUP_IFACE = "org.mtknvd.MtkNv1.Backup"
# shown in full only in a method reply to root: signals carry a fingerprint or only announce a change
IDENTIFIER_PROPS = {DEVICE_IFACE: ("MeId", "SocId"), BACKUP_IFACE: ("MeId", "SocId", "EmmcCid", "StorageId",
                                                                            "Partitions")}

WAIT_TIMEOUT = float(os.environ.get("MTKNVD_TEST_TIMEOUT", "30"))

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""

# bus_policy="system": the distribution's system-bus rules, copied at run time
# from the real file (a private bus cannot include it: it would also listen on
# the real socket, fork, drop to messagebus and read every service's policy).
SYSTEM_CONF = "/usr/share/dbus-1/system.conf"
POLKIT_CONF = "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf"
SYSTEM_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
{policies}
{limits}
  <!-- our own policy, exactly as installed -->
  <include>{mtknvd_conf}</include>
  <!-- polkit's: anyone may ask the authority -->
{polkit}
  <!-- the test's stand-in for polkitd (python-dbusmock) runs as root, not as polkitd -->
  <policy user="root">
    <allow own="org.freedesktop.PolicyKit1"/>
    <allow send_destination="org.freedesktop.PolicyKit1"/>
  </policy>
</busconfig>
"""


def system_bus_rules():
    """The <policy> and <limit> elements of the distribution's system.conf, as text."""
    root = ET.parse(SYSTEM_CONF).getroot()
    policies = "\n".join("  " + ET.tostring(e, encoding="unicode").strip() for e in root.findall("policy"))
    limits = "\n".join("  " + ET.tostring(e, encoding="unicode").strip() for e in root.findall("limit"))
    if "<deny send_type=\"method_call\"" not in policies:
        raise RuntimeError("%s has no default-deny policy: not the system bus this test wants" % SYSTEM_CONF)
    return policies, limits


def unwrap(v):
    """dbus-python types to plain Python ones."""
    if isinstance(v, (dbus.Boolean,)):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath)):
        return str(v)
    if isinstance(v, dbus.Array):
        return [unwrap(x) for x in v]
    if isinstance(v, dbus.Struct):
        return tuple(unwrap(x) for x in v)
    if isinstance(v, dbus.Dictionary):
        return {unwrap(k): unwrap(x) for k, x in v.items()}
    return v


def identified(p):
    """A phone whose identification finished: the daemon read its hw code, then started a job, let it go, or
    found it unsupported."""
    return p.get("HwCode", 0) != 0 and p.get("State") in ("ready", "busy", "released", "unsupported")


class Props(dict):
    """An object's properties as followed through signals.  The identifiers
    (IDENTIFIER_PROPS) are shown in full only in a reply to root, so signals
    carry a fingerprint or only announce a change; they are asked for when a
    test reads them, as a root client that follows signals does.  Asking in
    the signal handler instead would block the test on a daemon that may be
    busy, and reorder what the test sees."""

    def __init__(self, world, path, iface, values, fresh=False):
        super().__init__(values)
        self._world, self._path, self._iface = world, path, iface
        self._stale = set() if fresh else set(IDENTIFIER_PROPS[iface])

    def update(self, *args, **kw):
        """Values from a method reply (GetAll, as root) are the full ones."""
        values = dict(*args, **kw)
        self._stale -= set(values)
        dict.update(self, values)

    def invalidate(self, names):
        self._stale |= set(names) & set(IDENTIFIER_PROPS[self._iface])

    def _refresh(self, key):
        if key not in self._stale:
            return
        self._stale.discard(key)
        p = dbus.Interface(self._world.bus.get_object(BUS_NAME, self._path, introspect=False), PROPS_IFACE)
        try:
            dict.__setitem__(self, key, unwrap(p.Get(self._iface, key)))
        except dbus.exceptions.DBusException:
            pass  # the object is gone: what the signals said is all there is

    def __getitem__(self, key):
        self._refresh(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self._refresh(key)
        return dict.get(self, key, default)

    def __eq__(self, other):
        for key in list(self._stale):
            self._refresh(key)
        return dict.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None


def _current_test_id():
    f = sys._getframe(1)
    while f is not None:
        me = f.f_locals.get("self")
        if isinstance(me, unittest.TestCase):
            return me.id()
        f = f.f_back
    return "?"


class World:
    """One private bus, one mtksim with the daemon inside it."""

    def __init__(self, phones=(), coldplug=False, daemon_args=(), valgrind=False, sim_args=(),
                 config="AutoBackup=never\n", da=True, daemon_wrapper=(), state_dir=None,
                 bus_policy="test"):
        """bus_policy: "test" lets everyone do anything on the private bus;
        "system" enforces the real system-bus policy (the distribution's
        system.conf defaults plus dbus/org.mtknvd.MtkNv1.conf), so that callers
        run with ctl_as() meet what an unprivileged user meets."""
        self.tmp = tempfile.mkdtemp(prefix="mtknvd-e2e-")
        self.control_path = os.path.join(self.tmp, "control")
        self.objects = {}          # path -> properties of the Device interface
        self.backups = {}          # path -> properties of the Backup interface
        self.jobs_new = []         # job paths in JobNew order
        self.completed = {}        # job path -> (success, message)
        self.removed = []          # paths in InterfacesRemoved order
        self.backups_removed = []  # Backup paths in InterfacesRemoved order
        self.added = []            # paths in InterfacesAdded order
        self.changes = []          # (path, {prop: value})
        self.sim = None
        self.dbus_daemon = None
        self.valgrind = valgrind
        self.valgrind_log = os.path.join(self.tmp, "valgrind.log")
        self.daemon_log = os.path.join(self.tmp, "daemon.log")
        # a state directory that outlives this world (a daemon restart)
        self.state_dir = state_dir or os.path.join(self.tmp, "state")
        if bus_policy not in ("test", "system"):
            raise ValueError("bus_policy is \"test\" or \"system\", not %r" % (bus_policy,))
        self.bus_policy = bus_policy
        try:
            self._start_bus()
            if da:
                os.makedirs(os.path.join(self.state_dir, "da"), exist_ok=True)
                with open(os.path.join(self.state_dir, "da", "test-da.bin"), "wb") as f:
                    f.write(mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES]))
            self.daemon_wrapper = list(daemon_wrapper)
            self._start_sim(phones, coldplug, daemon_args, sim_args, config)
        except Exception:
            self.close()
            raise

    # ------------------------------------------------------------ set-up
    def _start_bus(self):
        conf = os.path.join(self.tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(self._bus_config())
        if self.bus_policy == "system":
            # unprivileged callers must reach the bus socket (and nothing else in here)
            os.chmod(self.tmp, 0o711)
        self.dbus_daemon = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.dbus_daemon.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("private dbus-daemon did not start")
        # a main-loop binding of its own: a closed earlier world must not take its watches along
        self.bus = dbus.bus.BusConnection(self.address, mainloop=dbus.mainloop.glib.DBusGMainLoop())
        # No sender filter: dbus-python would match the well-known name only
        # once it has learnt its owner, and drop what came before; on this
        # private bus the daemon is the only sender anyway.
        self.bus.add_signal_receiver(self._on_added, "InterfacesAdded", OM_IFACE, None, "/")
        self.bus.add_signal_receiver(self._on_removed, "InterfacesRemoved", OM_IFACE, None, "/")
        self.bus.add_signal_receiver(self._on_props, "PropertiesChanged", PROPS_IFACE, None,
                                     path_keyword="path")
        self.bus.add_signal_receiver(self._on_job_new, "JobNew", "org.mtknvd.MtkNv1.Manager", None)
        self.bus.add_signal_receiver(self._on_completed, "Completed", "org.mtknvd.MtkNv1.Job", None,
                                     path_keyword="path")
        self.owner_seen = False
        self.owner_gone = False
        self.bus.add_signal_receiver(self._on_owner, "NameOwnerChanged", "org.freedesktop.DBus",
                                     "org.freedesktop.DBus", "/org/freedesktop/DBus", arg0=BUS_NAME)

    def _bus_config(self):
        path = os.path.join(self.tmp, "bus")
        if self.bus_policy == "test":
            return BUS_CONFIG.format(path=path)
        policies, limits = system_bus_rules()
        if os.path.exists(POLKIT_CONF):
            polkit = "  <include>%s</include>" % POLKIT_CONF
        else:
            polkit = ('  <policy context="default">\n'
                      '    <allow send_destination="org.freedesktop.PolicyKit1"/>\n  </policy>')
        return SYSTEM_BUS_CONFIG.format(path=path, policies=policies, limits=limits, polkit=polkit,
                                        mtknvd_conf=os.path.join(TOP, "dbus", "org.mtknvd.MtkNv1.conf"))

    def env(self):
        e = dict(os.environ)
        e["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        e.pop("DBUS_SESSION_BUS_ADDRESS", None)
        # umockdev's preload library must come first; ASan would insist on
        # being first itself, so it is told not to check the order
        e["ASAN_OPTIONS"] = "verify_asan_link_order=0:detect_leaks=1:abort_on_error=1"
        e["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        e["LSAN_OPTIONS"] = "suppressions=" + os.path.join(TOP, "tests", "lsan.supp")
        return e

    def _start_sim(self, phones, coldplug, daemon_args, sim_args, config):
        cmd = [os.path.join(BUILD, "mtksim"), "--control", self.control_path]
        for p in phones:
            cmd += ["--phone", p]
        if coldplug:
            cmd.append("--coldplug")
        cmd += list(sim_args)
        cmd.append("--")
        if self.valgrind:
            # --fair-sched: valgrind runs one thread at a time, and its default lock lets a worker thread
            # hashing a backup take it back again and again while the event loop waits; the loop then misses
            # a new phone's handshake window (8 phones at once: 4 booted on before their handshake)
            cmd += ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full", "--fair-sched=yes",
                    "--errors-for-leak-kinds=definite", "--track-fds=no",
                    "--suppressions=" + os.path.join(TOP, "tests", "valgrind.supp"),
                    "--log-file=" + self.valgrind_log]
        self.config_path = os.path.join(self.tmp, "mtknvd.conf")
        if "BootWindowSec" not in config:
            # mtksim's replug is instantaneous and stands for a person plugging the phone in again; the
            # daemon would take a phone back on its port that fast for a boot, not a plug-in
            config += "BootWindowSec=0\n"
        with open(self.config_path, "w") as f:
            f.write(config)
        cmd += self.daemon_wrapper
        cmd += [os.path.join(BUILD, "mtknvd"), "--verbose", "--config", self.config_path,
                "--state-dir", self.state_dir]
        cmd += list(daemon_args)
        self.log = open(self.daemon_log, "w")
        self.sim = subprocess.Popen(cmd, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT)
        # NameOwnerChanged, subscribed before the daemon started, says when; a condition that asked the bus
        # (NameHasOwner) would wake this loop with its own reply and spin against dbus-daemon, two CPUs
        # busy for as long as a slow start lasts (valgrind), starving the daemon it waits for
        self.wait_until(lambda: self.owner_seen, "daemon owns " + BUS_NAME)
        self.start_turns = self.last_wait_turns
        for path, ifaces in self.manager_objects().items():
            if DEVICE_IFACE in ifaces:
                self.objects[path] = Props(self, path, DEVICE_IFACE, ifaces[DEVICE_IFACE], fresh=True)
            if BACKUP_IFACE in ifaces:
                self.backups[path] = Props(self, path, BACKUP_IFACE, ifaces[BACKUP_IFACE], fresh=True)

    def _name_has_owner(self):
        return bool(self.bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "NameHasOwner", "s", (BUS_NAME,)))

    # ------------------------------------------------------------ signals
    def _on_owner(self, name, old, new):
        if new:
            self.owner_seen = True
        elif self.owner_seen:
            self.owner_gone = True

    def _on_added(self, path, ifaces):
        path = str(path)
        if DEVICE_IFACE in ifaces:
            self.objects[path] = Props(self, path, DEVICE_IFACE, unwrap(ifaces[DEVICE_IFACE]))
            self.added.append(path)
        if BACKUP_IFACE in ifaces:
            self.backups[path] = Props(self, path, BACKUP_IFACE, unwrap(ifaces[BACKUP_IFACE]))

    def _on_job_new(self, job_id, path):
        self.jobs_new.append(str(path))

    def _on_completed(self, success, message, path=None):
        self.completed[path] = (bool(success), str(message))

    def wait_job(self, path, timeout=WAIT_TIMEOUT):
        self.wait_until(lambda: path in self.completed, "job %s completed" % path, timeout)
        return self.completed[path]

    def _on_removed(self, path, ifaces):
        path = str(path)
        if BACKUP_IFACE in [str(i) for i in ifaces]:
            self.backups.pop(path, None)
            self.backups_removed.append(path)
        if DEVICE_IFACE in [str(i) for i in ifaces]:
            self.objects.pop(path, None)
            self.removed.append(path)

    def _on_props(self, iface, changed, invalidated, path=None):
        if str(iface) != DEVICE_IFACE or path not in self.objects:
            return
        changed = unwrap(changed)
        self.objects[path].update(changed)
        self.objects[path].invalidate([str(n) for n in invalidated])
        self.changes.append((path, changed))

    # ------------------------------------------------------------ waiting
    def wait_until(self, cond, what, timeout=WAIT_TIMEOUT, poll=None):
        """Run the main loop until cond() holds; fail after timeout seconds.

        cond() is checked at every wake-up of the loop, so it must only read
        what signals and callbacks recorded. With poll (seconds) it is checked
        every poll seconds instead, and once more when the time is up: for a
        condition that calls the daemon or the bus, whose own reply would wake
        the loop and, checked at every wake-up, spin against dbus-daemon.
        MTKNVD_WAIT_AUDIT=FILE appends each wait's wake-ups and seconds to
        FILE, which is how such spinning shows."""
        ctx = GLib.MainContext.default()
        expired, due = [], [True]
        src = GLib.timeout_add(int(timeout * 1000), lambda: expired.append(True) or False)
        tick = None
        if poll is not None:
            tick = GLib.timeout_add(max(1, int(poll * 1000)), lambda: due.__setitem__(0, True) or True)
        audit = os.environ.get("MTKNVD_WAIT_AUDIT")
        t0, turns = time.monotonic(), 0
        try:
            while True:
                if due[0] or expired:
                    due[0] = poll is None
                    if cond():
                        return
                if expired:
                    raise AssertionError("timed out after %.0fs waiting for: %s\n%s" %
                                         (timeout, what, self.describe()))
                if self.sim is not None and not getattr(self, "expected_exit", False) and self.sim.poll() is not None:
                    raise AssertionError("mtksim/daemon exited (status %s) while waiting for: %s\n%s" %
                                         (self.sim.returncode, what, self.describe()))
                turns += 1
                ctx.iteration(True)
        finally:
            if not expired:
                GLib.source_remove(src)
            if tick is not None:
                GLib.source_remove(tick)
            self.last_wait_turns = turns
            if audit:
                with open(audit, "a") as f:
                    f.write("%d %.3f %s %s\n" % (turns, time.monotonic() - t0, _current_test_id(),
                                                 what.replace("\n", " ")[:80]))

    def wait_for(self, cond, what, timeout=WAIT_TIMEOUT, interval=0.02):
        """wait_until for a condition no D-Bus signal announces (a count in
        /proc, a call to the daemon): checked every `interval` seconds."""
        self.wait_until(cond, what, timeout, poll=interval)

    def wait_device(self, cond, what, timeout=WAIT_TIMEOUT):
        """Wait for a device whose properties satisfy cond; return (path, props)."""
        found = []

        def check():
            for path, props in self.objects.items():
                if cond(props):
                    # a copy: the live one moves on with later signals; identifiers the signals
                    # only announced are asked for now
                    snap = dict(props)
                    for k in sorted(getattr(props, "_stale", ())):
                        try:
                            snap[k] = props[k]
                        except KeyError:
                            pass
                    found.append((path, snap))
                    return True
            return False
        self.wait_until(check, what, timeout)
        return found[0]

    def seen(self, state):
        """Paths of the devices that were in this state at some point (states move on: a released phone
        leaves the bus moments later)."""
        return sorted(set(p for p, c in self.changes if c.get("State") == state) |
                      set(p for p, d in self.objects.items() if d.get("State") == state))

    def wait_identified(self, what="phone identified", timeout=WAIT_TIMEOUT):
        """Wait for a phone whose identification finished (whatever came next); return (path, props)."""
        return self.wait_device(identified, what, timeout)

    def ctl_bg(self, *args):
        """mtknvctl in the background (stdout/stderr captured); the caller waits for it."""
        return subprocess.Popen([os.path.join(BUILD, "mtknvctl")] + list(args), env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ctl_then_plug(self, phone, *args, check=True):
        """As SP Flash Tool users do: start the command, and once its request waits (a new Job), plug the
        phone in.  Returns the finished command like ctl()."""
        n = len(self.jobs_new)
        proc = self.ctl_bg(*args)
        try:
            self.wait_until(lambda: len(self.jobs_new) > n or proc.poll() is not None,
                            "mtknvctl %s waits for a phone" % " ".join(args))
            st = self.stats(phone)
            # a phone already on the bus (listening, or taken by the request) stays as it is
            if proc.poll() is None and (st.get("plugged") == "0" or st.get("phase") == "booted"):
                self.plug_again(phone)
            out, err = proc.communicate(timeout=WAIT_TIMEOUT * 4)
        except BaseException:
            proc.kill()
            proc.communicate()
            raise
        r = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        if check and r.returncode != 0:
            raise AssertionError("mtknvctl %s failed (%d): %s%s" % (" ".join(args), r.returncode, out, err))
        return r

    def wait_state(self, state, count=1, timeout=WAIT_TIMEOUT):
        self.wait_until(lambda: len([p for p in self.objects.values() if p.get("State") == state]) >= count,
                        "%d device(s) in state %s" % (count, state), timeout)
        return {k: v for k, v in self.objects.items() if v.get("State") == state}

    def describe(self):
        try:
            with open(self.daemon_log) as f:
                tail = f.read()[-4000:]
        except OSError:
            tail = ""
        procs = proctree.describe(self.sim.pid) if self.sim is not None and self.sim.poll() is None else ""
        return "objects: %s\n--- daemon log (tail) ---\n%s\n--- mtksim and below ---\n%s" % (
            json.dumps(self.objects, indent=1), tail, procs)

    # ------------------------------------------------------------ D-Bus
    def manager_objects(self):
        # introspect=False: sd-bus builds introspection data in an open_memstream,
        # which the ASan build's interceptor trips over on the second call
        om = dbus.Interface(self.bus.get_object(BUS_NAME, "/", introspect=False), OM_IFACE)
        # under a sanitizer or valgrind, a simulated phone writing its first storage image (an XFlash
        # layout, or eight phones at once) keeps the daemon's first USB ioctls waiting past D-Bus's 25 s
        slow = self.valgrind or os.environ.get("MTKNVD_SANITIZE") == "1"
        return unwrap(om.GetManagedObjects(timeout=120 if slow else 25))

    def get_props(self, path, iface=DEVICE_IFACE):
        p = dbus.Interface(self.bus.get_object(BUS_NAME, path, introspect=False), PROPS_IFACE)
        return unwrap(p.GetAll(iface))

    # ------------------------------------------------------------ simulator
    def control(self, line):
        """One command on mtksim's control channel; returns the reply after 'ok'."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.control_path)
            s.sendall((line + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        reply = buf.decode().strip()
        if not reply.startswith("ok"):
            raise AssertionError("mtksim refused %r: %s" % (line, reply))
        return reply[2:].strip()

    def plug_again(self, phone):
        """Plugged in (again), powered off: a fresh preloader, whatever the phone was doing."""
        self.control(("plug " if self.stats(phone).get("plugged") == "0" else "replug ") + phone)

    def sim_wait(self, phone, timeout_ms=None, **conds):
        """Block until the simulated phone meets conds (phase=booted, boots=2, …): mtksim answers when it does.
        Then catch up with the daemon's signals sent meanwhile, so that what the test followed is current."""
        t = int((timeout_ms if timeout_ms is not None else WAIT_TIMEOUT * 1000))
        reply = self.control("wait %s %s timeout-ms=%d" % (phone, " ".join("%s=%s" % kv for kv in conds.items()), t))
        self.sync()
        return reply

    def sync(self):
        """A round trip to the daemon: every signal it sent before the reply has been handled on return."""
        done = []
        self.bus.call_async(BUS_NAME, MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", "", (),
                            lambda *a: done.append(True), lambda e: done.append(e))
        self.wait_until(lambda: done, "a round trip to the daemon")

    def stats(self, phone):
        out = {}
        for item in self.control("stats " + phone).split():
            if "=" in item:
                k, v = item.split("=", 1)
                out[k] = v
        return out

    # ------------------------------------------------------------ client
    def ctl(self, *args, check=True):
        r = subprocess.run([os.path.join(BUILD, "mtknvctl")] + list(args), env=self.env(),
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("mtknvctl %s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout,
                                                                    r.stderr))
        return r

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def ctl_as(self, uid, *args, check=False, timeout=60):
        """mtknvctl as an unprivileged uid (setpriv: no supplementary groups, no
        terminal); the CompletedProcess."""
        return subprocess.run(self.as_uid(uid) + [os.path.join(BUILD, "mtknvctl")] + list(args), env=self.env(),
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              check=check)

    @staticmethod
    def as_uid(uid):
        """The command prefix that runs a program as uid (and gid uid)."""
        return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]

    # ------------------------------------------------------------ the daemon process
    def daemon_pid(self):
        """The daemon's pid, as the bus knows the owner of its name."""
        return int(self.bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                          "GetConnectionUnixProcessID", "s", (BUS_NAME,)))

    def daemon_fd_count(self, pid=None):
        return len(os.listdir("/proc/%d/fd" % (pid or self.daemon_pid())))

    def daemon_rss_kib(self, pid=None):
        with open("/proc/%d/status" % (pid or self.daemon_pid())) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc/%d/status" % (pid or self.daemon_pid()))

    def assert_responsive(self, within=1.0):
        """The daemon answers GetManagedObjects (what `mtknvctl list` asks) within `within` seconds."""
        start = time.monotonic()
        try:
            self.bus.call_blocking(BUS_NAME, "/", OM_IFACE, "GetManagedObjects", "", (), timeout=within)
        except dbus.exceptions.DBusException as e:
            raise AssertionError("the daemon did not answer GetManagedObjects within %.1f s: %s\n%s" %
                                 (within, e, self.describe()))
        elapsed = time.monotonic() - start
        if elapsed > within:
            raise AssertionError("the daemon took %.2f s to answer GetManagedObjects (allowed: %.1f s)" %
                                 (elapsed, within))
        return elapsed

    # ------------------------------------------------------------ tear-down
    def daemon_alive(self):
        return self.sim is not None and self.sim.poll() is None and self.bus is not None and self._name_has_owner()

    def stop(self):
        """Stop the daemon (through mtksim, which forwards SIGTERM); its exit status."""
        if self.sim is None:
            return None
        if self.sim.poll() is None:
            self.sim.send_signal(signal.SIGTERM)
            try:
                self.sim.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.sim.wait()
        rc = self.sim.returncode
        self.sim = None
        return rc

    def close(self):
        rc = self.stop()
        if getattr(self, "bus", None) is not None:
            # drop our receivers with the connection, or later worlds share a main loop with them
            self.bus.close()
            self.bus = None
        if self.dbus_daemon is not None:
            self.dbus_daemon.terminate()
            self.dbus_daemon.wait()
            self.dbus_daemon.stdout.close()
            self.dbus_daemon = None
        if getattr(self, "log", None):
            self.log.close()
        if os.environ.get("MTKNVD_KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return rc


class WorldTestCase(unittest.TestCase):
    """Each test gets its own World; the daemon must exit cleanly at the end."""

    def world(self, *phones, **kw):
        # read at call time: the runner switches valgrind on for a second pass
        w = World(phones=phones, valgrind=os.environ.get("MTKNVD_VALGRIND") == "1", **kw)
        self.addCleanup(self._finish, w)
        self.w = w
        return w

    def _finish(self, w):
        if getattr(w, "expected_exit", False):
            w.close()
            return
        alive = w.sim is not None and w.sim.poll() is None
        rc = w.stop()
        log = w.describe()
        vg = ""
        if w.valgrind and os.path.exists(w.valgrind_log):
            with open(w.valgrind_log) as f:
                vg = f.read()
        w.close()
        self.assertTrue(alive, "the daemon died during the test\n" + log)
        self.assertEqual(rc, 0, "the daemon exited with status %s on SIGTERM\n%s\n%s" % (rc, vg, log))

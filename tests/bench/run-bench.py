#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""make bench: latency, throughput, concurrency and idle cost of mtknvd, each
figure a ratio against a baseline measured in the same run.

Method, figures and goals: tests/bench/README.md.  Prints a table and writes
$MTKNVD_BUILD/bench/results.json.  Timed assertions never go into make check;
this script reports missed goals but only fails when a measurement could not
be taken.

Environment: MTKNVD_BUILD (default build), MTKNVD_BENCH_PLUGS (P1 plugs per
host, default 100), MTKNVD_BENCH_LOAD_PLUGS (P1L plugs per host, default 30),
MTKNVD_BENCH_REPS (repetitions of the throughput runs, default 3),
MTKNVD_BENCH_ONLY (comma-separated figure names, e.g. "P1,P5"; P1L, P4H and
P3X are rows of their own).
"""

import glob
import json
import math
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
import dbus  # noqa: E402
from harness import BUILD, BUS_NAME, MANAGER_IFACE, MANAGER_PATH, OM_IFACE, TOP, World  # noqa: E402
import mkda  # noqa: E402  (tests/tools, on the path harness set)

LINE_MBPS = 53.2        # USB 2.0 high speed: 13 x 512 bytes per 125 us microframe
LATENCY_US = 125        # per transfer (tests/sim/README.md, "USB model")
USB2 = "rate=%g,latency-us=%d" % (LINE_MBPS, LATENCY_US)
WINDOW_MS = 2500        # the preloader's handshake window (brom.md 2.2; mtksim's default)
PLUGS = int(os.environ.get("MTKNVD_BENCH_PLUGS", "100"))
LOAD_PLUGS = int(os.environ.get("MTKNVD_BENCH_LOAD_PLUGS", "30"))
HUB = USB2 + ",hub=bench"   # eight phones behind one simulated USB 2.0 hub: one line (tests/sim/README.md)
REPS = int(os.environ.get("MTKNVD_BENCH_REPS", "3"))
ONLY = [x.strip().upper() for x in os.environ.get("MTKNVD_BENCH_ONLY", "").split(",") if x.strip()]
RAW = os.path.join(BUILD, "bench", "raw-reader")
MTKSIM = os.path.join(BUILD, "mtksim")
TIMEOUT = 120

rows = []               # the table
details = {}            # everything measured, for results.json
errors = []


def now_us():
    # CLOCK_MONOTONIC, the clock of mtksim's timestamps
    return time.monotonic_ns() // 1000


def log(msg):
    print("  .. " + msg, flush=True)


def row(figure, what, value, unit, baseline, ratio, goal, met, note=""):
    rows.append({"figure": figure, "what": what, "value": value, "unit": unit, "baseline": baseline,
                 "ratio": ratio, "goal": goal, "met": met, "note": note})


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def parse_stats(reply):
    out = {}
    for item in reply.split():
        if "=" in item:
            k, v = item.split("=", 1)
            out[k] = v
    return out


def num(st, key):
    return int(st[key])


def control(path, line):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall((line + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    reply = buf.decode().strip()
    if not reply.startswith("ok"):
        raise RuntimeError("mtksim refused %r: %s" % (line, reply))
    return reply[2:].strip()


# ------------------------------------------------------------------ /proc

def children(pid):
    out = []
    for t in glob.glob("/proc/%d/task/*/children" % pid):
        with open(t) as f:
            out += [int(x) for x in f.read().split()]
    return out


def process_of(sim_pid, name):
    """The process mtksim runs (the daemon, the raw reader)."""
    for pid in children(sim_pid):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip().startswith(name[:15]):
                    return pid
        except OSError:
            pass
    raise RuntimeError("no %s under mtksim %d" % (name, sim_pid))


def switches(pid):
    """Context switches of every thread: each one is a wakeup (or a preemption)."""
    n = 0
    for t in glob.glob("/proc/%d/task/*/status" % pid):
        with open(t) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                    n += int(v)
    return n


def memory(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
                out[k] = int(v.split()[0])
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Pss", "Private_Clean", "Private_Dirty"):
                out[k] = int(v.split()[0])
    out["USS"] = out.get("Private_Clean", 0) + out.get("Private_Dirty", 0)
    return out  # kB


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_window(pid, seconds):
    """Wakeups per second and memory of a process left alone for seconds."""
    a = switches(pid)
    time.sleep(seconds)
    b = switches(pid)
    return (b - a) / seconds, memory(pid)


# ------------------------------------------------------------------ raw reader world

class RawWorld:
    """mtksim with build/bench/raw-reader as its command."""

    def __init__(self, phones, args, command=None, coldplug=False):
        self.tmp = tempfile.mkdtemp(prefix="mtknvd-bench-")
        self.control_path = os.path.join(self.tmp, "control")
        cmd = [MTKSIM, "--control", self.control_path] + (["--coldplug"] if coldplug else [])
        for p in phones:
            cmd += ["--phone", p]
        cmd += ["--"] + (list(command) if command else [RAW] + list(args))
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""

    def line(self, timeout=60):
        """The next line raw-reader printed (unbuffered: select() must see what is unread)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            r, _, _ = select.select([self.p.stdout], [], [], max(0, deadline - time.monotonic()))
            if not r:
                break
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError("raw-reader ended: %s" % self.p.stderr.read().decode(errors="replace"))
            self.buf += chunk
        if b"\n" not in self.buf:
            if os.environ.get("MTKNVD_BENCH_DEBUG"):
                for pid in children(self.p.pid):
                    os.system("gdb -p %d -batch -ex 'thread apply all bt' 2>/dev/null | grep '^#'" % pid)
            self.p.terminate()
            raise RuntimeError("raw-reader said nothing for %ds: %s"
                               % (timeout, self.p.stderr.read().decode(errors="replace")))
        s, self.buf = self.buf.split(b"\n", 1)
        return s.decode().strip()

    def until(self, prefix):
        while True:
            s = self.line()
            if s.startswith(prefix):
                return s

    def control(self, line):
        return control(self.control_path, line)

    def stats(self, phone):
        return parse_stats(self.control("stats " + phone))

    def wait_control(self):
        deadline = time.monotonic() + 30
        while not os.path.exists(self.control_path):
            if time.monotonic() > deadline or self.p.poll() is not None:
                raise RuntimeError("mtksim did not start")
            time.sleep(0.01)

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()  # mtksim forwards SIGTERM; raw-reader --hold then ends
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.p.returncode


PIPELINED = ["--depth", "4", "--urb", "262144"]


def raw_read(phone_keys, args, cpu=None):
    """One raw-reader read run; the phone's stats when it is done (cpu: a list
    that gets raw-reader's CPU seconds)."""
    rw = RawWorld(["id=r,start=da" + ("," + phone_keys if phone_keys else "")], ["read", "--hold"] + list(args))
    try:
        out = []
        while True:
            s = rw.line()
            if s == "done":
                break
            out.append(s)
        st = rw.stats("r")
        if cpu is not None:
            cpu.append(cpu_seconds(process_of(rw.p.pid, "raw-reader")))
    finally:
        rc = rw.close()
    if rc != 0:
        raise RuntimeError("raw-reader failed (%s): %s" % (rc, out))
    return st


def raw_parallel(n, keys=USB2, per_reader=None):
    """n raw-readers at once, each on its own capped phone (plugged before they
    start): the wall time from the first one's start to the last one's end
    (per_reader: a list that gets (bytes, t0, t1) of each)."""
    tmp = tempfile.mkdtemp(prefix="mtknvd-bench-")
    cmd = [MTKSIM, "--coldplug", "--control", os.path.join(tmp, "control")]
    for i in range(n):
        cmd += ["--phone", "id=r%d,start=da,%s" % (i, keys)]
    script = 'for p in %s; do "$0" read --port $p & done; wait' % " ".join(str(i + 1) for i in range(n))
    cmd += ["--", "/bin/sh", "-c", script, RAW]
    try:
        for attempt in range(3):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            # under umockdev, libusb_init of one of n readers starting at once sometimes fails
            # (LIBUSB_ERROR_OTHER) before any transfer: that run measured nothing, take it again
            if "libusb_init" not in r.stderr:
                break
            log("raw-readers at once: %s; again" % r.stderr.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t0, t1 = [], []
    for line in r.stdout.splitlines():
        f = dict(x.split("=", 1) for x in line.split() if "=" in x)
        t0.append(float(f["t0"]))
        t1.append(float(f["t1"]))
        if per_reader is not None:
            per_reader.append((int(line.split()[1]), t0[-1], t1[-1]))
    if r.returncode != 0 or len(t0) != n:
        raise RuntimeError("%d raw-readers at once failed (%s): %s" % (n, r.returncode, r.stderr[-500:]))
    return max(t1) - min(t0)


# ------------------------------------------------------------------ daemon world helpers

class Daemon:
    """harness.World plus the timestamps of Backup objects as they appear."""

    def __init__(self, phones, config="AutoBackup=never\n", daemon_args=(), state_dir=None):
        self.w = World(phones=phones, config=config, daemon_args=list(daemon_args), state_dir=state_dir)
        self.added_at = {}
        self.w.bus.add_signal_receiver(self._on_added, "InterfacesAdded", OM_IFACE, None, "/")
        self.pid = process_of(self.w.sim.pid, "mtknvd")

    def _on_added(self, path, ifaces):
        if "org.mtknvd.MtkNv1.Backup" in ifaces:
            self.added_at.setdefault(str(path), now_us())

    def wait_ready(self, phone, states=("ready",)):
        port = self.w.stats(phone)["port"]
        found = []

        def ready():
            for path, p in self.w.objects.items():
                if p.get("Present") and p.get("State") in states and p.get("UsbPath") == port:
                    found.append(path)
                    return True
            return False
        self.w.wait_until(ready, "%s ready" % phone, TIMEOUT)
        return found[0]

    def wait_gone(self, path):
        self.w.wait_until(lambda: not self.w.objects.get(path, {}).get("Present", False), "phone left", TIMEOUT)

    def backup(self, dev):
        job = self.w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Backup", "oa{sv}", (dev, {}))
        ok, msg = self.w.wait_job(str(job), TIMEOUT)
        if not ok:
            raise RuntimeError("backup failed: " + msg)

    def restore(self, dev, backup):
        job = self.w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Restore", "ooa{sv}",
                                       (dev, backup, {}))
        ok, msg = self.w.wait_job(str(job), TIMEOUT)
        if not ok:
            raise RuntimeError("restore failed: " + msg)

    def close(self):
        rc = self.w.stop()
        self.w.close()
        return rc


def read_window_mbps(st):
    """DA READ bytes over the time from the first READ/WRITE opcode to the last one's end."""
    return num(st, "read_bytes") / (num(st, "rw_last_us") - num(st, "rw_first_us"))


def read_cmd_mbps(st):
    """DA READ bytes over the time spent inside READ commands (opcode to last ACK)."""
    return num(st, "read_bytes") / num(st, "read_us")


def write_cmd_mbps(st):
    return num(st, "write_bytes") / num(st, "write_us")


# ------------------------------------------------------------------ P1

def bench_p1():
    """Hotplug -> first handshake byte at the phone, daemon vs a minimal libusb reaction."""
    phone = "id=h,unplugged=1," + USB2
    # A phone the daemon wants (AutoBackup=first-seen; with never it leaves a plugged phone alone and
    # sends nothing), pulled as soon as its handshake began: it never gets its backup, so every plug
    # is a first one.
    # BootWindowSec=0: a phone plugged again moments after it left is a plug-in, not a restart
    d = Daemon([phone], config="AutoBackup=first-seen\nBootWindowSec=0\n", daemon_args=["--grace-period=3600"])
    daemon_ms = []
    try:
        port = d.w.stats("h")["port"]
        for i in range(PLUGS):
            d.w.control("plug h")
            d.w.control("wait h phase=handshake timeout-ms=%d" % (WINDOW_MS + 1500))
            st = d.w.stats("h")
            daemon_ms.append((num(st, "first_rx_us") - num(st, "plug_us")) / 1000.0)
            d.w.sync()  # its Present=true (sent before the A0) is in
            d.w.control("unplug h")
            d.w.wait_until(lambda: not any(o.get("Present") and o.get("UsbPath") == port
                                           for o in d.w.objects.values()), "phone left", TIMEOUT)
    finally:
        d.close()
    rw = RawWorld([phone], ["hotplug", str(PLUGS), "--hold"])
    raw_ms = []
    try:
        rw.until("ready")  # its libusb hotplug monitor listens: plugs may come
        for i in range(PLUGS):
            rw.control("plug h")
            rw.until("arrived")
            st = rw.stats("h")
            raw_ms.append((num(st, "first_rx_us") - num(st, "plug_us")) / 1000.0)
            rw.control("unplug h")
        rw.until("done")
    finally:
        rw.close()
    details["P1"] = {"daemon_ms": daemon_ms, "raw_ms": raw_ms}
    dm, dp = statistics.median(daemon_ms), pct(daemon_ms, 99)
    rm, rp = statistics.median(raw_ms), pct(raw_ms, 99)
    row("P1", "hotplug -> first handshake byte, median (%d plugs)" % len(daemon_ms), dm, "ms", rm, dm / rm,
        "p99 < %d ms window" % WINDOW_MS, dp < WINDOW_MS, "baseline: minimal libusb hotplug reaction")
    row("P1", "hotplug -> first handshake byte, p99", dp, "ms", rp, dp / rp, "< %d ms" % WINDOW_MS, dp < WINDOW_MS,
        "the window is %.0fx longer" % (WINDOW_MS / dp))


# ------------------------------------------------------------------ P2

def bench_p2():
    """Uncapped: the daemon's backup read throughput over a minimal pipelined reader's (issue 12; the
    synchronous reader's in the note)."""
    d = Daemon(["id=u,unplugged=1"], daemon_args=["--grace-period=3600"])
    dm, rm, sm, dcpu, rcpu = [], [], [], [], []
    try:
        for i in range(REPS + 2):
            d.w.control("plug u")
            # AutoBackup=never: the daemon leaves it alone (idle) until Manager.Backup names it
            dev = d.wait_ready("u", ("ready", "idle"))
            c0 = cpu_seconds(d.pid)
            d.backup(dev)
            dcpu.append(cpu_seconds(d.pid) - c0)
            st = d.w.stats("u")
            dm.append(read_window_mbps(st))
            # the phone resets after the backup, comes back, is left alone and boots: only then is the
            # next plug a plug-in (plugged during the reset, it is taken for that reboot)
            d.w.sim_wait("u", timeout_ms=TIMEOUT * 1000, phase="booted")
            d.wait_gone(dev)
            # the baseline right after, so both see the same machine load
            rm.append(read_window_mbps(raw_read("", PIPELINED, rcpu)))
            sm.append(read_window_mbps(raw_read("", [])))
            log("P2 run %d: daemon %.1f MB/s, raw pipelined %.1f MB/s, raw synchronous %.1f MB/s"
                % (i + 1, dm[-1], rm[-1], sm[-1]))
    finally:
        d.close()
    # each daemon run is paired with the raw run right after it: the ratio of a
    # pair sees one machine load; the figure is the median of the pair ratios
    ratios = [a / b for a, b in zip(dm, rm)]
    details["P2"] = {"daemon_mbps": dm, "raw_mbps": rm, "raw_sync_mbps": sm, "pair_ratios": ratios, "daemon_cpu_s_per_backup": dcpu,
                     "raw_cpu_s_per_run": rcpu, "bytes_per_backup": num(st, "read_bytes")}
    a, b, q = statistics.median(dm), statistics.median(rm), statistics.median(ratios)
    row("P2", "backup read throughput, uncapped (median of %d pairs)" % len(ratios), a, "MB/s", b, q, ">= 0.9",
        q >= 0.9, "baseline: raw-reader pipelined (4 x 256 KiB IN), same READ stream; %.2f of the synchronous "
        "raw-reader; CPU per backup: daemon %.2f s, raw-reader %.2f s"
        % (statistics.median([a / c for a, c in zip(dm, sm)]), statistics.median(dcpu), statistics.median(rcpu)))


# ------------------------------------------------------------------ P3, P4, P6
# the pause before DA2's final ACK (daemon/mtk/legacy/da-legacy.c DA_DA2_SETTLE_MS)
DA2_SETTLE_S = 0.5


def bench_capped():
    """One world, every phone on the USB 2.0 model: single backups (P6, P3 read, P4 baseline),
    restores (P3 write), then eight phones at once (P4)."""
    solos = ["s%d" % i for i in range(REPS)]
    multi = ["m%d" % i for i in range(8)]
    # The eight wait for the handshake however long it takes: under eight
    # simulated phones the daemon sometimes opens a new phone more than the
    # preloader's 2.5 s after udev announced it (libusb learning of it late
    # under umockdev; see README), and P4 measures throughput, not that race.
    phones = ["id=%s,unplugged=1,%s" % (p, USB2) for p in solos] + \
        ["id=%s,unplugged=1,handshake-window=0,%s" % (p, USB2) for p in multi]
    d = Daemon(phones, config="AutoBackup=first-seen\n", daemon_args=["--grace-period=3600"])
    t1, floor, rd, wr, xfers = [], [], [], [], []
    try:
        for s in solos:
            before = set(d.added_at)
            d.w.control("plug " + s)
            d.w.wait_until(lambda: len(set(d.added_at) - before) == 1, "backup of " + s, TIMEOUT)
            path = (set(d.added_at) - before).pop()
            st = d.w.stats(s)
            t1.append((d.added_at[path] - num(st, "plug_us")) / 1e6)
            wire = (num(st, "bytes_in") + num(st, "bytes_out")) / LINE_MBPS / 1e6
            floor.append(wire)
            rd.append(read_cmd_mbps(st))
            xfers.append(num(st, "xfers_in") + num(st, "xfers_out"))
            # the daemon resets the phone after the backup and leaves it alone when it comes back (it
            # knows it rebooted it): plugged again before it booted, the plug-in would be taken for
            # that boot and left alone too
            d.w.sim_wait(s, timeout_ms=TIMEOUT * 1000, phase="booted")
            d.w.wait_until(lambda: not any(o.get("Present") for o in d.w.objects.values()), "reboot", TIMEOUT)
            # P3 write: restore the backup just made onto the same phone
            d.w.control("plug " + s)
            dev = d.wait_ready(s)
            d.restore(dev, path)
            st = d.w.stats(s)
            wr.append(write_cmd_mbps(st))
            d.w.wait_until(lambda: not any(o.get("Present") for o in d.w.objects.values()), "reboot", TIMEOUT)
            log("capped %s: plug->backup %.2f s (wire %.2f s), read %.1f MB/s, write %.1f MB/s"
                % (s, t1[-1], wire, rd[-1], wr[-1]))

        # P4: eight phones at once
        before = set(d.added_at)
        cpu_d0, cpu_s0 = cpu_seconds(d.pid), cpu_seconds(d.w.sim.pid)
        for m in multi:
            d.w.control("plug " + m)
        first_plug = num(d.w.stats(multi[0]), "plug_us")
        d.w.wait_until(lambda: len(set(d.added_at) - before) == len(multi), "8 backups", 300)
        t8 = (max(d.added_at[p] for p in set(d.added_at) - before) - first_plug) / 1e6
        cpu_d, cpu_s = cpu_seconds(d.pid) - cpu_d0, cpu_seconds(d.w.sim.pid) - cpu_s0
        log("8 phones: %.2f s (daemon CPU %.2f s, mtksim CPU %.2f s)" % (t8, cpu_d, cpu_s))
    finally:
        d.close()

    # references on the same line model: the minimal reader, synchronous and pipelined
    refs = {}
    for name, args in (("sync", []), ("pipelined", ["--depth", "4", "--urb", "262144"])):
        st = raw_read(USB2, args + ["--write", "--passes", "2"])
        refs[name] = {"read": read_cmd_mbps(st), "write": write_cmd_mbps(st)}
        log("raw-reader %s capped: read %.1f MB/s, write %.1f MB/s" % (name, refs[name]["read"],
                                                                      refs[name]["write"]))

    # the same for the minimal reader: how this machine and the simulator scale
    raw1, raw8 = raw_parallel(1), raw_parallel(8)
    log("raw-reader capped: one phone %.2f s, eight at once %.2f s" % (raw1, raw8))

    details["capped"] = {"raw_one_phone_s": raw1, "raw_eight_phones_s": raw8,"plug_to_backup_s": t1, "wire_floor_s": floor, "read_mbps": rd, "write_mbps": wr,
                         "transfers": xfers, "eight_phones_s": t8, "eight_daemon_cpu_s": cpu_d,
                         "eight_mtksim_cpu_s": cpu_s, "raw_reference": refs}
    r, w = statistics.median(rd), statistics.median(wr)
    for what, v, key in (("read", r, "read"), ("write", w, "write")):
        row("P3", "%s rate at the USB 2.0 model (median of %d)" % (what, len(rd)), v, "MB/s", LINE_MBPS,
            v / LINE_MBPS, ">= 0.9", v / LINE_MBPS >= 0.9,
            "baseline: line rate; same model, raw-reader: %.2f one transfer at a time, %.2f pipelined"
            % (refs["sync"][key] / LINE_MBPS, refs["pipelined"][key] / LINE_MBPS))
    one = statistics.median(t1)
    row("P4", "8 phones at once, one port each: wall time", t8, "s", one, t8 / one, "-", "info",
        "baseline: one phone alone; during the 8: CPU daemon %.1f s, mtksim %.1f s (2 cores: %.0f%% busy); "
        "the goal is P4H's (one hub)" % (cpu_d, cpu_s, 100.0 * (cpu_d + cpu_s) / (t8 * (os.cpu_count() or 1))))
    row("P4", "  reference: 8 raw-readers at once", raw8, "s", raw1, raw8 / raw1, "-", "info",
        "the simulator's and this machine's own scaling (phones start in DA mode)")
    fl = statistics.median(floor)
    row("P6", "plug-in -> verified backup, MT6735, capped", one, "s", fl, one / fl, "<= 1.2", one / fl <= 1.2,
        "baseline: bytes on the wire / line rate; %.2f against that plus the %.1f s DA2 settle "
        "the daemon keeps (da.md 2.7)" % (one / (fl + DA2_SETTLE_S), DA2_SETTLE_S))


# ------------------------------------------------------------------ P3X

def bench_xflash():
    """P3 for a phone with the XFlash DA (issue 14): simulated MT6765s on eMMC with their corpus layout,
    on the USB 2.0 model, each backed up (read rate) and restored (write rate) as P3's phones are."""
    state = tempfile.mkdtemp(prefix="mtknvd-bench-state-")
    os.makedirs(os.path.join(state, "da"))
    with open(os.path.join(state, "da", "xflash-da.bin"), "wb") as f:
        f.write(mkda.build([mkda.parse_entry("dacode=0x6765,xflash=1")]))
    phones = ["x%d" % i for i in range(REPS)]
    d = Daemon(["id=%s,unplugged=1,chip=mt6765,%s" % (p, USB2) for p in phones], config="AutoBackup=first-seen\n",
               daemon_args=["--grace-period=3600"], state_dir=state)
    rd, wr, nbytes, chunks = [], [], [], []
    try:
        for x in phones:
            before = set(d.added_at)
            d.w.control("plug " + x)
            d.w.wait_until(lambda: len(set(d.added_at) - before) == 1, "backup of " + x, TIMEOUT * 2)
            path = (set(d.added_at) - before).pop()
            st = d.w.stats(x)
            if st.get("da_protocol") != "xflash":
                raise RuntimeError("%s was not backed up through the XFlash DA (%s)" % (x, st.get("da_protocol")))
            rd.append(read_cmd_mbps(st))
            nbytes.append(num(st, "read_bytes"))
            d.w.sim_wait(x, timeout_ms=TIMEOUT * 1000, phase="booted")
            d.w.wait_until(lambda: not any(o.get("Present") for o in d.w.objects.values()), "reboot", TIMEOUT)
            d.w.control("plug " + x)
            dev = d.wait_ready(x)
            d.restore(dev, path)
            st = d.w.stats(x)
            wr.append(write_cmd_mbps(st))
            chunks.append(num(st, "writes"))
            d.w.wait_until(lambda: not any(o.get("Present") for o in d.w.objects.values()), "reboot", TIMEOUT)
            log("xflash %s: read %.1f MB/s (%.0f MiB), write %.1f MB/s" % (x, rd[-1], nbytes[-1] / 2**20, wr[-1]))
    finally:
        d.close()
        shutil.rmtree(state, ignore_errors=True)
    details["P3X"] = {"read_mbps": rd, "write_mbps": wr, "read_bytes_per_backup": nbytes}
    r, w = statistics.median(rd), statistics.median(wr)
    for what, v in (("read", r), ("write", w)):
        row("P3X", "XFlash MT6765 %s rate, USB 2.0 model (median of %d)" % (what, len(rd)), v, "MB/s", LINE_MBPS,
            v / LINE_MBPS, "-", "info",
            "baseline: line rate; READ_DATA/WRITE_DATA time only (%.0f MiB read per verified backup); "
            "raw-reader speaks the legacy DA only, P3's rows are its comparison" % (statistics.median(nbytes) / 2**20))


# ------------------------------------------------------------------ P4H

def hub_shares(samples, names):
    """Each phone's rate over the common window (every phone reading, none done yet), from the
    hub's per-phone line_bytes at the window's first and last sample; None if no such window."""
    inside = [s for s in samples if all(s[p][1] > 0 and s[p][2] == 0 for p in names)]
    if len(inside) < 2 or inside[-1]["t"] - inside[0]["t"] < 200000:
        return None, None
    a, b = inside[0], inside[-1]
    dt = b["t"] - a["t"]
    rates = {p: (b[p][0] - a[p][0]) / dt for p in names}
    return rates, dt / 1e6


def bench_p4_hub():
    """Eight capped phones behind one simulated hub, each backed up automatically: the aggregate READ
    rate over the one line's rate, and how evenly the line was shared."""
    names = ["h%d" % i for i in range(8)]
    phones = ["id=%s,unplugged=1,handshake-window=0,%s" % (p, HUB) for p in names]
    d = Daemon(phones, config="AutoBackup=first-seen\n", daemon_args=["--grace-period=3600"])
    final, samples = {}, []

    def capture(p):
        # after its verified backup the daemon resets the phone; its READ fields (per enumeration)
        # hold until it enumerates again, 300 ms later: take them as it leaves
        try:
            control(d.w.control_path, "wait %s resets=1 timeout-ms=600000" % p)
            final[p] = parse_stats(control(d.w.control_path, "stats " + p))
        except Exception as e:  # the world ended first: the main thread reports it
            final.setdefault("errors", []).append(str(e))
    try:
        for p in names:
            threading.Thread(target=capture, args=(p,), daemon=True).start()
        before = set(d.added_at)
        cpu_d0, cpu_s0 = cpu_seconds(d.pid), cpu_seconds(d.w.sim.pid)
        for p in names:
            d.w.control("plug " + p)

        def sample():
            s = {"t": now_us()}
            for p in names:
                st = d.w.stats(p)
                s[p] = (num(st, "line_bytes"), num(st, "rw_first_us"), num(st, "resets"))
            samples.append(s)
            return len(set(d.added_at) - before) == len(names) and all(p in final for p in names)
        d.w.wait_for(sample, "8 backups behind one hub", 600, interval=0.25)
        cpu_d, cpu_s = cpu_seconds(d.pid) - cpu_d0, cpu_seconds(d.w.sim.pid) - cpu_s0
    finally:
        d.close()
    read_bytes = sum(num(final[p], "read_bytes") for p in names)
    span = max(num(final[p], "rw_last_us") for p in names) - min(num(final[p], "rw_first_us") for p in names)
    agg = read_bytes / span
    rates, window_s = hub_shares(samples, names)
    if rates is None:
        raise RuntimeError("the eight phones never all read at once (no common window)")
    fair = sum(rates.values()) / len(rates)
    least = min(rates.values())
    log("8 phones behind one hub: %.1f MB/s READ over %.1f s; common window %.1f s, shares %s"
        % (agg, span / 1e6, window_s, " ".join("%.2f" % (rates[p] / fair) for p in names)))

    per = []
    raw_span = raw_parallel(8, HUB, per)
    raw_agg = sum(b for b, _, _ in per) / raw_span / 1e6
    raw_rates = [b / (t1 - t0) / 1e6 for b, t0, t1 in per]
    raw_fair = sum(raw_rates) / len(raw_rates)
    log("8 raw-readers behind one hub: %.1f MB/s, shares %s"
        % (raw_agg, " ".join("%.2f" % (r / raw_fair) for r in raw_rates)))
    details["P4H"] = {"final_stats": {p: final[p] for p in names}, "read_bytes": read_bytes, "read_span_us": span,
                      "aggregate_mbps": agg, "window_s": window_s, "window_mbps": rates, "samples": samples,
                      "daemon_cpu_s": cpu_d, "mtksim_cpu_s": cpu_s,
                      "raw": {"readers": per, "span_s": raw_span, "aggregate_mbps": raw_agg}}
    row("P4H", "8 phones behind one hub: aggregate READ rate", agg, "MB/s", LINE_MBPS, agg / LINE_MBPS, ">= 0.9",
        agg / LINE_MBPS >= 0.9, "sum of READ bytes / (last READ end - first READ opcode) over the 8; CPU daemon "
        "%.1f s, mtksim %.1f s" % (cpu_d, cpu_s))
    row("P4H", "  smallest share of the line (common window)", least, "MB/s", fair, least / fair, ">= 0.75",
        least / fair >= 0.75, "baseline: fair share = mean of the 8 phones' rates in the %.1f s all 8 were reading"
        % window_s)
    row("P4H", "  reference: 8 raw-readers behind one hub", raw_agg, "MB/s", LINE_MBPS, raw_agg / LINE_MBPS, "-",
        "info", "smallest share %.2f of the mean (each reader's bytes over its own run)"
        % (min(raw_rates) / raw_fair))


# ------------------------------------------------------------------ P1L

def bench_p1_load():
    """Hotplug -> first handshake byte of a 9th phone while eight others are being backed up, daemon vs
    raw-reader's reaction under the same USB load."""
    loaders = ["l%d" % i for i in range(8)]
    # AutoBackup=always: every plug-in of a loader is a backup; after it the daemon resets the phone,
    # which comes back, listens for ever (handshake-window=0) and is left alone (the daemon knows it
    # rebooted it): once the daemon has seen it back, the bench unplugs it and plugs it again.  (Pulled
    # before it came back, its next plug-in would count as the boot the daemon waits for.)  The 9th
    # phone has the real 2.5 s window.
    phones = ["id=%s,unplugged=1,handshake-window=0,%s" % (p, USB2) for p in loaders] + \
        ["id=x,unplugged=1," + USB2]
    # BootWindowSec=0: a phone plugged again moments after it left is a plug-in (the daemon's default
    # takes a phone back on its port within 5 s for one that restarted while attached, and leaves it alone)
    d = Daemon(phones, config="AutoBackup=always\nBootWindowSec=0\n", daemon_args=["--grace-period=3600"])
    state, port, resets0, last = {p: "plug" for p in loaders}, {}, {}, {"at": 0}
    counts = {"backups": 0}
    xs = {"lat": [], "missed": 0, "busy": [], "lag": [], "done": False, "error": None,
          "want_gone": False, "gone": threading.Event(), "split": []}
    try:
        for p in loaders + ["x"]:
            port[p] = d.w.stats(p)["port"]

        def present(p, state=None):
            return any(o.get("Present") and o.get("UsbPath") == port[p] and (state is None or o.get("State") == state)
                       for o in d.w.objects.values())

        def pump():
            """Keep the eight busy: plug; once the daemon reset it after its backup, unplug; again."""
            check = now_us() - last["at"] > 250000
            if check:
                last["at"] = now_us()
            for p in loaders:
                if state[p] == "plug":
                    resets0[p] = num(d.w.stats(p), "resets")
                    d.w.control("plug " + p)
                    state[p] = "running"
                elif state[p] == "running" and check:
                    st = d.w.stats(p)
                    last[p] = st["phase"]
                    if num(st, "resets") > resets0[p] or st["phase"] == "booted":
                        counts["backups"] += 1
                        state[p] = "back"
                elif state[p] == "back" and (present(p, "idle") or last.get(p) == "booted"):
                    d.w.control("unplug " + p)
                    last[p] = "off"
                    state[p] = "gone"
                elif state[p] == "gone" and not present(p):
                    state[p] = "plug"
            if xs["want_gone"] and not present("x"):
                xs["want_gone"] = False
                xs["gone"].set()
            return xs["done"]

        def plugs():
            """The 9th phone, in a thread of its own (control channel only; D-Bus stays in the main loop)."""
            try:
                path = d.w.control_path
                for i in range(LOAD_PLUGS):
                    boots0 = num(parse_stats(control(path, "stats x")), "boots")
                    # being backed up (plugged, not yet reset by the daemon) / inside their DA at that
                    xs["busy"].append((sum(state[p] == "running" for p in loaders),
                                       sum(state[p] == "running" and last.get(p) == "da" for p in loaders)))
                    t_sent = now_us()
                    control(path, "plug x")
                    t_reply = now_us()
                    try:
                        control(path, "wait x phase=handshake timeout-ms=%d" % (WINDOW_MS + 1500))
                    except RuntimeError:
                        pass  # it booted: a missed window (below)
                    st = parse_stats(control(path, "stats x"))
                    plug_us = num(st, "plug_us")
                    xs["lag"].append(((plug_us - t_sent) / 1000.0, (t_reply - plug_us) / 1000.0))
                    if num(st, "boots") > boots0 or not num(st, "first_rx_us"):
                        xs["missed"] += 1
                    else:
                        xs["lat"].append((num(st, "first_rx_us") - plug_us) / 1000.0)
                        # where the time went, by mtksim's clock: plug -> the host's first ioctl on the
                        # node (its reaction to the uevent) -> its first URB -> the A0 at the phone
                        xs["split"].append(tuple((num(st, k) - plug_us) / 1000.0
                                                 for k in ("first_ioctl_us", "first_urb_us", "first_rx_us")))
                    xs["gone"].clear()
                    xs["want_gone"] = True
                    control(path, "unplug x")
                    if not xs["gone"].wait(TIMEOUT):
                        raise RuntimeError("the daemon did not see the 9th phone leave")
            except Exception as e:
                xs["error"] = e
            xs["done"] = True

        # the load first: all eight inside their backups
        d.w.wait_for(lambda: pump() or all(last.get(p) == "da" for p in loaders), "8 backups running", TIMEOUT,
                     interval=0.05)
        t = threading.Thread(target=plugs, daemon=True)
        t.start()
        d.w.wait_for(pump, "%d plugs of the 9th phone" % LOAD_PLUGS, 600, interval=0.05)
        t.join()
        if xs["error"]:
            raise xs["error"]
    finally:
        d.close()
    lat, missed, busy, lag = xs["lat"], xs["missed"], xs["busy"], xs["lag"]
    log("P1L daemon: %d plugs, %d missed, median %.1f ms, p99 %.1f ms; loaders' backups meanwhile: %d"
        % (LOAD_PLUGS, missed, statistics.median(lat) if lat else -1, pct(lat, 99) if lat else -1,
           counts["backups"]))

    # the baseline: the same plugs with raw-reader's hotplug reaction, eight raw-readers reading meanwhile
    script = ('for p in 1 2 3 4 5 6 7 8; do "$0" read --loop --port $p & done; '
              'exec "$0" hotplug %d --port 9 --hold' % LOAD_PLUGS)
    raw_lat, raw_missed, raw_split = [], 0, []
    for attempt in range(3):
        # under umockdev one of eight raw-readers starting at once sometimes fails in libusb_init
        # (as in raw_parallel()): that world is started again
        rw = RawWorld(["id=l%d,start=da,%s" % (i, USB2) for i in range(8)] + ["id=x,unplugged=1," + USB2], [],
                      command=["/bin/sh", "-c", script, RAW], coldplug=True)
        rw.until("ready")
        # the load first: every reader through its first READ (`reads` is no event `wait` follows)
        deadline = time.monotonic() + TIMEOUT
        while not all(num(rw.stats("l%d" % i), "reads") > 0 for i in range(8)) and \
                time.monotonic() < deadline and rw.p.poll() is None:
            time.sleep(0.05)
        if all(num(rw.stats("l%d" % i), "reads") > 0 for i in range(8)):
            break
        why = " ".join("%s:%s:reads=%s" % (i, st["phase"], st["reads"])
                       for i, st in ((i, rw.stats("l%d" % i)) for i in range(8)))
        rw.close()
        if attempt == 2:
            raise RuntimeError("the eight raw-readers did not start reading: " + why)
        log("P1L baseline: a raw-reader did not start (%s); again" % why)
    try:
        for i in range(LOAD_PLUGS):
            boots0 = num(rw.stats("x"), "boots")
            rw.control("plug x")
            rw.until("arrived")
            st = rw.stats("x")
            if num(st, "boots") > boots0:
                raw_missed += 1
            else:
                raw_lat.append((num(st, "first_rx_us") - num(st, "plug_us")) / 1000.0)
                raw_split.append(tuple((num(st, k) - num(st, "plug_us")) / 1000.0
                                       for k in ("first_ioctl_us", "first_urb_us", "first_rx_us")))
            rw.control("unplug x")
        rw.until("done")
        raw_reads = [num(rw.stats("l%d" % i), "reads") for i in range(8)]
        log("P1L raw-reader: %d plugs, %d missed, median %.1f ms, p99 %.1f ms"
            % (LOAD_PLUGS, raw_missed, statistics.median(raw_lat), pct(raw_lat, 99)))
    finally:
        # the eight readers are the hotplug reader's children (exec): end them first
        for pid in [c for h in children(rw.p.pid) for c in children(h)]:
            try:
                os.kill(pid, 15)
            except OSError:
                pass
        rw.close()
    details["P1L"] = {"daemon_ms": lat, "daemon_missed": missed, "raw_ms": raw_lat, "raw_missed": raw_missed,
                      "loaders_in_backup_and_in_da_at_plug": busy, "loader_backups": counts,
                      "plug_lag_ms": lag, "raw_loader_reads": raw_reads,
                      "daemon_plug_to_ioctl_urb_rx_ms": xs["split"], "raw_plug_to_ioctl_urb_rx_ms": raw_split}
    if not lat or not raw_lat:
        raise RuntimeError("no plug reached the handshake (missed %d of %d)" % (missed, LOAD_PLUGS))
    dm, dp = statistics.median(lat), pct(lat, 99)
    rm, rp = statistics.median(raw_lat), pct(raw_lat, 99)
    row("P1L", "9th phone under load: hotplug -> first byte, median", dm, "ms", rm, dm / rm, "-", "info",
        "8 phones on their own ports being backed up meanwhile: at a plug on average %.1f of 8 inside a backup, "
        "%.1f in their DA; %d backups" % (sum(b for b, _ in busy) / len(busy), sum(d for _, d in busy) / len(busy),
                                          counts["backups"]))
    row("P1L", "9th phone under load: p99 (%d plugs)" % (len(lat) + missed), dp, "ms", rp, dp / rp,
        "<= 1.5 x baseline", dp <= 1.5 * rp, "baseline: raw-reader hotplug while 8 raw-readers read in a loop")
    row("P1L", "9th phone under load: missed handshake windows", missed, "", raw_missed, None, "0", missed == 0,
        "of %d plugs; the phone boots when nobody handshakes within %d ms" % (LOAD_PLUGS, WINDOW_MS))

    def split(sp):
        return "/".join("%.0f" % statistics.median(x[i] for x in sp) for i in range(3)) if sp else "-"
    log("P1L median ms from plug to host's first ioctl / first URB / A0 at the phone: daemon %s, raw-reader %s; "
        "mtksim took median %.1f ms to act on the plug command" % (split(xs["split"]), split(raw_split),
                                                                  statistics.median(a for a, _ in lag)))


# ------------------------------------------------------------------ P5

def bench_p5():
    """Idle cost with and without a phone; the exit-on-idle delay."""
    grace, idle_exit, window = 0.5, 7.0, 5.0
    # AutoBackup=never: the daemon leaves the phone alone (idle); handshake-window=0 keeps it on the
    # bus meanwhile (it would boot after 2.5 s), for the daemon and the baseline alike
    d = Daemon(["id=i,handshake-window=0"], daemon_args=["--grace-period=%g" % grace,
                                                         "--exit-on-idle=%g" % idle_exit])
    try:
        dev = d.wait_ready("i", ("ready", "idle"))
        time.sleep(0.5)  # let the identification's last replies settle
        wk_phone, mem_phone = idle_window(d.pid, window)
        removed = []
        d.w.bus.add_signal_receiver(lambda path, ifaces: removed.append(now_us()), "InterfacesRemoved", OM_IFACE,
                                    None, "/")
        d.w.expected_exit = True
        d.w.control("unplug i")
        d.w.wait_until(lambda: removed, "device removed", TIMEOUT)
        t_removed = removed[0]
        time.sleep(0.3)
        wk_none, mem_none = idle_window(d.pid, window)
        d.w.wait_until(lambda: d.w.owner_gone, "idle exit", idle_exit * 3)
        t_exit = now_us()
        rc = d.w.sim.wait(timeout=60)
    finally:
        d.close()
    delay = (t_exit - t_removed) / 1e6

    # the baseline: the minimal libusb program holding the phone, then without it
    rw = RawWorld(["id=i,handshake-window=0"], ["idle"])
    try:
        rw.until("done")
        pid = process_of(rw.p.pid, "raw-reader")
        time.sleep(0.5)
        rwk_phone, rmem_phone = idle_window(pid, window)
        rw.control("unplug i")
        time.sleep(0.3)
        rwk_none, rmem_none = idle_window(pid, window)
    finally:
        rw.close()
    details["P5"] = {"daemon_with_phone": {"wakeups_per_s": wk_phone, "memory_kB": mem_phone},
                     "daemon_without_phone": {"wakeups_per_s": wk_none, "memory_kB": mem_none},
                     "raw_with_phone": {"wakeups_per_s": rwk_phone, "memory_kB": rmem_phone},
                     "raw_without_phone": {"wakeups_per_s": rwk_none, "memory_kB": rmem_none},
                     "exit_delay_s": delay, "exit_on_idle_s": idle_exit, "exit_status": rc}

    def ratio(a, b):
        return a / b if b else (1.0 if a == 0 else float("inf"))
    row("P5", "idle wakeups/s, phone connected", wk_phone, "1/s", rwk_phone, ratio(wk_phone, rwk_phone), "0",
        wk_phone == 0, "baseline: raw-reader holding the phone; %.0f s window" % window)
    row("P5", "idle wakeups/s, no phone", wk_none, "1/s", rwk_none, ratio(wk_none, rwk_none), "0", wk_none == 0,
        "baseline: raw-reader after the unplug")
    for label, mem, rmem in (("phone connected", mem_phone, rmem_phone), ("no phone", mem_none, rmem_none)):
        rss = mem["VmRSS"] / 1024.0
        row("P5", "resident memory (VmRSS), " + label, rss, "MiB", rmem["VmRSS"] / 1024.0,
            mem["VmRSS"] / rmem["VmRSS"], "<= 4 MiB", rss <= 4.0,
            "anon %.1f, file %.1f, PSS %.1f, private %.1f MiB" % (mem["RssAnon"] / 1024.0, mem["RssFile"] / 1024.0,
                                                                 mem["Pss"] / 1024.0, mem["USS"] / 1024.0))
    row("P5", "exit-on-idle: last phone gone -> exit", delay, "s", idle_exit, delay / idle_exit,
        "1.0 .. 1.05", 1.0 <= delay / idle_exit <= 1.05 and rc == 0, "ExitOnIdleSec=%g, exit status %s" % (idle_exit, rc))


# ------------------------------------------------------------------ main

def fmt(v):
    if isinstance(v, float):
        return "%.3g" % v if abs(v) < 10 else "%.1f" % v
    return str(v)


def print_table():
    head = ("figure", "what", "value", "baseline", "ratio", "goal", "status")
    lines = []
    for r in rows:
        met = r["met"]
        lines.append((r["figure"], r["what"], "%s %s" % (fmt(r["value"]), r["unit"]),
                      "%s %s" % (fmt(r["baseline"]), r["unit"]) if r["baseline"] is not None else "-",
                      fmt(r["ratio"]) if r["ratio"] is not None else "-", r["goal"],
                      "met" if met is True else "MISSED" if met is False else str(met)))
    widths = [max(len(str(x[i])) for x in [head] + lines) for i in range(len(head))]
    sep = "  "
    print()
    print(sep.join(h.ljust(w) for h, w in zip(head, widths)))
    print(sep.join("-" * w for w in widths))
    for ln, r in zip(lines, rows):
        print(sep.join(str(x).ljust(w) for x, w in zip(ln, widths)))
        if r["note"]:
            print(" " * (widths[0] + len(sep)) + "  " + r["note"])
    print()


def main():
    for exe in (MTKSIM, RAW, os.path.join(BUILD, "mtknvd")):
        if not os.access(exe, os.X_OK):
            print("run-bench: %s is missing; run make bench" % exe)
            return 2
    global LOAD0
    LOAD0 = os.getloadavg()
    t0 = time.monotonic()
    print("mtknvd benchmarks: %d CPUs, load %.2f; USB 2.0 model: %s" % (os.cpu_count(), os.getloadavg()[0], USB2),
          flush=True)
    for name, fn in (("P1", bench_p1), ("P1L", bench_p1_load), ("P2", bench_p2), ("P3", bench_capped),
                     ("P3X", bench_xflash), ("P4H", bench_p4_hub), ("P5", bench_p5)):
        covers = {"P3": ("P3", "P4", "P6")}.get(name, (name,))
        if ONLY and not any(c in ONLY for c in covers):
            continue
        print("%s ..." % "/".join(covers), flush=True)
        t = time.monotonic()
        try:
            fn()
        except Exception as e:  # a measurement that could not be taken
            errors.append("%s: %s" % (name, e))
            traceback.print_exc()
            row(name, "measurement failed", str(e).splitlines()[0][:60], "", None, None, "-", "error")
        log("%s took %.0f s" % ("/".join(covers), time.monotonic() - t))
    print_table()
    out = os.path.join(BUILD, "bench", "results.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"line_mbps": LINE_MBPS, "latency_us": LATENCY_US, "plugs": PLUGS, "load_plugs": LOAD_PLUGS,
                   "reps": REPS,
                   "cpus": os.cpu_count(), "loadavg_start": LOAD0, "loadavg_end": os.getloadavg(), "seconds": time.monotonic() - t0,
                   "figures": rows, "details": details, "errors": errors}, f, indent=1)
    print("results: %s (%.0f s)" % (os.path.relpath(out, TOP), time.monotonic() - t0))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

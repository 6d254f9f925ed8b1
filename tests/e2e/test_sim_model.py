# SPDX-License-Identifier: LGPL-2.1-or-later
"""The simulated phone on its own (tests/sim/README.md): its life (boots,
resets, the watchdog, re-enumeration) and the keys for what the reference
leaves open, driven through mtksim's control channel and, for USB traffic, a
small probe that is this file run inside mtksim with --probe.

The probe is not a host: it sends the bytes a test names and reports what
came back (libusb through ctypes; the benchmark's raw-reader speaks only the
DA READ/WRITE stream, not the handshake, the BROM commands or 70 01).  No
sleeps: every wait is mtksim's `wait` command or a USB transfer; timeouts only
bound failures, except where a test claims that something does *not* happen
(then a bounded wait must run out).
"""

import ctypes
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("MTKNVD_BUILD", "build"))
MTKSIM = os.path.join(BUILD, "mtksim")

sys.path.insert(0, os.path.join(TOP, "tests", "tools"))
import mkda  # noqa: E402
import mkpreloader  # noqa: E402
import proctree  # noqa: E402

VID = 0x0e8d
PID_BROM, PID_PRELOADER = 0x0003, 0x2000
WDT_MT6735 = 0x10212000        # brom.md section 5
WDT_DEFAULT = 0x10007000


# ------------------------------------------------------------------ the probe (inside mtksim)

class Probe:
    """Runs under mtksim's LD_PRELOAD: one JSON request per line, one answer per line, over the test's
    socket (mtksim gives its command /dev/null as stdin)."""

    class Desc(ctypes.Structure):
        _fields_ = [("bLength", ctypes.c_uint8), ("bDescriptorType", ctypes.c_uint8), ("bcdUSB", ctypes.c_uint16),
                    ("bDeviceClass", ctypes.c_uint8), ("bDeviceSubClass", ctypes.c_uint8),
                    ("bDeviceProtocol", ctypes.c_uint8), ("bMaxPacketSize0", ctypes.c_uint8),
                    ("idVendor", ctypes.c_uint16), ("idProduct", ctypes.c_uint16), ("bcdDevice", ctypes.c_uint16),
                    ("iManufacturer", ctypes.c_uint8), ("iProduct", ctypes.c_uint8),
                    ("iSerialNumber", ctypes.c_uint8), ("bNumConfigurations", ctypes.c_uint8)]

    def __init__(self):
        self.usb = ctypes.CDLL("libusb-1.0.so.0")
        self.usb.libusb_error_name.restype = ctypes.c_char_p
        self.usb.libusb_get_device_list.restype = ctypes.c_ssize_t
        self.ctx = self.h = None

    def err(self, r):
        return self.usb.libusb_error_name(r).decode()

    def close(self):
        if self.h:
            self.usb.libusb_release_interface(self.h, 1)
            self.usb.libusb_close(self.h)
        if self.ctx:
            self.usb.libusb_exit(self.ctx)
        self.ctx = self.h = None

    def op_open(self, req):
        # a new context scans sysfs afresh: no race with a hotplug monitor
        self.close()
        self.ctx = ctypes.c_void_p()
        self.usb.libusb_init(ctypes.byref(self.ctx))
        devs = ctypes.POINTER(ctypes.c_void_p)()
        n = self.usb.libusb_get_device_list(self.ctx, ctypes.byref(devs))
        found = None
        for i in range(max(n, 0)):
            d = self.Desc()
            self.usb.libusb_get_device_descriptor(ctypes.c_void_p(devs[i]), ctypes.byref(d))
            if d.idVendor == VID and self.usb.libusb_get_port_number(ctypes.c_void_p(devs[i])) == req["port"]:
                found = (devs[i], d.idProduct, self.usb.libusb_get_device_speed(ctypes.c_void_p(devs[i])))
        if not found:
            self.usb.libusb_free_device_list(devs, 1)
            return {"ok": False, "error": "no phone on port %d" % req["port"]}
        self.h = ctypes.c_void_p()
        r = self.usb.libusb_open(ctypes.c_void_p(found[0]), ctypes.byref(self.h))
        self.usb.libusb_free_device_list(devs, 1)
        if r < 0:
            self.h = None
            return {"ok": False, "error": self.err(r)}
        self.usb.libusb_set_auto_detach_kernel_driver(self.h, 1)
        r = self.usb.libusb_claim_interface(self.h, 1)
        if r < 0:
            return {"ok": False, "error": self.err(r)}
        # libusb speeds: 2 = full, 3 = high
        return {"ok": True, "pid": found[1], "speed": {2: "full", 3: "high"}.get(found[2], str(found[2]))}

    def op_write(self, req):
        data = bytes.fromhex(req["data"])
        buf = ctypes.create_string_buffer(data, len(data))
        got = ctypes.c_int()
        r = self.usb.libusb_bulk_transfer(self.h, 0x01, buf, len(data), ctypes.byref(got), req.get("timeout", 2000))
        return {"ok": r == 0, "error": self.err(r) if r else "", "sent": got.value}

    def op_read(self, req):
        cap = req.get("cap", 512)
        buf = ctypes.create_string_buffer(cap)
        got = ctypes.c_int()
        r = self.usb.libusb_bulk_transfer(self.h, 0x81, buf, cap, ctypes.byref(got), req.get("timeout", 2000))
        return {"ok": r == 0, "error": self.err(r) if r else "", "data": buf.raw[:got.value].hex()}

    def op_clear_halt(self, req):
        r = self.usb.libusb_clear_halt(self.h, req["ep"])
        return {"ok": r == 0, "error": self.err(r) if r else ""}

    def op_flood(self, req):
        """One bulk OUT of req["bytes"] (starting with A0: a listening preloader drops the whole chunk) to
        each phone on req["ports"] at once, one thread each (ctypes lets go of the GIL in libusb)."""
        import threading
        ctx = ctypes.c_void_p()
        self.usb.libusb_init(ctypes.byref(ctx))
        devs = ctypes.POINTER(ctypes.c_void_p)()
        n = self.usb.libusb_get_device_list(ctx, ctypes.byref(devs))
        handles = {}
        for i in range(max(n, 0)):
            port = self.usb.libusb_get_port_number(ctypes.c_void_p(devs[i]))
            if port in req["ports"]:
                h = ctypes.c_void_p()
                if self.usb.libusb_open(ctypes.c_void_p(devs[i]), ctypes.byref(h)) == 0:
                    self.usb.libusb_set_auto_detach_kernel_driver(h, 1)
                    self.usb.libusb_claim_interface(h, 1)
                    handles[port] = h
        self.usb.libusb_free_device_list(devs, 1)
        data = b"\xa0" + bytes(req["bytes"] - 1)
        start, results = threading.Barrier(len(handles)), {}

        def send(port, h):
            buf = ctypes.create_string_buffer(data, len(data))
            got = ctypes.c_int()
            start.wait()
            results[port] = (self.usb.libusb_bulk_transfer(h, 0x01, buf, len(data), ctypes.byref(got), 30000),
                             got.value)
        threads = [threading.Thread(target=send, args=(p, h)) for p, h in handles.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for h in handles.values():
            self.usb.libusb_release_interface(h, 1)
            self.usb.libusb_close(h)
        self.usb.libusb_exit(ctx)
        ok = sorted(handles) == sorted(req["ports"]) and all(r == (0, len(data)) for r in results.values())
        return {"ok": ok, "error": "" if ok else "flood: %r" % results}

    def op_close(self, req):
        self.close()
        return {"ok": True}

    def run(self, path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            f = s.makefile("rw")
            f.write("ready\n")
            f.flush()
            for line in f:
                req = json.loads(line)
                f.write(json.dumps(getattr(self, "op_" + req["op"])(req)) + "\n")
                f.flush()
        self.close()


# ------------------------------------------------------------------ the test side

def be32(v):
    return struct.pack(">I", v)


class Sim:
    """One mtksim with the probe as its command; phones are cold-plugged."""

    def __init__(self, *phones):
        self.tmp = tempfile.mkdtemp(prefix="mtksim-model-")
        self.control_path = os.path.join(self.tmp, "control")
        probe_path = os.path.join(self.tmp, "probe")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(probe_path)
        self.listener.listen(1)
        self.listener.settimeout(60)
        cmd = [MTKSIM, "--control", self.control_path, "--coldplug"]
        for p in phones:
            cmd += ["--phone", p]
        cmd += ["--", sys.executable, os.path.abspath(__file__), "--probe", probe_path]
        self.log = open(os.path.join(self.tmp, "log"), "w+")
        env = dict(os.environ)
        # as tests/e2e/harness.py does: an ASan build of mtksim runs its command with umockdev's preload
        # library first, which ASan would refuse
        env["ASAN_OPTIONS"] = "verify_asan_link_order=0:detect_leaks=1:abort_on_error=1"
        env["LSAN_OPTIONS"] = "suppressions=" + os.path.join(TOP, "tests", "lsan.supp")
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        try:
            self.conn, _ = self.listener.accept()
        except socket.timeout:
            raise AssertionError("the probe did not connect within 60 s\n--- mtksim output ---\n%s\n"
                                 "--- mtksim and below ---\n%s" % (self.output(), proctree.describe(self.p.pid)))
        self.conn.settimeout(None)
        self.f = self.conn.makefile("rw")
        if self.f.readline().strip() != "ready":
            raise RuntimeError("the probe did not start: %s" % self.output())

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def close(self):
        """mtksim's exit status and its output (it exits with the probe's status)."""
        if self.p is None:
            return 0, ""
        # the probe ends when its socket closes, and mtksim with it
        self.f.close()
        self.conn.close()
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        rc, out = self.p.returncode, self.output()
        self.p = None
        self.listener.close()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc, out

    # control channel
    def control_raw(self, line):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.control_path)
            s.sendall((line + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf.decode().strip()

    def control(self, line):
        reply = self.control_raw(line)
        if not reply.startswith("ok"):
            raise AssertionError("mtksim refused %r: %s" % (line, reply))
        return reply[2:].strip()

    def stats(self, phone):
        return dict(x.split("=", 1) for x in self.control("stats " + phone).split() if "=" in x)

    def wait(self, phone, *conds, timeout_ms=10000):
        self.control("wait %s %s timeout-ms=%d" % (phone, " ".join(conds), timeout_ms))
        return self.stats(phone)

    def does_not_happen(self, phone, *conds, within_ms):
        reply = self.control_raw("wait %s %s timeout-ms=%d" % (phone, " ".join(conds), within_ms))
        if not reply.startswith("error timeout"):
            raise AssertionError("%s happened: %s (%s)" % (" ".join(conds), reply, self.stats(phone)))

    # USB through the probe
    def usb(self, op, **kw):
        kw["op"] = op
        self.f.write(json.dumps(kw) + "\n")
        self.f.flush()
        line = self.f.readline()
        if not line:
            raise RuntimeError("the probe ended: %s" % self.output())
        return json.loads(line)

    def open(self, port=1):
        r = self.usb("open", port=port)
        if not r["ok"]:
            raise AssertionError("cannot open the phone: %s" % r["error"])
        return r

    def write(self, data, timeout=10000):
        r = self.usb("write", data=bytes(data).hex(), timeout=timeout)
        if not r["ok"]:
            raise AssertionError("bulk OUT failed: %s" % r["error"])

    def read(self, cap=512, timeout=10000):
        r = self.usb("read", cap=cap, timeout=timeout)
        if not r["ok"]:
            raise AssertionError("bulk IN failed: %s" % r["error"])
        return bytes.fromhex(r["data"])

    def read_n(self, n, timeout=10000):
        """n bytes, however the phone packetised them."""
        out = b""
        while len(out) < n:
            out += self.read(512, timeout)
        return out

    def silent(self, timeout=300):
        r = self.usb("read", cap=512, timeout=timeout)
        return not r["ok"] and r["error"] == "LIBUSB_ERROR_TIMEOUT"

    def exchange(self, data, answer_len):
        self.write(data)
        return self.read_n(answer_len)

    # the BROM / preloader stage
    def handshake(self, preloader=True):
        if preloader:
            self.write(b"\xa0")  # swallowed by the listen phase (brom.md 2.2)
        for b in b"\xa0\x0a\x50\x05":
            self.write(bytes([b]))
            got = self.read()
            if got != bytes([b ^ 0xff]):
                raise AssertionError("handshake: %02x answered %s" % (b, got.hex()))

    def write32(self, addr, value):
        self.write(b"\xd4")
        assert self.read() == b"\xd4"
        assert self.exchange(be32(addr), 4) == be32(addr)
        assert self.exchange(be32(1), 4) == be32(1)
        assert self.read_n(2) == b"\x00\x00"
        assert self.exchange(be32(value), 4) == be32(value)
        assert self.read_n(2) == b"\x00\x00"

    def send_da(self, payload, addr=0x200000):
        self.write(b"\xd7")
        assert self.read() == b"\xd7"
        for v in (addr, len(payload), 0x100):
            assert self.exchange(be32(v), 4) == be32(v)
        assert self.read_n(2) == b"\x00\x00"
        self.write(payload)
        checksum = self.read_n(2)
        status2 = self.read_n(2)
        return struct.unpack(">H", checksum)[0], status2

    def jump_da(self, addr=0x200000):
        self.write(b"\xd5")
        assert self.read() == b"\xd5"
        assert self.exchange(be32(addr), 4) == be32(addr)
        return self.read_n(2)

    def da1_sync(self):
        """C0 and the sync block (4 NAND ids), 5A, the three version bytes."""
        assert self.read() == b"\xc0"
        self.read_n(4 + 2 + 8 + 4 + 16)
        self.write(b"\x5a")
        return self.read_n(3)


CONFIG_FIELDS = [b"\xff", b"\x03", b"\x00\x08", b"\x00", b"\x70\x07\xff\xff", b"\x01", b"\x00\x00\x00\x00",
                 b"\x01", b"\x01", b"\x02", b"\x00"]   # da.md 2.5, one transfer each


def xor16(data):
    x = 0
    for i in range(0, len(data) - 1, 2):
        x ^= data[i] | data[i + 1] << 8
    return x


class SimTestCase(unittest.TestCase):
    def sim(self, *phones):
        s = Sim(*phones)
        self.addCleanup(self.finish, s)
        return s

    def finish(self, s):
        rc, out = s.close()
        self.assertEqual(rc, 0, "mtksim exited with status %s:\n%s" % (rc, out[-3000:]))

    def to_da2(self, s, config_fields=CONFIG_FIELDS, tail=()):
        """Handshake, SEND_DA, JUMP_DA, DA1 sync and config; returns the DRAM status and its arrival time."""
        s.open()
        s.handshake()
        s.send_da(bytes(range(256)) * 2)
        self.assertEqual(s.jump_da(), b"\x00\x00")
        s.da1_sync()
        for f in list(config_fields) + list(tail):
            s.write(f)
        t0 = time.monotonic()
        status = s.read_n(4)
        return status, time.monotonic() - t0

    def upload_da2(self, s, pause=True):
        s.write(be32(0x40000000))
        s.write(be32(0x2000))
        s.write(be32(0x1000))
        self.assertEqual(s.read(), b"\x5a")
        for _ in range(2):
            s.write(bytes(0x1000))
            self.assertEqual(s.read(), b"\x5a")
        s.write(b"\x5a")


# ------------------------------------------------------------------ a phone's life

class TestBoot(SimTestCase):

    def test_window_passes_and_it_boots(self):
        s = self.sim("id=p,unplugged=1,handshake-window=200,uptime=20,boot-delay=20")
        s.control("plug p")
        st = s.wait("p", "phase=booted")
        self.assertEqual((st["plugged"], st["boots"], st["enumerations"], st["resets"]), ("0", "1", "1", "0"))
        self.assertEqual(st["last_reset"], "none")
        # boots=1: it stays in its OS
        s.does_not_happen("p", "enumerations=2", within_ms=500)

    def test_boot_loop(self):
        s = self.sim("id=p,unplugged=1,handshake-window=100,boots=3,uptime=50,boot-delay=50")
        s.control("plug p")
        first = s.stats("p")
        st = s.wait("p", "phase=booted", "boots=3")
        self.assertEqual((st["enumerations"], st["resets"], st["handshakes"]), ("3", "0", "0"))
        # each enumeration is a new device number (the first is 2) on the same port
        self.assertEqual(st["devnum"], "4")
        self.assertEqual(st["port"], first["port"])
        s.does_not_happen("p", "enumerations=4", within_ms=500)

    def test_restart_is_resetting_then_listen(self):
        s = self.sim("id=p,unplugged=1,handshake-window=100,boots=2,uptime=500,boot-delay=1500")
        s.control("plug p")
        s.wait("p", "phase=booted")
        st = s.wait("p", "phase=resetting")
        self.assertEqual(st["plugged"], "0")
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual((st["plugged"], st["mode"]), ("1", "preloader"))

    def test_replug_restarts_the_window(self):
        s = self.sim("id=p,unplugged=1,handshake-window=1500")
        s.control("plug p")
        s.wait("p", "phase=listen")
        t0 = time.monotonic()
        s.control("replug p")
        before = s.stats("p")
        st = s.wait("p", "phase=booted", "boots=%d" % (int(before["boots"]) + 1))
        self.assertGreaterEqual(time.monotonic() - t0, 1.5)
        self.assertEqual(st["enumerations"], before["enumerations"])
        self.assertEqual((before["phase"], before["plugged"]), ("listen", "1"))

    def test_unplug_while_booted_is_for_good(self):
        s = self.sim("id=p,unplugged=1,handshake-window=50,boots=5,uptime=1000,boot-delay=50")
        s.control("plug p")
        s.wait("p", "phase=booted")
        s.control("unplug p")
        st = s.stats("p")
        self.assertEqual((st["phase"], st["plugged"]), ("off", "0"))
        n = int(st["enumerations"])
        s.does_not_happen("p", "enumerations=%d" % (n + 1), within_ms=1500)
        # a human plugs it in again: a fresh window, a fresh boot count
        s.control("plug p")
        st = s.wait("p", "phase=listen", "enumerations=%d" % (n + 1))
        self.assertEqual(st["plugged"], "1")

    def test_a_lone_a0_does_not_hold_the_window(self):
        # brom.md 2.2: the 300 ms for the start bytes run out, back to listening, then the window ends
        s = self.sim("id=p,unplugged=1,handshake-window=1500")
        s.control("plug p")
        s.open()
        s.write(b"\xa0")
        st = s.wait("p", "phase=booted")
        self.assertEqual((st["boots"], st["handshakes"], st["enumerations"]), ("1", "0", "1"))
        self.assertNotEqual(st["first_rx_us"], "0")

    def test_unplug_fault_is_for_good(self):
        s = self.sim("id=p,handshake-window=0,fault=unplug-after-bytes:2,boot-delay=20")
        s.open()
        s.write(b"\xa0")
        s.write(b"\xa0")
        st = s.wait("p", "phase=gone")
        self.assertEqual(st["plugged"], "0")
        s.does_not_happen("p", "enumerations=2", within_ms=300)

    def test_wait_errors(self):
        s = self.sim("id=p,handshake-window=0")
        self.assertTrue(s.control_raw("wait p phase=nowhere").startswith("error no phase"))
        self.assertTrue(s.control_raw("wait p nosuchfield=1").startswith("error stats has no field"))
        self.assertTrue(s.control_raw("wait q phase=listen").startswith("error no phone"))
        # already there: at once
        self.assertEqual(s.control_raw("wait p phase=listen"), "ok")
        r = s.control_raw("wait p phase=booted timeout-ms=100")
        self.assertTrue(r.startswith("error timeout after 100 ms"), r)
        self.assertIn("phase=listen", r)

    def test_wait_holds_later_commands_back(self):
        # two commands in one write: the stats must come after the wait's ok
        s = self.sim("id=p,unplugged=1,handshake-window=150")
        s.control("plug p")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(s.control_path)
            c.sendall(b"wait p phase=booted\nstats p\n")
            buf = b""
            while buf.count(b"\n") < 2:
                buf += c.recv(65536)
        first, second = buf.decode().splitlines()
        self.assertEqual(first, "ok")
        self.assertIn("phase=booted", second)


class TestWatchdog(SimTestCase):

    def test_not_before_the_handshake(self):
        # the ROM kicks the watchdog while it waits for a host
        s = self.sim("id=p,handshake-window=0,watchdog-ms=200")
        s.does_not_happen("p", "phase=resetting", within_ms=800)
        self.assertEqual(s.stats("p")["watchdog"], "on")

    def test_expires_after_the_handshake(self):
        s = self.sim("id=p,handshake-window=0,watchdog-ms=2000,boot-delay=100")
        s.open()
        s.handshake()
        self.assertEqual(s.stats("p")["phase"], "command")
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual((st["last_reset"], st["resets"], st["boots"], st["watchdog"]),
                         ("watchdog-expired", "1", "0", "on"))

    def test_brom_comes_back_as_preloader(self):
        s = self.sim("id=p,mode=brom,watchdog-ms=200,boot-delay=50")
        r = s.open()
        self.assertEqual((r["pid"], r["speed"]), (PID_BROM, "full"))
        s.handshake(preloader=False)
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual((st["mode"], st["usb"], st["last_reset"]), ("preloader", "high", "watchdog-expired"))
        r = s.open()
        self.assertEqual((r["pid"], r["speed"]), (PID_PRELOADER, "high"))

    def test_disabled(self):
        s = self.sim("id=p,handshake-window=0,watchdog-ms=2000")
        s.open()
        s.handshake()
        s.write32(WDT_MT6735, 0x22000064)  # the value of another base: no effect
        self.assertEqual(s.stats("p")["watchdog"], "on")
        s.write32(WDT_MT6735, 0x22000000)
        self.assertEqual(s.stats("p")["watchdog"], "off")
        s.does_not_happen("p", "phase=resetting", within_ms=3000)

    def test_mt6592_needs_both_registers(self):
        s = self.sim("id=p,chip=mt6592,handshake-window=0,watchdog-ms=2000,boot-delay=50")
        s.open()
        s.handshake()
        s.write32(WDT_DEFAULT, 0x22000064)
        self.assertEqual(s.stats("p")["watchdog"], "on")
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual(st["last_reset"], "watchdog-expired")
        s.open()
        s.handshake()
        s.write32(WDT_DEFAULT, 0x22000064)
        s.write32(0x10000500, 0x22000000)
        self.assertEqual(s.stats("p")["watchdog"], "off")

    def test_software_reset(self):
        s = self.sim("id=p,handshake-window=0,boot-delay=50")
        s.open()
        s.handshake()
        s.write32(WDT_MT6735, 0x22000000)
        s.write32(WDT_MT6735 + 0x14, 0x1209)  # every status answered first
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual((st["last_reset"], st["resets"]), ("wdt-swrst", "1"))

    def test_rearmed_through_wdt_mode(self):
        s = self.sim("id=p,handshake-window=0,watchdog-ms=2000,boot-delay=50")
        s.open()
        s.handshake()
        s.write32(WDT_MT6735, 0x22000000)
        t0 = time.monotonic()
        s.write32(WDT_MT6735, 0x22000001)
        self.assertEqual(s.stats("p")["watchdog"], "on")
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual(st["last_reset"], "wdt-mode")
        self.assertGreaterEqual(time.monotonic() - t0, 2.0)

    def test_in_da_too(self):
        # left in DA by a host that never disabled the watchdog
        s = self.sim("id=p,handshake-window=0,watchdog-ms=3000,boot-delay=50")
        self.to_da2(s)
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual(st["last_reset"], "watchdog-expired")


class TestDaEnd(SimTestCase):

    def test_enable_watchdog_resets_and_it_boots(self):
        s = self.sim("id=p,start=da,handshake-window=100,boot-delay=50")
        s.open()
        self.assertEqual(s.stats("p")["watchdog"], "off")
        s.write(b"\xdb" + be32(0) + b"\x00\x00\x00\x01")
        self.assertEqual(s.read(), b"\x5a")
        st = s.wait("p", "phase=booted")
        self.assertEqual((st["last_reset"], st["resets"], st["boots"], st["enumerations"]),
                         ("enable-watchdog", "1", "1", "2"))

    def test_finish_with_and_without_mode(self):
        s = self.sim("id=p,start=da,handshake-window=0,boot-delay=50")
        s.open()
        s.write(b"\xd9")
        self.assertEqual(s.read(), b"\x5a")
        s.write(be32(0))
        self.assertEqual(s.read(), b"\x5a")
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual(st["last_reset"], "finish")
        s.control("replug p start=da")
        s.open()
        s.write(b"\xd9")
        self.assertEqual(s.read(), b"\x5a")
        st = s.wait("p", "phase=listen", "enumerations=4")
        self.assertEqual((st["last_reset"], st["resets"]), ("finish", "2"))


class TestDaReject(SimTestCase):

    def test_preloader_resets_after_a_refused_signature(self):
        s = self.sim("id=p,handshake-window=0,fault=da-reject,boot-delay=50")
        s.open()
        s.handshake()
        _, status2 = s.send_da(bytes(0x200))
        self.assertEqual(status2, b"\x20\x01")
        st = s.wait("p", "phase=listen", "enumerations=2")
        self.assertEqual((st["last_reset"], st["resets"]), ("sig-verify-fail", "1"))


class TestHub(SimTestCase):
    """hub=: phones behind one simulated USB 2.0 hub share one line (README "USB model"); the scheduler
    itself, round-robin and in model time, is tests/unit/test-sim-hub.c."""

    RATE = 53.2
    KEYS = "rate=53.2,latency-us=125,hub=h,handshake-window=0"

    def line(self, s, phone):
        st = s.stats(phone)
        return {k: float(v) for k, v in st.items() if k.startswith(("line_", "hub_"))}, st

    def test_keys_must_match(self):
        for phones, what in ((["id=a,%s" % self.KEYS, "id=b,rate=40,latency-us=125,hub=h"], "same keys"),
                             (["id=a,%s" % self.KEYS, "id=b,rate=53.2,hub=h"], "same keys"),
                             (["id=a,hub=h"], "needs the line's rate")):
            cmd = [MTKSIM]
            for p in phones:
                cmd += ["--phone", p]
            env = dict(os.environ, ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1:abort_on_error=1",
                       LSAN_OPTIONS="suppressions=" + os.path.join(TOP, "tests", "lsan.supp"))  # as Sim does
            r = subprocess.run(cmd + ["--", "/bin/true"], capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(what, r.stderr)
        s = self.sim("id=a," + self.KEYS)
        for kv in ("rate=10", "latency-us=0", "hub=other"):
            self.assertIn("fixed at add", s.control_raw("set a " + kv))
        self.assertEqual(s.stats("a")["hub"], "h")

    def test_alone_each_at_line_rate(self):
        s = self.sim("id=a," + self.KEYS, "id=b," + self.KEYS)
        for port in (1, 2):
            r = s.usb("flood", ports=[port], bytes=1 << 20)
            self.assertTrue(r["ok"], r["error"])
        for phone in ("a", "b"):
            line, st = self.line(s, phone)
            self.assertEqual(line["line_bytes"], 1 << 20)
            # alone on the line: exactly its bytes' line time (µs rounding)
            self.assertAlmostEqual(line["line_us"], (1 << 20) / self.RATE, delta=2)
        self.assertEqual(line["hub_bytes"], 2 << 20)
        self.assertAlmostEqual(line["hub_busy_us"], (2 << 20) / self.RATE, delta=2)
        self.assertEqual((line["hub_shared_us"], line["hub_max_phones"], line["hub_phones"]), (0, 1, 2))

    def test_two_at_once_share_one_line(self):
        # Both phones' transfers are submitted together (a barrier in the probe); whether they met on the
        # line is the hub's own record (hub_shared_us), and the assertions hold for whatever it records.
        # A machine stalling one thread for the whole 600 ms of the other's transfer gets four more tries
        # (a loaded 2-core machine stalled a thread past 150 ms three times in a row).
        n = 32 << 20
        for attempt in range(5):
            s = Sim("id=a," + self.KEYS, "id=b," + self.KEYS)
            try:
                r = s.usb("flood", ports=[1, 2], bytes=n)
                self.assertTrue(r["ok"], r["error"])
                a, _ = self.line(s, "a")
                b, _ = self.line(s, "b")
            finally:
                rc, out = s.close()
                self.assertEqual(rc, 0, out[-3000:])
            if a["hub_shared_us"] > 0:
                break
        self.assertGreater(a["hub_shared_us"], 0, "the two transfers never met on the line in five tries")
        self.assertEqual((a["line_bytes"], b["line_bytes"], a["hub_bytes"]), (n, n, 2 * n))
        # one budget: the line carried both phones' bytes at no more than its rate ...
        self.assertAlmostEqual(a["hub_busy_us"], 2 * n / self.RATE, delta=2)
        # ... while each phone's transfer was on it, it got at most the line, and while both were, half:
        # the time each spent on the line adds up to the busy time plus the shared time counted twice
        for x in (a, b):
            self.assertGreaterEqual(x["line_us"], n / self.RATE - 2)
        self.assertAlmostEqual(a["line_us"] + b["line_us"], a["hub_busy_us"] + a["hub_shared_us"], delta=2)
        # round robin: the one that came second was not held back until the first's 8 MiB were through
        # (then they would never have shared), and the shared stretch was split evenly: equal transfers,
        # so what the first carried alone before equals what the second carried alone after, and each
        # spent the same time on the line
        self.assertAlmostEqual(a["line_us"], b["line_us"], delta=2)


class TestUsbSpeed(SimTestCase):

    def test_full_speed_brom_switches(self):
        s = self.sim("id=p,mode=brom,start=da,boot-delay=50")
        r = s.open()
        self.assertEqual((r["pid"], r["speed"]), (PID_BROM, "full"))
        self.assertEqual(s.exchange(b"\x72", 2), b"\x5a\x00")
        s.write(b"\x70")
        s.write(b"\x01")
        self.assertEqual(s.read(), b"\x5a")
        st = s.wait("p", "phase=da", "enumerations=2")
        self.assertEqual((st["usb"], st["resets"], st["handshakes"]), ("high", "0", "0"))
        self.assertEqual(s.control("list").split(), ["p:1-1:plugged"])
        r = s.open()
        self.assertEqual((r["pid"], r["speed"]), (PID_PRELOADER, "high"))
        self.assertEqual(s.exchange(b"\x72", 2), b"\x5a\x01")

    def test_keys(self):
        s = self.sim("id=p,start=da", "id=q,start=da,usb-speed=0")
        s.open(1)
        self.assertEqual(s.exchange(b"\x72", 2), b"\x5a\x01")
        s.open(2)
        self.assertEqual(s.exchange(b"\x72", 2), b"\x5a\x00")


class TestFaults(SimTestCase):

    def test_out_stall(self):
        s = self.sim("id=p,start=da,fault=out-stall:2")
        s.open()
        for _ in range(2):
            r = s.usb("write", data="72")
            self.assertEqual(r["error"], "LIBUSB_ERROR_PIPE")
        self.assertTrue(s.usb("clear_halt", ep=0x01)["ok"])
        self.assertEqual(s.exchange(b"\x72", 2), b"\x5a\x01")
        st = s.stats("p")
        self.assertEqual((st["out_stalls"], st["clear_halts"]), ("2", "1"))

    def test_absent_opcodes(self):
        s = self.sim("id=p,handshake-window=0,absent=0xd8,0xe1")
        s.open()
        s.handshake()
        s.write(b"\xd8")
        self.assertTrue(s.silent())
        s.write(b"\xfd")
        self.assertEqual(s.read_n(5), b"\xfd\x03\x21\x00\x00")

    def test_mt2601_is_iot(self):
        s = self.sim("id=p,chip=mt2601,handshake-window=0")
        s.open()
        s.handshake()
        self.assertEqual(s.exchange(b"\xfd", 5), b"\xfd\x26\x01\x00\x00")
        for op in (b"\xfc", b"\xe1"):
            s.write(op)
            self.assertTrue(s.silent())


class TestDaKeys(SimTestCase):

    def test_read_ack_after_size(self):
        s = self.sim("id=p,start=da,read-ack=after-size")
        s.open()
        s.write(b"\x60")
        self.assertEqual(s.read(), b"\x5a")
        s.write(b"\x08")
        self.assertEqual(s.read(), b"\x5a")
        s.write(b"\xd6\x0c\x02" + struct.pack(">QQ", 0, 0x200))
        self.assertTrue(s.silent())            # early would have answered here
        s.write(be32(0x100000))
        self.assertEqual(s.read(), b"\x5a")
        self.assertEqual(len(s.read(0x200)), 0x200)

    def start_read(self, keys, length):
        """A DA phone at READ D6 of length bytes from address 0 (the
        region 60 08 picks), past its 5A: the data is next."""
        s = self.sim("id=p,start=da," + keys)
        s.open()
        s.write(b"\x60")
        self.assertEqual(s.read(), b"\x5a")
        s.write(b"\x08")
        self.assertEqual(s.read(), b"\x5a")
        s.write(b"\xd6\x0c\x02" + struct.pack(">QQ", 0, length))
        self.assertEqual(s.read(), b"\x5a")
        s.write(be32(0x100000))
        return s

    def checksum(self, data):
        return struct.pack(">H", sum(data) & 0xffff)

    def test_read_split_short(self):
        s = self.start_read("read-split=1000", 4096)
        pieces = [s.read(4096) for _ in range(5)]
        self.assertEqual([len(p) for p in pieces], [1000, 1000, 1000, 1000, 96])
        self.assertEqual(s.read(4096), self.checksum(b"".join(pieces)))   # its own transfer

    def test_read_split_333_on_small_transfers(self):
        s = self.start_read("read-split=333", 1000)
        # a 512-byte transfer: 333 is one short packet, never joined with the next piece
        pieces = [s.read(512) for _ in range(4)]
        self.assertEqual([len(p) for p in pieces], [333, 333, 333, 1])
        self.assertEqual(s.read(512), self.checksum(b"".join(pieces)))

    def test_read_split_full_packets_get_a_zlp(self):
        s = self.start_read("read-split=1024", 4096)
        # a transfer longer than the piece ends at the piece (its ZLP) ...
        self.assertEqual(len(s.read(4096)), 1024)
        # ... one exactly as long completes full, and the ZLP then completes the next empty
        self.assertEqual(len(s.read(1024)), 1024)
        self.assertEqual(s.read(1024), b"")
        self.assertEqual(len(s.read(2048)), 1024)
        self.assertEqual(len(s.read(4096)), 1024)
        self.assertEqual(len(s.read(4096)), 2)                            # the checksum

    def test_read_zlp(self):
        s = self.start_read("read-zlp=1", 0x400)
        data = s.read(0x400)
        self.assertEqual(len(data), 0x400)
        self.assertEqual(s.read(512), b"")                                # the ZLP
        self.assertEqual(s.read(512), self.checksum(data))
        s.write(b"\x5a")
        self.assertTrue(s.silent())

    def test_read_default_is_one_stream(self):
        s = self.start_read("", 4096)
        data = s.read(4096)
        self.assertEqual(len(data), 4096)
        self.assertEqual(s.read(512), self.checksum(data))

    def test_config_split(self):
        s = self.sim("id=p,handshake-window=0,da-config=split,watchdog-ms=0")
        status, _ = self.to_da2(s)
        self.assertEqual(status, bytes(4))
        s2 = self.sim("id=q,handshake-window=0,da-config=split,watchdog-ms=0")
        s2.open()
        s2.handshake()
        s2.send_da(bytes(0x200))
        s2.jump_da()
        s2.da1_sync()
        s2.write(b"".join(CONFIG_FIELDS))   # one transfer: the DA hangs
        self.assertTrue(s2.silent())
        st = s2.stats("q")
        self.assertEqual((st["phase"], st["da1_stop"]), ("da1-stopped", "config-split"))

    def test_dram_delay(self):
        s = self.sim("id=p,handshake-window=0,dram-delay=300,watchdog-ms=0")
        status, late = self.to_da2(s)
        self.assertEqual(status, bytes(4))
        self.assertGreaterEqual(late, 0.29)

    def test_mt6592(self):
        tail = [be32(0)]
        s = self.sim("id=p,chip=mt6592,handshake-window=0,watchdog-ms=0")
        fields = list(CONFIG_FIELDS)
        fields[6] = be32(0x1500000)
        status, _ = self.to_da2(s, fields, tail)
        self.assertEqual(status, bytes(4))
        self.assertEqual(s.read_n(20), bytes(20))    # the five extra words
        s2 = self.sim("id=q,chip=mt6592,handshake-window=0,watchdog-ms=0")
        status, _ = self.to_da2(s2, CONFIG_FIELDS, tail)   # BMT size 0
        self.assertEqual(status, be32(0xbb8))
        self.assertEqual(s2.stats("q")["da1_stop"], "bmt-size")

    def test_send_da_checksum_and_slow(self):
        payload = bytes(range(256)) * 2
        for mode, want in (("right", xor16(payload)), ("zero", 0), ("wrong", xor16(payload) ^ 0xffff)):
            s = self.sim("id=p,handshake-window=0,watchdog-ms=0,send-da-checksum=" + mode)
            s.open()
            s.handshake()
            checksum, status2 = s.send_da(payload)
            self.assertEqual((checksum, status2), (want, b"\x00\x00"), mode)
            self.finish(s)
        s = self.sim("id=p,handshake-window=0,watchdog-ms=0,slow-ms=200")
        s.open()
        s.handshake()
        s.write(b"\xd7")
        s.read()
        for v in (0x200000, len(payload), 0x100):
            s.exchange(be32(v), 4)
        s.read_n(2)
        s.write(payload)
        s.read_n(2)                            # the checksum is not late
        t0 = time.monotonic()
        self.assertEqual(s.read_n(2), b"\x00\x00")
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)
        t0 = time.monotonic()
        self.assertEqual(s.jump_da(), b"\x00\x00")
        self.assertEqual(s.read(), b"\xc0")
        self.assertGreaterEqual(time.monotonic() - t0, 0.39)  # status, then C0, each 200 ms

    def report(self, s, packets):
        """The DA2 report as the packets it came in."""
        return [s.read(512) for _ in range(packets)]

    def test_da2_settle_and_report(self):
        s = self.sim("id=p,handshake-window=0,watchdog-ms=0,da2-settle=300,soc-ok=ab,nand-ids=3")
        self.to_da2(s)
        self.upload_da2(s)                     # the final 5A at once: lost
        self.assertTrue(s.silent(100))
        self.assertEqual(s.stats("p")["phase"], "da2-upload")
        time.sleep(0.3)                        # the host's pause the DA needs (da.md 2.7), not a wait
        s.write(b"\x5a")
        self.assertEqual(s.read(), b"\x5a")
        packets = self.report(s, 8)
        self.assertEqual([len(p) for p in packets], [0x1c, 0x11, 6, 9, 0x5c, 0x1c, 0x26, 0x0a])
        self.assertEqual(packets[1][0x0f:0x11], b"\x00\x03")
        self.assertEqual(packets[-1][-1:], b"\xab")
        self.assertEqual(s.stats("p")["phase"], "da")

    def test_report_32bit_nand_and_extra_word(self):
        s = self.sim("id=p,chip=mt8127,handshake-window=0,watchdog-ms=0,nand-ids=0")
        self.to_da2(s, CONFIG_FIELDS, [be32(0), be32(1), bytes(20)])
        self.upload_da2(s)
        self.assertEqual(s.read(), b"\x5a")
        packets = self.report(s, 9)
        self.assertEqual([len(p) for p in packets], [0x1c, 0x11, 10, 9, 0x5c, 0x1c, 0x26, 4, 0x0a])
        nand = packets[1] + packets[2]
        self.assertEqual(struct.unpack(">H", nand[0x0b:0x0d])[0], 7)    # the count of the 32-bit layout
        self.assertEqual(nand[0x0f:0x11], b"\x00\x00")                  # where the 64-bit layout has it
        self.assertEqual(packets[-1], b"\x5a" + bytes(8) + b"\xc1")


# ------------------------------------------------------------------ BROM mode: DRAM settings (brom-emi.md 6)

ME_ID = "00112233445566778899aabbccddeeff"
# the eMMC CID the simulator derives from the ME ID (README "What the reference left open")
CID = bytes.fromhex("150100") + b"8GND3R" + bytes.fromhex("10") + bytes.fromhex(ME_ID)[:4] + bytes.fromhex("9b01")
OTHER_CID = bytes.fromhex("90014a4842473461320000000000000000")[:16]   # SK hynix "HBG4a2" (brom-emi.md 4.1)


def be64(v):
    return struct.pack(">Q", v)


class TestBromEmi(SimTestCase):
    """A legacy DA1 started from BROM (no preloader ran): DRAM status 0xBC3, the memory id, ENABLE_DRAM
    E8 and the version's length exchange, the records, the checksum and the DRAM result, each field its
    own packet (brom-emi.md 6.1, 6.2, 11.1); then the DA2 upload as in preloader mode. The host side
    here is written from brom-emi.md, not from the daemon."""

    KEYS = "mode=brom,watchdog-ms=0,me-id=" + ME_ID

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mtksim-emi-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def preloader(self, name, records, **kw):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(mkpreloader.build(name=name, records=records, **kw))
        return path

    def to_emi(self, s, port=1, config=CONFIG_FIELDS, tail=()):
        """BROM handshake, SEND_DA, JUMP_DA, DA1 sync, config; returns the CID of the sync and the
        packets after the configuration block (status 0xBC3 and section 6.1)."""
        r = s.open(port)
        self.assertEqual((r["pid"], r["speed"]), (PID_BROM, "full"))
        s.handshake(preloader=False)
        s.send_da(bytes(range(256)) * 2)
        self.assertEqual(s.jump_da(), b"\x00\x00")
        self.assertEqual(s.read(), b"\xc0")
        sync = [s.read() for _ in range(1 + 1 + 4 + 1 + 4)]
        cid = b"".join(sync[-4:])
        s.write(b"\x5a")
        self.assertEqual([s.read() for _ in range(3)], [b"\x04", b"\x00", b"\x00"])
        for f in list(config) + list(tail):
            s.write(f)
        after = [s.read() for _ in range(1 + 1 + 1 + 1 + 1 + 4)]
        return cid, after

    def enable_dram(self, s, version, answer=b"\x5a"):
        s.write(b"\xe8")
        s.write(be32(0xffffffff if version == 0 else version))
        self.assertEqual(s.read(), answer)

    def send_records(self, s, records, length=None, pieces=(100,)):
        """Row 9 of the v15-v21 branch and rows 10-13: the DA's RAM length was read already."""
        s.write(b"\x5a")
        s.write(be32(len(records) if length is None else length))
        off, i = 0, 0
        while off < len(records):
            n = pieces[i % len(pieces)]
            s.write(records[off:off + n])
            off, i = off + n, i + 1
        self.assertEqual(s.read(), struct.pack(">H", sum(records) & 0xffff))
        s.write(b"\x5a")
        s.write(be32(0x80000001))
        return [s.read() for _ in range(4)]

    def test_whole_exchange_then_da2(self):
        path = self.preloader("preloader_sim.bin", [(0x0203, OTHER_CID[:9]), (0x0203, CID[:9]), (0x0203, b"")])
        _, _, records = mkpreloader.extract_records(open(path, "rb").read())
        self.assertEqual(len(records), 3 * 188)
        s = self.sim("id=p,%s,preloader=%s" % (self.KEYS, path))
        cid, after = self.to_emi(s)
        self.assertEqual(cid, CID)
        # 6.1: 0xBC3, u32 0, the memory id (default: the CID as raw bytes), 0xBC4, NAND count 4 + ids
        self.assertEqual(after, [be32(0xbc3), be32(0), CID, be32(0xbc4), b"\x00\x04"] + [b"\x00\x00"] * 4)
        self.assertEqual(s.stats("p")["phase"], "da1-need-emi")
        self.enable_dram(s, 20)
        self.assertEqual(s.read(), be32(188))              # "RAM length": one v20 record
        self.assertEqual(s.stats("p")["phase"], "da1-emi")
        result = self.send_records(s, records, pieces=(1, 63, 64, 200))   # split anyhow
        self.assertEqual(result, [be32(0), b"\x02", b"\x00", be64(0xc0000000)])
        st = s.stats("p")
        self.assertEqual((st["phase"], st["emi_version_sent"], st["emi_bytes"], st["dram"]),
                         ("da2-upload", "20", str(len(records)), "up"))
        self.assertIn("0xe8", st["commands"].split(","))
        # da.md 2.7 as in preloader mode, then the DA2 report
        self.upload_da2(s)
        self.assertEqual(s.read(), b"\x5a")
        self.assertEqual([len(p) for p in (s.read() for _ in range(8))], [0x1c, 0x11, 14, 9, 0x5c, 0x1c, 0x26, 0x0a])
        self.assertEqual(s.exchange(b"\x72", 2), b"\x5a\x00")    # full-speed BROM link
        self.assertEqual(s.stats("p")["phase"], "da")

    def test_version_refused_then_accepted(self):
        s = self.sim("id=p,chip=mt6580," + self.KEYS, "id=q,emi-version=21," + self.KEYS)
        # MT6580's configuration tail (da.md 2.5): u32 slc_percent, 20 bytes
        self.assertEqual(self.to_emi(s, tail=[be32(1), b"FF" + bytes(14) + b"\xff" + bytes(3)])[1][0], be32(0xbc3))
        self.assertEqual(s.stats("p")["emi_version_sent"], "none")
        self.enable_dram(s, 20, b"\xa5")                   # MT6580 is v21 (brom-emi.md 4.6)
        st = s.stats("p")
        self.assertEqual((st["phase"], st["emi_version_sent"]), ("da1-need-emi", "20"))
        self.enable_dram(s, 21)                            # it waited for another E8
        self.assertEqual(s.read(), be32(188))
        # emi-version= overrides the chip table
        self.to_emi(s, port=2)
        self.enable_dram(s, 20, b"\xa5")
        self.enable_dram(s, 21)
        self.assertEqual(s.read(), be32(188))

    def test_foreign_records_fail_dram(self):
        mine = self.preloader("preloader_mine.bin", [(0x0203, CID[:9])])
        other = self.preloader("preloader_other.bin", [(0x0203, CID[:9])])    # same id, other registers
        _, _, mine_rec = mkpreloader.extract_records(open(mine, "rb").read())
        _, _, records = mkpreloader.extract_records(open(other, "rb").read())
        self.assertNotEqual(records, mine_rec)
        s = self.sim("id=p,%s,preloader=%s" % (self.KEYS, mine))
        self.to_emi(s)
        self.enable_dram(s, 20)
        s.read()
        result = self.send_records(s, records)
        # m_ext_ram_ret 3012; type, chip select and size still come (size 0)
        self.assertEqual(result, [be32(3012), b"\x02", b"\x00", be64(0)])
        st = s.stats("p")
        self.assertEqual((st["phase"], st["da1_stop"], st["dram"]), ("da1-stopped", "dram-failed", "failed"))
        s.write(be32(0x40000000))                          # DA2 upload: nobody answers
        self.assertTrue(s.silent())

    def test_memory_id_rule_without_preloader(self):
        mem = bytes(range(0x40, 0x50))
        match = mkpreloader.build(records=[(0x0203, OTHER_CID[:9]), (0x0203, mem[:9])], form="bare")
        foreign = mkpreloader.build(records=[(0x0203, OTHER_CID[:9]), (0x0000, b"")], form="bare")
        default = mkpreloader.build(records=[(0x0203, OTHER_CID[:9]), (0x0003, b"")], form="bare")
        cases = ((match, "up"), (foreign, "failed"), (default, "up"))
        s = self.sim(*("id=p%d,memory-id=%s,%s" % (i, mem.hex(), self.KEYS) for i in range(len(cases))))
        for i, (image, dram) in enumerate(cases):
            _, after = self.to_emi(s, port=i + 1)
            self.assertEqual(after[2], mem)                # memory-id= is what DA1 reports
            self.enable_dram(s, 20)
            s.read()
            records = mkpreloader.extract_records(image)[2]
            ret = self.send_records(s, records)[0]
            self.assertEqual(ret, be32(0 if dram == "up" else 3012), i)
            self.assertEqual(s.stats("p%d" % i)["dram"], dram)

    def test_preloader_forms_and_bad_files(self):
        recs = [(0x0203, CID[:9])]
        good = {f: self.preloader("pl_%s.bin" % f, recs, form=f, junk=37) for f in ("gfh", "boot", "bare")}
        good["gfh-zero-trailer"] = self.preloader("pl_z.bin", recs, zero_trailer=True)
        s = self.sim("id=p,%s,preloader=%s" % (self.KEYS, good["gfh"]))
        for i, (form, path) in enumerate(sorted(good.items())):
            self.assertTrue(s.control("add id=f%d,port=1-%d,%s,preloader=%s" % (i, i + 5, self.KEYS, path)))
            self.to_emi(s, port=i + 5)
            self.enable_dram(s, 20)
            s.read()
            self.assertEqual(self.send_records(s, mkpreloader.extract_records(open(path, "rb").read())[2])[0],
                             be32(0), form)
        bad = {
            "truncated": self.preloader("t.bin", recs + recs, truncate=0x300 + 0x1000 + 0x70 + 188),
            "count": self.preloader("c.bin", recs, form="bare", count=5),
            "count-0": self.preloader("z.bin", recs, form="bare", count=0),
            "version": self.preloader("v.bin", recs, form="bare", version=8, record_size=66),
            "missing": os.path.join(self.dir, "nothing-here.bin"),
        }
        with open(os.path.join(self.dir, "noise.bin"), "wb") as f:
            f.write(bytes(range(256)) * 16)
        bad["no-block"] = os.path.join(self.dir, "noise.bin")
        for what, path in bad.items():
            reply = s.control_raw("add id=bad-%s,%s,preloader=%s" % (what, self.KEYS, path))
            self.assertTrue(reply.startswith("error"), "%s: %s" % (what, reply))
        self.assertIn("truncated", s.control_raw("add id=x,preloader=" + bad["count"]))
        self.assertIn("MTK_BLOADER_INFO_v", s.control_raw("set p preloader=" + bad["no-block"]))
        for kv in ("memory-id=0011", "emi-version=100", "emi-version=x"):
            self.assertTrue(s.control_raw("set p " + kv).startswith("error"), kv)
        # at start-up: mtksim exits 2
        env = dict(os.environ, ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1:abort_on_error=1",
                   LSAN_OPTIONS="suppressions=" + os.path.join(TOP, "tests", "lsan.supp"))
        r = subprocess.run([MTKSIM, "--phone", "preloader=" + bad["no-block"], "--", "/bin/true"],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("preloader=", r.stderr)

    def test_faults_at_enable_dram(self):
        s = self.sim("id=a,fault=unplug-after-cmd:0xe8," + self.KEYS, "id=b,fault=stall@0xe8," + self.KEYS,
                     "id=c,fault=nack@0xe8," + self.KEYS, "id=d," + self.KEYS)
        self.to_emi(s, port=1)
        s.write(b"\xe8")
        self.assertEqual(s.wait("a", "phase=gone")["plugged"], "0")
        self.to_emi(s, port=2)
        s.write(b"\xe8")
        s.write(be32(20))
        self.assertTrue(s.silent())
        self.assertEqual(s.stats("b")["phase"], "da1-need-emi")
        self.to_emi(s, port=3)
        self.enable_dram(s, 20, b"\xa5")                   # the fault's NACK, once
        self.enable_dram(s, 20)
        # a cable pulled in the middle of the records
        self.to_emi(s, port=4)
        self.enable_dram(s, 20)
        s.read()
        s.write(b"\x5a")
        s.write(be32(2 * 188))
        s.control("fault d unplug-after-bytes:%d" % (int(s.stats("d")["bytes_in"]) + 200))
        s.write(bytes(100))
        s.write(bytes(100))
        st = s.wait("d", "phase=gone")
        self.assertEqual((st["emi_bytes"], st["dram"]), ("100", "none"))

    def test_protocol_errors_stop_da1(self):
        s = self.sim(*("id=p%d,%s" % (i, self.KEYS) for i in range(3)))
        self.to_emi(s, port=1)
        s.write(be32(0x40000000))                          # no E8: straight to the DA2 upload
        self.assertTrue(s.silent())
        self.assertEqual(s.stats("p0")["da1_stop"], "emi-expected")
        for port, length in ((2, 100), (3, 65 * 188)):      # not whole records / more than 64
            self.to_emi(s, port=port)
            self.enable_dram(s, 20)
            s.read()
            s.write(b"\x5a")
            s.write(be32(length))
            self.assertTrue(s.silent())
            self.assertEqual(s.stats("p%d" % (port - 1))["da1_stop"], "emi-length")

    def test_v13_branch(self):
        # MT8127 (v13): the DA's L, the host's 5A, the first L bytes with the first u32 = 00 00 01 00,
        # and five more words after the RAM size (brom-emi.md 6.2 rows 9, 15)
        path = self.preloader("preloader_v13.bin", [(0x0203, CID[:9]), (0x0203, b"")], version=13)
        records = mkpreloader.extract_records(open(path, "rb").read())[2]
        s = self.sim("id=p,chip=mt8127,%s,preloader=%s" % (self.KEYS, path),
                     "id=q,chip=mt8127,%s,preloader=%s" % (self.KEYS, path))
        tail = [be32(0), be32(1), bytes(20)]
        for port, head, ret in ((1, b"\x00\x00\x01\x00", 0), (2, records[:4], 3012)):
            self.to_emi(s, port=port, tail=tail)
            self.enable_dram(s, 13)
            self.assertEqual(s.read(), be32(188))
            s.write(b"\x5a")
            cut = head + records[4:188]
            s.write(cut)
            self.assertEqual(s.read(), struct.pack(">H", sum(cut) & 0xffff))
            s.write(b"\x5a")
            s.write(be32(0x80000001))
            self.assertEqual(s.read(), be32(ret))
            self.assertEqual([s.read() for _ in range(3)], [b"\x02", b"\x00", be64(0xc0000000 if ret == 0 else 0)])
            self.assertEqual([s.read() for _ in range(5)], [bytes(4)] * 5)
        self.assertEqual(s.stats("p")["phase"], "da2-upload")
        self.assertEqual(s.stats("q")["da1_stop"], "dram-failed")

    def test_v00_branch(self):
        # MT8173 (v00): the version travels as FFFFFFFF; the DA's L comes back from the host
        path = self.preloader("preloader_v00.bin", [(0x0205, CID[:9])], version=0)
        records = mkpreloader.extract_records(open(path, "rb").read())[2]
        s = self.sim("id=p,chip=mt8173,%s,preloader=%s" % (self.KEYS, path))
        self.to_emi(s)
        s.write(b"\xe8")
        s.write(be32(0))                                   # a literal 0 is not how version 0 is sent
        self.assertEqual(s.read(), b"\xa5")
        self.enable_dram(s, 0)
        self.assertEqual(s.read(), be32(140))
        s.write(b"\x5a")
        s.write(be32(140))
        s.write(records[:140])
        self.assertEqual(s.read(), struct.pack(">H", sum(records[:140]) & 0xffff))
        s.write(b"\x5a")
        s.write(be32(0x80000001))
        self.assertEqual([s.read() for _ in range(4)], [be32(0), b"\x02", b"\x00", be64(0xc0000000)])
        st = s.stats("p")
        self.assertEqual((st["phase"], st["emi_version_sent"], st["emi_bytes"]), ("da2-upload", "0", "140"))

    def test_no_branch_refuses(self):
        # MT6765 (v35) has no legacy branch (brom-emi.md 6.2 "other versions"): every E8 is refused; its
        # own DA is XFlash (TestXFlash), so the legacy DA is asked for
        s = self.sim("id=p,chip=mt6765,da-protocol=legacy," + self.KEYS)
        self.to_emi(s)
        self.enable_dram(s, 35, b"\xa5")
        self.assertEqual(s.stats("p")["phase"], "da1-need-emi")


# ------------------------------------------------------------------ the XFlash (V5) DA

XF_MAGIC = 0xFEEEEEEF
SYNC = 0x434E5953
CMD_READ, CMD_WRITE, CMD_SHUTDOWN, CMD_BOOT_TO, CMD_DEVCTRL, CMD_EMI, CMD_SPEED = (
    0x010005, 0x010004, 0x010007, 0x010008, 0x010009, 0x01000A, 0x01000B)
GET_EMMC, GET_NAND, GET_NOR, GET_UFS, GET_DA_VER, GET_PKT, GET_RND = (
    0x040001, 0x040002, 0x040003, 0x040004, 0x040005, 0x040007, 0x040008)
GET_AGENT, GET_SPEED, GET_RAM, GET_CHIP, GET_EXPIRE, GET_SLA = 0x04000A, 0x04000B, 0x04000C, 0x04000D, 0x040011, 0x040016
SET_CHECKSUM, SET_RESET_KEY = 0x020003, 0x020004
NVRAM_OFF, NVRAM_LEN = 0x33600000, 0x4000000        # the MT6765 scatter of ../shared/corpus


def u32(v):
    return struct.pack("<I", v)


class XfHost:
    """The host side of xflash.md, written from it: each header and each payload its own OUT transfer
    (2.3); IN read as a 12-byte header, then the payload in one read of its length."""

    def __init__(self, test, s):
        self.t, self.s = test, s

    def send(self, payload):
        self.s.write(struct.pack("<III", XF_MAGIC, 1, len(payload)))
        if payload:
            self.s.write(payload)

    def packet(self, timeout=10000):
        h = self.s.read(512, timeout)
        self.t.assertEqual(len(h), 12, "a header is its own packet: %s" % h.hex())
        magic, dtype, n = struct.unpack("<III", h)
        self.t.assertEqual((magic, dtype), (XF_MAGIC, 1), h.hex())
        data = b""
        while len(data) < n:
            data += self.s.read(min(n - len(data), 0x100000), timeout)
        self.t.assertEqual(len(data), n)
        return data

    def status(self):
        d = self.packet()
        self.t.assertEqual(len(d), 4, d.hex())
        return struct.unpack("<I", d)[0]

    def cmd(self, c, expect=0):
        self.send(u32(c))
        self.t.assertEqual(hex(self.status()), hex(expect), "command 0x%06x" % c)

    def getter(self, code):
        self.cmd(CMD_DEVCTRL)
        self.send(u32(code))
        self.t.assertEqual(self.status(), 0, "code 0x%06x" % code)
        data = self.packet()
        self.t.assertEqual(self.status(), 0)
        return data

    def setter(self, code, value):
        self.cmd(CMD_DEVCTRL)
        self.send(u32(code))
        self.t.assertEqual(self.status(), 0)
        self.send(u32(value))
        return self.status()

    def unsupported(self, code):
        self.cmd(CMD_DEVCTRL)
        self.send(u32(code))
        self.t.assertEqual(hex(self.status()), hex(0xC0010004))

    def block(self, storage, region, addr, length):
        return struct.pack("<IIQQ", storage, region, addr, length) + bytes(32)

    def read(self, addr, length, storage=1, region=8, chunk=0x100000):
        self.cmd(CMD_READ)
        self.send(self.block(storage, region, addr, length))
        self.t.assertEqual(self.status(), 0)
        self.t.assertEqual(self.status(), 0)
        out = b""
        while len(out) < length:
            data = self.packet()
            self.t.assertEqual(len(data), min(chunk, length - len(out)))
            out += data
            self.send(u32(0))
            self.t.assertEqual(self.status(), 0)
        return out

    def write(self, addr, data, storage=1, region=8, chunk=0x100000):
        self.cmd(CMD_WRITE)
        self.send(self.block(storage, region, addr, len(data)))
        self.t.assertEqual(self.status(), 0)
        for off in range(0, len(data), chunk):
            piece = data[off:off + chunk]
            self.send(u32(0))
            self.send(u32(sum(piece) & 0xFFFF))
            self.send(piece)
            self.t.assertEqual(self.status(), 0)
        self.t.assertEqual(self.status(), 0)     # the final status (11 row 9)


class TestXFlash(SimTestCase):
    """The XFlash personality of an XFlash chip's DA (xflash.md 18), driven byte by byte as section 16
    lists it, with a DA file from tests/tools/mkda.py (xflash=1 entries: no MediaTek binary)."""

    # the later phones of a test wait for their handshake (no 2.5 s window to miss under load)
    KEYS = "watchdog-ms=0,handshake-window=0,me-id=" + ME_ID

    @classmethod
    def setUpClass(cls):
        e = mkda.parse_entry("dacode=0x6765,xflash=1")
        data = mkda.build([e])
        regions = [struct.unpack_from("<IIIII", data, 0x6C + 0x14 + 20 * k) for k in range(3)]
        cls.da1 = data[regions[1][0]:regions[1][0] + regions[1][1]]
        cls.da2 = data[regions[2][0]:regions[2][0] + regions[2][1] - regions[2][4]]   # without its signature

    def to_da1(self, s, brom=False, port=1):
        r = s.open(port)
        self.assertEqual((r["pid"], r["speed"]), (PID_BROM, "full") if brom else (PID_PRELOADER, "high"))
        s.handshake(preloader=not brom)
        s.send_da(self.da1)
        self.assertEqual(s.jump_da(), b"\x00\x00")
        self.assertEqual(s.read(timeout=10000), b"\xc0")                    # 6.1 row 1
        x = XfHost(self, s)
        x.send(u32(SYNC))
        x.send(u32(0x010100))
        x.send(u32(2) + u32(1) + u32(1) + u32(0) + u32(0))
        self.assertEqual(x.status(), 0)
        x.send(u32(0x010101))
        x.send(u32(0))
        self.assertEqual(x.status(), 0)
        self.assertEqual(x.packet(), b"SYNC")                                # 6.1 row 9
        return x

    def boot_da2(self, x, image=None, expect=(0, SYNC)):
        image = self.da2 if image is None else image
        x.cmd(CMD_BOOT_TO)
        x.send(struct.pack("<QQ", 0x40000000, len(image)))
        x.send(image)
        self.assertEqual(hex(x.status()), hex(expect[0]))
        if len(expect) > 1:
            self.assertEqual(hex(x.status()), hex(expect[1]))

    def test_da1_startup_and_its_getters(self):
        s = self.sim("id=p,chip=mt6765," + self.KEYS)
        x = self.to_da1(s)
        st = s.stats("p")
        self.assertEqual((st["phase"], st["da_protocol"], st["xf_stage"]), ("xflash-da1", "xflash", "da1"))
        x.unsupported(GET_EXPIRE)                                           # 6.3 row 1
        self.assertEqual(x.setter(SET_RESET_KEY, 0x68), 0)
        self.assertEqual(x.setter(SET_CHECKSUM, 0), 0)
        self.assertEqual(x.getter(GET_AGENT), b"preloader")
        self.assertEqual(x.getter(GET_PKT), u32(0x100000) * 2)
        emmc = x.getter(GET_EMMC)
        self.assertEqual(len(emmc), 0x68)
        self.assertEqual(struct.unpack_from("<IIQQQ", emmc), (1, 0x200, 0x400000, 0x400000, 0x1000000))
        self.assertEqual(struct.unpack_from("<Q", emmc, 0x40)[0], 0x3A3E00000)
        self.assertEqual(emmc[0x48:0x58], CID)
        self.assertEqual(x.getter(GET_UFS), bytes(0xC8))                    # an eMMC phone: type 0
        self.assertEqual(x.getter(GET_SPEED), b"high-speed")
        x.unsupported(GET_CHIP)                                             # a DA2 getter
        x.cmd(0x010010 + 0x100, 0xC0010003)                                 # unknown major command
        x.cmd(CMD_READ, 0xC001000B)                                         # DA2 only
        st = s.stats("p")
        self.assertEqual((st["xf_reset_key"], st["xf_checksum_level"], st["xf_last_ctrl"]),
                         ("0x68", "0", "0x04000d"))
        self.assertIn("0x040011", st["commands"].split(","))

    def test_da2_getters_gpt_and_foreign_boot_to(self):
        s = self.sim("id=p,chip=mt6765," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        self.assertEqual(s.stats("p")["phase"], "xflash-da2")
        self.assertEqual(x.getter(GET_SLA), u32(0))
        lengths = [len(x.getter(c)) for c in (GET_RAM, GET_EMMC, GET_NAND, GET_NOR, GET_UFS, GET_CHIP, GET_DA_VER,
                                               GET_RND, GET_SPEED)]
        self.assertEqual(lengths, [48, 0x68, 45, 16, 0xC8, 10, 3, 16, 10])        # 16.1 row 25
        self.assertEqual(x.getter(GET_CHIP), bytes.fromhex("6607008a00ca00000000"))
        self.assertEqual(struct.unpack("<6Q", x.getter(GET_RAM))[3:], (1, 0x40000000, 0xC0000000))
        # 15.2: the GPT at the start of USER, CRC-correct, with the identity partitions of the MT6765 layout
        gpt = x.read(0, 0x8000)
        self.assertEqual(gpt[0x1FE:0x200], b"\x55\xaa")
        hdr = gpt[0x200:0x400]
        self.assertEqual(hdr[:8], b"EFI PART")
        self.assertEqual(struct.unpack_from("<Q", hdr, 40)[0], 64)                 # first usable LBA
        crc = struct.unpack_from("<I", hdr, 16)[0]
        import zlib
        self.assertEqual(zlib.crc32(hdr[:16] + bytes(4) + hdr[20:92]), crc)
        entries = gpt[0x400:0x400 + 128 * 128]
        self.assertEqual(zlib.crc32(entries), struct.unpack_from("<I", hdr, 88)[0])
        parts = {}
        for i in range(128):
            e = entries[128 * i:128 * i + 128]
            if any(e[:16]):
                name = e[56:].decode("utf-16-le").rstrip("\x00")
                first, last = struct.unpack_from("<QQ", e, 32)
                parts[name] = (first * 512, (last + 1 - first) * 512)
        self.assertEqual(parts["nvram"], (NVRAM_OFF, NVRAM_LEN))
        for name in ("nvcfg", "nvdata", "protect1", "protect2", "proinfo", "persist"):
            self.assertIn(name, parts)
        head = x.read(NVRAM_OFF, 0x200)
        self.assertTrue(head.startswith(b"MTKSIM p nvram"), head[:32])
        # 9.5: a stock DA2 runs no code it did not sign; it stays in its loop
        self.boot_da2(x, b"\x00" * 0x402C, expect=(0xC0070004,))
        self.assertEqual(x.getter(GET_SLA), u32(0))
        st = s.stats("p")
        self.assertEqual((st["reads"], st["read_bytes"], st["xf_boot_refused"]), ("2", str(0x8200), "1"))

    def test_write_then_read_back_and_refusals(self):
        s = self.sim("id=p,chip=mt6761,xf-write-packet=0x800,xf-read-packet=0x600," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        self.assertEqual(x.getter(GET_PKT), u32(0x800) + u32(0x600))
        data = bytes((i * 7 + 3) & 0xFF for i in range(0x1400))
        x.write(NVRAM_OFF + 0x200, data, chunk=0x800)
        self.assertEqual(x.read(NVRAM_OFF + 0x200, len(data), chunk=0x600), data)
        st = s.stats("p")
        self.assertEqual((st["writes"], st["write_bytes"], st["last_cmd"]), ("1", str(len(data)), "0x010005"))
        # a wrong checksum: 0xC0040003 and the write ends (11, [SIM])
        x.cmd(CMD_WRITE)
        x.send(x.block(1, 8, NVRAM_OFF, 0x200))
        self.assertEqual(x.status(), 0)
        x.send(u32(0))
        x.send(u32(1))
        x.send(bytes(0x200))
        self.assertEqual(hex(x.status()), hex(0xC0040003))
        self.assertEqual(x.read(NVRAM_OFF + 0x200, 0x200, chunk=0x600), data[:0x200])      # nothing written
        # out of range: beyond USER, a region it does not have, a UFS block on eMMC
        for blk in (x.block(1, 8, 0x3A3E00000 - 0x200, 0x400), x.block(1, 5, 0, 0x200), x.block(0x30, 3, 0, 0x200),
                    x.block(1, 8, 0, 0)):
            for c in (CMD_READ, CMD_WRITE):
                x.cmd(c)
                x.send(blk)
                self.assertEqual(hex(x.status()), hex(0xC004000B))
        x.unsupported(0x800005)              # mtkclient's CC_OPTIONAL_DOWNLOAD_ACT after a write (4.2)
        self.assertEqual(x.getter(GET_SLA), u32(0))
        # bad-checksum: the data arrives damaged, the DA says so; corrupt-write: it is stored damaged, silently
        s.control("fault p bad-checksum")
        x.cmd(CMD_WRITE)
        x.send(x.block(1, 8, NVRAM_OFF, 0x200))
        self.assertEqual(x.status(), 0)
        x.send(u32(0))
        x.send(u32(0))
        x.send(bytes(0x200))
        self.assertEqual(hex(x.status()), hex(0xC0040003))
        s.control("fault p corrupt-write")
        x.write(NVRAM_OFF + 0x200, bytes(0x200))
        back = x.read(NVRAM_OFF + 0x200, 0x200, chunk=0x600)
        self.assertEqual([i for i in range(0x200) if back[i]], [0x100])
        # unplug-after-da-bytes counts read and written data: the chunk that reaches N is not sent
        s.control("fault p unplug-after-da-bytes:%d" % (int(s.stats("p")["da_bytes"]) + 0x800))
        x.cmd(CMD_READ)
        x.send(x.block(1, 8, 0, 0x1000))
        self.assertEqual((x.status(), x.status()), (0, 0))
        self.assertEqual(len(x.packet()), 0x600)
        x.send(u32(0))
        self.assertEqual(s.wait("p", "phase=gone")["plugged"], "0")

    def test_read_zlp(self):
        s = self.sim("id=p,chip=mt6765,xf-read-zlp=1,xf-read-packet=0x400," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        x.cmd(CMD_READ)
        x.send(x.block(1, 8, 0, 0x800))
        self.assertEqual((x.status(), x.status()), (0, 0))
        for _ in range(2):
            self.assertEqual(len(s.read(12)), 12)
            self.assertEqual(len(s.read(0x4000)), 0x400)      # a longer buffer: the ZLP ends it
            x.send(u32(0))
            self.assertEqual(x.status(), 0)
        self.assertEqual(x.getter(GET_SLA), u32(0))

    def test_one_read_status_and_silent_emi_refusal(self):
        s = self.sim("id=p,chip=mt6765,xf-read-statuses=1," + self.KEYS,
                     "id=q,chip=mt6765,mode=brom,xf-emi-refuse=silent," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        x.cmd(CMD_READ)
        x.send(x.block(1, 8, 0, 0x200))
        self.assertEqual(x.status(), 0)
        self.assertEqual(x.packet()[0x1FE:], b"\x55\xaa")     # the data right after one status
        x.send(u32(0))
        self.assertEqual(x.status(), 0)
        x = self.to_da1(s, brom=True, port=2)
        x.cmd(CMD_EMI)
        block = mkpreloader.block(38, "preloader_other.bin", [(0x0203, CID[:9])])
        x.send(u32(len(block)))
        x.send(block)
        self.assertTrue(s.silent())
        st = s.stats("q")
        self.assertEqual((st["phase"], st["da1_stop"], st["dram"]), ("da1-stopped", "emi-refused", "failed"))

    def test_read_status_before_ack_and_boot_areas(self):
        s = self.sim("id=p,chip=mt6768,xf-read-status=before-ack,xf-read-packet=0x200," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        x.cmd(CMD_READ)
        x.send(x.block(1, 1, 0, 0x400))                    # BOOT1
        self.assertEqual((x.status(), x.status()), (0, 0))
        for _ in range(2):
            self.assertEqual(x.packet(), bytes(0x200))
            self.assertEqual(x.status(), 0)                 # before the host's ack
            x.send(u32(0))
        self.assertEqual(x.getter(GET_SLA), u32(0))

    def test_ufs(self):
        s = self.sim("id=p,chip=mt6785,storage-type=ufs," + self.KEYS)
        x = self.to_da1(s)
        self.assertEqual(x.getter(GET_EMMC), bytes(0x68))                   # 8.1: type 0, full length
        ufs = x.getter(GET_UFS)
        self.assertEqual(len(ufs), 0xC8)
        self.assertEqual(struct.unpack_from("<IIQQQ", ufs), (0x30, 0x1000, 0x400000, 0x400000, 0x3A3E00000))
        serial = ufs[0x3E:0x3E + 24]
        self.assertEqual(serial, bytes.fromhex(ME_ID)[:12].hex().upper().encode())
        self.boot_da2(x)
        gpt = x.read(0, 0x6000, storage=0x30, region=3)                    # LU2, 4096-byte sectors
        self.assertEqual(gpt[0x1FE:0x200], b"\x55\xaa")
        hdr = gpt[0x1000:0x1000 + 92]
        self.assertEqual(hdr[:8], b"EFI PART")
        self.assertEqual(struct.unpack_from("<QQQ", hdr, 40)[0], 8)        # 0x8000 / 4096
        self.assertEqual(struct.unpack_from("<Q", hdr, 72)[0], 2)
        names = [gpt[0x2000 + 128 * i + 56:0x2000 + 128 * i + 128].decode("utf-16-le").rstrip("\x00")
                 for i in range(40)]
        i = names.index("nvram")
        first, last = struct.unpack_from("<QQ", gpt, 0x2000 + 128 * i + 32)
        self.assertEqual((first * 4096, (last + 1 - first) * 4096), (NVRAM_OFF, NVRAM_LEN))
        x.cmd(CMD_READ)
        x.send(x.block(1, 8, 0, 0x200))                                     # eMMC USER on a UFS phone
        self.assertEqual(hex(x.status()), hex(0xC004000B))
        self.assertEqual(s.stats("p")["storage_type"], "ufs")

    def test_old_layout_keys(self):
        s = self.sim("id=p,chip=mt6771,storage-type=ufs,xf-ufs-info=0x34,xf-emmc-info=0x60,xf-ram-info=24,"
                     "xf-da2-sync=zero," + self.KEYS)
        x = self.to_da1(s)
        self.assertEqual(len(x.getter(GET_EMMC)), 0x60)
        ufs = x.getter(GET_UFS)
        self.assertEqual((len(ufs), ufs[0x20:0x2F]), (0x34, b"KM2V8001CM-B707"))
        self.boot_da2(x, expect=(0, 0))
        self.assertEqual(struct.unpack("<6I", x.getter(GET_RAM))[3:], (1, 0x40000000, 0xC0000000))

    def test_brom_mode_init_ext_ram(self):
        s = self.sim("id=p,chip=mt6765,mode=brom," + self.KEYS)
        x = self.to_da1(s, brom=True)
        self.assertEqual(x.getter(GET_AGENT), b"brom")
        self.assertEqual(x.getter(GET_EMMC)[0x48:0x58], CID)
        self.boot_da2(x, expect=(0xC0050005,))                              # no DRAM yet

        def emi(block, expect):
            x.cmd(CMD_EMI)
            x.send(u32(len(block)))
            x.send(block)
            self.assertEqual(hex(x.status()), hex(expect))
        v38 = mkpreloader.block(38, "preloader_other.bin", [(0x0203, CID[:9])])
        v35_other = mkpreloader.block(35, "preloader_other.bin", [(0x0203, OTHER_CID[:9])])
        v35 = mkpreloader.block(35, "preloader_k65.bin", [(0x0203, OTHER_CID[:9]), (0x0203, CID[:9])])
        emi(v38, 0xC0040050)                                               # another chip's version
        emi(v35_other, 0xC0040050)                                         # no record for this memory
        emi(v35[0x70:], 0xC0040050)                                        # the legacy slice, not a block
        self.assertEqual(s.stats("p")["dram"], "failed")
        emi(v35, 0)                                                        # repeated attempts accepted
        st = s.stats("p")
        self.assertEqual((st["dram"], st["emi_version_sent"], st["xf_emi_tries"]), ("up", "35", "4"))
        self.boot_da2(x)
        # 9.4: a full-speed link says so and switches: 0e8d:2001 at high speed, still DA2
        self.assertEqual(x.getter(GET_SPEED), b"full-speed")
        x.cmd(CMD_SPEED)
        x.send(u32(0x0E8D2001))
        self.assertEqual(x.status(), 0)
        s.wait("p", "phase=reconnecting")
        s.wait("p", "phase=xflash-da2")
        r = s.open()
        self.assertEqual((r["pid"], r["speed"]), (0x2001, "high"))
        self.assertEqual(x.getter(GET_SPEED), b"high-speed")

    def test_brom_mode_with_preloader_key(self):
        path = os.path.join(tempfile.mkdtemp(prefix="mtksim-xf-"), "pl.bin")
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        mine = mkpreloader.build(form="gfh", version=35, name="preloader_mine.bin", records=[(0x0203, b"")])
        with open(path, "wb") as f:
            f.write(mine)
        s = self.sim("id=p,chip=mt6765,mode=brom,preloader=%s,%s" % (path, self.KEYS))
        x = self.to_da1(s, brom=True)
        other = mkpreloader.block(35, "preloader_other.bin", [(0x0203, b"")])   # matches any memory, not mine
        for block, expect in ((other, 0xC0040050), (mine[mine.index(b"MTK_BLOADER_INFO"):][:0x70 + 160], 0)):
            x.cmd(CMD_EMI)
            x.send(u32(len(block)))
            x.send(block)
            self.assertEqual(hex(x.status()), hex(expect))

    def test_shutdown(self):
        s = self.sim("id=p,chip=mt6765,boot-delay=20," + self.KEYS, "id=q,chip=mt6570," + self.KEYS,
                     "id=r,chip=mt6765,xf-shutdown=flags," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        x.cmd(CMD_SHUTDOWN)
        x.send(u32(1) + bytes(24))                       # penumbra's reboot form (13)
        self.assertEqual(x.status(), 0)
        st = s.wait("p", "phase=listen")
        self.assertEqual((st["resets"], st["last_reset"], st["xf_shutdown"]), ("1", "shutdown", "reboot"))
        x = self.to_da1(s, port=2)
        x.cmd(CMD_SHUTDOWN)                              # DA1 knows it too
        x.send(bytes(28))                                # all zero: power off
        self.assertEqual(x.status(), 0)
        st = s.wait("q", "phase=powered-off")
        self.assertEqual((st["plugged"], st["resets"]), ("0", "0"))
        x = self.to_da1(s, port=3)
        x.cmd(CMD_SHUTDOWN)
        x.send(bytes(32))                                # mtkclient's reset: 32 zero bytes, word 0 "has flags"
        self.assertEqual(x.status(), 0)
        self.assertEqual(s.wait("r", "phase=resetting")["last_reset"], "shutdown")

    def test_secure_boot_checks_da2(self):
        s = self.sim("id=p,chip=mt6765,target-config=0x1," + self.KEYS)
        x = self.to_da1(s)
        patched = bytearray(self.da2)
        patched[0x100] ^= 1
        self.boot_da2(x, bytes(patched), expect=(0xC0070004,))        # 5.2: not the DA2 DA1 carries
        self.boot_da2(x)
        self.assertEqual(s.stats("p")["phase"], "xflash-da2")

    def test_sla_and_faults(self):
        s = self.sim("id=p,chip=mt6765,sla=1," + self.KEYS,
                     "id=q,chip=mt6765,fault=da-reject@0x010008," + self.KEYS,
                     "id=r,chip=mt6765,fault=chunk-status:0xc0040030@0x010005," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        self.assertEqual(x.getter(GET_SLA), u32(1))
        for c in (CMD_READ, CMD_WRITE):
            x.cmd(c)
            x.send(x.block(1, 8, 0, 0x200))
            self.assertEqual(hex(x.status()), hex(0xC0020049))
        x = self.to_da1(s, port=2)
        self.boot_da2(x, expect=(0xC0070004,))                       # DA refused at BOOT_TO
        self.boot_da2(x)                                             # once
        x = self.to_da1(s, port=3)
        self.boot_da2(x)
        x.cmd(CMD_READ)
        x.send(x.block(1, 8, 0, 0x200))
        self.assertEqual((x.status(), x.status()), (0, 0))
        self.assertEqual(hex(x.status()), hex(0xC0040030))             # in place of the chunk
        self.assertEqual(x.getter(GET_SLA), u32(0))                    # back in the loop
        # nack: the command's acknowledgement is an error, nothing runs; status:V the next status
        s.control("fault r nack")
        x.cmd(CMD_DEVCTRL, 0xC0010001)
        s.control("fault r status:0xc0010002")
        x.cmd(CMD_DEVCTRL, 0xC0010002)                                # ... but the command runs
        x.send(u32(GET_SLA))
        self.assertEqual((x.status(), x.packet(), x.status()), (0, u32(0), 0))
        s.control("fault r stall@0x040001")
        x.cmd(CMD_DEVCTRL)
        x.send(u32(GET_EMMC))
        self.assertTrue(s.silent())
        self.assertEqual(s.stats("r")["xf_last_ctrl"], "0x040001")

    def test_unplug_and_garbage(self):
        s = self.sim("id=p,chip=mt6765,fault=unplug-after-cmd:0x010005," + self.KEYS,
                     "id=q,chip=mt6765,fault=garbage:12@0x040016," + self.KEYS)
        x = self.to_da1(s)
        self.boot_da2(x)
        x.send(u32(CMD_READ))
        self.assertEqual(s.wait("p", "phase=gone")["plugged"], "0")
        x = self.to_da1(s, port=2)
        self.boot_da2(x)
        x.cmd(CMD_DEVCTRL)
        x.send(u32(GET_SLA))
        self.assertNotEqual(s.read(timeout=10000)[:4], struct.pack("<I", XF_MAGIC))   # noise, not the header

    def test_framing(self):
        s = self.sim("id=p,chip=mt6765," + self.KEYS)
        x = self.to_da1(s)
        s.write(b"\x00" * 16)                                      # not a header: protocol error, resync
        self.assertEqual(hex(x.status()), hex(0xC0010005))
        s.write(b"\x01\x02")                                        # dropped while resynchronising
        # 2.3: the OUT side is a byte stream: header and payload in one transfer, or split anyhow; ZLPs
        s.write(struct.pack("<III", XF_MAGIC, 1, 4) + u32(CMD_DEVCTRL))
        self.assertEqual(x.status(), 0)
        s.write(struct.pack("<III", XF_MAGIC, 1, 4)[:5])
        s.write(struct.pack("<III", XF_MAGIC, 1, 4)[5:] + u32(GET_AGENT)[:1])
        s.write(b"")
        s.write(u32(GET_AGENT)[1:])
        self.assertEqual(x.status(), 0)
        self.assertEqual(x.packet(), b"preloader")
        self.assertEqual(x.status(), 0)
        self.assertEqual(s.stats("p")["xf_protocol_errors"], "1")
        # wrong-echo: the next header's magic is wrong (the payload and what follows are as usual)
        s.control("fault p wrong-echo")
        x.send(u32(CMD_DEVCTRL))
        h = s.read(timeout=10000)
        self.assertEqual((len(h), h[4:]), (12, struct.pack("<II", 1, 4)))
        self.assertNotEqual(h[:4], struct.pack("<I", XF_MAGIC))
        self.assertEqual(s.read(timeout=10000), u32(0))
        x.send(u32(GET_AGENT))
        self.assertEqual((x.status(), x.packet(), x.status()), (0, b"preloader", 0))

    def test_chips(self):
        # brom.md 5 / xflash.md 1: the raw hw code in GET_CHIP_ID, sub code 0x8A00
        chips = {"mt6570": 0x0633, "mt6761": 0x0717, "mt6768": 0x0707, "mt6771": 0x0788, "mt6785": 0x0813}
        s = self.sim(*("id=%s,chip=%s,%s" % (c, c, self.KEYS) for c in chips))
        for port, (chip, hw) in enumerate(chips.items(), 1):
            x = self.to_da1(s, port=port)
            self.boot_da2(x)
            self.assertEqual(struct.unpack("<5H", x.getter(GET_CHIP)), (hw, 0x8A00, 0xCA00, 0, 0), chip)
            self.assertEqual(s.stats(chip)["da_protocol"], "xflash")
            s.usb("close")

    def test_start_in_da2(self):
        # 16.4: a phone mtkclient left in the DA2 loop; the next run starts with GET_RAM_INFO
        s = self.sim("id=p,chip=mt6765,start=da," + self.KEYS)
        self.assertEqual(s.open()["pid"], PID_PRELOADER)
        x = XfHost(self, s)
        self.assertEqual(len(x.getter(GET_RAM)), 48)
        self.assertEqual(x.read(0, 0x200)[0x1FE:], b"\x55\xaa")
        self.assertEqual(s.stats("p")["phase"], "xflash-da2")


# ------------------------------------------------------------------ the XML ("V6") DA (xml-da.md)

XML_PROLOG = '<?xml version="1.0" encoding="utf-8"?>'
START_DOC = (XML_PROLOG + "<host><version>1.0</version><command>CMD:START</command></host>").encode() + b"\0"
RUNTIME_PARAM = (XML_PROLOG + "<da><version>1.1</version><command>CMD:SET-RUNTIME-PARAMETER</command><arg>"
                 "<checksum_level>NONE</checksum_level><battery_exist>AUTO-DETECT</battery_exist>"
                 "<da_log_level>INFO</da_log_level><log_channel>UART</log_channel><system_os>LINUX</system_os>"
                 "</arg><adv><initialize_dram>YES</initialize_dram></adv></da>")   # 4.4 row 2, exact


class XmlHost:
    """The host side of xml-da.md, written from it: each header and each payload its own OUT transfer;
    every IN header must come as a 12-byte packet of its own (2.2)."""

    def __init__(self, test, s, four=True):
        self.t, self.s = test, s
        self.four = four              # mtkclient's 4-byte OK (2.1) or penumbra's 3
        self.start_doc = START_DOC

    def send(self, payload):
        self.s.write(struct.pack("<III", XF_MAGIC, 1, len(payload)))
        if payload:
            self.s.write(payload)

    packet = XfHost.packet

    def text(self):
        d = self.packet()
        self.t.assertTrue(d.endswith(b"\0"), d[:64])
        return d.rstrip(b"\0").decode()

    def ok(self):
        self.send(b"OK\0\0" if self.four else b"OK\0")

    def expect(self, want):
        d = self.packet()
        self.t.assertEqual(d, want.encode() + b"\0")

    def doc(self, command=None):
        """A <host> document: its command and its <arg> as a dict."""
        import xml.etree.ElementTree as ET
        d = self.packet()
        self.t.assertTrue(d.startswith(XML_PROLOG.encode()) and d.endswith(b"\0"), d[:80])
        root = ET.fromstring(d.rstrip(b"\0").decode())
        self.t.assertEqual((root.tag, root.findtext("version")), ("host", "1.0"))
        cmd = root.findtext("command")
        if command is not None:
            self.t.assertEqual(cmd, command, d)
        arg = root.find("arg")
        return cmd, ({c.tag: c.text or "" for c in arg} if arg is not None else None)

    def start(self):
        self.t.assertEqual(self.packet(), self.start_doc)     # 3.1: 102 bytes, no <arg>
        self.ok()

    def command(self, name, arg="", version="1.0", raw=None):
        doc = raw or (XML_PROLOG + "<da><version>%s</version><command>%s</command>%s</da>" %
                      (version, name, "<arg>%s</arg>" % arg if arg else ""))
        self.send(doc.encode() + b"\0")

    def end(self, result="OK", start=True):
        """CMD:END (acked), then the next CMD:START (acked); returns END's message."""
        _, arg = self.doc("CMD:END")
        self.t.assertEqual(arg["result"], result, arg)
        self.ok()
        if start:
            self.start()
        return arg["message"]

    def simple(self, name, arg="", **kw):
        self.command(name, arg, **kw)
        self.expect("OK")
        return self.end()

    def unsupported(self, name, arg=""):
        self.command(name, arg)
        self.expect("ERR!UNSUPPORTED")                        # 3.3
        return self.end("ERR")

    def upload(self, packet=None):
        """UPLOAD-FILE (3.2): the data and the request's arguments."""
        _, arg = self.doc("CMD:UPLOAD-FILE")
        self.t.assertEqual(arg["checksum"], "CHK_NO")
        plen = int(arg["packet_length"], 16)
        if packet:
            self.t.assertEqual(plen, packet)
        self.ok()
        t = self.text()
        self.t.assertTrue(t.startswith("OK@0x"), t)
        n = int(t[3:], 16)
        self.ok()
        out = b""
        while len(out) < n:
            self.expect("OK")
            self.ok()
            d = self.packet()
            self.t.assertEqual(len(d), min(plen, n - len(out)))
            out += d
            self.ok()
        return out, arg

    def download(self, data, packet=None, value=None):
        """DOWNLOAD-FILE (3.2) of data; returns the request's arguments."""
        _, arg = self.doc("CMD:DOWNLOAD-FILE")
        plen = int(arg["packet_length"], 16)
        if packet:
            self.t.assertEqual(plen, packet)
        self.ok()
        self.send((value or "OK@0x%x" % len(data)).encode() + b"\0")
        self.expect("OK")
        for off in range(0, len(data), plen):
            self.send(b"OK@0x0\0\0" if self.four else b"OK@0x0\0")     # mtkclient: 8 bytes (9 row 7)
            self.expect("OK")
            self.send(data[off:off + plen])
            self.expect("OK")
        return arg

    def progress(self, message):
        _, arg = self.doc("CMD:PROGRESS-REPORT")
        self.t.assertEqual(arg["message"], message)
        self.ok()
        lines = []
        while True:
            t = self.text()
            self.ok()
            if t == "OK!EOT":
                return lines
            self.t.assertTrue(t.startswith("OK!PROGRESS@"), t)
            lines.append(t)

    def read_flash(self, region, off, length, packet=None):
        self.command("CMD:READ-FLASH", "<partition>%s</partition><offset>0x%x</offset><length>0x%x</length>"
                     "<target_file>ROM_0</target_file>" % (region, off, length))
        self.expect("OK")
        data, arg = self.upload(packet)
        self.t.assertEqual(arg["target_file"], "ROM_0")
        self.t.assertEqual(self.end(), "Operation OK")
        return data

    def write_flash(self, region, off, data, extra_ok=True, packet=None):
        """5.4, with mtkclient's extra OK after the last chunk (it ends up as a stray OK in idle)."""
        src = "MEM://0x8000000:0x%x" % len(data)
        self.command("CMD:WRITE-FLASH", "<partition>%s</partition><offset>0x%x</offset>"
                     "<source_file>%s</source_file>" % (region, off, src))
        self.expect("OK")
        _, arg = self.doc("CMD:FILE-SYS-OPERATION")
        self.t.assertEqual((arg["key"], arg["file_path"]), ("FILE-SIZE", src))
        self.ok()
        self.send(b"OK@0x%x\0" % len(data))                  # no DA ack follows
        self.progress("pre-erase")
        self.t.assertEqual(self.download(data, packet)["source_file"], src)
        if extra_ok:
            self.ok()                                        # taken as END's ack ...
            self.doc("CMD:END")
            self.ok()                                        # ... START's ...
            self.t.assertEqual(self.packet(), START_DOC)
            self.ok()                                        # ... and a stray OK while idle
        else:
            self.end()


class TestXml(SimTestCase):
    """The XML personality of a V6 chip's DA (xml-da.md 10), driven byte by byte as section 9 lists it,
    with a DA file from tests/tools/mkda.py (xml=1 entries: the real region layout, no MediaTek binary)."""

    KEYS = "watchdog-ms=0,handshake-window=0,me-id=" + ME_ID

    @classmethod
    def setUpClass(cls):
        data = mkda.build([mkda.parse_entry("dacode=0x1208,xml=1")])
        assert mkda.V6_MARK.encode() in data[0x20:0x60]
        regions = [struct.unpack_from("<IIIII", data, 0x6C + 0x14 + 20 * k) for k in range(3)]
        assert regions[0] == regions[1]                                          # 4.1
        cls.da1 = data[regions[1][0]:regions[1][0] + regions[1][1]]
        cls.da2 = data[regions[2][0]:regions[2][0] + regions[2][1] - regions[2][4]]   # without its signature
        assert (len(cls.da1), len(cls.da2)) == (0x61BE4, 0x51004)

    def brom(self, s, port=1, hw_code=0x1208):
        r = s.open(port)
        self.assertEqual((r["pid"], r["speed"]), (PID_PRELOADER, "high"))
        s.handshake()
        s.write(b"\xfd")
        self.assertEqual(s.read_n(5), b"\xfd" + struct.pack(">HH", hw_code, 0))
        s.write(b"\xfc")
        self.assertEqual(s.read_n(9), b"\xfc" + struct.pack(">HHHH", 0x8A00, 0xCA00, 0, 0))
        s.write(b"\xe7")                                                          # 4.2: SOC_ID asked
        got = s.read_n(1 + 4 + 32 + 2)
        self.assertEqual(got[:5], b"\xe7" + be32(32))
        self.assertEqual(got[-2:], b"\x00\x00")
        return s.send_da(self.da1)

    def to_da1(self, s, port=1, four=True, hw_code=0x1208):
        _, status2 = self.brom(s, port, hw_code)
        self.assertEqual(status2, b"\x00\x00")
        self.assertEqual(s.jump_da(), b"\x00\x00")
        x = XmlHost(self, s, four)
        x.start()                                                                 # no C0 (4.2)
        return x

    def boot_to(self, x, image=None, result="OK"):
        image = self.da2 if image is None else image
        x.command("CMD:BOOT-TO", "<at_address>0x40000000</at_address><jmp_address>0x40000000</jmp_address>"
                  "<source_file>MEM://0x7fe83c09a04c:0x%x</source_file>" % len(image))
        x.expect("OK")
        arg = x.download(image, packet=0x1000)
        self.assertEqual((arg["info"], arg["checksum"]), ("2nd-DA", "CHK_NO"))
        return x.end(result)

    def to_da2(self, s, port=1, **kw):
        x = self.to_da1(s, port, **kw)
        self.boot_to(x)
        return x

    def image(self, s, phone, off, n):
        with open(s.stats(phone)["storage"], "rb") as f:
            f.seek(off)
            return f.read(n)

    def test_da1_dialogue_and_boot_to(self):
        s = self.sim("id=p,chip=mt6789," + self.KEYS)
        x = self.to_da1(s)
        st = s.stats("p")
        self.assertEqual((st["phase"], st["da_protocol"], st["xml_stage"], st["xml_wait"]),
                         ("xml-da1", "xml", "da1", "idle"))
        # 4.4: mtkclient's DA1 order
        x.command(None, raw=RUNTIME_PARAM)
        self.assertEqual(len(RUNTIME_PARAM) + 1, 345)
        x.expect("OK")
        self.assertEqual(x.end(), "Operation OK")
        self.assertEqual(x.simple("CMD:HOST-SUPPORTED-COMMANDS", "<host_capability>CMD:DOWNLOAD-FILE^1@"
                                  "CMD:FILE-SYS-OPERATION^1@CMD:PROGRESS-REPORT^1@CMD:UPLOAD-FILE^1@"
                                  "</host_capability>"), "Operation OK")
        x.command("CMD:NOTIFY-INIT-HW")
        x.expect("OK")
        self.assertEqual(x.progress("init-hw"), ["OK!PROGRESS@0@init-hw", "OK!PROGRESS@100@init-hw"])
        x.end()
        x.four = False                                       # penumbra's 3-byte OK is taken as well
        x.simple("CMD:SET-HOST-INFO", "<info>20261201T194846</info>")
        self.assertEqual(x.unsupported("CMD:CAN-HIGHER-USB-SPEED"), "Unsupported command: CMD:CAN-HIGHER-USB-SPEED")
        x.unsupported("CMD:READ-FLASH", "<partition>EMMC-USER</partition>")       # a DA2 command
        x.ok()                                                # a stray OK while idle is ignored (5.4)
        x.command("CMD:GET-HW-INFO", "<target_file>MEM://0x7fe83c138700:0x200000</target_file>")
        x.expect("OK")
        doc, _ = x.upload()
        self.assertIn(b"<storage>EMMC</storage>", doc)
        x.end()
        st = s.stats("p")
        self.assertEqual((st["xml_stray_oks"], st["xml_unsupported"], st["xml_checksum_level"], st["xml_hw_init"]),
                         ("1", "2", "NONE", "1"))
        # 4.4 row 6: 0x52 chunks of 0x1000, the last one 4 bytes; DA2 answers END and START
        self.boot_to(x)
        st = s.stats("p")
        self.assertEqual((st["phase"], st["xml_stage"], st["xml_boot_refused"]), ("xml-da2", "da2", "0"))
        self.assertIn("CMD:BOOT-TO", st["commands"].split(","))
        self.assertEqual(st["da_bytes"], "0")                 # DA2 is not storage data
        # 4.5: DA2 has no HOST-SUPPORTED-COMMANDS nor CAN-HIGHER-USB-SPEED, nor BOOT-TO
        x.unsupported("CMD:HOST-SUPPORTED-COMMANDS")
        x.command("CMD:NOTIFY-INIT-HW")
        x.expect("OK")
        x.progress("init-hw")
        x.end()
        x.unsupported("CMD:CAN-HIGHER-USB-SPEED", "<target_file>MEM://0x7fe8463ed240:0x40</target_file>")
        x.unsupported("CMD:BOOT-TO")
        x.unsupported("CMD:CUSTOM")                            # 8: mtkclient's own, not in a stock DA
        x.command("CMD:GET-SYS-PROPERTY", "<key>DA.SLA</key><target_file>MEM://0x1:0x200000</target_file>")
        x.expect("OK")
        self.assertEqual(x.upload()[0], (XML_PROLOG + '<sys_prop version="1.0"><item key="DA.SLA">DISABLED'
                                         '</item></sys_prop>').encode() + b"\0")
        x.end()
        x.command("CMD:EMMC-CONTROL", "<function>LIFE-CYCLE-STATUS</function><target_file>X</target_file>")
        x.expect("OK")
        self.assertEqual(x.upload()[0], b"OK\0")
        x.end()
        x.command("CMD:EMMC-CONTROL", "<function>FORMAT-ALL</function>")
        x.expect("OK")
        self.assertEqual(x.end("ERR"), "Unsupported function: FORMAT-ALL")
        x.command("CMD:GET-DA-INFO", "<target_file>MEM://0x1:0x200000</target_file>")
        x.expect("OK")
        self.assertIn(b"<da_info><version>1.0</version>", x.upload()[0])
        x.end()

    def test_foreign_da2_refused(self):
        s = self.sim("id=p,chip=mt6789," + self.KEYS, "id=q,chip=mt6789,xml-da2-check=sbc," + self.KEYS)
        x = self.to_da1(s)
        patched = bytearray(self.da2)
        patched[0x100] ^= 1
        # 4.1: DA1 runs only the DA2 whose SHA-256 is in its hash slot
        self.assertEqual(self.boot_to(x, bytes(patched), "ERR"), "DA hash validation failed. 2nd DA is refused.")
        st = s.stats("p")
        self.assertEqual((st["phase"], st["xml_stage"], st["xml_boot_refused"]), ("xml-da1", "da1", "1"))
        self.boot_to(x)
        self.assertEqual(s.stats("p")["phase"], "xml-da2")
        # xml-da2-check=sbc: without secure boot any DA2 runs (10 item 4: mtkclient patches DA2)
        x = self.to_da1(s, port=2)
        self.boot_to(x, bytes(patched))
        self.assertEqual(s.stats("q")["phase"], "xml-da2")

    def gpt_parts(self, gpt, sector):
        hdr = gpt[sector:sector + 92]
        self.assertEqual(hdr[:8], b"EFI PART")
        lba, count, esize = struct.unpack_from("<QII", hdr, 72)
        parts = {}
        for i in range(count):
            e = gpt[lba * sector + esize * i:lba * sector + esize * (i + 1)]
            if len(e) == esize and any(e[:16]):
                first, last = struct.unpack_from("<QQ", e, 32)
                parts[e[56:128].decode("utf-16-le").rstrip("\x00")] = (first * sector, (last + 1 - first) * sector)
        return parts

    def test_read_write_emmc(self):
        s = self.sim("id=p,chip=mt6789,xml-read-packet=0x10000,xml-write-packet=0x800," + self.KEYS)
        x = self.to_da2(s)
        x.command("CMD:GET-HW-INFO", "<target_file>MEM://0x7fe83c138700:0x200000</target_file>")
        x.expect("OK")
        doc, _ = x.upload()
        x.end()
        import xml.etree.ElementTree as ET
        info = ET.fromstring(doc.rstrip(b"\0").decode())                     # 5.1
        self.assertEqual((info.tag, info.findtext("version"), info.findtext("storage")),
                         ("da_hw_info", "1.2", "EMMC"))
        emmc = info.find("emmc")
        self.assertEqual([emmc.findtext(k) for k in ("block_size", "boot1_size", "boot2_size", "user_size", "id")],
                         ["0x200", "0x400000", "0x400000", "0x3a3e00000", CID.hex().upper()])
        # printgpt's reads (9 row 15), chunks of xml-read-packet, equal to the image
        gpt = x.read_flash("EMMC-USER", 0, 0x20000, packet=0x10000)
        self.assertEqual(gpt, self.image(s, "p", 0, 0x20000))
        self.assertEqual(x.read_flash("EMMC-USER", 0x600, 0x200), gpt[0x600:0x800])
        parts = self.gpt_parts(gpt, 512)
        self.assertEqual(parts["nvram"], (NVRAM_OFF, NVRAM_LEN))
        # READ-PARTITION by GPT name, READ-PARTITION-TABLE (5.3, 5.5)
        x.command("CMD:READ-PARTITION", "<partition>proinfo</partition><target_file>proinfo.bin</target_file>")
        x.expect("OK")
        data, _ = x.upload()
        x.end()
        self.assertEqual(data, self.image(s, "p", parts["proinfo"][0], parts["proinfo"][1]))
        x.command("CMD:READ-PARTITION-TABLE", "<target_file>MEM://0x1:0x200000</target_file>")
        x.expect("OK")
        table = ET.fromstring(x.upload()[0].rstrip(b"\0").decode())
        x.end()
        pts = {pt.findtext("name"): (int(pt.findtext("start"), 16), int(pt.findtext("size"), 16))
               for pt in table.findall("pt")}
        self.assertEqual(pts["nvram"], parts["nvram"])
        self.assertEqual(pts["PGPT"], (0, 0x8000))
        # WRITE-FLASH (5.4) with mtkclient's extra OK, then read back
        data = bytes((i * 7 + 3) & 0xFF for i in range(0x1900))
        x.write_flash("EMMC-USER", NVRAM_OFF + 0x200, data, packet=0x800)
        self.assertEqual(x.read_flash("EMMC-USER", NVRAM_OFF + 0x200, len(data)), data)
        self.assertEqual(self.image(s, "p", NVRAM_OFF + 0x200, len(data)), data)
        x.four = False
        x.write_flash("EMMC-BOOT1", 0x1000, data[:0x400], extra_ok=False)       # penumbra: no extra OK
        self.assertEqual(x.read_flash("EMMC-BOOT1", 0x1000, 0x400), data[:0x400])
        st = s.stats("p")
        self.assertEqual((st["writes"], st["write_bytes"], st["xml_stray_oks"]), ("2", str(0x1900 + 0x400), "1"))
        # 3.5: errors as END ERR with the DA's messages
        x.command("CMD:READ-FLASH", "<partition>EMMC-USER</partition><offset>0x3a3e00000</offset>"
                  "<length>0x200</length><target_file>ROM_0</target_file>")
        x.expect("OK")
        self.assertEqual(x.end("ERR"), "Read length[200] is larger than partition max size[0]")
        x.command("CMD:READ-PARTITION", "<partition>nosuch</partition><target_file>x</target_file>")
        x.expect("OK")
        self.assertEqual(x.end("ERR"), "Cannot find [nosuch] in partition table.")
        x.command("CMD:READ-FLASH", "<partition>UFS-LUA2</partition><offset>0</offset><length>0x200</length>")
        x.expect("OK")
        self.assertEqual(x.end("ERR"), "Unknown storage region: UFS-LUA2")
        x.command("CMD:WRITE-FLASH", "<partition>EMMC-BOOT2</partition><offset>0x3ff000</offset>"
                  "<source_file>MEM://0x8000000:0x2000</source_file>")
        x.expect("OK")
        x.doc("CMD:FILE-SYS-OPERATION")
        x.ok()
        x.send(b"OK@0x2000\0")
        self.assertEqual(x.end("ERR"), "Host file size[2000] is larger than max partition available size[1000]")
        x.send(b"not xml\0")                                   # 3.5 malformed host XML
        self.assertEqual(x.end("ERR"), "#XML-FORMAT-ERR#")

    def test_ufs(self):
        s = self.sim("id=p,chip=mt6855,storage-type=ufs," + self.KEYS)
        x = self.to_da2(s, hw_code=0x1129)
        x.command("CMD:GET-HW-INFO", "<target_file>MEM://0x1:0x200000</target_file>")
        x.expect("OK")
        import xml.etree.ElementTree as ET
        info = ET.fromstring(x.upload()[0].rstrip(b"\0").decode())
        x.end()
        ufs = info.find("ufs")
        self.assertEqual((info.findtext("storage"), ufs.findtext("block_size"), ufs.findtext("lua0_size"),
                          ufs.findtext("lua3_size"), ufs.findtext("id")),
                         ("UFS", "0x1000", "0x400000", "0", ME_ID[:24].upper()))
        user = int(ufs.findtext("lua2_size"), 16)
        self.assertEqual(user, os.path.getsize(s.stats("p")["storage"]))
        # 5.7: the GPT on LU2 in 4096-byte sectors
        gpt = x.read_flash("UFS-LUA2", 0, 0x8000 + 0x1000)
        self.assertEqual(gpt, self.image(s, "p", 0, len(gpt)))
        parts = self.gpt_parts(gpt, 4096)
        self.assertEqual(parts["nvram"], (NVRAM_OFF, NVRAM_LEN))
        x.command("CMD:READ-FLASH", "<partition>EMMC-USER</partition><offset>0</offset><length>0x200</length>")
        x.expect("OK")
        self.assertEqual(x.end("ERR"), "Unknown storage region: EMMC-USER")
        x.write_flash("UFS-LUA0", 0, b"\xa5" * 0x3000)
        self.assertEqual(x.read_flash("UFS-LUA0", 0x1000, 0x1000), b"\xa5" * 0x1000)
        self.assertEqual(s.stats("p")["storage_type"], "ufs")

    def test_faults(self):
        s = self.sim("id=p,chip=mt6789," + self.KEYS,
                     "id=q,chip=mt6789,fault=unplug-after-cmd:CMD:READ-FLASH," + self.KEYS,
                     "id=r,chip=mt6789,fault=da-reject@CMD:BOOT-TO," + self.KEYS)
        x = self.to_da2(s)
        # nack: END ERR instead of the command's OK; the command does not run
        s.control("fault p nack")
        x.command("CMD:GET-HW-INFO")
        self.assertEqual(x.end("ERR"), "CMD:GET-HW-INFO refused")
        # chunk-status: an ERR in the sub-dialogue where the next chunk's OK was
        s.control("fault p chunk-status:0xc0040030@CMD:READ-FLASH")
        x.command("CMD:READ-FLASH", "<partition>EMMC-USER</partition><offset>0</offset><length>0x200</length>"
                  "<target_file>ROM_0</target_file>")
        x.expect("OK")
        x.doc("CMD:UPLOAD-FILE")
        x.ok()
        self.assertEqual(x.text(), "OK@0x200")
        x.ok()
        self.assertEqual(x.end("ERR"), "storage transfer failed[0xc0040030]")
        # corrupt-write: stored with a bit flipped
        s.control("fault p corrupt-write")
        x.write_flash("EMMC-USER", NVRAM_OFF, bytes(0x400))
        self.assertEqual(sum(bin(b).count("1") for b in x.read_flash("EMMC-USER", NVRAM_OFF, 0x400)), 1)
        # wrong-echo: the next header's magic is wrong
        s.control("fault p wrong-echo")
        x.command("CMD:SET-HOST-INFO", "<info>x</info>")
        h = s.read(timeout=10000)
        self.assertEqual((len(h), h[4:]), (12, struct.pack("<II", 1, 3)))
        self.assertNotEqual(h[:4], struct.pack("<I", XF_MAGIC))
        self.assertEqual(s.read(timeout=10000), b"OK\0")
        x.end()
        # garbage, then stall from GET-HW-INFO on
        s.control("fault p garbage:12@CMD:GET-SYS-PROPERTY")
        x.command("CMD:GET-SYS-PROPERTY", "<key>DA.SLA</key>")
        self.assertNotEqual(s.read(timeout=10000)[:4], struct.pack("<I", XF_MAGIC))
        self.assertEqual(s.read(timeout=10000), b"OK\0")      # the OK's payload itself
        x.doc("CMD:UPLOAD-FILE")
        s.control("fault p stall")
        x.ok()
        self.assertTrue(s.silent())
        # unplug on a command
        x = self.to_da2(s, port=2)
        x.command("CMD:READ-FLASH")
        self.assertEqual(s.wait("q", "phase=gone")["plugged"], "0")
        # da-reject@CMD:BOOT-TO: this BOOT-TO refused, the next one runs
        x = self.to_da1(s, port=3)
        self.assertEqual(self.boot_to(x, result="ERR"), "DA hash validation failed. 2nd DA is refused.")
        self.boot_to(x)
        self.assertEqual(s.stats("r")["phase"], "xml-da2")

    def test_halt_and_unplug_after_da_bytes(self):
        s = self.sim("id=p,chip=mt6789," + self.KEYS,
                     "id=q,chip=mt6789,xml-read-packet=0x200,fault=unplug-after-da-bytes:0x300," + self.KEYS)
        # 3.1: a reply other than OK to START halts the DA
        self.brom(s)
        self.assertEqual(s.jump_da(), b"\x00\x00")
        x = XmlHost(self, s)
        self.assertEqual(x.packet(), START_DOC)
        x.send(b"ERR\0")
        self.assertEqual(s.wait("p", "xml_wait=halted")["phase"], "xml-da1")
        x.command("CMD:GET-HW-INFO")
        self.assertTrue(s.silent())
        # unplug-after-da-bytes: the chunk that reaches N is not sent
        x = self.to_da2(s, port=2)
        x.command("CMD:READ-FLASH", "<partition>EMMC-USER</partition><offset>0</offset><length>0x1000</length>")
        x.expect("OK")
        x.doc("CMD:UPLOAD-FILE")
        x.ok()
        self.assertEqual(x.text(), "OK@0x1000")
        x.ok()
        x.expect("OK")
        x.ok()
        self.assertEqual(x.packet(), self.image(s, "q", 0, 0x200))
        x.ok()
        x.expect("OK")
        x.ok()
        self.assertEqual(s.wait("q", "phase=gone")["plugged"], "0")

    def test_security_keys(self):
        s = self.sim("id=p,chip=mt6789,target-config=0x4," + self.KEYS,
                     "id=q,chip=mt6789,target-config=0x7,daa-accept=1,sla=1," + self.KEYS,
                     "id=r,chip=mt6789,target-config=0x1," + self.KEYS)
        # DAA: the preloader takes only the DA1 it is told is the OEM's (the same keys as the other families)
        _, status2 = self.brom(s)
        self.assertNotEqual(status2, b"\x00\x00")
        self.assertEqual(s.wait("p", "phase=resetting")["last_reset"], "sig-verify-fail")
        x = self.to_da2(s, port=2)
        # sla=1: DA.SLA ENABLED, reads and writes refused
        x.command("CMD:GET-SYS-PROPERTY", "<key>DA.SLA</key><target_file>M</target_file>")
        x.expect("OK")
        self.assertIn(b">ENABLED<", x.upload()[0])
        x.end()
        x.command("CMD:READ-FLASH", "<partition>EMMC-USER</partition><offset>0</offset><length>0x200</length>")
        x.expect("OK")
        self.assertEqual(x.end("ERR"), "DA SLA is not authorized: CMD:READ-FLASH refused")
        # secure boot: the hash slot decides (the default check does it with or without SBC)
        x = self.to_da1(s, port=3)
        self.boot_to(x, self.da2[:-1] + b"\x01", "ERR")
        self.boot_to(x)

    def test_keys_reboot_and_start_in_da(self):
        s = self.sim("id=p,chip=mt6893,xml-start=arg,xml-value=hex," + self.KEYS,
                     "id=q,chip=mt6789,start=da," + self.KEYS,
                     "id=r,chip=mt6789," + self.KEYS)
        # xml-start=arg: START with an empty <arg> (113 bytes); MT6893 (hw code 0x0950) speaks XML too
        _, status2 = self.brom(s, hw_code=0x0950)
        self.assertEqual(s.jump_da(), b"\x00\x00")
        x = XmlHost(self, s)
        x.start_doc = START_DOC[:-8] + b"<arg></arg></host>\0"
        d = x.packet()
        self.assertEqual((len(d), d), (113, x.start_doc))
        x.ok()
        # xml-value=hex: a decimal OK@ is refused
        x.command("CMD:BOOT-TO", "<at_address>0x40000000</at_address><source_file>MEM://0:0</source_file>")
        x.expect("OK")
        x.doc("CMD:DOWNLOAD-FILE")
        x.ok()
        x.send(b"OK@%d\0" % len(self.da2))
        self.assertEqual(x.end("ERR"), "Host reply error: expected OK@<length>")
        x.command("CMD:REBOOT", "<action>SOON</action>")
        x.expect("OK")
        self.assertEqual(x.end("ERR"), "Unknown reboot action: SOON")
        # REBOOT IMMEDIATE: END, then a reset; it comes back as a preloader
        x.command("CMD:REBOOT", "<action>IMMEDIATE</action>")
        x.expect("OK")
        x.end(start=False)
        st = s.wait("p", "phase=listen")
        self.assertEqual((st["last_reset"], st["xml_reboot"], st["resets"]), ("reboot", "immediate", "1"))
        # start=da: the reinit run (9) begins with GET-HW-INFO, no START read first
        s.usb("close")
        self.assertEqual(s.open(2)["pid"], PID_PRELOADER)
        x = XmlHost(self, s)
        x.command("CMD:GET-HW-INFO", "<target_file>MEM://0x1:0x200000</target_file>")
        x.expect("OK")
        x.upload()
        x.end()
        self.assertEqual(s.stats("q")["phase"], "xml-da2")
        # penumbra's decimal OK@ is taken by default (2.1)
        x.command("CMD:WRITE-FLASH", "<partition>EMMC-USER</partition><offset>%d</offset>"
                  "<source_file>MEM:\\0x0:0x200</source_file>" % NVRAM_OFF)
        x.expect("OK")
        x.doc("CMD:FILE-SYS-OPERATION")
        x.ok()
        x.send(b"OK@0x200\0")
        x.progress("pre-erase")
        x.download(b"\x11" * 0x200, value="OK@512")
        x.end()
        self.assertEqual(self.image(s, "q", NVRAM_OFF, 0x200), b"\x11" * 0x200)
        # REBOOT DISCONNECT: off the bus, powered off
        x.command("CMD:REBOOT", "<action>DISCONNECT</action>")
        x.expect("OK")
        x.end(start=False)
        self.assertEqual(s.wait("q", "phase=powered-off")["xml_reboot"], "disconnect")
        s.usb("close")
        # an MT6789 phone beside them: its DA1 is an XML one (hw code, sub code and SOC id in brom())
        x = self.to_da1(s, port=3)
        self.assertEqual(s.stats("r")["da_protocol"], "xml")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        Probe().run(sys.argv[2])
    else:
        unittest.main()

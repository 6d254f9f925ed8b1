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
import mkpreloader  # noqa: E402

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
        self.conn, _ = self.listener.accept()
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

    def write(self, data, timeout=2000):
        r = self.usb("write", data=bytes(data).hex(), timeout=timeout)
        if not r["ok"]:
            raise AssertionError("bulk OUT failed: %s" % r["error"])

    def read(self, cap=512, timeout=2000):
        r = self.usb("read", cap=cap, timeout=timeout)
        if not r["ok"]:
            raise AssertionError("bulk IN failed: %s" % r["error"])
        return bytes.fromhex(r["data"])

    def read_n(self, n, timeout=2000):
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
        # A machine stalling one thread for the whole 150 ms of the other's transfer gets two more tries.
        n = 8 << 20
        for attempt in range(3):
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
        self.assertGreater(a["hub_shared_us"], 0, "the two transfers never met on the line in three tries")
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
        # MT6765 (v35) has no legacy branch (brom-emi.md 6.2 "other versions"): every E8 is refused
        s = self.sim("id=p,chip=mt6765," + self.KEYS)
        self.to_emi(s)
        self.enable_dram(s, 35, b"\xa5")
        self.assertEqual(s.stats("p")["phase"], "da1-need-emi")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        Probe().run(sys.argv[2])
    else:
        unittest.main()

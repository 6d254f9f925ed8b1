# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile local caller for the attack tests, run as an unprivileged uid
(setpriv) by test_attack_polkit.Attacker: it opens bus connections, fires
method calls at the daemon without waiting for them, and closes connections,
as the test tells it on stdin; it reports on stdout.  One JSON object a line:

  {"cmd": "connect", "conn": C}
  {"cmd": "call", "conn": C, "tag": T, "count": N, "path": P, "iface": I,
   "method": M, "sig": S, "args": [ARG...]}
  {"cmd": "close", "conn": C}
  {"cmd": "quit"}

ARG is {"t": TYPE, "v": VALUE} with TYPE one of b s i u o as a{sv} a{sh},
"h" (the read end of a fresh pipe; its write end stays open here until the
connection closes, so the daemon could not read to its end) or "hw" (the write
end of a pipe whose reader is already closed).  Events: {"event": "connected",
"conn": C, "name": UNIQUE}, {"event": "sent", "tag": T, "count": N},
{"event": "reply", "tag": T, "error": NAME or null, "message": TEXT},
{"event": "closed", "conn": C}.
"""

import json
import os
import sys

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

BUS_NAME = "org.mtknvd.MtkNv1"


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Attacker:
    def __init__(self, address):
        self.address = address
        self.conns = {}      # name -> connection
        self.held = {}       # name -> fds kept open while the connection lives
        self.loop = GLib.MainLoop()

    def value(self, arg, held):
        t, v = arg["t"], arg.get("v")
        if t == "b":
            return dbus.Boolean(v)
        if t == "s":
            return dbus.String(v)
        if t == "i":
            return dbus.Int32(v)
        if t == "u":
            return dbus.UInt32(v)
        if t == "o":
            return dbus.ObjectPath(v)
        if t == "as":
            return dbus.Array([dbus.String(x) for x in v], signature="s")
        if t == "a{sv}":
            return dbus.Dictionary({k: self.value(x, held) for k, x in v.items()}, signature="sv")
        if t == "a{sh}":
            return dbus.Dictionary({k: self.value(x, held) for k, x in v.items()}, signature="sh")
        if t in ("h", "hw"):
            r, w = os.pipe()
            if t == "h":
                held.append(w)
                fd = dbus.types.UnixFd(r)
                os.close(r)
            else:
                os.close(r)
                fd = dbus.types.UnixFd(w)
                os.close(w)
            return fd
        raise ValueError("unknown argument type %r" % t)

    def command(self, c):
        cmd = c["cmd"]
        if cmd == "connect":
            conn = dbus.bus.BusConnection(self.address, mainloop=dbus.mainloop.glib.DBusGMainLoop())
            self.conns[c["conn"]] = conn
            self.held[c["conn"]] = []
            emit(event="connected", conn=c["conn"], name=str(conn.get_unique_name()))
        elif cmd == "call":
            conn = self.conns[c["conn"]]
            tag = c["tag"]
            for _ in range(c["count"]):
                args = [self.value(a, self.held[c["conn"]]) for a in c["args"]]
                conn.call_async(BUS_NAME, c["path"], c["iface"], c["method"], c["sig"], args,
                                lambda *r, tag=tag: emit(event="reply", tag=tag, error=None, message=""),
                                lambda e, tag=tag: emit(event="reply", tag=tag, error=e.get_dbus_name(),
                                                        message=e.get_dbus_message()),
                                timeout=600)
            conn.flush()
            emit(event="sent", tag=tag, count=c["count"])
        elif cmd == "close":
            self.conns.pop(c["conn"]).close()
            for fd in self.held.pop(c["conn"]):
                os.close(fd)
            emit(event="closed", conn=c["conn"])
        elif cmd == "quit":
            self.loop.quit()

    def on_stdin(self, source, condition):
        line = sys.stdin.readline()
        if not line:
            self.loop.quit()
            return False
        self.command(json.loads(line))
        return True

    def run(self):
        GLib.io_add_watch(sys.stdin, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, self.on_stdin)
        self.loop.run()


if __name__ == "__main__":
    Attacker(sys.argv[1]).run()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 16, the client in a terminal: mtknvctl run in a pseudo-terminal of a
given size (as in tmux at 80x24) against the real daemon and simulated phones.
The progress line fits the terminal and counts the backup once, with an ETA;
Ctrl-C exits 130; help VERB; monitor says when and which port's job ended; a
restore picks the phone its backup belongs to, and an unbound one is refused
before anything is asked."""

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unittest

from harness import BUILD, TOP, WorldTestCase, mkda
from test_backup import IDENTITY, LAYOUT
from test_polkit import NOBODY, PolkitTestCase
from test_restore import RestoreTestCase

CTL = os.path.join(BUILD, "mtknvctl")
BACKUP_MIB = sum(LAYOUT[n][1] for n in IDENTITY) / 1048576.0   # 60 MiB: each partition once
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
READ_TIMEOUT = float(os.environ.get("MTKNVD_TEST_TIMEOUT", "30")) * 4


class Pty:
    """A program on the slave side of a new pseudo-terminal of cols x rows; the
    test holds the master.  With ctty the terminal is the program's controlling
    terminal, so a ^C typed on it is a SIGINT to its process group."""

    def __init__(self, cmd, env, cols=80, rows=24, ctty=True):
        self.master, slave = os.openpty()
        self.resize(cols, rows, slave)
        self.out = b""

        def session():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        self.proc = subprocess.Popen(cmd, env=env, stdin=slave, stdout=slave, stderr=slave,
                                     preexec_fn=session if ctty else None)
        os.close(slave)

    @staticmethod
    def resize(cols, rows, fd):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, data):
        os.write(self.master, data)

    def read_until(self, cond, what, timeout=READ_TIMEOUT):
        """Read the terminal until cond(text so far) holds, or it closes; fail after timeout (a bound on a
        failure, not a wait for something to happen)."""
        deadline = time.monotonic() + timeout
        while not cond(self.text()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; the terminal shows:\n%r" % (what, self.text()))
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every slave descriptor is closed
                chunk = b""
            if not chunk:
                if cond(self.text()):
                    break
                raise AssertionError("the terminal closed before %s; it showed:\n%r" % (what, self.text()))
            self.out += chunk
        return self.text()

    def finish(self, timeout=READ_TIMEOUT):
        """Everything until the program exits; its exit status."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.proc.kill()
                raise AssertionError("the program did not end; the terminal shows:\n%r" % self.text())
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            self.out += chunk
        rc = self.proc.wait(timeout=timeout)
        os.close(self.master)
        return rc

    def text(self):
        return self.out.decode("utf-8", "replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def screen_lines(text):
    """The lines redrawn in place: each one after a carriage return.  Each must fit the width by itself, or
    the terminal wraps it and every redraw scrolls (a message printed once may wrap: it is not redrawn)."""
    text = ANSI.sub("", text)
    return [seg for line in text.split("\n") if "\r" in line.rstrip("\r") for seg in line.split("\r")]


class TerminalTestCase(WorldTestCase):

    def pty(self, *args, cols=80, rows=24, ctty=True, prefix=(), env=None):
        p = Pty(list(prefix) + [CTL] + list(args), env or self.w.env(), cols, rows, ctty)
        self.addCleanup(p.close)
        return p

    def backup_in_pty(self, cols):
        """backup --wait run first, the phone plugged in once its job waits; the terminal's text."""
        w = self.w
        n = len(w.jobs_new)
        p = self.pty("backup", "--wait", cols=cols)
        w.wait_until(lambda: len(w.jobs_new) > n or p.proc.poll() is not None, "the backup waits for a phone")
        w.control("plug phone0")
        rc = p.finish()
        self.assertEqual(rc, 0, p.text())
        return p.text()


class TestProgressLine(TerminalTestCase):

    def test_fits_80_columns_with_eta_and_the_backup_size(self):
        w = self.world("unplugged=1")
        text = self.backup_in_pty(80)
        lines = screen_lines(text)
        too_long = [line for line in lines if len(line) > 79]
        self.assertEqual(too_long, [], "lines wider than the 80-column terminal (the last column wraps)")
        bars = [line for line in lines if re.match(r"^\[[#.]+\] +\d+%", line)]
        self.assertTrue(bars, text)
        # the backup's size, once: not the 120 MiB its two reads move
        self.assertTrue(any("/%.1f MiB" % BACKUP_MIB in line for line in bars), bars)
        self.assertFalse(any("/%.1f MiB" % (2 * BACKUP_MIB) in line for line in bars), bars)
        self.assertTrue(any(re.search(r"ETA \d+:\d\d", line) for line in bars), "no ETA in %r" % bars)
        # progress over the whole job: it ends at 100 % of the backup
        self.assertTrue(any("100%" in line and "%.1f/%.1f MiB" % (BACKUP_MIB, BACKUP_MIB) in line for line in bars),
                        bars[-3:])
        w.wait_until(lambda: len(w.backups) == 1, "the backup published")

    def test_narrow_terminal(self):
        self.world("unplugged=1")
        text = self.backup_in_pty(40)
        too_long = [line for line in screen_lines(text) if len(line) > 39]
        self.assertEqual(too_long, [], "progress lines wider than the 40-column terminal")
        self.assertRegex(text, r"\d+%")

    def test_wide_terminal_shows_all(self):
        self.world("unplugged=1")
        lines = screen_lines(self.backup_in_pty(130))
        self.assertEqual([line for line in lines if len(line) > 129], [])
        # room for a longer bar, the rate and the whole step
        self.assertTrue(any(re.match(r"^\[[#.]{30}\] ", line) for line in lines), lines[-3:])
        self.assertTrue(any(re.search(r"MiB/s  ETA \d+:\d\d  reading nvdata again to verify$", line)
                            for line in lines), lines)

    def test_not_a_terminal_plain_lines(self):
        w = self.world("unplugged=1")
        r = w.ctl_then_plug("phone0", "backup", "--wait")
        self.assertNotIn("\r", r.stderr)
        self.assertNotIn("\x1b", r.stderr)
        percent = [line for line in r.stderr.splitlines() if re.match(r"^ *\d+%", line)]
        self.assertTrue(percent, r.stderr)
        self.assertTrue(any("/%.1f MiB" % BACKUP_MIB in line for line in percent), percent)
        self.assertLessEqual(len(percent), 11, "a line per ten percent, not per update")


class TestInterrupt(TerminalTestCase):

    def test_ctrl_c_cancels_the_followed_job_and_exits_130(self):
        w = self.world("unplugged=1")
        n = len(w.jobs_new)
        p = self.pty("backup", "--wait")
        w.wait_until(lambda: len(w.jobs_new) > n or p.proc.poll() is not None, "the backup waits for a phone")
        p.read_until(lambda t: "Power the phone off and plug it in now" in t, "the request to plug the phone in")
        p.type(b"\x03")  # ^C on the terminal: SIGINT to its foreground process group
        rc = p.finish()
        self.assertEqual(rc, 130, p.text())
        ok, message = w.wait_job(w.jobs_new[-1])
        self.assertFalse(ok, message)   # cancelled, as mtknvctl(1) says, not left running
        self.assertIn("Cancelling", p.text())
        self.assertEqual(len(w.backups), 0)
        # the daemon is ready for the next one
        self.assertEqual(w.ctl("--json", "list").returncode, 0)

    def test_sigterm_exits_143(self):
        w = self.world("unplugged=1")
        n = len(w.jobs_new)
        proc = w.ctl_bg("backup", "--wait")
        w.wait_until(lambda: len(w.jobs_new) > n or proc.poll() is not None, "the backup waits for a phone")
        proc.stderr.readline()  # "No phone is connected…": the job is followed
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=READ_TIMEOUT)
        self.assertEqual(proc.returncode, 143, out + err)
        self.assertFalse(w.wait_job(w.jobs_new[-1])[0])

    def subscribed(self, w):
        """The senders of GetManagedObjects calls by clients other than the test, in order (each watch lists
        the daemon's objects once it has subscribed)."""
        calls = []
        w.bus.add_match_string("type='method_call',interface='org.freedesktop.DBus.ObjectManager',"
                               "member='GetManagedObjects',eavesdrop='true'")
        w.bus.add_message_filter(lambda bus, m: calls.append(str(m.get_sender())) if m.get_member() ==
                                 "GetManagedObjects" and m.get_sender() != bus.get_unique_name() else None)
        return calls

    @staticmethod
    def new_caller(calls, before):
        """A client that was not calling before has called: the one just started."""
        return bool(set(calls) - set(before))

    def test_ctrl_c_ends_monitor_and_wait_with_130(self):
        w = self.world("unplugged=1")
        calls = self.subscribed(w)
        for args in (("monitor",), ("wait", "--state", "error", "--timeout", "0")):
            with self.subTest(args=args):
                before = list(calls)
                p = self.pty(*args)
                w.wait_until(lambda: self.new_caller(calls, before) or p.proc.poll() is not None,
                             "%s subscribed" % args[0])
                self.assertIsNone(p.proc.poll(), p.text())
                p.type(b"\x03")
                self.assertEqual(p.finish(), 130, p.text())


class TestHelp(unittest.TestCase):

    def run_ctl(self, *args):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
        return subprocess.run([CTL] + list(args), capture_output=True, text=True, env=env, timeout=30)

    def verbs(self):
        out = self.run_ctl("--help").stdout
        section = out.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
        return sorted(set(re.findall(r"^  ([a-z][a-z-]*)", section, re.M)))

    def test_help_alone_is_help_option(self):
        self.assertEqual(self.run_ctl("help").stdout, self.run_ctl("--help").stdout)
        self.assertEqual(self.run_ctl("help").returncode, 0)

    def test_every_verb_has_its_page(self):
        verbs = self.verbs()
        self.assertIn("restore", verbs)
        self.assertIn("help", verbs)
        for verb in verbs:
            with self.subTest(verb=verb):
                r = self.run_ctl("help", verb)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith("Usage: mtknvctl [OPTIONS] %s" % verb), r.stdout)
                self.assertIn("\nOptions:\n", r.stdout)
                self.assertEqual([line for line in r.stdout.splitlines() if len(line) > 80], [])

    def test_restore_page_names_its_options(self):
        out = self.run_ctl("help", "restore").stdout
        for opt in ("--device", "--dry-run", "--allow-foreign", "--yes", "--resume", "--rollback", "--partitions"):
            self.assertIn(opt, out)
        self.assertNotIn("--spflash", out)

    def test_completion_of_help(self):
        from test_desktop import BASH_COMPLETION, complete
        if not os.path.exists(BASH_COMPLETION):
            self.skipTest("bash-completion is not installed")
        got = complete(os.path.join(TOP, "client", "data", "mtknvctl.bash-completion"),
                       [["help", "res"], ["help", ""]])
        self.assertEqual(got[0], {"restore"})
        self.assertEqual(got[1], set(self.verbs()))

    def test_unknown_verb(self):
        r = self.run_ctl("help", "frobnicate")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn('Unknown command "frobnicate"', r.stderr)
        self.assertIn("--help", r.stderr)


class TestMonitor(TerminalTestCase):

    def test_timestamps_and_job_results_by_port(self):
        # a is backed up; b vanishes 20 MiB into its reads
        w = self.world("id=a,unplugged=1", "id=b,unplugged=1,fault=unplug-after-da-bytes:%d" % (20 << 20),
                       config="AutoBackup=first-seen\n")
        calls = TestInterrupt.subscribed(self, w)
        procs = {}
        for mode in ("text", "json"):
            before = list(calls)
            procs[mode] = subprocess.Popen([CTL] + (["--json"] if mode == "json" else []) + ["monitor"],
                                           env=w.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.addCleanup(lambda p=procs[mode]: (p.poll() is None and p.kill(), p.wait(), p.stdout.close(),
                                                   p.stderr.close()))
            # it lists phones, then jobs: both after subscribing
            w.wait_until(lambda: sum(c not in before for c in calls) >= 2, "monitor subscribed")
        port = {}
        for phone in ("a", "b"):
            w.control("plug " + phone)
            port[phone] = w.stats(phone)["port"]
        text = self.read_lines(procs["text"], lambda lines: sum(" backed up " in l or " backup failed " in l
                                                                  for l in lines) >= 2)
        stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
        for line in text:
            self.assertRegex(line, stamp)
        self.assertTrue(any(re.search(r" \* %s backed up \(" % re.escape(port["a"]), l) for l in text), text)
        failed = [l for l in text if " ! %s backup failed (" % port["b"] in l]
        self.assertEqual(len(failed), 1, text)
        self.assertRegex(failed[0], r"(unplugged|disconnected) during the backup")
        events = [json.loads(l) for l in self.read_lines(procs["json"], lambda lines: sum(
            '"job-completed"' in l for l in lines) >= 2)]
        for e in events:
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
        done = {e["usb_path"]: e for e in events if e["event"] == "job-completed"}
        self.assertEqual(sorted(done), sorted(port.values()), events)
        self.assertTrue(done[port["a"]]["success"])
        self.assertEqual(done[port["a"]]["operation"], "backup")
        self.assertFalse(done[port["b"]]["success"])
        self.assertTrue(done[port["b"]]["message"])
        # the device events are still there, with their time
        self.assertTrue(any(e["event"] in ("added", "changed") for e in events), events)

    def read_lines(self, proc, cond, timeout=READ_TIMEOUT):
        lines, buf = [], ""
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        while not cond(lines):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("monitor did not print that; it printed:\n" + "\n".join(lines))
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 65536).decode()
                if not chunk:
                    raise AssertionError("monitor ended: %s\n%s" % (proc.stderr.read(), "\n".join(lines)))
                buf += chunk
                *done, buf = buf.split("\n")
                lines += done
        return lines


class TestRestoreChoice(RestoreTestCase, TerminalTestCase):

    def test_several_phones_the_backups_own(self):
        w = self.backed_up_world("id=a", "id=b")
        for phone in ("a", "b"):
            self.replug_listening(w, phone)
        by_port = {p["UsbPath"]: path for path, p in w.objects.items() if p.get("Present")}
        b_path = by_port[w.stats("b")["port"]]
        b_backup = [x for x in w.backups.values() if x["DeviceKey"] == b_path.rsplit("/", 1)[1]]
        self.assertEqual(len(b_backup), 1, (b_path, [x["DeviceKey"] for x in w.backups.values()]))
        r = w.ctl("--json", "restore", "--yes", "--dry-run", b_backup[0]["Id"], check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        # b was opened for it; a, left alone, heard nothing since it was plugged in
        self.assertNotEqual(w.stats("b")["first_rx_us"], "0")
        self.assertEqual(w.stats("a")["first_rx_us"], "0")

    def test_waits_for_the_backups_phone(self):
        # none connected: the restore waits; the other phone plugged in first is identified and let go, and the
        # request stays for the phone the backup belongs to
        w = self.backed_up_world("id=a", "id=b")
        keys = {}
        for phone in ("a", "b"):
            port = w.stats(phone)["port"]
            keys[phone] = [path for path, p in w.objects.items() if p["UsbPath"] == port][0].rsplit("/", 1)[1]
        b_backup = [x["Id"] for x in w.backups.values() if x["DeviceKey"] == keys["b"]][0]
        n = len(w.jobs_new)
        proc = w.ctl_bg("--json", "restore", "--yes", "--dry-run", b_backup)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.communicate()))
        w.wait_until(lambda: len(w.jobs_new) > n or proc.poll() is not None, "the restore waits for a phone")
        job = w.jobs_new[-1]
        changes = len(w.changes)
        w.plug_again("a")
        w.wait_until(lambda: any(c.get("State") == "released" and path.endswith(keys["a"])
                                 for path, c in w.changes[changes:]), "a identified and let go")
        self.assertNotIn(job, w.completed, "the restore was started on the wrong phone")
        self.assertIsNone(proc.poll())
        w.plug_again("b")
        out, err = proc.communicate(timeout=READ_TIMEOUT)
        self.assertEqual(proc.returncode, 0, out + err)
        res = json.loads(out)
        self.assertTrue(res["success"], res)
        self.assertIn("Dry run", res["message"])

    def test_restore_progress_is_over_the_whole_job(self):
        # a restore snapshots (two reads), writes and reads back: four passes over the backup, one byte count
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        self.replug_listening(w)
        p = self.pty("restore", "--yes", bid)
        self.assertEqual(p.finish(), 0, p.text())
        bars = [line for line in screen_lines(p.text()) if re.match(r"^\[[#.]+\] +\d+%", line)]
        self.assertEqual([line for line in bars if len(line) > 79], [])
        self.assertTrue(any("/%.1f MiB" % BACKUP_MIB in line for line in bars), bars[-3:])
        self.assertFalse(any("/%.1f MiB" % (n * BACKUP_MIB) in line for line in bars for n in (2, 4)), bars[-3:])
        # the percentage never goes back when the job moves from the snapshot to the writes
        percents = [int(re.match(r"^\[[#.]+\] +(\d+)%", line).group(1)) for line in bars]
        self.assertEqual(percents, sorted(percents))
        self.assertEqual(percents[-1], 100)

    def test_ctrl_c_while_writing_leaves_it_running(self):
        # a restore cannot stop while it writes: the first Ctrl-C says so, the second leaves it running
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        self.replug_listening(w)
        cancelable = []
        w.bus.add_signal_receiver(lambda iface, changed, inv, path=None: cancelable.append(bool(changed["Cancelable"]))
                                  if str(iface) == "org.mtknvd.MtkNv1.Job" and "Cancelable" in changed else None,
                                  "PropertiesChanged", "org.freedesktop.DBus.Properties", None, path_keyword="path")
        n = len(w.jobs_new)
        p = self.pty("restore", "--yes", bid)
        w.wait_until(lambda: False in cancelable or p.proc.poll() is not None, "the restore writes")
        # slow the writes down to a crawl, so that they outlast both Ctrl-Cs
        w.control("set phone0 rate=0.5")
        p.type(b"\x03")
        p.read_until(lambda t: "press Ctrl-C again" in t, "the refusal to cancel")
        self.assertIn("Cannot cancel", p.text())
        p.type(b"\x03")
        self.assertEqual(p.finish(), 130, p.text())
        self.assertIn("it goes on in mtknvd", p.text())
        job = w.jobs_new[n]
        self.assertNotIn(job, w.completed)
        # left running, it finishes by itself
        w.control("set phone0 rate=53.2")
        ok, message = w.wait_job(job, timeout=READ_TIMEOUT)
        self.assertTrue(ok, message)

    def test_unbound_refused_before_any_question(self):
        w = self.backed_up_world()
        img = os.path.join(w.tmp, "nvram.bin")
        with open(img, "wb") as f:
            f.write(self.read_part(self.storage(w), "nvram"))
        res = json.loads(w.ctl("--json", "import", "--partition", "nvram", img).stdout)
        restores = []
        w.bus.add_match_string("type='method_call',interface='org.mtknvd.MtkNv1.Manager',member='Restore',"
                               "eavesdrop='true'")
        w.bus.add_message_filter(lambda bus, m: restores.append(1) if m.get_member() == "Restore" else None)
        # on a terminal, where it would ask "Continue?"
        p = self.pty("restore", res["id"])
        self.assertEqual(p.finish(), 1, p.text())
        self.assertIn("--allow-foreign", p.text())
        self.assertIn("not bound to any phone", p.text())
        self.assertNotIn("Continue?", p.text())
        w.sync()
        self.assertEqual(restores, [], "the daemon was asked (and polkit with it)")


# polkit's text agent as the test's stand-in: an external program, not one of ours.  It notes its arguments
# and whether the descriptor it was given is a pipe, waits at the gate (a FIFO) when there is one, closes the
# descriptor as pkttyagent does once registered, and notes the SIGTERM that ends it.
STAND_IN = """#!/usr/bin/python3
import json, os, signal, stat, sys
log = os.environ["PKTTY_LOG"]
args = sys.argv[1:]
fd = int(args[args.index("--notify-fd") + 1])
def note(what):
    with open(log, "a") as f:
        f.write(json.dumps(what) + "\\n")
def stop(sig, frame):
    note({"terminated": sig})
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
note({"args": args, "pipe": stat.S_ISFIFO(os.fstat(fd).st_mode), "uid": os.getuid(), "tty": os.isatty(0)})
gate = os.environ.get("PKTTY_GATE")
if gate:
    with open(gate) as g:
        g.read()
os.close(fd)
note({"registered": True})
while True:
    signal.pause()
"""


class TestPolkitAgent(PolkitTestCase, TerminalTestCase):
    """A user who is not root, logged in over SSH (a terminal, no desktop agent): mtknvctl starts polkit's
    text agent as systemctl does, waits until it is registered, and lets polkit ask."""

    def setUp(self):
        super().setUp()
        self.flags = []

    def agent_world(self):
        w = self.world("unplugged=1")
        self.open_world(w)
        self.start_polkit(w)
        w.bus.add_signal_receiver(lambda name, args: self.flags.append(int(args[3])), "MethodCalled",
                                  "org.freedesktop.DBus.Mock", None, "/org/freedesktop/PolicyKit1/Authority",
                                  arg0="CheckAuthorization")
        self.da = os.path.join(self.out, "da.bin")
        with open(self.da, "wb") as f:
            f.write(mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES]))
        os.chmod(self.da, 0o644)
        self.bin = os.path.join(w.tmp, "bin")
        os.mkdir(self.bin)
        os.chmod(self.bin, 0o755)
        self.log = os.path.join(self.out, "agent.log")
        return w

    def install_stand_in(self):
        path = os.path.join(self.bin, "pkttyagent")
        with open(path, "w") as f:
            f.write(STAND_IN)
        os.chmod(path, 0o755)

    def notes(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def nobody_pty(self, *args, gate=None):
        env = dict(self.w.env(), PATH=self.bin + ":/usr/bin:/bin", PKTTY_LOG=self.log)
        if gate:
            env["PKTTY_GATE"] = gate
        if not os.path.exists(os.path.join(self.bin, "pkttyagent")):
            env["PATH"] = self.bin  # and nowhere else: no pkttyagent at all
        return self.pty(*args, prefix=["/usr/bin/setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                                       "--clear-groups"], env=env)

    def test_agent_started_waited_for_and_stopped(self):
        w = self.agent_world()
        self.install_stand_in()
        self.allow("manage")
        gate = os.path.join(self.out, "gate")
        os.mkfifo(gate)
        os.chmod(gate, 0o666)
        n = len(self.checks)
        p = self.nobody_pty("add-da", self.da, gate=gate)
        w.wait_for(lambda: self.notes() or p.proc.poll() is not None, "the agent started")
        # the agent is not registered yet: mtknvctl has not made its call
        w.sync()
        self.assertEqual(len(self.checks), n, "the call went out before the agent was ready")
        with open(gate, "w") as g:
            g.write("go")
        self.assertEqual(p.finish(), 0, p.text())
        notes = self.notes()
        first = notes[0]
        self.assertEqual(first["args"][0], "--notify-fd")
        self.assertEqual(first["args"][2:], ["--fallback"])
        self.assertTrue(first["args"][1].isdigit(), first)
        self.assertTrue(first["pipe"], first)
        self.assertEqual(first["uid"], NOBODY)
        self.assertTrue(first["tty"], "the agent asks on the terminal: its stdin")
        self.assertIn({"registered": True}, notes)
        self.assertEqual(notes[-1], {"terminated": signal.SIGTERM}, "mtknvctl stops its agent at the end")
        # the call let polkit ask (AllowUserInteraction)
        w.wait_until(lambda: self.flags, "CheckAuthorization")
        self.assertEqual(self.flags[-1] & 1, 1)

    def test_no_ask_password_starts_no_agent(self):
        w = self.agent_world()
        self.install_stand_in()
        self.allow("manage")
        p = self.nobody_pty("--no-ask-password", "add-da", self.da)
        self.assertEqual(p.finish(), 0, p.text())
        self.assertEqual(self.notes(), [])
        w.wait_until(lambda: self.flags, "CheckAuthorization")
        self.assertEqual(self.flags[-1] & 1, 0)

    def test_reading_starts_no_agent(self):
        self.agent_world()
        self.install_stand_in()
        p = self.nobody_pty("list")
        self.assertEqual(p.finish(), 0, p.text())
        self.assertEqual(self.notes(), [])

    def test_without_pkttyagent(self):
        w = self.agent_world()
        # allowed: it works without an agent
        self.allow("manage")
        p = self.nobody_pty("add-da", self.da)
        self.assertEqual(p.finish(), 0, p.text())
        # refused: exit 6, and why no password was asked
        self.allow()
        p = self.nobody_pty("add-da", self.da)
        self.assertEqual(p.finish(), 6, p.text())
        self.assertIn("pkttyagent, is not installed", p.text())
        w.wait_until(lambda: len(self.flags) == 2, "two CheckAuthorization calls")
        self.assertEqual(self.flags[-1] & 1, 1)


if __name__ == "__main__":
    unittest.main()

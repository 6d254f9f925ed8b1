# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issues 5 and 16: the desktop and system-integration files, as installed by
`make install`, checked with the tools that consume them.

  desktop-file-validate   the autostart entry, the application entry (its
                          actions), the KDE service menus
  xmllint --dtdvalid      the polkit policy (polkitd's policyconfig-1.dtd),
                          the introspection XML and the bus policy
                          (libdbus-1-dev's introspect.dtd and busconfig.dtd)
  appstreamcli validate   the AppStream metainfo (its modaliases: the udev
                          rule's USB ids); gdk-pixbuf renders the icon
  systemd-analyze verify  the agent's user unit
  update-mime-database    the MIME package in a private XDG_DATA_HOME; GIO
  + gio info              (what Nautilus and xdg-mime on GNOME ask) must see
                          an exported archive as application/x-mtknvd-backup,
                          by its name or by its content (renamed foo.bin)
  gio mime, gio open      the type's default application (a double-click in
                          Nautilus) shows the archive and restores only after
                          a yes, never by itself
  bash                    the completion, with bash-completion's helpers
  sh                      the file managers' wrapper, against a stand-in
                          mtknvctl that records its arguments and the real
                          one, in a fake terminal emulator that records its
                          size and screen, with python-dbusmock's
                          notification daemon on a private session bus: the
                          result is shown, in the window that waits for Enter
                          and in a notification
"""

import configparser
import fnmatch
import gzip
import json
import lzma
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import unittest
import xml.dom.minidom

import dbus

from harness import BUILD, TOP, WorldTestCase, unwrap
from test_agent import MOCK_IFACE, NOTIFY_NAME, NOTIFY_PATH, SESSION_CONFIG, Session
from test_backup import IDENTITY, scatter_text
from test_restore import RestoreTestCase

MAKE_BUILD = os.environ.get("MTKNVD_BUILD", "build")
MTKNVCTL = os.path.join(BUILD, "mtknvctl")
BACKUP_TYPE = "application/x-mtknvd-backup"
READBACK_TYPE = "application/x-mtk-nvram-readback"
ICON = "org.mtknvd.mtknvd"

POLKIT_DTD = "/usr/share/polkit-1/policyconfig-1.dtd"             # polkitd
INTROSPECT_DTD = "/usr/share/xml/dbus-1/introspect.dtd"           # libdbus-1-dev
BUSCONFIG_DTD = "/usr/share/xml/dbus-1/busconfig.dtd"             # libdbus-1-dev
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"    # bash-completion

# busconfig.dtd as shipped declares only the old attributes of <allow> and
# <deny> (send, receive, own, user, send_to, receive_from): every policy
# file written since D-Bus 1.0, Debian's own included, fails it.  The
# attributes dbus-daemon(1) documents are added on top of the real DTD.
BUSCONFIG_EXTENSION = """<!ENTITY %% upstream SYSTEM "%s">
%%upstream;
""" % BUSCONFIG_DTD + "".join("""<!ATTLIST %s
          group CDATA #IMPLIED
          send_interface CDATA #IMPLIED
          send_member CDATA #IMPLIED
          send_error CDATA #IMPLIED
          send_broadcast (true|false) #IMPLIED
          send_destination CDATA #IMPLIED
          send_destination_prefix CDATA #IMPLIED
          send_type CDATA #IMPLIED
          send_path CDATA #IMPLIED
          send_requested_reply (true|false) #IMPLIED
          receive_interface CDATA #IMPLIED
          receive_member CDATA #IMPLIED
          receive_error CDATA #IMPLIED
          receive_sender CDATA #IMPLIED
          receive_type CDATA #IMPLIED
          receive_path CDATA #IMPLIED
          receive_requested_reply (true|false) #IMPLIED
          eavesdrop (true|false) #IMPLIED
          own_prefix CDATA #IMPLIED>
""" % element for element in ("allow", "deny"))


def make_install(dest):
    subprocess.run(["make", "--no-print-directory", "-s", "install", "DESTDIR=" + dest, "PREFIX=/usr",
                    "BUILD=" + MAKE_BUILD], cwd=TOP, check=True, capture_output=True)


def read_desktop(path, group_prefix="Desktop"):
    cp = configparser.RawConfigParser(interpolation=None, strict=True)
    cp.optionxform = str
    with open(path) as f:
        cp.read_file(f)
    return cp


def help_sections():
    """Verbs and long options as `mtknvctl --help` lists them."""
    text = subprocess.run([MTKNVCTL, "--help"], capture_output=True, text=True, check=True).stdout
    verbs = re.findall(r"^  ([a-z][a-z-]*)", text.split("Commands:")[1].split("\n\n")[0], re.M)
    options = re.findall(r"--[a-z][a-z-]*", text.split("Options:")[1].split("\n\n")[0])
    return set(verbs), set(options)


def complete(completion, cases, env=None):
    """Run bash-completion's loader, our completion, and _mtknvctl on each
    case (a list of words, the last being the one completed)."""
    script = ["source %s" % BASH_COMPLETION, "source %s" % completion,
              'comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; '
              'COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _mtknvctl; printf "%s\\n" "${COMPREPLY[@]}"; echo "@@"; }']
    for words in cases:
        script.append("comp " + " ".join("'%s'" % w for w in [MTKNVCTL] + list(words)))
    r = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    blocks = r.stdout.split("@@\n")[:len(cases)]
    return [set(x for x in b.splitlines() if x) for b in blocks]


class TestDesktopFiles(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="mtknvd-desktop-")
        make_install(cls.dest)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def path(self, p):
        return os.path.join(self.dest, p.lstrip("/"))

    def need(self, *tools):
        for t in tools:
            if not (shutil.which(t) or os.path.exists(t)):
                self.skipTest("%s is not installed (make deps)" % t)

    def validate(self, path):
        r = subprocess.run(["desktop-file-validate", path], capture_output=True, text=True)
        return r.returncode, [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]

    def assert_exec_installed(self, exec_line):
        prog = exec_line.split()[0]
        self.assertTrue(prog.startswith("/usr/"), exec_line)
        self.assertTrue(os.access(self.path(prog), os.X_OK), "%s is not installed executable" % prog)

    def test_desktop_entries(self):
        self.need("desktop-file-validate")
        for p in ("etc/xdg/autostart/mtknvd-agent.desktop", "usr/share/applications/org.mtknvd.mtknvctl.desktop"):
            rc, out = self.validate(self.path(p))
            self.assertEqual((rc, out), (0, []), p)
        auto = read_desktop(self.path("etc/xdg/autostart/mtknvd-agent.desktop"))["Desktop Entry"]
        self.assertEqual(auto["Exec"], "/usr/bin/mtknvctl agent")
        self.assert_exec_installed(auto["Exec"])

        app = read_desktop(self.path("usr/share/applications/org.mtknvd.mtknvctl.desktop"))
        entry = app["Desktop Entry"]
        self.assertEqual(entry["MimeType"].split(";")[:2], [BACKUP_TYPE, READBACK_TYPE])
        # the wrapper opens the terminal itself (its size, kept open with the result)
        self.assertEqual(entry["Terminal"], "false")
        # the default action (a double-click) decides by the file: it never restores unasked
        self.assertEqual(entry["Exec"], "/usr/libexec/mtknvd-file-action --terminal %f")
        self.assertEqual(entry["Icon"], ICON)
        self.assertEqual(auto["Icon"], ICON)
        names = {}
        for action in entry["Actions"].rstrip(";").split(";"):
            group = app["Desktop Action " + action]
            names[group["Name"]] = group["Exec"]
            self.assert_exec_installed(group["Exec"])
        self.assertEqual(names, {
            "Restore to connected phone": "/usr/libexec/mtknvd-file-action --terminal restore %f",
            "Import SP Flash Tool readback": "/usr/libexec/mtknvd-file-action --terminal import-spflash %f"})

    def test_kde_service_menus(self):
        self.need("desktop-file-validate")
        for name, mime, action in (("mtknvd-restore", BACKUP_TYPE, "restore"),
                                   ("mtknvd-import-spflash", READBACK_TYPE, "import-spflash")):
            p = self.path("usr/share/kio/servicemenus/%s.desktop" % name)
            rc, out = self.validate(p)
            # The specification knows no Type=Service (KDE's own), so the
            # validator rejects exactly the two keys a service menu is made
            # of; anything else it says is a real fault.
            unexpected = [l for l in out if not re.search(
                r'key "(MimeType|Actions)" is present in group "Desktop Entry", but the type is "Service"', l)]
            self.assertEqual(unexpected, [], p)
            menu = read_desktop(p)
            self.assertEqual(menu["Desktop Entry"]["Type"], "Service")
            self.assertEqual(menu["Desktop Entry"]["X-KDE-ServiceTypes"], "KonqPopupMenu/Plugin")
            self.assertEqual(menu["Desktop Entry"]["MimeType"], mime + ";")
            actions = menu["Desktop Entry"]["Actions"].rstrip(";").split(";")
            self.assertEqual(len(actions), 1)
            group = menu["Desktop Action " + actions[0]]
            self.assertEqual(group["Exec"], "/usr/libexec/mtknvd-file-action --terminal %s %%f" % action)
            self.assert_exec_installed(group["Exec"])

    def test_nemo_actions(self):
        for name, mime, action in (("mtknvd-restore", BACKUP_TYPE, "restore"),
                                   ("mtknvd-import-spflash", READBACK_TYPE, "import-spflash")):
            nemo = read_desktop(self.path("usr/share/nemo/actions/%s.nemo_action" % name))["Nemo Action"]
            # what Nemo requires of an action file
            for key in ("Name", "Exec", "Selection"):
                self.assertIn(key, nemo)
            self.assertEqual(nemo["Mimetypes"], mime + ";")
            self.assertEqual(nemo["Exec"], "/usr/libexec/mtknvd-file-action --terminal %s %%F" % action)
            # Nemo opens no terminal of its own: the wrapper does
            self.assertEqual(nemo.get("Terminal", "false"), "false")
            self.assert_exec_installed(nemo["Exec"])

    def test_xml_against_dtds(self):
        self.need("xmllint", POLKIT_DTD, INTROSPECT_DTD, BUSCONFIG_DTD)
        checks = [(POLKIT_DTD, "usr/share/polkit-1/actions/org.mtknvd.MtkNv1.policy"),
                  (INTROSPECT_DTD, "usr/share/dbus-1/interfaces/org.mtknvd.MtkNv1.xml")]
        ext = os.path.join(self.dest, "busconfig-documented.dtd")
        with open(ext, "w") as f:
            f.write(BUSCONFIG_EXTENSION)
        checks.append((ext, "usr/share/dbus-1/system.d/org.mtknvd.MtkNv1.conf"))
        for dtd, p in checks:
            r = subprocess.run(["xmllint", "--noout", "--nonet", "--dtdvalid", dtd, self.path(p)],
                               capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stderr), (0, ""), p)
        # the extension still catches a misspelt attribute
        bad = os.path.join(self.dest, "bad.conf")
        with open(self.path("usr/share/dbus-1/system.d/org.mtknvd.MtkNv1.conf")) as f:
            text = f.read()
        with open(bad, "w") as f:
            f.write(text.replace("send_interface=", "send_iface="))
        r = subprocess.run(["xmllint", "--noout", "--nonet", "--dtdvalid", ext, bad], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        # shared-mime-info ships no DTD or schema: well-formed here, the
        # database compiler and GIO judge the rest (TestMimeAndCompletion)
        r = subprocess.run(["xmllint", "--noout", "--nonet", self.path("usr/share/mime/packages/mtknvd.xml")],
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_appstream_metainfo(self):
        self.need("appstreamcli")
        p = self.path("usr/share/metainfo/org.mtknvd.mtknvd.metainfo.xml")
        r = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic", "--no-color", p],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotRegex(r.stdout, r"(?m)^[EWI]: ", r.stdout)
        doc = xml.dom.minidom.parse(p)
        comp = doc.documentElement
        self.assertEqual(doc.getElementsByTagName("id")[0].firstChild.data, "org.mtknvd.mtknvd")
        provides = comp.getElementsByTagName("provides")[0]
        modaliases = [m.firstChild.data for m in provides.getElementsByTagName("modalias")]
        # every USB id the udev rule starts the daemon for, and only those: the download modes
        with open(os.path.join(TOP, "udev/70-mtknvd.rules")) as f:
            products = re.search(r'ENV\{PRODUCT\}=="([^"]+)"', f.read()).group(1).split("|")
        self.assertEqual(sorted(modaliases), sorted("usb:v%04Xp%04Xd*" % (int(v, 16), int(p, 16))
                                                    for v, p, _ in (x.split("/") for x in products)))
        # as the kernel spells a phone's modalias, matched as PackageKit and AppStream match them (fnmatch)
        for plugged in ("usb:v0E8Dp0003d0100dc02dsc00dp00ic02isc00ip00in00",      # BROM
                        "usb:v0E8Dp2000d0100dc02dsc00dp00ic0Aisc00ip00in01"):     # preloader
            self.assertTrue([m for m in modaliases if fnmatch.fnmatchcase(plugged, m)], plugged)
        # an MTP phone booted to Android (0e8d:2008) is not offered it
        self.assertFalse([m for m in modaliases if fnmatch.fnmatchcase("usb:v0E8Dp2008d0100dc00dsc00dp00ic06", m)])
        self.assertEqual([b.firstChild.data for b in provides.getElementsByTagName("binary")], ["mtknvctl"])
        self.assertEqual(sorted(m.firstChild.data for m in provides.getElementsByTagName("mediatype")),
                         sorted([BACKUP_TYPE, READBACK_TYPE]))
        # the release is the version being installed
        with open(os.path.join(TOP, "Makefile")) as f:
            version = re.search(r"(?m)^VERSION\s*:?=\s*(\S+)", f.read()).group(1)
        self.assertEqual(comp.getElementsByTagName("release")[0].getAttribute("version"), version)
        self.assertEqual(comp.getElementsByTagName("icon")[0].firstChild.data, ICON)

    def test_icon(self):
        svg = self.path("usr/share/icons/hicolor/scalable/apps/%s.svg" % ICON)
        doc = xml.dom.minidom.parse(svg)
        root = doc.documentElement
        self.assertEqual((root.namespaceURI, root.tagName), ("http://www.w3.org/2000/svg", "svg"))
        x, y, w, h = map(float, root.getAttribute("viewBox").split())
        self.assertEqual(w, h, "an app icon is square")
        # the desktop entry, the agent's entry and the metainfo name it
        for p in ("usr/share/applications/org.mtknvd.mtknvctl.desktop", "etc/xdg/autostart/mtknvd-agent.desktop"):
            self.assertEqual(read_desktop(self.path(p))["Desktop Entry"]["Icon"], ICON, p)
        # it renders (gdk-pixbuf's SVG loader, librsvg, as icon themes and thumbnailers draw it)
        if shutil.which("gdk-pixbuf-thumbnailer"):
            png = os.path.join(self.dest, "icon.png")
            r = subprocess.run(["gdk-pixbuf-thumbnailer", "-s", "64", svg, png], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(png, "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(struct.unpack(">II", head[16:24]), (64, 64))

    def test_user_unit_verify(self):
        self.need("systemd-analyze")
        unit = self.path("usr/lib/systemd/user/mtknvd-agent.service")
        with open(unit) as f:
            text = f.read()
        self.assertIn("ExecStart=/usr/bin/mtknvctl agent", text)
        self.assertIn("BusName=org.mtknvd.MtkNv1.Agent", text)
        # --root does not combine with --user: the unit is verified as
        # installed, with its ExecStart pointing into the DESTDIR
        d = tempfile.mkdtemp(prefix="mtknvd-user-unit-")
        try:
            os.makedirs(os.path.join(d, "runtime"), mode=0o700)
            os.makedirs(os.path.join(d, "units"))
            with open(os.path.join(d, "units", "mtknvd-agent.service"), "w") as f:
                f.write(text.replace("/usr/bin/mtknvctl", self.path("usr/bin/mtknvctl")))
            env = dict(os.environ, XDG_RUNTIME_DIR=os.path.join(d, "runtime"))
            r = subprocess.run(["systemd-analyze", "verify", "--user", "--man=no", "--recursive-errors=no",
                                os.path.join(d, "units", "mtknvd-agent.service")],
                               capture_output=True, text=True, env=env)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        finally:
            shutil.rmtree(d)

    def test_bash_completion_lists_every_verb_and_option(self):
        self.need(BASH_COMPLETION)
        completion = self.path("usr/share/bash-completion/completions/mtknvctl")
        verbs, options = help_sections()
        self.assertIn("agent", verbs)
        got = complete(completion, [[""], ["--"], ["wait", "--state", ""], ["--json", "ex"], ["add-da", "/et"],
                                    ["backup", "--scatter", "/et"], ["import", "--spflash", "/et"],
                                    ["export-backup", "--format", "s"], ["inhibit", "--", "setpri"]])
        self.assertEqual(got[0], verbs)
        self.assertTrue(options <= got[1], options - got[1])
        self.assertEqual(got[2], {"present", "idle", "identifying", "ready", "busy", "released", "unsupported",
                                  "error", "disconnected"})
        self.assertEqual(got[3], {"export-backup"})
        self.assertEqual(got[4], {"/etc"})
        self.assertEqual(got[5], {"/etc"})
        self.assertEqual(got[6], {"/etc"})
        self.assertEqual(got[7], {"spflash"})
        # inhibit -- COMMAND: COMMAND is completed as a command of its own (setpriv: util-linux)
        self.assertEqual(got[8], {"setpriv"})

    def test_file_action(self):
        fa = FileActionBench(self, self.path("usr/libexec/mtknvd-file-action"))
        # on a terminal (run from a shell): it runs there, and does not wait at the end
        r, calls = fa.run(["restore", "/x/phone.mtknvd.tar"], answer=b"y\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(calls, ["--json import /x/phone.mtknvd.tar", "restore mt6735_ab/20260101T000000Z-import"])
        self.assertNotIn("Press Enter", r.stdout)
        r, calls = fa.run(["import-spflash", "/x/nvram.img"])
        self.assertEqual(calls, ["import --spflash /x/nvram.img"])
        # by name, as a Nautilus script gets the selection: an archive is shown, and restored only on a yes
        r, calls = fa.run(["/x/NVRAM.img", "/x/backup.tar"], answer=b"\n")
        self.assertEqual(calls, ["import --spflash /x/NVRAM.img", "inspect /x/backup.tar"])
        self.assertIn("Restore it to the connected phone?", r.stdout)
        r, calls = fa.run(["show", "/x/backup.tar"], answer=b"y\ny\n")
        self.assertEqual(calls, ["inspect /x/backup.tar", "--json import /x/backup.tar",
                                 "restore mt6735_ab/20260101T000000Z-import"])
        # the rest of the identity set read back into the same folder goes along
        rb = os.path.join(fa.tmp, "readback")
        os.makedirs(rb)
        for name in ("nvram.img", "nvdata.img", "protect1.bin", "boot.img", "MT6735_Android_scatter.txt"):
            open(os.path.join(rb, name), "w").close()
        r, calls = fa.run(["import-spflash", os.path.join(rb, "nvram.img")])
        self.assertEqual(calls, ["import --spflash {0}/nvram.img {0}/nvdata.img {0}/protect1.bin".format(rb)])
        r, calls = fa.run([], env_extra={"NAUTILUS_SCRIPT_SELECTED_FILE_PATHS": "/x/nvram.bin\n"})
        self.assertEqual(calls, ["import --spflash /x/nvram.bin"])
        r, calls = fa.run([])
        self.assertEqual(r.returncode, 2)
        # mtknvctl asks only on a terminal: where there is none, the wrapper does not restore
        r, calls = fa.run(["--in-terminal", "restore", "/x/phone.mtknvd.tar"], tty=False, answer=b"\n")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(calls, [])
        self.assertIn("no terminal to ask for confirmation", r.stderr)


FAKE_MTKNVCTL = r"""#!/bin/sh
# mtknvctl's stand-in: records its arguments (calls) and what it sees (seen);
# its restore asks, as the real one does on a terminal
echo "$*" >> "$FAKE_DIR/calls"
tty=no
[ -t 0 ] && tty=yes
echo "$1 tty=$tty size=$(stty size 2>/dev/null) COLUMNS=${COLUMNS:-}" >> "$FAKE_DIR/seen"
case "$1" in
--json) echo '{"id":"mt6735_ab/20260101T000000Z-import","source":"import"}' ;;
inspect) echo "  an mtknvd backup of an MT6735" ;;
import)
        if [ -n "${FAKE_IMPORT_FAIL:-}" ]; then echo "Error: $FAKE_IMPORT_FAIL" >&2; exit 1; fi ;;
restore)
        printf 'Continue? [y/N] ' >&2
        read -r a
        [ "$a" = y ] || { echo "Nothing was done." >&2; exit 1; }
        if [ -n "${FAKE_RESTORE_FAIL:-}" ]; then echo "Error: $FAKE_RESTORE_FAIL" >&2; exit 1; fi
        echo "Restored." ;;
esac
exit 0
"""

# A terminal emulator for the tests.  It takes the options the wrapper gives
# each kind (xterm's -geometry and -e, gnome-terminal's --geometry= and --,
# konsole's -p TerminalColumns=/TerminalRows= and -e, -e for any other), runs
# the command on a pseudo-terminal of that size (0x0 with FAKE_TERM_NOSIZE: a
# terminal that does not tell it), types each "send" of $FAKE_TERM_SCRIPT
# once the screen shows its "expect", and records the screen, whether the
# command was still running at each prompt, what it left unread of the
# typed input (the Enter of a window that did not wait), and its exit status.  The test
# waits on the FIFO $FAKE_TERM_DONE.
FAKE_TERMINAL = r"""#!/usr/bin/python3
import fcntl, json, os, select, struct, subprocess, sys, termios, time

args = sys.argv[1:]
cols = rows = None
cmd = None
i = 0
while i < len(args):
    a = args[i]
    if a == "-geometry":
        cols, rows = map(int, args[i + 1].split("x")); i += 2
    elif a.startswith("--geometry="):
        cols, rows = map(int, a.split("=", 1)[1].split("x")); i += 1
    elif a == "-p":
        k, v = args[i + 1].split("=")
        if k == "TerminalColumns": cols = int(v)
        if k == "TerminalRows": rows = int(v)
        i += 2
    elif a in ("-e", "-x", "--"):
        cmd = args[i + 1:]; break
    else:
        raise SystemExit("fake terminal: unknown option " + a)
size = (0, 0) if os.environ.get("FAKE_TERM_NOSIZE") else (rows or 24, cols or 80)
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
# the slave stays open here: once the command has exited, what it left unread of the typed input
# is still in the terminal's input queue (TIOCINQ)
exited = os.pidfd_open(p.pid)
script = json.loads(os.environ.get("FAKE_TERM_SCRIPT", "[]"))
out, pos, step, alive, timeout = b"", 0, 0, [], False
deadline = time.monotonic() + 120
os.set_blocking(master, False)
while True:
    if step < len(script) and script[step][0].encode() in out[pos:]:
        pos = out.index(script[step][0].encode(), pos) + len(script[step][0])
        alive.append(p.poll() is None)
        os.write(master, script[step][1].encode())
        step += 1
        continue
    r, _, _ = select.select([master, exited], [], [], max(0, deadline - time.monotonic()))
    if not r:
        timeout = True
        p.kill()
        break
    try:
        data = os.read(master, 4096)
    except BlockingIOError:
        data = b""
    out += data
    if exited in r and not data:
        break
p.wait()
unread = struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0\0\0\0"))[0]
p.wait()
with open(os.environ["FAKE_DIR"] + "/terminal", "a") as f:
    f.write(json.dumps({"argv0": os.path.basename(sys.argv[0]), "args": args, "size": size, "status": p.returncode,
                        "screen": out.decode(errors="replace"), "steps": step, "alive": alive, "unread": unread,
                        "timeout": timeout}) + "\n")
if os.environ.get("FAKE_TERM_DONE"):
    with open(os.environ["FAKE_TERM_DONE"], "w") as f:
        f.write("done\n")
"""


class FileActionBench:
    """The installed wrapper with a stand-in mtknvctl, and fake terminals to put on PATH."""

    def __init__(self, test, action):
        self.test = test
        self.action = action
        self.tmp = tempfile.mkdtemp(prefix="mtknvd-file-action-")
        test.addCleanup(shutil.rmtree, self.tmp)
        self.fake = os.path.join(self.tmp, "mtknvctl")
        with open(self.fake, "w") as f:
            f.write(FAKE_MTKNVCTL)
        os.chmod(self.fake, 0o755)
        self.bindir = os.path.join(self.tmp, "bin")
        os.makedirs(self.bindir)
        self.runtime = os.path.join(self.tmp, "runtime")
        os.makedirs(self.runtime, mode=0o700)

    def add_terminal(self, name, link_from=None):
        """A fake terminal called name; link_from: a symlink to it (x-terminal-emulator's alternative)."""
        path = os.path.join(self.tmp, "terminals", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(FAKE_TERMINAL)
        os.chmod(path, 0o755)
        os.symlink(path, os.path.join(self.bindir, link_from or name))

    def env(self, env_extra=None):
        env = dict(os.environ, MTKNVCTL=self.fake, FAKE_DIR=self.tmp, XDG_RUNTIME_DIR=self.runtime,
                   PATH=self.bindir + ":/usr/bin:/bin")
        # never the desktop this runs on: no session bus unless a test gives its own
        for k in ("TERMINAL", "DBUS_SESSION_BUS_ADDRESS", "COLUMNS", "LINES",
                  "NAUTILUS_SCRIPT_SELECTED_FILE_PATHS"):
            env.pop(k, None)
        env.update(env_extra or {})
        return env

    def _reset(self):
        for f in ("calls", "seen", "terminal"):
            if os.path.exists(os.path.join(self.tmp, f)):
                os.unlink(os.path.join(self.tmp, f))

    def lines(self, name):
        p = os.path.join(self.tmp, name)
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return f.read().splitlines()

    def run(self, args, tty=True, answer=b"", env_extra=None, cmd=None):
        """Run it with standard input a terminal (a pty, answer typed ahead) or, tty=False, nothing."""
        self._reset()
        master, slave = pty.openpty()
        try:
            os.write(master, answer)
            r = subprocess.run((cmd or [self.action]) + args, stdin=slave if tty else subprocess.DEVNULL,
                               capture_output=True, text=True, env=self.env(env_extra), cwd=self.tmp, timeout=60)
        finally:
            os.close(master)
            os.close(slave)
        return r, self.lines("calls")

    def run_in_terminal(self, args, script, env_extra=None, cmd=None):
        """Run it as a file manager does (no terminal): it opens a fake one, which plays script.
        Returns (exit status, calls, the terminal's record)."""
        r, calls = self.run(args, tty=False, env_extra=dict(env_extra or {},
                                                          FAKE_TERM_SCRIPT=json.dumps(script)), cmd=cmd)
        terms = [json.loads(l) for l in self.lines("terminal")]
        self.test.assertLessEqual(len(terms), 1)
        return r, calls, terms[0] if terms else None


class TestFileActionResult(unittest.TestCase):
    """What a click in a file manager shows: the wrapper opens a terminal of a known size (a fake one that
    records), which stays open with the result until Enter, and sends a notification to python-dbusmock's
    notification daemon on a private session bus."""

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="mtknvd-file-action-")
        make_install(cls.dest)
        conf = os.path.join(cls.dest, "session.conf")
        with open(conf, "w") as f:
            f.write(SESSION_CONFIG.format(path=os.path.join(cls.dest, "session-bus")))
        cls.bus_daemon = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.address = cls.bus_daemon.stdout.readline().strip()
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=cls.address)
        cls.mock_log = open(os.path.join(cls.dest, "notification-mock.log"), "w")
        cls.mock = subprocess.Popen([sys.executable, "-m", "dbusmock", "--template", "notification_daemon"],
                                    env=env, stdout=cls.mock_log, stderr=subprocess.STDOUT)
        # gdbus follows NameOwnerChanged: returns as soon as the mock owns its name
        subprocess.run(["gdbus", "wait", "--session", "--timeout", "60", NOTIFY_NAME], env=env, check=True)
        cls.bus = dbus.bus.BusConnection(cls.address)
        cls.mock_iface = dbus.Interface(cls.bus.get_object(NOTIFY_NAME, NOTIFY_PATH), MOCK_IFACE)

    @classmethod
    def tearDownClass(cls):
        cls.bus.close()
        cls.mock.terminate()
        cls.mock.wait()
        cls.mock_log.close()
        cls.bus_daemon.terminate()
        cls.bus_daemon.wait()
        shutil.rmtree(cls.dest, ignore_errors=True)

    def setUp(self):
        self.fa = FileActionBench(self, os.path.join(self.dest, "usr/libexec/mtknvd-file-action"))
        self.mock_iface.ClearCalls()

    def notes(self):
        """(summary, body, urgency) of each Notify the mock received.  notify-send and gdbus return once
        the call is answered, and the mock records it before answering: complete when the wrapper exits."""
        out = []
        for _, method, args in self.mock_iface.GetCalls():
            if str(method) == "Notify":
                args = unwrap(args)
                out.append((args[3], args[4], args[6].get("urgency")))
        return out

    def session(self, **extra):
        return dict(extra, DBUS_SESSION_BUS_ADDRESS=self.address)

    def test_restore_success_stays_open_and_notifies(self):
        self.fa.add_terminal("xterm")
        r, calls, term = self.fa.run_in_terminal(
            ["--terminal", "restore", "phone.mtknvd.tar"],
            [["Continue? [y/N]", "y\n"], ["Press Enter to close this window.", "\n"]], env_extra=self.session())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNotNone(term, "no terminal was opened")
        self.assertFalse(term["timeout"], term["screen"])
        # xterm was asked for a size, and the command got a terminal of that size
        self.assertEqual(term["args"][:3], ["-geometry", "100x30", "-e"])
        self.assertEqual(term["args"][3:], [self.fa.action, "--in-terminal", "restore",
                                            os.path.join(self.fa.tmp, "phone.mtknvd.tar")])
        self.assertEqual(calls, ["--json import %s/phone.mtknvd.tar" % self.fa.tmp,
                                 "restore mt6735_ab/20260101T000000Z-import"])
        self.assertIn("restore tty=yes size=30 100 COLUMNS=", self.fa.lines("seen"))
        # the result is on the screen, above a prompt the window waits at: the command was still running
        screen = term["screen"]
        self.assertRegex(screen, r"mtknvd: done\r?\nphone\.mtknvd\.tar: restored to the phone "
                                 r"\(backup mt6735_ab/20260101T000000Z-import\)")
        self.assertLess(screen.index("restored to the phone"), screen.rindex("Press Enter to close this window."))
        self.assertEqual(term["steps"], 2)
        self.assertEqual(term["alive"], [True, True])
        self.assertEqual(term["unread"], 0, "the window closed without waiting for its Enter")
        self.assertEqual(term["status"], 0)
        self.assertEqual(self.notes(), [("mtknvd: done", "phone.mtknvd.tar: restored to the phone "
                                         "(backup mt6735_ab/20260101T000000Z-import)", 1)])

    def test_restore_failure_stays_open_and_notifies(self):
        self.fa.add_terminal("xterm", link_from="x-terminal-emulator")
        r, calls, term = self.fa.run_in_terminal(
            ["--terminal", "restore", "/x/phone.mtknvd.tar"],
            [["Continue? [y/N]", "y\n"], ["Press Enter to close this window.", "\n"]],
            env_extra=self.session(FAKE_RESTORE_FAIL="no phone is connected"))
        # Debian's x-terminal-emulator alternative resolved to the real emulator's options
        self.assertEqual(term["args"][:2], ["-geometry", "100x30"])
        self.assertEqual(term["status"], 1)
        screen = term["screen"]
        self.assertIn("Error: no phone is connected", screen)
        self.assertIn("mtknvd: not done", screen)
        self.assertLess(screen.index("phone.mtknvd.tar: not restored"),
                        screen.rindex("Press Enter to close this window."))
        self.assertEqual(term["alive"], [True, True])
        self.assertEqual(term["unread"], 0, "the window closed without waiting for its Enter")
        self.assertEqual(self.notes(), [("mtknvd: not done", "phone.mtknvd.tar: not restored (cancelled or "
                                         "failed; backup mt6735_ab/20260101T000000Z-import stays in the store)", 2)])

    def test_import_failure_and_terminal_without_size(self):
        # gnome-terminal's options; a terminal that reports no size: mtknvctl is told the width asked for
        self.fa.add_terminal("gnome-terminal")
        self.fa.add_terminal("konsole")
        r, calls, term = self.fa.run_in_terminal(
            ["--terminal", "import-spflash", "/x/nvram.img"], [["Press Enter", "\n"]],
            env_extra=self.session(FAKE_TERM_NOSIZE="1", FAKE_IMPORT_FAIL="/x/nvram.img: no such file"))
        self.assertEqual(term["argv0"], "gnome-terminal")
        self.assertEqual(term["args"][:2], ["--geometry=100x30", "--"])
        self.assertIn("Error: /x/nvram.img: no such file", term["screen"])
        self.assertIn("nvram.img: not imported", term["screen"])
        self.assertEqual(term["alive"], [True])
        self.assertEqual(term["unread"], 0, "the window closed without waiting for its Enter")
        self.assertEqual(self.notes(), [("mtknvd: not done", "nvram.img: not imported", 2)])
        # the same terminal, a success: COLUMNS is what mtknvctl learns the width from
        self.mock_iface.ClearCalls()
        r, calls, term = self.fa.run_in_terminal(["--terminal", "import-spflash", "/x/nvram.img"],
                                                 [["Press Enter", "\n"]], env_extra=self.session(FAKE_TERM_NOSIZE="1"))
        self.assertEqual(calls, ["import --spflash /x/nvram.img"])
        self.assertEqual(self.fa.lines("seen"), ["import tty=yes size=0 0 COLUMNS=100"])
        self.assertEqual(self.notes(), [("mtknvd: done", "nvram.img: imported as an mtknvd backup", 1)])
        # konsole's options, when it is the one there
        os.unlink(os.path.join(self.fa.bindir, "gnome-terminal"))
        r, calls, term = self.fa.run_in_terminal(["--terminal", "import-spflash", "/x/nvram.img"],
                                                 [["Press Enter", "\n"]], env_extra=self.session())
        self.assertEqual(term["args"][:5], ["-p", "TerminalColumns=100", "-p", "TerminalRows=30", "-e"])
        self.assertEqual(self.fa.lines("seen"), ["import tty=yes size=30 100 COLUMNS="])

    def test_show_declined_restores_nothing(self):
        self.fa.add_terminal("xterm")
        r, calls, term = self.fa.run_in_terminal(
            ["--terminal", "/x/phone-backup"],
            [["Restore it to the connected phone?", "\n"], ["Press Enter", "\n"]], env_extra=self.session())
        self.assertEqual(calls, ["inspect /x/phone-backup"])
        self.assertIn("an mtknvd backup of an MT6735", term["screen"])
        self.assertEqual(self.notes(), [("mtknvd: done", "phone-backup: shown, nothing was restored", 1)])

    def test_no_terminal_emulator(self):
        # a click with no terminal emulator to be found: the notification says so, nothing is run
        r, calls, term = self.fa.run_in_terminal(["--terminal", "restore", "/x/phone.mtknvd.tar"], [],
                                                 env_extra=self.session())
        self.assertEqual(r.returncode, 1)
        self.assertIsNone(term)
        self.assertEqual(calls, [])
        self.assertIn("no terminal emulator found", r.stderr)
        notes = self.notes()
        self.assertEqual([n[0] for n in notes], ["mtknvd: nothing was done"])
        self.assertIn("No terminal emulator", notes[0][1])


GIO_APPS = """if True:
    import json, sys
    from gi.repository import Gio
    t = sys.argv[1]
    d = Gio.AppInfo.get_default_for_type(t, False)
    print(json.dumps({"default": d.get_id() if d else None,
                      "all": [(a.get_id(), a.get_commandline()) for a in Gio.AppInfo.get_all_for_type(t)]}))
"""


def wait_fifo(path, timeout=120):
    """Block until something opens the FIFO path for writing and closes it; return what it wrote."""
    got = []
    def read():
        with open(path) as f:
            got.append(f.read())
    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        with open(path, "w"):
            pass
        t.join()
        raise AssertionError("the terminal the file action opens did not finish")
    return got[0]


def desktop_env(dest, tmp):
    """Private XDG directories holding only the installed MIME package and desktop entries (and the
    system's, for application/x-tar): what Nautilus and `gio open` consult.  Compiles the MIME database."""
    share = os.path.join(dest, "usr/share")
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, "xdg-data-home"), XDG_DATA_DIRS=share + ":/usr/share",
               XDG_CONFIG_HOME=os.path.join(tmp, "xdg-config-home"), XDG_CONFIG_DIRS=os.path.join(tmp, "xdg-config"),
               XDG_CURRENT_DESKTOP="GNOME", GIO_USE_VFS="local")
    for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS"):
        os.makedirs(env[k], exist_ok=True)
    # GIO ignores an entry whose program is not there: the entry runs the wrapper as installed in dest
    entry = os.path.join(share, "applications/org.mtknvd.mtknvctl.desktop")
    with open(entry) as f:
        text = f.read()
    with open(entry, "w") as f:
        f.write(text.replace("/usr/libexec/", os.path.join(dest, "usr/libexec/")))
    # GIO finds a type's applications in mimeinfo.cache, as a real install's trigger (or make install) makes it
    subprocess.run(["update-desktop-database", os.path.join(share, "applications")], check=True, env=env)
    r = subprocess.run(["update-mime-database", "-V", os.path.join(share, "mime")], capture_output=True, text=True,
                       env=env)
    if r.returncode != 0 or "rror" in r.stderr:
        raise AssertionError(r.stderr)
    return env


def double_click(test, fa, path, script, desktop, base_env=None):
    """`gio open`, as Nautilus opens a file: its type's default application, which opens a (fake)
    terminal that plays script.  desktop: desktop_env()'s; base_env: the environment to start from
    (fa's by default).  Returns the stand-in mtknvctl's calls and the terminal's record."""
    done = os.path.join(fa.tmp, "done")
    if not os.path.exists(done):
        os.mkfifo(done)
        fa.add_terminal("xterm")
    env = dict(base_env or fa.env())
    env.update({k: v for k, v in desktop.items() if k.startswith(("XDG_", "GIO_"))})
    env.update(PATH=fa.bindir + ":/usr/bin:/bin", FAKE_DIR=fa.tmp, XDG_RUNTIME_DIR=fa.runtime, FAKE_TERM_DONE=done,
               FAKE_TERM_SCRIPT=json.dumps(script))
    fa._reset()
    subprocess.run(["gio", "open", path], env=env, check=True, timeout=60, stdin=subprocess.DEVNULL)
    wait_fifo(done)
    term = json.loads(fa.lines("terminal")[0])
    test.assertFalse(term["timeout"], term["screen"])
    return fa.lines("calls"), term


class TestDefaultHandler(unittest.TestCase):
    """Nautilus: what a double-click on an archive runs is GIO's default application for its type.  It
    must never be a restore, and a restore begun from it asks first."""

    def setUp(self):
        for tool in ("update-mime-database", "update-desktop-database", "gio"):
            if not shutil.which(tool):
                self.skipTest("%s is not installed (make deps)" % tool)
        self.dest = tempfile.mkdtemp(prefix="mtknvd-default-")
        self.addCleanup(shutil.rmtree, self.dest, ignore_errors=True)
        make_install(self.dest)
        self.env = desktop_env(self.dest, self.dest)

    def apps(self, mime_type, env=None):
        r = subprocess.run([sys.executable, "-c", GIO_APPS, mime_type], capture_output=True, text=True,
                           env=env or self.env, check=True)
        return json.loads(r.stdout)

    def test_default_application_does_not_restore(self):
        r = subprocess.run(["gio", "mime", BACKUP_TYPE], capture_output=True, text=True, env=self.env, check=True)
        self.assertIn("Default application for “%s”: org.mtknvd.mtknvctl.desktop" % BACKUP_TYPE, r.stdout)
        for t in (BACKUP_TYPE, READBACK_TYPE):
            apps = self.apps(t)
            self.assertEqual(apps["default"], "org.mtknvd.mtknvctl.desktop", t)
            ours = [cmd for app, cmd in apps["all"] if "mtknvd-file-action" in cmd]
            self.assertEqual(ours, [os.path.join(self.dest, "usr/libexec/mtknvd-file-action") + " --terminal %f"], t)
        # an explicit choice (mimeapps.list, as "Open With" writes it) is not ours to override: a
        # user's own default still wins, which shows this one is only the fallback
        with open(os.path.join(self.env["XDG_CONFIG_HOME"], "mimeapps.list"), "w") as f:
            f.write("[Default Applications]\n%s=vim.desktop\n" % BACKUP_TYPE)
        if os.path.exists("/usr/share/applications/vim.desktop"):
            self.assertEqual(self.apps(BACKUP_TYPE)["default"], "vim.desktop")
        os.unlink(os.path.join(self.env["XDG_CONFIG_HOME"], "mimeapps.list"))

    def double_click(self, fa, path, script):
        return double_click(self, fa, path, script, self.env)

    def test_double_click_asks_before_restoring(self):
        fa = FileActionBench(self, os.path.join(self.dest, "usr/libexec/mtknvd-file-action"))
        archive = os.path.join(fa.tmp, "phone.mtknvd.tar")
        with open(archive, "wb") as f:
            f.write(bytes(10240))
        # Enter: the default answer is no
        calls, term = self.double_click(fa, archive, [["Restore it to the connected phone? ", "\n"],
                                                     ["Press Enter", "\n"]])
        self.assertEqual(calls, ["inspect " + archive])
        self.assertIn("phone.mtknvd.tar: shown, nothing was restored", term["screen"])
        # yes: only then the restore, on the terminal, where mtknvctl asks again
        calls, term = self.double_click(fa, archive, [["Restore it to the connected phone? ", "y\n"],
                                                     ["Continue? [y/N]", "n\n"], ["Press Enter", "\n"]])
        self.assertEqual(calls, ["inspect " + archive, "--json import " + archive,
                                 "restore mt6735_ab/20260101T000000Z-import"])
        self.assertIn("restore tty=yes size=30 100 COLUMNS=", fa.lines("seen"))
        self.assertIn("phone.mtknvd.tar: not restored", term["screen"])


class TestMimeAndCompletion(WorldTestCase):
    """A real exported archive and the daemon's phones and backups."""

    def test_exported_archive_type_and_completion_ids(self):
        for tool in ("update-mime-database", "gio"):
            if not shutil.which(tool):
                self.skipTest("%s is not installed (make deps)" % tool)
        w = self.world(config="AutoBackup=first-seen\n", daemon_args=["--grace-period=300"])
        w.wait_until(lambda: len(w.backups) == 1, "automatic backup stored")
        backup = w.ctl_json("backups")[0]
        dest = os.path.join(w.tmp, "dest")
        make_install(dest)

        # the database an install to /usr makes: the installed package compiled together with the
        # system's (which supplies application/x-tar), in a private XDG_DATA_HOME, and nothing else.
        # (One database: a glob of one database does not beat a shorter glob of another, so
        # *.mtknvd.tar.gz loses to *.tar.gz when the package is in /usr/local/share/mime.)
        home = os.path.join(w.tmp, "xdg-data")
        os.makedirs(os.path.join(home, "mime", "packages"))
        for f in os.listdir("/usr/share/mime/packages"):
            shutil.copy(os.path.join("/usr/share/mime/packages", f), os.path.join(home, "mime", "packages"))
        shutil.copy(os.path.join(dest, "usr/share/mime/packages/mtknvd.xml"),
                    os.path.join(home, "mime", "packages"))
        nowhere = os.path.join(w.tmp, "no-xdg-data-dirs")
        r = subprocess.run(["update-mime-database", "-V", os.path.join(home, "mime")], capture_output=True,
                           text=True, env=dict(os.environ, XDG_DATA_HOME=home, XDG_DATA_DIRS=nowhere))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("rror", r.stderr)
        with open(os.path.join(home, "mime", "types")) as f:
            self.assertIn(BACKUP_TYPE, f.read().split())

        files = os.path.join(w.tmp, "files")
        os.makedirs(files)
        for name in ("phone.mtknvd.tar", "phone-backup", "foo.bin"):
            w.ctl("export-backup", backup["id"], os.path.join(files, name))
        with open(os.path.join(files, "foo.bin"), "rb") as f:
            export = f.read()
        # compressed: only the name can tell (the stream hides the tar header and the manifest)
        with gzip.open(os.path.join(files, "phone.mtknvd.tar.gz"), "wb", compresslevel=1) as f:
            f.write(export)
        with lzma.open(os.path.join(files, "phone.mtknvd.tar.xz"), "wb", preset=0) as f:
            f.write(export)
        with gzip.open(os.path.join(files, "phone.tar.gz"), "wb", compresslevel=1) as f:
            f.write(export)
        # a tar whose first member is some other program's manifest.yaml
        other = os.path.join(w.tmp, "other")
        os.makedirs(other)
        with open(os.path.join(other, "manifest.yaml"), "w") as f:
            f.write("format_version: 1\ntool: \"something-else\"\n")
        subprocess.run(["tar", "--format=ustar", "-cf", os.path.join(files, "other-manifest"), "-C", w.tmp,
                        "other/manifest.yaml"], check=True)
        for name in ("nvram.img", "NVRAM.BIN"):
            with open(os.path.join(files, name), "wb") as f:
                f.write(bytes(4096))
        subprocess.run(["tar", "-cf", os.path.join(files, "plain"), "-C", w.tmp, "mtknvd.conf"], check=True)

        env = dict(os.environ, XDG_DATA_HOME=home, XDG_DATA_DIRS=nowhere, GIO_USE_VFS="local")

        def content_type(name):
            r = subprocess.run(["gio", "info", "-a", "standard::content-type", os.path.join(files, name)],
                               capture_output=True, text=True, env=env, check=True)
            return re.search(r"standard::content-type: (\S+)", r.stdout).group(1)

        self.assertEqual(content_type("phone.mtknvd.tar"), BACKUP_TYPE)   # the glob
        self.assertEqual(content_type("phone-backup"), BACKUP_TYPE)       # the magic
        self.assertEqual(content_type("foo.bin"), BACKUP_TYPE)            # the magic, whatever the name
        self.assertEqual(content_type("phone.mtknvd.tar.gz"), BACKUP_TYPE)
        self.assertEqual(content_type("phone.mtknvd.tar.xz"), BACKUP_TYPE)
        self.assertEqual(content_type("phone.tar.gz"), "application/x-compressed-tar")
        self.assertEqual(content_type("other-manifest"), "application/x-tar")
        self.assertEqual(content_type("plain"), "application/x-tar")      # a tar of something else
        self.assertEqual(content_type("nvram.img"), READBACK_TYPE)
        self.assertEqual(content_type("NVRAM.BIN"), READBACK_TYPE)
        # the data alone, and the type's place under tar
        r = subprocess.run([sys.executable, "-c", """if True:
            import sys
            from gi.repository import Gio
            data = open(sys.argv[1], "rb").read(4096)
            t, uncertain = Gio.content_type_guess(None, data)
            print(t, Gio.content_type_is_a(t, "application/x-tar"), Gio.content_type_get_description(t))
            """, os.path.join(files, "phone-backup")], capture_output=True, text=True, env=env, check=True)
        self.assertEqual(r.stdout.strip(), BACKUP_TYPE + " True MediaTek phone identity backup")

        # completion of phones and backups, from the daemon
        if os.path.exists(BASH_COMPLETION):
            device = next(iter(w.objects)).rsplit("/", 1)[1]
            got = complete(os.path.join(dest, "usr/share/bash-completion/completions/mtknvctl"),
                           [["show", ""], ["restore", ""], ["backups", ""], ["export-backup", "mt"],
                            ["--device", device[:4]], ["delete-backup", ""], ["remove-da", ""]], env=w.env())
            self.assertEqual(got[0], {device})
            self.assertEqual(got[1], {backup["id"]})
            self.assertEqual(got[2], {backup["device_key"]})
            self.assertEqual(got[3], {backup["id"]})
            self.assertEqual(got[4], {device})
            self.assertEqual(got[5], {backup["id"]})
            self.assertEqual(got[6], {"test-da.bin"})    # the harness's DA, from list-da


class TestFileActionWithDaemon(RestoreTestCase):
    """The wrapper with the real mtknvctl: what a click in the file manager does."""

    def action(self, w, *args, answer=b""):
        """Run the installed wrapper on a terminal (a pty), typing answer."""
        dest = os.path.join(w.tmp, "dest")
        if not os.path.exists(dest):
            make_install(dest)
        env = dict(w.env(), MTKNVCTL=MTKNVCTL)
        master, slave = pty.openpty()
        try:
            os.write(master, answer)
            r = subprocess.run([os.path.join(dest, "usr/libexec/mtknvd-file-action")] + list(args), stdin=slave,
                               capture_output=True, text=True, env=env, timeout=120)
        finally:
            os.close(master)
            os.close(slave)
        return r

    def test_restore_archive_to_connected_phone(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        archive = os.path.join(w.tmp, "phone.mtknvd.tar")
        w.ctl("export-backup", bid, archive)
        self.scribble(storage)
        self.replug_listening(w)
        r = self.action(w, "restore", archive, answer=b"y\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Imported %s as backup" % archive, r.stdout)
        for n in IDENTITY:
            self.assertEqual(self.read_part(storage, n), original[n], n + " not restored")

    def test_double_click_on_a_renamed_export(self):
        """The whole way from a file manager: an export called foo.bin, recognised by its content, opened
        by its type's default application (gio open), shown, restored after the two yeses, the result in
        the window and in a notification."""
        for tool in ("update-mime-database", "update-desktop-database", "gio"):
            if not shutil.which(tool):
                self.skipTest("%s is not installed (make deps)" % tool)
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        dest = os.path.join(w.tmp, "dest")
        make_install(dest)
        desktop = desktop_env(dest, w.tmp)
        fa = FileActionBench(self, os.path.join(dest, "usr/libexec/mtknvd-file-action"))
        archive = os.path.join(fa.tmp, "foo.bin")
        w.ctl("export-backup", bid, archive)
        self.scribble(storage)
        self.replug_listening(w)
        session = Session(w)
        self.addCleanup(session.close)
        env = dict(fa.env(), **session.env())
        env.update(MTKNVCTL=MTKNVCTL, XDG_RUNTIME_DIR=fa.runtime)
        calls, term = double_click(self, fa, archive, [["Restore it to the connected phone? ", "y\n"],
                                                      ["Continue? [y/N]", "y\n"], ["Press Enter", "\n"]],
                                   desktop, base_env=env)
        screen = term["screen"]
        self.assertEqual(term["status"], 0, screen)
        self.assertEqual(term["args"][:2], ["-geometry", "100x30"])
        self.assertIn("Imported %s as backup" % archive, screen)
        self.assertIn("foo.bin: restored to the phone", screen)
        self.assertEqual(term["unread"], 0, "the window closed without waiting for its Enter")
        for n in IDENTITY:
            self.assertEqual(self.read_part(storage, n), original[n], n + " not restored")
        notes = [(c[1][3], c[1][4]) for c in session.mock_calls()]
        self.assertEqual([n[0] for n in notes], ["mtknvd: done"])
        self.assertRegex(notes[0][1], r"^foo\.bin: restored to the phone \(backup \S+\)$")

    def test_restore_needs_a_yes(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        archive = os.path.join(w.tmp, "phone.mtknvd.tar")
        w.ctl("export-backup", next(iter(w.backups.values()))["Id"], archive)
        self.scribble(storage)
        wiped = self.read_part(storage, "nvram")
        self.replug_listening(w)
        # the restore action: mtknvctl asks, and a no writes nothing
        r = self.action(w, "restore", archive, answer=b"n\n")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("Continue? [y/N]", r.stderr)
        self.assertIn("Nothing was done.", r.stderr)
        self.assertEqual(self.read_part(storage, "nvram"), wiped)
        # opening it (no action named): shown, and a yes to the wrapper's question still meets mtknvctl's
        r = self.action(w, archive, answer=b"y\nn\n")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("Restore it to the connected phone?", r.stdout)
        self.assertIn("Continue? [y/N]", r.stderr)
        self.assertEqual(self.read_part(storage, "nvram"), wiped)

    def test_import_spflash_readback_folder(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        rb = os.path.join(w.tmp, "readback")
        os.mkdir(rb)
        with open(os.path.join(rb, "MT6735_Android_scatter.txt"), "w") as f:
            f.write(scatter_text())
        for n in IDENTITY:
            with open(os.path.join(rb, n + ".img"), "wb") as f:
                f.write(self.read_part(storage, n))
        before = set(w.backups)
        r = self.action(w, os.path.join(rb, "nvram.img"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        w.wait_until(lambda: len(w.backups) > len(before), "the readback published as a backup")
        new = [b for p, b in w.backups.items() if p not in before][0]
        self.assertEqual(new["Source"], "import")
        self.assertEqual(sorted(p[0] for p in new["Partitions"]), sorted(IDENTITY))

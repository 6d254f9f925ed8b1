# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 5: the desktop and system-integration files, as installed by
`make install`, checked with the tools that consume them.

  desktop-file-validate   the autostart entry, the application entry (its
                          actions), the KDE service menus
  xmllint --dtdvalid      the polkit policy (polkitd's policyconfig-1.dtd),
                          the introspection XML and the bus policy
                          (libdbus-1-dev's introspect.dtd and busconfig.dtd)
  systemd-analyze verify  the agent's user unit
  update-mime-database    the MIME package in a private XDG_DATA_HOME; GIO
  + gio info              (what Nautilus and xdg-mime on GNOME ask) must see
                          an exported archive as application/x-mtknvd-backup
  bash                    the completion, with bash-completion's helpers
  sh                      the file managers' wrapper, against a stand-in
                          mtknvctl that records its arguments
"""

import configparser
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import BUILD, TOP, WorldTestCase
from test_backup import IDENTITY, scatter_text
from test_restore import RestoreTestCase

MAKE_BUILD = os.environ.get("MTKNVD_BUILD", "build")
MTKNVCTL = os.path.join(BUILD, "mtknvctl")
BACKUP_TYPE = "application/x-mtknvd-backup"
READBACK_TYPE = "application/x-mtk-nvram-readback"

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
        self.assertEqual(entry["Terminal"], "true")
        names = {}
        for action in entry["Actions"].rstrip(";").split(";"):
            group = app["Desktop Action " + action]
            names[group["Name"]] = group["Exec"]
            self.assert_exec_installed(group["Exec"])
        self.assertEqual(names, {
            "Restore to connected phone": "/usr/libexec/mtknvd-file-action restore %f",
            "Import SP Flash Tool readback": "/usr/libexec/mtknvd-file-action import-spflash %f"})

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
            self.assertEqual(group["Exec"], "/usr/libexec/mtknvd-file-action %s %%f" % action)
            self.assert_exec_installed(group["Exec"])

    def test_nemo_actions(self):
        for name, mime, action in (("mtknvd-restore", BACKUP_TYPE, "restore"),
                                   ("mtknvd-import-spflash", READBACK_TYPE, "import-spflash")):
            nemo = read_desktop(self.path("usr/share/nemo/actions/%s.nemo_action" % name))["Nemo Action"]
            # what Nemo requires of an action file
            for key in ("Name", "Exec", "Selection"):
                self.assertIn(key, nemo)
            self.assertEqual(nemo["Mimetypes"], mime + ";")
            self.assertEqual(nemo["Exec"], "/usr/libexec/mtknvd-file-action %s %%F" % action)
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
        tmp = tempfile.mkdtemp(prefix="mtknvd-file-action-")
        self.addCleanup(shutil.rmtree, tmp)
        log = os.path.join(tmp, "calls")
        fake = os.path.join(tmp, "mtknvctl")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\necho "$*" >> %s\n'
                    'case "$*" in "--json import "*) echo \'{"id":"mt6735_ab/20260101T000000Z-import",'
                    '"source":"import"}\';; esac\n' % log)
        os.chmod(fake, 0o755)
        action = self.path("usr/libexec/mtknvd-file-action")

        def run(args, tty=True, env_extra=None, path=None):
            if os.path.exists(log):
                os.unlink(log)
            env = dict(os.environ, MTKNVCTL=fake)
            env.pop("MTKNVD_FILE_ACTION_IN_TERMINAL", None)
            if path:
                env["PATH"] = path
            env.update(env_extra or {})
            master, slave = pty.openpty()
            try:
                r = subprocess.run([action] + args, stdin=slave if tty else subprocess.DEVNULL,
                                   capture_output=True, text=True, env=env, cwd=tmp, timeout=30)
            finally:
                os.close(master)
                os.close(slave)
            calls = open(log).read().splitlines() if os.path.exists(log) else []
            return r, calls

        r, calls = run(["restore", "/x/phone.mtknvd.tar"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(calls, ["--json import /x/phone.mtknvd.tar", "restore mt6735_ab/20260101T000000Z-import"])
        r, calls = run(["import-spflash", "/x/nvram.img"])
        self.assertEqual(calls, ["import --spflash /x/nvram.img"])
        # by name, as a Nautilus script gets the selection
        r, calls = run(["/x/NVRAM.img", "/x/backup.tar"])
        self.assertEqual(calls, ["import --spflash /x/NVRAM.img", "--json import /x/backup.tar",
                                 "restore mt6735_ab/20260101T000000Z-import"])
        # the rest of the identity set read back into the same folder goes along
        rb = os.path.join(tmp, "readback")
        os.makedirs(rb)
        for name in ("nvram.img", "nvdata.img", "protect1.bin", "boot.img", "MT6735_Android_scatter.txt"):
            open(os.path.join(rb, name), "w").close()
        r, calls = run(["import-spflash", os.path.join(rb, "nvram.img")])
        self.assertEqual(calls, ["import --spflash {0}/nvram.img {0}/nvdata.img {0}/protect1.bin".format(rb)])
        r, calls = run([], env_extra={"NAUTILUS_SCRIPT_SELECTED_FILE_PATHS": "/x/nvram.bin\n"})
        self.assertEqual(calls, ["import --spflash /x/nvram.bin"])
        r, calls = run([])
        self.assertEqual(r.returncode, 2)
        # no terminal (a file manager's click): it starts itself in one, with absolute names
        bindir = os.path.join(tmp, "bin")
        os.makedirs(bindir)
        with open(os.path.join(bindir, "x-terminal-emulator"), "w") as f:
            f.write('#!/bin/sh\necho "terminal $*" >> %s\n[ "$1" = -e ] && shift\nexec "$@" </dev/null\n' % log)
        os.chmod(os.path.join(bindir, "x-terminal-emulator"), 0o755)
        r, calls = run(["restore", "here.mtknvd.tar"], tty=False, path=bindir + ":/usr/bin:/bin")
        self.assertEqual(calls[0], "terminal -e %s restore %s/here.mtknvd.tar" % (action, tmp))
        self.assertEqual(calls[1], "--json import %s/here.mtknvd.tar" % tmp)
        self.assertIn("Press Enter", r.stdout)


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

        # a private XDG_DATA_HOME holding only the installed package; the
        # system database (XDG_DATA_DIRS) supplies application/x-tar
        home = os.path.join(w.tmp, "xdg-data")
        os.makedirs(os.path.join(home, "mime", "packages"))
        shutil.copy(os.path.join(dest, "usr/share/mime/packages/mtknvd.xml"),
                    os.path.join(home, "mime", "packages"))
        r = subprocess.run(["update-mime-database", "-V", os.path.join(home, "mime")], capture_output=True,
                           text=True, env=dict(os.environ, XDG_DATA_HOME=home, XDG_DATA_DIRS="/usr/share"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("rror", r.stderr)
        with open(os.path.join(home, "mime", "types")) as f:
            self.assertIn(BACKUP_TYPE, f.read().split())

        files = os.path.join(w.tmp, "files")
        os.makedirs(files)
        for name in ("phone.mtknvd.tar", "phone-backup"):
            w.ctl("export-backup", backup["id"], os.path.join(files, name))
        for name in ("nvram.img", "NVRAM.BIN"):
            with open(os.path.join(files, name), "wb") as f:
                f.write(bytes(4096))
        subprocess.run(["tar", "-cf", os.path.join(files, "plain"), "-C", w.tmp, "mtknvd.conf"], check=True)

        env = dict(os.environ, XDG_DATA_HOME=home, XDG_DATA_DIRS="/usr/share", GIO_USE_VFS="local")

        def content_type(name):
            r = subprocess.run(["gio", "info", "-a", "standard::content-type", os.path.join(files, name)],
                               capture_output=True, text=True, env=env, check=True)
            return re.search(r"standard::content-type: (\S+)", r.stdout).group(1)

        self.assertEqual(content_type("phone.mtknvd.tar"), BACKUP_TYPE)   # the glob
        self.assertEqual(content_type("phone-backup"), BACKUP_TYPE)       # the magic
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

    def test_restore_needs_a_yes(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        archive = os.path.join(w.tmp, "phone.mtknvd.tar")
        w.ctl("export-backup", next(iter(w.backups.values()))["Id"], archive)
        self.scribble(storage)
        wiped = self.read_part(storage, "nvram")
        self.replug_listening(w)
        r = self.action(w, archive, answer=b"n\n")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
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

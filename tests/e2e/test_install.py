# SPDX-License-Identifier: LGPL-2.1-or-later
"""make install into a temporary DESTDIR; each file checked with the real tools.  The packaging: a
build with a distribution's flags, PREFIX and SYSCONFDIR, and the Debian package of contrib/debian."""

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import xml.dom.minidom

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MTKNVD_BUILD", "build")
# The daemon and client built as a distribution builds them: PREFIX=/usr and flags of its own
# (dpkg-buildflags' kind), none of which the Makefile has itself.  Every test here is a process
# of its own: the first builds it, under a lock, and make finds it up to date for the others.
DIST_BUILD = os.path.join(TOP, BUILD, "dist-usr")
DIST_FLAGS = ["CFLAGS=-frecord-gcc-switches -fstack-clash-protection", "CPPFLAGS=-D_FORTIFY_SOURCE=2",
              "LDFLAGS=-Wl,-z,now"]
# a make started by `make check` must not inherit its variables: make puts the ones set on its command line
# (make check SANITIZE=1) into the environment of what it runs, as well as into MAKEFLAGS
MAKE_ENV = {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CFLAGS", "CPPFLAGS", "LDFLAGS", "CC",
                         "SANITIZE", "BUILD", "WERROR", "PREFIX", "DESTDIR", "SYSCONFDIR", "TESTS", "V")}


def make(*args, cwd=TOP):
    return subprocess.run(["make", "--no-print-directory", "-s"] + list(args), cwd=cwd, env=MAKE_ENV, check=True,
                          capture_output=True, text=True)


@contextlib.contextmanager
def dist_build():
    """DIST_BUILD, up to date and held for the caller."""
    os.makedirs(DIST_BUILD, exist_ok=True)
    with open(os.path.join(DIST_BUILD, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        make("-j2", "PREFIX=/usr", "BUILD=" + DIST_BUILD, *DIST_FLAGS,
             os.path.join(DIST_BUILD, "mtknvd"), os.path.join(DIST_BUILD, "mtknvctl"))
        yield DIST_BUILD


def installed_files(root):
    return sorted(os.path.relpath(os.path.join(r, f), root) for r, _, fs in os.walk(root) for f in fs)


class TestInstall(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="mtknvd-install-")
        with dist_build() as b:
            make("install", "DESTDIR=" + cls.dest, "PREFIX=/usr", "BUILD=" + b, *DIST_FLAGS)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def path(self, p):
        return os.path.join(self.dest, p.lstrip("/"))

    def test_files_and_uninstall(self):
        for p in ("usr/bin/mtknvctl", "usr/libexec/mtknvd", "usr/lib/systemd/system/mtknvd.service",
                  "usr/lib/udev/rules.d/70-mtknvd.rules", "usr/share/dbus-1/system.d/org.mtknvd.MtkNv1.conf",
                  "usr/share/dbus-1/system-services/org.mtknvd.MtkNv1.service",
                  "usr/share/polkit-1/actions/org.mtknvd.MtkNv1.policy", "usr/share/man/man8/mtknvd.8",
                  "usr/share/metainfo/org.mtknvd.mtknvd.metainfo.xml",
                  "usr/share/icons/hicolor/scalable/apps/org.mtknvd.mtknvd.svg", "etc/mtknvd/mtknvd.conf"):
            self.assertTrue(os.path.isfile(self.path(p)), p)
        with open(self.path("usr/lib/systemd/system/mtknvd.service")) as f:
            self.assertIn("ExecStart=/usr/libexec/mtknvd", f.read())
        d = tempfile.mkdtemp()
        try:
            with dist_build() as b:
                make("install", "DESTDIR=" + d, "PREFIX=/usr", "BUILD=" + b, *DIST_FLAGS)
                make("uninstall", "DESTDIR=" + d, "PREFIX=/usr", "BUILD=" + b, *DIST_FLAGS)
            # only the configuration stays (the metainfo and the icon go with the rest)
            self.assertEqual(installed_files(d), ["etc/mtknvd/mtknvd.conf"])
        finally:
            shutil.rmtree(d)

    def test_sysconfdir_of_prefix_usr(self):
        # SYSCONFDIR=/etc for PREFIX=/usr: the daemon's compiled-in default and the unit agree
        r = subprocess.run([self.path("usr/libexec/mtknvd"), "--help"], capture_output=True, text=True)
        self.assertIn("(default: /etc/mtknvd/mtknvd.conf)", r.stdout + r.stderr)
        with open(self.path("usr/lib/systemd/system/mtknvd.service")) as f:
            self.assertRegex(f.read(), r"(?m)^ConfigurationDirectory=mtknvd$")
        self.assertFalse([f for f in installed_files(self.dest) if f.startswith("usr/etc")])
        with open(self.path("usr/share/man/man5/mtknvd.conf.5")) as f:
            self.assertIn(".I /etc/mtknvd/mtknvd.conf\n", f.read())

    def test_prefix_opt_writes_only_under_prefix(self):
        d = tempfile.mkdtemp(prefix="mtknvd-opt-")
        try:
            # a copy of the build (mtimes kept): install rebuilds main.c for the other SYSCONFDIR
            b = os.path.join(d, "build")
            with dist_build() as src:
                shutil.copytree(src, b, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
            dest = os.path.join(d, "dest")
            make("install", "DESTDIR=" + dest, "PREFIX=/opt/mtknvd-test", "BUILD=" + b, *DIST_FLAGS)
            files = installed_files(dest)
            self.assertEqual([f for f in files if not f.startswith("opt/mtknvd-test/")], [])
            for f in ("opt/mtknvd-test/etc/mtknvd/mtknvd.conf", "opt/mtknvd-test/etc/xdg/autostart/mtknvd-agent.desktop",
                      "opt/mtknvd-test/libexec/mtknvd", "opt/mtknvd-test/bin/mtknvctl",
                      "opt/mtknvd-test/lib/systemd/system/mtknvd.service"):
                self.assertIn(f, files)
            r = subprocess.run([os.path.join(dest, "opt/mtknvd-test/libexec/mtknvd"), "--help"], capture_output=True,
                               text=True)
            self.assertIn("(default: /opt/mtknvd-test/etc/mtknvd/mtknvd.conf)", r.stdout + r.stderr)
            with open(os.path.join(dest, "opt/mtknvd-test/lib/systemd/system/mtknvd.service")) as f:
                unit = f.read()
            # systemd's ConfigurationDirectory= is always under /etc: not this install's
            self.assertNotIn("ConfigurationDirectory=", unit)
            self.assertIn("ExecStart=/opt/mtknvd-test/libexec/mtknvd", unit)
            # the pages name the configuration file this install reads
            for page in ("man5/mtknvd.conf.5", "man8/mtknvd.8"):
                with open(os.path.join(dest, "opt/mtknvd-test/share/man", page)) as f:
                    text = f.read()
                self.assertIn("/opt/mtknvd-test/etc/mtknvd/mtknvd.conf", text, page)
                self.assertNotIn("@", text.replace("\\(at", ""), page)
        finally:
            shutil.rmtree(d)

    def test_caller_flags_reach_every_object_and_link(self):
        with dist_build() as b:
            objs = [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(b, "obj")) for f in fs
                    if f.endswith(".o")]
            self.assertGreater(len(objs), 20)
            for o in objs:
                r = subprocess.run(["readelf", "-p", ".GCC.command.line", o], capture_output=True, text=True)
                self.assertIn("-fstack-clash-protection", r.stdout, o)
            for exe in ("mtknvd", "mtknvctl"):
                dyn = subprocess.run(["readelf", "-d", os.path.join(b, exe)], capture_output=True, text=True).stdout
                self.assertRegex(dyn, r"\(FLAGS\)\s+BIND_NOW", exe)       # LDFLAGS
                syms = subprocess.run(["readelf", "--dyn-syms", "-W", os.path.join(b, exe)], capture_output=True,
                                      text=True).stdout
                self.assertRegex(syms, r"__\w+_chk", exe)                   # CPPFLAGS' _FORTIFY_SOURCE

    def _lines(self, *args):
        """The command lines make would run for a fresh build of mtknvctl and the daemon's main.o."""
        b = os.path.join(self.dest, "nobuild")
        out = make("-n", "V=1", "BUILD=" + b, *args, b + "/mtknvctl", b + "/obj/daemon/main.o").stdout
        cc = [l for l in out.splitlines() if " -c " in l]
        link = [l for l in out.splitlines() if " -o " + b + "/mtknvctl" in l]
        self.assertTrue(cc and link, out)
        return cc, link[0]

    def test_make_lines_cc_flags_werror(self):
        cc, link = self._lines("CC=mtknvd-test-cc", "CPPFLAGS=-DMTKNVD_TEST_CPPFLAG=1", "CFLAGS=-DMTKNVD_TEST_FLAG=1",
                               "LDFLAGS=-Wl,--mtknvd-test")
        for l in cc:
            self.assertTrue(l.startswith("mtknvd-test-cc "), l)
            # after the Makefile's own flags, so that the caller's win
            self.assertGreater(l.index("-DMTKNVD_TEST_FLAG=1"), l.index("-Werror"), l)
            self.assertGreater(l.index("-DMTKNVD_TEST_CPPFLAG=1"), l.index("-std=gnu11"), l)
        self.assertTrue(link.startswith("mtknvd-test-cc "), link)
        self.assertIn("-DMTKNVD_TEST_FLAG=1", link)
        self.assertIn("-Wl,--mtknvd-test", link)
        # the default PREFIX=/usr/local has its configuration in /usr/local/etc
        main = [l for l in cc if "daemon/main.c" in l][0]
        self.assertIn('-DSYSCONFDIR=\\"/usr/local/etc\\"', main)
        # a distribution's build: no -Werror anywhere
        cc, link = self._lines("WERROR=0")
        for l in cc + [link]:
            self.assertNotIn("-Werror", l.replace("-Werror=", ""), l)
            self.assertIn("-Wall", l)

    def test_config_template_lists_every_documented_key(self):
        with open(self.path("usr/share/man/man5/mtknvd.conf.5")) as f:
            page = f.read()
        options = page.split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0]
        documented = {}
        for para in options.split(".TP\n")[1:]:
            m = re.match(r"\.B[IR]?\s+([A-Z][A-Za-z]+)=", para)
            self.assertIsNotNone(m, para)
            documented[m.group(1)] = re.sub(r"\\-", "-", para)
        with open(self.path("etc/mtknvd/mtknvd.conf")) as f:
            template = dict(re.findall(r"(?m)^#([A-Z][A-Za-z]+)=(.*)$", f.read()))
        self.assertEqual(sorted(template), sorted(documented))
        for key, value in template.items():
            text = documented[key]
            if key == "UsbIds":
                # every id the udev rule starts the daemon for, and only those
                with open(self.path("usr/lib/udev/rules.d/70-mtknvd.rules")) as f:
                    products = re.search(r'ENV\{PRODUCT\}=="([^"]+)"', f.read()).group(1).split("|")
                self.assertEqual(sorted("%x/%x/*" % (int(v, 16), int(p, 16))
                                        for v, p, _ in (e.split(":") for e in value.split())), sorted(products))
            elif value:
                # the value the page names as the default
                self.assertRegex(text, r"(?i)default[^.]*?\b%s\b|\b%s\b\s*\(the default\)"
                                 % (re.escape(value), re.escape(value)), key)

    def test_mtknvctl_page_documents_every_command(self):
        if not shutil.which("groff"):
            self.skipTest("groff is not installed")
        r = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", self.path("usr/share/man/man1/mtknvctl.1")],
                           capture_output=True, text=True)
        page = re.sub(r"\s+", " ", r.stdout)
        helptext = subprocess.run([self.path("usr/bin/mtknvctl"), "--help"], capture_output=True, text=True).stdout
        commands = helptext.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
        synopses = []
        for line in commands.splitlines():
            # "  VERB ARGS             description": the description's column is 24
            if line.startswith("  ") and not line[2].isspace():
                # the verb and its fixed arguments, up to the first optional one
                synopses.append(line[2:24].split(" [", 1)[0].strip())
        self.assertIn("restore ID", synopses)
        self.assertGreater(len(synopses), 10)
        for s in synopses:
            self.assertTrue(" " + s + " " in page, "mtknvctl(1) does not document \"%s\"" % s)

    def test_unit_security(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        unit = self.path("usr/lib/systemd/system/mtknvd.service")
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--root=" + self.dest, unit],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for mtknvd.service: ([0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, r.stdout)

    def test_unit_verify(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        # the unit itself; its dependencies (dbus.socket, sysinit.target) are the host's business
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", "--recursive-errors=no", "--root=" + self.dest,
                            self.path("usr/lib/systemd/system/mtknvd.service")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("Unknown", r.stderr)

    def test_activation_names_an_installed_unit(self):
        if not shutil.which("systemctl"):
            self.skipTest("systemctl is not installed")
        with open(self.path("usr/share/dbus-1/system-services/org.mtknvd.MtkNv1.service")) as f:
            unit = re.search(r"^SystemdService=(.+)$", f.read(), re.M).group(1)
        # as installed, without 'systemctl enable' (which would create aliases)
        r = subprocess.run(["systemctl", "--root=" + self.dest, "list-unit-files", "--no-legend", unit],
                           capture_output=True, text=True)
        self.assertEqual([l.split()[0] for l in r.stdout.splitlines() if l.strip()], [unit], r.stdout + r.stderr)

    def test_bus_policy_loads(self):
        conf = os.path.join(self.dest, "bus.conf")
        with open(conf, "w") as f:
            f.write('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"'
                    ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
                    "<busconfig><type>system</type><listen>unix:path=%s/s</listen><auth>EXTERNAL</auth>"
                    "<include>%s</include></busconfig>\n"
                    % (self.dest, self.path("usr/share/dbus-1/system.d/org.mtknvd.MtkNv1.conf")))
        p = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        addr = p.stdout.readline()
        p.terminate()
        err = p.communicate()[1]
        self.assertTrue(addr.startswith("unix:"), err)
        # (raising the fd limit needs privileges we do not have in a test)
        problems = [l for l in err.splitlines() if "fd limit" not in l]
        self.assertEqual(problems, [])

    def test_xml_and_policy(self):
        doc = xml.dom.minidom.parse(self.path("usr/share/polkit-1/actions/org.mtknvd.MtkNv1.policy"))
        ids = sorted(a.getAttribute("id") for a in doc.getElementsByTagName("action"))
        self.assertEqual(ids, ["org.mtknvd.MtkNv1." + x for x in
                               ("backup", "export-backup", "import-backup", "inhibit", "manage", "restore",
                                "restore-foreign", "verify")])
        # a user at the machine may inhibit; nobody else, not even with a password
        inhibit = [a for a in doc.getElementsByTagName("action") if a.getAttribute("id").endswith(".inhibit")][0]
        defaults = {e.tagName: e.firstChild.data for e in inhibit.getElementsByTagName("defaults")[0].childNodes
                    if e.nodeType == e.ELEMENT_NODE}
        self.assertEqual(defaults, {"allow_any": "no", "allow_inactive": "no", "allow_active": "yes"})
        intro = xml.dom.minidom.parse(self.path("usr/share/dbus-1/interfaces/org.mtknvd.MtkNv1.xml"))
        names = sorted(i.getAttribute("name") for i in intro.getElementsByTagName("interface"))
        self.assertEqual(names, ["org.mtknvd.MtkNv1." + x for x in ("Backup", "Device", "Job", "Manager")])

    def test_man_pages(self):
        if not shutil.which("groff"):
            self.skipTest("groff is not installed")
        for page in ("man8/mtknvd.8", "man5/mtknvd.conf.5", "man1/mtknvctl.1"):
            r = subprocess.run(["groff", "-ww", "-man", "-Tascii", "-P-cbou", self.path("usr/share/man/" + page)],
                               capture_output=True, text=True)
            self.assertEqual(r.stderr, "", page)
            self.assertIn("NAME", r.stdout)


class TestDebianPackage(unittest.TestCase):
    """contrib/debian builds a .deb from a copy of the tree, as CI does (about a minute)."""

    def test_dpkg_buildpackage(self):
        if not shutil.which("dpkg-buildpackage") or not shutil.which("dh"):
            self.skipTest("dpkg-buildpackage and dh are not installed (apt-get install dpkg-dev debhelper)")
        d = tempfile.mkdtemp(prefix="mtknvd-deb-")
        try:
            src = os.path.join(d, "mtknvd")
            shutil.copytree(TOP, src, symlinks=True,
                            ignore=lambda where, names: [n for n in names if where == TOP and n in
                                                         ("build", ".git", "debian")])
            shutil.copytree(os.path.join(src, "contrib", "debian"), os.path.join(src, "debian"))
            env = dict(MAKE_ENV, DEB_BUILD_OPTIONS="parallel=2")
            r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env, capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, (r.stdout + r.stderr)[-3000:])
            deb = os.path.join(d, [f for f in os.listdir(d) if re.match(r"mtknvd_.*\.deb$", f)][0])
            if shutil.which("lintian"):
                changes = [f for f in os.listdir(d) if f.endswith(".changes")][0]
                r = subprocess.run(["lintian", "--fail-on", "error", changes], cwd=d, capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertNotRegex(r.stdout, r"(?m)^E: ")
            files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
            for f in ("./usr/libexec/mtknvd", "./usr/bin/mtknvctl", "./etc/mtknvd/mtknvd.conf",
                      "./usr/lib/systemd/system/mtknvd.service", "./usr/lib/udev/rules.d/70-mtknvd.rules"):
                self.assertRegex(files, r"(?m) %s$" % re.escape(f))
            ctl, root = os.path.join(d, "ctl"), os.path.join(d, "root")
            subprocess.run(["dpkg-deb", "-e", deb, ctl], check=True)
            subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
            with open(os.path.join(ctl, "conffiles")) as f:
                self.assertIn("/etc/mtknvd/mtknvd.conf", f.read().split())
            # not enabled, not started, not stopped by an upgrade: udev and D-Bus start it on demand
            for script in ("preinst", "postinst", "prerm", "postrm"):
                if os.path.exists(os.path.join(ctl, script)):
                    with open(os.path.join(ctl, script)) as f:
                        self.assertNotIn("'mtknvd.service'", f.read(), script)
            # dpkg-buildflags' hardening reached the binaries
            daemon = os.path.join(root, "usr/libexec/mtknvd")
            dyn = subprocess.run(["readelf", "-d", daemon], capture_output=True, text=True).stdout
            self.assertRegex(dyn, r"\(FLAGS\)\s+BIND_NOW")
            self.assertIn("GNU_RELRO", subprocess.run(["readelf", "-lW", daemon], capture_output=True,
                                                      text=True).stdout)
            self.assertRegex(subprocess.run(["readelf", "--dyn-syms", "-W", daemon], capture_output=True,
                                            text=True).stdout, r"__\w+_chk")
            r = subprocess.run([daemon, "--help"], capture_output=True, text=True)
            self.assertIn("(default: /etc/mtknvd/mtknvd.conf)", r.stdout + r.stderr)
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()

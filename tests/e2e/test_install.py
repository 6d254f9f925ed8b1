# SPDX-License-Identifier: LGPL-2.1-or-later
"""make install into a temporary DESTDIR; each file checked with the real tools."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
import xml.dom.minidom

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MTKNVD_BUILD", "build")


class TestInstall(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="mtknvd-install-")
        subprocess.run(["make", "--no-print-directory", "-s", "install", "DESTDIR=" + cls.dest, "PREFIX=/usr",
                        "BUILD=" + BUILD], cwd=TOP, check=True, capture_output=True)

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
                  "etc/mtknvd/mtknvd.conf"):
            self.assertTrue(os.path.isfile(self.path(p)), p)
        with open(self.path("usr/lib/systemd/system/mtknvd.service")) as f:
            self.assertIn("ExecStart=/usr/libexec/mtknvd", f.read())
        d = tempfile.mkdtemp()
        try:
            subprocess.run(["make", "-s", "install", "DESTDIR=" + d, "PREFIX=/usr", "BUILD=" + BUILD], cwd=TOP,
                           check=True, capture_output=True)
            subprocess.run(["make", "-s", "uninstall", "DESTDIR=" + d, "PREFIX=/usr", "BUILD=" + BUILD], cwd=TOP,
                           check=True, capture_output=True)
            left = [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs]
            self.assertEqual([os.path.relpath(x, d) for x in left], ["etc/mtknvd/mtknvd.conf"])
        finally:
            shutil.rmtree(d)

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


if __name__ == "__main__":
    unittest.main()

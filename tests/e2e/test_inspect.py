# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 16: inspect says what a file is, for people (a terminal, 80 columns) and as JSON built from
Manager.Inspect's a{sv}; add-da says what a DA covers; list-da/remove-da and
list-preloaders/remove-preloader."""

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios

from harness import BUILD, WorldTestCase  # first: it puts tests/tools on the path
from test_backup import IDENTITY, scatter_text
from test_brom import MEM_ID, preloader

import mkda  # noqa: E402


def default_da():
    return mkda.build([mkda.parse_entry(e) for e in mkda.DEFAULT_ENTRIES])


class InspectTestCase(WorldTestCase):

    def write(self, w, name, data):
        path = os.path.join(w.tmp, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def ctl_pty(self, w, *args, cols=80):
        """mtknvctl on a pseudo-terminal of cols columns: (exit status, output)."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        p = subprocess.Popen([os.path.join(BUILD, "mtknvctl")] + list(args), env=w.env(), stdin=slave,
                             stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        out = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:     # EIO: the other end is closed
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        rc = p.wait(timeout=60)
        return rc, out.decode().replace("\r\n", "\n")

    def assert_fits(self, text, cols=80):
        self.assertTrue(text.strip(), "no output")
        for line in text.split("\n"):
            self.assertLessEqual(len(line), cols, "line over %d columns: %r" % (cols, line))


class TestInspect(InspectTestCase):

    def test_da(self):
        w = self.world("unplugged=1")
        da = self.write(w, "MTK_AllInOne_DA.bin", default_da())
        j = w.ctl_json("inspect", da)
        self.assertEqual(j["kind"], "download-agent")
        self.assertTrue(j["usable"])
        self.assertEqual(j["signature"], "all")
        e = j["entries"]
        self.assertEqual([x["da_code"] for x in e], [0x6735, 0x6580])
        # DA code 0x6735 is the DA of every chip of that family
        self.assertEqual({c["name"]: c["hw_code"] for c in e[0]["chips"]},
                         {"MT6735": 0x0321, "MT6737M": 0x0335, "MT6753": 0x0337})
        self.assertEqual(e[0]["da_mode"], "legacy")
        self.assertTrue(e[0]["usable"])
        self.assertEqual(e[0]["regions"][1]["sig_len"], 0x100)
        rc, out = self.ctl_pty(w, "inspect", da)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        self.assertTrue(out.startswith("Download Agent"), out)
        for fact in ("MT6735 (hw code 0x0321)", "MT6580 (hw code 0x6580)", "Usable by mtknvd yes:", "legacy DA",
                     "cannot be told"):
            self.assertIn(fact, " ".join(out.split()), out)
        self.assertNotIn("{", out)

    def test_da_this_mtknvd_cannot_use(self):
        w = self.world("unplugged=1")
        # an XML (V6) DA (xml-da.md §1: XML whatever the chip's own family) with an entry for an
        # XFlash-era chip (MT6765, DA code 0x6765), unsigned, and one for a chip not in the table
        v6 = self.write(w, "MTK_DA_V6.bin", mkda.build([mkda.parse_entry("dacode=0x6765,sig_len=0"),
                                                        mkda.parse_entry("dacode=0x1234,sig_len=0")], v6=True))
        j = w.ctl_json("inspect", v6)
        self.assertEqual((j["kind"], j["format"], j["usable"], j["signature"]),
                         ("download-agent", "v6", True, "none"))
        e = j["entries"]
        self.assertEqual([x["da_mode"] for x in e], ["xml", "xml"])
        self.assertEqual([c["name"] for c in e[0]["chips"]], ["MT6765"])
        self.assertTrue(e[0]["usable"])
        self.assertIn("XML (V6)", e[0]["usable_reason"])
        self.assertEqual(e[1]["chips"], [])
        self.assertFalse(e[1]["usable"])
        self.assertIn("no chip in mtknvd's chip table", e[1]["usable_reason"])
        # a file of entries for unknown chips only cannot be used
        unknown = self.write(w, "MTK_DA_V6_unknown.bin",
                             mkda.build([mkda.parse_entry("dacode=0x1234,sig_len=0")], v6=True))
        j = w.ctl_json("inspect", unknown)
        self.assertEqual((j["format"], j["usable"]), ("v6", False))
        rc, out = self.ctl_pty(w, "inspect", unknown)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        flat = " ".join(out.split())
        self.assertIn("Usable by mtknvd no:", flat)
        self.assertIn("a chip unknown to mtknvd", flat)
        self.assertIn("Signed no.", flat)
        # add-da keeps it, and warns
        r = w.ctl("add-da", unknown)
        self.assertIn("cannot use this Download Agent", r.stderr)
        self.assertFalse([d for d in w.ctl_json("list-da") if d["source"] == "added"][0]["usable"])

    def test_scatter(self):
        w = self.world("unplugged=1")
        sc = self.write(w, "MT6735_Android_scatter.txt", scatter_text())
        j = w.ctl_json("inspect", sc)
        self.assertEqual((j["kind"], j["platform"], j["hw_code"]), ("scatter", "MT6735", 0x0321))
        self.assertTrue(j["usable"])
        self.assertEqual(sorted(p["name"] for p in j["partitions"] if p["identity"]), sorted(IDENTITY))
        nvram = [p for p in j["partitions"] if p["name"] == "nvram"][0]
        rc, out = self.ctl_pty(w, "inspect", sc)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        self.assertIn("MT6735 (hw code 0x0321)", out)
        line = [ln for ln in out.split("\n") if ln.split()[:1] == ["nvram"]][0]
        self.assertIn("0x%08x" % nvram["offset"], line)
        self.assertIn("%d MiB" % (nvram["size"] >> 20), line)
        for name in IDENTITY:
            self.assertTrue(any(ln.split()[:1] == [name] for ln in out.split("\n")), name)

    def test_preloader(self):
        w = self.world("unplugged=1")
        p = self.write(w, "p.bin", preloader(20, form="boot"))
        j = w.ctl_json("inspect", p)
        self.assertEqual((j["kind"], j["emi_version"]), ("preloader", 20))
        rc, out = self.ctl_pty(w, "inspect", p)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        for fact in ("preloader_k37mv1_bsp.bin", "boot-area dump", "v20", "MT6735", "Usable by mtknvd yes:",
                     MEM_ID, "eMMC+LPDDR3"):
            self.assertIn(fact, " ".join(out.split()))
        # an XFlash-era one: its whole EMI block goes to the XFlash DA (INIT_EXT_RAM)
        rc, out = self.ctl_pty(w, "inspect", self.write(w, "q.bin", preloader(35)))
        self.assert_fits(out)
        self.assertIn("Usable by mtknvd yes:", " ".join(out.split()))
        # a version whose DRAM exchange mtknvd does not speak (MT6592/MT8127's v13): said to be of no use
        # yet, and why
        rc, out = self.ctl_pty(w, "inspect", self.write(w, "r.bin", preloader(13)))
        self.assert_fits(out)
        self.assertIn("Usable by mtknvd no:", " ".join(out.split()))

    def test_exports(self):
        w = self.world(config="AutoBackup=first-seen\n")
        w.wait_until(lambda: len(w.backups) == 1, "backup stored", timeout=120)
        bid = w.ctl_json("backups")[0]["id"]
        out = os.path.join(w.tmp, "export.tar")
        w.ctl("export-backup", bid, out)
        j = w.ctl_json("inspect", out)
        self.assertEqual((j["kind"], j["valid"], j["chip"]), ("backup-archive", True, "MT6735"))
        self.assertEqual(sorted(p["name"] for p in j["partitions"]), sorted(IDENTITY))
        rc, text = self.ctl_pty(w, "inspect", out)
        self.assertEqual(rc, 0, text)
        self.assert_fits(text)
        self.assertIn("mtknvd backup archive", text)
        for name in IDENTITY:
            self.assertIn(name, text)
        # the SP Flash Tool export: said to be one (it used to print an empty line)
        sc = self.write(w, "MT6735_Android_scatter.txt", scatter_text())
        spf = os.path.join(w.tmp, "spflash.tar")
        w.ctl("export-backup", "--format", "spflash", "--scatter", sc, bid, spf)
        j = w.ctl_json("inspect", spf)
        self.assertEqual(j["kind"], "spflash-export")
        self.assertEqual(j["backup_id"], bid.split("/")[1])
        self.assertEqual(j["scatter_file"], "MT6735_Android_scatter.txt")
        rc, text = self.ctl_pty(w, "inspect", spf)
        self.assertEqual(rc, 0, text)
        self.assert_fits(text)
        self.assertIn("SP Flash Tool export made by mtknvd", " ".join(text.split()))

    def test_unknown_file(self):
        w = self.world("unplugged=1")
        junk = self.write(w, "junk.bin", b"\x89PNG\r\n" + bytes(200))
        rc, out = self.ctl_pty(w, "inspect", junk)
        self.assertNotEqual(rc, 0)
        self.assertIn("does not recognise", out)
        self.assertIn("preloader image", out)


class TestShelves(InspectTestCase):

    def test_add_list_remove_da(self):
        w = self.world("unplugged=1", da=False)
        self.assertEqual(w.ctl_json("list-da"), [])
        da = self.write(w, "MTK_AllInOne_DA.bin", default_da())
        rc, out = self.ctl_pty(w, "add-da", da)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        self.assertIn("MT6735 (hw code 0x0321)", out)
        self.assertIn("legacy DA", out)
        (item,) = w.ctl_json("list-da")
        self.assertEqual((item["source"], item["size"], item["usable"], item["in_use"]),
                         ("added", len(default_da()), True, False))
        self.assertIn("MT6735 (0x0321)", item["chips"])
        self.assertTrue(os.path.exists(os.path.join(w.state_dir, "da", item["name"])))
        rc, out = self.ctl_pty(w, "list-da")
        self.assert_fits(out)
        self.assertIn(item["name"], out)
        r = w.ctl("remove-da", "0" * 32 + ".bin", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("list-da", r.stderr)
        r = w.ctl("remove-da", "../backups", check=False)
        self.assertNotEqual(r.returncode, 0)
        w.ctl("remove-da", item["name"])
        self.assertEqual(w.ctl_json("list-da"), [])
        self.assertEqual(os.listdir(os.path.join(w.state_dir, "da")), [])

    def test_remove_da_in_use(self):
        w = self.world("unplugged=1", da=False)
        w.ctl("add-da", self.write(w, "MTK_AllInOne_DA.bin", default_da()))
        name = w.ctl_json("list-da")[0]["name"]
        w.control("set phone0 rate=10")
        proc = subprocess.Popen([os.path.join(BUILD, "mtknvctl"), "backup", "--wait"], env=w.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        w.wait_until(lambda: len(w.jobs_new) == 1, "the backup's job")
        w.plug_again("phone0")
        w.wait_state("busy")
        self.assertTrue(w.ctl_json("list-da")[0]["in_use"])
        r = w.ctl("remove-da", name, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("in use by a running backup", r.stderr)
        w.wait_job(w.jobs_new[0], timeout=180)   # 10 MB/s, both reads
        proc.communicate(timeout=60)
        self.assertFalse(w.ctl_json("list-da")[0]["in_use"])
        w.ctl("remove-da", name)
        self.assertEqual(w.ctl_json("list-da"), [])

    def test_preloaders(self):
        w = self.world("unplugged=1")
        w.ctl("add-preloader", self.write(w, "preloader_k37mv1_bsp.bin", preloader(20)))
        (item,) = w.ctl_json("list-preloaders")
        self.assertEqual((item["emi_version"], item["usable"]), (20, True))
        self.assertIn("EMI v20", item["description"])
        rc, out = self.ctl_pty(w, "list-preloaders")
        self.assert_fits(out)
        self.assertIn(item["name"], out)
        w.ctl("remove-preloader", item["name"])
        self.assertEqual(w.ctl_json("list-preloaders"), [])

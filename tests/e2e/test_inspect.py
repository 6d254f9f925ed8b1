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
from test_backup import IDENTITY, scatter_text, scatter_xml
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

    @staticmethod
    def patch_region(data, entry, region, length=None, sig_len=None):
        """The DA file with one region descriptor of one entry changed (brom.md §6.2: entries of 0xDC bytes
        from 0x6C, regions of 20 bytes from +0x14: offset, length, start address, start offset, sig_len)."""
        out = bytearray(data)
        base = 0x6C + 0xDC * entry + 0x14 + 20 * region
        if length is not None:
            struct.pack_into("<I", out, base + 4, length)
        if sig_len is not None:
            struct.pack_into("<I", out, base + 16, sig_len)
        return bytes(out)

    def test_da_entries_tell_the_truth(self):
        # per entry: its chips, the protocol family it needs, whether this mtknvd can use it and why, and
        # whether it looks OEM-signed -- no more than the file shows
        w = self.world("unplugged=1")
        data = mkda.build([mkda.parse_entry(s) for s in (
            "dacode=0x6735",                         # legacy, RSA-2048 on DA1 and DA2
            "dacode=0x6765,xflash=1",                # XFlash (V5)
            "dacode=0x6580,sig_len=0",               # unsigned
            "dacode=0x8163,sig_len=0x80",            # signed, but not as every signed DA known
            "dacode=0x6592",                         # DA2's signature taken away below
            "dacode=0x8127")])                       # DA2 taken away below
        data = self.patch_region(data, 4, 2, sig_len=0)
        data = self.patch_region(data, 5, 2, length=0, sig_len=0)
        da = self.write(w, "MTK_AllInOne_DA.bin", data)
        j = w.ctl_json("inspect", da)
        e = j["entries"]
        self.assertEqual([x["da_code"] for x in e], [0x6735, 0x6765, 0x6580, 0x8163, 0x6592, 0x8127])
        self.assertEqual([x["da_mode"] for x in e], ["legacy", "xflash", "legacy", "legacy", "legacy", "legacy"])
        self.assertEqual(e[1]["protocol"], "XFlash (V5)")
        self.assertEqual([c["name"] for c in e[1]["chips"]], ["MT6765"])
        self.assertEqual(e[1]["chips"][0]["hw_code"], 0x0766)
        self.assertEqual([x["usable"] for x in e], [True, True, True, True, True, False])
        self.assertIn("XFlash (V5) Download Agent protocol", e[1]["usable_reason"])
        self.assertIn("DA1 and DA2", e[5]["usable_reason"])
        self.assertEqual([x["oem_signature"] for x in e],
                         ["oem-like", "oem-like", "unsigned", "unusual", "unusual", "unusual"])
        self.assertIn("looks so", e[0]["oem_signature_reason"])
        self.assertIn("not in the file", e[0]["oem_signature_reason"])
        self.assertIn("refuses it", e[2]["oem_signature_reason"])
        self.assertIn("128-byte", e[3]["oem_signature_reason"])
        self.assertIn("DA2 in a 0-byte", e[4]["oem_signature_reason"])
        self.assertEqual((j["signature"], j["oem_signature"]), ("some", "some"))

        # add-da says the same to a person, entry by entry, in 80 columns
        rc, out = self.ctl_pty(w, "add-da", da)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        flat = " ".join(out.split())
        for fact in ("Entry 2 MT6765 (hw code 0x0766); DA code 0x6765",
                     "Protocol XFlash (V5) DA protocol.",
                     "Protocol legacy DA protocol.",
                     "Usable no: This entry lacks the two stages a phone is sent (DA1 and DA2, regions 1 and 2), as "
                     "IoT entries do; mtknvd cannot use it. OEM-signed",
                     "Usable yes: mtknvd speaks the XFlash (V5) Download Agent protocol this entry needs.",
                     "OEM-signed looks so: DA1 and DA2 end in 256-byte (RSA-2048) signatures",
                     "OEM-signed no: DA1 carries no signature",
                     "OEM-signed unclear: DA1 ends in a 128-byte signature",
                     "Signed some entries; some look OEM-signed"):
            self.assertIn(fact, flat)
        self.assertEqual(sum(ln.startswith("  Protocol ") for ln in out.split("\n")), 6)
        self.assertEqual(sum(ln.startswith("  OEM-signed ") for ln in out.split("\n")), 6)

    def test_v6_entries_need_the_xml_protocol(self):
        # every entry of a V6 file is an XML DA, whatever its chip's usual family (brom.md §6.1); whether it is
        # usable is the backend gate's answer for that family, with the gate's reason
        w = self.world("unplugged=1")
        v6 = self.write(w, "MTK_DA_V6.bin", mkda.build([mkda.parse_entry("dacode=0x6765"),
                                                        mkda.parse_entry("dacode=0x6735")], v6=True))
        j = w.ctl_json("inspect", v6)
        self.assertEqual(j["format"], "v6")
        e = j["entries"]
        self.assertEqual([x["da_mode"] for x in e], ["xml", "xml"])
        self.assertEqual([x["protocol"] for x in e], ["XML (V6)", "XML (V6)"])
        self.assertEqual([x["oem_signature"] for x in e], ["oem-like", "oem-like"])
        for x in e:
            if x["usable"]:
                self.assertIn("XML (V6) Download Agent protocol", x["usable_reason"])
            else:
                self.assertIn("XML (V6)", x["usable_reason"])
        self.assertEqual(j["usable"], any(x["usable"] for x in e))
        rc, out = self.ctl_pty(w, "add-da", v6)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        self.assertEqual(" ".join(out.split()).count("Protocol XML (V6) DA protocol."), 2)

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

    def test_scatter_xml(self):
        # MTxxxx_Android_scatter.xml (da.md §6.3): the same identity table as the text file of that layout
        w = self.world("unplugged=1")
        text = w.ctl_json("inspect", self.write(w, "MT6735_Android_scatter.txt", scatter_text()))
        sc = self.write(w, "MT6735_Android_scatter.xml", scatter_xml())
        j = w.ctl_json("inspect", sc)
        self.assertEqual((j["kind"], j["syntax"], j["config_version"], j["platform"], j["hw_code"], j["storage"]),
                         ("scatter", "xml", "V1.1.8", "MT6735", 0x0321, "EMMC"))
        self.assertEqual(text["syntax"], "text")
        self.assertTrue(j["usable"])
        self.assertEqual(j["partitions"], text["partitions"])
        self.assertEqual(sorted(p["name"] for p in j["partitions"] if p["identity"]), sorted(IDENTITY))
        rc, out = self.ctl_pty(w, "inspect", sc)
        self.assertEqual(rc, 0, out)
        self.assert_fits(out)
        self.assertIn("format V1.1.8 (XML)", " ".join(out.split()))
        rc, out_text = self.ctl_pty(w, "inspect", self.write(w, "MT6735_Android_scatter.txt", scatter_text()))
        # the identity table itself is the same, line for line
        table = [ln for ln in out.split("\n") if ln.split()[:1] and ln.split()[0] in IDENTITY]
        self.assertEqual(len(table), len(IDENTITY))
        self.assertEqual(table, [ln for ln in out_text.split("\n") if ln.split()[:1] and ln.split()[0] in IDENTITY])
        # a broken one: the reason, with its line
        bad = self.write(w, "broken_scatter.xml", scatter_xml().replace("</partition_size>", "</partition_sise>", 3))
        r = w.ctl("inspect", bad, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a valid XML scatter file", r.stderr)
        self.assertIn("partition_sise", r.stderr)
        bad = self.write(w, "dup_scatter.xml", scatter_xml().replace("<partition_name>protect2<",
                                                                     "<partition_name>nvram<"))
        r = w.ctl("inspect", bad, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nvram is listed twice", r.stderr)

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

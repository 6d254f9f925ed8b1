# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 4: backups in and out — mtknvd archives, SP Flash Tool readbacks
with their scatter file, raw images; the SP Flash Tool export with an
edited scatter file."""

import io
import json
import os
import subprocess
import tarfile
import time
import unittest
import xml.etree.ElementTree as ET

from harness import BUILD

from test_backup import IDENTITY, LAYOUT, scatter_text, scatter_xml
from test_restore import RestoreTestCase


class ImportTestCase(RestoreTestCase):

    def write(self, path, data, mode="wb"):
        with open(path, mode) as f:
            f.write(data)
        return path

    def scatter(self, w, text=None):
        return self.write(os.path.join(w.tmp, "MT6735_Android_scatter.txt"), (text or scatter_text()).encode())

    def members(self, path):
        with tarfile.open(path) as t:
            return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}

    def imported(self, w, *args):
        r = w.ctl("--json", "import", *args)
        res = json.loads(r.stdout)
        w.wait_until(lambda: any(b["Id"] == res["id"] for b in w.backups.values()), "import published")
        return res["id"]


class TestSpFlash(ImportTestCase):

    def test_round_trip(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        sc = self.scatter(w)
        out = os.path.join(w.tmp, "spflash.tar")
        w.ctl("export-backup", "--format", "spflash", "--scatter", sc, bid, out)

        files = self.members(out)
        top = bid.split("/")[1] + "-spflash/"
        self.assertEqual(set(files), {top + n + ".img" for n in IDENTITY} | {top + "MT6735_Android_scatter.txt"})
        for n in IDENTITY:
            self.assertEqual(files[top + n + ".img"], original[n])
        # the edit SP Flash Tool users make by hand, exactly: nothing else changed
        edited = files[top + "MT6735_Android_scatter.txt"].decode().split("\n")
        source = scatter_text().split("\n")
        self.assertEqual(len(edited), len(source))
        name = None
        for old, new in zip(source, edited):
            if "partition_name:" in old:
                name = old.split(":")[1].strip()
            if "file_name:" in old and name in IDENTITY:
                self.assertEqual(new, "  file_name: %s.img\r" % name)
            elif "is_download:" in old and name is not None:
                self.assertEqual(new, "  is_download: %s\r" % ("true" if name in IDENTITY else "false"))
            else:
                self.assertEqual(new, old)
        edited_path = self.write(os.path.join(w.tmp, "edited_scatter.txt"), files[top + "MT6735_Android_scatter.txt"])
        self.assertEqual(w.ctl_json("inspect", edited_path)["kind"], "scatter")

        # an SP Flash Tool readback comes back in: nvram.img and friends next to the scatter file
        rb = os.path.join(w.tmp, "readback")
        os.mkdir(rb)
        self.write(os.path.join(rb, "MT6735_Android_scatter.txt"), scatter_text().encode())
        images = [self.write(os.path.join(rb, n + ".img"), files[top + n + ".img"]) for n in IDENTITY]
        iid = self.imported(w, "--spflash", *images)
        info = w.ctl_json("show-backup", iid)
        self.assertEqual(iid.split("/")[0], "unbound")
        self.assertEqual(sorted(p["name"] for p in info["partitions"]), sorted(IDENTITY))

        self.scribble(storage)
        r, res = self.restore(w, iid, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not bound to any phone", r.stderr)
        r, res = self.restore(w, iid, "--allow-foreign")
        self.assertTrue(res["success"], res)
        self.assertIn("not bound to any phone", r.stderr)
        self.assertEqual({n: self.read_part(storage, n) for n in IDENTITY}, original)

    def test_round_trip_xml_scatter(self):
        # MTxxxx_Android_scatter.xml: the same edit in its elements, and it stays an XML scatter file
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        sc = self.write(os.path.join(w.tmp, "MT6735_Android_scatter.xml"), scatter_xml().encode())
        out = os.path.join(w.tmp, "spflash.tar")
        w.ctl("export-backup", "--format", "spflash", "--scatter", sc, bid, out)

        files = self.members(out)
        top = bid.split("/")[1] + "-spflash/"
        self.assertEqual(set(files), {top + n + ".img" for n in IDENTITY} | {top + "MT6735_Android_scatter.xml"})
        for n in IDENTITY:
            self.assertEqual(files[top + n + ".img"], original[n])
        edited = ET.fromstring(files[top + "MT6735_Android_scatter.xml"])
        source = ET.fromstring(scatter_xml().encode())
        self.assertEqual(edited.tag, "root")
        old_parts, new_parts = source.findall("partition_index"), edited.findall("partition_index")
        self.assertEqual(len(new_parts), len(old_parts))
        for old, new in zip(old_parts, new_parts):
            name = old.findtext("partition_name")
            self.assertEqual(new.get("name"), old.get("name"))
            for o, e in zip(old, new):
                self.assertEqual(e.tag, o.tag)
                self.assertEqual(e.attrib, o.attrib)
                if e.tag == "file_name" and name in IDENTITY:
                    self.assertEqual(e.text, name + ".img")
                elif e.tag == "is_download":
                    self.assertEqual(e.text, "true" if name in IDENTITY else "false")
                else:
                    self.assertEqual(e.text, o.text)
            self.assertEqual(len(list(new)), len(list(old)))
        self.assertEqual(ET.tostring(edited.find("general")), ET.tostring(source.find("general")))
        self.assertIn(b"<!-- the simulated MT6735 -->", files[top + "MT6735_Android_scatter.xml"])
        # mtknvd reads it back as what it is, and says what the archive is
        edited_path = self.write(os.path.join(w.tmp, "edited_scatter.xml"), files[top + "MT6735_Android_scatter.xml"])
        j = w.ctl_json("inspect", edited_path)
        self.assertEqual((j["kind"], j["syntax"]), ("scatter", "xml"))
        j = w.ctl_json("inspect", out)
        self.assertEqual((j["kind"], j["scatter_file"]), ("spflash-export", "MT6735_Android_scatter.xml"))
        self.assertEqual(sorted(p["name"] for p in j["partitions"] if p["identity"]), sorted(IDENTITY))

        # the readback comes back in, located by the one *_scatter.xml next to the images
        rb = os.path.join(w.tmp, "readback")
        os.mkdir(rb)
        self.write(os.path.join(rb, "MT6735_Android_scatter.xml"), scatter_xml().encode())
        images = [self.write(os.path.join(rb, n + ".img"), files[top + n + ".img"]) for n in IDENTITY]
        iid = self.imported(w, "--spflash", *images)
        info = w.ctl_json("show-backup", iid)
        self.assertEqual(sorted(p["name"] for p in info["partitions"]), sorted(IDENTITY))
        # an XML scatter of another phone is refused on export, as the text one is
        sc2 = self.write(os.path.join(w.tmp, "other_scatter.xml"),
                         scatter_xml().replace("<partition_name>nvdata<", "<partition_name>userdata<").encode())
        r = w.ctl("export-backup", "--format", "spflash", "--scatter", sc2, bid, os.path.join(w.tmp, "x.tar"),
                  check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no nvdata partition: is it this phone's?", r.stderr)

    def test_readback_of_the_wrong_size(self):
        w = self.world()
        sc = self.scatter(w)
        start, size = LAYOUT["nvram"]
        img = self.write(os.path.join(w.tmp, "nvram.img"), bytes(size - 512))
        r = w.ctl("import", "--spflash", "--scatter", sc, img, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("must cover the whole partition", r.stderr)
        self.assertIn("partition_size", r.stderr)
        # no scatter file, none next to the image
        os.unlink(sc)
        r = w.ctl("import", "--spflash", img, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--scatter FILE", r.stderr)
        self.assertEqual(w.backups, {})

    def test_scatter_of_another_phone_refused_on_export(self):
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        sc = self.scatter(w, scatter_text().replace("partition_name: nvdata", "partition_name: userdata"))
        out = os.path.join(w.tmp, "x.tar")
        r = w.ctl("export-backup", "--format", "spflash", "--scatter", sc, bid, out, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no nvdata partition: is it this phone's?", r.stderr)
        self.assertFalse(os.path.exists(out))


class TestArchiveImport(ImportTestCase):

    def test_archive_round_trip_stays_bound(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        out = os.path.join(w.tmp, "backup.tar")
        w.ctl("export-backup", bid, out)
        # its own export is that backup, already stored; on a fresh store it is imported
        self.assertEqual(self.imported(w, out), bid)
        self.assertEqual(len(w.backups), 1)
        for p in list(w.backups):
            w.ctl("delete-backup", "--force", bid)
            w.wait_until(lambda: p in w.backups_removed, "the original deleted")
        iid = self.imported(w, out)
        self.assertEqual(iid.split("/")[0], bid.split("/")[0], "an archive keeps its phone")
        self.assertEqual(w.ctl_json("show-backup", iid)["source"], "import")
        self.scribble(storage)
        r, res = self.restore(w, iid)
        self.assertTrue(res["success"], res)
        self.assertEqual({n: self.read_part(storage, n) for n in IDENTITY}, original)

    def test_damaged_archives(self):
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        out = os.path.join(w.tmp, "backup.tar")
        w.ctl("export-backup", bid, out)
        with open(out, "rb") as f:
            data = f.read()
        cases = {"truncated": (data[:len(data) // 2], "truncated"),
                 "not a tar": (b"hello" * 100, "not a tar archive")}
        # one image edited after the export: the manifest's hash catches it
        buf = io.BytesIO()
        with tarfile.open(out) as src, tarfile.open(fileobj=buf, mode="w") as dst:
            for m in src.getmembers():
                content = src.extractfile(m).read()
                if m.name.endswith("/nvram.img"):
                    content = b"\x01" + content[1:]
                dst.addfile(m, io.BytesIO(content))
        cases["edited"] = (buf.getvalue(), "does not match the manifest")
        for what, (content, text) in cases.items():
            with self.subTest(what):
                path = self.write(os.path.join(w.tmp, what + ".tar"), content)
                r = w.ctl("import", path, check=False)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(text, r.stderr)
        # a directory is not a file to import
        r = w.ctl("import", w.tmp, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("must be a regular file or a pipe", r.stderr)
        self.assertEqual(len(w.backups), 1, "nothing was imported")

    def test_raw_image_restores_by_name_and_size(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        original = self.read_part(storage, "nvram")
        img = self.write(os.path.join(w.tmp, "some-file.bin"), original)
        iid = self.imported(w, "--partition", "nvram", img)
        self.assertEqual([p["name"] for p in w.ctl_json("show-backup", iid)["partitions"]], ["nvram"])
        self.scribble(storage)
        r, res = self.restore(w, iid, "--allow-foreign")
        self.assertTrue(res["success"], res)
        self.assertEqual(self.read_part(storage, "nvram"), original)


class TestCreatedAndExport(ImportTestCase):

    def test_import_keeps_created_and_records_imported(self):
        w = self.backed_up_world()
        (bid, props), = [(b["Id"], b) for b in w.backups.values()]
        self.assertEqual(props["Imported"], 0, "not an import")
        out = os.path.join(w.tmp, "backup.tar")
        w.ctl("export-backup", bid, out)
        w.ctl("delete-backup", "--force", bid)
        w.wait_until(lambda: not w.backups, "the original deleted")
        before = int(time.time())
        iid = self.imported(w, out)
        info = w.ctl_json("show-backup", iid)
        # Created: when the phone was read (to the second, as manifests keep it); Imported: now
        self.assertEqual(info["created"], props["Created"] // 1000000)
        self.assertGreaterEqual(info["imported"], before)
        self.assertGreaterEqual(info["imported"], info["created"])
        (p,) = [b for b in w.backups.values() if b["Id"] == iid]
        self.assertEqual(p["Created"] // 1000000, props["Created"] // 1000000)
        self.assertGreaterEqual(p["Imported"] // 1000000, before)
        self.assertIn("Imported: ", w.ctl("show-backup", iid).stdout)
        with open(os.path.join(w.state_dir, "backups", *iid.split("/"), "manifest.yaml")) as f:
            manifest = f.read()
        self.assertIn("imported: ", manifest)

    def test_export_name_compression_and_no_overwrite(self):
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        key = bid.split("/")[0]
        cwd = os.path.join(w.tmp, "out")
        os.mkdir(cwd)
        created = time.strftime("%Y%m%dT%H%M%SZ",
                                time.gmtime(next(iter(w.backups.values()))["Created"] // 1000000))
        # no FILE: the key (no label yet) and the time the phone was read, a name that says what it is
        r = subprocess.run([os.path.join(BUILD, "mtknvctl"), "export-backup", bid], cwd=cwd, env=w.env(),
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        name = "%s-%s.mtknvd.tar" % (key, created)
        self.assertEqual(os.listdir(cwd), [name])
        self.assertIn(name, r.stdout)
        # never replaced silently
        path = os.path.join(cwd, name)
        with open(path, "rb") as f:
            original = f.read()
        r = subprocess.run([os.path.join(BUILD, "mtknvctl"), "export-backup", bid], cwd=cwd, env=w.env(),
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(name + " already exists", r.stderr)
        self.assertIn("--force", r.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), original)
        self.write(path, b"old")
        w.ctl("export-backup", "--force", bid, path)
        self.assertEqual(self.members(path), self.members_of(original))
        # a label names it, made safe for a file name, and the compression its suffix
        w.ctl("label", bid, "Anna's phone / before")
        r = subprocess.run([os.path.join(BUILD, "mtknvctl"), "--json", "export-backup", "--compress", "gzip", bid],
                           cwd=cwd, env=w.env(), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual(res["file"], "Anna_s_phone___before-%s.mtknvd.tar.gz" % created)
        self.assertEqual(self.members(os.path.join(cwd, res["file"])), self.members_of(original))
        r = w.ctl("export-backup", "--compress", "bzip9", bid, os.path.join(w.tmp, "x"), check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("gzip, xz, zstd or none", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(w.tmp, "x")))

    def test_each_compression_exports_and_imports(self):
        # a small backup (one raw image): xz is slow on a loaded test machine, and compression is the point
        w = self.world()
        img = self.write(os.path.join(w.tmp, "nvram.bin"), os.urandom(64 * 1024) + bytes(192 * 1024))
        bid = self.imported(w, "--partition", "nvram", img)
        plain = os.path.join(w.tmp, "plain.tar")
        w.ctl("export-backup", bid, plain)
        images = self.members(plain)
        magic = {"gzip": b"\x1f\x8b", "xz": b"\xfd7zXZ", "zstd": b"\x28\xb5\x2f\xfd"}
        files = {}
        for comp, head in magic.items():
            out = os.path.join(w.tmp, "e." + comp)
            w.ctl("export-backup", "--compress", comp, bid, out)
            with open(out, "rb") as f:
                self.assertEqual(f.read(len(head)), head, comp)
            self.assertLess(os.path.getsize(out), os.path.getsize(plain), comp + " compresses")
            if comp != "zstd" or "zstd" in getattr(tarfile.TarFile, "OPEN_METH", {}):
                self.assertEqual(self.members(out), images, comp)
            files[comp] = out
        w.ctl("delete-backup", "--force", bid)
        w.wait_until(lambda: not w.backups, "the original deleted")
        first = None
        for comp, out in files.items():
            with self.subTest(comp):
                res = json.loads(w.ctl("--json", "import", out).stdout)
                # the same backup each time: the first import stores it, the others find it
                self.assertEqual(res["already_stored"], first is not None)
                first = first or res["id"]
                self.assertEqual(res["id"], first)
                w.wait_until(lambda: any(b["Id"] == first for b in w.backups.values()), "import published")
                self.assertEqual(w.ctl_json("verify-backup", first)["ok"], True)

    def members_of(self, data):
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


if __name__ == "__main__":
    unittest.main()

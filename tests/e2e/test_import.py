# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 4: backups in and out — mtknvd archives, SP Flash Tool readbacks
with their scatter file, raw images; the SP Flash Tool export with an
edited scatter file."""

import io
import json
import os
import tarfile
import unittest

from test_backup import IDENTITY, LAYOUT, scatter_text
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


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 16: deleting a stored backup (Backup.Delete, mtknvctl delete-backup)
and the retention policy (KeepLast=, KeepPreRestoreDays=, Manager.PruneBackups,
mtknvctl prune [--dry-run]); identical images stored once (reference-counted
by their hard links, crash-safe: the daemon is killed mid-commit and
mid-delete); labels; Created and Imported; the export's name, compression
and refusal to overwrite."""

import calendar
import io
import json
import os
import re
import shutil
import stat
import tarfile
import time
import unittest

from harness import BUILD

from test_polkit import ACTION, NOBODY, PolkitTestCase
from test_resume import GPT_READ, SNAPSHOT
from test_import import ImportTestCase


class StoreTestCase(ImportTestCase):

    def restart(self, w, **kw):
        """The daemon stopped (cleanly, checked) and a new one started on the same state directory."""
        self.assertEqual(w.stop(), 0, w.describe())
        w.expected_exit = True
        return self.world(state_dir=w.state_dir, **kw)

    def backup_dir(self, w, bid):
        return os.path.join(w.state_dir, "backups", *bid.split("/"))

    def path_of(self, w, bid):
        return [p for p, b in w.backups.items() if b["Id"] == bid][0]

    def listed(self, w):
        return sorted(b["id"] for b in w.ctl_json("backups"))

    def redated(self, src, dst, hours_back):
        """A copy of an export whose manifest says it was read hours_back hours earlier (Created is not
        covered by the binding: the copy stays bound, and it is another backup of the same images)."""
        buf = io.BytesIO()
        with tarfile.open(src) as t, tarfile.open(fileobj=buf, mode="w") as out:
            for m in t.getmembers():
                data = t.extractfile(m).read() if m.isfile() else None
                if m.name.endswith("/manifest.yaml"):
                    text = data.decode()
                    old = re.search(r'created: "([^"]+)"', text).group(1)
                    t0 = calendar.timegm(time.strptime(old, "%Y-%m-%dT%H:%M:%SZ")) - 3600 * hours_back
                    text = text.replace(old, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), 1)
                    data = text.encode()
                    m.size = len(data)
                out.addfile(m, io.BytesIO(data) if data is not None else None)
        with open(dst, "wb") as f:
            f.write(buf.getvalue())
        return dst

    def import_copies(self, w, n):
        """n more backups of the phone, by importing exports of its first one, each dated an hour further
        back (an unchanged export would be the same backup: already stored).  Older by Created, newer by
        import: retention must go by the import."""
        bid = next(iter(w.backups.values()))["Id"]
        out = os.path.join(w.tmp, "backup.tar")
        if not os.path.exists(out):
            w.ctl("export-backup", bid, out)
        self.n_copies = getattr(self, "n_copies", 0)
        ids = []
        for _ in range(n):
            self.n_copies += 1
            copy = self.redated(out, os.path.join(w.tmp, "copy%d.tar" % self.n_copies), self.n_copies)
            ids.append(self.imported(w, copy))
        return ids

    def objects(self, w):
        top = os.path.join(w.state_dir, "backups", ".objects")
        return {n: os.stat(os.path.join(top, n)) for n in os.listdir(top)}

    def image_stats(self, w, bid):
        d = self.backup_dir(w, bid)
        return {n: os.stat(os.path.join(d, n)) for n in os.listdir(d) if n.endswith(".img")}

    def disk_usage(self, w):
        """Bytes allocated by the store's files, each inode once (what du counts)."""
        seen, total = set(), 0
        for root, dirs, files in os.walk(os.path.join(w.state_dir, "backups")):
            for f in files:
                st = os.lstat(os.path.join(root, f))
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_blocks * 512
        return total

    def assert_store_consistent(self, w):
        """Every listed backup whole and verifiable, nothing half-done left, no image kept for nobody."""
        top = os.path.join(w.state_dir, "backups")
        self.assertEqual(sorted(n for n in os.listdir(top) if n.startswith(".")), [".objects"],
                         "temporary or trash directories left")
        for name, st in self.objects(w).items():
            self.assertGreaterEqual(st.st_nlink, 2, "object %s is held by no backup (leaked)" % name)
        for b in w.ctl_json("backups"):
            r = w.ctl("--json", "verify-backup", b["id"], check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            for p in b["partitions"]:
                self.assertTrue(os.path.isfile(os.path.join(self.backup_dir(w, b["id"]), p["file"])))


class TestDelete(StoreTestCase):

    def test_delete_and_the_object_goes(self):
        w = self.backed_up_world()
        first = next(iter(w.backups.values()))["Id"]
        (copy,) = self.import_copies(w, 1)
        path = self.path_of(w, copy)
        r = w.ctl("delete-backup", copy)
        self.assertIn("Deleted " + copy, r.stdout)
        w.wait_until(lambda: path in w.backups_removed, "InterfacesRemoved of the deleted backup")
        self.assertNotIn(path, [str(p) for p in w.manager_objects()])
        self.assertFalse(os.path.exists(self.backup_dir(w, copy)))
        self.assertEqual(self.listed(w), [first])
        # nothing half-deleted is left in the store
        top = os.path.join(w.state_dir, "backups")
        self.assertEqual([n for n in os.listdir(top) if n.startswith(".")], [".objects"])
        # the copy's images are the first backup's: they stay with it
        self.assertTrue(all(st.st_nlink == 2 for st in self.objects(w).values()))
        # gone for good: a second delete does not find it
        r = w.ctl("delete-backup", copy, check=False)
        self.assertNotEqual(r.returncode, 0)
        # and it stays gone after a restart
        w2 = self.restart(w)
        self.assertEqual(sorted(b["Id"] for b in w2.backups.values()), [first])

    def test_only_verified_backup_needs_force(self):
        w = self.backed_up_world()
        (bid, props), = [(b["Id"], b) for b in w.backups.values()]
        self.assertTrue(props["Verified"])
        r = w.ctl("delete-backup", bid, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("only verified backup", r.stderr)
        self.assertIn("--force", r.stderr)
        self.assertTrue(os.path.isdir(self.backup_dir(w, bid)))
        self.assertEqual(self.listed(w), [bid])
        w.ctl("delete-backup", "--force", bid)
        w.wait_until(lambda: not w.backups, "the backup's object goes")
        self.assertFalse(os.path.exists(self.backup_dir(w, bid)))
        self.assertEqual(self.listed(w), [])

    def test_journal_named_backup_refused(self):
        w = self.backed_up_world()
        storage = self.storage(w)
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        # the phone leaves in the middle of the writes: a journal names the backup and its snapshot
        w.control("fault phone0 unplug-after-da-bytes:%d" % (GPT_READ + SNAPSHOT + 0x100000))
        r, res = self.restore(w, bid, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertTrue(os.listdir(os.path.join(w.state_dir, "journal")))
        w.sync()
        snapshot = [b["Id"] for b in w.backups.values() if b["Source"] == "pre-restore"]
        self.assertEqual(len(snapshot), 1)
        for target in (bid, snapshot[0]):
            for extra in ((), ("--force",)):
                r = w.ctl("delete-backup", *extra, target, check=False)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn("restore journal", r.stderr)
                self.assertIn("--resume", r.stderr)
                self.assertTrue(os.path.isdir(self.backup_dir(w, target)))
        self.assertEqual(len(w.backups), 2)

    def test_unauthorised_caller_refused(self):
        w = self.backed_up_world()
        os.chmod(w.tmp, 0o711)
        (copy,) = self.import_copies(w, 1)
        r = w.ctl_as(NOBODY, "delete-backup", copy)
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        self.assertIn("polkit is not running, so only root may", r.stderr)
        r = w.ctl_as(NOBODY, "prune")
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        # a dry run only reads
        r = w.ctl_as(NOBODY, "prune", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(os.path.isdir(self.backup_dir(w, copy)))
        self.assertEqual(len(w.backups), 2)

    def test_interrupted_delete_is_finished_at_start(self):
        w = self.backed_up_world()
        first = next(iter(w.backups.values()))["Id"]
        (copy,) = self.import_copies(w, 1)
        state = w.state_dir
        self.assertEqual(w.stop(), 0)
        w.expected_exit = True
        # what a crash (kill -9) between the delete's rename and its removal leaves: the whole backup, moved
        # to a hidden trash name at the store's top; and one whose removal had begun
        trash = os.path.join(state, "backups", ".trash-0000beef")
        os.rename(self.backup_dir(w, copy), trash)
        half = os.path.join(state, "backups", ".trash-0000f00d")
        shutil.copytree(trash, half)
        os.unlink(os.path.join(half, "manifest.yaml"))
        w2 = self.world(state_dir=state)
        self.assertEqual(sorted(b["Id"] for b in w2.backups.values()), [first])
        self.assertFalse(os.path.exists(trash))
        self.assertFalse(os.path.exists(half))
        self.assertEqual(self.listed(w2), [first])


class TestRetention(StoreTestCase):

    def test_default_keeps_everything(self):
        w = self.backed_up_world()
        self.import_copies(w, 3)
        self.assertEqual(len(self.listed(w)), 4)
        self.assertEqual(w.ctl_json("prune", "--dry-run")["backups"], [])
        self.assertIn("Nothing to delete", w.ctl("prune").stdout)
        self.assertEqual(len(self.listed(w)), 4)

    def test_keep_last_after_n_plus_one(self):
        w = self.world(config="AutoBackup=first-seen\nKeepLast=2\n", daemon_args=["--grace-period=60"])
        w.wait_until(lambda: len(w.backups) == 1, "first backup")
        w.sim_wait("phone0", phase="booted")
        auto = next(iter(w.backups.values()))["Id"]
        copies = self.import_copies(w, 2)
        self.assertEqual(self.listed(w), sorted([auto] + copies))
        # the third import is one more than KeepLast=2 imports: the oldest import goes, the auto one stays
        old = self.path_of(w, copies[0])
        copies += self.import_copies(w, 1)
        w.wait_until(lambda: old in w.backups_removed, "the oldest import pruned")
        self.assertEqual(self.listed(w), sorted([auto] + copies[1:]))
        self.assertFalse(os.path.exists(self.backup_dir(w, copies[0])))
        self.assertEqual(w.ctl_json("prune", "--dry-run")["backups"], [])

    def test_dry_run_lists_without_deleting(self):
        w = self.backed_up_world()
        auto = next(iter(w.backups.values()))["Id"]
        copies = self.import_copies(w, 3)
        # the policy is applied after a commit, not at start: a dry run shows what the next one would do
        w2 = self.restart(w, config="AutoBackup=never\nKeepLast=1\n")
        r = w2.ctl("prune", "--dry-run")
        for c in copies[:2]:
            self.assertIn("Would delete " + c, r.stdout)
        self.assertIn("KeepLast=1", r.stdout)
        self.assertNotIn(copies[2], r.stdout)
        self.assertNotIn(auto, r.stdout)
        listed = w2.ctl_json("prune", "--dry-run")["backups"]
        self.assertEqual(sorted(b["id"] for b in listed), sorted(copies[:2]))
        self.assertEqual(self.listed(w2), sorted([auto] + copies))
        for c in copies:
            self.assertTrue(os.path.isdir(self.backup_dir(w2, c)))
        # and without --dry-run exactly those go
        r = w2.ctl("prune")
        self.assertEqual(r.stdout.count("Deleted "), 2, r.stdout)
        self.assertEqual(self.listed(w2), sorted([auto, copies[2]]))
        w2.wait_until(lambda: len(w2.backups_removed) == 2, "two InterfacesRemoved")



class TestSharedImages(StoreTestCase):

    def second_backup(self, w):
        n = len(w.backups)
        w.ctl_then_plug("phone0", "backup", "--wait")
        w.wait_until(lambda: len(w.backups) == n + 1, "the second backup published")
        w.sim_wait("phone0", phase="booted")
        return [b["Id"] for b in w.backups.values()]

    def test_second_backup_of_an_unchanged_phone_costs_no_space(self):
        w = self.backed_up_world()
        first = next(iter(w.backups.values()))["Id"]
        one = self.disk_usage(w)
        size = next(iter(w.backups.values()))["Size"]
        ids = self.second_backup(w)
        second = [i for i in ids if i != first][0]
        two = self.disk_usage(w)
        print("\nstore after one backup: %d bytes; after two of the unchanged phone: %d bytes (images: %d bytes "
              "per backup)" % (one, two, size))
        a, b = self.image_stats(w, first), self.image_stats(w, second)
        self.assertEqual(sorted(a), sorted(b))
        for name in a:
            self.assertEqual((a[name].st_dev, a[name].st_ino), (b[name].st_dev, b[name].st_ino),
                             name + " is stored twice")
            self.assertEqual(b[name].st_nlink, 3, name + ": two backups and its object")
        # a second manifest and nothing else
        self.assertLess(two - one, 64 * 1024)
        # backups says so: the store's size, and what sharing saved (one backup's images)
        out = w.ctl("backups").stdout
        usage = w.bus.call_blocking("org.mtknvd.MtkNv1", "/org/mtknvd/MtkNv1", "org.mtknvd.MtkNv1.Manager",
                                    "GetStoreUsage", "", ())
        self.assertEqual(int(usage["SavedSize"]), size)
        self.assertEqual(int(usage["DiskSize"]), two)
        self.assertEqual(int(usage["Backups"]), 2)
        self.assertIn("identical images stored once saved %.1f MiB" % (size / 1048576.0), out)
        self.assertIn("Store: %.1f MiB on disk" % (two / 1048576.0), out)
        # reference-counted: deleting one keeps the images of the other, deleting both removes them
        w.ctl("delete-backup", first)
        self.assertTrue(all(st.st_nlink == 2 for st in self.image_stats(w, second).values()))
        self.assertEqual(len(self.objects(w)), len(a))
        self.assertEqual(w.ctl_json("verify-backup", second)["ok"], True)
        w.ctl("delete-backup", "--force", second)
        w.wait_until(lambda: not w.backups, "both backups gone")
        self.assertEqual(self.objects(w), {})
        self.assertLess(self.disk_usage(w), 4096)

    def test_the_same_archive_twice_is_stored_once(self):
        w = self.backed_up_world()
        first = next(iter(w.backups.values()))["Id"]
        out = os.path.join(w.tmp, "backup.tar")
        w.ctl("export-backup", first, out)
        before = self.disk_usage(w)
        # its own export: the backup is already here
        r = w.ctl("import", out)
        self.assertIn("Already stored as backup %s" % first, r.stdout)
        self.assertIn("nothing was added", r.stdout)
        res = json.loads(w.ctl("--json", "import", out).stdout)
        self.assertEqual((res["id"], res["already_stored"]), (first, True))
        w.sync()
        self.assertEqual(self.listed(w), [first])
        self.assertEqual(self.disk_usage(w), before)
        # the same images read at another time: a backup of its own, sharing the images
        (copy,) = self.import_copies(w, 1)
        self.assertEqual(self.listed(w), sorted([first, copy]))
        a, b = self.image_stats(w, first), self.image_stats(w, copy)
        self.assertEqual({n: s.st_ino for n, s in a.items()}, {n: s.st_ino for n, s in b.items()})
        # ...and importing that one again says so too, naming it
        again = json.loads(w.ctl("--json", "import", os.path.join(w.tmp, "copy1.tar")).stdout)
        self.assertEqual((again["id"], again["already_stored"]), (copy, True))
        self.assertEqual(len(self.listed(w)), 2)


class TestCrash(StoreTestCase):
    """The daemon killed (SIGKILL, by tests/tools/kill-at.c at an exact call) in the middle of a commit or
    a delete; after a restart the store is whole: nothing refers to missing data, nothing is kept for no
    backup."""

    def killing_world(self, spec, skip=0):
        return self.backed_up_world(daemon_wrapper=self.wrapper(spec, skip))

    def killed(self, w, *args):
        """Runs mtknvctl ARGS, during which the daemon dies; the world is then stopped."""
        w.expected_exit = True
        r = w.ctl(*args, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        w.wait_for(lambda: w.sim.poll() is not None, "the daemon was killed")
        self.assertEqual(w.stop(), 128 + 9, "killed by SIGKILL")
        with open(w.daemon_log) as f:
            self.assertIn("kill-at: SIGKILL at", f.read())
        return w

    def restarted(self, w):
        w2 = self.world(state_dir=w.state_dir)
        self.assert_store_consistent(w2)
        return w2

    def test_killed_before_the_backup_moves_into_place(self):
        # the first commit (the auto backup) passes; the import's is killed at its last step: its images
        # are linked into .objects, its directory is complete, the rename into the phone's directory not done
        w = self.killing_world("renameat2:.tmp-", skip=1)
        first = next(iter(w.backups.values()))["Id"]
        out = os.path.join(w.tmp, "backup.tar")
        w.ctl("export-backup", first, out)
        copy = self.redated(out, os.path.join(w.tmp, "copy.tar"), 1)
        self.killed(w, "import", copy)
        tmp = [n for n in os.listdir(os.path.join(w.state_dir, "backups")) if n.startswith(".tmp-")]
        self.assertEqual(len(tmp), 1, "the killed commit left its temporary directory")
        w2 = self.restarted(w)
        self.assertEqual(self.listed(w2), [first])
        # and the import, done again, works
        copy_id = self.imported(w2, copy)
        self.assertEqual(len(self.listed(w2)), 2)
        self.assertNotEqual(copy_id, first)
        self.assert_store_consistent(w2)

    def test_killed_while_a_new_image_becomes_an_object(self):
        # the first image of a backup whose content is new is about to be linked into .objects
        # the auto backup links its nvram.img into .objects once; the next one, of changed data, is killed there
        w = self.killing_world("linkat:nvram.img", skip=1)
        first = next(iter(w.backups.values()))["Id"]
        self.scribble(self.storage(w))  # the phone's nvram and nvdata change: new images
        self.killed_backup(w)
        w2 = self.restarted(w)
        self.assertEqual(self.listed(w2), [first])

    def killed_backup(self, w):
        w.expected_exit = True
        r = w.ctl_then_plug("phone0", "backup", "--wait", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        w.wait_for(lambda: w.sim.poll() is not None, "the daemon was killed")
        self.assertEqual(w.stop(), 128 + 9)
        with open(w.daemon_log) as f:
            self.assertIn("kill-at: SIGKILL at linkat", f.read())

    def test_killed_in_the_middle_of_a_delete(self):
        # the backup is in the trash, one of its images removed: start-up finishes the delete
        w = self.killing_world("unlinkat:nvdata.img")
        first = next(iter(w.backups.values()))["Id"]
        (copy,) = self.import_copies(w, 1)
        self.killed(w, "delete-backup", copy)
        trash = [n for n in os.listdir(os.path.join(w.state_dir, "backups")) if n.startswith(".trash-")]
        self.assertEqual(len(trash), 1)
        w2 = self.restarted(w)
        self.assertEqual(self.listed(w2), [first])
        self.assertTrue(all(st.st_nlink == 2 for st in self.objects(w2).values()))

    def test_killed_while_the_last_holder_goes(self):
        # the only backup is deleted (--force); killed as its objects are swept: nothing may stay for ever
        w = self.backed_up_world()
        first = next(iter(w.backups.values()))["Id"]
        sha = [p for p in w.ctl_json("show-backup", first)["partitions"] if p["name"] == "nvram"][0]["sha256"]
        w2 = self.restart(w, daemon_wrapper=self.wrapper("unlinkat:" + sha))
        self.killed(w2, "delete-backup", "--force", first)
        self.assertTrue(os.path.exists(os.path.join(w.state_dir, "backups", ".objects", sha)),
                        "killed before the object went")
        w3 = self.restarted(w2)
        self.assertEqual(self.listed(w3), [])
        self.assertEqual(self.objects(w3), {})

    def wrapper(self, spec, skip=0):
        lib = os.path.join(BUILD, "tools", "kill-at.so")
        return ["env", "MTKNVD_TEST_KILL_AT=" + spec, "MTKNVD_TEST_KILL_SKIP=%d" % skip, "sh", "-c",
                'LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}%s" exec "$@"' % lib, "sh"]


class TestLabels(StoreTestCase):

    def test_label_a_phone_and_a_backup(self):
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        key = bid.split("/")[0]
        path = next(iter(w.backups))
        signalled = {}

        def on_props(iface, changed, invalidated, path=None):
            if str(iface) == "org.mtknvd.MtkNv1.Backup":
                signalled.update({(str(path), str(k)): str(v) for k, v in changed.items()})
        w.bus.add_signal_receiver(on_props, "PropertiesChanged", "org.freedesktop.DBus.Properties", None,
                                  path_keyword="path")
        r = w.ctl("label", key, "Anna's phone")
        self.assertIn("Labelled phone %s" % key, r.stdout)
        w.ctl("label", bid, "before the update")
        w.wait_until(lambda: signalled.get((path, "Label")) == "before the update", "Backup.Label changes")
        w.wait_until(lambda: signalled.get((path, "DeviceLabel")) == "Anna's phone", "Backup.DeviceLabel changes")
        props = w.get_props(path, "org.mtknvd.MtkNv1.Backup")
        self.assertEqual((props["Label"], props["DeviceLabel"]), ("before the update", "Anna's phone"))
        self.assertEqual(w.ctl("label", key).stdout.strip(), "Anna's phone")
        out = w.ctl("backups").stdout
        self.assertIn("before the update", out)
        b = w.ctl_json("show-backup", bid)
        self.assertEqual((b["label"], b["device_label"]), ("before the update", "Anna's phone"))
        self.assertIn("Label: before the update", w.ctl("show-backup", bid).stdout)
        with open(os.path.join(w.state_dir, "labels")) as f:
            self.assertIn("phone\t%s\tAnna's phone\n" % key, f.read())
        # the phone, plugged in again and identified: its object shows the label, and so do list and show
        self.replug_identified(w)
        w.wait_until(lambda: any(d.get("Label") == "Anna's phone" for d in w.objects.values()), "Device.Label")
        listing = w.ctl("list").stdout
        self.assertIn("LABEL", listing.splitlines()[0])
        self.assertIn("Anna's phone", listing)
        self.assertEqual([d["label"] for d in w.ctl_json("list")], ["Anna's phone"])
        self.assertIn("Label: Anna's phone", w.ctl("show", key).stdout)
        # it survives a restart
        w2 = self.restart(w)
        self.assertEqual(w2.ctl("label", key).stdout.strip(), "Anna's phone")
        self.assertEqual(w2.ctl_json("show-backup", bid)["label"], "before the update")
        # cleared with an empty text
        r = w2.ctl("label", key, "")
        self.assertIn("Cleared the label of phone", r.stdout)
        self.assertEqual(w2.ctl_json("show-backup", bid)["device_label"], "")
        self.assertNotIn("LABEL", w2.ctl("list").stdout.splitlines()[0])

    def test_bad_labels_refused(self):
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        for text, why in (("x" * 65, "65 characters long; at most 64"), ("a\x1b[2Jb", "control character (U+001B"),
                          ("two\nlines", "control character (U+000A")):
            r = w.ctl("label", bid, text, check=False)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(why, r.stderr)
        r = w.ctl("label", "mt6735_nosuchphone", "x", check=False)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertEqual(w.ctl_json("show-backup", bid)["label"], "")
        self.assertFalse(os.path.exists(os.path.join(w.state_dir, "labels")))
        # 64 characters of any script are fine
        w.ctl("label", bid, "\u00e9" * 64)
        self.assertEqual(w.ctl_json("show-backup", bid)["label"], "\u00e9" * 64)

    def test_labelling_is_the_manage_action(self):
        w = self.backed_up_world()
        bid = next(iter(w.backups.values()))["Id"]
        os.chmod(w.tmp, 0o711)
        r = w.ctl_as(NOBODY, "label", bid, "x")
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        self.assertEqual(w.ctl_json("show-backup", bid)["label"], "")
        # reading one is not
        r = w.ctl_as(NOBODY, "label", bid)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_agent_names_the_phone_by_its_label(self):
        from test_agent import Session
        w = self.backed_up_world()
        key = next(iter(w.backups.values()))["Id"].split("/")[0]
        w.ctl("label", key, "Anna's phone")
        s = Session(w)
        self.addCleanup(s.close)
        s.start_agent()
        w.ctl_then_plug("phone0", "backup", "--wait")
        rid, summary, body, hints = s.wait_note(lambda su, b: "backed up" in su, "phone backed up")
        self.assertEqual(summary, "\u201cAnna's phone\u201d (MT6735) backed up")
        self.assertTrue(any(n[1] == "Backing up \u201cAnna's phone\u201d (MT6735)\u2026" for n in s.notes),
                        s.describe())
        self.assertEqual(s.stop_agent(), 0)

    def test_label_goes_with_its_backup(self):
        w = self.backed_up_world()
        (copy,) = self.import_copies(w, 1)
        w.ctl("label", copy, "temporary")
        w.ctl("delete-backup", copy)
        with open(os.path.join(w.state_dir, "labels")) as f:
            self.assertNotIn("temporary", f.read())



class TestDeletePolkit(PolkitTestCase, StoreTestCase):
    """With polkit running: deleting and pruning ask for the "manage" action; a dry run asks nothing."""

    def test_manage_action_decides(self):
        w = self.backed_up_world()
        self.open_world(w)
        (copy,) = self.import_copies(w, 1)
        self.start_polkit(w)
        self.allow("backup", "restore", "export-backup", "import-backup", "verify", "inhibit")
        for args in (("delete-backup", copy), ("prune",)):
            n = len(self.checks)
            self.assert_denied(self.nobody(w, *args), ACTION + "manage")
            w.wait_until(lambda: len(self.checks) == n + 1, "CheckAuthorization")
            self.assertEqual(self.checks[-1], ACTION + "manage")
        self.assertTrue(os.path.isdir(self.backup_dir(w, copy)))
        n = len(self.checks)
        r = self.nobody(w, "prune", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        w.sync()
        self.assertEqual(len(self.checks), n, "a dry run asked polkit")
        self.allow("manage")
        path = self.path_of(w, copy)
        r = self.nobody(w, "delete-backup", copy)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        w.wait_until(lambda: path in w.backups_removed, "the deleted backup's object goes")
        self.assertFalse(os.path.exists(self.backup_dir(w, copy)))


if __name__ == "__main__":
    unittest.main()

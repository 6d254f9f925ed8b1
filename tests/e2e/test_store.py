# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 16: deleting a stored backup (Backup.Delete, mtknvctl delete-backup)
and the retention policy (KeepLast=, KeepPreRestoreDays=, Manager.PruneBackups,
mtknvctl prune [--dry-run])."""

import os
import shutil
import unittest

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

    def import_copies(self, w, n):
        """n more backups of the phone, by importing an export of its first one (no phone time needed)."""
        bid = next(iter(w.backups.values()))["Id"]
        out = os.path.join(w.tmp, "backup.tar")
        if not os.path.exists(out):
            w.ctl("export-backup", bid, out)
        return [self.imported(w, out) for _ in range(n)]


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
        self.assertEqual([n for n in os.listdir(top) if n.startswith(".")], [])
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

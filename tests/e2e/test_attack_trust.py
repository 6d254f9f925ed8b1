# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue "No local caller can freeze, starve, crash or fool the daemon", items 5
and 8: a backup is bound to a phone only if this host signed that binding; the
identifiers that a forged binding would need are not shown to everyone; and
what a phone declares (its partition table, its answers) cannot trip the
daemon up."""

import hashlib
import hmac
import io
import json
import os
import re
import shutil
import struct
import subprocess
import tarfile
import tempfile
import unittest
import zlib

import dbus

from harness import BACKUP_IFACE, BUILD, DEVICE_IFACE, OM_IFACE, PROPS_IFACE, unwrap
from test_backup import IDENTITY, LAYOUT
from test_polkit import ACTION, PolkitTestCase

ME_A = "a1" * 16
ME_B = "b2" * 16


V2_REGION_NUMBERS = {"user": 8, "boot1": 1, "boot2": 2, "rpmb": 3, "any": 255}


def older_manifest(text, version, host_key=None):
    """A version 3 manifest.yaml as an older mtknvd wrote it: version 1 (no
    binding) or 2 (signed with host_key over the canonical bytes of
    "mtknvd-binding-v1", as daemon/backup/manifest.h describes them)."""
    lines = []
    for line in text.split("binding:")[0].splitlines():
        if line.strip().startswith(("storage_type:", "storage_id:")):
            continue
        if line.strip().startswith("region: "):
            line = "  region: %d" % V2_REGION_NUMBERS[line.split(": ", 1)[1]]
        if line.startswith("format_version: "):
            line = "format_version: %d" % version
        lines.append(line)
    out = "\n".join(lines) + "\n"
    if version < 2:
        return out

    fields, parts = {}, None
    for line in lines:
        if line == "partitions:":
            parts = []
        elif ": " in line:
            k, v = line.strip().lstrip("- ").split(": ", 1)
            if line.startswith("- "):
                parts.append({})
            (parts[-1] if parts is not None else fields)[k] = v[1:-1] if v.startswith('"') else v

    def s(v):
        return struct.pack(">I", len(v.encode())) + v.encode()

    def u(v):
        return struct.pack(">Q", int(v))
    data = b"mtknvd-binding-v1\0" + b"".join(s(fields[k]) for k in ("key", "chip", "me_id", "soc_id", "emmc_cid",
                                                                       "table_source"))
    data += u(fields["hw_code"]) + u(len(parts))
    for p in parts:
        data += s(p["name"]) + s(p["file"]) + u(p["region"]) + u(p["offset"]) + u(p["size"]) + bytes.fromhex(p["sha256"])
    mac = hmac.new(host_key, data, hashlib.sha256).hexdigest()
    key_id = re.search(r'key_id: "([0-9a-f]+)"', text).group(1)
    return out + 'binding:\n  method: "hmac-sha256"\n  key_id: "%s"\n  hmac: "%s"\n' % (key_id, mac)


def fingerprint(value):
    """What the daemon shows callers other than root (identifier-reveal.h)."""
    return "fp:" + hashlib.sha256(b"mtknvd-fp:" + value.encode()).hexdigest()[:8]


class TrustTestCase(PolkitTestCase):

    def backup_of(self, w, me_id):
        return next(b for b in w.backups.values() if b["MeId"] == me_id)

    def export(self, w, bid, name="export.tar"):
        out = os.path.join(w.tmp, name)
        w.ctl("export-backup", bid, out)
        return out

    def edit_manifest(self, src, dst, edit):
        """A copy of the archive src with its manifest.yaml rewritten by edit(text)."""
        buf = io.BytesIO()
        with tarfile.open(src) as t, tarfile.open(fileobj=buf, mode="w") as out:
            for m in t.getmembers():
                data = t.extractfile(m).read()
                if m.name.endswith("/manifest.yaml"):
                    data = edit(data.decode()).encode()
                    m.size = len(data)
                out.addfile(m, io.BytesIO(data))
        with open(dst, "wb") as f:
            f.write(buf.getvalue())
        return dst

    def imported(self, w, path):
        res = json.loads(w.ctl("--json", "import", path).stdout)
        w.wait_until(lambda: any(b["Id"] == res["id"] for b in w.backups.values()), "import published")
        return w.ctl_json("show-backup", res["id"])

    def replug(self, w, phone):
        """Plugged in again, listening for ever and left alone: the key of the phone's object."""
        self.replug_listening(w, phone)
        return self.ready_device(w).rsplit("/", 1)[1]

    def phone_parts(self, w, phone):
        return {n: self.read_part(self.storage(w, phone), n) for n in IDENTITY}


class TestForgedBinding(TrustTestCase):

    def test_edited_manifest_claiming_another_phone_is_not_bound(self):
        w = self.backed_up_world("id=a,me-id=" + ME_A, "id=b,me-id=" + ME_B)
        self.open_world(w)
        a_backup, b_backup = self.backup_of(w, ME_A), self.backup_of(w, ME_B)
        a_data, b_data = self.phone_parts(w, "a"), self.phone_parts(w, "b")
        self.assertNotEqual(a_data["nvram"], b_data["nvram"])
        archive = self.export(w, a_backup["Id"])

        # The attack: phone a's images, a manifest claiming phone b (its ME ID
        # and device key, as anyone could read them before), no eMMC CID.
        def claim_b(text):
            text = text.replace(ME_A, ME_B).replace(a_backup["EmmcCid"], "")
            return text.replace(a_backup["DeviceKey"], b_backup["DeviceKey"])

        def claim_b_unsigned(text):
            return claim_b(text).split("binding:")[0]
        forged = {"hmac kept": self.edit_manifest(archive, os.path.join(self.out, "forged.tar"), claim_b),
                  "hmac removed": self.edit_manifest(archive, os.path.join(self.out, "unsigned.tar"),
                                                     claim_b_unsigned)}
        for p in forged.values():
            os.chmod(p, 0o644)
        ids = {}
        for what, path in forged.items():
            with self.subTest(what):
                info = self.imported(w, path)
                ids[what] = info["id"]
                self.assertFalse(info["bound"], info)
                self.assertEqual(info["device_key"], "unbound", "the claim is not kept")
                self.assertEqual((info["me_id"], info["emmc_cid"]), ("", ""))

        device = self.replug(w, "b")
        for what, bid in ids.items():
            with self.subTest(what):
                r = w.ctl("--json", "restore", "--yes", "--device", device, bid, check=False)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn("is not bound to any phone", r.stderr)
                self.assertIn("allow-foreign", r.stderr)
                self.assertEqual(self.phone_parts(w, "b"), b_data, "phone b was written")
        self.assertFalse(self.writes_to(w, "b"))

        # a technician who means it: allow-foreign, and polkit's restore-foreign
        self.start_polkit(w)
        self.allow("restore")
        r = self.nobody(w, "restore", "--yes", "--device", device, "--allow-foreign", ids["hmac kept"])
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        self.assertIn(ACTION + "restore-foreign", r.stderr)
        self.assertEqual(self.phone_parts(w, "b"), b_data)
        self.allow("restore", "restore-foreign")
        r = self.nobody(w, "--json", "restore", "--yes", "--device", device, "--allow-foreign", ids["hmac kept"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(json.loads(r.stdout)["success"], r.stdout)
        w.wait_until(lambda: ACTION + "restore-foreign" in self.checks, "restore-foreign asked for")
        self.assertEqual(self.phone_parts(w, "b"), a_data, "the override wrote what it was asked to")

    def writes_to(self, w, phone):
        return "0x62" in w.stats(phone).get("commands", "").split(",")


class TestGenuineBinding(TrustTestCase):

    def test_round_trip_on_this_host_and_a_host_sharing_its_key(self):
        keep = tempfile.mkdtemp(prefix="mtknvd-keep-")
        self.addCleanup(shutil.rmtree, keep, True)
        w = self.backed_up_world()
        storage = self.storage(w)
        original = {n: self.read_part(storage, n) for n in IDENTITY}
        bid = next(iter(w.backups.values()))["Id"]
        archive = shutil.copy(self.export(w, bid), os.path.join(keep, "backup.tar"))
        # the exported manifest carries the binding, with this host's key id
        with tarfile.open(archive) as t:
            manifest = next(t.extractfile(m).read().decode() for m in t if m.name.endswith("manifest.yaml"))
        self.assertIn("format_version: 3", manifest)
        self.assertIn("region: user", manifest)
        self.assertIn('method: "hmac-sha256"', manifest)

        info = self.imported(w, archive)
        self.assertTrue(info["bound"], info)
        self.assertEqual(info["binding"], "verified")
        self.assertEqual(info["device_key"], bid.split("/")[0])
        self.scribble(storage)
        self.replug_ready(w)
        r, res = self.restore(w, info["id"])
        self.assertTrue(res["success"], res)
        self.assertNotIn("not bound", r.stderr)
        self.assertEqual({n: self.read_part(storage, n) for n in IDENTITY}, original)
        key = os.path.join(w.state_dir, "host.key")
        self.assertEqual(os.stat(key).st_mode & 0o7777, 0o600)
        self.assertEqual(os.path.getsize(key), 32)

        # another host to which the administrator copied host.key: still bound
        shared = os.path.join(keep, "shared-state")
        os.makedirs(shared)
        shutil.copy(key, os.path.join(shared, "host.key"))
        w2 = self.world("id=phone0,handshake-window=0", state_dir=shared, daemon_args=["--grace-period=60"])
        info = self.imported(w2, archive)
        self.assertTrue(info["bound"], info)
        w2.wait_state("idle")
        r, res = self.restore(w2, info["id"])
        self.assertTrue(res["success"], res)

        # a host with a key of its own: the same archive is not bound there
        w3 = self.world("id=phone0,handshake-window=0", daemon_args=["--grace-period=60"])
        info = self.imported(w3, archive)
        self.assertFalse(info["bound"], info)
        self.assertEqual(info["device_key"], "unbound")
        w3.wait_state("idle")
        r, res = self.restore(w3, info["id"], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not bound to any phone", r.stderr)
        with open(w3.daemon_log) as f:
            self.assertIn("signed by another host's key", f.read())

    def test_manifests_of_an_older_mtknvd(self):
        keep = tempfile.mkdtemp(prefix="mtknvd-keep-")
        self.addCleanup(shutil.rmtree, keep, True)
        state = os.path.join(keep, "state")
        storage = os.path.join(keep, "phone0.img")
        w = self.backed_up_world("id=phone0,storage=" + storage, state_dir=state)
        key, bid = next(iter(w.backups.values()))["Id"].split("/")
        self.assertEqual(w.stop(), 0)
        w.expected_exit = True
        w.close()

        # version 1 (no binding): one this host took, one it imported (with a claimed identity)
        taken = os.path.join(state, "backups", key, bid)
        old_import = os.path.join(state, "backups", key, "20200101T000000Z-import")
        with open(os.path.join(taken, "manifest.yaml")) as f:
            current = f.read()
        v1 = older_manifest(current, 1)
        self.assertIn("format_version: 1", v1)
        self.assertIn("region: 8", v1)
        shutil.copytree(taken, old_import)
        # version 2, signed by this host as mtknvd signed it then (manifest.h, written here from that text)
        v2_taken = os.path.join(state, "backups", key, "20200102T000000Z-manual")
        shutil.copytree(taken, v2_taken)
        with open(os.path.join(state, "host.key"), "rb") as f:
            v2 = older_manifest(current, 2, f.read())
        for d, text in ((taken, v1), (old_import, v1.replace('source: "auto"', 'source: "import"')),
                        (v2_taken, v2.replace('source: "auto"', 'source: "manual"'))):
            with open(os.path.join(d, "manifest.yaml"), "w") as f:
                f.write(text)

        w = self.world("id=phone0,handshake-window=0,storage=" + storage, state_dir=state,
                       daemon_args=["--grace-period=60"])
        by_source = {b["Source"]: b for b in w.backups.values()}
        self.assertEqual(set(by_source), {"auto", "import", "manual"})
        self.assertTrue(by_source["auto"]["Bound"])
        self.assertEqual(by_source["auto"]["Binding"], "verified")
        with open(os.path.join(taken, "manifest.yaml")) as f:
            self.assertIn("binding:", f.read(), "signed once, in place")
        self.assertFalse(by_source["import"]["Bound"])
        self.assertEqual(by_source["import"]["Binding"], "legacy")
        with open(os.path.join(old_import, "manifest.yaml")) as f:
            self.assertNotIn("binding:", f.read(), "an old import is never signed")
        # version 2: verified as it is, left as it is
        self.assertTrue(by_source["manual"]["Bound"])
        self.assertEqual(by_source["manual"]["Binding"], "verified")
        self.assertEqual(by_source["manual"]["StorageType"], "emmc")
        self.assertEqual(by_source["manual"]["StorageId"], by_source["manual"]["EmmcCid"])
        self.assertEqual({p[1] for p in by_source["manual"]["Partitions"]}, {"user"})
        with open(os.path.join(v2_taken, "manifest.yaml")) as f:
            self.assertEqual(f.read(), v2.replace('source: "auto"', 'source: "manual"'))
        w.wait_state("idle")
        r, res = self.restore(w, by_source["import"]["Id"], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("imported before mtknvd signed bindings", r.stderr)
        r, res = self.restore(w, by_source["auto"]["Id"])
        self.assertTrue(res["success"], res)


class TestIdentifiersOnTheBus(TrustTestCase):

    def test_unprivileged_callers_see_fingerprints(self):
        w = self.world("id=a,handshake-window=0,me-id=" + ME_A, daemon_args=["--grace-period=60"])
        self.open_world(w)
        w.wait_state("idle")
        # every signal from now on, as anyone on the bus receives them
        heard = []
        w.bus.add_signal_receiver(lambda *a: heard.append(json.dumps(unwrap(a))), "InterfacesAdded", OM_IFACE,
                                  None, "/")
        w.bus.add_signal_receiver(lambda *a: heard.append(json.dumps(unwrap(a))), "PropertiesChanged",
                                  PROPS_IFACE, None)
        self.assertTrue(json.loads(w.ctl("--json", "backup", "--wait").stdout)["success"])
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        self.replug_ready(w, "a")
        bid = next(iter(w.backups.values()))["Id"]

        # root sees everything in full
        root = w.ctl_json("show-backup", bid)
        cid, shas = root["emmc_cid"], [p["sha256"] for p in root["partitions"]]
        self.assertEqual(root["me_id"], ME_A)
        self.assertEqual(len(cid), 32)
        self.assertTrue(all(len(s) == 64 for s in shas))
        self.assertEqual(w.ctl_json("list")[0]["me_id"], ME_A)
        secrets = [ME_A, cid] + shas
        soc = w.ctl_json("list")[0]["soc_id"]
        if soc:
            secrets.append(soc)

        # nobody: fingerprints, and none of the values anywhere
        outputs = []
        dev_id = w.ctl_json("list")[0]["id"]
        for args in (("--json", "list"), ("list",), ("--json", "show", dev_id), ("show", dev_id),
                     ("--json", "show-backup", bid), ("show-backup", bid), ("--json", "backups")):
            r = self.nobody(w, *args)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            outputs.append(r.stdout)
        lst = json.loads(outputs[0])[0]
        self.assertEqual(lst["me_id"], fingerprint(ME_A))
        self.assertIn(fingerprint(ME_A)[3:] + " (fingerprint)", outputs[1])
        self.assertIn("fingerprint", outputs[3])
        shown = json.loads(outputs[4])
        self.assertEqual(shown["me_id"], fingerprint(ME_A))
        self.assertEqual(shown["emmc_cid"], fingerprint(cid))
        self.assertEqual([p["sha256"] for p in shown["partitions"]], [fingerprint(s) for s in shas])
        self.assertTrue(shown["bound"])
        self.assertIn("fingerprint", outputs[5])
        for out in outputs:
            for s in secrets:
                self.assertNotIn(s, out)
        # ... and no signal carried them, not even those a root call caused
        self.assertTrue(any(fingerprint(ME_A) in h for h in heard), "the backup's InterfacesAdded")
        # the storage's id is shown as the eMMC CID is: in full to root, a fingerprint to anyone else
        backup = next(iter(w.backups.values()))
        self.assertEqual((backup["StorageType"], backup["StorageId"]), ("emmc", cid))
        self.assertTrue(any(fingerprint(cid) in h and "StorageId" in h for h in heard), "StorageId in a signal")
        r = self.get_property_as_nobody(w, next(iter(w.backups)), BACKUP_IFACE, "StorageId")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(fingerprint(cid), r.stdout)
        self.assertNotIn(cid, r.stdout)
        for h in heard:
            for s in secrets:
                self.assertNotIn(s, h)

        # the full values are polkit's to give (the export-backup action)
        dev = next(iter(w.objects))
        backup_path = next(iter(w.backups))
        calls = {"device": (dev, DEVICE_IFACE), "backup": (backup_path, BACKUP_IFACE)}
        for what, (path, iface) in calls.items():
            r = self.get_identifiers_as_nobody(w, path, iface)
            self.assertNotEqual(r.returncode, 0, what)
            self.assertIn("AccessDenied", r.stderr)
        self.start_polkit(w)
        self.allow("export-backup")
        for what, (path, iface) in calls.items():
            n = len(self.checks)
            r = self.get_identifiers_as_nobody(w, path, iface)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(ME_A, r.stdout, what)
            w.wait_until(lambda: len(self.checks) > n, "CheckAuthorization")
            self.assertEqual(self.checks[-1], ACTION + "export-backup")
        self.assertIn(cid, r.stdout)
        self.assertIn('"StorageId"', r.stdout)
        self.assertIn(shas[0], r.stdout)

    def get_property_as_nobody(self, w, path, iface, name):
        return subprocess.run(w.as_uid(65534) + ["dbus-send", "--system", "--print-reply", "--dest=org.mtknvd.MtkNv1",
                                                 path, PROPS_IFACE + ".Get", "string:" + iface, "string:" + name],
                              env=w.env(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    def get_identifiers_as_nobody(self, w, path, iface):
        return subprocess.run(w.as_uid(65534) + ["dbus-send", "--system", "--print-reply", "--dest=org.mtknvd.MtkNv1",
                                                 path, iface + ".GetIdentifiers"],
                              env=w.env(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------- what a phone declares

def gpt_edit(storage, edit):
    """Rewrite the GPT entry array of a storage image with edit(entries, entry_size), CRCs fixed."""
    with open(storage, "r+b") as f:
        f.seek(512)
        hdr = bytearray(f.read(512))
        hsize, = struct.unpack_from("<I", hdr, 12)
        lba, = struct.unpack_from("<Q", hdr, 72)
        n, esize = struct.unpack_from("<II", hdr, 80)
        f.seek(lba * 512)
        entries = bytearray(f.read(n * esize))
        edit(entries, esize)
        struct.pack_into("<I", hdr, 88, zlib.crc32(bytes(entries)))
        struct.pack_into("<I", hdr, 16, 0)
        struct.pack_into("<I", hdr, 16, zlib.crc32(bytes(hdr[:hsize])))
        f.seek(512)
        f.write(hdr)
        f.seek(lba * 512)
        f.write(entries)


def entry_name(entries, esize, i):
    raw = bytes(entries[i * esize + 56:i * esize + 128])
    return raw.decode("utf-16-le").split("\0")[0]


def add_entry(name, first_lba, last_lba):
    def edit(entries, esize):
        for i in range(len(entries) // esize):
            e = i * esize
            if entries[e:e + 16] == bytes(16):
                entries[e:e + 16] = hashlib.md5(b"type").digest()
                entries[e + 16:e + 32] = hashlib.md5(name.encode()).digest()
                struct.pack_into("<QQ", entries, e + 32, first_lba, last_lba)
                entries[e + 56:e + 128] = name.encode("utf-16-le").ljust(72, b"\0")
                return
        raise AssertionError("no free GPT entry")
    return edit


def resize_entry(name, size):
    def edit(entries, esize):
        for i in range(len(entries) // esize):
            if entry_name(entries, esize, i) == name:
                first, = struct.unpack_from("<Q", entries, i * esize + 32)
                struct.pack_into("<Q", entries, i * esize + 40, first + size // 512 - 1)
                return
        raise AssertionError("no GPT entry " + name)
    return edit


class TestDeclaredByThePhone(TrustTestCase):

    def phone_with(self, *edits, wrapper=()):
        w = self.world("id=phone0,unplugged=1,handshake-window=0", daemon_args=["--grace-period=60"],
                       daemon_wrapper=wrapper)
        storage = w.stats("phone0")["storage"]
        for e in edits:
            e(storage)
        w.control("plug phone0")
        w.wait_state("idle")
        return w

    def backup(self, w):
        r = w.ctl("--json", "backup", "--wait", check=False)
        return r, json.loads(r.stdout) if r.stdout.strip() else {}

    def test_identity_partition_listed_twice(self):
        nvram_lba = LAYOUT["nvram"][0] // 512
        w = self.phone_with(lambda s: gpt_edit(s, add_entry("NVRAM", nvram_lba + 0x100000, nvram_lba + 0x100fff)))
        r, res = self.backup(w)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertNotIn("File exists", res["message"])
        self.assertIn("lists nvram twice", res["message"])
        self.assertIn('"nvram" at 0x380000', res["message"])
        self.assertIn('"NVRAM" at', res["message"])
        self.assertIn("--scatter", res["message"])
        self.assertEqual(w.backups, {})

    def test_names_colliding_elsewhere_do_not_matter(self):
        w = self.phone_with(lambda s: gpt_edit(s, add_entry("cache", 0x200000, 0x2003ff)),
                            lambda s: gpt_edit(s, add_entry("CACHE", 0x300000, 0x3003ff)))
        r, res = self.backup(w)
        self.assertTrue(res["success"], res)
        w.wait_until(lambda: len(w.backups) == 1, "backup published")
        self.assertEqual(sorted(p[0] for p in next(iter(w.backups.values()))["Partitions"]), sorted(IDENTITY))

    def test_oversized_identity_partition(self):
        w = self.phone_with(lambda s: gpt_edit(s, resize_entry("nvram", 300 << 20)))
        r, res = self.backup(w)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("more than an identity partition has", res["message"])
        self.assertEqual(w.stats("phone0").get("read_bytes"), str(0x8000), "only the GPT was read")

    def test_no_gpt_and_no_pmt_is_known_at_once(self):
        def damage_header(storage):
            with open(storage, "r+b") as f:
                f.seek(512 + 40)          # first usable LBA: the header CRC no longer matches
                f.write(b"\x99")
        w = self.phone_with(damage_header)
        r, res = self.backup(w)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        # before: a 5 s timeout waiting for a PMT length that never comes, "Connection timed out"
        self.assertIn("neither a valid GPT (GPT header CRC mismatch", res["message"])
        self.assertIn("no PMT (it answered 0xa5 to READ_PMT)", res["message"])
        self.assertNotIn("timed out", res["message"])

    def test_failed_journal_update_during_rollback_is_reported(self):
        lib = os.path.join(BUILD, "tools", "fail-rename.so")
        wrapper = ["env", "MTKNVD_TEST_FAIL_RENAME_CONTAINING=PHASE=rollback", "sh", "-c",
                   'LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}%s" exec "$@"' % lib, "sh"]
        w = self.backed_up_world(daemon_wrapper=wrapper)
        storage = self.storage(w)
        bid = next(iter(w.backups.values()))["Id"]
        self.scribble(storage)
        before = {n: self.read_part(storage, n) for n in IDENTITY}
        w.control("fault phone0 corrupt-write@0x62")
        self.replug_ready(w)
        r, res = self.restore(w, bid, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("rolled back", res["message"])
        self.assertIn("restore journal could not be updated when the rollback began", res["message"])
        self.assertIn("--resume --rollback", res["message"])
        for n in IDENTITY:
            self.assertEqual(self.read_part(storage, n), before[n], n + " is not as before the restore")
        with open(w.daemon_log) as f:
            self.assertIn("fail-rename: failing the rename", f.read(), "the failure was injected")
        self.assertEqual(os.listdir(os.path.join(w.state_dir, "journal")), [], "removed once the phone was whole")


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a MediaTek preloader image (or its bare EMI block) with synthetic EMI records.

The formats are the real ones of ../shared/protocol/brom-emi.md:

  gfh   a raw signed preloader (form A, section 2): a GFH FILE_INFO header at 0 (file length at +0x20,
        content offset at +0x28, signature length at +0x2C), code (noise), the EMI block, its u32 LE
        length L right before the signature area, and a fake signature of --sig-len bytes;
  boot  an eMMC boot-area dump (form B): "EMMC_BOOT\\0\\0\\0" + u32 1, the gfh image at 0x800;
  bare  the EMI block alone (form C), optionally followed by --junk bytes of noise.

The EMI block (section 4.1) is the 0x70-byte header ("MTK_BLOADER_INFO_vNN", the preloader file name,
"V116", the seed and address constants, "MTK_BIN\\0", u32 record count) and N records of the version's
size R (section 4.3).  Each record has the layout of its family (section 4.2: A = v11/v14, C = v49/v52,
B = the rest) with the given type and ID (id_length = the ID's length); the register part is
deterministic noise seeded by --seed (default: the file name), the version, the record's index, type
and ID, so two preloaders' records differ and every run writes the same bytes.  Nothing in it is
MediaTek data.

  mkpreloader.py OUT [--form gfh|boot|bare] [--version 20] [--name preloader_x.bin]
                     [--record type=0x0203,id=HEX]... [--count N] [--truncate N] [--junk N]
                     [--zero-trailer] [--sig-len N] [--record-size R] [--seed S]

Inconsistent files for tests: --count N writes N into the header whatever the records are; --truncate N
cuts the written file to its first N bytes (or truncate the file yourself).  As a module:
build(form=..., version=..., records=[(0x0203, b"...")], ...) returns the bytes, extract_records(...)
the part a legacy host sends (block + 0x70, N x R).
"""

import argparse
import hashlib
import struct
import sys

IDENT = b"MTK_BLOADER_INFO_v"
HEADER_LEN = 0x70
GFH_MAGIC = b"MMM\x01\x38\x00\x00\x00"
BOOT_MAGIC = b"EMMC_BOOT\x00\x00\x00"
BOOT_GFH_OFFSET = 0x800

# section 4.3: record size R per version (v25: 160 in most files, 144 in a few; 160 here)
RECORD_SIZE = {}
for _sizes, _versions in ((140, (0,)), (184, (10,)), (168, (11, 14)), (188, (12, 13, 16, 20, 21, 27, 32)),
                          (176, (15, 17, 22)), (164, (24,)), (160, (25, 30, 31, 35, 36, 38, 39, 40, 45, 46, 47)),
                          (144, (28,)), (84, (49, 52))):
    for _v in _versions:
        RECORD_SIZE[_v] = _sizes


def family(version):
    """section 4.2: A (type, ID[16], id_length), C (type, id_length, ID[16]), B (EMI_SETTINGS)."""
    if version in (11, 14):
        return "A"
    if version in (49, 52):
        return "C"
    return "B"


def noise(seed, n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def record(version, size, index, rtype, rid, seed):
    if len(rid) > 16:
        raise ValueError("an EMI record ID has at most 16 bytes, got %d" % len(rid))
    ident = rid.ljust(16, b"\x00")
    fam = family(version)
    if fam == "A":
        head = struct.pack("<I", rtype) + ident + struct.pack("<I", len(rid))
    elif fam == "C":
        head = struct.pack("<II", rtype, len(rid)) + ident
    else:
        # sub_version 1, type, id_length, fw_id_length 0, ID[16], fw_id[8]
        head = struct.pack("<IIII", 1, rtype, len(rid), 0) + ident + bytes(8)
    if len(head) > size:
        raise ValueError("record size %d is smaller than its header" % size)
    tag = b"%s:v%d:%d:%d:%s" % (seed, version, index, rtype, rid.hex().encode())
    return head + noise(tag, size - len(head))


def block(version, name, records, count=None, record_size=None, seed=None):
    """The EMI block: 0x70-byte header and the records ((type, id) pairs)."""
    size = record_size or RECORD_SIZE.get(version)
    if not size:
        raise ValueError("no known record size for EMI version %d: give record_size" % version)
    if not 0 <= version <= 99:
        raise ValueError("the EMI version is two decimal digits")
    seed = (seed if seed is not None else name).encode()
    hdr = (IDENT + b"%02d" % version).ljust(0x1B, b"\x00")
    hdr += name.encode()[:0x3C].ljust(0x3D, b"\x00")
    hdr += b"V116" + struct.pack("<II", 0x33448822, 0x00700090) + b"MTK_BIN\x00"
    hdr += struct.pack("<I", len(records) if count is None else count)
    assert len(hdr) == HEADER_LEN
    return hdr + b"".join(record(version, size, i, t, rid, seed) for i, (t, rid) in enumerate(records))


def gfh_image(emi, name, sig_len=0x124, code_len=0x1000, content_offset=0x300, zero_trailer=False):
    """A raw signed preloader: GFH FILE_INFO, code, the EMI block, u32 L, the signature.  zero_trailer:
    0x800 zero bytes after L, so the last u32 of the content is 0 (brom-emi.md 3, step 1.2)."""
    body = noise(b"code:" + name.encode(), code_len) + emi + struct.pack("<I", len(emi))
    if zero_trailer:
        body += bytes(0x800)
    file_len = content_offset + len(body) + sig_len
    hdr = GFH_MAGIC + b"FILE_INFO".ljust(12, b"\x00")
    hdr += struct.pack("<IHBBI", 1, 1, 5, 3, 0x201000)          # file version, type, flash dev, sig type, load addr
    hdr += struct.pack("<IIIIII", file_len, 0x40000, content_offset, sig_len, content_offset, 0xC2600001)
    assert len(hdr) == 0x38
    # the next GFH header (brom-emi.md 2.1 example), then padding up to the content
    pad = b"MMM\x01\x0c\x00\x01\x00" + bytes(4)
    pad = (hdr + pad).ljust(content_offset, b"\x00")
    return pad + body + noise(b"sig:" + name.encode(), sig_len)


def build(form="gfh", version=20, name="preloader_mtknvd_test.bin", records=((0x0203, b""),), count=None,
          record_size=None, seed=None, sig_len=0x124, junk=0, truncate=None, zero_trailer=False):
    emi = block(version, name, list(records), count, record_size, seed)
    if form == "bare":
        out = emi + noise(b"junk:" + name.encode(), junk)
    elif form == "gfh":
        out = gfh_image(emi, name, sig_len, zero_trailer=zero_trailer)
    elif form == "boot":
        out = (BOOT_MAGIC + struct.pack("<I", 1)).ljust(BOOT_GFH_OFFSET, b"\x00") + \
            gfh_image(emi, name, sig_len, zero_trailer=zero_trailer)
    else:
        raise ValueError("unknown form %r (gfh, boot, bare)" % form)
    return out if truncate is None else out[:truncate]


def extract_records(data):
    """What a legacy host sends after ENABLE_DRAM (brom-emi.md 4.5): block + 0x70, N x R bytes
    (section 3 applied to data, which must be well formed); returns (version, R, records)."""
    g = data.find(GFH_MAGIC)
    if g >= 0:
        file_len, sig_len = struct.unpack_from("<I", data, g + 0x20)[0], struct.unpack_from("<I", data, g + 0x2C)[0]
        end = g + file_len - sig_len
        length = struct.unpack_from("<I", data, end - 4)[0]
        if length == 0:
            end -= 0x800
            length = struct.unpack_from("<I", data, end - 4)[0]
        emi = data[end - 4 - length:end - 4]
    else:
        emi = data[data.index(IDENT):]
    version = int(emi[len(IDENT):len(IDENT) + 2])
    size = RECORD_SIZE[version]
    n = struct.unpack_from("<I", emi, 0x6C)[0]
    return version, size, emi[HEADER_LEN:HEADER_LEN + n * size]


def parse_record(spec):
    rtype, rid = 0x0203, b""
    for item in filter(None, spec.split(",")):
        k, _, v = item.partition("=")
        if k == "type":
            rtype = int(v, 0)
        elif k == "id":
            try:
                rid = bytes.fromhex(v)
            except ValueError:
                raise SystemExit("mkpreloader: id=%r is not an even number of hex digits" % v)
        else:
            raise SystemExit("mkpreloader: unknown record key %r (type, id)" % k)
    return rtype, rid


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="file to write ('-': stdout)")
    ap.add_argument("--form", choices=("gfh", "boot", "bare"), default="gfh", help="image form (default gfh)")
    ap.add_argument("--version", type=int, default=20, help="EMI version, decimal (default 20: MT6735/6737/6753)")
    ap.add_argument("--name", default="preloader_mtknvd_test.bin", help="preloader file name stored in the header")
    ap.add_argument("--record", action="append", default=[], metavar="type=0x0203,id=HEX",
                    help="an EMI record; id= empty: id_length 0 (a default entry). Repeatable; "
                         "default: one default entry")
    ap.add_argument("--count", type=int, help="record count written into the header (default: the records')")
    ap.add_argument("--record-size", type=int, help="record size R (default: section 4.3 for the version)")
    ap.add_argument("--seed", help="noise seed of the register part (default: --name)")
    ap.add_argument("--sig-len", type=lambda s: int(s, 0), default=0x124, help="signature length (gfh, boot)")
    ap.add_argument("--junk", type=int, default=0, help="bare: bytes of noise after the block")
    ap.add_argument("--zero-trailer", action="store_true",
                    help="gfh, boot: 0x800 zero bytes after the u32 L, as in the padded images of section 3")
    ap.add_argument("--truncate", type=int, help="write only the first N bytes")
    a = ap.parse_args(argv)
    records = [parse_record(r) for r in a.record] or [(0x0203, b"")]
    try:
        data = build(a.form, a.version, a.name, records, a.count, a.record_size, a.seed, a.sig_len, a.junk,
                     a.truncate, a.zero_trailer)
    except ValueError as e:
        raise SystemExit("mkpreloader: %s" % e)
    if a.out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(a.out, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

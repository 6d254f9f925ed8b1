#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a synthetic MediaTek preloader image with an EMI block (brom-emi.md §2-§4).

The layout is the real one: a 0x70-byte "MTK_BLOADER_INFO_vNN" header, N records
of the version's size in the family's layout (§4.2), optionally wrapped in a
GFH FILE_INFO image (form A, the block and its u32 length at the end of the
signed content) and an EMMC_BOOT / UFS_BOOT dump header (form B).  The
register part of each record and the "code" are deterministic noise, never
MediaTek data.

  mkpreloader.py OUT [--form gfh|emmc-boot|ufs-boot|bare|embedded] [--version 35]
                 [--record-size N] [--record TYPE:IDHEX]... [--padded] [--trailing N]

--record 0x0203:90014a4842473461 32 adds a record (id_length = ID bytes;
an empty ID is a default entry); without any, one eMMC record with the CID
prefix 90 01 4A 48 42 47 34 61 32 and one default entry.
"""

import argparse
import struct

SIZES = {0: 140, 10: 184, 11: 168, 14: 168, 12: 188, 13: 188, 16: 188, 15: 176, 17: 176, 20: 188, 21: 188,
         22: 176, 24: 164, 25: 160, 27: 188, 32: 188, 28: 144, 30: 160, 31: 160, 35: 160, 36: 160, 38: 160,
         39: 160, 40: 160, 45: 160, 46: 160, 47: 160, 49: 84, 52: 84}
DEFAULT_RECORDS = ["0x0203:90014a4842473461 32", "0x0003:"]


def family(version):
    return "A" if version in (11, 14) else "C" if version in (49, 52) else "B"


def record(version, size, rtype, rid):
    noise = bytes((0xA0 + i * 7) & 0xFF for i in range(size))
    idf = rid.ljust(16, b"\0")
    f = family(version)
    if f == "A":
        head = struct.pack("<I", rtype) + idf + struct.pack("<I", len(rid))
    elif f == "C":
        head = struct.pack("<II", rtype, len(rid)) + idf
    else:
        head = struct.pack("<IIII", 1, rtype, len(rid), 0) + idf
    return head + noise[len(head):]


def block(version, size, records, name="preloader_mtknvd_test.bin"):
    h = bytearray(0x70)
    ident = b"MTK_BLOADER_INFO_v%02d" % version
    h[0:len(ident)] = ident
    h[0x1B:0x1B + len(name)] = name.encode()
    h[0x58:0x70] = b"V116" + struct.pack("<II", 0x33448822, 0x00700090) + b"MTK_BIN\0" + struct.pack("<I", len(records))
    return bytes(h) + b"".join(record(version, size, t, i) for t, i in records)


def gfh(emi, padded):
    content_offset, sig_len = 0x300, 0x124
    code = bytes((i * 13 + 1) & 0xFF for i in range(0x400))
    body = code + emi + struct.pack("<I", len(emi)) + (b"\0" * 0x800 if padded else b"")
    file_len = content_offset + len(body) + sig_len
    h = bytearray(content_offset)
    h[0:0x38] = (b"\x4D\x4D\x4D\x01\x38\x00\x00\x00" + b"FILE_INFO\0\0\0" +
                 struct.pack("<IHBBIIIIIII", 1, 1, 5, 3, 0x200D00, file_len, 0x40000, content_offset, sig_len,
                             content_offset, 0xC2600001))
    h[0x38:0x40] = b"\x4D\x4D\x4D\x01\x0C\x00\x01\x00"
    return bytes(h) + body + b"\xEE" * sig_len


def build(form="gfh", version=35, record_size=None, records=None, padded=False, trailing=0):
    size = record_size or SIZES.get(version, 160)
    parsed = []
    for spec in records or DEFAULT_RECORDS:
        t, _, i = spec.partition(":")
        parsed.append((int(t, 0), bytes.fromhex(i)))
    emi = block(version, size, parsed) + b"\x33" * trailing
    if form == "bare":
        return emi
    if form == "embedded":
        return b"\x11" * 0x123 + emi
    image = gfh(emi, padded)
    if form == "gfh":
        return image
    boot = (b"EMMC_BOOT\0\0\0" if form == "emmc-boot" else b"UFS_BOOT\0\0\0\0") + struct.pack("<II", 1, 512)
    return boot.ljust(0x800, b"\0") + image


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--form", choices=("gfh", "emmc-boot", "ufs-boot", "bare", "embedded"), default="gfh")
    p.add_argument("--version", type=int, default=35)
    p.add_argument("--record-size", type=lambda s: int(s, 0))
    p.add_argument("--record", action="append")
    p.add_argument("--padded", action="store_true", help="0x800 zero bytes after the block length (§3 1.2)")
    p.add_argument("--trailing", type=int, default=0, help="junk bytes after the last record (bare/embedded)")
    a = p.parse_args()
    with open(a.out, "wb") as f:
        f.write(build(a.form, a.version, a.record_size, a.record, a.padded, a.trailing))


if __name__ == "__main__":
    main()

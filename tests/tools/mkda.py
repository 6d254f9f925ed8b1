#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a MediaTek Download Agent container with synthetic payloads.

The layout is the real one (brom.md §6): a 0x6C-byte header, 0xDC-byte
entries (0xD8 with --old-format), ten 20-byte region descriptors per
entry, regions whose last sig_len bytes are the signature.  The payloads
are deterministic noise that starts with "MTKNVD-TEST-DA1"/"-DA2", never
MediaTek code, so tests can see which bytes reached the phone.

  mkda.py OUT [--entry dacode=0x6735,hw_version=0xca00,...]... [--old-format] [--v6]
"""

import argparse
import hashlib
import struct
import sys

ENTRY_KEYS = ("dacode", "sub", "hw_version", "sw_version", "da1_addr", "da1_len", "da2_addr", "da2_len", "sig_len")
DEFAULT_ENTRIES = [
    "dacode=0x6735,hw_version=0xca00",
    "dacode=0x6580,hw_version=0xca00,da1_len=0x8000,da2_len=0x10000",
]


def parse_entry(spec):
    e = {"dacode": 0x6735, "sub": 0, "hw_version": 0xCA00, "sw_version": 0, "da1_addr": 0x200000,
         "da1_len": 0x10000, "da2_addr": 0x40000000, "da2_len": 0x20000, "sig_len": 0x100}
    for item in filter(None, spec.split(",")):
        k, _, v = item.partition("=")
        if k not in ENTRY_KEYS:
            raise SystemExit("mkda: unknown entry key %r (known: %s)" % (k, ", ".join(ENTRY_KEYS)))
        e[k] = int(v, 0)
    return e


def payload(tag, length, sig_len, seed):
    body_len = length - sig_len
    out = bytearray(tag.encode())
    x = seed
    while len(out) < body_len:
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        out += struct.pack("<Q", x)
    body = bytes(out[:body_len])
    sig = (hashlib.sha256(body).digest() * (sig_len // 32 + 1))[:sig_len]
    return body + sig


def build(entries, old_format=False, v6=False, identifier=None):
    stride = 0xD8 if old_format else 0xDC
    header = bytearray(0x6C)
    header[0:18] = b"MTK_DOWNLOAD_AGENT"
    ident = identifier or ("MTK_DA_v6_mtknvd-test" if v6 else "MTK_AllInOne_DA_mtknvd-test")
    header[0x20:0x20 + len(ident)] = ident.encode()
    struct.pack_into("<III", header, 0x60, 4, 0x22668899, len(entries))
    table = bytearray(stride * len(entries))
    blobs = bytearray()
    data_start = 0x6C + len(table)
    for i, e in enumerate(entries):
        da1 = payload("MTKNVD-TEST-DA1", e["da1_len"], e["sig_len"], 0x1000 + i)
        da2 = payload("MTKNVD-TEST-DA2", e["da2_len"], e["sig_len"], 0x2000 + i)
        off1 = data_start + len(blobs)
        blobs += da1
        off2 = data_start + len(blobs)
        blobs += da2
        regions = [
            (off1, len(da1), 0x50000000, off1 + len(da1) - e["sig_len"], e["sig_len"]),  # region 0 (EMI header area)
            (off1, len(da1), e["da1_addr"], off1 + len(da1) - e["sig_len"], e["sig_len"]),  # DA1
            (off2, len(da2), e["da2_addr"], off2 + len(da2) - e["sig_len"], e["sig_len"]),  # DA2
        ]
        base = i * stride
        if old_format:
            struct.pack_into("<HHHHHHHH", table, base, 0xDADA, e["dacode"], e["sub"], e["hw_version"], 0, 0, 0,
                             len(regions))
            rbase = base + 0x10
        else:
            struct.pack_into("<HHHHHHHHHH", table, base, 0xDADA, e["dacode"], e["sub"], e["hw_version"],
                             e["sw_version"], 0, 0, 0, 0, len(regions))
            rbase = base + 0x14
        for k, r in enumerate(regions):
            struct.pack_into("<IIIII", table, rbase + 20 * k, *r)
    return bytes(header + table + blobs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output")
    ap.add_argument("--entry", action="append", help="KEY=VALUE,... with keys " + ", ".join(ENTRY_KEYS))
    ap.add_argument("--old-format", action="store_true", help="0xD8-byte entries without sw_version")
    ap.add_argument("--v6", action="store_true", help="mark the file as an XML (V6) DA")
    ap.add_argument("--identifier")
    a = ap.parse_args()
    data = build([parse_entry(s) for s in (a.entry or DEFAULT_ENTRIES)], a.old_format, a.v6, a.identifier)
    with open(a.output, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

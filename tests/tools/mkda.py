#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a MediaTek Download Agent container with synthetic payloads.

The layout is the real one (brom.md §6): a 0x6C-byte header, 0xDC-byte
entries (0xD8 with --old-format), ten 20-byte region descriptors per
entry, regions whose last sig_len bytes are the signature.  The payloads
are deterministic noise that starts with "MTKNVD-TEST-DA1"/"-DA2", never
MediaTek code, so tests can see which bytes reached the phone.

  mkda.py OUT [--entry dacode=0x6735,hw_version=0xca00,...]... [--old-format] [--v6] [--with-xflash]
              [--with-xml]

An entry with xflash=1 has the layout of a real XFlash (V5) entry
(xflash.md §5.2): hw_sub_code 0x8A00 unless sub= says otherwise, pagesize
field 0x1000, region 0 a 0x270-byte stub at 0x50000000 (GFH FILE_INFO
header, no signature, not sent by hosts), DA1 = region 1 at da1_addr,
DA2 = region 2 at da2_addr, m_start_offset = m_len - m_sig_len, and the
SHA-256 of the unsigned DA2 inside DA1's body at da2_hash_off (a DA1 with
secure boot on runs only that DA2).

An entry with xml=1 has the layout of a real XML ("V6") entry (xml-da.md
§4.1): hw_sub_code 0x8A00 unless sub= says otherwise, three regions of
which region 0 and region 1 are the same signed DA1 (hosts send region 1),
region 2 the DA2 a host sends with BOOT-TO without its signature,
m_start_offset the file offset of each region's signature, and the
SHA-256 of the unsigned DA2 in DA1's hash slot at len - sig_len - 0x30
(32 bytes, then 16 zero bytes).  Its default lengths are the real DA's
(DA1 0x61BE4, DA2 0x51104).  A file with an xml=1 entry has an identifier
containing MTK_DA_v6 (what makes a host speak XML, §1); --v6 gives any file
that identifier without changing its entries.  Other entries are unchanged.
"""

import argparse
import hashlib
import struct
import sys

ENTRY_KEYS = ("dacode", "sub", "hw_version", "sw_version", "da1_addr", "da1_len", "da2_addr", "da2_len", "sig_len",
              "xflash", "da2_hash_off", "xml")
XFLASH_STUB_LEN = 0x270      # xflash.md 5.2: region 0 of every real V5 entry
XFLASH_PAGESIZE = 0x1000
# the simulator's XFlash chips (tests/sim/README.md "Chips"): --with-xflash adds one entry each
XFLASH_DACODES = (0x6570, 0x6755, 0x6761, 0x6765, 0x6768, 0x6771, 0x6785)
# ... and its XML ("V6") chips: --with-xml adds one entry each
XML_DACODES = (0x1208, 0x1129, 0x6893)   # xml-da.md 4.1: a V6 entry carries the hw code itself
XML_DA1_LEN, XML_DA2_LEN = 0x61BE4, 0x51104      # xml-da.md 4.1, the real MT6789 DA
XML_HASH_SLOT_BEFORE_SIG = 0x30
V6_MARK = "MTK_DA_v6"
DEFAULT_ENTRIES = [
    "dacode=0x6735,hw_version=0xca00",
    "dacode=0x6580,hw_version=0xca00,da1_len=0x8000,da2_len=0x10000",
]


def parse_entry(spec):
    e = {"dacode": 0x6735, "sub": 0, "hw_version": 0xCA00, "sw_version": 0, "da1_addr": 0x200000,
         "da1_len": 0x10000, "da2_addr": 0x40000000, "da2_len": 0x20000, "sig_len": 0x100, "xflash": 0,
         "da2_hash_off": 0x1000, "xml": 0}
    given = set()
    for item in filter(None, spec.split(",")):
        k, _, v = item.partition("=")
        if k not in ENTRY_KEYS:
            raise SystemExit("mkda: unknown entry key %r (known: %s)" % (k, ", ".join(ENTRY_KEYS)))
        e[k] = int(v, 0)
        given.add(k)
    if e["xflash"] and e["xml"]:
        raise SystemExit("mkda: an entry is xflash=1 or xml=1, not both")
    if e["xml"] and "da2_hash_off" in given:
        raise SystemExit("mkda: da2_hash_off does not apply to xml=1 (the hash slot is at len - sig_len - 0x30)")
    if e["xml"]:
        e["da1_len"] = e["da1_len"] if "da1_len" in given else XML_DA1_LEN
        e["da2_len"] = e["da2_len"] if "da2_len" in given else XML_DA2_LEN
        if e["da1_len"] < e["sig_len"] + XML_HASH_SLOT_BEFORE_SIG + 16:
            raise SystemExit("mkda: da1_len 0x%x leaves no room for the hash slot" % e["da1_len"])
    if (e["xflash"] or e["xml"]) and "sub" not in given:
        e["sub"] = 0x8A00
    if e["xflash"] and e["da2_hash_off"] + 32 > e["da1_len"] - e["sig_len"]:
        raise SystemExit("mkda: da2_hash_off 0x%x does not fit DA1's body" % e["da2_hash_off"])
    return e


def payload(tag, length, sig_len, seed, insert=None):
    body_len = length - sig_len
    out = bytearray(tag.encode())
    x = seed
    while len(out) < body_len:
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        out += struct.pack("<Q", x)
    if insert:
        off, data = insert
        out[off:off + len(data)] = data
    body = bytes(out[:body_len])
    sig = (hashlib.sha256(body).digest() * (sig_len // 32 + 1))[:sig_len]
    return body + sig


def xflash_stub():
    """Region 0 of a V5 entry: a GFH FILE_INFO header, then filler (never sent)."""
    stub = bytearray(b"MMM\x01\x38\x00\x00\x00FILE_INFO")
    stub += bytes(XFLASH_STUB_LEN - len(stub))
    return bytes(stub)


def da2_body(e, i):
    """DA2 without its signature: what a host sends with BOOT_TO."""
    return payload("MTKNVD-TEST-DA2", e["da2_len"], e["sig_len"], 0x2000 + i)[:e["da2_len"] - e["sig_len"]]


def build(entries, old_format=False, v6=False, identifier=None):
    stride = 0xD8 if old_format else 0xDC
    header = bytearray(0x6C)
    header[0:18] = b"MTK_DOWNLOAD_AGENT"
    v6 = v6 or any(e.get("xml") for e in entries)
    if identifier and v6 and V6_MARK not in identifier:
        raise SystemExit("mkda: a V6 file (--v6 or an xml=1 entry) needs %s in its identifier, not %r" %
                         (V6_MARK, identifier))
    ident = identifier or (V6_MARK + "_mtknvd-test" if v6 else "MTK_AllInOne_DA_mtknvd-test")
    header[0x20:0x20 + len(ident)] = ident.encode()
    struct.pack_into("<III", header, 0x60, 4, 0x22668899, len(entries))
    table = bytearray(stride * len(entries))
    blobs = bytearray()
    data_start = 0x6C + len(table)
    for i, e in enumerate(entries):
        if e["xflash"]:
            blobs += build_xflash_entry(table, stride * i, e, i, data_start + len(blobs), old_format)
            continue
        if e.get("xml"):
            blobs += build_xml_entry(table, stride * i, e, i, data_start + len(blobs), old_format)
            continue
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


def build_xflash_entry(table, base, e, i, off0, old_format):
    """Writes entry i at table[base:] and returns its blobs (stub, DA1, DA2) placed from file offset off0."""
    da2 = payload("MTKNVD-TEST-DA2", e["da2_len"], e["sig_len"], 0x2000 + i)
    digest = hashlib.sha256(da2_body(e, i)).digest()
    da1 = payload("MTKNVD-TEST-DA1", e["da1_len"], e["sig_len"], 0x1000 + i, (e["da2_hash_off"], digest))
    stub = xflash_stub()
    off1 = off0 + len(stub)
    off2 = off1 + len(da1)
    regions = [
        (off0, len(stub), 0x50000000, len(stub), 0),
        (off1, len(da1), e["da1_addr"], len(da1) - e["sig_len"], e["sig_len"]),
        (off2, len(da2), e["da2_addr"], len(da2) - e["sig_len"], e["sig_len"]),
    ]
    if old_format:
        struct.pack_into("<HHHHHHHH", table, base, 0xDADA, e["dacode"], e["sub"], e["hw_version"], XFLASH_PAGESIZE,
                         0, 0, len(regions))
        rbase = base + 0x10
    else:
        struct.pack_into("<HHHHHHHHHH", table, base, 0xDADA, e["dacode"], e["sub"], e["hw_version"],
                         e["sw_version"], 0, XFLASH_PAGESIZE, 0, 0, len(regions))
        rbase = base + 0x14
    for k, r in enumerate(regions):
        struct.pack_into("<IIIII", table, rbase + 20 * k, *r)
    return stub + da1 + da2


def xml_da1(e, i):
    """DA1 of an xml=1 entry (signed), the SHA-256 of the unsigned DA2 in its hash slot."""
    digest = hashlib.sha256(da2_body(e, i)).digest()
    slot = e["da1_len"] - e["sig_len"] - XML_HASH_SLOT_BEFORE_SIG
    return payload("MTKNVD-TEST-DA1", e["da1_len"], e["sig_len"], 0x1000 + i, (slot, digest + bytes(16)))


def build_xml_entry(table, base, e, i, off1, old_format):
    """Writes xml=1 entry i at table[base:] and returns its blobs (DA1, DA2) placed from file offset off1."""
    da1 = xml_da1(e, i)
    da2 = payload("MTKNVD-TEST-DA2", e["da2_len"], e["sig_len"], 0x2000 + i)
    off2 = off1 + len(da1)
    r1 = (off1, len(da1), e["da1_addr"], off1 + len(da1) - e["sig_len"], e["sig_len"])
    regions = [r1, r1, (off2, len(da2), e["da2_addr"], off2 + len(da2) - e["sig_len"], e["sig_len"])]
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
    return da1 + da2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output")
    ap.add_argument("--entry", action="append", help="KEY=VALUE,... with keys " + ", ".join(ENTRY_KEYS))
    ap.add_argument("--old-format", action="store_true", help="0xD8-byte entries without sw_version")
    ap.add_argument("--v6", action="store_true",
                    help="mark the file as an XML (V6) DA (identifier only; xml=1 entries imply it)")
    ap.add_argument("--identifier")
    ap.add_argument("--with-xflash", action="store_true",
                    help="append an xflash=1 entry for each simulated XFlash chip (dacodes %s)" %
                    ", ".join("0x%04x" % c for c in XFLASH_DACODES))
    ap.add_argument("--with-xml", action="store_true",
                    help="append an xml=1 entry for each simulated XML (V6) chip (dacodes %s)" %
                    ", ".join("0x%04x" % c for c in XML_DACODES))
    a = ap.parse_args()
    entries = [parse_entry(s) for s in (a.entry or DEFAULT_ENTRIES)]
    if a.with_xflash:
        entries += [parse_entry("dacode=0x%x,xflash=1" % c) for c in XFLASH_DACODES]
    if a.with_xml:
        entries += [parse_entry("dacode=0x%x,xml=1" % c) for c in XML_DACODES]
    data = build(entries, a.old_format, a.v6, a.identifier)
    with open(a.output, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

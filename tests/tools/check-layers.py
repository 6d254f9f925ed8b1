#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon's layers, checked from its #include lines (README "Layout").

  basic, protocol, common  <  usb, shared (bus utilities)  <  storage  <  mtk,
  backup  <  core  <  ops  <  manager, request  <  bus (the D-Bus faces)  <  main

A file includes headers of its own layer or of layers below it; no two
modules include each other's headers in a circle; the operations name no DA
family (no backend header, no da_legacy_); the legacy DA's API is private to
its backend and its tests.

Usage: check-layers.py [TOP]   prints one line per violation, exits 1 if any.
"""

import os
import re
import sys

RANK = {
    "protocol": 0, "basic": 0, "common": 0,
    "usb": 1, "shared": 1,
    "storage": 2,
    "mtk": 3, "backup": 3,
    "core": 4,
    "ops": 5,
    "top": 6,
    "bus": 7,
    "main": 8,
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "common":
        return "common"
    if len(parts) == 2:  # daemon/x.c
        return "main" if parts[1] == "main.c" else "top"
    return parts[1]      # daemon/<layer>/..., daemon/mtk/legacy/...


def sources(top):
    out = []
    for base in ("daemon", "common"):
        for d, _, files in os.walk(os.path.join(top, base)):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, f), top))
    return sorted(out)


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    files = sources(top)
    headers = {}
    for rel in files:
        if rel.endswith(".h"):
            name = os.path.basename(rel) if "/protocol/" not in rel else "protocol/" + os.path.basename(rel)
            if name in headers:
                print("%s: a header of this name is also %s: includes by name would be ambiguous"
                      % (rel, headers[name]))
            headers[name] = rel
    bad = 0
    graph = {}
    for rel in files:
        text = open(os.path.join(top, rel), encoding="utf-8").read()
        me = layer_of(rel)
        module = os.path.splitext(rel)[0]
        for inc in INCLUDE.findall(text):
            target = headers.get(inc)
            if not target:
                continue  # a system or library header
            other = layer_of(target)
            if RANK[other] > RANK[me]:
                print("%s (layer %s) includes %s (layer %s): dependencies point down" % (rel, me, inc, other))
                bad += 1
            if me == "ops" and "/mtk/" in target and target.count("/") > 2:
                print("%s includes %s: operations see DA families only through da-backend.h" % (rel, inc))
                bad += 1
            dep = os.path.splitext(target)[0]
            if dep != module:
                graph.setdefault(module, set()).add(dep)
        if "da_legacy_" in text and "/mtk/legacy/" not in rel:
            print("%s names da_legacy_: the legacy DA is private to its backend (daemon/mtk/legacy)" % rel)
            bad += 1

    # circles between modules (a module: x.c with its x.h)
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []

    def strong(v, counter=[0]):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    for comp in sccs:
        print("these include each other's headers in a circle: %s" % ", ".join(comp))
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

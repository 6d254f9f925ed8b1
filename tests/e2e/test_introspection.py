# SPDX-License-Identifier: LGPL-2.1-or-later
"""The running daemon's introspection is the documented API, dbus/org.mtknvd.MtkNv1.xml: every interface of ours,
on a Manager, a Device, a Job and a Backup object, has the file's methods (argument names, types, directions, in
order), signals (with their arguments) and properties (type, access), with the same annotations."""

import os
import unittest
import xml.etree.ElementTree as ET

import dbus

from harness import BUS_NAME, MANAGER_IFACE, MANAGER_PATH, TOP, WorldTestCase

XML = os.path.join(TOP, "dbus", "org.mtknvd.MtkNv1.xml")
OURS = "org.mtknvd.MtkNv1."
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"


def annotations(e):
    return {a.get("name"): a.get("value") for a in e.findall("annotation")}


def describe(iface):
    """An <interface> element as comparable data: members by name, arguments in order."""
    methods = {m.get("name"): ([(a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg")],
                               annotations(m))
               for m in iface.findall("method")}
    signals = {s.get("name"): ([(a.get("name"), a.get("type")) for a in s.findall("arg")], annotations(s))
               for s in iface.findall("signal")}
    props = {p.get("name"): (p.get("type"), p.get("access"), annotations(p)) for p in iface.findall("property")}
    return {"methods": methods, "signals": signals, "properties": props, "annotations": annotations(iface)}


def interfaces(root):
    return {i.get("name"): describe(i) for i in root.findall("interface") if i.get("name").startswith(OURS)}


class TestIntrospection(WorldTestCase):

    def introspect(self, w, path):
        text = w.bus.call_blocking(BUS_NAME, path, INTROSPECTABLE, "Introspect", "", ())
        return interfaces(ET.fromstring(str(text)))

    def differences(self, live, documented, path):
        """Every way in which what the daemon shows on path differs from the file, as text."""
        diffs = []
        if not live:
            diffs.append("%s: no interface of ours" % path)
        for name, have in sorted(live.items()):
            want = documented.get(name)
            if want is None:
                diffs.append("%s on %s: not in the XML" % (name, path))
                continue
            for kind in ("methods", "signals", "properties"):
                for member in sorted(set(have[kind]) | set(want[kind])):
                    if member not in want[kind]:
                        diffs.append("%s.%s (%s): the daemon has it, the XML does not" % (name, member, kind))
                    elif member not in have[kind]:
                        diffs.append("%s.%s (%s): the XML has it, the daemon does not" % (name, member, kind))
                    elif have[kind][member] != want[kind][member]:
                        diffs.append("%s.%s: the daemon %r, the XML %r" % (name, member, have[kind][member],
                                                                         want[kind][member]))
            if have["annotations"] != want["annotations"]:
                diffs.append("%s: annotations: the daemon %r, the XML %r" % (name, have["annotations"],
                                                                          want["annotations"]))
        return diffs

    def test_introspection_is_the_xml(self):
        documented = interfaces(ET.parse(XML).getroot())
        w = self.world("id=phone0,unplugged=1", daemon_args=["--grace-period=60"])
        seen = {}

        seen[MANAGER_PATH] = self.introspect(w, MANAGER_PATH)
        # a Job: a backup of the next phone, waiting for it to be plugged in
        job = str(w.bus.call_blocking(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "Backup", "oa{sv}",
                                      (dbus.ObjectPath("/"), {})))
        seen[job] = self.introspect(w, job)
        # a Device and a Backup: the phone, backed up (its object outlives the phone's boot by the grace period)
        w.control("plug phone0")
        ok, message = w.wait_job(job)
        self.assertTrue(ok, message)
        w.wait_until(lambda: w.backups, "the backup published")
        device = next(iter(w.objects))
        backup = next(iter(w.backups))
        seen[device] = self.introspect(w, device)
        seen[backup] = self.introspect(w, backup)

        diffs = []
        for path, live in seen.items():
            diffs += self.differences(live, documented, path)
        if diffs:
            self.fail("the daemon's introspection is not %s:\n%s" % (XML, "\n".join(diffs)))
        # and every interface the file documents is one the daemon has
        self.assertEqual(sorted(set().union(*seen.values())), sorted(documented))


if __name__ == "__main__":
    unittest.main()

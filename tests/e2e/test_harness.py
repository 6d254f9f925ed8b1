# SPDX-License-Identifier: LGPL-2.1-or-later
"""The harness's waits wake on events, not on their own calls.

A wait whose condition called the bus woke its loop with its own reply and
spun against dbus-daemon: two CPUs busy for as long as the wait lasted,
starving the very daemon and simulator it waited for (world starts of
seconds, now and then over the 30 s bound, in parallel make check runs).
These count wake-ups, never time."""

import time
import unittest

from harness import WorldTestCase


class TestWaits(WorldTestCase):

    def test_start_wakes_on_the_name_not_on_polls(self):
        w = self.world("id=p,mode=brom")
        # the daemon's NameOwnerChanged and what little precedes it; a condition asking the bus
        # woke the loop about 1300 times in a 0.1 s start
        self.assertLess(w.start_turns, 50)

    def test_wait_for_checks_a_calling_condition_on_its_tick(self):
        w = self.world("id=p,mode=brom")
        calls = []
        until = time.monotonic() + 0.3

        def cond():
            calls.append(w.daemon_pid())          # a call to the bus, as the descriptor counts make
            return time.monotonic() >= until
        w.wait_for(cond, "0.3 s of a condition that calls the bus", interval=0.02)
        # every 20 ms: about 15 checks (fewer on a slow machine); checked at every wake-up, thousands
        self.assertLess(len(calls), 60)
        self.assertLess(w.last_wait_turns, 120)

    def test_wait_for_checks_once_more_when_the_time_is_up(self):
        w = self.world("id=p,mode=brom")
        calls = []
        with self.assertRaises(AssertionError) as e:
            w.wait_for(lambda: calls.append(1) and False, "something that never happens", timeout=0.2,
                       interval=10)
        # the first check, then the last one when the time is up; the tick never came
        self.assertEqual(len(calls), 2)
        self.assertIn("timed out after 0s waiting for: something that never happens", str(e.exception))


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a process and its descendants are doing, for a test that timed out
waiting for one of them: every thread's state and the kernel function it
sleeps in (wchan), read from /proc.  Start-up timeouts with an empty log
(mtksim, its umockdev preload, the command it runs) say nothing else."""

import os


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "?"


def _children(pid):
    kids = []
    for task in os.listdir("/proc/%d/task" % pid) if os.path.isdir("/proc/%d/task" % pid) else []:
        for c in _read("/proc/%d/task/%s/children" % (pid, task)).split():
            if c.isdigit():
                kids.append(int(c))
    return kids


def describe(pid, depth=0):
    """One line per thread of pid and of every process below it."""
    if pid is None or not os.path.isdir("/proc/%d" % pid):
        return "  " * depth + "%s: gone\n" % pid
    out = ""
    tasks = sorted(os.listdir("/proc/%d/task" % pid), key=int)
    for t in tasks:
        base = "/proc/%d/task/%s" % (pid, t)
        stat = _read(base + "/stat")
        # the state is the field after the ")" that ends the command name
        state = stat[stat.rfind(")") + 2:].split(" ", 1)[0] if ")" in stat else "?"
        out += "  " * depth + "%d/%s %s %s wchan=%s\n" % (pid, t, _read(base + "/comm"), state,
                                                        _read(base + "/wchan"))
    for c in _children(pid):
        out += describe(c, depth + 1)
    return out

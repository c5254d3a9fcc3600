#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/e2e/host-files.py - the host paths a traced run touched outside its --root.
# Usage: host-files.py STRACE_LOG ROOT CWD [ALLOWED...]
# Reads `strace -f -e trace=%file` output and prints every path, named from the current
# directory or absolute, that is not under ROOT, on the way to it (realpath() of the root
# reads each directory above it), under /proc, /dev or /sys, and not ALLOWED (an exact
# path; a directory and all below it when it ends in "/"; "*/NAME" for NAME in any directory).
# Paths relative to another directory fd are not judged (they are opened inside a directory
# already judged).
# Exit 1 when there is one.
import os
import re
import sys

log, root, cwd = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
allowed = sys.argv[4:]
line_re = re.compile(r'^(?:\[pid\s+\d+\]\s+)?(?:\d+\s+)?(\w+)\((.*)$')
path_re = re.compile(r'^(?:AT_FDCWD,\s*)?"((?:[^"\\]|\\.)*)"')


def ok(p):
    for q in (p, os.path.realpath(p)):
        if q == root or q.startswith(root + "/") or root.startswith(q.rstrip("/") + "/"):
            return True
        if q in ("/proc", "/dev", "/sys") or q.startswith(("/proc/", "/dev/", "/sys/")):
            return True
        for a in allowed:
            if a.startswith("*/") and os.path.basename(q) == a[2:]:
                return True
            if q == a or (a.endswith("/") and (q.startswith(a) or q == a[:-1])):
                return True
    return False


bad = {}
with open(log, errors="replace") as f:
    for line in f:
        m = line_re.match(line.strip())
        if not m:
            continue
        call, args = m.groups()
        pm = path_re.match(args)
        if not pm or pm.group(1) == "":
            continue
        p = pm.group(1).encode().decode("unicode_escape")
        if not p.startswith("/"):
            p = os.path.normpath(os.path.join(cwd, p))
        if not ok(p):
            bad.setdefault(p, call)
for p, call in sorted(bad.items()):
    print("host path outside the root: %s (%s)" % (p, call))
sys.exit(1 if bad else 0)

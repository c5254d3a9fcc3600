#!/usr/bin/env python3
# tests/e2e/diag-journal.py - journal export format (systemd's "Journal Export Format") for the
# diag tests, from lines "BOOT<TAB>SECONDS<TAB>PRIORITY<TAB>IDENTIFIER<TAB>UNIT<TAB>MESSAGE" on
# stdin ('-' for no unit; '\n' in MESSAGE starts a new line, '\0' makes it binary). Piped into
# systemd-journal-remote, it becomes a real .journal file that sd-journal reads.
import struct
import sys

out = sys.stdout.buffer
for n, line in enumerate(sys.stdin.read().splitlines()):
    if not line.strip() or line.startswith("#"):
        continue
    boot, secs, prio, ident, unit, msg = line.split("\t", 5)
    usec = int(float(secs) * 1000000)
    fields = [
        ("__REALTIME_TIMESTAMP", str(usec)),
        ("__MONOTONIC_TIMESTAMP", str(usec - 1700000000000000)),
        ("_BOOT_ID", boot),
        ("PRIORITY", prio),
        ("SYSLOG_IDENTIFIER", ident),
        ("_HOSTNAME", "node-006"),
        ("_PID", str(100 + n)),
    ]
    if unit != "-":
        fields.append(("_SYSTEMD_UNIT", unit))
    msg = msg.replace("\\n", "\n").replace("\\0", "\0").encode()
    for k, v in fields:
        out.write(f"{k}={v}\n".encode())
    if b"\n" in msg or b"\0" in msg:
        out.write(b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg + b"\n")
    else:
        out.write(b"MESSAGE=" + msg + b"\n")
    out.write(b"\n")

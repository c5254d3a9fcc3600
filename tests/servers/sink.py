#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/servers/sink.py - a TCP listener on 127.0.0.1 that accepts every connection and never
# answers (nor closes): the peer that tests the deadlines (docs/security.md). The port goes to
# the file named by the first argument once it listens.
import os
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(128)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)

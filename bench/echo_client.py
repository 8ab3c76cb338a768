#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""echo_client.py HOST PORT ROUNDS SIZE: a kernel-TCP echo client. Sends a line
of SIZE bytes, reads its echo back in full, and only then sends the next one,
ROUNDS times; then closes its side and reads to EOF, and prints the seconds
all that took (connect to close). Exits 1 when an echo
differs from what was sent."""
import socket
import sys
import time


def main():
    host, port, rounds, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    t0 = time.perf_counter()
    s = socket.create_connection((host, port), timeout=10)
    for i in range(rounds):
        line = (b"round trip %d " % i).ljust(size - 1, b".") + b"\n"
        s.sendall(line)
        got = b""
        while len(got) < size:
            chunk = s.recv(size - len(got))
            if not chunk:
                return 1
            got += chunk
        if got != line:
            return 1
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
    # The loop's own time, without the interpreter's start-up: bench/run keeps it.
    print("%.6f" % (time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())

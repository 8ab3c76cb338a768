#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A late stray ACK, for the lab only: stray-ack.py IFACE CLIENT SERVER PORT BYTE.

Watches IFACE (a packet socket) for a connection from CLIENT to SERVER:PORT.
Once the server's FIN has gone by and the client acknowledged it, it sends
the server, from the client, one bare ACK of the server's stream offset BYTE:
an ACK from the middle of the transfer arriving late, as one reordered on
the way does. The server, its connection closed, answers it with
<SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1), a reset whose sequence number
lies inside the stream it sent. Prints "sent", or "no close seen". Bounded:
gives up after 10 s. Refuses addresses outside 198.18.0.0/15 and
2001:db8::/32."""
import select
import socket
import struct
import sys
import time

import inet


def ack_segment(v6, src, dst, sport, dport, seq, ack):
    """A bare ACK, its checksum over the pseudo-header (RFC 9293 3.1, RFC 8200 8.1)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, 0x10,
                      65535, 0, 0)
    if v6:
        pseudo = src + dst + struct.pack("!I3xB", len(tcp), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(tcp))
    return tcp[:16] + struct.pack("!H", ~inet.csum(pseudo + tcp) & 0xFFFF) + tcp[18:]


def main():
    iface, client, server, port, byte = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    v6, fam, cl, sv = inet.lab_pair("stray-ack.py", client, server)
    s = inet.watch(iface)
    sport = cnext = siss = sfin = None
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if not select.select([s], [], [], 0.2)[0]:
            continue
        seg = inet.segment(s.recv(70000))
        if not seg:
            continue
        ip, src, dst, a, b, seq, flags, plen = seg
        if src == cl and dst == sv and b == port:
            if flags & 0x12 == 0x02:
                sport = a
            elif a == sport:
                cnext = seq + plen + (flags & 1)
                ihl = 40 if v6 else (ip[0] & 15) * 4
                if sfin is not None and struct.unpack("!I", ip[ihl + 8:ihl + 12])[0] == sfin + 1:
                    break
        elif src == sv and dst == cl and a == port and b == sport:
            if flags & 0x12 == 0x12:
                siss = seq
            elif flags & 1:
                sfin = seq + plen
    else:
        print("no close seen")
        return
    raw = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_TCP)
    raw.bind((client, 0))
    raw.sendto(ack_segment(v6, cl, sv, sport, port, cnext, siss + 1 + byte), (server, 0))
    print("sent")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Forged ICMP errors for the lab only: icmp-forge.py IFACE CLIENT SERVER PORT.

Watches IFACE (a packet socket) for a connection from CLIENT to SERVER:PORT.
At its first SYN, and again at its first data segment, it sends the client
ICMP or ICMPv6 errors "from" SERVER that quote the segment wrongly: a sequence
number outside the send window, another source or destination port, another
source address; as destination unreachable (administratively prohibited, port
unreachable) and as fragmentation needed / packet too big (MTU 576 / 1280).
A TCP that checks them as RFC 5927 says ignores every one. Prints how many it
sent. Bounded: gives up after 10 s. Refuses addresses outside 198.18.0.0/15
and 2001:db8::/32."""
import select
import socket
import struct
import sys
import time

import inet


def csum(data):
    return ~inet.csum(data) & 0xFFFF


def with_tcp(ip, v6, sport=None, dport=None, seq=None, src=None):
    """ip with its TCP ports, sequence number or source address changed."""
    ihl = 40 if v6 else (ip[0] & 15) * 4
    b = bytearray(ip)
    old = struct.unpack("!HHI", b[ihl:ihl + 8])
    struct.pack_into("!HHI", b, ihl, sport if sport is not None else old[0],
                     dport if dport is not None else old[1], seq if seq is not None else old[2])
    if src is not None:
        b[8 if v6 else 12:(24 if v6 else 16)] = src
    return bytes(b)


def icmp_error(v6, frm, to, quoted, typ, code, mtu):
    if v6:
        quoted = quoted[:1280 - 48]
        body = struct.pack("!BBHI", typ, code, 0, mtu if typ == 2 else 0) + quoted
        pseudo = frm + to + struct.pack("!I3xB", len(body), 58)
        body = body[:2] + struct.pack("!H", csum(pseudo + body)) + body[4:]
        hdr = struct.pack("!IHBB", 6 << 28, len(body), 58, 64) + frm + to
        return hdr + body
    quoted = quoted[:576 - 28]
    body = struct.pack("!BBHHH", typ, code, 0, 0, mtu if code == 4 else 0) + quoted
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, 1, 0, frm, to)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + body


def forgeries(v6, seg, server):
    """The wrong errors about one of the client's segments."""
    ip, src, dst, sport, dport, seq, _, _ = seg
    other = bytearray(src)
    other[-1] ^= 0x40
    quotes = [with_tcp(ip, v6, seq=(seq + 0x80000000) & 0xFFFFFFFF),
              with_tcp(ip, v6, seq=(seq - 300000) & 0xFFFFFFFF),
              with_tcp(ip, v6, sport=(sport + 1) & 0xFFFF),
              with_tcp(ip, v6, dport=(dport + 1) & 0xFFFF),
              with_tcp(ip, v6, src=bytes(other))]
    kinds = [(1, 1, 0), (1, 4, 0), (2, 0, 1280)] if v6 else [(3, 13, 0), (3, 3, 0), (3, 4, 576)]
    return [icmp_error(v6, server, src, q, t, c, m) for q in quotes for (t, c, m) in kinds]


def main():
    iface, client, server, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    v6, _, cl, sv = inet.lab_pair("icmp-forge.py", client, server)
    s = inet.watch(iface)
    with open("/sys/class/net/%s/address" % iface) as f:
        mymac = bytes.fromhex(f.read().strip().replace(":", ""))
    sent, saw_syn, end = 0, False, time.monotonic() + 10
    while time.monotonic() < end:
        if not select.select([s], [], [], 0.2)[0]:
            continue
        frame, addr = s.recvfrom(70000)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        seg = inet.segment(frame)
        if not seg or seg[1] != cl or seg[2] != sv or seg[4] != port:
            continue
        syn = seg[6] & 0x12 == 0x02
        if (syn and saw_syn) or (not syn and (not saw_syn or seg[7] == 0)):
            continue
        eth = frame[6:12] + mymac + (b"\x86\xdd" if v6 else b"\x08\x00")
        for pkt in forgeries(v6, seg, sv):
            s.send(eth + pkt)
            sent += 1
        if not syn:
            break
        saw_syn = True
    print(sent)


if __name__ == "__main__":
    main()

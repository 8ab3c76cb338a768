#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile traffic for the lab only: blast.py IFACE DST_MAC SRC_IP DST_IP PORT FRAMES SYNS SEED.

Sends FRAMES malformed or random frames (Ethernet to DST_MAC: IPv4 with random
or broken headers, random TCP, random bytes), then SYNS valid SYNs to
DST_IP:PORT from random source ports, on a packet socket. Deterministic for a
seed; bounded in count. Refuses any address outside 198.18.0.0/15."""
import ipaddress
import random
import socket
import struct
import sys

import inet

LAB = ipaddress.ip_network("198.18.0.0/15")


def csum(data):
    return ~inet.csum(data) & 0xFFFF


def ipv4(src, dst, payload, rnd, broken=False):
    ihl = 5 if not broken else rnd.randrange(0, 16)
    tot = 20 + len(payload) if not broken else rnd.randrange(0, 65536)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, rnd.randrange(65536), 0x4000, 64, 6, 0,
                      src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp_syn(src, dst, sport, dport, seq):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr))
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def main():
    iface, dmac, sip, dip, port, frames, syns, seed = sys.argv[1:9]
    for a in (sip, dip):
        if ipaddress.ip_address(a) not in LAB:
            sys.exit("blast.py: %s is not a lab address (198.18.0.0/15)" % a)
    rnd = random.Random(int(seed))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    with open("/sys/class/net/%s/address" % iface) as f:
        smac = bytes.fromhex(f.read().strip().replace(":", ""))
    eth = bytes.fromhex(dmac.replace(":", "")) + smac + b"\x08\x00"
    src, dst = socket.inet_aton(sip), socket.inet_aton(dip)
    for i in range(int(frames)):
        kind = i % 4
        if kind == 0:
            body = rnd.randbytes(rnd.randrange(0, 120))
        elif kind == 1:
            body = ipv4(src, dst, rnd.randbytes(rnd.randrange(0, 80)), rnd,
                        broken=True)
        else:
            tcp = bytearray(rnd.randbytes(rnd.randrange(20, 100)))
            tcp[2:4] = struct.pack("!H", int(port))
            body = ipv4(src, dst, bytes(tcp), rnd)
        s.send(eth + body)
    for i in range(int(syns)):
        sport = 1024 + rnd.randrange(60000)
        s.send(eth + ipv4(src, dst, tcp_syn(src, dst, sport, int(port), rnd.getrandbits(32)), rnd))


main()

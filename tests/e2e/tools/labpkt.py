# SPDX-License-Identifier: GPL-2.0-or-later
"""What the lab's packet tools share: the Internet checksum (RFC 1071) and the
check that an address is one of the lab's (198.18.0.0/15, 2001:db8::/32)."""
import ipaddress
import struct

LABS = (ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def in_lab(addr, v4_only=False):
    a = ipaddress.ip_address(addr)
    return any(a in n for n in LABS if not v4_only or n.version == 4)

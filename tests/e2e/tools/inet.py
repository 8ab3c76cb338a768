# SPDX-License-Identifier: GPL-2.0-or-later
"""What the lab's packet tools share."""
import struct


def csum(data):
    """The Internet checksum's folded sum of data (RFC 1071), not yet inverted."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s

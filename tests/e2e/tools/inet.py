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


def pcap_records(raw, who):
    """A classic pcap's link type and records: (link, [(header, data), ...]),
    header the 16-byte record header as (sec, frac, incl, orig), data the
    whole record's bytes (header included). Exits naming who when raw is not
    a pcap."""
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise SystemExit("%s: not a pcap file" % who)
    link = struct.unpack(e + "I", raw[20:24])[0]
    recs, off = [], 24
    while off + 16 <= len(raw):
        hdr = struct.unpack(e + "IIII", raw[off:off + 16])
        recs.append((hdr, raw[off:off + 16 + hdr[2]]))
        off += 16 + hdr[2]
    return link, recs

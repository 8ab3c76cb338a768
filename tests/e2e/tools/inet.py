# SPDX-License-Identifier: GPL-2.0-or-later
"""What the lab's packet tools share."""
import ipaddress
import socket
import struct

LABS = (ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32"))
ETH_P_ALL = 3


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


def segment(frame):
    """An Ethernet frame's TCP segment as (IP packet, src, dst, sport, dport, seq,
    flags, payload length), or None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if etype == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        src, dst = ip[12:16], ip[16:20]
    elif etype == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        ihl = 40
        total = 40 + struct.unpack("!H", ip[4:6])[0]
        src, dst = ip[8:24], ip[24:40]
    else:
        return None
    tcp = ip[ihl:]
    if len(tcp) < 20:
        return None
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    doff = (tcp[12] >> 4) * 4
    return ip[:total], src, dst, sport, dport, seq, tcp[13], total - ihl - doff


def lab_pair(who, client, server):
    """(v6, family, client, server as bytes) of two lab addresses; exits naming
    who when either lies outside 198.18.0.0/15 and 2001:db8::/32."""
    for a in (client, server):
        if not any(ipaddress.ip_address(a) in n for n in LABS):
            raise SystemExit("%s: %s is not a lab address" % (who, a))
    v6 = ipaddress.ip_address(client).version == 6
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    return v6, fam, socket.inet_pton(fam, client), socket.inet_pton(fam, server)


def watch(iface):
    """A packet socket on iface that sees every frame, both ways."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    return s

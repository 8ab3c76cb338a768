#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What a server saw on its own interface: pcapcheck.py QUERY FILE PORT [OUT].

Reads a pcap recorded on the server's side (Ethernet or Linux cooked, IPv4 or
IPv6) and answers about the TCP connections of server port PORT, with code
that owes nothing to tcpliveplay's own parsers:

  retransmits  data packets the server sent again (bytes below what it had sent)
  zwprobes     "PROBES DATA": the server's packets of at most one byte while the
               client's window was zero, and whether data went after it reopened
  rsts         resets the server received
  badsum       "BAD RECOVERED": data packets from the client with a wrong TCP
               checksum, and how many of them the client sent again with a right
               one that the server acknowledged (and had not before)
  packets      TCP packets of the port
  busiest      the most connections open at once, each open from its first
               packet to its last (one ending as another begins counts once)
  wire [OUT]   "PACKETS LARGEST BAD" of the data packets of the port's
               connection, in the direction of its first data packet: their
               count, the largest IP packet, and how many had a wrong IP or TCP
               checksum (a TCP checksum the sender's stack left to offload, the
               pseudo-header sum of the segment's own length, counts as right:
               a segment cut by the kernel's GSO on a veth keeps it); with OUT,
               the byte stream they carried (from their SYN's) is written there

Only the client's packets are checksummed: the server's own leave its stack
before their checksums are filled in (the recorder sees them first). Raw IP
captures (tcpliveplay --write) are read too."""
import struct
import sys

import inet


def packets(path):
    with open(path, "rb") as f:
        link, recs = inet.pcap_records(f.read(), "pcapcheck: " + path)
    for (sec, frac, _, _), rec in recs:
        frame = rec[16:]
        if link == 1:
            et, l3 = struct.unpack("!H", frame[12:14])[0], frame[14:]
        elif link == 113:
            et, l3 = struct.unpack("!H", frame[14:16])[0], frame[16:]
        elif link in (101, 228, 229) and frame:
            et, l3 = (0x0800 if frame[0] >> 4 == 4 else 0x86DD), frame
        else:
            continue
        p = tcp(et, l3)
        if p:
            p["ts"] = (sec, frac)
            yield p


def tcp(et, l3):
    ip_ok = True
    if et == 0x0800 and len(l3) >= 20 and l3[9] == 6:
        ihl = (l3[0] & 15) * 4
        total = struct.unpack("!H", l3[2:4])[0]
        seg = l3[ihl:total]
        pseudo = l3[12:20] + struct.pack("!BBH", 0, 6, len(seg))
        ip_ok = inet.csum(l3[:ihl]) == 0xFFFF
    elif et == 0x86DD and len(l3) >= 40 and l3[6] == 6:
        total = 40 + struct.unpack("!H", l3[4:6])[0]
        seg = l3[40:total]
        pseudo = l3[8:40] + struct.pack("!IxxxB", len(seg), 6)
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport, seq, ack, doff, flags, win = struct.unpack("!HHIIBBH", seg[:16])
    hl = (doff >> 4) * 4
    return {
        "sport": sport, "dport": dport, "seq": seq, "ack": ack, "flags": flags, "win": win,
        "len": len(seg) - hl, "sum_ok": inet.csum(pseudo + seg) == 0xFFFF,
        "sum_partial": struct.unpack("!H", seg[16:18])[0] == inet.csum(pseudo),
        "ip_ok": ip_ok, "total": total, "data": seg[hl:],
    }


def rel(a, b):
    return (a - b) & 0xFFFFFFFF


def main():
    if len(sys.argv) != 4 and not (len(sys.argv) == 5 and sys.argv[1] == "wire"):
        raise SystemExit(__doc__)
    query, path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mine = [p for p in packets(path) if port in (p["sport"], p["dport"])]
    conns = {}
    for p in mine:
        client = p["dport"] if p["sport"] == port else p["sport"]
        conns.setdefault(client, []).append(p)
    if query == "packets":
        print(len(mine))
    elif query == "retransmits":
        n = 0
        for ps in conns.values():
            base, top = None, 0
            for p in ps:
                if p["sport"] != port:
                    continue
                if p["flags"] & 2:
                    base = p["seq"] + 1
                    continue
                if base is None or not p["len"]:
                    continue
                start = rel(p["seq"], base)
                if start < top:
                    n += 1
                top = max(top, start + p["len"])
        print(n)
    elif query == "zwprobes":
        probes, data_after = 0, False
        for ps in conns.values():
            zero, was_zero = False, False
            for p in ps:
                if p["dport"] == port and not p["flags"] & 6:
                    zero = p["win"] == 0
                    was_zero = was_zero or zero
                elif p["sport"] == port and zero and p["len"] <= 1 and not p["flags"] & 5:
                    probes += 1
                elif p["sport"] == port and was_zero and not zero and p["len"] > 1:
                    data_after = True
        print(probes, "yes" if data_after else "no")
    elif query == "busiest":
        # Ends before opens at the same instant: a connection that closes as
        # the next opens is not counted twice.
        edges = []
        for ps in conns.values():
            edges.append((ps[0]["ts"], 1))
            edges.append((max(ps[-1]["ts"], ps[0]["ts"]), 0 if ps[-1]["ts"] > ps[0]["ts"] else 2))
        best = cur = 0
        for _, kind in sorted(edges):
            cur += 1 if kind == 1 else -1
            best = max(best, cur)
        print(best)
    elif query == "rsts":
        print(sum(1 for p in mine if p["dport"] == port and p["flags"] & 4))
    elif query == "badsum":
        bad = recovered = 0
        for ps in conns.values():
            for i, p in enumerate(ps):
                if p["dport"] != port or p["sum_ok"] or not p["len"]:
                    continue
                bad += 1
                end = (p["seq"] + p["len"]) & 0xFFFFFFFF
                good = None
                for k in range(i + 1, len(ps)):
                    q = ps[k]
                    if q["sport"] == port and q["flags"] & 16 and rel(q["ack"], end) < 1 << 31:
                        if good is not None:
                            recovered += 1
                        break
                    if q["dport"] == port and q["sum_ok"] and q["seq"] == p["seq"] and q["len"]:
                        good = k
        print(bad, recovered)
    elif query == "wire":
        first = next((p for p in mine if p["len"]), None)
        sent = [p for p in mine if first and p["sport"] == first["sport"]]
        data = [p for p in sent if p["len"]]
        bad = sum(1 for p in data if not p["ip_ok"] or not (p["sum_ok"] or p["sum_partial"]))
        print(len(data), max((p["total"] for p in data), default=0), bad)
        if len(sys.argv) > 4:
            syn = [p for p in sent if p["flags"] & 2]
            base = syn[0]["seq"] + 1 if syn else min((p["seq"] for p in data), default=0)
            stream = bytearray()
            for p in data:
                at = rel(p["seq"], base)
                if len(stream) < at + p["len"]:
                    stream.extend(bytes(at + p["len"] - len(stream)))
                stream[at:at + p["len"]] = p["data"]
            with open(sys.argv[4], "wb") as f:
                f.write(stream)
    else:
        raise SystemExit("pcapcheck: unknown query %s" % query)


main()

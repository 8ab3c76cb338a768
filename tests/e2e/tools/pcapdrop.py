#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pcapdrop.py IN OUT N...: copy a classic pcap, leaving out records N...
(1-based, as tcpliveplay --dump numbers packets): a capture that missed them."""
import struct
import sys


def main():
    src, dst, drop = sys.argv[1], sys.argv[2], {int(n) for n in sys.argv[3:]}
    data = open(src, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit("pcapdrop.py: %s is not a classic pcap" % src)
    out, off, n = [data[:24]], 24, 0
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        end = off + 16 + caplen
        n += 1
        if n not in drop:
            out.append(data[off:end])
        off = end
    open(dst, "wb").write(b"".join(out))


if __name__ == "__main__":
    main()

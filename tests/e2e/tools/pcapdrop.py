#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pcapdrop.py IN OUT N...: copy a classic pcap, leaving out records N...
(1-based, as tcpliveplay --dump numbers packets): a capture that missed them."""
import sys

import inet


def main():
    src, dst, drop = sys.argv[1], sys.argv[2], {int(n) for n in sys.argv[3:]}
    with open(src, "rb") as f:
        raw = f.read()
    _, recs = inet.pcap_records(raw, "pcapdrop.py: " + src)
    kept = [rec for n, (_, rec) in enumerate(recs, 1) if n not in drop]
    with open(dst, "wb") as f:
        f.write(raw[:24] + b"".join(kept))


if __name__ == "__main__":
    main()

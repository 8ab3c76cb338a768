/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One line per packet for debugging output (-vv), as tcpdump writes TCP:
 * "198.18.0.1:61234 > 198.18.0.2:8000 [S] seq 1 win 64240 len 0 <mss 1460,...>".
 * Formatting only: the programs' edges print it.
 */
#ifndef TCPLIVEPLAY_TRACE_H
#define TCPLIVEPLAY_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* The IP packet ip (len bytes) as one line (no newline) into buf; one that
 * does not parse as TCP says so with its length. Returns buf. */
const char *lp_pkt_str(const uint8_t *ip, size_t len, char *buf, size_t blen);

#endif

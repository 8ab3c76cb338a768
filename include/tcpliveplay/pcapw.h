/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes the packets of a live conversation to a pcap file (raw IP link type). */
#ifndef TCPLIVEPLAY_PCAPW_H
#define TCPLIVEPLAY_PCAPW_H

#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/pkt.h"

struct lp_pcapw;

/* Create (or truncate) path. 0, or a negative errno with a message in err. */
int lp_pcapw_open(const char *path, struct lp_pcapw **out, char *err, size_t errlen);

/* Append one IP packet captured at the given wall-clock time (ns since the epoch). */
void lp_pcapw_write(struct lp_pcapw *w, const uint8_t *ip, size_t len, uint64_t wall_ns);

/* Append the wire segments of a TCP super-segment (struct lp_gso, pkt.h),
 * as a segmenter puts them on the wire; a plain packet when g->seg_len is 0. */
void lp_pcapw_write_gso(struct lp_pcapw *w, const uint8_t *ip, size_t len, const struct lp_gso *g,
			uint64_t wall_ns);

/* Flush and close; 0, or -EIO when the file could not be written. Accepts NULL. */
int lp_pcapw_close(struct lp_pcapw *w);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the flow model (src/flow.c, src/stream.c): interval sets, and a
 * direction's captured bytes while the capture is read. Not installed.
 */
#ifndef TCPLIVEPLAY_FLOW_INT_H
#define TCPLIVEPLAY_FLOW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/capture.h"
#include "tcpliveplay/flow.h"

struct iv {
	uint64_t start, end;
};

/* Sorted, disjoint, non-adjacent intervals. */
struct ivset {
	struct iv *v;
	size_t n, cap;
};

/* Add [s, e) to the set: 0 or -ENOMEM. */
int ivset_add(struct ivset *set, uint64_t s, uint64_t e);
/* The first interval whose end lies past s (set->n when none). */
size_t ivset_first_after(const struct ivset *set, uint64_t s);
void ivset_free(struct ivset *set);

/* One direction's payload while the capture is read, addressed relative to
 * a base sequence number that moves down when earlier bytes turn up. No byte
 * is copied: each captured byte is held once, by a piece pointing at the
 * first packet that carried it; later packets that carried some byte again
 * are kept aside and compared once every piece is known. */
struct sbuf {
	bool have_base;
	uint32_t base;
	uint64_t len;              /* bytes from base to the furthest end seen */
	struct ivset cov;          /* bytes present in the capture, from base */
	struct lp_extent *pc;      /* pieces; off holds their sequence number */
	size_t npc, cappc;
	struct lp_extent *dup;     /* packets that overlapped captured bytes; off: sequence number */
	size_t ndup, capdup;
	bool sorted;               /* pc is in stream order */
	uint32_t conflicts;        /* packets whose bytes differed from the first copy */
};

/* Streams are addressed with 32-bit sequence numbers relative to an origin. */
#define LP_STREAM_MAX (1ull << 31)

/* Hold the caplen bytes at p that sequence number seq starts (len on the
 * wire; caplen <= len), within limits: a jump of more than gap_max bytes
 * away from what the buffer spans, or more than *budget (then charged), or a
 * buffer past LP_STREAM_MAX, is refused with 1 and nothing held. 0, 1, or
 * -ENOMEM. */
int sbuf_place(struct sbuf *sb, uint32_t seq, const uint8_t *p, uint32_t caplen, uint32_t len,
	       uint64_t gap_max, uint64_t *budget);

/* Count the packets whose bytes differ from the first copy (sb->conflicts). */
void sbuf_conflicts(struct sbuf *sb);

/* The stream's bytes [0, len) from the base (its origin by now): st takes the pieces as its
 * extents (clipped to the stream, holes filled in as extents without bytes)
 * and its holes; nothing is left in sb. 0 or -ENOMEM. */
int sbuf_finish(struct sbuf *sb, uint64_t len, struct lp_stream *st);

void sbuf_free(struct sbuf *sb);

/* Sequence numbers jump ahead of what a direction holds when the capture lost
 * packets, and every byte of such a gap is held (as a hole). A jump beyond
 * GAP_MAX, or beyond what the file so far allows (GAP_BASE plus GAP_PER_BYTE
 * for each byte read, at most GAP_TOTAL), is taken for garbage (a forged or
 * corrupt sequence number) and the packet is left out: the stream a capture
 * describes stays bounded by a multiple of the file's size. */
#define GAP_MAX (64u << 20)
#define GAP_BASE (1u << 20)
#define GAP_PER_BYTE 256u
#define GAP_TOTAL (256u << 20)

/* One captured TCP packet of a flow, without its payload (placed in its
 * side's sbuf). 32 bytes: a capture holds one per packet until its flows
 * are finished. */
struct rec {
	uint64_t ts;
	uint32_t seq, ack, number;
	uint32_t tsval;          /* with has_ts: the timestamp option's */
	uint16_t len;            /* payload bytes on the wire (an IP length bounds it) */
	uint16_t window;
	uint8_t side, flags;
	bool has_ts;
};

/* The options and window of a side's first SYN or SYN-ACK. */
struct synrec {
	bool seen;
	uint16_t window;
	struct lp_tcpopts opts;
};

/* Load-time state of a flow, by side: side 0 sent the flow's first packet. */
struct build {
	struct lp_endpoint ep[2];
	struct rec *recs;
	size_t nrecs, cap;
	struct sbuf sb[2];
	struct synrec syn[2][2]; /* by side, then SYN (0) or SYN-ACK (1) */
	bool closed;            /* FIN or RST seen: a new SYN starts a new flow */
	bool have_syn, have_synack;
	uint32_t syn_seq, synack_seq;
	bool out_of_window;
	bool truncated;         /* a payload cut by the snap length */
};

static inline int seqdiff(uint32_t a, uint32_t b)
{
	return (int)(int32_t)(a - b);
}

/* The same address, family and port. */
bool lp_ep_eq(const struct lp_endpoint *a, const struct lp_endpoint *b);

/* A flow's records become its client, streams and schedule (src/flow_finish.c);
 * origins far from the bytes held are charged to *budget. 0 or -ENOMEM. */
int lp_flow_finish(struct lp_flow *fl, struct build *bd, uint64_t *budget);

#endif

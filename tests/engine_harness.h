/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted peer for the engine tests (check_engine.c, check_conform.c):
 * it builds the peer's segments, feeds them to one engine and collects
 * what the engine sends, on a clock the test moves.
 */
#ifndef TCPLIVEPLAY_ENGINE_HARNESS_H
#define TCPLIVEPLAY_ENGINE_HARNESS_H

#include <check.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/pkt.h"
#include "testflow.h"

#define MS 1000000ull
#define MAXOUT 512

struct harness {
	struct tflow *t;
	struct lp_engine *e;
	struct lp_engine_cfg cfg;
	enum lp_role role;
	uint32_t piss;           /* the scripted peer's ISN */
	uint32_t eiss;           /* the engine's ISN, learnt from its SYN */
	uint64_t now;
	uint8_t raw[MAXOUT][2048];
	int rawlen[MAXOUT];
	struct lp_seg out[MAXOUT];
	size_t nout;
	/* > 1: h_pull() asks for super-segments of up to this many segments
	 * (lp_engine_output_gso()) and keeps their wire segments (cut by
	 * lp_gso_segment()) in out[], cut[] true for those. */
	unsigned gso_segs;
	bool cut[MAXOUT];
	size_t nsuper;           /* super-segments the engine sent */
	uint8_t big[65536 + LP_PKT_MAXHDR];
	/* The peer's segments reach the engine cut after their TCP header,
	 * as a link with cfg.rx_headers_only hands them on. */
	bool rx_cut;
	unsigned events[LP_EV_TIMER + 1];
	const char *last_reason;
	struct lp_event last_div;
};

/* Set up h for t in role (not yet built: tests may change h->cfg). */
void h_start(struct harness *h, struct tflow *t, enum lp_role role);
void h_new(struct harness *h);
/* Collect everything the engine wants to send now; how many packets. */
size_t h_pull(struct harness *h);
struct lp_seg *h_last(struct harness *h);
/* A segment from the scripted peer with raw sequence numbers. */
void h_push_opts(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
		 const struct lp_tcpopts *o, const uint8_t *data, uint32_t len);
/* Peer data/ACK with offsets relative to both ISNs. */
void h_push(struct harness *h, uint8_t flags, uint64_t seq_off, uint64_t ack_off, uint16_t win,
	    const uint8_t *data, uint32_t len);
/* Client role: take the engine's SYN and answer with a SYN-ACK carrying o. */
struct lp_seg *h_connect(struct harness *h, const struct lp_tcpopts *o, uint16_t win);
/* Payload bytes the engine sent in out[from..]. */
uint64_t out_bytes(const struct harness *h, size_t from);
/* An ICMP error (the family's type and code numbers) about pkt, which the
 * engine sent, from the peer's address. */
void h_icmp_about(struct harness *h, const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
		  uint32_t mtu);
/* The same about the engine's packet out[i]. */
void h_icmp(struct harness *h, size_t i, uint8_t type, uint8_t code, uint32_t mtu);
/* Move the clock to the engine's next timer and run it. */
void h_fire(struct harness *h);
/* Stream offset of our segment i (relative to the engine's ISN). */
uint64_t h_off(const struct harness *h, size_t i);
/* A client sending c bytes at once, then the server answering s bytes, FINs. */
struct tflow *simple_flow(uint32_t c, uint32_t s);

#endif

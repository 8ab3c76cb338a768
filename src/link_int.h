/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside a link: what every kind shares (struct lp_link, embedded first in the
 * kind's own struct) and the few operations a kind supplies. A new kind (an
 * AF_XDP socket, say) is one file: its open function fills an lp_link with
 * lp_link_init() and implements these operations; link.c does the rest.
 */
#ifndef TCPLIVEPLAY_LINK_INT_H
#define TCPLIVEPLAY_LINK_INT_H

#include "tcpliveplay/link.h"
#include "tcpliveplay/pkt.h"

#define LP_ETH_HLEN 14
#define LP_LINK_FRAME_MAX (LP_ETH_HLEN + 65535)
/* Frames read by one receive call: one engine turn, so one cumulative ACK
 * per batch at most. */
#define LP_LINK_RX_BATCH 32

struct lp_link_ops {
	const char *kind;
	/* Put one whole frame (or raw IP packet) on the wire: 0 or -errno,
	 * the message in l->err. */
	int (*xmit)(struct lp_link *l, const uint8_t *frame, size_t len);
	/* Or NULL: put one IP packet on the wire behind the link header hdr
	 * (hlen bytes: the Ethernet header, or none) without building the
	 * frame first; a super-segment (g->seg_len) only where gso_segs > 1,
	 * cut into wire segments by the kernel. 0 or -errno (message in
	 * l->err). */
	int (*xmit_ip)(struct lp_link *l, const uint8_t *hdr, size_t hlen, const uint8_t *ip,
		       size_t len, const struct lp_gso *g);
	/* Read what waits, up to LP_LINK_RX_BATCH frames, without blocking,
	 * and hand each to lp_link_input(). 0 or -errno (message in l->err);
	 * nothing waiting is 0. */
	int (*recv)(struct lp_link *l);
	/* Frames the kernel dropped before we read them, in all. */
	uint64_t (*drops)(struct lp_link *l);
	/* Or NULL: have the connection's TCP segments arrive cut after their
	 * headers (on), or whole again (off). 0 or -errno. */
	int (*rx_headers)(struct lp_link *l, bool on);
	/* Free the kind's own state and l itself (the kind allocated it);
	 * l->fd is closed already. */
	void (*destroy)(struct lp_link *l);
	/* Closing the descriptor waits for an RCU grace period:
	 * lp_link_close_async() leaves the wait to a helper process. */
	bool close_waits;
};

struct lp_link {
	const struct lp_link_ops *ops;
	int fd;
	bool has_mac;
	unsigned ring_mib;            /* the kind's receive ring, 0: none */
	unsigned gso_segs;            /* wire segments one send may carry (1: no offload) */
	struct lp_link_cfg cfg;
	uint8_t peer_mac[6];
	/* neighbour resolution in progress */
	bool resolving, resolved;
	uint8_t want[16], got_mac[6];
	lp_link_rx_fn rx;
	void *rx_ctx;
	lp_link_rx_fn other;
	void *other_ctx;
	lp_link_trace_fn trace;       /* -vv: every packet in and out */
	void *trace_ctx;
	uint8_t rx_mac[6];            /* source MAC of the frame being handled */
	unsigned rx_flags;            /* its LP_RX_* flags */
	/* cfg.rx_headers_only: segments arrive cut (on); given up for good
	 * after a cut frame we could not use (off). */
	bool headers_on, headers_off;
	int handled;                  /* frames handled by this dispatch */
	char err[320];
	uint8_t frame[LP_LINK_FRAME_MAX];   /* what we send is built here */
};

/* Set up the shared part: ops, descriptor (owned from now on), framing and
 * what the link carries. */
void lp_link_init(struct lp_link *l, const struct lp_link_ops *ops, int fd, bool has_mac,
		  const struct lp_link_cfg *cfg);

/* One received frame of len bytes (with an Ethernet header when
 * l->has_mac, else raw IP), wire_len on the wire: neighbour discovery for us
 * is answered, the connection's packets go to the rx callback, other
 * packets to our address to the other one. flags: LP_RX_CSUM_OK when the
 * kernel vouches for its checksum, LP_RX_HEADERS when the frame is shorter
 * than it was on the wire. */
void lp_link_input(struct lp_link *l, const uint8_t *frame, size_t len, size_t wire_len,
		   unsigned flags);

#endif

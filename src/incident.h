/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What went wrong on the captured wire (struct lp_incident, flow.h), read
 * from a flow's packets in capture order while flow.c builds its schedule:
 * retransmissions of bytes the peer had not acknowledged, bytes that came
 * late once the peer's duplicate ACKs asked for them, packets captured twice,
 * zero windows, resets.
 */
#ifndef TCPLIVEPLAY_INCIDENT_H
#define TCPLIVEPLAY_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"

/* One captured packet as the reader needs it. */
struct lp_inc_rec {
	uint8_t dir;            /* enum lp_dir of the packet */
	uint8_t flags;
	uint16_t window;
	uint32_t packet;
	uint64_t ts_ns;
	uint64_t off, len;      /* its payload in its direction's stream */
	uint64_t ack;           /* with LP_TH_ACK: the offset of the peer's stream it acknowledges */
	bool has_ts;
	uint32_t tsval;
	uint64_t covered;       /* the first payload byte an earlier packet carried, or UINT64_MAX */
	uint64_t reached;       /* the end of what earlier packets of the direction carried */
};

/* What the reader keeps of one direction. */
struct lp_inc_dir {
	uint64_t acked;         /* the peer's highest cumulative ACK of this stream */
	unsigned dupacks;       /* the peer's pure ACKs repeating it since */
	uint64_t dup_at;        /* when the first of them came */
	bool have_prev;         /* prev: this direction's last data packet */
	bool peer_since;        /* a packet of the peer came after prev */
	struct lp_inc_rec prev;
	bool zero;              /* its sender's window is closed since zero_at */
	uint64_t zero_at, zero_ack;
	uint32_t zero_packet;
};

struct lp_inc {
	struct lp_inc_dir d[2];
	uint64_t syn_at, synack_at;   /* the handshake, as captured (0: not seen) */
	uint64_t rtt;                 /* from the SYN to the ACK of the SYN-ACK (0: unknown) */
};

/* Read one packet (st zeroed before the first). 0 or -ENOMEM. */
int lp_inc_record(struct lp_inc *st, struct lp_flow *fl, const struct lp_inc_rec *r);

/* The capture ended: a window still closed was closed until its last packet. */
int lp_inc_finish(struct lp_inc *st, struct lp_flow *fl);

#endif

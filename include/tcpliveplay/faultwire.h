/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fault plan on a live wire, between one engine and its link. What the
 * engine sends meets the wire faults of its own side (drop, dup, delay,
 * reorder, corrupt, and the probabilistic ones); what arrives meets those of
 * the other side, whose by-segment faults fire on the first arriving packet
 * that carries any byte of the captured segment (the other side is a real
 * host: it may cut its stream otherwise than the capture shows). Held
 * packets wait in a small queue on the caller's clock: lp_fwire_next() says
 * when, lp_fwire_run() lets them go. The path's faults of its own side
 * (mtu, unreachable) answer what the engine sends with an ICMP error, given
 * to the engine instead of sending the packet. Application and window faults
 * are the engine's (lp_engine_cfg.faults). One per connection: the one-flow loop,
 * the many-flow loop and the responder's sessions use it alike.
 */
#ifndef TCPLIVEPLAY_FAULTWIRE_H
#define TCPLIVEPLAY_FAULTWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/pkt.h"

struct lp_fwire;

/* Where packets go once the faults let them. */
struct lp_fwire_io {
	/* To the wire: a packet (g NULL), or with gso a super-segment
	 * (lp_fwire_flush()). 0 or -errno. */
	int (*send)(void *ctx, const uint8_t *ip, size_t len, const struct lp_gso *g);
	bool gso;                                                  /* send takes super-segments */
	/* To the engine, with the LP_RX_* flags it arrived with (pkt.h). */
	void (*deliver)(void *ctx, const uint8_t *ip, size_t len, unsigned flags, uint64_t now_ns);
	void *ctx;
};

struct lp_fwire_cfg {
	struct lp_fault_plan *plan;    /* this connection's (it logs what fires), or NULL */
	enum lp_fault_side local;      /* the side e plays */
	const struct lp_engine *e;     /* tells what a packet carries */
	struct lp_fwire_io io;
	lp_event_fn on_event;          /* fault events, or NULL */
	void *ctx;
};

int lp_fwire_new(const struct lp_fwire_cfg *cfg, struct lp_fwire **out);
void lp_fwire_free(struct lp_fwire *fw);

/* A packet the engine just returned from lp_engine_output() (ip may be
 * changed): sent now, held or dropped. 0 or the send's error. */
int lp_fwire_out(struct lp_fwire *fw, uint8_t *ip, size_t len, uint64_t now_ns);

/* A packet that arrived for the engine, with the LP_RX_* flags the link
 * gave it: delivered now, held or dropped (a corrupt fault takes away
 * LP_RX_CSUM_OK, so that the engine finds the damage). */
void lp_fwire_in(struct lp_fwire *fw, const uint8_t *ip, size_t len, unsigned flags,
		 uint64_t now_ns);

/* When the next held packet is due, UINT64_MAX when none. */
uint64_t lp_fwire_next(const struct lp_fwire *fw);

/* Let the held packets that are due go, in order. 0 or a send's error. */
int lp_fwire_run(struct lp_fwire *fw, uint64_t now_ns);

/* Packets held. */
size_t lp_fwire_held(const struct lp_fwire *fw);

/* Send what engine e has due at now_ns, up to max packets, each through
 * lp_fwire_out(). With io.gso and gso_segs > 1 (the link's
 * lp_link_gso_segs()), new data goes as super-segments of up to gso_segs
 * wire segments (lp_engine_output_gso()) straight to io.send, unless a
 * fault of our side (wire or path) acts on what we send: those act per wire
 * packet, so the engine then sends plain segments. buf (cap bytes) takes
 * each packet. Returns the packets sent (max: more may be due) or the first
 * negative errno (the engine's, or a send's). */
int lp_fwire_flush(struct lp_fwire *fw, struct lp_engine *e, uint8_t *buf, size_t cap,
		   unsigned gso_segs, size_t max, uint64_t now_ns);

#endif

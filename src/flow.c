/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flow model. One pass over the capture files each TCP packet under its
 * connection: a small record, and its captured payload placed into that
 * direction's stream by sequence number (src/stream.c: pieces pointing into
 * the mapped capture, no byte copied). At the end each flow learns its client
 * and sequence origins, and its records become the segment schedule.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "incident.h"
#include "tcpliveplay/flow.h"
#include "flow_int.h"
#include "tcpliveplay/util.h"

struct lp_flows {
	struct lp_flow **flows;
	struct build **builds;
	size_t n, cap;
	uint32_t *slots;        /* hash table of flow index + 1, 0 when empty */
	size_t nslots;
	size_t last_slot;       /* the slot of the last packet's flow (a capture's packets */
	bool have_last;         /* mostly follow each other in one flow) */
	struct lp_capture_stats stats;
	uint64_t gap_budget;    /* gap bytes still allowed, see GAP_MAX */
	uint64_t gap_granted;   /* added to gap_budget so far */
	struct lp_capture *capture; /* mapped: the streams point into it */
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int ep_cmp(const struct lp_endpoint *a, const struct lp_endpoint *b)
{
	int c = memcmp(a->addr, b->addr, 16);

	if (c)
		return c;
	return (int)a->port - (int)b->port;
}

bool lp_ep_eq(const struct lp_endpoint *a, const struct lp_endpoint *b)
{
	return a->family == b->family && !ep_cmp(a, b);
}

static uint64_t hash_pair(const struct lp_endpoint *a, const struct lp_endpoint *b)
{
	const struct lp_endpoint *lo = ep_cmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
	uint64_t h = 1469598103934665603ull;
	uint8_t key[36];

	memcpy(key, lo->addr, 16);
	memcpy(key + 16, hi->addr, 16);
	key[32] = (uint8_t)(lo->port >> 8);
	key[33] = (uint8_t)lo->port;
	key[34] = (uint8_t)(hi->port >> 8);
	key[35] = (uint8_t)hi->port;
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 1099511628211ull;
	return h ^ (uint64_t)lo->family;
}

/* Is bd the flow between a and b (either way)? */
static bool pair_is(const struct build *bd, const struct lp_endpoint *a, const struct lp_endpoint *b)
{
	return (lp_ep_eq(&bd->ep[0], a) && lp_ep_eq(&bd->ep[1], b)) ||
	       (lp_ep_eq(&bd->ep[0], b) && lp_ep_eq(&bd->ep[1], a));
}

/* The slot holding the flow between a and b, or the empty slot to use. */
static size_t slot_find(const struct lp_flows *f, const struct lp_endpoint *a,
			const struct lp_endpoint *b)
{
	size_t mask = f->nslots - 1, i = hash_pair(a, b) & mask;

	for (;;) {
		uint32_t s = f->slots[i];

		if (!s || pair_is(f->builds[s - 1], a, b))
			return i;
		i = (i + 1) & mask;
	}
}

static int slots_grow(struct lp_flows *f)
{
	size_t n = f->nslots ? f->nslots * 2 : 64;
	uint32_t *old = f->slots;
	size_t oldn = f->nslots;

	f->slots = calloc(n, sizeof(*f->slots));
	if (!f->slots) {
		f->slots = old;
		return -ENOMEM;
	}
	f->nslots = n;
	f->have_last = false;
	for (size_t i = 0; i < oldn; i++) {
		const struct build *bd;

		if (!old[i])
			continue;
		bd = f->builds[old[i] - 1];
		f->slots[slot_find(f, &bd->ep[0], &bd->ep[1])] = old[i];
	}
	free(old);
	return 0;
}

static int flow_new(struct lp_flows *f, const struct lp_endpoint *src, const struct lp_endpoint *dst,
		    uint32_t number, uint64_t ts, size_t *idx)
{
	struct lp_flow *fl;
	struct build *bd;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		struct lp_flow **nf = realloc(f->flows, ncap * sizeof(*nf));
		struct build **nb;

		if (!nf)
			return -ENOMEM;
		f->flows = nf;
		nb = realloc(f->builds, ncap * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		f->builds = nb;
		f->cap = ncap;
	}
	fl = calloc(1, sizeof(*fl));
	bd = calloc(1, sizeof(*bd));
	if (!fl || !bd) {
		free(fl);
		free(bd);
		return -ENOMEM;
	}
	fl->id = (unsigned)f->n + 1;
	fl->first_packet = number;
	fl->first_ts = ts;
	bd->ep[0] = *src;
	bd->ep[1] = *dst;
	f->flows[f->n] = fl;
	f->builds[f->n] = bd;
	*idx = f->n++;
	return 0;
}

/* Did the endpoint src send a reset in this build? */
static bool reset_by(const struct build *bd, const struct lp_endpoint *src)
{
	int side = lp_ep_eq(&bd->ep[0], src) ? 0 : 1;

	for (size_t i = 0; i < bd->nrecs; i++)
		if (bd->recs[i].side == side && (bd->recs[i].flags & LP_TH_RST))
			return true;
	return false;
}

/* Forget the records of side (-1: either) that carry one of the flags in
 * mask (0: any), SYNs excepted: packets of an aborted handshake or of an old
 * connection's sequence space. They count as packets the flow ignores. */
static void drop_recs(struct build *bd, struct lp_flow *fl, int side, uint8_t mask)
{
	size_t k = 0;

	for (size_t i = 0; i < bd->nrecs; i++) {
		struct rec *r = &bd->recs[i];

		if ((side < 0 || r->side == side) && (!mask || (r->flags & mask)) && !(r->flags & LP_TH_SYN)) {
			fl->packets--;
			fl->notes |= LP_NOTE_RESTARTED;
			continue;
		}
		bd->recs[k++] = *r;
	}
	bd->nrecs = k;
}

static int add_packet(struct lp_flows *f, const struct lp_rawpkt *pkt)
{
	const struct lp_tcppkt *t = &pkt->tcp;
	struct lp_endpoint src = { .family = t->family, .port = t->sport };
	struct lp_endpoint dst = { .family = t->family, .port = t->dport };
	struct build *bd;
	struct sbuf *sb;
	struct lp_flow *fl;
	struct rec *r;
	size_t slot, idx;
	bool reopen = false;
	int rc, side;

	memcpy(src.addr, t->src, addr_len(t->family));
	memcpy(dst.addr, t->dst, addr_len(t->family));
	if (2 * (f->n + 1) > f->nslots) {
		rc = slots_grow(f);
		if (rc)
			return rc;
	}
	if (f->have_last && pair_is(f->builds[f->slots[f->last_slot] - 1], &src, &dst))
		slot = f->last_slot;
	else
		slot = slot_find(f, &src, &dst);
	f->last_slot = slot;
	f->have_last = true;
	if (f->slots[slot]) {
		bd = f->builds[f->slots[slot] - 1];
		/* A SYN with a new ISN (a retransmission keeps its ISN), or the
		 * first SYN or new SYN-ACK after a close, starts a new connection
		 * on the same 4-tuple; a stray SYN-ACK on an open one is garbage. */
		bool syn = (t->flags & (LP_TH_SYN | LP_TH_ACK)) == LP_TH_SYN;
		bool synack = (t->flags & (LP_TH_SYN | LP_TH_ACK)) == (LP_TH_SYN | LP_TH_ACK);

		if ((syn && (bd->have_syn ? bd->syn_seq != t->seq : bd->closed)) ||
		    (synack && bd->closed && !(bd->have_synack && bd->synack_seq == t->seq))) {
			rc = flow_new(f, &src, &dst, pkt->number, pkt->ts_ns, &idx);
			if (rc)
				return rc;
			f->slots[slot] = (uint32_t)idx + 1;
		} else if (syn && bd->closed && !bd->have_synack && reset_by(bd, &src)) {
			/* The SYN again after the client reset a handshake that
			 * never got its SYN-ACK (a stale peer's stray ACK, RFC
			 * 9293 3.10.7.3): the same connection goes on, without the
			 * aborted attempt's resets. (A peer's reset is a refusal:
			 * the SYN's retransmissions stay in the refused flow.) */
			bd->closed = false;
			reopen = true;
		}
	} else {
		rc = flow_new(f, &src, &dst, pkt->number, pkt->ts_ns, &idx);
		if (rc)
			return rc;
		f->slots[slot] = (uint32_t)idx + 1;
	}
	idx = f->slots[slot] - 1;
	bd = f->builds[idx];
	fl = f->flows[idx];
	if (reopen)
		drop_recs(bd, fl, lp_ep_eq(&bd->ep[0], &src) ? 0 : 1, LP_TH_RST | LP_TH_FIN);

	if (lp_grow(&bd->recs, bd->nrecs, &bd->cap, sizeof(*bd->recs), 16))
		return -ENOMEM;
	/* A side's first SYN (or SYN-ACK) fixes its sequence origin, whatever
	 * came from it before without payload: a host holding an old connection
	 * of these ports in TIME-WAIT answers a new SYN with an ACK of the old
	 * sequence space before the client's reset and its SYN again get the
	 * real SYN-ACK. */
	side = lp_ep_eq(&bd->ep[0], &src) ? 0 : 1;
	sb = &bd->sb[side];
	if ((t->flags & LP_TH_SYN) && sb->have_base && sb->len == 0 &&
	    (t->flags & LP_TH_ACK ? !bd->have_synack : !bd->have_syn)) {
		sb->have_base = false;
		/* What that side sent before belongs to another sequence space. */
		drop_recs(bd, fl, side, 0);
	}
	/* Payload starts one past a SYN's sequence number. */
	rc = sbuf_place(sb, t->seq + !!(t->flags & LP_TH_SYN),
			t->payload, t->caplen, t->len, GAP_MAX, &f->gap_budget);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		/* Too far from the stream: keep it out of the schedule too. */
		bd->out_of_window = true;
		return 0;
	}
	r = &bd->recs[bd->nrecs];
	r->ts = pkt->ts_ns;
	r->seq = t->seq;
	r->ack = t->ack;
	r->number = pkt->number;
	r->len = (uint16_t)t->len;
	r->flags = t->flags;
	r->window = t->window;
	r->has_ts = t->opts.has_ts;
	r->tsval = t->opts.tsval;
	r->side = (uint8_t)side;
	if (t->caplen < t->len)
		bd->truncated = true;
	if (t->flags & LP_TH_SYN) {
		struct synrec *sr = &bd->syn[side][!!(t->flags & LP_TH_ACK)];

		if (!sr->seen) {
			sr->seen = true;
			sr->window = t->window;
			sr->opts = t->opts;
		}
		if (!(t->flags & LP_TH_ACK) && !bd->have_syn) {
			bd->have_syn = true;
			bd->syn_seq = t->seq;
		} else if ((t->flags & LP_TH_ACK) && !bd->have_synack) {
			bd->have_synack = true;
			bd->synack_seq = t->seq;
		}
	}
	if (t->flags & (LP_TH_FIN | LP_TH_RST))
		bd->closed = true;
	bd->nrecs++;
	fl->packets++;
	fl->last_ts = pkt->ts_ns;
	return 0;
}

static void build_free(struct build *bd)
{
	if (!bd)
		return;
	free(bd->recs);
	sbuf_free(&bd->sb[0]);
	sbuf_free(&bd->sb[1]);
	free(bd);
}

static void flow_free(struct lp_flow *fl)
{
	if (!fl)
		return;
	for (int d = 0; d < 2; d++) {
		free(fl->dir[d].ext);
		free(fl->dir[d].holes);
	}
	free(fl->segs);
	free(fl->incidents);
	free(fl);
}

void lp_flows_free_at_exit(struct lp_flows *f)
{
	if (f)
		lp_capture_keep_mapped(f->capture);
	lp_flows_free(f);
}

void lp_flows_free(struct lp_flows *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		flow_free(f->flows[i]);
		if (f->builds)
			build_free(f->builds[i]);
	}
	free(f->flows);
	free(f->builds);
	free(f->slots);
	lp_capture_close(f->capture);
	free(f);
}

int lp_flows_load_capture(struct lp_capture *cap, lp_warn_fn warn, void *ctx,
			  struct lp_flows **out, char *err, size_t errlen)
{
	struct lp_flows *f;
	struct lp_rawpkt pkt;
	int rc;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	f->gap_budget = f->gap_granted = GAP_BASE;
	pkt.number = 0;
	while ((rc = lp_capture_next(cap, &pkt)) == 1) {
		/* Each record (its 16-byte header and frame) grants more gap. */
		if (f->gap_granted < GAP_TOTAL) {
			uint64_t more = GAP_PER_BYTE * (16u + (uint64_t)pkt.caplen);

			if (more > GAP_TOTAL - f->gap_granted)
				more = GAP_TOTAL - f->gap_granted;
			f->gap_granted += more;
			f->gap_budget += more;
		}
		if (pkt.kind == LP_PKT_TCP) {
			rc = add_packet(f, &pkt);
			if (rc)
				break;
		} else if ((pkt.kind == LP_PKT_FRAGMENT || pkt.kind == LP_PKT_BAD) && warn) {
			warn(ctx, pkt.number, pkt.why);
		}
	}
	if (rc < 0) {
		snprintf(err, errlen, "packet %u: out of memory", pkt.number);
		goto out;
	}
	lp_capture_stats(cap, &f->stats);
	for (size_t i = 0; i < f->n; i++) {
		rc = lp_flow_finish(f->flows[i], f->builds[i], &f->gap_budget);
		if (rc) {
			snprintf(err, errlen, "flow %zu: out of memory", i + 1);
			goto out;
		}
		build_free(f->builds[i]);
		f->builds[i] = NULL;
	}
	free(f->builds);
	f->builds = NULL;
	free(f->slots);
	f->slots = NULL;
	f->nslots = 0;
	f->capture = cap;
	cap = NULL;
	*out = f;
	f = NULL;
	rc = 0;
out:
	lp_capture_close(cap);
	lp_flows_free(f);
	return rc;
}

int lp_flows_load(const char *path, lp_warn_fn warn, void *ctx, struct lp_flows **out,
		  char *err, size_t errlen)
{
	struct lp_capture *cap;
	int rc;

	*out = NULL;
	rc = lp_capture_open(path, &cap, err, errlen);
	if (rc)
		return rc;
	return lp_flows_load_capture(cap, warn, ctx, out, err, errlen);
}

size_t lp_flows_count(const struct lp_flows *f)
{
	return f->n;
}

const struct lp_flow *lp_flows_get(const struct lp_flows *f, unsigned id)
{
	if (id < 1 || id > f->n)
		return NULL;
	return f->flows[id - 1];
}

const struct lp_capture_stats *lp_flows_stats(const struct lp_flows *f)
{
	return &f->stats;
}

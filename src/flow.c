/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flow model. One pass over the capture files each TCP packet under its
 * connection: a small record (no payload copy) and its captured payload bytes
 * placed straight into that direction's stream buffer by sequence number. At
 * the end each flow learns its client and sequence origins, and its records
 * become the segment schedule.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "incident.h"
#include "tcpliveplay/flow.h"

/* Sequence numbers jump ahead of what a direction holds when the capture lost
 * packets, and every byte of such a gap is held (as a hole). A jump beyond
 * GAP_MAX, or beyond what the file so far allows (GAP_BASE plus GAP_PER_BYTE
 * for each byte read, at most GAP_TOTAL), is taken for garbage (a forged or
 * corrupt sequence number) and the packet is left out: memory stays bounded
 * by the bytes the packets declare plus a multiple of the file's size. */
#define GAP_MAX (64u << 20)
#define GAP_BASE (1u << 20)
#define GAP_PER_BYTE 256u
#define GAP_TOTAL (256u << 20)
/* Streams are addressed with 32-bit sequence numbers relative to an origin. */
#define STREAM_MAX (1ull << 31)

struct iv {
	uint64_t start, end;
};

/* Sorted, disjoint, non-adjacent intervals. */
struct ivset {
	struct iv *v;
	size_t n, cap;
};

/* One captured TCP packet of a flow, without its payload. */
struct rec {
	uint64_t ts;
	uint32_t seq, ack, number;
	uint32_t len, caplen;
	uint16_t window;
	uint8_t side, flags;
	bool has_ts;
	uint32_t tsval;
	struct lp_tcpopts *synopts; /* SYN options, kept for SYN packets only */
};

/* Payload of one side, addressed relative to the sequence number base. */
struct sbuf {
	bool have_base;
	uint32_t base;
	uint8_t *data;
	uint64_t len, cap;
	struct ivset cov;      /* bytes present in the capture */
	uint32_t conflicts;
};

/* Load-time state of a flow, by side: side 0 sent the flow's first packet. */
struct build {
	struct lp_endpoint ep[2];
	struct rec *recs;
	size_t nrecs, cap;
	struct sbuf sb[2];
	bool closed;            /* FIN or RST seen: a new SYN starts a new flow */
	bool have_syn, have_synack;
	uint32_t syn_seq, synack_seq;
	bool out_of_window;
};

struct lp_flows {
	struct lp_flow **flows;
	struct build **builds;
	size_t n, cap;
	uint32_t *slots;        /* hash table of flow index + 1, 0 when empty */
	size_t nslots;
	struct lp_capture_stats stats;
	uint64_t gap_budget;    /* gap bytes still allowed, see GAP_MAX */
	uint64_t gap_granted;   /* added to gap_budget so far */
};

static int seqdiff(uint32_t a, uint32_t b)
{
	return (int)(int32_t)(a - b);
}

/* Add [s, e) to the set. */
static int ivset_add(struct ivset *set, uint64_t s, uint64_t e)
{
	size_t lo = 0, hi, k;

	if (s >= e)
		return 0;
	/* Fast path: appending at or after the last interval. */
	if (set->n && set->v[set->n - 1].end >= s && set->v[set->n - 1].start <= s) {
		if (e > set->v[set->n - 1].end)
			set->v[set->n - 1].end = e;
		return 0;
	}
	/* First interval whose end reaches s. */
	hi = set->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (set->v[mid].end < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = lo;
	if (k < set->n && set->v[k].start <= e) {
		size_t j = k;

		if (s < set->v[k].start)
			set->v[k].start = s;
		while (j + 1 < set->n && set->v[j + 1].start <= e)
			j++;
		if (set->v[j].end > e)
			e = set->v[j].end;
		set->v[k].end = e;
		memmove(&set->v[k + 1], &set->v[j + 1], (set->n - j - 1) * sizeof(*set->v));
		set->n -= j - k;
		return 0;
	}
	if (set->n == set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 4;
		struct iv *nv = realloc(set->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		set->v = nv;
		set->cap = ncap;
	}
	memmove(&set->v[k + 1], &set->v[k], (set->n - k) * sizeof(*set->v));
	set->v[k] = (struct iv){ s, e };
	set->n++;
	return 0;
}

/* Shift every interval down by d (d <= every start), or up when up is set. */
static void ivset_shift(struct ivset *set, uint64_t d, bool up)
{
	for (size_t i = 0; i < set->n; i++) {
		set->v[i].start = up ? set->v[i].start + d : set->v[i].start - d;
		set->v[i].end = up ? set->v[i].end + d : set->v[i].end - d;
	}
}

/* Drop everything below lim and shift the rest down by lim. */
static void ivset_cut(struct ivset *set, uint64_t lim)
{
	size_t w = 0;

	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].end <= lim)
			continue;
		set->v[w].start = set->v[i].start > lim ? set->v[i].start - lim : 0;
		set->v[w].end = set->v[i].end - lim;
		w++;
	}
	set->n = w;
}

static void ivset_free(struct ivset *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static int sbuf_reserve(struct sbuf *sb, uint64_t need)
{
	uint64_t ncap;
	uint8_t *nd;

	if (need <= sb->cap)
		return 0;
	ncap = sb->cap ? sb->cap : 256;
	while (ncap < need)
		ncap *= 2;
	/* Space past len is left untouched (not resident): whoever extends len
	 * zeroes what it exposes. */
	nd = realloc(sb->data, ncap);
	if (!nd)
		return -ENOMEM;
	sb->data = nd;
	sb->cap = ncap;
	return 0;
}

/* Insert d bytes of zeroes in front of the buffer. */
static int sbuf_prepend(struct sbuf *sb, uint64_t d)
{
	int rc = sbuf_reserve(sb, sb->len + d);

	if (rc)
		return rc;
	memmove(sb->data + d, sb->data, sb->len);
	memset(sb->data, 0, d);
	sb->len += d;
	ivset_shift(&sb->cov, d, true);
	return 0;
}

/* Copy bytes into the gaps of [s, s + n); where the capture already held a
 * byte, the first copy stays and a difference is counted. */
static void sbuf_fill(struct sbuf *sb, uint64_t s, const uint8_t *p, uint64_t n)
{
	uint64_t pos = s, e = s + n;
	bool differs = false;

	for (size_t i = 0; i < sb->cov.n && pos < e; i++) {
		const struct iv *v = &sb->cov.v[i];

		if (v->end <= pos)
			continue;
		if (v->start >= e)
			break;
		if (v->start > pos) {
			memcpy(sb->data + pos, p + (pos - s), v->start - pos);
			pos = v->start;
		}
		{
			uint64_t oe = v->end < e ? v->end : e;

			if (memcmp(sb->data + pos, p + (pos - s), oe - pos))
				differs = true;
			pos = oe;
		}
	}
	if (pos < e)
		memcpy(sb->data + pos, p + (pos - s), e - pos);
	if (differs)
		sb->conflicts++;
}

/* Place a packet's captured payload; returns 1 when it lies too far away
 * (see GAP_MAX), charging gaps to *budget. */
static int sbuf_place(struct sbuf *sb, uint32_t seq, const uint8_t *p, uint32_t caplen, uint32_t len,
		      uint64_t *budget)
{
	int64_t rel;
	uint64_t s, gap = 0;
	int rc;

	if (!sb->have_base) {
		sb->have_base = true;
		sb->base = seq;
	}
	rel = seqdiff(seq, sb->base);
	if (rel < 0)
		gap = (uint64_t)-rel;
	else if ((uint64_t)rel > sb->len)
		gap = (uint64_t)rel - sb->len;
	if (gap > GAP_MAX || gap > *budget || sb->len + gap + len > STREAM_MAX)
		return 1;
	/* Without payload nothing is held; a FIN's offset is checked the same way. */
	if (!len)
		return 0;
	*budget -= gap;
	if (rel < 0) {
		rc = sbuf_prepend(sb, (uint64_t)-rel);
		if (rc)
			return rc;
		sb->base = seq;
		rel = 0;
	}
	s = (uint64_t)rel;
	rc = sbuf_reserve(sb, s + len);
	if (rc)
		return rc;
	if (s + len > sb->len) {
		/* Gap and bytes past the snap length are holes: zero. */
		memset(sb->data + sb->len, 0, s + len - sb->len);
		sb->len = s + len;
	}
	if (caplen) {
		sbuf_fill(sb, s, p, caplen);
		rc = ivset_add(&sb->cov, s, s + caplen);
		if (rc)
			return rc;
	}
	return 0;
}

static void sbuf_free(struct sbuf *sb)
{
	free(sb->data);
	ivset_free(&sb->cov);
}

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

static bool ep_eq(const struct lp_endpoint *a, const struct lp_endpoint *b)
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

/* The slot holding the flow between a and b, or the empty slot to use. */
static size_t slot_find(const struct lp_flows *f, const struct lp_endpoint *a,
			const struct lp_endpoint *b)
{
	size_t mask = f->nslots - 1, i = hash_pair(a, b) & mask;

	for (;;) {
		uint32_t s = f->slots[i];
		const struct build *bd;

		if (!s)
			return i;
		bd = f->builds[s - 1];
		if ((ep_eq(&bd->ep[0], a) && ep_eq(&bd->ep[1], b)) ||
		    (ep_eq(&bd->ep[0], b) && ep_eq(&bd->ep[1], a)))
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
	int side = ep_eq(&bd->ep[0], src) ? 0 : 1;

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
			free(r->synopts);
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
	slot = slot_find(f, &src, &dst);
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
		drop_recs(bd, fl, ep_eq(&bd->ep[0], &src) ? 0 : 1, LP_TH_RST | LP_TH_FIN);

	if (bd->nrecs == bd->cap) {
		size_t ncap = bd->cap ? bd->cap * 2 : 16;
		struct rec *nr = realloc(bd->recs, ncap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		bd->recs = nr;
		bd->cap = ncap;
	}
	/* A side's first SYN (or SYN-ACK) fixes its sequence origin, whatever
	 * came from it before without payload: a host holding an old connection
	 * of these ports in TIME-WAIT answers a new SYN with an ACK of the old
	 * sequence space before the client's reset and its SYN again get the
	 * real SYN-ACK. */
	side = ep_eq(&bd->ep[0], &src) ? 0 : 1;
	sb = &bd->sb[side];
	if ((t->flags & LP_TH_SYN) && sb->have_base && sb->len == 0 &&
	    (t->flags & LP_TH_ACK ? !bd->have_synack : !bd->have_syn)) {
		sb->have_base = false;
		/* What that side sent before belongs to another sequence space. */
		drop_recs(bd, fl, side, 0);
	}
	/* Payload starts one past a SYN's sequence number. */
	rc = sbuf_place(sb, t->seq + !!(t->flags & LP_TH_SYN),
			t->payload, t->caplen, t->len, &f->gap_budget);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		/* Too far from the stream: keep it out of the schedule too. */
		bd->out_of_window = true;
		return 0;
	}
	r = &bd->recs[bd->nrecs];
	memset(r, 0, sizeof(*r));
	r->ts = pkt->ts_ns;
	r->seq = t->seq;
	r->ack = t->ack;
	r->number = pkt->number;
	r->len = t->len;
	r->caplen = t->caplen;
	r->window = t->window;
	r->flags = t->flags;
	r->has_ts = t->opts.has_ts;
	r->tsval = t->opts.tsval;
	r->side = ep_eq(&bd->ep[0], &src) ? 0 : 1;
	if (t->flags & LP_TH_SYN) {
		r->synopts = malloc(sizeof(*r->synopts));
		if (!r->synopts)
			return -ENOMEM;
		*r->synopts = t->opts;
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

/* --- Finishing a flow ------------------------------------------------- */

struct origin {
	bool known;      /* from a SYN or SYN-ACK */
	bool any;
	uint32_t min;    /* lowest data sequence number seen (ISN + 1 when known) */
};

static void origin_see(struct origin *o, uint32_t seq)
{
	if (!o->any || seqdiff(seq, o->min) < 0)
		o->min = seq;
	o->any = true;
}

static void set_synopts(struct lp_synopts *so, const struct rec *r)
{
	const struct lp_tcpopts *o = r->synopts;

	so->seen = true;
	so->window = r->window;
	if (!o)
		return;
	so->has_mss = o->has_mss;
	so->mss = o->mss;
	so->has_wscale = o->has_wscale;
	so->wscale = o->wscale;
	so->sack_ok = o->sack_ok;
	so->has_ts = o->has_ts;
	so->tsval = o->tsval;
}

static int seg_push(struct lp_flow *fl, size_t *cap, const struct lp_segment *s)
{
	if (fl->nsegs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct lp_segment *ns = realloc(fl->segs, ncap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		fl->segs = ns;
		*cap = ncap;
	}
	fl->segs[fl->nsegs++] = *s;
	return 0;
}

/* Order for segments of one direction: by offset, flag-only segments (FIN,
 * RST) after data at the same offset. */
static int seg_order(const void *a, const void *b)
{
	const struct lp_segment *x = a, *y = b;

	if (x->flags & LP_TH_SYN || y->flags & LP_TH_SYN)
		return (y->flags & LP_TH_SYN) - (x->flags & LP_TH_SYN);
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (!!x->len != !!y->len)
		return x->len ? -1 : 1;
	return x->packet < y->packet ? -1 : x->packet > y->packet;
}

/* Within each direction, put segments in stream order while every position
 * in the list keeps its direction and capture time. */
static int sort_by_stream(struct lp_flow *fl)
{
	struct lp_segment *tmp;
	size_t *pos;
	int rc = 0;

	tmp = malloc((fl->nsegs + 1) * sizeof(*tmp));
	pos = malloc((fl->nsegs + 1) * sizeof(*pos));
	if (!tmp || !pos) {
		rc = -ENOMEM;
		goto out;
	}
	for (int d = 0; d < 2; d++) {
		size_t n = 0;

		for (size_t i = 0; i < fl->nsegs; i++) {
			if (fl->segs[i].dir == d) {
				pos[n] = i;
				tmp[n++] = fl->segs[i];
			}
		}
		qsort(tmp, n, sizeof(*tmp), seg_order);
		for (size_t k = 0; k < n; k++) {
			struct lp_segment *s = &fl->segs[pos[k]];
			uint64_t ts = s->ts_ns;

			if (s->packet != tmp[k].packet || s->offset != tmp[k].offset)
				fl->notes |= LP_NOTE_REORDERED;
			*s = tmp[k];
			s->ts_ns = ts;
		}
	}
out:
	free(tmp);
	free(pos);
	return rc;
}

/* What finishing a flow works out, step by step, from its records. */
struct finish {
	struct lp_flow *fl;
	struct build *bd;
	struct origin org[2];   /* by side: where its data starts */
	int client;             /* the side that is the client */
	struct ivset wire[2];   /* by direction: stream bytes a segment already carries */
	struct lp_inc inc;      /* what went wrong on the wire, as read so far */
	bool syn_done[2], fin_done[2], rst_done[2];
	uint64_t fin_off[2];
	size_t segcap;
};

static void origin_known(struct origin *o, uint32_t min)
{
	o->known = true;
	o->any = true;
	o->min = min;
}

/* Who is the client (the SYN's sender, else the SYN-ACK's receiver, else the
 * higher port); a side's origin is known from its SYN or SYN-ACK. Returns
 * whether a handshake packet was seen; notes what was missing. */
static bool find_handshake(struct finish *fn)
{
	const struct build *bd = fn->bd;
	int syn_side = -1, synack_side = -1;
	uint32_t syn_pkt = 0, synack_pkt = 0;

	for (size_t i = 0; i < bd->nrecs; i++) {
		const struct rec *r = &bd->recs[i];

		if ((r->flags & (LP_TH_SYN | LP_TH_ACK)) == LP_TH_SYN && syn_side < 0) {
			syn_side = r->side;
			syn_pkt = r->number;
			origin_known(&fn->org[r->side], r->seq + 1);
		} else if ((r->flags & (LP_TH_SYN | LP_TH_ACK)) == (LP_TH_SYN | LP_TH_ACK) && synack_side < 0) {
			synack_side = r->side;
			synack_pkt = r->number;
		}
	}
	if (syn_side >= 0)
		fn->client = syn_side;
	else if (synack_side >= 0)
		fn->client = !synack_side;
	else
		fn->client = bd->ep[1].port > bd->ep[0].port;
	if (synack_side == fn->client)
		synack_side = -1;   /* a SYN-ACK from the client is no handshake */
	for (size_t i = 0; i < bd->nrecs && synack_side >= 0; i++) {
		const struct rec *r = &bd->recs[i];

		if (r->number == synack_pkt) {
			origin_known(&fn->org[r->side], r->seq + 1);
			if (!fn->org[!r->side].known && (r->flags & LP_TH_ACK))
				origin_known(&fn->org[!r->side], r->ack);
			break;
		}
	}
	if (syn_side < 0)
		fn->fl->notes |= LP_NOTE_NO_SYN;
	if (synack_side < 0)
		fn->fl->notes |= LP_NOTE_NO_SYNACK;
	if (syn_side >= 0 && synack_side >= 0 && synack_pkt < syn_pkt)
		fn->fl->notes |= LP_NOTE_REORDERED_HS;
	if (syn_side < 0 && synack_side < 0)
		fn->fl->notes |= LP_NOTE_MIDSTREAM | LP_NOTE_CLIENT_BY_PORT;
	return syn_side >= 0 || synack_side >= 0;
}

/* Where each side's data starts when no SYN says: at its lowest sequence
 * number that carries something (a keep-alive probe sits one below the next
 * byte); with a handshake seen, the peer's ACKs date back to it too. */
static void find_origins(struct finish *fn, bool handshake)
{
	const struct build *bd = fn->bd;
	struct origin *org = fn->org;
	bool carries[2] = { false, false };

	for (size_t i = 0; i < bd->nrecs; i++) {
		const struct rec *r = &bd->recs[i];

		if (r->len || (r->flags & (LP_TH_SYN | LP_TH_FIN)))
			carries[r->side] = true;
	}
	for (size_t i = 0; i < bd->nrecs; i++) {
		const struct rec *r = &bd->recs[i];
		bool counts = !carries[r->side] || r->len || (r->flags & (LP_TH_SYN | LP_TH_FIN));

		if (!org[r->side].known && counts)
			origin_see(&org[r->side], r->seq + !!(r->flags & LP_TH_SYN));
		if (handshake && (r->flags & LP_TH_ACK) && !org[!r->side].known)
			origin_see(&org[!r->side], r->ack);
	}
	for (int s = 0; s < 2; s++) {
		if (!org[s].any)
			org[s].min = bd->sb[s].have_base ? bd->sb[s].base : 0;
	}
}

/* Move each side's buffer so that offset 0 is its origin; an origin too far
 * below the bytes held (GAP_MAX, *budget) is left at the buffer's start. */
static int rebase_streams(struct finish *fn, uint64_t *budget)
{
	for (int s = 0; s < 2; s++) {
		struct sbuf *sb = &fn->bd->sb[s];
		struct lp_stream *st = &fn->fl->dir[s == fn->client ? LP_C2S : LP_S2C];
		struct origin *o = &fn->org[s];
		int64_t shift = sb->have_base ? seqdiff(o->min, sb->base) : 0;

		if (shift > 0 && sb->len) {
			uint64_t cut = (uint64_t)shift < sb->len ? (uint64_t)shift : sb->len;

			memmove(sb->data, sb->data + cut, sb->len - cut);
			/* Bytes past len stay zero: later holes may reach there. */
			memset(sb->data + sb->len - cut, 0, cut);
			sb->len -= cut;
			ivset_cut(&sb->cov, cut);
		} else if (shift < 0) {
			if ((uint64_t)-shift > GAP_MAX || (uint64_t)-shift > *budget) {
				fn->fl->notes |= LP_NOTE_OUT_OF_WINDOW;
				o->min = sb->base;
			} else {
				int rc = sbuf_prepend(sb, (uint64_t)-shift);

				*budget -= (uint64_t)-shift;
				if (rc)
					return rc;
			}
		}
		sb->base = o->min;
		st->isn = o->min - 1;
		st->isn_from_syn = o->known;
		st->conflicts = sb->conflicts;
		if (sb->conflicts)
			fn->fl->notes |= LP_NOTE_CONFLICT;
	}
	return 0;
}

/* The parts of a record's payload [s, e) no earlier packet carried, as data
 * segments; a record with nothing new counts as a retransmission. */
static int emit_data(struct finish *fn, int d, uint64_t s, uint64_t e, struct lp_segment *seg, bool *emitted)
{
	struct ivset *w = &fn->wire[d];
	uint64_t pos = s;
	bool fresh = false;
	int rc;

	for (size_t k = 0; k <= w->n && pos < e; k++) {
		uint64_t gs = pos, ge = e;

		if (k < w->n) {
			if (w->v[k].end <= pos)
				continue;
			ge = w->v[k].start < e ? w->v[k].start : e;
		}
		if (ge > gs) {
			seg->offset = gs;
			seg->len = (uint32_t)(ge - gs);
			rc = seg_push(fn->fl, &fn->segcap, seg);
			if (rc)
				return rc;
			fresh = *emitted = true;
		}
		if (k < w->n)
			pos = w->v[k].end > pos ? w->v[k].end : pos;
	}
	if (!fresh)
		fn->fl->dir[d].retransmissions++;
	return ivset_add(w, s, e);
}

/* The first byte of [s, e) in set, or UINT64_MAX. */
static uint64_t ivset_first_in(const struct ivset *set, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < set->n && set->v[i].start < e; i++)
		if (set->v[i].end > s)
			return set->v[i].start > s ? set->v[i].start : s;
	return UINT64_MAX;
}

/* A record for the incident reader, before its data joins the wire. */
static int see_incidents(struct finish *fn, const struct rec *r, int d, int64_t rel, uint64_t ack)
{
	const struct ivset *w = &fn->wire[d];
	int64_t end = rel + (int64_t)r->len;
	uint64_t s = rel > 0 ? (uint64_t)rel : 0, e = end > 0 ? (uint64_t)end : 0;
	struct lp_inc_rec ir = {
		.dir = (uint8_t)d, .flags = r->flags, .window = r->window, .packet = r->number,
		.ts_ns = r->ts, .off = s, .len = e - s, .ack = ack, .has_ts = r->has_ts,
		.tsval = r->tsval, .covered = ivset_first_in(w, s, e),
		.reached = w->n ? w->v[w->n - 1].end : 0,
	};

	return lp_inc_record(&fn->inc, fn->fl, &ir);
}

/* One record into the schedule: its SYN once, its new data, its FIN and RST
 * once each; the capture's own retransmissions are counted, not emitted. */
static int emit_record(struct finish *fn, const struct rec *r)
{
	int d = r->side == fn->client ? LP_C2S : LP_S2C;
	struct lp_stream *st = &fn->fl->dir[d];
	int64_t rel = seqdiff(r->seq + !!(r->flags & LP_TH_SYN), fn->org[r->side].min);
	struct lp_segment seg = { .ts_ns = r->ts, .packet = r->number, .dir = (uint8_t)d, .flags = r->flags };
	bool emitted = false;
	int rc;

	st->packets++;
	if (r->len) {
		st->data_packets++;
		st->wire_bytes += r->len;
	}
	if (r->caplen < r->len)
		fn->fl->notes |= LP_NOTE_TRUNCATED;
	if (r->flags & LP_TH_ACK) {
		int64_t a = seqdiff(r->ack, fn->org[!r->side].min);

		seg.ack = a > 0 ? (uint64_t)a : 0;
	}
	rc = see_incidents(fn, r, d, rel, seg.ack);
	if (rc)
		return rc;
	if (r->flags & LP_TH_SYN) {
		if (!(r->flags & LP_TH_ACK) == (d == LP_C2S) && !st->opts.seen)
			set_synopts(&st->opts, r);
		st->syn = true;
		if (fn->syn_done[d]) {
			if (!r->len)
				st->retransmissions++;
		} else {
			fn->syn_done[d] = true;
			seg.offset = 0;
			seg.len = 0;
			seg.flags = r->flags & (uint8_t)~LP_TH_FIN;
			rc = seg_push(fn->fl, &fn->segcap, &seg);
			if (rc)
				return rc;
			emitted = true;
		}
		if (r->len)
			fn->fl->notes |= LP_NOTE_TFO;
	}
	if (r->len && rel + (int64_t)r->len > 0) {
		seg.flags = r->flags & (uint8_t)~(LP_TH_SYN | LP_TH_FIN | LP_TH_RST);
		rc = emit_data(fn, d, rel > 0 ? (uint64_t)rel : 0, (uint64_t)(rel + (int64_t)r->len), &seg, &emitted);
		if (rc)
			return rc;
	}
	if ((r->flags & LP_TH_FIN) && !fn->fin_done[d]) {
		fn->fin_done[d] = true;
		st->fin = true;
		fn->fin_off[d] = rel + (int64_t)r->len > 0 ? (uint64_t)(rel + (int64_t)r->len) : 0;
		seg.offset = fn->fin_off[d];
		seg.len = 0;
		seg.flags = r->flags & (uint8_t)~(LP_TH_SYN | LP_TH_RST);
		rc = seg_push(fn->fl, &fn->segcap, &seg);
		if (rc)
			return rc;
		emitted = true;
	} else if ((r->flags & LP_TH_FIN) && !r->len && !emitted) {
		st->retransmissions++;
	}
	if ((r->flags & LP_TH_RST) && !fn->rst_done[d]) {
		fn->rst_done[d] = true;
		st->rst = true;
		seg.offset = rel > 0 ? (uint64_t)rel : 0;
		seg.len = 0;
		seg.flags = r->flags & (uint8_t)~(LP_TH_SYN | LP_TH_FIN);
		return seg_push(fn->fl, &fn->segcap, &seg);
	}
	return 0;
}

/* A stream's length (its last byte carried, or its FIN) and the holes its
 * buffer has; the stream then takes the buffer over. */
static int finish_stream(struct finish *fn, int s)
{
	int d = s == fn->client ? LP_C2S : LP_S2C;
	struct lp_stream *st = &fn->fl->dir[d];
	struct sbuf *sb = &fn->bd->sb[s];
	const struct ivset *w = &fn->wire[d];
	uint64_t len = w->n ? w->v[w->n - 1].end : 0, pos = 0;
	int rc;

	if (fn->fin_done[d] && fn->fin_off[d] > len)
		len = fn->fin_off[d];
	rc = sbuf_reserve(sb, len);
	if (rc)
		return rc;
	if (len < sb->len)
		memset(sb->data + len, 0, sb->len - len);
	else if (len > sb->len)
		memset(sb->data + sb->len, 0, len - sb->len);
	st->len = len;
	for (size_t k = 0; k <= sb->cov.n && pos < len; k++) {
		uint64_t gs = pos, ge = len;

		if (k < sb->cov.n) {
			if (sb->cov.v[k].end <= pos)
				continue;
			ge = sb->cov.v[k].start < len ? sb->cov.v[k].start : len;
		}
		if (ge > gs) {
			struct lp_hole *nh = realloc(st->holes, (st->nholes + 1) * sizeof(*nh));

			if (!nh)
				return -ENOMEM;
			st->holes = nh;
			st->holes[st->nholes++] = (struct lp_hole){ gs, ge - gs };
			st->hole_bytes += ge - gs;
		}
		if (k < sb->cov.n)
			pos = sb->cov.v[k].end > pos ? sb->cov.v[k].end : pos;
	}
	st->data = sb->data;
	sb->data = NULL;
	sb->cap = 0;
	return 0;
}

/* Labels and causal links: a segment can only depend on what the peer had
 * sent before it in the schedule. */
static void link_segments(struct lp_flow *fl)
{
	uint64_t reached[2] = { 0, 0 }, lastack[2] = { 0, 0 };

	for (size_t i = 0; i < fl->nsegs; i++) {
		struct lp_segment *s = &fl->segs[i];
		int d = s->dir;

		if (s->len)
			s->label = ++fl->ndata[d];
		if (s->ack > reached[!d])
			s->ack = reached[!d];
		if (s->ack < lastack[d])
			s->ack = lastack[d];
		lastack[d] = s->ack;
		if (s->offset + s->len > reached[d])
			reached[d] = s->offset + s->len;
		if ((s->flags & LP_TH_FIN) && s->offset + s->len + 1 > reached[d])
			reached[d] = s->offset + s->len + 1;
	}
}

/* A flow's records become its client, streams and schedule. */
static int finish_flow(struct lp_flow *fl, struct build *bd, uint64_t *budget)
{
	struct finish fn = { .fl = fl, .bd = bd };
	int rc;

	if (bd->out_of_window)
		fl->notes |= LP_NOTE_OUT_OF_WINDOW;
	find_origins(&fn, find_handshake(&fn));
	fl->client = bd->ep[fn.client];
	fl->server = bd->ep[!fn.client];
	rc = rebase_streams(&fn, budget);
	for (size_t i = 0; !rc && i < bd->nrecs; i++)
		rc = emit_record(&fn, &bd->recs[i]);
	if (!rc)
		rc = lp_inc_finish(&fn.inc, fl);
	for (int s = 0; !rc && s < 2; s++)
		rc = finish_stream(&fn, s);
	if (!rc)
		rc = sort_by_stream(fl);
	if (!rc)
		link_segments(fl);
	ivset_free(&fn.wire[0]);
	ivset_free(&fn.wire[1]);
	return rc;
}

static void build_free(struct build *bd)
{
	if (!bd)
		return;
	for (size_t i = 0; i < bd->nrecs; i++)
		free(bd->recs[i].synopts);
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
		free(fl->dir[d].data);
		free(fl->dir[d].holes);
	}
	free(fl->segs);
	free(fl->incidents);
	free(fl);
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
		rc = finish_flow(f->flows[i], f->builds[i], &f->gap_budget);
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

int lp_addr_parse(const char *s, struct lp_endpoint *ep)
{
	struct lp_endpoint e = { 0 };

	if (inet_pton(AF_INET, s, e.addr) == 1)
		e.family = AF_INET;
	else if (inet_pton(AF_INET6, s, e.addr) == 1)
		e.family = AF_INET6;
	else
		return -EINVAL;
	*ep = e;
	return 0;
}

/* "ADDR:PORT" or "[ADDR]:PORT"; end points one past the text. */
static int parse_endpoint(const char *s, size_t n, struct lp_endpoint *ep)
{
	char addr[64], *end;
	const char *colon;
	unsigned long port;
	size_t alen;

	if (!n || n >= sizeof(addr) + 8)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb || (size_t)(rb - s) + 1 >= n || rb[1] != ':')
			return -EINVAL;
		alen = (size_t)(rb - s) - 1;
		colon = rb + 1;
		if (alen >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, s + 1, alen);
	} else {
		colon = NULL;
		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		if (!colon)
			return -EINVAL;
		alen = (size_t)(colon - s);
		if (alen >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, s, alen);
	}
	addr[alen] = '\0';
	{
		char pbuf[8];
		size_t plen = n - (size_t)(colon + 1 - s);

		if (!plen || plen >= sizeof(pbuf))
			return -EINVAL;
		memcpy(pbuf, colon + 1, plen);
		pbuf[plen] = '\0';
		if (pbuf[0] < '0' || pbuf[0] > '9')
			return -EINVAL;
		errno = 0;
		port = strtoul(pbuf, &end, 10);
		if (errno || *end || port > 65535)
			return -EINVAL;
	}
	if (lp_addr_parse(addr, ep))
		return -EINVAL;
	ep->port = (uint16_t)port;
	return 0;
}

int lp_flows_select(const struct lp_flows *f, const char *sel, const struct lp_flow **out)
{
	const struct lp_flow *found = NULL;
	struct lp_endpoint a, b;
	const char *dash;
	int rc;

	if (!sel) {
		if (f->n == 0)
			return -ENODATA;
		if (f->n > 1)
			return -ENOTUNIQ;
		*out = f->flows[0];
		return 0;
	}
	if (sel[0] >= '0' && sel[0] <= '9' && !strpbrk(sel, ":-.")) {
		char *end;
		unsigned long id;

		errno = 0;
		id = strtoul(sel, &end, 10);
		if (errno || *end || id > UINT_MAX)
			return -EINVAL;
		if (id < 1 || id > f->n)
			return -ENOENT;
		*out = f->flows[id - 1];
		return 0;
	}
	dash = strchr(sel, '-');
	if (!dash)
		return -EINVAL;
	rc = parse_endpoint(sel, (size_t)(dash - sel), &a);
	if (!rc)
		rc = parse_endpoint(dash + 1, strlen(dash + 1), &b);
	if (rc)
		return rc;
	for (size_t i = 0; i < f->n; i++) {
		const struct lp_flow *fl = f->flows[i];

		if ((ep_eq(&fl->client, &a) && ep_eq(&fl->server, &b)) ||
		    (ep_eq(&fl->client, &b) && ep_eq(&fl->server, &a))) {
			if (found)
				return -EADDRINUSE;
			found = fl;
		}
	}
	if (!found)
		return -ENOENT;
	*out = found;
	return 0;
}

bool lp_flows_sel_is_list(const char *sel)
{
	if (!sel)
		return false;
	if (!strcmp(sel, "all"))
		return true;
	return sel[0] >= '0' && sel[0] <= '9' && strspn(sel, "0123456789,-") == strlen(sel) &&
	       strpbrk(sel, ",-");
}

/* One number of a list; 0 and *v, or -EINVAL. */
static int list_number(const char *s, size_t len, unsigned long *v)
{
	char buf[16];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoul(buf, &end, 10);
	return errno || *end || buf[0] < '0' || buf[0] > '9' ? -EINVAL : 0;
}

/* Mark the flows of "N", "N-M", "N,M-K,..." in pick[]. */
static int mark_list(const struct lp_flows *f, const char *sel, bool *pick)
{
	const char *p = sel;

	for (;;) {
		size_t len = strcspn(p, ",");
		const char *dash = memchr(p, '-', len);
		unsigned long a, b;
		int rc;

		if (dash) {
			rc = list_number(p, (size_t)(dash - p), &a);
			if (!rc)
				rc = list_number(dash + 1, len - (size_t)(dash - p) - 1, &b);
		} else {
			rc = list_number(p, len, &a);
			b = a;
		}
		if (rc || a > b)
			return -EINVAL;
		if (a < 1 || b > f->n)
			return -ENOENT;
		for (unsigned long i = a; i <= b; i++)
			pick[i - 1] = true;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int lp_flows_select_many(const struct lp_flows *f, const char *sel, const struct lp_flow ***out,
			 size_t *n)
{
	const struct lp_flow **v = NULL;
	bool *pick = NULL;
	size_t k = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!lp_flows_sel_is_list(sel)) {
		const struct lp_flow *one;

		rc = lp_flows_select(f, sel, &one);
		if (rc)
			return rc;
		v = malloc(sizeof(*v));
		if (!v)
			return -ENOMEM;
		v[0] = one;
		*out = v;
		*n = 1;
		return 0;
	}
	if (f->n == 0)
		return -ENODATA;
	pick = calloc(f->n, sizeof(*pick));
	v = calloc(f->n, sizeof(*v));
	if (!pick || !v) {
		rc = -ENOMEM;
		goto out;
	}
	if (!strcmp(sel, "all"))
		memset(pick, 1, f->n * sizeof(*pick));
	else
		rc = mark_list(f, sel, pick);
	if (rc)
		goto out;
	for (size_t i = 0; i < f->n; i++)
		if (pick[i])
			v[k++] = f->flows[i];
	*out = v;
	*n = k;
	v = NULL;
out:
	free(pick);
	free(v);
	return rc;
}

bool lp_flow_first_hole(const struct lp_flow *fl, enum lp_dir *dir, struct lp_hole *hole)
{
	for (int d = 0; d < 2; d++) {
		if (fl->dir[d].nholes) {
			*dir = (enum lp_dir)d;
			*hole = fl->dir[d].holes[0];
			return true;
		}
	}
	return false;
}

const char *lp_endpoint_str(const struct lp_endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(ep->family, ep->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (ep->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, ep->port);
	else
		snprintf(buf, len, "%s:%u", a, ep->port);
	return buf;
}

const char *lp_flow_notes_str(unsigned notes, char *buf, size_t len)
{
	static const char *const names[] = {
		"no-syn", "no-synack", "handshake-reordered", "midstream", "client-by-port",
		"truncated", "retransmission-differs", "reordered", "out-of-window", "tfo", "restarted",
	};
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(notes & (1u << i)))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i]);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';   /* only whole names */
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flow model, the end of loading: each flow's client and sequence origins,
 * its records as the segment schedule (stream order per direction, labels,
 * causal links), its streams' extents and holes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow_int.h"
#include "incident.h"
#include "tcpliveplay/util.h"

/* Records given back at a time while they become segments. */
#define RECS_GIVEN_BACK 65536u

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

static void set_synopts(struct lp_synopts *so, const struct synrec *sr)
{
	const struct lp_tcpopts *o = &sr->opts;

	if (!sr->seen)
		return;
	so->seen = true;
	so->window = sr->window;
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
	if (lp_grow(&fl->segs, fl->nsegs, cap, sizeof(*fl->segs), 16))
		return -ENOMEM;
	fl->segs[fl->nsegs++] = *s;
	return 0;
}

/* Order for segments of one direction: by offset, flag-only segments (FIN,
 * RST) after data at the same offset. */
static int seg_order(const struct lp_segment *x, const struct lp_segment *y)
{
	if (x->flags & LP_TH_SYN || y->flags & LP_TH_SYN)
		return (y->flags & LP_TH_SYN) - (x->flags & LP_TH_SYN);
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (!!x->len != !!y->len)
		return x->len ? -1 : 1;
	return x->packet < y->packet ? -1 : x->packet > y->packet;
}

/* seg_order of two positions in segs, ties kept in place. */
static int pos_order(const void *a, const void *b, void *segs)
{
	const struct lp_segment *v = segs;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int c = seg_order(&v[i], &v[j]);

	return c ? c : (i > j) - (i < j);
}

/* k such that pos[k] == v, in the ascending pos[0, n). */
static size_t slot_index(const uint32_t *pos, size_t n, uint32_t v)
{
	size_t lo = 0, hi = n;

	while (lo + 1 < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pos[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Within each direction, put segments in stream order while every position
 * in the list keeps its direction and capture time. Already in order (the
 * usual case) costs one pass; otherwise positions are sorted (4 bytes a
 * segment) and the segments moved in place, cycle by cycle. */
static int sort_by_stream(struct lp_flow *fl)
{
	uint32_t *pos = NULL, *ord = NULL;
	int rc = 0;

	for (int d = 0; d < 2; d++) {
		size_t n = 0, prev = SIZE_MAX;
		bool sorted = true;

		for (size_t i = 0; i < fl->nsegs; i++) {
			if (fl->segs[i].dir != d)
				continue;
			if (prev != SIZE_MAX && seg_order(&fl->segs[prev], &fl->segs[i]) > 0)
				sorted = false;
			prev = i;
			n++;
		}
		if (sorted)
			continue;
		pos = malloc(n * sizeof(*pos));
		ord = malloc(n * sizeof(*ord));
		if (!pos || !ord) {
			rc = -ENOMEM;
			goto out;
		}
		n = 0;
		for (size_t i = 0; i < fl->nsegs; i++)
			if (fl->segs[i].dir == d)
				pos[n++] = (uint32_t)i;
		memcpy(ord, pos, n * sizeof(*ord));
		lp_sort_nearly(ord, n, sizeof(*ord), pos_order, fl->segs);
		/* Slot pos[k] takes the segment at ord[k]; each slot keeps its
		 * time. Follow each cycle of the permutation once. */
		for (size_t k = 0; k < n; k++) {
			struct lp_segment held;
			size_t j = k;

			if (ord[k] == pos[k])
				continue;
			held = fl->segs[pos[k]];
			fl->notes |= LP_NOTE_REORDERED;
			for (;;) {
				struct lp_segment *dst = &fl->segs[pos[j]];
				uint64_t ts = dst->ts_ns;
				uint32_t from = ord[j];

				ord[j] = pos[j];
				if (from == pos[k]) {
					*dst = held;
					dst->ts_ns = ts;
					break;
				}
				*dst = fl->segs[from];
				dst->ts_ns = ts;
				/* The slot just emptied is the next to fill (pos is
				 * in ascending order). */
				j = slot_index(pos, n, from);
			}
		}
		free(pos);
		free(ord);
		pos = ord = NULL;
	}
out:
	free(pos);
	free(ord);
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

/* Count each side's conflicts, then make its origin offset 0; an origin too
 * far below the bytes held (GAP_MAX, *budget) is left at the buffer's start. */
static void rebase_streams(struct finish *fn, uint64_t *budget)
{
	for (int s = 0; s < 2; s++) {
		struct sbuf *sb = &fn->bd->sb[s];
		struct lp_stream *st = &fn->fl->dir[s == fn->client ? LP_C2S : LP_S2C];
		struct origin *o = &fn->org[s];
		int64_t shift = sb->have_base ? seqdiff(o->min, sb->base) : 0;

		sbuf_conflicts(sb);
		if (shift < 0) {
			if ((uint64_t)-shift > GAP_MAX || (uint64_t)-shift > *budget) {
				fn->fl->notes |= LP_NOTE_OUT_OF_WINDOW;
				o->min = sb->base;
			} else {
				*budget -= (uint64_t)-shift;
			}
		}
		sb->base = o->min;
		st->isn = o->min - 1;
		st->isn_from_syn = o->known;
		st->conflicts = sb->conflicts;
		if (sb->conflicts)
			fn->fl->notes |= LP_NOTE_CONFLICT;
	}
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
	for (size_t i = ivset_first_after(set, s); i < set->n && set->v[i].start < e; i++)
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
	if (r->flags & LP_TH_ACK) {
		int64_t a = seqdiff(r->ack, fn->org[!r->side].min);

		seg.ack = a > 0 ? (uint32_t)a : 0;
	}
	rc = see_incidents(fn, r, d, rel, seg.ack);
	if (rc)
		return rc;
	if (r->flags & LP_TH_SYN) {
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
		seg.offset = (uint32_t)fn->fin_off[d];
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
		/* A reset goes after everything its sender sent before it: its
		 * sequence number may lie below that (a host with no connection
		 * left answers a stray segment with <SEQ=SEG.ACK><CTL=RST>, RFC
		 * 9293 3.10.7.1), and taken as its place in the stream it would
		 * end the replay of that side part way. */
		uint64_t at = rel > 0 ? (uint64_t)rel : 0;
		const struct ivset *w = &fn->wire[d];

		if (w->n && w->v[w->n - 1].end > at)
			at = w->v[w->n - 1].end;
		if (fn->fin_done[d] && fn->fin_off[d] > at)
			at = fn->fin_off[d];
		fn->rst_done[d] = true;
		st->rst = true;
		seg.offset = (uint32_t)at;
		seg.len = 0;
		seg.flags = r->flags & (uint8_t)~(LP_TH_SYN | LP_TH_FIN);
		return seg_push(fn->fl, &fn->segcap, &seg);
	}
	return 0;
}

/* Every record into the schedule, in capture order. The records are read
 * from the end of the reversed list and their memory given back as they go,
 * so that the records and the segments they become are never both whole. */
static int emit_records(struct finish *fn)
{
	struct build *bd = fn->bd;
	size_t n = bd->nrecs;
	int rc = 0;

	for (size_t i = 0; i < n / 2; i++) {
		struct rec t = bd->recs[i];

		bd->recs[i] = bd->recs[n - 1 - i];
		bd->recs[n - 1 - i] = t;
	}
	while (bd->nrecs && !rc) {
		rc = emit_record(fn, &bd->recs[--bd->nrecs]);
		if (bd->nrecs && bd->nrecs % RECS_GIVEN_BACK == 0) {
			struct rec *fit = realloc(bd->recs, bd->nrecs * sizeof(*fit));

			if (fit)
				bd->recs = fit;
			bd->cap = bd->nrecs;
		}
	}
	free(bd->recs);
	bd->recs = NULL;
	bd->nrecs = bd->cap = 0;
	return rc;
}

/* A stream's length (its last byte carried, or its FIN), its options, and
 * its bytes and holes from the side's buffer. */
static int finish_stream(struct finish *fn, int s)
{
	int d = s == fn->client ? LP_C2S : LP_S2C;
	struct lp_stream *st = &fn->fl->dir[d];
	const struct ivset *w = &fn->wire[d];
	uint64_t len = w->n ? w->v[w->n - 1].end : 0;

	if (fn->fin_done[d] && fn->fin_off[d] > len)
		len = fn->fin_off[d];
	/* A client's SYN, a server's SYN-ACK. */
	set_synopts(&st->opts, &fn->bd->syn[s][d == LP_S2C]);
	return sbuf_finish(&fn->bd->sb[s], len, st);
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
int lp_flow_finish(struct lp_flow *fl, struct build *bd, uint64_t *budget)
{
	struct finish fn = { .fl = fl, .bd = bd };
	int rc;

	if (bd->out_of_window)
		fl->notes |= LP_NOTE_OUT_OF_WINDOW;
	find_origins(&fn, find_handshake(&fn));
	fl->client = bd->ep[fn.client];
	fl->server = bd->ep[!fn.client];
	if (bd->truncated)
		fl->notes |= LP_NOTE_TRUNCATED;
	rebase_streams(&fn, budget);
	rc = emit_records(&fn);
	if (!rc)
		rc = lp_inc_finish(&fn.inc, fl);
	for (int s = 0; !rc && s < 2; s++)
		rc = finish_stream(&fn, s);
	if (!rc)
		rc = sort_by_stream(fl);
	if (!rc) {
		struct lp_segment *fit = fl->nsegs ? realloc(fl->segs, fl->nsegs * sizeof(*fit)) : NULL;

		if (fit)
			fl->segs = fit;
		link_segments(fl);
	}
	ivset_free(&fn.wire[0]);
	ivset_free(&fn.wire[1]);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The captured schedule of one side of a flow (engine.h, struct
 * lp_schedule): which of our captured segments the application releases,
 * in order, with the think-time before each, a segment of zeros for each
 * hole of our stream, and the peer's data segments in stream order. It
 * depends on the flow and the role only, so that one built before the
 * first connection serves every engine of that side, read-only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

size_t sched_peer_index(const struct lp_flow *fl, const uint32_t *theirs, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct lp_segment *q = &fl->segs[theirs[mid]];

		if ((uint64_t)q->offset + q->len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo >= n ? n - 1 : lo;
}

/* A hole of our stream (bytes the capture lacks, which the caller chose to
 * send as zeros) becomes a segment of its own, before the one after it.
 * When it went out is not known: at once after our previous segment, so
 * that the peer, answering it, lets the exchange go on. */
static void fill_hole(uint8_t me, const struct lp_hole *h, const struct lp_segment *next, uint64_t prev_ack,
		      struct lp_segment *f)
{
	memset(f, 0, sizeof(*f));
	f->ts_ns = next->ts_ns;
	f->offset = (uint32_t)h->offset;
	f->len = (uint32_t)h->len;
	f->ack = (uint32_t)prev_ack;
	f->dir = me;
	f->flags = LP_TH_ACK | LP_TH_PSH;
	f->packet = next->packet;
}

static bool scheduled(const struct lp_segment *s, uint8_t me)
{
	return s->dir == me && (s->len || (s->flags & (LP_TH_FIN | LP_TH_RST)));
}

/* Our segments in order, the holes' segments among them, and the think-time
 * before each: from our previous segment or the peer segment that completed
 * its causal link, whichever came later. */
static void fill_mine(struct lp_schedule *sc)
{
	const struct lp_flow *fl = sc->fl;
	const struct lp_stream *ms = &fl->dir[sc->me];
	uint64_t prev_ts = fl->first_ts, prev_ack = 0;
	size_t nh = 0;

	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];
		uint64_t base = prev_ts;

		if (!scheduled(s, sc->me))
			continue;
		for (; nh < ms->nholes && ms->holes[nh].offset + ms->holes[nh].len <= s->offset; nh++) {
			fill_hole(sc->me, &ms->holes[nh], s, prev_ack, &sc->fills[nh]);
			sc->mine[sc->nmine++] = (struct mseg){ .s = &sc->fills[nh], .gap_ns = 0 };
		}
		prev_ack = s->ack;
		if (s->ack > 0 && sc->ntheirs) {
			const struct lp_segment *q =
				&fl->segs[sc->theirs[sched_peer_index(fl, sc->theirs, sc->ntheirs, s->ack - 1)]];

			if (q->ts_ns > base && q->ts_ns <= s->ts_ns)
				base = q->ts_ns;
		}
		sc->mine[sc->nmine++] = (struct mseg){ .s = s, .gap_ns = s->ts_ns > base ? s->ts_ns - base : 0 };
		prev_ts = s->ts_ns;
	}
}

int lp_schedule_new(const struct lp_flow *fl, enum lp_role role, struct lp_schedule **out)
{
	struct lp_schedule *sc;
	size_t nm, nt = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!fl || (role != LP_ROLE_CLIENT && role != LP_ROLE_SERVER))
		return -EINVAL;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->fl = fl;
	sc->role = role;
	sc->me = role == LP_ROLE_CLIENT ? LP_C2S : LP_S2C;
	nm = sc->ndata = fl->dir[sc->me].nholes;
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];

		if (scheduled(s, sc->me))
			nm++;
		if (s->dir == sc->me && s->len)
			sc->ndata++;
		else if (s->dir != sc->me && s->len)
			nt++;
	}
	sc->mine = malloc((nm ? nm : 1) * sizeof(*sc->mine));
	sc->fills = malloc((fl->dir[sc->me].nholes ? fl->dir[sc->me].nholes : 1) * sizeof(*sc->fills));
	sc->theirs = malloc((nt ? nt : 1) * sizeof(*sc->theirs));
	if (!sc->mine || !sc->fills || !sc->theirs) {
		lp_schedule_free(sc);
		return -ENOMEM;
	}
	for (size_t i = 0; i < fl->nsegs; i++)
		if (fl->segs[i].dir != sc->me && fl->segs[i].len)
			sc->theirs[sc->ntheirs++] = (uint32_t)i;
	fill_mine(sc);
	*out = sc;
	return 0;
}

void lp_schedule_free(struct lp_schedule *sc)
{
	if (!sc)
		return;
	free(sc->mine);
	free(sc->fills);
	free(sc->theirs);
	free(sc);
}

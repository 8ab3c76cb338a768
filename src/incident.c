/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A flow's captured incidents: losses, duplicates, zero windows, resets. */
#include <errno.h>
#include <stdlib.h>

#include "incident.h"

/* A retransmission by a timer comes at least this long after the original
 * (RFC 6298's 1 s, Linux's 200 ms floor): a copy sooner, with nothing from
 * the peer in between, was duplicated by the network (or the capture). */
#define DUP_WITHIN_NS (10ull * 1000000ull)

static int note(struct lp_flow *fl, uint8_t kind, const struct lp_inc_rec *r, uint64_t off,
		uint64_t ts, uint64_t dur)
{
	struct lp_incident *n;

	size_t have = fl->nincidents;

	if (have >= LP_INCIDENTS_MAX)
		return 0;
	/* Room for 4, doubled whenever that much is used. */
	if (have == 0 || (have >= 4 && !(have & (have - 1)))) {
		n = realloc(fl->incidents, (have ? 2 * have : 4) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		fl->incidents = n;
	}
	n = &fl->incidents[fl->nincidents++];
	n->kind = kind;
	n->dir = r->dir;
	n->packet = r->packet;
	n->offset = off;
	n->ts_ns = ts;
	n->dur_ns = dur;
	return 0;
}

/* The same data packet again: same numbers, flags, window and timestamp (or
 * without timestamps, sooner than any retransmission), nothing from the
 * peer in between. */
static bool duplicate(const struct lp_inc_dir *d, const struct lp_inc_rec *r)
{
	const struct lp_inc_rec *p = &d->prev;

	if (!d->have_prev || d->peer_since || p->off != r->off || p->len != r->len ||
	    p->flags != r->flags || p->window != r->window || p->has_ts != r->has_ts ||
	    (r->flags & LP_TH_ACK && p->ack != r->ack))
		return false;
	return r->has_ts ? p->tsval == r->tsval : r->ts_ns - p->ts_ns < DUP_WITHIN_NS;
}

/* Data: a duplicate, a retransmission the peer had not acknowledged (one it
 * had is spurious, not a loss), or new bytes below what was carried already
 * that the peer's duplicate ACKs asked for, half a round trip or more
 * before (sooner, they were only reordered on the way). */
static int data(const struct lp_inc *st, struct lp_inc_dir *d, struct lp_flow *fl,
		const struct lp_inc_rec *r)
{
	int rc = 0;

	if (duplicate(d, r))
		rc = note(fl, LP_INC_DUPLICATE, r, r->off, r->ts_ns, 0);
	else if (r->covered != UINT64_MAX && d->acked <= r->covered)
		rc = note(fl, LP_INC_RETRANSMIT, r, r->covered, r->ts_ns, 0);
	else if (r->covered == UINT64_MAX && r->off < r->reached && d->acked == r->off && d->dupacks &&
		 r->ts_ns >= d->dup_at + st->rtt / 2)
		rc = note(fl, LP_INC_LATE, r, r->off, r->ts_ns, 0);
	d->prev = *r;
	d->have_prev = true;
	d->peer_since = false;
	return rc;
}

/* The packet's ACK, as news about the peer's stream. */
static void ack(struct lp_inc_dir *peer, const struct lp_inc_rec *r)
{
	bool pure = !r->len && !(r->flags & (LP_TH_SYN | LP_TH_FIN | LP_TH_RST));

	if (!(r->flags & LP_TH_ACK))
		return;
	if (r->ack > peer->acked) {
		peer->acked = r->ack;
		peer->dupacks = 0;
	} else if (r->ack == peer->acked && pure && !peer->dupacks++) {
		peer->dup_at = r->ts_ns;
	}
}

/* The round trip the handshake shows, wherever the capture was taken: from
 * the SYN to the ACK of the SYN-ACK. */
static void handshake(struct lp_inc *st, const struct lp_inc_rec *r)
{
	if ((r->flags & (LP_TH_SYN | LP_TH_ACK)) == LP_TH_SYN && !st->syn_at)
		st->syn_at = r->ts_ns;
	else if ((r->flags & (LP_TH_SYN | LP_TH_ACK)) == (LP_TH_SYN | LP_TH_ACK) && !st->synack_at)
		st->synack_at = r->ts_ns;
	else if (st->syn_at && st->synack_at && !st->rtt && r->dir == LP_C2S && (r->flags & LP_TH_ACK) &&
		 r->ts_ns > st->syn_at)
		st->rtt = r->ts_ns - st->syn_at;
}

/* The sender's window: closed at a zero, open again at the next non-zero. */
static int window(struct lp_inc_dir *d, struct lp_flow *fl, const struct lp_inc_rec *r)
{
	if (r->flags & (LP_TH_SYN | LP_TH_RST))
		return 0;
	if (!r->window && !d->zero) {
		d->zero = true;
		d->zero_at = r->ts_ns;
		d->zero_ack = r->flags & LP_TH_ACK ? r->ack : 0;
		d->zero_packet = r->packet;
	} else if (r->window && d->zero) {
		struct lp_inc_rec z = *r;

		d->zero = false;
		z.packet = d->zero_packet;
		return note(fl, LP_INC_ZERO_WINDOW, &z, d->zero_ack, d->zero_at,
			    r->ts_ns > d->zero_at ? r->ts_ns - d->zero_at : 0);
	}
	return 0;
}

int lp_inc_record(struct lp_inc *st, struct lp_flow *fl, const struct lp_inc_rec *r)
{
	struct lp_inc_dir *d = &st->d[r->dir], *peer = &st->d[!r->dir];
	int rc;

	peer->peer_since = true;
	handshake(st, r);
	ack(peer, r);
	rc = window(d, fl, r);
	if (!rc && r->len && !(r->flags & LP_TH_SYN))
		rc = data(st, d, fl, r);
	if (!rc && (r->flags & LP_TH_RST))
		rc = note(fl, LP_INC_RESET, r, r->off, r->ts_ns, 0);
	return rc;
}

int lp_inc_finish(struct lp_inc *st, struct lp_flow *fl)
{
	for (int i = 0; i < 2; i++) {
		struct lp_inc_dir *d = &st->d[i];
		struct lp_inc_rec z = { .dir = (uint8_t)i, .packet = d->zero_packet };
		int rc;

		if (!d->zero || fl->last_ts <= d->zero_at)
			continue;
		d->zero = false;
		rc = note(fl, LP_INC_ZERO_WINDOW, &z, d->zero_ack, d->zero_at, fl->last_ts - d->zero_at);
		if (rc)
			return rc;
	}
	return 0;
}

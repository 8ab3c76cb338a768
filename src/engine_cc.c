/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's congestion control and loss recovery accounting: slow start
 * and congestion avoidance (RFC 5681), limited transmit (RFC 3042), fast
 * recovery with the SACK scoreboard (RFC 6675: IsLost, SetPipe, the holes
 * NextSeg picks) or without SACK (NewReno, RFC 6582). engine_tx.c sends
 * what this allows.
 */
#include <string.h>

#include "engine_int.h"

/* ---- the SACK scoreboard (RFC 6675) ---- */

/* Bytes of [a, b) the peer has not SACKed. */
static uint64_t unsacked(const struct lp_engine *e, uint64_t a, uint64_t b)
{
	uint64_t n = b > a ? b - a : 0;

	for (size_t k = 0; k < e->nsacked && n; k++) {
		uint64_t lo = e->sacked[k].start > a ? e->sacked[k].start : a;
		uint64_t hi = e->sacked[k].end < b ? e->sacked[k].end : b;

		if (hi > lo)
			n -= hi - lo;
	}
	return n;
}

/* IsLost() (RFC 6675 4): unSACKed bytes below the returned offset have
 * DupThresh SACKed blocks, or more than (DupThresh - 1) * SMSS SACKed
 * bytes, above them. snd_una when none. */
static uint64_t lost_below(const struct lp_engine *e)
{
	uint64_t bytes = 0;

	for (size_t k = e->nsacked; k-- > 0;) {
		bytes += e->sacked[k].end - e->sacked[k].start;
		if (bytes > (DUPTHRESH - 1) * (uint64_t)e->mss || e->nsacked - k >= DUPTHRESH)
			return e->sacked[k].start;
	}
	return e->snd_una;
}

/* SetPipe() (RFC 6675 4): bytes thought to be in the network. */
uint64_t cc_pipe(const struct lp_engine *e)
{
	uint64_t lost = lost_below(e);
	uint64_t rxt = e->high_rxt > e->snd_una ? e->high_rxt : e->snd_una;

	return unsacked(e, e->snd_una, e->snd_max) - unsacked(e, e->snd_una, lost) +
	       unsacked(e, e->snd_una, rxt);
}

/* The first unSACKed offset at or after from; *lim: where the SACKed
 * data above it starts (snd_max when none). */
uint64_t cc_next_unsacked(const struct lp_engine *e, uint64_t from, uint64_t *lim)
{
	for (size_t k = 0; k < e->nsacked; k++) {
		if (e->sacked[k].end <= from)
			continue;
		if (e->sacked[k].start <= from) {
			from = e->sacked[k].end;
			continue;
		}
		*lim = e->sacked[k].start;
		return from;
	}
	*lim = e->snd_max;
	return from;
}

/* The peer's SACK blocks above SND.UNA; true when they SACK new data. */
static bool sack_update(struct lp_engine *e, const struct lp_tcpopts *o)
{
	uint64_t before = unsacked(e, e->snd_una, e->snd_max);

	for (unsigned i = 0; i < o->nsack && i < LP_MAX_SACK; i++) {
		int64_t l = seq_to_off(e->iss + 1, e->snd_una, o->sack[i].left);
		int64_t r = seq_to_off(e->iss + 1, e->snd_una, o->sack[i].right);

		if (l >= (int64_t)e->snd_una && l < r && (uint64_t)r <= e->snd_max)
			rx_range_insert(e->sacked, &e->nsacked, (uint64_t)l, (uint64_t)r);
	}
	return unsacked(e, e->snd_una, e->snd_max) < before;
}

/* RFC 5681 eq. 4: max(FlightSize / 2, 2 * SMSS). */
static uint64_t flight_half(const struct lp_engine *e)
{
	uint64_t h = (e->snd_max - e->snd_una) / 2;

	return h > 2u * e->mss ? h : 2u * e->mss;
}

static void enter_recovery(struct lp_engine *e)
{
	e->ssthresh = flight_half(e);
	/* RFC 6675 5 step 4.2, or with the three duplicates inflating it
	 * (RFC 6582 3.2 step 2). */
	e->cwnd = e->sack_ok ? e->ssthresh : e->ssthresh + DUPTHRESH * (uint64_t)e->mss;
	e->in_recovery = true;
	e->recover = e->snd_max;
	e->high_rxt = e->snd_una;
	e->rtx_head = true;
	e->rtt_timing = false;
}

/* RFC 5681 3.1: slow start, then congestion avoidance, for an ACK of the
 * bytes up to a. Slow start counts the bytes the ACK delivers, up to
 * ssthresh, as Linux does (tcp_slow_start() with the segments newly
 * delivered): receivers that coalesce (GRO, a packet socket's batches,
 * ours) send one ACK for many segments, and one SMSS per such ACK would
 * grow cwnd by a few percent per round trip. Bytes SACKed before count no
 * more (their SACK was the delivery), and while what was in flight at an
 * RTO is not all acknowledged, at most 2 SMSS per ACK (RFC 3465's limit L):
 * one cumulative ACK for what the receiver had queued would otherwise take
 * cwnd from 1 SMSS to ssthresh at once, a line-rate burst. */
static void grow_cwnd(struct lp_engine *e, uint64_t a)
{
	uint64_t delivered = unsacked(e, e->snd_una, a);

	if (e->cwnd >= e->ssthresh) {
		e->cwnd += (uint64_t)e->mss * e->mss / e->cwnd + 1;
		return;
	}
	if (e->rto_recover > e->snd_una && delivered > 2u * e->mss)
		delivered = 2u * e->mss;
	e->cwnd = e->ssthresh - e->cwnd > delivered ? e->cwnd + delivered : e->ssthresh;
}

static void on_new_ack(struct lp_engine *e, uint64_t a)
{
	uint64_t acked = a - e->snd_una;
	size_t k = 0;

	if (!e->in_recovery)
		grow_cwnd(e, a);
	if (e->rto_recover && a >= e->rto_recover)
		e->rto_recover = 0;
	while (k < e->nsacked && e->sacked[k].end <= a)
		k++;
	memmove(e->sacked, e->sacked + k, (e->nsacked - k) * sizeof(e->sacked[0]));
	e->nsacked -= k;
	if (e->nsacked && e->sacked[0].start < a)
		e->sacked[0].start = a;
	if (e->rtt_timing && a >= e->rtt_end) {
		tx_rtt_sample(e, e->now - e->rtt_t0);
		e->rtt_timing = false;
	}
	e->snd_una = a;
	if (e->snd_nxt < a)
		e->snd_nxt = a;
	if (e->snd_max < a)
		e->snd_max = a;
	if (e->rtx_hi && a >= e->rtx_hi)
		e->rtx_hi = 0;
	e->retries_cur = 0;
	e->backoff = 0;
	e->dupacks = 0;
	e->persist_shift = 0;
	e->probe_sent = false;
	if (e->in_recovery && a >= e->recover) {
		/* A full ACK ends recovery: cwnd deflated to what is in flight
		 * and one segment, at most ssthresh (RFC 6582 3.2 step 3). */
		uint64_t fl = e->snd_max - e->snd_una;

		fl = (fl > e->mss ? fl : e->mss) + e->mss;
		e->cwnd = fl < e->ssthresh ? fl : e->ssthresh;
		e->in_recovery = false;
	} else if (e->in_recovery && !e->sack_ok) {
		/* NewReno partial ACK (RFC 6582 3.2 step 3): the first segment
		 * not acknowledged goes again, cwnd deflated by what was acked
		 * and one SMSS added back. */
		e->rtx_head = true;
		e->cwnd = e->cwnd > acked + e->mss ? e->cwnd - acked : e->mss;
		if (acked >= e->mss)
			e->cwnd += e->mss;
	}
	/* RFC 6298 5.3 (Linux re-arms on every such ACK, RFC 6582 4's
	 * slow-but-steady variant). */
	tx_arm_rto(e);
}

void cc_on_ack(struct lp_engine *e, uint64_t ack, bool dup_candidate, const struct lp_tcpopts *o)
{
	bool advanced = ack > e->snd_una;
	bool new_sack = false;

	if (advanced)
		on_new_ack(e, ack);
	if (e->sack_ok)
		new_sack = sack_update(e, o);
	if (!advanced && e->snd_max > e->snd_una && (e->sack_ok ? new_sack : dup_candidate)) {
		/* A duplicate ACK: RFC 5681 2, or with SACK one that SACKs new
		 * data (RFC 6675 2). */
		e->dupacks++;
		if (e->in_recovery && !e->sack_ok)
			e->cwnd += e->mss; /* RFC 6582 3.2 step 4 */
	}
	/* A new recovery once the last one's data is acknowledged (RFC 6582
	 * 3.2 step 2, RFC 6675 5), on the third duplicate or when the first
	 * unacknowledged byte counts as lost. */
	if (!e->in_recovery && e->snd_una >= e->recover && e->snd_max > e->snd_una &&
	    (e->dupacks >= DUPTHRESH || (e->sack_ok && lost_below(e) > e->snd_una)))
		enter_recovery(e);
}

/* The end of what the windows let out: the peer's, and cwnd plus one
 * segment for each of the first two duplicate ACKs (limited transmit, RFC
 * 3042). */
uint64_t cc_wnd_end(const struct lp_engine *e)
{
	uint64_t cw = e->cwnd;

	if (!e->in_recovery && e->dupacks < DUPTHRESH)
		cw += (uint64_t)e->dupacks * e->mss;
	return e->snd_una + (e->snd_wnd < cw ? e->snd_wnd : cw);
}

/* A hole at or above HighRxt: below the lost mark (NextSeg rule 1), or
 * below the highest SACKed byte (rule 3). */
bool cc_next_hole(const struct lp_engine *e, bool lost_only, uint64_t *off, uint64_t *lim)
{
	uint64_t top = e->nsacked ? e->sacked[e->nsacked - 1].end : e->snd_una;
	uint64_t from = e->high_rxt > e->snd_una ? e->high_rxt : e->snd_una;

	if (lost_only)
		top = lost_below(e);
	*off = cc_next_unsacked(e, from, lim);
	return *off < top;
}

void cc_on_rto(struct lp_engine *e)
{
	e->dupacks = 0;
	e->ssthresh = flight_half(e);
	e->cwnd = e->mss;
	/* RFC 2018 8: SACKed data may have been reneged; RFC 6675 5.1 (and
	 * RFC 6582 3.2 step 4): no new recovery before all sent so far is
	 * acknowledged. */
	e->nsacked = 0;
	e->in_recovery = false;
	e->rtx_head = false;
	e->recover = e->snd_max;
	e->rto_recover = e->snd_max;
}

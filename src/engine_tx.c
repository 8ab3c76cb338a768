/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's send path: segments and their options, the retransmission
 * timer (RFC 6298), the persist timer (RFC 9293 3.8.6.1), sender silly
 * window avoidance (3.8.6.2.1), what goes next during loss recovery (the
 * accounting is engine_cc.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_int.h"

#define RTO_FALLBACK_NS (3000ull * NS_PER_MS)
#define SYN_AGAIN_NS (2ull * NS_PER_MS)

uint64_t tx_rto_clamp(const struct lp_engine *e, uint64_t v)
{
	uint64_t floor = (uint64_t)e->cfg.rto_min_ms * NS_PER_MS;

	if (v < floor)
		v = floor;
	return v > RTO_MAX_NS ? RTO_MAX_NS : v;
}

/* The retransmission timer's length: RTO backed off, lengthened by the
 * seeded jitter. Jitter only ever adds, so the timer never fires before
 * RFC 6298's RTO (nor below the floor); it keeps many engines started
 * together from retransmitting in the same instant. */
static uint64_t rto_backed_off(struct lp_engine *e)
{
	uint64_t v = e->rto_ns;

	for (unsigned i = 0; i < e->backoff && v < RTO_MAX_NS; i++)
		v *= 2;
	if (v > RTO_MAX_NS)
		v = RTO_MAX_NS;
	if (e->cfg.rto_jitter_pct)
		v += lp_rng_below(&e->jitter, v / 100 * e->cfg.rto_jitter_pct + 1);
	return v;
}

/* RFC 6298 2.2, 2.3. */
void tx_rtt_sample(struct lp_engine *e, uint64_t r)
{
	if (!e->have_rtt) {
		e->srtt = r;
		e->rttvar = r / 2;
		e->have_rtt = true;
	} else {
		uint64_t d = e->srtt > r ? e->srtt - r : r - e->srtt;

		e->rttvar = (3 * e->rttvar + d) / 4;
		e->srtt = (7 * e->srtt + r) / 8;
	}
	e->rto_ns = tx_rto_clamp(e, e->srtt + (4 * e->rttvar > NS_PER_MS ? 4 * e->rttvar : NS_PER_MS));
}

/* RFC 6298 5.1, 5.3: the timer runs while data is outstanding. */
void tx_arm_rto(struct lp_engine *e)
{
	if (e->snd_max > e->snd_una)
		e->rto_at = e->now + rto_backed_off(e);
	else
		e->rto_at = 0;
}

void tx_syn_done(struct lp_engine *e, const struct lp_seg *s)
{
	e->syn_pending = false;
	e->retries_cur = 0;
	e->backoff = 0;
	e->rto_at = 0;
	if (e->rtt_timing) {
		tx_rtt_sample(e, e->now - e->rtt_t0);
		e->rtt_timing = false;
	} else if (e->ts_ok && s->opts.has_ts && s->opts.tsecr && tsecr_ours(e, s->opts.tsecr)) {
		/* Our SYN went more than once (Karn): its echoed timestamp says
		 * which one was answered (RFC 7323 4.1, as Linux samples it). */
		tx_rtt_sample(e, (uint64_t)(tsval_now(e) - s->opts.tsecr) * NS_PER_MS);
	}
	/* RFC 6298 5.7 (a MUST): a SYN that timed out, and no RTT sample:
	 * 3 s from the start of the data transfer. */
	if (e->syn_timed_out && !e->have_rtt && e->rto_ns < RTO_FALLBACK_NS)
		e->rto_ns = tx_rto_clamp(e, RTO_FALLBACK_NS);
	/* RFC 5681 3.1 (a MUST): one segment after a lost SYN or SYN-ACK. */
	if (e->syn_retx)
		e->cwnd = e->mss;
}

/* New bytes that may go at snd_nxt now, up to wend. Sender silly window
 * avoidance (RFC 9293 3.8.6.2.1, MUST-38): a segment goes when it is full,
 * when it takes all the application gave (which it always pushes), when it
 * is half the largest window the peer offered, or when the override timer
 * (the persist timer here, as in Linux) fired. */
static uint64_t new_len(const struct lp_engine *e, uint64_t wend)
{
	uint64_t d, u, contig;

	if (e->snd_nxt < e->snd_max || e->snd_nxt >= e->app_len || wend <= e->snd_nxt)
		return 0;
	d = e->app_len - e->snd_nxt;
	eng_wire_to_capture(e, e->snd_nxt, &contig);
	if (d > contig)
		d = contig;
	if (d > e->mss)
		d = e->mss;
	/* No segment above half the largest window the peer offered, so that
	 * two fit in it (Linux's tcp_bound_to_half_wnd). */
	if (e->max_wnd > 536 && d > e->max_wnd / 2)
		d = e->max_wnd / 2 > 48 ? e->max_wnd / 2 : 48;
	u = wend - e->snd_nxt;
	if (u >= d)
		return d;
	return u >= e->max_wnd / 2 || e->sws_override ? u : 0;
}

bool tx_new_data_due(const struct lp_engine *e)
{
	return e->tcp == T_ESTAB && new_len(e, cc_wnd_end(e)) > 0;
}

/* May our FIN go with (or after) the data ending at end? Once sent, or when
 * the peer's window has room for it, or as the probe of a closed window. */
static bool fin_may_go(const struct lp_engine *e, uint64_t end)
{
	return e->fin_queued && end == e->app_len &&
	       (end < e->snd_max || end < e->snd_una + e->snd_wnd || e->sws_override);
}

/* ---- segments ---- */

/* The headers of a segment of ours: addresses, flags, window, options. */
static void seg_init(struct lp_engine *e, struct lp_seg *s, uint8_t flags, uint64_t off, bool syn)
{
	size_t alen = e->cfg.local.family == AF_INET ? 4 : 16;

	memset(s, 0, sizeof(*s));
	s->family = e->cfg.local.family;
	memcpy(s->src, e->cfg.local.addr, alen);
	memcpy(s->dst, e->cfg.remote.addr, alen);
	s->sport = e->cfg.local.port;
	s->dport = e->cfg.remote.port;
	s->flags = flags;
	if (syn) {
		const struct lp_synopts *o = &e->offer;
		uint64_t win = rx_wnd_offer(e);

		s->seq = e->iss;
		s->window = (uint16_t)(win > 65535 ? 65535 : win);
		if (s->window > e->adv_edge)
			e->adv_edge = s->window;
		eng_note_window_cap(e);
		s->opts.has_mss = true;
		s->opts.mss = o->mss;
		if (e->tcp == T_SYN_RCVD) {
			s->opts.has_wscale = e->ws_ok;
			s->opts.sack_ok = e->sack_ok;
			s->opts.has_ts = e->ts_ok;
		} else {
			s->opts.has_wscale = o->has_wscale;
			s->opts.sack_ok = o->sack_ok;
			s->opts.has_ts = o->has_ts;
		}
		s->opts.wscale = o->wscale;
	} else {
		uint64_t win = rx_wnd_offer(e) >> e->rcv_ws;

		s->seq = snd_seq(e, off);
		s->window = (uint16_t)(win > 65535 ? 65535 : win);
		if ((flags & LP_TH_ACK) && e->rcv_nxt + ((uint64_t)s->window << e->rcv_ws) > e->adv_edge)
			e->adv_edge = e->rcv_nxt + ((uint64_t)s->window << e->rcv_ws);
		/* RFC 7323 3.2: in every segment once negotiated, RST too. */
		s->opts.has_ts = e->ts_ok;
		if (e->sack_ok && e->nooo && !(flags & LP_TH_RST))
			rx_sack_blocks(e, &s->opts, e->ts_ok ? 3 : 4);
	}
	if (s->opts.has_ts) {
		s->opts.tsval = tsval_now(e);
		s->opts.tsecr = (flags & LP_TH_ACK) ? e->ts_recent : 0;
	}
	if (flags & LP_TH_ACK)
		s->ack = e->irs + 1 + (uint32_t)rcv_nxt_seq(e);
}

/* Write s with len payload bytes from wire offset off: straight from the
 * capture when it holds them in one run, else gathered into their place in
 * buf. seg_len > 0: a super-segment cut into wire segments of seg_len bytes
 * (e->out_gso says so). */
static int seg_write(struct lp_engine *e, uint8_t *buf, size_t cap, struct lp_seg *s, uint64_t off,
		     uint32_t len, uint16_t seg_len)
{
	int n;

	if (len) {
		uint64_t contig, run;
		uint64_t c = eng_wire_to_capture(e, off, &contig);
		const struct lp_stream *st = &e->fl->dir[e->me];

		s->payload = lp_stream_at(st, c, &run);
		if (!s->payload || run < len) {
			size_t hl = (s->family == AF_INET ? LP_IPV4_HDR : LP_IPV6_HDR) + LP_TCP_HDR +
				    lp_pkt_opts_len(s);

			if (hl + len > cap)
				return -ENOBUFS;
			lp_stream_copy(st, c, len, buf + hl);
			s->payload = buf + hl;
		}
		s->len = len;
	}
	memset(&e->out_gso, 0, sizeof(e->out_gso));
	n = seg_len ? lp_pkt_build_gso(buf, cap, s, seg_len, &e->out_gso) : lp_pkt_build(buf, cap, s);
	if (n > 0) {
		e->out_seq = s->seq;
		e->out_ack = s->ack;
		e->out_len = s->len;
		e->out_flags = s->flags;
		e->st.packets_out += lp_gso_count((size_t)n, &e->out_gso);
		if (s->flags & LP_TH_ACK) {
			/* Any segment with an ACK is the ACK owed. */
			e->ack_now = false;
			e->delack_at = 0;
			e->rcv_unacked = 0;
		}
	}
	return n;
}

/* A segment without data. */
static int build(struct lp_engine *e, uint8_t *buf, size_t cap, uint8_t flags, uint64_t off,
		 bool syn)
{
	struct lp_seg s;

	seg_init(e, &s, flags, off, syn);
	return seg_write(e, buf, cap, &s, off, 0, 0);
}

/* Note the labels of the segments whose first byte lies in [off, off + len)
 * and goes out for the first time. */
static void first_tx_labels(struct lp_engine *e, uint64_t off, uint64_t len)
{
	while (e->txlab < e->nwlab && e->wstart[e->txlab] < off + len) {
		if (e->wstart[e->txlab] >= off) {
			if (!e->out_first)
				e->out_first = e->wlabel[e->txlab];
			e->out_last = e->wlabel[e->txlab];
		}
		e->txlab++;
	}
}

uint32_t tx_label_at(const struct lp_engine *e, uint64_t off)
{
	size_t lo = 0, hi = e->nwlab;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->wstart[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? e->wlabel[lo - 1] : 0;
}

/* Send up to max bytes from wire offset off (a bare FIN when there are
 * none and it may go); advance moves snd_nxt (new data or going back after
 * an RTO), otherwise it is a one-off (fast retransmit, window probe). gso:
 * as one super-segment of whole segments when max is more than one. */
static int send_data(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t off, uint64_t max,
		     bool advance, bool probe, bool gso)
{
	uint64_t len = e->app_len - off, contig, end, last;
	bool rtx = off < e->snd_max;
	int64_t room;
	struct lp_seg s;
	int n;

	seg_init(e, &s, LP_TH_ACK, off, false);
	/* Options count against the MSS (RFC 9293 3.7.1, RFC 6691): fewer
	 * SACK blocks rather than no data at all. */
	room = (int64_t)e->eff_mss - (int64_t)lp_pkt_opts_len(&s);
	while (room < 1 && s.opts.nsack) {
		s.opts.nsack--;
		room = (int64_t)e->eff_mss - (int64_t)lp_pkt_opts_len(&s);
	}
	/* A super-segment's wire segments carry the same options: none but
	 * the fixed ones (gso_len()). */
	gso = gso && !s.opts.nsack;
	if (!gso && len > (uint64_t)room)
		len = (uint64_t)room;
	if (len > max)
		len = max;
	eng_wire_to_capture(e, off, &contig);
	if (len > contig)
		len = contig;
	end = off + len;
	gso = gso && len > (uint64_t)room;
	last = gso ? len - (len - 1) / (uint64_t)room * (uint64_t)room : len;
	if (!probe && fin_may_go(e, end))
		s.flags |= LP_TH_FIN;
	if (end == e->app_len || last == e->mss)
		s.flags |= LP_TH_PSH;
	n = seg_write(e, buf, cap, &s, off, (uint32_t)len, gso ? (uint16_t)room : 0);
	if (n < 0)
		return n;
	e->last_end = end;
	if (!rtx && !probe) {
		first_tx_labels(e, off, len);
		e->sws_override = false;
		e->last_data_at = e->now;
	}
	if (len) {
		e->st.sent_segments += lp_gso_count((size_t)n, &e->out_gso);
		e->st.sent_bytes += len;
	}
	if (rtx) {
		e->st.retransmissions++;
		eng_emit(e, LP_EV_RETRANSMIT, e->me, tx_label_at(e, off), off, len,
			 len ? NULL : "FIN");
	} else if (!probe && !e->rtt_timing && off >= e->probe_end) {
		/* Karn: time only what goes out for the first time. */
		e->rtt_timing = true;
		e->rtt_end = end;
		e->rtt_t0 = e->now;
	}
	if (s.flags & LP_TH_FIN) {
		end++;
		if (end > e->snd_max)
			eng_emit(e, LP_EV_FIN_SENT, e->me, 0, e->app_len, 0, NULL);
	}
	if (advance) {
		e->snd_nxt = end;
		if (e->snd_max < end)
			e->snd_max = end;
	}
	if (probe) {
		e->probe_sent = true;
		e->probe_end = end;
	} else if (!e->rto_at) {
		tx_arm_rto(e);
	}
	return n;
}

/* A retransmission during loss recovery; HighRxt follows it (RFC 6675 5
 * C.2). */
static int send_rtx(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t off, uint64_t lim)
{
	int n = send_data(e, buf, cap, off, lim - off, false, false, false);

	if (n > 0 && e->last_end > e->high_rxt)
		e->high_rxt = e->last_end;
	return n;
}

/* Loss recovery with SACK (RFC 6675 5 C): while cwnd - pipe >= 1 SMSS,
 * the next segment NextSeg() picks (rule 4, the rescue, is left out). */
static int send_sack_recovery(struct lp_engine *e, uint8_t *buf, size_t cap)
{
	uint64_t off, lim, n;

	if (e->cwnd < cc_pipe(e) + e->mss)
		return 0;
	if (cc_next_hole(e, true, &off, &lim))
		return send_rtx(e, buf, cap, off, lim);
	n = new_len(e, e->snd_una + e->snd_wnd);
	if (n)
		return send_data(e, buf, cap, e->snd_nxt, n, true, false, false);
	if (e->snd_nxt == e->app_len && e->snd_max == e->app_len && fin_may_go(e, e->app_len))
		return send_data(e, buf, cap, e->app_len, 0, true, false, false);
	if (cc_next_hole(e, false, &off, &lim))
		return send_rtx(e, buf, cap, off, lim);
	return 0;
}

/* New data for a super-segment (lp_engine_output_gso()): as many whole
 * segments from snd_nxt as wend lets go, gso_max bytes at most, with the
 * application's last bytes when they fit; 0 when no second segment would
 * go, or when SACK blocks make our segments shorter than the MSS (they go
 * one by one). n is new_len()'s one segment. Sent one by one, the same
 * segments would go: new_len() lets a full segment go whenever the window
 * has room for it. */
static uint64_t gso_len(const struct lp_engine *e, uint64_t wend, uint64_t n)
{
	uint64_t d, contig, u = wend - e->snd_nxt;

	if (e->gso_max < 2u * e->mss || n != e->mss || (e->sack_ok && e->nooo))
		return 0;
	d = e->app_len - e->snd_nxt;
	eng_wire_to_capture(e, e->snd_nxt, &contig);
	if (d > contig)
		d = contig;
	if (d > e->gso_max)
		d = e->gso_max - e->gso_max % e->mss;
	if (d > u)
		d = u - u % e->mss;
	return d > n ? d : 0;
}

/* After an idle spell longer than the RTO, cwnd starts again from the
 * initial window (RFC 5681 4.1; Linux's tcp_slow_start_after_idle): before
 * anything sizes what goes from cwnd, so that a super-segment takes no more
 * than the segments sent one by one would. */
static void idle_restart(struct lp_engine *e)
{
	if (e->snd_una == e->snd_max && e->last_data_at && e->now - e->last_data_at > e->rto_ns &&
	    e->cwnd > e->iw)
		e->cwnd = e->iw;
}

/* Outside SACK recovery: going back after an RTO (skipping what the peer
 * SACKed, up to rtx_hi), then new data, then our FIN. */
static int send_queued(struct lp_engine *e, uint8_t *buf, size_t cap)
{
	uint64_t wend, n;

	idle_restart(e);
	wend = cc_wnd_end(e);

	if (e->snd_nxt < e->snd_max) {
		uint64_t hi = e->rtx_hi ? e->rtx_hi : e->snd_max;
		uint64_t lim, off = cc_next_unsacked(e, e->snd_nxt, &lim);

		if (lim > hi)
			lim = hi;
		if (off >= hi)
			e->snd_nxt = e->snd_max;
		else if (off < e->app_len && off < wend)
			return send_data(e, buf, cap, off, (lim < wend ? lim : wend) - off, true,
					 false, false);
		else
			e->snd_nxt = off;
	}
	n = new_len(e, wend);
	if (n) {
		uint64_t g = gso_len(e, wend, n);

		return send_data(e, buf, cap, e->snd_nxt, g ? g : n, true, false, g != 0);
	}
	if (e->snd_nxt == e->app_len && fin_may_go(e, e->app_len))
		return send_data(e, buf, cap, e->app_len, 0, true, false, false);
	return 0;
}

/* ---- timers ---- */

/* Nothing in flight, and what waits (data, or only our FIN) may not go
 * because of the peer's window: the persist timer's case. */
static bool window_blocked(const struct lp_engine *e)
{
	if (e->state != LP_ENGINE_RUNNING || e->tcp != T_ESTAB || !e->wnd_known || e->abort_rst ||
	    e->snd_max != e->snd_una || e->snd_nxt != e->snd_max)
		return false;
	if (e->snd_max < e->app_len)
		return new_len(e, cc_wnd_end(e)) == 0;
	return e->fin_queued && e->snd_max == e->app_len && !fin_may_go(e, e->app_len);
}

static uint64_t persist_interval(const struct lp_engine *e)
{
	uint64_t iv = e->rto_ns << e->persist_shift;

	return iv > RTO_MAX_NS ? RTO_MAX_NS : iv;
}

void tx_update_persist(struct lp_engine *e)
{
	if (!window_blocked(e))
		e->persist_at = 0;
	else if (!e->persist_at && !e->probe_due)
		e->persist_at = e->now + persist_interval(e);
}

void tx_on_persist(struct lp_engine *e)
{
	e->persist_at = 0;
	if (!window_blocked(e))
		return;
	if (e->snd_wnd == 0 && e->snd_una < e->app_len) {
		if (e->probes >= e->cfg.retries + 1) {
			eng_fail(e, icmp_giveup_reason(e, "peer unresponsive (zero window)"));
			return;
		}
		e->probes++;
		e->probe_due = true;
		e->st.retransmissions++;
		eng_emit(e, LP_EV_RETRANSMIT, e->me, tx_label_at(e, e->snd_una), e->snd_una, 1,
			 "window probe");
	} else {
		/* What fits the window goes now; or our FIN, alone, probes
		 * the closed window (its RTO then keeps probing). */
		e->sws_override = true;
	}
	if (e->persist_shift < 10)
		e->persist_shift++;
	/* RFC 1122 4.2.2.17, RFC 9293 3.8.6.1 (MUST-36, SHLD-29, SHLD-30):
	 * probe again, backed off, whether or not this probe gets an answer. */
	e->persist_at = e->now + persist_interval(e);
}

void tx_on_rto(struct lp_engine *e)
{
	bool zero;

	e->rto_at = 0;
	if (e->tcp == T_SYN_SENT || e->tcp == T_SYN_RCVD) {
		if (e->retries_cur >= e->cfg.retries) {
			eng_fail(e, icmp_giveup_reason(e, "peer unresponsive"));
			return;
		}
		e->retries_cur++;
		e->backoff++;
		e->rtt_timing = false;
		e->syn_pending = true;
		e->syn_timed_out = true;
		e->rto_at = e->now + rto_backed_off(e);
		return;
	}
	if (e->snd_max <= e->snd_una)
		return;
	/* A closed window makes retransmissions window probes: the peer may
	 * keep it closed as long as it answers them (RFC 9293 MUST-37; Linux's
	 * tcp_retransmit_timer). */
	zero = e->wnd_known && e->snd_wnd == 0;
	if (zero ? e->probes >= e->cfg.retries + 1 : e->retries_cur >= e->cfg.retries) {
		eng_fail(e, icmp_giveup_reason(e, zero ? "peer unresponsive (zero window)"
						       : "peer unresponsive"));
		return;
	}
	if (zero) {
		e->probes++;
	} else {
		e->retries_cur++;
		pmtu_on_timeout(e);
	}
	e->backoff++;
	e->rtt_timing = false;
	cc_on_rto(e);
	e->rtx_hi = e->snd_max;
	e->snd_nxt = e->snd_una;
	tx_arm_rto(e);
}

void tx_queue_abort(struct lp_engine *e)
{
	if (e->tcp == T_ESTAB || e->tcp == T_SYN_RCVD)
		e->abort_rst = true;
}

/* ---- output ---- */

/* ABORT (RFC 9293 3.10.5): <SEQ=SND.NXT><CTL=RST>, kept within the peer's
 * window as Linux keeps it (tcp_acceptable_seq). */
static int send_abort(struct lp_engine *e, uint8_t *buf, size_t cap)
{
	uint64_t seq = e->snd_max;
	int n;

	if (e->wnd_known && seq > e->snd_una + e->snd_wnd)
		seq = e->snd_una + e->snd_wnd;
	n = build(e, buf, cap, LP_TH_RST | LP_TH_ACK, seq, false);
	if (n < 0)
		return n;
	e->abort_rst = false;
	e->tcp = T_CLOSED;
	e->rto_at = e->persist_at = 0;
	eng_emit(e, LP_EV_RST_SENT, e->me, 0, seq, 0, "connection aborted");
	return n;
}

/* The reset the capture shows, or one the fault plan asked for. It goes
 * after what the application had already written and the window lets
 * out: "instead of" the segment, not instead of the ones before it. */
static int send_app_rst(struct lp_engine *e, uint8_t *buf, size_t cap)
{
	uint8_t fl = LP_TH_RST | (e->tcp >= T_SYN_RCVD ? LP_TH_ACK : 0);
	int n = build(e, buf, cap, fl, e->snd_nxt, false);

	if (n < 0)
		return n;
	e->rst_pending = false;
	e->tcp = T_CLOSED;
	eng_emit(e, LP_EV_RST_SENT, e->me, 0, e->snd_nxt, 0, NULL);
	if (e->rst_fault) {
		eng_fail(e, "reset sent in place of a segment");
	} else if (e->state == LP_ENGINE_RUNNING) {
		if (eng_have(e) < e->peer_len)
			eng_diverge(e, eng_peer_label_at(e, e->rcv_nxt), e->peer_len, e->rcv_nxt,
				    -1, "peer sent fewer bytes");
		eng_done(e, NULL);
	}
	return n;
}

/* An unacceptable ACK in SYN-SENT or SYN-RECEIVED: <SEQ=SEG.ACK><CTL=RST>. */
static int send_reply_rst(struct lp_engine *e, uint8_t *buf, size_t cap)
{
	int n = build(e, buf, cap, LP_TH_RST, (uint32_t)(e->reply_rst_seq - snd_seq(e, 0)), false);

	if (n < 0)
		return n;
	e->reply_rst = false;
	/* Linux retransmits its SYN at once after such a reset: the old
	 * connection it cleared may have taken it for a stray. */
	if (e->tcp == T_SYN_SENT && !e->retries_cur && e->rto_at > e->now + SYN_AGAIN_NS)
		e->rto_at = e->now + SYN_AGAIN_NS;
	eng_emit(e, LP_EV_RST_SENT, e->me, 0, 0, 0, "unacceptable ACK to our SYN");
	return n;
}

/* A SYN refused as captured: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. */
static int send_refusal(struct lp_engine *e, uint8_t *buf, size_t cap)
{
	int n = build(e, buf, cap, LP_TH_RST | LP_TH_ACK, (uint32_t)(0u - snd_seq(e, 0)), false);

	if (n < 0)
		return n;
	e->refuse_rst = false;
	e->tcp = T_CLOSED;
	eng_emit(e, LP_EV_RST_SENT, e->me, 0, 0, 0, "connection refused, as captured");
	return n;
}

static int send_syn(struct lp_engine *e, uint8_t *buf, size_t cap)
{
	uint8_t fl = LP_TH_SYN | (e->tcp == T_SYN_RCVD ? LP_TH_ACK : 0);
	bool again = e->rto_at != 0 || e->retries_cur;
	int n = build(e, buf, cap, fl, 0, true);

	if (n < 0)
		return n;
	e->syn_pending = false;
	if (again) {
		e->syn_retx = true;
		e->st.retransmissions++;
		eng_emit(e, LP_EV_RETRANSMIT, e->me, 0, 0, 0, "SYN");
		e->rtt_timing = false;
	} else {
		e->syn_tsval = tsval_now(e);
		e->rtt_timing = true;
		e->rtt_t0 = e->now;
		e->rtt_end = 0;
	}
	e->rto_at = e->now + rto_backed_off(e);
	return n;
}

int lp_engine_output_gso(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t now_ns,
			 unsigned max_segs, struct lp_gso *g)
{
	/* One packet's payload: an IP packet of 64 KiB at most, in cap. */
	size_t room = (cap < 65535 ? cap : 65535) - LP_PKT_MAXHDR;
	int n;

	memset(g, 0, sizeof(*g));
	if (cap > LP_PKT_MAXHDR && max_segs > 1)
		e->gso_max = (uint32_t)((uint64_t)max_segs * e->mss < room ? (uint64_t)max_segs * e->mss : room);
	n = lp_engine_output(e, buf, cap, now_ns);
	e->gso_max = 0;
	if (n > 0)
		*g = e->out_gso;
	return n;
}

int lp_engine_output(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t now_ns)
{
	int n;

	e->now = now_ns;
	e->out_first = e->out_last = 0;
	if (e->abort_rst)
		return send_abort(e, buf, cap);
	if (e->rst_pending && !(e->rst_fault && tx_new_data_due(e)))
		return send_app_rst(e, buf, cap);
	if (e->refuse_rst)
		return send_refusal(e, buf, cap);
	if (e->tcp == T_CLOSED || e->tcp == T_LISTEN || e->state == LP_ENGINE_FAILED)
		return 0;
	if (e->reply_rst)
		return send_reply_rst(e, buf, cap);
	if (e->syn_pending && e->tcp != T_ESTAB)
		return send_syn(e, buf, cap);
	if (e->tcp != T_ESTAB)
		return 0;
	if (e->rtx_head && e->snd_max > e->snd_una) {
		uint64_t lim, off = cc_next_unsacked(e, e->snd_una, &lim);

		e->rtx_head = false;
		if (off < e->snd_max)
			return send_rtx(e, buf, cap, off, lim);
	}
	if (e->in_recovery && e->sack_ok)
		n = send_sack_recovery(e, buf, cap);
	else
		n = send_queued(e, buf, cap);
	if (n)
		return n;
	if (e->probe_due) {
		e->probe_due = false;
		if (window_blocked(e) && e->snd_wnd == 0 && e->snd_una < e->app_len)
			return send_data(e, buf, cap, e->snd_una, 1, false, true, false);
	}
	if (e->ack_now)
		return build(e, buf, cap, LP_TH_ACK, e->snd_max, false);
	if (e->ka_due) {
		/* A keepalive: one below SND.NXT, no data (engine_wait.c). */
		e->ka_due = false;
		return build(e, buf, cap, LP_TH_ACK, e->snd_nxt - 1, false);
	}
	return 0;
}

void lp_engine_output_info(const struct lp_engine *e, struct lp_pktinfo *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->first = e->out_first;
	pi->last = e->out_last;
	pi->seq_off = (e->out_flags & LP_TH_SYN) ? 0 : (uint32_t)(e->out_seq - e->iss - 1);
	pi->ack_off = (e->out_flags & LP_TH_ACK) ? (uint32_t)(e->out_ack - e->irs - 1) : 0;
	pi->len = e->out_len;
	pi->flags = e->out_flags;
	if (pi->len) {
		int64_t off = seq_to_off(e->iss + 1, e->snd_una, e->out_seq);

		pi->label = tx_label_at(e, off > 0 ? (uint64_t)off : 0);
	}
}

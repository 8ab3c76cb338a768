/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's receive path: segment processing in the order of RFC 9293
 * 3.10.7 (SYN states, then PAWS, sequence, RST, SYN and ACK checks), the
 * reassembly of the peer's stream, and the SACK blocks we send about it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_int.h"

#define OOW_RATELIMIT_NS (500ull * NS_PER_MS)

/* Received bytes are compared with the capture (holes match anything) only
 * under the bytes policy: the others count them. Bytes past the capture
 * differ unless stream. */
static void deliver(struct lp_engine *e, const uint8_t *p, uint64_t n)
{
	uint64_t off = e->rcv_nxt;
	const struct lp_stream *s = &e->fl->dir[e->peer];
	int64_t d = -1;

	if (e->st.first_diff < 0 && e->cfg.match != LP_MATCH_STREAM) {
		uint64_t in = off < s->len ? s->len - off : 0;

		if (in > n)
			in = n;
		if (in && e->cfg.match == LP_MATCH_BYTES)
			d = lp_stream_diff(s, off, p, in);
		if (d < 0 && in < n)
			d = (int64_t)(off + in);
		if (d >= 0) {
			e->st.first_diff = d;
			if (e->cfg.match == LP_MATCH_BYTES)
				eng_diverge(e, eng_peer_label_at(e, (uint64_t)d), s->len, off + n,
					    d, (uint64_t)d >= s->len ? "more bytes than captured"
								     : "bytes differ");
		}
	}
	e->rcv_nxt += n;
	e->st.received_bytes += n;
	/* The label is a search of the peer's segments: only for a listener
	 * (7 % of a bulk replay's time without one). */
	if (e->cfg.on_event)
		eng_emit(e, LP_EV_RECEIVED, e->peer, eng_peer_label_at(e, off), off, n, NULL);
}

static void ooo_drain(struct lp_engine *e)
{
	while (e->nooo && e->ooo[0].start <= e->rcv_nxt) {
		struct range r = e->ooo[0];

		if (r.end > e->rcv_nxt) {
			uint64_t n = r.end - e->rcv_nxt;
			uint64_t pos = e->rcv_nxt % e->rcv_buf;
			uint64_t first = n < e->rcv_buf - pos ? n : e->rcv_buf - pos;

			deliver(e, e->ooo_buf + pos, first);
			if (first < n)
				deliver(e, e->ooo_buf, n - first);
		}
		memmove(e->ooo, e->ooo + 1, (e->nooo - 1) * sizeof(e->ooo[0]));
		e->nooo--;
	}
	if (e->peer_fin_pending && e->rcv_nxt == e->peer_fin_off) {
		e->peer_fin = true;
		e->peer_fin_pending = false;
		eng_emit(e, LP_EV_FIN_RECEIVED, e->peer, 0, e->rcv_nxt, 0, NULL);
	}
}

/* Insert [start, end) into a sorted list of disjoint ranges, merging
 * neighbours. False when the list is full. */
bool rx_range_insert(struct range *a, size_t *n, uint64_t start, uint64_t end)
{
	struct range nr = { start, end };
	size_t i, j;

	for (i = 0; i < *n && a[i].end < nr.start; i++)
		;
	j = i;
	while (j < *n && a[j].start <= nr.end) {
		if (a[j].start < nr.start)
			nr.start = a[j].start;
		if (a[j].end > nr.end)
			nr.end = a[j].end;
		j++;
	}
	if (j == i && *n == MAX_OOO)
		return false;
	memmove(a + i + 1, a + j, (*n - j) * sizeof(*a));
	a[i] = nr;
	*n = *n - (j - i) + 1;
	return true;
}

/* The held block holding offset x, or NULL (delivered since). */
static const struct range *ooo_block(const struct lp_engine *e, uint64_t x)
{
	for (size_t i = 0; i < e->nooo; i++)
		if (e->ooo[i].start <= x && x < e->ooo[i].end)
			return &e->ooo[i];
	return NULL;
}

/* The block holding off was just received: it goes first in the list of
 * blocks to report, ahead of those reported before it (RFC 2018 4). */
static void mru_touch(struct lp_engine *e, uint64_t off)
{
	const struct range *b = ooo_block(e, off);
	uint64_t mru[MAX_MRU];
	size_t k = 1;

	mru[0] = off;
	for (size_t i = 0; i < e->nmru && k < MAX_MRU; i++) {
		const struct range *r = ooo_block(e, e->mru[i]);

		if (r && r != b)
			mru[k++] = e->mru[i];
	}
	memcpy(e->mru, mru, k * sizeof(mru[0]));
	e->nmru = k;
}

unsigned rx_sack_blocks(const struct lp_engine *e, struct lp_tcpopts *o, unsigned max)
{
	const struct range *done[MAX_MRU];
	unsigned n = 0;

	for (size_t i = 0; i < e->nmru && n < max && n < MAX_MRU; i++) {
		const struct range *r = ooo_block(e, e->mru[i]);
		bool dup = r == NULL;

		for (unsigned k = 0; k < n && !dup; k++)
			dup = done[k] == r;
		if (dup)
			continue;
		done[n] = r;
		o->sack[n].left = e->irs + 1 + (uint32_t)r->start;
		o->sack[n].right = e->irs + 1 + (uint32_t)r->end;
		n++;
	}
	o->nsack = (uint8_t)n;
	return n;
}

static void ooo_store(struct lp_engine *e, uint64_t off, const uint8_t *p, uint64_t n)
{
	uint64_t pos = off % e->rcv_buf;
	uint64_t first = n < e->rcv_buf - pos ? n : e->rcv_buf - pos;

	/* The window's worth of room is taken on the first data out of order;
	 * without it, or room to note the range, the data is dropped: the peer
	 * will retransmit. */
	if (!e->ooo_buf)
		e->ooo_buf = malloc(e->rcv_buf);
	if (!e->ooo_buf || !rx_range_insert(e->ooo, &e->nooo, off, off + n))
		return;
	/* Without its bytes (LP_RX_HEADERS), only its place is kept. */
	if (p) {
		memcpy(e->ooo_buf + pos, p, first);
		if (first < n)
			memcpy(e->ooo_buf, p + first, n - first);
	}
	mru_touch(e, off);
}

uint64_t rx_wnd_offer(const struct lp_engine *e)
{
	if (e->zw_until)
		return 0;
	return e->wnd_cap && e->wnd_cap < e->rcv_buf ? e->wnd_cap : e->rcv_buf;
}

uint64_t rx_wnd_accept(const struct lp_engine *e)
{
	uint64_t w = rx_wnd_offer(e);
	uint64_t before = e->adv_edge > e->rcv_nxt ? e->adv_edge - e->rcv_nxt : 0;

	return w > before ? w : before;
}


/* n new in-order bytes taken (and consumed at once: the window reopens by
 * as much): an ACK now for every second full-sized segment, for half the
 * window offered (a window update, RFC 9293 3.8.6.2.2), or while quick;
 * else one delayed at most ACK_DELAY_NS. */
static void ack_later(struct lp_engine *e, uint64_t n)
{
	if (n > e->rcv_mss)
		e->rcv_mss = n;
	if (e->rcv_last_at && e->now - e->rcv_last_at > e->rto_ns)
		e->quick = QUICKACKS;
	e->rcv_last_at = e->now;
	e->rcv_unacked += n;
	if (e->quick) {
		e->quick--;
		e->ack_now = true;
	} else if (e->rcv_unacked >= 2 * e->rcv_mss || e->rcv_unacked >= rx_wnd_offer(e) / 2) {
		e->ack_now = true;
	} else if (!e->delack_at) {
		e->delack_at = e->now + ACK_DELAY_NS;
	}
}

/* Data: delivered in order or kept aside. Out-of-order data, data that
 * fills a hole, and data we have (or that lies outside the window) are
 * acknowledged at once (with SACK blocks where agreed); new in-order data
 * by ack_later(). */
static void on_data(struct lp_engine *e, int64_t soff, const uint8_t *p, uint64_t n)
{
	uint64_t wend = e->rcv_nxt + rx_wnd_accept(e);
	uint64_t off;

	/* The peer's data starts the wait anew: its patience, and the
	 * keepalives that count as evidence in it. */
	e->expect_at = 0;
	e->ka_sent = 0;
	if (e->peer_fin) {
		e->ack_now = true;
		return;
	}
	if (soff < (int64_t)e->rcv_nxt) {
		uint64_t skip = e->rcv_nxt - (uint64_t)soff;

		if (skip >= n) {
			e->ack_now = true;
			return;
		}
		if (p)
			p += skip;
		n -= skip;
		soff = (int64_t)e->rcv_nxt;
	}
	off = (uint64_t)soff;
	if (off >= wend) {
		e->ack_now = true;
		return;
	}
	if (n > wend - off)
		n = wend - off;
	e->st.received_segments++;
	if (off == e->rcv_nxt) {
		bool filled = e->nooo > 0;

		deliver(e, p, n);
		ooo_drain(e);
		if (filled)
			e->ack_now = true;
		else
			ack_later(e, n);
		if (e->nzw)
			eng_window_faults(e);
	} else {
		ooo_store(e, off, p, n);
		e->ack_now = true;
	}
}

static bool tuple_ok(struct lp_engine *e, const struct lp_seg *s)
{
	size_t alen = e->cfg.local.family == AF_INET ? 4 : 16;

	if (s->family != e->cfg.local.family || s->dport != e->cfg.local.port)
		return false;
	if (memcmp(s->dst, e->cfg.local.addr, alen) || memcmp(s->src, e->cfg.remote.addr, alen))
		return false;
	if (e->cfg.remote.port == 0 && e->tcp == T_LISTEN && (s->flags & LP_TH_SYN)) {
		e->cfg.remote.port = s->sport;
		return true;
	}
	return s->sport == e->cfg.remote.port;
}

bool rx_negotiate(struct lp_engine *e, const struct lp_tcpopts *po)
{
	/* RFC 9293 3.7.1 (MUST-15): 536 or 1220 without the option; an MSS of
	 * 0 counts as none, as Linux takes it. */
	uint16_t peer_mss = po->has_mss && po->mss ? po->mss
						  : (e->cfg.local.family == AF_INET6 ? 1220 : 536);
	uint16_t eff = e->offer.mss < peer_mss ? e->offer.mss : peer_mss;
	struct lp_seg ts = { .flags = LP_TH_ACK };
	size_t fixed;

	e->ws_ok = e->offer.has_wscale && po->has_wscale;
	e->snd_ws = e->ws_ok ? (po->wscale > 14 ? 14 : po->wscale) : 0;
	e->rcv_ws = e->ws_ok ? e->offer.wscale : 0;
	e->ts_ok = e->offer.has_ts && po->has_ts;
	e->sack_ok = e->offer.sack_ok && po->sack_ok;
	if (e->rcv_buf > (uint64_t)65535 << e->rcv_ws)
		e->rcv_buf = (uint64_t)65535 << e->rcv_ws;
	if (po->has_ts) {
		e->ts_recent = po->tsval;
		e->ts_seen = true;
	}
	/* The options of a segment count against the MSS (RFC 9293 3.7.1,
	 * MUST-16; RFC 6691): a segment carries what the MSS leaves after them. */
	ts.opts.has_ts = e->ts_ok;
	fixed = lp_pkt_opts_len(&ts);
	if (eff > pmtu_mss_cap(e))
		eff = pmtu_mss_cap(e); /* what the path takes (RFC 1191, 8201) */
	if (eff <= fixed)
		return false;
	e->fixed_opts = (uint8_t)fixed;
	e->eff_mss = eff;
	e->mss = (uint16_t)(eff - fixed);
	/* RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)). */
	e->cwnd = 2u * e->mss > 14600 ? 2u * e->mss : 14600;
	if (e->cwnd > 10u * e->mss)
		e->cwnd = 10u * e->mss;
	e->iw = e->cwnd;
	return true;
}

void rx_oow_ack(struct lp_engine *e, bool has_data)
{
	if (!has_data) {
		if (e->oow_acked && e->now - e->oow_ack_at < OOW_RATELIMIT_NS)
			return;
		e->oow_acked = true;
		e->oow_ack_at = e->now;
	}
	e->ack_now = true;
}

static void reply_rst(struct lp_engine *e, uint32_t seq)
{
	e->reply_rst = true;
	e->reply_rst_seq = seq;
}

/* The peer's window from a SYN or SYN-ACK (never scaled), WL1 its SEG.SEQ. */
static void syn_window(struct lp_engine *e, const struct lp_seg *s)
{
	e->snd_wnd = s->window;
	e->max_wnd = s->window;
	e->wnd_known = true;
	e->wl1 = -1;
	e->wl2 = 0;
}

static void established(struct lp_engine *e, const struct lp_seg *s)
{
	e->tcp = T_ESTAB;
	e->syn_acked = true;
	tx_syn_done(e, s);
	eng_emit(e, LP_EV_CONNECTED, e->me, 0, 0, 0, NULL);
	if (e->refused && e->cfg.role == LP_ROLE_CLIENT) {
		/* The host did otherwise than the capture shows, at once: no
		 * wait, and the connection it accepted is aborted. */
		eng_diverge(e, 0, 0, 0, -1, "the capture shows the connection refused (RST), the host accepted it");
		tx_queue_abort(e);
		eng_done(e, NULL);
	}
}

static void input_listen(struct lp_engine *e, const struct lp_seg *s)
{
	if ((s->flags & (LP_TH_SYN | LP_TH_ACK | LP_TH_RST)) != LP_TH_SYN)
		return;
	e->irs = s->seq;
	if (e->refused) {
		/* No listener, as captured: the SYN gets its reset (RFC 9293
		 * 3.10.7.1) and the session is over. */
		e->refuse_rst = true;
		eng_done(e, "connection refused, as captured");
		return;
	}

	e->tcp = T_SYN_RCVD;
	syn_window(e, s);
	if (!rx_negotiate(e, &s->opts)) {
		eng_fail(e, "peer MSS too small");
		return;
	}
	e->syn_pending = true;
}

static void input_syn_sent(struct lp_engine *e, const struct lp_seg *s)
{
	if (s->flags & LP_TH_ACK) {
		/* An unacceptable ACK (RFC 9293 3.10.7.3): most often a host whose
		 * old connection on these ports is in TIME-WAIT, or still open,
		 * and took our SYN for a stray. A reset <SEQ=SEG.ACK><CTL=RST>
		 * clears that, and the SYN's retransmission then gets through.
		 * Such an old connection also sends an ACK that echoes a
		 * timestamp our SYN never carried (Linux: PAWS active reject), or
		 * one that acknowledges our SYN but has no SYN itself (its ISN was
		 * ours: a rerun with the same --seed). RFC 9293 drops the latter;
		 * no peer answers a SYN so, and dropped, it comes back for every
		 * SYN until the old connection times out. */
		bool old = s->ack != e->iss + 1 || !(s->flags & (LP_TH_SYN | LP_TH_RST)) ||
			   (e->offer.has_ts && s->opts.has_ts && s->opts.tsecr &&
			    !tsecr_ours(e, s->opts.tsecr));

		if (old) {
			if (!(s->flags & LP_TH_RST))
				reply_rst(e, s->ack);
			return;
		}
	}
	if (s->flags & LP_TH_RST) {
		if (s->flags & LP_TH_ACK) {
			e->tcp = T_CLOSED;
			e->st.peer_reset = true;
			if (e->refused)
				eng_done(e, "connection refused, as captured");
			else
				eng_fail(e, "connection refused (reset by peer)");
		}
		return;
	}
	if (!(s->flags & LP_TH_SYN))
		return;
	e->irs = s->seq;
	syn_window(e, s);
	if (!(s->flags & LP_TH_ACK)) {
		/* Simultaneous open (RFC 9293 3.10.7.3, MUST-10): SYN-RECEIVED,
		 * our SYN again with the ACK of theirs. */
		e->tcp = T_SYN_RCVD;
		if (!rx_negotiate(e, &s->opts))
			eng_fail(e, "peer MSS too small");
		else
			e->syn_pending = true;
		return;
	}
	e->tcp = T_ESTAB;
	if (!rx_negotiate(e, &s->opts)) {
		eng_fail(e, "peer MSS too small");
		return;
	}
	e->ack_now = true;
	established(e, s);
}

/* SYN-RECEIVED and ESTABLISHED: RFC 9293 3.10.7.4. False when the segment
 * goes no further than its checks. */
static bool segment_checks(struct lp_engine *e, const struct lp_seg *s, int64_t soff,
			   uint64_t seglen)
{
	int64_t rnxt = (int64_t)rcv_nxt_seq(e), wnd = (int64_t)rx_wnd_accept(e);

	if ((s->flags & LP_TH_SYN) && !(s->flags & LP_TH_RST)) {
		/* A retransmitted SYN (our SYN-ACK was lost) gets the SYN-ACK
		 * again; any other SYN a challenge ACK (RFC 5961 4). */
		if (e->tcp == T_SYN_RCVD && s->seq == e->irs && !(s->flags & LP_TH_ACK))
			e->syn_pending = true;
		else if (e->tcp == T_SYN_RCVD && s->seq == e->irs && s->ack == e->iss + 1)
			established(e, s); /* simultaneous open: the SYN-ACKs crossed (Linux) */
		else
			rx_oow_ack(e, false);
		return false;
	}
	if (s->flags & LP_TH_RST) {
		/* RFC 5961 3.2: only the exact sequence resets;
		 * elsewhere in the window a challenge ACK. */
		if (soff == rnxt)
			eng_peer_reset(e);
		else if (soff > rnxt && soff < rnxt + wnd)
			rx_oow_ack(e, false);
		else
			e->st.packets_ignored++;
		return false;
	}
	/* PAWS (RFC 7323 5.3 R1): a segment older than TS.Recent is not
	 * acceptable. */
	if (e->ts_ok && e->ts_seen && s->opts.has_ts &&
	    (int32_t)(s->opts.tsval - e->ts_recent) < 0) {
		e->st.packets_ignored++;
		rx_oow_ack(e, seglen != 0);
		return false;
	}
	/* The acceptability test (RFC 9293 3.10.7.4): an unacceptable segment
	 * (a keepalive at RCV.NXT-1, an old duplicate, a zero-window probe)
	 * gets an ACK. With the window closed (a zero-window fault) only a
	 * segment at RCV.NXT is taken, for its ACK; its data is dropped by
	 * on_data() (RFC 9293: "special allowance should be made to accept
	 * valid ACKs"; Linux, tcp_data_queue(), even keeps a bare FIN). */
	if (wnd == 0 ? soff != rnxt
		     : seglen == 0 ? soff < rnxt || soff >= rnxt + wnd
				   : soff >= rnxt + wnd || soff + (int64_t)seglen <= rnxt) {
		e->st.packets_ignored++;
		rx_oow_ack(e, seglen != 0);
		return false;
	}
	if (!(s->flags & LP_TH_ACK))
		return false;
	if (e->tcp == T_SYN_RCVD) {
		/* SYN-RECEIVED: only an ACK of our SYN completes it; any other
		 * gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.4). */
		if (s->ack != e->iss + 1) {
			reply_rst(e, s->ack);
			return false;
		}
		established(e, s);
	}
	return true;
}

/* The ACK field (RFC 9293 3.10.7.4 fifth, RFC 5961 5.2). False when the
 * segment is dropped. */
static bool ack_checks(struct lp_engine *e, const struct lp_seg *s, int64_t soff)
{
	int64_t aoff = seq_to_off(e->iss + 1, e->snd_una, s->ack);
	uint64_t hi = e->snd_max > e->snd_nxt ? e->snd_max : e->snd_nxt;
	uint64_t wnd = (uint64_t)s->window << e->snd_ws;
	uint64_t una = e->snd_una;

	if (e->probe_sent && hi < e->snd_una + 1)
		hi = e->snd_una + 1;
	if (aoff > (int64_t)hi) {
		/* It acknowledges something we never sent: an ACK, and drop. */
		rx_oow_ack(e, false);
		return false;
	}
	if (aoff < (int64_t)e->snd_una - (int64_t)e->max_wnd) {
		rx_oow_ack(e, false); /* too old: a challenge ACK (RFC 5961 5.2) */
		return false;
	}
	e->probes = 0;
	if (aoff < (int64_t)una)
		return true; /* an old duplicate: nothing to learn from it */
	cc_on_ack(e, (uint64_t)aoff,
		  !s->len && !(s->flags & LP_TH_FIN) && e->wnd_known && wnd == e->snd_wnd,
		  &s->opts);
	/* The send window, from the newest segment only (RFC 9293 3.10.7.4). */
	if (!e->wnd_known || e->wl1 < soff || (e->wl1 == soff && e->wl2 <= (uint64_t)aoff)) {
		e->snd_wnd = wnd;
		e->wl1 = soff;
		e->wl2 = (uint64_t)aoff;
		e->wnd_known = true;
		if (wnd > e->max_wnd)
			e->max_wnd = wnd;
	}
	return true;
}

static void input_sync(struct lp_engine *e, const struct lp_seg *s)
{
	int64_t soff = seq_to_off(e->irs + 1, e->rcv_nxt, s->seq);
	uint64_t seglen = s->len + ((s->flags & LP_TH_FIN) ? 1 : 0);

	if (!segment_checks(e, s, soff, seglen) || !ack_checks(e, s, soff))
		return;
	/* TS.Recent (RFC 7323 4.3): from a segment at the left window edge. */
	if (e->ts_ok && s->opts.has_ts && soff <= (int64_t)e->rcv_nxt &&
	    (!e->ts_seen || (int32_t)(s->opts.tsval - e->ts_recent) >= 0)) {
		e->ts_recent = s->opts.tsval;
		e->ts_seen = true;
	}
	if (s->len)
		on_data(e, soff, s->payload, s->len);
	if (s->flags & LP_TH_FIN) {
		e->ack_now = true;
		if (!e->peer_fin) {
			e->peer_fin_pending = true;
			e->peer_fin_off = (uint64_t)(soff + (int64_t)s->len);
			ooo_drain(e);
		}
	}
}

int lp_engine_input(struct lp_engine *e, const uint8_t *pkt, size_t len, uint64_t now_ns)
{
	return lp_engine_input_rx(e, pkt, len, 0, now_ns);
}

int lp_engine_input_rx(struct lp_engine *e, const uint8_t *pkt, size_t len, unsigned flags,
		       uint64_t now_ns)
{
	struct lp_seg s;
	int rc;

	e->now = now_ns;
	rc = lp_pkt_parse_rx(pkt, len, flags, &s);
	if (rc == -EINVAL && eng_icmp_packet(e, pkt, len) == 0)
		return 0;
	if (rc < 0) {
		e->st.packets_ignored++;
		return rc == -EINVAL ? -EINVAL : 0;
	}
	/* Bytes to compare that are not here: as if never received. */
	if (!s.payload && s.len && e->cfg.match == LP_MATCH_BYTES) {
		e->st.packets_ignored++;
		return 0;
	}
	if (!tuple_ok(e, &s) || e->tcp == T_CLOSED) {
		e->st.packets_ignored++;
		return 0;
	}
	e->st.packets_in++;
	wait_heard(e);
	if (e->tcp == T_LISTEN)
		input_listen(e, &s);
	else if (e->tcp == T_SYN_SENT)
		input_syn_sent(e, &s);
	else
		input_sync(e, &s);
	eng_progress(e);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The replay engine: one TCP endpoint (RFC 9293) whose application is one
 * side of a captured flow. Timestamps per RFC 7323, retransmission timer per
 * RFC 6298, RST and ACK acceptance in the spirit of RFC 5961.
 *
 * Sequence numbers are handled as 64-bit stream offsets: offset 0 is the
 * first byte after the SYN. Our FIN, when queued, occupies offset app_len.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"

#define NS_PER_MS 1000000ull
#define RTO_MAX_NS (60000ull * NS_PER_MS)
#define MAX_OOO 32
#define MAX_DIV 16
#define MAX_CUTS 16
#define DEFAULT_RCVBUF (256u * 1024u)

enum tcp_state {
	T_LISTEN,
	T_SYN_SENT,
	T_SYN_RCVD,
	T_ESTAB,
	T_CLOSED,
};

/* One of our scheduled captured segments (data, FIN or RST). */
struct mseg {
	const struct lp_segment *s;
	uint64_t gap_ns;      /* captured think-time before it */
};

struct range {
	uint64_t start, end;
};

/* Bytes the application left out of our stream (truncate fault): wire
 * offsets at or past wire_at map to capture offsets shifted by skip. */
struct cut {
	uint64_t wire_at, skip;
};

struct lp_engine {
	const struct lp_flow *fl;
	struct lp_engine_cfg cfg;
	uint8_t me, peer;
	enum lp_engine_state state;
	const char *reason;
	enum tcp_state tcp;
	uint64_t now;

	/* schedule */
	struct mseg *mine;
	size_t nmine, rel;
	uint32_t *theirs;           /* the peer's data segments (indexes into fl->segs), in stream
				     * order: for attribution and size matching */
	size_t ntheirs;
	uint64_t peer_len;          /* bytes the capture shows from the peer */
	bool peer_close_expected;
	uint64_t release_at;        /* capture timing: earliest release of mine[rel] */
	uint64_t last_met;          /* peer offset of the last expectation met */
	bool stalled;
	struct cut cuts[MAX_CUTS];
	size_t ncuts;
	/* first-transmission tracking for labels */
	uint64_t *wstart;           /* wire offset of each released data segment, in order */
	uint32_t *wlabel;
	size_t nwlab, txlab;
	uint32_t out_first, out_last;  /* labels first sent in the last packet */

	/* send side */
	uint32_t iss;
	uint64_t snd_una, snd_nxt, snd_max, app_len;
	bool fin_queued, syn_pending, syn_acked;
	bool rst_pending, rst_fault;
	bool synsent_rst;           /* answer an unacceptable ACK in SYN-SENT with a reset
				     * (one per output drain, for the last such ACK) */
	uint32_t synsent_rst_seq;   /* its sequence number: that ACK's ack field */
	uint64_t snd_wnd, wl1, wl2;
	bool wnd_known;
	uint16_t mss;               /* payload per segment after options */
	bool ws_ok, ts_ok, sack_ok;
	uint8_t snd_ws, rcv_ws;
	struct lp_synopts offer;    /* what our SYN offers */
	unsigned dupacks;
	uint64_t cwnd, ssthresh;
	uint64_t rtx_hi;            /* retransmit holes below this, then resume at snd_max */
	uint64_t rexmit_done;       /* holes below this were retransmitted this episode */
	uint64_t recover;           /* loss episode ends when this is acknowledged */
	bool in_recovery;           /* fast recovery (else RTO go-back-N) */
	struct range sacked[MAX_OOO];
	size_t nsacked;
	bool probe_due, probe_sent;
	unsigned probes;             /* window probes without an answer */

	/* receive side */
	uint32_t irs;
	uint64_t rcv_nxt;
	uint64_t rcv_buf;           /* window we offer, bytes */
	bool peer_fin;
	bool peer_fin_pending;
	uint64_t peer_fin_off;
	uint32_t ts_recent;
	bool ts_seen;
	bool ack_now;
	uint8_t *ooo_buf;
	uint8_t *scratch;           /* a segment's payload the capture holds in pieces */
	uint32_t scratch_len;
	struct range ooo[MAX_OOO];
	size_t nooo;

	/* timers (absolute ns, 0 = off) */
	uint64_t rto_at, persist_at, expect_at;
	uint64_t rto_ns, srtt, rttvar;
	bool have_rtt;
	unsigned retries_cur;
	unsigned persist_shift;
	bool rtt_timing;
	uint64_t rtt_end, rtt_t0;
	bool expect_fired;
	bool tail_waived, close_waived;
	uint64_t short_at;          /* rcv_nxt at the last shortfall reported */
	uint64_t slack;             /* peer bytes given up on after shortfalls */
	bool size_end_checked;
	struct lp_rng jitter;       /* RTO timer jitter (cfg.rto_jitter_pct) */

	struct lp_engine_stats st;
	struct lp_divergence div[MAX_DIV];
};

void lp_engine_cfg_defaults(struct lp_engine_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->match = LP_MATCH_STREAM;
	cfg->timing.mode = LP_TIMING_ASAP;
	cfg->timing.speed = 1.0;
	cfg->rto_min_ms = 200;
	cfg->rto_init_ms = 1000;
	cfg->retries = 6;
	cfg->expect_timeout_ms = 5000;
}

static void emit(struct lp_engine *e, enum lp_event_kind kind, uint8_t dir, uint32_t label,
		 uint64_t offset, uint64_t len, const char *reason)
{
	struct lp_event ev;

	if (!e->cfg.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.role = e->cfg.role;
	ev.now_ns = e->now;
	ev.dir = dir;
	ev.label = label;
	ev.offset = offset;
	ev.len = len;
	ev.first_diff = -1;
	ev.reason = reason;
	e->cfg.on_event(e->cfg.ctx, &ev);
}

/* The peer's i-th data segment of the capture. */
static const struct lp_segment *peer_seg(const struct lp_engine *e, size_t i)
{
	return &e->fl->segs[e->theirs[i]];
}

/* Index of the peer data segment holding stream offset off (the last one
 * if past the end); ntheirs must be > 0. */
static size_t peer_index_at(const struct lp_engine *e, uint64_t off)
{
	size_t lo = 0, hi = e->ntheirs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct lp_segment *q = peer_seg(e, mid);

		if ((uint64_t)q->offset + q->len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo >= e->ntheirs ? e->ntheirs - 1 : lo;
}

static uint32_t peer_label_at(const struct lp_engine *e, uint64_t off)
{
	return e->ntheirs ? peer_seg(e, peer_index_at(e, off))->label : 0;
}

static void diverge(struct lp_engine *e, uint32_t label, uint64_t expected, uint64_t received,
		    int64_t first_diff, const char *reason)
{
	struct lp_event ev;

	if (e->st.ndivergences < MAX_DIV) {
		struct lp_divergence *d = &e->div[e->st.ndivergences];

		d->dir = e->peer;
		d->label = label;
		d->expected = expected;
		d->received = received;
		d->first_diff = first_diff;
		d->reason = reason;
		d->at_ns = e->now;
	}
	e->st.ndivergences++;
	if (!e->cfg.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = LP_EV_DIVERGENCE;
	ev.role = e->cfg.role;
	ev.now_ns = e->now;
	ev.dir = e->peer;
	ev.label = label;
	ev.expected = expected;
	ev.received = received;
	ev.first_diff = first_diff;
	ev.reason = reason;
	e->cfg.on_event(e->cfg.ctx, &ev);
}

static void fail(struct lp_engine *e, const char *reason)
{
	if (e->state != LP_ENGINE_RUNNING)
		return;
	e->state = LP_ENGINE_FAILED;
	e->reason = reason;
	e->rto_at = e->persist_at = e->expect_at = e->release_at = 0;
	emit(e, LP_EV_FAILED, e->me, 0, 0, 0, reason);
}

static uint32_t snd_seq(const struct lp_engine *e, uint64_t off)
{
	return e->iss + 1 + (uint32_t)off;
}

static uint32_t rcv_ack(const struct lp_engine *e)
{
	return e->irs + 1 + (uint32_t)e->rcv_nxt + (e->peer_fin ? 1 : 0);
}

/* The stream offset nearest to ref whose sequence number is seq. */
static int64_t seq_to_off(uint32_t base_seq, uint64_t ref, uint32_t seq)
{
	uint32_t ref_seq = base_seq + (uint32_t)ref;

	return (int64_t)ref + (int32_t)(seq - ref_seq);
}

static uint64_t seq_end(const struct lp_engine *e)
{
	return e->app_len + (e->fin_queued ? 1 : 0);
}

static uint32_t tsval_now(const struct lp_engine *e)
{
	uint64_t t = e->now > e->cfg.ts_origin_ns ? e->now - e->cfg.ts_origin_ns : 0;

	return e->cfg.ts_base + (uint32_t)(t / NS_PER_MS);
}

static uint64_t rto_clamp(const struct lp_engine *e, uint64_t v)
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

	for (unsigned i = 0; i < e->retries_cur && v < RTO_MAX_NS; i++)
		v *= 2;
	if (v > RTO_MAX_NS)
		v = RTO_MAX_NS;
	if (e->cfg.rto_jitter_pct)
		v += lp_rng_below(&e->jitter, v / 100 * e->cfg.rto_jitter_pct + 1);
	return v;
}

static void rtt_sample(struct lp_engine *e, uint64_t r)
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
	e->rto_ns = rto_clamp(e, e->srtt + (4 * e->rttvar > NS_PER_MS ? 4 * e->rttvar : NS_PER_MS));
}

/* Where the bytes of wire offset w live in the captured stream. */
static uint64_t wire_to_capture(const struct lp_engine *e, uint64_t w, uint64_t *contig)
{
	uint64_t c = w, lim = UINT64_MAX;

	for (size_t i = 0; i < e->ncuts; i++) {
		if (w >= e->cuts[i].wire_at) {
			c += e->cuts[i].skip;
		} else {
			lim = e->cuts[i].wire_at - w;
			break;
		}
	}
	*contig = lim;
	return c;
}

/* Received bytes are compared with the capture only under the bytes policy:
 * the others count them. Bytes past the capture differ unless stream. */
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
				diverge(e, peer_label_at(e, (uint64_t)d), s->len, off + n, d,
					(uint64_t)d >= s->len ? "more bytes than captured"
							      : "bytes differ");
		}
	}
	e->rcv_nxt += n;
	e->st.received_bytes += n;
	emit(e, LP_EV_RECEIVED, e->peer, peer_label_at(e, off), off, n, NULL);
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
		emit(e, LP_EV_FIN_RECEIVED, e->peer, 0, e->rcv_nxt, 0, NULL);
	}
}

/* Insert [start, end) into a sorted list of disjoint ranges, merging
 * neighbours. False when the list is full. */
static bool range_insert(struct range *a, size_t *n, uint64_t start, uint64_t end)
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

static void ooo_store(struct lp_engine *e, uint64_t off, const uint8_t *p, uint64_t n)
{
	uint64_t pos = off % e->rcv_buf;
	uint64_t first = n < e->rcv_buf - pos ? n : e->rcv_buf - pos;

	/* With no room to note the range, drop it: the peer will retransmit. */
	if (!range_insert(e->ooo, &e->nooo, off, off + n))
		return;
	memcpy(e->ooo_buf + pos, p, first);
	if (first < n)
		memcpy(e->ooo_buf, p + first, n - first);
}

static void on_data(struct lp_engine *e, int64_t soff, const uint8_t *p, uint64_t n)
{
	uint64_t wend = e->rcv_nxt + e->rcv_buf;
	uint64_t off;

	e->ack_now = true;
	e->expect_at = 0;
	if (e->peer_fin)
		return;
	if (soff < (int64_t)e->rcv_nxt) {
		uint64_t skip = e->rcv_nxt - (uint64_t)soff;

		if (skip >= n)
			return;
		p += skip;
		n -= skip;
		soff = (int64_t)e->rcv_nxt;
	}
	off = (uint64_t)soff;
	if (off >= wend)
		return;
	if (n > wend - off)
		n = wend - off;
	e->st.received_segments++;
	if (off == e->rcv_nxt) {
		deliver(e, p, n);
		ooo_drain(e);
	} else {
		ooo_store(e, off, p, n);
	}
}

/* Size policy: is the capture's peer message ending at need followed by a
 * peer segment that waited for our segment s? */
static bool boundary_is_causal(const struct lp_engine *e, const struct lp_segment *s, uint64_t need)
{
	size_t i;

	if (!e->ntheirs)
		return false;
	i = peer_index_at(e, need);
	return peer_seg(e, i)->offset == need && peer_seg(e, i)->ack > s->offset;
}

/* Peer bytes received, counting those given up on as delivered: after a
 * shortfall the replay goes on in step with the shorter stream. */
static uint64_t have(const struct lp_engine *e)
{
	return e->rcv_nxt + e->slack;
}

static bool all_acked(const struct lp_engine *e)
{
	return e->snd_una >= seq_end(e);
}

static void finish_check(struct lp_engine *e)
{
	if (e->state != LP_ENGINE_RUNNING || e->rel < e->nmine || e->stalled)
		return;
	if (!all_acked(e) || e->rst_pending)
		return;
	if (have(e) < e->peer_len && !e->tail_waived)
		return;
	if (e->peer_close_expected && !e->peer_fin && !e->close_waived)
		return;
	if (e->cfg.match == LP_MATCH_SIZE && !e->size_end_checked) {
		e->size_end_checked = true;
		if (have(e) > e->peer_len)
			diverge(e, peer_label_at(e, e->peer_len), e->peer_len, e->rcv_nxt, -1,
				"more bytes than captured");
	}
	e->state = LP_ENGINE_DONE;
	e->rto_at = e->persist_at = e->expect_at = 0;
	emit(e, LP_EV_DONE, e->me, 0, 0, 0, NULL);
}

static void release_data(struct lp_engine *e, const struct lp_segment *s)
{
	uint32_t arg = 0;
	uint64_t len = s->len;
	enum lp_fault_kind fk = LP_FAULT_NONE;

	if (e->cfg.faults)
		fk = lp_fault_app_action(e->cfg.faults, (enum lp_fault_side)e->cfg.role, s->label, &arg);
	if (fk == LP_FAULT_STALL) {
		e->stalled = true;
		emit(e, LP_EV_FAULT, e->me, s->label, s->offset, 0, "stall");
		return;
	}
	if (fk == LP_FAULT_RST) {
		e->rst_pending = true;
		e->rst_fault = true;
		e->stalled = true;
		emit(e, LP_EV_FAULT, e->me, s->label, s->offset, 0, "rst");
		return;
	}
	if (fk == LP_FAULT_TRUNCATE && arg < len) {
		emit(e, LP_EV_FAULT, e->me, s->label, s->offset, arg, "truncate");
		if (e->ncuts < MAX_CUTS) {
			uint64_t prev = e->ncuts ? e->cuts[e->ncuts - 1].skip : 0;

			e->cuts[e->ncuts].wire_at = e->app_len + arg;
			e->cuts[e->ncuts].skip = prev + (len - arg);
			e->ncuts++;
			len = arg;
		}
	}
	if (len) {
		e->wstart[e->nwlab] = e->app_len;
		e->wlabel[e->nwlab] = s->label;
		e->nwlab++;
	}
	emit(e, LP_EV_SENT, e->me, s->label, e->app_len, len, NULL);
	e->app_len += len;
}

/* Persist timer: armed while the peer's window is closed and data waits. */
static void update_persist(struct lp_engine *e)
{
	if (e->state == LP_ENGINE_RUNNING && e->tcp == T_ESTAB && e->wnd_known &&
	    e->snd_wnd == 0 && e->snd_una == e->snd_nxt && e->snd_nxt < e->app_len) {
		if (!e->persist_at && !e->probe_due) {
			uint64_t iv = e->rto_ns << e->persist_shift;

			e->persist_at = e->now + (iv > RTO_MAX_NS ? RTO_MAX_NS : iv);
		}
		e->rto_at = 0;
	} else {
		e->persist_at = 0;
	}
}

/* The peer delivered fewer bytes than the capture shows by need. Reported
 * once per stall (no new bytes since the last report), attributed to the
 * segment where the stream first differs from the capture if that comes
 * earlier (a shortened segment shifts everything after it). */
static void shortfall(struct lp_engine *e, uint64_t need, const char *why)
{
	int64_t fd = e->st.first_diff;

	if (fd >= (int64_t)e->rcv_nxt)
		fd = -1;
	if (e->rcv_nxt != e->short_at) {
		diverge(e, peer_label_at(e, fd >= 0 ? (uint64_t)fd : e->rcv_nxt), need, e->rcv_nxt, fd,
			why);
		e->short_at = e->rcv_nxt;
	}
	if (need > have(e))
		e->slack += need - have(e);
	if (need >= e->peer_len)
		e->tail_waived = true;
}

/* After we sent fewer bytes than captured (truncate fault), the peer's next
 * segment may be waiting for bytes that will never come: then it is the
 * peer's turn to give up, not ours, so that the report names the cause. */
static bool peer_waits_on_us(const struct lp_engine *e)
{
	if (!e->ncuts || !e->ntheirs)
		return false;
	return peer_seg(e, peer_index_at(e, have(e)))->ack > e->app_len;
}

/* Release every captured segment of ours whose causal link is satisfied. */
static void progress(struct lp_engine *e)
{
	bool waiting = false;

	if (e->state != LP_ENGINE_RUNNING || e->tcp != T_ESTAB)
		return;
	while (e->rel < e->nmine && !e->stalled && !e->rst_pending) {
		const struct mseg *m = &e->mine[e->rel];
		const struct lp_segment *s = m->s;
		uint64_t need = s->ack < e->peer_len ? s->ack : e->peer_len;

		if (have(e) < need) {
			if (!e->peer_fin && !e->expect_fired) {
				waiting = true;
				break;
			}
			e->expect_fired = false;
			shortfall(e, need, e->peer_fin ? "peer closed early" : "peer sent fewer bytes");
			e->last_met = need;
		} else if (need > e->last_met) {
			if (e->cfg.match == LP_MATCH_SIZE && have(e) > need &&
			    s->len > 0 && boundary_is_causal(e, s, need))
				diverge(e, peer_label_at(e, need), need, e->rcv_nxt, -1,
					"peer message larger than captured");
			emit(e, LP_EV_EXPECT_MET, e->peer, peer_label_at(e, need - 1), 0, need, NULL);
			e->last_met = need;
		}
		if (e->cfg.timing.mode == LP_TIMING_CAPTURE && m->gap_ns) {
			if (!e->release_at) {
				double sp = e->cfg.timing.speed > 0 ? e->cfg.timing.speed : 1.0;

				e->release_at = e->now + (uint64_t)((double)m->gap_ns / sp);
			}
			if (e->now < e->release_at)
				break;
		}
		e->release_at = 0;
		if (s->flags & LP_TH_RST) {
			if (e->snd_una < e->app_len)
				break;
			e->rst_pending = true;
			e->rel++;
			break;
		}
		if (s->len)
			release_data(e, s);
		if (e->stalled)
			break;
		if (s->flags & LP_TH_FIN)
			e->fin_queued = true;
		e->rel++;
	}
	/* The expectation timer runs while we wait for peer bytes and have
	 * nothing of ours outstanding. */
	if (!waiting && e->rel >= e->nmine && !e->rst_pending) {
		bool fired = e->expect_fired;

		if (have(e) < e->peer_len && !e->tail_waived) {
			if (e->peer_fin) {
				shortfall(e, e->peer_len, "peer closed early");
			} else if (fired) {
				shortfall(e, e->peer_len, "peer sent fewer bytes");
				fired = false;
			} else {
				waiting = true;
			}
		}
		if (!waiting && e->peer_close_expected && !e->peer_fin && !e->close_waived) {
			if (fired) {
				/* A reset may be lost on the way and is never repeated:
				 * only a missing FIN is a divergence. */
				e->close_waived = true;
				if (e->short_at != e->rcv_nxt && e->fl->dir[e->peer].fin)
					diverge(e, 0, 0, 0, -1, "peer did not close");
			} else {
				waiting = true;
			}
		}
	}
	if (waiting && all_acked(e) && e->snd_una >= e->snd_max && !peer_waits_on_us(e)) {
		if (!e->expect_at)
			e->expect_at = e->now + (uint64_t)e->cfg.expect_timeout_ms * NS_PER_MS;
	} else {
		e->expect_at = 0;
	}
	e->expect_fired = false;
	update_persist(e);
	finish_check(e);
}

static void arm_rto(struct lp_engine *e)
{
	if (e->snd_max > e->snd_una)
		e->rto_at = e->now + rto_backed_off(e);
	else
		e->rto_at = 0;
}

static void negotiate(struct lp_engine *e, const struct lp_tcpopts *po)
{
	uint16_t peer_mss = po->has_mss ? po->mss : (e->cfg.local.family == AF_INET6 ? 1220 : 536);
	uint16_t mss = e->offer.mss < peer_mss ? e->offer.mss : peer_mss;

	e->ws_ok = e->offer.has_wscale && po->has_wscale;
	e->snd_ws = e->ws_ok ? (po->wscale > 14 ? 14 : po->wscale) : 0;
	e->rcv_ws = e->ws_ok ? e->offer.wscale : 0;
	e->ts_ok = e->offer.has_ts && po->has_ts;
	e->sack_ok = e->offer.sack_ok && po->sack_ok;
	if (e->ts_ok)
		mss -= 12;
	if (mss < 64)
		mss = 64;
	e->mss = mss;
	e->cwnd = 10u * mss;
	if (e->rcv_buf > (uint64_t)65535 << e->rcv_ws)
		e->rcv_buf = (uint64_t)65535 << e->rcv_ws;
	if (po->has_ts) {
		e->ts_recent = po->tsval;
		e->ts_seen = true;
	}
}

static void on_reset(struct lp_engine *e)
{
	const struct lp_stream *ps = &e->fl->dir[e->peer];

	e->tcp = T_CLOSED;
	if (e->state != LP_ENGINE_RUNNING)
		return;
	if (ps->rst && e->rel >= e->nmine && have(e) >= e->peer_len && e->snd_una >= e->app_len) {
		e->peer_fin = true;
		e->state = LP_ENGINE_DONE;
		e->rto_at = e->persist_at = e->expect_at = 0;
		emit(e, LP_EV_DONE, e->me, 0, 0, 0, "reset by peer, as captured");
		return;
	}
	fail(e, "reset by peer");
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

static uint64_t flight_half(const struct lp_engine *e)
{
	uint64_t h = (e->snd_max - e->snd_una) / 2;

	return h > 2u * e->mss ? h : 2u * e->mss;
}

/* Retransmit the holes in [from, to), halving the window once per loss
 * episode (RFC 5681, 6675 in spirit). */
static void start_rexmit(struct lp_engine *e, uint64_t from, uint64_t to)
{
	if (!e->in_recovery) {
		e->ssthresh = flight_half(e);
		e->cwnd = e->ssthresh;
		e->in_recovery = true;
		e->recover = e->snd_max;
	}
	e->rtx_hi = to < e->snd_max ? to : e->snd_max;
	e->rexmit_done = e->rtx_hi;
	e->snd_nxt = from;
	e->rtt_timing = false;
}

/* With SACK, a hole counts as lost once three segments' worth of data above
 * it has arrived: retransmit the holes up to the highest SACKed byte, once
 * per episode, on any ACK (a small flight may never see three dup ACKs). */
static void sack_recovery(struct lp_engine *e)
{
	uint64_t from = e->snd_una > e->rexmit_done ? e->snd_una : e->rexmit_done;
	uint64_t above = 0;

	if (!e->nsacked || e->snd_nxt < e->snd_max)
		return;
	for (size_t k = 0; k < e->nsacked; k++)
		if (e->sacked[k].start >= from)
			above += e->sacked[k].end - e->sacked[k].start;
	if (above >= 3u * e->mss || (above && e->dupacks >= 3))
		start_rexmit(e, from, e->sacked[e->nsacked - 1].end);
}

static void on_ack(struct lp_engine *e, const struct lp_seg *s, int64_t seg_off, uint64_t seglen)
{
	int64_t aoff = seq_to_off(e->iss + 1, e->snd_una, s->ack);
	uint64_t hi = e->snd_max > e->snd_nxt ? e->snd_max : e->snd_nxt;
	uint64_t wnd = (uint64_t)s->window << e->snd_ws;

	if (e->probe_sent)
		hi = hi > e->snd_una + 1 ? hi : e->snd_una + 1;
	if (aoff < 0 || (uint64_t)aoff > hi) {
		if (aoff > 0)
			e->ack_now = true; /* acks something we never sent */
		return;
	}
	if (e->sack_ok) {
		for (unsigned i = 0; i < s->opts.nsack; i++) {
			int64_t l = seq_to_off(e->iss + 1, e->snd_una, s->opts.sack[i].left);
			int64_t r = seq_to_off(e->iss + 1, e->snd_una, s->opts.sack[i].right);

			if (l >= (int64_t)e->snd_una && l < r && (uint64_t)r <= e->snd_max)
				range_insert(e->sacked, &e->nsacked, (uint64_t)l, (uint64_t)r);
		}
	}
	if ((uint64_t)aoff > e->snd_una) {
		uint64_t a = (uint64_t)aoff;
		uint64_t acked = a - e->snd_una;
		size_t k = 0;

		if (e->cwnd < e->ssthresh)
			e->cwnd += acked < e->mss ? acked : e->mss;
		else
			e->cwnd += (uint64_t)e->mss * e->mss / e->cwnd + 1;
		while (k < e->nsacked && e->sacked[k].end <= a)
			k++;
		memmove(e->sacked, e->sacked + k, (e->nsacked - k) * sizeof(e->sacked[0]));
		e->nsacked -= k;
		if (e->in_recovery && a >= e->recover)
			e->in_recovery = false;
		if (e->rtx_hi && a >= e->rtx_hi)
			e->rtx_hi = 0;
		if (e->rtt_timing && a >= e->rtt_end) {
			rtt_sample(e, e->now - e->rtt_t0);
			e->rtt_timing = false;
		}
		e->snd_una = a;
		if (e->snd_nxt < a)
			e->snd_nxt = a;
		if (e->snd_max < a)
			e->snd_max = a;
		e->retries_cur = 0;
		e->dupacks = 0;
		e->persist_shift = 0;
		e->probe_sent = false;
		arm_rto(e);
	} else if ((uint64_t)aoff == e->snd_una && seglen == 0 && e->snd_max > e->snd_una &&
		   e->wnd_known && (wnd == e->snd_wnd || (e->sack_ok && s->opts.nsack))) {
		/* A duplicate ACK; with SACK, a window update (receive buffer
		 * auto-tuning) does not hide one. */
		if (++e->dupacks == 3 && !e->rtx_hi && !e->nsacked)
			start_rexmit(e, e->snd_una, e->snd_una + e->mss);
	}
	sack_recovery(e);
	e->probes = 0;
	if (!e->wnd_known || e->wl1 < (uint64_t)seg_off ||
	    (e->wl1 == (uint64_t)seg_off && e->wl2 <= (uint64_t)aoff)) {
		e->snd_wnd = wnd;
		e->wl1 = (uint64_t)seg_off;
		e->wl2 = (uint64_t)aoff;
		e->wnd_known = true;
	}
}

static void input_syn_states(struct lp_engine *e, const struct lp_seg *s)
{
	if (e->tcp == T_LISTEN) {
		if ((s->flags & (LP_TH_SYN | LP_TH_ACK | LP_TH_RST)) != LP_TH_SYN)
			return;
		e->irs = s->seq;
		negotiate(e, &s->opts);
		e->snd_wnd = s->window;
		e->wnd_known = true;
		e->tcp = T_SYN_RCVD;
		e->syn_pending = true;
		return;
	}
	/* T_SYN_SENT */
	if ((s->flags & LP_TH_ACK) && s->ack != e->iss + 1 && !(s->flags & LP_TH_RST)) {
		/* An unacceptable ACK (RFC 9293 3.10.7.3): most often a host whose
		 * old connection on these ports is in TIME-WAIT and took our SYN
		 * for a stray. A reset <SEQ=SEG.ACK><CTL=RST> clears that, and the
		 * SYN's retransmission then gets through. */
		e->synsent_rst = true;
		e->synsent_rst_seq = s->ack;
		return;
	}
	if (!(s->flags & LP_TH_ACK) || s->ack != e->iss + 1)
		return;
	if (s->flags & LP_TH_RST) {
		fail(e, "connection refused (reset by peer)");
		e->tcp = T_CLOSED;
		return;
	}
	if (!(s->flags & LP_TH_SYN))
		return;
	e->irs = s->seq;
	negotiate(e, &s->opts);
	e->snd_wnd = s->window;
	e->wnd_known = true;
	e->wl1 = 0;
	e->wl2 = 0;
	e->syn_acked = true;
	e->tcp = T_ESTAB;
	e->ack_now = true;
	e->retries_cur = 0;
	if (e->rtt_timing) {
		rtt_sample(e, e->now - e->rtt_t0);
		e->rtt_timing = false;
	}
	e->rto_at = 0;
	emit(e, LP_EV_CONNECTED, e->me, 0, 0, 0, NULL);
}

int lp_engine_input(struct lp_engine *e, const uint8_t *pkt, size_t len, uint64_t now_ns)
{
	struct lp_seg s;
	int64_t soff;
	uint64_t seglen, wnd;
	bool acceptable;
	int rc;

	e->now = now_ns;
	rc = lp_pkt_parse(pkt, len, &s);
	if (rc < 0) {
		e->st.packets_ignored++;
		return rc == -EINVAL ? -EINVAL : 0;
	}
	if (!tuple_ok(e, &s) || e->tcp == T_CLOSED) {
		e->st.packets_ignored++;
		return 0;
	}
	e->st.packets_in++;
	if (e->tcp == T_LISTEN || e->tcp == T_SYN_SENT) {
		input_syn_states(e, &s);
		progress(e);
		return 0;
	}
	if ((s.flags & LP_TH_SYN) && !(s.flags & LP_TH_RST)) {
		/* A retransmitted SYN (our SYN-ACK was lost) or SYN-ACK (our ACK was). */
		if (e->tcp == T_SYN_RCVD && s.seq == e->irs && !(s.flags & LP_TH_ACK))
			e->syn_pending = true;
		else
			e->ack_now = true;
		return 0;
	}
	soff = seq_to_off(e->irs + 1, e->rcv_nxt, s.seq);
	seglen = s.len + ((s.flags & LP_TH_FIN) ? 1 : 0);
	wnd = e->rcv_buf;
	if (s.flags & LP_TH_RST) {
		if (soff == (int64_t)(e->rcv_nxt + (e->peer_fin ? 1 : 0)))
			on_reset(e);
		else if (soff >= (int64_t)e->rcv_nxt && (uint64_t)soff < e->rcv_nxt + wnd)
			e->ack_now = true; /* challenge ACK, RFC 5961 */
		else
			e->st.packets_ignored++;
		return 0;
	}
	if (seglen == 0)
		acceptable = soff >= (int64_t)e->rcv_nxt - 1 && soff <= (int64_t)(e->rcv_nxt + wnd);
	else
		acceptable = soff < (int64_t)(e->rcv_nxt + wnd) &&
			     soff + (int64_t)seglen > (int64_t)e->rcv_nxt;
	if (!acceptable) {
		e->st.packets_ignored++;
		if (seglen)
			e->ack_now = true;
		return 0;
	}
	if (!(s.flags & LP_TH_ACK))
		return 0;
	if (e->tcp == T_SYN_RCVD) {
		if (seq_to_off(e->iss + 1, 0, s.ack) < 0)
			return 0;
		e->syn_acked = true;
		e->tcp = T_ESTAB;
		e->retries_cur = 0;
		if (e->rtt_timing) {
			rtt_sample(e, e->now - e->rtt_t0);
			e->rtt_timing = false;
		}
		e->rto_at = 0;
		emit(e, LP_EV_CONNECTED, e->me, 0, 0, 0, NULL);
	}
	if (e->ts_ok && s.opts.has_ts && soff <= (int64_t)e->rcv_nxt &&
	    (!e->ts_seen || (int32_t)(s.opts.tsval - e->ts_recent) >= 0)) {
		e->ts_recent = s.opts.tsval;
		e->ts_seen = true;
	}
	on_ack(e, &s, soff, seglen);
	if (s.len)
		on_data(e, soff, s.payload, s.len);
	if (s.flags & LP_TH_FIN) {
		uint64_t fo = (uint64_t)(soff + (int64_t)s.len);

		e->ack_now = true;
		if (!e->peer_fin) {
			e->peer_fin_pending = true;
			e->peer_fin_off = fo;
			ooo_drain(e);
		}
	}
	progress(e);
	return 0;
}

static int build(struct lp_engine *e, uint8_t *buf, size_t cap, uint8_t flags, uint64_t off,
		 uint32_t len, bool syn)
{
	struct lp_seg s;
	size_t alen = e->cfg.local.family == AF_INET ? 4 : 16;
	uint64_t win;
	int n;

	memset(&s, 0, sizeof(s));
	s.family = e->cfg.local.family;
	memcpy(s.src, e->cfg.local.addr, alen);
	memcpy(s.dst, e->cfg.remote.addr, alen);
	s.sport = e->cfg.local.port;
	s.dport = e->cfg.remote.port;
	s.flags = flags;
	if (syn) {
		const struct lp_synopts *o = &e->offer;

		s.seq = e->iss;
		s.window = (uint16_t)(e->rcv_buf > 65535 ? 65535 : e->rcv_buf);
		s.opts.has_mss = true;
		s.opts.mss = o->mss;
		if (e->tcp == T_SYN_RCVD) {
			s.opts.has_wscale = e->ws_ok;
			s.opts.sack_ok = e->sack_ok;
			s.opts.has_ts = e->ts_ok;
		} else {
			s.opts.has_wscale = o->has_wscale;
			s.opts.sack_ok = o->sack_ok;
			s.opts.has_ts = o->has_ts;
		}
		s.opts.wscale = o->wscale;
	} else {
		s.seq = snd_seq(e, off);
		win = e->rcv_buf >> e->rcv_ws;
		s.window = (uint16_t)(win > 65535 ? 65535 : win);
		s.opts.has_ts = e->ts_ok;
		if (e->sack_ok && e->nooo) {
			for (size_t i = 0; i < e->nooo && i < 3; i++) {
				s.opts.sack[i].left = e->irs + 1 + (uint32_t)e->ooo[i].start;
				s.opts.sack[i].right = e->irs + 1 + (uint32_t)e->ooo[i].end;
				s.opts.nsack++;
			}
		}
	}
	if (s.opts.has_ts) {
		s.opts.tsval = tsval_now(e);
		s.opts.tsecr = (flags & LP_TH_ACK) ? e->ts_recent : 0;
	}
	if (flags & LP_TH_ACK)
		s.ack = rcv_ack(e);
	if (len) {
		uint64_t contig, run;
		uint64_t c = wire_to_capture(e, off, &contig);
		const struct lp_stream *st = &e->fl->dir[e->me];

		/* Straight from the capture when it holds the bytes in one run. */
		s.payload = lp_stream_at(st, c, &run);
		if (!s.payload || run < len) {
			if (e->scratch_len < len) {
				uint8_t *ns = realloc(e->scratch, len);

				if (!ns)
					return -ENOMEM;
				e->scratch = ns;
				e->scratch_len = len;
			}
			lp_stream_copy(st, c, len, e->scratch);
			s.payload = e->scratch;
		}
		s.len = len;
	}
	n = lp_pkt_build(buf, cap, &s);
	if (n > 0) {
		e->st.packets_out++;
		e->ack_now = false;
	}
	return n;
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

static uint32_t label_at_wire(const struct lp_engine *e, uint64_t off)
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

/* Send up to max bytes from wire offset off; advance moves snd_nxt (new or
 * go-back-N data), otherwise it is a one-off (fast retransmit, probe). */
static int send_data(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t off, uint64_t max,
		     bool advance)
{
	uint64_t len = e->app_len - off, contig;
	uint8_t flags = LP_TH_ACK;
	bool rtx = off < e->snd_max;
	uint64_t end;
	int n;

	if (len > e->mss)
		len = e->mss;
	if (len > max)
		len = max;
	wire_to_capture(e, off, &contig);
	if (len > contig)
		len = contig;
	end = off + len;
	if (end == e->app_len && e->fin_queued)
		flags |= LP_TH_FIN;
	if (end == e->app_len || len == e->mss)
		flags |= LP_TH_PSH;
	n = build(e, buf, cap, flags, off, (uint32_t)len, false);
	if (n < 0)
		return n;
	if (!rtx)
		first_tx_labels(e, off, len);
	e->st.sent_segments++;
	e->st.sent_bytes += len;
	if (rtx) {
		e->st.retransmissions++;
		emit(e, LP_EV_RETRANSMIT, e->me, label_at_wire(e, off), off, len, NULL);
	} else if (!e->rtt_timing) {
		e->rtt_timing = true;
		e->rtt_end = end;
		e->rtt_t0 = e->now;
	}
	if (flags & LP_TH_FIN) {
		end++;
		if (end > e->snd_max)
			emit(e, LP_EV_FIN_SENT, e->me, 0, e->app_len, 0, NULL);
	}
	if (advance) {
		e->snd_nxt = end;
		if (e->snd_max < end)
			e->snd_max = end;
	}
	if (!e->rto_at && !e->probe_sent)
		arm_rto(e);
	return n;
}

static bool fresh_data_due(const struct lp_engine *e)
{
	uint64_t wnd = e->snd_wnd < e->cwnd ? e->snd_wnd : e->cwnd;

	return e->tcp == T_ESTAB && e->snd_nxt >= e->snd_max && e->snd_nxt < e->app_len &&
	       e->snd_nxt < e->snd_una + wnd;
}

int lp_engine_output(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t now_ns)
{
	uint64_t wnd_end, cw;
	int n;

	e->now = now_ns;
	e->out_first = e->out_last = 0;
	/* A reset the fault plan asked for goes out after what the application
	 * had already written and the window lets out: "instead of" the segment,
	 * not instead of the ones before it. */
	if (e->rst_pending && !(e->rst_fault && fresh_data_due(e))) {
		uint8_t fl = LP_TH_RST | (e->tcp >= T_SYN_RCVD ? LP_TH_ACK : 0);

		n = build(e, buf, cap, fl, e->snd_nxt, 0, false);
		if (n < 0)
			return n;
		e->rst_pending = false;
		e->tcp = T_CLOSED;
		emit(e, LP_EV_RST_SENT, e->me, 0, e->snd_nxt, 0, NULL);
		if (e->rst_fault) {
			fail(e, "reset sent (fault)");
		} else if (e->state == LP_ENGINE_RUNNING) {
			if (have(e) < e->peer_len)
				diverge(e, peer_label_at(e, e->rcv_nxt), e->peer_len, e->rcv_nxt, -1,
					"peer sent fewer bytes");
			e->state = LP_ENGINE_DONE;
			e->rto_at = e->persist_at = e->expect_at = 0;
			emit(e, LP_EV_DONE, e->me, 0, 0, 0, NULL);
		}
		return n;
	}
	if (e->tcp == T_CLOSED || e->tcp == T_LISTEN)
		return 0;
	if (e->state == LP_ENGINE_FAILED)
		return 0;
	if (e->synsent_rst && e->tcp == T_SYN_SENT) {
		/* SEQ = the ACK's ack field, as an offset from our first byte. */
		n = build(e, buf, cap, LP_TH_RST, (uint32_t)(e->synsent_rst_seq - snd_seq(e, 0)), 0, false);
		if (n < 0)
			return n;
		e->synsent_rst = false;
		emit(e, LP_EV_RST_SENT, e->me, 0, 0, 0, "unacceptable ACK to our SYN");
		return n;
	}
	if (e->syn_pending) {
		uint8_t fl = LP_TH_SYN | (e->tcp == T_SYN_RCVD ? LP_TH_ACK : 0);
		bool again = e->rto_at != 0 || e->retries_cur;

		n = build(e, buf, cap, fl, 0, 0, true);
		if (n < 0)
			return n;
		e->syn_pending = false;
		if (again) {
			e->st.retransmissions++;
			emit(e, LP_EV_RETRANSMIT, e->me, 0, 0, 0, "SYN");
			e->rtt_timing = false;
		} else {
			e->rtt_timing = true;
			e->rtt_t0 = now_ns;
			e->rtt_end = 0;
		}
		e->rto_at = now_ns + rto_backed_off(e);
		return n;
	}
	if (e->tcp != T_ESTAB)
		return 0;
	/* Limited transmit (RFC 3042): each of the first two duplicate ACKs
	 * lets one more segment out, so that a small flight still gets three. */
	cw = e->cwnd + (e->dupacks < 3 ? (uint64_t)e->dupacks * e->mss : 0);
	wnd_end = e->snd_una + (e->snd_wnd < cw ? e->snd_wnd : cw);
	if (e->snd_nxt < e->snd_max) {
		/* Retransmission: skip what the peer SACKed, stop at rtx_hi. */
		uint64_t hi = e->rtx_hi ? e->rtx_hi : e->snd_max;
		size_t k = 0;

		while (k < e->nsacked && e->snd_nxt < hi) {
			if (e->sacked[k].end <= e->snd_nxt) {
				k++;
			} else if (e->sacked[k].start <= e->snd_nxt) {
				e->snd_nxt = e->sacked[k].end;
				k++;
			} else {
				if (hi > e->sacked[k].start)
					hi = e->sacked[k].start;
				break;
			}
		}
		if (e->snd_nxt >= (e->rtx_hi ? e->rtx_hi : e->snd_max)) {
			e->snd_nxt = e->snd_max;
		} else if (e->snd_nxt < e->app_len) {
			uint64_t lim = e->in_recovery ? e->snd_una + e->snd_wnd : wnd_end;

			if (lim > hi)
				lim = hi;
			if (e->snd_nxt < lim)
				return send_data(e, buf, cap, e->snd_nxt, lim - e->snd_nxt, true);
		}
	}
	if (e->snd_nxt >= e->snd_max && e->snd_nxt < e->app_len && e->snd_nxt < wnd_end)
		return send_data(e, buf, cap, e->snd_nxt, wnd_end - e->snd_nxt, true);
	if (e->fin_queued && e->snd_nxt == e->app_len) {
		bool rtx = e->snd_max > e->app_len;

		n = build(e, buf, cap, LP_TH_FIN | LP_TH_ACK, e->app_len, 0, false);
		if (n < 0)
			return n;
		e->snd_nxt = e->app_len + 1;
		if (e->snd_max < e->snd_nxt)
			e->snd_max = e->snd_nxt;
		if (rtx) {
			e->st.retransmissions++;
			emit(e, LP_EV_RETRANSMIT, e->me, 0, e->app_len, 0, "FIN");
		} else {
			emit(e, LP_EV_FIN_SENT, e->me, 0, e->app_len, 0, NULL);
		}
		if (!e->rto_at)
			arm_rto(e);
		return n;
	}
	if (e->probe_due) {
		e->probe_due = false;
		if (e->snd_una < e->app_len) {
			e->probe_sent = true;
			return send_data(e, buf, cap, e->snd_una, 1, false);
		}
	}
	if (e->ack_now)
		return build(e, buf, cap, LP_TH_ACK, e->snd_nxt, 0, false);
	return 0;
}

void lp_engine_output_labels(const struct lp_engine *e, uint32_t *first, uint32_t *last)
{
	*first = e->out_first;
	*last = e->out_last;
}

uint64_t lp_engine_next_timer(const struct lp_engine *e)
{
	uint64_t t = UINT64_MAX;
	uint64_t c[4] = { e->rto_at, e->persist_at, e->expect_at, e->release_at };

	if (e->state == LP_ENGINE_FAILED)
		return UINT64_MAX;
	for (int i = 0; i < 4; i++)
		if (c[i] && c[i] < t)
			t = c[i];
	return t;
}

static void on_rto(struct lp_engine *e)
{
	e->rto_at = 0;
	if (e->retries_cur >= e->cfg.retries) {
		fail(e, "peer unresponsive");
		return;
	}
	e->retries_cur++;
	e->rtt_timing = false;
	e->dupacks = 0;
	if (!e->syn_acked || e->tcp == T_SYN_SENT || e->tcp == T_SYN_RCVD) {
		e->syn_pending = true;
		e->rto_at = e->now + rto_backed_off(e);
		return;
	}
	e->ssthresh = flight_half(e);
	e->cwnd = e->mss;
	e->nsacked = 0;
	e->in_recovery = false;
	e->rexmit_done = 0;
	e->rtx_hi = e->snd_max;
	e->snd_nxt = e->snd_una;
	arm_rto(e);
	if (!e->rto_at)
		e->rto_at = e->now + rto_backed_off(e);
}

void lp_engine_timeout(struct lp_engine *e, uint64_t now_ns)
{
	e->now = now_ns;
	if (e->state == LP_ENGINE_FAILED)
		return;
	if (e->rto_at && now_ns >= e->rto_at)
		on_rto(e);
	if (e->state != LP_ENGINE_RUNNING && e->state != LP_ENGINE_DONE)
		return;
	if (e->persist_at && now_ns >= e->persist_at) {
		e->persist_at = 0;
		if (e->probes >= e->cfg.retries + 1) {
			fail(e, "peer unresponsive (zero window)");
			return;
		}
		e->probes++;
		e->probe_due = true;
		e->st.retransmissions++;
		emit(e, LP_EV_RETRANSMIT, e->me, label_at_wire(e, e->snd_una), e->snd_una, 1,
		     "window probe");
		if (e->persist_shift < 10)
			e->persist_shift++;
	}
	if (e->expect_at && now_ns >= e->expect_at) {
		e->expect_at = 0;
		e->expect_fired = true;
	}
	progress(e);
}

enum lp_role lp_engine_role(const struct lp_engine *e)
{
	return e->cfg.role;
}

enum lp_engine_state lp_engine_state(const struct lp_engine *e)
{
	return e->state;
}

const char *lp_engine_reason(const struct lp_engine *e)
{
	return e->reason;
}

void lp_engine_stats(const struct lp_engine *e, struct lp_engine_stats *st)
{
	*st = e->st;
	st->connected = e->syn_acked;
	st->acked_bytes = e->snd_una < e->app_len ? e->snd_una : e->app_len;
}

const struct lp_divergence *lp_engine_divergence(const struct lp_engine *e, uint32_t i)
{
	if (i >= e->st.ndivergences || i >= MAX_DIV)
		return NULL;
	return &e->div[i];
}

static int build_schedule(struct lp_engine *e)
{
	const struct lp_flow *fl = e->fl;
	uint64_t prev_ts = fl->first_ts;
	size_t nm = 0, nt = 0, nd = 0;

	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];

		if (s->dir == e->me) {
			if (s->len || (s->flags & (LP_TH_FIN | LP_TH_RST)))
				nm++;
			if (s->len)
				nd++;
		} else if (s->len) {
			nt++;
		}
	}
	e->mine = calloc(nm ? nm : 1, sizeof(*e->mine));
	e->theirs = calloc(nt ? nt : 1, sizeof(*e->theirs));
	e->wstart = calloc(nd ? nd : 1, sizeof(*e->wstart));
	e->wlabel = calloc(nd ? nd : 1, sizeof(*e->wlabel));
	if (!e->mine || !e->theirs || !e->wstart || !e->wlabel)
		return -ENOMEM;
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];

		if (s->dir != e->me && s->len)
			e->theirs[e->ntheirs++] = (uint32_t)i;
	}
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];
		uint64_t base = prev_ts;

		if (s->dir != e->me || !(s->len || (s->flags & (LP_TH_FIN | LP_TH_RST))))
			continue;
		/* Think-time: from our previous segment or the peer segment that
		 * completed this one's causal link, whichever came later. */
		if (s->ack > 0 && e->ntheirs) {
			const struct lp_segment *q = peer_seg(e, peer_index_at(e, s->ack - 1));

			if (q->ts_ns > base && q->ts_ns <= s->ts_ns)
				base = q->ts_ns;
		}
		e->mine[e->nmine].s = s;
		e->mine[e->nmine].gap_ns = s->ts_ns > base ? s->ts_ns - base : 0;
		e->nmine++;
		prev_ts = s->ts_ns;
	}
	return 0;
}

int lp_engine_new(const struct lp_flow *fl, const struct lp_engine_cfg *cfg, struct lp_engine **out)
{
	struct lp_engine *e;
	const struct lp_synopts *cap;
	int rc;

	if (!fl || !cfg || !out || (cfg->role != LP_ROLE_CLIENT && cfg->role != LP_ROLE_SERVER) ||
	    cfg->rto_jitter_pct > 100)
		return -EINVAL;
	if ((cfg->local.family != AF_INET && cfg->local.family != AF_INET6) ||
	    cfg->remote.family != cfg->local.family)
		return -EINVAL;
	if (cfg->role == LP_ROLE_CLIENT && (cfg->local.port == 0 || cfg->remote.port == 0))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fl = fl;
	e->cfg = *cfg;
	if (e->cfg.rto_init_ms == 0)
		e->cfg.rto_init_ms = 1000;
	e->me = cfg->role == LP_ROLE_CLIENT ? LP_C2S : LP_S2C;
	e->peer = (uint8_t)(1 - e->me);
	e->iss = cfg->isn;
	e->peer_len = fl->dir[e->peer].len;
	e->peer_close_expected = fl->dir[e->peer].fin || fl->dir[e->peer].rst;
	e->st.expected_received_bytes = e->peer_len;
	e->st.first_diff = -1;
	e->short_at = UINT64_MAX;
	e->ssthresh = UINT64_MAX;
	e->rto_ns = rto_clamp(e, (uint64_t)e->cfg.rto_init_ms * NS_PER_MS);
	lp_rng_seed(&e->jitter, cfg->rto_jitter_seed);
	e->rcv_buf = cfg->rcv_wnd ? cfg->rcv_wnd : DEFAULT_RCVBUF;

	cap = &fl->dir[e->me].opts;
	if (cap->seen) {
		e->offer = *cap;
		if (!cap->has_mss)
			e->offer.mss = 0;
	} else {
		e->offer.has_wscale = true;
		e->offer.wscale = 7;
		e->offer.sack_ok = true;
		e->offer.has_ts = true;
	}
	if (cfg->mss)
		e->offer.mss = cfg->mss;
	else if (!e->offer.mss)
		e->offer.mss = cfg->local.family == AF_INET6 ? 1440 : 1460;
	e->offer.has_mss = true;
	if (e->offer.wscale > 14)
		e->offer.wscale = 14;
	if (!e->offer.has_wscale && e->rcv_buf > 65535)
		e->rcv_buf = 65535;
	else if (e->rcv_buf > (uint64_t)65535 << e->offer.wscale)
		e->rcv_buf = (uint64_t)65535 << e->offer.wscale;
	if (e->rcv_buf < 1024)
		e->rcv_buf = 1024;

	rc = build_schedule(e);
	if (rc < 0)
		goto out;
	e->ooo_buf = malloc(e->rcv_buf);
	if (!e->ooo_buf) {
		rc = -ENOMEM;
		goto out;
	}
	if (cfg->role == LP_ROLE_CLIENT) {
		e->tcp = T_SYN_SENT;
		e->syn_pending = true;
	} else {
		e->tcp = T_LISTEN;
	}
	*out = e;
	return 0;
out:
	lp_engine_free(e);
	return rc;
}

void lp_engine_free(struct lp_engine *e)
{
	if (!e)
		return;
	free(e->mine);
	free(e->theirs);
	free(e->wstart);
	free(e->wlabel);
	free(e->scratch);
	free(e->ooo_buf);
	free(e);
}

int lp_match_parse(const char *s, enum lp_match *out)
{
	static const char *const names[] = { "stream", "size", "bytes" };

	for (int i = 0; i < 3; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum lp_match)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *lp_match_str(enum lp_match m)
{
	switch (m) {
	case LP_MATCH_STREAM:
		return "stream";
	case LP_MATCH_SIZE:
		return "size";
	case LP_MATCH_BYTES:
		return "bytes";
	}
	return "?";
}

int lp_timing_parse(const char *s, struct lp_timing *out)
{
	char *end;
	double v;

	if (strcmp(s, "asap") == 0) {
		out->mode = LP_TIMING_ASAP;
		out->speed = 1.0;
		return 0;
	}
	if (strcmp(s, "capture") == 0) {
		out->mode = LP_TIMING_CAPTURE;
		out->speed = 1.0;
		return 0;
	}
	if (s[0] != 'x' || s[1] == '\0' || s[1] == '-' || s[1] == '+' || s[1] == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s + 1, &end);
	if (errno || *end != '\0' || !(v >= 0.001 && v <= 1000000.0))
		return -EINVAL;
	out->mode = LP_TIMING_CAPTURE;
	out->speed = v;
	return 0;
}

uint16_t lp_engine_pick_mss(const struct lp_synopts *so, int family, unsigned mtu)
{
	unsigned hdr = family == AF_INET ? LP_IPV4_HDR + LP_TCP_HDR : LP_IPV6_HDR + LP_TCP_HDR;
	unsigned mss = so->seen && so->has_mss ? so->mss : family == AF_INET ? 1460 : 1440;

	if (mtu > hdr + 64 && mss > mtu - hdr)
		mss = mtu - hdr;
	return (uint16_t)mss;
}

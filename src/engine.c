/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The replay engine: one TCP endpoint (RFC 9293) whose application is one
 * side of a captured flow. This file holds the application: the captured
 * schedule, what the peer is expected to deliver, the verdict; and the
 * public calls. The receive path is engine_rx.c, the send path engine_tx.c
 * (engine_int.h says who does what).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_int.h"
#include "tcpliveplay/fault.h"

/* The window offered by default: a sixteenth of what the capture shows the
 * peer sending, within these bounds (Linux grows its receive buffer with a
 * transfer; at veth speed 256 KiB is a quarter of a millisecond). */
#define RCVBUF_MIN (256u * 1024u)
#define RCVBUF_MAX (8u * 1024u * 1024u)
/* Our stream released beyond what the peer's window lets out: a margin
 * (the window alone bounds what the send path may put in flight). */
#define RELEASE_AHEAD (256u * 1024u)

void lp_engine_cfg_defaults(struct lp_engine_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->match = LP_MATCH_STREAM;
	cfg->timing.mode = LP_TIMING_ASAP;
	cfg->timing.speed = 1.0;
	cfg->rto_min_ms = 200;
	cfg->rto_init_ms = 1000;
	cfg->retries = 6;
	cfg->expect_timeout_ms = 10000;
}

void eng_emit(struct lp_engine *e, enum lp_event_kind kind, uint8_t dir, uint32_t label,
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
	return sched_peer_index(e->fl, e->theirs, e->ntheirs, off);
}

uint32_t eng_peer_label_at(const struct lp_engine *e, uint64_t off)
{
	return e->ntheirs ? peer_seg(e, peer_index_at(e, off))->label : 0;
}

void eng_diverge(struct lp_engine *e, uint32_t label, uint64_t expected, uint64_t received,
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

/* The replay failed: a connection still open is reset, as a kernel resets
 * one whose application goes away with data unread. */
void eng_fail(struct lp_engine *e, const char *reason)
{
	if (e->state != LP_ENGINE_RUNNING)
		return;
	e->state = LP_ENGINE_FAILED;
	e->reason = reason;
	e->rto_at = e->persist_at = e->expect_at = e->release_at = e->delack_at = e->ka_at = 0;
	tx_queue_abort(e);
	eng_emit(e, LP_EV_FAILED, e->me, 0, 0, 0, reason);
}

void eng_done(struct lp_engine *e, const char *reason)
{
	e->state = LP_ENGINE_DONE;
	e->rto_at = e->persist_at = e->expect_at = e->ka_at = 0;
	/* What is owed goes out now. */
	if (e->delack_at)
		e->ack_now = true;
	e->delack_at = 0;
	eng_emit(e, LP_EV_DONE, e->me, 0, 0, 0, reason);
}

/* Where the bytes of wire offset w live in the captured stream. */
uint64_t eng_wire_to_capture(const struct lp_engine *e, uint64_t w, uint64_t *contig)
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
uint64_t eng_have(const struct lp_engine *e)
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
	if (eng_have(e) < e->peer_len && !e->tail_waived)
		return;
	if (e->peer_close_expected && !e->peer_fin && !e->close_waived)
		return;
	if (e->cfg.match == LP_MATCH_SIZE && !e->size_end_checked) {
		e->size_end_checked = true;
		if (eng_have(e) > e->peer_len)
			eng_diverge(e, eng_peer_label_at(e, e->peer_len), e->peer_len, e->rcv_nxt,
				    -1, "more bytes than captured");
	}
	eng_done(e, NULL);
}

static void release_data(struct lp_engine *e, const struct lp_segment *s)
{
	uint32_t arg = 0;
	uint64_t len = s->len;
	enum lp_fault_kind fk = LP_FAULT_NONE;

	if (e->cfg.faults)
		fk = lp_fault_app_action(e->cfg.faults, (enum lp_fault_side)e->cfg.role, s->label,
					 e->now, &arg);
	if (fk == LP_FAULT_STALL) {
		e->stalled = true;
		eng_emit(e, LP_EV_FAULT, e->me, s->label, s->offset, 0, "stall");
		return;
	}
	if (fk == LP_FAULT_RST) {
		e->rst_pending = true;
		e->rst_fault = true;
		e->stalled = true;
		eng_emit(e, LP_EV_FAULT, e->me, s->label, s->offset, 0, "rst");
		return;
	}
	if (fk == LP_FAULT_TRUNCATE && arg < len) {
		eng_emit(e, LP_EV_FAULT, e->me, s->label, s->offset, arg, "truncate");
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
	eng_emit(e, LP_EV_SENT, e->me, s->label, e->app_len, len, NULL);
	e->app_len += len;
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
		eng_diverge(e, eng_peer_label_at(e, fd >= 0 ? (uint64_t)fd : e->rcv_nxt), need,
			    e->rcv_nxt, fd, why);
		e->short_at = e->rcv_nxt;
	}
	if (need > eng_have(e))
		e->slack += need - eng_have(e);
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
	return peer_seg(e, peer_index_at(e, eng_have(e)))->ack > e->app_len;
}

/* A stall fault stopped our application; we go on acknowledging. When the
 * peer closes, we close too; when it stays quiet (nothing of ours in flight,
 * no new bytes for twice the expectation timeout: a peer waiting on us with
 * the same timeout gives up first, and may close), the replay ends with a
 * reset. Either way it failed: the report names the fault. */
static void stall_progress(struct lp_engine *e)
{
	if (e->peer_fin && !e->fin_queued) {
		e->fin_queued = true;
		e->expect_at = 0;
	} else if (e->fin_queued) {
		if (all_acked(e)) {
			e->tcp = T_CLOSED;
			eng_fail(e, "stalled: closed after the peer did");
		}
	} else if (e->expect_fired) {
		e->expect_fired = false;
		eng_fail(e, "stalled: the peer sent nothing more");
	} else if (all_acked(e) && e->snd_una >= e->snd_max) {
		if (!e->expect_at && e->cfg.expect_timeout_ms)
			e->expect_at = e->now + 2 * (uint64_t)e->cfg.expect_timeout_ms * NS_PER_MS;
	} else {
		e->expect_at = 0;
	}
}

/* Is our send buffer full: as much released as the send path could put in
 * flight before it hears from the peer again (the peer's window), and
 * RELEASE_AHEAD more? Releasing a long stream at once would hold its first
 * data back for a walk over all of it (0.5 ms for 100 MiB); released this
 * way, what goes on the wire is the same: every byte the window lets go is
 * there, in whole segments. */
static bool sndbuf_full(const struct lp_engine *e)
{
	return e->app_len >= e->snd_una + e->snd_wnd + RELEASE_AHEAD;
}

/* Release every captured segment of ours whose causal link is satisfied,
 * as far as the send buffer takes them. */
void eng_progress(struct lp_engine *e)
{
	bool waiting = false;

	if (e->state != LP_ENGINE_RUNNING || e->tcp != T_ESTAB)
		return;
	e->release_held = false;
	while (e->rel < e->nmine && !e->stalled && !e->rst_pending) {
		const struct mseg *m = &e->mine[e->rel];
		const struct lp_segment *s = m->s;
		uint64_t need = s->ack < e->peer_len ? s->ack : e->peer_len;

		if (eng_have(e) < need) {
			if (!e->peer_fin && !e->expect_fired) {
				waiting = true;
				break;
			}
			if (!e->peer_fin && wait_no_answer(e, need))
				return;
			e->expect_fired = false;
			shortfall(e, need, e->peer_fin ? "peer closed early" : "peer sent fewer bytes");
			e->last_met = need;
		} else if (need > e->last_met) {
			if (e->cfg.match == LP_MATCH_SIZE && eng_have(e) > need &&
			    s->len > 0 && boundary_is_causal(e, s, need))
				eng_diverge(e, eng_peer_label_at(e, need), need, e->rcv_nxt, -1,
					    "peer message larger than captured");
			eng_emit(e, LP_EV_EXPECT_MET, e->peer, eng_peer_label_at(e, need - 1), 0, need,
				 NULL);
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
		if (s->len && sndbuf_full(e)) {
			/* Its think-time (if any) is over: what it waits for
			 * now is the peer, whose next segment calls us. */
			e->release_held = true;
			break;
		}
		e->release_at = 0;
		if (s->flags & LP_TH_RST) {
			/* After all we sent, our FIN too, is acknowledged: a
			 * reset released with the FIN would go first and the
			 * FIN never. */
			if (!all_acked(e))
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
	if (e->stalled && !e->rst_pending) {
		stall_progress(e);
		tx_update_persist(e);
		return;
	}
	/* The expectation timer runs while we wait for peer bytes and have
	 * nothing of ours outstanding. */
	if (!waiting && e->rel >= e->nmine && !e->rst_pending) {
		bool fired = e->expect_fired;

		if (eng_have(e) < e->peer_len && !e->tail_waived) {
			if (e->peer_fin) {
				shortfall(e, e->peer_len, "peer closed early");
			} else if (fired && wait_no_answer(e, e->peer_len)) {
				return;
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
				 * a missing FIN is a divergence, a missing reset only
				 * when a keepalive got its ACK (a peer that had reset
				 * would have answered it with another reset). */
				bool fin = e->fl->dir[e->peer].fin;

				e->close_waived = true;
				if (e->short_at != e->rcv_nxt && (fin || (e->ka_sent && !e->ka_unanswered)))
					eng_diverge(e, 0, 0, 0, -1, fin ? "peer did not close"
						    : "peer did not reset (the connection is alive: it answers keepalives)");
			} else {
				waiting = true;
			}
		}
	}
	wait_update(e, waiting && all_acked(e) && e->snd_una >= e->snd_max && !peer_waits_on_us(e));
	e->expect_fired = false;
	tx_update_persist(e);
	finish_check(e);
}

/* Our stream's bytes the peer's captured reset acknowledged (0 when it
 * acknowledged nothing). */
static uint64_t captured_rst_ack(const struct lp_engine *e)
{
	for (size_t i = e->fl->nsegs; i-- > 0;) {
		const struct lp_segment *g = &e->fl->segs[i];

		if (g->dir == e->peer && (g->flags & LP_TH_RST))
			return (g->flags & LP_TH_ACK) ? g->ack : 0;
	}
	return 0;
}

/* A reset from the peer is the captured end when the capture shows one and
 * every byte (and the FIN) it shows from the peer before it came: when it
 * comes relative to our own bytes still unsent or unacknowledged may differ
 * live (a server that answers early and closes while the client still
 * sends is reset by its kernel as soon as more data arrives, RFC 9293
 * 3.10.7.4 and RFC 2525 2.17). Any other reset fails the replay. */
void eng_peer_reset(struct lp_engine *e)
{
	const struct lp_stream *ps = &e->fl->dir[e->peer];
	uint64_t sent, contig, had;

	e->tcp = T_CLOSED;
	e->st.peer_reset = true;
	if (e->state != LP_ENGINE_RUNNING)
		return;
	if (!ps->rst || eng_have(e) < e->peer_len || (ps->fin && !e->peer_fin)) {
		eng_fail(e, "reset by peer");
		return;
	}
	e->peer_fin = true;
	/* An abort without a FIN before it (a host or a middlebox that resets
	 * on something we send) is as captured only once we have sent what
	 * the peer had from us when it reset in the capture. */
	sent = eng_wire_to_capture(e, e->snd_max, &contig);
	had = ps->fin ? 0 : captured_rst_ack(e);
	if (sent < had) {
		snprintf(e->why, sizeof(e->why), "peer reset before %c%" PRIu32 " (the capture shows the reset "
			 "after it)", e->me == LP_C2S ? 'C' : 'S', tx_label_at(e, sent));
		eng_diverge(e, 0, 0, 0, -1, e->why);
		eng_done(e, NULL);
		return;
	}
	eng_done(e, "reset by peer, as captured");
}

/* The window faults of our side in the plan: the window cap, and where each
 * zero window closes (the end of the peer's segment). */
static int window_faults_init(struct lp_engine *e)
{
	enum lp_fault_side side = (enum lp_fault_side)e->cfg.role;
	uint32_t label, ms;
	size_t n = 0;

	while (lp_fault_zero_window(e->cfg.faults, side, n, &label, &ms))
		n++;
	if (!n)
		return 0;
	e->zw = calloc(n, sizeof(*e->zw));
	if (!e->zw)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct zwin *z = &e->zw[i];

		lp_fault_zero_window(e->cfg.faults, side, i, &z->label, &z->ms);
		z->done = true;
		for (size_t k = 0; k < e->ntheirs; k++) {
			const struct lp_segment *q = peer_seg(e, k);

			if (q->label == z->label) {
				z->end = (uint64_t)q->offset + q->len;
				z->done = false;
				break;
			}
		}
	}
	e->nzw = n;
	return 0;
}

void eng_window_faults(struct lp_engine *e)
{
	for (size_t i = 0; i < e->nzw; i++) {
		struct zwin *z = &e->zw[i];
		struct lp_fault_fired f = {
			.side = (enum lp_fault_side)e->cfg.role, .kind = LP_FAULT_ZERO_WINDOW,
			.dir = e->peer, .label = z->label, .at_ns = e->now,
		};
		uint64_t until = e->now + (uint64_t)z->ms * NS_PER_MS;

		if (z->done || e->rcv_nxt < z->end)
			continue;
		z->done = true;
		if (until > e->zw_until)
			e->zw_until = until;
		lp_fault_plan_note(e->cfg.faults, &f);
		eng_emit(e, LP_EV_FAULT, e->peer, z->label, e->rcv_nxt, z->ms, "zero-window");
		e->ack_now = true;
	}
}

void eng_note_window_cap(struct lp_engine *e)
{
	struct lp_fault_fired f = {
		.side = (enum lp_fault_side)e->cfg.role, .kind = LP_FAULT_WINDOW, .at_ns = e->now,
	};

	if (!e->wnd_cap || e->wnd_cap_noted)
		return;
	e->wnd_cap_noted = true;
	lp_fault_plan_note(e->cfg.faults, &f);
	eng_emit(e, LP_EV_FAULT, e->me, 0, 0, e->wnd_cap, "window");
}

/* The think-time timer, unless the send buffer holds the release back. */
static uint64_t release_timer(const struct lp_engine *e)
{
	return e->release_held ? 0 : e->release_at;
}

uint64_t lp_engine_next_timer(const struct lp_engine *e)
{
	uint64_t t = UINT64_MAX;
	uint64_t c[7] = { e->rto_at, e->persist_at, e->expect_at, release_timer(e), e->zw_until, e->delack_at,
			  e->ka_at };

	if (e->state == LP_ENGINE_FAILED)
		return UINT64_MAX;
	for (int i = 0; i < 7; i++)
		if (c[i] && c[i] < t)
			t = c[i];
	return t;
}

/* Debugging output: which timers fire at now_ns. */
static void timers_due(struct lp_engine *e, uint64_t now_ns)
{
	static const char *const names[] = { "retransmission", "persist", "patience", "think-time",
					      "zero window reopens", "keepalive" };
	uint64_t at[] = { e->rto_at, e->persist_at, e->expect_at, release_timer(e), e->zw_until, e->ka_at };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]) && e->cfg.on_event; i++)
		if (at[i] && now_ns >= at[i])
			eng_emit(e, LP_EV_TIMER, e->me, 0, 0, 0, names[i]);
}

void lp_engine_timeout(struct lp_engine *e, uint64_t now_ns)
{
	e->now = now_ns;
	if (e->state == LP_ENGINE_FAILED)
		return;
	timers_due(e, now_ns);
	if (e->rto_at && now_ns >= e->rto_at)
		tx_on_rto(e);
	if (e->state != LP_ENGINE_RUNNING && e->state != LP_ENGINE_DONE)
		return;
	if (e->persist_at && now_ns >= e->persist_at)
		tx_on_persist(e);
	if (e->state != LP_ENGINE_RUNNING && e->state != LP_ENGINE_DONE)
		return;
	if (e->expect_at && now_ns >= e->expect_at) {
		e->expect_at = 0;
		e->expect_fired = true;
	}
	if (e->delack_at && now_ns >= e->delack_at) {
		e->delack_at = 0;
		e->ack_now = true;
	}
	wait_timer(e);
	if (e->state == LP_ENGINE_FAILED)
		return;
	if (e->zw_until && now_ns >= e->zw_until) {
		/* The zero window reopens: a window update says so. */
		e->zw_until = 0;
		e->ack_now = true;
	}
	eng_progress(e);
}

void lp_engine_abort(struct lp_engine *e, uint64_t now_ns)
{
	e->now = now_ns;
	if (e->state != LP_ENGINE_RUNNING)
		return;
	e->rto_at = e->persist_at = e->expect_at = e->release_at = e->ka_at = 0;
	tx_queue_abort(e);
	if (!e->abort_rst)
		e->tcp = T_CLOSED; /* not synchronized: nothing to reset */
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

const char *lp_engine_icmp_error(const struct lp_engine *e)
{
	return e->icmp_last[0] ? e->icmp_last : NULL;
}

void lp_engine_stats(const struct lp_engine *e, struct lp_engine_stats *st)
{
	*st = e->st;
	st->connected = e->syn_acked;
	st->path_mtu = e->pmtu;
	st->path_mtu_start = e->cfg.pmtu;
	st->acked_bytes = e->snd_una < e->app_len ? e->snd_una : e->app_len;
}

const struct lp_divergence *lp_engine_divergence(const struct lp_engine *e, uint32_t i)
{
	if (i >= e->st.ndivergences || i >= MAX_DIV)
		return NULL;
	return &e->div[i];
}

/* The schedule: the config's, or one of our own; and room to note where
 * each of our data segments goes on the wire (written before it is read:
 * not cleared: a block the heap hands out again would be written twice). */
static int schedule_init(struct lp_engine *e)
{
	const struct lp_schedule *sc = e->cfg.schedule;
	int rc;

	if (sc && (sc->fl != e->fl || sc->role != e->cfg.role))
		return -EINVAL;
	if (!sc) {
		rc = lp_schedule_new(e->fl, e->cfg.role, &e->own_sc);
		if (rc < 0)
			return rc;
		sc = e->own_sc;
	}
	e->mine = sc->mine;
	e->nmine = sc->nmine;
	e->theirs = sc->theirs;
	e->ntheirs = sc->ntheirs;
	e->wstart = malloc((sc->ndata ? sc->ndata : 1) * sizeof(*e->wstart));
	e->wlabel = malloc((sc->ndata ? sc->ndata : 1) * sizeof(*e->wlabel));
	return e->wstart && e->wlabel ? 0 : -ENOMEM;
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
	e->refused = lp_flow_refused(fl);
	e->st.expected_received_bytes = e->peer_len;
	e->st.first_diff = -1;
	e->short_at = UINT64_MAX;
	e->ssthresh = UINT64_MAX;
	e->rto_ns = tx_rto_clamp(e, (uint64_t)e->cfg.rto_init_ms * NS_PER_MS);
	lp_rng_seed(&e->jitter, cfg->rto_jitter_seed);
	e->rcv_buf = cfg->rcv_wnd;
	if (!e->rcv_buf)
		e->rcv_buf = e->peer_len / 16 < RCVBUF_MIN ? RCVBUF_MIN
			     : e->peer_len / 16 > RCVBUF_MAX ? RCVBUF_MAX : e->peer_len / 16;
	e->quick = QUICKACKS;
	e->pmtu = cfg->pmtu;

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
	/* A window fault's cap must be a window we can say: at least one unit
	 * of our scale. */
	if (cfg->faults)
		e->wnd_cap = lp_fault_window_cap(cfg->faults, (enum lp_fault_side)cfg->role);
	while (e->wnd_cap && e->offer.wscale && !(e->wnd_cap >> e->offer.wscale))
		e->offer.wscale--;
	if (!e->offer.has_wscale && e->rcv_buf > 65535)
		e->rcv_buf = 65535;
	else if (e->rcv_buf > (uint64_t)65535 << e->offer.wscale)
		e->rcv_buf = (uint64_t)65535 << e->offer.wscale;
	if (e->rcv_buf < 1024)
		e->rcv_buf = 1024;

	rc = schedule_init(e);
	if (rc < 0)
		goto out;
	if (cfg->faults) {
		rc = window_faults_init(e);
		if (rc < 0)
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
	lp_schedule_free(e->own_sc);
	free(e->wstart);
	free(e->wlabel);
	free(e->zw);
	free(e->ooo_buf);
	free(e);
}

int lp_engine_input_info(const struct lp_engine *e, const uint8_t *pkt, size_t len,
			 struct lp_pktinfo *pi)
{
	bool sync = e->tcp != T_LISTEN && e->tcp != T_SYN_SENT;
	struct lp_seg s;

	memset(pi, 0, sizeof(*pi));
	if (lp_pkt_parse(pkt, len, &s) < 0)
		return -EINVAL;
	pi->seq_off = (s.flags & LP_TH_SYN) ? 0 : sync ? (uint32_t)(s.seq - e->irs - 1) : s.seq;
	pi->ack_off = (s.flags & LP_TH_ACK) ? (uint32_t)(s.ack - e->iss - 1) : 0;
	pi->len = s.len;
	pi->flags = s.flags;
	if (s.len && sync && e->ntheirs) {
		int64_t o = seq_to_off(e->irs + 1, e->rcv_nxt, s.seq);
		uint64_t from = o > 0 ? (uint64_t)o : 0, to = (uint64_t)(o + (int64_t)s.len);

		if (to > e->peer_len)
			to = e->peer_len;
		if (from < to) {
			pi->first = pi->label = eng_peer_label_at(e, from);
			pi->last = eng_peer_label_at(e, to - 1);
		}
	}
	return 0;
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

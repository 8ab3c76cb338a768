/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Many client engines over one link: port-indexed dispatch, one timer heap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpliveplay/bytes.h"
#include "tcpliveplay/faultwire.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/multi.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/util.h"

#define PKT_BUF (65536 + LP_PKT_MAXHDR)
#define NOWHERE SIZE_MAX
/* Packets one engine may emit per turn before the loop looks at the others. */
#define MAX_BURST 4096

enum slot_state { PENDING = 0, RUNNING, ENDED };

struct multi;

struct slot {
	struct multi *m;           /* for event callbacks */
	struct lp_engine *eng;
	struct lp_fwire *fw;       /* the flow's fault plan between its engine and the link */
	uint64_t started;
	uint64_t wake;             /* heap key */
	size_t heap_pos;           /* NOWHERE when not in the heap */
	enum slot_state state;
};

struct multi {
	const struct lp_multi_opts *o;
	struct slot *slots;
	size_t *heap;              /* slot indices, min-heap on slots[].wake */
	size_t nheap;
	size_t next_start, in_flight, ended;
	uint64_t base;
	int err;                   /* first send error */
	char *errbuf;
	size_t errlen;
	uint8_t buf[PKT_BUF];
};

static uint64_t mono_ns(const struct multi *m)
{
	return lp_clock_ns(CLOCK_MONOTONIC) - m->base;
}

int lp_multi_dport(const uint8_t *ip, size_t len)
{
	struct lp_icmp ic;
	size_t hl;

	if (len < 1)
		return -1;
	if ((ip[0] >> 4) == 4) {
		hl = (size_t)(ip[0] & 15) * 4;
		if (len < 20 || hl < 20 || len < hl + 4)
			return -1;
		if (ip[9] != 6)
			return lp_icmp_parse(ip, len, &ic) == 0 ? ic.qsport : -1;
	} else if ((ip[0] >> 4) == 6) {
		hl = 40;
		if (len < hl + 4)
			return -1;
		if (ip[6] != 6)
			return lp_icmp_parse(ip, len, &ic) == 0 ? ic.qsport : -1;
	} else {
		return -1;
	}
	return lp_get16(ip + hl + 2);
}

/* ---- the timer heap ---- */

static bool before(const struct multi *m, size_t a, size_t b)
{
	return m->slots[m->heap[a]].wake < m->slots[m->heap[b]].wake;
}

static void heap_swap(struct multi *m, size_t a, size_t b)
{
	size_t t = m->heap[a];

	m->heap[a] = m->heap[b];
	m->heap[b] = t;
	m->slots[m->heap[a]].heap_pos = a;
	m->slots[m->heap[b]].heap_pos = b;
}

static void heap_fix(struct multi *m, size_t i)
{
	while (i > 0 && before(m, i, (i - 1) / 2)) {
		heap_swap(m, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;

		if (l < m->nheap && before(m, l, min))
			min = l;
		if (r < m->nheap && before(m, r, min))
			min = r;
		if (min == i)
			return;
		heap_swap(m, i, min);
		i = min;
	}
}

static void heap_set(struct multi *m, size_t idx, uint64_t wake)
{
	struct slot *s = &m->slots[idx];

	s->wake = wake;
	if (s->heap_pos == NOWHERE) {
		s->heap_pos = m->nheap;
		m->heap[m->nheap++] = idx;
	}
	heap_fix(m, s->heap_pos);
}

static void heap_remove(struct multi *m, size_t idx)
{
	size_t pos = m->slots[idx].heap_pos;

	if (pos == NOWHERE)
		return;
	m->slots[idx].heap_pos = NOWHERE;
	m->nheap--;
	if (pos == m->nheap)
		return;
	m->heap[pos] = m->heap[m->nheap];
	m->slots[m->heap[pos]].heap_pos = pos;
	heap_fix(m, pos);
}

/* ---- flows ---- */

static void end_flow(struct multi *m, size_t idx, const char *why, uint64_t now)
{
	const struct lp_multi_opts *o = m->o;
	const struct lp_multi_flow *mf = &o->flows[idx];
	struct slot *s = &m->slots[idx];
	struct lp_report r;

	lp_report_init(&r);
	r.flow_id = mf->fl->id;
	if (s->eng) {
		lp_report_from_engine(&r, s->eng, mf->fl);
		r.duration_ns = now - s->started;
		r.client = o->engine.local;
		r.client.port = (uint16_t)(o->port_base + idx);
	} else {
		/* Never started: no live endpoint, the captured one. */
		r.verdict = LP_VERDICT_FAILED;
		r.exit_code = 1;
		r.client = mf->fl->client;
	}
	r.server = mf->remote;
	r.seed = o->seed;
	if (why)
		lp_report_cut_short(&r, why);
	if (s->eng)
		lp_report_add_faults(&r, mf->faults);
	if (o->done)
		o->done(o->ctx, &r);
	heap_remove(m, idx);
	if (s->state == RUNNING)
		m->in_flight--;
	s->state = ENDED;
	m->ended++;
	lp_fwire_free(s->fw);
	s->fw = NULL;
	lp_engine_free(s->eng);
	s->eng = NULL;
}

/* What the flow's faults let go (a super-segment too): sent and, once
 * sent, recorded. */
static int send_ip(void *ctx, const uint8_t *ip, size_t len, const struct lp_gso *g)
{
	struct slot *s = ctx;
	struct multi *m = s->m;
	const struct lp_multi_opts *o = m->o;
	size_t idx = (size_t)(s - m->slots);
	int rc = lp_link_send_rec(o->link, lp_link_has_mac(o->link) ? o->flows[idx].mac : NULL, ip,
				  len, g, o->writer);

	if (rc && !m->err) {
		m->err = rc;
		snprintf(m->errbuf, m->errlen, "cannot send: %s", lp_link_error(o->link));
	}
	return 0;
}

static void deliver(void *ctx, const uint8_t *ip, size_t len, unsigned flags, uint64_t now)
{
	struct slot *s = ctx;

	lp_engine_input_rx(s->eng, ip, len, flags, now);
}

/* The flow's next wake-up: its engine's timer or a packet its faults hold. */
static uint64_t next_wake(const struct slot *s)
{
	uint64_t t = lp_engine_next_timer(s->eng), q = lp_fwire_next(s->fw);

	return q < t ? q : t;
}

/* Send what the engine has, then end the flow or re-arm its timer. */
static void flush(struct multi *m, size_t idx, uint64_t now)
{
	struct slot *s = &m->slots[idx];
	int n = lp_fwire_flush(s->fw, s->eng, m->buf, sizeof(m->buf), lp_link_gso_segs(m->o->link),
			       MAX_BURST, now);

	/* The engine could not build a packet (send_ip() keeps the link's
	 * errors): the run ends, as on a link error. */
	if (n < 0 && !m->err) {
		m->err = n;
		snprintf(m->errbuf, m->errlen, "flow %u: cannot build a packet to send: %s",
			 m->o->flows[idx].fl->id, strerror(-n));
	}
	if (lp_engine_state(s->eng) != LP_ENGINE_RUNNING) {
		end_flow(m, idx, NULL, now);
		return;
	}
	/* More to send than one burst: come back at once. */
	heap_set(m, idx, n == MAX_BURST ? now : next_wake(s));
}

static void event_tramp(void *ctx, const struct lp_event *ev)
{
	const struct slot *s = ctx;
	const struct lp_multi_opts *o = s->m->o;

	o->event(o->ctx, o->flows[s - s->m->slots].fl->id, ev);
}

static int start_flow(struct multi *m, size_t idx, uint64_t now)
{
	const struct lp_multi_opts *o = m->o;
	const struct lp_multi_flow *mf = &o->flows[idx];
	struct slot *s = &m->slots[idx];
	struct lp_engine_cfg cfg = o->engine;
	struct lp_fwire_cfg fc = {
		.plan = mf->faults, .local = LP_FAULT_CLIENT,
		.io = { .send = send_ip, .gso = true, .deliver = deliver, .ctx = s },
	};
	int rc;

	cfg.role = LP_ROLE_CLIENT;
	cfg.local.port = (uint16_t)(o->port_base + idx);
	cfg.remote = mf->remote;
	cfg.isn = lp_rng_u32(o->rng);
	cfg.ts_base = lp_rng_u32(o->rng);
	cfg.ts_origin_ns = now;
	cfg.mss = mf->mss;
	cfg.pmtu = mf->pmtu;
	cfg.rto_jitter_seed = lp_flowset_seed(o->seed, mf->fl->id);
	cfg.on_event = o->event ? event_tramp : NULL;
	cfg.ctx = s;
	cfg.faults = mf->faults;
	/* The flow's faults decide from its own seed, as in --simulate. */
	lp_fault_plan_reset(mf->faults, lp_flowset_seed(o->seed, mf->fl->id));
	rc = lp_engine_new(mf->fl, &cfg, &s->eng);
	if (!rc) {
		fc.e = s->eng;
		fc.on_event = cfg.on_event;
		fc.ctx = s;
		rc = lp_fwire_new(&fc, &s->fw);
	}
	if (rc) {
		lp_engine_free(s->eng);
		s->eng = NULL;
		return rc;
	}
	s->state = RUNNING;
	s->started = now;
	m->in_flight++;
	flush(m, idx, now);
	return 0;
}

static void on_rx(void *ctx, const uint8_t *ip, size_t len)
{
	struct multi *m = ctx;
	const struct lp_multi_opts *o = m->o;
	int port = lp_multi_dport(ip, len);
	uint64_t now;
	size_t idx;

	if (port < o->port_base || (size_t)(port - o->port_base) >= o->nflows)
		return;
	idx = (size_t)(port - o->port_base);
	if (m->slots[idx].state != RUNNING)
		return;
	now = mono_ns(m);
	if (o->writer)
		lp_pcapw_write(o->writer, ip, len, lp_clock_ns(CLOCK_REALTIME));
	lp_fwire_in(m->slots[idx].fw, ip, len, lp_link_rx_flags(o->link), now);
	flush(m, idx, now);
}

/* Start the flows that are due and have room; the time the next one is due
 * (UINT64_MAX: none waits on the clock). */
static uint64_t start_due(struct multi *m, uint64_t now, int *rc)
{
	const struct lp_multi_opts *o = m->o;

	*rc = 0;
	while (m->next_start < o->nflows && (!o->concurrency || m->in_flight < o->concurrency)) {
		size_t idx = m->next_start;

		if (o->capture_timing && o->flows[idx].start_ns + 1 > now)
			return o->flows[idx].start_ns + 1;
		m->next_start++;
		*rc = start_flow(m, idx, now);
		if (*rc == -ENOMEM) {
			snprintf(m->errbuf, m->errlen, "out of memory for the engine of flow %u",
				 o->flows[idx].fl->id);
			return UINT64_MAX;
		}
		if (*rc) {
			/* A flow that cannot be replayed (a server port 0) fails alone. */
			char why[64];

			snprintf(why, sizeof(why), "cannot be replayed (%s)", strerror(-*rc));
			end_flow(m, idx, why, now);
			*rc = 0;
		}
	}
	return UINT64_MAX;
}

/* Wake every engine whose timer is due. */
static void run_timers(struct multi *m, uint64_t now)
{
	for (size_t guard = 0; m->nheap && guard < m->o->nflows * 4 + 16; guard++) {
		size_t idx = m->heap[0];
		struct slot *s = &m->slots[idx];

		if (s->wake > now)
			return;
		if (lp_engine_next_timer(s->eng) <= now)
			lp_engine_timeout(s->eng, now);
		flush(m, idx, now);
		if (s->state == RUNNING && s->wake <= now && s->heap_pos != NOWHERE) {
			/* Still due (a burst left packets): let the others run first. */
			s->wake = now + 1;
			heap_fix(m, s->heap_pos);
		}
	}
}

static void end_all(struct multi *m, const char *why, uint64_t now)
{
	const struct lp_multi_opts *o = m->o;
	char buf[64];

	for (size_t i = 0; i < o->nflows; i++) {
		if (m->slots[i].state == RUNNING) {
			/* The host's connection is reset, not left open. */
			lp_engine_abort(m->slots[i].eng, now);
			flush(m, i, now);
			end_flow(m, i, why, now);
		}
	}
	snprintf(buf, sizeof(buf), "not started (%s)", why);
	for (size_t i = 0; i < o->nflows; i++)
		if (m->slots[i].state == PENDING)
			end_flow(m, i, buf, now);
}

int lp_multi_run(const struct lp_multi_opts *o, uint64_t *duration_ns, char *err, size_t errlen)
{
	struct multi *m;
	uint64_t start, deadline;
	int rc = 0;

	*duration_ns = 0;
	if (!o->nflows || (size_t)o->port_base + o->nflows - 1 > 65535 || !o->port_base) {
		snprintf(err, errlen, "bad port range for %zu flows", o->nflows);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (m) {
		m->slots = calloc(o->nflows, sizeof(*m->slots));
		m->heap = calloc(o->nflows, sizeof(*m->heap));
	}
	if (!m || !m->slots || !m->heap) {
		snprintf(err, errlen, "out of memory for %zu flows", o->nflows);
		rc = -ENOMEM;
		goto out;
	}
	m->o = o;
	m->errbuf = err;
	m->errlen = errlen;
	for (size_t i = 0; i < o->nflows; i++) {
		m->slots[i].m = m;
		m->slots[i].heap_pos = NOWHERE;
	}
	/* Less one, so that no engine time is 0. */
	m->base = (o->clock_base_ns ? o->clock_base_ns : mono_ns(m)) - 1;
	start = mono_ns(m);
	deadline = o->timeout_ns ? start + o->timeout_ns : UINT64_MAX;
	for (;;) {
		uint64_t now = mono_ns(m), wake;

		run_timers(m, now);
		wake = start_due(m, now, &rc);
		if (rc)
			break;
		if (m->err) {
			rc = m->err;
			break;
		}
		if (m->ended == o->nflows)
			break;
		if (o->stop && *o->stop) {
			end_all(m, "interrupted", now);
			break;
		}
		if (now >= deadline) {
			end_all(m, "timed out", now);
			break;
		}
		if (m->nheap && m->slots[m->heap[0]].wake < wake)
			wake = m->slots[m->heap[0]].wake;
		if (deadline < wake)
			wake = deadline;
		rc = lp_link_wait(o->link, wake > now ? wake - now : 0, on_rx, m);
		if (rc < 0) {
			snprintf(err, errlen, "cannot receive: %s", lp_link_error(o->link));
			break;
		}
		rc = 0;
	}
	*duration_ns = mono_ns(m) - start;
out:
	if (m && m->slots) {
		for (size_t i = 0; i < o->nflows; i++) {
			lp_fwire_free(m->slots[i].fw);
			lp_engine_free(m->slots[i].eng);
		}
	}
	if (m) {
		free(m->slots);
		free(m->heap);
	}
	free(m);
	return rc;
}

uint16_t lp_multi_pick_ports(struct lp_rng *rng, size_t n, unsigned k, unsigned nshards, unsigned lo,
			     unsigned hi)
{
	size_t total = n * nshards, span;
	unsigned first, rlo;

	if (n == 0 || k == 0 || k > nshards || nshards > 65536 - 1024 || total > 65536 - 1024)
		return 0;
	if (lo > hi || hi > 65535) {
		lo = 32768;
		hi = 60999;
	}
	/* The region every shard chooses alike, then shard k's part of it. */
	first = hi + 1 > 49152 ? hi + 1 : 49152;
	if (first <= 65535 && 65536 - first >= total) {
		rlo = first;
		span = 65536 - first;
	} else if (lo > 49152 && lo - 49152 >= total) {
		rlo = 49152;
		span = lo - 49152;
	} else if (total <= 16384) {
		rlo = 49152;
		span = 16384;
	} else {
		rlo = 1024;
		span = 65536 - 1024;
	}
	span /= nshards;
	return (uint16_t)(rlo + (k - 1) * span + lp_rng_below(rng, span - n + 1));
}

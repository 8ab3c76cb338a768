/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The responder's event loop: one link for the emulated host's address,
 * a table of sessions keyed by the client's address and port, each with its
 * own flow, server-role engine and copy of its flow's fault plan, applied on
 * the wire by a per-session lp_fwire (what the session sends meets the
 * server's faults, what arrives the client's) on the monotonic clock.
 * Timers: each session's earliest deadline sits in a min-heap, so a loop
 * turn touches only the sessions that are due, not every session.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "responder.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/faultwire.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/session.h"
#include "tcpliveplay/util.h"

#define PKT_BUF (65536 + LP_PKT_MAXHDR)
#define LINGER_NS (2ull * 1000000000ull)    /* a finished session still answers retransmissions */
#define MAX_BATCH 4096                      /* packets sent per session per loop turn */

struct session {
	unsigned id;
	struct server *sv;
	const struct lp_flow *fl;     /* the flow this session plays */
	struct lp_endpoint client, local;
	uint8_t mac[6];
	struct lp_engine *eng;
	struct lp_fault_plan *faults; /* this session's copy, or NULL */
	struct lp_fwire *fw;
	uint64_t start, last_rx;
	bool finished;
	uint64_t linger_until;
	uint64_t due;                 /* earliest deadline: the heap's key */
	size_t hidx;                  /* position in the heap */
	struct session *dprev, *dnext; /* finished sessions, oldest first */
};

struct server {
	const struct rsp_opts *o;
	struct rsp_summary *sum;
	struct lp_sess_table *tab;
	struct lp_rng rng;
	uint64_t base;
	struct session **heap;        /* every session, min-heap on due */
	size_t nheap, heapcap;
	struct session *done_head, *done_tail;
	unsigned next_id;
	bool once_started, once_done;
	int once_exit;
	int err;                      /* first send error */
	uint8_t buf[PKT_BUF];
};

static uint64_t mono_ns(const struct server *sv)
{
	return lp_clock_ns(CLOCK_MONOTONIC) - sv->base;
}

static void on_event(void *ctx, const struct lp_event *ev)
{
	struct session *s = ctx;
	char line[320];

	/* Timers and ICMP errors not taken: -vv only. */
	if ((ev->kind == LP_EV_TIMER || ev->kind == LP_EV_ICMP_IGNORED) &&
	    lp_log_threshold < LP_LOG_DEBUG)
		return;
	fprintf(stderr, "[%u] %s\n", s->id, lp_event_str(ev, line, sizeof(line)));
}

static void heap_set(struct server *sv, size_t i, struct session *s)
{
	sv->heap[i] = s;
	s->hidx = i;
}

static void heap_up(struct server *sv, size_t i)
{
	struct session *s = sv->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (sv->heap[parent]->due <= s->due)
			break;
		heap_set(sv, i, sv->heap[parent]);
		i = parent;
	}
	heap_set(sv, i, s);
}

static void heap_down(struct server *sv, size_t i)
{
	struct session *s = sv->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= sv->nheap)
			break;
		if (c + 1 < sv->nheap && sv->heap[c + 1]->due < sv->heap[c]->due)
			c++;
		if (s->due <= sv->heap[c]->due)
			break;
		heap_set(sv, i, sv->heap[c]);
		i = c;
	}
	heap_set(sv, i, s);
}

static int heap_push(struct server *sv, struct session *s)
{
	if (sv->nheap == sv->heapcap) {
		size_t cap = sv->heapcap ? 2 * sv->heapcap : 64;
		struct session **h;

		if (cap > SIZE_MAX / sizeof(*h))
			return -ENOMEM;
		h = realloc(sv->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		sv->heap = h;
		sv->heapcap = cap;
	}
	heap_set(sv, sv->nheap++, s);
	heap_up(sv, s->hidx);
	return 0;
}

static void heap_remove(struct server *sv, struct session *s)
{
	size_t i = s->hidx;
	struct session *last = sv->heap[--sv->nheap];

	if (i == sv->nheap)
		return;
	heap_set(sv, i, last);
	heap_up(sv, i);
	heap_down(sv, last->hidx);
}

/* The session's deadline changed: move it in the heap. */
static void heap_fix(struct server *sv, struct session *s, uint64_t due)
{
	s->due = due;
	heap_up(sv, s->hidx);
	heap_down(sv, s->hidx);
}

static void session_free(struct session *s)
{
	if (!s)
		return;
	lp_fwire_free(s->fw);
	lp_engine_free(s->eng);
	lp_fault_plan_free(s->faults);
	free(s);
}

static void done_unlink(struct server *sv, struct session *s)
{
	if (s->dprev)
		s->dprev->dnext = s->dnext;
	else
		sv->done_head = s->dnext;
	if (s->dnext)
		s->dnext->dprev = s->dprev;
	else
		sv->done_tail = s->dprev;
	s->dprev = s->dnext = NULL;
}

static void drop_session(struct server *sv, struct session *s)
{
	lp_sess_table_del(sv->tab, &s->client);
	heap_remove(sv, s);
	if (s->finished)
		done_unlink(sv, s);
	session_free(s);
}

/* A packet (g NULL) or a super-segment to mac; the link's first error is
 * kept. */
static int send_ip(struct server *sv, const uint8_t *mac, const uint8_t *ip, size_t len,
		   const struct lp_gso *g)
{
	int rc = lp_link_send_gso(sv->o->link, mac, ip, len, g);

	if (rc && !sv->err)
		sv->err = rc;
	return rc;
}

/* What the session's faults let go, a super-segment in one send. */
static int session_send(void *ctx, const uint8_t *ip, size_t len, const struct lp_gso *g)
{
	struct session *s = ctx;

	send_ip(s->sv, s->mac, ip, len, g);
	return 0;
}

static void session_deliver(void *ctx, const uint8_t *ip, size_t len, unsigned flags,
			    uint64_t now)
{
	struct session *s = ctx;

	lp_engine_input_rx(s->eng, ip, len, flags, now);
}

/* Move what the engine has to send through the wire faults. */
static void flush_session(struct server *sv, struct session *s, uint64_t now)
{
	lp_fwire_flush(s->fw, s->eng, sv->buf, sizeof(sv->buf), lp_link_gso_segs(sv->o->link), MAX_BATCH,
		       now);
}

static void report_session(struct server *sv, struct session *s, const char *why, uint64_t now)
{
	const struct rsp_opts *o = sv->o;
	struct lp_report r;
	char a[64];

	lp_report_init(&r);
	lp_report_from_engine(&r, s->eng, s->fl);
	r.flow_id = s->fl->id;
	r.client = s->client;
	r.server = s->local;
	if (why)
		lp_report_cut_short(&r, why);
	lp_report_add_faults(&r, s->faults);
	r.seed = o->seed;
	r.duration_ns = now - s->start;
	sv->sum->sessions++;
	if (r.verdict == LP_VERDICT_MATCHED)
		sv->sum->matched++;
	else if (r.verdict == LP_VERDICT_DIVERGED)
		sv->sum->diverged++;
	else
		sv->sum->failed++;
	if (r.exit_code)
		sv->sum->exit_code = 1;
	if (o->once) {
		sv->once_done = true;
		sv->once_exit = r.exit_code;
	}
	if (o->text && !o->quiet) {
		printf("[%u] session from %s (flow %u): verdict %s%s%s%s\n", s->id,
		       lp_endpoint_str(&s->client, a, sizeof(a)), s->fl->id, lp_verdict_str(r.verdict),
		       r.reason[0] ? " (" : "", r.reason, r.reason[0] ? ")" : "");
		printf("[%u]   sent %" PRIu64 " segment%s, %" PRIu64 " byte%s; ", s->id, r.sent.segments,
		       lp_plural(r.sent.segments), r.sent.bytes, lp_plural(r.sent.bytes));
		printf("received %" PRIu64 " segment%s, %" PRIu64 " byte%s (capture shows %" PRIu64 "); ",
		       r.received.segments, lp_plural(r.received.segments), r.received.bytes,
		       lp_plural(r.received.bytes), r.expected_received_bytes);
		printf("retransmissions %" PRIu64 "; faults fired %" PRIu64 "; %.3f s\n", r.retransmissions,
		       r.faults_fired, (double)r.duration_ns / 1e9);
		if (r.path_mtu != r.path_mtu_start || r.icmp_accepted || r.icmp_ignored)
			printf("[%u]   path MTU %u%s; ICMP errors: %" PRIu64 " taken, %" PRIu64
			       " ignored\n", s->id, r.path_mtu,
			       r.mtu_blackhole ? " (black hole suspected)" : "", r.icmp_accepted,
			       r.icmp_ignored);
		for (size_t i = 0; i < r.ndiv; i++)
			printf("[%u]   divergence: %s\n", s->id, r.div[i].message);
	}
	if (o->json) {
		lp_report_print_json(&r, o->json);
		fflush(o->json);
	}
	s->finished = true;
	s->linger_until = now + LINGER_NS;
	s->dprev = sv->done_tail;
	if (sv->done_tail)
		sv->done_tail->dnext = s;
	else
		sv->done_head = s;
	sv->done_tail = s;
}

/* A session cut short (idle, stopped): its connection is reset. */
static void cut_short(struct server *sv, struct session *s, const char *why, uint64_t now)
{
	lp_engine_abort(s->eng, now);
	flush_session(sv, s, now);
	report_session(sv, s, why, now);
}

static int new_session(struct server *sv, const struct lp_endpoint *client, const struct lp_flow *fl,
		       uint16_t port, const uint8_t *mac, uint64_t now, struct session **out)
{
	const struct rsp_opts *o = sv->o;
	const struct rsp_flow *rf = fl->id < o->nflows ? &o->flows[fl->id] : NULL;
	struct lp_engine_cfg cfg;
	struct lp_fwire_cfg fc;
	struct session *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = ++sv->next_id;
	s->sv = sv;
	s->fl = fl;
	s->client = *client;
	s->local = o->local;
	s->local.port = port;
	memcpy(s->mac, mac, 6);
	s->start = s->last_rx = now;
	s->hidx = SIZE_MAX;
	if (rf && rf->plan) {
		rc = lp_fault_plan_clone(rf->plan, &s->faults);
		if (rc)
			goto fail;
		lp_fault_plan_reset(s->faults, lp_flowset_seed(o->seed, s->id));
	}
	lp_engine_cfg_defaults(&cfg);
	cfg.role = LP_ROLE_SERVER;
	cfg.local = s->local;
	cfg.remote = *client;
	cfg.isn = lp_rng_u32(&sv->rng);
	cfg.ts_base = lp_rng_u32(&sv->rng);
	cfg.ts_origin_ns = now;
	cfg.match = o->match;
	if (o->patience_ms)
		cfg.expect_timeout_ms = o->patience_ms;
	cfg.mss = lp_engine_pick_mss(&fl->dir[LP_S2C].opts, o->local.family, o->mtu);
	cfg.pmtu = o->mtu;
	cfg.faults = s->faults;
	cfg.schedule = rf ? rf->sched : NULL;
	if (o->verbose >= 1 && !o->quiet)
		cfg.on_event = on_event;
	cfg.ctx = s;
	rc = lp_engine_new(fl, &cfg, &s->eng);
	if (rc)
		goto fail;
	memset(&fc, 0, sizeof(fc));
	fc.plan = s->faults;
	fc.local = LP_FAULT_SERVER;
	fc.e = s->eng;
	fc.io.send = session_send;
	fc.io.gso = true;
	fc.io.deliver = session_deliver;
	fc.io.ctx = s;
	fc.on_event = cfg.on_event;
	fc.ctx = s;
	rc = lp_fwire_new(&fc, &s->fw);
	if (rc)
		goto fail;
	s->due = now;
	rc = heap_push(sv, s);
	if (rc)
		goto fail;
	rc = lp_sess_table_add(sv->tab, client, s);
	if (rc) {
		heap_remove(sv, s);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	session_free(s);
	return rc;
}

static void send_rst(struct server *sv, const uint8_t *mac, const uint8_t *ip, size_t len)
{
	uint8_t out[LP_PKT_MAXHDR];
	int n = lp_host_rst(ip, len, out, sizeof(out));

	if (n > 0 && !send_ip(sv, mac, out, (size_t)n, NULL))
		sv->sum->resets++;
}

/* A finished session makes room (oldest finished first), so that a full
 * table only refuses when every session is live. */
static bool evict_finished(struct server *sv)
{
	if (!sv->done_head)
		return false;
	drop_session(sv, sv->done_head);
	return true;
}

/* The earliest time the session needs attention: an engine timer, a queued
 * packet, the idle limit, the end of lingering; 0 when it needs it now. */
static uint64_t session_due(const struct server *sv, const struct session *s)
{
	const struct rsp_opts *o = sv->o;
	uint64_t t = lp_engine_next_timer(s->eng), q = lp_fwire_next(s->fw);

	if (q < t)
		t = q;
	if (s->finished) {
		if (o->once)
			return 0;
		return s->linger_until < t ? s->linger_until : t;
	}
	if (lp_engine_state(s->eng) != LP_ENGINE_RUNNING && !lp_fwire_held(s->fw))
		return 0;
	if (o->idle_ns && s->last_rx + o->idle_ns < t)
		t = s->last_rx + o->idle_ns;
	return t;
}

/* Is port one the host's own programs listen on (left to them)? */
static bool kernel_port(const struct rsp_opts *o, uint16_t port)
{
	return o->kernel_ports && (o->kernel_ports[port / 8] >> (port % 8)) & 1;
}

/* An ICMP or ICMPv6 error quoting a session's segment goes to that session's
 * engine; one quoting no session is left alone. */
static void icmp_rx(struct server *sv, const uint8_t *ip, size_t len, uint64_t now)
{
	struct lp_endpoint key;
	struct session *s;
	struct lp_icmp ic;

	if (lp_icmp_parse(ip, len, &ic) < 0)
		return;
	memset(&key, 0, sizeof(key));
	key.family = ic.family;
	memcpy(key.addr, ic.qdst, ic.family == AF_INET ? 4 : 16);
	key.port = ic.qdport;
	s = lp_sess_table_get(sv->tab, &key);
	if (!s || s->finished)
		return;
	lp_engine_input(s->eng, ip, len, now);
	flush_session(sv, s, now);
	heap_fix(sv, s, session_due(sv, s));
}

static void on_rx(void *ctx, const uint8_t *ip, size_t len)
{
	struct server *sv = ctx;
	const struct rsp_opts *o = sv->o;
	struct lp_endpoint key;
	struct session *s;
	struct lp_seg seg;
	uint8_t mac[6] = { 0 };
	uint64_t now = mono_ns(sv);
	bool syn, fresh = false;

	if (lp_pkt_parse_rx(ip, len, lp_link_rx_flags(o->link), &seg) < 0) {
		icmp_rx(sv, ip, len, now);
		return;
	}
	lp_link_rx_mac(o->link, mac);
	memset(&key, 0, sizeof(key));
	key.family = seg.family;
	memcpy(key.addr, seg.src, seg.family == AF_INET ? 4 : 16);
	key.port = seg.sport;
	syn = (seg.flags & (LP_TH_SYN | LP_TH_ACK | LP_TH_RST)) == LP_TH_SYN;
	s = lp_sess_table_get(sv->tab, &key);
	if (s && s->finished && syn) {
		/* The client reuses its port for a new connection. */
		drop_session(sv, s);
		s = NULL;
	}
	if (!s) {
		const struct lp_flow *fl;
		int rc;

		if (!lp_flowpick_serves(o->pick, seg.dport) && kernel_port(o, seg.dport))
			return;
		if (!syn || seg.family != o->local.family || !lp_flowpick_serves(o->pick, seg.dport)) {
			send_rst(sv, mac, ip, len);
			return;
		}
		if ((o->once && sv->once_started) ||
		    (lp_sess_table_count(sv->tab) >= o->max_sessions && !evict_finished(sv))) {
			sv->sum->refused++;
			if (o->verbose >= 1 && !o->quiet) {
				char a[64];

				fprintf(stderr, "refused %s: %s\n", lp_endpoint_str(&key, a, sizeof(a)),
					o->once ? "--once serves one session" :
					"--max-sessions reached");
			}
			send_rst(sv, mac, ip, len);
			return;
		}
		fl = lp_flowpick_next(o->pick, seg.dport);
		rc = new_session(sv, &key, fl, seg.dport, mac, now, &s);
		if (rc) {
			sv->sum->refused++;
			send_rst(sv, mac, ip, len);
			return;
		}
		sv->once_started = true;
		fresh = true;
	}
	s->last_rx = now;
	memcpy(s->mac, mac, 6);
	/* Its checksum is checked: not again. */
	lp_fwire_in(s->fw, ip, len, lp_link_rx_flags(o->link) | LP_RX_CSUM_OK, now);
	flush_session(sv, s, now);
	heap_fix(sv, s, session_due(sv, s));
	/* Said once the SYN-ACK is gone: a write to stdout takes its time. */
	if (fresh && !o->quiet && o->text) {
		char a[64], b[64];

		printf("[%u] session from %s to %s (flow %u)\n", s->id, lp_endpoint_str(&key, a, sizeof(a)),
		       lp_endpoint_str(&s->local, b, sizeof(b)), s->fl->id);
	}
}

static void on_other(void *ctx, const uint8_t *ip, size_t len)
{
	struct server *sv = ctx;
	uint8_t mac[6] = { 0 }, out[PKT_BUF];
	struct lp_seg seg;
	int n;

	if (sv->o->addr_local)
		return;
	lp_link_rx_mac(sv->o->link, mac);
	if (lp_pkt_parse(ip, len, &seg) == 0) {
		send_rst(sv, mac, ip, len);
		return;
	}
	n = lp_host_echo_reply(ip, len, out, sizeof(out));
	if (n > 0 && !send_ip(sv, mac, out, (size_t)n, NULL))
		sv->sum->echoes++;
}

/* One due session: its engine's timers, its queue, its verdict when it
 * ended or idled, its end after lingering. False when it was freed. */
static bool session_timers(struct server *sv, struct session *s, uint64_t now)
{
	const struct rsp_opts *o = sv->o;

	if (lp_engine_next_timer(s->eng) <= now)
		lp_engine_timeout(s->eng, now);
	flush_session(sv, s, now);
	if (!s->finished && lp_engine_state(s->eng) != LP_ENGINE_RUNNING && !lp_fwire_held(s->fw))
		report_session(sv, s, NULL, now);
	if (!s->finished && o->idle_ns && now - s->last_rx >= o->idle_ns) {
		char why[64];

		snprintf(why, sizeof(why), "idle for %.0f s", (double)o->idle_ns / 1e9);
		cut_short(sv, s, why, now);
	}
	if (s->finished && (now >= s->linger_until || o->once)) {
		drop_session(sv, s);
		return false;
	}
	heap_fix(sv, s, session_due(sv, s));
	return true;
}

/* Run the sessions that are due, each at most about once per call (what is
 * still due is run at the next turn, after input). Returns the earliest next
 * deadline. */
static uint64_t run_timers(struct server *sv, uint64_t now)
{
	for (size_t n = sv->nheap; n > 0 && sv->nheap && sv->heap[0]->due <= now; n--)
		session_timers(sv, sv->heap[0], now);
	return sv->nheap ? sv->heap[0]->due : UINT64_MAX;
}

static void stop_all(struct server *sv, uint64_t now)
{
	while (sv->nheap) {
		struct session *s = sv->heap[sv->nheap - 1];

		if (!s->finished)
			cut_short(sv, s, "interrupted", now);
		drop_session(sv, s);
	}
}

int rsp_serve(const struct rsp_opts *o, struct rsp_summary *sum, char *err, size_t errlen)
{
	struct server *sv;
	int rc;

	memset(sum, 0, sizeof(*sum));
	sv = calloc(1, sizeof(*sv));
	if (!sv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sv->o = o;
	sv->sum = sum;
	sv->base = mono_ns(sv) - 1;
	lp_rng_seed(&sv->rng, o->seed);
	rc = lp_sess_table_new(o->once ? 1 : o->max_sessions, lp_rng_next(&sv->rng), &sv->tab);
	if (rc) {
		snprintf(err, errlen, "cannot set up the sessions: %s", strerror(-rc));
		goto out;
	}
	lp_link_set_other(o->link, on_other, sv);
	for (;;) {
		uint64_t now = mono_ns(sv), next;

		next = run_timers(sv, now);
		if (sv->err) {
			rc = sv->err;
			snprintf(err, errlen, "cannot send: %s", lp_link_error(o->link));
			break;
		}
		if (o->once && sv->once_done)
			break;
		if (o->stop && *o->stop) {
			stop_all(sv, now);
			break;
		}
		rc = lp_link_wait(o->link, next > now ? next - now : 0, on_rx, sv);
		if (rc < 0) {
			snprintf(err, errlen, "cannot receive: %s", lp_link_error(o->link));
			break;
		}
		rc = 0;
	}
	if (o->once)
		sum->exit_code = sv->once_done ? sv->once_exit : 1;
out:
	lp_link_set_other(o->link, NULL, NULL);
	if (sv->tab)
		stop_all(sv, mono_ns(sv));
	lp_sess_table_free(sv->tab);
	free(sv->heap);
	free(sv);
	return rc;
}

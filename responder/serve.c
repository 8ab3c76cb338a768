/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The responder's event loop: one pcap link for the emulated host's address,
 * a table of sessions keyed by the client's address and port, each with its
 * own server-role engine, fault plan and fault RNG. Wire faults (drop, dup,
 * delay, reorder, corrupt) are applied to what a session sends through a
 * small per-session queue on the monotonic clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "responder.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/session.h"

#define PKT_BUF (65536 + LP_PKT_MAXHDR)
#define MAX_QUEUE 256                       /* packets held by wire faults, per session */
#define REORDER_HOLD_NS (50ull * 1000000ull) /* a reordered packet waits this long at most */
#define LINGER_NS (2ull * 1000000000ull)    /* a finished session still answers retransmissions */
#define MAX_BATCH 4096                      /* packets sent per session per loop turn */

struct qpkt {
	uint8_t *buf;
	size_t len;
	uint64_t at, order;
};

struct session {
	unsigned id;
	struct lp_endpoint client;
	uint8_t mac[6];
	struct lp_engine *eng;
	struct lp_fault_plan *faults;
	struct lp_rng frng;
	bool have_irs;
	uint32_t irs;                 /* the client's ISN, for client-drop */
	bool *cdrop_done;
	uint64_t cdrop_fired;
	uint64_t start, last_rx;
	struct qpkt q[MAX_QUEUE];
	size_t nq;
	long held;                    /* queue index held back for reordering, or -1 */
	uint64_t order;
	bool finished;
	uint64_t linger_until;
};

struct server {
	const struct rsp_opts *o;
	struct rsp_summary *sum;
	struct lp_sess_table *tab;
	struct lp_rng rng;
	uint64_t base;
	uint64_t *cdrop_off;          /* stream offset of each client-drop label */
	unsigned next_id;
	bool once_started, once_done;
	int once_exit;
	int err;                      /* first send error */
	uint8_t buf[PKT_BUF];
};

static uint64_t mono_ns(const struct server *sv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - sv->base;
}

static void on_event(void *ctx, const struct lp_event *ev)
{
	struct session *s = ctx;
	char line[256];

	printf("[%u] %s\n", s->id, lp_event_str(ev, line, sizeof(line)));
}

static void fault_event(struct server *sv, struct session *s, uint32_t label, const char *what)
{
	struct lp_event ev;

	if (sv->o->verbose < 1 || sv->o->quiet || !sv->o->text)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = LP_EV_FAULT;
	ev.role = LP_ROLE_SERVER;
	ev.now_ns = mono_ns(sv);
	ev.dir = !strcmp(what, "client-drop") ? LP_C2S : LP_S2C;
	ev.label = label;
	ev.first_diff = -1;
	ev.reason = what;
	on_event(s, &ev);
}

static void session_free(struct session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nq; i++)
		free(s->q[i].buf);
	lp_engine_free(s->eng);
	lp_fault_plan_free(s->faults);
	free(s->cdrop_done);
	free(s);
}

static void drop_session(struct server *sv, struct session *s)
{
	lp_sess_table_del(sv->tab, &s->client);
	session_free(s);
}

static int send_ip(struct server *sv, const uint8_t *mac, const uint8_t *ip, size_t len)
{
	int rc = lp_link_pcap_send_to(sv->o->link, mac, ip, len);

	if (rc && !sv->err)
		sv->err = rc;
	return rc;
}

/* Put one packet on the session's queue, due at at; a packet held back for
 * reordering goes right after it. */
static void enqueue(struct server *sv, struct session *s, const uint8_t *pkt, size_t len, uint64_t at,
		    bool hold)
{
	struct qpkt *q;

	if (s->nq == MAX_QUEUE) {
		send_ip(sv, s->mac, pkt, len);
		return;
	}
	q = &s->q[s->nq];
	q->buf = malloc(len);
	if (!q->buf) {
		send_ip(sv, s->mac, pkt, len);
		return;
	}
	memcpy(q->buf, pkt, len);
	q->len = len;
	q->at = at;
	q->order = s->order++;
	s->nq++;
	if (s->held >= 0) {
		s->q[s->held].at = at;
		s->q[s->held].order = s->order++;
		s->held = -1;
	}
	if (hold) {
		q->at += REORDER_HOLD_NS;
		s->held = (long)(s->nq - 1);
	}
}

/* Send the queued packets that are due, in order. */
static void send_due(struct server *sv, struct session *s, uint64_t now)
{
	for (size_t guard = 0; guard < MAX_QUEUE && s->nq; guard++) {
		size_t best = SIZE_MAX;

		for (size_t i = 0; i < s->nq; i++) {
			const struct qpkt *q = &s->q[i], *b = best == SIZE_MAX ? NULL : &s->q[best];

			if (q->at <= now && (!b || q->at < b->at || (q->at == b->at && q->order < b->order)))
				best = i;
		}
		if (best == SIZE_MAX)
			return;
		send_ip(sv, s->mac, s->q[best].buf, s->q[best].len);
		free(s->q[best].buf);
		s->nq--;
		if (best != s->nq)
			s->q[best] = s->q[s->nq];
		if (s->held == (long)best)
			s->held = -1;
		else if (s->held == (long)s->nq)
			s->held = (long)best;
	}
}

static uint64_t queue_next(const struct session *s)
{
	uint64_t t = UINT64_MAX;

	for (size_t i = 0; i < s->nq; i++)
		if (s->q[i].at < t)
			t = s->q[i].at;
	return t;
}

/* Move what the engine has to send through the wire faults. */
static void flush_session(struct server *sv, struct session *s, uint64_t now)
{
	int n;

	for (size_t k = 0; k < MAX_BATCH; k++) {
		struct lp_fault_verdict v;
		uint32_t first, last;

		n = lp_engine_output(s->eng, sv->buf, sizeof(sv->buf), now);
		if (n <= 0)
			break;
		lp_engine_output_labels(s->eng, &first, &last);
		lp_fault_wire(s->faults, LP_FAULT_SERVER, first, last, &s->frng, &v);
		if (v.fired)
			fault_event(sv, s, first, v.drop ? "drop" : v.corrupt ? "corrupt" :
				    v.copies > 1 ? "dup" : v.reorder ? "reorder" : v.delay_ns ? "delay" : "fault");
		if (v.drop)
			continue;
		if (v.corrupt)
			sv->buf[n - 1] ^= 0xff;
		for (unsigned c = 0; c < v.copies; c++)
			enqueue(sv, s, sv->buf, (size_t)n, now + v.delay_ns, c == 0 && v.reorder);
	}
	send_due(sv, s, now);
}

static void report_session(struct server *sv, struct session *s, const char *why, uint64_t now)
{
	const struct rsp_opts *o = sv->o;
	struct lp_report r;
	char a[64];

	lp_report_init(&r);
	lp_report_from_engine(&r, s->eng, o->fl);
	r.client = s->client;
	r.server = o->local;
	if (why) {
		size_t n = strlen(r.reason);

		if (r.verdict == LP_VERDICT_MATCHED) {
			r.verdict = LP_VERDICT_FAILED;
			r.exit_code = 1;
		}
		snprintf(r.reason + n, sizeof(r.reason) - n, "%s%s", n ? "; " : "", why);
	}
	r.seed = o->seed;
	r.faults_fired = lp_fault_plan_fired(s->faults) + s->cdrop_fired;
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
	if (o->text && o->quiet) {
		printf("[%u] %s\n", s->id, lp_verdict_str(r.verdict));
	} else if (o->text) {
		printf("[%u] session from %s: verdict %s%s%s%s\n", s->id, lp_endpoint_str(&s->client, a, sizeof(a)),
		       lp_verdict_str(r.verdict), r.reason[0] ? " (" : "", r.reason, r.reason[0] ? ")" : "");
		printf("[%u]   sent %" PRIu64 " segments, %" PRIu64 " bytes; received %" PRIu64
		       " segments, %" PRIu64 " bytes (capture shows %" PRIu64 "); retransmissions %" PRIu64
		       "; faults fired %" PRIu64 "; %.3f s\n", s->id, r.sent.segments, r.sent.bytes,
		       r.received.segments, r.received.bytes, r.expected_received_bytes, r.retransmissions,
		       r.faults_fired, (double)r.duration_ns / 1e9);
		for (size_t i = 0; i < r.ndiv; i++)
			printf("[%u]   divergence: %s\n", s->id, r.div[i].message);
	}
	if (o->json) {
		lp_report_print_json(&r, o->json);
		fflush(o->json);
	}
	s->finished = true;
	s->linger_until = now + LINGER_NS;
}

static int new_session(struct server *sv, const struct lp_endpoint *client, const uint8_t *mac,
		       uint64_t now, struct session **out)
{
	const struct rsp_opts *o = sv->o;
	struct lp_engine_cfg cfg;
	struct session *s;
	char err[256];
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = ++sv->next_id;
	s->client = *client;
	memcpy(s->mac, mac, 6);
	s->held = -1;
	s->start = s->last_rx = now;
	if (o->nclient_drop) {
		s->cdrop_done = calloc(o->nclient_drop, sizeof(*s->cdrop_done));
		if (!s->cdrop_done) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (o->nfaults) {
		rc = lp_fault_plan_new(&s->faults);
		if (rc)
			goto fail;
		for (size_t i = 0; i < o->nfaults; i++) {
			rc = lp_fault_plan_add(s->faults, o->faults[i], err, sizeof(err));
			if (rc)
				goto fail;
		}
	}
	lp_engine_cfg_defaults(&cfg);
	cfg.role = LP_ROLE_SERVER;
	cfg.local = o->local;
	cfg.remote = *client;
	cfg.isn = lp_rng_u32(&sv->rng);
	cfg.ts_base = lp_rng_u32(&sv->rng);
	cfg.ts_origin_ns = now;
	cfg.match = o->match;
	cfg.mss = o->mss;
	cfg.faults = s->faults;
	if (o->verbose >= 1 && !o->quiet && o->text)
		cfg.on_event = on_event;
	cfg.ctx = s;
	lp_rng_seed(&s->frng, lp_rng_next(&sv->rng));
	rc = lp_engine_new(o->fl, &cfg, &s->eng);
	if (rc)
		goto fail;
	rc = lp_sess_table_add(sv->tab, client, s);
	if (rc)
		goto fail;
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

	if (n > 0 && !send_ip(sv, mac, out, (size_t)n))
		sv->sum->resets++;
}

/* A finished session makes room (oldest finished first), so that a full
 * table only refuses when every session is live. */
static bool evict_finished(struct server *sv)
{
	struct session *s, *victim = NULL;
	size_t pos = 0;

	while ((s = lp_sess_table_next(sv->tab, &pos)))
		if (s->finished && (!victim || s->id < victim->id))
			victim = s;
	if (!victim)
		return false;
	drop_session(sv, victim);
	return true;
}

/* Is this the client's segment a client-drop fault names (its first byte)? */
static bool client_drop(struct server *sv, struct session *s, const struct lp_seg *seg)
{
	uint64_t rel;

	if (!s->have_irs || !seg->len)
		return false;
	rel = (uint32_t)(seg->seq - (s->irs + 1));
	for (size_t i = 0; i < sv->o->nclient_drop; i++) {
		uint64_t off = sv->cdrop_off[i];

		if (s->cdrop_done[i] || off < rel || off >= rel + seg->len)
			continue;
		s->cdrop_done[i] = true;
		s->cdrop_fired++;
		fault_event(sv, s, sv->o->client_drop[i], "client-drop");
		return true;
	}
	return false;
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
	bool syn;

	if (lp_pkt_parse(ip, len, &seg) < 0)
		return;
	lp_link_pcap_rx_mac(o->link, mac);
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
		int rc;

		if (!syn || seg.family != o->local.family) {
			send_rst(sv, mac, ip, len);
			return;
		}
		if ((o->once && sv->once_started) ||
		    (lp_sess_table_count(sv->tab) >= o->max_sessions && !evict_finished(sv))) {
			sv->sum->refused++;
			if (o->verbose >= 1 && !o->quiet && o->text) {
				char a[64];

				printf("refused %s: %s\n", lp_endpoint_str(&key, a, sizeof(a)),
				       o->once ? "--once serves one session" : "--max-sessions reached");
			}
			send_rst(sv, mac, ip, len);
			return;
		}
		rc = new_session(sv, &key, mac, now, &s);
		if (rc) {
			sv->sum->refused++;
			send_rst(sv, mac, ip, len);
			return;
		}
		sv->once_started = true;
		if (!o->quiet && o->text) {
			char a[64], b[64];

			printf("[%u] session from %s to %s\n", s->id, lp_endpoint_str(&key, a, sizeof(a)),
			       lp_endpoint_str(&o->local, b, sizeof(b)));
		}
	}
	if (syn) {
		s->have_irs = true;
		s->irs = seg.seq;
	}
	s->last_rx = now;
	memcpy(s->mac, mac, 6);
	if (client_drop(sv, s, &seg))
		return;
	lp_engine_input(s->eng, ip, len, now);
	flush_session(sv, s, now);
}

static void on_other(void *ctx, const uint8_t *ip, size_t len)
{
	struct server *sv = ctx;
	uint8_t mac[6] = { 0 }, out[PKT_BUF];
	struct lp_seg seg;
	int n;

	if (sv->o->addr_local)
		return;
	lp_link_pcap_rx_mac(sv->o->link, mac);
	if (lp_pkt_parse(ip, len, &seg) == 0) {
		send_rst(sv, mac, ip, len);
		return;
	}
	n = lp_host_echo_reply(ip, len, out, sizeof(out));
	if (n > 0 && !send_ip(sv, mac, out, (size_t)n))
		sv->sum->echoes++;
}

/* Timers of every session: engines, queues, idleness, lingering. Returns
 * the earliest next deadline. */
static uint64_t run_timers(struct server *sv, uint64_t now)
{
	const struct rsp_opts *o = sv->o;
	uint64_t next = UINT64_MAX;
	struct session *s;
	size_t pos = 0;

	while ((s = lp_sess_table_next(sv->tab, &pos))) {
		uint64_t t;

		if (lp_engine_next_timer(s->eng) <= now)
			lp_engine_timeout(s->eng, now);
		flush_session(sv, s, now);
		if (!s->finished && lp_engine_state(s->eng) != LP_ENGINE_RUNNING && s->nq == 0)
			report_session(sv, s, NULL, now);
		if (!s->finished && o->idle_ns && now - s->last_rx >= o->idle_ns) {
			char why[64];

			snprintf(why, sizeof(why), "idle for %.0f s", (double)o->idle_ns / 1e9);
			report_session(sv, s, why, now);
		}
		if (s->finished && (now >= s->linger_until || o->once)) {
			drop_session(sv, s);
			continue;
		}
		t = lp_engine_next_timer(s->eng);
		if (queue_next(s) < t)
			t = queue_next(s);
		if (!s->finished && o->idle_ns && s->last_rx + o->idle_ns < t)
			t = s->last_rx + o->idle_ns;
		if (s->finished && s->linger_until < t)
			t = s->linger_until;
		if (t < next)
			next = t;
	}
	return next;
}

static void stop_all(struct server *sv, uint64_t now)
{
	struct session *s;
	size_t pos = 0;

	while ((s = lp_sess_table_next(sv->tab, &pos))) {
		if (!s->finished)
			report_session(sv, s, "interrupted", now);
		drop_session(sv, s);
	}
}

static int client_drop_offsets(struct server *sv)
{
	const struct rsp_opts *o = sv->o;

	if (!o->nclient_drop)
		return 0;
	sv->cdrop_off = calloc(o->nclient_drop, sizeof(*sv->cdrop_off));
	if (!sv->cdrop_off)
		return -ENOMEM;
	for (size_t i = 0; i < o->nclient_drop; i++) {
		size_t k;

		for (k = 0; k < o->fl->nsegs; k++) {
			const struct lp_segment *g = &o->fl->segs[k];

			if (g->dir == LP_C2S && g->label == o->client_drop[i]) {
				sv->cdrop_off[i] = g->offset;
				break;
			}
		}
		if (k == o->fl->nsegs)
			return -EINVAL;
	}
	return 0;
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
	rc = client_drop_offsets(sv);
	if (!rc)
		rc = lp_sess_table_new(o->once ? 1 : o->max_sessions, lp_rng_next(&sv->rng), &sv->tab);
	if (rc) {
		snprintf(err, errlen, "cannot set up the sessions: %s", strerror(-rc));
		goto out;
	}
	lp_link_pcap_set_other(o->link, on_other, sv);
	for (;;) {
		struct pollfd pfd = { .fd = lp_link_pcap_fd(o->link), .events = POLLIN };
		uint64_t now = mono_ns(sv), next;
		int ms;

		next = run_timers(sv, now);
		if (sv->err) {
			rc = sv->err;
			snprintf(err, errlen, "cannot send: %s", lp_link_pcap_error(o->link));
			break;
		}
		if (o->once && sv->once_done)
			break;
		if (o->stop && *o->stop) {
			stop_all(sv, now);
			break;
		}
		ms = next <= now ? 0 : (next - now + 999999) / 1000000 > 1000 ? 1000 :
		     (int)((next - now + 999999) / 1000000);
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
			rc = -errno;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			break;
		}
		rc = lp_link_pcap_dispatch(o->link, on_rx, sv);
		if (rc < 0) {
			snprintf(err, errlen, "cannot capture: %s", lp_link_pcap_error(o->link));
			break;
		}
		rc = 0;
	}
	if (o->once)
		sum->exit_code = sv->once_done ? sv->once_exit : 1;
out:
	lp_link_pcap_set_other(o->link, NULL, NULL);
	if (sv->tab)
		stop_all(sv, mono_ns(sv));
	lp_sess_table_free(sv->tab);
	free(sv->cdrop_off);
	free(sv);
	return rc;
}

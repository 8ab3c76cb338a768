/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulation: client engine and server engine over link_mem, virtual time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/icmp.h"
#include "tcpliveplay/link_mem.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/sim.h"

#define PKT_BUF (65536 + LP_PKT_MAXHDR)
#define DEFAULT_STEPS 50000000ull
#define DEFAULT_TIME (3600ull * 1000000000ull)

struct sim {
	const struct lp_flow *fl;
	struct lp_engine *eng[2];     /* indexed by enum lp_role */
	struct lp_link_mem *link;
	struct lp_fault_plan *faults;
	struct lp_fault_keys *keys[2];  /* per side, when it has wire faults */
	bool path[2];                 /* per side: it has the path's faults (ICMP) */
	lp_event_fn cb;
	void *ctx;
	const struct lp_sim_opts *o;
	uint8_t buf[PKT_BUF];
	uint8_t icmp[LP_MIN_MTU6];    /* what an ICMP fault answers */
};

void lp_sim_opts_init(struct lp_sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->match = LP_MATCH_STREAM;
	o->timing.mode = LP_TIMING_ASAP;
	o->timing.speed = 1.0;
}

/* One packet of side's (n bytes in s->buf) onto the wire, through the
 * wire faults (only a side that has some has keys to name its packets by),
 * then the path's: an ICMP fault answers it back to side. */
static int wire(struct sim *s, unsigned side, int n, uint64_t now)
{
	enum lp_fault_side fs = (enum lp_fault_side)side;
	struct lp_fault_verdict v, *pv = NULL;
	struct lp_fault_fired what;
	struct lp_fault_pkt fp;
	struct lp_pktinfo pi;
	int rc = 0;

	if (!s->keys[side] && !s->path[side])
		return lp_link_mem_send(s->link, 1 - side, s->buf, (size_t)n, now, NULL);
	lp_engine_output_info(s->eng[side], &pi);
	if (s->keys[side]) {
		lp_fault_pkt_from(&fp, &pi, s->keys[side]);
		lp_fault_wire(s->faults, fs, &fp, now, &v);
		for (unsigned i = 0; i < v.fired && i < LP_FAULT_PER_PKT; i++)
			lp_fault_emit(&v.what[i], s->cb, s->ctx);
		pv = &v;
	}
	if (s->path[side] && !(pv && pv->drop))
		rc = lp_fault_icmp(s->faults, fs, s->buf, (size_t)n, &pi, now, s->icmp,
				   sizeof(s->icmp), &what);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		lp_fault_emit(&what, s->cb, s->ctx);
		return lp_link_mem_send(s->link, side, s->icmp, (size_t)rc, now, NULL);
	}
	return lp_link_mem_send(s->link, 1 - side, s->buf, (size_t)n, now, pv);
}

/* Move every packet both engines have to send onto the wire. */
static int drain(struct sim *s, uint64_t now)
{
	for (unsigned side = 0; side < 2; side++) {
		int n;

		while ((n = lp_engine_output(s->eng[side], s->buf, sizeof(s->buf), now)) > 0) {
			int rc;

			if (s->o->trace)
				s->o->trace(s->o->trace_ctx, (enum lp_role)side, now, s->buf, (size_t)n);
			rc = wire(s, side, n, now);
			if (rc < 0)
				return rc;
		}
		if (n < 0)
			return n;
	}
	return 0;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* The server engine checks the client's stream against the capture: what it
 * found joins the client's divergences in the order they were found, and
 * turns a match into a divergence. */
static void merge_divergences(struct lp_report *r, const struct lp_engine *c,
			      const struct lp_engine *sv)
{
	struct lp_engine_stats cs, ss;
	uint32_t i = 0, j = 0;

	lp_engine_stats(c, &cs);
	lp_engine_stats(sv, &ss);
	r->ndiv = 0;
	r->ndiv_total = 0;
	while (i < cs.ndivergences || j < ss.ndivergences) {
		const struct lp_divergence *a = lp_engine_divergence(c, i);
		const struct lp_divergence *b = lp_engine_divergence(sv, j);

		if (!a && !b) {
			r->ndiv_total += (cs.ndivergences - i) + (ss.ndivergences - j);
			break;
		}
		if (b && (!a || b->at_ns < a->at_ns)) {
			lp_report_add_divergence(r, b);
			j++;
		} else {
			lp_report_add_divergence(r, a);
			i++;
		}
	}
	if (r->verdict != LP_VERDICT_FAILED && r->ndiv) {
		r->verdict = LP_VERDICT_DIVERGED;
		r->exit_code = 1;
		snprintf(r->reason, sizeof(r->reason), "%s", r->div[0].message);
	}
}

static void endpoints(const struct lp_flow *fl, struct lp_rng *rng, struct lp_engine_cfg *c,
		      struct lp_engine_cfg *sv)
{
	c->role = LP_ROLE_CLIENT;
	c->local = fl->client;
	/* A fresh ephemeral port, never the captured one. */
	do
		c->local.port = (uint16_t)(32768 + lp_rng_below(rng, 28232));
	while (c->local.port == fl->client.port);
	c->remote = fl->server;
	sv->role = LP_ROLE_SERVER;
	sv->local = fl->server;
	sv->remote = fl->client;
	sv->remote.port = 0;
}

int lp_sim_run_detail(const struct lp_flow *fl, const struct lp_sim_opts *o, struct lp_report *r,
		      struct lp_sim_detail *detail, lp_event_fn cb, void *ctx)
{
	struct lp_engine_cfg cfg[2];
	struct lp_rng rng;
	struct sim *s;
	uint64_t now = 0, steps = 0, end_ns = 0;
	uint64_t max_steps = o->max_steps ? o->max_steps : DEFAULT_STEPS;
	uint64_t max_time = o->max_time_ns ? o->max_time_ns : DEFAULT_TIME;
	bool limit = false;
	char err[160];
	int rc;

	if (lp_fault_plan_validate(o->faults, fl, err, sizeof(err)) < 0)
		return -EINVAL;
	if (fl->client.family != fl->server.family || fl->server.port == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fl = fl;
	s->o = o;
	s->faults = o->faults;
	s->cb = cb;
	s->ctx = ctx;
	lp_fault_plan_reset(o->faults, o->seed);
	lp_rng_seed(&rng, o->seed);
	for (int i = 0; i < 2; i++) {
		if (lp_fault_plan_has(o->faults, (enum lp_fault_side)i, LP_FAULT_ON_WIRE) &&
		    lp_fault_keys_new(&s->keys[i]) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		s->path[i] = lp_fault_plan_has(o->faults, (enum lp_fault_side)i, LP_FAULT_ON_PATH);
	}

	for (int i = 0; i < 2; i++) {
		lp_engine_cfg_defaults(&cfg[i]);
		cfg[i].match = o->match;
		cfg[i].timing = o->timing;
		if (o->rto_min_ms)
			cfg[i].rto_min_ms = o->rto_min_ms;
		if (o->retries)
			cfg[i].retries = o->retries;
		/* Longer than any retransmission back-off, so that loss is never
		 * mistaken for a short answer; virtual time costs nothing. */
		cfg[i].expect_timeout_ms = o->expect_timeout_ms ? o->expect_timeout_ms : 60000;
		cfg[i].isn = lp_rng_u32(&rng);
		cfg[i].ts_base = lp_rng_u32(&rng);
		cfg[i].faults = o->faults;
		cfg[i].on_event = cb;
		cfg[i].ctx = ctx;
	}
	endpoints(fl, &rng, &cfg[LP_ROLE_CLIENT], &cfg[LP_ROLE_SERVER]);
	rc = lp_engine_new(fl, &cfg[LP_ROLE_CLIENT], &s->eng[LP_ROLE_CLIENT]);
	if (rc < 0)
		goto out;
	rc = lp_engine_new(fl, &cfg[LP_ROLE_SERVER], &s->eng[LP_ROLE_SERVER]);
	if (rc < 0)
		goto out;
	rc = lp_link_mem_new(o->latency_ns, &s->link);
	if (rc < 0)
		goto out;

	for (;;) {
		struct lp_engine *c = s->eng[LP_ROLE_CLIENT], *sv = s->eng[LP_ROLE_SERVER];
		bool crun, srun;
		uint64_t t, tc, ts;
		const uint8_t *pkt;
		size_t len;
		unsigned to;

		rc = drain(s, now);
		if (rc < 0)
			goto out;
		crun = lp_engine_state(c) == LP_ENGINE_RUNNING;
		srun = lp_engine_state(sv) == LP_ENGINE_RUNNING;
		if (!crun && !end_ns)
			end_ns = now;
		tc = lp_engine_next_timer(c);
		ts = lp_engine_next_timer(sv);
		t = min3(lp_link_mem_next(s->link), tc, ts);
		if (!crun && (!srun || lp_link_mem_inflight(s->link) == 0))
			break;
		if (t == UINT64_MAX)
			break;
		if (++steps > max_steps || t > max_time) {
			limit = true;
			break;
		}
		if (t > now)
			now = t;
		if (lp_link_mem_recv(s->link, now, &to, &pkt, &len) == 1) {
			lp_engine_input(s->eng[to], pkt, len, now);
			continue;
		}
		if (tc <= now)
			lp_engine_timeout(c, now);
		if (ts <= now)
			lp_engine_timeout(sv, now);
	}
	if (!end_ns)
		end_ns = now;
	lp_report_init(r);
	lp_report_from_engine(r, s->eng[LP_ROLE_CLIENT], fl);
	merge_divergences(r, s->eng[LP_ROLE_CLIENT], s->eng[LP_ROLE_SERVER]);
	if (r->verdict == LP_VERDICT_MATCHED &&
	    (limit || lp_engine_state(s->eng[LP_ROLE_CLIENT]) == LP_ENGINE_RUNNING)) {
		r->verdict = LP_VERDICT_FAILED;
		r->exit_code = 1;
		snprintf(r->reason, sizeof(r->reason), "%s",
			 limit ? "simulation limit reached" : "replay stuck: nothing left to happen");
	}
	r->seed = o->seed;
	lp_report_add_faults(r, o->faults);
	r->duration_ns = end_ns;
	if (detail) {
		for (int i = 0; i < 2; i++) {
			struct lp_engine_stats st;

			lp_engine_stats(s->eng[i], &st);
			detail->side[i].received_bytes = st.received_bytes;
			detail->side[i].first_diff = st.first_diff;
			detail->side[i].state = lp_engine_state(s->eng[i]);
		}
		detail->steps = steps;
	}
	rc = 0;
out:
	lp_engine_free(s->eng[0]);
	lp_engine_free(s->eng[1]);
	lp_link_mem_free(s->link);
	lp_fault_keys_free(s->keys[0]);
	lp_fault_keys_free(s->keys[1]);
	free(s);
	return rc;
}

int lp_sim_run(const struct lp_flow *fl, const struct lp_sim_opts *o, struct lp_report *r,
	       lp_event_fn cb, void *ctx)
{
	return lp_sim_run_detail(fl, o, r, NULL, cb, ctx);
}

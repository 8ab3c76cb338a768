/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Simulation: a client engine and a server engine built from the same flow,
 * joined by an in-memory link with a fault plan, run on a virtual clock.
 * Deterministic for a given seed and plan.
 */
#ifndef TCPLIVEPLAY_SIM_H
#define TCPLIVEPLAY_SIM_H

#include <stdint.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/report.h"

struct lp_sim_opts {
	uint64_t seed;                 /* ISNs, client port, TSval bases, probabilistic faults */
	struct lp_fault_plan *faults;  /* NULL: none; its fired counters are reset and updated */
	enum lp_match match;
	struct lp_timing timing;
	unsigned rto_min_ms;           /* 0: engine default */
	unsigned retries;              /* 0: engine default */
	uint64_t latency_ns;           /* one-way; 0: 50 us */
	unsigned expect_timeout_ms;    /* wait for missing peer bytes; 0: 60 s (virtual) */
	uint64_t max_steps;            /* 0: 50,000,000 */
	uint64_t max_time_ns;          /* virtual time limit; 0: one hour */
	/* Every packet an engine sends (from its role), for debugging output;
	 * NULL: none. */
	void (*trace)(void *ctx, enum lp_role from, uint64_t now_ns, const uint8_t *ip, size_t len);
	void *trace_ctx;
};

/* Defaults as documented above (all zero, match stream, timing asap x1). */
void lp_sim_opts_init(struct lp_sim_opts *o);

/* Run the replay of fl in simulation and write the verdict into *r: the
 * client's (the replayer's) view, plus any divergence the server engine saw
 * in the client's stream, in the order found (duration in virtual time).
 * Events of both engines and fired faults go to cb (may be NULL). Returns 0
 * when the simulation ran (whatever the verdict), -EINVAL when the fault plan
 * names a segment the flow lacks (lp_fault_plan_validate() says which) or the
 * flow cannot be replayed, -ENOMEM. *r is written only on success. */
int lp_sim_run(const struct lp_flow *fl, const struct lp_sim_opts *o, struct lp_report *r,
	       lp_event_fn cb, void *ctx);

/* Each engine's view of a run, for tests: bytes received from its peer and
 * the first byte that differed from the capture (-1 if none). */
struct lp_sim_side {
	uint64_t received_bytes;
	int64_t first_diff;
	enum lp_engine_state state;
};

struct lp_sim_detail {
	struct lp_sim_side side[2];    /* indexed by enum lp_role */
	uint64_t steps;
};

/* As lp_sim_run, also filling *detail (may be NULL). */
int lp_sim_run_detail(const struct lp_flow *fl, const struct lp_sim_opts *o, struct lp_report *r,
		      struct lp_sim_detail *detail, lp_event_fn cb, void *ctx);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpliveplay --simulate: both sides emulated, over an in-memory wire. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/sim.h"
#include "tcpliveplay/trace.h"

#include "tcpliveplay_int.h"

/* -vv of a simulation: every packet on the in-memory wire, on stderr. */
static void sim_trace(void *ctx, enum lp_role from, uint64_t now_ns, const uint8_t *ip, size_t len)
{
	char line[512], t[32];

	(void)ctx;
	snprintf(t, sizeof(t), "%llu.%06llu", (unsigned long long)(now_ns / 1000000000u),
		 (unsigned long long)(now_ns % 1000000000u / 1000u));
	fprintf(stderr, "  %11s %s out %s\n", t, from == LP_ROLE_CLIENT ? "client" : "server",
		lp_pkt_str(ip, len, line, sizeof(line)));
}

/* The simulation options of the command line, for the run of one flow with
 * its fault plan. */
static void sim_opts(const struct ctx *c, struct lp_fault_plan *faults, struct lp_sim_opts *so)
{
	lp_sim_opts_init(so);
	so->seed = c->cli.seed;
	so->faults = faults;
	so->match = c->cli.match;
	so->timing = c->timing;
	so->rto_min_ms = c->rto_ms;
	so->retries = c->retries;
	so->expect_timeout_ms = (unsigned)c->cli.patience_s * 1000u;
	if (c->cli.verbose > 1)
		so->trace = sim_trace;
}

/* Is fl skipped by a simulation (a stream lacks bytes, without --holes
 * zero)? Then why is in hole. */
static bool sim_skipped(const struct ctx *c, const struct lp_flow *fl, char *hole, size_t len)
{
	return !c->cli.holes_zero && (lp_cli_hole(fl, LP_C2S, hole, len) || lp_cli_hole(fl, LP_S2C, hole, len));
}

/* --simulate of several flows, one after the other, each with its own seed
 * drawn from the run's: a line per flow and the summary. */
static int simulate_many(struct ctx *c, const struct lp_flow **sel, size_t nsel, bool text)
{
	struct lp_fault_plan **plans = calloc(nsel ? nsel : 1, sizeof(*plans));
	struct many_out mo;
	struct lp_sim_opts so;
	char hole[224];
	size_t nskip = 0;
	int rc = plans ? 0 : lp_env_error("out of memory");

	/* Every flow's plan is checked before any runs; as live, a selection
	 * whose every flow would be skipped is no replay. */
	for (size_t i = 0; !rc && i < nsel; i++)
		rc = lp_cli_flow_faults(&c->cli.faults, sel[i], true, &plans[i]);
	for (size_t i = nsel; !rc && i-- > 0;) /* backwards: hole tells the first */
		nskip += sim_skipped(c, sel[i], hole, sizeof(hole));
	if (!rc && nsel && nskip == nsel && !c->cli.shard_n)
		rc = lp_usage_error("no flow to replay: flow %u: %s; --holes zero sends zeros", sel[0]->id, hole);
	if (rc)
		goto out;
	memset(&mo, 0, sizeof(mo));
	mo.c = c;
	mo.text = text;
	mo.totals.seed = c->cli.seed;
	tlp_many_begin(&mo);
	if (text && lp_log_threshold >= LP_LOG_INFO)
		printf("simulate %zu flow%s of %s, seed %llu\n", nsel, lp_plural(nsel), c->cli.file, (unsigned long long)c->cli.seed);
	for (size_t i = 0; i < nsel; i++) {
		struct lp_report rep;
		char why[320];

		if (sim_skipped(c, sel[i], hole, sizeof(hole))) {
			snprintf(why, sizeof(why), "%s; --holes zero sends zeros", hole);
			tlp_many_skip(&mo, sel[i], why);
			continue;
		}
		sim_opts(c, plans[i], &so);
		so.seed = lp_flowset_seed(c->cli.seed, sel[i]->id);
		rc = lp_sim_run(sel[i], &so, &rep, c->cli.verbose ? tlp_print_event : NULL, c);
		if (rc == -ENOMEM) {
			log_err("out of memory");
			mo.totals.exit_code = LP_EXIT_ENV;
			break;
		}
		if (rc) {
			/* One flow that cannot be played fails alone. */
			lp_report_init(&rep);
			rep.verdict = LP_VERDICT_FAILED;
			rep.exit_code = 1;
			rep.client = sel[i]->client;
			rep.server = sel[i]->server;
			snprintf(rep.reason, sizeof(rep.reason), "the flow cannot be replayed (%s)", strerror(-rc));
		}
		rep.flow_id = sel[i]->id;
		rep.seed = so.seed;
		/* The flows play one after the other in virtual time: the
		 * summary counts in the time the lines show. */
		mo.totals.duration_ns += rep.duration_ns;
		tlp_many_done(&mo, &rep);
	}
	rc = tlp_many_end(&mo);
out:
	for (size_t i = 0; plans && i < nsel; i++)
		lp_fault_plan_free(plans[i]);
	free(plans);
	return rc;
}

int tlp_simulate(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	struct lp_fault_plan *faults = NULL;
	struct lp_sim_opts so;
	struct lp_report rep;
	char a[64], b[64];
	bool text = !c->cli.json || strcmp(c->cli.json, "-");
	int rc = tlp_load(c, &flows);

	if (rc)
		return rc;
	if (!c->cli.have_seed && getrandom(&c->cli.seed, sizeof(c->cli.seed), 0) != sizeof(c->cli.seed)) {
		log_err("no randomness for a seed: %s", strerror(errno));
		rc = LP_EXIT_ENV;
		goto out;
	}
	if (lp_flows_sel_is_list(c->cli.flow) || c->cli.shard_n) {
		const struct lp_flow **sel = NULL;
		size_t nsel = 0;

		rc = lp_cli_select_many(c->cli.file, flows, c->cli.flow, &sel, &nsel);
		if (!rc && c->cli.shard_n)
			nsel = lp_flowset_shard(sel, nsel, c->cli.shard_k, c->cli.shard_n);
		if (!rc)
			rc = simulate_many(c, sel, nsel, text);
		free(sel);
		goto out;
	}
	rc = lp_cli_select(c->cli.file, flows, c->cli.flow, &fl);
	/* Both sides are played: neither stream may lack bytes. */
	for (int d = 0; d < 2 && !rc; d++)
		rc = lp_cli_check_holes(c->cli.file, fl, (enum lp_dir)d, c->cli.holes_zero);
	if (rc)
		goto out;
	rc = lp_cli_flow_faults(&c->cli.faults, fl, false, &faults);
	if (rc)
		goto out;
	sim_opts(c, faults, &so);
	if (text && lp_log_threshold >= LP_LOG_INFO)
		printf("simulate flow %u: %s -> %s, seed %llu\n", fl->id,
		       lp_endpoint_str(&fl->client, a, sizeof(a)),
		       lp_endpoint_str(&fl->server, b, sizeof(b)), (unsigned long long)c->cli.seed);
	rc = lp_sim_run(fl, &so, &rep, c->cli.verbose ? tlp_print_event : NULL, c);
	if (rc) {
		log_err("%s: flow %u cannot be simulated: %s", c->cli.file, fl->id, strerror(-rc));
		rc = rc == -ENOMEM ? LP_EXIT_ENV : LP_EXIT_BADINPUT;
		goto out;
	}
	rep.flow_id = fl->id;
	if (text && lp_log_threshold >= LP_LOG_INFO)
		lp_report_print_text(&rep, stdout);
	rc = tlp_json_write(&rep);
	if (!rc)
		rc = rep.exit_code;
out:
	lp_fault_plan_free(faults);
	lp_flows_free(flows);
	return rc;
}


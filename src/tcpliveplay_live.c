/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpliveplay's live replay: set up, one flow or many, reported. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/link.h"
#include "tcpliveplay/live.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/multi.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/setup.h"
#include "tcpliveplay/util.h"

#include "tcpliveplay_int.h"

/* Meanwhile a keepalive every so often tells a live peer from a gone one. */
#define KEEPALIVE_MS 2000
/* Retransmission timers of many flows: up to this much longer, at random. */
#define RTO_JITTER_PCT 25

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static const char *mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static void progress(void *opaque, uint64_t elapsed_ns, uint64_t sent, uint64_t sent_total,
		     uint64_t received, uint64_t received_total)
{
	(void)opaque;
	if (elapsed_ns < 1000000000ull)
		return;
	fprintf(stderr, "\r  %6.1f s  sent %llu/%llu B  received %llu/%llu B ", (double)elapsed_ns / 1e9,
		(unsigned long long)sent, (unsigned long long)sent_total, (unsigned long long)received,
		(unsigned long long)received_total);
}

#define MAX_HOPS (MAX_DST + 1)

/* qsort: by start time, then by flow number. */
static int by_start(const void *pa, const void *pb)
{
	const struct lp_multi_flow *a = pa, *b = pb;

	if (a->start_ns != b->start_ns)
		return a->start_ns < b->start_ns ? -1 : 1;
	return a->fl->id < b->fl->id ? -1 : a->fl->id > b->fl->id;
}

/* "replay N flows of FILE (...)": the part and the concurrency. */
static void print_many_header(const struct ctx *c, const struct plan *p, size_t concurrency)
{
	printf("replay %zu flow%s of %s (%zu skipped", p->nmf, lp_plural(p->nmf), c->cli.file, p->nskip);
	if (c->cli.shard_n)
		printf("; shard %u/%u", c->cli.shard_k, c->cli.shard_n);
	if (concurrency)
		printf("; at most %zu at once%s", concurrency,
		       c->concurrency ? "" : ", as at the capture's busiest moment");
	else
		printf("; all at once%s", c->timing.mode == LP_TIMING_CAPTURE && !c->concurrency ?
		       ", at their captured start times" : "");
	printf(")");
}

/* A many-flow replay's report: the skipped flows, then (with o) the run,
 * then the summary. The exit status. */
static int many_report(const struct ctx *c, struct many_out *mo, const struct plan *p,
		       struct lp_multi_opts *o)
{
	char a[64], b[64], err[512];
	uint64_t dur = 0;
	int rc = 0;

	tlp_many_begin(mo);
	for (size_t i = 0; i < p->nskip; i++) {
		const struct lp_flow *fl = p->sel[i];
		char why[256], hole[224];

		if (p->why[i] == SKIP_HOLE && lp_cli_hole(fl, LP_C2S, hole, sizeof(hole)))
			snprintf(why, sizeof(why), "%s; --holes zero sends zeros", hole);
		else if (p->why[i] == SKIP_FAMILY)
			snprintf(why, sizeof(why), "an %s flow, and the replayed host's is %s: one family per run "
				 "(replay it with --flow %u)", fl->client.family == AF_INET ? "IPv4" : "IPv6",
				 p->host.family == AF_INET ? "IPv4" : "IPv6", fl->id);
		else
			snprintf(why, sizeof(why), "its client %s is not the replayed host %s (give --any-client)",
				 inet_ntop(fl->client.family, fl->client.addr, a, sizeof(a)) ? a : "?",
				 inet_ntop(p->host.family, p->host.addr, b, sizeof(b)) ? b : "?");
		tlp_many_skip(mo, fl, why);
	}
	if (o && c->cli.verbose > 1)
		o->clock_base_ns = lp_cli_trace(o->link);
	if (o)
		rc = lp_multi_run(o, &dur, err, sizeof(err));
	mo->totals.duration_ns = dur;
	if (rc) {
		/* No summary, but a whole JSON document saying how it ended. */
		mo->totals.exit_code = lp_env_error("%s", err);
		mo->totals.error = err;
		mo->text = false;
		tlp_many_end(mo);
		return mo->totals.exit_code;
	}
	rc = tlp_many_end(mo);
	if (mo->totals.data_unacked && o) {
		snprintf(a, sizeof(a), "%zu at once", o->concurrency);
		log_info("hint: try a lower --concurrency (this run: %s; the capture's busiest moment: %zu)",
			 o->concurrency ? a : "all at once", p->busiest);
	}
	return rc;
}

/* A live replay: its flows, its set-up, its outputs. */
struct live_run {
	struct plan pl;
	struct lp_setup su;
	struct lp_setup_client sc;
	struct lp_hop hops[MAX_HOPS];
	struct lp_rng rng;
	size_t concurrency;
	bool text, many;
};

/* One hop per live server. */
static int live_hops(struct live_run *lr)
{
	const struct plan *p = &lr->pl;

	for (size_t i = 0; i < p->nmf; i++) {
		bool seen = false;

		for (size_t k = 0; k < lr->sc.nhops && !seen; k++)
			seen = tlp_addr_eq(&lr->hops[k].dst, &p->mfs[i].remote);
		if (seen)
			continue;
		if (lr->sc.nhops == MAX_HOPS)
			return lp_usage_error("more than %d live servers", MAX_HOPS);
		memset(&lr->hops[lr->sc.nhops], 0, sizeof(lr->hops[0]));
		lr->hops[lr->sc.nhops++].dst = p->mfs[i].remote;
	}
	return 0;
}

/* The payload we receive is only counted, unless it is compared, recorded,
 * traced or met by faults (which look into it): the kernel need not copy it
 * for us. */
static bool rx_headers_only(const struct ctx *c)
{
	return c->cli.match != LP_MATCH_BYTES && !c->write && c->cli.verbose < 2 && !c->cli.faults.captured &&
	       !lp_fault_plan_has(c->cli.faults.plan, LP_FAULT_SERVER, LP_FAULT_ON_WIRE);
}

/* The link and the route to every server; then each flow's next hop, MSS
 * and start, and how many run at once. */
static int live_setup(const struct ctx *c, struct live_run *lr, const uint8_t *dst_mac)
{
	struct plan *p = &lr->pl;
	struct lp_setup_client *sc = &lr->sc;
	int rc;

	sc->family = p->family;
	sc->port_first = p->port_base;
	sc->port_last = (uint16_t)(p->port_base + p->nmf - 1);
	sc->dst_mac = dst_mac;
	sc->guard = c->guard == GUARD_AUTO;
	sc->hops = lr->hops;
	rc = live_hops(lr);
	if (rc)
		return rc;
	if (sc->nhops == 1)
		sc->remote = lr->hops[0].dst;
	if (p->nmf > 1)
		sc->remote.port = 0;
	lr->su.want = c->link;
	for (size_t i = 0; i < p->nmf; i++)
		lr->su.rx_expect += p->mfs[i].fl->dir[LP_S2C].len;
	rc = lp_setup_client(&lr->su, sc);
	if (rc)
		return rc;
	for (size_t i = 0; i < p->nmf; i++) {
		struct lp_multi_flow *mf = &p->mfs[i];

		mf->pmtu = lr->su.ifi.mtu;
		for (size_t k = 0; k < sc->nhops; k++) {
			if (!tlp_addr_eq(&lr->hops[k].dst, &mf->remote))
				continue;
			memcpy(mf->mac, lr->hops[k].mac, 6);
			/* What the kernel knows of the path: the route's MTU or
			 * the path MTU it learnt (RFC 1191, 8201). */
			if (lr->hops[k].route.mtu && lr->hops[k].route.mtu < mf->pmtu)
				mf->pmtu = lr->hops[k].route.mtu;
		}
		mf->mss = lp_engine_pick_mss(&mf->fl->dir[LP_C2S].opts, p->family, mf->pmtu);
		if (c->timing.mode == LP_TIMING_CAPTURE)
			mf->start_ns = (uint64_t)((double)(mf->fl->first_ts - p->first_ts) / c->timing.speed);
	}
	/* Flows start in the order of their start times (a capture clock that
	 * stepped back can put a flow's first packet before an earlier flow's). */
	if (c->timing.mode == LP_TIMING_CAPTURE)
		qsort(p->mfs, p->nmf, sizeof(*p->mfs), by_start);
	/* The capture's shape: at most as many at once as it had at its
	 * busiest moment; --timing capture starts flows as captured. */
	lr->concurrency = c->concurrency == CONCURRENCY_UNLIMITED ? 0 : c->concurrency ? c->concurrency :
			  c->timing.mode == LP_TIMING_CAPTURE ? 0 : p->busiest;
	return 0;
}

static void print_live_header(const struct ctx *c, const struct live_run *lr)
{
	const struct plan *p = &lr->pl;
	const struct lp_setup_client *sc = &lr->sc;
	char a[64], b[64], m[32];

	if (lr->many)
		print_many_header(c, p, lr->concurrency);
	else
		printf("replay flow %u of %s: %s -> %s", p->mfs[0].fl->id, c->cli.file,
		       lp_endpoint_str(&p->mfs[0].fl->client, a, sizeof(a)),
		       lp_endpoint_str(&p->mfs[0].fl->server, b, sizeof(b)));
	printf("\nlive: %s", lp_endpoint_str(&sc->src, a, sizeof(a)));
	if (p->nmf > 1)
		printf("-%u", sc->port_last);
	printf(" -> %s", sc->nhops == 1 ? lp_endpoint_str(&p->mfs[0].remote, b, sizeof(b)) : "several servers");
	printf(" via %s", lr->su.where);
	if (lp_link_has_mac(lr->su.link) && sc->nhops == 1)
		printf(" (%s)", mac_str(lr->hops[0].mac, m, sizeof(m)));
	printf(", seed %llu%s%s\n", (unsigned long long)c->cli.seed,
	       lr->su.guard ? ", RST guard on" : lr->su.addr_local ? ", RST guard off" :
	       ", answering ARP/NDP for the source", lp_link_ring_mib(lr->su.link) ? ", receive ring" : "");
}

/* The engine settings of a live replay that come from the command line. */
static void live_engine(const struct ctx *c, struct lp_engine_cfg *e)
{
	e->match = c->cli.match;
	e->timing = c->timing;
	if (c->rto_ms)
		e->rto_min_ms = c->rto_ms;
	if (c->retries)
		e->retries = c->retries;
	/* A slow peer is waited for as long as the run may last: with
	 * --timeout, the deadline decides. */
	e->expect_timeout_ms = (unsigned)(c->cli.patience_s ? c->cli.patience_s : c->timeout_s ? 0 :
					  DEFAULT_PATIENCE_S) * 1000u;
	e->keepalive_ms = KEEPALIVE_MS;
}

/* Many flows through lp_multi_run(): a line each and the summary. */
static int run_many(const struct ctx *c, struct live_run *lr, struct many_out *mo)
{
	struct lp_multi_opts o;

	memset(&o, 0, sizeof(o));
	lp_engine_cfg_defaults(&o.engine);
	o.engine.local = lr->sc.src;
	live_engine(c, &o.engine);
	o.engine.rto_jitter_pct = RTO_JITTER_PCT;
	o.flows = lr->pl.mfs;
	o.nflows = lr->pl.nmf;
	o.port_base = lr->pl.port_base;
	o.concurrency = lr->concurrency;
	o.capture_timing = c->timing.mode == LP_TIMING_CAPTURE;
	o.rng = &lr->rng;
	o.link = lr->su.link;
	o.writer = c->writer;
	o.timeout_ns = c->timeout_s * 1000000000ull;
	o.stop = &lp_stop_requested;
	o.seed = c->cli.seed;
	o.done = tlp_many_done;
	o.event = c->cli.verbose ? tlp_many_event : NULL;
	o.ctx = mo;
	return many_report(c, mo, &lr->pl, &o);
}

/* One flow through lp_live_run(): the report, the JSON. */
static int run_one(struct ctx *c, struct live_run *lr)
{
	const struct lp_multi_flow *mf = &lr->pl.mfs[0];
	struct lp_live_opts lo;
	struct lp_report rep;
	char err[512];
	int rc;

	memset(&lo, 0, sizeof(lo));
	lp_engine_cfg_defaults(&lo.engine);
	lo.engine.role = LP_ROLE_CLIENT;
	lo.engine.local = lr->sc.src;
	lo.engine.remote = mf->remote;
	lo.engine.isn = lp_rng_u32(&lr->rng);
	lo.engine.ts_base = lp_rng_u32(&lr->rng);
	lo.engine.mss = mf->mss;
	lo.engine.pmtu = mf->pmtu;
	live_engine(c, &lo.engine);
	lo.engine.faults = mf->faults;
	lp_fault_plan_reset(lo.engine.faults, c->cli.seed);
	if (c->cli.verbose)
		lo.engine.on_event = tlp_print_event;
	lo.engine.ctx = c;
	lo.link = lr->su.link;
	lo.writer = c->writer;
	lo.timeout_ns = c->timeout_s * 1000000000ull;
	lo.stop = &lp_stop_requested;
	if (!c->cli.verbose && lp_log_threshold >= LP_LOG_INFO && isatty(STDERR_FILENO))
		lo.progress = progress;
	lo.progress_ctx = c;
	if (c->cli.verbose > 1)
		lo.clock_base_ns = lp_cli_trace(lo.link);
	rc = lp_live_run(mf->fl, &lo, &rep, err, sizeof(err));
	if (lo.progress)
		fprintf(stderr, "\r\033[K");
	if (rc)
		return lp_env_error("%s", err);
	rep.seed = c->cli.seed;
	rep.flow_id = mf->fl->id;
	if (c->guard == GUARD_OFF && lr->su.addr_local && rep.verdict == LP_VERDICT_FAILED &&
	    strstr(rep.reason, "reset"))
		log_warn("the replay was reset: the local kernel resets connections it did not open; "
			 "run with --rst-guard auto (the default)");
	if (lr->text && lp_log_threshold >= LP_LOG_INFO)
		lp_report_print_text(&rep, stdout);
	if (strstr(rep.reason, "no answer from the peer"))
		log_info("hint: a slow peer is waited for up to --patience S (default: --timeout's, else %d s)",
			 DEFAULT_PATIENCE_S);
	rc = tlp_json_write(&rep);
	return rc ? rc : rep.exit_code;
}

/* The command line's parts of a live replay: the MAC, the source, the seed. */
static int live_args(struct ctx *c, uint8_t mac[6], bool *mac_given, struct lp_endpoint *src)
{
	struct lp_ep_arg ea;
	const char *kind;

	*mac_given = c->dst_mac && strcmp(c->dst_mac, "auto");
	if (*mac_given && parse_mac(c->dst_mac, mac))
		return lp_usage_error("MAC '%s' is not of the form 00:11:22:33:44:55", c->dst_mac);
	memset(src, 0, sizeof(*src));
	if (c->src && (lp_ep_parse(c->src, &ea) || ea.ep.port || ea.zone[0]))
		return lp_usage_error("--src: '%s' is not an address", c->src);
	kind = c->src ? lp_addr_kind_str(lp_addr_kind(&ea.ep)) : NULL;
	if (kind)
		return lp_usage_error("--src %s: a%s %s address cannot be the source of a TCP connection",
				      c->src, kind[0] == 'u' ? "n" : "", kind);
	if (c->src)
		*src = ea.ep;
	if (!c->cli.have_seed && getrandom(&c->cli.seed, sizeof(c->cli.seed), 0) != sizeof(c->cli.seed))
		return lp_env_error("no randomness for a seed: %s", strerror(errno));
	return 0;
}

/* Set up, replay, report; then the recording's end and the link's. */
static int do_live_run(struct ctx *c, struct live_run *lr, struct many_out *mo, const uint8_t *dst_mac)
{
	int rc = live_setup(c, lr, dst_mac);

	/* Everything that needed a privilege is open, the outputs too. */
	if (!rc)
		rc = lp_setup_drop(c->cli.user);
	if (rc)
		return rc;
	if (lr->text && lp_log_threshold >= LP_LOG_INFO)
		print_live_header(c, lr);
	lp_catch_signals();
	rc = lr->many ? run_many(c, lr, mo) : run_one(c, lr);
	if (c->cli.verbose && lp_link_headers_only(lr->su.link))
		log_info("received: the host's segments cut after their headers by the kernel, which "
			 "checked their checksums (their bytes are counted, compared only under --match bytes)");
	if (lp_link_drops(lr->su.link))
		log_warn("the kernel dropped %u packets before they were read", lp_link_drops(lr->su.link));
	return rc;
}

/* Each flow's fault plan (NULL: none); 0 or an exit status. */
static int flow_faults(const struct ctx *c, struct lp_multi_flow *mfs, size_t n, bool many)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		rc = lp_cli_flow_faults(&c->cli.faults, mfs[i].fl, many, &mfs[i].faults);
	return rc;
}

int tlp_live(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	struct live_run lr;
	struct many_out mo;
	uint8_t given_mac[6];
	struct stat st;
	bool mac_given;
	int rc;

	memset(&lr, 0, sizeof(lr));
	memset(&mo, 0, sizeof(mo));
	lr.text = !c->cli.json || strcmp(c->cli.json, "-");
	lr.many = lp_flows_sel_is_list(c->cli.flow) || c->cli.shard_n;
	rc = live_args(c, given_mac, &mac_given, &lr.sc.src);
	if (rc)
		return rc;
	/* Shards draw ISNs and ports of their own from one --seed. */
	lp_rng_seed(&lr.rng, c->cli.shard_n > 1 ? lp_flowset_seed(c->cli.seed, c->cli.shard_k) : c->cli.seed);
	/* A big capture: its packet socket and ring are made while it loads. */
	lr.su.want = c->link;
	lr.su.rx_headers_only = rx_headers_only(c);
	if (strcmp(c->cli.file, "-") && !stat(c->cli.file, &st) && S_ISREG(st.st_mode))
		lp_setup_prepare(&lr.su, (uint64_t)st.st_size);
	rc = tlp_load(c, &flows);
	if (rc)
		goto out;
	rc = tlp_choose_flows(c, flows, lr.many, &lr.rng, &lr.pl);
	if (rc)
		goto out;
	mo.c = c;
	mo.text = lr.text;
	mo.totals.seed = c->cli.seed;
	if (!lr.pl.nmf) {
		/* An empty shard: a report of what it skipped, if anything. */
		rc = many_report(c, &mo, &lr.pl, NULL);
		goto out;
	}
	if (c->src && lr.sc.src.family != lr.pl.family) {
		rc = lp_usage_error("--src %s and --dst %s are of different families", c->src, c->dsts[0]);
		goto out;
	}
	rc = flow_faults(c, lr.pl.mfs, lr.pl.nmf, lr.many);
	if (!rc)
		rc = do_live_run(c, &lr, &mo, mac_given ? given_mac : NULL);
out:
	lp_setup_end(&lr.su);
	for (size_t i = 0; lr.pl.mfs && i < lr.pl.nmf; i++)
		lp_fault_plan_free(lr.pl.mfs[i].faults);
	free(lr.pl.mfs);
	free(lr.pl.why);
	free(lr.pl.sel);
	/* The exit is next: the mapping goes with the address space. */
	lp_flows_free_at_exit(flows);
	return rc;
}


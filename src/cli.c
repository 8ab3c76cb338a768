/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/faultcap.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/setup.h"
#include "tcpliveplay/trace.h"
#include "tcpliveplay/util.h"

#define MAX_WARNINGS 10

volatile sig_atomic_t lp_stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	lp_stop_requested = 1;
}

void lp_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int lp_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lp_log_v(LP_LOG_ERR, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", lp_log_prog);
	return LP_EXIT_BADINPUT;
}

int lp_opt_uint(const char *opt, const char *arg, uint64_t lo, uint64_t hi, const char *unit, uint64_t *v)
{
	if (!lp_parse_uint(arg, lo, hi, v))
		return 0;
	return lp_usage_error("%s: '%s' is not a number %sfrom %llu to %llu", opt, arg, unit,
			      (unsigned long long)lo, (unsigned long long)hi);
}

int lp_env_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lp_log_v(LP_LOG_ERR, fmt, ap);
	va_end(ap);
	return LP_EXIT_ENV;
}

static void warn_packet(void *opaque, uint32_t packet, const char *what)
{
	struct lp_loader *l = opaque;

	if (l->warned >= MAX_WARNINGS && !l->verbose) {
		l->unwarned++;
		return;
	}
	l->warned++;
	log_warn("%s: packet %u: %s, skipped", l->file, packet, what);
}

/* A failure to read the capture: the environment's (memory, temporary
 * space) or the input's. */
static int load_failure(int rc)
{
	switch (rc) {
	case -ENOMEM:
	case -ENOSPC:
	case -EDQUOT:
	case -EMFILE:
	case -ENFILE:
		return LP_EXIT_ENV;
	default:
		return LP_EXIT_BADINPUT;
	}
}

int lp_cli_load(struct lp_loader *l, struct lp_flows **out)
{
	const struct lp_capture_stats *st;
	struct lp_capture *cap;
	struct lp_flows *flows;
	char err[512];
	int rc;

	*out = NULL;
	if (strcmp(l->file, "-")) {
		rc = lp_capture_open(l->file, &cap, err, sizeof(err));
	} else {
		l->file = "standard input";
		rc = lp_capture_open_fd(STDIN_FILENO, &cap, err, sizeof(err));
	}
	if (!rc)
		rc = lp_flows_load_capture(cap, warn_packet, l, &flows, err, sizeof(err));
	if (l->unwarned)
		log_warn("%s: %u more packets skipped", l->file, l->unwarned);
	if (rc) {
		log_err("%s: %s", l->file, err);
		return load_failure(rc);
	}
	st = lp_flows_stats(flows);
	if (st->damaged_at && l->strict) {
		log_err("%s: packet %u: %s (--strict: nothing is read from a damaged capture)", l->file,
			st->damaged_at, st->damage);
		lp_flows_free(flows);
		return LP_EXIT_BADINPUT;
	}
	if (st->damaged_at)
		log_warn("%s: packet %u: %s; reading stops there, after %u packet%s", l->file, st->damaged_at,
			 st->damage, st->damaged_at - 1, st->damaged_at == 2 ? "" : "s");
	if (!lp_flows_count(flows)) {
		char unread[128] = "";

		if (st->unread)
			snprintf(unread, sizeof(unread), ", %u on link types not read (%s)", st->unread,
				 st->unread_names);
		log_err("%s: no TCP connection found%s (%u packets: %u not TCP, %u fragments, %u malformed%s)",
			l->file, st->damaged_at ? " before the damage" : "", st->packets, st->other,
			st->fragments, st->malformed, unread);
		lp_flows_free(flows);
		return LP_EXIT_BADINPUT;
	}
	*out = flows;
	return 0;
}

/* --flow as given, in the form the flow model takes: "A:P -> B:P" as --list
 * prints a flow is "A:P-B:P". NULL stays NULL. */
static const char *flow_sel(const char *sel, char *buf, size_t len)
{
	if (!sel || lp_flow_sel_normalize(sel, buf, len))
		return sel;
	return buf;
}

int lp_cli_select(const char *file, const struct lp_flows *flows, const char *sel,
		  const struct lp_flow **out)
{
	char norm[256];

	switch (lp_flows_select(flows, flow_sel(sel, norm, sizeof(norm)), out)) {
	case 0:
		return 0;
	case -ENOTUNIQ:
		log_err("%s: %zu TCP flows; choose one with --flow (a number or ADDR:PORT-ADDR:PORT; a "
			"replay also takes --flow all or a list such as 1,3,5-9):", file, lp_flows_count(flows));
		for (unsigned i = 1; i <= lp_flows_count(flows); i++) {
			char a[64], b[64];
			const struct lp_flow *f = lp_flows_get(flows, i);

			fprintf(stderr, "  %u %s -> %s\n", i, lp_endpoint_str(&f->client, a, sizeof(a)),
				lp_endpoint_str(&f->server, b, sizeof(b)));
		}
		return LP_EXIT_BADINPUT;
	case -ENOENT:
		log_err("%s: no flow matches --flow %s (see tcpliveplay --list)", file, sel);
		return LP_EXIT_BADINPUT;
	case -EADDRINUSE:
		log_err("%s: several flows match --flow %s (the ports were reused); choose one by its "
			"number from tcpliveplay --list", file, sel);
		return LP_EXIT_BADINPUT;
	default:
		return lp_usage_error("--flow: '%s' is neither a flow number nor ADDR:PORT-ADDR:PORT "
				      "(or ADDR:PORT -> ADDR:PORT, as --list prints it)", sel);
	}
}

int lp_cli_select_many(const char *file, const struct lp_flows *flows, const char *sel,
		       const struct lp_flow ***out, size_t *n)
{
	char norm[256];
	const char *ns = flow_sel(sel, norm, sizeof(norm));
	int rc;

	if (!lp_flows_sel_is_list(ns)) {
		const struct lp_flow *one;

		rc = lp_cli_select(file, flows, sel, &one);
		if (rc)
			return rc;
	}
	switch (lp_flows_select_many(flows, ns, out, n)) {
	case 0:
		return 0;
	case -ENOMEM:
		log_err("out of memory");
		return LP_EXIT_ENV;
	case -ENOENT:
		log_err("%s: --flow %s names a flow the capture does not have (it has %zu; see "
			"tcpliveplay --list)", file, sel, lp_flows_count(flows));
		return LP_EXIT_BADINPUT;
	default:
		return lp_usage_error("--flow: '%s' is not a flow number, ADDR:PORT-ADDR:PORT, 'all' or a "
				      "list such as 1,3,5-9", sel);
	}
}

int lp_cli_json_open(struct lp_json_out *j, const char *path)
{
	memset(j, 0, sizeof(*j));
	j->path = path;
	if (!path)
		return 0;
	if (!*path)
		return lp_usage_error("--json: an empty file name (give FILE, or - for standard "
				      "output)");
	if (!strcmp(path, "-")) {
		j->fp = stdout;
		return 0;
	}
	j->fp = fopen(path, "w");
	if (!j->fp)
		return lp_env_error("cannot write %s: %s", path, strerror(errno));
	return 0;
}

int lp_cli_fault_arg(struct lp_cli_faults *f, const char *arg)
{
	char err[320], pre[128];
	const char *why = err;

	if (!strcmp(arg, "captured")) {
		f->captured = true;
		return 0;
	}
	if (!f->plan && lp_fault_plan_new(&f->plan))
		return lp_env_error("out of memory");
	if (lp_fault_plan_add(f->plan, arg, err, sizeof(err))) {
		/* The message names the spec as "fault 'SPEC': "; ours does already. */
		snprintf(pre, sizeof(pre), "fault '%s': ", arg);
		if (!strncmp(err, pre, strlen(pre)))
			why += strlen(pre);
		return lp_usage_error("--fault %s: %s", arg, why);
	}
	return lp_cli_faults_check(f);
}

int lp_cli_faults_check(const struct lp_cli_faults *f)
{
	char err[256];

	if (f->live && lp_fault_plan_check_live(f->plan, f->local, err, sizeof(err)))
		return lp_usage_error("--fault: %s", err);
	return 0;
}

int lp_cli_flow_faults(const struct lp_cli_faults *f, const struct lp_flow *fl, bool many,
		       struct lp_fault_plan **out)
{
	struct lp_fault_plan *p = NULL;
	char err[256], in[32] = "";
	size_t left = 0;
	int rc;

	*out = NULL;
	if (!f->plan && !f->captured)
		return 0;
	if (many)
		snprintf(in, sizeof(in), "flow %u: ", fl->id);
	rc = lp_cli_faults_check(f);
	if (rc)
		return rc;
	if (lp_fault_plan_validate(f->plan, fl, err, sizeof(err)))
		return lp_usage_error("--fault: %s%s", in, err);
	if (lp_fault_plan_clone(f->plan, &p) ||
	    (f->captured && lp_faultcap_add(p, fl, f->live, f->local, &left))) {
		lp_fault_plan_free(p);
		return lp_env_error("out of memory");
	}
	if (left) {
		rc = snprintf(err, sizeof(err), "%s--fault captured: %zu of the %s's window or "
			      "application faults left out (a live %s makes only its own)", in, left,
			      f->local == LP_FAULT_CLIENT ? "server" : "client",
			      f->local == LP_FAULT_CLIENT ? "replay" : "responder");
		if (rc > 0 && many)
			log_dbg("%s", err);
		else if (rc > 0)
			log_info("%s", err);
	}
	if (!lp_fault_plan_count(p)) {
		lp_fault_plan_free(p);
		p = NULL;
	}
	*out = p;
	return 0;
}

int lp_cli_print_captured(const struct lp_flow *fl, FILE *fp)
{
	struct lp_capfault *v;
	size_t n, k = 0;

	if (lp_faultcap_derive(fl, &v, &n))
		return lp_env_error("out of memory");
	for (size_t i = 0; i < n; i++)
		k += v[i].spec[0] != '\0';
	fprintf(fp, "# --fault captured: %zu fault%s\n", k, k == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		if (v[i].spec[0])
			fprintf(fp, "%-28s # %s\n", v[i].spec, v[i].why);
		else
			fprintf(fp, "# %s\n", v[i].why);
	}
	free(v);
	return ferror(fp) ? LP_EXIT_ENV : 0;
}

void lp_cli_faults_free(struct lp_cli_faults *f)
{
	lp_fault_plan_free(f->plan);
	f->plan = NULL;
}

/* --json's value, for an error met before every option was read (getopt
 * takes any unambiguous prefix of --json). */
static const char *json_arg(int argc, char **argv)
{
	const char *v = NULL;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);

		if (n < 4 || strncmp(a, "--json", n))
			continue;
		if (eq)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
	}
	return v;
}

int lp_cli_json_close(struct lp_json_out *j, const char *path, int argc, char **argv, int rc)
{
	const char *why = lp_log_first_error();
	char dflt[64];
	bool bad;

	if (!path)
		path = json_arg(argc, argv);
	/* --json -: one document on standard output whatever happened. */
	if (!j->fp && rc && path && !strcmp(path, "-"))
		lp_cli_json_open(j, path);
	if (!j->fp)
		return rc;
	if (!j->written && rc) {
		if (!*why) {
			snprintf(dflt, sizeof(dflt), "exit status %d", rc);
			why = dflt;
		}
		lp_report_print_json_error(j->fp, rc, why);
	}
	bad = fflush(j->fp) || ferror(j->fp);
	if (j->fp != stdout && fclose(j->fp))
		bad = true;
	if (bad) {
		log_err("cannot write %s", j->fp == stdout ? "standard output" : j->path);
		rc = LP_EXIT_ENV;
	}
	j->fp = NULL;
	return rc;
}


/* The packet that holds the first byte after stream offset end. */
static uint32_t packet_at(const struct lp_flow *fl, enum lp_dir d, uint64_t end)
{
	const struct lp_segment *best = NULL;

	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];

		if (s->dir != d || !s->len || s->offset + s->len <= end)
			continue;
		if (!best || s->offset < best->offset)
			best = s;
	}
	return best ? best->packet : 0;
}

bool lp_cli_hole(const struct lp_flow *fl, enum lp_dir d, char *buf, size_t len)
{
	const struct lp_stream *st = &fl->dir[d];
	const struct lp_hole *h;
	char next[48] = "", more[96] = "";
	uint32_t pkt;

	if (!st->nholes)
		return false;
	h = &st->holes[0];
	pkt = packet_at(fl, d, h->offset + h->len);
	if (pkt)
		snprintf(next, sizeof(next), "; the bytes after it are in packet %u", pkt);
	if (st->nholes > 1)
		snprintf(more, sizeof(more), "; %zu holes, %llu bytes in all", st->nholes,
			 (unsigned long long)st->hole_bytes);
	snprintf(buf, len, "the %s stream lacks %llu bytes at offset %llu (not captured%s%s)",
		 d == LP_C2S ? "client" : "server", (unsigned long long)h->len,
		 (unsigned long long)h->offset, next, more);
	return true;
}

int lp_cli_holes_opt(const char *arg, bool *zero)
{
	if (!strcmp(arg, "refuse"))
		*zero = false;
	else if (!strcmp(arg, "zero"))
		*zero = true;
	else
		return lp_usage_error("--holes: '%s' is neither refuse nor zero", arg);
	return 0;
}

int lp_cli_check_holes(const char *file, const struct lp_flow *fl, enum lp_dir d, bool zero)
{
	char what[256];

	if (!lp_cli_hole(fl, d, what, sizeof(what)))
		return 0;
	if (zero) {
		log_warn("%s: flow %u: %s; --holes zero: zeros go in their place", file, fl->id,
			 what);
		return 0;
	}
	log_err("%s: flow %u: %s; a replay would send zeros in their place, so nothing is sent (--holes "
		"zero sends them knowingly)", file, fl->id, what);
	return LP_EXIT_BADINPUT;
}

static uint64_t trace_base;

static void trace_packet(void *ctx, bool out, const uint8_t *ip, size_t len)
{
	uint64_t t = lp_clock_ns(CLOCK_MONOTONIC) - trace_base;
	char line[512], ts[32];

	(void)ctx;
	snprintf(ts, sizeof(ts), "%llu.%06llu", (unsigned long long)(t / 1000000000u),
		 (unsigned long long)(t % 1000000000u / 1000u));
	fprintf(stderr, "  %11s %s %s\n", ts, out ? "out" : "in ", lp_pkt_str(ip, len, line, sizeof(line)));
}

void lp_cli_trace(struct lp_link *link)
{
	trace_base = lp_clock_ns(CLOCK_MONOTONIC);
	lp_link_set_trace(link, trace_packet, NULL);
}

int lp_cli_getopt_error(int opt, char *const *argv, int optind_now)
{
	const char *arg = optind_now > 0 ? argv[optind_now - 1] : "";

	if (opt == ':')
		return lp_usage_error("option '%s' requires an argument", arg);
	if (optopt && (arg[0] != '-' || arg[1] != '-'))
		return lp_usage_error("invalid option -- '%c'", optopt);
	return lp_usage_error("unrecognized option '%s'", arg);
}

int lp_cli_peer(const char *opt, const char *arg, const char *s, struct lp_link_choice *link,
		struct lp_endpoint *ep)
{
	struct lp_ep_arg ea;
	const char *kind;
	int rc = lp_ep_parse(s, &ea);

	if (rc == -ENODEV)
		return lp_usage_error("%s %s: no interface has the zone's number", opt, arg);
	if (rc && s == arg)
		return lp_usage_error("%s: '%s' is not ADDR, ADDR:PORT or [ADDR]:PORT", opt, s);
	if (rc)
		return lp_usage_error("%s %s: '%s' is not ADDR, ADDR:PORT or [ADDR]:PORT", opt, arg, s);
	*ep = ea.ep;
	if (!link)
		return 0;
	kind = lp_addr_kind_str(lp_addr_kind(ep));
	if (kind)
		return lp_usage_error("%s %s: a%s %s address cannot be a TCP peer", opt, arg,
				      kind[0] == 'u' ? "n" : "", kind);
	if (ea.maybe_port)
		log_warn("%s %s is read as one IPv6 address; for address %s and port %u write [%s]:%u", opt, s,
			 ea.alt_addr, ea.alt_port, ea.alt_addr, ea.alt_port);
	return lp_setup_zone(link, opt, arg, ea.zone);
}

int lp_cli_option(struct lp_cli_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 'r':
		if (o->file)
			return lp_usage_error("one capture: -r %s and %s", arg, o->file);
		o->file = arg;
		return 0;
	case 'f':
		o->flow = arg;
		return 0;
	case LP_OPT_SHARD:
		if (lp_flowset_parse_shard(arg, LP_FLOWSET_MAX_SHARDS, &o->shard_k, &o->shard_n))
			return lp_usage_error("--shard: '%s' is not K/N with 1 <= K <= N <= %d", arg,
					      LP_FLOWSET_MAX_SHARDS);
		return 0;
	case LP_OPT_MATCH:
		if (lp_match_parse(arg, &o->match))
			return lp_usage_error("--match: '%s' is not one of stream, size, bytes", arg);
		return 0;
	case LP_OPT_FAULT:
		return lp_cli_fault_arg(&o->faults, arg);
	case LP_OPT_SEED:
		if (lp_parse_uint(arg, 0, UINT64_MAX, &o->seed))
			return lp_usage_error("--seed: '%s' is not a number", arg);
		o->have_seed = true;
		return 0;
	case LP_OPT_HOLES:
		o->holes_set = true;
		return lp_cli_holes_opt(arg, &o->holes_zero);
	case LP_OPT_PATIENCE:
		return lp_opt_uint("--patience", arg, 1, 86400, "of seconds ", &o->patience_s);
	case LP_OPT_JSON:
		o->json = arg;
		return 0;
	case LP_OPT_USER:
		o->user = arg;
		return 0;
	case LP_OPT_STRICT:
		o->strict = true;
		return 0;
	case 'v':
		o->verbose++;
		lp_log_threshold = o->verbose > 1 ? LP_LOG_DEBUG : LP_LOG_INFO;
		return 0;
	case 'q':
		o->quiet = true;
		lp_log_threshold = LP_LOG_ERR;
		return 0;
	case 'h':
		o->usage(stdout);
		return LP_CLI_DONE;
	case 'V':
		printf("%s %s\n", lp_log_prog, LP_VERSION);
		return LP_CLI_DONE;
	default:
		return LP_CLI_NOT_MINE;
	}
}

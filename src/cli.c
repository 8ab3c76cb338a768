/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/faultcap.h"
#include "tcpliveplay/log.h"
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

/* "PROG: message" on stderr, without the newline. */
static void vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", lp_log_prog);
	vfprintf(stderr, fmt, ap);
}

int lp_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", lp_log_prog);
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
	vmessage(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

int lp_cli_select(const char *file, const struct lp_flows *flows, const char *sel,
		  const struct lp_flow **out)
{
	switch (lp_flows_select(flows, sel, out)) {
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
		return lp_usage_error("--flow: '%s' is neither a flow number nor ADDR:PORT-ADDR:PORT", sel);
	}
}

int lp_cli_select_many(const char *file, const struct lp_flows *flows, const char *sel,
		       const struct lp_flow ***out, size_t *n)
{
	int rc;

	if (!lp_flows_sel_is_list(sel)) {
		const struct lp_flow *one;

		rc = lp_cli_select(file, flows, sel, &one);
		if (rc)
			return rc;
	}
	switch (lp_flows_select_many(flows, sel, out, n)) {
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

int lp_cli_open_json(const char *path, FILE **fp)
{
	*fp = NULL;
	if (!path)
		return 0;
	if (!strcmp(path, "-")) {
		*fp = stdout;
		return 0;
	}
	*fp = fopen(path, "w");
	if (!*fp)
		return lp_env_error("cannot write %s: %s", path, strerror(errno));
	return 0;
}

int lp_cli_fault_arg(struct lp_cli_faults *f, const char *arg)
{
	char err[256];

	if (!strcmp(arg, "captured")) {
		f->captured = true;
		return 0;
	}
	if (!f->plan && lp_fault_plan_new(&f->plan))
		return lp_env_error("out of memory");
	if (lp_fault_plan_add(f->plan, arg, err, sizeof(err)))
		return lp_usage_error("--fault %s: %s", arg, err);
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

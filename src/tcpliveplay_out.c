/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpliveplay: the output the modes share (tcpliveplay_int.h). */
#include <stdio.h>
#include <string.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/report.h"

#include "tcpliveplay_int.h"

/* lp_cli_load() with the command line's options; c->cli.file then names
 * standard input as such. */
int tlp_load(struct ctx *c, struct lp_flows **flows)
{
	struct lp_loader ld = { .file = c->cli.file, .verbose = c->cli.verbose > 0, .strict = c->cli.strict };
	int rc = lp_cli_load(&ld, flows);

	c->cli.file = ld.file;
	return rc;
}

/* Events for -v; the timers and an ICMP error not taken only for -vv. */
static bool event_shown(const struct lp_event *ev)
{
	return (ev->kind != LP_EV_ICMP_IGNORED && ev->kind != LP_EV_TIMER) ||
	       lp_log_threshold >= LP_LOG_DEBUG;
}

void tlp_print_event(void *opaque, const struct lp_event *ev)
{
	char line[320];

	(void)opaque;
	if (event_shown(ev))
		fprintf(stderr, "  %s\n", lp_event_str(ev, line, sizeof(line)));
}

struct lp_json_out tlp_json_out;

/* A one-flow report as JSON, when asked for. 0 or an exit status. */
int tlp_json_write(const struct lp_report *rep)
{
	if (!tlp_json_out.fp)
		return 0;
	tlp_json_out.written = true;
	if (lp_report_print_json(rep, tlp_json_out.fp))
		return lp_env_error("cannot write %s", tlp_json_out.path);
	return 0;
}

void tlp_many_done(void *opaque, const struct lp_report *r)
{
	struct many_out *mo = opaque;

	lp_totals_add(&mo->totals, r);
	if (mo->text && lp_log_threshold >= LP_LOG_INFO)
		lp_report_print_line(r, stdout);
	if (mo->json)
		lp_json_flows_add(mo->json, r, mo->njson++);
}

void tlp_many_event(void *opaque, unsigned flow_id, const struct lp_event *ev)
{
	char line[320];

	(void)opaque;
	if (event_shown(ev))
		fprintf(stderr, "  [flow %u] %s\n", flow_id, lp_event_str(ev, line, sizeof(line)));
}

/* A flow of a many-flow replay that is not replayed. */
void tlp_many_skip(struct many_out *mo, const struct lp_flow *fl, const char *why)
{
	struct lp_report r;

	lp_report_init(&r);
	r.verdict = LP_VERDICT_SKIPPED;
	r.flow_id = fl->id;
	r.client = fl->client;
	r.server = fl->server;
	r.seed = mo->c->cli.seed;
	snprintf(r.reason, sizeof(r.reason), "%.150s", why);
	tlp_many_done(mo, &r);
}

/* The start of a many-flow report: the JSON document opens. */
void tlp_many_begin(struct many_out *mo)
{
	mo->json = tlp_json_out.fp;
	if (!mo->json)
		return;
	tlp_json_out.written = true;
	lp_json_flows_begin(mo->json);
}

/* The end of a many-flow report: the summary, the JSON document's end; the
 * exit status. */
int tlp_many_end(struct many_out *mo)
{
	int rc = mo->totals.exit_code;

	if (mo->text && lp_log_threshold >= LP_LOG_INFO)
		lp_totals_print_text(&mo->totals, stdout);
	if (mo->json && lp_json_flows_end(mo->json, &mo->totals))
		rc = lp_env_error("cannot write %s", tlp_json_out.path);
	mo->json = NULL;
	return rc;
}


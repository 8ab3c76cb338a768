/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpliveplay --list, --dump and --extract: a capture looked at, not replayed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/report.h"

#include "tcpliveplay_int.h"

static void opts_str(const struct lp_synopts *o, char *buf, size_t len)
{
	int n;

	if (!o->seen) {
		snprintf(buf, len, "-");
		return;
	}
	n = snprintf(buf, len, "win%u", o->window);
	if (o->has_mss && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ",mss%u", o->mss);
	if (o->has_wscale && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ",ws%u", o->wscale);
	if (o->sack_ok && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ",sack");
	if (o->has_ts && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ",ts");
}

static void print_flow_line(const struct lp_flow *fl)
{
	char a[64], b[64], co[64], so[64], notes[256];
	const struct lp_stream *cs = &fl->dir[LP_C2S], *ss = &fl->dir[LP_S2C];

	opts_str(&cs->opts, co, sizeof(co));
	opts_str(&ss->opts, so, sizeof(so));
	lp_flow_notes_str(fl->notes, notes, sizeof(notes));
	printf("%u %s -> %s c2s=%upkt/%lluB s2c=%upkt/%lluB syn=%s synack=%s fin=%s%s rst=%s%s"
	       " copts=%s sopts=%s retrans=%u/%u",
	       fl->id, lp_endpoint_str(&fl->client, a, sizeof(a)),
	       lp_endpoint_str(&fl->server, b, sizeof(b)),
	       cs->packets, (unsigned long long)cs->len, ss->packets, (unsigned long long)ss->len,
	       cs->syn ? "y" : "n", ss->syn ? "y" : "n",
	       cs->fin ? "c" : "", ss->fin ? "s" : (cs->fin ? "" : "-"),
	       cs->rst ? "c" : "", ss->rst ? "s" : (cs->rst ? "" : "-"),
	       co, so, cs->retransmissions, ss->retransmissions);
	if (cs->nholes || ss->nholes)
		printf(" holes=c2s:%zu/%lluB,s2c:%zu/%lluB", cs->nholes,
		       (unsigned long long)cs->hole_bytes, ss->nholes, (unsigned long long)ss->hole_bytes);
	else
		printf(" holes=none");
	printf(" notes=%s\n", notes[0] ? notes : "-");
}

/* "N TCP flows (at most B at once)": the capture's busiest moment. */
static int flows_str(const struct lp_flows *flows, char *buf, size_t len)
{
	size_t n = lp_flows_count(flows), busiest = 0;
	const struct lp_flow **all = calloc(n ? n : 1, sizeof(*all));

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		all[i] = lp_flows_get(flows, (unsigned)i + 1);
	if (lp_flowset_busiest(all, n, &busiest)) {
		free(all);
		return -ENOMEM;
	}
	free(all);
	if (n)
		snprintf(buf, len, "%zu TCP flow%s (at most %zu at once)", n, lp_plural(n), busiest);
	else
		snprintf(buf, len, "0 TCP flows");
	return 0;
}

int tlp_list(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_capture_stats *st;
	char nflows[64];
	int rc = tlp_load(c, &flows);

	if (rc)
		return rc;
	if (flows_str(flows, nflows, sizeof(nflows))) {
		lp_flows_free(flows);
		return lp_env_error("out of memory");
	}
	st = lp_flows_stats(flows);
	printf("# %s: %u packet%s, link type%s %s, %s, %u not TCP, %u fragment%s, %u malformed",
	       c->cli.file, st->packets, lp_plural(st->packets), strchr(st->linktype_name, '+') ? "s" : "",
	       st->linktype_name, nflows, st->other, st->fragments, lp_plural(st->fragments), st->malformed);
	if (st->unread)
		printf(", %u on link types not read (%s)", st->unread, st->unread_names);
	if (st->damaged_at)
		printf(", damaged from packet %u: %s", st->damaged_at, st->damage);
	putchar('\n');
	for (unsigned i = 1; i <= lp_flows_count(flows); i++)
		print_flow_line(lp_flows_get(flows, i));
	lp_flows_free(flows);
	return LP_EXIT_MATCHED;
}

static const char *flags_str(uint8_t f, char *buf, size_t len)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < 8; i++) {
		int n;

		if (!(f & (1u << i)))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i]);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* Load c's capture and pick its one flow (--flow): 0 or an exit status,
 * said; *flows to free in any case. */
static int load_one(struct ctx *c, struct lp_flows **flows, const struct lp_flow **fl)
{
	int rc = tlp_load(c, flows);

	return rc ? rc : lp_cli_select(c->cli.file, *flows, c->cli.flow, fl);
}

int tlp_dump(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	char a[64], b[64], notes[256];
	int rc = load_one(c, &flows, &fl);

	if (rc)
		goto out;
	lp_flow_notes_str(fl->notes, notes, sizeof(notes));
	printf("# flow %u: %s -> %s, client %llu bytes, server %llu bytes, notes=%s\n", fl->id,
	       lp_endpoint_str(&fl->client, a, sizeof(a)), lp_endpoint_str(&fl->server, b, sizeof(b)),
	       (unsigned long long)fl->dir[LP_C2S].len, (unsigned long long)fl->dir[LP_S2C].len,
	       notes[0] ? notes : "-");
	printf("# %11s %-3s %-6s %10s %7s %10s %-16s %s\n", "time", "dir", "label", "offset", "len",
	       "ack", "flags", "packet");
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];
		/* Capture clocks can step back: print such a time as a negative offset. */
		bool neg = s->ts_ns < fl->first_ts;
		uint64_t t = neg ? fl->first_ts - s->ts_ns : s->ts_ns - fl->first_ts;
		char label[16], fb[48];

		if (s->label)
			snprintf(label, sizeof(label), "%c%u", s->dir == LP_C2S ? 'C' : 'S', s->label);
		else
			snprintf(label, sizeof(label), "-");
		printf("  %s%3llu.%06llu %-3s %-6s %10llu %7u %10llu %-16s %u\n", neg ? "-" : " ",
		       (unsigned long long)(t / 1000000000u), (unsigned long long)(t % 1000000000u / 1000u),
		       s->dir == LP_C2S ? "C>S" : "S>C", label, (unsigned long long)s->offset, s->len,
		       (unsigned long long)s->ack, flags_str(s->flags, fb, sizeof(fb)), s->packet);
	}
	for (int d = 0; d < 2; d++) {
		const struct lp_stream *st = &fl->dir[d];

		for (size_t k = 0; k < st->nholes; k++)
			printf("# hole in %s stream: %llu bytes at offset %llu\n", d == LP_C2S ? "client" : "server",
			       (unsigned long long)st->holes[k].len, (unsigned long long)st->holes[k].offset);
	}
	rc = c->cli.faults.captured ? lp_cli_print_captured(fl, stdout) : LP_EXIT_MATCHED;
out:
	lp_flows_free(flows);
	return rc;
}

int tlp_extract(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	struct lp_hole hole;
	enum lp_dir dir;
	char path[4096];
	int rc = load_one(c, &flows, &fl);

	if (rc)
		goto out;
	if (lp_flow_first_hole(fl, &dir, &hole)) {
		log_err("%s: flow %u: the %s stream has %llu bytes missing at offset %llu (not captured); "
			"cannot extract it whole", c->cli.file, fl->id, dir == LP_C2S ? "client" : "server",
			(unsigned long long)hole.len, (unsigned long long)hole.offset);
		rc = LP_EXIT_BADINPUT;
		goto out;
	}
	for (int d = 0; d < 2; d++) {
		const char *name = d == LP_C2S ? "client.bin" : "server.bin";
		int wrc;

		snprintf(path, sizeof(path), "%s/%s", c->outdir, name);
		wrc = lp_stream_write(&fl->dir[d], path);
		if (wrc) {
			log_err("cannot write %s: %s", path, strerror(-wrc));
			rc = LP_EXIT_ENV;
			goto out;
		}
		if (lp_log_threshold >= LP_LOG_INFO)
			printf("%s: %llu bytes\n", path, (unsigned long long)fl->dir[d].len);
	}
	rc = LP_EXIT_MATCHED;
out:
	lp_flows_free(flows);
	return rc;
}

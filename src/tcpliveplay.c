/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay: the command line. Options are parsed into a context with its
 * defaults set first; every message for the user is written here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/sim.h"
#include "tcpliveplay/util.h"

enum exit_status {
	EXIT_MATCHED = 0,
	EXIT_DIVERGED = 1,
	EXIT_BADINPUT = 2,
	EXIT_ENV = 3,
};

enum mode { MODE_NONE, MODE_LIST, MODE_EXTRACT, MODE_DUMP, MODE_SIMULATE };

struct ctx {
	enum mode mode;
	const char *file;
	const char *flow;
	const char *outdir;
	const char *json;
	struct lp_fault_plan *faults;
	bool have_seed;
	uint64_t seed;
	enum lp_match match;
	struct lp_timing timing;
	unsigned rto_ms, retries;
	int verbose;
	unsigned warned;      /* skipped-packet warnings printed */
	unsigned unwarned;    /* and not printed */
};

#define MAX_WARNINGS 10

enum {
	OPT_FAULT = 256,
	OPT_SEED,
	OPT_MATCH,
	OPT_TIMING,
	OPT_RTO,
	OPT_RETRIES,
	OPT_JSON,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tcpliveplay --list FILE\n"
		"       tcpliveplay --dump -r FILE [--flow SEL]\n"
		"       tcpliveplay --extract DIR -r FILE [--flow SEL]\n"
		"       tcpliveplay --simulate -r FILE [--flow SEL] [--fault SPEC]... [--seed N]\n"
		"\n"
		"Replay the client side of a captured TCP conversation against a live host.\n"
		"\n"
		"Capture inspection:\n"
		"  -l, --list FILE       list every TCP flow of FILE, one line each, numbered\n"
		"  -d, --dump            print the segment schedule of one flow\n"
		"  -x, --extract DIR     write DIR/client.bin and DIR/server.bin, the two streams\n"
		"  -r, --read FILE       the capture (pcap or pcapng)\n"
		"  -f, --flow SEL        the flow: a number from --list, or ADDR:PORT-ADDR:PORT\n"
		"                        ([ADDR]:PORT for IPv6); not needed for a single flow\n"
		"\n"
		"Replay:\n"
		"  -S, --simulate        replay FILE's client against its server, both emulated,\n"
		"                        over an in-memory wire in virtual time; print the verdict\n"
		"      --fault SPEC      misbehave on purpose, repeatable: [client:|server:]KIND[:ARGS]\n"
		"                        drop:SEG dup:SEG delay:SEG:MS reorder:SEG corrupt:SEG\n"
		"                        truncate:SEG:BYTES rst:SEG stall:SEG loss:P%% dup:P%% reorder:P%%\n"
		"                        (SEG: that side's data segment, as --dump labels it;\n"
		"                        no prefix means server)\n"
		"      --seed N          fix ISNs, ports and every random choice (default: fresh,\n"
		"                        printed so the run can be repeated)\n"
		"      --match POLICY    stream (default): the peer delivers as many bytes as\n"
		"                        captured; size: each peer message has the captured size;\n"
		"                        bytes: the peer's bytes equal the captured ones\n"
		"      --timing T        asap (default), capture (captured think-times) or xN\n"
		"                        (think-times divided by N)\n"
		"      --rto MS          retransmission timeout floor (default 200)\n"
		"      --retries N       retransmissions of one segment before giving up (default 6)\n"
		"      --json FILE       also write the report as JSON to FILE ('-': stdout only)\n"
		"\n"
		"General:\n"
		"  -v, --verbose         say more (repeat for debugging output)\n"
		"  -q, --quiet           print errors only\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"\n"
		"Exit status: 0 success (replay matched), 1 replay diverged or failed, 2 bad usage or input,\n"
		"3 environment (permission, interface, route).\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcpliveplay: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'tcpliveplay --help' for more information.\n");
	return EXIT_BADINPUT;
}

static void warn_packet(void *opaque, uint32_t packet, const char *what)
{
	struct ctx *c = opaque;

	if (c->warned >= MAX_WARNINGS && !c->verbose) {
		c->unwarned++;
		return;
	}
	c->warned++;
	log_warn("%s: packet %u: %s, skipped", c->file, packet, what);
}

static int load(struct ctx *c, struct lp_flows **flows)
{
	char err[512];
	int rc;

	rc = lp_flows_load(c->file, warn_packet, c, flows, err, sizeof(err));
	if (c->unwarned)
		log_warn("%s: %u more packets skipped", c->file, c->unwarned);
	if (rc) {
		log_err("%s: %s", c->file, err);
		return rc == -ENOMEM ? EXIT_ENV : EXIT_BADINPUT;
	}
	if (!lp_flows_count(*flows)) {
		const struct lp_capture_stats *st = lp_flows_stats(*flows);

		log_err("%s: no TCP connection found (%u packets: %u not TCP, %u fragments, %u malformed)",
			c->file, st->packets, st->other, st->fragments, st->malformed);
		lp_flows_free(*flows);
		*flows = NULL;
		return EXIT_BADINPUT;
	}
	return 0;
}

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

static int do_list(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_capture_stats *st;
	int rc = load(c, &flows);

	if (rc)
		return rc;
	st = lp_flows_stats(flows);
	printf("# %s: %u packets, link type %s, %zu TCP flows, %u not TCP, %u fragments, %u malformed\n",
	       c->file, st->packets, st->linktype_name, lp_flows_count(flows), st->other,
	       st->fragments, st->malformed);
	for (unsigned i = 1; i <= lp_flows_count(flows); i++)
		print_flow_line(lp_flows_get(flows, i));
	lp_flows_free(flows);
	return EXIT_MATCHED;
}

static int select_flow(struct ctx *c, const struct lp_flows *flows, const struct lp_flow **fl)
{
	int rc = lp_flows_select(flows, c->flow, fl);

	switch (rc) {
	case 0:
		return 0;
	case -ENOTUNIQ:
		log_err("%s: %zu TCP flows; choose one with --flow (a number or ADDR:PORT-ADDR:PORT):",
			c->file, lp_flows_count(flows));
		for (unsigned i = 1; i <= lp_flows_count(flows); i++) {
			char a[64], b[64];
			const struct lp_flow *f = lp_flows_get(flows, i);

			fprintf(stderr, "  %u %s -> %s\n", i, lp_endpoint_str(&f->client, a, sizeof(a)),
				lp_endpoint_str(&f->server, b, sizeof(b)));
		}
		return EXIT_BADINPUT;
	case -ENOENT:
		log_err("%s: no flow matches --flow %s (see --list)", c->file, c->flow);
		return EXIT_BADINPUT;
	default:
		return usage_error("--flow: '%s' is neither a flow number nor ADDR:PORT-ADDR:PORT", c->flow);
	}
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

static int do_dump(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	char a[64], b[64], notes[256];
	int rc = load(c, &flows);

	if (rc)
		return rc;
	rc = select_flow(c, flows, &fl);
	if (rc)
		goto out;
	lp_flow_notes_str(fl->notes, notes, sizeof(notes));
	printf("# flow %u: %s -> %s, client %llu bytes, server %llu bytes, notes=%s\n", fl->id,
	       lp_endpoint_str(&fl->client, a, sizeof(a)), lp_endpoint_str(&fl->server, b, sizeof(b)),
	       (unsigned long long)fl->dir[LP_C2S].len, (unsigned long long)fl->dir[LP_S2C].len,
	       notes[0] ? notes : "-");
	printf("# %10s %-3s %-6s %10s %7s %10s %-16s %s\n", "time", "dir", "label", "offset", "len",
	       "ack", "flags", "packet");
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];
		uint64_t t = s->ts_ns - fl->first_ts;
		char label[16], fb[48];

		if (s->label)
			snprintf(label, sizeof(label), "%c%u", s->dir == LP_C2S ? 'C' : 'S', s->label);
		else
			snprintf(label, sizeof(label), "-");
		printf("  %3llu.%06llu %-3s %-6s %10llu %7u %10llu %-16s %u\n",
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
	rc = EXIT_MATCHED;
out:
	lp_flows_free(flows);
	return rc;
}

static int do_extract(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	struct lp_hole hole;
	enum lp_dir dir;
	char path[4096];
	int rc = load(c, &flows);

	if (rc)
		return rc;
	rc = select_flow(c, flows, &fl);
	if (rc)
		goto out;
	if (lp_flow_first_hole(fl, &dir, &hole)) {
		log_err("%s: flow %u: the %s stream has %llu bytes missing at offset %llu (not captured); "
			"cannot extract it whole", c->file, fl->id, dir == LP_C2S ? "client" : "server",
			(unsigned long long)hole.len, (unsigned long long)hole.offset);
		rc = EXIT_BADINPUT;
		goto out;
	}
	if (mkdir(c->outdir, 0755) && errno != EEXIST) {
		log_err("cannot create %s: %s", c->outdir, strerror(errno));
		rc = EXIT_ENV;
		goto out;
	}
	for (int d = 0; d < 2; d++) {
		const char *name = d == LP_C2S ? "client.bin" : "server.bin";
		int wrc;

		snprintf(path, sizeof(path), "%s/%s", c->outdir, name);
		wrc = lp_write_file(path, fl->dir[d].data, fl->dir[d].len);
		if (wrc) {
			log_err("cannot write %s: %s", path, strerror(-wrc));
			rc = EXIT_ENV;
			goto out;
		}
		log_info("%s: %llu bytes", path, (unsigned long long)fl->dir[d].len);
	}
	rc = EXIT_MATCHED;
out:
	lp_flows_free(flows);
	return rc;
}

static void print_event(void *opaque, const struct lp_event *ev)
{
	char line[256];

	(void)opaque;
	printf("  %s\n", lp_event_str(ev, line, sizeof(line)));
}

static int write_json(const struct ctx *c, const struct lp_report *rep)
{
	FILE *fp;
	int rc;

	if (!strcmp(c->json, "-"))
		return lp_report_print_json(rep, stdout) ? EXIT_ENV : 0;
	fp = fopen(c->json, "w");
	if (!fp) {
		log_err("cannot write %s: %s", c->json, strerror(errno));
		return EXIT_ENV;
	}
	rc = lp_report_print_json(rep, fp);
	if (fclose(fp) || rc) {
		log_err("cannot write %s", c->json);
		return EXIT_ENV;
	}
	return 0;
}

static int do_simulate(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	struct lp_sim_opts so;
	struct lp_report rep;
	char a[64], b[64], err[256];
	bool text = !c->json || strcmp(c->json, "-");
	int rc = load(c, &flows);

	if (rc)
		return rc;
	rc = select_flow(c, flows, &fl);
	if (rc)
		goto out;
	if (c->faults && lp_fault_plan_validate(c->faults, fl, err, sizeof(err))) {
		rc = usage_error("--fault: %s", err);
		goto out;
	}
	if (!c->have_seed && getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed)) {
		log_err("no randomness for a seed: %s", strerror(errno));
		rc = EXIT_ENV;
		goto out;
	}
	lp_sim_opts_init(&so);
	so.seed = c->seed;
	so.faults = c->faults;
	so.match = c->match;
	so.timing = c->timing;
	so.rto_min_ms = c->rto_ms;
	so.retries = c->retries;
	if (text && lp_log_threshold >= LP_LOG_INFO)
		printf("simulate flow %u: %s -> %s, seed %llu\n", fl->id,
		       lp_endpoint_str(&fl->client, a, sizeof(a)),
		       lp_endpoint_str(&fl->server, b, sizeof(b)), (unsigned long long)c->seed);
	rc = lp_sim_run(fl, &so, &rep, text && c->verbose ? print_event : NULL, c);
	if (rc) {
		log_err("%s: flow %u cannot be simulated: %s", c->file, fl->id, strerror(-rc));
		rc = rc == -ENOMEM ? EXIT_ENV : EXIT_BADINPUT;
		goto out;
	}
	if (text && lp_log_threshold >= LP_LOG_INFO)
		lp_report_print_text(&rep, stdout);
	else if (text)
		printf("%s\n", lp_verdict_str(rep.verdict));
	rc = rep.exit_code;
	if (c->json) {
		int jrc = write_json(c, &rep);

		if (jrc)
			rc = jrc;
	}
out:
	lp_flows_free(flows);
	return rc;
}

static int set_mode(struct ctx *c, enum mode m)
{
	if (c->mode != MODE_NONE && c->mode != m)
		return -1;
	c->mode = m;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "dump", no_argument, NULL, 'd' },
		{ "extract", required_argument, NULL, 'x' },
		{ "read", required_argument, NULL, 'r' },
		{ "flow", required_argument, NULL, 'f' },
		{ "simulate", no_argument, NULL, 'S' },
		{ "fault", required_argument, NULL, OPT_FAULT },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "match", required_argument, NULL, OPT_MATCH },
		{ "timing", required_argument, NULL, OPT_TIMING },
		{ "rto", required_argument, NULL, OPT_RTO },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .mode = MODE_NONE, .match = LP_MATCH_STREAM, .timing = { LP_TIMING_ASAP, 1.0 } };
	uint64_t v;
	char err[256];
	int opt, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lp_log_prog = "tcpliveplay";
	while ((opt = getopt_long(argc, argv, "l:dx:r:f:SvqhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			if (set_mode(&c, MODE_SIMULATE))
				goto two_modes;
			break;
		case OPT_FAULT:
			if (!c.faults && lp_fault_plan_new(&c.faults)) {
				log_err("out of memory");
				return EXIT_ENV;
			}
			if (lp_fault_plan_add(c.faults, optarg, err, sizeof(err))) {
				rc = usage_error("--fault %s: %s", optarg, err);
				goto out;
			}
			break;
		case OPT_SEED:
			if (lp_parse_uint(optarg, 0, UINT64_MAX, &c.seed)) {
				rc = usage_error("--seed: '%s' is not a number", optarg);
				goto out;
			}
			c.have_seed = true;
			break;
		case OPT_MATCH:
			if (lp_match_parse(optarg, &c.match)) {
				rc = usage_error("--match: '%s' is not one of stream, size, bytes", optarg);
				goto out;
			}
			break;
		case OPT_TIMING:
			if (lp_timing_parse(optarg, &c.timing)) {
				rc = usage_error("--timing: '%s' is not asap, capture or xN", optarg);
				goto out;
			}
			break;
		case OPT_RTO:
			if (lp_parse_uint(optarg, 1, 60000, &v)) {
				rc = usage_error("--rto: '%s' is not a number of milliseconds from 1 to 60000", optarg);
				goto out;
			}
			c.rto_ms = (unsigned)v;
			break;
		case OPT_RETRIES:
			if (lp_parse_uint(optarg, 1, 100, &v)) {
				rc = usage_error("--retries: '%s' is not a number from 1 to 100", optarg);
				goto out;
			}
			c.retries = (unsigned)v;
			break;
		case OPT_JSON:
			c.json = optarg;
			break;
		case 'l':
			if (set_mode(&c, MODE_LIST))
				goto two_modes;
			c.file = optarg;
			break;
		case 'd':
			if (set_mode(&c, MODE_DUMP))
				goto two_modes;
			break;
		case 'x':
			if (set_mode(&c, MODE_EXTRACT))
				goto two_modes;
			c.outdir = optarg;
			break;
		case 'r':
			c.file = optarg;
			break;
		case 'f':
			c.flow = optarg;
			break;
		case 'v':
			c.verbose++;
			lp_log_threshold = c.verbose > 1 ? LP_LOG_DEBUG : LP_LOG_INFO;
			break;
		case 'q':
			lp_log_threshold = LP_LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			rc = EXIT_MATCHED;
			goto out;
		case 'V':
			printf("tcpliveplay %s\n", LP_VERSION);
			rc = EXIT_MATCHED;
			goto out;
		default:
			fprintf(stderr, "Try 'tcpliveplay --help' for more information.\n");
			rc = EXIT_BADINPUT;
			goto out;
		}
	}
	if (optind < argc) {
		rc = usage_error("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (c.mode == MODE_NONE) {
		rc = usage_error("nothing to do: give --list, --dump, --extract or --simulate");
		goto out;
	}
	if (!c.file) {
		rc = usage_error("no capture: give -r FILE");
		goto out;
	}
	if (c.mode != MODE_SIMULATE && (c.faults || c.have_seed || c.json)) {
		rc = usage_error("--fault, --seed and --json go with --simulate");
		goto out;
	}
	switch (c.mode) {
	case MODE_LIST:
		rc = do_list(&c);
		break;
	case MODE_DUMP:
		rc = do_dump(&c);
		break;
	case MODE_EXTRACT:
		rc = do_extract(&c);
		break;
	case MODE_SIMULATE:
		rc = do_simulate(&c);
		break;
	default:
		rc = EXIT_BADINPUT;
		break;
	}
	goto out;
two_modes:
	rc = usage_error("choose one of --list, --dump, --extract, --simulate");
out:
	lp_fault_plan_free(c.faults);
	return rc;
}

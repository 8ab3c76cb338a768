/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay: the command line. Options are parsed into a context with its
 * defaults set first; every message for the user is written here.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/link.h"
#include "tcpliveplay/live.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/multi.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/setup.h"
#include "tcpliveplay/sim.h"
#include "tcpliveplay/trace.h"
#include "tcpliveplay/util.h"

enum mode { MODE_NONE, MODE_LIST, MODE_EXTRACT, MODE_DUMP, MODE_SIMULATE, MODE_LIVE };

enum rst_guard { GUARD_AUTO, GUARD_OFF };

#define MAX_DST 64
/* How long the peer may stay silent while we wait for its bytes. */
#define DEFAULT_PATIENCE_S 10
/* Meanwhile a keepalive every so often tells a live peer from a gone one. */
#define KEEPALIVE_MS 2000
#define CONCURRENCY_UNLIMITED SIZE_MAX
/* Retransmission timers of many flows: up to this much longer, at random. */
#define RTO_JITTER_PCT 25
/* Source ports 1024 to 65535, one per flow. */
#define MAX_FLOWS (65536 - 1024)

/* A --dst: OLD=NEW maps a captured server (address, or address and port)
 * to a live one; a plain ADDR[:PORT] takes every flow no mapping names. */
struct dst_map {
	bool has_old;
	struct lp_endpoint old, live;
};

struct ctx {
	enum mode mode;
	const char *file;
	const char *flow;
	const char *outdir;
	const char *json;
	struct lp_cli_faults faults;
	bool have_seed;
	uint64_t seed;
	enum lp_match match;
	struct lp_timing timing;
	unsigned rto_ms, retries;
	/* live replay */
	struct lp_link_choice link;  /* -i IFACE, or --tap NAME and --tap-addr */
	const char *dsts[MAX_DST];/* ADDR[:PORT] or OLD=NEW */
	struct dst_map maps[MAX_DST];/* each of dsts, parsed */
	size_t ndst;
	size_t concurrency;       /* many flows: in flight at most; 0: the capture's busiest moment */
	unsigned shard_k, shard_n;/* --shard K/N; 0/0: none */
	bool any_client;
	const char *dst_mac;
	const char *src;
	const char *sport;        /* N or "random" */
	const char *write;
	struct lp_pcapw *writer;  /* --write, open from the start */
	const char *user;
	enum rst_guard guard;
	bool guard_set;
	uint64_t timeout_s;
	uint64_t patience_s;      /* --patience; 0: --timeout's, else DEFAULT_PATIENCE_S */
	bool classic;
	int verbose;
	bool strict;
	bool holes_zero;          /* --holes zero: send zeros for bytes the capture lacks */
	bool holes_set;
};

enum {
	OPT_FAULT = 256,
	OPT_SEED,
	OPT_MATCH,
	OPT_TIMING,
	OPT_RTO,
	OPT_RETRIES,
	OPT_JSON,
	OPT_DST,
	OPT_DST_MAC,
	OPT_SRC,
	OPT_SPORT,
	OPT_TIMEOUT,
	OPT_RST_GUARD,
	OPT_WRITE,
	OPT_USER,
	OPT_CONCURRENCY,
	OPT_ANY_CLIENT,
	OPT_SHARD,
	OPT_STRICT,
	OPT_HOLES,
	OPT_PATIENCE,
};

/* The live replay's part of --help. */
static void usage_live(FILE *out)
{
	fprintf(out,
		"Live replay on an interface (needs CAP_NET_RAW, and CAP_NET_ADMIN for the\n"
		"RST guard):\n"
		"  -i, --interface IFACE send and capture on IFACE (default: the interface of the\n"
		"                        kernel's route to --dst; a given one must be that)\n"
		"      --dst ADDR[:PORT] the live host: ADDR, IPv4ADDR:PORT or [ADDR]:PORT; an IPv6\n"
		"                        zone (fe80::1%%eth0, [fe80::1%%eth0]:80) names the\n"
		"                        interface; the port defaults to the captured server's\n"
		"      --dst OLD=NEW     repeatable: flows to the captured server OLD (ADDR or\n"
		"                        ADDR:PORT) go to NEW (ADDR[:PORT]); a plain --dst takes\n"
		"                        the flows no mapping names\n"
		"      --dst-mac MAC     the next hop's MAC (default, or 'auto': the kernel's\n"
		"                        neighbour table, else ARP / neighbour solicitation)\n"
		"      --src ADDR        source address (default: the route's preferred source;\n"
		"                        behind a TAP, the address next to the host side's);\n"
		"                        one the host does not own is answered for (ARP/NDP)\n"
		"      --sport N|random  source port (default random: in 49152-65535, clear of\n"
		"                        the kernel's ephemeral ports when they leave room);\n"
		"                        with many flows, the first of consecutive ports\n"
		"      --rst-guard auto|on|off  drop the local kernel's RSTs for this connection\n"
		"                        with an nftables table owned by the process (default\n"
		"                        auto, or on: when the source address is local)\n"
		"      --timeout S       give up after S seconds (and wait that long for a slow\n"
		"                        peer, unless --patience says otherwise)\n"
		"      --write FILE      record the live conversation as a pcap\n"
		"      --user USER       once set up, run as USER (when started as root); every\n"
		"                        capability is dropped after set-up in any case\n"
		"  The classic call IFACE FILE DST_IP DST_MAC SPORT|random is the same as\n"
		"  -i IFACE -r FILE --dst DST_IP --dst-mac DST_MAC --sport SPORT.\n"
		"\n"
		"Live replay behind a TAP device, against a server of this host (no privilege\n"
		"on a TAP of yours: ip tuntap add dev NAME mode tap user USER, once, as root):\n"
		"      --tap NAME        instead of -i: the replayed client sits behind TAP NAME,\n"
		"                        which is attached to, or made (CAP_NET_ADMIN) for the\n"
		"                        run and removed at its end; --dst is an address of this\n"
		"                        host, --src one of the TAP's subnet\n"
		"      --tap-addr ADDR/PREFIX  repeatable, for a TAP made here: an address of its\n"
		"                        host side (IPv4 or IPv6; the kernel routes the prefix)\n"
		"\n");
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tcpliveplay [OPTIONS] [-i IFACE] -r FILE --dst ADDR[:PORT]\n"
		"       tcpliveplay [OPTIONS] --tap NAME -r FILE --dst ADDR[:PORT]\n"
		"       tcpliveplay [OPTIONS] IFACE FILE DST_IP DST_MAC SPORT|random\n"
		"       tcpliveplay --list FILE   (or --list -r FILE)\n"
		"       tcpliveplay --dump -r FILE [--flow SEL] [--fault captured]\n"
		"       tcpliveplay --extract DIR -r FILE [--flow SEL]\n"
		"       tcpliveplay --simulate -r FILE [--flow SEL] [--fault SPEC]... [--seed N]\n"
		"\n"
		"Replay the client side of a captured TCP conversation against a live host.\n"
		"\n");
	usage_live(out);
	fprintf(out,
		"Capture inspection:\n"
		"  -l, --list [FILE]     list every TCP flow of FILE (or -r FILE), one line each,\n"
		"                        numbered\n"
		"  -d, --dump            print the segment schedule of one flow\n"
		"  -x, --extract DIR     write DIR/client.bin and DIR/server.bin, the two streams\n"
		"  -r, --read FILE       the capture: pcap or pcapng, plain or compressed (gzip,\n"
		"                        xz, zstd); '-' reads standard input (so does --list -)\n"
		"      --strict          refuse a damaged capture (default: read every packet\n"
		"                        before the damage, with a warning)\n"
		"  -f, --flow SEL        the flow: a number from --list, ADDR:PORT-ADDR:PORT or\n"
		"                        'ADDR:PORT -> ADDR:PORT' as --list prints it ([ADDR]:PORT\n"
		"                        for IPv6); not needed for a single flow.\n"
		"                        Replays (live and --simulate) also take 'all' or a list\n"
		"                        such as 1,3,5-9: the flows run concurrently, each with\n"
		"                        its own source port, with a line per flow and a summary\n"
		"\n"
		"Replay (live and simulated):\n"
		"  -S, --simulate        replay FILE's client against its server, both emulated,\n"
		"                        over an in-memory wire in virtual time; print the verdict\n"
		"      --fault SPEC      misbehave on purpose, repeatable: [client:|server:]KIND[:ARGS]\n"
		"                        drop:SEG dup:SEG delay:SEG:MS reorder:SEG corrupt:SEG\n"
		"                        truncate:SEG:BYTES rst:SEG stall:SEG loss:P%% dup:P%% reorder:P%%\n"
		"                        zero-window:SEG:MS (the side's window shut for MS once the\n"
		"                        peer's SEG is in) window:BYTES (the side's window never more);\n"
		"                        mtu:BYTES (a smaller hop: ICMP packet too big),\n"
		"                        unreachable:SEG|syn[:CODE] (ICMP unreachable);\n"
		"                        SEG: a label as --dump prints it (C3, S2); no prefix means\n"
		"                        server. Live, the server's faults act on what arrives from\n"
		"                        it (the first packet with any byte of SEG): drop, dup,\n"
		"                        delay, reorder, corrupt, loss. --fault captured: the\n"
		"                        capture's own losses, duplicates, zero windows and resets\n"
		"                        (--dump --fault captured prints them)\n"
		"      --seed N          fix ISNs, ports and every random choice (default: fresh,\n"
		"                        printed so the run can be repeated)\n"
		"      --match POLICY    stream (default): the peer delivers as many bytes as\n"
		"                        captured; size: each peer message has the captured size;\n"
		"                        bytes: the peer's bytes equal the captured ones\n"
		"      --timing T        asap (default), capture (captured think-times) or xN\n"
		"                        (think-times divided by N)\n"
		"      --rto MS          retransmission timeout floor (default 200)\n"
		"      --retries N       retransmissions of one segment before giving up (default 6)\n"
		"      --patience S      how long the peer may stay silent while the replay waits\n"
		"                        for its bytes (default: --timeout's, else 10); then the\n"
		"                        replay fails (no answer) or, if part of the answer came,\n"
		"                        diverges. Live, keepalives check the peer meanwhile\n"
		"      --holes refuse|zero  a stream the replay sends lacks bytes (not captured):\n"
		"                        refuse (default: exit 2 before anything is sent; with\n"
		"                        many flows, skip that flow) or send zeros in their place\n"
		"      --json FILE       also write the report as JSON to FILE; '-': standard\n"
		"                        output only, one JSON document whatever happens (an error\n"
		"                        too: exit_code, error)\n"
		"      --concurrency N|unlimited  many flows: at most N in flight (default: as\n"
		"                        many as the capture had open at its busiest moment, as\n"
		"                        --list prints; with --timing capture, no limit: flows\n"
		"                        start as captured); unlimited: all at once (load tests)\n"
		"      --shard K/N       replay the K-th of N parts of the selected flows (dealt\n"
		"                        round-robin in capture order) from the K-th of N disjoint\n"
		"                        blocks of source ports, so that N processes replay one\n"
		"                        capture together; reports keep the capture's flow numbers\n"
		"      --any-client      many flows: also replay flows whose captured client is\n"
		"                        not the first flow's (they are skipped otherwise)\n"
		"  All of these apply to live replays too.\n"
		"\n"
		"General:\n"
		"  -v, --verbose         each step of the replay, on stderr; -vv also each packet\n"
		"                        in and out, each timer and the ICMP errors not taken\n"
		"  -q, --quiet           print errors only (the exit status tells the verdict)\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"\n"
		"Exit status: 0 success (replay matched), 1 replay diverged or failed, 2 bad usage\n"
		"or input, 3 environment (permission, interface, route, neighbour, output file).\n"
		"With many flows: 0 only when every flow replayed matched.\n");
}

static int load(struct ctx *c, struct lp_flows **flows)
{
	struct lp_loader ld = { .file = c->file, .verbose = c->verbose > 0, .strict = c->strict };
	int rc = lp_cli_load(&ld, flows);

	c->file = ld.file;
	return rc;
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

static int do_list(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_capture_stats *st;
	char nflows[64];
	int rc = load(c, &flows);

	if (rc)
		return rc;
	if (flows_str(flows, nflows, sizeof(nflows))) {
		lp_flows_free(flows);
		return lp_env_error("out of memory");
	}
	st = lp_flows_stats(flows);
	printf("# %s: %u packet%s, link type%s %s, %s, %u not TCP, %u fragment%s, %u malformed",
	       c->file, st->packets, lp_plural(st->packets), strchr(st->linktype_name, '+') ? "s" : "",
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

static int do_dump(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	char a[64], b[64], notes[256];
	int rc = load(c, &flows);

	if (rc)
		return rc;
	rc = lp_cli_select(c->file, flows, c->flow, &fl);
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
	rc = c->faults.captured ? lp_cli_print_captured(fl, stdout) : LP_EXIT_MATCHED;
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
	rc = lp_cli_select(c->file, flows, c->flow, &fl);
	if (rc)
		goto out;
	if (lp_flow_first_hole(fl, &dir, &hole)) {
		log_err("%s: flow %u: the %s stream has %llu bytes missing at offset %llu (not captured); "
			"cannot extract it whole", c->file, fl->id, dir == LP_C2S ? "client" : "server",
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

/* Events for -v; the timers and an ICMP error not taken only for -vv. */
static bool event_shown(const struct lp_event *ev)
{
	return (ev->kind != LP_EV_ICMP_IGNORED && ev->kind != LP_EV_TIMER) ||
	       lp_log_threshold >= LP_LOG_DEBUG;
}

static void print_event(void *opaque, const struct lp_event *ev)
{
	char line[320];

	(void)opaque;
	if (event_shown(ev))
		fprintf(stderr, "  %s\n", lp_event_str(ev, line, sizeof(line)));
}

/* The --json report, opened before any work and closed by main(). */
static struct lp_json_out json_out;

/* A one-flow report as JSON, when asked for. 0 or an exit status. */
static int json_write(const struct lp_report *rep)
{
	if (!json_out.fp)
		return 0;
	json_out.written = true;
	if (lp_report_print_json(rep, json_out.fp))
		return lp_env_error("cannot write %s", json_out.path);
	return 0;
}

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

static bool addr_eq(const struct lp_endpoint *a, const struct lp_endpoint *b);

/* The OLD part of an OLD=NEW argument, for messages. */
static const char *old_str(const struct dst_map *d, const char *arg)
{
	static char buf[INET6_ADDRSTRLEN + 16];
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;

	(void)d;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	return buf;
}

static int parse_dsts(struct ctx *c)
{
	struct dst_map *maps = c->maps;
	size_t plain = 0;
	int rc;

	for (size_t i = 0; i < c->ndst; i++) {
		const char *s = c->dsts[i], *eq = strchr(s, '=');
		struct dst_map *d = &maps[i];

		memset(d, 0, sizeof(*d));
		if (eq) {
			char old[INET6_ADDRSTRLEN + 16];
			size_t n = (size_t)(eq - s);

			if (n >= sizeof(old))
				return lp_usage_error("--dst: '%s' is not OLD=NEW", s);
			memcpy(old, s, n);
			old[n] = '\0';
			rc = lp_cli_peer("--dst", s, old, NULL, &d->old);
			if (rc)
				return rc;
			d->has_old = true;
			s = eq + 1;
		} else if (++plain > 1) {
			return lp_usage_error("--dst: give one ADDR[:PORT] for every flow, or OLD=NEW mappings");
		}
		rc = lp_cli_peer("--dst", c->dsts[i], s, &c->link, &d->live);
		if (rc)
			return rc;
		if (d->has_old && d->old.family != d->live.family)
			return lp_usage_error("--dst %s: the two addresses are of different families", c->dsts[i]);
		for (size_t k = 0; k < i && d->has_old; k++)
			if (maps[k].has_old && addr_eq(&maps[k].old, &d->old) && maps[k].old.port == d->old.port)
				return lp_usage_error("--dst %s: %s is mapped twice", c->dsts[i], old_str(d, c->dsts[i]));
	}
	return 0;
}

static bool addr_eq(const struct lp_endpoint *a, const struct lp_endpoint *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

/* The live server for fl's captured one: a mapping of its address and port,
 * else of its address, else the plain --dst; -ENOENT when none covers it. */
static int map_dst(const struct dst_map *maps, size_t n, const struct lp_flow *fl, struct lp_endpoint *out)
{
	const struct dst_map *best = NULL;
	int best_rank = 0;

	for (size_t i = 0; i < n; i++) {
		const struct dst_map *d = &maps[i];
		int rank = 0;

		if (!d->has_old)
			rank = 1;
		else if (addr_eq(&d->old, &fl->server) && !d->old.port)
			rank = 2;
		else if (addr_eq(&d->old, &fl->server) && d->old.port == fl->server.port)
			rank = 3;
		if (rank > best_rank) {
			best = d;
			best_rank = rank;
		}
	}
	if (!best)
		return -ENOENT;
	*out = best->live;
	if (!out->port)
		out->port = fl->server.port;
	return 0;
}

/* Per-flow output of a many-flow replay. */
struct many_out {
	const struct ctx *c;
	bool text;
	FILE *json;
	uint64_t njson;
	struct lp_totals totals;
};

static void many_done(void *opaque, const struct lp_report *r)
{
	struct many_out *mo = opaque;

	lp_totals_add(&mo->totals, r);
	if (mo->text && lp_log_threshold >= LP_LOG_INFO)
		lp_report_print_line(r, stdout);
	if (mo->json)
		lp_json_flows_add(mo->json, r, mo->njson++);
}

static void many_event(void *opaque, unsigned flow_id, const struct lp_event *ev)
{
	char line[320];

	(void)opaque;
	if (event_shown(ev))
		fprintf(stderr, "  [flow %u] %s\n", flow_id, lp_event_str(ev, line, sizeof(line)));
}

/* A flow of a many-flow replay that is not replayed. */
static void many_skip(struct many_out *mo, const struct lp_flow *fl, const char *why)
{
	struct lp_report r;

	lp_report_init(&r);
	r.verdict = LP_VERDICT_SKIPPED;
	r.flow_id = fl->id;
	r.client = fl->client;
	r.server = fl->server;
	r.seed = mo->c->seed;
	snprintf(r.reason, sizeof(r.reason), "%.150s", why);
	many_done(mo, &r);
}

/* The start of a many-flow report: the JSON document opens. */
static void many_begin(struct many_out *mo)
{
	mo->json = json_out.fp;
	if (!mo->json)
		return;
	json_out.written = true;
	lp_json_flows_begin(mo->json);
}

/* The end of a many-flow report: the summary, the JSON document's end; the
 * exit status. */
static int many_end(struct many_out *mo)
{
	int rc = mo->totals.exit_code;

	if (mo->text && lp_log_threshold >= LP_LOG_INFO)
		lp_totals_print_text(&mo->totals, stdout);
	if (mo->json && lp_json_flows_end(mo->json, &mo->totals))
		rc = lp_env_error("cannot write %s", json_out.path);
	mo->json = NULL;
	return rc;
}

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
	so->seed = c->seed;
	so->faults = faults;
	so->match = c->match;
	so->timing = c->timing;
	so->rto_min_ms = c->rto_ms;
	so->retries = c->retries;
	so->expect_timeout_ms = (unsigned)c->patience_s * 1000u;
	if (c->verbose > 1)
		so->trace = sim_trace;
}

/* Is fl skipped by a simulation (a stream lacks bytes, without --holes
 * zero)? Then why is in hole. */
static bool sim_skipped(const struct ctx *c, const struct lp_flow *fl, char *hole, size_t len)
{
	return !c->holes_zero && (lp_cli_hole(fl, LP_C2S, hole, len) || lp_cli_hole(fl, LP_S2C, hole, len));
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
		rc = lp_cli_flow_faults(&c->faults, sel[i], true, &plans[i]);
	for (size_t i = nsel; !rc && i-- > 0;) /* backwards: hole tells the first */
		nskip += sim_skipped(c, sel[i], hole, sizeof(hole));
	if (!rc && nsel && nskip == nsel && !c->shard_n)
		rc = lp_usage_error("no flow to replay: flow %u: %s; --holes zero sends zeros", sel[0]->id, hole);
	if (rc)
		goto out;
	memset(&mo, 0, sizeof(mo));
	mo.c = c;
	mo.text = text;
	mo.totals.seed = c->seed;
	many_begin(&mo);
	if (text && lp_log_threshold >= LP_LOG_INFO)
		printf("simulate %zu flows of %s, seed %llu\n", nsel, c->file, (unsigned long long)c->seed);
	for (size_t i = 0; i < nsel; i++) {
		struct lp_report rep;
		char why[320];

		if (sim_skipped(c, sel[i], hole, sizeof(hole))) {
			snprintf(why, sizeof(why), "%s; --holes zero sends zeros", hole);
			many_skip(&mo, sel[i], why);
			continue;
		}
		sim_opts(c, plans[i], &so);
		so.seed = lp_flowset_seed(c->seed, sel[i]->id);
		rc = lp_sim_run(sel[i], &so, &rep, c->verbose ? print_event : NULL, c);
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
		many_done(&mo, &rep);
	}
	rc = many_end(&mo);
out:
	for (size_t i = 0; plans && i < nsel; i++)
		lp_fault_plan_free(plans[i]);
	free(plans);
	return rc;
}

static int do_simulate(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow *fl;
	struct lp_fault_plan *faults = NULL;
	struct lp_sim_opts so;
	struct lp_report rep;
	char a[64], b[64];
	bool text = !c->json || strcmp(c->json, "-");
	int rc = load(c, &flows);

	if (rc)
		return rc;
	if (!c->have_seed && getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed)) {
		log_err("no randomness for a seed: %s", strerror(errno));
		rc = LP_EXIT_ENV;
		goto out;
	}
	if (lp_flows_sel_is_list(c->flow) || c->shard_n) {
		const struct lp_flow **sel = NULL;
		size_t nsel = 0;

		rc = lp_cli_select_many(c->file, flows, c->flow, &sel, &nsel);
		if (!rc && c->shard_n)
			nsel = lp_flowset_shard(sel, nsel, c->shard_k, c->shard_n);
		if (!rc)
			rc = simulate_many(c, sel, nsel, text);
		free(sel);
		goto out;
	}
	rc = lp_cli_select(c->file, flows, c->flow, &fl);
	/* Both sides are played: neither stream may lack bytes. */
	for (int d = 0; d < 2 && !rc; d++)
		rc = lp_cli_check_holes(c->file, fl, (enum lp_dir)d, c->holes_zero);
	if (rc)
		goto out;
	rc = lp_cli_flow_faults(&c->faults, fl, false, &faults);
	if (rc)
		goto out;
	sim_opts(c, faults, &so);
	if (text && lp_log_threshold >= LP_LOG_INFO)
		printf("simulate flow %u: %s -> %s, seed %llu\n", fl->id,
		       lp_endpoint_str(&fl->client, a, sizeof(a)),
		       lp_endpoint_str(&fl->server, b, sizeof(b)), (unsigned long long)c->seed);
	rc = lp_sim_run(fl, &so, &rep, c->verbose ? print_event : NULL, c);
	if (rc) {
		log_err("%s: flow %u cannot be simulated: %s", c->file, fl->id, strerror(-rc));
		rc = rc == -ENOMEM ? LP_EXIT_ENV : LP_EXIT_BADINPUT;
		goto out;
	}
	rep.flow_id = fl->id;
	if (text && lp_log_threshold >= LP_LOG_INFO)
		lp_report_print_text(&rep, stdout);
	rc = json_write(&rep);
	if (!rc)
		rc = rep.exit_code;
out:
	lp_fault_plan_free(faults);
	lp_flows_free(flows);
	return rc;
}

/* First of n consecutive source ports in block k of nshards, clear of this
 * network namespace's ephemeral ports (lp_multi_pick_ports). */
static uint16_t pick_ports(struct lp_rng *rng, size_t n, unsigned k, unsigned nshards)
{
	unsigned lo = 32768, hi = 60999;
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (fp) {
		if (fscanf(fp, "%u %u", &lo, &hi) != 2) {
			lo = 32768;
			hi = 60999;
		}
		fclose(fp);
	}
	return lp_multi_pick_ports(rng, n, k, nshards, lo, hi);
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

/* Why a flow of many is not replayed. */
enum skip_why { SKIP_NONE, SKIP_HOST, SKIP_FAMILY, SKIP_HOLE };

/* The flows of a live replay, where they go and from which ports. */
struct plan {
	const struct lp_flow **sel;   /* the selection; its first nskip: the flows skipped */
	unsigned char *why;           /* enum skip_why of each skipped flow */
	size_t nskip;
	struct lp_multi_flow *mfs;    /* the flows replayed */
	size_t nmf;
	int family;
	struct lp_endpoint host;      /* the replayed host: the selection's first client */
	uint64_t first_ts;            /* the earliest start of a replayable flow of the whole selection */
	size_t busiest;               /* the most of mfs' flows open at once in the capture */
	uint16_t port_base;
};

/* Source ports: this shard's block of the run's ports, block ports each. */
static int plan_ports(const struct ctx *c, size_t block, struct lp_rng *rng, struct plan *p)
{
	unsigned k = c->shard_n ? c->shard_k : 1, of = c->shard_n ? c->shard_n : 1;
	uint64_t v;

	if (block * of > MAX_FLOWS)
		return lp_usage_error("%zu flows to replay: at most %d at once (one source port each)", block * of,
				      MAX_FLOWS);
	if (!c->sport || !strcmp(c->sport, "random")) {
		p->port_base = pick_ports(rng, block, k, of);
		return 0;
	}
	if (lp_parse_uint(c->sport, 1, 65535, &v))
		return lp_usage_error("source port '%s' is neither a number from 1 to 65535 nor 'random'", c->sport);
	if (v + block * of - 1 > 65535)
		return lp_usage_error("--sport '%s': %zu flows need ports N to N+%zu, at most 65535", c->sport,
				      block * of, block * of - 1);
	p->port_base = (uint16_t)(v + (k - 1) * block);
	return 0;
}

/* Every --dst OLD=NEW names a server of the selected flows (of every shard). */
static int check_maps(const struct ctx *c, const struct lp_flow *const *sel, size_t n)
{
	for (size_t i = 0; i < c->ndst; i++) {
		const struct dst_map *d = &c->maps[i];
		bool used = false;

		for (size_t k = 0; k < n && d->has_old && !used; k++)
			used = addr_eq(&d->old, &sel[k]->server) &&
			       (!d->old.port || d->old.port == sel[k]->server.port);
		if (d->has_old && !used)
			return lp_usage_error("--dst %s: no selected flow goes to %s (tcpliveplay --list shows each "
					      "flow's server)", c->dsts[i], old_str(d, c->dsts[i]));
	}
	return 0;
}

/* Why a flow of many is skipped: another family than the replayed host's,
 * another client (unless --any-client), a hole in its client's stream
 * (unless --holes zero). */
static enum skip_why skip_flow(const struct ctx *c, const struct lp_flow *fl,
			       const struct lp_endpoint *host)
{
	if (fl->client.family != host->family)
		return SKIP_FAMILY;
	if (!c->any_client && !addr_eq(&fl->client, host))
		return SKIP_HOST;
	if (fl->dir[LP_C2S].nholes && !c->holes_zero)
		return SKIP_HOLE;
	return SKIP_NONE;
}

/* Choose the flows of --flow (and --shard), their live servers and ports.
 * 0 or an exit status (the message written). */
static int choose_flows(const struct ctx *c, const struct lp_flows *flows, bool many, struct lp_rng *rng,
			struct plan *p)
{
	const struct lp_flow **part = NULL;
	size_t nsel = 0, total;
	char a[64], b[64];
	int rc;

	rc = lp_cli_select_many(c->file, flows, c->flow, &p->sel, &nsel);
	if (rc)
		return rc;
	p->mfs = calloc(nsel, sizeof(*p->mfs));
	p->why = calloc(nsel, sizeof(*p->why));
	part = calloc(nsel, sizeof(*part));
	if (!p->mfs || !p->why || !part) {
		rc = lp_env_error("out of memory");
		goto out;
	}
	rc = check_maps(c, p->sel, nsel);
	if (rc)
		goto out;
	/* What every shard sees alike: the host, the capture's time origin. */
	p->host = p->sel[0]->client;
	p->first_ts = UINT64_MAX;
	for (size_t i = 0; i < nsel; i++)
		if ((!many || skip_flow(c, p->sel[i], &p->host) == SKIP_NONE) &&
		    p->sel[i]->first_ts < p->first_ts)
			p->first_ts = p->sel[i]->first_ts;
	total = nsel;
	if (c->shard_n)
		nsel = lp_flowset_shard(p->sel, nsel, c->shard_k, c->shard_n);
	for (size_t i = 0; i < nsel; i++) {
		const struct lp_flow *fl = p->sel[i];
		struct lp_multi_flow *mf = &p->mfs[p->nmf];

		enum skip_why why = skip_flow(c, fl, &p->host);

		if (many && why != SKIP_NONE) {
			p->why[p->nskip] = (unsigned char)why;
			p->sel[p->nskip++] = fl;   /* reported once the output is open */
			continue;
		}
		if (!many) {
			rc = lp_cli_check_holes(c->file, fl, LP_C2S, c->holes_zero);
			if (rc)
				goto out;
		}
		if (map_dst(c->maps, c->ndst, fl, &mf->remote)) {
			rc = lp_usage_error("flow %u: no --dst for its server %s (give --dst %s=NEW or one --dst "
					    "ADDR for every flow)", fl->id,
					    lp_endpoint_str(&fl->server, a, sizeof(a)),
					    inet_ntop(fl->server.family, fl->server.addr, b, sizeof(b)) ? b : "OLD");
			goto out;
		}
		if (p->family && mf->remote.family != p->family) {
			rc = lp_usage_error("flow %u goes to an %s address and others to %s ones; replay each family "
					    "in its own run (--flow)", fl->id, mf->remote.family == AF_INET ? "IPv4" : "IPv6",
					    p->family == AF_INET ? "IPv4" : "IPv6");
			goto out;
		}
		p->family = mf->remote.family;
		mf->fl = fl;
		part[p->nmf++] = fl;
	}
	/* A shard may have nothing to replay (fewer flows than shards). */
	if (!p->nmf && !c->shard_n) {
		rc = lp_usage_error("no flow to replay");
		goto out;
	}
	rc = lp_flowset_busiest(part, p->nmf, &p->busiest);
	if (rc) {
		rc = lp_env_error("out of memory");
		goto out;
	}
	rc = plan_ports(c, c->shard_n ? lp_flowset_shard_max(total, c->shard_n) : p->nmf, rng, p);
out:
	free(part);
	return rc;
}

/* "replay N flows of FILE (...)": the part and the concurrency. */
static void print_many_header(const struct ctx *c, const struct plan *p, size_t concurrency)
{
	printf("replay %zu flow%s of %s (%zu skipped", p->nmf, p->nmf == 1 ? "" : "s", c->file, p->nskip);
	if (c->shard_n)
		printf("; shard %u/%u", c->shard_k, c->shard_n);
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
		       const struct lp_multi_opts *o)
{
	char a[64], b[64], err[512];
	uint64_t dur = 0;
	int rc = 0;

	many_begin(mo);
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
		many_skip(mo, fl, why);
	}
	if (o && c->verbose > 1)
		lp_cli_trace(o->link);
	if (o)
		rc = lp_multi_run(o, &dur, err, sizeof(err));
	mo->totals.duration_ns = dur;
	if (rc) {
		/* No summary, but a whole JSON document saying how it ended. */
		mo->totals.exit_code = lp_env_error("%s", err);
		mo->totals.error = err;
		mo->text = false;
		many_end(mo);
		return mo->totals.exit_code;
	}
	rc = many_end(mo);
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
			seen = addr_eq(&lr->hops[k].dst, &p->mfs[i].remote);
		if (seen)
			continue;
		if (lr->sc.nhops == MAX_HOPS)
			return lp_usage_error("more than %d live servers", MAX_HOPS);
		memset(&lr->hops[lr->sc.nhops], 0, sizeof(lr->hops[0]));
		lr->hops[lr->sc.nhops++].dst = p->mfs[i].remote;
	}
	return 0;
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
			if (!addr_eq(&lr->hops[k].dst, &mf->remote))
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
		printf("replay flow %u of %s: %s -> %s", p->mfs[0].fl->id, c->file,
		       lp_endpoint_str(&p->mfs[0].fl->client, a, sizeof(a)),
		       lp_endpoint_str(&p->mfs[0].fl->server, b, sizeof(b)));
	printf("\nlive: %s", lp_endpoint_str(&sc->src, a, sizeof(a)));
	if (p->nmf > 1)
		printf("-%u", sc->port_last);
	printf(" -> %s", sc->nhops == 1 ? lp_endpoint_str(&p->mfs[0].remote, b, sizeof(b)) : "several servers");
	printf(" via %s", lr->su.where);
	if (lp_link_has_mac(lr->su.link) && sc->nhops == 1)
		printf(" (%s)", mac_str(lr->hops[0].mac, m, sizeof(m)));
	printf(", seed %llu%s%s\n", (unsigned long long)c->seed,
	       lr->su.guard ? ", RST guard on" : lr->su.addr_local ? ", RST guard off" :
	       ", answering ARP/NDP for the source", lp_link_ring_mib(lr->su.link) ? ", receive ring" : "");
}

/* The engine settings of a live replay that come from the command line. */
static void live_engine(const struct ctx *c, struct lp_engine_cfg *e)
{
	e->match = c->match;
	e->timing = c->timing;
	if (c->rto_ms)
		e->rto_min_ms = c->rto_ms;
	if (c->retries)
		e->retries = c->retries;
	/* A slow peer is waited for as long as the run may last: with
	 * --timeout, the deadline decides. */
	e->expect_timeout_ms = (unsigned)(c->patience_s ? c->patience_s : c->timeout_s ? 0 :
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
	o.seed = c->seed;
	o.done = many_done;
	o.event = c->verbose ? many_event : NULL;
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
	lp_fault_plan_reset(lo.engine.faults, c->seed);
	if (c->verbose)
		lo.engine.on_event = print_event;
	lo.engine.ctx = c;
	lo.link = lr->su.link;
	lo.writer = c->writer;
	lo.timeout_ns = c->timeout_s * 1000000000ull;
	lo.stop = &lp_stop_requested;
	if (!c->verbose && lp_log_threshold >= LP_LOG_INFO && isatty(STDERR_FILENO))
		lo.progress = progress;
	lo.progress_ctx = c;
	if (c->verbose > 1)
		lp_cli_trace(lo.link);
	rc = lp_live_run(mf->fl, &lo, &rep, err, sizeof(err));
	if (lo.progress)
		fprintf(stderr, "\r\033[K");
	if (rc)
		return lp_env_error("%s", err);
	rep.seed = c->seed;
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
	rc = json_write(&rep);
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
	if (!c->have_seed && getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed))
		return lp_env_error("no randomness for a seed: %s", strerror(errno));
	return 0;
}

/* Set up, replay, report; then the recording's end and the link's. */
static int do_live_run(struct ctx *c, struct live_run *lr, struct many_out *mo, const uint8_t *dst_mac)
{
	int rc = live_setup(c, lr, dst_mac);

	/* Everything that needed a privilege is open, the outputs too. */
	if (!rc)
		rc = lp_setup_drop(c->user);
	if (rc)
		return rc;
	if (lr->text && lp_log_threshold >= LP_LOG_INFO)
		print_live_header(c, lr);
	lp_catch_signals();
	rc = lr->many ? run_many(c, lr, mo) : run_one(c, lr);
	if (lp_link_drops(lr->su.link))
		log_warn("the kernel dropped %u packets before they were read", lp_link_drops(lr->su.link));
	return rc;
}

/* Each flow's fault plan (NULL: none); 0 or an exit status. */
static int flow_faults(const struct ctx *c, struct lp_multi_flow *mfs, size_t n, bool many)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		rc = lp_cli_flow_faults(&c->faults, mfs[i].fl, many, &mfs[i].faults);
	return rc;
}

static int do_live(struct ctx *c)
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
	lr.text = !c->json || strcmp(c->json, "-");
	lr.many = lp_flows_sel_is_list(c->flow) || c->shard_n;
	rc = live_args(c, given_mac, &mac_given, &lr.sc.src);
	if (rc)
		return rc;
	/* Shards draw ISNs and ports of their own from one --seed. */
	lp_rng_seed(&lr.rng, c->shard_n > 1 ? lp_flowset_seed(c->seed, c->shard_k) : c->seed);
	/* A big capture: its packet socket and ring are made while it loads. */
	lr.su.want = c->link;
	if (strcmp(c->file, "-") && !stat(c->file, &st) && S_ISREG(st.st_mode))
		lp_setup_prepare(&lr.su, (uint64_t)st.st_size);
	rc = load(c, &flows);
	if (rc)
		goto out;
	rc = choose_flows(c, flows, lr.many, &lr.rng, &lr.pl);
	if (rc)
		goto out;
	mo.c = c;
	mo.text = lr.text;
	mo.totals.seed = c->seed;
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
	lp_flows_free(flows);
	return rc;
}

/* What an option parser returns besides 0 (taken) and an exit status. */
#define OPT_NOT_MINE (-1)       /* another group's option */
#define OPT_DONE (-2)           /* --help, --version: exit 0 */

static int set_mode(struct ctx *c, enum mode m)
{
	if (c->mode != MODE_NONE && c->mode != m)
		return lp_usage_error("choose one of --list, --dump, --extract, --simulate");
	c->mode = m;
	return 0;
}

static int add_dst(struct ctx *c, const char *arg)
{
	if (c->ndst == MAX_DST)
		return lp_usage_error("--dst: at most %d", MAX_DST);
	c->dsts[c->ndst++] = arg;
	return 0;
}

/* The options of a live replay. */
static int opt_live(struct ctx *c, int opt, const char *arg)
{
	uint64_t v;
	int rc = lp_setup_option(&c->link, opt, arg);

	if (rc != LP_SETUP_NOT_MINE)
		return rc;
	switch (opt) {
	case OPT_DST:
		return add_dst(c, arg);
	case OPT_CONCURRENCY:
		if (!strcmp(arg, "unlimited")) {
			c->concurrency = CONCURRENCY_UNLIMITED;
			return 0;
		}
		if (lp_parse_uint(arg, 1, 65535, &v))
			return lp_usage_error("--concurrency: '%s' is neither a number from 1 to 65535 nor "
					      "'unlimited'", arg);
		c->concurrency = (size_t)v;
		return 0;
	case OPT_SHARD:
		if (lp_flowset_parse_shard(arg, LP_FLOWSET_MAX_SHARDS, &c->shard_k, &c->shard_n))
			return lp_usage_error("--shard: '%s' is not K/N with 1 <= K <= N <= %d", arg,
					      LP_FLOWSET_MAX_SHARDS);
		return 0;
	case OPT_ANY_CLIENT:
		c->any_client = true;
		return 0;
	case OPT_DST_MAC:
		c->dst_mac = arg;
		return 0;
	case OPT_SRC:
		c->src = arg;
		return 0;
	case OPT_SPORT:
		c->sport = arg;
		return 0;
	case OPT_TIMEOUT:
		return lp_opt_uint("--timeout", arg, 1, 86400, "of seconds ", &c->timeout_s);
	case OPT_RST_GUARD:
		c->guard_set = true;
		if (!strcmp(arg, "auto") || !strcmp(arg, "on"))
			c->guard = GUARD_AUTO;
		else if (!strcmp(arg, "off"))
			c->guard = GUARD_OFF;
		else
			return lp_usage_error("--rst-guard: '%s' is not auto, on or off", arg);
		return 0;
	case OPT_WRITE:
		c->write = arg;
		return 0;
	case OPT_USER:
		c->user = arg;
		return 0;
	default:
		return OPT_NOT_MINE;
	}
}

/* The options of a replay, live or simulated. */
static int opt_replay(struct ctx *c, int opt, const char *arg)
{
	uint64_t v;
	int rc;

	switch (opt) {
	case 'S':
		return set_mode(c, MODE_SIMULATE);
	case OPT_FAULT:
		return lp_cli_fault_arg(&c->faults, arg);
	case OPT_SEED:
		if (lp_parse_uint(arg, 0, UINT64_MAX, &c->seed))
			return lp_usage_error("--seed: '%s' is not a number", arg);
		c->have_seed = true;
		return 0;
	case OPT_MATCH:
		if (lp_match_parse(arg, &c->match))
			return lp_usage_error("--match: '%s' is not one of stream, size, bytes", arg);
		return 0;
	case OPT_TIMING:
		if (lp_timing_parse(arg, &c->timing))
			return lp_usage_error("--timing: '%s' is not asap, capture or xN", arg);
		return 0;
	case OPT_RTO:
		rc = lp_opt_uint("--rto", arg, 1, 60000, "of milliseconds ", &v);
		if (!rc)
			c->rto_ms = (unsigned)v;
		return rc;
	case OPT_RETRIES:
		rc = lp_opt_uint("--retries", arg, 1, 100, "", &v);
		if (!rc)
			c->retries = (unsigned)v;
		return rc;
	case OPT_JSON:
		c->json = arg;
		return 0;
	case OPT_HOLES:
		c->holes_set = true;
		return lp_cli_holes_opt(arg, &c->holes_zero);
	case OPT_PATIENCE:
		return lp_opt_uint("--patience", arg, 1, 86400, "of seconds ", &c->patience_s);
	default:
		return OPT_NOT_MINE;
	}
}

/* The modes, the capture and the general options. */
static int opt_general(struct ctx *c, int opt, const char *arg)
{
	switch (opt) {
	case 'l':
		if (arg)
			c->file = arg;
		return set_mode(c, MODE_LIST);
	case 'd':
		return set_mode(c, MODE_DUMP);
	case 'x':
		c->outdir = arg;
		return set_mode(c, MODE_EXTRACT);
	case 'r':
		if (c->file)
			return lp_usage_error("one capture: -r %s and %s", arg, c->file);
		c->file = arg;
		return 0;
	case 'f':
		c->flow = arg;
		return 0;
	case OPT_STRICT:
		c->strict = true;
		return 0;
	case 'v':
		c->verbose++;
		lp_log_threshold = c->verbose > 1 ? LP_LOG_DEBUG : LP_LOG_INFO;
		return 0;
	case 'q':
		lp_log_threshold = LP_LOG_ERR;
		return 0;
	case 'h':
		usage(stdout);
		return OPT_DONE;
	case 'V':
		printf("tcpliveplay %s\n", LP_VERSION);
		return OPT_DONE;
	default:
		return lp_usage_error("option %d not handled", opt);
	}
}

static int parse_options(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", optional_argument, NULL, 'l' },
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
		{ "interface", required_argument, NULL, 'i' },
		LP_SETUP_LONGOPTS,
		{ "dst", required_argument, NULL, OPT_DST },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "src", required_argument, NULL, OPT_SRC },
		{ "sport", required_argument, NULL, OPT_SPORT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "rst-guard", required_argument, NULL, OPT_RST_GUARD },
		{ "write", required_argument, NULL, OPT_WRITE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "any-client", no_argument, NULL, OPT_ANY_CLIENT },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "holes", required_argument, NULL, OPT_HOLES },
		{ "patience", required_argument, NULL, OPT_PATIENCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	/* Errors are said here, under the program's name (not argv[0]'s path). */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ldx:r:f:Si:vqhV", longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return lp_cli_getopt_error(opt, argv, optind);
		rc = opt_live(c, opt, optarg);
		if (rc == OPT_NOT_MINE)
			rc = opt_replay(c, opt, optarg);
		if (rc == OPT_NOT_MINE)
			rc = opt_general(c, opt, optarg);
		if (rc)
			return rc;
	}
	/* --list FILE: the capture as an operand (or -r FILE). */
	if (c->mode == MODE_LIST && !c->file && argc - optind == 1)
		c->file = argv[optind++];
	/* The classic call: IFACE FILE DST_IP DST_MAC SPORT|random. */
	if (c->mode == MODE_NONE && optind < argc && argc - optind != 5 && !c->link.iface && !c->link.tap &&
	    !c->ndst)
		return lp_usage_error("the classic call takes 5 arguments: IFACE FILE DST_IP DST_MAC SPORT|random "
				      "(%d given)", argc - optind);
	if (c->mode == MODE_NONE && argc - optind == 5) {
		c->classic = true;
		c->link.iface = argv[optind];
		c->file = argv[optind + 1];
		rc = add_dst(c, argv[optind + 2]);
		if (rc)
			return rc;
		c->dst_mac = argv[optind + 3];
		c->sport = argv[optind + 4];
		optind += 5;
	}
	if (optind < argc)
		return lp_usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The options given go together. */
static int check_options(struct ctx *c)
{
	int rc;

	if (c->mode == MODE_NONE && (c->link.iface || c->link.tap || c->ndst))
		c->mode = MODE_LIVE;
	if (c->mode == MODE_NONE)
		return lp_usage_error("nothing to do: give --dst ADDR (a live replay), or --list, --dump, --extract, "
				      "--simulate");
	if (c->mode == MODE_LIST && !c->file)
		return lp_usage_error("--list needs a capture: --list FILE, or --list -r FILE");
	if (!c->file)
		return lp_usage_error("no capture: give -r FILE");
	if (c->mode == MODE_DUMP && c->faults.plan)
		return lp_usage_error("--dump takes --fault captured only (it prints the plan derived from the capture)");
	if (c->mode != MODE_SIMULATE && c->mode != MODE_LIVE &&
	    ((c->mode != MODE_DUMP && c->faults.captured) || c->faults.plan || c->have_seed || c->json ||
	     c->shard_n || c->holes_set || c->patience_s))
		return lp_usage_error("--fault, --seed, --json, --shard, --holes and --patience go with a replay "
				      "(live or --simulate)");
	if (c->mode != MODE_LIVE && (c->concurrency || c->any_client))
		return lp_usage_error("--concurrency and --any-client go with a live replay");
	c->faults.live = c->mode == MODE_LIVE;
	c->faults.local = LP_FAULT_CLIENT;
	rc = lp_cli_faults_check(&c->faults);
	if (rc)
		return rc;
	if (c->mode == MODE_LIVE && !c->ndst)
		return lp_usage_error("a live replay needs --dst ADDR[:PORT] (and -i IFACE or --tap NAME; without "
				      "them, the interface of the route to ADDR)");
	if (c->mode != MODE_LIVE && (c->link.iface || c->link.tap || c->link.ntap_addr || c->ndst || c->dst_mac ||
				     c->src || c->sport || c->write || c->timeout_s || c->guard_set || c->user))
		return lp_usage_error("-i, --tap, --tap-addr, --dst, --dst-mac, --src, --sport, --rst-guard, --write, "
				      "--timeout and --user go with a live replay");
	if (c->link.tap && c->dst_mac)
		return lp_usage_error("--dst-mac goes with -i (behind a TAP the next hop is the host)");
	rc = c->mode == MODE_LIVE ? parse_dsts(c) : 0;
	return rc ? rc : lp_setup_check_opts(&c->link);
}

/* The outputs, opened before any work so that a bad path is said at once
 * (and with the privileges, which set-up drops). */
static int open_outputs(struct ctx *c)
{
	char err[512];
	int rc = lp_cli_json_open(&json_out, c->json);

	if (rc)
		return rc;
	if (c->write && !*c->write)
		return lp_usage_error("--write: an empty file name");
	/* libpcap's message names the file. */
	if (c->write && lp_pcapw_open(c->write, &c->writer, err, sizeof(err)))
		return lp_env_error("--write %s", err);
	if (c->outdir && mkdir(c->outdir, 0755) && errno != EEXIST)
		return lp_env_error("cannot create %s: %s", c->outdir, strerror(errno));
	return 0;
}

static int run_mode(struct ctx *c)
{
	switch (c->mode) {
	case MODE_LIST:
		return do_list(c);
	case MODE_DUMP:
		return do_dump(c);
	case MODE_EXTRACT:
		return do_extract(c);
	case MODE_SIMULATE:
		return do_simulate(c);
	case MODE_LIVE:
		return do_live(c);
	default:
		return LP_EXIT_BADINPUT;
	}
}

int main(int argc, char **argv)
{
	struct ctx c = { .mode = MODE_NONE, .match = LP_MATCH_STREAM, .timing = { LP_TIMING_ASAP, 1.0 } };
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lp_log_prog = "tcpliveplay";
	rc = parse_options(&c, argc, argv);
	if (rc == OPT_DONE) {
		rc = LP_EXIT_MATCHED;
		goto out;
	}
	if (!rc)
		rc = check_options(&c);
	if (!rc)
		rc = open_outputs(&c);
	if (!rc)
		rc = run_mode(&c);
	if (c.writer && lp_pcapw_close(c.writer))
		rc = lp_env_error("cannot write %s", c.write);
	rc = lp_cli_json_close(&json_out, c.json, argc, argv, rc);
out:
	lp_cli_faults_free(&c.faults);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay: the command line. Options are parsed into a context with its
 * defaults set first, then the mode runs (tcpliveplay_int.h); every message
 * for the user is written here and in the modes' files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/setup.h"
#include "tcpliveplay/util.h"

#include "tcpliveplay_int.h"

enum {
	OPT_TIMING = 256,
	OPT_RTO,
	OPT_RETRIES,
	OPT_DST,
	OPT_DST_MAC,
	OPT_SRC,
	OPT_SPORT,
	OPT_TIMEOUT,
	OPT_RST_GUARD,
	OPT_WRITE,
	OPT_CONCURRENCY,
	OPT_ANY_CLIENT,
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

/* What an option parser returns besides 0 (taken) and an exit status. */
#define OPT_NOT_MINE (-1)       /* another group's option */

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
	default:
		return OPT_NOT_MINE;
	}
}

/* The modes, and the options both programs take (lp_cli_option()). */
static int opt_general(struct ctx *c, int opt, const char *arg)
{
	int rc = lp_cli_option(&c->cli, opt, arg);

	if (rc != LP_CLI_NOT_MINE)
		return rc;
	switch (opt) {
	case 'l':
		if (arg)
			c->cli.file = arg;
		return set_mode(c, MODE_LIST);
	case 'd':
		return set_mode(c, MODE_DUMP);
	case 'x':
		c->outdir = arg;
		return set_mode(c, MODE_EXTRACT);
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
		{ "simulate", no_argument, NULL, 'S' },
		LP_CLI_LONGOPTS,
		{ "timing", required_argument, NULL, OPT_TIMING },
		{ "rto", required_argument, NULL, OPT_RTO },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "interface", required_argument, NULL, 'i' },
		LP_SETUP_LONGOPTS,
		{ "dst", required_argument, NULL, OPT_DST },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "src", required_argument, NULL, OPT_SRC },
		{ "sport", required_argument, NULL, OPT_SPORT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "rst-guard", required_argument, NULL, OPT_RST_GUARD },
		{ "write", required_argument, NULL, OPT_WRITE },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "any-client", no_argument, NULL, OPT_ANY_CLIENT },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	/* Errors are said here, under the program's name (not argv[0]'s path). */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ldx:Si:" LP_CLI_SHORTOPTS, longopts, NULL)) != -1) {
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
	if (c->mode == MODE_LIST && !c->cli.file && argc - optind == 1)
		c->cli.file = argv[optind++];
	/* The classic call: IFACE FILE DST_IP DST_MAC SPORT|random. */
	if (c->mode == MODE_NONE && optind < argc && argc - optind != 5 && !c->link.iface && !c->link.tap &&
	    !c->ndst)
		return lp_usage_error("the classic call takes 5 arguments: IFACE FILE DST_IP DST_MAC SPORT|random "
				      "(%d given)", argc - optind);
	if (c->mode == MODE_NONE && argc - optind == 5) {
		c->classic = true;
		c->link.iface = argv[optind];
		c->cli.file = argv[optind + 1];
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
	if (c->mode == MODE_LIST && !c->cli.file)
		return lp_usage_error("--list needs a capture: --list FILE, or --list -r FILE");
	if (!c->cli.file)
		return lp_usage_error("no capture: give -r FILE");
	if (c->mode == MODE_DUMP && c->cli.faults.plan)
		return lp_usage_error("--dump takes --fault captured only (it prints the plan derived from the capture)");
	if (c->mode != MODE_SIMULATE && c->mode != MODE_LIVE &&
	    ((c->mode != MODE_DUMP && c->cli.faults.captured) || c->cli.faults.plan || c->cli.have_seed ||
	     c->cli.json || c->cli.shard_n || c->cli.holes_set || c->cli.patience_s))
		return lp_usage_error("--fault, --seed, --json, --shard, --holes and --patience go with a replay "
				      "(live or --simulate)");
	if (c->mode != MODE_LIVE && (c->concurrency || c->any_client))
		return lp_usage_error("--concurrency and --any-client go with a live replay");
	c->cli.faults.live = c->mode == MODE_LIVE;
	c->cli.faults.local = LP_FAULT_CLIENT;
	rc = lp_cli_faults_check(&c->cli.faults);
	if (rc)
		return rc;
	if (c->mode == MODE_LIVE && !c->ndst)
		return lp_usage_error("a live replay needs --dst ADDR[:PORT] (and -i IFACE or --tap NAME; without "
				      "them, the interface of the route to ADDR)");
	if (c->mode != MODE_LIVE && (c->link.iface || c->link.tap || c->link.ntap_addr || c->ndst || c->dst_mac ||
				     c->src || c->sport || c->write || c->timeout_s || c->guard_set || c->cli.user))
		return lp_usage_error("-i, --tap, --tap-addr, --dst, --dst-mac, --src, --sport, --rst-guard, --write, "
				      "--timeout and --user go with a live replay");
	if (c->link.tap && c->dst_mac)
		return lp_usage_error("--dst-mac goes with -i (behind a TAP the next hop is the host)");
	rc = c->mode == MODE_LIVE ? tlp_parse_dsts(c) : 0;
	return rc ? rc : lp_setup_check_opts(&c->link);
}

/* The outputs, opened before any work so that a bad path is said at once
 * (and with the privileges, which set-up drops). */
static int open_outputs(struct ctx *c)
{
	char err[512];
	int rc = lp_cli_json_open(&tlp_json_out, c->cli.json);

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
		return tlp_list(c);
	case MODE_DUMP:
		return tlp_dump(c);
	case MODE_EXTRACT:
		return tlp_extract(c);
	case MODE_SIMULATE:
		return tlp_simulate(c);
	case MODE_LIVE:
		return tlp_live(c);
	default:
		return LP_EXIT_BADINPUT;
	}
}

int main(int argc, char **argv)
{
	struct ctx c = { .mode = MODE_NONE, .cli = { .match = LP_MATCH_STREAM, .usage = usage },
			 .timing = { LP_TIMING_ASAP, 1.0 } };
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lp_log_prog = "tcpliveplay";
	rc = parse_options(&c, argc, argv);
	if (rc == LP_CLI_DONE) {
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
	rc = lp_cli_json_close(&tlp_json_out, c.cli.json, argc, argv, rc);
out:
	lp_cli_faults_free(&c.cli.faults);
	return rc;
}


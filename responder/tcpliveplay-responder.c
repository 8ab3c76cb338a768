/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay-responder: the command line. An emulated host that plays the
 * server side of captured TCP flows to every client that connects, and can
 * misbehave on purpose. Options are parsed into a context with its defaults
 * set first; every message for the user is written here or in serve.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "responder.h"
#include "tcpliveplay/cli.h"
#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowpick.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/link.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/setup.h"
#include "tcpliveplay/util.h"

#define PROG "tcpliveplay-responder"
#define MAX_SESSIONS 100000
#define DEFAULT_SESSIONS 1024

struct ctx {
	struct lp_link_choice link;         /* -i IFACE, or --tap NAME and --tap-addr */
	struct lp_cli_opts cli;             /* the options both programs take */
	const char *ip;
	struct lp_endpoint ip_ep;           /* --ip's address */
	uint16_t ip_port;                   /* --ip's port, 0 when none */
	uint16_t port;
	uint64_t max_sessions;
	uint64_t idle_s;
	bool once;
};

enum {
	OPT_IP = 256,
	OPT_PORT,
	OPT_MAX_SESSIONS,
	OPT_IDLE_TIMEOUT,
	OPT_ONCE,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " [OPTIONS] -i IFACE -r FILE [--flow SEL] [--ip ADDR] [--port N]\n"
		"       " PROG " [OPTIONS] --tap NAME -r FILE [--flow SEL] [--ip ADDR] [--port N]\n"
		"\n"
		"Emulate the server of captured TCP conversations: answer every client that\n"
		"connects to ADDR:PORT with the server's side of a captured flow, and judge what\n"
		"the client sends against the capture.\n"
		"\n"
		"  -i, --interface IFACE send and capture on IFACE\n"
		"      --tap NAME        instead of -i: serve this host's own programs through TAP\n"
		"                        NAME (attached to; or made for the run with CAP_NET_ADMIN\n"
		"                        and removed at its end); no privilege on a TAP of yours:\n"
		"                        ip tuntap add dev NAME mode tap user USER, once, as root\n"
		"      --tap-addr ADDR/PREFIX  repeatable, for a TAP made here: an address of its\n"
		"                        host side (IPv4 or IPv6); --ip is routed through it\n"
		"  -r, --read FILE       the capture: pcap or pcapng, plain or compressed (gzip,\n"
		"                        xz, zstd); '-' reads standard input\n"
		"      --strict          refuse a damaged capture (default: read every packet\n"
		"                        before the damage, with a warning)\n"
		"  -f, --flow SEL        the flows to serve: a number from tcpliveplay --list,\n"
		"                        ADDR:PORT-ADDR:PORT, a list such as 1,3,5-9, or all;\n"
		"                        not needed for a single flow. The k-th new session on a\n"
		"                        port gets the k-th selected flow served there (capture\n"
		"                        order), starting over after the last\n"
		"      --shard K/N       serve only the K-th of N parts of the selected flows,\n"
		"                        the flows tcpliveplay --shard K/N replays\n"
		"      --ip ADDR[:PORT]  the address to serve: ADDR, IPv4ADDR:PORT or [ADDR]:PORT,\n"
		"                        as tcpliveplay's --dst (an IPv6 zone names the\n"
		"                        interface); default: the captured server's, of the\n"
		"                        first selected flow. ARP and neighbour solicitations\n"
		"                        for it are answered when the interface does not have it\n"
		"      --port N          the service port (default: each flow's captured server\n"
		"                        port); only when the selected flows share one\n"
		"      --max-sessions N  concurrent sessions, more are refused with a RST\n"
		"                        (default %d, at most %d)\n"
		"      --idle-timeout S  end a session that received nothing for S seconds\n"
		"                        (default 60)\n"
		"      --patience S      how long a client may stay silent while its session\n"
		"                        waits for its bytes (default 10); then the session\n"
		"                        fails (nothing came) or diverges (part came)\n"
		"      --holes refuse|zero  a served flow's server stream lacks bytes: refuse\n"
		"                        (default: exit 2; with many flows, leave the flow out)\n"
		"                        or send zeros in their place\n"
		"      --once            serve one session and exit with its verdict\n"
		"      --match POLICY    judge the client's stream: stream (default), size, bytes\n"
		"      --fault SPEC      misbehave on purpose, repeatable; each session plays the\n"
		"                        plan: [server:]drop:SEG dup:SEG delay:SEG:MS reorder:SEG\n"
		"                        corrupt:SEG truncate:SEG:BYTES rst:SEG stall:SEG loss:P%%\n"
		"                        dup:P%% reorder:P%% zero-window:CSEG:MS window:BYTES\n"
		"                        mtu:BYTES unreachable:SEG|syn[:CODE] (SEG: a\n"
		"                        label as tcpliveplay --dump prints it, S2; CSEG a client's,\n"
		"                        C1), and on what arrives from the client (the first\n"
		"                        packet with any byte of its C<n>): client:drop|dup|delay|\n"
		"                        reorder|corrupt:CSEG, client:loss|dup|reorder:P%%;\n"
		"                        client-drop:N is client:drop:CN. --fault captured: the\n"
		"                        capture's own faults of those kinds. Each SEG must exist\n"
		"                        in every selected flow\n"
		"      --seed N          fix ISNs and every random choice (default: fresh, printed)\n"
		"      --user USER       once set up, run as USER (when started as root); every\n"
		"                        capability is dropped after set-up in any case\n"
		"      --json FILE       one JSON report per session, one per line ('-': stdout\n"
		"                        only; a JSON line with the error when it cannot start)\n"
		"  -v, --verbose         each step of each session, on stderr; -vv also each\n"
		"                        packet in and out, each timer and the ICMP errors not\n"
		"                        taken\n"
		"  -q, --quiet           print errors only (the exit status tells the verdicts)\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"\n"
		"Exit status: 0 every session matched (with --once: the session matched), 1 a\n"
		"session diverged or failed, 2 bad usage or input, 3 environment (permission,\n"
		"interface).\n", DEFAULT_SESSIONS, MAX_SESSIONS);
}

/* The server's stream is what the responder sends: one with a hole is
 * refused (one flow), or left out with a warning (many), unless --holes
 * zero. 0 or an exit status. */
static int drop_holes(const struct ctx *c, const struct lp_flow **sel, size_t *n)
{
	char what[224];
	size_t k = 0;

	if (*n == 1)
		return lp_cli_check_holes(c->cli.file, sel[0], LP_S2C, c->cli.holes_zero);
	for (size_t i = 0; i < *n; i++) {
		if (!c->cli.holes_zero && lp_cli_hole(sel[i], LP_S2C, what, sizeof(what)))
			log_warn("%s: flow %u is not served: %s (--holes zero sends zeros)", c->cli.file,
				 sel[i]->id, what);
		else
			sel[k++] = sel[i];
	}
	if (!k)
		return lp_usage_error("%s: every selected flow lacks bytes of its server's stream; --holes zero "
				      "sends zeros in their place", c->cli.file);
	*n = k;
	return 0;
}

/* Read the capture and pick the flows to serve (an array to free()); an
 * exit status on failure. --port needs one server port among them. */
static int load_flows(struct ctx *c, struct lp_flows **flows, const struct lp_flow ***sel, size_t *n)
{
	struct lp_loader ld = { .file = c->cli.file, .verbose = c->cli.verbose > 0, .strict = c->cli.strict };
	int rc = lp_cli_load(&ld, flows);

	c->cli.file = ld.file;

	if (!rc)
		rc = lp_cli_select_many(c->cli.file, *flows, c->cli.flow, sel, n);
	if (rc)
		return rc;
	if (c->cli.shard_n) {
		*n = lp_flowset_shard(*sel, *n, c->cli.shard_k, c->cli.shard_n);
		if (!*n)
			return lp_usage_error("--shard %u/%u: no flow in this part", c->cli.shard_k, c->cli.shard_n);
	}
	rc = drop_holes(c, *sel, n);
	if (rc)
		return rc;
	for (size_t i = 0; i < *n; i++) {
		const struct lp_flow *fl = (*sel)[i];

		if (c->port && fl->server.port != (*sel)[0]->server.port)
			return lp_usage_error("--port: the selected flows are served on several ports "
					      "(flow %u on %u, flow %u on %u); --port needs flows of one server "
					      "port, or leave it out to serve each on its own",
					      (*sel)[0]->id, (*sel)[0]->server.port, fl->id, fl->server.port);
		if (fl->server.port == 0 && !c->port)
			return lp_usage_error("%s: flow %u has no server port; give --port", c->cli.file, fl->id);
	}
	return 0;
}

/* What each selected flow brings to its sessions, by flow id, in a new
 * array (free it with free_flows()): its fault plan (every SEG must exist in
 * each flow) and its server side's schedule, built now so that a client's
 * SYN is answered at once. 0 or an exit status. */
static int make_flows(const struct ctx *c, const struct lp_flow *const *sel, size_t n,
		      struct rsp_flow **flows, size_t *nflows)
{
	unsigned top = 0;
	int rc = 0;

	for (size_t k = 0; k < n; k++)
		if (sel[k]->id > top)
			top = sel[k]->id;
	*nflows = (size_t)top + 1;
	*flows = calloc(*nflows, sizeof(**flows));
	if (!*flows)
		return lp_env_error("out of memory");
	for (size_t k = 0; k < n && !rc; k++) {
		struct rsp_flow *rf = &(*flows)[sel[k]->id];

		rc = lp_cli_flow_faults(&c->cli.faults, sel[k], n > 1, &rf->plan);
		if (!rc && lp_schedule_new(sel[k], LP_ROLE_SERVER, &rf->sched) < 0)
			rc = lp_env_error("out of memory");
	}
	return rc;
}

static void free_flows(struct rsp_flow *flows, size_t n)
{
	for (size_t i = 0; i < n && flows; i++) {
		lp_fault_plan_free(flows[i].plan);
		lp_schedule_free(flows[i].sched);
	}
	free(flows);
}

/* One --fault: client-drop:SEG (older spelling) is client:drop:C<SEG>, the
 * client's segment dropped on arrival. */
static int add_fault(struct ctx *c, const char *spec)
{
	char alias[48];
	uint64_t v;

	if (!strncmp(spec, "client-drop:", 12)) {
		if (lp_parse_uint(spec + 12, 1, UINT32_MAX, &v))
			return lp_usage_error("--fault %s: bad segment '%s' (want a label number from 1)", spec,
					      spec + 12);
		snprintf(alias, sizeof(alias), "client:drop:C%llu", (unsigned long long)v);
		spec = alias;
	}
	return lp_cli_fault_arg(&c->cli.faults, spec);
}

/* Do the selected flows have more than one captured server address? */
static bool several_servers(const struct lp_flow *const *sel, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (sel[i]->server.family != sel[0]->server.family ||
		    memcmp(sel[i]->server.addr, sel[0]->server.addr, sel[0]->server.family == AF_INET ? 4 : 16))
			return true;
	return false;
}

/* The address alone, as text. */
static const char *addr_str(const struct lp_endpoint *ep, char *buf, size_t len)
{
	if (!inet_ntop(ep->family, ep->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* The served ports as text, "110" or "80, 443 and 8080" (at most a few). */
static const char *ports_str(const struct lp_flowpick *pick, char *buf, size_t len)
{
	size_t n = lp_flowpick_nports(pick), off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		int w;

		if (i == 4 && n > 5) {
			w = snprintf(buf + off, len - off, " ... %u (%zu ports)", lp_flowpick_port(pick, n - 1), n);
			break;
		}
		w = snprintf(buf + off, len - off, "%s%u", i == 0 ? "" : i + 1 == n ? " and " : ", ",
			     lp_flowpick_port(pick, i));
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}

/* "serving ...": what, where, how. */
static void print_serving(const struct ctx *c, const struct lp_flow *const *sel, size_t nsel,
			  const struct lp_flowpick *pick, const struct lp_endpoint *local, const struct lp_setup *su)
{
	const struct lp_flow *fl = sel[0];
	const char *guard = su->guard ? "RST guard on" : "answering ARP/NDP for the address";
	char a[64], b[64], l[64], pbuf[96], how[96];

	snprintf(how, sizeof(how), "%s%s", guard, lp_link_ring_mib(su->link) ? ", receive ring" : "");

	if (nsel == 1) {
		printf("serving flow %u of %s (%s -> %s) as %s on %s, seed %llu, %s\n", fl->id, c->cli.file,
		       lp_endpoint_str(&fl->client, a, sizeof(a)), lp_endpoint_str(&fl->server, b, sizeof(b)),
		       lp_endpoint_str(local, l, sizeof(l)), su->where, (unsigned long long)c->cli.seed, how);
		return;
	}
	if (!c->ip && several_servers(sel, nsel))
		log_info("note: the selected flows have several server addresses; all are served at %s",
			 addr_str(local, a, sizeof(a)));
	printf("serving %zu flows of %s on port%s %s as %s on %s, seed %llu, %s\n", nsel, c->cli.file,
	       lp_flowpick_nports(pick) == 1 ? "" : "s", ports_str(pick, pbuf, sizeof(pbuf)),
	       addr_str(local, l, sizeof(l)), su->where, (unsigned long long)c->cli.seed, how);
}

static void print_summary(const struct rsp_summary *sum)
{
	printf("summary: %llu session%s: %llu matched, %llu diverged, %llu failed; %llu refused; "
	       "%llu resets, %llu echo replies sent\n", (unsigned long long)sum->sessions,
	       sum->sessions == 1 ? "" : "s", (unsigned long long)sum->matched,
	       (unsigned long long)sum->diverged, (unsigned long long)sum->failed,
	       (unsigned long long)sum->refused, (unsigned long long)sum->resets,
	       (unsigned long long)sum->echoes);
}

/* The --json report: one line per session, opened before any work. */
static struct lp_json_out json_out;

/* Serve on the link set up: the loop's options from the command line, what
 * the flows bring by flow id. */
static int run(const struct ctx *c, const struct lp_setup *su, struct lp_flowpick *pick,
	       const struct lp_endpoint *local, const struct rsp_flow *flows, size_t nflows)
{
	struct rsp_opts o;
	struct rsp_summary sum;
	char err[512];
	int rc;

	memset(&o, 0, sizeof(o));
	o.pick = pick;
	o.link = su->link;
	o.local = *local;
	o.addr_local = su->addr_local;
	o.kernel_ports = su->kernel_ports;
	o.mtu = su->ifi.mtu;
	o.max_sessions = (size_t)c->max_sessions;
	o.idle_ns = c->idle_s * 1000000000ull;
	o.once = c->once;
	o.match = c->cli.match;
	o.patience_ms = (unsigned)c->cli.patience_s * 1000u;
	o.flows = flows;
	o.nflows = nflows;
	o.seed = c->cli.seed;
	o.verbose = c->cli.verbose;
	o.quiet = c->cli.quiet;
	o.text = !c->cli.json || strcmp(c->cli.json, "-");
	o.json = json_out.fp;
	o.stop = &lp_stop_requested;
	lp_catch_signals();
	rc = rsp_serve(&o, &sum, err, sizeof(err));
	json_out.written = sum.sessions > 0;
	if (rc)
		return lp_env_error("%s", err);
	if (o.text && !c->cli.quiet)
		print_summary(&sum);
	if (lp_link_drops(su->link))
		log_warn("the kernel dropped %u packets before they were read", lp_link_drops(su->link));
	return sum.exit_code;
}

static int serve(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow **sel = NULL;
	struct lp_flowpick *pick = NULL;
	struct lp_endpoint local;
	struct lp_setup su;
	struct rsp_flow *rflows = NULL;
	size_t nsel = 0, nflows = 0;
	int rc;

	memset(&su, 0, sizeof(su));
	if (!c->cli.have_seed && getrandom(&c->cli.seed, sizeof(c->cli.seed), 0) != sizeof(c->cli.seed))
		return lp_env_error("no randomness for a seed: %s", strerror(errno));
	rc = load_flows(c, &flows, &sel, &nsel);
	if (!rc)
		rc = make_flows(c, sel, nsel, &rflows, &nflows);
	if (rc)
		goto out;
	rc = lp_flowpick_new(sel, nsel, c->port, &pick);
	if (rc) {
		rc = lp_env_error("cannot set up the flows: %s", strerror(-rc));
		goto out;
	}
	local = c->ip ? c->ip_ep : sel[0]->server;
	local.port = lp_flowpick_port(pick, 0);
	su.want = c->link;
	for (size_t i = 0; i < nsel; i++)
		su.rx_expect += sel[i]->dir[LP_C2S].len;
	rc = lp_setup_server(&su, &local, pick);
	if (!rc)
		rc = lp_setup_drop(c->cli.user);
	if (rc)
		goto out;
	if ((!c->cli.json || strcmp(c->cli.json, "-")) && !c->cli.quiet)
		print_serving(c, sel, nsel, pick, &local, &su);
	if (c->cli.verbose > 1)
		lp_cli_trace(su.link);
	rc = run(c, &su, pick, &local, rflows, nflows);
out:
	lp_setup_end(&su);
	lp_flowpick_free(pick);
	free_flows(rflows, nflows);
	free(sel);
	/* The exit is next: the mapping goes with the address space. */
	lp_flows_free_at_exit(flows);
	return rc;
}

/* The responder's own options; the link's (lp_setup_option()) and those
 * both programs take (lp_cli_option()) go there. */
static int option(struct ctx *c, int opt, const char *arg)
{
	uint64_t v;
	int rc = lp_setup_option(&c->link, opt, arg);

	if (rc != LP_SETUP_NOT_MINE)
		return rc;
	switch (opt) {
	case LP_OPT_FAULT:
		return add_fault(c, arg);
	case OPT_IP:
		/* In the forms of tcpliveplay's --dst; a zone names the interface. */
		c->ip = arg;
		rc = lp_cli_peer("--ip", arg, arg, &c->link, &c->ip_ep);
		c->ip_port = c->ip_ep.port;
		return rc;
	case OPT_PORT:
		rc = lp_opt_uint("--port", arg, 1, 65535, "", &v);
		if (!rc)
			c->port = (uint16_t)v;
		return rc;
	case OPT_MAX_SESSIONS:
		return lp_opt_uint("--max-sessions", arg, 1, MAX_SESSIONS, "", &c->max_sessions);
	case OPT_IDLE_TIMEOUT:
		return lp_opt_uint("--idle-timeout", arg, 1, 86400, "of seconds ", &c->idle_s);
	case OPT_ONCE:
		c->once = true;
		return 0;
	default:
		rc = lp_cli_option(&c->cli, opt, arg);
		return rc == LP_CLI_NOT_MINE ? lp_usage_error("option %d not handled", opt) : rc;
	}
}

/* The options given go together; operands are not taken. */
static int check_options(struct ctx *c, int nargs, char **args)
{
	int rc;

	if (nargs)
		return lp_usage_error("unexpected argument '%s'", args[0]);
	if (c->ip_port && c->port && c->ip_port != c->port)
		return lp_usage_error("--ip %s and --port %u name two ports", c->ip, c->port);
	if (c->ip_port)
		c->port = c->ip_port;
	rc = lp_setup_check_opts(&c->link);
	if (rc)
		return rc;
	if (!c->link.iface && !c->link.tap)
		return lp_usage_error("no interface: give -i IFACE or --tap NAME");
	if (!c->cli.file)
		return lp_usage_error("no capture: give -r FILE");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		LP_SETUP_LONGOPTS,
		LP_CLI_LONGOPTS,
		{ "ip", required_argument, NULL, OPT_IP },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .max_sessions = DEFAULT_SESSIONS, .idle_s = 60,
			 .cli = { .match = LP_MATCH_STREAM, .usage = usage,
				  .faults = { .live = true, .local = LP_FAULT_SERVER } } };
	int opt, rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lp_log_prog = PROG;
	/* Errors are said here, under the program's name (not argv[0]'s path). */
	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":i:" LP_CLI_SHORTOPTS, longopts, NULL)) != -1)
		rc = opt == '?' || opt == ':' ? lp_cli_getopt_error(opt, argv, optind) :
						option(&c, opt, optarg);
	if (!rc)
		rc = check_options(&c, argc - optind, argv + optind);
	if (!rc)
		rc = lp_cli_json_open(&json_out, c.cli.json);
	if (!rc)
		rc = serve(&c);
	lp_cli_faults_free(&c.cli.faults);
	return rc == LP_CLI_DONE ? LP_EXIT_MATCHED : lp_cli_json_close(&json_out, c.cli.json, argc, argv, rc);
}

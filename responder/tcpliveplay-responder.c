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
#include <net/if_arp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "responder.h"
#include "tcpliveplay/cli.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowpick.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/link_pcap.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/netlink.h"
#include "tcpliveplay/nft_guard.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/privs.h"
#include "tcpliveplay/util.h"

#define PROG "tcpliveplay-responder"
#define MAX_SESSIONS 100000
#define DEFAULT_SESSIONS 1024

struct ctx {
	const char *iface;
	const char *file;
	const char *flow;
	unsigned shard_k, shard_n;          /* --shard K/N; 0/0: none */
	const char *ip;
	uint16_t port;
	uint64_t max_sessions;
	uint64_t idle_s;
	bool once;
	enum lp_match match;
	struct lp_cli_faults faults;
	bool have_seed;
	uint64_t seed;
	const char *json;
	const char *user;
	int verbose;
	bool quiet;
	bool strict;
};

enum {
	OPT_IP = 256,
	OPT_PORT,
	OPT_MAX_SESSIONS,
	OPT_IDLE_TIMEOUT,
	OPT_ONCE,
	OPT_MATCH,
	OPT_FAULT,
	OPT_SEED,
	OPT_JSON,
	OPT_USER,
	OPT_SHARD,
	OPT_STRICT,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " [OPTIONS] -i IFACE -r FILE [--flow SEL] [--ip ADDR] [--port N]\n"
		"\n"
		"Emulate the server of captured TCP conversations: answer every client that\n"
		"connects to ADDR:PORT with the server's side of a captured flow, and judge what\n"
		"the client sends against the capture.\n"
		"\n"
		"  -i, --interface IFACE send and capture on IFACE\n"
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
		"      --ip ADDR         the address to serve (default: the captured server's,\n"
		"                        of the first selected flow); ARP and neighbour\n"
		"                        solicitations for it are answered when the interface\n"
		"                        does not have it\n"
		"      --port N          the service port (default: each flow's captured server\n"
		"                        port); only when the selected flows share one\n"
		"      --max-sessions N  concurrent sessions, more are refused with a RST\n"
		"                        (default %d, at most %d)\n"
		"      --idle-timeout S  end a session that received nothing for S seconds\n"
		"                        (default 60)\n"
		"      --once            serve one session and exit with its verdict\n"
		"      --match POLICY    judge the client's stream: stream (default), size, bytes\n"
		"      --fault SPEC      misbehave on purpose, repeatable; each session plays the\n"
		"                        plan: [server:]drop:SEG dup:SEG delay:SEG:MS reorder:SEG\n"
		"                        corrupt:SEG truncate:SEG:BYTES rst:SEG stall:SEG loss:P%%\n"
		"                        dup:P%% reorder:P%% zero-window:CSEG:MS window:BYTES (SEG: a\n"
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
		"                        only)\n"
		"  -v, --verbose         print each step of each session\n"
		"  -q, --quiet           one line per session and errors only\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"\n"
		"Exit status: 0 every session matched (with --once: the session matched), 1 a\n"
		"session diverged or failed, 2 bad usage or input, 3 environment (permission,\n"
		"interface).\n", DEFAULT_SESSIONS, MAX_SESSIONS);
}

/* Read the capture and pick the flows to serve (an array to free()); an
 * exit status on failure. --port needs one server port among them. */
static int load_flows(struct ctx *c, struct lp_flows **flows, const struct lp_flow ***sel, size_t *n)
{
	struct lp_loader ld = { .file = c->file, .verbose = c->verbose > 0, .strict = c->strict };
	int rc = lp_cli_load(&ld, flows);

	c->file = ld.file;

	if (!rc)
		rc = lp_cli_select_many(c->file, *flows, c->flow, sel, n);
	if (rc)
		return rc;
	if (c->shard_n) {
		*n = lp_flowset_shard(*sel, *n, c->shard_k, c->shard_n);
		if (!*n)
			return lp_usage_error("--shard %u/%u: no flow in this part", c->shard_k, c->shard_n);
	}
	for (size_t i = 0; i < *n; i++) {
		const struct lp_flow *fl = (*sel)[i];

		if (c->port && fl->server.port != (*sel)[0]->server.port)
			return lp_usage_error("--port: the selected flows are served on several ports "
					      "(flow %u on %u, flow %u on %u); --port needs flows of one server "
					      "port, or leave it out to serve each on its own",
					      (*sel)[0]->id, (*sel)[0]->server.port, fl->id, fl->server.port);
		if (fl->server.port == 0 && !c->port)
			return lp_usage_error("%s: flow %u has no server port; give --port", c->file, fl->id);
	}
	return 0;
}

/* Each selected flow's fault plan, by flow id, in a new array (free() it
 * and its plans): every SEG must exist in each flow. 0 or an exit status. */
static int flow_plans(const struct ctx *c, const struct lp_flow *const *sel, size_t n,
		      struct lp_fault_plan ***plans, size_t *nplans)
{
	unsigned top = 0;
	int rc = 0;

	for (size_t k = 0; k < n; k++)
		if (sel[k]->id > top)
			top = sel[k]->id;
	*nplans = (size_t)top + 1;
	*plans = calloc(*nplans, sizeof(**plans));
	if (!*plans)
		return lp_env_error("out of memory");
	for (size_t k = 0; k < n && !rc; k++)
		rc = lp_cli_flow_faults(&c->faults, sel[k], n > 1, &(*plans)[sel[k]->id]);
	return rc;
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
	return lp_cli_fault_arg(&c->faults, spec);
}

#define PORT_BITMAP (65536 / 8)

/* The ports sockets of this network namespace listen on at ep's address or a
 * wildcard (IPv4 clients also reach an IPv6 wildcard), as a bitmap: port p
 * is bit p % 8 of byte p / 8. Read from /proc/net/tcp{,6}, whose addresses
 * are 32-bit words as stored (network order bytes). */
static void kernel_listens(const struct lp_endpoint *ep, uint8_t ports[PORT_BITMAP])
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(ports, 0, PORT_BITMAP);
	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		char line[512];

		if (!fp)
			continue;
		for (unsigned n = 0; n < 1000000 && fgets(line, sizeof(line), fp); n++) {
			unsigned w[4], port, st;
			uint8_t a[16];
			bool found;
			int ok;

			if (f == 0)
				ok = sscanf(line, " %*u: %8x:%4x %*x:%*x %2x", &w[0], &port, &st) == 3;
			else
				ok = sscanf(line, " %*u: %8x%8x%8x%8x:%4x %*x:%*x %2x", &w[0], &w[1], &w[2],
					    &w[3], &port, &st) == 6;
			if (!ok || st != 0x0a || port > 65535)
				continue;
			for (int i = 0; i < (f == 0 ? 1 : 4); i++) {
				uint32_t v = w[i];

				memcpy(a + 4 * i, &v, 4);
			}
			if (f == 0)
				found = ep->family == AF_INET && (!memcmp(a, zero, 4) || !memcmp(a, ep->addr, 4));
			else if (!memcmp(a, zero, 16))
				found = true;
			else if (ep->family == AF_INET6)
				found = !memcmp(a, ep->addr, 16);
			else
				found = !memcmp(a, mapped, 12) && !memcmp(a + 12, ep->addr, 4);
			if (found)
				ports[port / 8] |= (uint8_t)(1u << (port % 8));
		}
		fclose(fp);
	}
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

static int serve(struct ctx *c)
{
	struct lp_flows *flows = NULL;
	const struct lp_flow **sel = NULL, *fl;
	struct lp_flowpick *pick = NULL;
	struct lp_endpoint local, any;
	struct lp_ifinfo ifi;
	struct lp_link_pcap_cfg lcfg;
	struct lp_link_pcap *link = NULL;
	struct lp_nft_guard *guard = NULL;
	struct rsp_opts o;
	struct rsp_summary sum;
	struct lp_fault_plan **plans = NULL;
	size_t nplans = 0;
	FILE *json = NULL;
	uint8_t *kports = NULL;
	uint16_t first_port, last_port;
	size_t nsel = 0;
	bool addr_local, text = !c->json || strcmp(c->json, "-");
	char a[64], b[64], l[64], pbuf[96], err[512];
	int rc;

	if (c->ip && lp_addr_parse(c->ip, &local))
		return lp_usage_error("--ip: '%s' is not an IPv4 or IPv6 address", c->ip);
	if (!c->have_seed && getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed))
		return lp_env_error("no randomness for a seed: %s", strerror(errno));
	rc = load_flows(c, &flows, &sel, &nsel);
	if (rc)
		goto out;
	fl = sel[0];
	rc = flow_plans(c, sel, nsel, &plans, &nplans);
	if (rc)
		goto out;
	rc = lp_flowpick_new(sel, nsel, c->port, &pick);
	if (rc) {
		rc = lp_env_error("cannot set up the flows: %s", strerror(-rc));
		goto out;
	}
	first_port = lp_flowpick_port(pick, 0);
	last_port = lp_flowpick_port(pick, lp_flowpick_nports(pick) - 1);
	if (!c->ip)
		local = fl->server;
	local.port = first_port;

	rc = lp_nl_link_get(c->iface, &ifi, err, sizeof(err));
	if (rc) {
		rc = lp_env_error("interface %s: %s", c->iface, err);
		goto out;
	}
	rc = lp_nl_addr_is_local(local.family, local.addr, NULL);
	if (rc < 0) {
		rc = lp_env_error("cannot list the host's addresses: %s", strerror(-rc));
		goto out;
	}
	addr_local = rc == 1;
	rc = 0;
	if (addr_local) {
		kports = malloc(PORT_BITMAP);
		if (!kports) {
			rc = lp_env_error("out of memory");
			goto out;
		}
		kernel_listens(&local, kports);
		for (size_t i = 0; i < lp_flowpick_nports(pick); i++) {
			struct lp_endpoint ep = local;

			ep.port = lp_flowpick_port(pick, i);
			if (!((kports[ep.port / 8] >> (ep.port % 8)) & 1))
				continue;
			rc = lp_env_error("%s: a program of this host listens on that port and would answer the "
					  "clients too; stop it or serve another --port",
					  lp_endpoint_str(&ep, a, sizeof(a)));
			goto out;
		}
	}

	memset(&lcfg, 0, sizeof(lcfg));
	lcfg.ifname = c->iface;
	lcfg.local = local;
	lcfg.local_port_last = last_port;
	memcpy(lcfg.local_mac, ifi.mac, 6);
	lcfg.answer_neigh = !addr_local;
	lcfg.all_to_local = true;
	lcfg.loopback = ifi.type == ARPHRD_LOOPBACK;
	rc = lp_link_pcap_open(&lcfg, &link, err, sizeof(err));
	if (rc) {
		rc = rc == -EPROTONOSUPPORT ? lp_usage_error("%s", err) : lp_env_error("%s", err);
		goto out;
	}
	if (addr_local) {
		/* The kernel owns the address and would reset every SYN: no RST
		 * leaves from the served ports (ports between them that no flow
		 * serves are answered by us, or left to the host's listener). */
		memset(&any, 0, sizeof(any));
		rc = lp_nft_guard_install_range(&local, last_port, &any, &guard, err, sizeof(err));
		if (rc) {
			snprintf(pbuf, sizeof(pbuf), "-%u", last_port);
			rc = lp_env_error("cannot install the RST guard for %s%s: %s",
					  lp_endpoint_str(&local, a, sizeof(a)), last_port > first_port ? pbuf : "",
					  err);
			goto out;
		}
	}
	rc = lp_cli_open_json(c->json, &json);
	if (rc)
		goto out;
	/* Everything that needed a privilege is open: drop them all. */
	rc = lp_drop_privileges(c->user, err, sizeof(err));
	if (rc) {
		rc = rc == -ENOENT ? lp_usage_error("--user: %s", err) : lp_env_error("%s", err);
		goto out;
	}

	memset(&o, 0, sizeof(o));
	o.pick = pick;
	o.link = link;
	o.local = local;
	o.addr_local = addr_local;
	o.kernel_ports = kports;
	o.mtu = ifi.mtu;
	o.max_sessions = (size_t)c->max_sessions;
	o.idle_ns = c->idle_s * 1000000000ull;
	o.once = c->once;
	o.match = c->match;
	o.plans = plans;
	o.nplans = nplans;
	o.seed = c->seed;
	o.verbose = c->verbose;
	o.quiet = c->quiet;
	o.text = text;
	o.json = json;
	o.stop = &lp_stop_requested;
	if (text && !c->quiet && nsel == 1) {
		printf("serving flow %u of %s (%s -> %s) as %s on %s, seed %llu, %s\n", fl->id, c->file,
		       lp_endpoint_str(&fl->client, a, sizeof(a)), lp_endpoint_str(&fl->server, b, sizeof(b)),
		       lp_endpoint_str(&local, l, sizeof(l)), c->iface, (unsigned long long)c->seed,
		       guard ? "RST guard on" : "answering ARP/NDP for the address");
	} else if (text && !c->quiet) {
		if (!c->ip && several_servers(sel, nsel))
			printf("note: the selected flows have several server addresses; all are served at %s\n",
			       addr_str(&local, a, sizeof(a)));
		printf("serving %zu flows of %s on port%s %s as %s on %s, seed %llu, %s\n", nsel, c->file,
		       lp_flowpick_nports(pick) == 1 ? "" : "s", ports_str(pick, pbuf, sizeof(pbuf)),
		       addr_str(&local, l, sizeof(l)), c->iface, (unsigned long long)c->seed,
		       guard ? "RST guard on" : "answering ARP/NDP for the address");
	}
	lp_catch_signals();
	rc = rsp_serve(&o, &sum, err, sizeof(err));
	if (rc) {
		rc = lp_env_error("%s", err);
		goto out;
	}
	if (text && !c->quiet)
		printf("summary: %llu session%s: %llu matched, %llu diverged, %llu failed; %llu refused; "
		       "%llu resets, %llu echo replies sent\n", (unsigned long long)sum.sessions,
		       sum.sessions == 1 ? "" : "s", (unsigned long long)sum.matched,
		       (unsigned long long)sum.diverged, (unsigned long long)sum.failed,
		       (unsigned long long)sum.refused, (unsigned long long)sum.resets,
		       (unsigned long long)sum.echoes);
	if (lp_link_pcap_drops(link))
		log_warn("the kernel dropped %u packets from the capture buffer", lp_link_pcap_drops(link));
	rc = sum.exit_code;
out:
	if (json && json != stdout && fclose(json) && !rc)
		rc = lp_env_error("cannot write %s", c->json);
	lp_nft_guard_free(guard);
	lp_link_pcap_close_async(link);
	lp_flowpick_free(pick);
	for (size_t i = 0; i < nplans; i++)
		lp_fault_plan_free(plans[i]);
	free(plans);
	free(kports);
	free(sel);
	lp_flows_free(flows);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "flow", required_argument, NULL, 'f' },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "match", required_argument, NULL, OPT_MATCH },
		{ "fault", required_argument, NULL, OPT_FAULT },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "user", required_argument, NULL, OPT_USER },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .max_sessions = DEFAULT_SESSIONS, .idle_s = 60, .match = LP_MATCH_STREAM,
			 .faults = { .live = true, .local = LP_FAULT_SERVER } };
	uint64_t v;
	int opt, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lp_log_prog = PROG;
	while ((opt = getopt_long(argc, argv, "i:r:f:vqhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			c.iface = optarg;
			break;
		case 'r':
			c.file = optarg;
			break;
		case 'f':
			c.flow = optarg;
			break;
		case OPT_IP:
			c.ip = optarg;
			break;
		case OPT_SHARD:
			if (lp_flowset_parse_shard(optarg, LP_FLOWSET_MAX_SHARDS, &c.shard_k, &c.shard_n)) {
				rc = lp_usage_error("--shard: '%s' is not K/N with 1 <= K <= N <= %d", optarg,
						    LP_FLOWSET_MAX_SHARDS);
				goto out;
			}
			break;
		case OPT_PORT:
			rc = lp_opt_uint("--port", optarg, 1, 65535, "", &v);
			if (rc)
				goto out;
			c.port = (uint16_t)v;
			break;
		case OPT_MAX_SESSIONS:
			rc = lp_opt_uint("--max-sessions", optarg, 1, MAX_SESSIONS, "", &c.max_sessions);
			if (rc)
				goto out;
			break;
		case OPT_IDLE_TIMEOUT:
			rc = lp_opt_uint("--idle-timeout", optarg, 1, 86400, "of seconds ", &c.idle_s);
			if (rc)
				goto out;
			break;
		case OPT_ONCE:
			c.once = true;
			break;
		case OPT_MATCH:
			if (lp_match_parse(optarg, &c.match)) {
				rc = lp_usage_error("--match: '%s' is not one of stream, size, bytes", optarg);
				goto out;
			}
			break;
		case OPT_FAULT:
			rc = add_fault(&c, optarg);
			if (rc)
				goto out;
			break;
		case OPT_SEED:
			if (lp_parse_uint(optarg, 0, UINT64_MAX, &c.seed)) {
				rc = lp_usage_error("--seed: '%s' is not a number", optarg);
				goto out;
			}
			c.have_seed = true;
			break;
		case OPT_JSON:
			c.json = optarg;
			break;
		case OPT_USER:
			c.user = optarg;
			break;
		case OPT_STRICT:
			c.strict = true;
			break;
		case 'v':
			c.verbose++;
			lp_log_threshold = c.verbose > 1 ? LP_LOG_DEBUG : LP_LOG_INFO;
			break;
		case 'q':
			c.quiet = true;
			lp_log_threshold = LP_LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			rc = LP_EXIT_MATCHED;
			goto out;
		case 'V':
			printf(PROG " %s\n", LP_VERSION);
			rc = LP_EXIT_MATCHED;
			goto out;
		default:
			fprintf(stderr, "Try '" PROG " --help' for more information.\n");
			rc = LP_EXIT_BADINPUT;
			goto out;
		}
	}
	if (optind < argc)
		rc = lp_usage_error("unexpected argument '%s'", argv[optind]);
	else if (!c.iface)
		rc = lp_usage_error("no interface: give -i IFACE");
	else if (!c.file)
		rc = lp_usage_error("no capture: give -r FILE");
	else
		rc = serve(&c);
out:
	lp_cli_faults_free(&c.faults);
	return rc;
}

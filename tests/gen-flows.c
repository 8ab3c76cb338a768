/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gen-flows: writes a capture of N complete HTTP-like TCP flows for the
 * many-flow tests (tests/cli.sh, tests/e2e/cases/60-multiflow.sh), through
 * the tests' capture writer (tests/pcapgen.c).
 *
 * Each flow: a three-way handshake with MSS, window scale and SACK-permitted,
 * a request, a response in MSS-sized segments, the client's ACK, FIN from the
 * client, FIN+ACK from the server, the last ACK. Flow i (from 0) starts
 * i * spacing microseconds after the first, its packets 50 us apart; the file
 * holds all packets in time order, so that flows overlap when they are longer
 * than the spacing. Client ports are distinct (from 20000 up, wrapping within
 * 1024..65535); clients and servers are taken round-robin from the lists.
 * With --pcapng, even flows are captured on an Ethernet interface in
 * microseconds, odd ones on a Linux cooked interface in nanoseconds.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "pcapgen.h"

#define GF_MAX_FLOWS 60000u
#define GF_MAX_ADDRS 16
#define GF_MAX_BYTES (1u << 20)
/* Larger responses (one flow of up to 2 GiB, for the memory tests) repeat
 * their pattern from a small buffer. */
#define GF_MAX_RESP 0x7ffff000u
#define GF_MSS 1460u
#define GF_STEP_NS 50000ull

struct gf_opts {
	unsigned n;
	const char *out;
	int family;
	const char *clients[GF_MAX_ADDRS];
	unsigned nclients;
	const char *servers[GF_MAX_ADDRS];
	unsigned nservers;
	char *client_list, *server_list;
	unsigned port;
	unsigned req, resp;
	unsigned spacing_us;
	bool pcapng;
};

/* One packet of the file: flow and position in it, sorted by time. */
struct gf_slot {
	uint64_t ts;
	uint32_t flow;
	uint32_t k;
};

static const char gf_syn_opts[] = "\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02";
static char *req_buf, *resp_buf;
static size_t resp_head;    /* the response head's length */

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: gen-flows -n N -o FILE [OPTIONS]\n"
		"Write a capture of N complete HTTP-like TCP flows (N <= %u).\n"
		"  -n, --flows N         number of flows\n"
		"  -o, --output FILE     the capture to write (pcap, Ethernet)\n"
		"      --family 4|6      IPv4 (default) or IPv6\n"
		"      --client ADDR     client address (default 198.18.0.1 / 2001:db8::1)\n"
		"      --clients A,B,..  client addresses, taken round-robin\n"
		"      --server ADDR     server address (default 198.18.0.2 / 2001:db8::2)\n"
		"      --servers A,B,..  server addresses, taken round-robin\n"
		"      --port N          server port (default 80)\n"
		"      --req BYTES       request bytes per flow (default 100)\n"
		"      --resp BYTES      response bytes per flow (default 1000; over 1 MiB\n"
		"                        only with -n 1, up to 2 GiB)\n"
		"      --spacing-us N    microseconds between flow starts (default 1000)\n"
		"      --pcapng          write pcapng: even flows on an Ethernet interface,\n"
		"                        odd ones on a Linux cooked one (default: pcap)\n",
		GF_MAX_FLOWS);
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Split a comma list in place into addrs; each must parse in family fam. */
static int parse_addrs(char *list, int fam, const char **addrs, unsigned *n)
{
	unsigned char tmp[16];
	char *save = NULL;

	*n = 0;
	for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		if (*n == GF_MAX_ADDRS || inet_pton(fam, a, tmp) != 1)
			return -EINVAL;
		addrs[(*n)++] = a;
	}
	return *n ? 0 : -EINVAL;
}

static unsigned segs(unsigned bytes)
{
	return bytes ? (bytes + GF_MSS - 1) / GF_MSS : 0;
}

/* Packets of one flow: SYN, SYN-ACK, ACK, request, response, ACK, FIN,
 * FIN-ACK, ACK. */
static unsigned flow_pkts(const struct gf_opts *o)
{
	return 7 + segs(o->req) + segs(o->resp);
}

static void flow_conv(const struct gf_opts *o, uint32_t i, struct pg_conv *c)
{
	memset(c, 0, sizeof(*c));
	c->family = o->family;
	c->caddr = o->clients[i % o->nclients];
	c->saddr = o->servers[i % o->nservers];
	c->cport = (uint16_t)(1024u + (18976u + i) % 64512u);
	c->sport = (uint16_t)o->port;
	c->cisn = 0x10000000u + i * 2654435761u;
	c->sisn = 0x80000000u + i * 40503u * 65537u;
}

/* The response's bytes from offset off (at most GF_MSS of them): past the
 * head, 'a' + offset % 26, found in the buffer at the same phase. */
static const char *resp_at(const struct gf_opts *o, uint32_t off)
{
	if (o->resp <= GF_MAX_BYTES || off < resp_head)
		return resp_buf + off;
	return resp_buf + resp_head + (off - resp_head) % 26;
}

/* Packet k of a flow (relative sequence numbers: data starts at 1). */
static void flow_pkt(const struct gf_opts *o, unsigned k, struct pg_pkt *p)
{
	unsigned nreq = segs(o->req), nresp = segs(o->resp);
	uint32_t cend = 1 + o->req, send = 1 + o->resp;

	memset(p, 0, sizeof(*p));
	if (k == 0) {
		*p = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN, .opts = gf_syn_opts, .optlen = 10 };
		return;
	}
	if (k == 1) {
		*p = (struct pg_pkt){ .dir = PG_S, .flags = PG_SA, .ack = 1, .opts = gf_syn_opts, .optlen = 10 };
		return;
	}
	if (k == 2) {
		*p = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1, .window = 502 };
		return;
	}
	k -= 3;
	if (k < nreq) {
		uint32_t off = k * GF_MSS;
		uint32_t len = o->req - off < GF_MSS ? o->req - off : GF_MSS;

		*p = (struct pg_pkt){ .dir = PG_C, .flags = k + 1 == nreq ? PG_PA : PG_ACK, .seq = 1 + off,
				      .ack = 1, .data = req_buf + off, .len = len, .window = 502 };
		return;
	}
	k -= nreq;
	if (k < nresp) {
		uint32_t off = k * GF_MSS;
		uint32_t len = o->resp - off < GF_MSS ? o->resp - off : GF_MSS;

		*p = (struct pg_pkt){ .dir = PG_S, .flags = k + 1 == nresp ? PG_PA : PG_ACK, .seq = 1 + off,
				      .ack = cend, .data = resp_at(o, off), .len = len, .window = 502 };
		return;
	}
	k -= nresp;
	switch (k) {
	case 0:
		*p = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = cend, .ack = send, .window = 502 };
		break;
	case 1:
		*p = (struct pg_pkt){ .dir = PG_C, .flags = PG_FA, .seq = cend, .ack = send, .window = 502 };
		break;
	case 2:
		*p = (struct pg_pkt){ .dir = PG_S, .flags = PG_FA, .seq = send, .ack = cend + 1, .window = 502 };
		break;
	default:
		*p = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = cend + 1, .ack = send + 1, .window = 502 };
		break;
	}
}

static int slot_cmp(const void *a, const void *b)
{
	const struct gf_slot *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	return (x->k > y->k) - (x->k < y->k);
}

/* Readable filler: an HTTP request or response head, then a pattern. */
static char *fill(unsigned n, const char *head)
{
	char *b = malloc(n ? n : 1);
	size_t hl = strlen(head);

	if (!b)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		b[i] = i < hl ? head[i] : (char)('a' + i % 26);
	if (n > hl + 4 && !strstr(head, "\r\n\r\n"))
		memcpy(b + n - 4, "\r\n\r\n", 4);
	return b;
}

static int parse_args(int argc, char **argv, struct gf_opts *o)
{
	enum { O_FAMILY = 256, O_CLIENT, O_CLIENTS, O_SERVER, O_SERVERS, O_PORT, O_REQ, O_RESP, O_SPACING, O_PCAPNG };
	static const struct option lopts[] = {
		{ "flows", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "family", required_argument, NULL, O_FAMILY },
		{ "client", required_argument, NULL, O_CLIENT },
		{ "clients", required_argument, NULL, O_CLIENTS },
		{ "server", required_argument, NULL, O_SERVER },
		{ "servers", required_argument, NULL, O_SERVERS },
		{ "port", required_argument, NULL, O_PORT },
		{ "req", required_argument, NULL, O_REQ },
		{ "resp", required_argument, NULL, O_RESP },
		{ "spacing-us", required_argument, NULL, O_SPACING },
		{ "pcapng", no_argument, NULL, O_PCAPNG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned fam = 4;
	int c;

	while ((c = getopt_long(argc, argv, "n:o:h", lopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'n':
			bad = parse_uint(optarg, 1, GF_MAX_FLOWS, &o->n);
			break;
		case 'o':
			o->out = optarg;
			break;
		case O_FAMILY:
			bad = parse_uint(optarg, 4, 6, &fam) || fam == 5;
			break;
		case O_CLIENT:
		case O_CLIENTS:
			o->client_list = optarg;
			break;
		case O_SERVER:
		case O_SERVERS:
			o->server_list = optarg;
			break;
		case O_PORT:
			bad = parse_uint(optarg, 1, 65535, &o->port);
			break;
		case O_REQ:
			bad = parse_uint(optarg, 1, GF_MAX_BYTES, &o->req);
			break;
		case O_RESP:
			bad = parse_uint(optarg, 0, GF_MAX_RESP, &o->resp);
			break;
		case O_SPACING:
			bad = parse_uint(optarg, 0, 10000000, &o->spacing_us);
			break;
		case O_PCAPNG:
			o->pcapng = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			bad = 1;
			break;
		}
		if (bad) {
			if (c != '?')
				fprintf(stderr, "gen-flows: bad value '%s' for --%s\n", optarg,
					c == 'n' ? "flows" : lopts[c - O_FAMILY + 2].name);
			return -EINVAL;
		}
	}
	if (o->resp > GF_MAX_BYTES && o->n != 1) {
		fprintf(stderr, "gen-flows: --resp over %u needs -n 1\n", GF_MAX_BYTES);
		return -EINVAL;
	}
	if (optind != argc || !o->n || !o->out) {
		fprintf(stderr, "gen-flows: -n N and -o FILE are needed%s\n",
			optind != argc ? ", and no other arguments" : "");
		return -EINVAL;
	}
	o->family = fam == 6 ? AF_INET6 : AF_INET;
	if (o->client_list ? parse_addrs(o->client_list, o->family, o->clients, &o->nclients) : 0) {
		fprintf(stderr, "gen-flows: bad client address list for IPv%u\n", fam);
		return -EINVAL;
	}
	if (o->server_list ? parse_addrs(o->server_list, o->family, o->servers, &o->nservers) : 0) {
		fprintf(stderr, "gen-flows: bad server address list for IPv%u\n", fam);
		return -EINVAL;
	}
	if (!o->nclients) {
		o->clients[0] = fam == 6 ? "2001:db8::1" : "198.18.0.1";
		o->nclients = 1;
	}
	if (!o->nservers) {
		o->servers[0] = fam == 6 ? "2001:db8::2" : "198.18.0.2";
		o->nservers = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gf_opts o = { .port = 80, .req = 100, .resp = 1000, .spacing_us = 1000 };
	struct gf_slot *slots = NULL;
	struct pg_file *f = NULL;
	struct pg_ng *ng = NULL;
	unsigned per;
	size_t total, j = 0;
	const uint64_t base = 1700000000ull * 1000000000ull;
	int rc = 2;
	char head[96];

	if (parse_args(argc, argv, &o))
		goto out;
	rc = 1;
	/* The head's own length enters the body length: settle it in a few rounds. */
	head[0] = 0;
	for (int round = 0; round < 3; round++) {
		size_t hl = strlen(head);

		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
			 o.resp > hl ? o.resp - hl : 0);
	}
	req_buf = fill(o.req, "GET /gen-flows HTTP/1.1\r\nHost: lab\r\nX-Pad: ");
	resp_head = o.resp >= strlen(head) ? strlen(head) : 0;
	resp_buf = fill(o.resp <= GF_MAX_BYTES ? o.resp : (unsigned)resp_head + 26 + GF_MSS, resp_head ? head : "");
	per = flow_pkts(&o);
	total = (size_t)o.n * per;
	slots = calloc(total, sizeof(*slots));
	if (!req_buf || !resp_buf || !slots) {
		fprintf(stderr, "gen-flows: out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < o.n; i++)
		for (unsigned k = 0; k < per; k++)
			slots[j++] = (struct gf_slot){
				.ts = base + (uint64_t)i * o.spacing_us * 1000u + k * GF_STEP_NS,
				.flow = i, .k = k };
	qsort(slots, total, sizeof(*slots), slot_cmp);
	if (o.pcapng) {
		ng = pg_ng_open(o.out, false);
		if (ng && (pg_ng_iface(ng, PG_ETH, 0, 0) || pg_ng_iface(ng, PG_SLL, 9, 0) != 1))
			goto out;
	} else {
		f = pg_open(o.out, PG_ETH, true);
	}
	if (!f && !ng) {
		fprintf(stderr, "gen-flows: cannot write %s\n", o.out);
		goto out;
	}
	for (j = 0; j < total; j++) {
		struct pg_conv c;
		struct pg_pkt p;

		flow_conv(&o, slots[j].flow, &c);
		flow_pkt(&o, slots[j].k, &p);
		p.ts = slots[j].ts;
		if (ng ? pg_ng_put(ng, (int)(slots[j].flow % 2), PG_EPB, &c, &p) : pg_put(f, &c, &p))
			goto out;
	}
	if (ng ? pg_ng_close(ng) : pg_close(f)) {
		f = NULL;
		ng = NULL;
		fprintf(stderr, "gen-flows: %s: write error\n", o.out);
		goto out;
	}
	f = NULL;
	ng = NULL;
	rc = 0;
out:
	if (f)
		pg_close(f);
	pg_ng_close(ng);
	if (rc == 2)
		fprintf(stderr, "Try 'gen-flows --help' for more information.\n");
	free(slots);
	free(req_buf);
	free(resp_buf);
	return rc;
}

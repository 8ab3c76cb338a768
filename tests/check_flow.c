/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flow model over captures the tests write themselves (tests/pcapgen.c):
 * client detection, stream reassembly, holes, the segment schedule and flow
 * selection. Each test writes its capture into a fresh temporary directory.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pcapgen.h"
#include "streambytes.h"
#include "tmpdir.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/util.h"

#define REQ "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n"
#define RESP1 "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"
#define RESP2 "hello world\n"
#define RESP RESP1 RESP2
/* MSS 1460, SACK-permitted, TS 7/0, NOP, WS 7. */
#define C_SYNOPTS "\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x07\x00\x00\x00\x00\x01\x03\x03\x07"
/* MSS 1400, SACK-permitted, TS 99/7, NOP, WS 8. */
#define S_SYNOPTS "\x02\x04\x05\x78\x04\x02\x08\x0a\x00\x00\x00\x63\x00\x00\x00\x07\x01\x03\x03\x08"
#define T0 (1700000000ull * 1000000000ull)
#define MS 1000000ull
#define MAXPKT 256


static const struct pg_conv conv4 = { .family = AF_INET, .cisn = 1000, .sisn = 5000 };
static const struct pg_conv conv6 = { .family = AF_INET6, .cisn = 1000, .sisn = 5000 };

#define QL ((uint32_t)sizeof(REQ) - 1)
#define R1 ((uint32_t)sizeof(RESP1) - 1)
#define R2 ((uint32_t)sizeof(RESP2) - 1)

/* The reference conversation: handshake, a request, a two-segment answer,
 * FINs both ways. Returns the number of packets written into p. */
static size_t std_pkts(struct pg_pkt *p)
{
	size_t n = 0;

	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN, .opts = C_SYNOPTS, .optlen = 20, .window = 64240 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_SA, .ack = 1, .opts = S_SYNOPTS, .optlen = 20,
				  .window = 65160 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = REQ };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 1, .ack = 1 + QL };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 1 + QL, .data = RESP1 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_PA, .seq = 1 + R1, .ack = 1 + QL, .data = RESP2 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1 + QL, .ack = 1 + R1 + R2 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_FA, .seq = 1 + QL, .ack = 1 + R1 + R2 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_FA, .seq = 1 + R1 + R2, .ack = 2 + QL };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 2 + QL, .ack = 2 + R1 + R2 };
	return n;
}

/* Warnings the loader reported. */
struct warns {
	int n;
	uint32_t packet[16];
	char what[16][128];
};

static void warn_cb(void *ctx, uint32_t packet, const char *what)
{
	struct warns *w = ctx;

	ck_assert_ptr_nonnull(what);
	if (w->n < 16) {
		w->packet[w->n] = packet;
		snprintf(w->what[w->n], sizeof(w->what[0]), "%s", what);
	}
	w->n++;
}

static struct lp_flows *load(const char *path, struct warns *w)
{
	struct lp_flows *f = NULL;
	char err[512] = "";
	int rc = lp_flows_load(path, w ? warn_cb : NULL, w, &f, err, sizeof(err));

	ck_assert_msg(rc == 0, "lp_flows_load(%s): %d: %s", path, rc, err);
	ck_assert_ptr_nonnull(f);
	return f;
}

/* Write one conversation in link framing and load it. */
static struct lp_flows *load_conv(enum pg_link link, const struct pg_conv *c, const struct pg_pkt *p,
				  size_t n, struct warns *w)
{
	const char *path = tpath("conv.pcap");

	ck_assert_int_eq(pg_write(path, link, c, p, n), 0);
	return load(path, w);
}

static const struct lp_flow *only(const struct lp_flows *f)
{
	const struct lp_flow *fl = NULL;

	ck_assert_uint_eq(lp_flows_count(f), 1);
	ck_assert_int_eq(lp_flows_select(f, NULL, &fl), 0);
	ck_assert_ptr_nonnull(fl);
	ck_assert_ptr_eq(fl, lp_flows_get(f, 1));
	return fl;
}

static void assert_stream(const struct lp_stream *st, const void *want, uint64_t len)
{
	ck_assert_uint_eq(st->len, len);
	if (len)
		ck_assert_msg(stream_mem_eq(st, 0, want, len), "stream bytes differ");
}

static void assert_seg(const struct lp_segment *s, int dir, uint64_t offset, uint32_t len, uint64_t ack,
		       uint32_t label, uint8_t flags, uint32_t packet)
{
	ck_assert_int_eq(s->dir, dir);
	ck_assert_uint_eq(s->offset, offset);
	ck_assert_uint_eq(s->len, len);
	ck_assert_uint_eq(s->ack, ack);
	ck_assert_uint_eq(s->label, label);
	ck_assert_uint_eq(s->flags, flags);
	ck_assert_uint_eq(s->packet, packet);
}

static void assert_endpoint(const struct lp_endpoint *ep, int family, const char *addr, uint16_t port)
{
	uint8_t a[16] = { 0 };

	ck_assert_int_eq(inet_pton(family, addr, a), 1);
	ck_assert_int_eq(ep->family, family);
	ck_assert_mem_eq(ep->addr, a, 16);
	ck_assert_uint_eq(ep->port, port);
}

/* Everything about the reference conversation, whatever its framing. */
static void assert_std_flow(const struct lp_flow *fl, int family)
{
	const struct lp_stream *c = &fl->dir[LP_C2S], *s = &fl->dir[LP_S2C];

	ck_assert_uint_eq(fl->id, 1);
	ck_assert_uint_eq(fl->notes, 0);
	assert_endpoint(&fl->client, family, family == AF_INET ? "198.18.0.1" : "2001:db8::1", 40000);
	assert_endpoint(&fl->server, family, family == AF_INET ? "198.18.0.2" : "2001:db8::2", 80);
	assert_stream(c, REQ, QL);
	assert_stream(s, RESP, R1 + R2);
	ck_assert_uint_eq(c->isn, 1000);
	ck_assert_uint_eq(s->isn, 5000);
	ck_assert(c->isn_from_syn && s->isn_from_syn);
	ck_assert(c->syn && c->fin && !c->rst);
	ck_assert(s->syn && s->fin && !s->rst);
	ck_assert_uint_eq(c->packets, 6);
	ck_assert_uint_eq(s->packets, 5);
	ck_assert_uint_eq(c->data_packets, 1);
	ck_assert_uint_eq(s->data_packets, 2);
	ck_assert_uint_eq(c->retransmissions + s->retransmissions, 0);
	ck_assert_uint_eq(c->conflicts + s->conflicts, 0);
	ck_assert_uint_eq(c->wire_bytes, QL);
	ck_assert_uint_eq(s->wire_bytes, R1 + R2);
	ck_assert_uint_eq(c->nholes + s->nholes, 0);
	ck_assert_uint_eq(c->hole_bytes + s->hole_bytes, 0);
	ck_assert_uint_eq(fl->packets, 11);
	ck_assert_uint_eq(fl->first_packet, 1);
	ck_assert_uint_eq(fl->first_ts, T0 + 1 * MS);
	ck_assert_uint_eq(fl->last_ts, T0 + 11 * MS);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 1);
	ck_assert_uint_eq(fl->ndata[LP_S2C], 2);
	ck_assert_uint_eq(fl->nsegs, 7);
	assert_seg(&fl->segs[0], LP_C2S, 0, 0, 0, 0, PG_SYN, 1);
	assert_seg(&fl->segs[1], LP_S2C, 0, 0, 0, 0, PG_SA, 2);
	assert_seg(&fl->segs[2], LP_C2S, 0, QL, 0, 1, PG_PA, 4);
	assert_seg(&fl->segs[3], LP_S2C, 0, R1, QL, 1, PG_PA, 6);
	assert_seg(&fl->segs[4], LP_S2C, R1, R2, QL, 2, PG_PA, 7);
	assert_seg(&fl->segs[5], LP_C2S, QL, 0, R1 + R2, 0, PG_FA, 9);
	assert_seg(&fl->segs[6], LP_S2C, R1 + R2, 0, QL + 1, 0, PG_FA, 10);
	for (size_t i = 0; i < fl->nsegs; i++)
		ck_assert_uint_eq(fl->segs[i].ts_ns, T0 + fl->segs[i].packet * MS);
	ck_assert(c->opts.seen && s->opts.seen);
	ck_assert(!lp_flow_first_hole(fl, &(enum lp_dir){ LP_C2S }, &(struct lp_hole){ 0, 0 }));
}

/* The same conversation in every framing, IPv4 and IPv6, yields the same
 * flow; BSD loopback IPv6 in each AF_INET6 value. */
START_TEST(every_link_type)
{
	enum pg_link link = (enum pg_link)(_i % PG_NLINKS);
	int v = _i / PG_NLINKS;   /* 0: IPv4; 1..3: IPv6 with AF 24, 28, 30 */
	static const uint32_t af6[] = { 30, 24, 28, 30 };
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	const char *path = tpath("link.pcap");
	struct pg_file *f;
	struct lp_flows *fs;
	struct warns w = { 0 };

	if (v > 1 && link != PG_NULL && link != PG_NULL_BE && link != PG_LOOP)
		return;
	f = pg_open(path, link, false);
	ck_assert_ptr_nonnull(f);
	pg_set_af6(f, af6[v]);
	ck_assert_int_eq(pg_put_all(f, v ? &conv6 : &conv4, p, n), 0);
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, &w);
	ck_assert_int_eq(w.n, 0);
	ck_assert_int_eq(lp_flows_stats(fs)->linktype, pg_dlt(link));
	ck_assert_uint_eq(lp_flows_stats(fs)->packets, 11);
	ck_assert_uint_eq(lp_flows_stats(fs)->tcp, 11);
	assert_std_flow(only(fs), v ? AF_INET6 : AF_INET);
	lp_flows_free(fs);
}
END_TEST

START_TEST(microsecond_capture)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	const char *path = tpath("us.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, true);
	struct lp_flows *fs;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &conv4, p, n), 0);
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, NULL);
	assert_std_flow(only(fs), AF_INET);
	lp_flows_free(fs);
}
END_TEST

START_TEST(ipv4_options_and_ipv6_extensions)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_conv c4 = conv4, c6 = conv6;
	struct lp_flows *fs;

	c4.ip4_optlen = 40;
	fs = load_conv(PG_VLAN, &c4, p, n, NULL);
	assert_std_flow(only(fs), AF_INET);
	lp_flows_free(fs);
	c6.ip6_ext = PG_X_HBH | PG_X_DST | PG_X_RT | PG_X_AH;
	fs = load_conv(PG_QINQ, &c6, p, n, NULL);
	assert_std_flow(only(fs), AF_INET6);
	lp_flows_free(fs);
}
END_TEST

/* Fragments and non-TCP packets among the flow: counted, not in the flow. */
START_TEST(fragments_and_other_counted)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	const char *path = tpath("mix.pcap");
	struct pg_pkt frag = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "fragment", .frag = 0x2000 };
	struct pg_pkt frag2 = { .dir = PG_S, .proto = 6, .data = "tail of it", .frag = 0x0003 };
	struct pg_pkt udp = { .dir = PG_C, .proto = 17, .data = "\x9c\x40\x00\x35\x00\x0c\x00\x00" "abcd", .len = 12 };
	struct pg_pkt icmp = { .dir = PG_S, .proto = 1, .data = "\x08\x00\xf7\xff\x00\x00\x00\x00", .len = 8 };
	struct pg_pkt arp = { .dir = PG_C, .ethertype = 0x0806, .len = 28 };
	struct pg_file *f = pg_open(path, PG_ETH, false);
	struct warns w = { 0 };
	struct lp_flows *fs;
	const struct lp_capture_stats *st;
	char arpbuf[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	struct pg_conv c6 = conv6;

	arp.data = arpbuf;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put(f, &conv4, &udp), 0);               /* 1 */
	ck_assert_int_eq(pg_put_all(f, &conv4, p, 4), 0);           /* 2-5 */
	ck_assert_int_eq(pg_put(f, &conv4, &frag), 0);              /* 6 */
	ck_assert_int_eq(pg_put(f, &conv4, &arp), 0);               /* 7 */
	ck_assert_int_eq(pg_put_all(f, &conv4, p + 4, n - 4), 0);   /* 8-14 */
	ck_assert_int_eq(pg_put(f, &conv4, &icmp), 0);              /* 15 */
	ck_assert_int_eq(pg_put(f, &c6, &frag2), 0);                /* 16 */
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, &w);
	st = lp_flows_stats(fs);
	ck_assert_uint_eq(st->packets, 16);
	ck_assert_uint_eq(st->tcp, 11);
	ck_assert_uint_eq(st->other, 3);
	ck_assert_uint_eq(st->fragments, 2);
	ck_assert_uint_eq(st->malformed, 0);
	ck_assert_int_eq(w.n, 2);
	ck_assert_uint_eq(w.packet[0], 6);
	ck_assert_uint_eq(w.packet[1], 16);
	ck_assert_ptr_nonnull(strstr(w.what[0], "fragment"));
	ck_assert_ptr_nonnull(strstr(w.what[1], "fragment"));
	{
		const struct lp_flow *fl = only(fs);

		assert_stream(&fl->dir[LP_C2S], REQ, QL);
		assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
		ck_assert_uint_eq(fl->first_packet, 2);
		ck_assert_uint_eq(fl->packets, 11);
	}
	lp_flows_free(fs);
}
END_TEST

/* The request sent twice: counted once in the stream and the schedule. */
START_TEST(retransmission_counted_once)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;

	memmove(p + 5, p + 4, (n - 4) * sizeof(*p));
	p[4] = p[3];
	n++;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 1);
	ck_assert_uint_eq(fl->dir[LP_C2S].data_packets, 2);
	ck_assert_uint_eq(fl->dir[LP_C2S].wire_bytes, 2 * QL);
	ck_assert_uint_eq(fl->dir[LP_C2S].conflicts, 0);
	ck_assert_uint_eq(fl->dir[LP_S2C].retransmissions, 0);
	ck_assert_uint_eq(fl->nsegs, 7);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 1);
	ck_assert_uint_eq(fl->notes, 0);
	lp_flows_free(fs);
}
END_TEST

/* A span port that saw every packet twice. */
START_TEST(every_packet_twice)
{
	struct pg_pkt p[MAXPKT], q[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;

	for (size_t i = 0; i < n; i++)
		q[2 * i] = q[2 * i + 1] = p[i];
	fs = load_conv(PG_SLL, &conv4, q, 2 * n, NULL);
	fl = only(fs);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->notes, 0);
	ck_assert_uint_eq(fl->nsegs, 7);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 1);
	ck_assert_uint_eq(fl->ndata[LP_S2C], 2);
	ck_assert_uint_eq(fl->packets, 22);
	ck_assert_uint_eq(fl->dir[LP_C2S].packets, 12);
	/* SYN, request, FIN; SYN-ACK, two answers, FIN. */
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 3);
	ck_assert_uint_eq(fl->dir[LP_S2C].retransmissions, 4);
	ck_assert_uint_eq(fl->dir[LP_C2S].conflicts + fl->dir[LP_S2C].conflicts, 0);
	/* The first copy of each packet is the one scheduled. */
	assert_seg(&fl->segs[2], LP_C2S, 0, QL, 0, 1, PG_PA, 7);
	assert_seg(&fl->segs[4], LP_S2C, R1, R2, QL, 2, PG_PA, 13);
	assert_seg(&fl->segs[6], LP_S2C, R1 + R2, 0, QL + 1, 0, PG_FA, 19);
	lp_flows_free(fs);
}
END_TEST

/* Client data in 10-byte packets; the third repeats bytes 5..24. */
START_TEST(overlapping_retransmission_new_bytes)
{
	static const char body[] = "0123456789abcdefghijKLMNOPQRST";
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = body, .len = 10 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 11, .ack = 1, .data = body + 10, .len = 10 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 6, .ack = 1, .data = body + 5, .len = 20 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 26, .ack = 1, .data = body + 25, .len = 5 },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 6, NULL);
	const struct lp_flow *fl = only(fs);

	assert_stream(&fl->dir[LP_C2S], body, 30);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].conflicts, 0);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 4);
	ck_assert_uint_eq(fl->nsegs, 6);
	assert_seg(&fl->segs[2], LP_C2S, 0, 10, 0, 1, PG_PA, 3);
	assert_seg(&fl->segs[3], LP_C2S, 10, 10, 0, 2, PG_PA, 4);
	assert_seg(&fl->segs[4], LP_C2S, 20, 5, 0, 3, PG_PA, 5);
	assert_seg(&fl->segs[5], LP_C2S, 25, 5, 0, 4, PG_PA, 6);
	ck_assert_uint_eq(fl->notes & LP_NOTE_REORDERED, 0);
	lp_flows_free(fs);
}
END_TEST

/* A retransmission that overlaps with different bytes: the first copy is
 * kept, the difference counted and noted. */
START_TEST(conflicting_retransmission)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "AAAAAAAAAA" },
		{ .dir = PG_C, .flags = PG_PA, .seq = 6, .ack = 1, .data = "BBBBBCCCCC" },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "DDDDD" },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "AAAAA" },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 6, NULL);
	const struct lp_flow *fl = only(fs);
	char names[128];

	assert_stream(&fl->dir[LP_C2S], "AAAAAAAAAACCCCC", 15);
	ck_assert_uint_eq(fl->dir[LP_C2S].conflicts, 2);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 2);
	ck_assert(fl->notes & LP_NOTE_CONFLICT);
	ck_assert_str_eq(lp_flow_notes_str(fl->notes, names, sizeof(names)), "retransmission-differs");
	ck_assert_uint_eq(fl->ndata[LP_C2S], 2);
	assert_seg(&fl->segs[3], LP_C2S, 10, 5, 0, 2, PG_PA, 4);
	lp_flows_free(fs);
}
END_TEST

/* Data captured out of order: the stream is exact, labels follow the
 * stream, each position keeps its capture time. */
START_TEST(reordered_data)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "first....." },
		{ .dir = PG_C, .flags = PG_PA, .seq = 21, .ack = 1, .data = "third....." },
		{ .dir = PG_C, .flags = PG_PA, .seq = 11, .ack = 1, .data = "second...." },
		{ .dir = PG_C, .flags = PG_FA, .seq = 31, .ack = 1 },
		{ .dir = PG_S, .flags = PG_FA, .seq = 1, .ack = 32 },
	};
	struct lp_flows *fs = load_conv(PG_RAW, &conv4, p, 8, NULL);
	const struct lp_flow *fl = only(fs);

	assert_stream(&fl->dir[LP_C2S], "first.....second....third.....", 30);
	ck_assert(fl->notes & LP_NOTE_REORDERED);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	ck_assert_uint_eq(fl->nsegs, 7);
	assert_seg(&fl->segs[2], LP_C2S, 0, 10, 0, 1, PG_PA, 4);
	assert_seg(&fl->segs[3], LP_C2S, 10, 10, 0, 2, PG_PA, 6);
	assert_seg(&fl->segs[4], LP_C2S, 20, 10, 0, 3, PG_PA, 5);
	assert_seg(&fl->segs[5], LP_C2S, 30, 0, 0, 0, PG_FA, 7);
	assert_seg(&fl->segs[6], LP_S2C, 0, 0, 31, 0, PG_FA, 8);
	ck_assert_uint_eq(fl->segs[3].ts_ns, T0 + 5 * MS);
	ck_assert_uint_eq(fl->segs[4].ts_ns, T0 + 6 * MS);
	lp_flows_free(fs);
}
END_TEST

/* A FIN captured before the last data: the FIN still comes last. */
START_TEST(fin_before_last_data)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "0123456789" },
		{ .dir = PG_C, .flags = PG_FA, .seq = 21, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 11, .ack = 1, .data = "abcdefghij" },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 5, NULL);
	const struct lp_flow *fl = only(fs);

	assert_stream(&fl->dir[LP_C2S], "0123456789abcdefghij", 20);
	ck_assert(fl->dir[LP_C2S].fin);
	ck_assert(fl->notes & LP_NOTE_REORDERED);
	ck_assert_uint_eq(fl->nsegs, 5);
	assert_seg(&fl->segs[3], LP_C2S, 10, 10, 0, 2, PG_PA, 5);
	assert_seg(&fl->segs[4], LP_C2S, 20, 0, 0, 0, PG_FA, 4);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	lp_flows_free(fs);
}
END_TEST

/* The SYN-ACK captured before the SYN. */
START_TEST(reordered_handshake)
{
	struct pg_pkt p[MAXPKT], t;
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;

	t = p[0];
	p[0] = p[1];
	p[1] = t;
	fs = load_conv(PG_ETH, &conv6, p, n, NULL);
	fl = only(fs);
	assert_endpoint(&fl->client, AF_INET6, "2001:db8::1", 40000);
	assert_endpoint(&fl->server, AF_INET6, "2001:db8::2", 80);
	ck_assert_uint_eq(fl->notes, LP_NOTE_REORDERED_HS);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_C2S].isn, 1000);
	ck_assert_uint_eq(fl->dir[LP_S2C].isn, 5000);
	ck_assert(fl->dir[LP_C2S].opts.seen && fl->dir[LP_S2C].opts.seen);
	ck_assert_uint_eq(fl->dir[LP_C2S].opts.mss, 1460);
	ck_assert_uint_eq(fl->dir[LP_S2C].opts.mss, 1400);
	ck_assert_uint_eq(fl->nsegs, 7);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 1);
	ck_assert_uint_eq(fl->ndata[LP_S2C], 2);
	lp_flows_free(fs);
}
END_TEST

/* No SYN, but a SYN-ACK: its receiver is the client. */
START_TEST(missing_syn)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p + 1, n - 1, NULL);
	const struct lp_flow *fl = only(fs);

	assert_endpoint(&fl->client, AF_INET, "198.18.0.1", 40000);
	ck_assert_uint_eq(fl->notes, LP_NOTE_NO_SYN);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_C2S].isn, 1000);
	ck_assert_uint_eq(fl->dir[LP_S2C].isn, 5000);
	ck_assert(!fl->dir[LP_C2S].opts.seen);
	ck_assert(fl->dir[LP_S2C].opts.seen);
	ck_assert(!fl->dir[LP_C2S].syn);
	ck_assert_uint_eq(fl->nsegs, 6);
	assert_seg(&fl->segs[0], LP_S2C, 0, 0, 0, 0, PG_SA, 1);
	assert_seg(&fl->segs[1], LP_C2S, 0, QL, 0, 1, PG_PA, 3);
	lp_flows_free(fs);
}
END_TEST

/* No SYN-ACK, but a SYN: the server's origin comes from the client's ACKs. */
START_TEST(missing_synack)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;

	memmove(p + 1, p + 2, (n - 2) * sizeof(*p));
	n--;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	assert_endpoint(&fl->client, AF_INET, "198.18.0.1", 40000);
	ck_assert_uint_eq(fl->notes, LP_NOTE_NO_SYNACK);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_S2C].isn, 5000);
	ck_assert(!fl->dir[LP_S2C].isn_from_syn);
	ck_assert(!fl->dir[LP_S2C].opts.seen);
	lp_flows_free(fs);
}
END_TEST

/* A refusal: the client's SYN (sent twice), the server's <RST,ACK>, nothing
 * else. The same with the client's ACK of a SYN-ACK the capture missed is a
 * connection that was accepted, then reset: not refused. */
START_TEST(refused_or_synack_missed)
{
	struct pg_pkt p[4];
	struct lp_flows *fs;

	p[0] = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN, .opts = C_SYNOPTS, .optlen = 20, .window = 64240 };
	p[1] = p[0];
	p[2] = (struct pg_pkt){ .dir = PG_S, .flags = PG_RST | PG_ACK, .ack = 1 };
	fs = load_conv(PG_ETH, &conv4, p, 3, NULL);
	ck_assert(lp_flow_refused(only(fs)));
	lp_flows_free(fs);
	p[1] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 };
	p[2] = (struct pg_pkt){ .dir = PG_S, .flags = PG_RST, .seq = 1 };
	fs = load_conv(PG_ETH, &conv4, p, 3, NULL);
	ck_assert(!lp_flow_refused(only(fs)));
	lp_flows_free(fs);
}
END_TEST

/* No handshake at all: the higher port is the client, and it says so. */
START_TEST(midstream_higher_port_is_client)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;
	unsigned want = LP_NOTE_NO_SYN | LP_NOTE_NO_SYNACK | LP_NOTE_MIDSTREAM | LP_NOTE_CLIENT_BY_PORT;

	/* First packet from the client. */
	fs = load_conv(PG_ETH, &conv4, p + 3, n - 3, NULL);
	fl = only(fs);
	assert_endpoint(&fl->client, AF_INET, "198.18.0.1", 40000);
	ck_assert_uint_eq(fl->notes, want);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_C2S].isn, 1000);
	ck_assert_uint_eq(fl->dir[LP_S2C].isn, 5000);
	ck_assert(!fl->dir[LP_C2S].isn_from_syn && !fl->dir[LP_S2C].isn_from_syn);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 1);
	ck_assert_uint_eq(fl->ndata[LP_S2C], 2);
	lp_flows_free(fs);
	/* First packet from the server. */
	fs = load_conv(PG_ETH, &conv4, p + 4, n - 4, NULL);
	fl = only(fs);
	assert_endpoint(&fl->client, AF_INET, "198.18.0.1", 40000);
	ck_assert_uint_eq(fl->notes, want);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_C2S].len, 0);
	lp_flows_free(fs);
}
END_TEST

/* Mid-stream with the real client on the lower port: the guess follows the
 * port, whatever the direction of the first packet. */
START_TEST(midstream_guess_follows_port)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_conv c = conv4;
	struct lp_flows *fs;
	const struct lp_flow *fl;

	c.cport = 1000;
	c.sport = 5555;
	fs = load_conv(PG_ETH, &c, p + 3, n - 3, NULL);
	fl = only(fs);
	ck_assert_uint_eq(fl->client.port, 5555);
	ck_assert_uint_eq(fl->server.port, 1000);
	ck_assert(fl->notes & LP_NOTE_CLIENT_BY_PORT);
	assert_stream(&fl->dir[LP_C2S], RESP, R1 + R2);
	assert_stream(&fl->dir[LP_S2C], REQ, QL);
	lp_flows_free(fs);
}
END_TEST

static void fill_pattern(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

/* Both ISNs just below 2^32: several KB each way across the wrap. */
START_TEST(sequence_wraparound)
{
	static uint8_t cdata[8000], sdata[10000];
	struct pg_conv c = conv4;
	struct pg_pkt p[MAXPKT];
	size_t n = 0;
	struct lp_flows *fs;
	const struct lp_flow *fl;
	uint32_t k = 0;

	c.cisn = 0xffffff00u;
	c.sisn = 0xfffff000u;
	fill_pattern(cdata, sizeof(cdata), 1);
	fill_pattern(sdata, sizeof(sdata), 2);
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_SA, .ack = 1 };
	for (uint32_t o = 0; o < sizeof(cdata); o += 1000)
		p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_PA, .seq = 1 + o, .ack = 1,
					  .data = (const char *)cdata + o, .len = 1000 };
	for (uint32_t o = 0; o < sizeof(sdata); o += 1460) {
		uint32_t l = sizeof(sdata) - o < 1460 ? (uint32_t)sizeof(sdata) - o : 1460;

		p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_PA, .seq = 1 + o, .ack = 1 + 8000,
					  .data = (const char *)sdata + o, .len = l };
	}
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_FA, .seq = 8001, .ack = 10001 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_FA, .seq = 10001, .ack = 8002 };
	fs = load_conv(PG_ETH, &c, p, n, NULL);
	fl = only(fs);
	assert_stream(&fl->dir[LP_C2S], cdata, sizeof(cdata));
	assert_stream(&fl->dir[LP_S2C], sdata, sizeof(sdata));
	ck_assert_uint_eq(fl->dir[LP_C2S].isn, 0xffffff00u);
	ck_assert_uint_eq(fl->dir[LP_S2C].isn, 0xfffff000u);
	ck_assert_uint_eq(fl->notes, 0);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 8);
	ck_assert_uint_eq(fl->ndata[LP_S2C], 7);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes + fl->dir[LP_S2C].nholes, 0);
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];

		if (s->dir == LP_C2S && s->len) {
			ck_assert_uint_eq(s->offset, 1000u * k);
			ck_assert_uint_eq(s->label, ++k);
			ck_assert_uint_eq(s->ack, 0);
		} else if (s->dir == LP_S2C && s->len) {
			ck_assert_uint_eq(s->offset, 1460u * (s->label - 1));
			ck_assert_uint_eq(s->ack, 8000);
		}
	}
	assert_seg(&fl->segs[fl->nsegs - 2], LP_C2S, 8000, 0, 10000, 0, PG_FA, (uint32_t)n - 1);
	assert_seg(&fl->segs[fl->nsegs - 1], LP_S2C, 10000, 0, 8001, 0, PG_FA, (uint32_t)n);
	lp_flows_free(fs);
}
END_TEST

/* A SYN with data (TCP Fast Open): the data starts the client's stream. */
START_TEST(tfo_data_in_syn)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;
	char names[128];

	p[0].data = REQ;
	p[1].ack = 1 + QL;
	p[2].ack = 1;
	p[2].seq = 1 + QL;
	memmove(p + 3, p + 4, (n - 4) * sizeof(*p));
	n--;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->notes, LP_NOTE_TFO);
	ck_assert_str_eq(lp_flow_notes_str(fl->notes, names, sizeof(names)), "tfo");
	ck_assert_uint_eq(fl->dir[LP_C2S].isn, 1000);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 0);
	ck_assert(fl->dir[LP_C2S].opts.seen);
	ck_assert_uint_eq(fl->nsegs, 7);
	assert_seg(&fl->segs[0], LP_C2S, 0, 0, 0, 0, PG_SYN, 1);
	assert_seg(&fl->segs[1], LP_C2S, 0, QL, 0, 1, 0, 1);
	assert_seg(&fl->segs[2], LP_S2C, 0, 0, QL, 0, PG_SA, 2);
	lp_flows_free(fs);
}
END_TEST

/* The TFO SYN sent again with its data: one retransmission, not two. */
START_TEST(tfo_syn_retransmitted)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN, .data = "early" },
		{ .dir = PG_C, .flags = PG_SYN, .data = "early" },
		{ .dir = PG_S, .flags = PG_SA, .ack = 6 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 6, .ack = 1, .data = " data" },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 4, NULL);
	const struct lp_flow *fl = only(fs);

	assert_stream(&fl->dir[LP_C2S], "early data", 10);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 1);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 2);
	lp_flows_free(fs);
}
END_TEST

/* Payload cut by the snap length: holes at the right place, zero-filled. */
START_TEST(snaplen_holes)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;
	enum lp_dir d;
	struct lp_hole h;
	uint8_t want[R1 + R2];

	p[5].cut = 10;     /* RESP1 loses its last 10 bytes */
	fs = load_conv(PG_SLL2, &conv6, p, n, NULL);
	fl = only(fs);
	ck_assert(fl->notes & LP_NOTE_TRUNCATED);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_S2C].nholes, 1);
	ck_assert_uint_eq(fl->dir[LP_S2C].holes[0].offset, R1 - 10);
	ck_assert_uint_eq(fl->dir[LP_S2C].holes[0].len, 10);
	ck_assert_uint_eq(fl->dir[LP_S2C].hole_bytes, 10);
	ck_assert_uint_eq(fl->dir[LP_S2C].wire_bytes, R1 + R2);
	memcpy(want, RESP, sizeof(want));
	memset(want + R1 - 10, 0, 10);
	assert_stream(&fl->dir[LP_S2C], want, sizeof(want));
	ck_assert(lp_flow_first_hole(fl, &d, &h));
	ck_assert_int_eq(d, LP_S2C);
	ck_assert_uint_eq(h.offset, R1 - 10);
	ck_assert_uint_eq(h.len, 10);
	/* The schedule still carries the segment at its full length. */
	assert_seg(&fl->segs[3], LP_S2C, 0, R1, QL, 1, PG_PA, 6);
	lp_flows_free(fs);

	/* Now the request loses everything past its first 5 bytes too: the
	 * client's hole comes first. */
	p[3].cut = QL - 5;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert(lp_flow_first_hole(fl, &d, &h));
	ck_assert_int_eq(d, LP_C2S);
	ck_assert_uint_eq(h.offset, 5);
	ck_assert_uint_eq(h.len, QL - 5);
	ck_assert_uint_eq(fl->dir[LP_C2S].len, QL);
	ck_assert(stream_mem_eq(&fl->dir[LP_C2S], 0, REQ, 5));
	ck_assert_uint_eq(fl->dir[LP_S2C].nholes, 1);
	lp_flows_free(fs);
}
END_TEST

/* The snap length cut inside the TCP options: the whole payload is a hole. */
START_TEST(snaplen_in_tcp_header)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;

	p[6].opts = "\x01\x01\x08\x0a\x00\x00\x00\x09\x00\x00\x00\x08";
	p[6].optlen = 12;
	p[6].snap = 14 + 20 + 24;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert(fl->notes & LP_NOTE_TRUNCATED);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_S2C].nholes, 1);
	ck_assert_uint_eq(fl->dir[LP_S2C].holes[0].offset, R1);
	ck_assert_uint_eq(fl->dir[LP_S2C].holes[0].len, R2);
	lp_flows_free(fs);
}
END_TEST

/* Data the capture never saw (but the peer acknowledged): a hole. */
START_TEST(lost_in_capture)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;
	enum lp_dir d;
	struct lp_hole h;
	char names[128];

	memmove(p + 5, p + 6, (n - 6) * sizeof(*p));   /* RESP1 lost */
	n--;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert_uint_eq(fl->notes & LP_NOTE_TRUNCATED, 0);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
	ck_assert(lp_flow_first_hole(fl, &d, &h));
	ck_assert_int_eq(d, LP_S2C);
	ck_assert_uint_eq(h.offset, 0);
	ck_assert_uint_eq(h.len, R1);
	ck_assert(stream_mem_eq(&fl->dir[LP_S2C], R1, RESP2, R2));
	ck_assert_uint_eq(fl->ndata[LP_S2C], 1);
	assert_seg(&fl->segs[3], LP_S2C, R1, R2, QL, 1, PG_PA, 6);
	ck_assert_str_eq(lp_flow_notes_str(fl->notes, names, sizeof(names)), "");
	lp_flows_free(fs);

	/* The last segment lost: the FIN says how long the stream was. */
	n = std_pkts(p);
	memmove(p + 6, p + 7, (n - 7) * sizeof(*p));
	n--;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
	ck_assert(lp_flow_first_hole(fl, &d, &h));
	ck_assert_int_eq(d, LP_S2C);
	ck_assert_uint_eq(h.offset, R1);
	ck_assert_uint_eq(h.len, R2);
	lp_flows_free(fs);
}
END_TEST

/* Malformed packets are skipped with a warning naming them; the data one
 * leaves a hole. */
START_TEST(malformed_packets_warned)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_pkt extra[3];
	const char *path = tpath("bad.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, false);
	struct warns w = { 0 };
	struct lp_flows *fs;
	const struct lp_flow *fl;
	enum lp_dir d;
	struct lp_hole h;

	ck_assert_ptr_nonnull(f);
	p[6].ihl = 4;                                  /* RESP2: IHL below 5 */
	extra[0] = p[7];
	extra[0].doff = 3;                             /* data offset below 5 */
	extra[1] = p[7];
	extra[1].data = "xy";
	extra[1].doff = 15;                            /* past the segment */
	extra[2] = p[7];
	extra[2].snap = 14 + 12;                       /* IPv4 header cut */
	ck_assert_int_eq(pg_put_all(f, &conv4, p, 7), 0);        /* 1-7 */
	ck_assert_int_eq(pg_put_all(f, &conv4, extra, 3), 0);    /* 8-10 */
	ck_assert_int_eq(pg_put_all(f, &conv4, p + 7, n - 7), 0);/* 11-14 */
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, &w);
	ck_assert_int_eq(w.n, 4);
	ck_assert_uint_eq(w.packet[0], 7);
	ck_assert_uint_eq(w.packet[1], 8);
	ck_assert_uint_eq(w.packet[2], 9);
	ck_assert_uint_eq(w.packet[3], 10);
	for (int i = 0; i < 4; i++)
		ck_assert_str_ne(w.what[i], "");
	ck_assert_uint_eq(lp_flows_stats(fs)->malformed, 4);
	ck_assert_uint_eq(lp_flows_stats(fs)->tcp, 10);
	fl = only(fs);
	ck_assert_uint_eq(fl->packets, 10);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
	ck_assert(lp_flow_first_hole(fl, &d, &h));
	ck_assert_int_eq(d, LP_S2C);
	ck_assert_uint_eq(h.offset, R1);
	ck_assert_uint_eq(h.len, R2);
	lp_flows_free(fs);
}
END_TEST

/* A record that holds no bytes at all (caplen 0) is a malformed packet, not
 * the end of the file. */
START_TEST(empty_record_is_malformed)
{
	static const uint8_t nothing[1];
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	const char *path = tpath("empty-record.pcap");
	struct pg_file *f = pg_open(path, PG_SLL, false);
	struct warns w = { 0 };
	struct lp_flows *fs;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_frame(f, nothing, 0, 60), 0);
	ck_assert_int_eq(pg_put_all(f, &conv4, p, n), 0);
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, &w);
	ck_assert_int_eq(w.n, 1);
	ck_assert_uint_eq(w.packet[0], 1);
	ck_assert_uint_eq(lp_flows_stats(fs)->malformed, 1);
	ck_assert_uint_eq(lp_flows_stats(fs)->packets, n + 1);
	assert_stream(&only(fs)->dir[LP_S2C], RESP, R1 + R2);
	lp_flows_free(fs);
}
END_TEST

/* Files that are not captures, or not whole ones. */
START_TEST(unreadable_files)
{
	static const char *const bodies[] = {
		"",
		"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
		"\xd4\xc3\xb2\xa1\x02\x00",
	};
	struct lp_flows *fs = (struct lp_flows *)&fs;
	char err[512];

	for (size_t i = 0; i < 3; i++) {
		FILE *fp = fopen(tpath("bad.pcap"), "wb");

		ck_assert_ptr_nonnull(fp);
		fwrite(bodies[i], 1, strlen(bodies[i]), fp);
		fclose(fp);
		err[0] = '\0';
		fs = (struct lp_flows *)&fs;
		ck_assert_int_lt(lp_flows_load(tpath("bad.pcap"), NULL, NULL, &fs, err, sizeof(err)), 0);
		ck_assert_ptr_null(fs);
		ck_assert_msg(err[0], "no message for body %zu", i);
	}
	err[0] = '\0';
	ck_assert_int_eq(lp_flows_load(tpath("absent.pcap"), NULL, NULL, &fs, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(fs);
	ck_assert(err[0]);
	err[0] = '\0';
	fs = (struct lp_flows *)&fs;
	ck_assert_int_lt(lp_flows_load(tmpdir, NULL, NULL, &fs, err, sizeof(err)), 0);
	ck_assert_ptr_null(fs);
	ck_assert(err[0]);
}
END_TEST

/* A record cut short at the end, or one claiming 2 GB: the flow is built
 * from the packets before it, and the damage names the packet. */
START_TEST(corrupt_record)
{
	struct pg_pkt p[MAXPKT];
	const char *path = tpath("cut.pcap");
	const struct lp_capture_stats *st;
	struct lp_flows *fs;
	static uint8_t frame[200];
	uint32_t caplen, huge = 0x7fffffffu;
	char err[512] = "";
	FILE *fp;
	long size;

	std_pkts(p);
	ck_assert_int_eq(pg_write(path, PG_ETH, &conv4, p, 3), 0);
	fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	ck_assert_int_eq(truncate(path, size - 5), 0);
	ck_assert_int_eq(lp_flows_load(path, NULL, NULL, &fs, err, sizeof(err)), 0);
	st = lp_flows_stats(fs);
	ck_assert_uint_eq(st->packets, 2);
	ck_assert_uint_eq(st->damaged_at, 3);
	ck_assert_msg(strstr(st->damage, "record cut short") != NULL, "damage: %s", st->damage);
	ck_assert_uint_eq(lp_flows_count(fs), 1);
	ck_assert_uint_eq(lp_flows_get(fs, 1)->packets, 2);
	lp_flows_free(fs);

	/* The second record claims 2 GB. */
	ck_assert_uint_gt(pg_build_frame(PG_ETH, 30, &conv4, &p[0], frame, sizeof(frame), &caplen), 0);
	ck_assert_int_eq(pg_write(path, PG_ETH, &conv4, p, 3), 0);
	fp = fopen(path, "r+b");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fseek(fp, 24 + 16 + (long)caplen + 8, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(&huge, sizeof(huge), 1, fp), 1);
	fclose(fp);
	ck_assert_int_eq(lp_flows_load(path, NULL, NULL, &fs, err, sizeof(err)), 0);
	st = lp_flows_stats(fs);
	ck_assert_uint_eq(st->packets, 1);
	ck_assert_uint_eq(st->damaged_at, 2);
	ck_assert_msg(strstr(st->damage, "impossible captured length 2147483647") != NULL, "damage: %s", st->damage);
	lp_flows_free(fs);
}
END_TEST

/* A capture header and nothing else: no flow, nothing to select. */
START_TEST(no_packets)
{
	struct lp_flows *fs;
	const struct lp_flow *fl = NULL;

	ck_assert_int_eq(pg_write(tpath("none.pcap"), PG_ETH, &conv4, NULL, 0), 0);
	fs = load(tpath("none.pcap"), NULL);
	ck_assert_uint_eq(lp_flows_count(fs), 0);
	ck_assert_int_eq(lp_flows_select(fs, NULL, &fl), -ENODATA);
	ck_assert_int_eq(lp_flows_select(fs, "1", &fl), -ENOENT);
	ck_assert_ptr_null(lp_flows_get(fs, 1));
	ck_assert_ptr_null(lp_flows_get(fs, 0));
	ck_assert_uint_eq(lp_flows_stats(fs)->packets, 0);
	lp_flows_free(fs);
	lp_flows_free(NULL);
}
END_TEST

/* Three flows interleaved: numbered in order of their first packet. */
START_TEST(flows_numbered_by_first_packet)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_conv a = conv4, b = conv6, c = conv4;
	const char *path = tpath("three.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, false);
	struct lp_flows *fs;

	a.cport = 40001;
	c.cport = 40002;
	c.saddr = "198.18.0.3";
	ck_assert_ptr_nonnull(f);
	/* b's first packet, then a's, then c's; the rest round-robin. */
	ck_assert_int_eq(pg_put(f, &b, &p[0]), 0);
	ck_assert_int_eq(pg_put(f, &a, &p[0]), 0);
	ck_assert_int_eq(pg_put(f, &c, &p[0]), 0);
	for (size_t i = 1; i < n; i++) {
		ck_assert_int_eq(pg_put(f, &c, &p[i]), 0);
		ck_assert_int_eq(pg_put(f, &a, &p[i]), 0);
		ck_assert_int_eq(pg_put(f, &b, &p[i]), 0);
	}
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, NULL);
	ck_assert_uint_eq(lp_flows_count(fs), 3);
	{
		const struct lp_flow *f1 = lp_flows_get(fs, 1), *f2 = lp_flows_get(fs, 2), *f3 = lp_flows_get(fs, 3);

		ck_assert_uint_eq(f1->id, 1);
		ck_assert_uint_eq(f2->id, 2);
		ck_assert_uint_eq(f3->id, 3);
		ck_assert_uint_eq(f1->first_packet, 1);
		ck_assert_uint_eq(f2->first_packet, 2);
		ck_assert_uint_eq(f3->first_packet, 3);
		assert_endpoint(&f1->client, AF_INET6, "2001:db8::1", 40000);
		assert_endpoint(&f2->client, AF_INET, "198.18.0.1", 40001);
		assert_endpoint(&f3->server, AF_INET, "198.18.0.3", 80);
		for (unsigned i = 1; i <= 3; i++) {
			const struct lp_flow *fl = lp_flows_get(fs, i);

			assert_stream(&fl->dir[LP_C2S], REQ, QL);
			assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
			ck_assert_uint_eq(fl->packets, 11);
			ck_assert_uint_eq(fl->nsegs, 7);
		}
		ck_assert_ptr_null(lp_flows_get(fs, 4));
	}
	lp_flows_free(fs);
}
END_TEST

/* Many flows (past any initial table size), each with its own bytes. */
START_TEST(many_flows)
{
	const char *path = tpath("many.pcap");
	struct pg_file *f = pg_open(path, PG_RAW, false);
	struct lp_flows *fs;
	char data[300][24];

	ck_assert_ptr_nonnull(f);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 300; i++) {
			struct pg_conv c = conv4;
			struct pg_pkt p[] = {
				{ .dir = PG_C, .flags = PG_SYN },
				{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
				{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = data[i] },
			};

			c.cport = (uint16_t)(10000 + i);
			c.cisn = (uint32_t)i * 7919u;
			snprintf(data[i], sizeof(data[i]), "flow %03d", i);
			ck_assert_int_eq(pg_put(f, &c, &p[round]), 0);
		}
	}
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, NULL);
	ck_assert_uint_eq(lp_flows_count(fs), 300);
	for (unsigned i = 0; i < 300; i++) {
		const struct lp_flow *fl = lp_flows_get(fs, i + 1);

		ck_assert_uint_eq(fl->client.port, 10000 + i);
		ck_assert_uint_eq(fl->packets, 3);
		ck_assert_uint_eq(fl->notes, 0);
		assert_stream(&fl->dir[LP_C2S], data[i], 8);
	}
	lp_flows_free(fs);
}
END_TEST

/* The same 4-tuple used again after a close: two flows. */
START_TEST(tuple_reuse_after_close)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_conv second = conv4;
	const char *path = tpath("reuse.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, false);
	struct pg_pkt rst[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "third" },
		{ .dir = PG_C, .flags = PG_RST, .seq = 6 },
	};
	struct pg_conv third = conv4;
	struct lp_flows *fs;

	second.cisn = 7777777;
	second.sisn = 123;
	third.cisn = 99;
	third.sisn = 3000000000u;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &conv4, p, n), 0);
	ck_assert_int_eq(pg_put_all(f, &second, rst, 4), 0);
	ck_assert_int_eq(pg_put_all(f, &third, p, n), 0);
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, NULL);
	ck_assert_uint_eq(lp_flows_count(fs), 3);
	assert_std_flow(lp_flows_get(fs, 1), AF_INET);
	{
		const struct lp_flow *f2 = lp_flows_get(fs, 2), *f3 = lp_flows_get(fs, 3);

		ck_assert_uint_eq(f2->first_packet, n + 1);
		ck_assert_uint_eq(f2->packets, 4);
		assert_stream(&f2->dir[LP_C2S], "third", 5);
		ck_assert(f2->dir[LP_C2S].rst);
		ck_assert_uint_eq(f2->dir[LP_C2S].isn, 7777777);
		ck_assert_uint_eq(f3->first_packet, n + 5);
		ck_assert_uint_eq(f3->packets, n);
		ck_assert_uint_eq(f3->dir[LP_S2C].isn, 3000000000u);
		assert_stream(&f3->dir[LP_C2S], REQ, QL);
		assert_stream(&f3->dir[LP_S2C], RESP, R1 + R2);
		ck_assert_uint_eq(f3->notes, 0);
		ck_assert_uint_eq(f3->dir[LP_C2S].retransmissions, 0);
	}
	lp_flows_free(fs);
}
END_TEST

/* The same 4-tuple reused although the first connection's close was not
 * captured (lost, or the connection was abandoned): a SYN with an ISN far
 * from everything the flow holds is a new connection, not a stray packet
 * of the old one, so its bytes must not be dropped as out of window. */
START_TEST(tuple_reuse_close_not_captured)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "first connection" },
	};
	struct pg_conv second = conv4;
	const char *path = tpath("reuse2.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, false);
	struct lp_flows *fs;

	second.cisn = 1000 + (1u << 30);
	second.sisn = 5000 + (1u << 30);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &conv4, p, 3), 0);
	p[2].data = "second connection";
	ck_assert_int_eq(pg_put_all(f, &second, p, 3), 0);
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, NULL);
	ck_assert_uint_eq(lp_flows_count(fs), 2);
	assert_stream(&lp_flows_get(fs, 1)->dir[LP_C2S], "first connection", 16);
	assert_stream(&lp_flows_get(fs, 2)->dir[LP_C2S], "second connection", 17);
	ck_assert_uint_eq(lp_flows_get(fs, 2)->first_packet, 4);
	lp_flows_free(fs);
}
END_TEST

/* 4-tuple reuse after a close, where the new connection's SYN-ACK was
 * captured before its SYN: the SYN-ACK belongs to the new flow (a SYN-ACK
 * with a fresh ISN after a close is no packet of the old connection). */
START_TEST(tuple_reuse_reordered_handshake)
{
	struct pg_pkt p[MAXPKT], q[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_conv second = conv4;
	const char *path = tpath("reuse3.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, false);
	struct lp_flows *fs;
	const struct lp_flow *f2;

	memcpy(q, p, n * sizeof(*p));
	q[0] = p[1];
	q[1] = p[0];
	second.cisn = 1000 + (1u << 30);
	second.sisn = 5000 + (1u << 30);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &conv4, p, n), 0);
	ck_assert_int_eq(pg_put_all(f, &second, q, n), 0);
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, NULL);
	ck_assert_uint_eq(lp_flows_count(fs), 2);
	assert_std_flow(lp_flows_get(fs, 1), AF_INET);
	f2 = lp_flows_get(fs, 2);
	ck_assert_uint_eq(f2->first_packet, n + 1);
	ck_assert_uint_eq(f2->packets, n);
	ck_assert_uint_eq(f2->notes, LP_NOTE_REORDERED_HS);
	ck_assert(f2->dir[LP_S2C].opts.seen);
	ck_assert_uint_eq(f2->dir[LP_S2C].opts.mss, 1400);
	assert_stream(&f2->dir[LP_C2S], REQ, QL);
	assert_stream(&f2->dir[LP_S2C], RESP, R1 + R2);
	lp_flows_free(fs);
}
END_TEST

/* 4-tuple reuse after a close, where the new connection's SYN was not
 * captured: its SYN-ACK still starts a second flow, with the client
 * inferred, rather than the whole connection being dropped. */
START_TEST(tuple_reuse_missing_syn)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_conv second = conv4;
	const char *path = tpath("reuse4.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, false);
	struct lp_flows *fs;
	const struct lp_flow *f2;

	second.cisn = 1000 + (1u << 30);
	second.sisn = 5000 + (1u << 30);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &conv4, p, n), 0);
	ck_assert_int_eq(pg_put_all(f, &second, p + 1, n - 1), 0);
	ck_assert_int_eq(pg_close(f), 0);
	fs = load(path, NULL);
	ck_assert_uint_eq(lp_flows_count(fs), 2);
	assert_std_flow(lp_flows_get(fs, 1), AF_INET);
	f2 = lp_flows_get(fs, 2);
	ck_assert_uint_eq(f2->first_packet, n + 1);
	ck_assert_uint_eq(f2->notes, LP_NOTE_NO_SYN);
	assert_endpoint(&f2->client, AF_INET, "198.18.0.1", 40000);
	assert_stream(&f2->dir[LP_C2S], REQ, QL);
	assert_stream(&f2->dir[LP_S2C], RESP, R1 + R2);
	lp_flows_free(fs);
}
END_TEST

/* A retransmitted SYN (same ISN) after an early RST is the same flow. */
START_TEST(syn_retransmit_after_rst_same_flow)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_RST | PG_ACK, .absolute = true, .seq = 0, .ack = 1001 },
		{ .dir = PG_C, .flags = PG_SYN },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 3, NULL);
	const struct lp_flow *fl = only(fs);

	ck_assert_uint_eq(fl->packets, 3);
	ck_assert(fl->dir[LP_S2C].rst);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 1);
	lp_flows_free(fs);
}
END_TEST

/* A live recording: the server still held an old connection of these ports
 * in TIME-WAIT and answered the SYN with an ACK of the old sequence space;
 * the client reset it and sent its SYN again. One flow, whose server stream
 * starts at the SYN-ACK. */
START_TEST(stale_ack_then_reset_then_syn_again)
{
	struct pg_pkt p[MAXPKT];
	size_t n = 0, k;
	struct lp_flows *fs;
	const struct lp_flow *fl;
	struct pg_pkt std[MAXPKT];
	size_t nstd = std_pkts(std);

	p[n++] = std[0];
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .absolute = true, .seq = 0x90000000u,
				  .ack = 0x1234u };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_RST, .absolute = true, .seq = 0x1234u };
	for (k = 0; k < nstd; k++)
		p[n++] = std[k];
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert(fl->dir[LP_C2S].opts.seen && fl->dir[LP_S2C].opts.seen);
	ck_assert_uint_eq(fl->dir[LP_C2S].len, QL);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_S2C].nholes, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	ck_assert(stream_mem_eq(&fl->dir[LP_S2C], 0, RESP1, R1));
	/* The aborted attempt is out of the schedule: no reset, and the
	 * client's FIN waits for the whole answer. */
	ck_assert(fl->notes & LP_NOTE_RESTARTED);
	ck_assert(!(fl->notes & (LP_NOTE_REORDERED | LP_NOTE_OUT_OF_WINDOW)));
	ck_assert(!fl->dir[LP_C2S].rst);
	for (size_t i = 0; i < fl->nsegs; i++) {
		ck_assert(!(fl->segs[i].flags & LP_TH_RST));
		if (fl->segs[i].dir == LP_C2S && (fl->segs[i].flags & LP_TH_FIN))
			ck_assert_uint_eq(fl->segs[i].ack, R1 + R2);
	}
	ck_assert_uint_eq(fl->packets, nstd + 1);
	lp_flows_free(fs);
}
END_TEST

START_TEST(stale_ack_below_isn)
{
	struct pg_pkt p[MAXPKT];
	size_t n = 0, nstd;
	struct pg_pkt std[MAXPKT];
	struct lp_flows *fs;
	const struct lp_flow *fl;

	nstd = std_pkts(std);
	p[n++] = std[0];
	/* The stale ACK acknowledges less than the new SYN's ISN (1000). */
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .absolute = true, .seq = 0x90000000u, .ack = 500 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_RST, .absolute = true, .seq = 500 };
	for (size_t k = 0; k < nstd; k++)
		p[n++] = std[k];
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	for (size_t i = 0; i < fl->nsegs; i++)
		ck_assert(!(fl->segs[i].flags & LP_TH_RST));
	ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_C2S].len, QL);
	lp_flows_free(fs);
}
END_TEST

/* Crafted captures: a FIN 2^31 away from the server's coming SYN-ACK closes
 * the handshake, the client (after a reset of its own, or not) sends its SYN
 * again, the SYN-ACK moves the server's origin. The far FIN must never
 * stretch a stream to 2 GB. */
START_TEST(reopened_far_fin_ignored)
{
	struct pg_pkt p[MAXPKT];
	struct pg_pkt std[MAXPKT];
	size_t nstd = std_pkts(std);

	for (int with_rst = 0; with_rst < 2; with_rst++) {
		struct lp_flows *fs;
		size_t n = 0;

		p[n++] = std[0];
		p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_FIN | PG_ACK, .absolute = true,
					  .seq = conv4.sisn + 0x80000000u, .ack = conv4.cisn + 7 };
		if (with_rst)
			p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_RST, .absolute = true,
						  .seq = conv4.cisn + 7 };
		for (size_t k = 0; k < nstd; k++)
			p[n++] = std[k];
		fs = load_conv(PG_ETH, &conv4, p, n, NULL);
		ck_assert_uint_le(lp_flows_count(fs), 2);
		for (unsigned id = 1; id <= lp_flows_count(fs); id++) {
			const struct lp_flow *fl = lp_flows_get(fs, id);

			ck_assert_uint_le(fl->dir[LP_S2C].len, R1 + R2);
			ck_assert_uint_le(fl->dir[LP_C2S].len, QL);
		}
		if (with_rst) {
			const struct lp_flow *fl = only(fs);

			ck_assert(fl->notes & LP_NOTE_RESTARTED);
			ck_assert_uint_eq(fl->dir[LP_S2C].len, R1 + R2);
			ck_assert_uint_eq(fl->dir[LP_S2C].nholes, 0);
		}
		lp_flows_free(fs);
	}
}
END_TEST

static struct lp_flows *three_flows(void)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_conv a = conv4, b = conv4, c = conv6;
	const char *path = tpath("sel.pcap");
	struct pg_file *f = pg_open(path, PG_ETH, false);

	b.cport = 40001;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &a, p, n), 0);
	ck_assert_int_eq(pg_put_all(f, &b, p, n), 0);
	ck_assert_int_eq(pg_put_all(f, &c, p, n), 0);
	ck_assert_int_eq(pg_close(f), 0);
	return load(path, NULL);
}

START_TEST(select_flows)
{
	struct lp_flows *fs = three_flows();
	const struct lp_flow *fl = NULL;
	static const struct {
		const char *sel;
		unsigned id;
	} good[] = {
		{ "1", 1 },
		{ "2", 2 },
		{ "3", 3 },
		{ "198.18.0.1:40000-198.18.0.2:80", 1 },
		{ "198.18.0.2:80-198.18.0.1:40000", 1 },
		{ "198.18.0.1:40001-198.18.0.2:80", 2 },
		{ "198.18.0.2:80-198.18.0.1:40001", 2 },
		{ "[2001:db8::1]:40000-[2001:db8::2]:80", 3 },
		{ "[2001:db8::2]:80-[2001:db8::1]:40000", 3 },
		{ "[2001:0db8:0::2]:80-[2001:db8::0:1]:40000", 3 },
	};

	ck_assert_uint_eq(lp_flows_count(fs), 3);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		fl = NULL;
		ck_assert_msg(lp_flows_select(fs, good[i].sel, &fl) == 0, "%s", good[i].sel);
		ck_assert_ptr_nonnull(fl);
		ck_assert_msg(fl->id == good[i].id, "%s: flow %u", good[i].sel, fl->id);
	}
	ck_assert_int_eq(lp_flows_select(fs, NULL, &fl), -ENOTUNIQ);
	lp_flows_free(fs);
}
END_TEST

START_TEST(select_errors)
{
	struct lp_flows *fs = three_flows();
	const struct lp_flow *fl = NULL;
	static const char *const bad[] = {
		"",
		"abc",
		"1x",
		"-1",
		"+1",
		" 1",
		"99999999999999999999999",
		"198.18.0.1:40000",
		"198.18.0.1-198.18.0.2:80",
		"198.18.0.1:40000-198.18.0.2",
		"198.18.0.1:40000-198.18.0.2:",
		"198.18.0.1:-198.18.0.2:80",
		"198.18.0.1:65536-198.18.0.2:80",
		"198.18.0.1:+80-198.18.0.2:80",
		"198.18.0.1:4x-198.18.0.2:80",
		"198.18.0.1:40000-198.18.0.2:80-",
		"198.18.0.1:40000 -198.18.0.2:80",
		"300.18.0.1:40000-198.18.0.2:80",
		"[2001:db8::1:40000-[2001:db8::2]:80",
		"[2001:db8::1]40000-[2001:db8::2]:80",
		"[2001:db8::1]:-[2001:db8::2]:80",
		"[nonsense]:1-[2001:db8::2]:80",
		"host.example:80-198.18.0.2:80",
	};
	static const char *const none[] = {
		"4",
		"0",
		"198.18.0.9:40000-198.18.0.2:80",
		"198.18.0.1:40002-198.18.0.2:80",
		"198.18.0.1:40000-198.18.0.1:80",
		"[2001:db8::1]:40000-[2001:db8::2]:81",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(lp_flows_select(fs, bad[i], &fl) == -EINVAL, "\"%s\" gave %d", bad[i],
			      lp_flows_select(fs, bad[i], &fl));
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ck_assert_msg(lp_flows_select(fs, none[i], &fl) == -ENOENT, "\"%s\" gave %d", none[i],
			      lp_flows_select(fs, none[i], &fl));
	lp_flows_free(fs);
}
END_TEST

START_TEST(select_lists)
{
	struct lp_flows *fs = three_flows();
	const struct lp_flow **v = NULL;
	size_t n = 99;
	static const struct {
		const char *sel;
		size_t n;
		unsigned ids[3];
	} good[] = {
		{ "all", 3, { 1, 2, 3 } },
		{ "1,3", 2, { 1, 3 } },
		{ "3,1", 2, { 1, 3 } },
		{ "2-3", 2, { 2, 3 } },
		{ "1-1", 1, { 1 } },
		{ "1,1,1-2", 2, { 1, 2 } },
		{ "1-3,2", 3, { 1, 2, 3 } },
		{ "2", 1, { 2 } },
		{ "198.18.0.1:40001-198.18.0.2:80", 1, { 2 } },
	};
	static const char *const bad[] = { "1,", ",1", "1,,2", "3-1", "1-", "-", "1-2-3", "1,x", "01234567890123456" };
	static const char *const none[] = { "0", "0-2", "1,4", "2-4" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(lp_flows_select_many(fs, good[i].sel, &v, &n) == 0, "%s", good[i].sel);
		ck_assert_msg(n == good[i].n, "%s: %zu flows", good[i].sel, n);
		for (size_t k = 0; k < n; k++)
			ck_assert_msg(v[k]->id == good[i].ids[k], "%s: [%zu] is flow %u", good[i].sel, k, v[k]->id);
		free(v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = lp_flows_select_many(fs, bad[i], &v, &n);

		ck_assert_msg(rc == -EINVAL, "\"%s\" gave %d", bad[i], rc);
		ck_assert_ptr_null(v);
	}
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		int rc = lp_flows_select_many(fs, none[i], &v, &n);

		ck_assert_msg(rc == -ENOENT, "\"%s\" gave %d", none[i], rc);
		ck_assert_ptr_null(v);
	}
	ck_assert_int_eq(lp_flows_select_many(fs, NULL, &v, &n), -ENOTUNIQ);
	ck_assert(lp_flows_sel_is_list("all"));
	ck_assert(lp_flows_sel_is_list("1,2"));
	ck_assert(lp_flows_sel_is_list("1-2"));
	ck_assert(!lp_flows_sel_is_list("1"));
	ck_assert(!lp_flows_sel_is_list(NULL));
	ck_assert(!lp_flows_sel_is_list("198.18.0.1:1-198.18.0.2:80"));
	lp_flows_free(fs);
}
END_TEST

/* The client acknowledges server bytes the capture shows only later: its
 * causal link cannot point past what the server had sent. */
START_TEST(ack_clamped_to_peer)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "0123456789" },
		{ .dir = PG_C, .flags = PG_PA, .seq = 11, .ack = 51, .data = "abcdefghij" },
		{ .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 21, .data = "s", .len = 50 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 21, .ack = 31, .data = "ABCDEFGHIJ" },
		{ .dir = PG_S, .flags = PG_PA, .seq = 51, .ack = 31, .data = "t", .len = 30 },
		{ .dir = PG_C, .flags = PG_FA, .seq = 31, .ack = 81 },
		{ .dir = PG_S, .flags = PG_FA, .seq = 81, .ack = 32 },
	};
	char sbuf[80];
	struct lp_flows *fs;
	const struct lp_flow *fl;

	memset(sbuf, 's', 50);
	memset(sbuf + 50, 't', 30);
	p[4].data = sbuf;
	p[6].data = sbuf + 50;
	fs = load_conv(PG_ETH, &conv4, p, 9, NULL);
	fl = only(fs);
	ck_assert_uint_eq(fl->nsegs, 9);
	assert_seg(&fl->segs[2], LP_C2S, 0, 10, 0, 1, PG_PA, 3);
	/* It acknowledged 50 bytes; the server had sent none. */
	assert_seg(&fl->segs[3], LP_C2S, 10, 10, 0, 2, PG_PA, 4);
	assert_seg(&fl->segs[4], LP_S2C, 0, 50, 20, 1, PG_PA, 5);
	/* Acknowledged 30, which is never less than the 0 it acked before. */
	assert_seg(&fl->segs[5], LP_C2S, 20, 10, 30, 3, PG_PA, 6);
	assert_seg(&fl->segs[6], LP_S2C, 50, 30, 30, 2, PG_PA, 7);
	assert_seg(&fl->segs[7], LP_C2S, 30, 0, 80, 0, PG_FA, 8);
	assert_seg(&fl->segs[8], LP_S2C, 80, 0, 31, 0, PG_FA, 9);
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];

		if (s->flags & PG_FIN)
			ck_assert_uint_eq(s->offset, fl->dir[s->dir].len);
	}
	lp_flows_free(fs);
}
END_TEST

/* Causal links never go backwards, even when the capture's ACKs do. */
START_TEST(ack_monotonic)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 1, .data = "hello there, client" },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 20, .data = "one" },
		{ .dir = PG_C, .flags = PG_PA, .seq = 4, .ack = 5, .data = "two" },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 5, NULL);
	const struct lp_flow *fl = only(fs);

	assert_seg(&fl->segs[3], LP_C2S, 0, 3, 19, 1, PG_PA, 4);
	assert_seg(&fl->segs[4], LP_C2S, 3, 3, 19, 2, PG_PA, 5);
	lp_flows_free(fs);
}
END_TEST

/* SYN options recorded per side, including their absence. */
START_TEST(syn_options_per_side)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;
	const struct lp_synopts *c, *s;

	p[1].opts = "\x02\x04\x02\x18";   /* the server offers only MSS 536 */
	p[1].optlen = 4;
	p[1].window = 1000;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	c = &fl->dir[LP_C2S].opts;
	s = &fl->dir[LP_S2C].opts;
	ck_assert(c->seen);
	ck_assert(c->has_mss && c->mss == 1460);
	ck_assert(c->has_wscale && c->wscale == 7);
	ck_assert(c->sack_ok);
	ck_assert(c->has_ts && c->tsval == 7);
	ck_assert_uint_eq(c->window, 64240);
	ck_assert(s->seen);
	ck_assert(s->has_mss && s->mss == 536);
	ck_assert(!s->has_wscale && !s->sack_ok && !s->has_ts);
	ck_assert_uint_eq(s->window, 1000);
	lp_flows_free(fs);

	/* The reference options: the server's side. */
	n = std_pkts(p);
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	s = &fl->dir[LP_S2C].opts;
	ck_assert(s->has_mss && s->mss == 1400);
	ck_assert(s->has_wscale && s->wscale == 8);
	ck_assert(s->sack_ok);
	ck_assert(s->has_ts && s->tsval == 99);
	ck_assert_uint_eq(s->window, 65160);
	lp_flows_free(fs);
}
END_TEST

/* A packet far outside the stream is kept out of it and noted. */
START_TEST(out_of_window_ignored)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_pkt far = { .dir = PG_C, .flags = PG_PA, .seq = 1 + (200u << 20), .ack = 1, .data = "garbage" };
	struct lp_flows *fs;
	const struct lp_flow *fl;
	char names[128];

	memmove(p + 5, p + 4, (n - 4) * sizeof(*p));
	p[4] = far;
	n++;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert_uint_eq(fl->notes, LP_NOTE_OUT_OF_WINDOW);
	ck_assert_str_eq(lp_flow_notes_str(fl->notes, names, sizeof(names)), "out-of-window");
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->nsegs, 7);
	lp_flows_free(fs);
}
END_TEST

/* A bare FIN whose sequence number lies far beyond the stream (a stale FIN
 * of an earlier connection on the same 4-tuple, or a corrupt packet) is out
 * of the window like a data packet would be: it must neither stretch the
 * stream by hundreds of megabytes of hole nor become the stream's FIN. */
START_TEST(out_of_window_fin)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_pkt far = { .dir = PG_C, .flags = PG_FA, .seq = 1 + QL + (200u << 20), .ack = 1 };
	struct lp_flows *fs;
	const struct lp_flow *fl;

	memmove(p + 5, p + 4, (n - 4) * sizeof(*p));
	p[4] = far;
	n++;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert_msg(fl->dir[LP_C2S].len == QL, "client stream of %llu bytes",
		      (unsigned long long)fl->dir[LP_C2S].len);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	ck_assert(fl->notes & LP_NOTE_OUT_OF_WINDOW);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	lp_flows_free(fs);
}
END_TEST

/* A SYN-ACK far outside the server's stream (a stray or forged one) is
 * ignored like any other out-of-window packet, and nothing of it is kept:
 * make asan checks that the SYN options recorded for it are not leaked. */
START_TEST(out_of_window_syn)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);
	struct pg_pkt far = { .dir = PG_S, .flags = PG_SA, .seq = 1 + (200u << 20), .ack = 1,
			      .opts = S_SYNOPTS, .optlen = 20, .window = 4321 };
	struct lp_flows *fs;
	const struct lp_flow *fl;

	memmove(p + 5, p + 4, (n - 4) * sizeof(*p));
	p[4] = far;
	n++;
	fs = load_conv(PG_ETH, &conv4, p, n, NULL);
	fl = only(fs);
	ck_assert(fl->notes & LP_NOTE_OUT_OF_WINDOW);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_S2C].opts.window, 65160);
	ck_assert_uint_eq(fl->dir[LP_S2C].isn, 5000);
	ck_assert_uint_eq(fl->packets, 11);
	lp_flows_free(fs);
}
END_TEST

/* Mid-stream capture whose first packet carries later bytes than the next:
 * the stream grows backwards to the lowest sequence number seen. */
START_TEST(midstream_earlier_bytes_later)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_PA, .seq = 101, .ack = 1, .data = "second half" },
		{ .dir = PG_S, .flags = PG_ACK, .seq = 1, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "x", .len = 100 },
	};
	static char first[100];
	struct lp_flows *fs;
	const struct lp_flow *fl;
	uint8_t want[111];

	memset(first, 'f', sizeof(first));
	p[2].data = first;
	memcpy(want, first, 100);
	memcpy(want + 100, "second half", 11);
	fs = load_conv(PG_ETH, &conv4, p, 3, NULL);
	fl = only(fs);
	ck_assert(fl->notes & LP_NOTE_MIDSTREAM);
	ck_assert(fl->notes & LP_NOTE_REORDERED);
	assert_stream(&fl->dir[LP_C2S], want, sizeof(want));
	ck_assert_uint_eq(fl->dir[LP_C2S].isn, 1000);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	ck_assert_uint_eq(fl->nsegs, 2);
	assert_seg(&fl->segs[0], LP_C2S, 0, 100, 0, 1, PG_PA, 3);
	assert_seg(&fl->segs[1], LP_C2S, 100, 11, 0, 2, PG_PA, 1);
	lp_flows_free(fs);
}
END_TEST

/* A capture that starts with a TCP keep-alive (no data, sequence number one
 * below the next byte, as Linux sends them): the probe carries no byte, so
 * it must not open a one-byte hole in front of the stream. */
START_TEST(midstream_keepalive_first)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_ACK, .seq = 0, .ack = 1 },
		{ .dir = PG_S, .flags = PG_ACK, .seq = 1, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = REQ },
		{ .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 1 + QL, .data = RESP },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 4, NULL);
	const struct lp_flow *fl = only(fs);

	ck_assert(fl->notes & LP_NOTE_MIDSTREAM);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	assert_stream(&fl->dir[LP_C2S], REQ, QL);
	assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
	ck_assert_uint_eq(fl->dir[LP_C2S].isn, 1000);
	lp_flows_free(fs);
}
END_TEST

/* A retransmission that covers a packet the capture lost, and overlaps the
 * captured ones on both sides: the gap is filled, nothing else changes. */
START_TEST(retransmission_fills_lost_packet)
{
	static const char body[] = "aaaaaaaaaabbbbbbbbbbcccccccccc";
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = body, .len = 10 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 21, .ack = 1, .data = body + 20, .len = 10 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 6, .ack = 1, .data = body + 5, .len = 20 },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 5, NULL);
	const struct lp_flow *fl = only(fs);

	assert_stream(&fl->dir[LP_C2S], body, 30);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].conflicts, 0);
	ck_assert_uint_eq(fl->ndata[LP_C2S], 3);
	assert_seg(&fl->segs[2], LP_C2S, 0, 10, 0, 1, PG_PA, 3);
	assert_seg(&fl->segs[3], LP_C2S, 10, 10, 0, 2, PG_PA, 5);
	assert_seg(&fl->segs[4], LP_C2S, 20, 10, 0, 3, PG_PA, 4);
	ck_assert(fl->notes & LP_NOTE_REORDERED);
	lp_flows_free(fs);
}
END_TEST

/* Where a retransmission spans captured bytes and bytes lost to the snap
 * length, it fills the hole without counting a conflict; where it spans two
 * captured ranges with a gap between, the first copies stay. */
START_TEST(retransmission_over_holes)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "0123456789", .cut = 6 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 21, .ack = 1, .data = "KLMNOPQRST" },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "0123456789abcdefghijklmnopqrst" },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 5, NULL);
	const struct lp_flow *fl = only(fs);

	assert_stream(&fl->dir[LP_C2S], "0123456789abcdefghijKLMNOPQRST", 30);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].conflicts, 1);
	ck_assert_uint_eq(fl->dir[LP_C2S].retransmissions, 0);
	ck_assert(fl->notes & LP_NOTE_TRUNCATED);
	ck_assert(fl->notes & LP_NOTE_CONFLICT);
	lp_flows_free(fs);
}
END_TEST

/* The RST segment sits at its stream offset, after the data. */
START_TEST(rst_segment)
{
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "hello" },
		{ .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 6, .data = "bye" },
		{ .dir = PG_S, .flags = PG_RST | PG_ACK, .seq = 4, .ack = 6 },
		{ .dir = PG_S, .flags = PG_RST, .seq = 4 },
	};
	struct lp_flows *fs = load_conv(PG_ETH, &conv4, p, 6, NULL);
	const struct lp_flow *fl = only(fs);

	ck_assert(fl->dir[LP_S2C].rst);
	ck_assert(!fl->dir[LP_C2S].rst);
	ck_assert_uint_eq(fl->nsegs, 5);
	assert_seg(&fl->segs[4], LP_S2C, 3, 0, 5, 0, PG_RST | PG_ACK, 5);
	assert_stream(&fl->dir[LP_S2C], "bye", 3);
	lp_flows_free(fs);
}
END_TEST

/* A reset whose sequence number lies below what its sender had sent: the
 * server, its connection closed, answers a stray client ACK that arrives
 * late (reordered) with <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1); or a
 * host that aborts with SND.NXT beyond the window resets at SND.UNA +
 * SND.WND. The reset is the last thing the server did: it goes after all
 * its data and its FIN, not in the middle of its stream. */
START_TEST(rst_below_stream_end_goes_last)
{
	struct pg_pkt p[MAXPKT];
	size_t n = std_pkts(p);

	for (int fin = 1; fin >= 0; fin--) {
		size_t m = n;
		struct lp_flows *fs;
		const struct lp_flow *fl;
		const struct lp_segment *last;

		if (!fin)
			m -= 3; /* no FINs: the server aborts after its answer */
		p[m++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1 + QL, .ack = 1 + R1 };
		p[m++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_RST, .seq = 1 + R1 };
		fs = load_conv(PG_ETH, &conv4, p, m, NULL);
		fl = only(fs);
		ck_assert(fl->dir[LP_S2C].rst);
		assert_stream(&fl->dir[LP_S2C], RESP, R1 + R2);
		last = &fl->segs[fl->nsegs - 1];
		/* (Its ACK field, absent, reads as the last one before it.) */
		assert_seg(last, LP_S2C, R1 + R2, 0, QL + (uint64_t)fin, 0, PG_RST, (uint32_t)m);
		for (size_t i = 0; i + 1 < fl->nsegs; i++)
			ck_assert_msg(!(fl->segs[i].flags & PG_RST), "fin %d: a reset at segment %zu of %zu",
				      fin, i, fl->nsegs);
		lp_flows_free(fs);
	}
}
END_TEST

/* Bytes the capture lacks read as zero, even where the buffer had to be
 * moved to put the origin at offset 0 (here: stray bytes before the ISN,
 * then the stream's tail lost and only the FIN captured). */
START_TEST(hole_bytes_are_zero_after_origin_shift)
{
	static char stray[64], tail[64];
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_PA, .absolute = true, .seq = 1000 - 64, .ack = 5001, .data = stray,
		  .len = 64 },
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "head", .len = 4 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 5, .ack = 1, .data = tail, .len = 64, .cut = 64 },
		{ .dir = PG_C, .flags = PG_FA, .seq = 69 + 200, .ack = 1 },
	};
	struct lp_flows *fs;
	const struct lp_flow *fl;
	const struct lp_stream *st;
	uint8_t *bytes;

	memset(stray, 's', sizeof(stray));
	memset(tail, 't', sizeof(tail));
	fs = load_conv(PG_ETH, &conv4, p, 6, NULL);
	fl = only(fs);
	st = &fl->dir[LP_C2S];
	ck_assert_uint_eq(st->len, 268);
	bytes = stream_bytes(st);
	ck_assert_mem_eq(bytes, "head", 4);
	ck_assert_uint_eq(st->nholes, 1);
	ck_assert_uint_eq(st->holes[0].offset, 4);
	ck_assert_uint_eq(st->holes[0].len, 264);
	for (uint64_t i = 4; i < st->len; i++)
		ck_assert_msg(bytes[i] == 0, "hole byte %llu is %#x", (unsigned long long)i, bytes[i]);
	free(bytes);
	lp_flows_free(fs);
}
END_TEST

/* Data only before the origin (stray bytes before the SYN): the stream is
 * empty, and its pieces, all cut away, are freed (a fuzz find). */
START_TEST(data_only_before_origin)
{
	static char stray[64];
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_PA, .absolute = true, .seq = 1000 - 64, .ack = 5001, .data = stray,
		  .len = 64 },
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_FA, .seq = 1, .ack = 1 },
	};
	struct lp_flows *fs;
	const struct lp_flow *fl;

	memset(stray, 's', sizeof(stray));
	fs = load_conv(PG_ETH, &conv4, p, 4, NULL);
	fl = only(fs);
	ck_assert_uint_eq(fl->dir[LP_C2S].len, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].next, 0);
	ck_assert_uint_eq(fl->dir[LP_C2S].nholes, 0);
	lp_flows_free(fs);
}
END_TEST

/* The capture's bytes are not copied: each data packet is one extent that
 * points into the capture in memory, and a retransmission over two packets
 * adds none. Reading across extents, comparing and holes. */
START_TEST(streams_point_into_the_capture)
{
	static const char body[] = "aaaaaaaaaabbbbbbbbbbcccccccccc";
	struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = body, .len = 10 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 11, .ack = 1, .data = body + 10, .len = 10 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 6, .ack = 1, .data = body + 5, .len = 10 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 26, .ack = 1, .data = body + 25, .len = 5 },
	};
	const char *path = tpath("mem.pcap");
	struct lp_capture *cap;
	struct lp_flows *fs;
	const struct lp_flow *fl;
	const struct lp_stream *st;
	uint8_t *file, got[30], want[30];
	uint64_t run;
	char err[256];
	size_t n;
	FILE *fp;

	ck_assert_int_eq(pg_write(path, PG_ETH, &conv4, p, 6), 0);
	fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	file = malloc(4096);
	ck_assert_ptr_nonnull(file);
	n = fread(file, 1, 4096, fp);
	fclose(fp);
	ck_assert_int_eq(lp_capture_open_mem(file, n, NULL, &cap, err, sizeof(err)), 0);
	ck_assert_int_eq(lp_flows_load_capture(cap, NULL, NULL, &fs, err, sizeof(err)), 0);
	fl = only(fs);
	st = &fl->dir[LP_C2S];
	ck_assert_uint_eq(st->len, 30);
	ck_assert_uint_eq(st->next, 4);   /* 10, 10, a hole of 5, 5 */
	for (size_t k = 0; k < st->next; k++) {
		if (k == 2) {
			ck_assert_ptr_null(st->ext[k].p);
			continue;
		}
		ck_assert(st->ext[k].p >= file && st->ext[k].p + st->ext[k].len <= file + n);
	}
	ck_assert_uint_eq(st->conflicts, 0);
	ck_assert_ptr_null(stream_extents_wrong(st));
	/* Across the first two packets, then into the hole. */
	lp_stream_copy(st, 5, 20, got);
	memcpy(want, body + 5, 15);
	memset(want + 15, 0, 5);
	ck_assert_mem_eq(got, want, 20);
	ck_assert_ptr_null(lp_stream_at(st, 22, &run));
	ck_assert_uint_eq(run, 3);
	ck_assert(lp_stream_at(st, 25, &run) != NULL && run == 5);
	ck_assert_ptr_null(lp_stream_at(st, 30, &run));
	ck_assert_uint_eq(run, 0);
	/* Holes match anything; past the end differs. */
	memset(got, 'x', sizeof(got));
	memcpy(got, body, 20);
	memcpy(got + 25, body + 25, 5);
	ck_assert_int_eq(lp_stream_diff(st, 0, (const uint8_t *)got, 30), -1);
	got[12] = 'Z';
	ck_assert_int_eq(lp_stream_diff(st, 0, (const uint8_t *)got, 30), 12);
	ck_assert_int_eq(lp_stream_diff(st, 28, (const uint8_t *)"cc?", 3), 30);
	lp_flows_free(fs);
	free(file);
}
END_TEST

struct kv {
	uint32_t key, order;
};

static int kv_cmp(const void *a, const void *b, void *arg)
{
	const struct kv *x = a, *y = b;

	(void)arg;
	return (x->key > y->key) - (x->key < y->key);
}

/* lp_sort_nearly: stable, by insertion on data nearly in order (a
 * retransmission far back included), by qsort_r on data in reverse. */
START_TEST(sort_nearly)
{
	enum { N = 5000 };
	static struct kv v[N];

	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < N; i++)
			v[i] = (struct kv){ pass ? N - i : i / 2, i };
		if (!pass) {
			v[4000].key = 7;      /* far out of place */
			v[10].key = 2400;
		}
		lp_sort_nearly(v, N, sizeof(*v), kv_cmp, NULL);
		for (uint32_t i = 1; i < N; i++) {
			ck_assert_uint_le(v[i - 1].key, v[i].key);
			if (v[i - 1].key == v[i].key)
				ck_assert_uint_lt(v[i - 1].order, v[i].order);
		}
	}
}
END_TEST

/* --- Randomised reassembly against an independent model ------------------ */

struct rnd {
	uint64_t s;
};

static uint32_t rnd_next(struct rnd *r, uint32_t n)
{
	r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((r->s >> 33) % n);
}

struct rpkt {
	int dir;
	uint32_t start, len, keep;
};

/* Random segmentation of two streams, packets lost, duplicated, cut by the
 * snap length, retransmitted with overlaps and shuffled; the result must
 * match a byte map of what the capture held. Seeds vary the handshake:
 * in order, across the sequence wrap, SYN-ACK first, or none at all. */
START_TEST(random_reassembly)
{
	enum { N = 3000, MAXR = 600 };
	static uint8_t stream[2][N];
	static struct rpkt pk[MAXR];
	static struct pg_pkt pp[MAXR + 2];
	static uint8_t held[2][N], sent[2][N];
	struct rnd r = { 0x9e3779b97f4a7c15ull ^ (uint64_t)_i };
	int mode = _i % 4;
	struct pg_conv c = conv4;
	size_t np = 0, nh = mode == 3 ? 0 : 2;
	uint32_t want_retrans[2] = { 0, 0 }, end[2] = { 0, 0 }, base[2] = { N, N };
	struct lp_flows *fs;
	const struct lp_flow *fl;

	if (mode == 1 || mode == 3) {
		c.cisn = 0xfffffa00u + (uint32_t)_i;
		c.sisn = 0xffffffffu - (uint32_t)_i;
	}
	memset(held, 0, sizeof(held));
	memset(sent, 0, sizeof(sent));
	fill_pattern(stream[0], N, 11u + (uint32_t)_i);
	fill_pattern(stream[1], N, 977u + (uint32_t)_i);
	for (int d = 0; d < 2; d++) {
		for (uint32_t o = 0; o < N;) {
			uint32_t l = 1 + rnd_next(&r, 300), roll;

			if (l > N - o)
				l = N - o;
			roll = rnd_next(&r, 10);
			if (roll != 0)   /* one in ten lost */
				pk[np++] = (struct rpkt){ d, o, l, roll == 1 ? rnd_next(&r, l) : l };
			if (roll == 2)   /* one in ten twice */
				pk[np] = pk[np - 1], np++;
			o += l;
		}
		for (int k = 0; k < 15; k++) {
			uint32_t s0 = rnd_next(&r, N), l = 1 + rnd_next(&r, 400);

			if (l > N - s0)
				l = N - s0;
			pk[np++] = (struct rpkt){ d, s0, l, l };
		}
	}
	ck_assert_uint_lt(np, MAXR);
	/* Shuffle: local swaps keep most packets near their place. */
	for (size_t i = 0; i + 1 < np; i++) {
		size_t j = i + rnd_next(&r, 8);

		if (j < np) {
			struct rpkt t = pk[i];

			pk[i] = pk[j];
			pk[j] = t;
		}
	}
	if (nh) {
		pp[mode == 2] = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN };
		pp[mode != 2] = (struct pg_pkt){ .dir = PG_S, .flags = PG_SA, .ack = 1 };
	}
	for (size_t i = 0; i < np; i++) {
		const struct rpkt *k = &pk[i];
		bool fresh = false;

		pp[i + nh] = (struct pg_pkt){ .dir = k->dir, .flags = PG_PA, .seq = 1 + k->start, .ack = 1,
					      .data = (const char *)stream[k->dir] + k->start, .len = k->len,
					      .cut = k->len - k->keep };
		for (uint32_t b = k->start; b < k->start + k->len; b++) {
			fresh |= !sent[k->dir][b];
			sent[k->dir][b] = 1;
		}
		for (uint32_t b = k->start; b < k->start + k->keep; b++)
			held[k->dir][b] = 1;
		if (!fresh)
			want_retrans[k->dir]++;
		if (k->start + k->len > end[k->dir])
			end[k->dir] = k->start + k->len;
		if (k->start < base[k->dir])
			base[k->dir] = k->start;
	}
	if (nh)
		base[0] = base[1] = 0;
	fs = load_conv(PG_ETH, &c, pp, np + nh, NULL);
	fl = only(fs);
	ck_assert_uint_eq(fl->client.port, 40000);
	ck_assert_uint_eq(!!(fl->notes & LP_NOTE_MIDSTREAM), mode == 3);
	ck_assert_uint_eq(!!(fl->notes & LP_NOTE_REORDERED_HS), mode == 2);
	for (int d = 0; d < 2; d++) {
		const struct lp_stream *st = &fl->dir[d];
		const uint8_t *hd = held[d], *sd = sent[d];
		size_t h = 0;
		uint64_t hb = 0, next = base[d];
		uint32_t label = 0;
		uint8_t *bytes;

		ck_assert_uint_eq(st->isn, (d ? c.sisn : c.cisn) + base[d]);
		ck_assert_uint_eq(st->len, end[d] - base[d]);
		ck_assert_uint_eq(st->retransmissions, want_retrans[d]);
		ck_assert_uint_eq(st->conflicts, 0);
		bytes = stream_bytes(st);
		for (uint32_t b = base[d]; b < end[d]; b++) {
			if (hd[b])
				ck_assert_msg(bytes[b - base[d]] == stream[d][b], "seed %d dir %d byte %u", _i, d, b);
			else
				ck_assert_msg(bytes[b - base[d]] == 0, "seed %d dir %d hole byte %u", _i, d, b);
			if (!hd[b] && (b == base[d] || hd[b - 1])) {
				uint32_t e = b;

				while (e < end[d] && !hd[e])
					e++;
				ck_assert_uint_lt(h, st->nholes);
				ck_assert_uint_eq(st->holes[h].offset, b - base[d]);
				ck_assert_uint_eq(st->holes[h].len, e - b);
				hb += e - b;
				h++;
			}
		}
		free(bytes);
		ck_assert_uint_eq(st->nholes, h);
		ck_assert_uint_eq(st->hole_bytes, hb);
		/* Data segments: in stream order, disjoint, covering exactly the
		 * bytes some packet carried. */
		for (size_t i = 0; i < fl->nsegs; i++) {
			const struct lp_segment *s = &fl->segs[i];
			uint64_t o = s->offset + base[d];

			if (s->dir != d || !s->len)
				continue;
			ck_assert_uint_eq(s->label, ++label);
			ck_assert_uint_ge(o, next);
			for (uint64_t b = next; b < o; b++)
				ck_assert_msg(!sd[b], "seed %d dir %d: byte %llu sent but in no segment", _i, d,
					      (unsigned long long)b);
			for (uint64_t b = o; b < o + s->len; b++)
				ck_assert(sd[b]);
			next = o + s->len;
		}
		ck_assert_uint_eq(fl->ndata[d], label);
		ck_assert_uint_eq(next, end[d]);
	}
	/* Capture times stay in capture order; causal links never exceed what
	 * the peer had sent before, and never go backwards. */
	{
		uint64_t reached[2] = { 0, 0 }, last[2] = { 0, 0 }, ts = 0;

		for (size_t i = 0; i < fl->nsegs; i++) {
			const struct lp_segment *s = &fl->segs[i];

			ck_assert_uint_ge(s->ts_ns, ts);
			ts = s->ts_ns;
			ck_assert_uint_le(s->ack, reached[!s->dir]);
			ck_assert_uint_ge(s->ack, last[s->dir]);
			last[s->dir] = s->ack;
			if (s->offset + s->len > reached[s->dir])
				reached[s->dir] = s->offset + s->len;
		}
	}
	lp_flows_free(fs);
}
END_TEST

START_TEST(endpoint_and_notes_strings)
{
	struct lp_endpoint e4 = { .family = AF_INET, .port = 80 }, e6 = { .family = AF_INET6, .port = 443 };
	char buf[64];

	ck_assert_int_eq(inet_pton(AF_INET, "198.18.0.2", e4.addr), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::2", e6.addr), 1);
	ck_assert_str_eq(lp_endpoint_str(&e4, buf, sizeof(buf)), "198.18.0.2:80");
	ck_assert_str_eq(lp_endpoint_str(&e6, buf, sizeof(buf)), "[2001:db8::2]:443");
	ck_assert_str_eq(lp_flow_notes_str(LP_NOTE_NO_SYN | LP_NOTE_MIDSTREAM | LP_NOTE_TFO, buf, sizeof(buf)),
			 "no-syn,midstream,tfo");
	ck_assert_str_eq(lp_flow_notes_str(0, buf, sizeof(buf)), "");
	/* Too small: whole names only, always terminated. */
	ck_assert_str_eq(lp_flow_notes_str(LP_NOTE_NO_SYN | LP_NOTE_NO_SYNACK, buf, 12), "no-syn");
}
END_TEST

Suite *flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tl = tcase_create("framing");
	TCase *tr = tcase_create("reassembly");
	TCase *th = tcase_create("handshake");
	TCase *tf = tcase_create("files");
	TCase *ts = tcase_create("schedule");

	tcase_add_unchecked_fixture(tl, case_setup, case_teardown);
	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_set_timeout(tl, 20);
	tcase_add_loop_test(tl, every_link_type, 0, 4 * PG_NLINKS);
	tcase_add_test(tl, microsecond_capture);
	tcase_add_test(tl, ipv4_options_and_ipv6_extensions);
	tcase_add_test(tl, fragments_and_other_counted);
	suite_add_tcase(s, tl);

	tcase_add_unchecked_fixture(tr, case_setup, case_teardown);
	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_set_timeout(tr, 20);
	tcase_add_test(tr, retransmission_counted_once);
	tcase_add_test(tr, every_packet_twice);
	tcase_add_test(tr, overlapping_retransmission_new_bytes);
	tcase_add_test(tr, conflicting_retransmission);
	tcase_add_test(tr, reordered_data);
	tcase_add_test(tr, fin_before_last_data);
	tcase_add_test(tr, sequence_wraparound);
	tcase_add_test(tr, tfo_data_in_syn);
	tcase_add_test(tr, tfo_syn_retransmitted);
	tcase_add_test(tr, snaplen_holes);
	tcase_add_test(tr, snaplen_in_tcp_header);
	tcase_add_test(tr, lost_in_capture);
	tcase_add_test(tr, malformed_packets_warned);
	tcase_add_test(tr, out_of_window_ignored);
	tcase_add_test(tr, out_of_window_syn);
	tcase_add_test(tr, out_of_window_fin);
	tcase_add_test(tr, retransmission_fills_lost_packet);
	tcase_add_test(tr, retransmission_over_holes);
	tcase_add_test(tr, hole_bytes_are_zero_after_origin_shift);
	tcase_add_test(tr, data_only_before_origin);
	tcase_add_test(tr, streams_point_into_the_capture);
	tcase_add_test(tr, sort_nearly);
	tcase_add_loop_test(tr, random_reassembly, 0, 40);
	suite_add_tcase(s, tr);

	tcase_add_unchecked_fixture(th, case_setup, case_teardown);
	tcase_add_checked_fixture(th, setup, teardown);
	tcase_set_timeout(th, 20);
	tcase_add_test(th, reordered_handshake);
	tcase_add_test(th, missing_syn);
	tcase_add_test(th, missing_synack);
	tcase_add_test(th, refused_or_synack_missed);
	tcase_add_test(th, midstream_higher_port_is_client);
	tcase_add_test(th, midstream_guess_follows_port);
	tcase_add_test(th, midstream_earlier_bytes_later);
	tcase_add_test(th, midstream_keepalive_first);
	tcase_add_test(th, syn_options_per_side);
	suite_add_tcase(s, th);

	tcase_add_unchecked_fixture(tf, case_setup, case_teardown);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_set_timeout(tf, 30);
	tcase_add_test(tf, unreadable_files);
	tcase_add_test(tf, empty_record_is_malformed);
	tcase_add_test(tf, corrupt_record);
	tcase_add_test(tf, no_packets);
	tcase_add_test(tf, flows_numbered_by_first_packet);
	tcase_add_test(tf, many_flows);
	tcase_add_test(tf, tuple_reuse_after_close);
	tcase_add_test(tf, tuple_reuse_close_not_captured);
	tcase_add_test(tf, tuple_reuse_reordered_handshake);
	tcase_add_test(tf, tuple_reuse_missing_syn);
	tcase_add_test(tf, syn_retransmit_after_rst_same_flow);
	tcase_add_test(tf, select_flows);
	tcase_add_test(tf, select_errors);
	tcase_add_test(tf, select_lists);
	tcase_add_test(tf, stale_ack_then_reset_then_syn_again);
	tcase_add_test(tf, stale_ack_below_isn);
	tcase_add_test(tf, reopened_far_fin_ignored);
	suite_add_tcase(s, tf);

	tcase_add_unchecked_fixture(ts, case_setup, case_teardown);
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_set_timeout(ts, 20);
	tcase_add_test(ts, ack_clamped_to_peer);
	tcase_add_test(ts, ack_monotonic);
	tcase_add_test(ts, rst_segment);
	tcase_add_test(ts, rst_below_stream_end_goes_last);
	tcase_add_test(ts, endpoint_and_notes_strings);
	suite_add_tcase(s, ts);
	return s;
}

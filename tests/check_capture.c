/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture reader: lp_parse_frame / lp_parse_ip over frames pcapgen builds in
 * every framing, and lp_capture_* over files it writes. Malformed and cut
 * headers must come back as LP_PKT_BAD, never as a read past the buffer
 * (make asan checks the latter).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pcapgen.h"
#include "tmpdir.h"
#include "tcpliveplay/capture.h"

#define MSS_WS_SACK_TS "\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x07\x00\x00\x00\x00\x01\x03\x03\x07"

static uint8_t frame[70000];

static const struct pg_conv conv4 = { .family = AF_INET, .cisn = 1000, .sisn = 5000 };
static const struct pg_conv conv6 = { .family = AF_INET6, .cisn = 1000, .sisn = 5000 };

/* Build p in link framing into the static frame buffer and parse it. */
static uint32_t parse(enum pg_link link, const struct pg_conv *c, const struct pg_pkt *p,
		      struct lp_rawpkt *out)
{
	uint32_t caplen;
	size_t n = pg_build_frame(link, 30, c, p, frame, sizeof(frame), &caplen);

	ck_assert_uint_gt(n, 0);
	memset(out, 0xa5, sizeof(*out));
	lp_parse_frame(pg_dlt(link), frame, caplen, out);
	return caplen;
}

static void parse_bytes(int dlt, const uint8_t *data, uint32_t caplen, struct lp_rawpkt *out)
{
	memset(out, 0xa5, sizeof(*out));
	lp_parse_frame(dlt, data, caplen, out);
}

static void assert_addr(const struct lp_tcppkt *t, const struct pg_conv *c, int dir)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	int fam = c->family == AF_INET6 ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(fam, fam == AF_INET ? "198.18.0.1" : "2001:db8::1", a), 1);
	ck_assert_int_eq(inet_pton(fam, fam == AF_INET ? "198.18.0.2" : "2001:db8::2", b), 1);
	ck_assert_int_eq(t->family, fam);
	ck_assert_mem_eq(t->src, dir == PG_C ? a : b, fam == AF_INET ? 4 : 16);
	ck_assert_mem_eq(t->dst, dir == PG_C ? b : a, fam == AF_INET ? 4 : 16);
}

/* Every framing, both IP versions: all header fields and the payload. */
START_TEST(link_types_all_fields)
{
	enum pg_link link = (enum pg_link)(_i / 2);
	const struct pg_conv *c = _i % 2 ? &conv6 : &conv4;
	struct pg_pkt p = {
		.dir = PG_S, .flags = PG_PA, .seq = 101, .ack = 37, .data = "hello, world",
		.window = 1234, .opts = "\x01\x01\x08\x0a\x00\x00\x01\x00\x00\x00\x02\x00", .optlen = 12,
	};
	struct lp_rawpkt r;

	parse(link, c, &p, &r);
	ck_assert_msg(r.kind == LP_PKT_TCP, "%s: kind %d (%s)", pg_link_name(link), r.kind, r.why ? r.why : "");
	assert_addr(&r.tcp, c, PG_S);
	ck_assert_uint_eq(r.tcp.sport, 80);
	ck_assert_uint_eq(r.tcp.dport, 40000);
	ck_assert_uint_eq(r.tcp.seq, 5000 + 101);
	ck_assert_uint_eq(r.tcp.ack, 1000 + 37);
	ck_assert_uint_eq(r.tcp.flags, PG_PA);
	ck_assert_uint_eq(r.tcp.window, 1234);
	ck_assert_uint_eq(r.tcp.len, 12);
	ck_assert_uint_eq(r.tcp.caplen, 12);
	ck_assert_mem_eq(r.tcp.payload, "hello, world", 12);
	ck_assert(r.tcp.opts.has_ts);
	ck_assert_uint_eq(r.tcp.opts.tsval, 256);
	ck_assert_uint_eq(r.tcp.opts.tsecr, 512);
	ck_assert(!r.tcp.opts.has_mss);
	ck_assert(!r.tcp.opts.malformed && !r.tcp.opts.truncated);
	ck_assert(lp_linktype_supported(pg_dlt(link)));
}
END_TEST

/* Ethernet padding past the IP total length is not payload. */
START_TEST(ethernet_padding_ignored)
{
	struct pg_pkt p = { .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 };
	struct lp_rawpkt r;
	uint32_t caplen = parse(PG_ETH, &conv4, &p, &r);

	ck_assert_uint_eq(caplen, 54);
	memset(frame + 54, 0xee, 6);
	parse_bytes(DLT_EN10MB, frame, 60, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_uint_eq(r.tcp.len, 0);
	ck_assert_uint_eq(r.tcp.caplen, 0);
}
END_TEST

/* BSD loopback: every AF_INET6 value in use, in each byte order the header
 * can come in; an AF that contradicts the IP version is malformed. */
START_TEST(bsd_loopback_af_values)
{
	static const uint32_t afs[] = { 24, 28, 30 };
	static const enum pg_link links[] = { PG_NULL, PG_NULL_BE, PG_LOOP };
	struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "x" };
	struct lp_rawpkt r;
	uint32_t caplen;

	for (size_t l = 0; l < 3; l++) {
		for (size_t a = 0; a < 3; a++) {
			size_t n = pg_build_frame(links[l], afs[a], &conv6, &p, frame, sizeof(frame), &caplen);

			ck_assert_uint_gt(n, 0);
			parse_bytes(pg_dlt(links[l]), frame, caplen, &r);
			ck_assert_msg(r.kind == LP_PKT_TCP, "%s af %u", pg_link_name(links[l]), afs[a]);
			ck_assert_int_eq(r.tcp.family, AF_INET6);
		}
	}
	/* AF_INET header on an IPv6 packet. */
	pg_build_frame(PG_NULL, 30, &conv6, &p, frame, sizeof(frame), &caplen);
	frame[0] = 2;
	parse_bytes(DLT_NULL, frame, caplen, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
	ck_assert_ptr_nonnull(r.why);
	/* AF_INET6 header on an IPv4 packet. */
	pg_build_frame(PG_LOOP, 30, &conv4, &p, frame, sizeof(frame), &caplen);
	frame[3] = 30;
	parse_bytes(DLT_LOOP, frame, caplen, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
	/* DLT_LOOP is network order only: a little-endian AF is not IP. */
	pg_build_frame(PG_NULL, 30, &conv4, &p, frame, sizeof(frame), &caplen);
	parse_bytes(DLT_LOOP, frame, caplen, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
	/* Some other address family (AF 7) is skipped, not parsed. */
	pg_build_frame(PG_LOOP, 30, &conv4, &p, frame, sizeof(frame), &caplen);
	frame[3] = 7;
	parse_bytes(DLT_LOOP, frame, caplen, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
}
END_TEST

/* An EtherType that contradicts the IP version is malformed. */
START_TEST(ethertype_ip_version_mismatch)
{
	static const enum pg_link links[] = { PG_ETH, PG_VLAN, PG_QINQ, PG_SLL, PG_SLL2 };
	struct pg_pkt p = { .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1, .ethertype = 0x0800 };
	uint8_t ip[200];
	struct lp_rawpkt r;
	struct pg_pkt tcp = { .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 };
	size_t n = pg_build_ip(&conv6, &tcp, ip, sizeof(ip));

	ck_assert_uint_eq(n, 60);
	p.data = (const char *)ip;
	p.len = (uint32_t)n;
	for (size_t l = 0; l < sizeof(links) / sizeof(links[0]); l++) {
		parse(links[l], &conv4, &p, &r);
		ck_assert_msg(r.kind == LP_PKT_BAD, "%s", pg_link_name(links[l]));
		ck_assert_ptr_nonnull(r.why);
	}
}
END_TEST

/* A stack of VLAN tags: up to 8 are walked, more is malformed, a cut tag too. */
START_TEST(vlan_tag_stack)
{
	struct pg_pkt p = { .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1, .data = "abc" };
	uint8_t ip[100], f[200];
	struct lp_rawpkt r;
	size_t n = pg_build_ip(&conv4, &p, ip, sizeof(ip));

	for (int tags = 0; tags <= 9; tags++) {
		size_t off = 12;

		memset(f, 0, 12);
		for (int t = 0; t < tags; t++) {
			static const uint16_t tpid[] = { 0x88a8, 0x8100, 0x9100 };

			f[off] = (uint8_t)(tpid[t % 3] >> 8);
			f[off + 1] = (uint8_t)tpid[t % 3];
			f[off + 2] = 0;
			f[off + 3] = (uint8_t)(t + 1);
			off += 4;
		}
		f[off] = 0x08;
		f[off + 1] = 0x00;
		memcpy(f + off + 2, ip, n);
		parse_bytes(DLT_EN10MB, f, (uint32_t)(off + 2 + n), &r);
		if (tags <= 8) {
			ck_assert_msg(r.kind == LP_PKT_TCP, "%d tags", tags);
			ck_assert_mem_eq(r.tcp.payload, "abc", 3);
		} else {
			ck_assert_int_eq(r.kind, LP_PKT_BAD);
		}
		/* Cut inside the last tag. */
		if (tags) {
			parse_bytes(DLT_EN10MB, f, (uint32_t)(off - 2), &r);
			ck_assert_int_eq(r.kind, LP_PKT_BAD);
		}
	}
}
END_TEST

START_TEST(ipv4_options_skipped)
{
	static const uint8_t lens[] = { 4, 8, 12, 20, 40 };

	for (size_t i = 0; i < sizeof(lens); i++) {
		struct pg_conv c = conv4;
		struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "options!" };
		struct lp_rawpkt r;

		c.ip4_optlen = lens[i];
		parse(PG_ETH, &c, &p, &r);
		ck_assert_msg(r.kind == LP_PKT_TCP, "optlen %u", lens[i]);
		ck_assert_uint_eq(r.tcp.sport, 40000);
		ck_assert_uint_eq(r.tcp.seq, 1001);
		ck_assert_uint_eq(r.tcp.len, 8);
		ck_assert_mem_eq(r.tcp.payload, "options!", 8);
	}
}
END_TEST

/* Every mix of hop-by-hop, destination options, routing and AH headers. */
START_TEST(ipv6_extension_headers)
{
	struct pg_conv c = conv6;
	struct pg_pkt p = { .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 1, .data = "behind extensions" };
	struct lp_rawpkt r;

	c.ip6_ext = (unsigned)_i;
	parse(PG_RAW, &c, &p, &r);
	ck_assert_msg(r.kind == LP_PKT_TCP, "ext %#x: %s", c.ip6_ext, r.why ? r.why : "");
	ck_assert_uint_eq(r.tcp.sport, 80);
	ck_assert_uint_eq(r.tcp.seq, 5001);
	ck_assert_uint_eq(r.tcp.len, 17);
	ck_assert_mem_eq(r.tcp.payload, "behind extensions", 17);
	/* The same behind a fragment header: reported, not parsed. */
	p.frag = 0x2000;
	parse(PG_RAW, &c, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_FRAGMENT);
	ck_assert_ptr_nonnull(r.why);
	/* An extension header longer than the payload length says. */
	if (c.ip6_ext) {
		p.frag = 0;
		p.data = NULL;
		p.iplen = 4;
		parse(PG_RAW, &c, &p, &r);
		ck_assert_int_eq(r.kind, LP_PKT_BAD);
	}
}
END_TEST

START_TEST(fragments_reported)
{
	static const uint16_t frags[] = { 0x2000, 0x2010, 0x0010, 0x0001 };

	for (size_t i = 0; i < 4; i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "frag",
					    .frag = frags[i] };
			struct lp_rawpkt r;

			parse(PG_ETH, v6 ? &conv6 : &conv4, &p, &r);
			ck_assert_msg(r.kind == LP_PKT_FRAGMENT, "frag %#x v6 %d", frags[i], v6);
			ck_assert_ptr_nonnull(r.why);
		}
	}
}
END_TEST

/* IPv4 with DF alone is not a fragment. */
START_TEST(dont_fragment_is_not_fragment)
{
	struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "df", .frag = 0x4000 };
	struct lp_rawpkt r;

	parse(PG_ETH, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
}
END_TEST

START_TEST(non_tcp_skipped)
{
	static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	struct pg_pkt udp = { .dir = PG_C, .proto = 17, .data = "\x9c\x40\x00\x35\x00\x0c\x00\x00" "abcd", .len = 12 };
	struct pg_pkt icmp = { .dir = PG_S, .proto = 1, .data = "\x08\x00\xf7\xff\x00\x00\x00\x00", .len = 8 };
	struct pg_pkt nonext = { .dir = PG_S, .proto = 59, .data = "padding!" };
	struct pg_pkt a = { .dir = PG_C, .ethertype = 0x0806, .data = (const char *)arp, .len = sizeof(arp) };
	struct lp_rawpkt r;

	parse(PG_ETH, &conv4, &udp, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
	parse(PG_SLL2, &conv6, &udp, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
	parse(PG_RAW, &conv4, &icmp, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
	parse(PG_VLAN, &conv6, &nonext, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
	parse(PG_ETH, &conv4, &a, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
	parse(PG_SLL, &conv4, &a, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
	/* 802.3 frame: a length, not an EtherType. */
	memset(frame, 0, 60);
	frame[12] = 0x00;
	frame[13] = 0x2e;
	frame[14] = 0x42;
	frame[15] = 0x42;
	parse_bytes(DLT_EN10MB, frame, 60, &r);
	ck_assert_int_eq(r.kind, LP_PKT_OTHER);
}
END_TEST

START_TEST(syn_options_parsed)
{
	struct pg_pkt p = { .dir = PG_C, .flags = PG_SYN, .opts = MSS_WS_SACK_TS, .optlen = 20 };
	struct lp_rawpkt r;

	parse(PG_ETH, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert(r.tcp.opts.has_mss);
	ck_assert_uint_eq(r.tcp.opts.mss, 1460);
	ck_assert(r.tcp.opts.sack_ok);
	ck_assert(r.tcp.opts.has_ts);
	ck_assert_uint_eq(r.tcp.opts.tsval, 7);
	ck_assert_uint_eq(r.tcp.opts.tsecr, 0);
	ck_assert(r.tcp.opts.has_wscale);
	ck_assert_uint_eq(r.tcp.opts.wscale, 7);
	ck_assert_uint_eq(r.tcp.opts.unknown, 0);
	ck_assert_uint_eq(r.tcp.opts.nsack, 0);
	ck_assert(!r.tcp.opts.malformed && !r.tcp.opts.truncated);
	ck_assert_uint_eq(r.tcp.len, 0);
	ck_assert_ptr_null(r.tcp.payload);
}
END_TEST

START_TEST(sack_blocks_parsed)
{
	struct pg_pkt p = {
		.dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1, .data = "z",
		.opts = "\x01\x01\x05\x12" "\x00\x00\x10\x00\x00\x00\x20\x00" "\xff\xff\xff\x00\x00\x00\x00\x10",
		.optlen = 20,
	};
	struct lp_rawpkt r;

	parse(PG_ETH, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_uint_eq(r.tcp.opts.nsack, 2);
	ck_assert_uint_eq(r.tcp.opts.sack[0].left, 0x1000);
	ck_assert_uint_eq(r.tcp.opts.sack[0].right, 0x2000);
	ck_assert_uint_eq(r.tcp.opts.sack[1].left, 0xffffff00);
	ck_assert_uint_eq(r.tcp.opts.sack[1].right, 0x10);
	ck_assert(!r.tcp.opts.malformed);
	ck_assert_mem_eq(r.tcp.payload, "z", 1);

	/* Four blocks fill 34 of the 40 option bytes. */
	{
		char o[36];

		o[0] = 1;
		o[1] = 1;
		o[2] = 5;
		o[3] = 34;
		for (int i = 0; i < 32; i++)
			o[4 + i] = (char)(i / 4 + 1);
		p.opts = o;
		p.optlen = 36;
		parse(PG_ETH, &conv4, &p, &r);
		ck_assert_int_eq(r.kind, LP_PKT_TCP);
		ck_assert_uint_eq(r.tcp.opts.nsack, 4);
		ck_assert_uint_eq(r.tcp.opts.sack[3].left, 0x07070707);
		ck_assert_uint_eq(r.tcp.opts.sack[3].right, 0x08080808);
		ck_assert(!r.tcp.opts.malformed);
	}
}
END_TEST

START_TEST(unknown_options_counted)
{
	struct pg_pkt p = {
		.dir = PG_C, .flags = PG_SYN,
		/* MPTCP-ish (30), TFO cookie (34), experimental (254), then MSS. */
		.opts = "\x1e\x04\x00\x00" "\x22\x0a\x01\x02\x03\x04\x05\x06\x07\x08" "\xfe\x02" "\x02\x04\x02\x18",
		.optlen = 20,
	};
	struct lp_rawpkt r;

	parse(PG_RAW, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_uint_eq(r.tcp.opts.unknown, 3);
	ck_assert(r.tcp.opts.has_mss);
	ck_assert_uint_eq(r.tcp.opts.mss, 536);
	ck_assert(!r.tcp.opts.malformed);
}
END_TEST

/* Bad option lengths set malformed, never read further; EOL stops the walk. */
START_TEST(malformed_options)
{
	static const struct {
		const char *o;
		uint8_t n;
		bool malformed;
		bool mss;
	} cases[] = {
		{ "\x02\x03\x05\xb4", 4, true, false },        /* MSS of length 3 */
		{ "\x02\x01\x05\xb4", 4, true, false },        /* length below 2 */
		{ "\x08\x28\x00\x00", 4, true, false },        /* length past the list */
		{ "\x03\x04\x07\x00", 4, true, false },        /* window scale of length 4 */
		{ "\x05\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12, true, false }, /* SACK 11 */
		{ "\x04\x03\x00\x00", 4, true, false },        /* SACK-permitted of length 3 */
		{ "\x01\x01\x01\x02", 4, true, false },        /* kind without its length byte */
		{ "\x00\x02\x04\x05\xb4\x00\x00\x00", 8, false, false }, /* EOL, then MSS ignored */
		{ "\x02\x04\x05\xb4\x02\x03\x00\x00", 8, true, true },   /* good MSS kept */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pg_pkt p = { .dir = PG_C, .flags = PG_SYN, .opts = cases[i].o, .optlen = cases[i].n };
		struct lp_rawpkt r;

		parse(PG_ETH, &conv4, &p, &r);
		ck_assert_msg(r.kind == LP_PKT_TCP, "case %zu", i);
		ck_assert_msg(r.tcp.opts.malformed == cases[i].malformed, "case %zu: malformed %d", i,
			      r.tcp.opts.malformed);
		ck_assert_msg(r.tcp.opts.has_mss == cases[i].mss, "case %zu: has_mss", i);
		ck_assert_msg(!r.tcp.opts.truncated, "case %zu: truncated", i);
	}
}
END_TEST

/* IPv4 header length below 5 words. */
START_TEST(bad_ipv4_ihl)
{
	for (uint8_t ihl = 1; ihl < 5; ihl++) {
		struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "data", .ihl = ihl };
		struct lp_rawpkt r;

		parse(PG_ETH, &conv4, &p, &r);
		ck_assert_int_eq(r.kind, LP_PKT_BAD);
		ck_assert_ptr_nonnull(r.why);
	}
	/* IHL 15 (60 bytes) on a 20-byte header + 24 bytes: TCP would start
	 * inside the payload and be cut short. */
	{
		struct pg_pkt p = { .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1, .data = "data", .ihl = 15 };
		struct lp_rawpkt r;

		parse(PG_ETH, &conv4, &p, &r);
		ck_assert_int_eq(r.kind, LP_PKT_BAD);
	}
	/* IP version 5, and nothing at all. */
	{
		struct pg_pkt p = { .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 };
		struct lp_rawpkt r;
		uint32_t caplen = parse(PG_RAW, &conv4, &p, &r);

		frame[0] = 0x55;
		parse_bytes(DLT_RAW, frame, caplen, &r);
		ck_assert_int_eq(r.kind, LP_PKT_BAD);
		parse_bytes(DLT_RAW, frame, 0, &r);
		ck_assert_int_eq(r.kind, LP_PKT_BAD);
	}
}
END_TEST

/* IP length fields that contradict the headers. */
START_TEST(bad_ip_lengths)
{
	struct lp_rawpkt r;
	struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "0123456789" };

	p.iplen = 19;   /* below the IPv4 header */
	parse(PG_ETH, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
	p.iplen = 39;   /* TCP segment of 19 bytes */
	parse(PG_ETH, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
	p.iplen = -1;   /* IPv6 payload length 0 */
	parse(PG_ETH, &conv6, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
	p.iplen = 19;
	parse(PG_ETH, &conv6, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
	/* An IP length shorter than the frame: the rest is not payload. */
	p.iplen = 45;
	parse(PG_ETH, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_uint_eq(r.tcp.len, 5);
	ck_assert_uint_eq(r.tcp.caplen, 5);
	p.iplen = 25;
	parse(PG_ETH, &conv6, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_uint_eq(r.tcp.len, 5);
	ck_assert_mem_eq(r.tcp.payload, "01234", 5);
	/* An IP length longer than the frame: the capture was cut. */
	p.iplen = 1040;
	parse(PG_ETH, &conv4, &p, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_uint_eq(r.tcp.len, 1000);
	ck_assert_uint_eq(r.tcp.caplen, 10);
}
END_TEST

START_TEST(bad_tcp_data_offset)
{
	for (int v6 = 0; v6 < 2; v6++) {
		for (uint8_t doff = 0; doff < 5; doff++) {
			struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "data", .doff = doff };
			struct lp_rawpkt r;
			uint32_t caplen = parse(PG_ETH, v6 ? &conv6 : &conv4, &p, &r);

			if (!doff) {
				/* pcapgen takes 0 for "computed": patch the header. */
				frame[14 + (v6 ? 40 : 20) + 12] = 0;
				parse_bytes(DLT_EN10MB, frame, caplen, &r);
			}
			ck_assert_msg(r.kind == LP_PKT_BAD, "doff %u", doff);
			ck_assert_ptr_nonnull(r.why);
		}
		/* 24 bytes of segment, data offset 7 (28 bytes) and 15 (60 bytes). */
		for (uint8_t doff = 7; doff <= 15; doff += 8) {
			struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "data", .doff = doff };
			struct lp_rawpkt r;

			parse(PG_ETH, v6 ? &conv6 : &conv4, &p, &r);
			ck_assert_msg(r.kind == LP_PKT_BAD, "doff %u", doff);
		}
		/* Data offset exactly the segment: no payload. */
		{
			struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "data", .doff = 6 };
			struct lp_rawpkt r;

			parse(PG_ETH, v6 ? &conv6 : &conv4, &p, &r);
			ck_assert_int_eq(r.kind, LP_PKT_TCP);
			ck_assert_uint_eq(r.tcp.len, 0);
			ck_assert_uint_eq(r.tcp.caplen, 0);
		}
	}
}
END_TEST

/* Cut a full frame at every length: below the TCP header it is malformed;
 * past it, the options parsed so far and the captured payload are right. */
START_TEST(cut_at_every_length)
{
	enum pg_link link = (enum pg_link)(_i / 2);
	struct pg_conv c = _i % 2 ? conv6 : conv4;
	struct pg_pkt p = { .dir = PG_C, .flags = PG_SYN, .data = "0123456789abcdef",
			    .opts = MSS_WS_SACK_TS, .optlen = 20 };
	uint8_t full[400];
	uint32_t caplen, hdr, ip;
	size_t n;

	if (c.family == AF_INET6)
		c.ip6_ext = PG_X_HBH | PG_X_DST | PG_X_RT;
	else
		c.ip4_optlen = 12;
	n = pg_build_frame(link, 30, &c, &p, full, sizeof(full), &caplen);
	ck_assert_uint_eq(caplen, n);
	ip = (uint32_t)pg_link_hlen(link) + (c.family == AF_INET6 ? 40 + 48 : 32);
	hdr = ip + 40;
	ck_assert_uint_eq(n, hdr + 16);
	for (uint32_t cl = 0; cl <= n; cl++) {
		uint8_t *copy = malloc(cl ? cl : 1);
		struct lp_rawpkt r;

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, full, cl);
		parse_bytes(pg_dlt(link), copy, cl, &r);
		if (cl < ip + 20) {
			ck_assert_msg(r.kind == LP_PKT_BAD, "%s caplen %u: kind %d", pg_link_name(link), cl, r.kind);
			ck_assert_ptr_nonnull(r.why);
		} else {
			ck_assert_msg(r.kind == LP_PKT_TCP, "%s caplen %u: %s", pg_link_name(link), cl,
				      r.why ? r.why : "");
			ck_assert_uint_eq(r.tcp.len, 16);
			ck_assert_uint_eq(r.tcp.caplen, cl > hdr ? cl - hdr : 0);
			ck_assert_msg(r.tcp.opts.truncated == (cl < hdr), "caplen %u", cl);
			ck_assert(!r.tcp.opts.malformed);
			ck_assert(r.tcp.opts.has_mss == (cl >= ip + 24));
			ck_assert(r.tcp.opts.has_wscale == (cl >= hdr));
			if (r.tcp.caplen)
				ck_assert_mem_eq(r.tcp.payload, "0123456789abcdef", r.tcp.caplen);
		}
		free(copy);
	}
}
END_TEST

/* lp_parse_ip: the same packets without a link header. */
START_TEST(parse_ip_direct)
{
	struct pg_conv c6 = conv6;
	struct pg_pkt p = { .dir = PG_C, .flags = PG_PA, .seq = 7, .ack = 9, .data = "ip only" };
	uint8_t ip[200];
	struct lp_rawpkt r;
	size_t n = pg_build_ip(&conv4, &p, ip, sizeof(ip));

	memset(&r, 0xa5, sizeof(r));
	lp_parse_ip(ip, (uint32_t)n, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_uint_eq(r.tcp.seq, 1007);
	ck_assert_mem_eq(r.tcp.payload, "ip only", 7);
	c6.ip6_ext = PG_X_HBH | PG_X_AH;
	n = pg_build_ip(&c6, &p, ip, sizeof(ip));
	lp_parse_ip(ip, (uint32_t)n, &r);
	ck_assert_int_eq(r.kind, LP_PKT_TCP);
	ck_assert_int_eq(r.tcp.family, AF_INET6);
	ck_assert_uint_eq(r.tcp.ack, 5009);
	ck_assert_mem_eq(r.tcp.payload, "ip only", 7);
	lp_parse_ip(ip, 0, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
}
END_TEST

START_TEST(unsupported_link_type)
{
	struct lp_rawpkt r;

	memset(frame, 0, 64);
	ck_assert(!lp_linktype_supported(DLT_IEEE802_11));
	ck_assert(!lp_linktype_supported(DLT_PPP));
	parse_bytes(DLT_IEEE802_11, frame, 64, &r);
	ck_assert_int_eq(r.kind, LP_PKT_BAD);
}
END_TEST

/* --- Files ------------------------------------------------------------- */

static int write_three(const char *path, bool micro)
{
	static const struct pg_pkt p[] = {
		{ .dir = PG_C, .flags = PG_SYN, .ts = 1700000000123456789ull },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1, .ts = 1700000001000000001ull },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "GET", .ts = 1700000002999999999ull },
	};
	struct pg_file *f = pg_open(path, PG_SLL2, micro);
	int rc;

	if (!f)
		return -1;
	rc = pg_put_all(f, &conv4, p, 3);
	return pg_close(f) || rc ? -1 : 0;
}

START_TEST(read_nanosecond_file)
{
	const char *path = tpath("ns.pcap");
	static const uint64_t ts[] = { 1700000000123456789ull, 1700000001000000001ull, 1700000002999999999ull };
	struct lp_capture_stats st;
	struct lp_capture *cap;
	struct lp_rawpkt r;
	char err[256] = "";

	ck_assert_int_eq(write_three(path, false), 0);
	ck_assert_int_eq(lp_capture_open(path, &cap, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 3; i++) {
		ck_assert_int_eq(lp_capture_next(cap, &r), 1);
		ck_assert_uint_eq(r.number, i + 1);
		ck_assert_uint_eq(r.ts_ns, ts[i]);
		ck_assert_int_eq(r.kind, LP_PKT_TCP);
	}
	ck_assert_mem_eq(r.tcp.payload, "GET", 3);
	ck_assert_int_eq(lp_capture_next(cap, &r), 0);
	lp_capture_stats(cap, &st);
	ck_assert_int_eq(st.linktype, DLT_LINUX_SLL2);
	ck_assert_str_eq(st.linktype_name, "LINUX_SLL2");
	ck_assert_uint_eq(st.packets, 3);
	ck_assert_uint_eq(st.tcp, 3);
	ck_assert_uint_eq(st.damaged_at, 0);
	lp_capture_close(cap);
}
END_TEST

START_TEST(read_microsecond_file)
{
	const char *path = tpath("us.pcap");
	static const uint64_t ts[] = { 1700000000123456000ull, 1700000001000000000ull, 1700000002999999000ull };
	struct lp_capture *cap;
	struct lp_rawpkt r;
	char err[256] = "";
	int fd;

	ck_assert_int_eq(write_three(path, true), 0);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lp_capture_open_fd(fd, &cap, err, sizeof(err)), 0);
	close(fd);
	for (uint32_t i = 0; i < 3; i++) {
		ck_assert_int_eq(lp_capture_next(cap, &r), 1);
		ck_assert_uint_eq(r.ts_ns, ts[i]);
	}
	ck_assert_int_eq(lp_capture_next(cap, &r), 0);
	lp_capture_close(cap);
	lp_capture_close(NULL);
}
END_TEST

START_TEST(open_errors)
{
	struct lp_capture *cap = (struct lp_capture *)&cap;
	char err[256] = "";
	const char *path = tpath("text.pcap");
	FILE *fp = fopen(path, "w");

	ck_assert_int_eq(lp_capture_open(tpath("absent.pcap"), &cap, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(cap);
	ck_assert_str_ne(err, "");

	ck_assert_ptr_nonnull(fp);
	fputs("this is not a capture, just some text that is long enough\n", fp);
	fclose(fp);
	err[0] = '\0';
	cap = (struct lp_capture *)&cap;
	ck_assert_int_lt(lp_capture_open(path, &cap, err, sizeof(err)), 0);
	ck_assert_ptr_null(cap);
	ck_assert_str_ne(err, "");

	fp = fopen(tpath("empty.pcap"), "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	err[0] = '\0';
	ck_assert_int_lt(lp_capture_open(tpath("empty.pcap"), &cap, err, sizeof(err)), 0);
	ck_assert_ptr_null(cap);
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(unsupported_link_type_file)
{
	const char *path = tpath("wifi.pcap");
	pcap_t *p = pcap_open_dead(DLT_IEEE802_11, 65535);
	pcap_dumper_t *d;
	struct lp_capture *cap;
	char err[256] = "";

	ck_assert_ptr_nonnull(p);
	d = pcap_dump_open(p, path);
	ck_assert_ptr_nonnull(d);
	pcap_dump_close(d);
	pcap_close(p);
	ck_assert_int_eq(lp_capture_open(path, &cap, err, sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_ptr_null(cap);
	ck_assert_ptr_nonnull(strstr(err, "not supported"));
}
END_TEST

Suite *capture_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("frames");
	TCase *tf = tcase_create("files");

	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, link_types_all_fields, 0, 2 * PG_NLINKS);
	tcase_add_test(tc, ethernet_padding_ignored);
	tcase_add_test(tc, bsd_loopback_af_values);
	tcase_add_test(tc, ethertype_ip_version_mismatch);
	tcase_add_test(tc, vlan_tag_stack);
	tcase_add_test(tc, ipv4_options_skipped);
	tcase_add_loop_test(tc, ipv6_extension_headers, 0, 16);
	tcase_add_test(tc, fragments_reported);
	tcase_add_test(tc, dont_fragment_is_not_fragment);
	tcase_add_test(tc, non_tcp_skipped);
	tcase_add_test(tc, syn_options_parsed);
	tcase_add_test(tc, sack_blocks_parsed);
	tcase_add_test(tc, unknown_options_counted);
	tcase_add_test(tc, malformed_options);
	tcase_add_test(tc, bad_ipv4_ihl);
	tcase_add_test(tc, bad_ip_lengths);
	tcase_add_test(tc, bad_tcp_data_offset);
	tcase_add_loop_test(tc, cut_at_every_length, 0, 2 * PG_NLINKS);
	tcase_add_test(tc, parse_ip_direct);
	tcase_add_test(tc, unsupported_link_type);
	suite_add_tcase(s, tc);

	tcase_set_timeout(tf, 20);
	tcase_add_unchecked_fixture(tf, case_setup, case_teardown);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, read_nanosecond_file);
	tcase_add_test(tf, read_microsecond_file);
	tcase_add_test(tf, open_errors);
	tcase_add_test(tf, unsupported_link_type_file);
	suite_add_tcase(s, tf);
	return s;
}

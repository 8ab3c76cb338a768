/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packet building and parsing: round trips, checksums, options, and parsing
 * of damaged or hostile packets. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"

static void seg_init(struct lp_seg *s, int family)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "198.18.0.1", s->src);
		inet_pton(AF_INET, "198.18.0.2", s->dst);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", s->src);
		inet_pton(AF_INET6, "2001:db8::2", s->dst);
	}
	s->sport = 40000;
	s->dport = 80;
	s->seq = 0xfffffff0u;
	s->ack = 0x12345678u;
	s->flags = LP_TH_ACK | LP_TH_PSH;
	s->window = 502;
}

START_TEST(test_csum_rfc1071)
{
	/* The worked example of RFC 1071, section 3. */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(lp_csum_fold(lp_csum_add(0, d, sizeof(d))), (uint16_t)~0xddf2);
	/* Odd length: the last byte is padded with zero. */
	ck_assert_uint_eq(lp_csum_fold(lp_csum_add(0, d, 3)), (uint16_t)~(0x0001 + 0xf200));
}
END_TEST

START_TEST(test_roundtrip_v4_data)
{
	uint8_t buf[2048], payload[777];
	struct lp_seg s, p;
	int n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31);
	seg_init(&s, AF_INET);
	s.opts.has_ts = true;
	s.opts.tsval = 1000;
	s.opts.tsecr = 0xdeadbeef;
	s.opts.nsack = 2;
	s.opts.sack[0].left = 10;
	s.opts.sack[0].right = 20;
	s.opts.sack[1].left = 30;
	s.opts.sack[1].right = 40;
	s.payload = payload;
	s.len = sizeof(payload);
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_int_eq(n, 20 + 20 + 12 + 20 + 777);
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), 0);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_mem_eq(p.src, s.src, 4);
	ck_assert_mem_eq(p.dst, s.dst, 4);
	ck_assert_uint_eq(p.sport, 40000);
	ck_assert_uint_eq(p.dport, 80);
	ck_assert_uint_eq(p.seq, 0xfffffff0u);
	ck_assert_uint_eq(p.ack, 0x12345678u);
	ck_assert_uint_eq(p.flags, LP_TH_ACK | LP_TH_PSH);
	ck_assert_uint_eq(p.window, 502);
	ck_assert(p.opts.has_ts);
	ck_assert_uint_eq(p.opts.tsval, 1000);
	ck_assert_uint_eq(p.opts.tsecr, 0xdeadbeef);
	ck_assert_uint_eq(p.opts.nsack, 2);
	ck_assert_uint_eq(p.opts.sack[1].right, 40);
	ck_assert_uint_eq(p.len, 777);
	ck_assert_mem_eq(p.payload, payload, 777);
	/* Trailing link-layer padding is ignored (IPv4 total length rules). */
	buf[n] = 0xee;
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n + 1, &p), 0);
	ck_assert_uint_eq(p.len, 777);
}
END_TEST

START_TEST(test_roundtrip_v6_syn)
{
	uint8_t buf[256];
	struct lp_seg s, p;
	int n;

	seg_init(&s, AF_INET6);
	s.flags = LP_TH_SYN;
	s.opts.has_mss = true;
	s.opts.mss = 1440;
	s.opts.has_wscale = true;
	s.opts.wscale = 7;
	s.opts.sack_ok = true;
	s.opts.has_ts = true;
	s.opts.tsval = 77;
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_int_eq(n, 40 + 20 + 20);
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_mem_eq(p.src, s.src, 16);
	ck_assert_uint_eq(p.flags, LP_TH_SYN);
	ck_assert(p.opts.has_mss && p.opts.mss == 1440);
	ck_assert(p.opts.has_wscale && p.opts.wscale == 7);
	ck_assert(p.opts.sack_ok);
	ck_assert(p.opts.has_ts && p.opts.tsval == 77 && p.opts.tsecr == 0);
	ck_assert(!p.opts.malformed && !p.opts.truncated && p.opts.unknown == 0);

	/* Without SACK and TS the option list stays 4-byte aligned. */
	s.opts.sack_ok = false;
	s.opts.has_ts = false;
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_int_eq(n, 40 + 20 + 8);
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), 0);
	ck_assert(p.opts.has_wscale && !p.opts.has_ts && !p.opts.sack_ok);
}
END_TEST

START_TEST(test_build_limits)
{
	uint8_t buf[64];
	struct lp_seg s;

	seg_init(&s, AF_INET);
	s.payload = buf;
	s.len = 40;
	ck_assert_int_eq(lp_pkt_build(buf, 59, &s), -ENOBUFS);
	s.family = 99;
	ck_assert_int_eq(lp_pkt_build(buf, sizeof(buf), &s), -EINVAL);
}
END_TEST

START_TEST(test_bad_checksums)
{
	uint8_t buf[256], pl[10] = { 1, 2, 3 };
	struct lp_seg s, p;
	int n;

	seg_init(&s, AF_INET);
	s.payload = pl;
	s.len = sizeof(pl);
	n = lp_pkt_build(buf, sizeof(buf), &s);
	buf[n - 1] ^= 0x40;
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EBADMSG);
	buf[n - 1] ^= 0x40;
	buf[8] = 63; /* TTL: IP header checksum now wrong */
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EBADMSG);

	seg_init(&s, AF_INET6);
	n = lp_pkt_build(buf, sizeof(buf), &s);
	buf[45] ^= 1; /* TCP sequence number */
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EBADMSG);
}
END_TEST

/* A received segment cut after its headers (LP_RX_HEADERS) parses only
 * when the kernel vouched for its checksum: no payload, the wire's length.
 * A header cut short never parses; LP_RX_CSUM_OK alone skips the check. */
START_TEST(test_parse_cut)
{
	int family = _i ? AF_INET6 : AF_INET;
	uint8_t buf[2048], payload[1000];
	const unsigned both = LP_RX_HEADERS | LP_RX_CSUM_OK;
	struct lp_seg s, p;
	size_t hl;
	int n;

	memset(payload, 0x5a, sizeof(payload));
	seg_init(&s, family);
	s.opts.has_ts = true;
	s.opts.tsval = 7;
	s.payload = payload;
	s.len = sizeof(payload);
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_int_gt(n, 0);
	hl = (size_t)n - sizeof(payload);
	ck_assert_int_eq(lp_pkt_parse_rx(buf, hl + 10, 0, &p), -EINVAL);
	ck_assert_int_eq(lp_pkt_parse_rx(buf, hl + 10, LP_RX_HEADERS, &p), -EBADMSG);
	ck_assert_int_eq(lp_pkt_parse_rx(buf, hl + 10, both, &p), 0);
	ck_assert_ptr_null(p.payload);
	ck_assert_uint_eq(p.len, sizeof(payload));
	ck_assert_uint_eq(p.seq, s.seq);
	ck_assert_uint_eq(p.ack, s.ack);
	ck_assert(p.opts.has_ts);
	ck_assert_uint_eq(p.opts.tsval, 7);
	ck_assert_int_eq(lp_pkt_parse_rx(buf, hl, both, &p), 0);
	ck_assert_uint_eq(p.len, sizeof(payload));
	/* The timestamp option cut off: the header is not all there. */
	ck_assert_int_eq(lp_pkt_parse_rx(buf, hl - 4, both, &p), -EINVAL);
	/* Whole, with the flag: the payload is there. */
	ck_assert_int_eq(lp_pkt_parse_rx(buf, (size_t)n, both, &p), 0);
	ck_assert_ptr_eq(p.payload, buf + hl);
	/* A wrong checksum: found unless the kernel checked it. */
	buf[n - 1] ^= 0xff;
	ck_assert_int_eq(lp_pkt_parse_rx(buf, (size_t)n, 0, &p), -EBADMSG);
	ck_assert_int_eq(lp_pkt_parse_rx(buf, (size_t)n, LP_RX_CSUM_OK, &p), 0);
}
END_TEST

START_TEST(test_malformed_headers)
{
	uint8_t buf[256], pl[8] = { 0 };
	struct lp_seg s, p;
	int n;

	seg_init(&s, AF_INET);
	s.payload = pl;
	s.len = sizeof(pl);
	n = lp_pkt_build(buf, sizeof(buf), &s);
	/* Every truncation of a valid packet is rejected, never read past. */
	for (int i = 0; i < n; i++)
		ck_assert_int_lt(lp_pkt_parse(buf, (size_t)i, &p), 0);
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), 0);

	buf[0] = 0x44; /* IHL 4 < 5 */
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EINVAL);
	buf[0] = 0x45;
	buf[32] = 0x40; /* TCP data offset 4 < 5 */
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EINVAL);
	buf[32] = 0xf0; /* data offset 60 > segment */
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EINVAL);
	buf[32] = 0x50;
	buf[6] = 0x20; /* more fragments */
	buf[10] = buf[11] = 0;
	{
		uint16_t c = lp_csum_fold(lp_csum_add(0, buf, 20));

		buf[10] = (uint8_t)(c >> 8);
		buf[11] = (uint8_t)c;
	}
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EPROTONOSUPPORT);
	buf[0] = 0x55;
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EINVAL);

	seg_init(&s, AF_INET6);
	n = lp_pkt_build(buf, sizeof(buf), &s);
	buf[5] = 200; /* payload length past the packet */
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EINVAL);
	buf[5] = 20;
	buf[6] = 17; /* UDP */
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EINVAL);
	buf[6] = 0; /* hop-by-hop header claiming more than there is */
	buf[41] = 9;
	ck_assert_int_eq(lp_pkt_parse(buf, (size_t)n, &p), -EINVAL);
}
END_TEST

START_TEST(test_options_hostile)
{
	struct lp_tcpopts o;
	static const uint8_t zero_len[] = { 2, 0, 5, 5 };
	static const uint8_t past_end[] = { 1, 8, 10, 0, 0 };
	static const uint8_t lone_kind[] = { 1, 1, 1, 3 };
	static const uint8_t bad_mss[] = { 2, 3, 5, 1, 1, 1 };
	static const uint8_t sack5[] = { 5, 42, 0 };
	static const uint8_t mixed[] = { 99, 4, 0, 0, 3, 3, 9, 0, 2, 4, 1, 0 };

	lp_tcpopts_parse(zero_len, sizeof(zero_len), &o);
	ck_assert(o.malformed);
	lp_tcpopts_parse(past_end, sizeof(past_end), &o);
	ck_assert(o.truncated && !o.has_ts);
	lp_tcpopts_parse(lone_kind, sizeof(lone_kind), &o);
	ck_assert(o.truncated);
	lp_tcpopts_parse(bad_mss, sizeof(bad_mss), &o);
	ck_assert(o.malformed && !o.has_mss);
	lp_tcpopts_parse(sack5, sizeof(sack5), &o);
	ck_assert(o.truncated && o.nsack == 0);
	lp_tcpopts_parse(mixed, sizeof(mixed), &o);
	ck_assert_uint_eq(o.unknown, 1);
	ck_assert(o.has_wscale && o.wscale == 9);
	ck_assert(!o.has_mss);
}
END_TEST

/* Random bytes and randomly damaged valid packets never crash the parser
 * (run under ASan by make asan). */
START_TEST(test_parse_random)
{
	uint8_t buf[1600], good[1600], pl[300];
	struct lp_rng r;
	struct lp_seg s, p;
	int n;

	lp_rng_seed(&r, 7);
	memset(pl, 0x5a, sizeof(pl));
	seg_init(&s, AF_INET6);
	s.opts.has_ts = true;
	s.payload = pl;
	s.len = sizeof(pl);
	n = lp_pkt_build(good, sizeof(good), &s);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)lp_rng_below(&r, (uint64_t)n + 1);

		memcpy(buf, good, (size_t)n);
		for (int k = (int)lp_rng_below(&r, 4); k >= 0; k--)
			buf[lp_rng_below(&r, (uint64_t)n)] = (uint8_t)lp_rng_next(&r);
		if (i % 3 == 0)
			buf[0] = (uint8_t)((i & 1 ? 0x40 : 0x60) | (buf[0] & 0x0f));
		lp_pkt_parse(buf, len, &p);
	}
}
END_TEST

START_TEST(test_rng)
{
	struct lp_rng a, b;
	unsigned hist[10] = { 0 };

	lp_rng_seed(&a, 42);
	lp_rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_eq(lp_rng_next(&a), lp_rng_next(&b));
	lp_rng_seed(&b, 43);
	ck_assert_uint_ne(lp_rng_next(&a), lp_rng_next(&b));
	for (int i = 0; i < 100000; i++)
		hist[lp_rng_below(&a, 10)]++;
	for (int i = 0; i < 10; i++)
		ck_assert(hist[i] > 9500 && hist[i] < 10500);
	ck_assert(!lp_rng_chance_ppm(&a, 0));
	ck_assert(lp_rng_chance_ppm(&a, 1000000));
}
END_TEST

Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc = tcase_create("pkt");

	tcase_add_test(tc, test_csum_rfc1071);
	tcase_add_test(tc, test_roundtrip_v4_data);
	tcase_add_test(tc, test_roundtrip_v6_syn);
	tcase_add_test(tc, test_build_limits);
	tcase_add_test(tc, test_bad_checksums);
	tcase_add_loop_test(tc, test_parse_cut, 0, 2);
	tcase_add_test(tc, test_malformed_headers);
	tcase_add_test(tc, test_options_hostile);
	tcase_add_test(tc, test_parse_random);
	tcase_add_test(tc, test_rng);
	suite_add_tcase(s, tc);
	return s;
}

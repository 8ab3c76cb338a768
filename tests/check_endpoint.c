/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Endpoints as written on a command line (endpoint.c): the forms, IPv6
 * zones, the bare IPv6 address that reads as ADDR:PORT, flows as --list
 * prints them, the kinds of address no TCP peer has; and packets as -vv
 * prints them (trace.c).
 */
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/trace.h"

START_TEST(test_ep_forms)
{
	struct lp_ep_arg a;

	ck_assert_int_eq(lp_ep_parse("198.18.0.2", &a), 0);
	ck_assert_int_eq(a.ep.family, AF_INET);
	ck_assert_uint_eq(a.ep.port, 0);
	ck_assert_int_eq(lp_ep_parse("198.18.0.2:8000", &a), 0);
	ck_assert_uint_eq(a.ep.port, 8000);
	ck_assert(!a.maybe_port);
	ck_assert_int_eq(lp_ep_parse("[2001:db8::2]:8000", &a), 0);
	ck_assert_int_eq(a.ep.family, AF_INET6);
	ck_assert_uint_eq(a.ep.port, 8000);
	ck_assert(!a.maybe_port);
	ck_assert_int_eq(lp_ep_parse("[2001:db8::2]", &a), 0);
	ck_assert_uint_eq(a.ep.port, 0);
	ck_assert_int_eq(lp_ep_parse("2001:db8::2", &a), 0);
	ck_assert_uint_eq(a.ep.port, 0);
	ck_assert(!a.maybe_port);
	/* The last group could be a port: said, not guessed. */
	ck_assert_int_eq(lp_ep_parse("2001:db8::2:8000", &a), 0);
	ck_assert(a.maybe_port);
	ck_assert_str_eq(a.alt_addr, "2001:db8::2");
	ck_assert_uint_eq(a.alt_port, 8000);
	ck_assert_int_eq(lp_ep_parse("2001:db8::80", &a), 0);
	ck_assert(!a.maybe_port);
	ck_assert_int_eq(lp_ep_parse("2001:db8::abcd", &a), 0);
	ck_assert(!a.maybe_port);
	/* What is not an endpoint. */
	ck_assert_int_eq(lp_ep_parse("", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("host.example", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("198.18.0.2:0", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("198.18.0.2:65536", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("198.18.0.2:", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("[198.18.0.2]:80x", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("[2001:db8::2", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("[2001:db8::2]x", &a), -EINVAL);
}
END_TEST

START_TEST(test_ep_zones)
{
	struct lp_ep_arg a;
	char lo[IF_NAMESIZE];

	ck_assert_int_eq(lp_ep_parse("fe80::1%eth0", &a), 0);
	ck_assert_str_eq(a.zone, "eth0");
	ck_assert_uint_eq(a.ep.port, 0);
	ck_assert(lp_addr_link_local(&a.ep));
	ck_assert(!a.maybe_port);
	ck_assert_int_eq(lp_ep_parse("[fe80::1%eth0]:8000", &a), 0);
	ck_assert_str_eq(a.zone, "eth0");
	ck_assert_uint_eq(a.ep.port, 8000);
	/* A number is an interface index: 1 is the loopback device here. */
	ck_assert_ptr_nonnull(if_indextoname(1, lo));
	ck_assert_int_eq(lp_ep_parse("[fe80::1%1]:80", &a), 0);
	ck_assert_str_eq(a.zone, lo);
	ck_assert_int_eq(lp_ep_parse("fe80::1%4000000000", &a), -ENODEV);
	ck_assert_int_eq(lp_ep_parse("fe80::1%", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("198.18.0.2%eth0", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("fe80::1%a-name-far-too-long-for-linux", &a), -EINVAL);
	ck_assert_int_eq(lp_ep_parse("2001:db8::2", &a), 0);
	ck_assert(!lp_addr_link_local(&a.ep));
	ck_assert_str_eq(a.zone, "");
}
END_TEST

START_TEST(test_flow_sel_normalize)
{
	char out[64];

	ck_assert_int_eq(lp_flow_sel_normalize("198.18.0.1:40000 -> 198.18.0.2:80", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "198.18.0.1:40000-198.18.0.2:80");
	ck_assert_int_eq(lp_flow_sel_normalize("[2001:db8::1]:4->[2001:db8::2]:80", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "[2001:db8::1]:4-[2001:db8::2]:80");
	ck_assert_int_eq(lp_flow_sel_normalize("1-3,5", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1-3,5");
	ck_assert_int_eq(lp_flow_sel_normalize("198.18.0.1:40000 -> 198.18.0.2:80", out, 8), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_addr_kinds)
{
	static const struct {
		const char *addr;
		enum lp_addr_kind kind;
	} v[] = {
		{ "198.18.0.2", LP_ADDR_UNICAST },    { "0.0.0.0", LP_ADDR_UNSPECIFIED },
		{ "224.0.0.1", LP_ADDR_MULTICAST },   { "239.255.255.250", LP_ADDR_MULTICAST },
		{ "255.255.255.255", LP_ADDR_BROADCAST }, { "2001:db8::2", LP_ADDR_UNICAST },
		{ "::", LP_ADDR_UNSPECIFIED },        { "ff02::1", LP_ADDR_MULTICAST },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct lp_ep_arg a;

		ck_assert_int_eq(lp_ep_parse(v[i].addr, &a), 0);
		ck_assert_msg(lp_addr_kind(&a.ep) == v[i].kind, "%s", v[i].addr);
	}
	ck_assert_ptr_null(lp_addr_kind_str(LP_ADDR_UNICAST));
	ck_assert_str_eq(lp_addr_kind_str(LP_ADDR_BROADCAST), "broadcast");
}
END_TEST

START_TEST(test_pkt_str)
{
	struct lp_seg s;
	uint8_t buf[256];
	char line[256];
	int n;

	memset(&s, 0, sizeof(s));
	s.family = AF_INET;
	memcpy(s.src, (uint8_t[]){ 198, 18, 0, 1 }, 4);
	memcpy(s.dst, (uint8_t[]){ 198, 18, 0, 2 }, 4);
	s.sport = 40000;
	s.dport = 80;
	s.seq = 1000;
	s.flags = LP_TH_SYN;
	s.window = 64240;
	s.opts.has_mss = true;
	s.opts.mss = 1460;
	s.opts.sack_ok = true;
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(lp_pkt_str(buf, (size_t)n, line, sizeof(line)),
			 "198.18.0.1:40000 > 198.18.0.2:80 [S] seq 1000 win 64240 len 0 <mss 1460,sackOK>");
	s.flags = LP_TH_ACK | LP_TH_PSH;
	s.ack = 7;
	s.payload = (const uint8_t *)"GET\n";
	s.len = 4;
	memset(&s.opts, 0, sizeof(s.opts));
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_str_eq(lp_pkt_str(buf, (size_t)n, line, sizeof(line)),
			 "198.18.0.1:40000 > 198.18.0.2:80 [P.] seq 1000 ack 7 win 64240 len 4");
	buf[n - 1] ^= 0xff;   /* a damaged payload: the checksum fails */
	ck_assert_str_eq(lp_pkt_str(buf, (size_t)n, line, sizeof(line)), "IPv4 packet of 44 bytes (bad checksum)");
	/* Never past the buffer. */
	lp_pkt_str(buf, (size_t)n, line, 10);
	ck_assert_uint_eq(strlen(line), 9);
}
END_TEST

Suite *endpoint_suite(void)
{
	Suite *s = suite_create("endpoint");
	TCase *tc = tcase_create("endpoint");

	tcase_add_test(tc, test_ep_forms);
	tcase_add_test(tc, test_ep_zones);
	tcase_add_test(tc, test_flow_sel_normalize);
	tcase_add_test(tc, test_addr_kinds);
	tcase_add_test(tc, test_pkt_str);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target over the rtnetlink reply parsers. The input, copied into
 * an aligned buffer as a netlink socket would fill it, is given to each
 * parser as one receive buffer; the address-dump parser also gets it split in
 * two buffers at a point chosen by the first byte, whose low bits also pick
 * the address family and whether sequence number and port id are checked. Each answer is checked
 * against the parsers' contract. The ack parser (the reply to a change) and
 * the first address of an interface are fuzzed the same way.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sequence number and port id the replies must carry; zero accepts any,
 * which lets random inputs reach the message callbacks. */
static uint32_t want_seq, want_pid;

static void require(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_netlink: contract broken: %s\n", what);
	abort();
}

/* 0, LP_NL_MORE, or a negative errno with a message. */
static void check_rc(int rc, const char *err, const char *who)
{
	require(rc == 0 || rc == LP_NL_MORE || (rc < 0 && rc >= -4095), who);
	if (rc < 0)
		require(err[0] != '\0', "an error without a message");
	require(memchr(err, '\0', 128) != NULL, "err not terminated");
}

static void fuzz_one(const void *buf, size_t len, int family)
{
	static const uint8_t v4[16] = { 198, 18, 0, 9 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	const uint8_t *addr = family == AF_INET ? v4 : v6;
	struct lp_nl_addr_scan scan;
	struct lp_ifinfo li;
	struct lp_route rt;
	uint8_t mac[6];
	char err[128];
	int rc;

	err[0] = '\0';
	rc = lp_nl_parse_link(buf, len, want_seq, want_pid, &li, err, sizeof(err));
	check_rc(rc, err, "link: bad return code");
	if (rc == 0) {
		require(li.ifindex > 0, "link without an index");
		require(memchr(li.name, '\0', sizeof(li.name)) != NULL && li.name[0], "link name");
	}

	err[0] = '\0';
	rc = lp_nl_parse_route(buf, len, want_seq, want_pid, family, addr, &rt, err, sizeof(err));
	check_rc(rc, err, "route: bad return code");
	if (rc == 0)
		require(rt.ifindex > 0 && rt.family == family, "route fields");

	err[0] = '\0';
	rc = lp_nl_parse_neigh(buf, len, want_seq, want_pid, 1, family, addr, mac, err, sizeof(err));
	check_rc(rc, err, "neigh: bad return code");

	err[0] = '\0';
	memset(&scan, 0, sizeof(scan));
	scan.family = family;
	scan.on_ifindex = 1;
	memcpy(scan.addr, addr, 16);
	rc = lp_nl_parse_addr(buf, len, want_seq, want_pid, &scan, err, sizeof(err));
	check_rc(rc, err, "addr: bad return code");
	if (scan.found)
		require(scan.ifindex > 0, "an address found on no interface");
	if (scan.have_first)
		require(scan.first_plen <= (family == AF_INET ? 32u : 128u), "a prefix longer than the address");

	err[0] = '\0';
	rc = lp_nl_parse_ack(buf, len, want_seq, want_pid, err, sizeof(err));
	check_rc(rc, err, "ack: bad return code");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_nl_addr_scan scan;
	uint32_t *buf;
	size_t split;
	char err[128];
	int rc;

	if (!size)
		return 0;
	/* Netlink buffers are 4-byte aligned. */
	buf = malloc(size + 4);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	want_seq = data[0] & 2 ? 4242 : 0;
	want_pid = data[0] & 2 ? 7777 : 0;
	fuzz_one(buf, size - 1, data[0] & 1 ? AF_INET6 : AF_INET);

	/* A dump in two buffers. */
	split = size > 1 ? (size_t)(data[0] >> 2) * 4 % (size - 1) : 0;
	memset(&scan, 0, sizeof(scan));
	scan.family = AF_INET;
	scan.addr[0] = 198;
	scan.addr[1] = 18;
	err[0] = '\0';
	rc = lp_nl_parse_addr(buf, split, want_seq, want_pid, &scan, err, sizeof(err));
	check_rc(rc, err, "addr part 1: bad return code");
	if (rc == LP_NL_MORE) {
		memmove(buf, (const uint8_t *)buf + split, size - 1 - split);
		rc = lp_nl_parse_addr(buf, size - 1 - split, want_seq, want_pid, &scan, err, sizeof(err));
		check_rc(rc, err, "addr part 2: bad return code");
	}
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Responder sessions: the session table, the port-to-flow chooser, and the
 * emulated host's answers (reset for a closed port, echo reply). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/flowpick.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/session.h"

static struct lp_endpoint ep(int family, const char *addr, uint16_t port)
{
	struct lp_endpoint e;

	memset(&e, 0, sizeof(e));
	e.family = family;
	inet_pton(family, addr, e.addr);
	e.port = port;
	return e;
}

START_TEST(test_table_basic)
{
	struct lp_sess_table *t;
	struct lp_endpoint a = ep(AF_INET, "198.18.0.1", 40000), b = ep(AF_INET, "198.18.0.1", 40001);
	struct lp_endpoint c = ep(AF_INET6, "2001:db8::1", 40000);
	int va, vb, vc;

	ck_assert_int_eq(lp_sess_table_new(0, 1, &t), -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(lp_sess_table_new(2, 42, &t), 0);
	ck_assert_int_eq(lp_sess_table_add(t, &a, &va), 0);
	ck_assert_int_eq(lp_sess_table_add(t, &a, &vb), -EEXIST);
	ck_assert_int_eq(lp_sess_table_add(t, &b, &vb), 0);
	ck_assert_int_eq(lp_sess_table_add(t, &c, &vc), -ENOSPC);
	ck_assert_uint_eq(lp_sess_table_count(t), 2);
	ck_assert_ptr_eq(lp_sess_table_get(t, &a), &va);
	ck_assert_ptr_eq(lp_sess_table_get(t, &b), &vb);
	ck_assert_ptr_null(lp_sess_table_get(t, &c));
	ck_assert_int_eq(lp_sess_table_del(t, &a), 0);
	ck_assert_int_eq(lp_sess_table_del(t, &a), -ENOENT);
	ck_assert_ptr_null(lp_sess_table_get(t, &a));
	ck_assert_int_eq(lp_sess_table_add(t, &c, &vc), 0);
	ck_assert_ptr_eq(lp_sess_table_get(t, &c), &vc);
	ck_assert_uint_eq(lp_sess_table_count(t), 2);
	lp_sess_table_free(t);
	lp_sess_table_free(NULL);
}
END_TEST

/* Many entries in a small bucket array, deletions during a walk. */
START_TEST(test_table_many)
{
	enum { N = 1000 };
	static int vals[N];
	struct lp_sess_table *t;
	size_t pos = 0, seen = 0;
	void *v;

	ck_assert_int_eq(lp_sess_table_new(N, 7, &t), 0);
	for (int i = 0; i < N; i++) {
		struct lp_endpoint k = ep(AF_INET, "198.18.0.1", (uint16_t)(1000 + i));

		vals[i] = i;
		ck_assert_int_eq(lp_sess_table_add(t, &k, &vals[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		struct lp_endpoint k = ep(AF_INET, "198.18.0.1", (uint16_t)(1000 + i));

		ck_assert_ptr_eq(lp_sess_table_get(t, &k), &vals[i]);
	}
	while ((v = lp_sess_table_next(t, &pos))) {
		int i = *(int *)v;
		struct lp_endpoint k = ep(AF_INET, "198.18.0.1", (uint16_t)(1000 + i));

		seen++;
		if (i % 2)
			ck_assert_int_eq(lp_sess_table_del(t, &k), 0);
	}
	ck_assert_uint_eq(seen, N);
	ck_assert_uint_eq(lp_sess_table_count(t), N / 2);
	for (int i = 0; i < N; i++) {
		struct lp_endpoint k = ep(AF_INET, "198.18.0.1", (uint16_t)(1000 + i));

		if (i % 2)
			ck_assert_ptr_null(lp_sess_table_get(t, &k));
		else
			ck_assert_ptr_eq(lp_sess_table_get(t, &k), &vals[i]);
	}
	lp_sess_table_free(t);
}
END_TEST

/* Flows 1..6 on ports 110, 25, 110, 80, 110, 25 (capture order). */
static void pick_flows(struct lp_flow *fl, const struct lp_flow **sel)
{
	static const uint16_t ports[6] = { 110, 25, 110, 80, 110, 25 };

	memset(fl, 0, 6 * sizeof(*fl));
	for (int i = 0; i < 6; i++) {
		fl[i].id = (unsigned)i + 1;
		fl[i].server = ep(AF_INET, "198.18.0.2", ports[i]);
		sel[i] = &fl[i];
	}
}

/* The k-th session on a port gets the k-th flow of that port, round robin;
 * ports keep their own turns; an unserved port gets nothing. */
START_TEST(test_flowpick_round_robin)
{
	struct lp_flow fl[6];
	const struct lp_flow *sel[6];
	struct lp_flowpick *p;
	static const unsigned want110[] = { 1, 3, 5, 1, 3, 5, 1 };

	pick_flows(fl, sel);
	ck_assert_int_eq(lp_flowpick_new(sel, 6, 0, &p), 0);
	ck_assert_uint_eq(lp_flowpick_nports(p), 3);
	ck_assert_uint_eq(lp_flowpick_port(p, 0), 25);
	ck_assert_uint_eq(lp_flowpick_port(p, 1), 80);
	ck_assert_uint_eq(lp_flowpick_port(p, 2), 110);
	ck_assert_uint_eq(lp_flowpick_port(p, 3), 0);
	ck_assert_uint_eq(lp_flowpick_count(p, 110), 3);
	ck_assert_uint_eq(lp_flowpick_count(p, 25), 2);
	ck_assert_uint_eq(lp_flowpick_count(p, 443), 0);
	ck_assert(lp_flowpick_serves(p, 80));
	ck_assert(!lp_flowpick_serves(p, 81));
	ck_assert_ptr_null(lp_flowpick_next(p, 81));
	for (size_t k = 0; k < sizeof(want110) / sizeof(want110[0]); k++) {
		ck_assert_uint_eq(lp_flowpick_next(p, 110)->id, want110[k]);
		if (k == 1) {
			ck_assert_uint_eq(lp_flowpick_next(p, 25)->id, 2);
			ck_assert_uint_eq(lp_flowpick_next(p, 80)->id, 4);
			ck_assert_uint_eq(lp_flowpick_next(p, 25)->id, 6);
			ck_assert_uint_eq(lp_flowpick_next(p, 25)->id, 2);
			ck_assert_uint_eq(lp_flowpick_next(p, 80)->id, 4);
		}
	}
	lp_flowpick_free(p);
	lp_flowpick_free(NULL);
}
END_TEST

/* One port for every flow (--port): one group in capture order. */
START_TEST(test_flowpick_one_port)
{
	struct lp_flow fl[6];
	const struct lp_flow *sel[6];
	struct lp_flowpick *p;

	pick_flows(fl, sel);
	ck_assert_int_eq(lp_flowpick_new(sel, 6, 8110, &p), 0);
	ck_assert_uint_eq(lp_flowpick_nports(p), 1);
	ck_assert(!lp_flowpick_serves(p, 110));
	for (unsigned k = 0; k < 13; k++)
		ck_assert_uint_eq(lp_flowpick_next(p, 8110)->id, k % 6 + 1);
	lp_flowpick_free(p);
}
END_TEST

START_TEST(test_flowpick_bad)
{
	struct lp_flow fl[6];
	const struct lp_flow *sel[6];
	struct lp_flowpick *p = (struct lp_flowpick *)1;

	pick_flows(fl, sel);
	ck_assert_int_eq(lp_flowpick_new(sel, 0, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(lp_flowpick_new(NULL, 3, 0, &p), -EINVAL);
	/* A flow without a server port needs one given. */
	fl[3].server.port = 0;
	ck_assert_int_eq(lp_flowpick_new(sel, 6, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(lp_flowpick_new(sel, 6, 9, &p), 0);
	ck_assert_uint_eq(lp_flowpick_next(p, 9)->id, 1);
	lp_flowpick_free(p);
}
END_TEST

/* Many flows on many ports: every port's turn covers its flows in order. */
START_TEST(test_flowpick_many)
{
	enum { N = 10000, PORTS = 37 };
	static struct lp_flow fl[N];
	static const struct lp_flow *sel[N];
	struct lp_flowpick *p;

	for (unsigned i = 0; i < N; i++) {
		memset(&fl[i], 0, sizeof(fl[i]));
		fl[i].id = i + 1;
		fl[i].server = ep(AF_INET, "198.18.0.2", (uint16_t)(1000 + (i * 7) % PORTS));
		sel[i] = &fl[i];
	}
	ck_assert_int_eq(lp_flowpick_new(sel, N, 0, &p), 0);
	ck_assert_uint_eq(lp_flowpick_nports(p), PORTS);
	for (uint16_t port = 1000; port < 1000 + PORTS; port++) {
		size_t n = lp_flowpick_count(p, port);
		unsigned prev = 0, first = 0;

		ck_assert_uint_gt(n, 0);
		for (size_t k = 0; k < n; k++) {
			const struct lp_flow *f = lp_flowpick_next(p, port);

			ck_assert_uint_eq(f->server.port, port);
			ck_assert_uint_gt(f->id, prev);
			if (!k)
				first = f->id;
			prev = f->id;
		}
		/* Wrapped around: the port's first flow again. */
		ck_assert_uint_eq(lp_flowpick_next(p, port)->id, first);
	}
	lp_flowpick_free(p);
}
END_TEST

static int seg_pkt(int family, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint8_t *buf,
		   size_t cap)
{
	static const uint8_t data[100];
	struct lp_seg s;

	memset(&s, 0, sizeof(s));
	s.family = family;
	inet_pton(family, family == AF_INET ? "198.18.0.1" : "2001:db8::1", s.src);
	inet_pton(family, family == AF_INET ? "198.18.0.3" : "2001:db8::3", s.dst);
	s.sport = 40000;
	s.dport = 81;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.window = 1000;
	s.payload = data;
	s.len = len;
	return lp_pkt_build(buf, cap, &s);
}

START_TEST(test_rst)
{
	int fams[] = { AF_INET, AF_INET6 };

	for (int f = 0; f < 2; f++) {
		uint8_t in[256], out[256];
		struct lp_seg r;
		int n = seg_pkt(fams[f], LP_TH_SYN, 1000, 0, 0, in, sizeof(in));
		int m = lp_host_rst(in, (size_t)n, out, sizeof(out));

		/* A SYN: RST+ACK of the SYN, seq 0, back to the sender. */
		ck_assert_int_gt(m, 0);
		ck_assert_int_eq(lp_pkt_parse(out, (size_t)m, &r), 0);
		ck_assert_uint_eq(r.flags, LP_TH_RST | LP_TH_ACK);
		ck_assert_uint_eq(r.seq, 0);
		ck_assert_uint_eq(r.ack, 1001);
		ck_assert_uint_eq(r.sport, 81);
		ck_assert_uint_eq(r.dport, 40000);
		ck_assert_int_eq(memcmp(r.dst, fams[f] == AF_INET ? in + 12 : in + 8, fams[f] == AF_INET ? 4 : 16), 0);
		/* Data with ACK: RST at the acknowledged sequence number. */
		n = seg_pkt(fams[f], LP_TH_ACK | LP_TH_PSH, 5000, 777, 10, in, sizeof(in));
		m = lp_host_rst(in, (size_t)n, out, sizeof(out));
		ck_assert_int_eq(lp_pkt_parse(out, (size_t)m, &r), 0);
		ck_assert_uint_eq(r.flags, LP_TH_RST);
		ck_assert_uint_eq(r.seq, 777);
		/* FIN without ACK: its sequence space counts. */
		n = seg_pkt(fams[f], LP_TH_FIN, 5000, 0, 10, in, sizeof(in));
		m = lp_host_rst(in, (size_t)n, out, sizeof(out));
		ck_assert_int_eq(lp_pkt_parse(out, (size_t)m, &r), 0);
		ck_assert_uint_eq(r.ack, 5011);
		/* Never a reset for a reset; nothing for a damaged segment. */
		n = seg_pkt(fams[f], LP_TH_RST, 5000, 0, 0, in, sizeof(in));
		ck_assert_int_eq(lp_host_rst(in, (size_t)n, out, sizeof(out)), 0);
		n = seg_pkt(fams[f], LP_TH_ACK, 5000, 1, 10, in, sizeof(in));
		in[n - 1] ^= 0xff;
		ck_assert_int_eq(lp_host_rst(in, (size_t)n, out, sizeof(out)), -EINVAL);
		ck_assert_int_eq(lp_host_rst(in, 10, out, sizeof(out)), -EINVAL);
		/* Too small a buffer. */
		n = seg_pkt(fams[f], LP_TH_SYN, 1000, 0, 0, in, sizeof(in));
		ck_assert_int_eq(lp_host_rst(in, (size_t)n, out, 20), -ENOBUFS);
	}
}
END_TEST

START_TEST(test_echo4)
{
	/* 198.18.0.1 -> 198.18.0.3, echo request id 0x1234 seq 1, 5 data bytes. */
	uint8_t req[33] = { 0x45, 0, 0, 33, 0, 1, 0x40, 0, 64, 1, 0, 0, 198, 18, 0, 1, 198, 18, 0, 3,
			    8, 0, 0, 0, 0x12, 0x34, 0, 1, 'h', 'e', 'l', 'l', 'o' };
	uint8_t out[64];
	uint16_t c;
	int n;

	c = lp_csum_fold(lp_csum_add(0, req, 20));
	req[10] = (uint8_t)(c >> 8);
	req[11] = (uint8_t)c;
	c = lp_csum_fold(lp_csum_add(0, req + 20, 13));
	req[22] = (uint8_t)(c >> 8);
	req[23] = (uint8_t)c;
	n = lp_host_echo_reply(req, sizeof(req), out, sizeof(out));
	ck_assert_int_eq(n, 33);
	ck_assert_uint_eq(lp_csum_fold(lp_csum_add(0, out, 20)), 0);
	ck_assert_uint_eq(lp_csum_fold(lp_csum_add(0, out + 20, 13)), 0);
	ck_assert_int_eq(memcmp(out + 12, req + 16, 4), 0);
	ck_assert_int_eq(memcmp(out + 16, req + 12, 4), 0);
	ck_assert_uint_eq(out[20], 0);
	ck_assert_int_eq(memcmp(out + 24, req + 24, 9), 0);
	ck_assert_int_eq(lp_host_echo_reply(req, sizeof(req), out, 30), -ENOBUFS);
	/* Truncated, a reply, a bad checksum: no answer. */
	ck_assert_int_eq(lp_host_echo_reply(req, 30, out, sizeof(out)), 0);
	ck_assert_int_eq(lp_host_echo_reply(out, 33, out + 33, 31), 0);
	req[30] ^= 1;
	ck_assert_int_eq(lp_host_echo_reply(req, sizeof(req), out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_echo6)
{
	uint8_t req[48 + 4] = { 0x60, 0, 0, 0, 0, 12, 58, 64 };
	uint8_t out[64], pseudo[8] = { 0, 0, 0, 12, 0, 0, 0, 58 };
	uint32_t sum;
	uint16_t c;
	int n;

	inet_pton(AF_INET6, "2001:db8::1", req + 8);
	inet_pton(AF_INET6, "2001:db8::3", req + 24);
	req[40] = 128;
	memcpy(req + 44, "\x00\x07\x00\x01ping", 8);
	sum = lp_csum_add(lp_csum_add(0, req + 8, 32), pseudo, 8);
	c = lp_csum_fold(lp_csum_add(sum, req + 40, 12));
	req[42] = (uint8_t)(c >> 8);
	req[43] = (uint8_t)c;
	n = lp_host_echo_reply(req, sizeof(req), out, sizeof(out));
	ck_assert_int_eq(n, 52);
	ck_assert_uint_eq(out[40], 129);
	ck_assert_int_eq(memcmp(out + 8, req + 24, 16), 0);
	ck_assert_int_eq(memcmp(out + 24, req + 8, 16), 0);
	sum = lp_csum_add(lp_csum_add(0, out + 8, 32), pseudo, 8);
	ck_assert_uint_eq(lp_csum_fold(lp_csum_add(sum, out + 40, 12)), 0);
	req[50] ^= 1;
	ck_assert_int_eq(lp_host_echo_reply(req, sizeof(req), out, sizeof(out)), 0);
}
END_TEST

Suite *responder_suite(void)
{
	Suite *s = suite_create("responder");
	TCase *tc = tcase_create("responder");

	tcase_add_test(tc, test_table_basic);
	tcase_add_test(tc, test_table_many);
	tcase_add_test(tc, test_flowpick_round_robin);
	tcase_add_test(tc, test_flowpick_one_port);
	tcase_add_test(tc, test_flowpick_bad);
	tcase_add_test(tc, test_flowpick_many);
	tcase_add_test(tc, test_rst);
	tcase_add_test(tc, test_echo4);
	tcase_add_test(tc, test_echo6);
	suite_add_tcase(s, tc);
	return s;
}

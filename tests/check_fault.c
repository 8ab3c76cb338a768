/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault plans: the spec parser, validation against a flow, and what fires. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "tcpliveplay/fault.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"
#include "testflow.h"

static struct lp_fault_plan *plan(void)
{
	struct lp_fault_plan *p;

	ck_assert_int_eq(lp_fault_plan_new(&p), 0);
	return p;
}

START_TEST(test_parse_good)
{
	static const char *const good[] = {
		"drop:1", "client:drop:2", "server:dup:3", "delay:2:150", "client:delay:1:0",
		"reorder:4", "truncate:2:100", "truncate:2:0", "corrupt:1", "rst:2", "stall:3",
		"loss:5%", "client:loss:0.5%", "dup:3%", "reorder:100%", "loss:0.0001%",
		"mtu:1280", "client:mtu:68", "mtu:65535", "unreachable:2", "unreachable:syn",
		"client:unreachable:syn:3", "server:unreachable:1:0", "unreachable:3:255",
	};
	struct lp_fault_plan *p = plan();
	char err[200] = "";

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(lp_fault_plan_add(p, good[i], err, sizeof(err)) == 0, "%s: %s", good[i],
			      err);
	ck_assert_uint_eq(lp_fault_plan_count(p), sizeof(good) / sizeof(good[0]));
	lp_fault_plan_free(p);
}
END_TEST

START_TEST(test_parse_bad)
{
	static const char *const bad[] = {
		"", ":", "client", "client:", "bogus:1", "drop", "drop:", "drop:0", "drop:-1",
		"drop:1:2", "drop:x", "drop:1x", "drop: 1", "delay:1", "delay:1:", "delay:1:ms",
		"delay:1:3600001", "truncate:2", "truncate:2:-5", "loss:5", "loss:0%", "loss:101%",
		"loss:5%%", "loss:%", "loss:1.%", "loss:1.23456%", "drop:5%", "truncate:5%",
		"corrupt:1:1", "both:drop:1", "CLIENT:drop:1", "client:client:drop:1",
		"dup:3%:1", "drop:99999999999999999999", "stall:1:2:3:4:5",
		"mtu", "mtu:", "mtu:67", "mtu:65536", "mtu:1280:1", "mtu:5%", "client:mtu:x",
		"unreachable", "unreachable:", "unreachable:0", "unreachable:x",
		"unreachable:1:256", "unreachable:1:2:3", "unreachable:SYN", "unreachable:5%",
		"unreachable:syn:-1",
	};
	struct lp_fault_plan *p = plan();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[200] = "";

		ck_assert_msg(lp_fault_plan_add(p, bad[i], err, sizeof(err)) == -EINVAL,
			      "accepted '%s'", bad[i]);
		ck_assert_msg(strstr(err, "fault '") == err, "no message for '%s': %s", bad[i], err);
	}
	ck_assert_uint_eq(lp_fault_plan_count(p), 0);
	lp_fault_plan_free(p);
}
END_TEST

START_TEST(test_validate)
{
	struct tflow *t = tf_new(AF_INET, 300, 300);
	struct lp_fault_plan *p = plan();
	char err[200];

	tf_data(t, 0, 300, 100);
	tf_data(t, 1, 300, 150);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:drop:3", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "loss:50%", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "server:rst:3", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "fault server:rst:3: the server sends 2 data segments");
	ck_assert_int_eq(lp_fault_plan_validate(NULL, &t->fl, err, sizeof(err)), 0);
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

/* By-segment faults fire once, on their side and label only. */
START_TEST(test_fire_by_segment)
{
	struct lp_fault_plan *p = plan();
	struct lp_fault_verdict v;
	struct lp_rng r;
	uint32_t arg = 0;
	char err[200];

	lp_rng_seed(&r, 1);
	ck_assert_int_eq(lp_fault_plan_add(p, "server:drop:2", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:delay:1:250", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "truncate:3:10", err, sizeof(err)), 0);
	lp_fault_wire(p, LP_FAULT_CLIENT, 2, 2, &r, &v);
	ck_assert(!v.drop && v.copies == 1 && v.fired == 0);
	lp_fault_wire(p, LP_FAULT_SERVER, 0, 0, &r, &v);
	ck_assert(!v.drop);
	lp_fault_wire(p, LP_FAULT_SERVER, 2, 2, &r, &v);
	ck_assert(v.drop && v.fired == 1);
	lp_fault_wire(p, LP_FAULT_SERVER, 2, 2, &r, &v);
	ck_assert(!v.drop);
	lp_fault_wire(p, LP_FAULT_CLIENT, 1, 1, &r, &v);
	ck_assert_uint_eq(v.delay_ns, 250000000u);
	/* A packet carrying the starts of several segments. */
	ck_assert_int_eq(lp_fault_plan_add(p, "server:dup:5", err, sizeof(err)), 0);
	lp_fault_wire(p, LP_FAULT_SERVER, 4, 6, &r, &v);
	ck_assert_uint_eq(v.copies, 2);
	/* Application faults are not wire faults, and the reverse. */
	lp_fault_wire(p, LP_FAULT_SERVER, 3, 3, &r, &v);
	ck_assert_uint_eq(v.fired, 0);
	ck_assert_int_eq(lp_fault_app_action(p, LP_FAULT_SERVER, 2, &arg), LP_FAULT_NONE);
	ck_assert_int_eq(lp_fault_app_action(p, LP_FAULT_CLIENT, 3, &arg), LP_FAULT_NONE);
	ck_assert_int_eq(lp_fault_app_action(p, LP_FAULT_SERVER, 3, &arg), LP_FAULT_TRUNCATE);
	ck_assert_uint_eq(arg, 10);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 4);
	lp_fault_plan_reset(p);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 0);
	lp_fault_wire(p, LP_FAULT_SERVER, 2, 2, &r, &v);
	ck_assert(v.drop);
	lp_fault_plan_free(p);
}
END_TEST

/* Probabilistic faults fire at about their rate, reproducibly per seed. */
START_TEST(test_fire_probability)
{
	struct lp_fault_plan *p = plan();
	struct lp_fault_verdict v;
	struct lp_rng r1, r2;
	unsigned drops = 0, dups = 0;
	char err[200];

	ck_assert_int_eq(lp_fault_plan_add(p, "client:loss:5%", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:dup:3%", err, sizeof(err)), 0);
	lp_rng_seed(&r1, 99);
	lp_rng_seed(&r2, 99);
	for (int i = 0; i < 100000; i++) {
		struct lp_fault_verdict w;

		lp_fault_wire(p, LP_FAULT_CLIENT, 0, 0, &r1, &v);
		lp_fault_wire(p, LP_FAULT_CLIENT, 0, 0, &r2, &w);
		ck_assert(v.drop == w.drop && v.copies == w.copies);
		drops += v.drop;
		dups += v.copies == 2;
		lp_fault_wire(p, LP_FAULT_SERVER, 0, 0, &r1, &v);
		lp_fault_wire(p, LP_FAULT_SERVER, 0, 0, &r2, &w);
		ck_assert(!v.drop && v.copies == 1);
	}
	ck_assert(drops > 4500 && drops < 5500);
	ck_assert(dups > 2600 && dups < 3400);
	lp_fault_plan_free(p);
}
END_TEST

/* A segment of side from the test flow's endpoints, len bytes of data. */
static int segment(struct tflow *t, int side, uint8_t flags, uint32_t len, uint8_t *buf)
{
	static const uint8_t zero[1500];
	const struct lp_endpoint *a = side ? &t->fl.server : &t->fl.client;
	const struct lp_endpoint *b = side ? &t->fl.client : &t->fl.server;
	struct lp_seg s = { .family = a->family, .sport = a->port, .dport = b->port,
			    .flags = flags, .payload = zero, .len = len };

	memcpy(s.src, a->addr, 16);
	memcpy(s.dst, b->addr, 16);
	return lp_pkt_build(buf, 2048, &s);
}

static int fire(struct lp_fault_plan *p, enum lp_fault_side side, const uint8_t *pkt, int len,
		uint32_t first, uint32_t last, uint8_t out[2048], enum lp_fault_kind *k)
{
	return lp_fault_icmp(p, side, pkt, (size_t)len, first, last, out, 2048, k);
}

/* mtu answers every packet of its side longer than BYTES; unreachable
 * answers its segment (or the first SYN) once; both from the packet's
 * destination, with the default code or the one given. */
START_TEST(test_fire_icmp)
{
	struct tflow *t = tf_new(AF_INET, 300, 300);
	struct lp_fault_plan *p = plan();
	enum lp_fault_kind k = LP_FAULT_NONE;
	uint8_t big[2048], small[2048], syn[2048], out[2048];
	int nb, ns, nsyn;
	struct lp_icmp ic;
	char err[200];

	tf_data(t, 0, 300, 100);
	tf_data(t, 1, 300, 150);
	nb = segment(t, 1, LP_TH_ACK, 1460, big);
	ns = segment(t, 1, LP_TH_ACK, 1000, small);
	nsyn = segment(t, 0, LP_TH_SYN, 0, syn);
	ck_assert_int_eq(lp_fault_plan_add(p, "mtu:1280", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:unreachable:syn:3", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "unreachable:2", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		int n = fire(p, LP_FAULT_SERVER, big, nb, 0, 0, out, &k);

		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(k, LP_FAULT_MTU);
		ck_assert_int_eq(lp_icmp_parse(out, (size_t)n, &ic), 0);
		ck_assert_int_eq(ic.cls, LP_ICMP_TOO_BIG);
		ck_assert_uint_eq(ic.mtu, 1280);
		ck_assert_mem_eq(ic.from, t->fl.client.addr, 4);
		ck_assert_mem_eq(ic.to, t->fl.server.addr, 4);
	}
	ck_assert_int_eq(fire(p, LP_FAULT_SERVER, small, ns, 0, 0, out, &k), 0);
	ck_assert_int_eq(fire(p, LP_FAULT_CLIENT, big, nb, 0, 0, out, &k), 0);
	ck_assert_int_eq(fire(p, LP_FAULT_CLIENT, small, ns, 1, 1, out, &k), 0);
	ck_assert_int_gt(fire(p, LP_FAULT_CLIENT, syn, nsyn, 0, 0, out, &k), 0);
	ck_assert_int_eq(k, LP_FAULT_UNREACH);
	ck_assert_int_eq(lp_icmp_parse(out, sizeof(out), &ic), 0);
	ck_assert_uint_eq(ic.type, 3);
	ck_assert_uint_eq(ic.code, 3);
	ck_assert_int_eq(fire(p, LP_FAULT_CLIENT, syn, nsyn, 0, 0, out, &k), 0);
	ck_assert_int_eq(fire(p, LP_FAULT_SERVER, small, ns, 1, 1, out, &k), 0);
	ck_assert_int_gt(fire(p, LP_FAULT_SERVER, small, ns, 1, 3, out, &k), 0);
	ck_assert_int_eq(lp_icmp_parse(out, sizeof(out), &ic), 0);
	ck_assert_uint_eq(ic.code, 13);
	ck_assert_int_eq(fire(p, LP_FAULT_SERVER, small, ns, 2, 2, out, &k), 0);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 4);
	/* Not wire faults. */
	ck_assert_int_eq(lp_fault_plan_add(p, "unreachable:3", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "fault server:unreachable:3: the server sends 2 data segments");
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

Suite *fault_suite(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("fault");

	tcase_add_test(tc, test_parse_good);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_validate);
	tcase_add_test(tc, test_fire_by_segment);
	tcase_add_test(tc, test_fire_probability);
	tcase_add_test(tc, test_fire_icmp);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault plans: the spec parser, validation against a flow, and what fires. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "tcpliveplay/fault.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"
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
		"drop:S1", "client:drop:C2", "client:truncate:C1:5", "client:zero-window:S3:200",
		"server:zero-window:C1:1", "zero-window:2:3600000", "client:window:1",
		"window:1073725440", "mtu:1280", "client:mtu:68", "mtu:65535", "unreachable:2",
		"unreachable:S2", "unreachable:syn", "client:unreachable:syn:3",
		"server:unreachable:1:0", "client:unreachable:C3:255",
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
		"drop:C1", "client:drop:S1", "drop:S", "drop:s1", "drop:S0", "zero-window:S1",
		"zero-window:S1:0", "client:zero-window:C1:5",
		"client:zero-window:S1:3600001", "window:0", "window:1073725441", "window:S1",
		"window:5%", "zero-window:5%", "window:100:1",
		"mtu", "mtu:", "mtu:67", "mtu:65536", "mtu:1280:1", "mtu:5%", "client:mtu:x",
		"unreachable", "unreachable:", "unreachable:0", "unreachable:x",
		"unreachable:1:256", "unreachable:1:2:3", "unreachable:SYN", "unreachable:5%",
		"unreachable:syn:-1", "unreachable:C1", "client:unreachable:S1",
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
	ck_assert_str_eq(err, "server:rst:S3: no such segment (the server sends 2 data segments)");
	ck_assert_int_eq(lp_fault_plan_validate(NULL, &t->fl, err, sizeof(err)), 0);
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

static struct lp_fault_pkt pk(uint32_t first, uint32_t last, uint64_t key)
{
	struct lp_fault_pkt p = { .first = first, .last = last, .label = first, .key = key, .seqspace = true };

	return p;
}

/* By-segment faults fire once, on their side and label only. */
START_TEST(test_fire_by_segment)
{
	struct lp_fault_plan *p = plan();
	struct lp_fault_verdict v;
	struct lp_fault_pkt k;
	uint32_t arg = 0;
	char err[200], name[48];

	ck_assert_int_eq(lp_fault_plan_add(p, "server:drop:2", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:delay:C1:250", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "truncate:S3:10", err, sizeof(err)), 0);
	k = pk(2, 2, 1);
	lp_fault_wire(p, LP_FAULT_CLIENT, &k, 0, &v);
	ck_assert(!v.drop && v.copies == 1 && v.fired == 0);
	k = pk(0, 0, 2);
	lp_fault_wire(p, LP_FAULT_SERVER, &k, 0, &v);
	ck_assert(!v.drop);
	k = pk(2, 2, 3);
	lp_fault_wire(p, LP_FAULT_SERVER, &k, 7000, &v);
	ck_assert(v.drop && v.fired == 1);
	ck_assert_str_eq(lp_fault_fired_str(&v.what[0], name, sizeof(name)), "server:drop:S2");
	ck_assert_uint_eq(v.what[0].at_ns, 7000);
	lp_fault_wire(p, LP_FAULT_SERVER, &k, 0, &v);
	ck_assert(!v.drop);
	k = pk(1, 1, 4);
	lp_fault_wire(p, LP_FAULT_CLIENT, &k, 0, &v);
	ck_assert_uint_eq(v.delay_ns, 250000000u);
	/* A packet carrying the starts of several segments. */
	ck_assert_int_eq(lp_fault_plan_add(p, "server:dup:5", err, sizeof(err)), 0);
	k = pk(4, 6, 5);
	lp_fault_wire(p, LP_FAULT_SERVER, &k, 0, &v);
	ck_assert_uint_eq(v.copies, 2);
	/* Application faults are not wire faults, and the reverse. */
	k = pk(3, 3, 6);
	lp_fault_wire(p, LP_FAULT_SERVER, &k, 0, &v);
	ck_assert_uint_eq(v.fired, 0);
	ck_assert_int_eq(lp_fault_app_action(p, LP_FAULT_SERVER, 2, 0, &arg), LP_FAULT_NONE);
	ck_assert_int_eq(lp_fault_app_action(p, LP_FAULT_CLIENT, 3, 0, &arg), LP_FAULT_NONE);
	ck_assert_int_eq(lp_fault_app_action(p, LP_FAULT_SERVER, 3, 9, &arg), LP_FAULT_TRUNCATE);
	ck_assert_uint_eq(arg, 10);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 4);
	/* The log, in order. */
	ck_assert_uint_eq(lp_fault_plan_nlog(p), 4);
	ck_assert_str_eq(lp_fault_fired_str(lp_fault_plan_log(p, 1), name, sizeof(name)),
			 "client:delay:C1");
	ck_assert_str_eq(lp_fault_fired_str(lp_fault_plan_log(p, 2), name, sizeof(name)),
			 "server:dup:S5");
	ck_assert_str_eq(lp_fault_fired_str(lp_fault_plan_log(p, 3), name, sizeof(name)),
			 "server:truncate:S3");
	ck_assert_ptr_null(lp_fault_plan_log(p, 4));
	lp_fault_plan_reset(p, 0);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 0);
	ck_assert_uint_eq(lp_fault_plan_nlog(p), 0);
	k = pk(2, 2, 3);
	lp_fault_wire(p, LP_FAULT_SERVER, &k, 0, &v);
	ck_assert(v.drop);
	lp_fault_plan_free(p);
}
END_TEST

/* Probabilistic faults fire at about their rate, the same packets for the
 * same seed and keys whatever the order they come in, others for another
 * seed. */
START_TEST(test_fire_probability)
{
	struct lp_fault_plan *p = plan(), *q;
	struct lp_fault_verdict v, w;
	unsigned drops = 0, dups = 0, same = 0;
	char err[200];

	ck_assert_int_eq(lp_fault_plan_add(p, "client:loss:5%", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:dup:3%", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_clone(p, &q), 0);
	lp_fault_plan_reset(p, 99);
	lp_fault_plan_reset(q, 99);
	for (int i = 0; i < 100000; i++) {
		struct lp_fault_pkt a = pk(0, 0, (uint64_t)i * 7919), b = pk(0, 0, (uint64_t)(99999 - i) * 7919);

		lp_fault_wire(p, LP_FAULT_CLIENT, &a, 0, &v);
		drops += v.drop;
		dups += v.copies == 2;
		/* q sees the same packets backwards: the decision of packet b
		 * in q is that of b in p, asked later. */
		lp_fault_wire(q, LP_FAULT_CLIENT, &b, 0, &w);
		lp_fault_wire(p, LP_FAULT_SERVER, &a, 0, &v);
		ck_assert(!v.drop && v.copies == 1);
	}
	for (int i = 0; i < 1000; i++) {
		struct lp_fault_pkt a = pk(0, 0, (uint64_t)i * 7919);

		lp_fault_plan_reset(q, 99);
		lp_fault_wire(p, LP_FAULT_CLIENT, &a, 0, &v);
		lp_fault_wire(q, LP_FAULT_CLIENT, &a, 0, &w);
		ck_assert(v.drop == w.drop && v.copies == w.copies);
		lp_fault_plan_reset(q, 100);
		lp_fault_wire(q, LP_FAULT_CLIENT, &a, 0, &w);
		same += v.drop == w.drop && v.copies == w.copies;
	}
	ck_assert(drops > 4500 && drops < 5500);
	ck_assert(dups > 2600 && dups < 3400);
	ck_assert_uint_lt(same, 1000);
	/* A packet without sequence space (an ACK) is passed over. */
	for (int i = 0; i < 1000; i++) {
		struct lp_fault_pkt a = pk(0, 0, (uint64_t)i);

		a.seqspace = false;
		lp_fault_wire(p, LP_FAULT_CLIENT, &a, 0, &v);
		ck_assert_uint_eq(v.fired, 0);
	}
	/* One that hits a SYN or a FIN (no label) names it; a data segment
	 * its label. */
	for (int i = 0, syn = 0, fin = 0; syn < 3 || fin < 3; i++) {
		struct lp_fault_pkt a = pk(0, 0, (uint64_t)i * 104729);
		char seg[16], name[48];

		ck_assert_int_lt(i, 100000);
		a.ctl = i % 2 ? LP_TH_SYN : LP_TH_FIN;
		lp_fault_wire(p, LP_FAULT_CLIENT, &a, 0, &v);
		if (!v.fired)
			continue;
		ck_assert_str_eq(lp_fault_fired_segment(&v.what[0], seg, sizeof(seg)), i % 2 ? "SYN" : "FIN");
		ck_assert_ptr_nonnull(strstr(lp_fault_fired_str(&v.what[0], name, sizeof(name)), i % 2 ? ":SYN" : ":FIN"));
		*(i % 2 ? &syn : &fin) += 1;
	}
	{
		struct lp_fault_fired f = { .side = LP_FAULT_SERVER, .kind = LP_FAULT_DROP, .dir = LP_S2C, .label = 3,
					    .ctl = LP_TH_FIN };
		char seg[16];

		ck_assert_str_eq(lp_fault_fired_segment(&f, seg, sizeof(seg)), "S3");
	}
	lp_fault_plan_free(p);
	lp_fault_plan_free(q);
}
END_TEST

/* Keys: the same packet again is another key; the same sequence of packets
 * gives the same keys. */
START_TEST(test_keys)
{
	struct lp_fault_keys *a, *b;
	uint64_t k1, k2, k3;

	ck_assert_int_eq(lp_fault_keys_new(&a), 0);
	ck_assert_int_eq(lp_fault_keys_new(&b), 0);
	k1 = lp_fault_key(a, 100, 5, 1448, 0x18);
	k2 = lp_fault_key(a, 100, 5, 1448, 0x18);
	k3 = lp_fault_key(a, 100, 6, 1448, 0x18);
	ck_assert_uint_ne(k1, k2);
	ck_assert_uint_ne(k1, k3);
	/* Other packets in between do not change a packet's key. */
	for (uint64_t i = 0; i < 5000; i++)
		lp_fault_key(b, i * 1448, 0, 1448, 0x10);
	ck_assert_uint_eq(lp_fault_key(b, 100, 5, 1448, 0x18), k1);
	ck_assert_uint_eq(lp_fault_key(b, 100, 5, 1448, 0x18), k2);
	ck_assert_uint_eq(lp_fault_key(NULL, 100, 5, 1448, 0x18), k1);
	lp_fault_keys_free(a);
	lp_fault_keys_free(b);
}
END_TEST

/* Window faults: parsed with the peer's label, queried by side. */
START_TEST(test_window_faults)
{
	struct tflow *t = tf_new(AF_INET, 300, 300);
	struct lp_fault_plan *p = plan();
	uint32_t label = 0, ms = 0;
	char err[200];

	tf_data(t, 0, 300, 100);
	tf_data(t, 1, 300, 150);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:zero-window:S2:500", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:window:4096", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:window:8192", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "server:zero-window:1:20", err, sizeof(err)), 0);
	ck_assert_uint_eq(lp_fault_window_cap(p, LP_FAULT_CLIENT), 4096);
	ck_assert_uint_eq(lp_fault_window_cap(p, LP_FAULT_SERVER), 0);
	ck_assert(lp_fault_zero_window(p, LP_FAULT_CLIENT, 0, &label, &ms));
	ck_assert_uint_eq(label, 2);
	ck_assert_uint_eq(ms, 500);
	ck_assert(!lp_fault_zero_window(p, LP_FAULT_CLIENT, 1, &label, &ms));
	ck_assert(lp_fault_zero_window(p, LP_FAULT_SERVER, 0, &label, &ms));
	ck_assert_uint_eq(label, 1);
	ck_assert(lp_fault_plan_has(p, LP_FAULT_CLIENT, LP_FAULT_ON_WINDOW));
	ck_assert(!lp_fault_plan_has(p, LP_FAULT_CLIENT, LP_FAULT_ON_WIRE | LP_FAULT_ON_APP));
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), 0);
	/* The client's zero window counts the server's segments. */
	ck_assert_int_eq(lp_fault_plan_add(p, "client:zero-window:S3:1", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "client:zero-window:S3: no such segment (the server sends 2 data segments)");
	/* The wrong side's letter. */
	ck_assert_int_eq(lp_fault_plan_add(p, "client:zero-window:C1:5", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "fault 'client:zero-window:C1:5': client:zero-window names a server "
			      "segment (S<n>)");
	ck_assert_int_eq(lp_fault_plan_add(p, "client:drop:S1", err, sizeof(err)), -EINVAL);
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

/* What a live program may do for the other side: its wire faults only. */
START_TEST(test_check_live)
{
	static const struct {
		const char *spec;
		enum lp_fault_side local;
		int rc;
	} cases[] = {
		{ "server:drop:S2", LP_FAULT_CLIENT, 0 },
		{ "server:loss:5%", LP_FAULT_CLIENT, 0 },
		{ "server:delay:S1:100", LP_FAULT_CLIENT, 0 },
		{ "client:rst:C1", LP_FAULT_CLIENT, 0 },
		{ "client:zero-window:S1:100", LP_FAULT_CLIENT, 0 },
		{ "server:rst:S1", LP_FAULT_CLIENT, -EINVAL },
		{ "server:window:1000", LP_FAULT_CLIENT, -EINVAL },
		{ "server:zero-window:C1:9", LP_FAULT_SERVER, 0 },
		{ "client:drop:C1", LP_FAULT_SERVER, 0 },
		{ "client:stall:C1", LP_FAULT_SERVER, -EINVAL },
		{ "client:zero-window:S1:9", LP_FAULT_SERVER, -EINVAL },
		{ "client:mtu:1280", LP_FAULT_CLIENT, 0 },
		{ "server:unreachable:syn", LP_FAULT_SERVER, 0 },
		{ "server:unreachable:S1", LP_FAULT_CLIENT, -EINVAL },
		{ "server:mtu:1280", LP_FAULT_SERVER, 0 },
		{ "client:unreachable:syn", LP_FAULT_SERVER, -EINVAL },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lp_fault_plan *p = plan();

		ck_assert_int_eq(lp_fault_plan_add(p, cases[i].spec, err, sizeof(err)), 0);
		ck_assert_msg(lp_fault_plan_check_live(p, cases[i].local, err, sizeof(err)) == cases[i].rc,
			      "%s", cases[i].spec);
		if (cases[i].rc)
			ck_assert_msg(!strncmp(err + 6, cases[i].spec, 13), "%s: %s", cases[i].spec, err);
		lp_fault_plan_free(p);
	}
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

/* What an engine says of a packet: the labels it fires for, its flags. */
static int fire(struct lp_fault_plan *p, enum lp_fault_side side, const uint8_t *pkt, int len,
		uint32_t first, uint32_t last, uint8_t out[2048], struct lp_fault_fired *what)
{
	struct lp_pktinfo pi = { .first = first, .last = last, .label = first, .flags = pkt[33] };

	return lp_fault_icmp(p, side, pkt, (size_t)len, &pi, 7, out, 2048, what);
}

/* mtu answers every packet of its side longer than BYTES; unreachable
 * answers its segment (or the first SYN) once; both from the packet's
 * destination, with the default code or the one given; what fired logged. */
START_TEST(test_fire_icmp)
{
	struct tflow *t = tf_new(AF_INET, 300, 300);
	struct lp_fault_plan *p = plan();
	uint8_t big[2048], small[2048], syn[2048], out[2048];
	struct lp_fault_fired what;
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
	ck_assert_int_eq(lp_fault_plan_add(p, "unreachable:S2", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), 0);
	ck_assert(lp_fault_plan_has(p, LP_FAULT_SERVER, LP_FAULT_ON_PATH));
	ck_assert(!lp_fault_plan_has(p, LP_FAULT_SERVER, LP_FAULT_ON_WIRE));
	for (int i = 0; i < 2; i++) {
		int n = fire(p, LP_FAULT_SERVER, big, nb, 0, 0, out, &what);

		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(what.kind, LP_FAULT_MTU);
		ck_assert_int_eq(lp_icmp_parse(out, (size_t)n, &ic), 0);
		ck_assert_int_eq(ic.cls, LP_ICMP_TOO_BIG);
		ck_assert_uint_eq(ic.mtu, 1280);
		ck_assert_mem_eq(ic.from, t->fl.client.addr, 4);
		ck_assert_mem_eq(ic.to, t->fl.server.addr, 4);
	}
	ck_assert_int_eq(fire(p, LP_FAULT_SERVER, small, ns, 0, 0, out, &what), 0);
	ck_assert_int_eq(fire(p, LP_FAULT_CLIENT, big, nb, 0, 0, out, &what), 0);
	ck_assert_int_eq(fire(p, LP_FAULT_CLIENT, small, ns, 1, 1, out, &what), 0);
	ck_assert_int_gt(fire(p, LP_FAULT_CLIENT, syn, nsyn, 0, 0, out, &what), 0);
	ck_assert_int_eq(what.kind, LP_FAULT_UNREACH);
	ck_assert_int_eq(what.side, LP_FAULT_CLIENT);
	ck_assert_int_eq(lp_icmp_parse(out, sizeof(out), &ic), 0);
	ck_assert_uint_eq(ic.type, 3);
	ck_assert_uint_eq(ic.code, 3);
	ck_assert_int_eq(fire(p, LP_FAULT_CLIENT, syn, nsyn, 0, 0, out, &what), 0);
	ck_assert_int_eq(fire(p, LP_FAULT_SERVER, small, ns, 1, 1, out, &what), 0);
	ck_assert_int_gt(fire(p, LP_FAULT_SERVER, small, ns, 1, 3, out, &what), 0);
	ck_assert_uint_eq(what.label, 2);
	ck_assert_int_eq(lp_icmp_parse(out, sizeof(out), &ic), 0);
	ck_assert_uint_eq(ic.code, 13);
	ck_assert_int_eq(fire(p, LP_FAULT_SERVER, small, ns, 2, 2, out, &what), 0);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 4);
	ck_assert_uint_eq(lp_fault_plan_nlog(p), 4);
	ck_assert_str_eq(lp_fault_fired_str(lp_fault_plan_log(p, 3), (char *)out, 64),
			 "server:unreachable:S2");
	ck_assert_int_eq(lp_fault_plan_add(p, "unreachable:3", err, sizeof(err)), 0);
	ck_assert_int_eq(lp_fault_plan_validate(p, &t->fl, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "server:unreachable:S3: no such segment (the server sends 2 data segments)");
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
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_window_faults);
	tcase_add_test(tc, test_check_live);
	tcase_add_test(tc, test_fire_icmp);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Many flows as a set: the capture's busiest moment, shards and their ports,
 * the retransmission timer's jitter, the diagnosis of unacknowledged data. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testflow.h"
#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/multi.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/rng.h"

#define S 1000000000ull

/* Flows with the given captured open and close times (ids 1, 2, ...). */
static size_t busiest_of(const uint64_t (*t)[2], size_t n)
{
	struct lp_flow *fl = calloc(n ? n : 1, sizeof(*fl));
	const struct lp_flow **p = calloc(n ? n : 1, sizeof(*p));
	size_t b = 99;

	ck_assert_ptr_nonnull(fl);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++) {
		fl[i].id = (unsigned)i + 1;
		fl[i].first_ts = t[i][0];
		fl[i].last_ts = t[i][1];
		p[i] = &fl[i];
	}
	ck_assert_int_eq(lp_flowset_busiest(p, n, &b), 0);
	free(p);
	free(fl);
	return b;
}

START_TEST(test_busiest)
{
	static const uint64_t one[][2] = { { 5, 5 } };
	static const uint64_t chain[][2] = { { 0, 5 }, { 5, 10 }, { 10, 15 } };
	static const uint64_t nested[][2] = { { 0, 100 }, { 10, 20 }, { 30, 40 }, { 35, 50 } };
	static const uint64_t same[][2] = { { 7, 7 }, { 7, 7 }, { 7, 7 } };
	static const uint64_t stepped[][2] = { { 10, 5 }, { 0, 20 } };
	static const uint64_t unordered[][2] = { { 30, 40 }, { 0, 100 }, { 35, 50 }, { 10, 20 } };
	uint64_t stairs[20][2];

	ck_assert_uint_eq(busiest_of(NULL, 0), 0);
	ck_assert_uint_eq(busiest_of(one, 1), 1);
	/* One flow ends as the next begins: one at a time. */
	ck_assert_uint_eq(busiest_of(chain, 3), 1);
	ck_assert_uint_eq(busiest_of(nested, 4), 3);
	ck_assert_uint_eq(busiest_of(unordered, 4), 3);
	/* Flows of one instant are open together. */
	ck_assert_uint_eq(busiest_of(same, 3), 3);
	/* A clock that stepped back: the flow is open for its first instant. */
	ck_assert_uint_eq(busiest_of(stepped, 2), 2);
	/* 20 flows opened 1 s apart, each open 3 s: 3 at once. */
	for (int i = 0; i < 20; i++) {
		stairs[i][0] = (uint64_t)i * S;
		stairs[i][1] = (uint64_t)i * S + 3 * S;
	}
	ck_assert_uint_eq(busiest_of((const uint64_t(*)[2])stairs, 20), 3);
}
END_TEST

/* Every flow in exactly one shard, in order, sizes within one. */
START_TEST(test_shard_partition)
{
	static const unsigned ns[] = { 1, 2, 3, 7, 200, 201 };
	struct lp_flow fl[200];
	const struct lp_flow *sel[200];

	for (unsigned i = 0; i < 200; i++)
		fl[i].id = i + 1;
	for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
		unsigned seen[201] = { 0 };
		size_t sum = 0, lo = SIZE_MAX, hi = 0;

		for (unsigned k = 1; k <= ns[t]; k++) {
			size_t n;

			for (unsigned i = 0; i < 200; i++)
				sel[i] = &fl[i];
			n = lp_flowset_shard(sel, 200, k, ns[t]);
			ck_assert_uint_le(n, lp_flowset_shard_max(200, ns[t]));
			for (size_t i = 0; i < n; i++) {
				seen[sel[i]->id]++;
				ck_assert_uint_eq((sel[i]->id - 1) % ns[t], k - 1);
				if (i)
					ck_assert_uint_lt(sel[i - 1]->id, sel[i]->id);
			}
			sum += n;
			lo = n < lo ? n : lo;
			hi = n > hi ? n : hi;
		}
		ck_assert_uint_eq(sum, 200);
		ck_assert_uint_le(hi - lo, 1);
		for (unsigned id = 1; id <= 200; id++)
			ck_assert_uint_eq(seen[id], 1);
	}
	for (unsigned i = 0; i < 200; i++)
		sel[i] = &fl[i];
	ck_assert_uint_eq(lp_flowset_shard(sel, 200, 0, 2), 0);
	ck_assert_uint_eq(lp_flowset_shard(sel, 200, 3, 2), 0);
	ck_assert_uint_eq(lp_flowset_shard_max(200, 2), 100);
	ck_assert_uint_eq(lp_flowset_shard_max(201, 2), 101);
	ck_assert_uint_eq(lp_flowset_shard_max(5, 7), 1);
}
END_TEST

START_TEST(test_parse_shard)
{
	static const char *const bad[] = { "0/2", "3/2", "2", "/2", "1/", "1/0", "a/b", "1/1025",
					   "1/2/3", "-1/2", " 1/2", "1/2 ", "" };
	unsigned k = 0, n = 0;

	ck_assert_int_eq(lp_flowset_parse_shard("1/2", 1024, &k, &n), 0);
	ck_assert_uint_eq(k, 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(lp_flowset_parse_shard("1024/1024", 1024, &k, &n), 0);
	ck_assert_uint_eq(k, 1024);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(lp_flowset_parse_shard(bad[i], 1024, &k, &n) == -EINVAL, "'%s' accepted", bad[i]);
	/* Each flow's seed depends on the run's seed and its id only. */
	ck_assert_uint_eq(lp_flowset_seed(7, 3), lp_flowset_seed(7, 3));
	ck_assert_uint_ne(lp_flowset_seed(7, 3), lp_flowset_seed(7, 4));
	ck_assert_uint_ne(lp_flowset_seed(7, 3), lp_flowset_seed(8, 3));
}
END_TEST

/* Shards given the same flow count and range never share a port, whatever
 * their random draws; one shard is the run without shards. */
START_TEST(test_shard_ports)
{
	static const unsigned ranges[][2] = { { 32768, 60999 }, { 1024, 65535 }, { 32768, 49151 } };
	static const size_t ns[] = { 1, 100, 2000, 10000 };
	static const unsigned shards[] = { 2, 3, 8 };
	struct lp_rng a, b;

	lp_rng_seed(&a, 1);
	lp_rng_seed(&b, 1);
	ck_assert_uint_eq(lp_multi_pick_ports(&a, 200, 1, 1, 32768, 60999),
			  lp_multi_pick_ports(&b, 200, 1, 1, 32768, 60999));
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
			for (size_t s = 0; s < sizeof(shards) / sizeof(shards[0]); s++) {
				unsigned of = shards[s];
				unsigned lo[8], hi[8];

				for (unsigned k = 1; k <= of; k++) {
					lo[k - 1] = 65536;
					hi[k - 1] = 0;
					for (int t = 0; t < 40; t++) {
						uint16_t p = lp_multi_pick_ports(&a, ns[i], k, of, ranges[r][0],
										 ranges[r][1]);

						if (ns[i] * of > 64512) {
							ck_assert_uint_eq(p, 0);
							continue;
						}
						ck_assert_uint_ge(p, 1024);
						ck_assert_uint_le(p + ns[i] - 1, 65535);
						lo[k - 1] = p < lo[k - 1] ? p : lo[k - 1];
						hi[k - 1] = p + ns[i] - 1 > hi[k - 1] ? p + ns[i] - 1 : hi[k - 1];
					}
				}
				for (unsigned k = 1; k < of && ns[i] * of <= 64512; k++)
					ck_assert_msg(hi[k - 1] < lo[k], "shards %u and %u of %u overlap (%zu flows)", k,
						      k + 1, of, ns[i]);
			}
	ck_assert_uint_eq(lp_multi_pick_ports(&a, 10, 0, 2, 32768, 60999), 0);
	ck_assert_uint_eq(lp_multi_pick_ports(&a, 10, 3, 2, 32768, 60999), 0);
}
END_TEST

/* A client engine of a small flow, with the given jitter. */
static struct lp_engine *client(const struct tflow *t, unsigned pct, uint64_t seed)
{
	struct lp_engine_cfg cfg;
	struct lp_engine *e = NULL;

	lp_engine_cfg_defaults(&cfg);
	cfg.role = LP_ROLE_CLIENT;
	cfg.local = t->fl.client;
	cfg.remote = t->fl.server;
	cfg.isn = 1000;
	cfg.retries = 3;
	cfg.rto_jitter_pct = pct;
	cfg.rto_jitter_seed = seed;
	ck_assert_int_eq(lp_engine_new(&t->fl, &cfg, &e), 0);
	return e;
}

/* Send everything the engine has; how many packets. */
static int drain(struct lp_engine *e, uint64_t now)
{
	uint8_t buf[2048];
	int n, k = 0;

	while ((n = lp_engine_output(e, buf, sizeof(buf), now)) > 0)
		k++;
	ck_assert_int_eq(n, 0);
	return k;
}

/* The times of the SYN's first two retransmission timers, from now = S. */
static void syn_timers(const struct tflow *t, unsigned pct, uint64_t seed, uint64_t at[2])
{
	struct lp_engine *e = client(t, pct, seed);

	ck_assert_int_eq(drain(e, S), 1);
	at[0] = lp_engine_next_timer(e) - S;
	lp_engine_timeout(e, S + at[0]);
	ck_assert_int_eq(drain(e, S + at[0]), 1);
	at[1] = lp_engine_next_timer(e) - (S + at[0]);
	lp_engine_free(e);
}

/* The jitter only lengthens the timer, by at most its share, the same for
 * one seed and otherwise not. */
START_TEST(test_rto_jitter)
{
	struct tflow *t = tf_new(AF_INET, 10, 10);
	uint64_t plain[2], a[2], b[2];
	unsigned differ = 0;

	tf_seg(t, 0, 10, 0x08, -1);
	tf_seg(t, 1, 10, 0x08, -1);
	syn_timers(t, 0, 1, plain);
	ck_assert_uint_eq(plain[0], 1 * S);   /* RFC 6298 (2.1): 1 s before any RTT sample */
	ck_assert_uint_eq(plain[1], 2 * S);   /* backed off */
	for (uint64_t seed = 1; seed <= 32; seed++) {
		syn_timers(t, 25, seed, a);
		syn_timers(t, 25, seed, b);
		ck_assert_uint_eq(a[0], b[0]);
		ck_assert_uint_eq(a[1], b[1]);
		ck_assert_uint_ge(a[0], plain[0]);
		ck_assert_uint_le(a[0], plain[0] + plain[0] / 4);
		ck_assert_uint_ge(a[1], plain[1]);
		ck_assert_uint_le(a[1], plain[1] + plain[1] / 4);
		if (seed > 1) {
			uint64_t c[2];

			syn_timers(t, 25, seed - 1, c);
			differ += c[0] != a[0];
		}
	}
	ck_assert_uint_ge(differ, 30);
	tf_free(t);
}
END_TEST

/* A segment from e's peer (ISN 5000) without data, taken by e. */
static void from_server(struct lp_engine *e, const struct tflow *t, struct lp_seg *s, uint64_t now)
{
	uint8_t buf[256];
	int n;

	s->family = AF_INET;
	memcpy(s->src, t->fl.server.addr, 4);
	memcpy(s->dst, t->fl.client.addr, 4);
	s->sport = t->fl.server.port;
	s->dport = t->fl.client.port;
	n = lp_pkt_build(buf, sizeof(buf), s);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lp_engine_input(e, buf, (size_t)n, now), 0);
}

/* The SYN-ACK to e's SYN (sequence iss). */
static void synack(struct lp_engine *e, const struct tflow *t, uint32_t iss, uint64_t now)
{
	struct lp_seg s = { .seq = 5000, .ack = iss + 1, .flags = LP_TH_SYN | LP_TH_ACK, .window = 65535,
			    .opts = { .has_mss = true, .mss = 1460 } };

	from_server(e, t, &s, now);
}

/* The reset of e's connection by its peer (nothing sent but its SYN). */
static void peer_rst(struct lp_engine *e, const struct tflow *t, uint64_t now)
{
	struct lp_seg s = { .seq = 5001, .flags = LP_TH_RST };

	from_server(e, t, &s, now);
}

/* Run e's timers until it gives up; its report. */
static void give_up(struct lp_engine *e, const struct tflow *t, uint64_t now, struct lp_report *r)
{
	for (int i = 0; i < 20 && lp_engine_state(e) == LP_ENGINE_RUNNING; i++) {
		now = lp_engine_next_timer(e);
		lp_engine_timeout(e, now);
		drain(e, now);
	}
	ck_assert_int_eq(lp_engine_state(e), LP_ENGINE_FAILED);
	lp_report_init(r);
	lp_report_from_engine(r, e, &t->fl);
}

/* A client engine of t that completed its handshake and sent its data at
 * S + 1000. */
static struct lp_engine *connected(const struct tflow *t)
{
	struct lp_engine *e = client(t, 25, 9);

	ck_assert_int_eq(drain(e, S), 1);
	synack(e, t, 1000, S + 1000);
	ck_assert_int_ge(drain(e, S + 1000), 1);
	return e;
}

/* A handshake completed, data never acknowledged: the report says so and
 * names the likely cause; a SYN never answered does not. */
START_TEST(test_data_unacked)
{
	struct tflow *t = tf_new(AF_INET, 10, 10);
	struct lp_engine *e;
	struct lp_report r;
	struct lp_totals tot;
	size_t n;

	tf_seg(t, 0, 10, 0x08, -1);
	tf_seg(t, 1, 10, 0x08, -1);
	e = connected(t);
	give_up(e, t, S + 1000, &r);
	ck_assert(r.data_unacked);
	ck_assert_uint_eq(r.verdict, LP_VERDICT_FAILED);
	n = strlen(r.reason);
	ck_assert_uint_gt(n, strlen(LP_DATA_UNACKED_WHY));
	ck_assert_str_eq(r.reason + n - strlen(LP_DATA_UNACKED_WHY), LP_DATA_UNACKED_WHY);
	memset(&tot, 0, sizeof(tot));
	lp_totals_add(&tot, &r);
	ck_assert_uint_eq(tot.data_unacked, 1);
	lp_engine_free(e);

	e = client(t, 25, 9);
	ck_assert_int_eq(drain(e, S), 1);
	give_up(e, t, S, &r);
	ck_assert(!r.data_unacked);
	ck_assert_ptr_null(strstr(r.reason, "accept queue"));
	lp_engine_free(e);
	tf_free(t);
}
END_TEST

/* Handshake done, data sent, none acknowledged, but the host reset the
 * connection, or a fault of ours ended it: the report names that, not the
 * accept queue. */
START_TEST(test_data_unacked_not_so)
{
	struct tflow *t = tf_new(AF_INET, 10, 10);
	struct lp_fault_fired rst = { .side = LP_FAULT_SERVER, .kind = LP_FAULT_RST, .dir = LP_S2C,
				      .label = 1, .at_ns = S };
	struct lp_fault_plan *p;
	struct lp_engine *e;
	struct lp_report r;
	struct lp_totals tot;

	tf_seg(t, 0, 10, 0x08, -1);
	tf_seg(t, 1, 10, 0x08, -1);
	e = connected(t);
	peer_rst(e, t, S + 2000);
	ck_assert_int_eq(lp_engine_state(e), LP_ENGINE_FAILED);
	lp_report_init(&r);
	lp_report_from_engine(&r, e, &t->fl);
	ck_assert(!r.data_unacked);
	ck_assert_str_eq(r.reason, "reset by peer");
	memset(&tot, 0, sizeof(tot));
	lp_totals_add(&tot, &r);
	ck_assert_uint_eq(tot.data_unacked, 0);
	lp_engine_free(e);

	/* No answer at all, but a rst fault of ours fired (--simulate's
	 * server): the fault is the reason. */
	e = connected(t);
	give_up(e, t, S + 1000, &r);
	ck_assert(r.data_unacked);
	ck_assert_int_eq(lp_fault_plan_new(&p), 0);
	lp_fault_plan_note(p, &rst);
	lp_report_add_faults(&r, p);
	ck_assert(!r.data_unacked);
	ck_assert_ptr_null(strstr(r.reason, "accept queue"));
	ck_assert_ptr_null(strstr(r.reason, LP_DATA_UNACKED_WHY));
	ck_assert_ptr_nonnull(strstr(r.reason, "(fault server:rst:S1)"));
	lp_fault_plan_free(p);
	lp_engine_free(e);
	tf_free(t);
}
END_TEST

Suite *flowset_suite(void)
{
	Suite *s = suite_create("flowset");
	TCase *tc = tcase_create("flowset");

	tcase_add_test(tc, test_busiest);
	tcase_add_test(tc, test_shard_partition);
	tcase_add_test(tc, test_parse_shard);
	tcase_add_test(tc, test_shard_ports);
	tcase_add_test(tc, test_rto_jitter);
	tcase_add_test(tc, test_data_unacked);
	tcase_add_test(tc, test_data_unacked_not_so);
	suite_add_tcase(s, tc);
	return s;
}

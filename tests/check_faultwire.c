/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fault plan on a live wire (faultwire.c): two engines, each behind its
 * own lp_fwire as a live program would have it, joined by a scripted wire
 * on a clock the test moves. A receive-side fault must make the real sender
 * retransmit; a send-side one must reach the wire as the plan says.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/faultwire.h"
#include "tcpliveplay/pkt.h"
#include "testflow.h"

#define LATENCY 50000ull
#define MAXPKT 4096

struct pkt {
	uint8_t buf[2048];
	size_t len;
	uint64_t at;
	int to;
};

struct end {
	struct pair *pr;
	int me;
	struct lp_engine *e;
	struct lp_fwire *fw;
	struct lp_fault_plan *plan;
	unsigned retransmits, faults, sent;
};

struct pair {
	struct end end[2];      /* by role */
	struct pkt *wire;       /* in flight */
	size_t nwire;
	uint64_t now;
	unsigned corrupt_seen[2];
};

static int wire_send(void *ctx, const uint8_t *ip, size_t len, const struct lp_gso *g)
{
	struct end *e = ctx;
	struct pair *pr = e->pr;
	struct pkt *p = &pr->wire[pr->nwire++];
	struct lp_seg s;

	/* No io.gso: plain packets only. */
	ck_assert_ptr_null(g);
	ck_assert_uint_lt(pr->nwire, MAXPKT);
	ck_assert_uint_le(len, sizeof(p->buf));
	memcpy(p->buf, ip, len);
	p->len = len;
	p->at = pr->now + LATENCY;
	p->to = !e->me;
	e->sent++;
	if (lp_pkt_parse(ip, len, &s) == -EBADMSG)
		pr->corrupt_seen[e->me]++;
	return 0;
}

static void deliver(void *ctx, const uint8_t *ip, size_t len, unsigned flags, uint64_t now)
{
	struct end *e = ctx;

	lp_engine_input_rx(e->e, ip, len, flags, now);
}

static void on_event(void *ctx, const struct lp_event *ev)
{
	struct end *e = ctx;

	if (ev->kind == LP_EV_RETRANSMIT && ev->role == (enum lp_role)e->me)
		e->retransmits++;
	if (ev->kind == LP_EV_FAULT)
		e->faults++;
}

static void flush(struct end *e)
{
	uint8_t buf[2048];
	int n;

	while ((n = lp_engine_output(e->e, buf, sizeof(buf), e->pr->now)) > 0)
		ck_assert_int_eq(lp_fwire_out(e->fw, buf, (size_t)n, e->pr->now), 0);
	ck_assert_int_eq(n, 0);
}

/* Run fl with the client's plan cspecs and the server's sspecs (each end
 * applies its own plan: its side's faults on what it sends, the other's on
 * what arrives). */
static void run(struct pair *pr, const struct lp_flow *fl, const char *const *cspecs, size_t nc,
		const char *const *sspecs, size_t ns, uint64_t seed)
{
	char err[200];

	memset(pr, 0, sizeof(*pr));
	pr->wire = calloc(MAXPKT, sizeof(*pr->wire));
	ck_assert_ptr_nonnull(pr->wire);
	for (int r = 0; r < 2; r++) {
		struct end *e = &pr->end[r];
		const char *const *specs = r ? sspecs : cspecs;
		struct lp_engine_cfg cfg;
		struct lp_fwire_cfg fc;

		e->pr = pr;
		e->me = r;
		ck_assert_int_eq(lp_fault_plan_new(&e->plan), 0);
		for (size_t i = 0; i < (r ? ns : nc); i++)
			ck_assert_msg(lp_fault_plan_add(e->plan, specs[i], err, sizeof(err)) == 0, "%s", err);
		lp_fault_plan_reset(e->plan, seed);
		lp_engine_cfg_defaults(&cfg);
		cfg.role = (enum lp_role)r;
		cfg.local = r ? fl->server : fl->client;
		cfg.remote = r ? fl->client : fl->server;
		if (r)
			cfg.remote.port = 0;
		else
			cfg.local.port = 41000;
		cfg.isn = r ? 0x10000000u : 0xfffff000u;
		cfg.faults = e->plan;
		cfg.on_event = on_event;
		cfg.ctx = e;
		ck_assert_int_eq(lp_engine_new(fl, &cfg, &e->e), 0);
		memset(&fc, 0, sizeof(fc));
		fc.plan = e->plan;
		fc.local = r ? LP_FAULT_SERVER : LP_FAULT_CLIENT;
		fc.e = e->e;
		fc.io.send = wire_send;
		fc.io.deliver = deliver;
		fc.io.ctx = e;
		fc.on_event = on_event;
		fc.ctx = e;
		ck_assert_int_eq(lp_fwire_new(&fc, &e->fw), 0);
	}
	for (int step = 0; step < 200000; step++) {
		uint64_t t = UINT64_MAX;
		size_t first = SIZE_MAX;

		for (int r = 0; r < 2; r++)
			flush(&pr->end[r]);
		if (lp_engine_state(pr->end[0].e) != LP_ENGINE_RUNNING &&
		    (lp_engine_state(pr->end[1].e) != LP_ENGINE_RUNNING || !pr->nwire))
			break;
		for (size_t i = 0; i < pr->nwire; i++)
			if (pr->wire[i].at < t) {
				t = pr->wire[i].at;
				first = i;
			}
		for (int r = 0; r < 2; r++) {
			uint64_t a = lp_engine_next_timer(pr->end[r].e), b = lp_fwire_next(pr->end[r].fw);

			if (a < t)
				t = a;
			if (b < t)
				t = b;
		}
		ck_assert_uint_ne(t, UINT64_MAX);
		if (t > pr->now)
			pr->now = t;
		if (first != SIZE_MAX && pr->wire[first].at <= pr->now) {
			struct pkt p = pr->wire[first];

			memmove(&pr->wire[first], &pr->wire[first + 1], (pr->nwire - first - 1) * sizeof(p));
			pr->nwire--;
			lp_fwire_in(pr->end[p.to].fw, p.buf, p.len, 0, pr->now);
			continue;
		}
		for (int r = 0; r < 2; r++) {
			struct end *e = &pr->end[r];

			ck_assert_int_eq(lp_fwire_run(e->fw, pr->now), 0);
			if (lp_engine_next_timer(e->e) <= pr->now)
				lp_engine_timeout(e->e, pr->now);
		}
	}
}

static void done(struct pair *pr)
{
	for (int r = 0; r < 2; r++) {
		lp_fwire_free(pr->end[r].fw);
		lp_engine_free(pr->end[r].e);
		lp_fault_plan_free(pr->end[r].plan);
	}
	free(pr->wire);
}

/* A request, a response of several segments, both close. */
static struct tflow *flow(void)
{
	struct tflow *t = tf_new(AF_INET, 3000, 20000);

	tf_data(t, 0, 3000, 1448);
	tf_data(t, 1, 20000, 1448);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	return t;
}

static void both_done(const struct pair *pr, const struct tflow *t)
{
	struct lp_engine_stats c, s;

	lp_engine_stats(pr->end[0].e, &c);
	lp_engine_stats(pr->end[1].e, &s);
	ck_assert_int_eq(lp_engine_state(pr->end[0].e), LP_ENGINE_DONE);
	ck_assert_int_eq(lp_engine_state(pr->end[1].e), LP_ENGINE_DONE);
	ck_assert_uint_eq(c.received_bytes, t->fl.dir[LP_S2C].len);
	ck_assert_uint_eq(s.received_bytes, t->fl.dir[LP_C2S].len);
}

/* Plans given only to the receiving end: the sender's engine, knowing
 * nothing of them, has to retransmit what was dropped on arrival. */
START_TEST(test_receive_side_drop)
{
	static const char *const cl[] = { "server:drop:S3" }, *const sv[] = { "client:drop:C2" };
	struct tflow *t = flow();
	struct pair pr;
	char name[48];

	run(&pr, &t->fl, cl, 1, sv, 1, 1);
	both_done(&pr, t);
	ck_assert_uint_eq(pr.end[1].retransmits, 1);
	ck_assert_uint_eq(pr.end[0].retransmits, 1);
	ck_assert_uint_eq(lp_fault_plan_fired(pr.end[0].plan), 1);
	ck_assert_uint_eq(lp_fault_plan_fired(pr.end[1].plan), 1);
	ck_assert_str_eq(lp_fault_fired_str(lp_fault_plan_log(pr.end[0].plan, 0), name, sizeof(name)),
			 "server:drop:S3");
	ck_assert_str_eq(lp_fault_fired_str(lp_fault_plan_log(pr.end[1].plan, 0), name, sizeof(name)),
			 "client:drop:C2");
	ck_assert_uint_eq(pr.end[0].faults, 1);
	done(&pr);
	tf_free(t);
}
END_TEST

/* The peer cuts its stream otherwise than the capture: a receive-side fault
 * fires on the first packet carrying any byte of the captured segment. */
START_TEST(test_receive_side_other_cut)
{
	static const char *const cl[] = { "server:drop:S3" };
	struct tflow *t = tf_new(AF_INET, 3000, 20000);
	struct pair pr;

	/* The server engine sends 1448-byte segments; the capture the client
	 * knows cut the response in 500-byte ones: S3 is bytes 1000-1499,
	 * carried by the server's first and second segments. */
	tf_data(t, 0, 3000, 1448);
	tf_data(t, 1, 20000, 500);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	run(&pr, &t->fl, cl, 1, NULL, 0, 1);
	both_done(&pr, t);
	ck_assert_uint_eq(lp_fault_plan_fired(pr.end[0].plan), 1);
	ck_assert_uint_eq(pr.end[1].retransmits, 1);
	done(&pr);
	tf_free(t);
}
END_TEST

/* Send-side faults reach the wire: a corrupt segment leaves with a bad
 * checksum and is sent again; delay, dup and reorder still match. */
START_TEST(test_send_side)
{
	static const char *const cl[] = { "client:corrupt:C1", "client:delay:C2:300", "client:dup:C3" },
				 *const sv[] = { "server:reorder:S1", "server:dup:5%" };
	struct tflow *t = flow();
	struct pair pr;

	run(&pr, &t->fl, cl, 3, sv, 2, 7);
	both_done(&pr, t);
	ck_assert_uint_eq(pr.corrupt_seen[0], 1);
	ck_assert_uint_eq(pr.corrupt_seen[1], 0);
	ck_assert_uint_eq(lp_fault_plan_fired(pr.end[0].plan), 3);
	ck_assert_uint_ge(lp_fault_plan_fired(pr.end[1].plan), 1);
	/* C1 went again (its first copy was damaged), and so did C2 (held
	 * 300 ms, past the retransmission timeout). */
	ck_assert_uint_ge(pr.end[0].retransmits, 2);
	done(&pr);
	tf_free(t);
}
END_TEST

/* The same seed and probabilistic plan: the same faults on the same
 * segments; another seed, others. */
START_TEST(test_same_seed_same_faults)
{
	static const char *const cl[] = { "client:loss:20%", "server:loss:20%" };
	struct tflow *t = flow();
	struct lp_fault_fired a[64], b[64];
	size_t na = 0, nb = 0;
	struct pair pr;

	for (int k = 0; k < 3; k++) {
		struct lp_fault_fired *dst = k == 1 ? b : a;
		size_t *n = k == 1 ? &nb : &na;

		run(&pr, &t->fl, cl, 2, NULL, 0, k == 2 ? 99 : 5);
		both_done(&pr, t);
		if (k == 2) {
			bool same = lp_fault_plan_nlog(pr.end[0].plan) == na;

			for (size_t i = 0; same && i < na; i++)
				same = lp_fault_plan_log(pr.end[0].plan, i)->label == a[i].label &&
				       lp_fault_plan_log(pr.end[0].plan, i)->side == a[i].side;
			ck_assert(!same);
		} else {
			*n = lp_fault_plan_nlog(pr.end[0].plan);
			ck_assert_uint_gt(*n, 1);
			ck_assert_uint_le(*n, 64);
			for (size_t i = 0; i < *n; i++)
				dst[i] = *lp_fault_plan_log(pr.end[0].plan, i);
		}
		done(&pr);
	}
	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		ck_assert_int_eq(a[i].side, b[i].side);
		ck_assert_int_eq(a[i].kind, b[i].kind);
		ck_assert_uint_eq(a[i].label, b[i].label);
	}
	tf_free(t);
}
END_TEST

/* The path's faults of the sending side: a packet larger than the emulated
 * hop never reaches the wire, its error goes back to the engine, which
 * sends smaller segments; an unreachable for the SYN ends the connection. */
START_TEST(test_path_faults)
{
	static const char *const cl[] = { "client:mtu:1000" }, *const sv[] = { "server:mtu:800" };
	static const char *const syn[] = { "client:unreachable:syn" };
	struct lp_engine_stats c, s;
	struct tflow *t = flow();
	struct pair pr;

	run(&pr, &t->fl, cl, 1, sv, 1, 3);
	both_done(&pr, t);
	lp_engine_stats(pr.end[0].e, &c);
	lp_engine_stats(pr.end[1].e, &s);
	ck_assert_uint_eq(c.path_mtu, 1000);
	ck_assert_uint_eq(s.path_mtu, 800);
	ck_assert_uint_ge(c.icmp_accepted, 1);
	ck_assert_uint_ge(lp_fault_plan_fired(pr.end[1].plan), 1);
	ck_assert_int_eq(lp_fault_plan_log(pr.end[1].plan, 0)->kind, LP_FAULT_MTU);
	done(&pr);

	run(&pr, &t->fl, syn, 1, NULL, 0, 3);
	ck_assert_int_eq(lp_engine_state(pr.end[0].e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(pr.end[0].e), "ICMP destination unreachable "
			 "(administratively prohibited) from 198.18.0.2");
	ck_assert_uint_eq(pr.end[0].sent, 0);
	done(&pr);
	tf_free(t);
}
END_TEST

Suite *faultwire_suite(void)
{
	Suite *s = suite_create("faultwire");
	TCase *tc = tcase_create("faultwire");

	tcase_add_test(tc, test_receive_side_drop);
	tcase_add_test(tc, test_receive_side_other_cut);
	tcase_add_test(tc, test_send_side);
	tcase_add_test(tc, test_same_seed_same_faults);
	tcase_add_test(tc, test_path_faults);
	suite_add_tcase(s, tc);
	return s;
}

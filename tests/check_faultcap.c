/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --fault captured: what the flow model reads as gone wrong on the captured
 * wire (incidents) and the fault plan made of it, from captures written by
 * pcapgen; and the plan replayed in simulation does what the capture shows.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pcapgen.h"
#include "tcpliveplay/faultcap.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/sim.h"
#include "tmpdir.h"

#define MS 1000000ull

static const struct pg_conv conv = { .family = AF_INET, .cisn = 1000, .sisn = 5000 };

static char body[4096];

/* Handshake and a 20-byte request: 4 packets; the server's answer follows. */
static size_t start(struct pg_pkt *p)
{
	memset(body, 'x', sizeof(body));
	p[0] = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN, .ts = 1000 * MS };
	p[1] = (struct pg_pkt){ .dir = PG_S, .flags = PG_SA, .ack = 1 };
	p[2] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 };
	p[3] = (struct pg_pkt){ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = body, .len = 20 };
	return 4;
}

/* Server data segment k (1-based, 100 bytes each). */
static struct pg_pkt sdata(unsigned k)
{
	return (struct pg_pkt){ .dir = PG_S, .flags = PG_PA, .seq = 1 + 100 * (k - 1), .ack = 21,
				.data = body, .len = 100 };
}

static struct pg_pkt cack(uint32_t ack, uint16_t win)
{
	return (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 21, .ack = ack, .window = win,
				.zero_window = !win };
}

/* FINs both ways after n server segments of 100 bytes. */
static size_t finish(struct pg_pkt *p, size_t i, unsigned n)
{
	p[i++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_FA, .seq = 1 + 100 * n, .ack = 21 };
	p[i++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_FA, .seq = 21, .ack = 2 + 100 * n };
	p[i++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 2 + 100 * n, .ack = 22 };
	return i;
}

/* S1 to S4, S2 lost: seen (after the capture point) or not (before it);
 * the client's duplicate ACKs ask for it, it comes again. */
static size_t s2_lost(struct pg_pkt *p, size_t n, bool seen)
{
	p[n++] = sdata(1);
	p[n++] = cack(101, 0xffff);
	if (seen)
		p[n++] = sdata(2);
	p[n++] = sdata(3);
	p[n++] = cack(101, 0xffff);
	p[n++] = sdata(4);
	p[n++] = cack(101, 0xffff);
	p[n++] = sdata(2);
	p[n++] = cack(401, 0xffff);
	return n;
}

static struct lp_flows *load(const struct pg_pkt *p, size_t n)
{
	const char *path = tpath("c.pcap");
	struct lp_flows *fs = NULL;
	char err[256];

	ck_assert_int_eq(pg_write(path, PG_ETH, &conv, p, n), 0);
	ck_assert_msg(lp_flows_load(path, NULL, NULL, &fs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(lp_flows_count(fs), 1);
	return fs;
}

/* The derived specs of the only flow, joined by spaces. */
static const char *derived(const struct lp_flows *fs)
{
	static char buf[1024];
	struct lp_capfault *v;
	size_t n, used = 0;

	ck_assert_int_eq(lp_faultcap_derive(lp_flows_get(fs, 1), &v, &n), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? " " : "",
					 v[i].spec[0] ? v[i].spec : "#");
	free(v);
	return buf;
}

/* Lost after the capture point (the capture is the client's): S2 seen,
 * the client's duplicate ACKs ask for it, it comes again. */
START_TEST(loss_after_capture_point)
{
	struct pg_pkt p[32];
	size_t n = start(p);
	struct lp_flows *fs;
	const struct lp_flow *fl;

	n = finish(p, s2_lost(p, n, true), 4);
	fs = load(p, n);
	fl = lp_flows_get(fs, 1);
	ck_assert_uint_eq(fl->nincidents, 1);
	ck_assert_uint_eq(fl->incidents[0].kind, LP_INC_RETRANSMIT);
	ck_assert_uint_eq(fl->incidents[0].dir, LP_S2C);
	ck_assert_uint_eq(fl->incidents[0].offset, 100);
	ck_assert_uint_eq(fl->incidents[0].packet, 12);
	ck_assert_str_eq(derived(fs), "server:drop:S2");
	lp_flows_free(fs);
}
END_TEST

/* Lost before the capture point: S2 never seen first, arrives after the
 * duplicate ACKs asked for it. */
START_TEST(loss_before_capture_point)
{
	struct pg_pkt p[32];
	size_t n = start(p);
	struct lp_flows *fs;

	n = finish(p, s2_lost(p, n, false), 4);
	fs = load(p, n);
	ck_assert_uint_eq(lp_flows_get(fs, 1)->incidents[0].kind, LP_INC_LATE);
	ck_assert_str_eq(derived(fs), "server:drop:S2");
	lp_flows_free(fs);
}
END_TEST

/* Not losses: data sent again that the peer had acknowledged (spurious), a
 * segment merely captured out of order (no duplicate ACK asked for it). */
START_TEST(no_loss)
{
	struct pg_pkt p[32];
	size_t n = start(p);
	struct lp_flows *fs;

	p[n++] = sdata(1);
	p[n++] = sdata(3);
	p[n++] = sdata(2);
	p[n++] = cack(301, 0xffff);
	p[n++] = sdata(2);
	n = finish(p, n, 3);
	fs = load(p, n);
	ck_assert_uint_eq(lp_flows_get(fs, 1)->nincidents, 0);
	ck_assert_str_eq(derived(fs), "");
	lp_flows_free(fs);
}
END_TEST

/* The request captured twice at once (a network duplicate), and the same
 * request again 300 ms later (a retransmission by its timer). */
START_TEST(duplicate_and_retransmission)
{
	struct pg_pkt p[32];
	size_t n = start(p);
	struct lp_flows *fs;

	p[n] = p[n - 1];
	p[n++].ts = 1000 * MS + 4 * MS;
	p[n] = p[n - 1];
	p[n++].ts = 1300 * MS;
	p[n++] = sdata(1);
	n = finish(p, n, 1);
	fs = load(p, n);
	ck_assert_str_eq(derived(fs), "client:dup:C1 client:drop:C1");
	lp_flows_free(fs);
}
END_TEST

/* A zero window: the client's after S1, for 300 ms; the server's before any
 * client data cannot be said (a note). */
START_TEST(zero_windows)
{
	struct pg_pkt p[32];
	size_t n = start(p);
	struct lp_flows *fs;

	p[1].zero_window = true;
	p[2].ts = 1010 * MS;
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 1, .ack = 1, .zero_window = true };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 1, .ack = 1, .window = 1000 };
	p[n++] = sdata(1);
	p[n] = cack(101, 0);
	p[n++].ts = 2000 * MS;
	p[n] = cack(101, 0xffff);
	p[n++].ts = 2000 * MS + 299 * MS + 500000;
	p[n++] = sdata(2);
	n = finish(p, n, 2);
	fs = load(p, n);
	ck_assert_str_eq(derived(fs), "# client:zero-window:S1:300");
	lp_flows_free(fs);
}
END_TEST

/* A client's reset after its last data is the schedule's; one with client
 * data after it stands in place of that data. */
START_TEST(client_resets)
{
	struct pg_pkt p[32];
	size_t n = start(p), m;
	struct lp_flows *fs;

	p[n++] = sdata(1);
	m = n;
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_RST | PG_ACK, .seq = 21, .ack = 101 };
	fs = load(p, n);
	ck_assert_str_eq(derived(fs), "#");
	lp_flows_free(fs);
	p[m] = (struct pg_pkt){ .dir = PG_C, .flags = PG_RST | PG_ACK, .seq = 11, .ack = 101 };
	p[3].len = 10;
	p[m + 1] = (struct pg_pkt){ .dir = PG_C, .flags = PG_PA, .seq = 11, .ack = 101, .data = body,
				    .len = 10 };
	fs = load(p, m + 2);
	ck_assert_str_eq(derived(fs), "client:rst:C2");
	lp_flows_free(fs);
}
END_TEST

/* Replayed in simulation, the derived plan does what the capture shows:
 * the server sends S2 again; without it, it does not. And a live program
 * leaves out what only the other side can make. */
START_TEST(derived_plan_replays)
{
	struct pg_pkt p[32];
	size_t n = start(p), left = 9;
	struct lp_flows *fs;
	const struct lp_flow *fl;
	struct lp_fault_plan *plan;
	struct lp_sim_opts o;
	struct lp_report r;

	n = s2_lost(p, n, true);
	p[n] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 401, .ack = 21, .zero_window = true };
	p[n++].ts = 2000 * MS;
	p[n] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 401, .ack = 21, .window = 500 };
	p[n++].ts = 2100 * MS;
	n = finish(p, n, 4);
	fs = load(p, n);
	fl = lp_flows_get(fs, 1);
	ck_assert_str_eq(derived(fs), "server:drop:S2 server:zero-window:C1:100");
	for (int with = 0; with < 2; with++) {
		ck_assert_int_eq(lp_fault_plan_new(&plan), 0);
		if (with)
			ck_assert_int_eq(lp_faultcap_add(plan, fl, false, LP_FAULT_CLIENT, &left), 0);
		lp_sim_opts_init(&o);
		o.seed = 3;
		o.faults = plan;
		ck_assert_int_eq(lp_sim_run(fl, &o, &r, NULL, NULL), 0);
		ck_assert_int_eq(r.verdict, LP_VERDICT_MATCHED);
		ck_assert_uint_eq(r.faults_fired, with ? 2 : 0);
		lp_fault_plan_free(plan);
	}
	ck_assert_uint_eq(left, 0);
	ck_assert_int_eq(lp_fault_plan_new(&plan), 0);
	ck_assert_int_eq(lp_faultcap_add(plan, fl, true, LP_FAULT_CLIENT, &left), 0);
	ck_assert_uint_eq(lp_fault_plan_count(plan), 1);
	ck_assert_uint_eq(left, 1);
	lp_fault_plan_free(plan);
	lp_flows_free(fs);
}
END_TEST

Suite *faultcap_suite(void)
{
	Suite *s = suite_create("faultcap");
	TCase *tc = tcase_create("faultcap");

	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loss_after_capture_point);
	tcase_add_test(tc, loss_before_capture_point);
	tcase_add_test(tc, no_loss);
	tcase_add_test(tc, duplicate_and_retransmission);
	tcase_add_test(tc, zero_windows);
	tcase_add_test(tc, client_resets);
	tcase_add_test(tc, derived_plan_replays);
	suite_add_tcase(s, tc);
	return s;
}

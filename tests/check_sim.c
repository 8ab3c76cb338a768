/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Simulation: client engine against server engine over the in-memory wire.
 * Hand-built flows first (they run on a fresh clone), then every single-flow
 * capture in ../shared/pcaps (TCPLIVEPLAY_PCAPS overrides) where present.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tcpliveplay/icmp.h"
#include "tcpliveplay/multi.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/sim.h"
#include "testflow.h"
#include "skip.h"
#include "tmpdir.h"

#define PROPERTY_SEEDS 200

static const char *const noisy[] = {
	"client:loss:5%", "client:dup:3%", "client:reorder:3%",
	"server:loss:5%", "server:dup:3%", "server:reorder:3%",
};

struct run {
	struct lp_report r;
	struct lp_sim_detail d;
	int rc;
};

/* Simulate fl with the given faults; a bad spec fails the test. */
static void sim(const struct lp_flow *fl, const char *const *faults, size_t nfaults, uint64_t seed,
		enum lp_match match, struct run *out, lp_event_fn cb, void *ctx)
{
	struct lp_fault_plan *p;
	struct lp_sim_opts o;
	char err[200];

	ck_assert_int_eq(lp_fault_plan_new(&p), 0);
	for (size_t i = 0; i < nfaults; i++)
		ck_assert_msg(lp_fault_plan_add(p, faults[i], err, sizeof(err)) == 0, "%s", err);
	lp_sim_opts_init(&o);
	o.seed = seed;
	o.faults = p;
	o.match = match;
	memset(out, 0, sizeof(*out));
	out->rc = lp_sim_run_detail(fl, &o, &out->r, &out->d, cb, ctx);
	lp_fault_plan_free(p);
}

/* Matched, and each side received exactly the other's captured stream (its
 * bytes compared under the bytes policy only). */
static bool byte_exact(const struct lp_flow *fl, const struct run *x)
{
	return x->rc == 0 && x->r.verdict == LP_VERDICT_MATCHED && x->r.exit_code == 0 &&
	       x->d.side[LP_ROLE_CLIENT].received_bytes == fl->dir[LP_S2C].len &&
	       x->d.side[LP_ROLE_SERVER].received_bytes == fl->dir[LP_C2S].len &&
	       x->d.side[LP_ROLE_CLIENT].first_diff < 0 && x->d.side[LP_ROLE_SERVER].first_diff < 0;
}

static void explain(const char *what, uint64_t seed, const struct run *x)
{
	printf("%s: seed %llu: rc %d, %s%s%s, received %llu/%llu and %llu, first diff %lld/%lld\n",
	       what, (unsigned long long)seed, x->rc, lp_verdict_str(x->r.verdict),
	       x->r.reason[0] ? ": " : "", x->r.reason,
	       (unsigned long long)x->d.side[0].received_bytes,
	       (unsigned long long)x->r.expected_received_bytes,
	       (unsigned long long)x->d.side[1].received_bytes,
	       (long long)x->d.side[0].first_diff, (long long)x->d.side[1].first_diff);
	fflush(stdout);
}

/* --- Hand-built flows -------------------------------------------------- */

enum shape {
	SH_REQ_RESP,      /* request, long response, client closes after it */
	SH_BANNER,        /* server speaks first, several exchanges, server closes first */
	SH_HALF_CLOSE,    /* client sends and shuts down at once, server answers, closes */
	SH_NO_FIN,        /* capture ends without FIN */
	SH_SERVER_RST,    /* the server resets at the end, as captured */
	SH_CLIENT_RST,    /* the client resets at the end, as captured */
	SH_PIPELINE,      /* two requests back to back, large answers */
	SH_EMPTY,         /* handshake and FINs only */
	SH_COUNT,
};

static struct tflow *shape(enum shape sh, int family)
{
	struct tflow *t = tf_new(family, 600000, 2000000);

	switch (sh) {
	case SH_REQ_RESP:
		tf_seg(t, 0, 300, LP_TH_PSH, -1);
		tf_data(t, 1, 70000, 1448);
		tf_seg(t, 0, 0, LP_TH_FIN, -1);
		tf_seg(t, 1, 0, LP_TH_FIN, -1);
		break;
	case SH_BANNER:
		tf_seg(t, 1, 40, LP_TH_PSH, -1);
		for (int i = 0; i < 5; i++) {
			tf_seg(t, 0, (uint32_t)(20 + i * 10), LP_TH_PSH, -1);
			tf_data(t, 1, (uint64_t)(1100 + i * 1000), 1448);
		}
		tf_seg(t, 1, 0, LP_TH_FIN, -1);
		tf_seg(t, 0, 0, LP_TH_FIN, -1);
		break;
	case SH_HALF_CLOSE:
		tf_data(t, 0, 5000, 1448);
		tf_seg(t, 0, 0, LP_TH_FIN, 0);
		tf_data(t, 1, 9000, 1448);
		tf_seg(t, 1, 0, LP_TH_FIN, -1);
		break;
	case SH_NO_FIN:
		tf_seg(t, 0, 100, LP_TH_PSH, -1);
		tf_data(t, 1, 3000, 1448);
		tf_seg(t, 0, 50, LP_TH_PSH, -1);
		tf_data(t, 1, 200, 1448);
		break;
	case SH_SERVER_RST:
		tf_seg(t, 0, 100, LP_TH_PSH, -1);
		tf_data(t, 1, 3000, 1448);
		tf_seg(t, 1, 0, LP_TH_RST, -1);
		break;
	case SH_CLIENT_RST:
		tf_seg(t, 0, 100, LP_TH_PSH, -1);
		tf_data(t, 1, 3000, 1448);
		tf_seg(t, 0, 0, LP_TH_RST, -1);
		break;
	case SH_PIPELINE:
		tf_seg(t, 0, 200, LP_TH_PSH, -1);
		tf_seg(t, 0, 300, LP_TH_PSH, -1);
		tf_data(t, 1, 600000, 16384);
		tf_data(t, 0, 300000, 16384);
		tf_data(t, 1, 400000, 16384);
		tf_seg(t, 0, 0, LP_TH_FIN, -1);
		tf_seg(t, 1, 0, LP_TH_FIN, -1);
		break;
	case SH_EMPTY:
	case SH_COUNT:
		tf_seg(t, 0, 0, LP_TH_FIN, -1);
		tf_seg(t, 1, 0, LP_TH_FIN, -1);
		break;
	}
	return t;
}

START_TEST(test_synth_matched)
{
	for (int fam = 0; fam < 2; fam++) {
		struct tflow *t = shape((enum shape)_i, fam ? AF_INET6 : AF_INET);
		struct run x;

		sim(&t->fl, NULL, 0, 1, LP_MATCH_STREAM, &x, NULL, NULL);
		if (!byte_exact(&t->fl, &x))
			explain("synth", 1, &x);
		ck_assert_msg(byte_exact(&t->fl, &x), "shape %d family %d", _i, fam);
		ck_assert_uint_eq(x.r.ndiv_total, 0);
		ck_assert_uint_eq(x.r.faults_fired, 0);
		ck_assert_uint_eq(x.r.retransmissions, 0);
		sim(&t->fl, NULL, 0, 1, LP_MATCH_BYTES, &x, NULL, NULL);
		ck_assert_msg(byte_exact(&t->fl, &x), "bytes policy, shape %d", _i);
		sim(&t->fl, NULL, 0, 1, LP_MATCH_SIZE, &x, NULL, NULL);
		ck_assert_msg(byte_exact(&t->fl, &x), "size policy, shape %d", _i);
		tf_free(t);
	}
}
END_TEST

/* 5% loss, 3% duplication, 3% reordering both ways still replays exactly. */
START_TEST(test_synth_property)
{
	struct tflow *t = shape((enum shape)_i, AF_INET);
	unsigned bad = 0;

	for (uint64_t seed = 1; seed <= PROPERTY_SEEDS; seed++) {
		struct run x;

		sim(&t->fl, noisy, 6, seed, LP_MATCH_BYTES, &x, NULL, NULL);
		if (!byte_exact(&t->fl, &x)) {
			bad++;
			explain("synth property", seed, &x);
		}
	}
	ck_assert_msg(bad == 0, "shape %d: %u of %d seeds failed", _i, bad, PROPERTY_SEEDS);
	tf_free(t);
}
END_TEST

struct log {
	uint64_t hash;
	unsigned lines;
};

static void log_event(void *ctx, const struct lp_event *ev)
{
	struct log *l = ctx;
	char buf[256];
	const char *s = lp_event_str(ev, buf, sizeof(buf));

	for (; *s; s++)
		l->hash = (l->hash ^ (uint8_t)*s) * 0x100000001b3ull;
	l->hash = (l->hash ^ '\n') * 0x100000001b3ull;
	l->lines++;
}

static uint64_t json_hash(const struct lp_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	uint64_t h = 0xcbf29ce484222325ull;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(lp_report_print_json(r, fp), 0);
	ck_assert_int_eq(lp_report_print_text(r, fp), 0);
	fclose(fp);
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)buf[i]) * 0x100000001b3ull;
	free(buf);
	return h;
}

/* Same seed and faults: the same event log and the same printed report. */
START_TEST(test_determinism)
{
	struct tflow *t = shape(SH_PIPELINE, AF_INET6);
	struct log a = { 0xcbf29ce484222325ull, 0 }, b = a, c = a;
	struct run x, y, z;

	sim(&t->fl, noisy, 6, 1234, LP_MATCH_STREAM, &x, log_event, &a);
	sim(&t->fl, noisy, 6, 1234, LP_MATCH_STREAM, &y, log_event, &b);
	sim(&t->fl, noisy, 6, 1235, LP_MATCH_STREAM, &z, log_event, &c);
	ck_assert_uint_gt(a.lines, 100);
	ck_assert_uint_eq(a.lines, b.lines);
	ck_assert_uint_eq(a.hash, b.hash);
	ck_assert_uint_eq(json_hash(&x.r), json_hash(&y.r));
	ck_assert_uint_ne(a.hash, c.hash);
	ck_assert_uint_gt(x.r.faults_fired, 0);
	tf_free(t);
}
END_TEST

struct expect {
	const char *fault;
	enum lp_verdict verdict;
	const char *segment;    /* first divergence's segment, or NULL */
	const char *reason;     /* substring of the reason, or NULL */
};

static const struct expect verdicts[] = {
	{ "server:drop:2", LP_VERDICT_MATCHED, NULL, NULL },
	{ "client:drop:1", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:dup:1", LP_VERDICT_MATCHED, NULL, NULL },
	{ "client:dup:2", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:delay:2:300", LP_VERDICT_MATCHED, NULL, NULL },
	{ "client:delay:1:2000", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:reorder:1", LP_VERDICT_MATCHED, NULL, NULL },
	{ "client:reorder:1", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:corrupt:3", LP_VERDICT_MATCHED, NULL, NULL },
	{ "client:corrupt:2", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:loss:20%", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:truncate:2:100", LP_VERDICT_DIVERGED, "S2", "fewer bytes" },
	{ "client:truncate:2:10", LP_VERDICT_DIVERGED, "C2", "fewer bytes" },
	{ "server:stall:2", LP_VERDICT_FAILED, NULL, "(fault server:stall:S2)" },
	{ "client:stall:C2", LP_VERDICT_FAILED, NULL, "(fault client:stall:C2)" },
	{ "server:rst:2", LP_VERDICT_FAILED, NULL, "reset by peer (fault server:rst:S2)" },
	{ "client:rst:2", LP_VERDICT_FAILED, NULL, "reset sent in place of a segment (fault client:rst:C2)" },
	{ "client:zero-window:S2:3000", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:zero-window:C1:3000", LP_VERDICT_MATCHED, NULL, NULL },
	{ "client:window:700", LP_VERDICT_MATCHED, NULL, NULL },
	{ "server:window:100", LP_VERDICT_MATCHED, NULL, NULL },
};

/* Each fault kind gives its documented verdict (on SH_BANNER: S1 banner,
 * then C1 S2 C2 S3 ...). */
START_TEST(test_fault_verdicts)
{
	const struct expect *ex = &verdicts[_i];
	struct tflow *t = shape(SH_BANNER, AF_INET);
	struct run x;

	sim(&t->fl, &ex->fault, 1, 7, LP_MATCH_STREAM, &x, NULL, NULL);
	ck_assert_int_eq(x.rc, 0);
	if (x.r.verdict != ex->verdict)
		explain(ex->fault, 7, &x);
	ck_assert_msg(x.r.verdict == ex->verdict, "%s: %s", ex->fault, lp_verdict_str(x.r.verdict));
	ck_assert_int_eq(x.r.exit_code, ex->verdict == LP_VERDICT_MATCHED ? 0 : 1);
	ck_assert_uint_ge(x.r.faults_fired, 1);
	if (ex->verdict == LP_VERDICT_MATCHED) {
		/* The bytes too: only the bytes policy compares them. */
		sim(&t->fl, &ex->fault, 1, 7, LP_MATCH_BYTES, &x, NULL, NULL);
		ck_assert_msg(byte_exact(&t->fl, &x), "%s", ex->fault);
	}
	if (ex->segment) {
		ck_assert_uint_ge(x.r.ndiv, 1);
		ck_assert_str_eq(x.r.div[0].segment, ex->segment);
	}
	if (ex->reason)
		ck_assert_msg(strstr(x.r.reason, ex->reason), "%s: reason '%s'", ex->fault, x.r.reason);
	tf_free(t);
}
END_TEST

struct icmp_expect {
	const char *fault;
	enum shape sh;
	int family;
	enum lp_verdict verdict;
	const char *reason;     /* the reason, or NULL */
	unsigned path_mtu;      /* the client's at the end */
	bool blackhole;
};

static const struct icmp_expect icmp_cases[] = {
	{ "server:mtu:1280", SH_REQ_RESP, AF_INET, LP_VERDICT_MATCHED, NULL, 0, false },
	{ "client:mtu:1280", SH_PIPELINE, AF_INET, LP_VERDICT_MATCHED, NULL, 1280, false },
	{ "server:mtu:1280", SH_PIPELINE, AF_INET6, LP_VERDICT_MATCHED, NULL, 0, false },
	{ "client:mtu:1280", SH_PIPELINE, AF_INET6, LP_VERDICT_MATCHED, NULL, 1280, false },
	{ "client:mtu:576", SH_HALF_CLOSE, AF_INET, LP_VERDICT_MATCHED, NULL, 576, false },
	/* An IPv6 MTU below 1280 is not taken: the black hole is found. */
	{ "client:mtu:600", SH_HALF_CLOSE, AF_INET6, LP_VERDICT_MATCHED, NULL, 572, true },
	{ "client:unreachable:syn", SH_BANNER, AF_INET, LP_VERDICT_FAILED,
	  "ICMP destination unreachable (administratively prohibited) from 198.18.0.2", 0, false },
	{ "client:unreachable:syn:4", SH_BANNER, AF_INET6, LP_VERDICT_FAILED,
	  "ICMPv6 destination unreachable (port unreachable) from 2001:db8::2", 0, false },
	{ "client:unreachable:syn:1", SH_BANNER, AF_INET, LP_VERDICT_FAILED,
	  "ICMP destination unreachable (host unreachable) from 198.18.0.2", 0, false },
	/* Established: soft, the retransmission gets through. */
	{ "client:unreachable:2:1", SH_BANNER, AF_INET, LP_VERDICT_MATCHED, NULL, 0, false },
	{ "server:unreachable:2:3", SH_BANNER, AF_INET6, LP_VERDICT_MATCHED, NULL, 0, false },
};

/* The emulated path's ICMP errors: smaller-MTU hops in either direction
 * (RFC 1191, 8201), unreachables before and after the handshake. */
START_TEST(test_icmp_faults)
{
	const struct icmp_expect *ex = &icmp_cases[_i];
	struct tflow *t = shape(ex->sh, ex->family);
	struct run x, y;

	sim(&t->fl, &ex->fault, 1, 11, LP_MATCH_STREAM, &x, NULL, NULL);
	ck_assert_int_eq(x.rc, 0);
	if (x.r.verdict != ex->verdict)
		explain(ex->fault, 11, &x);
	ck_assert_msg(x.r.verdict == ex->verdict, "%s: %s", ex->fault, lp_verdict_str(x.r.verdict));
	ck_assert_uint_ge(x.r.faults_fired, 1);
	if (ex->verdict == LP_VERDICT_MATCHED)
		ck_assert_msg(byte_exact(&t->fl, &x), "%s", ex->fault);
	if (ex->reason)
		ck_assert_str_eq(x.r.reason, ex->reason);
	ck_assert_uint_eq(x.r.path_mtu, ex->path_mtu);
	ck_assert(x.r.mtu_blackhole == ex->blackhole);
	if (strstr(ex->fault, "client:unreachable:2")) {
		ck_assert_uint_eq(x.r.icmp_accepted, 1);
		ck_assert_str_eq(x.r.icmp_error,
				 "ICMP destination unreachable (host unreachable) from 198.18.0.2");
	}
	/* The same seed, the same run. */
	sim(&t->fl, &ex->fault, 1, 11, LP_MATCH_STREAM, &y, NULL, NULL);
	ck_assert_uint_eq(json_hash(&x.r), json_hash(&y.r));
	tf_free(t);
}
END_TEST

/* What the engines did in a run, by role. */
struct seen {
	unsigned probes[2];         /* window probes sent */
	unsigned faults[2];         /* fault events */
	uint64_t max_rx[2];         /* largest in-order chunk received */
	uint64_t zero_at, probe_at; /* when the window closed, the first probe */
};

static void see_event(void *ctx, const struct lp_event *ev)
{
	struct seen *w = ctx;

	if (ev->kind == LP_EV_RETRANSMIT && ev->reason && !strcmp(ev->reason, "window probe")) {
		if (!w->probes[ev->role]++)
			w->probe_at = ev->now_ns;
	} else if (ev->kind == LP_EV_FAULT) {
		w->faults[ev->role]++;
		if (ev->reason && !strcmp(ev->reason, "zero-window"))
			w->zero_at = ev->now_ns;
	} else if (ev->kind == LP_EV_RECEIVED && ev->len > w->max_rx[ev->role]) {
		w->max_rx[ev->role] = ev->len;
	}
}

/* A zero window in either role: the other side probes it while it is
 * closed, and goes on once it reopens; the replay matches byte for byte. */
START_TEST(test_zero_window)
{
	static const struct {
		const char *fault;
		enum lp_role closer;
	} cases[] = {
		{ "client:zero-window:S3:4000", LP_ROLE_CLIENT },
		{ "server:zero-window:C1:4000", LP_ROLE_SERVER },
	};
	struct tflow *t = tf_new(AF_INET, 100000, 100000);
	enum lp_role closer = cases[_i].closer, prober = (enum lp_role)!closer;
	struct seen w;
	struct run x;

	/* An upload, then a download: more than the initial window each. */
	tf_data(t, 0, 100000, 1448);
	tf_data(t, 1, 100000, 1448);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	memset(&w, 0, sizeof(w));
	sim(&t->fl, &cases[_i].fault, 1, 3, LP_MATCH_STREAM, &x, see_event, &w);
	if (!byte_exact(&t->fl, &x))
		explain(cases[_i].fault, 3, &x);
	ck_assert(byte_exact(&t->fl, &x));
	ck_assert_uint_eq(w.faults[closer], 1);
	ck_assert_uint_eq(x.r.faults_fired, 1);
	ck_assert_uint_ge(w.probes[prober], 2);
	ck_assert_uint_eq(w.probes[closer], 0);
	ck_assert_uint_gt(w.probe_at, w.zero_at);
	ck_assert_uint_lt(w.probe_at, w.zero_at + 4000 * 1000000ull);
	/* The window stayed closed for its 4 s: the run lasts longer. */
	ck_assert_uint_gt(x.r.duration_ns, 4000 * 1000000ull);
	ck_assert_uint_eq(x.r.nfaults, 1);
	ck_assert_int_eq(x.r.faults[0].kind, LP_FAULT_ZERO_WINDOW);
	ck_assert_str_eq(x.r.faults[0].segment, closer == LP_ROLE_CLIENT ? "S3" : "C1");
	tf_free(t);
}
END_TEST

/* A window cap in either role: the peer never sends more at once, and the
 * replay still matches. */
START_TEST(test_window_cap)
{
	static const char *const faults[] = { "client:window:1000", "server:window:1000" };
	struct tflow *t = shape(SH_HALF_CLOSE, AF_INET6);
	struct seen w, plain;
	struct run x;

	memset(&w, 0, sizeof(w));
	memset(&plain, 0, sizeof(plain));
	sim(&t->fl, NULL, 0, 4, LP_MATCH_STREAM, &x, see_event, &plain);
	ck_assert(byte_exact(&t->fl, &x));
	sim(&t->fl, &faults[_i], 1, 4, LP_MATCH_STREAM, &x, see_event, &w);
	ck_assert(byte_exact(&t->fl, &x));
	ck_assert_uint_gt(plain.max_rx[_i], 1000);
	ck_assert_uint_le(w.max_rx[_i], 1000);
	ck_assert_uint_gt(w.max_rx[_i], 0);
	ck_assert_uint_eq(x.r.faults_fired, 1);
	ck_assert_int_eq(x.r.faults[0].kind, LP_FAULT_WINDOW);
	ck_assert_int_eq(x.r.faults[0].side, _i ? LP_FAULT_SERVER : LP_FAULT_CLIENT);
	tf_free(t);
}
END_TEST

/* The JSON report lists each fault that fired: side, kind, segment, time. */
START_TEST(test_faults_json)
{
	static const char *const faults[] = { "server:drop:S2", "client:zero-window:S3:100",
					      "client:dup:100%", "server:dup:100%" };
	struct tflow *t = shape(SH_BANNER, AF_INET), *big = shape(SH_PIPELINE, AF_INET);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct run x;

	/* Every packet twice: more faults than the report lists. */
	sim(&big->fl, faults + 2, 2, 5, LP_MATCH_STREAM, &x, NULL, NULL);
	ck_assert(byte_exact(&big->fl, &x));
	ck_assert_uint_gt(x.r.faults_fired, LP_REPORT_MAX_FAULTS);
	ck_assert_uint_eq(x.r.nfaults, LP_REPORT_MAX_FAULTS);
	sim(&t->fl, faults, 2, 5, LP_MATCH_STREAM, &x, NULL, NULL);
	fp = open_memstream(&buf, &len);
	ck_assert_int_eq(lp_report_print_json(&x.r, fp), 0);
	fclose(fp);
	ck_assert_msg(strstr(buf, "\"faults_fired\":2,\"faults\":[{\"side\":\"server\",\"kind\":\"drop\","
			      "\"segment\":\"S2\",\"time_s\":0."), "%s", buf);
	ck_assert_msg(strstr(buf, "},{\"side\":\"client\",\"kind\":\"zero-window\",\"segment\":\"S3\","
			      "\"time_s\":"), "%s", buf);
	free(buf);
	tf_free(t);
	tf_free(big);
}
END_TEST

/* A truncated S2 under each policy: the divergence names S2 with the byte
 * counts, and for bytes the first differing offset (the other policies
 * count bytes, they do not compare them). */
START_TEST(test_truncate_policies)
{
	struct tflow *t = shape(SH_BANNER, AF_INET);
	const char *f = "server:truncate:3:500";
	const struct lp_segment *s3 = NULL;
	struct run x;

	for (size_t i = 0; i < t->fl.nsegs; i++)
		if (t->fl.segs[i].dir == LP_S2C && t->fl.segs[i].label == 3)
			s3 = &t->fl.segs[i];
	ck_assert_ptr_nonnull(s3);
	for (int m = LP_MATCH_STREAM; m <= LP_MATCH_BYTES; m++) {
		sim(&t->fl, &f, 1, 3, (enum lp_match)m, &x, NULL, NULL);
		ck_assert_int_eq(x.r.verdict, LP_VERDICT_DIVERGED);
		ck_assert_int_eq(x.r.exit_code, 1);
		/* S3 was cut to 500 bytes; S4 (652) followed, shifted. */
		ck_assert_str_eq(x.r.div[0].segment, "S3");
		ck_assert_int_eq(x.r.div[0].first_diff, m == LP_MATCH_BYTES ? (int64_t)(s3->offset + 500) : -1);
		if (m == LP_MATCH_BYTES) {
			ck_assert_str_eq(x.r.div[0].message + 0, x.r.reason);
			ck_assert(strstr(x.r.reason, "bytes differ"));
		} else {
			/* The message S3 belongs to (S3, S4) was 2100 bytes. */
			ck_assert_uint_eq(x.r.ndiv, 1);
			ck_assert_uint_eq(x.r.div[0].expected, s3->offset + 2100);
			ck_assert_uint_eq(x.r.div[0].received, s3->offset + 500 + 652);
		}
	}
	tf_free(t);
}
END_TEST

/* A wire fault on a segment that went out in one packet with others. */
START_TEST(test_coalesced_fault)
{
	struct tflow *t = tf_new(AF_INET, 100, 100);
	const char *f = "server:drop:3";
	struct run x;

	tf_seg(t, 0, 10, LP_TH_PSH, -1);
	for (int i = 0; i < 5; i++)
		tf_seg(t, 1, 10, LP_TH_PSH, 10);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	sim(&t->fl, &f, 1, 1, LP_MATCH_BYTES, &x, NULL, NULL);
	ck_assert_uint_eq(x.r.faults_fired, 1);
	ck_assert(byte_exact(&t->fl, &x));
	tf_free(t);
}
END_TEST

START_TEST(test_bad_plan)
{
	struct tflow *t = shape(SH_REQ_RESP, AF_INET);
	struct lp_fault_plan *p;
	struct lp_sim_opts o;
	struct lp_report r;
	char err[200];

	memset(&r, 0x5a, sizeof(r));
	ck_assert_int_eq(lp_fault_plan_new(&p), 0);
	ck_assert_int_eq(lp_fault_plan_add(p, "client:drop:2", err, sizeof(err)), 0);
	lp_sim_opts_init(&o);
	o.faults = p;
	ck_assert_int_eq(lp_sim_run(&t->fl, &o, &r, NULL, NULL), -EINVAL);
	ck_assert_uint_eq(r.seed, 0x5a5a5a5a5a5a5a5aull);
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

/* Captured think-times are kept (and scaled) with --timing capture|xN. */
START_TEST(test_timing)
{
	struct tflow *t = shape(SH_BANNER, AF_INET);
	struct lp_sim_opts o;
	struct lp_report fast, slow, scaled;

	lp_sim_opts_init(&o);
	ck_assert_int_eq(lp_sim_run(&t->fl, &o, &fast, NULL, NULL), 0);
	ck_assert_int_eq(lp_timing_parse("capture", &o.timing), 0);
	ck_assert_int_eq(lp_sim_run(&t->fl, &o, &slow, NULL, NULL), 0);
	ck_assert_int_eq(lp_timing_parse("x4", &o.timing), 0);
	ck_assert_int_eq(lp_sim_run(&t->fl, &o, &scaled, NULL, NULL), 0);
	ck_assert_int_eq(fast.verdict, LP_VERDICT_MATCHED);
	ck_assert_int_eq(slow.verdict, LP_VERDICT_MATCHED);
	ck_assert_int_eq(scaled.verdict, LP_VERDICT_MATCHED);
	ck_assert_uint_lt(fast.duration_ns, 5000000);
	/* The tf_seg clock puts 1 ms between captured segments. */
	ck_assert_uint_ge(slow.duration_ns, 5000000);
	ck_assert_uint_lt(scaled.duration_ns, slow.duration_ns / 2);
	tf_free(t);
}
END_TEST

/* JSON carries every documented field. */
START_TEST(test_report_json)
{
	struct tflow *t = shape(SH_BANNER, AF_INET6);
	const char *f = "server:truncate:2:10";
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct run x;
	static const char *const keys[] = {
		"\"verdict\":\"diverged\"", "\"exit_code\":1", "\"seed\":9", "\"flow\":{\"client\":\"[2001:db8::1]:",
		"\"server\":\"[2001:db8::2]:80\"", "\"family\":\"IPv6\"", "\"sent\":{\"segments\":",
		"\"received\":{", "\"expected_received_bytes\":", "\"retransmissions\":",
		"\"divergences\":[{\"segment\":\"S2\"", "\"faults_fired\":1", "\"duration_s\":",
		"\"version\":\"",
	};

	sim(&t->fl, &f, 1, 9, LP_MATCH_STREAM, &x, NULL, NULL);
	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(lp_report_print_json(&x.r, fp), 0);
	fclose(fp);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(strstr(buf, keys[i]), "missing %s in %s", keys[i], buf);
	ck_assert_int_eq(buf[len - 1], '\n');
	free(buf);
	tf_free(t);
}
END_TEST

/* Many flows: per-flow lines, totals and the streamed JSON object. */
START_TEST(test_many_report)
{
	struct tflow *t = shape(SH_BANNER, AF_INET);
	const char *f = "server:truncate:2:10";
	struct lp_totals tot;
	struct run ok, bad;
	struct lp_report skip;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	static const char *const keys[] = {
		"{\"flows\":[{\"verdict\":\"matched\"", "\"flow\":{\"id\":1,", "},{\"verdict\":\"diverged\"",
		"\"flow\":{\"id\":2,", "{\"verdict\":\"skipped\"", "\"flow\":{\"id\":3,",
		"],\"totals\":{\"flows\":3,\"matched\":1,\"diverged\":1,\"failed\":0,\"skipped\":1,",
		"\"verdict\":\"diverged\",\"exit_code\":1,\"seed\":77,\"version\":",
		"flow 1: matched: 198.18.0.1:", "flow 2: diverged: ", "flow 3: skipped: 198.18.0.1:40000 -> "
		"198.18.0.2:80 (not this host)\n", "summary: 3 flows: 1 matched, 1 diverged, 0 failed, 1 skipped\n",
	};

	sim(&t->fl, NULL, 0, 9, LP_MATCH_STREAM, &ok, NULL, NULL);
	sim(&t->fl, &f, 1, 9, LP_MATCH_STREAM, &bad, NULL, NULL);
	ok.r.flow_id = 1;
	bad.r.flow_id = 2;
	lp_report_init(&skip);
	skip.verdict = LP_VERDICT_SKIPPED;
	skip.flow_id = 3;
	skip.client = t->fl.client;
	skip.server = t->fl.server;
	snprintf(skip.reason, sizeof(skip.reason), "not this host");
	memset(&tot, 0, sizeof(tot));
	tot.seed = 77;
	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(lp_json_flows_begin(fp), 0);
	ck_assert_int_eq(lp_json_flows_add(fp, &ok.r, 0), 0);
	ck_assert_int_eq(lp_json_flows_add(fp, &bad.r, 1), 0);
	ck_assert_int_eq(lp_json_flows_add(fp, &skip, 2), 0);
	lp_totals_add(&tot, &ok.r);
	lp_totals_add(&tot, &bad.r);
	lp_totals_add(&tot, &skip);
	ck_assert_int_eq(lp_json_flows_end(fp, &tot), 0);
	ck_assert_int_eq(lp_report_print_line(&ok.r, fp), 0);
	ck_assert_int_eq(lp_report_print_line(&bad.r, fp), 0);
	ck_assert_int_eq(lp_report_print_line(&skip, fp), 0);
	ck_assert_int_eq(lp_totals_print_text(&tot, fp), 0);
	fclose(fp);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(strstr(buf, keys[i]), "missing %s in %s", keys[i], buf);
	ck_assert_int_eq(tot.exit_code, 1);
	ck_assert_uint_eq(tot.received.bytes, ok.r.received.bytes + bad.r.received.bytes);
	free(buf);
	tf_free(t);
}
END_TEST

/* The many-flow dispatcher finds a packet's flow by its destination port. */
START_TEST(test_multi_dport)
{
	uint8_t v4[40] = { 0x45, 0, 0, 40, [9] = 6, [22] = 0xc0, [23] = 0x01 };
	uint8_t v4opt[44] = { 0x46, 0, 0, 44, [9] = 6, [26] = 0x12, [27] = 0x34 };
	uint8_t v6[60] = { 0x60, [6] = 6, [42] = 0xff, [43] = 0xfe };
	uint8_t udp[40] = { 0x45, 0, 0, 40, [9] = 17 };

	ck_assert_int_eq(lp_multi_dport(v4, sizeof(v4)), 0xc001);
	ck_assert_int_eq(lp_multi_dport(v4opt, sizeof(v4opt)), 0x1234);
	ck_assert_int_eq(lp_multi_dport(v6, sizeof(v6)), 0xfffe);
	ck_assert_int_eq(lp_multi_dport(udp, sizeof(udp)), -1);
	ck_assert_int_eq(lp_multi_dport(v4, 23), -1);
	ck_assert_int_eq(lp_multi_dport(v4opt, 27), -1);
	ck_assert_int_eq(lp_multi_dport(v6, 43), -1);
	ck_assert_int_eq(lp_multi_dport(v4, 0), -1);
	v4[0] = 0x44;
	ck_assert_int_eq(lp_multi_dport(v4, sizeof(v4)), -1);
	/* An error quoting our segment: our (its source) port. */
	{
		uint8_t seg[40] = { 0x45, 0, 0, 40, [9] = 6, [20] = 0xd0, [21] = 0x07 };
		uint8_t err[128];
		int n = lp_icmp_build_error(err, sizeof(err), seg, sizeof(seg), 3, 13, 0, seg + 16);

		ck_assert_int_eq(lp_multi_dport(err, (size_t)n), 0xd007);
		err[n - 1] ^= 1;
		ck_assert_int_eq(lp_multi_dport(err, (size_t)n), -1);
	}
}
END_TEST

/* Source ports: above the kernel's ephemeral range when they fit, never past
 * 65535, whatever the range says. */
START_TEST(test_pick_ports)
{
	static const unsigned ranges[][2] = {
		{ 32768, 60999 }, { 1024, 65535 }, { 60000, 60000 }, { 0, 0 }, { 65535, 65535 },
		{ 40000, 30000 }, { 50000, 70000 }, { 49152, 65535 }, { 55000, 56000 },
	};
	static const size_t ns[] = { 1, 2, 200, 4535, 4536, 10000, 16384, 16385, 64512 };
	struct lp_rng rng;

	lp_rng_seed(&rng, 5);
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
			for (int t = 0; t < 50; t++) {
				uint16_t p = lp_multi_pick_ports(&rng, ns[k], 1, 1, ranges[r][0], ranges[r][1]);

				ck_assert_uint_ge(p, 1024);
				ck_assert_uint_le((size_t)p + ns[k] - 1, 65535);
			}
		}
	}
	/* The default range leaves 61000-65535: one flow and 4,536 fit there. */
	for (int t = 0; t < 200; t++) {
		ck_assert_uint_ge(lp_multi_pick_ports(&rng, 1, 1, 1, 32768, 60999), 61000);
		ck_assert_uint_eq(lp_multi_pick_ports(&rng, 4536, 1, 1, 32768, 60999), 61000);
	}
	/* Below a high range, within the dynamic ports. */
	for (int t = 0; t < 200; t++) {
		uint16_t p = lp_multi_pick_ports(&rng, 100, 1, 1, 60000, 65535);

		ck_assert(p >= 49152 && p + 99 < 60000);
	}
	ck_assert_uint_eq(lp_multi_pick_ports(&rng, 0, 1, 1, 32768, 60999), 0);
	ck_assert_uint_eq(lp_multi_pick_ports(&rng, 64513, 1, 1, 32768, 60999), 0);
}
END_TEST

/* --- Real captures ------------------------------------------------------ */

static const char *pcaps_dir(void)
{
	const char *d = getenv("TCPLIVEPLAY_PCAPS");

	return d && *d ? d : "../shared/pcaps";
}

typedef void (*capture_fn)(const char *name, const struct lp_flow *fl, unsigned *bad);

/* Call fn for each single-flow capture whose client stream has no holes.
 * Returns the number of captures visited, or -1 when the folder is absent. */
static int each_capture(const char *test, capture_fn fn, unsigned *bad)
{
	struct dirent **names;
	int n, visited = 0;

	n = scandir(pcaps_dir(), &names, NULL, alphasort);
	if (n < 0) {
		lp_test_skip(test, "%s not found (set TCPLIVEPLAY_PCAPS)", pcaps_dir());
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		struct lp_flows *fs = NULL;
		const struct lp_flow *fl;
		char path[4096], err[256];

		if ((l > 5 && strcmp(nm + l - 5, ".pcap") == 0) ||
		    (l > 7 && strcmp(nm + l - 7, ".pcapng") == 0)) {
			snprintf(path, sizeof(path), "%s/%s", pcaps_dir(), nm);
			if (lp_flows_load(path, NULL, NULL, &fs, err, sizeof(err)) == 0 &&
			    lp_flows_select(fs, NULL, &fl) == 0 && fl->dir[LP_C2S].nholes == 0) {
				fn(nm, fl, bad);
				visited++;
			}
			lp_flows_free(fs);
		}
		free(names[i]);
	}
	free(names);
	return visited;
}

static void capture_matched(const char *name, const struct lp_flow *fl, unsigned *bad)
{
	for (int m = LP_MATCH_STREAM; m <= LP_MATCH_BYTES; m++) {
		struct run x;

		sim(fl, NULL, 0, 1, (enum lp_match)m, &x, NULL, NULL);
		if (!byte_exact(fl, &x)) {
			(*bad)++;
			explain(name, 1, &x);
		}
	}
}

START_TEST(test_pcaps_matched)
{
	unsigned bad = 0;
	int n = each_capture("test_pcaps_matched", capture_matched, &bad);

	if (n < 0)
		return;
	printf("test_pcaps_matched: %d single-flow captures x 3 match policies, %u failed\n", n, bad);
	fflush(stdout);
	ck_assert_int_gt(n, 0);
	ck_assert_msg(bad == 0, "%u capture runs did not match byte-exact", bad);
}
END_TEST

static void capture_property(const char *name, const struct lp_flow *fl, unsigned *bad)
{
	unsigned failed = 0;

	for (uint64_t seed = 1; seed <= PROPERTY_SEEDS; seed++) {
		struct run x;

		sim(fl, noisy, 6, seed, LP_MATCH_BYTES, &x, NULL, NULL);
		if (!byte_exact(fl, &x)) {
			failed++;
			explain(name, seed, &x);
		}
	}
	*bad += failed;
}

START_TEST(test_pcaps_property)
{
	unsigned bad = 0;
	int n = each_capture("test_pcaps_property", capture_property, &bad);

	if (n < 0)
		return;
	printf("test_pcaps_property: %d captures x %d seeds, %u runs failed\n", n, PROPERTY_SEEDS,
	       bad);
	fflush(stdout);
	ck_assert_int_gt(n, 0);
	ck_assert_msg(bad == 0, "%u of %d runs failed (seeds printed above)", bad,
		      n * PROPERTY_SEEDS);
}
END_TEST

/* A client segment the capture missed (C3 of SH_BANNER: a hole in the
 * client's stream), sent as zeros (--holes zero): the engine sends the
 * hole's bytes as a segment of their own, once the server bytes before its
 * answer are in, so the exchange goes on in step: the server receives the
 * whole stream (zeros where the hole is) and answers it. */
START_TEST(test_hole_filled)
{
	struct tflow *t = shape(SH_BANNER, AF_INET);
	struct lp_extent ext[3];
	struct lp_hole hole;
	size_t k = 0;
	struct run x;

	for (size_t i = 0; i < t->fl.nsegs; i++) {
		const struct lp_segment *g = &t->fl.segs[i];

		if (g->dir == LP_C2S && g->label == 3) {
			hole.offset = g->offset;
			hole.len = g->len;
			continue;
		}
		t->fl.segs[k++] = *g;
	}
	t->fl.nsegs = k;
	/* The stream's extents: bytes, the hole (none), bytes. */
	ext[0] = (struct lp_extent){ 0, (uint32_t)hole.offset, t->bytes[LP_C2S] };
	ext[1] = (struct lp_extent){ (uint32_t)hole.offset, (uint32_t)hole.len, NULL };
	ext[2] = (struct lp_extent){ (uint32_t)(hole.offset + hole.len),
				     (uint32_t)(t->fl.dir[LP_C2S].len - hole.offset - hole.len),
				     t->bytes[LP_C2S] + hole.offset + hole.len };
	t->fl.dir[LP_C2S].ext = ext;
	t->fl.dir[LP_C2S].next = 3;
	t->fl.dir[LP_C2S].holes = &hole;
	t->fl.dir[LP_C2S].nholes = 1;
	t->fl.dir[LP_C2S].hole_bytes = hole.len;
	for (int m = LP_MATCH_STREAM; m <= LP_MATCH_BYTES; m++) {
		sim(&t->fl, NULL, 0, 5, (enum lp_match)m, &x, NULL, NULL);
		ck_assert_msg(byte_exact(&t->fl, &x), "%s: %s", lp_match_str((enum lp_match)m), x.r.reason);
	}
	t->fl.dir[LP_C2S].holes = NULL;
	t->fl.dir[LP_C2S].ext = &t->ext[LP_C2S];
	tf_free(t);
}
END_TEST

/* An echo (the client's bytes back, both FINs) whose capture ends with the
 * server's reset of a stray ACK (RFC 9293 3.10.7.1: <SEQ=SEG.ACK><CTL=RST>,
 * its sequence number in the middle of the server's stream): the ACK,
 * reordered on the way, reached a server that had closed already. The
 * server's engine sends that reset after all its bytes, as captured, not in
 * place of those above it (it ended the responder's session of the echo of
 * tests/e2e/cases/85-icmp.sh part way, "matched", and the replay with
 * "reset by peer"): both sides matched, each with the other's whole stream;
 * without and with a smaller hop on both sides. */
#define ECHO_SEGS 40u
#define ECHO_LEN 1200u
/* MSS 1440, SACK-permitted, NOP, NOP, NOP, WS 7. */
#define ECHO_SYNOPTS "\x02\x04\x05\xa0\x04\x02\x01\x01\x01\x03\x03\x07"

START_TEST(test_reset_of_stray_ack)
{
	static const char *const mtu[] = { "client:mtu:1280", "server:mtu:1280" };
	static char bytes[ECHO_SEGS * ECHO_LEN];
	static struct pg_pkt p[2 * ECHO_SEGS + 8];
	struct pg_conv c = { .family = AF_INET6, .cisn = 1000, .sisn = 5000 };
	const uint32_t end = ECHO_SEGS * ECHO_LEN, mid = end / 2 + 1000;
	const char *path = tpath("echo-rst.pcap");
	const struct lp_flow *fl;
	struct lp_flows *fs;
	char err[256] = "";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (char)(i * 31 + (i >> 9));
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN, .opts = ECHO_SYNOPTS, .optlen = 12 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_SA, .ack = 1, .opts = ECHO_SYNOPTS, .optlen = 12 };
	for (uint32_t i = 0; i < ECHO_SEGS; i++) {
		uint32_t o = i * ECHO_LEN;

		p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_PA, .seq = 1 + o, .ack = 1 + o,
					  .data = bytes + o, .len = ECHO_LEN };
		p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_PA, .seq = 1 + o, .ack = 1 + o + ECHO_LEN,
					  .data = bytes + o, .len = ECHO_LEN };
	}
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_FA, .seq = 1 + end, .ack = 1 + end };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_FA, .seq = 1 + end, .ack = 2 + end };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 2 + end, .ack = 2 + end };
	/* The stray: an ACK of the middle of the echo, sent long before. */
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1 + end, .ack = 1 + mid };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_RST, .seq = 1 + mid };
	ck_assert_int_eq(pg_write(path, PG_ETH, &c, p, n), 0);
	ck_assert_msg(lp_flows_load(path, NULL, NULL, &fs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lp_flows_select(fs, NULL, &fl), 0);
	ck_assert(fl->dir[LP_S2C].rst && fl->dir[LP_S2C].fin);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, end);
	for (int hop = 0; hop < 2; hop++) {
		struct run x;

		sim(fl, mtu, hop ? 2 : 0, 7, LP_MATCH_BYTES, &x, NULL, NULL);
		if (!byte_exact(fl, &x))
			explain("reset of a stray ACK", 7, &x);
		ck_assert_msg(byte_exact(fl, &x), "hop %d: %s", hop, x.r.reason);
		ck_assert_int_eq(x.d.side[LP_ROLE_SERVER].state, LP_ENGINE_DONE);
	}
	lp_flows_free(fs);
}
END_TEST

/* A server that greets, takes an upload, closes, and then resets: a stray
 * ACK answered with <SEQ=SEG.ACK><CTL=RST> (its sequence number inside the
 * greeting), or a reset after its FIN at its own sequence number. Its FIN
 * goes, and is acknowledged, before the reset: the client sees the captured
 * close, then the captured reset; both sides match. (The engine used to
 * release the reset with the FIN and send it in the FIN's place.) */
START_TEST(test_reset_after_fin)
{
	static const char greeting[100] = "greeting", upload[1000] = "upload";
	static struct pg_pkt p[16];
	struct pg_conv c = { .family = AF_INET, .cisn = 1000, .sisn = 5000 };
	const char *path = tpath("fin-rst.pcap");
	const struct lp_flow *fl;
	struct lp_flows *fs;
	char err[256] = "";
	size_t n = 0;
	struct run x;

	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_SYN, .opts = ECHO_SYNOPTS, .optlen = 12 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_SA, .ack = 1, .opts = ECHO_SYNOPTS, .optlen = 12 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 1 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 1, .data = greeting, .len = 100 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 101 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 101, .data = upload, .len = 1000 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 101, .ack = 1001 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_FA, .seq = 101, .ack = 1001 };
	p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_FA, .seq = 1001, .ack = 102 };
	p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_ACK, .seq = 102, .ack = 1002 };
	if (_i == 0) {
		p[n++] = (struct pg_pkt){ .dir = PG_C, .flags = PG_ACK, .seq = 1, .ack = 50 };
		p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_RST, .seq = 50 };
	} else {
		p[n++] = (struct pg_pkt){ .dir = PG_S, .flags = PG_RST, .seq = 102 };
	}
	ck_assert_int_eq(pg_write(path, PG_ETH, &c, p, n), 0);
	ck_assert_msg(lp_flows_load(path, NULL, NULL, &fs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lp_flows_select(fs, NULL, &fl), 0);
	ck_assert(fl->dir[LP_S2C].rst && fl->dir[LP_S2C].fin);
	for (uint64_t seed = 1; seed <= 4; seed++) {
		sim(fl, NULL, 0, seed, LP_MATCH_BYTES, &x, NULL, NULL);
		if (!byte_exact(fl, &x))
			explain("reset after the FIN", seed, &x);
		ck_assert_msg(byte_exact(fl, &x), "%s", x.r.reason);
	}
	lp_flows_free(fs);
}
END_TEST

Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("synthesized");
	TCase *pc = tcase_create("captures");
	TCase *wc = tcase_create("written captures");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_synth_matched, 0, SH_COUNT);
	tcase_add_loop_test(tc, test_synth_property, 0, SH_COUNT);
	tcase_add_test(tc, test_determinism);
	tcase_add_loop_test(tc, test_fault_verdicts, 0, (int)(sizeof(verdicts) / sizeof(verdicts[0])));
	tcase_add_loop_test(tc, test_icmp_faults, 0,
			    (int)(sizeof(icmp_cases) / sizeof(icmp_cases[0])));
	tcase_add_loop_test(tc, test_zero_window, 0, 2);
	tcase_add_loop_test(tc, test_window_cap, 0, 2);
	tcase_add_test(tc, test_faults_json);
	tcase_add_test(tc, test_truncate_policies);
	tcase_add_test(tc, test_coalesced_fault);
	tcase_add_test(tc, test_bad_plan);
	tcase_add_test(tc, test_timing);
	tcase_add_test(tc, test_report_json);
	tcase_add_test(tc, test_many_report);
	tcase_add_test(tc, test_multi_dport);
	tcase_add_test(tc, test_pick_ports);
	tcase_add_test(tc, test_hole_filled);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(wc, case_setup, case_teardown);
	tcase_add_checked_fixture(wc, setup, teardown);
	tcase_set_timeout(wc, 60);
	tcase_add_test(wc, test_reset_of_stray_ack);
	tcase_add_loop_test(wc, test_reset_after_fin, 0, 2);
	suite_add_tcase(s, wc);
	tcase_set_timeout(pc, 300);
	tcase_add_test(pc, test_pcaps_matched);
	tcase_add_test(pc, test_pcaps_property);
	suite_add_tcase(s, pc);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The captured schedule (lp_schedule_new()): what it holds for each side of
 * a flow with a hole, that a shared one equals the one an engine builds for
 * itself, and that engines sharing one (a responder's sessions of one flow,
 * interleaved) each play the flow as an engine with its own does, packet
 * for packet.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "engine_int.h"
#include "testflow.h"

#define MS 1000000ull
#define REQ 300u
#define PART1 (20u * 1448u)   /* the server's bytes before the hole */
#define HOLE 1000u
#define PART2 (30u * 1448u)   /* and after it */

/* A flow whose server stream has a hole. */
struct hflow {
	struct tflow *t;
	struct lp_hole hole;
	struct lp_extent ext[3];
};

/* A request, a response with a hole of HOLE bytes after PART1 (the capture
 * lacks them; sent as zeros), FINs. */
static struct tflow *hole_flow(struct hflow *h)
{
	struct tflow *t = tf_new(AF_INET, REQ, PART1 + HOLE + PART2);
	struct lp_stream *s = &t->fl.dir[LP_S2C];

	tf_data(t, LP_C2S, REQ, 1448);
	tf_data(t, LP_S2C, PART1, 1448);
	s->len += HOLE;
	tf_data(t, LP_S2C, PART2, 1448);
	tf_seg(t, LP_C2S, 0, LP_TH_FIN, -1);
	tf_seg(t, LP_S2C, 0, LP_TH_FIN, -1);
	h->t = t;
	h->hole = (struct lp_hole){ PART1, HOLE };
	h->ext[0] = (struct lp_extent){ 0, PART1, t->bytes[1] };
	h->ext[1] = (struct lp_extent){ PART1, HOLE, NULL };
	h->ext[2] = (struct lp_extent){ PART1 + HOLE, PART2, t->bytes[1] + PART1 + HOLE };
	s->ext = h->ext;
	s->next = 3;
	s->holes = &h->hole;
	s->nholes = 1;
	s->hole_bytes = HOLE;
	return t;
}

/* What the server's schedule of hole_flow() holds: its data segments in
 * order with the hole's segment of zeros before the first one after it, its
 * FIN; their think-times (1 ms apart as captured, the first after the
 * request's last segment, the FIN 2 ms after the last data, the client's
 * FIN between); the client's data segments as the peer's. */
START_TEST(test_schedule_contents)
{
	struct hflow hf;
	struct tflow *t = hole_flow(&hf);
	struct lp_schedule *sc;
	size_t nreq = (REQ + 1447) / 1448, n1 = PART1 / 1448, n2 = PART2 / 1448;

	ck_assert_int_eq(lp_schedule_new(&t->fl, LP_ROLE_SERVER, &sc), 0);
	ck_assert_uint_eq(sc->nmine, n1 + 1 + n2 + 1);
	ck_assert_uint_eq(sc->ndata, n1 + 1 + n2);
	ck_assert_uint_eq(sc->ntheirs, nreq);
	for (size_t i = 0; i < nreq; i++)
		ck_assert_uint_eq(t->fl.segs[sc->theirs[i]].dir, LP_C2S);
	for (size_t i = 0; i + 1 < sc->nmine; i++) {
		const struct lp_segment *g = sc->mine[i].s;

		ck_assert_uint_eq(g->dir, LP_S2C);
		if (i == n1) {
			ck_assert_uint_eq(g->offset, PART1);
			ck_assert_uint_eq(g->len, HOLE);
			ck_assert_uint_eq(g->label, 0);
			ck_assert_uint_eq(g->ack, REQ);
			ck_assert_uint_eq(sc->mine[i].gap_ns, 0);
			continue;
		}
		ck_assert_ptr_eq(g, &t->fl.segs[nreq + (i < n1 ? i : i - 1)]);
		ck_assert_uint_eq(sc->mine[i].gap_ns, 1 * MS);
	}
	ck_assert_ptr_eq(sc->mine[sc->nmine - 1].s, &t->fl.segs[t->fl.nsegs - 1]);
	ck_assert_uint_eq(sc->mine[sc->nmine - 1].s->flags & LP_TH_FIN, LP_TH_FIN);
	ck_assert_uint_eq(sc->mine[sc->nmine - 1].gap_ns, 2 * MS);
	lp_schedule_free(sc);

	ck_assert_int_eq(lp_schedule_new(&t->fl, LP_ROLE_CLIENT, &sc), 0);
	ck_assert_uint_eq(sc->nmine, nreq + 1);
	ck_assert_uint_eq(sc->ndata, nreq);
	ck_assert_uint_eq(sc->ntheirs, n1 + n2);
	ck_assert_uint_eq(sc->mine[0].gap_ns, 1 * MS);
	lp_schedule_free(sc);
	lp_schedule_free(NULL);

	ck_assert_int_eq(lp_schedule_new(NULL, LP_ROLE_SERVER, &sc), -EINVAL);
	ck_assert_int_eq(lp_schedule_new(&t->fl, (enum lp_role)7, &sc), -EINVAL);
	ck_assert_ptr_null(sc);
	tf_free(t);
}
END_TEST

static void cfg_for(struct lp_engine_cfg *c, const struct lp_flow *fl, enum lp_role role, uint32_t isn)
{
	lp_engine_cfg_defaults(c);
	c->role = role;
	c->local = role == LP_ROLE_CLIENT ? fl->client : fl->server;
	c->remote = role == LP_ROLE_CLIENT ? fl->server : fl->client;
	c->isn = isn;
	c->ts_base = isn ^ 0x5a5a5a5au;
	c->timing.mode = LP_TIMING_CAPTURE;
	c->timing.speed = 4.0;
}

/* The prebuilt schedule is the one an engine builds for itself; one of
 * another role or flow is refused. */
START_TEST(test_schedule_equals_own)
{
	struct hflow hf, hu;
	struct tflow *t = hole_flow(&hf), *u = hole_flow(&hu);
	struct lp_schedule *sc, *cs;
	struct lp_engine_cfg c;
	struct lp_engine *e, *f = (struct lp_engine *)1;
	const struct lp_schedule *own;

	ck_assert_int_eq(lp_schedule_new(&t->fl, LP_ROLE_SERVER, &sc), 0);
	ck_assert_int_eq(lp_schedule_new(&t->fl, LP_ROLE_CLIENT, &cs), 0);
	cfg_for(&c, &t->fl, LP_ROLE_SERVER, 1);
	ck_assert_int_eq(lp_engine_new(&t->fl, &c, &e), 0);
	own = e->own_sc;
	ck_assert_ptr_nonnull(own);
	ck_assert_uint_eq(own->nmine, sc->nmine);
	ck_assert_uint_eq(own->ntheirs, sc->ntheirs);
	ck_assert_uint_eq(own->ndata, sc->ndata);
	ck_assert_mem_eq(own->theirs, sc->theirs, sc->ntheirs * sizeof(*sc->theirs));
	for (size_t i = 0; i < sc->nmine; i++) {
		ck_assert_uint_eq(own->mine[i].gap_ns, sc->mine[i].gap_ns);
		ck_assert_mem_eq(own->mine[i].s, sc->mine[i].s, sizeof(struct lp_segment));
	}
	lp_engine_free(e);

	c.schedule = sc;
	ck_assert_int_eq(lp_engine_new(&t->fl, &c, &e), 0);
	ck_assert_ptr_null(e->own_sc);
	ck_assert_ptr_eq(e->mine, sc->mine);
	lp_engine_free(e);
	c.schedule = cs;
	ck_assert_int_eq(lp_engine_new(&t->fl, &c, &f), -EINVAL);
	ck_assert_ptr_eq(f, (struct lp_engine *)1);
	c.schedule = sc;
	ck_assert_int_eq(lp_engine_new(&u->fl, &c, &f), -EINVAL);
	lp_schedule_free(sc);
	lp_schedule_free(cs);
	tf_free(t);
	tf_free(u);
}
END_TEST

/* A client engine against a server engine, on a virtual clock; every packet
 * the server sends, the data segments it says the packet first carried, and
 * its events go into a running FNV-1a hash. */
struct pair {
	struct lp_engine *c, *s;
	uint64_t now, hash, spackets;
	uint64_t sdata, sshort;    /* server packets with data; of them, less than a full segment */
	uint32_t last_len;         /* the last one's payload */
	uint64_t ahead;            /* the most the server released beyond the peer's window */
	uint8_t buf[2048];
};

static void hash(uint64_t *h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
}

static void on_server_event(void *ctx, const struct lp_event *ev)
{
	struct pair *p = ctx;
	uint64_t v[4] = { ev->kind, ev->label, ev->offset, ev->len };

	hash(&p->hash, v, sizeof(v));
}

/* Two engines of fl, the server's with the schedule sc (NULL: its own);
 * asap: no think-times; client_wnd: the client's receive window (0: the
 * default). */
static void pair_new(struct pair *p, const struct lp_flow *fl, uint32_t isn, const struct lp_schedule *sc,
		     bool asap, uint32_t client_wnd)
{
	struct lp_engine_cfg c;

	memset(p, 0, sizeof(*p));
	p->hash = 0xcbf29ce484222325ull;
	p->now = 1000 * MS;
	cfg_for(&c, fl, LP_ROLE_CLIENT, isn);
	c.ts_origin_ns = p->now;
	c.rcv_wnd = client_wnd;
	if (asap)
		c.timing.mode = LP_TIMING_ASAP;
	ck_assert_int_eq(lp_engine_new(fl, &c, &p->c), 0);
	cfg_for(&c, fl, LP_ROLE_SERVER, isn * 3 + 7);
	if (asap)
		c.timing.mode = LP_TIMING_ASAP;
	c.ts_origin_ns = p->now;
	c.schedule = sc;
	c.on_event = on_server_event;
	c.ctx = p;
	ck_assert_int_eq(lp_engine_new(fl, &c, &p->s), 0);
}

static bool pair_running(const struct pair *p)
{
	return lp_engine_state(p->c) == LP_ENGINE_RUNNING || lp_engine_state(p->s) == LP_ENGINE_RUNNING;
}

/* One step: what both engines have to send now crosses over; when nothing
 * did, the clock moves to the next timer. */
static void pair_step(struct pair *p)
{
	bool moved = false;
	uint64_t tc, ts;
	int n;

	while ((n = lp_engine_output(p->c, p->buf, sizeof(p->buf), p->now)) > 0) {
		const struct lp_engine *e = p->s;

		lp_engine_input(p->s, p->buf, (size_t)n, p->now);
		if (e->app_len > e->snd_una + e->snd_wnd && e->app_len - e->snd_una - e->snd_wnd > p->ahead)
			p->ahead = e->app_len - e->snd_una - e->snd_wnd;
		moved = true;
	}
	while ((n = lp_engine_output(p->s, p->buf, sizeof(p->buf), p->now)) > 0) {
		struct lp_pktinfo pi;
		struct lp_seg g;

		ck_assert_int_eq(lp_pkt_parse(p->buf, (size_t)n, &g), 0);
		if (g.len) {
			p->sdata++;
			p->sshort += g.len < p->s->mss;
			p->last_len = g.len;
		}
		lp_engine_output_info(p->s, &pi);
		hash(&p->hash, p->buf, (size_t)n);
		hash(&p->hash, &pi.first, sizeof(pi.first));
		hash(&p->hash, &pi.last, sizeof(pi.last));
		p->spackets++;
		lp_engine_input(p->c, p->buf, (size_t)n, p->now);
		moved = true;
	}
	if (moved)
		return;
	tc = lp_engine_next_timer(p->c);
	ts = lp_engine_next_timer(p->s);
	if (ts < tc)
		tc = ts;
	ck_assert_uint_ne(tc, UINT64_MAX);
	if (tc > p->now)
		p->now = tc;
	lp_engine_timeout(p->c, p->now);
	lp_engine_timeout(p->s, p->now);
}

static void pair_check_free(struct pair *p, const struct lp_flow *fl)
{
	struct lp_engine_stats st;

	ck_assert_int_eq(lp_engine_state(p->c), LP_ENGINE_DONE);
	ck_assert_int_eq(lp_engine_state(p->s), LP_ENGINE_DONE);
	lp_engine_stats(p->c, &st);
	ck_assert_uint_eq(st.received_bytes, fl->dir[LP_S2C].len);
	ck_assert_uint_eq(st.ndivergences, 0);
	lp_engine_stats(p->s, &st);
	ck_assert_uint_eq(st.received_bytes, fl->dir[LP_C2S].len);
	ck_assert_uint_eq(st.ndivergences, 0);
	lp_engine_free(p->c);
	lp_engine_free(p->s);
}

/* Two sessions of one flow sharing one schedule, stepped in turn, each send
 * what a server with its own schedule sends to the same client, packet for
 * packet, and both replays match. */
START_TEST(test_schedule_shared_sessions)
{
	struct hflow hf;
	struct tflow *t = hole_flow(&hf);
	struct lp_schedule *sc;
	static struct pair solo[2], shared[2];

	ck_assert_int_eq(lp_schedule_new(&t->fl, LP_ROLE_SERVER, &sc), 0);
	for (int k = 0; k < 2; k++) {
		pair_new(&solo[k], &t->fl, 1000u + (uint32_t)k, NULL, false, 0);
		for (int i = 0; i < 100000 && pair_running(&solo[k]); i++)
			pair_step(&solo[k]);
		pair_check_free(&solo[k], &t->fl);
		pair_new(&shared[k], &t->fl, 1000u + (uint32_t)k, sc, false, 0);
	}
	for (int i = 0; i < 100000 && (pair_running(&shared[0]) || pair_running(&shared[1])); i++)
		for (int k = 0; k < 2; k++)
			if (pair_running(&shared[k]))
				pair_step(&shared[k]);
	for (int k = 0; k < 2; k++) {
		pair_check_free(&shared[k], &t->fl);
		ck_assert_uint_gt(shared[k].spackets, PART1 / 1448);
		ck_assert_uint_eq(shared[k].spackets, solo[k].spackets);
		ck_assert_uint_eq(shared[k].hash, solo[k].hash);
	}
	ck_assert_uint_ne(solo[0].hash, solo[1].hash);
	lp_schedule_free(sc);
	tf_free(t);
}
END_TEST

/* A long response, captured in segments shorter than ours, behind a small
 * window: the server releases its stream as the window lets it out, never
 * all of it at once (that would take the first data segment a walk over the
 * whole stream), and still sends nothing but full segments (the last
 * excepted), as it would with the whole stream released. */
START_TEST(test_release_as_window_lets)
{
	enum { BIG = 3u << 20, CAPSEG = 1000u, WND = 128u << 10 };
	struct tflow *t = tf_new(AF_INET, REQ, BIG);
	static struct pair p;

	tf_data(t, LP_C2S, REQ, 1448);
	tf_data(t, LP_S2C, BIG, CAPSEG);
	tf_seg(t, LP_C2S, 0, LP_TH_FIN, -1);
	tf_seg(t, LP_S2C, 0, LP_TH_FIN, -1);
	pair_new(&p, &t->fl, 77, NULL, true, WND);
	for (int i = 0; i < 1000000 && pair_running(&p); i++)
		pair_step(&p);
	ck_assert_uint_gt(p.ahead, 0);
	ck_assert_uint_le(p.ahead, 1u << 20);
	ck_assert_uint_eq(p.sdata, (BIG + 1447) / 1448);
	ck_assert_uint_eq(p.sshort, 1);
	ck_assert_uint_eq(p.last_len, BIG % 1448);
	pair_check_free(&p, &t->fl);
	tf_free(t);
}
END_TEST

Suite *schedule_suite(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_schedule_contents);
	tcase_add_test(tc, test_schedule_equals_own);
	tcase_add_test(tc, test_schedule_shared_sessions);
	tcase_add_test(tc, test_release_as_window_lets);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scripted peer of the engine tests (engine_harness.h). */
#include <string.h>

#include "engine_harness.h"
#include "tcpliveplay/icmp.h"

static void on_event(void *ctx, const struct lp_event *ev)
{
	struct harness *h = ctx;

	h->events[ev->kind]++;
	if (ev->reason)
		h->last_reason = ev->reason;
	if (ev->kind == LP_EV_DIVERGENCE)
		h->last_div = *ev;
}

void h_start(struct harness *h, struct tflow *t, enum lp_role role)
{
	memset(h, 0, sizeof(*h));
	h->t = t;
	h->role = role;
	h->piss = 0x7ffffff0u;
	lp_engine_cfg_defaults(&h->cfg);
	h->cfg.role = role;
	h->cfg.isn = 0xfffffc00u; /* wraps during the tests */
	h->cfg.ts_base = 1000;
	h->cfg.on_event = on_event;
	h->cfg.ctx = h;
	if (role == LP_ROLE_CLIENT) {
		h->cfg.local = t->fl.client;
		h->cfg.local.port = 41000;
		h->cfg.remote = t->fl.server;
	} else {
		h->cfg.local = t->fl.server;
		h->cfg.remote = t->fl.client;
		h->cfg.remote.port = 41000;
	}
}

void h_new(struct harness *h)
{
	ck_assert_int_eq(lp_engine_new(&h->t->fl, &h->cfg, &h->e), 0);
}

/* Keep the wire packet raw[nout] of n bytes. */
static void keep(struct harness *h, int n, bool cut)
{
	ck_assert_int_eq(lp_pkt_parse(h->raw[h->nout], (size_t)n, &h->out[h->nout]), 0);
	h->rawlen[h->nout] = n;
	h->cut[h->nout] = cut;
	h->nout++;
}

/* One packet from a GSO-asking engine: its wire segments. */
static int pull_gso(struct harness *h)
{
	struct lp_gso g;
	int n = lp_engine_output_gso(h->e, h->big, sizeof(h->big), h->now, h->gso_segs, &g);

	if (n <= 0)
		return n;
	if (g.seg_len)
		h->nsuper++;
	for (unsigned i = 0; i < lp_gso_count((size_t)n, &g); i++) {
		int m;

		ck_assert_uint_lt(h->nout, MAXOUT);
		m = lp_gso_segment(h->big, (size_t)n, &g, i, h->raw[h->nout], sizeof(h->raw[0]));
		ck_assert_int_gt(m, 0);
		keep(h, m, g.seg_len != 0);
	}
	return n;
}

size_t h_pull(struct harness *h)
{
	size_t first = h->nout;
	int n;

	for (;;) {
		if (h->gso_segs > 1) {
			n = pull_gso(h);
		} else {
			ck_assert_uint_lt(h->nout, MAXOUT);
			n = lp_engine_output(h->e, h->raw[h->nout], sizeof(h->raw[0]), h->now);
			if (n > 0)
				keep(h, n, false);
		}
		if (n <= 0)
			break;
	}
	ck_assert_int_eq(n, 0);
	return h->nout - first;
}

struct lp_seg *h_last(struct harness *h)
{
	ck_assert_uint_gt(h->nout, 0);
	return &h->out[h->nout - 1];
}

void h_push_opts(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
		 const struct lp_tcpopts *o, const uint8_t *data, uint32_t len)
{
	struct lp_seg s;
	uint8_t buf[2048];
	size_t alen = h->cfg.local.family == AF_INET ? 4 : 16;
	int n;

	memset(&s, 0, sizeof(s));
	s.family = h->cfg.local.family;
	memcpy(s.src, h->cfg.remote.addr, alen);
	memcpy(s.dst, h->cfg.local.addr, alen);
	s.sport = h->cfg.role == LP_ROLE_CLIENT ? h->cfg.remote.port : 41000;
	s.dport = h->cfg.local.port;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.window = win;
	if (o)
		s.opts = *o;
	s.payload = data;
	s.len = len;
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_int_gt(n, 0);
	if (h->rx_cut) {
		memset(buf + n - len, 0xee, len);   /* what is not there must not be read */
		ck_assert_int_eq(lp_engine_input_rx(h->e, buf, (size_t)n - len,
						    LP_RX_HEADERS | LP_RX_CSUM_OK, h->now), 0);
		return;
	}
	ck_assert_int_eq(lp_engine_input(h->e, buf, (size_t)n, h->now), 0);
}

void h_push(struct harness *h, uint8_t flags, uint64_t seq_off, uint64_t ack_off, uint16_t win,
	    const uint8_t *data, uint32_t len)
{
	h_push_opts(h, flags, h->piss + 1 + (uint32_t)seq_off, h->eiss + 1 + (uint32_t)ack_off, win,
		    NULL, data, len);
}

struct lp_seg *h_connect(struct harness *h, const struct lp_tcpopts *o, uint16_t win)
{
	h_pull(h);
	ck_assert_uint_eq(h->nout, 1);
	ck_assert_uint_eq(h->out[0].flags, LP_TH_SYN);
	h->eiss = h->out[0].seq;
	h->now += 10 * MS;
	h_push_opts(h, LP_TH_SYN | LP_TH_ACK, h->piss, h->eiss + 1, win, o, NULL, 0);
	h_pull(h);
	return &h->out[0];
}

uint64_t out_bytes(const struct harness *h, size_t from)
{
	uint64_t n = 0;

	for (size_t i = from; i < h->nout; i++)
		n += h->out[i].len;
	return n;
}

struct tflow *simple_flow(uint32_t c, uint32_t s)
{
	struct tflow *t = tf_new(AF_INET, c, s);

	if (c)
		tf_data(t, 0, c, 1448);
	if (s)
		tf_data(t, 1, s, 1448);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	return t;
}

void h_fire(struct harness *h)
{
	uint64_t at = lp_engine_next_timer(h->e);

	ck_assert_uint_ne(at, UINT64_MAX);
	if (at > h->now)
		h->now = at;
	lp_engine_timeout(h->e, h->now);
}

uint64_t h_off(const struct harness *h, size_t i)
{
	return (uint32_t)(h->out[i].seq - h->eiss - 1);
}

void h_icmp_about(struct harness *h, const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
		  uint32_t mtu)
{
	uint8_t buf[2048];
	int n = lp_icmp_build_error(buf, sizeof(buf), pkt, len, type, code, mtu,
				    h->cfg.remote.addr);

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lp_engine_input(h->e, buf, (size_t)n, h->now), 0);
}

void h_icmp(struct harness *h, size_t i, uint8_t type, uint8_t code, uint32_t mtu)
{
	ck_assert_uint_lt(i, h->nout);
	h_icmp_about(h, h->raw[i], (size_t)h->rawlen[i], type, code, mtu);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine on its own, against a scripted peer: handshake options, window
 * limits, zero window and probes, timestamps, retransmission back-off and
 * give-up, out-of-order data, early FIN, RST handling.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "engine_harness.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/rng.h"

START_TEST(test_syn_offers_captured_options)
{
	struct tflow *t = simple_flow(100, 100);
	struct harness h;
	struct lp_seg *syn;

	t->fl.dir[0].opts.mss = 1200;
	t->fl.dir[0].opts.wscale = 5;
	t->fl.dir[0].opts.sack_ok = false;
	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	ck_assert_uint_eq(h_pull(&h), 1);
	syn = &h.out[0];
	ck_assert_uint_eq(syn->flags, LP_TH_SYN);
	ck_assert_uint_eq(syn->seq, 0xfffffc00u);
	ck_assert_uint_eq(syn->sport, 41000);
	ck_assert(syn->opts.has_mss && syn->opts.mss == 1200);
	ck_assert(syn->opts.has_wscale && syn->opts.wscale == 5);
	ck_assert(!syn->opts.sack_ok);
	ck_assert(syn->opts.has_ts && syn->opts.tsecr == 0);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* The peer answers without window scaling or timestamps and a small MSS:
 * the engine drops both options and segments to the peer's MSS. */
START_TEST(test_honours_negotiation)
{
	struct tflow *t = simple_flow(3000, 100);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 536, .sack_ok = true };

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_ge(h.nout, 3);
	for (size_t i = 1; i < h.nout; i++) {
		ck_assert(!h.out[i].opts.has_ts);
		ck_assert_uint_le(h.out[i].len, 536);
		ck_assert_uint_eq(h.out[i].window, 65535); /* unscaled, capped */
		ck_assert_uint_eq(h.out[i].ack, h.piss + 1);
	}
	ck_assert_uint_eq(out_bytes(&h, 0), 3000);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 1);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

START_TEST(test_server_handshake)
{
	struct tflow *t = tf_new(AF_INET6, 10, 3000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1000, .has_wscale = true, .wscale = 2,
				.has_ts = true, .tsval = 555 };
	struct lp_seg *sa;

	/* The server speaks first (a banner), then the client answers. */
	tf_data(t, 1, 3000, 1448);
	tf_seg(t, 0, 10, LP_TH_PSH, -1);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	h_start(&h, t, LP_ROLE_SERVER);
	h_new(&h);
	ck_assert_uint_eq(h_pull(&h), 0);
	/* A stray ACK before any SYN gets nothing back. */
	h_push_opts(&h, LP_TH_ACK, 5, 5, 100, NULL, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	sa = &h.out[0];
	ck_assert_uint_eq(sa->flags, LP_TH_SYN | LP_TH_ACK);
	ck_assert_uint_eq(sa->ack, h.piss + 1);
	ck_assert(sa->opts.has_mss && sa->opts.mss == 1460);
	ck_assert(sa->opts.has_wscale && sa->opts.wscale == 7);
	ck_assert(!sa->opts.sack_ok); /* the client did not offer it */
	ck_assert(sa->opts.has_ts && sa->opts.tsecr == 555);
	h.eiss = sa->seq;
	/* The SYN again (our SYN-ACK lost): the SYN-ACK again. */
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_SYN | LP_TH_ACK);
	/* The ACK completes it. Our SYN-ACK went twice: the first flight is
	 * one segment (RFC 5681 3.1); the banner goes out in MSS-sized pieces. */
	o.tsval = 556;
	h_push_opts(&h, LP_TH_ACK, h.piss + 1, h.eiss + 1, 1000, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	for (int i = 0; i < 5 && out_bytes(&h, 2) < 3000; i++) {
		h_push_opts(&h, LP_TH_ACK, h.piss + 1, h.eiss + 1 + (uint32_t)out_bytes(&h, 2), 1000, &o,
			    NULL, 0);
		h_pull(&h);
	}
	ck_assert_uint_eq(out_bytes(&h, 2), 3000);
	for (size_t i = 2; i < h.nout; i++) {
		ck_assert_uint_le(h.out[i].len, 1000 - 12);
		ck_assert(h.out[i].opts.has_ts && h.out[i].opts.tsecr == 556);
	}
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* The peer's window (scaled) bounds what is in flight. */
START_TEST(test_window_limited)
{
	struct tflow *t = simple_flow(10000, 100);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 2 };
	size_t mark;

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	/* The SYN-ACK's window is never scaled: 1000 bytes. */
	h_connect(&h, &o, 1000);
	ck_assert_uint_eq(out_bytes(&h, 0), 1000);
	/* 250 << 2 = 1000 bytes beyond the acknowledged 1000. */
	mark = h.nout;
	h.now += MS;
	h_push(&h, LP_TH_ACK, 0, 1000, 250, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 1000);
	/* Nothing more until the window moves. */
	ck_assert_uint_eq(h_pull(&h), 0);
	mark = h.nout;
	/* 400 bytes: less than a segment and than half the largest window
	 * offered, so silly window avoidance (RFC 9293 3.8.6.2.1) holds them
	 * until the override (persist) timer. */
	h_push(&h, LP_TH_ACK, 0, 2000, 100, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	h.now = lp_engine_next_timer(h.e);
	lp_engine_timeout(h.e, h.now);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 400);
	ck_assert_uint_eq(h.out[mark].seq, h.eiss + 1 + 2000);
	/* 500 bytes are half the largest window: they go at once. */
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 2400, 125, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 500);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* A closed window: no data, then 1-byte probes on a backed-off timer, and
 * sending resumes when the window opens. */
START_TEST(test_zero_window_probe)
{
	struct tflow *t = simple_flow(3000, 100);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	uint64_t t1, t2;
	size_t mark;

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &o, 0);
	ck_assert_uint_eq(out_bytes(&h, 0), 0);
	t1 = lp_engine_next_timer(h.e);
	ck_assert_uint_ne(t1, UINT64_MAX);
	h.now = t1;
	lp_engine_timeout(h.e, h.now);
	mark = h.nout;
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[mark].len, 1);
	ck_assert_uint_eq(h.out[mark].seq, h.eiss + 1);
	/* Refused: the probe timer backs off. */
	h_push(&h, LP_TH_ACK, 0, 0, 0, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	t2 = lp_engine_next_timer(h.e);
	ck_assert_uint_eq(t2 - h.now, 2 * (t1 - 10 * MS));
	h.now = t2;
	lp_engine_timeout(h.e, h.now);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->len, 1);
	ck_assert_uint_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	/* The window opens. */
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 0, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 3000);
	ck_assert_uint_eq(h.out[mark].seq, h.eiss + 1);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* TSval runs on its own clock from ts_base; TSecr echoes the peer's latest. */
START_TEST(test_tsecr_echo)
{
	struct tflow *t = simple_flow(100, 2000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .has_ts = true, .tsval = 12345 };
	uint8_t data[1000];
	struct lp_seg *a;

	memcpy(data, t->bytes[1], sizeof(data));
	h_start(&h, t, LP_ROLE_CLIENT);
	h.now = 5000 * MS;
	h.cfg.ts_origin_ns = 1000 * MS;
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_eq(h.out[0].opts.tsval, 1000 + 4000);
	a = h_last(&h);
	ck_assert(a->opts.has_ts);
	ck_assert_uint_eq(a->opts.tsecr, 12345);
	ck_assert_uint_eq(a->opts.tsval, 1000 + 4010);
	h.now += 7 * MS;
	o.tsval = 23456;
	h_push_opts(&h, LP_TH_ACK, h.piss + 1, h.eiss + 1 + 100, 1000, &o, data, 1000);
	h_pull(&h);
	a = h_last(&h);
	ck_assert_uint_eq(a->ack, h.piss + 1 + 1000);
	ck_assert_uint_eq(a->opts.tsecr, 23456);
	ck_assert_uint_eq(a->opts.tsval, 1000 + 4017);
	/* An older TSval (reordered packet) does not move TSecr back. */
	o.tsval = 20000;
	h_push_opts(&h, LP_TH_ACK, h.piss + 1 + 1000, h.eiss + 1 + 100, 1000, &o, data, 500);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->opts.tsecr, 23456);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* An unanswered SYN: retransmitted at 1, 2, 4, ... s, then given up. */
START_TEST(test_syn_backoff_giveup)
{
	struct tflow *t = simple_flow(100, 100);
	struct harness h;
	uint64_t prev = 0, gap = 1000 * MS;

	h_start(&h, t, LP_ROLE_CLIENT);
	h.cfg.retries = 3;
	h_new(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	for (int i = 0; i < 3; i++) {
		uint64_t at = lp_engine_next_timer(h.e);

		ck_assert_uint_eq(at - prev, gap);
		h.now = prev = at;
		lp_engine_timeout(h.e, h.now);
		ck_assert_uint_eq(h_pull(&h), 1);
		ck_assert_uint_eq(h_last(&h)->flags, LP_TH_SYN);
		gap *= 2;
	}
	h.now = lp_engine_next_timer(h.e);
	ck_assert_uint_eq(h.now - prev, gap);
	lp_engine_timeout(h.e, h.now);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e), "peer unresponsive");
	ck_assert_uint_eq(h.events[LP_EV_RETRANSMIT], 3);
	ck_assert_uint_eq(h.events[LP_EV_FAILED], 1);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_uint_eq(lp_engine_next_timer(h.e), UINT64_MAX);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* SYN-SENT and an ACK that does not acknowledge our SYN (a server whose
 * old connection on these ports is in TIME-WAIT): a reset with SEQ = its
 * ACK, no ACK flag; the SYN's retransmission still comes; a later SYN-ACK
 * connects. */
START_TEST(test_synsent_unacceptable_ack)
{
	struct tflow *t = simple_flow(100, 100);
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	struct harness h;
	uint64_t at;

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	h.eiss = h.out[0].seq;
	at = lp_engine_next_timer(h.e);
	h.now += MS;
	h_push_opts(&h, LP_TH_ACK, 0x12345678u, 0xabcdef01u, 500, NULL, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_RST);
	ck_assert_uint_eq(h_last(&h)->seq, 0xabcdef01u);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	/* As Linux does, the SYN goes again at once after such a reset. */
	ck_assert_uint_lt(lp_engine_next_timer(h.e), at);
	at = lp_engine_next_timer(h.e);
	ck_assert_uint_le(at - h.now, 10 * MS);
	/* A reset gets nothing back. */
	h_push_opts(&h, LP_TH_RST | LP_TH_ACK, 0x12345678u, 0xabcdef01u, 0, NULL, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	h.now = at;
	lp_engine_timeout(h.e, h.now);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_SYN);
	ck_assert_uint_eq(h_last(&h)->seq, h.eiss);
	h.now += MS;
	h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 1, 65535, &o, NULL, 0);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 1);
	ck_assert_uint_eq(h.events[LP_EV_RST_SENT], 1);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* Unacknowledged data: go-back retransmission with a doubling RTO from the
 * configured floor, then give-up. */
START_TEST(test_data_rto_backoff)
{
	struct tflow *t = simple_flow(1000, 100);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	struct lp_engine_stats st;
	uint64_t prev, gap = 300 * MS;

	h_start(&h, t, LP_ROLE_CLIENT);
	h.cfg.retries = 4;
	h.cfg.rto_min_ms = 300;
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 1000);
	prev = h.now;
	for (int i = 0; i < 4; i++) {
		uint64_t at = lp_engine_next_timer(h.e);

		ck_assert_uint_eq(at - prev, gap);
		h.now = prev = at;
		lp_engine_timeout(h.e, h.now);
		ck_assert_uint_eq(h_pull(&h), 1);
		ck_assert_uint_eq(h_last(&h)->seq, h.eiss + 1);
		ck_assert_uint_eq(h_last(&h)->len, 1000);
		gap *= 2;
	}
	h.now = lp_engine_next_timer(h.e);
	lp_engine_timeout(h.e, h.now);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e), "peer unresponsive");
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.retransmissions, 4);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* Data out of order is held: a duplicate ACK with a SACK block for the
 * hole, then one cumulative ACK once the hole fills. */
START_TEST(test_out_of_order)
{
	struct tflow *t = simple_flow(100, 3000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .sack_ok = true };
	const uint8_t *d = t->bytes[1];
	struct lp_engine_stats st;

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &o, 65535);
	h_push(&h, LP_TH_ACK, 1000, 100, 1000, d + 1000, 1000);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1);
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 1);
	ck_assert_uint_eq(h_last(&h)->opts.sack[0].left, h.piss + 1 + 1000);
	ck_assert_uint_eq(h_last(&h)->opts.sack[0].right, h.piss + 1 + 2000);
	h_push(&h, LP_TH_ACK, 2500, 100, 1000, d + 2500, 500);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1);
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 2);
	h_push(&h, LP_TH_ACK, 0, 100, 1000, d, 1000);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 2000);
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 1);
	/* Overlapping retransmission fills the last hole. */
	h_push(&h, LP_TH_ACK, 1500, 100, 1000, d + 1500, 1000);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 3000);
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 0);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.received_bytes, 3000);
	ck_assert_int_eq(st.first_diff, -1);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* Segments cut after their headers (a link with cfg.rx_headers_only): the
 * same ACKs, SACK blocks and byte counts as whole ones, out of order too,
 * under the stream and size policies; ignored under bytes, which has
 * nothing to compare. */
START_TEST(test_headers_only)
{
	struct tflow *t = simple_flow(100, 3000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .sack_ok = true };
	const uint8_t *d = t->bytes[1];
	struct lp_engine_stats st;

	h_start(&h, t, LP_ROLE_CLIENT);
	h.cfg.match = _i == 0 ? LP_MATCH_STREAM : _i == 1 ? LP_MATCH_SIZE : LP_MATCH_BYTES;
	h_new(&h);
	h_connect(&h, &o, 65535);
	h.rx_cut = true;
	h_push(&h, LP_TH_ACK, 1000, 100, 1000, d + 1000, 1000);
	if (_i == 2) {
		ck_assert_uint_eq(h_pull(&h), 0);
		lp_engine_stats(h.e, &st);
		ck_assert_uint_eq(st.received_bytes, 0);
		ck_assert_uint_eq(st.packets_ignored, 1);
		goto out;
	}
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1);
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 1);
	ck_assert_uint_eq(h_last(&h)->opts.sack[0].left, h.piss + 1 + 1000);
	h_push(&h, LP_TH_ACK, 0, 100, 1000, d, 1000);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 2000);
	h_push(&h, LP_TH_ACK, 1500, 100, 1000, d + 1500, 1500);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 3000);
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 0);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.received_bytes, 3000);
	ck_assert_int_eq(st.first_diff, -1);
out:
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* Pure ACKs the engine sends now (from out[from..]). */
static unsigned pure_acks(const struct harness *h, size_t from)
{
	unsigned n = 0;

	for (size_t i = from; i < h->nout; i++)
		n += h->out[i].flags == LP_TH_ACK && !h->out[i].len;
	return n;
}

/* ACKs as a good receiver sends them: the first 16 data segments at once
 * (the peer's slow start), then one for every second full-sized segment; a
 * lone segment after a delay of 40 ms; out-of-order data and data that
 * fills the hole at once, with SACK; a batch of segments read together, one
 * cumulative ACK; after the peer was quiet for an RTO, at once again. */
START_TEST(test_ack_policy)
{
	enum { MSS = 1448, N = 60 };
	struct tflow *t = simple_flow(100, N * MSS);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .sack_ok = true };
	const uint8_t *d = t->bytes[1];
	uint64_t at;
	size_t mark;
	int k = 0;

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 100);
	/* Quick: every one of the first 16 is acknowledged on its own. */
	for (; k < 16; k++) {
		mark = h.nout;
		h_push(&h, LP_TH_ACK, (uint64_t)k * MSS, 100, 65535, d + k * MSS, MSS);
		ck_assert_uint_eq(h_pull(&h), 1);
		ck_assert_uint_eq(pure_acks(&h, mark), 1);
		ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)((k + 1) * MSS));
	}
	/* Then every second full-sized segment: 10 segments, 5 ACKs. */
	mark = h.nout;
	for (; k < 26; k++) {
		h.now += 100000;
		h_push(&h, LP_TH_ACK, (uint64_t)k * MSS, 100, 65535, d + k * MSS, MSS);
		h_pull(&h);
		if (k % 2)
			ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)((k + 1) * MSS));
	}
	ck_assert_uint_eq(pure_acks(&h, mark), 5);
	/* A lone segment: nothing now, its ACK 40 ms later. */
	mark = h.nout;
	h_push(&h, LP_TH_ACK, (uint64_t)k * MSS, 100, 65535, d + k * MSS, MSS);
	k++;
	ck_assert_uint_eq(h_pull(&h), 0);
	at = lp_engine_next_timer(h.e);
	ck_assert_uint_eq(at, h.now + 40 * MS);
	h_fire(&h);
	ck_assert_uint_eq(h.now, at);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(pure_acks(&h, mark), 1);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)(k * MSS));
	/* Out of order (one segment lost): at once, with its SACK block; the
	 * retransmission that fills the hole, at once too. */
	mark = h.nout;
	h_push(&h, LP_TH_ACK, (uint64_t)(k + 1) * MSS, 100, 65535, d + (k + 1) * MSS, MSS);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)(k * MSS));
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 1);
	h_push(&h, LP_TH_ACK, (uint64_t)k * MSS, 100, 65535, d + k * MSS, MSS);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)((k + 2) * MSS));
	ck_assert_uint_eq(h_last(&h)->opts.nsack, 0);
	k += 2;
	/* Eight segments read in one batch: one cumulative ACK. */
	mark = h.nout;
	for (int i = 0; i < 8; i++, k++)
		h_push(&h, LP_TH_ACK, (uint64_t)k * MSS, 100, 65535, d + k * MSS, MSS);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(pure_acks(&h, mark), 1);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)(k * MSS));
	/* The peer quiet for longer than an RTO: quick again. */
	h.now += 2000 * MS;
	mark = h.nout;
	h_push(&h, LP_TH_ACK, (uint64_t)k * MSS, 100, 65535, d + k * MSS, MSS);
	k++;
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(pure_acks(&h, mark), 1);
	/* The rest in one batch, then the peer's FIN: at once. */
	for (; k < N; k++)
		h_push(&h, LP_TH_ACK, (uint64_t)k * MSS, 100, 65535, d + k * MSS, MSS);
	h_pull(&h);
	h_push(&h, LP_TH_ACK | LP_TH_FIN, (uint64_t)N * MSS, 100, 65535, NULL, 0);
	ck_assert_uint_ge(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)(N * MSS) + 1);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* A window update as data is consumed: with a 2 KiB window, each segment of
 * 1200 bytes frees more than half of it, so each gets its ACK at once (the
 * peer could not send a second full-sized one to earn it). */
START_TEST(test_ack_window_update)
{
	enum { SEG = 1200, N = 24 };
	struct tflow *t = tf_new(AF_INET, 100, N * SEG);
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .sack_ok = true };
	struct harness h;

	tf_seg(t, 0, 100, LP_TH_PSH, -1);
	for (int i = 0; i < N; i++)
		tf_seg(t, 1, SEG, LP_TH_PSH, -1);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	h_start(&h, t, LP_ROLE_CLIENT);
	h.cfg.rcv_wnd = 2048;
	h_new(&h);
	h_connect(&h, &o, 65535);
	for (int k = 0; k < N; k++) {
		size_t mark = h.nout;

		h.now += MS;
		h_push(&h, LP_TH_ACK, (uint64_t)k * SEG, 100, 65535, t->bytes[1] + k * SEG, SEG);
		ck_assert_uint_eq(h_pull(&h), 1);
		ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + (uint32_t)((k + 1) * SEG));
		/* The last one's ACK rides on our FIN. */
		if (k < N - 1)
			ck_assert_uint_eq(pure_acks(&h, mark), 1);
	}
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* The window offered grows with what the capture shows the peer sending: a
 * sixteenth of it, at least 256 KiB (and at most 8 MiB). */
START_TEST(test_window_sized_to_transfer)
{
	static const uint32_t sizes[] = { 100, 32u << 20 };
	static const uint64_t want[] = { 256u << 10, 2u << 20 };
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7 };

	for (int i = 0; i < 2; i++) {
		struct tflow *t = tf_new(AF_INET, 100, sizes[i]);
		struct harness h;

		tf_seg(t, 0, 100, LP_TH_PSH, -1);
		tf_seg(t, 1, sizes[i], LP_TH_PSH, -1);
		tf_seg(t, 0, 0, LP_TH_FIN, -1);
		tf_seg(t, 1, 0, LP_TH_FIN, -1);
		h_start(&h, t, LP_ROLE_CLIENT);
		h_new(&h);
		h_connect(&h, &o, 65535);
		/* Our wscale is the captured 7. */
		ck_assert_uint_eq((uint64_t)h_last(&h)->window << 7, want[i]);
		lp_engine_free(h.e);
		tf_free(t);
	}
}
END_TEST

/* The peer sends everything and its FIN before our second segment is due:
 * we keep sending (half-close), then close, and finish. */
START_TEST(test_early_peer_fin)
{
	struct tflow *t = tf_new(AF_INET, 300, 200);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	size_t mark;

	tf_seg(t, 0, 100, LP_TH_PSH, -1);
	tf_seg(t, 1, 200, LP_TH_PSH, -1);
	tf_seg(t, 0, 200, LP_TH_PSH, -1);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 100);
	mark = h.nout;
	h_push(&h, LP_TH_ACK | LP_TH_FIN, 0, 100, 65535, t->bytes[1], 200);
	ck_assert_uint_eq(h.events[LP_EV_FIN_RECEIVED], 1);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 200);
	ck_assert(h_last(&h)->flags & LP_TH_FIN);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 201);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	h_push(&h, LP_TH_ACK, 201, 301, 65535, NULL, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
	ck_assert_uint_eq(h.events[LP_EV_DONE], 1);
	ck_assert_uint_eq(h.events[LP_EV_DIVERGENCE], 0);
	/* A retransmitted FIN after we are done still gets its ACK. */
	h_push(&h, LP_TH_ACK | LP_TH_FIN, 200, 301, 65535, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 201);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* An engine with the fault plan of specs (freed with the engine's test). */
static struct lp_fault_plan *h_faults(struct harness *h, const char *const *specs, size_t n)
{
	struct lp_fault_plan *p;
	char err[200];

	ck_assert_int_eq(lp_fault_plan_new(&p), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(lp_fault_plan_add(p, specs[i], err, sizeof(err)) == 0, "%s", err);
	h->cfg.faults = p;
	return p;
}

/* A window cap and a zero window: the windows we advertise, the data we
 * take (what the last open window offered, RFC 7323 2.4, and no more), the
 * window update when it reopens. */
START_TEST(test_window_faults)
{
	static const char *const specs[] = { "client:window:4096", "client:zero-window:S1:500" };
	struct tflow *t = simple_flow(100, 20000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7 };
	const uint8_t *d = t->bytes[1];
	struct lp_fault_plan *p;
	uint64_t closed;

	h_start(&h, t, LP_ROLE_CLIENT);
	p = h_faults(&h, specs, 2);
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_eq(h.out[0].window, 4096);
	ck_assert_uint_eq(h.out[0].opts.wscale, 7);
	ck_assert_uint_eq(h_last(&h)->window, 4096 >> 7);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 1);   /* the cap, when first advertised */
	/* S1 in: the window closes. */
	h.now += MS;
	closed = h.now;
	h_push(&h, LP_TH_ACK, 0, 100, 1000, d, 1448);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 1448);
	ck_assert_uint_eq(h_last(&h)->window, 0);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 2);
	ck_assert_int_eq(lp_fault_plan_log(p, 1)->kind, LP_FAULT_ZERO_WINDOW);
	/* What was sent in the window offered before is taken, up to its
	 * edge (4096): S2 whole, S3 in part. */
	h_push(&h, LP_TH_ACK, 1448, 100, 1000, d + 1448, 1448);
	h_push(&h, LP_TH_ACK, 2896, 100, 1000, d + 2896, 1448);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 4096);
	ck_assert_uint_eq(h_last(&h)->window, 0);
	/* Past the edge: its ACK counts, its data does not (the peer's ACK of
	 * our FIN-less data is taken: no retransmission follows). */
	h_push(&h, LP_TH_ACK, 4096, 100, 1000, d + 4096, 1000);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 4096);
	ck_assert_uint_eq(h_last(&h)->window, 0);
	/* A probe below RCV.NXT: an ACK with the closed window. */
	h.now += 600 * MS / 2;
	h_push(&h, LP_TH_ACK, 4095, 100, 1000, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->window, 0);
	/* 500 ms after it closed, a window update reopens it. */
	ck_assert_uint_eq(lp_engine_next_timer(h.e), closed + 500 * MS);
	h_fire(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 4096);
	ck_assert_uint_eq(h_last(&h)->window, 4096 >> 7);
	h_push(&h, LP_TH_ACK, 4096, 100, 1000, d + 4096, 1000);
	h_pull(&h);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 5096);
	ck_assert_uint_eq(lp_fault_plan_fired(p), 2);
	ck_assert_uint_eq(h.events[LP_EV_FAULT], 2);
	lp_engine_free(h.e);
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

/* A window cap below our scale's unit lowers the scale we offer. */
START_TEST(test_window_cap_scale)
{
	static const char *const specs[] = { "client:window:100" };
	struct tflow *t = simple_flow(100, 2000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7 };
	struct lp_fault_plan *p;

	h_start(&h, t, LP_ROLE_CLIENT);
	p = h_faults(&h, specs, 1);
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_eq(h.out[0].window, 100);
	ck_assert_uint_eq(h.out[0].opts.wscale, 6);
	ck_assert_uint_eq(h_last(&h)->window, 1);
	lp_engine_free(h.e);
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

/* A stall: nothing more of ours goes; when the peer closes we close too,
 * else a quiet peer ends it with a reset; failed either way. */
START_TEST(test_stall_ends)
{
	static const char *const specs[] = { "client:stall:C2" };
	struct tflow *t = tf_new(AF_INET, 300, 3000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	struct lp_fault_plan *p;
	size_t mark;

	tf_seg(t, 0, 100, LP_TH_PSH, -1);
	tf_seg(t, 1, 1000, LP_TH_PSH, -1);
	tf_seg(t, 0, 100, LP_TH_PSH, -1);
	tf_seg(t, 1, 1000, LP_TH_PSH, -1);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	h_start(&h, t, LP_ROLE_CLIENT);
	p = h_faults(&h, specs, 1);
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 100);
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 100, 65535, t->bytes[1], 1000);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 0);
	ck_assert_uint_eq(h_last(&h)->ack, h.piss + 1 + 1000);
	ck_assert_uint_eq(h.events[LP_EV_FAULT], 1);
	if (_i == 0) {
		/* The peer closes: our FIN, then failed once it is acknowledged. */
		h_push(&h, LP_TH_ACK | LP_TH_FIN, 1000, 100, 65535, NULL, 0);
		h_pull(&h);
		ck_assert(h_last(&h)->flags & LP_TH_FIN);
		ck_assert_uint_eq(h_last(&h)->seq, h.eiss + 1 + 100);
		ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
		h_push(&h, LP_TH_ACK, 1001, 101, 65535, NULL, 0);
		ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
		ck_assert_str_eq(lp_engine_reason(h.e), "stalled: closed after the peer did");
		ck_assert_uint_eq(h_pull(&h), 0);
	} else {
		/* A quiet peer: after the expectation timeout, a reset. */
		h_fire(&h);
		ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
		ck_assert_str_eq(lp_engine_reason(h.e), "stalled: the peer sent nothing more");
		ck_assert_uint_eq(h_pull(&h), 1);
		ck_assert(h_last(&h)->flags & LP_TH_RST);
	}
	lp_engine_free(h.e);
	lp_fault_plan_free(p);
	tf_free(t);
}
END_TEST

/* RST: exact sequence resets; in-window gets a challenge ACK (RFC 5961);
 * outside the window is ignored. */
START_TEST(test_rst)
{
	struct tflow *t = simple_flow(100, 3000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &o, 65535);
	h.nout = 0;
	h_push(&h, LP_TH_RST, 5000, 0, 0, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[0].flags, LP_TH_ACK);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	h_push(&h, LP_TH_RST, 0x40000000u, 0, 0, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	h_push(&h, LP_TH_RST | LP_TH_ACK, 0, 100, 0, NULL, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e), "reset by peer");
	ck_assert_uint_eq(h_pull(&h), 0);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* A flow the capture shows refused: the client's SYN, the server's reset. */
static struct tflow *refused_flow(void)
{
	struct tflow *t = tf_new(AF_INET, 0, 0);

	t->fl.dir[1].syn = false;
	t->fl.dir[1].opts.seen = false;
	t->fl.notes |= LP_NOTE_NO_SYNACK;
	t->fl.dir[0].packets = 1;
	tf_seg(t, 1, 0, LP_TH_RST, -1);
	return t;
}

/* Captured refused, live accepted: diverged at the SYN-ACK, no wait, and the
 * accepted connection is reset. Refused live too: matched. */
START_TEST(test_refused_capture)
{
	struct tflow *t = refused_flow();
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	struct lp_engine_stats st;

	ck_assert(lp_flow_refused(&t->fl));
	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &o, 65535);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.ndivergences, 1);
	ck_assert_str_eq(h.last_div.reason, "the capture shows the connection refused (RST), the host accepted it");
	ck_assert_uint_eq(h.nout, 2);
	ck_assert_uint_eq(h.out[1].flags, LP_TH_RST | LP_TH_ACK);
	ck_assert_uint_eq(h.out[1].seq, h.eiss + 1);
	ck_assert_uint_eq(h.out[1].ack, h.piss + 1);
	ck_assert_uint_eq(lp_engine_next_timer(h.e), UINT64_MAX);
	lp_engine_free(h.e);

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	h.eiss = h.out[0].seq;
	h_push_opts(&h, LP_TH_RST | LP_TH_ACK, 0, h.eiss + 1, 0, NULL, NULL, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.ndivergences, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	lp_engine_free(h.e);
	tf_free(t);

	/* Captured accepted, live refused: failed. */
	t = simple_flow(100, 100);
	ck_assert(!lp_flow_refused(&t->fl));
	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	h.eiss = h.out[0].seq;
	h_push_opts(&h, LP_TH_RST | LP_TH_ACK, 0, h.eiss + 1, 0, NULL, NULL, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e), "connection refused (reset by peer)");
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* The server's side of a refused flow refuses the SYN:
 * <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>, and its session is over. */
START_TEST(test_refused_server)
{
	struct tflow *t = refused_flow();
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };

	h_start(&h, t, LP_ROLE_SERVER);
	h_new(&h);
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &o, NULL, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[0].flags, LP_TH_RST | LP_TH_ACK);
	ck_assert_uint_eq(h.out[0].seq, 0);
	ck_assert_uint_eq(h.out[0].ack, h.piss + 1);
	ck_assert_uint_eq(h_pull(&h), 0);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* The capture shows the server answering early, closing and resetting
 * while the client still uploads: its reset once the answer and its FIN
 * are in is the captured end, our data still unsent or not; earlier, a
 * failure. */
START_TEST(test_peer_reset_midupload)
{
	for (int early = 0; early < 2; early++) {
		struct tflow *t = tf_new(AF_INET, 60000, 200);
		struct harness h;
		struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
		struct lp_engine_stats st;

		tf_data(t, 0, 14600, 1460);
		tf_seg(t, 1, 200, LP_TH_PSH, -1);
		tf_seg(t, 1, 0, LP_TH_FIN, -1);
		tf_data(t, 0, 60000 - 14600, 1460);
		tf_seg(t, 1, 0, LP_TH_RST, -1);
		h_start(&h, t, LP_ROLE_CLIENT);
		h_new(&h);
		h_connect(&h, &o, 65535);
		ck_assert_uint_eq(out_bytes(&h, 0), 14600);
		if (early) {
			h_push(&h, LP_TH_ACK | LP_TH_PSH, 0, 14600, 65535, t->bytes[1], 100);
			h_push(&h, LP_TH_RST | LP_TH_ACK, 100, 14600, 0, NULL, 0);
			ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
			ck_assert_str_eq(lp_engine_reason(h.e), "reset by peer");
		} else {
			h_push(&h, LP_TH_ACK | LP_TH_PSH | LP_TH_FIN, 0, 14600, 65535, t->bytes[1], 200);
			h_pull(&h);
			ck_assert_uint_gt(out_bytes(&h, 0), 14600);
			ck_assert_uint_lt(out_bytes(&h, 0), 60000);
			h_push(&h, LP_TH_RST | LP_TH_ACK, 201, 14600, 0, NULL, 0);
			ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
			ck_assert_str_eq(h.last_reason, "reset by peer, as captured");
			lp_engine_stats(h.e, &st);
			ck_assert_uint_eq(st.ndivergences, 0);
		}
		lp_engine_free(h.e);
		tf_free(t);
	}
}
END_TEST

/* A captured abort (a reset with no FIN before it) after C2: a reset that
 * comes before C2 left is not the captured one (diverged); one after it
 * is (matched). */
START_TEST(test_peer_reset_before_ours)
{
	for (int late = 0; late < 2; late++) {
		struct tflow *t = tf_new(AF_INET, 400, 200);
		struct harness h;
		struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
		struct lp_engine_stats st;

		tf_seg(t, 0, 100, LP_TH_PSH, -1);
		tf_seg(t, 1, 200, LP_TH_PSH, -1);
		tf_seg(t, 0, 300, LP_TH_PSH, -1);
		tf_seg(t, 1, 0, LP_TH_RST, -1);
		h_start(&h, t, LP_ROLE_CLIENT);
		h_new(&h);
		h_connect(&h, &o, 65535);
		ck_assert_uint_eq(out_bytes(&h, 0), 100);
		h_push(&h, LP_TH_ACK | LP_TH_PSH, 0, 100, 65535, t->bytes[1], 200);
		if (late) {
			h_pull(&h);
			ck_assert_uint_eq(out_bytes(&h, 0), 400);
		}
		h_push(&h, LP_TH_RST | LP_TH_ACK, 200, late ? 400 : 100, 0, NULL, 0);
		ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
		lp_engine_stats(h.e, &st);
		ck_assert_uint_eq(st.ndivergences, late ? 0 : 1);
		if (!late)
			ck_assert_str_eq(h.last_div.reason, "peer reset before C2 (the capture shows the reset after it)");
		lp_engine_free(h.e);
		tf_free(t);
	}
}
END_TEST

/* Packets for another connection, damaged ones and non-TCP are ignored. */
START_TEST(test_ignores_strangers)
{
	struct tflow *t = simple_flow(100, 100);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	struct lp_engine_stats st;
	uint8_t junk[60] = { 0x45 };

	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_pull(&h);
	h.eiss = h.out[0].seq;
	h.cfg.remote.port = 81; /* the SYN-ACK comes from the wrong port */
	h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 1, 1000, &o, NULL, 0);
	h.cfg.remote.port = 80;
	ck_assert_int_eq(lp_engine_input(h.e, junk, sizeof(junk), h.now), -EINVAL);
	ck_assert_uint_eq(h_pull(&h), 0);
	/* A SYN-ACK that does not acknowledge our SYN: reset, not connected. */
	h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 7, 1000, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_RST);
	ck_assert_uint_eq(h_last(&h)->seq, h.eiss + 7);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.packets_ignored, 2);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 0);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* Match policies on the same wrong answer: stream accepts it, bytes names
 * the segment and the first differing offset. */
START_TEST(test_match_bytes)
{
	struct tflow *t = tf_new(AF_INET, 200, 3000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
	uint8_t wrong[3000];

	tf_seg(t, 0, 100, LP_TH_PSH, -1);
	tf_data(t, 1, 3000, 1000);
	tf_seg(t, 0, 100, LP_TH_PSH, -1);
	memcpy(wrong, t->bytes[1], sizeof(wrong));
	wrong[2100] ^= 1;
	for (int policy = LP_MATCH_STREAM; policy <= LP_MATCH_BYTES; policy += 2) {
		h_start(&h, t, LP_ROLE_CLIENT);
		h.cfg.match = (enum lp_match)policy;
		h_new(&h);
		h_connect(&h, &o, 65535);
		h_push(&h, LP_TH_ACK, 0, 100, 65535, wrong, 1460);
		h_push(&h, LP_TH_ACK, 1460, 100, 65535, wrong + 1460, 1540);
		h_pull(&h);
		ck_assert_uint_eq(out_bytes(&h, 0), 200);
		if (policy == LP_MATCH_STREAM) {
			ck_assert_uint_eq(h.events[LP_EV_DIVERGENCE], 0);
		} else {
			ck_assert_uint_eq(h.events[LP_EV_DIVERGENCE], 1);
			ck_assert_uint_eq(h.last_div.label, 3);
			ck_assert_uint_eq(h.last_div.dir, LP_S2C);
			ck_assert_int_eq(h.last_div.first_diff, 2100);
		}
		h_push(&h, LP_TH_ACK, 3000, 200, 65535, NULL, 0);
		ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
		lp_engine_free(h.e);
	}
	tf_free(t);
}
END_TEST

/* Hostile input after the handshake: random flags, sequence and ack numbers
 * around the window, SACK blocks and payloads. Nothing crashes (ASan), every
 * packet out is valid, and the stream received stays consistent. */
START_TEST(test_random_input)
{
	struct tflow *t = simple_flow(200000, 200000);
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .sack_ok = true, .has_ts = true,
				.has_wscale = true, .wscale = 3 };
	struct lp_engine_stats st;
	struct lp_rng r;
	uint8_t data[1500];
	uint64_t rcv = 0;

	lp_rng_seed(&r, 5);
	h_start(&h, t, LP_ROLE_CLIENT);
	h.cfg.retries = 1000;
	h_new(&h);
	h_connect(&h, &o, 65535);
	for (int i = 0; i < 30000; i++) {
		struct lp_tcpopts po = { 0 };
		uint64_t base = rcv > 3000 ? rcv - 3000 : 0;
		uint64_t off = lp_rng_below(&r, 4) ? base + lp_rng_below(&r, 30000) : rcv;
		uint32_t len = (uint32_t)lp_rng_below(&r, 1400);
		uint8_t flags = (uint8_t)(LP_TH_ACK | (lp_rng_below(&r, 50) == 0 ? LP_TH_FIN : 0) |
					  (lp_rng_below(&r, 500) == 0 ? LP_TH_SYN : 0));

		memset(data, 0xab, len);
		if (off < t->fl.dir[1].len)
			memcpy(data, t->bytes[1] + off,
			       off + len <= t->fl.dir[1].len ? len : t->fl.dir[1].len - off);
		po.has_ts = lp_rng_below(&r, 2);
		po.tsval = (uint32_t)lp_rng_next(&r);
		po.nsack = (uint8_t)lp_rng_below(&r, 4);
		for (int k = 0; k < po.nsack; k++) {
			po.sack[k].left = h.eiss + 1 + (uint32_t)lp_rng_below(&r, 300000);
			po.sack[k].right = po.sack[k].left + (uint32_t)lp_rng_below(&r, 5000);
		}
		h_push_opts(&h, flags, h.piss + 1 + (uint32_t)off,
			    h.eiss + 1 + (uint32_t)lp_rng_below(&r, 250000),
			    (uint16_t)lp_rng_below(&r, 65536), &po, data, len);
		if (i % 7 == 0) {
			h.now += lp_rng_below(&r, 400) * MS;
			lp_engine_timeout(h.e, h.now);
		}
		h.nout = 0;
		h_pull(&h);
		if (h.nout)
			rcv = (uint32_t)(h_last(&h)->ack - h.piss - 1);
	}
	lp_engine_stats(h.e, &st);
	ck_assert_uint_gt(st.received_bytes, 10000);
	ck_assert_int_eq(st.first_diff, -1);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

START_TEST(test_parsers)
{
	enum lp_match m;
	struct lp_timing tm;
	struct lp_engine_cfg cfg;
	struct lp_engine *e = (struct lp_engine *)&cfg;
	struct tflow *t = simple_flow(1, 1);

	ck_assert_int_eq(lp_match_parse("bytes", &m), 0);
	ck_assert_int_eq(m, LP_MATCH_BYTES);
	ck_assert_str_eq(lp_match_str(m), "bytes");
	ck_assert_int_eq(lp_match_parse("Bytes", &m), -EINVAL);
	ck_assert_int_eq(lp_timing_parse("asap", &tm), 0);
	ck_assert_int_eq(tm.mode, LP_TIMING_ASAP);
	ck_assert_int_eq(lp_timing_parse("x2.5", &tm), 0);
	ck_assert(tm.mode == LP_TIMING_CAPTURE && tm.speed == 2.5);
	ck_assert_int_eq(lp_timing_parse("x", &tm), -EINVAL);
	ck_assert_int_eq(lp_timing_parse("x-1", &tm), -EINVAL);
	ck_assert_int_eq(lp_timing_parse("x0", &tm), -EINVAL);
	ck_assert_int_eq(lp_timing_parse("x2s", &tm), -EINVAL);
	/* Bad configurations are refused and leave the out-parameter alone. */
	lp_engine_cfg_defaults(&cfg);
	cfg.local = t->fl.client;
	cfg.remote = t->fl.server;
	cfg.remote.family = AF_INET6;
	ck_assert_int_eq(lp_engine_new(&t->fl, &cfg, &e), -EINVAL);
	ck_assert_ptr_eq(e, (struct lp_engine *)&cfg);
	tf_free(t);
}
END_TEST

/* The wait for the peer's answer (engine_wait.c): client sent C1 (100
 * bytes), the peer acknowledged it and stays silent. */
static void wait_setup(struct harness *h, struct tflow *t, unsigned patience_ms, unsigned retries)
{
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };

	h_start(h, t, LP_ROLE_CLIENT);
	h->cfg.expect_timeout_ms = patience_ms;
	h->cfg.keepalive_ms = 2000;
	h->cfg.retries = retries;
	h_new(h);
	h_connect(h, &o, 65535);
	ck_assert_uint_eq(out_bytes(h, 0), 100);
	h_push(h, LP_TH_ACK, 0, 100, 65535, NULL, 0);
	ck_assert_uint_eq(h_pull(h), 0);
}

/* A keepalive is due: fire it, check it is one (SND.NXT - 1, no data), and
 * answer it when alive. */
static void keepalive(struct harness *h, bool answer)
{
	h_fire(h);
	ck_assert_uint_eq(h_pull(h), 1);
	ck_assert_uint_eq(h_last(h)->len, 0);
	ck_assert_uint_eq(h_off(h, h->nout - 1), 99);
	ck_assert(h_last(h)->flags == LP_TH_ACK);
	if (answer)
		h_push(h, LP_TH_ACK, 0, 100, 65535, NULL, 0);
}

/* A server that answers after 12 s, within the patience: matched, and the
 * connection was checked with keepalives meanwhile. */
START_TEST(test_patience_slow_peer)
{
	struct tflow *t = simple_flow(100, 500);
	struct harness h;
	uint64_t t0;

	wait_setup(&h, t, 60000, 6);
	t0 = h.now;
	for (int i = 0; i < 6; i++)
		keepalive(&h, true);
	ck_assert_uint_eq(h.now - t0, 12000 * MS);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	h_push(&h, LP_TH_ACK | LP_TH_PSH | LP_TH_FIN, 0, 100, 65535, t->bytes[1], 500);
	h_pull(&h);
	ck_assert(h_last(&h)->flags & LP_TH_FIN);
	h_push(&h, LP_TH_ACK, 501, 101, 65535, NULL, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
	ck_assert_uint_eq(h.events[LP_EV_DIVERGENCE], 0);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* All the answer came, then neither the captured reset nor anything else
 * within the patience: a peer that answers keepalives did not reset
 * (diverged); without keepalives a reset lost on the way cannot be told
 * from one never sent (matched). */
START_TEST(test_patience_no_reset)
{
	for (int ka = 0; ka < 2; ka++) {
		struct tflow *t = tf_new(AF_INET, 100, 500);
		struct harness h;
		struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };
		struct lp_engine_stats st;

		tf_data(t, 0, 100, 1448);
		tf_data(t, 1, 500, 1448);
		tf_seg(t, 1, 0, LP_TH_RST, -1);
		h_start(&h, t, LP_ROLE_CLIENT);
		h.cfg.expect_timeout_ms = 5000;
		h.cfg.keepalive_ms = ka ? 2000 : 0;
		h_new(&h);
		h_connect(&h, &o, 65535);
		h_push(&h, LP_TH_ACK | LP_TH_PSH, 0, 100, 65535, t->bytes[1], 500);
		h_pull(&h);
		for (int i = 0; ka && i < 2; i++) {
			h_fire(&h);
			ck_assert_uint_eq(h_pull(&h), 1);
			ck_assert_uint_eq(h_off(&h, h.nout - 1), 99);
			h_push(&h, LP_TH_ACK, 500, 100, 65535, NULL, 0);
		}
		h_fire(&h);
		ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
		lp_engine_stats(h.e, &st);
		ck_assert_uint_eq(st.ndivergences, (unsigned)ka);
		if (ka)
			ck_assert_str_eq(h.last_div.reason,
					 "peer did not reset (the connection is alive: it answers keepalives)");
		lp_engine_free(h.e);
		tf_free(t);
	}
}
END_TEST

/* Nothing of the answer within the patience, the peer alive: failed, not
 * diverged, and the reason says what was awaited. */
START_TEST(test_patience_no_answer)
{
	struct tflow *t = simple_flow(100, 500);
	struct harness h;

	wait_setup(&h, t, 5000, 6);
	keepalive(&h, true);
	keepalive(&h, true);
	h_fire(&h);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_uint_eq(h.events[LP_EV_DIVERGENCE], 0);
	ck_assert_str_eq(lp_engine_reason(h.e), "no answer from the peer in 5 s while waiting for S1 (500 bytes); "
			 "the connection is alive (the peer answers keepalives)");
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* Part of the answer, then silence past the patience: the peer did send
 * fewer bytes, a divergence naming the counts. */
START_TEST(test_patience_partial_answer)
{
	struct tflow *t = simple_flow(100, 500);
	struct harness h;
	const struct lp_divergence *d;

	wait_setup(&h, t, 5000, 6);
	h_push(&h, LP_TH_ACK | LP_TH_PSH, 0, 100, 65535, t->bytes[1], 200);
	for (int i = 0; i < 10 && lp_engine_state(h.e) == LP_ENGINE_RUNNING; i++) {
		h_fire(&h);
		h_pull(&h);
		if (h.nout && h_last(&h)->len == 0 && h_off(&h, h.nout - 1) == 99)
			h_push(&h, LP_TH_ACK, 200, 100, 65535, NULL, 0);
	}
	ck_assert_uint_ge(h.events[LP_EV_DIVERGENCE], 1);
	d = lp_engine_divergence(h.e, 0);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->reason, "peer sent fewer bytes");
	ck_assert_uint_eq(d->expected, 500);
	ck_assert_uint_eq(d->received, 200);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

/* Keepalives that no one answers: the peer is gone, said before the
 * patience runs out. */
START_TEST(test_keepalive_unanswered)
{
	struct tflow *t = simple_flow(100, 500);
	struct harness h;

	wait_setup(&h, t, 60000, 3);
	for (int i = 0; i < 3; i++)
		keepalive(&h, false);
	h_fire(&h);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e), "peer unresponsive: no answer to 3 keepalives while waiting for S1");
	ck_assert_uint_eq(h.events[LP_EV_TIMER] > 0, 1);
	lp_engine_free(h.e);
	tf_free(t);
}
END_TEST

Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_add_test(tc, test_syn_offers_captured_options);
	tcase_add_test(tc, test_honours_negotiation);
	tcase_add_test(tc, test_server_handshake);
	tcase_add_test(tc, test_window_limited);
	tcase_add_test(tc, test_zero_window_probe);
	tcase_add_test(tc, test_window_faults);
	tcase_add_test(tc, test_window_cap_scale);
	tcase_add_loop_test(tc, test_stall_ends, 0, 2);
	tcase_add_test(tc, test_tsecr_echo);
	tcase_add_test(tc, test_syn_backoff_giveup);
	tcase_add_test(tc, test_synsent_unacceptable_ack);
	tcase_add_test(tc, test_data_rto_backoff);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_loop_test(tc, test_headers_only, 0, 3);
	tcase_add_test(tc, test_ack_policy);
	tcase_add_test(tc, test_window_sized_to_transfer);
	tcase_add_test(tc, test_ack_window_update);
	tcase_add_test(tc, test_early_peer_fin);
	tcase_add_test(tc, test_rst);
	tcase_add_test(tc, test_refused_capture);
	tcase_add_test(tc, test_refused_server);
	tcase_add_test(tc, test_peer_reset_midupload);
	tcase_add_test(tc, test_peer_reset_before_ours);
	tcase_add_test(tc, test_ignores_strangers);
	tcase_add_test(tc, test_match_bytes);
	tcase_add_test(tc, test_random_input);
	tcase_add_test(tc, test_parsers);
	tcase_add_test(tc, test_patience_slow_peer);
	tcase_add_test(tc, test_patience_no_answer);
	tcase_add_test(tc, test_patience_no_reset);
	tcase_add_test(tc, test_patience_partial_answer);
	tcase_add_test(tc, test_keepalive_unanswered);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Conformance: the engine against a scripted peer, one test per RFC rule
 * that doc/conformance.md names. Each test crafts the peer's segments that
 * a real stack sends (keepalives, window probes, SACK blocks, old
 * timestamps, partial ACKs) and checks the engine's answer on the wire.
 */
#include <check.h>
#include <string.h>

#include "engine_harness.h"
#include "tcpliveplay/engine.h"

#define SEC (1000 * MS)

static const struct lp_tcpopts sack_ts = { .has_mss = true, .mss = 1460, .sack_ok = true,
					   .has_ts = true, .has_wscale = true, .wscale = 7 };

/* Peer bytes of the flow, for data segments. */
static const uint8_t *pdata(const struct harness *h, uint64_t off)
{
	return h->t->bytes[h->role == LP_ROLE_CLIENT ? LP_S2C : LP_C2S] + off;
}

/* A peer segment with options o (tsval set by the caller). */
static void push_o(struct harness *h, uint8_t flags, uint64_t seq_off, uint64_t ack_off,
		   uint16_t win, const struct lp_tcpopts *o, uint32_t len)
{
	h_push_opts(h, flags, h->piss + 1 + (uint32_t)seq_off, h->eiss + 1 + (uint32_t)ack_off, win, o,
		    len ? pdata(h, seq_off) : NULL, len);
}

/* A peer ACK of ack_off carrying the given SACK blocks ([l, r) offsets). */
static void push_sack(struct harness *h, uint64_t ack_off, uint16_t win, const uint64_t (*b)[2],
		      unsigned n)
{
	struct lp_tcpopts o = { 0 };

	for (unsigned i = 0; i < n; i++) {
		o.sack[i].left = h->eiss + 1 + (uint32_t)b[i][0];
		o.sack[i].right = h->eiss + 1 + (uint32_t)b[i][1];
	}
	o.nsack = (uint8_t)n;
	push_o(h, LP_TH_ACK, 0, ack_off, win, &o, 0);
}

static bool sent_at(const struct harness *h, size_t from, uint64_t off)
{
	for (size_t i = from; i < h->nout; i++)
		if (h->out[i].len && h_off(h, i) == off)
			return true;
	return false;
}

static void done(struct harness *h)
{
	lp_engine_free(h->e);
	tf_free(h->t);
}

/* 1. RFC 9293 3.7.1 (MUST-16), RFC 6691: the options of a segment count
 * against the MSS. With SACK blocks to send, our data segments shrink so
 * that options and data stay within the peer's MSS and the IP packet
 * within 1500 bytes. */
START_TEST(test_mss_counts_options)
{
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(200000, 20000), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &sack_ts, 65535);
	ck_assert_uint_eq(h.out[1].len, 1448);
	/* The peer's first segment is lost: its second is held, one block. */
	push_o(&h, LP_TH_ACK, 1448, 14480, 65535, NULL, 1448);
	mark = h.nout;
	h_pull(&h);
	ck_assert_uint_gt(h.nout - mark, 2);
	for (size_t i = mark; i < h.nout; i++) {
		ck_assert_uint_eq(h.out[i].opts.nsack, 1);
		ck_assert(!h.out[i].opts.has_mss);
		if (h.out[i].len)
			ck_assert_uint_eq(h.out[i].len, 1460 - 12 - 12);
		ck_assert_int_le(h.rawlen[i], 1500);
	}
	/* Three blocks: 1460 - 12 - 28 bytes of data. */
	push_o(&h, LP_TH_ACK, 4344, 14480, 65535, NULL, 1448);
	push_o(&h, LP_TH_ACK, 7240, 14480, 65535, NULL, 1448);
	mark = h.nout;
	push_o(&h, LP_TH_ACK, 0, out_bytes(&h, 0), 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_gt(h.nout - mark, 2);
	for (size_t i = mark; i < h.nout; i++) {
		ck_assert_uint_eq(h.out[i].opts.nsack, 3);
		if (h.out[i].len)
			ck_assert_uint_eq(h.out[i].len, 1460 - 12 - 28);
		ck_assert_int_le(h.rawlen[i], 1500);
	}
	done(&h);
}
END_TEST

/* 2. RFC 9293 3.10.7.4: a keepalive (SEG.SEQ = RCV.NXT - 1) is not
 * acceptable and gets an ACK, at most one per 500 ms without data (Linux),
 * always with data; and it does not spoil the window update that follows
 * (SND.WL1). */
START_TEST(test_keepalive_answered)
{
	struct harness h;
	uint8_t junk = 0;

	h_start(&h, simple_flow(100, 1000), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 65535);
	h_push(&h, LP_TH_ACK, 0, 100, 65535, NULL, 0);
	h.nout = 0;
	h.now += 10 * SEC;
	h_push(&h, LP_TH_ACK, (uint64_t)-1, 100, 65535, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[0].flags, LP_TH_ACK);
	ck_assert_uint_eq(h.out[0].ack, h.piss + 1);
	ck_assert_uint_eq(h.out[0].seq, h.eiss + 1 + 100);
	h.now += 100 * MS;
	h_push(&h, LP_TH_ACK, (uint64_t)-1, 100, 65535, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	h.now += 500 * MS;
	h_push(&h, LP_TH_ACK, (uint64_t)-1, 100, 65535, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	/* One garbage byte (other stacks' keepalive): answered each time. */
	h_push(&h, LP_TH_ACK, (uint64_t)-1, 100, 65535, &junk, 1);
	h_push(&h, LP_TH_ACK, (uint64_t)-1, 100, 65535, &junk, 1);
	ck_assert_uint_eq(h_pull(&h), 1); /* aggregated: one ACK for both (MUST-59) */
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	done(&h);

	/* A closed window, a keepalive before any peer data, then the window
	 * opens: the data goes. */
	h_start(&h, simple_flow(3000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 0);
	ck_assert_uint_eq(out_bytes(&h, 0), 0);
	h_push(&h, LP_TH_ACK, (uint64_t)-1, 0, 0, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	h_push(&h, LP_TH_ACK, 0, 0, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, 0), 3000);
	done(&h);
}
END_TEST

/* 3. RFC 1122 4.2.2.17, RFC 9293 3.8.6.1 (MUST-36): the persist timer runs
 * after each probe, answered or not; unanswered probes end the replay
 * (with a reset); a refused probe then a window update sends with an RTO
 * running. */
START_TEST(test_persist_rearmed)
{
	struct harness h;
	unsigned probes = 0;
	size_t mark;

	h_start(&h, simple_flow(3000, 100), LP_ROLE_CLIENT);
	h.cfg.retries = 3;
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 0);
	for (int i = 0; i < 10 && lp_engine_state(h.e) == LP_ENGINE_RUNNING; i++) {
		mark = h.nout;
		h_fire(&h);
		h_pull(&h);
		for (size_t k = mark; k < h.nout; k++)
			probes += h.out[k].len == 1;
	}
	ck_assert_uint_eq(probes, 4);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e), "peer unresponsive (zero window)");
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_RST | LP_TH_ACK);
	ck_assert_uint_eq(h_last(&h)->seq, h.eiss + 1);
	done(&h);

	h_start(&h, simple_flow(3000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 0);
	h_fire(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	h_push(&h, LP_TH_ACK, 0, 0, 0, NULL, 0);     /* probe refused */
	h_push(&h, LP_TH_ACK, 0, 0, 65535, NULL, 0); /* window update */
	mark = h.nout;
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 3000);
	ck_assert_uint_lt(lp_engine_next_timer(h.e), h.now + 2 * SEC);
	h.nout = 0;
	h_fire(&h);
	h_pull(&h);
	ck_assert_uint_gt(h.nout, 0);
	ck_assert_uint_eq(h.out[0].seq, h.eiss + 1);
	done(&h);
}
END_TEST

/* 4. Karn (RFC 6298 3, MUST-18): neither the window probe nor the data
 * first sent after it times the round trip; 30 s of closed window, kept
 * open by answered probes (MUST-37), leave the RTO short. */
START_TEST(test_probe_karn)
{
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(60000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 0);
	while (h.now < 30 * SEC) {
		h_fire(&h);
		h_pull(&h);
		h_push(&h, LP_TH_ACK, 0, 0, 0, NULL, 0);
	}
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 0, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_gt(out_bytes(&h, mark), 10000);
	h.now += 10 * MS;
	h_push(&h, LP_TH_ACK, 0, out_bytes(&h, mark), 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_lt(lp_engine_next_timer(h.e) - h.now, 1 * SEC);
	done(&h);
}
END_TEST

/* 5. A FIN waits for the window like data (Linux) and probes it by the
 * persist timer; a peer that keeps its window closed, answering, never
 * gets a "peer unresponsive" (RFC 9293 MUST-37). */
START_TEST(test_fin_zero_window)
{
	struct tflow *t = tf_new(AF_INET, 100, 50);
	struct harness h;
	size_t mark;

	tf_seg(t, 0, 100, LP_TH_PSH, -1);
	tf_seg(t, 1, 50, LP_TH_PSH, -1);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 100);
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 100, 0, pdata(&h, 0), 50);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert(!(h.out[mark].flags & LP_TH_FIN));
	for (int i = 0; i < 12; i++) {
		h_fire(&h);
		h_pull(&h);
		h_push(&h, LP_TH_ACK, 50, 100, 0, NULL, 0);
	}
	ck_assert_uint_eq(h_last(&h)->flags & LP_TH_FIN, LP_TH_FIN);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	h_push(&h, LP_TH_ACK | LP_TH_FIN, 50, 101, 0, NULL, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_DONE);
	done(&h);
}
END_TEST

/* 6. Server role: the client's SYN again and its ACK in one batch. The
 * SYN-ACK is not sent from ESTABLISHED, no timer runs for nothing. */
START_TEST(test_server_syn_ack_batch)
{
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };

	h_start(&h, simple_flow(10, 3000), LP_ROLE_SERVER);
	h_new(&h);
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	h.eiss = h.out[0].seq;
	h.now += MS;
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &o, NULL, 0);
	h_push_opts(&h, LP_TH_ACK, h.piss + 1, h.eiss + 1, 65535, NULL, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 1);
	/* Only the wait for the client's bytes runs, no RTO. */
	ck_assert_uint_eq(lp_engine_next_timer(h.e) - h.now, h.cfg.expect_timeout_ms * MS);
	done(&h);
}
END_TEST

/* 7. NewReno (RFC 6582 3.2): without SACK, a partial ACK in fast recovery
 * retransmits the next hole at once, not after an RTO. */
START_TEST(test_newreno_partial_ack)
{
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(14600, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 14600);
	/* Segments 0 and 4 lost: three duplicate ACKs. */
	mark = h.nout;
	for (int i = 0; i < 3; i++)
		h_push(&h, LP_TH_ACK, 0, 0, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(h.nout - mark, 1);
	ck_assert_uint_eq(h.out[mark].seq, h.eiss + 1);
	/* The retransmission fills the first hole: a partial ACK. */
	mark = h.nout;
	h.now += MS;
	h_push(&h, LP_TH_ACK, 0, 4 * 1460, 65535, NULL, 0);
	h_pull(&h);
	ck_assert(sent_at(&h, mark, 4 * 1460));
	h_push(&h, LP_TH_ACK, 0, 14600, 65535, NULL, 0);
	ck_assert_uint_eq(h.events[LP_EV_RETRANSMIT], 2);
	done(&h);
}
END_TEST

/* 8. RFC 2018 4 (a MUST): the first SACK block holds the segment that
 * triggered the ACK, then the blocks most recently reported. */
START_TEST(test_sack_first_block)
{
	struct harness h;
	const struct lp_seg *a;

	h_start(&h, simple_flow(100, 10000), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &sack_ts, 65535);
	push_o(&h, LP_TH_ACK, 5000, 100, 65535, NULL, 1000);
	push_o(&h, LP_TH_ACK, 1000, 100, 65535, NULL, 1000);
	push_o(&h, LP_TH_ACK, 3000, 100, 65535, NULL, 1000);
	h_pull(&h);
	a = h_last(&h);
	ck_assert_uint_eq(a->opts.nsack, 3);
	ck_assert_uint_eq(a->opts.sack[0].left, h.piss + 1 + 3000);
	ck_assert_uint_eq(a->opts.sack[1].left, h.piss + 1 + 1000);
	ck_assert_uint_eq(a->opts.sack[2].left, h.piss + 1 + 5000);
	push_o(&h, LP_TH_ACK, 2000, 100, 65535, NULL, 500);
	h_pull(&h);
	a = h_last(&h);
	ck_assert_uint_eq(a->opts.sack[0].left, h.piss + 1 + 1000);
	ck_assert_uint_eq(a->opts.sack[0].right, h.piss + 1 + 2500);
	ck_assert_uint_eq(a->opts.sack[1].left, h.piss + 1 + 3000);
	ck_assert_uint_eq(a->opts.sack[2].left, h.piss + 1 + 5000);
	done(&h);
}
END_TEST

/* 9. PAWS (RFC 7323 5.3 R1): a segment with a TSval older than TS.Recent
 * is dropped and ACKed; an old RST is still taken. */
START_TEST(test_paws)
{
	struct harness h;
	struct lp_tcpopts o = sack_ts;
	struct lp_engine_stats st;

	h_start(&h, simple_flow(100, 3000), LP_ROLE_CLIENT);
	h_new(&h);
	o.tsval = 1000;
	h_connect(&h, &o, 65535);
	o.tsval = 2000;
	push_o(&h, LP_TH_ACK, 0, 100, 65535, &o, 500);
	o.tsval = 1500;
	h.nout = 0;
	push_o(&h, LP_TH_ACK, 500, 100, 65535, &o, 500);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[0].ack, h.piss + 1 + 500);
	ck_assert_uint_eq(h.out[0].opts.tsecr, 2000);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.received_bytes, 500);
	o.tsval = 2001;
	push_o(&h, LP_TH_ACK, 500, 100, 65535, &o, 500);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.received_bytes, 1000);
	o.tsval = 5;
	push_o(&h, LP_TH_RST, 1000, 0, 0, &o, 0);
	ck_assert_str_eq(lp_engine_reason(h.e), "reset by peer");
	done(&h);
}
END_TEST

/* 10. A peer MSS with no room for data beside the timestamps: a clean
 * failure and a reset; a small one: segments within it; an MSS of 0: the
 * default 536 (RFC 9293 MUST-15), as without the option. */
START_TEST(test_small_peer_mss)
{
	struct lp_tcpopts o = { .has_mss = true, .has_ts = true };
	struct harness h;

	h_start(&h, simple_flow(3000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	o.mss = 10;
	h_connect(&h, &o, 65535);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e), "peer MSS too small");
	ck_assert_uint_eq(h.nout, 2);
	ck_assert_uint_eq(h.out[1].flags, LP_TH_RST | LP_TH_ACK);
	done(&h);

	for (int k = 0; k < 3; k++) {
		uint16_t mss[] = { 50, 0, 0 };
		unsigned room[] = { 50 - 12, 536 - 12, 536 - 12 };

		h_start(&h, simple_flow(3000, 100), LP_ROLE_CLIENT);
		h_new(&h);
		o.mss = mss[k];
		o.has_mss = k < 2;
		h_connect(&h, &o, 65535);
		ck_assert_uint_gt(h.nout, 2);
		for (size_t i = 1; i < h.nout; i++)
			ck_assert_uint_le(h.out[i].len, room[k]);
		ck_assert_uint_eq(h.out[1].len, room[k]);
		done(&h);
	}
}
END_TEST

/* A replay that ends early resets the connection (RFC 9293 3.10.5 ABORT,
 * SHLD-3): <SEQ=SND.NXT><ACK><CTL=RST>, then nothing more. */
START_TEST(test_abort_resets)
{
	struct harness h;

	h_start(&h, simple_flow(1000, 5000), LP_ROLE_CLIENT);
	h_new(&h);
	lp_engine_abort(h.e, h.now);
	ck_assert_uint_eq(h_pull(&h), 0); /* not synchronized: nothing at all */
	ck_assert_uint_eq(lp_engine_next_timer(h.e), UINT64_MAX);
	done(&h);

	h_start(&h, simple_flow(1000, 5000), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 65535);
	h_push(&h, LP_TH_ACK, 0, 1000, 65535, pdata(&h, 0), 2000);
	h_pull(&h);
	h.nout = 0;
	lp_engine_abort(h.e, h.now);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[0].flags, LP_TH_RST | LP_TH_ACK);
	ck_assert_uint_eq(h.out[0].seq, h.eiss + 1 + 1000);
	ck_assert_uint_eq(h.out[0].ack, h.piss + 1 + 2000);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	ck_assert_uint_eq(lp_engine_next_timer(h.e), UINT64_MAX);
	h_push(&h, LP_TH_ACK, 2000, 1000, 65535, pdata(&h, 2000), 1000);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_uint_eq(h.events[LP_EV_RST_SENT], 1);
	done(&h);
}
END_TEST

/* Give-up after the retries: the reset goes too. */
START_TEST(test_giveup_resets)
{
	struct harness h;

	h_start(&h, simple_flow(1000, 100), LP_ROLE_CLIENT);
	h.cfg.retries = 2;
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 65535);
	while (lp_engine_state(h.e) == LP_ENGINE_RUNNING) {
		h_fire(&h);
		h_pull(&h);
	}
	ck_assert_str_eq(lp_engine_reason(h.e), "peer unresponsive");
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_RST | LP_TH_ACK);
	ck_assert_uint_eq(h_last(&h)->seq, h.eiss + 1 + 1000);
	done(&h);
}
END_TEST

/* A same-seed rerun meets its old connection: its ACK acknowledges our
 * SYN's number, with no SYN, or echoing a timestamp our SYN never carried.
 * A reset <SEQ=SEG.ACK> each time, and the SYN again at once (Linux). */
START_TEST(test_synsent_old_connection)
{
	struct harness h;
	struct lp_tcpopts o = { .has_ts = true };
	uint32_t tsval;

	h_start(&h, simple_flow(100, 100), LP_ROLE_CLIENT);
	h_new(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	h.eiss = h.out[0].seq;
	tsval = h.out[0].opts.tsval;
	h.now += MS;
	o.tsval = 77;
	o.tsecr = tsval;
	h_push_opts(&h, LP_TH_ACK, 0x12345678u, h.eiss + 1, 500, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_RST);
	ck_assert_uint_eq(h_last(&h)->seq, h.eiss + 1);
	ck_assert_uint_le(lp_engine_next_timer(h.e) - h.now, 10 * MS);
	/* A SYN-ACK echoing a timestamp from the future: a reset too. */
	o.has_mss = true;
	o.mss = 1460;
	o.tsecr = tsval + 5000;
	h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 1, 65535, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_RST);
	h_fire(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_SYN);
	o.tsecr = tsval;
	h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 1, 65535, &o, NULL, 0);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 1);
	ck_assert_uint_eq(h.events[LP_EV_RST_SENT], 2);
	done(&h);
}
END_TEST

/* RFC 6675 4 IsLost(): a hole counts as lost with three segments (or more
 * than two segments' bytes) SACKed above it, not merely below the highest
 * SACKed byte; while new data may go, the other holes wait (NextSeg). */
START_TEST(test_sack_loss_marking)
{
	static const uint64_t b1[][2] = { { 1460, 11680 } };
	static const uint64_t b2[][2] = { { 1460, 11680 }, { 13140, 14600 } };
	static const uint64_t b3[][2] = { { 1460, 11680 }, { 13140, 17520 } };
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(100000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460, .sack_ok = true }, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 14600);
	/* Segments 0 and 8 lost. */
	mark = h.nout;
	push_sack(&h, 0, 65535, b1, 1);
	h_pull(&h);
	ck_assert(sent_at(&h, mark, 0));
	ck_assert(!sent_at(&h, mark, 11680));
	for (int i = 0; i < 3; i++)
		push_sack(&h, 0, 65535, b2, 2);
	h_pull(&h);
	ck_assert(!sent_at(&h, mark, 11680));
	/* Three segments above it: now it is lost. */
	push_sack(&h, 0, 65535, b3, 2);
	h_pull(&h);
	ck_assert(sent_at(&h, mark, 11680));
	done(&h);
}
END_TEST

/* RFC 6675 5 (C): recovery sends while cwnd - pipe >= 1 SMSS, not as much
 * as the peer's window holds. */
START_TEST(test_recovery_cwnd_bound)
{
	static const uint64_t b[][2] = { { 14480 + 16 * 1448, 14480 + 20 * 1448 } };
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(200000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &sack_ts, 65535);
	/* Each segment of the first flight acknowledged: 20 in flight. */
	mark = h.nout;
	for (int i = 1; i <= 10; i++)
		h_push(&h, LP_TH_ACK, 0, (uint64_t)i * 1448, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(h.nout - mark, 20);
	/* 16 of those 20 lost, 4 SACKed: cwnd = ssthresh = 10 segments. */
	mark = h.nout;
	push_sack(&h, 14480, 65535, b, 1);
	h_pull(&h);
	ck_assert_uint_eq(h.nout - mark, 10);
	for (size_t i = mark; i < h.nout; i++)
		ck_assert_uint_lt(h_off(&h, i), 14480 + 16 * 1448);
	done(&h);
}
END_TEST

/* The peer acknowledges up to ack (a window of 65535): what the engine
 * sends then, in bytes. */
static uint64_t ack_sends(struct harness *h, uint64_t ack)
{
	size_t mark = h->nout;

	h_push(h, LP_TH_ACK, 0, ack, 65535, NULL, 0);
	h_pull(h);
	return out_bytes(h, mark);
}

/* Slow start after an RTO (RFC 3465's limit L): one cumulative ACK for
 * all that the receiver had queued grows cwnd by 2 SMSS, not from 1 SMSS
 * to ssthresh at once (a burst at line rate); once what was in flight at
 * the RTO is acknowledged, slow start counts every byte an ACK covers
 * again. */
START_TEST(test_rto_slow_start_limit)
{
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(200000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &sack_ts, 65535);
	for (int i = 1; i <= 10; i++)
		h_push(&h, LP_TH_ACK, 0, (uint64_t)i * 1448, 65535, NULL, 0);
	mark = h.nout;
	h_pull(&h);
	ck_assert_uint_eq(h.nout - mark, 20);
	/* No answer: the RTO sends the first segment again, cwnd 1 SMSS,
	 * ssthresh 10 SMSS. */
	h_fire(&h);
	mark = h.nout;
	h_pull(&h);
	ck_assert_uint_eq(h.nout - mark, 1);
	ck_assert_uint_eq(h_off(&h, mark), 14480);
	/* The peer had all the rest: one ACK for the 20 segments. */
	h.now += MS;
	ck_assert_uint_eq(ack_sends(&h, 30 * 1448), 3 * 1448);
	/* One ACK for those 3: cwnd 6 SMSS. */
	h.now += MS;
	ck_assert_uint_eq(ack_sends(&h, 33 * 1448), 6 * 1448);
	done(&h);
}
END_TEST

/* Slow start counts the bytes an ACK newly delivers: those the peer
 * SACKed before count no more when the cumulative ACK covers them (as
 * Linux counts delivered segments). */
START_TEST(test_slow_start_sacked_once)
{
	static const uint64_t b[][2] = { { 1448, 3 * 1448 } };
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(200000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &sack_ts, 65535);
	ck_assert_uint_eq(out_bytes(&h, 0), 10 * 1448);
	/* Segments 1 and 2 SACKed (not lost yet): limited transmit sends one. */
	mark = h.nout;
	push_sack(&h, 0, 65535, b, 1);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 1448);
	/* Segment 0 arrives: the ACK covers 3 segments, 1 newly delivered,
	 * cwnd 11 SMSS; 8 in flight, 3 more go (5 if the SACKed two counted
	 * again). */
	ck_assert_uint_eq(ack_sends(&h, 3 * 1448), 3 * 1448);
	done(&h);
}
END_TEST

/* RFC 6298 5.7 (a MUST): after a SYN timeout, with no RTT sample, the RTO
 * is 3 s; with timestamps the SYN-ACK gives a sample (as in Linux). And
 * RFC 5681 3.1: the first flight is one segment. */
START_TEST(test_syn_timeout_rto)
{
	for (int ts = 0; ts < 2; ts++) {
		struct lp_tcpopts o = { .has_mss = true, .mss = 1460, .has_ts = ts };
		struct harness h;
		uint64_t rto;

		h_start(&h, simple_flow(3000, 100), LP_ROLE_CLIENT);
		h_new(&h);
		ck_assert_uint_eq(h_pull(&h), 1);
		h.eiss = h.out[0].seq;
		h_fire(&h);
		ck_assert_uint_eq(h_pull(&h), 1);
		h.now += 20 * MS;
		o.tsecr = h.out[1].opts.tsval;
		h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 1, 65535, &o, NULL, 0);
		ck_assert_uint_eq(h_pull(&h), 1);
		ck_assert_uint_eq(out_bytes(&h, 2), 1460 - (ts ? 12 : 0));
		rto = lp_engine_next_timer(h.e) - h.now;
		if (ts)
			ck_assert_uint_eq(rto, 200 * MS);
		else
			ck_assert_uint_eq(rto, 3 * SEC);
		done(&h);
	}
}
END_TEST

/* SYN-RECEIVED (RFC 9293 3.10.7.4): an ACK of anything but our SYN gets
 * <SEQ=SEG.ACK><CTL=RST> and does not connect. */
START_TEST(test_synrcvd_bad_ack)
{
	struct harness h;

	h_start(&h, simple_flow(10, 100), LP_ROLE_SERVER);
	h_new(&h);
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 },
		    NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	h.eiss = h.out[0].seq;
	h_push_opts(&h, LP_TH_ACK, h.piss + 1, h.eiss + 6, 65535, NULL, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[1].flags, LP_TH_RST);
	ck_assert_uint_eq(h.out[1].seq, h.eiss + 6);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 0);
	h_push_opts(&h, LP_TH_ACK, h.piss + 1, h.eiss + 1, 65535, NULL, NULL, 0);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 1);
	done(&h);
}
END_TEST

/* Simultaneous open (RFC 9293 3.10.7.3, MUST-10). */
START_TEST(test_simultaneous_open)
{
	struct harness h;
	struct lp_tcpopts o = { .has_mss = true, .mss = 1460 };

	h_start(&h, simple_flow(100, 100), LP_ROLE_CLIENT);
	h_new(&h);
	ck_assert_uint_eq(h_pull(&h), 1);
	h.eiss = h.out[0].seq;
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &o, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[1].flags, LP_TH_SYN | LP_TH_ACK);
	ck_assert_uint_eq(h.out[1].seq, h.eiss);
	ck_assert_uint_eq(h.out[1].ack, h.piss + 1);
	h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 1, 65535, &o, NULL, 0);
	h_push(&h, LP_TH_ACK, 0, 0, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(h.events[LP_EV_CONNECTED], 1);
	ck_assert_uint_eq(out_bytes(&h, 0), 100);
	done(&h);
}
END_TEST

/* RFC 5961: a SYN in ESTABLISHED gets a challenge ACK (4); an ACK of data
 * never sent is dropped with its data, an ACK (RFC 9293 3.10.7.4); one
 * older than SND.UNA - MAX.SND.WND gets a challenge ACK and is dropped
 * (5.2). */
START_TEST(test_challenge_acks)
{
	struct harness h;
	struct lp_engine_stats st;

	h_start(&h, simple_flow(100, 3000), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 1000);
	h.nout = 0;
	h_push_opts(&h, LP_TH_SYN, h.piss + 77, 0, 65535, NULL, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[0].flags, LP_TH_ACK);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	h.now += SEC;
	h_push(&h, LP_TH_ACK, 0, 5000, 65535, pdata(&h, 0), 1000);
	ck_assert_uint_eq(h_pull(&h), 1);
	ck_assert_uint_eq(h.out[1].ack, h.piss + 1);
	h.now += SEC;
	h_push(&h, LP_TH_ACK, 0, (uint64_t)-5000, 65535, pdata(&h, 0), 1000);
	ck_assert_uint_eq(h_pull(&h), 1);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.received_bytes, 0);
	h_push(&h, LP_TH_ACK, 0, 100, 65535, pdata(&h, 0), 1000);
	lp_engine_stats(h.e, &st);
	ck_assert_uint_eq(st.received_bytes, 1000);
	done(&h);
}
END_TEST

/* SND.WL1/WL2 (RFC 9293 3.10.7.4): an older segment (reordered) does not
 * move the send window back. */
START_TEST(test_window_update_order)
{
	struct harness h;
	size_t mark;

	h_start(&h, simple_flow(20000, 5000), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 0);
	h_push(&h, LP_TH_ACK, 1000, 0, 0, pdata(&h, 1000), 1000); /* newer, window 0 */
	h_push(&h, LP_TH_ACK, 0, 0, 65535, pdata(&h, 0), 1000);   /* older, window open */
	mark = h.nout;
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 0);
	h_push(&h, LP_TH_ACK, 2000, 0, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_gt(out_bytes(&h, mark), 0);
	done(&h);
}
END_TEST

/* No segment above half the largest window the peer offered (Linux's
 * tcp_bound_to_half_wnd): a one-segment window takes two halves, not one
 * segment and a wait. */
START_TEST(test_half_window_segments)
{
	struct harness h;

	h_start(&h, simple_flow(10000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 1460);
	ck_assert_uint_eq(h.nout, 3);
	ck_assert_uint_eq(h.out[1].len, 730);
	ck_assert_uint_eq(h.out[2].len, 730);
	done(&h);
}
END_TEST

/* RFC 7323 2.3: a shift above 14 counts as 14; the SYN's window is never
 * scaled. RFC 9293 MUST-61: the last segment of the data carries PSH. */
START_TEST(test_wscale_clamp_and_push)
{
	struct harness h;
	uint64_t acked = 0;

	h_start(&h, simple_flow(200000, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 15 },
		  100);
	ck_assert_uint_eq(out_bytes(&h, 0), 100);
	/* A window field of 1: 16384 bytes, not 32768; cwnd grows past it. */
	for (int i = 0; i < 4; i++) {
		acked = out_bytes(&h, 0);
		h_push(&h, LP_TH_ACK, 0, acked, 1, NULL, 0);
		h_pull(&h);
	}
	ck_assert_uint_le(out_bytes(&h, 0) - acked, 16384);
	ck_assert_uint_gt(out_bytes(&h, 0) - acked, 14600);
	for (int i = 0; i < 40 && out_bytes(&h, 0) < 200000; i++) {
		h_push(&h, LP_TH_ACK, 0, out_bytes(&h, 0), 4, NULL, 0);
		h_pull(&h);
	}
	ck_assert_uint_eq(out_bytes(&h, 0), 200000);
	ck_assert(h_last(&h)->flags & LP_TH_PSH);
	done(&h);
}
END_TEST

/* RFC 5681 4.1: after an idle spell longer than the RTO, the first flight
 * is the initial window again. */
START_TEST(test_restart_after_idle)
{
	struct tflow *t = tf_new(AF_INET, 60000, 100);
	struct harness h;
	size_t mark;

	tf_data(t, 0, 30000, 1448);
	tf_seg(t, 1, 100, LP_TH_PSH, -1);
	tf_data(t, 0, 30000, 1448);
	h_start(&h, t, LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &(struct lp_tcpopts){ .has_mss = true, .mss = 1460 }, 65535);
	for (int i = 0; i < 4; i++) {
		h.now += 10 * MS;
		h_push(&h, LP_TH_ACK, 0, out_bytes(&h, 0), 65535, NULL, 0);
		h_pull(&h);
	}
	ck_assert_uint_eq(out_bytes(&h, 0), 30000);
	h.now += 5 * SEC;
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 30000, 65535, pdata(&h, 0), 100);
	h_pull(&h);
	ck_assert_uint_eq(out_bytes(&h, mark), 14600);
	done(&h);
}
END_TEST

Suite *conform_suite(void)
{
	Suite *s = suite_create("conform");
	TCase *tc = tcase_create("conform");

	tcase_add_test(tc, test_mss_counts_options);
	tcase_add_test(tc, test_keepalive_answered);
	tcase_add_test(tc, test_persist_rearmed);
	tcase_add_test(tc, test_probe_karn);
	tcase_add_test(tc, test_fin_zero_window);
	tcase_add_test(tc, test_server_syn_ack_batch);
	tcase_add_test(tc, test_newreno_partial_ack);
	tcase_add_test(tc, test_sack_first_block);
	tcase_add_test(tc, test_paws);
	tcase_add_test(tc, test_small_peer_mss);
	tcase_add_test(tc, test_abort_resets);
	tcase_add_test(tc, test_giveup_resets);
	tcase_add_test(tc, test_synsent_old_connection);
	tcase_add_test(tc, test_sack_loss_marking);
	tcase_add_test(tc, test_recovery_cwnd_bound);
	tcase_add_test(tc, test_rto_slow_start_limit);
	tcase_add_test(tc, test_slow_start_sacked_once);
	tcase_add_test(tc, test_syn_timeout_rto);
	tcase_add_test(tc, test_synrcvd_bad_ack);
	tcase_add_test(tc, test_simultaneous_open);
	tcase_add_test(tc, test_challenge_acks);
	tcase_add_test(tc, test_window_update_order);
	tcase_add_test(tc, test_half_window_segments);
	tcase_add_test(tc, test_wscale_clamp_and_push);
	tcase_add_test(tc, test_restart_after_idle);
	suite_add_tcase(s, tc);
	return s;
}

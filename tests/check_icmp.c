/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ICMP errors and the path MTU: the parser and builder (src/icmp.c) on
 * hostile input, and the engine against a scripted peer and a scripted path
 * (engine_icmp.c): RFC 5927 checks, RFC 1191 / 8201 path MTU discovery,
 * hard and soft errors (RFC 1122 4.2.3.9, RFC 5461), black holes (RFC 4821,
 * as Linux's tcp_mtu_probing=1). doc/conformance.md names these tests.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_harness.h"
#include "tcpliveplay/icmp.h"

static const struct lp_tcpopts sack_ts = { .has_mss = true, .mss = 1460, .sack_ok = true,
					   .has_ts = true, .has_wscale = true, .wscale = 7 };

static void done(struct harness *h)
{
	lp_engine_free(h->e);
	tf_free(h->t);
}

static struct lp_engine_stats stats(const struct harness *h)
{
	struct lp_engine_stats st;

	lp_engine_stats(h->e, &st);
	return st;
}

/* A client of 200 KB that has sent its initial window (10 segments). */
static void bulk_client(struct harness *h, int family, unsigned pmtu)
{
	struct tflow *t = tf_new(family, 200000, 100);

	tf_data(t, 0, 200000, 1448);
	tf_data(t, 1, 100, 1448);
	tf_seg(t, 0, 0, LP_TH_FIN, -1);
	tf_seg(t, 1, 0, LP_TH_FIN, -1);
	h_start(h, t, LP_ROLE_CLIENT);
	h->cfg.pmtu = pmtu;
	h_new(h);
	h_connect(h, &sack_ts, 65535);
	ck_assert_uint_eq(h->nout, 11);
}

/* The engine's packet out[i] with another sequence number or ports, and an
 * ICMP error about it. */
static void icmp_forged(struct harness *h, size_t i, uint32_t seq, uint16_t sport, uint16_t dport,
			uint8_t type, uint8_t code, uint32_t mtu)
{
	struct lp_seg s = h->out[i];
	uint8_t buf[2048];
	int n;

	s.seq = seq;
	s.sport = sport;
	s.dport = dport;
	n = lp_pkt_build(buf, sizeof(buf), &s);
	ck_assert_int_gt(n, 0);
	h_icmp_about(h, buf, (size_t)n, type, code, mtu);
}

/* ---- the parser and the builder ---- */

START_TEST(test_parse_roundtrip)
{
	struct harness h;
	struct lp_icmp ic;
	uint8_t buf[2048];
	char s[160];
	int n;

	for (int v6 = 0; v6 < 2; v6++) {
		bulk_client(&h, v6 ? AF_INET6 : AF_INET, 0);
		n = lp_icmp_build_error(buf, sizeof(buf), h.raw[1], (size_t)h.rawlen[1],
					v6 ? LP_ICMP6_TOO_BIG : LP_ICMP4_UNREACH,
					v6 ? 0 : LP_ICMP4_FRAG_NEEDED, 1280, h.cfg.remote.addr);
		/* Quoted as an error may: 576 bytes in all, or 1280. */
		ck_assert_int_eq(n, v6 ? 1280 : 576);
		ck_assert_int_eq(lp_icmp_parse(buf, (size_t)n, &ic), 0);
		ck_assert_int_eq(ic.family, v6 ? AF_INET6 : AF_INET);
		ck_assert_int_eq(ic.cls, LP_ICMP_TOO_BIG);
		ck_assert_uint_eq(ic.mtu, 1280);
		ck_assert_uint_eq(ic.quoted_len, (uint32_t)h.rawlen[1]);
		ck_assert_uint_eq(ic.qseq, h.out[1].seq);
		ck_assert_uint_eq(ic.qsport, h.out[1].sport);
		ck_assert_uint_eq(ic.qdport, h.out[1].dport);
		ck_assert_mem_eq(ic.qsrc, h.cfg.local.addr, v6 ? 16 : 4);
		ck_assert_mem_eq(ic.from, h.cfg.remote.addr, v6 ? 16 : 4);
		ck_assert_mem_eq(ic.to, h.cfg.local.addr, v6 ? 16 : 4);
		ck_assert_str_eq(lp_icmp_str(&ic, s, sizeof(s)),
				 v6 ? "ICMPv6 packet too big from 2001:db8::2"
				    : "ICMP destination unreachable (fragmentation needed) from "
				      "198.18.0.2");
		/* A wrong checksum; every truncation. */
		buf[n - 1] ^= 1;
		ck_assert_int_eq(lp_icmp_parse(buf, (size_t)n, &ic), -EBADMSG);
		buf[n - 1] ^= 1;
		for (int k = 0; k < n; k++) {
			int rc = lp_icmp_parse(buf, (size_t)k, &ic);

			ck_assert(rc == -EINVAL || rc == -ENOMSG || rc == -EBADMSG);
		}
		/* A TCP segment is no ICMP message. */
		ck_assert_int_eq(lp_icmp_parse(h.raw[1], (size_t)h.rawlen[1], &ic), -ENOMSG);
		done(&h);
	}
}
END_TEST

START_TEST(test_parse_hostile)
{
	uint8_t buf[2048], pkt[128];
	struct lp_icmp ic;
	char s[160];
	int n;

	/* Echo requests, redirects and neighbour solicitations are no errors. */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[2] = 0;
	pkt[3] = 48;
	pkt[9] = 6;
	memcpy(pkt + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	pkt[33] = 0x10;
	for (unsigned t = 0; t < 256; t++) {
		int rc;

		n = lp_icmp_build_error(buf, sizeof(buf), pkt, 48, (uint8_t)t, 0, 0, pkt + 16);
		ck_assert_int_gt(n, 0);
		rc = lp_icmp_parse(buf, (size_t)n, &ic);
		if (t == 3 || t == 11 || t == 12)
			ck_assert_int_eq(rc, 0);
		else
			ck_assert_int_eq(rc, -ENOMSG);
	}
	/* Quoting UDP, or a later fragment: not about a TCP segment. */
	pkt[9] = 17;
	n = lp_icmp_build_error(buf, sizeof(buf), pkt, 48, 3, 3, 0, pkt + 16);
	ck_assert_int_eq(lp_icmp_parse(buf, (size_t)n, &ic), -EINVAL);
	pkt[9] = 6;
	pkt[7] = 1;
	n = lp_icmp_build_error(buf, sizeof(buf), pkt, 48, 3, 3, 0, pkt + 16);
	ck_assert_int_eq(lp_icmp_parse(buf, (size_t)n, &ic), -EINVAL);
	pkt[7] = 0;
	/* Fewer than 8 bytes of the TCP header quoted. */
	n = lp_icmp_build_error(buf, sizeof(buf), pkt, 27, 3, 3, 0, pkt + 16);
	ck_assert_int_eq(lp_icmp_parse(buf, (size_t)n, &ic), -EINVAL);
	n = lp_icmp_build_error(buf, sizeof(buf), pkt, 28, 3, 13, 0, pkt + 16);
	ck_assert_int_eq(lp_icmp_parse(buf, (size_t)n, &ic), 0);
	ck_assert_str_eq(lp_icmp_str(&ic, s, sizeof(s)),
			 "ICMP destination unreachable (administratively prohibited) from "
			 "198.18.0.2");
	ic.code = 200;
	ck_assert_str_eq(lp_icmp_str(&ic, s, sizeof(s)),
			 "ICMP destination unreachable (code 200) from 198.18.0.2");
	/* Random bytes never crash it. */
	srand(14);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand() % 120);

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rand();
		if (len)
			buf[0] = (uint8_t)((rand() & 1 ? 0x45 : 0x60) | (buf[0] & 1));
		lp_icmp_parse(buf, len, &ic);
	}
	ck_assert_int_eq(lp_icmp_build_error(buf, 10, pkt, 48, 3, 3, 0, pkt + 16), -ENOBUFS);
	ck_assert_int_eq(lp_icmp_build_error(buf, sizeof(buf), pkt, 10, 3, 3, 0, pkt + 16),
			 -EINVAL);
}
END_TEST

/* ---- path MTU discovery ---- */

/* RFC 1191: frag-needed with the next hop's MTU. The effective MSS goes
 * down to fit it, everything unacknowledged goes again at once in the new
 * size (Linux's tcp_simple_retransmit: no loss, cwnd keeps its segments),
 * later PTBs about the old segments change nothing, new data fits too. */
START_TEST(test_frag_needed)
{
	struct harness h;
	struct lp_engine_stats st;
	size_t mark;

	bulk_client(&h, AF_INET, 1500);
	ck_assert_int_eq(h.rawlen[1], 1500);
	mark = h.nout;
	h_icmp(&h, 1, LP_ICMP4_UNREACH, LP_ICMP4_FRAG_NEEDED, 1280);
	h_pull(&h);
	ck_assert_uint_eq(h.nout - mark, 10);
	for (size_t i = mark; i < h.nout; i++) {
		ck_assert_uint_eq(h_off(&h, i), (i - mark) * 1228);
		ck_assert_uint_eq(h.out[i].len, 1280 - 40 - 12);
		ck_assert_int_le(h.rawlen[i], 1280);
	}
	st = stats(&h);
	ck_assert_uint_eq(st.path_mtu, 1280);
	ck_assert_uint_eq(st.path_mtu_start, 1500);
	ck_assert_uint_eq(st.retransmissions, 10);
	ck_assert_uint_eq(h.events[LP_EV_PMTU], 1);
	/* The other nine old segments' errors arrive: nothing more. */
	for (size_t i = 2; i <= 10; i++)
		h_icmp(&h, i, LP_ICMP4_UNREACH, LP_ICMP4_FRAG_NEEDED, 1280);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_uint_eq(h.events[LP_EV_PMTU], 1);
	ck_assert_uint_eq(stats(&h).icmp_accepted, 10);
	/* A packet too big is an ICMP error taken: the report's last one. */
	ck_assert_ptr_nonnull(lp_engine_icmp_error(h.e));
	ck_assert_ptr_nonnull(strstr(lp_engine_icmp_error(h.e), "MTU 1280"));
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	/* The peer acknowledges: the rest in the new size. */
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 12280, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_gt(h.nout - mark, 10);
	ck_assert_uint_eq(h_off(&h, mark), 12280);
	for (size_t i = mark; i < h.nout; i++)
		ck_assert_int_le(h.rawlen[i], 1280);
	done(&h);
}
END_TEST

/* RFC 8201: packet too big; never below 1280 (an MTU under it is not
 * taken, as Linux drops it); never up. */
START_TEST(test_packet_too_big_v6)
{
	struct harness h;
	size_t mark;

	bulk_client(&h, AF_INET6, 1500);
	h_icmp(&h, 1, LP_ICMP6_TOO_BIG, 0, 1000);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_uint_eq(stats(&h).icmp_ignored, 1);
	ck_assert_uint_eq(stats(&h).path_mtu, 1500);
	mark = h.nout;
	h_icmp(&h, 1, LP_ICMP6_TOO_BIG, 0, 1280);
	h_pull(&h);
	ck_assert_uint_gt(h.nout - mark, 0);
	for (size_t i = mark; i < h.nout; i++) {
		ck_assert_uint_eq(h.out[i].len, 1280 - 60 - 12);
		ck_assert_int_le(h.rawlen[i], 1280);
	}
	mark = h.nout;
	h_icmp(&h, mark - 1, LP_ICMP6_TOO_BIG, 0, 1400);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_uint_eq(stats(&h).path_mtu, 1280);
	ck_assert_uint_eq(stats(&h).icmp_accepted, 2);
	done(&h);
}
END_TEST

/* IPv4 edge cases: no MTU given (a router before RFC 1191): the plateau
 * below the quoted length (RFC 1191 5, 7); an MTU under 68: 68, and the
 * segments no smaller than Linux's tcp_min_snd_mss (48 with options). An
 * error before the handshake ends sizes the first segments; a path MTU the
 * kernel knew at the start too. */
START_TEST(test_frag_needed_edges)
{
	struct harness h;
	struct lp_tcpopts o = sack_ts;
	size_t mark;

	bulk_client(&h, AF_INET, 0);
	mark = h.nout;
	h_icmp(&h, 1, LP_ICMP4_UNREACH, LP_ICMP4_FRAG_NEEDED, 0);
	h_pull(&h);
	ck_assert_uint_eq(stats(&h).path_mtu, 1492);
	ck_assert_uint_eq(h.out[mark].len, 1492 - 52);
	mark = h.nout;
	h_icmp(&h, mark - 1, LP_ICMP4_UNREACH, LP_ICMP4_FRAG_NEEDED, 40);
	h_pull(&h);
	ck_assert_uint_eq(stats(&h).path_mtu, 68);
	ck_assert_uint_eq(h.out[mark].len, 48 - 12);
	ck_assert_int_eq(h.rawlen[mark], 20 + 20 + 48);
	done(&h);

	bulk_client(&h, AF_INET, 1280);
	ck_assert_uint_eq(h.out[1].len, 1280 - 52);
	done(&h);

	bulk_client(&h, AF_INET, 0);
	lp_engine_free(h.e);
	h.nout = 0;
	h_new(&h);
	h_pull(&h);
	h.eiss = h.out[0].seq;
	h_icmp(&h, 0, LP_ICMP4_UNREACH, LP_ICMP4_FRAG_NEEDED, 1000);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	h_push_opts(&h, LP_TH_SYN | LP_TH_ACK, h.piss, h.eiss + 1, 65535, &o, NULL, 0);
	h_pull(&h);
	ck_assert_uint_eq(h.out[1].len, 1000 - 52);
	ck_assert_int_eq(h.rawlen[1], 1000);
	done(&h);
}
END_TEST

/* ---- RFC 5927 checks ---- */

/* Errors quoting another connection, or a sequence number outside
 * SND.UNA..SND.NXT, or damaged, are counted and change nothing: a blind
 * attacker can neither shrink the segments nor end the replay. */
START_TEST(test_forged_ignored)
{
	struct harness h;
	uint32_t una = 0;
	uint8_t buf[2048];
	int n;

	bulk_client(&h, AF_INET, 1500);
	h_push(&h, LP_TH_ACK, 0, 1448, 65535, NULL, 0);
	h_pull(&h);
	una = h.eiss + 1 + 1448;
	for (int code = 0; code < 2; code++) {
		uint8_t c = code ? 13 : LP_ICMP4_FRAG_NEEDED;

		icmp_forged(&h, 2, una - 1, h.out[2].sport, h.out[2].dport, 3, c, 600);
		icmp_forged(&h, 2, una - 70000, h.out[2].sport, h.out[2].dport, 3, c, 600);
		icmp_forged(&h, 2, h.eiss + 1 + 200000, h.out[2].sport, h.out[2].dport, 3, c, 600);
		icmp_forged(&h, 2, una, h.out[2].sport + 1, h.out[2].dport, 3, c, 600);
		icmp_forged(&h, 2, una, h.out[2].sport, h.out[2].dport + 1, 3, c, 600);
	}
	/* Acknowledged data: out[1] is below SND.UNA now. */
	h_icmp(&h, 1, 3, LP_ICMP4_FRAG_NEEDED, 600);
	/* A damaged one. */
	n = lp_icmp_build_error(buf, sizeof(buf), h.raw[2], (size_t)h.rawlen[2], 3, 13, 0,
				h.cfg.remote.addr);
	buf[30] ^= 0x40;
	ck_assert_int_eq(lp_engine_input(h.e, buf, (size_t)n, h.now), 0);
	ck_assert_uint_eq(h_pull(&h), 0);
	ck_assert_uint_eq(stats(&h).icmp_ignored, 12);
	ck_assert_uint_eq(stats(&h).icmp_accepted, 0);
	ck_assert_uint_eq(stats(&h).path_mtu, 1500);
	ck_assert_uint_eq(h.events[LP_EV_ICMP_IGNORED], 12);
	ck_assert_ptr_null(lp_engine_icmp_error(h.e));
	/* The replay goes on as before: full-sized segments. */
	h_push(&h, LP_TH_ACK, 0, 14480, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_int_eq(h.rawlen[h.nout - 1], 1500);
	/* In SYN-SENT the quoted number must be our ISN. */
	done(&h);
	h_start(&h, simple_flow(100, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_pull(&h);
	h.eiss = h.out[0].seq;
	icmp_forged(&h, 0, h.eiss + 2, h.out[0].sport, h.out[0].dport, 3, 13, 0);
	icmp_forged(&h, 0, h.eiss - 1, h.out[0].sport, h.out[0].dport, 3, 13, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	ck_assert_uint_eq(stats(&h).icmp_ignored, 2);
	done(&h);
}
END_TEST

/* ---- errors ---- */

/* Before the connection is synchronized every error ends it at once (RFC
 * 1122 4.2.3.9 for the hard ones, RFC 5461 for the soft, Linux), naming
 * type, code and sender; nothing more goes out. */
START_TEST(test_error_synsent_fails)
{
	static const struct {
		int family;
		uint8_t type, code;
		const char *what;
	} c[] = {
		{ AF_INET, 3, 13, "destination unreachable (administratively prohibited)" },
		{ AF_INET, 3, 0, "destination unreachable (network unreachable)" },
		{ AF_INET, 3, 1, "destination unreachable (host unreachable)" },
		{ AF_INET, 3, 2, "destination unreachable (protocol unreachable)" },
		{ AF_INET, 3, 3, "destination unreachable (port unreachable)" },
		{ AF_INET, 3, 9, "destination unreachable (network administratively prohibited)" },
		{ AF_INET, 3, 10, "destination unreachable (host administratively prohibited)" },
		{ AF_INET, 11, 0, "time exceeded (TTL exceeded in transit)" },
		{ AF_INET, 12, 0, "parameter problem" },
		{ AF_INET6, 1, 0, "destination unreachable (no route to destination)" },
		{ AF_INET6, 1, 1, "destination unreachable (administratively prohibited)" },
		{ AF_INET6, 1, 3, "destination unreachable (address unreachable)" },
		{ AF_INET6, 1, 4, "destination unreachable (port unreachable)" },
		{ AF_INET6, 1, 5, "destination unreachable (source address failed ingress/egress "
				  "policy)" },
		{ AF_INET6, 1, 6, "destination unreachable (reject route to destination)" },
		{ AF_INET6, 3, 0, "time exceeded (hop limit exceeded in transit)" },
	};
	struct harness h;
	char why[160];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		bool v4 = c[i].family == AF_INET;

		h_start(&h, tf_new(c[i].family, 100, 100), LP_ROLE_CLIENT);
		tf_seg(h.t, 0, 100, LP_TH_PSH, -1);
		tf_seg(h.t, 1, 100, LP_TH_PSH, -1);
		h_new(&h);
		h_pull(&h);
		h.eiss = h.out[0].seq;
		h_icmp(&h, 0, c[i].type, c[i].code, 0);
		snprintf(why, sizeof(why), "%s %s from %s", v4 ? "ICMP" : "ICMPv6", c[i].what,
			 v4 ? "198.18.0.2" : "2001:db8::2");
		ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
		ck_assert_str_eq(lp_engine_reason(h.e), why);
		ck_assert_str_eq(lp_engine_icmp_error(h.e), why);
		ck_assert_uint_eq(h_pull(&h), 0);
		ck_assert_uint_eq(lp_engine_next_timer(h.e), UINT64_MAX);
		done(&h);
	}
	/* The responder's side: an error about its SYN-ACK. */
	h_start(&h, simple_flow(100, 1000), LP_ROLE_SERVER);
	h_new(&h);
	h_push_opts(&h, LP_TH_SYN, h.piss, 0, 65535, &sack_ts, NULL, 0);
	ck_assert_uint_eq(h_pull(&h), 1);
	h_icmp(&h, 0, 3, 3, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_FAILED);
	ck_assert_str_eq(lp_engine_reason(h.e),
			 "ICMP destination unreachable (port unreachable) from 198.18.0.1");
	ck_assert_uint_eq(h_pull(&h), 0);
	done(&h);
}
END_TEST

/* Once synchronized, errors are soft (RFC 5927 5.2, Linux): the replay
 * keeps retransmitting; when it gives up, the reason names the last error. */
START_TEST(test_error_established_soft)
{
	struct harness h;

	bulk_client(&h, AF_INET, 1500);
	lp_engine_free(h.e);
	h.cfg.retries = 2;
	h.nout = 0;
	h_new(&h);
	h_connect(&h, &sack_ts, 65535);
	h_icmp(&h, 1, 3, 13, 0);
	h_icmp(&h, 2, 3, 3, 0);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	ck_assert_uint_eq(stats(&h).icmp_accepted, 2);
	ck_assert_str_eq(lp_engine_icmp_error(h.e),
			 "ICMP destination unreachable (port unreachable) from 198.18.0.2");
	ck_assert_uint_eq(h_pull(&h), 0);
	while (lp_engine_state(h.e) == LP_ENGINE_RUNNING) {
		h_fire(&h);
		h_pull(&h);
	}
	ck_assert_uint_eq(stats(&h).retransmissions, 2);
	ck_assert_str_eq(lp_engine_reason(h.e),
			 "peer unresponsive; last ICMP error: ICMP destination unreachable (port "
			 "unreachable) from 198.18.0.2");
	ck_assert_uint_eq(h_last(&h)->flags, LP_TH_RST | LP_TH_ACK);
	done(&h);
}
END_TEST

/* ---- black holes ---- */

/* RFC 4821 / 8899 as Linux's tcp_mtu_probing=1: after three timeouts of
 * the same full-sized data and no ICMP, 1024-byte segments (tcp_base_mss),
 * then half at each further timeout. A silent peer with small data is no
 * black hole. */
START_TEST(test_black_hole)
{
	struct harness h;
	unsigned want[] = { 1448, 1448, 1448, 1012, 500, 244 };
	size_t mark;

	bulk_client(&h, AF_INET, 1500);
	for (int i = 0; i < 6; i++) {
		mark = h.nout;
		h_fire(&h);
		h_pull(&h);
		ck_assert_uint_eq(h.nout - mark, 1);
		ck_assert_uint_eq(h.out[mark].len, want[i]);
		ck_assert_uint_eq(h_off(&h, mark), 0);
	}
	ck_assert(stats(&h).mtu_blackhole);
	ck_assert_uint_eq(stats(&h).path_mtu, 256 + 40);
	ck_assert_uint_eq(h.events[LP_EV_PMTU], 3);
	/* An answer: the transfer goes on in the small segments. */
	mark = h.nout;
	h_push(&h, LP_TH_ACK, 0, 244, 65535, NULL, 0);
	h_pull(&h);
	ck_assert_uint_gt(h.nout - mark, 1);
	ck_assert_uint_eq(h.out[mark].len, 244);
	ck_assert_int_eq(lp_engine_state(h.e), LP_ENGINE_RUNNING);
	done(&h);

	h_start(&h, simple_flow(600, 100), LP_ROLE_CLIENT);
	h_new(&h);
	h_connect(&h, &sack_ts, 65535);
	while (lp_engine_state(h.e) == LP_ENGINE_RUNNING) {
		h_fire(&h);
		h_pull(&h);
	}
	ck_assert(!stats(&h).mtu_blackhole);
	ck_assert_uint_eq(h.events[LP_EV_PMTU], 0);
	ck_assert_str_eq(lp_engine_reason(h.e), "peer unresponsive");
	done(&h);
}
END_TEST

Suite *icmp_suite(void)
{
	Suite *s = suite_create("icmp");
	TCase *tc = tcase_create("icmp");

	tcase_add_test(tc, test_parse_roundtrip);
	tcase_add_test(tc, test_parse_hostile);
	tcase_add_test(tc, test_frag_needed);
	tcase_add_test(tc, test_packet_too_big_v6);
	tcase_add_test(tc, test_frag_needed_edges);
	tcase_add_test(tc, test_forged_ignored);
	tcase_add_test(tc, test_error_synsent_fails);
	tcase_add_test(tc, test_error_established_soft);
	tcase_add_test(tc, test_black_hole);
	suite_add_tcase(s, tc);
	return s;
}

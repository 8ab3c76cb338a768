/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: a hostile peer against a running engine, in either role.
 * The input is a script of 16-byte steps; each is one of:
 *   a segment from fuzzed fields (flags, numbers near the live ones or
 *   anywhere, window, options, payload); the handshake's own segment; a
 *   keepalive (RCV.NXT - 1, empty or one byte); a window update, often to
 *   zero; an ACK carrying SACK blocks around what is in flight; data with a
 *   timestamp older or newer than the last (PAWS); a raw garbage packet; an
 *   ICMP error about the engine's last packet (any type and code, an MTU,
 *   the quote right or with its sequence number, ports or length changed,
 *   sometimes damaged); a clock jump; or the replay ending early
 *   (lp_engine_abort).
 * The first byte also picks the engine's own faults: a window cap, a zero
 * window once the peer's first or second segment is in, a stall.
 * After every step the engine's output is drained and its due timers run,
 * so every state of the connection can be reached. The packets it sends
 * must parse, stay within the MSS it offered and fit the path MTU it took;
 * an input of odd length lets it send super-segments, whose wire segments
 * (cut by lp_gso_segment()) must do the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../tests/testflow.h"
#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/bytes.h"

#define STEP 16
#define PEER_ISN 1000u
#define OFFER_MSS 1460   /* what tf_new() captured for both sides */

static struct tflow *flow;

/* What the peer knows of the engine from its packets. */
struct peer {
	uint32_t our_nxt;   /* the engine's next sequence number */
	uint32_t peer_nxt;  /* what the engine acknowledges of ours */
	uint32_t tsval;     /* our timestamp clock */
	bool acked;         /* the engine has acknowledged something */
	uint8_t last[2048]; /* the engine's last packet (its first 2048 bytes) */
	size_t lastlen;
};

static void build_flow(void)
{
	flow = tf_new(AF_INET, 300, 4000);
	tf_seg(flow, LP_C2S, 0, LP_TH_SYN, 0);
	tf_seg(flow, LP_S2C, 0, LP_TH_SYN, 0);
	tf_seg(flow, LP_C2S, 200, LP_TH_PSH, -1);
	tf_data(flow, LP_S2C, 3000, 1448);
	tf_seg(flow, LP_C2S, 100, LP_TH_PSH, -1);
	tf_data(flow, LP_S2C, 1000, 1448);
	tf_seg(flow, LP_C2S, 0, LP_TH_FIN, -1);
	tf_seg(flow, LP_S2C, 0, LP_TH_FIN, -1);
}

/* One wire packet the engine sent: checked, and what the peer learns. */
static void sent(struct lp_engine *e, const uint8_t *buf, int n, struct peer *pr)
{
	struct lp_engine_stats st;
	struct lp_seg s;

	if (lp_pkt_parse(buf, (size_t)n, &s) != 0)
		abort();
		/* Options and data within the MSS we offered (RFC 9293 3.7.1). */
		if (!(s.flags & LP_TH_SYN) && s.len && s.len + lp_pkt_opts_len(&s) > OFFER_MSS)
			abort();
		/* Within the path MTU it took (never below 48 bytes of options
		 * and data, Linux's tcp_min_snd_mss). */
		lp_engine_stats(e, &st);
		if (st.path_mtu && s.len && (unsigned)n > (st.path_mtu > 88 ? st.path_mtu : 88))
			abort();
	pr->lastlen = (size_t)n < sizeof(pr->last) ? (size_t)n : sizeof(pr->last);
	memcpy(pr->last, buf, pr->lastlen);
	pr->our_nxt = s.seq + s.len + !!(s.flags & (LP_TH_SYN | LP_TH_FIN));
	if (s.flags & LP_TH_ACK) {
		pr->peer_nxt = s.ack;
		pr->acked = true;
	}
}

/* Everything the engine sends now; with gso_segs > 1 super-segments, each
 * cut into its wire segments as the kernel would (every one checked). */
static void drain(struct lp_engine *e, uint64_t now, struct peer *pr, unsigned gso_segs)
{
	static uint8_t buf[65536 + LP_PKT_MAXHDR], seg[65536 + LP_PKT_MAXHDR];
	struct lp_gso g;
	int n, guard = 0;

	while ((n = lp_engine_output_gso(e, buf, sizeof(buf), now, gso_segs, &g)) > 0 && guard++ < 4096) {
		int m;

		if (!g.seg_len) {
			sent(e, buf, n, pr);
			continue;
		}
		if (lp_gso_count((size_t)n, &g) > gso_segs)
			abort();
		for (unsigned i = 0; (m = lp_gso_segment(buf, (size_t)n, &g, i, seg, sizeof(seg))) != 0; i++) {
			if (m < 0)
				abort();
			sent(e, seg, m, pr);
		}
	}
	if (lp_engine_next_timer(e) <= now)
		lp_engine_timeout(e, now);
}

/* One step: a segment from the fuzzed bytes p, shaped by its kind. */
static void segment(struct lp_engine *e, const struct lp_engine_cfg *cfg, const uint8_t *p,
		    struct peer *pr, bool server, uint64_t now)
{
	static uint8_t pkt[65536 + LP_PKT_MAXHDR], payload[1024];
	uint32_t near = pr->acked ? pr->peer_nxt : PEER_ISN + 1;
	struct lp_seg s;
	int n;

	memset(&s, 0, sizeof(s));
	s.family = AF_INET;
	memcpy(s.src, cfg->remote.addr, 16);
	memcpy(s.dst, cfg->local.addr, 16);
	s.sport = cfg->remote.port;
	s.dport = cfg->local.port;
	s.seq = near + (uint32_t)(int16_t)(p[2] << 8 | p[3]);
	s.ack = pr->our_nxt + (uint32_t)(int8_t)p[6];
	s.flags = LP_TH_ACK;
	s.window = (uint16_t)(p[10] << 8 | p[11]);
	s.opts.has_ts = p[12] & 1;
	pr->tsval += p[13] & 15;
	s.opts.tsval = pr->tsval;
	s.opts.tsecr = 5;
	memset(payload, p[9], sizeof(payload));
	s.payload = payload;
	switch (p[0] & 7) {
	case 0: /* anything */
		if (p[0] & 8)
			s.seq = lp_get32(p + 2);
		if (p[0] & 16)
			s.ack = lp_get32(p + 6);
		s.flags = p[1];
		s.opts.has_mss = p[12] & 2;
		s.opts.mss = (uint16_t)(p[13] << 4);
		s.opts.has_wscale = p[12] & 4;
		s.opts.wscale = p[14] & 31;
		s.opts.sack_ok = p[12] & 8;
		s.len = (p[0] & 0xe0) ? (uint32_t)(p[15] << 2) : 0;
		break;
	case 1: /* the handshake: SYN-ACK to a client, SYN then ACK to a server */
		s.seq = PEER_ISN;
		s.flags = server && !pr->acked ? LP_TH_SYN : LP_TH_SYN | LP_TH_ACK;
		if (server && pr->acked) {
			s.seq = PEER_ISN + 1;
			s.flags = LP_TH_ACK;
		}
		s.ack = pr->our_nxt;
		s.opts.has_mss = true;
		s.opts.mss = (uint16_t)(p[13] << 4 | (p[14] & 15));
		s.opts.has_wscale = p[12] & 4;
		s.opts.wscale = p[14] >> 4;
		s.opts.sack_ok = p[12] & 8;
		s.opts.tsecr = p[12] & 16 ? lp_get32(p + 6) : 0;
		break;
	case 2: /* a keepalive: RCV.NXT - 1, no data or one byte */
		s.seq = near - 1;
		s.len = p[1] & 1;
		break;
	case 3: /* a window update, half of them closing it */
		s.seq = near;
		if (p[1] & 1)
			s.window = 0;
		break;
	case 4: /* SACK blocks around what is in flight */
		s.seq = near;
		s.opts.nsack = 1 + (p[1] & 3);
		for (int k = 0; k < s.opts.nsack; k++) {
			s.opts.sack[k].left = pr->our_nxt - (uint32_t)p[4 + k] * 64;
			s.opts.sack[k].right = s.opts.sack[k].left + (uint32_t)p[8 + k] * 16;
		}
		break;
	case 5: /* data with an older or a newer timestamp (PAWS) */
		s.seq = near + (p[1] & 1 ? (uint32_t)p[4] * 8 : 0);
		s.opts.has_ts = true;
		s.opts.tsval = pr->tsval - (p[1] & 2 ? (uint32_t)p[5] : 0);
		s.len = (uint32_t)p[15] << 2;
		s.flags |= p[1] & 4 ? LP_TH_FIN : 0;
		break;
	default: /* data near the window's edges */
		s.flags |= p[1] & (LP_TH_FIN | LP_TH_PSH | LP_TH_RST);
		s.len = (uint32_t)p[15] << 2;
		break;
	}
	n = lp_pkt_build(pkt, sizeof(pkt), &s);
	/* Cut after its headers, as a link with rx_headers_only hands it on. */
	if (n > 0 && (p[12] & 0x80))
		lp_engine_input_rx(e, pkt, (size_t)n - s.len, LP_RX_HEADERS | LP_RX_CSUM_OK, now);
	else if (n > 0)
		lp_engine_input(e, pkt, (size_t)n, now);
}

/* The engine's own faults from bits 4-7 of b (NULL: none). */
static struct lp_fault_plan *faults(uint8_t b, bool server)
{
	const char *side = server ? "server" : "client";
	char peer = server ? 'C' : 'S', spec[64], err[128];
	struct lp_fault_plan *p;

	if (!(b & 0xf0) || lp_fault_plan_new(&p))
		return NULL;
	if (b & 16) {
		snprintf(spec, sizeof(spec), "%s:window:%u", side, 1u + (unsigned)(b >> 6) * 900u);
		lp_fault_plan_add(p, spec, err, sizeof(err));
	}
	if (b & 32) {
		snprintf(spec, sizeof(spec), "%s:zero-window:%c%u:%u", side, peer, 1u + (b >> 7), 50u);
		lp_fault_plan_add(p, spec, err, sizeof(err));
	}
	if ((b & 0xc0) == 0xc0) {
		snprintf(spec, sizeof(spec), "%s:stall:%c2", side, server ? 'S' : 'C');
		lp_fault_plan_add(p, spec, err, sizeof(err));
	}
	return p;
}

/* One step: an ICMP error about the engine's last packet, shaped by p. */
static void icmp_step(struct lp_engine *e, const uint8_t *p, struct peer *pr, uint64_t now)
{
	static const uint8_t types[] = { 3, 3, 3, 11, 12, 0, 5, 8 };
	static uint8_t q[2048], out[2048];
	uint32_t mtu = p[3] & 1 ? 1280u - (uint32_t)p[4] * 4 : lp_get16(p + 3);
	size_t qlen = pr->lastlen;
	uint8_t code;
	int n;

	if (qlen < LP_IPV4_HDR + 8)
		return;
	memcpy(q, pr->last, qlen);
	/* The quoted sequence number near the real one, or the ports off. */
	if (p[5] & 1)
		lp_put32(q + 24, lp_get32(q + 24) +
				 (uint32_t)(int8_t)p[6] * (p[5] & 2 ? 1u : 4096u));
	if (p[5] & 4)
		q[20 + (p[5] >> 6)] ^= p[7];
	if (p[5] & 8)
		qlen = LP_IPV4_HDR + (p[8] & 15);
	code = p[1] & 8 ? LP_ICMP4_FRAG_NEEDED : (uint8_t)(p[2] & 15);
	n = lp_icmp_build_error(out, sizeof(out), q, qlen, types[p[1] & 7], code, mtu, q + 16);
	if (n <= 0)
		return;
	if (p[9] & 1)
		out[p[10] % n] ^= p[11];
	lp_engine_input(e, out, (size_t)n, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_engine_cfg cfg;
	struct lp_engine *e;
	struct lp_fault_plan *plan;
	struct peer pr = { .tsval = 1 };
	uint64_t now = 1000000;
	unsigned gso_segs;
	bool server;

	if (!flow)
		build_flow();
	if (size < 1)
		return 0;
	server = data[0] & 1;
	/* An input of odd length asks for super-segments (a link with GSO). */
	gso_segs = size & 1 ? 45 : 1;
	lp_engine_cfg_defaults(&cfg);
	cfg.role = server ? LP_ROLE_SERVER : LP_ROLE_CLIENT;
	cfg.local = server ? flow->fl.server : flow->fl.client;
	cfg.remote = server ? flow->fl.client : flow->fl.server;
	cfg.isn = 77777;
	cfg.ts_base = 5;
	cfg.match = (enum lp_match)((data[0] >> 1) % 3);
	cfg.rcv_wnd = data[0] & 8 ? 4096 : 0;
	/* The wait for the peer: keepalives, and a patience or none. */
	cfg.keepalive_ms = data[0] & 4 ? 2000 : 0;
	cfg.expect_timeout_ms = data[0] & 64 ? 0 : 5000;
	plan = faults(data[0], server);
	cfg.faults = plan;
	if (lp_engine_new(&flow->fl, &cfg, &e)) {
		lp_fault_plan_free(plan);
		return 0;
	}
	drain(e, now, &pr, gso_segs);
	for (size_t off = 1; off + STEP <= size && lp_engine_state(e) == LP_ENGINE_RUNNING; off += STEP) {
		const uint8_t *p = data + off;

		switch (p[15] & 3) {
		case 0:
		case 1:
			segment(e, &cfg, p, &pr, server, now);
			break;
		case 2:
			if (p[0] & 8) /* garbage: the rest of the step as a packet, perhaps cut */
				lp_engine_input_rx(e, p + 1, STEP - 2,
						   p[0] & 16 ? LP_RX_HEADERS | LP_RX_CSUM_OK : 0, now);
			else
				segment(e, &cfg, p, &pr, server, now);
			break;
		default:
			if (p[0] == 0xff)
				lp_engine_abort(e, now);
			else if (p[0] & 0x80)
				icmp_step(e, p, &pr, now);
			else
				now += (uint64_t)lp_get32(p + 1) % 10000000000ull;
			break;
		}
		now += 1000;
		drain(e, now, &pr, gso_segs);
	}
	lp_engine_free(e);
	lp_fault_plan_free(plan);
	return 0;
}

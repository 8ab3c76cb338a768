/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: a hostile peer against a running engine, in either role.
 * The input is a script of steps: TCP segments built from fuzzed fields
 * (flags, sequence and acknowledgment numbers near the live ones, window,
 * options, payload) for the engine's own 4-tuple, raw garbage packets, and
 * clock jumps. After every step the engine's output is drained and its due
 * timers run, so every state of the connection can be reached.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../tests/testflow.h"
#include "tcpliveplay/engine.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/bytes.h"

#define STEP 16
#define PEER_ISN 1000u

static struct tflow *flow;

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

static void drain(struct lp_engine *e, uint64_t now, uint32_t *our_nxt)
{
	static uint8_t buf[65536 + LP_PKT_MAXHDR];
	int n, guard = 0;

	while ((n = lp_engine_output(e, buf, sizeof(buf), now)) > 0 && guard++ < 4096) {
		struct lp_seg s;

		if (lp_pkt_parse(buf, (size_t)n, &s) == 0)
			*our_nxt = s.seq + s.len + !!(s.flags & (LP_TH_SYN | LP_TH_FIN));
	}
	if (lp_engine_next_timer(e) <= now)
		lp_engine_timeout(e, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[65536 + LP_PKT_MAXHDR], payload[1024];
	struct lp_engine_cfg cfg;
	struct lp_engine *e;
	uint64_t now = 1000000;
	uint32_t our_nxt = 0;
	bool server;

	if (!flow)
		build_flow();
	if (size < 1)
		return 0;
	server = data[0] & 1;
	lp_engine_cfg_defaults(&cfg);
	cfg.role = server ? LP_ROLE_SERVER : LP_ROLE_CLIENT;
	cfg.local = server ? flow->fl.server : flow->fl.client;
	cfg.remote = server ? flow->fl.client : flow->fl.server;
	cfg.isn = 77777;
	cfg.ts_base = 5;
	cfg.match = (enum lp_match)((data[0] >> 1) % 3);
	if (lp_engine_new(&flow->fl, &cfg, &e))
		return 0;
	drain(e, now, &our_nxt);
	for (size_t off = 1; off + STEP <= size && lp_engine_state(e) == LP_ENGINE_RUNNING; off += STEP) {
		const uint8_t *p = data + off;
		struct lp_seg s;
		int n;

		switch (p[0] & 3) {
		case 0:
		case 1:
			memset(&s, 0, sizeof(s));
			s.family = AF_INET;
			memcpy(s.src, cfg.remote.addr, 16);
			memcpy(s.dst, cfg.local.addr, 16);
			s.sport = cfg.remote.port;
			s.dport = cfg.local.port;
			/* Near the live numbers most of the time, anywhere otherwise. */
			s.seq = (p[0] & 4) ? lp_get32(p + 2) : PEER_ISN + (uint32_t)(int16_t)(p[2] << 8 | p[3]);
			s.ack = (p[0] & 8) ? lp_get32(p + 6) : our_nxt + (uint32_t)(int8_t)p[6];
			s.flags = p[1];
			s.window = (uint16_t)(p[10] << 8 | p[11]);
			s.opts.has_ts = p[12] & 1;
			s.opts.tsval = lp_get32(p + 12);
			s.opts.tsecr = 5;
			s.opts.has_mss = p[12] & 2;
			s.opts.mss = (uint16_t)(p[13] << 4);
			s.opts.has_wscale = p[12] & 4;
			s.opts.wscale = p[14] & 31;
			s.opts.sack_ok = p[12] & 8;
			if (p[12] & 16) {
				s.opts.nsack = 1 + (p[15] & 1);
				for (int k = 0; k < s.opts.nsack; k++) {
					s.opts.sack[k].left = our_nxt - (uint32_t)p[15] * 100;
					s.opts.sack[k].right = s.opts.sack[k].left + (uint32_t)p[14] * 10;
				}
			}
			s.len = (p[0] & 0xf0) ? (uint32_t)(p[15] << 2) : 0;
			memset(payload, p[9], sizeof(payload));
			s.payload = payload;
			n = lp_pkt_build(pkt, sizeof(pkt), &s);
			if (n > 0)
				lp_engine_input(e, pkt, (size_t)n, now);
			break;
		case 2:
			/* Garbage: the rest of the step as a whole packet. */
			lp_engine_input(e, p + 1, STEP - 1, now);
			break;
		default:
			now += (uint64_t)lp_get32(p + 1) % 10000000000ull;
			break;
		}
		now += 1000;
		drain(e, now, &our_nxt);
	}
	lp_engine_free(e);
	return 0;
}

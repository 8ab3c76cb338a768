/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the replay engine: waiting for the peer. While the application
 * waits for the peer's bytes (or its FIN) with nothing of ours in flight,
 * the expectation timer runs: its length is the patience
 * (cfg.expect_timeout_ms), counted from the peer's last data. A slow peer is
 * not a divergent one: when the patience runs out and nothing of the
 * awaited answer came, the replay fails saying so; when part of it came,
 * engine.c reports the shortfall as a divergence.
 *
 * Meanwhile, with cfg.keepalive_ms, the connection is kept checked: after
 * that much silence a keepalive goes (RFC 9293 3.8.4, RFC 1122 4.2.3.6:
 * SEG.SEQ = SND.NXT - 1 and no data, which the peer answers with an ACK),
 * again every keepalive_ms, and cfg.retries of them without any segment
 * from the peer fail the replay: the peer is gone.
 */
#include <inttypes.h>
#include <stdio.h>

#include "engine_int.h"

#define NS_PER_S 1000000000ull

void wait_update(struct lp_engine *e, bool waiting)
{
	if (!waiting) {
		/* Keepalives count for the wait they were sent in. */
		e->expect_at = e->ka_at = 0;
		e->ka_sent = e->ka_unanswered = 0;
		return;
	}
	if (!e->expect_at && e->cfg.expect_timeout_ms)
		e->expect_at = e->now + (uint64_t)e->cfg.expect_timeout_ms * NS_PER_MS;
	if (e->cfg.keepalive_ms && !e->ka_at)
		e->ka_at = e->now + (uint64_t)e->cfg.keepalive_ms * NS_PER_MS;
}

void wait_heard(struct lp_engine *e)
{
	e->ka_unanswered = 0;
	if (e->ka_at)
		e->ka_at = e->now + (uint64_t)e->cfg.keepalive_ms * NS_PER_MS;
}

void wait_timer(struct lp_engine *e)
{
	char lab[16];

	if (!e->ka_at || e->now < e->ka_at)
		return;
	if (e->ka_unanswered >= e->cfg.retries) {
		snprintf(lab, sizeof(lab), "%c%" PRIu32, e->peer == LP_C2S ? 'C' : 'S',
			 eng_peer_label_at(e, eng_have(e)));
		snprintf(e->why, sizeof(e->why), "peer unresponsive: no answer to %u keepalives while waiting "
			 "for %s", e->ka_unanswered, lab);
		eng_fail(e, e->why);
		return;
	}
	e->ka_unanswered++;
	e->ka_sent++;
	e->ka_due = true;
	e->ka_at = e->now + (uint64_t)e->cfg.keepalive_ms * NS_PER_MS;
}

/* "10 s", "2.5 s". */
static void secs_str(unsigned ms, char *buf, size_t len)
{
	if (ms % 1000u)
		snprintf(buf, len, "%u.%03u s", ms / 1000u, ms % 1000u);
	else
		snprintf(buf, len, "%u s", ms / 1000u);
}

bool wait_no_answer(struct lp_engine *e, uint64_t need)
{
	char t[32];

	if (eng_have(e) > e->last_met)
		return false;
	secs_str(e->cfg.expect_timeout_ms, t, sizeof(t));
	snprintf(e->why, sizeof(e->why), "no answer from the peer in %s while waiting for %c%" PRIu32 " (%" PRIu64
		 " bytes)%s", t, e->peer == LP_C2S ? 'C' : 'S', eng_peer_label_at(e, eng_have(e)),
		 need - eng_have(e), e->ka_sent && !e->ka_unanswered ?
		 "; the connection is alive (the peer answers keepalives)" : "");
	eng_fail(e, e->why);
	return true;
}

const char *lp_engine_awaits(const struct lp_engine *e, char *buf, size_t len)
{
	uint64_t need = e->peer_len;

	if (e->state != LP_ENGINE_RUNNING)
		return NULL;
	if (e->tcp == T_SYN_SENT || e->tcp == T_LISTEN || e->tcp == T_SYN_RCVD) {
		snprintf(buf, len, "waiting for the handshake");
		return buf;
	}
	if (e->rel < e->nmine && e->mine[e->rel].s->ack < need)
		need = e->mine[e->rel].s->ack;
	if (eng_have(e) < need) {
		snprintf(buf, len, "waiting for %c%" PRIu32 ": expected %" PRIu64 " bytes, received %" PRIu64,
			 e->peer == LP_C2S ? 'C' : 'S', eng_peer_label_at(e, eng_have(e)), need, e->rcv_nxt);
		return buf;
	}
	if (e->snd_una < e->snd_max) {
		snprintf(buf, len, "waiting for the peer to acknowledge our data");
		return buf;
	}
	if (e->peer_close_expected && !e->peer_fin) {
		snprintf(buf, len, "waiting for the peer to close");
		return buf;
	}
	return NULL;
}

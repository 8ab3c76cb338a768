/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcpliveplay/faultwire.h"
#include "tcpliveplay/live.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/util.h"

#define PKT_BUF (65536 + LP_PKT_MAXHDR)
#define PROGRESS_NS 100000000ull
#define FLUSH_MAX 64                /* packets per clock reading */

struct live {
	struct lp_engine *eng;
	struct lp_fwire *fw;       /* the fault plan between the engine and the link */
	struct lp_link *link;
	struct lp_pcapw *writer;
	int send_rc;       /* the link's first send error (sent()) */
	uint64_t base;     /* the engine's clock counts from here, so logs start at 0 */
	uint8_t buf[PKT_BUF];
};

static uint64_t mono_ns(const struct live *lv)
{
	return lp_clock_ns(CLOCK_MONOTONIC) - lv->base;
}

/* What arrived is recorded as it came, then meets the faults. */
static void on_rx(void *ctx, const uint8_t *ip, size_t len)
{
	struct live *lv = ctx;

	if (lv->writer)
		lp_pcapw_write(lv->writer, ip, len, lp_clock_ns(CLOCK_REALTIME));
	lp_fwire_in(lv->fw, ip, len, lp_link_rx_flags(lv->link), mono_ns(lv));
}

static void deliver(void *ctx, const uint8_t *ip, size_t len, unsigned flags, uint64_t now)
{
	struct live *lv = ctx;

	lp_engine_input_rx(lv->eng, ip, len, flags, now);
}

/* A send's result; the first error is kept: flush_out() then says that
 * the link failed, not the engine. */
static int sent(struct live *lv, int rc)
{
	if (rc && !lv->send_rc)
		lv->send_rc = rc;
	return rc;
}

/* What the faults let go (a super-segment too) is sent and, once sent,
 * recorded (a super-segment as its wire segments). */
static int send_ip(void *ctx, const uint8_t *ip, size_t len, const struct lp_gso *g)
{
	struct live *lv = ctx;

	return sent(lv, lp_link_send_rec(lv->link, NULL, ip, len, g, lv->writer));
}

static int flush_out(struct live *lv, char *err, size_t errlen)
{
	int n;

	do
		n = lp_fwire_flush(lv->fw, lv->eng, lv->buf, sizeof(lv->buf), lp_link_gso_segs(lv->link),
				   FLUSH_MAX, mono_ns(lv));
	while (n == FLUSH_MAX);
	if (n < 0 && lv->send_rc)
		snprintf(err, errlen, "cannot send: %s", lp_link_error(lv->link));
	else if (n < 0)
		snprintf(err, errlen, "cannot build a packet to send: %s", strerror(-n));
	return n < 0 ? n : 0;
}

int lp_live_run(const struct lp_flow *fl, struct lp_live_opts *o, struct lp_report *r, char *err,
		size_t errlen)
{
	struct live lv = { .writer = o->writer, .link = o->link };
	struct lp_engine_cfg cfg = o->engine;
	struct lp_fwire_cfg fc = {
		.plan = cfg.faults,
		.io = { .send = send_ip, .gso = true, .deliver = deliver, .ctx = &lv },
		.on_event = cfg.on_event, .ctx = cfg.ctx,
	};
	uint64_t start, deadline, next_progress;
	const char *why = NULL;
	int rc;

	/* Less one, so that no engine time is 0. */
	lv.base = (o->clock_base_ns ? o->clock_base_ns : mono_ns(&lv)) - 1;
	start = mono_ns(&lv);
	cfg.ts_origin_ns = start;
	rc = lp_engine_new(fl, &cfg, &lv.eng);
	if (!rc) {
		fc.local = cfg.role == LP_ROLE_CLIENT ? LP_FAULT_CLIENT : LP_FAULT_SERVER;
		fc.e = lv.eng;
		rc = lp_fwire_new(&fc, &lv.fw);
	}
	if (rc) {
		snprintf(err, errlen, "cannot set up the engine: %s", strerror(-rc));
		goto out;
	}
	deadline = o->timeout_ns ? start + o->timeout_ns : UINT64_MAX;
	next_progress = start + PROGRESS_NS;
	for (;;) {
		uint64_t now, wake;

		rc = flush_out(&lv, err, errlen);
		if (rc)
			goto out;
		if (lp_engine_state(lv.eng) != LP_ENGINE_RUNNING)
			break;
		now = mono_ns(&lv);
		if (o->stop && *o->stop) {
			why = "interrupted";
			break;
		}
		if (now >= deadline) {
			why = "timed out";
			break;
		}
		if (o->progress && now >= next_progress) {
			struct lp_engine_stats st;

			lp_engine_stats(lv.eng, &st);
			o->progress(o->progress_ctx, now - start, st.sent_bytes, fl->dir[cfg.role == LP_ROLE_CLIENT ? LP_C2S : LP_S2C].len,
				    st.received_bytes, st.expected_received_bytes);
			next_progress = now + PROGRESS_NS;
		}
		wake = lp_engine_next_timer(lv.eng);
		if (lp_fwire_next(lv.fw) < wake)
			wake = lp_fwire_next(lv.fw);
		if (wake > deadline)
			wake = deadline;
		if (o->progress && wake > next_progress)
			wake = next_progress;
		rc = lp_link_wait(o->link, wake > now ? wake - now : 0, on_rx, &lv);
		if (rc < 0) {
			snprintf(err, errlen, "cannot receive: %s", lp_link_error(o->link));
			goto out;
		}
		now = mono_ns(&lv);
		if (lp_engine_next_timer(lv.eng) <= now)
			lp_engine_timeout(lv.eng, now);
	}
	/* Ended early: the host's connection is reset, not left open. */
	if (why) {
		lp_engine_abort(lv.eng, mono_ns(&lv));
		rc = flush_out(&lv, err, errlen);
		if (rc)
			goto out;
	}
	lp_report_init(r);
	lp_report_from_engine(r, lv.eng, fl);
	r->client = cfg.role == LP_ROLE_CLIENT ? cfg.local : cfg.remote;
	r->server = cfg.role == LP_ROLE_CLIENT ? cfg.remote : cfg.local;
	if (why)
		lp_report_cut_short(r, why);
	lp_report_add_faults(r, cfg.faults);
	r->duration_ns = mono_ns(&lv) - start;
	rc = 0;
out:
	lp_fwire_free(lv.fw);
	lp_engine_free(lv.eng);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fault plan between an engine and a live link: verdicts per packet, a
 * small queue for what they hold back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/faultwire.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"

#define MAX_QUEUE 256                        /* packets held, both ways */
#define QUEUE_FIRST 16                       /* the queue's first allocation */
#define REORDER_HOLD_NS (50ull * 1000000ull) /* a reordered packet waits this long at most */

enum way { OUT = 0, IN = 1 };

struct held {
	uint8_t *buf;
	size_t len;
	uint64_t at, order;
	enum way way;
	unsigned flags;                /* LP_RX_* of an arriving packet */
};

struct lp_fwire {
	struct lp_fwire_cfg c;
	bool faults[2];                /* the plan has wire faults for this way */
	bool path;                     /* ... the path's faults (ICMP) for what we send */
	uint8_t icmp[LP_MIN_MTU6];     /* what one answers */
	struct lp_fault_keys *keys[2];
	struct held *q;                /* NULL until first needed */
	size_t nq, qcap;
	size_t nway[2];                /* of them, each way */
	long hold[2];                  /* index held back for reordering, each way, or -1 */
	uint64_t order;
	int err;                       /* the first send error */
};

int lp_fwire_new(const struct lp_fwire_cfg *cfg, struct lp_fwire **out)
{
	struct lp_fwire *fw = calloc(1, sizeof(*fw));
	enum lp_fault_side remote = cfg->local == LP_FAULT_CLIENT ? LP_FAULT_SERVER : LP_FAULT_CLIENT;
	int rc = 0;

	if (!fw)
		return -ENOMEM;
	fw->c = *cfg;
	fw->faults[OUT] = lp_fault_plan_has(cfg->plan, cfg->local, LP_FAULT_ON_WIRE);
	fw->faults[IN] = lp_fault_plan_has(cfg->plan, remote, LP_FAULT_ON_WIRE);
	fw->path = lp_fault_plan_has(cfg->plan, cfg->local, LP_FAULT_ON_PATH);
	fw->hold[OUT] = fw->hold[IN] = -1;
	for (int w = 0; w < 2 && !rc; w++)
		if (fw->faults[w])
			rc = lp_fault_keys_new(&fw->keys[w]);
	if (rc) {
		lp_fwire_free(fw);
		return rc;
	}
	*out = fw;
	return 0;
}

void lp_fwire_free(struct lp_fwire *fw)
{
	if (!fw)
		return;
	for (size_t i = 0; i < fw->nq; i++)
		free(fw->q[i].buf);
	free(fw->q);
	lp_fault_keys_free(fw->keys[OUT]);
	lp_fault_keys_free(fw->keys[IN]);
	free(fw);
}

static void pass(struct lp_fwire *fw, enum way w, const uint8_t *ip, size_t len, unsigned flags,
		 uint64_t now)
{
	int rc;

	if (w == IN) {
		fw->c.io.deliver(fw->c.io.ctx, ip, len, flags, now);
		return;
	}
	rc = fw->c.io.send(fw->c.io.ctx, ip, len, NULL);
	if (rc && !fw->err)
		fw->err = rc;
}

/* Hold one packet until at; a packet of the same way held back for
 * reordering goes right after it. A full queue (or no memory) lets it go
 * now, unharmed by delay or reordering. */
static void enqueue(struct lp_fwire *fw, enum way w, const uint8_t *ip, size_t len, unsigned flags,
		    uint64_t at, bool hold, bool corrupt, uint64_t now)
{
	struct held *h;

	if (fw->nq == fw->qcap) {
		size_t cap = fw->qcap ? 2 * fw->qcap : QUEUE_FIRST;

		if (cap > MAX_QUEUE)
			cap = MAX_QUEUE;
		h = fw->nq < cap ? realloc(fw->q, cap * sizeof(*h)) : NULL;
		if (!h)
			goto now;
		fw->q = h;
		fw->qcap = cap;
	}
	h = &fw->q[fw->nq];
	h->buf = malloc(len);
	if (!h->buf)
		goto now;
	memcpy(h->buf, ip, len);
	if (corrupt) {
		lp_pkt_corrupt(h->buf, len);
		flags &= ~LP_RX_CSUM_OK;
	}
	h->len = len;
	h->flags = flags;
	h->at = at;
	h->order = fw->order++;
	h->way = w;
	fw->nq++;
	fw->nway[w]++;
	if (fw->hold[w] >= 0) {
		fw->q[fw->hold[w]].at = at;
		fw->q[fw->hold[w]].order = fw->order++;
		fw->hold[w] = -1;
	}
	if (hold) {
		h->at += REORDER_HOLD_NS;
		fw->hold[w] = (long)(fw->nq - 1);
	}
	return;
now:
	/* The packet given to out() is the caller's to change: corrupt it there. */
	pass(fw, w, ip, len, flags, now);
}

/* What the plan does with a packet going way w. */
static void verdict(struct lp_fwire *fw, enum way w, const uint8_t *ip, size_t len, uint64_t now,
		    struct lp_fault_verdict *v)
{
	enum lp_fault_side side = w == OUT ? fw->c.local :
				  fw->c.local == LP_FAULT_CLIENT ? LP_FAULT_SERVER : LP_FAULT_CLIENT;
	struct lp_fault_pkt fp;
	struct lp_pktinfo pi;

	if (w == OUT)
		lp_engine_output_info(fw->c.e, &pi);
	else if (lp_engine_input_info(fw->c.e, ip, len, &pi) < 0) {
		/* Not a segment the engine would take: no fault for it. */
		memset(v, 0, sizeof(*v));
		v->copies = 1;
		return;
	}
	lp_fault_pkt_from(&fp, &pi, fw->keys[w]);
	lp_fault_wire(fw->c.plan, side, &fp, now, v);
	for (unsigned i = 0; i < v->fired && i < LP_FAULT_PER_PKT; i++)
		lp_fault_emit(&v->what[i], fw->c.on_event, fw->c.ctx);
}

/* The path's faults for a packet we send: true when one answered it (the
 * error delivered to the engine instead). */
static bool path_answers(struct lp_fwire *fw, const uint8_t *ip, size_t len, uint64_t now)
{
	struct lp_fault_fired what;
	struct lp_pktinfo pi;
	int n;

	lp_engine_output_info(fw->c.e, &pi);
	n = lp_fault_icmp(fw->c.plan, fw->c.local, ip, len, &pi, now, fw->icmp, sizeof(fw->icmp),
			  &what);
	if (n <= 0)
		return false;
	lp_fault_emit(&what, fw->c.on_event, fw->c.ctx);
	fw->c.io.deliver(fw->c.io.ctx, fw->icmp, (size_t)n, 0, now);
	return true;
}

static void through(struct lp_fwire *fw, enum way w, uint8_t *mine, const uint8_t *ip, size_t len,
		    unsigned flags, uint64_t now)
{
	struct lp_fault_verdict v;

	if (!fw->faults[w]) {
		if (w == OUT && fw->path && path_answers(fw, ip, len, now))
			return;
		if (fw->nway[w])
			enqueue(fw, w, ip, len, flags, now, false, false, now);
		else
			pass(fw, w, ip, len, flags, now);
		return;
	}
	verdict(fw, w, ip, len, now, &v);
	if (v.drop || (w == OUT && fw->path && path_answers(fw, ip, len, now)))
		return;
	if (v.corrupt && mine) {
		lp_pkt_corrupt(mine, len);
		v.corrupt = false;
	}
	if (v.copies == 1 && !v.delay_ns && !v.reorder && !v.corrupt && !fw->nway[w]) {
		pass(fw, w, ip, len, flags, now);
		return;
	}
	for (unsigned c = 0; c < v.copies; c++)
		enqueue(fw, w, ip, len, flags, now + v.delay_ns, c == 0 && v.reorder, v.corrupt, now);
}

int lp_fwire_out(struct lp_fwire *fw, uint8_t *ip, size_t len, uint64_t now_ns)
{
	through(fw, OUT, ip, ip, len, 0, now_ns);
	return lp_fwire_run(fw, now_ns);
}

void lp_fwire_in(struct lp_fwire *fw, const uint8_t *ip, size_t len, unsigned flags,
		 uint64_t now_ns)
{
	through(fw, IN, NULL, ip, len, flags, now_ns);
	lp_fwire_run(fw, now_ns);
}

uint64_t lp_fwire_next(const struct lp_fwire *fw)
{
	uint64_t t = UINT64_MAX;

	for (size_t i = 0; i < fw->nq; i++)
		if (fw->q[i].at < t)
			t = fw->q[i].at;
	return t;
}

int lp_fwire_run(struct lp_fwire *fw, uint64_t now_ns)
{
	for (size_t guard = 0; guard < MAX_QUEUE && fw->nq; guard++) {
		size_t best = SIZE_MAX, last;
		struct held h;

		for (size_t i = 0; i < fw->nq; i++) {
			const struct held *q = &fw->q[i], *b = best == SIZE_MAX ? NULL : &fw->q[best];

			if (q->at <= now_ns && (!b || q->at < b->at || (q->at == b->at && q->order < b->order)))
				best = i;
		}
		if (best == SIZE_MAX)
			break;
		h = fw->q[best];
		last = --fw->nq;
		fw->nway[h.way]--;
		if (best != last)
			fw->q[best] = fw->q[last];
		for (int w = 0; w < 2; w++) {
			if (fw->hold[w] == (long)best)
				fw->hold[w] = -1;
			else if (fw->hold[w] == (long)last)
				fw->hold[w] = (long)best;
		}
		pass(fw, h.way, h.buf, h.len, h.flags, now_ns);
		free(h.buf);
	}
	return fw->err;
}

size_t lp_fwire_held(const struct lp_fwire *fw)
{
	return fw->nq;
}

int lp_fwire_flush(struct lp_fwire *fw, struct lp_engine *e, uint8_t *buf, size_t cap,
		   unsigned gso_segs, size_t max, uint64_t now_ns)
{
	int rc = lp_fwire_run(fw, now_ns);
	size_t k;

	if (!fw->c.io.gso || fw->faults[OUT] || fw->path)
		gso_segs = 1;
	for (k = 0; !rc && k < max; k++) {
		struct lp_gso g;
		int n = lp_engine_output_gso(e, buf, cap, now_ns, gso_segs, &g);

		if (n <= 0)
			return n < 0 ? n : (int)k;
		if (g.seg_len)
			rc = fw->c.io.send(fw->c.io.ctx, buf, (size_t)n, &g);
		else
			rc = lp_fwire_out(fw, buf, (size_t)n, now_ns);
	}
	return rc ? rc : (int)k;
}

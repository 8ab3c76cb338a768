/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --fault captured: a flow's incidents as a fault plan. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/faultcap.h"

#define MAX_MS 3600000ull

/* Each direction's data segments by offset, for labels. */
struct labels {
	uint64_t *off[2];
	uint32_t *label[2];
	size_t n[2];
};

static int labels_make(const struct lp_flow *fl, struct labels *lb)
{
	memset(lb, 0, sizeof(*lb));
	for (int d = 0; d < 2; d++) {
		lb->off[d] = calloc(fl->ndata[d] + 1, sizeof(*lb->off[d]));
		lb->label[d] = calloc(fl->ndata[d] + 1, sizeof(*lb->label[d]));
		if (!lb->off[d] || !lb->label[d])
			return -ENOMEM;
	}
	/* Within a direction the schedule is in stream order. */
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];

		if (s->len && lb->n[s->dir] < fl->ndata[s->dir]) {
			lb->off[s->dir][lb->n[s->dir]] = s->offset;
			lb->label[s->dir][lb->n[s->dir]++] = s->label;
		}
	}
	return 0;
}

static void labels_free(struct labels *lb)
{
	for (int d = 0; d < 2; d++) {
		free(lb->off[d]);
		free(lb->label[d]);
	}
}

/* The label of d's segment holding offset o (the last one starting at or
 * before it), 0 when none; with after, the first starting at or after o. */
static uint32_t label_at(const struct labels *lb, int d, uint64_t o, bool after)
{
	size_t lo = 0, hi = lb->n[d];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (after ? lb->off[d][mid] < o : lb->off[d][mid] <= o)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (after)
		return lo < lb->n[d] ? lb->label[d][lo] : 0;
	return lo ? lb->label[d][lo - 1] : 0;
}

struct out {
	struct lp_capfault *v;
	size_t n, cap;
};

static int add(struct out *o, enum lp_fault_side side, enum lp_fault_kind kind, const char *spec,
	       const char *why)
{
	struct lp_capfault *c;

	for (size_t i = 0; spec[0] && i < o->n; i++)
		if (!strcmp(o->v[i].spec, spec))
			return 0;
	if (o->n == o->cap) {
		size_t ncap = o->cap ? 2 * o->cap : 8;

		c = realloc(o->v, ncap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		o->v = c;
		o->cap = ncap;
	}
	c = &o->v[o->n++];
	snprintf(c->spec, sizeof(c->spec), "%s", spec);
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->side = side;
	c->kind = kind;
	return 0;
}

static const char *side_name(int dir)
{
	return dir == LP_C2S ? "client" : "server";
}

/* One incident as a fault (or a note). */
static int derive_one(const struct lp_flow *fl, const struct labels *lb, const struct lp_incident *in,
		      struct out *o)
{
	char spec[48], why[128];
	int d = in->dir;
	char c = d == LP_C2S ? 'C' : 'S', pc = d == LP_C2S ? 'S' : 'C';
	enum lp_fault_side side = d == LP_C2S ? LP_FAULT_CLIENT : LP_FAULT_SERVER;
	uint32_t l;

	switch (in->kind) {
	case LP_INC_RETRANSMIT:
	case LP_INC_LATE:
	case LP_INC_DUPLICATE: {
		enum lp_fault_kind k = in->kind == LP_INC_DUPLICATE ? LP_FAULT_DUP : LP_FAULT_DROP;

		l = label_at(lb, d, in->offset, false);
		if (!l)
			return 0;
		snprintf(spec, sizeof(spec), "%s:%s:%c%" PRIu32, side_name(d), lp_fault_kind_str(k), c, l);
		snprintf(why, sizeof(why), "%c%" PRIu32 " %s (packet %" PRIu32 ")", c, l,
			 in->kind == LP_INC_LATE ? "came after duplicate ACKs asked for it" :
			 in->kind == LP_INC_DUPLICATE ? "was captured twice" : "was retransmitted",
			 in->packet);
		return add(o, side, k, spec, why);
	}
	case LP_INC_ZERO_WINDOW: {
		uint64_t ms = (in->dur_ns + 999999) / 1000000;

		l = in->offset ? label_at(lb, !d, in->offset - 1, false) : 0;
		if (ms > MAX_MS)
			ms = MAX_MS;
		if (!l || !ms) {
			snprintf(why, sizeof(why), "the %s's window was zero before any %c data "
				 "(packet %" PRIu32 "): no fault stands for it", side_name(d), pc, in->packet);
			return add(o, side, LP_FAULT_ZERO_WINDOW, "", why);
		}
		snprintf(spec, sizeof(spec), "%s:zero-window:%c%" PRIu32 ":%" PRIu64, side_name(d), pc, l, ms);
		snprintf(why, sizeof(why), "the %s's window was zero for %" PRIu64 " ms once %c%" PRIu32
			 " was in (packet %" PRIu32 ")", side_name(d), ms, pc, l, in->packet);
		return add(o, side, LP_FAULT_ZERO_WINDOW, spec, why);
	}
	case LP_INC_RESET:
		if (d != LP_C2S)
			return 0;
		l = in->offset < fl->dir[d].len ? label_at(lb, d, in->offset, true) : 0;
		if (!l) {
			snprintf(why, sizeof(why), "the client reset the connection after its last data "
				 "(packet %" PRIu32 "): the schedule replays it", in->packet);
			return add(o, side, LP_FAULT_RST, "", why);
		}
		snprintf(spec, sizeof(spec), "client:rst:C%" PRIu32, l);
		snprintf(why, sizeof(why), "the client reset the connection before C%" PRIu32
			 " (packet %" PRIu32 ")", l, in->packet);
		return add(o, side, LP_FAULT_RST, spec, why);
	}
	return 0;
}

int lp_faultcap_derive(const struct lp_flow *fl, struct lp_capfault **out, size_t *n)
{
	struct out o = { 0 };
	struct labels lb;
	int rc = labels_make(fl, &lb);

	for (size_t i = 0; !rc && i < fl->nincidents; i++)
		rc = derive_one(fl, &lb, &fl->incidents[i], &o);
	labels_free(&lb);
	if (rc) {
		free(o.v);
		return rc;
	}
	*out = o.v;
	*n = o.n;
	return 0;
}

int lp_faultcap_add(struct lp_fault_plan *p, const struct lp_flow *fl, bool live,
		    enum lp_fault_side local, size_t *left_out)
{
	struct lp_capfault *v = NULL;
	size_t n = 0, left = 0;
	char err[160];
	int rc = lp_faultcap_derive(fl, &v, &n);

	for (size_t i = 0; !rc && i < n; i++) {
		bool wire = v[i].kind == LP_FAULT_DROP || v[i].kind == LP_FAULT_DUP;

		if (!v[i].spec[0])
			continue;
		if (live && v[i].side != local && !wire) {
			left++;
			continue;
		}
		rc = lp_fault_plan_add(p, v[i].spec, err, sizeof(err));
	}
	free(v);
	if (left_out)
		*left_out = left;
	/* Derived specs always parse: only memory can fail. */
	return rc ? -ENOMEM : 0;
}

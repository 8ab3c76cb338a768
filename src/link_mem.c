/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-memory wire. Packet buffers are pooled and reused: no allocation per
 * packet once the pool has grown to the number of packets in flight. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/link_mem.h"
#include "tcpliveplay/pkt.h"

#define REORDER_HOLD_NS 1000000ull
#define MAX_PKT (65536u + 64u)

/* In-flight packets sit in a binary min-heap ordered by (delivery time,
 * sending order); free slots on a stack. Both hold slot indices. */
struct slot {
	uint8_t *buf;
	size_t cap, len;
	uint64_t at, order;
	size_t pos;          /* index in the heap while in flight */
	unsigned to;
	bool busy;
};

struct lp_link_mem {
	uint64_t latency;
	struct slot *s;
	size_t n, cap, busy;
	size_t *heap;        /* busy slots, l->busy of them */
	size_t *freel;       /* free slots, nfree of them */
	size_t nfree;
	uint64_t order;
	long held[2];        /* slot held back for reordering, per direction, or -1 */
	long out;            /* slot handed out by the last recv, released next call */
};

int lp_link_mem_new(uint64_t latency_ns, struct lp_link_mem **out)
{
	struct lp_link_mem *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->latency = latency_ns ? latency_ns : LP_LINK_LATENCY_NS;
	l->held[0] = l->held[1] = -1;
	l->out = -1;
	*out = l;
	return 0;
}

void lp_link_mem_free(struct lp_link_mem *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->s[i].buf);
	free(l->s);
	free(l->heap);
	free(l->freel);
	free(l);
}

static bool before(const struct lp_link_mem *l, size_t a, size_t b)
{
	const struct slot *x = &l->s[a], *y = &l->s[b];

	return x->at < y->at || (x->at == y->at && x->order < y->order);
}

static void heap_set(struct lp_link_mem *l, size_t pos, size_t idx)
{
	l->heap[pos] = idx;
	l->s[idx].pos = pos;
}

static void sift_up(struct lp_link_mem *l, size_t pos)
{
	size_t idx = l->heap[pos];

	while (pos > 0) {
		size_t parent = (pos - 1) / 2;

		if (!before(l, idx, l->heap[parent]))
			break;
		heap_set(l, pos, l->heap[parent]);
		pos = parent;
	}
	heap_set(l, pos, idx);
}

static void sift_down(struct lp_link_mem *l, size_t pos)
{
	size_t idx = l->heap[pos];

	for (;;) {
		size_t c = 2 * pos + 1;

		if (c >= l->busy)
			break;
		if (c + 1 < l->busy && before(l, l->heap[c + 1], l->heap[c]))
			c++;
		if (!before(l, l->heap[c], idx))
			break;
		heap_set(l, pos, l->heap[c]);
		pos = c;
	}
	heap_set(l, pos, idx);
}

static struct slot *get_slot(struct lp_link_mem *l, size_t len, long *idx)
{
	struct slot *sl;
	size_t i;

	if (l->nfree) {
		i = l->freel[--l->nfree];
	} else {
		if (l->n == l->cap) {
			size_t ncap = l->cap ? l->cap * 2 : 64;
			struct slot *ns = realloc(l->s, ncap * sizeof(*ns));
			size_t *nh, *nf;

			if (!ns)
				return NULL;
			l->s = ns;
			memset(ns + l->cap, 0, (ncap - l->cap) * sizeof(*ns));
			nh = realloc(l->heap, ncap * sizeof(*nh));
			if (!nh)
				return NULL;
			l->heap = nh;
			nf = realloc(l->freel, ncap * sizeof(*nf));
			if (!nf)
				return NULL;
			l->freel = nf;
			l->cap = ncap;
		}
		i = l->n++;
	}
	sl = &l->s[i];
	if (sl->cap < len) {
		size_t ncap = len < 2048 ? 2048 : len;
		uint8_t *nb = realloc(sl->buf, ncap);

		if (!nb) {
			l->freel[l->nfree++] = i;
			return NULL;
		}
		sl->buf = nb;
		sl->cap = ncap;
	}
	*idx = (long)i;
	return sl;
}

int lp_link_mem_send(struct lp_link_mem *l, unsigned to, const uint8_t *pkt, size_t len,
		     uint64_t now_ns, const struct lp_fault_verdict *v)
{
	unsigned copies = v ? v->copies : 1;

	if (len == 0 || len > MAX_PKT || to > 1)
		return -EINVAL;
	if (v && v->drop)
		return 0;
	for (unsigned c = 0; c < copies; c++) {
		long idx;
		struct slot *sl = get_slot(l, len, &idx);

		if (!sl)
			return -ENOMEM;
		memcpy(sl->buf, pkt, len);
		sl->len = len;
		sl->to = to;
		sl->busy = true;
		sl->order = l->order++;
		sl->at = now_ns + l->latency + (v ? v->delay_ns : 0);
		if (v && v->corrupt)
			lp_pkt_corrupt(sl->buf, len);
		/* A packet held back for reordering goes right after this one. */
		if (l->held[to] >= 0) {
			struct slot *h = &l->s[l->held[to]];

			h->at = sl->at;
			h->order = l->order++;
			l->held[to] = -1;
			sift_up(l, h->pos);
			sift_down(l, h->pos);
		}
		if (c == 0 && v && v->reorder) {
			sl->at += REORDER_HOLD_NS;
			l->held[to] = idx;
		}
		heap_set(l, l->busy++, (size_t)idx);
		sift_up(l, sl->pos);
	}
	return 0;
}

uint64_t lp_link_mem_next(const struct lp_link_mem *l)
{
	return l->busy ? l->s[l->heap[0]].at : UINT64_MAX;
}

int lp_link_mem_recv(struct lp_link_mem *l, uint64_t now_ns, unsigned *to, const uint8_t **pkt,
		     size_t *len)
{
	struct slot *sl;
	size_t i;

	if (l->out >= 0) {
		l->freel[l->nfree++] = (size_t)l->out;
		l->out = -1;
	}
	if (!l->busy || l->s[l->heap[0]].at > now_ns)
		return 0;
	i = l->heap[0];
	sl = &l->s[i];
	if (--l->busy) {
		heap_set(l, 0, l->heap[l->busy]);
		sift_down(l, 0);
	}
	sl->busy = false;
	if (l->held[sl->to] == (long)i)
		l->held[sl->to] = -1;
	l->out = (long)i;
	*to = sl->to;
	*pkt = sl->buf;
	*len = sl->len;
	return 1;
}

size_t lp_link_mem_inflight(const struct lp_link_mem *l)
{
	return l->busy;
}

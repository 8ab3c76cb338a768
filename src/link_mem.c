/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-memory wire. Packet buffers are pooled and reused: no allocation per
 * packet once the pool has grown to the number of packets in flight. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/link_mem.h"

#define REORDER_HOLD_NS 1000000ull
#define MAX_PKT (65536u + 64u)

struct slot {
	uint8_t *buf;
	size_t cap, len;
	uint64_t at, order;
	unsigned to;
	bool busy;
};

struct lp_link_mem {
	uint64_t latency;
	struct slot *s;
	size_t n, cap, busy;
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
	free(l);
}

static struct slot *get_slot(struct lp_link_mem *l, size_t len, long *idx)
{
	struct slot *sl = NULL;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!l->s[i].busy && (long)i != l->out)
			break;
	if (i == l->n) {
		if (l->n == l->cap) {
			size_t ncap = l->cap ? l->cap * 2 : 64;
			struct slot *ns = realloc(l->s, ncap * sizeof(*ns));

			if (!ns)
				return NULL;
			memset(ns + l->cap, 0, (ncap - l->cap) * sizeof(*ns));
			l->s = ns;
			l->cap = ncap;
		}
		l->n++;
	}
	sl = &l->s[i];
	if (sl->cap < len) {
		size_t ncap = len < 2048 ? 2048 : len;
		uint8_t *nb = realloc(sl->buf, ncap);

		if (!nb)
			return NULL;
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
			sl->buf[len - 1] ^= 0xff;
		l->busy++;
		/* A packet held back for reordering goes right after this one. */
		if (l->held[to] >= 0) {
			struct slot *h = &l->s[l->held[to]];

			h->at = sl->at;
			h->order = l->order++;
			l->held[to] = -1;
		}
		if (c == 0 && v && v->reorder) {
			sl->at += REORDER_HOLD_NS;
			l->held[to] = idx;
		}
	}
	return 0;
}

static long next_slot(const struct lp_link_mem *l)
{
	long best = -1;

	for (size_t i = 0; i < l->n; i++) {
		const struct slot *sl = &l->s[i];

		if (!sl->busy)
			continue;
		if (best < 0 || sl->at < l->s[best].at ||
		    (sl->at == l->s[best].at && sl->order < l->s[best].order))
			best = (long)i;
	}
	return best;
}

uint64_t lp_link_mem_next(const struct lp_link_mem *l)
{
	long i = next_slot(l);

	return i < 0 ? UINT64_MAX : l->s[i].at;
}

int lp_link_mem_recv(struct lp_link_mem *l, uint64_t now_ns, unsigned *to, const uint8_t **pkt,
		     size_t *len)
{
	long i = next_slot(l);
	struct slot *sl;

	l->out = -1;
	if (i < 0 || l->s[i].at > now_ns)
		return 0;
	sl = &l->s[i];
	sl->busy = false;
	l->busy--;
	if (l->held[sl->to] == i)
		l->held[sl->to] = -1;
	l->out = i;
	*to = sl->to;
	*pkt = sl->buf;
	*len = sl->len;
	return 1;
}

size_t lp_link_mem_inflight(const struct lp_link_mem *l)
{
	return l->busy;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Responder flow chooser: flows sorted by (service port, capture order),
 * one group per port with a round-robin cursor, found by binary search. */
#include <errno.h>
#include <stdlib.h>

#include "tcpliveplay/flowpick.h"

struct group {
	uint16_t port;
	size_t first, count;     /* in order[] */
	size_t turn;             /* next flow of the group, 0..count-1 */
};

struct lp_flowpick {
	const struct lp_flow **order;
	struct group *groups;
	size_t ngroups;
};

struct keyed {
	uint16_t port;
	size_t idx;
	const struct lp_flow *fl;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void lp_flowpick_free(struct lp_flowpick *p)
{
	if (!p)
		return;
	free(p->order);
	free(p->groups);
	free(p);
}

int lp_flowpick_new(const struct lp_flow *const *flows, size_t n, uint16_t port,
		    struct lp_flowpick **out)
{
	struct lp_flowpick *p = NULL;
	struct keyed *k = NULL;
	int rc = -EINVAL;

	*out = NULL;
	if (!flows || n == 0 || n > SIZE_MAX / sizeof(*k))
		return -EINVAL;
	rc = -ENOMEM;
	k = calloc(n, sizeof(*k));
	p = calloc(1, sizeof(*p));
	if (!k || !p)
		goto out;
	p->order = calloc(n, sizeof(*p->order));
	p->groups = calloc(n, sizeof(*p->groups));
	if (!p->order || !p->groups)
		goto out;
	rc = -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!flows[i])
			goto out;
		k[i].port = port ? port : flows[i]->server.port;
		k[i].idx = i;
		k[i].fl = flows[i];
		if (!k[i].port)
			goto out;
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 0; i < n; i++) {
		p->order[i] = k[i].fl;
		if (!p->ngroups || p->groups[p->ngroups - 1].port != k[i].port) {
			p->groups[p->ngroups].port = k[i].port;
			p->groups[p->ngroups].first = i;
			p->ngroups++;
		}
		p->groups[p->ngroups - 1].count++;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	free(k);
	lp_flowpick_free(p);
	return rc;
}

static struct group *find(const struct lp_flowpick *p, uint16_t port)
{
	size_t lo = 0, hi = p->ngroups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->groups[mid].port == port)
			return &p->groups[mid];
		if (p->groups[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct lp_flow *lp_flowpick_next(struct lp_flowpick *p, uint16_t port)
{
	struct group *g = find(p, port);
	const struct lp_flow *fl;

	if (!g)
		return NULL;
	fl = p->order[g->first + g->turn];
	g->turn = g->turn + 1 < g->count ? g->turn + 1 : 0;
	return fl;
}

bool lp_flowpick_serves(const struct lp_flowpick *p, uint16_t port)
{
	return find(p, port) != NULL;
}

size_t lp_flowpick_nports(const struct lp_flowpick *p)
{
	return p->ngroups;
}

uint16_t lp_flowpick_port(const struct lp_flowpick *p, size_t i)
{
	return i < p->ngroups ? p->groups[i].port : 0;
}

size_t lp_flowpick_count(const struct lp_flowpick *p, uint16_t port)
{
	const struct group *g = find(p, port);

	return g ? g->count : 0;
}

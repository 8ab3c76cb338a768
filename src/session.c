/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Session table (chained hash over a preallocated node pool) and the
 * emulated host's answers to packets no session owns. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/session.h"
#include "tcpliveplay/bytes.h"

#define MAX_ENTRIES 1000000u
#define NONE SIZE_MAX

struct node {
	struct lp_endpoint key;
	void *val;             /* NULL: free */
	size_t next;           /* next node of the bucket, or NONE */
};

struct lp_sess_table {
	struct node *nodes;    /* max entries */
	size_t *buckets;       /* nbuckets heads */
	size_t max, nbuckets, count;
	size_t free_head;      /* chain of free nodes through next */
	uint64_t hash_key;
};

int lp_sess_table_new(size_t max, uint64_t hash_key, struct lp_sess_table **out)
{
	struct lp_sess_table *t;
	size_t nb = 16;

	*out = NULL;
	if (max == 0 || max > MAX_ENTRIES)
		return -EINVAL;
	while (nb < 2 * max)
		nb *= 2;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->nodes = calloc(max, sizeof(*t->nodes));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (!t->nodes || !t->buckets) {
		lp_sess_table_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nb; i++)
		t->buckets[i] = NONE;
	for (size_t i = 0; i < max; i++)
		t->nodes[i].next = i + 1 < max ? i + 1 : NONE;
	t->max = max;
	t->nbuckets = nb;
	t->free_head = 0;
	t->hash_key = hash_key;
	*out = t;
	return 0;
}

void lp_sess_table_free(struct lp_sess_table *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->buckets);
	free(t);
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool key_ok(const struct lp_endpoint *k)
{
	return k && (k->family == AF_INET || k->family == AF_INET6);
}

static bool key_eq(const struct lp_endpoint *a, const struct lp_endpoint *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, alen(a->family));
}

/* Keyed multiply-xorshift over the key's bytes: cheap, and without the
 * secret key a client cannot aim its ports at one bucket. */
static size_t bucket(const struct lp_sess_table *t, const struct lp_endpoint *k)
{
	uint64_t h = t->hash_key ^ ((uint64_t)k->family << 16) ^ k->port;
	size_t n = alen(k->family);

	for (size_t i = 0; i < n; i += 4) {
		uint32_t w = (uint32_t)k->addr[i] << 24 | (uint32_t)k->addr[i + 1] << 16 |
			     (uint32_t)k->addr[i + 2] << 8 | k->addr[i + 3];

		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (size_t)(h & (t->nbuckets - 1));
}

void *lp_sess_table_get(const struct lp_sess_table *t, const struct lp_endpoint *key)
{
	if (!key_ok(key))
		return NULL;
	for (size_t i = t->buckets[bucket(t, key)]; i != NONE; i = t->nodes[i].next)
		if (key_eq(&t->nodes[i].key, key))
			return t->nodes[i].val;
	return NULL;
}

int lp_sess_table_add(struct lp_sess_table *t, const struct lp_endpoint *key, void *val)
{
	size_t b, i;
	struct node *n;

	if (!key_ok(key) || !val)
		return -EINVAL;
	if (lp_sess_table_get(t, key))
		return -EEXIST;
	if (t->free_head == NONE)
		return -ENOSPC;
	b = bucket(t, key);
	i = t->free_head;
	n = &t->nodes[i];
	t->free_head = n->next;
	memset(&n->key, 0, sizeof(n->key));
	n->key.family = key->family;
	n->key.port = key->port;
	memcpy(n->key.addr, key->addr, alen(key->family));
	n->val = val;
	n->next = t->buckets[b];
	t->buckets[b] = i;
	t->count++;
	return 0;
}

int lp_sess_table_del(struct lp_sess_table *t, const struct lp_endpoint *key)
{
	size_t *link;

	if (!key_ok(key))
		return -ENOENT;
	for (link = &t->buckets[bucket(t, key)]; *link != NONE; link = &t->nodes[*link].next) {
		size_t i = *link;
		struct node *n = &t->nodes[i];

		if (!key_eq(&n->key, key))
			continue;
		*link = n->next;
		n->val = NULL;
		n->next = t->free_head;
		t->free_head = i;
		t->count--;
		return 0;
	}
	return -ENOENT;
}

size_t lp_sess_table_count(const struct lp_sess_table *t)
{
	return t->count;
}

void *lp_sess_table_next(const struct lp_sess_table *t, size_t *pos)
{
	while (*pos < t->max) {
		void *v = t->nodes[(*pos)++].val;

		if (v)
			return v;
	}
	return NULL;
}

int lp_host_rst(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	struct lp_seg in, r;

	if (lp_pkt_parse(pkt, len, &in) < 0)
		return -EINVAL;
	if (in.flags & LP_TH_RST)
		return 0;
	memset(&r, 0, sizeof(r));
	r.family = in.family;
	memcpy(r.src, in.dst, sizeof(r.src));
	memcpy(r.dst, in.src, sizeof(r.dst));
	r.sport = in.dport;
	r.dport = in.sport;
	if (in.flags & LP_TH_ACK) {
		r.seq = in.ack;
		r.flags = LP_TH_RST;
	} else {
		r.seq = 0;
		r.ack = in.seq + in.len + ((in.flags & LP_TH_SYN) ? 1 : 0) + ((in.flags & LP_TH_FIN) ? 1 : 0);
		r.flags = LP_TH_RST | LP_TH_ACK;
	}
	return lp_pkt_build(out, cap, &r);
}

static int echo4(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	size_t hl = (size_t)(pkt[0] & 15) * 4, tot, ilen;
	uint8_t *icmp;

	if (len < 20 || hl < 20 || pkt[9] != 1)
		return 0;
	tot = lp_get16(pkt + 2);
	if (tot < hl + 8 || tot > len || (lp_get16(pkt + 6) & 0x3fff))
		return 0;
	ilen = tot - hl;
	if (pkt[hl] != 8 || pkt[hl + 1] != 0 || lp_icmp_csum(pkt, pkt + hl, ilen) != 0)
		return 0;
	if (cap < 20 + ilen)
		return -ENOBUFS;
	icmp = out + lp_ip_header(out, AF_INET, pkt + 16, pkt + 12, 1, ilen);
	memcpy(icmp, pkt + hl, ilen);
	icmp[0] = 0;
	icmp[2] = icmp[3] = 0;
	lp_put16(icmp + 2, lp_icmp_csum(out, icmp, ilen));
	return (int)(20 + ilen);
}

static int echo6(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	size_t ilen;
	uint8_t *icmp;

	if (len < 48 || pkt[6] != 58)
		return 0;
	ilen = lp_get16(pkt + 4);
	if (ilen < 8 || ilen > len - 40)
		return 0;
	if (pkt[40] != 128 || pkt[41] != 0 || lp_icmp_csum(pkt, pkt + 40, ilen) != 0)
		return 0;
	if (cap < 40 + ilen)
		return -ENOBUFS;
	icmp = out + lp_ip_header(out, AF_INET6, pkt + 24, pkt + 8, 58, ilen);
	memcpy(icmp, pkt + 40, ilen);
	icmp[0] = 129;
	icmp[2] = icmp[3] = 0;
	lp_put16(icmp + 2, lp_icmp_csum(out, icmp, ilen));
	return (int)(40 + ilen);
}

int lp_host_echo_reply(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	if (len < 1)
		return 0;
	if ((pkt[0] >> 4) == 4)
		return echo4(pkt, len, out, cap);
	if ((pkt[0] >> 4) == 6)
		return echo6(pkt, len, out, cap);
	return 0;
}

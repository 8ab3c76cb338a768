/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A set of flows: its busiest moment, its shards, each flow's seed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/flowset.h"
#include "tcpliveplay/util.h"

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

int lp_flowset_busiest(const struct lp_flow *const *flows, size_t n, size_t *out)
{
	uint64_t *opens, *closes;
	size_t best = 0, j = 0;

	if (n == 0) {
		*out = 0;
		return 0;
	}
	opens = malloc(n * sizeof(*opens));
	closes = malloc(n * sizeof(*closes));
	if (!opens || !closes) {
		free(opens);
		free(closes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t first = flows[i]->first_ts, last = flows[i]->last_ts;

		opens[i] = first;
		/* Open for at least an instant, even with a clock that stepped back. */
		closes[i] = last > first ? last : first == UINT64_MAX ? first : first + 1;
	}
	qsort(opens, n, sizeof(*opens), cmp_u64);
	qsort(closes, n, sizeof(*closes), cmp_u64);
	/* At each opening, the flows closed at or before it are gone; every
	 * close is after its own open, so the count never goes negative. */
	for (size_t i = 0; i < n; i++) {
		while (j < n && closes[j] <= opens[i])
			j++;
		if (i + 1 - j > best)
			best = i + 1 - j;
	}
	free(opens);
	free(closes);
	*out = best;
	return 0;
}

size_t lp_flowset_shard(const struct lp_flow **flows, size_t n, unsigned k, unsigned nshards)
{
	size_t kept = 0;

	if (nshards == 0 || k == 0 || k > nshards)
		return 0;
	for (size_t i = k - 1; i < n; i += nshards)
		flows[kept++] = flows[i];
	return kept;
}

size_t lp_flowset_shard_max(size_t n, unsigned nshards)
{
	return nshards ? n / nshards + (n % nshards != 0) : 0;
}

int lp_flowset_parse_shard(const char *s, unsigned max, unsigned *k, unsigned *nshards)
{
	const char *slash = strchr(s, '/');
	char num[24];
	uint64_t a, b;
	size_t len;

	if (!slash)
		return -EINVAL;
	len = (size_t)(slash - s);
	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	if (lp_parse_uint(num, 1, max, &a) || lp_parse_uint(slash + 1, 1, max, &b) || a > b)
		return -EINVAL;
	*k = (unsigned)a;
	*nshards = (unsigned)b;
	return 0;
}

uint64_t lp_flowset_seed(uint64_t seed, unsigned part)
{
	return seed ^ ((uint64_t)part * 0x9e3779b97f4a7c15ull);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xoshiro256** (Blackman and Vigna), state filled by splitmix64. */
#include "tcpliveplay/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t v, int k)
{
	return (v << k) | (v >> (64 - k));
}

void lp_rng_seed(struct lp_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t lp_rng_next(struct lp_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint32_t lp_rng_u32(struct lp_rng *r)
{
	return (uint32_t)(lp_rng_next(r) >> 32);
}

uint64_t lp_rng_below(struct lp_rng *r, uint64_t n)
{
	/* Reject the top partial range so every value is equally likely. */
	uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
	uint64_t v;

	do
		v = lp_rng_next(r);
	while (v >= limit);
	return v % n;
}

int lp_rng_chance_ppm(struct lp_rng *r, uint32_t ppm)
{
	if (ppm == 0)
		return 0;
	return lp_rng_below(r, 1000000) < ppm;
}

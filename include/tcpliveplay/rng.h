/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small seeded PRNG (xoshiro256** seeded through splitmix64). Deterministic. */
#ifndef TCPLIVEPLAY_RNG_H
#define TCPLIVEPLAY_RNG_H

#include <stdint.h>

struct lp_rng {
	uint64_t s[4];
};

void lp_rng_seed(struct lp_rng *r, uint64_t seed);
uint64_t lp_rng_next(struct lp_rng *r);
uint32_t lp_rng_u32(struct lp_rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t lp_rng_below(struct lp_rng *r, uint64_t n);
/* True with probability ppm / 1,000,000. */
int lp_rng_chance_ppm(struct lp_rng *r, uint32_t ppm);

#endif

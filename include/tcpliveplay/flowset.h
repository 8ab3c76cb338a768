/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Facts about a set of flows as a whole, for replaying many at once: how many
 * were open at the capture's busiest moment, and which of them one of N
 * cooperating processes (shards) replays. Pure: no I/O, no clock.
 */
#ifndef TCPLIVEPLAY_FLOWSET_H
#define TCPLIVEPLAY_FLOWSET_H

#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"

/* The most flows open at one moment, a flow being open from its first
 * captured packet up to (not including) its last; a flow whose packets share
 * one time stamp, or whose clock stepped back, is open for that instant. So
 * one flow that ends as the next begins counts once. 0 for no flows, else
 * 0 with *out set, or -ENOMEM. */
int lp_flowset_busiest(const struct lp_flow *const *flows, size_t n, size_t *out);

/* Shard k of nshards (1 <= k <= nshards): the flows at positions k-1,
 * k-1+nshards, k-1+2*nshards, ... of flows[0..n-1] (dealt round-robin in the
 * order given, capture order for a selection), moved to the front of flows in
 * their order. Returns how many; 0 for a bad k or nshards. Every flow lands
 * in exactly one shard, and shard sizes differ by one at most. */
size_t lp_flowset_shard(const struct lp_flow **flows, size_t n, unsigned k, unsigned nshards);

/* The size of the largest shard of n flows in nshards (ceil(n / nshards)). */
size_t lp_flowset_shard_max(size_t n, unsigned nshards);

/* Shards of one replay, at most (each needs a source port at least). */
#define LP_FLOWSET_MAX_SHARDS 1024

/* "K/N" with 1 <= K <= N <= max into *k and *nshards. 0 or -EINVAL. */
int lp_flowset_parse_shard(const char *s, unsigned max, unsigned *k, unsigned *nshards);

/* The seed of one part of a run seeded with seed: of a flow (part: its id),
 * the same whatever else the run replays and in whichever shard; or of a
 * shard's own choices (part: its number). */
uint64_t lp_flowset_seed(uint64_t seed, unsigned part);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCPLIVEPLAY_UTIL_H
#define TCPLIVEPLAY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Strict decimal: digits only, no sign or space, within [min, max].
 * Returns 0 and sets *out, or -EINVAL / -ERANGE. */
int lp_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* For a program about to exit, whose descriptors' release waits for an RCU
 * grace period (a packet socket; a netfilter socket owning nftables tables):
 * a helper process (it dies on INT, TERM and HUP) keeps a copy of each of
 * the n descriptors fds and nothing else. The caller then closes its own
 * copies, at once since they are not the last, and the helper's close waits
 * instead. The helper shares the caller's address space (clone(CLONE_VM))
 * and leaves once the caller has exited, so that it also takes the address
 * space's teardown off the caller's exit; under valgrind, or without
 * close_range(), it is a forked grandchild that leaves at lp_release_go().
 * Returns what to pass to lp_release_go(), -1 when there is no helper (a
 * sanitizer build, no fork): then the caller's close waits. */
int lp_release_helper(const int *fds, size_t n);
/* Done with the descriptors: a forked helper closes its copies and exits
 * (one in our address space waits for our exit); -1 does nothing. */
void lp_release_go(int go);

/* Room for one more element in the array *arr (any object pointer, passed as
 * its address) of n used and *cap allocated elements of size bytes: the
 * capacity doubles, from first. 0, or -ENOMEM with the array as it was. */
int lp_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first);

/* Sort n elements of size bytes (at most 64) in place with cmp, stable. Fast
 * on data nearly in order (a capture's packets, retransmissions aside): an
 * insertion sort while it moves fewer than about 8 elements each, else
 * qsort_r (whose merge sort takes a copy of the array). */
void lp_sort_nearly(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
		    void *arg);

/* Format a message into err (size errlen); nothing when err is NULL. */
void lp_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The clock clk (CLOCK_MONOTONIC, CLOCK_REALTIME) in nanoseconds. */
uint64_t lp_clock_ns(clockid_t clk);

#endif

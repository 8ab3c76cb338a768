/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCPLIVEPLAY_UTIL_H
#define TCPLIVEPLAY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Strict decimal: digits only, no sign or space, within [min, max].
 * Returns 0 and sets *out, or -EINVAL / -ERANGE. */
int lp_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

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

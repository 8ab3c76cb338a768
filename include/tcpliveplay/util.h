/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCPLIVEPLAY_UTIL_H
#define TCPLIVEPLAY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Strict decimal: digits only, no sign or space, within [min, max].
 * Returns 0 and sets *out, or -EINVAL / -ERANGE. */
int lp_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Format a message into err (size errlen); nothing when err is NULL. */
void lp_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The clock clk (CLOCK_MONOTONIC, CLOCK_REALTIME) in nanoseconds. */
uint64_t lp_clock_ns(clockid_t clk);

#endif

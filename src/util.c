/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpliveplay/util.h"

int lp_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int lp_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	memcpy(&p, arr, sizeof(p));
	p = realloc(p, ncap * size);
	if (!p)
		return -ENOMEM;
	memcpy(arr, &p, sizeof(p));
	*cap = ncap;
	return 0;
}

void lp_sort_nearly(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
		    void *arg)
{
	uint8_t *b = base, tmp[64];
	size_t budget = 8 * n + 64;

	if (size > sizeof(tmp))
		goto fallback;
	for (size_t i = 1; i < n; i++) {
		size_t lo = 0, hi = i;

		if (cmp(b + (i - 1) * size, b + i * size, arg) <= 0)
			continue;
		/* After the last element of the sorted prefix not above it. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (cmp(b + mid * size, b + i * size, arg) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (i - lo > budget)
			goto fallback;
		budget -= i - lo;
		memcpy(tmp, b + i * size, size);
		memmove(b + (lo + 1) * size, b + lo * size, (i - lo) * size);
		memcpy(b + lo * size, tmp, size);
	}
	return;
fallback:
	qsort_r(base, n, size, cmp, arg);
}

void lp_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint64_t lp_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A stream's bytes for the tests: copied out of the mapped capture. */
#ifndef TCPLIVEPLAY_STREAMBYTES_H
#define TCPLIVEPLAY_STREAMBYTES_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/flow.h"

/* The whole stream (holes as zeros) in a new buffer: free() it. */
static inline uint8_t *stream_bytes(const struct lp_stream *st)
{
	uint8_t *b = malloc(st->len + 1);

	if (!b)
		abort();
	lp_stream_copy(st, 0, st->len, b);
	return b;
}

/* Do the n bytes at offset off equal want? */
static inline bool stream_mem_eq(const struct lp_stream *st, uint64_t off, const void *want, uint64_t n)
{
	uint8_t *b = stream_bytes(st);
	bool eq = off + n <= st->len && !memcmp(b + off, want, n);

	free(b);
	return eq;
}

/* What a stream's extents must be: in order, nonempty, covering [0, len)
 * exactly, without bytes exactly where the holes are. NULL, or what is wrong. */
static inline const char *stream_extents_wrong(const struct lp_stream *st)
{
	uint64_t pos = 0;
	size_t h = 0;

	if (st->len && !st->ext)
		return "no extents";
	for (size_t i = 0; i < st->next; i++) {
		const struct lp_extent *x = &st->ext[i];

		if (x->off != pos || !x->len)
			return "extents not contiguous";
		if (!x->p) {
			if (h == st->nholes || st->holes[h].offset != x->off || st->holes[h].len != x->len)
				return "an extent without bytes is not a hole";
			h++;
		}
		pos += x->len;
	}
	if (pos != st->len)
		return "extents do not end at the stream's end";
	return h == st->nholes ? NULL : "a hole has bytes";
}

#endif

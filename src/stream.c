/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streams: a direction's bytes as extents pointing into the mapped capture
 * (holes as extents without bytes), built while the capture is read without
 * copying a byte, and read by offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow_int.h"
#include "tcpliveplay/util.h"

/* --- Interval sets ------------------------------------------------------- */

size_t ivset_first_after(const struct ivset *set, uint64_t s)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->v[mid].end <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ivset_add(struct ivset *set, uint64_t s, uint64_t e)
{
	size_t k;

	if (s >= e)
		return 0;
	/* Fast path: appending at or after the last interval. */
	if (set->n && set->v[set->n - 1].end >= s && set->v[set->n - 1].start <= s) {
		if (e > set->v[set->n - 1].end)
			set->v[set->n - 1].end = e;
		return 0;
	}
	/* The first interval that reaches s (touching it merges). */
	k = s ? ivset_first_after(set, s - 1) : 0;
	if (k < set->n && set->v[k].start <= e) {
		size_t j = k;

		if (s < set->v[k].start)
			set->v[k].start = s;
		while (j + 1 < set->n && set->v[j + 1].start <= e)
			j++;
		if (set->v[j].end > e)
			e = set->v[j].end;
		set->v[k].end = e;
		memmove(&set->v[k + 1], &set->v[j + 1], (set->n - j - 1) * sizeof(*set->v));
		set->n -= j - k;
		return 0;
	}
	if (lp_grow(&set->v, set->n, &set->cap, sizeof(*set->v), 4))
		return -ENOMEM;
	memmove(&set->v[k + 1], &set->v[k], (set->n - k) * sizeof(*set->v));
	set->v[k] = (struct iv){ s, e };
	set->n++;
	return 0;
}

void ivset_free(struct ivset *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* --- Building: pieces while the capture is read ----------------------------- */

static int ext_push(struct lp_extent **v, size_t *n, size_t *cap, struct lp_extent x)
{
	if (lp_grow(v, *n, cap, sizeof(**v), 8))
		return -ENOMEM;
	(*v)[(*n)++] = x;
	return 0;
}

/* A new piece: bytes at p with sequence number seq; joined to the last one
 * when the capture holds both contiguously. */
static int piece_add(struct sbuf *sb, uint32_t seq, const uint8_t *p, uint64_t n)
{
	struct lp_extent *last = sb->npc ? &sb->pc[sb->npc - 1] : NULL;

	if (last && sb->sorted)
		sb->sorted = seqdiff(seq, last->off) > 0;
	if (last && last->off + last->len == seq && last->p + last->len == p) {
		last->len += (uint32_t)n;
		return 0;
	}
	return ext_push(&sb->pc, &sb->npc, &sb->cappc, (struct lp_extent){ seq, (uint32_t)n, p });
}

/* Captured bytes [s, s + n) from the base: pieces for what no packet held
 * yet, the whole packet aside for comparison when some byte was held. */
static int sbuf_cover(struct sbuf *sb, uint32_t seq, uint64_t s, const uint8_t *p, uint64_t n)
{
	uint64_t pos = s, e = s + n;
	bool overlap = false;
	int rc;

	if (!sb->npc)
		sb->sorted = true;
	for (size_t k = ivset_first_after(&sb->cov, s); k < sb->cov.n && pos < e; k++) {
		const struct iv *v = &sb->cov.v[k];

		if (v->start >= e)
			break;
		if (v->start > pos) {
			rc = piece_add(sb, seq + (uint32_t)(pos - s), p + (pos - s), v->start - pos);
			if (rc)
				return rc;
		}
		overlap = true;
		if (v->end > pos)
			pos = v->end;
	}
	if (pos < e) {
		rc = piece_add(sb, seq + (uint32_t)(pos - s), p + (pos - s), e - pos);
		if (rc)
			return rc;
	}
	if (overlap && ext_push(&sb->dup, &sb->ndup, &sb->capdup, (struct lp_extent){ seq, (uint32_t)n, p }))
		return -ENOMEM;
	return ivset_add(&sb->cov, s, e);
}

int sbuf_place(struct sbuf *sb, uint32_t seq, const uint8_t *p, uint32_t caplen, uint32_t len,
	       uint64_t gap_max, uint64_t *budget)
{
	int64_t rel;
	uint64_t gap = 0;

	if (!sb->have_base) {
		sb->have_base = true;
		sb->base = seq;
	}
	rel = seqdiff(seq, sb->base);
	if (rel < 0)
		gap = (uint64_t)-rel;
	else if ((uint64_t)rel > sb->len)
		gap = (uint64_t)rel - sb->len;
	if (gap > gap_max || gap > *budget || sb->len + gap + len > LP_STREAM_MAX)
		return 1;
	/* Without payload nothing is held; a FIN's offset is checked the same way. */
	if (!len)
		return 0;
	*budget -= gap;
	if (rel < 0) {
		/* Earlier bytes: the base moves down, the intervals up. */
		for (size_t i = 0; i < sb->cov.n; i++) {
			sb->cov.v[i].start += (uint64_t)-rel;
			sb->cov.v[i].end += (uint64_t)-rel;
		}
		sb->len += (uint64_t)-rel;
		sb->base = seq;
		rel = 0;
	}
	if ((uint64_t)rel + len > sb->len)
		sb->len = (uint64_t)rel + len;
	/* Bytes past the snap length are not held: holes. */
	return caplen ? sbuf_cover(sb, seq, (uint64_t)rel, p, caplen) : 0;
}

static int piece_order(const void *a, const void *b, void *base)
{
	int64_t x = seqdiff(((const struct lp_extent *)a)->off, *(const uint32_t *)base);
	int64_t y = seqdiff(((const struct lp_extent *)b)->off, *(const uint32_t *)base);

	return x < y ? -1 : x > y;
}

static void sbuf_sort(struct sbuf *sb)
{
	if (!sb->sorted && sb->npc > 1)
		lp_sort_nearly(sb->pc, sb->npc, sizeof(*sb->pc), piece_order, &sb->base);
	sb->sorted = true;
}

/* The first piece that ends past rel (pieces sorted, relative to the base). */
static size_t piece_find(const struct sbuf *sb, int64_t rel)
{
	size_t lo = 0, hi = sb->npc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct lp_extent *x = &sb->pc[mid];

		if (seqdiff(x->off, sb->base) + (int64_t)x->len <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void sbuf_conflicts(struct sbuf *sb)
{
	sbuf_sort(sb);
	for (size_t i = 0; i < sb->ndup; i++) {
		const struct lp_extent *d = &sb->dup[i];
		int64_t s = seqdiff(d->off, sb->base), e = s + d->len;

		for (size_t k = piece_find(sb, s); k < sb->npc; k++) {
			const struct lp_extent *x = &sb->pc[k];
			int64_t xs = seqdiff(x->off, sb->base), xe = xs + x->len;
			int64_t from = xs > s ? xs : s, to = xe < e ? xe : e;

			if (xs >= e)
				break;
			if (from < to && memcmp(x->p + (from - xs), d->p + (from - s), (size_t)(to - from))) {
				sb->conflicts++;
				break;
			}
		}
	}
	free(sb->dup);
	sb->dup = NULL;
	sb->ndup = sb->capdup = 0;
}

static int hole_add(struct lp_stream *st, uint64_t off, uint64_t len)
{
	struct lp_hole *nh = realloc(st->holes, (st->nholes + 1) * sizeof(*nh));

	if (!nh)
		return -ENOMEM;
	st->holes = nh;
	st->holes[st->nholes++] = (struct lp_hole){ off, len };
	st->hole_bytes += len;
	return 0;
}

/* The pieces as offsets from the base, clipped to [0, len), in order. */
static void pieces_clip(struct sbuf *sb, uint64_t len)
{
	size_t w = 0;

	sb->sorted = true;
	for (size_t i = 0; i < sb->npc; i++) {
		struct lp_extent x = sb->pc[i];
		int64_t s = seqdiff(x.off, sb->base), e = s + x.len;

		if (s < 0) {
			x.p += -s;
			s = 0;
		}
		if (e > (int64_t)len)
			e = (int64_t)len;
		if (s >= e)
			continue;
		x.off = (uint32_t)s;
		x.len = (uint32_t)(e - s);
		if (w && sb->pc[w - 1].off >= x.off)
			sb->sorted = false;
		sb->pc[w++] = x;
	}
	sb->npc = w;
	if (!sb->sorted && w > 1) {
		uint32_t zero = 0;

		lp_sort_nearly(sb->pc, sb->npc, sizeof(*sb->pc), piece_order, &zero);
	}
}

int sbuf_finish(struct sbuf *sb, uint64_t len, struct lp_stream *st)
{
	struct lp_extent *ext = NULL;
	size_t n = 0, cap = 0;
	uint64_t pos = 0;
	int rc = 0;

	pieces_clip(sb, len);
	for (size_t i = 0; i < sb->npc && !rc; i++) {
		if (sb->pc[i].off > pos)
			rc = hole_add(st, pos, sb->pc[i].off - pos);
		pos = (uint64_t)sb->pc[i].off + sb->pc[i].len;
	}
	if (!rc && pos < len)
		rc = hole_add(st, pos, len - pos);
	if (rc)
		return rc;
	if (!st->nholes && sb->npc) {
		/* The pieces are the extents; give back their spare room. */
		ext = realloc(sb->pc, sb->npc * sizeof(*ext));
		if (!ext)
			ext = sb->pc;
		sb->pc = NULL;
		n = sb->npc;
	} else if (st->nholes) {
		size_t h = 0;

		cap = sb->npc + st->nholes;
		ext = malloc(cap * sizeof(*ext));
		if (!ext)
			return -ENOMEM;
		for (size_t i = 0; i <= sb->npc; i++) {
			if (h < st->nholes && (i == sb->npc || st->holes[h].offset < sb->pc[i].off)) {
				ext[n++] = (struct lp_extent){ (uint32_t)st->holes[h].offset,
							       (uint32_t)st->holes[h].len, NULL };
				h++;
			}
			if (i < sb->npc)
				ext[n++] = sb->pc[i];
		}
	}
	st->ext = ext;
	st->next = n;
	st->len = len;
	sbuf_free(sb);
	return 0;
}

void sbuf_free(struct sbuf *sb)
{
	free(sb->pc);
	free(sb->dup);
	ivset_free(&sb->cov);
	memset(sb, 0, sizeof(*sb));
}

/* --- Reading ------------------------------------------------------------- */

/* The extent holding off (off < st->len). */
static size_t ext_find(const struct lp_stream *st, uint64_t off)
{
	size_t lo = 0, hi = st->next;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uint64_t)st->ext[mid].off + st->ext[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const uint8_t *lp_stream_at(const struct lp_stream *st, uint64_t off, uint64_t *n)
{
	size_t k;
	const struct lp_extent *x;

	*n = 0;
	if (off >= st->len)
		return NULL;
	k = ext_find(st, off);
	if (k == st->next)
		return NULL;
	x = &st->ext[k];
	*n = (uint64_t)x->off + x->len - off;
	if (off + *n > st->len)
		*n = st->len - off;
	return x->p ? x->p + (off - x->off) : NULL;
}

void lp_stream_copy(const struct lp_stream *st, uint64_t off, uint64_t n, uint8_t *dst)
{
	while (n) {
		uint64_t run;
		const uint8_t *p = lp_stream_at(st, off, &run);

		if (!run) {
			memset(dst, 0, n);
			return;
		}
		if (run > n)
			run = n;
		if (p)
			memcpy(dst, p, run);
		else
			memset(dst, 0, run);
		dst += run;
		off += run;
		n -= run;
	}
}

int64_t lp_stream_diff(const struct lp_stream *st, uint64_t off, const uint8_t *p, uint64_t n)
{
	while (n) {
		uint64_t run;
		const uint8_t *s = lp_stream_at(st, off, &run);

		if (!run)
			return (int64_t)off;
		if (run > n)
			run = n;
		if (s && memcmp(s, p, run)) {
			for (uint64_t i = 0;; i++)
				if (s[i] != p[i])
					return (int64_t)(off + i);
		}
		p += run;
		off += run;
		n -= run;
	}
	return -1;
}

static int write_all(int fd, const uint8_t *p, uint64_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : (size_t)n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (uint64_t)w;
	}
	return 0;
}

int lp_stream_write(const struct lp_stream *st, const char *path)
{
	static const uint8_t zeros[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return -errno;
	for (uint64_t off = 0, run; off < st->len && !rc; off += run) {
		const uint8_t *p = lp_stream_at(st, off, &run);

		/* A hole, or (for a stream whose extents stop short) the rest. */
		if (!p && (!run || run > sizeof(zeros)))
			run = st->len - off < sizeof(zeros) ? st->len - off : sizeof(zeros);
		rc = write_all(fd, p ? p : zeros, run);
	}
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

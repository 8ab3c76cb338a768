/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hand-built flows for the engine and simulation tests. */
#ifndef TCPLIVEPLAY_TESTFLOW_H
#define TCPLIVEPLAY_TESTFLOW_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/flow.h"

#define TF_MAXSEG 8192

struct tflow {
	struct lp_flow fl;
	struct lp_segment segs[TF_MAXSEG];
	uint64_t cap[2];
	uint64_t ts;
	uint8_t *bytes[2];          /* each stream's bytes: one extent */
	struct lp_extent ext[2];
};

/* A flow between 198.18.0.1:40000 and 198.18.0.2:80 (or 2001:db8::1/2),
 * both sides offering MSS 1460, wscale 7, SACK and timestamps. */
static inline struct tflow *tf_new(int family, uint64_t cbytes, uint64_t sbytes)
{
	struct tflow *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->fl.id = 1;
	t->fl.client.family = t->fl.server.family = family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "198.18.0.1", t->fl.client.addr);
		inet_pton(AF_INET, "198.18.0.2", t->fl.server.addr);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", t->fl.client.addr);
		inet_pton(AF_INET6, "2001:db8::2", t->fl.server.addr);
	}
	t->fl.client.port = 40000;
	t->fl.server.port = 80;
	t->cap[0] = cbytes;
	t->cap[1] = sbytes;
	for (int d = 0; d < 2; d++) {
		struct lp_stream *s = &t->fl.dir[d];

		t->bytes[d] = calloc(1, t->cap[d] ? t->cap[d] : 1);
		if (!t->bytes[d])
			abort();
		for (uint64_t i = 0; i < t->cap[d]; i++)
			t->bytes[d][i] = (uint8_t)((i * 7 + (i >> 8) + (uint64_t)d * 13) & 0xff);
		t->ext[d] = (struct lp_extent){ 0, (uint32_t)t->cap[d], t->bytes[d] };
		s->ext = &t->ext[d];
		s->next = 1;
		s->syn = true;
		s->isn_from_syn = true;
		s->opts.seen = true;
		s->opts.has_mss = true;
		s->opts.mss = 1460;
		s->opts.has_wscale = true;
		s->opts.wscale = 7;
		s->opts.sack_ok = true;
		s->opts.has_ts = true;
		s->opts.window = 64240;
	}
	t->fl.segs = t->segs;
	t->ts = 1000000000ull;
	t->fl.first_ts = t->ts;
	return t;
}

/* Append a segment of dir: len bytes (0 for FIN/RST only), having seen all
 * the peer's bytes so far unless ack is given (>= 0). */
static inline void tf_seg(struct tflow *t, int dir, uint32_t len, uint8_t flags, int64_t ack)
{
	struct lp_segment *g = &t->segs[t->fl.nsegs++];
	struct lp_stream *s = &t->fl.dir[dir];

	if (t->fl.nsegs > TF_MAXSEG || s->len + len > t->cap[dir])
		abort();
	t->ts += 1000000;
	g->ts_ns = t->ts;
	g->offset = s->len;
	g->ack = ack >= 0 ? (uint64_t)ack : t->fl.dir[1 - dir].len;
	g->len = len;
	g->dir = (uint8_t)dir;
	g->flags = (uint8_t)(flags | 0x10);
	g->packet = (uint32_t)t->fl.nsegs;
	if (len) {
		g->label = ++t->fl.ndata[dir];
		s->data_packets++;
	}
	s->len += len;
	s->packets++;
	if (flags & 0x01)
		s->fin = true;
	if (flags & 0x04)
		s->rst = true;
	t->fl.last_ts = t->ts;
}

/* Several segments of dir totalling n bytes, at most mss each. */
static inline void tf_data(struct tflow *t, int dir, uint64_t n, uint32_t mss)
{
	while (n) {
		uint32_t l = n > mss ? mss : (uint32_t)n;

		tf_seg(t, dir, l, 0x08, -1);
		n -= l;
	}
}

static inline void tf_free(struct tflow *t)
{
	if (!t)
		return;
	free(t->bytes[0]);
	free(t->bytes[1]);
	free(t);
}

#endif

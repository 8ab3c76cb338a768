/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target over the capture reader and the flow builder. The input is
 * read as a whole capture (pcap or pcapng, any interfaces, or gzip, xz or zstd
 * data, decompression bounded small here), every flow then walked and checked
 * against the flow model's contracts; one pcap or pcapng input in 32 is
 * also compressed (the codec chosen by its size) and must read the same. And as
 * one frame for lp_parse_frame(), its first byte choosing the link type.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/pcapgen.h"
#include "../tests/streambytes.h"
#include "tcpliveplay/capfile.h"
#include "tcpliveplay/capture.h"
#include "tcpliveplay/flow.h"

/* Small, so that a bomb is found fast: 4 MiB, or 64 times the input. */
static const struct lp_inflate_limit limit = { 4u << 20, 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken contract is a crash for the fuzzer to keep. */
static void require(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_capture: contract broken: %s\n", what);
	abort();
}

static void on_warning(void *ctx, uint32_t packet, const char *what)
{
	unsigned *n = ctx;

	require(what != NULL && what[0] != '\0', "a warning without text");
	require(packet >= 1, "a warning for packet 0");
	(*n)++;
}

static void check_stream(const struct lp_stream *st)
{
	uint64_t end = 0, bytes = 0, run;
	volatile uint8_t sink = 0;
	const char *wrong = stream_extents_wrong(st);
	const uint8_t *p;

	require(!wrong, wrong ? wrong : "");
	/* Every byte held is readable: the first and the last of each extent. */
	for (size_t k = 0; k < st->next; k++) {
		const struct lp_extent *x = &st->ext[k];

		if (x->p) {
			sink ^= x->p[0];
			sink ^= x->p[x->len - 1];
		}
	}
	require(st->data_packets <= st->packets, "more data packets than packets");
	for (size_t k = 0; k < st->nholes; k++) {
		const struct lp_hole *h = &st->holes[k];

		require(h->len > 0, "an empty hole");
		require(h->offset >= end, "holes overlap or go backwards");
		require(h->offset <= st->len && h->len <= st->len - h->offset, "a hole past the stream end");
		end = h->offset + h->len;
		bytes += h->len;
		p = lp_stream_at(st, h->offset, &run);
		require(!p && run == h->len, "a hole does not read as one");
	}
	require(bytes == st->hole_bytes, "hole_bytes is not the sum of the holes");
	(void)sink;
}

static void check_schedule(const struct lp_flow *fl)
{
	uint64_t reached[2] = { 0, 0 }, lastack[2] = { 0, 0 }, next[2] = { 0, 0 };
	uint32_t label[2] = { 0, 0 };

	require(fl->nsegs == 0 || fl->segs != NULL, "segments missing");
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];
		int d = s->dir;

		require(d == LP_C2S || d == LP_S2C, "a segment without a direction");
		if (s->len) {
			require(s->label == ++label[d], "data labels are not 1, 2, ... per direction");
			require(s->offset >= next[d], "data segments out of stream order or overlapping");
			next[d] = s->offset + s->len;
			require(next[d] <= fl->dir[d].len, "a data segment past the stream end");
		} else {
			require(s->label == 0, "a label on a segment without data");
		}
		require(s->ack <= reached[!d], "a segment acknowledges bytes the peer had not sent");
		require(s->ack >= lastack[d], "acknowledgements go backwards");
		lastack[d] = s->ack;
		if (s->offset + s->len > reached[d])
			reached[d] = s->offset + s->len;
		if ((s->flags & LP_TH_FIN) && s->offset + s->len + 1 > reached[d])
			reached[d] = s->offset + s->len + 1;
	}
	require(label[LP_C2S] == fl->ndata[LP_C2S] && label[LP_S2C] == fl->ndata[LP_S2C],
		"ndata is not the last label");
}

/* Many-flow selections: "all" is every flow in order; a list names exactly
 * its flows. */
static void check_lists(const struct lp_flows *flows, size_t n)
{
	const struct lp_flow **v = NULL;
	size_t k = 0;
	char sel[64];
	int rc;

	rc = lp_flows_select_many(flows, "all", &v, &k);
	require(rc == (n ? 0 : -ENODATA), "selecting all");
	require(rc || k == n, "all is not every flow");
	for (size_t i = 0; !rc && i < k; i++)
		require(v[i] == lp_flows_get(flows, (unsigned)i + 1), "all out of order");
	free(v);
	if (n < 2)
		return;
	snprintf(sel, sizeof(sel), "%zu,1-%zu", n, n / 2);
	rc = lp_flows_select_many(flows, sel, &v, &k);
	require(rc == 0 && k == n / 2 + (n / 2 < n), "a list's flows");
	for (size_t i = 1; i < k; i++)
		require(v[i - 1]->id < v[i]->id, "a list out of order");
	free(v);
	snprintf(sel, sizeof(sel), "1-%zu", n + 1);
	require(lp_flows_select_many(flows, sel, &v, &k) == -ENOENT && v == NULL, "a list past the end");
}

static void walk_flows(const struct lp_flows *flows)
{
	const struct lp_capture_stats *st = lp_flows_stats(flows);
	size_t n = lp_flows_count(flows);
	const struct lp_flow *fl;
	int rc;

	require(st->tcp + st->other + st->fragments + st->malformed + st->unread == st->packets,
		"packet counters do not add up");
	require(st->damaged_at == 0 || (st->damaged_at == st->packets + 1 && st->damage[0]),
		"damage not just after the packets read, or without a reason");
	require(st->linktype_name[0] && (st->unread == 0) == (st->unread_names[0] == '\0'),
		"link type names");
	rc = lp_flows_select(flows, NULL, &fl);
	require(rc == (n == 0 ? -ENODATA : n == 1 ? 0 : -ENOTUNIQ), "selecting without a selector");
	require(lp_flows_get(flows, 0) == NULL && lp_flows_get(flows, (unsigned)n + 1) == NULL,
		"a flow outside 1..count");
	check_lists(flows, n);
	for (unsigned id = 1; id <= n; id++) {
		char sel[160], a[80], b[80], notes[256], tiny[8];
		const struct lp_flow *by_tuple;
		enum lp_dir dir;
		struct lp_hole hole;
		uint32_t pkts;

		fl = lp_flows_get(flows, id);
		require(fl != NULL && fl->id == id, "flow numbering");
		snprintf(sel, sizeof(sel), "%u", id);
		require(lp_flows_select(flows, sel, &by_tuple) == 0 && by_tuple == fl, "select by number");

		lp_endpoint_str(&fl->client, a, sizeof(a));
		lp_endpoint_str(&fl->server, b, sizeof(b));
		lp_endpoint_str(&fl->client, tiny, sizeof(tiny));
		snprintf(sel, sizeof(sel), "%s-%s", b, a);
		rc = lp_flows_select(flows, sel, &by_tuple);
		/* A reused 4-tuple names several flows: the selector is refused. */
		require(rc == 0 || rc == -EADDRINUSE, "select by the flow's own 4-tuple");
		require(rc != 0 || by_tuple == fl, "select by 4-tuple found another flow");

		lp_flow_notes_str(fl->notes, notes, sizeof(notes));
		lp_flow_notes_str(fl->notes, tiny, sizeof(tiny));
		lp_flow_notes_str(fl->notes, tiny, 0);
		require((notes[0] == '\0') == (fl->notes == 0), "notes string");

		pkts = fl->dir[LP_C2S].packets + fl->dir[LP_S2C].packets;
		require(pkts == fl->packets, "packets by direction do not add up");
		check_stream(&fl->dir[LP_C2S]);
		check_stream(&fl->dir[LP_S2C]);
		check_schedule(fl);
		if (lp_flow_first_hole(fl, &dir, &hole))
			require(fl->dir[dir].nholes && fl->dir[dir].holes[0].offset == hole.offset &&
					(dir == LP_C2S || fl->dir[LP_C2S].nholes == 0),
				"first hole");
		else
			require(!fl->dir[LP_C2S].nholes && !fl->dir[LP_S2C].nholes, "a hole not reported");
	}
}

/* Load the capture in data; NULL when refused (with a message). */
static struct lp_flows *load(const uint8_t *data, size_t size, int *rc)
{
	char err[512] = "";
	struct lp_capture *cap = NULL;
	struct lp_flows *flows = NULL;
	unsigned warnings = 0;

	*rc = lp_capture_open_mem(data, size, &limit, &cap, err, sizeof(err));
	if (*rc) {
		require(*rc < 0 && cap == NULL && err[0] != '\0', "a failed open without a message");
		return NULL;
	}
	*rc = lp_flows_load_capture(cap, on_warning, &warnings, &flows, err, sizeof(err));
	if (*rc) {
		require(*rc < 0 && flows == NULL && err[0] != '\0', "a failed load without a message");
		return NULL;
	}
	require(warnings == lp_flows_stats(flows)->malformed + lp_flows_stats(flows)->fragments,
		"warnings do not match the skipped packets");
	walk_flows(flows);
	return flows;
}

/* The same capture compressed reads the same. */
static void fuzz_compressed(const uint8_t *data, size_t size, const struct lp_flows *plain, int plain_rc)
{
	enum pg_comp kind = (enum pg_comp)(size / 32 % PG_NCOMP);
	const struct lp_capture_stats *a, *b;
	struct lp_flows *flows;
	size_t zn;
	uint8_t *z = pg_compress(kind, data, size, &zn);
	int rc;

	if (!z)
		return;
	flows = load(z, zn, &rc);
	require((flows == NULL) == (plain == NULL) && rc == plain_rc, "compressed, it loads otherwise");
	if (flows) {
		a = lp_flows_stats(plain);
		b = lp_flows_stats(flows);
		require(a->packets == b->packets && a->damaged_at == b->damaged_at &&
				lp_flows_count(plain) == lp_flows_count(flows) && !strcmp(a->damage, b->damage),
			"compressed, it reads otherwise");
	}
	lp_flows_free(flows);
	free(z);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	struct lp_flows *flows;
	int rc;

	if (!size)
		return;
	flows = load(data, size, &rc);
	/* pcap (either order, any variant) or pcapng: not compressed already.
	 * Compressing takes time (2 ms): one input in 32. */
	if (size <= 65536 && size % 32 == 0 && memchr("\xd4\xa1\x4d\x34\x0a", data[0], 5))
		fuzz_compressed(data, size, flows, rc);
	lp_flows_free(flows);
}

/* Link types to parse a frame as, chosen by the input's first byte; the last
 * is not supported and must be refused. */
static const int dlts[] = {
	DLT_EN10MB, DLT_RAW, 228 /* IPV4 */, 229 /* IPV6 */, DLT_NULL, DLT_LOOP,
	DLT_LINUX_SLL, 276 /* LINUX_SLL2 */, DLT_USER0,
};

static void fuzz_frame(uint8_t pick, const uint8_t *p, size_t size)
{
	int dlt = dlts[pick % (sizeof(dlts) / sizeof(dlts[0]))];
	uint32_t caplen = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	struct lp_rawpkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	lp_parse_frame(dlt, p, caplen, &pkt);
	require(pkt.kind >= LP_PKT_TCP && pkt.kind <= LP_PKT_BAD, "a frame without a kind");
	if (pkt.kind == LP_PKT_BAD || pkt.kind == LP_PKT_FRAGMENT)
		require(pkt.why != NULL && pkt.why[0] != '\0', "a bad frame without a reason");
	if (!lp_linktype_supported(dlt))
		require(pkt.kind == LP_PKT_BAD, "an unsupported link type was parsed");
	if (pkt.kind == LP_PKT_TCP) {
		const struct lp_tcppkt *t = &pkt.tcp;

		require(t->caplen <= t->len, "more payload captured than sent");
		require((t->caplen == 0) == (t->payload == NULL), "payload pointer and length disagree");
		if (t->caplen)
			require(t->payload >= p && t->payload + t->caplen <= p + caplen,
				"payload outside the frame");
		require(t->opts.nsack <= LP_MAX_SACK, "too many SACK blocks");
	}
	memset(&pkt, 0, sizeof(pkt));
	lp_parse_ip(p, caplen, &pkt);
	if (pkt.kind == LP_PKT_TCP && pkt.tcp.caplen)
		require(pkt.tcp.payload >= p && pkt.tcp.payload + pkt.tcp.caplen <= p + caplen,
			"IP payload outside the packet");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file(data, size);
	if (size)
		fuzz_frame(data[0], data + 1, size - 1);
	return 0;
}

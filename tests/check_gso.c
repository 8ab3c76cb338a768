/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Segmentation offload: a super-segment holds the pseudo-header sum in its
 * checksum field (CHECKSUM_PARTIAL) and is cut into the wire segments Linux's
 * GSO makes of it; the virtio_net_hdr a packet socket sends with it; the
 * engine's super-segments carry the wire segments it sends one by one
 * (same sequence numbers, payload, options, timestamps), retransmissions and
 * segments with SACK blocks stay plain; --write records wire segments.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_harness.h"
#include "tcpliveplay/bytes.h"
#include "tcpliveplay/link_packet.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/pkt.h"
#include "tmpdir.h"

#define SEG 1448
#define PAYLOAD (3 * SEG + 100)

static uint8_t payload[PAYLOAD];

static void seg_init(struct lp_seg *s, int family)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	inet_pton(family, family == AF_INET ? "198.18.0.1" : "2001:db8::1", s->src);
	inet_pton(family, family == AF_INET ? "198.18.0.2" : "2001:db8::2", s->dst);
	s->sport = 40000;
	s->dport = 9000;
	s->seq = 0xfffff000u;   /* wraps inside the super-segment */
	s->ack = 0x12345678u;
	s->flags = LP_TH_ACK | LP_TH_PSH | LP_TH_FIN | LP_TH_CWR;
	s->window = 502;
	s->opts.has_ts = true;
	s->opts.tsval = 1000;
	s->opts.tsecr = 77;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 131 + 7);
	s->payload = payload;
	s->len = sizeof(payload);
}

/* The pseudo-header's one's-complement sum for a TCP segment of tcplen
 * bytes, written out by hand (RFC 9293 3.1, RFC 8200 8.1). */
static uint32_t pseudo(int family, const uint8_t *src, const uint8_t *dst, size_t tcplen)
{
	uint8_t ph[40];
	size_t alen = family == AF_INET ? 4 : 16, n;

	memset(ph, 0, sizeof(ph));
	memcpy(ph, src, alen);
	memcpy(ph + alen, dst, alen);
	if (family == AF_INET) {
		ph[9] = 6;
		lp_put16(ph + 10, (uint16_t)tcplen);
		n = 12;
	} else {
		lp_put32(ph + 32, (uint32_t)tcplen);
		ph[39] = 6;
		n = 40;
	}
	return lp_csum_add(0, ph, n);
}

/* 1: the checksum field of a super-segment holds the pseudo-header sum of
 * its whole TCP length, not complemented: summing the segment with it in
 * place gives the checksum a plain packet carries. */
START_TEST(test_partial_sum)
{
	int fam = _i ? AF_INET6 : AF_INET;
	size_t l4 = fam == AF_INET ? 20 : 40, tcplen;
	uint8_t buf[8192], plain[8192];
	struct lp_seg s;
	struct lp_gso g;
	int n, m;

	seg_init(&s, fam);
	n = lp_pkt_build_gso(buf, sizeof(buf), &s, SEG, &g);
	m = lp_pkt_build(plain, sizeof(plain), &s);
	ck_assert_int_eq(n, m);
	ck_assert_uint_eq(g.seg_len, SEG);
	ck_assert_uint_eq(g.l4_off, l4);
	ck_assert_uint_eq(g.hdr_len, l4 + 20 + 12);
	/* Headers and payload are the plain packet's; only the checksum differs. */
	ck_assert_mem_eq(buf, plain, l4 + 16);
	ck_assert_mem_eq(buf + l4 + 18, plain + l4 + 18, (size_t)n - l4 - 18);
	tcplen = (size_t)n - l4;
	ck_assert_uint_eq(lp_get16(buf + l4 + 16), (uint16_t)~lp_csum_fold(pseudo(fam, s.src, s.dst, tcplen)));
	ck_assert_uint_eq(lp_csum_fold(lp_csum_add(0, buf + l4, tcplen)), lp_get16(plain + l4 + 16));
	/* No segment size, no super-segment. */
	ck_assert_int_eq(lp_pkt_build_gso(buf, sizeof(buf), &s, 0, &g), -EINVAL);
	ck_assert_int_eq(lp_pkt_build_gso(buf, 100, &s, SEG, &g), -ENOBUFS);
}
END_TEST

/* 2: each wire segment is what a plain packet of its bytes would be: the
 * sequence number advanced (across the wrap), its own lengths and
 * checksums, PSH and FIN on the last only, CWR on the first only, and over
 * IPv4 the packet's ID plus its index (Linux's inet_gso_segment()). */
START_TEST(test_segments)
{
	int fam = _i ? AF_INET6 : AF_INET;
	size_t l4 = fam == AF_INET ? 20 : 40;
	uint8_t buf[8192], seg[2048], want[2048];
	struct lp_seg s, p;
	struct lp_gso g;
	unsigned i;
	int n, m, k;

	seg_init(&s, fam);
	n = lp_pkt_build_gso(buf, sizeof(buf), &s, SEG, &g);
	ck_assert_uint_eq(lp_gso_count((size_t)n, &g), 4);
	for (i = 0; (m = lp_gso_segment(buf, (size_t)n, &g, i, seg, sizeof(seg))) > 0; i++) {
		size_t len = i < 3 ? SEG : 100, tcplen = (size_t)m - l4;

		ck_assert_uint_eq((size_t)m, g.hdr_len + len);
		/* Valid checksums, computed here from the bytes. */
		ck_assert_uint_eq(lp_csum_fold(lp_csum_add(pseudo(fam, s.src, s.dst, tcplen), seg + l4, tcplen)), 0);
		if (fam == AF_INET) {
			ck_assert_uint_eq(lp_csum_fold(lp_csum_add(0, seg, 20)), 0);
			ck_assert_uint_eq(lp_get16(seg + 4), i);
		}
		ck_assert_int_eq(lp_pkt_parse(seg, (size_t)m, &p), 0);
		ck_assert_uint_eq(p.seq, s.seq + i * SEG);
		ck_assert_uint_eq(p.len, len);
		ck_assert_mem_eq(p.payload, payload + i * SEG, len);
		ck_assert_uint_eq(p.flags, i == 3 ? (LP_TH_ACK | LP_TH_PSH | LP_TH_FIN) :
					   i == 0 ? (LP_TH_ACK | LP_TH_CWR) : LP_TH_ACK);
		ck_assert(p.opts.has_ts && p.opts.tsval == 1000 && p.opts.tsecr == 77);
		/* Byte for byte the plain packet of the same fields. */
		p = s;
		p.seq = s.seq + i * SEG;
		p.payload = payload + i * SEG;
		p.len = (uint32_t)len;
		p.flags = i == 3 ? (LP_TH_ACK | LP_TH_PSH | LP_TH_FIN) : i == 0 ? (LP_TH_ACK | LP_TH_CWR) : LP_TH_ACK;
		k = lp_pkt_build(want, sizeof(want), &p);
		ck_assert_int_eq(k, m);
		if (fam == AF_INET) {
			lp_put16(want + 4, (uint16_t)i);
			lp_put16(want + 10, 0);
			lp_put16(want + 10, lp_csum_fold(lp_csum_add(0, want, 20)));
		}
		ck_assert_mem_eq(seg, want, (size_t)m);
	}
	ck_assert_uint_eq(i, 4);
	ck_assert_int_eq(m, 0);
	/* Bounds: a buffer too small, a description that does not fit. */
	ck_assert_int_eq(lp_gso_segment(buf, (size_t)n, &g, 0, seg, 100), -ENOBUFS);
	g.hdr_len = (uint16_t)(n + 1);
	ck_assert_int_eq(lp_gso_segment(buf, (size_t)n, &g, 0, seg, sizeof(seg)), -EINVAL);
	g.hdr_len = (uint16_t)(l4 + 32);
	g.l4_off = (uint16_t)(l4 + 4);
	ck_assert_int_eq(lp_gso_segment(buf, (size_t)n, &g, 0, seg, sizeof(seg)), -EINVAL);
	/* A plain packet is its own only segment. */
	g.seg_len = 0;
	ck_assert_uint_eq(lp_gso_count((size_t)n, &g), 1);
	m = lp_pkt_build(want, sizeof(want), &p);
	ck_assert_int_eq(lp_gso_segment(want, (size_t)m, &g, 0, seg, sizeof(seg)), m);
	ck_assert_mem_eq(seg, want, (size_t)m);
	ck_assert_int_eq(lp_gso_segment(want, (size_t)m, &g, 1, seg, sizeof(seg)), 0);
}
END_TEST

/* 3: the virtio_net_hdr of a super-segment behind a 14-byte Ethernet
 * header: TCPv4 or TCPv6 GSO, the wire segment's payload size, headers up
 * to the end of TCP's options, NEEDS_CSUM from the TCP header with the
 * checksum at 16. A plain packet's is all zero. */
START_TEST(test_vnet_hdr)
{
	int fam = _i ? AF_INET6 : AF_INET;
	size_t l4 = fam == AF_INET ? 20 : 40;
	static const struct virtio_net_hdr zero;
	struct virtio_net_hdr vh;
	uint8_t buf[8192];
	struct lp_seg s;
	struct lp_gso g;

	seg_init(&s, fam);
	ck_assert_int_gt(lp_pkt_build_gso(buf, sizeof(buf), &s, SEG, &g), 0);
	lp_link_packet_vnet(&vh, 14, buf, &g);
	ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(vh.gso_type, fam == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6);
	ck_assert_uint_eq(vh.gso_size, SEG);
	ck_assert_uint_eq(vh.hdr_len, 14 + l4 + 32);
	ck_assert_uint_eq(vh.csum_start, 14 + l4);
	ck_assert_uint_eq(vh.csum_offset, 16);
	/* Raw IP (no link header): the same from offset 0. */
	lp_link_packet_vnet(&vh, 0, buf, &g);
	ck_assert_uint_eq(vh.csum_start, l4);
	ck_assert_uint_eq(vh.hdr_len, l4 + 32);
	lp_link_packet_vnet(&vh, 14, buf, NULL);
	ck_assert_mem_eq(&vh, &zero, sizeof(vh));
	g.seg_len = 0;
	lp_link_packet_vnet(&vh, 14, buf, &g);
	ck_assert_mem_eq(&vh, &zero, sizeof(vh));
}
END_TEST

static struct harness h1, h2;
static const struct lp_tcpopts sack_ts_ws = { .has_mss = true, .mss = 1460, .sack_ok = true,
					      .has_ts = true, .tsval = 5, .has_wscale = true,
					      .wscale = 7 };

/* Client role sending the client bytes of t in super-segments of up to
 * segs (1: plain); every millisecond the peer acknowledges all that came,
 * with a window of 2 MiB. When the client waits for the server's bytes,
 * the peer sends them after 5 s of quiet, longer than the RTO (RFC 5681
 * 4.1's idle restart); returns what the client sent at once then. */
static uint64_t bulk_run(struct harness *h, struct tflow *t, unsigned segs)
{
	uint64_t c = t->fl.dir[LP_C2S].len, s = t->fl.dir[LP_S2C].len, sent = 0, burst = 0;

	h_start(h, t, LP_ROLE_CLIENT);
	h->gso_segs = segs;
	h_new(h);
	h_connect(h, &sack_ts_ws, 65535);
	for (int k = 0; k < 400 && out_bytes(h, 0) < c; k++) {
		h->now += MS;
		h_push(h, LP_TH_ACK, sent, out_bytes(h, 0), 2 << (20 - 7), NULL, 0);
		if (h_pull(h) == 0 && sent < s) {
			size_t mark = h->nout;
			uint32_t l = s - sent > 1000 ? 1000 : (uint32_t)(s - sent);

			h->now += 5000 * MS;
			h_push(h, LP_TH_ACK | LP_TH_PSH, sent, out_bytes(h, 0), 2 << (20 - 7),
			       t->bytes[LP_S2C] + sent, l);
			sent += l;
			h_pull(h);
			burst = out_bytes(h, mark);
		}
	}
	ck_assert_uint_eq(out_bytes(h, 0), c);
	return burst;
}

/* Client C1 of c1 bytes, server S1 of 100, client C2 of c2 bytes. */
static struct tflow *idle_flow(uint32_t c1, uint32_t c2)
{
	struct tflow *t = tf_new(AF_INET, c1 + c2, 100);

	tf_data(t, LP_C2S, c1, 1448);
	tf_seg(t, LP_S2C, 100, LP_TH_PSH, -1);
	tf_data(t, LP_C2S, c2, 1448);
	tf_seg(t, LP_C2S, 0, LP_TH_FIN, -1);
	tf_seg(t, LP_S2C, 0, LP_TH_FIN, -1);
	return t;
}

/* 4: the same wire segments whether the engine sends them one by one or
 * as super-segments cut below it: sequence numbers, lengths, payload,
 * acknowledgment, window, timestamps, flags (PSH aside: only the last of a
 * super-segment's has it); the same counts in the statistics. _i = 1: with
 * an idle spell in the middle, after which the restart window (the initial
 * 10 segments, RFC 5681 4.1) goes, not the cwnd of before. */
START_TEST(test_engine_same_wire)
{
	struct lp_engine_stats st1, st2;
	size_t super_segs = 0;
	uint64_t b1, b2;

	b1 = bulk_run(&h1, _i ? idle_flow(200000, 100000) : simple_flow(300000, 1000), 1);
	b2 = bulk_run(&h2, _i ? idle_flow(200000, 100000) : simple_flow(300000, 1000), 45);
	ck_assert_uint_eq(b1, _i ? 10 * 1448 : 0);
	ck_assert_uint_eq(b2, b1);
	ck_assert_uint_eq(h1.nout, h2.nout);
	for (size_t i = 0; i < h1.nout; i++) {
		const struct lp_seg *a = &h1.out[i], *b = &h2.out[i];

		ck_assert_uint_eq(a->seq, b->seq);
		ck_assert_uint_eq(a->ack, b->ack);
		ck_assert_uint_eq(a->len, b->len);
		ck_assert_uint_eq(a->window, b->window);
		ck_assert_uint_eq(a->flags & ~LP_TH_PSH, b->flags & ~LP_TH_PSH);
		ck_assert_uint_eq(a->opts.tsval, b->opts.tsval);
		ck_assert_uint_eq(a->opts.tsecr, b->opts.tsecr);
		ck_assert_uint_eq(a->opts.nsack, b->opts.nsack);
		ck_assert_mem_eq(a->payload, b->payload, a->len);
		ck_assert_int_le(h2.rawlen[i], 1500);
		super_segs += h2.cut[i];
	}
	/* Most of the stream went in super-segments, of many segments each. */
	ck_assert_uint_gt(super_segs, h2.nout * 3 / 4);
	ck_assert_uint_lt(h2.nsuper * 8, super_segs);
	ck_assert_uint_eq(h1.nsuper, 0);
	lp_engine_stats(h1.e, &st1);
	lp_engine_stats(h2.e, &st2);
	ck_assert_uint_eq(st1.sent_segments, st2.sent_segments);
	ck_assert_uint_eq(st1.sent_bytes, st2.sent_bytes);
	ck_assert_uint_eq(st1.packets_out, st2.packets_out);
	lp_engine_free(h1.e);
	tf_free(h1.t);
	lp_engine_free(h2.e);
	tf_free(h2.t);
}
END_TEST

/* 5: what stays plain with super-segments allowed: a retransmission after
 * an RTO (one segment of at most the MSS, RFC 6298 5.4), and new data while
 * SACK blocks ride in our segments (they make them shorter than the MSS). */
START_TEST(test_engine_plain_cases)
{
	struct harness *h = &h2;
	uint8_t data[1448];
	size_t mark, super;

	h_start(h, simple_flow(200000, 20000), LP_ROLE_CLIENT);
	h->gso_segs = 45;
	h_new(h);
	h_connect(h, &sack_ts_ws, 65535);
	/* The initial window went as one super-segment. */
	ck_assert_uint_eq(h->nsuper, 1);
	ck_assert_uint_eq(out_bytes(h, 0), 10 * 1448);
	mark = h->nout;
	super = h->nsuper;
	h_fire(h);
	h_pull(h);
	ck_assert_uint_eq(h->nout - mark, 1);
	ck_assert_uint_eq(h->out[mark].len, 1448);
	ck_assert_uint_eq(h_off(h, mark), 0);
	ck_assert(!h->cut[mark]);
	ck_assert_uint_eq(h->nsuper, super);
	/* All acknowledged, the peer's second segment arrives before its
	 * first: our new data carries a SACK block and goes one by one. */
	memset(data, 'x', sizeof(data));
	h->now += MS;
	mark = h->nout;
	h_push(h, LP_TH_ACK, 1448, out_bytes(h, 0) - 1448, 2 << (20 - 7), data, sizeof(data));
	h_pull(h);
	ck_assert_uint_gt(h->nout - mark, 2);
	for (size_t i = mark; i < h->nout; i++) {
		ck_assert(!h->cut[i]);
		if (h->out[i].len) {
			ck_assert_uint_eq(h->out[i].opts.nsack, 1);
			ck_assert_uint_eq(h->out[i].len, 1448 - 12);
		}
	}
	ck_assert_uint_eq(h->nsuper, super);
	lp_engine_free(h->e);
	tf_free(h->t);
}
END_TEST

/* 6: --write records a super-segment as its wire segments. */
START_TEST(test_pcapw_records_wire)
{
	char err[PCAP_ERRBUF_SIZE];
	uint8_t buf[8192];
	struct lp_pcapw *w;
	struct lp_seg s, p;
	struct lp_gso g;
	struct pcap_pkthdr *ph;
	const u_char *data;
	pcap_t *rd;
	int n, k = 0;

	seg_init(&s, AF_INET);
	n = lp_pkt_build_gso(buf, sizeof(buf), &s, SEG, &g);
	ck_assert_int_eq(lp_pcapw_open(tpath("w.pcap"), &w, err, sizeof(err)), 0);
	lp_pcapw_write_gso(w, buf, (size_t)n, &g, 1);
	ck_assert_int_eq(lp_pcapw_close(w), 0);
	rd = pcap_open_offline(tpath("w.pcap"), err);
	ck_assert_ptr_nonnull(rd);
	while (pcap_next_ex(rd, &ph, &data) == 1) {
		ck_assert_uint_eq(ph->caplen, g.hdr_len + (k < 3 ? SEG : 100));
		ck_assert_int_eq(lp_pkt_parse(data, ph->caplen, &p), 0);
		ck_assert_uint_eq(p.seq, s.seq + (uint32_t)k * SEG);
		k++;
	}
	pcap_close(rd);
	ck_assert_int_eq(k, 4);
}
END_TEST

Suite *gso_suite(void)
{
	Suite *s = suite_create("gso");
	TCase *tc = tcase_create("core");
	TCase *tw = tcase_create("write");

	tcase_add_loop_test(tc, test_partial_sum, 0, 2);
	tcase_add_loop_test(tc, test_segments, 0, 2);
	tcase_add_loop_test(tc, test_vnet_hdr, 0, 2);
	tcase_add_loop_test(tc, test_engine_same_wire, 0, 2);
	tcase_add_test(tc, test_engine_plain_cases);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(tw, case_setup, case_teardown);
	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_add_test(tw, test_pcapw_records_wire);
	suite_add_tcase(s, tw);
	return s;
}

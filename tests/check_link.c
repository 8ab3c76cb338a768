/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Links: the TAP link's frame handling over a datagram socket pair standing in
 * for the device's descriptor (one frame per read and write, as /dev/net/tun
 * gives them): Ethernet framing of what we send, ARP and neighbour discovery
 * answered for our address only, the connection's packets to the callback and
 * the others to the other one or nowhere, batches, resolving a neighbour,
 * hostile frames; and the set-up module's pure parts (ADDR/PREFIX, the address
 * next to the host side's, the MAC behind a TAP).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buildenv.h"
#include "link_int.h"
#include "tcpliveplay/bytes.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/link_packet.h"
#include "tcpliveplay/link_tap.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/setup.h"
#include "tcpliveplay/util.h"
#include "tmpdir.h"

static const uint8_t our_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t host_mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };

struct rig {
	struct lp_link *link;
	int peer;                   /* the kernel's side of the wire */
	int nrx, nother;
	uint8_t last[2048];
	size_t last_len;
};

static void on_rx(void *ctx, const uint8_t *ip, size_t len)
{
	struct rig *r = ctx;

	r->nrx++;
	r->last_len = len < sizeof(r->last) ? len : sizeof(r->last);
	memcpy(r->last, ip, r->last_len);
}

static void on_other(void *ctx, const uint8_t *ip, size_t len)
{
	struct rig *r = ctx;

	(void)ip;
	(void)len;
	r->nother++;
}

/* A TAP link for 198.18.0.2:50000-50009 (or 2001:db8::2) talking to the
 * host at 198.18.0.1 (2001:db8::1), on a socket pair. */
static void rig_open(struct rig *r, int family, bool all_to_local)
{
	struct lp_link_cfg cfg;
	char err[256];
	int sv[2];

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.local.family = family;
	inet_pton(family, family == AF_INET ? "198.18.0.2" : "2001:db8::2", cfg.local.addr);
	cfg.local.port = 50000;
	cfg.local_port_last = 50009;
	memcpy(cfg.local_mac, our_mac, 6);
	cfg.answer_neigh = true;
	cfg.all_to_local = all_to_local;
	ck_assert_int_eq(lp_link_tap_new(sv[0], NULL, &cfg, &r->link, err, sizeof(err)), 0);
	ck_assert_str_eq(lp_link_kind(r->link), "TAP");
	ck_assert(lp_link_has_mac(r->link));
	lp_link_set_peer_mac(r->link, host_mac);
	lp_link_set_other(r->link, on_other, r);
	r->peer = sv[1];
	ck_assert_int_eq(fcntl(r->peer, F_SETFL, O_NONBLOCK), 0);
}

static void rig_close(struct rig *r)
{
	lp_link_close(r->link);
	close(r->peer);
}

/* The host puts a frame on the wire. */
static void host_sends(struct rig *r, const uint8_t *frame, size_t len)
{
	ck_assert_int_eq(write(r->peer, frame, len), (ssize_t)len);
}

/* A frame we sent, or 0 when none waits. */
static ssize_t host_reads(struct rig *r, uint8_t *buf, size_t cap)
{
	ssize_t n = read(r->peer, buf, cap);

	return n < 0 && errno == EAGAIN ? 0 : n;
}

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	lp_put16(f + 12, type);
	return 14;
}

/* Host 198.18.0.1 (or 2001:db8::1) port 8000 to us at port dport. */
static size_t tcp_frame(uint8_t *f, int family, uint16_t dport, const char *dst)
{
	struct lp_seg s;
	size_t n = eth(f, our_mac, host_mac, family == AF_INET ? 0x0800 : 0x86dd);
	int m;

	memset(&s, 0, sizeof(s));
	s.family = family;
	inet_pton(family, family == AF_INET ? "198.18.0.1" : "2001:db8::1", s.src);
	inet_pton(family, dst ? dst : family == AF_INET ? "198.18.0.2" : "2001:db8::2", s.dst);
	s.sport = 8000;
	s.dport = dport;
	s.seq = 1;
	s.flags = LP_TH_SYN;
	s.window = 1000;
	m = lp_pkt_build(f + n, 200, &s);
	ck_assert_int_gt(m, 0);
	return n + (size_t)m;
}

static size_t arp_request(uint8_t *f, const char *target)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t n = eth(f, bcast, host_mac, 0x0806);

	lp_put16(f + n, 1);
	lp_put16(f + n + 2, 0x0800);
	f[n + 4] = 6;
	f[n + 5] = 4;
	lp_put16(f + n + 6, 1);
	memcpy(f + n + 8, host_mac, 6);
	inet_pton(AF_INET, "198.18.0.1", f + n + 14);
	memset(f + n + 18, 0, 6);
	inet_pton(AF_INET, target, f + n + 24);
	return n + 28;
}

/* A neighbour solicitation from 2001:db8::1 for target, with the host's
 * link-layer address option. */
static size_t ns_frame(uint8_t *f, const char *target, uint8_t hop_limit)
{
	uint8_t *ip, *icmp, pseudo[8] = { 0, 0, 0, 32, 0, 0, 0, 58 };
	size_t n = eth(f, our_mac, host_mac, 0x86dd);
	uint32_t sum = 0;

	ip = f + n;
	memset(ip, 0, 40 + 32);
	ip[0] = 0x60;
	lp_put16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = hop_limit;
	inet_pton(AF_INET6, "2001:db8::1", ip + 8);
	inet_pton(AF_INET6, "ff02::1:ff00:2", ip + 24);
	icmp = ip + 40;
	icmp[0] = 135;
	inet_pton(AF_INET6, target, icmp + 8);
	icmp[24] = 1;
	icmp[25] = 1;
	memcpy(icmp + 26, host_mac, 6);
	sum = lp_csum_add(sum, ip + 8, 32);
	sum = lp_csum_add(sum, pseudo, 8);
	sum = lp_csum_add(sum, icmp, 32);
	lp_put16(icmp + 2, lp_csum_fold(sum));
	return n + 72;
}

START_TEST(test_tap_send_framed)
{
	static const uint8_t ip4[20] = { 0x45, 0, 0, 20, [8] = 64, [9] = 6 };
	static const uint8_t ip6[40] = { 0x60, [6] = 6, [7] = 64 };
	static const uint8_t other[6] = { 0x02, 1, 2, 3, 4, 5 };
	uint8_t f[256];
	struct rig r;

	rig_open(&r, AF_INET, false);
	ck_assert_int_eq(lp_link_send(r.link, ip4, sizeof(ip4)), 0);
	ck_assert_int_eq(host_reads(&r, f, sizeof(f)), 14 + 20);
	ck_assert_mem_eq(f, host_mac, 6);
	ck_assert_mem_eq(f + 6, our_mac, 6);
	ck_assert_uint_eq(lp_get16(f + 12), 0x0800);
	ck_assert_mem_eq(f + 14, ip4, 20);
	ck_assert_int_eq(lp_link_send_to(r.link, other, ip6, sizeof(ip6)), 0);
	ck_assert_int_eq(host_reads(&r, f, sizeof(f)), 14 + 40);
	ck_assert_mem_eq(f, other, 6);
	ck_assert_uint_eq(lp_get16(f + 12), 0x86dd);
	ck_assert_int_eq(lp_link_send(r.link, ip4, 0), -EMSGSIZE);
	ck_assert_int_eq(lp_link_send(r.link, ip4, 65536), -EMSGSIZE);
	ck_assert_int_eq(host_reads(&r, f, sizeof(f)), 0);
	ck_assert_uint_eq(lp_link_drops(r.link), 0);
	rig_close(&r);
}
END_TEST

/* A super-segment of 3000 bytes (gso_payload) from 198.18.0.2:50000 to
 * the host, cut at 1400: 3 wire segments. */
static uint8_t gso_payload[3000];

static int gso_packet(uint8_t *pkt, size_t cap, struct lp_gso *g)
{
	struct lp_seg s;
	int m;

	memset(&s, 0, sizeof(s));
	s.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.2", s.src);
	inet_pton(AF_INET, "198.18.0.1", s.dst);
	s.sport = 50000;
	s.dport = 8000;
	s.seq = 1000;
	s.flags = LP_TH_ACK | LP_TH_PSH;
	for (size_t i = 0; i < sizeof(gso_payload); i++)
		gso_payload[i] = (uint8_t)i;
	s.payload = gso_payload;
	s.len = sizeof(gso_payload);
	m = lp_pkt_build_gso(pkt, cap, &s, 1400, g);
	ck_assert_int_gt(m, 0);
	return m;
}

/* A super-segment on a link without segmentation offload (a TAP): cut here
 * into its wire segments, each framed and sent on its own. */
START_TEST(test_tap_send_gso_cut)
{
	uint8_t pkt[4096], f[2048];
	struct lp_seg p;
	struct lp_gso g;
	struct rig r;
	ssize_t n;
	int m, k = 0;

	rig_open(&r, AF_INET, false);
	ck_assert_uint_eq(lp_link_gso_segs(r.link), 1);
	m = gso_packet(pkt, sizeof(pkt), &g);
	ck_assert_int_eq(lp_link_send_gso(r.link, NULL, pkt, (size_t)m, &g), 0);
	while ((n = host_reads(&r, f, sizeof(f))) > 0) {
		ck_assert_mem_eq(f, host_mac, 6);
		ck_assert_int_eq(lp_pkt_parse(f + 14, (size_t)n - 14, &p), 0);
		ck_assert_uint_eq(p.seq, 1000 + 1400 * (uint32_t)k);
		ck_assert_uint_eq(p.len, k < 2 ? 1400 : 200);
		ck_assert_mem_eq(p.payload, gso_payload + 1400 * k, p.len);
		k++;
	}
	ck_assert_int_eq(k, 3);
	rig_close(&r);
}
END_TEST

/* The TAP link made to look like a packet socket with segmentation offload
 * (gso_segs 45) whose kernel refuses the offload's header (-EINVAL for a
 * super-segment), or fails every send (fail_all); plain packets go to the
 * TAP's own xmit. */
static struct lp_link_ops refusing;
static const struct lp_link_ops *tap_ops;
static bool fail_all;
static unsigned ntrace;
static size_t trace_len[8];

static int refuse_gso(struct lp_link *l, const uint8_t *hdr, size_t hlen, const uint8_t *ip,
		      size_t len, const struct lp_gso *g)
{
	if (fail_all) {
		snprintf(l->err, sizeof(l->err), "send: no buffer space");
		return -ENOBUFS;
	}
	if (g && g->seg_len)
		return -EINVAL;
	memcpy(l->frame, hdr, hlen);
	memcpy(l->frame + hlen, ip, len);
	return tap_ops->xmit(l, l->frame, hlen + len);
}

static void on_trace(void *ctx, bool out, const uint8_t *ip, size_t len)
{
	(void)ctx;
	(void)ip;
	ck_assert(out);
	if (ntrace < 8)
		trace_len[ntrace] = len;
	ntrace++;
}

static void rig_refusing(struct rig *r)
{
	rig_open(r, AF_INET, false);
	tap_ops = r->link->ops;
	refusing = *tap_ops;
	refusing.xmit_ip = refuse_gso;
	r->link->ops = &refusing;
	r->link->gso_segs = 45;
	fail_all = false;
	ntrace = 0;
	lp_link_set_trace(r->link, on_trace, NULL);
}

/* A kernel that refuses the offload's header: the super-segment goes cut
 * into its wire segments, each traced (-vv) once, the super-segment not;
 * no offload from then on. */
START_TEST(test_gso_refused_traced_once)
{
	uint8_t pkt[4096], f[2048];
	struct lp_gso g;
	struct rig r;
	int m, k = 0;

	rig_refusing(&r);
	m = gso_packet(pkt, sizeof(pkt), &g);
	ck_assert_int_eq(lp_link_send_gso(r.link, NULL, pkt, (size_t)m, &g), 0);
	while (host_reads(&r, f, sizeof(f)) > 0)
		k++;
	ck_assert_int_eq(k, 3);
	ck_assert_uint_eq(ntrace, 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(trace_len[i], 20 + 20 + (i < 2 ? 1400 : 200));
	ck_assert_uint_eq(lp_link_gso_segs(r.link), 1);
	r.link->ops = tap_ops;
	rig_close(&r);
}
END_TEST

/* --write records what was sent, and only that: a send that failed leaves
 * no record (plain packet or super-segment); one that went is recorded as
 * its wire segments. */
START_TEST(test_send_rec_only_sent)
{
	char err[256];
	uint8_t pkt[4096];
	struct lp_pcapw *w;
	struct pcap_pkthdr *ph;
	const u_char *data;
	struct lp_gso g, plain = { 0 };
	struct rig r;
	pcap_t *rd;
	int m, k = 0;

	rig_refusing(&r);
	m = gso_packet(pkt, sizeof(pkt), &g);
	ck_assert_int_eq(lp_pcapw_open(tpath("w.pcap"), &w, err, sizeof(err)), 0);
	fail_all = true;
	ck_assert_int_eq(lp_link_send_rec(r.link, NULL, pkt, (size_t)m, &g, w), -ENOBUFS);
	ck_assert_int_eq(lp_link_send_rec(r.link, NULL, pkt, (size_t)m, NULL, w), -ENOBUFS);
	ck_assert_int_eq(lp_link_send_rec(r.link, NULL, pkt, (size_t)m, &plain, w), -ENOBUFS);
	fail_all = false;
	ck_assert_int_eq(lp_link_send_rec(r.link, NULL, pkt, (size_t)m, &g, w), 0);
	ck_assert_int_eq(lp_link_send_rec(r.link, NULL, pkt, 60, NULL, NULL), 0);
	ck_assert_int_eq(lp_pcapw_close(w), 0);
	rd = pcap_open_offline(tpath("w.pcap"), err);
	ck_assert_ptr_nonnull(rd);
	while (pcap_next_ex(rd, &ph, &data) == 1)
		ck_assert_uint_eq(ph->caplen, 40 + (k++ < 2 ? 1400 : 200));
	pcap_close(rd);
	ck_assert_int_eq(k, 3);
	r.link->ops = tap_ops;
	rig_close(&r);
}
END_TEST

START_TEST(test_tap_arp)
{
	uint8_t f[128], out[128];
	struct rig r;
	size_t n;

	rig_open(&r, AF_INET, false);
	n = arp_request(f, "198.18.0.2");
	host_sends(&r, f, n);
	/* Another address's request: no answer. */
	n = arp_request(f, "198.18.0.7");
	host_sends(&r, f, n);
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 2);
	ck_assert_int_eq(host_reads(&r, out, sizeof(out)), 14 + 28);
	ck_assert_mem_eq(out, host_mac, 6);
	ck_assert_mem_eq(out + 6, our_mac, 6);
	ck_assert_uint_eq(lp_get16(out + 12), 0x0806);
	ck_assert_uint_eq(lp_get16(out + 14 + 6), 2);             /* reply */
	ck_assert_mem_eq(out + 14 + 8, our_mac, 6);
	n = arp_request(f, "198.18.0.2");
	ck_assert_mem_eq(out + 14 + 14, f + 14 + 24, 4);           /* our address */
	ck_assert_mem_eq(out + 14 + 18, host_mac, 6);
	ck_assert_mem_eq(out + 14 + 24, f + 14 + 14, 4);           /* the asker's */
	ck_assert_int_eq(host_reads(&r, out, sizeof(out)), 0);
	ck_assert_int_eq(r.nrx + r.nother, 0);
	rig_close(&r);
}
END_TEST

START_TEST(test_tap_ndp)
{
	uint8_t f[128], out[128], sum_in[80], pseudo[8] = { 0, 0, 0, 32, 0, 0, 0, 58 };
	uint32_t sum = 0;
	struct rig r;
	size_t n;

	rig_open(&r, AF_INET6, false);
	host_sends(&r, f, ns_frame(f, "2001:db8::2", 255));
	/* Routed (hop limit below 255) or for another target: ignored. */
	host_sends(&r, f, ns_frame(f, "2001:db8::2", 64));
	host_sends(&r, f, ns_frame(f, "2001:db8::9", 255));
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 3);
	n = (size_t)host_reads(&r, out, sizeof(out));
	ck_assert_uint_eq(n, 14 + 40 + 32);
	ck_assert_mem_eq(out, host_mac, 6);
	ck_assert_uint_eq(out[14 + 7], 255);
	ck_assert_uint_eq(out[14 + 40], 136);                      /* advertisement */
	ck_assert_uint_eq(out[14 + 40 + 4], 0x60);                 /* solicited, override */
	ck_assert_mem_eq(out + 14 + 24, f + 14 + 8, 16);           /* to the solicitor */
	ck_assert_mem_eq(out + 14 + 40 + 26, our_mac, 6);          /* target link-layer address */
	/* The checksum over the pseudo-header folds to zero. */
	memcpy(sum_in, out + 14 + 8, 32);
	sum = lp_csum_add(sum, sum_in, 32);
	sum = lp_csum_add(sum, pseudo, 8);
	sum = lp_csum_add(sum, out + 14 + 40, 32);
	ck_assert_uint_eq(lp_csum_fold(sum), 0);
	ck_assert_int_eq(host_reads(&r, out, sizeof(out)), 0);
	ck_assert_int_eq(r.nrx + r.nother, 0);
	rig_close(&r);
}
END_TEST

START_TEST(test_tap_filter)
{
	int fam = _i ? AF_INET6 : AF_INET;
	uint8_t f[256], mac[6];
	struct rig r;
	size_t n;

	rig_open(&r, fam, false);
	n = tcp_frame(f, fam, 50003, NULL);
	host_sends(&r, f, n);
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 1);
	ck_assert_int_eq(r.nrx, 1);
	ck_assert_uint_eq(r.last_len, n - 14);
	ck_assert_mem_eq(r.last, f + 14, n - 14);
	/* The source MAC is known during the callback only, and kept for it. */
	ck_assert(lp_link_rx_mac(r.link, mac));
	ck_assert_mem_eq(mac, host_mac, 6);
	/* Not the connection's: another port, another address; nowhere without
	 * all_to_local. */
	host_sends(&r, f, tcp_frame(f, fam, 50010, NULL));
	host_sends(&r, f, tcp_frame(f, fam, 49999, NULL));
	host_sends(&r, f, tcp_frame(f, fam, 50001, fam == AF_INET ? "198.18.0.9" : "2001:db8::9"));
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 3);
	ck_assert_int_eq(r.nrx, 1);
	ck_assert_int_eq(r.nother, 0);
	rig_close(&r);

	/* With all_to_local the other ports of our address go to the other
	 * callback; another address still nowhere. */
	rig_open(&r, fam, true);
	host_sends(&r, f, tcp_frame(f, fam, 50010, NULL));
	host_sends(&r, f, tcp_frame(f, fam, 50001, fam == AF_INET ? "198.18.0.9" : "2001:db8::9"));
	host_sends(&r, f, tcp_frame(f, fam, 50000, NULL));
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 3);
	ck_assert_int_eq(r.nrx, 1);
	ck_assert_int_eq(r.nother, 1);
	rig_close(&r);
}
END_TEST

/* An ICMP error from the host about our segment from sport (to another
 * address than ours when dst is given), in a frame; damaged when bad. */
/* cfg.rx_headers_only on a link whose kind can cut segments: asked to once
 * a segment of ours comes with its checksum checked by the kernel; cut
 * frames then go to the callback with their flags, unless their IP length
 * is not what arrived; one whose headers did not fit is dropped and the
 * segments come whole for good. Without it, a cut frame (one bigger than
 * the filter keeps) is dropped, as it always was. */
static struct lp_link_ops cutting;
static int headers_calls, headers_state;

static int cut_headers(struct lp_link *l, bool on)
{
	(void)l;
	headers_calls++;
	headers_state = on;
	return 0;
}

static unsigned rx_flags_seen;

static void on_rx_flags(void *ctx, const uint8_t *ip, size_t len)
{
	struct rig *r = ctx;

	on_rx(ctx, ip, len);
	rx_flags_seen = lp_link_rx_flags(r->link);
}

START_TEST(test_rx_headers_only)
{
	const struct lp_link_ops *ops;
	uint8_t f[2048], big[2048];
	struct lp_seg s;
	struct rig r;
	size_t n, cut, wire;
	int m;

	rig_open(&r, AF_INET, false);
	ops = r.link->ops;
	cutting = *ops;
	cutting.rx_headers = cut_headers;
	r.link->ops = &cutting;
	r.link->cfg.rx_headers_only = _i == 1;
	r.link->rx = on_rx_flags;
	r.link->rx_ctx = &r;
	headers_calls = headers_state = 0;
	/* A SYN-ACK whose checksum the kernel checked. */
	n = tcp_frame(f, AF_INET, 50000, NULL);
	lp_link_input(r.link, f, n, n, LP_RX_CSUM_OK);
	ck_assert_int_eq(r.nrx, 1);
	ck_assert_uint_eq(rx_flags_seen, LP_RX_CSUM_OK);
	ck_assert_int_eq(headers_calls, _i == 1);
	ck_assert(lp_link_headers_only(r.link) == (_i == 1));
	/* A data segment, cut after its headers. */
	memset(&s, 0, sizeof(s));
	s.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", s.src);
	inet_pton(AF_INET, "198.18.0.2", s.dst);
	s.sport = 8000;
	s.dport = 50000;
	s.flags = LP_TH_ACK;
	s.payload = big;
	s.len = 1000;
	memset(big, 0x33, sizeof(big));
	n = eth(f, our_mac, host_mac, 0x0800);
	m = lp_pkt_build(f + n, sizeof(f) - n, &s);
	ck_assert_int_gt(m, 0);
	wire = n + (size_t)m;
	cut = wire - 1000;
	lp_link_input(r.link, f, cut, wire, LP_RX_HEADERS | LP_RX_CSUM_OK);
	if (_i == 0) {
		/* A caller that did not ask for headers gets whole frames only. */
		ck_assert_int_eq(r.nrx, 1);
		goto out;
	}
	ck_assert_int_eq(r.nrx, 2);
	ck_assert_uint_eq(r.last_len, (size_t)m - 1000);
	ck_assert_uint_eq(rx_flags_seen, LP_RX_HEADERS | LP_RX_CSUM_OK);
	/* Its IP length more than arrived, or less: dropped, cutting goes on. */
	lp_link_input(r.link, f, cut, wire - 1, LP_RX_HEADERS | LP_RX_CSUM_OK);
	lp_link_input(r.link, f, cut, wire + 1, LP_RX_HEADERS | LP_RX_CSUM_OK);
	ck_assert_int_eq(r.nrx, 2);
	ck_assert(lp_link_headers_only(r.link));
	/* A wire length below what was read: dropped. */
	lp_link_input(r.link, f, cut, cut - 1, LP_RX_HEADERS | LP_RX_CSUM_OK);
	ck_assert_int_eq(r.nrx, 2);
	/* Headers cut short: never used, and whole segments from now on. */
	lp_link_input(r.link, f, n + 30, wire, LP_RX_HEADERS | LP_RX_CSUM_OK);
	ck_assert_int_eq(r.nrx, 2);
	ck_assert(!lp_link_headers_only(r.link));
	ck_assert_int_eq(headers_state, 0);
	ck_assert_int_eq(headers_calls, 2);
	/* Cut, not vouched for: dropped, and asked nothing more. */
	lp_link_input(r.link, f, cut, wire, LP_RX_HEADERS);
	ck_assert_int_eq(r.nrx, 2);
	ck_assert_int_eq(headers_calls, 2);
	/* Whole and vouched for again: not asked to cut a second time. */
	lp_link_input(r.link, f, wire, wire, LP_RX_CSUM_OK);
	ck_assert_int_eq(r.nrx, 3);
	ck_assert_uint_eq(r.last_len, (size_t)m);
	ck_assert_int_eq(headers_calls, 2);
out:
	r.link->rx = NULL;
	r.link->ops = ops;
	rig_close(&r);
}
END_TEST

/* The packet socket's filter with segments cut after their headers: two
 * programs joined, run here by libpcap's interpreter as the kernel runs
 * them. The connection's segments keep snap bytes, the rest whole, what
 * neither takes nothing; snap 0 keeps all whole. */
START_TEST(test_cut_filter)
{
	struct bpf_program prog;
	uint8_t f[2048], icmp[200];
	char err[256];
	size_t n, m;
	unsigned snap = _i ? 0 : 128;

	ck_assert_int_eq(lp_link_packet_filter(DLT_EN10MB, "ip and tcp and dst port 50000",
					       "arp or (icmp and icmp[0] == 3)", snap, &prog, err,
					       sizeof(err)), 0);
	n = tcp_frame(f, AF_INET, 50000, NULL);
	ck_assert_uint_eq(bpf_filter(prog.bf_insns, f, (unsigned)n, (unsigned)n), snap ? snap : 65599);
	n = tcp_frame(f, AF_INET, 50001, NULL);
	ck_assert_uint_eq(bpf_filter(prog.bf_insns, f, (unsigned)n, (unsigned)n), 0);
	n = tcp_frame(f, AF_INET6, 50000, NULL);
	ck_assert_uint_eq(bpf_filter(prog.bf_insns, f, (unsigned)n, (unsigned)n), 0);
	m = eth(icmp, our_mac, host_mac, 0x0800);
	m += lp_ip_header(icmp + m, AF_INET, (const uint8_t *)"\xc6\x12\x00\x01",
			  (const uint8_t *)"\xc6\x12\x00\x02", 1, 36);
	memset(icmp + m, 0, 36);
	icmp[m] = 3;
	ck_assert_uint_eq(bpf_filter(prog.bf_insns, icmp, (unsigned)(m + 36), (unsigned)(m + 36)), 65599);
	icmp[m] = 8;
	ck_assert_uint_eq(bpf_filter(prog.bf_insns, icmp, (unsigned)(m + 36), (unsigned)(m + 36)), 0);
	pcap_freecode(&prog);
	ck_assert_int_eq(lp_link_packet_filter(DLT_EN10MB, "ip and tcp and", "arp", 128, &prog, err,
					       sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "filter 'ip and tcp and'"));
}
END_TEST

static size_t icmp_frame(uint8_t *f, int family, uint16_t sport, const char *dst, bool bad)
{
	bool v4 = family == AF_INET;
	size_t n = eth(f, our_mac, host_mac, v4 ? 0x0800 : 0x86dd);
	uint8_t seg[128], host[16];
	struct lp_seg s;
	int m, k;

	memset(&s, 0, sizeof(s));
	s.family = family;
	inet_pton(family, dst ? dst : v4 ? "198.18.0.2" : "2001:db8::2", s.src);
	inet_pton(family, v4 ? "198.18.0.1" : "2001:db8::1", s.dst);
	inet_pton(family, v4 ? "198.18.0.1" : "2001:db8::1", host);
	s.sport = sport;
	s.dport = 8000;
	s.flags = LP_TH_SYN;
	m = lp_pkt_build(seg, sizeof(seg), &s);
	ck_assert_int_gt(m, 0);
	k = lp_icmp_build_error(f + n, 300, seg, (size_t)m, v4 ? 3 : 1, v4 ? 13 : 1, 0, host);
	ck_assert_int_gt(k, 0);
	if (bad)
		f[n + (size_t)k - 1] ^= 1;
	return n + (size_t)k;
}

/* ICMP errors quoting the connection's segments are the connection's, on
 * any link kind (a TAP sees every frame); others are not. */
START_TEST(test_tap_icmp)
{
	int fam = _i ? AF_INET6 : AF_INET;
	uint8_t f[512];
	struct rig r;
	size_t n;

	rig_open(&r, fam, false);
	n = icmp_frame(f, fam, 50004, NULL, false);
	host_sends(&r, f, n);
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 1);
	ck_assert_int_eq(r.nrx, 1);
	ck_assert_mem_eq(r.last, f + 14, n - 14);
	host_sends(&r, f, icmp_frame(f, fam, 50010, NULL, false));
	host_sends(&r, f, icmp_frame(f, fam, 50004, fam == AF_INET ? "198.18.0.9" : "2001:db8::9",
				     false));
	host_sends(&r, f, icmp_frame(f, fam, 50004, NULL, true));
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 3);
	ck_assert_int_eq(r.nrx, 1);
	ck_assert_int_eq(r.nother, 0);
	rig_close(&r);
}
END_TEST

/* One dispatch reads one batch (32 frames); the rest waits for the next. */
START_TEST(test_tap_batches)
{
	uint8_t f[256];
	struct rig r;
	size_t n;

	rig_open(&r, AF_INET, false);
	n = tcp_frame(f, AF_INET, 50000, NULL);
	for (int i = 0; i < 40; i++)
		host_sends(&r, f, n);
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 32);
	ck_assert_int_eq(lp_link_wait(r.link, 1000000, on_rx, &r), 8);
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 0);
	/* Nothing to read: the wait times out with 0. */
	ck_assert_int_eq(lp_link_wait(r.link, 1000000, on_rx, &r), 0);
	ck_assert_int_eq(r.nrx, 40);
	rig_close(&r);
}
END_TEST

START_TEST(test_tap_resolve)
{
	uint8_t f[128], out[128], addr[4];
	struct rig r;
	size_t n;

	rig_open(&r, AF_INET, false);
	inet_pton(AF_INET, "198.18.0.1", addr);
	/* No answer: two requests, broadcast, then -EHOSTUNREACH. */
	ck_assert_int_eq(lp_link_resolve(r.link, addr, out, 20, 2), -EHOSTUNREACH);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(host_reads(&r, out, sizeof(out)), 14 + 28);
		ck_assert_uint_eq(out[0] & out[1] & out[2] & out[3] & out[4] & out[5], 0xff);
		ck_assert_uint_eq(lp_get16(out + 14 + 6), 1);
		ck_assert_mem_eq(out + 14 + 24, addr, 4);
	}
	/* The host's request for our address tells its MAC too. */
	n = arp_request(f, "198.18.0.2");
	host_sends(&r, f, n);
	ck_assert_int_eq(lp_link_resolve(r.link, addr, out, 1000, 1), 0);
	ck_assert_mem_eq(out, host_mac, 6);
	rig_close(&r);
}
END_TEST

/* Truncated and odd frames: no callback, no answer, no crash. */
START_TEST(test_tap_hostile)
{
	uint8_t f[256], out[256];
	struct lp_rng rng;
	struct rig r;
	size_t n;

	rig_open(&r, AF_INET6, true);
	n = ns_frame(f, "2001:db8::2", 255);
	for (size_t cut = 0; cut < n; cut++)
		host_sends(&r, f, cut ? cut : 1);
	/* An option of length 0, or longer than the message. */
	f[14 + 40 + 25] = 0;
	host_sends(&r, f, n);
	f[14 + 40 + 25] = 9;
	host_sends(&r, f, n);
	/* A VLAN tag with nothing behind it, an unknown ethertype. */
	eth(f, our_mac, host_mac, 0x8100);
	host_sends(&r, f, 16);
	eth(f, our_mac, host_mac, 0x88cc);
	host_sends(&r, f, 60);
	while (lp_link_dispatch(r.link, on_rx, &r) > 0)
		;
	ck_assert_int_eq(r.nrx + r.nother, 0);
	/* The two whole solicitations with a bad option are answered to their
	 * frame's source MAC; nothing else is. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(host_reads(&r, out, sizeof(out)), 14 + 40 + 32);
		ck_assert_mem_eq(out, host_mac, 6);
	}
	ck_assert_int_eq(host_reads(&r, out, sizeof(out)), 0);
	/* Random bytes. */
	lp_rng_seed(&rng, 16);
	for (int i = 0; i < 2000; i++) {
		n = 1 + lp_rng_below(&rng, sizeof(f));
		for (size_t k = 0; k < n; k++)
			f[k] = (uint8_t)lp_rng_next(&rng);
		/* Half of them claim to be IP, to reach the IP checks. */
		if (i % 2 && n >= 14)
			lp_put16(f + 12, i % 4 == 1 ? 0x86dd : 0x0800);
		host_sends(&r, f, n);
		lp_link_dispatch(r.link, on_rx, &r);
		while (host_reads(&r, out, sizeof(out)) > 0)
			;
	}
	rig_close(&r);
}
END_TEST

/* The peer's side closed: EOF is nothing to read, not an error. */
START_TEST(test_tap_closed_peer)
{
	struct rig r;

	rig_open(&r, AF_INET, false);
	close(r.peer);
	r.peer = -1;
	ck_assert_int_eq(lp_link_dispatch(r.link, on_rx, &r), 0);
	lp_link_close_async(r.link);
}
END_TEST

/* Sanitizer builds have no release helper (util.c closes in place there);
 * valgrind runs no clone(CLONE_VM), so there the helper is forked. */
#define NO_HELPER LP_ASAN

/* What kind of helper the calling process has: 'v' a child sharing its
 * memory, 'h' another (a forked grandchild), '?' when the kernel cannot
 * say (no kcmp()). */
static char helper_kind(void)
{
	char path[64], buf[64];
	FILE *f;
	long pid = 0;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
	f = fopen(path, "r");
	if (!f)
		return '?';
	while (fscanf(f, "%63s", buf) == 1 && ++n == 1)
		pid = strtol(buf, NULL, 10);
	fclose(f);
	if (n != 1)
		return 'h';
	n = (int)syscall(SYS_kcmp, (long)getpid(), pid, 1 /* KCMP_VM */, 0L, 0L);
	return n == 0 ? 'v' : n > 0 ? 'h' : '?';
}

/* Does fd see end of file within ms? */
static bool eof_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&pfd, 1, ms) == 1 && read(fd, &c, 1) == 0;
}

/* The release helper holds a descriptor once its caller has closed its own
 * copy, and lets it go once the caller is done: a process does the release
 * (a helper, or none: its own close then is the last), and the peer of the
 * descriptor sees end of file only then. */
START_TEST(test_release_helper)
{
	int sp[2], ctl[2], back[2], go, st;
	char c = 0, want;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(ctl, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(back, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sp[1]);
		close(ctl[1]);
		close(back[0]);
		go = lp_release_helper(&sp[0], 1);
		close(sp[0]);
		c = go >= 0 ? helper_kind() : 'n';
		if (write(back[1], &c, 1) != 1 || read(ctl[0], &c, 1) < 0)
			_exit(1);
		lp_release_go(go);
		_exit(0);
	}
	close(sp[0]);
	close(ctl[0]);
	close(back[1]);
	ck_assert_int_eq(read(back[0], &c, 1), 1);
	/* A helper wherever there can be one, sharing our memory but under
	 * valgrind. */
	ck_assert_int_eq(c == 'n', NO_HELPER);
	want = RUNNING_ON_VALGRIND ? 'h' : 'v';
	if (!NO_HELPER && c != '?')
		ck_assert_int_eq(c, want);
	/* With a helper the socket is still held; without one it is closed. */
	ck_assert_int_eq(eof_within(sp[1], 50), c == 'n');
	close(ctl[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The caller gone, the helper leaves too. */
	if (c != 'n')
		ck_assert(eof_within(sp[1], 5000));
	close(sp[1]);
	close(back[0]);
}
END_TEST

START_TEST(test_tap_mac)
{
	uint8_t m[6];
	static const uint8_t global[6] = { 0x00, 0x16, 0x3e, 1, 2, 3 };

	lp_link_tap_mac(host_mac, m);
	ck_assert(memcmp(m, host_mac, 6) != 0);
	ck_assert_uint_eq(m[0] & 1, 0);
	ck_assert_uint_eq(m[0] & 2, 2);
	lp_link_tap_mac(global, m);
	ck_assert(memcmp(m, global, 6) != 0);
	ck_assert_uint_eq(m[0], 0x02);
}
END_TEST

START_TEST(test_tap_open_bad_name)
{
	char err[256];
	bool created = true;
	int fd = 7;

	ck_assert_int_eq(lp_tap_open("", &fd, &created, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(fd, -1);
	ck_assert(!created);
	ck_assert_int_eq(lp_tap_open("a-name-far-too-long", &fd, &created, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(lp_tap_open("a/b", &fd, &created, err, sizeof(err)), -EINVAL);
	ck_assert(strstr(err, "not a TAP device name") != NULL);
}
END_TEST

static struct lp_prefix prefix(const char *s)
{
	struct lp_prefix p;

	ck_assert_msg(lp_setup_parse_prefix(s, &p) == 0, "%s", s);
	return p;
}

START_TEST(test_setup_prefix)
{
	struct lp_prefix p;

	p = prefix("198.18.0.1/24");
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_uint_eq(p.plen, 24);
	p = prefix("2001:db8::1/64");
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_uint_eq(p.plen, 64);
	p = prefix("2001:db8::1/128");
	ck_assert_uint_eq(p.plen, 128);
	ck_assert_int_eq(lp_setup_parse_prefix("198.18.0.1", &p), -EINVAL);
	ck_assert_int_eq(lp_setup_parse_prefix("198.18.0.1/33", &p), -EINVAL);
	ck_assert_int_eq(lp_setup_parse_prefix("198.18.0.1/", &p), -EINVAL);
	ck_assert_int_eq(lp_setup_parse_prefix("198.18.0.1/2x", &p), -EINVAL);
	ck_assert_int_eq(lp_setup_parse_prefix("198.18.0.1/-1", &p), -EINVAL);
	ck_assert_int_eq(lp_setup_parse_prefix("2001:db8::1/129", &p), -EINVAL);
	ck_assert_int_eq(lp_setup_parse_prefix("host/24", &p), -EINVAL);
	ck_assert_int_eq(lp_setup_parse_prefix("/24", &p), -EINVAL);
}
END_TEST

/* The address next to the host side's, as text; "" when there is none. */
static const char *next(const char *pfx, char *buf, size_t len)
{
	struct lp_prefix p = prefix(pfx);
	uint8_t a[16];

	if (lp_setup_next_addr(&p, a))
		return "";
	inet_ntop(p.family, a, buf, (socklen_t)len);
	return buf;
}

START_TEST(test_setup_next_addr)
{
	char b[64];

	ck_assert_str_eq(next("198.18.0.1/24", b, sizeof(b)), "198.18.0.2");
	ck_assert_str_eq(next("198.18.0.254/24", b, sizeof(b)), "198.18.0.253");   /* .255: broadcast */
	ck_assert_str_eq(next("198.18.0.255/23", b, sizeof(b)), "198.18.1.0");     /* carry */
	ck_assert_str_eq(next("198.18.1.0/23", b, sizeof(b)), "198.18.1.1");
	ck_assert_str_eq(next("198.18.0.1/30", b, sizeof(b)), "198.18.0.2");
	ck_assert_str_eq(next("198.18.0.2/30", b, sizeof(b)), "198.18.0.1");
	ck_assert_str_eq(next("198.18.0.0/31", b, sizeof(b)), "198.18.0.1");       /* RFC 3021 */
	ck_assert_str_eq(next("198.18.0.1/31", b, sizeof(b)), "198.18.0.0");
	ck_assert_str_eq(next("198.18.0.1/32", b, sizeof(b)), "");
	ck_assert_str_eq(next("255.255.255.254/24", b, sizeof(b)), "255.255.255.253");
	ck_assert_str_eq(next("2001:db8::1/64", b, sizeof(b)), "2001:db8::2");
	ck_assert_str_eq(next("2001:db8::ffff/112", b, sizeof(b)), "2001:db8::fffe");
	ck_assert_str_eq(next("2001:db8::ffff:ffff/96", b, sizeof(b)), "2001:db8::ffff:fffe");
	ck_assert_str_eq(next("2001:db8:0:0:ffff:ffff:ffff:ffff/63", b, sizeof(b)), "2001:db8:0:1::");
	ck_assert_str_eq(next("2001:db8::/127", b, sizeof(b)), "2001:db8::1");
	ck_assert_str_eq(next("2001:db8::1/128", b, sizeof(b)), "");
}
END_TEST

Suite *link_suite(void)
{
	Suite *s = suite_create("link");
	TCase *tc = tcase_create("tap");
	TCase *su = tcase_create("setup");
	TCase *tw = tcase_create("write");

	tcase_add_test(tc, test_tap_send_framed);
	tcase_add_test(tc, test_tap_send_gso_cut);
	tcase_add_test(tc, test_gso_refused_traced_once);
	tcase_add_test(tc, test_tap_arp);
	tcase_add_test(tc, test_tap_ndp);
	tcase_add_loop_test(tc, test_tap_filter, 0, 2);
	tcase_add_loop_test(tc, test_rx_headers_only, 0, 2);
	tcase_add_loop_test(tc, test_cut_filter, 0, 2);
	tcase_add_loop_test(tc, test_tap_icmp, 0, 2);
	tcase_add_test(tc, test_tap_batches);
	tcase_add_test(tc, test_tap_resolve);
	tcase_add_test(tc, test_tap_hostile);
	tcase_add_test(tc, test_tap_closed_peer);
	tcase_add_test(tc, test_release_helper);
	tcase_add_test(tc, test_tap_mac);
	tcase_add_test(tc, test_tap_open_bad_name);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(tw, case_setup, case_teardown);
	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_add_test(tw, test_send_rec_only_sent);
	suite_add_tcase(s, tw);
	tcase_add_test(su, test_setup_prefix);
	tcase_add_test(su, test_setup_next_addr);
	suite_add_tcase(s, su);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every link kind shares: Ethernet framing, the software filter for the
 * configured connection(s), ARP (RFC 826) and neighbour discovery (RFC 4861),
 * waiting for input, and closing (in place, or through a helper process for
 * descriptors whose release waits for an RCU grace period).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link_int.h"
#include "tcpliveplay/bytes.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/util.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

#define ND_NS 135
#define ND_NA 136

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

void lp_link_init(struct lp_link *l, const struct lp_link_ops *ops, int fd, bool has_mac,
		  const struct lp_link_cfg *cfg)
{
	l->ops = ops;
	l->fd = fd;
	l->has_mac = has_mac;
	l->cfg = *cfg;
	l->gso_segs = 1;
	memcpy(l->peer_mac, bcast, 6);
}

const char *lp_link_kind(const struct lp_link *l)
{
	return l->ops->kind;
}

unsigned lp_link_ring_mib(const struct lp_link *l)
{
	return l->ring_mib;
}

static size_t eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	lp_put16(f + 12, type);
	return LP_ETH_HLEN;
}

unsigned lp_link_gso_segs(const struct lp_link *l)
{
	return l->gso_segs;
}

/* One IP packet (a super-segment where the kind cuts it) to mac; traced
 * (-vv) unless the caller traces it. */
static int send_ip(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len,
		   const struct lp_gso *g, bool trace)
{
	uint8_t eth[LP_ETH_HLEN];
	size_t off = 0;

	if (len == 0 || len > 65535)
		return -EMSGSIZE;
	if (l->has_mac)
		off = eth_header(l->ops->xmit_ip ? eth : l->frame, mac ? mac : l->peer_mac,
				 l->cfg.local_mac, (ip[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	if (trace && l->trace)
		l->trace(l->trace_ctx, true, ip, len);
	if (l->ops->xmit_ip)
		return l->ops->xmit_ip(l, eth, off, ip, len, g);
	memcpy(l->frame + off, ip, len);
	return l->ops->xmit(l, l->frame, off + len);
}

int lp_link_send_to(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len)
{
	return send_ip(l, mac, ip, len, NULL, true);
}

int lp_link_send(struct lp_link *l, const uint8_t *ip, size_t len)
{
	return lp_link_send_to(l, NULL, ip, len);
}

/* A super-segment cut in user space, its wire segments sent one by one. */
static int send_cut(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len,
		    const struct lp_gso *g)
{
	uint8_t seg[65535];
	int n, rc = 0;

	for (unsigned i = 0; !rc && (n = lp_gso_segment(ip, len, g, i, seg, sizeof(seg))) != 0; i++)
		rc = n < 0 ? n : send_ip(l, mac, seg, (size_t)n, NULL, true);
	return rc;
}

int lp_link_send_gso(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len,
		     const struct lp_gso *g)
{
	int rc;

	if (!g || !g->seg_len)
		return send_ip(l, mac, ip, len, NULL, true);
	if (l->gso_segs < lp_gso_count(len, g))
		return send_cut(l, mac, ip, len, g);
	/* Traced once: as the super-segment when it went, else as the wire
	 * segments cut from it. */
	rc = send_ip(l, mac, ip, len, g, false);
	if (rc != -EINVAL) {
		if (l->trace)
			l->trace(l->trace_ctx, true, ip, len);
		return rc;
	}
	/* A kernel that refuses the offload's header: without it from now on. */
	l->gso_segs = 1;
	return send_cut(l, mac, ip, len, g);
}

int lp_link_send_rec(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len,
		     const struct lp_gso *g, struct lp_pcapw *w)
{
	int rc = lp_link_send_gso(l, mac, ip, len, g);

	if (rc || !w)
		return rc;
	if (g && g->seg_len)
		lp_pcapw_write_gso(w, ip, len, g, lp_clock_ns(CLOCK_REALTIME));
	else
		lp_pcapw_write(w, ip, len, lp_clock_ns(CLOCK_REALTIME));
	return 0;
}

/* ARP request (op 1) or reply (op 2) from our address. */
static int send_arp(struct lp_link *l, uint16_t op, const uint8_t *dmac, const uint8_t *tha,
		    const uint8_t *tpa)
{
	uint8_t *f = l->frame;
	size_t n = eth_header(f, dmac, l->cfg.local_mac, ETHERTYPE_ARP);

	lp_put16(f + n, 1);                 /* Ethernet */
	lp_put16(f + n + 2, ETHERTYPE_IPV4);
	f[n + 4] = 6;
	f[n + 5] = 4;
	lp_put16(f + n + 6, op);
	memcpy(f + n + 8, l->cfg.local_mac, 6);
	memcpy(f + n + 14, l->cfg.local.addr, 4);
	memcpy(f + n + 18, tha, 6);
	memcpy(f + n + 24, tpa, 4);
	return l->ops->xmit(l, f, n + 28);
}

/* Neighbour solicitation (for target) or advertisement (of our address). */
static int send_nd(struct lp_link *l, uint8_t type, const uint8_t *dmac, const uint8_t *dip,
		   const uint8_t *target)
{
	uint8_t *f = l->frame, *ip, *icmp;
	size_t n = eth_header(f, dmac, l->cfg.local_mac, ETHERTYPE_IPV6);
	const size_t icmplen = 8 + 16 + 8;

	ip = f + n;
	icmp = ip + lp_ip_header(ip, AF_INET6, l->cfg.local.addr, dip, 58, icmplen);
	ip[7] = 255;      /* hop limit: neighbour discovery must not be routed */
	memset(icmp, 0, icmplen);
	icmp[0] = type;
	if (type == ND_NA)
		icmp[4] = 0x60;   /* solicited, override */
	memcpy(icmp + 8, target, 16);
	icmp[24] = type == ND_NA ? 2 : 1;   /* target / source link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, l->cfg.local_mac, 6);
	lp_put16(icmp + 2, lp_icmp_csum(ip, icmp, icmplen));
	return l->ops->xmit(l, f, n + 40 + icmplen);
}

static void handle_arp(struct lp_link *l, const uint8_t *p, size_t len)
{
	uint16_t op;

	if (len < 28 || lp_get16(p) != 1 || lp_get16(p + 2) != ETHERTYPE_IPV4 || p[4] != 6 || p[5] != 4)
		return;
	op = lp_get16(p + 6);
	if (op == 1 && l->cfg.answer_neigh && l->cfg.local.family == AF_INET &&
	    !memcmp(p + 24, l->cfg.local.addr, 4)) {
		uint8_t sha[6], spa[4];

		memcpy(sha, p + 8, 6);
		memcpy(spa, p + 14, 4);
		send_arp(l, 2, sha, sha, spa);
	}
	if (l->resolving && (op == 1 || op == 2) && !memcmp(p + 14, l->want, 4)) {
		memcpy(l->got_mac, p + 8, 6);
		l->resolved = true;
	}
}

/* Link-layer address option of a neighbour discovery message. */
static bool nd_lladdr(const uint8_t *opt, size_t len, uint8_t want_type, uint8_t mac[6])
{
	while (len >= 8) {
		size_t olen = (size_t)opt[1] * 8;

		if (!olen || olen > len)
			return false;
		if (opt[0] == want_type && olen >= 8) {
			memcpy(mac, opt + 2, 6);
			return true;
		}
		opt += olen;
		len -= olen;
	}
	return false;
}

/* Neighbour discovery for us; false for any other ICMPv6 message. */
static bool handle_icmp6(struct lp_link *l, const uint8_t *smac, const uint8_t *ip, size_t len)
{
	const uint8_t *icmp = ip + 40;
	size_t plen, ilen;

	if (len < 40 || ip[6] != 58)
		return false;
	plen = lp_get16(ip + 4);
	if (plen > len - 40)
		return false;
	ilen = plen;
	if (ilen < 24 || (icmp[0] != ND_NS && icmp[0] != ND_NA))
		return false;
	/* Neighbour discovery is never routed (RFC 4861 7.1.1). */
	if (ip[7] != 255)
		return true;
	if (icmp[0] == ND_NS && l->cfg.answer_neigh && l->cfg.local.family == AF_INET6 &&
	    !memcmp(icmp + 8, l->cfg.local.addr, 16)) {
		static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
		static const uint8_t unspec[16];
		uint8_t mac[6], dip[16];

		if (!nd_lladdr(icmp + 24, ilen - 24, 1, mac))
			memcpy(mac, smac, 6);
		memcpy(dip, ip + 8, 16);
		if (!memcmp(dip, unspec, 16))
			memcpy(dip, all_nodes, 16);
		send_nd(l, ND_NA, mac, dip, l->cfg.local.addr);
	}
	if (l->resolving && icmp[0] == ND_NA && !memcmp(icmp + 8, l->want, 16)) {
		if (!nd_lladdr(icmp + 24, ilen - 24, 2, l->got_mac))
			memcpy(l->got_mac, smac, 6);
		l->resolved = true;
	}
	return true;
}

/* Is this IP packet addressed to our address? */
static bool to_local(const struct lp_link *l, const uint8_t *ip, size_t len)
{
	if (l->cfg.local.family == AF_INET)
		return len >= 20 && (ip[0] >> 4) == 4 && !memcmp(ip + 16, l->cfg.local.addr, 4);
	return len >= 40 && (ip[0] >> 4) == 6 && !memcmp(ip + 24, l->cfg.local.addr, 16);
}

/* The connection a packet is about, seen from our side: a TCP segment's
 * addresses and ports, or those an ICMP or ICMPv6 error addressed to us
 * quotes from one of our segments (ic holds it). False for anything else. */
static bool tuple_of(const struct lp_link *l, const uint8_t *ip, size_t len, struct lp_icmp *ic,
		     const uint8_t **local, const uint8_t **remote, uint16_t *lport,
		     uint16_t *rport)
{
	bool v4 = l->cfg.local.family == AF_INET;
	size_t hl;

	if (len < (v4 ? LP_IPV4_HDR : LP_IPV6_HDR) || (ip[0] >> 4) != (v4 ? 4 : 6))
		return false;
	hl = v4 ? (size_t)(ip[0] & 15) * 4 : LP_IPV6_HDR;
	if (hl < LP_IPV4_HDR)
		return false;
	if (ip[v4 ? 9 : 6] == 6) {
		if (len < hl + 4)
			return false;
		*remote = ip + (v4 ? 12 : 8);
		*local = ip + (v4 ? 16 : 24);
		*rport = lp_get16(ip + hl);
		*lport = lp_get16(ip + hl + 2);
		return true;
	}
	if (lp_icmp_parse(ip, len, ic) == 0 && ic->family == l->cfg.local.family &&
	    !memcmp(ic->to, l->cfg.local.addr, alen(ic->family))) {
		*local = ic->qsrc;
		*remote = ic->qdst;
		*lport = ic->qsport;
		*rport = ic->qdport;
		return true;
	}
	return false;
}

/* Is this IP packet the connection's (a packet socket's kernel filter lets
 * neighbour discovery and ICMP errors through too; a TAP has no filter at
 * all)? An ICMP error is when it quotes one of the connection's segments. */
static bool ours(const struct lp_link *l, const uint8_t *ip, size_t len)
{
	const struct lp_endpoint *lo = &l->cfg.local, *re = &l->cfg.remote;
	const uint8_t *src, *dst;
	size_t al = alen(lo->family);
	uint16_t lport, rport;
	struct lp_icmp ic;

	if (!tuple_of(l, ip, len, &ic, &dst, &src, &lport, &rport))
		return false;
	if (memcmp(dst, lo->addr, al) || lport < lo->port ||
	    lport > (l->cfg.local_port_last > lo->port ? l->cfg.local_port_last : lo->port))
		return false;
	if (re->family && memcmp(src, re->addr, al))
		return false;
	return !re->port || rport == re->port;
}

/* Segments whole from now on, checked here (once asked). */
static void headers_give_up(struct lp_link *l)
{
	if (l->headers_off)
		return;
	l->headers_off = true;
	if (l->headers_on && l->ops->rx_headers(l, false) == 0)
		l->headers_on = false;
}

/* A frame cut below us (by our filter, or bigger than it keeps) of an IP
 * packet of wire bytes: used only by a caller that asked for headers, when
 * the kernel checked its checksum, its headers are all there and its IP
 * length is what arrived (kernel TCP drops the others too). Otherwise
 * dropped, the peer sends it again; cutting stops for good when nothing
 * vouched for it or its headers did not fit. */
static bool cut_usable(struct lp_link *l, const uint8_t *ip, size_t len, size_t wire, unsigned flags)
{
	struct lp_seg s;
	size_t claimed = 0;
	int rc;

	if (!l->cfg.rx_headers_only)
		return false;
	if (!(flags & LP_RX_CSUM_OK)) {
		headers_give_up(l);
		return false;
	}
	if (len >= 6)
		claimed = (ip[0] >> 4) == 4 ? lp_get16(ip + 2) : (size_t)LP_IPV6_HDR + lp_get16(ip + 4);
	rc = lp_pkt_parse_rx(ip, len, flags, &s);
	if (rc == -EINVAL && claimed > len)
		headers_give_up(l);
	return rc == 0 && claimed == wire;
}

/* The first segment of ours whose checksum the kernel checked: from now on
 * its kind may cut the segments after their headers. */
static void headers_try(struct lp_link *l, const uint8_t *ip, size_t len, unsigned flags)
{
	bool v4 = (ip[0] >> 4) == 4;

	if (!l->cfg.rx_headers_only || l->headers_on || l->headers_off || !l->ops->rx_headers ||
	    !(flags & LP_RX_CSUM_OK) || len < (v4 ? LP_IPV4_HDR : LP_IPV6_HDR) || ip[v4 ? 9 : 6] != 6)
		return;
	if (l->ops->rx_headers(l, true) == 0)
		l->headers_on = true;
	else
		l->headers_off = true;
}

void lp_link_input(struct lp_link *l, const uint8_t *data, size_t caplen, size_t wire_len,
		   unsigned flags)
{
	const uint8_t *p = data;
	size_t len = caplen;
	uint16_t type;
	uint8_t smac[6] = { 0 };

	l->handled++;
	if (l->has_mac) {
		if (len < LP_ETH_HLEN)
			return;
		memcpy(smac, p + 6, 6);
		type = lp_get16(p + 12);
		p += LP_ETH_HLEN;
		len -= LP_ETH_HLEN;
		while ((type == 0x8100 || type == 0x88a8) && len >= 4) {
			type = lp_get16(p + 2);
			p += 4;
			len -= 4;
		}
		if (type == ETHERTYPE_ARP) {
			handle_arp(l, p, len);
			return;
		}
		if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
			return;
	}
	memcpy(l->rx_mac, smac, 6);
	if ((flags & LP_RX_HEADERS) &&
	    (wire_len < caplen || !cut_usable(l, p, len, wire_len - (size_t)(p - data), flags)))
		return;
	l->rx_flags = flags;
	if (len >= 40 && (p[0] >> 4) == 6 && p[6] == 58 && handle_icmp6(l, smac, p, len))
		return;
	if (ours(l, p, len)) {
		headers_try(l, p, len, flags);
		if (l->trace && l->rx)
			l->trace(l->trace_ctx, false, p, len);
		if (l->rx)
			l->rx(l->rx_ctx, p, len);
	} else if (l->other && l->cfg.all_to_local && to_local(l, p, len)) {
		if (l->trace)
			l->trace(l->trace_ctx, false, p, len);
		l->other(l->other_ctx, p, len);
	}
}

int lp_link_dispatch(struct lp_link *l, lp_link_rx_fn rx, void *ctx)
{
	int rc;

	l->rx = rx;
	l->rx_ctx = ctx;
	l->handled = 0;
	rc = l->ops->recv(l);
	l->rx = NULL;
	return rc < 0 ? rc : l->handled;
}

int lp_link_wait(struct lp_link *l, uint64_t timeout_ns, lp_link_rx_fn rx, void *ctx)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	uint64_t ms = timeout_ns / 1000000 + (timeout_ns % 1000000 ? 1 : 0);

	if (poll(&pfd, 1, ms > 1000 ? 1000 : (int)ms) < 0) {
		int e = errno;

		if (e == EINTR)
			return 0;
		snprintf(l->err, sizeof(l->err), "poll: %s", strerror(e));
		return -e;
	}
	return lp_link_dispatch(l, rx, ctx);
}

static uint64_t now_ms(void)
{
	return lp_clock_ns(CLOCK_MONOTONIC) / 1000000u;
}

/* Ask once: ARP request, or a neighbour solicitation to the solicited-node
 * multicast address and its MAC (RFC 4291, 2464). */
static int solicit(struct lp_link *l, const uint8_t *addr)
{
	static const uint8_t zero[6];
	uint8_t dip[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	uint8_t dmac[6] = { 0x33, 0x33, 0xff };

	if (l->cfg.local.family == AF_INET)
		return send_arp(l, 1, bcast, zero, addr);
	memcpy(dip + 13, addr + 13, 3);
	memcpy(dmac + 3, addr + 13, 3);
	return send_nd(l, ND_NS, dmac, dip, addr);
}

int lp_link_resolve(struct lp_link *l, const uint8_t *addr, uint8_t mac[6], unsigned timeout_ms,
		    unsigned tries)
{
	int rc = -EHOSTUNREACH;

	if (!l->has_mac)
		return -EPROTONOSUPPORT;
	memcpy(l->want, addr, alen(l->cfg.local.family));
	l->resolving = true;
	l->resolved = false;
	for (unsigned t = 0; t < tries && !l->resolved; t++) {
		uint64_t end = now_ms() + timeout_ms;
		int src = solicit(l, addr);

		if (src) {
			rc = src;
			break;
		}
		while (!l->resolved) {
			struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
			uint64_t now = now_ms();

			if (now >= end)
				break;
			if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR)
				break;
			if (lp_link_dispatch(l, NULL, NULL) < 0)
				break;
		}
	}
	l->resolving = false;
	if (l->resolved) {
		memcpy(mac, l->got_mac, 6);
		rc = 0;
	}
	return rc;
}

void lp_link_set_peer_mac(struct lp_link *l, const uint8_t mac[6])
{
	memcpy(l->peer_mac, mac, 6);
}

void lp_link_set_trace(struct lp_link *l, lp_link_trace_fn fn, void *ctx)
{
	l->trace = fn;
	l->trace_ctx = ctx;
}

void lp_link_set_other(struct lp_link *l, lp_link_rx_fn other, void *ctx)
{
	l->other = other;
	l->other_ctx = ctx;
}

unsigned lp_link_rx_flags(const struct lp_link *l)
{
	return l->rx_flags;
}

bool lp_link_headers_only(const struct lp_link *l)
{
	return l->headers_on;
}

bool lp_link_rx_mac(const struct lp_link *l, uint8_t mac[6])
{
	if (!l->has_mac)
		return false;
	memcpy(mac, l->rx_mac, 6);
	return true;
}

int lp_link_fd(const struct lp_link *l)
{
	return l->fd;
}

bool lp_link_has_mac(const struct lp_link *l)
{
	return l->has_mac;
}

unsigned lp_link_drops(struct lp_link *l)
{
	uint64_t d = l->ops->drops(l);

	return d > UINT32_MAX ? UINT32_MAX : (unsigned)d;
}

const char *lp_link_error(const struct lp_link *l)
{
	return l->err;
}

void lp_link_close(struct lp_link *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->ops->destroy(l);
}

int lp_link_release_fd(const struct lp_link *l)
{
	return l && l->ops->close_waits ? l->fd : -1;
}

void lp_link_close_async(struct lp_link *l)
{
	int fd = lp_link_release_fd(l);
	int go = fd >= 0 ? lp_release_helper(&fd, 1) : -1;

	/* With the helper holding it, not the last reference: at once. */
	lp_link_close(l);
	lp_release_go(go);
}

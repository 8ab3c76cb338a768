/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet-socket link: one AF_PACKET socket per connection, inbound only, with
 * a kernel BPF filter (compiled by libpcap) for the connection plus ARP and
 * ICMPv6 for neighbour discovery. ARP (RFC 826) and neighbour discovery
 * (RFC 4861) are built here.
 *
 * The socket is opened by hand rather than with pcap_activate(): libpcap sets
 * up a TPACKET ring, and packet_set_ring() waits for an RCU grace period
 * (synchronize_net(), 10-30 ms) whatever the socket's state. A socket opened
 * with protocol 0 is attached to no interface, so the filter goes on before
 * bind() and no packet is seen unfiltered; packets are then read in batches
 * with recvmmsg(). Closing any packet socket waits for a grace period too
 * (packet_release()): lp_link_pcap_close_async() leaves that wait to a
 * short-lived helper process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpliveplay/icmp.h"
#include "tcpliveplay/link_pcap.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/bytes.h"
#include "tcpliveplay/util.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define ETH_HLEN 14
#define FRAME_MAX (ETH_HLEN + 65535)
/* What one capture slot holds, as libpcap's snapshot length was. */
#define SNAPLEN (65535 + 64)
/* Packets read by one recvmmsg(): one engine turn, so one cumulative ACK per
 * batch at most. */
#define RX_BATCH 32
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

#define ND_NS 135
#define ND_NA 136

struct lp_link_pcap {
	int fd;
	int dlt;
	uint64_t drops;
	uint8_t *rxbuf;                      /* RX_BATCH slots of SNAPLEN bytes */
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_ll from[RX_BATCH];
	struct lp_link_pcap_cfg cfg;
	uint8_t peer_mac[6];
	/* neighbour resolution in progress */
	bool resolving, resolved;
	uint8_t want[16], got_mac[6];
	lp_link_rx_fn rx;
	void *rx_ctx;
	lp_link_rx_fn other;
	void *other_ctx;
	/* source MAC of the frame being handled, for the callbacks */
	uint8_t rx_mac[6];
	int handled;
	char err[PCAP_ERRBUF_SIZE + 64];
	uint8_t frame[FRAME_MAX];
};

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int inject(struct lp_link_pcap *l, const uint8_t *frame, size_t len)
{
	ssize_t n;

	do
		n = send(l->fd, frame, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		snprintf(l->err, sizeof(l->err), "send: %s", strerror(e));
		return -e;
	}
	return 0;
}

static size_t eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	lp_put16(f + 12, type);
	return ETH_HLEN;
}

int lp_link_pcap_send_to(struct lp_link_pcap *l, const uint8_t *mac, const uint8_t *ip, size_t len)
{
	size_t off = 0;

	if (len == 0 || len > 65535)
		return -EMSGSIZE;
	if (l->dlt == DLT_EN10MB)
		off = eth_header(l->frame, mac ? mac : l->peer_mac, l->cfg.local_mac,
				 (ip[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	memcpy(l->frame + off, ip, len);
	return inject(l, l->frame, off + len);
}

int lp_link_pcap_send(struct lp_link_pcap *l, const uint8_t *ip, size_t len)
{
	return lp_link_pcap_send_to(l, NULL, ip, len);
}

/* ARP request (op 1) or reply (op 2) from our address. */
static int send_arp(struct lp_link_pcap *l, uint16_t op, const uint8_t *dmac, const uint8_t *tha,
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
	return inject(l, f, n + 28);
}

/* Neighbour solicitation (for target) or advertisement (of our address). */
static int send_nd(struct lp_link_pcap *l, uint8_t type, const uint8_t *dmac, const uint8_t *dip,
		   const uint8_t *target)
{
	uint8_t *f = l->frame, *ip, *icmp;
	size_t n = eth_header(f, dmac, l->cfg.local_mac, ETHERTYPE_IPV6);
	const size_t icmplen = 8 + 16 + 8;
	uint8_t pseudo[8] = { 0 };
	uint32_t sum = 0;

	ip = f + n;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	lp_put16(ip + 4, (uint16_t)icmplen);
	ip[6] = 58;       /* ICMPv6 */
	ip[7] = 255;      /* hop limit: neighbour discovery must not be routed */
	memcpy(ip + 8, l->cfg.local.addr, 16);
	memcpy(ip + 24, dip, 16);
	icmp = ip + 40;
	memset(icmp, 0, icmplen);
	icmp[0] = type;
	if (type == ND_NA)
		icmp[4] = 0x60;   /* solicited, override */
	memcpy(icmp + 8, target, 16);
	icmp[24] = type == ND_NA ? 2 : 1;   /* target / source link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, l->cfg.local_mac, 6);
	pseudo[3] = (uint8_t)icmplen;
	pseudo[7] = 58;
	sum = lp_csum_add(sum, ip + 8, 32);
	sum = lp_csum_add(sum, pseudo, 8);
	sum = lp_csum_add(sum, icmp, icmplen);
	lp_put16(icmp + 2, lp_csum_fold(sum));
	return inject(l, f, n + 40 + icmplen);
}

static void handle_arp(struct lp_link_pcap *l, const uint8_t *p, size_t len)
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
static bool handle_icmp6(struct lp_link_pcap *l, const uint8_t *smac, const uint8_t *ip, size_t len)
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
static bool to_local(const struct lp_link_pcap *l, const uint8_t *ip, size_t len)
{
	if (l->cfg.local.family == AF_INET)
		return len >= 20 && (ip[0] >> 4) == 4 && !memcmp(ip + 16, l->cfg.local.addr, 4);
	return len >= 40 && (ip[0] >> 4) == 6 && !memcmp(ip + 24, l->cfg.local.addr, 16);
}

/* The connection a packet is about, seen from our side: a TCP segment's
 * addresses and ports, or those an ICMP or ICMPv6 error addressed to us
 * quotes from one of our segments. False for anything else. */
static bool tuple_of(const struct lp_link_pcap *l, const uint8_t *ip, size_t len, struct lp_icmp *ic,
		     const uint8_t **local, const uint8_t **remote, uint16_t *lport, uint16_t *rport)
{
	int fam = l->cfg.local.family;
	size_t hl = fam == AF_INET ? (size_t)(ip[0] & 15) * 4 : LP_IPV6_HDR;

	if (len < LP_IPV6_HDR || (ip[0] >> 4) != (fam == AF_INET ? 4 : 6) || hl < LP_IPV4_HDR)
		return false;
	if (ip[fam == AF_INET ? 9 : 6] == 6 && len >= hl + 4) {
		*remote = ip + (fam == AF_INET ? 12 : 8);
		*local = ip + (fam == AF_INET ? 16 : 24);
		*rport = lp_get16(ip + hl);
		*lport = lp_get16(ip + hl + 2);
		return true;
	}
	/* An error is the connection's when it reaches us and quotes it. */
	if (lp_icmp_parse(ip, len, ic) == 0 && ic->family == fam &&
	    !memcmp(ic->to, l->cfg.local.addr, alen(fam))) {
		*local = ic->qsrc;
		*remote = ic->qdst;
		*lport = ic->qsport;
		*rport = ic->qdport;
		return true;
	}
	return false;
}

/* Is this IP packet the connection's (the BPF filter lets neighbour
 * discovery and ICMP errors through too)? */
static bool ours(const struct lp_link_pcap *l, const uint8_t *ip, size_t len)
{
	const struct lp_endpoint *lo = &l->cfg.local, *re = &l->cfg.remote;
	const uint8_t *src, *dst;
	uint16_t lport, rport;
	size_t al = alen(lo->family);
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

static void on_packet(struct lp_link_pcap *l, const uint8_t *data, size_t caplen)
{
	const uint8_t *p = data;
	size_t len = caplen;
	uint16_t type;
	uint8_t smac[6] = { 0 };

	l->handled++;
	if (l->dlt == DLT_EN10MB) {
		if (len < ETH_HLEN)
			return;
		memcpy(smac, p + 6, 6);
		type = lp_get16(p + 12);
		p += ETH_HLEN;
		len -= ETH_HLEN;
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
	if (len >= 40 && (p[0] >> 4) == 6 && p[6] == 58 && handle_icmp6(l, smac, p, len))
		return;
	if (ours(l, p, len)) {
		if (l->rx)
			l->rx(l->rx_ctx, p, len);
	} else if (l->other && l->cfg.all_to_local && to_local(l, p, len)) {
		l->other(l->other_ctx, p, len);
	}
}

int lp_link_pcap_dispatch(struct lp_link_pcap *l, lp_link_rx_fn rx, void *ctx)
{
	int n;

	for (unsigned i = 0; i < RX_BATCH; i++) {
		l->msgs[i].msg_hdr.msg_name = &l->from[i];
		l->msgs[i].msg_hdr.msg_namelen = sizeof(l->from[i]);
		l->msgs[i].msg_hdr.msg_flags = 0;
	}
	do
		n = recvmmsg(l->fd, l->msgs, RX_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		snprintf(l->err, sizeof(l->err), "recvmmsg: %s%s", strerror(errno),
			 errno == ENETDOWN ? " (the interface went down)" : "");
		return -EIO;
	}
	l->rx = rx;
	l->rx_ctx = ctx;
	l->handled = 0;
	for (int i = 0; i < n; i++) {
		/* Inbound only: our own frames, and loopback's outgoing copy of
		 * what it then receives, stay out (as libpcap's PCAP_D_IN did). */
		if (l->from[i].sll_pkttype == PACKET_OUTGOING)
			continue;
		/* Bigger than a slot (a GRO or BIG TCP aggregate): not whole. */
		if (l->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue;
		on_packet(l, l->iov[i].iov_base, l->msgs[i].msg_len);
	}
	l->rx = NULL;
	return l->handled;
}

int lp_link_pcap_wait(struct lp_link_pcap *l, uint64_t timeout_ns, lp_link_rx_fn rx, void *ctx)
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
	return lp_link_pcap_dispatch(l, rx, ctx);
}

static uint64_t now_ms(void)
{
	return lp_clock_ns(CLOCK_MONOTONIC) / 1000000u;
}

int lp_link_pcap_resolve(struct lp_link_pcap *l, const uint8_t *addr, uint8_t mac[6],
			 unsigned timeout_ms, unsigned tries)
{
	int fam = l->cfg.local.family, rc = -EHOSTUNREACH;

	if (l->dlt != DLT_EN10MB)
		return -EPROTONOSUPPORT;
	memcpy(l->want, addr, alen(fam));
	l->resolving = true;
	l->resolved = false;
	for (unsigned t = 0; t < tries && !l->resolved; t++) {
		uint64_t end = now_ms() + timeout_ms;
		int src;

		if (fam == AF_INET) {
			static const uint8_t zero[6];

			src = send_arp(l, 1, bcast, zero, addr);
		} else {
			/* Solicited-node multicast address and its MAC (RFC 4291, 2464). */
			uint8_t dip[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
			uint8_t dmac[6] = { 0x33, 0x33, 0xff };

			memcpy(dip + 13, addr + 13, 3);
			memcpy(dmac + 3, addr + 13, 3);
			src = send_nd(l, ND_NS, dmac, dip, addr);
		}
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
			if (lp_link_pcap_dispatch(l, NULL, NULL) < 0)
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

static int build_filter(const struct lp_link_pcap_cfg *c, char *buf, size_t len)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN], rport[32] = "", lport[32];
	const char *ipkw = c->local.family == AF_INET ? "ip" : "ip6";
	int n;

	if (!inet_ntop(c->local.family, c->local.addr, la, sizeof(la)))
		return -EINVAL;
	if (c->remote.family && !inet_ntop(c->remote.family, c->remote.addr, ra, sizeof(ra)))
		return -EINVAL;
	if (c->remote.port)
		snprintf(rport, sizeof(rport), " and src port %u", c->remote.port);
	if (c->all_to_local) {
		n = snprintf(buf, len, "(%s and dst host %s) or %s", ipkw, la,
			     c->local.family == AF_INET ? "arp" : "icmp6");
		return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
	}
	if (c->local_port_last > c->local.port)
		snprintf(lport, sizeof(lport), "portrange %u-%u", c->local.port, c->local_port_last);
	else
		snprintf(lport, sizeof(lport), "port %u", c->local.port);
	/* ICMPv6 comes through whole (neighbour discovery); of ICMP, the
	 * errors a segment can draw: unreachable, time exceeded, parameter
	 * problem. The software filter keeps those quoting our segments. */
	n = snprintf(buf, len, "(%s and tcp and dst host %s and dst %s%s%s%s) or %s", ipkw, la,
		     lport, c->remote.family ? " and src host " : "", c->remote.family ? ra : "",
		     rport, c->local.family == AF_INET ? "arp or (icmp and dst host " : "icmp6");
	if (n > 0 && (size_t)n < len && c->local.family == AF_INET)
		n += snprintf(buf + n, len - (size_t)n,
			      "%s and (icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))", la);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* Compile the filter for link type dlt and attach it to the unbound socket. */
static int attach_filter(struct lp_link_pcap *l, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	struct sock_fprog fprog;
	pcap_t *dead;
	int rc = 0;

	dead = pcap_open_dead(l->dlt, SNAPLEN);
	if (!dead) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s: filter '%s': %s", l->cfg.ifname, filter, pcap_geterr(dead));
		rc = -EINVAL;
		goto out;
	}
	fprog.len = (unsigned short)prog.bf_len;
	fprog.filter = (struct sock_filter *)prog.bf_insns;
	if (setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot attach the capture filter: %s", l->cfg.ifname,
			 strerror(errno));
	}
	pcap_freecode(&prog);
out:
	pcap_close(dead);
	return rc;
}

/* The link type of the interface, as libpcap would name it. */
static int link_type(struct lp_link_pcap *l, char *err, size_t errlen)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", l->cfg.ifname);
	if (ioctl(l->fd, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(err, errlen, "%s: %s", l->cfg.ifname, strerror(errno));
		return -EIO;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		snprintf(err, errlen, "%s: interface is down", l->cfg.ifname);
		return -ENETDOWN;
	}
	if (ioctl(l->fd, SIOCGIFHWADDR, &ifr) < 0) {
		snprintf(err, errlen, "%s: %s", l->cfg.ifname, strerror(errno));
		return -EIO;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		l->dlt = DLT_EN10MB;
		return 0;
	case ARPHRD_NONE:
#ifdef ARPHRD_RAWIP
	case ARPHRD_RAWIP:
#endif
		l->dlt = DLT_RAW;
		return 0;
	default:
		snprintf(err, errlen, "%s: link type ARPHRD %u cannot be replayed on (Ethernet or raw IP only)",
			 l->cfg.ifname, (unsigned)ifr.ifr_hwaddr.sa_family);
		return -EPROTONOSUPPORT;
	}
}

int lp_link_pcap_open(const struct lp_link_pcap_cfg *cfg, struct lp_link_pcap **out, char *err,
		      size_t errlen)
{
	char filter[512];
	struct sockaddr_ll sll;
	unsigned ifindex;
	int rc, one = 1, rcvbuf;
	struct lp_link_pcap *l;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fd = -1;
	l->cfg = *cfg;
	memcpy(l->peer_mac, bcast, 6);
	l->rxbuf = malloc((size_t)RX_BATCH * SNAPLEN);
	if (!l->rxbuf) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < RX_BATCH; i++) {
		l->iov[i].iov_base = l->rxbuf + (size_t)i * SNAPLEN;
		l->iov[i].iov_len = SNAPLEN;
		l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
		l->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* Protocol 0: no packet reaches the socket before bind(). */
	l->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		rc = -errno;
		if (rc == -EPERM || rc == -EACCES) {
			snprintf(err, errlen, "%s: no permission to capture (socket: %s); run as root or "
				 "give the program CAP_NET_RAW", cfg->ifname, strerror(errno));
			rc = -EPERM;
		} else {
			snprintf(err, errlen, "%s: socket: %s", cfg->ifname, strerror(errno));
		}
		goto fail;
	}
	ifindex = if_nametoindex(cfg->ifname);
	if (!ifindex) {
		snprintf(err, errlen, "%s: no such interface", cfg->ifname);
		rc = -ENODEV;
		goto fail;
	}
	rc = link_type(l, err, errlen);
	if (rc)
		goto fail;
	rc = build_filter(cfg, filter, sizeof(filter));
	if (rc) {
		snprintf(err, errlen, "cannot build the capture filter");
		goto fail;
	}
	rc = attach_filter(l, filter, err, errlen);
	if (rc)
		goto fail;
	/* Inbound only; the check in dispatch covers kernels without this. */
	setsockopt(l->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	rcvbuf = (int)(cfg->buffer_kib ? cfg->buffer_kib : 4096) * 1024;
	if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(l->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: bind: %s", cfg->ifname, strerror(errno));
		if (rc == -ENODEV)
			snprintf(err, errlen, "%s: no such interface", cfg->ifname);
		else if (rc == -ENETDOWN)
			snprintf(err, errlen, "%s: interface is down", cfg->ifname);
		goto fail;
	}
	*out = l;
	return 0;
fail:
	lp_link_pcap_close(l);
	return rc;
}

void lp_link_pcap_set_peer_mac(struct lp_link_pcap *l, const uint8_t mac[6])
{
	memcpy(l->peer_mac, mac, 6);
}

void lp_link_pcap_set_other(struct lp_link_pcap *l, lp_link_rx_fn other, void *ctx)
{
	l->other = other;
	l->other_ctx = ctx;
}

bool lp_link_pcap_rx_mac(const struct lp_link_pcap *l, uint8_t mac[6])
{
	if (l->dlt != DLT_EN10MB)
		return false;
	memcpy(mac, l->rx_mac, 6);
	return true;
}

int lp_link_pcap_fd(const struct lp_link_pcap *l)
{
	return l->fd;
}

bool lp_link_pcap_has_mac(const struct lp_link_pcap *l)
{
	return l->dlt == DLT_EN10MB;
}

unsigned lp_link_pcap_drops(const struct lp_link_pcap *l)
{
	struct lp_link_pcap *m = (struct lp_link_pcap *)l;
	struct tpacket_stats st;
	socklen_t sl = sizeof(st);

	/* The kernel resets its counters on each read: keep the total. */
	if (getsockopt(l->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
		m->drops += st.tp_drops;
	return l->drops > UINT32_MAX ? UINT32_MAX : (unsigned)l->drops;
}

const char *lp_link_pcap_error(const struct lp_link_pcap *l)
{
	return l->err;
}

void lp_link_pcap_close(struct lp_link_pcap *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->rxbuf);
	free(l);
}

/* In a helper: close every descriptor but a and b. */
/* Close every descriptor but a and b (a != b): close_range(), else one by
 * one (a kernel before 5.9, a seccomp filter refusing it). */
static void close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;
	long max;
	bool ok = true;

	if (lo > 0)
		ok = close_range(0, (unsigned)lo - 1, 0) == 0;
	if (ok && hi > lo + 1)
		ok = close_range((unsigned)lo + 1, (unsigned)hi - 1, 0) == 0;
	if (ok && close_range((unsigned)hi + 1, ~0u, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1048576)
		max = 1048576;
	for (int fd = 0; fd < (int)max; fd++)
		if (fd != a && fd != b)
			close(fd);
}

/* LeakSanitizer stops the process with ptrace at exit to scan it; a process
 * that forked the closing helper was seen to hang there for good, so sanitizer
 * builds close in place. */
#if defined(__SANITIZE_ADDRESS__)
#define CLOSE_IN_PLACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLOSE_IN_PLACE 1
#endif
#endif
#ifndef CLOSE_IN_PLACE
#define CLOSE_IN_PLACE 0
#endif

void lp_link_pcap_close_async(struct lp_link_pcap *l)
{
	int p[2];
	pid_t pid;
	char c;

	if (CLOSE_IN_PLACE || !l || l->fd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		lp_link_pcap_close(l);
		return;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		lp_link_pcap_close(l);
		return;
	}
	if (pid == 0) {
		/* The middle process leaves at once, so the helper is init's
		 * child, never a zombie of ours. */
		if (fork() == 0) {
			/* The helper: the caller's streams and sockets are not
			 * its to hold; the packet socket is, until the caller has
			 * let go of it (end of file on the pipe). Signals end it. */
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			close(p[1]);
			close_all_but(l->fd, p[0]);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
		}
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(p[0]);
	/* Not the last reference: this returns at once. Then the helper goes. */
	close(l->fd);
	l->fd = -1;
	close(p[1]);
	lp_link_pcap_close(l);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libpcap link: one live handle per connection, immediate mode (packets are
 * handed over as they arrive, not when a buffer fills), inbound only, with a
 * kernel BPF filter for the connection plus ARP and ICMPv6 for neighbour
 * discovery. ARP (RFC 826) and neighbour discovery (RFC 4861) are built here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "tcpliveplay/link_pcap.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/bytes.h"

#define ETH_HLEN 14
#define FRAME_MAX (ETH_HLEN + 65535)
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

#define ND_NS 135
#define ND_NA 136

struct lp_link_pcap {
	pcap_t *pcap;
	int dlt;
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
	if (pcap_inject(l->pcap, frame, len) < 0) {
		snprintf(l->err, sizeof(l->err), "%s", pcap_geterr(l->pcap));
		return -EIO;
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

/* Is this IP packet the connection's (the BPF filter lets neighbour
 * discovery through too)? */
static bool ours(const struct lp_link_pcap *l, const uint8_t *ip, size_t len)
{
	const struct lp_endpoint *lo = &l->cfg.local, *re = &l->cfg.remote;
	size_t hl, al = alen(lo->family);
	const uint8_t *src, *dst, *tcp;

	if (lo->family == AF_INET) {
		if (len < 20 || (ip[0] >> 4) != 4 || ip[9] != 6)
			return false;
		hl = (size_t)(ip[0] & 15) * 4;
		src = ip + 12;
		dst = ip + 16;
	} else {
		if (len < 40 || (ip[0] >> 4) != 6 || ip[6] != 6)
			return false;
		hl = 40;
		src = ip + 8;
		dst = ip + 24;
	}
	if (hl < 20 || len < hl + 4)
		return false;
	tcp = ip + hl;
	if (memcmp(dst, lo->addr, al) || lp_get16(tcp + 2) != lo->port)
		return false;
	if (re->family && memcmp(src, re->addr, al))
		return false;
	return !re->port || lp_get16(tcp) == re->port;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct lp_link_pcap *l = (struct lp_link_pcap *)user;
	const uint8_t *p = data;
	size_t len = h->caplen;
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

	l->rx = rx;
	l->rx_ctx = ctx;
	l->handled = 0;
	n = pcap_dispatch(l->pcap, -1, on_packet, (u_char *)l);
	l->rx = NULL;
	if (n == PCAP_ERROR) {
		snprintf(l->err, sizeof(l->err), "%s", pcap_geterr(l->pcap));
		return -EIO;
	}
	return l->handled;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
			struct pollfd pfd = { .fd = pcap_get_selectable_fd(l->pcap), .events = POLLIN };
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
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN], rport[32] = "";
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
	n = snprintf(buf, len, "(%s and tcp and dst host %s and dst port %u%s%s%s) or %s", ipkw, la,
		     c->local.port, c->remote.family ? " and src host " : "", c->remote.family ? ra : "",
		     rport, c->local.family == AF_INET ? "arp" : "icmp6");
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int lp_link_pcap_open(const struct lp_link_pcap_cfg *cfg, struct lp_link_pcap **out, char *err,
		      size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "", filter[512];
	struct bpf_program prog;
	struct lp_link_pcap *l;
	int rc;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->cfg = *cfg;
	memcpy(l->peer_mac, bcast, 6);
	l->pcap = pcap_create(cfg->ifname, perr);
	if (!l->pcap) {
		snprintf(err, errlen, "%s: %s", cfg->ifname, perr);
		rc = -ENODEV;
		goto fail;
	}
	pcap_set_snaplen(l->pcap, 65535 + 64);
	pcap_set_immediate_mode(l->pcap, 1);
	pcap_set_buffer_size(l->pcap, (int)(cfg->buffer_kib ? cfg->buffer_kib : 4096) * 1024);
	rc = pcap_activate(l->pcap);
	if (rc < 0) {
		const char *why = pcap_geterr(l->pcap);

		if (rc == PCAP_ERROR_PERM_DENIED) {
			snprintf(err, errlen, "%s: no permission to capture (%s); run as root or give "
				 "the program CAP_NET_RAW", cfg->ifname, why);
			rc = -EPERM;
		} else if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
			snprintf(err, errlen, "%s: no such interface", cfg->ifname);
			rc = -ENODEV;
		} else if (rc == PCAP_ERROR_IFACE_NOT_UP) {
			snprintf(err, errlen, "%s: interface is down", cfg->ifname);
			rc = -ENETDOWN;
		} else {
			snprintf(err, errlen, "%s: %s", cfg->ifname, why);
			rc = -EIO;
		}
		goto fail;
	}
	l->dlt = pcap_datalink(l->pcap);
	if (l->dlt != DLT_EN10MB && l->dlt != DLT_RAW) {
		snprintf(err, errlen, "%s: link type %s cannot be replayed on (Ethernet or raw IP only)",
			 cfg->ifname, pcap_datalink_val_to_name(l->dlt) ? pcap_datalink_val_to_name(l->dlt) : "?");
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	/* Inbound only where the platform can: our own injected frames stay out. */
	if (!cfg->loopback)
		pcap_setdirection(l->pcap, PCAP_D_IN);
	rc = build_filter(cfg, filter, sizeof(filter));
	if (rc) {
		snprintf(err, errlen, "cannot build the capture filter");
		goto fail;
	}
	if (pcap_compile(l->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s: filter '%s': %s", cfg->ifname, filter, pcap_geterr(l->pcap));
		rc = -EINVAL;
		goto fail;
	}
	rc = pcap_setfilter(l->pcap, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", cfg->ifname, pcap_geterr(l->pcap));
		rc = -EIO;
		goto fail;
	}
	if (pcap_setnonblock(l->pcap, 1, perr) < 0) {
		snprintf(err, errlen, "%s: %s", cfg->ifname, perr);
		rc = -EIO;
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
	return pcap_get_selectable_fd(l->pcap);
}

bool lp_link_pcap_has_mac(const struct lp_link_pcap *l)
{
	return l->dlt == DLT_EN10MB;
}

unsigned lp_link_pcap_drops(const struct lp_link_pcap *l)
{
	struct pcap_stat st;

	if (pcap_stats(l->pcap, &st) < 0)
		return 0;
	return st.ps_drop;
}

const char *lp_link_pcap_error(const struct lp_link_pcap *l)
{
	return l->err;
}

void lp_link_pcap_close(struct lp_link_pcap *l)
{
	if (!l)
		return;
	if (l->pcap)
		pcap_close(l->pcap);
	free(l);
}

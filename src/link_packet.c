/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet-socket link: one AF_PACKET socket, inbound only, with a kernel BPF
 * filter (compiled by libpcap) for the connection plus ARP and ICMPv6 for
 * neighbour discovery; the frames are handled by link.c.
 *
 * The socket is opened by hand rather than with pcap_activate(): libpcap sets
 * up a TPACKET ring, and packet_set_ring() waits for an RCU grace period
 * (synchronize_net(), 10-30 ms) whatever the socket's state. A socket opened
 * with protocol 0 is attached to no interface, so the filter goes on before
 * bind() and no packet is seen unfiltered; packets are then read in batches
 * with recvmmsg(). For a big transfer (cfg.ring_mib) that wait is worth it:
 * a TPACKET_V3 receive ring, set up before bind() too, where the kernel
 * writes frames into blocks we read in place and hand back: no system call
 * per frame, and no second copy into a buffer of ours. The ring says per
 * frame whether the kernel checked its checksum (TP_STATUS_CSUM_VALID, or
 * TP_STATUS_CSUMNOTREADY for a sender on this host): with
 * cfg.rx_headers_only, once it has, the filter is swapped for one whose
 * program keeps only the headers of the connection's segments (the
 * kernel's copy into the ring is then a few hundred bytes, not the
 * segment). Closing any packet socket waits for a grace period too
 * (packet_release()): lp_link_close_async() leaves that wait to a
 * short-lived helper process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "link_int.h"
#include "tcpliveplay/link_packet.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef TP_STATUS_CSUM_VALID
#define TP_STATUS_CSUM_VALID (1 << 7)
#endif

/* What one receive slot holds, as libpcap's snapshot length was. */
#define SNAPLEN (65535 + 64)
/* What is kept of a segment cut after its headers (cfg.rx_headers_only):
 * Ethernet, two VLAN tags, IPv4 or IPv6 with extension headers, and TCP
 * with the most options (a frame whose headers do not fit is not used:
 * link.c). */
#define HEADERS_SNAP 256
/* The ring's blocks unless cfg.ring_block_kib says: each holds a whole
 * 64 KiB aggregate with its headers. A block goes to us when full or
 * RING_BLOCK_MS after its first frame. */
#define RING_BLOCK (512u << 10)
#define RING_BLOCK_MS 1

/* A TPACKET_V3 receive ring and where we are in it. */
struct ring {
	uint8_t *map;
	size_t len, bsize;                   /* in all, of a block */
	unsigned nblocks, block;             /* the block we read */
	uint8_t *next;                       /* its next frame, NULL: not started */
	uint32_t left;                       /* frames of it still to read */
};

struct packet_link {
	struct lp_link base;
	const char *ifname;                  /* the caller's, outliving the link: for messages */
	int dlt;
	bool vnet;                           /* PACKET_VNET_HDR: a virtio_net_hdr before each frame */
	uint64_t drops;
	struct ring ring;                    /* map NULL: recvmmsg() */
	char filter[2][384];                 /* the connection's segments, the rest (build_filter()) */
	uint8_t *rxbuf;                      /* LP_LINK_RX_BATCH slots of SNAPLEN bytes */
	struct mmsghdr msgs[LP_LINK_RX_BATCH];
	struct iovec iov[LP_LINK_RX_BATCH];
	struct sockaddr_ll from[LP_LINK_RX_BATCH];
};

/* sendmsg() of the pieces of one frame; the virtio_net_hdr first when the
 * socket takes one. */
static int send_iov(struct lp_link *l, struct iovec *iov, size_t n)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t rc;

	do
		rc = sendmsg(l->fd, &mh, 0);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int e = errno;

		snprintf(l->err, sizeof(l->err), "send: %s", strerror(e));
		return -e;
	}
	return 0;
}

static int packet_xmit(struct lp_link *l, const uint8_t *frame, size_t len)
{
	struct packet_link *pl = (struct packet_link *)l;
	struct virtio_net_hdr vh = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = &vh, .iov_len = sizeof(vh) },
		{ .iov_base = (void *)frame, .iov_len = len },
	};

	return pl->vnet ? send_iov(l, iov, 2) : send_iov(l, iov + 1, 1);
}

/* The IP packet behind the link header, with its virtio_net_hdr. */
static int packet_xmit_ip(struct lp_link *l, const uint8_t *hdr, size_t hlen, const uint8_t *ip,
			  size_t len, const struct lp_gso *g)
{
	struct packet_link *pl = (struct packet_link *)l;
	struct virtio_net_hdr vh;
	struct iovec iov[3] = {
		{ .iov_base = &vh, .iov_len = sizeof(vh) },
		{ .iov_base = (void *)hdr, .iov_len = hlen },
		{ .iov_base = (void *)ip, .iov_len = len },
	};

	lp_link_packet_vnet(&vh, hlen, ip, g);
	return pl->vnet ? send_iov(l, iov, 3) : send_iov(l, iov + 1, 2);
}

void lp_link_packet_vnet(struct virtio_net_hdr *vh, size_t hlen, const uint8_t *ip,
			 const struct lp_gso *g)
{
	memset(vh, 0, sizeof(*vh));
	if (!g || !g->seg_len)
		return;
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = (ip[0] >> 4) == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	vh->hdr_len = (uint16_t)(hlen + g->hdr_len);
	vh->gso_size = g->seg_len;
	vh->csum_start = (uint16_t)(hlen + g->l4_off);
	vh->csum_offset = 16;   /* the TCP checksum's place in its header */
}

/* A ring frame's LP_RX_* flags: the kernel checked its checksum (a NIC or
 * veth did), or it never had one to check (sent from this host, the
 * checksum left to a device); it was cut (snaplen). */
static unsigned rx_flags(const struct tpacket3_hdr *h)
{
	unsigned f = (h->tp_status & (TP_STATUS_CSUM_VALID | TP_STATUS_CSUMNOTREADY)) ? LP_RX_CSUM_OK : 0;

	return h->tp_snaplen < h->tp_len ? f | LP_RX_HEADERS : f;
}

/* Up to LP_LINK_RX_BATCH frames from the ring, each block handed back to
 * the kernel once read. */
static void ring_recv(struct lp_link *l, struct ring *r)
{
	for (unsigned n = 0; n < LP_LINK_RX_BATCH;) {
		struct tpacket_block_desc *bd = (void *)(r->map + (size_t)r->block * r->bsize);

		if (!r->next) {
			if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
				return;
			r->next = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
			r->left = bd->hdr.bh1.num_pkts;
		}
		for (; r->left && n < LP_LINK_RX_BATCH; r->left--, n++) {
			const struct tpacket3_hdr *h = (const void *)r->next;
			const struct sockaddr_ll *sll = (const void *)(r->next + TPACKET_ALIGN(sizeof(*h)));

			/* Inbound only (as in packet_recv()); what the kernel
			 * vouches for, and whether the frame is cut. */
			if (sll->sll_pkttype != PACKET_OUTGOING)
				lp_link_input(l, r->next + h->tp_mac, h->tp_snaplen, h->tp_len, rx_flags(h));
			r->next += h->tp_next_offset;
		}
		if (r->left)
			return;
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->block = (r->block + 1) % r->nblocks;
		r->next = NULL;
	}
}

static int packet_recv(struct lp_link *l)
{
	struct packet_link *pl = (struct packet_link *)l;
	int n;

	if (pl->ring.map) {
		ring_recv(l, &pl->ring);
		return 0;
	}

	for (unsigned i = 0; i < LP_LINK_RX_BATCH; i++) {
		pl->msgs[i].msg_hdr.msg_name = &pl->from[i];
		pl->msgs[i].msg_hdr.msg_namelen = sizeof(pl->from[i]);
		pl->msgs[i].msg_hdr.msg_flags = 0;
	}
	do
		n = recvmmsg(l->fd, pl->msgs, LP_LINK_RX_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* EINVAL with a virtio_net_hdr: a frame the kernel could not
		 * describe in one (an aggregate of a kind it has no header type
		 * for) was dropped. */
		if (errno == EAGAIN || errno == EWOULDBLOCK || (errno == EINVAL && pl->vnet))
			return 0;
		snprintf(l->err, sizeof(l->err), "recvmmsg: %s%s", strerror(errno),
			 errno == ENETDOWN ? " (the interface went down)" : "");
		return -EIO;
	}
	for (int i = 0; i < n; i++) {
		size_t vh = pl->vnet ? sizeof(struct virtio_net_hdr) : 0;

		/* Inbound only: our own frames, and loopback's outgoing copy of
		 * what it then receives, stay out (as libpcap's PCAP_D_IN did). */
		if (pl->from[i].sll_pkttype == PACKET_OUTGOING)
			continue;
		/* Bigger than a slot (a GRO or BIG TCP aggregate): not whole. */
		if ((pl->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || pl->msgs[i].msg_len < vh)
			continue;
		lp_link_input(l, (uint8_t *)pl->iov[i].iov_base + vh, pl->msgs[i].msg_len - vh,
			      pl->msgs[i].msg_len - vh, 0);
	}
	return 0;
}

static uint64_t packet_drops(struct lp_link *l)
{
	struct packet_link *pl = (struct packet_link *)l;
	struct tpacket_stats st;
	socklen_t sl = sizeof(st);

	/* The kernel resets its counters on each read: keep the total. */
	if (getsockopt(l->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
		pl->drops += st.tp_drops;
	return pl->drops;
}

static void packet_destroy(struct lp_link *l)
{
	struct packet_link *pl = (struct packet_link *)l;

	if (pl->ring.map)
		munmap(pl->ring.map, pl->ring.len);
	free(pl->rxbuf);
	free(pl);
}

/* The filter's two parts: [0] the connection's TCP segments (with
 * all_to_local: every IP packet to our address), [1] the rest we take. */
static int build_filter(const struct lp_link_cfg *c, char f[2][384])
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN], rport[32] = "", lport[32];
	const char *ipkw = c->local.family == AF_INET ? "ip" : "ip6";
	int n, m;

	if (!inet_ntop(c->local.family, c->local.addr, la, sizeof(la)))
		return -EINVAL;
	if (c->remote.family && !inet_ntop(c->remote.family, c->remote.addr, ra, sizeof(ra)))
		return -EINVAL;
	if (c->remote.port)
		snprintf(rport, sizeof(rport), " and src port %u", c->remote.port);
	if (c->all_to_local) {
		n = snprintf(f[0], sizeof(f[0]), "%s and dst host %s", ipkw, la);
		m = snprintf(f[1], sizeof(f[1]), "%s", c->local.family == AF_INET ? "arp" : "icmp6");
		return n > 0 && (size_t)n < sizeof(f[0]) && m > 0 ? 0 : -ENAMETOOLONG;
	}
	if (c->local_port_last > c->local.port)
		snprintf(lport, sizeof(lport), "portrange %u-%u", c->local.port, c->local_port_last);
	else
		snprintf(lport, sizeof(lport), "port %u", c->local.port);
	n = snprintf(f[0], sizeof(f[0]), "%s and tcp and dst host %s and dst %s%s%s%s", ipkw, la, lport,
		     c->remote.family ? " and src host " : "", c->remote.family ? ra : "", rport);
	/* ICMPv6 comes through whole (neighbour discovery); of ICMP, the
	 * errors a segment can draw: unreachable, time exceeded, parameter
	 * problem. link.c keeps those that quote our segments. */
	if (c->local.family == AF_INET)
		m = snprintf(f[1], sizeof(f[1]), "arp or (icmp and dst host %s and "
			     "(icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))", la);
	else
		m = snprintf(f[1], sizeof(f[1]), "icmp6");
	return n > 0 && (size_t)n < sizeof(f[0]) && m > 0 && (size_t)m < sizeof(f[1]) ? 0
											  : -ENAMETOOLONG;
}

static int compile(int dlt, const char *expr, int snaplen, struct bpf_program *prog, char *err,
		   size_t errlen)
{
	pcap_t *dead = pcap_open_dead(dlt, snaplen);
	int rc = 0;

	if (!dead) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(dead));
		rc = -EINVAL;
	}
	pcap_close(dead);
	return rc;
}

int lp_link_packet_filter(int dlt, const char *tcp, const char *other, unsigned snap,
			  struct bpf_program *out, char *err, size_t errlen)
{
	struct bpf_program a, b;
	char whole[800];
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!snap) {
		if ((size_t)snprintf(whole, sizeof(whole), "(%s) or %s", tcp, other) >= sizeof(whole)) {
			snprintf(err, errlen, "filter too long");
			return -ENAMETOOLONG;
		}
		return compile(dlt, whole, SNAPLEN, out, err, errlen);
	}
	rc = compile(dlt, tcp, (int)snap, &a, err, errlen);
	if (rc)
		return rc;
	rc = compile(dlt, other, SNAPLEN, &b, err, errlen);
	if (rc) {
		pcap_freecode(&a);
		return rc;
	}
	n = (size_t)a.bf_len + b.bf_len;
	out->bf_insns = n <= BPF_MAXINSNS ? malloc(n * sizeof(*out->bf_insns)) : NULL;
	rc = out->bf_insns ? 0 : -ENOMEM;
	/* The first program's rejections (ret #0) jump to the second; its
	 * acceptances keep snap bytes. A return of another kind would not
	 * say how much to keep: none is expected from libpcap. */
	for (size_t i = 0; !rc && i < a.bf_len; i++) {
		struct bpf_insn in = a.bf_insns[i];

		if (BPF_CLASS(in.code) == BPF_RET && BPF_RVAL(in.code) != BPF_K) {
			rc = -EINVAL;
		} else if (BPF_CLASS(in.code) == BPF_RET && in.k == 0) {
			in.code = BPF_JMP | BPF_JA;
			in.jt = in.jf = 0;
			in.k = (uint32_t)(a.bf_len - i - 1);
		}
		out->bf_insns[i] = in;
	}
	if (!rc) {
		memcpy(out->bf_insns + a.bf_len, b.bf_insns, b.bf_len * sizeof(*b.bf_insns));
		out->bf_len = (unsigned)n;
	} else {
		pcap_freecode(out);
		snprintf(err, errlen, "cannot join the filter's programs: %s", strerror(-rc));
	}
	pcap_freecode(&a);
	pcap_freecode(&b);
	return rc;
}

/* Compile the filter (the connection's segments cut after their headers, or
 * whole) and attach it to the socket: before bind(), or in place of the one
 * it has (atomically: no packet goes unfiltered). */
static int attach_filter(struct packet_link *pl, bool headers, char *err, size_t errlen)
{
	struct bpf_program prog;
	struct sock_fprog fprog;
	char msg[256];
	int rc;

	rc = lp_link_packet_filter(pl->dlt, pl->filter[0], pl->filter[1], headers ? HEADERS_SNAP : 0,
				   &prog, msg, sizeof(msg));
	if (rc) {
		snprintf(err, errlen, "%s: %s", pl->ifname, msg);
		return rc;
	}
	fprog.len = (unsigned short)prog.bf_len;
	fprog.filter = (struct sock_filter *)prog.bf_insns;
	if (setsockopt(pl->base.fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot attach the capture filter: %s", pl->ifname, strerror(errno));
	}
	pcap_freecode(&prog);
	return rc;
}

/* Only with a ring (which says per frame whether the kernel checked its
 * checksum), and for one connection's segments. */
static int packet_rx_headers(struct lp_link *l, bool on)
{
	struct packet_link *pl = (struct packet_link *)l;
	char err[320];

	if (!pl->ring.map || l->cfg.all_to_local)
		return -EOPNOTSUPP;
	return attach_filter(pl, on, err, sizeof(err));
}

static const struct lp_link_ops packet_ops = {
	.kind = "packet socket",
	.xmit = packet_xmit,
	.xmit_ip = packet_xmit_ip,
	.recv = packet_recv,
	.drops = packet_drops,
	.rx_headers = packet_rx_headers,
	.destroy = packet_destroy,
	.close_waits = true,
};

/* The link type of the interface, as libpcap would name it. */
static int link_type(struct packet_link *pl, char *err, size_t errlen)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", pl->ifname);
	if (ioctl(pl->base.fd, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(err, errlen, "%s: %s", pl->ifname, strerror(errno));
		return -EIO;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		snprintf(err, errlen, "%s: interface is down", pl->ifname);
		return -ENETDOWN;
	}
	if (ioctl(pl->base.fd, SIOCGIFHWADDR, &ifr) < 0) {
		snprintf(err, errlen, "%s: %s", pl->ifname, strerror(errno));
		return -EIO;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		pl->dlt = DLT_EN10MB;
		return 0;
	case ARPHRD_NONE:
#ifdef ARPHRD_RAWIP
	case ARPHRD_RAWIP:
#endif
		pl->dlt = DLT_RAW;
		return 0;
	default:
		snprintf(err, errlen, "%s: link type ARPHRD %u cannot be replayed on (Ethernet or raw IP only)",
			 pl->ifname, (unsigned)ifr.ifr_hwaddr.sa_family);
		return -EPROTONOSUPPORT;
	}
}

/* A virtio_net_hdr before each frame sent and received, for segmentation
 * offload; the kernel takes the option only before a ring is set up. */
static bool vnet_on(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) == 0;
}

/* Protocol 0: no packet reaches the socket before bind(). */
static int open_socket(struct packet_link *pl, char *err, size_t errlen)
{
	int rc;

	pl->base.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (pl->base.fd >= 0) {
		pl->vnet = vnet_on(pl->base.fd);
		return 0;
	}
	rc = -errno;
	if (rc == -EPERM || rc == -EACCES) {
		snprintf(err, errlen, "%s: no permission to capture (socket: %s); run as root or "
			 "give the program CAP_NET_RAW", pl->ifname, strerror(-rc));
		return -EPERM;
	}
	snprintf(err, errlen, "%s: socket: %s", pl->ifname, strerror(-rc));
	return rc;
}

/* A TPACKET_V3 ring of mib MiB on the unbound socket fd, mapped, with
 * blocks of block_kib KiB (0: RING_BLOCK); false where the kernel refuses
 * it (the link then reads in batches). */
static bool ring_make(int fd, unsigned mib, unsigned block_kib, struct ring *r)
{
	int v = TPACKET_V3;
	unsigned bsize = block_kib ? block_kib << 10 : RING_BLOCK;
	long page = sysconf(_SC_PAGESIZE);
	struct tpacket_req3 req;
	void *map;

	/* The kernel takes whole pages (64 KiB on some machines). */
	if (page > 0 && bsize % (unsigned long)page)
		bsize = (unsigned)((bsize / (unsigned long)page + 1) * (unsigned long)page);
	memset(&req, 0, sizeof(req));
	req.tp_block_size = bsize;
	req.tp_block_nr = (mib << 20) / bsize;
	req.tp_frame_size = 2048;  /* V3 frames are variable; this only has to divide the block */
	req.tp_frame_nr = req.tp_block_nr * (bsize / req.tp_frame_size);
	req.tp_retire_blk_tov = RING_BLOCK_MS;
	if (!req.tp_block_nr || setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return false;
	map = mmap(NULL, (size_t)req.tp_block_nr * bsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		/* Without its mapping the ring would take every frame: away
		 * with it, the link reads in batches. */
		memset(&req, 0, sizeof(req));
		setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		return false;
	}
	memset(r, 0, sizeof(*r));
	r->map = map;
	r->bsize = bsize;
	r->len = (size_t)req.tp_block_nr * bsize;
	r->nblocks = req.tp_block_nr;
	return true;
}

/* A socket and ring made ahead (lp_link_packet_prepare()). */
struct lp_packet_sock {
	int fd;
	bool vnet;
	struct ring ring;
	unsigned ring_mib;
};

struct lp_packet_sock *lp_link_packet_prepare(unsigned ring_mib, unsigned block_kib)
{
	struct lp_packet_sock *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	/* Protocol 0, unbound: it sees no packet until the link binds it. */
	ps->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (ps->fd < 0) {
		free(ps);
		return NULL;
	}
	ps->vnet = vnet_on(ps->fd);
	if (ring_make(ps->fd, ring_mib, block_kib, &ps->ring))
		ps->ring_mib = ring_mib;
	return ps;
}

void lp_link_packet_prepared_free(struct lp_packet_sock *ps)
{
	if (!ps)
		return;
	if (ps->ring.map)
		munmap(ps->ring.map, ps->ring.len);
	close(ps->fd);
	free(ps);
}

/* Filter, options, then bind(): from here on packets arrive. */
static int activate(struct packet_link *pl, const struct lp_link_cfg *cfg, unsigned ifindex, char *err,
		    size_t errlen)
{
	struct sockaddr_ll sll;
	int rc, one = 1, rcvbuf, fd = pl->base.fd;

	rc = build_filter(cfg, pl->filter);
	if (rc) {
		snprintf(err, errlen, "cannot build the capture filter");
		return rc;
	}
	rc = attach_filter(pl, false, err, errlen);
	if (rc)
		return rc;
	/* Inbound only; the check in packet_recv() covers kernels without this. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (cfg->ring_mib && !pl->ring.map && ring_make(fd, cfg->ring_mib, cfg->ring_block_kib, &pl->ring))
		pl->base.ring_mib = cfg->ring_mib;
	rcvbuf = (int)(cfg->buffer_kib ? cfg->buffer_kib : 4096) * 1024;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0)
		return 0;
	rc = -errno;
	if (rc == -ENODEV)
		snprintf(err, errlen, "%s: no such interface", pl->ifname);
	else if (rc == -ENETDOWN)
		snprintf(err, errlen, "%s: interface is down", pl->ifname);
	else
		snprintf(err, errlen, "%s: bind: %s", pl->ifname, strerror(-rc));
	return rc;
}

int lp_link_packet_open(const char *ifname, const struct lp_link_cfg *cfg, struct lp_packet_sock *ps,
			struct lp_link **out, char *err, size_t errlen)
{
	struct packet_link *pl;
	unsigned ifindex;
	int rc;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl) {
		lp_link_packet_prepared_free(ps);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	lp_link_init(&pl->base, &packet_ops, -1, true, cfg);
	pl->ifname = ifname;
	pl->rxbuf = malloc((size_t)LP_LINK_RX_BATCH * SNAPLEN);
	if (!pl->rxbuf) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < LP_LINK_RX_BATCH; i++) {
		pl->iov[i].iov_base = pl->rxbuf + (size_t)i * SNAPLEN;
		pl->iov[i].iov_len = SNAPLEN;
		pl->msgs[i].msg_hdr.msg_iov = &pl->iov[i];
		pl->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (ps) {
		pl->base.fd = ps->fd;
		pl->vnet = ps->vnet;
		pl->ring = ps->ring;
		pl->base.ring_mib = ps->ring_mib;
		free(ps);
	} else {
		rc = open_socket(pl, err, errlen);
		if (rc)
			goto fail;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "%s: no such interface", ifname);
		rc = -ENODEV;
		goto fail;
	}
	rc = link_type(pl, err, errlen);
	if (!rc)
		rc = activate(pl, cfg, ifindex, err, errlen);
	if (rc)
		goto fail;
	pl->base.has_mac = pl->dlt == DLT_EN10MB;
	if (pl->vnet && cfg->gso_segs > 1)
		pl->base.gso_segs = cfg->gso_segs;
	pl->ifname = NULL;
	*out = &pl->base;
	return 0;
fail:
	lp_link_close(&pl->base);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Link on a real interface through an AF_PACKET socket: captures the replayed
 * connection's inbound packets (a kernel BPF filter for exactly its 4-tuple,
 * compiled by libpcap; read in batches with recvmmsg) and injects IP packets
 * framed in Ethernet with the resolved MACs.
 * It answers ARP and IPv6 neighbour solicitations for the local address when
 * asked to (an address the host does not own), and can resolve a neighbour's
 * MAC itself.
 */
#ifndef TCPLIVEPLAY_LINK_PACKET_H
#define TCPLIVEPLAY_LINK_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"

struct lp_link_packet;

struct lp_link_packet_cfg {
	const char *ifname;
	struct lp_endpoint local;     /* our address and port */
	uint16_t local_port_last;     /* > local.port: our ports are local.port to this */
	struct lp_endpoint remote;    /* the peer; port 0 = any port, family 0 = any address */
	uint8_t local_mac[6];         /* source MAC of what we inject */
	bool answer_neigh;            /* answer ARP / NS for local.addr */
	bool loopback;                /* a loopback device: packet sockets see its
				       * traffic as outgoing only, so capture both ways */
	/* Capture every IP packet to local.addr, not only the connection's: the
	 * others go to the callback set with lp_link_packet_set_other(). */
	bool all_to_local;
	unsigned buffer_kib;          /* kernel capture buffer; 0 = 4096 */
};

/* Called with each inbound IP packet of the connection; data is valid only
 * during the call. */
typedef void (*lp_link_rx_fn)(void *ctx, const uint8_t *ip, size_t len);

/* Open and activate the capture on cfg->ifname. -EPERM without the privilege
 * (CAP_NET_RAW), -ENODEV for an unknown interface, -EPROTONOSUPPORT for a
 * link type we cannot frame; the message in err. */
int lp_link_packet_open(const struct lp_link_packet_cfg *cfg, struct lp_link_packet **out, char *err,
		      size_t errlen);

/* The MAC every injected frame is sent to. */
void lp_link_packet_set_peer_mac(struct lp_link_packet *l, const uint8_t mac[6]);

/* With cfg.all_to_local: called with each inbound IP packet to local.addr
 * that is not the connection's (other protocols, other ports, ICMP echo);
 * NULL ignores them. data is valid only during the call. */
void lp_link_packet_set_other(struct lp_link_packet *l, lp_link_rx_fn other, void *ctx);

/* During a callback: the source MAC of the frame being handled (the next hop
 * back to its sender). False on a link without MAC headers. */
bool lp_link_packet_rx_mac(const struct lp_link_packet *l, uint8_t mac[6]);

/* A descriptor to poll for input. */
int lp_link_packet_fd(const struct lp_link_packet *l);

/* Inject one IP packet. 0 or a negative errno (message from
 * lp_link_packet_error()). */
int lp_link_packet_send(struct lp_link_packet *l, const uint8_t *ip, size_t len);

/* The same to the given MAC instead of the peer's (NULL: the peer's). */
int lp_link_packet_send_to(struct lp_link_packet *l, const uint8_t *mac, const uint8_t *ip, size_t len);

/* Handle the packets waiting, one batch (up to 32) per call; call it again
 * while the descriptor polls readable. The connection's go to rx, neighbour
 * solicitations for our address are answered. Returns packets handled or a
 * negative errno. */
int lp_link_packet_dispatch(struct lp_link_packet *l, lp_link_rx_fn rx, void *ctx);

/* Wait up to timeout_ns (at most a second) for input, then dispatch it as
 * lp_link_packet_dispatch() does. Packets handled or a negative errno (message
 * from lp_link_packet_error()); a signal ends the wait early with 0. */
int lp_link_packet_wait(struct lp_link_packet *l, uint64_t timeout_ns, lp_link_rx_fn rx, void *ctx);

/* Ask for addr's MAC with ARP (IPv4) or a neighbour solicitation (IPv6),
 * timeout_ms per try, tries times. 0 and mac set, or -EHOSTUNREACH. */
int lp_link_packet_resolve(struct lp_link_packet *l, const uint8_t *addr, uint8_t mac[6],
			 unsigned timeout_ms, unsigned tries);

/* Frames with a MAC header (Ethernet) or raw IP (tun, no neighbours). */
bool lp_link_packet_has_mac(const struct lp_link_packet *l);

/* Packets the kernel dropped from the capture buffer. */
unsigned lp_link_packet_drops(const struct lp_link_packet *l);

const char *lp_link_packet_error(const struct lp_link_packet *l);

void lp_link_packet_close(struct lp_link_packet *l);

/* The same for a program about to exit. The kernel's release of a packet
 * socket waits for an RCU grace period (synchronize_net() in
 * packet_release(), 10-30 ms); here a forked helper that keeps only the
 * socket drops the last reference and waits instead, so this returns at once
 * and the socket is gone a grace period later. The helper is not waited for
 * (init reaps it once this process has exited). Falls back to
 * lp_link_packet_close() when no helper can be made. */
void lp_link_packet_close_async(struct lp_link_packet *l);

#endif

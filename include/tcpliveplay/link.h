/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A link moves IP packets between the loops' engines and a wire. Every kind
 * (link_packet.h: an AF_PACKET socket on an interface; link_tap.h: a TAP
 * device, the local kernel on the other side) is used through these calls, so
 * the loops (live.c, multi.c, responder/serve.c) run on any of them. The
 * kinds share the frame handling here: Ethernet framing with the peer's MAC,
 * the software filter for the configured connection(s) (their TCP segments,
 * and the ICMP and ICMPv6 errors quoting them), ARP (RFC 826) and
 * neighbour discovery (RFC 4861) answered for an address we emulate, and
 * resolving a neighbour's MAC. A kind only reads and writes whole frames.
 * The in-memory wire of the simulation (link_mem.h) is not a link of this
 * sort: it has a virtual clock and no frames.
 */
#ifndef TCPLIVEPLAY_LINK_H
#define TCPLIVEPLAY_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"
#include "tcpliveplay/pkt.h"

struct lp_link;
struct lp_pcapw;

/* What a link carries for us. */
struct lp_link_cfg {
	struct lp_endpoint local;     /* our address and port */
	uint16_t local_port_last;     /* > local.port: our ports are local.port to this */
	struct lp_endpoint remote;    /* the peer; port 0 = any port, family 0 = any address */
	uint8_t local_mac[6];         /* source MAC of what we send */
	bool answer_neigh;            /* answer ARP / NS for local.addr */
	/* Take every IP packet to local.addr, not only the connection's: the
	 * others go to the callback set with lp_link_set_other(). */
	bool all_to_local;
	unsigned buffer_kib;          /* kernel receive buffer, where the kind has one; 0 = 4096 */
	/* Read through a receive ring of this size (MiB), where the kind has
	 * one (a packet socket: TPACKET_V3, frames read in place, no system call
	 * per frame;
	 * setting it up waits for an RCU grace period, some 15 ms, so it is
	 * for big transfers); 0: frames are read in batches. */
	unsigned ring_mib;
	/* Its blocks, in KiB (a multiple of the page size): the kernel hands
	 * a block over when full or 1 ms after its first frame. 0: 512, which
	 * holds a whole 64 KiB aggregate. */
	unsigned ring_block_kib;
	/* Segmentation offload (GSO), where the kind has it (a packet socket):
	 * a TCP super-segment goes in one send of up to this many wire
	 * segments, cut by the kernel (the interface's gso_max_segs, or less);
	 * 0 or 1: none. */
	unsigned gso_segs;
	/* The connection's segments may reach us cut after their TCP headers
	 * (LP_RX_HEADERS, pkt.h) where the kind can have them cut (a packet
	 * socket's ring), once the kernel shows it checks their checksums: for
	 * a caller that neither compares, records nor prints their payload.
	 * The kernel then copies a few hundred bytes of each, not all. */
	bool rx_headers_only;
};

/* Called with each inbound IP packet of the connection (a segment, or an
 * ICMP error quoting one of ours); data is valid only during the call. */
typedef void (*lp_link_rx_fn)(void *ctx, const uint8_t *ip, size_t len);

/* Called with each IP packet the link sends (out) or hands to a callback
 * (in), for debugging output; data is valid only during the call. */
typedef void (*lp_link_trace_fn)(void *ctx, bool out, const uint8_t *ip, size_t len);

/* Trace every packet through fn (NULL: stop). */
void lp_link_set_trace(struct lp_link *l, lp_link_trace_fn fn, void *ctx);

/* "packet socket", "TAP": for messages. */
const char *lp_link_kind(const struct lp_link *l);

/* A descriptor to poll for input. */
int lp_link_fd(const struct lp_link *l);

/* The MAC every frame is sent to unless lp_link_send_to() names another. */
void lp_link_set_peer_mac(struct lp_link *l, const uint8_t mac[6]);

/* With cfg.all_to_local: called with each inbound IP packet to local.addr
 * that is not the connection's (other protocols, other ports, ICMP echo);
 * NULL ignores them. data is valid only during the call. */
void lp_link_set_other(struct lp_link *l, lp_link_rx_fn other, void *ctx);

/* During a callback: the source MAC of the frame being handled (the next hop
 * back to its sender). False on a link without MAC headers. */
bool lp_link_rx_mac(const struct lp_link *l, uint8_t mac[6]);

/* During a callback: what the kernel vouches for in the packet being
 * handled (LP_RX_* flags, pkt.h: its checksum checked; cut after its
 * headers, with cfg.rx_headers_only). */
unsigned lp_link_rx_flags(const struct lp_link *l);

/* The connection's segments reach us cut after their headers now
 * (cfg.rx_headers_only). */
bool lp_link_headers_only(const struct lp_link *l);

/* Frames with a MAC header (Ethernet), or raw IP (a tun device, no
 * neighbours). */
bool lp_link_has_mac(const struct lp_link *l);

/* Send one IP packet to the peer's MAC, or to mac (NULL: the peer's). 0 or a
 * negative errno (message from lp_link_error()). */
int lp_link_send(struct lp_link *l, const uint8_t *ip, size_t len);
int lp_link_send_to(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len);

/* Wire segments one send may carry (segmentation offload), 1 when the
 * link has none: the most lp_engine_output_gso() should put in a packet. */
unsigned lp_link_gso_segs(const struct lp_link *l);

/* Send a TCP super-segment (struct lp_gso, pkt.h; g NULL or seg_len 0: a
 * plain packet) to mac as lp_link_send_to() does: one send where the link
 * has the offload for that many segments, else cut into wire segments here
 * and sent one by one (and so from then on when the kernel refuses the
 * offload). 0 or a negative errno. */
int lp_link_send_gso(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len,
		     const struct lp_gso *g);

/* lp_link_send_gso(), and once sent (only then), the packet recorded in w
 * (--write; NULL: none) as its wire segments. 0 or a negative errno. */
int lp_link_send_rec(struct lp_link *l, const uint8_t *mac, const uint8_t *ip, size_t len,
		     const struct lp_gso *g, struct lp_pcapw *w);

/* Handle the packets waiting, one batch (up to 32) per call; call it again
 * while the descriptor polls readable. The connection's go to rx, neighbour
 * solicitations for our address are answered. Returns packets handled or a
 * negative errno. */
int lp_link_dispatch(struct lp_link *l, lp_link_rx_fn rx, void *ctx);

/* Wait up to timeout_ns (at most a second) for input, then dispatch it as
 * lp_link_dispatch() does. Packets handled or a negative errno (message from
 * lp_link_error()); a signal ends the wait early with 0. */
int lp_link_wait(struct lp_link *l, uint64_t timeout_ns, lp_link_rx_fn rx, void *ctx);

/* Ask for addr's MAC with ARP (IPv4) or a neighbour solicitation (IPv6),
 * timeout_ms per try, tries times. 0 and mac set, -EHOSTUNREACH, or
 * -EPROTONOSUPPORT on a link without MAC headers. */
int lp_link_resolve(struct lp_link *l, const uint8_t *addr, uint8_t mac[6], unsigned timeout_ms,
		    unsigned tries);

/* The receive ring's size in MiB, 0 when frames are read in batches. */
unsigned lp_link_ring_mib(const struct lp_link *l);

/* Packets the kernel dropped before we read them. */
unsigned lp_link_drops(struct lp_link *l);

const char *lp_link_error(const struct lp_link *l);

/* Release the link. Accepts NULL. */
void lp_link_close(struct lp_link *l);

/* The descriptor whose close waits for an RCU grace period (a packet
 * socket's), or -1: for lp_release_helper() (util.h). */
int lp_link_release_fd(const struct lp_link *l);

/* The same for a program about to exit. The kernel's release of a packet
 * socket waits for an RCU grace period (synchronize_net() in
 * packet_release(), 10-30 ms); for such a kind a forked helper that keeps
 * only the descriptor drops the last reference and waits instead, so this
 * returns at once and the socket is gone a grace period later. The helper is
 * not waited for (init reaps it once this process has exited). Other kinds,
 * and when no helper can be made, close in place. */
void lp_link_close_async(struct lp_link *l);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The set-up of a live run, one module for both programs: the choice and
 * opening of the link (a packet socket on an interface, or a TAP device made
 * or attached to, whose host side it configures when it made it), the
 * replayer's routes, source address and next hops, the responder's address
 * checks, the RST guard, and the privilege drop once all that is open. It is part of
 * the command-line edge, as cli.c is: it writes its messages (naming the
 * fix) and returns 0 or an exit status (LP_EXIT_*). lp_setup_end() releases
 * what it holds on every path.
 */
#ifndef TCPLIVEPLAY_SETUP_H
#define TCPLIVEPLAY_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowpick.h"
#include "tcpliveplay/link.h"
#include "tcpliveplay/netlink.h"

struct lp_nft_guard;
struct lp_setup_prep;

#define LP_SETUP_MAX_TAP_ADDRS 16
/* A big transfer: a ring's set-up (an RCU grace period, some 15 ms) pays. */
#define LP_SETUP_RING_MIN (32ull << 20)
/* Twice the largest window the engine offers: a ring never fills. */
#define LP_SETUP_RING_MIB 16
/* A long transfer, for the ring's blocks (ring_block_kib(), setup.c). */
#define LP_SETUP_LONG (256ull << 20)

/* The link the command line chose: one of */
struct lp_link_choice {
	const char *iface;            /* -i IFACE: a packet socket on it */
	const char *tap;              /* --tap NAME: a TAP device */
	struct lp_prefix tap_addr[LP_SETUP_MAX_TAP_ADDRS];  /* --tap-addr: the host side's
							     * addresses, for a TAP made here
							     * (the kernel adds their routes) */
	size_t ntap_addr;
	char zone[IF_NAMESIZE];       /* an address's IPv6 zone: the interface (-i's when
				       * -i is not given) */
	const char *zone_opt, *zone_arg;  /* the option that gave it, and its argument */
};

/* The getopt values of --tap and --tap-addr in both programs. */
enum { LP_OPT_TAP = 0x1000, LP_OPT_TAP_ADDR };
#define LP_SETUP_LONGOPTS \
	{ "tap", required_argument, NULL, LP_OPT_TAP }, \
	{ "tap-addr", required_argument, NULL, LP_OPT_TAP_ADDR }
/* lp_setup_option() for an option that is not the link's. */
#define LP_SETUP_NOT_MINE (-1)

struct lp_setup {
	struct lp_link_choice want;   /* the command line's choice (the replayer without -i or
				       * --tap: want.iface is set to the route's interface) */
	char route_iface[IF_NAMESIZE];
	uint64_t rx_expect;           /* what the capture shows arriving, in all: from
				       * LP_SETUP_RING_MIN bytes on, a packet socket reads
				       * through a receive ring of LP_SETUP_RING_MIB */
	bool rx_headers_only;         /* the replayer's link: its cfg.rx_headers_only (link.h),
				       * the ring made ahead sized for it */
	/* What set-up made. */
	char where[IF_NAMESIZE + 8];  /* "IFACE" or "TAP NAME", for messages */
	struct lp_ifinfo ifi;         /* the interface, or the TAP's host side */
	bool tap_created;             /* the TAP goes with the program */
	struct lp_link *link;
	struct lp_nft_guard *guard;   /* NULL: no RST guard */
	bool addr_local;              /* the host owns our address (never behind a TAP) */
	uint8_t *kernel_ports;        /* responder, addr_local: bitmap of the ports the host's
				       * own programs listen on (port p: bit p % 8 of byte
				       * p / 8), else NULL */
	struct lp_setup_prep *prep;   /* a packet socket being made ahead, or NULL */
};

/* Where packets to one live server go: its route and next hop's MAC. */
struct lp_hop {
	struct lp_endpoint dst;
	bool have_route;
	struct lp_route route;
	uint8_t mac[6];
};

/* What the replayer asks for. */
struct lp_setup_client {
	int family;
	/* In: --src (family 0: none given). Out: the source, its port the
	 * first of ours; behind a TAP by default the address after (or
	 * before) the host side's first of the family. */
	struct lp_endpoint src;
	uint16_t port_first, port_last;
	struct lp_endpoint remote;    /* the filter's peer: family 0 any address, port 0 any port */
	const uint8_t *dst_mac;       /* --dst-mac MAC, or NULL: resolved */
	bool guard;                   /* install the RST guard when src is the host's */
	struct lp_hop *hops;          /* in: each live server's dst; out: route and MAC */
	size_t nhops;
};

/* Before the capture loads: for a run on an interface (-i, or the route's) whose
 * capture is a file of file_bytes, from LP_SETUP_RING_MIN on, a thread makes
 * the packet socket and its receive ring meanwhile (the ring's grace period
 * is then no longer the run's); the set-up takes it. Its blocks are sized
 * by file_bytes, the bytes to come being unknown before the capture loads
 * (a 100 MiB flow picked from a 1 GiB capture gets a long transfer's).
 * Nothing otherwise, or when no thread can be made. */
void lp_setup_prepare(struct lp_setup *s, uint64_t file_bytes);

/* The replayer's set-up: route and source for every hop, the link, the
 * next hops' MACs (the first is the link's peer), the guard. On an
 * interface: the one of the route to the first server unless -i names one;
 * the kernel's route to every server must go through it (else the fix is
 * named), unless --dst-mac says where to send; a broadcast address is
 * refused; on loopback the kernel must take packets from its own
 * addresses (accept_local). Behind a TAP: the source must be routed through
 * it and not be the host's; every next hop is the host's side of the TAP. */
int lp_setup_client(struct lp_setup *s, struct lp_setup_client *c);

/* The responder's set-up for the address local (its port the first served)
 * and the ports pick serves: a host program listening on one is refused
 * when the host owns the address (then the guard covers the ports), else
 * ARP/NDP are answered for it. Behind a TAP the address must not be the
 * host's; a TAP made here gets a route to it when no --tap-addr covers it. */
int lp_setup_server(struct lp_setup *s, const struct lp_endpoint *local, const struct lp_flowpick *pick);

/* The options of the link: -i, --tap, --tap-addr (ADDR/PREFIX). 0, the
 * usage error, or LP_SETUP_NOT_MINE for another option. */
int lp_setup_option(struct lp_link_choice *ch, int opt, const char *arg);

/* An address given as opt's arg had the IPv6 zone zone ("" none): it names
 * the interface. 0, or the usage error when an earlier address named another. */
int lp_setup_zone(struct lp_link_choice *ch, const char *opt, const char *arg, const char *zone);

/* -i IFACE and --tap NAME exclude each other, --tap-addr needs --tap, a
 * zone is the interface -i names (and gives it when -i is not given): 0 or
 * the usage error. */
int lp_setup_check_opts(struct lp_link_choice *ch);

/* ADDR/PREFIX, IPv4 or IPv6. 0 or -EINVAL. */
int lp_setup_parse_prefix(const char *s, struct lp_prefix *p);

/* An address of p's prefix next to p's own: the one after it, else the one
 * before; never p's, and in prefixes with room neither the all-zeros host
 * part (the network, or IPv6's subnet-router anycast) nor IPv4's broadcast.
 * 0 and out (4 or 16 bytes), or -ENOENT. */
int lp_setup_next_addr(const struct lp_prefix *p, uint8_t out[16]);

/* Everything that needed a privilege is open: drop them all, and become
 * user when not NULL. */
int lp_setup_drop(const char *user);

/* Release the guard and the link (for a program about to exit). */
void lp_setup_end(struct lp_setup *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The set-up of a live run, one module for both programs: the choice and
 * opening of the link (a packet socket on an interface), the replayer's
 * routes, source address and next hops, the responder's address checks,
 * the RST guard, and the privilege drop once all that is open. It is part of
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

struct lp_setup {
	/* The command line's choice. */
	const char *iface;            /* -i IFACE: a packet socket on it */
	/* What set-up made. */
	struct lp_ifinfo ifi;         /* the interface */
	struct lp_link *link;
	struct lp_nft_guard *guard;   /* NULL: no RST guard */
	bool addr_local;              /* the host owns our address */
	uint8_t *kernel_ports;        /* responder, addr_local: bitmap of the ports the host's
				       * own programs listen on (port p: bit p % 8 of byte
				       * p / 8), else NULL */
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
	 * first of ours. */
	struct lp_endpoint src;
	uint16_t port_first, port_last;
	struct lp_endpoint remote;    /* the filter's peer: family 0 any address, port 0 any port */
	const uint8_t *dst_mac;       /* --dst-mac MAC, or NULL: resolved */
	bool guard;                   /* install the RST guard when src is the host's */
	struct lp_hop *hops;          /* in: each live server's dst; out: route and MAC */
	size_t nhops;
};

/* The replayer's set-up: route and source for every hop, the link, the
 * next hops' MACs (the first is the link's peer), the guard. */
int lp_setup_client(struct lp_setup *s, struct lp_setup_client *c);

/* The responder's set-up for the address local (its port the first served)
 * and the ports pick serves: a host program listening on one is refused
 * when the host owns the address (then the guard covers the ports), else
 * ARP/NDP are answered for it. */
int lp_setup_server(struct lp_setup *s, const struct lp_endpoint *local, const struct lp_flowpick *pick);

/* Everything that needed a privilege is open: drop them all, and become
 * user when not NULL. */
int lp_setup_drop(const char *user);

/* Release the guard and the link (for a program about to exit). */
void lp_setup_end(struct lp_setup *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Addresses and endpoints as people write them on a command line, for both
 * programs: ADDR, IPv4ADDR:PORT, [ADDR]:PORT, an IPv6 address with a zone
 * (fe80::1%eth0, [fe80::1%eth0]:8000), a flow as --list prints it; and the
 * kinds of address that no TCP peer can have. Pure: no I/O, no messages.
 */
#ifndef TCPLIVEPLAY_ENDPOINT_H
#define TCPLIVEPLAY_ENDPOINT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"

/* An endpoint as written. */
struct lp_ep_arg {
	struct lp_endpoint ep;      /* port 0 when none was written */
	char zone[IF_NAMESIZE];     /* an IPv6 address's "%ZONE" (an interface), "" when none */
	/* A bare IPv6 address whose last group could be a port
	 * ("2001:db8::2:8000"): what [ADDR]:PORT would have meant. */
	bool maybe_port;
	char alt_addr[64];
	uint16_t alt_port;
};

/* ADDR, IPv4ADDR:PORT or [ADDR]:PORT; IPv6 with an optional %ZONE (a name,
 * or a number that is an interface index, then named here). 0 or -EINVAL;
 * -ENODEV for a zone that names no interface. */
int lp_ep_parse(const char *s, struct lp_ep_arg *out);

/* A flow selector as --list and --dump print a flow ("A:P -> B:P") into
 * the form lp_flows_select() takes ("A:P-B:P"); any other text is copied.
 * 0, or -ENAMETOOLONG when out is too small. */
int lp_flow_sel_normalize(const char *in, char *out, size_t len);

enum lp_addr_kind {
	LP_ADDR_UNICAST = 0,
	LP_ADDR_UNSPECIFIED,        /* 0.0.0.0, :: */
	LP_ADDR_MULTICAST,          /* 224.0.0.0/4, ff00::/8 */
	LP_ADDR_BROADCAST,          /* 255.255.255.255 (a subnet's broadcast takes its route) */
};

enum lp_addr_kind lp_addr_kind(const struct lp_endpoint *ep);

/* "multicast", "broadcast", "unspecified"; NULL for unicast. */
const char *lp_addr_kind_str(enum lp_addr_kind k);

/* fe80::/10: an address that only means something on one link. */
bool lp_addr_link_local(const struct lp_endpoint *ep);

#endif

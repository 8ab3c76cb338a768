/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink over libmnl. Queries: an interface by name, the route to a
 * destination, the kernel's neighbour entry for a next hop, whether an
 * address belongs to this network namespace, an interface's first address.
 * Changes (for a TAP device we made; CAP_NET_ADMIN): bring an interface up,
 * add an address, add a route through an interface.
 *
 * The live functions open a NETLINK_ROUTE socket per call (extended acks on),
 * send one request and read its reply (or ack) with a bounded wait. The reply parsers
 * below are pure functions over one receive buffer, so they can be tested and
 * fuzzed without a kernel.
 */
#ifndef TCPLIVEPLAY_NETLINK_H
#define TCPLIVEPLAY_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lp_ifinfo {
	int ifindex;
	char name[IF_NAMESIZE];
	unsigned short type;     /* ARPHRD_* */
	uint8_t mac[6];
	bool has_mac;            /* the link-layer address is 6 bytes long */
	unsigned mtu;
	unsigned gso_max_segs;   /* segments one GSO packet may carry, gso_max_size its bytes */
	unsigned gso_max_size;   /* (0: the kernel did not say) */
	bool up;                 /* IFF_UP: administratively up */
	bool has_stats;          /* the counters below are the kernel's */
	uint64_t tx_dropped;     /* frames it could not send (a TAP: not read in time) */
};

/* An address with its prefix length: ADDR/PREFIX. */
struct lp_prefix {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned plen;
};

struct lp_route {
	int family;              /* AF_INET or AF_INET6 */
	int ifindex;             /* output interface */
	uint8_t src[16];
	bool has_src;            /* preferred source */
	uint8_t gateway[16];
	bool has_gateway;
	uint8_t nexthop[16];     /* gateway, else the destination */
	bool local;              /* RTN_LOCAL: destination is this host */
	bool broadcast;          /* RTN_BROADCAST: a subnet's broadcast address */
	unsigned mtu;            /* the route's MTU (an mtu metric, or the path MTU the
				  * kernel learnt from ICMP and keeps as an exception
				  * for dst); 0: none, the interface's applies */
};

/* The interface called ifname. -ENODEV when there is none; other errors with
 * the kernel's message in err. */
int lp_nl_link_get(const char *ifname, struct lp_ifinfo *out, char *err, size_t errlen);

/* The route the kernel would use to reach dst (4 or 16 bytes by family),
 * through interface oif when oif > 0. -ENETUNREACH, -EHOSTUNREACH... as the
 * kernel says, its message in err. */
int lp_nl_route_get(int family, const uint8_t *dst, int oif, struct lp_route *out, char *err,
		    size_t errlen);

/* The link-layer address the kernel's neighbour table holds for addr on
 * ifindex. 0 when the entry is usable (REACHABLE, STALE, DELAY, PROBE,
 * PERMANENT, NOARP) and has a 6-byte address; -EINVAL for bad arguments;
 * -ENOENT otherwise (no entry, an unusable one, or the query failed). */
int lp_nl_neigh_get(int ifindex, int family, const uint8_t *addr, uint8_t mac[6]);

/* 1 when an interface of this network namespace owns addr (its ifindex then
 * in *ifindex when ifindex is not NULL), 0 when none does, negative errno when
 * the question could not be asked. */
int lp_nl_addr_is_local(int family, const uint8_t *addr, int *ifindex);

/* The first global address of family on interface ifindex, with its prefix
 * length: 0, -ENOENT when it has none, or another negative errno. */
int lp_nl_addr_first(int ifindex, int family, struct lp_prefix *out);

/* Set interface ifindex administratively up. 0, or a negative errno with
 * the kernel's message in err (-EPERM without CAP_NET_ADMIN). */
int lp_nl_link_set_up(int ifindex, char *err, size_t errlen);

/* Add p to interface ifindex (an IPv6 address without duplicate address
 * detection, so it is usable at once); the kernel adds the route to its
 * prefix itself. 0 or a negative errno (-EEXIST: already there) with the
 * kernel's message in err. */
int lp_nl_addr_add(int ifindex, const struct lp_prefix *p, char *err, size_t errlen);

/* Route dst through interface ifindex, on link (no gateway), in the main
 * table. 0 or a negative errno with the kernel's message in err. */
int lp_nl_route_add(int ifindex, const struct lp_prefix *dst, char *err, size_t errlen);

/*
 * Reply parsers. Each takes one receive buffer of the reply to a request sent
 * with sequence number seq from the socket with port id portid, and returns:
 *   0            the answer is complete (out-parameters written);
 *   -ENODATA     the reply ended (an ack) without the message asked for;
 *   LP_NL_MORE   no answer yet: read another buffer;
 *   -EINTR       the kernel interrupted a dump (NLM_F_DUMP_INTR): ask again;
 *   -EBADMSG     the buffer is malformed (truncated message, bad attribute);
 *   -EPROTO / -ESRCH  a message for another request / another socket;
 *   other -errno the kernel's error, with its extended-ack message, or the
 *                errno's text when it sent none, in err.
 * Attributes are checked for type and length before use; unknown ones are
 * skipped.
 */
#define LP_NL_MORE 1

/* Reply to RTM_GETLINK for one interface. */
int lp_nl_parse_link(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		     struct lp_ifinfo *out, char *err, size_t errlen);

/* Reply to RTM_GETROUTE for dst of family; dst is the next hop when the
 * route has no gateway. */
int lp_nl_parse_route(const void *buf, size_t len, uint32_t seq, uint32_t portid, int family,
		      const uint8_t *dst, struct lp_route *out, char *err, size_t errlen);

/* Reply to RTM_GETNEIGH for addr of family on ifindex. -ENOENT when the entry
 * is not usable or has no 6-byte link-layer address. */
int lp_nl_parse_neigh(const void *buf, size_t len, uint32_t seq, uint32_t portid, int ifindex,
		      int family, const uint8_t *addr, uint8_t mac[6], char *err, size_t errlen);

/* State of an RTM_GETADDR dump looking for one address: set family and addr,
 * clear the rest, then feed every buffer of the dump. found and ifindex are
 * final once the parser returns 0. With on_ifindex > 0 it also keeps the
 * first global address of that interface (first, first_plen, have_first). */
struct lp_nl_addr_scan {
	int family;
	uint8_t addr[16];
	bool found;
	int ifindex;
	int on_ifindex;
	bool have_first;
	uint8_t first[16];
	unsigned first_plen;
};

int lp_nl_parse_addr(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		     struct lp_nl_addr_scan *scan, char *err, size_t errlen);

/* The reply to a change: 0 once the ack came, LP_NL_MORE before, the
 * kernel's error (its message in err) or a framing error as above. */
int lp_nl_parse_ack(const void *buf, size_t len, uint32_t seq, uint32_t portid, char *err, size_t errlen);

/* Decode an NLMSG_ERROR message (or an ack) already bounded by the caller:
 * returns its error (0 for an ack, -EBADMSG when malformed) and copies an
 * extended-ack message, when there is one, into err (else leaves err as is).
 * Shared with the nftables code. */
struct nlmsghdr;
int lp_nl_parse_error(const struct nlmsghdr *nlh, char *err, size_t errlen);

#endif

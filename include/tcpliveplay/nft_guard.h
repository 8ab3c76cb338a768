/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * RST guard: the local kernel answers a connection it did not open with a
 * reset. The guard is an nftables table (family inet) owned by the process
 * (NFT_TABLE_F_OWNER, Linux >= 5.12) holding one output-hook chain with one
 * rule that drops outgoing TCP RSTs of exactly one connection (or a port
 * range), and on a packet-socket link a netdev table that keeps the
 * connection's inbound packets from the local kernel altogether. The kernel
 * deletes an owned table when the netlink socket that made it closes, so the
 * guard disappears when the process exits, even on kill -9. The socket is
 * close-on-exec; a forked child holding it keeps the table alive.
 */
#ifndef TCPLIVEPLAY_NFT_GUARD_H
#define TCPLIVEPLAY_NFT_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"

struct lp_nft_guard;

/* Drop outgoing RSTs from local (address and port) to remote. remote->port 0
 * means any port, remote->family 0 any address. Needs CAP_NET_ADMIN in the
 * network namespace: -EPERM says so in err; other errors carry the kernel's
 * extended-ack text verbatim. *out is set only on success. */
int lp_nft_guard_install(const struct lp_endpoint *local, const struct lp_endpoint *remote,
			 struct lp_nft_guard **out, char *err, size_t errlen);

/* The same for every local port from local->port to last (inclusive): the
 * guard of many connections (or of a server's ports) in one rule. */
int lp_nft_guard_install_range(const struct lp_endpoint *local, uint16_t last,
			       const struct lp_endpoint *remote, struct lp_nft_guard **out, char *err,
			       size_t errlen);

/* Also drop the guarded connections' inbound TCP at the ingress of interface
 * ifname: an owned netdev table of the same name, on the same socket. A packet
 * socket has seen those packets by then (packet taps run before the ingress
 * hook), the local kernel never does: it neither works on them nor answers
 * them with resets. For a packet-socket link only (a TAP's inbound packets
 * are the local kernel's to take). 0, or a negative errno and err. */
int lp_nft_guard_drop_inbound(struct lp_nft_guard *g, const char *ifname, char *err, size_t errlen);

/* Delete the table(s) and close the socket. Accepts NULL. */
void lp_nft_guard_free(struct lp_nft_guard *g);

/* The netlink socket owning the tables (its last close deletes them, after an
 * RCU grace period), or -1: for lp_release_helper() (util.h). */
int lp_nft_guard_fd(const struct lp_nft_guard *g);

/* The table's name: tcpliveplay_<pid>_<n>. */
const char *lp_nft_guard_table(const struct lp_nft_guard *g);

/* Ask the kernel about the inet table called name: 0 with its NFT_TABLE_F_*
 * flags and owner port id (0 when not owned), -ENOENT when there is none,
 * another negative errno when the question failed. */
int lp_nft_table_lookup(const char *name, uint32_t *flags, uint32_t *owner);
/* The same for a netdev table (lp_nft_guard_drop_inbound()). */
int lp_nft_netdev_table_lookup(const char *name, uint32_t *flags, uint32_t *owner);

#endif

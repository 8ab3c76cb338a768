/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Link on a real interface through an AF_PACKET socket: receives the
 * configured connection's inbound packets (a kernel BPF filter for exactly
 * its 4-tuple, or its port range, compiled by libpcap; read in batches with
 * recvmmsg) and sends IP packets framed in Ethernet with the resolved MACs
 * (or raw, on a raw-IP interface). Used through tcpliveplay/link.h.
 */
#ifndef TCPLIVEPLAY_LINK_PACKET_H
#define TCPLIVEPLAY_LINK_PACKET_H

#include <stddef.h>

#include "tcpliveplay/link.h"

/* Open the link on interface ifname. -EPERM without the privilege
 * (CAP_NET_RAW), -ENODEV for an unknown interface, -ENETDOWN for one that is
 * down, -EPROTONOSUPPORT for a link type we cannot frame; the message in err. */
int lp_link_packet_open(const char *ifname, const struct lp_link_cfg *cfg, struct lp_link **out, char *err,
			size_t errlen);

#endif

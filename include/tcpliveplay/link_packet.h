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

#include <linux/virtio_net.h>
#include <stddef.h>

#include "tcpliveplay/link.h"
#include "tcpliveplay/pkt.h"

/* A packet socket made ahead, bound to nothing (it sees no packet), with a
 * receive ring of ring_mib MiB (where the kernel allows one) in blocks of
 * block_kib KiB (0: the default, as cfg.ring_block_kib): the ring's set-up
 * waits for an RCU grace period, which a thread can take while the capture
 * loads. NULL when no socket can be made (the open says why). */
struct lp_packet_sock;
struct lp_packet_sock *lp_link_packet_prepare(unsigned ring_mib, unsigned block_kib);
/* Close a socket made ahead and not used. Accepts NULL. */
void lp_link_packet_prepared_free(struct lp_packet_sock *ps);

/* Open the link on interface ifname (kept for messages: it must outlive the
 * link), on ps when not NULL (taken over, on failure too; its ring is used
 * whatever cfg's). -EPERM without the
 * privilege (CAP_NET_RAW), -ENODEV for an unknown interface, -ENETDOWN for
 * one that is down, -EPROTONOSUPPORT for a link type we cannot frame; the
 * message in err. */
int lp_link_packet_open(const char *ifname, const struct lp_link_cfg *cfg, struct lp_packet_sock *ps,
			struct lp_link **out, char *err, size_t errlen);

/* The kernel filter (classic BPF, compiled by libpcap for link type dlt)
 * taking the packets tcp matches, cut to snap bytes, and those other
 * matches whole (snap 0: all whole). Two programs in one, the first's
 * rejections jumping to the second. 0, or a negative errno with the message
 * in err; free it with pcap_freecode(). */
struct bpf_program;
int lp_link_packet_filter(int dlt, const char *tcp, const char *other, unsigned snap,
			  struct bpf_program *out, char *err, size_t errlen);

/* The virtio_net_hdr that goes before a frame of hlen bytes of link header
 * and IP packet ip on a packet socket with PACKET_VNET_HDR: zero for a
 * plain packet (g NULL or g->seg_len 0); for a super-segment, its GSO type
 * (TCPv4 or TCPv6), wire segment size and header length, and NEEDS_CSUM
 * with where the TCP checksum starts and lies. The fields are in the host's
 * byte order, as the kernel reads a packet socket's. The kernel cuts the
 * packet (skb_gso_segment(), in software when the interface has no TSO)
 * and completes each segment's checksum from the pseudo-header sum the
 * packet holds. */
void lp_link_packet_vnet(struct virtio_net_hdr *vh, size_t hlen, const uint8_t *ip,
			 const struct lp_gso *g);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole IPv4/IPv6 + TCP packets: build them with valid checksums and options,
 * parse them as untrusted input (every length checked, checksums verified).
 */
#ifndef TCPLIVEPLAY_PKT_H
#define TCPLIVEPLAY_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/capture.h"

#define LP_IPV4_HDR 20
#define LP_IPV6_HDR 40
#define LP_TCP_HDR 20
#define LP_TCP_MAXOPT 40
/* Largest header lp_pkt_build() writes. */
#define LP_PKT_MAXHDR (LP_IPV6_HDR + LP_TCP_HDR + LP_TCP_MAXOPT)

/* A TCP segment between two addresses. Addresses use the first 4 bytes for
 * IPv4. For SYNs the options MSS, WS, SACK-permitted and TS are written as
 * flagged in opts; otherwise TS and up to 3 (4 without TS) SACK blocks. */
struct lp_seg {
	int family;                 /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;              /* LP_TH_* */
	uint16_t window;
	struct lp_tcpopts opts;
	const uint8_t *payload;
	uint32_t len;
};

/* Internet checksum helpers: partial one's-complement sum, then fold. */
uint32_t lp_csum_add(uint32_t sum, const uint8_t *data, size_t len);
uint16_t lp_csum_fold(uint32_t sum);

/* Bytes of TCP options lp_pkt_build() writes for s (padding included). */
size_t lp_pkt_opts_len(const struct lp_seg *s);

/* Write the packet into buf. Returns its length, -ENOBUFS if cap is too
 * small, -EINVAL for an unknown family or an oversized payload. */
int lp_pkt_build(uint8_t *buf, size_t cap, const struct lp_seg *s);

/* A TCP super-segment (segmentation offload, as Linux's GSO and a NIC's TSO
 * take it): one packet whose payload is cut below us into wire segments of
 * seg_len bytes (the last may carry less). Each wire segment has the
 * packet's headers and options, its own sequence number, lengths, IPv4 ID
 * (the packet's, plus its index) and checksums; PSH and FIN only on the
 * last, CWR only on the first. The packet's TCP checksum field holds the
 * pseudo-header sum of its whole length, not complemented (what Linux calls
 * CHECKSUM_PARTIAL): the segmenter completes each segment's. */
struct lp_gso {
	uint16_t seg_len;           /* TCP payload of each wire segment; 0: one plain packet */
	uint16_t l4_off;            /* the TCP header's offset: the IP header's length */
	uint16_t hdr_len;           /* IP and TCP headers, options included */
};

/* Write the super-segment of s, cut into wire segments of seg_len payload
 * bytes, into buf and describe it in *g. Returns its length, -ENOBUFS or
 * -EINVAL as lp_pkt_build(); -EINVAL too when seg_len is 0. */
int lp_pkt_build_gso(uint8_t *buf, size_t cap, const struct lp_seg *s, uint16_t seg_len,
		     struct lp_gso *g);

/* Wire segments of the super-segment of len bytes that g describes (1 for
 * a plain packet). */
unsigned lp_gso_count(size_t len, const struct lp_gso *g);

/* Write wire segment i (0-based) of the super-segment pkt of len bytes
 * into out, as a segmenter puts it on the wire (valid checksums); a plain
 * packet (g->seg_len 0) is its own only segment. Returns its length, 0 when
 * there is no segment i, -ENOBUFS when cap is too small or -EINVAL for a g
 * that does not fit pkt. */
int lp_gso_segment(const uint8_t *pkt, size_t len, const struct lp_gso *g, unsigned i, uint8_t *out,
		   size_t cap);

/* Parse a whole IP packet of len bytes. On success fills *s (payload points
 * into pkt) and returns 0. -EINVAL: malformed or not TCP; -EBADMSG: a
 * checksum is wrong; -EPROTONOSUPPORT: an IP fragment. */
int lp_pkt_parse(const uint8_t *pkt, size_t len, struct lp_seg *s);

/* What the receive path vouches for in a packet it hands on (a link's
 * lp_link_rx_flags(), lp_pkt_parse_rx()). */
#define LP_RX_CSUM_OK 0x1u    /* its TCP checksum was checked below us (or it
			       * never crossed a wire): not checked again */
#define LP_RX_HEADERS 0x2u    /* it may end after its TCP header: the payload's
			       * length is the IP header's, its bytes absent */

/* lp_pkt_parse() of a received packet with LP_RX_* flags. With
 * LP_RX_HEADERS a packet cut after its TCP header parses, s->payload NULL
 * and s->len its payload's length on the wire (-EINVAL when a header is
 * cut; -EBADMSG without LP_RX_CSUM_OK, as its checksum cannot be checked). */
int lp_pkt_parse_rx(const uint8_t *pkt, size_t len, unsigned flags, struct lp_seg *s);

/* Skip the IPv6 hop-by-hop, routing and destination options headers from
 * next header *nh at p + *off, within len bytes (a fragment header stops
 * the walk). False when one runs past the end. */
bool lp_ip6_skip_ext(const uint8_t *p, size_t len, uint8_t *nh, size_t *off);

/* Damage the TCP checksum of a packet lp_pkt_build() wrote (a corrupt
 * fault): the receiver's stack discards it, its content intact. Nothing for
 * a packet too short to hold one. */
void lp_pkt_corrupt(uint8_t *pkt, size_t len);

/* Parse a TCP option list (bounds-checked) into o. */
void lp_tcpopts_parse(const uint8_t *p, size_t len, struct lp_tcpopts *o);

#endif

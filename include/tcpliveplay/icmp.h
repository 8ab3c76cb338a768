/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ICMP and ICMPv6 errors about TCP segments (RFC 792, 1191, 4443, 8201):
 * parsed as untrusted input (every length and the checksum checked), built
 * the way a router or host builds them (the simulated wire), and named for
 * people. Also the IP header and ICMP checksum every ICMP message we write
 * shares (echo replies, errors).
 */
#ifndef TCPLIVEPLAY_ICMP_H
#define TCPLIVEPLAY_ICMP_H

#include <stddef.h>
#include <stdint.h>

/* ICMPv4 and ICMPv6 type numbers used here. */
#define LP_ICMP4_UNREACH 3
#define LP_ICMP4_TIME 11
#define LP_ICMP4_PARAM 12
#define LP_ICMP4_FRAG_NEEDED 4      /* a code of LP_ICMP4_UNREACH */
#define LP_ICMP6_UNREACH 1
#define LP_ICMP6_TOO_BIG 2
#define LP_ICMP6_TIME 3
#define LP_ICMP6_PARAM 4

/* The IPv4 minimum (RFC 791, RFC 1191 3) and the IPv6 minimum (RFC 8200 5). */
#define LP_MIN_MTU4 68
#define LP_MIN_MTU6 1280

enum lp_icmp_class {
	LP_ICMP_TOO_BIG = 1,   /* fragmentation needed and DF set / packet too big */
	LP_ICMP_UNREACH,       /* destination unreachable, any other code */
	LP_ICMP_TIME,          /* time exceeded */
	LP_ICMP_PARAM,         /* parameter problem */
};

/* An error and the segment it quotes. */
struct lp_icmp {
	int family;                /* AF_INET (ICMP) or AF_INET6 (ICMPv6) */
	uint8_t from[16], to[16];  /* who reports it, and to whom (the outer header) */
	uint8_t type, code;
	enum lp_icmp_class cls;
	uint32_t mtu;              /* LP_ICMP_TOO_BIG: the next hop's MTU as given (0: none) */
	uint32_t quoted_len;       /* the quoted datagram's length as its own header gives it */
	uint8_t qsrc[16], qdst[16];
	uint16_t qsport, qdport;
	uint32_t qseq;
};

/* Parse a whole IP packet as an ICMP or ICMPv6 error quoting a TCP segment
 * (its header's first 8 bytes at least). 0 and *out filled; -ENOMSG when the
 * packet is not ICMP (or is an ICMP message that reports no error: echo,
 * neighbour discovery, redirect, source quench); -EBADMSG for a wrong
 * checksum; -EINVAL when malformed or quoting anything but TCP. */
int lp_icmp_parse(const uint8_t *pkt, size_t len, struct lp_icmp *out);

/* Build into buf the error that from (an address of orig's family) sends
 * about orig, a whole IP packet: type and code in the family's numbering,
 * mtu for fragmentation needed / packet too big, quoting as much of orig as
 * an error may carry (576 bytes in all for ICMP, RFC 1812 4.3.2.3; 1280 for
 * ICMPv6, RFC 4443 2.4). Its length, -EINVAL for a bad orig, -ENOBUFS. */
int lp_icmp_build_error(uint8_t *buf, size_t cap, const uint8_t *orig, size_t len, uint8_t type,
			uint8_t code, uint32_t mtu, const uint8_t *from);

/* "ICMP destination unreachable (administratively prohibited) from
 * 198.19.2.1" into buf; returns buf. */
const char *lp_icmp_str(const struct lp_icmp *ic, char *buf, size_t len);

/* An IPv4 (20 bytes, DF clear, checksum set) or IPv6 (40 bytes) header from
 * src to dst carrying payload bytes of protocol proto, hop limit 64. Its
 * length. */
size_t lp_ip_header(uint8_t *out, int family, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, size_t payload);

/* The checksum to put in an ICMP (IPv4) or ICMPv6 message of len bytes at
 * icmp (its checksum field zero), ip its packet's header; 0 when checking a
 * message whose field is set and right. */
uint16_t lp_icmp_csum(const uint8_t *ip, const uint8_t *icmp, size_t len);

#endif

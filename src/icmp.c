/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ICMP and ICMPv6 errors about TCP segments; see include/tcpliveplay/icmp.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/bytes.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"

#define ICMP_HDR 8
#define PROTO_TCP 6
#define PROTO_ICMP 1
#define PROTO_ICMP6 58
/* The most an error may quote: RFC 1812 4.3.2.3 (576 bytes in all), RFC
 * 4443 2.4 (1280). */
#define QUOTE_MAX4 (576 - LP_IPV4_HDR - ICMP_HDR)
#define QUOTE_MAX6 (LP_MIN_MTU6 - LP_IPV6_HDR - ICMP_HDR)

size_t lp_ip_header(uint8_t *out, int family, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, size_t payload)
{
	if (family == AF_INET) {
		memset(out, 0, LP_IPV4_HDR);
		out[0] = 0x45;
		lp_put16(out + 2, (uint16_t)(LP_IPV4_HDR + payload));
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		lp_put16(out + 10, lp_csum_fold(lp_csum_add(0, out, LP_IPV4_HDR)));
		return LP_IPV4_HDR;
	}
	memset(out, 0, LP_IPV6_HDR);
	out[0] = 0x60;
	lp_put16(out + 4, (uint16_t)payload);
	out[6] = proto;
	out[7] = 64;
	memcpy(out + 8, src, 16);
	memcpy(out + 24, dst, 16);
	return LP_IPV6_HDR;
}

uint16_t lp_icmp_csum(const uint8_t *ip, const uint8_t *icmp, size_t len)
{
	uint8_t pseudo[8] = { 0 };
	uint32_t sum;

	if ((ip[0] >> 4) == 4)
		return lp_csum_fold(lp_csum_add(0, icmp, len));
	/* ICMPv6: the pseudo-header of RFC 8200 8.1 */
	sum = lp_csum_add(0, ip + 8, 32);
	lp_put32(pseudo, (uint32_t)len);
	pseudo[7] = PROTO_ICMP6;
	sum = lp_csum_add(sum, pseudo, sizeof(pseudo));
	return lp_csum_fold(lp_csum_add(sum, icmp, len));
}

/* The quoted datagram: addresses, ports and sequence number of a TCP
 * segment whose first 8 header bytes at least are there. */
static int parse_quote(const uint8_t *q, size_t qlen, struct lp_icmp *ic)
{
	size_t off;
	uint8_t nh;

	if (ic->family == AF_INET) {
		if (qlen < LP_IPV4_HDR || (q[0] >> 4) != 4)
			return -EINVAL;
		off = (size_t)(q[0] & 15) * 4;
		/* A later fragment quotes no TCP header. */
		if (off < LP_IPV4_HDR || q[9] != PROTO_TCP || (lp_get16(q + 6) & 0x1fff))
			return -EINVAL;
		memcpy(ic->qsrc, q + 12, 4);
		memcpy(ic->qdst, q + 16, 4);
		ic->quoted_len = lp_get16(q + 2);
	} else {
		if (qlen < LP_IPV6_HDR || (q[0] >> 4) != 6)
			return -EINVAL;
		off = LP_IPV6_HDR;
		nh = q[6];
		if (!lp_ip6_skip_ext(q, qlen, &nh, &off) || nh != PROTO_TCP)
			return -EINVAL;
		memcpy(ic->qsrc, q + 8, 16);
		memcpy(ic->qdst, q + 24, 16);
		ic->quoted_len = LP_IPV6_HDR + (uint32_t)lp_get16(q + 4);
	}
	if (qlen < off + 8)
		return -EINVAL;
	ic->qsport = lp_get16(q + off);
	ic->qdport = lp_get16(q + off + 2);
	ic->qseq = lp_get32(q + off + 4);
	return 0;
}

static int classify4(struct lp_icmp *ic, const uint8_t *icmp)
{
	switch (ic->type) {
	case LP_ICMP4_UNREACH:
		if (ic->code == LP_ICMP4_FRAG_NEEDED) {
			ic->cls = LP_ICMP_TOO_BIG;
			ic->mtu = lp_get16(icmp + 6);
		} else {
			ic->cls = LP_ICMP_UNREACH;
		}
		return 0;
	case LP_ICMP4_TIME:
		ic->cls = LP_ICMP_TIME;
		return 0;
	case LP_ICMP4_PARAM:
		ic->cls = LP_ICMP_PARAM;
		return 0;
	default: /* echo, redirect, source quench (RFC 6633): no error */
		return -ENOMSG;
	}
}

static int classify6(struct lp_icmp *ic, const uint8_t *icmp)
{
	switch (ic->type) {
	case LP_ICMP6_UNREACH:
		ic->cls = LP_ICMP_UNREACH;
		return 0;
	case LP_ICMP6_TOO_BIG:
		ic->cls = LP_ICMP_TOO_BIG;
		ic->mtu = lp_get32(icmp + 4);
		return 0;
	case LP_ICMP6_TIME:
		ic->cls = LP_ICMP_TIME;
		return 0;
	case LP_ICMP6_PARAM:
		ic->cls = LP_ICMP_PARAM;
		return 0;
	default: /* informational messages (RFC 4443 2.1), neighbour discovery */
		return -ENOMSG;
	}
}

int lp_icmp_parse(const uint8_t *pkt, size_t len, struct lp_icmp *out)
{
	struct lp_icmp ic;
	const uint8_t *icmp;
	size_t ilen;
	int rc;

	memset(&ic, 0, sizeof(ic));
	if (len >= LP_IPV4_HDR && (pkt[0] >> 4) == 4) {
		size_t ihl = (size_t)(pkt[0] & 15) * 4, total = lp_get16(pkt + 2);

		if (pkt[9] != PROTO_ICMP)
			return -ENOMSG;
		if (ihl < LP_IPV4_HDR || total < ihl || total > len)
			return -EINVAL;
		if (lp_csum_fold(lp_csum_add(0, pkt, ihl)) != 0)
			return -EBADMSG;
		if (lp_get16(pkt + 6) & 0x3fff)
			return -EINVAL;
		ic.family = AF_INET;
		memcpy(ic.from, pkt + 12, 4);
		memcpy(ic.to, pkt + 16, 4);
		icmp = pkt + ihl;
		ilen = total - ihl;
	} else if (len >= LP_IPV6_HDR && (pkt[0] >> 4) == 6) {
		size_t plen = lp_get16(pkt + 4), off = LP_IPV6_HDR;
		uint8_t nh = pkt[6];

		if (plen > len - LP_IPV6_HDR)
			return -EINVAL;
		if (!lp_ip6_skip_ext(pkt, LP_IPV6_HDR + plen, &nh, &off))
			return -EINVAL;
		if (nh != PROTO_ICMP6)
			return -ENOMSG;
		ic.family = AF_INET6;
		memcpy(ic.from, pkt + 8, 16);
		memcpy(ic.to, pkt + 24, 16);
		icmp = pkt + off;
		ilen = LP_IPV6_HDR + plen - off;
	} else {
		return -ENOMSG;
	}
	if (ilen < ICMP_HDR)
		return -EINVAL;
	ic.type = icmp[0];
	ic.code = icmp[1];
	rc = ic.family == AF_INET ? classify4(&ic, icmp) : classify6(&ic, icmp);
	if (rc)
		return rc;
	if (lp_icmp_csum(pkt, icmp, ilen) != 0)
		return -EBADMSG;
	rc = parse_quote(icmp + ICMP_HDR, ilen - ICMP_HDR, &ic);
	if (rc)
		return rc;
	*out = ic;
	return 0;
}

int lp_icmp_build_error(uint8_t *buf, size_t cap, const uint8_t *orig, size_t len, uint8_t type,
			uint8_t code, uint32_t mtu, const uint8_t *from)
{
	int family;
	size_t hl, quote, n;
	uint8_t *icmp;

	if (len >= LP_IPV4_HDR && (orig[0] >> 4) == 4) {
		family = AF_INET;
		quote = len < QUOTE_MAX4 ? len : QUOTE_MAX4;
	} else if (len >= LP_IPV6_HDR && (orig[0] >> 4) == 6) {
		family = AF_INET6;
		quote = len < QUOTE_MAX6 ? len : QUOTE_MAX6;
	} else {
		return -EINVAL;
	}
	hl = family == AF_INET ? LP_IPV4_HDR : LP_IPV6_HDR;
	if (cap < hl + ICMP_HDR + quote)
		return -ENOBUFS;
	/* Back to the sender of orig, from the reporter. */
	n = lp_ip_header(buf, family, from, orig + (family == AF_INET ? 12 : 8),
			 family == AF_INET ? PROTO_ICMP : PROTO_ICMP6, ICMP_HDR + quote);
	icmp = buf + n;
	memset(icmp, 0, ICMP_HDR);
	icmp[0] = type;
	icmp[1] = code;
	if (family == AF_INET && type == LP_ICMP4_UNREACH && code == LP_ICMP4_FRAG_NEEDED)
		lp_put16(icmp + 6, (uint16_t)(mtu > 0xffff ? 0xffff : mtu));
	else if (family == AF_INET6 && type == LP_ICMP6_TOO_BIG)
		lp_put32(icmp + 4, mtu);
	memcpy(icmp + ICMP_HDR, orig, quote);
	lp_put16(icmp + 2, lp_icmp_csum(buf, icmp, ICMP_HDR + quote));
	return (int)(n + ICMP_HDR + quote);
}

static const char *const unreach4[] = {
	"network unreachable", "host unreachable", "protocol unreachable", "port unreachable",
	"fragmentation needed", "source route failed", "destination network unknown",
	"destination host unknown", "source host isolated", "network administratively prohibited",
	"host administratively prohibited", "network unreachable for TOS",
	"host unreachable for TOS", "administratively prohibited", "host precedence violation",
	"precedence cutoff",
};

static const char *const unreach6[] = {
	"no route to destination", "administratively prohibited", "beyond scope of source address",
	"address unreachable", "port unreachable", "source address failed ingress/egress policy",
	"reject route to destination",
};

static const char *const param6[] = {
	"erroneous header field", "unrecognized next header", "unrecognized IPv6 option",
};

const char *lp_icmp_str(const struct lp_icmp *ic, char *buf, size_t len)
{
	char from[INET6_ADDRSTRLEN], code[32];
	const char *what = NULL, *detail = NULL;
	bool v4 = ic->family == AF_INET;

	if (!inet_ntop(ic->family, ic->from, from, sizeof(from)))
		snprintf(from, sizeof(from), "?");
	snprintf(code, sizeof(code), "code %u", ic->code);
	switch (ic->cls) {
	case LP_ICMP_TOO_BIG:
		what = v4 ? "destination unreachable" : "packet too big";
		detail = v4 ? "fragmentation needed" : NULL;
		break;
	case LP_ICMP_UNREACH:
		what = "destination unreachable";
		if (v4 && ic->code < sizeof(unreach4) / sizeof(unreach4[0]))
			detail = unreach4[ic->code];
		else if (!v4 && ic->code < sizeof(unreach6) / sizeof(unreach6[0]))
			detail = unreach6[ic->code];
		break;
	case LP_ICMP_TIME:
		what = "time exceeded";
		if (ic->code == 0)
			detail = v4 ? "TTL exceeded in transit" : "hop limit exceeded in transit";
		else if (ic->code == 1)
			detail = "fragment reassembly time exceeded";
		break;
	case LP_ICMP_PARAM:
		what = "parameter problem";
		if (!v4 && ic->code < sizeof(param6) / sizeof(param6[0]))
			detail = param6[ic->code];
		break;
	}
	if (!what)
		what = "error";
	if (!detail && (ic->code || ic->cls == LP_ICMP_UNREACH))
		detail = code;
	snprintf(buf, len, "%s %s%s%s%s from %s", v4 ? "ICMP" : "ICMPv6", what, detail ? " (" : "",
		 detail ? detail : "", detail ? ")" : "", from);
	return buf;
}

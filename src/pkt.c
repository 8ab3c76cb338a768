/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv4/IPv6 + TCP packets: building (RFC 791, 8200, 9293, 7323, 2018) and
 * bounds-checked parsing. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/pkt.h"
#include "tcpliveplay/bytes.h"

enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WS = 3,
	OPT_SACKOK = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

uint32_t lp_csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	uint64_t acc = 0, w;
	uint16_t tail = 0;
	size_t i = 0;

	/* RFC 1071: the ones' complement sum does not depend on byte order.
	 * Sum 32-bit words as the machine holds them (2^32 - 1 is a multiple
	 * of 0xffff, so carries fold back in at the end), then turn the
	 * folded sum into network order. */
	for (; i + 16 <= len; i += 16) {
		uint32_t a, b, c, d;

		memcpy(&a, data + i, 4);
		memcpy(&b, data + i + 4, 4);
		memcpy(&c, data + i + 8, 4);
		memcpy(&d, data + i + 12, 4);
		acc += (uint64_t)a + b + c + d;
	}
	for (; i + 4 <= len; i += 4) {
		uint32_t a;

		memcpy(&a, data + i, 4);
		acc += a;
	}
	if (i + 2 <= len) {
		memcpy(&tail, data + i, 2);
		acc += tail;
		i += 2;
	}
	if (i < len) {
		/* The odd last byte is the high one of a 16-bit word, zero padded. */
		uint8_t pad[2] = { data[i], 0 };

		memcpy(&tail, pad, 2);
		acc += tail;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	w = acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = (uint64_t)(uint16_t)(w << 8 | w >> 8);
#endif
	w += sum;
	return (uint32_t)((w & 0xffffffffu) + (w >> 32));
}

uint16_t lp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, size_t tcplen)
{
	uint8_t tail[8];
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t sum = 0;

	sum = lp_csum_add(sum, src, alen);
	sum = lp_csum_add(sum, dst, alen);
	if (family == AF_INET) {
		tail[0] = 0;
		tail[1] = 6;
		lp_put16(tail + 2, (uint16_t)tcplen);
		return lp_csum_add(sum, tail, 4);
	}
	lp_put32(tail, (uint32_t)tcplen);
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = 6;
	return lp_csum_add(sum, tail, 8);
}

static size_t write_opts(uint8_t *o, const struct lp_seg *s)
{
	const struct lp_tcpopts *op = &s->opts;
	size_t n = 0;

	if (s->flags & LP_TH_SYN) {
		if (op->has_mss) {
			o[n++] = OPT_MSS;
			o[n++] = 4;
			lp_put16(o + n, op->mss);
			n += 2;
		}
		if (op->sack_ok && op->has_ts) {
			o[n++] = OPT_SACKOK;
			o[n++] = 2;
		} else if (op->sack_ok || op->has_ts) {
			o[n++] = OPT_NOP;
			o[n++] = OPT_NOP;
			if (op->sack_ok) {
				o[n++] = OPT_SACKOK;
				o[n++] = 2;
			}
		}
		if (op->has_ts) {
			o[n++] = OPT_TS;
			o[n++] = 10;
			lp_put32(o + n, op->tsval);
			lp_put32(o + n + 4, op->tsecr);
			n += 8;
		}
		if (op->has_wscale) {
			o[n++] = OPT_NOP;
			o[n++] = OPT_WS;
			o[n++] = 3;
			o[n++] = op->wscale;
		}
		return n;
	}
	if (op->has_ts) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		o[n++] = OPT_TS;
		o[n++] = 10;
		lp_put32(o + n, op->tsval);
		lp_put32(o + n + 4, op->tsecr);
		n += 8;
	}
	if (op->nsack) {
		unsigned max = op->has_ts ? 3 : 4;
		unsigned k = op->nsack < max ? op->nsack : max;

		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		o[n++] = OPT_SACK;
		o[n++] = (uint8_t)(2 + 8 * k);
		for (unsigned i = 0; i < k; i++) {
			lp_put32(o + n, op->sack[i].left);
			lp_put32(o + n + 4, op->sack[i].right);
			n += 8;
		}
	}
	return n;
}

size_t lp_pkt_opts_len(const struct lp_seg *s)
{
	uint8_t o[LP_TCP_MAXOPT];

	return write_opts(o, s);
}

/* The packet of s into buf; partial: its TCP checksum field gets the
 * pseudo-header sum only. A payload already in place (s->payload where it
 * goes in buf) is not copied. */
static int build(uint8_t *buf, size_t cap, const struct lp_seg *s, bool partial)
{
	uint8_t opts[LP_TCP_MAXOPT];
	size_t olen, iphl, tcplen, total;
	uint8_t *tcp;
	uint32_t sum;

	if (s->family != AF_INET && s->family != AF_INET6)
		return -EINVAL;
	olen = write_opts(opts, s);
	iphl = s->family == AF_INET ? LP_IPV4_HDR : LP_IPV6_HDR;
	tcplen = LP_TCP_HDR + olen + s->len;
	total = iphl + tcplen;
	if (total > 65535 + (s->family == AF_INET6 ? LP_IPV6_HDR : 0))
		return -EINVAL;
	if (total > cap)
		return -ENOBUFS;

	if (s->family == AF_INET) {
		memset(buf, 0, LP_IPV4_HDR);
		buf[0] = 0x45;
		lp_put16(buf + 2, (uint16_t)total);
		buf[6] = 0x40; /* DF */
		buf[8] = 64;
		buf[9] = 6;
		memcpy(buf + 12, s->src, 4);
		memcpy(buf + 16, s->dst, 4);
		lp_put16(buf + 10, lp_csum_fold(lp_csum_add(0, buf, LP_IPV4_HDR)));
	} else {
		memset(buf, 0, LP_IPV6_HDR);
		buf[0] = 0x60;
		lp_put16(buf + 4, (uint16_t)tcplen);
		buf[6] = 6;
		buf[7] = 64;
		memcpy(buf + 8, s->src, 16);
		memcpy(buf + 24, s->dst, 16);
	}
	tcp = buf + iphl;
	lp_put16(tcp, s->sport);
	lp_put16(tcp + 2, s->dport);
	lp_put32(tcp + 4, s->seq);
	lp_put32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)(((LP_TCP_HDR + olen) / 4) << 4);
	tcp[13] = s->flags;
	lp_put16(tcp + 14, s->window);
	tcp[16] = tcp[17] = 0;
	tcp[18] = tcp[19] = 0;
	memcpy(tcp + LP_TCP_HDR, opts, olen);
	if (s->len && s->payload != tcp + LP_TCP_HDR + olen)
		memcpy(tcp + LP_TCP_HDR + olen, s->payload, s->len);
	sum = pseudo_sum(s->family, s->src, s->dst, tcplen);
	if (partial) {
		lp_put16(tcp + 16, (uint16_t)~lp_csum_fold(sum));
		return (int)total;
	}
	sum = lp_csum_add(sum, tcp, tcplen);
	lp_put16(tcp + 16, lp_csum_fold(sum));
	return (int)total;
}

int lp_pkt_build(uint8_t *buf, size_t cap, const struct lp_seg *s)
{
	return build(buf, cap, s, false);
}

int lp_pkt_build_gso(uint8_t *buf, size_t cap, const struct lp_seg *s, uint16_t seg_len,
		     struct lp_gso *g)
{
	int n;

	if (!seg_len)
		return -EINVAL;
	n = build(buf, cap, s, true);
	if (n < 0)
		return n;
	g->seg_len = seg_len;
	g->l4_off = s->family == AF_INET ? LP_IPV4_HDR : LP_IPV6_HDR;
	g->hdr_len = (uint16_t)((size_t)n - s->len);
	return n;
}

unsigned lp_gso_count(size_t len, const struct lp_gso *g)
{
	size_t pl;

	if (!g->seg_len || len <= g->hdr_len)
		return 1;
	pl = len - g->hdr_len;
	return (unsigned)((pl + g->seg_len - 1) / g->seg_len);
}

int lp_gso_segment(const uint8_t *pkt, size_t len, const struct lp_gso *g, unsigned i, uint8_t *out,
		   size_t cap)
{
	size_t hl = g->hdr_len, pl, off, n, tcplen;
	unsigned count = lp_gso_count(len, g);
	uint8_t *tcp;
	uint32_t sum;
	int family;

	if (!g->seg_len) {
		/* A plain packet is its own only segment. */
		if (i > 0)
			return 0;
		if (len > cap)
			return -ENOBUFS;
		memcpy(out, pkt, len);
		return (int)len;
	}
	if (hl > len || (size_t)g->l4_off + LP_TCP_HDR > hl || len < 1)
		return -EINVAL;
	family = pkt[0] >> 4 == 4 ? AF_INET : AF_INET6;
	if (g->l4_off != (family == AF_INET ? LP_IPV4_HDR : LP_IPV6_HDR))
		return -EINVAL;
	if (i >= count)
		return 0;
	pl = len - hl;
	off = (size_t)i * g->seg_len;
	n = pl - off > g->seg_len ? g->seg_len : pl - off;
	if (hl + n > cap)
		return -ENOBUFS;
	memcpy(out, pkt, hl);
	memcpy(out + hl, pkt + hl + off, n);
	tcp = out + g->l4_off;
	tcplen = hl - g->l4_off + n;
	if (family == AF_INET) {
		lp_put16(out + 2, (uint16_t)(hl + n));
		lp_put16(out + 4, (uint16_t)(lp_get16(pkt + 4) + i));
		out[10] = out[11] = 0;
		lp_put16(out + 10, lp_csum_fold(lp_csum_add(0, out, LP_IPV4_HDR)));
	} else {
		lp_put16(out + 4, (uint16_t)tcplen);
	}
	lp_put32(tcp + 4, lp_get32(tcp + 4) + (uint32_t)off);
	if (i + 1 < count)
		tcp[13] &= (uint8_t)~(LP_TH_FIN | LP_TH_PSH);
	if (i > 0)
		tcp[13] &= (uint8_t)~LP_TH_CWR;
	tcp[16] = tcp[17] = 0;
	sum = pseudo_sum(family, out + (family == AF_INET ? 12 : 8), out + (family == AF_INET ? 16 : 24),
			 tcplen);
	lp_put16(tcp + 16, lp_csum_fold(lp_csum_add(sum, tcp, tcplen)));
	return (int)(hl + n);
}

void lp_pkt_corrupt(uint8_t *pkt, size_t len)
{
	size_t at = len && pkt[0] >> 4 == 4 ? (size_t)(pkt[0] & 0x0f) * 4 + 16 : LP_IPV6_HDR + 16;

	/* Never +0 into -0 (0x0000 and 0xffff are the same sum). */
	if (len >= at + 2)
		lp_put16(pkt + at, lp_get16(pkt + at) ^ 0x5a5a);
}

void lp_tcpopts_parse(const uint8_t *p, size_t len, struct lp_tcpopts *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];
		uint8_t olen;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len) {
			o->truncated = true;
			break;
		}
		olen = p[i + 1];
		if (olen < 2) {
			o->malformed = true;
			break;
		}
		if (olen > len - i) {
			o->truncated = true;
			break;
		}
		switch (kind) {
		case OPT_MSS:
			if (olen != 4)
				goto bad;
			o->has_mss = true;
			o->mss = lp_get16(p + i + 2);
			break;
		case OPT_WS:
			if (olen != 3)
				goto bad;
			o->has_wscale = true;
			o->wscale = p[i + 2];
			break;
		case OPT_SACKOK:
			if (olen != 2)
				goto bad;
			o->sack_ok = true;
			break;
		case OPT_SACK:
			if ((olen - 2) % 8 != 0)
				goto bad;
			o->nsack = 0;
			for (size_t k = 0; k < (size_t)(olen - 2) / 8 && k < LP_MAX_SACK; k++) {
				o->sack[k].left = lp_get32(p + i + 2 + 8 * k);
				o->sack[k].right = lp_get32(p + i + 6 + 8 * k);
				o->nsack++;
			}
			break;
		case OPT_TS:
			if (olen != 10)
				goto bad;
			o->has_ts = true;
			o->tsval = lp_get32(p + i + 2);
			o->tsecr = lp_get32(p + i + 6);
			break;
		default:
			if (o->unknown < UINT8_MAX)
				o->unknown++;
			break;
		}
		i += olen;
		continue;
bad:
		o->malformed = true;
		i += olen;
	}
}

bool lp_ip6_skip_ext(const uint8_t *p, size_t len, uint8_t *nh, size_t *off)
{
	while (*nh == 0 || *nh == 43 || *nh == 60) {
		size_t hl;

		if (*off + 8 > len)
			return false;
		hl = ((size_t)p[*off + 1] + 1) * 8;
		if (hl > len - *off)
			return false;
		*nh = p[*off];
		*off += hl;
	}
	return true;
}

/* The TCP checksum of a segment is right, or still holds the pseudo-header
 * sum: a packet from a sender on this host (veth, loopback) reaches a packet
 * socket before its checksum is filled in (Linux CHECKSUM_PARTIAL). */
static bool tcp_csum_ok(int family, const uint8_t *src, const uint8_t *dst, const uint8_t *tcp,
			size_t tcplen)
{
	uint32_t sum = pseudo_sum(family, src, dst, tcplen);

	return lp_csum_fold(lp_csum_add(sum, tcp, tcplen)) == 0 ||
	       (uint32_t)lp_get16(tcp + 16) == 0xffffu - lp_csum_fold(sum);
}

int lp_pkt_parse(const uint8_t *pkt, size_t len, struct lp_seg *s)
{
	return lp_pkt_parse_rx(pkt, len, 0, s);
}

int lp_pkt_parse_rx(const uint8_t *pkt, size_t len, unsigned flags, struct lp_seg *s)
{
	const uint8_t *tcp;
	size_t tcplen, doff, have;
	bool cut = false;
	int family;

	if (len < 1)
		return -EINVAL;
	if (pkt[0] >> 4 == 4) {
		size_t ihl, total;

		if (len < LP_IPV4_HDR)
			return -EINVAL;
		ihl = (size_t)(pkt[0] & 0x0f) * 4;
		total = lp_get16(pkt + 2);
		if (ihl < LP_IPV4_HDR || total < ihl || ihl > len)
			return -EINVAL;
		if (total > len) {
			if (!(flags & LP_RX_HEADERS))
				return -EINVAL;
			cut = true;
		}
		if (lp_csum_fold(lp_csum_add(0, pkt, ihl)) != 0)
			return -EBADMSG;
		if ((lp_get16(pkt + 6) & 0x3fff) != 0)
			return -EPROTONOSUPPORT;
		if (pkt[9] != 6)
			return -EINVAL;
		family = AF_INET;
		memset(s->src, 0, sizeof(s->src));
		memset(s->dst, 0, sizeof(s->dst));
		memcpy(s->src, pkt + 12, 4);
		memcpy(s->dst, pkt + 16, 4);
		tcp = pkt + ihl;
		tcplen = total - ihl;
		have = (cut ? len : total) - ihl;
	} else if (pkt[0] >> 4 == 6) {
		size_t plen, off = LP_IPV6_HDR;
		uint8_t nh;

		if (len < LP_IPV6_HDR)
			return -EINVAL;
		plen = lp_get16(pkt + 4);
		if (plen > len - LP_IPV6_HDR) {
			if (!(flags & LP_RX_HEADERS))
				return -EINVAL;
			cut = true;
		}
		nh = pkt[6];
		if (!lp_ip6_skip_ext(pkt, cut ? len : LP_IPV6_HDR + plen, &nh, &off))
			return -EINVAL;
		if (nh == 44)
			return -EPROTONOSUPPORT;
		if (nh != 6)
			return -EINVAL;
		family = AF_INET6;
		memcpy(s->src, pkt + 8, 16);
		memcpy(s->dst, pkt + 24, 16);
		tcp = pkt + off;
		tcplen = LP_IPV6_HDR + plen - off;
		have = (cut ? len : LP_IPV6_HDR + plen) - off;
	} else {
		return -EINVAL;
	}
	if (tcplen < LP_TCP_HDR || have < LP_TCP_HDR)
		return -EINVAL;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < LP_TCP_HDR || doff > tcplen || doff > have)
		return -EINVAL;
	/* A cut segment's checksum cannot be checked here. */
	if (!(flags & LP_RX_CSUM_OK) && (cut || !tcp_csum_ok(family, s->src, s->dst, tcp, tcplen)))
		return -EBADMSG;
	s->family = family;
	s->sport = lp_get16(tcp);
	s->dport = lp_get16(tcp + 2);
	s->seq = lp_get32(tcp + 4);
	s->ack = lp_get32(tcp + 8);
	s->flags = tcp[13];
	s->window = lp_get16(tcp + 14);
	lp_tcpopts_parse(tcp + LP_TCP_HDR, doff - LP_TCP_HDR, &s->opts);
	s->payload = cut ? NULL : tcp + doff;
	s->len = (uint32_t)(tcplen - doff);
	return 0;
}

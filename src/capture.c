/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture reader. libpcap reads the file; this module walks each frame with a
 * length cursor: link header, IPv4/IPv6 (with options and extension headers),
 * TCP header and options. Nothing is read past the captured length.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/capture.h"
#include "tcpliveplay/bytes.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

struct lp_capture {
	pcap_t *pcap;
	int dlt;
	uint32_t number;
};

static void bad(struct lp_rawpkt *out, const char *why)
{
	out->kind = LP_PKT_BAD;
	out->why = why;
}

static void parse_tcp_options(const uint8_t *p, uint32_t optlen, uint32_t present,
			      struct lp_tcpopts *o)
{
	uint32_t i = 0;

	if (present < optlen) {
		o->truncated = true;
		optlen = present;
	}
	while (i < optlen) {
		uint8_t kind = p[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= optlen) {
			o->truncated = o->truncated || present < optlen;
			o->malformed = !o->truncated;
			return;
		}
		len = p[i + 1];
		if (len < 2) {
			o->malformed = true;
			return;
		}
		if (i + len > optlen) {
			if (!o->truncated)
				o->malformed = true;
			return;
		}
		switch (kind) {
		case 2:
			if (len != 4)
				goto wrong;
			o->has_mss = true;
			o->mss = lp_get16(p + i + 2);
			break;
		case 3:
			if (len != 3)
				goto wrong;
			o->has_wscale = true;
			o->wscale = p[i + 2];
			break;
		case 4:
			if (len != 2)
				goto wrong;
			o->sack_ok = true;
			break;
		case 5:
			if (len < 10 || (len - 2) % 8)
				goto wrong;
			for (uint32_t k = i + 2; k + 8 <= (uint32_t)i + len && o->nsack < LP_MAX_SACK; k += 8) {
				o->sack[o->nsack].left = lp_get32(p + k);
				o->sack[o->nsack].right = lp_get32(p + k + 4);
				o->nsack++;
			}
			break;
		case 8:
			if (len != 10)
				goto wrong;
			o->has_ts = true;
			o->tsval = lp_get32(p + i + 2);
			o->tsecr = lp_get32(p + i + 6);
			break;
		default:
			if (o->unknown < UINT8_MAX)
				o->unknown++;
			break;
		}
		i += len;
		continue;
wrong:
		o->malformed = true;
		i += len;
	}
}

/* p/caplen: the TCP header and what follows; seglen: its length per IP. */
static void parse_tcp(const uint8_t *p, uint32_t caplen, uint32_t seglen, struct lp_rawpkt *out)
{
	struct lp_tcppkt *t = &out->tcp;
	uint32_t hlen;

	if (seglen < 20) {
		bad(out, "TCP segment shorter than 20 bytes");
		return;
	}
	if (caplen < 20) {
		bad(out, "TCP header cut by the capture length");
		return;
	}
	hlen = (uint32_t)(p[12] >> 4) * 4;
	if (hlen < 20) {
		bad(out, "TCP data offset below 5");
		return;
	}
	if (hlen > seglen) {
		bad(out, "TCP data offset beyond the end of the segment");
		return;
	}
	t->sport = lp_get16(p);
	t->dport = lp_get16(p + 2);
	t->seq = lp_get32(p + 4);
	t->ack = lp_get32(p + 8);
	t->flags = p[13];
	t->window = lp_get16(p + 14);
	memset(&t->opts, 0, sizeof(t->opts));
	parse_tcp_options(p + 20, hlen - 20, caplen - 20, &t->opts);
	t->len = seglen - hlen;
	t->caplen = caplen > hlen ? caplen - hlen : 0;
	if (t->caplen > t->len)
		t->caplen = t->len;
	t->payload = t->caplen ? p + hlen : NULL;
	out->kind = LP_PKT_TCP;
}

static bool ip6_ext_header(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 51;
}

static void parse_ipv6(const uint8_t *p, uint32_t caplen, struct lp_rawpkt *out)
{
	uint32_t plen, off = 40, end;
	uint8_t nh;

	if (caplen < 40) {
		bad(out, "IPv6 header cut by the capture length");
		return;
	}
	plen = lp_get16(p + 4);
	if (plen == 0) {
		bad(out, "IPv6 jumbogram or zero payload length");
		return;
	}
	end = 40 + plen;
	nh = p[6];
	while (ip6_ext_header(nh)) {
		uint32_t hl;

		if (off + 8 > end) {
			bad(out, "IPv6 extension header beyond the payload length");
			return;
		}
		if (off + 8 > caplen) {
			bad(out, "IPv6 extension header cut by the capture length");
			return;
		}
		hl = nh == 51 ? ((uint32_t)p[off + 1] + 2) * 4 : ((uint32_t)p[off + 1] + 1) * 8;
		nh = p[off];
		off += hl;
		if (off > end) {
			bad(out, "IPv6 extension header beyond the payload length");
			return;
		}
	}
	if (nh == 44) {
		out->kind = LP_PKT_FRAGMENT;
		out->why = "IPv6 fragment (not reassembled)";
		return;
	}
	if (nh != 6) {
		out->kind = LP_PKT_OTHER;
		return;
	}
	out->tcp.family = AF_INET6;
	memcpy(out->tcp.src, p + 8, 16);
	memcpy(out->tcp.dst, p + 24, 16);
	if (off > caplen) {
		bad(out, "TCP header cut by the capture length");
		return;
	}
	parse_tcp(p + off, (caplen < end ? caplen : end) - off, end - off, out);
}

static void parse_ipv4(const uint8_t *p, uint32_t caplen, struct lp_rawpkt *out)
{
	uint32_t ihl, tot, frag;

	if (caplen < 20) {
		bad(out, "IPv4 header cut by the capture length");
		return;
	}
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	if (ihl < 20) {
		bad(out, "IPv4 header length below 5");
		return;
	}
	tot = lp_get16(p + 2);
	if (tot < ihl) {
		bad(out, "IPv4 total length shorter than its header");
		return;
	}
	if (ihl > caplen) {
		bad(out, "IPv4 options cut by the capture length");
		return;
	}
	frag = lp_get16(p + 6);
	if (frag & 0x3fff) {
		out->kind = LP_PKT_FRAGMENT;
		out->why = "IPv4 fragment (not reassembled)";
		return;
	}
	if (p[9] != 6) {
		out->kind = LP_PKT_OTHER;
		return;
	}
	out->tcp.family = AF_INET;
	memset(out->tcp.src, 0, sizeof(out->tcp.src));
	memset(out->tcp.dst, 0, sizeof(out->tcp.dst));
	memcpy(out->tcp.src, p + 12, 4);
	memcpy(out->tcp.dst, p + 16, 4);
	parse_tcp(p + ihl, (caplen < tot ? caplen : tot) - ihl, tot - ihl, out);
}

void lp_parse_ip(const uint8_t *data, uint32_t caplen, struct lp_rawpkt *out)
{
	out->kind = LP_PKT_OTHER;
	out->why = NULL;
	if (caplen < 1) {
		bad(out, "empty IP packet");
		return;
	}
	switch (data[0] >> 4) {
	case 4:
		parse_ipv4(data, caplen, out);
		break;
	case 6:
		parse_ipv6(data, caplen, out);
		break;
	default:
		bad(out, "IP version neither 4 nor 6");
		break;
	}
}

/* Dispatch on an EtherType after the link header, skipping VLAN tags. */
static void parse_ethertype(uint16_t type, const uint8_t *p, uint32_t caplen, struct lp_rawpkt *out)
{
	for (int tags = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100; tags++) {
		if (tags == 8) {
			bad(out, "more than 8 VLAN tags");
			return;
		}
		if (caplen < 4) {
			bad(out, "VLAN tag cut by the capture length");
			return;
		}
		type = lp_get16(p + 2);
		p += 4;
		caplen -= 4;
	}
	if (type == 0x0800 || type == 0x86dd) {
		lp_parse_ip(p, caplen, out);
		if (out->kind == LP_PKT_TCP && (type == 0x0800) != (out->tcp.family == AF_INET))
			bad(out, "IP version does not match the EtherType");
		return;
	}
	out->kind = LP_PKT_OTHER;
}

bool lp_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

static bool bsd_af_is_inet6(uint32_t af)
{
	/* AF_INET6 differs between BSDs: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
	return af == 24 || af == 28 || af == 30;
}

void lp_parse_frame(int dlt, const uint8_t *data, uint32_t caplen, struct lp_rawpkt *out)
{
	uint32_t hl;
	uint16_t type;

	out->kind = LP_PKT_OTHER;
	out->why = NULL;
	switch (dlt) {
	case DLT_EN10MB:
		hl = 14;
		if (caplen < hl) {
			bad(out, "Ethernet header cut by the capture length");
			return;
		}
		type = lp_get16(data + 12);
		if (type < 0x0600)
			return;  /* 802.3 length field: LLC, not IP */
		parse_ethertype(type, data + hl, caplen - hl, out);
		return;
	case DLT_LINUX_SLL:
		hl = 16;
		if (caplen < hl) {
			bad(out, "Linux cooked header cut by the capture length");
			return;
		}
		parse_ethertype(lp_get16(data + 14), data + hl, caplen - hl, out);
		return;
	case DLT_LINUX_SLL2:
		hl = 20;
		if (caplen < hl) {
			bad(out, "Linux cooked v2 header cut by the capture length");
			return;
		}
		parse_ethertype(lp_get16(data), data + hl, caplen - hl, out);
		return;
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t af, le;

		hl = 4;
		if (caplen < hl) {
			bad(out, "loopback header cut by the capture length");
			return;
		}
		af = lp_get32(data);
		le = (uint32_t)data[3] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[1] << 8 | data[0];
		if (dlt == DLT_NULL && (af > 0xffff))
			af = le;  /* host byte order of the capturing machine */
		if (af == 2 || bsd_af_is_inet6(af)) {
			lp_parse_ip(data + hl, caplen - hl, out);
			if (out->kind == LP_PKT_TCP && (af == 2) != (out->tcp.family == AF_INET))
				bad(out, "IP version does not match the loopback header");
		}
		return;
	}
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		lp_parse_ip(data, caplen, out);
		return;
	default:
		bad(out, "unsupported link type");
		return;
	}
}

static int capture_init(pcap_t *p, struct lp_capture **out, char *err, size_t errlen)
{
	struct lp_capture *cap;
	int dlt = pcap_datalink(p);

	if (!lp_linktype_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);

		snprintf(err, errlen, "link type %s (%d) is not supported", name ? name : "unknown", dlt);
		pcap_close(p);
		return -EPROTONOSUPPORT;
	}
	cap = calloc(1, sizeof(*cap));
	if (!cap) {
		snprintf(err, errlen, "out of memory");
		pcap_close(p);
		return -ENOMEM;
	}
	cap->pcap = p;
	cap->dlt = dlt;
	*out = cap;
	return 0;
}

int lp_capture_open(const char *path, struct lp_capture **out, char *err, size_t errlen)
{
	FILE *fp;
	int rc;

	*out = NULL;
	fp = fopen(path, "rb");
	if (!fp) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		return rc;
	}
	return lp_capture_open_fp(fp, out, err, errlen);
}

int lp_capture_open_fp(FILE *fp, struct lp_capture **out, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	*out = NULL;
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		snprintf(err, errlen, "%s", perr[0] ? perr : "cannot read capture");
		fclose(fp);
		return -EINVAL;
	}
	return capture_init(p, out, err, errlen);
}

int lp_capture_next(struct lp_capture *cap, struct lp_rawpkt *pkt, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	pkt->number = cap->number + 1;
	rc = pcap_next_ex(cap->pcap, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(err, errlen, "%s", pcap_geterr(cap->pcap));
		return -EINVAL;
	}
	cap->number++;
	pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
	pkt->caplen = h->caplen;
	lp_parse_frame(cap->dlt, data, h->caplen, pkt);
	return 1;
}

int lp_capture_linktype(const struct lp_capture *cap)
{
	return cap->dlt;
}

const char *lp_capture_linktype_name(const struct lp_capture *cap)
{
	const char *n = pcap_datalink_val_to_name(cap->dlt);

	return n ? n : "unknown";
}

void lp_capture_close(struct lp_capture *cap)
{
	if (!cap)
		return;
	pcap_close(cap->pcap);
	free(cap);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture reader: the capture's bytes (capfile.c: mapped, decompressed), its
 * records (savefile.c: pcap, pcapng), and each frame walked here with a
 * length cursor: link header, IPv4/IPv6 (with options and extension headers),
 * TCP header and options. Nothing is read past the captured length. libpcap
 * only names link types.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/capture.h"
#include "tcpliveplay/bytes.h"
#include "tcpliveplay/capfile.h"
#include "tcpliveplay/savefile.h"

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
	struct lp_capfile file;
	struct lp_savefile *sf;
	struct lp_capture_stats st;   /* packets counted by kind */
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

/* --- Reading a capture ---------------------------------------------------- */

static const char *dlt_name(int dlt, char *buf, size_t len)
{
	const char *n = pcap_datalink_val_to_name(dlt);

	if (n)
		return n;
	snprintf(buf, len, "LINKTYPE_%d", dlt);
	return buf;
}

/* After the bytes are in memory: the records, and a classic pcap of a link
 * type not parsed refused (a pcapng skips such interfaces, counted). */
static int capture_init(struct lp_capture *cap, char *err, size_t errlen)
{
	int rc, dlt;
	uint32_t none;

	rc = lp_savefile_open(cap->file.data, cap->file.size, &cap->sf, err, errlen);
	if (rc && cap->file.error[0]) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (%s)", cap->file.error);
	}
	if (rc)
		return rc;
	if (!strcmp(lp_savefile_format(cap->sf), "pcap")) {
		lp_savefile_iface(cap->sf, 0, &dlt, &none);
		if (!lp_linktype_supported(dlt)) {
			char buf[32];

			snprintf(err, errlen, "link type %s (%d) is not supported", dlt_name(dlt, buf, sizeof(buf)),
				 dlt);
			return -EPROTONOSUPPORT;
		}
	}
	return 0;
}

/* Open with how the bytes get into memory; takes ownership of nothing. */
static int capture_open(int (*load)(struct lp_capfile *cf, const void *arg, char *err, size_t errlen),
			const void *arg, struct lp_capture **out, char *err, size_t errlen)
{
	struct lp_capture *cap = calloc(1, sizeof(*cap));
	int rc;

	*out = NULL;
	if (!cap) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = load(&cap->file, arg, err, errlen);
	if (!rc)
		rc = capture_init(cap, err, errlen);
	if (rc) {
		lp_capture_close(cap);
		return rc;
	}
	*out = cap;
	return 0;
}

static int load_path(struct lp_capfile *cf, const void *arg, char *err, size_t errlen)
{
	return lp_capfile_open(arg, cf, err, errlen);
}

static int load_fd(struct lp_capfile *cf, const void *arg, char *err, size_t errlen)
{
	return lp_capfile_from_fd(*(const int *)arg, NULL, cf, err, errlen);
}

struct mem {
	const void *p;
	size_t n;
	const struct lp_inflate_limit *lim;
};

static int load_mem(struct lp_capfile *cf, const void *arg, char *err, size_t errlen)
{
	const struct mem *m = arg;

	return lp_capfile_from_mem(m->p, m->n, m->lim, cf, err, errlen);
}

int lp_capture_open(const char *path, struct lp_capture **out, char *err, size_t errlen)
{
	return capture_open(load_path, path, out, err, errlen);
}

int lp_capture_open_fd(int fd, struct lp_capture **out, char *err, size_t errlen)
{
	return capture_open(load_fd, &fd, out, err, errlen);
}

int lp_capture_open_mem(const void *p, size_t n, const struct lp_inflate_limit *lim, struct lp_capture **out,
			char *err, size_t errlen)
{
	struct mem m = { p, n, lim };

	return capture_open(load_mem, &m, out, err, errlen);
}

int lp_capture_next(struct lp_capture *cap, struct lp_rawpkt *pkt)
{
	struct lp_record r;
	int rc;

	/* The previous record is done with: its pages may go. */
	lp_capfile_release(&cap->file, lp_savefile_offset(cap->sf));
	rc = lp_savefile_next(cap->sf, &r);
	if (rc <= 0)
		return rc;
	pkt->number = r.number;
	pkt->ts_ns = r.ts_ns;
	pkt->caplen = r.caplen;
	cap->st.packets++;
	if (!lp_linktype_supported(r.dlt)) {
		pkt->kind = LP_PKT_UNREAD;
		pkt->why = NULL;
		cap->st.unread++;
		return 1;
	}
	lp_parse_frame(r.dlt, r.data, r.caplen, pkt);
	switch (pkt->kind) {
	case LP_PKT_TCP:
		cap->st.tcp++;
		break;
	case LP_PKT_FRAGMENT:
		cap->st.fragments++;
		break;
	case LP_PKT_BAD:
		cap->st.malformed++;
		break;
	default:
		cap->st.other++;
		break;
	}
	return 1;
}

/* Append name to the '+'-joined list in buf unless it is there. */
static void names_add(char *buf, size_t len, const char *name)
{
	size_t n = strlen(name), used = strlen(buf);

	for (const char *p = buf; (p = strstr(p, name)); p += n)
		if ((p == buf || p[-1] == '+') && (p[n] == '\0' || p[n] == '+'))
			return;
	snprintf(buf + used, len - used, "%s%s", used ? "+" : "", name);
}

static void describe_damage(struct lp_capture *cap, struct lp_capture_stats *st)
{
	uint64_t off;
	const char *what = lp_savefile_damage(cap->sf, &st->damaged_at, &off);
	const char *more = cap->file.error;

	if (what)
		snprintf(st->damage, sizeof(st->damage), "%s (at byte %llu)%s%s", what, (unsigned long long)off,
			 more[0] ? "; " : "", more);
	else if (more[0])
		snprintf(st->damage, sizeof(st->damage), "%s", more);
	else
		st->damaged_at = 0;
}

void lp_capture_stats(struct lp_capture *cap, struct lp_capture_stats *st)
{
	size_t n = lp_savefile_ninterfaces(cap->sf);

	*st = cap->st;
	st->linktype = -1;
	for (size_t i = 0; i < n; i++) {
		char buf[32];
		uint32_t packets;
		int dlt;

		lp_savefile_iface(cap->sf, i, &dlt, &packets);
		if (lp_linktype_supported(dlt)) {
			if (st->linktype < 0 || !lp_linktype_supported(st->linktype))
				st->linktype = dlt;
			names_add(st->linktype_name, sizeof(st->linktype_name), dlt_name(dlt, buf, sizeof(buf)));
		} else {
			if (st->linktype < 0)
				st->linktype = dlt;
			if (packets)
				names_add(st->unread_names, sizeof(st->unread_names), dlt_name(dlt, buf, sizeof(buf)));
		}
	}
	if (!st->linktype_name[0])
		snprintf(st->linktype_name, sizeof(st->linktype_name), "none");
	describe_damage(cap, st);
}

void lp_capture_keep_mapped(struct lp_capture *cap)
{
	if (cap)
		cap->file.map = NULL;
}

void lp_capture_close(struct lp_capture *cap)
{
	if (!cap)
		return;
	lp_savefile_close(cap->sf);
	lp_capfile_close(&cap->file);
	free(cap);
}

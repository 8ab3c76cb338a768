/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcapgen: capture writer for the tests. Headers are built byte by byte in
 * network order (with valid checksums); libpcap writes the file.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <lzma.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "pcapgen.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define PG_MAXFRAME 70000

struct pg_file {
	pcap_t *pcap;
	pcap_dumper_t *dump;
	enum pg_link link;
	uint32_t af6;
	uint64_t clock;
	bool micro;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int pg_dlt(enum pg_link link)
{
	switch (link) {
	case PG_ETH:
	case PG_VLAN:
	case PG_QINQ:
		return DLT_EN10MB;
	case PG_SLL:
		return DLT_LINUX_SLL;
	case PG_SLL2:
		return DLT_LINUX_SLL2;
	case PG_RAW:
		return DLT_RAW;
	case PG_NULL:
	case PG_NULL_BE:
		return DLT_NULL;
	case PG_LOOP:
	default:
		return DLT_LOOP;
	}
}

const char *pg_link_name(enum pg_link link)
{
	static const char *const names[PG_NLINKS] = {
		"ethernet", "vlan", "qinq", "sll", "sll2", "raw", "null-le", "null-be", "loop",
	};

	return (unsigned)link < PG_NLINKS ? names[link] : "?";
}

size_t pg_link_hlen(enum pg_link link)
{
	static const size_t hlen[PG_NLINKS] = { 14, 18, 22, 16, 20, 0, 4, 4, 4 };

	return (unsigned)link < PG_NLINKS ? hlen[link] : 0;
}

static void conv_addrs(const struct pg_conv *c, int dir, uint8_t src[16], uint8_t dst[16])
{
	int fam = c->family == AF_INET6 ? AF_INET6 : AF_INET;
	const char *ca = c->caddr ? c->caddr : fam == AF_INET ? "198.18.0.1" : "2001:db8::1";
	const char *sa = c->saddr ? c->saddr : fam == AF_INET ? "198.18.0.2" : "2001:db8::2";

	memset(src, 0, 16);
	memset(dst, 0, 16);
	if (inet_pton(fam, dir == PG_C ? ca : sa, src) != 1 ||
	    inet_pton(fam, dir == PG_C ? sa : ca, dst) != 1)
		fprintf(stderr, "pcapgen: bad address %s or %s\n", ca, sa);
}

static uint32_t payload_len(const struct pg_pkt *p)
{
	if (p->len)
		return p->len;
	return p->data ? (uint32_t)strlen(p->data) : 0;
}

/* TCP header and payload at buf; returns its length, 0 if it does not fit. */
static size_t build_l4(const struct pg_conv *c, const struct pg_pkt *p, uint8_t *buf, size_t size)
{
	uint32_t plen = payload_len(p), olen = ((uint32_t)p->optlen + 3u) & ~3u;
	uint32_t cisn = c->cisn, sisn = c->sisn;
	uint32_t myisn = p->dir == PG_C ? cisn : sisn, peerisn = p->dir == PG_C ? sisn : cisn;
	size_t n;

	if (p->proto && p->proto != 6) {
		if (plen > size)
			return 0;
		if (plen)
			memcpy(buf, p->data, plen);
		return plen;
	}
	n = 20 + olen + plen;
	if (n > size)
		return 0;
	memset(buf, 0, 20 + olen);
	put16(buf, p->dir == PG_C ? (c->cport ? c->cport : 40000) : (c->sport ? c->sport : 80));
	put16(buf + 2, p->dir == PG_C ? (c->sport ? c->sport : 80) : (c->cport ? c->cport : 40000));
	put32(buf + 4, p->absolute ? p->seq : myisn + p->seq);
	put32(buf + 8, p->absolute ? p->ack : (p->flags & PG_ACK) ? peerisn + p->ack : 0);
	buf[12] = (uint8_t)((p->doff ? p->doff : (20 + olen) / 4) << 4);
	buf[13] = p->flags;
	put16(buf + 14, p->zero_window ? 0 : p->window ? p->window : 64240);
	if (p->optlen)
		memcpy(buf + 20, p->opts, p->optlen);
	if (plen)
		memcpy(buf + 20 + olen, p->data, plen);
	return n;
}

static size_t ip6_ext_len(unsigned x, bool frag)
{
	return (x & PG_X_HBH ? 8 : 0) + (x & PG_X_DST ? 16 : 0) + (x & PG_X_RT ? 24 : 0) +
	       (frag ? 8 : 0) + (x & PG_X_AH ? 24 : 0);
}

/* One extension header of hl bytes at p: next header, length, padding. */
static uint8_t *ext(uint8_t *p, uint8_t *nhfield, uint8_t type, size_t hl)
{
	*nhfield = type;
	memset(p, 0, hl);
	if (type == 51) {
		p[1] = (uint8_t)(hl / 4 - 2);
		put32(p + 4, 0x1000);
		put32(p + 8, 1);
	} else if (type == 44) {
		p[1] = 0;
	} else if (type == 43) {
		p[1] = (uint8_t)(hl / 8 - 1);
		p[2] = 2;
		p[3] = 0;
		p[8] = 0x20;
		p[9] = 0x01;
	} else {
		p[1] = (uint8_t)(hl / 8 - 1);
		p[2] = 1;   /* PadN over the rest */
		p[3] = (uint8_t)(hl - 4);
	}
	return p + hl;
}

size_t pg_build_ip(const struct pg_conv *c, const struct pg_pkt *p, uint8_t *buf, size_t size)
{
	uint8_t src[16], dst[16];
	uint8_t proto = p->proto ? p->proto : 6;
	size_t hl, l4, tot;

	if (p->ethertype) {
		size_t n = payload_len(p);

		if (n > size)
			return 0;
		if (n)
			memcpy(buf, p->data, n);
		return n;
	}
	conv_addrs(c, p->dir, src, dst);
	if (c->family != AF_INET6) {
		uint32_t ol = c->ip4_optlen > 40 ? 40 : c->ip4_optlen & ~3u;

		hl = 20 + ol;
		if (size < hl)
			return 0;
		l4 = build_l4(c, p, buf + hl, size - hl);
		if (!l4 && (payload_len(p) || proto == 6))
			return 0;
		tot = hl + l4;
		memset(buf, 0, hl);
		buf[0] = (uint8_t)(0x40 | (p->ihl ? p->ihl : hl / 4));
		put16(buf + 2, p->iplen < 0 ? 0 : p->iplen ? (uint16_t)p->iplen : (uint16_t)tot);
		put16(buf + 4, 0x1234);
		put16(buf + 6, p->frag ? p->frag : 0x4000);
		buf[8] = 64;
		buf[9] = proto;
		memcpy(buf + 12, src, 4);
		memcpy(buf + 16, dst, 4);
		if (ol) {
			/* Router Alert, then NOPs, then end of list. */
			buf[20] = 0x94;
			buf[21] = 4;
			memset(buf + 24, 1, ol - 4);
			if (ol > 4)
				buf[20 + ol - 1] = 0;
		}
		put16(buf + 10, fold(sum16(0, buf, hl)));
		if (proto == 6 && l4 >= 20) {
			uint8_t ph[12];

			memcpy(ph, src, 4);
			memcpy(ph + 4, dst, 4);
			ph[8] = 0;
			ph[9] = 6;
			put16(ph + 10, (uint16_t)l4);
			put16(buf + hl + 16, fold(sum16(sum16(0, ph, 12), buf + hl, l4)));
		}
		return tot;
	} else {
		uint8_t *q = buf + 40, *nh = buf + 6;
		size_t xl = ip6_ext_len(c->ip6_ext, p->frag != 0);

		hl = 40 + xl;
		if (size < hl)
			return 0;
		l4 = build_l4(c, p, buf + hl, size - hl);
		if (!l4 && (payload_len(p) || proto == 6))
			return 0;
		tot = hl + l4;
		memset(buf, 0, 40);
		buf[0] = 0x60;
		put16(buf + 4, p->iplen < 0 ? 0 : p->iplen ? (uint16_t)p->iplen : (uint16_t)(tot - 40));
		buf[7] = 64;
		memcpy(buf + 8, src, 16);
		memcpy(buf + 24, dst, 16);
		if (c->ip6_ext & PG_X_HBH) {
			uint8_t *h = q;

			q = ext(q, nh, 0, 8);
			nh = h;
		}
		if (c->ip6_ext & PG_X_DST) {
			uint8_t *h = q;

			q = ext(q, nh, 60, 16);
			nh = h;
		}
		if (c->ip6_ext & PG_X_RT) {
			uint8_t *h = q;

			q = ext(q, nh, 43, 24);
			nh = h;
		}
		if (p->frag) {
			uint8_t *h = q;

			q = ext(q, nh, 44, 8);
			put16(h + 2, (uint16_t)((p->frag & 0x1fff) << 3 | !!(p->frag & 0x2000)));
			put32(h + 4, 0xabcd);
			nh = h;
		}
		if (c->ip6_ext & PG_X_AH) {
			uint8_t *h = q;

			q = ext(q, nh, 51, 24);
			nh = h;
		}
		*nh = proto;
		if (proto == 6 && l4 >= 20) {
			uint8_t ph[40];

			memcpy(ph, src, 16);
			memcpy(ph + 16, dst, 16);
			put32(ph + 32, (uint32_t)l4);
			memset(ph + 36, 0, 3);
			ph[39] = 6;
			put16(q + 16, fold(sum16(sum16(0, ph, 40), q, l4)));
		}
		return tot;
	}
}

static uint32_t bsd_af(const struct pg_conv *c, const struct pg_pkt *p, uint32_t af6)
{
	if (p->ethertype)
		return p->ethertype == 0x0800 ? 2 : p->ethertype == 0x86dd ? af6 : 99;
	return c->family == AF_INET6 ? af6 : 2;
}

size_t pg_build_frame(enum pg_link link, uint32_t af6, const struct pg_conv *c,
		      const struct pg_pkt *p, uint8_t *buf, size_t size, uint32_t *caplen)
{
	size_t lh = pg_link_hlen(link), ipn, tot;
	uint16_t et = p->ethertype ? p->ethertype : c->family == AF_INET6 ? 0x86dd : 0x0800;
	uint8_t *h = buf;
	uint32_t af;

	if (size < lh)
		return 0;
	ipn = pg_build_ip(c, p, buf + lh, size - lh);
	if (!ipn && payload_len(p))
		return 0;
	memset(h, 0, lh);
	switch (link) {
	case PG_ETH:
	case PG_VLAN:
	case PG_QINQ:
		h[0] = h[6] = 0x02;
		h[5] = p->dir == PG_C ? 2 : 1;
		h[11] = p->dir == PG_C ? 1 : 2;
		if (link == PG_ETH) {
			put16(h + 12, et);
		} else if (link == PG_VLAN) {
			put16(h + 12, 0x8100);
			put16(h + 14, 100);
			put16(h + 16, et);
		} else {
			put16(h + 12, 0x88a8);
			put16(h + 14, 200);
			put16(h + 16, 0x8100);
			put16(h + 18, 100);
			put16(h + 20, et);
		}
		break;
	case PG_SLL:
		put16(h, p->dir == PG_C ? 4 : 0);   /* outgoing / to us */
		put16(h + 2, 1);                    /* ARPHRD_ETHER */
		put16(h + 4, 6);
		h[6] = 0x02;
		h[11] = p->dir == PG_C ? 1 : 2;
		put16(h + 14, et);
		break;
	case PG_SLL2:
		put16(h, et);
		put32(h + 4, 2);                    /* interface index */
		put16(h + 8, 1);
		h[10] = p->dir == PG_C ? 4 : 0;
		h[11] = 6;
		h[12] = 0x02;
		h[17] = p->dir == PG_C ? 1 : 2;
		break;
	case PG_NULL:
		af = bsd_af(c, p, af6);
		h[0] = (uint8_t)af;
		h[1] = (uint8_t)(af >> 8);
		h[2] = (uint8_t)(af >> 16);
		h[3] = (uint8_t)(af >> 24);
		break;
	case PG_NULL_BE:
	case PG_LOOP:
		put32(h, bsd_af(c, p, af6));
		break;
	case PG_RAW:
	default:
		break;
	}
	tot = lh + ipn;
	*caplen = (uint32_t)tot;
	if (p->cut)
		*caplen = p->cut < tot ? (uint32_t)(tot - p->cut) : 0;
	if (p->snap && p->snap < *caplen)
		*caplen = p->snap;
	return tot;
}

struct pg_file *pg_open(const char *path, enum pg_link link, bool micro)
{
	struct pg_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->link = link;
	f->af6 = 30;
	f->micro = micro;
	f->clock = 1700000000ull * 1000000000ull;
	f->pcap = pcap_open_dead_with_tstamp_precision(pg_dlt(link), 262144,
						       micro ? PCAP_TSTAMP_PRECISION_MICRO
							     : PCAP_TSTAMP_PRECISION_NANO);
	if (!f->pcap)
		goto fail;
	f->dump = pcap_dump_open(f->pcap, path);
	if (!f->dump) {
		fprintf(stderr, "pcapgen: %s\n", pcap_geterr(f->pcap));
		goto fail;
	}
	return f;
fail:
	if (f->pcap)
		pcap_close(f->pcap);
	free(f);
	return NULL;
}

void pg_set_af6(struct pg_file *f, uint32_t af)
{
	f->af6 = af;
}

static int dump(struct pg_file *f, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ts / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(f->micro ? ts % 1000000000u / 1000u : ts % 1000000000u);
	h.caplen = caplen;
	h.len = len;
	pcap_dump((u_char *)f->dump, &h, frame);
	return 0;
}

int pg_put_frame(struct pg_file *f, const uint8_t *frame, uint32_t caplen, uint32_t len)
{
	f->clock += 1000000u;
	return dump(f, f->clock, frame, caplen, len);
}

int pg_put(struct pg_file *f, const struct pg_conv *c, const struct pg_pkt *p)
{
	static uint8_t frame[PG_MAXFRAME];
	uint32_t caplen;
	size_t n = pg_build_frame(f->link, f->af6, c, p, frame, sizeof(frame), &caplen);

	if (!n) {
		fprintf(stderr, "pcapgen: packet does not fit\n");
		return -1;
	}
	f->clock = p->ts ? p->ts : f->clock + 1000000u;
	return dump(f, f->clock, frame, caplen, (uint32_t)n);
}

int pg_put_all(struct pg_file *f, const struct pg_conv *c, const struct pg_pkt *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pg_put(f, c, &p[i]))
			return -1;
	return 0;
}

int pg_close(struct pg_file *f)
{
	int rc = 0;

	if (!f)
		return 0;
	if (f->dump) {
		if (pcap_dump_flush(f->dump))
			rc = -1;
		pcap_dump_close(f->dump);
	}
	if (f->pcap)
		pcap_close(f->pcap);
	free(f);
	return rc;
}

int pg_write(const char *path, enum pg_link link, const struct pg_conv *c,
	     const struct pg_pkt *p, size_t n)
{
	struct pg_file *f = pg_open(path, link, false);
	int rc;

	if (!f)
		return -1;
	rc = pg_put_all(f, c, p, n);
	if (pg_close(f))
		rc = -1;
	return rc;
}

/* --- pcapng -------------------------------------------------------------- */

#define PG_NG_MAXIF 16

struct pg_ng {
	FILE *fp;
	bool be;
	int nif;
	struct {
		enum pg_link link;
		uint8_t res;
		int64_t tsoffset;
	} ifs[PG_NG_MAXIF];
	uint64_t clock;
};

/* Values in the section's byte order. */
static void ng16(const struct pg_ng *f, uint8_t *p, uint16_t v)
{
	if (f->be) {
		put16(p, v);
	} else {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

static void ng32(const struct pg_ng *f, uint8_t *p, uint32_t v)
{
	if (f->be) {
		put32(p, v);
	} else {
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (8 * i));
	}
}

int pg_ng_block(struct pg_ng *f, uint32_t type, const void *body, size_t n)
{
	uint8_t h[8], t[4], pad[4] = { 0 };
	size_t padded = (n + 3) & ~(size_t)3;
	uint32_t total = (uint32_t)(12 + padded);

	ng32(f, h, type);
	ng32(f, h + 4, total);
	ng32(f, t, total);
	if (fwrite(h, 8, 1, f->fp) != 1 || (n && fwrite(body, n, 1, f->fp) != 1) ||
	    (padded > n && fwrite(pad, padded - n, 1, f->fp) != 1) || fwrite(t, 4, 1, f->fp) != 1)
		return -1;
	return 0;
}

int pg_ng_section(struct pg_ng *f, bool be)
{
	uint8_t b[16];

	f->be = be;
	f->nif = 0;
	ng32(f, b, 0x1a2b3c4d);
	ng16(f, b + 4, 1);
	ng16(f, b + 6, 0);
	memset(b + 8, 0xff, 8);   /* section length not given */
	return pg_ng_block(f, 0x0a0d0d0a, b, sizeof(b));
}

struct pg_ng *pg_ng_open(const char *path, bool be)
{
	struct pg_ng *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->clock = 1700000000ull * 1000000000ull;
	f->fp = fopen(path, "wb");
	if (!f->fp || pg_ng_section(f, be)) {
		fprintf(stderr, "pcapgen: cannot write %s\n", path);
		if (f->fp)
			fclose(f->fp);
		free(f);
		return NULL;
	}
	return f;
}

static int ng_iface(struct pg_ng *f, uint16_t linktype, uint32_t snaplen, uint8_t res, int64_t tsoffset)
{
	uint8_t b[8 + 8 + 12 + 4];
	size_t n = 8;

	if (f->nif == PG_NG_MAXIF)
		return -1;
	memset(b, 0, sizeof(b));
	ng16(f, b, linktype);
	ng32(f, b + 4, snaplen);
	if (res) {
		ng16(f, b + n, 9);
		ng16(f, b + n + 2, 1);
		b[n + 4] = res;
		n += 8;
	}
	if (tsoffset) {
		uint64_t v = (uint64_t)tsoffset;

		ng16(f, b + n, 14);
		ng16(f, b + n + 2, 8);
		ng32(f, b + n + 4 + (f->be ? 0 : 4), (uint32_t)(v >> 32));
		ng32(f, b + n + 4 + (f->be ? 4 : 0), (uint32_t)v);
		n += 12;
	}
	if (n > 8)
		n += 4;   /* opt_endofopt */
	if (pg_ng_block(f, 1, b, n))
		return -1;
	f->ifs[f->nif].res = res;
	f->ifs[f->nif].tsoffset = tsoffset;
	return f->nif++;
}

static uint16_t linktype_of(enum pg_link link)
{
	int dlt = pg_dlt(link);

	return dlt == DLT_RAW ? 101 : (uint16_t)dlt;
}

int pg_ng_iface(struct pg_ng *f, enum pg_link link, uint8_t res, int64_t tsoffset)
{
	int i = ng_iface(f, linktype_of(link), 262144, res, tsoffset);

	if (i >= 0)
		f->ifs[i].link = link;
	return i;
}

int pg_ng_iface_raw(struct pg_ng *f, uint16_t linktype, uint32_t snaplen)
{
	return ng_iface(f, linktype, snaplen, 0, 0);
}

/* ts (ns since the epoch) in the units of interface i. */
static uint64_t ng_ticks(const struct pg_ng *f, int i, uint64_t ts)
{
	uint8_t res = f->ifs[i].res ? f->ifs[i].res : 6, e = res & 0x7f;
	uint64_t t = ts - (uint64_t)f->ifs[i].tsoffset * 1000000000u, sec = t / 1000000000u, ns = t % 1000000000u;

	if (res & 0x80)
		return (sec << e) + (uint64_t)(((unsigned __int128)ns << e) / 1000000000u);
	for (uint8_t k = 9; k < e; k++)
		t *= 10;
	for (uint8_t k = e; k < 9; k++)
		t /= 10;
	return t;
}

static int ng_packet(struct pg_ng *f, int iface, enum pg_block kind, uint64_t ts, const uint8_t *frame,
		     uint32_t caplen, uint32_t len)
{
	static uint8_t b[20 + PG_MAXFRAME];
	uint64_t t;
	size_t h;

	if (iface < 0 || iface >= f->nif || caplen > PG_MAXFRAME)
		return -1;
	f->clock = ts ? ts : f->clock + 1000000u;
	t = ng_ticks(f, iface, f->clock);
	if (kind == PG_SPB) {
		ng32(f, b, len);
		memcpy(b + 4, frame, caplen);
		return pg_ng_block(f, 3, b, 4 + caplen);
	}
	if (kind == PG_PB) {
		ng16(f, b, (uint16_t)iface);
		ng16(f, b + 2, 0);
	} else {
		ng32(f, b, (uint32_t)iface);
	}
	ng32(f, b + 4, (uint32_t)(t >> 32));
	ng32(f, b + 8, (uint32_t)t);
	ng32(f, b + 12, caplen);
	ng32(f, b + 16, len);
	h = 20;
	memcpy(b + h, frame, caplen);
	return pg_ng_block(f, kind == PG_PB ? 2 : 6, b, h + caplen);
}

int pg_ng_put_frame(struct pg_ng *f, int iface, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t len)
{
	return ng_packet(f, iface, PG_EPB, ts, frame, caplen, len);
}

int pg_ng_put(struct pg_ng *f, int iface, enum pg_block kind, const struct pg_conv *c, const struct pg_pkt *p)
{
	static uint8_t frame[PG_MAXFRAME];
	uint32_t caplen;
	size_t n;

	if (iface < 0 || iface >= f->nif)
		return -1;
	n = pg_build_frame(f->ifs[iface].link, 30, c, p, frame, sizeof(frame), &caplen);
	if (!n)
		return -1;
	return ng_packet(f, iface, kind, p->ts, frame, caplen, (uint32_t)n);
}

int pg_ng_close(struct pg_ng *f)
{
	int rc;

	if (!f)
		return 0;
	rc = fclose(f->fp) ? -1 : 0;
	free(f);
	return rc;
}

/* --- Compression ------------------------------------------------------- */

const char *pg_comp_name(enum pg_comp kind)
{
	static const char *const names[PG_NCOMP] = { "gzip", "xz", "zstd" };

	return (unsigned)kind < PG_NCOMP ? names[kind] : "?";
}

static uint8_t *gzip_mem(const void *in, size_t n, size_t *outlen)
{
	z_stream z;
	uLong cap = compressBound((uLong)n) + 64;
	uint8_t *out = malloc(cap);

	memset(&z, 0, sizeof(z));
	if (!out || deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

uint8_t *pg_compress(enum pg_comp kind, const void *in, size_t n, size_t *outlen)
{
	size_t cap;
	uint8_t *out;

	switch (kind) {
	case PG_GZIP:
		return gzip_mem(in, n, outlen);
	case PG_XZ:
		cap = lzma_stream_buffer_bound(n);
		out = malloc(cap);
		*outlen = 0;
		if (out && lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, in, n, out, outlen, cap) == LZMA_OK)
			return out;
		free(out);
		return NULL;
	case PG_ZSTD:
		cap = ZSTD_compressBound(n);
		out = malloc(cap);
		if (out) {
			*outlen = ZSTD_compress(out, cap, in, n, 1);
			if (!ZSTD_isError(*outlen))
				return out;
		}
		free(out);
		return NULL;
	default:
		return NULL;
	}
}

uint8_t *pg_read_file(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, fp) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*n = (size_t)size;
	}
	fclose(fp);
	return buf;
}

int pg_compress_file(enum pg_comp kind, const char *path, const char *out)
{
	size_t n, zn;
	uint8_t *in = pg_read_file(path, &n), *z = in ? pg_compress(kind, in, n, &zn) : NULL;
	FILE *fp = z ? fopen(out, "wb") : NULL;
	int rc = -1;

	if (fp) {
		rc = fwrite(z, 1, zn, fp) == zn ? 0 : -1;
		if (fclose(fp))
			rc = -1;
	}
	free(in);
	free(z);
	return rc;
}

char *pg_tmpdir(const char *parent, char *buf, size_t len)
{
	const char *base = parent ? parent : getenv("TMPDIR");
	int n;

	if (!base || !*base)
		base = "/tmp";
	n = snprintf(buf, len, "%s/lp-test-XXXXXX", base);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return mkdtemp(buf);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void pg_rmdir(const char *dir)
{
	if (dir && *dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *pg_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

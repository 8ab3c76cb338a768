/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Savefile reader: pcap (the libpcap file format) and pcapng
 * (draft-ietf-opsawg-pcapng), walked with a length cursor over bytes in
 * memory. Nothing is copied: a record points into the input. A record that
 * cannot be whole (cut short, an impossible length, a broken block) ends the
 * reading there and is described by lp_savefile_damage().
 *
 * libpcap is not used here: its pcapng reader refuses interfaces of different
 * link types, and it reads from a FILE, one copy per record.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/savefile.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_MAGIC_KUZNETZOV 0xa1b2cd34u   /* 8 more bytes per record header */

#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_PB 2u        /* obsolete packet block */
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BOM 0x1a2b3c4du

#define NG_OPT_END 0
#define NG_IF_TSRESOL 9
#define NG_IF_TSOFFSET 14

/* The time stamp unit of an interface: 10^-exp or 2^-exp seconds. */
struct tsunit {
	bool binary;
	uint8_t exp;
};

struct iface {
	int dlt;
	uint32_t snaplen;
	struct tsunit unit;
	int64_t offset_s;     /* if_tsoffset: seconds added to every time stamp */
	uint32_t packets;
};

struct lp_savefile {
	const uint8_t *base;
	size_t size, pos;
	bool ng;
	bool swapped;         /* the file (pcap) or section (pcapng) is in the other byte order */
	/* pcap */
	uint32_t rechdr;      /* record header bytes: 16, or 24 (Kuznetzov) */
	bool nanos;
	/* both: ifaces[section..] are this section's interfaces */
	struct iface *ifaces;
	size_t nifaces, cap, section;
	uint64_t last_ts;     /* a simple packet block has none: it takes the previous one */
	uint32_t number;      /* packets read */
	const char *damage;
	uint64_t damage_at;
	char why[160];
};

static uint32_t get32(const struct lp_savefile *sf, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return sf->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const struct lp_savefile *sf, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return sf->swapped ? __builtin_bswap16(v) : v;
}

static uint64_t get64(const struct lp_savefile *sf, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return sf->swapped ? __builtin_bswap64(v) : v;
}

/* A LINKTYPE_ value as the DLT_ value libpcap gives it on this system: they
 * are the same but for the few whose DLT_ differs between systems. */
static int linktype_to_dlt(uint32_t lt)
{
	switch (lt) {
	case 100:
		return 11;   /* ATM_RFC1483 */
	case 101:
		return 12;   /* RAW */
	case 102:
		return 15;   /* SLIP_BSDOS */
	case 103:
		return 16;   /* PPP_BSDOS */
	default:
		return (int)lt;
	}
}

/* Stop at the damage in front of the next record, at byte off. */
__attribute__((format(printf, 3, 4)))
static int damaged(struct lp_savefile *sf, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sf->why, sizeof(sf->why), fmt, ap);
	va_end(ap);
	sf->damage = sf->why;
	sf->damage_at = off;
	sf->pos = sf->size;
	return 0;
}

static struct iface *iface_add(struct lp_savefile *sf)
{
	if (sf->nifaces == sf->cap) {
		size_t ncap = sf->cap ? sf->cap * 2 : 4;
		struct iface *n = realloc(sf->ifaces, ncap * sizeof(*n));

		if (!n)
			return NULL;
		sf->ifaces = n;
		sf->cap = ncap;
	}
	memset(&sf->ifaces[sf->nifaces], 0, sizeof(sf->ifaces[0]));
	return &sf->ifaces[sf->nifaces++];
}

/* Seconds and a fraction in units of 10^-exp or 2^-exp into nanoseconds. */
static uint64_t ticks_to_ns(uint64_t t, struct tsunit u)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
		1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
		100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};

	if (u.binary) {
		uint64_t whole = u.exp ? t >> u.exp : t, frac = u.exp ? t & ((1ull << u.exp) - 1) : 0;

		return whole * 1000000000u + (uint64_t)(((unsigned __int128)frac * 1000000000u) >> u.exp);
	}
	if (u.exp <= 9)
		return t * pow10[9 - u.exp];
	return t / pow10[u.exp - 9];
}

/* --- pcap ---------------------------------------------------------------- */

static int pcap_open(struct lp_savefile *sf, uint32_t magic, char *err, size_t errlen)
{
	const uint8_t *h = sf->base;
	uint16_t major, minor;
	struct iface *ifc;

	if (sf->size < 24) {
		snprintf(err, errlen, "pcap file header cut short (%zu of 24 bytes)", sf->size);
		return -EINVAL;
	}
	sf->nanos = magic == PCAP_MAGIC_NS;
	sf->rechdr = magic == PCAP_MAGIC_KUZNETZOV ? 24 : 16;
	major = get16(sf, h + 4);
	minor = get16(sf, h + 6);
	if (major != 2 || minor > 4) {
		snprintf(err, errlen, "pcap version %u.%u is not read (only 2.0 to 2.4)", major, minor);
		return -EINVAL;
	}
	ifc = iface_add(sf);
	if (!ifc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* The upper 16 bits of the link type field hold FCS details. */
	ifc->dlt = linktype_to_dlt(get32(sf, h + 20) & 0xffff);
	ifc->snaplen = get32(sf, h + 16);
	sf->pos = 24;
	return 0;
}

static int pcap_next(struct lp_savefile *sf, struct lp_record *r)
{
	const uint8_t *h = sf->base + sf->pos;
	size_t left = sf->size - sf->pos;
	uint32_t caplen, len, sec, frac;
	uint32_t n = sf->number + 1;

	if (!left)
		return 0;
	if (left < sf->rechdr)
		return damaged(sf, sf->pos, "record header cut short (%zu of %u bytes)", left, sf->rechdr);
	sec = get32(sf, h);
	frac = get32(sf, h + 4);
	caplen = get32(sf, h + 8);
	len = get32(sf, h + 12);
	if (caplen > LP_SAVEFILE_MAX_CAPLEN)
		return damaged(sf, sf->pos, "impossible captured length %u (at most %u)", caplen,
			       LP_SAVEFILE_MAX_CAPLEN);
	if (caplen > left - sf->rechdr)
		return damaged(sf, sf->pos, "record cut short (%zu of its %u bytes are in the file)",
			       left - sf->rechdr, caplen);
	r->data = h + sf->rechdr;
	r->caplen = caplen;
	r->len = len;
	r->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * (sf->nanos ? 1u : 1000u);
	r->iface = 0;
	r->dlt = sf->ifaces[0].dlt;
	r->number = sf->number = n;
	sf->ifaces[0].packets++;
	sf->pos += sf->rechdr + caplen;
	return 1;
}

/* --- pcapng -------------------------------------------------------------- */

/* The options of a block: code, length, value padded to 4 bytes. Calls fn for
 * each; false when one runs past the end. */
static bool ng_options(const struct lp_savefile *sf, const uint8_t *p, size_t n,
		       bool (*fn)(const struct lp_savefile *sf, uint16_t code, const uint8_t *v, uint16_t len,
				  void *ctx),
		       void *ctx)
{
	size_t off = 0;

	while (off + 4 <= n) {
		uint16_t code = get16(sf, p + off), len = get16(sf, p + off + 2);
		size_t padded = ((size_t)len + 3) & ~(size_t)3;

		if (code == NG_OPT_END)
			return true;
		if (padded > n - off - 4)
			return false;
		if (!fn(sf, code, p + off + 4, len, ctx))
			return false;
		off += 4 + padded;
	}
	return true;
}

/* The total length of the block at h (left bytes from byte off on): a
 * multiple of 4, at least min, within the bytes, repeated at its end. false
 * when it is damaged (then recorded). */
static bool block_length(struct lp_savefile *sf, const uint8_t *h, size_t left, uint64_t off, const char *what,
			 uint32_t min, uint32_t *total)
{
	uint32_t n = get32(sf, h + 4);

	*total = n;
	if (n < min || n % 4)
		return damaged(sf, off, "%s of an impossible length %u", what, n);
	if (n > left)
		return damaged(sf, off, "%s cut short (%zu of its %u bytes are in the file)", what, left, n);
	if (get32(sf, h + n - 4) != n)
		return damaged(sf, off, "%s's two lengths differ (%u, then %u)", what, n, get32(sf, h + n - 4));
	return true;
}

static bool idb_option(const struct lp_savefile *sf, uint16_t code, const uint8_t *v, uint16_t len, void *ctx)
{
	struct iface *ifc = ctx;

	if (code == NG_IF_TSRESOL) {
		if (len != 1)
			return false;
		ifc->unit.binary = v[0] & 0x80;
		ifc->unit.exp = v[0] & 0x7f;
		/* Beyond these the unit's ticks per second do not fit 64 bits. */
		return ifc->unit.binary ? ifc->unit.exp <= 63 : ifc->unit.exp <= 19;
	}
	if (code == NG_IF_TSOFFSET) {
		if (len != 8)
			return false;
		ifc->offset_s = (int64_t)get64(sf, v);
	}
	return true;
}

static int ng_idb(struct lp_savefile *sf, const uint8_t *body, size_t n, uint64_t off)
{
	struct iface *ifc;

	if (n < 8)
		return damaged(sf, off, "interface description block of %zu bytes (at least 20)", n + 12);
	ifc = iface_add(sf);
	if (!ifc)
		return -ENOMEM;
	ifc->dlt = linktype_to_dlt(get16(sf, body));
	ifc->snaplen = get32(sf, body + 4);
	ifc->unit.exp = 6;
	if (!ng_options(sf, body + 8, n - 8, idb_option, ifc))
		return damaged(sf, off, "interface description block with a broken option");
	return 1;
}

static int ng_shb(struct lp_savefile *sf, size_t left, uint64_t off)
{
	const uint8_t *h = sf->base + sf->pos;
	uint32_t bom, total;
	uint16_t major;

	if (left < 12)
		return damaged(sf, off, "section header block cut short (%zu bytes)", left);
	memcpy(&bom, h + 8, 4);
	if (bom == NG_BOM)
		sf->swapped = false;
	else if (bom == __builtin_bswap32(NG_BOM))
		sf->swapped = true;
	else
		return damaged(sf, off, "section header block with an unknown byte-order magic");
	if (!block_length(sf, h, left, off, "section header block", 28, &total))
		return 0;
	major = get16(sf, h + 12);
	if (major != 1)
		return damaged(sf, off, "pcapng section version %u.%u is not read (only 1.x)", major,
			       get16(sf, h + 14));
	sf->section = sf->nifaces;
	sf->pos += total;
	return 1;
}

/* A packet block's frame on its interface; body/n from the interface field. */
static int ng_packet(struct lp_savefile *sf, uint32_t type, const uint8_t *body, size_t n, uint64_t off,
		     struct lp_record *r)
{
	uint32_t id, caplen, len;
	uint64_t ticks = 0;   /* simple packet blocks carry none */
	size_t hdr = type == NG_SPB ? 4 : 20;
	const struct iface *ifc;

	if (n < hdr)
		return damaged(sf, off, "packet block of %zu bytes (at least %zu)", n + 12, hdr + 12);
	if (type == NG_SPB) {
		id = 0;
		len = get32(sf, body);
		caplen = len;
	} else {
		id = type == NG_PB ? get16(sf, body) : get32(sf, body);
		ticks = (uint64_t)get32(sf, body + 4) << 32 | get32(sf, body + 8);
		caplen = get32(sf, body + 12);
		len = get32(sf, body + 16);
	}
	if (id >= sf->nifaces - sf->section)
		return damaged(sf, off, "packet on interface %u, which its section does not describe", id);
	ifc = &sf->ifaces[sf->section + id];
	if (type == NG_SPB) {
		/* Its captured length is what the block and the snap length allow. */
		if (ifc->snaplen && caplen > ifc->snaplen)
			caplen = ifc->snaplen;
		if (caplen > n - hdr)
			caplen = (uint32_t)(n - hdr);
	}
	if (caplen > LP_SAVEFILE_MAX_CAPLEN)
		return damaged(sf, off, "impossible captured length %u (at most %u)", caplen, LP_SAVEFILE_MAX_CAPLEN);
	if (caplen > n - hdr)
		return damaged(sf, off, "captured length %u past the end of its %zu-byte block", caplen, n + 12);
	r->data = body + hdr;
	r->caplen = caplen;
	r->len = len;
	if (type == NG_SPB)
		r->ts_ns = sf->last_ts;
	else
		r->ts_ns = ticks_to_ns(ticks, ifc->unit) + (uint64_t)ifc->offset_s * 1000000000u;
	sf->last_ts = r->ts_ns;
	r->iface = (uint32_t)(sf->section + id);
	r->dlt = ifc->dlt;
	r->number = ++sf->number;
	sf->ifaces[r->iface].packets++;
	return 1;
}

static int ng_next(struct lp_savefile *sf, struct lp_record *r)
{
	for (;;) {
		const uint8_t *h = sf->base + sf->pos;
		size_t left = sf->size - sf->pos;
		uint64_t off = sf->pos;
		uint32_t type, total;
		int rc;

		if (!left)
			return 0;
		if (left < 8)
			return damaged(sf, off, "block header cut short (%zu of 8 bytes)", left);
		memcpy(&type, h, 4);
		if (type == NG_SHB) {
			rc = ng_shb(sf, left, off);
			if (rc <= 0)
				return rc;
			continue;
		}
		type = get32(sf, h);
		if (!block_length(sf, h, left, off, "block", 12, &total))
			return 0;
		switch (type) {
		case NG_IDB:
			rc = ng_idb(sf, h + 8, total - 12, off);
			break;
		case NG_EPB:
		case NG_SPB:
		case NG_PB:
			rc = ng_packet(sf, type, h + 8, total - 12, off, r);
			if (rc == 1) {
				sf->pos += total;
				return 1;
			}
			break;
		default:
			rc = 1;   /* statistics, name resolution, comments, custom: not needed */
			break;
		}
		if (rc <= 0)
			return rc;
		sf->pos += total;
	}
}

/* --- Interface ------------------------------------------------------------ */

int lp_savefile_open(const uint8_t *p, size_t n, struct lp_savefile **out, char *err, size_t errlen)
{
	struct lp_savefile *sf;
	uint32_t magic = 0;
	int rc;

	*out = NULL;
	if (n < 4) {
		snprintf(err, errlen, n ? "too short for a capture (%zu bytes)" : "empty file", n);
		return -EINVAL;
	}
	sf = calloc(1, sizeof(*sf));
	if (!sf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sf->base = p;
	sf->size = n;
	memcpy(&magic, p, 4);
	if (magic == NG_SHB) {
		sf->ng = true;
		/* The first block must be a section header. */
		rc = ng_shb(sf, n, 0);
		if (rc <= 0) {
			snprintf(err, errlen, "%s", rc ? "out of memory" : sf->why);
			rc = rc ? rc : -EINVAL;
			goto fail;
		}
		*out = sf;
		return 0;
	}
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS || magic == PCAP_MAGIC_KUZNETZOV) {
		sf->swapped = false;
	} else {
		magic = __builtin_bswap32(magic);
		if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS && magic != PCAP_MAGIC_KUZNETZOV) {
			snprintf(err, errlen, "neither pcap nor pcapng (it starts with %02x %02x %02x %02x)",
				 p[0], p[1], p[2], p[3]);
			rc = -EINVAL;
			goto fail;
		}
		sf->swapped = true;
	}
	rc = pcap_open(sf, magic, err, errlen);
	if (rc)
		goto fail;
	*out = sf;
	return 0;
fail:
	lp_savefile_close(sf);
	return rc;
}

int lp_savefile_next(struct lp_savefile *sf, struct lp_record *r)
{
	return sf->ng ? ng_next(sf, r) : pcap_next(sf, r);
}

const char *lp_savefile_damage(const struct lp_savefile *sf, uint32_t *packet, uint64_t *offset)
{
	if (packet)
		*packet = sf->number + 1;
	if (offset)
		*offset = sf->damage_at;
	return sf->damage;
}

size_t lp_savefile_offset(const struct lp_savefile *sf)
{
	return sf->pos;
}

size_t lp_savefile_ninterfaces(const struct lp_savefile *sf)
{
	return sf->nifaces;
}

void lp_savefile_iface(const struct lp_savefile *sf, size_t i, int *dlt, uint32_t *packets)
{
	*dlt = sf->ifaces[i].dlt;
	*packets = sf->ifaces[i].packets;
}

const char *lp_savefile_format(const struct lp_savefile *sf)
{
	return sf->ng ? "pcapng" : "pcap";
}

void lp_savefile_close(struct lp_savefile *sf)
{
	if (!sf)
		return;
	free(sf->ifaces);
	free(sf);
}

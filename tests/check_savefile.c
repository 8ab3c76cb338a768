/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading whole captures: pcapng with several interfaces, link types, time
 * stamp units and sections in both byte orders; pcap variants; damage (cut
 * at every byte of the last record, garbage headers); gzip, xz and zstd,
 * whole, cut short and as bombs; a pipe. Every capture is written here by
 * pcapgen.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pcapgen.h"
#include "streambytes.h"
#include "tmpdir.h"
#include "tcpliveplay/capfile.h"
#include "tcpliveplay/capture.h"
#include "tcpliveplay/flow.h"

#define T0 1700000000000000000ull
#define SEC 1000000000ull


/* One short conversation from client port cport, times from ts0 on. */
static size_t conversation(struct pg_pkt *p, uint64_t ts0, uint64_t step)
{
	static const struct pg_pkt tmpl[] = {
		{ .dir = PG_C, .flags = PG_SYN },
		{ .dir = PG_S, .flags = PG_SA, .ack = 1 },
		{ .dir = PG_C, .flags = PG_PA, .seq = 1, .ack = 1, .data = "GET /\r\n" },
		{ .dir = PG_S, .flags = PG_PA, .seq = 1, .ack = 8, .data = "HTTP/1.0 200 OK\r\n" },
		{ .dir = PG_C, .flags = PG_FA, .seq = 8, .ack = 18 },
	};
	size_t n = sizeof(tmpl) / sizeof(tmpl[0]);

	for (size_t i = 0; i < n; i++) {
		p[i] = tmpl[i];
		p[i].ts = ts0 + i * step;
	}
	return n;
}

static struct pg_conv conv(uint16_t cport)
{
	struct pg_conv c = { .family = AF_INET, .cport = cport, .cisn = 1000u * cport, .sisn = 77 };

	return c;
}

/* --- pcapng with everything ---------------------------------------------- */

struct expect {
	uint64_t ts;
	enum lp_pkt_kind kind;
};

/* Section 1 (byte order be): Ethernet in microseconds and Linux cooked in
 * nanoseconds with if_tsoffset 100 s, two conversations interleaved, a
 * name resolution and a custom block. Section 2 (the other order): raw IP in
 * 2^-20 s units with if_tsoffset -50 s, the packets in enhanced, obsolete
 * and simple packet blocks, and an 802.11 interface with one frame. */
static size_t write_ng(const char *path, bool be, struct expect *x)
{
	struct pg_ng *f = pg_ng_open(path, be);
	struct pg_pkt a[5], b[5], c[5];
	struct pg_conv ca = conv(40000), cb = conv(40001), cc = conv(40002);
	static const uint8_t wifi[24] = { 0x08, 0x00 };
	size_t k = 0;

	ck_assert_ptr_nonnull(f);
	conversation(a, T0 + 1 * SEC + 1000, 2000000);          /* whole microseconds */
	conversation(b, T0 + 1 * SEC + 123457, 2000000);        /* nanoseconds */
	conversation(c, T0 + 9 * SEC + SEC / 2, SEC / 4);       /* exact in 2^-20 s */
	ck_assert_int_eq(pg_ng_iface(f, PG_ETH, 0, 0), 0);
	ck_assert_int_eq(pg_ng_iface(f, PG_SLL, 9, 100), 1);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(pg_ng_put(f, 0, PG_EPB, &ca, &a[i]), 0);
		x[k++] = (struct expect){ a[i].ts, LP_PKT_TCP };
		if (i == 2)
			ck_assert_int_eq(pg_ng_block(f, 4, "\x00\x00\x00\x00", 4), 0);
		ck_assert_int_eq(pg_ng_put(f, 1, PG_EPB, &cb, &b[i]), 0);
		x[k++] = (struct expect){ b[i].ts, LP_PKT_TCP };
	}
	ck_assert_int_eq(pg_ng_block(f, 0x40000bad, "\x00\x00\x7f\x00" "custom", 10), 0);
	ck_assert_int_eq(pg_ng_section(f, !be), 0);
	ck_assert_int_eq(pg_ng_iface(f, PG_RAW, 0x94, -50), 0);
	ck_assert_int_eq(pg_ng_iface_raw(f, 105, 65535), 1);
	for (int i = 0; i < 5; i++) {
		enum pg_block kind = i == 1 ? PG_PB : i == 2 ? PG_SPB : PG_EPB;

		ck_assert_int_eq(pg_ng_put(f, 0, kind, &cc, &c[i]), 0);
		/* A simple packet block has no time: the previous packet's. */
		x[k++] = (struct expect){ kind == PG_SPB ? c[i - 1].ts : c[i].ts, LP_PKT_TCP };
		if (i == 3) {
			ck_assert_int_eq(pg_ng_put_frame(f, 1, c[i].ts, wifi, sizeof(wifi), sizeof(wifi)), 0);
			x[k++] = (struct expect){ c[i].ts, LP_PKT_UNREAD };
		}
	}
	ck_assert_int_eq(pg_ng_close(f), 0);
	return k;
}

static void assert_three_flows(struct lp_flows *fs)
{
	ck_assert_uint_eq(lp_flows_count(fs), 3);
	for (unsigned id = 1; id <= 3; id++) {
		const struct lp_flow *fl = lp_flows_get(fs, id);

		ck_assert_uint_eq(fl->client.port, 39999 + id);
		ck_assert_uint_eq(fl->dir[LP_C2S].len, 7);
		ck_assert(stream_mem_eq(&fl->dir[LP_C2S], 0, "GET /\r\n", 7));
		ck_assert_uint_eq(fl->dir[LP_S2C].len, 17);
		ck_assert(stream_mem_eq(&fl->dir[LP_S2C], 0, "HTTP/1.0 200 OK\r\n", 17));
		ck_assert(fl->dir[LP_C2S].syn && fl->dir[LP_S2C].syn && fl->dir[LP_C2S].fin);
		ck_assert_uint_eq(fl->dir[LP_C2S].isn, 1000u * fl->client.port);
	}
}

START_TEST(pcapng_interfaces_sections)
{
	const char *path = tpath("all.pcapng");
	struct expect x[32];
	size_t n = write_ng(path, _i, x);
	struct lp_capture_stats st;
	struct lp_capture *cap;
	struct lp_flows *fs;
	struct lp_rawpkt r;
	char err[256] = "";

	ck_assert_int_eq(lp_capture_open(path, &cap, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(lp_capture_next(cap, &r), 1);
		ck_assert_uint_eq(r.number, i + 1);
		ck_assert_msg(r.ts_ns == x[i].ts, "packet %zu: time %llu, want %llu", i + 1,
			      (unsigned long long)r.ts_ns, (unsigned long long)x[i].ts);
		ck_assert_int_eq(r.kind, x[i].kind);
	}
	ck_assert_int_eq(lp_capture_next(cap, &r), 0);
	lp_capture_stats(cap, &st);
	ck_assert_str_eq(st.linktype_name, "EN10MB+LINUX_SLL+RAW");
	ck_assert_int_eq(st.linktype, DLT_EN10MB);
	ck_assert_uint_eq(st.packets, n);
	ck_assert_uint_eq(st.tcp, n - 1);
	ck_assert_uint_eq(st.unread, 1);
	ck_assert_str_eq(st.unread_names, "IEEE802_11");
	ck_assert_uint_eq(st.damaged_at, 0);
	lp_capture_close(cap);

	ck_assert_int_eq(lp_flows_load(path, NULL, NULL, &fs, err, sizeof(err)), 0);
	assert_three_flows(fs);
	ck_assert_uint_eq(lp_flows_stats(fs)->unread, 1);
	lp_flows_free(fs);
}
END_TEST

/* --- Classic pcap variants ---------------------------------------------- */

static void swap4(uint8_t *p)
{
	uint8_t t = p[0];

	p[0] = p[3];
	p[3] = t;
	t = p[1];
	p[1] = p[2];
	p[2] = t;
}

/* The native pcap at path, rewritten in the other byte order (swap) or as
 * Kuznetzov's variant (8 more bytes per record header). */
static void rewrite_pcap(const char *path, const char *out, bool kuznetzov)
{
	size_t n, o = 24;
	uint8_t *in = pg_read_file(path, &n), *w = malloc(2 * n + 64);
	FILE *fp;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(w);
	memcpy(w, in, 24);
	if (kuznetzov) {
		memcpy(w, "\x34\xcd\xb2\xa1", 4);
	} else {
		swap4(w);
		w[4] = in[5], w[5] = in[4], w[6] = in[7], w[7] = in[6];
		for (int k = 8; k < 24; k += 4)
			swap4(w + k);
	}
	for (size_t i = 24; i + 16 <= n;) {
		uint32_t caplen;

		memcpy(&caplen, in + i + 8, 4);
		memcpy(w + o, in + i, 16);
		if (kuznetzov) {
			memset(w + o + 16, 0xee, 8);
			o += 8;
		} else {
			for (int k = 0; k < 16; k += 4)
				swap4(w + o + k);
		}
		memcpy(w + o + 16, in + i + 16, caplen);
		o += 16 + caplen;
		i += 16 + caplen;
	}
	fp = fopen(out, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(w, 1, o, fp), o);
	fclose(fp);
	free(in);
	free(w);
}

/* Nanosecond pcap in the other byte order; microsecond pcap in Kuznetzov's
 * variant. */
START_TEST(pcap_variants)
{
	const char *path = tpath("native.pcap"), *other = tpath("other.pcap");
	uint64_t t0 = T0 + 123456789 - (_i ? 789 : 0);
	struct pg_pkt p[5];
	struct pg_conv c = conv(40000);
	size_t n = conversation(p, t0, 1000000);
	struct pg_file *f = pg_open(path, PG_ETH, _i);
	struct lp_flows *fs;
	char err[256] = "";

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &c, p, n), 0);
	ck_assert_int_eq(pg_close(f), 0);
	rewrite_pcap(path, other, _i);
	ck_assert_msg(lp_flows_load(other, NULL, NULL, &fs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(lp_flows_stats(fs)->packets, n);
	ck_assert_uint_eq(lp_flows_stats(fs)->damaged_at, 0);
	ck_assert_uint_eq(lp_flows_count(fs), 1);
	ck_assert_uint_eq(lp_flows_get(fs, 1)->first_ts, t0);
	ck_assert_uint_eq(lp_flows_get(fs, 1)->last_ts, t0 + 4000000);
	ck_assert_uint_eq(lp_flows_get(fs, 1)->dir[LP_S2C].len, 17);
	ck_assert(stream_mem_eq(&lp_flows_get(fs, 1)->dir[LP_S2C], 0, "HTTP/1.0", 8));
	lp_flows_free(fs);
}
END_TEST

/* --- Damage --------------------------------------------------------------- */

/* The capture of the bytes p[0, n): 0 and *st, or the open's error. */
static int read_mem(const uint8_t *p, size_t n, struct lp_capture_stats *st, struct lp_flows **fs, char *err,
		    size_t errlen)
{
	struct lp_capture *cap;
	int rc = lp_capture_open_mem(p, n, NULL, &cap, err, errlen);

	*fs = NULL;
	if (rc)
		return rc;
	rc = lp_flows_load_capture(cap, NULL, NULL, fs, err, errlen);
	ck_assert_int_eq(rc, 0);
	*st = *lp_flows_stats(*fs);
	return 0;
}

/* Write conversation 40000 as pcap (ng false) or pcapng into path, the
 * first k packets; the file's size. */
static size_t write_k(const char *path, bool ng, size_t k)
{
	struct pg_pkt p[5];
	struct pg_conv c = conv(40000);
	size_t size;
	uint8_t *b;

	conversation(p, T0, 1000);
	if (ng) {
		struct pg_ng *f = pg_ng_open(path, false);

		ck_assert_int_eq(pg_ng_iface(f, PG_ETH, 9, 0), 0);
		for (size_t i = 0; i < k; i++)
			ck_assert_int_eq(pg_ng_put(f, 0, PG_EPB, &c, &p[i]), 0);
		ck_assert_int_eq(pg_ng_close(f), 0);
	} else {
		ck_assert_int_eq(pg_write(path, PG_ETH, &c, p, k), 0);
	}
	b = pg_read_file(path, &size);
	ck_assert_ptr_nonnull(b);
	free(b);
	return size;
}

/* Cut at every byte offset inside the last record (its data packet): the
 * packets before it are read, and the damage names it. */
START_TEST(cut_at_every_offset_of_last_record)
{
	const char *path = tpath(_i ? "cut.pcapng" : "cut.pcap");
	size_t before = write_k(path, _i, 3), size = write_k(path, _i, 4);
	uint8_t *b = pg_read_file(path, &size);
	struct lp_capture_stats st;
	struct lp_flows *fs;
	char err[256];

	ck_assert_ptr_nonnull(b);
	for (size_t cut = before; cut <= size; cut++) {
		ck_assert_int_eq(read_mem(b, cut, &st, &fs, err, sizeof(err)), 0);
		ck_assert_uint_eq(lp_flows_count(fs), 1);
		if (cut == before || cut == size) {
			ck_assert_uint_eq(st.damaged_at, 0);
			ck_assert_uint_eq(st.packets, cut == size ? 4 : 3);
		} else {
			ck_assert_msg(st.damaged_at == 4, "cut at %zu of %zu: damaged at %u", cut, size, st.damaged_at);
			ck_assert_uint_eq(st.packets, 3);
			ck_assert_msg(strstr(st.damage, "cut short") != NULL, "cut at %zu: '%s'", cut, st.damage);
			/* The server's answer was in the record cut. */
			ck_assert_uint_eq(lp_flows_get(fs, 1)->dir[LP_S2C].len, 0);
		}
		lp_flows_free(fs);
	}
	free(b);
}
END_TEST

/* Overwrite 4 bytes at off of a copy of b and read it. */
static void read_patched(const uint8_t *b, size_t n, size_t off, uint32_t v, struct lp_capture_stats *st)
{
	uint8_t *c = malloc(n);
	struct lp_flows *fs;
	char err[256];

	ck_assert_ptr_nonnull(c);
	memcpy(c, b, n);
	memcpy(c + off, &v, 4);
	ck_assert_int_eq(read_mem(c, n, st, &fs, err, sizeof(err)), 0);
	lp_flows_free(fs);
	free(c);
}

/* Offset of the k-th (1-based) record of a pcap, or block of a pcapng
 * after its section header. */
static size_t record_at(const uint8_t *b, bool ng, int k)
{
	size_t off = ng ? 28 : 24;
	uint32_t len;

	for (int i = 1; i < k; i++) {
		memcpy(&len, b + off + (ng ? 4 : 8), 4);
		off += ng ? len : 16 + len;
	}
	return off;
}

START_TEST(garbage_record_header_in_the_middle)
{
	const char *path = tpath("five.pcap");
	size_t size = write_k(path, false, 5);
	uint8_t *b = pg_read_file(path, &size);
	struct lp_capture_stats st;

	/* Record 3's captured length is impossible. */
	read_patched(b, size, record_at(b, false, 3) + 8, 0xfffffff0u, &st);
	ck_assert_uint_eq(st.packets, 2);
	ck_assert_uint_eq(st.damaged_at, 3);
	ck_assert_msg(strstr(st.damage, "impossible captured length 4294967280"), "%s", st.damage);
	free(b);

	path = tpath("five.pcapng");
	size = write_k(path, true, 5);
	b = pg_read_file(path, &size);
	/* Block 1 is the interface; packet 2 is block 3. */
	read_patched(b, size, record_at(b, true, 3) + 4, 11, &st);
	ck_assert_uint_eq(st.packets, 1);
	ck_assert_uint_eq(st.damaged_at, 2);
	ck_assert_msg(strstr(st.damage, "impossible length 11"), "%s", st.damage);
	read_patched(b, size, record_at(b, true, 3) + 4, (uint32_t)size, &st);
	ck_assert_uint_eq(st.damaged_at, 2);
	ck_assert_msg(strstr(st.damage, "cut short"), "%s", st.damage);
	/* The trailing copy of the length differs. */
	read_patched(b, size, record_at(b, true, 4) - 4, 64, &st);
	ck_assert_uint_eq(st.damaged_at, 2);
	ck_assert_msg(strstr(st.damage, "two lengths differ"), "%s", st.damage);
	/* A packet on interface 5 of a section that has one. */
	read_patched(b, size, record_at(b, true, 4) + 8, 5, &st);
	ck_assert_uint_eq(st.packets, 2);
	ck_assert_uint_eq(st.damaged_at, 3);
	ck_assert_msg(strstr(st.damage, "interface 5"), "%s", st.damage);
	/* An impossible if_tsresol (10^-20 s) breaks the interface block. */
	read_patched(b, size, 28 + 16 + 4, 20, &st);
	ck_assert_uint_eq(st.packets, 0);
	ck_assert_uint_eq(st.damaged_at, 1);
	ck_assert_msg(strstr(st.damage, "interface description block"), "%s", st.damage);
	free(b);
}
END_TEST

START_TEST(not_a_capture)
{
	struct lp_capture *cap = (struct lp_capture *)&cap;
	char err[256] = "";
	uint8_t shb[28];

	ck_assert_int_eq(lp_capture_open_mem("BZh91AY&SY", 10, NULL, &cap, err, sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_ptr_null(cap);
	ck_assert_ptr_nonnull(strstr(err, "bzip2"));
	ck_assert_int_eq(lp_capture_open_mem("GET / HTTP/1.1\r\n", 16, NULL, &cap, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "neither pcap nor pcapng"));
	ck_assert_int_lt(lp_capture_open_mem("\xd4\xc3\xb2\xa1\x02\x00", 6, NULL, &cap, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "cut short"));
	/* A section header of version 2.0. */
	memcpy(shb, "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x02\x00\x00\x00", 16);
	memset(shb + 16, 0xff, 8);
	memcpy(shb + 24, "\x1c\x00\x00\x00", 4);
	ck_assert_int_lt(lp_capture_open_mem(shb, sizeof(shb), NULL, &cap, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "version 2.0"));
	shb[12] = 1;
	ck_assert_int_eq(lp_capture_open_mem(shb, sizeof(shb), NULL, &cap, err, sizeof(err)), 0);
	lp_capture_close(cap);
}
END_TEST

/* --- Compression ------------------------------------------------------ */

START_TEST(compressed_each)
{
	const char *path = tpath("all.pcapng"), *zpath = tpath("all.pcapng.z");
	struct expect x[32];
	size_t n = write_ng(path, false, x), zn;
	struct lp_capture_stats st;
	struct lp_flows *fs;
	uint8_t *z;
	char err[256] = "";

	ck_assert_int_eq(pg_compress_file(_i, path, zpath), 0);
	ck_assert_msg(lp_flows_load(zpath, NULL, NULL, &fs, err, sizeof(err)) == 0, "%s: %s", pg_comp_name(_i), err);
	assert_three_flows(fs);
	ck_assert_uint_eq(lp_flows_stats(fs)->packets, n);
	ck_assert_uint_eq(lp_flows_stats(fs)->damaged_at, 0);
	lp_flows_free(fs);

	/* Cut anywhere past its magic bytes, the compressed data says it was
	 * cut short. */
	z = pg_read_file(zpath, &zn);
	ck_assert_ptr_nonnull(z);
	for (size_t cut = 6; cut < zn; cut++) {
		int rc = read_mem(z, cut, &st, &fs, err, sizeof(err));

		if (rc) {
			ck_assert_msg(strstr(err, pg_comp_name(_i)) != NULL, "%s cut at %zu: %s", pg_comp_name(_i), cut,
				      err);
			continue;
		}
		ck_assert_msg(st.damaged_at == st.packets + 1, "%s cut at %zu of %zu: %u packets, damage at %u",
			      pg_comp_name(_i), cut, zn, st.packets, st.damaged_at);
		ck_assert_msg(strstr(st.damage, pg_comp_name(_i)) != NULL, "%s cut at %zu: '%s'", pg_comp_name(_i),
			      cut, st.damage);
		lp_flows_free(fs);
	}
	free(z);
}
END_TEST

/* 4 MiB of zeros compressed: refused beyond 1 MiB (ratio 100), read (and
 * found to be no capture) within 32 MiB. */
START_TEST(decompression_bomb)
{
	size_t n = 4u << 20, zn;
	uint8_t *zeros = calloc(1, n), *z;
	struct lp_inflate_limit small = { 1u << 20, 100 }, big = { 32u << 20, 100 };
	struct lp_capture *cap;
	char err[512] = "";

	ck_assert_ptr_nonnull(zeros);
	z = pg_compress(_i, zeros, n, &zn);
	ck_assert_ptr_nonnull(z);
	free(zeros);
	ck_assert_int_eq(lp_capture_open_mem(z, zn, &small, &cap, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_null(cap);
	ck_assert_msg(strstr(err, "decompression bomb") && strstr(err, "1 MiB and 100 times"), "%s", err);
	ck_assert_int_eq(lp_capture_open_mem(z, zn, &big, &cap, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "neither pcap nor pcapng"), "%s", err);
	free(z);
}
END_TEST

struct feed {
	int fd;
	const uint8_t *p;
	size_t n;
};

/* Write everything into the pipe in small pieces, then close it. */
static void *feed_pipe(void *arg)
{
	struct feed *f = arg;

	while (f->n) {
		ssize_t k = write(f->fd, f->p, f->n < 1000 ? f->n : 1000);

		if (k <= 0)
			break;
		f->p += k;
		f->n -= (size_t)k;
	}
	close(f->fd);
	return NULL;
}

/* A writer feeds bytes into a pipe, as a shell does to standard input: more
 * than one read's worth, compressed or not. */
START_TEST(read_from_pipe)
{
	const char *path = tpath("big.pcap");
	struct pg_conv c = conv(40000);
	struct pg_pkt p[5];
	struct pg_file *f = pg_open(path, PG_ETH, false);
	char body[1401];
	struct lp_flows *ref, *fs;
	struct lp_capture *cap;
	uint8_t *b, *z;
	size_t n, zn;
	char err[256] = "";
	struct feed feed;
	pthread_t writer;
	int fds[2];

	memset(body, 'x', 1400);
	body[1400] = '\0';
	conversation(p, T0, 1000);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pg_put_all(f, &c, p, 3), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		struct pg_pkt d = { .dir = PG_S, .flags = PG_PA, .seq = 1 + 1400 * i, .ack = 8, .data = body };

		ck_assert_int_eq(pg_put(f, &c, &d), 0);
	}
	ck_assert_int_eq(pg_close(f), 0);
	ck_assert_int_eq(lp_flows_load(path, NULL, NULL, &ref, err, sizeof(err)), 0);
	b = pg_read_file(path, &n);
	ck_assert_ptr_nonnull(b);
	z = pg_compress(_i == 0 ? PG_ZSTD : PG_GZIP, b, n, &zn);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(pipe(fds), 0);
	feed = (struct feed){ fds[1], _i == 2 ? b : z, _i == 2 ? n : zn };
	ck_assert_int_eq(pthread_create(&writer, NULL, feed_pipe, &feed), 0);
	ck_assert_int_eq(lp_capture_open_fd(fds[0], &cap, err, sizeof(err)), 0);
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	close(fds[0]);
	ck_assert_uint_eq(feed.n, 0);
	ck_assert_int_eq(lp_flows_load_capture(cap, NULL, NULL, &fs, err, sizeof(err)), 0);
	ck_assert_uint_eq(lp_flows_stats(fs)->packets, 1003);
	ck_assert_uint_eq(lp_flows_get(fs, 1)->dir[LP_S2C].len, 1400000);
	{
		uint8_t *got = stream_bytes(&lp_flows_get(fs, 1)->dir[LP_S2C]);
		uint8_t *want = stream_bytes(&lp_flows_get(ref, 1)->dir[LP_S2C]);

		ck_assert_mem_eq(got, want, 1400000);
		free(got);
		free(want);
	}
	lp_flows_free(fs);
	lp_flows_free(ref);
	free(b);
	free(z);
}
END_TEST

Suite *savefile_suite(void)
{
	Suite *s = suite_create("savefile");
	TCase *tc = tcase_create("read");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, pcapng_interfaces_sections, 0, 2);
	tcase_add_loop_test(tc, pcap_variants, 0, 2);
	tcase_add_loop_test(tc, cut_at_every_offset_of_last_record, 0, 2);
	tcase_add_test(tc, garbage_record_header_in_the_middle);
	tcase_add_test(tc, not_a_capture);
	tcase_add_loop_test(tc, compressed_each, 0, PG_NCOMP);
	tcase_add_loop_test(tc, decompression_bomb, 0, PG_NCOMP);
	tcase_add_loop_test(tc, read_from_pipe, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

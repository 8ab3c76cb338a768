/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The capture reader and flow model over the real captures in ../shared/pcaps
 * (TCPLIVEPLAY_PCAPS overrides). They are never part of the project: where the
 * folder is absent, each test says so on stdout and passes. Stream bytes are
 * checked against tests/data/pcaps.sha256, hashes of an independent reassembly
 * (tshark's follow,tcp,raw).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcpliveplay/capture.h"
#include "tcpliveplay/flow.h"
#include "skip.h"
#include "streambytes.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define HASHES_FILE "tests/data/pcaps.sha256"
#define REGRESS_DIR "tests/data/fuzz-regress"
/* What loading one small regression input may take. */
#define REGRESS_MEM_MAX (512ull << 20)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* --- SHA-256 (FIPS 180-4) ---------------------------------------------- */

struct sha256 {
	uint32_t h[8];
	uint8_t block[64];
	size_t used;       /* bytes in block */
	uint64_t total;    /* message bytes so far */
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

static void sha256_compress(struct sha256 *c, const uint8_t *p)
{
	uint32_t w[64], v[8];

	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = ror32(w[t - 15], 7) ^ ror32(w[t - 15], 18) ^ w[t - 15] >> 3;
		uint32_t s1 = ror32(w[t - 2], 17) ^ ror32(w[t - 2], 19) ^ w[t - 2] >> 10;

		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	memcpy(v, c->h, sizeof(v));
	for (int t = 0; t < 64; t++) {
		uint32_t e = v[4], a = v[0];
		uint32_t t1 = v[7] + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
			      ((e & v[5]) ^ (~e & v[6])) + sha256_k[t] + w[t];
		uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
			      ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));

		memmove(&v[1], &v[0], 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		c->h[i] += v[i];
}

static void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memset(c, 0, sizeof(*c));
	memcpy(c->h, iv, sizeof(iv));
}

static void sha256_update(struct sha256 *c, const uint8_t *p, size_t n)
{
	c->total += n;
	while (n) {
		size_t take = sizeof(c->block) - c->used;

		if (take > n)
			take = n;
		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		n -= take;
		if (c->used == sizeof(c->block)) {
			sha256_compress(c, c->block);
			c->used = 0;
		}
	}
}

/* The digest as 64 lowercase hex digits and a NUL. */
static void sha256_final_hex(struct sha256 *c, char hex[65])
{
	uint64_t bits = c->total * 8;
	uint8_t tail[8];

	c->block[c->used++] = 0x80;
	if (c->used > 56) {
		memset(c->block + c->used, 0, sizeof(c->block) - c->used);
		sha256_compress(c, c->block);
		c->used = 0;
	}
	memset(c->block + c->used, 0, 56 - c->used);
	for (int i = 0; i < 8; i++)
		tail[i] = (uint8_t)(bits >> (56 - 8 * i));
	memcpy(c->block + 56, tail, sizeof(tail));
	sha256_compress(c, c->block);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", c->h[i]);
}

static void sha256_hex(const uint8_t *p, size_t n, char hex[65])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final_hex(&c, hex);
}

/* --- Helpers ------------------------------------------------------------ */

static const char *pcaps_dir(void)
{
	const char *d = getenv("TCPLIVEPLAY_PCAPS");

	return d && *d ? d : "../shared/pcaps";
}

/* True when the real captures are here; otherwise says, visibly, that the
 * test is skipped. */
static bool pcaps_present(const char *test)
{
	struct stat st;

	if (stat(pcaps_dir(), &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	lp_test_skip(test, "%s not found (set TCPLIVEPLAY_PCAPS)", pcaps_dir());
	return false;
}

static void pcap_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", pcaps_dir(), name);

	ck_assert_msg(n > 0 && (size_t)n < len, "path too long for %s", name);
}

struct warnings {
	unsigned count;
};

static void count_warning(void *ctx, uint32_t packet, const char *what)
{
	struct warnings *w = ctx;

	ck_assert_ptr_nonnull(what);
	ck_assert_msg(what[0] != '\0', "packet %u: empty warning", packet);
	w->count++;
}

/* Load a real capture that must load. */
static struct lp_flows *load_pcap(const char *name, struct warnings *w)
{
	char path[4096], err[512] = "";
	struct lp_flows *f = NULL;
	struct warnings unused = { 0 };
	int rc;

	pcap_path(name, path, sizeof(path));
	rc = lp_flows_load(path, count_warning, w ? w : &unused, &f, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: load failed (%d): %s", name, rc, err);
	ck_assert_ptr_nonnull(f);
	return f;
}

static const struct lp_flow *only_flow(const struct lp_flows *f, const char *name)
{
	const struct lp_flow *fl = NULL;
	int rc = lp_flows_select(f, NULL, &fl);

	ck_assert_msg(rc == 0, "%s: select the only flow: %d (%zu flows)", name, rc, lp_flows_count(f));
	ck_assert_ptr_nonnull(fl);
	return fl;
}

static void assert_endpoint(const struct lp_endpoint *ep, const char *want, const char *what)
{
	char buf[80];

	lp_endpoint_str(ep, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, want) == 0, "%s: got %s, want %s", what, buf, want);
}

/* Each line of the pcaps folder's MANIFEST.tsv after its header, one call
 * each: the file name and the whole line. Returns false without the file. */
static bool manifest_each(void (*fn)(const char *file, const char *line, void *ctx), void *ctx)
{
	char path[4096], line[4096];
	FILE *fp;
	bool header = true;

	pcap_path("MANIFEST.tsv", path, sizeof(path));
	fp = fopen(path, "r");
	if (!fp)
		return false;
	while (fgets(line, sizeof(line), fp)) {
		char file[512];
		size_t n = strcspn(line, "\t\n");

		if (header) {
			header = false;
			continue;
		}
		if (!n || n >= sizeof(file))
			continue;
		memcpy(file, line, n);
		file[n] = '\0';
		fn(file, line, ctx);
	}
	fclose(fp);
	return true;
}

/* --- Tests -------------------------------------------------------------- */

START_TEST(sha256_known_answers)
{
	static const struct {
		const char *msg, *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
		  "klmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	uint8_t a[1024];
	struct sha256 c;
	char hex[65];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256_hex((const uint8_t *)v[i].msg, strlen(v[i].msg), hex);
		ck_assert_str_eq(hex, v[i].hex);
	}
	/* One million 'a', fed in pieces that straddle block boundaries. */
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, a, i % 2 ? 997 : 1003);
	sha256_final_hex(&c, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* Lengths around the padding boundary: 55 bytes fit one block, 56 need two. */
	sha256_hex(a, 55, hex);
	ck_assert_str_eq(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	sha256_hex(a, 56, hex);
	ck_assert_str_eq(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}
END_TEST

/* The same HTTP GET framed five ways yields the same conversation. */
START_TEST(same_get_five_framings)
{
	static const char *const files[] = {
		"zeek__get.pcap", "zeek__http__get_nosyn.pcap", "zeek__tcp__handshake-reorder.pcap",
		"zeek__http-vlan-0.pcap", "zeek__http-qinq-0.pcap",
	};
	struct lp_flows *ref;
	const struct lp_flow *rf;

	if (!pcaps_present("same_get_five_framings"))
		return;
	ref = load_pcap(files[0], NULL);
	rf = only_flow(ref, files[0]);
	assert_endpoint(&rf->client, "141.142.228.5:59856", "zeek__get client");
	assert_endpoint(&rf->server, "192.150.187.43:80", "zeek__get server");
	ck_assert_uint_eq(rf->dir[LP_C2S].len, 136);
	ck_assert_uint_eq(rf->dir[LP_S2C].len, 5007);
	ck_assert_uint_eq(rf->notes, 0);
	for (size_t i = 1; i < sizeof(files) / sizeof(files[0]); i++) {
		struct lp_flows *f = load_pcap(files[i], NULL);
		const struct lp_flow *fl = only_flow(f, files[i]);

		ck_assert_msg(fl->client.family == AF_INET && fl->client.port == rf->client.port &&
			      !memcmp(fl->client.addr, rf->client.addr, 16), "%s: client differs", files[i]);
		ck_assert_msg(fl->server.family == AF_INET && fl->server.port == rf->server.port &&
			      !memcmp(fl->server.addr, rf->server.addr, 16), "%s: server differs", files[i]);
		for (int d = 0; d < 2; d++) {
			const struct lp_stream *a = &rf->dir[d], *b = &fl->dir[d];

			ck_assert_msg(b->len == a->len, "%s: %s stream is %llu bytes, want %llu", files[i],
				      d == LP_C2S ? "client" : "server", (unsigned long long)b->len,
				      (unsigned long long)a->len);
			uint8_t *ab = stream_bytes(a), *bb = stream_bytes(b);

			ck_assert_msg(!memcmp(ab, bb, a->len), "%s: %s stream bytes differ",
				      files[i], d == LP_C2S ? "client" : "server");
			free(ab);
			free(bb);
			ck_assert_msg(b->nholes == 0, "%s: unexpected hole", files[i]);
			ck_assert_msg(b->fin, "%s: FIN not seen", files[i]);
			if (i != 1)
				ck_assert_msg(b->isn == a->isn, "%s: ISN %u, want %u", files[i], b->isn, a->isn);
		}
		ck_assert_uint_eq(fl->ndata[LP_C2S], rf->ndata[LP_C2S]);
		ck_assert_uint_eq(fl->ndata[LP_S2C], rf->ndata[LP_S2C]);
		lp_flows_free(f);
	}
	lp_flows_free(ref);
}
END_TEST

/* One row per link type or file format: the file parses to one flow. */
static const struct {
	const char *file;
	int dlt;
	int family;
	const char *client, *server;
	uint64_t first_ts;   /* 0: not checked */
} framings[] = {
	{ "pcapplusplus__sll.pcap", DLT_LINUX_SLL, AF_INET,
	  "10.0.0.8:40800", "212.199.202.69:80", 0 },
	{ "suricata__decode-sll2-01__input.pcap", DLT_LINUX_SLL2, AF_INET,
	  "192.168.1.253:56478", "192.168.1.21:80", 0 },
	{ "pcapplusplus__one_ipv6_http_stream.pcap", DLT_RAW, AF_INET6,
	  "[2001:618:400::5199:cc70]:35997", "[2001:618:1:8000::5]:80", 1147551796702602000ull },
	{ "suricata__http-ipv6__input.pcap", DLT_NULL, AF_INET6,
	  "[::1]:55717", "[::1]:8000", 1626868686228067000ull },
	{ "pcapplusplus__nanosecs_big_endian.pcap", DLT_EN10MB, AF_INET,
	  "127.0.0.1:43030", "127.0.0.1:8000", 1766361926167647291ull },
	{ "chrissanders__http_post.pcapng", DLT_EN10MB, AF_INET,
	  "172.16.16.128:1989", "69.163.176.56:80", 1265682773045663000ull },
};

START_TEST(link_types_parse)
{
	const char *name = framings[_i].file;
	const struct lp_capture_stats *st;
	const struct lp_flow *fl;
	struct lp_flows *f;
	struct warnings w = { 0 };

	if (!pcaps_present("link_types_parse"))
		return;
	f = load_pcap(name, &w);
	st = lp_flows_stats(f);
	ck_assert_msg(st->linktype == framings[_i].dlt, "%s: link type %d, want %d", name, st->linktype,
		      framings[_i].dlt);
	ck_assert_msg(strcmp(st->linktype_name, "none") && !strchr(st->linktype_name, '+'), "%s: link type %s",
		      name, st->linktype_name);
	ck_assert_uint_eq(lp_flows_count(f), 1);
	ck_assert_uint_eq(w.count, 0);
	ck_assert_uint_eq(st->malformed, 0);
	ck_assert_uint_eq(st->packets, st->tcp + st->other + st->fragments + st->malformed);
	fl = only_flow(f, name);
	ck_assert_int_eq(fl->client.family, framings[_i].family);
	ck_assert_int_eq(fl->server.family, framings[_i].family);
	assert_endpoint(&fl->client, framings[_i].client, name);
	assert_endpoint(&fl->server, framings[_i].server, name);
	ck_assert_msg(fl->dir[LP_C2S].syn && fl->dir[LP_S2C].syn, "%s: handshake not seen", name);
	ck_assert_msg(fl->dir[LP_C2S].opts.seen && fl->dir[LP_C2S].opts.has_mss,
		      "%s: client SYN options missing", name);
	ck_assert_msg(fl->dir[LP_C2S].isn_from_syn && fl->dir[LP_S2C].isn_from_syn, "%s: ISN inferred", name);
	ck_assert_uint_eq(fl->packets, st->tcp);
	if (framings[_i].first_ts)
		ck_assert_msg(fl->first_ts == framings[_i].first_ts, "%s: first packet at %llu ns, want %llu",
			      name, (unsigned long long)fl->first_ts,
			      (unsigned long long)framings[_i].first_ts);
	ck_assert_msg(fl->last_ts >= fl->first_ts, "%s: time runs backwards", name);
	lp_flows_free(f);
}
END_TEST

/* mergecap's pcapng of an Ethernet and a Linux cooked capture: both
 * interfaces read, their flows the two sources' own. */
START_TEST(mixed_link_types_pcapng)
{
	static const char *const name = "mergecap__get_plus_sll.pcapng";
	const struct lp_capture_stats *st;
	struct lp_flows *f;

	if (!pcaps_present("mixed_link_types_pcapng"))
		return;
	f = load_pcap(name, NULL);
	st = lp_flows_stats(f);
	ck_assert_str_eq(st->linktype_name, "EN10MB+LINUX_SLL");
	ck_assert_int_eq(st->linktype, DLT_EN10MB);
	ck_assert_uint_eq(st->packets, 532);
	ck_assert_uint_eq(st->tcp, 14 + 483);
	ck_assert_uint_eq(st->unread, 0);
	ck_assert_uint_eq(st->damaged_at, 0);
	ck_assert_uint_eq(lp_flows_count(f), 2);
	assert_endpoint(&lp_flows_get(f, 1)->client, "141.142.228.5:59856", name);
	assert_endpoint(&lp_flows_get(f, 2)->client, "10.0.0.8:40800", name);
	ck_assert_uint_eq(lp_flows_get(f, 2)->first_packet, 15 + 31);
	lp_flows_free(f);
}
END_TEST

/* The SLL capture carries non-TCP noise (mDNS over IPv6): counted, not flows. */
START_TEST(sll_counts_other)
{
	struct lp_flows *f;

	if (!pcaps_present("sll_counts_other"))
		return;
	f = load_pcap("pcapplusplus__sll.pcap", NULL);
	ck_assert_uint_eq(lp_flows_stats(f)->packets, 518);
	ck_assert_uint_gt(lp_flows_stats(f)->other, 0);
	ck_assert_uint_eq(lp_flows_stats(f)->tcp, 483);
	lp_flows_free(f);
}
END_TEST

START_TEST(pop3_seven_flows)
{
	static const char *const name = "zeek__pop3__pop3.pcap";
	static const char *const clients[7] = {
		"192.168.0.4:26242", "192.168.0.4:26245", "192.168.0.4:26272", "192.168.0.4:26284",
		"192.168.0.4:26304", "192.168.0.4:26308", "192.168.0.4:26383",
	};
	const struct lp_flow *fl = NULL, *fl2 = NULL;
	struct lp_flows *f;
	uint32_t prev = 0;

	if (!pcaps_present("pop3_seven_flows"))
		return;
	f = load_pcap(name, NULL);
	ck_assert_uint_eq(lp_flows_count(f), 7);
	for (unsigned id = 1; id <= 7; id++) {
		fl = lp_flows_get(f, id);
		ck_assert_ptr_nonnull(fl);
		ck_assert_uint_eq(fl->id, id);
		ck_assert_msg(fl->first_packet > prev, "flow %u starts at packet %u, before flow %u",
			      id, fl->first_packet, id - 1);
		prev = fl->first_packet;
		assert_endpoint(&fl->client, clients[id - 1], "pop3 client");
		ck_assert_uint_eq(fl->server.port, 110);
		ck_assert_msg(fl->dir[LP_C2S].syn, "flow %u: no SYN", id);
	}
	ck_assert_ptr_null(lp_flows_get(f, 0));
	ck_assert_ptr_null(lp_flows_get(f, 8));
	/* The first two never got a SYN-ACK: the servers reset them. */
	for (unsigned id = 1; id <= 2; id++) {
		fl = lp_flows_get(f, id);
		ck_assert_msg(fl->notes & LP_NOTE_NO_SYNACK, "flow %u: no-synack not noted", id);
		ck_assert_msg(fl->dir[LP_S2C].rst, "flow %u: server RST not seen", id);
		ck_assert_msg(fl->dir[LP_C2S].retransmissions == 2, "flow %u: %u SYN retransmissions, want 2",
			      id, fl->dir[LP_C2S].retransmissions);
	}
	/* Selection: none is ambiguous; by number; by 4-tuple either way round. */
	ck_assert_int_eq(lp_flows_select(f, NULL, &fl), -ENOTUNIQ);
	ck_assert_int_eq(lp_flows_select(f, "4", &fl), 0);
	ck_assert_uint_eq(fl->id, 4);
	ck_assert_int_eq(lp_flows_select(f, "212.227.15.166:110-192.168.0.4:26308", &fl2), 0);
	ck_assert_uint_eq(fl2->id, 6);
	ck_assert_int_eq(lp_flows_select(f, "192.168.0.4:26308-212.227.15.166:110", &fl2), 0);
	ck_assert_uint_eq(fl2->id, 6);
	ck_assert_int_eq(lp_flows_select(f, "8", &fl2), -ENOENT);
	ck_assert_int_eq(lp_flows_select(f, "0", &fl2), -ENOENT);
	ck_assert_int_eq(lp_flows_select(f, "192.168.0.4:1-212.227.15.166:110", &fl2), -ENOENT);
	ck_assert_int_eq(lp_flows_select(f, "192.168.0.4:26308", &fl2), -EINVAL);
	ck_assert_int_eq(lp_flows_select(f, "4x", &fl2), -EINVAL);
	lp_flows_free(f);
}
END_TEST

/* Snap length 68: every payload byte is missing, both streams are holes. */
START_TEST(truncated_header_holes)
{
	static const char *const name = "zeek__tcp__truncated-header.pcap";
	const struct lp_flow *fl;
	struct lp_flows *f;
	struct lp_hole hole;
	enum lp_dir dir;

	if (!pcaps_present("truncated_header_holes"))
		return;
	f = load_pcap(name, NULL);
	fl = only_flow(f, name);
	assert_endpoint(&fl->client, "201.186.157.67:60827", name);
	assert_endpoint(&fl->server, "128.3.26.249:25", name);
	ck_assert_msg(fl->notes & LP_NOTE_TRUNCATED, "truncation not noted");
	/* Payload bytes on the wire (tshark tcp.len): 128 from the client, 477 from the server. */
	ck_assert_uint_eq(fl->dir[LP_C2S].len, 128);
	ck_assert_uint_eq(fl->dir[LP_S2C].len, 477);
	ck_assert_uint_eq(fl->dir[LP_C2S].wire_bytes, 128);
	ck_assert_uint_eq(fl->dir[LP_S2C].wire_bytes, 477);
	for (int d = 0; d < 2; d++) {
		const struct lp_stream *st = &fl->dir[d];

		ck_assert_uint_ge(st->nholes, 1);
		ck_assert_uint_eq(st->hole_bytes, st->len);
		ck_assert_uint_eq(st->holes[0].offset, 0);
	}
	ck_assert(lp_flow_first_hole(fl, &dir, &hole));
	ck_assert_int_eq(dir, LP_C2S);
	ck_assert_uint_eq(hole.offset, 0);
	ck_assert_uint_eq(hole.len, 128);
	/* The SYN was cut inside its options: what was there still counts. */
	ck_assert(fl->dir[LP_C2S].opts.seen);
	ck_assert(fl->dir[LP_C2S].opts.has_mss);
	ck_assert_uint_eq(fl->dir[LP_C2S].opts.mss, 1460);
	lp_flows_free(f);
}
END_TEST

/* A capture that starts mid-stream: no handshake, client guessed by port. */
START_TEST(midstream_client_by_port)
{
	static const char *const name = "zeek__http__get_nosyn.pcap";
	const struct lp_flow *fl;
	struct lp_flows *f;
	char notes[256];

	if (!pcaps_present("midstream_client_by_port"))
		return;
	f = load_pcap(name, NULL);
	fl = only_flow(f, name);
	ck_assert_msg((fl->notes & (LP_NOTE_NO_SYN | LP_NOTE_NO_SYNACK | LP_NOTE_MIDSTREAM |
				    LP_NOTE_CLIENT_BY_PORT)) ==
		      (LP_NOTE_NO_SYN | LP_NOTE_NO_SYNACK | LP_NOTE_MIDSTREAM | LP_NOTE_CLIENT_BY_PORT),
		      "notes 0x%x", fl->notes);
	ck_assert_uint_eq(fl->client.port, 59856);
	ck_assert_uint_eq(fl->server.port, 80);
	ck_assert(!fl->dir[LP_C2S].isn_from_syn);
	ck_assert(!fl->dir[LP_S2C].isn_from_syn);
	ck_assert(!fl->dir[LP_C2S].opts.seen);
	lp_flow_notes_str(fl->notes, notes, sizeof(notes));
	ck_assert_msg(strstr(notes, "no-syn") && strstr(notes, "client-by-port") && strstr(notes, "midstream"),
		      "notes string '%s'", notes);
	lp_flows_free(f);

	f = load_pcap("zeek__tcp__handshake-reorder.pcap", NULL);
	fl = only_flow(f, "zeek__tcp__handshake-reorder.pcap");
	ck_assert_msg(fl->notes & LP_NOTE_REORDERED_HS, "handshake reorder not noted (0x%x)", fl->notes);
	ck_assert_msg(!(fl->notes & (LP_NOTE_NO_SYN | LP_NOTE_CLIENT_BY_PORT)), "notes 0x%x", fl->notes);
	ck_assert_uint_eq(fl->client.port, 59856);
	/* The client's part of the schedule still starts with its SYN. */
	for (size_t i = 0; i < fl->nsegs; i++) {
		if (fl->segs[i].dir != LP_C2S)
			continue;
		ck_assert_uint_eq(fl->segs[i].flags & (LP_TH_SYN | LP_TH_ACK), LP_TH_SYN);
		break;
	}
	lp_flows_free(f);
}
END_TEST

struct bad_ctx {
	unsigned files;
};

/* A [bad] file fails to load with a message, or loads to no flow at all. */
static void check_bad_file(const char *file, const char *line, void *opaque)
{
	struct bad_ctx *c = opaque;
	char path[4096], err[512] = "";
	struct lp_flows *f = NULL;
	struct warnings w = { 0 };
	int rc;

	if (!strstr(line, "[bad]"))
		return;
	c->files++;
	pcap_path(file, path, sizeof(path));
	rc = lp_flows_load(path, count_warning, &w, &f, err, sizeof(err));
	if (rc) {
		ck_assert_msg(rc < 0, "%s: load returned %d", file, rc);
		ck_assert_ptr_null(f);
		ck_assert_msg(err[0] != '\0', "%s: failed (%d) without a message", file, rc);
		printf("pcaps: %s: refused: %s\n", file, err);
	} else {
		const struct lp_capture_stats *st = lp_flows_stats(f);
		const struct lp_flow *fl;

		ck_assert_msg(lp_flows_count(f) == 0, "%s: %zu flows from a bad capture", file,
			      lp_flows_count(f));
		ck_assert_int_eq(lp_flows_select(f, NULL, &fl), -ENODATA);
		ck_assert_uint_eq(st->malformed, w.count - st->fragments);
		printf("pcaps: %s: no flow (%u packets, %u malformed)\n", file, st->packets, st->malformed);
		lp_flows_free(f);
	}
	fflush(stdout);
}

START_TEST(bad_captures_refused)
{
	struct bad_ctx c = { 0 };
	char path[4096], err[512] = "";
	struct lp_flows *f = NULL;
	int rc;

	if (!pcaps_present("bad_captures_refused"))
		return;
	ck_assert_msg(manifest_each(check_bad_file, &c), "%s/MANIFEST.tsv missing", pcaps_dir());
	ck_assert_uint_ge(c.files, 4);

	/* What the [bad] files show, one by one: record 2 is damaged, the
	 * one before it malformed. */
	f = load_pcap("suricata__bug-6875-01__fuzz.pcap", NULL);
	ck_assert_uint_eq(lp_flows_stats(f)->packets, 1);
	ck_assert_uint_eq(lp_flows_stats(f)->malformed, 1);
	ck_assert_uint_eq(lp_flows_stats(f)->damaged_at, 2);
	ck_assert_msg(strstr(lp_flows_stats(f)->damage, "impossible captured length 1409179648"), "damage: '%s'",
		      lp_flows_stats(f)->damage);
	lp_flows_free(f);
	pcap_path("libpcap__pcap-invalid-version-1.pcap", path, sizeof(path));
	rc = lp_flows_load(path, NULL, NULL, &f, err, sizeof(err));
	ck_assert_int_lt(rc, 0);
	f = load_pcap("pcapplusplus__tcp-malformed.pcap", NULL);
	ck_assert_uint_eq(lp_flows_stats(f)->malformed, 2);
	lp_flows_free(f);
	f = load_pcap("zeek__empty.pcap", NULL);
	ck_assert_uint_eq(lp_flows_stats(f)->packets, 0);
	lp_flows_free(f);
}
END_TEST

START_TEST(missing_and_foreign_files_refused)
{
	char dir[] = "/tmp/check_pcaps.XXXXXX", path[4200], err[512] = "";
	struct lp_flows *f = (struct lp_flows *)&f;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/absent.pcap", dir);
	ck_assert_int_eq(lp_flows_load(path, NULL, NULL, &f, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(f);
	ck_assert_msg(err[0], "no message for a missing file");
	err[0] = '\0';
	ck_assert_int_lt(lp_flows_load(dir, NULL, NULL, &f, err, sizeof(err)), 0);
	ck_assert_ptr_null(f);
	ck_assert_msg(err[0], "no message for a directory");
	snprintf(path, sizeof(path), "%s/text.pcap", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("this is not a capture, only some text\n", fp);
	fclose(fp);
	err[0] = '\0';
	ck_assert_int_lt(lp_flows_load(path, NULL, NULL, &f, err, sizeof(err)), 0);
	ck_assert_ptr_null(f);
	ck_assert_msg(err[0], "no message for a text file");
	ck_assert_int_eq(remove(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Every flow's two streams hash to what the independent reassembly gave. */
START_TEST(streams_match_hashes)
{
	char line[1024], cur[512] = "";
	struct lp_flows *f = NULL;
	unsigned lines = 0, cur_lines = 0;
	FILE *fp;

	if (!pcaps_present("streams_match_hashes"))
		return;
	fp = fopen(HASHES_FILE, "r");
	ck_assert_msg(fp != NULL, "%s: %s (run from the repository root)", HASHES_FILE, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		char file[512], want[2][65], got[65];
		unsigned id;
		unsigned long long wlen[2];
		const struct lp_flow *fl;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		ck_assert_msg(sscanf(line, "%511s %u %64s %llu %64s %llu", file, &id, want[0], &wlen[0],
				     want[1], &wlen[1]) == 6, "%s: bad line '%s'", HASHES_FILE, line);
		if (strcmp(file, cur)) {
			if (f)
				ck_assert_msg(cur_lines == lp_flows_count(f), "%s: %zu flows, %u hashed",
					      cur, lp_flows_count(f), cur_lines);
			lp_flows_free(f);
			f = load_pcap(file, NULL);
			snprintf(cur, sizeof(cur), "%s", file);
			cur_lines = 0;
		}
		cur_lines++;
		lines++;
		fl = lp_flows_get(f, id);
		ck_assert_msg(fl != NULL, "%s: no flow %u", file, id);
		for (int d = 0; d < 2; d++) {
			const struct lp_stream *st = &fl->dir[d];

			ck_assert_msg(st->nholes == 0, "%s flow %u: hole in the %s stream", file, id,
				      d == LP_C2S ? "client" : "server");
			ck_assert_msg(st->len == wlen[d], "%s flow %u: %s stream is %llu bytes, want %llu",
				      file, id, d == LP_C2S ? "client" : "server",
				      (unsigned long long)st->len, wlen[d]);
			uint8_t *bytes = stream_bytes(st);

			sha256_hex(bytes, st->len, got);
			free(bytes);
			ck_assert_msg(!strcmp(got, want[d]), "%s flow %u: %s stream sha256 %s, want %s",
				      file, id, d == LP_C2S ? "client" : "server", got, want[d]);
		}
	}
	if (f)
		ck_assert_msg(cur_lines == lp_flows_count(f), "%s: %zu flows, %u hashed", cur,
			      lp_flows_count(f), cur_lines);
	lp_flows_free(f);
	fclose(fp);
	ck_assert_uint_ge(lines, 20);
}
END_TEST

/* What must hold for any flow the model builds. */
static void check_flow_invariants(const char *file, const struct lp_flow *fl, uint32_t packets)
{
	uint64_t reached[2] = { 0, 0 }, lastack[2] = { 0, 0 }, next[2] = { 0, 0 };
	uint32_t label[2] = { 0, 0 };
	uint32_t pkts = 0;
	char notes[512], ep[80];

	for (int d = 0; d < 2; d++) {
		const struct lp_stream *st = &fl->dir[d];
		uint64_t hb = 0, end = 0, b;

		pkts += st->packets;
		const char *wrong = stream_extents_wrong(st);
		uint8_t *bytes = stream_bytes(st);

		ck_assert_msg(!wrong, "%s flow %u: %s", file, fl->id, wrong);
		for (size_t k = 0; k < st->nholes; k++) {
			ck_assert_msg(st->holes[k].len > 0 && st->holes[k].offset >= end,
				      "%s flow %u: holes overlap or are empty", file, fl->id);
			end = st->holes[k].offset + st->holes[k].len;
			ck_assert_msg(end <= st->len, "%s flow %u: hole past the stream end", file, fl->id);
			hb += st->holes[k].len;
			/* The contract: bytes in holes read as zero. (One assertion,
			 * not one per byte: Check records every passing one.) */
			b = st->holes[k].offset;
			while (b < end && bytes[b] == 0)
				b++;
			ck_assert_msg(b == end, "%s flow %u: %s stream byte %llu, in a hole, is 0x%02x", file,
				      fl->id, d == LP_C2S ? "client" : "server", (unsigned long long)b,
				      b < end ? bytes[b] : 0);
		}
		free(bytes);
		ck_assert_uint_eq(hb, st->hole_bytes);
		ck_assert_msg(st->data_packets <= st->packets, "%s flow %u", file, fl->id);
	}
	ck_assert_msg(pkts == fl->packets, "%s flow %u: %u packets by direction, %u in all", file,
		      fl->id, pkts, fl->packets);
	ck_assert_msg(fl->first_packet >= 1 && fl->first_packet <= packets, "%s flow %u", file, fl->id);
	for (size_t i = 0; i < fl->nsegs; i++) {
		const struct lp_segment *s = &fl->segs[i];
		int d = s->dir;

		ck_assert_msg(d == LP_C2S || d == LP_S2C, "%s flow %u seg %zu: dir %d", file, fl->id, i, d);
		ck_assert_msg(s->packet >= fl->first_packet && s->packet <= packets,
			      "%s flow %u seg %zu: packet %u", file, fl->id, i, s->packet);
		if (s->len) {
			ck_assert_msg(s->label == ++label[d], "%s flow %u seg %zu: label %u, want %u", file,
				      fl->id, i, s->label, label[d]);
			/* Data segments of one direction: in stream order, no overlap. */
			ck_assert_msg(s->offset >= next[d], "%s flow %u %c%u: offset %llu before %llu", file,
				      fl->id, d ? 'S' : 'C', s->label, (unsigned long long)s->offset,
				      (unsigned long long)next[d]);
			next[d] = s->offset + s->len;
			ck_assert_msg(next[d] <= fl->dir[d].len, "%s flow %u %c%u: past the stream end", file,
				      fl->id, d ? 'S' : 'C', s->label);
		} else {
			ck_assert_msg(s->label == 0, "%s flow %u seg %zu: label on an empty segment", file,
				      fl->id, i);
			ck_assert_msg(s->flags & (LP_TH_SYN | LP_TH_FIN | LP_TH_RST),
				      "%s flow %u seg %zu: empty segment without SYN/FIN/RST", file, fl->id, i);
		}
		/* The causal link: never ahead of what the peer had sent, never backwards. */
		ck_assert_msg(s->ack <= reached[!d], "%s flow %u seg %zu: acks %llu of %llu sent", file,
			      fl->id, i, (unsigned long long)s->ack, (unsigned long long)reached[!d]);
		ck_assert_msg(s->ack >= lastack[d], "%s flow %u seg %zu: ack goes back", file, fl->id, i);
		lastack[d] = s->ack;
		if (s->offset + s->len > reached[d])
			reached[d] = s->offset + s->len;
		if ((s->flags & LP_TH_FIN) && s->offset + s->len + 1 > reached[d])
			reached[d] = s->offset + s->len + 1;
	}
	for (int d = 0; d < 2; d++)
		ck_assert_msg(label[d] == fl->ndata[d], "%s flow %u: %u labels, ndata %u", file, fl->id,
			      label[d], fl->ndata[d]);
	lp_flow_notes_str(fl->notes, notes, sizeof(notes));
	ck_assert_msg((fl->notes == 0) == (notes[0] == '\0'), "%s flow %u: notes '%s'", file, fl->id, notes);
	lp_endpoint_str(&fl->client, ep, sizeof(ep));
	ck_assert_msg(strchr(ep, ':') != NULL, "%s flow %u: endpoint '%s'", file, fl->id, ep);
}

struct inv_ctx {
	unsigned files, flows;
};

static void check_file_invariants(const char *file, const char *line, void *opaque)
{
	struct inv_ctx *c = opaque;
	struct lp_flows *f;
	const struct lp_flow *fl;

	if (strstr(line, "[bad]"))
		return;
	c->files++;
	f = load_pcap(file, NULL);
	ck_assert_msg(lp_flows_count(f) > 0, "%s: no flow", file);
	for (unsigned id = 1; id <= lp_flows_count(f); id++) {
		char sel[16];

		fl = lp_flows_get(f, id);
		ck_assert_ptr_nonnull(fl);
		check_flow_invariants(file, fl, lp_flows_stats(f)->packets);
		snprintf(sel, sizeof(sel), "%u", id);
		ck_assert_int_eq(lp_flows_select(f, sel, &fl), 0);
		ck_assert_uint_eq(fl->id, id);
		c->flows++;
	}
	lp_flows_free(f);
}

START_TEST(schedule_invariants)
{
	struct inv_ctx c = { 0 };

	if (!pcaps_present("schedule_invariants"))
		return;
	ck_assert_msg(manifest_each(check_file_invariants, &c), "%s/MANIFEST.tsv missing", pcaps_dir());
	ck_assert_uint_ge(c.files, 15);
	ck_assert_uint_ge(c.flows, 21);
}
END_TEST

static int regress_filter(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* The files of tests/data/fuzz-regress in name order; -1 without the folder. */
static int regress_list(struct dirent ***names)
{
	return scandir(REGRESS_DIR, names, regress_filter, alphasort);
}

static void regress_free(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Cap the address space of this test's process at what it uses now plus
 * REGRESS_MEM_MAX, so that an input blowing up memory fails fast instead of
 * taking the machine's. Only in a forked test (the limit dies with it), and not
 * under ASan, whose shadow memory needs a huge address space. */
static void limit_memory(void)
{
	const char *fork_env = getenv("CK_FORK");
	unsigned long long pages = 0;
	struct rlimit rl;
	FILE *fp;

	if (UNDER_ASAN || (fork_env && !strcmp(fork_env, "no")))
		return;
	fp = fopen("/proc/self/statm", "r");
	if (!fp)
		return;
	if (fscanf(fp, "%llu", &pages) == 1 && pages) {
		rl.rlim_cur = rl.rlim_max = pages * (unsigned long long)sysconf(_SC_PAGESIZE) + REGRESS_MEM_MAX;
		setrlimit(RLIMIT_AS, &rl);
	}
	fclose(fp);
}

/* Inputs that once broke the fuzz target (one test each), written by hand
 * after what the fuzzer found (never the real captures' bytes):
 *   hole-bytes-not-zero.pcap     data before the server's ISN left bytes in a hole
 *   leak-out-of-window-syn.pcap  a SYN with data far out of window leaked its options
 *   oom-data-gaps.pcap           35 one-byte segments 60 MiB apart: 2 GiB of stream
 *   oom-fin-far-ahead.pcap       a FIN 2 GiB past the SYN: 2 GiB of stream
 *   ub-null-memmove.pcap         an ACK below the ISN, no client data: memmove(NULL)
 * Each now loads, or fails with a message, within bounded memory, and every
 * flow keeps the model's contracts. Under make asan this also catches leaks and
 * undefined behaviour. */
START_TEST(fuzz_regression)
{
	char path[4096], name[256], err[512] = "";
	struct dirent **names = NULL;
	struct lp_flows *f = NULL;
	struct rusage before, after;
	struct stat st;
	int n = regress_list(&names), rc;

	ck_assert_msg(_i < n, "%s changed while the tests ran", REGRESS_DIR);
	snprintf(name, sizeof(name), "%s", names[_i]->d_name);
	regress_free(names, n);
	snprintf(path, sizeof(path), "%s/%s", REGRESS_DIR, name);
	ck_assert_int_eq(stat(path, &st), 0);
	limit_memory();
	getrusage(RUSAGE_SELF, &before);
	rc = lp_flows_load(path, NULL, NULL, &f, err, sizeof(err));
	getrusage(RUSAGE_SELF, &after);
	ck_assert_msg(rc != -ENOMEM, "%s: a %lld-byte file needs more than %llu MiB: %s", name,
		      (long long)st.st_size, REGRESS_MEM_MAX >> 20, err);
	ck_assert_msg((unsigned long long)(after.ru_maxrss - before.ru_maxrss) * 1024 < REGRESS_MEM_MAX,
		      "%s: a %lld-byte file took %ld MiB", name, (long long)st.st_size,
		      (after.ru_maxrss - before.ru_maxrss) / 1024);
	if (rc) {
		ck_assert_msg(rc < 0 && err[0], "%s: %d without a message", path, rc);
	} else {
		for (unsigned id = 1; id <= lp_flows_count(f); id++)
			check_flow_invariants(name, lp_flows_get(f, id), lp_flows_stats(f)->packets);
		lp_flows_free(f);
	}
}
END_TEST

Suite *pcaps_suite(void)
{
	Suite *s = suite_create("pcaps");
	TCase *tc = tcase_create("sha256");
	struct dirent **names = NULL;
	int nregress;

	tcase_add_test(tc, sha256_known_answers);
	suite_add_tcase(s, tc);

	tc = tcase_create("real");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, same_get_five_framings);
	tcase_add_loop_test(tc, link_types_parse, 0, (int)(sizeof(framings) / sizeof(framings[0])));
	tcase_add_test(tc, sll_counts_other);
	tcase_add_test(tc, mixed_link_types_pcapng);
	tcase_add_test(tc, pop3_seven_flows);
	tcase_add_test(tc, truncated_header_holes);
	tcase_add_test(tc, midstream_client_by_port);
	tcase_add_test(tc, bad_captures_refused);
	tcase_add_test(tc, streams_match_hashes);
	tcase_add_test(tc, schedule_invariants);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, missing_and_foreign_files_refused);
	nregress = regress_list(&names);
	if (nregress > 0) {
		tcase_add_loop_test(tc, fuzz_regression, 0, nregress);
		regress_free(names, nregress);
	}
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capfile: a capture's bytes in memory. A regular file is mapped; a pipe, or
 * compressed data, is first written to an unlinked temporary file (in
 * $TMPDIR, else /tmp) that is then mapped, so that memory stays bounded for
 * any size (a big mapping gives back the pages behind its reader).
 * Compression is recognised by its magic bytes: gzip (zlib), xz
 * (liblzma), zstd (libzstd). Compressed data cut short or corrupt keeps what
 * decompressed before, with the reason in cf->error.
 */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "tcpliveplay/capfile.h"

#define CHUNK (256u << 10)
/* liblzma's memory for one xz stream: xz -9 needs 65 MiB. */
#define XZ_MEMLIMIT (256ull << 20)
/* Pages given back behind the reader at least this many bytes at a time,
 * in a mapping of more than KEEP_MAX bytes. A smaller one keeps its pages:
 * the bytes are read again soon (the responder sends the server's stream
 * from them, a replay of an upload the client's), and a page given back
 * then costs a second fault: the responder serving 100 MiB, the replay's
 * inner time 86.8 -> 80.5 ms (medians of 15, interleaved). A mapping's pages are the page cache's,
 * not anonymous memory, whatever their number. */
#define RELEASE_STEP (4u << 20)
#define KEEP_MAX (256u << 20)

/* Compressed input: bytes in memory, or a descriptor read in chunks. */
struct src {
	const uint8_t *mem;
	size_t len, pos;
	int fd;
	uint8_t *buf;
	size_t pending;      /* bytes already in buf (read to look at the magic) */
	uint64_t consumed;   /* bytes handed out so far */
};

/* The temporary file decompressed bytes go to, with the bomb limit. */
struct sink {
	int fd;
	uint64_t total;
	uint64_t floor, ratio;   /* 0 floor: no limit */
	const struct src *in;
	const char *what;
	char *err;
	size_t errlen;
};

/* A decompressor, one step at a time. */
struct codec {
	const char *name;
	int (*init)(void **state);
	/* Decode from in[0, n) into out[0, cap): bytes used and made. 0: go on;
	 * 1: a stream (gzip member, zstd frame) ended; 2: corrupt, *msg says
	 * why; negative errno. finish: no more input will come. */
	int (*step)(void *state, const uint8_t *in, size_t n, size_t *used, uint8_t *out, size_t cap,
		    size_t *made, bool finish, const char **msg);
	/* After a stream ended with input left: 0 go on, 1 stop there. */
	int (*next_stream)(void *state, const uint8_t *in, size_t n);
	void (*end)(void *state);
};

/* --- Input and output --------------------------------------------------- */

/* The next bytes of input at *p: their count, 0 at the end, or -errno. */
static ssize_t src_read(struct src *s, const uint8_t **p)
{
	ssize_t n;

	if (s->mem) {
		n = (ssize_t)(s->len - s->pos);
		*p = s->mem + s->pos;
		s->pos = s->len;
	} else if (s->pending) {
		n = (ssize_t)s->pending;
		s->pending = 0;
		*p = s->buf;
	} else {
		do
			n = read(s->fd, s->buf, CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		*p = s->buf;
	}
	s->consumed += (uint64_t)n;
	return n;
}

static int tmpfile_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (snprintf(path, sizeof(path), "%s/tcpliveplay-XXXXXX", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

static int sink_write(struct sink *k, const uint8_t *p, size_t n)
{
	if (k->floor && k->total + n > k->floor && k->total + n > k->ratio * k->in->consumed) {
		snprintf(k->err, k->errlen,
			 "%s data decompresses to more than %llu MiB, over %llu times its %llu compressed bytes read: "
			 "refused as a decompression bomb (the limit is the larger of %llu MiB and %llu times the "
			 "compressed size)", k->what, (unsigned long long)(k->total + n) >> 20,
			 (unsigned long long)k->ratio, (unsigned long long)k->in->consumed,
			 (unsigned long long)k->floor >> 20, (unsigned long long)k->ratio);
		return -EFBIG;
	}
	while (n) {
		ssize_t w = write(k->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			snprintf(k->err, k->errlen, "cannot write a temporary file: %s", strerror(e));
			return -e;
		}
		p += w;
		n -= (size_t)w;
		k->total += (uint64_t)w;
	}
	return 0;
}

/* --- The three decompressors ------------------------------------------- */

static int gz_init(void **state)
{
	z_stream *z = calloc(1, sizeof(*z));

	if (!z)
		return -ENOMEM;
	if (inflateInit2(z, 16 + MAX_WBITS) != Z_OK) {
		free(z);
		return -ENOMEM;
	}
	*state = z;
	return 0;
}

static int gz_step(void *state, const uint8_t *in, size_t n, size_t *used, uint8_t *out, size_t cap,
		   size_t *made, bool finish, const char **msg)
{
	z_stream *z = state;
	uInt avail = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	int rc;

	(void)finish;
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = avail;
	z->next_out = out;
	z->avail_out = (uInt)cap;
	rc = inflate(z, Z_NO_FLUSH);
	*used = avail - z->avail_in;
	*made = cap - z->avail_out;
	switch (rc) {
	case Z_OK:
	case Z_BUF_ERROR:
		return 0;
	case Z_STREAM_END:
		return 1;
	case Z_MEM_ERROR:
		return -ENOMEM;
	default:
		*msg = z->msg ? z->msg : "corrupt data";
		return 2;
	}
}

/* Another gzip member follows (gzip -c a b > c); anything else is ignored. */
static int gz_next(void *state, const uint8_t *in, size_t n)
{
	if (n && in[0] != 0x1f)
		return 1;
	return inflateReset(state) == Z_OK ? 0 : 1;
}

static void gz_end(void *state)
{
	inflateEnd(state);
	free(state);
}

static int xz_init(void **state)
{
	lzma_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	*s = (lzma_stream)LZMA_STREAM_INIT;
	if (lzma_stream_decoder(s, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK) {
		free(s);
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static int xz_step(void *state, const uint8_t *in, size_t n, size_t *used, uint8_t *out, size_t cap,
		   size_t *made, bool finish, const char **msg)
{
	lzma_stream *s = state;
	lzma_ret rc;

	s->next_in = in;
	s->avail_in = n;
	s->next_out = out;
	s->avail_out = cap;
	rc = lzma_code(s, finish ? LZMA_FINISH : LZMA_RUN);
	*used = n - s->avail_in;
	*made = cap - s->avail_out;
	switch (rc) {
	case LZMA_OK:
	case LZMA_BUF_ERROR:
		return 0;
	case LZMA_STREAM_END:
		return 1;
	case LZMA_MEM_ERROR:
		return -ENOMEM;
	case LZMA_MEMLIMIT_ERROR:
		*msg = "needs more memory to decompress than the 256 MiB allowed";
		return 2;
	case LZMA_FORMAT_ERROR:
		*msg = "not in the .xz format";
		return 2;
	case LZMA_OPTIONS_ERROR:
		*msg = "unsupported options";
		return 2;
	default:
		*msg = "corrupt data";
		return 2;
	}
}

/* With LZMA_CONCATENATED the decoder has read every stream. */
static int xz_next(void *state, const uint8_t *in, size_t n)
{
	return 1;
}

static void xz_end(void *state)
{
	lzma_end(state);
	free(state);
}

static int zst_init(void **state)
{
	ZSTD_DStream *d = ZSTD_createDStream();

	if (!d)
		return -ENOMEM;
	*state = d;
	return 0;
}

static int zst_step(void *state, const uint8_t *in, size_t n, size_t *used, uint8_t *out, size_t cap,
		    size_t *made, bool finish, const char **msg)
{
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob = { out, cap, 0 };
	size_t rc = ZSTD_decompressStream(state, &ob, &ib);

	(void)finish;
	*used = ib.pos;
	*made = ob.pos;
	if (ZSTD_isError(rc)) {
		*msg = ZSTD_getErrorName(rc);
		return 2;
	}
	return rc == 0 ? 1 : 0;
}

/* The decoder goes on to the next frame by itself. */
static int zst_next(void *state, const uint8_t *in, size_t n)
{
	return 0;
}

static void zst_end(void *state)
{
	ZSTD_freeDStream(state);
}

static const struct codec codecs[] = {
	{ "gzip", gz_init, gz_step, gz_next, gz_end },
	{ "xz", xz_init, xz_step, xz_next, xz_end },
	{ "zstd", zst_init, zst_step, zst_next, zst_end },
};

/* The codec for data starting with p[0, n), or NULL; *other names a
 * compression that is recognised but not read. */
static const struct codec *codec_for(const uint8_t *p, size_t n, const char **other)
{
	*other = NULL;
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return &codecs[0];
	if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return &codecs[1];
	/* A zstd frame, or a skippable frame (0x184D2A50 to 5F, little-endian). */
	if (n >= 4 && (!memcmp(p, "\x28\xb5\x2f\xfd", 4) || ((p[0] & 0xf0) == 0x50 && !memcmp(p + 1, "\x2a\x4d\x18", 3))))
		return &codecs[2];
	if (n >= 3 && !memcmp(p, "BZh", 3))
		*other = "bzip2";
	else if (n >= 4 && !memcmp(p, "\x04\x22\x4d\x18", 4))
		*other = "lz4";
	return NULL;
}

/* Decompress all of in into k; a stream cut short or corrupt stops there
 * with the reason in cf->error (an error of its own when nothing came out). */
static int inflate_all(const struct codec *c, struct src *in, struct sink *k, struct lp_capfile *cf)
{
	uint8_t *out = malloc(CHUNK);
	const uint8_t *p = NULL;
	const char *msg = NULL;
	void *state = NULL;
	size_t n = 0;
	bool eof = false;
	int rc, st = 0;

	if (!out || (rc = c->init(&state)) != 0) {
		snprintf(k->err, k->errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		size_t used = 0, made = 0;
		ssize_t r;

		if (!n && !eof) {
			r = src_read(in, &p);
			if (r < 0) {
				rc = (int)r;
				snprintf(k->err, k->errlen, "%s", strerror((int)-r));
				goto out;
			}
			eof = r == 0;
			n = (size_t)r;
		}
		st = c->step(state, p, n, &used, out, CHUNK, &made, eof, &msg);
		if (st < 0) {
			rc = st;
			snprintf(k->err, k->errlen, "out of memory");
			goto out;
		}
		p += used;
		n -= used;
		rc = sink_write(k, out, made);
		if (rc)
			goto out;
		if (st == 2)
			break;
		if (st == 1) {
			if (!n && !eof) {
				r = src_read(in, &p);
				eof = r <= 0;
				n = r > 0 ? (size_t)r : 0;
			}
			if (!n || c->next_stream(state, p, n))
				break;
			continue;
		}
		if (!used && !made && (eof || n)) {
			msg = eof ? "cut short" : "the decoder makes no progress";
			st = 2;
			break;
		}
	}
	if (st == 2)
		snprintf(cf->error, sizeof(cf->error), "%s data %s (after %llu decompressed bytes)", c->name, msg,
			 (unsigned long long)k->total);
	rc = 0;
	if (st == 2 && !k->total) {
		snprintf(k->err, k->errlen, "%s data %s, before any byte of it decompressed", c->name, msg);
		rc = -EINVAL;
	}
out:
	if (state)
		c->end(state);
	free(out);
	return rc;
}

/* --- Mapping -------------------------------------------------------------- */

static int map_fd(int fd, size_t size, struct lp_capfile *cf, char *err, size_t errlen)
{
	void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

	if (m == MAP_FAILED) {
		int e = errno;

		snprintf(err, errlen, "cannot map %zu bytes: %s", size, strerror(e));
		return -e;
	}
	madvise(m, size, MADV_SEQUENTIAL);
	cf->map = m;
	cf->maplen = size;
	cf->data = m;
	cf->size = size;
	return 0;
}

/* Everything from in, decompressed with c (or copied when NULL), into a
 * temporary file that is then mapped. */
static int spill(const struct codec *c, struct src *in, const struct lp_inflate_limit *lim,
		 struct lp_capfile *cf, char *err, size_t errlen)
{
	struct sink k = { .fd = tmpfile_open(), .in = in, .err = err, .errlen = errlen };
	int rc = 0;

	if (k.fd < 0) {
		snprintf(err, errlen, "cannot make a temporary file: %s", strerror(-k.fd));
		return k.fd;
	}
	if (c) {
		k.what = c->name;
		k.floor = lim ? lim->floor : LP_INFLATE_FLOOR;
		k.ratio = lim ? lim->ratio : LP_INFLATE_RATIO;
		cf->compression = c->name;
		rc = inflate_all(c, in, &k, cf);
	} else {
		const uint8_t *p;
		ssize_t r;

		while ((r = src_read(in, &p)) > 0 && !(rc = sink_write(&k, p, (size_t)r)))
			;
		if (r < 0) {
			rc = (int)r;
			snprintf(err, errlen, "%s", strerror((int)-r));
		}
	}
	if (!rc && k.total > SIZE_MAX) {
		snprintf(err, errlen, "too large to map");
		rc = -EFBIG;
	}
	if (!rc && k.total)
		rc = map_fd(k.fd, (size_t)k.total, cf, err, errlen);
	close(k.fd);
	return rc;
}

/* Look at the first bytes of a pipe: read until 6 are there or it ends. */
static int src_peek(struct src *s, char *err, size_t errlen)
{
	while (s->pending < 6) {
		ssize_t n = read(s->fd, s->buf + s->pending, CHUNK - s->pending);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			snprintf(err, errlen, "%s", strerror(e));
			return -e;
		}
		if (!n)
			break;
		s->pending += (size_t)n;
	}
	return 0;
}

static int unsupported(const char *other, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s-compressed: not read (decompress it first; gzip, xz and zstd are read)", other);
	return -EPROTONOSUPPORT;
}

int lp_capfile_from_mem(const void *p, size_t n, const struct lp_inflate_limit *lim, struct lp_capfile *cf,
			char *err, size_t errlen)
{
	struct src in = { .mem = p, .len = n, .fd = -1 };
	const char *other;
	const struct codec *c = codec_for(p, n, &other);
	int rc;

	memset(cf, 0, sizeof(*cf));
	if (other)
		return unsupported(other, err, errlen);
	if (!c) {
		cf->data = p;
		cf->size = n;
		return 0;
	}
	rc = spill(c, &in, lim, cf, err, errlen);
	if (rc)
		lp_capfile_close(cf);
	return rc;
}

int lp_capfile_from_fd(int fd, const struct lp_inflate_limit *lim, struct lp_capfile *cf, char *err,
		       size_t errlen)
{
	struct src in = { .fd = fd };
	const struct codec *c;
	const char *other;
	struct stat st;
	off_t pos;
	int rc;

	memset(cf, 0, sizeof(*cf));
	if (fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s", strerror(EISDIR));
		return -EISDIR;
	}
	pos = lseek(fd, 0, SEEK_CUR);
	if (S_ISREG(st.st_mode) && st.st_size > 0 && pos >= 0 && pos < st.st_size) {
		/* Map the file; compressed, it is the decompressor's input. */
		rc = map_fd(fd, (size_t)st.st_size, cf, err, errlen);
		if (rc)
			return rc;
		in.mem = cf->data + pos;
		in.len = cf->size - (size_t)pos;
		c = codec_for(in.mem, in.len, &other);
		if (!c && !other) {
			cf->data = in.mem;
			cf->size = in.len;
			return 0;
		}
		if (other) {
			rc = unsupported(other, err, errlen);
		} else {
			struct lp_capfile out = { 0 };

			rc = spill(c, &in, lim, &out, err, errlen);
			lp_capfile_close(cf);
			*cf = out;
		}
		goto out;
	}
	in.buf = malloc(CHUNK);
	if (!in.buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = src_peek(&in, err, errlen);
	if (!rc) {
		c = codec_for(in.buf, in.pending, &other);
		rc = other ? unsupported(other, err, errlen) : spill(c, &in, lim, cf, err, errlen);
	}
	free(in.buf);
out:
	if (rc)
		lp_capfile_close(cf);
	return rc;
}

int lp_capfile_open(const char *path, struct lp_capfile *cf, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	memset(cf, 0, sizeof(*cf));
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		return rc;
	}
	rc = lp_capfile_from_fd(fd, NULL, cf, err, errlen);
	close(fd);
	return rc;
}

void lp_capfile_release(struct lp_capfile *cf, size_t upto)
{
	uintptr_t start, end;
	long page = sysconf(_SC_PAGESIZE);

	if (!cf->map || cf->maplen <= KEEP_MAX || upto < cf->released + RELEASE_STEP || page <= 0)
		return;
	/* Whole pages between what went before and upto, inside the mapping. */
	start = ((uintptr_t)cf->data + cf->released + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
	end = ((uintptr_t)cf->data + upto) & ~((uintptr_t)page - 1);
	if (start < (uintptr_t)cf->map)
		start = (uintptr_t)cf->map;
	if (end > start)
		madvise((void *)start, end - start, MADV_DONTNEED);
	cf->released = upto;
}

void lp_capfile_close(struct lp_capfile *cf)
{
	if (cf->map)
		munmap(cf->map, cf->maplen);
	memset(cf, 0, sizeof(*cf));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capfile: a capture's bytes as one range in memory, whatever it came as. A
 * regular file is mapped, not copied. Standard input (or any pipe) and
 * compressed data (gzip, xz, zstd, recognised by their magic bytes) are
 * written to an unlinked temporary file, which is then mapped: memory stays
 * constant however large the capture. Decompression is bounded against
 * decompression bombs.
 */
#ifndef TCPLIVEPLAY_CAPFILE_H
#define TCPLIVEPLAY_CAPFILE_H

#include <stddef.h>
#include <stdint.h>

/* Decompressed data may reach the larger of LP_INFLATE_FLOOR bytes and
 * LP_INFLATE_RATIO times the compressed bytes read; beyond, the input is
 * refused (-EFBIG) as a decompression bomb. */
#define LP_INFLATE_FLOOR (1ull << 30)
#define LP_INFLATE_RATIO 1000u

struct lp_inflate_limit {
	uint64_t floor;
	uint64_t ratio;
};

struct lp_capfile {
	const uint8_t *data;      /* the capture's bytes (decompressed) */
	size_t size;
	const char *compression;  /* "gzip", "xz", "zstd", or NULL */
	char error[160];          /* why decompression stopped before the end ("" when it did not):
				   * the bytes before are good */
	/* private */
	void *map;
	size_t maplen;
	size_t released;
};

/* Open the file at path; 0, or a negative errno with a message in err. */
int lp_capfile_open(const char *path, struct lp_capfile *cf, char *err, size_t errlen);

/* Read descriptor fd (not closed), a file or a pipe such as standard input,
 * from its current position. lim NULL: the defaults above. */
int lp_capfile_from_fd(int fd, const struct lp_inflate_limit *lim, struct lp_capfile *cf, char *err,
		       size_t errlen);

/* Bytes in memory, kept by the caller until lp_capfile_close(); compressed
 * ones are decompressed as above. */
int lp_capfile_from_mem(const void *p, size_t n, const struct lp_inflate_limit *lim, struct lp_capfile *cf,
			char *err, size_t errlen);

/* The bytes before offset upto are done with for now: in a big mapping their
 * pages may go (read again later, they fault back in). */
void lp_capfile_release(struct lp_capfile *cf, size_t upto);

void lp_capfile_close(struct lp_capfile *cf);

#endif

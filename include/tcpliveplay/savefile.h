/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Savefile: the records of a pcap or pcapng capture held in memory (a mapped
 * file, or decompressed bytes). A cursor walks the bytes, never past their
 * end, and stops at the first damage: every complete record before it is
 * read. pcapng in full: several sections in either byte order, each
 * interface with its own link type, time stamp resolution and offset;
 * enhanced, simple and obsolete packet blocks. Classic pcap in either byte
 * order, micro- or nanosecond, and the Kuznetzov variant.
 */
#ifndef TCPLIVEPLAY_SAVEFILE_H
#define TCPLIVEPLAY_SAVEFILE_H

#include <stddef.h>
#include <stdint.h>

/* Largest frame a record may hold (libpcap's bound for the link types read). */
#define LP_SAVEFILE_MAX_CAPLEN 262144u

struct lp_savefile;

/* One record (one captured frame). data points into the bytes given to
 * lp_savefile_open(). */
struct lp_record {
	const uint8_t *data;
	uint32_t caplen;    /* bytes of the frame in the file */
	uint32_t len;       /* bytes of the frame on the wire */
	uint64_t ts_ns;     /* nanoseconds since the epoch (if_tsoffset applied) */
	uint32_t number;    /* 1-based packet number, as Wireshark counts them */
	uint32_t iface;     /* interface index over the whole file (lp_savefile_iface) */
	int dlt;            /* the interface's link type, as a libpcap DLT_ value */
};

/* Start reading the n bytes at p (kept by the caller until close). A file
 * that is neither pcap nor pcapng, or whose file header is broken, is refused:
 * a negative errno and a message in err. */
int lp_savefile_open(const uint8_t *p, size_t n, struct lp_savefile **out, char *err, size_t errlen);

/* The next record: 1 and *r, or 0 at the end of the bytes or at the first
 * damage (see lp_savefile_damage), or -ENOMEM. */
int lp_savefile_next(struct lp_savefile *sf, struct lp_record *r);

/* What stopped the reading before the end: a message, the number the packet
 * there would have had and its byte offset; NULL when nothing did. */
const char *lp_savefile_damage(const struct lp_savefile *sf, uint32_t *packet, uint64_t *offset);

/* Bytes of the input the cursor has passed: no later record lies before. */
size_t lp_savefile_offset(const struct lp_savefile *sf);

/* Interfaces seen so far (all sections): their count, and each one's link
 * type (DLT_) and number of packets read. */
size_t lp_savefile_ninterfaces(const struct lp_savefile *sf);
void lp_savefile_iface(const struct lp_savefile *sf, size_t i, int *dlt, uint32_t *packets);

/* "pcap" or "pcapng". */
const char *lp_savefile_format(const struct lp_savefile *sf);

void lp_savefile_close(struct lp_savefile *sf);

#endif

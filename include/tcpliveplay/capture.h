/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture reader: a pcap or pcapng capture from a file, standard input or
 * memory, compressed or not, one parsed packet at a time. Every length is
 * checked: a capture is untrusted. Damage ends the reading where it starts,
 * every complete packet before it read (see struct lp_capture_stats).
 */
#ifndef TCPLIVEPLAY_CAPTURE_H
#define TCPLIVEPLAY_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct lp_capture;

/* TCP header flags, as on the wire. */
enum {
	LP_TH_FIN = 0x01,
	LP_TH_SYN = 0x02,
	LP_TH_RST = 0x04,
	LP_TH_PSH = 0x08,
	LP_TH_ACK = 0x10,
	LP_TH_URG = 0x20,
	LP_TH_ECE = 0x40,
	LP_TH_CWR = 0x80,
};

#define LP_MAX_SACK 4

/* TCP options that matter to a replay; anything else is counted, kept opaque. */
struct lp_tcpopts {
	bool has_mss, has_wscale, sack_ok, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	struct {
		uint32_t left, right;
	} sack[LP_MAX_SACK];
	uint8_t unknown;   /* options of a kind not parsed above */
	bool truncated;    /* the option list was cut by the capture length */
	bool malformed;    /* an option's length was impossible */
};

/* One TCP packet as parsed from the capture. Pointers refer to the reader's
 * buffer and are valid only until the next lp_capture_next() call. */
struct lp_tcppkt {
	int family;                 /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];   /* IPv4 uses the first 4 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	struct lp_tcpopts opts;
	const uint8_t *payload;
	uint32_t caplen;            /* payload bytes present in the capture */
	uint32_t len;               /* payload bytes on the wire (IP length) */
};

/* What lp_capture_next() and lp_parse_frame() found. */
enum lp_pkt_kind {
	LP_PKT_TCP = 1,    /* a TCP segment, see struct lp_tcppkt */
	LP_PKT_OTHER,      /* not TCP (ARP, UDP, ICMP, ...): counted and skipped */
	LP_PKT_FRAGMENT,   /* an IP fragment: not reassembled, reported */
	LP_PKT_BAD,        /* malformed: skipped with a warning (see why) */
	LP_PKT_UNREAD,     /* on a pcapng interface whose link type is not parsed: counted */
};

struct lp_rawpkt {
	uint32_t number;   /* 1-based packet number in the file */
	uint64_t ts_ns;    /* capture time, nanoseconds since the epoch */
	uint32_t caplen;   /* bytes of the frame present in the file */
	enum lp_pkt_kind kind;
	const char *why;   /* for LP_PKT_BAD and LP_PKT_FRAGMENT: a static reason */
	struct lp_tcppkt tcp;
};

/* Link types understood by lp_parse_frame() (libpcap DLT_ values). */
bool lp_linktype_supported(int dlt);

/* Parse one frame of link type dlt into out (its kind, why and tcp fields).
 * data holds the caplen bytes captured. The IP header's length is taken for
 * the length on the wire: what lies past caplen was cut by the snap length.
 * Pure: never reads past caplen, keeps no reference beyond data. */
void lp_parse_frame(int dlt, const uint8_t *data, uint32_t caplen, struct lp_rawpkt *out);

/* Parse an IP packet (version from its first nibble) into out. */
void lp_parse_ip(const uint8_t *data, uint32_t caplen, struct lp_rawpkt *out);

struct lp_inflate_limit;

/* Counters over the whole file, and what stopped the reading early. */
struct lp_capture_stats {
	uint32_t packets;     /* records read */
	uint32_t tcp;         /* TCP packets */
	uint32_t other;       /* not TCP */
	uint32_t fragments;   /* IP fragments, not reassembled */
	uint32_t malformed;   /* skipped with a warning */
	uint32_t unread;      /* on interfaces of a link type not parsed */
	int linktype;         /* the first interface's link type parsed (DLT_), -1 without any */
	char linktype_name[96];  /* the parsed link types' names joined by '+', "none" */
	char unread_names[64];   /* the link types not parsed, joined by '+' */
	uint32_t damaged_at;  /* 0, or the number the packet where damage stopped the reading had */
	char damage[256];     /* what is wrong there */
};

/* Open a capture (pcap or pcapng, maybe gzip, xz or zstd compressed). On
 * failure returns a negative errno and writes a message into err (size
 * errlen); *out is set to NULL. -EFBIG: a decompression bomb. */
int lp_capture_open(const char *path, struct lp_capture **out, char *err, size_t errlen);

/* The same from descriptor fd (standard input, a pipe), not closed. */
int lp_capture_open_fd(int fd, struct lp_capture **out, char *err, size_t errlen);

/* The same from n bytes at p, kept by the caller until close; lim bounds
 * decompression (NULL: the defaults of capfile.h). */
int lp_capture_open_mem(const void *p, size_t n, const struct lp_inflate_limit *lim, struct lp_capture **out,
			char *err, size_t errlen);

/* Read the next packet. Returns 1 and fills pkt, 0 at the end of the file
 * or at its first damage (see lp_capture_stats), or -ENOMEM. */
int lp_capture_next(struct lp_capture *cap, struct lp_rawpkt *pkt);

/* The counters so far; once lp_capture_next() returned 0, the link types
 * and damage too. */
void lp_capture_stats(struct lp_capture *cap, struct lp_capture_stats *st);

/* The process is about to exit: lp_capture_close() leaves the file mapped,
 * for the address space to take with it (in the release helper that shares
 * it, when there is one: lp_release_helper()), so that the exit does not
 * wait for the unmapping (2 ms for 100 MiB). */
void lp_capture_keep_mapped(struct lp_capture *cap);

void lp_capture_close(struct lp_capture *cap);

#endif

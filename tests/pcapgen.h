/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcapgen: writes small captures for the tests through libpcap's own dumper
 * (pcap_open_dead + pcap_dump), in any link type the reader supports. A
 * conversation is described as an array of struct pg_pkt, one per captured
 * packet, with sequence numbers relative to each side's ISN so that a test
 * reads like a Wireshark listing. Fields left zero take sane defaults; a few
 * override fields write deliberately broken headers.
 */
#ifndef TCPLIVEPLAY_TESTS_PCAPGEN_H
#define TCPLIVEPLAY_TESTS_PCAPGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Direction of a packet. */
enum { PG_C = 0, PG_S = 1 };

/* TCP flags (same values as on the wire). */
enum {
	PG_FIN = 0x01, PG_SYN = 0x02, PG_RST = 0x04, PG_PSH = 0x08, PG_ACK = 0x10,
	PG_SA = PG_SYN | PG_ACK, PG_PA = PG_PSH | PG_ACK, PG_FA = PG_FIN | PG_ACK,
};

/* Framings. */
enum pg_link {
	PG_ETH,       /* Ethernet II */
	PG_VLAN,      /* Ethernet + one 802.1Q tag */
	PG_QINQ,      /* Ethernet + 802.1ad outer tag + 802.1Q inner tag */
	PG_SLL,       /* Linux cooked v1 */
	PG_SLL2,      /* Linux cooked v2 */
	PG_RAW,       /* raw IP (LINKTYPE_RAW) */
	PG_NULL,      /* BSD loopback, AF in little-endian host order */
	PG_NULL_BE,   /* BSD loopback, AF in big-endian host order */
	PG_LOOP,      /* OpenBSD loopback, AF in network order */
	PG_NLINKS
};

/* IPv6 extension headers placed before the upper layer (PG_X_*, any mix). */
enum {
	PG_X_HBH = 1,   /* hop-by-hop options, 8 bytes */
	PG_X_DST = 2,   /* destination options, 16 bytes */
	PG_X_RT = 4,    /* routing header type 2, 24 bytes */
	PG_X_AH = 8,    /* authentication header, 24 bytes */
};

/* The two endpoints of a conversation and how their IP headers look. */
struct pg_conv {
	int family;              /* AF_INET (default) or AF_INET6 */
	const char *caddr;       /* default 198.18.0.1 or 2001:db8::1 */
	const char *saddr;       /* default 198.18.0.2 or 2001:db8::2 */
	uint16_t cport, sport;   /* default 40000 and 80 */
	uint32_t cisn, sisn;     /* sequence numbers of each side's SYN */
	uint8_t ip4_optlen;      /* bytes of IPv4 options (multiple of 4, <= 40) */
	unsigned ip6_ext;        /* PG_X_* */
};

/* One captured packet. seq counts from the sender's ISN (its SYN is 0, its
 * first data byte 1), ack from the peer's ISN. */
struct pg_pkt {
	int dir;                 /* PG_C or PG_S */
	uint8_t flags;           /* PG_* TCP flags */
	uint32_t seq, ack;
	const char *data;        /* payload or NULL */
	uint32_t len;            /* payload bytes; 0 with data set: strlen(data) */
	const char *opts;        /* raw TCP option bytes (EOL-padded to 4) */
	uint8_t optlen;
	uint16_t window;         /* 0: 64240 (zero_window: 0) */
	bool zero_window;        /* a window of 0 */
	uint32_t cut;            /* payload bytes the capture lost at the end */
	uint32_t snap;           /* when nonzero: frame bytes captured */
	uint64_t ts;             /* capture time in ns; 0: previous + 1 ms */
	/* Overrides for broken or non-TCP packets (0: normal). */
	uint8_t proto;           /* IP protocol; not TCP: the payload follows IP */
	uint16_t ethertype;      /* not IP: the payload is the whole L3 packet */
	uint16_t frag;           /* IPv4 flags+offset field (0x2000 = MF); IPv6:
				  * a fragment header with the same encoding */
	uint8_t ihl;             /* IPv4 header length in words */
	uint8_t doff;            /* TCP data offset in words */
	int32_t iplen;           /* IPv4 total / IPv6 payload length; -1: zero */
	bool absolute;           /* seq and ack are absolute, not relative */
};

struct pg_file;

/* Open a capture for writing: link type from link, nanosecond time stamps
 * unless micro is set. NULL on failure (message on stderr). */
struct pg_file *pg_open(const char *path, enum pg_link link, bool micro);

/* AF value of IPv6 in PG_NULL / PG_NULL_BE / PG_LOOP headers (24, 28 or 30). */
void pg_set_af6(struct pg_file *f, uint32_t af);

/* Append one packet of conversation c. 0 or -1. */
int pg_put(struct pg_file *f, const struct pg_conv *c, const struct pg_pkt *p);
int pg_put_all(struct pg_file *f, const struct pg_conv *c, const struct pg_pkt *p, size_t n);

/* Append a frame as given: caplen bytes captured of len on the wire. */
int pg_put_frame(struct pg_file *f, const uint8_t *frame, uint32_t caplen, uint32_t len);

/* Flush and close; 0 or -1. Accepts NULL. */
int pg_close(struct pg_file *f);

/* One conversation into one file. 0 or -1. */
int pg_write(const char *path, enum pg_link link, const struct pg_conv *c,
	     const struct pg_pkt *p, size_t n);

/* Build the L3 packet (IP header, TCP header, payload) of p into buf.
 * Returns its length on the wire (the bytes written), 0 if buf is too small. */
size_t pg_build_ip(const struct pg_conv *c, const struct pg_pkt *p, uint8_t *buf, size_t size);

/* Build the whole frame of p in link framing. Returns the length on the wire;
 * *caplen gets the bytes the capture keeps (cut and snap applied). */
size_t pg_build_frame(enum pg_link link, uint32_t af6, const struct pg_conv *c,
		      const struct pg_pkt *p, uint8_t *buf, size_t size, uint32_t *caplen);

/* Link-header bytes pg_build_frame puts in front of an IP packet. */
size_t pg_link_hlen(enum pg_link link);

/* libpcap DLT_ value of a framing, and a short name for messages. */
int pg_dlt(enum pg_link link);
const char *pg_link_name(enum pg_link link);

/* --- pcapng, written byte by byte (libpcap's dumper writes pcap only) --- */

/* Packet blocks. */
enum pg_block { PG_EPB, PG_SPB, PG_PB };

struct pg_ng;

/* Open a pcapng file: its first section header, in big-endian order when be
 * is set. NULL on failure (message on stderr). */
struct pg_ng *pg_ng_open(const char *path, bool be);

/* Start another section (its interfaces are numbered from 0 again). */
int pg_ng_section(struct pg_ng *f, bool be);

/* Describe an interface of framing link: time stamps in units of 10^-res
 * seconds (res with bit 7 set: 2^-(res & 0x7f)), res 0 leaving if_tsresol
 * out (microseconds); tsoffset seconds added to every time stamp (0: no
 * if_tsoffset). Returns its number in the section, or -1. */
int pg_ng_iface(struct pg_ng *f, enum pg_link link, uint8_t res, int64_t tsoffset);

/* The same for a link type pcapgen does not frame (a LINKTYPE_ value). */
int pg_ng_iface_raw(struct pg_ng *f, uint16_t linktype, uint32_t snaplen);

/* Append packet p of conversation c on interface iface as a block of kind
 * kind. p->ts (ns since the epoch, 0: previous + 1 ms) is written in the
 * interface's units. 0 or -1. */
int pg_ng_put(struct pg_ng *f, int iface, enum pg_block kind, const struct pg_conv *c, const struct pg_pkt *p);

/* Append a frame as given in an enhanced packet block. */
int pg_ng_put_frame(struct pg_ng *f, int iface, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t len);

/* Append any block: type and body (padded to 4 bytes here). */
int pg_ng_block(struct pg_ng *f, uint32_t type, const void *body, size_t n);

int pg_ng_close(struct pg_ng *f);

/* --- Compression ------------------------------------------------------- */

enum pg_comp { PG_GZIP, PG_XZ, PG_ZSTD, PG_NCOMP };

/* n bytes at in compressed into a new buffer (free() it) of *outlen bytes;
 * NULL on failure. */
uint8_t *pg_compress(enum pg_comp kind, const void *in, size_t n, size_t *outlen);

/* The file at path compressed into the file at out. 0 or -1. */
int pg_compress_file(enum pg_comp kind, const char *path, const char *out);

const char *pg_comp_name(enum pg_comp kind);

/* A whole file into a new buffer (free() it); NULL on failure. */
uint8_t *pg_read_file(const char *path, size_t *n);

/* A fresh directory under parent (NULL: $TMPDIR, or /tmp), and its removal
 * with everything inside. pg_tmpdir returns NULL on failure. */
char *pg_tmpdir(const char *parent, char *buf, size_t len);
void pg_rmdir(const char *dir);

/* dir/name into buf. */
const char *pg_path(char *buf, size_t len, const char *dir, const char *name);

#endif

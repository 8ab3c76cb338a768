/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flow model: every TCP connection of a capture, each direction's byte stream
 * rebuilt from the sequence numbers, and the segment schedule the engine
 * replays: {direction, stream offset, length, flags, peer offset acknowledged,
 * capture time}.
 */
#ifndef TCPLIVEPLAY_FLOW_H
#define TCPLIVEPLAY_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpliveplay/capture.h"

enum lp_dir {
	LP_C2S = 0,   /* client to server */
	LP_S2C = 1,   /* server to client */
};

struct lp_endpoint {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

/* The options one side offered in its SYN (or SYN-ACK). */
struct lp_synopts {
	bool seen;           /* a SYN from this side was captured */
	bool has_mss, has_wscale, sack_ok, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint16_t window;     /* the SYN's window field (never scaled) */
	uint32_t tsval;
};

/* Bytes of a stream that the capture does not hold. */
struct lp_hole {
	uint64_t offset, len;
};

/* A run of a stream's bytes: len bytes from stream offset off, where the
 * capture holds them (p points into the mapped capture), or a hole (p NULL:
 * not captured, read as zeros). Streams are shorter than 2^31 bytes. */
struct lp_extent {
	uint32_t off, len;
	const uint8_t *p;
};

/* One direction of a connection. Offsets count from the first byte after the
 * SYN (sequence number ISN + 1). Its bytes are read with lp_stream_*(). */
struct lp_stream {
	struct lp_extent *ext;   /* in order, covering [0, len) exactly */
	size_t next;
	uint64_t len;            /* stream length (the FIN's offset when seen) */
	uint32_t isn;            /* sequence number of the SYN (or inferred) */
	bool isn_from_syn;       /* isn comes from a captured SYN / SYN-ACK */
	bool syn, fin, rst;      /* flags seen in this direction */
	uint32_t packets;        /* packets captured in this direction */
	uint32_t data_packets;   /* of which carried payload */
	uint32_t retransmissions;/* data packets that held no new bytes */
	uint32_t conflicts;      /* retransmitted bytes that differed */
	uint64_t wire_bytes;     /* payload bytes as the IP headers count them */
	struct lp_hole *holes;
	size_t nholes;
	uint64_t hole_bytes;
	struct lp_synopts opts;
};

/* One replayable step. Data segments are labelled 1, 2, ... per direction in
 * stream order (C1, C2, ... and S1, S2, ... as --dump prints them). 32 bytes:
 * a capture holds one per data packet. */
struct lp_segment {
	uint64_t ts_ns;      /* capture time */
	uint32_t offset;     /* stream offset of the first byte (or of the FIN) */
	/* Peer stream bytes this side had received when it sent this: the causal
	 * link. Never more than the peer had sent earlier in segs[]; peer length + 1
	 * when this side had also received the peer's FIN. */
	uint32_t ack;
	uint32_t len;        /* payload bytes */
	uint32_t packet;     /* packet number in the capture file */
	uint32_t label;      /* 1-based data-segment label, 0 for SYN/FIN/RST only */
	uint8_t dir;         /* enum lp_dir */
	uint8_t flags;       /* LP_TH_* as captured */
};

/* What went wrong on the captured wire, in capture order: the material of
 * --fault captured (faultcap.h). dir is the direction of the packet that
 * shows it; offsets are in that direction's stream. */
enum lp_incident_kind {
	LP_INC_RETRANSMIT = 1,  /* bytes from offset sent again, not acknowledged before */
	LP_INC_LATE,            /* new bytes at offset after later ones, once the peer's
				 * duplicate ACKs asked for them (lost before the capture point) */
	LP_INC_DUPLICATE,       /* a data packet captured twice, unchanged, at offset */
	LP_INC_ZERO_WINDOW,     /* the sender advertised a zero window for dur_ns, having
				 * received offset bytes of the peer's stream */
	LP_INC_RESET,           /* a reset at offset */
};

struct lp_incident {
	uint8_t kind, dir;
	uint32_t packet;     /* the packet that shows it */
	uint64_t offset;
	uint64_t ts_ns, dur_ns;
};

/* Notes on how a flow was understood; printed by --list. */
enum {
	LP_NOTE_NO_SYN        = 1u << 0,  /* the client's SYN was not captured */
	LP_NOTE_NO_SYNACK     = 1u << 1,  /* the server's SYN-ACK was not captured */
	LP_NOTE_REORDERED_HS  = 1u << 2,  /* SYN-ACK captured before the SYN */
	LP_NOTE_MIDSTREAM     = 1u << 3,  /* no handshake: sequence origins inferred */
	LP_NOTE_CLIENT_BY_PORT= 1u << 4,  /* client guessed as the higher port */
	LP_NOTE_TRUNCATED     = 1u << 5,  /* payload cut by the snap length */
	LP_NOTE_CONFLICT      = 1u << 6,  /* retransmitted bytes differed */
	LP_NOTE_REORDERED     = 1u << 7,  /* data captured out of order */
	LP_NOTE_OUT_OF_WINDOW = 1u << 8,  /* packets far outside the stream ignored */
	LP_NOTE_TFO           = 1u << 9,  /* data in the SYN (TCP Fast Open) */
	LP_NOTE_RESTARTED     = 1u << 10, /* an aborted handshake's packets ignored */
};

struct lp_flow {
	unsigned id;                 /* 1-based, in order of first packet */
	struct lp_endpoint client, server;
	struct lp_stream dir[2];     /* indexed by enum lp_dir */
	struct lp_segment *segs;     /* capture order; per direction, stream order */
	size_t nsegs;
	uint32_t ndata[2];           /* data segments per direction (last label) */
	uint32_t packets;            /* packets of this flow in the capture */
	uint32_t first_packet;       /* packet number of its first packet */
	uint64_t first_ts, last_ts;
	unsigned notes;              /* LP_NOTE_* */
	struct lp_incident *incidents;  /* the first LP_INCIDENTS_MAX, capture order */
	size_t nincidents;
};

#define LP_INCIDENTS_MAX 65536

struct lp_flows;

/* Called for each skipped packet (malformed, fragment), for the CLI to print. */
typedef void (*lp_warn_fn)(void *ctx, uint32_t packet, const char *what);

/* Read a whole capture and build every flow. Returns 0, or a negative errno
 * with a message naming the packet in err (size errlen). *out is NULL on failure.
 * The capture stays mapped until lp_flows_free(): the streams point into it. */
int lp_flows_load(const char *path, lp_warn_fn warn, void *ctx, struct lp_flows **out,
		  char *err, size_t errlen);

/* The same from a reader opened by the caller; takes ownership of cap. */
int lp_flows_load_capture(struct lp_capture *cap, lp_warn_fn warn, void *ctx,
			  struct lp_flows **out, char *err, size_t errlen);

size_t lp_flows_count(const struct lp_flows *f);
/* The flow numbered id (1-based), or NULL. */
const struct lp_flow *lp_flows_get(const struct lp_flows *f, unsigned id);
const struct lp_capture_stats *lp_flows_stats(const struct lp_flows *f);

/* Pick one flow: sel is NULL (the only flow), a number from --list, or
 * ADDR:PORT-ADDR:PORT in either order ([v6]:port for IPv6). Returns 0 and sets
 * *out, -ENOENT when nothing matches, -EINVAL for a malformed selector,
 * -ENOTUNIQ when sel is NULL and the capture holds several flows or -ENODATA
 * when it holds none, -EADDRINUSE when a 4-tuple names several flows (ports
 * reused). */
int lp_flows_select(const struct lp_flows *f, const char *sel, const struct lp_flow **out);

/* Does sel name several flows: "all", or flow numbers and ranges joined by
 * commas ("1,3,5-9")? */
bool lp_flows_sel_is_list(const char *sel);

/* The flows sel names, in capture order without repeats, as a new array
 * (free() it) in *out and its length in *n. sel is "all", a list as above,
 * or anything lp_flows_select() takes (one flow). 0, -EINVAL for a malformed
 * list, -ENOENT for a number beyond the capture, -ENOMEM, and the errors of
 * lp_flows_select(). */
int lp_flows_select_many(const struct lp_flows *f, const char *sel, const struct lp_flow ***out,
			 size_t *n);

/* lp_flows_free() for a process about to exit: the capture stays mapped,
 * for the address space to take with it (lp_capture_keep_mapped()). */
void lp_flows_free_at_exit(struct lp_flows *f);

void lp_flows_free(struct lp_flows *f);

/* Where stream offset off lies: a pointer to its byte and *n, how many bytes
 * follow it there contiguously; NULL in a hole (*n bytes of it). *n is 0 at or
 * past the end. */
const uint8_t *lp_stream_at(const struct lp_stream *st, uint64_t off, uint64_t *n);

/* Copy n bytes from offset off to dst: bytes in holes, or past the end, are zero. */
void lp_stream_copy(const struct lp_stream *st, uint64_t off, uint64_t n, uint8_t *dst);

/* The first offset from off at which p[0, n) differs from the stream, or -1.
 * Bytes in holes match anything; bytes past the end differ. */
int64_t lp_stream_diff(const struct lp_stream *st, uint64_t off, const uint8_t *p, uint64_t n);

/* Write the whole stream to path (created or truncated, mode 0644), holes as
 * zeros. 0 or -errno. */
int lp_stream_write(const struct lp_stream *st, const char *path);

/* The first hole of either stream (client first), or false if none. */
bool lp_flow_first_hole(const struct lp_flow *fl, enum lp_dir *dir, struct lp_hole *hole);

/* Was the connection refused? The client's SYN (and its retransmissions:
 * nothing else from the client, so no ACK of a SYN-ACK the capture missed),
 * no SYN-ACK, the server's reset, and no byte either way: what a host
 * without a listener on the port answers (RFC 9293 3.10.7.1). */
bool lp_flow_refused(const struct lp_flow *fl);

/* An IPv4 or IPv6 address in text into ep (port 0). 0 or -EINVAL. */
int lp_addr_parse(const char *s, struct lp_endpoint *ep);

/* "ADDR:PORT" or "[ADDR]:PORT" into buf. */
const char *lp_endpoint_str(const struct lp_endpoint *ep, char *buf, size_t len);

/* Flow notes as a comma-separated list into buf ("" when none). */
const char *lp_flow_notes_str(unsigned notes, char *buf, size_t len);

#endif

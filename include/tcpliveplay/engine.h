/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replay engine: a sans-I/O TCP endpoint whose application is one side of a
 * captured flow. It never reads a clock, a socket or a file: packets go in
 * through lp_engine_input(), come out of lp_engine_output(), and the caller
 * wakes it at lp_engine_next_timer(). Packets are whole IPv4/IPv6 datagrams.
 */
#ifndef TCPLIVEPLAY_ENGINE_H
#define TCPLIVEPLAY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"
#include "tcpliveplay/pkt.h"

struct lp_engine;
struct lp_fault_plan;
struct lp_schedule;

enum lp_role {
	LP_ROLE_CLIENT = 0,   /* plays the flow's client: sends the SYN */
	LP_ROLE_SERVER = 1,   /* plays the flow's server: answers the SYN */
};

enum lp_match {
	LP_MATCH_STREAM = 0,  /* the peer delivers at least the captured byte count */
	LP_MATCH_SIZE,        /* each peer message has the captured byte count */
	LP_MATCH_BYTES,       /* the peer's bytes equal the captured ones */
};

enum lp_timing_mode {
	LP_TIMING_ASAP = 0,   /* send as soon as the causal link allows */
	LP_TIMING_CAPTURE,    /* keep the captured think-times, divided by speed */
};

struct lp_timing {
	enum lp_timing_mode mode;
	double speed;         /* LP_TIMING_CAPTURE: 1.0 = as captured, 2.0 = twice as fast */
};

enum lp_engine_state {
	LP_ENGINE_RUNNING = 0,
	LP_ENGINE_DONE,       /* both streams complete */
	LP_ENGINE_FAILED,     /* reset, unresponsive peer, divergence that ends the replay */
};

enum lp_event_kind {
	LP_EV_CONNECTED = 1,  /* handshake complete */
	LP_EV_SENT,           /* a captured data segment released (first transmission) */
	LP_EV_RECEIVED,       /* new in-order bytes from the peer */
	LP_EV_EXPECT_MET,     /* the peer delivered what a captured segment waited for */
	LP_EV_RETRANSMIT,     /* a retransmission (timeout or probe) */
	LP_EV_DIVERGENCE,     /* the peer's stream differs from the capture */
	LP_EV_FIN_SENT,
	LP_EV_FIN_RECEIVED,
	LP_EV_RST_SENT,
	LP_EV_DONE,
	LP_EV_FAILED,
	LP_EV_FAULT,          /* a fault of the plan fired */
	LP_EV_ICMP,           /* an ICMP error about the connection taken (reason: which) */
	LP_EV_ICMP_IGNORED,   /* an ICMP error not taken (reason: which, and why not) */
	LP_EV_PMTU,           /* segments made smaller (len: the path MTU; reason: why) */
	LP_EV_TIMER,          /* a timer fired (reason: which): for debugging output */
};

/* One event. label is a data-segment label (1-based) of direction dir, 0 when
 * none; reason is a static string or NULL. */
struct lp_event {
	enum lp_event_kind kind;
	enum lp_role role;        /* which engine reports it */
	uint64_t now_ns;
	uint8_t dir;              /* enum lp_dir of label */
	uint32_t label;
	uint64_t offset, len;     /* stream range concerned */
	uint64_t expected, received;
	int64_t first_diff;       /* LP_EV_DIVERGENCE, LP_MATCH_BYTES: stream offset, else -1 */
	const char *reason;
};

typedef void (*lp_event_fn)(void *ctx, const struct lp_event *ev);

struct lp_engine_cfg {
	enum lp_role role;
	struct lp_endpoint local, remote;  /* same family; client: local.port is the fresh port */
	uint32_t isn;                      /* initial sequence number (from the seeded rng) */
	enum lp_match match;
	struct lp_timing timing;
	unsigned rto_min_ms;               /* RTO floor (RFC 6298 says 1000, we default to 200) */
	unsigned rto_init_ms;              /* RTO before the first RTT sample */
	unsigned retries;                  /* retransmissions of one segment before giving up */
	unsigned rto_jitter_pct;           /* each retransmission timer lengthened by a random
					    * 0 to this % of it (0: none; at most 100) */
	uint64_t rto_jitter_seed;          /* seeds that jitter */
	unsigned expect_timeout_ms;        /* the patience: how long the peer may stay silent while
					    * we wait for its bytes; then a failure (nothing of that
					    * answer came) or a divergence (part of it came); 0: no
					    * limit (the caller's timeout decides) */
	unsigned keepalive_ms;             /* while waiting, a keepalive after this much silence,
					    * retries of them unanswered fail; 0: none */
	uint64_t ts_origin_ns;             /* TSval clock: TSval = ts_base + (now - origin) / 1 ms */
	uint32_t ts_base;
	uint16_t mss;                      /* our MSS; 0 = the captured one or 1460 (1440 IPv6) */
	uint32_t rcv_wnd;                  /* our receive buffer in bytes; 0 = a sixteenth of the
					    * peer's captured stream, 256 KiB to 8 MiB */
	unsigned pmtu;                     /* the path MTU known at the start (the route's, a
					    * cached PMTU); 0: unknown. Segments fit it. */
	struct lp_fault_plan *faults;      /* application (truncate, rst, stall) and window faults
					    * (zero-window, window) of our side, or NULL */
	const struct lp_schedule *schedule; /* the flow's schedule for this role, built once by
					    * lp_schedule_new() and shared by the engines of that
					    * side (it must outlive them); NULL: the engine builds
					    * its own */
	lp_event_fn on_event;
	void *ctx;
};

struct lp_engine_stats {
	uint64_t sent_segments, sent_bytes;          /* data segments and payload, incl. retransmissions */
	uint64_t received_segments, received_bytes;  /* data segments, new in-order bytes */
	uint64_t expected_received_bytes;            /* what the capture shows from the peer */
	uint64_t retransmissions;
	uint64_t packets_out, packets_in, packets_ignored;
	bool connected;            /* the handshake completed */
	bool peer_reset;           /* the peer reset the connection (an acceptable RST) */
	uint64_t acked_bytes;      /* of our stream, acknowledged by the peer */
	int64_t first_diff;        /* first received byte that differs from the capture, or -1 */
	uint32_t ndivergences;
	uint64_t icmp_accepted;    /* ICMP errors about the connection taken */
	uint64_t icmp_ignored;     /* ICMP errors not taken (another connection, out of window) */
	unsigned path_mtu;         /* the path MTU now (0: unknown) */
	unsigned path_mtu_start;   /* cfg.pmtu */
	bool mtu_blackhole;        /* segments were made smaller after timeouts without ICMP */
};

/* One divergence the engine found; lp_engine_divergence() lists them. */
struct lp_divergence {
	uint8_t dir;             /* direction of the segment label */
	uint32_t label;          /* 0 when not tied to a segment */
	uint64_t expected, received;
	int64_t first_diff;      /* stream offset of the first differing byte, or -1 */
	const char *reason;      /* static */
	uint64_t at_ns;          /* when it was found */
};

/* Defaults: stream match, asap, RTO floor 200 ms, initial 1000 ms, 6 retries,
 * patience 10 s, no keepalives. Roles, addresses and ISN are the caller's. */
void lp_engine_cfg_defaults(struct lp_engine_cfg *cfg);

/* The captured schedule of one side (role) of fl: the segments that side
 * releases, in order, with their think-times and causal links, and the
 * peer's data segments. It depends on the flow and the role only: built
 * once (a walk over every segment of the flow), it serves any number of
 * engines of that side, read-only (lp_engine_cfg.schedule), so that an
 * engine starts without walking the flow. fl must outlive it. 0, -EINVAL,
 * -ENOMEM; *out is set only on success. */
int lp_schedule_new(const struct lp_flow *fl, enum lp_role role, struct lp_schedule **out);
/* Accepts NULL. */
void lp_schedule_free(struct lp_schedule *sc);

/* Build an engine for one side of fl. fl must outlive the engine (stream bytes
 * are referenced, not copied). Returns 0, -EINVAL for a bad config (also a
 * cfg->schedule of another flow or role), -ENOMEM. */
int lp_engine_new(const struct lp_flow *fl, const struct lp_engine_cfg *cfg, struct lp_engine **out);
void lp_engine_free(struct lp_engine *e);

/* Feed one received IP packet: a TCP segment, or an ICMP or ICMPv6 error
 * quoting one of ours (RFC 5927 checks: the quoted 4-tuple is ours, its
 * sequence number within SND.UNA..SND.NXT). Packets not for our 4-tuple,
 * malformed or out of window are counted and ignored. Returns 0, or -EINVAL
 * for a packet that is neither (also ignored). */
int lp_engine_input(struct lp_engine *e, const uint8_t *pkt, size_t len, uint64_t now_ns);

/* lp_engine_input() of a packet the receive path vouches for with flags
 * (LP_RX_*, pkt.h): its checksum checked, or cut after its TCP header (its
 * payload counted, not compared: ignored under LP_MATCH_BYTES). */
int lp_engine_input_rx(struct lp_engine *e, const uint8_t *pkt, size_t len, unsigned flags,
		       uint64_t now_ns);

/* Write the next packet to send into buf. Returns its length, 0 when nothing
 * is due now, or -ENOBUFS when cap is too small or -ENOMEM (the packet stays
 * queued). */
int lp_engine_output(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t now_ns);

/* As lp_engine_output(), for a link with segmentation offload (GSO): new
 * data may go as one TCP super-segment of up to max_segs full-sized
 * segments (struct lp_gso, pkt.h, in *g; g->seg_len 0: a plain packet),
 * which the link cuts into wire segments after one send. Those wire
 * segments are the ones lp_engine_output() would have returned one by one
 * (the same sequence numbers, payload, options and timestamps; PSH only on
 * the last). Retransmissions, window probes and segments carrying SACK
 * blocks stay plain. max_segs 0 or 1: lp_engine_output(). A packet's fault
 * plan acts per wire packet: a caller with wire or path faults on its own
 * side asks for plain packets. */
int lp_engine_output_gso(struct lp_engine *e, uint8_t *buf, size_t cap, uint64_t now_ns,
			 unsigned max_segs, struct lp_gso *g);

/* What the fault plan needs to know of a packet (struct lp_fault_pkt). */
struct lp_pktinfo {
	uint32_t first, last;      /* the data segments it fires by-segment faults for, 0 0: none */
	uint32_t label;            /* the data segment it carries the first byte of, 0: none */
	uint64_t seq_off, ack_off; /* offsets in the sender's and the receiver's stream (32 bits) */
	uint32_t len;
	uint8_t flags;
};

/* The packet last returned by lp_engine_output(): first..last are our data
 * segments whose first byte it carried on its first transmission (several
 * when small segments went together). */
void lp_engine_output_info(const struct lp_engine *e, struct lp_pktinfo *pi);

/* A packet about to be fed to lp_engine_input(): first..last are the peer's
 * captured data segments it carries any byte of (the peer may segment its
 * stream otherwise than the capture shows). 0, or -EINVAL for a packet that
 * is not a well-formed TCP segment (lp_engine_input() ignores it). */
int lp_engine_input_info(const struct lp_engine *e, const uint8_t *pkt, size_t len,
			 struct lp_pktinfo *pi);

/* Absolute time of the next timer, or UINT64_MAX. */
uint64_t lp_engine_next_timer(const struct lp_engine *e);

/* Run the timers due at now_ns. */
void lp_engine_timeout(struct lp_engine *e, uint64_t now_ns);

/* The replay ends early (timeout, signal, idle session): a connection still
 * open gets a reset (RFC 9293 3.10.5 ABORT), which lp_engine_output() then
 * returns; nothing else goes out and no timer runs. The state and its
 * verdict stay as they are. An engine that failed on its own (peer
 * unresponsive) queues its reset by itself. */
void lp_engine_abort(struct lp_engine *e, uint64_t now_ns);

enum lp_engine_state lp_engine_state(const struct lp_engine *e);
/* What a running engine waits for, as text into buf ("waiting for S2:
 * expected 1226 bytes, received 202", "waiting for the handshake"...), or
 * NULL when nothing: for the report of a run cut short. */
const char *lp_engine_awaits(const struct lp_engine *e, char *buf, size_t len);
enum lp_role lp_engine_role(const struct lp_engine *e);
/* Why the engine failed (valid while the engine lives), or NULL. */
const char *lp_engine_reason(const struct lp_engine *e);
/* The last ICMP error taken ("ICMP destination unreachable (port
 * unreachable) from 198.18.0.2"), or NULL. */
const char *lp_engine_icmp_error(const struct lp_engine *e);
void lp_engine_stats(const struct lp_engine *e, struct lp_engine_stats *st);
/* Divergence i (0-based) or NULL. */
const struct lp_divergence *lp_engine_divergence(const struct lp_engine *e, uint32_t i);

/* The MSS to offer: the one the captured SYN options so offered (1460, or
 * 1440 over IPv6, when none), no more than an interface of this MTU carries
 * (a capture from loopback offers 65495). */
uint16_t lp_engine_pick_mss(const struct lp_synopts *so, int family, unsigned mtu);

/* Parsers for the CLI: "stream|size|bytes" and "asap|capture|xN". 0 or -EINVAL. */
int lp_match_parse(const char *s, enum lp_match *out);
int lp_timing_parse(const char *s, struct lp_timing *out);
const char *lp_match_str(enum lp_match m);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault plan: misbehaviour injected on purpose, tied to the flow's timeline.
 * Spec "[client:|server:]KIND[:ARGS]", repeatable; without a side prefix the
 * fault applies to the server. The side is the one whose packets (or whose
 * window) misbehave. SEG is a data-segment label as --dump prints it, C<n> or
 * S<n> (a bare number n is the side's own, or for zero-window the peer's).
 *   drop:SEG  dup:SEG  delay:SEG:MS  reorder:SEG  corrupt:SEG   (on the wire)
 *   truncate:SEG:BYTES  rst:SEG  stall:SEG                      (in the engine)
 *   loss:P%  dup:P%  reorder:P%                                 (every packet)
 *   zero-window:SEG:MS  window:BYTES                            (the side's window)
 *   mtu:BYTES  unreachable:SEG|syn[:CODE]                        (the path: ICMP errors)
 * truncate keeps only the first BYTES bytes of the segment (the application
 * wrote fewer bytes); rst sends a reset instead of the segment; stall stops
 * the side's application from that segment on. Wire faults by segment fire on
 * the first transmission carrying the segment's first byte; a program that
 * only receives the side's packets (a live replay for the server's, the
 * responder for the client's) fires them on the first arriving packet that
 * carries any byte of the segment. zero-window:SEG:MS closes the side's
 * receive window once the peer's segment SEG is in, for MS; window:BYTES
 * never advertises more than BYTES. Probabilistic faults act on packets that
 * carry data, a SYN or a FIN, and decide per packet from the seed and what
 * it carries (its sequence offsets and the how-many-th such packet it is),
 * not from the order of packets. mtu answers each packet of the side longer
 * than BYTES with fragmentation needed / packet too big announcing BYTES (a
 * smaller-MTU hop); unreachable answers segment SEG (or the side's first
 * SYN) with a destination unreachable of CODE, the family's own code number
 * (default: administratively prohibited). Either packet goes no further.
 */
#ifndef TCPLIVEPLAY_FAULT_H
#define TCPLIVEPLAY_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/flow.h"

struct lp_fault_plan;
struct lp_fault_keys;

enum lp_fault_kind {
	LP_FAULT_NONE = 0,
	LP_FAULT_DROP,
	LP_FAULT_DUP,
	LP_FAULT_DELAY,
	LP_FAULT_REORDER,
	LP_FAULT_TRUNCATE,
	LP_FAULT_CORRUPT,
	LP_FAULT_RST,
	LP_FAULT_STALL,
	LP_FAULT_LOSS_P,
	LP_FAULT_DUP_P,
	LP_FAULT_REORDER_P,
	LP_FAULT_ZERO_WINDOW,
	LP_FAULT_WINDOW,
	LP_FAULT_MTU,
	LP_FAULT_UNREACH,
};

/* Which side's packets a fault affects (the side that sends them). */
enum lp_fault_side {
	LP_FAULT_CLIENT = 0,
	LP_FAULT_SERVER = 1,
};

/* Kinds by where they act, for lp_fault_plan_has(). */
enum {
	LP_FAULT_ON_WIRE = 1u << 0,    /* drop dup delay reorder corrupt, loss/dup/reorder P% */
	LP_FAULT_ON_APP = 1u << 1,     /* truncate rst stall */
	LP_FAULT_ON_WINDOW = 1u << 2,  /* zero-window window */
	LP_FAULT_ON_PATH = 1u << 3,    /* mtu unreachable */
};

int lp_fault_plan_new(struct lp_fault_plan **out);
void lp_fault_plan_free(struct lp_fault_plan *p);

/* A new plan with p's faults, none fired (p may be NULL: an empty plan). */
int lp_fault_plan_clone(const struct lp_fault_plan *p, struct lp_fault_plan **out);

/* Parse one spec and add it. Returns 0, -EINVAL with a message in err, -ENOMEM. */
int lp_fault_plan_add(struct lp_fault_plan *p, const char *spec, char *err, size_t errlen);

/* Check every SEG against fl's labels. Returns 0 or -EINVAL with a message. */
int lp_fault_plan_validate(const struct lp_fault_plan *p, const struct lp_flow *fl,
			   char *err, size_t errlen);

/* A live program plays side local and only sees the other side's packets
 * arrive: the other side's application and window faults are not its to
 * make. 0, or -EINVAL naming the first such fault. */
int lp_fault_plan_check_live(const struct lp_fault_plan *p, enum lp_fault_side local, char *err,
			     size_t errlen);

size_t lp_fault_plan_count(const struct lp_fault_plan *p);
/* Does p hold a fault of side acting in one of the places of mask (LP_FAULT_ON_*)? */
bool lp_fault_plan_has(const struct lp_fault_plan *p, enum lp_fault_side side, unsigned mask);
/* Total faults fired since the last reset. */
uint64_t lp_fault_plan_fired(const struct lp_fault_plan *p);
/* Nothing fired yet; probabilistic faults decide from seed from now on. */
void lp_fault_plan_reset(struct lp_fault_plan *p, uint64_t seed);

/* One fault that fired. dir and label name a data segment (label 0: none). */
struct lp_fault_fired {
	enum lp_fault_side side;
	enum lp_fault_kind kind;
	uint8_t dir;
	uint32_t label;
	uint8_t ctl;         /* label 0: the LP_TH_SYN or LP_TH_FIN of the packet hit */
	uint64_t at_ns;
};

/* The faults fired since the reset, in order: the first LP_FAULT_LOG_MAX are
 * kept (lp_fault_plan_fired() counts them all). */
#define LP_FAULT_LOG_MAX 4096
size_t lp_fault_plan_nlog(const struct lp_fault_plan *p);
const struct lp_fault_fired *lp_fault_plan_log(const struct lp_fault_plan *p, size_t i);
/* Count and log one firing made outside this module (window faults). */
void lp_fault_plan_note(struct lp_fault_plan *p, const struct lp_fault_fired *f);
/* The segment f hit: "C3", "SYN" or "FIN" for a packet without a label
 * (probabilistic faults), "" when none. */
const char *lp_fault_fired_segment(const struct lp_fault_fired *f, char *buf, size_t len);
/* "client:drop:C3", "server:loss:SYN", "server:loss" into buf. */
const char *lp_fault_fired_str(const struct lp_fault_fired *f, char *buf, size_t len);
/* Tell cb (may be NULL) that f fired: an LP_EV_FAULT event of f's side. */
void lp_fault_emit(const struct lp_fault_fired *f, lp_event_fn cb, void *ctx);
/* Does a fault of this kind end the connection (rst, stall)? */
bool lp_fault_kind_ends(enum lp_fault_kind k);

/* Application fault for side's segment label (truncate, rst, stall or none);
 * *arg receives truncate's BYTES. Logs the fault as fired when it applies. */
enum lp_fault_kind lp_fault_app_action(struct lp_fault_plan *p, enum lp_fault_side side,
				       uint32_t label, uint64_t now_ns, uint32_t *arg);

/* side's window faults: the largest window to advertise (0: no limit), and
 * its i-th zero window (the peer's label that closes it, for how long);
 * false past the last. */
uint32_t lp_fault_window_cap(const struct lp_fault_plan *p, enum lp_fault_side side);
bool lp_fault_zero_window(const struct lp_fault_plan *p, enum lp_fault_side side, size_t i,
			  uint32_t *label, uint32_t *ms);

/* One packet of side for the wire faults: first..last are the labels of its
 * data segments it fires by-segment faults for (0, 0 when none: see the
 * header comment for which), label the segment it carries bytes of (for the
 * log), key what names it (lp_fault_key()). Probabilistic faults pass over
 * a packet that occupies no sequence space (an ACK, a reset): how many of
 * those go depends on timing, and the same seed must pick the same packets. */
struct lp_fault_pkt {
	uint32_t first, last;
	uint32_t label;
	uint64_t key;
	bool seqspace;            /* it carries data, a SYN or a FIN */
	uint8_t ctl;              /* its SYN and FIN flags */
};

/* The lp_fault_pkt of what an engine said of a packet, keyed in k. */
void lp_fault_pkt_from(struct lp_fault_pkt *fp, const struct lp_pktinfo *pi, struct lp_fault_keys *k);

#define LP_FAULT_PER_PKT 8

/* What the wire does with one packet. */
struct lp_fault_verdict {
	bool drop;
	unsigned copies;          /* 1 normally, 2 when duplicated */
	uint64_t delay_ns;        /* extra latency */
	bool reorder;             /* hold back behind the next packet */
	bool corrupt;             /* damage the TCP checksum */
	unsigned fired;           /* faults fired for this packet */
	struct lp_fault_fired what[LP_FAULT_PER_PKT];  /* the first of them */
};

void lp_fault_wire(struct lp_fault_plan *p, enum lp_fault_side side, const struct lp_fault_pkt *pk,
		   uint64_t now_ns, struct lp_fault_verdict *v);

/* Packet keys: a packet is named by what it carries (sequence and
 * acknowledgment offsets, length, flags) and how many such packets went
 * before it, so that a probabilistic fault picks the same packets whatever
 * the timing. */
int lp_fault_keys_new(struct lp_fault_keys **out);
void lp_fault_keys_free(struct lp_fault_keys *k);
uint64_t lp_fault_key(struct lp_fault_keys *k, uint64_t seq_off, uint64_t ack_off, uint32_t len,
		      uint8_t flags);

const char *lp_fault_kind_str(enum lp_fault_kind k);

/* The path's faults (mtu, unreachable) for a packet of len bytes that side
 * sends, as the engine described it (pi). When one fires the packet goes no
 * further: the ICMP error the emulated path answers with is written into buf
 * (deliver it back to side) and its length returned, and what fired is
 * logged and copied into *what; 0 when none fires; -ENOBUFS. */
int lp_fault_icmp(struct lp_fault_plan *p, enum lp_fault_side side, const uint8_t *pkt, size_t len,
		  const struct lp_pktinfo *pi, uint64_t now_ns, uint8_t *buf, size_t cap,
		  struct lp_fault_fired *what);

#endif

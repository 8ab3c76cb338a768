/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault plan: misbehaviour injected on purpose, tied to the flow's timeline.
 * Spec "[client:|server:]KIND[:ARGS]", repeatable; without a side prefix the
 * fault applies to the server. SEG is that side's data-segment label from 1.
 *   drop:SEG  dup:SEG  delay:SEG:MS  reorder:SEG  corrupt:SEG   (on the wire)
 *   truncate:SEG:BYTES  rst:SEG  stall:SEG                      (in the engine)
 *   loss:P%  dup:P%  reorder:P%                                 (every packet)
 *   mtu:BYTES  unreachable:SEG|syn[:CODE]                        (ICMP errors)
 * truncate keeps only the first BYTES bytes of the segment (the application
 * wrote fewer bytes); rst sends a reset instead of the segment; stall stops
 * the side's application from that segment on. Wire faults by segment fire on
 * the first transmission carrying the segment's first byte.
 * mtu answers each packet of the side longer than BYTES with fragmentation
 * needed / packet too big announcing BYTES (a smaller-MTU hop); unreachable
 * answers segment SEG (or the side's first SYN) with a destination
 * unreachable of CODE, the family's own code number (default:
 * administratively prohibited). Either packet goes no further.
 */
#ifndef TCPLIVEPLAY_FAULT_H
#define TCPLIVEPLAY_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"
#include "tcpliveplay/rng.h"

struct lp_fault_plan;

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
	LP_FAULT_MTU,
	LP_FAULT_UNREACH,
};

/* Which side's packets a fault affects (the side that sends them). */
enum lp_fault_side {
	LP_FAULT_CLIENT = 0,
	LP_FAULT_SERVER = 1,
};

int lp_fault_plan_new(struct lp_fault_plan **out);
void lp_fault_plan_free(struct lp_fault_plan *p);

/* Parse one spec and add it. Returns 0, -EINVAL with a message in err, -ENOMEM. */
int lp_fault_plan_add(struct lp_fault_plan *p, const char *spec, char *err, size_t errlen);

/* Check every SEG against fl's labels. Returns 0 or -EINVAL with a message. */
int lp_fault_plan_validate(const struct lp_fault_plan *p, const struct lp_flow *fl,
			   char *err, size_t errlen);

size_t lp_fault_plan_count(const struct lp_fault_plan *p);
/* Total faults fired since the last reset. */
uint64_t lp_fault_plan_fired(const struct lp_fault_plan *p);
void lp_fault_plan_reset(struct lp_fault_plan *p);

/* Application fault for side's segment label (truncate, rst, stall or none);
 * *arg receives truncate's BYTES. Counts the fault as fired when it applies. */
enum lp_fault_kind lp_fault_app_action(struct lp_fault_plan *p, enum lp_fault_side side,
				       uint32_t label, uint32_t *arg);

/* What the wire does with one packet sent by side. Labels first..last are
 * the data segments whose first byte the packet carries on its first
 * transmission (0, 0 when none). */
struct lp_fault_verdict {
	bool drop;
	unsigned copies;          /* 1 normally, 2 when duplicated */
	uint64_t delay_ns;        /* extra latency */
	bool reorder;             /* hold back behind the next packet */
	bool corrupt;             /* damage the TCP checksum */
	unsigned fired;           /* faults fired for this packet */
};

void lp_fault_wire(struct lp_fault_plan *p, enum lp_fault_side side, uint32_t first,
		   uint32_t last, struct lp_rng *rng, struct lp_fault_verdict *v);

const char *lp_fault_kind_str(enum lp_fault_kind k);

/* ICMP faults (mtu, unreachable) for one packet pkt of len bytes that side
 * sends (first, last as for lp_fault_wire()). When one fires the packet goes
 * no further, the error the emulated path answers with is written into buf
 * and its length returned (deliver it back to side), *kind says which;
 * 0 when none fires; -ENOBUFS. Counts what fired. */
int lp_fault_icmp(struct lp_fault_plan *p, enum lp_fault_side side, const uint8_t *pkt, size_t len,
		  uint32_t first, uint32_t last, uint8_t *buf, size_t cap,
		  enum lp_fault_kind *kind);

#endif

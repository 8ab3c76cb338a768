/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --fault captured: the fault plan that makes a replay meet what the capture
 * shows went wrong (the flow's incidents, flow.h). A segment of either side
 * retransmitted (and not acknowledged before), or arriving only after the
 * peer's duplicate ACKs asked for it: drop its first transmission. A data
 * packet captured twice: dup. A zero window: zero-window on the peer's last
 * segment in, for the captured time. A client's reset followed by client
 * data: rst there (one after the client's last data is in the schedule
 * already, and replayed as such).
 */
#ifndef TCPLIVEPLAY_FAULTCAP_H
#define TCPLIVEPLAY_FAULTCAP_H

#include <stdbool.h>
#include <stddef.h>

#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"

/* One derived fault, or a note on an incident no fault stands for. */
struct lp_capfault {
	char spec[48];              /* "server:drop:S3", "" for a note */
	char why[128];              /* what the capture shows, and where */
	enum lp_fault_side side;
	enum lp_fault_kind kind;
};

/* fl's derived faults in capture order, each spec once: a new array (free())
 * in *out, its length in *n. 0 or -ENOMEM. */
int lp_faultcap_derive(const struct lp_flow *fl, struct lp_capfault **out, size_t *n);

/* Add fl's derived faults to p. With live set, a program that plays local
 * and only sees the other side's packets: the other side's application and
 * window faults are left out, counted in *left_out (may be NULL). 0, or
 * -ENOMEM. */
int lp_faultcap_add(struct lp_fault_plan *p, const struct lp_flow *fl, bool live,
		    enum lp_fault_side local, size_t *left_out);

#endif

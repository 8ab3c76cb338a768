/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live replay: one engine on a link (an interface's packet socket, a TAP). The
 * loop moves packets between the engine and the link through the fault plan's
 * wire, wakes the engine's timers and the faults' on the monotonic clock, and
 * stops on the verdict, the overall timeout or a stop request.
 */
#ifndef TCPLIVEPLAY_LIVE_H
#define TCPLIVEPLAY_LIVE_H

#include <signal.h>
#include <stdint.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/link.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/report.h"

/* Called about ten times a second while a replay runs. */
typedef void (*lp_progress_fn)(void *ctx, uint64_t elapsed_ns, uint64_t sent, uint64_t sent_total,
			       uint64_t received, uint64_t received_total);

struct lp_live_opts {
	struct lp_engine_cfg engine;           /* role, endpoints, ISN, policy, events; its
						* faults (seeded by the caller) also act on
						* the wire (faultwire.h) */
	struct lp_link *link;
	struct lp_pcapw *writer;               /* NULL: do not record */
	uint64_t timeout_ns;                   /* whole replay; 0: none */
	volatile sig_atomic_t *stop;           /* set by a signal handler */
	lp_progress_fn progress;
	void *progress_ctx;
	uint64_t clock_base_ns;                /* CLOCK_MONOTONIC ns the engine's times count
						* from (a packet trace's); 0: the run's start */
};

/* Run the replay and fill *r (endpoints are the live ones). Returns 0 when it
 * ran, whatever the verdict; a negative errno when the link failed (message
 * in err). */
int lp_live_run(const struct lp_flow *fl, struct lp_live_opts *o, struct lp_report *r, char *err,
		size_t errlen);

#endif

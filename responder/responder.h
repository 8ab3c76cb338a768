/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay-responder: serving the server side of captured flows to every
 * client that connects, one session (a server-role engine) per client. A new
 * session plays the next flow of its service port (tcpliveplay/flowpick.h).
 * The CLI (tcpliveplay-responder.c) sets up the link (setup.h: an interface or
 * a TAP) and calls rsp_serve(); the loop runs on either alike.
 */
#ifndef TCPLIVEPLAY_RESPONDER_H
#define TCPLIVEPLAY_RESPONDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowpick.h"
#include "tcpliveplay/link.h"

/* What a served flow brings to its sessions, made before the first one. */
struct rsp_flow {
	struct lp_fault_plan *plan;       /* NULL: none; each session plays a copy, seeded with
					   * lp_flowset_seed(seed, its number) */
	struct lp_schedule *sched;        /* the server side's schedule, shared by the flow's
					   * sessions (NULL: each builds its own) */
};

struct rsp_opts {
	struct lp_flowpick *pick;         /* the flows served and their service ports */
	struct lp_link *link;
	struct lp_endpoint local;         /* our address (a session's port is its SYN's) */
	bool addr_local;                  /* the kernel owns local.addr: it answers echo and
					   * other ports itself */
	const uint8_t *kernel_ports;      /* with addr_local: bitmap (65536 bits, port p at
					   * byte p / 8, bit p % 8) of the ports the host's own
					   * programs listen on, left to them; or NULL */
	unsigned mtu;                     /* the interface's: caps each flow's MSS */
	size_t max_sessions;
	uint64_t idle_ns;                 /* free a session this long without input */
	bool once;                        /* serve one session, then return */
	enum lp_match match;
	unsigned patience_ms;             /* how long a client may stay silent while a session
					   * waits for its bytes; 0: the engine's default */
	const struct rsp_flow *flows;     /* what each served flow brings, by flow id
					   * (flows[fl->id]) */
	size_t nflows;
	uint64_t seed;
	int verbose;                      /* 1: each step (on stderr) */
	bool quiet;                       /* errors only */
	bool text;                        /* false: no text on stdout (JSON goes there) */
	FILE *json;                       /* one report per session, or NULL */
	volatile sig_atomic_t *stop;
};

struct rsp_summary {
	uint64_t sessions, matched, diverged, failed;
	uint64_t refused;                 /* SYNs past --max-sessions (or --once) */
	uint64_t resets;                  /* RSTs sent for packets no session owns */
	uint64_t echoes;                  /* echo replies sent */
	int exit_code;                    /* --once: the session's; else 0 or 1 when any was not matched */
};

/* Serve until *stop, or until the one session ends with once. Returns 0, or
 * a negative errno when the link failed (message in err). */
int rsp_serve(const struct rsp_opts *o, struct rsp_summary *sum, char *err, size_t errlen);

#endif

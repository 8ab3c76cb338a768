/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay-responder: serving the server side of one captured flow to
 * every client that connects, one session (a server-role engine) per client.
 * The CLI (tcpliveplay-responder.c) sets up the link and calls rsp_serve().
 */
#ifndef TCPLIVEPLAY_RESPONDER_H
#define TCPLIVEPLAY_RESPONDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/link_pcap.h"

struct rsp_opts {
	const struct lp_flow *fl;
	struct lp_link_pcap *link;
	struct lp_endpoint local;         /* our address and the service port */
	bool addr_local;                  /* the kernel owns local.addr: it answers echo and
					   * other ports itself */
	size_t max_sessions;
	uint64_t idle_ns;                 /* free a session this long without input */
	bool once;                        /* serve one session, then return */
	enum lp_match match;
	uint16_t mss;                     /* 0: the captured one */
	const char *const *faults;        /* server-side fault specs, each session gets its own plan */
	size_t nfaults;
	const uint32_t *client_drop;      /* client segment labels to ignore once */
	size_t nclient_drop;
	uint64_t seed;
	int verbose;                      /* 1: each step */
	bool quiet;                       /* one line per session */
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

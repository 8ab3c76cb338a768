/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Many flows at once: one client engine per flow, all on one link, in
 * one loop. Flow i uses local port port_base + i, so an inbound packet finds
 * its engine by its destination port in O(1); one timer heap orders every
 * running engine's next wake-up. Engines are made when their flow starts and
 * freed when it ends, so memory follows the flows in flight.
 */
#ifndef TCPLIVEPLAY_MULTI_H
#define TCPLIVEPLAY_MULTI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/link.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/rng.h"

/* One flow to replay. */
struct lp_multi_flow {
	const struct lp_flow *fl;
	struct lp_endpoint remote;     /* the live server */
	uint8_t mac[6];                /* next hop towards it (links with MAC headers) */
	uint16_t mss;                  /* 0: the engine's default */
	unsigned pmtu;                 /* the path MTU known at the start; 0: unknown */
	uint64_t start_ns;             /* with capture timing: start this long after the run's start */
	struct lp_fault_plan *faults;  /* the flow's own (faultwire.h), or NULL; seeded here with
					* lp_flowset_seed(seed, flow id) */
};

/* A flow ended: its report (client is the live endpoint we used). */
typedef void (*lp_multi_done_fn)(void *ctx, const struct lp_report *r);
/* An engine event of flow flow_id (for -v logs). */
typedef void (*lp_multi_event_fn)(void *ctx, unsigned flow_id, const struct lp_event *ev);

struct lp_multi_opts {
	/* Template for every engine: local address, match, timing, rto, retries,
	 * rto_jitter_pct. role, ports, remote, isn, ts_base, mss, events and the
	 * jitter's seed (lp_flowset_seed(seed, flow id)) are set per flow. */
	struct lp_engine_cfg engine;
	const struct lp_multi_flow *flows;
	size_t nflows;
	uint16_t port_base;            /* flow i uses port_base + i; port_base + nflows - 1 <= 65535 */
	size_t concurrency;            /* flows in flight at most; 0: no limit */
	bool capture_timing;           /* start flows at their start_ns */
	struct lp_rng *rng;            /* ISNs and TSval bases */
	struct lp_link *link;
	struct lp_pcapw *writer;       /* NULL: do not record */
	uint64_t clock_base_ns;        /* CLOCK_MONOTONIC ns the engines' times count from; 0: the
					* run's start */
	uint64_t timeout_ns;           /* the whole run; 0: none */
	volatile sig_atomic_t *stop;
	uint64_t seed;                 /* copied into each report */
	lp_multi_done_fn done;
	lp_multi_event_fn event;       /* NULL: no events */
	void *ctx;
};

/* Run every flow to its end (or until stop/timeout: flows still running end
 * "failed" with the reason, flows not started are reported failed "not
 * started"). Each flow's report goes to o->done as it ends. Returns 0 when
 * the run happened, whatever the verdicts, or a negative errno when the link
 * failed or memory ran out (message in err); *duration_ns is the run's length. */
int lp_multi_run(const struct lp_multi_opts *o, uint64_t *duration_ns, char *err, size_t errlen);

/* Our port in a packet: the destination port of an IPv4/IPv6 TCP packet
 * without extension headers, or the source port an ICMP or ICMPv6 error
 * quotes from one of our segments; -1 for anything else. */
int lp_multi_dport(const uint8_t *ip, size_t len);

/* First of n consecutive source ports (n * nshards: 1 to 64,512), at random:
 * in the dynamic ports (49152-65535) and clear of the kernel's ephemeral
 * ports lo-hi (net.ipv4.ip_local_port_range; a bad range means 32768-60999)
 * when they leave room, so that a replay meets neither the host's
 * connections nor their TIME-WAIT; else anywhere in the dynamic ports; else
 * from 1024. That region is cut in nshards equal blocks and the ports lie in
 * block k (1-based), so that shards given the same n and range never share
 * a port. 0 for a bad n, k or nshards. The ports never pass 65535. */
uint16_t lp_multi_pick_ports(struct lp_rng *rng, size_t n, unsigned k, unsigned nshards, unsigned lo,
			     unsigned hi);

#endif

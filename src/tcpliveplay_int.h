/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay's command line, private to its files: the context the options
 * fill (tcpliveplay.c) and the modes that run it, each returning an exit
 * status: --list, --dump and --extract (tcpliveplay_inspect.c), --simulate
 * (tcpliveplay_sim.c), a live replay (tcpliveplay_live.c, its flows, servers
 * and ports chosen in tcpliveplay_plan.c); the output they share
 * (tcpliveplay_out.c).
 */
#ifndef TCPLIVEPLAY_INT_H
#define TCPLIVEPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/engine.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/multi.h"
#include "tcpliveplay/pcapw.h"
#include "tcpliveplay/report.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/setup.h"

enum mode { MODE_NONE, MODE_LIST, MODE_EXTRACT, MODE_DUMP, MODE_SIMULATE, MODE_LIVE };

enum rst_guard { GUARD_AUTO, GUARD_OFF };

#define MAX_DST 64
/* How long the peer may stay silent while we wait for its bytes. */
#define DEFAULT_PATIENCE_S 10
#define CONCURRENCY_UNLIMITED SIZE_MAX

/* A --dst: OLD=NEW maps a captured server (address, or address and port)
 * to a live one; a plain ADDR[:PORT] takes every flow no mapping names. */
struct dst_map {
	bool has_old;
	struct lp_endpoint old, live;
};

struct ctx {
	enum mode mode;
	struct lp_cli_opts cli;   /* the options both programs take; cli.patience_s 0:
				   * --timeout's, else DEFAULT_PATIENCE_S */
	const char *outdir;
	struct lp_timing timing;
	unsigned rto_ms, retries;
	/* live replay */
	struct lp_link_choice link;  /* -i IFACE, or --tap NAME and --tap-addr */
	const char *dsts[MAX_DST];/* ADDR[:PORT] or OLD=NEW */
	struct dst_map maps[MAX_DST];/* each of dsts, parsed */
	size_t ndst;
	size_t concurrency;       /* many flows: in flight at most; 0: the capture's busiest moment */
	bool any_client;
	const char *dst_mac;
	const char *src;
	const char *sport;        /* N or "random" */
	const char *write;
	struct lp_pcapw *writer;  /* --write, open from the start */
	enum rst_guard guard;
	bool guard_set;
	uint64_t timeout_s;
	bool classic;
};

/* Why a flow of many is not replayed. */
enum skip_why { SKIP_NONE, SKIP_HOST, SKIP_FAMILY, SKIP_HOLE };

/* The flows of a live replay, where they go and from which ports. */
struct plan {
	const struct lp_flow **sel;   /* the selection; its first nskip: the flows skipped */
	unsigned char *why;           /* enum skip_why of each skipped flow */
	size_t nskip;
	struct lp_multi_flow *mfs;    /* the flows replayed */
	size_t nmf;
	int family;
	struct lp_endpoint host;      /* the replayed host: the selection's first client */
	uint64_t first_ts;            /* the earliest start of a replayable flow of the whole selection */
	size_t busiest;               /* the most of mfs' flows open at once in the capture */
	uint16_t port_base;
};

/* Per-flow output of a many-flow replay. */
struct many_out {
	const struct ctx *c;
	bool text;
	FILE *json;
	uint64_t njson;
	struct lp_totals totals;
};

/* The --json report, opened before any work and closed by main(). */
extern struct lp_json_out tlp_json_out;

/* tcpliveplay_out.c */
/* Load c->file (lp_cli_load()); 0 or an exit status, the message written. */
int tlp_load(struct ctx *c, struct lp_flows **flows);
/* lp_event_fn for -v (and -vv): one event a line on stderr. */
void tlp_print_event(void *opaque, const struct lp_event *ev);
/* A one-flow report as JSON, when asked for. 0 or an exit status. */
int tlp_json_write(const struct lp_report *rep);
/* A flow of many ended (opaque: its many_out): its line, JSON, totals. */
void tlp_many_done(void *opaque, const struct lp_report *r);
/* An event of flow flow_id of many, for -v. */
void tlp_many_event(void *opaque, unsigned flow_id, const struct lp_event *ev);
/* A flow of many that is not replayed, and why. */
void tlp_many_skip(struct many_out *mo, const struct lp_flow *fl, const char *why);
/* The start of a many-flow report: the JSON document opens. */
void tlp_many_begin(struct many_out *mo);
/* The end of a many-flow report: the summary, the JSON document's end; the
 * exit status. */
int tlp_many_end(struct many_out *mo);

/* tcpliveplay_inspect.c: --list, --dump, --extract. */
int tlp_list(struct ctx *c);
int tlp_dump(struct ctx *c);
int tlp_extract(struct ctx *c);

/* tcpliveplay_sim.c: --simulate, one flow or many. */
int tlp_simulate(struct ctx *c);

/* tcpliveplay_plan.c */
/* The same address (the ports aside). */
bool tlp_addr_eq(const struct lp_endpoint *a, const struct lp_endpoint *b);
/* Each --dst into c->maps: 0 or the usage error. */
int tlp_parse_dsts(struct ctx *c);
/* Choose the flows of --flow (and --shard), their live servers and ports.
 * 0 or an exit status (the message written). */
int tlp_choose_flows(const struct ctx *c, const struct lp_flows *flows, bool many, struct lp_rng *rng,
		     struct plan *p);

/* tcpliveplay_live.c: a live replay, one flow or many. */
int tlp_live(struct ctx *c);

#endif

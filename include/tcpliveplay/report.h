/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The verdict of one replay (live or simulated) and its summary, printed as
 * text or JSON; and the one-line form of an engine event for -v logs. Output
 * depends only on the report's contents, so identical runs print identically.
 */
#ifndef TCPLIVEPLAY_REPORT_H
#define TCPLIVEPLAY_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"

enum lp_verdict {
	LP_VERDICT_MATCHED = 0,   /* exit 0 */
	LP_VERDICT_DIVERGED,      /* exit 1: the peer's stream differed from the capture */
	LP_VERDICT_FAILED,        /* exit 1: reset, unresponsive peer, internal limit */
	LP_VERDICT_SKIPPED,       /* one flow of many, not replayed (reason says why) */
};

#define LP_REPORT_MAX_DIV 16

struct lp_report_div {
	char segment[16];         /* "S2", "C1", or "" when not tied to a segment */
	uint64_t expected, received;
	int64_t first_diff;       /* stream offset, -1 when not known */
	char message[160];
};

#define LP_REPORT_MAX_FAULTS 64

/* One fault that fired, as JSON lists it. */
struct lp_report_fault {
	enum lp_fault_side side;
	enum lp_fault_kind kind;
	char segment[16];         /* "S3", or "" when not tied to a segment */
	uint64_t at_ns;
};

struct lp_report_counts {
	uint64_t segments, bytes;
};

struct lp_report {
	unsigned flow_id;          /* the flow's number in the capture; 0: not given */
	enum lp_verdict verdict;
	int exit_code;
	char reason[160];          /* why it failed or diverged, "" when matched */
	uint64_t seed;
	struct lp_endpoint client, server;
	struct lp_report_counts sent, received;   /* from the replayer's (client's) side */
	uint64_t expected_received_bytes;
	uint64_t retransmissions;
	struct lp_report_div div[LP_REPORT_MAX_DIV];
	size_t ndiv;              /* entries in div[] */
	size_t ndiv_total;        /* divergences found, may exceed LP_REPORT_MAX_DIV */
	uint64_t faults_fired;
	struct lp_report_fault faults[LP_REPORT_MAX_FAULTS];  /* the first that fired */
	size_t nfaults;
	uint64_t duration_ns;
	/* Failed after the handshake with none of our data acknowledged and
	 * nothing received, not reset by the peer nor ended by a fault (the
	 * replayer's side only): reason holds ": " LP_DATA_UNACKED_WHY. */
	bool data_unacked;
	/* The path (RFC 1191, 8201, 4821) and the ICMP errors seen. */
	unsigned path_mtu, path_mtu_start;   /* 0: unknown */
	bool mtu_blackhole;                  /* lowered after timeouts without ICMP */
	uint64_t icmp_accepted, icmp_ignored;
	char icmp_error[112];                /* the last ICMP error taken, "" when none */
};

#define LP_DATA_UNACKED_WHY \
	"the host completed the handshake but never acknowledged our data (its accept queue was likely full)"

/* Zero r and set verdict matched, first_diff fields to -1. */
void lp_report_init(struct lp_report *r);

/* Fill verdict, counters and divergences from a finished engine (the side
 * the report speaks for) and the flow's endpoints as captured (a live replay
 * may overwrite client with the address and port it used). An engine still
 * running gives "failed". seed, the faults (lp_report_add_faults()) and
 * duration_ns are left to the caller. */
void lp_report_from_engine(struct lp_report *r, const struct lp_engine *e, const struct lp_flow *fl);

/* The run ended before the engine did (interrupted, timed out, idle, not
 * started): a matched verdict becomes failed, and why is added to the reason. */
void lp_report_cut_short(struct lp_report *r, const char *why);

/* The faults p fired (may be NULL): faults_fired, faults[]; a fault that
 * ends the connection (rst, stall) makes the verdict failed, and the reason
 * names it (in place of the accept queue's data_unacked). */
void lp_report_add_faults(struct lp_report *r, const struct lp_fault_plan *p);

/* Append one divergence (counted in ndiv_total even when div[] is full). */
void lp_report_add_divergence(struct lp_report *r, const struct lp_divergence *d);

const char *lp_verdict_str(enum lp_verdict v);

/* "s" unless n is 1: "1 segment", "2 segments". */
const char *lp_plural(uint64_t n);

/* "C3" / "S2" into buf (size >= 12); "" for label 0. */
const char *lp_segment_label(uint8_t dir, uint32_t label, char *buf, size_t len);

/* Human summary, several lines. Returns 0 or -EIO. */
int lp_report_print_text(const struct lp_report *r, FILE *fp);

/* One JSON object and a newline: verdict, exit_code, seed, flow {client,
 * server, family}, sent, received, expected_received_bytes, retransmissions,
 * reason, data_unacked, divergences, faults_fired, faults [{side, kind,
 * segment, time_s}], path_mtu, path_mtu_start (null when unknown),
 * mtu_blackhole, icmp {accepted, ignored, last_error}, duration_s, version.
 * Returns 0 or -EIO. */
int lp_report_print_json(const struct lp_report *r, FILE *fp);

/* A run that ended in an error before its report: {"verdict":"error",
 * "exit_code":N,"error":"...","version":"..."} and a newline. 0 or -EIO. */
int lp_report_print_json_error(FILE *fp, int exit_code, const char *error);

/* One line for a flow of a many-flow replay: "flow N: verdict: client ->
 * server, sent ..., received ..., time (reason)". Returns 0 or -EIO. */
int lp_report_print_line(const struct lp_report *r, FILE *fp);

/* What a many-flow replay adds up to. */
struct lp_totals {
	uint64_t flows, matched, diverged, failed, skipped;
	uint64_t data_unacked;     /* failed flows whose report says data_unacked */
	struct lp_report_counts sent, received;
	uint64_t expected_received_bytes, retransmissions, faults_fired;
	uint64_t icmp_accepted, icmp_ignored;
	uint64_t duration_ns;      /* the whole run, the caller's */
	uint64_t seed;
	int exit_code;             /* 0 when every flow replayed matched, else 1 */
	const char *error;         /* the run's own failure (the link's), or NULL */
};

void lp_totals_add(struct lp_totals *t, const struct lp_report *r);

/* "summary: N flows: ... matched, ..." and the byte counts. 0 or -EIO. */
int lp_totals_print_text(const struct lp_totals *t, FILE *fp);

/* A many-flow JSON report is written as the flows end, so that memory does
 * not grow with them: lp_json_flows_begin() opens it, lp_json_flows_add()
 * writes one flow's report (the object of lp_report_print_json(), with the
 * flow's id) and lp_json_flows_end() closes it with "totals", "verdict",
 * "exit_code", "seed", "version" and, when the run failed, "error". 0 or
 * -EIO. */
int lp_json_flows_begin(FILE *fp);
int lp_json_flows_add(FILE *fp, const struct lp_report *r, uint64_t index);
int lp_json_flows_end(FILE *fp, const struct lp_totals *t);

/* One log line (no newline) for an engine event into buf; returns buf. */
const char *lp_event_str(const struct lp_event *ev, char *buf, size_t len);

#endif

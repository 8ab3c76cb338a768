/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The edge shared by the two programs' command lines: the exit-status
 * contract, one-line errors, signals, the options both programs take,
 * loading a capture and picking its flow with messages for people. The
 * only module besides log.c that prints.
 */
#ifndef TCPLIVEPLAY_CLI_H
#define TCPLIVEPLAY_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpliveplay/engine.h"
#include "tcpliveplay/fault.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/link.h"

enum lp_exit {
	LP_EXIT_MATCHED = 0,    /* success; a replay matched */
	LP_EXIT_DIVERGED = 1,   /* a replay ran but diverged or failed */
	LP_EXIT_BADINPUT = 2,   /* bad usage or bad input */
	LP_EXIT_ENV = 3,        /* environment: permission, interface, route, neighbour */
};

/* Set by SIGINT, SIGTERM and SIGHUP once lp_catch_signals() ran. */
extern volatile sig_atomic_t lp_stop_requested;
void lp_catch_signals(void);

/* "PROG: message" and the --help hint on stderr; returns LP_EXIT_BADINPUT. */
int lp_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A numeric option's value in [lo, hi]: 0, or the usage error "OPT: 'ARG'
 * is not a number UNIT from LO to HI" (unit "" or e.g. "of seconds "). */
int lp_opt_uint(const char *opt, const char *arg, uint64_t lo, uint64_t hi, const char *unit, uint64_t *v);

/* "PROG: message" on stderr; returns LP_EXIT_ENV. */
int lp_env_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct lp_loader {
	const char *file;       /* "-": standard input (then named "standard input") */
	bool verbose;           /* every skipped packet, not only the first ten */
	bool strict;            /* refuse a damaged capture rather than read up to the damage */
	unsigned warned, unwarned;
};

/* Load l->file, warning about skipped packets and damage; 0 or an exit
 * status (no TCP flow at all is bad input). */
int lp_cli_load(struct lp_loader *l, struct lp_flows **out);

/* Pick the flow sel names (NULL: the only one); 0 or an exit status, with a
 * message (the list of flows when a choice is needed). */
int lp_cli_select(const char *file, const struct lp_flows *flows, const char *sel,
		  const struct lp_flow **out);

/* Pick the flows sel names: one as lp_cli_select() does, or "all" or a list
 * ("1,3,5-9"), into a new array (free() it). 0 or an exit status, with a
 * message. */
int lp_cli_select_many(const char *file, const struct lp_flows *flows, const char *sel,
		       const struct lp_flow ***out, size_t *n);

/* The --fault options of either program. */
struct lp_cli_faults {
	struct lp_fault_plan *plan;   /* the specs given, NULL when none */
	bool captured;                /* --fault captured */
	bool live;                    /* the program plays local on a live link */
	enum lp_fault_side local;
};

/* One --fault argument: "captured" or a spec (live set: checked at once as
 * lp_cli_faults_check() does). 0 or an exit status, with a message. */
int lp_cli_fault_arg(struct lp_cli_faults *f, const char *arg);

/* Live: the specs given ask nothing of the other side's application or
 * window (lp_fault_plan_check_live()). 0 or an exit status, with a message. */
int lp_cli_faults_check(const struct lp_cli_faults *f);

/* The fault plan for one flow: the specs given, checked against fl (and,
 * live, against what the program can make), and with --fault captured the
 * flow's own (those a live program cannot make are left out, with a note).
 * *out is NULL when the flow has no fault at all. many: say which flow in
 * messages. 0 or an exit status, with a message. */
int lp_cli_flow_faults(const struct lp_cli_faults *f, const struct lp_flow *fl, bool many,
		       struct lp_fault_plan **out);

/* --dump --fault captured: fl's derived faults, one line each, as comments
 * ("# ") and specs. 0 or an exit status. */
int lp_cli_print_captured(const struct lp_flow *fl, FILE *fp);

void lp_cli_faults_free(struct lp_cli_faults *f);


/* Holes: bytes of a stream the capture lacks. A replay refuses to send a
 * stream with a hole unless asked to send zeros in its place (--holes). */

/* "the client stream lacks L bytes at offset O (not captured; the bytes
 * after it are in packet P...)" into buf when fl's stream d has a hole
 * (true), else false. */
bool lp_cli_hole(const struct lp_flow *fl, enum lp_dir d, char *buf, size_t len);

/* --holes refuse|zero: 0 and *zero, or the usage error. */
int lp_cli_holes_opt(const char *arg, bool *zero);

/* Before anything is sent: stream d of fl has no hole (0), or has one and
 * zero is set (0, warned), else the error (said, naming the hole and
 * --holes zero) and LP_EXIT_BADINPUT. */
int lp_cli_check_holes(const char *file, const struct lp_flow *fl, enum lp_dir d, bool zero);

struct lp_link_choice;

/* The address s of option opt's argument arg (s: arg itself, or a part of
 * it), as ADDR, IPv4ADDR:PORT or [ADDR]:PORT with an IPv6 zone: into *ep.
 * With link, it is a TCP peer's (no multicast, broadcast, unspecified), a
 * bare IPv6 address that reads as ADDR:PORT is warned about, and the zone
 * names link's interface. 0 or the usage error. */
int lp_cli_peer(const char *opt, const char *arg, const char *s, struct lp_link_choice *link,
		struct lp_endpoint *ep);

/* The options both programs take, one table and one parser: the capture
 * (-r, --strict), its flows (-f, --shard), how a session is judged and
 * misbehaves (--match, --fault, --seed, --holes, --patience), the outputs
 * and the run (--json, --user, -v, -q, -h, -V). */
struct lp_cli_opts {
	const char *file;             /* -r FILE (only one) */
	const char *flow;             /* -f SEL */
	unsigned shard_k, shard_n;    /* --shard K/N; 0/0: none */
	enum lp_match match;          /* --match; the caller's default (stream) until given */
	struct lp_cli_faults faults;  /* --fault */
	bool have_seed;               /* --seed N */
	uint64_t seed;
	bool holes_set;               /* --holes given */
	bool holes_zero;              /* --holes zero: send zeros for bytes the capture lacks */
	uint64_t patience_s;          /* --patience S; 0: not given */
	const char *json;             /* --json FILE */
	const char *user;             /* --user USER */
	bool strict;                  /* --strict */
	int verbose;                  /* -v, -vv (also sets lp_log_threshold) */
	bool quiet;                   /* -q (also sets lp_log_threshold) */
	void (*usage)(FILE *out);     /* -h: the program's --help text */
};

/* Their getopt values (short options: LP_CLI_SHORTOPTS) and long options,
 * for the programs' tables beside LP_SETUP_LONGOPTS. */
enum {
	LP_OPT_FAULT = 0x1100, LP_OPT_SEED, LP_OPT_MATCH, LP_OPT_JSON, LP_OPT_USER, LP_OPT_SHARD,
	LP_OPT_STRICT, LP_OPT_HOLES, LP_OPT_PATIENCE,
};
#define LP_CLI_SHORTOPTS "r:f:vqhV"
#define LP_CLI_LONGOPTS \
	{ "read", required_argument, NULL, 'r' }, \
	{ "flow", required_argument, NULL, 'f' }, \
	{ "shard", required_argument, NULL, LP_OPT_SHARD }, \
	{ "match", required_argument, NULL, LP_OPT_MATCH }, \
	{ "fault", required_argument, NULL, LP_OPT_FAULT }, \
	{ "seed", required_argument, NULL, LP_OPT_SEED }, \
	{ "holes", required_argument, NULL, LP_OPT_HOLES }, \
	{ "patience", required_argument, NULL, LP_OPT_PATIENCE }, \
	{ "json", required_argument, NULL, LP_OPT_JSON }, \
	{ "user", required_argument, NULL, LP_OPT_USER }, \
	{ "strict", no_argument, NULL, LP_OPT_STRICT }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }
/* lp_cli_option() for an option that is not one of these. */
#define LP_CLI_NOT_MINE (-1)
/* -h and -V: said; the program exits 0. */
#define LP_CLI_DONE (-2)

/* One option getopt_long() returned, with its argument: 0 (taken), an exit
 * status (the usage error said), LP_CLI_DONE or LP_CLI_NOT_MINE. */
int lp_cli_option(struct lp_cli_opts *o, int opt, const char *arg);

/* getopt_long() (called with opterr 0 and a ':' first in its option string)
 * returned '?' or ':' for the argument before optind_now: the usage error,
 * said as getopt would, under the program's own name. */
int lp_cli_getopt_error(int opt, char *const *argv, int optind_now);

/* -vv: every packet link sends and takes, one line each on stderr, timed
 * from this call (about when the loop's clock starts). */
void lp_cli_trace(struct lp_link *link);

/* The --json report's destination: a file, or standard output for "-". */
struct lp_json_out {
	const char *path;       /* NULL: no JSON report */
	FILE *fp;
	bool written;           /* the report (a document, or a session's line) is out */
};

/* Open it before any work and before anything drops privileges, so that a
 * bad path is said at once; "" is refused by name. 0 or an exit status. */
int lp_cli_json_open(struct lp_json_out *j, const char *path);

/* At the end of the run: when no report was written and rc says why, an
 * error document ({"verdict":"error","exit_code":rc,"error":...}, the
 * first error logged), also on standard output for --json - (path, or
 * found in argv when the error came before --json was read) that was never
 * opened; then the file is closed. rc, or LP_EXIT_ENV when writing failed
 * (said). */
int lp_cli_json_close(struct lp_json_out *j, const char *path, int argc, char **argv, int rc);

#endif

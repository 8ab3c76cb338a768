/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A tiny level-gated logger for the programs' edges (never library code). */
#ifndef TCPLIVEPLAY_LOG_H
#define TCPLIVEPLAY_LOG_H

#include <stdarg.h>

enum lp_log_level { LP_LOG_ERR, LP_LOG_WARN, LP_LOG_INFO, LP_LOG_DEBUG };

/* Messages above this level are dropped; default LP_LOG_INFO. */
extern enum lp_log_level lp_log_threshold;
/* Program name put in front of errors and warnings. */
extern const char *lp_log_prog;

/* "PROG: [warning: ]message" on stderr (information and debugging output
 * without the prefix), when level is within the threshold. */
void lp_log(enum lp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lp_log_v(enum lp_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The first error logged (without the program's name), "" when none: for a
 * JSON report of a run that ended in an error. */
const char *lp_log_first_error(void);

#define log_err(...) lp_log(LP_LOG_ERR, __VA_ARGS__)
#define log_warn(...) lp_log(LP_LOG_WARN, __VA_ARGS__)
#define log_info(...) lp_log(LP_LOG_INFO, __VA_ARGS__)
#define log_dbg(...) lp_log(LP_LOG_DEBUG, __VA_ARGS__)

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "tcpliveplay/log.h"

enum lp_log_level lp_log_threshold = LP_LOG_INFO;
const char *lp_log_prog = "tcpliveplay";

static char first_error[512];

void lp_log_v(enum lp_log_level level, const char *fmt, va_list ap)
{
	if (level == LP_LOG_ERR && !first_error[0]) {
		va_list copy;

		va_copy(copy, ap);
		vsnprintf(first_error, sizeof(first_error), fmt, copy);
		va_end(copy);
	}
	if (level > lp_log_threshold)
		return;
	if (level <= LP_LOG_WARN)
		fprintf(stderr, "%s: %s", lp_log_prog, level == LP_LOG_WARN ? "warning: " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void lp_log(enum lp_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lp_log_v(level, fmt, ap);
	va_end(ap);
}

const char *lp_log_first_error(void)
{
	return first_error;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "tcpliveplay/log.h"

enum lp_log_level lp_log_threshold = LP_LOG_INFO;
const char *lp_log_prog = "tcpliveplay";

void lp_log(enum lp_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > lp_log_threshold)
		return;
	if (level <= LP_LOG_WARN)
		fprintf(stderr, "%s: %s", lp_log_prog, level == LP_LOG_WARN ? "warning: " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

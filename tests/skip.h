/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check has no "skipped" result: a test that cannot run calls lp_test_skip(),
 * which says why on stdout and counts it, so that the runner's last line
 * reports it as skipped rather than passed. */
#ifndef TCPLIVEPLAY_TEST_SKIP_H
#define TCPLIVEPLAY_TEST_SKIP_H

void lp_test_skip(const char *test, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

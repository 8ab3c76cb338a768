/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one Check runner: every suite listed in suites.def. After Check's own
 * summary it prints "unit: N passed, N failed, N skipped", skipped tests being
 * those that called lp_test_skip() (each test runs in a child process, so the
 * count goes through a file). */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skip.h"

#define SUITE(name) Suite *name##_suite(void);
#include "suites.def"
#undef SUITE

static char skip_log[] = "/tmp/lp-skips.XXXXXX";

void lp_test_skip(const char *test, const char *fmt, ...)
{
	va_list ap;
	FILE *fp;

	printf("%s: skipped: ", test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	fp = fopen(skip_log, "a");
	if (fp) {
		fprintf(fp, "%s\n", test);
		fclose(fp);
	}
}

/* Tests that skipped, each counted once however often it said so. */
static int count_skipped(const char *path)
{
	char seen[512][128], line[128];
	FILE *fp = fopen(path, "r");
	int n = 0;

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		int k = 0;

		while (k < n && strcmp(seen[k], line))
			k++;
		if (k == n && n < 512)
			snprintf(seen[n++], sizeof(seen[0]), "%s", line);
	}
	fclose(fp);
	return n;
}

int main(void)
{
	SRunner *sr = srunner_create(NULL);
	int fd = mkstemp(skip_log);
	int failed, run, skipped;

	if (fd >= 0)
		close(fd);
#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.def"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	skipped = count_skipped(skip_log);
	unlink(skip_log);
	printf("unit: %d passed, %d failed, %d skipped\n", run - failed - skipped, failed, skipped);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

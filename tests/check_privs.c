/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lp_drop_privileges(): each test runs in its own forked process (Check's
 * default), so dropping there leaves the runner as it was. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skip.h"
#include "tcpliveplay/privs.h"

/* A capability set from /proc/self/status ("CapEff", "CapBnd"). */
static unsigned long long cap_set(const char *field)
{
	char line[256];
	unsigned long long v = ~0ull;
	FILE *fp = fopen("/proc/self/status", "r");
	size_t n = strlen(field);

	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(fp);
	return v;
}

static bool forked(void)
{
	const char *f = getenv("CK_FORK");

	return !f || strcmp(f, "no");
}

START_TEST(drop_all_capabilities)
{
	char err[128] = "";

	if (!forked()) {
		lp_test_skip("drop_all_capabilities", "needs Check's fork mode (CK_FORK=no is set)");
		return;
	}
	ck_assert_int_eq(lp_drop_privileges(NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(cap_set("CapEff"), 0);
	ck_assert_uint_eq(cap_set("CapPrm"), 0);
}
END_TEST

START_TEST(unknown_user)
{
	char err[128] = "";
	int rc;

	if (!forked()) {
		lp_test_skip("unknown_user", "needs Check's fork mode (CK_FORK=no is set)");
		return;
	}
	rc = lp_drop_privileges("no-such-user-tcpliveplay", err, sizeof(err));
	if (geteuid() == 0) {
		ck_assert_int_eq(rc, -ENOENT);
		ck_assert_msg(strstr(err, "no-such-user-tcpliveplay") != NULL, "message: %s", err);
	} else {
		ck_assert_int_eq(rc, -EPERM);
		ck_assert_msg(strstr(err, "root") != NULL, "message: %s", err);
	}
}
END_TEST

Suite *privs_suite(void)
{
	Suite *s = suite_create("privs");
	TCase *tc = tcase_create("privs");

	tcase_add_test(tc, drop_all_capabilities);
	tcase_add_test(tc, unknown_user);
	suite_add_tcase(s, tc);
	return s;
}

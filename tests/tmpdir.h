/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check fixtures for tests that write files: each TCase gets a directory
 * (case_setup/case_teardown, unchecked: made and removed in the runner's
 * process, so it goes even when a test fails), each test a fresh one inside
 * it (setup/teardown, checked), and tpath() names a file there (four names
 * may be held at once). Included once by each test file that writes files. */
#ifndef TCPLIVEPLAY_TEST_TMPDIR_H
#define TCPLIVEPLAY_TEST_TMPDIR_H

#include <check.h>

#include "pcapgen.h"

static char casedir[1024], tmpdir[1100];

static void case_setup(void)
{
	ck_assert_msg(pg_tmpdir(NULL, casedir, sizeof(casedir)) != NULL, "cannot create a temporary directory");
}

static void case_teardown(void)
{
	pg_rmdir(casedir);
}

static void setup(void)
{
	ck_assert_msg(pg_tmpdir(casedir, tmpdir, sizeof(tmpdir)) != NULL, "cannot create a temporary directory");
}

static void teardown(void)
{
	pg_rmdir(tmpdir);
}

static const char *tpath(const char *name)
{
	static char buf[4][1200];
	static int k;

	k = (k + 1) % 4;
	return pg_path(buf[k], sizeof(buf[k]), tmpdir, name);
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <cap-ng.h>
#include <linux/capability.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpliveplay/privs.h"
#include "tcpliveplay/util.h"

static int lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	uint64_t v;

	if (pw) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return 0;
	}
	if (lp_parse_uint(user, 1, 0x7fffffff, &v) == 0) {
		*uid = (uid_t)v;
		*gid = (gid_t)v;
		return 0;
	}
	lp_set_err(err, errlen, "no user '%s'", user);
	return -ENOENT;
}

int lp_drop_privileges(const char *user, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	int rc, bounding;

	capng_get_caps_process();
	/* The bounding set can be cleared only with CAP_SETPCAP (root has it; a
	 * program given just CAP_NET_RAW and CAP_NET_ADMIN by setcap has not). */
	bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_BOTH);
	if (!user) {
		if (capng_apply(bounding ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS)) {
			lp_set_err(err, errlen, "cannot drop capabilities");
			return -EPERM;
		}
		return 0;
	}
	if (geteuid() != 0) {
		lp_set_err(err, errlen, "--user needs the program to start as root");
		return -EPERM;
	}
	rc = lookup_user(user, &uid, &gid, err, errlen);
	if (rc)
		return rc;
	rc = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc) {
		lp_set_err(err, errlen, "cannot become user '%s' (libcap-ng error %d)", user, rc);
		return -EPERM;
	}
	return 0;
}

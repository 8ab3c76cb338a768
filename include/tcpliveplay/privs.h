/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Least privilege: once the link is open (a packet socket, or a TAP made and
 * configured) and the RST guard is in place, neither program needs a
 * capability again (descriptors keep the rights they were opened with, the
 * kernel deletes the guard's table when its socket closes and a TAP made for
 * the run when its descriptor closes). So every capability is dropped, from the bounding set
 * too, and a program started as root can also become another user.
 */
#ifndef TCPLIVEPLAY_PRIVS_H
#define TCPLIVEPLAY_PRIVS_H

#include <stddef.h>

/* Drop every capability; with user (a name or a number), also switch to that
 * user and its group, without supplementary groups. 0, -EPERM (switching
 * user needs root), -ENOENT (no such user) or another negative errno, with
 * a message in err. */
int lp_drop_privileges(const char *user, char *err, size_t errlen);

#endif

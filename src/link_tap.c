/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TAP link: the device's descriptor from /dev/net/tun, one Ethernet frame per
 * read or write; the frames are handled by link.c. The device is attached to
 * when it exists and created otherwise; a device created here is not
 * persistent, so the kernel removes it (with its addresses and routes) when
 * the last descriptor closes: on exit, on kill -9, on any path. The
 * descriptor is close-on-exec and closed in place (no helper process keeps
 * it), so the device is gone when the program is.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "link_int.h"
#include "tcpliveplay/link_tap.h"
#include "tcpliveplay/netlink.h"

#define TUN_PATH "/dev/net/tun"

struct tap_link {
	struct lp_link base;
	char name[IF_NAMESIZE];          /* "" when none was given */
	uint64_t drops_base;             /* the device's tx_dropped when we took it */
	uint8_t buf[LP_LINK_FRAME_MAX + 64];
};

/* The device's frames the kernel dropped for want of a reader. */
static uint64_t tx_dropped(const char *name)
{
	struct lp_ifinfo ifi;
	char err[128];

	if (!name[0] || lp_nl_link_get(name, &ifi, err, sizeof(err)) || !ifi.has_stats)
		return 0;
	return ifi.tx_dropped;
}

static int tap_xmit(struct lp_link *l, const uint8_t *frame, size_t len)
{
	ssize_t n;

	do
		n = write(l->fd, frame, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		snprintf(l->err, sizeof(l->err), "write: %s%s", strerror(e),
			 e == EBADFD ? " (the TAP device was deleted)" : "");
		return -e;
	}
	if ((size_t)n != len) {
		snprintf(l->err, sizeof(l->err), "write: %zd of %zu bytes", n, len);
		return -EIO;
	}
	return 0;
}

static int tap_recv(struct lp_link *l)
{
	struct tap_link *tl = (struct tap_link *)l;

	for (unsigned i = 0; i < LP_LINK_RX_BATCH; i++) {
		ssize_t n = read(l->fd, tl->buf, sizeof(tl->buf));

		if (n < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			int e = errno;

			snprintf(l->err, sizeof(l->err), "read: %s%s", strerror(e),
				 e == EBADFD ? " (the TAP device was deleted)" : "");
			return -EIO;
		}
		if (n == 0)
			return 0;
		lp_link_input(l, tl->buf, (size_t)n, (size_t)n, 0);
	}
	return 0;
}

static uint64_t tap_drops(struct lp_link *l)
{
	struct tap_link *tl = (struct tap_link *)l;
	uint64_t now = tx_dropped(tl->name);

	return now > tl->drops_base ? now - tl->drops_base : 0;
}

static void tap_destroy(struct lp_link *l)
{
	free(l);
}

static const struct lp_link_ops tap_ops = {
	.kind = "TAP",
	.xmit = tap_xmit,
	.recv = tap_recv,
	.drops = tap_drops,
	.destroy = tap_destroy,
	.close_waits = false,
};

int lp_link_tap_new(int fd, const char *name, const struct lp_link_cfg *cfg, struct lp_link **out, char *err,
		    size_t errlen)
{
	struct tap_link *tl;
	int fl;

	*out = NULL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "TAP descriptor: %s", strerror(errno));
		close(fd);
		return -EBADF;
	}
	tl = calloc(1, sizeof(*tl));
	if (!tl) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return -ENOMEM;
	}
	lp_link_init(&tl->base, &tap_ops, fd, true, cfg);
	if (name)
		snprintf(tl->name, sizeof(tl->name), "%s", name);
	tl->drops_base = tx_dropped(tl->name);
	*out = &tl->base;
	return 0;
}

void lp_link_tap_mac(const uint8_t host_mac[6], uint8_t mac[6])
{
	memcpy(mac, host_mac, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	mac[5] ^= 0x01;
}

/* The user running us, for the commands in messages. */
static const char *user_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw && pw->pw_name[0])
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)getuid());
	return buf;
}

/* TUNSETIFF failed with e: why, and the fix. */
static void setiff_error(const char *name, bool exists, int e, char *err, size_t errlen)
{
	char u[64];

	user_name(u, sizeof(u));
	if (!exists && (e == EPERM || e == EACCES))
		snprintf(err, errlen, "cannot create TAP %s: %s; run with CAP_NET_ADMIN, or have root create it "
			 "once for you: ip tuntap add dev %s mode tap user %s && ip link set %s up", name,
			 strerror(e), name, u, name);
	else if (e == EPERM || e == EACCES)
		snprintf(err, errlen, "TAP %s belongs to another user or group; have root make it yours: "
			 "ip tuntap del dev %s mode tap && ip tuntap add dev %s mode tap user %s", name, name,
			 name, u);
	else if (e == EBUSY)
		snprintf(err, errlen, "TAP %s is in use by another program (a TAP device has one reader)", name);
	else if (e == EINVAL)
		snprintf(err, errlen, "%s is not a single-queue TAP device (a TUN device, a multi-queue TAP or "
			 "another kind of interface); name another, or none that exists yet", name);
	else
		snprintf(err, errlen, "TAP %s: %s", name, strerror(e));
}

/* Open /dev/net/tun: the device node must be readable and writable. */
static int open_tun(char *err, size_t errlen)
{
	int fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		snprintf(err, errlen, "%s: %s; load the tun module (modprobe tun)", TUN_PATH, strerror(errno));
	else if (errno == EACCES || errno == EPERM)
		snprintf(err, errlen, "%s: %s; the device node must be readable and writable by this user "
			 "(as root: chmod 0666 %s, as most distributions have it)", TUN_PATH, strerror(errno),
			 TUN_PATH);
	else
		snprintf(err, errlen, "%s: %s", TUN_PATH, strerror(errno));
	return -errno;
}

int lp_tap_open(const char *name, int *fd, bool *created, char *err, size_t errlen)
{
	struct ifreq ifr;
	bool exists = false;
	int t, rc = 0;

	*fd = -1;
	*created = false;
	if (!name || !name[0] || strlen(name) >= IF_NAMESIZE || strchr(name, '/') || strchr(name, '%')) {
		snprintf(err, errlen, "'%s' is not a TAP device name (1 to %d characters, no '/' or '%%')",
			 name ? name : "", IF_NAMESIZE - 1);
		return -EINVAL;
	}
	t = open_tun(err, errlen);
	if (t < 0)
		return t;
	/* Attach when it exists; create it (never take one that appeared
	 * meanwhile for ours: IFF_TUN_EXCL) when it does not. */
	for (int tries = 0; tries < 2; tries++) {
		exists = if_nametoindex(name) != 0;
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, name, strlen(name));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (exists ? 0 : IFF_TUN_EXCL);
		rc = ioctl(t, TUNSETIFF, &ifr) < 0 ? -errno : 0;
		if (rc != -EBUSY || exists)
			break;
	}
	if (rc) {
		setiff_error(name, exists, -rc, err, errlen);
		close(t);
		return rc;
	}
	*fd = t;
	*created = !exists;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The set-up of a live run for both programs; see include/tcpliveplay/setup.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/link_packet.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/nft_guard.h"
#include "tcpliveplay/privs.h"
#include "tcpliveplay/setup.h"

#define PORT_BITMAP (65536 / 8)

/* A boolean sysctl under /proc/sys is set. */
static bool sysctl_on(const char *name)
{
	char path[128], v = '0';
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	if (fread(&v, 1, 1, fp) != 1)
		v = '0';
	fclose(fp);
	return v != '0';
}

static int link_info(struct lp_setup *s)
{
	char err[256];

	if (lp_nl_link_get(s->iface, &s->ifi, err, sizeof(err)))
		return lp_env_error("interface %s: %s", s->iface, err);
	return 0;
}

/* Is addr the host's own? 0 or 1 in *local, else an exit status. */
static int addr_local(const struct lp_endpoint *ep, bool *local)
{
	int rc = lp_nl_addr_is_local(ep->family, ep->addr, NULL);

	if (rc < 0)
		return lp_env_error("cannot list the host's addresses: %s", strerror(-rc));
	*local = rc == 1;
	return 0;
}

static int open_link(struct lp_setup *s, const struct lp_link_cfg *cfg)
{
	char err[512];
	int rc = lp_link_packet_open(s->iface, cfg, &s->link, err, sizeof(err));

	if (rc)
		return rc == -EPROTONOSUPPORT ? lp_usage_error("%s", err) : lp_env_error("%s", err);
	return 0;
}

/* ---- the replayer ---- */

/* A route to every live server; the source is the first route's unless
 * given. */
static int client_routes(struct lp_setup *s, struct lp_setup_client *c)
{
	bool given = c->src.family != 0;
	char a[64], err[512];

	for (size_t k = 0; k < c->nhops; k++) {
		struct lp_hop *h = &c->hops[k];
		int rc;

		lp_endpoint_str(&h->dst, a, sizeof(a));
		rc = lp_nl_route_get(c->family, h->dst.addr, s->ifi.ifindex, &h->route, err, sizeof(err));
		if (!rc)
			h->have_route = true;
		else if (!given || (s->ifi.has_mac && !c->dst_mac))
			return lp_env_error("no route to %s via %s: %s", a, s->iface, err);
		if (c->src.family)
			continue;
		if (!h->route.has_src)
			return lp_env_error("no source address for %s via %s; give --src ADDR", a, s->iface);
		c->src.family = c->family;
		memcpy(c->src.addr, h->route.src, 16);
	}
	c->src.port = c->port_first;
	return 0;
}

/* The next hop's MAC of every live server: given, none on loopback, the
 * kernel's neighbour entry, else asked for on the link. */
static int client_next_hops(struct lp_setup *s, struct lp_setup_client *c)
{
	char a[64], b[64];

	for (size_t k = 0; k < c->nhops && lp_link_has_mac(s->link); k++) {
		struct lp_hop *h = &c->hops[k];
		const uint8_t *nh = h->have_route ? h->route.nexthop : h->dst.addr;

		if (c->dst_mac) {
			memcpy(h->mac, c->dst_mac, 6);
		} else if (s->ifi.type == ARPHRD_LOOPBACK) {
			memset(h->mac, 0, 6);
		} else if (!h->have_route || lp_nl_neigh_get(s->ifi.ifindex, c->family, nh, h->mac)) {
			log_dbg("resolving %s on %s", lp_endpoint_str(&h->dst, a, sizeof(a)), s->iface);
			if (lp_link_resolve(s->link, nh, h->mac, 1000, 3)) {
				inet_ntop(c->family, nh, b, sizeof(b));
				return lp_env_error("no answer from %s on %s to %s; give --dst-mac MAC", b, s->iface,
						    c->family == AF_INET ? "ARP" : "neighbour solicitation");
			}
		}
	}
	if (lp_link_has_mac(s->link))
		lp_link_set_peer_mac(s->link, c->hops[0].mac);
	return 0;
}

int lp_setup_client(struct lp_setup *s, struct lp_setup_client *c)
{
	struct lp_link_cfg cfg;
	char err[512];
	int rc;

	rc = link_info(s);
	if (!rc)
		rc = client_routes(s, c);
	if (!rc)
		rc = addr_local(&c->src, &s->addr_local);
	if (rc)
		return rc;
	memset(&cfg, 0, sizeof(cfg));
	cfg.local = c->src;
	cfg.local_port_last = c->port_last;
	cfg.remote = c->remote;
	memcpy(cfg.local_mac, s->ifi.mac, 6);
	cfg.answer_neigh = !s->addr_local;
	if (s->ifi.type == ARPHRD_LOOPBACK && c->family == AF_INET &&
	    (!sysctl_on("net/ipv4/conf/lo/accept_local") ||
	     (c->src.addr[0] == 127 && !sysctl_on("net/ipv4/conf/lo/route_localnet"))))
		log_warn("on %s the kernel drops injected packets from its own addresses unless "
			 "net.ipv4.conf.lo.accept_local=1 (and net.ipv4.conf.lo.route_localnet=1 for "
			 "127.0.0.0/8)", s->iface);
	rc = open_link(s, &cfg);
	if (!rc)
		rc = client_next_hops(s, c);
	if (rc || !c->guard || !s->addr_local)
		return rc;
	if (lp_nft_guard_install_range(&c->src, c->port_last, &c->remote, &s->guard, err, sizeof(err)))
		return lp_env_error("cannot install the RST guard: %s (or use --rst-guard off)", err);
	return 0;
}

/* ---- the responder ---- */

/* The ports sockets of this network namespace listen on at ep's address or a
 * wildcard (IPv4 clients also reach an IPv6 wildcard), as a bitmap: port p
 * is bit p % 8 of byte p / 8. Read from /proc/net/tcp{,6}, whose addresses
 * are 32-bit words as stored (network order bytes). */
static void kernel_listens(const struct lp_endpoint *ep, uint8_t ports[PORT_BITMAP])
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(ports, 0, PORT_BITMAP);
	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		char line[512];

		if (!fp)
			continue;
		for (unsigned n = 0; n < 1000000 && fgets(line, sizeof(line), fp); n++) {
			unsigned w[4], port, st;
			uint8_t a[16];
			bool found;
			int ok;

			if (f == 0)
				ok = sscanf(line, " %*u: %8x:%4x %*x:%*x %2x", &w[0], &port, &st) == 3;
			else
				ok = sscanf(line, " %*u: %8x%8x%8x%8x:%4x %*x:%*x %2x", &w[0], &w[1], &w[2],
					    &w[3], &port, &st) == 6;
			if (!ok || st != 0x0a || port > 65535)
				continue;
			for (int i = 0; i < (f == 0 ? 1 : 4); i++) {
				uint32_t v = w[i];

				memcpy(a + 4 * i, &v, 4);
			}
			if (f == 0)
				found = ep->family == AF_INET && (!memcmp(a, zero, 4) || !memcmp(a, ep->addr, 4));
			else if (!memcmp(a, zero, 16))
				found = true;
			else if (ep->family == AF_INET6)
				found = !memcmp(a, ep->addr, 16);
			else
				found = !memcmp(a, mapped, 12) && !memcmp(a + 12, ep->addr, 4);
			if (found)
				ports[port / 8] |= (uint8_t)(1u << (port % 8));
		}
		fclose(fp);
	}
}

/* The host owns the address: a served port one of its programs listens on
 * would be answered twice. */
static int refuse_kernel_ports(struct lp_setup *s, const struct lp_endpoint *local,
			       const struct lp_flowpick *pick)
{
	char a[64];

	s->kernel_ports = malloc(PORT_BITMAP);
	if (!s->kernel_ports)
		return lp_env_error("out of memory");
	kernel_listens(local, s->kernel_ports);
	for (size_t i = 0; i < lp_flowpick_nports(pick); i++) {
		struct lp_endpoint ep = *local;

		ep.port = lp_flowpick_port(pick, i);
		if ((s->kernel_ports[ep.port / 8] >> (ep.port % 8)) & 1)
			return lp_env_error("%s: a program of this host listens on that port and would answer the "
					    "clients too; stop it or serve another --port",
					    lp_endpoint_str(&ep, a, sizeof(a)));
	}
	return 0;
}

int lp_setup_server(struct lp_setup *s, const struct lp_endpoint *local, const struct lp_flowpick *pick)
{
	uint16_t last = lp_flowpick_port(pick, lp_flowpick_nports(pick) - 1);
	struct lp_endpoint any;
	struct lp_link_cfg cfg;
	char a[64], p[16], err[512];
	int rc;

	rc = link_info(s);
	if (!rc)
		rc = addr_local(local, &s->addr_local);
	if (!rc && s->addr_local)
		rc = refuse_kernel_ports(s, local, pick);
	if (rc)
		return rc;
	memset(&cfg, 0, sizeof(cfg));
	cfg.local = *local;
	cfg.local_port_last = last;
	memcpy(cfg.local_mac, s->ifi.mac, 6);
	cfg.answer_neigh = !s->addr_local;
	cfg.all_to_local = true;
	rc = open_link(s, &cfg);
	if (rc || !s->addr_local)
		return rc;
	/* The kernel owns the address and would reset every SYN: no RST
	 * leaves from the served ports (ports between them that no flow
	 * serves are answered by us, or left to the host's listener). */
	memset(&any, 0, sizeof(any));
	if (lp_nft_guard_install_range(local, last, &any, &s->guard, err, sizeof(err))) {
		snprintf(p, sizeof(p), "-%u", last);
		return lp_env_error("cannot install the RST guard for %s%s: %s", lp_endpoint_str(local, a, sizeof(a)),
				    last > local->port ? p : "", err);
	}
	return 0;
}

int lp_setup_drop(const char *user)
{
	char err[256];
	int rc = lp_drop_privileges(user, err, sizeof(err));

	if (!rc)
		return 0;
	return rc == -ENOENT ? lp_usage_error("--user: %s", err) : lp_env_error("%s", err);
}

void lp_setup_end(struct lp_setup *s)
{
	lp_nft_guard_free(s->guard);
	s->guard = NULL;
	lp_link_close_async(s->link);
	s->link = NULL;
	free(s->kernel_ports);
	s->kernel_ports = NULL;
}

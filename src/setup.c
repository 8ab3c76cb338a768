/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The set-up of a live run for both programs; see include/tcpliveplay/setup.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/link_packet.h"
#include "tcpliveplay/link_tap.h"
#include "tcpliveplay/log.h"
#include "tcpliveplay/nft_guard.h"
#include "tcpliveplay/privs.h"
#include "tcpliveplay/setup.h"
#include "tcpliveplay/util.h"

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

/* The interface's name, or the TAP's. */
static const char *ifname(const struct lp_setup *s)
{
	return s->want.tap ? s->want.tap : s->want.iface;
}

static int link_info(struct lp_setup *s)
{
	char err[256];

	if (lp_nl_link_get(ifname(s), &s->ifi, err, sizeof(err)))
		return lp_env_error("%s %s: %s", s->want.tap ? "TAP" : "interface", ifname(s), err);
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

struct lp_setup_prep {
	pthread_t thread;
	unsigned block_kib;
	struct lp_packet_sock *ps;
};

/* The receive ring's blocks (KiB) for a transfer of bytes. A block goes to
 * us when full or 1 ms after its first frame, so a kernel TCP sender whose
 * window holds less than a block waits for that timer each round trip: it
 * then sees a round trip of 1 ms and, once HyStart has ended its slow start
 * early, sends at window / 1 ms. Whole segments: 512 KiB (some 340 of them).
 * Segments cut after their headers take a quarter of the room: 128 KiB
 * blocks fill as fast as 512 KiB ones with whole segments, for a transfer
 * mostly in slow start; a long one spends most of its time after it,
 * where 32 KiB blocks (some 100 segments) keep the round trip short at the
 * cost of more wake-ups (bench/README.md, "Segments cut after their
 * headers"). */
static unsigned ring_block_kib(bool cut, uint64_t bytes)
{
	if (!cut)
		return 512;
	return bytes >= LP_SETUP_LONG ? 32 : 128;
}

static void *prepare_thread(void *arg)
{
	struct lp_setup_prep *p = arg;

	p->ps = lp_link_packet_prepare(LP_SETUP_RING_MIB, p->block_kib);
	return NULL;
}

void lp_setup_prepare(struct lp_setup *s, uint64_t file_bytes)
{
	/* A packet socket, whichever interface it is bound to later (-i, or
	 * the route's). */
	if (s->want.tap || file_bytes < LP_SETUP_RING_MIN || s->prep)
		return;
	s->prep = calloc(1, sizeof(*s->prep));
	if (s->prep)
		s->prep->block_kib = ring_block_kib(s->rx_headers_only, file_bytes);
	if (s->prep && pthread_create(&s->prep->thread, NULL, prepare_thread, s->prep)) {
		free(s->prep);
		s->prep = NULL;
	}
}

/* The socket made ahead, if any, once made (NULL when it could not be). */
static struct lp_packet_sock *prepared(struct lp_setup *s)
{
	struct lp_packet_sock *ps = NULL;

	if (s->prep) {
		pthread_join(s->prep->thread, NULL);
		ps = s->prep->ps;
		free(s->prep);
		s->prep = NULL;
	}
	return ps;
}

/* Segments one send may carry on the interface: as many as its GSO limits
 * allow (ip link set DEV gso_max_segs 1 makes each packet at its egress
 * hook one segment, for a replay as for the kernel's TCP); 1 when the
 * kernel did not say. */
static unsigned gso_segs(const struct lp_ifinfo *ifi)
{
	unsigned n = ifi->gso_max_segs;

	if (ifi->gso_max_size && ifi->mtu && ifi->gso_max_size / ifi->mtu < n)
		n = ifi->gso_max_size / ifi->mtu;
	return n ? n : 1;
}

/* The link on an interface, with a receive ring for a big transfer (made
 * ahead, or now). Another kind of link on an interface (an AF_XDP socket,
 * say) is one more case here. */
static int open_link(struct lp_setup *s, struct lp_link_cfg *cfg)
{
	char err[512];
	int rc;

	if (s->rx_expect >= LP_SETUP_RING_MIN) {
		cfg->ring_mib = LP_SETUP_RING_MIB;
		cfg->ring_block_kib = ring_block_kib(cfg->rx_headers_only, s->rx_expect);
	}
	cfg->gso_segs = gso_segs(&s->ifi);
	rc = lp_link_packet_open(s->want.iface, cfg, prepared(s), &s->link, err, sizeof(err));

	if (rc)
		return rc == -EPROTONOSUPPORT ? lp_usage_error("%s", err) : lp_env_error("%s", err);
	return 0;
}

/* The guarded connections' inbound packets are dropped at the interface's
 * ingress, after the packet socket has seen them: the kernel neither works
 * on them nor makes a reset for each. Without it (a kernel without netdev
 * tables) the guard still drops the resets: a warning. */
static void keep_from_kernel(struct lp_setup *s)
{
	char err[512];

	if (lp_nft_guard_drop_inbound(s->guard, s->want.iface, err, sizeof(err)))
		log_warn("the local kernel still sees the replayed packets (and resets each, the RST guard "
			 "dropping them): %s", err);
}

/* ---- the replayer ---- */

/* The name of interface ifindex, for messages. */
static const char *index_name(int ifindex, char buf[IF_NAMESIZE])
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

/* No -i: the interface of the kernel's route to the first server, as ping
 * and curl take it. */
static int route_iface(struct lp_setup *s, const struct lp_setup_client *c)
{
	const struct lp_hop *h = &c->hops[0];
	struct lp_route rt;
	char a[64], err[512];

	inet_ntop(c->family, h->dst.addr, a, sizeof(a));
	if (lp_addr_link_local(&h->dst))
		return lp_usage_error("--dst %s: a link-local address needs its interface: -i IFACE, or "
				      "ADDR%%IFACE", a);
	if (lp_nl_route_get(c->family, h->dst.addr, 0, &rt, err, sizeof(err)))
		return lp_env_error("no route to %s: %s", a, err);
	s->want.iface = index_name(rt.ifindex, s->route_iface);
	log_dbg("route: %s via interface %s (no -i given: taken from the route)", a, s->want.iface);
	return 0;
}

/* The kernel's own route to h: it must leave through our interface, where
 * the replay sends (else the replay would speak where the host would not:
 * an ARP that no one answers, a loopback that drops it), and not to a
 * broadcast address. With --dst-mac the user says where to send. */
static int route_check(const struct lp_setup *s, const struct lp_setup_client *c,
		       const struct lp_hop *h)
{
	struct lp_route rt;
	char a[64], via[IF_NAMESIZE], err[512];

	/* No route: the route lookup through the interface says so later. */
	if (lp_addr_link_local(&h->dst) ||
	    lp_nl_route_get(c->family, h->dst.addr, 0, &rt, err, sizeof(err)))
		return 0;
	inet_ntop(c->family, h->dst.addr, a, sizeof(a));
	index_name(rt.ifindex, via);
	if (rt.broadcast)
		return lp_usage_error("--dst %s is the broadcast address of %s's subnet: a broadcast address "
				      "cannot be a TCP peer", a, via);
	if (rt.ifindex == s->ifi.ifindex)
		return 0;
	if (rt.local)
		return lp_env_error("%s is this host's own address (the kernel delivers it on %s, not %s): leave "
				    "-i out to replay on %s, or replay behind a TAP (--tap NAME)", a, via,
				    s->want.iface, via);
	if (s->ifi.type == ARPHRD_LOOPBACK)
		return lp_env_error("the route to %s goes via %s, not %s: leave -i out (the route's interface is "
				    "taken)", a, via, s->want.iface);
	if (!c->dst_mac)
		return lp_env_error("the route to %s goes via %s, not %s: leave -i out (the route's interface is "
				    "taken), or give --dst-mac MAC to send on %s all the same", a, via,
				    s->want.iface, s->want.iface);
	log_warn("the route to %s goes via %s; sending on %s to --dst-mac as asked", a, via, s->want.iface);
	return 0;
}

/* A route to every live server; the source is the first route's unless
 * given. */
static int client_routes(struct lp_setup *s, struct lp_setup_client *c)
{
	bool given = c->src.family != 0;
	char a[64], err[512];

	for (size_t k = 0; k < c->nhops; k++) {
		struct lp_hop *h = &c->hops[k];
		int rc = route_check(s, c, h);

		if (rc)
			return rc;
		lp_endpoint_str(&h->dst, a, sizeof(a));
		rc = lp_nl_route_get(c->family, h->dst.addr, s->ifi.ifindex, &h->route, err, sizeof(err));
		if (!rc)
			h->have_route = true;
		else if (!given || (s->ifi.has_mac && !c->dst_mac))
			return lp_env_error("no route to %s via %s: %s", a, s->want.iface, err);
		if (c->src.family)
			continue;
		if (!h->route.has_src)
			return lp_env_error("no source address for %s via %s; give --src ADDR", a, s->want.iface);
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
			log_dbg("resolving %s on %s", lp_endpoint_str(&h->dst, a, sizeof(a)), s->want.iface);
			if (lp_link_resolve(s->link, nh, h->mac, 1000, 3)) {
				inet_ntop(c->family, nh, b, sizeof(b));
				return lp_env_error("no answer from %s on %s to %s; give --dst-mac MAC", b, s->want.iface,
						    c->family == AF_INET ? "ARP" : "neighbour solicitation");
			}
		}
	}
	if (lp_link_has_mac(s->link))
		lp_link_set_peer_mac(s->link, c->hops[0].mac);
	return 0;
}

static int iface_client(struct lp_setup *s, struct lp_setup_client *c)
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
	cfg.rx_headers_only = s->rx_headers_only;
	if (s->ifi.type == ARPHRD_LOOPBACK && c->family == AF_INET &&
	    (!sysctl_on("net/ipv4/conf/lo/accept_local") ||
	     (c->src.addr[0] == 127 && !sysctl_on("net/ipv4/conf/lo/route_localnet"))))
		return lp_env_error("on %s the kernel drops the packets we inject from its own addresses; as root: "
				    "sysctl -w net.ipv4.conf.lo.accept_local=1%s", s->want.iface,
				    c->src.addr[0] == 127 ? " net.ipv4.conf.lo.route_localnet=1" : "");
	rc = open_link(s, &cfg);
	if (!rc)
		rc = client_next_hops(s, c);
	if (rc || !c->guard || !s->addr_local)
		return rc;
	if (lp_nft_guard_install_range(&c->src, c->port_last, &c->remote, &s->guard, err, sizeof(err)))
		return lp_env_error("cannot install the RST guard: %s (or use --rst-guard off)", err);
	keep_from_kernel(s);
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

static int iface_server(struct lp_setup *s, const struct lp_endpoint *local, const struct lp_flowpick *pick,
			uint16_t last)
{
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
	keep_from_kernel(s);
	return 0;
}

/* ---- a TAP device ---- */

static int tap_configure(struct lp_setup *s)
{
	char a[64], err[512];

	if (lp_nl_link_set_up(s->ifi.ifindex, err, sizeof(err)))
		return lp_env_error("cannot bring TAP %s up: %s", s->want.tap, err);
	for (size_t i = 0; i < s->want.ntap_addr; i++) {
		const struct lp_prefix *p = &s->want.tap_addr[i];

		if (lp_nl_addr_add(s->ifi.ifindex, p, err, sizeof(err)))
			return lp_env_error("cannot add %s/%u to TAP %s: %s",
					    inet_ntop(p->family, p->addr, a, sizeof(a)) ? a : "?", p->plen, s->want.tap, err);
	}
	return 0;
}

/* Open the TAP, made (then configured) or attached to (then it must be up);
 * its descriptor in *fd, or an exit status. */
static int tap_prepare(struct lp_setup *s, int *fd)
{
	char err[512];
	int rc = lp_tap_open(s->want.tap, fd, &s->tap_created, err, sizeof(err));

	if (rc)
		return rc == -EINVAL ? lp_usage_error("--tap: %s", err) : lp_env_error("%s", err);
	if (!s->tap_created && s->want.ntap_addr)
		rc = lp_usage_error("--tap-addr: TAP %s exists already and keeps its own addresses (ip addr show %s); "
				    "leave --tap-addr out, or name a TAP that does not exist yet", s->want.tap, s->want.tap);
	else if (s->tap_created && !s->want.ntap_addr)
		rc = lp_usage_error("--tap %s makes the device: give its host side an address with "
				    "--tap-addr ADDR/PREFIX", s->want.tap);
	if (!rc)
		rc = link_info(s);
	if (!rc && s->tap_created)
		rc = tap_configure(s);
	else if (!rc && !s->ifi.up)
		rc = lp_env_error("TAP %s is down; as root, once: ip link set %s up", s->want.tap, s->want.tap);
	if (rc) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

/* The host sends packets for ep's address through the TAP. */
static int tap_routed(const struct lp_setup *s, const struct lp_endpoint *ep, const char *opt)
{
	struct lp_route rt;
	char a[64], err[256] = "";
	int rc;

	inet_ntop(ep->family, ep->addr, a, sizeof(a));
	rc = lp_nl_route_get(ep->family, ep->addr, 0, &rt, err, sizeof(err));
	if (!rc && rt.ifindex == s->ifi.ifindex)
		return 0;
	return lp_env_error("the host does not route %s through TAP %s%s%s; give %s an address of the TAP's "
			    "subnet, or route it: ip route add %s dev %s", a, s->want.tap, rc ? ": " : "", err, opt, a,
			    s->want.tap);
}

/* Behind a TAP our address is not the host's: the host is the peer. */
static int tap_not_host(const struct lp_endpoint *ep, const char *opt, const char *tap, const char *who)
{
	bool own = false;
	char a[64];
	int rc = addr_local(ep, &own);

	if (rc || !own)
		return rc;
	return lp_usage_error("%s %s is this host's own address; behind TAP %s %s needs an address of its own",
			      opt, inet_ntop(ep->family, ep->addr, a, sizeof(a)) ? a : "?", tap, who);
}

/* The host side's first address of family: of --tap-addr for a TAP made
 * here, else the kernel's. */
static int tap_host_side(const struct lp_setup *s, int family, struct lp_prefix *p)
{
	for (size_t i = 0; i < s->want.ntap_addr; i++) {
		if (s->want.tap_addr[i].family == family) {
			*p = s->want.tap_addr[i];
			return 0;
		}
	}
	if (!s->tap_created && !lp_nl_addr_first(s->ifi.ifindex, family, p))
		return 0;
	return lp_env_error("TAP %s has no %s address on the host side (%s); or give --src ADDR", s->want.tap,
			    family == AF_INET ? "IPv4" : "IPv6",
			    s->tap_created ? "give one with --tap-addr ADDR/PREFIX" :
			    "as root, once: ip addr add ADDR/PREFIX dev NAME nodad");
}

/* The replayed client's address: given, or next to the host side's. */
static int tap_source(struct lp_setup *s, struct lp_setup_client *c)
{
	struct lp_prefix host;
	char a[64];
	int rc;

	if (!c->src.family) {
		rc = tap_host_side(s, c->family, &host);
		if (rc)
			return rc;
		if (lp_setup_next_addr(&host, c->src.addr))
			return lp_env_error("no address next to %s/%u on TAP %s for the replayed client; give --src ADDR",
					    inet_ntop(host.family, host.addr, a, sizeof(a)) ? a : "?", host.plen, s->want.tap);
		c->src.family = c->family;
	}
	c->src.port = c->port_first;
	rc = tap_not_host(&c->src, "--src", s->want.tap, "the replayed client");
	return rc ? rc : tap_routed(s, &c->src, "--src");
}

static int tap_link(struct lp_setup *s, int fd, struct lp_link_cfg *cfg)
{
	char err[256];

	lp_link_tap_mac(s->ifi.mac, cfg->local_mac);
	cfg->answer_neigh = true;
	if (lp_link_tap_new(fd, s->want.tap, cfg, &s->link, err, sizeof(err)))
		return lp_env_error("TAP %s: %s", s->want.tap, err);
	return 0;
}

static int tap_client(struct lp_setup *s, struct lp_setup_client *c)
{
	struct lp_link_cfg cfg;
	int fd, rc = tap_prepare(s, &fd);

	if (rc)
		return rc;
	rc = tap_source(s, c);
	if (rc) {
		close(fd);
		return rc;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.local = c->src;
	cfg.local_port_last = c->port_last;
	cfg.remote = c->remote;
	rc = tap_link(s, fd, &cfg);
	if (rc)
		return rc;
	/* The kernel is the only other host on this wire. */
	for (size_t k = 0; k < c->nhops; k++)
		memcpy(c->hops[k].mac, s->ifi.mac, 6);
	lp_link_set_peer_mac(s->link, s->ifi.mac);
	return 0;
}

static bool in_prefix(const struct lp_prefix *p, int family, const uint8_t *addr)
{
	if (p->family != family)
		return false;
	for (unsigned b = 0; b < p->plen; b++)
		if (((p->addr[b / 8] ^ addr[b / 8]) >> (7 - b % 8)) & 1)
			return false;
	return true;
}

/* A TAP made here: a route to local through it, unless an address given
 * to it covers local (its prefix route does). */
static int tap_route_to(const struct lp_setup *s, const struct lp_endpoint *local)
{
	struct lp_prefix dst;
	char a[64], err[256];

	for (size_t i = 0; i < s->want.ntap_addr; i++)
		if (in_prefix(&s->want.tap_addr[i], local->family, local->addr))
			return 0;
	memset(&dst, 0, sizeof(dst));
	dst.family = local->family;
	memcpy(dst.addr, local->addr, 16);
	dst.plen = local->family == AF_INET ? 32 : 128;
	if (lp_nl_route_add(s->ifi.ifindex, &dst, err, sizeof(err)))
		return lp_env_error("cannot route %s through TAP %s: %s",
				    inet_ntop(local->family, local->addr, a, sizeof(a)) ? a : "?", s->want.tap, err);
	return 0;
}

static int tap_server(struct lp_setup *s, const struct lp_endpoint *local, uint16_t last)
{
	struct lp_link_cfg cfg;
	int fd, rc = tap_prepare(s, &fd);

	if (rc)
		return rc;
	rc = tap_not_host(local, "--ip", s->want.tap, "the emulated host");
	if (!rc && s->tap_created)
		rc = tap_route_to(s, local);
	if (!rc)
		rc = tap_routed(s, local, "--ip");
	if (rc) {
		close(fd);
		return rc;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.local = *local;
	cfg.local_port_last = last;
	cfg.all_to_local = true;
	return tap_link(s, fd, &cfg);
}

/* ---- both programs ---- */

static void set_where(struct lp_setup *s)
{
	snprintf(s->where, sizeof(s->where), "%s%s", s->want.tap ? "TAP " : "", ifname(s));
}

int lp_setup_client(struct lp_setup *s, struct lp_setup_client *c)
{
	int rc = 0;

	if (!s->want.tap && !s->want.iface)
		rc = route_iface(s, c);
	if (rc)
		return rc;
	set_where(s);
	return s->want.tap ? tap_client(s, c) : iface_client(s, c);
}

int lp_setup_server(struct lp_setup *s, const struct lp_endpoint *local, const struct lp_flowpick *pick)
{
	uint16_t last = lp_flowpick_port(pick, lp_flowpick_nports(pick) - 1);

	set_where(s);
	return s->want.tap ? tap_server(s, local, last) : iface_server(s, local, pick, last);
}

int lp_setup_parse_prefix(const char *s, struct lp_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	struct lp_endpoint ep;
	uint64_t v;
	size_t n;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	n = (size_t)(slash - s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (lp_addr_parse(buf, &ep) || lp_parse_uint(slash + 1, 0, ep.family == AF_INET ? 32 : 128, &v))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->family = ep.family;
	memcpy(p->addr, ep.addr, 16);
	p->plen = (unsigned)v;
	return 0;
}

int lp_setup_option(struct lp_link_choice *ch, int opt, const char *arg)
{
	switch (opt) {
	case 'i':
		ch->iface = arg;
		return 0;
	case LP_OPT_TAP:
		ch->tap = arg;
		return 0;
	case LP_OPT_TAP_ADDR:
		if (ch->ntap_addr == LP_SETUP_MAX_TAP_ADDRS)
			return lp_usage_error("--tap-addr: at most %d", LP_SETUP_MAX_TAP_ADDRS);
		if (lp_setup_parse_prefix(arg, &ch->tap_addr[ch->ntap_addr]))
			return lp_usage_error("--tap-addr: '%s' is not ADDR/PREFIX (IPv4 or IPv6)", arg);
		ch->ntap_addr++;
		return 0;
	default:
		return LP_SETUP_NOT_MINE;
	}
}

int lp_setup_zone(struct lp_link_choice *ch, const char *opt, const char *arg, const char *zone)
{
	if (!zone[0])
		return 0;
	if (ch->zone[0] && strcmp(ch->zone, zone))
		return lp_usage_error("%s %s: its zone %s is not %s %s's (%s): one interface per run", opt, arg,
				      zone, ch->zone_opt, ch->zone_arg, ch->zone);
	snprintf(ch->zone, sizeof(ch->zone), "%s", zone);
	ch->zone_opt = opt;
	ch->zone_arg = arg;
	return 0;
}

int lp_setup_check_opts(struct lp_link_choice *ch)
{
	if (ch->iface && ch->tap)
		return lp_usage_error("-i and --tap: one or the other");
	if (ch->ntap_addr && !ch->tap)
		return lp_usage_error("--tap-addr goes with --tap");
	if (ch->zone[0] && ch->tap)
		return lp_usage_error("%s %s: an address with a zone goes with -i, not --tap", ch->zone_opt,
				      ch->zone_arg);
	if (ch->zone[0] && ch->iface && strcmp(ch->iface, ch->zone))
		return lp_usage_error("%s %s names interface %s, but -i names %s", ch->zone_opt, ch->zone_arg,
				      ch->zone, ch->iface);
	if (ch->zone[0])
		ch->iface = ch->zone;
	return 0;
}

/* Are the host bits of a (after p's prefix) all bit? */
static bool host_bits_all(const struct lp_prefix *p, const uint8_t *a, unsigned bit)
{
	unsigned total = p->family == AF_INET ? 32 : 128;

	for (unsigned b = p->plen; b < total; b++)
		if (((a[b / 8] >> (7 - b % 8)) & 1) != bit)
			return false;
	return true;
}

int lp_setup_next_addr(const struct lp_prefix *p, uint8_t out[16])
{
	size_t alen = p->family == AF_INET ? 4 : 16;
	unsigned host = (unsigned)alen * 8 - p->plen;

	if ((p->family != AF_INET && p->family != AF_INET6) || p->plen > alen * 8)
		return -EINVAL;
	for (int step = 1; step >= -1; step -= 2) {
		uint8_t a[16] = { 0 };
		size_t i = alen;

		memcpy(a, p->addr, alen);
		/* a += step, with carry (or borrow) */
		while (i-- > 0) {
			a[i] = (uint8_t)(a[i] + step);
			if (a[i] != (step > 0 ? 0x00 : 0xff))
				break;
		}
		if (!in_prefix(p, p->family, a))
			continue;
		if (host >= 2 && (host_bits_all(p, a, 0) || (p->family == AF_INET && host_bits_all(p, a, 1))))
			continue;
		memcpy(out, a, alen);
		return 0;
	}
	return -ENOENT;
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
	/* Both the guard's socket and the packet socket wait for a grace
	 * period on their last close: a helper takes that wait. The guard's
	 * tables go when the helper closes its copy, a moment after. */
	int fds[2] = { lp_link_release_fd(s->link), lp_nft_guard_fd(s->guard) };
	int go;

	/* A socket made ahead and not used (the run ended before its link). */
	lp_link_packet_prepared_free(prepared(s));
	go = lp_release_helper(fds, 2);
	lp_nft_guard_free(s->guard);
	s->guard = NULL;
	lp_link_close(s->link);
	s->link = NULL;
	lp_release_go(go);
	free(s->kernel_ports);
	s->kernel_ports = NULL;
}

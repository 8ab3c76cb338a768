/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcpliveplay: the flows of a live replay, where they go and from which
 * ports: --dst mappings, --flow and --shard, the flows skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/cli.h"
#include "tcpliveplay/flow.h"
#include "tcpliveplay/flowset.h"
#include "tcpliveplay/multi.h"
#include "tcpliveplay/rng.h"
#include "tcpliveplay/util.h"

#include "tcpliveplay_int.h"

/* Source ports 1024 to 65535, one per flow. */
#define MAX_FLOWS (65536 - 1024)

/* The OLD part of an OLD=NEW argument, for messages. */
static const char *old_str(const struct dst_map *d, const char *arg)
{
	static char buf[INET6_ADDRSTRLEN + 16];
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;

	(void)d;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	return buf;
}

int tlp_parse_dsts(struct ctx *c)
{
	struct dst_map *maps = c->maps;
	size_t plain = 0;
	int rc;

	for (size_t i = 0; i < c->ndst; i++) {
		const char *s = c->dsts[i], *eq = strchr(s, '=');
		struct dst_map *d = &maps[i];

		memset(d, 0, sizeof(*d));
		if (eq) {
			char old[INET6_ADDRSTRLEN + 16];
			size_t n = (size_t)(eq - s);

			if (n >= sizeof(old))
				return lp_usage_error("--dst: '%s' is not OLD=NEW", s);
			memcpy(old, s, n);
			old[n] = '\0';
			rc = lp_cli_peer("--dst", s, old, NULL, &d->old);
			if (rc)
				return rc;
			d->has_old = true;
			s = eq + 1;
		} else if (++plain > 1) {
			return lp_usage_error("--dst: give one ADDR[:PORT] for every flow, or OLD=NEW mappings");
		}
		rc = lp_cli_peer("--dst", c->dsts[i], s, &c->link, &d->live);
		if (rc)
			return rc;
		if (d->has_old && d->old.family != d->live.family)
			return lp_usage_error("--dst %s: the two addresses are of different families", c->dsts[i]);
		for (size_t k = 0; k < i && d->has_old; k++)
			if (maps[k].has_old && tlp_addr_eq(&maps[k].old, &d->old) && maps[k].old.port == d->old.port)
				return lp_usage_error("--dst %s: %s is mapped twice", c->dsts[i], old_str(d, c->dsts[i]));
	}
	return 0;
}

bool tlp_addr_eq(const struct lp_endpoint *a, const struct lp_endpoint *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

/* The live server for fl's captured one: a mapping of its address and port,
 * else of its address, else the plain --dst; -ENOENT when none covers it. */
static int map_dst(const struct dst_map *maps, size_t n, const struct lp_flow *fl, struct lp_endpoint *out)
{
	const struct dst_map *best = NULL;
	int best_rank = 0;

	for (size_t i = 0; i < n; i++) {
		const struct dst_map *d = &maps[i];
		int rank = 0;

		if (!d->has_old)
			rank = 1;
		else if (tlp_addr_eq(&d->old, &fl->server) && !d->old.port)
			rank = 2;
		else if (tlp_addr_eq(&d->old, &fl->server) && d->old.port == fl->server.port)
			rank = 3;
		if (rank > best_rank) {
			best = d;
			best_rank = rank;
		}
	}
	if (!best)
		return -ENOENT;
	*out = best->live;
	if (!out->port)
		out->port = fl->server.port;
	return 0;
}

/* First of n consecutive source ports in block k of nshards, clear of this
 * network namespace's ephemeral ports (lp_multi_pick_ports). */
static uint16_t pick_ports(struct lp_rng *rng, size_t n, unsigned k, unsigned nshards)
{
	unsigned lo = 32768, hi = 60999;
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (fp) {
		if (fscanf(fp, "%u %u", &lo, &hi) != 2) {
			lo = 32768;
			hi = 60999;
		}
		fclose(fp);
	}
	return lp_multi_pick_ports(rng, n, k, nshards, lo, hi);
}

/* Source ports: this shard's block of the run's ports, block ports each. */
static int plan_ports(const struct ctx *c, size_t block, struct lp_rng *rng, struct plan *p)
{
	unsigned k = c->cli.shard_n ? c->cli.shard_k : 1, of = c->cli.shard_n ? c->cli.shard_n : 1;
	uint64_t v;

	if (block * of > MAX_FLOWS)
		return lp_usage_error("%zu flows to replay: at most %d at once (one source port each)", block * of,
				      MAX_FLOWS);
	if (!c->sport || !strcmp(c->sport, "random")) {
		p->port_base = pick_ports(rng, block, k, of);
		return 0;
	}
	if (lp_parse_uint(c->sport, 1, 65535, &v))
		return lp_usage_error("source port '%s' is neither a number from 1 to 65535 nor 'random'", c->sport);
	if (v + block * of - 1 > 65535)
		return lp_usage_error("--sport '%s': %zu flows need ports N to N+%zu, at most 65535", c->sport,
				      block * of, block * of - 1);
	p->port_base = (uint16_t)(v + (k - 1) * block);
	return 0;
}

/* Every --dst OLD=NEW names a server of the selected flows (of every shard). */
static int check_maps(const struct ctx *c, const struct lp_flow *const *sel, size_t n)
{
	for (size_t i = 0; i < c->ndst; i++) {
		const struct dst_map *d = &c->maps[i];
		bool used = false;

		for (size_t k = 0; k < n && d->has_old && !used; k++)
			used = tlp_addr_eq(&d->old, &sel[k]->server) &&
			       (!d->old.port || d->old.port == sel[k]->server.port);
		if (d->has_old && !used)
			return lp_usage_error("--dst %s: no selected flow goes to %s (tcpliveplay --list shows each "
					      "flow's server)", c->dsts[i], old_str(d, c->dsts[i]));
	}
	return 0;
}

/* Why a flow of many is skipped: another family than the replayed host's,
 * another client (unless --any-client), a hole in its client's stream
 * (unless --holes zero). */
static enum skip_why skip_flow(const struct ctx *c, const struct lp_flow *fl,
			       const struct lp_endpoint *host)
{
	if (fl->client.family != host->family)
		return SKIP_FAMILY;
	if (!c->any_client && !tlp_addr_eq(&fl->client, host))
		return SKIP_HOST;
	if (fl->dir[LP_C2S].nholes && !c->cli.holes_zero)
		return SKIP_HOLE;
	return SKIP_NONE;
}

/* Choose the flows of --flow (and --shard), their live servers and ports.
 * 0 or an exit status (the message written). */
int tlp_choose_flows(const struct ctx *c, const struct lp_flows *flows, bool many, struct lp_rng *rng,
			struct plan *p)
{
	const struct lp_flow **part = NULL;
	size_t nsel = 0, total;
	char a[64], b[64];
	int rc;

	rc = lp_cli_select_many(c->cli.file, flows, c->cli.flow, &p->sel, &nsel);
	if (rc)
		return rc;
	p->mfs = calloc(nsel, sizeof(*p->mfs));
	p->why = calloc(nsel, sizeof(*p->why));
	part = calloc(nsel, sizeof(*part));
	if (!p->mfs || !p->why || !part) {
		rc = lp_env_error("out of memory");
		goto out;
	}
	rc = check_maps(c, p->sel, nsel);
	if (rc)
		goto out;
	/* What every shard sees alike: the host, the capture's time origin. */
	p->host = p->sel[0]->client;
	p->first_ts = UINT64_MAX;
	for (size_t i = 0; i < nsel; i++)
		if ((!many || skip_flow(c, p->sel[i], &p->host) == SKIP_NONE) &&
		    p->sel[i]->first_ts < p->first_ts)
			p->first_ts = p->sel[i]->first_ts;
	total = nsel;
	if (c->cli.shard_n)
		nsel = lp_flowset_shard(p->sel, nsel, c->cli.shard_k, c->cli.shard_n);
	for (size_t i = 0; i < nsel; i++) {
		const struct lp_flow *fl = p->sel[i];
		struct lp_multi_flow *mf = &p->mfs[p->nmf];

		enum skip_why why = skip_flow(c, fl, &p->host);

		if (many && why != SKIP_NONE) {
			p->why[p->nskip] = (unsigned char)why;
			p->sel[p->nskip++] = fl;   /* reported once the output is open */
			continue;
		}
		if (!many) {
			rc = lp_cli_check_holes(c->cli.file, fl, LP_C2S, c->cli.holes_zero);
			if (rc)
				goto out;
		}
		if (map_dst(c->maps, c->ndst, fl, &mf->remote)) {
			rc = lp_usage_error("flow %u: no --dst for its server %s (give --dst %s=NEW or one --dst "
					    "ADDR for every flow)", fl->id,
					    lp_endpoint_str(&fl->server, a, sizeof(a)),
					    inet_ntop(fl->server.family, fl->server.addr, b, sizeof(b)) ? b : "OLD");
			goto out;
		}
		if (p->family && mf->remote.family != p->family) {
			rc = lp_usage_error("flow %u goes to an %s address and others to %s ones; replay each family "
					    "in its own run (--flow)", fl->id, mf->remote.family == AF_INET ? "IPv4" : "IPv6",
					    p->family == AF_INET ? "IPv4" : "IPv6");
			goto out;
		}
		p->family = mf->remote.family;
		mf->fl = fl;
		part[p->nmf++] = fl;
	}
	/* A shard may have nothing to replay (fewer flows than shards). */
	if (!p->nmf && !c->cli.shard_n) {
		rc = lp_usage_error("no flow to replay");
		goto out;
	}
	rc = lp_flowset_busiest(part, p->nmf, &p->busiest);
	if (rc) {
		rc = lp_env_error("out of memory");
		goto out;
	}
	rc = plan_ports(c, c->cli.shard_n ? lp_flowset_shard_max(total, c->cli.shard_n) : p->nmf, rng, p);
out:
	free(part);
	return rc;
}


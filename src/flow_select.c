/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flow model, for people: choosing flows by number, list or 4-tuple, and
 * addresses, endpoints and notes in text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "flow_int.h"

int lp_addr_parse(const char *s, struct lp_endpoint *ep)
{
	struct lp_endpoint e = { 0 };

	if (inet_pton(AF_INET, s, e.addr) == 1)
		e.family = AF_INET;
	else if (inet_pton(AF_INET6, s, e.addr) == 1)
		e.family = AF_INET6;
	else
		return -EINVAL;
	*ep = e;
	return 0;
}

/* "ADDR:PORT" or "[ADDR]:PORT"; end points one past the text. */
static int parse_endpoint(const char *s, size_t n, struct lp_endpoint *ep)
{
	char addr[64], *end;
	const char *colon;
	unsigned long port;
	size_t alen;

	if (!n || n >= sizeof(addr) + 8)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb || (size_t)(rb - s) + 1 >= n || rb[1] != ':')
			return -EINVAL;
		alen = (size_t)(rb - s) - 1;
		colon = rb + 1;
		if (alen >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, s + 1, alen);
	} else {
		colon = NULL;
		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		if (!colon)
			return -EINVAL;
		alen = (size_t)(colon - s);
		if (alen >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, s, alen);
	}
	addr[alen] = '\0';
	{
		char pbuf[8];
		size_t plen = n - (size_t)(colon + 1 - s);

		if (!plen || plen >= sizeof(pbuf))
			return -EINVAL;
		memcpy(pbuf, colon + 1, plen);
		pbuf[plen] = '\0';
		if (pbuf[0] < '0' || pbuf[0] > '9')
			return -EINVAL;
		errno = 0;
		port = strtoul(pbuf, &end, 10);
		if (errno || *end || port > 65535)
			return -EINVAL;
	}
	if (lp_addr_parse(addr, ep))
		return -EINVAL;
	ep->port = (uint16_t)port;
	return 0;
}

int lp_flows_select(const struct lp_flows *f, const char *sel, const struct lp_flow **out)
{
	const struct lp_flow *found = NULL;
	struct lp_endpoint a, b;
	const char *dash;
	int rc;

	if (!sel) {
		if (lp_flows_count(f) == 0)
			return -ENODATA;
		if (lp_flows_count(f) > 1)
			return -ENOTUNIQ;
		*out = lp_flows_get(f, 1);
		return 0;
	}
	if (sel[0] >= '0' && sel[0] <= '9' && !strpbrk(sel, ":-.")) {
		char *end;
		unsigned long id;

		errno = 0;
		id = strtoul(sel, &end, 10);
		if (errno || *end || id > UINT_MAX)
			return -EINVAL;
		if (id < 1 || id > lp_flows_count(f))
			return -ENOENT;
		*out = lp_flows_get(f, (unsigned)id);
		return 0;
	}
	dash = strchr(sel, '-');
	if (!dash)
		return -EINVAL;
	rc = parse_endpoint(sel, (size_t)(dash - sel), &a);
	if (!rc)
		rc = parse_endpoint(dash + 1, strlen(dash + 1), &b);
	if (rc)
		return rc;
	for (size_t i = 0; i < lp_flows_count(f); i++) {
		const struct lp_flow *fl = lp_flows_get(f, (unsigned)i + 1);

		if ((lp_ep_eq(&fl->client, &a) && lp_ep_eq(&fl->server, &b)) ||
		    (lp_ep_eq(&fl->client, &b) && lp_ep_eq(&fl->server, &a))) {
			if (found)
				return -EADDRINUSE;
			found = fl;
		}
	}
	if (!found)
		return -ENOENT;
	*out = found;
	return 0;
}

bool lp_flows_sel_is_list(const char *sel)
{
	if (!sel)
		return false;
	if (!strcmp(sel, "all"))
		return true;
	return sel[0] >= '0' && sel[0] <= '9' && strspn(sel, "0123456789,-") == strlen(sel) &&
	       strpbrk(sel, ",-");
}

/* One number of a list; 0 and *v, or -EINVAL. */
static int list_number(const char *s, size_t len, unsigned long *v)
{
	char buf[16];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoul(buf, &end, 10);
	return errno || *end || buf[0] < '0' || buf[0] > '9' ? -EINVAL : 0;
}

/* Mark the flows of "N", "N-M", "N,M-K,..." in pick[]. */
static int mark_list(const struct lp_flows *f, const char *sel, bool *pick)
{
	const char *p = sel;

	for (;;) {
		size_t len = strcspn(p, ",");
		const char *dash = memchr(p, '-', len);
		unsigned long a, b;
		int rc;

		if (dash) {
			rc = list_number(p, (size_t)(dash - p), &a);
			if (!rc)
				rc = list_number(dash + 1, len - (size_t)(dash - p) - 1, &b);
		} else {
			rc = list_number(p, len, &a);
			b = a;
		}
		if (rc || a > b)
			return -EINVAL;
		if (a < 1 || b > lp_flows_count(f))
			return -ENOENT;
		for (unsigned long i = a; i <= b; i++)
			pick[i - 1] = true;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int lp_flows_select_many(const struct lp_flows *f, const char *sel, const struct lp_flow ***out,
			 size_t *n)
{
	const struct lp_flow **v = NULL;
	bool *pick = NULL;
	size_t k = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!lp_flows_sel_is_list(sel)) {
		const struct lp_flow *one;

		rc = lp_flows_select(f, sel, &one);
		if (rc)
			return rc;
		v = malloc(sizeof(*v));
		if (!v)
			return -ENOMEM;
		v[0] = one;
		*out = v;
		*n = 1;
		return 0;
	}
	if (lp_flows_count(f) == 0)
		return -ENODATA;
	pick = calloc(lp_flows_count(f), sizeof(*pick));
	v = calloc(lp_flows_count(f), sizeof(*v));
	if (!pick || !v) {
		rc = -ENOMEM;
		goto out;
	}
	if (!strcmp(sel, "all"))
		memset(pick, 1, lp_flows_count(f) * sizeof(*pick));
	else
		rc = mark_list(f, sel, pick);
	if (rc)
		goto out;
	for (size_t i = 0; i < lp_flows_count(f); i++)
		if (pick[i])
			v[k++] = lp_flows_get(f, (unsigned)i + 1);
	*out = v;
	*n = k;
	v = NULL;
out:
	free(pick);
	free(v);
	return rc;
}

bool lp_flow_first_hole(const struct lp_flow *fl, enum lp_dir *dir, struct lp_hole *hole)
{
	for (int d = 0; d < 2; d++) {
		if (fl->dir[d].nholes) {
			*dir = (enum lp_dir)d;
			*hole = fl->dir[d].holes[0];
			return true;
		}
	}
	return false;
}

bool lp_flow_refused(const struct lp_flow *fl)
{
	const struct lp_stream *c = &fl->dir[LP_C2S], *sv = &fl->dir[LP_S2C];

	/* Without payload or FIN, the client's only retransmissions are its
	 * SYN's: every client packet a SYN. */
	return c->syn && !sv->syn && sv->rst && !sv->len && !c->len && !c->fin &&
	       c->packets == 1 + c->retransmissions;
}

const char *lp_endpoint_str(const struct lp_endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(ep->family, ep->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (ep->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, ep->port);
	else
		snprintf(buf, len, "%s:%u", a, ep->port);
	return buf;
}

const char *lp_flow_notes_str(unsigned notes, char *buf, size_t len)
{
	static const char *const names[] = {
		"no-syn", "no-synack", "handshake-reordered", "midstream", "client-by-port",
		"truncated", "retransmission-differs", "reordered", "out-of-window", "tfo", "restarted",
	};
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(notes & (1u << i)))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i]);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';   /* only whole names */
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

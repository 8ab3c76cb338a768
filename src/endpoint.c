/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Endpoints as written on a command line; see include/tcpliveplay/endpoint.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/endpoint.h"
#include "tcpliveplay/util.h"

#define MAX_TEXT 128

/* "ADDR%ZONE" (IPv6 only) or "ADDR" into out. */
static int parse_addr_zone(char *s, struct lp_ep_arg *out)
{
	char *pct = strchr(s, '%');
	uint64_t idx;

	if (pct) {
		const char *z = pct + 1;

		*pct = '\0';
		if (!*z || strlen(z) >= sizeof(out->zone))
			return -EINVAL;
		if (!lp_parse_uint(z, 1, UINT32_MAX, &idx)) {
			/* A number is an interface index (RFC 4007 11.2). */
			if (!if_indextoname((unsigned)idx, out->zone))
				return -ENODEV;
		} else {
			snprintf(out->zone, sizeof(out->zone), "%s", z);
		}
	}
	if (lp_addr_parse(s, &out->ep))
		return -EINVAL;
	if (pct && out->ep.family != AF_INET6)
		return -EINVAL;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (lp_parse_uint(s, 1, 65535, &v))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* A bare IPv6 address that reads as well as ADDR:PORT ("2001:db8::2:8000"). */
static void check_maybe_port(const char *s, struct lp_ep_arg *out)
{
	const char *colon = strrchr(s, ':');
	struct lp_endpoint ep;
	char prefix[MAX_TEXT];
	size_t n;

	if (!colon || colon == s || colon[-1] == ':' || parse_port(colon + 1, &out->alt_port))
		return;
	n = (size_t)(colon - s);
	if (n >= sizeof(prefix) || n >= sizeof(out->alt_addr))
		return;
	memcpy(prefix, s, n);
	prefix[n] = '\0';
	if (lp_addr_parse(prefix, &ep) || ep.family != AF_INET6)
		return;
	out->maybe_port = true;
	memcpy(out->alt_addr, prefix, n + 1);
}

int lp_ep_parse(const char *s, struct lp_ep_arg *out)
{
	char buf[MAX_TEXT];
	size_t n = strlen(s);
	char *addr = buf, *port = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');

		if (!rb)
			return -EINVAL;
		*rb = '\0';
		addr = buf + 1;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1])
			return -EINVAL;
	} else {
		char *colon = strchr(buf, ':');

		/* One colon: IPv4:PORT; more: a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	rc = parse_addr_zone(addr, out);
	if (rc)
		return rc;
	if (port && (parse_port(port, &out->ep.port) || (buf[0] != '[' && out->ep.family != AF_INET)))
		return -EINVAL;
	if (buf[0] != '[' && out->ep.family == AF_INET6 && !out->zone[0])
		check_maybe_port(s, out);
	return 0;
}

int lp_flow_sel_normalize(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; in[i]; i++) {
		char ch = in[i];

		/* "A:P -> B:P": spaces go, "->" is "-". */
		if (ch == ' ' || ch == '\t')
			continue;
		if (ch == '-' && in[i + 1] == '>')
			i++;
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = ch;
	}
	if (!len)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

enum lp_addr_kind lp_addr_kind(const struct lp_endpoint *ep)
{
	static const uint8_t zero[16];

	if (ep->family == AF_INET) {
		if (!memcmp(ep->addr, zero, 4))
			return LP_ADDR_UNSPECIFIED;
		if ((ep->addr[0] & 0xf0) == 0xe0)
			return LP_ADDR_MULTICAST;
		if (ep->addr[0] == 255 && ep->addr[1] == 255 && ep->addr[2] == 255 && ep->addr[3] == 255)
			return LP_ADDR_BROADCAST;
		return LP_ADDR_UNICAST;
	}
	if (!memcmp(ep->addr, zero, 16))
		return LP_ADDR_UNSPECIFIED;
	if (ep->addr[0] == 0xff)
		return LP_ADDR_MULTICAST;
	return LP_ADDR_UNICAST;
}

const char *lp_addr_kind_str(enum lp_addr_kind k)
{
	switch (k) {
	case LP_ADDR_UNSPECIFIED:
		return "unspecified";
	case LP_ADDR_MULTICAST:
		return "multicast";
	case LP_ADDR_BROADCAST:
		return "broadcast";
	default:
		return NULL;
	}
}

bool lp_addr_link_local(const struct lp_endpoint *ep)
{
	return ep->family == AF_INET6 && ep->addr[0] == 0xfe && (ep->addr[1] & 0xc0) == 0x80;
}

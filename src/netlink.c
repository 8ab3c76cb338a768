/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink queries over libmnl; see include/tcpliveplay/netlink.h. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "tcpliveplay/netlink.h"
#include "tcpliveplay/util.h"

#define NL_BUFSIZE 32768        /* what the kernel fills a dump buffer up to */
#define NL_TIMEOUT_S 5          /* the longest wait for one reply buffer */
#define NL_MAX_BUFFERS 100000   /* a reply never spans more receive buffers */
#define NL_DUMP_TRIES 5         /* dumps retried after NLM_F_DUMP_INTR */
#define ADDR_LEN 0xffff         /* policy length: the family's address length */


static size_t family_alen(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Attribute checking: a policy per message type, indexed by attribute type. */
struct attr_policy {
	const char *name;               /* NULL: attribute not used, skipped */
	enum mnl_attr_data_type type;
	uint16_t len;                   /* exact payload length; 0: by type */
};

struct attr_table {
	const struct attr_policy *policy;
	uint16_t max;
	uint16_t alen;                  /* replaces ADDR_LEN */
	const struct nlattr **tb;       /* max + 1 slots */
	const char *bad;                /* the attribute that failed its check */
};

static int attr_collect(const struct nlattr *a, void *data)
{
	struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(a);
	const struct attr_policy *p;
	int rc;

	if (type > t->max || !t->policy[type].name)
		return MNL_CB_OK;
	p = &t->policy[type];
	if (p->len == ADDR_LEN)
		rc = mnl_attr_validate2(a, p->type, t->alen);
	else if (p->len)
		rc = mnl_attr_validate2(a, p->type, p->len);
	else
		rc = mnl_attr_validate(a, p->type);
	if (rc < 0) {
		t->bad = p->name;
		return MNL_CB_ERROR;
	}
	t->tb[type] = a;
	return MNL_CB_OK;
}

/* Copy a kernel string into err, control characters made visible. */
static void copy_msg(char *err, size_t errlen, const char *msg)
{
	size_t i;

	if (!err || !errlen)
		return;
	for (i = 0; msg[i] && i + 1 < errlen; i++)
		err[i] = (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? '?' : msg[i];
	err[i] = '\0';
	while (i > 0 && err[i - 1] == '\n')
		err[--i] = '\0';
}

static int extack_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **msg = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*msg = a;
	return MNL_CB_OK;
}

/* Extended-ack TLVs at payload offset off (aligned here) of nlh. */
static void extack_msg(const struct nlmsghdr *nlh, size_t off, char *err, size_t errlen)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const struct nlattr *msg = NULL;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = MNL_ALIGN(off);
	if (off >= plen)
		return;
	mnl_attr_parse_payload((const char *)mnl_nlmsg_get_payload(nlh) + off, plen - off, extack_cb, &msg);
	if (msg && mnl_attr_get_str(msg)[0])
		copy_msg(err, errlen, mnl_attr_get_str(msg));
}

int lp_nl_parse_error(const struct nlmsghdr *nlh, char *err, size_t errlen)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off = sizeof(struct nlmsgerr);
	const struct nlmsgerr *e;

	if (nlh->nlmsg_len < NLMSG_HDRLEN || plen < sizeof(*e))
		return -EBADMSG;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error > 0 || e->error < -4095)
		return -EBADMSG;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		/* The request is echoed: the TLVs follow it, if it fits. */
		if (e->msg.nlmsg_len < NLMSG_HDRLEN || e->msg.nlmsg_len - NLMSG_HDRLEN > plen - off)
			return e->error;
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (e->error)
		extack_msg(nlh, off, err, errlen);
	return e->error;
}

/* One reply being read: what the control callbacks found. */
struct reply {
	int error;              /* a kernel error, or -EBADMSG from a data callback */
	bool answered;          /* a data callback found what it looked for */
	char *err;
	size_t errlen;
	void *ctx;              /* the parser's own state */
};

static int ctl_error(const struct nlmsghdr *nlh, void *data)
{
	struct reply *r = data;
	int rc;

	if (r->err && r->errlen)
		r->err[0] = '\0';
	rc = lp_nl_parse_error(nlh, r->err, r->errlen);
	if (rc == 0)
		return MNL_CB_STOP;
	if (rc == -EBADMSG)
		lp_set_err(r->err, r->errlen, "malformed netlink error message");
	else if (!r->err || !r->errlen || !r->err[0])
		lp_set_err(r->err, r->errlen, "%s", strerror(-rc));
	r->error = rc;
	return MNL_CB_ERROR;
}

static int ctl_done(const struct nlmsghdr *nlh, void *data)
{
	struct reply *r = data;
	int code;

	/* A dump that failed half way says so in NLMSG_DONE. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return MNL_CB_STOP;
	memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	if (code >= 0)
		return MNL_CB_STOP;
	r->error = code < -4095 ? -EBADMSG : code;
	if (r->err && r->errlen)
		r->err[0] = '\0';
	extack_msg(nlh, sizeof(int), r->err, r->errlen);
	if (!r->err || !r->errlen || !r->err[0])
		lp_set_err(r->err, r->errlen, "%s", strerror(-r->error));
	return MNL_CB_ERROR;
}

/* Run the callbacks over one buffer. 0 when a data callback or the end of
 * the reply stopped it, LP_NL_MORE when the buffer ran out first. */
static int run_reply(const void *buf, size_t len, uint32_t seq, uint32_t portid, mnl_cb_t data_cb,
		     struct reply *r)
{
	static const mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = ctl_error,
		[NLMSG_DONE] = ctl_done,
	};
	size_t off = 0;
	int ret, e;

	if (!buf || len > INT_MAX) {
		lp_set_err(r->err, r->errlen, "netlink buffer too large");
		return -EBADMSG;
	}
	/* libmnl stops quietly at a truncated message, and trusts nlmsg_len
	 * as a signed int: check the framing here first. */
	while (off < len && len - off >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf + off);

		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len - off)
			break;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if (off < len) {
		lp_set_err(r->err, r->errlen, "truncated netlink message");
		return -EBADMSG;
	}
	errno = 0;
	ret = mnl_cb_run2(buf, len, seq, portid, data_cb, r, (mnl_cb_t *)ctl, NLMSG_MIN_TYPE);
	e = errno;
	if (ret >= MNL_CB_OK)
		return LP_NL_MORE;
	if (ret == MNL_CB_STOP)
		return 0;
	if (r->error)
		return r->error;
	switch (e) {
	case EINTR:
		lp_set_err(r->err, r->errlen, "the kernel interrupted the dump");
		return -EINTR;
	case EPROTO:
		lp_set_err(r->err, r->errlen, "netlink reply with another sequence number");
		return -EPROTO;
	case ESRCH:
		lp_set_err(r->err, r->errlen, "netlink reply for another socket");
		return -ESRCH;
	default:
		lp_set_err(r->err, r->errlen, "malformed netlink reply");
		return -EBADMSG;
	}
}

/* A reply that ended (an ack, NLMSG_DONE) without the message asked for. */
static int need_answer(int rc, struct reply *r)
{
	if (rc == 0 && !r->answered) {
		lp_set_err(r->err, r->errlen, "netlink reply without an answer");
		return -ENODATA;
	}
	return rc;
}

/* Parse a data message's attributes after a fixed header of hdrlen bytes. */
static int parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen, struct attr_table *t,
		       struct reply *r)
{
	if (mnl_nlmsg_get_payload_len(nlh) < hdrlen) {
		lp_set_err(r->err, r->errlen, "netlink message too short for its header");
		r->error = -EBADMSG;
		return -EBADMSG;
	}
	if (mnl_attr_parse(nlh, (unsigned)hdrlen, attr_collect, t) < 0) {
		lp_set_err(r->err, r->errlen, "bad %s attribute", t->bad ? t->bad : "netlink");
		r->error = -EBADMSG;
		return -EBADMSG;
	}
	return 0;
}

static int bad_msg(struct reply *r, const char *what)
{
	lp_set_err(r->err, r->errlen, "%s", what);
	r->error = -EBADMSG;
	return MNL_CB_ERROR;
}

/* ---- links ---- */

#define LINK_ATTR_MAX IFLA_GSO_MAX_SIZE

static const struct attr_policy link_policy[LINK_ATTR_MAX + 1] = {
	[IFLA_ADDRESS] = { "IFLA_ADDRESS", MNL_TYPE_BINARY, 0 },
	[IFLA_IFNAME] = { "IFLA_IFNAME", MNL_TYPE_NUL_STRING, 0 },
	[IFLA_MTU] = { "IFLA_MTU", MNL_TYPE_U32, 0 },
	[IFLA_GSO_MAX_SEGS] = { "IFLA_GSO_MAX_SEGS", MNL_TYPE_U32, 0 },
	[IFLA_GSO_MAX_SIZE] = { "IFLA_GSO_MAX_SIZE", MNL_TYPE_U32, 0 },
	/* Its length grew over kernel versions: checked where it is read. */
	[IFLA_STATS64] = { "IFLA_STATS64", MNL_TYPE_BINARY, 0 },
};

/* The counters of IFLA_STATS64 read here, when the attribute holds them. */
static void link_stats(const struct nlattr *a, struct lp_ifinfo *out)
{
	struct rtnl_link_stats64 st;
	size_t need = offsetof(struct rtnl_link_stats64, tx_dropped) + sizeof(st.tx_dropped);

	if (!a || mnl_attr_get_payload_len(a) < need)
		return;
	memset(&st, 0, sizeof(st));
	memcpy(&st, mnl_attr_get_payload(a), need);
	out->tx_dropped = st.tx_dropped;
	out->has_stats = true;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[LINK_ATTR_MAX + 1] = { NULL };
	struct attr_table t = { link_policy, LINK_ATTR_MAX, 0, tb, NULL };
	struct reply *r = data;
	struct lp_ifinfo *out = r->ctx;
	const struct ifinfomsg *ifi;
	const char *name;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (parse_attrs(nlh, sizeof(*ifi), &t, r))
		return MNL_CB_ERROR;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_index <= 0)
		return bad_msg(r, "link without an interface index");
	if (!tb[IFLA_IFNAME])
		return bad_msg(r, "link without a name");
	name = mnl_attr_get_str(tb[IFLA_IFNAME]);
	if (strlen(name) >= IF_NAMESIZE || !name[0])
		return bad_msg(r, "bad IFLA_IFNAME attribute");
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	memcpy(out->name, name, strlen(name) + 1);
	out->type = ifi->ifi_type;
	out->up = ifi->ifi_flags & IFF_UP;
	if (tb[IFLA_MTU])
		out->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_GSO_MAX_SEGS])
		out->gso_max_segs = mnl_attr_get_u32(tb[IFLA_GSO_MAX_SEGS]);
	if (tb[IFLA_GSO_MAX_SIZE])
		out->gso_max_size = mnl_attr_get_u32(tb[IFLA_GSO_MAX_SIZE]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(out->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		out->has_mac = true;
	}
	link_stats(tb[IFLA_STATS64], out);
	r->answered = true;
	return MNL_CB_STOP;
}

int lp_nl_parse_link(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		     struct lp_ifinfo *out, char *err, size_t errlen)
{
	struct lp_ifinfo info;
	struct reply r = { 0, false, err, errlen, &info };
	int rc;

	rc = need_answer(run_reply(buf, len, seq, portid, link_cb, &r), &r);
	if (rc == 0)
		*out = info;
	return rc;
}

/* ---- routes ---- */

static const struct attr_policy route_policy[RTA_VIA + 1] = {
	[RTA_DST] = { "RTA_DST", MNL_TYPE_BINARY, ADDR_LEN },
	[RTA_OIF] = { "RTA_OIF", MNL_TYPE_U32, 0 },
	[RTA_GATEWAY] = { "RTA_GATEWAY", MNL_TYPE_BINARY, ADDR_LEN },
	[RTA_PREFSRC] = { "RTA_PREFSRC", MNL_TYPE_BINARY, ADDR_LEN },
	[RTA_METRICS] = { "RTA_METRICS", MNL_TYPE_NESTED, 0 },
	[RTA_VIA] = { "RTA_VIA", MNL_TYPE_BINARY, 0 },
};

static const struct attr_policy metrics_policy[RTAX_MTU + 1] = {
	[RTAX_MTU] = { "RTAX_MTU", MNL_TYPE_U32, 0 },
};

/* RTAX_MTU of a route's metrics: 0 when absent; -EBADMSG when malformed. */
static int route_mtu(const struct nlattr *metrics, unsigned *mtu, struct reply *r)
{
	const struct nlattr *tb[RTAX_MTU + 1] = { NULL };
	struct attr_table t = { metrics_policy, RTAX_MTU, 0, tb, NULL };

	*mtu = 0;
	if (!metrics)
		return 0;
	if (mnl_attr_parse_nested(metrics, attr_collect, &t) < 0) {
		lp_set_err(r->err, r->errlen, "bad %s attribute", t.bad ? t.bad : "RTA_METRICS");
		r->error = -EBADMSG;
		return -EBADMSG;
	}
	if (tb[RTAX_MTU])
		*mtu = mnl_attr_get_u32(tb[RTAX_MTU]);
	return 0;
}

struct route_ctx {
	int family;
	const uint8_t *dst;
	struct lp_route rt;
};

static int route_type_error(struct reply *r, unsigned type)
{
	static const struct {
		unsigned type;
		int error;
		const char *what;
	} deny[] = {
		{ RTN_UNREACHABLE, -EHOSTUNREACH, "unreachable route" },
		{ RTN_PROHIBIT, -EACCES, "prohibit route" },
		{ RTN_BLACKHOLE, -ENETUNREACH, "blackhole route" },
		{ RTN_THROW, -ENETUNREACH, "throw route" },
	};

	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
		if (deny[i].type == type) {
			lp_set_err(r->err, r->errlen, "%s: %s", deny[i].what, strerror(-deny[i].error));
			r->error = deny[i].error;
			return MNL_CB_ERROR;
		}
	}
	return bad_msg(r, "route of an unknown type");
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_VIA + 1] = { NULL };
	struct reply *r = data;
	struct route_ctx *c = r->ctx;
	size_t alen = family_alen(c->family);
	struct attr_table t = { route_policy, RTA_VIA, (uint16_t)alen, tb, NULL };
	struct lp_route *rt = &c->rt;
	const struct rtmsg *rtm;
	uint32_t oif;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	if (parse_attrs(nlh, sizeof(*rtm), &t, r))
		return MNL_CB_ERROR;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != c->family)
		return bad_msg(r, "route of another address family");
	switch (rtm->rtm_type) {
	case RTN_UNICAST:
	case RTN_LOCAL:
	case RTN_BROADCAST:
	case RTN_ANYCAST:
	case RTN_MULTICAST:
		break;
	default:
		return route_type_error(r, rtm->rtm_type);
	}
	if (!tb[RTA_OIF])
		return bad_msg(r, "route without an output interface");
	oif = mnl_attr_get_u32(tb[RTA_OIF]);
	if (oif == 0 || oif > INT_MAX)
		return bad_msg(r, "bad RTA_OIF attribute");
	memset(rt, 0, sizeof(*rt));
	rt->family = c->family;
	rt->ifindex = (int)oif;
	rt->local = rtm->rtm_type == RTN_LOCAL;
	rt->broadcast = rtm->rtm_type == RTN_BROADCAST;
	if (route_mtu(tb[RTA_METRICS], &rt->mtu, r))
		return MNL_CB_ERROR;
	if (tb[RTA_PREFSRC]) {
		memcpy(rt->src, mnl_attr_get_payload(tb[RTA_PREFSRC]), alen);
		rt->has_src = true;
	}
	if (tb[RTA_GATEWAY]) {
		memcpy(rt->gateway, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		rt->has_gateway = true;
	} else if (tb[RTA_VIA]) {
		const struct rtvia *via = mnl_attr_get_payload(tb[RTA_VIA]);
		size_t vlen = mnl_attr_get_payload_len(tb[RTA_VIA]);

		if (vlen != sizeof(*via) + alen || via->rtvia_family != c->family) {
			lp_set_err(r->err, r->errlen, "the route's gateway is of another address family");
			r->error = -EAFNOSUPPORT;
			return MNL_CB_ERROR;
		}
		memcpy(rt->gateway, via->rtvia_addr, alen);
		rt->has_gateway = true;
	}
	if (rt->has_gateway)
		memcpy(rt->nexthop, rt->gateway, alen);
	else if (tb[RTA_DST])
		memcpy(rt->nexthop, mnl_attr_get_payload(tb[RTA_DST]), alen);
	else
		memcpy(rt->nexthop, c->dst, alen);
	r->answered = true;
	return MNL_CB_STOP;
}

int lp_nl_parse_route(const void *buf, size_t len, uint32_t seq, uint32_t portid, int family,
		      const uint8_t *dst, struct lp_route *out, char *err, size_t errlen)
{
	struct route_ctx c = { family, dst, { 0 } };
	struct reply r = { 0, false, err, errlen, &c };
	int rc;

	if (!family_alen(family) || !dst)
		return -EINVAL;
	rc = need_answer(run_reply(buf, len, seq, portid, route_cb, &r), &r);
	if (rc == 0)
		*out = c.rt;
	return rc;
}

/* ---- neighbours ---- */

static const struct attr_policy neigh_policy[NDA_LLADDR + 1] = {
	[NDA_DST] = { "NDA_DST", MNL_TYPE_BINARY, ADDR_LEN },
	[NDA_LLADDR] = { "NDA_LLADDR", MNL_TYPE_BINARY, 0 },
};

struct neigh_ctx {
	int ifindex, family;
	const uint8_t *addr;
	uint8_t mac[6];
};

#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NDA_LLADDR + 1] = { NULL };
	struct reply *r = data;
	struct neigh_ctx *c = r->ctx;
	size_t alen = family_alen(c->family);
	struct attr_table t = { neigh_policy, NDA_LLADDR, (uint16_t)alen, tb, NULL };
	const struct ndmsg *ndm;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	if (parse_attrs(nlh, sizeof(*ndm), &t, r))
		return MNL_CB_ERROR;
	ndm = mnl_nlmsg_get_payload(nlh);
	if (ndm->ndm_family != c->family || ndm->ndm_ifindex != c->ifindex || !tb[NDA_DST] ||
	    memcmp(mnl_attr_get_payload(tb[NDA_DST]), c->addr, alen))
		return bad_msg(r, "neighbour entry for another address");
	if (!(ndm->ndm_state & NUD_USABLE) || !tb[NDA_LLADDR] ||
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6) {
		lp_set_err(r->err, r->errlen, "no usable neighbour entry");
		r->error = -ENOENT;
		return MNL_CB_ERROR;
	}
	memcpy(c->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
	r->answered = true;
	return MNL_CB_STOP;
}

int lp_nl_parse_neigh(const void *buf, size_t len, uint32_t seq, uint32_t portid, int ifindex,
		      int family, const uint8_t *addr, uint8_t mac[6], char *err, size_t errlen)
{
	struct neigh_ctx c = { ifindex, family, addr, { 0 } };
	struct reply r = { 0, false, err, errlen, &c };
	int rc;

	if (!family_alen(family) || !addr)
		return -EINVAL;
	rc = need_answer(run_reply(buf, len, seq, portid, neigh_cb, &r), &r);
	if (rc == 0)
		memcpy(mac, c.mac, 6);
	return rc;
}

/* ---- addresses ---- */

static const struct attr_policy addr_policy[IFA_FLAGS + 1] = {
	[IFA_ADDRESS] = { "IFA_ADDRESS", MNL_TYPE_BINARY, ADDR_LEN },
	[IFA_LOCAL] = { "IFA_LOCAL", MNL_TYPE_BINARY, ADDR_LEN },
	[IFA_FLAGS] = { "IFA_FLAGS", MNL_TYPE_U32, 0 },
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_FLAGS + 1] = { NULL };
	struct reply *r = data;
	struct lp_nl_addr_scan *s = r->ctx;
	size_t alen = family_alen(s->family);
	struct attr_table t = { addr_policy, IFA_FLAGS, (uint16_t)alen, tb, NULL };
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	uint32_t flags;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return bad_msg(r, "netlink message too short for its header");
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != s->family)
		return MNL_CB_OK;
	if (parse_attrs(nlh, sizeof(*ifa), &t, r))
		return MNL_CB_ERROR;
	flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || (flags & IFA_F_DADFAILED))
		return MNL_CB_OK;
	if (s->on_ifindex > 0 && (int64_t)ifa->ifa_index == s->on_ifindex && !s->have_first &&
	    ifa->ifa_scope == RT_SCOPE_UNIVERSE && ifa->ifa_prefixlen <= alen * 8) {
		memcpy(s->first, mnl_attr_get_payload(a), alen);
		s->first_plen = ifa->ifa_prefixlen;
		s->have_first = true;
	}
	if (s->found)
		return MNL_CB_OK;
	if (!memcmp(mnl_attr_get_payload(a), s->addr, alen) && ifa->ifa_index > 0 &&
	    ifa->ifa_index <= INT_MAX) {
		s->found = true;
		s->ifindex = (int)ifa->ifa_index;
	}
	return MNL_CB_OK;
}

int lp_nl_parse_addr(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		     struct lp_nl_addr_scan *scan, char *err, size_t errlen)
{
	struct reply r = { 0, false, err, errlen, scan };

	if (!family_alen(scan->family))
		return -EINVAL;
	return run_reply(buf, len, seq, portid, addr_cb, &r);
}

/* ---- acks ---- */

static int ignore_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

int lp_nl_parse_ack(const void *buf, size_t len, uint32_t seq, uint32_t portid, char *err, size_t errlen)
{
	struct reply r = { 0, false, err, errlen, NULL };

	return run_reply(buf, len, seq, portid, ignore_cb, &r);
}

/* ---- talking to the kernel ---- */

typedef int (*reply_parser)(const void *buf, size_t len, uint32_t seq, uint32_t portid, void *ctx,
			    char *err, size_t errlen);

static uint32_t next_seq(void)
{
	static atomic_uint counter;

	return (uint32_t)time(NULL) + atomic_fetch_add(&counter, 1);
}

/* Send req (its sequence number set here) and feed the reply to parse. */
static int transact(struct nlmsghdr *req, reply_parser parse, void *ctx, char *err, size_t errlen)
{
	struct timeval tv = { NL_TIMEOUT_S, 0 };
	struct mnl_socket *nl = NULL;
	uint32_t portid;
	int one = 1, rc, fd;
	ssize_t n;
	char *buf;

	buf = malloc(NL_BUFSIZE);
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		rc = -errno;
		lp_set_err(err, errlen, "netlink socket: %s", strerror(-rc));
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		lp_set_err(err, errlen, "netlink bind: %s", strerror(-rc));
		goto out;
	}
	/* Older kernels lack these; the request works without them. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	fd = mnl_socket_get_fd(nl);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	portid = mnl_socket_get_portid(nl);
	req->nlmsg_seq = next_seq();
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		rc = -errno;
		lp_set_err(err, errlen, "netlink send: %s", strerror(-rc));
		goto out;
	}
	rc = LP_NL_MORE;
	for (unsigned i = 0; i < NL_MAX_BUFFERS && rc == LP_NL_MORE; i++) {
		n = mnl_socket_recvfrom(nl, buf, NL_BUFSIZE);
		if (n < 0) {
			rc = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			lp_set_err(err, errlen, "netlink receive: %s", strerror(-rc));
			goto out;
		}
		rc = parse(buf, (size_t)n, req->nlmsg_seq, portid, ctx, err, errlen);
	}
	if (rc == LP_NL_MORE) {
		rc = -EMSGSIZE;
		lp_set_err(err, errlen, "netlink reply without an end");
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return rc;
}

static int parse_link_cb(const void *buf, size_t len, uint32_t seq, uint32_t portid, void *ctx,
			 char *err, size_t errlen)
{
	return lp_nl_parse_link(buf, len, seq, portid, ctx, err, errlen);
}

int lp_nl_link_get(const char *ifname, struct lp_ifinfo *out, char *err, size_t errlen)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct lp_ifinfo info;
	int rc;

	if (!ifname || !ifname[0] || strlen(ifname) >= IF_NAMESIZE) {
		lp_set_err(err, errlen, "bad interface name");
		return -ENODEV;
	}
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	rc = transact(nlh, parse_link_cb, &info, err, errlen);
	if (rc == 0) {
		*out = info;
		return 0;
	}
	return rc;
}

struct route_req {
	int family;
	const uint8_t *dst;
	struct lp_route rt;
};

static int parse_route_cb(const void *buf, size_t len, uint32_t seq, uint32_t portid, void *ctx,
			  char *err, size_t errlen)
{
	struct route_req *q = ctx;

	return lp_nl_parse_route(buf, len, seq, portid, q->family, q->dst, &q->rt, err, errlen);
}

int lp_nl_route_get(int family, const uint8_t *dst, int oif, struct lp_route *out, char *err,
		    size_t errlen)
{
	struct route_req q = { family, dst, { 0 } };
	char req[MNL_SOCKET_BUFFER_SIZE];
	size_t alen = family_alen(family);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int rc;

	if (!alen || !dst) {
		lp_set_err(err, errlen, "route lookup: bad address family");
		return -EAFNOSUPPORT;
	}
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	if (oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	rc = transact(nlh, parse_route_cb, &q, err, errlen);
	if (rc == 0) {
		*out = q.rt;
		return 0;
	}
	return rc;
}

struct neigh_req {
	int ifindex, family;
	const uint8_t *addr;
	uint8_t mac[6];
};

static int parse_neigh_cb(const void *buf, size_t len, uint32_t seq, uint32_t portid, void *ctx,
			  char *err, size_t errlen)
{
	struct neigh_req *q = ctx;

	return lp_nl_parse_neigh(buf, len, seq, portid, q->ifindex, q->family, q->addr, q->mac, err,
				 errlen);
}

int lp_nl_neigh_get(int ifindex, int family, const uint8_t *addr, uint8_t mac[6])
{
	struct neigh_req q = { ifindex, family, addr, { 0 } };
	char req[MNL_SOCKET_BUFFER_SIZE], err[256];
	size_t alen = family_alen(family);
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	if (!alen || !addr || !mac || ifindex <= 0)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, alen, addr);
	if (transact(nlh, parse_neigh_cb, &q, err, sizeof(err)))
		return -ENOENT;
	memcpy(mac, q.mac, 6);
	return 0;
}

static int parse_addr_cb(const void *buf, size_t len, uint32_t seq, uint32_t portid, void *ctx,
			 char *err, size_t errlen)
{
	return lp_nl_parse_addr(buf, len, seq, portid, ctx, err, errlen);
}

/* Scan every address of scan->family (set up by the caller). */
static int addr_dump(struct lp_nl_addr_scan *scan)
{
	struct lp_nl_addr_scan start = *scan;
	char req[MNL_SOCKET_BUFFER_SIZE], err[256];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int rc = -EINTR;

	if (!family_alen(scan->family))
		return -EAFNOSUPPORT;
	for (int tries = 0; tries < NL_DUMP_TRIES && rc == -EINTR; tries++) {
		*scan = start;
		nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = RTM_GETADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = (uint8_t)scan->family;
		rc = transact(nlh, parse_addr_cb, scan, err, sizeof(err));
	}
	return rc;
}

int lp_nl_addr_is_local(int family, const uint8_t *addr, int *ifindex)
{
	struct lp_nl_addr_scan scan;
	int rc;

	if (!family_alen(family) || !addr)
		return -EAFNOSUPPORT;
	memset(&scan, 0, sizeof(scan));
	scan.family = family;
	memcpy(scan.addr, addr, family_alen(family));
	rc = addr_dump(&scan);
	if (rc)
		return rc;
	if (scan.found && ifindex)
		*ifindex = scan.ifindex;
	return scan.found ? 1 : 0;
}

int lp_nl_addr_first(int ifindex, int family, struct lp_prefix *out)
{
	struct lp_nl_addr_scan scan;
	int rc;

	memset(&scan, 0, sizeof(scan));
	scan.family = family;
	scan.on_ifindex = ifindex;
	rc = addr_dump(&scan);
	if (rc)
		return rc;
	if (!scan.have_first)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->addr, scan.first, family_alen(family));
	out->plen = scan.first_plen;
	return 0;
}

/* ---- changes: one request, its ack ---- */

static int parse_ack_cb(const void *buf, size_t len, uint32_t seq, uint32_t portid, void *ctx, char *err,
			size_t errlen)
{
	(void)ctx;
	return lp_nl_parse_ack(buf, len, seq, portid, err, errlen);
}

int lp_nl_link_set_up(int ifindex, char *err, size_t errlen)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return transact(nlh, parse_ack_cb, NULL, err, errlen);
}

int lp_nl_addr_add(int ifindex, const struct lp_prefix *p, char *err, size_t errlen)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	size_t alen = family_alen(p->family);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!alen || p->plen > alen * 8) {
		lp_set_err(err, errlen, "bad address or prefix length");
		return -EINVAL;
	}
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = (uint8_t)p->plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, p->addr);
	/* Usable at once: no duplicate address detection on a wire whose
	 * only other end is ours (RFC 4862 5.4 allows leaving it out). */
	if (p->family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return transact(nlh, parse_ack_cb, NULL, err, errlen);
}

int lp_nl_route_add(int ifindex, const struct lp_prefix *dst, char *err, size_t errlen)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	size_t alen = family_alen(dst->family);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!alen || dst->plen > alen * 8) {
		lp_set_err(err, errlen, "bad address or prefix length");
		return -EINVAL;
	}
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)dst->family;
	rtm->rtm_dst_len = (unsigned char)dst->plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, alen, dst->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return transact(nlh, parse_ack_cb, NULL, err, errlen);
}

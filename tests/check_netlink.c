/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Netlink: the reply parsers on crafted messages (good, truncated, bad
 * attributes, errors with extended acks, interrupted dumps), then live tests
 * inside a fresh network namespace: links, routes, addresses, neighbours, and
 * the RST guard (owned table, gone after free, exit and kill -9, RSTs really
 * dropped). Live tests run only in a forked test after unshare(CLONE_NEWNET)
 * (as root, or as root of a new user namespace); elsewhere they say why they
 * skip. They never touch the host's own namespace.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpliveplay/capture.h"
#include "tcpliveplay/link_tap.h"
#include "tcpliveplay/netlink.h"
#include "tcpliveplay/nft_guard.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"
#include "skip.h"

#define SEQ 4242u
#define PID 7777u

/* ---- crafted messages ---- */

struct msgbuf {
	uint32_t words[4096];   /* 4-byte aligned, as netlink wants */
	size_t len;
};

static uint8_t *mb_bytes(struct msgbuf *m)
{
	return (uint8_t *)m->words;
}

static struct nlmsghdr *msg_new(struct msgbuf *m, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(mb_bytes(m) + m->len);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PID;
	return nlh;
}

static void msg_end(struct msgbuf *m, struct nlmsghdr *nlh)
{
	m->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void addr_of(int family, const char *s, uint8_t *out)
{
	memset(out, 0, 16);
	ck_assert_int_eq(inet_pton(family, s, out), 1);
}

/* RTM_NEWROUTE for 198.18.0.9; gateway and type as asked. */
static struct nlmsghdr *route_msg(struct msgbuf *m, unsigned char type, bool gw)
{
	struct nlmsghdr *nlh = msg_new(m, RTM_NEWROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint8_t a[16];

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_type = type;
	addr_of(AF_INET, "198.18.0.9", a);
	mnl_attr_put(nlh, RTA_DST, 4, a);
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	addr_of(AF_INET, "198.18.0.1", a);
	mnl_attr_put(nlh, RTA_PREFSRC, 4, a);
	if (gw) {
		addr_of(AF_INET, "198.18.0.254", a);
		mnl_attr_put(nlh, RTA_GATEWAY, 4, a);
	}
	mnl_attr_put_u32(nlh, 200, 0xdeadbeef); /* unknown: skipped */
	return nlh;
}

static int parse_route(struct msgbuf *m, struct lp_route *rt, char *err, size_t errlen)
{
	uint8_t dst[16];

	addr_of(AF_INET, "198.18.0.9", dst);
	return lp_nl_parse_route(mb_bytes(m), m->len, SEQ, PID, AF_INET, dst, rt, err, errlen);
}

/* An NLMSG_ERROR, the request echoed unless capped, an extack message when
 * msg is not NULL. */
static void error_msg(struct msgbuf *m, int error, const char *msg, bool capped)
{
	uint16_t flags = (capped ? NLM_F_CAPPED : 0) | (msg ? NLM_F_ACK_TLVS : 0);
	struct nlmsghdr *nlh = msg_new(m, NLMSG_ERROR, flags);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = error;
	e->msg.nlmsg_len = NLMSG_HDRLEN + sizeof(struct rtmsg) + 8;
	e->msg.nlmsg_type = RTM_GETROUTE;
	e->msg.nlmsg_seq = SEQ;
	e->msg.nlmsg_pid = PID;
	if (!capped)
		memset(mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg) + 8), 0x5a,
		       sizeof(struct rtmsg) + 8);
	if (msg) {
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
	}
	msg_end(m, nlh);
}

START_TEST(test_parse_route_good)
{
	struct msgbuf m = { .len = 0 };
	struct lp_route rt;
	char err[128] = "";
	uint8_t a[16];

	msg_end(&m, route_msg(&m, RTN_UNICAST, true));
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), 0);
	ck_assert_int_eq(rt.family, AF_INET);
	ck_assert_int_eq(rt.ifindex, 3);
	ck_assert(!rt.local);
	ck_assert(rt.has_src && rt.has_gateway);
	addr_of(AF_INET, "198.18.0.1", a);
	ck_assert_mem_eq(rt.src, a, 4);
	addr_of(AF_INET, "198.18.0.254", a);
	ck_assert_mem_eq(rt.gateway, a, 4);
	ck_assert_mem_eq(rt.nexthop, a, 4);

	/* No gateway: the next hop is the destination. A local route. */
	m.len = 0;
	msg_end(&m, route_msg(&m, RTN_LOCAL, false));
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), 0);
	ck_assert(rt.local && !rt.has_gateway);
	addr_of(AF_INET, "198.18.0.9", a);
	ck_assert_mem_eq(rt.nexthop, a, 4);
}
END_TEST

/* RTA_METRICS: the route's MTU (a metric, or the kernel's cached PMTU). */
START_TEST(test_parse_route_mtu)
{
	struct msgbuf m = { .len = 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct lp_route rt;
	uint16_t two = 1;
	char err[128] = "";

	nlh = route_msg(&m, RTN_UNICAST, true);
	nest = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_ADVMSS, 1400);
	mnl_attr_put_u32(nlh, RTAX_MTU, 1280);
	mnl_attr_put_u32(nlh, RTAX_HOPLIMIT, 64);
	mnl_attr_nest_end(nlh, nest);
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), 0);
	ck_assert_uint_eq(rt.mtu, 1280);
	/* None: 0, the interface's MTU applies. */
	m.len = 0;
	msg_end(&m, route_msg(&m, RTN_UNICAST, true));
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), 0);
	ck_assert_uint_eq(rt.mtu, 0);
	/* A 2-byte RTAX_MTU. */
	m.len = 0;
	nlh = route_msg(&m, RTN_UNICAST, true);
	nest = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put(nlh, RTAX_MTU, 2, &two);
	mnl_attr_nest_end(nlh, nest);
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "bad RTAX_MTU attribute");
}
END_TEST

START_TEST(test_parse_route_refused)
{
	static const struct {
		unsigned char type;
		int rc;
	} cases[] = {
		{ RTN_UNREACHABLE, -EHOSTUNREACH }, { RTN_PROHIBIT, -EACCES },
		{ RTN_BLACKHOLE, -ENETUNREACH }, { RTN_NAT, -EBADMSG },
	};
	struct msgbuf m;
	struct lp_route rt;
	char err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.len = 0;
		err[0] = '\0';
		msg_end(&m, route_msg(&m, cases[i].type, false));
		ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), cases[i].rc);
		ck_assert(err[0] != '\0');
	}
}
END_TEST

START_TEST(test_parse_route_bad_attrs)
{
	struct msgbuf m;
	struct lp_route rt, before;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint8_t a16[16] = { 0 };
	uint16_t two = 3;
	char err[128];

	memset(&rt, 0xaa, sizeof(rt));
	before = rt;

	/* RTA_OIF of 2 bytes. */
	m.len = 0;
	nlh = msg_new(&m, RTM_NEWROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_OIF, 2, &two);
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "bad RTA_OIF attribute");
	ck_assert_mem_eq(&rt, &before, sizeof(rt));

	/* A 16-byte gateway on an IPv4 route. */
	m.len = 0;
	nlh = route_msg(&m, RTN_UNICAST, false);
	mnl_attr_put(nlh, RTA_GATEWAY, 16, a16);
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "bad RTA_GATEWAY attribute");

	/* No output interface. */
	m.len = 0;
	nlh = msg_new(&m, RTM_NEWROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_type = RTN_UNICAST;
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);

	/* Another family. */
	m.len = 0;
	nlh = route_msg(&m, RTN_UNICAST, false);
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_family = AF_INET6;
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);

	/* Header shorter than struct rtmsg. */
	m.len = 0;
	nlh = msg_new(&m, RTM_NEWROUTE, 0);
	mnl_nlmsg_put_extra_header(nlh, 4);
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);

	/* An attribute claiming more than the message holds stops the walk:
	 * the attributes after it are not seen, so no RTA_OIF. */
	m.len = 0;
	nlh = msg_new(&m, RTM_NEWROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, 254);
	((struct nlattr *)mnl_nlmsg_get_payload_offset(nlh, sizeof(*rtm)))->nla_len = 200;
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);
	ck_assert_mem_eq(&rt, &before, sizeof(rt));
}
END_TEST

START_TEST(test_parse_truncated)
{
	struct msgbuf m = { .len = 0 };
	struct lp_route rt;
	char err[128];
	size_t full;

	msg_end(&m, route_msg(&m, RTN_UNICAST, true));
	full = m.len;
	for (size_t cut = 1; cut < full; cut++) {
		int rc;

		m.len = full - cut;
		rc = parse_route(&m, &rt, err, sizeof(err));
		ck_assert_msg(rc == -EBADMSG, "cut %zu: %d", cut, rc);
	}
	/* An empty buffer is no answer yet. */
	m.len = 0;
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), LP_NL_MORE);
}
END_TEST

START_TEST(test_parse_error_extack)
{
	struct msgbuf m;
	struct lp_route rt;
	char err[128];

	for (int capped = 0; capped <= 1; capped++) {
		m.len = 0;
		strcpy(err, "stale");
		error_msg(&m, -ENETUNREACH, "Nexthop has invalid gateway", capped);
		ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -ENETUNREACH);
		ck_assert_str_eq(err, "Nexthop has invalid gateway");
	}
	/* No extack: the errno's text. */
	m.len = 0;
	error_msg(&m, -EHOSTUNREACH, NULL, true);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EHOSTUNREACH);
	ck_assert_str_eq(err, strerror(EHOSTUNREACH));

	/* A tiny err buffer is filled, cut and terminated. */
	m.len = 0;
	error_msg(&m, -EINVAL, "a rather long kernel message", true);
	{
		char tiny[6];

		ck_assert_int_eq(parse_route(&m, &rt, tiny, sizeof(tiny)), -EINVAL);
		ck_assert_str_eq(tiny, "a rat");
	}
	/* No err buffer at all. */
	ck_assert_int_eq(parse_route(&m, &rt, NULL, 0), -EINVAL);

	/* An ack alone answers nothing. */
	m.len = 0;
	error_msg(&m, 0, NULL, true);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -ENODATA);
}
END_TEST

START_TEST(test_parse_error_malformed)
{
	struct msgbuf m;
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;
	struct nlattr *at;
	struct lp_route rt;
	char err[128];

	/* Too short for struct nlmsgerr. */
	m.len = 0;
	nlh = msg_new(&m, NLMSG_ERROR, 0);
	*(int *)mnl_nlmsg_put_extra_header(nlh, 4) = -EPERM;
	msg_end(&m, nlh);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);

	/* A positive error. */
	m.len = 0;
	error_msg(&m, 5, NULL, true);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EBADMSG);

	/* Extack message without its NUL: ignored, the errno's text used. */
	m.len = 0;
	error_msg(&m, -EEXIST, "abcd", true);
	nlh = (struct nlmsghdr *)mb_bytes(&m);
	at = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nlmsgerr));
	((char *)mnl_attr_get_payload(at))[4] = 'e';
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EEXIST);
	ck_assert_str_eq(err, strerror(EEXIST));

	/* An echoed request longer than the message: TLVs ignored. */
	m.len = 0;
	error_msg(&m, -EEXIST, "echo", false);
	nlh = (struct nlmsghdr *)mb_bytes(&m);
	e = mnl_nlmsg_get_payload(nlh);
	e->msg.nlmsg_len = 5000;
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EEXIST);
	ck_assert_str_eq(err, strerror(EEXIST));

	/* Control characters in the kernel's text are made visible. */
	m.len = 0;
	error_msg(&m, -EINVAL, "bad\n\x1b[31mred", true);
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "bad??[31mred");
}
END_TEST

START_TEST(test_parse_seq_portid)
{
	struct msgbuf m = { .len = 0 };
	struct lp_route rt;
	uint8_t dst[16];
	char err[128];

	addr_of(AF_INET, "198.18.0.9", dst);
	msg_end(&m, route_msg(&m, RTN_UNICAST, true));
	ck_assert_int_eq(lp_nl_parse_route(mb_bytes(&m), m.len, SEQ + 1, PID, AF_INET, dst, &rt, err,
					   sizeof(err)),
			 -EPROTO);
	ck_assert_int_eq(lp_nl_parse_route(mb_bytes(&m), m.len, SEQ, PID + 1, AF_INET, dst, &rt, err,
					   sizeof(err)),
			 -ESRCH);
	/* Messages of other types are skipped. */
	m.len = 0;
	msg_end(&m, msg_new(&m, RTM_NEWLINK, 0));
	ck_assert_int_eq(parse_route(&m, &rt, err, sizeof(err)), LP_NL_MORE);
}
END_TEST

static struct nlmsghdr *link_msg(struct msgbuf *m, const char *name, size_t alen)
{
	static const uint8_t mac[8] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
	struct nlmsghdr *nlh = msg_new(m, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = 7;
	ifi->ifi_type = ARPHRD_ETHER;
	ifi->ifi_flags = IFF_UP | IFF_RUNNING;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, alen, mac);
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, 1000);
	return nlh;
}

START_TEST(test_parse_link)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct msgbuf m = { .len = 0 };
	struct lp_ifinfo li;
	struct nlmsghdr *nlh;
	char err[128];

	msg_end(&m, link_msg(&m, "veth0", 6));
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), 0);
	ck_assert_int_eq(li.ifindex, 7);
	ck_assert_str_eq(li.name, "veth0");
	ck_assert_uint_eq(li.type, ARPHRD_ETHER);
	ck_assert(li.has_mac && li.up);
	ck_assert_mem_eq(li.mac, mac, 6);
	ck_assert_uint_eq(li.mtu, 1500);

	/* A link-layer address that is not 6 bytes: no MAC. */
	m.len = 0;
	msg_end(&m, link_msg(&m, "tun0", 4));
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), 0);
	ck_assert(!li.has_mac);

	/* A name of IF_NAMESIZE characters does not fit. */
	m.len = 0;
	msg_end(&m, link_msg(&m, "abcdefghijklmnop", 6));
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), -EBADMSG);

	/* A name without its NUL. */
	m.len = 0;
	nlh = msg_new(&m, RTM_NEWLINK, 0);
	((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)))->ifi_index = 2;
	mnl_attr_put(nlh, IFLA_IFNAME, 4, "eth0");
	msg_end(&m, nlh);
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "bad IFLA_IFNAME attribute");

	/* No name at all. */
	m.len = 0;
	msg_end(&m, link_msg(&m, NULL, 6));
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), -EBADMSG);

	/* The kernel's "no such device". */
	m.len = 0;
	error_msg(&m, -ENODEV, NULL, true);
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), -ENODEV);
}
END_TEST

/* IFLA_STATS64 of the kernel's size, or cut short of tx_dropped. */
START_TEST(test_parse_link_stats)
{
	struct rtnl_link_stats64 st;
	struct msgbuf m = { .len = 0 };
	struct lp_ifinfo li;
	struct nlmsghdr *nlh;
	char err[128];

	memset(&st, 0, sizeof(st));
	st.tx_dropped = 1234567890123ull;
	nlh = link_msg(&m, "tap0", 6);
	mnl_attr_put(nlh, IFLA_STATS64, sizeof(st), &st);
	msg_end(&m, nlh);
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), 0);
	ck_assert(li.has_stats);
	ck_assert_uint_eq(li.tx_dropped, 1234567890123ull);
	m.len = 0;
	nlh = link_msg(&m, "tap0", 6);
	mnl_attr_put(nlh, IFLA_STATS64, offsetof(struct rtnl_link_stats64, tx_dropped), &st);
	msg_end(&m, nlh);
	ck_assert_int_eq(lp_nl_parse_link(mb_bytes(&m), m.len, SEQ, PID, &li, err, sizeof(err)), 0);
	ck_assert(!li.has_stats);
	ck_assert_uint_eq(li.tx_dropped, 0);
}
END_TEST

/* The reply to a change: the ack, the kernel's refusal, nothing yet. */
START_TEST(test_parse_ack)
{
	struct msgbuf m = { .len = 0 };
	char err[128] = "";

	error_msg(&m, 0, NULL, true);
	ck_assert_int_eq(lp_nl_parse_ack(mb_bytes(&m), m.len, SEQ, PID, err, sizeof(err)), 0);
	m.len = 0;
	error_msg(&m, -EEXIST, "Address already assigned", false);
	ck_assert_int_eq(lp_nl_parse_ack(mb_bytes(&m), m.len, SEQ, PID, err, sizeof(err)), -EEXIST);
	ck_assert_str_eq(err, "Address already assigned");
	m.len = 0;
	msg_end(&m, msg_new(&m, RTM_NEWLINK, 0));
	ck_assert_int_eq(lp_nl_parse_ack(mb_bytes(&m), m.len, SEQ, PID, err, sizeof(err)), LP_NL_MORE);
	/* Another request's ack, a cut message. */
	m.len = 0;
	error_msg(&m, 0, NULL, true);
	ck_assert_int_eq(lp_nl_parse_ack(mb_bytes(&m), m.len, SEQ + 1, PID, err, sizeof(err)), -EPROTO);
	ck_assert_int_eq(lp_nl_parse_ack(mb_bytes(&m), m.len - 1, SEQ, PID, err, sizeof(err)), -EBADMSG);
}
END_TEST

static struct nlmsghdr *neigh_msg(struct msgbuf *m, int family, const char *dst, uint16_t state,
				  size_t lladdr_len)
{
	static const uint8_t ll[8] = { 0x02, 0, 0, 0, 0, 0x05, 0, 0 };
	struct nlmsghdr *nlh = msg_new(m, RTM_NEWNEIGH, 0);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	uint8_t a[16];

	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = 4;
	ndm->ndm_state = state;
	addr_of(family, dst, a);
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, a);
	if (lladdr_len)
		mnl_attr_put(nlh, NDA_LLADDR, lladdr_len, ll);
	mnl_attr_put_u32(nlh, NDA_PROBES, 1);
	return nlh;
}

START_TEST(test_parse_neigh)
{
	static const uint8_t want[6] = { 0x02, 0, 0, 0, 0, 0x05 };
	static const uint16_t usable[] = { NUD_REACHABLE, NUD_STALE, NUD_DELAY, NUD_PROBE, NUD_PERMANENT,
					   NUD_NOARP };
	static const uint16_t unusable[] = { NUD_NONE, NUD_INCOMPLETE, NUD_FAILED };
	struct msgbuf m;
	uint8_t a[16], mac[6];
	char err[128];

	addr_of(AF_INET6, "2001:db8::5", a);
	for (size_t i = 0; i < sizeof(usable) / sizeof(usable[0]); i++) {
		m.len = 0;
		memset(mac, 0xee, 6);
		msg_end(&m, neigh_msg(&m, AF_INET6, "2001:db8::5", usable[i], 6));
		ck_assert_int_eq(lp_nl_parse_neigh(mb_bytes(&m), m.len, SEQ, PID, 4, AF_INET6, a, mac, err,
						   sizeof(err)),
				 0);
		ck_assert_mem_eq(mac, want, 6);
	}
	for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		m.len = 0;
		memset(mac, 0xee, 6);
		msg_end(&m, neigh_msg(&m, AF_INET6, "2001:db8::5", unusable[i], 6));
		ck_assert_int_eq(lp_nl_parse_neigh(mb_bytes(&m), m.len, SEQ, PID, 4, AF_INET6, a, mac, err,
						   sizeof(err)),
				 -ENOENT);
		ck_assert_uint_eq(mac[0], 0xee);
	}
	/* No link-layer address, or one of 8 bytes. */
	m.len = 0;
	msg_end(&m, neigh_msg(&m, AF_INET6, "2001:db8::5", NUD_REACHABLE, 0));
	ck_assert_int_eq(lp_nl_parse_neigh(mb_bytes(&m), m.len, SEQ, PID, 4, AF_INET6, a, mac, err, sizeof(err)),
			 -ENOENT);
	m.len = 0;
	msg_end(&m, neigh_msg(&m, AF_INET6, "2001:db8::5", NUD_REACHABLE, 8));
	ck_assert_int_eq(lp_nl_parse_neigh(mb_bytes(&m), m.len, SEQ, PID, 4, AF_INET6, a, mac, err, sizeof(err)),
			 -ENOENT);
	/* An entry for another address or interface. */
	m.len = 0;
	msg_end(&m, neigh_msg(&m, AF_INET6, "2001:db8::6", NUD_REACHABLE, 6));
	ck_assert_int_eq(lp_nl_parse_neigh(mb_bytes(&m), m.len, SEQ, PID, 4, AF_INET6, a, mac, err, sizeof(err)),
			 -EBADMSG);
	m.len = 0;
	msg_end(&m, neigh_msg(&m, AF_INET6, "2001:db8::5", NUD_REACHABLE, 6));
	ck_assert_int_eq(lp_nl_parse_neigh(mb_bytes(&m), m.len, SEQ, PID, 5, AF_INET6, a, mac, err, sizeof(err)),
			 -EBADMSG);
	/* An IPv4 entry carrying a 16-byte NDA_DST. */
	addr_of(AF_INET, "198.18.0.5", a);
	m.len = 0;
	{
		struct nlmsghdr *nlh = neigh_msg(&m, AF_INET6, "2001:db8::5", NUD_REACHABLE, 6);

		((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_family = AF_INET;
		msg_end(&m, nlh);
	}
	ck_assert_int_eq(lp_nl_parse_neigh(mb_bytes(&m), m.len, SEQ, PID, 4, AF_INET, a, mac, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_str_eq(err, "bad NDA_DST attribute");
}
END_TEST

static void addr_entry(struct msgbuf *m, int family, int ifindex, const char *local, const char *peer,
		       uint32_t flags, uint16_t nlflags)
{
	struct nlmsghdr *nlh = msg_new(m, RTM_NEWADDR, NLM_F_MULTI | nlflags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t alen = family == AF_INET ? 4 : 16;
	uint8_t a[16];

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_prefixlen = family == AF_INET ? 24 : 64;
	if (peer) {
		addr_of(family, peer, a);
		mnl_attr_put(nlh, IFA_ADDRESS, alen, a);
	}
	if (local) {
		addr_of(family, local, a);
		mnl_attr_put(nlh, local && peer ? IFA_LOCAL : IFA_ADDRESS, alen, a);
	}
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	mnl_attr_put_strz(nlh, IFA_LABEL, "eth0");
	msg_end(m, nlh);
}

static void done_msg(struct msgbuf *m, int code, const char *msg)
{
	struct nlmsghdr *nlh = msg_new(m, NLMSG_DONE, NLM_F_MULTI | (msg ? NLM_F_ACK_TLVS : 0));

	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = code;
	if (msg)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	msg_end(m, nlh);
}

static struct lp_nl_addr_scan scan_for(int family, const char *addr)
{
	struct lp_nl_addr_scan s;

	memset(&s, 0, sizeof(s));
	s.family = family;
	addr_of(family, addr, s.addr);
	return s;
}

START_TEST(test_parse_addr_dump)
{
	struct lp_nl_addr_scan s = scan_for(AF_INET, "198.18.0.1");
	struct msgbuf m;
	char err[128];

	/* Buffer one: a point-to-point link whose peer is the address, then the
	 * address itself on interface 3. */
	m.len = 0;
	addr_entry(&m, AF_INET, 2, "198.19.0.1", "198.18.0.1", 0, 0);
	addr_entry(&m, AF_INET6, 9, "2001:db8::1", NULL, 0, 0);
	ck_assert_int_eq(lp_nl_parse_addr(mb_bytes(&m), m.len, SEQ, PID, &s, err, sizeof(err)), LP_NL_MORE);
	ck_assert(!s.found);
	m.len = 0;
	addr_entry(&m, AF_INET, 3, "198.18.0.1", NULL, 0, 0);
	ck_assert_int_eq(lp_nl_parse_addr(mb_bytes(&m), m.len, SEQ, PID, &s, err, sizeof(err)), LP_NL_MORE);
	m.len = 0;
	done_msg(&m, 0, NULL);
	ck_assert_int_eq(lp_nl_parse_addr(mb_bytes(&m), m.len, SEQ, PID, &s, err, sizeof(err)), 0);
	ck_assert(s.found);
	ck_assert_int_eq(s.ifindex, 3);

	/* An IPv6 address whose duplicate address detection failed is not ours. */
	s = scan_for(AF_INET6, "2001:db8::1");
	m.len = 0;
	addr_entry(&m, AF_INET6, 4, "2001:db8::1", NULL, IFA_F_DADFAILED | IFA_F_TENTATIVE, 0);
	done_msg(&m, 0, NULL);
	ck_assert_int_eq(lp_nl_parse_addr(mb_bytes(&m), m.len, SEQ, PID, &s, err, sizeof(err)), 0);
	ck_assert(!s.found);

	/* An interrupted dump. */
	s = scan_for(AF_INET, "198.18.0.1");
	m.len = 0;
	addr_entry(&m, AF_INET, 3, "198.18.0.1", NULL, 0, NLM_F_DUMP_INTR);
	ck_assert_int_eq(lp_nl_parse_addr(mb_bytes(&m), m.len, SEQ, PID, &s, err, sizeof(err)), -EINTR);

	/* A dump that failed half way, with the kernel's message. */
	s = scan_for(AF_INET, "198.18.0.1");
	m.len = 0;
	done_msg(&m, -EBUSY, "dump went wrong");
	ck_assert_int_eq(lp_nl_parse_addr(mb_bytes(&m), m.len, SEQ, PID, &s, err, sizeof(err)), -EBUSY);
	ck_assert_str_eq(err, "dump went wrong");

	/* A bad IFA_FLAGS in a matching entry. */
	s = scan_for(AF_INET, "198.18.0.1");
	m.len = 0;
	{
		struct nlmsghdr *nlh = msg_new(&m, RTM_NEWADDR, NLM_F_MULTI);
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = AF_INET;
		mnl_attr_put_u16(nlh, IFA_FLAGS, 1);
		msg_end(&m, nlh);
	}
	ck_assert_int_eq(lp_nl_parse_addr(mb_bytes(&m), m.len, SEQ, PID, &s, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "bad IFA_FLAGS attribute");
}
END_TEST

/* Random and mutated buffers: every parser answers with one of its codes and
 * never reads out of bounds (the ASan build checks that). */
START_TEST(test_parse_hostile)
{
	struct lp_rng rng;
	struct msgbuf seedmsg = { .len = 0 }, m;
	uint8_t a[16], mac[6];
	struct lp_ifinfo li;
	struct lp_route rt;
	char err[64];

	lp_rng_seed(&rng, 12345);
	addr_of(AF_INET, "198.18.0.9", a);
	msg_end(&seedmsg, route_msg(&seedmsg, RTN_UNICAST, true));
	error_msg(&seedmsg, -EINVAL, "x", false);
	for (int i = 0; i < 20000; i++) {
		struct lp_nl_addr_scan s = scan_for(AF_INET, "198.18.0.9");
		size_t len;
		int rc;

		if (i & 1) {
			m = seedmsg;
			for (int k = 0; k < 4; k++)
				mb_bytes(&m)[lp_rng_below(&rng, (uint32_t)m.len)] = (uint8_t)lp_rng_below(&rng, 256);
			len = m.len - lp_rng_below(&rng, 8);
		} else {
			len = lp_rng_below(&rng, 256);
			for (size_t k = 0; k < len; k++)
				mb_bytes(&m)[k] = (uint8_t)lp_rng_below(&rng, 256);
		}
		rc = lp_nl_parse_route(mb_bytes(&m), len, SEQ, PID, AF_INET, a, &rt, err, sizeof(err));
		ck_assert(rc <= LP_NL_MORE);
		rc = lp_nl_parse_link(mb_bytes(&m), len, SEQ, PID, &li, err, sizeof(err));
		ck_assert(rc <= LP_NL_MORE);
		rc = lp_nl_parse_neigh(mb_bytes(&m), len, SEQ, PID, 1, AF_INET, a, mac, err, sizeof(err));
		ck_assert(rc <= LP_NL_MORE);
		rc = lp_nl_parse_addr(mb_bytes(&m), len, SEQ, PID, &s, err, sizeof(err));
		ck_assert(rc <= LP_NL_MORE);
	}
}
END_TEST

/* ---- live tests, in a fresh network namespace ---- */

static void skip(const char *why)
{
	lp_test_skip("netlink live test", "%s", why);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* Become root of a new user namespace (for unprivileged runs). */
static int enter_userns(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return -errno;
	if (write_file("/proc/self/setgroups", "deny"))
		return -EPERM;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map))
		return -EPERM;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	return write_file("/proc/self/gid_map", map) ? -EPERM : 0;
}

/* Send one request that wants an ack. */
static int nl_ack(struct nlmsghdr *nlh)
{
	uint32_t buf[2048];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int rc = -EIO;
	ssize_t n;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 99;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		goto out;
	rc = mnl_cb_run(buf, (size_t)n, 99, mnl_socket_get_portid(nl), NULL, NULL) < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return rc;
}

static int lo_index(void)
{
	return (int)if_nametoindex("lo");
}

/* Enter a fresh network namespace with lo up. false (and a visible line)
 * when that is not possible here. */
static bool enter_netns(void)
{
	uint32_t buf[256];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	char why[160];
	const char *fork_env = getenv("CK_FORK");
	int rc;

	if (fork_env && !strcmp(fork_env, "no")) {
		skip("live netlink tests need Check's fork mode (CK_FORK=no is set)");
		return false;
	}
	if (unshare(CLONE_NEWNET)) {
		int e = errno;

		rc = enter_userns();
		if (rc) {
			snprintf(why, sizeof(why), "cannot create a network namespace (%s; user namespace: %s)",
				 strerror(e), strerror(-rc));
			skip(why);
			return false;
		}
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = lo_index();
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	rc = nl_ack(nlh);
	ck_assert_msg(rc == 0, "bringing lo up: %s", strerror(-rc));
	return true;
}

static int add_neigh(int family, const char *addr, const uint8_t *mac, uint16_t state)
{
	uint32_t buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	uint8_t a[16];

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = lo_index();
	ndm->ndm_state = state;
	addr_of(family, addr, a);
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, a);
	if (mac)
		mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nl_ack(nlh);
}

/* 198.18.x.0/24 through lo with an mtu metric. */
static int add_route_mtu(const char *net, uint32_t mtu)
{
	uint32_t buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *nest;
	struct rtmsg *rtm;
	uint8_t a[16];

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 24;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	addr_of(AF_INET, net, a);
	mnl_attr_put(nlh, RTA_DST, 4, a);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)lo_index());
	nest = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_MTU, mtu);
	mnl_attr_nest_end(nlh, nest);
	return nl_ack(nlh);
}

START_TEST(test_live_link)
{
	struct lp_ifinfo li;
	char err[128] = "";

	if (!enter_netns())
		return;
	ck_assert_int_eq(lp_nl_link_get("lo", &li, err, sizeof(err)), 0);
	ck_assert_int_eq(li.ifindex, lo_index());
	ck_assert_str_eq(li.name, "lo");
	ck_assert_uint_eq(li.type, ARPHRD_LOOPBACK);
	ck_assert(li.up);
	ck_assert_uint_gt(li.mtu, 0);
	ck_assert_int_eq(lp_nl_link_get("tlp-absent0", &li, err, sizeof(err)), -ENODEV);
	ck_assert(err[0] != '\0');
	ck_assert_int_eq(lp_nl_link_get("", &li, err, sizeof(err)), -ENODEV);
	ck_assert_int_eq(lp_nl_link_get("a-name-far-too-long-for-linux", &li, err, sizeof(err)), -ENODEV);
}
END_TEST

START_TEST(test_live_route)
{
	static const struct {
		int family;
		const char *addr;
	} local[] = { { AF_INET, "127.0.0.1" }, { AF_INET, "127.0.0.53" }, { AF_INET6, "::1" } };
	struct lp_route rt;
	uint8_t a[16];
	char err[128];

	if (!enter_netns())
		return;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		addr_of(local[i].family, local[i].addr, a);
		err[0] = '\0';
		ck_assert_msg(lp_nl_route_get(local[i].family, a, 0, &rt, err, sizeof(err)) == 0, "%s: %s",
			      local[i].addr, err);
		ck_assert_int_eq(rt.family, local[i].family);
		ck_assert_int_eq(rt.ifindex, lo_index());
		ck_assert(rt.local);
		ck_assert(!rt.has_gateway);
		ck_assert_mem_eq(rt.nexthop, a, 16);
		/* Through lo explicitly too. */
		ck_assert_int_eq(lp_nl_route_get(local[i].family, a, lo_index(), &rt, err, sizeof(err)), 0);
	}
	addr_of(AF_INET, "127.0.0.1", a);
	ck_assert_int_eq(lp_nl_route_get(AF_INET, a, 0, &rt, err, sizeof(err)), 0);
	ck_assert(rt.has_src);
	ck_assert_mem_eq(rt.src, a, 4);

	/* A route with an mtu metric. */
	ck_assert_int_eq(add_route_mtu("198.18.5.0", 1280), 0);
	addr_of(AF_INET, "198.18.5.7", a);
	ck_assert_int_eq(lp_nl_route_get(AF_INET, a, 0, &rt, err, sizeof(err)), 0);
	ck_assert_uint_eq(rt.mtu, 1280);
	addr_of(AF_INET, "127.0.0.1", a);
	ck_assert_int_eq(lp_nl_route_get(AF_INET, a, 0, &rt, err, sizeof(err)), 0);
	ck_assert_uint_eq(rt.mtu, 0);

	/* Nothing routes 198.18.0.0/15 or 2001:db8::/32 in the new namespace. */
	addr_of(AF_INET, "198.18.0.9", a);
	ck_assert_int_eq(lp_nl_route_get(AF_INET, a, 0, &rt, err, sizeof(err)), -ENETUNREACH);
	ck_assert(err[0] != '\0');
	addr_of(AF_INET6, "2001:db8::9", a);
	ck_assert_int_lt(lp_nl_route_get(AF_INET6, a, 0, &rt, err, sizeof(err)), 0);
	/* An interface that does not exist. */
	addr_of(AF_INET, "127.0.0.1", a);
	ck_assert_int_eq(lp_nl_route_get(AF_INET, a, 9999, &rt, err, sizeof(err)), -ENODEV);
	ck_assert_int_eq(lp_nl_route_get(AF_UNIX, a, 0, &rt, err, sizeof(err)), -EAFNOSUPPORT);
}
END_TEST

START_TEST(test_live_addr)
{
	uint8_t a[16];
	int ifindex = -1;

	if (!enter_netns())
		return;
	addr_of(AF_INET, "127.0.0.1", a);
	ck_assert_int_eq(lp_nl_addr_is_local(AF_INET, a, &ifindex), 1);
	ck_assert_int_eq(ifindex, lo_index());
	addr_of(AF_INET6, "::1", a);
	ifindex = -1;
	ck_assert_int_eq(lp_nl_addr_is_local(AF_INET6, a, &ifindex), 1);
	ck_assert_int_eq(ifindex, lo_index());
	addr_of(AF_INET, "198.18.0.9", a);
	ifindex = -1;
	ck_assert_int_eq(lp_nl_addr_is_local(AF_INET, a, &ifindex), 0);
	ck_assert_int_eq(ifindex, -1);
	addr_of(AF_INET6, "2001:db8::9", a);
	ck_assert_int_eq(lp_nl_addr_is_local(AF_INET6, a, NULL), 0);
	ck_assert_int_eq(lp_nl_addr_is_local(AF_UNIX, a, NULL), -EAFNOSUPPORT);
}
END_TEST

START_TEST(test_live_neigh)
{
	static const uint8_t mac1[6] = { 0x02, 0, 0, 0, 0, 0x05 }, mac2[6] = { 0x02, 0, 0, 0, 0, 0x06 };
	uint8_t a[16], mac[6];
	int rc;

	if (!enter_netns())
		return;
	rc = add_neigh(AF_INET6, "2001:db8::5", mac1, NUD_PERMANENT);
	ck_assert_msg(rc == 0, "adding a neighbour: %s", strerror(-rc));
	rc = add_neigh(AF_INET6, "2001:db8::6", mac2, NUD_STALE);
	ck_assert_msg(rc == 0, "adding a neighbour: %s", strerror(-rc));
	rc = add_neigh(AF_INET6, "2001:db8::7", NULL, NUD_INCOMPLETE);
	ck_assert_msg(rc == 0, "adding a neighbour: %s", strerror(-rc));

	addr_of(AF_INET6, "2001:db8::5", a);
	ck_assert_int_eq(lp_nl_neigh_get(lo_index(), AF_INET6, a, mac), 0);
	ck_assert_mem_eq(mac, mac1, 6);
	addr_of(AF_INET6, "2001:db8::6", a);
	ck_assert_int_eq(lp_nl_neigh_get(lo_index(), AF_INET6, a, mac), 0);
	ck_assert_mem_eq(mac, mac2, 6);
	addr_of(AF_INET6, "2001:db8::7", a);
	ck_assert_int_eq(lp_nl_neigh_get(lo_index(), AF_INET6, a, mac), -ENOENT);
	addr_of(AF_INET6, "2001:db8::8", a);
	ck_assert_int_eq(lp_nl_neigh_get(lo_index(), AF_INET6, a, mac), -ENOENT);
	addr_of(AF_INET, "198.18.0.8", a);
	ck_assert_int_eq(lp_nl_neigh_get(lo_index(), AF_INET, a, mac), -ENOENT);
	ck_assert_int_eq(lp_nl_neigh_get(9999, AF_INET, a, mac), -ENOENT);
	ck_assert_int_eq(lp_nl_neigh_get(0, AF_INET, a, mac), -EINVAL);
}
END_TEST

/* The kernel's own extended ack, echoed request or capped, reaches err. */
START_TEST(test_live_extack)
{
	uint32_t buf[2048];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	uint8_t a[16], mac[6];
	char err[128];
	int one = 1;
	ssize_t n;

	if (!enter_netns())
		return;
	nl = mnl_socket_open(NETLINK_ROUTE);
	ck_assert_ptr_nonnull(nl);
	ck_assert_int_eq(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	ck_assert_int_eq(mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one)), 0);
	addr_of(AF_INET, "198.18.0.1", a);
	for (int capped = 0; capped <= 1; capped++) {
		ck_assert_int_eq(mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &capped, sizeof(capped)), 0);
		/* A neighbour query without an interface. */
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETNEIGH;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		nlh->nlmsg_seq = SEQ + (uint32_t)capped;
		ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
		ndm->ndm_family = AF_INET;
		mnl_attr_put(nlh, NDA_DST, 4, a);
		ck_assert_int_gt(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), 0);
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		err[0] = '\0';
		ck_assert_int_eq(lp_nl_parse_neigh(buf, (size_t)n, SEQ + (uint32_t)capped,
						   mnl_socket_get_portid(nl), 1, AF_INET, a, mac, err,
						   sizeof(err)),
				 -EINVAL);
		/* The kernel's words, whatever they are, not strerror's. */
		ck_assert_msg(err[0] && strcmp(err, strerror(EINVAL)), "no extack text: '%s'", err);
	}
	mnl_socket_close(nl);
}
END_TEST

static void endpoint(struct lp_endpoint *ep, int family, const char *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = family;
	if (addr)
		addr_of(family, addr, ep->addr);
	ep->port = port;
}

/* Poll until the table exists (want 0) or is gone (want -ENOENT), at most
 * about a second. */
static int table_wait(const char *name, int want)
{
	int rc = 0;

	for (int i = 0; i < 100; i++) {
		rc = lp_nft_table_lookup(name, NULL, NULL);
		if (rc == want)
			break;
		usleep(10000);
	}
	return rc;
}

START_TEST(test_live_guard_table)
{
	struct lp_nft_guard *g = NULL, *g2 = NULL;
	struct lp_endpoint l, r;
	char err[256] = "", name[64], prefix[64];
	uint32_t flags = 0, owner = 0;
	int rc;

	if (!enter_netns())
		return;
	endpoint(&l, AF_INET, "127.0.0.1", 40000);
	endpoint(&r, AF_INET, "127.0.0.1", 9);
	rc = lp_nft_guard_install(&l, &r, &g, err, sizeof(err));
	ck_assert_msg(rc == 0, "install: %s", err);
	snprintf(prefix, sizeof(prefix), "tcpliveplay_%ld_", (long)getpid());
	ck_assert(!strncmp(lp_nft_guard_table(g), prefix, strlen(prefix)));
	snprintf(name, sizeof(name), "%s", lp_nft_guard_table(g));
	ck_assert_int_eq(lp_nft_table_lookup(name, &flags, &owner), 0);
	ck_assert_uint_eq(flags & NFT_TABLE_F_OWNER, NFT_TABLE_F_OWNER);
	ck_assert_uint_ne(owner, 0);

	/* A second guard (IPv6, any remote) gets its own table. */
	endpoint(&l, AF_INET6, "::1", 8080);
	endpoint(&r, 0, NULL, 0);
	rc = lp_nft_guard_install(&l, &r, &g2, err, sizeof(err));
	ck_assert_msg(rc == 0, "install: %s", err);
	ck_assert_str_ne(lp_nft_guard_table(g2), name);
	lp_nft_guard_free(g2);

	/* Inbound packets dropped at lo's ingress: a netdev table of the same
	 * name, owned too; both go with the guard. */
	ck_assert_int_eq(lp_nft_netdev_table_lookup(name, NULL, NULL), -ENOENT);
	rc = lp_nft_guard_drop_inbound(g, "lo", err, sizeof(err));
	ck_assert_msg(rc == 0, "drop inbound: %s", err);
	ck_assert_int_eq(lp_nft_netdev_table_lookup(name, &flags, &owner), 0);
	ck_assert_uint_eq(flags & NFT_TABLE_F_OWNER, NFT_TABLE_F_OWNER);
	ck_assert_int_eq(lp_nft_guard_drop_inbound(g, "lo", err, sizeof(err)), -EINVAL);

	lp_nft_guard_free(g);
	ck_assert_int_eq(lp_nft_table_lookup(name, NULL, NULL), -ENOENT);
	ck_assert_int_eq(lp_nft_netdev_table_lookup(name, NULL, NULL), -ENOENT);
	lp_nft_guard_free(NULL);

	/* Bad endpoints. */
	g = (struct lp_nft_guard *)&l;
	endpoint(&l, AF_INET, "127.0.0.1", 0);
	endpoint(&r, AF_INET, "127.0.0.1", 9);
	ck_assert_int_eq(lp_nft_guard_install(&l, &r, &g, err, sizeof(err)), -EINVAL);
	endpoint(&l, AF_INET, "127.0.0.1", 1);
	endpoint(&r, AF_INET6, "::1", 9);
	ck_assert_int_eq(lp_nft_guard_install(&l, &r, &g, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_eq(g, (struct lp_nft_guard *)&l);
}
END_TEST

/* A child installs a guard, sends its table name, then exits on its own
 * (kill == 0) or is killed with that signal: the table must go. */
static void guard_dies(int sig)
{
	struct pollfd pfd;
	char name[64] = "";
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct lp_nft_guard *g = NULL;
		struct lp_endpoint l, r;
		char err[256];

		close(fds[0]);
		endpoint(&l, AF_INET, "127.0.0.1", 40000);
		endpoint(&r, AF_INET, "127.0.0.1", 9);
		if (lp_nft_guard_install(&l, &r, &g, err, sizeof(err)))
			_exit(3);
		if (write(fds[1], lp_nft_guard_table(g), strlen(lp_nft_guard_table(g))) < 0)
			_exit(4);
		if (sig == 0)
			_exit(0);
		for (int i = 0; i < 100; i++)
			sleep(1);
		_exit(5);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	n = read(fds[0], name, sizeof(name) - 1);
	close(fds[0]);
	ck_assert_int_gt(n, 0);
	name[n] = '\0';
	if (sig) {
		ck_assert_int_eq(lp_nft_table_lookup(name, NULL, NULL), 0);
		ck_assert_int_eq(kill(pid, sig), 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (sig)
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig);
	else
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(table_wait(name, -ENOENT), -ENOENT);
}

START_TEST(test_live_guard_exit)
{
	if (!enter_netns())
		return;
	guard_dies(0);
}
END_TEST

START_TEST(test_live_guard_kill9)
{
	if (!enter_netns())
		return;
	guard_dies(SIGKILL);
}
END_TEST

/* ---- RSTs on lo, injected and captured with AF_PACKET ---- */

static int capture_open(void)
{
	struct sockaddr_ll sll;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));

	ck_assert_msg(fd >= 0, "AF_PACKET socket: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = lo_index();
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* Send a SYN from addr:sport to addr:dport (no one listens on dport) as a
 * frame on lo: the kernel answers with a RST from dport to sport. */
static void send_syn(int fd, int family, const char *addr, uint16_t sport, uint16_t dport, uint32_t seq)
{
	uint8_t frame[14 + LP_PKT_MAXHDR];
	struct sockaddr_ll sll;
	struct lp_seg s;
	int n;

	memset(&s, 0, sizeof(s));
	s.family = family;
	addr_of(family, addr, s.src);
	addr_of(family, addr, s.dst);
	s.sport = sport;
	s.dport = dport;
	s.seq = seq;
	s.flags = LP_TH_SYN;
	s.window = 65535;
	memset(frame, 0, 12);
	frame[12] = family == AF_INET ? 0x08 : 0x86;
	frame[13] = family == AF_INET ? 0x00 : 0xdd;
	n = lp_pkt_build(frame + 14, sizeof(frame) - 14, &s);
	ck_assert_int_gt(n, 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = lo_index();
	sll.sll_halen = 6;
	ck_assert_int_eq(sendto(fd, frame, 14 + (size_t)n, 0, (struct sockaddr *)&sll, sizeof(sll)),
			 14 + n);
}

static void drain(int fd)
{
	uint8_t buf[2048];

	for (int i = 0; i < 10000 && recv(fd, buf, sizeof(buf), 0) > 0; i++)
		;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Is this frame a TCP RST from sport to dport? */
static bool is_rst(const uint8_t *f, size_t len, int family, uint16_t sport, uint16_t dport)
{
	size_t off;
	const uint8_t *t;

	if (len < 14)
		return false;
	if (family == AF_INET) {
		if (f[12] != 0x08 || f[13] != 0x00 || len < 14 + 20 || (f[14] >> 4) != 4 || f[14 + 9] != 6)
			return false;
		off = 14 + (size_t)(f[14] & 0xf) * 4;
	} else {
		if (f[12] != 0x86 || f[13] != 0xdd || len < 14 + 40 || f[14 + 6] != 6)
			return false;
		off = 14 + 40;
	}
	if (len < off + 20)
		return false;
	t = f + off;
	return ((t[0] << 8) | t[1]) == sport && ((t[2] << 8) | t[3]) == dport && (t[13] & LP_TH_RST);
}

/* Wait up to ms for a RST from sport to dport. */
static bool saw_rst(int fd, int family, uint16_t sport, uint16_t dport, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	uint8_t buf[2048];

	for (int i = 0; i < 10000; i++) {
		uint64_t t = now_ms();
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (t >= end)
			break;
		if (poll(&pfd, 1, (int)(end - t)) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0 && is_rst(buf, (size_t)n, family, sport, dport))
			return true;
	}
	return false;
}

/* SYN from peer_port to 40000, then: did the kernel's RST from 40000 appear? */
static bool probe(int fd, int family, const char *addr, uint16_t peer_port, uint32_t seq)
{
	drain(fd);
	send_syn(fd, family, addr, peer_port, 40000, seq);
	return saw_rst(fd, family, 40000, peer_port, 400);
}

START_TEST(test_live_guard_drops_rst)
{
	static const struct {
		int family;
		const char *addr;
	} fam[] = { { AF_INET, "127.0.0.1" }, { AF_INET6, "::1" } };
	int family = fam[_i].family;
	const char *addr = fam[_i].addr;
	struct lp_nft_guard *g = NULL;
	struct lp_endpoint l, r;
	char err[256];
	int fd, rc;

	if (!enter_netns())
		return;
	/* Let IPv4 frames from 127.0.0.1 injected on lo through input routing:
	 * a loopback address, and one of our own, as source. */
	ck_assert_int_eq(write_file("/proc/sys/net/ipv4/conf/lo/route_localnet", "1"), 0);
	ck_assert_int_eq(write_file("/proc/sys/net/ipv4/conf/lo/accept_local", "1"), 0);
	fd = capture_open();
	ck_assert_msg(probe(fd, family, addr, 9, 1000), "%s: no RST without a guard", addr);

	endpoint(&l, family, addr, 40000);
	endpoint(&r, family, addr, 9);
	rc = lp_nft_guard_install(&l, &r, &g, err, sizeof(err));
	ck_assert_msg(rc == 0, "install: %s", err);
	ck_assert_msg(!probe(fd, family, addr, 9, 2000), "%s: the guard let the RST out", addr);
	/* Another connection's RST still goes out. */
	ck_assert_msg(probe(fd, family, addr, 10, 3000), "%s: the guard dropped another RST", addr);
	lp_nft_guard_free(g);
	ck_assert_msg(probe(fd, family, addr, 9, 4000), "%s: RSTs still dropped after free", addr);

	/* Any remote address and port, as the responder asks. */
	endpoint(&r, 0, NULL, 0);
	g = NULL;
	rc = lp_nft_guard_install(&l, &r, &g, err, sizeof(err));
	ck_assert_msg(rc == 0, "install: %s", err);
	ck_assert(!probe(fd, family, addr, 10, 5000));
	ck_assert(!probe(fd, family, addr, 11, 6000));
	lp_nft_guard_free(g);
	close(fd);
}
END_TEST

/* A TAP made in the test's namespace: configured over rtnetlink, attached
 * to by no one else meanwhile, gone with its descriptor. */
START_TEST(test_live_tap)
{
	struct lp_prefix p4, p6, host, rt_dst;
	struct lp_ifinfo li;
	struct lp_route rt;
	uint8_t a[16];
	char err[256] = "";
	bool created = false, again;
	int fd, fd2, rc;

	if (!enter_netns())
		return;
	rc = lp_tap_open("tlp0", &fd, &created, err, sizeof(err));
	if (rc == -EACCES || rc == -EPERM || rc == -ENOENT) {
		skip("/dev/net/tun cannot be opened here");
		return;
	}
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert(created);
	ck_assert_int_eq(lp_nl_link_get("tlp0", &li, err, sizeof(err)), 0);
	ck_assert(li.has_mac && !li.up);
	ck_assert(li.has_stats);
	/* One reader: a second one is told so. */
	ck_assert_int_eq(lp_tap_open("tlp0", &fd2, &again, err, sizeof(err)), -EBUSY);
	ck_assert(strstr(err, "in use") != NULL);
	/* Not a TAP at all. */
	ck_assert_int_eq(lp_tap_open("lo", &fd2, &again, err, sizeof(err)), -EINVAL);
	ck_assert(strstr(err, "not a single-queue TAP") != NULL);

	ck_assert_int_eq(lp_nl_link_set_up(li.ifindex, err, sizeof(err)), 0);
	ck_assert_int_eq(lp_nl_link_get("tlp0", &li, err, sizeof(err)), 0);
	ck_assert(li.up);
	ck_assert_int_eq(lp_nl_addr_first(li.ifindex, AF_INET, &host), -ENOENT);
	memset(&p4, 0, sizeof(p4));
	p4.family = AF_INET;
	addr_of(AF_INET, "198.18.0.1", p4.addr);
	p4.plen = 24;
	memset(&p6, 0, sizeof(p6));
	p6.family = AF_INET6;
	addr_of(AF_INET6, "2001:db8::1", p6.addr);
	p6.plen = 64;
	ck_assert_msg(lp_nl_addr_add(li.ifindex, &p4, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(lp_nl_addr_add(li.ifindex, &p6, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lp_nl_addr_add(li.ifindex, &p4, err, sizeof(err)), -EEXIST);
	ck_assert_int_eq(lp_nl_addr_first(li.ifindex, AF_INET, &host), 0);
	ck_assert_mem_eq(host.addr, p4.addr, 4);
	ck_assert_uint_eq(host.plen, 24);
	/* The IPv6 address is usable at once (no DAD): its route is there. */
	ck_assert_int_eq(lp_nl_addr_first(li.ifindex, AF_INET6, &host), 0);
	ck_assert_mem_eq(host.addr, p6.addr, 16);
	addr_of(AF_INET6, "2001:db8::2", a);
	ck_assert_int_eq(lp_nl_route_get(AF_INET6, a, 0, &rt, err, sizeof(err)), 0);
	ck_assert_int_eq(rt.ifindex, li.ifindex);
	/* A host route through it. */
	memset(&rt_dst, 0, sizeof(rt_dst));
	rt_dst.family = AF_INET;
	addr_of(AF_INET, "192.0.2.80", rt_dst.addr);
	rt_dst.plen = 32;
	ck_assert_msg(lp_nl_route_add(li.ifindex, &rt_dst, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lp_nl_route_get(AF_INET, rt_dst.addr, 0, &rt, err, sizeof(err)), 0);
	ck_assert_int_eq(rt.ifindex, li.ifindex);
	ck_assert(rt.has_src);
	ck_assert_mem_eq(rt.src, p4.addr, 4);
	/* Not persistent: gone with the descriptor, addresses and routes too. */
	close(fd);
	ck_assert_int_eq(lp_nl_link_get("tlp0", &li, err, sizeof(err)), -ENODEV);
	ck_assert_int_lt(lp_nl_route_get(AF_INET, rt_dst.addr, 0, &rt, err, sizeof(err)), 0);
}
END_TEST

/* Without CAP_NET_ADMIN over the namespace: -EPERM and what to do. The
 * test enters its own namespace, then drops every capability. */
START_TEST(test_live_guard_eperm)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[2];
	struct lp_nft_guard *g = NULL;
	struct lp_endpoint l, r;
	char err[256] = "";

	if (!enter_netns())
		return;
	memset(none, 0, sizeof(none));
	ck_assert_int_eq(syscall(SYS_capset, &hdr, none), 0);
	endpoint(&l, AF_INET, "127.0.0.1", 40000);
	endpoint(&r, AF_INET, "127.0.0.1", 9);
	ck_assert_int_eq(lp_nft_guard_install(&l, &r, &g, err, sizeof(err)), -EPERM);
	ck_assert_ptr_null(g);
	ck_assert(strstr(err, "CAP_NET_ADMIN") != NULL);
}
END_TEST

Suite *netlink_suite(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc = tcase_create("parse");
	TCase *live = tcase_create("live");

	tcase_add_test(tc, test_parse_route_good);
	tcase_add_test(tc, test_parse_route_mtu);
	tcase_add_test(tc, test_parse_route_refused);
	tcase_add_test(tc, test_parse_route_bad_attrs);
	tcase_add_test(tc, test_parse_truncated);
	tcase_add_test(tc, test_parse_error_extack);
	tcase_add_test(tc, test_parse_error_malformed);
	tcase_add_test(tc, test_parse_seq_portid);
	tcase_add_test(tc, test_parse_link);
	tcase_add_test(tc, test_parse_link_stats);
	tcase_add_test(tc, test_parse_ack);
	tcase_add_test(tc, test_parse_neigh);
	tcase_add_test(tc, test_parse_addr_dump);
	tcase_add_test(tc, test_parse_hostile);
	suite_add_tcase(s, tc);

	tcase_set_timeout(live, 30);
	tcase_add_test(live, test_live_link);
	tcase_add_test(live, test_live_route);
	tcase_add_test(live, test_live_addr);
	tcase_add_test(live, test_live_neigh);
	tcase_add_test(live, test_live_extack);
	tcase_add_test(live, test_live_guard_table);
	tcase_add_test(live, test_live_guard_exit);
	tcase_add_test(live, test_live_guard_kill9);
	tcase_add_loop_test(live, test_live_guard_drops_rst, 0, 2);
	tcase_add_test(live, test_live_guard_eperm);
	tcase_add_test(live, test_live_tap);
	suite_add_tcase(s, live);
	return s;
}

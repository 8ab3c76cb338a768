/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RST guard: an owned nftables table over libnftnl + libmnl; see
 * include/tcpliveplay/nft_guard.h. */
#include <netinet/in.h> /* before the kernel headers: it owns struct in_addr */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tcpliveplay/netlink.h"
#include "tcpliveplay/util.h"
#include "tcpliveplay/nft_guard.h"

#define GUARD_CHAIN "rst_guard"
#define NFT_TIMEOUT_S 5
#define NFT_MAX_BUFFERS 64
#define TCP_FLAGS_OFFSET 13
#define TCP_FLAG_RST 0x04

struct lp_nft_guard {
	struct mnl_socket *nl;
	char table[64];
	struct lp_endpoint local, remote;  /* the connections guarded */
	uint16_t last;
	bool inbound;                      /* the netdev table too (same name) */
};


static uint32_t next_seq(void)
{
	static atomic_uint counter;

	return (uint32_t)time(NULL) + atomic_fetch_add(&counter, 16);
}

static int open_socket(struct mnl_socket **out, int timeout_s)
{
	struct timeval tv = { timeout_s, 0 };
	struct mnl_socket *nl;
	int one = 1, rc;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		mnl_socket_close(nl);
		return rc;
	}
	/* Older kernels lack these; everything works without them. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*out = nl;
	return 0;
}

/* ---- rule expressions ---- */

static int add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int expr_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	}
	return add_expr(r, e);
}

static int expr_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len,
			uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return add_expr(r, e);
}

static int expr_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(r, e);
}

/* reg = (reg & mask) ^ xor */
static int expr_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask, const void *xor,
			uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	}
	return add_expr(r, e);
}

static int expr_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	}
	return add_expr(r, e);
}

/* Load a field and compare it for equality. */
static int match(struct nftnl_rule *r, uint32_t base, uint32_t offset, const void *value, uint32_t len)
{
	int rc = expr_payload(r, base, offset, len, NFT_REG_1);

	return rc ? rc : expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, value, len);
}

/* Outbound (inet, output hook):
 *   ip[6] saddr L ip[6] daddr R tcp sport LP[-LAST] tcp dport RP tcp flags & rst != 0 drop
 * inbound (netdev, ingress hook):
 *   meta protocol ip[6] ip[6] saddr R ip[6] daddr L tcp sport RP tcp dport LP[-LAST] drop
 * (ports are big-endian, so cmp's byte-wise >= and <= order them as numbers) */
static int build_rule(struct nftnl_rule *r, const struct lp_endpoint *local, uint16_t last,
		      const struct lp_endpoint *remote, bool inbound)
{
	bool v4 = local->family == AF_INET;
	uint8_t nfproto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6, l4 = IPPROTO_TCP;
	uint16_t ethertype = htons(v4 ? 0x0800 : 0x86dd);
	uint8_t rst = TCP_FLAG_RST, zero = 0;
	uint32_t alen = v4 ? 4 : 16, soff = v4 ? 12 : 8, doff = v4 ? 16 : 24;
	uint32_t loff = inbound ? doff : soff, roff = inbound ? soff : doff;
	uint32_t lport_off = inbound ? 2 : 0, rport_off = inbound ? 0 : 2;
	uint16_t lport = htons(local->port), lastport = htons(last), rport = htons(remote->port);
	int rc;

	if (inbound) {
		rc = expr_meta(r, NFT_META_PROTOCOL, NFT_REG_1);
		rc = rc ? rc : expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &ethertype, 2);
	} else {
		rc = expr_meta(r, NFT_META_NFPROTO, NFT_REG_1);
		rc = rc ? rc : expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &nfproto, 1);
	}
	rc = rc ? rc : expr_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	rc = rc ? rc : expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &l4, 1);
	rc = rc ? rc : match(r, NFT_PAYLOAD_NETWORK_HEADER, loff, local->addr, alen);
	if (!rc && remote->family)
		rc = match(r, NFT_PAYLOAD_NETWORK_HEADER, roff, remote->addr, alen);
	if (last > local->port) {
		rc = rc ? rc : expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, lport_off, 2, NFT_REG_1);
		rc = rc ? rc : expr_cmp(r, NFT_REG_1, NFT_CMP_GTE, &lport, 2);
		rc = rc ? rc : expr_cmp(r, NFT_REG_1, NFT_CMP_LTE, &lastport, 2);
	} else {
		rc = rc ? rc : match(r, NFT_PAYLOAD_TRANSPORT_HEADER, lport_off, &lport, 2);
	}
	if (!rc && remote->port)
		rc = match(r, NFT_PAYLOAD_TRANSPORT_HEADER, rport_off, &rport, 2);
	if (!inbound) {
		rc = rc ? rc : expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, TCP_FLAGS_OFFSET, 1, NFT_REG_1);
		rc = rc ? rc : expr_bitwise(r, NFT_REG_1, &rst, &zero, 1);
		rc = rc ? rc : expr_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, 1);
	}
	rc = rc ? rc : expr_verdict(r, NF_DROP);
	return rc;
}

/* ---- batches ---- */

struct acks {
	uint32_t first;         /* sequence numbers first .. first + span */
	uint32_t span;
	unsigned want, got;
	int error;
	char *err;
	size_t errlen;
};

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct acks *a = data;
	int rc;

	if (nlh->nlmsg_seq - a->first > a->span) {
		a->error = -EPROTO;
		lp_set_err(a->err, a->errlen, "netlink reply with another sequence number");
		return MNL_CB_ERROR;
	}
	if (a->err && a->errlen)
		a->err[0] = '\0';
	rc = lp_nl_parse_error(nlh, a->err, a->errlen);
	if (rc == 0)
		return ++a->got >= a->want ? MNL_CB_STOP : MNL_CB_OK;
	if (rc == -EBADMSG)
		lp_set_err(a->err, a->errlen, "malformed netlink error message");
	else if (!a->err || !a->errlen || !a->err[0])
		lp_set_err(a->err, a->errlen, "%s", strerror(-rc));
	a->error = rc;
	return MNL_CB_ERROR;
}

/* Send a batch and wait for want acks, or the first error. */
static int send_batch(struct mnl_socket *nl, const void *buf, size_t len, struct acks *a)
{
	static const mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = ack_cb };
	uint32_t portid = mnl_socket_get_portid(nl);
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int rc;

	if (mnl_socket_sendto(nl, buf, len) < 0) {
		rc = -errno;
		lp_set_err(a->err, a->errlen, "netlink send: %s", strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < NFT_MAX_BUFFERS; i++) {
		n = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		if (n < 0) {
			rc = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			lp_set_err(a->err, a->errlen, "netlink receive: %s", strerror(-rc));
			return rc;
		}
		errno = 0;
		rc = mnl_cb_run2(rbuf, (size_t)n, 0, portid, NULL, a, (mnl_cb_t *)ctl, NLMSG_MIN_TYPE);
		if (a->error)
			return a->error;
		if (rc == MNL_CB_ERROR) {
			rc = errno ? -errno : -EBADMSG;
			lp_set_err(a->err, a->errlen, "bad netlink reply: %s", strerror(-rc));
			return rc;
		}
		if (a->got >= a->want)
			return 0;
	}
	lp_set_err(a->err, a->errlen, "no acknowledgement from the kernel");
	return -ETIMEDOUT;
}

/* The batch that adds the owned table, its chain and its rule: the inet
 * table's output chain against our kernel's resets, or (dev set) the netdev
 * table's ingress chain on dev against the connections' inbound packets. */
static int build_install(char *buf, size_t size, uint32_t seq, const struct lp_nft_guard *g,
			 const char *dev, size_t *len)
{
	uint32_t family = dev ? NFPROTO_NETDEV : NFPROTO_INET;
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, size);
	struct nlmsghdr *nlh;
	int rc = -ENOMEM;

	if (!t || !c || !r || !b)
		goto out;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, g->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, g->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, GUARD_CHAIN);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, family);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, dev ? NF_NETDEV_INGRESS : NF_INET_LOCAL_OUT);
	if (dev)
		nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, dev);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0); /* priority filter */
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, g->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, GUARD_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
	rc = build_rule(r, &g->local, g->last, &g->remote, dev != NULL);
	if (rc)
		goto out;

	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq);
	mnl_nlmsg_batch_next(b);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWTABLE, (uint16_t)family,
				    NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, seq + 1);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWCHAIN, (uint16_t)family,
				    NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, seq + 2);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	mnl_nlmsg_batch_next(b);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE, (uint16_t)family,
				    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq + 3);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	mnl_nlmsg_batch_next(b);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq + 4);
	if (!mnl_nlmsg_batch_next(b)) {
		rc = -EMSGSIZE;
		goto out;
	}
	*len = mnl_nlmsg_batch_size(b);
	rc = 0;
out:
	if (b)
		mnl_nlmsg_batch_stop(b);
	if (r)
		nftnl_rule_free(r);
	if (c)
		nftnl_chain_free(c);
	if (t)
		nftnl_table_free(t);
	return rc;
}

static bool endpoint_ok(const struct lp_endpoint *ep)
{
	return ep->family == AF_INET || ep->family == AF_INET6;
}

int lp_nft_guard_install(const struct lp_endpoint *local, const struct lp_endpoint *remote,
			 struct lp_nft_guard **out, char *err, size_t errlen)
{
	return lp_nft_guard_install_range(local, local ? local->port : 0, remote, out, err, errlen);
}

/* Add g's table for dev (NULL: the inet one) over g's socket. */
static int send_install(struct lp_nft_guard *g, const char *dev, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct acks a = { 0 };
	uint32_t seq = next_seq();
	size_t len;
	int rc = build_install(buf, sizeof(buf), seq, g, dev, &len);

	if (rc) {
		lp_set_err(err, errlen, "building the nftables batch: %s", strerror(-rc));
		return rc;
	}
	a.first = seq;
	a.span = 4;
	a.want = 3;
	a.err = err;
	a.errlen = errlen;
	rc = send_batch(g->nl, buf, len, &a);
	if (rc == -EPERM)
		lp_set_err(err, errlen,
			"no permission to add an nftables table (CAP_NET_ADMIN is needed): run as root, "
			"or give the program the capability (setcap cap_net_admin,cap_net_raw+ep PROGRAM)");
	return rc;
}

int lp_nft_guard_install_range(const struct lp_endpoint *local, uint16_t last,
			       const struct lp_endpoint *remote, struct lp_nft_guard **out, char *err,
			       size_t errlen)
{
	static atomic_uint guards;
	struct lp_nft_guard *g = NULL;
	int rc;

	if (!local || !remote || !endpoint_ok(local) || local->port == 0 || last < local->port ||
	    (remote->family && remote->family != local->family)) {
		lp_set_err(err, errlen, "RST guard: bad local or remote endpoint");
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		rc = -ENOMEM;
		lp_set_err(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	snprintf(g->table, sizeof(g->table), "tcpliveplay_%ld_%u", (long)getpid(),
		 atomic_fetch_add(&guards, 1));
	g->local = *local;
	g->remote = *remote;
	g->last = last;
	rc = open_socket(&g->nl, NFT_TIMEOUT_S);
	if (rc) {
		lp_set_err(err, errlen, "netfilter netlink socket: %s", strerror(-rc));
		goto out;
	}
	rc = send_install(g, NULL, err, errlen);
	if (rc)
		goto out;
	*out = g;
	g = NULL;
out:
	lp_nft_guard_free(g);
	return rc;
}

int lp_nft_guard_drop_inbound(struct lp_nft_guard *g, const char *ifname, char *err, size_t errlen)
{
	int rc;

	if (!g || !ifname || !ifname[0] || g->inbound) {
		lp_set_err(err, errlen, "RST guard: no guard, no interface, or dropping already");
		return -EINVAL;
	}
	rc = send_install(g, ifname, err, errlen);
	if (!rc)
		g->inbound = true;
	return rc;
}

void lp_nft_guard_free(struct lp_nft_guard *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], err[256];
	struct nftnl_table *t = NULL;
	struct mnl_nlmsg_batch *b;
	struct nlmsghdr *nlh;
	struct acks a = { 0 };
	uint32_t seq;

	if (!g)
		return;
	if (!g->nl)
		goto out;
	/* Closing the socket alone would do; deleting first makes it immediate
	 * and visible in the kernel's answer. */
	t = nftnl_table_alloc();
	if (!t)
		goto out;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, g->table);
	seq = next_seq();
	b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	if (!b)
		goto out;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq);
	mnl_nlmsg_batch_next(b);
	/* The inet table, and the netdev one of the same name if any. */
	for (int i = 0; i <= (int)g->inbound; i++) {
		uint16_t family = i ? NFPROTO_NETDEV : NFPROTO_INET;

		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_DELTABLE, family, NLM_F_ACK,
					    seq + 1 + (uint32_t)i);
		nftnl_table_nlmsg_build_payload(nlh, t);
		mnl_nlmsg_batch_next(b);
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq + 2 + g->inbound);
	mnl_nlmsg_batch_next(b);
	a.first = seq;
	a.span = 2 + g->inbound;
	a.want = 1 + g->inbound;
	a.err = err;
	a.errlen = sizeof(err);
	send_batch(g->nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b), &a);
	mnl_nlmsg_batch_stop(b);
out:
	if (t)
		nftnl_table_free(t);
	if (g->nl)
		mnl_socket_close(g->nl);
	free(g);
}

int lp_nft_guard_fd(const struct lp_nft_guard *g)
{
	return g && g->nl ? mnl_socket_get_fd(g->nl) : -1;
}

const char *lp_nft_guard_table(const struct lp_nft_guard *g)
{
	return g ? g->table : NULL;
}

/* ---- looking a table up ---- */

struct lookup {
	uint32_t flags, owner;
	bool found;
	int error;
};

static int lookup_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lookup *l = data;
	struct nftnl_table *t;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWTABLE)
		return MNL_CB_OK;
	t = nftnl_table_alloc();
	if (!t) {
		l->error = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		l->error = -EBADMSG;
		return MNL_CB_ERROR;
	}
	l->flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) ? nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) : 0;
	l->owner = nftnl_table_is_set(t, NFTNL_TABLE_OWNER) ? nftnl_table_get_u32(t, NFTNL_TABLE_OWNER) : 0;
	l->found = true;
	nftnl_table_free(t);
	return MNL_CB_STOP;
}

static int lookup_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lookup *l = data;
	int rc = lp_nl_parse_error(nlh, NULL, 0);

	if (rc == 0)
		return MNL_CB_STOP;
	l->error = rc;
	return MNL_CB_ERROR;
}

static int table_lookup(uint16_t family, const char *name, uint32_t *flags, uint32_t *owner)
{
	static const mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = lookup_error_cb };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = NULL;
	struct nftnl_table *t = NULL;
	struct lookup l = { 0 };
	struct nlmsghdr *nlh;
	uint32_t seq = next_seq();
	ssize_t n;
	int rc;

	if (!name || !name[0])
		return -EINVAL;
	rc = open_socket(&nl, NFT_TIMEOUT_S);
	if (rc)
		return rc;
	t = nftnl_table_alloc();
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	rc = MNL_CB_OK;
	for (unsigned i = 0; i < NFT_MAX_BUFFERS && rc == MNL_CB_OK; i++) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			rc = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			goto out;
		}
		errno = 0;
		rc = mnl_cb_run2(buf, (size_t)n, seq, mnl_socket_get_portid(nl), lookup_data_cb, &l,
				 (mnl_cb_t *)ctl, NLMSG_MIN_TYPE);
	}
	if (l.error) {
		rc = l.error;
		goto out;
	}
	if (rc < 0) {
		rc = errno ? -errno : -EBADMSG;
		goto out;
	}
	if (!l.found) {
		rc = -ENOENT;
		goto out;
	}
	if (flags)
		*flags = l.flags;
	if (owner)
		*owner = l.owner;
	rc = 0;
out:
	if (t)
		nftnl_table_free(t);
	mnl_socket_close(nl);
	return rc;
}

int lp_nft_table_lookup(const char *name, uint32_t *flags, uint32_t *owner)
{
	return table_lookup(NFPROTO_INET, name, flags, owner);
}

int lp_nft_netdev_table_lookup(const char *name, uint32_t *flags, uint32_t *owner)
{
	return table_lookup(NFPROTO_NETDEV, name, flags, owner);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packets as one line each; see include/tcpliveplay/trace.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/pkt.h"
#include "tcpliveplay/trace.h"

/* Append to buf at *used, never past blen. */
__attribute__((format(printf, 4, 5)))
static void add(char *buf, size_t blen, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= blen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, blen - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n < blen - *used ? (size_t)n : blen - *used - 1;
}

static void add_ep(char *buf, size_t blen, size_t *used, int family, const uint8_t *a, uint16_t port)
{
	char t[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, t, sizeof(t)))
		snprintf(t, sizeof(t), "?");
	add(buf, blen, used, family == AF_INET6 ? "[%s]:%u" : "%s:%u", t, port);
}

static void add_opts(char *buf, size_t blen, size_t *used, const struct lp_tcpopts *o)
{
	const char *sep = " <";

	if (o->has_mss) {
		add(buf, blen, used, "%smss %u", sep, o->mss);
		sep = ",";
	}
	if (o->has_wscale) {
		add(buf, blen, used, "%swscale %u", sep, o->wscale);
		sep = ",";
	}
	if (o->sack_ok) {
		add(buf, blen, used, "%ssackOK", sep);
		sep = ",";
	}
	if (o->has_ts) {
		add(buf, blen, used, "%sTS %" PRIu32 "/%" PRIu32, sep, o->tsval, o->tsecr);
		sep = ",";
	}
	for (unsigned i = 0; i < o->nsack && i < LP_MAX_SACK; i++) {
		add(buf, blen, used, "%ssack %" PRIu32 "-%" PRIu32, sep, o->sack[i].left, o->sack[i].right);
		sep = ",";
	}
	if (sep[0] == ',')
		add(buf, blen, used, ">");
}

const char *lp_pkt_str(const uint8_t *ip, size_t len, char *buf, size_t blen)
{
	static const char fl[] = "FSRP.UEW";
	struct lp_seg s;
	size_t used = 0;
	int rc = lp_pkt_parse(ip, len, &s);

	if (!blen)
		return buf;
	buf[0] = '\0';
	if (rc) {
		add(buf, blen, &used, "%s packet of %zu bytes (%s)", len && (ip[0] >> 4) == 6 ? "IPv6" : "IPv4", len,
		    rc == -EBADMSG ? "bad checksum" : rc == -EPROTONOSUPPORT ? "a fragment" : "not TCP");
		return buf;
	}
	add_ep(buf, blen, &used, s.family, s.src, s.sport);
	add(buf, blen, &used, " > ");
	add_ep(buf, blen, &used, s.family, s.dst, s.dport);
	add(buf, blen, &used, " [");
	for (int i = 0; i < 8; i++)
		if (s.flags & (1u << i))
			add(buf, blen, &used, "%c", fl[i]);
	add(buf, blen, &used, "] seq %" PRIu32, s.seq);
	if (s.flags & LP_TH_ACK)
		add(buf, blen, &used, " ack %" PRIu32, s.ack);
	add(buf, blen, &used, " win %u len %" PRIu32, s.window, s.len);
	add_opts(buf, blen, &used, &s.opts);
	return buf;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network's own signals to the engine: ICMP and ICMPv6 errors about the
 * connection (RFC 1122 4.2.3.9, RFC 5927 checks, RFC 5461), path MTU
 * discovery (RFC 1191, RFC 8201) and, when full-sized segments keep timing
 * out without any ICMP, black-hole detection (RFC 4821, RFC 8899) the way
 * Linux's tcp_mtu_probing=1 does it. Where the RFCs leave a choice, Linux's
 * tcp_v4_err() / tcp_v6_err() decide.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_int.h"

/* Linux's tcp_min_snd_mss: the smallest segment (options included) a peer or
 * the path can make us send. */
#define MIN_SND_MSS 48
/* Linux's tcp_base_mss: black-hole detection's first step down. */
#define BASE_MSS 1024
/* Linux's tcp_retries1: timeouts of the same data before it suspects a
 * black hole. */
#define BH_RETRIES 3
#define OUT_OF_WINDOW "quoted sequence number not in the send window"

/* IP and TCP headers without options. */
static unsigned hdr_len(const struct lp_engine *e)
{
	return (e->cfg.local.family == AF_INET ? LP_IPV4_HDR : LP_IPV6_HDR) + LP_TCP_HDR;
}

uint16_t pmtu_mss_cap(const struct lp_engine *e)
{
	unsigned cap;

	if (!e->pmtu)
		return UINT16_MAX;
	cap = e->pmtu > hdr_len(e) ? e->pmtu - hdr_len(e) : 0;
	if (cap < MIN_SND_MSS)
		cap = MIN_SND_MSS;
	return (uint16_t)(cap > UINT16_MAX ? UINT16_MAX : cap);
}

const char *icmp_giveup_reason(struct lp_engine *e, const char *base)
{
	if (!e->icmp_last[0])
		return base;
	snprintf(e->why, sizeof(e->why), "%s; last ICMP error: %s", base, e->icmp_last);
	return e->why;
}

/* Smaller segments: eff (options included) from now on. cwnd and ssthresh
 * keep the number of segments they allow, as Linux's (counted in packets)
 * do: "the units changed" (tcp_simple_retransmit). */
static void set_eff_mss(struct lp_engine *e, uint16_t eff)
{
	uint16_t old = e->mss;

	e->eff_mss = eff;
	e->mss = (uint16_t)(eff - e->fixed_opts);
	e->cwnd = e->cwnd / old * e->mss;
	if (e->cwnd < e->mss)
		e->cwnd = e->mss;
	if (e->ssthresh != UINT64_MAX)
		e->ssthresh = e->ssthresh / old * e->mss;
	e->iw = e->iw / old * e->mss;
}

/* Everything not yet acknowledged goes again at once in the new size, not
 * counted as a loss (Linux's tcp_simple_retransmit after frag-needed): no
 * cwnd reduction, no back-off; what was in flight opens no fast recovery. */
static void resend_unacked(struct lp_engine *e)
{
	if (e->tcp != T_ESTAB || e->snd_max <= e->snd_una)
		return;
	e->in_recovery = false;
	e->rtx_head = false;
	e->dupacks = 0;
	e->recover = e->snd_max;
	e->high_rxt = e->snd_una;
	e->rtx_hi = e->snd_max;
	e->snd_nxt = e->snd_una;
	e->rtt_timing = false;
	tx_arm_rto(e);
}

/* The error in e->msg is the last one taken (the report's, and a give-up
 * reason's). */
static void note_last(struct lp_engine *e)
{
	memcpy(e->icmp_last, e->msg, sizeof(e->icmp_last) - 1);
	e->icmp_last[sizeof(e->icmp_last) - 1] = '\0';
}

/* RFC 1191 7: the plateau below a datagram of len bytes, for a router
 * that does not say its next hop's MTU. */
static unsigned plateau_below(unsigned len)
{
	static const unsigned plateau[] = { 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296 };

	for (size_t i = 0; i < sizeof(plateau) / sizeof(plateau[0]); i++)
		if (plateau[i] < len)
			return plateau[i];
	return LP_MIN_MTU4;
}

/* Fragmentation needed / packet too big. */
static void too_big(struct lp_engine *e, const struct lp_icmp *ic)
{
	unsigned m = ic->mtu, was = e->pmtu;
	size_t n = strlen(e->msg);
	uint16_t eff;

	if (ic->family == AF_INET) {
		/* A router that predates RFC 1191 gives no MTU: the next
		 * plateau down (RFC 1191 5). Never below 68. */
		if (m == 0)
			m = plateau_below(ic->quoted_len);
		if (m < LP_MIN_MTU4)
			m = LP_MIN_MTU4;
	}
	e->pmtu = m;
	eff = pmtu_mss_cap(e);
	/* Only ever down (RFC 1191 3, RFC 8201 4); Linux drops one that would
	 * not make our segments smaller. */
	if ((was && m >= was) || (e->eff_mss && eff >= e->eff_mss)) {
		e->pmtu = was;
		snprintf(e->msg + n, sizeof(e->msg) - n, ": MTU %u, our segments already fit", m);
		note_last(e);
		eng_emit(e, LP_EV_ICMP, e->me, 0, 0, 0, e->msg);
		return;
	}
	snprintf(e->msg + n, sizeof(e->msg) - n, ": MTU %u", m);
	note_last(e);
	eng_emit(e, LP_EV_ICMP, e->me, 0, 0, 0, e->msg);
	/* Before the handshake ends, rx_negotiate() takes it into account. */
	if (!e->eff_mss)
		return;
	set_eff_mss(e, eff);
	resend_unacked(e);
	snprintf(e->msg, sizeof(e->msg), "path MTU %u: segments of %u bytes (%u with options)", m,
		 e->mss, e->eff_mss);
	eng_emit(e, LP_EV_PMTU, e->me, 0, 0, m, e->msg);
}

/* An ICMP error: destination unreachable, time exceeded, parameter
 * problem. Before the connection is synchronized it fails at once, soft
 * errors too: RFC 1122 4.2.3.9 for the hard ones, RFC 5461 for the soft
 * (what Linux does, and what makes a client give up on an address at
 * once). Once synchronized every error is soft (RFC 5927 5.2: a blind
 * attacker must not be able to reset a connection; Linux): the connection
 * keeps trying, and the error is named if it gives up. */
static void hard_or_soft(struct lp_engine *e)
{
	note_last(e);
	eng_emit(e, LP_EV_ICMP, e->me, 0, 0, 0, e->msg);
	if (e->tcp == T_SYN_SENT || e->tcp == T_SYN_RCVD) {
		e->tcp = T_CLOSED; /* nothing to reset: the path refused it */
		eng_fail(e, e->icmp_last);
	}
}

/* RFC 5927 4.1: the quoted segment must be one of ours, and its sequence
 * number one we sent and is not yet acknowledged: SND.UNA =< SEG.SEQ =<
 * SND.NXT, the upper end included as Linux includes it. NULL when so, else
 * why not. */
static const char *not_ours(const struct lp_engine *e, const struct lp_icmp *ic)
{
	size_t alen = e->cfg.local.family == AF_INET ? 4 : 16;
	int64_t off;

	if (ic->family != e->cfg.local.family || memcmp(ic->to, e->cfg.local.addr, alen))
		return "not addressed to us";
	if (memcmp(ic->qsrc, e->cfg.local.addr, alen) || ic->qsport != e->cfg.local.port ||
	    memcmp(ic->qdst, e->cfg.remote.addr, alen) || ic->qdport != e->cfg.remote.port ||
	    !e->cfg.remote.port)
		return "it quotes another connection";
	if (e->tcp == T_LISTEN || e->tcp == T_CLOSED)
		return "no connection";
	if (e->tcp == T_SYN_SENT || e->tcp == T_SYN_RCVD)
		return ic->qseq - e->iss <= 1 ? NULL : OUT_OF_WINDOW;
	off = seq_to_off(e->iss + 1, e->snd_una, ic->qseq);
	if (off < (int64_t)e->snd_una || off > (int64_t)e->snd_max)
		return OUT_OF_WINDOW;
	return NULL;
}

static void icmp_input(struct lp_engine *e, const struct lp_icmp *ic)
{
	const char *bad = not_ours(e, ic);
	size_t n;

	lp_icmp_str(ic, e->msg, sizeof(e->msg));
	if (bad) {
		e->st.icmp_ignored++;
		n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, " ignored: %s", bad);
		eng_emit(e, LP_EV_ICMP_IGNORED, e->me, 0, 0, 0, e->msg);
		return;
	}
	/* RFC 8201 4 (and Linux): an IPv6 MTU below the minimum is not taken. */
	if (ic->cls == LP_ICMP_TOO_BIG && ic->family == AF_INET6 && ic->mtu < LP_MIN_MTU6) {
		e->st.icmp_ignored++;
		n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, " ignored: MTU %u below the IPv6 minimum",
			 ic->mtu);
		eng_emit(e, LP_EV_ICMP_IGNORED, e->me, 0, 0, 0, e->msg);
		return;
	}
	e->st.icmp_accepted++;
	if (ic->cls == LP_ICMP_TOO_BIG)
		too_big(e, ic);
	else
		hard_or_soft(e);
}

void pmtu_on_timeout(struct lp_engine *e)
{
	uint16_t eff = e->eff_mss > BASE_MSS ? BASE_MSS : (uint16_t)(e->eff_mss / 2);

	if (eff < MIN_SND_MSS)
		eff = MIN_SND_MSS;
	if (e->tcp != T_ESTAB || e->retries_cur <= BH_RETRIES || eff >= e->eff_mss)
		return;
	/* Only when the data waiting for an answer would go in smaller
	 * segments: a silent peer is no black hole. */
	if (e->snd_max - e->snd_una <= (uint64_t)(eff - e->fixed_opts))
		return;
	e->st.mtu_blackhole = true;
	set_eff_mss(e, eff);
	e->pmtu = eff + hdr_len(e);
	snprintf(e->msg, sizeof(e->msg),
		 "%u timeouts without an ICMP error: path MTU black hole suspected, segments of %u "
		 "bytes (%u with options)", e->retries_cur, e->mss, e->eff_mss);
	eng_emit(e, LP_EV_PMTU, e->me, 0, 0, e->pmtu, e->msg);
}

int eng_icmp_packet(struct lp_engine *e, const uint8_t *pkt, size_t len)
{
	struct lp_icmp ic;
	int rc = lp_icmp_parse(pkt, len, &ic);

	if (rc == -ENOMSG)
		return -EINVAL;
	if (rc) {
		e->st.icmp_ignored++;
		eng_emit(e, LP_EV_ICMP_IGNORED, e->me, 0, 0, 0,
			 rc == -EBADMSG ? "ICMP error ignored: bad checksum"
					: "ICMP error ignored: malformed");
		return 0;
	}
	icmp_input(e, &ic);
	return 0;
}

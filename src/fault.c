/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault plan: parsing specs, and deciding per packet or segment what fires. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/fault.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"

/* unreachable without a CODE: administratively prohibited. */
#define CODE_DEFAULT UINT32_MAX

struct fault {
	enum lp_fault_kind kind;
	enum lp_fault_side side;
	uint32_t seg;        /* label, for by-segment kinds */
	uint32_t arg;        /* delay ms, truncate bytes */
	uint32_t ppm;        /* probabilistic kinds: parts per million */
	bool used;
};

struct lp_fault_plan {
	struct fault *f;
	size_t n, cap;
	uint64_t fired;
};

static const struct {
	const char *name;
	enum lp_fault_kind kind;
} kinds[] = {
	{ "drop", LP_FAULT_DROP },       { "dup", LP_FAULT_DUP },
	{ "delay", LP_FAULT_DELAY },     { "reorder", LP_FAULT_REORDER },
	{ "truncate", LP_FAULT_TRUNCATE }, { "corrupt", LP_FAULT_CORRUPT },
	{ "rst", LP_FAULT_RST },         { "stall", LP_FAULT_STALL },
	{ "loss", LP_FAULT_LOSS_P },
};

const char *lp_fault_kind_str(enum lp_fault_kind k)
{
	switch (k) {
	case LP_FAULT_NONE:
		return "none";
	case LP_FAULT_DROP:
		return "drop";
	case LP_FAULT_DUP:
	case LP_FAULT_DUP_P:
		return "dup";
	case LP_FAULT_DELAY:
		return "delay";
	case LP_FAULT_REORDER:
	case LP_FAULT_REORDER_P:
		return "reorder";
	case LP_FAULT_TRUNCATE:
		return "truncate";
	case LP_FAULT_CORRUPT:
		return "corrupt";
	case LP_FAULT_RST:
		return "rst";
	case LP_FAULT_STALL:
		return "stall";
	case LP_FAULT_LOSS_P:
		return "loss";
	case LP_FAULT_MTU:
		return "mtu";
	case LP_FAULT_UNREACH:
		return "unreachable";
	}
	return "?";
}

int lp_fault_plan_new(struct lp_fault_plan **out)
{
	struct lp_fault_plan *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*out = p;
	return 0;
}

void lp_fault_plan_free(struct lp_fault_plan *p)
{
	if (!p)
		return;
	free(p->f);
	free(p);
}

/* Strict unsigned decimal of length len in [min, max]. */
static int parse_num(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "P%" with up to four decimals, 0 < P <= 100, into parts per million. */
static int parse_percent(const char *s, size_t len, uint32_t *ppm)
{
	uint64_t whole = 0, frac = 0;
	size_t dot = len, fd;

	if (len < 2 || s[len - 1] != '%')
		return -EINVAL;
	len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '.') {
			dot = i;
			break;
		}
	if (parse_num(s, dot < len ? dot : len, 0, 100, &whole) < 0)
		return -EINVAL;
	if (dot < len) {
		fd = len - dot - 1;
		if (fd == 0 || fd > 4 || parse_num(s + dot + 1, fd, 0, 9999, &frac) < 0)
			return -EINVAL;
		for (size_t i = fd; i < 4; i++)
			frac *= 10;
	}
	whole = whole * 10000 + frac;
	if (whole == 0 || whole > 1000000)
		return -EINVAL;
	*ppm = (uint32_t)whole;
	return 0;
}

static int append(struct lp_fault_plan *p, const struct fault *f)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		struct fault *nf = realloc(p->f, ncap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		p->f = nf;
		p->cap = ncap;
	}
	p->f[p->n++] = *f;
	return 0;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && strncmp(tok, word, len) == 0;
}

/* mtu:BYTES, unreachable:SEG|syn[:CODE]; tok[0] is the kind. */
static int add_icmp_fault(struct lp_fault_plan *p, const char *spec, const char *const *tok,
			  const size_t *tlen, size_t nt, enum lp_fault_side side, char *err,
			  size_t errlen)
{
	struct fault f = { .side = side, .arg = CODE_DEFAULT };
	uint64_t v;

	if (token_is(tok[0], tlen[0], "mtu")) {
		f.kind = LP_FAULT_MTU;
		if (nt != 2 || parse_num(tok[1], tlen[1], LP_MIN_MTU4, 65535, &v) < 0) {
			snprintf(err, errlen, "fault '%s': mtu needs BYTES (%u-65535)", spec,
				 LP_MIN_MTU4);
			return -EINVAL;
		}
		f.arg = (uint32_t)v;
		return append(p, &f);
	}
	f.kind = LP_FAULT_UNREACH;
	v = 0; /* syn */
	if (nt < 2 || nt > 3 || (!token_is(tok[1], tlen[1], "syn") &&
				 parse_num(tok[1], tlen[1], 1, UINT32_MAX, &v) < 0))
		goto bad;
	f.seg = (uint32_t)v;
	if (nt == 3) {
		if (parse_num(tok[2], tlen[2], 0, 255, &v) < 0)
			goto bad;
		f.arg = (uint32_t)v;
	}
	return append(p, &f);
bad:
	snprintf(err, errlen, "fault '%s': unreachable needs SEG or syn, then an optional CODE "
		 "(0-255)", spec);
	return -EINVAL;
}

int lp_fault_plan_add(struct lp_fault_plan *p, const char *spec, char *err, size_t errlen)
{
	const char *tok[5];
	size_t tlen[5], nt = 0, k = 0;
	const char *c = spec;
	struct fault f;
	uint64_t v;
	size_t i;

	memset(&f, 0, sizeof(f));
	f.side = LP_FAULT_SERVER;
	for (;;) {
		const char *e = strchr(c, ':');
		size_t l = e ? (size_t)(e - c) : strlen(c);

		if (nt == 5)
			goto toolong;
		tok[nt] = c;
		tlen[nt++] = l;
		if (!e)
			break;
		c = e + 1;
	}
	if (tlen[0] == 6 && strncmp(tok[0], "client", 6) == 0) {
		f.side = LP_FAULT_CLIENT;
		k = 1;
	} else if (tlen[0] == 6 && strncmp(tok[0], "server", 6) == 0) {
		k = 1;
	}
	if (k >= nt || tlen[k] == 0) {
		snprintf(err, errlen, "fault '%s': missing kind", spec);
		return -EINVAL;
	}
	if (token_is(tok[k], tlen[k], "mtu") || token_is(tok[k], tlen[k], "unreachable"))
		return add_icmp_fault(p, spec, tok + k, tlen + k, nt - k, f.side, err, errlen);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].name) == tlen[k] && strncmp(kinds[i].name, tok[k], tlen[k]) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		snprintf(err, errlen, "fault '%s': unknown kind '%.*s'", spec, (int)tlen[k], tok[k]);
		return -EINVAL;
	}
	f.kind = kinds[i].kind;
	k++;
	if (k >= nt) {
		snprintf(err, errlen, "fault '%s': %s needs an argument", spec,
			 lp_fault_kind_str(f.kind));
		return -EINVAL;
	}
	/* Probabilistic forms: loss:P%, dup:P%, reorder:P%. */
	if (tlen[k] && tok[k][tlen[k] - 1] == '%') {
		if (f.kind == LP_FAULT_DUP)
			f.kind = LP_FAULT_DUP_P;
		else if (f.kind == LP_FAULT_REORDER)
			f.kind = LP_FAULT_REORDER_P;
		else if (f.kind != LP_FAULT_LOSS_P)
			goto badseg;
		if (parse_percent(tok[k], tlen[k], &f.ppm) < 0) {
			snprintf(err, errlen, "fault '%s': bad probability '%.*s' (want 0 < P%% <= 100%%)",
				 spec, (int)tlen[k], tok[k]);
			return -EINVAL;
		}
		if (k + 1 != nt)
			goto toolong;
		goto add;
	}
	if (f.kind == LP_FAULT_LOSS_P) {
		snprintf(err, errlen, "fault '%s': loss takes a probability like 5%%", spec);
		return -EINVAL;
	}
	if (parse_num(tok[k], tlen[k], 1, UINT32_MAX, &v) < 0)
		goto badseg;
	f.seg = (uint32_t)v;
	k++;
	if (f.kind == LP_FAULT_DELAY || f.kind == LP_FAULT_TRUNCATE) {
		uint64_t max = f.kind == LP_FAULT_DELAY ? 3600000 : UINT32_MAX;

		if (k >= nt || parse_num(tok[k], tlen[k], 0, max, &v) < 0) {
			snprintf(err, errlen, "fault '%s': %s needs %s", spec, lp_fault_kind_str(f.kind),
				 f.kind == LP_FAULT_DELAY ? "SEG:MS (0-3600000)" : "SEG:BYTES");
			return -EINVAL;
		}
		f.arg = (uint32_t)v;
		k++;
	}
	if (k != nt)
		goto toolong;
add:
	return append(p, &f);
badseg:
	snprintf(err, errlen, "fault '%s': bad segment '%.*s' (want a label number from 1%s)", spec,
		 (int)tlen[k], tok[k],
		 f.kind == LP_FAULT_DUP || f.kind == LP_FAULT_REORDER ? " or P%" : "");
	return -EINVAL;
toolong:
	snprintf(err, errlen, "fault '%s': too many fields", spec);
	return -EINVAL;
}

int lp_fault_plan_validate(const struct lp_fault_plan *p, const struct lp_flow *fl,
			   char *err, size_t errlen)
{
	for (size_t i = 0; p && i < p->n; i++) {
		const struct fault *f = &p->f[i];
		uint32_t n = fl->ndata[f->side == LP_FAULT_CLIENT ? LP_C2S : LP_S2C];

		if (f->kind == LP_FAULT_MTU || (f->kind == LP_FAULT_UNREACH && f->seg == 0))
			continue;
		if (f->ppm == 0 && (f->seg == 0 || f->seg > n)) {
			const char *side = f->side == LP_FAULT_CLIENT ? "client" : "server";

			snprintf(err, errlen, "fault %s:%s:%u: the %s sends %u data segment%s", side,
				 lp_fault_kind_str(f->kind), f->seg, side, n, n == 1 ? "" : "s");
			return -EINVAL;
		}
	}
	return 0;
}

size_t lp_fault_plan_count(const struct lp_fault_plan *p)
{
	return p ? p->n : 0;
}

uint64_t lp_fault_plan_fired(const struct lp_fault_plan *p)
{
	return p ? p->fired : 0;
}

void lp_fault_plan_reset(struct lp_fault_plan *p)
{
	if (!p)
		return;
	p->fired = 0;
	for (size_t i = 0; i < p->n; i++)
		p->f[i].used = false;
}

enum lp_fault_kind lp_fault_app_action(struct lp_fault_plan *p, enum lp_fault_side side,
				       uint32_t label, uint32_t *arg)
{
	for (size_t i = 0; p && i < p->n; i++) {
		struct fault *f = &p->f[i];

		if (f->side != side || f->seg != label || f->used || f->ppm)
			continue;
		if (f->kind != LP_FAULT_TRUNCATE && f->kind != LP_FAULT_RST && f->kind != LP_FAULT_STALL)
			continue;
		f->used = true;
		p->fired++;
		*arg = f->arg;
		return f->kind;
	}
	return LP_FAULT_NONE;
}

void lp_fault_wire(struct lp_fault_plan *p, enum lp_fault_side side, uint32_t first,
		   uint32_t last, struct lp_rng *rng, struct lp_fault_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->copies = 1;
	for (size_t i = 0; p && i < p->n; i++) {
		struct fault *f = &p->f[i];

		if (f->side != side)
			continue;
		if (f->ppm) {
			if (!lp_rng_chance_ppm(rng, f->ppm))
				continue;
			if (f->kind == LP_FAULT_LOSS_P)
				v->drop = true;
			else if (f->kind == LP_FAULT_DUP_P)
				v->copies = 2;
			else
				v->reorder = true;
			v->fired++;
			continue;
		}
		if (!first || f->seg < first || f->seg > last || f->used)
			continue;
		switch (f->kind) {
		case LP_FAULT_DROP:
			v->drop = true;
			break;
		case LP_FAULT_DUP:
			v->copies = 2;
			break;
		case LP_FAULT_DELAY:
			v->delay_ns = (uint64_t)f->arg * 1000000ull;
			break;
		case LP_FAULT_REORDER:
			v->reorder = true;
			break;
		case LP_FAULT_CORRUPT:
			v->corrupt = true;
			break;
		default:
			continue;
		}
		f->used = true;
		v->fired++;
	}
	if (p)
		p->fired += v->fired;
}

/* The error for pkt: packet too big announcing mtu (mtu > 0), else
 * destination unreachable of code, from pkt's destination (the far end of
 * the emulated path). */
static int icmp_answer(const uint8_t *pkt, size_t len, uint32_t mtu, uint32_t code, uint8_t *buf,
		       size_t cap)
{
	bool v6 = len >= 1 && (pkt[0] >> 4) == 6;
	uint8_t type = v6 ? LP_ICMP6_UNREACH : LP_ICMP4_UNREACH;
	const uint8_t *from = pkt + (v6 ? 24 : 16);

	if (len < (v6 ? LP_IPV6_HDR : LP_IPV4_HDR))
		return 0;
	if (mtu) {
		type = v6 ? LP_ICMP6_TOO_BIG : LP_ICMP4_UNREACH;
		code = v6 ? 0 : LP_ICMP4_FRAG_NEEDED;
	} else if (code == CODE_DEFAULT) {
		code = v6 ? 1 : 13;
	}
	return lp_icmp_build_error(buf, cap, pkt, len, type, (uint8_t)code, mtu, from);
}

static bool is_syn(const uint8_t *pkt, size_t len)
{
	struct lp_seg s;

	return lp_pkt_parse(pkt, len, &s) == 0 && (s.flags & LP_TH_SYN);
}

int lp_fault_icmp(struct lp_fault_plan *p, enum lp_fault_side side, const uint8_t *pkt, size_t len,
		  uint32_t first, uint32_t last, uint8_t *buf, size_t cap,
		  enum lp_fault_kind *kind)
{
	for (size_t i = 0; p && i < p->n; i++) {
		struct fault *f = &p->f[i];
		int n;

		if (f->side != side || (f->kind != LP_FAULT_MTU && f->kind != LP_FAULT_UNREACH))
			continue;
		if (f->kind == LP_FAULT_MTU ? len <= f->arg
		    : f->used || (f->seg ? !first || f->seg < first || f->seg > last
					 : !is_syn(pkt, len)))
			continue;
		n = icmp_answer(pkt, len, f->kind == LP_FAULT_MTU ? f->arg : 0, f->arg, buf, cap);
		if (n <= 0)
			return n;
		if (f->kind == LP_FAULT_UNREACH)
			f->used = true;
		p->fired++;
		*kind = f->kind;
		return n;
	}
	return 0;
}

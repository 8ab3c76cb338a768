/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault plan: parsing specs, deciding per packet or segment what fires, and
 * the log of what fired. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpliveplay/fault.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"

#define MAX_DELAY_MS 3600000u
#define MAX_WINDOW (65535u << 14)
/* unreachable without a CODE: administratively prohibited. */
#define CODE_DEFAULT UINT32_MAX

struct fault {
	enum lp_fault_kind kind;
	enum lp_fault_side side;
	uint8_t ldir;        /* direction of the label: the side's own, the peer's for zero-window */
	uint32_t seg;        /* label, for by-segment kinds */
	uint32_t arg;        /* delay ms, truncate bytes, zero-window ms, window bytes, mtu
			      * bytes, unreachable code */
	uint32_t ppm;        /* probabilistic kinds: parts per million */
	bool used;
};

struct lp_fault_plan {
	struct fault *f;
	size_t n, cap;
	uint64_t fired;
	uint64_t seed;
	struct lp_fault_fired *log;
	size_t nlog, logcap;
};

static const struct {
	const char *name;
	enum lp_fault_kind kind;
} kinds[] = {
	{ "drop", LP_FAULT_DROP },       { "dup", LP_FAULT_DUP },
	{ "delay", LP_FAULT_DELAY },     { "reorder", LP_FAULT_REORDER },
	{ "truncate", LP_FAULT_TRUNCATE }, { "corrupt", LP_FAULT_CORRUPT },
	{ "rst", LP_FAULT_RST },         { "stall", LP_FAULT_STALL },
	{ "loss", LP_FAULT_LOSS_P },     { "zero-window", LP_FAULT_ZERO_WINDOW },
	{ "window", LP_FAULT_WINDOW },   { "mtu", LP_FAULT_MTU },
	{ "unreachable", LP_FAULT_UNREACH },
};

/* "fault 'SPEC': unknown kind 'K' (the kinds: drop, dup, ...)". */
static void unknown_kind(const char *spec, const char *tok, size_t len, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "fault '%s': unknown kind '%.*s' (the kinds:", spec, (int)len, tok);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && n > 0 && (size_t)n < errlen; i++)
		n += snprintf(err + n, errlen - (size_t)n, " %s%s", kinds[i].name,
			      i + 1 < sizeof(kinds) / sizeof(kinds[0]) ? "," : ")");
}

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
	case LP_FAULT_ZERO_WINDOW:
		return "zero-window";
	case LP_FAULT_WINDOW:
		return "window";
	case LP_FAULT_MTU:
		return "mtu";
	case LP_FAULT_UNREACH:
		return "unreachable";
	}
	return "?";
}

static unsigned kind_place(enum lp_fault_kind k)
{
	switch (k) {
	case LP_FAULT_TRUNCATE:
	case LP_FAULT_RST:
	case LP_FAULT_STALL:
		return LP_FAULT_ON_APP;
	case LP_FAULT_ZERO_WINDOW:
	case LP_FAULT_WINDOW:
		return LP_FAULT_ON_WINDOW;
	case LP_FAULT_MTU:
	case LP_FAULT_UNREACH:
		return LP_FAULT_ON_PATH;
	case LP_FAULT_NONE:
		return 0;
	default:
		return LP_FAULT_ON_WIRE;
	}
}

bool lp_fault_kind_ends(enum lp_fault_kind k)
{
	return k == LP_FAULT_RST || k == LP_FAULT_STALL;
}

static const char *side_str(enum lp_fault_side s)
{
	return s == LP_FAULT_CLIENT ? "client" : "server";
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
	free(p->log);
	free(p);
}

static int push(struct lp_fault_plan *p, const struct fault *f)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		struct fault *nf = realloc(p->f, ncap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		p->f = nf;
		p->cap = ncap;
	}
	p->f[p->n] = *f;
	p->f[p->n++].used = false;
	return 0;
}

int lp_fault_plan_clone(const struct lp_fault_plan *p, struct lp_fault_plan **out)
{
	struct lp_fault_plan *c = NULL;
	int rc = lp_fault_plan_new(&c);

	for (size_t i = 0; !rc && p && i < p->n; i++)
		rc = push(c, &p->f[i]);
	if (rc) {
		lp_fault_plan_free(c);
		return rc;
	}
	c->seed = p ? p->seed : 0;
	*out = c;
	return 0;
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

/* A segment label: n, or C<n> / S<n> naming direction dir's segments. */
static int parse_label(const char *s, size_t len, uint8_t dir, uint32_t *label)
{
	uint64_t v;

	if (len && (s[0] == 'C' || s[0] == 'S')) {
		if ((s[0] == 'C') != (dir == LP_C2S))
			return -EXDEV;
		s++;
		len--;
	}
	if (parse_num(s, len, 1, UINT32_MAX, &v) < 0)
		return -EINVAL;
	*label = (uint32_t)v;
	return 0;
}

/* The tokens of spec split at ':' (at most max); how many, or 0 when more. */
static size_t split(const char *spec, const char **tok, size_t *tlen, size_t max)
{
	const char *c = spec;
	size_t nt = 0;

	for (;;) {
		const char *e = strchr(c, ':');
		size_t l = e ? (size_t)(e - c) : strlen(c);

		if (nt == max)
			return 0;
		tok[nt] = c;
		tlen[nt++] = l;
		if (!e)
			return nt;
		c = e + 1;
	}
}

/* The arguments after the kind: tok[0..nt). */
static int parse_args(struct fault *f, const char *spec, const char **tok, const size_t *tlen,
		      size_t nt, char *err, size_t errlen)
{
	const char *kn = lp_fault_kind_str(f->kind);
	uint64_t v;
	size_t k = 0;
	int rc;

	if (nt == 0) {
		snprintf(err, errlen, "fault '%s': %s needs an argument", spec, kn);
		return -EINVAL;
	}
	/* Probabilistic forms: loss:P%, dup:P%, reorder:P%. */
	if (tlen[0] && tok[0][tlen[0] - 1] == '%') {
		if (f->kind == LP_FAULT_DUP)
			f->kind = LP_FAULT_DUP_P;
		else if (f->kind == LP_FAULT_REORDER)
			f->kind = LP_FAULT_REORDER_P;
		else if (f->kind != LP_FAULT_LOSS_P)
			goto badseg;
		if (parse_percent(tok[0], tlen[0], &f->ppm) < 0) {
			snprintf(err, errlen, "fault '%s': bad probability '%.*s' (want 0 < P%% <= 100%%)",
				 spec, (int)tlen[0], tok[0]);
			return -EINVAL;
		}
		return nt == 1 ? 0 : -E2BIG;
	}
	if (f->kind == LP_FAULT_LOSS_P) {
		snprintf(err, errlen, "fault '%s': loss takes a probability like 5%%", spec);
		return -EINVAL;
	}
	if (f->kind == LP_FAULT_WINDOW) {
		if (parse_num(tok[0], tlen[0], 1, MAX_WINDOW, &v) < 0) {
			snprintf(err, errlen, "fault '%s': window takes BYTES (1-%u)", spec, MAX_WINDOW);
			return -EINVAL;
		}
		f->arg = (uint32_t)v;
		return nt == 1 ? 0 : -E2BIG;
	}
	rc = parse_label(tok[0], tlen[0], f->ldir, &f->seg);
	if (rc == -EXDEV) {
		snprintf(err, errlen, "fault '%s': %s:%s names %s segment (%c<n>)", spec,
			 side_str(f->side), kn, f->ldir == LP_C2S ? "a client" : "a server",
			 f->ldir == LP_C2S ? 'C' : 'S');
		return -EINVAL;
	}
	if (rc)
		goto badseg;
	k = 1;
	if (f->kind == LP_FAULT_DELAY || f->kind == LP_FAULT_TRUNCATE ||
	    f->kind == LP_FAULT_ZERO_WINDOW) {
		uint64_t min = f->kind == LP_FAULT_ZERO_WINDOW ? 1 : 0;
		uint64_t max = f->kind == LP_FAULT_TRUNCATE ? UINT32_MAX : MAX_DELAY_MS;

		if (k >= nt || parse_num(tok[k], tlen[k], min, max, &v) < 0) {
			snprintf(err, errlen, "fault '%s': %s needs %s", spec, kn,
				 f->kind == LP_FAULT_TRUNCATE ? "SEG:BYTES" :
				 f->kind == LP_FAULT_DELAY ? "SEG:MS (0-3600000)" : "SEG:MS (1-3600000)");
			return -EINVAL;
		}
		f->arg = (uint32_t)v;
		k++;
	}
	return k == nt ? 0 : -E2BIG;
badseg:
	snprintf(err, errlen, "fault '%s': bad segment '%.*s' (want a label such as %c1%s)", spec,
		 (int)tlen[0], tok[0], f->ldir == LP_C2S ? 'C' : 'S',
		 f->kind == LP_FAULT_DUP || f->kind == LP_FAULT_REORDER ? ", or P%" : "");
	return -EINVAL;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && strncmp(tok, word, len) == 0;
}

/* The arguments of the path's faults: mtu:BYTES, unreachable:SEG|syn[:CODE]
 * (tok[0..nt) after the kind). */
static int parse_icmp_args(struct fault *f, const char *spec, const char **tok, const size_t *tlen,
			   size_t nt, char *err, size_t errlen)
{
	uint64_t v;

	f->arg = CODE_DEFAULT;
	if (f->kind == LP_FAULT_MTU) {
		if (nt != 1 || parse_num(tok[0], tlen[0], LP_MIN_MTU4, 65535, &v) < 0) {
			snprintf(err, errlen, "fault '%s': mtu needs BYTES (%u-65535)", spec,
				 LP_MIN_MTU4);
			return -EINVAL;
		}
		f->arg = (uint32_t)v;
		return 0;
	}
	if (nt < 1 || nt > 2 ||
	    (!token_is(tok[0], tlen[0], "syn") && parse_label(tok[0], tlen[0], f->ldir, &f->seg)))
		goto bad;
	if (nt == 2) {
		if (parse_num(tok[1], tlen[1], 0, 255, &v) < 0)
			goto bad;
		f->arg = (uint32_t)v;
	}
	return 0;
bad:
	snprintf(err, errlen, "fault '%s': unreachable needs SEG (%c1...) or syn, then an optional "
		 "CODE (0-255)", spec, f->ldir == LP_C2S ? 'C' : 'S');
	return -EINVAL;
}

int lp_fault_plan_add(struct lp_fault_plan *p, const char *spec, char *err, size_t errlen)
{
	const char *tok[6];
	size_t tlen[6], nt, k = 0, i;
	struct fault f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.side = LP_FAULT_SERVER;
	nt = split(spec, tok, tlen, 6);
	if (nt == 0)
		goto toolong;
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
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (token_is(tok[k], tlen[k], kinds[i].name))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		unknown_kind(spec, tok[k], tlen[k], err, errlen);
		return -EINVAL;
	}
	f.kind = kinds[i].kind;
	f.ldir = f.side == LP_FAULT_CLIENT ? LP_C2S : LP_S2C;
	if (f.kind == LP_FAULT_ZERO_WINDOW)
		f.ldir = (uint8_t)!f.ldir;
	if (kind_place(f.kind) == LP_FAULT_ON_PATH)
		rc = parse_icmp_args(&f, spec, tok + k + 1, tlen + k + 1, nt - k - 1, err, errlen);
	else
		rc = parse_args(&f, spec, tok + k + 1, tlen + k + 1, nt - k - 1, err, errlen);
	if (rc == -E2BIG)
		goto toolong;
	if (rc)
		return rc;
	return push(p, &f);
toolong:
	snprintf(err, errlen, "fault '%s': too many fields", spec);
	return -EINVAL;
}

/* "client:drop:C3" for fault f. */
static const char *fault_str(const struct fault *f, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s:%s", side_str(f->side), lp_fault_kind_str(f->kind));

	if (n > 0 && (size_t)n < len && f->seg)
		snprintf(buf + n, len - (size_t)n, ":%c%u", f->ldir == LP_C2S ? 'C' : 'S', f->seg);
	return buf;
}

int lp_fault_plan_validate(const struct lp_fault_plan *p, const struct lp_flow *fl,
			   char *err, size_t errlen)
{
	for (size_t i = 0; p && i < p->n; i++) {
		const struct fault *f = &p->f[i];
		uint32_t n = fl->ndata[f->ldir];
		char name[48];

		if (f->seg > n) {
			snprintf(err, errlen, "%s: no such segment (the %s sends %u data segment%s)",
				 fault_str(f, name, sizeof(name)), f->ldir == LP_C2S ? "client" : "server",
				 n, n == 1 ? "" : "s");
			return -EINVAL;
		}
	}
	return 0;
}

int lp_fault_plan_check_live(const struct lp_fault_plan *p, enum lp_fault_side local, char *err,
			     size_t errlen)
{
	for (size_t i = 0; p && i < p->n; i++) {
		const struct fault *f = &p->f[i];
		char name[48];

		if (f->side == local || kind_place(f->kind) == LP_FAULT_ON_WIRE)
			continue;
		snprintf(err, errlen, "fault %s: the live %s's %s is its own; its faults here act on what "
			 "arrives from it (drop, dup, delay, reorder, corrupt, loss)",
			 fault_str(f, name, sizeof(name)), side_str(f->side),
			 kind_place(f->kind) == LP_FAULT_ON_WINDOW ? "window" :
			 kind_place(f->kind) == LP_FAULT_ON_PATH ? "path" : "application");
		return -EINVAL;
	}
	return 0;
}

size_t lp_fault_plan_count(const struct lp_fault_plan *p)
{
	return p ? p->n : 0;
}

bool lp_fault_plan_has(const struct lp_fault_plan *p, enum lp_fault_side side, unsigned mask)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->f[i].side == side && (kind_place(p->f[i].kind) & mask))
			return true;
	return false;
}

uint64_t lp_fault_plan_fired(const struct lp_fault_plan *p)
{
	return p ? p->fired : 0;
}

void lp_fault_plan_reset(struct lp_fault_plan *p, uint64_t seed)
{
	if (!p)
		return;
	p->fired = 0;
	p->nlog = 0;
	p->seed = seed;
	for (size_t i = 0; i < p->n; i++)
		p->f[i].used = false;
}

size_t lp_fault_plan_nlog(const struct lp_fault_plan *p)
{
	return p ? p->nlog : 0;
}

const struct lp_fault_fired *lp_fault_plan_log(const struct lp_fault_plan *p, size_t i)
{
	return p && i < p->nlog ? &p->log[i] : NULL;
}

void lp_fault_plan_note(struct lp_fault_plan *p, const struct lp_fault_fired *f)
{
	if (!p)
		return;
	p->fired++;
	if (p->nlog == p->logcap && p->logcap < LP_FAULT_LOG_MAX) {
		size_t ncap = p->logcap ? p->logcap * 2 : 16;
		struct lp_fault_fired *nl = realloc(p->log, ncap * sizeof(*nl));

		if (!nl)
			return;
		p->log = nl;
		p->logcap = ncap;
	}
	if (p->nlog < p->logcap)
		p->log[p->nlog++] = *f;
}

const char *lp_fault_fired_segment(const struct lp_fault_fired *f, char *buf, size_t len)
{
	if (f->label)
		snprintf(buf, len, "%c%u", f->dir == LP_C2S ? 'C' : 'S', f->label);
	else
		snprintf(buf, len, "%s", f->ctl & LP_TH_SYN ? "SYN" : f->ctl & LP_TH_FIN ? "FIN" : "");
	return buf;
}

const char *lp_fault_fired_str(const struct lp_fault_fired *f, char *buf, size_t len)
{
	char seg[16];
	int n = snprintf(buf, len, "%s:%s", side_str(f->side), lp_fault_kind_str(f->kind));

	if (n > 0 && (size_t)n < len && lp_fault_fired_segment(f, seg, sizeof(seg))[0])
		snprintf(buf + n, len - (size_t)n, ":%s", seg);
	return buf;
}

void lp_fault_emit(const struct lp_fault_fired *f, lp_event_fn cb, void *ctx)
{
	struct lp_event ev;

	if (!cb)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = LP_EV_FAULT;
	ev.role = f->side == LP_FAULT_CLIENT ? LP_ROLE_CLIENT : LP_ROLE_SERVER;
	ev.now_ns = f->at_ns;
	ev.dir = f->dir;
	ev.label = f->label;
	ev.first_diff = -1;
	ev.reason = lp_fault_kind_str(f->kind);
	cb(ctx, &ev);
}

static void fire(struct lp_fault_plan *p, const struct fault *f, uint32_t label, uint8_t ctl,
		 uint64_t now, struct lp_fault_fired *out)
{
	struct lp_fault_fired ff = {
		.side = f->side, .kind = f->kind, .dir = f->ldir, .label = label, .ctl = ctl, .at_ns = now,
	};

	lp_fault_plan_note(p, &ff);
	if (out)
		*out = ff;
}

enum lp_fault_kind lp_fault_app_action(struct lp_fault_plan *p, enum lp_fault_side side,
				       uint32_t label, uint64_t now_ns, uint32_t *arg)
{
	for (size_t i = 0; p && i < p->n; i++) {
		struct fault *f = &p->f[i];

		if (f->side != side || f->seg != label || f->used || kind_place(f->kind) != LP_FAULT_ON_APP)
			continue;
		f->used = true;
		fire(p, f, label, 0, now_ns, NULL);
		*arg = f->arg;
		return f->kind;
	}
	return LP_FAULT_NONE;
}

uint32_t lp_fault_window_cap(const struct lp_fault_plan *p, enum lp_fault_side side)
{
	uint32_t cap = 0;

	for (size_t i = 0; p && i < p->n; i++)
		if (p->f[i].side == side && p->f[i].kind == LP_FAULT_WINDOW &&
		    (!cap || p->f[i].arg < cap))
			cap = p->f[i].arg;
	return cap;
}

bool lp_fault_zero_window(const struct lp_fault_plan *p, enum lp_fault_side side, size_t i,
			  uint32_t *label, uint32_t *ms)
{
	for (size_t k = 0; p && k < p->n; k++) {
		const struct fault *f = &p->f[k];

		if (f->side != side || f->kind != LP_FAULT_ZERO_WINDOW)
			continue;
		if (i-- == 0) {
			*label = f->seg;
			*ms = f->arg;
			return true;
		}
	}
	return false;
}

/* Fault i of the plan picks packet key with probability ppm, the same way
 * for the same seed, side, fault and key. */
static bool picks(const struct lp_fault_plan *p, size_t i, enum lp_fault_side side, uint64_t key,
		  uint32_t ppm)
{
	struct lp_rng r;

	lp_rng_seed(&r, p->seed ^ 0x6c706661756c7473ull ^ ((uint64_t)side << 63) ^
			(i + 1) * 0x9e3779b97f4a7c15ull ^ key);
	return lp_rng_chance_ppm(&r, ppm);
}

void lp_fault_wire(struct lp_fault_plan *p, enum lp_fault_side side, const struct lp_fault_pkt *pk,
		   uint64_t now_ns, struct lp_fault_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->copies = 1;
	for (size_t i = 0; p && i < p->n; i++) {
		struct fault *f = &p->f[i];
		struct lp_fault_fired *out = v->fired < LP_FAULT_PER_PKT ? &v->what[v->fired] : NULL;

		if (f->side != side || kind_place(f->kind) != LP_FAULT_ON_WIRE)
			continue;
		if (f->ppm) {
			if (!pk->seqspace || !picks(p, i, side, pk->key, f->ppm))
				continue;
			if (f->kind == LP_FAULT_LOSS_P)
				v->drop = true;
			else if (f->kind == LP_FAULT_DUP_P)
				v->copies = 2;
			else
				v->reorder = true;
			fire(p, f, pk->label, pk->label ? 0 : pk->ctl, now_ns, out);
			v->fired++;
			continue;
		}
		if (!pk->first || f->seg < pk->first || f->seg > pk->last || f->used)
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
		default:
			v->corrupt = true;
			break;
		}
		f->used = true;
		fire(p, f, f->seg, 0, now_ns, out);
		v->fired++;
	}
}

void lp_fault_pkt_from(struct lp_fault_pkt *fp, const struct lp_pktinfo *pi, struct lp_fault_keys *k)
{
	fp->first = pi->first;
	fp->last = pi->last;
	fp->label = pi->label;
	fp->seqspace = pi->len || (pi->flags & (LP_TH_SYN | LP_TH_FIN));
	fp->ctl = pi->flags & (LP_TH_SYN | LP_TH_FIN);
	fp->key = fp->seqspace ? lp_fault_key(k, pi->seq_off, pi->ack_off, pi->len, pi->flags) : 0;
}

/* ---- packet keys ---- */

struct keyslot {
	uint64_t h;          /* 0: empty */
	uint32_t count;
};

struct lp_fault_keys {
	struct keyslot *t;
	size_t n, cap;       /* cap: a power of two */
};

int lp_fault_keys_new(struct lp_fault_keys **out)
{
	struct lp_fault_keys *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	*out = k;
	return 0;
}

void lp_fault_keys_free(struct lp_fault_keys *k)
{
	if (!k)
		return;
	free(k->t);
	free(k);
}

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static struct keyslot *slot_of(struct keyslot *t, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (t[i].h && t[i].h != h)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static int keys_grow(struct lp_fault_keys *k)
{
	size_t ncap = k->cap ? k->cap * 2 : 256;
	struct keyslot *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < k->cap; i++)
		if (k->t[i].h)
			*slot_of(nt, ncap, k->t[i].h) = k->t[i];
	free(k->t);
	k->t = nt;
	k->cap = ncap;
	return 0;
}

uint64_t lp_fault_key(struct lp_fault_keys *k, uint64_t seq_off, uint64_t ack_off, uint32_t len,
		      uint8_t flags)
{
	uint64_t h = mix(mix(mix(seq_off + 1) ^ ack_off) ^ ((uint64_t)len << 8 | flags));
	struct keyslot *s;

	if (!h)
		h = 1;
	/* Without memory for the count, every such packet is the first. */
	if (!k || ((k->n + 1) * 2 > k->cap && keys_grow(k)))
		return mix(h);
	s = slot_of(k->t, k->cap, h);
	if (!s->h) {
		s->h = h;
		k->n++;
	}
	return mix(h ^ (uint64_t)s->count++ * 0x9e3779b97f4a7c15ull);
}

/* ---- the path's faults ---- */

/* The error for pkt: packet too big announcing mtu (mtu > 0), else
 * destination unreachable of code, from pkt's destination (the far end of
 * the emulated path). */
static int icmp_answer(const uint8_t *pkt, size_t len, uint32_t mtu, uint32_t code, uint8_t *buf,
		       size_t cap)
{
	bool v6 = len >= 1 && (pkt[0] >> 4) == 6;
	uint8_t type = v6 ? LP_ICMP6_UNREACH : LP_ICMP4_UNREACH;

	if (len < (v6 ? LP_IPV6_HDR : LP_IPV4_HDR))
		return 0;
	if (mtu) {
		type = v6 ? LP_ICMP6_TOO_BIG : LP_ICMP4_UNREACH;
		code = v6 ? 0 : LP_ICMP4_FRAG_NEEDED;
	} else if (code == CODE_DEFAULT) {
		code = v6 ? 1 : 13;
	}
	return lp_icmp_build_error(buf, cap, pkt, len, type, (uint8_t)code, mtu,
				   pkt + (v6 ? 24 : 16));
}

int lp_fault_icmp(struct lp_fault_plan *p, enum lp_fault_side side, const uint8_t *pkt, size_t len,
		  const struct lp_pktinfo *pi, uint64_t now_ns, uint8_t *buf, size_t cap,
		  struct lp_fault_fired *what)
{
	for (size_t i = 0; p && i < p->n; i++) {
		struct fault *f = &p->f[i];
		bool mtu = f->kind == LP_FAULT_MTU;
		int n;

		if (f->side != side || kind_place(f->kind) != LP_FAULT_ON_PATH)
			continue;
		/* unreachable: its segment's first transmission, or the first SYN. */
		if (mtu ? len <= f->arg
			: f->used || (f->seg ? !pi->first || f->seg < pi->first || f->seg > pi->last
					     : !(pi->flags & LP_TH_SYN)))
			continue;
		n = icmp_answer(pkt, len, mtu ? f->arg : 0, f->arg, buf, cap);
		if (n <= 0)
			return n;
		f->used = !mtu;
		fire(p, f, mtu ? pi->label : f->seg, 0, now_ns, what);
		return n;
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verdict and summary of a replay, as text and JSON; event log lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpliveplay/report.h"

/* Faults the text report lists (JSON has them all, up to LP_REPORT_MAX_FAULTS). */
#define TEXT_FAULTS 16

#ifndef LP_VERSION
#define LP_VERSION "unknown"
#endif

void lp_report_init(struct lp_report *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = LP_VERDICT_MATCHED;
	for (size_t i = 0; i < LP_REPORT_MAX_DIV; i++)
		r->div[i].first_diff = -1;
}

const char *lp_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

const char *lp_verdict_str(enum lp_verdict v)
{
	switch (v) {
	case LP_VERDICT_MATCHED:
		return "matched";
	case LP_VERDICT_DIVERGED:
		return "diverged";
	case LP_VERDICT_FAILED:
		return "failed";
	case LP_VERDICT_SKIPPED:
		return "skipped";
	}
	return "?";
}

const char *lp_segment_label(uint8_t dir, uint32_t label, char *buf, size_t len)
{
	if (label == 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%c%" PRIu32, dir == LP_C2S ? 'C' : 'S', label);
	return buf;
}

void lp_report_add_divergence(struct lp_report *r, const struct lp_divergence *d)
{
	struct lp_report_div *rd;
	char seg[sizeof(rd->segment)];

	r->ndiv_total++;
	if (r->ndiv >= LP_REPORT_MAX_DIV)
		return;
	rd = &r->div[r->ndiv++];
	lp_segment_label(d->dir, d->label, seg, sizeof(seg));
	memcpy(rd->segment, seg, sizeof(seg));
	rd->expected = d->expected;
	rd->received = d->received;
	rd->first_diff = d->first_diff;
	if (d->first_diff >= 0 && d->reason &&
	    (!strcmp(d->reason, "bytes differ") || !strcmp(d->reason, "more bytes than captured")))
		/* Found as the bytes came: the counts of that moment would not
		 * agree with the report's; the offset says it all. */
		snprintf(rd->message, sizeof(rd->message), "%s%s%s: first difference at offset %" PRId64,
			 d->reason, seg[0] ? " at " : "", seg, d->first_diff);
	else if (d->first_diff >= 0)
		snprintf(rd->message, sizeof(rd->message),
			 "%s%s%s: expected %" PRIu64 " bytes, received %" PRIu64
			 ", first difference at offset %" PRId64,
			 d->reason, seg[0] ? " at " : "", seg, d->expected, d->received, d->first_diff);
	else if (d->expected || d->received)
		snprintf(rd->message, sizeof(rd->message),
			 "%s%s%s: expected %" PRIu64 " bytes, received %" PRIu64, d->reason,
			 seg[0] ? " at " : "", seg, d->expected, d->received);
	else
		snprintf(rd->message, sizeof(rd->message), "%s", d->reason);
}

/* data_unacked taken back: its words leave the reason (lp_report_from_engine()
 * wrote them last, after ": "), whatever was said after them stays. */
static void unsay_data_unacked(struct lp_report *r)
{
	static const char why[] = ": " LP_DATA_UNACKED_WHY;
	char *at = strstr(r->reason, why);

	r->data_unacked = false;
	if (at)
		memmove(at, at + sizeof(why) - 1, strlen(at + sizeof(why) - 1) + 1);
}

void lp_report_add_faults(struct lp_report *r, const struct lp_fault_plan *p)
{
	const struct lp_fault_fired *end = NULL;

	r->faults_fired = lp_fault_plan_fired(p);
	r->nfaults = 0;
	for (size_t i = 0; i < lp_fault_plan_nlog(p); i++) {
		const struct lp_fault_fired *f = lp_fault_plan_log(p, i);

		if (!end && lp_fault_kind_ends(f->kind))
			end = f;
		if (r->nfaults < LP_REPORT_MAX_FAULTS) {
			struct lp_report_fault *rf = &r->faults[r->nfaults++];

			rf->side = f->side;
			rf->kind = f->kind;
			rf->at_ns = f->at_ns;
			lp_fault_fired_segment(f, rf->segment, sizeof(rf->segment));
		}
	}
	if (end) {
		char name[48];
		size_t n;

		/* The fault ended the connection, not the host's accept queue. */
		if (r->data_unacked)
			unsay_data_unacked(r);
		n = strlen(r->reason);
		lp_fault_fired_str(end, name, sizeof(name));
		if (r->verdict != LP_VERDICT_FAILED) {
			r->verdict = LP_VERDICT_FAILED;
			r->exit_code = 1;
		}
		snprintf(r->reason + n, sizeof(r->reason) - n, "%s(fault %s)", n ? " " : "", name);
	}
}

void lp_report_cut_short(struct lp_report *r, const char *why)
{
	size_t n = strlen(r->reason);

	if (r->verdict == LP_VERDICT_MATCHED) {
		r->verdict = LP_VERDICT_FAILED;
		r->exit_code = 1;
	}
	snprintf(r->reason + n, sizeof(r->reason) - n, "%s%s", n ? "; " : "", why);
}

void lp_report_from_engine(struct lp_report *r, const struct lp_engine *e, const struct lp_flow *fl)
{
	struct lp_engine_stats st;
	enum lp_engine_state state = lp_engine_state(e);

	lp_engine_stats(e, &st);
	r->client = fl->client;
	r->server = fl->server;
	r->sent.segments = st.sent_segments;
	r->sent.bytes = st.sent_bytes;
	r->received.segments = st.received_segments;
	r->received.bytes = st.received_bytes;
	r->expected_received_bytes = st.expected_received_bytes;
	r->retransmissions = st.retransmissions;
	r->ndiv_total = 0;
	r->ndiv = 0;
	for (uint32_t i = 0; i < st.ndivergences; i++) {
		const struct lp_divergence *d = lp_engine_divergence(e, i);

		if (d)
			lp_report_add_divergence(r, d);
		else
			r->ndiv_total++;
	}
	r->reason[0] = '\0';
	if (state == LP_ENGINE_FAILED) {
		r->verdict = LP_VERDICT_FAILED;
		snprintf(r->reason, sizeof(r->reason), "%s",
			 lp_engine_reason(e) ? lp_engine_reason(e) : "failed");
	} else if (r->ndiv_total) {
		r->verdict = LP_VERDICT_DIVERGED;
		snprintf(r->reason, sizeof(r->reason), "%s", r->div[0].message);
	} else if (state == LP_ENGINE_RUNNING) {
		char what[96];
		const char *w = lp_engine_awaits(e, what, sizeof(what));

		r->verdict = LP_VERDICT_FAILED;
		snprintf(r->reason, sizeof(r->reason), "replay did not finish%s%s", w ? ", " : "", w ? w : "");
	} else {
		r->verdict = LP_VERDICT_MATCHED;
	}
	r->exit_code = r->verdict == LP_VERDICT_MATCHED ? 0 : 1;
	r->path_mtu = st.path_mtu;
	r->path_mtu_start = st.path_mtu_start;
	r->mtu_blackhole = st.mtu_blackhole;
	r->icmp_accepted = st.icmp_accepted;
	r->icmp_ignored = st.icmp_ignored;
	snprintf(r->icmp_error, sizeof(r->icmp_error), "%s",
		 lp_engine_icmp_error(e) ? lp_engine_icmp_error(e) : "");
	/* The host's kernel answered the handshake, but no socket ever took our
	 * data: what a listener whose accept queue is full does (its SYN
	 * cookies or SYN-ACK complete the handshake, then it drops the ACKs).
	 * Not so when the network said why (an ICMP error) or the peer reset
	 * the connection (a full accept queue drops, it does not reset), nor
	 * when a fault of ours ended it (lp_report_add_faults()). */
	r->data_unacked = r->verdict == LP_VERDICT_FAILED && lp_engine_role(e) == LP_ROLE_CLIENT &&
			  st.connected && st.sent_bytes && !st.acked_bytes && !st.received_bytes &&
			  !st.peer_reset && !lp_engine_icmp_error(e);
	if (r->data_unacked) {
		size_t n = strlen(r->reason);

		snprintf(r->reason + n, sizeof(r->reason) - n, ": %s", LP_DATA_UNACKED_WHY);
	}
}

/* "sent: N segments, N bytes" and "received: ... (capture shows N)". */
static void print_counts(FILE *fp, const struct lp_report_counts *sent, const struct lp_report_counts *rcvd,
			 uint64_t expected)
{
	fprintf(fp, "sent: %" PRIu64 " segment%s, %" PRIu64 " byte%s\n", sent->segments, lp_plural(sent->segments),
		sent->bytes, lp_plural(sent->bytes));
	fprintf(fp, "received: %" PRIu64 " segment%s, %" PRIu64 " byte%s (capture shows %" PRIu64 ")\n",
		rcvd->segments, lp_plural(rcvd->segments), rcvd->bytes, lp_plural(rcvd->bytes), expected);
}

static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u, (ns % 1000000000u) / 1000u);
}

static const char *family_str(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* The path MTU when known, how it came down; the ICMP errors seen. */
static void print_path(const struct lp_report *r, FILE *fp)
{
	if (r->path_mtu) {
		fprintf(fp, "path MTU: %u", r->path_mtu);
		if (r->path_mtu != r->path_mtu_start) {
			fprintf(fp, " (");
			if (r->path_mtu_start)
				fprintf(fp, "from %u, ", r->path_mtu_start);
			fprintf(fp, "%s)", r->mtu_blackhole
						   ? "black hole suspected: timeouts without ICMP"
						   : "lowered by ICMP");
		}
		fputc('\n', fp);
	}
	if (r->icmp_accepted || r->icmp_ignored) {
		fprintf(fp, "ICMP errors: %" PRIu64 " taken, %" PRIu64 " ignored", r->icmp_accepted,
			r->icmp_ignored);
		if (r->icmp_error[0])
			fprintf(fp, " (last: %s)", r->icmp_error);
		fputc('\n', fp);
	}
}

int lp_report_print_text(const struct lp_report *r, FILE *fp)
{
	char a[64], b[64], d[32];

	fmt_duration(r->duration_ns, d, sizeof(d));
	fprintf(fp, "verdict: %s", lp_verdict_str(r->verdict));
	if (r->reason[0])
		fprintf(fp, " (%s)", r->reason);
	fprintf(fp, "\nflow: %s -> %s (%s)\n", lp_endpoint_str(&r->client, a, sizeof(a)),
		lp_endpoint_str(&r->server, b, sizeof(b)), family_str(r->client.family));
	print_counts(fp, &r->sent, &r->received, r->expected_received_bytes);
	if (r->received.bytes > r->expected_received_bytes)
		fprintf(fp, "note: the peer sent %" PRIu64 " bytes more than the capture shows\n",
			r->received.bytes - r->expected_received_bytes);
	fprintf(fp, "retransmissions: %" PRIu64 "\n", r->retransmissions);
	for (size_t i = 0; i < r->ndiv; i++)
		fprintf(fp, "divergence: %s\n", r->div[i].message);
	if (r->ndiv_total > r->ndiv)
		fprintf(fp, "divergence: ... %zu more\n", r->ndiv_total - r->ndiv);
	fprintf(fp, "faults fired: %" PRIu64 "\n", r->faults_fired);
	for (size_t i = 0; i < r->nfaults && i < TEXT_FAULTS; i++) {
		const struct lp_report_fault *f = &r->faults[i];
		char t[32];

		fmt_duration(f->at_ns, t, sizeof(t));
		fprintf(fp, "fault: %s:%s%s%s at %s s\n", f->side == LP_FAULT_CLIENT ? "client" : "server",
			lp_fault_kind_str(f->kind), f->segment[0] ? ":" : "", f->segment, t);
	}
	if (r->faults_fired > r->nfaults || r->nfaults > TEXT_FAULTS)
		fprintf(fp, "fault: ... %" PRIu64 " more\n",
			r->faults_fired - (r->nfaults < TEXT_FAULTS ? r->nfaults : TEXT_FAULTS));
	print_path(r, fp);
	fprintf(fp, "duration: %s s\n", d);
	/* A rate says something of a run that moved its bytes, not of one
	 * that failed. */
	if (r->duration_ns && r->verdict != LP_VERDICT_FAILED && r->sent.bytes + r->received.bytes) {
		double mb = (double)(r->sent.bytes + r->received.bytes) / 1e6;

		fprintf(fp, "throughput: %.3f MB/s\n", mb / ((double)r->duration_ns / 1e9));
	}
	fprintf(fp, "seed: %" PRIu64 "\n", r->seed);
	return ferror(fp) ? -EIO : 0;
}

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void json_mtu(FILE *fp, const char *key, unsigned mtu)
{
	if (mtu)
		fprintf(fp, "\"%s\":%u,", key, mtu);
	else
		fprintf(fp, "\"%s\":null,", key);
}

/* The report's JSON object, without a newline. */
static void json_report(const struct lp_report *r, FILE *fp)
{
	char a[64], b[64], d[32];

	fmt_duration(r->duration_ns, d, sizeof(d));
	fprintf(fp, "{\"verdict\":\"%s\",\"exit_code\":%d,\"seed\":%" PRIu64 ",",
		lp_verdict_str(r->verdict), r->exit_code, r->seed);
	fprintf(fp, "\"flow\":{");
	if (r->flow_id)
		fprintf(fp, "\"id\":%u,", r->flow_id);
	fprintf(fp, "\"client\":");
	json_str(fp, lp_endpoint_str(&r->client, a, sizeof(a)));
	fprintf(fp, ",\"server\":");
	json_str(fp, lp_endpoint_str(&r->server, b, sizeof(b)));
	fprintf(fp, ",\"family\":\"%s\"},", family_str(r->client.family));
	fprintf(fp, "\"sent\":{\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64 "},", r->sent.segments,
		r->sent.bytes);
	fprintf(fp, "\"received\":{\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64 "},",
		r->received.segments, r->received.bytes);
	fprintf(fp, "\"expected_received_bytes\":%" PRIu64 ",\"retransmissions\":%" PRIu64 ",",
		r->expected_received_bytes, r->retransmissions);
	fprintf(fp, "\"reason\":");
	json_str(fp, r->reason);
	fprintf(fp, ",\"data_unacked\":%s,\"divergences\":[", r->data_unacked ? "true" : "false");
	for (size_t i = 0; i < r->ndiv; i++) {
		const struct lp_report_div *v = &r->div[i];

		fprintf(fp, "%s{\"segment\":", i ? "," : "");
		json_str(fp, v->segment);
		fprintf(fp, ",\"expected\":%" PRIu64 ",\"received\":%" PRIu64 ",\"first_diff\":",
			v->expected, v->received);
		if (v->first_diff >= 0)
			fprintf(fp, "%" PRId64, v->first_diff);
		else
			fprintf(fp, "null");
		fprintf(fp, ",\"message\":");
		json_str(fp, v->message);
		fputc('}', fp);
	}
	fprintf(fp, "],\"faults_fired\":%" PRIu64 ",\"faults\":[", r->faults_fired);
	for (size_t i = 0; i < r->nfaults; i++) {
		const struct lp_report_fault *f = &r->faults[i];
		char t[32];

		fmt_duration(f->at_ns, t, sizeof(t));
		fprintf(fp, "%s{\"side\":\"%s\",\"kind\":\"%s\",\"segment\":", i ? "," : "",
			f->side == LP_FAULT_CLIENT ? "client" : "server", lp_fault_kind_str(f->kind));
		if (f->segment[0])
			json_str(fp, f->segment);
		else
			fputs("null", fp);
		fprintf(fp, ",\"time_s\":%s}", t);
	}
	fprintf(fp, "],");
	json_mtu(fp, "path_mtu", r->path_mtu);
	json_mtu(fp, "path_mtu_start", r->path_mtu_start);
	fprintf(fp, "\"mtu_blackhole\":%s,\"icmp\":{\"accepted\":%" PRIu64 ",\"ignored\":%" PRIu64
		",\"last_error\":", r->mtu_blackhole ? "true" : "false", r->icmp_accepted,
		r->icmp_ignored);
	if (r->icmp_error[0])
		json_str(fp, r->icmp_error);
	else
		fprintf(fp, "null");
	fprintf(fp, "},\"duration_s\":%s,\"version\":", d);
	json_str(fp, LP_VERSION);
	fputc('}', fp);
}

int lp_report_print_json(const struct lp_report *r, FILE *fp)
{
	json_report(r, fp);
	fputc('\n', fp);
	return ferror(fp) ? -EIO : 0;
}

int lp_report_print_json_error(FILE *fp, int exit_code, const char *error)
{
	fprintf(fp, "{\"verdict\":\"error\",\"exit_code\":%d,\"error\":", exit_code);
	json_str(fp, error);
	fprintf(fp, ",\"version\":");
	json_str(fp, LP_VERSION);
	fprintf(fp, "}\n");
	return ferror(fp) ? -EIO : 0;
}

int lp_report_print_line(const struct lp_report *r, FILE *fp)
{
	char a[64], b[64], d[32];

	fmt_duration(r->duration_ns, d, sizeof(d));
	fprintf(fp, "flow %u: %s: %s -> %s", r->flow_id, lp_verdict_str(r->verdict),
		lp_endpoint_str(&r->client, a, sizeof(a)), lp_endpoint_str(&r->server, b, sizeof(b)));
	if (r->verdict != LP_VERDICT_SKIPPED)
		fprintf(fp, ", sent %" PRIu64 " B, received %" PRIu64 " B of %" PRIu64
			", %" PRIu64 " retransmission%s, %s s", r->sent.bytes, r->received.bytes,
			r->expected_received_bytes, r->retransmissions, lp_plural(r->retransmissions), d);
	if (r->path_mtu != r->path_mtu_start)
		fprintf(fp, ", path MTU %u", r->path_mtu);
	if (r->reason[0])
		fprintf(fp, " (%s)", r->reason);
	fputc('\n', fp);
	return ferror(fp) ? -EIO : 0;
}

void lp_totals_add(struct lp_totals *t, const struct lp_report *r)
{
	t->flows++;
	switch (r->verdict) {
	case LP_VERDICT_MATCHED:
		t->matched++;
		break;
	case LP_VERDICT_DIVERGED:
		t->diverged++;
		break;
	case LP_VERDICT_FAILED:
		t->failed++;
		break;
	case LP_VERDICT_SKIPPED:
		t->skipped++;
		return;
	}
	if (r->data_unacked)
		t->data_unacked++;
	if (r->exit_code)
		t->exit_code = 1;
	t->sent.segments += r->sent.segments;
	t->sent.bytes += r->sent.bytes;
	t->received.segments += r->received.segments;
	t->received.bytes += r->received.bytes;
	t->expected_received_bytes += r->expected_received_bytes;
	t->retransmissions += r->retransmissions;
	t->faults_fired += r->faults_fired;
	t->icmp_accepted += r->icmp_accepted;
	t->icmp_ignored += r->icmp_ignored;
}

int lp_totals_print_text(const struct lp_totals *t, FILE *fp)
{
	char d[32];

	fmt_duration(t->duration_ns, d, sizeof(d));
	fprintf(fp, "summary: %" PRIu64 " flow%s: %" PRIu64 " matched, %" PRIu64 " diverged, %" PRIu64
		" failed, %" PRIu64 " skipped\n", t->flows, t->flows == 1 ? "" : "s", t->matched,
		t->diverged, t->failed, t->skipped);
	if (t->data_unacked)
		fprintf(fp, "unacknowledged: %" PRIu64 " flow%s: %s\n", t->data_unacked,
			t->data_unacked == 1 ? "" : "s", LP_DATA_UNACKED_WHY);
	print_counts(fp, &t->sent, &t->received, t->expected_received_bytes);
	fprintf(fp, "retransmissions: %" PRIu64 "\n", t->retransmissions);
	if (t->faults_fired)
		fprintf(fp, "faults fired: %" PRIu64 "\n", t->faults_fired);
	if (t->icmp_accepted || t->icmp_ignored)
		fprintf(fp, "ICMP errors: %" PRIu64 " taken, %" PRIu64 " ignored\n",
			t->icmp_accepted, t->icmp_ignored);
	fprintf(fp, "duration: %s s\n", d);
	if (t->duration_ns && t->matched + t->diverged)
		fprintf(fp, "throughput: %.3f MB/s, %.1f flows/s\n",
			(double)(t->sent.bytes + t->received.bytes) / 1e6 / ((double)t->duration_ns / 1e9),
			(double)(t->flows - t->skipped) / ((double)t->duration_ns / 1e9));
	fprintf(fp, "seed: %" PRIu64 "\n", t->seed);
	return ferror(fp) ? -EIO : 0;
}

int lp_json_flows_begin(FILE *fp)
{
	fprintf(fp, "{\"flows\":[");
	return ferror(fp) ? -EIO : 0;
}

int lp_json_flows_add(FILE *fp, const struct lp_report *r, uint64_t index)
{
	if (index)
		fputc(',', fp);
	json_report(r, fp);
	return ferror(fp) ? -EIO : 0;
}

int lp_json_flows_end(FILE *fp, const struct lp_totals *t)
{
	char d[32];
	bool all = t->exit_code == 0;

	fmt_duration(t->duration_ns, d, sizeof(d));
	fprintf(fp, "],\"totals\":{\"flows\":%" PRIu64 ",\"matched\":%" PRIu64 ",\"diverged\":%" PRIu64
		",\"failed\":%" PRIu64 ",\"skipped\":%" PRIu64 ",\"data_unacked\":%" PRIu64 ",", t->flows,
		t->matched, t->diverged, t->failed, t->skipped, t->data_unacked);
	fprintf(fp, "\"sent\":{\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64 "},", t->sent.segments,
		t->sent.bytes);
	fprintf(fp, "\"received\":{\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64 "},",
		t->received.segments, t->received.bytes);
	fprintf(fp, "\"expected_received_bytes\":%" PRIu64 ",\"retransmissions\":%" PRIu64
		",\"faults_fired\":%" PRIu64 ",\"icmp\":{\"accepted\":%" PRIu64
		",\"ignored\":%" PRIu64 "},\"duration_s\":%s},", t->expected_received_bytes,
		t->retransmissions, t->faults_fired, t->icmp_accepted, t->icmp_ignored, d);
	fprintf(fp, "\"verdict\":\"%s\",\"exit_code\":%d,\"seed\":%" PRIu64 ",\"version\":",
		all ? "matched" : t->diverged && !t->failed ? "diverged" : "failed", t->exit_code, t->seed);
	json_str(fp, LP_VERSION);
	if (t->error) {
		fprintf(fp, ",\"error\":");
		json_str(fp, t->error);
	}
	fprintf(fp, "}\n");
	return ferror(fp) ? -EIO : 0;
}

const char *lp_event_str(const struct lp_event *ev, char *buf, size_t len)
{
	char t[32], lab[16];
	const char *who = ev->role == LP_ROLE_CLIENT ? "client" : "server";
	int n;

	fmt_duration(ev->now_ns, t, sizeof(t));
	lp_segment_label(ev->dir, ev->label, lab, sizeof(lab));
	n = snprintf(buf, len, "%11s %s ", t, who);
	if (n < 0 || (size_t)n >= len)
		return buf;
	buf += n;
	len -= (size_t)n;
	switch (ev->kind) {
	case LP_EV_CONNECTED:
		snprintf(buf, len, "connected");
		break;
	case LP_EV_SENT:
		if (lab[0])
			snprintf(buf, len, "sends %s: %" PRIu64 " bytes at offset %" PRIu64, lab, ev->len,
				 ev->offset);
		else
			snprintf(buf, len, "sends %" PRIu64 " zero bytes at offset %" PRIu64 " (a hole of the capture)",
				 ev->len, ev->offset);
		break;
	case LP_EV_RECEIVED:
		snprintf(buf, len, "received %" PRIu64 " bytes at offset %" PRIu64 " (%s)", ev->len,
			 ev->offset, lab);
		break;
	case LP_EV_EXPECT_MET:
		snprintf(buf, len, "expectation met: %" PRIu64 " bytes through %s", ev->len, lab);
		break;
	case LP_EV_RETRANSMIT:
		snprintf(buf, len, "retransmits %s%s%" PRIu64 " bytes at offset %" PRIu64 "%s%s%s", lab,
			 lab[0] ? ": " : "", ev->len, ev->offset, ev->reason ? " (" : "",
			 ev->reason ? ev->reason : "", ev->reason ? ")" : "");
		break;
	case LP_EV_DIVERGENCE:
		snprintf(buf, len, "DIVERGENCE %s%s%s: expected %" PRIu64 " bytes, received %" PRIu64,
			 ev->reason ? ev->reason : "", lab[0] ? " at " : "", lab, ev->expected,
			 ev->received);
		break;
	case LP_EV_FIN_SENT:
		snprintf(buf, len, "sends FIN at offset %" PRIu64, ev->offset);
		break;
	case LP_EV_FIN_RECEIVED:
		snprintf(buf, len, "received FIN at offset %" PRIu64, ev->offset);
		break;
	case LP_EV_RST_SENT:
		snprintf(buf, len, "sends RST%s%s%s", ev->reason ? " (" : "", ev->reason ? ev->reason : "",
			 ev->reason ? ")" : "");
		break;
	case LP_EV_DONE:
		snprintf(buf, len, "done%s%s%s", ev->reason ? " (" : "", ev->reason ? ev->reason : "",
			 ev->reason ? ")" : "");
		break;
	case LP_EV_FAILED:
		snprintf(buf, len, "FAILED: %s", ev->reason ? ev->reason : "");
		break;
	case LP_EV_FAULT:
		snprintf(buf, len, "fault %s%s%s", ev->reason ? ev->reason : "", lab[0] ? " on " : "",
			 lab);
		break;
	case LP_EV_ICMP:
	case LP_EV_ICMP_IGNORED:
	case LP_EV_PMTU:
		snprintf(buf, len, "%s", ev->reason ? ev->reason : "");
		break;
	case LP_EV_TIMER:
		snprintf(buf, len, "timer: %s", ev->reason ? ev->reason : "");
		break;
	}
	return buf - n;
}

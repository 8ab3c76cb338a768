/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the replay engine: the state every part shares. engine.c holds the
 * application (the captured schedule, expectations, verdicts) and the public
 * calls; engine_rx.c the receive path (RFC 9293 3.10.7: acceptability, PAWS,
 * RST/SYN/ACK checks, reassembly, the SACK blocks we send); engine_tx.c the
 * send path (segments, timers); engine_cc.c congestion control and loss
 * recovery; engine_icmp.c the network's own signals (ICMP errors, the path
 * MTU).
 *
 * Sequence numbers are handled as 64-bit stream offsets: offset 0 is the
 * first byte after the SYN. Our FIN, when queued, occupies offset app_len.
 */
#ifndef TCPLIVEPLAY_ENGINE_INT_H
#define TCPLIVEPLAY_ENGINE_INT_H

#include "tcpliveplay/engine.h"
#include "tcpliveplay/icmp.h"
#include "tcpliveplay/pkt.h"
#include "tcpliveplay/rng.h"

#define NS_PER_MS 1000000ull
#define RTO_MAX_NS (60000ull * NS_PER_MS)
#define MAX_OOO 32
#define MAX_DIV 16
#define MAX_CUTS 16
#define MAX_MRU 4
#define DUPTHRESH 3
/* ACKs as a good receiver sends them (RFC 9293 3.8.6.3, RFC 5681 4.2, Linux):
 * at least one for every second full-sized segment, the others delayed at
 * most ACK_DELAY_NS; the first QUICKACKS data segments, and those after the
 * peer was quiet for an RTO, at once (the peer's slow start, and a peer
 * whose Nagle waits for our ACK). */
#define ACK_DELAY_NS (40ull * NS_PER_MS)
#define QUICKACKS 16

enum tcp_state {
	T_LISTEN,
	T_SYN_SENT,
	T_SYN_RCVD,
	T_ESTAB,
	T_CLOSED,
};

/* One of our scheduled captured segments (data, FIN or RST). */
struct mseg {
	const struct lp_segment *s;
	uint64_t gap_ns;      /* captured think-time before it */
};

/* The captured schedule of one side (engine_sched.c): read-only once
 * built, shared by the engines of that side. */
struct lp_schedule {
	const struct lp_flow *fl;
	enum lp_role role;
	uint8_t me;
	struct mseg *mine;          /* what we release, in order */
	size_t nmine;
	struct lp_segment *fills;   /* a segment of ours for each hole of our stream */
	uint32_t *theirs;           /* the peer's data segments (indexes into fl->segs), in stream
				     * order: for attribution and size matching */
	size_t ntheirs;
	size_t ndata;               /* data segments of ours in mine[] */
};

struct range {
	uint64_t start, end;
};

/* Bytes the application left out of our stream (truncate fault): wire
 * offsets at or past wire_at map to capture offsets shifted by skip. */
struct cut {
	uint64_t wire_at, skip;
};

/* A zero-window fault: once the peer's bytes up to end are in, our window
 * stays closed for ms. */
struct zwin {
	uint64_t end;
	uint32_t label, ms;
	bool done;
};

struct lp_engine {
	const struct lp_flow *fl;
	struct lp_engine_cfg cfg;
	uint8_t me, peer;
	enum lp_engine_state state;
	const char *reason;
	enum tcp_state tcp;
	uint64_t now;

	/* schedule: the shared one's arrays (cfg.schedule, or own_sc) */
	struct lp_schedule *own_sc; /* built for this engine when the config gave none */
	const struct mseg *mine;
	size_t nmine, rel;
	const uint32_t *theirs;
	size_t ntheirs;
	uint64_t peer_len;          /* bytes the capture shows from the peer */
	bool peer_close_expected;
	bool refused;               /* the capture shows the connection refused */
	uint64_t release_at;        /* capture timing: earliest release of mine[rel] */
	bool release_held;          /* mine[rel] waits for room in the send buffer (an ACK
				     * or a window update), not for release_at: no timer */
	uint64_t last_met;          /* peer offset of the last expectation met */
	bool stalled;               /* a stall or rst fault stopped the application */
	struct cut cuts[MAX_CUTS];
	size_t ncuts;
	/* first-transmission tracking for labels */
	uint64_t *wstart;           /* wire offset of each released data segment, in order */
	uint32_t *wlabel;
	size_t nwlab, txlab;
	uint32_t out_first, out_last;  /* labels first sent in the last packet */
	uint32_t out_seq, out_ack, out_len;  /* the last packet's */
	uint8_t out_flags;
	struct lp_gso out_gso;      /* the last packet as a super-segment (seg_len 0: plain) */
	uint32_t gso_max;           /* during lp_engine_output_gso(): payload bytes a super-segment
				     * may carry (0: plain segments only) */

	/* send side */
	uint32_t iss;
	uint64_t snd_una, snd_nxt, snd_max, app_len;
	bool fin_queued, syn_pending, syn_acked;
	bool rst_pending, rst_fault;  /* a captured reset, or one the fault plan asked for */
	bool abort_rst;             /* the connection is aborted: a reset goes next */
	bool reply_rst;             /* answer an unacceptable ACK with <SEQ=SEG.ACK><CTL=RST> */
	bool refuse_rst;            /* refuse the SYN: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> */
	uint32_t reply_rst_seq;
	uint64_t snd_wnd, max_wnd, wl2;
	int64_t wl1;
	bool wnd_known;
	uint16_t eff_mss;           /* options + payload of one segment (RFC 9293 3.7.1) */
	uint16_t mss;               /* SMSS: payload of a segment with the fixed options */
	uint8_t fixed_opts;         /* bytes of the options every segment carries */
	bool ws_ok, ts_ok, sack_ok;
	uint8_t snd_ws, rcv_ws;
	struct lp_synopts offer;    /* what our SYN offers */
	uint32_t syn_tsval;         /* TSval of our first SYN or SYN-ACK */
	bool syn_retx;              /* our SYN or SYN-ACK went out more than once */
	bool syn_timed_out;         /* ... because its timer expired */
	/* congestion control and loss recovery */
	uint64_t cwnd, ssthresh, iw;
	uint64_t last_data_at;      /* when new data last went out */
	unsigned dupacks;
	bool in_recovery;           /* fast recovery (RFC 6675 with SACK, else RFC 6582) */
	bool rtx_head;              /* retransmit the segment at snd_una now */
	uint64_t recover;           /* RecoveryPoint: no new recovery before this is acked */
	uint64_t high_rxt;          /* SACK recovery: retransmitted below this */
	uint64_t rtx_hi;            /* after an RTO: go back from snd_una up to here */
	uint64_t rto_recover;       /* after an RTO: snd_max then (0: none, or acknowledged) */
	struct range sacked[MAX_OOO];
	size_t nsacked;
	/* persist */
	bool probe_due, probe_sent, sws_override;
	unsigned probes;            /* probes (or zero-window RTOs) without an answer */
	uint64_t probe_end;         /* Karn: data below here went out in a probe */
	uint64_t last_end;          /* end of the data in the segment last sent */

	/* receive side */
	uint32_t irs;
	uint64_t rcv_nxt;
	uint64_t rcv_buf;           /* window we offer, bytes */
	bool peer_fin;
	bool peer_fin_pending;
	uint64_t peer_fin_off;
	uint32_t ts_recent;
	bool ts_seen;
	bool ack_now;
	uint64_t delack_at;         /* a delayed ACK goes out then (0: none pending) */
	uint64_t rcv_unacked;       /* in-order bytes taken since our last ACK */
	uint64_t rcv_mss;           /* the largest data segment the peer sent */
	uint64_t rcv_last_at;       /* when the peer's data last arrived */
	unsigned quick;             /* data segments still to ACK at once */
	bool oow_acked;
	uint64_t oow_ack_at;        /* when we last answered an unacceptable segment */
	uint64_t adv_edge;          /* the highest RCV.NXT + window we advertised */
	/* window faults (engine.c): a cap on the window we offer, zero windows */
	uint64_t wnd_cap;           /* 0: none */
	bool wnd_cap_noted;
	struct zwin *zw;
	size_t nzw;
	uint64_t zw_until;          /* our window is closed until then (0: open) */
	uint8_t *ooo_buf;           /* rcv_buf bytes for data out of order, from its first */
	struct range ooo[MAX_OOO];
	size_t nooo;
	uint64_t mru[MAX_MRU];      /* an offset in each block last received, newest first */
	size_t nmru;

	/* timers (absolute ns, 0 = off) */
	uint64_t rto_at, persist_at, expect_at;
	uint64_t rto_ns, srtt, rttvar;
	bool have_rtt;
	unsigned retries_cur;       /* retransmissions of the oldest segment without an answer */
	unsigned backoff;           /* RTO doublings */
	unsigned persist_shift;
	bool rtt_timing;
	uint64_t rtt_end, rtt_t0;
	bool expect_fired;
	/* waiting for the peer (engine_wait.c) */
	uint64_t ka_at;             /* next keepalive (0 = off) */
	unsigned ka_sent, ka_unanswered;
	bool ka_due;                /* a keepalive goes next */
	bool tail_waived, close_waived;
	uint64_t short_at;          /* rcv_nxt at the last shortfall reported */
	uint64_t slack;             /* peer bytes given up on after shortfalls */
	bool size_end_checked;
	struct lp_rng jitter;       /* RTO timer jitter (cfg.rto_jitter_pct) */

	/* the path (engine_icmp.c) */
	unsigned pmtu;              /* the path MTU estimate, 0: unknown */
	char icmp_last[112];        /* the last ICMP error taken, "" when none */
	char msg[224];              /* an event's text, built at run time */
	char why[160];              /* a reason built at run time */

	struct lp_engine_stats st;
	struct lp_divergence div[MAX_DIV];
};

static inline uint32_t snd_seq(const struct lp_engine *e, uint64_t off)
{
	return e->iss + 1 + (uint32_t)off;
}

/* RCV.NXT as a stream offset, counting the peer's FIN. */
static inline uint64_t rcv_nxt_seq(const struct lp_engine *e)
{
	return e->rcv_nxt + (e->peer_fin ? 1 : 0);
}

/* The stream offset nearest to ref whose sequence number is seq. */
static inline int64_t seq_to_off(uint32_t base_seq, uint64_t ref, uint32_t seq)
{
	uint32_t ref_seq = base_seq + (uint32_t)ref;

	return (int64_t)ref + (int32_t)(seq - ref_seq);
}

static inline uint64_t seq_end(const struct lp_engine *e)
{
	return e->app_len + (e->fin_queued ? 1 : 0);
}

static inline uint32_t tsval_now(const struct lp_engine *e)
{
	uint64_t t = e->now > e->cfg.ts_origin_ns ? e->now - e->cfg.ts_origin_ns : 0;

	return e->cfg.ts_base + (uint32_t)(t / NS_PER_MS);
}

/* Does TSecr echo a TSval we sent since our first SYN? */
static inline bool tsecr_ours(const struct lp_engine *e, uint32_t tsecr)
{
	return tsecr - e->syn_tsval <= tsval_now(e) - e->syn_tsval;
}

/* engine.c: the application side */
void eng_emit(struct lp_engine *e, enum lp_event_kind kind, uint8_t dir, uint32_t label,
	      uint64_t offset, uint64_t len, const char *reason);
void eng_fail(struct lp_engine *e, const char *reason);
void eng_done(struct lp_engine *e, const char *reason);
void eng_progress(struct lp_engine *e);
void eng_peer_reset(struct lp_engine *e);
uint64_t eng_have(const struct lp_engine *e);
uint32_t eng_peer_label_at(const struct lp_engine *e, uint64_t off);
void eng_diverge(struct lp_engine *e, uint32_t label, uint64_t expected, uint64_t received,
		 int64_t first_diff, const char *reason);
uint64_t eng_wire_to_capture(const struct lp_engine *e, uint64_t w, uint64_t *contig);
/* Window faults: new in-order peer bytes may close the window; the first
 * window we advertise notes a window cap. */
void eng_window_faults(struct lp_engine *e);
void eng_note_window_cap(struct lp_engine *e);

/* engine_sched.c: the schedule */
/* Index in theirs[0..n-1] (n > 0) of the peer data segment holding stream
 * offset off (the last one if past the end). */
size_t sched_peer_index(const struct lp_flow *fl, const uint32_t *theirs, size_t n, uint64_t off);

/* engine_wait.c: waiting for the peer */
/* The application waits for the peer (or no longer): the patience and the
 * keepalives start (or stop). */
void wait_update(struct lp_engine *e, bool waiting);
/* A segment of the connection came from the peer. */
void wait_heard(struct lp_engine *e);
/* The keepalive timer, at lp_engine_timeout(): one more, or the failure. */
void wait_timer(struct lp_engine *e);
/* The patience ran out waiting for the peer's bytes up to need: when
 * nothing of that answer came, the replay fails saying so (true). */
bool wait_no_answer(struct lp_engine *e, uint64_t need);

/* engine_rx.c: the receive side */
bool rx_range_insert(struct range *a, size_t *n, uint64_t start, uint64_t end);
/* The SACK blocks for our next segment, most recent first (RFC 2018 4). */
unsigned rx_sack_blocks(const struct lp_engine *e, struct lp_tcpopts *o, unsigned max);
/* Take the peer's SYN options; false when its MSS leaves no room for data. */
bool rx_negotiate(struct lp_engine *e, const struct lp_tcpopts *po);
/* Answer an unacceptable segment: an ACK, at most one per 500 ms for those
 * without data (Linux's tcp_invalid_ratelimit, RFC 5961 10). */
void rx_oow_ack(struct lp_engine *e, bool has_data);
/* The window we offer now (a zero-window fault closes it, a window cap
 * bounds it), and the one we accept segments in: what we offer, or what we
 * offered before if more (RFC 7323 2.4: a segment that would have been in
 * the window of any ACK we sent is in the window). */
uint64_t rx_wnd_offer(const struct lp_engine *e);
uint64_t rx_wnd_accept(const struct lp_engine *e);

/* engine_cc.c: congestion control and loss recovery */
/* An acceptable ACK at or above SND.UNA; dup_candidate: no data, same
 * window (a duplicate ACK without SACK, RFC 5681 2). */
void cc_on_ack(struct lp_engine *e, uint64_t ack, bool dup_candidate, const struct lp_tcpopts *o);
/* The end of what cwnd (with limited transmit) and the peer's window let out. */
uint64_t cc_wnd_end(const struct lp_engine *e);
/* The first unSACKed offset at or after from; *lim: where the SACKed data
 * above it starts (snd_max when none). */
uint64_t cc_next_unsacked(const struct lp_engine *e, uint64_t from, uint64_t *lim);
/* SetPipe() (RFC 6675 4). */
uint64_t cc_pipe(const struct lp_engine *e);
/* A hole at or above HighRxt, lost (NextSeg rule 1) or any below the highest
 * SACKed byte (rule 3). */
bool cc_next_hole(const struct lp_engine *e, bool lost_only, uint64_t *off, uint64_t *lim);
void cc_on_rto(struct lp_engine *e);

/* engine_icmp.c: ICMP errors and the path MTU */
/* A packet that is no TCP segment: an ICMP error is taken or counted as
 * ignored (0); -EINVAL for anything else. */
int eng_icmp_packet(struct lp_engine *e, const uint8_t *pkt, size_t len);
/* The largest eff_mss the path MTU allows (UINT16_MAX when unknown). */
uint16_t pmtu_mss_cap(const struct lp_engine *e);
/* An RTO of established data: after repeated ones, smaller segments. */
void pmtu_on_timeout(struct lp_engine *e);
/* base, or base and the last ICMP error taken (RFC 1122 4.2.3.9). */
const char *icmp_giveup_reason(struct lp_engine *e, const char *base);

/* engine_tx.c: the send side */
void tx_rtt_sample(struct lp_engine *e, uint64_t r);
/* The handshake completed: RTT, RTO and initial window after it. */
void tx_syn_done(struct lp_engine *e, const struct lp_seg *s);
void tx_arm_rto(struct lp_engine *e);
void tx_update_persist(struct lp_engine *e);
void tx_on_rto(struct lp_engine *e);
void tx_on_persist(struct lp_engine *e);
void tx_queue_abort(struct lp_engine *e);
/* Would new data go out now? */
bool tx_new_data_due(const struct lp_engine *e);
uint64_t tx_rto_clamp(const struct lp_engine *e, uint64_t v);
/* The label of our data segment holding wire offset off (0: none). */
uint32_t tx_label_at(const struct lp_engine *e, uint64_t off);

#endif

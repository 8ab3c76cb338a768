# SPDX-License-Identifier: GPL-2.0-or-later
# Many flows in one replay (issues 8, 15): tcpliveplay --flow all replays every
# flow of a capture, each on its own engine and source port, as many at once as
# the capture had (or --concurrency), against a stock server (python3 -m
# http.server, default settings) and against tcpliveplay-responder --flow all;
# --shard splits one replay across processes.
# Sourced by tests/e2e/run.sh; needs nothing earlier files set up.
#
#   +------------- lpc$$ --------------+      +---------------- lps$$ ------------------+
#   | vc  198.18.0.1                   |======| vs  198.18.0.2 (http.server :8080)      |
#   | curl --parallel (recording)      | veth |     198.18.0.4 (configured, case c)     |
#   | tcpliveplay --flow all           |      | tcpliveplay-responder --flow all on     |
#   |                                  |      |   198.18.0.2, .3, .4, .5, .6            |
#   +----------------------------------+      +-----------------------------------------+
#
# Captured addresses other than the lab's (gen-flows --servers, --clients) are
# in 198.19.0.0/16: they only ever appear in files.

GEN=$B/gen-flows
MRSP=$B/tcpliveplay-responder
MF=$T/mf
mkdir -p "$MF"

# mf_rsp NAME ARGS...: start a responder in the server namespace (bounded to
# 300 s), output in $MF/NAME.out; sets mf_pid. Waits until it serves.
mf_rsp() {
	mname=$1
	shift
	rm -f "$MF/$mname.out"
	ip netns exec "$S_NS" timeout 300 "$MRSP" -i vs --seed 13 "$@" > "$MF/$mname.out" 2>&1 &
	mf_pid=$!
	wait_for 100 grep -q '^serving' "$MF/$mname.out"
}

# mf_stop PID NAME N: once N sessions ended (at most 10 s), SIGTERM a
# responder and wait; sets mf_rrc and mf_rout.
mf_stop() {
	wait_for 100 sh -c "[ \$(grep -c ': verdict ' '$MF/$2.out') -ge $3 ]"
	kill -TERM "$1" 2>/dev/null
	wait "$1"
	mf_rrc=$?
	mf_rout=$(cat "$MF/$2.out")
}

# mf_replay NAME ARGS...: tcpliveplay in the client namespace, bounded to
# 180 s, under /usr/bin/time -v when installed; sets mf_rc, mf_out, mf_secs
# (wall time) and mf_rss (peak RSS in KB, 0 when unknown).
mf_replay() {
	mname=$1
	shift
	rm -f "$MF/$mname.time"
	t0=$(date +%s%N)
	if [ -x /usr/bin/time ]; then
		# time waits for timeout, whose peak RSS covers the replayer's.
		mf_out=$(inc /usr/bin/time -v -o "$MF/$mname.time" timeout 180 "$LP" -i vc "$@" 2>&1)
	else
		mf_out=$(inc timeout 180 "$LP" -i vc "$@" 2>&1)
	fi
	mf_rc=$?
	t1=$(date +%s%N)
	mf_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	mf_rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$MF/$mname.time" 2>/dev/null)
	mf_rss=${mf_rss:-0}
}

# mf_json FILE FLOWS MATCHED SKIPPED: the --json report parses and counts so;
# prints why not.
mf_json() {
	python3 - "$@" <<'PY' 2>&1
import json, sys
path, flows, matched, skipped = sys.argv[1], *map(int, sys.argv[2:])
try:
    d = json.load(open(path))
except Exception as e:
    sys.exit("%s does not parse: %s" % (path, e))
fl, t = d.get("flows"), d.get("totals", {})
if not isinstance(fl, list) or len(fl) != flows:
    sys.exit("flows has %s entries, want %d" % (len(fl) if isinstance(fl, list) else fl, flows))
if len({f.get("flow", {}).get("id") for f in fl}) != flows:
    sys.exit("flow ids repeated or missing")
for k, want in (("flows", flows), ("matched", matched), ("skipped", skipped)):
    if t.get(k) != want:
        sys.exit("totals.%s is %s, want %d" % (k, t.get(k), want))
want_rc = 0 if matched + skipped == flows else 1
if d.get("exit_code") != want_rc:
    sys.exit("exit_code is %s, want %d" % (d.get("exit_code"), want_rc))
PY
}

# summary_is N M S: the replay's summary line says N flows, M matched, S skipped.
summary_is() {
	grep -q "^summary: $1 flows: $2 matched, 0 diverged, 0 failed, $3 skipped" <<<"$mf_out"
}

if [ ! -x "$GEN" ]; then
	skipped "many flows (60-multiflow.sh)" "$GEN not built (make $GEN)"
else

# --- a. Proof: 200 connections of a real client, replayed whole ---------------
# The stock server, default settings: python3 -m http.server (HTTP/1.0, a
# connection per GET, a listen backlog of 5). curl fetches 200 files, at most
# 20 at a time; the replay with default options keeps the capture's shape (at
# most as many flows at once as the capture had) and matches all 200. Then
# every flow at once with one retransmission each: the server's accept queue
# overflows, and each flow that fails says so.
mkdir -p "$MF/www"
head -c 4096 /dev/urandom > "$MF/www/f.bin"
ip netns exec "$S_NS" python3 -m http.server --bind "$S4" --directory "$MF/www" 8080 > "$MF/http.log" 2>&1 &
hpid=$!
if ! wait_for 100 listening "$S_NS" 8080; then
	not_ok "many flows: python3 -m http.server on $S4:8080 did not start" "$(cat "$MF/http.log")"
else
	urls=()
	for i in $(seq 1 200); do urls+=(-o /dev/null "http://$S4:8080/f.bin?n=$i"); done
	mf_curl() {
		inc timeout 60 curl -sS --no-progress-meter --fail --parallel --parallel-max 20 "${urls[@]}" \
			2> "$MF/curl.err"
	}
	record "$C_NS" vc "$MF/rec.pcap" mf_curl
	crc=$?
	head1=$("$LP" --list "$MF/rec.pcap" 2>/dev/null | head -1)
	nflows=$("$LP" --list "$MF/rec.pcap" 2>/dev/null | grep -vc '^#')
	busiest=$(sed -n 's/.* TCP flows (at most \([0-9]*\) at once).*/\1/p' <<<"$head1")
	# The busiest moment counted by a reader that owes nothing to ours; a
	# connection is open until its last packet, so the closing handshakes of
	# curl's finished connections can overlap its next ones (20 may show as 22).
	theirs=$(python3 tests/e2e/tools/pcapcheck.py busiest "$MF/rec.pcap" 8080 2>&1)
	gets=$(grep -c '"GET /f.bin?n=' "$MF/http.log")
	if [ $crc -eq 0 ] && [ "$nflows" -eq 200 ] && [ "$gets" -eq 200 ] && [ -n "$busiest" ] &&
		[ "$busiest" -ge 1 ] && [ "$busiest" = "$theirs" ]; then
		ok "many flows: curl --parallel-max 20 recorded 200 connections, 200 GETs, at most $busiest at once"
	else
		not_ok "many flows: curl --parallel-max 20 recorded 200 connections, 200 GETs" \
			"curl exit $crc, $nflows flows in the recording, $gets GETs served" "$head1" \
			"busiest moment by pcapcheck.py: $theirs" "$(head -5 "$MF/curl.err")"
	fi

	if [ "$nflows" -eq 200 ]; then
		before=$(grep -c '"GET /f.bin?n=' "$MF/http.log")
		mf_replay proof-http -r "$MF/rec.pcap" --flow all --dst "$S4" --timeout 60 --seed 3 \
			--json "$MF/proof-http.json"
		after=$(grep -c '"GET /f.bin?n=' "$MF/http.log")
		jwhy=$(mf_json "$MF/proof-http.json" 200 200 0)
		lines=$(grep -c '^flow [0-9]*: matched: ' <<<"$mf_out")
		name="many flows: 200 recorded flows replayed with default options against the stock http.server, 200 matched"
		if [ $mf_rc -eq 0 ] && summary_is 200 200 0 && [ "$lines" -eq 200 ] && [ -z "$jwhy" ] &&
			[ $((after - before)) -eq 200 ] &&
			grep -q "at most $busiest at once, as at the capture's busiest moment" <<<"$mf_out"; then
			ok "$name (${mf_secs} s)"
		else
			not_ok "$name" "exit $mf_rc, $lines matched lines, GETs $before -> $after, ${mf_secs} s" \
				"$jwhy" "$(grep -v '^flow [0-9]*: matched: ' <<<"$mf_out" | head -20)"
		fi

		# All 200 at once, once with the default patience, once with one
		# retransmission per segment: every flow that failed after sending
		# its request carries the diagnosis, counted in the summary.
		for try in default short; do
			extra=()
			[ $try = short ] && extra=(--retries 1)
			seed=31
			[ $try = short ] && seed=32
			mf_replay "unlimited-$try" -r "$MF/rec.pcap" --flow all --dst "$S4" --timeout 60 --seed $seed \
				--concurrency unlimited "${extra[@]}" --json "$MF/unlimited-$try.json"
			jwhy=$(python3 - "$MF/unlimited-$try.json" "$try" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
fl, t = d["flows"], d["totals"]
bad = [f for f in fl if f["verdict"] != "matched"]
sent = [f for f in bad if f["sent"]["bytes"] > 0 and f["received"]["bytes"] == 0]
why = "the host completed the handshake but never acknowledged our data (its accept queue was likely full)"
assert len(fl) == 200, "flows %d" % len(fl)
if sys.argv[2] == "short":
    assert sent, "no flow failed with its request unacknowledged"
for f in sent:
    assert f["data_unacked"] is True and f["reason"].endswith(why), "flow %d: %s" % (f["flow"]["id"], f["reason"])
assert t["data_unacked"] == sum(f["data_unacked"] for f in fl), t
print("%d matched, %d failed, %d of them data unacknowledged" % (t["matched"], t["failed"], t["data_unacked"]))
PY
)
			jrc=$?
			n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["data_unacked"])' \
				"$MF/unlimited-$try.json" 2>/dev/null)
			name="many flows: --concurrency unlimited ($try retries) against the stock server: failed flows say the data was never acknowledged"
			if [ $jrc -eq 0 ] && grep -q '(0 skipped; all at once)' <<<"$mf_out" &&
				{ [ "${n:-0}" -eq 0 ] || { grep -q "^unacknowledged: $n flows\{0,1\}: the host completed the handshake" <<<"$mf_out" &&
					grep -q "^hint: try a lower --concurrency (this run: all at once; the capture's busiest moment: $busiest)" <<<"$mf_out"; }; }; then
				ok "$name ($jwhy; ${mf_secs} s)"
			else
				not_ok "$name" "exit $mf_rc: $jwhy" "$(grep -E '^(summary|unacknowledged|hint)' <<<"$mf_out")" \
					"$(grep -v '^flow [0-9]*: matched: ' <<<"$mf_out" | head -5)"
			fi
		done
	fi
	kill "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	wait_for 50 sh -c "! ip netns exec $S_NS ss -Hltn 'sport = :8080' | grep -q ."

	# The same recording against the responder serving every flow on the
	# (now free) lab address itself.
	if [ "$nflows" -eq 200 ]; then
		mf_rsp proof-rsp -r "$MF/rec.pcap" --flow all --ip "$S4" --max-sessions 256 --idle-timeout 20
		rpid=$mf_pid
		mf_replay proof-rsp -r "$MF/rec.pcap" --flow all --dst "$S4" --timeout 60 --seed 4 \
			--json "$MF/proof-rsp.json"
		mf_stop "$rpid" proof-rsp 200
		jwhy=$(mf_json "$MF/proof-rsp.json" 200 200 0)
		name="many flows: the recording against tcpliveplay-responder --flow all, 200 matched both sides"
		if [ $mf_rc -eq 0 ] && summary_is 200 200 0 && [ -z "$jwhy" ] && [ $mf_rrc -eq 0 ] &&
			grep -q '^summary: 200 sessions: 200 matched, 0 diverged, 0 failed' <<<"$mf_rout"; then
			ok "$name (${mf_secs} s)"
		else
			not_ok "$name" "replayer exit $mf_rc, responder exit $mf_rrc, ${mf_secs} s" "$jwhy" \
				"$(grep -v '^flow [0-9]*: matched: ' <<<"$mf_out" | head -20)" \
				"$(grep -v 'matched' <<<"$mf_rout" | head -20)"
		fi
	fi
fi

# --- b. 10,000 flows against the responder: time and memory -------------------
EMU=198.18.0.3
"$GEN" -n 1000 -o "$MF/g1k.pcap"
"$GEN" -n 10000 -o "$MF/g10k.pcap"
mf_rsp big1k -r "$MF/g1k.pcap" --flow all --ip "$EMU" --max-sessions 512 --idle-timeout 20
bpid=$mf_pid
mf_replay g1k -r "$MF/g1k.pcap" --flow all --dst "$EMU" --concurrency 200 --timeout 60 --seed 5
rss1k=$mf_rss secs1k=$mf_secs rc1k=$mf_rc out1k=$mf_out
mf_stop "$bpid" big1k 1000
rrc1k=$mf_rrc rout1k=$mf_rout
mf_rsp big -r "$MF/g10k.pcap" --flow all --ip "$EMU" --max-sessions 512 --idle-timeout 20
bpid=$mf_pid
mf_replay g10k -r "$MF/g10k.pcap" --flow all --dst "$EMU" --concurrency 200 --timeout 120 --seed 6
mf_stop "$bpid" big 10000
cap_kb=$(( $(stat -c %s "$MF/g10k.pcap") / 1024 ))
echo "     1,000 flows: ${secs1k} s, peak RSS ${rss1k} KB; 10,000 flows: ${mf_secs} s, peak RSS ${mf_rss} KB (capture ${cap_kb} KB)"
name="many flows: 1,000 generated flows against the responder, all matched"
if [ "$rc1k" -eq 0 ] && grep -q '^summary: 1000 flows: 1000 matched, 0 diverged, 0 failed, 0 skipped' <<<"$out1k" &&
	[ "$rrc1k" -eq 0 ] && grep -q '^summary: 1000 sessions: 1000 matched, 0 diverged, 0 failed' <<<"$rout1k"; then
	ok "$name (${secs1k} s)"
else
	not_ok "$name" "exit $rc1k, responder exit $rrc1k" "$(grep -v '^flow [0-9]*: matched: ' <<<"$out1k" | head -20)" \
		"$(grep -v 'matched' <<<"$rout1k" | head -20)"
fi
name="many flows: 10,000 generated flows, --concurrency 200, all matched in < 60 s"
if [ $mf_rc -eq 0 ] && summary_is 10000 10000 0 && awk -v s="$mf_secs" 'BEGIN { exit !(s < 60) }' &&
	[ $mf_rrc -eq 0 ] && grep -q '^summary: 10000 sessions: 10000 matched, 0 diverged, 0 failed' <<<"$mf_rout"; then
	ok "$name (${mf_secs} s)"
else
	not_ok "$name" "replayer exit $mf_rc in ${mf_secs} s, responder exit $mf_rrc" \
		"$(grep -v '^flow [0-9]*: matched: ' <<<"$mf_out" | head -20)" \
		"$(grep -v 'matched' <<<"$mf_rout" | head -20)"
fi
name="many flows: 10,000 flows in less memory than the capture + 64 MB"
if [ ! -x /usr/bin/time ]; then
	skipped "$name" "/usr/bin/time not installed (ci/install-deps installs it)"
elif grep -q __asan_init "$LP" 2>/dev/null; then
	skipped "$name" "an ASan build: its shadow memory and quarantine are most of the RSS (${mf_rss} KB)"
elif [ "$mf_rss" -gt 0 ] && [ "$mf_rss" -lt $((cap_kb + 65536)) ]; then
	ok "$name (${mf_rss} KB; 1,000 flows: ${rss1k} KB)"
else
	not_ok "$name" "peak RSS ${mf_rss} KB, capture ${cap_kb} KB"
fi
rm -f "$MF/g1k.pcap" "$MF/g10k.pcap"

# --- c. --dst OLD=NEW: two captured servers, two live ones --------------------
# Captured 198.19.1.10 -> 198.18.0.4 (configured on vs), 198.19.1.20 -> 198.18.0.5
# (emulated); each responder must see exactly its own 10 flows.
NEWA=198.18.0.4
NEWB=198.18.0.5
"$GEN" -n 20 -o "$MF/two.pcap" --servers 198.19.1.10,198.19.1.20 --resp 3000
if ins ip addr add "$NEWA/24" dev vs; then
	mf_rsp twoa -r "$MF/two.pcap" --flow all --ip "$NEWA" --port 80
	apid=$mf_pid
	mf_rsp twob -r "$MF/two.pcap" --flow all --ip "$NEWB" --port 80
	bpid=$mf_pid
	mf_replay two -r "$MF/two.pcap" --flow all --dst "198.19.1.10=$NEWA" --dst "198.19.1.20:80=$NEWB:80" \
		--timeout 30 --seed 7
	mf_stop "$apid" twoa 10
	arrc=$mf_rrc arout=$mf_rout
	mf_stop "$bpid" twob 10
	ins ip addr del "$NEWA/24" dev vs
	name="many flows: --dst OLD=NEW sends each captured server's flows to its live one"
	if [ $mf_rc -eq 0 ] && summary_is 20 20 0 && [ $arrc -eq 0 ] && [ $mf_rrc -eq 0 ] &&
		grep -q '^summary: 10 sessions: 10 matched' <<<"$arout" &&
		grep -q '^summary: 10 sessions: 10 matched' <<<"$mf_rout"; then
		ok "$name"
	else
		not_ok "$name" "replayer exit $mf_rc, responders exit $arrc and $mf_rrc" "$mf_out" \
			"$(grep summary <<<"$arout")" "$(grep summary <<<"$mf_rout")"
	fi
else
	not_ok "many flows: --dst OLD=NEW" "could not add $NEWA to vs"
fi

# --- d. --any-client: flows of another captured client ------------------------
"$GEN" -n 4 -o "$MF/clients.pcap" --clients 198.18.0.1,198.19.2.9
mf_rsp anyc1 -r "$MF/clients.pcap" --flow all --ip 198.18.0.6 --port 80
apid=$mf_pid
mf_replay anyc1 -r "$MF/clients.pcap" --flow all --dst 198.18.0.6 --timeout 30 --seed 8
rc1=$mf_rc out1=$mf_out
mf_stop "$apid" anyc1 2
rrc1=$mf_rrc rout1=$mf_rout
mf_rsp anyc2 -r "$MF/clients.pcap" --flow all --ip 198.18.0.6 --port 80
apid=$mf_pid
mf_replay anyc2 -r "$MF/clients.pcap" --flow all --dst 198.18.0.6 --timeout 30 --seed 9 --any-client
mf_stop "$apid" anyc2 4
name="many flows: another client's flows are skipped (exit 0), replayed with --any-client"
if [ "$rc1" -eq 0 ] && grep -q '^summary: 4 flows: 2 matched, 0 diverged, 0 failed, 2 skipped' <<<"$out1" &&
	grep -q '^flow 2: skipped: 198\.19\.2\.9:20001 -> ' <<<"$out1" &&
	[ "$rrc1" -eq 0 ] && grep -q '^summary: 2 sessions: 2 matched' <<<"$rout1" &&
	[ $mf_rc -eq 0 ] && summary_is 4 4 0 && [ $mf_rrc -eq 0 ] &&
	grep -q '^summary: 4 sessions: 4 matched' <<<"$mf_rout"; then
	ok "$name"
else
	not_ok "$name" "without: exit $rc1, responder $rrc1; with: exit $mf_rc, responder $mf_rrc" "$out1" \
		"$(grep summary <<<"$rout1")" "$mf_out" "$(grep summary <<<"$mf_rout")"
fi

# --- e. --timing capture: flows start at their captured offsets ---------------
# 30 flows 50 ms apart: the last starts 1.45 s after the first.
"$GEN" -n 30 -o "$MF/spaced.pcap" --spacing-us 50000
mf_rsp spaced1 -r "$MF/spaced.pcap" --flow all --ip 198.18.0.6 --port 80
spid=$mf_pid
mf_replay spaced-asap -r "$MF/spaced.pcap" --flow all --dst 198.18.0.6 --timeout 30 --seed 10
rc1=$mf_rc secs1=$mf_secs out1=$mf_out
mf_stop "$spid" spaced1 30
mf_rsp spaced2 -r "$MF/spaced.pcap" --flow all --ip 198.18.0.6 --port 80
spid=$mf_pid
mf_replay spaced-cap -r "$MF/spaced.pcap" --flow all --dst 198.18.0.6 --timeout 30 --seed 11 --timing capture
mf_stop "$spid" spaced2 30
name="many flows: --timing capture spreads 30 flows over 1.45 s, asap does not"
if [ "$rc1" -eq 0 ] && grep -q '^summary: 30 flows: 30 matched' <<<"$out1" && [ $mf_rc -eq 0 ] &&
	summary_is 30 30 0 && awk -v a="$secs1" -v c="$mf_secs" 'BEGIN { exit !(c >= 1.4 && c < 10 && a < c) }'; then
	ok "$name (${mf_secs} s vs ${secs1} s)"
else
	not_ok "$name" "asap: exit $rc1 in ${secs1} s; capture: exit $mf_rc in ${mf_secs} s" "$out1" "$mf_out"
fi

# --- f. SIGINT in the middle: a summary, a whole JSON document, a recording ----
# 40 flows 100 ms apart with --timing capture, interrupted after about 1 s.
"$GEN" -n 40 -o "$MF/slow.pcap" --spacing-us 100000
mf_rsp slow -r "$MF/slow.pcap" --flow all --ip 198.18.0.6 --port 80
spid=$mf_pid
# Not through inc: a shell function in the background is a subshell, and
# the signal must reach the program.
ip netns exec "$C_NS" timeout 30 "$LP" -i vc -r "$MF/slow.pcap" --flow all --dst 198.18.0.6 --timing capture --seed 12 \
	--json "$MF/slow.json" --write "$MF/slow-live.pcap" > "$MF/slow-replay.out" 2>&1 &
ipid=$!
sleep 1.2
kill -INT "$ipid" 2>/dev/null
wait "$ipid"
irc=$?
kill -TERM "$spid" 2>/dev/null
wait "$spid"
iout=$(cat "$MF/slow-replay.out")
jwhy=$(python3 - "$MF/slow.json" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
t = d["totals"]
assert len(d["flows"]) == 40 == t["flows"], "flows %d" % len(d["flows"])
assert 0 < t["matched"] < 40, "matched %d" % t["matched"]
assert t["failed"] == 40 - t["matched"], t
assert d["exit_code"] == 1 and d["verdict"] == "failed", d["verdict"]
ns = sum(1 for f in d["flows"] if f["reason"] == "not started (interrupted)")
assert ns > 0, "no flow left unstarted"
print(t["matched"])
PY
)
jrc=$?
lflows=$("$LP" --list "$MF/slow-live.pcap" 2>/dev/null | sed -n 's/^# .* \([0-9]*\) TCP flows.*/\1/p')
name="many flows: SIGINT ends with a summary, a whole JSON report and the recording"
if [ "$irc" -eq 1 ] && [ "$jrc" -eq 0 ] && grep -q '^summary: 40 flows: [0-9]* matched, 0 diverged, [0-9]* failed' <<<"$iout" &&
	grep -q 'not started (interrupted)' <<<"$iout" && [ -n "$lflows" ] && [ "$lflows" -ge "$jwhy" ]; then
	ok "$name ($jwhy of 40 matched before the signal, $lflows flows recorded)"
else
	not_ok "$name" "exit $irc; JSON: $jwhy; recorded flows: ${lflows:-none}" "$(tail -12 <<<"$iout")"
fi

# --- g. IPv6: 100 flows to an emulated address (the responder answers NDP) ----
"$GEN" -n 100 -o "$MF/v6.pcap" --family 6 --req 2000 --resp 30000 --spacing-us 0
mf_rsp v6 -r "$MF/v6.pcap" --flow all --ip 2001:db8::6 --port 80
vpid=$mf_pid
mf_replay v6 -r "$MF/v6.pcap" --flow all --dst 2001:db8::6 --concurrency 50 --timeout 30 --seed 13
mf_stop "$vpid" v6 100
name="many flows: IPv6, 100 flows of 30 KB against an emulated host, 50 at once"
if [ $mf_rc -eq 0 ] && summary_is 100 100 0 && [ $mf_rrc -eq 0 ] &&
	grep -q '^summary: 100 sessions: 100 matched' <<<"$mf_rout"; then
	ok "$name (${mf_secs} s)"
else
	not_ok "$name" "replayer exit $mf_rc, responder exit $mf_rrc" "$(tail -8 <<<"$mf_out")" \
		"$(grep -v matched <<<"$mf_rout" | head -8)"
fi

# --- h. A real many-flow capture: POP3, 7 flows to 3 servers (2 refused) -------
POP3=${TCPLIVEPLAY_PCAPS:-../shared/pcaps}/zeek__pop3__pop3.pcap
name="many flows: the POP3 capture (7 flows, 3 servers, 2 refused) against one responder"
if [ -f "$POP3" ]; then
	mf_rsp pop3 -r "$POP3" --flow all --ip 198.18.0.6
	ppid=$mf_pid
	mf_replay pop3 -r "$POP3" --flow all --dst 198.18.0.6 --timeout 30 --seed 14
	mf_stop "$ppid" pop3 7
	if [ $mf_rc -eq 0 ] && summary_is 7 7 0 && [ $mf_rrc -eq 0 ] &&
		grep -q '^summary: 7 sessions: 7 matched' <<<"$mf_rout"; then
		ok "$name"
	else
		not_ok "$name" "replayer exit $mf_rc, responder exit $mf_rrc" "$mf_out" "$mf_rout"
	fi
else
	skipped "$name" "$POP3 absent (set TCPLIVEPLAY_PCAPS)"
fi

# --- i. Two shards at once against one responder ------------------------------
# 200 generated flows, 100 per shard, each shard its own process: every flow
# replayed exactly once, the shards' source ports disjoint, and the JSON
# reports combined by the jq one-liner of the README and the man page.
"$GEN" -n 200 -o "$MF/sh.pcap" --spacing-us 200
mf_rsp shards -r "$MF/sh.pcap" --flow all --ip 198.18.0.6 --port 80 --max-sessions 256
spid=$mf_pid
for k in 1 2; do
	ip netns exec "$C_NS" timeout 60 "$LP" -i vc -r "$MF/sh.pcap" --flow all --dst 198.18.0.6 --seed 15 \
		--shard $k/2 --timeout 30 --json "$MF/part$k.json" > "$MF/part$k.out" 2>&1 &
	eval "sh$k=\$!"
done
wait "$sh1"
src1=$?
wait "$sh2"
src2=$?
mf_stop "$spid" shards 200
jq -s '{flows: ([.[].flows[]] | sort_by(.flow.id)), exit_code: (map(.exit_code) | max),
  totals: (map(.totals) | {flows: (map(.flows) | add), matched: (map(.matched) | add),
  diverged: (map(.diverged) | add), failed: (map(.failed) | add),
  skipped: (map(.skipped) | add), data_unacked: (map(.data_unacked) | add)})}' "$MF/part1.json" "$MF/part2.json" \
	> "$MF/all.json" 2>&1
jwhy=$(python3 - "$MF/part1.json" "$MF/part2.json" "$MF/all.json" <<'PY' 2>&1
import json, sys
parts = [json.load(open(p)) for p in sys.argv[1:3]]
ports = []
for k, d in enumerate(parts, 1):
    ids = [f["flow"]["id"] for f in d["flows"]]
    assert len(ids) == 100 and d["totals"]["matched"] == 100, "shard %d: %d flows, %s" % (k, len(ids), d["totals"])
    assert all((i - 1) % 2 == k - 1 for i in ids), "shard %d replayed another shard's flow" % k
    ps = [int(f["flow"]["client"].rsplit(":", 1)[1]) for f in d["flows"]]
    ports.append((min(ps), max(ps)))
assert ports[0][1] < ports[1][0] or ports[1][1] < ports[0][0], "port blocks overlap: %s" % ports
c = json.load(open(sys.argv[3]))
assert [f["flow"]["id"] for f in c["flows"]] == list(range(1, 201)), "combined: not every flow exactly once"
assert c["totals"]["flows"] == 200 and c["totals"]["matched"] == 200 and c["exit_code"] == 0, c["totals"]
print("ports %d-%d and %d-%d" % (ports[0] + ports[1]))
PY
)
jrc=$?
name="many flows: two shards at once against one responder, 100 flows each, every flow once, disjoint ports"
if [ $src1 -eq 0 ] && [ $src2 -eq 0 ] && [ $jrc -eq 0 ] && [ $mf_rrc -eq 0 ] &&
	grep -q '^summary: 200 sessions: 200 matched' <<<"$mf_rout" &&
	grep -q '(0 skipped; shard 1/2; ' "$MF/part1.out" && grep -q '(0 skipped; shard 2/2; ' "$MF/part2.out"; then
	ok "$name ($jwhy)"
else
	not_ok "$name" "shards exit $src1 and $src2, responder $mf_rrc: $jwhy" "$(tail -3 "$MF/part1.out")" \
		"$(tail -3 "$MF/part2.out")" "$(grep -v matched <<<"$mf_rout" | head -5)"
fi

fi
rm -rf "$MF"

# SPDX-License-Identifier: GPL-2.0-or-later
# Faults in live replays, judged by what the *server* saw on its own
# interface (build/lp-record on vs, read back by tools/pcapcheck.py, which
# owes nothing to tcpliveplay's parsers): a real server (python3 -m
# http.server) retransmits what the replay dropped on arrival, probes the
# window the replay closed, receives the replay's reset, drops a segment
# with a bad checksum and takes its retransmission. A capture recorded with
# a loss after the capture point replays its own failure with --fault
# captured. The same plans against tcpliveplay-responder, both sides at once;
# the same seed and probabilistic plan give the same faults. Sourced by
# tests/e2e/run.sh; needs nothing earlier files set up.
#
#   +------------- lpc$$ -------------+      +---------------- lps$$ -----------------+
#   | vc  198.18.0.1                  |======| vs  198.18.0.2   http.server :8090     |
#   | tcpliveplay, curl, lp-record    | veth | lp-record, tcpliveplay-responder as    |
#   | (nftables ingress drop: case B) |      | 198.18.0.3 (not configured)            |
#   +---------------------------------+      +----------------------------------------+

PC=tests/e2e/tools/pcapcheck.py
RSP=$B/tcpliveplay-responder
FP=8090
FW=$T/fw
mkdir -p "$FW/www"
head -c 262144 /dev/urandom > "$FW/www/256k.bin"
head -c 65536 /dev/urandom > "$FW/www/64k.bin"
bg sh -c "cd '$FW/www' && exec ip netns exec '$S_NS' python3 -m http.server --bind 0.0.0.0 $FP \
	> '$FW/http.log' 2>&1"
wait_for 100 listening "$S_NS" $FP || not_ok "python3 -m http.server on $FP did not start"

# replay_rec NAME CAP ARGS...: replay CAP against the server while recording
# on its interface; sets out, rc, json (the JSON report) and rec (the file).
replay_rec() {
	rec=$FW/$1.srv.pcap
	cap=$2
	shift 2
	rm -f "$FW/r.json"
	out=$(record "$S_NS" vs "$rec" inc "$LP" -i vc -r "$cap" --dst "$S4:$FP" --timeout 30 --seed 5 \
		--json "$FW/r.json" "$@" 2>&1)
	rc=$?
	json=$(cat "$FW/r.json" 2>/dev/null)
}

# faults_of JSON: the faults as "side:kind:segment" words, in firing order;
# sorted_faults the same sorted.
faults_of() {
	jq -r '[.faults[] | .side + ":" + .kind + (if .segment then ":" + .segment else "" end)] | join(" ")' \
		<<<"$1" 2>/dev/null
}
sorted_faults() {
	faults_of "$1" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'
}

record "$C_NS" vc "$FW/get256k.pcap" inc curl -s -o /dev/null "http://$S4:$FP/256k.bin"
record "$C_NS" vc "$FW/get64k.pcap" inc curl -s -o /dev/null "http://$S4:$FP/64k.bin"

if [ -s "$FW/get256k.pcap" ] && [ -s "$FW/get64k.pcap" ]; then
	# A0: the control: no fault, no retransmission; a clean recording
	# makes no fault of its own.
	replay_rec none "$FW/get256k.pcap"
	n0=$(python3 "$PC" retransmits "$rec" $FP)
	clean=$("$LP" --dump --fault captured -r "$FW/get256k.pcap" | grep -c '^# --fault captured: 0 faults$')
	if [ $rc -eq 0 ] && [ "$n0" = 0 ] && [ "$(faults_of "$json")" = "" ] && [ "$clean" = 1 ]; then
		ok "live, no fault: matched, the server retransmitted nothing; the clean capture derives no fault"
	else
		not_ok "live, no fault: matched, nothing retransmitted, nothing derived" "exit $rc, retransmits $n0, clean $clean" "$out"
	fi

	# A1: the server's S3 dropped on arrival: the server retransmits it.
	replay_rec drop "$FW/get256k.pcap" --fault server:drop:S3 -v
	n=$(python3 "$PC" retransmits "$rec" $FP)
	if [ $rc -eq 0 ] && [ "$n" -ge 1 ] && [ "$(faults_of "$json")" = "server:drop:S3" ] &&
		grep -q 'server fault drop on S3' <<<"$out" && grep -q '^faults fired: 1$' <<<"$out"; then
		ok "live server:drop:S3: the server retransmitted ($n), matched, -v, summary and JSON name it"
	else
		not_ok "live server:drop:S3: the server retransmitted, matched" "exit $rc, retransmits $n" \
			"$json" "$(grep -v received <<<"$out" | tail -25)"
	fi

	# A2: our window closed for 600 ms once S2 is in: the server probes it.
	replay_rec zw "$FW/get256k.pcap" --fault client:zero-window:S2:600
	set -- $(python3 "$PC" zwprobes "$rec" $FP)
	if [ $rc -eq 0 ] && [ "${1:-0}" -ge 1 ] && [ "${2:-}" = yes ] &&
		[ "$(faults_of "$json")" = "client:zero-window:S2" ]; then
		ok "live client:zero-window:S2:600: the server sent $1 zero-window probes, then the rest; matched"
	else
		not_ok "live client:zero-window:S2:600: the server probes, matched" "exit $rc, probes ${1:-?} ${2:-?}" \
			"$json" "$out"
	fi

	# A3: a reset in place of C1: the server receives it; failed, the reason names it.
	replay_rec rst "$FW/get256k.pcap" --fault client:rst:C1
	n=$(python3 "$PC" rsts "$rec" $FP)
	if [ $rc -eq 1 ] && [ "$n" -ge 1 ] && grep -q '^verdict: failed (.*(fault client:rst:C1))' <<<"$out" &&
		[ "$(jq -r .verdict <<<"$json")" = failed ]; then
		ok "live client:rst:C1: the server received the reset; failed, exit 1, reason names the fault"
	else
		not_ok "live client:rst:C1: the server received the reset; failed" "exit $rc, resets $n" "$out"
	fi

	# A4: C1 with a bad checksum: the server's stack drops it, takes the
	# retransmission, and answers once.
	before=$(grep -c '"GET /256k.bin' "$FW/http.log")
	replay_rec corrupt "$FW/get256k.pcap" --fault client:corrupt:C1
	set -- $(python3 "$PC" badsum "$rec" $FP)
	after=$(grep -c '"GET /256k.bin' "$FW/http.log")
	if [ $rc -eq 0 ] && [ "${1:-0}" = 1 ] && [ "${2:-0}" = 1 ] && [ "$after" -eq $((before + 1)) ]; then
		ok "live client:corrupt:C1: the server dropped it, acknowledged the retransmission, one GET; matched"
	else
		not_ok "live client:corrupt:C1: dropped, then the retransmission taken" "exit $rc, badsum ${1:-?} ${2:-?}, GETs $before -> $after" "$out"
	fi

	# A5: the same seed and probabilistic plan: the same faults, run after
	# run. A conversation of 20 round trips (socat echo), so that what each
	# side sends, and sends again, follows from what was lost.
	bg ip netns exec "$S_NS" socat TCP-LISTEN:8091,reuseaddr,fork EXEC:cat
	wait_for 100 listening "$S_NS" 8091
	echo20() {
		for i in $(seq 1 20); do
			echo "round trip $i"
			sleep 0.02
		done | inc socat -t 1 - "TCP:$S4:8091" > /dev/null
	}
	record "$C_NS" vc "$FW/echo.pcap" echo20
	lists=""
	good=0
	for _ in 1 2 3; do
		rm -f "$FW/r.json"
		inc "$LP" -i vc -r "$FW/echo.pcap" --dst "$S4:8091" --timeout 60 --seed 21 --json "$FW/r.json" \
			--fault client:loss:20% --fault server:loss:20% > /dev/null 2>&1
		rc=$?
		l=$(faults_of "$(cat "$FW/r.json" 2>/dev/null)")
		[ $rc -eq 0 ] && [ "$(wc -w <<<"$l")" -ge 3 ] && good=$((good + 1))
		lists="$lists$l
"
	done
	if [ $good -eq 3 ] && [ "$(sort -u <<<"$lists" | grep -c .)" -eq 1 ]; then
		ok "the same seed and loss plan, 3 runs: matched, the same faults ($(head -1 <<<"$lists"))"
	else
		not_ok "the same seed and loss plan, 3 runs: the same faults" "$lists"
	fi

	# A6: many flows at once, each with the plan.
	cp "$FW/get64k.pcap" "$FW/two-a.pcap"
	record "$C_NS" vc "$FW/two.pcap" inc curl -s -o /dev/null -o /dev/null "http://$S4:$FP/64k.bin" "http://$S4:$FP/64k.bin"
	out=$(inc "$LP" -i vc -r "$FW/two.pcap" --flow all --dst "$S4:$FP" --timeout 30 --seed 3 \
		--fault server:drop:S2 --fault client:delay:C1:100 --json - 2>&1)
	rc=$?
	nf=$(jq '[.flows[] | select(.verdict == "matched") | .faults | map(.kind + ":" + .segment) | sort |
		select(. == ["delay:C1", "drop:S2"])] | length' <<<"$out" 2>/dev/null)
	if [ $rc -eq 0 ] && [ "$nf" = 2 ] && [ "$(jq .totals.faults_fired <<<"$out")" = 4 ]; then
		ok "--flow all with faults: each of 2 flows matched with its own drop:S2 and delay:C1"
	else
		not_ok "--flow all with faults: each flow with its own faults" "exit $rc" "$out"
	fi
else
	skipped "live faults against http.server" "the lab recordings failed"
fi

# B: a loss after the capture point: the client's ingress drops the server's
# sixth full segment after the recorder saw it (lab facts in DESIGN.md); the
# kernel client gets it again by retransmission, and the capture shows both.
if command -v nft >/dev/null 2>&1 && inc nft -f - <<EOF
table netdev lp13 {
	chain in {
		type filter hook ingress device vc priority 0;
		tcp sport $FP meta length > 1000 numgen inc mod 1000000 == 5 counter drop
	}
}
EOF
then
	record "$C_NS" vc "$FW/lossy.pcap" inc curl -s -o "$FW/got" "http://$S4:$FP/256k.bin"
	dropped=$(inc nft list table netdev lp13 | grep -o 'packets [0-9]*' | awk '{print $2}')
	inc nft delete table netdev lp13
	plan=$("$LP" --dump --fault captured -r "$FW/lossy.pcap" | sed -n '/^# --fault captured/,$p')
	seg=$(grep -o '^server:drop:S[0-9]*' <<<"$plan" | head -1)
	if cmp -s "$FW/got" "$FW/www/256k.bin" && [ "$dropped" = 1 ] && [ -n "$seg" ]; then
		ok "a capture with a loss after the capture point: --dump --fault captured says $seg"
	else
		not_ok "a capture with a loss after the capture point: --dump --fault captured" "dropped ${dropped:-?}" "$plan"
	fi
	replay_rec capno "$FW/lossy.pcap"
	n0=$(python3 "$PC" retransmits "$rec" $FP)
	rc0=$rc
	replay_rec capyes "$FW/lossy.pcap" --fault captured
	n1=$(python3 "$PC" retransmits "$rec" $FP)
	if [ $rc0 -eq 0 ] && [ $rc -eq 0 ] && [ "$n0" = 0 ] && [ "$n1" -ge 1 ] &&
		grep -qw "$seg" <<<"$(faults_of "$json")"; then
		ok "--fault captured: the real server retransmits ($n1) as in the capture; without it, it does not"
	else
		not_ok "--fault captured: the real server retransmits; without it, it does not" \
			"without: exit $rc0, retransmits $n0; with: exit $rc, retransmits $n1" "$json" "$out"
	fi
else
	skipped "a loss after the capture point" "no nftables netdev ingress here"
fi

# C: tcpliveplay against tcpliveplay-responder, both misbehaving at once.
E=198.18.0.3
# pair_rsp CAP RESPONDER-FAULTS -- REPLAYER-ARGS: sets lrc, lout, ljson, rrc, rout, rjson.
pair_rsp() {
	pcap=$1
	rf=$2
	shift 3
	rm -f "$FW/rsp.out" "$FW/rsp.json" "$FW/l.json"
	# shellcheck disable=SC2086
	ip netns exec "$S_NS" timeout 60 "$RSP" -i vs -r "$pcap" --ip $E --port $FP --once --idle-timeout 15 \
		--seed 11 --json "$FW/rsp.json" $rf > "$FW/rsp.out" 2>&1 &
	rpid=$!
	wait_for 50 grep -q '^serving' "$FW/rsp.out" || kill "$rpid" 2>/dev/null
	lout=$(inc timeout 60 "$LP" -i vc -r "$pcap" --dst "$E:$FP" --timeout 30 --seed 5 --json "$FW/l.json" "$@" 2>&1)
	lrc=$?
	wait "$rpid"
	rrc=$?
	rout=$(cat "$FW/rsp.out")
	ljson=$(cat "$FW/l.json" 2>/dev/null)
	rjson=$(cat "$FW/rsp.json" 2>/dev/null)
}

if [ -s "$FW/get64k.pcap" ]; then
	pair_rsp "$FW/get64k.pcap" "--fault client:drop:C1 --fault server:drop:S2 --fault server:zero-window:C1:300" -- \
		--fault server:drop:S4 --fault client:zero-window:S3:300 --fault client:dup:C1
	lf=$(sorted_faults "$ljson")
	rf=$(sorted_faults "$rjson")
	if [ $lrc -eq 0 ] && [ $rrc -eq 0 ] && [ "$lf" = "client:dup:C1 client:zero-window:S3 server:drop:S4" ] &&
		[ "$rf" = "client:drop:C1 server:drop:S2 server:zero-window:C1" ]; then
		ok "replayer and responder both misbehaving: both matched, each lists its own faults"
	else
		not_ok "replayer and responder both misbehaving: both matched" "replayer exit $lrc: $lf" \
			"responder exit $rrc: $rf" "$lout" "$rout"
	fi
	pair_rsp "$FW/get64k.pcap" "--fault server:rst:S3" -- --fault client:window:2048
	if [ $lrc -eq 1 ] && grep -q '^verdict: failed (reset by peer)' <<<"$lout" && [ $rrc -eq 1 ] &&
		grep -q 'verdict failed (.*(fault server:rst:S3))' <<<"$rout" &&
		[ "$(faults_of "$ljson")" = "client:window" ]; then
		ok "responder server:rst:S3 against a slow reader: both failed, the responder names its fault"
	else
		not_ok "responder server:rst:S3: both failed, the responder names its fault" "replayer exit $lrc" \
			"$lout" "responder exit $rrc" "$rout"
	fi
	if [ -s "$FW/lossy.pcap" ]; then
		pair_rsp "$FW/lossy.pcap" "--fault captured" -- --fault captured
		if [ $lrc -eq 0 ] && [ $rrc -eq 0 ] && [ "$(jq .faults_fired <<<"$ljson")" -ge 1 ] &&
			[ "$(jq .faults_fired <<<"$rjson")" -ge 1 ]; then
			ok "--fault captured on both sides: the responder drops its segment, the replayer the retransmission; matched"
		else
			not_ok "--fault captured on both sides: matched" "replayer exit $lrc" "$lout" "responder exit $rrc" "$rout"
		fi
	fi
else
	skipped "faults against the responder" "the lab recordings failed"
fi

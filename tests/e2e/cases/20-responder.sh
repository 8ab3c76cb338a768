# SPDX-License-Identifier: GPL-2.0-or-later
# tcpliveplay against tcpliveplay-responder: the responder emulates a host the
# lab does not have (198.18.0.3 / 2001:db8::3) on vs, tcpliveplay replays the
# client side from vc. Sourced by tests/e2e/run.sh.
#
#   +------------- lpc$$ -------------+      +---------------- lps$$ -----------------+
#   | vc  198.18.0.1  2001:db8::1     |======| vs  198.18.0.2  2001:db8::2            |
#   | tcpliveplay --dst 198.18.0.3    | veth | tcpliveplay-responder --ip 198.18.0.3  |
#   +---------------------------------+      +----------------------------------------+
#
# The captures' own addresses are real-world ones: the replay only ever uses
# the lab's, since the engines do not care which addresses were captured.

RSP=$B/tcpliveplay-responder
PCAPS=${TCPLIVEPLAY_PCAPS:-../shared/pcaps}
E4=198.18.0.3
E6=2001:db8::3

# pair CAP FAMILY PORT [RESPONDER OPTIONS...]: the responder serves one
# session of CAP on the emulated address while tcpliveplay replays CAP against
# it. Sets lrc/lout (replayer) and rrc/rout (responder). With PAIR_STDIN set,
# the responder reads that file as standard input (-r -) instead. The
# replayer waits 5 s for a silent host (--patience), not the whole --timeout.
pair() {
	pcap=$1
	pfam=$2
	pport=$3
	shift 3
	if [ "$pfam" = 6 ]; then pip=$E6; pdst="[$E6]:$pport"; else pip=$E4; pdst="$E4:$pport"; fi
	rsrc=$pcap
	[ -z "${PAIR_STDIN:-}" ] || rsrc=-
	rm -f "$T/rsp.out"
	ip netns exec "$S_NS" timeout 60 "$RSP" -i vs -r "$rsrc" --ip "$pip" --port "$pport" --once \
		--idle-timeout 12 --seed 11 "$@" < "${PAIR_STDIN:-/dev/null}" > "$T/rsp.out" 2>&1 &
	rpid=$!
	if ! wait_for 50 grep -q '^serving' "$T/rsp.out"; then
		kill "$rpid" 2>/dev/null
	fi
	lout=$(inc timeout 60 "$LP" -i vc -r "$pcap" --dst "$pdst" --timeout 20 --patience 5 --rto 200 --seed 5 2>&1)
	lrc=$?
	wait "$rpid"
	rrc=$?
	rout=$(cat "$T/rsp.out")
}

# The replayable single-flow captures: "FILE FAMILY PORT" lines.
candidates() {
	for f in "$PCAPS"/*; do
		[ -f "$f" ] || continue
		list=$("$LP" --list "$f" 2>/dev/null) || continue
		flows=$(grep -v '^#' <<<"$list")
		[ "$(grep -c . <<<"$flows")" -eq 1 ] || continue
		grep -q ' holes=none ' <<<"$flows" || continue
		cbytes=$(sed -n 's/.* c2s=[0-9]*pkt\/\([0-9]*\)B .*/\1/p' <<<"$flows")
		[ "${cbytes:-0}" -gt 0 ] || continue
		server=$(awk '{print $4}' <<<"$flows")
		port=${server##*:}
		case $server in
		\[*) echo "$f 6 $port" ;;
		*) echo "$f 4 $port" ;;
		esac
	done
}

matched_both() {
	[ "$lrc" -eq 0 ] && grep -q '^verdict: matched' <<<"$lout" && [ "$rrc" -eq 0 ] &&
		grep -q 'verdict matched' <<<"$rout"
}

# 0: the exit-status contract for bad usage (no lab needed, but cheap here).
bad=""
"$RSP" --help | grep -q '^Usage: tcpliveplay-responder' || bad="$bad --help"
for args in "-r x.pcap" "-i vs" "-i vs -r x.pcap --fault bogus:1" "-i vs -r x.pcap --fault client:stall:1" \
	"-i vs -r x.pcap --max-sessions 0" "-i vs -r x.pcap --port 70000" "-i vs -r x.pcap --ip 1.2.3"; do
	# shellcheck disable=SC2086
	ins "$RSP" $args >/dev/null 2>&1
	[ $? -eq 2 ] || bad="$bad [$args]"
done
if [ -z "$bad" ]; then ok "responder usage errors exit 2"; else not_ok "responder usage errors exit 2" "$bad"; fi

# 1-2: every complete single-flow capture, with the emulated address not
# configured (the responder answers ARP/NDP) and then configured on vs (the
# responder installs its RST guard).
cands=""
[ -d "$PCAPS" ] && cands=$(candidates)
if [ -n "$cands" ]; then
	for mode in unconfigured configured; do
		if [ $mode = configured ]; then
			if ! { ins ip addr add "$E4/24" dev vs && ins ip addr add "$E6/64" dev vs nodad; }; then
				not_ok "configure $E4 and $E6 on vs"
			fi
		fi
		while read -r f fam port; do
			name="responder ($mode address) $(basename "$f") IPv$fam"
			# A lab server on the port would answer the emulated address too.
			if [ $mode = configured ] && listening "$S_NS" "$port"; then
				name="$name (port $port taken, 18000)"
				port=18000
			fi
			pair "$f" "$fam" "$port"
			if [ $mode = configured ]; then how='RST guard on'; else how='answering ARP/NDP'; fi
			if matched_both && grep -q "^serving .*$how" <<<"$rout"; then
				ok "$name"
			else
				not_ok "$name" "replayer exit $lrc, responder exit $rrc" "$lout" "$rout"
			fi
		done <<<"$cands"
		if [ $mode = configured ]; then
			ins ip addr del "$E4/24" dev vs
			ins ip addr del "$E6/64" dev vs
		fi
	done
else
	skipped "responder with every capture of $PCAPS" "folder absent or no complete single-flow capture (set TCPLIVEPLAY_PCAPS)"
fi

# The capture for the fault cases: the curl GET recorded by 10-live.sh, so
# that they run on a fresh clone too.
FCAP=$T/get1k-v4.pcap
fport=8000
if [ ! -s "$FCAP" ] && [ -f "$PCAPS/zeek__get.pcap" ]; then
	FCAP=$PCAPS/zeek__get.pcap
	fport=80
fi

if [ -s "$FCAP" ]; then
	# 3: the seed document's failure run: the host's answer is shorter than
	# captured; the replayer waits, gives up, and says so the same way 3 times.
	verdicts=""
	rverdicts=""
	good=0
	for _ in 1 2 3; do
		pair "$FCAP" 4 "$fport" --fault truncate:1:10
		v=$(grep '^verdict:' <<<"$lout")
		if [ "$lrc" -eq 1 ] && grep -Eq '^verdict: (diverged|failed)' <<<"$v"; then
			good=$((good + 1))
		fi
		verdicts="$verdicts$v
"
		# The responder's side of it is the same every time too.
		rverdicts="$rverdicts$(grep 'verdict' <<<"$rout")
"
	done
	if [ $good -eq 3 ] && [ "$(sort -u <<<"$verdicts" | grep -c .)" -eq 1 ] &&
		[ "$(sort -u <<<"$rverdicts" | grep -c .)" -eq 1 ]; then
		ok "short answer (truncate:1:10): same verdict on 3 runs of 3 ($(head -1 <<<"$verdicts"))"
	else
		not_ok "short answer (truncate:1:10): same verdict on 3 runs of 3" "$verdicts" "$rverdicts"
	fi

	# 4: each fault kind gives the replayer's documented verdict and exit status.
	while read -r fault want wrc extra; do
		pair "$FCAP" 4 "$fport" --fault "$fault"
		name="fault $fault: replayer $want, exit $wrc"
		# The fault really fired on the responder's side.
		if [ "$lrc" -eq "$wrc" ] && grep -q "^verdict: $want" <<<"$lout" &&
			grep -q 'faults fired [1-9]' <<<"$rout" &&
			{ [ -z "$extra" ] || grep -Eq "$extra" <<<"$lout"; }; then
			ok "$name"
		else
			not_ok "$name" "replayer exit $lrc" "$lout" "$rout"
		fi
	done <<-EOF
		drop:1 matched 0
		dup:1 matched 0
		delay:1:300 matched 0
		reorder:1 matched 0
		corrupt:1 matched 0
		truncate:2:5 diverged 1
		stall:2 diverged 1
		rst:2 failed 1 reset by peer
		client-drop:1 matched 0 ^retransmissions: [1-9]
	EOF

	# 4b: compressed captures: the responder reads the capture gzip-compressed
	# from standard input, the replayer reads it zstd-compressed.
	gzip -c "$FCAP" > "$T/fcap.gz"
	zstd -q -c "$FCAP" > "$T/fcap.zst"
	PAIR_STDIN=$T/fcap.gz pair "$T/fcap.zst" 4 "$fport"
	if matched_both && grep -q '^serving flow 1 of standard input ' <<<"$rout"; then
		ok "compressed captures: responder -r - (gzip), replayer -r FILE.zst"
	else
		not_ok "compressed captures: responder -r - (gzip), replayer -r FILE.zst" \
			"replayer exit $lrc, responder exit $rrc" "$lout" "$rout"
	fi

	# 5: an emulated host: echo replies, RSTs for closed ports, sessions past
	# --max-sessions refused, a summary on SIGTERM.
	rm -f "$T/host.out"
	ip netns exec "$S_NS" timeout 60 "$RSP" -i vs -r "$FCAP" --ip "$E4" --port "$fport" \
		--max-sessions 1 --seed 3 > "$T/host.out" 2>&1 &
	hpid=$!
	wait_for 50 grep -q '^serving' "$T/host.out"
	inc ping -c1 -W2 "$E4" >/dev/null 2>&1
	prc=$?
	# A closed port: refused at once (RST), not a timeout.
	out=$(inc timeout 5 bash -c "exec 3<>/dev/tcp/$E4/$((fport + 1))" 2>&1)
	crc=$?
	kill -TERM "$hpid" 2>/dev/null
	wait "$hpid"
	hrc=$?
	hout=$(cat "$T/host.out")
	if [ $prc -eq 0 ] && [ $crc -eq 1 ] && grep -q 'refused' <<<"$out" && [ $hrc -eq 0 ] &&
		grep -q '^summary: 0 sessions: .* 1 resets, 1 echo replies sent' <<<"$hout"; then
		ok "emulated host: echo reply, RST for a closed port, summary on SIGTERM"
	else
		not_ok "emulated host: echo reply, RST for a closed port, summary on SIGTERM" \
			"ping $prc, connect $crc ($out), responder exit $hrc" "$hout"
	fi

	# 7: real clients: five curl at once (the kernel's TCP, not our engine)
	# against one responder serving the recorded GET; each gets the captured
	# body, and the responder counts five matched sessions.
	if [ "$FCAP" = "$T/get1k-v4.pcap" ]; then
		rm -f "$T/multi.out" "$T"/curl-*.bin
		ip netns exec "$S_NS" timeout 60 "$RSP" -i vs -r "$FCAP" --ip "$E4" --port 8000 --seed 9 \
			--json "$T/multi.json" > "$T/multi.out" 2>&1 &
		mpid=$!
		wait_for 50 grep -q '^serving' "$T/multi.out"
		cpids=""
		for i in 1 2 3 4 5; do
			inc curl -s -m 15 -o "$T/curl-$i.bin" "http://$E4:8000/1k.bin" &
			cpids="$cpids $!"
		done
		cfail=0
		for p in $cpids; do wait "$p" || cfail=$((cfail + 1)); done
		same=0
		for i in 1 2 3 4 5; do cmp -s "$T/curl-$i.bin" "$T/www/1k.bin" && same=$((same + 1)); done
		wait_for 50 sh -c "[ \$(grep -c . '$T/multi.json' 2>/dev/null) -ge 5 ]"
		kill -TERM "$mpid" 2>/dev/null
		wait "$mpid"
		mrc=$?
		mout=$(cat "$T/multi.out")
		if [ $cfail -eq 0 ] && [ $same -eq 5 ] && [ $mrc -eq 0 ] &&
			grep -q '^summary: 5 sessions: 5 matched' <<<"$mout" &&
			[ "$(grep -c '"verdict":"matched"' "$T/multi.json")" -eq 5 ]; then
			ok "five curl clients at once: captured body each, 5 sessions matched"
		else
			not_ok "five curl clients at once: captured body each, 5 sessions matched" \
				"curl failures $cfail, bodies equal $same/5, responder exit $mrc" "$mout"
		fi
	fi

	# 6: serving a configured address on a port a real server listens on
	# (the lab's http.server on 8000) would give two answers: refused, exit 3.
	if listening "$S_NS" 8000 && ins ip addr add "$E4/24" dev vs; then
		out=$(ins timeout 10 "$RSP" -i vs -r "$FCAP" --ip "$E4" --port 8000 --once 2>&1)
		rc=$?
		ins ip addr del "$E4/24" dev vs
		if [ $rc -eq 3 ] && grep -q 'listens on that port' <<<"$out"; then
			ok "a listener on the served port: exit 3"
		else
			not_ok "a listener on the served port: exit 3" "exit $rc" "$out"
		fi
	else
		skipped "a listener on the served port" "no http.server on 8000 in the lab"
	fi
else
	skipped "responder faults" "no capture to serve (10-live.sh recording failed and no $PCAPS/zeek__get.pcap)"
fi

# 8: a capture that ends with the server's reset of a stray ACK. After the
# close, an ACK from the middle of the echo arrives late (stray-ack.py, as
# one reordered on the way would) and the server, its connection gone,
# answers <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1): a reset whose sequence
# number lies inside the stream it sent. The responder resets after all its
# bytes, as the server did, not in place of the bytes above that number:
# both matched, the replay with every byte of the echo.
bg ip netns exec "$S_NS" socat TCP-LISTEN:7501,reuseaddr,fork,pf=ip6,ipv6only=0 EXEC:cat
head -c 100000 /dev/urandom > "$T/stray.bin"
if wait_for 100 listening "$S_NS" 7501; then
	for fam in 4 6; do
		if [ $fam = 4 ]; then c=$C4; s=$S4; d="$S4:7501"; else c=$C6; s=$S6; d="[$S6]:7501"; fi
		name="a capture ending with the server's reset of a late stray ACK, IPv$fam: the responder resets after all its bytes, both matched"
		record "$C_NS" vc "$T/stray$fam.pcap" inc sh -c "python3 tests/e2e/tools/stray-ack.py vc $c $s 7501 50000 \
			> '$T/stray.out' 2>&1 & sleep 0.3; socat -t 3 - TCP:$d < '$T/stray.bin' > /dev/null; wait"
		list=$("$LP" --list "$T/stray$fam.pcap" 2>&1)
		pair "$T/stray$fam.pcap" "$fam" 7501
		if grep -qx sent "$T/stray.out" && grep -q ' fin=cs rst=s ' <<<"$list" && matched_both &&
			grep -q '^received: [0-9]* segments, 100000 bytes' <<<"$lout"; then
			ok "$name"
		else
			not_ok "$name" "stray ACK: $(cat "$T/stray.out"); replayer exit $lrc, responder exit $rrc" \
				"$list" "$lout" "$rout"
		fi
	done
else
	not_ok "stray ACK: no socat echo on 7501"
fi

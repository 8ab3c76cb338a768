# SPDX-License-Identifier: GPL-2.0-or-later
# A hostile network against tcpliveplay-responder: 100,000 random and
# malformed frames, then a SYN flood past --max-sessions, from the client
# namespace to the responder's lab address only. The responder stays up with
# bounded memory and then serves a legitimate replay to "matched".
# Sourced by tests/e2e/run.sh (after 20-responder.sh).

HOST=198.18.0.3
rm -f "$T/hostile.out"
ip netns exec "$S_NS" timeout 120 "$B/tcpliveplay-responder" -i vs -r "$T/get1k-v4.pcap" --ip "$HOST" \
	--port 8000 --max-sessions 64 --idle-timeout 3 --seed 5 > "$T/hostile.out" 2>&1 &
hpid=$!
if wait_for 50 grep -q '^serving' "$T/hostile.out"; then
	rss() { awk '/^VmRSS/ { print $2 }' "/proc/$hpid/status" 2>/dev/null || echo 0; }
	rss0=$(rss)
	smac=$(ins cat /sys/class/net/vs/address)
	inc timeout 120 python3 tests/e2e/tools/blast.py vc "$smac" "$C4" "$HOST" 8000 100000 2000 1
	brc=$?
	sleep 0.5
	rss1=$(rss)
	alive=0
	kill -0 "$hpid" 2>/dev/null && alive=1
	# Half-open flood sessions end by the idle timeout, or by the RST the
	# client host's kernel sends for SYN-ACKs it never asked for.
	sleep 4
	out=$(inc "$LP" -i vc -r "$T/get1k-v4.pcap" --dst "$HOST:8000" --timeout 20 2>&1)
	rc=$?
	kill -TERM "$hpid" 2>/dev/null
	wait "$hpid"
	grown=$(( (rss1 - rss0) / 1024 ))
	if [ $brc -eq 0 ] && [ $alive -eq 1 ] && [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
		[ "$grown" -lt 32 ] && grep -q 'refused' "$T/hostile.out"; then
		ok "responder survives 100,000 hostile frames and a SYN flood (RSS +${grown} MB), then matches"
	else
		not_ok "responder survives 100,000 hostile frames and a SYN flood, then matches" \
			"blast exit $brc, alive $alive, replay exit $rc, RSS ${rss0} -> ${rss1} kB" "$out" \
			"$(tail -5 "$T/hostile.out")"
	fi
else
	kill "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	not_ok "responder for the hostile test did not start" "$(cat "$T/hostile.out")"
fi

# SPDX-License-Identifier: GPL-2.0-or-later
# More real servers, recorded here with real clients and replayed:
# a multi-round-trip echo (socat EXEC:cat), a server that speaks first
# (a socat banner server), and SIGINT in the middle of a replay.
# Sourced by tests/e2e/run.sh.

bg ip netns exec "$S_NS" socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat
bg ip netns exec "$S_NS" socat TCP-LISTEN:2100,reuseaddr,fork \
	SYSTEM:'echo 220 lab ready; read a; echo 250 hello $a; read b; echo 221 bye'
wait_for 100 listening "$S_NS" 7000
wait_for 100 listening "$S_NS" 2100

# 20 round trips: each line goes once the echo of the previous one is back.
echo_client() {
	for i in $(seq 1 20); do
		echo "round trip $i"
		sleep 0.02
	done | inc socat -t 1 - "TCP:$S4:7000" > "$T/echo.out"
}
record "$C_NS" vc "$T/echo.pcap" echo_client
banner_client() {
	{ sleep 0.2; echo "HELO lab"; sleep 0.2; echo "QUIT"; sleep 0.2; } |
		inc socat -t 1 - "TCP:$S4:2100" > "$T/banner.out"
}
record "$C_NS" vc "$T/banner.pcap" banner_client

for c in echo banner; do
	out=$(inc "$LP" -i vc -r "$T/$c.pcap" --dst "$S4" --match bytes --timeout 20 2>&1)
	rc=$?
	segs=$("$LP" --dump -r "$T/$c.pcap" | grep -c ' S[0-9]')
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && [ "$segs" -ge 3 ]; then
		ok "live replay against socat: $c ($segs server messages, --match bytes)"
	else
		not_ok "live replay against socat: $c" "exit $rc, $segs server messages" "$out"
	fi
done

# The banner server really spoke first: S1 precedes C1 in the schedule.
first=$("$LP" --dump -r "$T/banner.pcap" | grep -Eo ' [CS]1 ' | head -1)
if [ "$first" = " S1 " ]; then
	ok "server-speaks-first capture: S1 before C1"
else
	not_ok "server-speaks-first capture: S1 before C1" "first data segment: $first"
fi

# SIGINT ends a replay cleanly with the partial summary (the sink on 8001,
# from 10-live.sh, accepts and never answers).
ip netns exec "$C_NS" "$LP" -i vc -r "$T/get1k-v4.pcap" --dst "$S4:8001" --timeout 30 \
	> "$T/int.out" 2>&1 &
ipid=$!
wait_for 50 grep -q '^live:' "$T/int.out"
sleep 0.3
kill -INT $ipid
wait $ipid
rc=$?
if [ $rc -eq 1 ] && grep -q '^verdict: failed (.*interrupted' "$T/int.out" && grep -q '^sent: 1 segment,' "$T/int.out"; then
	ok "SIGINT: partial summary, verdict failed (interrupted), exit 1"
else
	not_ok "SIGINT: partial summary, verdict failed (interrupted), exit 1" "exit $rc" "$(cat "$T/int.out")"
fi

# SPDX-License-Identifier: GPL-2.0-or-later
# TCP conformance against a real Linux stack (doc/conformance.md): a
# bidirectional bulk transfer through a real echo server, one of whose
# segments is lost after the capture point (SACK blocks and full-sized
# segments together); a silent server and --timeout (the host gets a reset,
# its connection is gone); a same-seed rerun after kill -9 (the old
# connection is reset, the new one connects at once); a responder session
# cut short by its idle limit resets a real client.
# Sourced by tests/e2e/run.sh; needs nothing earlier files set up.
#
#   lpc$$ (vc) ============== veth ============== (vs) lps$$
#   tcpliveplay, socat                    socat echo :7101, sink :7103,
#                                         banner :7104, responder 198.18.0.4,
#                                         nftables netdev egress drop on vs

bg ip netns exec "$S_NS" socat TCP-LISTEN:7101,reuseaddr,fork EXEC:cat
bg ip netns exec "$S_NS" socat -u TCP-LISTEN:7103,reuseaddr,fork OPEN:/dev/null
bg ip netns exec "$S_NS" socat TCP-LISTEN:7104,reuseaddr,fork SYSTEM:'echo 220 ready; read a; echo 250 ok'
for p in 7101 7103 7104; do
	wait_for 100 listening "$S_NS" $p || not_ok "socat on port $p did not start"
done
# One packet at the server's egress is one segment (lab facts, DESIGN.md).
ins ip link set vs gso_max_segs 1

# established PORT: connections the server holds on PORT.
established() {
	ins ss -Htn state established "( sport = :$1 )" | wc -l
}

head -c 1048576 /dev/urandom > "$T/c-bulk"
record "$C_NS" vc "$T/c-bulk.pcap" inc sh -c "socat -t 3 - TCP:$S4:7101 < '$T/c-bulk' > '$T/c-bulk.echo'"
cmp -s "$T/c-bulk" "$T/c-bulk.echo" || not_ok "record the bulk echo" "socat did not get its bytes back"
record "$C_NS" vc "$T/c-lines.pcap" inc sh -c \
	"{ echo one; sleep 0.2; echo two; sleep 0.2; } | socat -t 1 - TCP:$S4:7101 > /dev/null"
record "$C_NS" vc "$T/c-banner.pcap" inc sh -c \
	"{ sleep 0.2; echo HELO; sleep 0.2; } | socat -t 1 - TCP:$S4:7104 > /dev/null"

# 1: the echo server's Nth full-sized segment is dropped at its egress, so
# the replay holds the data after it and sends SACK blocks while its own
# full-sized segments go (--timing capture keeps them coming): options and
# data within the MSS, not a 1512-byte packet and "Message too long".
for n in 100 200 300; do
	name="bulk echo, server segment $n lost after the capture point: SACK within the MSS, matched"
	ins nft -f - <<EOF
table netdev lp19
delete table netdev lp19
table netdev lp19 {
	chain out {
		type filter hook egress device vs priority 0;
		tcp sport 7101 meta length > 1000 numgen inc mod 1000000 == $n counter drop
	}
}
EOF
	out=$(inc "$LP" -i vc -r "$T/c-bulk.pcap" --dst "$S4:7101" --timing capture --timeout 30 2>&1)
	rc=$?
	dropped=$(ins nft list table netdev lp19 | grep -c 'counter packets 1 ')
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && [ "$dropped" -eq 1 ]; then
		ok "$name"
	else
		not_ok "$name" "exit $rc, dropped $dropped" "$out"
	fi
done
ins nft delete table netdev lp19

# 2: a silent server and --timeout: the replay resets its connection, as a
# kernel does when a socket with unread data is closed.
name="silent server, --timeout: the host gets a reset, its connection is gone"
out=$(inc "$LP" -i vc -r "$T/c-lines.pcap" --dst "$S4:7103" --timeout 1 -v 2>&1)
rc=$?
sleep 0.2
left=$(established 7103)
if [ $rc -eq 1 ] && grep -q '^verdict: failed (.*timed out' <<<"$out" &&
	grep -q 'client sends RST (connection aborted)' <<<"$out" && [ "$left" -eq 0 ]; then
	ok "$name"
else
	not_ok "$name" "exit $rc, $left connection(s) left on the server" "$(grep -v received <<<"$out")"
fi

# 3: kill -9 leaves the connection open on the host (nothing can reset it).
# A rerun with the same seed (same port, ISN and timestamps) meets it: the
# host answers the SYN with an ACK of the old connection (RFC 5961 4), here
# acknowledging the SYN's very number (the banner flow sent nothing) but
# echoing a timestamp the new SYN never carried. The replayer resets it and
# sends its SYN again at once (as Linux does), and connects.
name="same-seed rerun after kill -9: the old connection reset, connected at once"
ip netns exec "$C_NS" "$LP" -i vc -r "$T/c-banner.pcap" --dst "$S4:7103" --seed 1919 --timeout 20 -v \
	> "$T/c-first.out" 2>&1 &
lpid=$!
wait_for 50 grep -q 'client connected' "$T/c-first.out"
kill -9 $lpid
wait $lpid 2>/dev/null
sleep 0.3
before=$(established 7103)
out=$(inc "$LP" -i vc -r "$T/c-banner.pcap" --dst "$S4:7103" --seed 1919 --timeout 1 -v 2>&1)
rc=$?
sleep 0.2
after=$(established 7103)
at=$(awk '/client connected/ { print $1; exit }' <<<"$out")
if [ "$before" -eq 1 ] && [ $rc -eq 1 ] && grep -q 'client sends RST (unacceptable ACK to our SYN)' <<<"$out" &&
	[ -n "$at" ] && awk -v t="$at" 'BEGIN { exit !(t < 0.5) }' && [ "$after" -eq 0 ]; then
	ok "$name ($at s)"
else
	not_ok "$name" "exit $rc, connections before $before, after $after, connected at '${at}'" \
		"$(grep -v received <<<"$out")"
fi

# 4: the responder's session that idles resets its real client (a Python
# socket that sends nothing and waits) instead of leaving it waiting.
HOST=198.18.0.4
ip netns exec "$S_NS" timeout 30 "$B/tcpliveplay-responder" -i vs -r "$T/c-lines.pcap" --ip "$HOST" \
	--port 7101 --idle-timeout 1 --seed 3 > "$T/c-resp.out" 2>&1 &
rpid=$!
name="responder: a session cut short by --idle-timeout resets its client"
if wait_for 50 grep -q '^serving' "$T/c-resp.out"; then
	got=$(inc timeout 10 python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], 7101))
t = time.time()
try:
    print("eof %r after %.1f s" % (s.recv(100), time.time() - t))
except ConnectionResetError:
    print("reset after %.1f s" % (time.time() - t))' "$HOST" 2>&1)
	kill -TERM $rpid 2>/dev/null
	wait $rpid
	if grep -q '^reset after [12]\.' <<<"$got" && grep -q 'idle for 1 s' "$T/c-resp.out"; then
		ok "$name ($got)"
	else
		not_ok "$name" "client: $got" "$(cat "$T/c-resp.out")"
	fi
else
	kill $rpid 2>/dev/null
	wait $rpid 2>/dev/null
	not_ok "$name" "the responder did not start" "$(cat "$T/c-resp.out")"
fi
ins ip link set vs gso_max_segs 65535

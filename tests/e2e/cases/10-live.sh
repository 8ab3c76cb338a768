# SPDX-License-Identifier: GPL-2.0-or-later
# Live replays against real servers (python3 -m http.server, socat) from
# captures of a real client (curl) recorded here; the RST guard; the classic CLI.
# Sourced by tests/e2e/run.sh.

# A real server no one here wrote, and captures of a real client talking to it.
mkdir -p "$T/www"
head -c 1024 /dev/urandom > "$T/www/1k.bin"
head -c 1048576 /dev/urandom > "$T/www/1m.bin"
bg sh -c "cd '$T/www' && exec ip netns exec '$S_NS' python3 -m http.server --bind :: 8000 \
	> '$T/http.log' 2>&1"
wait_for 100 listening "$S_NS" 8000 || not_ok "python3 -m http.server did not start"

get_count() { grep -c "\"GET /$1 HTTP" "$T/http.log"; }

for fam in 4 6; do
	if [ $fam = 4 ]; then dst=$S4; url="http://$S4:8000"; else dst=$S6; url="http://[$S6]:8000"; fi
	for f in 1k 1m; do
		record "$C_NS" vc "$T/get$f-v$fam.pcap" inc curl -s -o "$T/got" "$url/$f.bin"
		cmp -s "$T/got" "$T/www/$f.bin" || not_ok "record $f v$fam" "curl did not fetch the file"
	done
done

# 1-4: the modern CLI against the real server, IPv4 and IPv6, 1 KB and 1 MB.
for fam in 4 6; do
	if [ $fam = 4 ]; then dst=$S4; else dst=$S6; fi
	for f in 1k 1m; do
		name="live http GET $f IPv$fam"
		before=$(get_count "$f.bin")
		out=$(inc "$LP" -i vc -r "$T/get$f-v$fam.pcap" --dst "$dst" --seed 7 --timeout 30 \
			--write "$T/live-$f-v$fam.pcap" 2>&1)
		rc=$?
		after=$(get_count "$f.bin")
		if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && [ "$after" -eq $((before + 1)) ]; then
			ok "$name"
		else
			not_ok "$name" "exit $rc, GETs $before -> $after" "$out"
		fi
	done
done

# 5: the server really sent the whole file again: the recorded live conversation holds it.
if [ -s "$T/live-1m-v4.pcap" ] && "$LP" -q --extract "$T/x" -r "$T/live-1m-v4.pcap" &&
	tail -c 1048576 "$T/x/server.bin" | cmp -s - "$T/www/1m.bin"; then
	ok "live conversation holds the whole 1 MB body"
else
	not_ok "live conversation holds the whole 1 MB body"
fi

# 6: the classic CLI.
smac=$(ins cat /sys/class/net/vs/address)
out=$(inc "$LP" vc "$T/get1k-v4.pcap" "$S4" "$smac" random 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out"; then
	ok "classic CLI"
else
	not_ok "classic CLI" "exit $rc" "$out"
fi

# 7: without the RST guard the local kernel resets the connection.
out=$(inc "$LP" -i vc -r "$T/get1k-v4.pcap" --dst "$S4" --rst-guard off --timeout 20 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q 'kernel resets connections' <<<"$out"; then
	ok "--rst-guard off fails with the kernel-reset message"
else
	not_ok "--rst-guard off fails with the kernel-reset message" "exit $rc" "$out"
fi

# 8: no nftables table is left behind, also after kill -9. During the replay
# there are two: the inet one against the kernel's resets, the netdev one
# keeping the connection's inbound packets from the kernel at vc's ingress.
if command -v nft >/dev/null 2>&1; then
	left=$(inc nft list tables | grep -c tcpliveplay)
	# A server that accepts and never answers keeps the replay waiting.
	bg ip netns exec "$S_NS" socat -u TCP-LISTEN:8001,reuseaddr,fork OPEN:/dev/null
	wait_for 50 listening "$S_NS" 8001
	# ip netns exec runs the program itself: $! is its PID.
	ip netns exec "$C_NS" "$LP" -i vc -r "$T/get1k-v4.pcap" --dst "$S4:8001" --timeout 30 >/dev/null 2>&1 &
	lpid=$!
	wait_for 50 sh -c "[ \$(ip netns exec $C_NS nft list tables | grep -c tcpliveplay) -ge 2 ]"
	seen=$(inc nft list tables | grep -Ec '^table (inet|netdev) tcpliveplay_')
	kill -9 $lpid 2>/dev/null
	wait $lpid 2>/dev/null
	sleep 0.2
	after=$(inc nft list tables | grep -c tcpliveplay)
	if [ "$left" -eq 0 ] && [ "$seen" -eq 2 ] && [ "$after" -eq 0 ]; then
		ok "RST guard tables (inet, netdev) gone after exit and after kill -9"
	else
		not_ok "RST guard tables (inet, netdev) gone after exit and after kill -9" \
			"before $left, during $seen, after kill -9 $after"
	fi
else
	skipped "RST guard table gone after kill -9" "nft (nftables) not installed"
fi


# A real server whose answer changed since the capture: shorter is a
# divergence naming the segment where the answer stopped (exit 1: the stream
# policy counts bytes, it does not compare them); longer still matches under
# the stream policy, with a note, and diverges under --match size.
head -c 2000 /dev/urandom > "$T/www/grow.bin"
record "$C_NS" vc "$T/grow.pcap" inc curl -s -o /dev/null "http://$S4:8000/grow.bin"
head -c 500 /dev/urandom > "$T/www/grow.bin"
out=$(inc "$LP" -i vc -r "$T/grow.pcap" --dst "$S4" --timeout 20 2>&1)
rc=$?
got=$(sed -n 's/^received: [0-9]* segments, \([0-9]*\) bytes.*/\1/p' <<<"$out")
# The server's segment holding that offset, as --dump labels it.
seg=$("$LP" --dump -r "$T/grow.pcap" | awk -v o="${got:-0}" '$2 == "S>C" && $3 ~ /^S/ && $4 <= o && $4 + $5 > o { print $3 }')
if [ $rc -eq 1 ] && [ -n "$seg" ] && grep -q "^verdict: diverged (peer closed early at $seg:" <<<"$out"; then
	ok "real server answers shorter than captured: diverged at $seg (where it stopped, byte $got), exit 1"
else
	not_ok "real server answers shorter than captured: diverged where it stopped" "exit $rc, segment '$seg' at byte '$got'" "$out"
fi
head -c 6000 /dev/urandom > "$T/www/grow.bin"
out=$(inc "$LP" -i vc -r "$T/grow.pcap" --dst "$S4" --timeout 20 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
	grep -q '^note: the peer sent 4000 bytes more than the capture shows' <<<"$out"; then
	ok "real server answers longer: matched under --match stream, with a note"
else
	not_ok "real server answers longer: matched under --match stream, with a note" "exit $rc" "$out"
fi
out=$(inc "$LP" -i vc -r "$T/grow.pcap" --dst "$S4" --match size --timeout 20 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q '^verdict: diverged' <<<"$out"; then
	ok "real server answers longer: diverged under --match size, exit 1"
else
	not_ok "real server answers longer: diverged under --match size, exit 1" "exit $rc" "$out"
fi

# Two replays with one seed: the same port, ISN and timestamp base. The server
# closed first, so it holds the first connection (the 1 MB GET, long enough for
# its timestamps to advance) in TIME-WAIT and takes the second SYN for an old
# duplicate (an older timestamp): it answers with an ACK of the old connection.
# The replayer resets that (RFC 9293 3.10.7.3) and its SYN's retransmission
# connects. (Whether the server's kernel answers so depends on timings: when
# it takes the SYN at once, the replay must match all the same; the engine's
# side is a unit test, tests/check_engine.c.)
name="the same ports and ISN again at once (a server's TIME-WAIT): matched, recording whole"
out1=$(inc "$LP" -i vc -r "$T/get1m-v4.pcap" --dst "$S4" --seed 99 --timeout 20 2>&1)
rc1=$?
out=$(inc "$LP" -i vc -r "$T/get1k-v4.pcap" --dst "$S4" --seed 99 --timeout 20 -v \
	--write "$T/again.pcap" 2>&1)
rc=$?
if [ $rc1 -eq 0 ] && [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
	"$LP" --list "$T/again.pcap" | grep -q '^# .* 1 TCP flow ' && "$LP" -q --extract "$T/again" -r "$T/again.pcap"; then
	if grep -q 'client sends RST (unacceptable ACK to our SYN)' <<<"$out"; then
		ok "$name (the server answered with an old ACK; reset and SYN again)"
	else
		ok "$name (the server took the SYN at once)"
	fi
else
	not_ok "$name" "exit $rc1 then $rc" "$(grep -v 'received' <<<"$out" | head -20)" "$("$LP" --list "$T/again.pcap" 2>&1)"
fi

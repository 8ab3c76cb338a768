# SPDX-License-Identifier: GPL-2.0-or-later
# Segmentation offload (issue 17): new data leaves the responder and the
# replayer as TCP super-segments that the kernel cuts into wire segments
# (a packet socket with PACKET_VNET_HDR; the lab's veths have TSO and GSO off,
# so the stack cuts them in software). A netdev egress counter sees the
# super-segments before they are cut (frames longer than 1514 bytes); what
# reaches the other side, recorded there, is wire-sized, its checksums right
# and its bytes the file's. Without a super-segment: an interface with
# gso_max_segs 1 (one packet at its egress hook is one segment), and a fault
# on the sender's side (faults act per wire packet).
# Sourced by tests/e2e/run.sh.

GS=$T/gso
mkdir -p "$GS"
head -c $((8 << 20)) /dev/urandom > "$GS/file"
bg ip netns exec "$S_NS" socat -U -b 65536 TCP-LISTEN:9088,reuseaddr,fork OPEN:"$GS/file"
bg ip netns exec "$S_NS" socat -U -b 65536 TCP6-LISTEN:9087,reuseaddr,fork OPEN:"$GS/file"
bg ip netns exec "$S_NS" socat -u -b 65536 TCP-LISTEN:9089,reuseaddr,fork CREATE:"$GS/up.got"
for p in 9087 9088 9089; do
	wait_for 100 listening "$S_NS" $p || not_ok "gso: socat on port $p did not start"
done
# The captures: an 8 MiB download (over IPv4 and over IPv6) and an 8 MiB
# upload by socat's own client, the sender held to 1 Gbit/s so that the
# recorder keeps up.
ins tc qdisc add dev vs root tbf rate 1gbit burst 256kb latency 100ms
record "$C_NS" vc "$GS/down.pcap" inc socat -b 65536 -u "TCP:$S4:9088" CREATE:"$GS/down.got"
record "$C_NS" vc "$GS/down6.pcap" inc socat -b 65536 -u "TCP6:[$S6]:9087" CREATE:"$GS/down.got"
ins tc qdisc del dev vs root
inc tc qdisc add dev vc root tbf rate 1gbit burst 256kb latency 100ms
record "$C_NS" vc "$GS/up.pcap" inc socat -b 65536 -u OPEN:"$GS/file" "TCP:$S4:9089"
inc tc qdisc del dev vc root
for c in down down6 up; do
	if ! "$LP" --list "$GS/$c.pcap" | grep -q 'holes=none'; then
		not_ok "gso: record the 8 MiB $c" "$("$LP" --list "$GS/$c.pcap" 2>&1 | head -3)"
	fi
done

# egress_count NS DEV: frames longer than 1514 bytes at DEV's egress (super-
# segments: a wire frame is at most 14 + 1500), counted from now on.
egress_count_start() {
	ip netns exec "$1" nft -f - <<EOF
table netdev lpgso
delete table netdev lpgso
table netdev lpgso {
	chain out {
		type filter hook egress device $2 priority 0;
		meta length > 1514 counter
	}
}
EOF
}
egress_count() {
	ip netns exec "$1" nft list table netdev lpgso | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

# serve_once NAME [6] ARGS...: the responder serves the download once on
# 198.18.0.6:9088 (6: the IPv6 one on [2001:db8::6]:9087) while socat
# fetches it and the client's side records; sets out (the responder's last
# words), rc, rrc, seen (the egress count on vs) and wire (pcapcheck's
# "PACKETS LARGEST BAD" of what arrived).
serve_once() {
	local name=$1 cap=$GS/down.pcap ip=198.18.0.6 port=9088 to=TCP:198.18.0.6:9088
	shift
	if [ "${1:-}" = 6 ]; then
		cap=$GS/down6.pcap ip=2001:db8::6 port=9087 to="TCP6:[2001:db8::6]:9087"
		shift
	fi
	: > "$GS/$name.log"
	egress_count_start "$S_NS" vs
	ip netns exec "$S_NS" timeout 60 "$B/tcpliveplay-responder" -i vs -r "$cap" \
		--ip $ip --port $port --once --seed 8 "$@" > "$GS/$name.log" 2>&1 &
	local rpid=$!
	rc=99 rrc=99 seen=- wire=-
	if wait_for 100 grep -q '^serving' "$GS/$name.log"; then
		ins tc qdisc add dev vs root tbf rate 1gbit burst 256kb latency 100ms
		record "$C_NS" vc "$GS/$name.pcap" inc timeout 30 socat -b 65536 -u "$to" \
			CREATE:"$GS/$name.got"
		rc=$?
		ins tc qdisc del dev vs root
		wait "$rpid"
		rrc=$?
		seen=$(egress_count "$S_NS")
		wire=$(python3 tests/e2e/tools/pcapcheck.py wire "$GS/$name.pcap" $port "$GS/$name.stream" 2>&1)
	else
		kill "$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
	fi
	out=$(tail -5 "$GS/$name.log")
	ip netns exec "$S_NS" nft delete table netdev lpgso
}

# wire_ok WIRE: pcapcheck's "PACKETS LARGEST BAD": data came, none larger
# than 1500 bytes, no checksum wrong.
wire_ok() {
	local n big bad
	read -r n big bad <<<"$1"
	[ "${n:-0}" -gt 1000 ] 2>/dev/null && [ "$big" -le 1500 ] && [ "$bad" -eq 0 ]
}

# 1: the responder's download to a real client, through the kernel's GSO.
name="gso: the responder's 8 MiB to socat left as super-segments, arrived wire-sized and whole"
serve_once plain
if [ $rc -eq 0 ] && [ $rrc -eq 0 ] && [ "${seen:-0}" -gt 0 ] 2>/dev/null && wire_ok "$wire" &&
	cmp -s "$GS/plain.got" "$GS/file" && cmp -s "$GS/plain.stream" "$GS/file"; then
	ok "$name ($seen super-segments; arrived: $wire packets/largest/bad)"
else
	not_ok "$name" "socat $rc, responder $rrc, super-segments ${seen:-?}, arrived ${wire:-?}" "$out"
fi

# 1b: the same over IPv6.
name="gso: the same over IPv6: super-segments left, socat got every byte, wire-sized"
serve_once plain6 6
if [ $rc -eq 0 ] && [ $rrc -eq 0 ] && [ "${seen:-0}" -gt 0 ] 2>/dev/null && wire_ok "$wire" &&
	cmp -s "$GS/plain6.got" "$GS/file" && cmp -s "$GS/plain6.stream" "$GS/file"; then
	ok "$name ($seen super-segments; arrived: $wire)"
else
	not_ok "$name" "socat $rc, responder $rrc, super-segments ${seen:-?}, arrived ${wire:-?}" "$out"
fi

# 2: an interface that takes one segment per packet at its egress.
name="gso: gso_max_segs 1 on the interface: no super-segment, the client got every byte"
ins ip link set vs gso_max_segs 1
serve_once one
ins ip link set vs gso_max_segs 65535
if [ $rc -eq 0 ] && [ $rrc -eq 0 ] && [ "$seen" = 0 ] && wire_ok "$wire" && cmp -s "$GS/one.got" "$GS/file"; then
	ok "$name"
else
	not_ok "$name" "socat $rc, responder $rrc, super-segments ${seen:-?}, arrived ${wire:-?}" "$out"
fi

# 3: a fault of the responder's side acts per wire packet: plain segments.
name="gso: the responder with --fault server:drop:S40 sends plain segments, socat recovers the loss"
serve_once fault --fault server:drop:S40
if [ $rc -eq 0 ] && [ $rrc -eq 0 ] && [ "$seen" = 0 ] && wire_ok "$wire" && cmp -s "$GS/fault.got" "$GS/file" &&
	[ "$(python3 tests/e2e/tools/pcapcheck.py retransmits "$GS/fault.pcap" 9088)" -ge 1 ]; then
	ok "$name"
else
	not_ok "$name" "socat $rc, responder $rrc, super-segments ${seen:-?}, arrived ${wire:-?}" "$out"
fi

# 4: the replayer's upload to the real server, recorded with --write: the
# server got the file; the recording shows wire segments, not super-segments.
name="gso: the replayer's 8 MiB upload left as super-segments; the server got the file, --write shows wire segments"
rm -f "$GS/up.got"
egress_count_start "$C_NS" vc
out=$(inc "$LP" -i vc -r "$GS/up.pcap" --dst "$S4:9089" --seed 9 --timeout 30 --write "$GS/up-w.pcap" 2>&1)
rc=$?
seen=$(egress_count "$C_NS")
inc nft delete table netdev lpgso
wire=$(python3 tests/e2e/tools/pcapcheck.py wire "$GS/up-w.pcap" 9089 "$GS/up-w.stream" 2>&1)
sleep 0.2
if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && [ "${seen:-0}" -gt 0 ] 2>/dev/null &&
	wire_ok "$wire" && cmp -s "$GS/up.got" "$GS/file" && cmp -s "$GS/up-w.stream" "$GS/file"; then
	ok "$name ($seen super-segments; recorded: $wire)"
else
	not_ok "$name" "exit $rc, super-segments ${seen:-?}, recorded ${wire:-?}" "$out"
fi
rm -rf "$GS"

# SPDX-License-Identifier: GPL-2.0-or-later
# A bulk download (issue 17): 64 MiB from socat, recorded here from socat's
# own client, replayed against the same server and against the responder. A
# flow this big is read through the receive ring; the RST guard keeps its
# inbound packets from the local kernel at the interface's ingress, so the
# kernel's TCP never sees them (no segment taken, no reset made).
# Sourced by tests/e2e/run.sh.

head -c $((64 << 20)) /dev/urandom > "$T/bulk64.bin"
bg ip netns exec "$S_NS" socat -U -b 65536 TCP-LISTEN:9064,reuseaddr,fork OPEN:"$T/bulk64.bin"
wait_for 100 listening "$S_NS" 9064 || not_ok "bulk: socat on port 9064 did not start"
# libpcap keeps up with a veth only when the sender is held to 1 Gbit/s.
ins tc qdisc add dev vs root tbf rate 1gbit burst 256kb latency 100ms
record "$C_NS" vc "$T/bulk64.pcap" inc socat -b 65536 -u "TCP:$S4:9064" CREATE:"$T/bulk64.got"
ins tc qdisc del dev vs root
if ! cmp -s "$T/bulk64.got" "$T/bulk64.bin" || ! "$LP" --list "$T/bulk64.pcap" | grep -q 'holes=none'; then
	not_ok "bulk: record a whole 64 MiB download" "$("$LP" --list "$T/bulk64.pcap" 2>&1 | head -3)"
fi
rm -f "$T/bulk64.got"

# tcp_snmp FIELD: the client namespace's TCP counter FIELD (/proc/net/snmp).
tcp_snmp() {
	inc awk -v f="$1" '/^Tcp:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == f) k = i; n = 1 } else print $k }' \
		/proc/net/snmp
}

# 1: against the real server: matched, through the ring (made while the
# capture loaded); the kernel took none of its segments and made no reset.
in0=$(tcp_snmp InSegs)
rst0=$(tcp_snmp OutRsts)
out=$(inc "$LP" -i vc -r "$T/bulk64.pcap" --dst "$S4" --seed 3 --timeout 60 2>&1)
rc=$?
in1=$(tcp_snmp InSegs)
rst1=$(tcp_snmp OutRsts)
if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && grep -q 'receive ring' <<<"$out" &&
	grep -q '^received: .* 67108864 bytes' <<<"$out" && [ $((in1 - in0)) -lt 10 ] && [ "$rst1" -eq "$rst0" ]; then
	ok "bulk: 64 MiB from socat matched through the receive ring; the local kernel took $((in1 - in0)) segments, made no reset"
else
	not_ok "bulk: 64 MiB from socat matched through the receive ring, the local kernel left out" \
		"exit $rc, kernel InSegs $in0 -> $in1, OutRsts $rst0 -> $rst1" "$out"
fi

# 1b: of each segment the ring holds its headers only, cut by the kernel,
# which checked its checksum (a veth vouches for what crossed it), as -v
# says; under --match bytes the segments come whole and are compared; with
# the veths' checksum offloads off the kernel vouches for nothing: whole,
# and checked here.
# cut_run CUT NAME ARGS...: a replay of the 64 MiB download with -v and
# ARGS, matched with every byte received, its segments cut after their
# headers (CUT yes, as -v says) or read whole (no).
cut_run() {
	want=$1 name=$2
	shift 2
	inc "$LP" -i vc -r "$T/bulk64.pcap" --dst "$S4" --timeout 60 -v "$@" > "$T/cut.out" 2>&1
	rc=$?
	said=no
	grep -q 'host.s segments cut after their headers by the kernel' "$T/cut.out" && said=yes
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' "$T/cut.out" && [ $said = "$want" ] &&
		grep -q '^received: .* 67108864 bytes' "$T/cut.out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc, cut: $said" "$(grep -v '^  ' "$T/cut.out" | tail -15)"
	fi
}
cut_run yes "bulk: 64 MiB from socat, each segment's headers only read (the kernel checked the checksums), matched" \
	--seed 6
cut_run no "bulk: --match bytes, the segments read whole and compared, matched" --seed 7 --match bytes
if ins ethtool -K vs tx off >/dev/null 2>&1 && inc ethtool -K vc rx off >/dev/null 2>&1; then
	cut_run no "bulk: checksum offloads off, the kernel vouches for nothing: segments read whole and checked, matched" \
		--seed 8
else
	skipped "bulk: checksum offloads off" "ethtool cannot turn the veths' checksum offloads off"
fi
ins ethtool -K vs tx on >/dev/null 2>&1
inc ethtool -K vc rx on >/dev/null 2>&1
rm -f "$T/cut.out"

# 2: the capture on standard input (its size unknown before it is read: the
# ring is made at set-up, not ahead).
out=$(inc "$LP" -i vc -r - --dst "$S4" --seed 5 --timeout 60 < "$T/bulk64.pcap" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && grep -q 'receive ring' <<<"$out"; then
	ok "bulk: 64 MiB from standard input matched through a receive ring made at set-up"
else
	not_ok "bulk: 64 MiB from standard input matched through a receive ring made at set-up" "exit $rc" "$out"
fi

# 3: the same against the responder (serving an address the host lacks).
: > "$T/bulk-resp.log"
ip netns exec "$S_NS" timeout 90 "$B/tcpliveplay-responder" -i vs -r "$T/bulk64.pcap" \
	--ip 198.18.0.3 --port 9064 --once --seed 3 > "$T/bulk-resp.log" 2>&1 &
rpid=$!
if wait_for 100 grep -q '^serving' "$T/bulk-resp.log"; then
	out=$(inc "$LP" -i vc -r "$T/bulk64.pcap" --dst 198.18.0.3:9064 --seed 4 --timeout 60 2>&1)
	rc=$?
	wait "$rpid"
	rrc=$?
	if [ $rc -eq 0 ] && [ $rrc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
		grep -q 'receive ring' <<<"$out"; then
		ok "bulk: 64 MiB from tcpliveplay-responder matched on both sides"
	else
		not_ok "bulk: 64 MiB from tcpliveplay-responder matched on both sides" "exit $rc, responder $rrc" \
			"$out" "$(tail -5 "$T/bulk-resp.log")"
	fi
else
	kill "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	not_ok "bulk: the responder did not start" "$(cat "$T/bulk-resp.log")"
fi
rm -f "$T/bulk64.bin"

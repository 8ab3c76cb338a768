# SPDX-License-Identifier: GPL-2.0-or-later
# Differential: the same impaired path once with the kernel's own client
# (socat, recorded) and once with the replay of that recording; both must
# complete. The impairments sit on the server's side of the veth so that
# both clients meet them (this kernel has no netem): loss both ways
# (nftables numgen), reordering (nftables steers one segment in 20 into a
# slow HTB class), a small receive window, a server that stops reading
# (zero window), and a server with TCP keepalive while the client pauses.
# Sourced by tests/e2e/run.sh; needs nothing earlier files set up.
#
#   lpc$$ (vc) ============== veth ============== (vs) lps$$
#   socat client, tcpliveplay             socat echo servers :7201-7205,
#                                         nftables netdev, tc htb on vs

bg ip netns exec "$S_NS" socat TCP-LISTEN:7201,reuseaddr,fork EXEC:cat
bg ip netns exec "$S_NS" socat TCP-LISTEN:7202,reuseaddr,fork,rcvbuf=2048 EXEC:cat
bg ip netns exec "$S_NS" socat TCP-LISTEN:7203,reuseaddr,fork SYSTEM:'sleep 2; exec cat'
bg ip netns exec "$S_NS" socat TCP-LISTEN:7204,reuseaddr,fork,keepalive,keepidle=1,keepintvl=1,keepcnt=2 EXEC:cat
for p in 7201 7202 7203 7204; do
	wait_for 100 listening "$S_NS" $p || not_ok "socat on port $p did not start"
done
ins ip link set vs gso_max_segs 1
head -c 524288 /dev/urandom > "$T/d-bulk"

# The impairments: IMPAIR on|off.
none() { :; }
loss() {
	ins nft delete table netdev lp19d 2>/dev/null
	[ "$1" = on ] || return 0
	ins nft -f - <<EOF
table netdev lp19d {
	chain out {
		type filter hook egress device vs priority 0;
		tcp sport 7201 numgen random mod 100 < 3 drop
	}
	chain in {
		type filter hook ingress device vs priority 0;
		tcp dport 7201 numgen random mod 100 < 3 drop
	}
}
EOF
}
reorder() {
	ins nft delete table netdev lp19d 2>/dev/null
	ins tc qdisc del dev vs root 2>/dev/null
	[ "$1" = on ] || return 0
	ins tc qdisc add dev vs root handle 1: htb default 10
	ins tc class add dev vs parent 1: classid 1:10 htb rate 10gbit quantum 1514
	ins tc class add dev vs parent 1: classid 1:20 htb rate 5mbit burst 1514 cburst 1514 quantum 1514
	ins nft -f - <<EOF
table netdev lp19d {
	chain out {
		type filter hook egress device vs priority 0;
		tcp sport 7201 numgen inc mod 20 == 0 meta priority set 1:20
	}
}
EOF
}
ofo() {
	inc nstat -asz TcpExtTCPOFOQueue | awk '$1 == "TcpExtTCPOFOQueue" { n = $2 } END { print n + 0 }'
}

# diff_run NAME PORT IMPAIR [REPLAY OPTIONS]: the kernel client sends the
# bulk file and reads its echo, recorded; then the replay of the recording.
diff_run() {
	dname=$1
	dport=$2
	dimp=$3
	shift 3
	$dimp on
	o0=$(ofo)
	record "$C_NS" vc "$T/d-$dname.pcap" inc sh -c \
		"socat -t 5 - TCP:$S4:$dport < '$T/d-bulk' > '$T/d-$dname.echo'"
	o1=$(ofo)
	$dimp on
	out=$(inc "$LP" -i vc -r "$T/d-$dname.pcap" --dst "$S4:$dport" --timeout 30 "$@" 2>&1)
	rc=$?
	$dimp off
	if cmp -s "$T/d-bulk" "$T/d-$dname.echo" && [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out"; then
		ok "differential $dname: the kernel client and the replay both complete ($(grep -o 'retransmissions: [0-9]*' <<<"$out"))"
	else
		not_ok "differential $dname: the kernel client and the replay both complete" \
			"kernel echo $(cmp -s "$T/d-bulk" "$T/d-$dname.echo" && echo whole || echo short), replay exit $rc" \
			"$(grep -v received <<<"$out" | tail -12)"
	fi
}

diff_run loss 7201 loss
diff_run reorder 7201 reorder
if [ $((o1 - o0)) -gt 0 ]; then
	ok "differential reorder: the path reordered ($((o1 - o0)) segments queued out of order by the kernel client)"
else
	not_ok "differential reorder: the path reordered" "no out-of-order segment at the kernel client"
fi
diff_run "small window" 7202 none
diff_run "zero window" 7203 none

# Keepalive: the client pauses 3.5 s, the server probes after 1 s idle and
# gives up after two unanswered probes. The kernel client answers them; so
# must the replay, keeping the captured pause (RFC 9293 3.10.7.4).
name="differential keepalive: a server probing an idle client, the kernel client and the replay both complete"
record "$C_NS" vc "$T/d-ka.pcap" inc sh -c \
	"{ echo hello; sleep 3.5; echo bye; } | socat -t 1 - TCP:$S4:7204 > '$T/d-ka.out'"
out=$(inc "$LP" -i vc -r "$T/d-ka.pcap" --dst "$S4:7204" --timing capture --timeout 30 2>&1)
rc=$?
if [ "$(cat "$T/d-ka.out")" = "$(printf 'hello\nbye')" ] && [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out"; then
	ok "$name"
else
	not_ok "$name" "kernel client got '$(cat "$T/d-ka.out")', replay exit $rc" "$(grep -v received <<<"$out")"
fi
ins ip link set vs gso_max_segs 65535

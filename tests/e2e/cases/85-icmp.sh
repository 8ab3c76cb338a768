# SPDX-License-Identifier: GPL-2.0-or-later
# ICMP errors and the path MTU (doc/conformance.md): replays through a router
# whose hop carries at most 1280 bytes while both ends keep MTU 1500, uploads
# and downloads, IPv4 and IPv6, against real servers (socat, python3 -m
# http.server) and the responder; the kernel's cached path MTU as the start;
# a black hole (the router's errors dropped); a firewall rejecting with each
# kind of ICMP error, on the packet link and on a TAP; forged errors that must
# change nothing; the mtu fault live, in a replay and in the responder.
# Sourced by tests/e2e/run.sh; needs nothing earlier files set up.
#
#   lprc$$ (rc0) ====== (rr1) lprr$$ (rr2) ====== (rs0) lprs$$
#   tcpliveplay, curl,   forwards at most 1280     socat sink :7201, :7203, :7302,
#   socat                bytes each way            echo :7202, http.server :7280,
#                                                  firewall :7301, :7302;
#                                                  responder 198.19.2.4 / ::4
#   lpc$$ (vc) ========= (vs) lps$$: forged errors from icmp-forge.py on vs

RSP=$B/tcpliveplay-responder

# Forget the path MTUs both ends' kernels learnt.
flush_pmtu() {
	for fns in "$RC_NS" "$RS_NS"; do
		ip -n "$fns" route flush cache
		ip -n "$fns" -6 route flush cache
	done
}
# record_whole FILE CMD...: record CMD's traffic on rc0 (both ends' path
# MTUs forgotten first, so that the captured SYNs offer full-sized MSS), again
# while the capture misses packets (a stream with holes), at most 3 times.
record_whole() {
	rw=$1
	shift
	for try in 1 2 3; do
		flush_pmtu
		record "$RC_NS" rc0 "$rw" "$@"
		"$LP" --list "$rw" 2>/dev/null | grep -v '^#' | grep -q ' holes=none ' && return 0
	done
	not_ok "record $rw" "the capture misses packets three times"
	return 1
}
since_ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
rdst() { if [ "$1" = 4 ]; then echo "$RS4:$2"; else echo "[$RS6]:$2"; fi; }
duration() { sed -n 's/^duration: \([0-9.]*\) s$/\1/p' <<<"$1"; }
# below X LIMIT: X (a decimal) is less than LIMIT.
below() { awk -v x="$1" -v m="$2" 'BEGIN { exit !(x != "" && x + 0 < m + 0) }'; }
# firewall NS FAMILY-KEYWORD RULE...: the server's nftables input rules (none
# when no rule is given).
firewall() {
	fns=$1
	shift
	{
		echo "table inet lp14fw"
		echo "delete table inet lp14fw"
		if [ $# -gt 0 ]; then
			echo "table inet lp14fw {"
			echo "	chain in {"
			echo "		type filter hook input priority 0;"
			for r in "$@"; do echo "		$r"; done
			echo "	}"
			echo "}"
		fi
	} | ip netns exec "$fns" nft -f -
}

# rsp_start CAPTURE ADDR: path MTUs forgotten, the responder serves one
# session of CAPTURE at ADDR behind the hop; rsp_end waits for it and sets
# rrc and rout.
rsp_start() {
	flush_pmtu
	rm -f "$T/rsp14.out"
	inrs timeout 20 "$RSP" -i rs0 -r "$1" --ip "$2" --once --idle-timeout 10 --seed 14 \
		> "$T/rsp14.out" 2>&1 &
	rpid=$!
	wait_for 50 grep -q '^serving' "$T/rsp14.out"
}
rsp_end() {
	wait "$rpid"
	rrc=$?
	rout=$(cat "$T/rsp14.out")
}

icmp_cases() {
	mkdir -p "$T/rwww"
	head -c 204800 /dev/urandom > "$T/rwww/200k.bin"
	for p in 7201 7203 7302; do
		bg ip netns exec "$RS_NS" socat -u TCP-LISTEN:$p,reuseaddr,fork,pf=ip6,ipv6only=0 OPEN:/dev/null
	done
	bg ip netns exec "$RS_NS" socat TCP-LISTEN:7202,reuseaddr,fork,pf=ip6,ipv6only=0 EXEC:cat
	bg sh -c "cd '$T/rwww' && exec ip netns exec '$RS_NS' python3 -m http.server --bind :: 7280 \
		> '$T/rhttp.log' 2>&1"
	for p in 7201 7202 7203 7302 7280; do
		wait_for 100 listening "$RS_NS" $p || not_ok "routed lab: no server on port $p"
	done

	# Captures of real clients through the hop (the kernel finds the path MTU).
	for fam in 4 6; do
		d=$(rdst $fam 7201)
		record_whole "$T/up$fam.pcap" inrc socat -u "$T/rwww/200k.bin" "TCP:$d"
		record_whole "$T/echo$fam.pcap" inrc sh -c \
			"socat -t 3 - TCP:$(rdst $fam 7202) < '$T/rwww/200k.bin' > '$T/echo$fam.out'"
		cmp -s "$T/rwww/200k.bin" "$T/echo$fam.out" || not_ok "record echo v$fam" "socat's bytes did not come back"
		if [ $fam = 4 ]; then url="http://$RS4:7280"; else url="http://[$RS6]:7280"; fi
		record_whole "$T/get$fam.pcap" inrc curl -s -o "$T/got$fam" "$url/200k.bin"
		cmp -s "$T/got$fam" "$T/rwww/200k.bin" || not_ok "record get v$fam" "curl did not fetch the file"
	done
	# Two uploads in one capture, to 7201 and 7203.
	flush_pmtu
	record "$RC_NS" rc0 "$T/two.pcap" inrc sh -c "socat -u '$T/rwww/200k.bin' TCP:$RS4:7201 &&
		ip route flush cache && socat -u '$T/rwww/200k.bin' TCP:$RS4:7203"

	# 1-2: the 200 KB upload through the hop, with no path MTU known: the
	# router's errors make the segments smaller at once; matched well under a
	# second. The kernel's own client on the same path, same run, for scale.
	for fam in 4 6; do
		name="200 KB upload through the 1280-byte hop, IPv$fam: the router's ICMP lowers the path MTU, matched"
		flush_pmtu
		t0=$(date +%s%N)
		inrc socat -u "$T/rwww/200k.bin" "TCP:$(rdst $fam 7201)"
		kms=$(since_ms "$t0")
		flush_pmtu
		t0=$(date +%s%N)
		out=$(inrc "$LP" -i rc0 -r "$T/up$fam.pcap" --dst "$(rdst $fam 7201)" --seed 14 --timeout 10 2>&1)
		rc=$?
		rms=$(since_ms "$t0")
		d=$(duration "$out")
		if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
			grep -q '^path MTU: 1280 (from 1500, lowered by ICMP)$' <<<"$out" &&
			grep -Eq '^ICMP errors: [1-9][0-9]* taken, 0 ignored' <<<"$out" && below "$d" 1; then
			ok "$name (replay $d s, $rms ms whole process; kernel socat $kms ms whole process)"
		else
			not_ok "$name" "exit $rc" "$out"
		fi
	done

	# 3-4: what the kernel learnt is the start: after its own client's
	# transfer, the replay's first segments fit; no error, no retransmission.
	for fam in 4 6; do
		name="the kernel's cached path MTU is the start, IPv$fam: no ICMP, no retransmission"
		flush_pmtu
		inrc socat -u "$T/rwww/200k.bin" "TCP:$(rdst $fam 7201)"
		out=$(inrc "$LP" -i rc0 -r "$T/up$fam.pcap" --dst "$(rdst $fam 7201)" --seed 14 --timeout 10 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && grep -q '^path MTU: 1280$' <<<"$out" &&
			grep -q '^retransmissions: 0$' <<<"$out" && ! grep -q '^ICMP' <<<"$out"; then
			ok "$name"
		else
			not_ok "$name" "exit $rc; route: $(inrc ip -$fam route get "$([ $fam = 4 ] && echo $RS4 || echo $RS6)")" "$out"
		fi
	done

	# 5-8: both directions at once (echo), and a download from the stock
	# http.server (its kernel finds the path MTU): matched.
	for cap in echo get; do
		for fam in 4 6; do
			port=7202
			[ $cap = get ] && port=7280
			name="$cap 200 KB through the hop, IPv$fam: matched"
			flush_pmtu
			out=$(inrc "$LP" -i rc0 -r "$T/$cap$fam.pcap" --dst "$(rdst $fam $port)" --seed 14 \
				--timeout 10 --json - 2>&1)
			rc=$?
			if [ $rc -eq 0 ] && grep -q '"verdict":"matched"' <<<"$out" &&
				grep -q '"path_mtu_start":1500,' <<<"$out" && grep -q '"mtu_blackhole":false' <<<"$out"; then
				ok "$name"
			else
				not_ok "$name" "exit $rc" "$out"
			fi
		done
	done

	# 9-12: the responder behind the hop: a real client (curl) downloads
	# through it, the responder's segments are made smaller by the router's
	# errors; and tcpliveplay against the responder, an echo both ways.
	for fam in 4 6; do
		if [ $fam = 4 ]; then rip=$RSP4; url="http://$RSP4:7280"; else rip=$RSP6; url="http://[$RSP6]:7280"; fi
		name="responder behind the hop, IPv$fam: curl downloads 200 KB, the responder lowers its path MTU"
		rsp_start "$T/get$fam.pcap" "$rip"
		inrc curl -s -m 10 -o "$T/rgot$fam" "$url/200k.bin"
		crc=$?
		rsp_end
		if [ $crc -eq 0 ] && cmp -s "$T/rgot$fam" "$T/rwww/200k.bin" && [ $rrc -eq 0 ] &&
			grep -q 'verdict matched' <<<"$rout" && grep -q 'path MTU 1280; ICMP errors: [1-9]' <<<"$rout"; then
			ok "$name"
		else
			not_ok "$name" "curl exit $crc, responder exit $rrc" "$rout"
		fi

		name="tcpliveplay against the responder through the hop, echo 200 KB, IPv$fam: both lower their path MTU, matched"
		rsp_start "$T/echo$fam.pcap" "$rip"
		if [ $fam = 4 ]; then d="$RSP4:7202"; else d="[$RSP6]:7202"; fi
		out=$(inrc "$LP" -i rc0 -r "$T/echo$fam.pcap" --dst "$d" --seed 14 --timeout 10 2>&1)
		rc=$?
		rsp_end
		if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
			grep -q '^path MTU: 1280 (from 1500, lowered by ICMP)$' <<<"$out" && [ $rrc -eq 0 ] &&
			grep -q 'verdict matched' <<<"$rout" && grep -q 'path MTU 1280; ICMP errors: [1-9]' <<<"$rout"; then
			ok "$name"
		else
			not_ok "$name" "exit $rc, responder exit $rrc" "$out" "$rout"
		fi
	done

	# 13: a black hole: the router's errors never arrive. After three
	# timeouts the segments shrink (Linux's tcp_mtu_probing=1); the
	# kernel's client, with that off as it is by default, stalls.
	inrr nft -f - <<EOF
table inet lp14bh {
	chain out {
		type filter hook output priority 0;
		icmp type destination-unreachable icmp code frag-needed drop
		icmpv6 type packet-too-big drop
	}
}
EOF
	for fam in 4 6; do
		name="a path MTU black hole, IPv$fam: segments shrink after timeouts, matched"
		bh=1064
		[ $fam = 6 ] && bh=1084
		flush_pmtu
		out=$(inrc "$LP" -i rc0 -r "$T/up$fam.pcap" --dst "$(rdst $fam 7201)" --seed 14 --timeout 20 2>&1)
		rc=$?
		d=$(duration "$out")
		if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
			grep -q "^path MTU: $bh (from 1500, black hole suspected: timeouts without ICMP)\$" <<<"$out" &&
			below "$d" 6; then
			ok "$name ($d s)"
		else
			not_ok "$name" "exit $rc" "$out"
		fi
	done
	flush_pmtu
	t0=$(date +%s%N)
	inrc timeout 4 socat -u "$T/rwww/200k.bin" "TCP:$RS4:7201"
	krc=$?
	if [ $krc -ne 0 ]; then
		ok "a path MTU black hole: the kernel's own client did not finish in 4 s (exit $krc)"
	else
		skipped "a path MTU black hole, the kernel's client" "it finished in $(since_ms "$t0") ms (tcp_mtu_probing on here?)"
	fi
	inrr nft delete table inet lp14bh

	# 14-26: a firewall rejecting the connection with each kind of ICMP
	# error: failed within 2 s, the error and its sender in the reason, exit
	# 1. (Paced: the server's kernel limits the errors it sends to a peer.)
	worst=0
	for spec in "4 net-unreachable network unreachable" "4 host-unreachable host unreachable" \
		"4 prot-unreachable protocol unreachable" "4 port-unreachable port unreachable" \
		"4 net-prohibited network administratively prohibited" \
		"4 host-prohibited host administratively prohibited" \
		"4 admin-prohibited administratively prohibited" "6 no-route no route to destination" \
		"6 admin-prohibited administratively prohibited" "6 addr-unreachable address unreachable" \
		"6 port-unreachable port unreachable" \
		"6 policy-fail source address failed ingress/egress policy" \
		"6 reject-route reject route to destination"; do
		read -r fam kind text <<<"$spec"
		if [ $fam = 4 ]; then
			firewall "$RS_NS" "tcp dport 7301 reject with icmp type $kind"
			want="ICMP destination unreachable ($text) from $RS4"
		else
			firewall "$RS_NS" "tcp dport 7301 reject with icmpv6 type $kind"
			want="ICMPv6 destination unreachable ($text) from $RS6"
		fi
		sleep 0.25
		name="firewall rejecting with $kind, IPv$fam: failed within 2 s, the error named, exit 1"
		t0=$(date +%s%N)
		out=$(inrc "$LP" -i rc0 -r "$T/up$fam.pcap" --dst "$(rdst $fam 7301)" --seed 14 --timeout 10 2>&1)
		rc=$?
		ms=$(since_ms "$t0")
		[ "$ms" -gt "$worst" ] && worst=$ms
		if [ $rc -eq 1 ] && grep -qxF "verdict: failed ($want)" <<<"$out" && [ "$ms" -lt 2000 ]; then
			ok "$name ($ms ms)"
		else
			not_ok "$name" "exit $rc after $ms ms" "$out"
		fi
	done
	# For scale: the kernel's own client on the same firewall (Linux keeps
	# an error that arrives while connect() holds the socket as a soft one,
	# and gives up at the SYN's retransmission a second later).
	sleep 0.25
	t0=$(date +%s%N)
	kout=$(inrc socat -u "$T/rwww/200k.bin" "TCP:[$RS6]:7301" 2>&1)
	echo "     (slowest failure $worst ms; the kernel's client on the last firewall: $(since_ms "$t0") ms, ${kout##*: })"

	# 27: many flows, each on its own: one upload through the hop matched,
	# the other rejected by the firewall.
	firewall "$RS_NS" "tcp dport 7203 reject with icmp type admin-prohibited"
	flush_pmtu
	out=$(inrc "$LP" -i rc0 -r "$T/two.pcap" --flow all --dst "$RS4" --seed 14 --timeout 10 --json "$T/two.json" 2>&1)
	rc=$?
	name="many flows through the hop: one matched (path MTU lowered), one failed on the firewall's error"
	if [ $rc -eq 1 ] && grep -q '^flow 1: matched: .*, path MTU 1280$' <<<"$out" &&
		grep -qF "flow 2: failed: " <<<"$out" &&
		grep -qF "(ICMP destination unreachable (administratively prohibited) from $RS4)" <<<"$out" &&
		grep -q '^summary: 2 flows: 1 matched, 0 diverged, 1 failed' <<<"$out" &&
		grep -q '"icmp":{"accepted":[1-9]' "$T/two.json"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc" "$out"
	fi

	# 28: once established, an error is soft: the replay keeps trying and,
	# giving up, names the last error (RFC 1122 4.2.3.9, as Linux).
	firewall "$RS_NS" "tcp dport 7302 ct state established reject with icmp type admin-prohibited"
	out=$(inrc "$LP" -i rc0 -r "$T/up4.pcap" --dst "$RS4:7302" --seed 14 --retries 2 --timeout 10 2>&1)
	rc=$?
	name="an error once established is soft: retried, then failed naming it"
	if [ $rc -eq 1 ] && grep -qF "peer unresponsive; last ICMP error: ICMP destination unreachable (administratively prohibited) from $RS4" <<<"$out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc" "$out"
	fi
	firewall "$RS_NS"

	# 29-30: on a TAP link too (no kernel filter: the local kernel is the
	# peer): this host's firewall rejects, the replay fails naming it.
	if ! [ -c /dev/net/tun ]; then
		skipped "ICMP errors over a TAP link" "no /dev/net/tun"
		return
	fi
	for fam in 4 6; do
		if [ $fam = 4 ]; then
			a=198.19.9.1/24 d=198.19.9.1:7309 rule="icmp type admin-prohibited"
			want="ICMP destination unreachable (administratively prohibited) from 198.19.9.1"
		else
			a=2001:db8:9::1/64 d="[2001:db8:9::1]:7309" rule="icmpv6 type admin-prohibited"
			want="ICMPv6 destination unreachable (administratively prohibited) from 2001:db8:9::1"
		fi
		firewall "$RC_NS" "tcp dport 7309 reject with $rule"
		out=$(inrc "$LP" --tap lt9 --tap-addr "$a" -r "$T/up$fam.pcap" --dst "$d" --seed 14 --timeout 10 2>&1)
		rc=$?
		name="over a TAP, IPv$fam: this host's firewall rejects, failed naming the error"
		if [ $rc -eq 1 ] && grep -qxF "verdict: failed ($want)" <<<"$out"; then
			ok "$name"
		else
			not_ok "$name" "exit $rc" "$out"
		fi
	done
	firewall "$RC_NS"
}

# 31-32: forged errors (a sequence number outside the send window, other
# ports, another source) at the first SYN and the first data segment change
# nothing: the ones quoting our ports are counted as ignored, the others never
# reach the connection. The server drops the first SYN, so that the forged
# errors meet the connection in SYN-SENT, where a genuine one would end it.
forged_cases() {
	bg ip netns exec "$S_NS" socat TCP-LISTEN:7401,reuseaddr,fork,pf=ip6,ipv6only=0 EXEC:cat
	wait_for 100 listening "$S_NS" 7401 || not_ok "forged: socat on 7401 did not start"
	for fam in 4 6; do
		if [ $fam = 4 ]; then c=$C4; s=$S4; d="$S4:7401"; else c=$C6; s=$S6; d="[$S6]:7401"; fi
		record "$C_NS" vc "$T/lines$fam.pcap" inc sh -c \
			"{ echo one; sleep 0.3; echo two; sleep 0.3; } | socat -t 1 - TCP:$d > /dev/null"
		ins nft -f - <<EOF
table netdev lp14f
delete table netdev lp14f
table netdev lp14f {
	chain in {
		type filter hook ingress device vs priority 0;
		tcp dport 7401 tcp flags & (syn | ack) == syn numgen inc mod 1000000 == 0 drop
	}
}
EOF
		ins python3 tests/e2e/tools/icmp-forge.py vs "$c" "$s" 7401 > "$T/forged.n" 2>&1 &
		fpid=$!
		sleep 0.3
		out=$(inc "$LP" -i vc -r "$T/lines$fam.pcap" --dst "$d" --timing capture --seed 14 --timeout 10 -vv 2>&1)
		rc=$?
		wait "$fpid"
		sent=$(cat "$T/forged.n")
		name="forged ICMP errors change nothing, IPv$fam: matched, 12 of $sent counted as ignored"
		if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && [ "$sent" = 30 ] &&
			grep -q '^ICMP errors: 0 taken, 12 ignored$' <<<"$out" && grep -q '^path MTU: 1500$' <<<"$out" &&
			grep -q 'ignored: quoted sequence number not in the send window' <<<"$out" &&
			grep -q '^retransmissions: 1$' <<<"$out"; then
			ok "$name"
		else
			not_ok "$name" "exit $rc, forger: $sent" "$(grep -v 'received\|sends\|expectation' <<<"$out")"
		fi
		ins nft delete table netdev lp14f
	done
}

# 33-34: the path's faults live: --fault client:mtu:1000 makes a live replay's
# own larger packets meet an emulated 1000-byte hop (their errors fed back);
# the responder's --fault mtu:1000 the same for what it sends.
live_path_faults() {
	head -c 204800 /dev/urandom > "$T/pf.bin"
	record "$C_NS" vc "$T/pf.pcap" inc sh -c "socat -t 3 - TCP:$S4:7401 < '$T/pf.bin' > /dev/null"
	out=$(inc "$LP" -i vc -r "$T/pf.pcap" --dst "$S4:7401" --fault client:mtu:1000 --seed 14 \
		--timeout 10 2>&1)
	rc=$?
	name="live --fault client:mtu:1000: the replay's segments fit the emulated hop, matched"
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
		grep -q '^path MTU: 1000 (from 1500, lowered by ICMP)$' <<<"$out" &&
		grep -q '^fault: client:mtu' <<<"$out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc" "$out"
	fi
	rm -f "$T/pfr.out"
	ins timeout 20 "$RSP" -i vs -r "$T/pf.pcap" --ip 198.18.0.5 --once --idle-timeout 10 \
		--fault mtu:1000 --seed 14 > "$T/pfr.out" 2>&1 &
	rpid=$!
	wait_for 50 grep -q '^serving' "$T/pfr.out"
	out=$(inc "$LP" -i vc -r "$T/pf.pcap" --dst 198.18.0.5:7401 --seed 14 --timeout 10 2>&1)
	rc=$?
	wait "$rpid"
	rrc=$?
	rout=$(cat "$T/pfr.out")
	name="the responder's --fault mtu:1000: its segments fit the emulated hop, both matched"
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && [ $rrc -eq 0 ] &&
		grep -q 'verdict matched' <<<"$rout" && grep -q 'path MTU 1000; ICMP errors: [1-9]' <<<"$rout"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc, responder exit $rrc" "$out" "$rout"
	fi
}

if routed_up; then
	icmp_cases
else
	not_ok "routed lab: could not build the three namespaces"
fi
forged_cases
live_path_faults

# SPDX-License-Identifier: GPL-2.0-or-later
# The lab: two hosts, a client and a server, each in its own network namespace,
# joined by a veth pair. Only 198.18.0.0/15 and 2001:db8::/32, only inside
# namespaces made here (the suite itself runs under netns/run).
#
#   +---------------- lpc$$ ----------------+      +---------------- lps$$ ----------------+
#   | vc  198.18.0.1/24  2001:db8::1/64     |======| vs  198.18.0.2/24  2001:db8::2/64     |
#   | tcpliveplay, curl, tcpdump            | veth | python3 -m http.server, socat,        |
#   |                                       |      | tcpliveplay-responder                 |
#   +---------------------------------------+      +---------------------------------------+

C_NS=lpc$$
S_NS=lps$$
C4=198.18.0.1
S4=198.18.0.2
C6=2001:db8::1
S6=2001:db8::2

inc() { ip netns exec "$C_NS" "$@"; }
ins() { ip netns exec "$S_NS" "$@"; }

lab_up() {
	ip netns add "$C_NS" && ip netns add "$S_NS" || return 1
	ip link add vc netns "$C_NS" type veth peer name vs netns "$S_NS" || return 1
	inc ip link set lo up && ins ip link set lo up || return 1
	inc ip addr add "$C4/24" dev vc && ins ip addr add "$S4/24" dev vs || return 1
	inc ip addr add "$C6/64" dev vc nodad && ins ip addr add "$S6/64" dev vs nodad || return 1
	inc ip link set vc up && ins ip link set vs up || return 1
	# Wire-sized packets in captures: no segmentation offloads on the veths.
	if command -v ethtool >/dev/null 2>&1; then
		inc ethtool -K vc tso off gso off gro off >/dev/null 2>&1
		ins ethtool -K vs tso off gso off gro off >/dev/null 2>&1
	fi
	wait_for 50 inc ping -c1 -W1 "$S4" || return 1
	wait_for 50 inc ping -c1 -W1 "$S6" || return 1
}

lab_down() {
	for ns in "$C_NS" "$S_NS" "$RC_NS" "$RR_NS" "$RS_NS"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# The routed lab: a client and a server on two subnets, a router between them
# that forwards at most $HOP_MTU bytes either way while every interface keeps
# MTU 1500 (a tunnel, PPPoE, a VPN or a cloud overlay on the path): the router
# answers a larger packet with ICMP fragmentation needed / packet too big. The
# hop's MTU is on the router's routes, not its links: a veth drops a frame
# longer than the receiving end's MTU silently, which is a black hole, not a
# smaller hop.
#
#   +---- lprc$$ -----+      +---------- lprr$$ ----------+      +---- lprs$$ -----+
#   | rc0 198.19.1.1  |======| rr1 198.19.1.254           |      | servers;        |
#   | 2001:db8:1::1   | veth | 2001:db8:1::fe             |      | the responder   |
#   | tcpliveplay,    |      |   forwarding; routes both  |      | on 198.19.2.4 / |
#   | curl, socat     |      |   ways mtu $HOP_MTU        |      | 2001:db8:2::4   |
#   |                 |      | rr2 198.19.2.254           |======| rs0 198.19.2.1  |
#   |                 |      | 2001:db8:2::fe             | veth | 2001:db8:2::1   |
#   +-----------------+      +----------------------------+      +-----------------+
RC_NS=lprc$$
RR_NS=lprr$$
RS_NS=lprs$$
RC4=198.19.1.1
RS4=198.19.2.1
RSP4=198.19.2.4
RR4=198.19.1.254
RC6=2001:db8:1::1
RS6=2001:db8:2::1
RSP6=2001:db8:2::4
RR6=2001:db8:1::fe
HOP_MTU=1280

inrc() { ip netns exec "$RC_NS" "$@"; }
inrr() { ip netns exec "$RR_NS" "$@"; }
inrs() { ip netns exec "$RS_NS" "$@"; }

routed_up() {
	ip netns add "$RC_NS" && ip netns add "$RR_NS" && ip netns add "$RS_NS" || return 1
	ip link add rc0 netns "$RC_NS" type veth peer name rr1 netns "$RR_NS" || return 1
	ip link add rr2 netns "$RR_NS" type veth peer name rs0 netns "$RS_NS" || return 1
	for a in "$RC_NS rc0 $RC4/24 $RC6/64" "$RR_NS rr1 $RR4/24 $RR6/64" \
		"$RR_NS rr2 198.19.2.254/24 2001:db8:2::fe/64" "$RS_NS rs0 $RS4/24 $RS6/64"; do
		set -- $a
		ip -n "$1" link set lo up && ip -n "$1" addr add "$3" dev "$2" &&
			ip -n "$1" addr add "$4" dev "$2" nodad &&
			ip -n "$1" link set "$2" up || return 1
		# Wire-sized packets: no segmentation offloads.
		if command -v ethtool >/dev/null 2>&1; then
			ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1
		fi
	done
	ip -n "$RC_NS" route add default via "$RR4" &&
	ip -n "$RC_NS" -6 route add default via "$RR6" &&
	ip -n "$RS_NS" route add default via 198.19.2.254 &&
	ip -n "$RS_NS" -6 route add default via 2001:db8:2::fe || return 1
	inrr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	for r in "198.19.1.0/24 rr1 $RR4" "198.19.2.0/24 rr2 198.19.2.254"; do
		set -- $r
		ip -n "$RR_NS" route replace "$1" dev "$2" proto kernel scope link src "$3" \
			mtu "$HOP_MTU" || return 1
	done
	for r in "2001:db8:1::/64 rr1" "2001:db8:2::/64 rr2"; do
		set -- $r
		ip -n "$RR_NS" -6 route replace "$1" dev "$2" proto kernel metric 256 \
			mtu "$HOP_MTU" || return 1
	done
	wait_for 50 inrc ping -c1 -W1 "$RS4" || return 1
	wait_for 50 inrc ping -c1 -W1 "$RS6" || return 1
}

# wait_for N CMD...: run CMD up to N times, 0.1 s apart, until it succeeds.
wait_for() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# listening NS PORT: something listens on TCP PORT in namespace NS.
listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .
}

# record NS IFACE FILE CMD...: capture the TCP traffic CMD causes (build/lp-record:
# tcpdump cannot drop privileges inside an unprivileged user namespace).
record() {
	rns=$1
	rif=$2
	rfile=$3
	rm -f "$rfile"
	shift 3
	ip netns exec "$rns" "${LP_BUILD:-build}/lp-record" "$rif" "$rfile" tcp &
	rpid=$!
	wait_for 50 test -s "$rfile" || { kill "$rpid"; return 1; }
	"$@"
	rrc=$?
	sleep 0.3
	kill -INT "$rpid"
	wait "$rpid" 2>/dev/null
	return $rrc
}

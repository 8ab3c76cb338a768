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
	ip netns pids "$C_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns pids "$S_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$C_NS" 2>/dev/null
	ip netns del "$S_NS" 2>/dev/null
	return 0
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

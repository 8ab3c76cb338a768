# SPDX-License-Identifier: GPL-2.0-or-later
# A replay on the loopback device of the client host: a real server bound to
# 127.0.0.1, its capture recorded on lo. The kernel takes injected packets
# from its own address only with accept_local (and route_localnet for
# 127.0.0.0/8), set here in the lab's client namespace alone; without them
# the replay is refused at once, with the fix.
# Sourced by tests/e2e/run.sh.

bg sh -c "cd '$T/www' && exec ip netns exec '$C_NS' python3 -m http.server --bind 127.0.0.1 8080 \
	> '$T/http-lo.log' 2>&1"
if wait_for 100 listening "$C_NS" 8080; then
	record "$C_NS" lo "$T/lo.pcap" inc curl -s -o /dev/null http://127.0.0.1:8080/1k.bin
	t0=$(date +%s%N)
	out=$(inc "$LP" -i lo -r "$T/lo.pcap" --dst 127.0.0.1 --timeout 3 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ $rc -eq 3 ] && [ $ms -lt 1000 ] &&
		grep -q 'as root: sysctl -w net.ipv4.conf.lo.accept_local=1 net.ipv4.conf.lo.route_localnet=1$' <<<"$out"; then
		ok "loopback without accept_local: refused at once (exit 3), naming the sysctl"
	else
		not_ok "loopback without accept_local: refused at once (exit 3), naming the sysctl" "exit $rc, $ms ms" "$out"
	fi
	inc sysctl -qw net.ipv4.conf.lo.accept_local=1 net.ipv4.conf.lo.route_localnet=1
	out=$(inc "$LP" -i lo -r "$T/lo.pcap" --dst 127.0.0.1 --timeout 10 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" &&
		[ "$(grep -c '"GET /1k.bin' "$T/http-lo.log")" -eq 2 ]; then
		ok "live replay on loopback"
	else
		not_ok "live replay on loopback" "exit $rc" "$out"
	fi
else
	not_ok "python3 -m http.server on 127.0.0.1 did not start"
fi

# SPDX-License-Identifier: GPL-2.0-or-later
# Least privilege: once set up, tcpliveplay and tcpliveplay-responder hold no
# capability; with --user (started as real root) they also run as that user.
# A replay against the sink on 8001 (10-live.sh) stays up long enough to look.
# Sourced by tests/e2e/run.sh.

# status_of PID FIELD: a field of /proc/PID/status.
status_of() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

priv_case() {
	name=$1
	shift
	ip netns exec "$C_NS" "$LP" -i vc -r "$T/get1k-v4.pcap" --dst "$S4:8001" --timeout 20 "$@" \
		> "$T/priv.out" 2>&1 &
	ppid_=$!
	wait_for 50 grep -q '^live:' "$T/priv.out"
	sleep 0.2
	cap=$(status_of $ppid_ CapEff)
	bnd=$(status_of $ppid_ CapBnd)
	uid=$(status_of $ppid_ Uid)
	guard=$(inc nft list tables 2>/dev/null | grep -c tcpliveplay)
	kill -INT $ppid_
	wait $ppid_
	# The tables go with the guard's socket, which a helper process closes
	# (taking the kernel's grace period) a moment after the exit.
	wait_for 20 sh -c "! ip netns exec $C_NS nft list tables 2>/dev/null | grep -q tcpliveplay"
	after=$(inc nft list tables 2>/dev/null | grep -c tcpliveplay)
}

priv_case "no capability"
if [ "$cap" = 0000000000000000 ] && [ "$guard" -eq 2 ] && [ "$after" -eq 0 ]; then
	ok "tcpliveplay drops every capability once set up (CapEff $cap, CapBnd $bnd), the guard stays and goes"
else
	not_ok "tcpliveplay drops every capability once set up" "CapEff '$cap', guard $guard, after $after" \
		"$(cat "$T/priv.out")"
fi

if awk '$1 == 0 && $2 == 0 && $3 == 4294967295 { found = 1 } END { exit !found }' /proc/self/uid_map; then
	priv_case "--user nobody" --user nobody
	if [ "$cap" = 0000000000000000 ] && [ "$(echo "$uid" | cut -f1)" = 65534 ] && [ "$guard" -eq 2 ] &&
		[ "$after" -eq 0 ]; then
		ok "tcpliveplay --user nobody runs as uid 65534 with no capability"
	else
		not_ok "tcpliveplay --user nobody runs as uid 65534 with no capability" "uid '$uid', CapEff '$cap'" \
			"$(cat "$T/priv.out")"
	fi
else
	skipped "tcpliveplay --user nobody" "inside a user namespace only uid 0 is mapped"
fi

rm -f "$T/rpriv.out"
ip netns exec "$S_NS" timeout 30 "$B/tcpliveplay-responder" -i vs -r "$T/get1k-v4.pcap" --ip 198.18.0.3 \
	--port 8000 --seed 2 > "$T/rpriv.out" 2>&1 &
rpid=$!
wait_for 50 grep -q '^serving' "$T/rpriv.out"
out=$(inc "$LP" -i vc -r "$T/get1k-v4.pcap" --dst 198.18.0.3:8000 --timeout 20 2>&1)
rc=$?
# $rpid is timeout(1); the responder is its child.
rcap=$(status_of "$(pgrep -P $rpid | head -1)" CapEff)
kill -TERM $rpid
wait $rpid
if [ "$rcap" = 0000000000000000 ] && [ $rc -eq 0 ]; then
	ok "tcpliveplay-responder serves with no capability left"
else
	not_ok "tcpliveplay-responder serves with no capability left" "CapEff '$rcap', replay exit $rc" "$out"
fi

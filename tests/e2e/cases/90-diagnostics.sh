# SPDX-License-Identifier: GPL-2.0-or-later
# Honest diagnostics (issue 20), live: a slow server is waited for, not called
# divergent; a gone one is found by keepalives; a capture with a hole is
# refused before anything is sent (the server sees no SYN); -i is checked
# against the route, taken from it when not given, an IPv6 zone names it;
# a flow of the other family is skipped with the reason; results on stdout,
# traces on stderr, --json - one document. Stands alone (E2E_CASES='90-*').
# Sourced by tests/e2e/run.sh.

DG=$T/diag
mkdir -p "$DG"
PCAPDROP=tests/e2e/tools/pcapdrop.py

# A server that answers each request after as many seconds as $DG/delay says.
echo 0 > "$DG/delay"
cat > "$DG/slow.py" <<'PY'
import socket, sys, threading, time
delay_file = sys.argv[1]
body = b"x" * 3000
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::", 7301))
srv.listen()
def serve(c):
    with c:
        try:
            c.recv(4096)
            time.sleep(float(open(delay_file).read()))
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3000\r\n\r\n" + body)
        except OSError:
            pass  # a client that gave up and reset
while True:
    threading.Thread(target=serve, args=(srv.accept()[0],), daemon=True).start()
PY
bg ip netns exec "$S_NS" python3 "$DG/slow.py" "$DG/delay"
bg ip netns exec "$S_NS" socat TCP-LISTEN:7302,reuseaddr,fork EXEC:cat
wait_for 100 listening "$S_NS" 7301 || not_ok "the slow server did not start"
wait_for 100 listening "$S_NS" 7302 || not_ok "socat echo on 7302 did not start"

get4() { inc curl -s -o /dev/null "http://$S4:7301/"; }
get6() { inc curl -s -g -o /dev/null "http://[$S6]:7301/"; }
get_both() { get4 && get6; }
record "$C_NS" vc "$DG/slow.pcap" get4
record "$C_NS" vc "$DG/slow6.pcap" get6
record "$C_NS" vc "$DG/both.pcap" get_both

# elapsed CMD...: run CMD, out/rc/secs set (stdout and stderr apart in $DG).
elapsed() {
	t0=$(date +%s%N)
	"$@" > "$DG/out" 2> "$DG/err"
	rc=$?
	secs=$(((($(date +%s%N) - t0) / 1000000 + 500) / 1000))
	out=$(cat "$DG/out" "$DG/err")
}

# 1: the server answers after 12 s; --timeout 60: waited for, matched.
echo 12 > "$DG/delay"
name="a server that answers after 12 s, --timeout 60: waited for, matched (keepalives answered)"
elapsed inc "$LP" -i vc -r "$DG/slow.pcap" --dst "$S4" --timeout 60 -vv
kas=$(grep -c ' out 198\.18\.0\.1:[0-9]* > 198\.18\.0\.2:7301 \[\.\] .* len 0' "$DG/err")
if [ $rc -eq 0 ] && grep -q '^verdict: matched$' "$DG/out" && [ "$secs" -ge 12 ] &&
	grep -q 'timer: keepalive' "$DG/err" && [ "$kas" -ge 5 ]; then
	ok "$name ($secs s)"
else
	not_ok "$name" "exit $rc after $secs s, $kas bare ACKs" "$(grep -v ' in \| out ' <<<"$out" | head -20)"
fi

# 2: --patience 3 against it: failed, no answer, the connection alive.
name="--patience 3 against a server that takes 12 s: failed, no answer, the connection alive"
elapsed inc "$LP" -i vc -r "$DG/slow.pcap" --dst "$S4"  --patience 3
if [ $rc -eq 1 ] && [ "$secs" -le 5 ] &&
	grep -Eq '^verdict: failed \(no answer from the peer in 3 s while waiting for S1 \([0-9]+ bytes\); the connection is alive \(the peer answers keepalives\)\)$' "$DG/out" &&
	grep -q '^hint: a slow peer is waited for up to --patience S' "$DG/err"; then
	ok "$name"
else
	not_ok "$name" "exit $rc after $secs s" "$out"
fi

# 3: the server goes silent for good (its host drops everything): the
# keepalives find it, before the patience is out.
if command -v nft >/dev/null 2>&1; then
	name="a server that vanishes mid-wait: peer unresponsive, found by keepalives"
	echo 30 > "$DG/delay"
	ip netns exec "$C_NS" "$LP" -i vc -r "$DG/slow.pcap" --dst "$S4" --patience 60 --retries 2 \
		> "$DG/gone.out" 2>&1 &
	gpid=$!
	wait_for 50 grep -q '^live:' "$DG/gone.out"
	sleep 0.5
	ins nft -f - <<'EOF'
table inet lpgone {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport 7301 drop
	}
}
EOF
	wait $gpid
	rc=$?
	ins nft delete table inet lpgone
	if [ $rc -eq 1 ] &&
		grep -q '^verdict: failed (peer unresponsive: no answer to 2 keepalives while waiting for S1)' "$DG/gone.out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc" "$(cat "$DG/gone.out")"
	fi
else
	skipped "a server that vanishes mid-wait" "nft (nftables) not installed"
fi
echo 0 > "$DG/delay"

# 4: a capture with a hole: a client packet of an echo conversation (C2) not
# captured. The replay refuses before anything is sent: the server saw no SYN.
echo_lines() {
	for i in 1 2 3 4 5; do
		echo "line $i"
		sleep 0.05
	done | inc socat -t 1 - "TCP:$S4:7302" > /dev/null
}
record "$C_NS" vc "$DG/echo.pcap" echo_lines
c2=$("$LP" --dump -r "$DG/echo.pcap" | awk '$3 == "C2" { print $NF }')
python3 "$PCAPDROP" "$DG/echo.pcap" "$DG/hole.pcap" $c2
c3=$("$LP" --dump -r "$DG/hole.pcap" 2>/dev/null | awk '$3 == "C2" { print $NF }')
name="a capture with a hole: refused before anything is sent, the server saw no SYN"
seen() { elapsed inc "$LP" -i vc -r "$DG/hole.pcap" --dst "$S4"; }
record "$S_NS" vs "$DG/seen.pcap" seen
syns=$("$LP" --list "$DG/seen.pcap" 2>/dev/null | grep -vc '^#')
if [ $rc -eq 2 ] && [ "$syns" -eq 0 ] && [ -n "$c3" ] &&
	grep -q "flow 1: the client stream lacks 7 bytes at offset 7 (not captured; the bytes after it are in packet $c3); a replay would send zeros in their place, so nothing is sent (--holes zero sends them knowingly)$" "$DG/err"; then
	ok "$name"
else
	not_ok "$name" "exit $rc, $syns flow(s) seen by the server, C2 was packet $c2, next $c3" "$out"
fi
name="--holes zero: the zeros are sent knowingly, with a warning"
elapsed inc "$LP" -i vc -r "$DG/hole.pcap" --dst "$S4" --timeout 20 --holes zero
if [ $rc -eq 0 ] && grep -q '^verdict: matched' "$DG/out" &&
	grep -q 'warning: .*the client stream lacks 7 bytes at offset 7 .*--holes zero: zeros go in their place' "$DG/err"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi
s2=$("$LP" --dump -r "$DG/echo.pcap" | awk '$3 == "S2" { print $NF }')
python3 "$PCAPDROP" "$DG/echo.pcap" "$DG/srvhole.pcap" $s2
name="tcpliveplay-responder refuses a capture whose server stream has a hole"
elapsed ip netns exec "$S_NS" timeout 10 "$B/tcpliveplay-responder" -i vs -r "$DG/srvhole.pcap" --ip 198.18.0.3
if [ $rc -eq 2 ] && grep -q 'flow 1: the server stream lacks 7 bytes at offset 7 ' "$DG/err"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi

# 5: -i against the route. A second interface with a subnet of its own.
inc ip link add vx type veth peer name vy
inc ip link set vx up
inc ip link set vy up
inc ip addr add 198.19.5.1/24 dev vx
for i in vx lo; do
	name="-i $i, the route goes via vc: refused at once, naming it (exit 3)"
	elapsed inc "$LP" -i $i -r "$DG/slow.pcap" --dst "$S4" --timeout 20
	if [ $rc -eq 3 ] && [ "$secs" -le 1 ] && grep -q "the route to 198.18.0.2 goes via vc, not $i: leave -i out" "$DG/err"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc after $secs s" "$out"
	fi
done
name="no -i: the route's interface is taken"
elapsed inc "$LP" -r "$DG/slow.pcap" --dst "$S4" --timeout 20
if [ $rc -eq 0 ] && grep -q '^live: 198\.18\.0\.1:[0-9]* -> 198\.18\.0\.2:7301 via vc ' "$DG/out"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi
name="--dst this host's own address on vc: refused at once (exit 3)"
elapsed inc "$LP" -i vc -r "$DG/slow.pcap" --dst "$C4" --timeout 20
if [ $rc -eq 3 ] && grep -q "198.18.0.1 is this host's own address (the kernel delivers it on lo, not vc)" "$DG/err"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi
name="--dst a subnet's broadcast address: refused (exit 2)"
elapsed inc "$LP" -r "$DG/slow.pcap" --dst 198.18.0.255 --timeout 20
if [ $rc -eq 2 ] && grep -q "198.18.0.255 is the broadcast address of vc's subnet" "$DG/err"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi

# 6: IPv6: a zone names the interface; the ADDR:PORT look-alike is hinted at once.
ll=$(ins ip -6 -o addr show dev vs scope link | awk '{ sub("/.*", "", $4); print $4; exit }')
v6=$DG/slow6.pcap
name="--dst [fe80::...%vc]:7301: the zone is the interface, matched"
elapsed inc "$LP" -r "$v6" --dst "[$ll%vc]:7301" --timeout 20
if [ -n "$ll" ] && [ $rc -eq 0 ] && grep -q "^live: \[fe80::[0-9a-f:]*\]:[0-9]* -> \[$ll\]:7301 via vc " "$DG/out"; then
	ok "$name"
else
	not_ok "$name" "exit $rc, link-local '$ll'" "$out"
fi
name="--dst 2001:db8::2:7301: the bracketed form is hinted before anything else"
elapsed inc "$LP" -r "$v6" --dst "2001:db8::2:7301" --timeout 20
if [ $rc -ne 0 ] &&
	[ "$(head -1 "$DG/err")" = "tcpliveplay: warning: --dst 2001:db8::2:7301 is read as one IPv6 address; for address 2001:db8::2 and port 7301 write [2001:db8::2]:7301" ]; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi

# 7: many flows of two families: the other family's flow is skipped with the
# reason, even with --any-client.
name="--flow all of an IPv4 and an IPv6 flow, --any-client: the IPv6 flow skipped, one family per run"
elapsed inc "$LP" -r "$DG/both.pcap" --flow all --any-client --dst "$S4" --timeout 20
if [ $rc -eq 0 ] &&
	grep -q "^flow 2: skipped: .*(an IPv6 flow, and the replayed host's is IPv4: one family per run (replay it with --flow 2))$" "$DG/out" &&
	grep -q '^summary: 2 flows: 1 matched, 0 diverged, 0 failed, 1 skipped$' "$DG/out"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi

# 8: where output goes: -vv traces packets on stderr, the report on stdout;
# --json -: one document on stdout, the trace on stderr; -q: nothing.
name="-vv: each packet in and out on stderr, the report alone on stdout"
elapsed inc "$LP" -r "$DG/slow.pcap" --dst "$S4" --timeout 20 -vv
if [ $rc -eq 0 ] && grep -q '^ *[0-9.]* out 198\.18\.0\.1:[0-9]* > 198\.18\.0\.2:7301 \[S\] seq ' "$DG/err" &&
	grep -q '^ *[0-9.]* in  198\.18\.0\.2:7301 > 198\.18\.0\.1:[0-9]* \[S\.\] ' "$DG/err" &&
	! grep -q ' out \| in \|client ' "$DG/out" && grep -q '^verdict: matched$' "$DG/out"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$(head -20 "$DG/out")"
fi
name="--json - of a live replay: one JSON document on stdout, the -v trace on stderr"
elapsed inc "$LP" -r "$DG/slow.pcap" --dst "$S4" --timeout 20 -v --json -
if [ $rc -eq 0 ] && python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(d["verdict"] != "matched")' "$DG/out" &&
	grep -q 'client connected' "$DG/err"; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi
name="-q: a live replay prints nothing, the exit status tells"
elapsed inc "$LP" -r "$DG/slow.pcap" --dst "$S4" --timeout 20 -q
if [ $rc -eq 0 ] && [ ! -s "$DG/out" ] && [ ! -s "$DG/err" ]; then
	ok "$name"
else
	not_ok "$name" "exit $rc" "$out"
fi
inc ip link del vx

# SPDX-License-Identifier: GPL-2.0-or-later
# TAP devices: the emulated host serves this host's own programs (curl), and
# the replayed client talks to this host's own server (python3 -m http.server),
# each behind a TAP; no namespace between them and no RST guard. "This host"
# is a namespace of its own, lpt$$; the captures are recorded in the lab
# (curl in lpc$$ fetching from python3 -m http.server in lps$$ on port 8020).
#
#   +----------------------- lpt$$: "this host" -----------------------+
#   | curl, python3 -m http.server, socat                              |
#   |   lt0  198.18.0.1/24 2001:db8::1/64 ====TAP==== tcpliveplay-responder as 198.18.0.2 / 2001:db8::2
#   |   lt1  198.18.0.2/24 2001:db8::2/64 ====TAP==== tcpliveplay from 198.18.0.3 / 2001:db8::3
#   |   lu0  198.18.3.1/24 (persistent, user nobody) ==TAP== both programs as nobody
#   +------------------------------------------------------------------+
# Sourced by tests/e2e/run.sh.

TAP_NS=lpt$$
TW=$T/tap
int() { ip netns exec "$TAP_NS" "$@"; }
# as_nobody CMD...: in lpt$$ as uid/gid 65534, no capability, no group
# (ip netns exec and setpriv exec the program: in the background, $! is its
# PID when started without a shell function).
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --"
as_nobody() { ip netns exec "$TAP_NS" $AS_NOBODY "$@"; }
tap_gone() { ! int ip link show "$1" >/dev/null 2>&1; }
# proc_field PID FIELD: a field of /proc/PID/status.
proc_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
tap_cleanup() {
	for p in $TAP_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns pids "$TAP_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$TAP_NS" 2>/dev/null
	mountpoint -q /dev/net/tun 2>/dev/null && umount -l /dev/net/tun
	mountpoint -q "$TW/dev" 2>/dev/null && umount -l "$TW/dev"
}
TAP_PIDS=""

mkdir -p "$TW/www"
head -c 4096 /dev/urandom > "$TW/www/4k.bin"
ip netns add "$TAP_NS" && int ip link set lo up

# The unprivileged part needs a device node the user nobody may open; this
# host's is 0600 on some systems: a usable node in the suite's own mount
# namespace (netns/run made it) stands in for it where one can be made.
node_why=""
if [ -c /dev/net/tun ] && ! $AS_NOBODY sh -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
	mkdir -p "$TW/dev"
	if ! { mount -t tmpfs -o mode=0755 lp-tun "$TW/dev" && mknod -m 0666 "$TW/dev/tun" c 10 200 &&
		mount --bind "$TW/dev/tun" /dev/net/tun; } 2>"$TW/mknod.err"; then
		node_why="/dev/net/tun is closed to other users and no usable node can be made here ($(head -1 "$TW/mknod.err"))"
	fi
fi
tun_why=""
if ! [ -c /dev/net/tun ]; then
	tun_why="no /dev/net/tun (modprobe tun)"
elif ! { int ip tuntap add dev ltprobe mode tap && int ip tuntap del dev ltprobe mode tap; } 2>"$TW/probe.err"; then
	tun_why="TAP devices cannot be made here ($(head -1 "$TW/probe.err")${node_why:+; $node_why})"
fi

if [ -n "$tun_why" ]; then
	for t in "curl -> responder over a TAP" "tcpliveplay over a TAP" "many flows over a TAP" \
		"TAP gone after exit and kill -9" "TAP errors" "a persistent TAP of nobody"; do
		skipped "$t" "$tun_why"
	done
	tap_cleanup
	return 0 2>/dev/null || exit 0
fi

# ---- recordings in the lab ----
bg sh -c "cd '$TW/www' && exec ip netns exec '$S_NS' python3 -m http.server --bind :: 8020 > '$TW/lab-http.log' 2>&1"
wait_for 100 listening "$S_NS" 8020 || not_ok "python3 -m http.server on port 8020 of the lab did not start"
record "$C_NS" vc "$TW/v4.pcap" inc curl -s -o /dev/null "http://$S4:8020/4k.bin"
record "$C_NS" vc "$TW/v6.pcap" inc curl -s -g -o /dev/null "http://[$S6]:8020/4k.bin"
# 40 requests of one length (n=10..49), so that any session may play any flow.
urls=()
for i in $(seq 10 49); do urls+=(-o /dev/null "http://$S4:8020/4k.bin?n=$i"); done
record "$C_NS" vc "$TW/many.pcap" inc curl -s --no-progress-meter --parallel --parallel-max 10 "${urls[@]}"
nmany=$("$LP" --list "$TW/many.pcap" 2>/dev/null | grep -vc '^#')

# ---- curl -> tcpliveplay-responder over a TAP ----
# tap_serve NAME CAPTURE IP URL ARGS...: the responder behind TAP lt0 (made for
# the run) serves CAPTURE at IP, curl fetches URL on this host; sets
# srv_rc, srv_out, curl_rc, and $TW/got.
tap_serve() {
	tsname=$1 cap=$2 ip=$3 url=$4
	shift 4
	rm -f "$TW/got"
	ip netns exec "$TAP_NS" "$B/tcpliveplay-responder" --tap lt0 --tap-addr 198.18.0.1/24 \
		--tap-addr 2001:db8::1/64 -r "$cap" --ip "$ip" --once --seed 5 --idle-timeout 10 "$@" \
		> "$TW/$tsname.log" 2>&1 &
	spid=$!
	wait_for 50 grep -q '^serving' "$TW/$tsname.log"
	int timeout 20 curl -s -g -o "$TW/got" "$url"
	curl_rc=$?
	wait $spid
	srv_rc=$?
	srv_out=$(cat "$TW/$tsname.log")
}

for fam in 4 6; do
	if [ $fam = 4 ]; then ip=198.18.0.2; url="http://198.18.0.2:8020/4k.bin"; else ip=2001:db8::2; url="http://[2001:db8::2]:8020/4k.bin"; fi
	name="curl -> responder over a TAP (IPv$fam): the body byte-identical to the captured one, matched"
	tap_serve "srv$fam" "$TW/v$fam.pcap" "$ip" "$url"
	if [ $curl_rc -eq 0 ] && cmp -s "$TW/got" "$TW/www/4k.bin" && [ $srv_rc -eq 0 ] &&
		grep -q 'on TAP lt0' <<<"$srv_out" && grep -q 'verdict matched' <<<"$srv_out" && tap_gone lt0; then
		ok "$name"
	else
		not_ok "$name" "curl exit $curl_rc, responder exit $srv_rc, TAP left: $(tap_gone lt0 && echo no || echo yes)" \
			"$srv_out"
	fi
done

name="curl -> responder over a TAP with a fault (drop:2): the body whole after a retransmission"
tap_serve srvf "$TW/v4.pcap" 198.18.0.2 "http://198.18.0.2:8020/4k.bin" --fault drop:2
if [ $curl_rc -eq 0 ] && cmp -s "$TW/got" "$TW/www/4k.bin" && [ $srv_rc -eq 0 ] &&
	grep -q 'faults fired 1' <<<"$srv_out" && grep -Eq 'retransmissions [1-9]' <<<"$srv_out"; then
	ok "$name"
else
	not_ok "$name" "curl exit $curl_rc, responder exit $srv_rc" "$srv_out"
fi

# ---- tcpliveplay over a TAP against this host's own server ----
bg sh -c "cd '$TW/www' && exec ip netns exec '$TAP_NS' python3 -m http.server --bind :: 8020 > '$TW/http.log' 2>&1"
TAP_PIDS="$TAP_PIDS $!"
wait_for 100 listening "$TAP_NS" 8020 || not_ok "python3 -m http.server on port 8020 of $TAP_NS did not start"
tget() { grep -c '"GET /4k.bin' "$TW/http.log"; }

for fam in 4 6; do
	if [ $fam = 4 ]; then a=198.18.0.2/24; dst=198.18.0.2; src=198.18.0.3; else a=2001:db8::2/64; dst=2001:db8::2; src='\[2001:db8::3\]'; fi
	name="tcpliveplay over a TAP (IPv$fam) against python3 -m http.server of this host: matched, TAP gone after"
	before=$(tget)
	out=$(int "$LP" --tap lt1 --tap-addr "$a" -r "$TW/v$fam.pcap" --dst "$dst" --seed 5 --timeout 20 2>&1)
	rc=$?
	after=$(tget)
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out" && grep -q "^live: $src:[0-9]* -> .* via TAP lt1" <<<"$out" &&
		[ "$after" -eq $((before + 1)) ] && tap_gone lt1; then
		ok "$name"
	else
		not_ok "$name" "exit $rc, GETs $before -> $after" "$out"
	fi
done

# A server that accepts and never answers keeps the replay running: no
# nftables table meanwhile, the TAP there; kill -9 takes the TAP with it.
bg ip netns exec "$TAP_NS" socat -u TCP-LISTEN:8021,reuseaddr,fork OPEN:/dev/null
TAP_PIDS="$TAP_PIDS $!"
wait_for 50 listening "$TAP_NS" 8021
name="tcpliveplay over a TAP: no nftables table while it runs, the TAP gone after kill -9"
ip netns exec "$TAP_NS" "$LP" --tap lt1 --tap-addr 198.18.0.2/24 -r "$TW/v4.pcap" --dst 198.18.0.2:8021 \
	--timeout 30 > "$TW/kill.out" 2>&1 &
kpid=$!
wait_for 50 grep -q '^live:' "$TW/kill.out"
during=$(int ip -br link show lt1 2>/dev/null | grep -c .)
tables=$(int nft list tables 2>/dev/null | grep -c .)
kill -9 $kpid
wait $kpid 2>/dev/null
if [ "$during" -eq 1 ] && [ "$tables" -eq 0 ] && wait_for 20 tap_gone lt1; then
	ok "$name"
else
	not_ok "$name" "TAP during the run: $during, nftables tables: $tables, left after kill -9: $(tap_gone lt1 && echo no || echo yes)" \
		"$(cat "$TW/kill.out")"
fi

# ---- many flows over a TAP ----
name="many flows over a TAP: $nmany flows replayed against this host's server, all matched (JSON)"
before=$(tget)
out=$(int "$LP" --tap lt1 --tap-addr 198.18.0.2/24 -r "$TW/many.pcap" --flow all --dst 198.18.0.2 --seed 6 \
	--timeout 60 --json "$TW/many.json" 2>&1)
rc=$?
after=$(tget)
jwhy=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["totals"]; sys.exit(0 if t["flows"]==t["matched"]==int(sys.argv[2]) else "totals %s" % t)' \
	"$TW/many.json" "$nmany" 2>&1)
if [ "$nmany" -eq 40 ] && [ $rc -eq 0 ] && [ -z "$jwhy" ] && [ "$after" -eq $((before + 40)) ] && tap_gone lt1; then
	ok "$name"
else
	not_ok "$name" "exit $rc, GETs $before -> $after, $jwhy" "$(tail -5 <<<"$out")"
fi

name="many flows over a TAP: the responder serves $nmany parallel curl fetches, all matched (JSON)"
ip netns exec "$TAP_NS" "$B/tcpliveplay-responder" --tap lt0 --tap-addr 198.18.0.1/24 -r "$TW/many.pcap" \
	--flow all --ip 198.18.0.2 --seed 7 -q --json "$TW/rmany.json" > "$TW/rmany.out" 2>&1 &
spid=$!
wait_for 50 sh -c "ip netns exec $TAP_NS ip route get 198.18.0.2 2>/dev/null | grep -q 'dev lt0'"
urls=()
for i in $(seq 10 49); do urls+=(-o "$TW/many-$i.got" "http://198.18.0.2:8020/4k.bin?n=$i"); done
int timeout 60 curl -s --no-progress-meter --parallel --parallel-max 10 "${urls[@]}"
crc=$?
wait_for 50 sh -c "[ \$(grep -c . '$TW/rmany.json' 2>/dev/null) -ge 40 ]"
kill -TERM $spid
wait $spid
rrc=$?
same=0
for i in $(seq 10 49); do cmp -s "$TW/many-$i.got" "$TW/www/4k.bin" && same=$((same + 1)); done
if [ $crc -eq 0 ] && [ $same -eq 40 ] && [ $rrc -eq 0 ] &&
	[ "$(grep -c '"verdict":"matched"' "$TW/rmany.json")" -eq 40 ]; then
	ok "$name"
else
	not_ok "$name" "curl exit $crc, $same of 40 bodies whole, responder exit $rrc" "$(tail -5 "$TW/rmany.out")"
fi

# ---- errors name the fix ----
name="TAP errors: no --tap-addr for a TAP made here, the host's own --ip, --tap-addr on an existing TAP"
out1=$(int "$LP" --tap lt2 -r "$TW/v4.pcap" --dst 198.18.0.2 2>&1)
rc1=$?
out2=$(int "$B/tcpliveplay-responder" --tap lt2 --tap-addr 198.18.0.1/24 -r "$TW/v4.pcap" --ip 198.18.0.1 2>&1)
rc2=$?
int ip tuntap add dev lt3 mode tap
out3=$(int "$LP" --tap lt3 --tap-addr 198.18.0.2/24 -r "$TW/v4.pcap" --dst 198.18.0.2 2>&1)
rc3=$?
out4=$(int "$LP" --tap lt3 -r "$TW/v4.pcap" --dst 198.18.0.2 2>&1)
rc4=$?
int ip tuntap del dev lt3 mode tap
if [ $rc1 -eq 2 ] && grep -q -- '--tap-addr ADDR/PREFIX' <<<"$out1" && [ $rc2 -eq 2 ] &&
	grep -q "is this host's own address" <<<"$out2" && [ $rc3 -eq 2 ] && grep -q 'exists already' <<<"$out3" &&
	[ $rc4 -eq 3 ] && grep -q 'ip link set lt3 up' <<<"$out4" && tap_gone lt2; then
	ok "$name"
else
	not_ok "$name" "exits $rc1 $rc2 $rc3 $rc4" "$out1" "$out2" "$out3" "$out4"
fi

# ---- a persistent TAP of the user nobody, who runs both programs ----
name="a persistent TAP of nobody: both programs run as nobody with no capability, matched"
U=$(mktemp -d "${TMPDIR:-/tmp}/lp-tapu.XXXXXX")
chmod 0755 "$U"
cp "$TW/v4.pcap" "$U/" && chmod 0644 "$U/v4.pcap"
if [ -n "$node_why" ]; then
	skipped "$name" "$node_why"
elif ! $AS_NOBODY test -x "$LP" -a -r "$U/v4.pcap" 2>/dev/null; then
	skipped "$name" "the user nobody cannot run $LP (a folder on its path is closed to others)"
elif ! int ip tuntap add dev lu0 mode tap user nobody 2>"$TW/lu0.err"; then
	skipped "$name" "no TAP for nobody here ($(head -1 "$TW/lu0.err"))"
else
	int ip addr add 198.18.3.1/24 dev lu0
	int ip link set lu0 up
	# shellcheck disable=SC2086
	ip netns exec "$TAP_NS" $AS_NOBODY "$B/tcpliveplay-responder" --tap lu0 -r "$U/v4.pcap" --ip 198.18.3.2 \
		--once --seed 5 --idle-timeout 10 > "$TW/u-srv.log" 2>&1 &
	spid=$!
	wait_for 50 grep -q '^serving' "$TW/u-srv.log"
	ucap=$(proc_field $spid CapEff)
	uuid=$(proc_field $spid Uid)
	rm -f "$TW/got"
	int timeout 20 curl -s -o "$TW/got" "http://198.18.3.2:8020/4k.bin"
	crc=$?
	wait $spid
	rrc=$?
	before=$(tget)
	out=$(as_nobody "$LP" --tap lu0 -r "$U/v4.pcap" --dst 198.18.3.1 --seed 5 --timeout 20 2>&1)
	rc=$?
	after=$(tget)
	if [ "$ucap" = 0000000000000000 ] && [ "$(echo "$uuid" | cut -f1)" = 65534 ] && [ $crc -eq 0 ] &&
		cmp -s "$TW/got" "$TW/www/4k.bin" && [ $rrc -eq 0 ] && [ $rc -eq 0 ] &&
		grep -q '^verdict: matched' <<<"$out" && [ "$after" -eq $((before + 1)) ] &&
		int ip link show lu0 >/dev/null 2>&1; then
		ok "$name"
	else
		not_ok "$name" "responder: CapEff '$ucap', uid '$uuid', exit $rrc; curl exit $crc; replay exit $rc, GETs $before -> $after" \
			"$(cat "$TW/u-srv.log")" "$out"
	fi
	int ip tuntap del dev lu0 mode tap
fi
rm -rf "$U"
tap_cleanup

# SPDX-License-Identifier: GPL-2.0-or-later
# Verdicts where the host's answer is a reset: a connection the capture shows
# refused, replayed against a host that accepts it (diverged at once) and one
# that refuses it too (matched); an upload the server answers early and
# resets (matched: the host did what the capture shows). Captures recorded
# here from curl against python3 -m http.server. Needs nothing from earlier
# files. Sourced by tests/e2e/run.sh.

VD=$T/verdicts
mkdir -p "$VD/www"
bg sh -c "cd '$VD/www' && exec ip netns exec '$S_NS' python3 -m http.server --bind :: 8450 \
	> '$VD/http.log' 2>&1"
wait_for 100 listening "$S_NS" 8450 || not_ok "python3 -m http.server on 8450 did not start"

# vrun ARGS...: a replay from the client namespace; out, rc and ms set.
vrun() {
	local t0
	t0=$(date +%s%N)
	out=$(inc "$LP" -i vc "$@" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
}

# Nothing listens on 8451: curl's SYN gets the kernel's RST.
record "$C_NS" vc "$VD/refused.pcap" inc curl -s -m 2 "http://$S4:8451/"
if "$LP" -r "$VD/refused.pcap" --list | grep -q 'synack=n .*rst=s'; then
	# The host accepts: diverged as soon as its SYN-ACK comes, whatever
	# --timeout, and the accepted connection is reset.
	for extra in "" "--timeout 20"; do
		vrun -r "$VD/refused.pcap" --dst "$S4:8450" --seed 3 $extra --write "$VD/acc.pcap"
		rsts=$("$LP" -r "$VD/acc.pcap" --list 2>/dev/null | grep -c 'rst=c')
		name="captured refusal, host accepts${extra:+ ($extra)}: diverged at once, connection reset"
		if [ $rc -eq 1 ] && [ $ms -lt 5000 ] && [ "$rsts" -eq 1 ] &&
		   grep -q '^verdict: diverged (the capture shows the connection refused (RST), the host accepted it)' <<<"$out"; then
			ok "$name"
		else
			not_ok "$name" "exit $rc, $ms ms, client resets $rsts" "$out"
		fi
	done
	vrun -r "$VD/refused.pcap" --dst "$S4:8451" --seed 3 --timeout 20
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out"; then
		ok "captured refusal, host refuses too: matched"
	else
		not_ok "captured refusal, host refuses too: matched" "exit $rc" "$out"
	fi
else
	not_ok "record a refused connection" "$("$LP" -r "$VD/refused.pcap" --list 2>&1)"
fi

# A POST of 118 KB: http.server answers 501 and closes while the body still
# comes, and its kernel resets the connection. (No "Expect: 100-continue":
# the body goes at once.)
head -c 120000 /dev/urandom > "$VD/body.bin"
record "$C_NS" vc "$VD/upload.pcap" inc curl -s -m 5 -H 'Expect:' --data-binary "@$VD/body.bin" \
	-o /dev/null "http://$S4:8450/up"
if "$LP" -r "$VD/upload.pcap" --list | grep -q 'fin=[cs]*s[cs]* rst=s'; then
	name="server resets mid-upload as captured: matched"
	vrun -r "$VD/upload.pcap" --dst "$S4:8450" --seed 3 --timeout 20
	if [ $rc -eq 0 ] && grep -q '^verdict: matched' <<<"$out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc" "$out"
	fi
else
	skipped "server resets mid-upload as captured" \
		"the recorded upload shows no server FIN and RST: $("$LP" -r "$VD/upload.pcap" --list 2>&1 | tail -1)"
fi

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Command-line tests of tcpliveplay: every case checks the exit status and
# something of what was printed. Captures written here (printf into a temporary
# folder) need nothing else; the real ones in ../shared/pcaps (TCPLIVEPLAY_PCAPS
# overrides) are used where present and their cases skipped, visibly, where not.
# Environment: LP_BUILD (default build). Last line: "N passed, N failed, N skipped".
set -u

bin=${LP_BUILD:-build}/tcpliveplay
pcaps=${TCPLIVEPLAY_PCAPS:-../shared/pcaps}
passed=0
failed=0
skipped=0

if [ ! -x "$bin" ]; then
	echo "cli.sh: $bin not found; run make first" >&2
	exit 3
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcpliveplay-cli.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# --- Case helpers -----------------------------------------------------------
# begin NAME; run ARGS...; expect_* ...; end. The first failed expectation and
# the output are printed; a case passes when no expectation failed.

begin() {
	name=$1
	why=
}

run() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

note_failure() {
	[ -n "$why" ] || why=$1
}

expect_rc() {
	[ "$rc" -eq "$1" ] || note_failure "exit status $rc, want $1"
}

# expect_grep out|err REGEX: some line matches (grep -E).
expect_grep() {
	grep -Eq -e "$2" "$tmp/$1" || note_failure "std$1 has no line matching /$2/"
}

expect_no_grep() {
	! grep -Eq -e "$2" "$tmp/$1" || note_failure "std$1 has a line matching /$2/"
}

expect_lines() {
	n=$(wc -l <"$tmp/$1")
	[ "$n" -eq "$2" ] || note_failure "std$1 has $n lines, want $2"
}

expect_empty() {
	[ ! -s "$tmp/$1" ] || note_failure "std$1 is not empty"
}

# A usage error: one line naming the problem, then the hint; nothing on stdout.
expect_usage_error() {
	expect_rc 2
	expect_empty out
	expect_lines err 2
	[ "$(sed -n 2p "$tmp/err")" = "Try 'tcpliveplay --help' for more information." ] ||
		note_failure "second line of stderr is not the --help hint"
	sed -n 1p "$tmp/err" | grep -q 'tcpliveplay: ' || note_failure "first line of stderr lacks the program name"
}

end() {
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name: $why"
		sed -n '1,8s/^/    stdout: /p' "$tmp/out" 2>/dev/null
		sed -n '1,8s/^/    stderr: /p' "$tmp/err" 2>/dev/null
	fi
}

# A path as a grep -E pattern that matches it literally.
re() {
	printf '%s\n' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'
}

skip() {
	skipped=$((skipped + 1))
	echo "skip: $1: $pcaps not found (set TCPLIVEPLAY_PCAPS)"
}

have_pcaps() {
	[ -d "$pcaps" ]
}

# --- A capture writer ---------------------------------------------------------
# Classic pcap, little-endian, Ethernet; TCP over IPv4 between 198.18.0.1 and
# 198.18.0.2 (checksums are left zero: the reader does not check them).

hex2bin() {
	h=$1
	while [ -n "$h" ]; do
		b=${h%"${h#??}"}
		h=${h#??}
		# shellcheck disable=SC2059 # the format is the octal escape itself
		printf "\\$(printf %03o "0x$b")"
	done
}

le32() {
	printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

be16() {
	printf '%04x' $(($1 & 65535))
}

be32() {
	printf '%08x' $(($1 & 4294967295))
}

pcap_header() {
	hex2bin "d4c3b2a1020004000000000000000000ffff000001000000" >"$1"
}

# tcp_record FILE SPORT SEQ ACK FLAGS PAYLOAD_HEX [CAPLEN_CUT]: client
# 198.18.0.1:SPORT to server port 80 when SPORT is not 80, else the reverse
# (DPORT taken from $peer). CAPLEN_CUT drops that many bytes off the record.
tcp_record() {
	file=$1 sport=$2 seq=$3 ack=$4 flags=$5 payload=$6 cut=${7:-0}
	if [ "$sport" -eq 80 ]; then
		src=c6120002 dst=c6120001 dport=$peer
	else
		src=c6120001 dst=c6120002 dport=80
	fi
	plen=$((${#payload} / 2))
	iplen=$((40 + plen))
	frame="0200000000020200000000010800"
	frame="${frame}4500$(be16 $iplen)0000400040060000${src}${dst}"
	frame="${frame}$(be16 "$sport")$(be16 "$dport")$(be32 "$seq")$(be32 "$ack")50$flags"
	frame="${frame}ffff00000000${payload}"
	len=$((14 + iplen))
	caplen=$((len - cut))
	frame=$(printf '%s' "$frame" | cut -c1-$((caplen * 2)))
	ts=$((ts + 1))
	hex2bin "$(le32 1700000000)$(le32 "$ts")$(le32 $caplen)$(le32 $len)$frame" >>"$file"
}

# One whole conversation: "GET\n" from the client, "OK\n" from the server.
# sh has no local variables: these names differ from tcp_record's.
conversation() {
	conv_file=$1 cport=$2 conv_cut=${3:-0}
	peer=$cport
	tcp_record "$conv_file" "$cport" 1000 0 02 ""
	tcp_record "$conv_file" 80 5000 1001 12 ""
	tcp_record "$conv_file" "$cport" 1001 5001 18 4745540a "$conv_cut"
	tcp_record "$conv_file" 80 5001 1005 18 4f4b0a
	tcp_record "$conv_file" "$cport" 1005 5004 11 ""
	tcp_record "$conv_file" 80 5004 1006 11 ""
}

ts=0
one="$tmp/one.pcap"
two="$tmp/two.pcap"
cutcap="$tmp/cut.pcap"
pcap_header "$one"
conversation "$one" 40000
pcap_header "$two"
conversation "$two" 40000
conversation "$two" 40001
pcap_header "$cutcap"
conversation "$cutcap" 40000 2
printf 'this is a text file, not a capture\n' >"$tmp/text.pcap"
# A capture whose clock steps back after the SYN.
backwards="$tmp/backwards.pcap"
pcap_header "$backwards"
peer=40000
ts=20
tcp_record "$backwards" 40000 1000 0 02 ""
ts=5
tcp_record "$backwards" 80 5000 1001 12 ""
tcp_record "$backwards" 40000 1001 5001 18 4745540a
# The same 4-tuple twice: a closed connection, then a new one (a new ISN).
reused="$tmp/reused.pcap"
pcap_header "$reused"
conversation "$reused" 40000
tcp_record "$reused" 40000 7000 0 02 ""
tcp_record "$reused" 80 9000 7001 12 ""

# --- Usage ------------------------------------------------------------------

begin "--dump: a capture clock that steps back prints negative times"
run --dump -r "$backwards"
expect_rc 0
expect_grep out '^ +-[ 0-9]*[0-9]\.[0-9]{6} C>S'
expect_no_grep out '[0-9]{10}\.[0-9]{6}'
end

begin "--flow by 4-tuple when the ports were reused"
run --dump -r "$reused" --flow 198.18.0.1:40000-198.18.0.2:80
expect_rc 2
expect_grep err 'several flows match --flow'
end

begin "--help"
run --help
expect_rc 0
expect_grep out '^Usage: tcpliveplay '
expect_grep out '^ +tcpliveplay --list FILE ' 
expect_grep out '--dump'
expect_grep out '--extract DIR'
expect_grep out '^Exit status'
expect_empty err
end

# Every long option --help prints is in the man page (groff writes --name as
# \-\-name, its inner hyphens as \-), not as the prefix of a longer one.
man_page=$(dirname "$0")/../doc/tcpliveplay.1
begin "--help options are in doc/tcpliveplay.1"
run --help
expect_rc 0
missing=
grep -Eo -e '--[a-z-]+' "$tmp/out" | sort -u >"$tmp/opts"
while read -r o; do
	g=$(printf '%s\n' "$o" | sed 's/-/\\\\-/g')
	grep -Eq -e "$g"'(\\[^-]|[^a-z\\]|$)' "$man_page" || missing="$missing $o"
done <"$tmp/opts"
[ -z "$missing" ] || note_failure "not in $man_page:$missing"
end

begin "-h"
run -h
expect_rc 0
expect_grep out '^Usage: tcpliveplay'
expect_empty err
end

begin "--version"
run --version
expect_rc 0
expect_lines out 1
expect_grep out '^tcpliveplay [0-9]+\.[0-9]+\.[0-9]+$'
expect_empty err
end

begin "unknown option"
run --bogus
expect_usage_error
expect_grep err "unrecognized option '--bogus'"
end

begin "unknown short option"
run -Z
expect_usage_error
end

begin "no arguments"
run
expect_usage_error
expect_grep err 'nothing to do'
end

begin "--list without its FILE"
run --list
expect_usage_error
expect_grep err "^tcpliveplay: --list needs a capture: --list FILE, or --list -r FILE$"
end

begin "--list -r FILE, as every mode takes it"
run --list -r "$one"
expect_rc 0
expect_grep out "^# $(re "$one"): 6 packets, link type EN10MB, 1 TCP flow \(at most 1 at once\)"
end

begin "--list with -r FILE and an operand: usage error"
run --list -r "$one" "$two"
expect_usage_error
expect_grep err "unexpected argument"
end

begin "--json with --list: usage error"
run --list "$one" --json -
expect_rc 2
expect_grep err "go with a replay"
end

begin "a missing option argument: the program's name, not its path"
run --dump -r
expect_usage_error
expect_grep err "^tcpliveplay: option '-r' requires an argument$"
end

begin "the classic call with the wrong number of arguments"
run lo "$one" 198.18.0.2
expect_usage_error
expect_grep err "^tcpliveplay: the classic call takes 5 arguments: IFACE FILE DST_IP DST_MAC SPORT\|random \(3 given\)$"
end

begin "--dump without -r"
run --dump
expect_usage_error
expect_grep err '^tcpliveplay: no capture: give -r FILE$'
end

begin "--extract without -r"
run --extract "$tmp/x"
expect_usage_error
expect_grep err 'no capture'
end

begin "--rst-guard without a live replay"
run --list "$one" --rst-guard off
expect_usage_error
expect_grep err 'go with a live replay'
end

begin "two modes (--list, --dump)"
run --list "$one" --dump
expect_usage_error
expect_grep err 'choose one of --list, --dump, --extract'
end

begin "two modes (--dump, --extract)"
run --dump --extract "$tmp/x" -r "$one"
expect_usage_error
expect_grep err 'choose one of'
[ ! -e "$tmp/x" ] || note_failure "$tmp/x was created"
end

begin "stray argument"
run --dump -r "$one" extra
expect_usage_error
expect_grep err "unexpected argument 'extra'"
end

for sel in abc 1.2.3.4 198.18.0.1:40000 '198.18.0.1:99999-198.18.0.2:80' '[::1:80-[::1]:80' 1x; do
	begin "bad --flow '$sel'"
	run --dump -r "$one" --flow "$sel"
	expect_usage_error
	expect_grep err "^tcpliveplay: --flow: '.*' is neither a flow number nor ADDR:PORT-ADDR:PORT \(or ADDR:PORT -> ADDR:PORT, as --list prints it\)$"
	end
done

# --- Synthesized captures -----------------------------------------------------

begin "--list (written capture)"
run --list "$one"
expect_rc 0
expect_lines out 2
expect_grep out "^# $(re "$one"): 6 packets, link type EN10MB, 1 TCP flow "
expect_grep out '^1 198\.18\.0\.1:40000 -> 198\.18\.0\.2:80 c2s=3pkt/4B s2c=3pkt/3B syn=y synack=y '
expect_grep out ' holes=none notes=-$'
expect_empty err
end

begin "--dump labels (written capture)"
run --dump -r "$one"
expect_rc 0
expect_grep out '^# flow 1: 198\.18\.0\.1:40000 -> 198\.18\.0\.2:80, client 4 bytes, server 3 bytes'
expect_grep out '^ +[0-9]+\.[0-9]{6} C>S C1 +0 +4 +0 PSH,ACK +3$'
expect_grep out '^ +[0-9]+\.[0-9]{6} S>C S1 +0 +3 +4 PSH,ACK +4$'
expect_no_grep out '[CS]2 '
end

# The server's answer sent twice, the client's ACK never covering it before:
# a loss the capture shows.
lossy="$tmp/lossy.pcap"
pcap_header "$lossy"
peer=40000
tcp_record "$lossy" 40000 1000 0 02 ""
tcp_record "$lossy" 80 5000 1001 12 ""
tcp_record "$lossy" 40000 1001 5001 18 4745540a
tcp_record "$lossy" 80 5001 1005 18 4f4b0a
tcp_record "$lossy" 40000 1005 5001 10 ""
tcp_record "$lossy" 80 5001 1005 18 4f4b0a
tcp_record "$lossy" 40000 1005 5004 11 ""
tcp_record "$lossy" 80 5004 1006 11 ""

begin "--dump --fault captured prints the capture's own faults"
run --dump -r "$lossy" --fault captured
expect_rc 0
expect_grep out '^# --fault captured: 1 fault$'
expect_grep out '^server:drop:S1 +# S1 was retransmitted \(packet 6\)$'
end

begin "--dump --fault captured: none in a clean capture"
run --dump -r "$one" --fault captured
expect_rc 0
expect_grep out '^# --fault captured: 0 faults$'
end

begin "--simulate --fault captured: the derived fault fires, in the JSON"
run --simulate -r "$lossy" --fault captured --fault client:window:500 --seed 2 --json -
expect_rc 0
expect_grep out '"verdict":"matched"'
expect_grep out '"faults_fired":2,"faults":\[\{"side":"client","kind":"window","segment":null,"time_s":0\.[0-9]+\},\{"side":"server","kind":"drop","segment":"S1",'
end

begin "--dump takes --fault captured only"
run --dump -r "$one" --fault server:drop:S1
expect_usage_error
expect_grep err 'takes --fault captured only'
end

begin "--fault captured without a replay or --dump"
run --list "$one" --fault captured
expect_usage_error
expect_grep err 'go with a replay'
end

begin "live: the server's application is not ours to stop"
run -i lo -r "$one" --dst 198.18.0.2 --fault server:rst:S1
expect_usage_error
expect_grep err "^tcpliveplay: --fault: fault server:rst:S1: the live server's application is its own"
end

begin "--fault label of the wrong side"
run --simulate -r "$one" --fault client:zero-window:C1:5
expect_usage_error
expect_grep err "client:zero-window names a server segment \(S<n>\)"
end

begin "--fault past the flow's segments"
run --simulate -r "$one" --fault server:drop:S2
expect_usage_error
expect_grep err '^tcpliveplay: --fault: server:drop:S2: no such segment \(the server sends 1 data segment\)$'
end

begin "--extract (written capture)"
run --extract "$tmp/one" -r "$one"
expect_rc 0
[ "$(cat "$tmp/one/client.bin" 2>/dev/null)" = "GET" ] || note_failure "client.bin is not 'GET\\n'"
[ "$(cat "$tmp/one/server.bin" 2>/dev/null)" = "OK" ] || note_failure "server.bin is not 'OK\\n'"
expect_grep out 'client\.bin: 4 bytes'
expect_grep out 'server\.bin: 3 bytes'
expect_empty err
end

begin "several flows, no --flow"
run --dump -r "$two"
expect_rc 2
expect_empty out
expect_grep err "^tcpliveplay: $(re "$two"): 2 TCP flows; choose one with --flow"
expect_grep err '^  1 198\.18\.0\.1:40000 -> 198\.18\.0\.2:80$'
expect_grep err '^  2 198\.18\.0\.1:40001 -> 198\.18\.0\.2:80$'
end

begin "several flows, --extract without --flow"
run --extract "$tmp/two" -r "$two"
expect_rc 2
expect_grep err '2 TCP flows; choose one'
[ ! -e "$tmp/two/client.bin" ] || note_failure "client.bin written"
end

begin "--flow by number"
run --dump -r "$two" --flow 2
expect_rc 0
expect_grep out '^# flow 2: 198\.18\.0\.1:40001 -> 198\.18\.0\.2:80'
end

begin "--flow by 4-tuple, server first"
run --dump -r "$two" --flow 198.18.0.2:80-198.18.0.1:40001
expect_rc 0
expect_grep out '^# flow 2: '
end

begin "--flow that matches nothing"
run --dump -r "$two" --flow 3
expect_rc 2
expect_grep err "^tcpliveplay: $(re "$two"): no flow matches --flow 3 \(see tcpliveplay --list\)$"
end

begin "--extract refuses a hole (written capture)"
run --extract "$tmp/cut" -r "$cutcap"
expect_rc 2
expect_grep err "^tcpliveplay: $(re "$cutcap"): flow 1: the client stream has 2 bytes missing at offset 2 "
[ ! -e "$tmp/cut/client.bin" ] || note_failure "client.bin written"
end

begin "--list reports a hole (written capture)"
run --list "$cutcap"
expect_rc 0
expect_grep out ' holes=c2s:1/2B,s2c:0/0B notes=truncated$'
end

begin "non-existent file"
run --list "$tmp/absent.pcap"
expect_rc 2
expect_empty out
expect_grep err "^tcpliveplay: $(re "$tmp/absent.pcap"): No such file or directory$"
end

begin "non-existent file (--dump)"
run --dump -r "$tmp/absent.pcap"
expect_rc 2
expect_grep err "$(re "$tmp/absent.pcap")"
end

begin "a directory"
run --list "$tmp"
expect_rc 2
expect_empty out
expect_grep err "^tcpliveplay: $(re "$tmp"): "
end

begin "a text file"
run --list "$tmp/text.pcap"
expect_rc 2
expect_empty out
expect_grep err "^tcpliveplay: $(re "$tmp/text.pcap"): "
end

begin "an empty file"
: >"$tmp/empty.pcap"
run --extract "$tmp/e" -r "$tmp/empty.pcap"
expect_rc 2
expect_grep err "^tcpliveplay: $(re "$tmp/empty.pcap"): "
end

begin "a pcap header cut short"
hex2bin d4c3b2a10200040000000000 >"$tmp/short.pcap"
run --dump -r "$tmp/short.pcap"
expect_rc 2
expect_grep err "^tcpliveplay: $(re "$tmp/short.pcap"): "
end

begin "a record cut short: the packets before it are read, with a warning"
head -c 120 "$one" >"$tmp/torn.pcap"
run --list "$tmp/torn.pcap"
expect_rc 0
expect_grep err "^tcpliveplay: warning: $(re "$tmp/torn.pcap"): packet 2: record cut short \(10 of its 54 bytes are in the file\) \(at byte 94\); reading stops there, after 1 packet$"
expect_grep out "^# $(re "$tmp/torn.pcap"): 1 packet, .*, 0 malformed, damaged from packet 2: record cut short"
expect_grep out '^1 198\.18\.0\.1:40000 -> 198\.18\.0\.2:80 c2s=1pkt/'
end

begin "--strict refuses a capture cut short"
run --list "$tmp/torn.pcap" --strict
expect_rc 2
expect_empty out
expect_grep err "^tcpliveplay: $(re "$tmp/torn.pcap"): packet 2: record cut short .*--strict"
end

begin "a garbage record header in the middle"
# Record 3's captured length (at byte 24 + 2 * 70 + 8) made impossible.
cp "$one" "$tmp/garbage.pcap"
printf '\377\377\377\177' | dd of="$tmp/garbage.pcap" bs=1 seek=172 conv=notrunc 2>/dev/null
run --dump -r "$tmp/garbage.pcap"
expect_rc 0
expect_grep err "packet 3: impossible captured length 2147483647 \(at most 262144\) \(at byte 164\)"
expect_grep out '^# flow 1: 198\.18\.0\.1:40000 -> 198\.18\.0\.2:80, client 0 bytes, server 0 bytes'
end

begin "-r - reads standard input"
"$bin" --dump -r - <"$one" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 0
expect_grep out '^ +[0-9]+\.[0-9]{6} C>S C1 +0 +4 +0 PSH,ACK +3$'
expect_empty err
end

begin "--list - reads standard input and names it"
"$bin" --list - <"$one" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 0
expect_grep out '^# standard input: 6 packets, link type EN10MB, 1 TCP flow '
end

begin "-r - with text on standard input"
printf 'GET / HTTP/1.0\r\n\r\n' | "$bin" --list - >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_empty out
expect_grep err '^tcpliveplay: standard input: neither pcap nor pcapng \(it starts with 47 45 54 20\)$'
end

"$bin" --list "$one" | tail -n +2 >"$tmp/one.list"
for z in "gzip -c" "xz -c" "zstd -q -c"; do
	zname=${z%% *}
	$z "$one" >"$tmp/one.pcap.$zname"
	begin "$zname-compressed file, and on standard input"
	run --list "$tmp/one.pcap.$zname"
	expect_rc 0
	expect_grep out "^# $(re "$tmp/one.pcap.$zname"): 6 packets, link type EN10MB, 1 TCP flow "
	tail -n +2 "$tmp/out" | cmp -s - "$tmp/one.list" || note_failure "flow lines differ from the plain file's"
	"$bin" --list - <"$tmp/one.pcap.$zname" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect_rc 0
	tail -n +2 "$tmp/out" | cmp -s - "$tmp/one.list" || note_failure "flow lines from standard input differ"
	expect_empty err
	end

	begin "$zname-compressed file cut short"
	size=$(wc -c <"$tmp/one.pcap.$zname")
	head -c $((size - 9)) "$tmp/one.pcap.$zname" >"$tmp/cut.$zname"
	run --list "$tmp/cut.$zname"
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || note_failure "exit status $rc, want 0 or 2"
	expect_grep err "$zname data cut short"
	end
done

begin "bzip2 is recognised, and not read"
printf 'BZh91AY&SY\000\000\000' >"$tmp/x.bz2"
run --list "$tmp/x.bz2"
expect_rc 2
expect_grep err "^tcpliveplay: $(re "$tmp/x.bz2"): bzip2-compressed: not read"
end

begin "a decompression bomb (1.1 GB of zeros in zstd) is refused, naming the limit"
head -c 1100000000 /dev/zero | zstd -1 -q -c >"$tmp/bomb.zst"
run --list "$tmp/bomb.zst"
expect_rc 2
expect_empty out
expect_grep err "^tcpliveplay: $(re "$tmp/bomb.zst"): zstd data decompresses to more than 1024 MiB, .*refused as a decompression bomb \(the limit is the larger of 1024 MiB and 1000 times the compressed size\)$"
rm -f "$tmp/bomb.zst"
end

rsp=${LP_BUILD:-build}/tcpliveplay-responder
begin "tcpliveplay-responder -r - --strict refuses a damaged capture on standard input"
"$rsp" -i lo -r - --strict <"$tmp/torn.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_grep err "^tcpliveplay-responder: standard input: packet 2: record cut short .*--strict"
end

# --- The real captures ----------------------------------------------------------

# Files of the MANIFEST: the [bad] ones, and the others.
manifest_files() {
	awk -F '\t' -v want="$1" 'NR > 1 && $1 != "" {
		bad = index($0, "[bad]") > 0
		if ((want == "bad") == bad) print $1
	}' "$pcaps/MANIFEST.tsv"
}

if have_pcaps && [ -r "$pcaps/MANIFEST.tsv" ]; then
	for f in $(manifest_files good); do
		p=$pcaps/$f
		begin "--list $f"
		run --list "$p"
		expect_rc 0
		expect_grep out "^# $(re "$p"): [0-9]+ packets?, link types? [A-Z0-9_+]+, [1-9][0-9]* TCP flows?"
		[ "$(head -c 1 "$tmp/out")" = "#" ] || note_failure "first line does not start with #"
		awk 'NR > 1 && $1 != NR - 1 { bad = 1 } END { exit bad }' "$tmp/out" ||
			note_failure "flow lines are not numbered 1, 2, ..."
		nflows=$(sed -n '1s/.* \([0-9]*\) TCP flows\{0,1\} .*/\1/p' "$tmp/out")
		expect_lines out $((nflows + 1))
		expect_no_grep err .
		end
	done

	for f in $(manifest_files bad); do
		p=$pcaps/$f
		begin "[bad] --list $f"
		run --list "$p"
		expect_rc 2
		expect_empty out
		expect_grep err "^tcpliveplay: $(re "$p"): "
		end

		begin "[bad] --dump $f"
		run --dump -r "$p"
		expect_rc 2
		expect_empty out
		expect_grep err "^tcpliveplay: $(re "$p"): "
		end

		begin "[bad] --extract $f"
		run --extract "$tmp/bad" -r "$p"
		expect_rc 2
		expect_grep err "^tcpliveplay: $(re "$p"): "
		[ ! -e "$tmp/bad/client.bin" ] || note_failure "client.bin written"
		end

		begin "[bad] --simulate $f"
		run --simulate -r "$p" --seed 1
		expect_rc 2
		expect_empty out
		expect_grep err "^tcpliveplay: $(re "$p"): "
		end

		# A live replay reads the capture before it touches any interface.
		begin "[bad] live replay $f"
		run -i lo -r "$p" --dst 127.0.0.1
		expect_rc 2
		expect_empty out
		expect_grep err "^tcpliveplay: $(re "$p"): "
		end
	done
else
	skip "--list of every real capture"
	skip "every [bad] capture in every mode"
fi

if have_pcaps; then
	p=$pcaps/zeek__pop3__pop3.pcap
	begin "--list pop3 has 7 flows"
	run --list "$p"
	expect_rc 0
	expect_lines out 8
	expect_grep out '^# .*: 125 packets, link type EN10MB, 7 TCP flows'
	expect_grep out '^7 192\.168\.0\.4:26383 -> 212\.227\.15\.166:110 '
	end

	begin "pop3 --dump without --flow lists the flows"
	run --dump -r "$p"
	expect_rc 2
	expect_empty out
	expect_grep err "^tcpliveplay: $(re "$p"): 7 TCP flows; choose one with --flow"
	n=$(grep -Ec '^  [1-7] [0-9.]+:[0-9]+ -> [0-9.]+:110$' "$tmp/err")
	[ "$n" -eq 7 ] || note_failure "$n flows listed, want 7"
	end

	begin "pop3 --dump --flow 7"
	run --dump -r "$p" --flow 7
	expect_rc 0
	expect_grep out '^# flow 7: 192\.168\.0\.4:26383 -> 212\.227\.15\.166:110, client 138 bytes, server 19651 bytes'
	end

	begin "pop3 --flow 8 matches nothing"
	run --extract "$tmp/pop" -r "$p" --flow 8
	expect_rc 2
	expect_grep err 'no flow matches --flow 8'
	end

	p=$pcaps/zeek__get.pcap
	begin "--extract zeek__get"
	run --extract "$tmp/get" -r "$p"
	expect_rc 0
	[ "$(wc -c <"$tmp/get/client.bin" 2>/dev/null)" = 136 ] || note_failure "client.bin is not 136 bytes"
	[ "$(wc -c <"$tmp/get/server.bin" 2>/dev/null)" = 5007 ] || note_failure "server.bin is not 5007 bytes"
	head -c 4 "$tmp/get/client.bin" 2>/dev/null | grep -q '^GET ' || note_failure "client.bin does not start with GET"
	head -c 9 "$tmp/get/server.bin" 2>/dev/null | grep -q '^HTTP/1\.1' ||
		note_failure "server.bin does not start with HTTP/1.1"
	if command -v sha256sum >/dev/null 2>&1; then
		want=$(awk '$1 == "zeek__get.pcap" { print $3 " " $5 }' tests/data/pcaps.sha256)
		got="$(sha256sum <"$tmp/get/client.bin" | cut -d' ' -f1) $(sha256sum <"$tmp/get/server.bin" | cut -d' ' -f1)"
		[ "$got" = "$want" ] || note_failure "sha256 $got, want $want"
	fi
	end

	begin "--extract into an existing folder overwrites"
	run --extract "$tmp/get" -r "$p" -q
	expect_rc 0
	expect_empty err
	[ "$(wc -c <"$tmp/get/server.bin")" = 5007 ] || note_failure "server.bin is not 5007 bytes"
	end

	begin "--dump zeek__get labels C1, S1..S4"
	run --dump -r "$p"
	expect_rc 0
	labels=$(awk '$1 !~ /^#/ && $3 != "-" { printf "%s ", $3 }' "$tmp/out")
	[ "$labels" = "C1 S1 S2 S3 S4 " ] || note_failure "labels '$labels', want 'C1 S1 S2 S3 S4 '"
	expect_grep out '^# flow 1: 141\.142\.228\.5:59856 -> 192\.150\.187\.43:80, client 136 bytes, server 5007 bytes'
	end

	begin "--dump labels are 1, 2, ... per side (pop3 flow 7)"
	run --dump -r "$pcaps/zeek__pop3__pop3.pcap" --flow 7
	expect_rc 0
	awk '$1 !~ /^#/ && $3 != "-" {
		side = substr($3, 1, 1); n = substr($3, 2) + 0
		if (n != ++seen[side]) bad = 1
	} END { exit bad || !seen["C"] || !seen["S"] }' "$tmp/out" || note_failure "labels out of sequence"
	end

	p=$pcaps/zeek__tcp__truncated-header.pcap
	begin "--extract truncated-header names the hole"
	run --extract "$tmp/trunc" -r "$p"
	expect_rc 2
	expect_empty out
	expect_grep err "^tcpliveplay: $(re "$p"): flow 1: the client stream has 128 bytes missing at offset 0 "
	[ ! -e "$tmp/trunc/client.bin" ] || note_failure "client.bin written"
	end

	begin "--list truncated-header reports holes"
	run --list "$p"
	expect_rc 0
	expect_grep out '^1 .* holes=c2s:1/128B,s2c:1/477B notes=truncated$'
	end

	p=$pcaps/zeek__http__get_nosyn.pcap
	begin "--list mid-stream capture says how the client was chosen"
	run --list "$p"
	expect_rc 0
	expect_grep out '^1 141\.142\.228\.5:59856 -> 192\.150\.187\.43:80 .*syn=n synack=n .*notes=.*client-by-port'
	expect_grep out 'notes=.*no-syn'
	end

	p=$pcaps/mergecap__get_plus_sll.pcapng
	begin "--list a pcapng of two link types (mergecap)"
	run --list "$p"
	expect_rc 0
	expect_grep out "^# $(re "$p"): 532 packets, link types EN10MB\+LINUX_SLL, 2 TCP flows \(at most 1 at once\), 35 not TCP, 0 fragments, 0 malformed$"
	expect_grep out '^1 141\.142\.228\.5:59856 -> 192\.150\.187\.43:80 c2s=7pkt/136B s2c=7pkt/5007B '
	expect_grep out '^2 10\.0\.0\.8:40800 -> 212\.199\.202\.69:80 c2s=158pkt/251B s2c=325pkt/414863B '
	expect_empty err
	end

	p=$pcaps/suricata__http-ipv6__input.pcap
	begin "--flow with IPv6 [ADDR]:PORT"
	run --dump -r "$p" --flow '[::1]:8000-[::1]:55717'
	expect_rc 0
	expect_grep out '^# flow 1: \[::1\]:55717 -> \[::1\]:8000, '
	end

	p=$pcaps/pcapplusplus__tcp-malformed.pcap
	begin "malformed packets are named by number"
	run --list "$p"
	expect_rc 2
	expect_grep err "^tcpliveplay: warning: $(re "$p"): packet 1: .*, skipped$"
	expect_grep err "^tcpliveplay: $(re "$p"): no TCP connection found"
	end
else
	for c in "pop3 --list" "pop3 without --flow" "pop3 --flow 7" "pop3 --flow 8" "--extract zeek__get" \
		"--extract overwrites" "--dump zeek__get labels" "--dump pop3 labels" \
		"--extract truncated-header" "--list truncated-header" "--list mid-stream" "mergecap two link types" \
		"IPv6 --flow" "malformed packets named"; do
		skip "$c"
	done
fi

# --- Inputs that once crashed the fuzz target ---------------------------------

# Memory is bounded (512 MiB of heap under ASan, 1 GiB of address space
# otherwise): a small input that needs more fails fast, with exit status 3.
if grep -q __asan_init "$bin" 2>/dev/null; then
	asan=1
else
	asan=0
fi

run_bounded() {
	if [ "$asan" -eq 1 ]; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=512:allocator_may_return_null=1" \
			"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	else
		(
			# shellcheck disable=SC3045 # dash, bash and busybox sh have ulimit -v
			ulimit -v 1048576 2>/dev/null
			exec "$bin" "$@"
		) >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
}

# Exit 0 with output, or 2 with a message naming the file; under make asan a
# leak or undefined behaviour makes the status something else.
for f in tests/data/fuzz-regress/*; do
	[ -f "$f" ] || continue
	begin "fuzz regression --list $f"
	run_bounded --list "$f"
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || note_failure "exit status $rc, want 0 or 2"
	[ "$rc" -ne 0 ] || [ "$(head -c 1 "$tmp/out")" = "#" ] || note_failure "no header line"
	[ "$rc" -ne 2 ] || expect_grep err "^tcpliveplay: $(re "$f"): "
	end

	begin "fuzz regression --dump $f"
	run_bounded --dump -r "$f" --flow 1
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || note_failure "exit status $rc, want 0 or 2"
	[ "$rc" -ne 0 ] || expect_grep out '^# flow 1: '
	[ "$rc" -ne 2 ] || expect_grep err "^tcpliveplay: $(re "$f"): "
	end
done

# --- One grammar, honest diagnostics, output where tools put it (issue 20) ---
# What needs no privilege: everything said before a live replay touches an
# interface. The live parts are tests/e2e/cases/90-diagnostics.sh.

# expect_one_json RC: stdout is exactly one JSON document, its exit_code RC;
# an error (RC 2 or 3) says why in "error".
expect_one_json() {
	python3 - "$tmp/out" "$1" <<'PY' || note_failure "stdout is not one JSON document with exit_code $1"
import json, sys
text = open(sys.argv[1]).read()
d, end = json.JSONDecoder().raw_decode(text)
assert not text[end:].strip(), "more than one document"
assert d["exit_code"] == int(sys.argv[2]), d
assert d["exit_code"] < 2 or (d["verdict"] == "error" and d["error"]), d
PY
}

rsp=${LP_BUILD:-build}/tcpliveplay-responder
# A capture whose server answer lost 2 of its 3 bytes; one whose first flow
# is whole and second lost 2 client bytes.
srvcut="$tmp/srvcut.pcap"
pcap_header "$srvcut"
peer=40000
tcp_record "$srvcut" 40000 1000 0 02 ""
tcp_record "$srvcut" 80 5000 1001 12 ""
tcp_record "$srvcut" 40000 1001 5001 18 4745540a
tcp_record "$srvcut" 80 5001 1005 18 4f4b0a 2
tcp_record "$srvcut" 40000 1005 5004 11 ""
tcp_record "$srvcut" 80 5004 1006 11 ""
halfcut="$tmp/halfcut.pcap"
pcap_header "$halfcut"
conversation "$halfcut" 40000
conversation "$halfcut" 40001 2

begin "--flow as --list prints it (A:P -> B:P)"
sel=$("$bin" --list "$two" | sed -n 's/^2 \([^ ]* -> [^ ]*\) .*/\1/p')
run --dump -r "$two" --flow "$sel"
expect_rc 0
expect_grep out '^# flow 2: 198\.18\.0\.1:40001 -> 198\.18\.0\.2:80, '
end

begin "an unknown option: the program's name, not the path it was run by"
run --bogus
expect_usage_error
expect_grep err "^tcpliveplay: unrecognized option '--bogus'$"
end

begin "tcpliveplay-responder: an unknown option under its own name"
"$rsp" --bogus >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_grep err "^tcpliveplay-responder: unrecognized option '--bogus'$"
expect_grep err "^Try 'tcpliveplay-responder --help' for more information\.$"
end

begin "the options both programs take (lp_cli_option): one message for a bad value, under each name"
for a in "--seed x" "--match foo" "--shard 3/2" "--holes x" "--patience 0" "--fault bogus:1" "-r a -r b"; do
	# shellcheck disable=SC2086 # the words of $a are the options
	"$bin" $a >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect_usage_error
	sed -n '1s/^tcpliveplay: //p' "$tmp/err" >"$tmp/err.lp"
	# shellcheck disable=SC2086
	"$rsp" $a >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect_rc 2
	sed -n '1s/^tcpliveplay-responder: //p' "$tmp/err" >"$tmp/err.rsp"
	[ -s "$tmp/err.lp" ] && cmp -s "$tmp/err.lp" "$tmp/err.rsp" ||
		note_failure "$a: '$(cat "$tmp/err.lp")' and '$(cat "$tmp/err.rsp")'"
done
grep -q '^one capture: -r b and a$' "$tmp/err.rsp" || note_failure "-r twice: $(cat "$tmp/err.rsp")"
"$rsp" -V >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 0
expect_grep out '^tcpliveplay-responder [0-9]+\.[0-9]+\.[0-9]+$'
end

begin "--json '': refused by name"
run --simulate -r "$one" --json ''
expect_usage_error
expect_grep err "^tcpliveplay: --json: an empty file name"
end

begin "--json - and an error: one JSON document on stdout, the message on stderr"
run --simulate -r "$tmp/text.pcap" --json -
expect_rc 2
expect_one_json 2
grep -q '"error":".*text\.pcap: neither pcap nor pcapng' "$tmp/out" || note_failure "the error is not in the JSON"
expect_grep err "^tcpliveplay: .*text\.pcap: neither pcap nor pcapng"
end

begin "--json - and a usage error met before --json was read"
run --bogus --simulate -r "$one" --json -
expect_rc 2
expect_one_json 2
grep -q "\"error\":\"unrecognized option '--bogus'\"" "$tmp/out" || note_failure "the error is not in the JSON"
end

begin "--json - of a live replay that cannot start: one JSON document"
run -i lo -r "$two" --dst 127.0.0.1 --flow 9 --json -
expect_rc 2
expect_one_json 2
end

begin "--json - of a replay: one document, the -v trace on stderr"
run --simulate -r "$one" --seed 1 --json - -v
expect_rc 0
expect_one_json 0
expect_grep err '^ +[0-9.]+ client connected$'
end

begin "-v: the trace on stderr, the report on stdout"
run --simulate -r "$one" --seed 1 -v
expect_rc 0
expect_grep out '^verdict: matched$'
expect_no_grep out 'client connected'
expect_grep err '^ +[0-9.]+ client sends C1: 4 bytes at offset 0$'
end

begin "-vv: each packet, out of each side"
run --simulate -r "$one" --seed 1 -vv
expect_rc 0
expect_grep err '^ +[0-9.]+ client out 198\.18\.0\.1:[0-9]+ > 198\.18\.0\.2:80 \[S\] seq [0-9]+ win [0-9]+ len 0 <'
expect_grep err '^ +[0-9.]+ server out 198\.18\.0\.2:80 > 198\.18\.0\.1:[0-9]+ \[F?P\.\] seq [0-9]+ ack [0-9]+ win [0-9]+ len 3'
expect_no_grep out ' out '
end

begin "-q: nothing but errors, the exit status tells"
run --simulate -r "$one" --seed 1 -q
expect_rc 0
expect_empty out
expect_empty err
run --simulate -r "$one" --seed 1 -q --fault client:rst:1
expect_rc 1
expect_empty out
end

begin "the summary: plurals, no throughput for a failed run"
run --simulate -r "$one" --seed 1 --fault client:rst:1
expect_rc 1
expect_grep out '^verdict: failed \(reset sent .*\(fault client:rst:C1\)\)$'
expect_no_grep out '^throughput'
run --simulate -r "$one" --seed 1
expect_grep out '^sent: 1 segment, 4 bytes$'
expect_grep out '^received: 1 segment, 3 bytes \(capture shows 3\)$'
expect_grep out '^throughput: '
end

begin "a hole in a stream a replay sends: refused before anything runs (--simulate)"
run --simulate -r "$cutcap" --seed 1
expect_rc 2
expect_empty out
expect_grep err "^tcpliveplay: $(re "$cutcap"): flow 1: the client stream lacks 2 bytes at offset 2 \(not captured\); a replay would send zeros in their place, so nothing is sent \(--holes zero sends them knowingly\)$"
end

begin "--holes zero: sent knowingly, with a warning"
run --simulate -r "$cutcap" --seed 1 --holes zero
expect_rc 0
expect_grep err "^tcpliveplay: warning: $(re "$cutcap"): flow 1: the client stream lacks 2 bytes at offset 2 "
expect_grep out '^verdict: matched$'
end

begin "a hole in one flow of many: that flow is skipped with the reason (--simulate)"
run --simulate -r "$halfcut" --flow all --seed 1 --json "$tmp/half.json"
expect_rc 0
expect_grep out '^flow 2: skipped: .*\(the client stream lacks 2 bytes at offset 2 \(not captured\); --holes zero sends zeros\)$'
expect_grep out '^summary: 2 flows: 1 matched, 0 diverged, 0 failed, 1 skipped$'
grep -q '"verdict":"skipped".*"reason":"the client stream lacks 2 bytes' "$tmp/half.json" || note_failure "no skipped flow in the JSON"
end

begin "every flow of many skipped: no flow to replay, exit 2, as live (--simulate)"
run --simulate -r "$cutcap" --flow all --seed 1
expect_rc 2
expect_empty out
expect_grep err '^tcpliveplay: no flow to replay: flow 1: the client stream lacks 2 bytes at offset 2 \(not captured\); --holes zero sends zeros$'
run --simulate -r "$cutcap" --flow all --seed 1 --holes zero
expect_rc 0
expect_grep out '^summary: 1 flow: 1 matched, 0 diverged, 0 failed, 0 skipped$'
end

begin "a live replay refuses a hole in the client stream before it touches an interface"
run -i lo -r "$cutcap" --dst 127.0.0.1
expect_rc 2
expect_empty out
expect_grep err "flow 1: the client stream lacks 2 bytes at offset 2 .*nothing is sent"
end

begin "tcpliveplay-responder refuses a hole in the server's stream before it touches an interface"
"$rsp" -i lo -r "$srvcut" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_grep err "^tcpliveplay-responder: $(re "$srvcut"): flow 1: the server stream lacks 2 bytes at offset 1 \(not captured\); .*--holes zero"
end

begin "--holes: refuse or zero"
run --simulate -r "$one" --holes maybe
expect_usage_error
expect_grep err "^tcpliveplay: --holes: 'maybe' is neither refuse nor zero$"
end

for o in "--holes zero" "--patience 5"; do
	begin "$o with --dump: usage error"
	# shellcheck disable=SC2086 # the option and its value are two words
	run --dump -r "$one" $o
	expect_usage_error
	end
done

begin "--patience 0: usage error"
run --simulate -r "$one" --patience 0
expect_usage_error
expect_grep err "^tcpliveplay: --patience: '0' is not a number of seconds from 1 to 86400$"
end

begin "--write: the path is checked before any work, and named once"
run -i lo -r "$tmp/text.pcap" --dst 127.0.0.1 --write "$tmp/no/such/dir/x.pcap"
expect_rc 3
expect_grep err "^tcpliveplay: --write $(re "$tmp/no/such/dir/x.pcap"): No such file or directory$"
expect_no_grep err 'text\.pcap'
end

begin "--json FILE: the path is checked before any work"
run --simulate -r "$tmp/text.pcap" --json "$tmp/no/such/dir/x.json"
expect_rc 3
expect_grep err "^tcpliveplay: cannot write $(re "$tmp/no/such/dir/x.json"): No such file or directory$"
expect_no_grep err 'text\.pcap'
end

for d in 224.0.0.1 255.255.255.255 0.0.0.0 ff02::1; do
	begin "--dst $d: no TCP peer"
	run -i lo -r "$one" --dst "$d"
	expect_usage_error
	expect_grep err "^tcpliveplay: --dst $d: an? (multicast|broadcast|unspecified) address cannot be a TCP peer$"
	end
done

begin "--src 0.0.0.0: refused"
run -i lo -r "$one" --dst 127.0.0.1 --src 0.0.0.0
expect_usage_error
expect_grep err "^tcpliveplay: --src 0\.0\.0\.0: an unspecified address cannot be the source of a TCP connection$"
end

begin "--dst 2001:db8::2:8000: the bracketed form is hinted at once"
run -i lo -r "$tmp/text.pcap" --dst 2001:db8::2:8000
expect_rc 2
expect_grep err "^tcpliveplay: warning: --dst 2001:db8::2:8000 is read as one IPv6 address; for address 2001:db8::2 and port 8000 write \[2001:db8::2\]:8000$"
end

begin "--dst with a zone: it names the interface; another -i is refused"
run -i no-such-if0 -r "$one" --dst '[fe80::1%lo]:80'
expect_usage_error
expect_grep err "^tcpliveplay: --dst \[fe80::1%lo\]:80 names interface lo, but -i names no-such-if0$"
end

begin "--dst with a zone number that no interface has"
run -r "$one" --dst 'fe80::1%4000000000'
expect_usage_error
expect_grep err "^tcpliveplay: --dst fe80::1%4000000000: no interface has the zone's number$"
end

begin "--dst OLD=NEW whose OLD no flow goes to: an error"
run -i lo -r "$two" --flow all --dst 198.18.0.2 --dst 198.18.0.9=198.18.0.3
expect_usage_error
expect_grep err "^tcpliveplay: --dst 198\.18\.0\.9=198\.18\.0\.3: no selected flow goes to 198\.18\.0\.9 "
end

begin "--rst-guard on is auto; another word is refused"
run -i lo -r "$tmp/text.pcap" --dst 127.0.0.1 --rst-guard on
expect_rc 2
expect_grep err 'text\.pcap'
run -i lo -r "$one" --dst 127.0.0.1 --rst-guard maybe
expect_usage_error
expect_grep err "^tcpliveplay: --rst-guard: 'maybe' is not auto, on or off$"
end

begin "tcpliveplay-responder --ip in --dst's forms; a second port is refused"
"$rsp" -i lo -r "$one" --ip 198.18.0.2:80 --port 81 >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_grep err "^tcpliveplay-responder: --ip 198\.18\.0\.2:80 and --port 81 name two ports$"
"$rsp" -i lo -r "$tmp/text.pcap" --ip 2001:db8::2:8000 >"$tmp/out" 2>"$tmp/err"
expect_grep err "^tcpliveplay-responder: warning: --ip 2001:db8::2:8000 is read as one IPv6 address; for address 2001:db8::2 and port 8000 write \[2001:db8::2\]:8000$"
"$rsp" -i lo -r "$one" --ip 224.0.0.1 >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_grep err "^tcpliveplay-responder: --ip 224\.0\.0\.1: a multicast address cannot be a TCP peer$"
end

begin "tcpliveplay-responder --json - and an error: one JSON document"
"$rsp" -i lo -r "$tmp/text.pcap" --json - >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_one_json 2
end

begin "--fault by label as --dump prints it, or by number"
run --simulate -r "$one" --seed 1 --fault drop:S1 --fault client:dup:C1
expect_rc 0
expect_grep out '^verdict: matched$'
run --simulate -r "$one" --seed 1 --fault drop:1
expect_rc 0
end

begin "--fault with an unknown kind lists the kinds (both programs)"
run --simulate -r "$one" --fault bogus:1
expect_usage_error
expect_grep err "^tcpliveplay: --fault bogus:1: unknown kind 'bogus' \(the kinds: drop, dup, delay, reorder, truncate, corrupt, rst, stall, loss, zero-window, window, mtu, unreachable\)$"
"$rsp" -i lo -r "$one" --fault bogus:1 >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 2
expect_grep err "^tcpliveplay-responder: --fault bogus:1: unknown kind 'bogus' \(the kinds: drop, "
end

begin "tcpliveplay-responder: the client:/server: grammar, and client-drop as its alias"
for f in client:drop:C1 client-drop:1 server:drop:S1 drop:1; do
	"$rsp" -i lo -r "$tmp/text.pcap" --fault "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect_rc 2
	expect_grep err 'text\.pcap'
	expect_no_grep err -- '--fault'
done
end

begin "--extract -q: no file lines"
run --extract "$tmp/oneq" -r "$one" -q
expect_rc 0
expect_empty out
expect_empty err
end

# --- Many flows (issue 8: --flow all, --flow LIST, --json, --any-client) -------
# Per flow: "flow N: VERDICT: CLIENT -> SERVER, sent X B, received Y B of Z, ...",
# then "summary: N flows: M matched, D diverged, F failed, S skipped". Captures
# written by build/gen-flows run on a fresh clone; the real ones where present.

gen=${LP_BUILD:-build}/gen-flows

# mf_run ARGS...: run, bounded in time (a hang is a failure, exit 124).
mf_run() {
	timeout 120 "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# expect_flows N: N per-flow lines, numbered as --list numbers them.
expect_flows() {
	n=$(grep -Ec '^flow [0-9]+: [a-z]+: .* -> .*, sent [0-9]+ B, received [0-9]+ B of [0-9]+, [0-9]+ retransmissions?, [0-9.]+ s' "$tmp/out")
	[ "$n" -eq "$1" ] || note_failure "$n per-flow lines, want $1"
}

# flow_ids: the flow numbers of the per-flow lines, space-separated.
flow_ids() {
	sed -n 's/^flow \([0-9]*\): .*/\1/p' "$tmp/out" | sort -n | tr '\n' ' '
}

# expect_json FILE FLOWS MATCHED SKIPPED EXIT: FILE parses, has FLOWS reports
# with flow ids and verdicts, and totals and exit_code as given.
expect_json() {
	if ! command -v python3 >/dev/null 2>&1; then
		note_failure "python3 not installed (ci/install-deps installs it)"
		return
	fi
	jwhy=$(python3 - "$@" <<'PY' 2>&1
import json, sys
path, flows, matched, skipped, code = sys.argv[1], *map(int, sys.argv[2:])
try:
    d = json.load(open(path))
except Exception as e:
    sys.exit("does not parse: %s" % e)
fl, t = d.get("flows"), d.get("totals", {})
if not isinstance(fl, list) or len(fl) != flows:
    sys.exit("flows has %s entries, want %d" % (len(fl) if isinstance(fl, list) else fl, flows))
ids = [f.get("flow", {}).get("id") for f in fl]
if any(not isinstance(i, int) for i in ids) or len(set(ids)) != flows:
    sys.exit("flow ids missing or repeated: %s" % ids[:10])
if any("verdict" not in f for f in fl):
    sys.exit("a flow report has no verdict")
for k, want in (("flows", flows), ("matched", matched), ("skipped", skipped)):
    if t.get(k) != want:
        sys.exit("totals.%s is %s, want %d" % (k, t.get(k), want))
if sum(t.get(k, 0) for k in ("matched", "diverged", "failed", "skipped")) != flows:
    sys.exit("totals do not add up to totals.flows: %s" % t)
if d.get("exit_code") != code:
    sys.exit("exit_code is %s, want %d" % (d.get("exit_code"), code))
for k in ("verdict", "seed", "version"):
    if k not in d:
        sys.exit("no top-level %s" % k)
if sum(1 for f in fl if f["verdict"] == "matched") != matched:
    sys.exit("per-flow verdicts disagree with totals.matched")
PY
	) || note_failure "--json $1: $jwhy"
}

if [ -x "$gen" ]; then
	g7=$tmp/gen7.pcap
	"$gen" -n 7 -o "$g7" --resp 3000

	begin "gen-flows: --list shows the flows written"
	run --list "$g7"
	expect_rc 0
	expect_grep out '^# .*: 77 packets, link type EN10MB, 7 TCP flows'
	expect_grep out '^7 198\.18\.0\.1:20006 -> 198\.18\.0\.2:80 c2s=6pkt/100B s2c=5pkt/3000B syn=y synack=y fin=cs .*holes=none'
	end

	begin "gen-flows --pcapng (two link types), xz-compressed on standard input: the same flows"
	tail -n +2 "$tmp/out" >"$tmp/g7.list"
	"$gen" -n 7 -o "$tmp/gen7.pcapng" --resp 3000 --pcapng
	xz -c "$tmp/gen7.pcapng" | "$bin" --list - >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect_rc 0
	expect_grep out '^# standard input: 77 packets, link types EN10MB\+LINUX_SLL, 7 TCP flows'
	tail -n +2 "$tmp/out" | cmp -s - "$tmp/g7.list" || note_failure "flow lines differ from the pcap's"
	expect_empty err
	end

	# The send buffer holding a release back (the stream is released in
	# step with the peer's window) must not leave the think-time timer
	# due for ever: with capture timing a zero window or a loss spun on a
	# timer in the past, and --simulate never finished.
	"$gen" -n 1 -o "$tmp/dl4m.pcap" --resp 4000000
	"$gen" -n 1 -o "$tmp/up1m.pcap" --req 1000000
	for a in "dl4m client:zero-window:S5:300" "dl4m loss:5%" "up1m server:zero-window:C5:300" "up1m client:loss:5%"; do
		begin "--simulate --timing capture --fault ${a#* } (${a%% *}): the window holds the stream back, the replay still finishes"
		mf_run --simulate -r "$tmp/${a%% *}.pcap" --timing capture --fault "${a#* }" --seed 3
		expect_rc 0
		expect_grep out '^verdict: matched'
		end
	done

	begin "--simulate --flow all (written capture, 7 flows)"
	mf_run --simulate -r "$g7" --flow all --seed 3
	expect_rc 0
	expect_flows 7
	expect_grep out '^flow 1: matched: 198\.18\.0\.1:20000 -> 198\.18\.0\.2:80, sent 100 B, received 3000 B of 3000, '
	expect_grep out '^summary: 7 flows: 7 matched, 0 diverged, 0 failed, 0 skipped'
	end

	begin "--simulate --flow all --fault server:rst:S1: each flow's reason names the reset, not the accept queue"
	mf_run --simulate -r "$g7" --flow all --seed 3 --fault server:rst:S1 --json "$tmp/rst.json"
	expect_rc 1
	expect_flows 7
	expect_grep out '^flow 1: failed: .*\(reset by peer \(fault server:rst:S1\)\)$'
	expect_grep out '^summary: 7 flows: 0 matched, 0 diverged, 7 failed, 0 skipped'
	expect_no_grep out 'accept queue|never acknowledged|^unacknowledged'
	grep -q '"data_unacked":true' "$tmp/rst.json" && note_failure "a flow says data_unacked in the JSON"
	grep -q '"data_unacked":0' "$tmp/rst.json" || note_failure "totals.data_unacked is not 0 in the JSON"
	end

	begin "--simulate --flow 1,3,5-7 selects 5 flows"
	mf_run --simulate -r "$g7" --flow 1,3,5-7 --seed 3
	expect_rc 0
	expect_flows 5
	[ "$(flow_ids)" = "1 3 5 6 7 " ] || note_failure "flows '$(flow_ids)', want '1 3 5 6 7 '"
	expect_grep out '^summary: 5 flows: 5 matched, 0 diverged, 0 failed, 0 skipped'
	end

	begin "--simulate --flow 2-2 is one flow"
	mf_run --simulate -r "$g7" --flow 2-2 --seed 3
	expect_rc 0
	[ "$(flow_ids)" = "2 " ] || note_failure "flows '$(flow_ids)', want '2 '"
	end

	begin "--simulate --fault client:unreachable:syn: failed at once, the error and its sender named"
	mf_run --simulate -r "$g7" --flow 1 --fault client:unreachable:syn --seed 3
	expect_rc 1
	expect_grep out '^verdict: failed \(ICMP destination unreachable \(administratively prohibited\) from 198\.18\.0\.2\)$'
	expect_grep out '^ICMP errors: 1 taken, 0 ignored'
	end

	begin "--simulate --fault client:unreachable:syn:3 --json -: icmp in the report"
	mf_run --simulate -r "$g7" --flow 1 --fault client:unreachable:syn:3 --seed 3 --json -
	expect_rc 1
	expect_grep out '"icmp":\{"accepted":1,"ignored":0,"last_error":"ICMP destination unreachable \(port unreachable\) from 198\.18\.0\.2"\}'
	end

	begin "--simulate --flow all --fault server:mtu:576: every flow through the smaller hop, matched"
	mf_run --simulate -r "$g7" --flow all --fault server:mtu:576 --seed 3
	expect_rc 0
	expect_grep out '^summary: 7 flows: 7 matched, 0 diverged, 0 failed, 0 skipped'
	expect_grep out '^faults fired: [1-9]'
	end

	for f in mtu:10 mtu:70000 unreachable:x unreachable:1:300 client:mtu; do
		begin "bad ICMP fault '$f'"
		mf_run --simulate -r "$g7" --flow 1 --fault "$f"
		expect_rc 2
		expect_empty out
		expect_grep err "^tcpliveplay: --fault $f: [a-z]"
		expect_no_grep err "fault '"
		end
	done

	for sel in 0 3-1 1,,2 ,1 '1,' 1-x 5-0; do
		begin "bad --flow list '$sel'"
		mf_run --simulate -r "$g7" --flow "$sel"
		expect_rc 2
		expect_empty out
		expect_grep err '^tcpliveplay: .*flow'
		expect_no_grep err '^summary:'
		end
	done

	for sel in 99 1,99; do
		begin "--flow '$sel' on a 7-flow capture"
		mf_run --simulate -r "$g7" --flow "$sel"
		expect_rc 2
		expect_empty out
		expect_grep err '^tcpliveplay: .*99'
		end
	done

	begin "--simulate --flow all --json"
	mf_run --simulate -r "$g7" --flow all --seed 3 --json "$tmp/g7.json"
	expect_rc 0
	expect_json "$tmp/g7.json" 7 7 0 0
	end

	begin "--simulate --flow all --json - prints the JSON on stdout"
	mf_run --simulate -r "$g7" --flow all --seed 3 --json -
	expect_rc 0
	cp "$tmp/out" "$tmp/stdout.json"
	expect_json "$tmp/stdout.json" 7 7 0 0
	end

	# Flows 2 and 4 have another client (198.18.0.9). A simulation has no
	# replayed host: it plays every flow; skipping them is for live replays
	# (tests/e2e/cases/60-multiflow.sh), and so are --any-client and --concurrency.
	"$gen" -n 4 -o "$tmp/two-clients.pcap" --clients 198.18.0.1,198.18.0.9
	begin "--simulate --flow all plays every captured client's flows"
	mf_run --simulate -r "$tmp/two-clients.pcap" --flow all --seed 3 --json "$tmp/tc.json"
	expect_rc 0
	expect_flows 4
	expect_grep out '^flow 2: matched: 198\.18\.0\.9:20001 -> 198\.18\.0\.2:80, '
	expect_grep out '^summary: 4 flows: 4 matched, 0 diverged, 0 failed, 0 skipped'
	expect_json "$tmp/tc.json" 4 4 0 0
	end

	for opt in --any-client "--concurrency 8" "--concurrency unlimited"; do
		begin "$opt without a live replay: usage error"
		# shellcheck disable=SC2086 # the option and its value are two words
		mf_run --simulate -r "$tmp/two-clients.pcap" --flow all $opt
		expect_usage_error
		end
	done

	# IPv6 and segmented requests and responses.
	"$gen" -n 20 -o "$tmp/gen6.pcap" --family 6 --req 3000 --resp 20000 --spacing-us 0
	begin "--simulate --flow all (IPv6, 20 overlapping flows, 20 KB answers)"
	mf_run --simulate -r "$tmp/gen6.pcap" --flow all --seed 3
	expect_rc 0
	expect_flows 20
	expect_grep out '^flow 20: matched: \[2001:db8::1\]:20019 -> \[2001:db8::2\]:80, sent 3000 B, received 20000 B of 20000, '
	expect_grep out '^summary: 20 flows: 20 matched, 0 diverged, 0 failed, 0 skipped'
	end

	# The capture's busiest moment (issue 15).
	begin "--list: 20 flows started together are 20 at once"
	run --list "$tmp/gen6.pcap"
	expect_rc 0
	expect_grep out '^# .*, 20 TCP flows \(at most 20 at once\), 0 not TCP'
	end

	begin "--list: 7 flows one after another are 1 at once"
	run --list "$g7"
	expect_rc 0
	expect_grep out ', 7 TCP flows \(at most 1 at once\), '
	end

	# --shard: the parts of a simulation are the whole run, flow for flow.
	begin "--simulate --shard K/3: the three parts are the whole run"
	mf_run --simulate -r "$g7" --flow all --seed 3 --json "$tmp/whole.json"
	expect_rc 0
	for k in 1 2 3; do
		mf_run --simulate -r "$g7" --flow all --seed 3 --shard $k/3 --json "$tmp/part$k.json"
		expect_rc 0
	done
	expect_grep out '^summary: 2 flows: 2 matched'
	if command -v jq >/dev/null 2>&1; then
		[ "$(jq -S '[.flows[]] | sort_by(.flow.id)' "$tmp/whole.json")" = \
			"$(jq -s -S '[.[].flows[]] | sort_by(.flow.id)' "$tmp/part1.json" "$tmp/part2.json" "$tmp/part3.json")" ] ||
			note_failure "the shards' flows differ from the whole run's"
		[ "$(jq -c '[.flows[].flow.id]' "$tmp/part1.json")" = "[1,4,7]" ] ||
			note_failure "shard 1/3 replayed $(jq -c '[.flows[].flow.id]' "$tmp/part1.json"), want [1,4,7]"
	else
		note_failure "jq is not installed (ci/install-deps installs it)"
	fi
	end

	begin "a live shard with no flow reports none, exit 0, before touching the interface"
	mf_run -i no-such-if0 -r "$g7" --flow 1-3 --dst 198.18.0.2 --shard 4/4 --json "$tmp/empty.json"
	expect_rc 0
	expect_grep out '^summary: 0 flows: 0 matched, 0 diverged, 0 failed, 0 skipped'
	grep -q '"flows":\[\],"totals":{"flows":0,' "$tmp/empty.json" || note_failure "not an empty report"
	end

	for a in "--shard 0/2" "--shard 3/2" "--shard 2" "--shard 1/1025" "--concurrency 0" "--concurrency lots"; do
		begin "bad $a: usage error"
		# shellcheck disable=SC2086 # the option and its value are two words
		mf_run -i lo -r "$g7" --flow all --dst 198.18.0.2 $a
		expect_usage_error
		end
	done

	begin "--shard with --list: usage error"
	mf_run --list "$g7" --shard 1/2
	expect_usage_error
	end

	# --dst: every flow's captured server must go somewhere; checked before
	# the interface is touched, so these need no privilege.
	"$gen" -n 4 -o "$tmp/two-servers.pcap" --servers 198.19.1.10,198.19.1.20
	begin "--dst OLD=NEW leaving a captured server unmapped: usage error naming it"
	mf_run -i lo -r "$tmp/two-servers.pcap" --flow all --dst 198.19.1.10=198.18.0.2
	expect_usage_error
	expect_grep err '^tcpliveplay: flow 2: no --dst for its server 198\.19\.1\.20:80 '
	end

	for d in "198.19.1.10=2001:db8::2" "198.19.1.10=" "=198.18.0.2" "x=198.18.0.2"; do
		begin "bad --dst '$d'"
		mf_run -i lo -r "$tmp/two-servers.pcap" --flow all --dst "$d" --dst 198.18.0.3
		expect_usage_error
		expect_grep err '^tcpliveplay: --dst'
		end
	done

	begin "the same --dst OLD twice: usage error"
	mf_run -i lo -r "$tmp/two-servers.pcap" --flow all --dst 198.19.1.10=198.18.0.2 \
		--dst 198.19.1.10=198.18.0.3 --dst 198.18.0.4
	expect_usage_error
	expect_grep err '198\.19\.1\.10 is mapped twice'
	end

	begin "two plain --dst: usage error"
	mf_run -i lo -r "$tmp/two-servers.pcap" --flow all --dst 198.18.0.2 --dst 198.18.0.3
	expect_usage_error
	expect_grep err 'one ADDR\[:PORT\] for every flow'
	end

	begin "--sport N too high for the flows' port range: usage error"
	mf_run -i lo -r "$tmp/two-servers.pcap" --flow all --dst 198.18.0.2 --sport 65534
	expect_usage_error
	expect_grep err '4 flows need ports N to N\+3'
	end

	"$gen" -n 1000 -o "$tmp/gen1000.pcap"
	begin "--simulate --flow all: 1,000 flows all match"
	mf_run --simulate -r "$tmp/gen1000.pcap" --flow all --seed 3 --json "$tmp/g1000.json"
	expect_rc 0
	expect_flows 1000
	expect_grep out '^summary: 1000 flows: 1000 matched, 0 diverged, 0 failed, 0 skipped'
	expect_json "$tmp/g1000.json" 1000 1000 0 0
	end
	rm -f "$tmp"/gen*.pcap "$tmp"/two-clients.pcap "$tmp"/two-servers.pcap "$tmp"/*.json
else
	skipped=$((skipped + 1))
	echo "skip: many flows on written captures: $gen not built (make $gen)"
fi

if have_pcaps; then
	p=$pcaps/zeek__pop3__pop3.pcap
	begin "pop3 --simulate --flow all: 7 flows matched"
	mf_run --simulate -r "$p" --flow all --seed 5 --json "$tmp/pop3.json"
	expect_rc 0
	expect_flows 7
	[ "$(flow_ids)" = "1 2 3 4 5 6 7 " ] || note_failure "flows '$(flow_ids)', want 1 to 7"
	expect_grep out '^flow 7: matched: 192\.168\.0\.4:26383 -> 212\.227\.15\.166:110, sent 138 B, received 19651 B of 19651, '
	expect_grep out '^summary: 7 flows: 7 matched, 0 diverged, 0 failed, 0 skipped'
	expect_json "$tmp/pop3.json" 7 7 0 0
	end

	begin "pop3 --simulate --flow 1,3,5-7 selects 5"
	mf_run --simulate -r "$p" --flow 1,3,5-7 --seed 5
	expect_rc 0
	expect_flows 5
	[ "$(flow_ids)" = "1 3 5 6 7 " ] || note_failure "flows '$(flow_ids)', want '1 3 5 6 7 '"
	expect_grep out '^summary: 5 flows: 5 matched'
	end

	for sel in 0 3-1 1,,2 99; do
		begin "pop3 bad --flow '$sel'"
		mf_run --simulate -r "$p" --flow "$sel"
		expect_rc 2
		expect_empty out
		expect_grep err '^tcpliveplay: '
		end
	done

	p=$pcaps/suricata__ftp-epsv__input.pcap
	begin "ftp-epsv --list and --simulate --flow all"
	run --list "$p"
	expect_rc 0
	nl=$(grep -vc '^#' "$tmp/out")
	mf_run --simulate -r "$p" --flow all --seed 5
	expect_rc 0
	expect_flows "$nl"
	expect_grep out "^summary: $nl flows?: $nl matched, 0 diverged, 0 failed, 0 skipped"
	end
else
	for c in "pop3 --simulate --flow all" "pop3 --flow 1,3,5-7" "pop3 bad --flow lists" "ftp-epsv --flow all"; do
		skip "$c"
	done
fi

# --- Memory: a capture's bytes are mapped, not copied (issue 17) ---------------
# A 256 MiB download (184,000 packets) loads and replays in 32 MiB of data
# segment (ulimit -d bounds the heap and private writable mappings; the mapped
# capture is read-only, not counted): the model keeps about 50 bytes a packet,
# not the packet. A build that copied the stream would need 256 MiB.
if [ "$asan" -eq 1 ]; then
	for c in "256 MiB capture: --list" "256 MiB capture: --simulate"; do
		skipped=$((skipped + 1))
		echo "skip: $c in 32 MiB of data: an ASan build (its shadow memory and quarantine count as data)"
	done
else
	big=$tmp/big.pcap
	"$gen" -n 1 --resp 268435456 -o "$big" >/dev/null 2>&1
	for mode in list simulate; do
		begin "256 MiB capture: --$mode in 32 MiB of data"
		if [ "$mode" = list ]; then
			set -- --list "$big"
		else
			set -- --simulate -r "$big" --seed 1 -q
		fi
		(
			# shellcheck disable=SC3045 # dash, bash and busybox sh have ulimit -d
			ulimit -d 32768 || exit 99
			exec timeout 60 "$bin" "$@"
		) >"$tmp/out" 2>"$tmp/err"
		rc=$?
		expect_rc 0
		if [ "$mode" = list ]; then
			expect_grep out 's2c=[0-9]+pkt/268435456B .*holes=none'
		else
			expect_empty out # -q: the exit status tells
		fi
		end
	done
	rm -f "$big"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end suite: real replays in the lab (netns/lab.sh). Run it through
# netns/run (make e2e does), so that it never touches the host's network.
# Each case asserts the exit status, the verdict and what crossed the wire.
# Last line: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.."
. netns/lab.sh

B=${LP_BUILD:-build}
LP=$B/tcpliveplay
T=$(mktemp -d "${TMPDIR:-/tmp}/lp-e2e.XXXXXX")
pass=0 fail=0 skip=0

cleanup() {
	for p in $BG_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	lab_down
	rm -rf "$T"
}
BG_PIDS=""
# bg CMD...: start a background process that lives until the suite ends.
bg() {
	"$@" &
	BG_PIDS="$BG_PIDS $!"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { pass=$((pass + 1)); echo "ok   $1"; }
not_ok() { fail=$((fail + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "     $l"; done; }
skipped() { skip=$((skip + 1)); echo "skip $1: $2"; }

if ! lab_up; then
	echo "FAIL lab: could not build the two-namespace lab"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

# Each case file adds its checks with ok / not_ok / skipped; they share the
# lab, $T, and what earlier files set up (servers, recorded captures).
# E2E_CASES (a shell pattern, e.g. '60-*') runs only the files it matches:
# for working on one file that needs nothing earlier ones set up.
for f in tests/e2e/cases/*.sh; do
	case "${f##*/}" in
	${E2E_CASES:-*}) . "$f" ;;
	esac
done

echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

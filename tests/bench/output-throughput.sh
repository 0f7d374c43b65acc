#!/bin/sh
# output-throughput.sh - how fast `flightdeck run` passes a command's output through, against
# cat: MB/s for cat, for flightdeck without a regex (the child writes to our stdout itself),
# and with --progress-regex (the pump reads, passes through and matches every line).
#
#   tests/bench/output-throughput.sh [FLIGHTDECK] [MB]
#
# The input is MB megabytes of 80-byte lines, a "step N" line every 100 lines. FLIGHTDECK is
# $FLIGHTDECK when not given, else build/flightdeck. QUICK=1 (ctest's
# bench-quick-output-throughput): 1 MB by default.
set -eu
FD=${1:-${FLIGHTDECK:-build/flightdeck}}
if [ "${QUICK:-0}" = 1 ]; then MB=${2:-1}; else MB=${2:-200}; fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fd-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

LC_ALL=C awk -v mb="$MB" 'BEGIN {
	line = sprintf("%079d", 0); n = mb * 1000000 / 80
	for (i = 1; i <= n; i++) print (i % 100 ? line : sprintf("step %-74d", i))
}' >"$TMP/in"
bytes=$(wc -c <"$TMP/in")
[ "$bytes" -gt 0 ] || { echo "no input generated" >&2; exit 1; }

rate() { # rate NAME CMD...: runs CMD with its output to /dev/null... through a pipe to cat
	name=$1
	shift
	t0=$(date +%s.%N)
	"$@" | cat >/dev/null
	t1=$(date +%s.%N)
	echo "$name $bytes $t0 $t1" | awk '{ printf "%-28s %8.0f MB/s\n", $1, $2 / 1e6 / ($4 - $3) }'
}

rate cat cat "$TMP/in"
rate flightdeck "$FD" run -q --preflight none -- cat "$TMP/in"
rate flightdeck+regex "$FD" run -q --preflight none --progress-regex 'step ([0-9]+)' -- cat "$TMP/in"
rate flightdeck+regex-noliteral "$FD" run -q --preflight none --progress-regex '^[a-z]+ ([0-9]+)' -- cat "$TMP/in"

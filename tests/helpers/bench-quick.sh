#!/bin/sh
# bench-quick.sh PATTERN SCRIPT [ARG...] - runs one tests/bench script in its quick mode
# (QUICK=1) for ctest's bench-quick-NAME, so that no benchmark rots unseen between the times
# someone runs it in earnest. Its output is printed; its exit status is passed on (77 is a
# skip: ctest's SKIP_RETURN_CODE); and a run that exits 0 without a line matching PATTERN
# (grep -E: a row of its table) fails, because a bench that stopped measuring is broken too.
set -u
pattern=$1
shift
out=$(mktemp "${TMPDIR:-/tmp}/fd-bench-quick.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
rc=0
QUICK=1 "$@" >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" -eq 0 ] || exit "$rc"
if ! grep -Eq -- "$pattern" "$out"; then
	echo "bench-quick.sh: $* exited 0 but printed no line matching '$pattern': its table is missing" >&2
	exit 1
fi

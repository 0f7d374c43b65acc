# lib.sh - shared helpers for the numbered integration tests (sourced, POSIX sh).
#
# ctest sets FLIGHTDECK (the binary), FIXTURES (generated trees), TESTS_DIR and SRC_DIR.
# A test prints "ok - ..." lines, calls fail to stop with a reason, and skip (exit 77,
# which ctest reports as skipped) when something it needs is absent: never a pass.
set -u

: "${FLIGHTDECK:?FLIGHTDECK must point at the flightdeck binary}"
: "${FIXTURES:?FIXTURES must point at the generated fixture trees}"
KMSG_DIR="$TESTS_DIR/fixtures/kmsg"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/flightdeck-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Every process this test starts inherits it: no_leftovers tells this test's processes from
# those of a test running beside it (ctest -j) whose command lines look the same.
export FD_TEST_TMP="$TMP"
# Tests must not depend on the environment of whoever runs them.
unset NCCL_SOCKET_IFNAME NCCL_IB_HCA FLIGHTDECK_SYSFS_ROOT FLIGHTDECK_PROC_ROOT FLIGHTDECK_KMSG
# ... nor on a site config in /etc/flightdeck: the default file is one that is not there.
export FLIGHTDECK_CONFIG=/nonexistent/flightdeck.conf # not under $TMP: any uid sees it is absent
export NO_COLOR=1
# Fixture nodes have GPUs, so they need an NVML: by default the fake one, answering as a
# healthy 8x H100 node. Tests of the real machine or of GPU-less fixtures unset it.
if [ -n "${FAKE_NVML_LIB:-}" ]; then
	export FLIGHTDECK_NVML_LIB="$FAKE_NVML_LIB"
	export FAKE_NVML_FIXTURE="$TESTS_DIR/fixtures/nvml/healthy-h100x8.conf"
fi

command -v jq >/dev/null 2>&1 || { echo "FAIL: jq is required (scripts/install-deps.sh installs it)"; exit 1; }

fail() {
	echo "FAIL: $*"
	[ -s "$TMP/out" ] && { echo "--- stdout"; head -c 4000 "$TMP/out"; }
	[ -s "$TMP/err" ] && { echo "--- stderr"; cat "$TMP/err"; }
	exit 1
}
ok() { echo "ok - $*"; }
skip() {
	echo "skipped: $*"
	exit 77
}

# fx NAME: the seam flags for fixture NAME (sysfs and proc roots, an empty kernel log). A
# fixture node has no real GPU to run flightdeck-gpubench on, so none is given unless a test
# passes its own --gpubench after these flags (the last one wins). Nor has it an RDMA device
# for ib_write_bw: none is given either (t0024 passes its stand-in).
fx() {
	echo "--sysfs-root $FIXTURES/$1/sys --proc-root $FIXTURES/$1/proc --kmsg $FIXTURES/empty.log" \
		"--gpubench /nonexistent/flightdeck-gpubench --ib-write-bw /nonexistent/ib_write_bw"
}

# run ARGS...: runs flightdeck; stdout in $TMP/out, stderr in $TMP/err, status in $RC
run() {
	RC=0
	"$FLIGHTDECK" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	if grep -q -E 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error' "$TMP/err"; then
		fail "sanitizer report from: flightdeck $*"
	fi
}

# check ARGS...: flightdeck check --json ARGS (counter window 0 unless given)
check() {
	run check --json --counter-window 0 "$@"
	if [ "$RC" -le 1 ]; then
		jq -e . "$TMP/out" >/dev/null 2>&1 || fail "check $* did not print one JSON document"
	fi
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "expected exit $1, got $RC"
}

# count FILTER: how many findings match the jq boolean FILTER
count() {
	jq "[.findings[] | select($1)] | length" "$TMP/out"
}

# expect_finding JQ-FILTER [N]: at least one (or exactly N) findings match
expect_finding() {
	n=$(count "$1")
	if [ $# -ge 2 ]; then
		[ "$n" -eq "$2" ] || fail "expected $2 findings matching '$1', found $n"
	else
		[ "$n" -ge 1 ] || fail "expected a finding matching '$1', found none"
	fi
}

expect_no_finding() {
	n=$(count "$1")
	[ "$n" -eq 0 ] || fail "expected no finding matching '$1', found $n"
}

# expect_one_line_error PATTERN: stderr is exactly one line and matches PATTERN
expect_one_line_error() {
	lines=$(wc -l <"$TMP/err")
	[ "$lines" -eq 1 ] || fail "expected one line on stderr, got $lines"
	grep -q -- "$1" "$TMP/err" || fail "stderr does not mention '$1'"
	grep -q '^flightdeck: ' "$TMP/err" || fail "stderr line does not start with 'flightdeck: '"
}

# need_torch: skips unless the Python environment of scripts/venv.sh has torch 2.x; sets TORCHRUN
# (its torchrun, whose workers run its python3), TORCH_PY (that python3, for ranks flightdeck
# starts itself) and TRAIN (the demo trainer)
need_torch() {
	need_venv torch
	TORCHRUN=$FD_VENV/bin/torchrun
	TORCH_PY=$FD_VENV_PY
	[ -x "$TORCHRUN" ] || skip "$FD_VENV has torch but no torchrun (scripts/install-deps.sh installs it)"
	TRAIN="$SRC_DIR/scripts/demo/train.py"
}

# need_torch_debian: the same with Debian's python3-torch (1.13) and /usr/bin/torchrun, for the
# test that keeps the older torch working
need_torch_debian() {
	TORCHRUN=/usr/bin/torchrun
	TORCH_PY=/usr/bin/python3
	[ -x "$TORCHRUN" ] && "$TORCH_PY" -c 'import torch' 2>/dev/null ||
		skip "Debian's python3-torch is not installed (scripts/install-deps.sh installs it)"
	TRAIN="$SRC_DIR/scripts/demo/train.py"
}

# need_venv MODULE...: skips unless the Python environment of scripts/venv.sh imports each MODULE;
# sets FD_VENV_PY to its python3
need_venv() {
	. "$SRC_DIR/scripts/venv.sh"
	[ -x "$FD_VENV_PY" ] || skip "no Python environment at $FD_VENV (scripts/install-deps.sh makes it)"
	for m in "$@"; do
		"$FD_VENV_PY" -c "import $m" 2>/dev/null || skip "$FD_VENV lacks $m (scripts/install-deps.sh installs it)"
	done
}

# ---- `flightdeck run` helpers ------------------------------------------------------------

# frun ARGS...: flightdeck run with no preflight and short timers, events in $TMP/ev
frun() {
	rm -f "$TMP/ev"
	run run --preflight none --grace 1 --backoff 0.2 --kill-wait 3 --events "$TMP/ev" "$@"
}

# ev JQ-FILTER: how many lines of the events log match
ev() {
	[ -f "$TMP/ev" ] || { echo 0; return; }
	jq -c "select($1)" "$TMP/ev" | wc -l
}

expect_event() {
	n=$(ev "$1")
	[ "$n" -ge "${2:-1}" ] || fail "expected ${2:-1}+ events matching '$1', found $n: $(cat "$TMP/ev" 2>/dev/null)"
}

# no_leftovers PATTERN: no process of this test whose command line matches PATTERN is alive
no_leftovers() {
	left=
	for p in $(pgrep -f "$1" || true); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "FD_TEST_TMP=$TMP" && left="$left $p"
	done
	left=${left# }
	[ -z "$left" ] || { ps -o pid,stat,args -p $(echo $left | tr ' ' ,) || true; fail "processes left behind: $left"; }
}

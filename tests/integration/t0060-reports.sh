#!/bin/sh
# The text table, colour rules, and the Prometheus textfile.
. "$TESTS_DIR/integration/lib.sh"

run check $(fx port-down) --counter-window 0
expect_rc 1
awk 'length > 100 { bad = 1 } END { exit bad }' "$TMP/out" || fail "a line is wider than 100 columns"
first=$(grep -n -E '^(FAIL|WARN|PASS|SKIP) ' "$TMP/out" | head -1 | cut -d: -f2 | cut -c1-4)
[ "$first" = FAIL ] || fail "failures are not listed first (first is $first)"
grep -A4 '^FAIL.*IB_PORT_DOWN' "$TMP/out" | grep -q 'remedy: ' || fail "no remedy under the failure"
grep -q "$(printf '\033')" "$TMP/out" && fail "colour codes in output that is not a terminal"
head -1 "$TMP/out" | grep -q 'UNFIT' || fail "the first line does not give the verdict"
ok "text: verdict first, failures first, remedy under each, 100 columns, no colour off a tty"

run check $(fx port-down) --counter-window 0 -q
grep -q '^PASS' "$TMP/out" && fail "--quiet shows passes"
grep -q '^FAIL' "$TMP/out" || fail "--quiet hides failures"
ok "--quiet shows only problems"

if command -v script >/dev/null 2>&1; then
	unset NO_COLOR
	script -q -e -c "$FLIGHTDECK check $(fx port-down) --counter-window 0" /dev/null >"$TMP/tty" 2>&1 || true
	grep -q "$(printf '\033')\[" "$TMP/tty" || fail "no colour on a terminal"
	NO_COLOR=1 script -q -e -c "$FLIGHTDECK check $(fx port-down) --counter-window 0" /dev/null >"$TMP/tty" 2>&1 || true
	grep -q "$(printf '\033')\[" "$TMP/tty" && fail "colour on a terminal despite NO_COLOR"
	export NO_COLOR=1
	ok "colour on a terminal, none with NO_COLOR"
else
	echo "# script(1) absent: terminal colour not tested"
fi

mkdir "$TMP/prom"
run check $(fx port-down) --counter-window 0 --node gpu-node-17 --prom-file "$TMP/prom/flightdeck.prom"
expect_rc 1
p="$TMP/prom/flightdeck.prom"
[ -f "$p" ] || fail "no textfile written"
grep -q '^flightdeck_check_fit{node="gpu-node-17",level="standard"} 0$' "$p" || fail "fit gauge"
grep -q '^flightdeck_check_problem{node="[^"]*",check="ib.port",subject="mlx5_3/1",code="IB_PORT_DOWN",status="fail"} 1$' "$p" ||
	fail "problem series"
grep -q '^flightdeck_check_findings{node="[^"]*",status="fail"} 2$' "$p" || fail "findings by status"
grep -q '^# TYPE flightdeck_check_duration_seconds gauge$' "$p" || fail "TYPE line"
[ "$(ls -A "$TMP/prom")" = flightdeck.prom ] || fail "temporary files left beside the textfile"
[ "$(stat -c %a "$p")" = 644 ] || fail "textfile mode is not 0644"
ok "Prometheus textfile: written atomically, fit gauge, one series per problem"

# the node label without --node: $FLIGHTDECK_NODE (a pod's node/pod), before $SLURMD_NODENAME
FLIGHTDECK_NODE=gpu-node-1/train-0-x7k2p SLURMD_NODENAME=slurm-name \
	"$FLIGHTDECK" check $(fx port-down) --counter-window 0 --prom-file "$p" >/dev/null 2>&1 || true
grep -q '^flightdeck_check_fit{node="gpu-node-1/train-0-x7k2p",' "$p" || fail "FLIGHTDECK_NODE is not the label"
SLURMD_NODENAME=slurm-name "$FLIGHTDECK" check $(fx port-down) --counter-window 0 --prom-file "$p" >/dev/null 2>&1 || true
grep -q '^flightdeck_check_fit{node="slurm-name",' "$p" || fail "SLURMD_NODENAME is not the label"
ok "the node label: --node, else FLIGHTDECK_NODE, else SLURMD_NODENAME"

run check $(fx healthy-ndr8) --counter-window 0 --prom-file "$p"
grep -q 'flightdeck_check_fit{.*} 1$' "$p" || fail "textfile not replaced on the next run"
ok "the next run replaces it"

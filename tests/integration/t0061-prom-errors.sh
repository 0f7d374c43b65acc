#!/bin/sh
# --prom-file on a check that could not give a verdict: a usage error (exit 2), a could-not-run
# (exit 3) or a stopping signal rewrites the textfile with flightdeck_check_fit NaN and
# flightdeck_check_error{node,reason}, so the last good result never stays and looks current.
. "$TESTS_DIR/integration/lib.sh"

mkdir "$TMP/prom"
p="$TMP/prom/flightdeck.prom"

# parseable: every line a comment or `name{labels} value` (Prometheus text format)
parseable() {
	bad=$(grep -v -E '^#|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+]?[0-9.eE+-]+|NaN|[-+]Inf)$' "$p" || true)
	[ -z "$bad" ] || fail "textfile lines not in the text format: $bad"
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics <"$p" >/dev/null 2>&1 || fail "promtool check metrics refused it"
	fi
}

run check $(fx healthy-ndr8) --counter-window 0 --node n1 --prom-file "$p"
expect_rc 0
grep -q '^flightdeck_check_fit{node="n1",level="standard"} 1$' "$p" || fail "a good run wrote no fit 1"
parseable

before=$(date +%s)
run check $(fx healthy-ndr8) --counter-window 0 --node n1 --prom-file "$p" --sysfs-root "$TMP/nonexistent"
expect_rc 2
grep -q '^flightdeck_check_fit{node="n1",level="standard"} NaN$' "$p" || fail "exit 2 left the fit gauge: $(cat "$p")"
grep -q '^flightdeck_check_error{node="n1",reason="usage"} 1$' "$p" || fail "no usage error metric: $(cat "$p")"
ts=$(sed -n 's/^flightdeck_check_timestamp_seconds{node="n1"} \([0-9]*\).*/\1/p' "$p")
[ -n "$ts" ] && [ "$ts" -ge "$before" ] || fail "no fresh timestamp ($ts, the run started at $before)"
grep -q 'flightdeck_check_problem' "$p" && fail "problem series on a run that judged nothing"
parseable
[ "$(ls -A "$TMP/prom")" = flightdeck.prom ] || fail "temporary files left beside the textfile"
ok "a bad --sysfs-root (exit 2) rewrites the textfile: fit NaN, error{reason=usage}, timestamp"

# an option error after --prom-file was read: the same
run check $(fx healthy-ndr8) --prom-file "$p" --level bogus
expect_rc 2
grep -q '^flightdeck_check_error{node=".*",reason="usage"} 1$' "$p" || fail "a bad --level after --prom-file left the textfile"
parseable

run check $(fx healthy-ndr8) --counter-window 0 --node n1 --prom-file "$p"
grep -q '^flightdeck_check_fit{node="n1",level="standard"} 1$' "$p" || fail "the next good run did not restore fit 1"
grep -q 'flightdeck_check_error' "$p" && fail "the error metric stays after a good run"
ok "an option error after --prom-file likewise; the next good run replaces it"

# an error before --prom-file is read (an unknown flag first; an unknown key in --config, which
# is read before the flags): the textfile is still rewritten, so FlightdeckCheckBroken fires
run check $(fx healthy-ndr8) --no-such-flag --node n2 --prom-file "$p"
expect_rc 2
grep -q '^flightdeck_check_error{node="n2",reason="usage"} 1$' "$p" || fail "an unknown flag before --prom-file left the textfile: $(cat "$p")"
parseable
printf 'no-such-key = 1\n' >"$TMP/bad.conf"
run check $(fx healthy-ndr8) --config "$TMP/bad.conf" --prom-file="$p" --node n3
expect_rc 2
grep -q '^flightdeck_check_error{node="n3",reason="usage"} 1$' "$p" || fail "an unknown config key left the textfile: $(cat "$p")"
ok "a usage error before --prom-file is parsed (unknown flag, unknown config key) rewrites it too"

# a check stopped by a signal (Slurm's SIGTERM to a HealthCheckProgram past its 60 s) while
# gpubench hangs: the textfile says so too, not the last good verdict
export STANDIN_SLEEP="3607.$$"
STANDIN_MODE=hang "$FLIGHTDECK" check --counter-window 0 --node n1 $(fx no-rdma) --only bw \
	--gpubench "$TESTS_DIR/helpers/gpubench-standin.sh" --gpubench-timeout 60s --prom-file "$p" \
	>"$TMP/out" 2>"$TMP/err" &
pid=$!
for _ in $(seq 100); do pgrep -f "sleep $STANDIN_SLEEP" >/dev/null && break; sleep 0.05; done
pgrep -f "sleep $STANDIN_SLEEP" >/dev/null || fail "the hanging stand-in did not start"
kill -TERM "$pid"
RC=0
wait "$pid" || RC=$?
expect_rc 143
grep -q '^flightdeck_check_fit{node="n1",level="standard"} NaN$' "$p" || fail "a stopped check left the fit gauge: $(cat "$p")"
grep -q '^flightdeck_check_error{node="n1",reason="stopped"} 1$' "$p" || fail "no stopped error metric: $(cat "$p")"
parseable
[ "$(ls -A "$TMP/prom")" = flightdeck.prom ] || fail "temporary files left beside the textfile"
ok "a check stopped by SIGTERM rewrites the textfile: fit NaN, error{reason=stopped}"

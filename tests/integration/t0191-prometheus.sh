#!/bin/sh
# The operators' Prometheus path on the real tools: the shipped alert rules
# pass `promtool check rules` and their unit tests (`promtool test rules`); a live run's
# textfile passes `promtool check metrics`; a real node_exporter, started here on a free
# loopback port with its textfile collector on the run's directory, serves the run's
# flightdeck_run_* series (and check's flightdeck_check_*), and the last write after the run.
# Skipped with the reason when promtool, node_exporter or curl is not installed (Debian:
# prometheus, prometheus-node-exporter, curl; scripts/install-deps.sh installs them).
. "$TESTS_DIR/integration/lib.sh"

command -v promtool >/dev/null 2>&1 || skip "promtool is not installed (Debian package prometheus)"
RULES="$SRC_DIR/scripts/prometheus"

promtool check rules "$RULES/flightdeck-rules.yml" >"$TMP/out" 2>"$TMP/err" ||
	fail "promtool check rules refused flightdeck-rules.yml"
grep -q 'SUCCESS: 9 rules found' "$TMP/out" || fail "expected 9 rules: $(cat "$TMP/out")"
ok "promtool check rules: the 9 alert rules are valid"

(cd "$TMP" && promtool test rules "$RULES/flightdeck-rules.test.yml") >"$TMP/out" 2>"$TMP/err" ||
	fail "promtool test rules failed: $(cat "$TMP/out" "$TMP/err")"
for a in FlightdeckTrainingStalled FlightdeckNodeUnfit FlightdeckCheckBroken \
	FlightdeckRestartsClimbing FlightdeckCheckpointOverdue FlightdeckCheckStale \
	FlightdeckRunGaveUp FlightdeckRunPreflightFailed FlightdeckRunNodeLost; do
	grep -q "alertname: $a\$" "$RULES/flightdeck-rules.test.yml" || fail "no unit test for $a"
done
ok "promtool test rules: every alert has a unit test, and they pass"

# The rules' tests feed the labels the binary writes: each flightdeck_check_* series of the
# test file has the label names (instance and job aside, a scrape's) of the same metric in a
# textfile the real binary wrote, for a verdict, an unfit node and a check that gave none.
mkdir "$TMP/tf"
"$FLIGHTDECK" check $(fx healthy-ndr8) --counter-window 0 --node g1 --prom-file "$TMP/tf/a.prom" >/dev/null 2>&1
"$FLIGHTDECK" check $(fx port-down) --counter-window 0 --node g1 --prom-file "$TMP/tf/b.prom" >/dev/null 2>&1
"$FLIGHTDECK" check $(fx healthy-ndr8) --node g1 --prom-file "$TMP/tf/c.prom" --level bogus >/dev/null 2>&1
# labels_of FILE...: "metric label,label" for every sample, label names sorted
labels_of() {
	grep -h -o '^flightdeck_check_[a-z_]*{[^}]*}' "$@" | sed 's/="[^"]*"//g; s/[{}]/ /g' |
		awk '{ n = split($2, l, ","); s = ""; for (i = 1; i <= n; i++) if (l[i] != "instance" && l[i] != "job") s = s (s == "" ? "" : ",") l[i]; print $1, s }' |
		while read -r m l; do echo "$m $(echo "$l" | tr , '\n' | sort | paste -sd, -)"; done | sort -u
}
labels_of "$TMP/tf/"*.prom >"$TMP/bin.labels"
grep -o "flightdeck_check_[a-z_]*{[^}]*}" "$RULES/flightdeck-rules.test.yml" >"$TMP/tf/test.txt"
labels_of "$TMP/tf/test.txt" >"$TMP/test.labels"
[ -s "$TMP/test.labels" ] || fail "no flightdeck_check_* series in the rules' test file"
missing=$(comm -13 "$TMP/bin.labels" "$TMP/test.labels")
[ -z "$missing" ] || fail "the rules' tests feed labels the binary never writes: $missing (it writes: $(tr '\n' ';' <"$TMP/bin.labels"))"
grep -q '^flightdeck_check_error node,reason$' "$TMP/bin.labels" || fail "the error sample names no node: $(cat "$TMP/bin.labels")"
ok "the rules' tests use the labels a real textfile has ($(wc -l <"$TMP/test.labels") series shapes)"

# --- a live run, and a check beside it, in one textfile directory ---------------------------
NE_PID= FD_PID=
cleanup() {
	[ -n "$NE_PID" ] && kill "$NE_PID" 2>/dev/null && wait "$NE_PID" 2>/dev/null
	[ -n "$FD_PID" ] && kill "$FD_PID" 2>/dev/null && wait "$FD_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

D="$TMP/textfile"
mkdir "$D" "$TMP/ckpt"
touch "$TMP/ckpt/step-000007.pt"
cat >"$TMP/job.sh" <<'S'
i=1
while [ ! -e "$CTL/finish" ]; do
	"$FLIGHTDECK" beat --rank 0 --step $i
	"$FLIGHTDECK" beat --rank 1 --step $i
	i=$((i + 1))
	sleep 0.1
done
S
export CTL="$TMP" FLIGHTDECK
SLURMD_NODENAME=prom-node "$FLIGHTDECK" run --preflight none --grace 1 --ranks 2 \
	--checkpoint-dir "$TMP/ckpt" --prom-file "$D/flightdeck-run.prom" -- sh "$TMP/job.sh" \
	>"$TMP/run.out" 2>"$TMP/run.err" &
FD_PID=$!
for _ in $(seq 100); do
	grep -q '^flightdeck_run_last_step{node="prom-node",rank="1"}' "$D/flightdeck-run.prom" 2>/dev/null && break
	sleep 0.1
done
grep -q '^flightdeck_run_last_step{node="prom-node",rank="1"}' "$D/flightdeck-run.prom" 2>/dev/null ||
	fail "the run's textfile never showed rank 1: $(cat "$D/flightdeck-run.prom" "$TMP/run.err" 2>/dev/null)"
promtool check metrics <"$D/flightdeck-run.prom" >"$TMP/out" 2>&1 ||
	fail "promtool check metrics refused the run's textfile: $(cat "$TMP/out")"
ok "promtool check metrics: the textfile of a live run"

run check $(fx healthy-ndr8) --counter-window 0 --node prom-node --prom-file "$D/flightdeck-check.prom"
expect_rc 0
promtool check metrics <"$D/flightdeck-check.prom" >"$TMP/out" 2>&1 ||
	fail "promtool check metrics refused check's textfile: $(cat "$TMP/out")"

command -v prometheus-node-exporter >/dev/null 2>&1 ||
	skip "prometheus-node-exporter is not installed (promtool parts passed)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed (promtool parts passed)"

# free_port: a loopback port nobody listens on now (node_exporter is retried if it loses it)
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
	else
		echo $((20000 + $$ % 20000))
	fi
}

# scrape: node_exporter's /metrics into $TMP/scrape
scrape() {
	curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$TMP/scrape"
}

for _ in 1 2 3; do
	PORT=$(free_port)
	prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory "$D" --web.listen-address "127.0.0.1:$PORT" \
		>"$TMP/ne.log" 2>&1 &
	NE_PID=$!
	for _ in $(seq 50); do
		scrape 2>/dev/null && break
		kill -0 "$NE_PID" 2>/dev/null || break
		sleep 0.1
	done
	scrape 2>/dev/null && break
	kill "$NE_PID" 2>/dev/null
	wait "$NE_PID" 2>/dev/null
	NE_PID=
done
[ -n "$NE_PID" ] || fail "node_exporter did not serve /metrics: $(tail -n 5 "$TMP/ne.log")"

grep -q '^node_textfile_scrape_error 0$' "$TMP/scrape" || fail "node_exporter could not read the textfiles: $(grep textfile "$TMP/scrape")"
for m in 'flightdeck_run_up{node="prom-node"} 1' 'flightdeck_run_launches_total{node="prom-node"} 1' \
	'flightdeck_run_restarts_total{node="prom-node"} 0' 'flightdeck_run_stalls_total{node="prom-node"} 0' \
	'flightdeck_check_fit{level="standard",node="prom-node"} 1'; do
	grep -q -F -x "$m" "$TMP/scrape" || fail "node_exporter does not serve '$m': $(grep flightdeck "$TMP/scrape")"
done
for r in 0 1; do
	grep -q "^flightdeck_run_last_step{node=\"prom-node\",rank=\"$r\"} [1-9]" "$TMP/scrape" ||
		fail "no last step of rank $r in the scrape"
	grep -q "^flightdeck_run_last_beat_timestamp_seconds{node=\"prom-node\",rank=\"$r\"} " "$TMP/scrape" ||
		fail "no last beat of rank $r in the scrape"
done
grep -q '^flightdeck_run_checkpoint_age_seconds{node="prom-node"} ' "$TMP/scrape" || fail "no checkpoint age in the scrape"
grep -q '^# TYPE flightdeck_run_restarts_total counter$' "$TMP/scrape" || fail "restarts_total is not served as a counter"
ok "a real node_exporter serves the live run's flightdeck_run_* and check's flightdeck_check_fit"

touch "$TMP/finish"
RC=0
wait "$FD_PID" || RC=$?
FD_PID=
expect_rc 0
scrape || fail "node_exporter stopped serving"
grep -q -F -x 'flightdeck_run_up{node="prom-node"} 0' "$TMP/scrape" || fail "up 0 not served after the run"
grep -q -F -x 'flightdeck_run_exit_code{node="prom-node"} 0' "$TMP/scrape" || fail "exit code not served after the run"
ok "after the run node_exporter serves its last write: up 0, exit code 0"

# The Grafana dashboard (scripts/grafana) loads, and every metric its panels and its node
# variable ask for is one a real textfile has: the live run's, and checks that judged, found
# a node unfit and gave no verdict (written at the top of this test)
G=$SRC_DIR/scripts/grafana/flightdeck-dashboard.json
jq -e '.panels | length > 5' "$G" >/dev/null || fail "the dashboard does not load as JSON with panels"
jq -r '.panels[].targets[].expr, .templating.list[].query' "$G" | grep -o 'flightdeck_[a-z_]*' | sort -u >"$TMP/dash.metrics"
cat "$TMP/scrape" "$TMP/tf/"*.prom | grep -o '^flightdeck_[a-z_]*' | sort -u >"$TMP/served.metrics"
# the variable's regex names both textfiles' timestamp series
sed -i '/^flightdeck_$/d' "$TMP/dash.metrics"
unknown=$(comm -23 "$TMP/dash.metrics" "$TMP/served.metrics" | grep -v '^flightdeck_(check' || true)
[ -z "$unknown" ] || fail "the dashboard asks for metrics no textfile has: $unknown"
[ "$(wc -l <"$TMP/dash.metrics")" -ge 10 ] || fail "the dashboard names only $(wc -l <"$TMP/dash.metrics") metrics"
for u in $(grep -o 'runbook_url: "[^"]*"' "$RULES/flightdeck-rules.yml" | sed 's/.*#//; s/"$//'); do
	grep -qix "### $u" "$SRC_DIR/docs/operators/prometheus.md" ||
		fail "runbook_url #$u has no section in docs/operators/prometheus.md"
done
ok "the Grafana dashboard loads; its $(wc -l <"$TMP/dash.metrics") metrics are the binary's; every runbook link has its section"

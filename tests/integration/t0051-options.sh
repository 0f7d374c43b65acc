#!/bin/sh
# The option layer as users see it: run --show-config and --config (flags beat the file),
# bounds on durations, and every command's --help listing exactly the options it accepts.
. "$TESTS_DIR/integration/lib.sh"

# --- run --show-config: every option with its default -----------------------------------
run run --show-config
expect_rc 0
cat >"$TMP/want" <<'EOF'
progress-regex = 
heartbeat-file = 
pty = 0
heartbeat-uid = none
stall-timeout = 5m
stall-factor = 5
stall-floor = 1m
startup-timeout = 20m
checkpoint-timeout = 30m
teardown-timeout = 10m
timeout = none
ranks = 0
grace = 25s
forwarding-launcher = auto
kill-wait = 10s
signal-dedupe = 2s
max-restarts = 3
backoff = 10s
backoff-max = 5m
no-progress-limit = 2
gpu-release-timeout = 1m
stack-wait = 5s
preflight = quick
check-config = 
checkpoint-dir = 
checkpoint-max-age = off
checkpoint-marker = 
nproc-per-node = 0
prefix-output = 0
spares = 0
coordinator = 
bind = 
token-file = 
token-from-job = 0
peer-interval = 1s
peer-timeout = 10s
join-timeout = 5m
send-threads = auto
exclude-file = 
events = 
prom-file = 
termination-log = 
drain-replaced = 0
quiet = 0
EOF
diff "$TMP/want" "$TMP/out" >"$TMP/diff" || fail "run --show-config: $(cat "$TMP/diff")"
# every value option of run --help is a key (the rest: --config, --no-config, --show-config,
# --help; --node-rank and --nnodes differ per node, --print-group is an action)
"$FLIGHTDECK" run --help | sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}--\([a-z0-9-]*\).*/\2/p' |
	grep -v -x -e config -e no-config -e show-config -e help -e node-rank -e nnodes \
		-e print-group >"$TMP/help-opts"
[ "$(wc -l <"$TMP/help-opts")" -ge 24 ] || fail "run --help lists only $(wc -l <"$TMP/help-opts") options"
while read -r opt; do
	grep -q "^$opt = " "$TMP/out" || fail "run --show-config does not print $opt"
done <"$TMP/help-opts"
ok "run --show-config prints every run option with its default"

# --- run --config: sets options; a flag beats the file whatever the order --------------
cat >"$TMP/run.conf" <<EOF
# a run config
stall-timeout = 3m
stall-factor = 2.5
preflight = none   # no check on a test machine
progress-regex = step (\d+)
events = $TMP/ev.jsonl
EOF
run run --config "$TMP/run.conf" --show-config
expect_rc 0
for line in 'stall-timeout = 3m' 'stall-factor = 2.5' 'preflight = none' 'progress-regex = step (\d+)' \
	"events = $TMP/ev.jsonl"; do
	grep -q -F -x "$line" "$TMP/out" || fail "--config did not set '$line': $(cat "$TMP/out")"
done
run run --stall-timeout 7m --config "$TMP/run.conf" --show-config
grep -q -x 'stall-timeout = 7m' "$TMP/out" || fail "a flag before --config lost to the file"
run run --config "$TMP/run.conf" --stall-timeout auto --show-config
grep -q -x 'stall-timeout = auto' "$TMP/out" || fail "a flag after --config lost to the file"
grep -q -x 'stall-factor = 2.5' "$TMP/out" || fail "the file's other keys were lost"
# the file's values reach the supervisor: its events file, then its timeout
run run --config "$TMP/run.conf" -- true
expect_rc 0
[ "$(jq -r 'select(.event=="exit") | .event' "$TMP/ev.jsonl")" = exit ] || fail "events = FILE from --config not used"
printf 'preflight = none\ntimeout = 1\n' >"$TMP/t.conf"
run run --config "$TMP/t.conf" -- sleep 10
expect_rc 124
run run --config "$TMP/t.conf" --timeout none -- sh -c 'sleep 1.5'
expect_rc 0
ok "run --config sets options; flags beat the file before or after it"

printf '# fine\nstall-timeout = 5m\n\nno-such-key = 3\n' >"$TMP/bad.conf"
run run --config "$TMP/bad.conf" -- true
expect_rc 2
expect_one_line_error "bad.conf:4: unknown setting 'no-such-key'"
printf 'grace = soon\n' >"$TMP/bad2.conf"
run run --config "$TMP/bad2.conf" -- true
expect_rc 2
expect_one_line_error "bad2.conf:1: grace: invalid value 'soon'"
printf 'quiet\n' >"$TMP/bad3.conf"
run run --config "$TMP/bad3.conf" -- true
expect_rc 2
expect_one_line_error "bad3.conf:1: expected 'key = value'"
run run --config "$TMP/none.conf" -- true
expect_rc 2
expect_one_line_error "none.conf"
ok "run --config: unknown keys, bad values, bad lines and missing files exit 2 naming FILE:LINE"

# --- bounds -----------------------------------------------------------------------------
# The supervisor turns ms into int64 ns: 3,000,000 h (1.08e19 ns) would wrap.
run run --stall-timeout 3000000h -- true
expect_rc 2
expect_one_line_error "--stall-timeout: invalid value '3000000h' (out of range: 1ms to 2562047h)"
for bad in "--timeout 9000000h" "--grace 3000000h" "--checkpoint-max-age 1000000000d" \
	"--stall-factor 1001" "--stall-floor 0"; do
	# shellcheck disable=SC2086
	run run $bad -- true
	expect_rc 2
	expect_one_line_error "${bad%% *}: invalid value"
	grep -q 'out of range' "$TMP/err" || fail "$bad: the range is not said: $(cat "$TMP/err")"
done
run run --stall-timeout 2562047h --show-config
expect_rc 0
grep -q -x 'stall-timeout = 2562047h' "$TMP/out" || fail "the longest duration is refused"
run check --counter-window 3000000h
expect_rc 2
expect_one_line_error "--counter-window: invalid value '3000000h'"
run memfit --model llama-2-7b --zero 4
expect_rc 2
expect_one_line_error "--zero: invalid value '4' (out of range: 0 to 3)"
ok "values out of bounds exit 2 with one line naming the flag and the range"

# --- every command's --help lists every option it accepts ---------------------------------
# Each option of the help is fed back, followed by one that does not exist: the error must
# name the made-up one, so the listed one was accepted. Unknown options run nothing.
for cmd in check run bench beat memfit; do
	run "$cmd" --help
	expect_rc 0
	sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z0-9-]*\)\( [^ ]\{1,\}\)\{0,1\}  .*/\2\3/p' \
		"$TMP/out" >"$TMP/opts-$cmd"
	n=0
	while read -r opt metavar; do
		[ "$opt" = --help ] && continue
		n=$((n + 1))
		if [ -n "$metavar" ]; then
			run "$cmd" "$opt" x --zz-not-an-option
		else
			run "$cmd" "$opt" --zz-not-an-option
		fi
		expect_rc 2
		expect_one_line_error "unknown option '--zz-not-an-option'"
	done <"$TMP/opts-$cmd"
	case $cmd in
	check) min=30 ;; run) min=24 ;; bench) min=7 ;; beat) min=3 ;; memfit) min=30 ;;
	esac
	[ "$n" -ge "$min" ] || fail "$cmd --help lists $n options, expected at least $min"
	run "$cmd" --zz-not-an-option
	expect_rc 2
	expect_one_line_error "$cmd: unknown option '--zz-not-an-option' (see flightdeck $cmd --help)"
done
ok "every command's --help lists the options it accepts; an unknown one is exit 2"

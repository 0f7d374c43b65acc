#!/bin/sh
# flightdeck run: the whole tree goes, whatever it does; signals to flightdeck reach the job.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

frun --stall-timeout 1 --max-restarts 0 -- "$MISBEHAVE" ignore-term 3
expect_rc 86
grep -q 'grace period over: SIGKILL' "$TMP/err" || fail "no SIGKILL after the grace period"
expect_event '.event=="kill" and .signal=="SIGKILL"'
no_leftovers "$MISBEHAVE ignore-term"
ok "a child that ignores SIGTERM is killed after --grace"

export MISBEHAVE_PIDFILE="$TMP/daemon"
frun --stall-timeout 1 --max-restarts 0 -- "$MISBEHAVE" grandchild 3
unset MISBEHAVE_PIDFILE
expect_rc 86
[ -s "$TMP/daemon" ] || fail "the grandchild did not start"
read -r dpid dport <"$TMP/daemon"
if kill -0 "$dpid" 2>/dev/null; then
	fail "the setsid grandchild $dpid survived"
fi
if command -v ss >/dev/null 2>&1 && ss -ltn | grep -q ":$dport "; then
	fail "port $dport still open"
fi
ok "a setsid grandchild holding a port does not survive (subreaper)"

# SIGUSR1 (Slurm's --signal=USR1@90) reaches the job and supervision goes on.
cat >"$TMP/usr1.sh" <<'S'
trap 'echo got-usr1; "$FLIGHTDECK" beat --step 2; exit 0' USR1
"$FLIGHTDECK" beat --step 1
echo ready
while :; do sleep 0.1; done
S
RC=0
"$FLIGHTDECK" run --preflight none --grace 1 --events "$TMP/ev" -- sh "$TMP/usr1.sh" >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
for _ in $(seq 50); do grep -q ready "$TMP/out" 2>/dev/null && break; sleep 0.1; done
kill -USR1 "$fdpid"
wait "$fdpid" || RC=$?
expect_rc 0
grep -q got-usr1 "$TMP/out" || fail "SIGUSR1 did not reach the job"
expect_event '.event=="signal" and .signal=="SIGUSR1"'
ok "SIGUSR1 is forwarded and the job goes on"

# SIGTERM to flightdeck (K8s termination, Slurm preemption): the job gets it, the tree goes,
# flightdeck exits 128+15 even though the job ignores it.
rm -f "$TMP/ev"
RC=0
"$FLIGHTDECK" run --preflight none --grace 1 --events "$TMP/ev" -- "$MISBEHAVE" ignore-term 100000 50 >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
for _ in $(seq 50); do grep -q 'step 2' "$TMP/out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$fdpid"
wait "$fdpid" || RC=$?
expect_rc 143
grep -q 'received SIGTERM: passing it to process group' "$TMP/err" || fail "no forwarding line"
no_leftovers "$MISBEHAVE ignore-term 100000"
ok "SIGTERM to flightdeck: passed on, grace, SIGKILL, exit 143, nothing left"

# SIGINT twice, the second after the --signal-dedupe window (1 s here) that makes a quick
# repeat the same request: the second one kills at once. A background job of sh starts with SIGINT ignored, which
# flightdeck keeps ignoring (as nohup's SIGHUP), so it is started with SIGINT at its default.
env --default-signal=INT true 2>/dev/null || skip "env --default-signal is not supported here"
RC=0
env --default-signal=INT "$FLIGHTDECK" run --preflight none --grace 60 --signal-dedupe 1s -- sh -c "trap '' INT TERM; echo ready; while :; do sleep 0.1; done # deaf $TMP" \
	>"$TMP/out" 2>"$TMP/err" &
fdpid=$!
for _ in $(seq 50); do grep -q ready "$TMP/out" 2>/dev/null && break; sleep 0.1; done
kill -INT "$fdpid"
sleep 1.5
kill -INT "$fdpid"
wait "$fdpid" || RC=$?
expect_rc 130
grep -q 'second SIGINT: killing everything now' "$TMP/err" || fail "second SIGINT did not escalate"
no_leftovers "# deaf $TMP"
ok "a second SIGINT kills at once"

# SIGKILL to flightdeck itself: the kernel kills its child (PR_SET_PDEATHSIG).
"$FLIGHTDECK" run --preflight none -- "$MISBEHAVE" hang 100000 50 >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
for _ in $(seq 50); do grep -q 'step 2' "$TMP/out" 2>/dev/null && break; sleep 0.1; done
kill -KILL "$fdpid"
wait "$fdpid" 2>/dev/null || true
sleep 0.3
no_leftovers "$MISBEHAVE hang 100000"
ok "SIGKILL to flightdeck: its child dies with it"

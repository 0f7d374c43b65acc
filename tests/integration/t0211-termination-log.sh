#!/bin/sh
# --termination-log: what a Kubernetes pod's status shows about why flightdeck ended (the
# kubelet reads terminationMessagePath, /dev/termination-log by default, at most 4096 bytes).
# run: an unfit node (exit 69, its codes), a job that kept stalling (86, the failure); check:
# unfit and fit; the default path when /dev/termination-log exists (a mount namespace gives
# it one), as PID 1 of a pid namespace as a pod's entrypoint is; and the files a hostile or
# unlucky setup leaves there: a FIFO nobody reads, a symbolic link, a missing directory. None
# of them hangs flightdeck or changes its exit code.
. "$TESTS_DIR/integration/lib.sh"

TL=$TMP/termination-log
unfit() {
	export FLIGHTDECK_SYSFS_ROOT="$FIXTURES/port-down/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/port-down/proc" \
		FLIGHTDECK_KMSG="$FIXTURES/empty.log"
}

# ---- run, an unfit node: the exit, the node, the codes ---------------------------------------
(
	unfit
	run run -q --preflight quick --termination-log "$TL" -- true
	echo "$RC" >"$TMP/rc"
)
[ "$(cat "$TMP/rc")" -eq 69 ] || fail "run on an unfit node exited $(cat "$TMP/rc")"
grep -q '^flightdeck run: exit 69 (the preflight failed: a node is unfit)$' "$TL" ||
	fail "the message does not say exit 69: $(cat "$TL")"
grep -q '^codes: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1$' "$TL" || fail "the message has not the codes: $(cat "$TL")"
grep -q "^node: $(hostname)" "$TL" || fail "the message does not name the node: $(cat "$TL")"
ok "run, unfit node: $(head -n 1 "$TL"); $(grep '^codes' "$TL")"

# ---- run, a job that kept stalling: the failure in its own words ------------------------------
frun --termination-log "$TL" --ranks 1 --stall-timeout 1 --max-restarts 0 -- "$MISBEHAVE" hang 2
expect_rc 86
grep -q '^flightdeck run: exit 86 (gave up: the job kept stalling)$' "$TL" || fail "86: $(cat "$TL")"
grep -q '^failure: stall: rank 0 silent for 1 s after step' "$TL" || fail "the stall is not in the message: $(cat "$TL")"
ok "run, stalled: $(grep '^failure' "$TL")"

# ---- check: unfit with its codes, fit without ------------------------------------------------
check $(fx port-down) --level quick -q --termination-log "$TL"
expect_rc 1
grep -q '^flightdeck check: exit 1 (unfit)$' "$TL" && grep -q '^codes: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1$' "$TL" ||
	fail "check, unfit: $(cat "$TL")"
check $(fx healthy-ndr8) --level quick -q --termination-log "$TL"
expect_rc 0
grep -q '^flightdeck check: exit 0 (fit)$' "$TL" && ! grep -q '^codes' "$TL" || fail "check, fit: $(cat "$TL")"
ok "check: unfit with its codes, fit without (the file rewritten whole)"
check $(fx healthy-ndr8) --no-such-flag --termination-log "$TL"
expect_rc 2
grep -q '^flightdeck check: exit 2 (usage or configuration error)$' "$TL" || fail "check, a bad flag first: $(cat "$TL")"
ok "check: a bad flag before --termination-log still writes the message"

# ---- hostile files: a FIFO nobody reads, a link, a missing directory --------------------------
mkfifo "$TMP/fifo"
t0=$(date +%s)
timeout 20 "$FLIGHTDECK" run -q --preflight none --max-restarts 0 --termination-log "$TMP/fifo" -- sh -c 'exit 3' \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 3 ] || fail "a FIFO at --termination-log: exit $rc, not the command's 3 (124: it hung)"
[ $(($(date +%s) - t0)) -lt 10 ] || fail "a FIFO at --termination-log took $(($(date +%s) - t0)) s"
grep -q 'termination-log .*fifo: a FIFO with no reader (not written)' "$TMP/err" ||
	fail "no line about the FIFO: $(cat "$TMP/err")"
echo "precious" >"$TMP/target"
ln -s "$TMP/target" "$TMP/link"
frun --termination-log "$TMP/link" -- true
expect_rc 0
[ "$(cat "$TMP/target")" = precious ] || fail "the link was followed: the target now holds $(cat "$TMP/target")"
grep -q 'link: a symbolic link (not followed)' "$TMP/err" || fail "no line about the link: $(cat "$TMP/err")"
frun --max-restarts 0 --termination-log "$TMP/no/such/dir/log" -- sh -c 'exit 4'
expect_rc 4
[ "$(grep -c 'termination-log' "$TMP/err")" -eq 1 ] || fail "not one line about the missing directory: $(cat "$TMP/err")"
ok "a FIFO, a link, a missing directory: one line each, the exit code kept, nothing hangs or is overwritten"

# ---- the default path, as PID 1 of a pid namespace ----------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "not root: the default /dev/termination-log needs a mount namespace"
command -v unshare >/dev/null 2>&1 || skip "unshare(1) is not installed"
mkdir -p "$TMP/dev"
: >"$TMP/dev/null"
: >"$TMP/dev/termination-log"
# /dev of the namespace: this directory, with the real /dev/null bound into it
unshare -m -fp --mount-proc sh -c "mount --bind /dev/null '$TMP/dev/null' && mount --bind '$TMP/dev' /dev &&
	exec '$FLIGHTDECK' run -q --preflight none --max-restarts 0 -- sh -c 'exit 5'" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -ne 1 ] || grep -qv 'mount' "$TMP/err" || skip "cannot bind-mount in a mount namespace: $(cat "$TMP/err")"
[ "$rc" -eq 5 ] || fail "as PID 1: exit $rc, not the command's 5: $(cat "$TMP/err")"
grep -q "^flightdeck run: exit 5 (the command's own exit status)$" "$TMP/dev/termination-log" ||
	fail "the default /dev/termination-log holds: $(cat "$TMP/dev/termination-log")"
ok "as PID 1 in a pid namespace, no flag: /dev/termination-log written ($(head -n 1 "$TMP/dev/termination-log"))"

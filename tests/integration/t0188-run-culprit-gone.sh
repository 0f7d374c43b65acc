#!/bin/sh
# A rank gone without its Python shutdown is evidence against the machine. Two Python ranks
# (the heartbeat client, no torch) started by a shell that notices nothing (`a & b & wait`):
# rank 1 is SIGKILLed at step 5, as a segfault in a driver or a kill from outside leaves it, and
# rank 0 waits for it for ever. The culprit is rank 1 (gone), and because the interpreter never
# sent its done beat, this node is the one to drain. A rank the kernel's OOM killer killed (its
# line in the kernel log: the job's memory, not the node) is the culprit, never the node's fault.
. "$TESTS_DIR/integration/lib.sh"

cat >"$TMP/rank.py" <<'EOF'
import os, signal, sys, time
os.environ["RANK"] = sys.argv[1]
import flightdeck_heartbeat as hb
for step in range(1, 10000):
    hb.beat(step)
    if sys.argv[1] == "1" and step == 5:
        if len(sys.argv) > 2:  # the OOM killer's line, as the kernel writes it
            with open(sys.argv[2], "a") as f:
                f.write("[  999.900000] Out of memory: Killed process %d (python3) "
                        "total-vm:9043712kB, anon-rss:8123456kB\n" % os.getpid())
        os.kill(os.getpid(), signal.SIGKILL)
    while sys.argv[1] == "0" and step >= 5:
        time.sleep(1)  # waits for rank 1, which will never come
    time.sleep(0.05)
EOF
export PYTHONPATH="$SRC_DIR/scripts"
mkdir -p "$TMP/proc"
echo "1000.00 1900.00" >"$TMP/proc/uptime"
: >"$TMP/kmsg.log"
printf '[check]\nkmsg = %s\nproc-root = %s\n' "$TMP/kmsg.log" "$TMP/proc" >"$TMP/check.conf"

# job [KMSG]: the two ranks under a shell that waits for both
job() {
	rm -f "$TMP/ev" "$TMP/term"
	rc=0
	timeout 60 "$FLIGHTDECK" run --preflight none --stall-timeout 2s --grace 1s --stack-wait 2s \
		--max-restarts 0 --check-config "$TMP/check.conf" --events "$TMP/ev" \
		--termination-log "$TMP/term" -- \
		sh -c "python3 $TMP/rank.py 0 & python3 $TMP/rank.py 1 ${1:-} & wait" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 86 ] || { cat "$TMP/err"; fail "exit $rc, not 86 (a stall, given up)"; }
	c=$(jq -c 'select(.event=="culprit") | [.culprit, .confidence, .evidence]' "$TMP/ev")
	[ "$c" = '[[1],"likely","state"]' ] || { cat "$TMP/err"; fail "culprit event $c"; }
}

job
grep -q "^flightdeck: the node to drain: this node (.*): rank 1 is gone without its Python shutdown (no done beat: killed by a signal, or crashed in native code)$" "$TMP/err" ||
	{ cat "$TMP/err"; fail "the node is not named to drain"; }
jq -e -s 'map(select(.event=="exit"))[0].drain | startswith("rank 1 is gone")' "$TMP/ev" >/dev/null ||
	fail "the exit event lacks the drain reason"
grep -q "^drain: .*rank 1 is gone" "$TMP/term" || { cat "$TMP/term"; fail "not in the termination message"; }
ok "rank 1 SIGKILLed, its interpreter's done beat never sent: the culprit, and this node to drain"

job "$TMP/kmsg.log"
grep -q "^flightdeck: rank 1 (pid [0-9]*) was killed by the kernel's OOM killer$" "$TMP/err" ||
	{ cat "$TMP/err"; fail "the OOM kill is not said"; }
grep -q "node to drain" "$TMP/err" && { cat "$TMP/err"; fail "an OOM kill blamed on the node"; }
ok "rank 1 killed by the OOM killer (the kernel log says so): the culprit, the job's memory, no node to drain"
no_leftovers "$TMP/rank.py"

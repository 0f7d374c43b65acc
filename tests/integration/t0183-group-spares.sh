#!/bin/sh
# Hot spares (--spares, --nnodes MIN:MAX) on loopback with real agents and a shell trainer:
# a lost training node's place goes to the spare and the job restarts and finishes; a spare
# lost while idle is named and nothing else happens; two losses with one spare end the job
# with 75; a replaced node whose agent comes back is admitted as a spare; an unfit spare is
# never promoted; an unfit training node is replaced at the gate; the coordinator's loss is
# 75 as without spares; nodes started with different --spares are refused (2); node 0 drains
# the replaced node with --drain-replaced (a stand-in scontrol).
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

# The trainer: beats steps 1..$STEPS every 0.1 s (from {resume}'s step when given: a
# checkpoint "step-N" in $TMP/ck), saves step-N every 10 steps on node 0's slot only, says
# which slot ran it, and exits 0.
cat >"$TMP/train.sh" <<'EOF'
fd=$1 steps=$2 slot=$3 resume=${4:-}
echo "slot $slot on node $FD_NODE pid $$ from ${resume:-start}" >>"$FD_TEST_TMP/slots"
i=0
if [ -n "$resume" ]; then
	r=${resume##*step-}
	i=$(expr "${r%.pt}" + 0)
fi
while [ "$i" -lt "$steps" ]; do
	i=$((i + 1))
	"$fd" beat --step "$i"
	[ "$slot" = 0 ] && [ $((i % 10)) -eq 0 ] && : >"$FD_TEST_TMP/ck/step-$(printf %06d $i).pt"
	sleep 0.05
done
echo "slot $slot finished"
EOF
mkdir -p "$TMP/ck"
export FD_TEST_TMP="$TMP"

# spare NODE NNODES ARGS...: an agent running the trainer for STEPS (60) steps
spare() {
	n=$1 nn=$2
	shift 2
	FD_NODE=$n agent "$n" "$nn" "$@" --checkpoint-dir "$TMP/ck" -- \
		sh "$TMP/train.sh" "$FLIGHTDECK" "${STEPS:-60}" {node_rank} {resume}
}

# kill_node NODE: SIGKILL the agent and what it runs, as a node that dies does
kill_node() {
	p=$(agent_pid "$1")
	[ -n "$p" ] || fail "node $1 has no agent to kill"
	kids=$(pgrep -P "$p" || true)
	kill -9 "$p"                  # the agent first: its trainer's end is not reported
	[ -z "$kids" ] || kill -9 $kids 2>/dev/null || true
}

launched() { grep -q "launch $2:" "$TMP/n$1.err"; }

fresh() {
	kill_agents
	rm -rf "$TMP/ck" "$TMP/slots" "$TMP"/n*.rc "$TMP"/n*.err "$TMP"/n*.ev "$TMP/exclude"
	mkdir -p "$TMP/ck"
	PORT=$(free_port)
}

# --- A lost training node: the spare takes its place, the job restarts and finishes ---------
fresh
# scontrol as --drain-replaced calls it: a stand-in that records its arguments (t0200 runs
# the real Slurm on one node only, and a spare needs three). It takes a second before it
# records, as a real scontrol waiting on slurmctld does: the stop and the relaunch that follow
# the replacement must not kill it (they once did, under ASan's slower start).
mkdir -p "$TMP/bin"
printf '#!/bin/sh\nsleep 1\nprintf "%%s|" "$@" >>"%s/scontrol.log"\necho >>"%s/scontrol.log"\n' "$TMP" "$TMP" >"$TMP/bin/scontrol"
chmod +x "$TMP/bin/scontrol"
PATH="$TMP/bin:$PATH" spare 0 2:3 --exclude-file "$TMP/exclude" --drain-replaced \
	--termination-log "$TMP/termlog"
for n in 1 2; do spare $n 2:3; done
wait_for 30 launched 1 1 || { dump_agents 0 1 2; fail "node 1 never launched"; }
wait_for 30 test -e "$TMP/ck/step-000010.pt" || { dump_agents 0 1 2; fail "no checkpoint saved"; }
grep -q "a spare: holding this node's place" "$TMP/n2.err" || { dump_agents 2; fail "node 2 did not hold as a spare"; }
t0=$(date +%s.%N)
kill_node 1
wait_agents 60 0 2
expect_agent_rc 0 0
expect_agent_rc 2 0
grep -q "group: node 1 (.*) lost: connection \(closed\|reset\): spare node 2 (.*) takes its place as training node 1 (0 spare(s) left)" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not say the replacement"; }
grep -q "promoted: this spare trains as node 1 of 2" "$TMP/n2.err" || { dump_agents 2; fail "node 2 was not promoted"; }
grep -q "slot 1 on node 2 .* from $TMP/ck/step-0000[1-5]0.pt" "$TMP/slots" ||
	{ dump_agents 0 2; cat "$TMP/slots"; fail "node 2 did not train as slot 1 from a checkpoint"; }
grep -q "^slot 1 finished" "$TMP/n2.out" || { dump_agents 2; fail "slot 1 did not finish on node 2"; }
expect_node_event 0 '.event=="restart" and .reason=="lost node"'
expect_node_event 0 '.event=="group" and .group=="replaced" and .node==1'
expect_node_event 2 '.event=="promoted" and .slot==1'
[ "$(cat "$TMP/exclude")" = "$(hostname)" ] || fail "--exclude-file holds '$(cat "$TMP/exclude" 2>/dev/null)', not the replaced node's host"
grep -q "^replaced: node 1 (.*) lost: connection .*: spare node 2 (.*) takes its place as training node 1" "$TMP/termlog" ||
	fail "node 0's termination message does not name the replaced node: $(cat "$TMP/termlog")"
wait_for 5 test -s "$TMP/scontrol.log" || fail "--drain-replaced ran no scontrol"
grep -q "^update|nodename=$(hostname)|state=drain|reason=flightdeck: NODE_REPLACED by a spare in job ?: node 1 (.*) lost: connection" "$TMP/scontrol.log" ||
	fail "--drain-replaced ran scontrol with: $(cat "$TMP/scontrol.log")"
no_leftovers "$TMP/train.sh"
ok "2+1 (--nnodes 2:3): node 1 SIGKILLed, spare node 2 trains as node 1 from $(sed -n 's|.*slot 1 on node 2 .* from .*/||p' "$TMP/slots"), the job finishes (0) in $(elapsed_since "$t0") s"

# --- A spare lost while idle: named, nothing else happens ------------------------------------
fresh
STEPS=40
for n in 0 1 2; do spare $n 2 --spares 1; done
wait_for 30 launched 1 1 || { dump_agents 0 1 2; fail "node 1 never launched"; }
wait_for 10 grep -q "a spare: holding" "$TMP/n2.err" || { dump_agents 2; fail "node 2 is no spare"; }
kill_node 2
wait_agents 60 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
grep -q "group: spare node 2 (.*) lost: connection \(closed\|reset\); the job goes on (0 spare(s) left)" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not name the lost spare"; }
grep -q "launch 2:" "$TMP/n0.err" && fail "a lost spare restarted the job"
ok "a spare lost while idle: named, the job goes on and finishes with one launch"

# --- A spare told to stop on its own (its pod evicted) leaves; one that never joins is dropped -
fresh
STEPS=40
for n in 0 1 2; do spare $n 2:4 --join-timeout 4s; done # node 3, a spare, never comes
wait_for 30 grep -q "a spare: holding" "$TMP/n2.err" || { dump_agents 0 1 2; fail "node 2 is no spare"; }
kill -TERM "$(agent_pid 2)"
wait_agents 60 0 1 2
expect_agent_rc 0 0
expect_agent_rc 1 0
expect_agent_rc 2 143
grep -q "received SIGTERM as a spare: leaving the group; the job goes on without this spare" "$TMP/n2.err" ||
	{ dump_agents 2; fail "the spare does not say it leaves"; }
grep -q "group: spare node 3 (.*) lost: never joined within --join-timeout; the job goes on" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not drop the spare that never joined"; }
grep -q "group: spare node 2 (.*) lost: connection" "$TMP/n0.err" || { dump_agents 0; fail "node 0 does not name the spare that left"; }
grep -q "launch 2:" "$TMP/n0.err" && fail "a spare's leaving restarted the job"
ok "a spare that never joins is dropped at --join-timeout, one SIGTERMed leaves (143); the job goes on (0)"

# --- Two losses with one spare: the second ends the job with 75 ------------------------------
fresh
STEPS=200
for n in 0 1 2; do spare $n 2:3; done
wait_for 30 launched 1 1 || { dump_agents 0 1 2; fail "node 1 never launched"; }
kill_node 1
wait_for 30 launched 2 1 || { dump_agents 0 2; fail "the spare never launched"; }
kill_node 2
wait_agents 30 0
expect_agent_rc 0 75
grep -q "node 2 (.*) lost: connection \(closed\|reset\) (no fit spare left)" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not say that no spare was left"; }
ok "two losses, one spare: the second ends the job with 75, saying no fit spare was left"

# --- A replaced node comes back: admitted as a spare -----------------------------------------
fresh
STEPS=50
for n in 0 1 2; do spare $n 2:3; done
wait_for 30 launched 1 1 || { dump_agents 0 1 2; fail "node 1 never launched"; }
kill_node 1
wait_for 30 launched 2 1 || { dump_agents 0 2; fail "the spare never launched"; }
rm -f "$TMP/n1.rc"
spare 1 2:3
wait_agents 60 0 1 2
for n in 0 1 2; do expect_agent_rc $n 0; done
grep -q "group: node 1 (.*) came back: a spare for the rest of the job" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 did not admit node 1 back as a spare"; }
[ "$(grep -c "on node 1 " "$TMP/slots")" -eq 1 ] || { cat "$TMP/slots"; fail "node 1 trained again after it came back"; }
grep -q "launch [0-9]*:" "$TMP/n1.err" && { dump_agents 1; fail "node 1 launched after it came back"; }
ok "a replaced node whose agent comes back is a spare for the rest of the job"

# --- An unfit spare is never promoted; the loss then ends the job -----------------------------
seam() { # seam FIXTURE NODE ARGS...: an agent whose preflight sees that fixture
	fx=$1
	shift
	FLIGHTDECK_SYSFS_ROOT="$FIXTURES/$fx/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/$fx/proc" \
		FLIGHTDECK_KMSG="$FIXTURES/empty.log" spare "$@" --preflight quick
}
fresh
STEPS=200
seam healthy-ndr8 0 2:3
seam healthy-ndr8 1 2:3
seam port-down 2 2:3
wait_for 30 launched 1 1 || { dump_agents 0 1 2; fail "node 1 never launched (an unfit spare must not stop the job)"; }
grep -q "group: spare node 2 (.*) is unfit (ib.port IB_[A-Z_]* mlx5_3/1): it is not promoted while it stays so" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not say the spare is unfit"; }
kill_node 1
wait_agents 30 0 2
expect_agent_rc 0 75
expect_agent_rc 2 75
[ ! -e "$TMP/slots" ] || ! grep -q "on node 2" "$TMP/slots" || fail "the unfit spare trained"
ok "an unfit spare holds its place, is never promoted; the loss it cannot cure ends the job (75)"

# --- An unfit training node is replaced at the gate, with no restart --------------------------
fresh
STEPS=20
seam healthy-ndr8 0 2:3 --exclude-file "$TMP/exclude"
seam port-down 1 2:3
seam healthy-ndr8 2 2:3
wait_agents 60 0 1 2
for n in 0 1 2; do expect_agent_rc $n 0; done
grep -q "group: unfit at the gate: node 1 (.*): spare node 2 (.*) takes its place as training node 1" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not say the gate replacement"; }
grep -q "slot 1 on node 2 " "$TMP/slots" || { cat "$TMP/slots"; fail "node 2 did not train as slot 1"; }
grep -q "on node 1 " "$TMP/slots" && fail "the unfit node trained"
grep -q "^flightdeck: restart [0-9]" "$TMP/n0.err" && { dump_agents 0; fail "a gate replacement restarted"; }
[ "$(cat "$TMP/exclude")" = "$(hostname)" ] || fail "--exclude-file does not hold the unfit node"
ok "an unfit training node gives its place to the spare at the gate: one launch, no restart"

# --- A spare that cannot see the checkpoint the group resumes from is not promoted -----------
fresh
STEPS=200
spare 0 2:3
spare 1 2:3
mkdir -p "$TMP/ck-elsewhere" # the spare's --checkpoint-dir is not the shared one
FD_NODE=2 agent 2 2:3 --checkpoint-dir "$TMP/ck-elsewhere" -- \
	sh "$TMP/train.sh" "$FLIGHTDECK" 200 {node_rank} {resume}
wait_for 30 test -e "$TMP/ck/step-000010.pt" || { dump_agents 0 1 2; fail "no checkpoint saved"; }
kill_node 1
wait_agents 30 0 2
expect_agent_rc 0 75
grep -q "group: spare node 2 (.*) cannot see step-0000[1-9]0.pt under its --checkpoint-dir: not eligible" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not pass over the spare that cannot see the checkpoint"; }
grep -q "no spare left that sees step-0000[1-9]0.pt for training node 1" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not say why the job ends"; }
grep -q "slot 1 on node 2 " "$TMP/slots" && fail "the spare that cannot see the checkpoint trained"
ok "a spare whose --checkpoint-dir does not show the group's checkpoint is passed over, saying why; none left: 75"

# --- The coordinator lost: 75 everywhere, as without spares ------------------------------------
fresh
STEPS=200
for n in 0 1 2; do spare $n 2:3; done
wait_for 30 launched 1 1 || { dump_agents 0 1 2; fail "node 1 never launched"; }
kill_node 0
wait_agents 30 1 2
expect_agent_rc 1 75
expect_agent_rc 2 75
no_leftovers "$TMP/train.sh"
ok "the coordinator lost: every node exits 75, spares too"

# --- Nodes started with different --spares: refused, 2 ---------------------------------------
fresh
spare 0 2 --spares 1
spare 1 3
spare 2 2 --spares 1
wait_agents 30 0 1 2
expect_agent_rc 1 2
grep -q "node 1 says --spares 0, node 0 has --spares 1" "$TMP/n1.err" || { dump_agents 1; fail "node 1 does not say the refusal"; }
ok "nodes with different --spares are refused with the reason, exit 2"

# --- The flags: --print-group, and what makes no job ------------------------------------------
out=$("$FLIGHTDECK" run --node-rank 2 --nnodes 2:3 --coordinator 127.0.0.1 --print-group -- true)
echo "$out" | grep -q "training nodes: 2 (0-1), spares: 1 (2-2); this node: a spare" ||
	fail "--print-group does not say the spares: $out"
frun --nnodes 2:3 --spares 2 -- true
expect_rc 2
grep -q "^flightdeck: --nnodes 2:3 means 1 spare(s), --spares says 2: give one of them$" "$TMP/err" ||
	fail "no error for --nnodes 2:3 --spares 2: $(cat "$TMP/err")"
frun --nnodes 3:2 -- true
expect_rc 2
grep -q "^flightdeck: --nnodes 3:2: not a node count" "$TMP/err" || fail "no error for --nnodes 3:2: $(cat "$TMP/err")"
FLIGHTDECK_NNODES=2 frun --spares 2 --coordinator 127.0.0.1 -- true
expect_rc 2
grep -q "^flightdeck: --spares 2 leaves no training node in a job of 2 (FLIGHTDECK_NNODES)$" "$TMP/err" ||
	fail "no error for --spares 2 of 2 nodes: $(cat "$TMP/err")"
ok "--print-group says the spares; --nnodes 3:2, --nnodes 2:3 --spares 2, --spares 2 of 2: one-line errors, exit 2"

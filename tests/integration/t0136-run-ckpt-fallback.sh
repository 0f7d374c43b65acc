#!/bin/sh
# flightdeck run: a checkpoint that crashes the job on load. Restarts from it that crash before
# any progress past it fall back to the next older complete checkpoint; a job that cannot get
# past any of them still ends (--no-progress-limit, --max-restarts), it never loops.
. "$TESTS_DIR/integration/lib.sh"

ck="$TMP/ck"
# The trainer: resumed from a checkpoint whose content is "corrupt" it dies at once, as a bad
# torch.load would (exit 1, no beat); from the start it dies the same way when $TMP/bad-start
# exists. Otherwise it loads for $LOAD_S seconds and beats from the resumed step to 45, saving step-NNNNNN.pt every 10
# steps (written aside, renamed into place), and exits 0.
cat >"$TMP/train.sh" <<'EOF'
fd=$1 ck=$2 resume=${3:-}
echo "${resume:-none}" >>"$ck.launches"
start=0
if [ -n "$resume" ]; then
	[ "$(cat "$resume")" = corrupt ] && { echo "cannot load $resume" >&2; exit 1; }
	start=${resume##*step-}
	start=$(expr "${start%.pt}" + 0)
elif [ -e "$ck.bad-start" ]; then
	echo "cannot start" >&2
	exit 1
fi
sleep "${LOAD_S:-0}" # loading the checkpoint
s=$start
while [ "$s" -lt 45 ]; do
	s=$((s + 1))
	if [ $((s % 10)) -eq 0 ]; then
		echo good >"$ck/.tmp" && mv "$ck/.tmp" "$ck/$(printf 'step-%06d.pt' "$s")"
	fi
	"$fd" beat --step "$s"
	sleep 0.02
done
echo finished
EOF

seed() { # seed CONTENT-OF-10 CONTENT-OF-20 CONTENT-OF-30: three saves, oldest first
	rm -rf "$ck" "$ck.launches" "$ck.bad-start" && mkdir -p "$ck"
	echo "$1" >"$ck/step-000010.pt" && touch -d '-3 min' "$ck/step-000010.pt"
	echo "$2" >"$ck/step-000020.pt" && touch -d '-2 min' "$ck/step-000020.pt"
	echo "$3" >"$ck/step-000030.pt" && touch -d '-1 min' "$ck/step-000030.pt"
}
launches() { tr '\n' ' ' <"$ck.launches" | sed "s|$ck/||g; s/ $//"; }

# A corrupt newest checkpoint: two crashes from it, then the one before, which finishes.
seed good good corrupt
frun --checkpoint-dir "$ck" -- sh "$TMP/train.sh" "$FLIGHTDECK" "$ck" {resume}
expect_rc 0
[ "$(launches)" = "step-000030.pt step-000030.pt step-000020.pt" ] ||
	fail "expected launches from step-000030.pt twice, then step-000020.pt: $(launches)"
grep -q "restart 2 of 3 after a crash, in [^,]*, from $ck/step-000020.pt (step-000030.pt crashed the job 2 times before any progress: falling back)" "$TMP/err" ||
	fail "the fallback is not said in the restart line"
expect_event ".event==\"restart\" and .restart==2 and .checkpoint==\"$ck/step-000020.pt\" and .fallback_from==\"step-000030.pt\""
[ "$(ev '.fallback_from != null')" -eq 1 ] || fail "expected one fallback in the events log"
expect_event '.event=="exit" and .exit_code==0'
grep -q '^finished$' "$TMP/out" || fail "the job did not finish"
[ "$(cat "$ck/step-000030.pt")" = good ] || fail "the resumed job did not save step 30 again"
ok "two crashes from step-000030.pt before any progress: falls back to step-000020.pt, finishes"

# A job that gets past its checkpoint before crashing is not falling back: two crashes after
# progress resume from the newest, as before, and the third launch finishes.
seed good good good
frun --checkpoint-dir "$ck" -- sh -c \
	'echo "${2:-none}" >>"$0.launches"; [ "$(wc -l <"$0.launches")" -ge 3 ] && exit 0; "$1" beat --step 31; "$1" beat --step 32; exit 3' \
	"$ck" "$FLIGHTDECK" {resume}
expect_rc 0
[ "$(launches)" = "step-000030.pt step-000030.pt step-000030.pt" ] ||
	fail "a crash after progress fell back: $(launches)"
grep -q 'falling back' "$TMP/err" && fail "a crash after progress was called a fallback"
ok "a crash after progress past the checkpoint resumes from the newest"

# Every checkpoint crashes the job on load: with the defaults (--no-progress-limit 2) it gives
# up after the first fallback's crash, with the crash's status, naming what it skipped.
seed corrupt corrupt corrupt
frun --checkpoint-dir "$ck" -- sh "$TMP/train.sh" "$FLIGHTDECK" "$ck" {resume}
expect_rc 1
[ "$(launches)" = "step-000030.pt step-000030.pt step-000020.pt" ] ||
	fail "expected 3 launches, the last from step-000020.pt: $(launches)"
grep -q 'giving up: 2 restarts in a row' "$TMP/err" || fail "no give-up line"
grep -q 'step-000030.pt crashed the job 2 times before any progress' "$TMP/err" ||
	fail "the skipped checkpoint is not named"
expect_event '.event=="exit" and .exit_code==1 and .stop=="no_progress"'
ok "every checkpoint crashes: --no-progress-limit ends it after a fallback, exit 1"

# Without the no-progress limit it falls back through every checkpoint to the start, where the
# job crashes too, and --max-restarts ends it.
seed corrupt corrupt corrupt
: >"$ck.bad-start"
frun --checkpoint-dir "$ck" --no-progress-limit 0 --max-restarts 6 --backoff-max 0.5 -- \
	sh "$TMP/train.sh" "$FLIGHTDECK" "$ck" {resume}
expect_rc 1
[ "$(launches)" = "step-000030.pt step-000030.pt step-000020.pt step-000020.pt step-000010.pt step-000010.pt none" ] ||
	fail "expected two launches from each checkpoint, then the start: $(launches)"
grep -q 'from the start (step-000010.pt crashed the job 2 times before any progress: falling back)' "$TMP/err" ||
	fail "the fallback to the start is not said"
grep -q 'giving up: --max-restarts 6 spent' "$TMP/err" || fail "no give-up line"
grep -q 'fell back from 3 checkpoint(s), .*: step-000030.pt, step-000020.pt, step-000010.pt$' "$TMP/err" ||
	fail "the checkpoints fallen back from are not named"
[ "$(ev '.event=="restart" and .fallback_from != null')" -eq 3 ] || fail "expected 3 fallbacks"
expect_event '.event=="exit" and .exit_code==1 and .stop=="budget"'
ok "no checkpoint and not the start loads: falls back to the start, --max-restarts ends it"

# Two nodes, each its own directory: node 1's copy of step-000030.pt is the corrupt one. Node 1
# crashes on it, node 0 is stopped while it still loads; both fall back to step-000020.pt, and
# both say so: the decision is node 0's, every node applies it.
. "$TESTS_DIR/integration/group-lib.sh"
export LOAD_S=2
for n in 0 1; do
	ck="$TMP/ck$n"
	seed good good "$([ $n = 1 ] && echo corrupt || echo good)"
	agent $n 2 --checkpoint-dir "$ck" -- sh "$TMP/train.sh" "$FLIGHTDECK" "$ck" {resume}
done
wait_agents 60 0 1
for n in 0 1; do
	ck="$TMP/ck$n"
	expect_agent_rc $n 0
	# What each node launched from, as flightdeck says it: the trainer's own record can miss a
	# launch that the other node's crash stopped before its shell ran a line (a loaded machine).
	got=$(sed -n "s|^flightdeck: launch [0-9]*: process group [0-9]*, resuming from $ck/||p" "$TMP/n$n.err" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "step-000030.pt step-000030.pt step-000020.pt" ] ||
		{ dump_agents $n; fail "node $n: expected launches from step-000030.pt twice, then step-000020.pt: $got"; }
	grep -q "restart 2 of 3 after a crash, in [^,]*, from $ck/step-000020.pt (step-000030.pt crashed the job 2 times before any progress: falling back)" "$TMP/n$n.err" ||
		{ dump_agents $n; fail "node $n does not say the fallback"; }
	expect_node_event $n ".event==\"restart\" and .fallback_from==\"step-000030.pt\" and .checkpoint==\"$ck/step-000020.pt\""
done
ok "two nodes: node 1's corrupt step-000030.pt makes both fall back to step-000020.pt, said on both"

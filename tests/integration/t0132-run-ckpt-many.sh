#!/bin/sh
# flightdeck run: a checkpoint directory of 100k entries, scanned again and again for
# --checkpoint-max-age, never keeps the loop from reading beats: the job
# beats every 10 ms and every beat it sends is received.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

mkdir "$TMP/ck"
(cd "$TMP/ck" && seq 1 100000 | sed 's/^/step-/' | xargs mkdir) || skip "cannot create 100k entries"
steps=400
frun --stall-timeout 2 --checkpoint-dir "$TMP/ck" --checkpoint-max-age 1s --max-restarts 0 \
	-- "$MISBEHAVE" ok $steps 10
expect_rc 0
beats=$(jq -r 'select(.event=="exit") | .beats' "$TMP/ev")
# misbehave sends steps+1 beats; a beat dropped by a full socket queue is a loop that blocked.
[ "$beats" -ge $((steps * 95 / 100)) ] || fail "only $beats of $((steps + 1)) beats received"
expect_event '.event=="checkpoint_overdue"'
ok "100k checkpoint entries: $beats of $((steps + 1)) beats received while scans recur"

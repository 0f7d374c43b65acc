#!/bin/sh
# flightdeck run: the checkpoint directory is the user's: a FIFO
# named `latest` never blocks the scan; a symlink to a complete file inside the directory
# counts, one pointing outside or dangling does not.
. "$TESTS_DIR/integration/lib.sh"

show='echo "resume=${FLIGHTDECK_RESUME_FROM:-none}"'
mkdir "$TMP/ck"
mkfifo "$TMP/ck/latest"
RC=0
timeout 20 "$FLIGHTDECK" run --preflight none --checkpoint-dir "$TMP/ck" -- sh -c "$show" \
	>"$TMP/out" 2>"$TMP/err" || RC=$?
[ "$RC" -ne 124 ] || fail "a FIFO named latest blocked the checkpoint scan"
expect_rc 0
grep -q 'resume=none' "$TMP/out" || fail "no checkpoint expected"
ok "a FIFO named latest in the checkpoint dir does not block"

rm "$TMP/ck/latest"
mkdir "$TMP/ck/real"
echo w >"$TMP/ck/real/weights.bin"
echo w >"$TMP/ck/.step-003.pt.data"
ln -s .step-003.pt.data "$TMP/ck/step-003.pt"
run run --preflight none --checkpoint-dir "$TMP/ck" -- sh -c "$show"
expect_rc 0
grep -q "resume=$TMP/ck/step-003.pt" "$TMP/out" || fail "a symlink to a complete file inside the dir does not count"
ok "a symlinked step-003.pt inside the dir counts"

rm "$TMP/ck/step-003.pt"
echo w >"$TMP/outside.pt"
ln -s "$TMP/outside.pt" "$TMP/ck/step-004.pt"
ln -s missing.pt "$TMP/ck/step-005.pt"
run run --preflight none --checkpoint-dir "$TMP/ck" -- sh -c "$show"
expect_rc 0
grep -q 'resume=none' "$TMP/out" || fail "a symlink out of the dir or a dangling one counted: $(cat "$TMP/out")"
ok "a symlink out of the dir, or dangling, does not count"

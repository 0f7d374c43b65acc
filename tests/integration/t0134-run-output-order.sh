#!/bin/sh
# flightdeck run: with --progress-regex and stdout and stderr going to one file (`>out 2>&1`),
# the command's lines keep their order.
. "$TESTS_DIR/integration/lib.sh"

job='i=1; while [ $i -le 2000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i + 1)); done'
sh -c "$job" >"$TMP/want" 2>&1
RC=0
"$FLIGHTDECK" run -q --preflight none --progress-regex 'out ([0-9]+)' -- sh -c "$job" \
	>"$TMP/out" 2>&1 || RC=$?
expect_rc 0
cmp -s "$TMP/want" "$TMP/out" || fail "stdout and stderr were reordered: $(diff "$TMP/want" "$TMP/out" | head -5)"
ok "interleaved stdout and stderr into one file keep their order under --progress-regex"

# Two different files: each keeps its own order.
RC=0
"$FLIGHTDECK" run -q --preflight none --progress-regex 'out ([0-9]+)' -- sh -c "$job" \
	>"$TMP/o1" 2>"$TMP/e1" || RC=$?
expect_rc 0
sh -c "$job" >"$TMP/wo" 2>"$TMP/we"
cmp -s "$TMP/wo" "$TMP/o1" && cmp -s "$TMP/we" "$TMP/e1" || fail "separate files differ"
ok "separate stdout and stderr files each keep their order"

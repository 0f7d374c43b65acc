#!/bin/sh
# Values from outside that overflowed the arithmetic behind them: each is
# now exit 2 with one line naming the field, or represented exactly. Never a signal.
. "$TESTS_DIR/integration/lib.sh"

# one_line FIELD: exit 2, one line on stderr, naming FIELD
one_line() {
	expect_rc 2
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "expected one line on stderr"
	grep -q -- "$1" "$TMP/err" || fail "the error does not name $1"
}

run memfit --model llama-2-7b --tp 65536 --pp 65536 --gpus 8 --gpu-mem 80GiB
[ "$RC" -lt 128 ] || fail "memfit died of signal $((RC - 128))"
one_line "tp"
ok "memfit --tp 65536 --pp 65536 --gpus 8: exit 2 naming tp, no SIGFPE"

run memfit --model llama-2-7b --tp 65536 --pp 65536 --dp 65536 --gpu-mem 80GiB
one_line "tp"
ok "memfit --tp/--pp/--dp whose product overflows: exit 2"

run check --json --counter-window 0 --only memfit --memfit "--model llama-2-7b --tp 65536 --pp 65536 --gpus 8"
[ "$RC" -lt 128 ] || fail "check --memfit died of signal $((RC - 128))"
one_line "tp"
ok "check --memfit with the same options: exit 2, no SIGFPE"

printf '{"hidden_size": 536870912, "num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 100}\n' \
	>"$TMP/huge.json"
run memfit --hf-config "$TMP/huge.json" --gpu-mem 80GiB --json
[ "$RC" -eq 1 ] || [ "$RC" -eq 2 ] || fail "expected exit 1 or 2, got $RC"
if [ "$RC" -eq 1 ]; then
	jq -e '.params > 1e18' "$TMP/out" >/dev/null || fail "4 x hidden wrapped: $(cat "$TMP/out")"
else
	one_line hidden_size
fi
ok "a config.json with hidden_size 536870912: no int overflow of 4 x hidden"

run memfit --params 1e19 --gpu-mem 80GiB --json
expect_rc 1
jq -e '.params == 1e19' "$TMP/out" >/dev/null || fail "--params 1e19 is $(jq .params "$TMP/out")"
ok "memfit --params 1e19 is 1e19, not 9.22e18"

run memfit --params 2e19 --gpu-mem 80GiB
one_line "params"
ok "memfit --params 2e19 (past 2^64): exit 2 naming --params"

run check --shm-min 16000000000000000000 --show-config
expect_rc 0
grep -q '^shm-min = 16000000000000000000$' "$TMP/out" || fail "shm-min is $(grep shm-min "$TMP/out")"
ok "--shm-min 16000000000000000000 is kept exactly"

run check --shm-min 18446744073709551616 --show-config
one_line "shm-min"
ok "--shm-min past 2^64 - 1: exit 2 naming shm-min"

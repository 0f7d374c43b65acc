#!/bin/sh
# flightdeck memfit: the table, --json, the verdict and its exit codes, GPU memory from NVML,
# bad input; and the memfit area of flightdeck check (MEMFIT_OOM).
. "$TESTS_DIR/integration/lib.sh"
HF="$TESTS_DIR/fixtures/hf"

run memfit --model llama-2-7b --seq 4096 --micro-batch 8 --gpus 8 --gpu-mem 80GiB
expect_rc 1
for term in weights gradients optimizer activations logits overhead total 'GPU memory'; do
	grep -q "^  $term " "$TMP/out" || fail "the table has no '$term' row"
done
grep -q 'verdict: does NOT fit' "$TMP/out" || fail "no verdict"
grep -q 'what would make it fit, cheapest first:' "$TMP/out" || fail "no suggestions"
ok "a 7B Adam job with micro-batch 8 does not fit 80 GiB: exit 1, every term shown, suggestions"

run memfit --model llama-2-7b --seq 4096 --micro-batch 8 --gpus 8 --gpu-mem 80GiB --json
expect_rc 1
jq -e '.params == 6738415616 and .fits == false and (.per_gpu_bytes | keys | sort ==
	["activations","gradients","logits","optimizer","overhead","weights"]) and .free_bytes == 85899345920' \
	"$TMP/out" >/dev/null || fail "JSON fields: $(cat "$TMP/out")"
jq -e '.total_bytes == ([.per_gpu_bytes[]] | add)' "$TMP/out" >/dev/null || fail "total is not the sum of the terms"
jq -e '(.suggestions | length) >= 1 and all(.suggestions[]; .fits and .total_bytes <= 85899345920)' \
	"$TMP/out" >/dev/null || fail "suggestions that do not fit"
ok "--json: params, per_gpu_bytes, total_bytes (the sum), free_bytes, fits, suggestions (each computed)"

run memfit --hf-config "$HF/llama-2-7b.json" --seq 4096 --flash-attn --gpus 8 --zero 3 --gpu-mem 80GiB --json
expect_rc 0
jq -e '.params == 6738415616 and .fits == true and (.suggestions | length) == 0' "$TMP/out" >/dev/null ||
	fail "Llama-2 7B from config.json, ZeRO-3 over 8: $(cat "$TMP/out")"
ok "a real config.json (Llama-2 7B, 6.74 B parameters) with ZeRO-3 over 8 GPUs fits"

run memfit --params 7B --gpu-mem 80GiB --json
expect_rc 1
jq -e '.per_gpu_bytes.activations == null and .total_is_lower_bound and
	(.per_gpu_bytes.weights + .per_gpu_bytes.gradients + .per_gpu_bytes.optimizer) == 112000000000' \
	"$TMP/out" >/dev/null || fail "--params only: $(cat "$TMP/out")"
run memfit --params 1B --gpu-mem 80GiB
expect_rc 3
grep -q 'activations  *unknown' "$TMP/out" || fail "activations not reported unknown"
ok "--params only: 16 bytes/parameter (7B -> 112 GB), activations unknown (not zero), exit 3 when it cannot judge"

# GPU memory from NVML (the fake one: 8 H100s with 81559 MiB, 528 MiB used)
run memfit --model mistral-7b --seq 8192 --flash-attn --gpus 8 --zero 3 --json
expect_rc 0
jq -e '.free_bytes == 84967161856' "$TMP/out" >/dev/null || fail "free memory not from NVML: $(jq .free_bytes "$TMP/out")"
unset FLIGHTDECK_NVML_LIB
run memfit --model mistral-7b
expect_rc 3
grep -q 'give --gpu-mem' "$TMP/out" || fail "no NVML and no --gpu-mem: not said"
export FLIGHTDECK_NVML_LIB="$FAKE_NVML_LIB"
ok "GPU memory: NVML's least free GPU; without NVML, exit 3 asking for --gpu-mem"

run memfit --list-models
expect_rc 0
[ "$(wc -l <"$TMP/out")" -ge 9 ] || fail "--list-models"
ok "--list-models"

for bad in "--model llama-2-7b --tp 3" "--layers 0 --hidden 4096 --heads 32 --vocab 32000" \
	"--params -5" "--params 0" "--model gpt-5" "--model llama-2-7b --gpu-mem lots" \
	"--model llama-2-7b --seq 0" "--model llama-2-7b --recompute some" "--hf-config $HF/missing-layers.json" \
	"--hf-config $HF/not-json.json" "--hf-config $HF/negative-layers.json" "--model llama-2-7b --bogus"; do
	# shellcheck disable=SC2086
	run memfit $bad
	expect_rc 2
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$bad: expected one line: $(cat "$TMP/err")"
done
run memfit --model llama-2-7b --tp 3
grep -q -- '--tp 3 does not divide the 32 attention heads' "$TMP/err" || fail "tp error"
run memfit --hf-config "$HF/missing-layers.json"
grep -q 'missing-layers.json: missing num_hidden_layers' "$TMP/err" || fail "config error does not name the field"
ok "bad input: one line naming the field, exit 2"

# flightdeck check, area memfit
check --only memfit
expect_rc 0
expect_finding '.check == "memfit.fit" and .status == "skip"' 1
check --only memfit --memfit "--model llama-2-70b --gpus 8 --seq 4096"
expect_rc 1
expect_finding '.check == "memfit.fit" and .code == "MEMFIT_OOM" and .expected == "<= 79.1 GiB" and (.message | test("cheapest fix"))' 1
check --only memfit --memfit "--model llama-3-8b --gpus 8 --zero 3 --flash-attn"
expect_rc 0
expect_finding '.check == "memfit.fit" and .status == "pass"' 1
check --only memfit --memfit "--model llama-3-8b --tp 5"
expect_rc 2
ok "check --memfit: MEMFIT_OOM when the job cannot fit, pass when it does, exit 2 on bad options"

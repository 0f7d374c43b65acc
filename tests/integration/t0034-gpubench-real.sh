#!/bin/sh
# The real flightdeck-gpubench, built when the CUDA toolkit is present. Without a GPU it
# must say so on one line and exit 3; flightdeck then reports GPU_BENCH_FAILED with that
# status. With a GPU (the device machine), its document must follow the contract.
. "$TESTS_DIR/integration/lib.sh"

GB="$(dirname "$FLIGHTDECK")/flightdeck-gpubench"
[ -x "$GB" ] || skip "flightdeck-gpubench not built (no CUDA toolkit in this build)"

RC=0
"$GB" --bogus >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 2
[ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "unknown option '--bogus'" "$TMP/err" ||
	fail "usage error not reported on one line"
ok "gpubench: a bad option is a usage error"

RC=0
"$GB" --json --timeout-ms 60000 >"$TMP/out" 2>"$TMP/err" || RC=$?
if [ "$RC" -eq 3 ] && grep -q 'no CUDA device' "$TMP/err"; then
	[ ! -s "$TMP/out" ] || fail "gpubench printed a document without a GPU"
	ok "gpubench without a GPU: one line naming why, exit 3"
	check $(fx no-rdma) --only bw --gpubench "$GB"
	expect_rc 1
	expect_finding '.code == "GPU_BENCH_FAILED" and (.message | test("status 3"))' 1
	ok "flightdeck reports the failed run on a node whose PCI bus shows GPUs"
	exit 0
fi
expect_rc 0
jq -e '.version == 1 and (.gpus | length) > 0 and ([.gpus[] | .hbm_ok] | all)' "$TMP/out" >/dev/null ||
	fail "gpubench's document does not follow the contract or a kernel did not verify"
ok "gpubench on a GPU: the document follows the contract, results verified"

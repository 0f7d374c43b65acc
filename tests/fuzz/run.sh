#!/usr/bin/env bash
# run.sh [SECONDS] - builds the libFuzzer targets with clang (build-fuzz/, ASan + UBSan) and
# runs each for SECONDS (default 20) from its checked-in corpus (tests/fuzz/corpus/NAME) plus its
# kept crash inputs (tests/fuzz/regressions/NAME). New corpus entries go to build-fuzz/corpus/NAME,
# never into the tree. Exit status non-zero when any target found a crash, a leak, a
# timeout (10 s for one input) or an out-of-memory: the input is in build-fuzz/artifacts/NAME/;
# keep it under tests/fuzz/regressions/NAME/ with the fix, where ctest replays it in every build.
# FUZZ_SEED (default 1) fixes libFuzzer's seed, so CI explores the same way each time and a
# finding reproduces; FUZZ_SEED=0 lets libFuzzer pick one (a local hunt).
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-20}
case $secs in '' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number: '$secs'" >&2; exit 2 ;; esac
cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null || { echo "run.sh: $cc not found (scripts/install-deps.sh installs clang)" >&2; exit 1; }

cmake -S . -B build-fuzz -DFLIGHTDECK_FUZZ=ON -DCMAKE_C_COMPILER="$cc" -DFLIGHTDECK_WERROR=ON \
	-DFLIGHTDECK_WITH_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" --target fuzz >/dev/null

targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
failed=()
for t in $targets; do
	work=build-fuzz/corpus/$t art=build-fuzz/artifacts/$t
	mkdir -p "$work" "$art"
	log=build-fuzz/fuzz-$t.log
	rc=0
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"build-fuzz/fuzz_$t" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$art/" "$work" \
		"tests/fuzz/corpus/$t" $([ -d "tests/fuzz/regressions/$t" ] && echo "tests/fuzz/regressions/$t") \
		>"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ "$rc" -ne 0 ]; then
		failed+=("$t")
		echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} execs; see $log and $art/"
		grep -E 'ERROR|runtime error|SUMMARY' "$log" | head -5
	else
		echo "fuzz $t: ok, ${execs:-?} execs in ${secs} s"
	fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: crashes in: ${failed[*]}"; exit 1; }

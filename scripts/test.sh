#!/usr/bin/env bash
# test.sh - the test command: install what is needed, check formatting, build with
# warnings as errors, run every test; then build again under AddressSanitizer and UBSan
# and run every test again but those labelled plain-only (tests/CMakeLists.txt says which and
# why); then run each libFuzzer target of tests/fuzz/ for FUZZ_SECS (6) s. Exit status 0 only
# when all of it passed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== format (clang-format --dry-run)"
mapfile -t sources < <(git ls-files '*.c' '*.h')
clang-format --dry-run -Werror "${sources[@]}"

echo "== build (warnings are errors)"
cmake -S . -B build -DFLIGHTDECK_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== build under AddressSanitizer + UBSan"
cmake -S . -B build-asan -DFLIGHTDECK_SANITIZE=ON -DFLIGHTDECK_WERROR=ON \
	-DFLIGHTDECK_WITH_CUDA=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests under AddressSanitizer + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE plain-only

fuzz=${FUZZ_SECS:-6}
echo "== fuzz ($fuzz s per target)"
bash tests/fuzz/run.sh "$fuzz"

#!/bin/sh
# flightdeck run: healthy jobs are not killed for how they print: a `\r`
# ends a line for --progress-regex (tqdm), the output passes through unchanged;
# PYTHONUNBUFFERED=1 unless the user set it; --pty for tools that buffer by isatty.
. "$TESTS_DIR/integration/lib.sh"

cat >"$TMP/tqdm.sh" <<'S'
printf 'step 0\n'
i=1
while [ $i -le 25 ]; do printf '\rstep %d' $i; sleep 0.1; i=$((i + 1)); done
printf '\n'
S
frun --stall-timeout 1 --max-restarts 0 --progress-regex 'step ([0-9]+)' -- sh "$TMP/tqdm.sh"
expect_rc 0
sh "$TMP/tqdm.sh" >"$TMP/want"
cmp -s "$TMP/want" "$TMP/out" || fail "the output did not pass through unchanged"
ok "tqdm-style \\r progress is progress, and passes through unchanged"

frun -- sh -c 'echo "PU=${PYTHONUNBUFFERED-unset}"'
grep -q '^PU=1$' "$TMP/out" || fail "PYTHONUNBUFFERED is not set for the child: $(cat "$TMP/out")"
PYTHONUNBUFFERED= frun -- sh -c 'echo "PU=${PYTHONUNBUFFERED-unset}"'
grep -q '^PU=$' "$TMP/out" || fail "the user's PYTHONUNBUFFERED was overridden: $(cat "$TMP/out")"
ok "PYTHONUNBUFFERED=1 unless the user set it"

cat >"$TMP/slow.py" <<'P'
import time
for i in range(1, 16):
    print("step", i)
    time.sleep(0.2)
P
frun --stall-timeout 2 --max-restarts 0 --progress-regex 'step ([0-9]+)' -- python3 "$TMP/slow.py"
expect_rc 0
[ "$(grep -c '^step' "$TMP/out")" -eq 15 ] || fail "python's lines did not all arrive"
ok "a python job printing steps into the pipe is not stalled"

frun --pty -- sh -c 'test -t 1 && echo tty-out; test -t 2 && echo tty-err >&2; exit 0'
expect_rc 0
grep -q tty-out "$TMP/out" || fail "--pty: stdout is not a terminal: $(cat "$TMP/out")"
grep -q tty-err "$TMP/out" || fail "--pty: stderr is not a terminal"
frun --pty --stall-timeout 1 --max-restarts 0 --progress-regex 'step ([0-9]+)' -- sh "$TMP/tqdm.sh"
expect_rc 0
ok "--pty: the command sees a terminal, and --progress-regex reads it"

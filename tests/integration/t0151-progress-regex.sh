#!/bin/sh
# --progress-regex under abuse: \d inside a bracket and after an escaped
# backslash, and patterns that would make regcomp take seconds and hundreds of MB (exit 2).
. "$TESTS_DIR/integration/lib.sh"

frun --max-restarts 0 --stall-timeout 1 --progress-regex 'step=([\d]+)' -- \
	sh -c 'echo step=41; echo step=42; exec sleep 30'
expect_rc 86
expect_event '.event=="stall" and .rank=="output" and .step==42'
ok "step=([\\d]+) matches step=42: the step is read from the output"

for re in '(a+)+' '(a*)*' '(.*){9}' 'a**'; do
	frun --progress-regex "$re" -- true
	expect_rc 2
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "'$re': expected one line on stderr"
	grep -q 'progress-regex.*nested quantifiers' "$TMP/err" || fail "'$re': no reason given"
done
ok "nested quantifiers are refused with exit 2 and a one-line reason"

long=$(printf '%0600d' 0)
start=$(date +%s)
frun --progress-regex "$long" -- true
expect_rc 2
grep -q 'progress-regex.*longer than 512 bytes' "$TMP/err" || fail "no reason for a long pattern"
ok "a 600-byte pattern is refused"

frun --progress-regex '((((a|b)c{2}){3}d)|e)+x' -- true
expect_rc 2
[ $(($(date +%s) - start)) -lt 30 ] || fail "refusing took too long"
ok "a quantified group holding a quantified group is refused, quickly"

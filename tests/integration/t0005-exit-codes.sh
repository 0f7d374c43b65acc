#!/bin/sh
# One place per fact: the exit statuses are one table in the binary (launcher/core/exits.c).
# The usage text and `flightdeck explain N` print it; the manuals' "## Exit codes" tables
# (docs/run.md, docs/check.md) must say exactly what it says, row for row, so neither can
# drift from the other.
. "$TESTS_DIR/integration/lib.sh"
: "${SRC_DIR:?SRC_DIR must point at the source tree}"

"$FLIGHTDECK" explain --exit-codes >"$TMP/table" || fail "explain --exit-codes failed"
[ "$(wc -l <"$TMP/table")" -ge 20 ] || fail "the table has $(wc -l <"$TMP/table") rows"

# docs_rows DOC: the rows of DOC's "## Exit codes" table as code<TAB>meaning<TAB>scheduler,
# the backticks of markdown dropped
docs_rows() {
	awk '/^## Exit codes/ { on = 1; next } on && /^## / { on = 0 }
	on && /^\| [0-9]/ {
		n = split($0, c, "|")
		for (i = 2; i <= 4; i++) { gsub(/`/, "", c[i]); sub(/^ +/, "", c[i]); sub(/ +$/, "", c[i]) }
		print c[2] "\t" c[3] "\t" c[4]
	}' "$1"
}

for cmd in run check; do
	doc=$SRC_DIR/docs/$cmd.md
	docs_rows "$doc" >"$TMP/docs.$cmd"
	[ -s "$TMP/docs.$cmd" ] || fail "docs/$cmd.md has no '## Exit codes' table"
	awk -F '\t' -v c="$cmd" '$1 == c { print $2 "\t" $3 "\t" $4 }' "$TMP/table" >"$TMP/bin.$cmd"
	if ! diff "$TMP/bin.$cmd" "$TMP/docs.$cmd" >"$TMP/diff.$cmd"; then
		cat "$TMP/diff.$cmd"
		fail "docs/$cmd.md's exit codes differ from the binary's table (< binary, > docs)"
	fi
	ok "docs/$cmd.md: $(wc -l <"$TMP/docs.$cmd") exit codes, each as the binary says"
done

# the usage text and explain print the same table
"$FLIGHTDECK" --help >"$TMP/help"
tr -s '\n ' '  ' <"$TMP/help" | grep -q '75 a node of the group was lost;' || fail "--help does not list run's 75"
"$FLIGHTDECK" explain 75 >"$TMP/x75" || fail "explain 75 failed"
grep -q 'flightdeck run: a node of the group was lost' "$TMP/x75" &&
	grep -q 'what to do: requeue (Slurm RequeueExit=75)' "$TMP/x75" || fail "explain 75: $(cat "$TMP/x75")"
"$FLIGHTDECK" explain 143 | grep -q 'signal 15' || fail "explain 143 names no signal"
"$FLIGHTDECK" explain 256 2>"$TMP/err" && fail "explain 256 accepted"
grep -q "exit status '256' is not a number from 0 to 255" "$TMP/err" || fail "explain 256: $(cat "$TMP/err")"
ok "--help and explain N print the table"

# an edited docs row is caught: the test can fail
sed 's/^| 86 | gave up/| 86 | stopped/' "$SRC_DIR/docs/run.md" >"$TMP/run.md"
docs_rows "$TMP/run.md" | diff -q "$TMP/bin.run" - >/dev/null && fail "a changed row went unnoticed"
ok "a changed docs row is a difference"

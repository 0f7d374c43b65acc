#!/bin/sh
# Every reason code a judge can emit has a row in the code table (checks/codes.c) with a
# title, why it matters and what to do, so `flightdeck explain CODE` and the text report's
# remedies never come up empty; and every row is emitted by some judge, or named below as
# reserved. The codes are found in the sources at test time: the fourth argument (the code)
# of each fd_report_add/fd_report_addv call in checks/*.c, a string literal, a condition
# choosing literals, or a variable whose assignments in that file are literals.
. "$TESTS_DIR/integration/lib.sh"
: "${SRC_DIR:?SRC_DIR must point at the source tree}"

# Rows of the table that no judge emits yet, each with the reason (none at the moment).
RESERVED=""

# args.awk: for each fd_report_add(v) call, "FILE:LINE<TAB>its fourth argument"; strings
# and comments are skipped, so commas and parentheses inside them do not count.
cat >"$TMP/args.awk" <<'AWK'
{ src = src $0 "\n" }
function skipstr(p,   q, ch) {
	q = p + 1
	while (q <= n) {
		ch = substr(src, q, 1)
		if (ch == "\\") { q += 2; continue }
		if (ch == "\"") return q + 1
		q++
	}
	return q
}
END {
	n = length(src); line = 1; i = 1
	while (i <= n) {
		c = substr(src, i, 1)
		if (c == "\n") { line++; i++; continue }
		if (c == "\"") { i = skipstr(i); continue }
		if (c == "/" && substr(src, i + 1, 1) == "*") {
			e = index(substr(src, i + 2), "*/")
			for (k = i; k < i + e + 3; k++)
				if (substr(src, k, 1) == "\n") line++
			i += e + 3
			continue
		}
		if (substr(src, i, 13) != "fd_report_add" || substr(src, i - 1, 1) ~ /[A-Za-z0-9_]/) {
			i++
			continue
		}
		j = i + 13
		if (substr(src, j, 1) == "v") j++
		while (substr(src, j, 1) ~ /[ \t\n]/) j++
		if (substr(src, j, 1) != "(") { i = j; continue }
		start = line; depth = 1; arg = 1; cur = ""; j++
		while (j <= n && depth > 0) {
			c = substr(src, j, 1)
			if (c == "\"") {
				k = skipstr(j)
				if (arg == 4) cur = cur substr(src, j, k - j)
				j = k
				continue
			}
			if (c == "\n") line++
			if (c == "(") depth++
			if (c == ")" && !--depth) break
			if (c == "," && depth == 1) {
				if (arg == 4) break
				arg++
				j++
				continue
			}
			if (arg == 4) cur = cur c
			j++
		}
		gsub(/[ \t\n]+/, " ", cur); sub(/^ /, "", cur); sub(/ $/, "", cur)
		print FILENAME ":" start "\t" cur
		i = j
	}
}
AWK

: >"$TMP/emitted"
calls=0
for f in "$SRC_DIR"/checks/*.c; do
	case ${f##*/} in codes.c | findings.c) continue ;; esac # the table, the definitions
	awk -f "$TMP/args.awk" "$f" >"$TMP/calls" || fail "cannot scan $f"
	while IFS="	" read -r where arg; do
		calls=$((calls + 1))
		lits=$(printf '%s\n' "$arg" | grep -oE '"[A-Z][A-Z0-9_]*"' | tr -d '"')
		if [ -z "$lits" ] && [ "$arg" != NULL ]; then
			printf '%s\n' "$arg" | grep -qE '^[A-Za-z_][A-Za-z0-9_]*$' ||
				fail "${where#"$SRC_DIR"/}: code argument '$arg' is not a literal, a condition on literals or a variable"
			lits=$(grep -oE "(^|[^A-Za-z0-9_])$arg = \"[A-Z][A-Z0-9_]*\"" "$f" | grep -oE '"[A-Z0-9_]+"' | tr -d '"')
			[ -n "$lits" ] || fail "${where#"$SRC_DIR"/}: no literal is assigned to '$arg' in ${f##*/}"
		fi
		[ -n "$lits" ] && printf '%s\n' $lits >>"$TMP/emitted"
	done <"$TMP/calls"
done
sort -u -o "$TMP/emitted" "$TMP/emitted"
[ "$calls" -gt 50 ] || fail "only $calls fd_report_add calls found: is SRC_DIR right?"
[ "$(wc -l <"$TMP/emitted")" -gt 20 ] || fail "only $(wc -l <"$TMP/emitted") codes found"

# every emitted code: a table row with a title, why and remedy
while read -r code; do
	run explain "$code"
	[ "$RC" -eq 0 ] || fail "$code is emitted but has no row in checks/codes.c"
	awk -v code="$code" '
		NR == 1 { ok_head = index($0, code " (") == 1; next }
		/^Why it matters:$/ { part = "why"; next }
		/^What to do:$/ { part = "remedy"; next }
		NF { seen[part ? part : "title"] = 1 }
		END { exit !(ok_head && seen["title"] && seen["why"] && seen["remedy"]) }' "$TMP/out" ||
		fail "$code: the explanation lacks a title, why or remedy: $(cat "$TMP/out")"
done <"$TMP/emitted"
ok "$(wc -l <"$TMP/emitted") codes emitted by $calls findings, each explained with title, why and remedy"

# every table row: emitted, or reserved
run explain
expect_rc 0
awk '{ print $1 }' "$TMP/out" | sort -u >"$TMP/table"
[ "$(wc -l <"$TMP/table")" -gt 20 ] || fail "flightdeck explain lists only $(wc -l <"$TMP/table") codes"
for code in $(comm -23 "$TMP/table" "$TMP/emitted"); do
	case " $RESERVED " in
	*" $code "*) ;;
	*) fail "$code is in the code table but no judge in checks/ emits it (emit it, or list it in RESERVED with why)" ;;
	esac
done
for code in $RESERVED; do
	grep -qx "$code" "$TMP/table" || fail "reserved $code is not in the code table"
	grep -qx "$code" "$TMP/emitted" && fail "reserved $code is emitted: take it off RESERVED"
done
ok "$(wc -l <"$TMP/table") table codes, each emitted by a judge or reserved"

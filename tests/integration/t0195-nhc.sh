#!/bin/sh
# scripts/nhc/flightdeck.nhc, the check for sites that keep LBNL NHC. NHC itself is not
# packaged in Debian, so a small harness plays its part as NHC documents it: check files are
# sourced by bash, a config line "TARGET || check args" runs the check, die() records the
# message (it becomes the node's drain reason) and makes the check fail, log() writes to its
# log. Fixture roots make the node fit and unfit.
. "$TESTS_DIR/integration/lib.sh"
command -v bash >/dev/null 2>&1 || skip "bash is not installed (NHC needs it)"

cat >"$TMP/nhc.conf" <<CONF
# the line docs/operators/nhc.md and flightdeck.nhc give, with the fixture seams
* || check_flightdeck --level quick --no-config --kmsg $FIXTURES/empty.log --gpubench /nonexistent/gpubench
CONF
cat >"$TMP/nhc" <<'NHC'
# nhc ROOT: every check line of nhc.conf, as NHC runs it; prints DIED: message, or OK
die() { DIED="$2"; return "$1"; }
log() { echo "$*" >>"$NHC_LOG"; }
. "$SRC_DIR/scripts/nhc/flightdeck.nhc"
DIED=
while IFS= read -r line; do
	case "$line" in '#'* | '') continue ;; esac
	check=${line#*|| }
	eval "$check --sysfs-root $1/sys --proc-root $1/proc" || { echo "DIED: $DIED"; exit 1; }
done <"$NHC_CONF"
echo OK
NHC
export NHC_CONF="$TMP/nhc.conf" NHC_LOG="$TMP/nhc.log" FLIGHTDECK_BIN="$FLIGHTDECK" SRC_DIR

out=$(bash "$TMP/nhc" "$FIXTURES/healthy-ndr8") || fail "a fit node failed the NHC check: $out"
[ "$out" = OK ] || fail "a fit node: $out"
ok "NHC, a fit node: check_flightdeck passes"

out=$(bash "$TMP/nhc" "$FIXTURES/port-down") && fail "an unfit node passed the NHC check: $out"
[ "$out" = "DIED: flightdeck: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1" ] ||
	fail "an unfit node: the message is '$out'"
ok "NHC, port down: check_flightdeck dies with '${out#DIED: }'"

out=$(bash "$TMP/nhc" "$TMP/no-such-root") || fail "flightdeck's own error failed the node: $out"
grep -q 'check_flightdeck: flightdeck check gave no verdict (exit 2): .*sysfs-root' "$NHC_LOG" ||
	fail "flightdeck's own error was not logged: $(cat "$NHC_LOG" 2>/dev/null)"
ok "NHC, a root that does not exist: logged (exit 2), the node not failed for it"

#!/bin/sh
# --level and --only choose what runs; --show-config prints the effective thresholds.
. "$TESTS_DIR/integration/lib.sh"

check $(fx healthy-ndr8) --only host
jq -e '[.findings[].check | select(startswith("host"))] | length > 0' "$TMP/out" >/dev/null || fail "no host findings"
expect_no_finding '(.check | startswith("ib")) or (.check | startswith("gpu"))'
ok "--only host runs only host checks"

check $(fx healthy-ndr8) --only ib,gpu --level quick
expect_no_finding '.check == "ib.verbs"'
expect_no_finding '.check | startswith("host")'
check $(fx healthy-ndr8) --only ib --level standard
expect_finding '.check == "ib.verbs" and .status == "skip"' 1
ok "ib.verbs runs from level standard (and skips on a fixture root with the reason)"

check $(fx healthy-ndr8) --only bw,memfit --level quick
expect_rc 0
expect_finding '.status == "skip" and (.message | test("no bw checks at level quick"))' 1
expect_finding '.check == "memfit.fit" and .status == "skip" and (.message | test("no job described"))' 1
ok "areas without checks at a level say so; memfit without a job skips with the reason"

check $(fx healthy-ndr8) --only bw --gpubench /nonexistent/gpubench
expect_finding '.check == "bw.gpubench" and .status == "skip"' 1
ok "bw runs from level standard"

printf 'shm-min = 2GiB\nxid-window = 12h\n' >"$TMP/c.conf"
run check --config "$TMP/c.conf" --show-config --counter-window 250ms
expect_rc 0
grep -q '^shm-min = 2147483648$' "$TMP/out" || fail "config value not applied"
grep -q '^xid-window = 12h$' "$TMP/out" || fail "duration not shown"
grep -q '^counter-window = 250ms$' "$TMP/out" || fail "flag not applied"
ok "--show-config prints file and flag settings"

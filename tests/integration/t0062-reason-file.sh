#!/bin/sh
# check --reason-file: the verdict as one Slurm drain reason. Unfit: 'flightdeck: CODES
# SUBJECT'; fit: an empty file. A link or a FIFO is refused before the checks run (a prolog runs
# as root, maybe in a directory others write); - and /dev/stdout mean standard output.
. "$TESTS_DIR/integration/lib.sh"

R=$TMP/reason
check $(fx port-down) --level quick -q --reason-file "$R"
expect_rc 1
[ "$(cat "$R")" = "flightdeck: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1" ] || fail "unfit: '$(cat "$R")'"
check $(fx healthy-ndr8) --level quick -q --reason-file "$R"
expect_rc 0
[ -f "$R" ] && [ ! -s "$R" ] || fail "fit: the file is not empty: '$(cat "$R")'"
ok "unfit: the codes and the subject; fit: an empty file"

ln -s "$TMP/elsewhere" "$TMP/link"
check $(fx port-down) --level quick -q --reason-file "$TMP/link"
expect_rc 2
grep -q 'reason-file .*link: not a regular file (a symbolic link)' "$TMP/err" || fail "a link: $(cat "$TMP/err")"
[ -e "$TMP/elsewhere" ] && fail "the link was followed"
mkfifo "$TMP/fifo"
check $(fx port-down) --level quick -q --reason-file "$TMP/fifo"
expect_rc 2
grep -q 'not a regular file (a FIFO)' "$TMP/err" || fail "a FIFO: $(cat "$TMP/err")"
check $(fx port-down) --level quick -q --reason-file "$TMP/no/such/dir/r"
expect_rc 2
grep -q 'reason-file .*directory' "$TMP/err" || fail "a missing directory: $(cat "$TMP/err")"
ok "a link, a FIFO and a missing directory are refused with one line, exit 2"

for out in /dev/stdout -; do
	run check $(fx port-down) --counter-window 0 --level quick -q --reason-file "$out"
	expect_rc 1
	tail -n 1 "$TMP/out" | grep -qx 'flightdeck: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1' ||
		fail "--reason-file $out: the last line of stdout is '$(tail -n 1 "$TMP/out")'"
done
ok "--reason-file /dev/stdout and -: the reason is the last line of standard output"

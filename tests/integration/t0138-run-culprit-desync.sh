#!/bin/sh
# The culprit of a hang, continued (t0137): a desync, one rank in a broadcast where the other
# all_reduces, told apart by torch's flight recorder (both wait for ever, at the same collective
# number, in different collectives); and with Debian's torch 1.13, which has no flight recorder,
# a rank in a Python loop named from the stacks (likely).
. "$TESTS_DIR/integration/lib.sh"
need_torch
. "$TESTS_DIR/integration/culprit-lib.sh"

try desync 1 certain flight-recorder "desync in process group 0 at collective [0-9]*: rank 1 in gloo:broadcast, rank 0 in gloo:all_reduce"
jq -s -e 'map(select(.event=="culprit" and .desync == true)) | length == 1' "$TMP/ev" >/dev/null || fail "desync: the culprit event lacks desync"
ok "rank 1 in a broadcast where rank 0 all_reduces: a desync, from the flight recorder"
no_leftovers "$TRAIN"

if [ -x /usr/bin/torchrun ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	need_torch_debian
	try loop 1 likely stacks "rank 1 (pid [0-9]*) at train.py:[0-9]* in main; rank 0 waits for it at .*all_reduce"
	ok "Debian's torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), no flight recorder: rank 1 named from the stacks"
	no_leftovers "$TRAIN"
else
	echo "skipped: Debian's python3-torch is not installed: the case without a flight recorder"
fi

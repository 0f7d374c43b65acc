# culprit-lib.sh - the demo job under flightdeck run with one rank hung, and what the culprit
# event, line, exit event, termination message and --prom-file say of it (t0137, t0138). Needs
# lib.sh and need_torch (or need_torch_debian) first.

# a port of its own for the rendezvous: --standalone's 29400 is shared with any other job here
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

try() { # try HOW RANK CONFIDENCE EVIDENCE LINE: the demo job with rank RANK hung at step 5 by HOW
	rm -rf "$TMP/ck" "$TMP/ev" "$TMP/term" "$TMP/logs"
	mkdir -p "$TMP/ck"
	rc=0
	# no restart (--max-restarts 0: exit 86, gave up): the verdict is the first attempt's
	timeout 120 "$FLIGHTDECK" run --preflight none --stall-timeout 3s --grace 2s --max-restarts 0 \
		--stack-wait 3s --checkpoint-dir "$TMP/ck" --events "$TMP/ev" --termination-log "$TMP/term" \
		--prom-file "$TMP/run.prom" -- \
		"$TORCHRUN" --nnodes=1 --nproc_per_node=2 --rdzv_backend=c10d \
		--rdzv_endpoint="127.0.0.1:$(free_port)" --rdzv_id=t0137 -r 1 -t 1 --log_dir "$TMP/logs" \
		"$TRAIN" --ckpt-dir "$TMP/ck" --steps 10 --stall-at 5 --stall-rank "$2" --stall-how "$1" \
		--resume {resume} >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 86 ] || { grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: exit $rc, not 86"; }
	other=$((1 - $2))
	c=$(jq -c 'select(.event=="culprit") | [.culprit, .victims, .confidence, .evidence]' "$TMP/ev")
	[ "$c" = "[[$2],[$other],\"$3\",\"$4\"]" ] ||
		{ grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: culprit event $c"; }
	grep -q "^flightdeck: culprit ($3): $5" "$TMP/err" ||
		{ grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: no culprit line like '$5'"; }
	jq -e "select(.event==\"exit\") | .culprit | startswith(\"$(echo "$5" | cut -c1-7)\")" "$TMP/ev" >/dev/null ||
		fail "$1 rank $2: the exit event does not carry the culprit"
	grep -q "^culprit: $(echo "$5" | cut -c1-7)" "$TMP/term" || { cat "$TMP/term"; fail "$1 rank $2: not in the termination message"; }
	grep -q "^flightdeck_run_culprit_info{node=\"[^\"]*\",rank=\"$2\"} 1$" "$TMP/run.prom" ||
		{ cat "$TMP/run.prom"; fail "$1 rank $2: no culprit sample in --prom-file"; }
	grep -q "flight-recorder dump ignored" "$TMP/err" && { grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: a dump was ignored"; }
	:
}


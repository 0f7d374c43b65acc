#!/bin/sh
# `cmake --install` into a fresh prefix: the binary, the heartbeat clients (C header, Python
# module), the Prometheus alert rules, the example config, the systemd units and the docs, each
# usable from where it lands. ctest passes BUILD_DIR.
. "$TESTS_DIR/integration/lib.sh"
: "${BUILD_DIR:?BUILD_DIR must point at the build tree}"
command -v cmake >/dev/null 2>&1 || skip "cmake is not installed"

P="$TMP/p"
cmake --install "$BUILD_DIR" --prefix "$P" >"$TMP/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -n 5 "$TMP/install.log")"
for f in bin/flightdeck include/flightdeck_heartbeat.h \
	share/flightdeck/python/flightdeck_heartbeat.py share/flightdeck/python/flightdeck_callbacks.py \
	share/flightdeck/prometheus/flightdeck-rules.yml \
	share/flightdeck/prometheus/flightdeck-rules.test.yml \
	share/flightdeck/flightdeck.conf.example share/flightdeck/grafana/flightdeck-dashboard.json \
	share/flightdeck/slurm/flightdeck-slurm.sh share/flightdeck/slurm/flightdeck-train.sbatch \
	share/flightdeck/slurm/flightdeck-slurm.conf \
	share/flightdeck/nhc/flightdeck.nhc share/flightdeck/k8s/train-indexed-job.yaml \
	share/flightdeck/k8s/train-preflight-init.yaml share/flightdeck/k8s/train-pytorchjob.yaml \
	share/flightdeck/k8s/flightdeck-node.yaml share/flightdeck/k8s/node-exporter.yaml \
	lib/systemd/system/flightdeck-check.service lib/systemd/system/flightdeck-check.timer \
	share/doc/flightdeck/README.md share/doc/flightdeck/architecture.md \
	share/doc/flightdeck/protocol.md share/doc/flightdeck/check.md \
	share/doc/flightdeck/operators/slurm.md; do
	[ -s "$P/$f" ] || fail "cmake --install did not install $f: $(cat "$TMP/install.log")"
done
for f in flightdeck-prolog.sh flightdeck-epilog.sh flightdeck-healthcheck.sh flightdeck-train.sbatch; do
	[ -x "$P/share/flightdeck/slurm/$f" ] || fail "cmake --install did not install $f executable"
done
[ -x "$P/share/flightdeck/k8s/flightdeck-label-node.sh" ] ||
	fail "cmake --install did not install flightdeck-label-node.sh executable"
# the node check's DaemonSet runs the script where an image with a /usr/local install has it
grep -q "label=/usr/local/share/flightdeck/k8s/flightdeck-label-node.sh" "$P/share/flightdeck/k8s/flightdeck-node.yaml" ||
	fail "flightdeck-node.yaml does not run the installed flightdeck-label-node.sh"
# the Slurm scripts find the binary installed beside them (slurmd gives them no PATH of ours)
# (a script beside them, as slurmd runs the prolog: by its path, from /)
printf '. "$(dirname "$0")/flightdeck-slurm.sh"\necho "$FLIGHTDECK_BIN"\n' >"$P/share/flightdeck/slurm/probe.sh"
out=$(cd / && env -i PATH=/usr/bin:/bin FLIGHTDECK_SLURM_DEFAULTS=/nonexistent \
	sh "$P/share/flightdeck/slurm/probe.sh" 2>&1) ||
	fail "the installed flightdeck-slurm.sh does not source: $out"
rm -f "$P/share/flightdeck/slurm/probe.sh"
[ "$(cd "$(dirname "$out")" 2>/dev/null && pwd)" = "$P/bin" ] ||
	fail "the installed Slurm scripts would run '$out', not $P/bin/flightdeck"
# the sbatch example names the installed binary: sbatch runs a copy from slurmd's spool
grep -q "^fd_installed=$P/bin/flightdeck\$" "$P/share/flightdeck/slurm/flightdeck-train.sbatch" ||
	fail "the installed sbatch example does not name $P/bin/flightdeck: $(grep fd_installed= "$P/share/flightdeck/slurm/flightdeck-train.sbatch")"
bash -n "$P/share/flightdeck/slurm/flightdeck-train.sbatch" || fail "the installed sbatch example is not valid bash"
ok "cmake --install: the binary, the header, the python client, the alert rules, the example config, the systemd units, the Slurm scripts, the NHC check, the Kubernetes manifests, the docs"

"$P/bin/flightdeck" version >"$TMP/out" 2>"$TMP/err" || fail "the installed flightdeck does not run"
grep -q '^flightdeck ' "$TMP/out" || fail "the installed flightdeck version says: $(cat "$TMP/out")"
ok "the installed flightdeck runs"

CC=$(command -v cc || command -v gcc || command -v clang || true)
if [ -n "$CC" ]; then
	printf '#include <flightdeck_heartbeat.h>\nint main(void) { flightdeck_beat(1); return flightdeck_rank(); }\n' >"$TMP/use.c"
	"$CC" -std=c11 -Wall -Werror -fsyntax-only -I"$P/include" "$TMP/use.c" 2>"$TMP/err" ||
		fail "the installed header does not compile: $(cat "$TMP/err")"
	ok "the installed header compiles"
fi

PY=$(command -v python3 || true)
if [ -n "$PY" ]; then
	(cd "$TMP" && PYTHONPATH="$P/share/flightdeck/python" "$PY" -c \
		'import flightdeck_heartbeat as hb, sys; sys.exit(not hb.__file__.startswith(sys.argv[1]))' "$P") ||
		fail "the installed python client does not import from $P/share/flightdeck/python"
	# the callbacks import their frameworks on first use only: without them, the module imports
	(cd "$TMP" && PYTHONPATH="$P/share/flightdeck/python" "$PY" -c \
		'import flightdeck_callbacks as cb, sys; sys.exit(not cb.__file__.startswith(sys.argv[1]) or "transformers" in sys.modules or "lightning" in sys.modules)' "$P") ||
		fail "the installed flightdeck_callbacks does not import from $P/share/flightdeck/python, or imports a framework at once"
	ok "the installed python client and callbacks import (no framework imported)"
fi

if command -v promtool >/dev/null 2>&1; then
	(cd "$TMP" && promtool test rules "$P/share/flightdeck/prometheus/flightdeck-rules.test.yml") \
		>"$TMP/out" 2>&1 || fail "the installed alert rules fail their unit tests: $(cat "$TMP/out")"
	ok "the installed alert rules pass promtool test rules where they land"
fi

# The example config, copied to where admins put it, is read as it is: every key commented out
# at its default, so the effective values are the defaults.
"$P/bin/flightdeck" check --config "$P/share/flightdeck/flightdeck.conf.example" --show-config \
	>"$TMP/shown" 2>"$TMP/err" || fail "the installed example config is refused: $(cat "$TMP/err")"
"$P/bin/flightdeck" run --config "$P/share/flightdeck/flightdeck.conf.example" --show-config \
	>>"$TMP/shown" 2>"$TMP/err" || fail "run refuses the installed example config: $(cat "$TMP/err")"
ok "the installed example config reads back through check and run"

# The units: systemd's own parser (it says "ignoring" and still exits 0 on a bad line, so any
# word from it fails), the service naming the binary of this prefix, and its command run as it
# stands, writing the textfile where it says.
U="$P/lib/systemd/system"
grep -q "^ExecStart=$P/bin/flightdeck check " "$U/flightdeck-check.service" ||
	fail "the installed service does not run $P/bin/flightdeck: $(grep ExecStart "$U/flightdeck-check.service")"
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify "$U/flightdeck-check.service" "$U/flightdeck-check.timer" >"$TMP/verify" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$TMP/verify")"
	# only the words about our two files count: a container without systemd as PID 1
	# may add lines about the host's own units
	if grep -q 'flightdeck-check' "$TMP/verify"; then
		fail "systemd-analyze finds fault with the units: $(grep flightdeck-check "$TMP/verify")"
	fi
	ok "systemd-analyze verify accepts the service and the timer"
else
	echo "skipped: systemd-analyze is not installed (the units' syntax was not verified)"
fi
mkdir -p "$TMP/textfiles"
cmd=$(sed -n 's/^ExecStart=//p' "$U/flightdeck-check.service" |
	sed 's|[$]{FLIGHTDECK_PROM_DIR}|'"$TMP/textfiles"'|')
set +e
# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it
FLIGHTDECK_CONFIG=/dev/null $cmd >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" -le 1 ] || fail "the service's command exits $rc: $(cat "$TMP/err")"
grep -q '^flightdeck_check_fit' "$TMP/textfiles/flightdeck-check.prom" ||
	fail "the service's command wrote no textfile: $(ls "$TMP/textfiles")"
ok "the service's command writes flightdeck-check.prom (exit $rc, a verdict)"

#!/bin/sh
# `cmake --install` into a fresh prefix: the binary, the heartbeat clients (C header, Python
# module), the Prometheus alert rules and the docs, each usable from where it lands. ctest
# passes BUILD_DIR.
. "$TESTS_DIR/integration/lib.sh"
: "${BUILD_DIR:?BUILD_DIR must point at the build tree}"
command -v cmake >/dev/null 2>&1 || skip "cmake is not installed"

P="$TMP/p"
cmake --install "$BUILD_DIR" --prefix "$P" >"$TMP/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -n 5 "$TMP/install.log")"
for f in bin/flightdeck include/flightdeck_heartbeat.h \
	share/flightdeck/python/flightdeck_heartbeat.py \
	share/flightdeck/prometheus/flightdeck-rules.yml \
	share/flightdeck/prometheus/flightdeck-rules.test.yml \
	share/doc/flightdeck/README.md share/doc/flightdeck/architecture.md; do
	[ -s "$P/$f" ] || fail "cmake --install did not install $f: $(cat "$TMP/install.log")"
done
ok "cmake --install: the binary, the header, the python client, the alert rules, the docs"

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
	ok "the installed python client imports"
fi

if command -v promtool >/dev/null 2>&1; then
	(cd "$TMP" && promtool test rules "$P/share/flightdeck/prometheus/flightdeck-rules.test.yml") \
		>"$TMP/out" 2>&1 || fail "the installed alert rules fail their unit tests: $(cat "$TMP/out")"
	ok "the installed alert rules pass promtool test rules where they land"
fi

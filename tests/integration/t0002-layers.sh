#!/bin/sh
# The layers point one way (docs/architecture.md, "Layers"): every #include "..." in a layer
# names a header of that layer or of a layer below it. CMake enforces the same at build time
# (a layer's headers are on no lower layer's include path); this test names the offender in
# one line, for the files CMake never compiles alone (headers).
. "$TESTS_DIR/integration/lib.sh"
: "${SRC_DIR:?SRC_DIR must point at the source tree}"

# below LAYER: the layers LAYER may include from, itself first
below() {
	case $1 in
	core) echo core ;;
	hw) echo hw core ;;
	checks) echo checks hw core ;;
	render) echo render checks hw core ;;
	group) echo group core ;;
	supervisor) echo supervisor group core ;;
	# scripts/: the heartbeat client header of training code, which `flightdeck beat` uses
	cli) echo cli render checks supervisor group hw core scripts ;;
	esac
}

bad=0
n=0
for layer in core hw checks render group supervisor cli; do
	[ -d "$SRC_DIR/$layer" ] || fail "layer directory $layer/ is missing"
	for f in "$SRC_DIR/$layer"/*.[ch]; do
		[ -e "$f" ] || continue
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			n=$((n + 1))
			[ "$h" = build_config.h ] && continue
			found=
			for l in $(below "$layer"); do
				[ -e "$SRC_DIR/$l/$h" ] && found=$l && break
			done
			if [ -z "$found" ]; then
				owner=$(cd "$SRC_DIR" && ls -d */"$h" 2>/dev/null | head -1)
				echo "FAIL: $layer/${f##*/} includes \"$h\" (${owner:-no such header}), not in $layer or below"
				bad=1
			fi
		done
	done
done
[ "$bad" = 0 ] || exit 1
[ "$n" -gt 50 ] || fail "only $n includes found: is SRC_DIR right?"
ok "$n includes, each in its own layer or below"


#!/bin/sh
# The layers point one way (docs/architecture.md, "Layers"): every #include "..." in a layer
# names a header of that layer or of a layer below it. CMake enforces the same at build time
# (a layer's headers are on no lower layer's include path); this test names the offender in
# one line, for the files CMake never compiles alone (headers). The layers and what each may
# include from come from the build (gen/layers.txt, written by fd_layer() in CMakeLists.txt).
. "$TESTS_DIR/integration/lib.sh"
: "${SRC_DIR:?SRC_DIR must point at the source tree}"
: "${BUILD_DIR:?BUILD_DIR must point at the build tree}"
layers=$BUILD_DIR/gen/layers.txt
[ -r "$layers" ] || fail "$layers is missing: was the tree configured by CMakeLists.txt?"

bad=0
n=0
nlayers=0
# each line: NAME DIR [DIR...]: the layer, its own directory, the directories it may include
# from (its own first)
while read -r name dir reach; do
	case $name in '#'* | '') continue ;; esac
	nlayers=$((nlayers + 1))
	[ -d "$SRC_DIR/$dir" ] || fail "layer $name: directory $dir/ is missing"
	for f in "$SRC_DIR/$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			n=$((n + 1))
			[ "$h" = build_config.h ] && continue
			found=
			for d in $dir $reach; do
				[ -e "$SRC_DIR/$d/$h" ] && found=$d && break
			done
			if [ -z "$found" ]; then
				owner=$(cd "$SRC_DIR" && find launcher checks scripts -name "$h" 2>/dev/null | head -1)
				echo "FAIL: $dir/${f##*/} (layer $name) includes \"$h\" (${owner:-no such header}), not in $name or below"
				bad=1
			fi
		done
	done
done <"$layers"
[ "$bad" = 0 ] || exit 1
[ "$nlayers" -ge 8 ] || fail "only $nlayers layers in $layers"
[ "$n" -gt 50 ] || fail "only $n includes found: is SRC_DIR right?"
ok "$n includes in $nlayers layers, each in its own layer or below"

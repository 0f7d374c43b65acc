#!/bin/sh
# bundle.sh - the blob of flightdeck's CycleCloud project: what `cmake --install` puts under
# PREFIX, as one tarball, blobs/flightdeck-bundle.tar.gz. Build on the OS of the nodes' image (its
# libcjson): 00-install.sh refuses a bundle whose flightdeck does not run there.
#
#   cmake -S . -B build && cmake --build build -j
#   sh scripts/cyclecloud/bundle.sh build                  # then, in scripts/cyclecloud/flightdeck:
#   cyclecloud project upload LOCKER
#
# bundle.sh [--prefix PREFIX] BUILD_DIR [PROJECT_DIR]: PREFIX is the cluster's flightdeck.prefix
# [/opt/flightdeck] (the installed files that name their own path name this one); PROJECT_DIR
# [the project beside this script].
set -eu
prefix=/opt/flightdeck
if [ "${1:-}" = --prefix ]; then
	prefix=$2
	shift 2
fi
[ $# -ge 1 ] || {
	echo "usage: bundle.sh [--prefix PREFIX] BUILD_DIR [PROJECT_DIR]" >&2
	exit 2
}
build=$1
project=${2:-$(dirname "$0")/flightdeck}
[ -f "$project/project.ini" ] || {
	echo "bundle.sh: $project is not the CycleCloud project (no project.ini)" >&2
	exit 2
}
stage=$(mktemp -d "${TMPDIR:-/tmp}/flightdeck-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage cmake --install "$build" --prefix "$prefix" >"$stage.log" 2>&1 || {
	cat "$stage.log" >&2
	rm -f "$stage.log"
	exit 1
}
rm -f "$stage.log"
mkdir -p "$project/blobs"
tar -czf "$project/blobs/flightdeck-bundle.tar.gz" -C "$stage$prefix" .
echo "$project/blobs/flightdeck-bundle.tar.gz: $("$stage$prefix/bin/flightdeck" version | head -n 1), for prefix $prefix"

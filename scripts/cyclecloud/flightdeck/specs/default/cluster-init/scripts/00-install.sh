#!/bin/sh
# 00-install.sh - installs flightdeck under flightdeck.prefix (/opt/flightdeck) from the bundle:
# a tarball of what `cmake --install` puts under a prefix (bin/flightdeck, share/flightdeck/slurm/
# ...), made by scripts/cyclecloud/bundle.sh on a machine of the nodes' OS. It comes from
# flightdeck.bundle_path when the cluster names one (a file on a shared filesystem), else from
# this project's blob (`jetpack download --project flightdeck`). The same bundle twice installs
# nothing: its checksum is kept beside the installed copy. flightdeck.install=false skips this
# (an image with flightdeck already under the prefix).
set -eu
. "${CYCLECLOUD_SPEC_PATH:-$(dirname "$0")/..}/files/common.sh"

cc_bool "$(cc_config flightdeck.install true)" || {
	cc_log "flightdeck.install=false: using the flightdeck already under $CC_PREFIX"
	exit 0
}
work=$(mktemp -d "${TMPDIR:-/tmp}/flightdeck-cc.XXXXXX")
trap 'rm -rf "$work"' EXIT
bundle=$(cc_config flightdeck.bundle_path "")
if [ -n "$bundle" ]; then
	[ -r "$bundle" ] || cc_die "flightdeck.bundle_path: cannot read $bundle"
else
	name=$(cc_config flightdeck.bundle flightdeck-bundle.tar.gz)
	jp=$(cc_jetpack) || cc_die "no jetpack to download the blob $name with, and no flightdeck.bundle_path"
	(cd "$work" && "$jp" download --project "$(cc_config flightdeck.project flightdeck)" "$name") ||
		cc_die "jetpack download of the blob $name failed (did bundle.sh put it in the project's blobs/ before the upload?)"
	bundle=$work/$name
fi
sum=$(sha256sum <"$bundle" | cut -d' ' -f1)
stamp=$CC_PREFIX/.flightdeck-bundle.sha256
if [ -x "$CC_PREFIX/bin/flightdeck" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
	cc_log "flightdeck under $CC_PREFIX is this bundle already ($sum)"
	exit 0
fi

# unpacked beside the prefix, then one rename: a Prolog starting meanwhile finds the old copy or
# the new one
mkdir -p "$(dirname "$CC_PREFIX")"
new=$CC_PREFIX.new
rm -rf "$new"
mkdir -p "$new"
tar -xzf "$bundle" -C "$new" || cc_die "cannot unpack $bundle"
if [ ! -x "$new/bin/flightdeck" ] || [ ! -r "$new/share/flightdeck/slurm/flightdeck-slurm.sh" ]; then
	cc_die "$bundle is not a flightdeck bundle (no bin/flightdeck, share/flightdeck/slurm/)"
fi
"$new/bin/flightdeck" version >"$work/version" 2>&1 ||
	cc_die "the bundle's flightdeck does not run on this node ($(head -n 1 "$work/version")): build the bundle on this OS, with its libcjson"
echo "$sum" >"$new/.flightdeck-bundle.sha256"
if [ -e "$CC_PREFIX" ]; then
	rm -rf "$CC_PREFIX.old"
	mv "$CC_PREFIX" "$CC_PREFIX.old"
fi
mv "$new" "$CC_PREFIX"
rm -rf "$CC_PREFIX.old"
cc_log "installed $(head -n 1 "$work/version") under $CC_PREFIX"

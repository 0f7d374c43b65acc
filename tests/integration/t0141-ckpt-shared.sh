#!/bin/sh
# host.ckpt on a shared checkpoint filesystem, and the default --disk-min-free: free space on NFS/Lustre/GPFS/... is the job's problem, not the node's, so it is a
# warning (CKPT_FS_LOW, exit 0) and never drains the node; the default threshold scales with
# the filesystem, min(20 GiB, 5 % of its size), so a small checkpoint filesystem can launch.
. "$TESTS_DIR/integration/lib.sh"

mkdir "$TMP/ckpt"
# a proc tree whose mounts file puts the checkpoint directory on FSTYPE
shared_proc() {
	rm -rf "$TMP/proc"
	cp -a "$FIXTURES/no-rdma/proc" "$TMP/proc"
	echo "$2 $TMP/ckpt $1 rw,relatime 0 0" >>"$TMP/proc/mounts"
}
ck() {
	check --sysfs-root "$FIXTURES/no-rdma/sys" --proc-root "$TMP/proc" --kmsg "$FIXTURES/empty.log" \
		--only host --checkpoint-dir "$TMP/ckpt" "$@"
}

rm -rf "$TMP/proc"
cp -a "$FIXTURES/no-rdma/proc" "$TMP/proc"
ck --disk-min-free 1000T
expect_rc 1
expect_finding '.check == "host.disk" and .code == "DISK_LOW" and .status == "fail"' 1
ok "a local checkpoint filesystem below --disk-min-free: DISK_LOW, the node is unfit"

for t in "nfs4 srv:/export" "lustre 10.0.0.1@o2ib:/fs" "gpfs gpfs0" "beegfs beegfs_nodev" \
	"cifs //srv/share" "fuse.sshfs user@srv:/ckpt" "cephfs 10.0.0.2:/"; do
	shared_proc $t
	ck --disk-min-free 1000T
	fstype=${t%% *}
	expect_rc 0
	expect_no_finding '.code == "DISK_LOW"'
	expect_finding ".check == \"host.disk\" and .code == \"CKPT_FS_LOW\" and .status == \"warn\"
		and (.message | contains(\"$fstype\"))" 1
	expect_finding '.check == "host.ckpt" and .status == "pass"' 1
done
ok "a shared checkpoint filesystem (nfs4, lustre, gpfs, beegfs, cifs, fuse.*, cephfs) low on space: CKPT_FS_LOW warning, exit 0"

# a mount point deeper than the directory's does not count; the longest prefix does
shared_proc nfs srv:/x
echo "/dev/sdz1 $TMP/ckpt/sub xfs rw 0 0" >>"$TMP/proc/mounts"
echo "/dev/sdy1 $TMP/ck xfs rw 0 0" >>"$TMP/proc/mounts"
ck --disk-min-free 1000T
expect_rc 0
expect_finding '.code == "CKPT_FS_LOW"' 1
ok "the checkpoint directory's own mount is found by the longest mount-point prefix"

run check --show-config
expect_rc 0
grep -qx 'disk-min-free = auto' "$TMP/out" || fail "the default --disk-min-free is not 'auto': $(grep disk-min "$TMP/out")"
ok "--disk-min-free defaults to auto"

# A small checkpoint filesystem (64 MiB tmpfs, in a private mount namespace): the default
# threshold is 5 % of it (3.2 MiB), not 20 GiB, so the first launch is not blocked.
if ! command -v unshare >/dev/null 2>&1 || ! unshare -m true 2>/dev/null; then
	skip "cannot make a private mount namespace here (unshare -m) for a small tmpfs"
fi
cat >"$TMP/small.sh" <<'S'
mount -t tmpfs -o size=64m tmpfs "$1" || exit 99
shift
"$@"
S
RC=0
unshare -m sh "$TMP/small.sh" "$TMP/ckpt" "$FLIGHTDECK" check --json --only host \
	--checkpoint-dir "$TMP/ckpt" --kmsg "$FIXTURES/empty.log" >"$TMP/out" 2>"$TMP/err" || RC=$?
[ "$RC" -ne 99 ] || skip "cannot mount a tmpfs here"
expect_finding '.check == "host.disk" and .status == "pass" and .expected == ">= 3.2 MiB"' 1
ok "64 MiB checkpoint filesystem, default threshold: 5 % of it (3.2 MiB), pass"

RC=0
unshare -m sh "$TMP/small.sh" "$TMP/ckpt" "$FLIGHTDECK" check --json --only host \
	--checkpoint-dir "$TMP/ckpt" --kmsg "$FIXTURES/empty.log" --disk-min-free 1GiB >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_finding '.check == "host.disk" and .code == "DISK_LOW" and .expected == ">= 1.0 GiB"' 1
ok "an operator's --disk-min-free is used as given"

#!/bin/sh
# /dev/shm, memlock, the checkpoint directory and NCCL_SOCKET_IFNAME.
. "$TESTS_DIR/integration/lib.sh"

check $(fx small-shm) --only host
expect_rc 1
expect_finding '.code == "SHM_TOO_SMALL" and .value == "64.0 MiB" and .status == "fail"' 1
expect_finding '.code == "MEMLOCK_LIMITED" and .value == "8.0 MiB" and .expected == "unlimited"' 1
ok "the 64 MB container /dev/shm and an 8 MiB memlock on an RDMA node fail"

check $(fx small-shm) --only host --shm-min 32M --memlock-min 8MiB
expect_rc 0
ok "thresholds lowered by flag"

check $(fx no-rdma) --only host
expect_rc 0
expect_finding '.check == "host.shm" and .status == "pass" and (.message | test("half of RAM"))' 1
expect_finding '.check == "host.memlock" and .status == "skip"' 1
ok "tmpfs without size= is half of RAM; memlock does not matter without RDMA"

mkdir "$TMP/ckpt"
check $(fx no-rdma) --only host --checkpoint-dir "$TMP/ckpt" --disk-min-free 1K
expect_rc 0
expect_finding '.check == "host.ckpt" and .status == "pass"' 1
expect_finding '.check == "host.disk" and .status == "pass"' 1
[ -z "$(ls -A "$TMP/ckpt")" ] || fail "the write test left a file behind"
ok "writable checkpoint directory: write+fsync+unlink, nothing left behind"

check $(fx no-rdma) --only host --checkpoint-dir "$TMP/ckpt" --disk-min-free 1000T
expect_rc 1
expect_finding '.code == "DISK_LOW" and .expected == ">= 909.5 TiB"' 1
ok "DISK_LOW below --disk-min-free"

if touch /sys/kernel/.flightdeck-probe 2>/dev/null; then
	rm -f /sys/kernel/.flightdeck-probe
	skip "/sys/kernel accepts new files here; no unwritable directory to test with"
fi
check $(fx no-rdma) --only host --checkpoint-dir /sys/kernel --disk-min-free 0
expect_rc 1
expect_finding '.code == "CKPT_DIR_UNWRITABLE" and (.value | test("^open: "))' 1
ok "a directory that refuses new files (even to root): CKPT_DIR_UNWRITABLE"

NCCL_SOCKET_IFNAME=eth check $(fx no-rdma) --only host
expect_rc 0
expect_finding '.check == "host.ifname" and .status == "pass" and .value == "eth0"' 1
ok "NCCL_SOCKET_IFNAME=eth selects eth0"

NCCL_SOCKET_IFNAME='=eth' check $(fx no-rdma) --only host
expect_rc 1
expect_finding '.code == "NCCL_IFNAME_MISSING" and (.message | test("matches no interface"))' 1
ok "'=eth' is exact and matches nothing"

NCCL_SOCKET_IFNAME=docker check $(fx no-rdma) --only host
expect_rc 1
expect_finding '.code == "NCCL_IFNAME_MISSING" and (.message | test("down"))' 1
ok "an interface that is down does not count"

NCCL_SOCKET_IFNAME='^eth,lo' check $(fx no-rdma) --only host
expect_rc 1
expect_finding '.code == "NCCL_IFNAME_MISSING"' 1
NCCL_SOCKET_IFNAME='^docker' check $(fx no-rdma) --only host
expect_rc 0
expect_finding '.check == "host.ifname" and .value == "eth0,lo"' 1
ok "'^' excludes: only down interfaces left fails, lo counts as up through IFF_UP"

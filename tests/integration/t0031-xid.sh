#!/bin/sh
# Xid errors in both kernel-log formats, classified, grouped and aged.
. "$TESTS_DIR/integration/lib.sh"

base="--sysfs-root $FIXTURES/no-rdma/sys --proc-root $FIXTURES/no-rdma/proc --only gpu"

for fmt in kmsg dmesg; do
	check $base --kmsg "$KMSG_DIR/xid-fatal.$fmt"
	expect_rc 1
	expect_finding '.code == "GPU_XID_FATAL" and .status == "fail" and .subject == "0000:3a:00" and (.value | test("Xid 79 x1"))' 1
	expect_finding '.code == "GPU_XID_FATAL" and .status == "fail" and .subject == "0000:ab:00" and (.value | test("Xid 48 x3"))' 1
	expect_finding '.code == "GPU_XID_FATAL"' 2
	ok "$fmt: Xid 79 and a storm of three Xid 48 give two fatal findings"

	check $base --kmsg "$KMSG_DIR/xid-app.$fmt"
	expect_rc 0
	expect_finding '.code == "GPU_XID_APP" and .status == "warn"' 3
	expect_no_finding '.code == "GPU_XID_FATAL"'
	ok "$fmt: Xids 13, 43, 31 warn as the application's"
done

check $base --kmsg "$KMSG_DIR/xid-old.dmesg"
expect_rc 0
expect_finding '.code == "GPU_XID_FATAL" and .status == "warn" and .subject == "0000:5d:00" and (.message | test("outside"))' 2
ok "fatal Xids older than --xid-window warn instead of failing a repaired node"

check $base --kmsg "$KMSG_DIR/xid-old.dmesg" --xid-window 48h
expect_rc 1
expect_finding '.code == "GPU_XID_FATAL" and .status == "fail"' 2
ok "--xid-window 48h brings them back in"

check $base --kmsg "$KMSG_DIR/xid-fatal.kmsg" --xid-fatal 79
expect_rc 1
expect_finding '.code == "GPU_XID_OTHER" and .subject == "0000:ab:00" and .status == "warn"' 1
ok "--xid-fatal 79: 48 is no longer fatal (operators disagree), reported as unclassified"

check $base --kmsg "$KMSG_DIR/clean.kmsg"
expect_rc 0
expect_finding '.check == "gpu.xid" and .status == "pass"' 1
ok "a clean boot log passes"
